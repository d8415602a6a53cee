// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz nfvd's HTTP request parser: any byte string must give a complete request, "need more", or a
 * refusal status, and a complete request must lie inside the input. Pipelined requests are parsed
 * one after the other as the daemon does.
 */
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t off = 0;

	while (off < size) {
		struct http_req req;
		const char *why = NULL;
		long n = http_parse_request(buf + off, size - off, &req, &why);
		char v[64];

		if (n <= 0) {
			if (n < 0 && (n < -599 || n > -400 || !why))
				abort();
			break;
		}
		if ((size_t)n > size - off || req.body_len > (size_t)n || req.path[0] != '/')
			abort();
		if (req.body && (req.body < buf + off || req.body + req.body_len > buf + off + n))
			abort();
		(void)http_query_get(&req, "drop_unsupported", v, sizeof(v));
		off += (size_t)n;
	}
	return 0;
}
