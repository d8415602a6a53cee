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
#include "domain_priv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* _private markers */
#define MARK_USED ((void *)1)	 /* element/attribute consumed */
#define MARK_TEXT ((void *)2)	 /* element consumed together with its text content */
#define MARK_OPAQUE ((void *)3) /* element kept verbatim (metadata): its subtree is not checked */
#define MARK_DROPPED ((void *)4) /* dropped under DOMAIN_PARSE_DROP_UNSUPPORTED */

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

static unsigned line_of(const xmlNode *n)
{
	long l = xmlGetLineNo(n);

	return l > 0 ? (unsigned)l : 0;
}

static const char *ename(const xmlNode *n)
{
	return (const char *)n->name;
}

__attribute__((format(printf, 3, 4))) static void perr(struct pctx *p, const xmlNode *n,
							const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&p->errs, "%s:%u: <%s>: %s\n", p->src, line_of(n), ename(n), msg);
	p->n_errs++;
}

static char *xstrdup(struct pctx *p, const char *s)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		p->oom = true;
	return r;
}

static bool is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp(ename(n), name);
}

#define for_each_elem(c, parent)                                                                   \
	for (xmlNode *c = xmlFirstElementChild(parent); c; c = xmlNextElementSibling(c))

/* The only child element @name of @parent (marked used), or NULL. A second one is an error. */
static xmlNode *child(struct pctx *p, xmlNode *parent, const char *name)
{
	xmlNode *found = NULL;

	for_each_elem(c, parent) {
		if (!is_elem(c, name))
			continue;
		if (found) {
			perr(p, c, "element appears more than once in <%s>", ename(parent));
			c->_private = MARK_USED;
			continue;
		}
		found = c;
		if (!c->_private)
			c->_private = MARK_USED;
	}
	return found;
}

/* Attribute value (marked used) or NULL when absent. */
static const char *attr(struct pctx *p, xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || strcmp((const char *)a->name, name))
			continue;
		a->_private = MARK_USED;
		if (!a->children)
			return "";
		if (a->children->type != XML_TEXT_NODE || a->children->next) {
			perr(p, n, "attribute '%s' contains an entity reference", name);
			return NULL;
		}
		return (const char *)a->children->content;
	}
	return NULL;
}

/* Element text with surrounding whitespace removed; heap string or NULL (error reported). */
static char *text(struct pctx *p, xmlNode *n, bool trim)
{
	xmlChar *c = xmlNodeGetContent(n);
	char *s, *e, *r;

	n->_private = MARK_TEXT;
	if (!c) {
		p->oom = true;
		return NULL;
	}
	s = (char *)c;
	if (trim) {
		while (*s && isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		*e = '\0';
	}
	r = xstrdup(p, s);
	xmlFree(c);
	return r;
}

/* Enum attribute: returns the value, @dflt when absent, or @dflt after reporting a bad value. */
static int attr_enum(struct pctx *p, xmlNode *n, const char *name,
		     const struct domain_enum_table *t, int dflt)
{
	const char *v = attr(p, n, name);
	int r;

	if (!v)
		return dflt;
	r = domain_enum_from_string(t, v);
	if (r < 0) {
		struct strbuf sb = STRBUF_INIT;

		domain_enum_list(t, &sb);
		perr(p, n, "unsupported value '%s' for attribute '%s' (supported: %s)", v, name,
		     sb_str(&sb));
		sb_reset(&sb);
		return dflt;
	}
	return r;
}

static int str_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t x;
	int r;

	if (!v || !*v || isspace((unsigned char)*v))
		return -EINVAL;
	r = parse_u64(v, &x);
	if (r < 0)
		return r;
	if (x > max)
		return -ERANGE;
	*out = x;
	return 0;
}

