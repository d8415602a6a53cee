// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of nfv-vmm's vfio-pci device (vmm/vfio/vfio_pci.h): config-space virtualisation and
 * MSI-X/INTx routing against a test double of the VFIO device fd that emulates the region layout
 * of an 82576 VF (igbvf: BAR0 16 KiB registers, BAR3 16 KiB MSI-X table at 0 and PBA at 0x2000,
 * 3 vectors) in memory. The real ioctls are exercised by the SR-IOV guest test (tests/sriov/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "pci.h"
#include "vfio_pci.h"
#include "../unit/test.h"

#define BAR_SIZE (16 * 1024)

struct fake {
	uint8_t cfg[256];
	uint8_t bar0[BAR_SIZE], bar3[BAR_SIZE];
	unsigned msix_vectors;
	bool fail_bar;
	/* last VFIO_DEVICE_SET_IRQS */
	unsigned irq_calls, last_index, last_count;
	uint32_t last_action;
	int last_fds[8];
	bool enabled[VFIO_PCI_NUM_IRQS];
	unsigned resets;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->msix_vectors = 3;
	put16(f->cfg, 0x8086);
	put16(f->cfg + 2, 0x10ca);
	put16(f->cfg + 6, 0x0010);
	f->cfg[8] = 0x01;
	put32(f->cfg + 8, 0x02000001);
	put32(f->cfg + 0x10, 0x00000000); /* BAR0 mem32 (vfio-pci's virtualised VF BAR) */
	put32(f->cfg + 0x1c, 0x00000000); /* BAR3 mem32 */
	put16(f->cfg + 0x2c, 0x8086);
	put16(f->cfg + 0x2e, 0xa03c);
	f->cfg[0x34] = 0x70;
	f->cfg[0x3d] = 0;    /* VFs have no INTx */
	f->cfg[0x70] = 0x11; /* MSI-X */
	f->cfg[0x71] = 0xa0;
	put16(f->cfg + 0x72, 2);	  /* 3 vectors */
	put32(f->cfg + 0x74, 0x00000003); /* table: BAR 3, offset 0 */
	put32(f->cfg + 0x78, 0x00002003); /* PBA: BAR 3, offset 0x2000 */
	f->cfg[0xa0] = 0x10;		  /* PCIe */
	f->cfg[0xa1] = 0xe0;
	put16(f->cfg + 0xa2, 0x0002);
	f->cfg[0xe0] = 0x01; /* power management: PMC 0x0003, PMCSR 0x0008 */
	f->cfg[0xe1] = 0x00;
	put16(f->cfg + 0xe2, 0x0003);
	put16(f->cfg + 0xe4, 0x0008);
	for (unsigned i = 0; i < BAR_SIZE; i += 4)
		put32(f->bar0 + i, 0xa5000000u | i);
}

static uint8_t *fake_mem(struct fake *f, unsigned index, uint64_t *size)
{
	switch (index) {
	case VFIO_PCI_BAR0_REGION_INDEX:
		*size = BAR_SIZE;
		return f->bar0;
	case VFIO_PCI_BAR3_REGION_INDEX:
		*size = BAR_SIZE;
		return f->bar3;
	case VFIO_PCI_CONFIG_REGION_INDEX:
		*size = sizeof(f->cfg);
		return f->cfg;
	}
	*size = 0;
	return NULL;
}

static int fake_region_info(void *o, unsigned index, struct vfio_region *out)
{
	uint64_t size;

	memset(out, 0, sizeof(*out));
	if (fake_mem(o, index, &size)) {
		out->size = size;
		out->offset = (uint64_t)index << 40;
		out->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	}
	return 0;
}

static int fake_irq_count(void *o, unsigned index, unsigned *count)
{
	struct fake *f = o;

	*count = index == VFIO_PCI_MSIX_IRQ_INDEX ? f->msix_vectors : 0;
	return 0;
}

static int fake_rw(void *o, unsigned index, uint64_t off, void *buf, size_t len, bool write)
{
	struct fake *f = o;
	uint64_t size;
	uint8_t *m = fake_mem(f, index, &size);

	if (!m || off + len > size)
		return -EINVAL;
	if (f->fail_bar && index != VFIO_PCI_CONFIG_REGION_INDEX)
		return -EIO;
	if (write)
		memcpy(m + off, buf, len);
	else
		memcpy(buf, m + off, len);
	return 0;
}

static int fake_set_irqs(void *o, unsigned index, uint32_t action, unsigned start, unsigned count,
			 const int *fds)
{
	struct fake *f = o;

	f->irq_calls++;
	f->last_index = index;
	f->last_action = action;
	f->last_count = count;
	(void)start;
	for (unsigned i = 0; i < count && i < 8; i++)
		f->last_fds[i] = fds ? fds[i] : -1;
	if (action == VFIO_IRQ_SET_ACTION_TRIGGER) {
		/* vfio-pci refuses a second interrupt type while one is enabled */
		for (unsigned i = 0; count && i < VFIO_PCI_NUM_IRQS; i++)
			if (i != index && f->enabled[i])
				return -EINVAL;
		f->enabled[index] = count != 0;
	}
	return 0;
}

static int fake_reset(void *o)
{
	((struct fake *)o)->resets++;
	return 0;
}

static const struct vfio_dev_io fake_io = {
	.region_info = fake_region_info,
	.irq_count = fake_irq_count,
	.rw = fake_rw,
	.set_irqs = fake_set_irqs,
	.reset = fake_reset,
};

/* ---- pci host with counting interrupt ops ---- */

static unsigned msi_routed;
static int bound_fd[8];
static bool deliverable[8];

static void route_msi(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
		      uint32_t data)
{
	(void)opaque, (void)dev, (void)vector, (void)addr, (void)data;
	msi_routed++;
}

static void set_intx(void *opaque, unsigned gsi, int level)
{
	(void)opaque, (void)gsi, (void)level;
}

static void vector_update(void *opaque, struct pci_dev *dev, unsigned vector, int old_fd,
			  const struct pci_msi_vector *st)
{
	(void)opaque, (void)dev, (void)old_fd;
	if (vector < 8 && st->is_msix) {
		bound_fd[vector] = st->fd;
		deliverable[vector] = st->deliverable;
	}
}

static const struct pci_irq_ops irq_ops = {
	.route_msi = route_msi, .set_intx = set_intx, .vector_update = vector_update};

struct env {
	struct bus pio, mmio;
	struct pci_host *host;
};

static void env_init(struct env *e)
{
	struct pci_host_cfg hc = {.pio = &e->pio, .mmio = &e->mmio, .irq_ops = &irq_ops};

	CHECK(bus_init(&e->pio, "pio") == 0);
	CHECK(bus_init(&e->mmio, "mmio") == 0);
	CHECK(pci_host_create(&hc, &e->host) == 0);
}

static void env_fini(struct env *e)
{
	pci_host_destroy(e->host);
	bus_fini(&e->pio);
	bus_fini(&e->mmio);
}

static int make(struct env *e, struct fake *f, struct vfio_pci **vp)
{
	struct vfio_pci_cfg cfg = {.host = e->host, .slot = 3};
	int ret = vfio_dev_create_io(&fake_io, f, "0000:01:10.0", &cfg.dev);

	if (ret)
		return ret;
	return vfio_pci_create(&cfg, vp);
}

#define DEVFN PCI_DEVFN(3, 0)

static void test_config(void)
{
	struct env e;
	struct fake f;
	struct vfio_pci *vp = NULL;
	struct vfio_pci_stats st;
	uint16_t cmd;

	env_init(&e);
	fake_init(&f);
	CHECK(make(&e, &f, &vp) == 0);
	if (!vp)
		return;
	/* Identity from the host device. */
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0, 4) == 0x10ca8086);
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x08, 4) == 0x02000001);
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x2c, 4) == 0xa03c8086);
	/* BAR sizing: emulated, from the region sizes. */
	pci_host_cfg_write(e.host, DEVFN, 0x10, 4, 0xffffffff);
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x10, 4) == (uint32_t) ~(BAR_SIZE - 1));
	pci_host_cfg_write(e.host, DEVFN, 0x1c, 4, 0xffffffff);
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x1c, 4) == (uint32_t) ~(BAR_SIZE - 1));
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x14, 4) == 0); /* BAR1 absent */
	/* Capabilities: MSI-X (emulated, 3 vectors), PCIe, PM (live, read-only). */
	unsigned msix = pci_cap_find(vfio_pci_dev(vp), 0x11);
	unsigned pm = pci_cap_find(vfio_pci_dev(vp), 0x01);

	CHECK(msix != 0);
	CHECK(pci_cap_find(vfio_pci_dev(vp), 0x10) != 0);
	CHECK(pm != 0);
	if (msix) {
		CHECK((pci_host_cfg_read(e.host, DEVFN, msix + 2, 2) & 0x7ff) == 2);
		CHECK(pci_host_cfg_read(e.host, DEVFN, msix + 4, 4) == 3);
		CHECK(pci_host_cfg_read(e.host, DEVFN, msix + 8, 4) == 0x2003);
	}
	if (pm) {
		CHECK(pci_host_cfg_read(e.host, DEVFN, pm + 4, 2) == 0x0008);
		put16(f.cfg + 0xe4, 0x0009); /* live value */
		CHECK(pci_host_cfg_read(e.host, DEVFN, pm + 4, 2) == 0x0009);
		pci_host_cfg_write(e.host, DEVFN, pm + 4, 2, 0x0003); /* D3hot: refused */
		CHECK(f.cfg[0xe4] == 0x09);
	}
	/* Extended capabilities are hidden. */
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0x100, 4) == 0);
	CHECK(pci_host_cfg_read(e.host, DEVFN, 0xffc, 4) == 0);
	/* Command: bus master and memory enable reach the device; other bits do not. */
	put16(f.cfg + 4, 0x0000);
	pci_host_cfg_write(e.host, DEVFN, 0x04, 2, 0xffff);
	cmd = (uint16_t)(f.cfg[4] | f.cfg[5] << 8);
	CHECK((cmd & 0x0006) == 0x0006);
	CHECK((cmd & ~0x0547u) == 0);
	pci_host_cfg_write(e.host, DEVFN, 0x04, 2, 0x0000);
	cmd = (uint16_t)(f.cfg[4] | f.cfg[5] << 8);
	CHECK((cmd & 0x0006) == 0);
	vfio_pci_stats(vp, &st);
	CHECK(st.cfg_passthrough >= 2);
	vfio_pci_destroy(vp);
	CHECK(f.resets == 0); /* test doubles have no container; reset is on vfio_dev_open/close */
	env_fini(&e);
}

