// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the vhost-user reply parser: input byte 0 picks the request we are waiting on, byte 1 the
 * ring index or config size asked for, byte 2 the number of fds that "came with" the reply; the rest is the reply as the
 * backend sent it. Every result must be a clean 0 or -errno, and a parsed reply must be consistent
 * with what was asked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vhost_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user_msg out;
	uint32_t req, ring;
	unsigned nfds;
	int ret;

	if (size < 3)
		return 0;
	req = data[0] % (VHOST_USER_REQUEST_MAX + 2);
	ring = data[1];
	nfds = data[2] & 0x3;
	ret = vhost_user_reply_parse(req, ring, data + 3, size - 3, nfds, &out);
	if (ret == 0 || ret == -EIO) {
		/* Accepted replies must match the request and their declared size exactly. */
		if (out.request != req || VHOST_USER_HDR_SIZE + (size_t)out.size != size - 3 ||
		    out.size > VHOST_USER_PAYLOAD_MAX || nfds)
			abort();
		if (req == VHOST_USER_GET_VRING_BASE &&
		    (out.payload.state.index != ring || out.payload.state.num > UINT16_MAX))
			abort();
		if (req == VHOST_USER_GET_CONFIG &&
		    (out.size != 12 + ring || out.payload.config.size != ring))
			abort();
	} else if (ret != -EBADMSG && ret != -EPROTO && ret != -EMSGSIZE && ret != -EINVAL &&
		   ret != -ERANGE) {
		abort();
	}
	return 0;
}