/* Unsigned attribute in [min, max]; returns false when absent or bad (bad is reported). */
static bool attr_uint(struct pctx *p, xmlNode *n, const char *name, uint64_t min, uint64_t max,
		      uint64_t *out)
{
	const char *v = attr(p, n, name);
	uint64_t x;

	if (!v)
		return false;
	if (str_uint(v, UINT64_MAX, &x) < 0 || x < min || x > max) {
		perr(p, n, "invalid value '%s' for attribute '%s' (expected an integer %llu..%llu)",
		     v, name, (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = x;
	return true;
}

/*
 * Scaled integer as libvirt's virScaleInteger: unit "b"/"bytes", "k"/"KiB" (1024), "KB" (1000),
 * ... up to "E"/"EiB"/"EB"; default KiB. Result rounded up to KiB.
 */
static int scale_to_kib(const char *num, const char *unit, uint64_t *kib)
{
	static const char prefixes[] = "kmgtpe";
	uint64_t v, mult = 1, bytes;
	const char *pos;

	if (str_uint(num, UINT64_MAX, &v) < 0 || !isdigit((unsigned char)num[0]))
		return -EINVAL;
	if (!unit || !*unit) {
		mult = 1024;
	} else if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") ||
		   !strcasecmp(unit, "bytes")) {
		mult = 1;
	} else if ((pos = strchr(prefixes, tolower((unsigned char)unit[0])))) {
		unsigned base, power = (unsigned)(pos - prefixes) + 1;

		if (unit[1] == '\0' || !strcasecmp(unit + 1, "iB"))
			base = 1024;
		else if (!strcasecmp(unit + 1, "B"))
			base = 1000;
		else
			return -EINVAL;
		for (unsigned i = 0; i < power; i++)
			mult *= base;
	} else {
		return -EINVAL;
	}
	if (__builtin_mul_overflow(v, mult, &bytes))
		return -ERANGE;
	/* libvirt caps sizes at LLONG_MAX bytes */
	if (bytes > (uint64_t)INT64_MAX)
		return -ERANGE;
	*kib = bytes / 1024 + (bytes % 1024 ? 1 : 0);
	return 0;
}

static bool parse_scaled_elem(struct pctx *p, xmlNode *n, uint64_t *kib)
{
	const char *unit = attr(p, n, "unit");
	char *t = text(p, n, true);
	int r;

	if (!t)
		return false;
	r = scale_to_kib(t, unit, kib);
	if (r == -ERANGE)
		perr(p, n, "value '%s'%s%s is too large", t, unit ? " " : "", unit ? unit : "");
	else if (r < 0 && unit && scale_to_kib("1", unit, kib) < 0)
		perr(p, n, "unknown unit '%s' (expected b, KiB, MiB, GiB, TiB, KB, MB, GB...)", unit);
	else if (r < 0)
		perr(p, n, "invalid size '%s' (expected a non-negative integer)", t);
	free(t);
	return r == 0;
}

/* libvirt cpuset syntax: "0-3,^2,8"; normalised back to ranges. */
static int cpuset_parse(const char *s, struct domain_cpuset *out, bool *oom)
{
	uint64_t *m = out->mask;
	struct strbuf sb = STRBUF_INIT;
	bool any = false;

	memset(m, 0, sizeof(out->mask));
	if (!s)
		return -EINVAL;
	while (*s) {
		bool neg = false;
		unsigned long a, b;
		char *end;

		while (isspace((unsigned char)*s))
			s++;
		if (*s == '^') {
			neg = true;
			s++;
		}
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		errno = 0;
		a = strtoul(s, &end, 10);
		b = a;
		if (*end == '-' && !neg) {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtoul(end + 1, &end, 10);
		}
		if (errno || a > b || b >= DOMAIN_MAX_CPUS)
			return -ERANGE;
		for (unsigned long c = a; c <= b; c++) {
			if (neg)
				m[c / 64] &= ~(1ull << (c % 64));
			else
				m[c / 64] |= 1ull << (c % 64);
		}
		while (isspace((unsigned char)*end))
			end++;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	for (unsigned c = 0; c < DOMAIN_MAX_CPUS;) {
		unsigned e;

		if (!(m[c / 64] & (1ull << (c % 64)))) {
			c++;
			continue;
		}
		for (e = c; e + 1 < DOMAIN_MAX_CPUS && (m[(e + 1) / 64] & (1ull << ((e + 1) % 64)));)
			e++;
		if (e == c)
			sb_printf(&sb, "%s%u", any ? "," : "", c);
		else
			sb_printf(&sb, "%s%u-%u", any ? "," : "", c, e);
		any = true;
		c = e + 1;
	}
	if (!any) {
		sb_reset(&sb);
		return -ENOENT;
	}
	free(out->str);
	out->str = sb_steal(&sb);
	if (!out->str) {
		*oom = true;
		return -ENOMEM;
	}
	return 0;
}

static void attr_cpuset(struct pctx *p, xmlNode *n, const char *name, struct domain_cpuset *out,
			bool required)
{
	const char *v = attr(p, n, name);
	int r;

	if (!v) {
		if (required)
			perr(p, n, "missing attribute '%s'", name);
		return;
	}
	r = cpuset_parse(v, out, &p->oom);
	if (r == -ENOENT)
		perr(p, n, "%s '%s' selects no CPU", name, v);
	else if (r == -ERANGE)
		perr(p, n, "%s '%s' is out of range (CPUs 0..%d)", name, v, DOMAIN_MAX_CPUS - 1);
	else if (r < 0 && r != -ENOMEM)
		perr(p, n, "invalid %s '%s' (expected a CPU list such as '0-3,^2,6')", name, v);
}

/* A NUMA node set uses the cpuset syntax; kept as the normalised string. */
static char *attr_nodeset(struct pctx *p, xmlNode *n, const char *name)
{
	struct domain_cpuset tmp = { 0 };
	const char *v = attr(p, n, name);
	int r;

	if (!v)
		return NULL;
	r = cpuset_parse(v, &tmp, &p->oom);
	if (r < 0 && r != -ENOMEM)
		perr(p, n, "invalid %s '%s' (expected a node list such as '0-1')", name, v);
	return tmp.str;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* libvirt's virUUIDParse: 32 hex digits, dashes allowed between byte pairs, edges trimmed. */
static int uuid_parse(const char *s, uint8_t out[16])
{
	size_t i = 0;
	bool all_same = true;

	while (*s && i < 16) {
		int hi, lo;

		if (*s == '-') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	if (i != 16 || *s)
		return -EINVAL;
	/* virUUIDIsValid: a UUID with all bytes equal is a placeholder, not an identity */
	for (i = 1; i < 16; i++)
		if (out[i] != out[0])
			all_same = false;
	return all_same ? -EINVAL : 0;
}

static int random_bytes(uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	return 0;
}

static int mac_parse(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[0]), lo;

		if (hi < 0)
			return -EINVAL;
		/* libvirt accepts single-digit octets ("0:1:2:3:4:5") */
		lo = hexval(s[1]);
		if (lo >= 0) {
			mac[i] = (uint8_t)(hi << 4 | lo);
			s += 2;
		} else {
			mac[i] = (uint8_t)hi;
			s += 1;
		}
		if (i < 5) {
			if (*s != ':')
				return -EINVAL;
			s++;
		}
	}
	return *s ? -EINVAL : 0;
}

/* <address type='pci' domain bus slot function multifunction/> */
static void parse_pci_addr(struct pctx *p, xmlNode *n, struct domain_pci_addr *a, bool in_source)
{
	const char *type = attr(p, n, "type");
	uint64_t v;

	a->set = true;
	/* inside <hostdev><source> the type is implied */
	if ((!type && !in_source) || (type && strcmp(type, "pci"))) {
		perr(p, n, "unsupported address type '%s' (supported: 'pci')", type ? type : "");
		return;
	}
	if (attr_uint(p, n, "domain", 0, 0xffff, &v))
		a->domain = (uint16_t)v;
	if (attr_uint(p, n, "bus", 0, 0xff, &v))
		a->bus = (uint8_t)v;
	if (attr_uint(p, n, "slot", 0, 0x1f, &v))
		a->slot = (uint8_t)v;
	if (attr_uint(p, n, "function", 0, 7, &v))
		a->function = (uint8_t)v;
	a->multifunction = attr_enum(p, n, "multifunction", &domain_onoff_tab, 0);
}

static void *grow(struct pctx *p, void *arr, size_t n, size_t elem)
{
	void *r;

	if (n >= DOMAIN_MAX_DEVICES)
		return NULL;
	r = realloc(arr, (n + 1) * elem);
	if (!r) {
		p->oom = true;
		return NULL;
	}
	memset((char *)r + n * elem, 0, elem);
	return r;
}

/* ---- top-level sections ---- */

static void parse_memory(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *m = child(p, root, "memory"), *c = child(p, root, "currentMemory");

	if (!m) {
		perr(p, root, "missing <memory>");
		def->memory_kib = 1;
	} else if (parse_scaled_elem(p, m, &def->memory_kib) && def->memory_kib == 0) {
		perr(p, m, "memory size must be greater than zero");
	}
	if (c && parse_scaled_elem(p, c, &def->current_memory_kib) &&
	    def->current_memory_kib == 0)
		perr(p, c, "currentMemory size must be greater than zero");
	if (!def->memory_kib)
		def->memory_kib = 1; /* reported above */
	/* libvirt clamps a missing or too large currentMemory to memory */
	if (!def->current_memory_kib || def->current_memory_kib > def->memory_kib)
		def->current_memory_kib = def->memory_kib;
}

static void parse_memory_backing(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *mb = child(p, root, "memoryBacking"), *n;

	if (!mb)
		return;
	if ((n = child(p, mb, "hugepages"))) {
		def->hugepages = true;
		for_each_elem(pg, n) {
			struct domain_hugepage *h;
			const char *size, *unit;

			if (!is_elem(pg, "page"))
				continue;
			pg->_private = MARK_USED;
			if (def->n_hugepage_sizes >= DOMAIN_MAX_HUGEPAGE_SIZES) {
				perr(p, pg, "too many <page> sizes (at most %d)",
				     DOMAIN_MAX_HUGEPAGE_SIZES);
				continue;
			}
			h = &def->hugepage_sizes[def->n_hugepage_sizes++];
			size = attr(p, pg, "size");
			unit = attr(p, pg, "unit");
			if (!size) {
				perr(p, pg, "missing attribute 'size'");
				h->size_kib = 2048;
			} else if (scale_to_kib(size, unit, &h->size_kib) < 0) {
				perr(p, pg, "invalid page size '%s' unit '%s'", size, unit ? unit : "KiB");
				h->size_kib = 2048;
			} else if (!h->size_kib || (h->size_kib & (h->size_kib - 1)) ||
				   h->size_kib < 4) {
				perr(p, pg, "page size '%s' %s is not a power of two of at least 4 KiB",
				     size, unit ? unit : "KiB");
				h->size_kib = 2048;
			}
			h->nodeset = attr_nodeset(p, pg, "nodeset");
			for (size_t i = 0; i + 1 < def->n_hugepage_sizes; i++)
				if (def->hugepage_sizes[i].size_kib == h->size_kib)
					perr(p, pg, "duplicate hugepage size %llu KiB",
					     (unsigned long long)h->size_kib);
		}
	}
	if (child(p, mb, "locked"))
		def->mem_locked = true;
	if ((n = child(p, mb, "source"))) {
		def->mem_source = attr_enum(p, n, "type", &domain_mem_source_tab, 0);
		if (!attr(p, n, "type"))
			perr(p, n, "missing attribute 'type'");
	}
	if ((n = child(p, mb, "access"))) {
		def->mem_access = attr_enum(p, n, "mode", &domain_mem_access_tab, 0);
		if (!attr(p, n, "mode"))
			perr(p, n, "missing attribute 'mode'");
	}
	if (def->hugepages && def->mem_source == DOMAIN_MEM_SOURCE_ANONYMOUS &&
	    def->mem_access == DOMAIN_MEM_ACCESS_SHARED)
		perr(p, mb, "shared anonymous memory cannot be backed by hugepages here; "
			    "use <source type='memfd'/>");
}

static void parse_vcpu(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *v = child(p, root, "vcpu"), *ct;
	uint64_t x;

	def->vcpus = 1;
	if (v) {
		char *t = text(p, v, true);

		if (t && (str_uint(t, UINT32_MAX, &x) < 0 || x == 0 || x > DOMAIN_MAX_VCPUS))
			perr(p, v, "invalid vcpu count '%s' (expected 1..%d)", t, DOMAIN_MAX_VCPUS);
		else if (t)
			def->vcpus = (unsigned)x;
		free(t);
		def->vcpu_placement = attr_enum(p, v, "placement", &domain_placement_tab, 0);
		attr_cpuset(p, v, "cpuset", &def->vcpu_cpuset, false);
		if (attr_uint(p, v, "current", 1, DOMAIN_MAX_VCPUS, &x) && x != def->vcpus)
			perr(p, v, "current='%llu' differs from the vcpu count: vCPU hotplug is not "
				   "supported",
			     (unsigned long long)x);
	}
	ct = child(p, root, "cputune");
	if (!ct)
		return;
	for_each_elem(c, ct) {
		if (is_elem(c, "vcpupin")) {
			struct domain_cpuset tmp = { 0 };

			c->_private = MARK_USED;
			if (!attr_uint(p, c, "vcpu", 0, UINT32_MAX, &x)) {
				if (!attr(p, c, "vcpu"))
					perr(p, c, "missing attribute 'vcpu'");
				attr_cpuset(p, c, "cpuset", &tmp, true);
				free(tmp.str);
				continue;
			}
			attr_cpuset(p, c, "cpuset", &tmp, true);
			if (x >= def->vcpus) {
				perr(p, c, "vcpu '%llu' is out of range of the vcpu count %u",
				     (unsigned long long)x, def->vcpus);
				free(tmp.str);
			} else if (def->vcpupin[x].str) {
				perr(p, c, "duplicate vcpupin for vcpu '%llu'", (unsigned long long)x);
				free(tmp.str);
			} else {
				def->vcpupin[x] = tmp;
			}
		}
	}
	if ((v = child(p, ct, "emulatorpin")))
		attr_cpuset(p, v, "cpuset", &def->emulatorpin, true);
}

static void parse_numatune(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *nt = child(p, root, "numatune"), *m;

	if (!nt || !(m = child(p, nt, "memory")))
		return;
	def->numa_mode = attr_enum(p, m, "mode", &domain_numatune_mode_tab, 0);
	def->numa_placement = attr_enum(p, m, "placement", &domain_placement_tab, 0);
	def->numa_nodeset = attr_nodeset(p, m, "nodeset");
	if (!def->numa_nodeset && def->numa_placement != DOMAIN_PLACEMENT_AUTO)
		perr(p, m, "nodeset is required unless placement='auto'");
	if (def->numa_nodeset && def->numa_placement == DOMAIN_PLACEMENT_AUTO)
		perr(p, m, "nodeset cannot be combined with placement='auto'");
}

static void parse_os(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *os = child(p, root, "os"), *n;

	if (!os) {
		perr(p, root, "missing <os>");
		return;
	}
	n = child(p, os, "type");
	if (!n) {
		perr(p, os, "missing <type>hvm</type>");
	} else {
		char *t = text(p, n, true);
		const char *arch = attr(p, n, "arch");

		if (t && strcmp(t, "hvm"))
			perr(p, n, "unsupported OS type '%s' (supported: 'hvm')", t);
		free(t);
		if (arch && strcmp(arch, "x86_64") && strcmp(arch, "i686"))
			perr(p, n, "unsupported arch '%s' (supported: 'x86_64', 'i686')", arch);
		def->os_arch = xstrdup(p, arch);
		def->os_machine = xstrdup(p, attr(p, n, "machine"));
	}
	if ((n = child(p, os, "kernel")))
		def->os_kernel = text(p, n, true);
	if ((n = child(p, os, "initrd")))
		def->os_initrd = text(p, n, true);
	if ((n = child(p, os, "cmdline")))
		def->os_cmdline = text(p, n, true);
	for_each_elem(b, os) {
		const char *dev;

		if (!is_elem(b, "boot"))
			continue;
		b->_private = MARK_USED;
		dev = attr(p, b, "dev");
		if (!dev || (strcmp(dev, "hd") && strcmp(dev, "network") && strcmp(dev, "cdrom") &&
			     strcmp(dev, "fd"))) {
			perr(p, b, "invalid boot dev '%s' (expected hd, network, cdrom, fd)",
			     dev ? dev : "");
			continue;
		}
		if (def->n_boot_devs >= ARRAY_SIZE(def->boot_devs)) {
			perr(p, b, "too many <boot> elements");
			continue;
		}
		def->boot_devs[def->n_boot_devs++] = xstrdup(p, dev);
	}
	if ((def->os_initrd || def->os_cmdline) && !def->os_kernel)
		perr(p, os, "<initrd> and <cmdline> need a <kernel>");
}

static void parse_features(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *f = child(p, root, "features"), *n;

	if (!f)
		return;
	for (int i = 0; i < DOMAIN_FEATURE__COUNT; i++)
		if (child(p, f, domain_feature_tab.names[i]))
			def->features |= 1u << i;
	if ((n = child(p, f, "pmu")))
		def->feature_pmu = attr_enum(p, n, "state", &domain_onoff_tab, DOMAIN_TRISTATE_YES);
	if ((n = child(p, f, "vmport")))
		def->feature_vmport =
			attr_enum(p, n, "state", &domain_onoff_tab, DOMAIN_TRISTATE_YES);
}

static void parse_cpu(struct pctx *p, xmlNode *root)
{
	struct domain_def *def = p->def;
	xmlNode *c = child(p, root, "cpu"), *t;
	uint64_t v;

	if (!c)
		return;
	def->cpu_mode = attr_enum(p, c, "mode", &domain_cpu_mode_tab, 0);
	if ((t = child(p, c, "topology"))) {
		if (attr_uint(p, t, "sockets", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_sockets = (unsigned)v;
		if (attr_uint(p, t, "dies", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_dies = (unsigned)v;
		if (attr_uint(p, t, "cores", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_cores = (unsigned)v;
		if (attr_uint(p, t, "threads", 1, DOMAIN_MAX_VCPUS, &v))
			def->cpu_threads = (unsigned)v;
	}
}

static void parse_clock(struct pctx *p, xmlNode *root)
{
	static const char *const timers[] = { "rtc", "pit", "hpet", "kvmclock", "tsc" };
	static const char *const policies[] = { "delay", "catchup", "merge", "discard" };
	struct domain_def *def = p->def;
	xmlNode *c = child(p, root, "clock");

	if (!c)
		return;
	def->clock_offset = attr_enum(p, c, "offset", &domain_clock_offset_tab, DOMAIN_CLOCK_UTC);
	for_each_elem(t, c) {
		const char *name, *pol;
		bool ok = false;

		if (!is_elem(t, "timer"))
			continue;
		t->_private = MARK_USED;
		name = attr(p, t, "name");
		for (size_t i = 0; name && i < ARRAY_SIZE(timers); i++)
			ok |= !strcmp(name, timers[i]);
		if (!ok) {
			perr(p, t, "unsupported timer name '%s' (supported: rtc, pit, hpet, "
				   "kvmclock, tsc)",
			     name ? name : "");
			continue;
		}
		pol = attr(p, t, "tickpolicy");
		ok = !pol;
		for (size_t i = 0; pol && i < ARRAY_SIZE(policies); i++)
			ok |= !strcmp(pol, policies[i]);
		if (!ok) {
			perr(p, t, "unsupported tickpolicy '%s'", pol);
			continue;
		}
		if (def->n_timers >= ARRAY_SIZE(def->timers)) {
			perr(p, t, "too many timers");
			continue;
		}
		def->timers[def->n_timers].name = xstrdup(p, name);
		def->timers[def->n_timers].tickpolicy = xstrdup(p, pol);
		def->timers[def->n_timers].present = attr_enum(p, t, "present", &domain_yesno_tab, 0);
		def->n_timers++;
	}
}

static void parse_lifecycle(struct pctx *p, xmlNode *root, const char *name,
			    enum domain_lifecycle_action *out, enum domain_lifecycle_action dflt)
{
	xmlNode *n = child(p, root, name);
	char *t;
	int v;

	*out = dflt;
	if (!n)
		return;
	t = text(p, n, true);
	if (!t)
		return;
	v = domain_enum_from_string(&domain_lifecycle_tab, t);
	if (v < 0)
		perr(p, n, "unsupported action '%s' (supported: 'destroy', 'restart')", t);
	else
		*out = v;
	free(t);
}

static void parse_pm(struct pctx *p, xmlNode *root)
{
	xmlNode *pm = child(p, root, "pm"), *n;

	if (!pm)
		return;
	if ((n = child(p, pm, "suspend-to-mem"))) {
		p->def->pm_suspend_to_mem = attr_enum(p, n, "enabled", &domain_yesno_tab, 0);
		if (p->def->pm_suspend_to_mem == DOMAIN_TRISTATE_YES)
			perr(p, n, "guest suspend is not supported (use enabled='no')");
	}
	if ((n = child(p, pm, "suspend-to-disk"))) {
		p->def->pm_suspend_to_disk = attr_enum(p, n, "enabled", &domain_yesno_tab, 0);
		if (p->def->pm_suspend_to_disk == DOMAIN_TRISTATE_YES)
			perr(p, n, "guest suspend is not supported (use enabled='no')");
	}
}

/* ---- devices ---- */

static void parse_vlan(struct pctx *p, xmlNode *v, struct domain_vlan *vl)
{
	uint64_t id;

	vl->trunk = attr_enum(p, v, "trunk", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;
	for_each_elem(t, v) {
		if (!is_elem(t, "tag"))
			continue;
		t->_private = MARK_USED;
		if (!attr_uint(p, t, "id", 0, 4095, &id)) {
			if (!attr(p, t, "id"))
				perr(p, t, "missing attribute 'id'");
			continue;
		}
		if (vl->n_tags >= DOMAIN_MAX_VLAN_TAGS) {
			perr(p, t, "too many VLAN tags (at most %d)", DOMAIN_MAX_VLAN_TAGS);
			continue;
		}
		vl->tags[vl->n_tags].id = (uint16_t)id;
		vl->tags[vl->n_tags].native_mode =
			attr_enum(p, t, "nativeMode", &domain_vlan_native_tab, 0);
		vl->n_tags++;
	}
	if (!vl->n_tags)
		perr(p, v, "<vlan> needs at least one <tag id=.../>");
	if (vl->n_tags > 1 && !vl->trunk)
		perr(p, v, "more than one <tag> needs trunk='yes'");
}

static void parse_source_address(struct pctx *p, xmlNode *src, struct domain_pci_addr *a)
{
	xmlNode *ad = child(p, src, "address");

	if (!ad) {
		perr(p, src, "missing <address type='pci' domain bus slot function/>");
		return;
	}
	parse_pci_addr(p, ad, a, true);
}

static int gen_mac(uint8_t mac[6])
{
	/* libvirt's QEMU/KVM OUI for generated addresses */
	mac[0] = 0x52;
	mac[1] = 0x54;
	mac[2] = 0x00;
	return random_bytes(mac + 3, 3);
}

static void parse_interface(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_net *ni, *arr;
	xmlNode *c;
	uint64_t v;
	int t;

	arr = grow(p, def->nets, def->n_nets, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			perr(p, n, "too many interfaces (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->nets = arr;
	ni = &arr[def->n_nets++];
	ni->line = line_of(n);
	t = attr_enum(p, n, "type", &domain_net_type_tab, -1);
	if (t < 0) {
		if (!attr(p, n, "type"))
			perr(p, n, "missing attribute 'type'");
		t = DOMAIN_NET_VHOSTUSER;
	}
	ni->type = t;
	if (ni->type == DOMAIN_NET_HOSTDEV)
		ni->managed = attr_enum(p, n, "managed", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;

	if ((c = child(p, n, "mac"))) {
		const char *a = attr(p, c, "address");

		if (!a)
			perr(p, c, "missing attribute 'address'");
		else if (mac_parse(a, ni->mac) < 0)
			perr(p, c, "invalid MAC address '%s'", a);
		else if (ni->mac[0] & 1)
			perr(p, c, "expected unicast mac address, found multicast '%s'", a);
	} else {
		ni->mac_generated = true;
		if (gen_mac(ni->mac) < 0)
			perr(p, n, "cannot generate a MAC address");
	}
	if ((c = child(p, n, "model"))) {
		const char *m = attr(p, c, "type");

		ni->model = attr_enum(p, c, "type", &domain_net_model_tab, DOMAIN_NET_MODEL_VIRTIO);
		if (!m)
			perr(p, c, "missing attribute 'type'");
	}
	if ((c = child(p, n, "source"))) {
		switch (ni->type) {
		case DOMAIN_NET_VHOSTUSER: {
			const char *st = attr(p, c, "type");
			xmlNode *rc;

			if (!st || strcmp(st, "unix"))
				perr(p, c, "unsupported source type '%s' (supported: 'unix')",
				     st ? st : "");
			ni->source_path = xstrdup(p, attr(p, c, "path"));
			if (!ni->source_path)
				perr(p, c, "missing attribute 'path'");
			else if (ni->source_path[0] != '/')
				perr(p, c, "socket path '%s' must be absolute", ni->source_path);
			ni->source_mode = attr_enum(p, c, "mode", &domain_vhost_mode_tab, 0);
			if (!attr(p, c, "mode"))
				perr(p, c, "missing attribute 'mode' ('client' or 'server')");
			if ((rc = child(p, c, "reconnect"))) {
				ni->reconnect = attr_enum(p, rc, "enabled", &domain_yesno_tab, 0);
				if (ni->reconnect == DOMAIN_TRISTATE_ABSENT)
					perr(p, rc, "missing attribute 'enabled'");
				if (attr_uint(p, rc, "timeout", 1, UINT32_MAX, &v))
					ni->reconnect_timeout_s = (unsigned)v;
				if (ni->reconnect_timeout_s && ni->reconnect != DOMAIN_TRISTATE_YES)
					perr(p, rc, "timeout needs enabled='yes'");
			}
			break;
		}
		case DOMAIN_NET_BRIDGE:
			ni->source_name = xstrdup(p, attr(p, c, "bridge"));
			break;
		case DOMAIN_NET_NETWORK:
			ni->source_name = xstrdup(p, attr(p, c, "network"));
			break;
		case DOMAIN_NET_HOSTDEV:
			parse_source_address(p, c, &ni->host_addr);
			break;
		}
	} else if (ni->type == DOMAIN_NET_VHOSTUSER && !ni->source_path) {
		perr(p, n, "missing <source type='unix' path=... mode=...>");
	}
	if ((c = child(p, n, "target"))) {
		ni->target_dev = xstrdup(p, attr(p, c, "dev"));
		if (!ni->target_dev)
			perr(p, c, "missing attribute 'dev'");
		else if (!domain_name_valid(ni->target_dev) || strlen(ni->target_dev) > 15)
			perr(p, c, "invalid target dev '%s' (up to 15 characters of "
				   "[A-Za-z0-9_.+-])",
			     ni->target_dev);
	}
	if ((c = child(p, n, "driver"))) {
		if (attr_uint(p, c, "queues", 1, 256, &v))
			ni->queues = (unsigned)v;
		if (attr_uint(p, c, "rx_queue_size", 1, 65536, &v))
			ni->rx_queue_size = (unsigned)v;
		if (attr_uint(p, c, "tx_queue_size", 1, 65536, &v))
			ni->tx_queue_size = (unsigned)v;
	}
	if ((c = child(p, n, "vlan")))
		parse_vlan(p, c, &ni->vlan);
	if ((c = child(p, n, "address")))
		parse_pci_addr(p, c, &ni->guest_addr, false);
}

static void parse_hostdev(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_hostdev *h, *arr;
	const char *mode = attr(p, n, "mode"), *type = attr(p, n, "type");
	xmlNode *c;

	if (!mode || strcmp(mode, "subsystem") || !type || strcmp(type, "pci")) {
		perr(p, n, "unsupported hostdev mode='%s' type='%s' (supported: mode='subsystem' "
			   "type='pci')",
		     mode ? mode : "", type ? type : "");
		return;
	}
	arr = grow(p, def->hostdevs, def->n_hostdevs, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			perr(p, n, "too many hostdevs (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->hostdevs = arr;
	h = &arr[def->n_hostdevs++];
	h->line = line_of(n);
	h->managed = attr_enum(p, n, "managed", &domain_yesno_tab, 0) == DOMAIN_TRISTATE_YES;
	if ((c = child(p, n, "source")))
		parse_source_address(p, c, &h->host_addr);
	else
		perr(p, n, "missing <source><address .../></source>");
	if ((c = child(p, n, "driver"))) {
		const char *dn = attr(p, c, "name");

		/* VFIO is the only assignment backend, as in libvirt today */
		if (!dn || strcmp(dn, "vfio"))
			perr(p, c, "unsupported driver name '%s' (supported: 'vfio')", dn ? dn : "");
	}
	if ((c = child(p, n, "address")))
		parse_pci_addr(p, c, &h->guest_addr, false);
}

static void parse_disk(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct domain_disk *d, *arr;
	const char *dev;
	xmlNode *c;
	int t;

	t = attr_enum(p, n, "type", &domain_disk_type_tab, -1);
	if (t < 0 && !attr(p, n, "type"))
		perr(p, n, "missing attribute 'type'");
	dev = attr(p, n, "device");
	if (dev && strcmp(dev, "disk"))
		perr(p, n, "unsupported disk device '%s' (supported: 'disk')", dev);
	arr = grow(p, def->disks, def->n_disks, sizeof(*arr));
	if (!arr) {
		if (!p->oom)
			perr(p, n, "too many disks (at most %d)", DOMAIN_MAX_DEVICES);
		return;
	}
	def->disks = arr;
	d = &arr[def->n_disks++];
	d->line = line_of(n);
	d->type = t < 0 ? DOMAIN_DISK_FILE : t;
	if ((c = child(p, n, "driver"))) {
		const char *dn = attr(p, c, "name"), *dt = attr(p, c, "type");

		if (dn && strcmp(dn, "qemu"))
			perr(p, c, "unsupported driver name '%s' (supported: 'qemu')", dn);
		d->driver_name = xstrdup(p, dn);
		if (dt && strcmp(dt, "raw"))
			perr(p, c, "unsupported image format '%s' (supported: 'raw')", dt);
		d->cache = attr_enum(p, c, "cache", &domain_disk_cache_tab, 0);
		d->io = attr_enum(p, c, "io", &domain_disk_io_tab, 0);
	}
	if ((c = child(p, n, "source"))) {
		const char *key = d->type == DOMAIN_DISK_BLOCK ? "dev" : "file";

		d->source = xstrdup(p, attr(p, c, key));
		if (!d->source)
			perr(p, c, "missing attribute '%s'", key);
	} else {
		perr(p, n, "missing <source> (empty drives are not supported)");
	}
	if ((c = child(p, n, "target"))) {
		const char *bus = attr(p, c, "bus");

		d->target_dev = xstrdup(p, attr(p, c, "dev"));
		if (!d->target_dev)
			perr(p, c, "missing attribute 'dev'");
		else if (strncmp(d->target_dev, "vd", 2) || strlen(d->target_dev) > 8)
			perr(p, c, "target dev '%s' should be a virtio name such as 'vda'",
			     d->target_dev);
		if (bus && strcmp(bus, "virtio"))
			perr(p, c, "unsupported bus '%s' (supported: 'virtio')", bus);
	}
	if (child(p, n, "readonly"))
		d->readonly = true;
	if ((c = child(p, n, "serial")))
		d->serial = text(p, c, true);
	if ((c = child(p, n, "address")))
		parse_pci_addr(p, c, &d->guest_addr, false);
}

static void parse_chr(struct pctx *p, xmlNode *n, bool console)
{
	struct domain_def *def = p->def;
	struct domain_chr **parr = console ? &def->consoles : &def->serials;
	size_t *pn = console ? &def->n_consoles : &def->n_serials;
	struct domain_chr *ch, *arr;
	xmlNode *c;
	uint64_t v;
	int t;

	t = attr_enum(p, n, "type", &domain_chr_type_tab, -1);
	if (t < 0 && !attr(p, n, "type"))
		perr(p, n, "missing attribute 'type'");
	if (*pn >= 4) {
		perr(p, n, "too many <%s> elements (at most 4)", ename(n));
		return;
	}
	arr = grow(p, *parr, *pn, sizeof(*arr));
	if (!arr)
		return;
	*parr = arr;
	ch = &arr[(*pn)++];
	ch->line = line_of(n);
	ch->type = t < 0 ? DOMAIN_CHR_NULL : t;
	ch->target_port = -1;
	if ((c = child(p, n, "source"))) {
		ch->path = xstrdup(p, attr(p, c, "path"));
		if (ch->type == DOMAIN_CHR_UNIX)
			ch->unix_mode = attr_enum(p, c, "mode", &domain_chr_unix_mode_tab, 0);
		if (ch->path && ch->path[0] != '/')
			perr(p, c, "path '%s' must be absolute", ch->path);
	}
	if ((ch->type == DOMAIN_CHR_FILE || ch->type == DOMAIN_CHR_UNIX) && !ch->path)
		perr(p, n, "type='%s' needs <source path=...>", domain_chr_type_to_string(ch->type));
	if ((c = child(p, n, "target"))) {
		xmlNode *m;

		ch->target_type = attr_enum(p, c, "type", &domain_chr_target_tab, 0);
		if (console && ch->target_type == DOMAIN_CHR_TARGET_ISA_SERIAL)
			perr(p, c, "console target type must be 'serial'");
		if (attr_uint(p, c, "port", 0, 3, &v))
			ch->target_port = (int)v;
		if ((m = child(p, c, "model"))) {
			const char *mn = attr(p, m, "name");

			if (!mn || strcmp(mn, "isa-serial"))
				perr(p, m, "unsupported serial model '%s' (supported: 'isa-serial')",
				     mn ? mn : "");
		}
	}
}

static void parse_controller(struct pctx *p, xmlNode *n)
{
	const char *type = attr(p, n, "type"), *model = attr(p, n, "model");
	uint64_t idx = 0;

	if (!type || strcmp(type, "pci")) {
		perr(p, n, "unsupported controller type '%s' (supported: 'pci')", type ? type : "");
		return;
	}
	attr_uint(p, n, "index", 0, 255, &idx);
	if (idx != 0 || !model || (strcmp(model, "pci-root") && strcmp(model, "pcie-root"))) {
		perr(p, n, "only the root PCI controller (index='0' model='pci-root' or "
			   "'pcie-root') is supported");
		return;
	}
	free(p->def->pci_root_model);
	p->def->pci_root_model = xstrdup(p, model);
}

/* Desktop devices: refused, or dropped (and reported) with DOMAIN_PARSE_DROP_UNSUPPORTED. */
static bool is_desktop_device(xmlNode *n)
{
	static const char *const names[] = { "input", "graphics", "video", "sound", "audio",
					     "memballoon", "rng", "redirdev", "redirfilter",
					     "smartcard", "hub", "channel" };
	xmlChar *type;
	bool r = false;

	if (n->ns)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(ename(n), names[i]))
			return true;
	if (strcmp(ename(n), "controller"))
		return false;
	type = xmlGetNoNsProp(n, BAD_CAST "type");
	if (type)
		r = !strcmp((char *)type, "usb") || !strcmp((char *)type, "virtio-serial") ||
		    !strcmp((char *)type, "ccid");
	xmlFree(type);
	return r;
}

static void describe_elem(xmlNode *n, struct strbuf *sb)
{
	xmlChar *type = xmlGetNoNsProp(n, BAD_CAST "type");
	xmlChar *model = xmlGetNoNsProp(n, BAD_CAST "model");

	sb_printf(sb, "<%s%s%s", n->ns && n->ns->prefix ? (const char *)n->ns->prefix : "",
		  n->ns && n->ns->prefix ? ":" : "", ename(n));
	if (type) {
		sb_append(sb, " type='");
		sb_xml_escape(sb, (const char *)type);
		sb_append(sb, "'");
	}
	if (model) {
		sb_append(sb, " model='");
		sb_xml_escape(sb, (const char *)model);
		sb_append(sb, "'");
	}
	sb_append(sb, ">");
	xmlFree(type);
	xmlFree(model);
}

static void drop_device(struct pctx *p, xmlNode *n)
{
	struct domain_def *def = p->def;
	struct strbuf sb = STRBUF_INIT;
	char **arr;

	n->_private = MARK_DROPPED;
	sb_printf(&sb, "%s:%u: dropped ", p->src, line_of(n));
	describe_elem(n, &sb);
	arr = realloc(def->dropped, (def->n_dropped + 1) * sizeof(*arr));
	if (!arr) {
		p->oom = true;
		sb_reset(&sb);
		return;
	}
	def->dropped = arr;
	arr[def->n_dropped] = sb_steal(&sb);
	if (!arr[def->n_dropped])
		p->oom = true;
	else
		def->n_dropped++;
}

static void parse_devices(struct pctx *p, xmlNode *root)
{
	xmlNode *devs = child(p, root, "devices"), *e;

	if (!devs)
		return;
	if ((e = child(p, devs, "emulator")))
		p->def->emulator = text(p, e, true);
	for_each_elem(n, devs) {
		if (n->ns || n->_private)
			continue;
		if (is_elem(n, "interface")) {
			n->_private = MARK_USED;
			parse_interface(p, n);
		} else if (is_elem(n, "hostdev")) {
			n->_private = MARK_USED;
			parse_hostdev(p, n);
		} else if (is_elem(n, "disk")) {
			n->_private = MARK_USED;
			parse_disk(p, n);
		} else if (is_elem(n, "serial")) {
			n->_private = MARK_USED;
			parse_chr(p, n, false);
		} else if (is_elem(n, "console")) {
			n->_private = MARK_USED;
			parse_chr(p, n, true);
		} else if (is_desktop_device(n)) {
			xmlChar *model = xmlGetNoNsProp(n, BAD_CAST "model");
			bool none = model && !strcmp((char *)model, "none") &&
				    (is_elem(n, "memballoon") || is_elem(n, "controller")) &&
				    !xmlFirstElementChild(n);

			xmlFree(model);
			if (none) {
				/*
				 * <memballoon model='none'/>, <controller type='usb' model='none'/>
				 * ask for what nfvisor does anyway.
				 */
				n->_private = MARK_USED;
				for (xmlAttr *a = n->properties; a; a = a->next)
					a->_private = MARK_USED;
			} else if (p->flags & DOMAIN_PARSE_DROP_UNSUPPORTED) {
				drop_device(p, n);
			}
		} else if (is_elem(n, "controller")) {
			n->_private = MARK_USED;
			parse_controller(p, n);
			for (xmlAttr *a = n->properties; a; a = a->next)
				a->_private = MARK_USED;
		}
	}
}

/* <metadata>: kept verbatim (each child serialised) so formatting gives it back. */
static void parse_metadata(struct pctx *p, xmlNode *root)
{
	xmlNode *m = child(p, root, "metadata");
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
	for_each_elem(c, m) {
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
	p->def->metadata_xml = xstrdup(p, (const char *)xmlBufferContent(buf));
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
		sb_printf(&p->unsup, "  line %u: attribute '%s%s%s' of <%s>\n", line_of(n),
			  a->ns && a->ns->prefix ? (const char *)a->ns->prefix : "",
			  a->ns && a->ns->prefix ? ":" : "", (const char *)a->name, ename(n));
		p->n_unsup++;
	}
	for (xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (n->_private != MARK_TEXT && !only_space(c->content)) {
				sb_printf(&p->unsup, "  line %u: text content in <%s>\n", line_of(n),
					  ename(n));
				p->n_unsup++;
			}
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions */
		if (!c->_private) {
			sb_printf(&p->unsup, "  line %u: element ", line_of(c));
			describe_elem(c, &p->unsup);
			if (is_desktop_device(c) && is_elem(n, "devices"))
				sb_append(&p->unsup,
					  " (desktop device: can be dropped with --drop-unsupported)");
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
	vt = attr_enum(p, root, "type", &domain_virt_type_tab, -1);
	if (vt < 0 && !attr(p, root, "type"))
		perr(p, root, "missing attribute 'type' (expected 'kvm')");
	def->virt_type = DOMAIN_VIRT_KVM;

	if ((n = child(p, root, "name"))) {
		def->name = text(p, n, true);
		if (def->name && !domain_name_valid(def->name)) {
			perr(p, n, "invalid name '%s' (1..%d characters of [A-Za-z0-9_.+-], not "
				   "starting with '.' or '-')",
			     def->name, DOMAIN_NAME_MAX);
			free(def->name);
			def->name = xstrdup(p, "invalid");
		}
	} else {
		perr(p, root, "missing <name>");
		def->name = xstrdup(p, "invalid");
	}
	if ((n = child(p, root, "uuid"))) {
		char *u = text(p, n, true);

		if (u && uuid_parse(u, def->uuid) < 0)
			perr(p, n, "malformed uuid element '%s'", u);
		free(u);
	} else {
		def->uuid_generated = true;
		if (random_bytes(def->uuid, 16) < 0) {
			perr(p, root, "cannot generate a UUID");
		} else {
			/* RFC 4122 s4.4: version 4, variant 10 */
			def->uuid[6] = (uint8_t)((def->uuid[6] & 0x0f) | 0x40);
			def->uuid[8] = (uint8_t)((def->uuid[8] & 0x3f) | 0x80);
		}
	}
	if ((n = child(p, root, "title"))) {
		def->title = text(p, n, true);
		if (def->title && strchr(def->title, '\n'))
			perr(p, n, "title must not contain newlines");
	}
	if ((n = child(p, root, "description")))
		def->description = text(p, n, false);
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
	parse_devices(p, root);
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

/* libxml2 reports some errors (encoding) through its generic handler; ours come from the context. */
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
	struct pctx p = { .src = source_name ? source_name : "domain", .flags = flags };
	struct first_error first = { 0 };
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
			if (asprintf(&m, "%s:%d: malformed XML: %s", p.src, first.line, first.msg) < 0)
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
		if (errmsg && asprintf(errmsg, "%s: DOCTYPE declarations are not allowed in domain XML",
				       p.src) < 0)
			*errmsg = NULL;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is_elem(root, "domain")) {
		if (errmsg && asprintf(errmsg, "%s:%u: expected root element <domain>, found <%s>",
				       p.src, root ? line_of(root) : 0,
				       root ? ename(root) : "") < 0)
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
