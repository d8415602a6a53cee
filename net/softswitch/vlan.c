// SPDX-License-Identifier: GPL-2.0-only
/* Port VLAN policy (802.1Q-2018 s6.9, s8.6.2 ingress filtering); see vlan.h. */
#include <errno.h>
#include <string.h>

#include "vlan.h"

int vlan_ingress(const struct vlan_cfg *cfg, bool tagged, uint16_t vid)
{
	vid &= 0xfff;
	/* A priority tag (VID 0) carries no VLAN: treat the frame as untagged (s6.9.1). */
	if (tagged && vid == 0)
		tagged = false;
	if (cfg->mode == VLAN_ACCESS)
		return tagged ? VLAN_DROP : cfg->vlan;
	if (!tagged)
		return cfg->vlan ? cfg->vlan : VLAN_DROP;
	if (vid == 4095)
		return VLAN_DROP;	/* reserved VID */
	return vlan_trunk_allows(cfg, vid) || vid == cfg->vlan ? vid : VLAN_DROP;
}

bool vlan_egress(const struct vlan_cfg *cfg, uint16_t vlan, bool *tag)
{
	*tag = false;
	if (cfg->mode == VLAN_ACCESS)
		return vlan == cfg->vlan;
	if (cfg->vlan && vlan == cfg->vlan)
		return true;	/* native VLAN leaves untagged */
	if (vlan == 0 || !vlan_trunk_allows(cfg, vlan))
		return false;
	*tag = true;
	return true;
}

int vlan_set_access(struct vlan_cfg *cfg, uint16_t vlan)
{
	if (vlan > 4094)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = VLAN_ACCESS;
	cfg->vlan = vlan;
	return 0;
}

int vlan_set_trunk(struct vlan_cfg *cfg, uint16_t native, const uint16_t *vids, unsigned n)
{
	struct vlan_cfg c = { .mode = VLAN_TRUNK, .vlan = native };

	if (native > 4094)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (vids[i] < 1 || vids[i] > 4094)
			return -EINVAL;
		c.trunks[vids[i] / 64] |= 1ull << (vids[i] % 64);
	}
	*cfg = c;
	return 0;
}

const char *vlan_mode_name(enum vlan_mode m)
{
	return m == VLAN_TRUNK ? "trunk" : "access";
}

int vlan_mode_parse(const char *s, enum vlan_mode *out)
{
	if (!strcmp(s, "access"))
		*out = VLAN_ACCESS;
	else if (!strcmp(s, "trunk"))
		*out = VLAN_TRUNK;
	else
		return -EINVAL;
	return 0;
}
