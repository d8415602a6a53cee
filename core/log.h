/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One logging module for every nfvisor process.
 *
 * Messages go to stderr (or a file set with log_set_file) with a timestamp, the process ident and
 * the level. Anything a guest, a peer or a file can trigger repeatedly is logged through log_rl(),
 * which keeps a per-call-site budget (10 lines per second) and reports how many it suppressed.
 * All functions are thread-safe.
 */
#ifndef NFV_CORE_LOG_H
#define NFV_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
	LOGL_ERR = 0,
	LOGL_WARN = 1,
	LOGL_INFO = 2,
	LOGL_DEBUG = 3,
};

/* Process-wide settings; call before starting threads. */
void log_set_ident(const char *ident);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "err", "warn", "info", "debug"; returns -EINVAL for anything else. */
int log_level_parse(const char *s, enum log_level *out) __attribute__((warn_unused_result));
/* Redirect log output; the stream stays owned by the caller. NULL restores stderr. */
void log_set_stream(FILE *f);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#define log_err(...) log_msg(LOGL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
	do {                                                                                       \
		if (log_get_level() >= LOGL_DEBUG)                                                 \
			log_msg(LOGL_DEBUG, __VA_ARGS__);                                          \
	} while (0)

/*
 * Token-bucket style limiter: at most @burst messages per @interval_ms; the first message after a
 * quiet interval reports how many were suppressed. Lock-free; a race may let one extra line through.
 */
struct ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint64_t window_start_ms; /* atomic */
	uint32_t printed;	  /* atomic, in the current window */
	uint64_t suppressed;	  /* atomic, since the last report */
};

#define RATELIMIT_INIT(ms, b) { .interval_ms = (ms), .burst = (b) }

/* Returns true when the caller may log; *suppressed_out (may be NULL) gets the count to report. */
bool ratelimit_ok(struct ratelimit *rl, uint64_t *suppressed_out);

/* Log through a per-call-site limiter (10 lines per second). */
#define log_rl(level, ...)                                                                         \
	do {                                                                                       \
		static struct ratelimit rl__ = RATELIMIT_INIT(1000, 10);                           \
		uint64_t sup__;                                                                    \
		if (ratelimit_ok(&rl__, &sup__)) {                                                 \
			if (sup__)                                                                 \
				log_msg(level, "(%llu similar messages suppressed)",               \
					(unsigned long long)sup__);                                \
			log_msg(level, __VA_ARGS__);                                               \
		}                                                                                  \
	} while (0)

/* Monotonic milliseconds / nanoseconds. */
uint64_t clock_ms(void);
uint64_t clock_ns(void);

#endif
