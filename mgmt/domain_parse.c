// SPDX-License-Identifier: GPL-2.0-only
/*
 * Domain XML parser (libvirt's formatdomain subset, see domain.h).
 *
 * Every element and attribute the parser reads is marked through its libxml2 _private pointer.
 * After the walk, anything left unmarked is something libvirt's schema allows but nfvisor does
 * not implement: all of those are listed in one error with their line numbers, so a user fixes a
 * file in one pass. Value errors are collected the same way (file:line: <element>: message).
 *
 * The XML is untrusted: no network (XML_PARSE_NONET), no entity substitution (no XML_PARSE_NOENT),
 * no DTD loading, documents with a DOCTYPE are refused, and the size is capped at DOMAIN_XML_MAX.
 */
#include "domain_parse_priv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- top-level sections ---- */

static void parse_memory(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *m = dx_child(p, root, "memory"), *c = dx_child(p, root, "currentMemory");

	if (!m) {
		dx_perr(p, root, "missing <memory>");
		def->memory_kib = 1;
	} else if (dx_parse_scaled_elem(p, m, &def->memory_kib) && def->memory_kib == 0) {
		dx_perr(p, m, "memory size must be greater than zero");
	}
	if (c && dx_parse_scaled_elem(p, c, &def->current_memory_kib) &&
	    def->current_memory_kib == 0)
		dx_perr(p, c, "currentMemory size must be greater than zero");
	if (!def->memory_kib)
		def->memory_kib = 1; /* reported above */
	/* libvirt clamps a missing or too large currentMemory to memory */
	if (!def->current_memory_kib || def->current_memory_kib > def->memory_kib)
		def->current_memory_kib = def->memory_kib;
}

static void parse_memory_backing(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *mb = dx_child(p, root, "memoryBacking"), *n;

	if (!mb)
		return;
	if ((n = dx_child(p, mb, "hugepages"))) {
		def->hugepages = true;
		for_each_elem(pg, n)
		{
			struct domain_hugepage *h;
			const char *size, *unit;

			if (!dx_is_elem(pg, "page"))
				continue;
			pg->_private = MARK_USED;
			if (def->n_hugepage_sizes >= DOMAIN_MAX_HUGEPAGE_SIZES) {
				dx_perr(p, pg, "too many <page> sizes (at most %d)",
					DOMAIN_MAX_HUGEPAGE_SIZES);
				continue;
			}
			h = &def->hugepage_sizes[def->n_hugepage_sizes++];
			size = dx_attr(p, pg, "size");
			unit = dx_attr(p, pg, "unit");
			if (!size) {
				dx_perr(p, pg, "missing attribute 'size'");
				h->size_kib = 2048;
			} else if (dx_scale_to_kib(size, unit, &h->size_kib) < 0) {
				dx_perr(p, pg, "invalid page size '%s' unit '%s'", size,
					unit ? unit : "KiB");
				h->size_kib = 2048;
			} else if (!h->size_kib || (h->size_kib & (h->size_kib - 1)) ||
				   h->size_kib < 4) {
				dx_perr(p, pg,
					"page size '%s' %s is not a power of two of at least 4 KiB",
					size, unit ? unit : "KiB");
				h->size_kib = 2048;
			}
			h->nodeset = dx_attr_nodeset(p, pg, "nodeset");
			for (size_t i = 0; i + 1 < def->n_hugepage_sizes; i++)
				if (def->hugepage_sizes[i].size_kib == h->size_kib)
					dx_perr(p, pg, "duplicate hugepage size %llu KiB",
						(unsigned long long)h->size_kib);
		}
	}
	if (dx_child(p, mb, "locked"))
		def->mem_locked = true;
	if ((n = dx_child(p, mb, "source"))) {
		def->mem_source = dx_attr_enum(p, n, "type", &domain_mem_source_tab, 0);
		if (!dx_attr(p, n, "type"))
			dx_perr(p, n, "missing attribute 'type'");
	}
	if ((n = dx_child(p, mb, "access"))) {
		def->mem_access = dx_attr_enum(p, n, "mode", &domain_mem_access_tab, 0);
		if (!dx_attr(p, n, "mode"))
			dx_perr(p, n, "missing attribute 'mode'");
	}
	if (def->hugepages && def->mem_source == DOMAIN_MEM_SOURCE_ANONYMOUS &&
	    def->mem_access == DOMAIN_MEM_ACCESS_SHARED)
		dx_perr(p, mb,
			"shared anonymous memory cannot be backed by hugepages here; "
			"use <source type='memfd'/>");
}

