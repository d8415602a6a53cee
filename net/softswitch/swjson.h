/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Compact JSON (RFC 8259) reader and writer for the nfv-switch control protocol.
 *
 * The reader parses one document into a tree allocated from a single arena sized from the input,
 * so a document costs O(input) memory and one free. Hostile input is expected: nesting is limited
 * to SWJ_MAX_DEPTH, strings must be valid escapes (\uXXXX incl. surrogate pairs become UTF-8,
 * NUL bytes are refused), numbers must match the RFC grammar. Errors name the byte offset.
 * Duplicate object keys are kept; swj_get() returns the first.
 */
#ifndef NFV_SOFTSWITCH_SWJSON_H
#define NFV_SOFTSWITCH_SWJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWJ_MAX_DEPTH 32

enum swj_type { SWJ_NULL, SWJ_BOOL, SWJ_NUM, SWJ_STR, SWJ_ARR, SWJ_OBJ };

struct swj {
	enum swj_type type;
	const char *key;	/* member name inside an object, else NULL */
	struct swj *next;	/* next sibling */
	union {
		bool b;
		double num;
		struct {
			const char *s;	/* NUL-terminated, no embedded NUL */
			size_t len;
		} str;
		struct {
			struct swj *first;
			size_t n;
		} kids;		/* SWJ_ARR / SWJ_OBJ */
	};
};

struct swj_doc;

/*
 * Parse @len bytes at @buf (need not be NUL-terminated; trailing whitespace allowed). On success
 * *out owns the tree (swj_doc_root) and 0 is returned; on failure -EINVAL (with a message in
 * @err) or -ENOMEM.
 */
int swj_parse(const char *buf, size_t len, struct swj_doc **out, char *err, size_t errlen)
	__attribute__((warn_unused_result));
const struct swj *swj_doc_root(const struct swj_doc *doc);
void swj_doc_free(struct swj_doc *doc);

/* Member @key of object @obj, or NULL (also when @obj is not an object). */
const struct swj *swj_get(const struct swj *obj, const char *key);
/* Typed member getters: 0, -ENOENT (absent) or -EINVAL (wrong type / not an integer in range). */
int swj_get_str(const struct swj *obj, const char *key, const char **out);
int swj_get_int(const struct swj *obj, const char *key, int64_t min, int64_t max, int64_t *out);

/* A growable output buffer; on allocation failure it records the error and stops growing. */
struct swjb {
	char *s;
	size_t len, cap;
	bool oom;
	bool need_comma;
};

void swjb_init(struct swjb *b);
void swjb_free(struct swjb *b);
void swjb_raw(struct swjb *b, const char *s);
/* Writers insert commas between siblings themselves. */
void swjb_obj_open(struct swjb *b, const char *key);	/* key NULL: array element / top level */
void swjb_obj_close(struct swjb *b);
void swjb_arr_open(struct swjb *b, const char *key);
void swjb_arr_close(struct swjb *b);
void swjb_str(struct swjb *b, const char *key, const char *val);
void swjb_u64(struct swjb *b, const char *key, uint64_t val);
void swjb_i64(struct swjb *b, const char *key, int64_t val);
void swjb_bool(struct swjb *b, const char *key, bool val);
void swjb_null(struct swjb *b, const char *key);

#endif
