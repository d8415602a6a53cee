// SPDX-License-Identifier: GPL-2.0-only
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int loader_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int loader_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

int loader_elf64(struct gmem *gm, const uint8_t *img, size_t len, uint64_t min_gpa, struct loader_result *res,
		 char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	unsigned loaded = 0;

	if (len < sizeof(eh))
		return loader_fail(err, errlen, -ENOEXEC, "file is %zu bytes, shorter than an ELF header", len);
	memcpy(&eh, img, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return loader_fail(err, errlen, -ENOEXEC, "not an ELF file (bad e_ident magic)");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return loader_fail(err, errlen, -ENOEXEC, "e_ident: need ELFCLASS64 little-endian");
	if (eh.e_machine != EM_X86_64)
		return loader_fail(err, errlen, -ENOEXEC, "e_machine %u is not x86-64", eh.e_machine);
	if (eh.e_type != ET_EXEC)
		return loader_fail(err, errlen, -ENOEXEC, "e_type %u is not ET_EXEC", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return loader_fail(err, errlen, -ENOEXEC, "e_phentsize %u", eh.e_phentsize);
	if (eh.e_phnum == 0 || eh.e_phnum > 64)
		return loader_fail(err, errlen, -ENOEXEC, "e_phnum %u out of range 1..64", eh.e_phnum);
	if (eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff)
		return loader_fail(err, errlen, -ENOEXEC, "program headers (e_phoff 0x%llx) past the end of file",
				   (unsigned long long)eh.e_phoff);

	res->lowest = UINT64_MAX;
	res->highest = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return loader_fail(err, errlen, -ENOEXEC, "segment %u: p_filesz > p_memsz", i);
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return loader_fail(err, errlen, -ENOEXEC, "segment %u: p_offset/p_filesz past the end of file",
					   i);
		if (ph.p_paddr < min_gpa)
			return loader_fail(err, errlen, -EINVAL, "segment %u: p_paddr 0x%llx below 0x%llx", i,
					   (unsigned long long)ph.p_paddr, (unsigned long long)min_gpa);
		dst = gmem_ptr(gm, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return loader_fail(err, errlen, -EFAULT,
					   "segment %u: p_paddr 0x%llx + p_memsz 0x%llx is outside guest RAM", i,
					   (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
		if (ph.p_paddr < res->lowest)
			res->lowest = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > res->highest)
			res->highest = ph.p_paddr + ph.p_memsz;
		loaded++;
	}
	if (!loaded)
		return loader_fail(err, errlen, -ENOEXEC, "no PT_LOAD segment");
	if (eh.e_entry < res->lowest || eh.e_entry >= res->highest)
		return loader_fail(err, errlen, -ENOEXEC, "e_entry 0x%llx is outside the loaded segments",
				   (unsigned long long)eh.e_entry);
	res->entry = eh.e_entry;
	return 0;
}

int loader_flat(struct gmem *gm, const uint8_t *img, size_t len, uint64_t gpa, struct loader_result *res,
		char *err, size_t errlen)
{
	if (len == 0)
		return loader_fail(err, errlen, -ENOEXEC, "empty image");
	if (gmem_write(gm, gpa, img, len))
		return loader_fail(err, errlen, -EFAULT, "%zu bytes at 0x%llx do not fit in guest RAM", len,
				   (unsigned long long)gpa);
	res->entry = gpa;
	res->lowest = gpa;
	res->highest = gpa + len;
	return 0;
}

int loader_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	uint8_t *b;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return ret;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, b + done, (size_t)st.st_size - done);

		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			free(b);
			close(fd);
			return ret;
		}
		done += (size_t)n;
	}
	close(fd);
	*buf = b;
	*len = done;
	return 0;
}
