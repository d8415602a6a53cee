// SPDX-License-Identifier: GPL-2.0-only
/* Freestanding polled virtio-net driver (see virtio_net_drv.h). */
#include "virtio_net_drv.h"

#include "guest.h"

#define EAGAIN 11
#define EINVAL 22

#define RXQ 0 /* receiveq1 (s5.1.2) */
#define TXQ 1 /* transmitq1 */

static void rx_give(struct vnet *n, uint16_t id)
{
	vpq_set_desc(&n->rxq, id, (uint64_t)n->rx_buf[id], VNET_BUF_SIZE, VRING_DESC_F_WRITE);
	vpq_add(&n->rxq, id);
}

int vnet_init(struct vnet *n, unsigned nth, unsigned opts)
{
	uint64_t want = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS);
	uint64_t need = 1ull << VIRTIO_F_VERSION_1;
	int ret;

	memset(&n->pci, 0, sizeof(n->pci));
	memset(&n->st, 0, sizeof(n->st));
	memset(n->mac, 0, sizeof(n->mac));
	n->rx_skip = 0;
	ret = vpci_probe(&n->pci, VIRTIO_PCI_DEVICE_NET, nth);
	if (ret)
		return ret;
	if (opts & VNET_OPT_MRG_RXBUF)
		want |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (opts & VNET_OPT_IRQ)
		want |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (opts & VNET_OPT_PACKED)
		need |= 1ull << VIRTIO_F_RING_PACKED;
	ret = vpci_negotiate(&n->pci, want | need, need);
	if (ret)
		return ret;
	if (opts & VNET_OPT_IRQ)
		ret = vpci_msix_enable(&n->pci, 2, GUEST_IRQ_BASE);
	if (!ret)
		ret = vpci_queue_setup_msix(&n->pci, &n->rxq, RXQ, VNET_QSIZE, n->rx_ring,
					    (opts & VNET_OPT_IRQ) ? 0 : VIRTIO_MSI_NO_VECTOR);
	if (!ret)
		ret = vpci_queue_setup_msix(&n->pci, &n->txq, TXQ, VNET_QSIZE, n->tx_ring,
					    (opts & VNET_OPT_IRQ) ? 1 : VIRTIO_MSI_NO_VECTOR);
	if (ret) {
		vpci_set_status(&n->pci, vpci_status(&n->pci) | VIRTIO_STATUS_FAILED);
		return ret;
	}
	if (n->pci.features & (1ull << VIRTIO_NET_F_MAC))
		vpci_config_read(&n->pci, 0, n->mac, 6);
	/* s5.1.6.3.1: fill the receive queue so frames have somewhere to go as soon as the device
	 * is live; no notification before DRIVER_OK (s3.1.1), one after. */
	for (uint16_t i = 0; i < n->rxq.size; i++)
		rx_give(n, i);
	vpq_publish_quiet(&n->rxq);
	n->tx_nfree = 0;
	for (uint16_t i = n->txq.size; i-- > 0;) {
		memset(n->tx_buf[i], 0, VNET_HDR_LEN); /* no offloads: an all-zero header */
		n->tx_free[n->tx_nfree++] = i;
	}
	vpci_driver_ok(&n->pci);
	vpq_kick(&n->rxq);
	return 0;
}

bool vnet_link_up(struct vnet *n)
{
	if (!(n->pci.features & (1ull << VIRTIO_NET_F_STATUS)))
		return true;
	/* s5.1.4: le16 status at offset 6 */
	return vpci_config_read16(&n->pci, 6) & VIRTIO_NET_S_LINK_UP;
}

uint8_t vnet_dev_status(struct vnet *n)
{
	return vpci_status(&n->pci);
}

unsigned vnet_tx_reclaim(struct vnet *n)
{
	unsigned got = 0;
	uint16_t id;
	uint32_t len;

	while (vpq_get_used(&n->txq, &id, &len)) {
		if (n->tx_nfree >= n->txq.size) { /* a descriptor returned twice */
			n->txq.bad_used++;
			continue;
		}
		n->tx_free[n->tx_nfree++] = id;
		got++;
	}
	return got;
}

uint8_t *vnet_tx_buf(struct vnet *n)
{
	if (!n->tx_nfree && !vnet_tx_reclaim(n))
		return NULL;
	return n->tx_buf[n->tx_free[n->tx_nfree - 1]] + VNET_HDR_LEN;
}

void vnet_tx_commit(struct vnet *n, uint32_t len)
{
	uint16_t id = n->tx_free[--n->tx_nfree];

	/* s5.1.6.2: header and frame in one device-readable descriptor (VERSION_1 implies any
	 * layout) */
	vpq_set_desc(&n->txq, id, (uint64_t)n->tx_buf[id], VNET_HDR_LEN + len, 0);
	vpq_add(&n->txq, id);
	n->st.tx_frames++;
	n->st.tx_bytes += len;
}

int vnet_send(struct vnet *n, const void *frame, uint32_t len)
{
	uint8_t *b;

	if (len < 14 || len > VNET_MAX_FRAME)
		return -EINVAL;
	b = vnet_tx_buf(n);
	if (!b) {
		n->st.tx_full++;
		return -EAGAIN;
	}
	memcpy(b, frame, len);
	vnet_tx_commit(n, len);
	return 0;
}

bool vnet_rx_arm(struct vnet *n)
{
	return vpq_irq_arm(&n->rxq, 1);
}

bool vnet_tx_arm(struct vnet *n)
{
	uint16_t in_flight = (uint16_t)(n->txq.size - n->tx_nfree);

	return vpq_irq_arm(&n->txq, (uint16_t)(in_flight * 3 / 4));
}

void vnet_rx_disarm(struct vnet *n)
{
	vpq_irq_disarm(&n->rxq);
}

void vnet_tx_disarm(struct vnet *n)
{
	vpq_irq_disarm(&n->txq);
}

void vnet_flush(struct vnet *n)
{
	vpq_publish(&n->txq);
}

unsigned vnet_rx_burst(struct vnet *n, unsigned max,
		       void (*cb)(void *opaque, const uint8_t *frame, uint32_t len), void *opaque)
{
	unsigned got = 0;
	uint16_t id;
	uint32_t len;

	while (got < max && vpq_get_used(&n->rxq, &id, &len)) {
		const uint8_t *b = n->rx_buf[id];
		uint16_t nbufs = (uint16_t)(b[10] | b[11] << 8); /* num_buffers (s5.1.6) */

		if (n->rx_skip) {
			n->rx_skip--;
		} else if (len < VNET_HDR_LEN + 14 || len > VNET_BUF_SIZE) {
			n->st.rx_bad++;
		} else if ((n->pci.features & (1ull << VIRTIO_NET_F_MRG_RXBUF)) && nbufs > 1) {
			n->st.rx_multi++;
			n->rx_skip = (uint16_t)(nbufs - 1);
		} else {
			n->st.rx_frames++;
			n->st.rx_bytes += len - VNET_HDR_LEN;
			cb(opaque, b + VNET_HDR_LEN, len - VNET_HDR_LEN);
			got++;
		}
		rx_give(n, id);
	}
	vpq_publish(&n->rxq);
	return got;
}
