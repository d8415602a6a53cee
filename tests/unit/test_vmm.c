// SPDX-License-Identifier: GPL-2.0-only
/* vmm/ept and vmm/cpu pure logic: e820 layout, boot page tables walked back with the page-table
 * walker, the walker on hostile tables, the ELF loader on broken images, CPUID edits. */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "cpuid.h"
#include "emulate.h"
#include "gmem.h"
#include "guest_abi.h"
#include "layout.h"
#include "loader.h"
#include "log.h"
#include "pgwalk.h"
#include "test.h"
#include "util.h"

static void test_layout(void)
{
	struct mem_layout l;

	CHECK(layout_compute(64 * MiB, 2 * MiB, &l) == 0);
	CHECK_EQ(l.nr_banks, 1);
	CHECK_EQ(layout_ram_top(&l), 64 * MiB);
	CHECK_EQ(l.e820[0].addr, 0);
	CHECK_EQ(l.e820[0].size, LAYOUT_EBDA_START);
	CHECK_EQ(l.e820[1].type, E820_RESERVED);
	CHECK_EQ(l.e820[2].addr, MiB);
	CHECK_EQ(l.e820[2].size, 63 * MiB);
	CHECK_EQ(l.pci_mmio64_base, 4 * GiB);

	/* Exactly the hole size: no high bank. */
	CHECK(layout_compute(3 * GiB, 2 * MiB, &l) == 0);
	CHECK_EQ(l.nr_banks, 1);
	/* Beyond: the rest goes above 4 GiB, at fd offset 3 GiB. */
	CHECK(layout_compute(3584 * MiB, 2 * MiB, &l) == 0);
	CHECK_EQ(l.nr_banks, 2);
	CHECK_EQ(l.bank[1].gpa, 4 * GiB);
	CHECK_EQ(l.bank[1].size, 512 * MiB);
	CHECK_EQ(l.bank[1].fd_offset, 3 * GiB);
	CHECK_EQ(layout_ram_top(&l), 4 * GiB + 512 * MiB);
	CHECK_EQ(l.pci_mmio64_base, 5 * GiB);
	{
		uint64_t ram = 0;

		for (unsigned i = 0; i < l.nr_e820; i++) {
			if (l.e820[i].type == E820_RAM)
				ram += l.e820[i].size;
			/* No RAM in the MMIO hole. */
			if (l.e820[i].type == E820_RAM)
				CHECK(l.e820[i].addr + l.e820[i].size <= LAYOUT_HOLE_START ||
				      l.e820[i].addr >= LAYOUT_HOLE_END);
		}
		CHECK_EQ(ram, 3584 * MiB - (LAYOUT_BIOS_END - LAYOUT_EBDA_START));
	}
	/* Refused sizes. */
	CHECK(layout_compute(0, 2 * MiB, &l) == -EINVAL);
	CHECK(layout_compute(512 * KiB, 4096, &l) == -EINVAL);
	CHECK(layout_compute(3 * MiB, 2 * MiB, &l) == -EINVAL);
	CHECK(layout_compute(64 * MiB, 3000, &l) == -EINVAL);
	CHECK(layout_compute(1ull << 50, 2 * MiB, &l) == -EINVAL);
}

