// SPDX-License-Identifier: GPL-2.0-only
/* Domain XML parser helpers: reading (and marking) elements and attributes, value syntaxes. */
#include "domain_parse_priv.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

unsigned dx_line_of(const xmlNode *n)
{
	long l = xmlGetLineNo(n);

	return l > 0 ? (unsigned)l : 0;
}

const char *dx_ename(const xmlNode *n)
{
	return (const char *)n->name;
}

void dx_perr(struct pctx *p, const xmlNode *n, const char *fmt, ...)
{
	va_list ap;
	char msg[768];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sb_printf(&p->errs, "%s:%u: <%s>: %s\n", p->src, dx_line_of(n), dx_ename(n), msg);
	p->n_errs++;
}

char *dx_xstrdup(struct pctx *p, const char *s)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		p->oom = true;
	return r;
}

bool dx_is_elem(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !n->ns && !strcmp(dx_ename(n), name);
}

#define for_each_elem(c, parent)                                                                   \
	for (xmlNode *c = xmlFirstElementChild(parent); c; c = xmlNextElementSibling(c))

/* The only child element @name of @parent (marked used), or NULL. A second one is an error. */
xmlNode *dx_child(struct pctx *p, xmlNode *parent, const char *name)
{
	xmlNode *found = NULL;

	for_each_elem(c, parent)
	{
		if (!dx_is_elem(c, name))
			continue;
		if (found) {
			dx_perr(p, c, "element appears more than once in <%s>", dx_ename(parent));
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
const char *dx_attr(struct pctx *p, xmlNode *n, const char *name)
{
	for (xmlAttr *a = n->properties; a; a = a->next) {
		if (a->ns || strcmp((const char *)a->name, name))
			continue;
		a->_private = MARK_USED;
		if (!a->children)
			return "";
		if (a->children->type != XML_TEXT_NODE || a->children->next) {
			dx_perr(p, n, "attribute '%s' contains an entity reference", name);
			return NULL;
		}
		return (const char *)a->children->content;
	}
	return NULL;
}

/* Element text with surrounding whitespace removed; heap string or NULL (error reported). */
char *dx_text(struct pctx *p, xmlNode *n, bool trim)
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
	r = dx_xstrdup(p, s);
	xmlFree(c);
	return r;
}

/* Enum attribute: returns the value, @dflt when absent, or @dflt after reporting a bad value. */
int dx_attr_enum(struct pctx *p, xmlNode *n, const char *name, const struct domain_enum_table *t,
		 int dflt)
{
	const char *v = dx_attr(p, n, name);
	int r;

	if (!v)
		return dflt;
	r = domain_enum_from_string(t, v);
	if (r < 0) {
		struct strbuf sb = STRBUF_INIT;

		domain_enum_list(t, &sb);
		dx_perr(p, n, "unsupported value '%s' for attribute '%s' (supported: %s)", v, name,
			sb_str(&sb));
		sb_reset(&sb);
		return dflt;
	}
	return r;
}

int dx_str_uint(const char *v, uint64_t max, uint64_t *out)
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
bool dx_attr_uint(struct pctx *p, xmlNode *n, const char *name, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	const char *v = dx_attr(p, n, name);
	uint64_t x;

	if (!v)
		return false;
	if (dx_str_uint(v, UINT64_MAX, &x) < 0 || x < min || x > max) {
		dx_perr(p, n,
			"invalid value '%s' for attribute '%s' (expected an integer %llu..%llu)", v,
			name, (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = x;
	return true;
}

/*
 * Scaled integer as libvirt's virScaleInteger: unit "b"/"bytes", "k"/"KiB" (1024), "KB" (1000),
 * ... up to "E"/"EiB"/"EB"; default KiB. Result rounded up to KiB.
 */
int dx_scale_to_kib(const char *num, const char *unit, uint64_t *kib)
{
	static const char prefixes[] = "kmgtpe";
	uint64_t v, mult = 1, bytes;
	const char *pos;

	if (dx_str_uint(num, UINT64_MAX, &v) < 0 || !isdigit((unsigned char)num[0]))
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

bool dx_parse_scaled_elem(struct pctx *p, xmlNode *n, uint64_t *kib)
{
	const char *unit = dx_attr(p, n, "unit");
	char *t = dx_text(p, n, true);
	int r;

	if (!t)
		return false;
	r = dx_scale_to_kib(t, unit, kib);
	if (r == -ERANGE)
		dx_perr(p, n, "value '%s'%s%s is too large", t, unit ? " " : "", unit ? unit : "");
	else if (r < 0 && unit && dx_scale_to_kib("1", unit, kib) < 0)
		dx_perr(p, n, "unknown unit '%s' (expected b, KiB, MiB, GiB, TiB, KB, MB, GB...)",
			unit);
	else if (r < 0)
		dx_perr(p, n, "invalid size '%s' (expected a non-negative integer)", t);
	free(t);
	return r == 0;
}

/* libvirt cpuset syntax: "0-3,^2,8"; normalised back to ranges. */
int dx_cpuset_parse(const char *s, struct domain_cpuset *out, bool *oom)
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
		for (e = c;
		     e + 1 < DOMAIN_MAX_CPUS && (m[(e + 1) / 64] & (1ull << ((e + 1) % 64)));)
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

void dx_attr_cpuset(struct pctx *p, xmlNode *n, const char *name, struct domain_cpuset *out,
		    bool required)
{
	const char *v = dx_attr(p, n, name);
	int r;

	if (!v) {
		if (required)
			dx_perr(p, n, "missing attribute '%s'", name);
		return;
	}
	r = dx_cpuset_parse(v, out, &p->oom);
	if (r == -ENOENT)
		dx_perr(p, n, "%s '%s' selects no CPU", name, v);
	else if (r == -ERANGE)
		dx_perr(p, n, "%s '%s' is out of range (CPUs 0..%d)", name, v, DOMAIN_MAX_CPUS - 1);
	else if (r < 0 && r != -ENOMEM)
		dx_perr(p, n, "invalid %s '%s' (expected a CPU list such as '0-3,^2,6')", name, v);
}

/* A NUMA node set uses the cpuset syntax; kept as the normalised string. */
char *dx_attr_nodeset(struct pctx *p, xmlNode *n, const char *name)
{
	struct domain_cpuset tmp = {0};
	const char *v = dx_attr(p, n, name);
	int r;

	if (!v)
		return NULL;
	r = dx_cpuset_parse(v, &tmp, &p->oom);
	if (r < 0 && r != -ENOMEM)
		dx_perr(p, n, "invalid %s '%s' (expected a node list such as '0-1')", name, v);
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
int dx_uuid_parse(const char *s, uint8_t out[16])
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

int dx_random_bytes(uint8_t *buf, size_t n)
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

int dx_mac_parse(const char *s, uint8_t mac[6])
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
void dx_parse_pci_addr(struct pctx *p, xmlNode *n, struct domain_pci_addr *a, bool in_source)
{
	const char *type = dx_attr(p, n, "type");
	uint64_t v;

	a->set = true;
	/* inside <hostdev><source> the type is implied */
	if ((!type && !in_source) || (type && strcmp(type, "pci"))) {
		dx_perr(p, n, "unsupported address type '%s' (supported: 'pci')", type ? type : "");
		return;
	}
	if (dx_attr_uint(p, n, "domain", 0, 0xffff, &v))
		a->domain = (uint16_t)v;
	if (dx_attr_uint(p, n, "bus", 0, 0xff, &v))
		a->bus = (uint8_t)v;
	if (dx_attr_uint(p, n, "slot", 0, 0x1f, &v))
		a->slot = (uint8_t)v;
	if (dx_attr_uint(p, n, "function", 0, 7, &v))
		a->function = (uint8_t)v;
	a->multifunction = dx_attr_enum(p, n, "multifunction", &domain_onoff_tab, 0);
}

void *dx_grow(struct pctx *p, void *arr, size_t n, size_t elem)
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
