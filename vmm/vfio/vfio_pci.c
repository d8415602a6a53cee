// SPDX-License-Identifier: GPL-2.0-only
/* nfv-vmm's vfio-pci device (see vfio_pci.h). */
#include "vfio_pci.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* PCI Local Bus 3.0 s6.1 / PCIe 4.0 s7.5: header offsets and capability IDs we need. */
#define CFG_COMMAND 0x04
#define CFG_BAR0 0x10
#define CFG_SUBSYS_VENDOR 0x2c
#define CFG_CAP_PTR 0x34
#define CFG_INT_PIN 0x3d
#define CFG_STATUS_CAP_LIST 0x0010
#define CAP_ID_PM 0x01
#define CAP_ID_MSI 0x05
#define CAP_ID_PCIE 0x10
#define CAP_ID_MSIX 0x11
/* Command bits the guest controls on the device: I/O, memory, bus master, parity, SERR, INTx dis.
 */
#define CMD_PASSTHROUGH_MASK 0x0547u
#define MAX_PASS_CAPS 8

struct vfio_pci_bar {
	struct vfio_pci *vp;
	unsigned index;
};

struct pass_cap {
	unsigned virt, phys, len; /* body after the ID/next bytes */
};

struct vfio_pci {
	struct vfio_dev *dev;
	struct pci_dev *pci;
	struct vfio_pci_cfg cfg;
	struct vfio_pci_bar bar[PCI_NUM_BARS];
	uint8_t phys[PCI_CFG_SIZE]; /* host config space as read at create */
	unsigned msix_vectors, msi_vectors;
	int *msix_fd, *msi_fd;
	unsigned msix_bar;
	uint64_t msix_lo, msix_hi; /* page-aligned [lo, hi) of table + PBA inside msix_bar */
	enum { IRQ_NONE, IRQ_INTX, IRQ_MSI, IRQ_MSIX } irq_mode;
	int intx_fd, intx_unmask_fd;
	bool intx_asserted;
	bool bar_mapped[PCI_NUM_BARS];
	uint64_t bar_gpa[PCI_NUM_BARS];
	struct pass_cap pass[MAX_PASS_CAPS];
	unsigned nr_pass;
	struct vfio_pci_stats st; /* updated under the PCI device lock, or atomically */
};

static uint32_t le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* ---- trapped BAR access ---- */

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	struct vfio_pci_bar *b = opaque;
	uint64_t v = 0;

	__atomic_fetch_add(&b->vp->st.bar_trapped, 1, __ATOMIC_RELAXED);
	if (vfio_dev_read(b->vp->dev, b->index, off, &v, size)) {
		__atomic_fetch_add(&b->vp->st.bar_errors, 1, __ATOMIC_RELAXED);
		log_rl(LOGL_WARN, "%s: BAR %u read of %u bytes at 0x%llx failed",
		       vfio_dev_name(b->vp->dev), b->index, size, (unsigned long long)off);
		return ~0ull;
	}
	return v;
}

static void bar_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct vfio_pci_bar *b = opaque;

	__atomic_fetch_add(&b->vp->st.bar_trapped, 1, __ATOMIC_RELAXED);
	if (vfio_dev_write(b->vp->dev, b->index, off, &val, size)) {
		__atomic_fetch_add(&b->vp->st.bar_errors, 1, __ATOMIC_RELAXED);
		log_rl(LOGL_WARN, "%s: BAR %u write of %u bytes at 0x%llx failed",
		       vfio_dev_name(b->vp->dev), b->index, size, (unsigned long long)off);
	}
}

static const struct bus_ops bar_ops = {.read = bar_read, .write = bar_write};

/* ---- interrupts ---- */

static int set_irqs(struct vfio_pci *vp, unsigned index, unsigned count, const int *fds)
{
	int ret = vfio_dev_set_irq_fds(vp->dev, index, 0, count, fds);

	vp->st.irq_changes++;
	if (ret)
		vp->st.irq_errors++;
	return ret;
}

static void intx_enable(struct vfio_pci *vp)
{
	if (vp->intx_fd < 0 || vp->irq_mode == IRQ_INTX)
		return;
	if (set_irqs(vp, VFIO_PCI_INTX_IRQ_INDEX, 1, &vp->intx_fd))
		return;
	if (vfio_dev_intx_unmask_fd(vp->dev, vp->intx_unmask_fd))
		log_rl(LOGL_WARN, "%s: INTx unmask eventfd not accepted", vfio_dev_name(vp->dev));
	vp->irq_mode = IRQ_INTX;
}

