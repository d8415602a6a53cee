// SPDX-License-Identifier: GPL-2.0-only
#include "mptable.h"

#include <errno.h>
#include <string.h>

#define MP_PROCESSOR 0
#define MP_BUS 1
#define MP_IOAPIC 2
#define MP_INTSRC 3
#define MP_LINTSRC 4

#define MP_IRQ_INT 0
#define MP_IRQ_NMI 1
#define MP_IRQ_EXTINT 3
/* PCI: polarity active low (3), trigger level (3 << 2) */
#define MP_IRQFLAG_PCI 0x0f

#define BUS_PCI 0
#define BUS_ISA 1
#define MPTABLE_SIZE 0x2000

struct mpf {
	char signature[4];
	uint32_t physptr;
	uint8_t length, specification, checksum, feature1;
	uint8_t feature2, feature3, feature4, feature5;
} __attribute__((packed));

struct mpc_table {
	char signature[4];
	uint16_t length;
	uint8_t spec, checksum;
	char oem[8], product[12];
	uint32_t oemptr;
	uint16_t oemsize, count;
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum, reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

static uint8_t mp_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return (uint8_t)-s;
}

int mptable_write(struct gmem *gm, unsigned nr_vcpus, uint32_t cpu_signature, uint32_t cpu_features)
{
	uint8_t *base = gmem_ptr(gm, MPTABLE_BASE, MPTABLE_SIZE), *p;
	struct mpf *mpf;
	struct mpc_table *mpc;
	unsigned count = 0, ioapic_id = nr_vcpus;

	if (!base)
		return -EFAULT;
	if (nr_vcpus == 0 || nr_vcpus > 254)
		return -E2BIG;
	memset(base, 0, MPTABLE_SIZE);
	mpf = (struct mpf *)base;
	mpc = (struct mpc_table *)(base + 16);
	p = (uint8_t *)(mpc + 1);

	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct mpc_cpu c = {
			.type = MP_PROCESSOR, .apicid = (uint8_t)i, .apicver = 0x14,
			.cpuflag = (uint8_t)(1 | (i == 0 ? 2 : 0)), /* enabled, BSP */
			.cpufeature = cpu_signature, .featureflag = cpu_features,
		};

		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		count++;
	}
	{
		struct mpc_bus pci = { .type = MP_BUS, .busid = BUS_PCI, .bustype = { 'P', 'C', 'I', ' ', ' ', ' ' } };
		struct mpc_bus isa = { .type = MP_BUS, .busid = BUS_ISA, .bustype = { 'I', 'S', 'A', ' ', ' ', ' ' } };
		struct mpc_ioapic io = { .type = MP_IOAPIC, .apicid = (uint8_t)ioapic_id, .apicver = 0x11, .flags = 1,
					 .apicaddr = 0xFEC00000u };

		memcpy(p, &pci, sizeof(pci));
		p += sizeof(pci);
		memcpy(p, &isa, sizeof(isa));
		p += sizeof(isa);
		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		count += 3;
	}
	/* ISA IRQs straight onto IOAPIC pins 0-15, edge/active high (the ISA default). */
	for (unsigned irq = 0; irq < 16; irq++) {
		struct mpc_intsrc s = { .type = MP_INTSRC, .irqtype = MP_IRQ_INT, .srcbus = BUS_ISA,
					.srcbusirq = (uint8_t)irq, .dstapic = (uint8_t)ioapic_id, .dstirq = (uint8_t)irq };

		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	/* PCI INTx: source irq = slot << 2 | (pin - 1), the swizzle of vmm/pci/pci.h. */
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			struct mpc_intsrc s = { .type = MP_INTSRC, .irqtype = MP_IRQ_INT, .irqflag = MP_IRQFLAG_PCI,
						.srcbus = BUS_PCI, .srcbusirq = (uint8_t)(slot << 2 | (pin - 1)),
						.dstapic = (uint8_t)ioapic_id,
						.dstirq = (uint8_t)(16 + ((slot + pin - 1) % 4)) };

			memcpy(p, &s, sizeof(s));
			p += sizeof(s);
			count++;
		}
	}
	/* LINT0 ExtINT (the 8259), LINT1 NMI, on every local APIC. */
	{
		struct mpc_intsrc l0 = { .type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT, .srcbus = BUS_ISA, .dstapic = 0xff,
					 .dstirq = 0 };
		struct mpc_intsrc l1 = { .type = MP_LINTSRC, .irqtype = MP_IRQ_NMI, .srcbus = BUS_ISA, .dstapic = 0xff,
					 .dstirq = 1 };

		memcpy(p, &l0, sizeof(l0));
		p += sizeof(l0);
		memcpy(p, &l1, sizeof(l1));
		p += sizeof(l1);
		count += 2;
	}
	if (p > base + MPTABLE_SIZE)
		return -E2BIG;
	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "NFVISOR ", 8);
	memcpy(mpc->product, "NFV-VMM     ", 12);
	mpc->count = (uint16_t)count;
	mpc->lapic = 0xFEE00000u;
	mpc->checksum = mp_checksum((uint8_t *)mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(MPTABLE_BASE + 16);
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = mp_checksum((uint8_t *)mpf, sizeof(*mpf));
	return 0;
}
