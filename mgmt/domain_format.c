// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain XML formatter: the mirror of domain_parse.c, element for element, in libvirt's order
 * (virDomainDefFormatInternal) so `nfvctl dumpxml` output diffs cleanly against `virsh dumpxml`.
 */
#include "domain_priv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fmt_attr(struct strbuf *sb, const char *name, const char *val)
{
	if (!val)
		return;
	sb_printf(sb, " %s='", name);
	sb_xml_escape(sb, val);
	sb_append(sb, "'");
}

static void fmt_text_elem(struct strbuf *sb, int indent, const char *name, const char *val)
{
	if (!val)
		return;
	sb_printf(sb, "%*s<%s>", indent, "", name);
	sb_xml_escape(sb, val);
	sb_printf(sb, "</%s>\n", name);
}

static void fmt_enum_attr(struct strbuf *sb, const char *name, const struct domain_enum_table *t,
			  int v)
{
	fmt_attr(sb, name, domain_enum_to_string(t, v));
}

static void fmt_pci_addr(struct strbuf *sb, int indent, const struct domain_pci_addr *a,
			 bool with_type)
{
	if (!a->set)
		return;
	sb_printf(sb, "%*s<address%s domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'",
		  indent, "", with_type ? " type='pci'" : "", a->domain, a->bus, a->slot,
		  a->function);
	fmt_enum_attr(sb, "multifunction", &domain_onoff_tab, a->multifunction);
	sb_append(sb, "/>\n");
}

static void fmt_memory(struct strbuf *sb, const struct domain_def *def)
{
	sb_printf(sb, "  <memory unit='KiB'>%" PRIu64 "</memory>\n", def->memory_kib);
	sb_printf(sb, "  <currentMemory unit='KiB'>%" PRIu64 "</currentMemory>\n",
		  def->current_memory_kib);
	if (!def->hugepages && !def->mem_locked && !def->mem_source && !def->mem_access)
		return;
	sb_append(sb, "  <memoryBacking>\n");
	if (def->hugepages && !def->n_hugepage_sizes) {
		sb_append(sb, "    <hugepages/>\n");
	} else if (def->hugepages) {
		sb_append(sb, "    <hugepages>\n");
		for (size_t i = 0; i < def->n_hugepage_sizes; i++) {
			sb_printf(sb, "      <page size='%" PRIu64 "' unit='KiB'",
				  def->hugepage_sizes[i].size_kib);
			fmt_attr(sb, "nodeset", def->hugepage_sizes[i].nodeset);
			sb_append(sb, "/>\n");
		}
		sb_append(sb, "    </hugepages>\n");
	}
	if (def->mem_locked)
		sb_append(sb, "    <locked/>\n");
	if (def->mem_source) {
		sb_append(sb, "    <source");
		fmt_enum_attr(sb, "type", &domain_mem_source_tab, def->mem_source);
		sb_append(sb, "/>\n");
	}
	if (def->mem_access) {
		sb_append(sb, "    <access");
		fmt_enum_attr(sb, "mode", &domain_mem_access_tab, def->mem_access);
		sb_append(sb, "/>\n");
	}
	sb_append(sb, "  </memoryBacking>\n");
}

static void fmt_cpu_sections(struct strbuf *sb, const struct domain_def *def)
{
	bool any_pin = def->emulatorpin.str != NULL;

	sb_append(sb, "  <vcpu");
	fmt_enum_attr(sb, "placement", &domain_placement_tab, def->vcpu_placement);
	fmt_attr(sb, "cpuset", def->vcpu_cpuset.str);
	sb_printf(sb, ">%u</vcpu>\n", def->vcpus);
	for (unsigned i = 0; i < def->vcpus && i < DOMAIN_MAX_VCPUS; i++)
		any_pin |= def->vcpupin[i].str != NULL;
	if (any_pin) {
		sb_append(sb, "  <cputune>\n");
		for (unsigned i = 0; i < def->vcpus && i < DOMAIN_MAX_VCPUS; i++)
			if (def->vcpupin[i].str)
				sb_printf(sb, "    <vcpupin vcpu='%u' cpuset='%s'/>\n", i,
					  def->vcpupin[i].str);
		if (def->emulatorpin.str)
			sb_printf(sb, "    <emulatorpin cpuset='%s'/>\n", def->emulatorpin.str);
		sb_append(sb, "  </cputune>\n");
	}
	if (def->numa_mode || def->numa_placement || def->numa_nodeset) {
		sb_append(sb, "  <numatune>\n    <memory");
		fmt_enum_attr(sb, "mode", &domain_numatune_mode_tab, def->numa_mode);
		fmt_attr(sb, "nodeset", def->numa_nodeset);
		fmt_enum_attr(sb, "placement", &domain_placement_tab, def->numa_placement);
		sb_append(sb, "/>\n  </numatune>\n");
	}
}

