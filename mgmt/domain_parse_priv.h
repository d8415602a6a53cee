/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Internal to the domain XML parser (domain_parse*.c): the parse context and the helpers that read
 * elements and attributes. Every helper marks what it reads through the node's _private pointer;
 * domain_parse.c reports whatever stays unmarked as unsupported. Value errors go to dx_perr().
 */
#ifndef NFV_MGMT_DOMAIN_PARSE_PRIV_H
#define NFV_MGMT_DOMAIN_PARSE_PRIV_H

#include "domain_priv.h"

#include <libxml/parser.h>
#include <libxml/tree.h>

/* _private markers */
#define MARK_USED ((void *)1)	 /* element/attribute consumed */
#define MARK_TEXT ((void *)2)	 /* element consumed together with its text content */
#define MARK_OPAQUE ((void *)3)	 /* element kept verbatim (metadata): its subtree is not checked */
#define MARK_DROPPED ((void *)4) /* dropped under DOMAIN_PARSE_DROP_UNSUPPORTED */

/* One parse. */
struct pctx {
	const char *src;
	unsigned flags;
	struct domain_def *def;
	struct strbuf errs;
	unsigned n_errs;
	struct strbuf unsup;
	unsigned n_unsup;
	bool oom;
};

#define for_each_elem(c, parent)                                                                   \
	for (xmlNode *c = xmlFirstElementChild(parent); c; c = xmlNextElementSibling(c))

unsigned dx_line_of(const xmlNode *n);
const char *dx_ename(const xmlNode *n);
/* Record "src:line: <element>: message" (one line of the final error). */
void dx_perr(struct pctx *p, const xmlNode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* strdup that records allocation failure in @p (NULL in, NULL out). */
char *dx_xstrdup(struct pctx *p, const char *s);
/* Element without namespace named @name. */
bool dx_is_elem(const xmlNode *n, const char *name);
/* The only child element @name of @parent (marked used), or NULL; a second one is an error. */
xmlNode *dx_child(struct pctx *p, xmlNode *parent, const char *name);
/* Attribute value (marked used), or NULL when absent. */
const char *dx_attr(struct pctx *p, xmlNode *n, const char *name);
/* Element text (heap), surrounding whitespace removed when @trim; marks the text as consumed. */
char *dx_text(struct pctx *p, xmlNode *n, bool trim);
/* Enum attribute: the value, @dflt when absent, or @dflt after reporting an unsupported value. */
int dx_attr_enum(struct pctx *p, xmlNode *n, const char *name, const struct domain_enum_table *t,
		 int dflt);
/* Whole-string unsigned integer (decimal, 0x hex) up to @max: 0, -EINVAL or -ERANGE. */
int dx_str_uint(const char *v, uint64_t max, uint64_t *out);
/* Unsigned attribute in [min, max]; false when absent or bad (bad is reported). */
bool dx_attr_uint(struct pctx *p, xmlNode *n, const char *name, uint64_t min, uint64_t max,
		  uint64_t *out);
/* libvirt scaled integer (unit b, KiB, KB, ... EiB; default KiB) to KiB rounded up. */
int dx_scale_to_kib(const char *num, const char *unit, uint64_t *kib);
/* <memory unit=...>N</memory>-style element; false after reporting an error. */
bool dx_parse_scaled_elem(struct pctx *p, xmlNode *n, uint64_t *kib);
/* libvirt cpuset syntax ("0-3,^2,8") into @out, normalised: 0, -EINVAL, -ERANGE, -ENOENT. */
int dx_cpuset_parse(const char *s, struct domain_cpuset *out, bool *oom);
void dx_attr_cpuset(struct pctx *p, xmlNode *n, const char *name, struct domain_cpuset *out,
		    bool required);
/* A node set attribute (cpuset syntax), normalised heap string or NULL. */
char *dx_attr_nodeset(struct pctx *p, xmlNode *n, const char *name);
int dx_uuid_parse(const char *s, uint8_t out[16]);
int dx_random_bytes(uint8_t *buf, size_t n);
int dx_mac_parse(const char *s, uint8_t mac[6]);
/* <address type='pci' domain bus slot function multifunction/>; type optional inside <source>. */
void dx_parse_pci_addr(struct pctx *p, xmlNode *n, struct domain_pci_addr *a, bool in_source);
/* Append one zeroed element to a device array (at most DOMAIN_MAX_DEVICES); NULL when full/OOM. */
void *dx_grow(struct pctx *p, void *arr, size_t n, size_t elem);

/* domain_parse_dev.c */
void dx_parse_devices(struct pctx *p, xmlNode *root);
/* Desktop devices: refused, or dropped (and reported) with DOMAIN_PARSE_DROP_UNSUPPORTED. */
bool dx_is_desktop_device(xmlNode *n);
/* "<name type='..' model='..'>" for messages. */
void dx_describe_elem(xmlNode *n, struct strbuf *sb);

#endif
