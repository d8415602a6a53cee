/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vhost-user frontend (the "master"/front-end side of the QEMU vhost-user protocol,
 * docs/interop/vhost-user.rst). nfv-vmm uses it to hand guest rings to a backend such as
 * nfv-switch, dpdk-testpmd (net_vhost) or OVS-DPDK (dpdkvhostuserclient).
 *
 * One struct vhost_user is one connection to one backend. It remembers everything it has told the
 * backend (features, memory table, every ring's size/base/addresses/eventfds/enable state), so that
 * after the backend goes away and comes back vhost_user_reconnect() can replay the whole state; the
 * ring base to restart from is asked of the owner through cfg->ring_base (read from the used ring
 * that lives in memory the owner controls, since the dead backend cannot be asked).
 *
 * Everything the backend sends is untrusted: every reply is checked for its request code, version,
 * flags, size and payload; file descriptors arriving where none are expected are closed and counted;
 * feature bits are masked to what we offered; every wait for a reply is bounded by cfg->timeout_ms
 * and fails with -ETIMEDOUT. Any protocol violation drops the connection (the byte stream can no
 * longer be trusted to be in sync) and is reported as a disconnect.
 *
 * Not thread-safe: one owner thread calls everything. Callbacks run on that thread, from inside
 * the call that noticed the event.
 */
#ifndef NFV_NET_VIRTIO_VHOST_USER_H
#define NFV_NET_VIRTIO_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Wire format (vhost-user.rst "Message Specification"); all fields little endian. ---- */

#define VHOST_USER_VERSION 0x1
#define VHOST_USER_VERSION_MASK 0x3
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)
#define VHOST_USER_HDR_SIZE 12
#define VHOST_USER_MAX_FDS 8
#define VHOST_USER_MAX_MEM_REGIONS 8
#define VHOST_USER_MAX_CONFIG_SIZE 256
/* SET_VRING_KICK/CALL/ERR: "Bit 8 is the invalid FD flag". */
#define VHOST_USER_VRING_IDX_MASK 0xffu
#define VHOST_USER_VRING_NOFD_MASK (1u << 8)

enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_REQUEST_MAX = 41,
};

/* Virtio feature bit that announces the protocol-feature extension (vhost-user.rst). */
#define VHOST_USER_F_PROTOCOL_FEATURES 30
/* VIRTIO_F_RING_PACKED (virtio 1.2 s6): changes the meaning of ring sizes, addresses and bases. */
#define VHOST_USER_F_RING_PACKED 34

/* Protocol feature bits (vhost-user.rst "Protocol features"). */
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD 1
#define VHOST_USER_PROTOCOL_F_RARP 2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_PROTOCOL_F_NET_MTU 4
#define VHOST_USER_PROTOCOL_F_CONFIG 9
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD 12
/* What this frontend knows how to use; anything else the backend offers is masked away. */
#define VHOST_USER_PROTOCOL_SUPPORTED                                                              \
	((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK) |          \
	 (1ull << VHOST_USER_PROTOCOL_F_CONFIG) | (1ull << VHOST_USER_PROTOCOL_F_NET_MTU))

struct vhost_user_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct vhost_user_vring_addr {
	uint32_t index;
	uint32_t flags;	      /* bit 0: VHOST_VRING_F_LOG */
	uint64_t desc_uaddr;  /* frontend virtual addresses, translated by the mem table */
	uint64_t used_uaddr;
	uint64_t avail_uaddr;
	uint64_t log_gpa;
} __attribute__((packed));

struct vhost_user_mem_region_wire {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
} __attribute__((packed));

struct vhost_user_memory {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_mem_region_wire regions[VHOST_USER_MAX_MEM_REGIONS];
} __attribute__((packed));

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHOST_USER_MAX_CONFIG_SIZE];
} __attribute__((packed));

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
} __attribute__((packed));

struct vhost_user_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size; /* of the payload that follows */
	union {
		uint64_t u64;
		struct vhost_user_vring_state state;
		struct vhost_user_vring_addr addr;
		struct vhost_user_memory memory;
		struct vhost_user_config config;
		struct vhost_user_inflight inflight;
	} payload;
} __attribute__((packed));

#define VHOST_USER_PAYLOAD_MAX (sizeof(struct vhost_user_msg) - VHOST_USER_HDR_SIZE)

/* Human-readable name of a request code (never NULL). */
const char *vhost_user_req_name(uint32_t req);

/*
 * Check a reply header received for request @req: right request code, version 1, REPLY flag set,
 * no unknown flag bits, and a payload size that this request's reply must have. Returns 0, or
 * -EPROTO (wrong request/version/flags) / -EMSGSIZE (wrong size) / -EINVAL (@req has no reply).
 */
int vhost_user_reply_hdr_check(uint32_t req, const struct vhost_user_msg *hdr)
	__attribute__((warn_unused_result));