static void irq_disable(struct vfio_pci *vp)
{
	static const unsigned index[] = {[IRQ_INTX] = VFIO_PCI_INTX_IRQ_INDEX,
					 [IRQ_MSI] = VFIO_PCI_MSI_IRQ_INDEX,
					 [IRQ_MSIX] = VFIO_PCI_MSIX_IRQ_INDEX};

	if (vp->irq_mode == IRQ_NONE)
		return;
	(void)set_irqs(vp, index[vp->irq_mode], 0, NULL);
	if (vp->irq_mode == IRQ_INTX && vp->intx_asserted) {
		pci_set_intx(vp->pci, 0);
		vp->intx_asserted = false;
	}
	vp->irq_mode = IRQ_NONE;
}

/*
 * Follow the guest's MSI-X / MSI enable bits (PCIe 4.0 s7.7.2.2, s7.7.1.2): the device's vectors
 * signal our eventfds only while the guest has the capability enabled; vfio-pci does not allow
 * INTx and MSI(-X) at once, so INTx is switched off first and back on after.
 */
static void irq_sync(struct vfio_pci *vp)
{
	bool msix = vp->msix_vectors && pci_msix_enabled(vp->pci);
	bool msi = !msix && vp->msi_vectors && pci_msi_enabled(vp->pci);

	if (msix && vp->irq_mode != IRQ_MSIX) {
		irq_disable(vp);
		if (!set_irqs(vp, VFIO_PCI_MSIX_IRQ_INDEX, vp->msix_vectors, vp->msix_fd))
			vp->irq_mode = IRQ_MSIX;
	} else if (msi && vp->irq_mode != IRQ_MSI) {
		irq_disable(vp);
		if (!set_irqs(vp, VFIO_PCI_MSI_IRQ_INDEX, vp->msi_vectors, vp->msi_fd))
			vp->irq_mode = IRQ_MSI;
	} else if (!msix && !msi && (vp->irq_mode == IRQ_MSIX || vp->irq_mode == IRQ_MSI)) {
		irq_disable(vp);
		intx_enable(vp);
	}
}

bool vfio_pci_intx_service(struct vfio_pci *vp)
{
	uint64_t n;

	if (vp->intx_fd < 0)
		return false;
	if (read(vp->intx_fd, &n, sizeof(n)) == sizeof(n) && n) {
		pci_set_intx(vp->pci, 1);
		vp->intx_asserted = true;
		return true;
	}
	if (vp->intx_asserted) {
		pci_set_intx(vp->pci, 0);
		vp->intx_asserted = false;
		if (vfio_dev_intx_unmask(vp->dev))
			log_rl(LOGL_WARN, "%s: INTx unmask failed", vfio_dev_name(vp->dev));
	}
	return false;
}

/* ---- config space hooks ---- */

static uint32_t cfg_read(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	struct vfio_pci *vp = opaque;

	if (off >= PCI_CFG_SIZE)
		return 0; /* extended capabilities hidden: an empty list (PCIe 4.0 s7.6.3) */
	for (unsigned i = 0; i < vp->nr_pass; i++) {
		const struct pass_cap *p = &vp->pass[i];
		uint8_t buf[4];

		if (off < p->virt || off + size > p->virt + p->len)
			continue;
		if (vfio_dev_read(vp->dev, VFIO_PCI_CONFIG_REGION_INDEX, p->phys + (off - p->virt),
				  buf, size))
			return val;
		return le(buf, size);
	}
	return val;
}

static void cfg_write(void *opaque, unsigned off, unsigned size, uint32_t val)
{
	struct vfio_pci *vp = opaque;

	(void)val;
	if (range_overlaps(off, size, CFG_COMMAND, 2)) {
		uint16_t virt = (uint16_t)pci_cfg_get(vp->pci, CFG_COMMAND, 2), phys;

		if (!vfio_dev_read(vp->dev, VFIO_PCI_CONFIG_REGION_INDEX, CFG_COMMAND, &phys, 2)) {
			phys = (uint16_t)((phys & ~CMD_PASSTHROUGH_MASK) |
					  (virt & CMD_PASSTHROUGH_MASK));
			vp->st.cfg_passthrough++;
			if (vfio_dev_write(vp->dev, VFIO_PCI_CONFIG_REGION_INDEX, CFG_COMMAND,
					   &phys, 2))
				log_rl(LOGL_WARN, "%s: command register write failed",
				       vfio_dev_name(vp->dev));
		}
	}
	/* Enable bits may have changed in the emulated MSI / MSI-X capability. */
	irq_sync(vp);
}

