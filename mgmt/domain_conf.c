// SPDX-License-Identifier: GPL-2.0-only
/* Domain definition tables, checks shared by parse and validate, free and small helpers. */
#include "domain_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DOMAIN_ENUM_TABLE(domain_virt_type_tab, "kvm");
DOMAIN_ENUM_TABLE(domain_lifecycle_tab, "destroy", "restart");
DOMAIN_ENUM_TABLE(domain_placement_tab, NULL, "static", "auto");
DOMAIN_ENUM_TABLE(domain_mem_source_tab, NULL, "anonymous", "file", "memfd");
DOMAIN_ENUM_TABLE(domain_mem_access_tab, NULL, "shared", "private");
DOMAIN_ENUM_TABLE(domain_numatune_mode_tab, NULL, "strict", "preferred", "interleave",
		  "restrictive");
DOMAIN_ENUM_TABLE(domain_cpu_mode_tab, NULL, "host-passthrough", "host-model", "maximum");
DOMAIN_ENUM_TABLE(domain_clock_offset_tab, NULL, "utc", "localtime");
DOMAIN_ENUM_TABLE(domain_yesno_tab, NULL, "yes", "no");
DOMAIN_ENUM_TABLE(domain_onoff_tab, NULL, "on", "off");
DOMAIN_ENUM_TABLE(domain_feature_tab, "acpi", "apic", "pae", "hap", "privnet");
DOMAIN_ENUM_TABLE(domain_net_type_tab, "vhostuser", "bridge", "network", "hostdev");
DOMAIN_ENUM_TABLE(domain_net_model_tab, NULL, "virtio", "ne2k_pci");
DOMAIN_ENUM_TABLE(domain_vhost_mode_tab, "client", "server");
DOMAIN_ENUM_TABLE(domain_vlan_native_tab, NULL, "tagged", "untagged");
DOMAIN_ENUM_TABLE(domain_disk_type_tab, "file", "block");
DOMAIN_ENUM_TABLE(domain_disk_cache_tab, NULL, "none", "writethrough", "writeback", "directsync",
		  "unsafe");
DOMAIN_ENUM_TABLE(domain_disk_io_tab, NULL, "threads", "native", "io_uring");
DOMAIN_ENUM_TABLE(domain_chr_type_tab, "pty", "file", "unix", "null");
DOMAIN_ENUM_TABLE(domain_chr_unix_mode_tab, "bind", "connect");
DOMAIN_ENUM_TABLE(domain_chr_target_tab, NULL, "isa-serial", "serial");

int domain_enum_from_string(const struct domain_enum_table *t, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; i < t->count; i++)
		if (t->names[i] && !strcmp(t->names[i], s))
			return i;
	return -1;
}

const char *domain_enum_to_string(const struct domain_enum_table *t, int v)
{
	if (v < 0 || v >= t->count)
		return NULL;
	return t->names[v];
}

void domain_enum_list(const struct domain_enum_table *t, struct strbuf *sb)
{
	bool first = true;

	for (int i = 0; i < t->count; i++) {
		if (!t->names[i])
			continue;
		sb_printf(sb, "%s'%s'", first ? "" : ", ", t->names[i]);
		first = false;
	}
}

const char *domain_lifecycle_action_to_string(enum domain_lifecycle_action v)
{
	return domain_enum_to_string(&domain_lifecycle_tab, (int)v);
}

const char *domain_net_type_to_string(enum domain_net_type v)
{
	return domain_enum_to_string(&domain_net_type_tab, (int)v);
}

const char *domain_net_model_to_string(enum domain_net_model v)
{
	if (v == DOMAIN_NET_MODEL_DEFAULT)
		return "default";
	return domain_enum_to_string(&domain_net_model_tab, (int)v);
}

const char *domain_chr_type_to_string(enum domain_chr_type v)
{
	return domain_enum_to_string(&domain_chr_type_tab, (int)v);
}

const char *domain_disk_type_to_string(enum domain_disk_type v)
{
	return domain_enum_to_string(&domain_disk_type_tab, (int)v);
}

