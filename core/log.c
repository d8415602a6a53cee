// SPDX-License-Identifier: GPL-2.0-only
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "nfv";
static int log_level_cur = LOGL_INFO;
static FILE *log_stream;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_level_names[] = {
	[LOGL_ERR] = "err",
	[LOGL_WARN] = "warn",
	[LOGL_INFO] = "info",
	[LOGL_DEBUG] = "debug",
};

void log_set_ident(const char *ident)
{
	log_ident = ident ? ident : "nfv";
}

void log_set_level(enum log_level level)
{
	__atomic_store_n(&log_level_cur, (int)level, __ATOMIC_RELAXED);
}

enum log_level log_get_level(void)
{
	return (enum log_level)__atomic_load_n(&log_level_cur, __ATOMIC_RELAXED);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(log_level_names) / sizeof(log_level_names[0]); i++) {
		if (s && strcmp(s, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_stream(FILE *f)
{
	pthread_mutex_lock(&log_lock);
	log_stream = f;
	pthread_mutex_unlock(&log_lock);
}

uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t clock_ms(void)
{
	return clock_ns() / 1000000ull;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];
	int saved = errno;

	if ((int)level > __atomic_load_n(&log_level_cur, __ATOMIC_RELAXED))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);

	pthread_mutex_lock(&log_lock);
	FILE *out = log_stream ? log_stream : stderr;
	fprintf(out, "%s.%03ld %s[%d] %s: ", stamp, ts.tv_nsec / 1000000, log_ident, (int)getpid(),
		log_level_names[level]);
	if (fmt) /* never NULL; the test keeps gcc 12 -fsanitize builds free of -Wformat-overflow */
		vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool ratelimit_ok(struct ratelimit *rl, uint64_t *suppressed_out)
{
	uint64_t now = clock_ms();
	uint64_t start = __atomic_load_n(&rl->window_start_ms, __ATOMIC_RELAXED);

	if (suppressed_out)
		*suppressed_out = 0;
	if (now - start >= rl->interval_ms || start == 0) {
		/* One thread opens the new window; the others just count against it. */
		if (__atomic_compare_exchange_n(&rl->window_start_ms, &start, now ? now : 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
			__atomic_store_n(&rl->printed, 0, __ATOMIC_RELAXED);
			uint64_t sup = __atomic_exchange_n(&rl->suppressed, 0, __ATOMIC_RELAXED);
			if (suppressed_out)
				*suppressed_out = sup;
		}
	}
	if (__atomic_add_fetch(&rl->printed, 1, __ATOMIC_RELAXED) <= rl->burst)
		return true;
	__atomic_add_fetch(&rl->suppressed, 1, __ATOMIC_RELAXED);
	return false;
}
