// SPDX-License-Identifier: GPL-2.0-only
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need, ncap;
	char *n;

	if (sb->oom)
		return false;
	if (extra > (size_t)-1 / 2 - sb->len) {
		sb->oom = true;
		return false;
	}
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	ncap = sb->cap ? sb->cap : 256;
	while (ncap < need)
		ncap *= 2;
	n = realloc(sb->buf, ncap);
	if (!n) {
		sb->oom = true;
		return false;
	}
	sb->buf = n;
	sb->cap = ncap;
	return true;
}

void sb_appendn(struct strbuf *sb, const char *s, size_t n)
{
	if (!sb_grow(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_append(struct strbuf *sb, const char *s)
{
	sb_appendn(sb, s, strlen(s));
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !sb_grow(sb, (size_t)n)) {
		sb->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_xml_escape(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			sb_append(sb, "&amp;");
			break;
		case '<':
			sb_append(sb, "&lt;");
			break;
		case '>':
			sb_append(sb, "&gt;");
			break;
		case '\'':
			sb_append(sb, "&apos;");
			break;
		case '"':
			sb_append(sb, "&quot;");
			break;
		default:
			sb_appendn(sb, s, 1);
		}
	}
}

void sb_json_str(struct strbuf *sb, const char *s)
{
	sb_append(sb, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			sb_appendn(sb, "\\", 1);
			sb_appendn(sb, s, 1);
		} else if (c == '\n') {
			sb_append(sb, "\\n");
		} else if (c == '\t') {
			sb_append(sb, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(sb, "\\u%04x", c);
		} else {
			sb_appendn(sb, s, 1);
		}
	}
	sb_append(sb, "\"");
}

const char *sb_str(const struct strbuf *sb)
{
	return sb->buf && !sb->oom ? sb->buf : "";
}

char *sb_steal(struct strbuf *sb)
{
	char *r = NULL;

	if (!sb->oom) {
		r = sb->buf ? sb->buf : strdup("");
		sb->buf = NULL;
	}
	sb_reset(sb);
	return r;
}

bool sb_error(const struct strbuf *sb)
{
	return sb->oom;
}

void sb_reset(struct strbuf *sb)
{
	free(sb->buf);
	memset(sb, 0, sizeof(*sb));
}
