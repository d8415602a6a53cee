// SPDX-License-Identifier: GPL-2.0-only
/* Fuzz target: the instruction-fallback decoder on arbitrary bytes (guest memory at a faulting RIP). */
#include <stdint.h>
#include <stdlib.h>

#include "emulate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum emu_insn k;
	unsigned len;

	for (int lm = 0; lm < 2; lm++) {
		if (emu_decode(data, size > 15 ? 15 : size, lm, &k, &len) == 0 && (len == 0 || len > 15 || len > size || k >= EMU__MAX))
			abort();
	}
	return 0;
}
