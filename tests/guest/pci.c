// SPDX-License-Identifier: GPL-2.0-only
/*
 * PCI from the guest's side: enumerate bus 0 through CF8/CFC, find the test device, read its BARs as
 * the VMM placed them, size BAR0 (all-ones write), move it (old address unclaimed, new one decodes),
 * use the 64-bit BAR above RAM and the I/O BAR, walk the capability list to MSI-X, and receive MSI-X
 * interrupts: one the device raises (FIRE register), one the host raises through the eventfd bound
 * as irqfd (control socket "irq-fire"), and one held pending while the vector is masked and delivered
 * on unmask.
 */
#ifdef GUEST
#include "guest.h"

#define TD_SLOT 3
#define NEW_BAR0 0xD0000000u

static uint32_t cfg_read32(unsigned slot, unsigned off)
{
	outl(0xCF8, 0x80000000u | (slot << 11) | (off & 0xFC));
	return inl(0xCFC);
}

static void cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xCF8, 0x80000000u | (slot << 11) | (off & 0xFC));
	outl(0xCFC, v);
}

static uint16_t cfg_read16(unsigned slot, unsigned off)
{
	outl(0xCF8, 0x80000000u | (slot << 11) | (off & 0xFC));
	return inw(0xCFC + (off & 2));
}

static void wait_irqs(unsigned vec, uint32_t want)
{
	for (uint64_t spin = 0; guest_irq_count[vec] < want; spin++) {
		if (spin > 2000000000ull)
			GUEST_ASSERT_EQ(guest_irq_count[vec], want);
		cpu_relax();
	}
}

static void user_part(void)
{
	unsigned found = 0;
	uint32_t bar0, bar1, mask, cap;
	uint64_t bar2, table;

	/* Enumeration: host bridge at 00:00.0, the test device at TD_SLOT, nothing else answers. */
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t id = cfg_read32(slot, 0);

		if (id == 0xffffffffu)
			continue;
		GUEST_PRINTF("00:%02x.0 %04x:%04x", slot, id & 0xffff, id >> 16);
		found++;
	}
	GUEST_ASSERT_EQ(found, 2);
	GUEST_ASSERT_EQ(cfg_read32(0, 0), 0x29c08086u);
	GUEST_ASSERT_EQ(cfg_read32(TD_SLOT, 0), 0x00014e46u);

	/* BARs as placed by the VMM, decoding enabled. */
	bar0 = cfg_read32(TD_SLOT, 0x10) & ~0xFu;
	bar1 = cfg_read32(TD_SLOT, 0x14) & ~0x3u;
	bar2 = (cfg_read32(TD_SLOT, 0x18) & ~0xFull) | (uint64_t)cfg_read32(TD_SLOT, 0x1c) << 32;
	GUEST_PRINTF("BAR0 %x BAR1 %x BAR2 %lx", bar0, bar1, (unsigned long)bar2);
	GUEST_ASSERT(bar0 >= 0xC0000000u && bar0 < 0xE0000000u);
	GUEST_ASSERT(bar2 >= 0x100000000ull);
	GUEST_ASSERT_EQ(mmio_read32(bar0), 0x5450464eu);
	GUEST_ASSERT_EQ(inl((uint16_t)bar1), 0x5450464eu);
	GUEST_ASSERT_EQ(mmio_read32(bar2), 0x5450464eu);
	mmio_write32(bar2 + 0x1000, 0xfeedf00d); /* scratch RAM in the 64-bit BAR */
	GUEST_ASSERT_EQ(mmio_read32(bar2 + 0x1000), 0xfeedf00du);

	/* Sizing: all-ones in, the size mask out (4 KiB, 32-bit, non-prefetchable). */
	cfg_write32(TD_SLOT, 0x10, 0xffffffffu);
	mask = cfg_read32(TD_SLOT, 0x10);
	GUEST_ASSERT_EQ(mask, 0xfffff000u);
	/* Move BAR0 with memory decoding off, then on again. */
	cfg_write32(TD_SLOT, 0x04, cfg_read32(TD_SLOT, 0x04) & ~0x2u);
	cfg_write32(TD_SLOT, 0x10, NEW_BAR0);
	cfg_write32(TD_SLOT, 0x04, cfg_read32(TD_SLOT, 0x04) | 0x6u);
	GUEST_ASSERT_EQ(cfg_read32(TD_SLOT, 0x10) & ~0xFu, NEW_BAR0);
	GUEST_ASSERT_EQ(mmio_read32(NEW_BAR0), 0x5450464eu);
	GUEST_ASSERT_EQ(mmio_read32(bar0), 0xffffffffu); /* nothing decodes the old address */
	bar0 = NEW_BAR0;
	/* A move onto another device's window is refused; the BAR stays unmapped, the guest runs on. */
	cfg_write32(TD_SLOT, 0x10, (uint32_t)0xE0000000u); /* the ECAM window */
	GUEST_ASSERT_EQ(mmio_read32(0xE0000000u + (TD_SLOT << 15)), 0x00014e46u); /* ECAM still works */
	cfg_write32(TD_SLOT, 0x10, NEW_BAR0);
	GUEST_ASSERT_EQ(mmio_read32(NEW_BAR0), 0x5450464eu);

	/* Capability list -> MSI-X (id 0x11). */
	GUEST_ASSERT(cfg_read16(TD_SLOT, 0x06) & 0x10);
	for (cap = cfg_read32(TD_SLOT, 0x34) & 0xFC; cap; cap = (cfg_read32(TD_SLOT, cap) >> 8) & 0xFC)
		if ((cfg_read32(TD_SLOT, cap) & 0xFF) == 0x11)
			break;
	GUEST_ASSERT(cap != 0);
	{
		uint32_t tbl = cfg_read32(TD_SLOT, cap + 4);

		GUEST_ASSERT_EQ(tbl & 7, 0); /* table in BAR0 */
		table = bar0 + (tbl & ~7u);
	}
	/* Vectors 0 and 1 -> LAPIC 0, IDT vectors 0x40 and 0x41; unmasked. */
	for (unsigned v = 0; v < 2; v++) {
		mmio_write32(table + 16 * v + 0, 0xFEE00000u);
		mmio_write32(table + 16 * v + 4, 0);
		mmio_write32(table + 16 * v + 8, GUEST_IRQ_BASE + v);
		mmio_write32(table + 16 * v + 12, 0);
	}
	cfg_write32(TD_SLOT, cap, cfg_read32(TD_SLOT, cap) | (1u << 31)); /* MSI-X enable */

	/* 1: the device fires vector 0 itself. */
	mmio_write32(bar0 + 0x08, 0);
	wait_irqs(0, 1);
	GUEST_ASSERT_EQ(mmio_read32(bar0 + 0x14), 0);
	/* 2: the host fires vector 1 through its eventfd (irqfd). */
	serial_puts("msix ready\n");
	wait_irqs(1, 1);
	/* 3: masked vector 1: the host's event is held pending (PBA bit) and delivered on unmask. */
	mmio_write32(table + 16 + 12, 1);
	serial_puts("masked\n");
	while (serial_getc() != 'f')
		;
	for (volatile int i = 0; i < 1000000; i++)
		;
	GUEST_ASSERT_EQ(guest_irq_count[1], 1);
	GUEST_ASSERT(mmio_read32(bar0 + 0xc00) & 2); /* PBA (BAR0 + 0xc00) bit 1 */
	mmio_write32(table + 16 + 12, 0);
	wait_irqs(1, 2);
	GUEST_PRINTF("msix: %u + %u interrupts", guest_irq_count[0], guest_irq_count[1]);
	GUEST_DONE();
}

