// SPDX-License-Identifier: GPL-2.0-only
/* Polled virtio-blk driver for test guests (see vblk_drv.h); virtio 1.2 s5.2. */
#include "vblk_drv.h"

#include "guest.h"

/* Device configuration offsets (s5.2.4). */
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20

int vblk_init(struct vblk *b, unsigned nth)
{
	uint64_t wanted = 1ull << VIRTIO_F_VERSION_1 | 1ull << VBLK_F_SEG_MAX | 1ull << VBLK_F_RO |
			  1ull << VBLK_F_BLK_SIZE | 1ull << VBLK_F_FLUSH;
	int ret;

	memset(b->hdr, 0, sizeof(b->hdr));
	memset(b->busy, 0, sizeof(b->busy));
	memset(&b->st, 0, sizeof(b->st));
	b->nbusy = 0;
	ret = vpci_probe(&b->pci, VIRTIO_PCI_DEVICE_BLK, nth);
	if (ret)
		return ret;
	ret = vpci_negotiate(&b->pci, wanted, 1ull << VIRTIO_F_VERSION_1);
	if (ret)
		return ret;
	vpci_config_read(&b->pci, CFG_CAPACITY, &b->capacity, sizeof(b->capacity));
	b->seg_max = 0;
	if (b->pci.features & 1ull << VBLK_F_SEG_MAX)
		vpci_config_read(&b->pci, CFG_SEG_MAX, &b->seg_max, sizeof(b->seg_max));
	b->blk_size = VBLK_SECTOR;
	if (b->pci.features & 1ull << VBLK_F_BLK_SIZE)
		vpci_config_read(&b->pci, CFG_BLK_SIZE, &b->blk_size, sizeof(b->blk_size));
	b->readonly = b->pci.features & 1ull << VBLK_F_RO;
	b->has_flush = b->pci.features & 1ull << VBLK_F_FLUSH;
	if (!b->timeout_tsc)
		b->timeout_tsc = 1ull << 35;
	ret = vpci_queue_setup(&b->pci, &b->q, 0, VBLK_QSIZE, b->ring);
	if (ret) {
		vpci_set_status(&b->pci, vpci_status(&b->pci) | VIRTIO_STATUS_FAILED);
		return ret;
	}
	if (b->q.size < 3) {
		vpci_set_status(&b->pci, vpci_status(&b->pci) | VIRTIO_STATUS_FAILED);
		return -VBLK_EINVAL;
	}
	vpci_driver_ok(&b->pci);
	return 0;
}

/* Slots whose descriptors exist in a queue the device may have made smaller than VBLK_QSIZE. */
static unsigned slots(const struct vblk *b)
{
	unsigned n = b->q.size / 3u;

	return n < VBLK_MAX_INFLIGHT ? n : VBLK_MAX_INFLIGHT;
}

int vblk_submit(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	uint16_t d;
	int tag = -1;

	switch (type) {
	case VBLK_T_IN:
	case VBLK_T_OUT:
		if (!buf || !len || len % VBLK_SECTOR)
			return -VBLK_EINVAL;
		break;
	case VBLK_T_FLUSH:
		if (buf || len)
			return -VBLK_EINVAL;
		/* s5.2.6.2: no FLUSH unless VIRTIO_BLK_F_FLUSH was negotiated. */
		if (!b->has_flush)
			return -VBLK_EOPNOTSUPP;
		break;
	case VBLK_T_GET_ID:
		if (!buf || !len || len > VBLK_ID_BYTES)
			return -VBLK_EINVAL;
		break;
	default:
		return -VBLK_EINVAL;
	}
	for (unsigned i = 0; i < slots(b); i++) {
		if (!b->busy[i]) {
			tag = (int)i;
			break;
		}
	}
	if (tag < 0)
		return -VBLK_EAGAIN;
	b->busy[tag] = true;
	b->nbusy++;
	b->hdr[tag].type = type;
	b->hdr[tag].reserved = 0;
	b->hdr[tag].sector = sector;
	b->status[tag] = 0xff; /* the device overwrites it */

	/* s5.2.6: header (readable), data, status (writable), chained. */
	d = (uint16_t)(3 * tag);
	vpq_set_desc(&b->q, d, (uint64_t)&b->hdr[tag], sizeof(b->hdr[tag]), VRING_DESC_F_NEXT);
	if (type == VBLK_T_FLUSH) {
		b->q.desc[d].next = (uint16_t)(d + 2);
	} else {
		b->q.desc[d].next = (uint16_t)(d + 1);
		vpq_set_desc(&b->q, (uint16_t)(d + 1), (uint64_t)buf, len,
			     (uint16_t)(VRING_DESC_F_NEXT |
					(type == VBLK_T_OUT ? 0 : VRING_DESC_F_WRITE)));
		b->q.desc[d + 1].next = (uint16_t)(d + 2);
	}
	vpq_set_desc(&b->q, (uint16_t)(d + 2), (uint64_t)&b->status[tag], 1, VRING_DESC_F_WRITE);
	vpq_add(&b->q, d);
	return tag;
}

void vblk_kick(struct vblk *b)
{
	vpq_publish(&b->q);
}

bool vblk_complete(struct vblk *b, int *tag, uint8_t *status)
{
	uint16_t id;
	uint32_t len;

	while (vpq_get_used(&b->q, &id, &len)) {
		unsigned t = id / 3u;

		/* Only a head we queued, and only once: a device is not trusted to be right. */
		if (id % 3u || t >= slots(b) || !b->busy[t]) {
			b->st.bad_used++;
			continue;
		}
		b->busy[t] = false;
		b->nbusy--;
		*tag = (int)t;
		*status = b->status[t];
		if (*status != VBLK_S_OK) {
			b->st.errors++;
		} else {
			uint32_t dlen = (uint32_t)b->q.desc[id + 1].len;

			switch (b->hdr[t].type) {
			case VBLK_T_IN:
				b->st.reads++;
				b->st.bytes_read += dlen;
				break;
			case VBLK_T_OUT:
				b->st.writes++;
				b->st.bytes_written += dlen;
				break;
			case VBLK_T_FLUSH:
				b->st.flushes++;
				break;
			default:
				b->st.get_ids++;
				break;
			}
		}
		return true;
	}
	return false;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int vblk_rw(struct vblk *b, uint32_t type, uint64_t sector, void *buf, uint32_t len)
{
	int tag = vblk_submit(b, type, sector, buf, len), done;
	uint64_t t0 = rdtsc();
	uint8_t status;

	if (tag < 0)
		return tag;
	vblk_kick(b);
	while (rdtsc() - t0 < b->timeout_tsc) {
		if (vblk_complete(b, &done, &status)) {
			if (done != tag)
				continue; /* not ours: the caller had others outstanding */
			if (status == VBLK_S_OK)
				return 0;
			return status == VBLK_S_UNSUPP ? -VBLK_EOPNOTSUPP : -VBLK_EIO;
		}
		cpu_relax();
	}
	return -VBLK_ETIMEDOUT;
}

int vblk_get_id(struct vblk *b, char id[VBLK_ID_BYTES + 1])
{
	int ret;

	memset(id, 0, VBLK_ID_BYTES + 1);
	ret = vblk_rw(b, VBLK_T_GET_ID, 0, id, VBLK_ID_BYTES);
	id[VBLK_ID_BYTES] = '\0'; /* s5.2.6: not terminated when the serial fills all 20 bytes */
	return ret;
}