static void test_bars_and_msix(void)
{
	struct pci_bar_windows w = {.io_base = 0xc000,
				    .io_limit = 0x10000,
				    .mem32_base = 0xe0000000,
				    .mem32_limit = 0xf0000000};
	struct env e;
	struct fake f;
	struct vfio_pci *vp = NULL;
	struct vfio_pci_stats st;
	uint64_t bar0, bar3, v;
	unsigned msix;

	env_init(&e);
	fake_init(&f);
	CHECK(make(&e, &f, &vp) == 0);
	if (!vp)
		return;
	CHECK(pci_host_assign_bars(e.host, &w) == 0);
	CHECK(pci_dev_bar_addr(vfio_pci_dev(vp), 0, &bar0));
	CHECK(pci_dev_bar_addr(vfio_pci_dev(vp), 3, &bar3));
	/* Trapped register access reaches the device region. */
	CHECK(bus_read(&e.mmio, bar0 + 0x10, 4, &v) && v == 0xa5000010);
	CHECK(bus_write(&e.mmio, bar0 + 0x20, 4, 0x12345678));
	CHECK(f.bar0[0x20] == 0x78 && f.bar0[0x23] == 0x12);
	/* The MSI-X table is emulated: guest writes never reach the device's table. */
	CHECK(bus_write(&e.mmio, bar3 + 0x0, 4, 0xfee00000));
	CHECK(bus_write(&e.mmio, bar3 + 0x8, 4, 0x41));
	CHECK(bus_write(&e.mmio, bar3 + 0xc, 4, 0)); /* unmask vector 0 */
	CHECK(f.bar3[0] == 0 && f.bar3[8] == 0);
	CHECK(bus_read(&e.mmio, bar3 + 0x8, 4, &v) && v == 0x41);
	/* Other offsets of the MSI-X BAR are forwarded. */
	CHECK(bus_write(&e.mmio, bar3 + 0x3000, 4, 0xabcd));
	CHECK(f.bar3[0x3000] == 0xcd);

	/* Every vector has its eventfd bound in vmm/pci. */
	for (unsigned i = 0; i < 3; i++)
		CHECK(bound_fd[i] == vfio_pci_vector_fd(vp, true, i) && bound_fd[i] >= 0);
	CHECK(vfio_pci_vector_fd(vp, true, 3) == -1);
	CHECK(f.irq_calls == 0); /* no INTx on a VF, MSI-X not enabled yet */

	/* Guest enables MSI-X: the device gets the same eventfds. */
	msix = pci_cap_find(vfio_pci_dev(vp), 0x11);
	pci_host_cfg_write(e.host, DEVFN, msix + 2, 2, 0x8000);
	CHECK(f.irq_calls == 1 && f.last_index == VFIO_PCI_MSIX_IRQ_INDEX && f.last_count == 3);
	CHECK(f.last_action == VFIO_IRQ_SET_ACTION_TRIGGER);
	for (unsigned i = 0; i < 3; i++)
		CHECK(f.last_fds[i] == vfio_pci_vector_fd(vp, true, i));
	CHECK(deliverable[0] && !deliverable[1]); /* vector 1 still masked in the table */
	/* Writing the same enable again changes nothing at the device. */
	pci_host_cfg_write(e.host, DEVFN, msix + 2, 2, 0x8000);
	CHECK(f.irq_calls == 1);
	/* Function mask: vmm/pci detaches the irqfds; the device keeps its vectors. */
	pci_host_cfg_write(e.host, DEVFN, msix + 2, 2, 0xc000);
	CHECK(!deliverable[0] && f.irq_calls == 1);
	/* Disable: device vectors released. */
	pci_host_cfg_write(e.host, DEVFN, msix + 2, 2, 0x0000);
	CHECK(f.irq_calls == 2 && f.last_count == 0 && f.last_index == VFIO_PCI_MSIX_IRQ_INDEX);

	/* A failing device region: reads return all-ones, counted; the VMM keeps going. */
	f.fail_bar = true;
	CHECK(bus_read(&e.mmio, bar0 + 0x10, 4, &v) && v == 0xffffffff);
	f.fail_bar = false;
	vfio_pci_stats(vp, &st);
	CHECK(st.bar_errors == 1 && st.bar_trapped >= 4);
	vfio_pci_destroy(vp);
	env_fini(&e);
}

