// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the JSON parser used by control sockets; whatever parses must re-serialise safely. */
#include <stdint.h>
#include <stdlib.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const struct json *j, struct jbuf *b, int depth)
{
	for (; j; j = j->next) {
		if (j->key)
			jbuf_str(b, j->key);
		if (j->type == JSON_STRING)
			jbuf_str(b, j->str);
		if (depth < JSON_MAX_DEPTH + 2)
			walk(j->child, b, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json *j = NULL;
	struct jbuf b;
	size_t off;

	if (json_parse((const char *)data, size, &j, &off) == 0) {
		jbuf_init(&b);
		walk(j, &b, 0);
		jbuf_free(&b);
		json_free(j);
	} else if (off > size) {
		abort();
	}
	return 0;
}
