/* SPDX-License-Identifier: GPL-2.0-only */
/* Internals shared by pci.c (host, config space, BARs, INTx) and pci_msi.c (MSI, MSI-X). */
#ifndef NFV_VMM_PCI_PRIV_H
#define NFV_VMM_PCI_PRIV_H

#include <pthread.h>

#include "pci.h"

struct pci_bar {
	struct pci_dev *dev;
	unsigned idx;
	enum pci_bar_type type; /* NONE for the upper half of a 64-bit BAR */
	bool prefetchable;
	uint64_t size;
	const struct bus_ops *ops;
	void *opaque;
	bool mapped; /* window registered on the bus at @addr */
	uint64_t addr;
	char name[32];
};

/* Per-vector bookkeeping for eventfd-bound vectors (vector_update dedupe). */
struct pci_vec_fd {
	int fd;
	struct pci_msi_vector last; /* last state reported through vector_update */
	bool reported;
};

struct pci_dev {
	struct pci_host *host;
	uint8_t devfn;
	char name[32];
	struct pci_dev_cfg cfg;
	pthread_mutex_t lock; /* recursive */

	uint8_t config[PCI_CFG_EXT_SIZE];
	uint8_t wmask[PCI_CFG_EXT_SIZE];
	uint8_t w1cmask[PCI_CFG_EXT_SIZE];
	unsigned cap_next; /* first free offset for pci_cap_add */
	unsigned cap_last; /* offset of the last capability (its next pointer is patched) */

	struct pci_bar bar[PCI_NUM_BARS];
	int intx_level;	    /* the device's own level */
	bool intx_asserted; /* what we contributed to the host's wired-OR */

	/* MSI-X (PCIe 4.0 s7.7.2) */
	unsigned msix_cap;
	unsigned msix_n;
	uint8_t *msix_table; /* 16 bytes per vector */
	uint64_t *msix_pba;  /* software-set pending bits */
	struct pci_vec_fd *msix_fd;

	/* MSI (PCIe 4.0 s7.7.1) */
	unsigned msi_cap;
	unsigned msi_n;
	uint32_t msi_pending; /* software-set pending bits (the register is refreshed on read) */
	struct pci_vec_fd msi_fd[PCI_MSI_MAX_VECTORS];
};

struct pci_host {
	struct pci_host_cfg cfg;
	pthread_mutex_t lock; /* cf8 address register, INTx wired-OR, device table */
	uint32_t cf8;
	bool pio_registered, ecam_registered;
	struct pci_dev *slot[PCI_SLOTS];
	unsigned intx_count[4]; /* devices asserting GSI 16 + i */
	struct pci_stats stats; /* fields updated atomically */
};

#define PCI_STAT_INC(host, field) __atomic_add_fetch(&(host)->stats.field, 1, __ATOMIC_RELAXED)

static inline void pci_dev_lock(struct pci_dev *dev)
{
	pthread_mutex_lock(&dev->lock);
}
static inline void pci_dev_unlock(struct pci_dev *dev)
{
	pthread_mutex_unlock(&dev->lock);
}

/* Raw little-endian access to a byte array (no masks). */
static inline uint32_t pci_le_get(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}
static inline void pci_le_set(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* pci_msi.c */
/* Build the MSI-X / MSI capabilities from dev->cfg. */
int pci_msi_init(struct pci_dev *dev);
void pci_msi_fini(struct pci_dev *dev); /* unbinds fds (vector_update fd -1), frees */
/* A config write touched [off, off+size): react to MSI/MSI-X control changes. Lock held. */
void pci_msi_cfg_written(struct pci_dev *dev, unsigned off, unsigned size);
/* Refresh the MSI pending-bits register before a config read of it. Lock held. */
void pci_msi_cfg_before_read(struct pci_dev *dev, unsigned off, unsigned size);
/* MSI-X table/PBA access inside @bar; returns true when [off, off+size) touches them. */
bool pci_msix_bar_read(struct pci_dev *dev, unsigned bar, uint64_t off, unsigned size,
		       uint64_t *val);
bool pci_msix_bar_write(struct pci_dev *dev, unsigned bar, uint64_t off, unsigned size,
			uint64_t val);
/* INTx must stay quiet while MSI or MSI-X is enabled (PCIe 4.0 s7.7.1.2, s7.7.2.2). */
bool pci_msi_any_enabled(struct pci_dev *dev);
/* pci.c: recompute the INTx contribution (after command / MSI enable changes). Lock held. */
void pci_intx_update(struct pci_dev *dev);

#endif
