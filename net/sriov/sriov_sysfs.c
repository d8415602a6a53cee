// SPDX-License-Identifier: GPL-2.0-only
/*
 * sysfs side of SR-IOV management: the context, sriov_numvfs, virtfnN links, driver binding,
 * IOMMU group viability and the prepare/release lease. The kernel interfaces used are
 * Documentation/ABI/testing/sysfs-bus-pci (sriov_numvfs, sriov_totalvfs, driver_override,
 * drivers_probe, virtfnN) and Documentation/driver-api/vfio.rst (group viability).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sriov_priv.h"
#include "util.h"

#define VFIO_DRIVER "vfio-pci"

int sriov_create(const struct sriov_cfg *cfg, struct sriov **out)
{
	const char *root = cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys";
	struct sriov *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (strlen(root) >= sizeof(s->root) - 64) {
		log_err("sriov: sysfs root '%s' too long", root);
		free(s);
		return -EINVAL;
	}
	strcpy(s->root, root);
	s->settle_ms = cfg && cfg->settle_ms ? cfg->settle_ms : 5000;
	*out = s;
	return 0;
}

void sriov_destroy(struct sriov *s)
{
	if (!s)
		return;
	sriov_pci_cleanup(s);
	free(s);
}

int sriov_path(const struct sriov *s, char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, len, "%s/", s->root);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= len - (size_t)n)
		return -ENAMETOOLONG;
	return 0;
}

int sriov_read_attr(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int sriov_read_uint(const char *path, unsigned long *out)
{
	char buf[32], *end;
	int ret = sriov_read_attr(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*out = strtoul(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int sriov_write_attr(const char *path, const char *val)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(val);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int sriov_link_name(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

int sriov_first_entry(const char *path, char *out, size_t len)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = -ENOENT;

	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (strlen(e->d_name) < len) {
			strcpy(out, e->d_name);
			ret = 0;
		}
		break;
	}
	closedir(d);
	return ret;
}

int sriov_parse_addr(const char *str, char out[SRIOV_ADDR_LEN])
{
	unsigned dom = 0, bus, dev, fn;
	char tail;

	if (!str)
		return -EINVAL;
	if (sscanf(str, "%4x:%2x:%2x.%1u%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(str, "%2x:%2x.%1u%c", &bus, &dev, &fn, &tail) != 3)
			return -EINVAL;
	}
	/* Reject anything sscanf let through that sysfs would not name the same way. */
	for (const char *p = str; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (dev > 31 || fn > 7)
		return -EINVAL;
	snprintf(out, SRIOV_ADDR_LEN, "%04x:%02x:%02x.%u", dom, bus, dev, fn);
	return 0;
}