void domain_mac_format(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

void domain_uuid_format(const uint8_t u[16], char *buf)
{
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

bool domain_cpuset_has(const struct domain_cpuset *set, unsigned cpu)
{
	if (!set->str || cpu >= DOMAIN_MAX_CPUS)
		return false;
	return set->mask[cpu / 64] & (1ull << (cpu % 64));
}

static void chr_free(struct domain_chr *c)
{
	free(c->path);
}

void domain_def_free(struct domain_def *def)
{
	if (!def)
		return;
	free(def->name);
	free(def->title);
	free(def->description);
	free(def->metadata_xml);
	for (size_t i = 0; i < def->n_hugepage_sizes; i++)
		free(def->hugepage_sizes[i].nodeset);
	free(def->vcpu_cpuset.str);
	for (size_t i = 0; i < DOMAIN_MAX_VCPUS; i++)
		free(def->vcpupin[i].str);
	free(def->emulatorpin.str);
	free(def->numa_nodeset);
	free(def->os_arch);
	free(def->os_machine);
	free(def->os_kernel);
	free(def->os_initrd);
	free(def->os_cmdline);
	for (size_t i = 0; i < def->n_boot_devs; i++)
		free(def->boot_devs[i]);
	for (size_t i = 0; i < def->n_timers; i++) {
		free(def->timers[i].name);
		free(def->timers[i].tickpolicy);
	}
	free(def->emulator);
	for (size_t i = 0; i < def->n_disks; i++) {
		free(def->disks[i].source);
		free(def->disks[i].target_dev);
		free(def->disks[i].serial);
		free(def->disks[i].driver_name);
	}
	free(def->disks);
	for (size_t i = 0; i < def->n_nets; i++) {
		free(def->nets[i].source_path);
		free(def->nets[i].source_name);
		free(def->nets[i].target_dev);
	}
	free(def->nets);
	free(def->hostdevs);
	for (size_t i = 0; i < def->n_serials; i++)
		chr_free(&def->serials[i]);
	free(def->serials);
	for (size_t i = 0; i < def->n_consoles; i++)
		chr_free(&def->consoles[i]);
	free(def->consoles);
	free(def->pci_root_model);
	for (size_t i = 0; i < def->n_dropped; i++)
		free(def->dropped[i]);
	free(def->dropped);
	free(def);
}

/* ---- cross-field checks ---- */

struct check_ctx {
	const char *src;
	struct strbuf *errs;
	unsigned count;
};

__attribute__((format(printf, 4, 5))) static void cerr(struct check_ctx *c, unsigned line,
						       const char *elem, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		sb_printf(c->errs, "%s:%u: <%s>: %s\n", c->src, line, elem, msg);
	else
		sb_printf(c->errs, "%s: <%s>: %s\n", c->src, elem, msg);
	c->count++;
}

bool domain_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > DOMAIN_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '+' || ch == '-'))
			return false;
	}
	return true;
}

struct pci_use {
	const struct domain_pci_addr *a;
	const char *what;
	unsigned line;
};

static void check_pci_guest(struct check_ctx *c, const struct domain_pci_addr *a, const char *elem,
			    unsigned line, struct pci_use *uses, size_t *n_uses)
{
	if (!a->set)
		return;
	/* One host bridge, bus 0 only: nfv-vmm has no PCI-PCI bridges. Slot 0 is the host bridge.
	 */
	if (a->domain != 0 || a->bus != 0) {
		cerr(c, line, elem,
		     "PCI address %04x:%02x:%02x.%x: only domain 0 bus 0 is supported", a->domain,
		     a->bus, a->slot, a->function);
		return;
	}
	if (a->slot == 0) {
		cerr(c, line, elem, "PCI slot 0 is reserved for the host bridge");
		return;
	}
	for (size_t i = 0; i < *n_uses; i++) {
		const struct domain_pci_addr *b = uses[i].a;

		if (b->slot == a->slot && b->function == a->function) {
			cerr(c, line, elem,
			     "duplicate PCI address 0000:00:%02x.%x (also used by <%s> at line %u)",
			     a->slot, a->function, uses[i].what, uses[i].line);
			return;
		}
	}
	uses[(*n_uses)++] = (struct pci_use){a, elem, line};
}