static void fmt_os(struct strbuf *sb, const struct domain_def *def)
{
	sb_append(sb, "  <os>\n    <type");
	fmt_attr(sb, "arch", def->os_arch);
	fmt_attr(sb, "machine", def->os_machine);
	sb_append(sb, ">hvm</type>\n");
	fmt_text_elem(sb, 4, "kernel", def->os_kernel);
	fmt_text_elem(sb, 4, "initrd", def->os_initrd);
	fmt_text_elem(sb, 4, "cmdline", def->os_cmdline);
	for (size_t i = 0; i < def->n_boot_devs; i++)
		sb_printf(sb, "    <boot dev='%s'/>\n", def->boot_devs[i]);
	sb_append(sb, "  </os>\n");

	if (def->features || def->feature_pmu || def->feature_vmport) {
		sb_append(sb, "  <features>\n");
		for (int i = 0; i < DOMAIN_FEATURE__COUNT; i++)
			if (def->features & (1u << i))
				sb_printf(sb, "    <%s/>\n", domain_feature_tab.names[i]);
		if (def->feature_pmu)
			sb_printf(sb, "    <pmu state='%s'/>\n",
				  domain_enum_to_string(&domain_onoff_tab, def->feature_pmu));
		if (def->feature_vmport)
			sb_printf(sb, "    <vmport state='%s'/>\n",
				  domain_enum_to_string(&domain_onoff_tab, def->feature_vmport));
		sb_append(sb, "  </features>\n");
	}
	if (def->cpu_mode || def->cpu_sockets || def->cpu_dies || def->cpu_cores ||
	    def->cpu_threads) {
		bool topo = def->cpu_sockets || def->cpu_dies || def->cpu_cores || def->cpu_threads;

		sb_append(sb, "  <cpu");
		fmt_enum_attr(sb, "mode", &domain_cpu_mode_tab, def->cpu_mode);
		if (!topo) {
			sb_append(sb, "/>\n");
		} else {
			sb_append(sb, ">\n    <topology");
			if (def->cpu_sockets)
				sb_printf(sb, " sockets='%u'", def->cpu_sockets);
			if (def->cpu_dies)
				sb_printf(sb, " dies='%u'", def->cpu_dies);
			if (def->cpu_cores)
				sb_printf(sb, " cores='%u'", def->cpu_cores);
			if (def->cpu_threads)
				sb_printf(sb, " threads='%u'", def->cpu_threads);
			sb_append(sb, "/>\n  </cpu>\n");
		}
	}
	if (def->clock_offset) {
		sb_append(sb, "  <clock");
		fmt_enum_attr(sb, "offset", &domain_clock_offset_tab, def->clock_offset);
		if (!def->n_timers) {
			sb_append(sb, "/>\n");
		} else {
			sb_append(sb, ">\n");
			for (size_t i = 0; i < def->n_timers; i++) {
				sb_append(sb, "    <timer");
				fmt_attr(sb, "name", def->timers[i].name);
				fmt_attr(sb, "tickpolicy", def->timers[i].tickpolicy);
				fmt_enum_attr(sb, "present", &domain_yesno_tab,
					      def->timers[i].present);
				sb_append(sb, "/>\n");
			}
			sb_append(sb, "  </clock>\n");
		}
	}
	fmt_text_elem(sb, 2, "on_poweroff", domain_lifecycle_action_to_string(def->on_poweroff));
	fmt_text_elem(sb, 2, "on_reboot", domain_lifecycle_action_to_string(def->on_reboot));
	fmt_text_elem(sb, 2, "on_crash", domain_lifecycle_action_to_string(def->on_crash));
	if (def->pm_suspend_to_mem || def->pm_suspend_to_disk) {
		sb_append(sb, "  <pm>\n");
		if (def->pm_suspend_to_mem)
			sb_printf(sb, "    <suspend-to-mem enabled='%s'/>\n",
				  domain_enum_to_string(&domain_yesno_tab, def->pm_suspend_to_mem));
		if (def->pm_suspend_to_disk)
			sb_printf(
				sb, "    <suspend-to-disk enabled='%s'/>\n",
				domain_enum_to_string(&domain_yesno_tab, def->pm_suspend_to_disk));
		sb_append(sb, "  </pm>\n");
	}
}

