// SPDX-License-Identifier: GPL-2.0-only
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_fini(struct bus *bus)
{
	if (!bus)
		return;
	free(bus->w);
	bus->w = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first window with base > addr (binary search); caller holds the lock. */
static unsigned bus_upper(const struct bus *bus, uint64_t addr)
{
	unsigned lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (bus->w[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Window that contains [addr, addr+size) entirely, or NULL; caller holds the lock. */
static struct bus_window *bus_find(struct bus *bus, uint64_t addr, uint64_t size)
{
	unsigned i = bus_upper(bus, addr);
	struct bus_window *w;

	if (i == 0)
		return NULL;
	w = &bus->w[i - 1];
	if (addr - w->base < w->len && size <= w->len - (addr - w->base))
		return w;
	return NULL;
}

static int bus_check_free(struct bus *bus, uint64_t base, uint64_t len, const struct bus_window *skip)
{
	for (unsigned i = 0; i < bus->nr; i++) {
		if (&bus->w[i] == skip)
			continue;
		if (range_overlaps(base, len, bus->w[i].base, bus->w[i].len)) {
			log_rl(LOGL_WARN, "%s bus: window 0x%llx+0x%llx overlaps '%s' at 0x%llx+0x%llx",
			       bus->name, (unsigned long long)base, (unsigned long long)len,
			       bus->w[i].name, (unsigned long long)bus->w[i].base,
			       (unsigned long long)bus->w[i].len);
			return -EEXIST;
		}
	}
	return 0;
}

static void bus_insert_sorted(struct bus *bus, const struct bus_window *nw)
{
	unsigned i = bus_upper(bus, nw->base);

	memmove(&bus->w[i + 1], &bus->w[i], (bus->nr - i) * sizeof(bus->w[0]));
	bus->w[i] = *nw;
	bus->nr++;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, const struct bus_ops *ops,
		 void *opaque, const char *name)
{
	struct bus_window nw = { .base = base, .len = len, .ops = ops, .opaque = opaque };
	int ret;

	if (len == 0 || base + len < base || base + len == 0 || !ops || !ops->read || !ops->write)
		return -EINVAL;
	snprintf(nw.name, sizeof(nw.name), "%s", name ? name : "?");
	pthread_rwlock_wrlock(&bus->lock);
	ret = bus_check_free(bus, base, len, NULL);
	if (ret)
		goto out;
	if (bus->nr == bus->cap) {
		unsigned ncap = bus->cap ? bus->cap * 2 : 16;
		struct bus_window *nwins = realloc(bus->w, ncap * sizeof(*nwins));

		if (!nwins) {
			ret = -ENOMEM;
			goto out;
		}
		bus->w = nwins;
		bus->cap = ncap;
	}
	bus_insert_sorted(bus, &nw);
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static int bus_index_of(struct bus *bus, uint64_t base, void *opaque)
{
	for (unsigned i = 0; i < bus->nr; i++)
		if (bus->w[i].base == base && bus->w[i].opaque == opaque)
			return (int)i;
	return -1;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	int i, ret = 0;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_index_of(bus, base, opaque);
	if (i < 0) {
		ret = -ENOENT;
	} else {
		memmove(&bus->w[i], &bus->w[i + 1], (bus->nr - (unsigned)i - 1) * sizeof(bus->w[0]));
		bus->nr--;
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_move(struct bus *bus, uint64_t old_base, void *opaque, uint64_t new_base)
{
	struct bus_window moved;
	int i, ret = 0;

	pthread_rwlock_wrlock(&bus->lock);
	i = bus_index_of(bus, old_base, opaque);
	if (i < 0) {
		ret = -ENOENT;
		goto out;
	}
	moved = bus->w[i];
	if (new_base + moved.len < new_base || new_base + moved.len == 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = bus_check_free(bus, new_base, moved.len, &bus->w[i]);
	if (ret)
		goto out;
	memmove(&bus->w[i], &bus->w[i + 1], (bus->nr - (unsigned)i - 1) * sizeof(bus->w[0]));
	bus->nr--;
	moved.base = new_base;
	bus_insert_sorted(bus, &moved);
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/*
 * Dispatch copies the window under the read lock and calls the device without it: a device callback
 * may itself move windows (a PCI config write that places an I/O BAR on this same bus). Devices are
 * only destroyed after every vCPU has stopped, so the copied opaque stays valid.
 */
static bool bus_claim(struct bus *bus, uint64_t addr, unsigned size, struct bus_window *out)
{
	struct bus_window *w;

	pthread_rwlock_rdlock(&bus->lock);
	w = bus_find(bus, addr, size);
	if (w)
		*out = *w;
	pthread_rwlock_unlock(&bus->lock);
	return w != NULL;
}

bool bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	struct bus_window w;

	if (bus_claim(bus, addr, size, &w)) {
		*value = w.ops->read(w.opaque, addr - w.base, size) & mask;
		return true;
	}
	*value = mask;
	__atomic_add_fetch(&bus->unclaimed_reads, 1, __ATOMIC_RELAXED);
	log_rl(LOGL_DEBUG, "%s bus: unclaimed read of %u bytes at 0x%llx", bus->name, size,
	       (unsigned long long)addr);
	return false;
}

bool bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t value)
{
	uint64_t mask = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
	struct bus_window w;

	if (bus_claim(bus, addr, size, &w)) {
		w.ops->write(w.opaque, addr - w.base, size, value & mask);
		return true;
	}
	__atomic_add_fetch(&bus->unclaimed_writes, 1, __ATOMIC_RELAXED);
	log_rl(LOGL_DEBUG, "%s bus: unclaimed write of %u bytes at 0x%llx = 0x%llx", bus->name, size,
	       (unsigned long long)addr, (unsigned long long)value);
	return false;
}

bool bus_lookup(struct bus *bus, uint64_t addr, struct bus_window *out)
{
	struct bus_window w;

	if (!bus_claim(bus, addr, 1, &w))
		return false;
	if (out)
		*out = w;
	return true;
}