static void check_pci_host(struct check_ctx *c, const struct domain_pci_addr *a, const char *elem,
			   unsigned line, struct pci_use *uses, size_t *n_uses)
{
	if (!a->set) {
		cerr(c, line, elem, "missing <source><address type='pci' .../></source>");
		return;
	}
	for (size_t i = 0; i < *n_uses; i++) {
		const struct domain_pci_addr *b = uses[i].a;

		if (b->domain == a->domain && b->bus == a->bus && b->slot == a->slot &&
		    b->function == a->function) {
			cerr(c, line, elem,
			     "host PCI device %04x:%02x:%02x.%x assigned twice (also at line %u)",
			     a->domain, a->bus, a->slot, a->function, uses[i].line);
			return;
		}
	}
	uses[(*n_uses)++] = (struct pci_use){a, elem, line};
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static void check_net(struct check_ctx *c, const struct domain_def *def, size_t idx)
{
	const struct domain_net *n = &def->nets[idx];
	static const uint8_t zero[6];

	if (n->mac[0] & 1)
		cerr(c, n->line, "mac", "expected unicast mac address, found multicast '%02x:...'",
		     n->mac[0]);
	if (!memcmp(n->mac, zero, 6))
		cerr(c, n->line, "mac", "MAC address 00:00:00:00:00:00 is not allowed");
	for (size_t j = 0; j < idx; j++)
		if (!memcmp(def->nets[j].mac, n->mac, 6))
			cerr(c, n->line, "interface",
			     "MAC address is already used by the interface at line %u",
			     def->nets[j].line);
	switch (n->type) {
	case DOMAIN_NET_VHOSTUSER:
		if (!n->source_path)
			cerr(c, n->line, "interface",
			     "type='vhostuser' needs <source type='unix' path=... mode=...>");
		if (n->source_mode == DOMAIN_VHOST_SERVER && n->reconnect != DOMAIN_TRISTATE_ABSENT)
			cerr(c, n->line, "reconnect",
			     "'reconnect' is not supported when source mode='server'");
		if (n->vlan.n_tags)
			cerr(c, n->line, "vlan",
			     "<vlan> is only supported on bridge, network and hostdev interfaces");
		break;
	case DOMAIN_NET_BRIDGE:
	case DOMAIN_NET_NETWORK:
		if (!n->source_name)
			cerr(c, n->line, "interface", "type='%s' needs <source %s=...>",
			     domain_net_type_to_string(n->type),
			     n->type == DOMAIN_NET_BRIDGE ? "bridge" : "network");
		break;
	case DOMAIN_NET_HOSTDEV:
		if (n->model != DOMAIN_NET_MODEL_DEFAULT)
			cerr(c, n->line, "model", "type='hostdev' interfaces take no <model>");
		if (n->queues || n->rx_queue_size || n->tx_queue_size)
			cerr(c, n->line, "driver",
			     "queue settings are not supported on type='hostdev' interfaces");
		if (n->vlan.trunk || n->vlan.n_tags > 1)
			cerr(c, n->line, "vlan", "VLAN trunking is not supported on SR-IOV VFs");
		break;
	}
	if (n->model == DOMAIN_NET_MODEL_NE2K_PCI &&
	    (n->queues > 1 || n->rx_queue_size || n->tx_queue_size))
		cerr(c, n->line, "driver", "model 'ne2k_pci' has no queues to configure");
	if (n->queues > 16)
		cerr(c, n->line, "driver", "queues='%u' out of range 1..16", n->queues);
	if (n->rx_queue_size &&
	    (!is_pow2(n->rx_queue_size) || n->rx_queue_size < 256 || n->rx_queue_size > 1024))
		cerr(c, n->line, "driver",
		     "rx_queue_size='%u' must be a power of two between 256 and 1024",
		     n->rx_queue_size);
	if (n->tx_queue_size &&
	    (!is_pow2(n->tx_queue_size) || n->tx_queue_size < 256 || n->tx_queue_size > 1024))
		cerr(c, n->line, "driver",
		     "tx_queue_size='%u' must be a power of two between 256 and 1024",
		     n->tx_queue_size);
	for (size_t t = 0; t < n->vlan.n_tags; t++) {
		if (n->vlan.tags[t].id > 4095)
			cerr(c, n->line, "tag", "VLAN id '%u' out of range 0..4095",
			     n->vlan.tags[t].id);
		for (size_t u = 0; u < t; u++)
			if (n->vlan.tags[u].id == n->vlan.tags[t].id)
				cerr(c, n->line, "tag", "duplicate VLAN id '%u'",
				     n->vlan.tags[t].id);
	}
	if (n->target_dev)
		for (size_t j = 0; j < idx; j++)
			if (def->nets[j].target_dev &&
			    !strcmp(def->nets[j].target_dev, n->target_dev))
				cerr(c, n->line, "target", "duplicate target dev='%s'",
				     n->target_dev);
}

static void check_chr(struct check_ctx *c, const struct domain_chr *ch, const char *elem,
		      const struct domain_chr *all, size_t idx)
{
	if ((ch->type == DOMAIN_CHR_FILE || ch->type == DOMAIN_CHR_UNIX) && !ch->path)
		cerr(c, ch->line, elem, "type='%s' needs <source path=...>",
		     domain_chr_type_to_string(ch->type));
	if (ch->target_port > 3)
		cerr(c, ch->line, "target", "port='%d' out of range 0..3 (COM1..COM4)",
		     ch->target_port);
	for (size_t j = 0; j < idx; j++) {
		int a = all[j].target_port < 0 ? (int)j : all[j].target_port;
		int b = ch->target_port < 0 ? (int)idx : ch->target_port;

		if (a == b)
			cerr(c, ch->line, elem, "serial port %d is already used at line %u", b,
			     all[j].line);
	}
}

unsigned domain_check(const struct domain_def *def, const char *src, struct strbuf *errs)
{
	struct check_ctx c = {src ? src : "domain", errs, 0};
	struct pci_use guest[4 * DOMAIN_MAX_DEVICES], host[2 * DOMAIN_MAX_DEVICES];
	size_t n_guest = 0, n_host = 0;

	if (!domain_name_valid(def->name))
		cerr(&c, 0, "name",
		     "name '%s' must be 1..%d characters of [A-Za-z0-9_.+-], not starting with '.' "
		     "or '-'",
		     def->name ? def->name : "", DOMAIN_NAME_MAX);
	if (def->memory_kib == 0)
		cerr(&c, 0, "memory", "memory size must be greater than zero");
	if (def->current_memory_kib > def->memory_kib)
		cerr(&c, 0, "currentMemory", "currentMemory is larger than memory");
	if (def->vcpus == 0 || def->vcpus > DOMAIN_MAX_VCPUS)
		cerr(&c, 0, "vcpu", "vcpu count %u out of range 1..%d", def->vcpus,
		     DOMAIN_MAX_VCPUS);
	for (unsigned i = def->vcpus; i < DOMAIN_MAX_VCPUS; i++)
		if (def->vcpupin[i].str)
			cerr(&c, 0, "vcpupin", "vcpu '%u' is out of range of the vcpu count %u", i,
			     def->vcpus);
	for (size_t i = 0; i < def->n_hugepage_sizes; i++)
		if (!is_pow2(def->hugepage_sizes[i].size_kib) ||
		    def->hugepage_sizes[i].size_kib < 4)
			cerr(&c, 0, "page", "hugepage size %llu KiB is not a power of two >= 4",
			     (unsigned long long)def->hugepage_sizes[i].size_kib);
	if ((def->os_initrd || def->os_cmdline) && !def->os_kernel)
		cerr(&c, 0, "os", "<initrd> and <cmdline> need a <kernel>");
	if (def->cpu_sockets || def->cpu_dies || def->cpu_cores || def->cpu_threads) {
		uint64_t prod = (uint64_t)(def->cpu_sockets ? def->cpu_sockets : 1) *
				(def->cpu_dies ? def->cpu_dies : 1) *
				(def->cpu_cores ? def->cpu_cores : 1) *
				(def->cpu_threads ? def->cpu_threads : 1);

		if (prod != def->vcpus)
			cerr(&c, 0, "topology",
			     "CPU topology sockets*dies*cores*threads = %llu does not match vcpu "
			     "count %u",
			     (unsigned long long)prod, def->vcpus);
	}
	if (def->n_nets > DOMAIN_MAX_DEVICES || def->n_disks > DOMAIN_MAX_DEVICES ||
	    def->n_hostdevs > DOMAIN_MAX_DEVICES || def->n_serials > 4 || def->n_consoles > 4) {
		cerr(&c, 0, "devices", "too many devices (at most %d per kind, 4 serial ports)",
		     DOMAIN_MAX_DEVICES);
		return c.count;
	}
	for (size_t i = 0; i < def->n_nets; i++) {
		const struct domain_net *n = &def->nets[i];

		check_net(&c, def, i);
		if (n->type != DOMAIN_NET_VHOSTUSER &&
		    def->mem_access == DOMAIN_MEM_ACCESS_PRIVATE && n->type != DOMAIN_NET_HOSTDEV)
			cerr(&c, n->line, "interface",
			     "switch ports use vhost-user, which needs memory access "
			     "mode='shared'");
		if (n->type == DOMAIN_NET_VHOSTUSER && def->mem_access == DOMAIN_MEM_ACCESS_PRIVATE)
			cerr(&c, n->line, "interface",
			     "vhost-user needs memoryBacking access mode='shared', not 'private'");
		check_pci_guest(&c, &n->guest_addr, "interface", n->line, guest, &n_guest);
		if (n->type == DOMAIN_NET_HOSTDEV)
			check_pci_host(&c, &n->host_addr, "interface", n->line, host, &n_host);
	}
	for (size_t i = 0; i < def->n_hostdevs; i++) {
		const struct domain_hostdev *h = &def->hostdevs[i];

		check_pci_guest(&c, &h->guest_addr, "hostdev", h->line, guest, &n_guest);
		check_pci_host(&c, &h->host_addr, "hostdev", h->line, host, &n_host);
	}
	for (size_t i = 0; i < def->n_disks; i++) {
		const struct domain_disk *d = &def->disks[i];

		if (!d->source)
			cerr(&c, d->line, "disk", "missing <source %s=...>",
			     d->type == DOMAIN_DISK_FILE ? "file" : "dev");
		if (!d->target_dev)
			cerr(&c, d->line, "disk", "missing <target dev=... bus='virtio'>");
		if (d->serial && strlen(d->serial) > 20)
			cerr(&c, d->line, "serial", "disk serial '%s' is longer than 20 bytes",
			     d->serial);
		for (size_t j = 0; j < i && d->target_dev; j++)
			if (def->disks[j].target_dev &&
			    !strcmp(def->disks[j].target_dev, d->target_dev))
				cerr(&c, d->line, "target", "duplicate disk target dev='%s'",
				     d->target_dev);
		check_pci_guest(&c, &d->guest_addr, "disk", d->line, guest, &n_guest);
	}
	for (size_t i = 0; i < def->n_serials; i++)
		check_chr(&c, &def->serials[i], "serial", def->serials, i);
	for (size_t i = 0; i < def->n_consoles; i++) {
		const struct domain_chr *ch = &def->consoles[i];

		if ((ch->type == DOMAIN_CHR_FILE || ch->type == DOMAIN_CHR_UNIX) && !ch->path)
			cerr(&c, ch->line, "console", "type='%s' needs <source path=...>",
			     domain_chr_type_to_string(ch->type));
		if (ch->target_port > 3)
			cerr(&c, ch->line, "target", "port='%d' out of range 0..3",
			     ch->target_port);
	}
	return c.count;
}

int domain_def_validate(const struct domain_def *def, char **errmsg)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned n = domain_check(def, "domain", &sb);

	if (n == 0) {
		sb_reset(&sb);
		return 0;
	}
	if (errmsg) {
		if (sb.len && sb.buf[sb.len - 1] == '\n')
			sb.buf[--sb.len] = '\0';
		*errmsg = sb_steal(&sb);
	}
	sb_reset(&sb);
	return -EINVAL;
}
