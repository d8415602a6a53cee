/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * I/O bus: port I/O or MMIO address space shared by the devices of one VM.
 *
 * A device registers a window [base, base+len) with read/write callbacks that receive only the
 * offset inside that window, never the absolute address, a kvm_run or a vCPU. Overlapping windows
 * are refused. Accesses that no window claims entirely are "unclaimed": reads return all-ones, writes
 * are dropped, both are counted and logged rate-limited. Windows can move (PCI BAR placement)
 * while vCPUs dispatch; a read-write lock keeps that consistent.
 */
#ifndef NFV_CORE_BUS_H
#define NFV_CORE_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_ops {
	/* size is 1, 2, 4 or 8; return the value read (low @size bytes used). */
	uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
	void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
};

struct bus_window {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	char name[32];
};

struct bus {
	const char *name; /* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_window *w; /* sorted by base */
	unsigned nr, cap;
	uint64_t unclaimed_reads;  /* atomic */
	uint64_t unclaimed_writes; /* atomic */
};

int bus_init(struct bus *bus, const char *name) __attribute__((warn_unused_result));
void bus_fini(struct bus *bus);

/*
 * Register a window. Returns 0, -EINVAL (len 0, base+len wraps, no ops), -EEXIST (overlaps an
 * existing window; the message names both) or -ENOMEM.
 */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name) __attribute__((warn_unused_result));
/* Remove the window that starts at @base and belongs to @opaque; -ENOENT if none. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque) __attribute__((warn_unused_result));
/* Move the window at @old_base owned by @opaque to @new_base; -EEXIST (unchanged) on overlap. */
int bus_move(struct bus *bus, uint64_t old_base, void *opaque, uint64_t new_base)
	__attribute__((warn_unused_result));

/*
 * Dispatch one access of @size bytes (1, 2, 4, 8). Returns true when a window claimed it.
 * Unclaimed reads set *value to all-ones.
 */
bool bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *value);
bool bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t value);

/* Look up the window holding @addr (for diagnostics); copies it into *out. */
bool bus_lookup(struct bus *bus, uint64_t addr, struct bus_window *out);

#endif
