// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the virtio-net control plane, driving virtio_net_dev_ops as the virtio-pci
 * transport would, with guest RAM in a memfd and a fake vhost-user backend thread:
 * feature intersection, config space, ring hand-over with GPA->HVA translation, the control
 * queue (good and malformed commands), link down on backend loss, reconnect with replay; and with
 * packed rings: event suppression areas as ring addresses, index+wrap ring bases, the control
 * queue on a packed ring, and a reconnect resuming where a (simulated) backend left each ring.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evloop.h"
#include "gmem.h"
#include "log.h"
#include "test_fake_backend.h"
#include "util.h"
#include "virtio_net.h"
#include "virtio_net_packed.h"
#include "vq_drv.h"
#include "virtq.h"
#include "test.h"

#define RAM_GPA 0x100000ull
#define RAM_SIZE (1ull << 20)
#define QSIZE 64

#define F_MTU (1ull << 3)
#define F_MAC (1ull << 5)
#define F_MRG (1ull << 15)
#define F_STATUS (1ull << 16)
#define F_CTRL_VQ (1ull << 17)
#define F_CTRL_RX (1ull << 18)
#define F_MQ (1ull << 22)
#define F_CTRL_MAC (1ull << 23)
#define F_CSUM (1ull << 0)
#define F_V1 (1ull << 32)
#define F_EIDX (1ull << 29)
#define F_PACKED (1ull << 34)

static int config_changes;
static void on_config(void *opaque)
{
	(void)opaque;
	config_changes++;
}

static void spin(struct evloop *loop, bool (*cond)(void *), void *arg, int ms)
{
	uint64_t end = clock_ms() + (uint64_t)ms;

	while (!cond(arg) && clock_ms() < end)
		(void)!evloop_run(loop, 20);
}

static bool is_up(void *vn)
{
	return virtio_net_link_up(vn);
}

static bool config_changes_2(void *unused)
{
	(void)unused;
	return config_changes >= 2;
}

static bool is_down(void *vn)
{
	return !virtio_net_link_up(vn);
}

struct guest {
	uint8_t *ram;
	struct gmem gm;
	struct vq_drv d[5];
	struct vq vq[5];
};

static void guest_queue(struct guest *g, unsigned i, uint64_t features)
{
	struct vq_cfg c;

	vqd_init(&g->d[i], g->ram, RAM_GPA, QSIZE, RAM_GPA + 0x1000 + i * 0x2000ull);
	vqd_cfg(&g->d[i], &c, features & F_EIDX, false);
	vq_init(&g->vq[i], &g->gm, "net", (uint16_t)i);
	CHECK(vq_setup(&g->vq[i], &c) == 0);
}

/* Put one control command (header + data) with a 1-byte ack buffer; returns the ack read back. */
static int ctrl_cmd(struct guest *g, struct virtio_net *vn, const void *cmd, uint32_t len,
		    bool with_ack)
{
	struct vq_drv *d = &g->d[4];
	uint64_t buf = RAM_GPA + 0x20000, ack = RAM_GPA + 0x21000;
	uint32_t id, l;

	memcpy(vqd_ptr(d, buf), cmd, len);
	*(uint8_t *)vqd_ptr(d, ack) = 0xee;
	vqd_desc(d, 0, buf, len, with_ack ? VRING_DESC_F_NEXT : 0, 1);
	vqd_desc(d, 1, ack, 1, VRING_DESC_F_WRITE, 0);
	vqd_kick_head(d, 0);
	virtio_net_dev_ops.queue_notify(vn, 4);
	if (!vqd_get_used(d, &id, &l))
		return -1;
	return l == 1 ? *(uint8_t *)vqd_ptr(d, ack) : -2;
}

/* The backend's part on a packed ring: use @n buffers, as a device model in this process. */
static void sim_use(struct vq *dev, unsigned n)
{
	struct iovec iov[4];

	for (unsigned i = 0; i < n; i++) {
		struct vq_elem e = { .iov = iov, .max_iov = 4 };

		CHECK(vq_pop(dev, &e) == 1);
		vq_push(dev, e.head, e.in_len ? 60 : 0);
	}
}

#define PK_SIZE 100 /* packed rings need not be a power of two (s2.8) */

