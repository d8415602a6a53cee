/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A growable NUL-terminated byte buffer for building messages, XML, JSON and HTTP replies.
 * Allocation failure is sticky: later appends do nothing and sb_steal()/sb_error() report it, so
 * callers check once at the end instead of after every append.
 */
#ifndef NFV_MGMT_STRBUF_H
#define NFV_MGMT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf; /* NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	bool oom;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		0                                                                                  \
	}

void sb_append(struct strbuf *sb, const char *s);
void sb_appendn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* XML-escape @s (&, <, >, ', ") into the buffer. */
void sb_xml_escape(struct strbuf *sb, const char *s);
/* JSON string literal with quotes; control characters escaped as \u00XX. */
void sb_json_str(struct strbuf *sb, const char *s);
/* Current contents ("" when empty); stays owned by @sb. */
const char *sb_str(const struct strbuf *sb);
/* Hand the contents to the caller (free()); NULL after an allocation failure. Resets @sb. */
char *sb_steal(struct strbuf *sb);
bool sb_error(const struct strbuf *sb);
void sb_reset(struct strbuf *sb);

#endif