static void test_boot_tables(void)
{
	struct gmem gm = { 0 };
	size_t sz = 8 * MiB;
	uint8_t *ram = calloc(1, sz);
	struct pgwalk_mode m = { .cr0 = 0x80000011, .cr4 = 0x20, .efer = 0x500 };
	uint64_t gpa;
	int64_t cr3;

	CHECK(gmem_add_region(&gm, 0, sz, ram, -1, 0) == 0);
	for (int gb = 0; gb < 2; gb++) {
		cr3 = boot_build_page_tables(&gm, 6 * GiB, gb, true);
		CHECK(cr3 > 0);
		m.cr3 = (uint64_t)cr3;
		for (uint64_t a = 0; a < 6 * GiB; a += 333 * MiB + 4097) {
			CHECK(pgwalk_translate(&gm, &m, a, PGWALK_USER | PGWALK_WRITE, &gpa) == 0);
			CHECK_EQ(gpa, a);
		}
		/* Past the map (6 GiB, already a whole number of GiB). */
		CHECK(pgwalk_translate(&gm, &m, 6 * GiB + 5, PGWALK_READ, &gpa) == -ENOENT);
		/* Non-canonical. */
		CHECK(pgwalk_translate(&gm, &m, 0x0000800000000000ull, PGWALK_READ, &gpa) == -EINVAL);
	}
	CHECK(boot_build_page_tables(&gm, 600 * GiB, true, true) == -E2BIG);
	CHECK(boot_build_page_tables(&gm, 100 * GiB, false, true) == -E2BIG);
	CHECK(boot_build_gdt(&gm, 2) == 0);
	CHECK(boot_build_gdt(&gm, 0) == -EINVAL);
	CHECK(boot_build_gdt(&gm, GUEST_MAX_VCPUS + 1) == -EINVAL);
	{
		/* The TSS I/O bitmap allows every port and ends with 0xff. */
		uint8_t *t = ram + GUEST_TSS_GPA + GUEST_TSS_STRIDE;

		CHECK_EQ(t[0x66], 0x68);
		CHECK_EQ(t[0x68 + 100], 0);
		CHECK_EQ(t[GUEST_TSS_LIMIT], 0xff);
	}
	free(ram);
}

static void test_pgwalk_hostile(void)
{
	struct gmem gm = { 0 };
	size_t sz = 1 * MiB;
	uint64_t *ram = calloc(1, sz), gpa;
	struct pgwalk_mode m = { .cr0 = 0x80010011, .cr3 = 0x1000, .cr4 = 0x20, .efer = 0xd00 };
	uint8_t buf[8];

	CHECK(gmem_add_region(&gm, 0, sz, ram, -1, 0) == 0);
	/* PML4 entry pointing outside guest RAM. */
	ram[0x1000 / 8] = 0x7000000000ull | 7;
	CHECK(pgwalk_translate(&gm, &m, 0x1234, PGWALK_READ, &gpa) == -EFAULT);
	/* Self-referencing tables terminate (fixed depth) and yield the table itself. */
	ram[0x1000 / 8] = 0x1000 | 7;
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_READ, &gpa) == 0);
	CHECK_EQ(gpa, 0x1000);
	/* PS in a PML4 entry is reserved. */
	ram[0x1000 / 8] = 0x2000 | 0x87;
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_READ, &gpa) == -EINVAL);
	/* Supervisor-only page from user, read-only page written with CR0.WP, NX fetch. */
	ram[0x1000 / 8] = 0x2000 | 7;
	ram[0x2000 / 8] = 0x3000 | 7;
	ram[0x3000 / 8] = 0x4000 | 7;
	ram[0x4000 / 8] = 0x5000 | 1; /* present, read-only, supervisor */
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_READ, &gpa) == 0 && gpa == 0x5000);
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_USER, &gpa) == -EACCES);
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_WRITE, &gpa) == -EACCES);
	ram[0x4000 / 8] = 0x5000 | 7 | (1ull << 63);
	CHECK(pgwalk_translate(&gm, &m, 0, PGWALK_FETCH, &gpa) == -EACCES);
	CHECK(pgwalk_translate(&gm, &m, 0x1000, PGWALK_READ, &gpa) == -ENOENT);
	/* A read crossing into an unmapped page fails as a whole. */
	CHECK(pgwalk_read(&gm, &m, 0xffc, buf, 8) == -ENOENT);
	/* Paging off: identity. */
	m.cr0 = 0x11;
	CHECK(pgwalk_translate(&gm, &m, 0xabcdef, PGWALK_READ, &gpa) == 0 && gpa == 0xabcdef);
	/* 32-bit paging with a 4 MiB page. */
	m.cr0 = 0x80000011;
	m.efer = 0;
	m.cr4 = 0x10;
	((uint32_t *)ram)[0x1000 / 4 + 1] = 0x00c00000 | 0x87;
	CHECK(pgwalk_translate(&gm, &m, 0x00412345, PGWALK_READ, &gpa) == 0);
	CHECK_EQ(gpa, 0x00c12345);
	free(ram);
}

