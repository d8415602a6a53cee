// SPDX-License-Identifier: GPL-2.0-only
/* JSON reader/writer, RFC 8259; see json.h for the contract. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swjson.h"

struct swj_doc {
	struct swj *root;
	char *arena;
	size_t used, cap;
};

struct parser {
	const char *p, *end, *start;
	struct swj_doc *doc;
	char *err;
	size_t errlen;
	int depth;
};

static void *arena_alloc(struct swj_doc *d, size_t n)
{
	void *r;

	n = (n + 7) & ~(size_t)7;
	if (n > d->cap - d->used)
		return NULL;
	r = d->arena + d->used;
	d->used += n;
	return r;
}

__attribute__((format(printf, 2, 3))) static int perr(struct parser *ps, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "%s at offset %zu", msg, (size_t)(ps->p - ps->start));
	return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* RFC 8259 s7; *ps->p is the opening quote. Decoded text is never longer than the source. */
static int parse_string(struct parser *ps, const char **out, size_t *outlen)
{
	const char *q = ++ps->p;
	char *o, *dst;

	while (q < ps->end && *q != '"') {
		if (*q == '\\')
			q++;
		q++;
	}
	if (q >= ps->end)
		return perr(ps, "unterminated string");
	o = dst = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
	if (!o)
		return -ENOMEM;
	while (ps->p < q) {
		unsigned char c = (unsigned char)*ps->p;

		if (c < 0x20)
			return perr(ps, "control character in string");
		if (c != '\\') {
			*dst++ = (char)c;
			ps->p++;
			continue;
		}
		ps->p++;
		switch (*ps->p) {
		case '"': *dst++ = '"'; break;
		case '\\': *dst++ = '\\'; break;
		case '/': *dst++ = '/'; break;
		case 'b': *dst++ = '\b'; break;
		case 'f': *dst++ = '\f'; break;
		case 'n': *dst++ = '\n'; break;
		case 'r': *dst++ = '\r'; break;
		case 't': *dst++ = '\t'; break;
		case 'u': {
			unsigned cp, lo;

			if (q - ps->p < 5 || hex4(ps->p + 1, &cp) < 0)
				return perr(ps, "bad \\u escape");
			ps->p += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				/* High surrogate: a low one must follow (s7). */
				if (q - ps->p < 7 || ps->p[1] != '\\' || ps->p[2] != 'u' ||
				    hex4(ps->p + 3, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					return perr(ps, "unpaired surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				ps->p += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return perr(ps, "unpaired surrogate");
			}
			if (cp == 0)
				return perr(ps, "NUL in string");
			/* \uXXXX is 6 source bytes, at most 3 output bytes; a pair is 12 -> 4. */
			dst += put_utf8(dst, cp);
			break;
		}
		default:
			return perr(ps, "bad escape");
		}
		ps->p++;
	}
	*dst = 0;
	ps->p = q + 1;
	*out = o;
	*outlen = (size_t)(dst - o);
	return 0;
}

static int parse_number(struct parser *ps, double *out)
{
	const char *s = ps->p;
	char tmp[64];
	size_t n;

	if (s < ps->end && *s == '-')
		s++;
	if (s >= ps->end || *s < '0' || *s > '9')
		return perr(ps, "bad number");
	if (*s == '0')
		s++;
	else
		while (s < ps->end && *s >= '0' && *s <= '9')
			s++;
	if (s < ps->end && *s == '.') {
		s++;
		if (s >= ps->end || *s < '0' || *s > '9')
			return perr(ps, "bad number");
		while (s < ps->end && *s >= '0' && *s <= '9')
			s++;
	}
	if (s < ps->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < ps->end && (*s == '+' || *s == '-'))
			s++;
		if (s >= ps->end || *s < '0' || *s > '9')
			return perr(ps, "bad number");
		while (s < ps->end && *s >= '0' && *s <= '9')
			s++;
	}
	n = (size_t)(s - ps->p);
	if (n >= sizeof(tmp))
		return perr(ps, "number too long");
	memcpy(tmp, ps->p, n);
	tmp[n] = 0;
	*out = strtod(tmp, NULL);
	if (!isfinite(*out))
		return perr(ps, "number out of range");
	ps->p = s;
	return 0;
}

static int parse_value(struct parser *ps, struct swj **out);

static int parse_container(struct parser *ps, struct swj *v, bool is_obj)
{
	struct swj **tail = &v->kids.first;
	char close = is_obj ? '}' : ']';
	int r;

	if (++ps->depth > SWJ_MAX_DEPTH)
		return perr(ps, "nesting too deep");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		size_t klen;
		struct swj *kid;

		skip_ws(ps);
		if (is_obj) {
			if (ps->p >= ps->end || *ps->p != '"')
				return perr(ps, "expected member name");
			r = parse_string(ps, &key, &klen);
			if (r)
				return r;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return perr(ps, "expected ':'");
			ps->p++;
		}
		r = parse_value(ps, &kid);
		if (r)
			return r;
		kid->key = key;
		*tail = kid;
		tail = &kid->next;
		v->kids.n++;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return perr(ps, "unterminated %s", is_obj ? "object" : "array");
		if (*ps->p == ',') {
			ps->p++;
			continue;
		}
		if (*ps->p != close)
			return perr(ps, "expected ',' or '%c'", close);
		ps->p++;
		ps->depth--;
		return 0;
	}
}

static bool match_word(struct parser *ps, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return false;
	ps->p += n;
	return true;
}