int sriov_vf_rid_addr(const char *pf, uint16_t offset, uint16_t stride, unsigned n,
		      char out[SRIOV_ADDR_LEN])
{
	unsigned dom, bus, dev, fn;
	uint32_t rid;

	if (sscanf(pf, "%4x:%2x:%2x.%1u", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	/* PCIe Base 4.0 s9.3.3.9-10: VF RID = PF RID + First VF Offset + (n) * VF Stride. */
	rid = (bus << 8 | dev << 3 | fn) + offset + (uint32_t)n * stride;
	if (rid > 0xffff)
		return -ERANGE;
	snprintf(out, SRIOV_ADDR_LEN, "%04x:%02x:%02x.%u", dom, rid >> 8, (rid >> 3) & 31, rid & 7);
	return 0;
}

int sriov_dev_driver(struct sriov *s, const char *dev, char drv[SRIOV_DRIVER_LEN])
{
	char p[PATH_MAX];
	int ret;

	drv[0] = '\0';
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s", dev);
	if (ret)
		return ret;
	if (access(p, F_OK))
		return -ENODEV;
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/driver", dev);
	if (ret)
		return ret;
	ret = sriov_link_name(p, drv, SRIOV_DRIVER_LEN);
	if (ret == -ENOENT) {
		drv[0] = '\0';
		return 0;
	}
	return ret;
}

static int dev_ifname(struct sriov *s, const char *dev, char ifname[IF_NAMESIZE])
{
	char p[PATH_MAX];
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/net", dev);

	ifname[0] = '\0';
	if (ret)
		return ret;
	ret = sriov_first_entry(p, ifname, IF_NAMESIZE);
	if (ret)
		ifname[0] = '\0';
	return ret;
}

static int dev_id(struct sriov *s, const char *dev, const char *attr, uint16_t *out)
{
	char p[PATH_MAX];
	unsigned long v;
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/%s", dev, attr);

	if (!ret)
		ret = sriov_read_uint(p, &v);
	if (ret)
		return ret;
	if (v > 0xffff)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int sriov_pf_get(struct sriov *s, const char *pf, struct sriov_pf_info *out)
{
	char addr[SRIOV_ADDR_LEN], p[PATH_MAX];
	int ret;

	memset(out, 0, sizeof(*out));
	if (sriov_parse_addr(pf, addr)) {
		log_err("sriov: '%s' is not a PCI address (dddd:bb:dd.f)", pf ? pf : "(null)");
		return -EINVAL;
	}
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s", addr);
	if (ret)
		return ret;
	if (access(p, F_OK)) {
		log_err("sriov: no PCI device %s", addr);
		return -ENODEV;
	}
	ret = sriov_pci_read_cap(s, addr, out);
	if (ret == -ENOTSUP)
		log_err("sriov: %s has no SR-IOV capability (not an SR-IOV physical function)",
			addr);
	if (ret)
		return ret;
	strcpy(out->addr, addr);
	ret = sriov_dev_driver(s, addr, out->driver);
	if (ret)
		return ret;
	(void)dev_ifname(s, addr, out->ifname);
	return 0;
}

static int addr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sriov_pf_info *)a)->addr,
		      ((const struct sriov_pf_info *)b)->addr);
}

int sriov_pf_list(struct sriov *s, struct sriov_pf_info *out, unsigned max, unsigned *nr)
{
	char p[PATH_MAX], addr[SRIOV_ADDR_LEN];
	struct dirent *e;
	DIR *d;
	int ret;

	*nr = 0;
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices");
	if (ret)
		return ret;
	d = opendir(p);
	if (!d) {
		ret = -errno;
		log_err("sriov: %s: %s", p, strerror(-ret));
		return ret;
	}
	while ((e = readdir(d)) && *nr < max) {
		char physfn[PATH_MAX];

		if (sriov_parse_addr(e->d_name, addr) || strcmp(addr, e->d_name))
			continue;
		/* A VF has a physfn link; VFs have no SR-IOV capability of their own anyway. */
		if (sriov_path(s, physfn, sizeof(physfn), "bus/pci/devices/%s/physfn", addr) ||
		    !access(physfn, F_OK))
			continue;
		if (sriov_pci_read_cap(s, addr, &out[*nr]))
			continue;
		strcpy(out[*nr].addr, addr);
		if (sriov_dev_driver(s, addr, out[*nr].driver))
			out[*nr].driver[0] = '\0';
		(void)dev_ifname(s, addr, out[*nr].ifname);
		(*nr)++;
	}
	closedir(d);
	qsort(out, *nr, sizeof(*out), addr_cmp);
	return 0;
}

int sriov_vf_get(struct sriov *s, const char *pf, unsigned vf, struct sriov_vf_info *out)
{
	struct sriov_pf_info pi;
	char p[PATH_MAX], expect[SRIOV_ADDR_LEN];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sriov_pf_get(s, pf, &pi);
	if (ret)
		return ret;
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/virtfn%u", pi.addr, vf);
	if (ret)
		return ret;
	ret = sriov_link_name(p, out->addr, sizeof(out->addr));
	if (ret || vf >= pi.num_vfs) {
		log_err("sriov: %s has no VF %u (NumVFs %u)", pi.addr, vf, pi.num_vfs);
		return -ENODEV;
	}
	ret = sriov_vf_rid_addr(pi.addr, pi.vf_offset, pi.vf_stride, vf, expect);
	if (ret || strcmp(expect, out->addr)) {
		log_err("sriov: %s virtfn%u is %s but First VF Offset %u / VF Stride %u say %s",
			pi.addr, vf, out->addr, pi.vf_offset, pi.vf_stride,
			ret ? "(out of range)" : expect);
		return -EIO;
	}
	out->index = vf;
	if (dev_id(s, out->addr, "vendor", &out->vendor_id) ||
	    dev_id(s, out->addr, "device", &out->device_id)) {
		out->vendor_id = pi.vendor_id;
		out->device_id = pi.vf_device_id;
	}
	ret = sriov_dev_driver(s, out->addr, out->driver);
	if (ret)
		return ret;
	ret = sriov_iommu_group(s, out->addr);
	out->iommu_group = ret < 0 ? -1 : ret;
	(void)dev_ifname(s, out->addr, out->ifname);
	return 0;
}

