// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the JSON reader every control socket uses (nfv-vmm, nfv-switch, nfvd, nfvctl).
 * Any byte string goes through json_parse(); a refusal must name an offset inside the input; an
 * accepted document is written back with the structural writer, parsed again, and must come back
 * as the same tree (types, keys, string bytes, numbers), so reader and writer agree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit(struct jbuf *b, const char *key, const struct json *v)
{
	switch (v->type) {
	case JSON_NULL: jbuf_null(b, key); break;
	case JSON_BOOL: jbuf_bool(b, key, v->b); break;
	case JSON_NUMBER: jbuf_f64(b, key, v->num); break;
	case JSON_STRING: jbuf_str(b, key, v->str); break;
	case JSON_ARRAY:
		jbuf_arr_open(b, key);
		for (const struct json *k = v->child; k; k = k->next)
			emit(b, NULL, k);
		jbuf_arr_close(b);
		break;
	case JSON_OBJECT:
		jbuf_obj_open(b, key);
		for (const struct json *k = v->child; k; k = k->next)
			emit(b, k->key, k);
		jbuf_obj_close(b);
		break;
	}
}

static bool same(const struct json *a, const struct json *b)
{
	const struct json *x, *y;

	if (a->type != b->type || a->len != b->len || !a->key != !b->key ||
	    (a->key && strcmp(a->key, b->key)))
		return false;
	switch (a->type) {
	case JSON_BOOL: return a->b == b->b;
	case JSON_NUMBER: return a->num == b->num;
	case JSON_STRING: return strlen(a->str) == a->len && !memcmp(a->str, b->str, a->len + 1);
	case JSON_ARRAY:
	case JSON_OBJECT:
		for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
			if (!same(x, y))
				return false;
		return !x && !y;
	default: return true;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *j = NULL, *j2 = NULL;
	struct json_err err;
	const char *s;
	int64_t i;
	bool bl;
	struct jbuf b;

	if (json_parse((const char *)data, size, &j, &err)) {
		if (j || err.off > size || !err.msg[0])
			abort();
		return 0;
	}
	/* The getters, on whatever shape arrived. */
	(void)json_get_str(j, "cmd", &s);
	(void)json_get_int(j, "vcpu", 0, 63, &i);
	(void)json_get_int(j, "n", INT64_MIN, INT64_MAX, &i);
	(void)json_get_bool(j, "ok", &bl);
	jbuf_init(&b);
	emit(&b, NULL, j);
	if (!b.failed) {
		if (json_parse(b.buf, b.len, &j2, &err)) {
			fprintf(stderr, "re-parse of writer output failed: %s at %zu\n", err.msg,
				err.off);
			abort();
		}
		if (!same(j, j2)) {
			fprintf(stderr, "writer output reads back differently: %s\n", b.buf);
			abort();
		}
		json_free(j2);
	}
	jbuf_free(&b);
	json_free(j);
	return 0;
}
