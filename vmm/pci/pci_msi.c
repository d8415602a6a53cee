// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSI (PCIe 4.0 s7.7.1) and MSI-X (PCIe 4.0 s7.7.2, s6.1.4) emulation: capability registers, the
 * MSI-X table and PBA inside a BAR, masking with pending bits, delivery through pci_irq_ops, and
 * eventfd-bound vectors for irqfd users.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pci_priv.h"
#include "util.h"

#define MSIX_ENTRY_SIZE PCI_MSIX_ENTRY_SIZE /* 16 */
#define MSI_CAP_LEN 24			    /* 64-bit with per-vector masking */
#define MSI_OFF_ADDR_LO 4
#define MSI_OFF_ADDR_HI 8
#define MSI_OFF_DATA 12
#define MSI_OFF_MASK 16
#define MSI_OFF_PENDING 20

static const struct pci_irq_ops *irq_ops(struct pci_dev *dev)
{
	return dev->host->cfg.irq_ops;
}

static void *irq_opaque(struct pci_dev *dev)
{
	return dev->host->cfg.irq_opaque;
}

/* Non-consuming check whether an eventfd holds a count (the vector fired while masked). */
static bool fd_signalled(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void pci_msi_deliver(struct pci_dev *dev, unsigned vector, uint64_t addr, uint32_t data)
{
	PCI_STAT_INC(dev->host, msi_delivered);
	irq_ops(dev)->route_msi(irq_opaque(dev), dev, vector, addr, data);
}

/* Report an eventfd-bound vector's state if it changed since the last report. */
static void pci_vec_sync(struct pci_dev *dev, struct pci_vec_fd *vf, unsigned vector,
			 const struct pci_msi_vector *st)
{
	if (vf->fd < 0 && !vf->reported)
		return;
	if (vf->reported && vf->last.fd == st->fd && vf->last.addr == st->addr &&
	    vf->last.data == st->data && vf->last.deliverable == st->deliverable)
		return;
	irq_ops(dev)->vector_update(irq_opaque(dev), dev, vector, vf->reported ? vf->last.fd : -1,
				    st);
	vf->last = *st;
	vf->reported = st->fd >= 0;
}

/* ---- MSI-X ---- */

static uint16_t msix_ctrl(const struct pci_dev *dev)
{
	return (uint16_t)pci_le_get(&dev->config[dev->msix_cap + PCI_MSIX_FLAGS], 2);
}

static bool msix_on(const struct pci_dev *dev)
{
	return dev->msix_cap && (msix_ctrl(dev) & PCI_MSIX_FLAGS_ENABLE);
}

static bool msix_deliverable(const struct pci_dev *dev, unsigned v)
{
	return msix_on(dev) && !(msix_ctrl(dev) & PCI_MSIX_FLAGS_MASKALL) &&
	       !(dev->msix_table[v * MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] &
		 PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static void msix_msg(const struct pci_dev *dev, unsigned v, uint64_t *addr, uint32_t *data)
{
	const uint8_t *e = &dev->msix_table[v * MSIX_ENTRY_SIZE];

	*addr = pci_le_get(e + PCI_MSIX_ENTRY_LOWER_ADDR, 4) |
		(uint64_t)pci_le_get(e + PCI_MSIX_ENTRY_UPPER_ADDR, 4) << 32;
	*data = pci_le_get(e + PCI_MSIX_ENTRY_DATA, 4);
}

static bool msix_pending(const struct pci_dev *dev, unsigned v)
{
	return dev->msix_pba[v / 64] & (1ull << (v % 64));
}

static void msix_set_pending(struct pci_dev *dev, unsigned v, bool on)
{
	if (on)
		dev->msix_pba[v / 64] |= 1ull << (v % 64);
	else
		dev->msix_pba[v / 64] &= ~(1ull << (v % 64));
}

/* A vector may have become deliverable: send what is pending, update its irqfd binding. */
static void msix_vector_changed(struct pci_dev *dev, unsigned v)
{
	struct pci_msi_vector st = {.is_msix = true, .fd = dev->msix_fd[v].fd};

	msix_msg(dev, v, &st.addr, &st.data);
	st.deliverable = msix_deliverable(dev, v);
	/* PCIe 4.0 s6.1.4.5: a pending message is sent once the vector is unmasked. */
	if (st.deliverable && msix_pending(dev, v)) {
		msix_set_pending(dev, v, false);
		pci_msi_deliver(dev, v, st.addr, st.data);
	}
	pci_vec_sync(dev, &dev->msix_fd[v], v, &st);
}

static void msix_all_changed(struct pci_dev *dev)
{
	for (unsigned v = 0; v < dev->msix_n; v++)
		msix_vector_changed(dev, v);
}

/* Pending bits as the guest sees them: software-pending or an eventfd holding a masked event. */
static uint64_t msix_pba_word(struct pci_dev *dev, unsigned w)
{
	uint64_t bits = dev->msix_pba[w];

	for (unsigned b = 0; b < 64 && w * 64 + b < dev->msix_n; b++) {
		unsigned v = w * 64 + b;

		if (dev->msix_fd[v].fd >= 0 && !msix_deliverable(dev, v) &&
		    fd_signalled(dev->msix_fd[v].fd))
			bits |= 1ull << b;
	}
	return bits;
}

static uint64_t msix_table_len(const struct pci_dev *dev)
{
	return (uint64_t)dev->msix_n * MSIX_ENTRY_SIZE;
}

static uint64_t msix_pba_len(const struct pci_dev *dev)
{
	return 8ull * ((dev->msix_n + 63) / 64);
}

enum msix_region { MSIX_NONE, MSIX_TABLE, MSIX_PBA, MSIX_BAD };

static enum msix_region msix_classify(const struct pci_dev *dev, unsigned bar, uint64_t off,
				      unsigned size, uint64_t *rel)
{
	uint64_t t = dev->cfg.msix_table_offset, p = dev->cfg.msix_pba_offset;

	if (!dev->msix_n || bar != dev->cfg.msix_bar)
		return MSIX_NONE;
	if (off >= t && off - t < msix_table_len(dev) && size <= msix_table_len(dev) - (off - t)) {
		*rel = off - t;
		return MSIX_TABLE;
	}
	if (off >= p && off - p < msix_pba_len(dev) && size <= msix_pba_len(dev) - (off - p)) {
		*rel = off - p;
		return MSIX_PBA;
	}
	if (range_overlaps(off, size, t, msix_table_len(dev)) ||
	    range_overlaps(off, size, p, msix_pba_len(dev)))
		return MSIX_BAD;
	return MSIX_NONE;
}

/*
 * The spec only defines aligned DWORD and QWORD accesses (PCIe 4.0 s6.1.4.2); anything else is
 * undefined, so we serve it bytewise, which keeps every width consistent with the dword view.
 */
bool pci_msix_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off, unsigned size,
		       uint64_t *val)
{
	enum msix_region r;
	uint64_t rel = 0, v = 0;

	r = msix_classify(dev, bar, off, size, &rel);
	if (r == MSIX_NONE)
		return false;
	if (r == MSIX_BAD || size > 8) {
		PCI_STAT_INC(dev->host, msix_bad_access);
		log_rl(LOGL_DEBUG,
		       "pci %s: MSI-X access of %u bytes at BAR%u+0x%llx straddles the "
		       "table/PBA",
		       dev->name, size, bar, (unsigned long long)off);
		*val = ~0ull;
		return true;
	}
	pci_dev_lock(dev);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = rel + i;
		uint8_t b;

		if (r == MSIX_TABLE)
			b = dev->msix_table[o];
		else
			b = (uint8_t)(msix_pba_word(dev, (unsigned)(o / 8)) >> (8 * (o % 8)));
		v |= (uint64_t)b << (8 * i);
	}
	pci_dev_unlock(dev);
	*val = v;
	return true;
}

bool pci_msix_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off, unsigned size,
			uint64_t val)
{
	enum msix_region r;
	uint64_t rel = 0;

	r = msix_classify(dev, bar, off, size, &rel);
	if (r == MSIX_NONE)
		return false;
	if (r == MSIX_BAD || size > 8) {
		PCI_STAT_INC(dev->host, msix_bad_access);
		log_rl(LOGL_DEBUG,
		       "pci %s: MSI-X write of %u bytes at BAR%u+0x%llx straddles the "
		       "table/PBA",
		       dev->name, size, bar, (unsigned long long)off);
		return true;
	}
	if (r == MSIX_PBA)
		return true; /* read-only (s7.7.2.5) */
	pci_dev_lock(dev);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = rel + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		switch (o % MSIX_ENTRY_SIZE) {
		case PCI_MSIX_ENTRY_LOWER_ADDR:
			b &= 0xfc; /* DWORD aligned address: bits 1:0 are 0 */
			break;
		case PCI_MSIX_ENTRY_VECTOR_CTRL:
			b &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
			break;
		case PCI_MSIX_ENTRY_VECTOR_CTRL + 1:
		case PCI_MSIX_ENTRY_VECTOR_CTRL + 2:
		case PCI_MSIX_ENTRY_VECTOR_CTRL + 3:
			b = 0; /* reserved */
			break;
		}
		dev->msix_table[o] = b;
	}
	for (uint64_t v = rel / MSIX_ENTRY_SIZE; v <= (rel + size - 1) / MSIX_ENTRY_SIZE; v++)
		msix_vector_changed(dev, (unsigned)v);
	pci_dev_unlock(dev);
	return true;
}

