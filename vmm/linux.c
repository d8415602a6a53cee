// SPDX-License-Identifier: GPL-2.0-only
#include "linux.h"

#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"
#include "util.h"

/* Offsets in struct boot_params / setup header (boot.rst "THE REAL-MODE KERNEL HEADER"). */
#define BP_E820_ENTRIES 0x1e8
#define BP_HDR 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PAYLOAD_OFFSET 0x248
#define HDR_PAYLOAD_LENGTH 0x24c
#define HDR_PREF_ADDRESS 0x258
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

#define LINUX_MAX_DECOMPRESSED (512u << 20)

static int lfail(char *err, size_t errlen, int ret, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int lfail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, 2);
	return v;
}

int linux_is_bzimage(const uint8_t *img, size_t len)
{
	return len > 0x270 && rd32(img, HDR_MAGIC) == 0x53726448u; /* "HdrS" */
}

/* XZ payload -> malloc'ed buffer. The kernel build appends the decompressed size (le32). */
static int linux_unxz(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
	lzma_stream s = LZMA_STREAM_INIT;
	uint32_t size;
	uint8_t *buf;
	lzma_ret r;

	if (in_len < 16 || memcmp(in, "\xfd" "7zXZ", 6))
		return lfail(err, errlen, -ENOEXEC, "bzImage payload is not XZ (magic %02x %02x %02x); only XZ kernels "
				   "are supported", in[0], in[1], in[2]);
	size = rd32(in, in_len - 4);
	if (size == 0 || size > LINUX_MAX_DECOMPRESSED)
		return lfail(err, errlen, -EFBIG, "payload's decompressed size %u is out of range", size);
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		free(buf);
		return lfail(err, errlen, -ENOMEM, "XZ decoder set-up failed");
	}
	s.next_in = in;
	s.avail_in = in_len - 4;
	s.next_out = buf;
	s.avail_out = size;
	r = lzma_code(&s, LZMA_FINISH);
	lzma_end(&s);
	if (r != LZMA_STREAM_END || s.total_out != size) {
		free(buf);
		return lfail(err, errlen, -EINVAL, "XZ decompression of the payload failed (lzma %d after %llu bytes)", r,
			     (unsigned long long)s.total_out);
	}
	*out = buf;
	*out_len = size;
	return 0;
}

