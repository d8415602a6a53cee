// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the parsers of what nfvd reads back from or hands to OVS: the statistics map that
 * `ovs-vsctl get Interface P statistics` prints, and --network specifications. Either succeeds or
 * refuses; a success must be reproducible (the parser keeps no state).
 */
#include "ovs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ovs_port_stats a, b;
	struct ovs_network net;
	char err[128], *spec;
	int r1 = ovs_stats_parse((const char *)data, size, &a);
	int r2 = ovs_stats_parse((const char *)data, size, &b);

	if (r1 != r2 || (r1 == 0 && memcmp(&a, &b, sizeof(a))))
		abort();
	spec = malloc(size + 1);
	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (ovs_network_parse(spec, &net, err, sizeof(err)) == 0 &&
	    (!ovs_name_ok(net.name) || (net.ovs && !ovs_name_ok(net.target.bridge))))
		abort();
	free(spec);
	return 0;
}