int pci_msix_notify(struct pci_dev *dev, unsigned vector)
{
	uint64_t addr;
	uint32_t data;
	int ret = 0;

	if (!dev)
		return -EINVAL;
	if (vector >= dev->msix_n) {
		PCI_STAT_INC(dev->host, msi_bad_vector);
		return -EINVAL;
	}
	pci_dev_lock(dev);
	if (!msix_on(dev)) {
		ret = -EAGAIN;
	} else if (msix_deliverable(dev, vector)) {
		msix_msg(dev, vector, &addr, &data);
		pci_msi_deliver(dev, vector, addr, data);
	} else {
		PCI_STAT_INC(dev->host, msi_pending);
		msix_set_pending(dev, vector, true);
	}
	pci_dev_unlock(dev);
	return ret;
}

bool pci_msix_enabled(struct pci_dev *dev)
{
	bool on;

	if (!dev)
		return false;
	pci_dev_lock(dev);
	on = msix_on(dev);
	pci_dev_unlock(dev);
	return on;
}

/* ---- MSI ---- */

static uint16_t msi_ctrl(const struct pci_dev *dev)
{
	return (uint16_t)pci_le_get(&dev->config[dev->msi_cap + PCI_MSI_FLAGS], 2);
}

static bool msi_on(const struct pci_dev *dev)
{
	return dev->msi_cap && (msi_ctrl(dev) & PCI_MSI_FLAGS_ENABLE);
}

