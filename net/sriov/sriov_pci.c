// SPDX-License-Identifier: GPL-2.0-only
/*
 * SR-IOV capability discovery through libpci (pciutils), reading config space from
 * <root>/bus/pci/devices/ADDR/config (libpci's linux_sysfs method with sysfs.path set to the
 * context's root, so the unit tests can point it at a fake tree).
 *
 * libpci reports fatal problems through pci_access.error, which must not return: ours logs and
 * longjmps back to the call that entered libpci, so a malformed tree yields -EIO instead of exit().
 */
#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sriov_priv.h"

static __thread sigjmp_buf *pci_jmp;

static void __attribute__((noreturn, format(printf, 1, 2))) pci_error(char *msg, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	log_err("sriov: libpci: %s", buf);
	if (pci_jmp)
		siglongjmp(*pci_jmp, 1);
	abort(); /* only reachable through a libpci call outside sriov_pci_read_cap: a bug */
}

static void __attribute__((format(printf, 1, 2))) pci_warning(char *msg, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(buf, sizeof(buf), msg, ap);
	va_end(ap);
	log_debug("sriov: libpci: %s", buf);
}

static void __attribute__((format(printf, 1, 2))) pci_debug(char *msg, ...)
{
	(void)msg;
}

static int pci_open(struct sriov *s)
{
	char path[PATH_MAX];
	struct pci_access *a;

	if (s->pacc)
		return 0;
	if (sriov_path(s, path, sizeof(path), "bus/pci"))
		return -ENAMETOOLONG;
	a = pci_alloc();
	if (!a)
		return -ENOMEM;
	a->error = pci_error;
	a->warning = pci_warning;
	a->debug = pci_debug;
	a->method = PCI_ACCESS_SYS_BUS_PCI;
	if (pci_set_param(a, "sysfs.path", path)) {
		pci_cleanup(a);
		return -EINVAL;
	}
	pci_init(a);
	s->pacc = a;
	return 0;
}

void sriov_pci_cleanup(struct sriov *s)
{
	if (s->pacc)
		pci_cleanup(s->pacc);
	s->pacc = NULL;
}

int sriov_pci_read_cap(struct sriov *s, const char *addr, struct sriov_pf_info *out)
{
	volatile int ret = 0;
	struct pci_dev *volatile d = NULL;
	unsigned dom, bus, dev, fn;
	sigjmp_buf jb;
	struct pci_cap *cap;
	unsigned base;

	memset(out, 0, sizeof(*out));
	if (sscanf(addr, "%4x:%2x:%2x.%1u", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	if (sigsetjmp(jb, 0)) {
		pci_jmp = NULL;
		if (d)
			pci_free_dev(d);
		return -EIO;
	}
	pci_jmp = &jb;
	ret = pci_open(s);
	if (ret) {
		pci_jmp = NULL;
		log_err("sriov: libpci: cannot open %s/bus/pci: %s", s->root, strerror(-ret));
		return ret;
	}
	d = pci_get_dev(s->pacc, (int)dom, (int)bus, (int)dev, (int)fn);
	if (!d) {
		ret = -ENOMEM;
		goto out;
	}
	pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
	if (d->vendor_id == 0xffff) {
		ret = -ENODEV;
		goto out;
	}
	out->vendor_id = d->vendor_id;
	out->device_id = d->device_id;
	/* PCIe Base 4.0 s9.3.3: SR-IOV Extended Capability. */
	cap = pci_find_cap(d, PCI_EXT_CAP_ID_SRIOV, PCI_CAP_EXTENDED);
	if (!cap) {
		ret = -ENOTSUP;
		goto out;
	}
	base = cap->addr;
	if (base < 0x100 || base > 0x1000 - 0x40) {
		ret = -EIO;
		goto out;
	}
	out->cap_offset = base;
	out->initial_vfs = pci_read_word(d, (int)base + PCI_IOV_INITIALVF);
	out->total_vfs = pci_read_word(d, (int)base + PCI_IOV_TOTALVF);
	out->num_vfs = pci_read_word(d, (int)base + PCI_IOV_NUMVF);
	out->vf_offset = pci_read_word(d, (int)base + PCI_IOV_OFFSET);
	out->vf_stride = pci_read_word(d, (int)base + PCI_IOV_STRIDE);
	out->vf_device_id = pci_read_word(d, (int)base + PCI_IOV_DID);
	/* NumVFs only counts while VF Enable is set (s9.3.3.3.1). */
	if (!(pci_read_word(d, (int)base + PCI_IOV_CTRL) & PCI_IOV_CTRL_VFE))
		out->num_vfs = 0;
	if (out->num_vfs > out->total_vfs)
		ret = -EIO; /* s9.3.3.7: NumVFs <= TotalVFs; config space is not to be trusted */
out:
	pci_jmp = NULL;
	pci_free_dev(d);
	return ret;
}
