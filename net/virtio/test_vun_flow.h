/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test-only: a one-way flow of frames between two vhost-user netdevs (struct vun) with a switch
 * between them (nfv-switch, OVS-DPDK), counted at the receiver. Used by test_vun_testpmd and
 * test_vun_ovs.
 */
#ifndef NFV_NET_VIRTIO_TEST_VUN_FLOW_H
#define NFV_NET_VIRTIO_TEST_VUN_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "vhost_user_netdev.h"

struct vun_flow {
	const uint8_t *src, *dst; /* the sender's and the receiver's MAC */
	uint64_t ok;		  /* frames that arrived from @src to @dst */
	uint64_t other;		  /* anything else that arrived (a switch's own frames, damage) */
};

/* vun_poll_rx callback: counts one frame into the struct vun_flow @opaque. */
int vun_flow_rx(void *opaque, const void *frame, size_t len);

/*
 * @from sends @n 64-byte frames (fl->dst, fl->src, ethertype 0x88b5, then a sequence number) to
 * @to, polling @to meanwhile and keeping at most @window frames sent but not yet arrived (fewer
 * than @to's RX ring holds, since a switch drops what the ring cannot take), then polls until
 * they all arrived; gives up after @timeout_ms in all. Returns how many arrived (fl->ok's growth).
 */
unsigned vun_flow_send(struct vun *from, struct vun *to, struct vun_flow *fl, unsigned n,
		       unsigned window, int timeout_ms);

#endif
