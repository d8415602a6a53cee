// SPDX-License-Identifier: GPL-2.0-only
#include "cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "util.h"

#define BIT(n) (1u << (n))

/* CPUID.1:ECX */
#define C1_ECX_MONITOR BIT(3)  /* MWAIT would idle the host CPU under the guest's control */
#define C1_ECX_VMX BIT(5)      /* no nested virtualization offered */
#define C1_ECX_FMA BIT(12)
#define C1_ECX_CX16 BIT(13)
#define C1_ECX_POPCNT BIT(23)
#define C1_ECX_XSAVE BIT(26)
#define C1_ECX_OSXSAVE BIT(27)
#define C1_ECX_AVX BIT(28)
#define C1_ECX_F16C BIT(29)
#define C1_ECX_HYPERVISOR BIT(31)
/* CPUID.1:EDX */
#define C1_EDX_HTT BIT(28)
/* CPUID.7.0:EBX */
#define C7_EBX_AVX2 BIT(5)
#define C7_EBX_SMAP BIT(20)
#define C7_EBX_AVX512_MASK (BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
/* CPUID.80000001:EDX */
#define C81_EDX_RDTSCP BIT(27)

void cpuid_edit(struct kvm_cpuid2 *c, const struct cpuid_cfg *cfg)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC id and logical processor count describe our vCPUs, not the host. */
			e->ebx = (e->ebx & 0x0000FFFFu) | (cfg->vcpu_id << 24) |
				 ((cfg->nr_vcpus & 0xFF) << 16);
			if (cfg->nr_vcpus > 1)
				e->edx |= C1_EDX_HTT;
			e->ecx |= C1_ECX_HYPERVISOR;
			e->ecx &= ~(C1_ECX_VMX | C1_ECX_MONITOR);
			if (cfg->pvm_quirks) {
				/*
				 * This host's instruction emulator cannot run xgetbv/xsave/xrstor (so
				 * no XSAVE, and AVX/FMA/F16C which depend on it), popcnt, nor lock
				 * cmpxchg16b (CX16: Linux's SLUB uses it for cmpxchg_double).
				 * Measured: kvm_pvm honours the CX16 mask but still reports XSAVE, AVX and
				 * POPCNT to the guest, so the fallback (emulate.c) must cover those.
				 */
				e->ecx &= ~(C1_ECX_XSAVE | C1_ECX_OSXSAVE | C1_ECX_AVX | C1_ECX_FMA |
					    C1_ECX_F16C | C1_ECX_POPCNT | C1_ECX_CX16);
			}
			break;
		case 7:
			if (e->index == 0 && cfg->pvm_quirks) {
				/* AVX2/AVX-512 need XSAVE state; SMAP makes the kernel use clac/stac,
				 * which this host's emulator rejects. */
				e->ebx &= ~(C7_EBX_AVX2 | C7_EBX_SMAP | C7_EBX_AVX512_MASK);
			}
			break;
		case 0xB:
		case 0x1F:
			/* x2APIC topology: our id in EDX. */
			e->edx = cfg->vcpu_id;
			break;
		case 0xD:
			if (cfg->pvm_quirks)
				e->eax = e->ebx = e->ecx = e->edx = 0; /* no XSAVE state components */
			break;
		case 0x80000001:
			if (cfg->pvm_quirks)
				e->edx &= ~C81_EDX_RDTSCP; /* rdtscp: emulation failure on this host */
			break;
		default:
			break;
		}
	}
}

int cpuid_setup(struct kvm *k, int vcpu_fd, const struct cpuid_cfg *cfg)
{
	size_t sz = sizeof(struct kvm_cpuid2) + k->supported_cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, k->supported_cpuid, sz);
	cpuid_edit(c, cfg);
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		log_err("vCPU %u: KVM_SET_CPUID2: %s", cfg->vcpu_id, strerror(errno));
	}
	free(c);
	return ret;
}

/* Architectural MSRs and the values a freshly reset CPU (or firmware) leaves in them. */
static const struct {
	uint32_t index;
	uint64_t value;
} msr_defaults[] = {
	{ 0x00000010, 0 },	   /* IA32_TSC */
	{ 0x00000174, 0 },	   /* IA32_SYSENTER_CS */
	{ 0x00000175, 0 },	   /* IA32_SYSENTER_ESP */
	{ 0x00000176, 0 },	   /* IA32_SYSENTER_EIP */
	{ 0x000001a0, 1 },	   /* IA32_MISC_ENABLE: fast strings, as firmware sets it */
	{ 0x000002ff, 0x806 },	   /* IA32_MTRR_DEF_TYPE: enabled, default write-back (no firmware here) */
	{ 0xc0000081, 0 },	   /* STAR */
	{ 0xc0000082, 0 },	   /* LSTAR */
	{ 0xc0000083, 0 },	   /* CSTAR */
	{ 0xc0000084, 0 },	   /* SFMASK */
	{ 0xc0000102, 0 },	   /* KERNEL_GS_BASE */
};

int msr_setup(struct kvm *k, int vcpu_fd)
{
	int set = 0;

	(void)k;
	/*
	 * One MSR per ioctl: KVM_SET_MSRS stops at the first MSR it refuses, and which ones a host
	 * refuses differs (kvm_pvm lacks some); a refused default is not an error.
	 */
	for (unsigned i = 0; i < ARRAY_SIZE(msr_defaults); i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} m = { .hdr.nmsrs = 1, .e.index = msr_defaults[i].index, .e.data = msr_defaults[i].value };
		int r = ioctl(vcpu_fd, KVM_SET_MSRS, &m);

		if (r < 0)
			return -errno;
		if (r == 1)
			set++;
		else
			log_debug("MSR 0x%x not accepted by KVM; left at its reset value", msr_defaults[i].index);
	}
	return set;
}
