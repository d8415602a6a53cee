// SPDX-License-Identifier: GPL-2.0-only
/* JSON reader and writer, RFC 8259; see json.h for the contract. */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---- */

/* Blocks of the arena; data follows the header (8-byte aligned: sizeof is a multiple of 8). */
struct json_block {
	struct json_block *next;
	size_t used, cap;
};

#define JSON_BLOCK_MIN 1024
#define JSON_BLOCK_MAX (1024 * 1024)

/* The root is the first member, so json_free() finds the arena from the root pointer. */
struct json_doc {
	struct json root;
	struct json_block *blocks; /* head: the block being filled */
	size_t next_cap;	   /* size of the next block */
};

static void *arena_alloc(struct json_doc *d, size_t n)
{
	struct json_block *b = d->blocks;
	bool own;
	size_t cap;

	n = (n + 7) & ~(size_t)7;
	if (b && n <= b->cap - b->used) {
		b->used += n;
		return (char *)(b + 1) + b->used - n;
	}
	/*
	 * A request larger than a quarter block (a long string) gets a block of its own, linked
	 * behind the head so the head's free space stays usable; otherwise a new head, each twice
	 * the last.
	 */
	own = n > d->next_cap / 4;
	cap = own ? n : d->next_cap;
	if (cap > SIZE_MAX - sizeof(*b))
		return NULL;
	b = malloc(sizeof(*b) + cap);
	if (!b)
		return NULL;
	b->cap = cap;
	b->used = n;
	if (own && d->blocks) {
		b->next = d->blocks->next;
		d->blocks->next = b;
	} else {
		b->next = d->blocks;
		d->blocks = b;
		if (d->next_cap < JSON_BLOCK_MAX)
			d->next_cap *= 2;
	}
	return b + 1;
}

void json_free(struct json *root)
{
	struct json_doc *d = (struct json_doc *)root;

	if (!d)
		return;
	while (d->blocks) {
		struct json_block *b = d->blocks;

		d->blocks = b->next;
		free(b);
	}
	free(d);
}

/* ---- reader ---- */

struct parser {
	const char *p, *end, *start;
	struct json_doc *doc;
	struct json_err *err;
	int depth;
};