static void parse_vcpu(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *v = dx_child(p, root, "vcpu"), *ct;
	uint64_t x;

	def->vcpus = 1;
	if (v) {
		char *t = dx_text(p, v, true);

		if (t && (dx_str_uint(t, UINT32_MAX, &x) < 0 || x == 0 || x > DOMAIN_MAX_VCPUS))
			dx_perr(p, v, "invalid vcpu count '%s' (expected 1..%d)", t,
				DOMAIN_MAX_VCPUS);
		else if (t)
			def->vcpus = (unsigned)x;
		free(t);
		def->vcpu_placement = dx_attr_enum(p, v, "placement", &domain_placement_tab, 0);
		dx_attr_cpuset(p, v, "cpuset", &def->vcpu_cpuset, false);
		if (dx_attr_uint(p, v, "current", 1, DOMAIN_MAX_VCPUS, &x) && x != def->vcpus)
			dx_perr(p, v,
				"current='%llu' differs from the vcpu count: vCPU hotplug is not "
				"supported",
				(unsigned long long)x);
	}
	ct = dx_child(p, root, "cputune");
	if (!ct)
		return;
	for_each_elem(c, ct)
	{
		if (dx_is_elem(c, "vcpupin")) {
			struct domain_cpuset tmp = {0};

			c->_private = MARK_USED;
			if (!dx_attr_uint(p, c, "vcpu", 0, UINT32_MAX, &x)) {
				if (!dx_attr(p, c, "vcpu"))
					dx_perr(p, c, "missing attribute 'vcpu'");
				dx_attr_cpuset(p, c, "cpuset", &tmp, true);
				free(tmp.str);
				continue;
			}
			dx_attr_cpuset(p, c, "cpuset", &tmp, true);
			if (x >= def->vcpus) {
				dx_perr(p, c, "vcpu '%llu' is out of range of the vcpu count %u",
					(unsigned long long)x, def->vcpus);
				free(tmp.str);
			} else if (def->vcpupin[x].str) {
				dx_perr(p, c, "duplicate vcpupin for vcpu '%llu'",
					(unsigned long long)x);
				free(tmp.str);
			} else {
				def->vcpupin[x] = tmp;
			}
		}
	}
	if ((v = dx_child(p, ct, "emulatorpin")))
		dx_attr_cpuset(p, v, "cpuset", &def->emulatorpin, true);
}

static void parse_numatune(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *nt = dx_child(p, root, "numatune"), *m;

	if (!nt || !(m = dx_child(p, nt, "memory")))
		return;
	def->numa_mode = dx_attr_enum(p, m, "mode", &domain_numatune_mode_tab, 0);
	def->numa_placement = dx_attr_enum(p, m, "placement", &domain_placement_tab, 0);
	def->numa_nodeset = dx_attr_nodeset(p, m, "nodeset");
	if (!def->numa_nodeset && def->numa_placement != DOMAIN_PLACEMENT_AUTO)
		dx_perr(p, m, "nodeset is required unless placement='auto'");
	if (def->numa_nodeset && def->numa_placement == DOMAIN_PLACEMENT_AUTO)
		dx_perr(p, m, "nodeset cannot be combined with placement='auto'");
}

