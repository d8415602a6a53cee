/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Domain definitions: the libvirt domain XML subset nfvisor implements, as plain C structs.
 *
 * A domain XML that libvirt accepts for an NFV guest means the same here. Anything libvirt's schema
 * allows that nfvisor does not implement is refused (one error listing every unsupported element
 * and attribute with its line number) instead of being silently ignored; desktop devices (graphics,
 * input, sound, usb, memballoon, rng, channels...) can be dropped with
 * DOMAIN_PARSE_DROP_UNSUPPORTED.
 *
 * Units follow libvirt's stored form: memory sizes in KiB, CPU sets both as the original string
 * (for formatting) and as a bitmask of up to DOMAIN_MAX_CPUS host CPUs. Every string is a
 * NUL-terminated heap string owned by the struct, or NULL when the element/attribute was absent.
 * Parsed definitions are fully validated: consumers (nfvd, nfv-vmm) may rely on every invariant
 * documented below without re-checking.
 *
 * The library holds no global state and is thread-safe as long as the caller does not share one
 * struct domain_def between threads while freeing it.
 */
#ifndef NFV_MGMT_DOMAIN_H
#define NFV_MGMT_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOMAIN_MAX_CPUS 1024 /* host CPUs a cpuset can name */
#define DOMAIN_CPUMASK_WORDS (DOMAIN_MAX_CPUS / 64)
#define DOMAIN_MAX_VCPUS 64	     /* <vcpu> upper bound */
#define DOMAIN_NAME_MAX 64	     /* bytes, without the NUL */
#define DOMAIN_XML_MAX (1024 * 1024) /* largest accepted XML document, bytes */
#define DOMAIN_MAX_DEVICES 64	     /* per device kind (disks, interfaces, hostdevs, chardevs) */

/* A host CPU set, e.g. "1-3,6": @str as written (normalised), @mask bit N = host CPU N. */
struct domain_cpuset {
	char *str;
	uint64_t mask[DOMAIN_CPUMASK_WORDS];
};

/* <domain type=...>: only KVM is implemented. */
enum domain_virt_type {
	DOMAIN_VIRT_KVM = 0,
};

/* <on_poweroff>/<on_reboot>/<on_crash> actions nfvd implements. */
enum domain_lifecycle_action {
	DOMAIN_LIFECYCLE_DESTROY = 0, /* "destroy": the domain stops */
	DOMAIN_LIFECYCLE_RESTART,     /* "restart": nfvd starts a fresh nfv-vmm */
};

/* <vcpu placement=...> and <numatune><memory placement=...>. */
enum domain_placement {
	DOMAIN_PLACEMENT_DEFAULT = 0, /* attribute absent */
	DOMAIN_PLACEMENT_STATIC,
	DOMAIN_PLACEMENT_AUTO,
};

/* <memoryBacking><source type=...>. */
enum domain_mem_source {
	DOMAIN_MEM_SOURCE_DEFAULT = 0, /* absent: memfd (hugetlb when <hugepages> is present) */
	DOMAIN_MEM_SOURCE_ANONYMOUS,
	DOMAIN_MEM_SOURCE_FILE,
	DOMAIN_MEM_SOURCE_MEMFD,
};

/* <memoryBacking><access mode=...>: vhost-user needs "shared" so the backend can map guest RAM. */
enum domain_mem_access {
	DOMAIN_MEM_ACCESS_DEFAULT = 0,
	DOMAIN_MEM_ACCESS_SHARED,
	DOMAIN_MEM_ACCESS_PRIVATE,
};

/* <numatune><memory mode=...>. */
enum domain_numatune_mode {
	DOMAIN_NUMATUNE_DEFAULT = 0, /* absent: strict, as libvirt */
	DOMAIN_NUMATUNE_STRICT,
	DOMAIN_NUMATUNE_PREFERRED,
	DOMAIN_NUMATUNE_INTERLEAVE,
	DOMAIN_NUMATUNE_RESTRICTIVE,
};