static void fmt_disk(struct strbuf *sb, const struct domain_disk *d)
{
	sb_append(sb, "    <disk");
	fmt_enum_attr(sb, "type", &domain_disk_type_tab, d->type);
	sb_append(sb, " device='disk'>\n");
	if (d->driver_name || d->cache || d->io) {
		sb_append(sb, "      <driver");
		fmt_attr(sb, "name", d->driver_name);
		sb_append(sb, " type='raw'");
		fmt_enum_attr(sb, "cache", &domain_disk_cache_tab, d->cache);
		fmt_enum_attr(sb, "io", &domain_disk_io_tab, d->io);
		sb_append(sb, "/>\n");
	}
	sb_append(sb, "      <source");
	fmt_attr(sb, d->type == DOMAIN_DISK_BLOCK ? "dev" : "file", d->source);
	sb_append(sb, "/>\n      <target");
	fmt_attr(sb, "dev", d->target_dev);
	sb_append(sb, " bus='virtio'/>\n");
	if (d->readonly)
		sb_append(sb, "      <readonly/>\n");
	fmt_text_elem(sb, 6, "serial", d->serial);
	fmt_pci_addr(sb, 6, &d->guest_addr, true);
	sb_append(sb, "    </disk>\n");
}

static void fmt_vlan(struct strbuf *sb, const struct domain_vlan *v)
{
	if (!v->n_tags)
		return;
	sb_append(sb, "      <vlan");
	if (v->trunk)
		sb_append(sb, " trunk='yes'");
	sb_append(sb, ">\n");
	for (size_t i = 0; i < v->n_tags; i++) {
		sb_printf(sb, "        <tag id='%u'", v->tags[i].id);
		fmt_enum_attr(sb, "nativeMode", &domain_vlan_native_tab, v->tags[i].native_mode);
		sb_append(sb, "/>\n");
	}
	sb_append(sb, "      </vlan>\n");
}

static void fmt_net(struct strbuf *sb, const struct domain_net *n)
{
	char mac[18];

	sb_append(sb, "    <interface");
	fmt_enum_attr(sb, "type", &domain_net_type_tab, n->type);
	if (n->type == DOMAIN_NET_HOSTDEV && n->managed)
		sb_append(sb, " managed='yes'");
	sb_append(sb, ">\n");
	domain_mac_format(n->mac, mac);
	sb_printf(sb, "      <mac address='%s'/>\n", mac);
	switch (n->type) {
	case DOMAIN_NET_VHOSTUSER:
		sb_append(sb, "      <source type='unix'");
		fmt_attr(sb, "path", n->source_path);
		fmt_enum_attr(sb, "mode", &domain_vhost_mode_tab, n->source_mode);
		if (n->reconnect) {
			sb_printf(sb, ">\n        <reconnect enabled='%s'",
				  domain_enum_to_string(&domain_yesno_tab, n->reconnect));
			if (n->reconnect_timeout_s)
				sb_printf(sb, " timeout='%u'", n->reconnect_timeout_s);
			sb_append(sb, "/>\n      </source>\n");
		} else {
			sb_append(sb, "/>\n");
		}
		break;
	case DOMAIN_NET_BRIDGE:
	case DOMAIN_NET_NETWORK:
		sb_append(sb, "      <source");
		fmt_attr(sb, n->type == DOMAIN_NET_BRIDGE ? "bridge" : "network", n->source_name);
		sb_append(sb, "/>\n");
		break;
	case DOMAIN_NET_HOSTDEV:
		sb_append(sb, "      <source>\n");
		fmt_pci_addr(sb, 8, &n->host_addr, true);
		sb_append(sb, "      </source>\n");
		break;
	}
	fmt_vlan(sb, &n->vlan);
	if (n->target_dev) {
		sb_append(sb, "      <target");
		fmt_attr(sb, "dev", n->target_dev);
		sb_append(sb, "/>\n");
	}
	if (n->model)
		sb_printf(sb, "      <model type='%s'/>\n",
			  domain_enum_to_string(&domain_net_model_tab, n->model));
	if (n->queues || n->rx_queue_size || n->tx_queue_size) {
		sb_append(sb, "      <driver");
		if (n->queues)
			sb_printf(sb, " queues='%u'", n->queues);
		if (n->rx_queue_size)
			sb_printf(sb, " rx_queue_size='%u'", n->rx_queue_size);
		if (n->tx_queue_size)
			sb_printf(sb, " tx_queue_size='%u'", n->tx_queue_size);
		sb_append(sb, "/>\n");
	}
	fmt_pci_addr(sb, 6, &n->guest_addr, true);
	sb_append(sb, "    </interface>\n");
}