/* Register / drop the memslots of BAR @bar at @gpa, leaving the MSI-X pages trapped. */
static void bar_slots(struct vfio_pci *vp, unsigned bar, uint64_t gpa, bool map)
{
	uint64_t ranges[VFIO_MAX_SPARSE][2];
	unsigned n;
	void *hva;
	uint64_t size;

	if (!vp->cfg.map_bar || vfio_dev_bar_mmap(vp->dev, bar, &hva, &size))
		return;
	n = vfio_dev_bar_mmap_ranges(vp->dev, bar, ranges, VFIO_MAX_SPARSE);
	for (unsigned i = 0; i < n; i++) {
		uint64_t lo = ranges[i][0], hi = ranges[i][0] + ranges[i][1];
		uint64_t piece[2][2] = {{lo, hi}, {0, 0}};

		if (bar == vp->msix_bar && vp->msix_vectors && lo < vp->msix_hi &&
		    hi > vp->msix_lo) {
			piece[0][1] = MAX(lo, vp->msix_lo);
			piece[1][0] = MIN(hi, vp->msix_hi);
			piece[1][1] = hi;
		}
		for (unsigned k = 0; k < 2; k++) {
			if (piece[k][1] <= piece[k][0])
				continue;
			if (vp->cfg.map_bar(vp->cfg.map_opaque, gpa + piece[k][0],
					    (uint8_t *)hva + piece[k][0], piece[k][1] - piece[k][0],
					    map))
				log_rl(LOGL_WARN,
				       "%s: BAR %u: memslot %s failed; access stays trapped",
				       vfio_dev_name(vp->dev), bar, map ? "add" : "removal");
		}
	}
}

static void bar_map(void *opaque, unsigned bar, uint64_t addr, bool mapped)
{
	struct vfio_pci *vp = opaque;

	if (bar >= PCI_NUM_BARS)
		return;
	if (vp->bar_mapped[bar])
		bar_slots(vp, bar, vp->bar_gpa[bar], false);
	vp->bar_mapped[bar] = mapped;
	vp->bar_gpa[bar] = addr;
	if (mapped)
		bar_slots(vp, bar, addr, true);
}

/* ---- creation ---- */

/* Walk the host capability list (PCI 3.0 s6.7), bounded against loops. */
static unsigned find_caps(const uint8_t *c, unsigned off[256])
{
	unsigned n = 0, pos;

	memset(off, 0, 256 * sizeof(off[0]));
	if (!(le(c + 0x06, 2) & CFG_STATUS_CAP_LIST))
		return 0;
	pos = c[CFG_CAP_PTR] & 0xfc;
	for (unsigned guard = 0; pos >= 0x40 && pos <= 0xfc && guard < 48; guard++) {
		if (!off[c[pos]])
			off[c[pos]] = pos;
		n++;
		pos = c[pos + 1] & 0xfc;
	}
	return n;
}

static int bars_from_host(struct vfio_pci *vp, struct pci_dev_cfg *dc)
{
	for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
		const struct vfio_region *r =
			vfio_dev_region(vp->dev, VFIO_PCI_BAR0_REGION_INDEX + i);
		uint32_t lo = le(vp->phys + CFG_BAR0 + 4 * i, 4);
		struct pci_bar_cfg *b = &dc->bar[i];

		if (!r || !r->size)
			continue;
		if (r->size & (r->size - 1)) {
			log_err("%s: BAR %u size 0x%llx is not a power of two",
				vfio_dev_name(vp->dev), i, (unsigned long long)r->size);
			return -ENOTSUP;
		}
		vp->bar[i].vp = vp;
		vp->bar[i].index = i;
		b->ops = &bar_ops;
		b->opaque = &vp->bar[i];
		b->size = r->size < 16 ? 16 : r->size;
		if (lo & 1) {
			b->type = PCI_BAR_IO;
			b->size = r->size < 4 ? 4 : r->size;
		} else if (((lo >> 1) & 3) == 2) {
			if (i == PCI_NUM_BARS - 1)
				return -ENOTSUP;
			b->type = PCI_BAR_MEM64;
			b->prefetchable = lo & 8;
			i++; /* the upper half */
		} else {
			b->type = PCI_BAR_MEM32;
			b->prefetchable = lo & 8;
		}
	}
	return 0;
}

