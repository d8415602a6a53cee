/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CPUID and MSR set-up for one vCPU. We never trust "host" defaults: the table starts from
 * KVM_GET_SUPPORTED_CPUID (what KVM can virtualize) and every change is listed in cpuid.c with its
 * reason.
 */
#ifndef NFV_CPU_CPUID_H
#define NFV_CPU_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"

struct cpuid_cfg {
	unsigned vcpu_id;
	unsigned nr_vcpus;
	bool pvm_quirks; /* mask features this host's emulator cannot run (see cpuid.c) */
};

/* Build and install the CPUID table on @vcpu_fd. 0 or -errno. */
int cpuid_setup(struct kvm *k, int vcpu_fd, const struct cpuid_cfg *cfg) __attribute__((warn_unused_result));

/* Apply the table edits to @c in place (exported for unit tests). */
void cpuid_edit(struct kvm_cpuid2 *c, const struct cpuid_cfg *cfg);

/* Initialise the architectural MSRs KVM accepts; the count set is returned (>= 0) or -errno. */
int msr_setup(struct kvm *k, int vcpu_fd) __attribute__((warn_unused_result));

#endif