void guest_main(unsigned vcpu, unsigned nr, struct boot_info *bi)
{
	(void)vcpu, (void)nr, (void)bi;
	guest_lapic_enable();
	guest_enter_user(user_part);
}
#else
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(int argc, char **argv)
{
	struct vmm_proc p;
	char resp[4096];
	const char *args[] = { "--device", "pci-testdev,slot=3", "--mem-backing", "memfd", NULL };
	int st;

	if (argc < 3)
		return 2;
	vmm_start(&p, argv[1], argv[2], args);
	HOST_ASSERT(&p, vmm_wait_for(&p, "msix ready", 60), "guest did not enable MSI-X");
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"irq-fire\",\"slot\":3,\"vector\":1}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":true"),
		    "irq-fire: %s", resp);
	HOST_ASSERT(&p, vmm_wait_for(&p, "masked", 60), "guest did not see the host's interrupt");
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"irq-fire\",\"slot\":3,\"vector\":1}", resp, sizeof(resp)) == 0 &&
				strstr(resp, "\"ok\":true"),
		    "irq-fire while masked: %s", resp);
	vmm_send(&p, "f");
	st = vmm_wait(&p, 60);
	HOST_ASSERT(&p, st == 0, "exit status %d", st);
	HOST_ASSERT(&p, vmm_output_has(&p, "00:03.0 4e46:0001") && vmm_output_has(&p, "msix: 1 + 2 interrupts"),
		    "enumeration or interrupt counts wrong");
	HOST_ASSERT(&p, vmm_control(&p, "{\"cmd\":\"irq-fire\",\"slot\":3,\"vector\":1}", resp, sizeof(resp)) != 0,
		    "control socket still answering after exit");
	vmm_cleanup(&p);
	printf("pci: ok\n");
	return 0;
}
#endif