/*
 * Parse one complete reply (@len bytes, header included, @nfds descriptors received with it) to
 * request @req into @out. Returns 0 or a negative errno as vhost_user_reply_hdr_check(), plus
 * -EBADMSG for a truncated/overlong buffer or fds where the reply carries none, -ERANGE for a
 * payload value that cannot be right (GET_VRING_BASE for a different ring, a zero queue count,
 * GET_CONFIG for another size), -EMSGSIZE for a GET_CONFIG reply of the wrong length, and -EIO
 * for a well-formed ack that reports failure. @arg is the ring index asked for (GET_VRING_BASE)
 * or the number of config bytes asked for (GET_CONFIG), else ignored. For GET_VRING_BASE the
 * payload must fit 16 bits unless @arg has VHOST_USER_GET_VRING_BASE_PACKED (packed rings).
 * This is the function the fuzz target exercises.
 */
#define VHOST_USER_GET_VRING_BASE_PACKED (1u << 31) /* in @arg: the ring is packed, num is 32-bit */
int vhost_user_reply_parse(uint32_t req, uint32_t arg, const void *buf, size_t len, unsigned nfds,
			   struct vhost_user_msg *out) __attribute__((warn_unused_result));

/*
 * Encode a request without a payload-specific helper: fills header and copies @payload_len bytes.
 * -EMSGSIZE when the payload does not fit.
 */
int vhost_user_msg_init(struct vhost_user_msg *m, uint32_t req, const void *payload,
			size_t payload_len) __attribute__((warn_unused_result));

/* ---- Connection ---- */

#define VHOST_USER_MAX_QUEUES 16

/* A guest-RAM region handed to the backend: gpa and host mapping of the same bytes, and the fd. */
struct vhost_user_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t hva;	    /* our mapping: the backend's "user address" for ring addresses */
	int fd;		    /* not owned; must stay open while the vhost_user exists */
	uint64_t fd_offset; /* offset of gpa within fd */
};

struct vhost_user;

struct vhost_user_cfg {
	const char *path;	  /* UNIX socket path (copied) */
	bool server;		  /* true: we listen and accept (libvirt <source mode='server'>) */
	uint64_t features;	  /* virtio features we would accept; PROTOCOL_FEATURES added by us */
	uint64_t protocol_features; /* wanted protocol features, masked to _SUPPORTED */
	unsigned nr_queues;	  /* rings (not pairs) we will use, <= VHOST_USER_MAX_QUEUES */
	int timeout_ms;		  /* per-reply bound; 0 means 5000 */
	/* Called (once per connection) when the backend is found gone. May be NULL. */
	void (*on_disconnect)(void *opaque);
	/*
	 * Ring base (next avail index the backend should process) to replay for ring @idx on
	 * reconnect; typically the used->idx in the ring memory. NULL: replay the base last set.
	 */
	uint16_t (*ring_base)(void *opaque, unsigned idx);
	/*
	 * Optional, used instead of ring_base when set: the full 32-bit SET_VRING_BASE payload to
	 * replay for ring @idx (packed rings carry index and wrap counters, see
	 * vhost_user_set_vring_base()).
	 */
	uint32_t (*ring_state)(void *opaque, unsigned idx);
	void *opaque;
};

struct vhost_user_stats {
	uint64_t msgs_sent;
	uint64_t replies;
	uint64_t bad_replies;	 /* failed a check: dropped the connection */
	uint64_t unexpected_fds; /* received and closed */
	uint64_t timeouts;
	uint64_t disconnects;
	uint64_t reconnects;	 /* successful replays */
};

/*
 * Create a connection object; nothing is sent yet. In server mode the listening socket is
 * created here (an existing stale socket file at @path is replaced). 0 or -errno.
 */
int vhost_user_create(const struct vhost_user_cfg *cfg, struct vhost_user **out)
	__attribute__((warn_unused_result));
/* Close everything (sockets, the listening socket and its file). NULL-safe. */
void vhost_user_destroy(struct vhost_user *vu);

/*
 * Establish the connection: client mode connects (retrying -ENOENT/-ECONNREFUSED until
 * @timeout_ms passes; 0 = one try), server mode waits up to @timeout_ms (-1 forever) for the
 * backend to connect. Then runs the handshake: SET_OWNER, GET_FEATURES, GET/SET_PROTOCOL_FEATURES,
 * GET_QUEUE_NUM (when MQ). Returns 0, -ETIMEDOUT, -ECONNREFUSED, -EPROTO, ...
 */
int vhost_user_connect(struct vhost_user *vu, int timeout_ms) __attribute__((warn_unused_result));
/* Use an already connected socket (takes ownership of @fd), then handshake as vhost_user_connect. */
int vhost_user_connect_fd(struct vhost_user *vu, int fd) __attribute__((warn_unused_result));

bool vhost_user_connected(const struct vhost_user *vu);
/* The connected socket (for an evloop watch on EPOLLIN|EPOLLRDHUP), or -1. */
int vhost_user_fd(const struct vhost_user *vu);
/* The listening socket in server mode, else -1. */
int vhost_user_listen_fd(const struct vhost_user *vu);
/*
 * Non-blocking liveness check, e.g. from the socket's evloop callback: when the backend has closed
 * the socket (or sent anything unsolicited, which the protocol does not allow on this channel) the
 * connection is dropped and on_disconnect called. Returns true while connected.
 */