static int parse_value(struct parser *ps, struct swj **out)
{
	struct swj *v;

	skip_ws(ps);
	if (ps->p >= ps->end)
		return perr(ps, "unexpected end of input");
	v = arena_alloc(ps->doc, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	*out = v;
	switch (*ps->p) {
	case '{':
		v->type = SWJ_OBJ;
		return parse_container(ps, v, true);
	case '[':
		v->type = SWJ_ARR;
		return parse_container(ps, v, false);
	case '"':
		v->type = SWJ_STR;
		return parse_string(ps, &v->str.s, &v->str.len);
	case 't':
	case 'f':
	case 'n':
		if (match_word(ps, "true")) {
			v->type = SWJ_BOOL;
			v->b = true;
		} else if (match_word(ps, "false")) {
			v->type = SWJ_BOOL;
		} else if (match_word(ps, "null")) {
			v->type = SWJ_NULL;
		} else {
			return perr(ps, "unexpected token");
		}
		return 0;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			v->type = SWJ_NUM;
			return parse_number(ps, &v->num);
		}
		return perr(ps, "unexpected character 0x%02x", (unsigned char)*ps->p);
	}
}

int swj_parse(const char *buf, size_t len, struct swj_doc **out, char *err, size_t errlen)
{
	struct swj_doc *d;
	struct parser ps = { .p = buf, .end = buf + len, .start = buf, .err = err, .errlen = errlen };
	int r;

	if (err && errlen)
		err[0] = 0;
	if (len > (SIZE_MAX / 2 - 64) / sizeof(struct swj))
		return -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	/* Every value takes at least one input byte, every string at most its own length + 1. */
	d->cap = (len + 1) * (sizeof(struct swj) + 8) + len + 64;
	d->arena = malloc(d->cap);
	if (!d->arena) {
		free(d);
		return -ENOMEM;
	}
	ps.doc = d;
	r = parse_value(&ps, &d->root);
	if (!r) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			r = perr(&ps, "trailing characters");
	}
	if (r) {
		swj_doc_free(d);
		return r;
	}
	*out = d;
	return 0;
}

const struct swj *swj_doc_root(const struct swj_doc *doc)
{
	return doc->root;
}

void swj_doc_free(struct swj_doc *doc)
{
	if (!doc)
		return;
	free(doc->arena);
	free(doc);
}

const struct swj *swj_get(const struct swj *obj, const char *key)
{
	if (!obj || obj->type != SWJ_OBJ)
		return NULL;
	for (const struct swj *k = obj->kids.first; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

int swj_get_str(const struct swj *obj, const char *key, const char **out)
{
	const struct swj *v = swj_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != SWJ_STR)
		return -EINVAL;
	*out = v->str.s;
	return 0;
}

int swj_get_int(const struct swj *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const struct swj *v = swj_get(obj, key);

	if (!v)
		return -ENOENT;
	if (v->type != SWJ_NUM || v->num != floor(v->num) || v->num < (double)min ||
	    v->num > (double)max)
		return -EINVAL;
	*out = (int64_t)v->num;
	return 0;
}

/* ---- writer ---- */

void swjb_init(struct swjb *b)
{
	memset(b, 0, sizeof(*b));
}

void swjb_free(struct swjb *b)
{
	free(b->s);
	swjb_init(b);
}

static void swjb_put(struct swjb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 256;
		char *ns;

		while (nc < b->len + n + 1)
			nc *= 2;
		ns = realloc(b->s, nc);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void swjb_raw(struct swjb *b, const char *s)
{
	swjb_put(b, s, strlen(s));
}

static void put_escaped(struct swjb *b, const char *s)
{
	swjb_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			swjb_put(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			swjb_put(b, esc, 6);
		} else {
			swjb_put(b, (const char *)&c, 1);
		}
	}
	swjb_put(b, "\"", 1);
}

static void member(struct swjb *b, const char *key)
{
	if (b->need_comma)
		swjb_put(b, ",", 1);
	b->need_comma = true;
	if (key) {
		put_escaped(b, key);
		swjb_put(b, ":", 1);
	}
}

void swjb_obj_open(struct swjb *b, const char *key)
{
	member(b, key);
	swjb_put(b, "{", 1);
	b->need_comma = false;
}

void swjb_obj_close(struct swjb *b)
{
	swjb_put(b, "}", 1);
	b->need_comma = true;
}

void swjb_arr_open(struct swjb *b, const char *key)
{
	member(b, key);
	swjb_put(b, "[", 1);
	b->need_comma = false;
}

void swjb_arr_close(struct swjb *b)
{
	swjb_put(b, "]", 1);
	b->need_comma = true;
}

void swjb_str(struct swjb *b, const char *key, const char *val)
{
	member(b, key);
	put_escaped(b, val);
}

void swjb_u64(struct swjb *b, const char *key, uint64_t val)
{
	char t[32];

	member(b, key);
	snprintf(t, sizeof(t), "%" PRIu64, val);
	swjb_raw(b, t);
}

void swjb_i64(struct swjb *b, const char *key, int64_t val)
{
	char t[32];

	member(b, key);
	snprintf(t, sizeof(t), "%" PRId64, val);
	swjb_raw(b, t);
}

void swjb_bool(struct swjb *b, const char *key, bool val)
{
	member(b, key);
	swjb_raw(b, val ? "true" : "false");
}

void swjb_null(struct swjb *b, const char *key)
{
	member(b, key);
	swjb_raw(b, "null");
}
