/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by every module: sizes, containers, cleanup attributes, number parsing. */
#ifndef NFV_CORE_UTIL_H
#define NFV_CORE_UTIL_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define KiB (1024ull)
#define MiB (1024ull * 1024)
#define GiB (1024ull * 1024 * 1024)
#define __must_check __attribute__((warn_unused_result))
#define __unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

static inline void cleanup_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
static inline void cleanup_freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))

/* True when [a, a+alen) and [b, b+blen) overlap; lengths are non-zero and do not wrap. */
static inline bool range_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Parse a size such as "64M", "2G", "4096", "1T" (binary units, optional trailing "iB"/"B").
 * Returns 0 or -EINVAL (bad syntax) / -ERANGE (overflow).
 */
int parse_size(const char *s, uint64_t *out) __must_check;
/* Parse a decimal/hex/octal unsigned integer that must fill the whole string. */
int parse_u64(const char *s, uint64_t *out) __must_check;
/* Parse a CPU list "0-3,6,8-9" into a bitmask of up to 1024 CPUs (array of 16 u64). */
int parse_cpulist(const char *s, uint64_t mask[16]) __must_check;
/* Bitmask of @words 64-bit words (CPU n = bit n % 64 of word n / 64) as a cpu_set_t. */
void cpumask_to_cpuset(const uint64_t *mask, unsigned words, cpu_set_t *set);
/* parse_cpulist() straight into a cpu_set_t; same return values. */
int parse_cpuset(const char *s, cpu_set_t *set) __must_check;

#endif
