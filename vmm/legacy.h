/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few PC legacy devices a Linux kernel probes besides the UART and the in-kernel PIC/IOAPIC/PIT:
 *   CMOS/RTC (MC146818) at 0x70/0x71: wall-clock time from the host, 24-hour BCD, never "update in
 *   progress", 128 bytes of CMOS RAM;
 *   i8042 at 0x60/0x64: only what `reboot` needs (command 0xFE pulses the reset line);
 *   port 0x80: POST-code / I/O-delay port, accepted silently (Linux writes it for I/O delays).
 */
#ifndef NFV_VMM_LEGACY_H
#define NFV_VMM_LEGACY_H

#include "bus.h"

struct legacy_ops {
	void (*reset)(void *opaque); /* the guest asked for a reset */
	void *opaque;
};

struct legacy;

int legacy_create(struct bus *pio, const struct legacy_ops *ops, struct legacy **out) __attribute__((warn_unused_result));
void legacy_destroy(struct legacy *lg);

/* CMOS register read as the guest would see it (for unit tests). */
uint8_t legacy_cmos_read(struct legacy *lg, uint8_t index);

#endif
