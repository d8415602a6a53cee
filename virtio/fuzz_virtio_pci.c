// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: hostile driver register sequences on the virtio-pci transport. The input is a list
 * of 12-byte operations on BAR 0 (common cfg, ISR, device cfg, notify), on configuration space
 * (including MSI-X and the VIRTIO_PCI_CAP_PCI_CFG window) and on guest RAM (so rings can be
 * built and then corrupted). A stub device behind the transport pops and pushes whatever its
 * enabled queues hold on each notification. Crashes, sanitizer reports and hangs are bugs.
 *
 * Operation: [0] kind (mod 6): 0 BAR write, 1 BAR read, 2 config write, 3 config read,
 *            4 guest RAM write (8 bytes), 5 MSI-X table write; [1] size selector (1, 2, 4, 8);
 *            [2..3] offset (le16); [4..11] value (le64).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "pci.h"
#include "virtio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA 0x0ull
#define RAM_SIZE (64 * 1024)
#define NQ 2

struct stub {
	struct vq *vq[NQ];
	uint8_t cfg[16];
};

static uint64_t stub_features(void *o)
{
	(void)o;
	return 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_EVENT_IDX |
	       1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_RING_PACKED | 1ull << 5;
}

static int stub_set_features(void *o, uint64_t f)
{
	(void)o;
	return f & (1ull << 5) ? -EINVAL : 0; /* refuse one bit to exercise the refusal path */
}

static void stub_cfg_read(void *o, uint32_t off, void *buf, uint32_t len)
{
	struct stub *s = o;

	memcpy(buf, s->cfg + off, len);
}

static void stub_cfg_write(void *o, uint32_t off, const void *buf, uint32_t len)
{
	struct stub *s = o;

	memcpy(s->cfg + off, buf, len);
}

static int stub_queue_start(void *o, unsigned q, struct vq *vq)
{
	struct stub *s = o;

	s->vq[q] = vq;
	return 0;
}

static void stub_queue_stop(void *o, unsigned q)
{
	struct stub *s = o;

	s->vq[q] = NULL;
}

static void stub_queue_notify(void *o, unsigned q)
{
	struct stub *s = o;
	struct iovec iov[16];
	struct vq_elem e = {.iov = iov, .max_iov = 16};

	for (int n = 0; s->vq[q] && n < 64 && vq_pop(s->vq[q], &e) > 0; n++) {
		vq_push(s->vq[q], e.head, e.in_len);
		vq_call_if_needed(s->vq[q]);
	}
}

static const struct virtio_dev_ops stub_ops = {
	.get_features = stub_features,
	.set_features = stub_set_features,
	.config_read = stub_cfg_read,
	.config_write = stub_cfg_write,
	.queue_start = stub_queue_start,
	.queue_stop = stub_queue_stop,
	.queue_notify = stub_queue_notify,
};

static void t_route_msi(void *o, struct pci_dev *d, unsigned v, uint64_t a, uint32_t x)
{
	(void)o, (void)d, (void)v, (void)a, (void)x;
}

static void t_set_intx(void *o, unsigned gsi, int level)
{
	(void)o, (void)gsi, (void)level;
}

static const struct pci_irq_ops t_irq = {.route_msi = t_route_msi, .set_intx = t_set_intx};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM_SIZE];
	static struct gmem gm;
	struct bus mmio, pio;
	struct pci_host_cfg hc = {.pio = &pio, .mmio = &mmio, .irq_ops = &t_irq};
	struct pci_bar_windows win = {.mem32_base = 0xe0000000,
				      .mem32_limit = 0xf0000000,
				      .mem64_base = 0x100000000ull,
				      .mem64_limit = 0x200000000ull};
	struct virtio_pci_cfg vc = {.name = "fuzz", .ops = &stub_ops, .gm = &gm};
	struct stub st = {0};
	struct pci_host *host;
	struct virtio_pci *vp;
	uint64_t bar0 = 0, bar2 = 0;

	if (!gm.nr) {
		log_set_level(LOGL_ERR);
		if (gmem_add_region(&gm, RAM_GPA, RAM_SIZE, ram, -1, 0))
			abort();
	}
	memset(ram, 0, sizeof(ram));
	vc.opaque = &st;
	vc.info = (struct virtio_dev_info){
		.device_id = 42, .num_queues = NQ, .max_queue_size = 64, .config_size = 16};
	if (bus_init(&mmio, "mmio") || bus_init(&pio, "pio") || pci_host_create(&hc, &host))
		abort();
	if (virtio_pci_create(&vc, host, 1, &vp) || pci_host_assign_bars(host, &win))
		abort();
	(void)pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_BAR, &bar0);
	(void)pci_dev_bar_addr(virtio_pci_dev(vp), VIRTIO_PCI_MSIX_BAR, &bar2);

	for (size_t i = 0; i + 12 <= size; i += 12) {
		const uint8_t *op = data + i;
		unsigned sz = 1u << (op[1] & 3), off = (unsigned)(op[2] | op[3] << 8);
		uint64_t val, rv;

		memcpy(&val, op + 4, 8);
		val = le64toh(val);
		switch (op[0] % 6) {
		case 0:
			(void)bus_write(&mmio, bar0 + off % VIRTIO_PCI_BAR_SIZE, sz, val);
			break;
		case 1:
			(void)bus_read(&mmio, bar0 + off % VIRTIO_PCI_BAR_SIZE, sz, &rv);
			break;
		case 2:
			pci_host_cfg_write(host, PCI_DEVFN(1, 0), off % 256, sz > 4 ? 4 : sz,
					   (uint32_t)val);
			break;
		case 3:
			(void)pci_host_cfg_read(host, PCI_DEVFN(1, 0), off % 256, sz > 4 ? 4 : sz);
			break;
		case 4:
			memcpy(ram + off % (RAM_SIZE - 8), &val, 8);
			break;
		case 5:
			(void)bus_write(&mmio, bar2 + off % 0x1000, 4, val);
			break;
		}
	}
	virtio_pci_destroy(vp);
	pci_host_destroy(host);
	bus_fini(&mmio);
	bus_fini(&pio);
	return 0;
}