/* Vectors the guest granted (Multiple Message Enable), never more than we asked for. */
static unsigned msi_granted(const struct pci_dev *dev)
{
	unsigned mme = (msi_ctrl(dev) & PCI_MSI_FLAGS_QSIZE) >> 4;

	return MIN(1u << mme, dev->msi_n);
}

static uint32_t msi_mask(const struct pci_dev *dev)
{
	return pci_le_get(&dev->config[dev->msi_cap + MSI_OFF_MASK], 4);
}

static bool msi_deliverable(const struct pci_dev *dev, unsigned v)
{
	return msi_on(dev) && v < msi_granted(dev) && !(msi_mask(dev) & (1u << v));
}

/* s7.7.1.5: with N vectors granted the function modifies the low log2(N) bits of Message Data. */
static void msi_msg(const struct pci_dev *dev, unsigned v, uint64_t *addr, uint32_t *data)
{
	unsigned c = dev->msi_cap;
	uint32_t d = pci_le_get(&dev->config[c + MSI_OFF_DATA], 2);

	*addr = pci_le_get(&dev->config[c + MSI_OFF_ADDR_LO], 4) |
		(uint64_t)pci_le_get(&dev->config[c + MSI_OFF_ADDR_HI], 4) << 32;
	*data = (d & ~(msi_granted(dev) - 1)) | v;
}

static void msi_vector_changed(struct pci_dev *dev, unsigned v)
{
	struct pci_msi_vector st = {.is_msix = false, .fd = dev->msi_fd[v].fd};

	msi_msg(dev, v, &st.addr, &st.data);
	st.deliverable = msi_deliverable(dev, v);
	if (st.deliverable && (dev->msi_pending & (1u << v))) {
		dev->msi_pending &= ~(1u << v);
		pci_msi_deliver(dev, v, st.addr, st.data);
	}
	pci_vec_sync(dev, &dev->msi_fd[v], v, &st);
}