/* <cpu mode=...>. */
enum domain_cpu_mode {
	DOMAIN_CPU_MODE_DEFAULT = 0, /* <cpu> absent */
	DOMAIN_CPU_MODE_HOST_PASSTHROUGH,
	DOMAIN_CPU_MODE_HOST_MODEL,
	DOMAIN_CPU_MODE_MAXIMUM,
};

/* <clock offset=...>. */
enum domain_clock_offset {
	DOMAIN_CLOCK_DEFAULT = 0, /* <clock> absent: utc */
	DOMAIN_CLOCK_UTC,
	DOMAIN_CLOCK_LOCALTIME,
};

/* Tri-state for on/off style attributes (<pmu state>, <timer present>, <reconnect enabled>). */
enum domain_tristate {
	DOMAIN_TRISTATE_ABSENT = 0,
	DOMAIN_TRISTATE_YES,
	DOMAIN_TRISTATE_NO,
};

/* Guest features (<features> children without attributes), bit positions in domain_def.features. */
enum domain_feature {
	DOMAIN_FEATURE_ACPI = 0,
	DOMAIN_FEATURE_APIC,
	DOMAIN_FEATURE_PAE,
	DOMAIN_FEATURE_HAP,
	DOMAIN_FEATURE_PRIVNET,
	DOMAIN_FEATURE__COUNT,
};

/* A PCI address <address type='pci' domain bus slot function multifunction>. */
struct domain_pci_addr {
	bool set; /* false: element absent (auto placement) */
	uint16_t domain;
	uint8_t bus;
	uint8_t slot;	  /* 0..31 */
	uint8_t function; /* 0..7 */
	enum domain_tristate multifunction;
};

/* <interface type=...>. */
enum domain_net_type {
	DOMAIN_NET_VHOSTUSER = 0, /* guest virtio/ne2k rings served by a vhost-user backend */
	DOMAIN_NET_BRIDGE,	  /* a port on nfv-switch (the bridge name is recorded only) */
	DOMAIN_NET_NETWORK,	  /* a port on nfv-switch (the network name is recorded only) */
	DOMAIN_NET_HOSTDEV,	  /* an SR-IOV VF assigned with VFIO */
};

/* <interface><model type=...>. */
enum domain_net_model {
	DOMAIN_NET_MODEL_DEFAULT =
		0, /* absent: virtio for vhostuser/bridge/network; none for hostdev */
	DOMAIN_NET_MODEL_VIRTIO,
	DOMAIN_NET_MODEL_NE2K_PCI, /* RTL8029 NE2000 clone, trap-and-emulate */
};

/* <interface type='vhostuser'><source mode=...>: who listens on the socket. */
enum domain_vhost_mode {
	DOMAIN_VHOST_CLIENT = 0, /* the VMM connects; the backend (e.g. nfv-switch) listens */
	DOMAIN_VHOST_SERVER,	 /* the VMM listens; the backend connects */
};

/* <vlan><tag nativeMode=...>. */
enum domain_vlan_native {
	DOMAIN_VLAN_NATIVE_NONE = 0,
	DOMAIN_VLAN_NATIVE_TAGGED,
	DOMAIN_VLAN_NATIVE_UNTAGGED,
};

#define DOMAIN_MAX_VLAN_TAGS 64

struct domain_vlan_tag {
	uint16_t id; /* 0..4095 */
	enum domain_vlan_native native_mode;
};

/*
 * <vlan [trunk='yes']><tag id='10'/>...</vlan>. n_tags == 0: no VLAN configuration (untagged port).
 * One tag without trunk: access port on that VLAN. trunk or more than one tag: trunk port.
 */
struct domain_vlan {
	bool trunk;
	size_t n_tags;
	struct domain_vlan_tag tags[DOMAIN_MAX_VLAN_TAGS];
};