static void parse_os(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *os = dx_child(p, root, "os"), *n;

	if (!os) {
		dx_perr(p, root, "missing <os>");
		return;
	}
	n = dx_child(p, os, "type");
	if (!n) {
		dx_perr(p, os, "missing <type>hvm</type>");
	} else {
		char *t = dx_text(p, n, true);
		const char *arch = dx_attr(p, n, "arch");

		if (t && strcmp(t, "hvm"))
			dx_perr(p, n, "unsupported OS type '%s' (supported: 'hvm')", t);
		free(t);
		if (arch && strcmp(arch, "x86_64") && strcmp(arch, "i686"))
			dx_perr(p, n, "unsupported arch '%s' (supported: 'x86_64', 'i686')", arch);
		def->os_arch = dx_xstrdup(p, arch);
		def->os_machine = dx_xstrdup(p, dx_attr(p, n, "machine"));
	}
	if ((n = dx_child(p, os, "kernel")))
		def->os_kernel = dx_text(p, n, true);
	if ((n = dx_child(p, os, "initrd")))
		def->os_initrd = dx_text(p, n, true);
	if ((n = dx_child(p, os, "cmdline")))
		def->os_cmdline = dx_text(p, n, true);
	for_each_elem(b, os)
	{
		const char *dev;

		if (!dx_is_elem(b, "boot"))
			continue;
		b->_private = MARK_USED;
		dev = dx_attr(p, b, "dev");
		if (!dev || (strcmp(dev, "hd") && strcmp(dev, "network") && strcmp(dev, "cdrom") &&
			     strcmp(dev, "fd"))) {
			dx_perr(p, b, "invalid boot dev '%s' (expected hd, network, cdrom, fd)",
				dev ? dev : "");
			continue;
		}
		if (def->n_boot_devs >= ARRAY_SIZE(def->boot_devs)) {
			dx_perr(p, b, "too many <boot> elements");
			continue;
		}
		def->boot_devs[def->n_boot_devs++] = dx_xstrdup(p, dev);
	}
	if ((def->os_initrd || def->os_cmdline) && !def->os_kernel)
		dx_perr(p, os, "<initrd> and <cmdline> need a <kernel>");
}

static void parse_features(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *f = dx_child(p, root, "features"), *n;

	if (!f)
		return;
	for (int i = 0; i < DOMAIN_FEATURE__COUNT; i++)
		if (dx_child(p, f, domain_feature_tab.names[i]))
			def->features |= 1u << i;
	if ((n = dx_child(p, f, "pmu")))
		def->feature_pmu =
			dx_attr_enum(p, n, "state", &domain_onoff_tab, DOMAIN_TRISTATE_YES);
	if ((n = dx_child(p, f, "vmport")))
		def->feature_vmport =
			dx_attr_enum(p, n, "state", &domain_onoff_tab, DOMAIN_TRISTATE_YES);
}