static void put_elf(uint8_t *img, size_t *len, uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t entry)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph = { 0 };

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	ph.p_type = PT_LOAD;
	ph.p_offset = 0x100;
	ph.p_paddr = paddr;
	ph.p_filesz = filesz;
	ph.p_memsz = memsz;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + sizeof(eh), &ph, sizeof(ph));
	memset(img + 0x100, 0xcc, 0x100);
	*len = 0x200;
}

static void test_loader(void)
{
	struct gmem gm = { 0 };
	size_t sz = 4 * MiB, len;
	uint8_t *ram = calloc(1, sz), img[0x200];
	struct loader_result res;
	char err[256];

	CHECK(gmem_add_region(&gm, 0, sz, ram, -1, 0) == 0);
	memset(ram + MiB, 0x55, 0x400);
	put_elf(img, &len, MiB, 0x100, 0x300, MiB + 4);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == 0);
	CHECK_EQ(res.entry, MiB + 4);
	CHECK_EQ(ram[MiB], 0xcc);
	CHECK_EQ(ram[MiB + 0x100], 0); /* bss zeroed */
	CHECK_EQ(ram[MiB + 0x300], 0x55);

	put_elf(img, &len, MiB, 0x100, 0x300, MiB + 4);
	CHECK(loader_elf64(&gm, img, 10, MiB, &res, err, sizeof(err)) == -ENOEXEC);
	img[0] = 0;
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -ENOEXEC && strstr(err, "magic"));
	put_elf(img, &len, MiB, 0x200, 0x100, MiB);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -ENOEXEC && strstr(err, "p_filesz"));
	put_elf(img, &len, MiB, 0x1000, 0x1000, MiB);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -ENOEXEC && strstr(err, "end of file"));
	put_elf(img, &len, 0x1000, 0x100, 0x100, 0x1000);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -EINVAL && strstr(err, "p_paddr"));
	put_elf(img, &len, 4 * MiB - 0x80, 0x100, 0x100, 4 * MiB - 0x80);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -EFAULT && strstr(err, "outside guest RAM"));
	put_elf(img, &len, UINT64_MAX - 0x10, 0x100, 0x100, MiB);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -EFAULT);
	put_elf(img, &len, MiB, 0x100, 0x100, 5 * MiB);
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -ENOEXEC && strstr(err, "e_entry"));
	put_elf(img, &len, MiB, 0x100, 0x100, MiB);
	((Elf64_Ehdr *)img)->e_phnum = 60000;
	CHECK(loader_elf64(&gm, img, len, MiB, &res, err, sizeof(err)) == -ENOEXEC && strstr(err, "e_phnum"));
	CHECK(loader_flat(&gm, img, 16, 4 * MiB - 8, &res, err, sizeof(err)) == -EFAULT);
	CHECK(loader_flat(&gm, img, 16, 0x7c00, &res, err, sizeof(err)) == 0 && res.entry == 0x7c00);
	free(ram);
}

static void test_cpuid(void)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[6];
	} c = { .h.nent = 6 };
	struct cpuid_cfg cfg = { .vcpu_id = 3, .nr_vcpus = 4, .pvm_quirks = false };

	c.e[0].function = 1;
	c.e[0].ebx = 0xffffffff;
	c.e[0].ecx = (1u << 5) | (1u << 26) | (1u << 27) | (1u << 23);
	c.e[1].function = 7;
	c.e[1].ebx = (1u << 5) | (1u << 20);
	c.e[2].function = 0x80000001;
	c.e[2].edx = 1u << 27;
	c.e[3].function = 0xB;
	c.e[4].function = 0xD;
	c.e[4].eax = 7;
	cpuid_edit(&c.h, &cfg);
	CHECK_EQ(c.e[0].ebx >> 24, 3);
	CHECK_EQ((c.e[0].ebx >> 16) & 0xff, 4);
	CHECK(c.e[0].ecx & (1u << 31));	 /* hypervisor */
	CHECK(!(c.e[0].ecx & (1u << 5))); /* no VMX */
	CHECK(c.e[0].ecx & (1u << 26));	 /* XSAVE kept without quirks */
	CHECK(c.e[2].edx & (1u << 27));	 /* RDTSCP kept */
	CHECK_EQ(c.e[3].edx, 3);
	cfg.pvm_quirks = true;
	cpuid_edit(&c.h, &cfg);
	CHECK(!(c.e[0].ecx & ((1u << 26) | (1u << 27) | (1u << 23))));
	CHECK(!(c.e[1].ebx & ((1u << 5) | (1u << 20))));
	CHECK(!(c.e[2].edx & (1u << 27)));
	CHECK_EQ(c.e[4].eax, 0);
}

