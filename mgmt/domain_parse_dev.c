// SPDX-License-Identifier: GPL-2.0-only
/* Domain XML parser: <devices> (interfaces, hostdevs, disks, serial/console, controllers). */
#include "domain_parse_priv.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void parse_vlan(struct pctx *p, xmlNode *v, struct domain_vlan *vl)
{
	uint64_t id;

	vl->trunk = dx_attr_enum(p, v, "trunk", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;
	for_each_elem(t, v)
	{
		if (!dx_is_elem(t, "tag"))
			continue;
		t->_private = MARK_USED;
		if (!dx_attr_uint(p, t, "id", 0, 4095, &id)) {
			if (!dx_attr(p, t, "id"))
				dx_perr(p, t, "missing attribute 'id'");
			continue;
		}
		if (vl->n_tags >= DOMAIN_MAX_VLAN_TAGS) {
			dx_perr(p, t, "too many VLAN tags (at most %d)", DOMAIN_MAX_VLAN_TAGS);
			continue;
		}
		vl->tags[vl->n_tags].id = (uint16_t)id;
		vl->tags[vl->n_tags].native_mode =
			dx_attr_enum(p, t, "nativeMode", &domain_vlan_native_tab, 0);
		vl->n_tags++;
	}
	if (!vl->n_tags)
		dx_perr(p, v, "<vlan> needs at least one <tag id=.../>");
	if (vl->n_tags > 1 && !vl->trunk)
		dx_perr(p, v, "more than one <tag> needs trunk='yes'");
}

static void parse_source_address(struct pctx *p, xmlNode *src, struct domain_pci_addr *a)
{
	xmlNode *ad = dx_child(p, src, "address");

	if (!ad) {
		dx_perr(p, src, "missing <address type='pci' domain bus slot function/>");
		return;
	}
	dx_parse_pci_addr(p, ad, a, true);
}

static int gen_mac(uint8_t mac[6])
{
	/* libvirt's QEMU/KVM OUI for generated addresses */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	return dx_random_bytes(mac + 3, 3);
}

static void parse_interface(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_net *ni, *arr;
	xmlNode *c;
	uint64_t v;
	int t;

	arr = dx_grow(p, def->nets, def->n_nets, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			dx_perr(p, n, "too many interfaces (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->nets = arr;
	ni = &arr[def->n_nets++];
	ni->line = dx_line_of(n);
	t = dx_attr_enum(p, n, "type", &domain_net_type_tab, -1);
	if (t < 0) {
		if (!dx_attr(p, n, "type"))
			dx_perr(p, n, "missing attribute 'type'");
		t = DOMAIN_NET_VHOSTUSER;
	}
	ni->type = t;
	if (ni->type == DOMAIN_NET_HOSTDEV)
		ni->managed =
			dx_attr_enum(p, n, "managed", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;

	if ((c = dx_child(p, n, "mac"))) {
		const char *a = dx_attr(p, c, "address");

		if (!a)
			dx_perr(p, c, "missing attribute 'address'");
		else if (dx_mac_parse(a, ni->mac) < 0)
			dx_perr(p, c, "invalid MAC address '%s'", a);
		else if (ni->mac[0] & 1)
			dx_perr(p, c, "expected unicast mac address, found multicast '%s'", a);
	} else {
		ni->mac_generated = true;
		if (gen_mac(ni->mac) < 0)
			dx_perr(p, n, "cannot generate a MAC address");
	}
	if ((c = dx_child(p, n, "model"))) {
		const char *m = dx_attr(p, c, "type");

		ni->model =
			dx_attr_enum(p, c, "type", &domain_net_model_tab, DOMAIN_NET_MODEL_VIRTIO);
		if (!m)
			dx_perr(p, c, "missing attribute 'type'");
	}
	if ((c = dx_child(p, n, "source"))) {
		switch (ni->type) {
		case DOMAIN_NET_VHOSTUSER: {
			const char *st = dx_attr(p, c, "type");
			xmlNode *rc;

			if (!st || strcmp(st, "unix"))
				dx_perr(p, c, "unsupported source type '%s' (supported: 'unix')",
					st ? st : "");
			ni->source_path = dx_xstrdup(p, dx_attr(p, c, "path"));
			if (!ni->source_path)
				dx_perr(p, c, "missing attribute 'path'");
			else if (ni->source_path[0] != '/')
				dx_perr(p, c, "socket path '%s' must be absolute", ni->source_path);
			ni->source_mode = dx_attr_enum(p, c, "mode", &domain_vhost_mode_tab, 0);
			if (!dx_attr(p, c, "mode"))
				dx_perr(p, c, "missing attribute 'mode' ('client' or 'server')");
			if ((rc = dx_child(p, c, "reconnect"))) {
				ni->reconnect =
					dx_attr_enum(p, rc, "enabled", &domain_yesno_tab, 0);
				if (ni->reconnect == DOMAIN_TRISTATE_ABSENT)
					dx_perr(p, rc, "missing attribute 'enabled'");
				if (dx_attr_uint(p, rc, "timeout", 1, UINT32_MAX, &v))
					ni->reconnect_timeout_s = (unsigned)v;
				if (ni->reconnect_timeout_s && ni->reconnect != DOMAIN_TRISTATE_YES)
					dx_perr(p, rc, "timeout needs enabled='yes'");
			}
			break;
		}
		case DOMAIN_NET_BRIDGE:
			ni->source_name = dx_xstrdup(p, dx_attr(p, c, "bridge"));
			break;
		case DOMAIN_NET_NETWORK:
			ni->source_name = dx_xstrdup(p, dx_attr(p, c, "network"));
			break;
		case DOMAIN_NET_HOSTDEV:
			parse_source_address(p, c, &ni->host_addr);
			break;
		}
	} else if (ni->type == DOMAIN_NET_VHOSTUSER && !ni->source_path) {
		dx_perr(p, n, "missing <source type='unix' path=... mode=...>");
	}
	if ((c = dx_child(p, n, "target"))) {
		ni->target_dev = dx_xstrdup(p, dx_attr(p, c, "dev"));
		if (!ni->target_dev)
			dx_perr(p, c, "missing attribute 'dev'");
		else if (!domain_name_valid(ni->target_dev) || strlen(ni->target_dev) > 15)
			dx_perr(p, c,
				"invalid target dev '%s' (up to 15 characters of "
				"[A-Za-z0-9_.+-])",
				ni->target_dev);
	}
	if ((c = dx_child(p, n, "driver"))) {
		if (dx_attr_uint(p, c, "queues", 1, 256, &v))
			ni->queues = (unsigned)v;
		if (dx_attr_uint(p, c, "rx_queue_size", 1, 65536, &v))
			ni->rx_queue_size = (unsigned)v;
		if (dx_attr_uint(p, c, "tx_queue_size", 1, 65536, &v))
			ni->tx_queue_size = (unsigned)v;
	}
	if ((c = dx_child(p, n, "vlan")))
		parse_vlan(p, c, &ni->vlan);
	if ((c = dx_child(p, n, "address")))
		dx_parse_pci_addr(p, c, &ni->guest_addr, false);
}

static void parse_hostdev(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_hostdev *h, *arr;
	const char *mode = dx_attr(p, n, "mode"), *type = dx_attr(p, n, "type");
	xmlNode *c;

	if (!mode || strcmp(mode, "subsystem") || !type || strcmp(type, "pci")) {
		dx_perr(p, n,
			"unsupported hostdev mode='%s' type='%s' (supported: mode='subsystem' "
			"type='pci')",
			mode ? mode : "", type ? type : "");
		return;
	}
	arr = dx_grow(p, def->hostdevs, def->n_hostdevs, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			dx_perr(p, n, "too many hostdevs (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->hostdevs = arr;
	h = &arr[def->n_hostdevs++];
	h->line = dx_line_of(n);
	h->managed = dx_attr_enum(p, n, "managed", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;
	if ((c = dx_child(p, n, "source")))
		parse_source_address(p, c, &h->host_addr);
	else
		dx_perr(p, n, "missing <source><address .../></source>");
	if ((c = dx_child(p, n, "driver"))) {
		const char *dn = dx_attr(p, c, "name");

		/* VFIO is the only assignment backend, as in libvirt today */
		if (!dn || strcmp(dn, "vfio"))
			dx_perr(p, c, "unsupported driver name '%s' (supported: 'vfio')",
				dn ? dn : "");
	}
	if ((c = dx_child(p, n, "address")))
		dx_parse_pci_addr(p, c, &h->guest_addr, false);
}

static void parse_disk(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_disk *d, *arr;
	const char *dev;
	xmlNode *c;
	int t;

	t = dx_attr_enum(p, n, "type", &domain_disk_type_tab, -1);
	if (t < 0 && !dx_attr(p, n, "type"))
		dx_perr(p, n, "missing attribute 'type'");
	dev = dx_attr(p, n, "device");
	if (dev && strcmp(dev, "disk"))
		dx_perr(p, n, "unsupported disk device '%s' (supported: 'disk')", dev);
	arr = dx_grow(p, def->disks, def->n_disks, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			dx_perr(p, n, "too many disks (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->disks = arr;
	d = &arr[def->n_disks++];
	d->line = dx_line_of(n);
	d->type = t < 0 ? DOMAIN_DISK_FILE : t;
	if ((c = dx_child(p, n, "driver"))) {
		const char *dn = dx_attr(p, c, "name"), *dt = dx_attr(p, c, "type");

		if (dn && strcmp(dn, "qemu"))
			dx_perr(p, c, "unsupported driver name '%s' (supported: 'qemu')", dn);
		d->driver_name = dx_xstrdup(p, dn);
		if (dt && strcmp(dt, "raw"))
			dx_perr(p, c, "unsupported image format '%s' (supported: 'raw')", dt);
		d->cache = dx_attr_enum(p, c, "cache", &domain_disk_cache_tab, 0);
		d->io = dx_attr_enum(p, c, "io", &domain_disk_io_tab, 0);
	}
	if ((c = dx_child(p, n, "source"))) {
		const char *key = d->type == DOMAIN_DISK_BLOCK ? "dev" : "file";

		d->source = dx_xstrdup(p, dx_attr(p, c, key));
		if (!d->source)
			dx_perr(p, c, "missing attribute '%s'", key);
	} else {
		dx_perr(p, n, "missing <source> (empty drives are not supported)");
	}
	if ((c = dx_child(p, n, "target"))) {
		const char *bus = dx_attr(p, c, "bus");

		d->target_dev = dx_xstrdup(p, dx_attr(p, c, "dev"));
		if (!d->target_dev)
			dx_perr(p, c, "missing attribute 'dev'");
		else if (strncmp(d->target_dev, "vd", 2) || strlen(d->target_dev) > 8)
			dx_perr(p, c, "target dev '%s' should be a virtio name such as 'vda'",
				d->target_dev);
		if (bus && strcmp(bus, "virtio"))
			dx_perr(p, c, "unsupported bus '%s' (supported: 'virtio')", bus);
	}
	if (dx_child(p, n, "readonly"))
		d->readonly = true;
	if ((c = dx_child(p, n, "serial")))
		d->serial = dx_text(p, c, true);
	if ((c = dx_child(p, n, "address")))
		dx_parse_pci_addr(p, c, &d->guest_addr, false);
}

static void parse_chr(struct pctx *p, xmlNode *n, bool console)
{
	struct domain_def *def = p->def;
	struct domain_chr **parr = console ? &def->consoles : &def->serials;
	size_t *pn = console ? &def->n_consoles : &def->n_serials;
	struct domain_chr *ch, *arr;
	xmlNode *c;
	uint64_t v;
	int t;

	t = dx_attr_enum(p, n, "type", &domain_chr_type_tab, -1);
	if (t < 0 && !dx_attr(p, n, "type"))
		dx_perr(p, n, "missing attribute 'type'");
	if (*pn >= 4) {
		dx_perr(p, n, "too many <%s> elements (at most 4)", dx_ename(n));
		return;
	}
	arr = dx_grow(p, *parr, *pn, sizeof(*arr));
	if (!arr)
		return;
	*parr = arr;
	ch = &arr[(*pn)++];
	ch->line = dx_line_of(n);
	ch->type = t < 0 ? DOMAIN_CHR_NULL : t;
	ch->target_port = -1;
	if ((c = dx_child(p, n, "source"))) {
		ch->path = dx_xstrdup(p, dx_attr(p, c, "path"));
		if (ch->type == DOMAIN_CHR_UNIX)
			ch->unix_mode = dx_attr_enum(p, c, "mode", &domain_chr_unix_mode_tab, 0);
		if (ch->path && ch->path[0] != '/')
			dx_perr(p, c, "path '%s' must be absolute", ch->path);
	}
	if ((ch->type == DOMAIN_CHR_FILE || ch->type == DOMAIN_CHR_UNIX) && !ch->path)
		dx_perr(p, n, "type='%s' needs <source path=...>",
			domain_chr_type_to_string(ch->type));
	if ((c = dx_child(p, n, "target"))) {
		xmlNode *m;

		ch->target_type = dx_attr_enum(p, c, "type", &domain_chr_target_tab, 0);
		if (console && ch->target_type == DOMAIN_CHR_TARGET_ISA_SERIAL)
			dx_perr(p, c, "console target type must be 'serial'");
		if (dx_attr_uint(p, c, "port", 0, 3, &v))
			ch->target_port = (int)v;
		if ((m = dx_child(p, c, "model"))) {
			const char *mn = dx_attr(p, m, "name");

			if (!mn || strcmp(mn, "isa-serial"))
				dx_perr(p, m,
					"unsupported serial model '%s' (supported: 'isa-serial')",
					mn ? mn : "");
		}
	}
}

static void parse_controller(struct pctx *p, xmlNode *n)
{
	const char *type = dx_attr(p, n, "type"), *model = dx_attr(p, n, "model");
	uint64_t idx = 0;

	if (!type || strcmp(type, "pci")) {
		dx_perr(p, n, "unsupported controller type '%s' (supported: 'pci')",
			type ? type : "");
		return;
	}
	dx_attr_uint(p, n, "index", 0, 255, &idx);
	if (idx != 0 || !model || (strcmp(model, "pci-root") && strcmp(model, "pcie-root"))) {
		dx_perr(p, n,
			"only the root PCI controller (index='0' model='pci-root' or "
			"'pcie-root') is supported");
		return;
	}
	free(p->def->pci_root_model);
	p->def->pci_root_model = dx_xstrdup(p, model);
}

/* Desktop devices: refused, or dropped (and reported) with DOMAIN_PARSE_DROP_UNSUPPORTED. */
bool dx_is_desktop_device(xmlNode *n)
{
	static const char *const names[] = {"input",	   "graphics",	 "video", "sound",
					    "audio",	   "memballoon", "rng",	  "redirdev",
					    "redirfilter", "smartcard",	 "hub",	  "channel"};
	xmlChar *type;
	bool r = false;

	if (n->ns)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(dx_ename(n), names[i]))
			return true;
	if (strcmp(dx_ename(n), "controller"))
		return false;
	type = xmlGetNoNsProp(n, BAD_CAST "type");
	if (type)
		r = !strcmp((char *)type, "usb") || !strcmp((char *)type, "virtio-serial") ||
		    !strcmp((char *)type, "ccid");
	xmlFree(type);
	return r;
}

void dx_describe_elem(xmlNode *n, struct strbuf *sb)
{
	xmlChar *type = xmlGetNoNsProp(n, BAD_CAST "type");
	xmlChar *model = xmlGetNoNsProp(n, BAD_CAST "model");

	sb_printf(sb, "<%s%s%s", n->ns && n->ns->prefix ? (const char *)n->ns->prefix : "",
		  n->ns && n->ns->prefix ? ":" : "", dx_ename(n));
	if (type) {
		sb_append(sb, " type='");
		sb_xml_escape(sb, (const char *)type);
		sb_append(sb, "'");
	}
	if (model) {
		sb_append(sb, " model='");
		sb_xml_escape(sb, (const char *)model);
		sb_append(sb, "'");
	}
	sb_append(sb, ">");
	xmlFree(type);
	xmlFree(model);
}

static void drop_device(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct strbuf sb = STRBUF_INIT;
	char **arr;

	n->_private = MARK_DROPPED;
	sb_printf(&sb, "%s:%u: dropped ", p->src, dx_line_of(n));
	dx_describe_elem(n, &sb);
	arr = realloc(def->dropped, (def->n_dropped + 1) * sizeof(*arr));
	if (!arr) {
		p->oom = true;
		sb_reset(&sb);
		return;
	}
	def->dropped = arr;
	arr[def->n_dropped] = sb_steal(&sb);
	if (!arr[def->n_dropped])
		p->oom = true;
	else
		def->n_dropped++;
}

void dx_parse_devices(struct pctx *p, xmlNode *root)
{
	xmlNode *devs = dx_child(p, root, "devices"), *e;

	if (!devs)
		return;
	if ((e = dx_child(p, devs, "emulator")))
		p->def->emulator = dx_text(p, e, true);
	for_each_elem(n, devs)
	{
		if (n->ns || n->_private)
			continue;
		if (dx_is_elem(n, "interface")) {
			n->_private = MARK_USED;
			parse_interface(p, n);
		} else if (dx_is_elem(n, "hostdev")) {
			n->_private = MARK_USED;
			parse_hostdev(p, n);
		} else if (dx_is_elem(n, "disk")) {
			n->_private = MARK_USED;
			parse_disk(p, n);
		} else if (dx_is_elem(n, "serial")) {
			n->_private = MARK_USED;
			parse_chr(p, n, false);
		} else if (dx_is_elem(n, "console")) {
			n->_private = MARK_USED;
			parse_chr(p, n, true);
		} else if (dx_is_desktop_device(n)) {
			xmlChar *model = xmlGetNoNsProp(n, BAD_CAST "model");
			bool none = model && !strcmp((char *)model, "none") &&
				    (dx_is_elem(n, "memballoon") || dx_is_elem(n, "controller")) &&
				    !xmlFirstElementChild(n);

			xmlFree(model);
			if (none) {
				/*
				 * <memballoon model='none'/>, <controller type='usb' model='none'/>
				 * ask for what nfvisor does anyway.
				 */
				n->_private = MARK_USED;
				for (xmlAttr *a = n->properties; a; a = a->next)
					a->_private = MARK_USED;
			} else if (p->flags & DOMAIN_PARSE_DROP_UNSUPPORTED) {
				drop_device(p, n);
			}
		} else if (dx_is_elem(n, "controller")) {
			n->_private = MARK_USED;
			parse_controller(p, n);
			for (xmlAttr *a = n->properties; a; a = a->next)
				a->_private = MARK_USED;
		}
	}
}
