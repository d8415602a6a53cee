/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict JSON (RFC 8259) reader and writer for every control protocol of the project: nfv-vmm's
 * control socket, nfv-switch's control socket, nfvd's REST API, nfvctl and nfvd's state files.
 *
 * Reader. Input is untrusted:
 * - one document, surrounding whitespace allowed, anything else after it refused (s2);
 * - strings: only the escapes of s7; \uXXXX becomes UTF-8, a surrogate pair one code point, a lone
 *   surrogate is refused; control characters and NUL (raw or \u0000) are refused, so every string
 *   is a C string of exactly its decoded length;
 * - numbers: exactly the grammar of s6 (no leading zeros, '+', bare '.', hex, Inf/NaN); values
 *   that overflow a double are refused;
 * - at most JSON_MAX_DEPTH nested arrays/objects;
 * - duplicate object members are kept in order; json_get() returns the first (s4 leaves this to
 *   the implementation);
 * - the tree lives in an arena owned by the root: memory is proportional to the input, and one
 *   json_free() of the root releases everything;
 * - an error says what was wrong and at which byte offset.
 * The reader keeps no global state; distinct documents may be used from distinct threads.
 */
#ifndef NFV_CORE_JSON_H
#define NFV_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json {
	enum json_type type;
	bool b;		    /* JSON_BOOL */
	double num;	    /* JSON_NUMBER (finite) */
	const char *str;    /* JSON_STRING: NUL-terminated, no embedded NUL */
	size_t len;	    /* JSON_STRING: strlen(str); JSON_ARRAY/JSON_OBJECT: children */
	const char *key;    /* member name when inside an object, else NULL */
	struct json *child; /* JSON_ARRAY/JSON_OBJECT: first element/member */
	struct json *next;  /* next sibling */
};

#define JSON_MAX_DEPTH 32

/* Where and why json_parse() failed. */
struct json_err {
	size_t off;	/* byte offset of the offending input */
	char msg[48];	/* e.g. "unterminated string", "nesting too deep"; "out of memory" */
};

/*
 * Parse @len bytes at @text (need not be NUL-terminated). Returns 0 with *@out the root, which owns
 * the whole tree (release it with json_free()); or -EINVAL (bad JSON) or -ENOMEM (allocation
 * failed, or @len beyond what can be addressed), with *@out NULL and, when @err is not NULL, @err
 * filled in.
 */
int json_parse(const char *text, size_t len, struct json **out, struct json_err *err)
	__attribute__((warn_unused_result));
/* Release a tree returned by json_parse(). Only the root may be passed; NULL is a no-op. */
void json_free(struct json *root);

/* Member @key of object @obj: the first of that name, or NULL (also when @obj is no object). */
const struct json *json_get(const struct json *obj, const char *key);
/*
 * Typed member getters: 0 with *@out set, -ENOENT when @obj is not an object or has no member
 * @key, -EINVAL when the member has another type (or, for json_get_int, is not an integer in
 * @min..@max). *@out is left alone on error, so a caller may preset a default and ignore the
 * result for an optional member.
 */
int json_get_str(const struct json *obj, const char *key, const char **out);
int json_get_int(const struct json *obj, const char *key, int64_t min, int64_t max, int64_t *out);
int json_get_bool(const struct json *obj, const char *key, bool *out);
/* @v itself as an integer in @min..@max: 0, or -EINVAL (no number, not integral, out of range). */
int json_int(const struct json *v, int64_t min, int64_t max, int64_t *out);

/*
 * Writer: a growable, always NUL-terminated output buffer (buf is NULL until something is written).
 * On allocation failure it sets @failed and ignores further output, so callers check once at the
 * end. Two styles, which may be mixed in one buffer when the caller places commas itself:
 * - printf style: jbuf_printf()/jbuf_raw() append text as given, jbuf_quote() a quoted string;
 * - structural: jbuf_obj_open() ... jbuf_obj_close() with member writers that take a key (NULL for
 *   an array element or the top level) and insert the commas between siblings themselves.
 */
struct jbuf {
	char *buf;
	size_t len, cap;
	bool failed;
	bool need_comma; /* structural writers: the next member needs a ',' first */
};

void jbuf_init(struct jbuf *b);
void jbuf_free(struct jbuf *b); /* also re-initialises @b */
void jbuf_printf(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jbuf_raw(struct jbuf *b, const char *s);
/* Append @s as a quoted, escaped JSON string (NULL as ""). */
void jbuf_quote(struct jbuf *b, const char *s);

void jbuf_obj_open(struct jbuf *b, const char *key);
void jbuf_obj_close(struct jbuf *b);
void jbuf_arr_open(struct jbuf *b, const char *key);
void jbuf_arr_close(struct jbuf *b);
void jbuf_str(struct jbuf *b, const char *key, const char *val);
void jbuf_u64(struct jbuf *b, const char *key, uint64_t val);
void jbuf_i64(struct jbuf *b, const char *key, int64_t val);
/* 17 significant digits, so it reads back as the same double; JSON has no Inf/NaN: null. */
void jbuf_f64(struct jbuf *b, const char *key, double val);
void jbuf_bool(struct jbuf *b, const char *key, bool val);
void jbuf_null(struct jbuf *b, const char *key);

#endif
