// SPDX-License-Identifier: GPL-2.0-only
#include "domain_cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "log.h"
#include "util.h"

static int add_device(struct vm_cfg *cfg, const char *path, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_device(struct vm_cfg *cfg, const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	char why[200];
	int n;

	if (cfg->nr_devices == VM_MAX_DEVICES) {
		log_err("%s:%u: more than %d devices", path, line, VM_MAX_DEVICES);
		return -E2BIG;
	}
	va_start(ap, fmt);
	n = vsnprintf(cfg->devices[cfg->nr_devices].spec, VM_DEVICE_SPEC_MAX, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= VM_DEVICE_SPEC_MAX) {
		log_err("%s:%u: device description too long (a path over %d bytes?)", path, line, VM_DEVICE_SPEC_MAX / 2);
		return -ENAMETOOLONG;
	}
	if (strchr(cfg->devices[cfg->nr_devices].spec, '\n') ||
	    devices_check_spec(cfg->devices[cfg->nr_devices].spec, why, sizeof(why))) {
		log_err("%s:%u: %s", path, line, why);
		return -EINVAL;
	}
	cfg->nr_devices++;
	return 0;
}

static bool path_ok(const char *p)
{
	/* Device specs are comma-separated key=value lists. */
	return p && !strchr(p, ',');
}

static const char *disk_cache(enum domain_disk_cache c)
{
	switch (c) {
	case DOMAIN_DISK_CACHE_NONE:
		return "none";
	case DOMAIN_DISK_CACHE_DIRECTSYNC:
		return "directsync";
	case DOMAIN_DISK_CACHE_WRITEBACK:
	case DOMAIN_DISK_CACHE_WRITETHROUGH:
	case DOMAIN_DISK_CACHE_UNSAFE:
		return "writeback";
	default:
		return NULL;
	}
}

static const char *disk_io(enum domain_disk_io io)
{
	switch (io) {
	case DOMAIN_DISK_IO_THREADS:
		return "threads";
	case DOMAIN_DISK_IO_NATIVE:
	case DOMAIN_DISK_IO_URING:
		return "io_uring";
	default:
		return NULL;
	}
}

int domain_cfg_load(const char *path, struct vm_cfg *cfg, void **keep)
{
	struct domain_def *d = NULL;
	char *err = NULL, slot[16];
	int ret;

	ret = domain_parse_file(path, 0, &d, &err);
	if (ret) {
		log_err("%s", err ? err : strerror(-ret));
		free(err);
		return ret;
	}
	cfg->name = d->name;
	cfg->ram_size = d->memory_kib * 1024;
	cfg->nr_vcpus = d->vcpus;
	if (d->vcpus > VM_MAX_VCPUS) {
		log_err("%s: <vcpu>%u</vcpu>: nfv-vmm runs at most %d vCPUs", path, d->vcpus, VM_MAX_VCPUS);
		ret = -EINVAL;
		goto err;
	}
	for (unsigned i = 0; i < d->vcpus; i++) {
		const struct domain_cpuset *cs = d->vcpupin[i].str ? &d->vcpupin[i] : d->vcpu_cpuset.str ? &d->vcpu_cpuset : NULL;

		if (cs) {
			cpumask_to_cpuset(cs->mask, DOMAIN_CPUMASK_WORDS, &cfg->vcpu_pin[i]);
			cfg->vcpu_pinned[i] = true;
		}
	}
	if (d->emulatorpin.str) {
		cpumask_to_cpuset(d->emulatorpin.mask, DOMAIN_CPUMASK_WORDS, &cfg->emulator_pin);
		cfg->emulator_pinned = true;
	}
	/* <hugepages> is a demand (no silent fallback); without it guest RAM is a plain shareable memfd. */
	if (d->hugepages)
		cfg->backing.mode = d->mem_source == DOMAIN_MEM_SOURCE_MEMFD ? BACKING_MEMFD_HUGETLB : BACKING_HUGETLBFS;
	else
		cfg->backing.mode = BACKING_MEMFD;
	cfg->backing.lock = d->mem_locked;
	if (d->os_kernel) {
		/* <cmdline> is the Linux command line, and the argument string of freestanding guests. */
		cfg->kernel = d->os_kernel;
		cfg->guest_args = d->os_cmdline;
		cfg->cmdline = d->os_cmdline;
		cfg->initrd = d->os_initrd;
		if (d->os_initrd)
			cfg->boot = VM_BOOT_LINUX;
	}
	for (size_t i = 0; i < d->n_nets; i++) {
		const struct domain_net *n = &d->nets[i];
		char mac[18];

		domain_mac_format(n->mac, mac);
		snprintf(slot, sizeof(slot), n->guest_addr.set ? ",slot=%u" : "%.0u", n->guest_addr.slot);
		if (n->type == DOMAIN_NET_BRIDGE || n->type == DOMAIN_NET_NETWORK) {
			log_err("%s:%u: <interface type='%s'> is a switch port that nfvd creates; start the domain with "
				"nfvd, or use <interface type='vhostuser'>",
				path, n->line, n->type == DOMAIN_NET_BRIDGE ? "bridge" : "network");
			ret = -ENOTSUP;
			goto err;
		}
		if (n->type == DOMAIN_NET_HOSTDEV) {
			/* The VF itself (MAC, VLAN) is prepared and bound to vfio-pci by nfvd (net/sriov). */
			ret = add_device(cfg, path, n->line, "vfio-pci,host=%04x:%02x:%02x.%x%s", n->host_addr.domain,
					 n->host_addr.bus, n->host_addr.slot, n->host_addr.function, slot);
			if (ret)
				goto err;
			continue;
		}
		if (!path_ok(n->source_path)) {
			log_err("%s:%u: <source path='%s'>: socket paths with ',' are not supported", path, n->line,
				n->source_path ? n->source_path : "");
			ret = -EINVAL;
			goto err;
		}
		if (n->model == DOMAIN_NET_MODEL_NE2K_PCI)
			ret = add_device(cfg, path, n->line, "ne2k-pci,mac=%s,backend=vhost-user:%s%s%s", mac, n->source_path,
					 n->source_mode == DOMAIN_VHOST_SERVER ? ":server" : "", slot);
		else
			ret = add_device(cfg, path, n->line, "virtio-net,socket=%s,mode=%s,mac=%s,queues=%u,queue_size=%u%s",
					 n->source_path, n->source_mode == DOMAIN_VHOST_SERVER ? "server" : "client", mac,
					 n->queues ? n->queues : 1, n->rx_queue_size ? n->rx_queue_size : 256, slot);
		if (ret)
			goto err;
	}
	for (size_t i = 0; i < d->n_disks; i++) {
		const struct domain_disk *k = &d->disks[i];
		const char *cache = disk_cache(k->cache), *io = disk_io(k->io);
		char extra[128] = "";
		size_t o = 0;

		if (!path_ok(k->source) || (k->serial && strchr(k->serial, ','))) {
			log_err("%s:%u: <disk>: paths and serials with ',' are not supported", path, k->line);
			ret = -EINVAL;
			goto err;
		}
		if (k->serial)
			o += (size_t)snprintf(extra + o, sizeof(extra) - o, ",serial=%s", k->serial);
		if (cache)
			o += (size_t)snprintf(extra + o, sizeof(extra) - o, ",cache=%s", cache);
		if (io)
			o += (size_t)snprintf(extra + o, sizeof(extra) - o, ",io=%s", io);
		if (k->guest_addr.set)
			snprintf(extra + o, sizeof(extra) - o, ",slot=%u", k->guest_addr.slot);
		ret = add_device(cfg, path, k->line, "virtio-blk,path=%s,readonly=%s%s", k->source, k->readonly ? "on" : "off",
				 extra);
		if (ret)
			goto err;
	}
	for (size_t i = 0; i < d->n_hostdevs; i++) {
		const struct domain_hostdev *h = &d->hostdevs[i];
		char hslot[16] = "";

		if (h->guest_addr.set)
			snprintf(hslot, sizeof(hslot), ",slot=%u", h->guest_addr.slot);
		ret = add_device(cfg, path, h->line, "vfio-pci,host=%04x:%02x:%02x.%x%s", h->host_addr.domain,
				 h->host_addr.bus, h->host_addr.slot, h->host_addr.function, hslot);
		if (ret)
			goto err;
	}
	*keep = d;
	return 0;
err:
	domain_def_free(d);
	return ret;
}

void domain_cfg_free(void *keep)
{
	domain_def_free(keep);
}