static int msix_from_host(struct vfio_pci *vp, struct pci_dev_cfg *dc, unsigned pos)
{
	uint16_t ctl = (uint16_t)le(vp->phys + pos + 2, 2);
	uint32_t table = le(vp->phys + pos + 4, 4), pba = le(vp->phys + pos + 8, 4);
	unsigned n = (ctl & 0x7ff) + 1u; /* PCIe 4.0 s7.7.2.2: Table Size is N-1 */
	const struct vfio_region *r;

	if ((table & 7) != (pba & 7)) {
		log_err("%s: MSI-X table (BAR %u) and PBA (BAR %u) in different BARs: not "
			"supported",
			vfio_dev_name(vp->dev), table & 7, pba & 7);
		return -ENOTSUP;
	}
	r = vfio_dev_region(vp->dev, table & 7);
	if ((table & 7) >= PCI_NUM_BARS || !r || !dc->bar[table & 7].size) {
		log_err("%s: MSI-X table in missing BAR %u", vfio_dev_name(vp->dev), table & 7);
		return -ENOTSUP;
	}
	/* Never offer the guest more vectors than VFIO can wire up. */
	if (n > vfio_dev_irq_count(vp->dev, VFIO_PCI_MSIX_IRQ_INDEX))
		n = vfio_dev_irq_count(vp->dev, VFIO_PCI_MSIX_IRQ_INDEX);
	vp->msix_vectors = n;
	vp->msix_bar = table & 7;
	dc->msix_vectors = n;
	dc->msix_bar = (uint8_t)(table & 7);
	dc->msix_table_offset = table & ~7u;
	dc->msix_pba_offset = pba & ~7u;
	vp->msix_lo = ALIGN_DOWN((uint64_t)MIN(dc->msix_table_offset, dc->msix_pba_offset), 4096);
	vp->msix_hi = ALIGN_UP((uint64_t)MAX(dc->msix_table_offset + 16ull * n,
					     dc->msix_pba_offset + 8ull * ((n + 63) / 64)),
			       4096);
	return 0;
}

static int make_fds(unsigned n, int **out)
{
	int *fds = calloc(n, sizeof(int));

	if (!fds)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	*out = fds;
	for (unsigned i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0)
			return -errno;
	}
	return 0;
}

