// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-VF settings through rtnetlink (libnl-route-3's rtnl_link_vf API): RTM_NEWLINK/SETLINK on the
 * PF's netdev with IFLA_VFINFO_LIST { IFLA_VF_INFO { IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_SPOOFCHK,
 * IFLA_VF_TRUST, IFLA_VF_LINK_STATE, IFLA_VF_RATE } } (include/uapi/linux/if_link.h), which the
 * kernel hands to the PF driver's ndo_set_vf_* (net/core/rtnetlink.c do_setvfinfo).
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sriov_priv.h"

void sriov_vf_cfg_init(struct sriov_vf_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->vlan = -1;
	cfg->qos = 0;
	cfg->spoofchk = -1;
	cfg->trust = -1;
	cfg->link_state = SRIOV_LINK_LEAVE;
	cfg->min_tx_rate = -1;
	cfg->max_tx_rate = -1;
}

static int nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_PERM:
		return -EPERM;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return -ENODEV;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_EXIST:
		return -EEXIST;
	default:
		return -EIO;
	}
}

static int cfg_check(unsigned vf, const struct sriov_vf_cfg *c)
{
	if (vf > 0xffff)
		return -ERANGE;
	if (c->set_mac && (c->mac[0] & 1)) {
		log_err("sriov: VF %u: MAC %02x:%02x:%02x:%02x:%02x:%02x is multicast", vf,
			c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
		return -EINVAL;
	}
	if (c->vlan < -1 || c->vlan > 4095 || c->qos < 0 || c->qos > 7) {
		log_err("sriov: VF %u: VLAN %d / QoS %d out of range (0..4095 / 0..7)", vf, c->vlan,
			c->qos);
		return -ERANGE;
	}
	if (c->spoofchk < -1 || c->spoofchk > 1 || c->trust < -1 || c->trust > 1 ||
	    c->link_state < SRIOV_LINK_LEAVE || c->link_state > SRIOV_LINK_DISABLE)
		return -EINVAL;
	if (c->min_tx_rate < -1 || c->min_tx_rate > UINT32_MAX || c->max_tx_rate < -1 ||
	    c->max_tx_rate > UINT32_MAX) {
		log_err("sriov: VF %u: rates out of range", vf);
		return -ERANGE;
	}
	if (c->max_tx_rate > 0 && c->min_tx_rate > c->max_tx_rate) {
		log_err("sriov: VF %u: min_tx_rate %lld above max_tx_rate %lld", vf,
			(long long)c->min_tx_rate, (long long)c->max_tx_rate);
		return -ERANGE;
	}
	return 0;
}

/* The "changes" link object carrying one VF entry; NULL-free on error. */
static int build_changes(unsigned vf, const struct sriov_vf_cfg *c, struct rtnl_link **out)
{
	struct rtnl_link *changes = rtnl_link_alloc();
	struct rtnl_link_vf *v = rtnl_link_vf_alloc();
	int ret = -ENOMEM;

	if (!changes || !v)
		goto fail;
	rtnl_link_vf_set_index(v, vf);
	if (c->set_mac) {
		struct nl_addr *a = nl_addr_build(AF_LLC, c->mac, 6);

		if (!a)
			goto fail;
		rtnl_link_vf_set_addr(v, a);
		nl_addr_put(a);
	}
	if (c->vlan >= 0) {
		nl_vf_vlans_t *vl;

		if (rtnl_link_vf_vlan_alloc(&vl, 1) < 0)
			goto fail;
		vl->vlans[0].vf_vlan = (uint32_t)c->vlan;
		vl->vlans[0].vf_vlan_qos = (uint32_t)c->qos;
		vl->vlans[0].vf_vlan_proto = ETH_P_8021Q;
		rtnl_link_vf_set_vlans(v, vl);
		rtnl_link_vf_vlan_put(vl);
	}
	if (c->spoofchk >= 0)
		rtnl_link_vf_set_spoofchk(v, (uint32_t)c->spoofchk);
	if (c->trust >= 0)
		rtnl_link_vf_set_trust(v, (uint32_t)c->trust);
	if (c->link_state >= 0)
		rtnl_link_vf_set_linkstate(v, (uint32_t)c->link_state);
	if (c->min_tx_rate >= 0 || c->max_tx_rate >= 0) {
		/* IFLA_VF_RATE carries both; an unspecified one is sent as 0 (no limit). */
		struct nl_vf_rate r = {
			.api = RTNL_LINK_VF_RATE_API_NEW,
			.min_tx_rate = c->min_tx_rate > 0 ? (uint32_t)c->min_tx_rate : 0,
			.max_tx_rate = c->max_tx_rate > 0 ? (uint32_t)c->max_tx_rate : 0,
		};

		rtnl_link_vf_set_rate(v, &r);
	}
	ret = rtnl_link_vf_add(changes, v);
	if (ret < 0) {
		ret = nl_errno(ret);
		goto fail;
	}
	rtnl_link_vf_put(v);
	*out = changes;
	return 0;
fail:
	if (v)
		rtnl_link_vf_put(v);
	rtnl_link_put(changes);
	return ret;
}

int sriov_vf_build_msg(int ifindex, unsigned vf, const struct sriov_vf_cfg *cfg, void **buf,
		       size_t *len)
{
	struct rtnl_link *orig = NULL, *changes = NULL;
	struct nl_msg *msg = NULL;
	struct nlmsghdr *h;
	int ret;

	ret = cfg_check(vf, cfg);
	if (ret)
		return ret;
	ret = build_changes(vf, cfg, &changes);
	if (ret)
		return ret;
	orig = rtnl_link_alloc();
	if (!orig) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	ret = rtnl_link_build_change_request(orig, changes, 0, &msg);
	if (ret < 0) {
		ret = nl_errno(ret);
		goto out;
	}
	h = nlmsg_hdr(msg);
	*buf = malloc(h->nlmsg_len);
	if (!*buf) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(*buf, h, h->nlmsg_len);
	*len = h->nlmsg_len;
	ret = 0;
out:
	nlmsg_free(msg);
	rtnl_link_put(orig);
	rtnl_link_put(changes);
	return ret;
}

static int pf_ifindex(struct sriov *s, const char *pf, char ifname[IF_NAMESIZE], int *ifindex)
{
	struct sriov_pf_info pi;
	char p[PATH_MAX];
	unsigned long idx;
	int ret;

	ret = sriov_pf_get(s, pf, &pi);
	if (ret)
		return ret;
	if (!pi.ifname[0]) {
		log_err("sriov: PF %s has no network interface (driver '%s'): VFs are configured "
			"through the PF's netdev",
			pi.addr, pi.driver[0] ? pi.driver : "none");
		return -ENODEV;
	}
	strcpy(ifname, pi.ifname);
	ret = sriov_path(s, p, sizeof(p), "class/net/%s/ifindex", pi.ifname);
	if (!ret)
		ret = sriov_read_uint(p, &idx);
	if (ret || idx == 0 || idx > INT32_MAX) {
		log_err("sriov: %s: cannot read the ifindex of %s", pi.addr, pi.ifname);
		return ret ? ret : -EIO;
	}
	*ifindex = (int)idx;
	return 0;
}

static int route_sock(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(sk);
		return nl_errno(ret);
	}
	*out = sk;
	return 0;
}

