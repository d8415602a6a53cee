// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target for the control-socket parser of nfv-switch: any byte string goes through
 * swj_parse(); accepted documents are walked, re-serialised with the writer and parsed again,
 * which must succeed (writer and reader agree). Also exercises the MAC parser used by fdb-*.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fdb.h"
#include "swjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void emit(struct swjb *b, const char *key, const struct swj *v)
{
	switch (v->type) {
	case SWJ_NULL: swjb_null(b, key); break;
	case SWJ_BOOL: swjb_bool(b, key, v->b); break;
	case SWJ_NUM: swjb_i64(b, key, v->num > 1e18 || v->num < -1e18 ? 0 : (int64_t)v->num); break;
	case SWJ_STR: swjb_str(b, key, v->str.s); break;
	case SWJ_ARR:
	case SWJ_OBJ:
		if (v->type == SWJ_ARR)
			swjb_arr_open(b, key);
		else
			swjb_obj_open(b, key);
		for (const struct swj *k = v->kids.first; k; k = k->next)
			emit(b, v->type == SWJ_OBJ ? k->key : NULL, k);
		if (v->type == SWJ_ARR)
			swjb_arr_close(b);
		else
			swjb_obj_close(b);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct swj_doc *doc, *doc2;
	char err[128];
	struct swjb b;
	const char *s;
	int64_t i;

	if (size > 65536)
		return 0;
	if (swj_parse((const char *)data, size, &doc, err, sizeof(err)))
		return 0;
	/* The accessors the control code uses, on whatever shape arrived. */
	(void)swj_get_str(swj_doc_root(doc), "cmd", &s);
	(void)swj_get_int(swj_doc_root(doc), "vlan", 0, 4094, &i);
	if (swj_get_str(swj_doc_root(doc), "mac", &s) == 0) {
		uint8_t mac[6];
		char out[18];

		if (fdb_mac_parse(s, mac) == 0)
			fdb_mac_format(mac, out);
	}
	swjb_init(&b);
	emit(&b, NULL, swj_doc_root(doc));
	if (!b.oom) {
		if (swj_parse(b.s, b.len, &doc2, err, sizeof(err))) {
			fprintf(stderr, "re-parse of writer output failed: %s\n", err);
			abort();
		}
		swj_doc_free(doc2);
	}
	swjb_free(&b);
	swj_doc_free(doc);
	return 0;
}
