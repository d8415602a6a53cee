/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel MultiProcessor Specification 1.4 tables, so Linux finds the vCPUs, the IOAPIC and how PCI
 * INTx and ISA IRQs are wired (acpi=off guests; an ACPI MADT says the same for others). Placed in the
 * reserved BIOS area at MPTABLE_BASE, where the kernel scans for "_MP_".
 */
#ifndef NFV_VMM_MPTABLE_H
#define NFV_VMM_MPTABLE_H

#include "gmem.h"

#define MPTABLE_BASE 0xF0000ull

/*
 * Write the floating pointer and configuration table for @nr_vcpus (APIC ids 0..n-1), an IOAPIC at
 * 0xFEC00000 with id @nr_vcpus, ISA IRQs 0-15 on IOAPIC pins 0-15, PCI bus 0 INTA#-INTD# of every slot
 * on pin 16 + ((slot + pin - 1) % 4). 0 or -EFAULT / -E2BIG.
 */
int mptable_write(struct gmem *gm, unsigned nr_vcpus, uint32_t cpu_signature, uint32_t cpu_features)
	__attribute__((warn_unused_result));

#endif
