// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of net/sriov against a fake sysfs tree in a temporary directory: an Intel 82576-like
 * PF (SR-IOV capability in its 4 KiB config file, read through libpci), two VFs with virtfnN /
 * physfn links, drivers and IOMMU groups; plus the rtnetlink message sriov_vf_configure sends,
 * parsed back attribute by attribute. No root, no hardware.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "sriov.h"
#include "../../net/sriov/sriov_priv.h"
#include "../unit/test.h"

static char root[200];

static void mkpath(const char *rel)
{
	char p[512], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	mkdir(p, 0755);
}

static void put(const char *rel, const void *data, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(p);
		exit(1);
	}
	close(fd);
}

static void puts_(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static void get(const char *rel, char *buf, size_t len)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (sriov_read_attr(p, buf, len))
		buf[0] = '\0';
}

static void link_(const char *target, const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	unlink(p);
	if (symlink(target, p)) {
		perror(p);
		exit(1);
	}
}

static void unlink_(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	unlink(p);
}

static void w16(uint8_t *c, unsigned off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *c, unsigned off, uint32_t v)
{
	w16(c, off, (uint16_t)v);
	w16(c, off + 2, (uint16_t)(v >> 16));
}

/* Config space of a PCIe endpoint; with @sriov an SR-IOV capability at 0x160 (as on the 82576). */
static void make_config(uint8_t c[4096], uint16_t vid, uint16_t did, bool sriov, uint16_t total,
			uint16_t num)
{
	memset(c, 0, 4096);
	w16(c, 0x00, vid);
	w16(c, 0x02, did);
	w16(c, 0x06, 0x0010); /* capability list */
	w32(c, 0x08, 0x02000001);
	c[0x34] = 0x40;
	c[0x40] = 0x10; /* PCI Express, next 0 */
	w16(c, 0x42, 0x0002);
	if (!sriov) {
		w32(c, 0x100, 0x00010001); /* AER, end of list */
		return;
	}
	w32(c, 0x100, 0x16010001u);	 /* AER, next 0x160 */
	w32(c, 0x160, 0x00010010u);	 /* SR-IOV v1, end */
	w16(c, 0x168, num ? 0x0019 : 0); /* VF Enable | VF MSE | ARI */
	w16(c, 0x16c, total);		 /* InitialVFs */
	w16(c, 0x16e, total);		 /* TotalVFs */
	w16(c, 0x170, num);		 /* NumVFs */
	w16(c, 0x174, 0x80);		 /* First VF Offset */
	w16(c, 0x176, 2);		 /* VF Stride */
	w16(c, 0x17a, 0x10ca);		 /* VF Device ID */
}

/* Write attribute @name of device @addr. */
static void dev_attr(const char *addr, const char *name, const char *val)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/%s", addr, name);
	puts_(rel, val);
}

