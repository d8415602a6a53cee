/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Open vSwitch (OVS-DPDK) as nfvd's alternative switch backend.
 *
 * nfvd picks the backend per network: `--network NAME=ovs:BRIDGE[,db=DB]` makes the interfaces
 * whose <source bridge|network='NAME'> names it ports of the OVS bridge BRIDGE; every other name
 * stays on nfv-switch. nfvd drives OVS through ovs-vsctl (run without a shell, bounded in time,
 * its output capped): ports are `dpdkvhostuserclient` interfaces (OVS connects to the socket as
 * the vhost-user client, so nfv-vmm is the vhost-user server of these), VLANs are the Port's
 * tag/trunks/vlan_mode columns, counters come from the Interface's statistics column.
 *
 * ovs-vsctl's output is treated as untrusted text: parsers bound every field and refuse what
 * they do not understand.
 */
#ifndef NFV_MGMT_OVS_H
#define NFV_MGMT_OVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain.h"

#define OVS_NAME_MAX 64	     /* bridge, port and network names, NUL included */
#define OVS_DB_MAX 256	     /* ovs-vsctl --db= value, NUL included */
#define OVS_OUTPUT_MAX 65536 /* bytes of ovs-vsctl output kept; more is an error */
#define OVS_TIMEOUT_MS 10000 /* default bound for one ovs-vsctl run */

/* Where ports of one network go. */
struct ovs_target {
	char bridge[OVS_NAME_MAX];
	char db[OVS_DB_MAX]; /* "" = ovs-vsctl's default database */
	const char *vsctl;   /* ovs-vsctl binary; NULL = "ovs-vsctl" from PATH */
	int timeout_ms;	     /* 0 = OVS_TIMEOUT_MS */
};

/* One nfvd --network entry. */
struct ovs_network {
	char name[OVS_NAME_MAX];
	bool ovs; /* false: nfv-switch */
	struct ovs_target target;
};

/*
 * Parse an nfvd --network value: "NAME=nfv-switch" or "NAME=ovs:BRIDGE[,db=DB]". DB is an OVSDB
 * remote as ovs-vsctl --db takes it (unix:PATH, tcp:HOST:PORT...). Names are 1..63 characters of
 * [A-Za-z0-9_.-], not starting with '-'. Returns 0 or -EINVAL with a message in @err.
 */
int ovs_network_parse(const char *spec, struct ovs_network *out, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* True when @s is a name nfvd passes to ovs-vsctl as a bridge or port name (see above). */
bool ovs_name_ok(const char *s);

/* An argument vector built by the ovs_argv_* calls; strings are owned by it. */
#define OVS_ARGV_MAX 48
struct ovs_argv {
	char *v[OVS_ARGV_MAX + 1]; /* NULL-terminated */
	int n;
	bool oom; /* an allocation failed or the vector is full: do not run it */
};
void ovs_argv_free(struct ovs_argv *a);

/*
 * ovs-vsctl command line that adds @port to the target bridge as a dpdkvhostuserclient interface
 * connecting to @sock, with the VLAN configuration of @vlan:
 *   no tags                  untagged port (no tag, no trunks)
 *   one tag, no trunk        access port: tag=ID
 *   trunk / several tags     trunk: trunks=IDs; a tag with nativeMode='untagged' becomes the
 *                            native VLAN (vlan_mode=native-untagged, tag=ID), 'tagged' likewise
 *                            with native-tagged
 * Returns 0, -EINVAL (@port or @sock not acceptable, message in @err) or -ENOMEM.
 */
int ovs_argv_port_add(const struct ovs_target *t, const char *port, const char *sock,
		      const struct domain_vlan *vlan, struct ovs_argv *out, char *err,
		      size_t errlen) __attribute__((warn_unused_result));

/* Counters of one OVS Interface, as OVS sees them (rx = received from the guest). */
struct ovs_port_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
	uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
	bool have; /* at least one of the counters above was present */
};

/*
 * Parse the output of `ovs-vsctl get Interface P statistics`: an OVSDB map such as
 * "{rx_bytes=1, rx_packets=2, tx_bytes=3}" (keys may be double-quoted, values are unsigned
 * integers; unknown keys are skipped). An empty map is valid (no counters yet).
 * Returns 0 or -EINVAL for anything else.
 */
int ovs_stats_parse(const char *text, size_t len, struct ovs_port_stats *out)
	__attribute__((warn_unused_result));

/*
 * Run ovs-vsctl with @args (argv[0] is replaced by t->vsctl; --db and --timeout are inserted by
 * the caller's vector as built by the ovs_argv_* calls) and wait at most t->timeout_ms.
 * *@out (may be NULL) receives stdout (free()). Returns 0, -ETIMEDOUT (the process is killed),
 * -EMSGSIZE, -ENOENT when ovs-vsctl cannot be executed, or -EREMOTEIO when it exited non-zero
 * (*@status_out gets its exit status); its stderr ends up in @err.
 */
int ovs_vsctl_run(const struct ovs_target *t, const struct ovs_argv *args, char **out,
		  int *status_out, char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * The calls nfvd makes. Each returns 0 or -errno with a message in @err.
 * ovs_bridge_check: -ENODEV when the bridge does not exist, another error when OVS is not
 * reachable. ovs_port_del removes the port if it exists (a missing port is success).
 */
int ovs_bridge_check(const struct ovs_target *t, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int ovs_port_add(const struct ovs_target *t, const char *port, const char *sock,
		 const struct domain_vlan *vlan, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int ovs_port_del(const struct ovs_target *t, const char *port, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int ovs_port_stats(const struct ovs_target *t, const char *port, struct ovs_port_stats *out,
		   char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