static void test_hostile(void)
{
	struct env e;
	struct fake f;
	struct vfio_pci *vp = NULL;

	env_init(&e);
	/* MSI-X table and PBA in different BARs: refused cleanly. */
	fake_init(&f);
	put32(f.cfg + 0x78, 0x00002000);
	CHECK(make(&e, &f, &vp) == -ENOTSUP);
	/* MSI-X table in a BAR the device does not have. */
	fake_init(&f);
	put32(f.cfg + 0x74, 0x00000005);
	put32(f.cfg + 0x78, 0x00002005);
	CHECK(make(&e, &f, &vp) == -ENOTSUP);
	/* A capability list that loops, and one pointing below the header. */
	fake_init(&f);
	f.cfg[0xa1] = 0x70;
	vp = NULL;
	CHECK(make(&e, &f, &vp) == 0);
	vfio_pci_destroy(vp);
	fake_init(&f);
	f.cfg[0x34] = 0x08;
	vp = NULL;
	CHECK(make(&e, &f, &vp) == 0);
	if (vp)
		CHECK(pci_cap_find(vfio_pci_dev(vp), 0x11) ==
		      0); /* no MSI-X found: none emulated */
	vfio_pci_destroy(vp);
	/* Table size 2048 vectors but the kernel grants 3: the capability says what VFIO has. */
	fake_init(&f);
	put16(f.cfg + 0x72, 0x7ff);
	vp = NULL;
	CHECK(make(&e, &f, &vp) == 0 || vp == NULL);
	vfio_pci_destroy(vp);
	env_fini(&e);
}

int main(void)
{
	log_set_level(LOGL_ERR);
	test_config();
	test_bars_and_msix();
	test_hostile();
	TEST_DONE("test_vfio_pci");
}
