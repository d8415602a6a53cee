// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfv-sriov: command-line front end of net/sriov (sriov.h). Output is one record per line of
 * key=value pairs, for people and scripts alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sriov.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nfv-sriov [--sysfs ROOT] [--log LEVEL] COMMAND ...\n"
		"  list                          SR-IOV physical functions and their VFs\n"
		"  numvfs PF N                   set the number of VFs (sriov_numvfs)\n"
		"  config PF VF KEY=VAL...       mac=, vlan=, qos=, spoofchk=on|off, "
		"trust=on|off,\n"
		"                                state=auto|enable|disable, min_tx_rate=, "
		"max_tx_rate= (Mbit/s)\n"
		"  show PF VF                    VF settings as the PF driver reports them\n"
		"  group DEV                     IOMMU group of DEV and whether it is viable for "
		"VFIO\n"
		"  bind DEV                      bind DEV to vfio-pci (prints the driver to "
		"restore)\n"
		"  unbind DEV [DRIVER]           unbind DEV from vfio-pci and bind DRIVER again\n");
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	uint64_t v;

	if (parse_u64(s, &v) || v > max)
		return -EINVAL;
	*out = (unsigned long)v;
	return 0;
}

static int parse_onoff(const char *v, int *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "off") || !strcmp(v, "0"))
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

static int parse_vf_kv(const char *kv, struct sriov_vf_cfg *c)
{
	const char *eq = strchr(kv, '=');
	unsigned long n;
	char key[32];

	if (!eq || (size_t)(eq - kv) >= sizeof(key))
		return -EINVAL;
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	eq++;
	if (!strcmp(key, "mac")) {
		c->set_mac = true;
		return parse_mac(eq, c->mac);
	}
	if (!strcmp(key, "vlan")) {
		if (parse_uint(eq, 4095, &n))
			return -EINVAL;
		c->vlan = (int)n;
		return 0;
	}
	if (!strcmp(key, "qos")) {
		if (parse_uint(eq, 7, &n))
			return -EINVAL;
		c->qos = (int)n;
		return 0;
	}
	if (!strcmp(key, "spoofchk"))
		return parse_onoff(eq, &c->spoofchk);
	if (!strcmp(key, "trust"))
		return parse_onoff(eq, &c->trust);
	if (!strcmp(key, "state")) {
		if (!strcmp(eq, "auto"))
			c->link_state = SRIOV_LINK_AUTO;
		else if (!strcmp(eq, "enable"))
			c->link_state = SRIOV_LINK_ENABLE;
		else if (!strcmp(eq, "disable"))
			c->link_state = SRIOV_LINK_DISABLE;
		else
			return -EINVAL;
		return 0;
	}
	if (!strcmp(key, "min_tx_rate") || !strcmp(key, "max_tx_rate")) {
		if (parse_uint(eq, UINT32_MAX, &n))
			return -EINVAL;
		if (key[1] == 'i')
			c->min_tx_rate = (int64_t)n;
		else
			c->max_tx_rate = (int64_t)n;
		return 0;
	}
	return -EINVAL;
}

static int cmd_list(struct sriov *s)
{
	struct sriov_pf_info *pfs = calloc(SRIOV_MAX_PFS, sizeof(*pfs));
	unsigned nr;
	int ret;

	if (!pfs)
		return -ENOMEM;
	ret = sriov_pf_list(s, pfs, SRIOV_MAX_PFS, &nr);
	for (unsigned i = 0; !ret && i < nr; i++) {
		const struct sriov_pf_info *p = &pfs[i];

		printf("pf=%s vendor=%04x device=%04x driver=%s ifname=%s total_vfs=%u num_vfs=%u "
		       "vf_device=%04x vf_offset=%u vf_stride=%u\n",
		       p->addr, p->vendor_id, p->device_id, p->driver[0] ? p->driver : "-",
		       p->ifname[0] ? p->ifname : "-", p->total_vfs, p->num_vfs, p->vf_device_id,
		       p->vf_offset, p->vf_stride);
		for (unsigned v = 0; v < p->num_vfs; v++) {
			struct sriov_vf_info vi;

			if (sriov_vf_get(s, p->addr, v, &vi))
				continue;
			printf("  vf=%u addr=%s vendor=%04x device=%04x driver=%s ifname=%s "
			       "iommu_group=%d\n",
			       v, vi.addr, vi.vendor_id, vi.device_id,
			       vi.driver[0] ? vi.driver : "-", vi.ifname[0] ? vi.ifname : "-",
			       vi.iommu_group);
		}
	}
	free(pfs);
	return ret;
}

