/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seam between an emulated NIC ("frontend": a chip model such as the DP8390) and whatever
 * carries its frames ("backend": a tap device, a vhost-user port with VMM-owned rings, a test).
 *
 * Frames are plain Ethernet frames: destination MAC first, no preamble, no FCS, no virtio-net
 * header. Both directions copy: nothing is kept after a call returns.
 *
 * Direction device -> wire: the device calls backend.send(). Direction wire -> device: the backend
 * calls frontend.receive(); when that reports -ENOBUFS it should stop pulling frames (leave them
 * queued in the kernel / the switch ring) until the device calls backend.rx_ready().
 */
#ifndef NFV_NET_NETDEV_H
#define NFV_NET_NETDEV_H

#include <stdbool.h>
#include <stddef.h>

/* Largest frame either side passes: 1514 bytes of Ethernet II plus one 802.1Q tag. */
#define NETDEV_MAX_FRAME 1518u
/* Shortest frame on an Ethernet wire without its FCS (IEEE 802.3 s4.2.3.3: 64 bytes with FCS). */
#define NETDEV_MIN_FRAME 60u

/* Implemented by the backend, called by the device. */
struct netdev_backend {
	/*
	 * Put one frame on the wire. Called on the device's thread (for emulated NICs: the vCPU
	 * thread that started the transmission) and possibly with the device's lock held: it must
	 * not block for long and must not call back into the device. Returns 0, or -errno when the
	 * frame was dropped (the device counts it; Ethernet has no delivery guarantee).
	 */
	int (*send)(void *opaque, const void *frame, size_t len);
	/*
	 * Optional: the device may accept frames again after it refused one with -ENOBUFS (the
	 * guest freed receive buffers). Same calling rules as send(); typically signals an eventfd.
	 */
	void (*rx_ready)(void *opaque);
	void *opaque;
};

/* Implemented by the device, called by the backend (on the backend's thread). */
struct netdev_frontend {
	/*
	 * Offer one received frame. Returns 0 when the device took it (stored, or dropped by its
	 * address filter as a wire would), -ENOBUFS when the guest has no room (counted drop: pause
	 * until rx_ready), -ENETDOWN when the device's receiver is off (counted drop), -EMSGSIZE
	 * for frames longer than the device accepts.
	 */
	int (*receive)(void *opaque, const void *frame, size_t len);
	/* True when a maximum-size frame would be stored now; a hint, receive() decides. */
	bool (*can_receive)(void *opaque);
	void *opaque;
};

#endif
