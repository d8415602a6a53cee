// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfvd: SR-IOV VF / PCI function preparation and release for domains (nfvd_vf.h). The sysfs and
 * rtnetlink work is net/sriov's (sriov.h); this file decides what to prepare, refuses double
 * assignment, keeps the leases and persists them.
 */
#include "nfvd_vf.h"
#include "json.h"
#include "log.h"
#include "sriov.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VF_RECORD_MAX (1 << 20)

static const char *sysfs_root(const struct nfvd *d)
{
	return d->cfg.sysfs_root ? d->cfg.sysfs_root : "/sys";
}

static void addr_str(const struct domain_pci_addr *a, char buf[SRIOV_ADDR_LEN])
{
	snprintf(buf, SRIOV_ADDR_LEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot & 0x1f,
		 a->function & 7);
}

/* The @i-th host function of @def (interfaces of type hostdev first, then hostdevs), or NULL. */
struct host_fn {
	const struct domain_pci_addr *addr;
	bool managed;
	const struct domain_net *net; /* NULL for a <hostdev> */
};

static size_t host_fns(const struct domain_def *def, struct host_fn *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < def->n_nets && n < max; i++)
		if (def->nets[i].type == DOMAIN_NET_HOSTDEV)
			out[n++] = (struct host_fn){&def->nets[i].host_addr, def->nets[i].managed,
						    &def->nets[i]};
	for (size_t i = 0; i < def->n_hostdevs && n < max; i++)
		out[n++] = (struct host_fn){&def->hostdevs[i].host_addr, def->hostdevs[i].managed,
					    NULL};
	return n;
}

#define MAX_FNS (2 * DOMAIN_MAX_DEVICES)

int nfvd_vf_check(struct nfvd *d, const struct nfvd_dom *dom, char **err)
{
	struct host_fn fns[MAX_FNS], ofns[MAX_FNS];
	size_t n = host_fns(dom->def, fns, MAX_FNS);

	/* double assignment first: a device another domain owns must not even be looked at */
	for (size_t k = 0; k < d->n_doms && n; k++) {
		const struct nfvd_dom *o = d->doms[k];
		const struct domain_def *od;
		size_t on;

		if (o == dom || o->state != NFVD_RUNNING)
			continue;
		od = o->live ? o->live : o->def;
		on = host_fns(od, ofns, MAX_FNS);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < on; j++) {
				char a[SRIOV_ADDR_LEN], b[SRIOV_ADDR_LEN];

				addr_str(fns[i].addr, a);
				addr_str(ofns[j].addr, b);
				if (!strcmp(a, b))
					return nfvd_set_err(
						err, -EBUSY,
						"host PCI device %s is already assigned to "
						"running domain '%s'",
						a, o->name);
			}
	}
	for (size_t i = 0; i < n; i++) {
		char a[SRIOV_ADDR_LEN], path[PATH_MAX], drv[256];
		ssize_t len;

		if (fns[i].managed)
			continue;
		addr_str(fns[i].addr, a);
		if (snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysfs_root(d), a) >=
		    (int)sizeof(path))
			return nfvd_set_err(err, -ENAMETOOLONG, "sysfs path too long");
		if (access(path, F_OK) < 0)
			return nfvd_set_err(err, -ENODEV, "host PCI device %s not found", a);
		strncat(path, "/driver", sizeof(path) - strlen(path) - 1);
		len = readlink(path, drv, sizeof(drv) - 1);
		drv[len > 0 ? len : 0] = '\0';
		if (!strstr(drv, "/vfio-pci") && strcmp(drv, "vfio-pci"))
			return nfvd_set_err(
				err, -ENODEV,
				"host PCI device %s is not bound to vfio-pci (managed='no': "
				"bind it with driverctl or sysfs first, or use managed='yes')",
				a);
	}
	return 0;
}

/* ---- runtime record: STATE/runtime/NAME.vf.json ---- */

