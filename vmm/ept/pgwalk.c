// SPDX-License-Identifier: GPL-2.0-only
#include "pgwalk.h"

#include <errno.h>
#include <string.h>

#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull /* bits 51:12 */

static int pgwalk_check(uint64_t pte, unsigned access, bool *wr, bool *us, bool *nx)
{
	if (!(pte & PTE_P))
		return -ENOENT;
	*wr = *wr && (pte & PTE_RW);
	*us = *us && (pte & PTE_US);
	*nx = *nx || (pte & PTE_NX);
	(void)access;
	return 0;
}

static int pgwalk_rights(const struct pgwalk_mode *m, unsigned access, bool wr, bool us, bool nx)
{
	if ((access & PGWALK_USER) && !us)
		return -EACCES;
	if ((access & PGWALK_WRITE) && !wr && ((access & PGWALK_USER) || (m->cr0 & CR0_WP)))
		return -EACCES;
	if ((access & PGWALK_FETCH) && nx && (m->efer & EFER_NXE))
		return -EACCES;
	return 0;
}

static int pgwalk_long(struct gmem *gm, const struct pgwalk_mode *m, uint64_t gva, unsigned access,
		       uint64_t *gpa)
{
	int levels = (m->cr4 & CR4_LA57) ? 5 : 4;
	int va_bits = 12 + 9 * levels;
	uint64_t table = m->cr3 & PTE_ADDR_MASK;
	bool wr = true, us = true, nx = false;
	int64_t sx = (int64_t)(gva << (64 - va_bits)) >> (64 - va_bits);

	if ((uint64_t)sx != gva)
		return -EINVAL; /* non-canonical */
	for (int level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t idx = (gva >> shift) & 511, pte;
		int ret;

		if (gmem_read(gm, table + idx * 8, &pte, 8))
			return -EFAULT;
		ret = pgwalk_check(pte, access, &wr, &us, &nx);
		if (ret)
			return ret;
		if (level <= 3 && level >= 2 && (pte & PTE_PS)) {
			uint64_t page_mask = (1ull << shift) - 1;

			ret = pgwalk_rights(m, access, wr, us, nx);
			if (ret)
				return ret;
			*gpa = ((pte & PTE_ADDR_MASK) & ~page_mask) | (gva & page_mask);
			return 0;
		}
		if (level > 3 && (pte & PTE_PS))
			return -EINVAL; /* PS is reserved in PML4E/PML5E */
		table = pte & PTE_ADDR_MASK;
	}
	int ret = pgwalk_rights(m, access, wr, us, nx);

	if (ret)
		return ret;
	*gpa = table | (gva & 0xFFF);
	return 0;
}

static int pgwalk_pae(struct gmem *gm, const struct pgwalk_mode *m, uint64_t gva, unsigned access,
		      uint64_t *gpa)
{
	uint64_t pdpte, pde, pte;
	bool wr = true, us = true, nx = false;
	int ret;

	gva &= 0xFFFFFFFFull;
	if (gmem_read(gm, (m->cr3 & ~0x1Full) + ((gva >> 30) & 3) * 8, &pdpte, 8))
		return -EFAULT;
	if (!(pdpte & PTE_P))
		return -ENOENT;
	if (gmem_read(gm, (pdpte & PTE_ADDR_MASK) + ((gva >> 21) & 511) * 8, &pde, 8))
		return -EFAULT;
	ret = pgwalk_check(pde, access, &wr, &us, &nx);
	if (ret)
		return ret;
	if (pde & PTE_PS) {
		ret = pgwalk_rights(m, access, wr, us, nx);
		if (!ret)
			*gpa = (pde & PTE_ADDR_MASK & ~0x1FFFFFull) | (gva & 0x1FFFFF);
		return ret;
	}
	if (gmem_read(gm, (pde & PTE_ADDR_MASK) + ((gva >> 12) & 511) * 8, &pte, 8))
		return -EFAULT;
	ret = pgwalk_check(pte, access, &wr, &us, &nx);
	if (ret)
		return ret;
	ret = pgwalk_rights(m, access, wr, us, nx);
	if (!ret)
		*gpa = (pte & PTE_ADDR_MASK) | (gva & 0xFFF);
	return ret;
}

static int pgwalk_32(struct gmem *gm, const struct pgwalk_mode *m, uint64_t gva, unsigned access,
		     uint64_t *gpa)
{
	uint32_t pde, pte;
	bool wr = true, us = true, nx = false;
	int ret;

	gva &= 0xFFFFFFFFull;
	if (gmem_read(gm, (m->cr3 & 0xFFFFF000ull) + (gva >> 22) * 4, &pde, 4))
		return -EFAULT;
	ret = pgwalk_check(pde, access, &wr, &us, &nx);
	if (ret)
		return ret;
	if ((pde & PTE_PS) && (m->cr4 & CR4_PSE)) {
		/* 4 MiB page: bits 31:22 plus PSE-36 bits 20:13 as address bits 39:32 */
		uint64_t base = (pde & 0xFFC00000ull) | ((uint64_t)(pde >> 13) & 0xFF) << 32;

		ret = pgwalk_rights(m, access, wr, us, nx);
		if (!ret)
			*gpa = base | (gva & 0x3FFFFF);
		return ret;
	}
	if (gmem_read(gm, (pde & 0xFFFFF000ull) + ((gva >> 12) & 1023) * 4, &pte, 4))
		return -EFAULT;
	ret = pgwalk_check(pte, access, &wr, &us, &nx);
	if (ret)
		return ret;
	ret = pgwalk_rights(m, access, wr, us, nx);
	if (!ret)
		*gpa = (pte & 0xFFFFF000ull) | (gva & 0xFFF);
	return ret;
}

int pgwalk_translate(struct gmem *gm, const struct pgwalk_mode *m, uint64_t gva, unsigned access,
		     uint64_t *gpa)
{
	if (!(m->cr0 & CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (m->efer & EFER_LMA)
		return pgwalk_long(gm, m, gva, access, gpa);
	if (m->cr4 & CR4_PAE)
		return pgwalk_pae(gm, m, gva, access, gpa);
	return pgwalk_32(gm, m, gva, access, gpa);
}

int pgwalk_read(struct gmem *gm, const struct pgwalk_mode *m, uint64_t gva, void *dst, size_t len)
{
	uint8_t *out = dst;

	while (len) {
		size_t chunk = 4096 - (gva & 0xFFF);
		uint64_t gpa;
		int ret;

		if (chunk > len)
			chunk = len;
		ret = pgwalk_translate(gm, m, gva, PGWALK_READ, &gpa);
		if (ret)
			return ret;
		if (gmem_read(gm, gpa, out, chunk))
			return -EFAULT;
		out += chunk;
		gva += chunk;
		len -= chunk;
	}
	return 0;
}