/* One <interface>. Which fields are meaningful depends on @type (see the comments). */
struct domain_net {
	unsigned line; /* line of the element in the parsed XML, 0 when built in C */
	enum domain_net_type type;
	uint8_t mac[6];	    /* always set: generated (52:54:00:xx:xx:xx) when <mac> is absent */
	bool mac_generated; /* true when the parser generated @mac */
	enum domain_net_model model;
	/* vhostuser: <source type='unix' path mode>, <reconnect enabled timeout> inside <source> */
	char *source_path;
	enum domain_vhost_mode source_mode;
	enum domain_tristate reconnect; /* <reconnect enabled=...>; only allowed in client mode */
	unsigned reconnect_timeout_s;	/* seconds; 0 = absent */
	/* bridge / network: <source bridge=...> / <source network=...> */
	char *source_name;
	/* <target dev=...>: port name on nfv-switch (bridge/network) or interface name; may be NULL
	 */
	char *target_dev;
	/* <driver queues rx_queue_size tx_queue_size>; 0 = absent (1 queue pair, 256 entries) */
	unsigned queues;
	unsigned rx_queue_size; /* power of two, 256..1024, as libvirt */
	unsigned tx_queue_size;
	/* <vlan> (bridge, network, hostdev) */
	struct domain_vlan vlan;
	/* hostdev: managed='yes' and the VF's host address <source><address type='pci'
	 * .../></source> */
	bool managed;
	struct domain_pci_addr host_addr;
	/* <address type='pci'>: guest slot placement; .set false = automatic */
	struct domain_pci_addr guest_addr;
};

/* <hostdev mode='subsystem' type='pci' managed=...>: a PCI function (e.g. an SR-IOV VF) via VFIO.
 */
struct domain_hostdev {
	unsigned line; /* line of the element in the parsed XML, 0 when built in C */
	bool managed;  /* nfvd binds it to vfio-pci before start, rebinds after */
	struct domain_pci_addr host_addr; /* <source><address/></source>; always set */
	struct domain_pci_addr guest_addr;
};

enum domain_disk_type {
	DOMAIN_DISK_FILE = 0, /* <source file=...> */
	DOMAIN_DISK_BLOCK,    /* <source dev=...> */
};

enum domain_disk_cache {
	DOMAIN_DISK_CACHE_DEFAULT = 0,
	DOMAIN_DISK_CACHE_NONE,
	DOMAIN_DISK_CACHE_WRITETHROUGH,
	DOMAIN_DISK_CACHE_WRITEBACK,
	DOMAIN_DISK_CACHE_DIRECTSYNC,
	DOMAIN_DISK_CACHE_UNSAFE,
};

enum domain_disk_io {
	DOMAIN_DISK_IO_DEFAULT = 0,
	DOMAIN_DISK_IO_THREADS,
	DOMAIN_DISK_IO_NATIVE,
	DOMAIN_DISK_IO_URING,
};

/* <disk type device='disk'>: a raw image or block device as virtio-blk. */
struct domain_disk {
	unsigned line; /* line of the element in the parsed XML, 0 when built in C */
	enum domain_disk_type type;
	char *source;	   /* file or block device path; always set */
	char *target_dev;  /* <target dev='vda'>; always set, unique */
	bool readonly;	   /* <readonly/> */
	char *serial;	   /* <serial> (virtio-blk ID string, at most 20 bytes); may be NULL */
	char *driver_name; /* <driver name=...>: "qemu" or NULL */
	enum domain_disk_cache cache;
	enum domain_disk_io io;
	struct domain_pci_addr guest_addr;
};

enum domain_chr_type {
	DOMAIN_CHR_PTY = 0, /* a pseudo-terminal allocated at start */
	DOMAIN_CHR_FILE,    /* output appended to @path */
	DOMAIN_CHR_UNIX,    /* a UNIX stream socket at @path */
	DOMAIN_CHR_NULL,
};

enum domain_chr_unix_mode {
	DOMAIN_CHR_UNIX_BIND = 0, /* the VMM listens */
	DOMAIN_CHR_UNIX_CONNECT,
};

/* <serial>/<console> <target type=...>. */
enum domain_chr_target {
	DOMAIN_CHR_TARGET_DEFAULT = 0, /* <target> without type */
	DOMAIN_CHR_TARGET_ISA_SERIAL,  /* "isa-serial" (<serial>) */
	DOMAIN_CHR_TARGET_SERIAL, /* "serial" (<console>, or <serial> as written by some tools) */
};