/* True when any of the first @n VFs of @pf is bound to vfio-pci. */
static bool vfs_assigned(struct sriov *s, const char *pf, unsigned n, char *which, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		char p[PATH_MAX], vf[SRIOV_ADDR_LEN], drv[SRIOV_DRIVER_LEN];

		if (sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/virtfn%u", pf, i) ||
		    sriov_link_name(p, vf, sizeof(vf)))
			continue;
		if (!sriov_dev_driver(s, vf, drv) && !strcmp(drv, VFIO_DRIVER)) {
			snprintf(which, len, "%s", vf);
			return true;
		}
	}
	return false;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int sriov_set_num_vfs(struct sriov *s, const char *pf, unsigned n)
{
	struct sriov_pf_info pi;
	char p[PATH_MAX], val[16], busy[SRIOV_ADDR_LEN];
	unsigned long cur, total;
	uint64_t deadline;
	int ret;

	ret = sriov_pf_get(s, pf, &pi);
	if (ret)
		return ret;
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/sriov_totalvfs", pi.addr);
	if (ret)
		return ret;
	if (sriov_read_uint(p, &total))
		total = pi.total_vfs;
	if (n > total) {
		log_err("sriov: %s supports at most %lu VFs, %u requested", pi.addr, total, n);
		return -ERANGE;
	}
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/sriov_numvfs", pi.addr);
	if (ret)
		return ret;
	ret = sriov_read_uint(p, &cur);
	if (ret) {
		log_err("sriov: %s: no sriov_numvfs (driver '%s' does not support SR-IOV): %s",
			pi.addr, pi.driver[0] ? pi.driver : "none", strerror(-ret));
		return ret == -ENOENT ? -ENOTSUP : ret;
	}
	if (cur == n)
		return 0;
	if (vfs_assigned(s, pi.addr, (unsigned)cur, busy, sizeof(busy))) {
		log_err("sriov: %s: VF %s is bound to vfio-pci (assigned to a guest); release it "
			"first",
			pi.addr, busy);
		return -EBUSY;
	}
	/* The kernel refuses to change a non-zero count directly (sriov_numvfs_store: -EBUSY). */
	if (cur && n) {
		ret = sriov_write_attr(p, "0");
		if (ret) {
			log_err("sriov: %s: writing 0 to sriov_numvfs: %s", pi.addr,
				strerror(-ret));
			return ret;
		}
	}
	snprintf(val, sizeof(val), "%u", n);
	ret = sriov_write_attr(p, val);
	if (ret) {
		log_err("sriov: %s: writing %u to sriov_numvfs: %s", pi.addr, n, strerror(-ret));
		return ret;
	}
	if (!n)
		return 0;
	/* VF devices are added asynchronously to the write on some drivers: wait for the last. */
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/virtfn%u", pi.addr, n - 1);
	if (ret)
		return ret;
	deadline = clock_ms() + s->settle_ms;
	while (access(p, F_OK)) {
		if (clock_ms() > deadline) {
			log_err("sriov: %s: virtfn%u did not appear within %u ms", pi.addr, n - 1,
				s->settle_ms);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	return 0;
}

int sriov_iommu_group(struct sriov *s, const char *dev)
{
	char p[PATH_MAX], name[32], *end;
	unsigned long g;
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/iommu_group", dev);

	if (ret)
		return ret;
	ret = sriov_link_name(p, name, sizeof(name));
	if (ret)
		return -ENXIO;
	errno = 0;
	g = strtoul(name, &end, 10);
	if (errno || end == name || *end || g > INT32_MAX)
		return -EIO;
	return (int)g;
}

static int group_check(struct sriov *s, int group, const char *moving)
{
	char p[PATH_MAX];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;
	int ret;

	ret = sriov_path(s, p, sizeof(p), "kernel/iommu_groups/%d/devices", group);
	if (ret)
		return ret;
	d = opendir(p);
	if (!d) {
		log_err("sriov: IOMMU group %d: %s: %s", group, p, strerror(errno));
		return -ENXIO;
	}
	ret = 0;
	while ((e = readdir(d))) {
		char drv[SRIOV_DRIVER_LEN];

		if (e->d_name[0] == '.')
			continue;
		n++;
		if (moving && !strcmp(e->d_name, moving))
			continue;
		if (sriov_dev_driver(s, e->d_name, drv))
			continue; /* not a PCI device of ours (bridge of another bus): not bound
				     here */
		/* pci-stub binds to keep host drivers away; the kernel allows it in VFIO groups
		 * (drivers/vfio: vfio_driver_allowed) and so do we. */
		if (drv[0] && strcmp(drv, VFIO_DRIVER) && strcmp(drv, "pci-stub")) {
			log_err("sriov: IOMMU group %d is not viable: %s is bound to host driver "
				"%s "
				"(every device of the group must be bound to vfio-pci or to none)",
				group, e->d_name, drv);
			ret = -EPERM;
			break;
		}
	}
	closedir(d);
	if (!ret && !n) {
		log_err("sriov: IOMMU group %d has no devices", group);
		ret = -ENXIO;
	}
	return ret;
}

int sriov_group_viable(struct sriov *s, int group)
{
	return group_check(s, group, NULL);
}

static int vfio_available(struct sriov *s)
{
	char p[PATH_MAX];
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/drivers/" VFIO_DRIVER);

	if (ret)
		return ret;
	if (access(p, F_OK)) {
		log_err("sriov: the vfio-pci driver is not loaded (%s missing): modprobe vfio-pci",
			p);
		return -ENOENT;
	}
	return 0;
}

static int probe(struct sriov *s, const char *dev)
{
	char p[PATH_MAX];
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/drivers_probe");

	return ret ? ret : sriov_write_attr(p, dev);
}

static int unbind_current(struct sriov *s, const char *dev)
{
	char p[PATH_MAX];
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/driver/unbind", dev);

	if (ret)
		return ret;
	ret = sriov_write_attr(p, dev);
	return ret == -ENOENT ? 0 : ret; /* no driver: nothing to unbind */
}

static int set_override(struct sriov *s, const char *dev, const char *drv)
{
	char p[PATH_MAX];
	int ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/driver_override", dev);

	/* An empty line clears the override (sysfs-bus-pci: driver_override). */
	return ret ? ret : sriov_write_attr(p, drv ? drv : "\n");
}

int sriov_bind_vfio(struct sriov *s, const char *dev, char orig_driver[SRIOV_DRIVER_LEN])
{
	char addr[SRIOV_ADDR_LEN], drv[SRIOV_DRIVER_LEN];
	int group, ret;

	orig_driver[0] = '\0';
	if (sriov_parse_addr(dev, addr)) {
		log_err("sriov: '%s' is not a PCI address", dev);
		return -EINVAL;
	}
	ret = sriov_dev_driver(s, addr, orig_driver);
	if (ret) {
		log_err("sriov: no PCI device %s", addr);
		return ret;
	}
	if (!strcmp(orig_driver, VFIO_DRIVER)) {
		log_err("sriov: %s is already bound to vfio-pci (in use by another guest?)", addr);
		orig_driver[0] = '\0';
		return -EBUSY;
	}
	group = sriov_iommu_group(s, addr);
	if (group < 0) {
		log_err("sriov: %s has no IOMMU group: no IOMMU is enabled (boot with "
			"intel_iommu=on "
			"or amd_iommu=on on hardware with VT-d / AMD-Vi)",
			addr);
		return -ENXIO;
	}
	ret = vfio_available(s);
	if (ret)
		return ret;
	ret = group_check(s, group, addr);
	if (ret)
		return ret;

	ret = set_override(s, addr, VFIO_DRIVER);
	if (ret) {
		log_err("sriov: %s: driver_override: %s", addr, strerror(-ret));
		return ret;
	}
	ret = unbind_current(s, addr);
	if (ret) {
		log_err("sriov: %s: unbinding %s: %s", addr, orig_driver, strerror(-ret));
		goto undo_override;
	}
	ret = probe(s, addr);
	if (ret) {
		log_err("sriov: %s: probing vfio-pci: %s", addr, strerror(-ret));
		goto undo_bind;
	}
	if (sriov_dev_driver(s, addr, drv) || strcmp(drv, VFIO_DRIVER)) {
		log_err("sriov: %s: vfio-pci did not take the device (driver now '%s')", addr, drv);
		ret = -EIO;
		goto undo_bind;
	}
	return 0;

undo_bind:
	(void)unbind_current(s, addr);
undo_override:
	(void)set_override(s, addr, NULL);
	if (orig_driver[0])
		(void)probe(s, addr);
	return ret;
}

int sriov_unbind_vfio(struct sriov *s, const char *dev, const char *orig_driver)
{
	char addr[SRIOV_ADDR_LEN], drv[SRIOV_DRIVER_LEN], p[PATH_MAX];
	int ret, first = 0;

	if (sriov_parse_addr(dev, addr))
		return -EINVAL;
	ret = sriov_dev_driver(s, addr, drv);
	if (ret)
		return ret;
	if (!strcmp(drv, VFIO_DRIVER)) {
		ret = unbind_current(s, addr);
		if (ret) {
			log_err("sriov: %s: unbinding vfio-pci: %s", addr, strerror(-ret));
			first = ret;
		}
	}
	ret = set_override(s, addr, NULL);
	if (ret) {
		log_err("sriov: %s: clearing driver_override: %s", addr, strerror(-ret));
		first = first ? first : ret;
	}
	if (orig_driver && orig_driver[0]) {
		ret = sriov_path(s, p, sizeof(p), "bus/pci/drivers/%s/bind", orig_driver);
		if (!ret)
			ret = sriov_write_attr(p, addr);
		if (ret && ret != -EEXIST && ret != -EBUSY) {
			log_err("sriov: %s: binding %s again: %s", addr, orig_driver,
				strerror(-ret));
			first = first ? first : ret;
		}
	}
	return first;
}

static void cfg_from_state(const struct sriov_vf_state *st, struct sriov_vf_cfg *cfg)
{
	sriov_vf_cfg_init(cfg);
	cfg->set_mac = true;
	memcpy(cfg->mac, st->mac, 6);
	cfg->vlan = (int)st->vlan;
	cfg->qos = (int)st->qos;
	cfg->spoofchk = st->spoofchk;
	cfg->trust = st->trust;
	/* Link state is left alone: drivers without ndo_set_vf_link_state (igb) refuse it. */
	cfg->min_tx_rate = st->min_tx_rate;
	cfg->max_tx_rate = st->max_tx_rate;
}

int sriov_vf_prepare(struct sriov *s, const char *pf, unsigned vf, const struct sriov_vf_cfg *cfg,
		     struct sriov_lease **out)
{
	struct sriov_vf_info vi;
	struct sriov_lease *l;
	int ret;

	ret = sriov_vf_get(s, pf, vf, &vi);
	if (ret)
		return ret;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	if (sriov_parse_addr(pf, l->pf)) {
		free(l);
		return -EINVAL;
	}
	l->vf = vf;
	strcpy(l->vf_addr, vi.addr);
	l->iommu_group = vi.iommu_group;
	if (!strcmp(vi.driver, VFIO_DRIVER)) {
		log_err("sriov: VF %u of %s (%s) is already bound to vfio-pci (in use)", vf, l->pf,
			vi.addr);
		ret = -EBUSY;
		goto fail;
	}
	if (cfg) {
		l->have_state = !sriov_vf_query(s, l->pf, vf, &l->orig_state);
		ret = sriov_vf_configure(s, l->pf, vf, cfg);
		if (ret)
			goto fail;
	}
	ret = sriov_bind_vfio(s, vi.addr, l->orig_driver);
	if (ret)
		goto restore;
	l->iommu_group = sriov_iommu_group(s, vi.addr);
	*out = l;
	return 0;

restore:
	if (l->have_state) {
		struct sriov_vf_cfg c;

		cfg_from_state(&l->orig_state, &c);
		if (sriov_vf_configure(s, l->pf, vf, &c))
			log_warn("sriov: VF %u of %s: original settings not restored", vf, l->pf);
	}
fail:
	free(l);
	return ret;
}

int sriov_vf_release(struct sriov *s, struct sriov_lease *l)
{
	int ret, first;

	if (!l)
		return 0;
	first = sriov_unbind_vfio(s, l->vf_addr, l->orig_driver);
	if (l->have_state) {
		struct sriov_vf_cfg c;

		cfg_from_state(&l->orig_state, &c);
		ret = sriov_vf_configure(s, l->pf, l->vf, &c);
		first = first ? first : ret;
	}
	free(l);
	return first;
}

/* sysfs-bus-pci: a VF's physfn links to its PF; the PF's virtfnN link to its VFs. */
#define SRIOV_MAX_VF_INDEX 65536 /* TotalVFs is 16 bits (PCIe Base 4.0 s9.3.3.6) */

int sriov_vf_locate(struct sriov *s, const char *vf_addr, char pf[SRIOV_ADDR_LEN], unsigned *index)
{
	char addr[SRIOV_ADDR_LEN], p[PATH_MAX], name[SRIOV_ADDR_LEN];
	int ret;

	if (sriov_parse_addr(vf_addr, addr)) {
		log_err("sriov: '%s' is not a PCI address", vf_addr);
		return -EINVAL;
	}
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s", addr);
	if (ret)
		return ret;
	if (access(p, F_OK)) {
		log_err("sriov: no PCI device %s", addr);
		return -ENODEV;
	}
	ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/physfn", addr);
	if (ret)
		return ret;
	ret = sriov_link_name(p, name, sizeof(name));
	if (ret == -ENOENT) {
		log_err("sriov: %s is not an SR-IOV VF (no physfn link)", addr);
		return -ENOTSUP;
	}
	if (ret || sriov_parse_addr(name, pf)) {
		log_err("sriov: %s: unreadable physfn link", addr);
		return -EIO;
	}
	/* virtfnN are dense from 0 up to NumVFs - 1: stop at the first missing one */
	for (unsigned i = 0; i < SRIOV_MAX_VF_INDEX; i++) {
		char vf[SRIOV_ADDR_LEN];

		ret = sriov_path(s, p, sizeof(p), "bus/pci/devices/%s/virtfn%u", pf, i);
		if (ret)
			return ret;
		if (sriov_link_name(p, vf, sizeof(vf)))
			break;
		if (!strcmp(vf, addr)) {
			*index = i;
			return 0;
		}
	}
	log_err("sriov: %s names PF %s, but no virtfnN link of the PF points back to it", addr, pf);
	return -EIO;
}

int sriov_vf_check(struct sriov *s, const char *dev)
{
	char addr[SRIOV_ADDR_LEN], drv[SRIOV_DRIVER_LEN];
	int group, ret;

	if (sriov_parse_addr(dev, addr)) {
		log_err("sriov: '%s' is not a PCI address", dev);
		return -EINVAL;
	}
	ret = sriov_dev_driver(s, addr, drv);
	if (ret) {
		log_err("sriov: no PCI device %s", addr);
		return ret;
	}
	if (!strcmp(drv, VFIO_DRIVER)) {
		log_err("sriov: %s is already bound to vfio-pci (in use by another guest?)", addr);
		return -EBUSY;
	}
	group = sriov_iommu_group(s, addr);
	if (group < 0) {
		log_err("sriov: %s has no IOMMU group: no IOMMU is enabled", addr);
		return -ENXIO;
	}
	ret = vfio_available(s);
	if (ret)
		return ret;
	return group_check(s, group, addr);
}