static void fmt_chr(struct strbuf *sb, const struct domain_chr *c, const char *elem)
{
	sb_printf(sb, "    <%s", elem);
	fmt_enum_attr(sb, "type", &domain_chr_type_tab, c->type);
	sb_append(sb, ">\n");
	if (c->path) {
		sb_append(sb, "      <source");
		if (c->type == DOMAIN_CHR_UNIX)
			fmt_enum_attr(sb, "mode", &domain_chr_unix_mode_tab, c->unix_mode);
		fmt_attr(sb, "path", c->path);
		sb_append(sb, "/>\n");
	}
	if (c->target_type || c->target_port >= 0) {
		sb_append(sb, "      <target");
		fmt_enum_attr(sb, "type", &domain_chr_target_tab, c->target_type);
		if (c->target_port >= 0)
			sb_printf(sb, " port='%d'", c->target_port);
		if (c->target_type == DOMAIN_CHR_TARGET_ISA_SERIAL)
			sb_append(sb, ">\n        <model name='isa-serial'/>\n      </target>\n");
		else
			sb_append(sb, "/>\n");
	}
	sb_printf(sb, "    </%s>\n", elem);
}

static void fmt_devices(struct strbuf *sb, const struct domain_def *def)
{
	sb_append(sb, "  <devices>\n");
	fmt_text_elem(sb, 4, "emulator", def->emulator);
	for (size_t i = 0; i < def->n_disks; i++)
		fmt_disk(sb, &def->disks[i]);
	if (def->pci_root_model)
		sb_printf(sb, "    <controller type='pci' index='0' model='%s'/>\n",
			  def->pci_root_model);
	for (size_t i = 0; i < def->n_nets; i++)
		fmt_net(sb, &def->nets[i]);
	for (size_t i = 0; i < def->n_serials; i++)
		fmt_chr(sb, &def->serials[i], "serial");
	for (size_t i = 0; i < def->n_consoles; i++)
		fmt_chr(sb, &def->consoles[i], "console");
	for (size_t i = 0; i < def->n_hostdevs; i++) {
		const struct domain_hostdev *h = &def->hostdevs[i];

		sb_printf(sb, "    <hostdev mode='subsystem' type='pci' managed='%s'>\n",
			  h->managed ? "yes" : "no");
		sb_append(sb, "      <source>\n");
		fmt_pci_addr(sb, 8, &h->host_addr, false);
		sb_append(sb, "      </source>\n");
		fmt_pci_addr(sb, 6, &h->guest_addr, true);
		sb_append(sb, "    </hostdev>\n");
	}
	sb_append(sb, "  </devices>\n");
}

int domain_format(const struct domain_def *def, char **xml_out)
{
	struct strbuf sb = STRBUF_INIT;
	char uuid[37];

	if (!def || !def->name || !xml_out)
		return -EINVAL;
	sb_printf(&sb, "<domain type='%s'>\n",
		  domain_enum_to_string(&domain_virt_type_tab, def->virt_type));
	fmt_text_elem(&sb, 2, "name", def->name);
	domain_uuid_format(def->uuid, uuid);
	sb_printf(&sb, "  <uuid>%s</uuid>\n", uuid);
	fmt_text_elem(&sb, 2, "title", def->title);
	fmt_text_elem(&sb, 2, "description", def->description);
	if (def->metadata_xml) {
		sb_append(&sb, "  <metadata>\n    ");
		sb_append(&sb, def->metadata_xml);
		while (sb.len && (sb.buf[sb.len - 1] == '\n' || sb.buf[sb.len - 1] == ' '))
			sb.buf[--sb.len] = '\0';
		sb_append(&sb, "\n  </metadata>\n");
	}
	fmt_memory(&sb, def);
	fmt_cpu_sections(&sb, def);
	fmt_os(&sb, def);
	fmt_devices(&sb, def);
	sb_append(&sb, "</domain>\n");
	*xml_out = sb_steal(&sb);
	return *xml_out ? 0 : -ENOMEM;
}