static void test_emu_decode(void)
{
	static const struct {
		uint8_t b[15];
		size_t n;
		int lm;
		int ok;
		enum emu_insn kind;
		unsigned len;
	} cases[] = {
		{ { 0x0f, 0x01, 0xf9 }, 3, 1, 1, EMU_RDTSCP, 3 },
		{ { 0x0f, 0x01, 0xd0 }, 3, 1, 1, EMU_XGETBV, 3 },
		{ { 0x0f, 0x01, 0xca }, 3, 0, 1, EMU_CLAC, 3 },
		{ { 0x0f, 0x01, 0xcb }, 3, 1, 1, EMU_STAC, 3 },
		{ { 0xf3, 0x48, 0x0f, 0xb8, 0xc3 }, 5, 1, 1, EMU_POPCNT, 5 },		 /* popcnt rax, rbx */
		{ { 0xf3, 0x0f, 0xb8, 0x05, 1, 2, 3, 4 }, 8, 1, 1, EMU_POPCNT, 8 },	 /* rip-relative */
		{ { 0x66, 0xf3, 0x0f, 0xb8, 0x44, 0x24, 0x08 }, 7, 1, 1, EMU_POPCNT, 7 }, /* [rsp+8], 16-bit */
		{ { 0xf3, 0x4a, 0x0f, 0xb8, 0x04, 0xc5, 0, 0, 0, 0 }, 10, 1, 1, EMU_POPCNT, 10 }, /* SIB, no base */
		{ { 0xd9, 0xe8 }, 2, 1, 1, EMU_X87, 2 },
		{ { 0xdb, 0xe3 }, 2, 1, 1, EMU_X87, 2 },
		{ { 0xf0, 0x48, 0x0f, 0xc7, 0x4d, 0x20 }, 6, 1, 1, EMU_CMPXCHG16B, 6 }, /* lock cmpxchg16b 0x20(%rbp) */
		{ { 0x0f, 0xc7, 0x4d, 0x20 }, 4, 1, 0, 0, 0 },		  /* cmpxchg8b: not emulated */
		{ { 0x48, 0x0f, 0xae, 0x2f }, 4, 1, 1, EMU_XSAVE, 4 },	  /* xrstor64 (%rdi) */
		{ { 0x0f, 0xae, 0x27 }, 3, 1, 1, EMU_XSAVE, 3 },		  /* xsave (%rdi) */
		{ { 0x0f, 0xae, 0xe8 }, 3, 1, 0, 0, 0 },		  /* lfence: not ours */
		{ { 0xd9, 0xfa }, 2, 1, 0, 0, 0 },		  /* fsqrt: not emulated */
		{ { 0x0f, 0xb8, 0xc3 }, 3, 1, 0, 0, 0 },	  /* no f3: jmpe, not popcnt */
		{ { 0xf3, 0x0f, 0xb8, 0x84, 0x24 }, 5, 1, 0, 0, 0 }, /* truncated disp32 */
		{ { 0x0f, 0x01 }, 2, 1, 0, 0, 0 },		  /* truncated */
		{ { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66 }, 15, 1, 0, 0, 0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		enum emu_insn k = EMU__MAX;
		unsigned len = 0;
		int ret = emu_decode(cases[i].b, cases[i].n, cases[i].lm, &k, &len);

		if (cases[i].ok) {
			CHECK(ret == 0);
			CHECK_EQ(k, cases[i].kind);
			CHECK_EQ(len, cases[i].len);
		} else {
			CHECK(ret == -ENOTSUP);
		}
	}
	CHECK(!strcmp(emu_insn_name(EMU_POPCNT), "popcnt"));
}

int main(void)
{
	log_set_level(LOGL_ERR);
	test_layout();
	test_boot_tables();
	test_pgwalk_hostile();
	test_loader();
	test_cpuid();
	test_emu_decode();
	TEST_DONE("vmm");
}
