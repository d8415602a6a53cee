/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freestanding guest library: what a test guest needs to report results and drive hardware.
 *
 * A guest program defines guest_main(), entered on every vCPU at CPL0 in 64-bit mode with the
 * identity map nfv-vmm builds (vmm/guest_abi.h). Because CPL0 code is slow on some hosts (emulated),
 * guests do their set-up quickly and call guest_enter_user() to continue at CPL3 with IOPL=3, where
 * port I/O still works and the code runs natively.
 *
 * Reporting (like the Linux KVM selftests' ucalls): GUEST_ASSERT*, GUEST_PRINTF, GUEST_SYNC and
 * GUEST_DONE write the address of a report to the test port; nfv-vmm prints it and ends the VM (exit
 * status 1 on an assertion, 0 once every vCPU is done).
 */
#ifndef NFV_GUEST_H
#define NFV_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_abi.h"

/* Defined by each guest program. */
void guest_main(unsigned vcpu, unsigned nr_vcpus, struct boot_info *bi);

extern struct boot_info *guest_boot_info;

/* ---- port and MMIO access ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void insw(uint16_t port, void *buf, unsigned long count)
{
	__asm__ volatile("rep insw" : "+D"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline void outsw(uint16_t port, const void *buf, unsigned long count)
{
	__asm__ volatile("rep outsw" : "+S"(buf), "+c"(count) : "d"(port) : "memory");
}
static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline unsigned cpl(void)
{
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

/* ---- libc subset ---- */
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- serial (COM1, polled) ---- */
void serial_putc(char c);
void serial_puts(const char *s);
void serial_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wait for one byte from the host side of the serial line. */
char serial_getc(void);

/* ---- reports ---- */
unsigned guest_vcpu(void);
void guest_ucall(uint32_t cmd, const char *file, uint32_t line, const char *msg, unsigned nargs, ...);
void guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void guest_done(void);

#define GUEST_PRINTF(...) guest_printf(__VA_ARGS__)
#define GUEST_SYNC(stage) guest_ucall(UCALL_SYNC, __FILE__, __LINE__, NULL, 1, (uint64_t)(stage))
#define GUEST_DONE() guest_done()
#define GUEST_ASSERT(cond)                                                                         \
	do {                                                                                       \
		if (!(cond))                                                                       \
			guest_ucall(UCALL_ASSERT, __FILE__, __LINE__, #cond, 0);                   \
	} while (0)
#define GUEST_ASSERT_EQ(a, b)                                                                      \
	do {                                                                                       \
		uint64_t a__ = (uint64_t)(a), b__ = (uint64_t)(b);                                 \
		if (a__ != b__)                                                                    \
			guest_ucall(UCALL_ASSERT, __FILE__, __LINE__, #a " == " #b, 2, a__, b__);  \
	} while (0)
#define GUEST_FAIL(msg) guest_ucall(UCALL_ASSERT, __FILE__, __LINE__, msg, 0)

/* A test that expects the next instruction to raise #UD sets guest_expect_ud = 1 and guest_ud_resume to
 * the address to continue at; the handler sets guest_expect_ud = 2 and resumes there. */
extern volatile int guest_expect_ud;
extern volatile uint64_t guest_ud_resume;

/* ---- interrupts ---- */
#define GUEST_LAPIC_BASE 0xFEE00000ull
#define GUEST_IRQ_BASE 0x40 /* vectors 0x40..0x47 count into guest_irq_count[] and EOI the LAPIC */
#define GUEST_IRQ_VECTORS 8
extern volatile uint32_t guest_irq_count[GUEST_IRQ_VECTORS];
/* Software-enable this vCPU's local APIC (call at CPL0 or CPL3). */
void guest_lapic_enable(void);

/* ---- privilege ---- */
/* Install an IDT whose exception vectors report "unexpected exception N" through the test port. */
void guest_idt_init(void);
/* Continue @fn at CPL3 with IOPL=3 and interrupts enabled on this vCPU's user stack; @fn must not
 * return (GUEST_DONE). */
__attribute__((noreturn)) void guest_enter_user(void (*fn)(void));

/* ---- atomics ---- */
static inline uint32_t atomic_inc(volatile uint32_t *p)
{
	return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

#endif
