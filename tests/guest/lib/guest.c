// SPDX-License-Identifier: GPL-2.0-only
/* Freestanding guest library (see guest.h). No host headers beyond the compiler's own. */
#include "guest.h"

#define STACK_SIZE 16384u
#define COM1 0x3F8

extern uint8_t guest_stacks[], guest_user_stacks[];
extern const uint64_t guest_exc_table[22];
extern const uint64_t guest_irq_table[8];
volatile uint32_t guest_irq_count[GUEST_IRQ_VECTORS];
extern void guest_park(void) __attribute__((noreturn));

struct boot_info *guest_boot_info;
static volatile uint8_t guest_finished[GUEST_MAX_VCPUS];

/* ---- libc subset (the compiler may emit calls to these) ---- */
void *memset(void *s, int c, size_t n)
{
	uint8_t *p = s;

	while (n--)
		*p++ = (uint8_t)c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;

	if (dp < sp)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (uint8_t)*a - (uint8_t)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (uint8_t)a[i] - (uint8_t)b[i];
	}
	return 0;
}

const char *strstr(const char *h, const char *n)
{
	size_t ln = strlen(n);

	for (; *h; h++)
		if (!strncmp(h, n, ln))
			return h;
	return ln ? NULL : h;
}

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_num(struct fmt_out *o, uint64_t v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);

		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		fmt_putc(o, pad);
	while (n)
		fmt_putc(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { .buf = buf, .size = size };

	for (; *fmt; fmt++) {
		int width = 0, lng = 0;
		char pad = ' ';

		if (*fmt != '%') {
			fmt_putc(&o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			lng++, fmt++;
		if (*fmt == 'z')
			lng = 1, fmt++;
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			fmt_num(&o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			fmt_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10, false, width, pad);
			break;
		case 'x':
			fmt_num(&o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16, false, width, pad);
			break;
		case 'p':
			fmt_putc(&o, '0');
			fmt_putc(&o, 'x');
			fmt_num(&o, (uint64_t)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			for (s = s ? s : "(null)"; *s; s++)
				fmt_putc(&o, *s);
			break;
		}
		case 'c':
			fmt_putc(&o, (char)va_arg(ap, int));
			break;
		case '%':
			fmt_putc(&o, '%');
			break;
		default:
			fmt_putc(&o, '?');
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* ---- serial ---- */
void serial_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		cpu_relax();
	outb(COM1, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s++);
	}
}

void serial_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_puts(buf);
}

char serial_getc(void)
{
	while (!(inb(COM1 + 5) & 0x01))
		cpu_relax();
	return (char)inb(COM1);
}

/* ---- reports ---- */
/* The vCPU id follows from which stack we are on: kernel, user, or the TSS's RSP0 stack (traps from CPL3). */
unsigned guest_vcpu(void)
{
	uint64_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	if (sp > (uint64_t)guest_user_stacks)
		return (unsigned)((sp - (uint64_t)guest_user_stacks - 1) / STACK_SIZE);
	if (sp > (uint64_t)guest_stacks)
		return (unsigned)((sp - (uint64_t)guest_stacks - 1) / STACK_SIZE);
	if (sp > GUEST_RSP0_TOP(0) - 0x1000 && sp <= GUEST_RSP0_TOP(GUEST_MAX_VCPUS - 1))
		return (unsigned)((sp - (GUEST_RSP0_TOP(0) - 0x1000) - 1) / 0x1000);
	return 0;
}

void guest_ucall(uint32_t cmd, const char *file, uint32_t line, const char *msg, unsigned nargs, ...)
{
	struct guest_ucall uc = {
		.cmd = cmd,
		.vcpu = guest_vcpu(),
		.line = line,
		.nargs = nargs,
		.file = (uint64_t)file,
		.msg = (uint64_t)msg,
	};
	va_list ap;

	va_start(ap, nargs);
	for (unsigned i = 0; i < nargs && i < 4; i++)
		uc.args[i] = va_arg(ap, uint64_t);
	va_end(ap);
	/* The report lives on this vCPU's stack, identity-mapped below 4 GiB. */
	outl(GUEST_PORT_UCALL, (uint32_t)(uint64_t)&uc);
	if (cmd == UCALL_ASSERT) {
		for (;;)
			cpu_relax(); /* the VMM is ending the VM */
	}
}

void guest_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	guest_ucall(UCALL_PRINT, NULL, 0, buf, 0);
}

