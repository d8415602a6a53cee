// SPDX-License-Identifier: GPL-2.0-only
/* Freestanding virtio-pci modern driver (see virtio_pci_drv.h). */
#include "virtio_pci_drv.h"

#include "guest.h"

#define EIO 5
#define ENODEV 19
#define EINVAL 22
#define EOPNOTSUPP 95

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* Common configuration layout (virtio 1.2 s4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0c
#define CC_MSIX 0x10
#define CC_NUMQ 0x12
#define CC_STATUS 0x14
#define CC_CFGGEN 0x15
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1a
#define CC_Q_ENABLE 0x1c
#define CC_Q_NOFF 0x1e
#define CC_Q_DESC 0x20
#define CC_Q_AVAIL 0x28
#define CC_Q_USED 0x30

/* Vendor capability cfg_type values (s4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define NO_VECTOR 0xffff

static inline uint8_t rd8(uint64_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t rd16(uint64_t a)
{
	return *(volatile uint16_t *)a;
}
static inline void wr8(uint64_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void wr16(uint64_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

/* Full barrier: orders the avail->idx store before the used->flags load (s2.7.13.3.1 note). */
static inline void mb(void)
{
	__asm__ volatile("lock addl $0, (%%rsp)" ::: "memory", "cc");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

uint32_t vpci_cfg_read32(unsigned slot, unsigned off)
{
	outl(0xCF8, 0x80000000u | (slot << 11) | (off & 0xFC));
	return inl(0xCFC);
}

void vpci_cfg_write32(unsigned slot, unsigned off, uint32_t v)
{
	outl(0xCF8, 0x80000000u | (slot << 11) | (off & 0xFC));
	outl(0xCFC, v);
}

static uint8_t cfg_read8(unsigned slot, unsigned off)
{
	return (uint8_t)(vpci_cfg_read32(slot, off) >> (8 * (off & 3)));
}

/* Decode the memory BARs as the VMM (there is no firmware) placed them. */
static void read_bars(struct vpci_dev *d)
{
	for (unsigned i = 0; i < 6; i++) {
		uint32_t lo = vpci_cfg_read32(d->slot, 0x10 + 4 * i);

		d->bar[i] = 0;
		if (lo & 1)
			continue; /* I/O BAR: not used by virtio-pci modern */
		d->bar[i] = lo & ~0xFull;
		if ((lo & 6) == 4 && i < 5) {
			d->bar[i] |= (uint64_t)vpci_cfg_read32(d->slot, 0x10 + 4 * (i + 1)) << 32;
			i++;
		}
	}
}

/* Walk the capability list for the virtio structures (s4.1.4); the first of each type wins. */
static int read_caps(struct vpci_dev *d)
{
	unsigned found = 0, guard = 0;
	uint8_t cap = cfg_read8(d->slot, 0x34) & 0xFC;

	for (; cap && guard < 48; cap = cfg_read8(d->slot, cap + 1) & 0xFC, guard++) {
		uint32_t w0 = vpci_cfg_read32(d->slot, cap);
		uint8_t type = (uint8_t)(w0 >> 24), bar;
		uint32_t off, len;
		uint64_t addr;

		if ((w0 & 0xFF) == PCI_CAP_ID_MSIX && !d->msix_cap)
			d->msix_cap = cap;
		if ((w0 & 0xFF) != PCI_CAP_ID_VNDR || type < CAP_COMMON || type > CAP_DEVICE)
			continue;
		if (found & (1u << type))
			continue;
		bar = cfg_read8(d->slot, cap + 4);
		off = vpci_cfg_read32(d->slot, cap + 8);
		len = vpci_cfg_read32(d->slot, cap + 12);
		if (bar > 5 || !d->bar[bar])
			continue; /* s4.1.4.1: ignore capabilities pointing at reserved BARs */
		addr = d->bar[bar] + off;
		switch (type) {
		case CAP_COMMON:
			if (len < 0x38)
				return -EINVAL;
			d->common = addr;
			break;
		case CAP_NOTIFY:
			d->notify_base = addr;
			d->notify_mult = vpci_cfg_read32(d->slot, cap + 16);
			break;
		case CAP_ISR:
			d->isr = addr;
			break;
		case CAP_DEVICE:
			d->device = addr;
			d->device_len = len;
			break;
		}
		found |= 1u << type;
	}
	if ((found & ((1u << CAP_COMMON) | (1u << CAP_NOTIFY))) !=
	    ((1u << CAP_COMMON) | (1u << CAP_NOTIFY)))
		return -EINVAL;
	return 0;
}

int vpci_probe(struct vpci_dev *d, uint16_t device_id, unsigned nth)
{
	memset(d, 0, sizeof(*d));
	for (unsigned slot = 0; slot < 32; slot++) {
		uint32_t id = vpci_cfg_read32(slot, 0);
		int ret;

		if ((id & 0xffff) != 0x1af4 || (id >> 16) != device_id)
			continue;
		if (nth--)
			continue;
		d->slot = slot;
		d->device_id = device_id;
		/* Memory decoding and bus mastering on (the device DMAs into our rings). */
		vpci_cfg_write32(slot, 0x04, (vpci_cfg_read32(slot, 0x04) & 0xffff) | 0x6);
		read_bars(d);
		ret = read_caps(d);
		if (ret)
			return ret;
		d->num_queues = rd16(d->common + CC_NUMQ);
		return 0;
	}
	return -ENODEV;
}

uint8_t vpci_status(const struct vpci_dev *d)
{
	return rd8(d->common + CC_STATUS);
}

void vpci_set_status(const struct vpci_dev *d, uint8_t status)
{
	wr8(d->common + CC_STATUS, status);
}

void vpci_reset(const struct vpci_dev *d)
{
	vpci_set_status(d, 0);
	for (unsigned i = 0; i < 1000000 && vpci_status(d); i++)
		cpu_relax();
}

uint64_t vpci_device_features(const struct vpci_dev *d)
{
	uint64_t f;

	mmio_write32(d->common + CC_DFSELECT, 0);
	f = mmio_read32(d->common + CC_DF);
	mmio_write32(d->common + CC_DFSELECT, 1);
	f |= (uint64_t)mmio_read32(d->common + CC_DF) << 32;
	return f;
}

int vpci_negotiate(struct vpci_dev *d, uint64_t wanted, uint64_t required)
{
	uint64_t offered;
	uint8_t st;

	/* s3.1.1 steps 1-3 */
	vpci_reset(d);
	vpci_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	vpci_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	/* step 4: a subset of what the device offers */
	offered = vpci_device_features(d);
	if ((offered & required) != required) {
		vpci_set_status(d, vpci_status(d) | VIRTIO_STATUS_FAILED);
		return -EOPNOTSUPP;
	}
	d->features = offered & (wanted | required);
	mmio_write32(d->common + CC_GFSELECT, 0);
	mmio_write32(d->common + CC_GF, (uint32_t)d->features);
	mmio_write32(d->common + CC_GFSELECT, 1);
	mmio_write32(d->common + CC_GF, (uint32_t)(d->features >> 32));
	/* steps 5-6: FEATURES_OK must read back set */
	vpci_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK);
	st = vpci_status(d);
	if (!(st & VIRTIO_STATUS_FEATURES_OK)) {
		vpci_set_status(d, st | VIRTIO_STATUS_FAILED);
		return -EOPNOTSUPP;
	}
	return 0;
}

int vpci_msix_enable(struct vpci_dev *d, unsigned nvec, uint8_t idt_base)
{
	uint32_t ctl, tbl;
	uint64_t table;

	if (!d->msix_cap)
		return -ENODEV;
	ctl = vpci_cfg_read32(d->slot, d->msix_cap);
	tbl = vpci_cfg_read32(d->slot, d->msix_cap + 4);
	if (nvec > ((ctl >> 16) & 0x7ff) + 1u || (tbl & 7) > 5 || !d->bar[tbl & 7])
		return -EINVAL;
	table = d->bar[tbl & 7] + (tbl & ~7u);
	/* PCI Local Bus 3.0 s6.8.2: address, upper address, data, vector control (bit 0 = mask) */
	for (unsigned v = 0; v < nvec; v++) {
		mmio_write32(table + 16 * v + 0, 0xFEE00000u);
		mmio_write32(table + 16 * v + 4, 0);
		mmio_write32(table + 16 * v + 8, (uint32_t)idt_base + v);
		mmio_write32(table + 16 * v + 12, 0);
	}
	vpci_cfg_write32(d->slot, d->msix_cap, ctl | (1u << 31)); /* MSI-X Enable */
	return 0;
}

int vpci_queue_setup(struct vpci_dev *d, struct vpq *q, uint16_t index, uint16_t max_size,
		     void *mem)
{
	return vpci_queue_setup_msix(d, q, index, max_size, mem, NO_VECTOR);
}

int vpci_queue_setup_msix(struct vpci_dev *d, struct vpq *q, uint16_t index, uint16_t max_size,
			  void *mem, uint16_t vector)
{
	uint64_t base = (uint64_t)mem;
	uint16_t size;

	if (!max_size || max_size > VPQ_MAX_SIZE || (max_size & (max_size - 1)) || (base & 4095))
		return -EINVAL;
	wr16(d->common + CC_Q_SELECT, index);
	size = rd16(d->common + CC_Q_SIZE);
	if (!size)
		return -ENODEV;
	/* s4.1.4.3.2: the driver may reduce the size; split rings need a power of two. */
	while (size > max_size || (size & (size - 1)))
		size >>= 1;
	uint64_t driver = base + 4096, device = base + 8192;

	memset(mem, 0, VPQ_RING_MEM);
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->size = size;
	if (d->features & (1ull << VIRTIO_F_RING_PACKED)) {
		/* s2.8: descriptor ring, driver event area (4-byte aligned), device event area. */
		q->packed = true;
		q->pdesc = (volatile struct vring_packed_desc *)base;
		q->drv_event = (volatile struct vring_packed_event *)(base + 4096);
		q->dev_event = (volatile struct vring_packed_event *)(base + 4096 + 4);
		q->pk_flags = (uint16_t *)(base + 4096 + 64);
		q->pk_buf = (struct vring_desc *)(base + 8192);
		q->pk_wrap = q->pk_used_wrap = true; /* s2.8.1 */
		/* Polling: ask the device not to interrupt (s2.8.10). */
		q->drv_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
		driver = base + 4096;
		device = base + 4096 + 4;
	} else {
		q->desc = (volatile struct vring_desc *)base;
		q->avail = (volatile struct vring_avail *)(base + 4096);
		q->used = (volatile struct vring_used *)(base + 8192);
		/* Polling: ask the device not to interrupt (s2.7.7). */
		q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	}
	q->notify_addr = d->notify_base + (uint64_t)rd16(d->common + CC_Q_NOFF) * d->notify_mult;
	q->event_idx = d->features & (1ull << VIRTIO_RING_F_EVENT_IDX);

	wr16(d->common + CC_Q_SIZE, size);
	wr16(d->common + CC_Q_MSIX, vector);
	if (rd16(d->common + CC_Q_MSIX) != vector)
		return -EIO;
	mmio_write32(d->common + CC_Q_DESC, (uint32_t)base);
	mmio_write32(d->common + CC_Q_DESC + 4, (uint32_t)(base >> 32));
	mmio_write32(d->common + CC_Q_AVAIL, (uint32_t)driver);
	mmio_write32(d->common + CC_Q_AVAIL + 4, (uint32_t)(driver >> 32));
	mmio_write32(d->common + CC_Q_USED, (uint32_t)device);
	mmio_write32(d->common + CC_Q_USED + 4, (uint32_t)(device >> 32));
	wr16(d->common + CC_Q_ENABLE, 1);
	return rd16(d->common + CC_Q_ENABLE) == 1 ? 0 : -EINVAL;
}

void vpci_driver_ok(const struct vpci_dev *d)
{
	wr16(d->common + CC_MSIX, NO_VECTOR);
	vpci_set_status(d, vpci_status(d) | VIRTIO_STATUS_DRIVER_OK);
}

void vpci_config_read(const struct vpci_dev *d, unsigned off, void *buf, unsigned len)
{
	uint8_t *p = buf;
	uint8_t gen;

	do {
		gen = rd8(d->common + CC_CFGGEN);
		for (unsigned i = 0; i < len; i++)
			p[i] = (off + i < d->device_len) ? rd8(d->device + off + i) : 0;
	} while (gen != rd8(d->common + CC_CFGGEN));
}

/* s2.7.10: used_event is the last avail ring entry, avail_event the last used ring entry. */
static inline volatile uint16_t *used_event(struct vpq *q)
{
	return &q->avail->ring[q->size];
}

static inline volatile uint16_t *avail_event(struct vpq *q)
{
	return (volatile uint16_t *)&q->used->ring[q->size];
}

uint16_t vpci_config_read16(const struct vpci_dev *d, unsigned off)
{
	uint16_t v;
	uint8_t gen;

	if (off + 2 > d->device_len)
		return 0;
	do {
		gen = rd8(d->common + CC_CFGGEN);
		v = rd16(d->device + off);
	} while (gen != rd8(d->common + CC_CFGGEN));
	return v;
}

uint32_t vpci_config_read32(const struct vpci_dev *d, unsigned off)
{
	uint32_t v;
	uint8_t gen;

	if (off + 4 > d->device_len)
		return 0;
	do {
		gen = rd8(d->common + CC_CFGGEN);
		v = mmio_read32(d->device + off);
	} while (gen != rd8(d->common + CC_CFGGEN));
	return v;
}

/* ---- packed ring (s2.8) ---- */

void vpq_add_packed(struct vpq *q, uint16_t head)
{
	volatile struct vring_packed_desc *d = &q->pdesc[q->pk_next];
	const struct vring_desc *b = &q->pk_buf[head < q->size ? head : 0];

	/* s2.8.6/s2.8.21: everything but the flags now; the flags make it available at publish. */
	d->addr = b->addr;
	d->len = b->len;
	d->id = head;
	q->pk_flags[q->pk_next] =
		(uint16_t)((b->flags & VRING_DESC_F_WRITE) |
			   (q->pk_wrap ? VRING_PACKED_DESC_F_AVAIL : VRING_PACKED_DESC_F_USED));
	if (++q->pk_next == q->size) {
		q->pk_next = 0;
		q->pk_wrap = !q->pk_wrap;
	}
	q->kick_pending++;
}

/* Write the flags of the pending slots, the first one last, so the device sees them at once. */
static void vpq_publish_packed(struct vpq *q)
{
	uint16_t first = (uint16_t)((q->pk_next + q->size - q->kick_pending % q->size) % q->size);

	if (!q->kick_pending)
		return;
	barrier(); /* descriptor contents before the flags (s2.8.21) */
	for (uint16_t k = 1; k < q->kick_pending; k++) {
		uint16_t s = (uint16_t)((first + k) % q->size);

		q->pdesc[s].flags = q->pk_flags[s];
	}
	barrier();
	q->pdesc[first].flags = q->pk_flags[first];
	q->kick_pending = 0;
}

void vpq_publish(struct vpq *q)
{
	uint16_t old = (uint16_t)(q->avail_idx - q->kick_pending);
	bool kick;

	if (q->packed) {
		if (!q->kick_pending)
			return;
		vpq_publish_packed(q);
		/* s2.8.10: the device's flags after the descriptors are visible; in DESC mode
		 * (event index) we just kick, which is always allowed. */
		mb();
		if (q->dev_event->flags == VRING_PACKED_EVENT_FLAG_DISABLE) {
			q->kicks_skipped++;
			return;
		}
		vpq_kick(q);
		return;
	}
	if (!q->kick_pending)
		return;
	/* s2.7.13: ring entries before the index (x86 keeps stores in order; stop the compiler). */
	barrier();
	q->avail->idx = q->avail_idx;
	q->kick_pending = 0;
	/* s2.7.10: the device's suppression state must be read after the index is visible. */
	mb();
	if (q->event_idx) {
		/* notify when the device's avail_event lies in [old, new) (s2.7.10.1
		 * vring_need_event) */
		uint16_t ev = *avail_event(q);

		kick = (uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old);
	} else {
		kick = !(q->used->flags & VRING_USED_F_NO_NOTIFY);
	}
	if (!kick) {
		q->kicks_skipped++;
		return;
	}
	vpq_kick(q);
}

void vpq_publish_quiet(struct vpq *q)
{
	if (q->packed) {
		vpq_publish_packed(q);
		return;
	}
	barrier();
	q->avail->idx = q->avail_idx;
	q->kick_pending = 0;
}

void vpq_kick(struct vpq *q)
{
	/* Without VIRTIO_F_NOTIFICATION_DATA the notification is the queue index (s4.1.5.2). */
	wr16(q->notify_addr, q->index);
	q->kicks++;
}

/* Is the slot at the driver's used position marked used in the current pass (s2.8.7)? */
static bool vpq_packed_used(struct vpq *q)
{
	uint16_t f = q->pdesc[q->pk_used].flags;

	return !!(f & VRING_PACKED_DESC_F_AVAIL) == q->pk_used_wrap &&
	       !!(f & VRING_PACKED_DESC_F_USED) == q->pk_used_wrap;
}

bool vpq_irq_arm(struct vpq *q, uint16_t n)
{
	if (q->packed) {
		/* s2.8.10: ENABLE asks for an interrupt per used buffer; @n is a hint we skip. */
		q->drv_event->flags = VRING_PACKED_EVENT_FLAG_ENABLE;
		mb();
		return !vpq_packed_used(q);
	}
	if (q->event_idx)
		*used_event(q) = (uint16_t)(q->used_seen + (n ? n : 1) - 1);
	else
		q->avail->flags = 0;
	mb();
	return q->used->idx == q->used_seen;
}

void vpq_irq_disarm(struct vpq *q)
{
	if (q->packed) {
		q->drv_event->flags = VRING_PACKED_EVENT_FLAG_DISABLE;
		return;
	}
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
}

bool vpq_get_used(struct vpq *q, uint16_t *id, uint32_t *len)
{
	while (q->packed) {
		uint16_t i;

		if (!vpq_packed_used(q))
			return false;
		barrier(); /* s2.8.7: id and length only after the flags */
		i = q->pdesc[q->pk_used].id;
		*len = q->pdesc[q->pk_used].len;
		/* Every buffer of ours is one descriptor: the next used one is in the next slot. */
		if (++q->pk_used == q->size) {
			q->pk_used = 0;
			q->pk_used_wrap = !q->pk_used_wrap;
		}
		q->used_seen++;
		if (i >= q->size) {
			q->bad_used++;
			continue;
		}
		*id = i;
		return true;
	}
	for (;;) {
		uint16_t slot;
		uint32_t i;

		if (q->used->idx == q->used_seen)
			return false;
		/* s2.7.14: read the entry only after seeing the index (loads stay ordered on x86).
		 */
		barrier();
		slot = q->used_seen & (q->size - 1);
		i = q->used->ring[slot].id;
		*len = q->used->ring[slot].len;
		q->used_seen++;
		if (i >= q->size) {
			q->bad_used++;
			continue;
		}
		*id = (uint16_t)i;
		return true;
	}
}