static void msi_all_changed(struct pci_dev *dev)
{
	for (unsigned v = 0; v < dev->msi_n; v++)
		msi_vector_changed(dev, v);
}

int pci_msi_notify(struct pci_dev *dev, unsigned vector)
{
	uint64_t addr;
	uint32_t data;
	int ret = 0;

	if (!dev)
		return -EINVAL;
	if (vector >= dev->msi_n) {
		PCI_STAT_INC(dev->host, msi_bad_vector);
		return -EINVAL;
	}
	pci_dev_lock(dev);
	if (!msi_on(dev)) {
		ret = -EAGAIN;
	} else {
		/* Fewer vectors granted than requested: vectors alias onto the granted ones. */
		vector &= msi_granted(dev) - 1;
		if (msi_deliverable(dev, vector)) {
			msi_msg(dev, vector, &addr, &data);
			pci_msi_deliver(dev, vector, addr, data);
		} else {
			PCI_STAT_INC(dev->host, msi_pending);
			dev->msi_pending |= 1u << vector;
		}
	}
	pci_dev_unlock(dev);
	return ret;
}

bool pci_msi_enabled(struct pci_dev *dev)
{
	bool on;

	if (!dev)
		return false;
	pci_dev_lock(dev);
	on = msi_on(dev);
	pci_dev_unlock(dev);
	return on;
}

/* ---- Shared ---- */

bool pci_msi_any_enabled(struct pci_dev *dev)
{
	return msi_on(dev) || msix_on(dev);
}

int pci_irq_notify(struct pci_dev *dev, unsigned vector)
{
	int ret = -EAGAIN;

	if (!dev)
		return -EINVAL;
	pci_dev_lock(dev);
	if (msix_on(dev))
		ret = pci_msix_notify(dev, vector);
	else if (msi_on(dev))
		ret = pci_msi_notify(dev, vector);
	else if (dev->cfg.intx_pin) {
		pci_set_intx(dev, 1);
		ret = 0;
	}
	pci_dev_unlock(dev);
	return ret;
}

int pci_msi_set_vector_fd(struct pci_dev *dev, bool msix, unsigned vector, int fd)
{
	struct pci_vec_fd *vf;

	if (!dev || fd < -1)
		return -EINVAL;
	if (!irq_ops(dev)->vector_update)
		return -EOPNOTSUPP;
	if (vector >= (msix ? dev->msix_n : dev->msi_n))
		return -EINVAL;
	pci_dev_lock(dev);
	vf = msix ? &dev->msix_fd[vector] : &dev->msi_fd[vector];
	vf->fd = fd;
	if (msix)
		msix_vector_changed(dev, vector);
	else
		msi_vector_changed(dev, vector);
	pci_dev_unlock(dev);
	return 0;
}

void pci_msi_cfg_written(struct pci_dev *dev, unsigned off, unsigned size)
{
	if (dev->msix_cap && range_overlaps(off, size, dev->msix_cap, PCI_CAP_MSIX_SIZEOF)) {
		msix_all_changed(dev);
		pci_intx_update(dev);
	}
	if (dev->msi_cap && range_overlaps(off, size, dev->msi_cap, MSI_CAP_LEN)) {
		msi_all_changed(dev);
		pci_intx_update(dev);
	}
}

void pci_msi_cfg_before_read(struct pci_dev *dev, unsigned off, unsigned size)
{
	uint32_t extra = 0;

	if (!dev->msi_cap || !range_overlaps(off, size, dev->msi_cap + MSI_OFF_PENDING, 4))
		return;
	/* The Pending Bits register is read-only (s7.7.1.9); the core keeps it in msi_pending. */
	/*
	 * Eventfd-bound vectors that fired while masked are pending too. They are folded into the
	 * register only for this read's value: the eventfd itself stays the record.
	 */
	for (unsigned v = 0; v < dev->msi_n; v++)
		if (dev->msi_fd[v].fd >= 0 && !msi_deliverable(dev, v) &&
		    fd_signalled(dev->msi_fd[v].fd))
			extra |= 1u << v;
	pci_le_set(&dev->config[dev->msi_cap + MSI_OFF_PENDING], 4, dev->msi_pending | extra);
}

