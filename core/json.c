// SPDX-License-Identifier: GPL-2.0-only
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jparser {
	const char *s;
	size_t len, pos;
};

static void jp_ws(struct jparser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
				   p->s[p->pos] == '\r'))
		p->pos++;
}

static bool jp_lit(struct jparser *p, const char *lit)
{
	size_t n = strlen(lit);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, lit, n))
		return false;
	p->pos += n;
	return true;
}

static int jp_hex4(struct jparser *p, unsigned *out)
{
	unsigned v = 0;

	if (p->len - p->pos < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static void utf8_put(char *o, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		o[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*n)++] = (char)(0xC0 | (cp >> 6));
		o[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		o[(*n)++] = (char)(0xE0 | (cp >> 12));
		o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*n)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		o[(*n)++] = (char)(0xF0 | (cp >> 18));
		o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*n)++] = (char)(0x80 | (cp & 0x3F));
	}
}

static int jp_string(struct jparser *p, char **out)
{
	size_t start = ++p->pos, n = 0;
	char *o;

	/* Output is never longer than the input span. */
	o = malloc(p->len - start + 1);
	if (!o)
		return -ENOMEM;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c == '"') {
			o[n] = '\0';
			*out = o;
			return 0;
		}
		if (c < 0x20)
			break;
		if (c != '\\') {
			o[n++] = (char)c;
			continue;
		}
		if (p->pos >= p->len)
			break;
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"': o[n++] = '"'; break;
		case '\\': o[n++] = '\\'; break;
		case '/': o[n++] = '/'; break;
		case 'b': o[n++] = '\b'; break;
		case 'f': o[n++] = '\f'; break;
		case 'n': o[n++] = '\n'; break;
		case 'r': o[n++] = '\r'; break;
		case 't': o[n++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (jp_hex4(p, &cp))
				goto bad;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (!jp_lit(p, "\\u") || jp_hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					goto bad;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				goto bad;
			}
			if (cp == 0)
				goto bad; /* no embedded NULs in our strings */
			utf8_put(o, &n, cp);
			break;
		}
		default:
			goto bad;
		}
	}
bad:
	free(o);
	return -EINVAL;
}

static int jp_value(struct jparser *p, struct json *v, int depth);

static int jp_container(struct jparser *p, struct json *v, int depth, bool obj)
{
	char close = obj ? '}' : ']';
	struct json **tail = &v->child;

	p->pos++;
	jp_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct json *c = calloc(1, sizeof(*c));
		int ret;

		if (!c)
			return -ENOMEM;
		*tail = c;
		tail = &c->next;
		jp_ws(p);
		if (obj) {
			if (p->pos >= p->len || p->s[p->pos] != '"')
				return -EINVAL;
			ret = jp_string(p, &c->key);
			if (ret)
				return ret;
			jp_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return -EINVAL;
			p->pos++;
		}
		ret = jp_value(p, c, depth + 1);
		if (ret)
			return ret;
		jp_ws(p);
		if (p->pos >= p->len)
			return -EINVAL;
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] == close) {
			p->pos++;
			return 0;
		}
		return -EINVAL;
	}
}

static int jp_number(struct jparser *p, struct json *v)
{
	size_t start = p->pos;
	char tmp[64];
	char *end;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
		return -EINVAL;
	if (p->s[p->pos] == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9')
		return -EINVAL; /* no leading zeros */
	while (p->pos < p->len && strchr("0123456789+-.eE", p->s[p->pos]))
		p->pos++;
	if (p->pos - start >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, p->s + start, p->pos - start);
	tmp[p->pos - start] = '\0';
	v->num = strtod(tmp, &end);
	if (*end)
		return -EINVAL;
	v->type = JSON_NUMBER;
	return 0;
}

static int jp_value(struct jparser *p, struct json *v, int depth)
{
	if (depth > JSON_MAX_DEPTH)
		return -EINVAL;
	jp_ws(p);
	if (p->pos >= p->len)
		return -EINVAL;
	switch (p->s[p->pos]) {
	case '{':
		v->type = JSON_OBJECT;
		return jp_container(p, v, depth, true);
	case '[':
		v->type = JSON_ARRAY;
		return jp_container(p, v, depth, false);
	case '"':
		v->type = JSON_STRING;
		return jp_string(p, &v->str);
	case 't':
		v->type = JSON_BOOL;
		v->b = true;
		return jp_lit(p, "true") ? 0 : -EINVAL;
	case 'f':
		v->type = JSON_BOOL;
		return jp_lit(p, "false") ? 0 : -EINVAL;
	case 'n':
		v->type = JSON_NULL;
		return jp_lit(p, "null") ? 0 : -EINVAL;
	default:
		return jp_number(p, v);
	}
}

int json_parse(const char *text, size_t len, struct json **out, size_t *err_off)
{
	struct jparser p = { .s = text, .len = len };
	struct json *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	ret = jp_value(&p, v, 0);
	if (!ret) {
		jp_ws(&p);
		if (p.pos != p.len)
			ret = -EINVAL;
	}
	if (ret) {
		if (err_off)
			*err_off = p.pos;
		json_free(v);
		return ret;
	}
	*out = v;
	return 0;
}

void json_free(struct json *j)
{
	while (j) {
		struct json *next = j->next;

		json_free(j->child);
		free(j->str);
		free(j->key);
		free(j);
		j = next;
	}
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json *c = obj->child; c; c = c->next)
		if (c->key && !strcmp(c->key, key))
			return c;
	return NULL;
}

bool json_get_str(const struct json *obj, const char *key, const char **out)
{
	const struct json *v = json_get(obj, key);

	if (!v || v->type != JSON_STRING)
		return false;
	*out = v->str;
	return true;
}

bool json_get_int(const struct json *obj, const char *key, int64_t *out)
{
	const struct json *v = json_get(obj, key);

	if (!v || v->type != JSON_NUMBER || v->num != (double)(int64_t)v->num)
		return false;
	*out = (int64_t)v->num;
	return true;
}

bool json_get_bool(const struct json *obj, const char *key, bool *out)
{
	const struct json *v = json_get(obj, key);

	if (!v || v->type != JSON_BOOL)
		return false;
	*out = v->b;
	return true;
}

void jbuf_init(struct jbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void jbuf_free(struct jbuf *b)
{
	free(b->buf);
	jbuf_init(b);
}

static bool jbuf_reserve(struct jbuf *b, size_t extra)
{
	if (b->failed)
		return false;
	if (b->len + extra + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		char *nb;

		while (ncap < b->len + extra + 1)
			ncap *= 2;
		nb = realloc(b->buf, ncap);
		if (!nb) {
			b->failed = true;
			return false;
		}
		b->buf = nb;
		b->cap = ncap;
	}
	return true;
}

void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !jbuf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void jbuf_str(struct jbuf *b, const char *s)
{
	jbuf_printf(b, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			jbuf_printf(b, "\\%c", c);
		else if (c < 0x20)
			jbuf_printf(b, "\\u%04x", c);
		else
			jbuf_printf(b, "%c", c);
	}
	jbuf_printf(b, "\"");
}