int sriov_vf_configure(struct sriov *s, const char *pf, unsigned vf, const struct sriov_vf_cfg *cfg)
{
	struct rtnl_link *orig = NULL, *changes = NULL;
	char ifname[IF_NAMESIZE];
	struct nl_sock *sk = NULL;
	int ifindex, ret;

	ret = cfg_check(vf, cfg);
	if (ret)
		return ret;
	ret = pf_ifindex(s, pf, ifname, &ifindex);
	if (ret)
		return ret;
	ret = build_changes(vf, cfg, &changes);
	if (ret)
		return ret;
	orig = rtnl_link_alloc();
	if (!orig) {
		ret = -ENOMEM;
		goto out;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	ret = route_sock(&sk);
	if (ret)
		goto out;
	ret = rtnl_link_change(sk, orig, changes, 0);
	if (ret < 0) {
		log_err("sriov: %s VF %u: setting VF parameters on %s: %s", pf, vf, ifname,
			nl_geterror(ret));
		ret = nl_errno(ret);
		goto out;
	}
	ret = 0;
out:
	nl_socket_free(sk);
	rtnl_link_put(orig);
	rtnl_link_put(changes);
	return ret;
}

int sriov_vf_query(struct sriov *s, const char *pf, unsigned vf, struct sriov_vf_state *out)
{
	struct nl_cache *cache = NULL;
	struct rtnl_link *link = NULL;
	struct rtnl_link_vf *v = NULL;
	char ifname[IF_NAMESIZE];
	struct nl_sock *sk = NULL;
	struct nl_addr *a = NULL;
	nl_vf_vlans_t *vl = NULL;
	struct nl_vf_rate r;
	uint32_t u;
	int ifindex, ret;

	memset(out, 0, sizeof(*out));
	out->spoofchk = out->trust = out->link_state = -1;
	ret = pf_ifindex(s, pf, ifname, &ifindex);
	if (ret)
		return ret;
	ret = route_sock(&sk);
	if (ret)
		return ret;
	/* A link dump asks for VF information (IFLA_EXT_MASK RTEXT_FILTER_VF). */
	ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (ret < 0) {
		ret = nl_errno(ret);
		goto out;
	}
	link = rtnl_link_get(cache, ifindex);
	v = link ? rtnl_link_vf_get(link, vf) : NULL;
	if (!v) {
		log_err("sriov: %s (%s) reports no VF %u", pf, ifname, vf);
		ret = -ENODEV;
		goto out;
	}
	if (!rtnl_link_vf_get_addr(v, &a) && a && nl_addr_get_len(a) >= 6)
		memcpy(out->mac, nl_addr_get_binary_addr(a), 6);
	if (!rtnl_link_vf_get_vlans(v, &vl) && vl && vl->size > 0) {
		out->vlan = vl->vlans[0].vf_vlan;
		out->qos = vl->vlans[0].vf_vlan_qos;
	}
	if (!rtnl_link_vf_get_spoofchk(v, &u))
		out->spoofchk = (int)u;
	if (!rtnl_link_vf_get_trust(v, &u))
		out->trust = (int)u;
	if (!rtnl_link_vf_get_linkstate(v, &u))
		out->link_state = (int)u;
	memset(&r, 0, sizeof(r));
	r.api = RTNL_LINK_VF_RATE_API_NEW;
	if (!rtnl_link_vf_get_rate(v, &r)) {
		out->min_tx_rate = r.min_tx_rate;
		out->max_tx_rate = r.max_tx_rate;
	}
	ret = 0;
out:
	if (v)
		rtnl_link_vf_put(v);
	if (link)
		rtnl_link_put(link);
	nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}