static void packed_case(struct evloop *loop, struct guest *g, const char *path)
{
	const uint64_t bf = F_V1 | F_MRG | F_PACKED | (1ull << 30);
	const uint64_t bpf = (1ull << 0) | (1ull << 3);
	struct virtio_net_cfg cfg = {
		.name = "pk", .mac = { 0x52, 0x54, 0, 0, 0, 1 }, .max_queue_pairs = 1,
		.queue_size = 256, .gm = &g->gm, .socket_path = path, .timeout_ms = 5000,
		.connect_wait_ms = -1, .loop = loop,
	};
	uint64_t buf = RAM_GPA + 0x60000;
	struct vq_pdrv d[3];
	struct vq vq[3], dev[2];
	struct vq_cfg c;
	struct fbe fb, fb2;
	struct virtio_net *vn = NULL;
	const struct fbe_entry *e;
	uint32_t id, len;

	CHECK(virtio_net_create(&cfg, &vn) == 0);
	if (!vn)
		return;
	CHECK(fbe_listen_start(&fb, path, bf, bpf) == 0);
	spin(loop, is_up, vn, 3000);
	CHECK(virtio_net_link_up(vn));
	CHECK(virtio_net_dev_ops.get_features(vn) & F_PACKED);
	CHECK(virtio_net_dev_ops.set_features(vn, F_V1 | F_MRG | F_PACKED | F_CTRL_VQ | F_MAC) == 0);
	e = fbe_find(&fb, VHOST_USER_SET_FEATURES, -1);
	CHECK(e && e->msg.payload.u64 == (F_V1 | F_MRG | F_PACKED | (1ull << 30)));
	for (unsigned i = 0; i < 3; i++) {
		vqp_init(&d[i], g->ram, RAM_GPA, PK_SIZE, RAM_GPA + 0x40000 + i * 0x1000ull);
		vqp_cfg(&d[i], &c, false, false);
		vq_init(&vq[i], &g->gm, "pk", (uint16_t)i);
		CHECK(vq_setup(&vq[i], &c) == 0);
		if (i < 2) {
			vq_init(&dev[i], &g->gm, "backend", (uint16_t)i);
			CHECK(vq_setup(&dev[i], &c) == 0);
		}
		CHECK(virtio_net_dev_ops.queue_start(vn, i, &vq[i]) == 0);
	}
	/* Packed ring hand-over: size, event suppression areas, slot 0 with wrap counters 1. */
	e = fbe_find(&fb, VHOST_USER_SET_VRING_NUM, 0);
	CHECK(e && e->msg.payload.state.num == PK_SIZE);
	e = fbe_find(&fb, VHOST_USER_SET_VRING_ADDR, 1);
	CHECK(e && e->msg.payload.addr.desc_uaddr == (uintptr_t)g->ram + (d[1].desc_gpa - RAM_GPA));
	CHECK(e && e->msg.payload.addr.avail_uaddr == (uintptr_t)g->ram + (d[1].drv_gpa - RAM_GPA));
	CHECK(e && e->msg.payload.addr.used_uaddr == (uintptr_t)g->ram + (d[1].dev_gpa - RAM_GPA));
	e = fbe_find(&fb, VHOST_USER_SET_VRING_BASE, 0);
	CHECK(e && e->msg.payload.state.num == 0x80008000u);
	CHECK(!fbe_find(&fb, VHOST_USER_SET_VRING_ADDR, 2)); /* control queue stays with us */

	/* The control queue on a packed ring (s5.1.6.5): CTRL_RX is not acked -> ERR. */
	{
		uint8_t *cmd = g->ram + (buf - RAM_GPA);
		struct vqd_seg segs[2] = { { buf, 3, false }, { buf + 64, 1, true } };

		memcpy(cmd, "\x00\x00\x01", 3);
		cmd[64] = 0xee;
		vqp_add(&d[2], segs, 2, 7);
		virtio_net_dev_ops.queue_notify(vn, 2);
		CHECK(vqp_get_used(&d[2], &id, &len) && id == 7 && len == 1 && cmd[64] == 1);
		/* MAC_ADDR_SET is not acked either; a well-formed command gets its ack all the same. */
		memcpy(cmd, "\x01\x01\x02\x00\x00\x00\x00\x09", 8);
		segs[0].len = 8;
		vqp_add(&d[2], segs, 2, 3);
		virtio_net_dev_ops.queue_notify(vn, 2);
		CHECK(vqp_get_used(&d[2], &id, &len) && id == 3 && len == 1 && cmd[64] == 1);
	}

	/*
	 * The backend works the rings (simulated on the same memory): RX takes 185 one-slot buffers
	 * (the driver refills), TX two two-slot chains of three. Then it dies.
	 */
	for (unsigned i = 0; i < PK_SIZE; i++)
		vqp_add(&d[0], &(struct vqd_seg){ buf + 0x1000 + 64ull * i, 64, true }, 1,
			(uint16_t)i);
	for (unsigned round = 0; round < 5; round++) {
		sim_use(&dev[0], 37);
		while (vqp_get_used(&d[0], &id, &len))
			vqp_add(&d[0], &(struct vqd_seg){ buf + 0x1000 + 64ull * id, 64, true }, 1,
				(uint16_t)id);
	}
	for (unsigned i = 0; i < 3; i++) {
		struct vqd_seg segs[2] = { { buf + 0x3000, 12, false }, { buf + 0x3100, 60, false } };

		vqp_add(&d[1], segs, 2, (uint16_t)(10 + i));
	}
	sim_use(&dev[1], 2);
	fbe_close(&fb);
	spin(loop, is_down, vn, 3000);
	CHECK(!virtio_net_link_up(vn));

	/* A new backend resumes each ring where the guest sees the old one stopped. */
	CHECK(fbe_listen_start(&fb2, path, bf, bpf) == 0);
	spin(loop, is_up, vn, 5000);
	CHECK(virtio_net_link_up(vn));
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_BASE, 0);
	/* 185 = 100 + 85: slot 85 in the second pass (wrap counter 0), as avail and used. */
	CHECK(e && e->msg.payload.state.num == 0x00550055u);
	CHECK(e && e->msg.payload.state.num ==
			   vnp_base_encode((struct vnp_pos){ dev[0].used_idx, dev[0].used_wrap },
					   (struct vnp_pos){ dev[0].used_idx, dev[0].used_wrap }));
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_BASE, 1);
	CHECK(e && e->msg.payload.state.num == 0x80048004u); /* after two chains of two slots */
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_ADDR, 0);
	CHECK(e && e->msg.payload.addr.used_uaddr == (uintptr_t)g->ram + (d[0].dev_gpa - RAM_GPA));

	for (unsigned i = 0; i < 3; i++)
		virtio_net_dev_ops.queue_stop(vn, i);
	CHECK(fbe_find(&fb2, VHOST_USER_GET_VRING_BASE, 0) != NULL);
	virtio_net_dev_ops.reset(vn);
	virtio_net_destroy(vn);
	fbe_join(&fb2);
	for (unsigned i = 0; i < 3; i++)
		vq_reset(&vq[i]);
	for (unsigned i = 0; i < 2; i++)
		vq_reset(&dev[i]);
}

