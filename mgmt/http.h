/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small, strict HTTP/1.1 (RFC 9112) request parser and response writer for nfvd's API socket.
 *
 * Requests are untrusted: the request head is capped at HTTP_HEAD_MAX bytes, the body at
 * HTTP_BODY_MAX, only Content-Length framing is accepted (no chunked transfer coding), header
 * names and the request target are checked character by character, and duplicate or conflicting
 * framing headers are refused (RFC 9112 s6.3: request smuggling). The parser does not allocate:
 * the request points into the caller's buffer.
 */
#ifndef NFV_MGMT_HTTP_H
#define NFV_MGMT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define HTTP_HEAD_MAX 8192
#define HTTP_BODY_MAX (1024 * 1024)
#define HTTP_PATH_MAX 512

enum http_method {
	HTTP_GET = 0,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_HEAD,
};

struct http_req {
	enum http_method method;
	char path[HTTP_PATH_MAX];  /* percent-decoded path, without the query */
	char query[HTTP_PATH_MAX]; /* raw query string after '?', "" when absent */
	bool http10;		   /* HTTP/1.0 request: the connection closes after the reply */
	bool close;		   /* "Connection: close" */
	bool has_body;		   /* Content-Length present */
	const char *content_type;  /* points into the buffer, not NUL-terminated; NULL if absent */
	size_t content_type_len;
	const char *body; /* points into the caller's buffer */
	size_t body_len;
};

/*
 * Parse one request from @buf[0..@len). Returns the number of bytes the request occupies (head
 * and body) when it is complete, 0 when more bytes are needed, or a negative HTTP status code
 * (-400, -405, -411, -413, -431, -501, -505) for a request that must be refused. On a refusal
 * *@why (may be NULL) points to a static explanation.
 */
long http_parse_request(const char *buf, size_t len, struct http_req *req, const char **why);

/* Value of query parameter @key (exact match) copied into @out; false when absent. */
bool http_query_get(const struct http_req *req, const char *key, char *out, size_t outlen);
/* True when the query string has only parameters named in the NULL-terminated @allowed list. */
bool http_query_only(const struct http_req *req, const char *const *allowed);

/* Reason phrase for a status code ("OK", "Not Found"...). */
const char *http_reason(int status);

/* Append a complete response with Content-Length to @out. */
void http_response(struct strbuf *out, int status, const char *content_type, const char *body,
		   size_t body_len, bool close);

#endif