static void close_fds(int *fds, unsigned n)
{
	for (unsigned i = 0; fds && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

int vfio_pci_create(const struct vfio_pci_cfg *cfg, struct vfio_pci **out)
{
	struct pci_dev_cfg dc = {0};
	unsigned caps[256];
	struct vfio_pci *vp;
	int ret;

	if (!cfg->host || !cfg->dev) {
		vfio_dev_close(cfg->dev);
		return -EINVAL;
	}
	vp = calloc(1, sizeof(*vp));
	if (!vp) {
		vfio_dev_close(cfg->dev);
		return -ENOMEM;
	}
	vp->dev = cfg->dev;
	vp->cfg = *cfg;
	vp->intx_fd = vp->intx_unmask_fd = -1;
	ret = vfio_dev_read(vp->dev, VFIO_PCI_CONFIG_REGION_INDEX, 0, vp->phys, sizeof(vp->phys));
	if (ret) {
		log_err("%s: reading config space: %s", vfio_dev_name(vp->dev), strerror(-ret));
		goto fail;
	}
	find_caps(vp->phys, caps);

	dc.name = vfio_dev_name(vp->dev);
	dc.vendor_id = (uint16_t)le(vp->phys, 2);
	dc.device_id = (uint16_t)le(vp->phys + 2, 2);
	dc.revision = vp->phys[8];
	dc.class_code = le(vp->phys + 9, 3);
	dc.subsys_vendor_id = (uint16_t)le(vp->phys + CFG_SUBSYS_VENDOR, 2);
	dc.subsys_id = (uint16_t)le(vp->phys + CFG_SUBSYS_VENDOR + 2, 2);
	if (vfio_dev_irq_count(vp->dev, VFIO_PCI_INTX_IRQ_INDEX) && vp->phys[CFG_INT_PIN] >= 1 &&
	    vp->phys[CFG_INT_PIN] <= 4)
		dc.intx_pin = vp->phys[CFG_INT_PIN];
	ret = bars_from_host(vp, &dc);
	if (ret)
		goto fail;
	if (caps[CAP_ID_MSIX] && vfio_dev_irq_count(vp->dev, VFIO_PCI_MSIX_IRQ_INDEX)) {
		ret = msix_from_host(vp, &dc, caps[CAP_ID_MSIX]);
		if (ret)
			goto fail;
	}
	if (caps[CAP_ID_MSI] && vfio_dev_irq_count(vp->dev, VFIO_PCI_MSI_IRQ_INDEX)) {
		unsigned mmc = (le(vp->phys + caps[CAP_ID_MSI] + 2, 2) >> 1) & 7;

		vp->msi_vectors = 1u << (mmc > 5 ? 5 : mmc);
		if (vp->msi_vectors > vfio_dev_irq_count(vp->dev, VFIO_PCI_MSI_IRQ_INDEX))
			vp->msi_vectors = 1;
		dc.msi_vectors = vp->msi_vectors;
	}
	dc.pcie = caps[CAP_ID_PCIE] != 0;
	dc.cfg_read = cfg_read;
	dc.cfg_write = cfg_write;
	dc.bar_map = bar_map;
	dc.opaque = vp;

	if (vp->msix_vectors && (ret = make_fds(vp->msix_vectors, &vp->msix_fd)))
		goto fail;
	if (vp->msi_vectors && (ret = make_fds(vp->msi_vectors, &vp->msi_fd)))
		goto fail;
	if (dc.intx_pin) {
		vp->intx_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vp->intx_unmask_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vp->intx_fd < 0 || vp->intx_unmask_fd < 0) {
			ret = -errno;
			goto fail;
		}
	}

	ret = pci_dev_add(cfg->host, cfg->slot, &dc, &vp->pci);
	if (ret)
		goto fail;
	/* Other host capabilities: listed again, contents read live, read-only to the guest. */
	if (caps[CAP_ID_PM]) {
		uint8_t body[6];
		int at;

		memcpy(body, vp->phys + caps[CAP_ID_PM] + 2, sizeof(body));
		at = pci_cap_add(vp->pci, CAP_ID_PM, body, sizeof(body));
		if (at > 0 && vp->nr_pass < MAX_PASS_CAPS)
			vp->pass[vp->nr_pass++] = (struct pass_cap){.virt = (unsigned)at + 2,
								    .phys = caps[CAP_ID_PM] + 2,
								    .len = sizeof(body)};
	}
	for (unsigned v = 0; v < vp->msix_vectors; v++) {
		ret = pci_msi_set_vector_fd(vp->pci, true, v, vp->msix_fd[v]);
		if (ret)
			goto fail;
	}
	for (unsigned v = 0; v < vp->msi_vectors; v++) {
		ret = pci_msi_set_vector_fd(vp->pci, false, v, vp->msi_fd[v]);
		if (ret)
			goto fail;
	}
	intx_enable(vp);
	*out = vp;
	return 0;
fail:
	vfio_pci_destroy(vp);
	return ret;
}

void vfio_pci_destroy(struct vfio_pci *vp)
{
	if (!vp)
		return;
	if (vp->pci) {
		for (unsigned b = 0; b < PCI_NUM_BARS; b++)
			if (vp->bar_mapped[b])
				bar_slots(vp, b, vp->bar_gpa[b], false);
		pci_dev_remove(vp->pci); /* unbinds the vector fds */
	}
	irq_disable(vp);
	vfio_dev_close(vp->dev); /* resets the device */
	close_fds(vp->msix_fd, vp->msix_vectors);
	close_fds(vp->msi_fd, vp->msi_vectors);
	if (vp->intx_fd >= 0)
		close(vp->intx_fd);
	if (vp->intx_unmask_fd >= 0)
		close(vp->intx_unmask_fd);
	free(vp);
}

struct pci_dev *vfio_pci_dev(struct vfio_pci *vp)
{
	return vp->pci;
}

void vfio_pci_stats(struct vfio_pci *vp, struct vfio_pci_stats *out)
{
	out->bar_trapped = __atomic_load_n(&vp->st.bar_trapped, __ATOMIC_RELAXED);
	out->bar_errors = __atomic_load_n(&vp->st.bar_errors, __ATOMIC_RELAXED);
	out->cfg_passthrough = vp->st.cfg_passthrough;
	out->irq_changes = vp->st.irq_changes;
	out->irq_errors = vp->st.irq_errors;
}

int vfio_pci_vector_fd(struct vfio_pci *vp, bool msix, unsigned v)
{
	if (msix)
		return v < vp->msix_vectors ? vp->msix_fd[v] : -1;
	return v < vp->msi_vectors ? vp->msi_fd[v] : -1;
}

void vfio_pci_intx_fds(struct vfio_pci *vp, int *trigger, int *unmask)
{
	*trigger = vp->intx_fd;
	*unmask = vp->intx_unmask_fd;
}
