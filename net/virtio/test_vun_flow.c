// SPDX-License-Identifier: GPL-2.0-only
/* Frames between two vhost-user netdevs, for tests (see test_vun_flow.h). */
#include "test_vun_flow.h"

#include <string.h>
#include <unistd.h>

#include "log.h"

int vun_flow_rx(void *opaque, const void *frame, size_t len)
{
	struct vun_flow *fl = opaque;
	const uint8_t *f = frame;

	if (len >= 60 && !memcmp(f, fl->dst, 6) && !memcmp(f + 6, fl->src, 6))
		fl->ok++;
	else
		fl->other++;
	return 0;
}

unsigned vun_flow_send(struct vun *from, struct vun *to, struct vun_flow *fl, unsigned n,
		       unsigned window, int timeout_ms)
{
	uint8_t frame[64] = { 0 };
	uint64_t end = clock_ms() + (uint64_t)timeout_ms, base = fl->ok;
	unsigned sent = 0;

	memcpy(frame, fl->dst, 6);
	memcpy(frame + 6, fl->src, 6);
	frame[12] = 0x88;
	frame[13] = 0xb5; /* local experimental ethertype */
	while (sent < n && clock_ms() < end) {
		vun_poll_rx(to, vun_flow_rx, fl, 256);
		if ((int64_t)sent - (int64_t)(fl->ok - base) >= (int64_t)window) {
			usleep(50);
			continue;
		}
		memcpy(frame + 14, &sent, sizeof(sent));
		if (vun_send(from, frame, sizeof(frame)) == 0)
			sent++;
	}
	while (fl->ok - base < sent && clock_ms() < end)
		if (!vun_poll_rx(to, vun_flow_rx, fl, 256))
			usleep(100);
	return (unsigned)(fl->ok - base);
}
