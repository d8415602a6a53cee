// SPDX-License-Identifier: GPL-2.0-only
#include "legacy.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_B_24H 0x02
#define RTC_B_BINARY 0x04
#define RTC_CENTURY 0x32

struct legacy {
	struct bus *pio;
	struct legacy_ops ops;
	pthread_mutex_t lock;
	uint8_t cmos_index;
	uint8_t cmos[128];
};

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_time_reg(struct legacy *lg, uint8_t idx)
{
	time_t now = time(NULL);
	struct tm tm;
	bool bin = lg->cmos[RTC_REG_B] & RTC_B_BINARY;
	unsigned v;

	gmtime_r(&now, &tm);
	switch (idx) {
	case 0x00: v = (unsigned)tm.tm_sec; break;
	case 0x02: v = (unsigned)tm.tm_min; break;
	case 0x04: v = (unsigned)tm.tm_hour; break;
	case 0x06: v = (unsigned)tm.tm_wday + 1; break;
	case 0x07: v = (unsigned)tm.tm_mday; break;
	case 0x08: v = (unsigned)tm.tm_mon + 1; break;
	case 0x09: v = (unsigned)tm.tm_year % 100; break;
	case RTC_CENTURY: v = (unsigned)(tm.tm_year + 1900) / 100; break;
	default: return lg->cmos[idx];
	}
	return bin ? (uint8_t)v : to_bcd(v);
}

uint8_t legacy_cmos_read(struct legacy *lg, uint8_t index)
{
	uint8_t idx = index & 0x7f, v;

	switch (idx) {
	case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09: case RTC_CENTURY:
		return rtc_time_reg(lg, idx);
	case RTC_REG_A:
		return lg->cmos[RTC_REG_A] & 0x7f; /* UIP never set: reads are always consistent */
	case RTC_REG_C:
		v = lg->cmos[RTC_REG_C];
		lg->cmos[RTC_REG_C] = 0; /* read to clear */
		return v;
	case RTC_REG_D:
		return 0x80; /* valid RAM and time */
	default:
		return lg->cmos[idx];
	}
}

static uint64_t cmos_read(void *opaque, uint64_t off, unsigned size)
{
	struct legacy *lg = opaque;
	uint8_t v;

	(void)size;
	pthread_mutex_lock(&lg->lock);
	v = off == 0 ? lg->cmos_index : legacy_cmos_read(lg, lg->cmos_index);
	pthread_mutex_unlock(&lg->lock);
	return v;
}

static void cmos_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct legacy *lg = opaque;
	uint8_t idx;

	(void)size;
	pthread_mutex_lock(&lg->lock);
	if (off == 0) {
		lg->cmos_index = (uint8_t)val & 0x7f; /* bit 7 is the NMI mask */
	} else {
		idx = lg->cmos_index;
		/* Setting the clock is accepted and ignored: guest time follows the host. */
		if (idx == RTC_REG_B)
			lg->cmos[idx] = (uint8_t)val | RTC_B_24H;
		else if (idx != RTC_REG_C && idx != RTC_REG_D && idx > 0x09 && idx != RTC_CENTURY)
			lg->cmos[idx] = (uint8_t)val;
	}
	pthread_mutex_unlock(&lg->lock);
}

static uint64_t i8042_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)size;
	/* Status (0x64): output buffer empty, input buffer empty, system flag set. Data (0x60): 0. */
	return off == 4 ? 0x04 : 0x00;
}

static void i8042_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct legacy *lg = opaque;

	(void)size;
	if (off == 4 && (val & 0xff) == 0xfe) {
		log_info("guest pulsed the reset line through the i8042");
		if (lg->ops.reset)
			lg->ops.reset(lg->ops.opaque);
	}
}

static uint64_t post_read(void *opaque, uint64_t off, unsigned size)
{
	(void)opaque;
	(void)off;
	(void)size;
	return 0xff;
}

static void post_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	(void)opaque;
	(void)off;
	(void)size;
	(void)val;
}

static const struct bus_ops cmos_ops = { .read = cmos_read, .write = cmos_write };
static const struct bus_ops i8042_ops = { .read = i8042_read, .write = i8042_write };
static const struct bus_ops post_ops = { .read = post_read, .write = post_write };

int legacy_create(struct bus *pio, const struct legacy_ops *ops, struct legacy **out)
{
	struct legacy *lg = calloc(1, sizeof(*lg));
	int ret;

	if (!lg)
		return -ENOMEM;
	lg->pio = pio;
	if (ops)
		lg->ops = *ops;
	pthread_mutex_init(&lg->lock, NULL);
	lg->cmos[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz periodic rate */
	lg->cmos[RTC_REG_B] = RTC_B_24H;
	ret = bus_register(pio, 0x70, 2, &cmos_ops, lg, "cmos-rtc");
	if (!ret)
		ret = bus_register(pio, 0x60, 5, &i8042_ops, lg, "i8042");
	if (!ret)
		ret = bus_register(pio, 0x80, 1, &post_ops, lg, "post");
	if (ret) {
		legacy_destroy(lg);
		return ret;
	}
	*out = lg;
	return 0;
}

void legacy_destroy(struct legacy *lg)
{
	if (!lg)
		return;
	/* Windows that were never registered are simply not found. */
	(void)!bus_unregister(lg->pio, 0x70, lg);
	(void)!bus_unregister(lg->pio, 0x60, lg);
	(void)!bus_unregister(lg->pio, 0x80, lg);
	pthread_mutex_destroy(&lg->lock);
	free(lg);
}
