/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by the net/sriov files; not a public interface. */
#ifndef NFV_NET_SRIOV_PRIV_H
#define NFV_NET_SRIOV_PRIV_H

#include <limits.h>
#include <stddef.h>

#include "sriov.h"

struct pci_access;

struct sriov {
	char root[PATH_MAX / 2]; /* sysfs mount point */
	unsigned settle_ms;
	struct pci_access *pacc; /* libpci, created on first use */
};

/* snprintf into @buf (PATH_MAX) "<root>/<fmt>"; -ENAMETOOLONG when it does not fit. */
int sriov_path(const struct sriov *s, char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), warn_unused_result));
/* Read a sysfs attribute (at most len-1 bytes, trailing newline removed). 0 or -errno. */
int sriov_read_attr(const char *path, char *buf, size_t len) __attribute__((warn_unused_result));
int sriov_read_uint(const char *path, unsigned long *out) __attribute__((warn_unused_result));
/* Write @val to a sysfs attribute in one write(2). 0 or -errno. */
int sriov_write_attr(const char *path, const char *val) __attribute__((warn_unused_result));
/* Basename of the target of symlink @path into @out. 0 or -errno (-ENOENT: no link). */
int sriov_link_name(const char *path, char *out, size_t len) __attribute__((warn_unused_result));
/* First entry of directory @path (skipping dot entries) into @out; -ENOENT when empty/missing. */
int sriov_first_entry(const char *path, char *out, size_t len) __attribute__((warn_unused_result));

/* libpci part (sriov_pci.c). */
int sriov_pci_read_cap(struct sriov *s, const char *addr, struct sriov_pf_info *out)
	__attribute__((warn_unused_result));
void sriov_pci_cleanup(struct sriov *s);

/* Routing ID arithmetic of PCIe Base 4.0 s9.3.3.9/10: address of VF @n (0-based) of @pf. */
int sriov_vf_rid_addr(const char *pf, uint16_t offset, uint16_t stride, unsigned n,
		      char out[SRIOV_ADDR_LEN]) __attribute__((warn_unused_result));

#endif
