/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * 16550A UART (COM1 at 0x3F8, IRQ 4). The chip model is offset-relative (8 registers); bytes the guest
 * transmits go to a backend, bytes from the backend fill the receive FIFO. Backends:
 *   stdio           stdout / stdin (stdin only when it is a terminal or a pipe)
 *   file:PATH       output appended to PATH, no input
 *   pty             a pseudo-terminal; its path is logged and available through serial_describe()
 *   unix:PATH       a listening UNIX socket; one client at a time gets output and can type input
 *   none            discard
 * The transmitter is always ready (THRE/TEMT set): output is written immediately, so a guest polling
 * LSR never waits. Input is polled by an I/O thread owned by the VM's event loop.
 */
#ifndef NFV_VMM_SERIAL_H
#define NFV_VMM_SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "evloop.h"
#include "irq.h"

#define SERIAL_COM1_BASE 0x3F8
#define SERIAL_COM1_IRQ 4

struct serial;

/* Parse the --serial spec and open the backend. */
int serial_create(const char *spec, const struct irq_line *irq, struct serial **out)
	__attribute__((warn_unused_result));
void serial_destroy(struct serial *s);

/* Register the backend's input fds with @loop. */
int serial_attach_loop(struct serial *s, struct evloop *loop) __attribute__((warn_unused_result));

extern const struct bus_ops serial_bus_ops;

/* "pty:/dev/pts/3", "unix:/run/x.sock", ... */
const char *serial_describe(const struct serial *s);
/* Time (clock_ns) of the first byte the guest sent, or 0. */
uint64_t serial_first_byte_ns(const struct serial *s);
uint64_t serial_tx_bytes(const struct serial *s);

/* Chip-only helpers for unit tests: feed input bytes. */
void serial_push_input(struct serial *s, const uint8_t *buf, unsigned len);

#endif
