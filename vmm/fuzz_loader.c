// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the ELF64 and flat loaders on arbitrary images against a small guest RAM. */
#include <stdint.h>
#include <stdlib.h>

#include "gmem.h"
#include "loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct gmem gm;
	struct loader_result res;
	char err[256];

	if (!ram) {
		ram = calloc(1, 4 << 20);
		if (!ram || gmem_add_region(&gm, 0, 4 << 20, ram, -1, 0))
			abort();
	}
	/* Success or a named error are both fine; the loaders must not touch memory outside gm. */
	if (loader_elf64(&gm, data, size, 1 << 20, &res, err, sizeof(err)) == 0 &&
	    (res.entry < res.lowest || res.entry >= res.highest))
		abort();
	if (loader_flat(&gm, data, size, 0x7c00, &res, err, sizeof(err)) == 0 && res.entry != 0x7c00)
		abort();
	return 0;
}
