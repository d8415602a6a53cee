/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IEEE 802.1Q port VLAN policy of nfv-switch: pure functions, no DPDK.
 *
 * access port: untagged frames (and priority-tagged frames, VID 0, 802.1Q-2018 s6.9.1) belong to
 *   the port's VLAN; frames tagged with any other VID are dropped. Egress is untagged, only for
 *   frames of the port's VLAN. VLAN 0 on an access port means "the untagged domain".
 * trunk port: tagged frames are accepted when their VID is in the allowed list; untagged frames
 *   belong to the native VLAN when one is set (vlan != 0), else they are dropped. Egress carries a
 *   tag, except for the native VLAN which leaves untagged.
 */
#ifndef NFV_SOFTSWITCH_VLAN_H
#define NFV_SOFTSWITCH_VLAN_H

#include <stdbool.h>
#include <stdint.h>

enum vlan_mode {
	VLAN_ACCESS = 0,
	VLAN_TRUNK = 1,
};

struct vlan_cfg {
	enum vlan_mode mode;
	uint16_t vlan;			/* access VLAN, or native VLAN of a trunk (0: none) */
	uint64_t trunks[4096 / 64];	/* allowed VIDs of a trunk (bit per VID) */
};

/* Ingress verdicts. */
#define VLAN_DROP (-1)

/*
 * Classify a frame arriving on a port. @tagged says whether it carried an 802.1Q tag, @vid is the
 * tag's VID (ignored when untagged). Returns the VLAN (0-4095) the frame belongs to inside the
 * switch, or VLAN_DROP.
 */
int vlan_ingress(const struct vlan_cfg *cfg, bool tagged, uint16_t vid);

/*
 * Egress decision for a frame of @vlan leaving through a port: returns false when the port is not
 * a member of @vlan; otherwise true, with *@tag set when the frame must leave tagged.
 */
bool vlan_egress(const struct vlan_cfg *cfg, uint16_t vlan, bool *tag);

/* Configure: returns 0 or -EINVAL (VID out of 1..4094 where one is needed). */
int vlan_set_access(struct vlan_cfg *cfg, uint16_t vlan) __attribute__((warn_unused_result));
int vlan_set_trunk(struct vlan_cfg *cfg, uint16_t native, const uint16_t *vids, unsigned n)
	__attribute__((warn_unused_result));

static inline bool vlan_trunk_allows(const struct vlan_cfg *cfg, uint16_t vid)
{
	return vid < 4096 && (cfg->trunks[vid / 64] >> (vid % 64)) & 1;
}

const char *vlan_mode_name(enum vlan_mode m);
/* "access"/"trunk" -> mode; -EINVAL otherwise. */
int vlan_mode_parse(const char *s, enum vlan_mode *out) __attribute__((warn_unused_result));

#endif