int linux_load(struct gmem *gm, const struct mem_layout *l, const uint8_t *img, size_t len, const uint8_t *initrd,
	       size_t initrd_len, const char *cmdline, struct linux_boot *out, char *err, size_t errlen)
{
	uint8_t *zp = gmem_ptr(gm, LINUX_ZERO_PAGE, 4096);
	uint8_t *vmlinux = NULL;
	size_t vmlinux_len = 0, clen = cmdline ? strlen(cmdline) : 0;
	struct loader_result res;
	uint64_t low_top = l->bank[0].size, initrd_max = 0x7fffffff;
	int ret;

	if (!zp)
		return lfail(err, errlen, -EFAULT, "guest RAM too small for the zero page");
	memset(zp, 0, 4096);
	if (clen >= LINUX_CMDLINE_MAX)
		return lfail(err, errlen, -E2BIG, "command line of %zu bytes exceeds %u", clen, LINUX_CMDLINE_MAX - 1);

	if (linux_is_bzimage(img, len)) {
		unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
		size_t setup_size = (setup_sects + 1) * 512, hdr_end = 0x202 + img[HDR_JUMP + 1];
		uint32_t poff = rd32(img, HDR_PAYLOAD_OFFSET), plen = rd32(img, HDR_PAYLOAD_LENGTH);
		uint16_t version = rd16(img, HDR_VERSION);

		if (version < 0x20c)
			return lfail(err, errlen, -ENOEXEC, "boot protocol %x.%02x: need 2.12 or later (64-bit entry)",
				     version >> 8, version & 0xff);
		if (!(rd16(img, HDR_XLOADFLAGS) & XLF_KERNEL_64))
			return lfail(err, errlen, -ENOEXEC, "xloadflags: no XLF_KERNEL_64 (not a 64-bit kernel)");
		if (hdr_end > 0x290 || hdr_end > len)
			return lfail(err, errlen, -ENOEXEC, "setup header end 0x%zx out of range", hdr_end);
		if (setup_size > len || poff > len - setup_size || plen > len - setup_size - poff)
			return lfail(err, errlen, -ENOEXEC, "payload_offset 0x%x / payload_length 0x%x past the end of the file",
				     poff, plen);
		ret = linux_unxz(img + setup_size + poff, plen, &vmlinux, &vmlinux_len, err, errlen);
		if (ret)
			return ret;
		memcpy(zp + BP_HDR, img + BP_HDR, hdr_end - BP_HDR);
		initrd_max = rd32(img, HDR_INITRD_ADDR_MAX);
		img = vmlinux;
		len = vmlinux_len;
	} else {
		/* A bare vmlinux: the fields of a setup header the kernel reads at 64-bit entry. */
		uint32_t magic = 0x53726448u, align = 0x1000000;
		uint16_t version = 0x20f;

		zp[HDR_BOOT_FLAG] = 0x55;
		zp[HDR_BOOT_FLAG + 1] = 0xaa;
		memcpy(zp + HDR_MAGIC, &magic, 4);
		memcpy(zp + HDR_VERSION, &version, 2);
		memcpy(zp + HDR_KERNEL_ALIGNMENT, &align, 4);
	}
	/* The decompressed payload is the vmlinux ELF (plus relocations, ignored: we load at the link address). */
	ret = loader_elf64(gm, img, len, 1 << 20, &res, err, errlen);
	free(vmlinux);
	if (ret)
		return ret;
	out->entry = res.entry;
	out->kernel_end = res.highest;
	out->zero_page = LINUX_ZERO_PAGE;

	zp[HDR_TYPE_OF_LOADER] = 0xff;
	zp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	{
		uint16_t heap_end = 0xfe00;
		uint32_t cptr = LINUX_CMDLINE;

		memcpy(zp + HDR_HEAP_END_PTR, &heap_end, 2);
		memcpy(zp + HDR_CMD_LINE_PTR, &cptr, 4);
	}
	if (gmem_write(gm, LINUX_CMDLINE, cmdline ? cmdline : "", clen + 1))
		return lfail(err, errlen, -EFAULT, "cannot place the command line");

	out->initrd_addr = out->initrd_size = 0;
	if (initrd && initrd_len) {
		uint64_t top = MIN(low_top, initrd_max + 1ull), addr;

		if (initrd_len > top)
			return lfail(err, errlen, -E2BIG, "initrd of %zu bytes does not fit below 0x%llx", initrd_len,
				     (unsigned long long)top);
		addr = ALIGN_DOWN(top - initrd_len, 4096);
		if (addr < ALIGN_UP(out->kernel_end, 4096))
			return lfail(err, errlen, -E2BIG, "initrd of %zu bytes overlaps the kernel (RAM too small?)", initrd_len);
		if (gmem_write(gm, addr, initrd, initrd_len))
			return lfail(err, errlen, -EFAULT, "cannot place the initrd at 0x%llx", (unsigned long long)addr);
		{
			uint32_t a = (uint32_t)addr, s = (uint32_t)initrd_len;

			memcpy(zp + HDR_RAMDISK_IMAGE, &a, 4);
			memcpy(zp + HDR_RAMDISK_SIZE, &s, 4);
		}
		out->initrd_addr = addr;
		out->initrd_size = initrd_len;
	}
	zp[BP_E820_ENTRIES] = (uint8_t)MIN(l->nr_e820, BP_E820_MAX);
	for (unsigned i = 0; i < l->nr_e820 && i < BP_E820_MAX; i++)
		memcpy(zp + BP_E820_TABLE + 20 * i, &l->e820[i], 20);
	return 0;
}