bool vhost_user_poll(struct vhost_user *vu);
/* Drop the connection as if the backend had gone (calls on_disconnect). */
void vhost_user_disconnect(struct vhost_user *vu);

/* Features the backend offered, masked to cfg->features (valid after connect). */
uint64_t vhost_user_backend_features(const struct vhost_user *vu);
/* Negotiated protocol features (valid after connect). */
uint64_t vhost_user_protocol_features(const struct vhost_user *vu);
/* Queue count from GET_QUEUE_NUM, or 1 when MQ is not negotiated. */
unsigned vhost_user_backend_queues(const struct vhost_user *vu);

/*
 * SET_FEATURES: @features must be a subset of cfg->features and, while connected, of
 * vhost_user_backend_features() (else -EINVAL). Remembered for replay even when the send fails
 * with -ENOTCONN (as are the mem table and ring settings below).
 */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
	__attribute__((warn_unused_result));
/* SET_MEM_TABLE with up to VHOST_USER_MAX_MEM_REGIONS regions (fds sent with SCM_RIGHTS). */
int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r, unsigned n)
	__attribute__((warn_unused_result));
int vhost_user_set_vring_num(struct vhost_user *vu, unsigned idx, unsigned num)
	__attribute__((warn_unused_result));
/*
 * SET_VRING_BASE. Split rings: @base is the next avail index. Packed rings (vhost-user.rst "Vring
 * descriptor indices for packed virtqueues"): bits 0-14 the next descriptor index, bit 15 the avail
 * wrap counter, bits 16-30 the next used index, bit 31 the used wrap counter.
 */
int vhost_user_set_vring_base(struct vhost_user *vu, unsigned idx, uint32_t base)
	__attribute__((warn_unused_result));
/* Ring part addresses are our host virtual addresses (hva) inside the mem table regions. */
int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned idx, uint64_t desc, uint64_t avail,
			      uint64_t used) __attribute__((warn_unused_result));
/* Eventfds are not owned and must stay open; -1 sends the "no fd" flag (polling mode). */
int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned idx, int fd)
	__attribute__((warn_unused_result));
int vhost_user_set_vring_call(struct vhost_user *vu, unsigned idx, int fd)
	__attribute__((warn_unused_result));
int vhost_user_set_vring_err(struct vhost_user *vu, unsigned idx, int fd)
	__attribute__((warn_unused_result));
/* SET_VRING_ENABLE (only sent when PROTOCOL_FEATURES was negotiated; always remembered). */
int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned idx, bool enable)
	__attribute__((warn_unused_result));
/* GET_VRING_BASE: stops the ring in the backend and returns its next avail index. */
int vhost_user_get_vring_base(struct vhost_user *vu, unsigned idx, uint16_t *base)
	__attribute__((warn_unused_result));
/*
 * GET_VRING_BASE with the whole 32-bit payload (packed rings: layout as for
 * vhost_user_set_vring_base(); backends such as DPDK 22.11 fill only bits 0-15).
 */
int vhost_user_get_vring_state(struct vhost_user *vu, unsigned idx, uint32_t *num)
	__attribute__((warn_unused_result));
/* Forget everything remembered about ring @idx (it is not replayed any more). No message. */
void vhost_user_forget_vring(struct vhost_user *vu, unsigned idx);
/* RESET_OWNER; forgets the remembered state. */
int vhost_user_reset_owner(struct vhost_user *vu) __attribute__((warn_unused_result));
/*
 * GET_CONFIG / SET_CONFIG of @len (1..256) bytes of the device config space at @offset (only with
 * the CONFIG protocol feature, else -EOPNOTSUPP). The reply must be for the same window.
 */
int vhost_user_get_config(struct vhost_user *vu, uint32_t offset, void *buf, uint32_t len)
	__attribute__((warn_unused_result));
int vhost_user_set_config(struct vhost_user *vu, uint32_t offset, const void *buf, uint32_t len)
	__attribute__((warn_unused_result));
/* NET_SET_MTU (only when the NET_MTU protocol feature was negotiated, else -EOPNOTSUPP). */
int vhost_user_net_set_mtu(struct vhost_user *vu, uint16_t mtu) __attribute__((warn_unused_result));

/*
 * After a disconnect: connect again (as vhost_user_connect with @timeout_ms) and replay the whole
 * remembered state: handshake, SET_FEATURES (fails with -ENOTSUP if the new backend lacks a feature
 * already negotiated with the guest), SET_MEM_TABLE, and for every configured ring
 * NUM/BASE/ADDR/KICK/CALL/ERR/ENABLE with the base from cfg->ring_base. 0 or -errno.
 */
int vhost_user_reconnect(struct vhost_user *vu, int timeout_ms) __attribute__((warn_unused_result));

void vhost_user_get_stats(const struct vhost_user *vu, struct vhost_user_stats *st);

#endif
