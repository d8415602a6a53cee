/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test/exit device for freestanding guests (guest_abi.h): an exit port (the written value becomes the
 * VMM's exit status) and a report port that takes the GPA of a struct guest_ucall (print, assertion
 * failure with file/line/values, per-vCPU done, sync stage). Everything in a report is guest data:
 * strings are read with a length bound and printed escaped.
 */
#ifndef NFV_VMM_TESTDEV_H
#define NFV_VMM_TESTDEV_H

#include <stdint.h>

#include "bus.h"
#include "gmem.h"

struct testdev_ops {
	/* The guest ended the VM with @status (0 = success). */
	void (*end)(void *opaque, int status);
	void *opaque;
};

struct testdev;

int testdev_create(struct gmem *gm, unsigned nr_vcpus, const struct testdev_ops *ops,
		   struct testdev **out) __attribute__((warn_unused_result));
void testdev_destroy(struct testdev *t);
/* Register both ports on @pio. */
int testdev_register(struct testdev *t, struct bus *pio) __attribute__((warn_unused_result));

uint64_t testdev_bad_reports(const struct testdev *t);
/* Last UCALL_SYNC stage reported by any vCPU. */
uint64_t testdev_last_sync(const struct testdev *t);

#endif
