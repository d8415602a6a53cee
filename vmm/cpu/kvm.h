/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Thin, checked wrappers over /dev/kvm and the VM fd: API version and capability checks with messages
 * naming what is missing, memslots, dirty logging, irq lines. Nothing here knows about devices.
 */
#ifndef NFV_VMM_KVM_H
#define NFV_VMM_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm {
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size;
	bool irqchip;	 /* in-kernel PIC/IOAPIC/LAPIC */
	bool pit;	 /* in-kernel i8254 */
	bool pvm;	 /* host is kvm_pvm: no VT-x/AMD-V, CPL0 code emulated (see vmm/cpu/cpuid.c) */
	int max_vcpus;
	int nr_slots;
	struct kvm_cpuid2 *supported_cpuid;
};

/* Open /dev/kvm, check the API version and required capabilities, create the VM. */
int kvm_open(const char *dev, struct kvm **out) __attribute__((warn_unused_result));
void kvm_close(struct kvm *k);

int kvm_check_cap(struct kvm *k, long cap);

/* Create the in-kernel irqchip and PIT where available; logs which were used. */
int kvm_setup_irqchip(struct kvm *k) __attribute__((warn_unused_result));

/* Install or update memslot @slot; flags KVM_MEM_LOG_DIRTY_PAGES / KVM_MEM_READONLY. */
int kvm_set_memslot(struct kvm *k, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size,
		    void *hva) __attribute__((warn_unused_result));

/* Fetch and clear the dirty bitmap of @slot (one bit per 4 KiB page, @bitmap sized by caller). */
int kvm_get_dirty_log(struct kvm *k, uint32_t slot, uint64_t *bitmap) __attribute__((warn_unused_result));

/* Set a legacy interrupt line (GSI) level through the in-kernel irqchip. */
int kvm_set_irq_level(struct kvm *k, uint32_t gsi, int level);

#endif