__attribute__((format(printf, 2, 3))) static int perr(struct parser *ps, const char *fmt, ...)
{
	va_list ap;

	if (ps->err) {
		ps->err->off = (size_t)(ps->p - ps->start);
		va_start(ap, fmt);
		vsnprintf(ps->err->msg, sizeof(ps->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int pnomem(struct parser *ps)
{
	if (ps->err) {
		ps->err->off = (size_t)(ps->p - ps->start);
		snprintf(ps->err->msg, sizeof(ps->err->msg), "out of memory");
	}
	return -ENOMEM;
}

/* s2: insignificant whitespace. */
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

/* One \uXXXX escape or surrogate pair (s7) at ps->p (the 'u'), before @q; UTF-8 out at *dst. */
static int parse_u_escape(struct parser *ps, const char *q, char **dst)
{
	unsigned cp, lo;

	if (q - ps->p < 5 || hex4(ps->p + 1, &cp) < 0)
		return perr(ps, "bad \\u escape");
	ps->p += 4;
	if (cp >= 0xd800 && cp < 0xdc00) {
		/* A high surrogate: the low one must follow. */
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
	/* \uXXXX is 6 source bytes and at most 3 output bytes; a pair is 12 -> 4. */
	*dst += put_utf8(*dst, cp);
	return 0;
}

/* s7; *ps->p is the opening quote. Decoded text is never longer than the source. */
static int parse_string(struct parser *ps, const char **out, size_t *outlen)
{
	const char *q = ++ps->p;
	char *o, *dst;

	while (q < ps->end && *q != '"')
		q += (*q == '\\' && ps->end - q > 1) ? 2 : 1;
	if (q >= ps->end)
		return perr(ps, "unterminated string");
	o = dst = arena_alloc(ps->doc, (size_t)(q - ps->p) + 1);
	if (!o)
		return pnomem(ps);
	while (ps->p < q) {
		unsigned char c = (unsigned char)*ps->p;
		int r;

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
		case 'u':
			r = parse_u_escape(ps, q, &dst);
			if (r)
				return r;
			break;
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

static const char *skip_digits(const char *s, const char *end)
{
	while (s < end && *s >= '0' && *s <= '9')
		s++;
	return s;
}

static bool is_digit_at(const char *s, const char *end)
{
	return s < end && *s >= '0' && *s <= '9';
}

/* s6: [ minus ] int [ frac ] [ exp ], int without leading zeros. */
static int parse_number(struct parser *ps, double *out)
{
	const char *s = ps->p;
	char tmp[64], *buf = tmp;
	size_t n;

	if (s < ps->end && *s == '-')
		s++;
	if (!is_digit_at(s, ps->end))
		return perr(ps, "bad number");
	s = *s == '0' ? s + 1 : skip_digits(s, ps->end);
	if (s < ps->end && *s == '.') {
		if (!is_digit_at(++s, ps->end))
			return perr(ps, "bad number");
		s = skip_digits(s, ps->end);
	}
	if (s < ps->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < ps->end && (*s == '+' || *s == '-'))
			s++;
		if (!is_digit_at(s, ps->end))
			return perr(ps, "bad number");
		s = skip_digits(s, ps->end);
	}
	/* strtod() wants a terminated string; the input need not be one. */
	n = (size_t)(s - ps->p);
	if (n >= sizeof(tmp)) {
		buf = malloc(n + 1);
		if (!buf)
			return pnomem(ps);
	}
	memcpy(buf, ps->p, n);
	buf[n] = 0;
	*out = strtod(buf, NULL);
	if (buf != tmp)
		free(buf);
	if (!isfinite(*out))
		return perr(ps, "number out of range");
	ps->p = s;
	return 0;
}

static int parse_value(struct parser *ps, struct json *v);

static struct json *new_node(struct parser *ps)
{
	struct json *v = arena_alloc(ps->doc, sizeof(*v));

	if (v)
		memset(v, 0, sizeof(*v));
	return v;
}

/* s4, s5; *ps->p is '{' or '['. */
static int parse_container(struct parser *ps, struct json *v)
{
	bool is_obj = v->type == JSON_OBJECT;
	struct json **tail = &v->child;
	char close = is_obj ? '}' : ']';
	int r;

	if (++ps->depth > JSON_MAX_DEPTH)
		return perr(ps, "nesting too deep");
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		ps->depth--;
		return 0;
	}
	for (;;) {
		struct json *kid = new_node(ps);

		if (!kid)
			return pnomem(ps);
		skip_ws(ps);
		if (is_obj) {
			size_t klen;

			if (ps->p >= ps->end || *ps->p != '"')
				return perr(ps, "expected member name");
			r = parse_string(ps, &kid->key, &klen);
			if (r)
				return r;
			skip_ws(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return perr(ps, "expected ':'");
			ps->p++;
		}
		r = parse_value(ps, kid);
		if (r)
			return r;
		*tail = kid;
		tail = &kid->next;
		v->len++;
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

/* s3: fills @v, whose key and siblings the caller owns. */
static int parse_value(struct parser *ps, struct json *v)
{
	skip_ws(ps);
	if (ps->p >= ps->end)
		return perr(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
		v->type = JSON_OBJECT;
		return parse_container(ps, v);
	case '[':
		v->type = JSON_ARRAY;
		return parse_container(ps, v);
	case '"':
		v->type = JSON_STRING;
		return parse_string(ps, &v->str, &v->len);
	case 't':
	case 'f':
	case 'n':
		if (match_word(ps, "true")) {
			v->type = JSON_BOOL;
			v->b = true;
		} else if (match_word(ps, "false")) {
			v->type = JSON_BOOL;
		} else if (match_word(ps, "null")) {
			v->type = JSON_NULL;
		} else {
			return perr(ps, "unexpected token");
		}
		return 0;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
			v->type = JSON_NUMBER;
			return parse_number(ps, &v->num);
		}
		return perr(ps, "unexpected character 0x%02x", (unsigned char)*ps->p);
	}
}

int json_parse(const char *text, size_t len, struct json **out, struct json_err *err)
{
	struct parser ps = { .p = text, .end = text + len, .start = text, .err = err };
	struct json_doc *d;
	int r;

	*out = NULL;
	if (err) {
		err->off = 0;
		err->msg[0] = 0;
	}
	if (len > PTRDIFF_MAX / 2)
		return pnomem(&ps);
	d = calloc(1, sizeof(*d));
	if (!d)
		return pnomem(&ps);
	/* First block from the input size: small documents take one allocation besides the root. */
	d->next_cap = len * 2 < JSON_BLOCK_MIN ? JSON_BLOCK_MIN :
		      len * 2 > JSON_BLOCK_MAX ? JSON_BLOCK_MAX : (len * 2 + 7) & ~(size_t)7;
	ps.doc = d;
	r = parse_value(&ps, &d->root);
	if (!r) {
		skip_ws(&ps);
		if (ps.p != ps.end)
			r = perr(&ps, "trailing characters");
	}
	if (r) {
		json_free(&d->root);
		return r;
	}
	*out = &d->root;
	return 0;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json *k = obj->child; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

static int json_member(const struct json *obj, const char *key, enum json_type type,
		       const struct json **out)
{
	*out = json_get(obj, key);
	if (!*out)
		return -ENOENT;
	return (*out)->type == type ? 0 : -EINVAL;
}

int json_get_str(const struct json *obj, const char *key, const char **out)
{
	const struct json *v;
	int r = json_member(obj, key, JSON_STRING, &v);

	if (!r)
		*out = v->str;
	return r;
}

int json_get_bool(const struct json *obj, const char *key, bool *out)
{
	const struct json *v;
	int r = json_member(obj, key, JSON_BOOL, &v);

	if (!r)
		*out = v->b;
	return r;
}

int json_int(const struct json *v, int64_t min, int64_t max, int64_t *out)
{
	int64_t i;

	/* Range first: converting a double outside int64_t is undefined; 2^63 is exact. */
	if (!v || v->type != JSON_NUMBER || !(v->num >= -9223372036854775808.0) ||
	    !(v->num < 9223372036854775808.0))
		return -EINVAL;
	i = (int64_t)v->num;
	if ((double)i != v->num || i < min || i > max)
		return -EINVAL;
	*out = i;
	return 0;
}

int json_get_int(const struct json *obj, const char *key, int64_t min, int64_t max, int64_t *out)
{
	const struct json *v = json_get(obj, key);

	return v ? json_int(v, min, max, out) : -ENOENT;
}

/* ---- writer ---- */

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
	if (extra >= SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
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

static void jbuf_put(struct jbuf *b, const char *s, size_t n)
{
	if (!jbuf_reserve(b, n))
		return;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = 0;
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

void jbuf_raw(struct jbuf *b, const char *s)
{
	jbuf_put(b, s, strlen(s));
}

/* s7: '"', '\\' and control characters must be escaped; everything else goes as it is. */
void jbuf_quote(struct jbuf *b, const char *s)
{
	const char *run = s;

	jbuf_put(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		jbuf_put(b, run, (size_t)(s - run));
		run = s + 1;
		if (c < 0x20)
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			snprintf(esc, sizeof(esc), "\\%c", c);
		jbuf_put(b, esc, strlen(esc));
	}
	if (s)
		jbuf_put(b, run, (size_t)(s - run));
	jbuf_put(b, "\"", 1);
}

static void jbuf_member(struct jbuf *b, const char *key)
{
	if (b->need_comma)
		jbuf_put(b, ",", 1);
	b->need_comma = true;
	if (key) {
		jbuf_quote(b, key);
		jbuf_put(b, ":", 1);
	}
}

static void jbuf_open(struct jbuf *b, const char *key, const char *bracket)
{
	jbuf_member(b, key);
	jbuf_put(b, bracket, 1);
	b->need_comma = false;
}

static void jbuf_close(struct jbuf *b, const char *bracket)
{
	jbuf_put(b, bracket, 1);
	b->need_comma = true;
}

void jbuf_obj_open(struct jbuf *b, const char *key)
{
	jbuf_open(b, key, "{");
}

void jbuf_obj_close(struct jbuf *b)
{
	jbuf_close(b, "}");
}

void jbuf_arr_open(struct jbuf *b, const char *key)
{
	jbuf_open(b, key, "[");
}

void jbuf_arr_close(struct jbuf *b)
{
	jbuf_close(b, "]");
}

void jbuf_str(struct jbuf *b, const char *key, const char *val)
{
	jbuf_member(b, key);
	jbuf_quote(b, val);
}

void jbuf_u64(struct jbuf *b, const char *key, uint64_t val)
{
	jbuf_member(b, key);
	jbuf_printf(b, "%" PRIu64, val);
}

void jbuf_i64(struct jbuf *b, const char *key, int64_t val)
{
	jbuf_member(b, key);
	jbuf_printf(b, "%" PRId64, val);
}

void jbuf_f64(struct jbuf *b, const char *key, double val)
{
	jbuf_member(b, key);
	if (isfinite(val))
		jbuf_printf(b, "%.17g", val);
	else
		jbuf_raw(b, "null");
}

void jbuf_bool(struct jbuf *b, const char *key, bool val)
{
	jbuf_member(b, key);
	jbuf_raw(b, val ? "true" : "false");
}

void jbuf_null(struct jbuf *b, const char *key)
{
	jbuf_member(b, key);
	jbuf_raw(b, "null");
}
