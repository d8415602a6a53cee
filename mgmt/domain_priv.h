/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal to the domain XML library: enum tables shared by the parser and the formatter. */
#ifndef NFV_MGMT_DOMAIN_PRIV_H
#define NFV_MGMT_DOMAIN_PRIV_H

#include "domain.h"
#include "strbuf.h"

/*
 * One table per enum: index = enum value, entry = the libvirt XML spelling. A NULL entry is a value
 * with no XML spelling (the "absent" default), so lookups never return it.
 */
struct domain_enum_table {
	const char *const *names;
	int count;
};

#define DOMAIN_ENUM_TABLE(var, ...)                                                                \
	static const char *const var##_names[] = {__VA_ARGS__};                                    \
	const struct domain_enum_table var = {var##_names,                                         \
					      (int)(sizeof(var##_names) / sizeof(var##_names[0]))}

extern const struct domain_enum_table domain_virt_type_tab, domain_lifecycle_tab,
	domain_placement_tab, domain_mem_source_tab, domain_mem_access_tab,
	domain_numatune_mode_tab, domain_cpu_mode_tab, domain_clock_offset_tab, domain_yesno_tab,
	domain_onoff_tab, domain_feature_tab, domain_net_type_tab, domain_net_model_tab,
	domain_vhost_mode_tab, domain_vlan_native_tab, domain_disk_type_tab, domain_disk_cache_tab,
	domain_disk_io_tab, domain_chr_type_tab, domain_chr_unix_mode_tab, domain_chr_target_tab;

/* Value for @s, or -1 when @s is not in the table. */
int domain_enum_from_string(const struct domain_enum_table *t, const char *s);
/* Spelling of @v, or NULL (out of range or no spelling). */
const char *domain_enum_to_string(const struct domain_enum_table *t, int v);
/* "one, two, three": the accepted spellings, for error messages. */
void domain_enum_list(const struct domain_enum_table *t, struct strbuf *sb);

/* Names double as file names in the state directory: [A-Za-z0-9_.+-], no leading '.' or '-'. */
bool domain_name_valid(const char *name);

/*
 * Cross-field checks shared by the parser and domain_def_validate(). Appends one line per problem
 * to @errs, prefixed with "@src:LINE: " when the device has a line number. Returns the count.
 */
unsigned domain_check(const struct domain_def *def, const char *src, struct strbuf *errs);

#endif
