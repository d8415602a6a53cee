// SPDX-License-Identifier: GPL-2.0-only
#include "boot.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest_abi.h"
#include "util.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

int64_t boot_build_page_tables(struct gmem *gm, uint64_t map_top, bool gb_pages, bool user)
{
	uint64_t flags = PTE_P | PTE_RW | (user ? PTE_US : 0);
	uint64_t pml4 = GUEST_PT_GPA, pdpt = GUEST_PT_GPA + 0x1000, pd = GUEST_PT_GPA + 0x2000;
	uint64_t gbs;
	uint64_t *p;

	if (map_top < 4 * GiB)
		map_top = 4 * GiB;
	map_top = ALIGN_UP(map_top, GiB);
	gbs = map_top / GiB;
	if (gbs > 512)
		return -E2BIG; /* one PDPT covers 512 GiB */
	if (!gb_pages && pd + gbs * 0x1000 > GUEST_PT_END)
		return -E2BIG;
	p = gmem_ptr(gm, GUEST_PT_GPA, GUEST_PT_END - GUEST_PT_GPA);
	if (!p)
		return -EFAULT;
	memset(p, 0, GUEST_PT_END - GUEST_PT_GPA);

	p = gmem_ptr(gm, pml4, 0x1000);
	p[0] = pdpt | flags;
	p = gmem_ptr(gm, pdpt, 0x1000);
	for (uint64_t g = 0; g < gbs; g++) {
		if (gb_pages) {
			p[g] = (g * GiB) | flags | PTE_PS;
		} else {
			uint64_t *d = gmem_ptr(gm, pd + g * 0x1000, 0x1000);

			p[g] = (pd + g * 0x1000) | flags;
			for (uint64_t i = 0; i < 512; i++)
				d[i] = (g * GiB + i * 2 * MiB) | flags | PTE_PS;
		}
	}
	return (int64_t)pml4;
}

static uint64_t gdt_tss_low(uint64_t base, uint32_t limit)
{
	/* 64-bit available TSS (type 9), present, DPL 0 */
	return (limit & 0xFFFFull) | ((base & 0xFFFFFFull) << 16) | (0x89ull << 40) |
	       ((uint64_t)(limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
}

int boot_build_gdt(struct gmem *gm, unsigned nr_vcpus)
{
	uint64_t *gdt;

	if (nr_vcpus == 0 || nr_vcpus > GUEST_MAX_VCPUS)
		return -EINVAL;
	gdt = gmem_ptr(gm, GUEST_GDT_GPA, 0x28 + 16 * GUEST_MAX_VCPUS);
	if (!gdt || !gmem_ptr(gm, GUEST_TSS_GPA, GUEST_TSS_STRIDE * GUEST_MAX_VCPUS))
		return -EFAULT;
	gdt[0] = 0;
	gdt[GUEST_SEL_KCODE / 8] = 0x00AF9A000000FFFFull; /* 64-bit code, DPL 0 */
	gdt[GUEST_SEL_KDATA / 8] = 0x00CF92000000FFFFull; /* data, DPL 0 */
	gdt[GUEST_SEL_UDATA / 8] = 0x00CFF2000000FFFFull; /* data, DPL 3 */
	gdt[GUEST_SEL_UCODE / 8] = 0x00AFFA000000FFFFull; /* 64-bit code, DPL 3 */
	for (unsigned i = 0; i < nr_vcpus; i++) {
		uint64_t tss = GUEST_TSS_GPA + GUEST_TSS_STRIDE * i;
		uint8_t *t = gmem_ptr(gm, tss, GUEST_TSS_LIMIT + 1);
		uint64_t rsp0 = GUEST_RSP0_TOP(i);

		/* SDM vol. 1 s18.5.2: bitmap at the I/O map base, one bit per port, 0 = allowed,
		 * followed by a byte of all ones. */
		memset(t, 0, GUEST_TSS_LIMIT + 1);
		memcpy(t + 4, &rsp0, 8); /* RSP0 */
		t[0x66] = 0x68;		 /* I/O map base */
		t[GUEST_TSS_LIMIT] = 0xff;
		gdt[GUEST_SEL_TSS(i) / 8] = gdt_tss_low(tss, GUEST_TSS_LIMIT);
		gdt[GUEST_SEL_TSS(i) / 8 + 1] = tss >> 32;
	}
	return 0;
}

static void seg_set(struct kvm_segment *s, uint16_t sel, uint8_t type, uint8_t dpl, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = 0xFFFFFFFF;
	s->type = type;
	s->present = 1;
	s->dpl = dpl;
	s->s = 1;
	s->l = code64;
	s->db = !code64;
	s->g = 1;
}

int boot_set_long_mode(int vcpu_fd, const struct boot_long_mode *lm)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg_set(&sregs.cs, GUEST_SEL_KCODE, 0xB, 0, true);
	seg_set(&sregs.ds, GUEST_SEL_KDATA, 0x3, 0, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = GUEST_SEL_TSS(lm->vcpu_id);
	sregs.tr.base = GUEST_TSS_GPA + GUEST_TSS_STRIDE * lm->vcpu_id;
	sregs.tr.limit = GUEST_TSS_LIMIT;
	sregs.tr.type = 0xB; /* busy 64-bit TSS */
	sregs.tr.present = 1;
	sregs.gdt.base = GUEST_GDT_GPA;
	sregs.gdt.limit = 0x28 + 16 * GUEST_MAX_VCPUS - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	sregs.cr3 = lm->cr3;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rip = lm->entry;
	regs.rsp = lm->rsp;
	regs.rdi = lm->rdi;
	regs.rsi = lm->rsi;
	regs.rdx = lm->rdx;
	regs.rflags = 0x2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int boot_set_real_mode(int vcpu_fd, uint16_t cs, uint16_t ip)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	sregs.cs.selector = cs;
	sregs.cs.base = (uint64_t)cs << 4;
	sregs.ds.selector = sregs.es.selector = sregs.ss.selector = cs;
	sregs.ds.base = sregs.es.base = sregs.ss.base = (uint64_t)cs << 4;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = ip;
	regs.rsp = 0x7000;
	regs.rflags = 0x2;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