static int record_path(const struct nfvd *d, const struct nfvd_dom *dom, char *buf, size_t len)
{
	return nfvd_path(buf, len, d->cfg.state_dir, "runtime", dom->name, ".vf.json");
}

static int record_save(struct nfvd *d, struct nfvd_dom *dom)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];
	int r;

	sb_append(&sb, "{\"leases\":[");
	for (size_t i = 0; i < dom->n_leases; i++) {
		const struct sriov_lease *l = dom->leases[i];
		const struct sriov_vf_state *st = &l->orig_state;
		char mac[18];

		domain_mac_format(st->mac, mac);
		sb_append(&sb, i ? ",{\"pf\":" : "{\"pf\":");
		sb_json_str(&sb, l->pf);
		sb_printf(&sb, ",\"vf\":%u,\"vf_addr\":", l->vf);
		sb_json_str(&sb, l->vf_addr);
		sb_printf(&sb, ",\"iommu_group\":%d,\"orig_driver\":", l->iommu_group);
		sb_json_str(&sb, l->orig_driver);
		sb_printf(&sb, ",\"have_state\":%s", l->have_state ? "true" : "false");
		if (l->have_state)
			sb_printf(&sb,
				  ",\"mac\":\"%s\",\"vlan\":%u,\"qos\":%u,\"spoofchk\":%d,"
				  "\"trust\":%d,\"link_state\":%d,\"min_tx_rate\":%u,"
				  "\"max_tx_rate\":%u",
				  mac, st->vlan, st->qos, st->spoofchk, st->trust, st->link_state,
				  st->min_tx_rate, st->max_tx_rate);
		sb_append(&sb, "}");
	}
	sb_append(&sb, "]}\n");
	if (sb_error(&sb)) {
		sb_reset(&sb);
		return -ENOMEM;
	}
	r = record_path(d, dom, path, sizeof(path));
	if (!r)
		r = nfvd_write_atomic(path, sb_str(&sb), sb.len, 0600);
	sb_reset(&sb);
	return r;
}

static bool get_str(const struct json *o, const char *key, char *out, size_t len)
{
	const char *s;

	if (json_get_str(o, key, &s) || strlen(s) >= len)
		return false;
	strcpy(out, s);
	return true;
}

/* One lease from the record; the file is ours but may be damaged: every field is checked. */
static int lease_parse(const struct json *o, struct sriov_lease **out)
{
	struct sriov_lease *l = calloc(1, sizeof(*l));
	char addr[SRIOV_ADDR_LEN], mac[18];
	int64_t v;

	if (!l)
		return -ENOMEM;
	if (o->type != JSON_OBJECT || !get_str(o, "pf", l->pf, sizeof(l->pf)) ||
	    !get_str(o, "vf_addr", l->vf_addr, sizeof(l->vf_addr)) ||
	    sriov_parse_addr(l->vf_addr, addr) || strcmp(addr, l->vf_addr) ||
	    (l->pf[0] && (sriov_parse_addr(l->pf, addr) || strcmp(addr, l->pf))) ||
	    !get_str(o, "orig_driver", l->orig_driver, sizeof(l->orig_driver)) ||
	    strchr(l->orig_driver, '/') || l->orig_driver[0] == '.' ||
	    json_get_int(o, "vf", 0, 65535, &v))
		goto bad;
	l->vf = (unsigned)v;
	l->iommu_group = !json_get_int(o, "iommu_group", -1, INT32_MAX, &v) ? (int)v : -1;
	if (json_get_bool(o, "have_state", &l->have_state))
		goto bad;
	if (l->have_state) {
		struct sriov_vf_state *st = &l->orig_state;
		unsigned m[6];

		if (!get_str(o, "mac", mac, sizeof(mac)) ||
		    sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4],
			   &m[5]) != 6)
			goto bad;
		for (int i = 0; i < 6; i++)
			st->mac[i] = (uint8_t)m[i];
		if (json_get_int(o, "vlan", 0, 4095, &v))
			goto bad;
		st->vlan = (unsigned)v;
		if (json_get_int(o, "qos", 0, 7, &v))
			goto bad;
		st->qos = (unsigned)v;
		if (json_get_int(o, "spoofchk", -1, 1, &v))
			goto bad;
		st->spoofchk = (int)v;
		if (json_get_int(o, "trust", -1, 1, &v))
			goto bad;
		st->trust = (int)v;
		if (json_get_int(o, "link_state", -1, 2, &v))
			goto bad;
		st->link_state = (int)v;
		if (json_get_int(o, "min_tx_rate", 0, UINT32_MAX, &v))
			goto bad;
		st->min_tx_rate = (uint32_t)v;
		if (json_get_int(o, "max_tx_rate", 0, UINT32_MAX, &v))
			goto bad;
		st->max_tx_rate = (uint32_t)v;
	}
	*out = l;
	return 0;