int pci_msi_init(struct pci_dev *dev)
{
	const struct pci_dev_cfg *c = &dev->cfg;
	int off;

	for (unsigned v = 0; v < PCI_MSI_MAX_VECTORS; v++)
		dev->msi_fd[v].fd = -1;
	if (c->msix_vectors) {
		uint8_t body[PCI_CAP_MSIX_SIZEOF - 2];

		dev->msix_table = calloc(c->msix_vectors, MSIX_ENTRY_SIZE);
		dev->msix_pba = calloc((c->msix_vectors + 63) / 64, sizeof(uint64_t));
		dev->msix_fd = calloc(c->msix_vectors, sizeof(*dev->msix_fd));
		if (!dev->msix_table || !dev->msix_pba || !dev->msix_fd)
			return -ENOMEM;
		dev->msix_n = c->msix_vectors;
		/* s7.7.2.4: every vector starts masked. */
		for (unsigned v = 0; v < dev->msix_n; v++) {
			dev->msix_table[v * MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
				PCI_MSIX_ENTRY_CTRL_MASKBIT;
			dev->msix_fd[v].fd = -1;
		}
		pci_le_set(&body[0], 2, (uint16_t)(c->msix_vectors - 1));
		pci_le_set(&body[2], 4, c->msix_table_offset | c->msix_bar);
		pci_le_set(&body[6], 4, c->msix_pba_offset | c->msix_bar);
		off = pci_cap_add(dev, PCI_CAP_ID_MSIX, body, sizeof(body));
		if (off < 0)
			return off;
		dev->msix_cap = (unsigned)off;
		dev->wmask[off + PCI_MSIX_FLAGS + 1] =
			(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8;
	}
	if (c->msi_vectors) {
		uint8_t body[MSI_CAP_LEN - 2] = {0};
		unsigned mmc = (unsigned)__builtin_ctz(c->msi_vectors);

		pci_le_set(&body[0], 2,
			   PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | (uint16_t)(mmc << 1));
		off = pci_cap_add(dev, PCI_CAP_ID_MSI, body, sizeof(body));
		if (off < 0)
			return off;
		dev->msi_cap = (unsigned)off;
		dev->msi_n = c->msi_vectors;
		pci_le_set(&dev->wmask[off + PCI_MSI_FLAGS], 2,
			   PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		pci_le_set(&dev->wmask[off + MSI_OFF_ADDR_LO], 4, 0xfffffffc);
		pci_le_set(&dev->wmask[off + MSI_OFF_ADDR_HI], 4, 0xffffffff);
		pci_le_set(&dev->wmask[off + MSI_OFF_DATA], 2, 0xffff);
		pci_le_set(&dev->wmask[off + MSI_OFF_MASK], 4,
			   dev->msi_n >= 32 ? 0xffffffffu : (1u << dev->msi_n) - 1);
	}
	return 0;
}

/* Tell the VMM an eventfd-bound vector is gone, without delivering anything on the way out. */
static void pci_vec_unbind(struct pci_dev *dev, struct pci_vec_fd *vf, unsigned vector,
			   bool is_msix)
{
	struct pci_msi_vector st = {.is_msix = is_msix, .fd = -1};

	vf->fd = -1;
	if (!vf->reported)
		return;
	irq_ops(dev)->vector_update(irq_opaque(dev), dev, vector, vf->last.fd, &st);
	vf->reported = false;
}

void pci_msi_fini(struct pci_dev *dev)
{
	for (unsigned v = 0; dev->msix_fd && v < dev->msix_n; v++)
		pci_vec_unbind(dev, &dev->msix_fd[v], v, true);
	for (unsigned v = 0; v < dev->msi_n; v++)
		pci_vec_unbind(dev, &dev->msi_fd[v], v, false);
	free(dev->msix_table);
	free(dev->msix_pba);
	free(dev->msix_fd);
	dev->msix_table = NULL;
	dev->msix_pba = NULL;
	dev->msix_fd = NULL;
	dev->msix_n = 0;
	dev->msi_n = 0;
}
