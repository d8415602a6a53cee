// SPDX-License-Identifier: GPL-2.0-only
#include "testdev.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest_abi.h"
#include "log.h"
#include "util.h"

#define TESTDEV_STR_MAX 512

struct testdev {
	struct gmem *gm;
	unsigned nr_vcpus;
	struct testdev_ops ops;
	pthread_mutex_t lock;
	uint64_t done_mask;
	bool ended;
	uint64_t bad_reports;
	uint64_t last_sync;
};

/* Copy a guest string (bounded, escaped) into @out. */
static void testdev_str(struct testdev *t, uint64_t gpa, char *out, size_t outlen)
{
	size_t o = 0;

	if (!gpa) {
		snprintf(out, outlen, "?");
		return;
	}
	for (size_t i = 0; i < TESTDEV_STR_MAX && o + 5 < outlen; i++) {
		uint8_t c;

		if (gmem_read(t->gm, gpa + i, &c, 1)) {
			out[o++] = '?';
			break;
		}
		if (!c)
			break;
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	out[o] = '\0';
}

static void testdev_end(struct testdev *t, int status)
{
	if (t->ended)
		return;
	t->ended = true;
	t->ops.end(t->ops.opaque, status);
}

static void testdev_ucall(struct testdev *t, uint64_t gpa)
{
	struct guest_ucall uc;
	char file[128], msg[TESTDEV_STR_MAX];

	if (gmem_read(t->gm, gpa, &uc, sizeof(uc))) {
		t->bad_reports++;
		log_rl(LOGL_WARN, "test device: report at GPA 0x%llx is outside guest RAM",
		       (unsigned long long)gpa);
		return;
	}
	switch (uc.cmd) {
	case UCALL_PRINT:
		testdev_str(t, uc.msg, msg, sizeof(msg));
		log_info("guest vCPU %u: %s", uc.vcpu, msg);
		break;
	case UCALL_ASSERT: {
		char vals[160] = "";
		size_t o = 0;

		testdev_str(t, uc.file, file, sizeof(file));
		testdev_str(t, uc.msg, msg, sizeof(msg));
		for (uint32_t i = 0; i < uc.nargs && i < 4; i++)
			o += (size_t)snprintf(vals + o, sizeof(vals) - o, "%s0x%llx (%lld)", i ? ", " : " values: ",
					      (unsigned long long)uc.args[i], (long long)uc.args[i]);
		log_err("guest vCPU %u: assertion failed at %s:%u: %s%s", uc.vcpu, file, uc.line, msg, vals);
		testdev_end(t, 1);
		break;
	}
	case UCALL_DONE:
		if (uc.vcpu >= t->nr_vcpus) {
			t->bad_reports++;
			log_rl(LOGL_WARN, "test device: DONE from vCPU %u, VM has %u", uc.vcpu, t->nr_vcpus);
			break;
		}
		log_info("guest vCPU %u: done", uc.vcpu);
		t->done_mask |= 1ull << uc.vcpu;
		if (t->done_mask == (t->nr_vcpus >= 64 ? ~0ull : (1ull << t->nr_vcpus) - 1))
			testdev_end(t, 0);
		break;
	case UCALL_SYNC:
		t->last_sync = uc.args[0];
		log_info("guest vCPU %u: sync %llu", uc.vcpu, (unsigned long long)uc.args[0]);
		break;
	default:
		t->bad_reports++;
		log_rl(LOGL_WARN, "test device: unknown report command %u", uc.cmd);
		break;
	}
}

static uint64_t testdev_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0;
}

static void testdev_exit_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct testdev *t = opaque;

	(void)size;
	if (off != 0)
		return;
	pthread_mutex_lock(&t->lock);
	log_info("guest wrote %llu to the exit port", (unsigned long long)value);
	testdev_end(t, (int)(value & 0xFF));
	pthread_mutex_unlock(&t->lock);
}

static void testdev_ucall_write(void *opaque, uint64_t off, unsigned size, uint64_t value)
{
	struct testdev *t = opaque;

	if (off != 0 || size != 4) {
		t->bad_reports++;
		log_rl(LOGL_WARN, "test device: %u-byte write at report port +%llu ignored", size,
		       (unsigned long long)off);
		return;
	}
	pthread_mutex_lock(&t->lock);
	testdev_ucall(t, value);
	pthread_mutex_unlock(&t->lock);
}

static const struct bus_ops testdev_exit_ops = { .read = testdev_read, .write = testdev_exit_write };
static const struct bus_ops testdev_ucall_ops = { .read = testdev_read, .write = testdev_ucall_write };

int testdev_create(struct gmem *gm, unsigned nr_vcpus, const struct testdev_ops *ops, struct testdev **out)
{
	struct testdev *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->gm = gm;
	t->nr_vcpus = nr_vcpus;
	t->ops = *ops;
	pthread_mutex_init(&t->lock, NULL);
	*out = t;
	return 0;
}

void testdev_destroy(struct testdev *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

int testdev_register(struct testdev *t, struct bus *pio)
{
	int ret = bus_register(pio, GUEST_PORT_EXIT, 4, &testdev_exit_ops, t, "test-exit");

	if (ret)
		return ret;
	ret = bus_register(pio, GUEST_PORT_UCALL, 4, &testdev_ucall_ops, t, "test-report");
	if (ret)
		if (bus_unregister(pio, GUEST_PORT_EXIT, t))
			log_warn("test device: cannot unregister the exit port");
	return ret;
}

uint64_t testdev_bad_reports(const struct testdev *t)
{
	return t->bad_reports;
}

uint64_t testdev_last_sync(const struct testdev *t)
{
	return t->last_sync;
}