bad:
	free(l);
	return -EINVAL;
}

static int lease_add(struct nfvd_dom *dom, struct sriov_lease *l)
{
	struct sriov_lease **nl = realloc(dom->leases, (dom->n_leases + 1) * sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	dom->leases = nl;
	nl[dom->n_leases++] = l;
	return 0;
}

/* Leases of a record left by an earlier nfvd (the domain's nfv-vmm was adopted or is gone). */
static void record_load(struct nfvd *d, struct nfvd_dom *dom)
{
	char path[PATH_MAX], *buf;
	const struct json *arr;
	struct json *j = NULL;

	if (record_path(d, dom, path, sizeof(path)))
		return;
	buf = nfvd_read_file(path, VF_RECORD_MAX, NULL);
	if (!buf)
		return;
	if (json_parse(buf, strlen(buf), &j, NULL) < 0 || !(arr = json_get(j, "leases")) ||
	    arr->type != JSON_ARRAY) {
		log_warn("domain '%s': unreadable VF record %s; its VFs are not released", dom->name,
			 path);
		goto out;
	}
	for (const struct json *e = arr->child; e; e = e->next) {
		struct sriov_lease *l = NULL;

		if (lease_parse(e, &l) < 0) {
			log_warn("domain '%s': %s: skipping a damaged lease", dom->name, path);
			continue;
		}
		if (lease_add(dom, l) < 0) {
			free(l);
			break;
		}
	}
out:
	json_free(j);
	free(buf);
}

static int sriov_ctx(struct nfvd *d)
{
	struct sriov_cfg cfg = {.sysfs_root = d->cfg.sysfs_root};

	if (d->sriov)
		return 0;
	return sriov_create(&cfg, &d->sriov);
}

void nfvd_vf_release(struct nfvd *d, struct nfvd_dom *dom)
{
	char path[PATH_MAX];

	if (!dom->n_leases)
		record_load(d, dom);
	if (dom->n_leases && sriov_ctx(d) < 0) {
		log_err("domain '%s': no SR-IOV context: its VFs stay bound to vfio-pci", dom->name);
		nfvd_vf_forget(dom);
		return;
	}
	while (dom->n_leases) {
		struct sriov_lease *l = dom->leases[--dom->n_leases];
		char addr[SRIOV_ADDR_LEN];
		int r;

		snprintf(addr, sizeof(addr), "%s", l->vf_addr);
		r = sriov_vf_release(d->sriov, l);
		if (r < 0)
			log_err("domain '%s': releasing %s: %s", dom->name, addr, strerror(-r));
		else
			nfvd_dom_log(d, dom, "released %s", addr);
		/* the record follows, so a second try does not undo this one twice */
		if (dom->n_leases && (r = record_save(d, dom)) < 0)
			log_warn("domain '%s': cannot update the VF record: %s", dom->name,
				 strerror(-r));
	}
	nfvd_vf_forget(dom);
	if (record_path(d, dom, path, sizeof(path)) == 0)
		unlink(path);
}

void nfvd_vf_json(struct nfvd *d, struct nfvd_dom *dom, struct strbuf *sb)
{
	if (dom->state == NFVD_RUNNING && !dom->n_leases)
		record_load(d, dom);
	sb_append(sb, "[");
	for (size_t i = 0; i < dom->n_leases; i++) {
		const struct sriov_lease *l = dom->leases[i];

		sb_append(sb, i ? ",{\"addr\":" : "{\"addr\":");
		sb_json_str(sb, l->vf_addr);
		sb_append(sb, ",\"pf\":");
		if (l->pf[0]) {
			sb_json_str(sb, l->pf);
			sb_printf(sb, ",\"vf\":%u", l->vf);
		} else {
			sb_append(sb, "null");
		}
		sb_append(sb, ",\"orig_driver\":");
		sb_json_str(sb, l->orig_driver);
		sb_append(sb, "}");
	}
	sb_append(sb, "]");
}

void nfvd_vf_forget(struct nfvd_dom *dom)
{
	for (size_t i = 0; i < dom->n_leases; i++)
		free(dom->leases[i]);
	free(dom->leases);
	dom->leases = NULL;
	dom->n_leases = 0;
}

void nfvd_vf_fini(struct nfvd *d)
{
	sriov_destroy(d->sriov);
	d->sriov = NULL;
}

static int prep_err(char **err, int r, const char *a, const char *pf, unsigned vf)
{
	char where[64] = "";

	if (pf)
		snprintf(where, sizeof(where), " (VF %u of PF %s)", vf, pf);
	switch (r) {
	case -ENXIO:
		return nfvd_set_err(
			err, r,
			"host PCI device %s%s has no IOMMU group: no IOMMU is enabled (boot "
			"with intel_iommu=on or amd_iommu=on on hardware with VT-d / AMD-Vi)",
			a, where);
	case -EPERM:
		return nfvd_set_err(
			err, r,
			"host PCI device %s%s: its IOMMU group is shared with a device bound "
			"to a host driver (every device of the group must be on vfio-pci or "
			"unbound)",
			a, where);
	case -ENOENT:
		return nfvd_set_err(
			err, r,
			"host PCI device %s%s: the vfio-pci driver is not loaded (modprobe "
			"vfio-pci)",
			a, where);
	case -ENOTSUP:
		return nfvd_set_err(
			err, r,
			"host PCI device %s%s: not an SR-IOV VF, or its PF has no SR-IOV "
			"capability",
			a, where);
	case -EBUSY:
		return nfvd_set_err(
			err, r,
			"host PCI device %s%s is already bound to vfio-pci (in use outside "
			"nfvd?)",
			a, where);
	case -ENODEV:
		return nfvd_set_err(err, r, "host PCI device %s%s not found", a, where);
	default:
		return nfvd_set_err(err, r, "preparing host PCI device %s%s: %s", a, where,
				    strerror(-r));
	}
}

/* VF settings of an <interface type='hostdev'>: its MAC and the port VLAN (0: none). */
static int iface_cfg(const struct domain_net *n, const char *a, struct sriov_vf_cfg *cfg,
		     char **err)
{
	sriov_vf_cfg_init(cfg);
	cfg->set_mac = true;
	memcpy(cfg->mac, n->mac, 6);
	if (n->vlan.trunk || n->vlan.n_tags > 1)
		return nfvd_set_err(
			err, -EINVAL,
			"interface %s: a VF takes one port VLAN <vlan><tag id=.../></vlan>, "
			"not a trunk",
			a);
	/* libvirt sets VLAN 0 when none is given, so a VLAN left by a previous user goes */
	cfg->vlan = n->vlan.n_tags ? n->vlan.tags[0].id : 0;
	cfg->qos = 0;
	return 0;
}

int nfvd_vf_prepare(struct nfvd *d, struct nfvd_dom *dom, char **err)
{
	struct host_fn fns[MAX_FNS];
	size_t n = host_fns(dom->def, fns, MAX_FNS);
	int r;

	for (size_t i = 0; i < n; i++) {
		char a[SRIOV_ADDR_LEN], pf[SRIOV_ADDR_LEN];
		struct sriov_lease *l = NULL;
		struct sriov_pf_info pi;
		struct sriov_vf_cfg cfg;
		unsigned vf = 0;

		if (!fns[i].managed)
			continue;
		addr_str(fns[i].addr, a);
		if ((r = sriov_ctx(d)) < 0)
			return nfvd_set_err(err, r, "SR-IOV context: %s", strerror(-r));
		if (fns[i].net && (r = iface_cfg(fns[i].net, a, &cfg, err)) < 0)
			return r;
		r = sriov_vf_locate(d->sriov, a, pf, &vf);
		if (r == -ENOTSUP && !fns[i].net) {
			/* a <hostdev> may be any PCI function: bind it, no VF settings */
			if ((r = sriov_vf_check(d->sriov, a)) < 0)
				return prep_err(err, r, a, NULL, 0);
			l = calloc(1, sizeof(*l));
			if (!l)
				return nfvd_set_err(err, -ENOMEM, "out of memory");
			snprintf(l->vf_addr, sizeof(l->vf_addr), "%s", a);
			l->iommu_group = sriov_iommu_group(d->sriov, a);
			r = sriov_bind_vfio(d->sriov, a, l->orig_driver);
			if (r < 0) {
				free(l);
				return prep_err(err, r, a, NULL, 0);
			}
		} else {
			if (r < 0)
				return prep_err(err, r, a, NULL, 0);
			/* refuse before any VF setting changes */
			if ((r = sriov_vf_check(d->sriov, a)) < 0)
				return prep_err(err, r, a, pf, vf);
			if ((r = sriov_pf_get(d->sriov, pf, &pi)) < 0)
				return nfvd_set_err(err, r, "host PCI device %s: its PF %s %s", a,
						    pf,
						    r == -ENOTSUP ? "has no SR-IOV capability"
								  : "is unreadable");
			r = sriov_vf_prepare(d->sriov, pf, vf, fns[i].net ? &cfg : NULL, &l);
			/* past the checks these come from the VF settings (rtnetlink on the PF) */
			if (r == -ENODEV && !pi.ifname[0])
				return nfvd_set_err(
					err, r,
					"host PCI device %s (VF %u of PF %s): the PF has no "
					"network interface (driver '%s'); VF settings go "
					"through the PF's netdev",
					a, vf, pf, pi.driver);
			if (r == -EOPNOTSUPP)
				return nfvd_set_err(
					err, r,
					"host PCI device %s (VF %u of PF %s): the PF driver "
					"'%s' does not support setting the VF's MAC/VLAN",
					a, vf, pf, pi.driver);
			if (r < 0)
				return prep_err(err, r, a, pf, vf);
		}
		if ((r = lease_add(dom, l)) < 0) {
			if (sriov_vf_release(d->sriov, l) < 0)
				log_err("domain '%s': %s stays on vfio-pci", dom->name, a);
			return nfvd_set_err(err, r, "out of memory");
		}
		if ((r = record_save(d, dom)) < 0)
			return nfvd_set_err(err, r, "cannot save the VF record: %s", strerror(-r));
		if (fns[i].net) {
			char mac[18];

			domain_mac_format(fns[i].net->mac, mac);
			nfvd_dom_log(d, dom, "prepared %s (VF %u of %s): mac %s vlan %d, vfio-pci",
				     a, vf, pf, mac, cfg.vlan);
		} else {
			nfvd_dom_log(d, dom, "prepared %s: vfio-pci (was '%s')", a,
				     l->orig_driver);
		}
	}
	return 0;
}