int main(void)
{
	char path[64];
	struct evloop *loop;
	struct guest g;
	struct fbe fb, fb2;
	struct virtio_net *vn = NULL;
	struct virtio_net_stats st;
	struct virtio_dev_info info;
	int memfd;
	uint64_t offer, acked;
	const struct fbe_entry *e;
	uint8_t cs[12];
	const uint64_t backend_f = F_V1 | F_MRG | F_EIDX | (1ull << 40) | (1ull << 30);
	const uint64_t backend_pf = (1ull << 0) | (1ull << 3) | (1ull << 4);

	log_set_level(LOGL_ERR);
	snprintf(path, sizeof(path), "/tmp/nfv-vn-test-%d.sock", getpid());
	unlink(path);
	memset(&g, 0, sizeof(g));
	memfd = memfd_create("guest", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, RAM_SIZE) == 0);
	g.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(g.ram != MAP_FAILED);
	CHECK(gmem_add_region(&g.gm, RAM_GPA, RAM_SIZE, g.ram, memfd, 0) == 0);
	CHECK(evloop_create(&loop) == 0);

	{
		struct gmem nofd = { 0 };
		struct virtio_net_cfg bad = { .gm = &nofd, .loop = loop, .socket_path = path };

		CHECK(gmem_add_region(&nofd, 0, 4096, g.ram, -1, 0) == 0);
		CHECK(virtio_net_create(&bad, &vn) == -ENOTSUP);
		bad.gm = &g.gm;
		bad.max_queue_pairs = 9;
		CHECK(virtio_net_create(&bad, &vn) == -EINVAL);
	}

	/* 1. No backend yet: link down, conservative offer. */
	struct virtio_net_cfg cfg = {
		.name = "net0", .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, .mtu = 1500,
		.max_queue_pairs = 2, .queue_size = 256, .gm = &g.gm, .socket_path = path,
		.timeout_ms = 5000, .connect_wait_ms = -1, .loop = loop, .config_changed = on_config,
	};
	CHECK(virtio_net_create(&cfg, &vn) == 0);
	if (!vn)
		return 1;
	CHECK(!virtio_net_link_up(vn));
	offer = virtio_net_dev_ops.get_features(vn);
	CHECK(offer == (F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX | F_CTRL_MAC | F_MTU | F_V1));
	virtio_net_dev_info(vn, &info);
	CHECK(info.device_id == VIRTIO_ID_NET && info.num_queues == 5 && info.config_size == 12);

	/* The backend appears: the reconnect timer finds it. */
	CHECK(fbe_listen_start(&fb, path, backend_f, backend_pf) == 0);
	spin(loop, is_up, vn, 3000);
	CHECK(virtio_net_link_up(vn));
	CHECK(config_changes == 1);

	/* 2. Feature intersection. */
	offer = virtio_net_dev_ops.get_features(vn);
	CHECK(offer == (F_MAC | F_STATUS | F_CTRL_VQ | F_CTRL_RX | F_CTRL_MAC | F_MTU | F_V1 |
			F_MRG | F_EIDX | F_MQ));
	CHECK(!(offer & F_CSUM) && !(offer & (1ull << 40)));
	CHECK(virtio_net_dev_ops.set_features(vn, offer | F_CSUM) == -EINVAL);
	acked = offer & ~F_EIDX;
	CHECK(virtio_net_dev_ops.set_features(vn, acked) == 0);
	e = fbe_find(&fb, VHOST_USER_SET_FEATURES, -1);
	CHECK(e && e->msg.payload.u64 == (F_V1 | F_MRG | (1ull << 30)));
	e = fbe_find(&fb, VHOST_USER_NET_SET_MTU, -1);
	CHECK(e && e->msg.payload.u64 == 1500);

	/* 3. Config space. */
	virtio_net_dev_ops.config_read(vn, 0, cs, sizeof(cs));
	CHECK(!memcmp(cs, "\x52\x54\x00\x12\x34\x56", 6));
	CHECK(cs[6] == 1 && cs[7] == 0);     /* status: LINK_UP */
	CHECK(cs[8] == 2 && cs[9] == 0);     /* max_virtqueue_pairs */
	CHECK(cs[10] == 0xdc && cs[11] == 5); /* mtu 1500 */
	virtio_net_dev_ops.config_write(vn, 0, "\xff", 1);
	virtio_net_dev_ops.config_read(vn, 0, cs, 1);
	CHECK(cs[0] == 0x52);

	/* 4. Data rings go to the backend with addresses in our mapping. */
	for (unsigned i = 0; i < 5; i++)
		guest_queue(&g, i, acked);
	for (unsigned i = 0; i < 5; i++)
		CHECK(virtio_net_dev_ops.queue_start(vn, i, &g.vq[i]) == 0);
	CHECK(virtio_net_dev_ops.queue_kick_fd(vn, 0) >= 0);
	CHECK(virtio_net_dev_ops.queue_kick_fd(vn, 4) == -1);
	e = fbe_find(&fb, VHOST_USER_SET_MEM_TABLE, -1);
	CHECK(e && e->msg.payload.memory.nregions == 1 && e->nfds == 1);
	CHECK(e && e->msg.payload.memory.regions[0].gpa == RAM_GPA &&
	      e->msg.payload.memory.regions[0].uaddr == (uintptr_t)g.ram &&
	      e->msg.payload.memory.regions[0].size == RAM_SIZE);
	e = fbe_find(&fb, VHOST_USER_SET_VRING_ADDR, 1);
	CHECK(e && e->msg.payload.addr.desc_uaddr == (uintptr_t)g.ram + (g.d[1].desc_gpa - RAM_GPA));
	CHECK(e && e->msg.payload.addr.avail_uaddr ==
			   (uintptr_t)g.ram + (g.d[1].avail_gpa - RAM_GPA));
	CHECK(e && e->msg.payload.addr.used_uaddr == (uintptr_t)g.ram + (g.d[1].used_gpa - RAM_GPA));
	CHECK(!fbe_find(&fb, VHOST_USER_SET_VRING_ADDR, 4)); /* control queue stays with us */
	e = fbe_find(&fb, VHOST_USER_SET_VRING_ENABLE, 1);
	CHECK(e && e->msg.payload.state.num == 1);
	e = fbe_find(&fb, VHOST_USER_SET_VRING_ENABLE, 2);
	CHECK(e && e->msg.payload.state.num == 0); /* second pair off until CTRL_MQ */
	e = fbe_find(&fb, VHOST_USER_SET_VRING_KICK, 0);
	CHECK(e && e->nfds == 1);

	/* 5. Control queue. */
	{
		uint8_t mq[4] = { 4, 0, 2, 0 }, mq_bad[4] = { 4, 0, 9, 0 };
		uint8_t promisc[3] = { 0, 0, 1 }, unknown[3] = { 77, 0, 0 };
		uint8_t table[2 + 4 + 6 + 4] = { 1, 0, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0 };
		uint8_t table_bad[2 + 4] = { 1, 0, 0xff, 0xff, 0xff, 0xff };
		uint8_t addr[8] = { 1, 1, 0x02, 0, 0, 0, 0, 7 };

		CHECK(ctrl_cmd(&g, vn, mq, sizeof(mq), true) == 0);
		CHECK(virtio_net_active_pairs(vn) == 2);
		e = fbe_find(&fb, VHOST_USER_SET_VRING_ENABLE, 3);
		CHECK(e && e->msg.payload.state.num == 1);
		CHECK(ctrl_cmd(&g, vn, mq_bad, sizeof(mq_bad), true) == 1);
		CHECK(virtio_net_active_pairs(vn) == 2);
		CHECK(ctrl_cmd(&g, vn, promisc, sizeof(promisc), true) == 0);
		CHECK(ctrl_cmd(&g, vn, unknown, sizeof(unknown), true) == 1);
		CHECK(ctrl_cmd(&g, vn, table, sizeof(table), true) == 0);
		CHECK(ctrl_cmd(&g, vn, table_bad, sizeof(table_bad), true) == 1);
		CHECK(ctrl_cmd(&g, vn, addr, sizeof(addr), true) == 0);
		virtio_net_dev_ops.config_read(vn, 0, cs, 6);
		CHECK(!memcmp(cs, "\x02\x00\x00\x00\x00\x07", 6));
		/* Malformed: 1-byte command, and no ack buffer at all. */
		CHECK(ctrl_cmd(&g, vn, mq, 1, true) == 1);
		CHECK(ctrl_cmd(&g, vn, mq, sizeof(mq), false) == -2);
		virtio_net_get_stats(vn, &st);
		CHECK(st.ctrl_ok == 4 && st.ctrl_err == 3 && st.ctrl_bad == 2);
		CHECK(st.config_writes == 1);
	}

	/* 6. Backend dies: link down with a config interrupt, guest untouched. */
	{
		uint16_t *used0 = vqd_ptr(&g.d[0], g.d[0].used_gpa);

		used0[1] = htole16(5); /* where the old backend got to on queue 0 */
	}
	fbe_close(&fb);
	spin(loop, is_down, vn, 3000);
	CHECK(!virtio_net_link_up(vn));
	/* The config interrupt is raised from the loop, outside the device lock. */
	spin(loop, config_changes_2, NULL, 1000);
	CHECK(config_changes == 2);
	virtio_net_dev_ops.config_read(vn, 6, cs, 2);
	CHECK(cs[0] == 0);
	/* The guest keeps using the control queue meanwhile. */
	{
		uint8_t mq1[4] = { 4, 0, 1, 0 };

		CHECK(ctrl_cmd(&g, vn, mq1, sizeof(mq1), true) == 0);
	}

	/* 7. A new backend: state replayed, rings resume at the guest-visible used index. */
	CHECK(fbe_listen_start(&fb2, path, backend_f, backend_pf) == 0);
	spin(loop, is_up, vn, 5000);
	CHECK(virtio_net_link_up(vn));
	CHECK(config_changes == 3);
	e = fbe_find(&fb2, VHOST_USER_SET_FEATURES, -1);
	CHECK(e && e->msg.payload.u64 == (F_V1 | F_MRG | (1ull << 30)));
	CHECK(fbe_find(&fb2, VHOST_USER_SET_MEM_TABLE, -1) != NULL);
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_BASE, 0);
	CHECK(e && e->msg.payload.state.num == 5);
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_BASE, 1);
	CHECK(e && e->msg.payload.state.num == 0);
	e = fbe_find(&fb2, VHOST_USER_SET_VRING_ENABLE, 2);
	CHECK(e && e->msg.payload.state.num == 0); /* the guest went back to one pair meanwhile */
	CHECK(fbe_count(&fb2, VHOST_USER_SET_VRING_KICK) == 4);
	CHECK(fbe_count(&fb2, VHOST_USER_SET_VRING_CALL) == 4);

	/* 8. Queue stop asks the backend for the ring base (which stops it). */
	virtio_net_dev_ops.queue_stop(vn, 1);
	CHECK(fbe_find(&fb2, VHOST_USER_GET_VRING_BASE, 1) != NULL);
	for (unsigned i = 0; i < 5; i++)
		virtio_net_dev_ops.queue_stop(vn, i);
	virtio_net_dev_ops.reset(vn);
	virtio_net_get_stats(vn, &st);
	CHECK(st.link_down == 1 && st.link_up == 2);

	virtio_net_destroy(vn);
	fbe_join(&fb2);

	/* 9. Server mode (libvirt <source mode='server'>): we listen, backends come and go. */
	{
		struct fbe s1, s2;
		struct virtio_net_cfg sc = cfg;
		int fd;

		sc.server = true;
		sc.max_queue_pairs = 1;
		config_changes = 0;
		CHECK(virtio_net_create(&sc, &vn) == 0);
		if (!vn)
			return 1;
		CHECK(!virtio_net_link_up(vn));
		fd = fbe_connect_unix(path);
		CHECK(fd >= 0 && fbe_start(&s1, fd, backend_f, backend_pf) == 0);
		spin(loop, is_up, vn, 3000);
		CHECK(virtio_net_link_up(vn));
		CHECK(virtio_net_dev_ops.set_features(vn, F_V1 | F_MAC | F_STATUS) == 0);
		guest_queue(&g, 0, F_V1);
		CHECK(virtio_net_dev_ops.queue_start(vn, 0, &g.vq[0]) == 0);
		CHECK(fbe_find(&s1, VHOST_USER_SET_VRING_KICK, 0) != NULL);
		/* A second backend while one is attached is refused, the first one keeps working. */
		{
			int extra = fbe_connect_unix(path);
			char c;

			bool closed = false;

			CHECK(extra >= 0);
			for (int i = 0; extra >= 0 && i < 100 && !closed; i++) {
				struct pollfd p = { .fd = extra, .events = POLLIN };

				(void)!evloop_run(loop, 20);
				closed = poll(&p, 1, 0) == 1 && recv(extra, &c, 1, MSG_DONTWAIT) == 0;
			}
			CHECK(closed); /* accepted and closed by us */
			if (extra >= 0)
				close(extra);
			CHECK(virtio_net_link_up(vn));
		}
		fbe_close(&s1);
		spin(loop, is_down, vn, 3000);
		CHECK(!virtio_net_link_up(vn));
		fd = fbe_connect_unix(path);
		CHECK(fd >= 0 && fbe_start(&s2, fd, backend_f, backend_pf) == 0);
		spin(loop, is_up, vn, 3000);
		CHECK(virtio_net_link_up(vn));
		e = fbe_find(&s2, VHOST_USER_SET_VRING_ADDR, 0);
		CHECK(e && e->msg.payload.addr.desc_uaddr ==
				   (uintptr_t)g.ram + (g.d[0].desc_gpa - RAM_GPA));
		virtio_net_dev_ops.queue_stop(vn, 0);
		virtio_net_destroy(vn);
		fbe_join(&s2);
		CHECK(access(path, F_OK) != 0); /* our listening socket is gone */
	}

	/* 10. Packed rings. */
	packed_case(loop, &g, path);
	evloop_destroy(loop);
	munmap(g.ram, RAM_SIZE);
	close(memfd);
	unlink(path);
	TEST_DONE("virtio_net_unit");
}
