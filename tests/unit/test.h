/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit-test check macros: the one set every C test program uses. Header-only; each program that
 * includes it gets its own failure counter (a test is one program, so `static` is enough).
 *
 * A failed check records the failure and the test keeps going, so one run reports every failed
 * check. Each failure is one line on stderr that starts with "file:line: " (greppable, and editors
 * jump to it), then "[name] " while test_current is set:
 *
 *   CHECK(cond)                 file:line: check failed: cond
 *   CHECK_MSG(cond, fmt, ...)   file:line: check failed: cond: <fmt, ...>
 *   CHECK_EQ(a, b)              file:line: check failed: a == b: 0x<a> != 0x<b>
 *   TEST_FAIL(fmt, ...)         file:line: <fmt, ...>     (unconditional; for hand-written checks)
 *
 * CHECK_MSG's message is printf-style and format-checked; use it to say which case, value or input
 * file failed when the condition text alone does not. CHECK_EQ evaluates each side once and
 * compares both converted to uint64_t (signed values sign-extended): integers of any type, enums,
 * bools and pointers; -1 equals (uint64_t)-1 but not (uint32_t)-1.
 *
 * Failures may be recorded from several threads at once: the counter is updated atomically and
 * each line is written whole. Read test_failures only once those threads are joined, e.g. to tell
 * whether one test case failed (compare with its value before the case).
 *
 * TEST_DONE(name) ends main(): prints "name: ok (0 failures)" or "name: FAIL (N failures)" on
 * stdout and returns 0 or 1 from the calling function.
 *
 * Test programs under tests/ include it as "../unit/test.h"; those in module directories as
 * "test.h", with `include_directories: test_inc` (top-level meson.build) on their executable().
 */
#ifndef NFV_TEST_UNIT_H
#define NFV_TEST_UNIT_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>

/* Number of failed checks so far in this program. */
static int test_failures;
/* Name of the test case running now, or NULL; printed in every failure line while set. */
static const char *test_current;

/*
 * Record one failure at file:line: prints "file:line: [test_current] ", then "check failed: cond"
 * when cond is not NULL, then (": " after cond) the message when fmt is not NULL.
 */
static inline __attribute__((format(printf, 4, 5), unused)) void
test_fail_at(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	/* One whole line per failure even when threads fail at the same time. */
	flockfile(stderr);
	fprintf(stderr, "%s:%d: ", file, line);
	if (test_current)
		fprintf(stderr, "[%s] ", test_current);
	if (cond)
		fprintf(stderr, "check failed: %s%s", cond, fmt ? ": " : "");
	if (fmt) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
	__atomic_add_fetch(&test_failures, 1, __ATOMIC_RELAXED);
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail_at(__FILE__, __LINE__, #cond, NULL);                             \
	} while (0)
#define CHECK_MSG(cond, ...)                                                                       \
	do {                                                                                       \
		if (!(cond))                                                                       \
			test_fail_at(__FILE__, __LINE__, #cond, __VA_ARGS__);                      \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t a__ = (uint64_t)(a), b__ = (uint64_t)(b);                                 \
		if (a__ != b__)                                                                    \
			test_fail_at(__FILE__, __LINE__, #a " == " #b,                             \
				     "0x%" PRIx64 " != 0x%" PRIx64, a__, b__);                     \
	} while (0)
#define TEST_FAIL(...) test_fail_at(__FILE__, __LINE__, NULL, __VA_ARGS__)
#define TEST_DONE(name)                                                                            \
	do {                                                                                       \
		printf("%s: %s (%d failures)\n", name, test_failures ? "FAIL" : "ok",              \
		       test_failures);                                                             \
		return test_failures ? 1 : 0;                                                      \
	} while (0)

/*
 * Tests that run something in a forked child (filters, privilege drops) and judge how it ended.
 * test_wait() reaps @pid and returns its wait status, or -1 when @pid is not a child (fork
 * failed); the predicates are false for -1.
 */
static inline int test_wait(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return st;
}

/* Ended by signal @sig (e.g. SIGSYS from a seccomp filter). */
static inline bool test_killed_by(int st, int sig)
{
	return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

/* Exited with status 0. */
static inline bool test_exited_ok(int st)
{
	return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

#endif