static int cmd_show(struct sriov *s, const char *pf, unsigned vf)
{
	struct sriov_vf_state st;
	int ret = sriov_vf_query(s, pf, vf, &st);

	if (ret)
		return ret;
	printf("vf=%u mac=%02x:%02x:%02x:%02x:%02x:%02x vlan=%u qos=%u spoofchk=%d trust=%d "
	       "state=%d min_tx_rate=%u max_tx_rate=%u\n",
	       vf, st.mac[0], st.mac[1], st.mac[2], st.mac[3], st.mac[4], st.mac[5], st.vlan,
	       st.qos, st.spoofchk, st.trust, st.link_state, st.min_tx_rate, st.max_tx_rate);
	return 0;
}

int main(int argc, char **argv)
{
	struct sriov_cfg cfg = {0};
	struct sriov *s = NULL;
	unsigned long n, vf = 0;
	enum log_level lvl;
	int i = 1, ret;

	log_set_ident("nfv-sriov");
	while (i < argc && !strncmp(argv[i], "--", 2)) {
		if (!strcmp(argv[i], "--sysfs") && i + 1 < argc) {
			cfg.sysfs_root = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "--log") && i + 1 < argc) {
			if (log_level_parse(argv[i + 1], &lvl)) {
				usage(stderr);
				return 2;
			}
			log_set_level(lvl);
			i += 2;
		} else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	ret = sriov_create(&cfg, &s);
	if (ret)
		return 1;

	const char *cmd = argv[i++];
	int nargs = argc - i;
	char **a = argv + i;

	if (!strcmp(cmd, "list") && nargs == 0) {
		ret = cmd_list(s);
	} else if (!strcmp(cmd, "numvfs") && nargs == 2) {
		if (parse_uint(a[1], 0xffff, &n)) {
			fprintf(stderr, "nfv-sriov: '%s' is not a VF count\n", a[1]);
			ret = -EINVAL;
		} else {
			ret = sriov_set_num_vfs(s, a[0], (unsigned)n);
		}
	} else if ((!strcmp(cmd, "config") && nargs >= 3) || (!strcmp(cmd, "show") && nargs == 2)) {
		struct sriov_vf_cfg c;

		sriov_vf_cfg_init(&c);
		ret = parse_uint(a[1], 0xffff, &vf);
		for (int k = 2; !ret && k < nargs; k++) {
			ret = parse_vf_kv(a[k], &c);
			if (ret)
				fprintf(stderr, "nfv-sriov: bad VF setting '%s'\n", a[k]);
		}
		if (!ret && cmd[0] == 'c')
			ret = sriov_vf_configure(s, a[0], (unsigned)vf, &c);
		else if (!ret)
			ret = cmd_show(s, a[0], (unsigned)vf);
	} else if (!strcmp(cmd, "group") && nargs == 1) {
		char addr[SRIOV_ADDR_LEN];

		ret = sriov_parse_addr(a[0], addr);
		if (!ret) {
			int g = sriov_iommu_group(s, addr);

			if (g < 0) {
				fprintf(stderr,
					"nfv-sriov: %s has no IOMMU group (no IOMMU enabled)\n",
					addr);
				ret = g;
			} else {
				ret = sriov_group_viable(s, g);
				printf("dev=%s iommu_group=%d viable=%s\n", addr, g,
				       ret ? "no" : "yes");
			}
		}
	} else if (!strcmp(cmd, "bind") && nargs == 1) {
		char orig[SRIOV_DRIVER_LEN];

		ret = sriov_bind_vfio(s, a[0], orig);
		if (!ret)
			printf("dev=%s driver=vfio-pci orig_driver=%s\n", a[0],
			       orig[0] ? orig : "-");
	} else if (!strcmp(cmd, "unbind") && (nargs == 1 || nargs == 2)) {
		ret = sriov_unbind_vfio(s, a[0], nargs == 2 ? a[1] : "");
	} else {
		usage(stderr);
		sriov_destroy(s);
		return 2;
	}
	sriov_destroy(s);
	if (ret) {
		fprintf(stderr, "nfv-sriov: %s: %s\n", cmd, strerror(-ret));
		return 1;
	}
	return 0;
}
