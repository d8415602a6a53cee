/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Client side of the JSON-lines control sockets of nfv-switch and nfv-vmm: connect, send one
 * request line, read one response line. The peer is trusted no further than its socket: the
 * response is capped at CTL_RESPONSE_MAX bytes and the whole exchange at @timeout_ms.
 */
#ifndef NFV_MGMT_CTLSOCK_H
#define NFV_MGMT_CTLSOCK_H

#include "json.h"

#define CTL_RESPONSE_MAX (4 * 1024 * 1024)

/*
 * Send @request (one JSON object, without the newline) to the UNIX socket at @path and return the
 * response line (without the newline) in *@response (free()). 0 or -errno: -ENOENT/-ECONNREFUSED
 * when nobody listens, -ETIMEDOUT, -EMSGSIZE for an oversized response, -EPROTO when the peer
 * closed without a complete line.
 */
int ctl_call(const char *path, const char *request, int timeout_ms, char **response)
	__attribute__((warn_unused_result));

/*
 * ctl_call + JSON parse + "ok" check. On success *@out holds the parsed response (json_free()).
 * When the peer answers {"ok":false,"error":...} returns -EREMOTEIO and copies the peer's error
 * into @err (size @errlen); other failures put a description there too.
 */
int ctl_call_json(const char *path, const char *request, int timeout_ms, struct json **out,
		  char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