static void parse_cpu(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *c = dx_child(p, root, "cpu"), *t;
	uint64_t v;

	if (!c)
		return;
	def->cpu_mode = dx_attr_enum(p, c, "mode", &domain_cpu_mode_tab, 0);
	if ((t = dx_child(p, c, "topology"))) {
		if (dx_attr_uint(p, t, "sockets", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_sockets = (unsigned)v;
		if (dx_attr_uint(p, t, "dies", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_dies = (unsigned)v;
		if (dx_attr_uint(p, t, "cores", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_cores = (unsigned)v;
		if (dx_attr_uint(p, t, "threads", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_threads = (unsigned)v;
	}
}

static void parse_clock(struct pctx *p, xmlNode *root)
{
	static const char *const timers[] = {"rtc", "pit", "hpet", "kvmclock", "tsc"};
	static const char *const policies[] = {"delay", "catchup", "merge", "discard"};
	struct domain_def *def = p->def;
	xmlNode *c = dx_child(p, root, "clock");

	if (!c)
		return;
	def->clock_offset =
		dx_attr_enum(p, c, "offset", &domain_clock_offset_tab, DOMAIN_CLOCK_UTC);
	for_each_elem(t, c)
	{
		const char *name, *pol;
		bool ok = false;

		if (!dx_is_elem(t, "timer"))
			continue;
		t->_private = MARK_USED;
		name = dx_attr(p, t, "name");
		for (size_t i = 0; name && i < ARRAY_SIZE(timers); i++)
			ok |= !strcmp(name, timers[i]);
		if (!ok) {
			dx_perr(p, t,
				"unsupported timer name '%s' (supported: rtc, pit, hpet, "
				"kvmclock, tsc)",
				name ? name : "");
			continue;
		}
		pol = dx_attr(p, t, "tickpolicy");
		ok = !pol;
		for (size_t i = 0; pol && i < ARRAY_SIZE(policies); i++)
			ok |= !strcmp(pol, policies[i]);
		if (!ok) {
			dx_perr(p, t, "unsupported tickpolicy '%s'", pol);
			continue;
		}
		if (def->n_timers >= ARRAY_SIZE(def->timers)) {
			dx_perr(p, t, "too many timers");
			continue;
		}
		def->timers[def->n_timers].name = dx_xstrdup(p, name);
		def->timers[def->n_timers].tickpolicy = dx_xstrdup(p, pol);
		def->timers[def->n_timers].present =
			dx_attr_enum(p, t, "present", &domain_yesno_tab, 0);
		def->n_timers++;
	}
}

static void parse_lifecycle(struct pctx *p, xmlNode *root, const char *name,
			    enum domain_lifecycle_action *out, enum domain_lifecycle_action dflt)
{
	xmlNode *n = dx_child(p, root, name);
	char *t;
	int v;

	*out = dflt;
	if (!n)
		return;
	t = dx_text(p, n, true);
	if (!t)
		return;
	v = domain_enum_from_string(&domain_lifecycle_tab, t);
	if (v < 0)
		dx_perr(p, n, "unsupported action '%s' (supported: 'destroy', 'restart')", t);
	else
		*out = v;
	free(t);
}

static void parse_pm(struct pctx *p, xmlNode *root)
{
	xmlNode *pm = dx_child(p, root, "pm"), *n;

	if (!pm)
		return;
	if ((n = dx_child(p, pm, "suspend-to-mem"))) {
		p->def->pm_suspend_to_mem = dx_attr_enum(p, n, "enabled", &domain_yesno_tab, 0);
		if (p->def->pm_suspend_to_mem == DOMAIN_TRISTATE_YES)
			dx_perr(p, n, "guest suspend is not supported (use enabled='no')");
	}
	if ((n = dx_child(p, pm, "suspend-to-disk"))) {
		p->def->pm_suspend_to_disk = dx_attr_enum(p, n, "enabled", &domain_yesno_tab, 0);
		if (p->def->pm_suspend_to_disk == DOMAIN_TRISTATE_YES)
			dx_perr(p, n, "guest suspend is not supported (use enabled='no')");
	}
}

/* <metadata>: kept verbatim (each child serialised) so formatting gives it back. */
static void parse_metadata(struct pctx *p, xmlNode *root)
{
	xmlNode *m = dx_child(p, root, "metadata");
	xmlBuffer *buf;

	if (!m)
		return;
	m->_private = MARK_OPAQUE;
	if (!xmlFirstElementChild(m))
		return;
	buf = xmlBufferCreate();
	if (!buf) {
		p->oom = true;
		return;
	}
	/* children at the formatter's indentation: the first line of each gets it from here */
	for_each_elem(c, m)
	{
		/* a standalone copy declares the namespaces it borrowed from <domain> itself */
		xmlDoc *tmp = xmlNewDoc(BAD_CAST "1.0");
		xmlNode *copy = tmp ? xmlDocCopyNode(c, tmp, 1) : NULL;

		if (!copy) {
			xmlFreeDoc(tmp);
			p->oom = true;
			break;
		}
		xmlDocSetRootElement(tmp, copy);
		xmlReconciliateNs(tmp, copy);
		if (c != xmlFirstElementChild(m))
			xmlBufferAdd(buf, BAD_CAST "\n    ", 5);
		xmlNodeDump(buf, tmp, copy, 2, 1);
		xmlFreeDoc(tmp);
	}
	p->def->metadata_xml = dx_xstrdup(p, (const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
}

/* ---- unsupported-construct report ---- */

static bool only_space(const xmlChar *s)
{
	for (; s && *s; s++)
		if (!isspace(*s))
			return false;
	return true;
}

static void report_unsupported(struct pctx *p, xmlNode *n)
{
	if (n->_private == MARK_OPAQUE || n->_private == MARK_DROPPED)
		return;
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (a->_private)
			continue;
		sb_printf(&p->unsup, "  line %u: attribute '%s%s%s' of <%s>\n", dx_line_of(n),
			  a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
			  a->ns && a->ns->prefix ? ":" : "", (const char *)a->name, dx_ename(n));
		p->n_unsup++;
	}
	for (xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (n->_private != MARK_TEXT && !only_space(c->content)) {
				sb_printf(&p->unsup, "  line %u: text content in <%s>\n",
					  dx_line_of(n), dx_ename(n));
				p->n_unsup++;
			}
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions */
		if (!c->_private) {
			sb_printf(&p->unsup, "  line %u: element ", dx_line_of(c));
			dx_describe_elem(c, &p->unsup);
			if (dx_is_desktop_device(c) && dx_is_elem(n, "devices"))
				sb_append(&p->unsup, " (desktop device: can be dropped with "
						     "--drop-unsupported)");
			sb_append(&p->unsup, "\n");
			p->n_unsup++;
			continue;
		}
		report_unsupported(p, c);
	}
}

/* ---- entry points ---- */

static void parse_root(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *n;
	int vt;

	root->_private = MARK_USED;
	vt = dx_attr_enum(p, root, "type", &domain_virt_type_tab, -1);
	if (vt < 0 && !dx_attr(p, root, "type"))
		dx_perr(p, root, "missing attribute 'type' (expected 'kvm')");
	def->virt_type = DOMAIN_VIRT_KVM;

	if ((n = dx_child(p, root, "name"))) {
		def->name = dx_text(p, n, true);
		if (def->name && !domain_name_valid(def->name)) {
			dx_perr(p, n,
				"invalid name '%s' (1..%d characters of [A-Za-z0-9_.+-], not "
				"starting with '.' or '-')",
				def->name, DOMAIN_NAME_MAX);
			free(def->name);
			def->name = dx_xstrdup(p, "invalid");
		}
	} else {
		dx_perr(p, root, "missing <name>");
		def->name = dx_xstrdup(p, "invalid");
	}
	if ((n = dx_child(p, root, "uuid"))) {
		char *u = dx_text(p, n, true);

		if (u && dx_uuid_parse(u, def->uuid) < 0)
			dx_perr(p, n, "malformed uuid element '%s'", u);
		free(u);
	} else {
		def->uuid_generated = true;
		if (dx_random_bytes(def->uuid, 16) < 0) {
			dx_perr(p, root, "cannot generate a UUID");
		} else {
			/* RFC 4122 s4.4: version 4, variant 10 */
			def->uuid[6] = (uint8_t)((def->uuid[6] & 0x0f) | 0x40);
			def->uuid[8] = (uint8_t)((def->uuid[8] & 0x3f) | 0x80);
		}
	}
	if ((n = dx_child(p, root, "title"))) {
		def->title = dx_text(p, n, true);
		if (def->title && strchr(def->title, '\n'))
			dx_perr(p, n, "title must not contain newlines");
	}
	if ((n = dx_child(p, root, "description")))
		def->description = dx_text(p, n, false);
	parse_metadata(p, root);
	parse_memory(p, root);
	parse_memory_backing(p, root);
	parse_vcpu(p, root);
	parse_numatune(p, root);
	parse_os(p, root);
	parse_features(p, root);
	parse_cpu(p, root);
	parse_clock(p, root);
	parse_lifecycle(p, root, "on_poweroff", &def->on_poweroff, DOMAIN_LIFECYCLE_DESTROY);
	parse_lifecycle(p, root, "on_reboot", &def->on_reboot, DOMAIN_LIFECYCLE_RESTART);
	parse_lifecycle(p, root, "on_crash", &def->on_crash, DOMAIN_LIFECYCLE_DESTROY);
	parse_pm(p, root);
	dx_parse_devices(p, root);
}

static char *finish_msg(struct pctx *p, const char *extra)
{
	struct strbuf sb = STRBUF_INIT;

	if (extra)
		sb_printf(&sb, "%s\n", extra);
	if (p->errs.len)
		sb_append(&sb, sb_str(&p->errs));
	if (p->n_unsup) {
		sb_printf(&sb,
			  "%s: unsupported configuration: %u element(s)/attribute(s) that nfvisor "
			  "does not implement:\n",
			  p->src, p->n_unsup);
		sb_append(&sb, sb_str(&p->unsup));
	}
	if (sb.len && sb.buf[sb.len - 1] == '\n')
		sb.buf[--sb.len] = '\0';
	return sb_steal(&sb);
}

/* libxml2 reports some errors (encoding) through its generic handler; ours come from ctxt. */
static void xml_silent(void *ctx __unused, const char *msg __unused, ...)
{
}

/* The first well-formedness error is the one to fix; libxml2 only keeps the last one. */
struct first_error {
	bool set;
	int line;
	char msg[256];
};

static void xml_first_error(void *user, xmlErrorPtr e)
{
	xmlParserCtxt *ctxt = user;
	struct first_error *fe = ctxt ? ctxt->_private : NULL;
	size_t n;

	if (!fe || fe->set || !e || e->level < XML_ERR_ERROR)
		return;
	fe->set = true;
	fe->line = e->line;
	snprintf(fe->msg, sizeof(fe->msg), "%s", e->message ? e->message : "parse error");
	n = strlen(fe->msg);
	while (n && (fe->msg[n - 1] == '\n' || fe->msg[n - 1] == ' '))
		fe->msg[--n] = '\0';
}

int domain_parse_string(const char *xml, size_t len, const char *source_name, unsigned flags,
			struct domain_def **out, char **errmsg)
{
	struct pctx p = {.src = source_name ? source_name : "domain", .flags = flags};
	struct first_error first = {0};
	xmlParserCtxt *ctxt = NULL;
	xmlDoc *doc = NULL;
	xmlNode *root;
	int ret = -EINVAL;

	if (errmsg)
		*errmsg = NULL;
	if (len > DOMAIN_XML_MAX) {
		if (errmsg && asprintf(errmsg, "%s: document is larger than %d bytes", p.src,
				       DOMAIN_XML_MAX) < 0)
			*errmsg = NULL;
		return -EFBIG;
	}
	xmlInitParser();
	/* per-thread libxml2 state: keeps hostile documents from writing to our stderr */
	xmlSetGenericErrorFunc(NULL, xml_silent);
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	ctxt->_private = &first;
	ctxt->sax->serror = xml_first_error;
	/* No XML_PARSE_NOENT (no entity substitution), no DTD loading/validation, no network. */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, p.src, NULL,
				XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING | XML_PARSE_BIG_LINES |
					XML_PARSE_NOCDATA);
	/* namespace errors (an undeclared prefix) leave a document libxml2 still returns */
	if (!doc || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		char *m = NULL;

		if (first.set) {
			if (asprintf(&m, "%s:%d: malformed XML: %s", p.src, first.line, first.msg) <
			    0)
				m = NULL;
		} else if (asprintf(&m, "%s:%d: malformed XML: %s", p.src, e ? e->line : 0,
				    e && e->message ? e->message : "parse error") < 0) {
			m = NULL;
		}
		if (m) {
			size_t l = strlen(m);

			while (l && (m[l - 1] == '\n' || m[l - 1] == ' '))
				m[--l] = '\0';
		}
		if (errmsg)
			*errmsg = m;
		else
			free(m);
		xmlFreeDoc(doc);
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	if (doc->intSubset || doc->extSubset) {
		if (errmsg &&
		    asprintf(errmsg, "%s: DOCTYPE declarations are not allowed in domain XML",
			     p.src) < 0)
			*errmsg = NULL;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !dx_is_elem(root, "domain")) {
		if (errmsg &&
		    asprintf(errmsg, "%s:%u: expected root element <domain>, found <%s>", p.src,
			     root ? dx_line_of(root) : 0, root ? dx_ename(root) : "") < 0)
			*errmsg = NULL;
		goto out;
	}
	p.def = calloc(1, sizeof(*p.def));
	if (!p.def) {
		ret = -ENOMEM;
		goto out;
	}
	parse_root(&p, root);
	report_unsupported(&p, root);
	if (!p.n_errs && !p.n_unsup && !p.oom)
		p.n_errs += domain_check(p.def, p.src, &p.errs);
	if (p.oom || sb_error(&p.errs) || sb_error(&p.unsup)) {
		ret = -ENOMEM;
	} else if (p.n_errs || p.n_unsup) {
		if (errmsg)
			*errmsg = finish_msg(&p, NULL);
		ret = -EINVAL;
	} else {
		*out = p.def;
		p.def = NULL;
		ret = 0;
	}
out:
	domain_def_free(p.def);
	sb_reset(&p.errs);
	sb_reset(&p.unsup);
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return ret;
}

int domain_parse_file(const char *path, unsigned flags, struct domain_def **out, char **errmsg)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char *buf;
	size_t got = 0;
	int r;

	if (errmsg)
		*errmsg = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		r = -errno;
		if (errmsg && asprintf(errmsg, "%s: cannot open: %s", path, strerror(-r)) < 0)
			*errmsg = NULL;
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > DOMAIN_XML_MAX) {
		if (errmsg && asprintf(errmsg, "%s: not a regular file of at most %d bytes", path,
				       DOMAIN_XML_MAX) < 0)
			*errmsg = NULL;
		return S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	/* Read at most the cap even if the file grows meanwhile. */
	while (got <= (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			free(buf);
			if (errmsg && asprintf(errmsg, "%s: read: %s", path, strerror(-r)) < 0)
				*errmsg = NULL;
			return r;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		free(buf);
		if (errmsg && asprintf(errmsg, "%s: file changed while reading", path) < 0)
			*errmsg = NULL;
		return -EAGAIN;
	}
	r = domain_parse_string(buf, got, path, flags, out, errmsg);
	free(buf);
	return r;
}
