// SPDX-License-Identifier: GPL-2.0-only
#include "http.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	enum http_method m;
} methods[] = {
	{"GET", HTTP_GET},	 {"POST", HTTP_POST}, {"PUT", HTTP_PUT},
	{"DELETE", HTTP_DELETE}, {"HEAD", HTTP_HEAD},
};

/* RFC 9110 s5.6.2 tchar */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexv(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode a path; refuse NUL, '/' smuggled as %2F, control characters and dot segments. */
static bool decode_path(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	if (n == 0 || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return false;
			hi = hexv((unsigned char)s[i + 1]);
			lo = hexv((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '/' || c < 0x20 || c == 0x7f)
				return false;
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return false;
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return !strstr(out, "/../") && !strstr(out, "/./") && !strstr(out, "//");
}

static bool ieq(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && !strncasecmp(a, b, alen);
}

long http_parse_request(const char *buf, size_t len, struct http_req *req, const char **why)
{
	const char *end = NULL, *p, *line_end, *sp1, *sp2;
	size_t head_len, target_len, cl = 0;
	bool have_cl = false;
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(req, 0, sizeof(*req));
	/* Find the end of the head; RFC 9112 s2.2 lets us require CRLF line endings. */
	for (size_t i = 0; i + 3 < len && i < HTTP_HEAD_MAX; i++) {
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n') {
			end = buf + i;
			break;
		}
	}
	if (!end) {
		if (len >= HTTP_HEAD_MAX) {
			*why = "request head too large";
			return -431;
		}
		/* A NUL or bare LF in what we have so far can never become valid. */
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\0' || (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))) {
				*why = "malformed request line or header";
				return -400;
			}
		}
		return 0;
	}
	head_len = (size_t)(end - buf) + 4;

	/* Request line: method SP request-target SP HTTP-version (RFC 9112 s3) */
	line_end = memchr(buf, '\r', (size_t)(end - buf) + 1);
	sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	if (!sp1 || !sp2 || line_end[1] != '\n') {
		*why = "malformed request line";
		return -400;
	}
	{
		bool found = false;

		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			if ((size_t)(sp1 - buf) == strlen(methods[i].name) &&
			    !memcmp(buf, methods[i].name, (size_t)(sp1 - buf))) {
				req->method = methods[i].m;
				found = true;
			}
		}
		if (!found) {
			for (const char *c = buf; c < sp1; c++) {
				if (!is_tchar((unsigned char)*c)) {
					*why = "malformed method";
					return -400;
				}
			}
			*why = "method not implemented";
			return -501;
		}
	}
	if ((size_t)(line_end - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.1", 8)) {
		req->http10 = false;
	} else if ((size_t)(line_end - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/1.0", 8)) {
		req->http10 = true;
	} else if ((size_t)(line_end - sp2 - 1) == 8 && !memcmp(sp2 + 1, "HTTP/", 5)) {
		*why = "HTTP version not supported";
		return -505;
	} else {
		*why = "malformed HTTP version";
		return -400;
	}
	target_len = (size_t)(sp2 - sp1 - 1);
	{
		const char *t = sp1 + 1, *q = memchr(t, '?', target_len);
		size_t path_len = q ? (size_t)(q - t) : target_len;

		if (!decode_path(t, path_len, req->path, sizeof(req->path))) {
			*why = "malformed request target";
			return -400;
		}
		if (q) {
			size_t ql = target_len - path_len - 1;

			if (ql >= sizeof(req->query)) {
				*why = "query string too long";
				return -400;
			}
			for (size_t i = 0; i < ql; i++) {
				if ((unsigned char)q[1 + i] <= 0x20 ||
				    (unsigned char)q[1 + i] >= 0x7f) {
					*why = "malformed query string";
					return -400;
				}
			}
			memcpy(req->query, q + 1, ql);
			req->query[ql] = '\0';
		}
	}

	/* Header fields (RFC 9112 s5): name ":" OWS value OWS, no obs-fold. */
	for (p = line_end + 2; p < end + 2; p = line_end + 2) {
		const char *colon, *v, *ve;

		line_end = memchr(p, '\r', (size_t)(end + 2 - p));
		if (!line_end || line_end[1] != '\n') {
			*why = "malformed header line";
			return -400;
		}
		if (line_end == p)
			break;
		colon = memchr(p, ':', (size_t)(line_end - p));
		if (!colon || colon == p) {
			*why = "malformed header line";
			return -400;
		}
		for (const char *c = p; c < colon; c++) {
			if (!is_tchar((unsigned char)*c)) {
				*why = "malformed header name";
				return -400;
			}
		}
		v = colon + 1;
		ve = line_end;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *c = v; c < ve; c++) {
			unsigned char ch = (unsigned char)*c;

			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				*why = "control character in header value";
				return -400;
			}
		}
		if (ieq(p, (size_t)(colon - p), "Content-Length")) {
			size_t val = 0;

			if (have_cl || v == ve) {
				*why = "duplicate or empty Content-Length";
				return -400;
			}
			for (const char *c = v; c < ve; c++) {
				if (!isdigit((unsigned char)*c)) {
					*why = "malformed Content-Length";
					return -400;
				}
				if (val > HTTP_BODY_MAX) {
					*why = "request body too large";
					return -413;
				}
				val = val * 10 + (size_t)(*c - '0');
			}
			if (val > HTTP_BODY_MAX) {
				*why = "request body too large";
				return -413;
			}
			cl = val;
			have_cl = true;
		} else if (ieq(p, (size_t)(colon - p), "Transfer-Encoding")) {
			*why = "transfer codings are not supported; send Content-Length";
			return -501;
		} else if (ieq(p, (size_t)(colon - p), "Connection")) {
			if (ieq(v, (size_t)(ve - v), "close"))
				req->close = true;
		} else if (ieq(p, (size_t)(colon - p), "Content-Type")) {
			req->content_type = v;
			req->content_type_len = (size_t)(ve - v);
		} else if (ieq(p, (size_t)(colon - p), "Expect")) {
			*why = "Expect is not supported";
			return -417;
		}
	}
	if (!have_cl && (req->method == HTTP_POST || req->method == HTTP_PUT)) {
		*why = "Content-Length required";
		return -411;
	}
	req->has_body = have_cl;
	if (len - head_len < cl)
		return 0;
	req->body = buf + head_len;
	req->body_len = cl;
	if (req->http10)
		req->close = true;
	return (long)(head_len + cl);
}

bool http_query_get(const struct http_req *req, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);
	const char *p = req->query;

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);

		if (n >= kl && !strncmp(p, key, kl) && (n == kl || p[kl] == '=')) {
			size_t vl = n == kl ? 0 : n - kl - 1;

			if (vl >= outlen)
				return false;
			memcpy(out, p + kl + (n == kl ? 0 : 1), vl);
			out[vl] = '\0';
			return true;
		}
		p += n + (amp ? 1 : 0);
	}
	return false;
}

bool http_query_only(const struct http_req *req, const char *const *allowed)
{
	const char *p = req->query;

	while (*p) {
		const char *amp = strchr(p, '&');
		size_t n = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		size_t kl = eq ? (size_t)(eq - p) : n;
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strlen(*a) == kl && !strncmp(*a, p, kl))
				ok = true;
		if (!ok)
			return false;
		p += n + (amp ? 1 : 0);
	}
	return true;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

void http_response(struct strbuf *out, int status, const char *content_type, const char *body,
		   size_t body_len, bool close)
{
	sb_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
		  status, http_reason(status), content_type, body_len,
		  close ? "Connection: close\r\n" : "");
	if (body_len)
		sb_appendn(out, body, body_len);
}