static void make_dev(const char *addr, uint16_t vid, uint16_t did, const uint8_t *cfg,
		     const char *driver, int group)
{
	char rel[512], tgt[512], buf[64];

	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s", addr);
	mkpath(rel);
	snprintf(tgt, sizeof(tgt), "../../../devices/pci0000:00/%s", addr);
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s", addr);
	link_(tgt, rel);
	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/config", addr);
	put(rel, cfg, 4096);
	snprintf(buf, sizeof(buf), "0x%04x\n", vid);
	dev_attr(addr, "vendor", buf);
	snprintf(buf, sizeof(buf), "0x%04x\n", did);
	dev_attr(addr, "device", buf);
	dev_attr(addr, "class", "0x020000\n");
	dev_attr(addr, "irq", "0\n");
	dev_attr(addr, "resource", "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
	dev_attr(addr, "driver_override", "(null)\n");
	if (driver) {
		snprintf(tgt, sizeof(tgt), "../../../bus/pci/drivers/%s", driver);
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
		mkpath(rel);
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver", addr);
		link_(tgt, rel);
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver/unbind", addr);
		puts_(rel, "");
	}
	if (group >= 0) {
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices", group);
		mkpath(rel);
		snprintf(tgt, sizeof(tgt), "../../../kernel/iommu_groups/%d", group);
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/iommu_group", addr);
		link_(tgt, rel);
		snprintf(tgt, sizeof(tgt), "../../../../devices/pci0000:00/%s", addr);
		snprintf(rel, sizeof(rel), "kernel/iommu_groups/%d/devices/%s", group, addr);
		link_(tgt, rel);
	}
}

static const char *PF = "0000:01:00.0", *VF0 = "0000:01:10.0", *VF1 = "0000:01:10.2";

static void make_tree(void)
{
	uint8_t cfg[4096];

	mkpath("bus/pci/devices");
	mkpath("bus/pci/drivers/vfio-pci");
	puts_("bus/pci/drivers_probe", "");
	make_config(cfg, 0x8086, 0x10c9, true, 8, 2);
	make_dev(PF, 0x8086, 0x10c9, cfg, "igb", 5);
	puts_("devices/pci0000:00/0000:01:00.0/sriov_totalvfs", "8\n");
	puts_("devices/pci0000:00/0000:01:00.0/sriov_numvfs", "2\n");
	mkpath("devices/pci0000:00/0000:01:00.0/net/eth0");
	mkpath("class/net/eth0");
	puts_("class/net/eth0/ifindex", "2\n");
	make_config(cfg, 0x8086, 0x10ca, false, 0, 0);
	make_dev(VF0, 0x8086, 0x10ca, cfg, "igbvf", 6);
	make_dev(VF1, 0x8086, 0x10ca, cfg, "igbvf", 7);
	link_("../0000:01:10.0", "devices/pci0000:00/0000:01:00.0/virtfn0");
	link_("../0000:01:10.2", "devices/pci0000:00/0000:01:00.0/virtfn1");
	link_("../0000:01:00.0", "devices/pci0000:00/0000:01:10.0/physfn");
	link_("../0000:01:00.0", "devices/pci0000:00/0000:01:10.2/physfn");
	/* A non-SR-IOV NIC sharing VF1's IOMMU group, bound to a host driver. */
	make_config(cfg, 0x8086, 0x10d3, false, 0, 0);
	make_dev("0000:00:02.0", 0x8086, 0x10d3, cfg, "e1000e", 7);
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void test_addr(void)
{
	char a[SRIOV_ADDR_LEN];

	CHECK(!sriov_parse_addr("0000:01:00.0", a) && !strcmp(a, "0000:01:00.0"));
	CHECK(!sriov_parse_addr("01:10.2", a) && !strcmp(a, "0000:01:10.2"));
	CHECK(!sriov_parse_addr("0001:AF:1f.7", a) && !strcmp(a, "0001:af:1f.7"));
	CHECK(sriov_parse_addr("0000:01:20.0", a) == -EINVAL);
	CHECK(sriov_parse_addr("0000:01:00.8", a) == -EINVAL);
	CHECK(sriov_parse_addr("0000:01:00.0x", a) == -EINVAL);
	CHECK(sriov_parse_addr("../../etc", a) == -EINVAL);
	CHECK(sriov_parse_addr("0000:01:00.0/../x", a) == -EINVAL);
	CHECK(sriov_parse_addr("", a) == -EINVAL);
	CHECK(sriov_parse_addr(NULL, a) == -EINVAL);
	/* 82576: offset 0x80, stride 2 */
	CHECK(!sriov_vf_rid_addr(PF, 0x80, 2, 0, a) && !strcmp(a, "0000:01:10.0"));
	CHECK(!sriov_vf_rid_addr(PF, 0x80, 2, 7, a) && !strcmp(a, "0000:01:11.6"));
	CHECK(!sriov_vf_rid_addr("0000:ff:00.0", 0x80, 2, 63, a) && !strcmp(a, "0000:ff:1f.6"));
	CHECK(sriov_vf_rid_addr("0000:ff:1f.0", 0x80, 2, 100, a) == -ERANGE);
}

static void test_discovery(struct sriov *s)
{
	struct sriov_pf_info pfs[4], pi;
	struct sriov_vf_info vi;
	unsigned nr = 99;

	CHECK(!sriov_pf_list(s, pfs, 4, &nr));
	CHECK(nr == 1);
	CHECK(!strcmp(pfs[0].addr, PF));
	CHECK(pfs[0].vendor_id == 0x8086 && pfs[0].device_id == 0x10c9);
	CHECK(pfs[0].total_vfs == 8 && pfs[0].num_vfs == 2 && pfs[0].initial_vfs == 8);
	CHECK(pfs[0].vf_offset == 0x80 && pfs[0].vf_stride == 2 && pfs[0].vf_device_id == 0x10ca);
	CHECK(pfs[0].cap_offset == 0x160);
	CHECK(!strcmp(pfs[0].driver, "igb") && !strcmp(pfs[0].ifname, "eth0"));

	CHECK(sriov_pf_get(s, "0000:00:02.0", &pi) == -ENOTSUP);
	CHECK(sriov_pf_get(s, "0000:05:00.0", &pi) == -ENODEV);
	CHECK(sriov_pf_get(s, "nonsense", &pi) == -EINVAL);

	CHECK(!sriov_vf_get(s, PF, 1, &vi));
	CHECK(!strcmp(vi.addr, VF1) && vi.index == 1 && vi.iommu_group == 7);
	CHECK(!strcmp(vi.driver, "igbvf") && vi.device_id == 0x10ca);
	CHECK(sriov_vf_get(s, PF, 2, &vi) == -ENODEV);
	/* A virtfn link that contradicts First VF Offset / VF Stride is refused. */
	link_("../0000:01:10.4", "devices/pci0000:00/0000:01:00.0/virtfn1");
	CHECK(sriov_vf_get(s, PF, 1, &vi) == -EIO);
	link_("../0000:01:10.2", "devices/pci0000:00/0000:01:00.0/virtfn1");
}

static void test_hostile_config(struct sriov *s)
{
	struct sriov_pf_info pi;
	uint8_t cfg[4096];

	/* NumVFs above TotalVFs. */
	make_config(cfg, 0x8086, 0x10c9, true, 4, 9);
	make_dev("0000:02:00.0", 0x8086, 0x10c9, cfg, NULL, -1);
	CHECK(sriov_pf_get(s, "0000:02:00.0", &pi) == -EIO);
	/* An extended capability list that loops onto itself, and a truncated config file. */
	make_config(cfg, 0x8086, 0x10c9, false, 0, 0);
	w32(cfg, 0x100, 0x10010001u);
	make_dev("0000:03:00.0", 0x8086, 0x10c9, cfg, NULL, -1);
	CHECK(sriov_pf_get(s, "0000:03:00.0", &pi) == -ENOTSUP);
	put("devices/pci0000:00/0000:03:00.0/config", cfg, 7);
	CHECK(sriov_pf_get(s, "0000:03:00.0", &pi) < 0);
	/* Remove them again so that the other tests see one PF. */
	unlink_("bus/pci/devices/0000:02:00.0");
	unlink_("bus/pci/devices/0000:03:00.0");
	sriov_pci_cleanup(s); /* libpci caches devices per access object */
}

static void test_numvfs(struct sriov *s)
{
	char buf[32];

	CHECK(sriov_set_num_vfs(s, PF, 9) == -ERANGE);
	CHECK(!sriov_set_num_vfs(s, PF, 2)); /* unchanged: nothing written */
	puts_("devices/pci0000:00/0000:01:00.0/sriov_numvfs", "0\n");
	CHECK(!sriov_set_num_vfs(s, PF, 2));
	get("devices/pci0000:00/0000:01:00.0/sriov_numvfs", buf, sizeof(buf));
	CHECK(!strcmp(buf, "2"));
	/* A VF assigned to a guest blocks any change. */
	link_("../../../bus/pci/drivers/vfio-pci", "devices/pci0000:00/0000:01:10.2/driver");
	CHECK(sriov_set_num_vfs(s, PF, 0) == -EBUSY);
	link_("../../../bus/pci/drivers/igbvf", "devices/pci0000:00/0000:01:10.2/driver");
	/* A driver without SR-IOV support has no sriov_numvfs. */
	unlink_("devices/pci0000:00/0000:01:00.0/sriov_numvfs");
	CHECK(sriov_set_num_vfs(s, PF, 1) == -ENOTSUP);
	puts_("devices/pci0000:00/0000:01:00.0/sriov_numvfs", "2\n");
}

static void test_groups(struct sriov *s)
{
	char drv[SRIOV_DRIVER_LEN], buf[64];

	CHECK(sriov_iommu_group(s, VF0) == 6);
	CHECK(sriov_iommu_group(s, "0000:00:02.0") == 7);
	/* Group 6 holds VF0 bound to igbvf: not viable as is. */
	CHECK(sriov_group_viable(s, 6) == -EPERM);
	CHECK(sriov_group_viable(s, 7) == -EPERM);
	CHECK(sriov_group_viable(s, 42) == -ENXIO);

	/* VF1 shares group 7 with a device bound to e1000e. */
	CHECK(sriov_bind_vfio(s, VF1, drv) == -EPERM);
	/* pci-stub is allowed in a group (as the kernel allows it); so is no driver at all. */
	link_("../../../bus/pci/drivers/pci-stub", "devices/pci0000:00/0000:00:02.0/driver");
	CHECK(sriov_group_viable(s, 7) == -EPERM); /* VF1 itself is still on igbvf */
	link_("../../../bus/pci/drivers/vfio-pci", "devices/pci0000:00/0000:01:10.2/driver");
	CHECK(sriov_group_viable(s, 7) == 0);
	link_("../../../bus/pci/drivers/igbvf", "devices/pci0000:00/0000:01:10.2/driver");
	/* Unbinding that device (no driver) makes the group viable. */
	unlink_("devices/pci0000:00/0000:00:02.0/driver");
	link_("../../../bus/pci/drivers/vfio-pci", "devices/pci0000:00/0000:01:10.2/driver");
	CHECK(sriov_group_viable(s, 7) == 0);
	/* ... but VF1 is now bound to vfio-pci: in use. */
	CHECK(sriov_bind_vfio(s, VF1, drv) == -EBUSY);
	link_("../../../bus/pci/drivers/igbvf", "devices/pci0000:00/0000:01:10.2/driver");

	/* No IOMMU: no iommu_group link. */
	unlink_("devices/pci0000:00/0000:01:10.0/iommu_group");
	CHECK(sriov_iommu_group(s, VF0) == -ENXIO);
	CHECK(sriov_bind_vfio(s, VF0, drv) == -ENXIO);
	link_("../../../kernel/iommu_groups/6", "devices/pci0000:00/0000:01:10.0/iommu_group");

	/* vfio-pci module missing. */
	rmdir(strcat(strcpy(buf, root), "/bus/pci/drivers/vfio-pci"));
	CHECK(sriov_bind_vfio(s, VF0, drv) == -ENOENT);
	mkpath("bus/pci/drivers/vfio-pci");

	/*
	 * Viable: the binding steps run (override, unbind, probe) but this fake kernel does not
	 * move the driver link, so the bind is detected as failed and undone: the override cleared.
	 */
	puts_("bus/pci/drivers_probe", "");
	CHECK(sriov_bind_vfio(s, VF0, drv) == -EIO);
	CHECK(!strcmp(drv, "igbvf"));
	get("devices/pci0000:00/0000:01:10.0/driver/unbind", buf, sizeof(buf));
	CHECK(!strcmp(buf, VF0));
	get("bus/pci/drivers_probe", buf, sizeof(buf));
	CHECK(!strcmp(buf, VF0));
	get("devices/pci0000:00/0000:01:10.0/driver_override", buf, sizeof(buf));
	CHECK(buf[0] == '\0' || !strcmp(buf, "(null)") || !strncmp(buf, "\n", 1));
	CHECK(sriov_dev_driver(s, "0000:09:00.0", drv) == -ENODEV);
}

/* sriov_vf_locate (physfn, then virtfnN back) and sriov_vf_check (bind's checks, no changes). */
static void test_locate(struct sriov *s)
{
	char pf[SRIOV_ADDR_LEN], buf[64];
	unsigned idx = 99;

	CHECK(sriov_vf_locate(s, VF1, pf, &idx) == 0 && idx == 1 && !strcmp(pf, PF));
	CHECK(sriov_vf_locate(s, "01:10.0", pf, &idx) == 0 && idx == 0);
	CHECK(sriov_vf_locate(s, PF, pf, &idx) == -ENOTSUP);	   /* a PF has no physfn */
	CHECK(sriov_vf_locate(s, "0000:00:02.0", pf, &idx) == -ENOTSUP);
	CHECK(sriov_vf_locate(s, "0000:09:00.0", pf, &idx) == -ENODEV);
	CHECK(sriov_vf_locate(s, "bogus", pf, &idx) == -EINVAL);
	/* a physfn that no virtfnN points back to */
	unlink_("devices/pci0000:00/0000:01:00.0/virtfn1");
	CHECK(sriov_vf_locate(s, VF1, pf, &idx) == -EIO);
	link_("../0000:01:10.2", "devices/pci0000:00/0000:01:00.0/virtfn1");

	CHECK(sriov_vf_check(s, VF0) == 0);
	CHECK(sriov_vf_check(s, VF1) == -EPERM); /* group 7 shared with e1000e */
	CHECK(sriov_vf_check(s, "0000:09:00.0") == -ENODEV);
	unlink_("devices/pci0000:00/0000:01:10.0/iommu_group");
	CHECK(sriov_vf_check(s, VF0) == -ENXIO);
	link_("../../../kernel/iommu_groups/6", "devices/pci0000:00/0000:01:10.0/iommu_group");
	rmdir(strcat(strcpy(buf, root), "/bus/pci/drivers/vfio-pci"));
	CHECK(sriov_vf_check(s, VF0) == -ENOENT);
	mkpath("bus/pci/drivers/vfio-pci");
	link_("../../../bus/pci/drivers/vfio-pci", "devices/pci0000:00/0000:01:10.0/driver");
	CHECK(sriov_vf_check(s, VF0) == -EBUSY);
	link_("../../../bus/pci/drivers/igbvf", "devices/pci0000:00/0000:01:10.0/driver");
	/* nothing was written */
	get("devices/pci0000:00/0000:01:10.0/driver_override", buf, sizeof(buf));
	CHECK(!strcmp(buf, "(null)"));
}

/* Find nested attribute @type inside [data, data+len). */
static struct nlattr *find_attr(void *data, int len, int type)
{
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, data, len, rem) if (nla_type(a) == type) return a;
	return NULL;
}

static void test_nl_msg(void)
{
	struct sriov_vf_cfg c;
	struct nlmsghdr *h;
	struct nlattr *list, *info, *a;
	void *buf = NULL;
	size_t len = 0;
	int ifindex_seen;

	sriov_vf_cfg_init(&c);
	c.set_mac = true;
	memcpy(c.mac, (uint8_t[]){0x52, 0x54, 0x00, 0x12, 0x34, 0x56}, 6);
	c.vlan = 100;
	c.qos = 3;
	c.spoofchk = 1;
	c.trust = 0;
	c.link_state = SRIOV_LINK_ENABLE;
	c.min_tx_rate = 0;
	c.max_tx_rate = 500;
	CHECK(!sriov_vf_build_msg(7, 3, &c, &buf, &len));
	if (!buf)
		return;
	h = buf;
	CHECK(h->nlmsg_len == len);
	CHECK(h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_SETLINK);
	ifindex_seen = ((struct ifinfomsg *)nlmsg_data(h))->ifi_index;
	CHECK(ifindex_seen == 7);
	list = find_attr(nlmsg_attrdata(h, sizeof(struct ifinfomsg)),
			 nlmsg_attrlen(h, sizeof(struct ifinfomsg)), IFLA_VFINFO_LIST);
	CHECK(list != NULL);
	info = list ? find_attr(nla_data(list), nla_len(list), IFLA_VF_INFO) : NULL;
	CHECK(info != NULL);
	if (info) {
		struct ifla_vf_mac *m;
		struct ifla_vf_vlan *v;
		struct ifla_vf_spoofchk *sc;
		struct ifla_vf_trust *t;
		struct ifla_vf_link_state *ls;
		struct ifla_vf_rate *r;

		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_MAC);
		CHECK(a && nla_len(a) >= (int)sizeof(*m));
		if (a) {
			m = nla_data(a);
			CHECK(m->vf == 3 && !memcmp(m->mac, c.mac, 6));
		}
		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_VLAN);
		if (a) {
			v = nla_data(a);
			CHECK(v->vf == 3 && v->vlan == 100 && v->qos == 3);
		} else {
			/* IFLA_VF_VLAN_LIST { IFLA_VF_VLAN_INFO } is the other valid encoding. */
			struct nlattr *vl =
				find_attr(nla_data(info), nla_len(info), IFLA_VF_VLAN_LIST);
			struct ifla_vf_vlan_info *vi;

			a = vl ? find_attr(nla_data(vl), nla_len(vl), IFLA_VF_VLAN_INFO) : NULL;
			CHECK(a != NULL);
			if (a) {
				vi = nla_data(a);
				CHECK(vi->vf == 3 && vi->vlan == 100 && vi->qos == 3);
			}
		}
		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_SPOOFCHK);
		CHECK(a && (sc = nla_data(a)) && sc->vf == 3 && sc->setting == 1);
		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_TRUST);
		CHECK(a && (t = nla_data(a)) && t->vf == 3 && t->setting == 0);
		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_LINK_STATE);
		CHECK(a && (ls = nla_data(a)) && ls->vf == 3 &&
		      ls->link_state == IFLA_VF_LINK_STATE_ENABLE);
		a = find_attr(nla_data(info), nla_len(info), IFLA_VF_RATE);
		CHECK(a && (r = nla_data(a)) && r->vf == 3 && r->max_tx_rate == 500 &&
		      r->min_tx_rate == 0);
	}
	free(buf);

	/* Only what is set is sent. */
	sriov_vf_cfg_init(&c);
	c.trust = 1;
	buf = NULL;
	CHECK(!sriov_vf_build_msg(7, 0, &c, &buf, &len));
	if (buf) {
		h = buf;
		list = find_attr(nlmsg_attrdata(h, sizeof(struct ifinfomsg)),
				 nlmsg_attrlen(h, sizeof(struct ifinfomsg)), IFLA_VFINFO_LIST);
		info = list ? find_attr(nla_data(list), nla_len(list), IFLA_VF_INFO) : NULL;
		CHECK(info && find_attr(nla_data(info), nla_len(info), IFLA_VF_TRUST));
		CHECK(info && !find_attr(nla_data(info), nla_len(info), IFLA_VF_MAC));
		CHECK(info && !find_attr(nla_data(info), nla_len(info), IFLA_VF_RATE));
		free(buf);
	}

	/* Bad settings never reach the kernel. */
	sriov_vf_cfg_init(&c);
	c.vlan = 4096;
	CHECK(sriov_vf_build_msg(7, 0, &c, &buf, &len) == -ERANGE);
	sriov_vf_cfg_init(&c);
	c.vlan = 5;
	c.qos = 8;
	CHECK(sriov_vf_build_msg(7, 0, &c, &buf, &len) == -ERANGE);
	sriov_vf_cfg_init(&c);
	c.set_mac = true;
	c.mac[0] = 0x01;
	CHECK(sriov_vf_build_msg(7, 0, &c, &buf, &len) == -EINVAL);
	sriov_vf_cfg_init(&c);
	c.min_tx_rate = 100;
	c.max_tx_rate = 10;
	CHECK(sriov_vf_build_msg(7, 0, &c, &buf, &len) == -ERANGE);
	sriov_vf_cfg_init(&c);
	c.spoofchk = 2;
	CHECK(sriov_vf_build_msg(7, 0, &c, &buf, &len) == -EINVAL);
}

int main(void)
{
	struct sriov_cfg cfg = {.settle_ms = 200};
	struct sriov *s;

	log_set_level(LOGL_ERR);
	snprintf(root, sizeof(root), "%s/nfv-sriov-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	make_tree();
	cfg.sysfs_root = root;
	if (sriov_create(&cfg, &s))
		return 1;
	test_addr();
	test_discovery(s);
	test_hostile_config(s);
	test_numvfs(s);
	test_locate(s);
	test_groups(s);
	test_nl_msg();
	sriov_destroy(s);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	TEST_DONE("test_sriov");
}