void guest_done(void)
{
	guest_ucall(UCALL_DONE, NULL, 0, NULL, 0);
	if (cpl() == 0) {
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	/*
	 * At CPL3, HLT raises #GP; the exception handler sees a finished vCPU and halts it at CPL0, so it
	 * stops using host CPU time. (Neither int $n nor SYSCALL would do: kvm_pvm delivers #UD for
	 * int $n from user mode and does not enter CPL0 on SYSCALL without its own MSRs.)
	 */
	guest_finished[guest_vcpu() % GUEST_MAX_VCPUS] = 1;
	__asm__ volatile("hlt" ::: "memory");
	for (;;)
		cpu_relax();
}

/* ---- IDT and privilege ---- */
struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, attr;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_entry guest_idt[256] __attribute__((aligned(16)));

static void idt_set(unsigned vec, uint64_t handler, unsigned dpl)
{
	guest_idt[vec] = (struct idt_entry){
		.off_lo = (uint16_t)handler,
		.sel = GUEST_SEL_KCODE,
		.attr = (uint8_t)(0x8E | (dpl << 5)), /* present 64-bit interrupt gate */
		.off_mid = (uint16_t)(handler >> 16),
		.off_hi = (uint32_t)(handler >> 32),
	};
}

void guest_idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(guest_idt) - 1, (uint64_t)guest_idt };

	for (unsigned v = 0; v < 22; v++)
		idt_set(v, guest_exc_table[v], 0);
	for (unsigned v = 0; v < GUEST_IRQ_VECTORS; v++)
		idt_set(GUEST_IRQ_BASE + v, guest_irq_table[v], 0);
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

struct exc_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

/* A trap from CPL3 lands on the vCPU's RSP0 stack; the user stack pointer in the frame tells which. */
static unsigned guest_vcpu_of_frame(const struct exc_frame *f)
{
	if (f->rsp > (uint64_t)guest_user_stacks)
		return (unsigned)((f->rsp - (uint64_t)guest_user_stacks - 1) / STACK_SIZE);
	return guest_vcpu();
}

volatile int guest_expect_ud;
volatile uint64_t guest_ud_resume;

/* Returns 1 to resume the interrupted code (frame possibly changed), 0 to halt after reporting. */
int guest_exception(struct exc_frame *f);
int guest_exception(struct exc_frame *f)
{
	uint64_t cr2;

	/* A test that expects #UD sets guest_expect_ud = 1 and guest_ud_resume = where to continue. */
	if (f->vector == 6 && guest_expect_ud == 1 && guest_ud_resume) {
		guest_expect_ud = 2;
		f->rip = guest_ud_resume;
		guest_ud_resume = 0;
		return 1;
	}

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	if (f->vector == 13 && (f->cs & 3) && *(const uint8_t *)f->rip == 0xf4 &&
	    guest_finished[guest_vcpu_of_frame(f) % GUEST_MAX_VCPUS])
		guest_park();
	guest_ucall(UCALL_ASSERT, "exception", (uint32_t)f->vector, "unexpected exception (vector, error, rip, cr2)",
		    4, f->vector, f->error, f->rip, cr2);
	return 0;
}

void guest_irq(uint64_t vector);
void guest_irq(uint64_t vector)
{
	__atomic_add_fetch(&guest_irq_count[(vector - GUEST_IRQ_BASE) % GUEST_IRQ_VECTORS], 1, __ATOMIC_SEQ_CST);
	mmio_write32(GUEST_LAPIC_BASE + 0xB0, 0); /* EOI */
}

void guest_lapic_enable(void)
{
	/* Spurious-interrupt vector register: APIC software enable, spurious vector 0xFF. */
	mmio_write32(GUEST_LAPIC_BASE + 0xF0, 0x1FF);
}

void guest_enter_user(void (*fn)(void))
{
	uint64_t usp = (uint64_t)guest_user_stacks + (guest_vcpu() + 1) * (uint64_t)STACK_SIZE;

	__asm__ volatile("pushq %[ss]\n\t"
			 "pushq %[sp]\n\t"
			 "pushq %[fl]\n\t"
			 "pushq %[cs]\n\t"
			 "pushq %[ip]\n\t"
			 "iretq"
			 :
			 : [ss] "r"((uint64_t)(GUEST_SEL_UDATA | 3)), [sp] "r"(usp), [fl] "r"((uint64_t)0x3202),
			   [cs] "r"((uint64_t)(GUEST_SEL_UCODE | 3)), [ip] "r"((uint64_t)fn)
			 : "memory");
	__builtin_unreachable();
}

void guest_start(unsigned vcpu, unsigned nr, struct boot_info *bi);
void guest_start(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	guest_boot_info = bi;
	guest_idt_init();
	guest_main(vcpu, nr, bi);
	guest_done();
}
