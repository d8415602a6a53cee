// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz the domain XML parser and formatter: whatever parses must format, and the formatted XML
 * must parse again to the same XML (the parse/format pair is symmetric).
 */
#include "domain.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct domain_def *def = NULL, *def2 = NULL;
	char *err = NULL, *xml = NULL, *xml2 = NULL;
	unsigned flags = size && (data[0] & 1) ? DOMAIN_PARSE_DROP_UNSUPPORTED : 0;

	if (domain_parse_string((const char *)data, size, "fuzz", flags, &def, &err) == 0) {
		if (domain_format(def, &xml) == 0) {
			if (domain_parse_string(xml, strlen(xml), "fuzz-reformat", 0, &def2, NULL))
				abort(); /* formatter produced something the parser refuses */
			if (domain_format(def2, &xml2) || strcmp(xml, xml2))
				abort(); /* not symmetric */
		}
	}
	free(err);
	free(xml);
	free(xml2);
	domain_def_free(def);
	domain_def_free(def2);
	return 0;
}
