// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: nfv-vmm's vfio-pci device with a hostile host device and a hostile guest.
 *
 * Input: the first 256 bytes are the assigned device's configuration space as the VFIO config
 * region returns it (capability lists that loop, point into the header or past the end, MSI-X
 * tables in absent BARs, odd BAR kinds); byte 256 selects the MSI-X/MSI vector counts VFIO grants.
 * The rest is records of 8 bytes, guest accesses:
 *   [0] bits 1:0 width (1, 2, 4, 8), bits 3:2 kind (0 config write, 1 config read, 2 BAR write,
 *       3 BAR read), bits 7:4 BAR index (BAR kinds)
 *   [1..3] little-endian offset (config: 12 bits)
 *   [4..7] little-endian value
 * Checked: creation either fails cleanly or yields a device whose IDs are the host's; nothing
 * crashes; after tear-down no bus window is left and every eventfd is closed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "log.h"
#include "pci.h"
#include "vfio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_BAR_SIZE 16384

struct fz_dev {
	uint8_t cfg[256];
	uint8_t bar[2][FZ_BAR_SIZE];
	unsigned msix, msi;
};

static uint8_t *fz_mem(struct fz_dev *f, unsigned index, uint64_t *size)
{
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		*size = sizeof(f->cfg);
		return f->cfg;
	}
	if (index == 0 || index == 3) {
		*size = FZ_BAR_SIZE;
		return f->bar[index == 3];
	}
	*size = 0;
	return NULL;
}

static int fz_region_info(void *o, unsigned index, struct vfio_region *out)
{
	uint64_t size;

	memset(out, 0, sizeof(*out));
	if (fz_mem(o, index, &size)) {
		out->size = size;
		out->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
	return 0;
}

static int fz_irq_count(void *o, unsigned index, unsigned *count)
{
	struct fz_dev *f = o;

	*count = index == VFIO_PCI_MSIX_IRQ_INDEX  ? f->msix
		 : index == VFIO_PCI_MSI_IRQ_INDEX ? f->msi
						   : 1;
	return 0;
}

static int fz_rw(void *o, unsigned index, uint64_t off, void *buf, size_t len, bool write)
{
	uint64_t size;
	uint8_t *m = fz_mem(o, index, &size);

	if (!m || off > size || len > size - off)
		abort(); /* vfio_dev_read/write must have bounds-checked already */
	if (write)
		memcpy(m + off, buf, len);
	else
		memcpy(buf, m + off, len);
	return 0;
}

static int fz_set_irqs(void *o, unsigned index, uint32_t action, unsigned start, unsigned count,
		       const int *fds)
{
	unsigned max;

	(void)action, (void)fds;
	fz_irq_count(o, index, &max);
	if (start > max || count > max - start)
		abort(); /* vfio_dev_set_irq_fds must refuse these */
	return 0;
}

static int fz_reset(void *o)
{
	(void)o;
	return 0;
}

static const struct vfio_dev_io fz_io = {
	.region_info = fz_region_info,
	.irq_count = fz_irq_count,
	.rw = fz_rw,
	.set_irqs = fz_set_irqs,
	.reset = fz_reset,
};

static void fz_route_msi(void *o, struct pci_dev *d, unsigned v, uint64_t a, uint32_t x)
{
	(void)o, (void)d, (void)v, (void)a, (void)x;
}

static void fz_set_intx(void *o, unsigned gsi, int level)
{
	(void)o, (void)gsi, (void)level;
}

static void fz_vector_update(void *o, struct pci_dev *d, unsigned v, int old_fd,
			     const struct pci_msi_vector *st)
{
	(void)o, (void)d, (void)v, (void)old_fd, (void)st;
}

static const struct pci_irq_ops fz_ops = {
	.route_msi = fz_route_msi, .set_intx = fz_set_intx, .vector_update = fz_vector_update};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_dev f;
	struct bus pio, mmio;
	struct pci_host *host = NULL;
	struct pci_host_cfg hc = {.pio = &pio, .mmio = &mmio, .irq_ops = &fz_ops};
	struct pci_bar_windows w = {.io_base = 0xc000,
				    .io_limit = 0x10000,
				    .mem32_base = 0xe0000000,
				    .mem32_limit = 0xf0000000,
				    .mem64_base = 0x100000000ull,
				    .mem64_limit = 0x200000000ull};
	struct vfio_pci_cfg vc = {.slot = 3};
	struct vfio_pci *vp = NULL;
	size_t pos;

	log_set_level(LOGL_ERR + 0);
	if (size < 257)
		return 0;
	memset(&f, 0, sizeof(f));
	memcpy(f.cfg, data, 256);
	f.msix = 1u + (data[256] & 0x0f) * 137u; /* 1 .. 2056: also more than the table holds */
	f.msi = 1u << (data[256] >> 5);
	if (bus_init(&pio, "pio") || bus_init(&mmio, "mmio"))
		abort();
	if (pci_host_create(&hc, &host))
		abort();
	vc.host = host;
	if (vfio_dev_create_io(&fz_io, &f, "fuzz", &vc.dev) == 0 &&
	    vfio_pci_create(&vc, &vp) == 0) {
		uint16_t vid = (uint16_t)(f.cfg[0] | f.cfg[1] << 8);

		if ((pci_host_cfg_read(host, PCI_DEVFN(3, 0), 0, 2) & 0xffff) != vid)
			abort();
		if (pci_host_assign_bars(host, &w))
			log_debug("fuzz: not every BAR placed");
		for (pos = 257; pos + 8 <= size; pos += 8) {
			const uint8_t *r = data + pos;
			unsigned width = 1u << (r[0] & 3), kind = (r[0] >> 2) & 3,
				 bar = (r[0] >> 4) % 6;
			uint32_t off = (uint32_t)r[1] | (uint32_t)r[2] << 8 | (uint32_t)r[3] << 16;
			uint32_t val = le32(r + 4);
			uint64_t base, v;

			switch (kind) {
			case 0:
				pci_host_cfg_write(host, PCI_DEVFN(3, 0), off & 0xfff,
						   width > 4 ? 4 : width, val);
				break;
			case 1:
				(void)pci_host_cfg_read(host, PCI_DEVFN(3, 0), off & 0xfff,
							width > 4 ? 4 : width);
				break;
			case 2:
				if (pci_dev_bar_addr(vfio_pci_dev(vp), bar, &base))
					(void)bus_write(&mmio, base + (off & 0x7fff), width, val);
				break;
			case 3:
				if (pci_dev_bar_addr(vfio_pci_dev(vp), bar, &base))
					(void)bus_read(&mmio, base + (off & 0x7fff), width, &v);
				break;
			}
			if ((pci_host_cfg_read(host, PCI_DEVFN(3, 0), 0, 2) & 0xffff) != vid)
				abort();
		}
	}
	vfio_pci_destroy(vp);
	pci_host_destroy(host);
	if (mmio.nr || pio.nr)
		abort(); /* a window outlived its device */
	bus_fini(&pio);
	bus_fini(&mmio);
	return 0;
}
