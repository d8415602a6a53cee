/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal unit-test helpers: CHECK() records a failure with file and line and keeps going. */
#ifndef NFV_TEST_UNIT_H
#define NFV_TEST_UNIT_H

#include <inttypes.h>
#include <stdio.h>

static int test_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);  \
			test_failures++;                                                           \
		}                                                                                  \
	} while (0)
#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		uint64_t a__ = (uint64_t)(a), b__ = (uint64_t)(b);                                 \
		if (a__ != b__) {                                                                  \
			fprintf(stderr, "%s:%d: %s == %s: 0x%" PRIx64 " != 0x%" PRIx64 "\n", __FILE__, \
				__LINE__, #a, #b, a__, b__);                                       \
			test_failures++;                                                           \
		}                                                                                  \
	} while (0)
#define TEST_DONE(name)                                                                            \
	do {                                                                                       \
		printf("%s: %s (%d failures)\n", name, test_failures ? "FAIL" : "ok", test_failures); \
		return test_failures ? 1 : 0;                                                      \
	} while (0)

#endif
