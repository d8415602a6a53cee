/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small strict JSON (RFC 8259) parser and writer for control sockets. Input is untrusted: the parser
 * bounds nesting depth and total size, rejects trailing garbage, and reports the byte offset of the
 * first error. Values live in one allocation tree freed with json_free().
 */
#ifndef NFV_CORE_JSON_H
#define NFV_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;
	double num;
	char *str;	    /* JSON_STRING (NUL-terminated; embedded NULs are rejected) */
	char *key;	    /* member name when inside an object */
	struct json *child; /* first element/member */
	struct json *next;  /* next sibling */
};

#define JSON_MAX_DEPTH 32

/* Parse @len bytes. Returns 0 or -EINVAL with *err_off set to the offending byte offset. */
int json_parse(const char *text, size_t len, struct json **out, size_t *err_off) __attribute__((warn_unused_result));
void json_free(struct json *j);

/* Object member lookup (NULL if absent or @obj is not an object). */
const struct json *json_get(const struct json *obj, const char *key);
/* Typed getters: return false when absent or of another type. */
bool json_get_str(const struct json *obj, const char *key, const char **out);
bool json_get_int(const struct json *obj, const char *key, int64_t *out); /* integral numbers only */
bool json_get_bool(const struct json *obj, const char *key, bool *out);

/* Growable output buffer with JSON helpers. On allocation failure the buffer is marked failed. */
struct jbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

void jbuf_init(struct jbuf *b);
void jbuf_free(struct jbuf *b);
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a quoted, escaped JSON string. */
void jbuf_str(struct jbuf *b, const char *s);

#endif