/* One <serial> or <console>: a 16550 UART at COM1..COM4 (port 0..3). */
struct domain_chr {
	unsigned line; /* line of the element in the parsed XML, 0 when built in C */
	enum domain_chr_type type;
	char *path; /* <source path=...> for file/unix (required there); pty: optional, informative
		     */
	enum domain_chr_unix_mode unix_mode;
	enum domain_chr_target target_type;
	int target_port; /* 0..3, -1 when absent */
};

/* <hugepages><page size unit nodeset/></hugepages>. */
struct domain_hugepage {
	uint64_t size_kib; /* power of two >= 4 */
	char *nodeset;	   /* guest NUMA nodes this size backs; NULL = all */
};

#define DOMAIN_MAX_HUGEPAGE_SIZES 4

/* The whole definition. */
struct domain_def {
	enum domain_virt_type virt_type;
	char *name;	  /* 1..DOMAIN_NAME_MAX bytes of [A-Za-z0-9_.+-], not starting with '.' */
	uint8_t uuid[16]; /* generated (random, version 4) when <uuid> is absent */
	bool uuid_generated;
	char *title;	    /* <title>, single line; may be NULL */
	char *description;  /* <description>; may be NULL */
	char *metadata_xml; /* inner XML of <metadata>, kept verbatim for formatting; may be NULL */

	/* Memory, KiB (rounded up from any unit, as libvirt). memory_kib > 0; current <= memory. */
	uint64_t memory_kib;	     /* <memory>: guest RAM size */
	uint64_t current_memory_kib; /* <currentMemory>; equals memory_kib when absent */

	/* <memoryBacking> */
	bool hugepages; /* <hugepages> present (with or without <page>) */
	size_t n_hugepage_sizes;
	struct domain_hugepage hugepage_sizes[DOMAIN_MAX_HUGEPAGE_SIZES];
	bool mem_locked; /* <locked/>: mlock guest RAM */
	enum domain_mem_source mem_source;
	enum domain_mem_access mem_access;

	/* <vcpu placement cpuset>N</vcpu>: 1..DOMAIN_MAX_VCPUS */
	unsigned vcpus;
	enum domain_placement vcpu_placement;
	struct domain_cpuset vcpu_cpuset; /* .str NULL when absent: default affinity of all vCPUs */

	/* <cputune>: vcpupin[i] for vCPU i; .str NULL when that vCPU has no <vcpupin>. */
	struct domain_cpuset vcpupin[DOMAIN_MAX_VCPUS];
	struct domain_cpuset emulatorpin; /* .str NULL when absent */

	/* <numatune><memory mode nodeset placement/> */
	enum domain_numatune_mode numa_mode;
	enum domain_placement numa_placement;
	char *numa_nodeset; /* host NUMA nodes; NULL when absent */

	/* <os>: <type arch machine>hvm</type>, direct kernel boot */
	char *os_arch;	  /* "x86_64" or "i686"; NULL = host (x86_64) */
	char *os_machine; /* recorded, e.g. "pc", "q35"; NULL when absent */
	char *os_kernel;  /* <kernel>; NULL when absent */
	char *os_initrd;  /* <initrd>; requires a kernel */
	char *os_cmdline; /* <cmdline>; requires a kernel */
	size_t n_boot_devs;
	char *boot_devs[4]; /* <boot dev=...> in order: "hd", "network", "cdrom", "fd" */

	/* <features> */
	uint32_t features;		     /* bit (1u << enum domain_feature) */
	enum domain_tristate feature_pmu;    /* <pmu state=...> */
	enum domain_tristate feature_vmport; /* <vmport state=...> */

	/* <cpu mode=...><topology sockets dies cores threads/></cpu>; topology 0 = absent */
	enum domain_cpu_mode cpu_mode;
	unsigned cpu_sockets, cpu_dies, cpu_cores, cpu_threads;

	/* <clock offset=...> with <timer name present tickpolicy> kept for formatting */
	enum domain_clock_offset clock_offset;
	size_t n_timers;
	struct {
		char *name;	  /* rtc, pit, hpet, kvmclock, tsc */
		char *tickpolicy; /* delay, catchup, merge, discard; NULL when absent */
		enum domain_tristate present;
	} timers[8];

	/* Lifecycle, default destroy/restart/destroy as libvirt */
	enum domain_lifecycle_action on_poweroff, on_reboot, on_crash;

	/* <pm>: only "disabled" is implemented; recorded for formatting */
	enum domain_tristate pm_suspend_to_mem, pm_suspend_to_disk;

	/* <devices> */
	char *emulator; /* <emulator> path, recorded; nfvd always runs nfv-vmm */
	size_t n_disks;
	struct domain_disk *disks;
	size_t n_nets;
	struct domain_net *nets;
	size_t n_hostdevs;
	struct domain_hostdev *hostdevs;
	size_t n_serials;
	struct domain_chr *serials;
	size_t n_consoles;
	/*
	 * <console>s with target type serial (the default) name the serial port of the same number
	 * (libvirt's alias of <serial port='N'>): when no <serial> has that port, the console
	 * defines it. They are kept as written for formatting.
	 */
	struct domain_chr *consoles;
	/* <controller type='pci' index='0' model=...>: "pci-root" or "pcie-root"; NULL when absent
	 */
	char *pci_root_model;

	/*
	 * Elements dropped under DOMAIN_PARSE_DROP_UNSUPPORTED, one human-readable line each
	 * ("line 42: dropped <graphics type='vnc'>"). Not formatted back.
	 */
	size_t n_dropped;
	char **dropped;
};

/* Parse flags. */
#define DOMAIN_PARSE_DROP_UNSUPPORTED (1u << 0) /* drop desktop devices instead of refusing them   \
						 */

/*
 * Parse and validate domain XML from @path (at most DOMAIN_XML_MAX bytes; no network access, no
 * DTD, no entity expansion). On success returns 0 and stores a new definition in *@out (free with
 * domain_def_free). On failure returns -errno (-EINVAL for invalid or unsupported XML, -ENOENT,
 * -EFBIG, -ENOMEM...) and, when @errmsg is not NULL, stores a heap message (free()) naming the
 * file, line, element and value of every problem found; *@out is left untouched.
 */
int domain_parse_file(const char *path, unsigned flags, struct domain_def **out, char **errmsg)
	__attribute__((warn_unused_result));

/* As domain_parse_file, from a buffer of @len bytes; @source_name names it in messages (may be
 * NULL). */
int domain_parse_string(const char *xml, size_t len, const char *source_name, unsigned flags,
			struct domain_def **out, char **errmsg) __attribute__((warn_unused_result));

/*
 * Format @def as libvirt-style domain XML (two-space indentation, single-quoted attributes).
 * Formatting a parsed definition and parsing the result gives the same definition.
 * Returns 0 and a heap string (free()) in *@xml_out, or -ENOMEM / -EINVAL.
 */
int domain_format(const struct domain_def *def, char **xml_out) __attribute__((warn_unused_result));

/* Free a definition (NULL-safe). */
void domain_def_free(struct domain_def *def);

/* Validate a definition built or modified in C (the parser already calls it). 0 or -EINVAL + msg.
 */
int domain_def_validate(const struct domain_def *def, char **errmsg)
	__attribute__((warn_unused_result));

/* Helpers for consumers. */
/* "52:54:00:12:34:56" into @buf (at least 18 bytes). */
void domain_mac_format(const uint8_t mac[6], char *buf);
/* Canonical "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into @buf (at least 37 bytes). */
void domain_uuid_format(const uint8_t uuid[16], char *buf);
/* True when host CPU @cpu is in @set. */
bool domain_cpuset_has(const struct domain_cpuset *set, unsigned cpu);

/* enum <-> string, one table per enum; *_to_string returns NULL for out-of-range values. */
const char *domain_lifecycle_action_to_string(enum domain_lifecycle_action v);
const char *domain_net_type_to_string(enum domain_net_type v);
const char *domain_net_model_to_string(enum domain_net_model v);
const char *domain_chr_type_to_string(enum domain_chr_type v);
const char *domain_disk_type_to_string(enum domain_disk_type v);

#endif
