// SPDX-License-Identifier: GPL-2.0-only
/*
 * Golden-file tests for the domain XML library.
 *   test_domxml golden DIR   every DIR/NAME.xml (not *.out.xml) parses, formats to
 * DIR/NAME.out.xml, and the formatted XML parses and formats to itself. NAME.drop.xml is parsed
 * with DOMAIN_PARSE_DROP_UNSUPPORTED. NFV_REGEN=1 rewrites outputs. test_domxml bad DIR      every
 * DIR/NAME.xml is refused and the message contains each line of DIR/NAME.err. test_domxml parse
 * [--drop] FILE...   each FILE parses (used for real-world and virt-install XML). test_domxml api
 * behaviour that files cannot express (generated UUID/MAC, units...).
 */
#include "domain.h"
#include "../unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				exit(2);
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* DIR/NAME with NAME's last @strip characters replaced by @suffix; exits on overflow. */
static void path_join(char *buf, size_t cap, const char *dir, const char *name, size_t strip,
		      const char *suffix)
{
	size_t dl = strlen(dir), nl = strlen(name) - strip, sl = strlen(suffix);

	if (dl + 1 + nl + sl + 1 > cap)
		exit(2);
	memcpy(buf, dir, dl);
	buf[dl] = '/';
	memcpy(buf + dl + 1, name, nl);
	memcpy(buf + dl + 1 + nl, suffix, sl + 1);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of DIR entries ending in .xml but not .out.xml. */
static size_t list_inputs(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		perror(dir);
		exit(2);
	}
	while ((de = readdir(d))) {
		if (!ends_with(de->d_name, ".xml") || ends_with(de->d_name, ".out.xml"))
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (!names || !(names[n] = strdup(de->d_name)))
			exit(2);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	return n;
}

static void golden_one(const char *dir, const char *name)
{
	char in[4096], outp[4096], *err = NULL, *xml = NULL, *xml2 = NULL, *expect;
	struct domain_def *def = NULL, *def2 = NULL;
	unsigned flags = strstr(name, ".drop.") ? DOMAIN_PARSE_DROP_UNSUPPORTED : 0;
	int r;

	path_join(in, sizeof(in), dir, name, 0, "");
	path_join(outp, sizeof(outp), dir, name, 4, ".out.xml");
	r = domain_parse_file(in, flags, &def, &err);
	CHECK_MSG(r == 0, "%s: %s", in, err ? err : "(no message)");
	if (r) {
		free(err);
		return;
	}
	for (size_t i = 0; i < def->n_dropped; i++)
		printf("  %s\n", def->dropped[i]);
	CHECK_MSG(domain_format(def, &xml) == 0, "%s: format", in);
	if (getenv("NFV_REGEN")) {
		FILE *f = fopen(outp, "w");

		if (f) {
			fputs(xml, f);
			fclose(f);
		}
	}
	expect = read_all(outp);
	CHECK_MSG(expect && !strcmp(expect, xml), "%s: formatted output differs from %s:\n%s", in,
		  outp, xml);
	r = domain_parse_string(xml, strlen(xml), outp, 0, &def2, &err);
	CHECK_MSG(r == 0, "%s: formatted XML does not parse: %s", in, err ? err : "");
	if (r == 0) {
		CHECK_MSG(domain_format(def2, &xml2) == 0 && !strcmp(xml, xml2),
			  "%s: format(parse(format(x))) != format(x)", in);
		CHECK_MSG(domain_def_validate(def2, NULL) == 0, "%s: validate", in);
	}
	printf("ok golden %s\n", name);
	free(expect);
	free(xml);
	free(xml2);
	free(err);
	domain_def_free(def);
	domain_def_free(def2);
}

static void bad_one(const char *dir, const char *name)
{
	char in[4096], errp[4096], *err = NULL, *expect, *line, *save = NULL;
	struct domain_def *def = NULL;
	int r;

	path_join(in, sizeof(in), dir, name, 0, "");
	path_join(errp, sizeof(errp), dir, name, 4, ".err");
	r = domain_parse_file(in, 0, &def, &err);
	CHECK_MSG(r < 0, "%s: accepted", in);
	CHECK_MSG(r == 0 || err, "%s: refused without a message", in);
	domain_def_free(def);
	expect = read_all(errp);
	CHECK_MSG(expect != NULL, "%s: missing", errp);
	for (line = expect ? strtok_r(expect, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		CHECK_MSG(err && strstr(err, line), "%s: message lacks \"%s\"; message was:\n%s",
			  in, line, err ? err : "");
	printf("ok bad %s\n", name);
	free(expect);
	free(err);
}

static void test_api(void)
{
	static const char base[] = "<domain type='kvm'><name>t</name><memory unit='%s'>%s</memory>"
				   "<os><type>hvm</type></os><devices><interface type='network'>"
				   "<source network='n'/></interface></devices></domain>";
	struct {
		const char *unit, *val;
		unsigned long long kib;
		bool ok;
	} units[] = {
		{"KiB", "1", 1, true},	    {"b", "1", 1, true},
		{"bytes", "2048", 2, true}, {"KB", "1024", 1000, true},
		{"k", "4", 4, true},	    {"MiB", "1", 1024, true},
		{"MB", "1", 977, true},	    {"G", "2", 2097152, true},
		{"GB", "1", 976563, true},  {"TiB", "1", 1073741824ull, true},
		{"EiB", "16", 0, false},    {"xB", "1", 0, false},
		{"KiB", "-1", 0, false},    {"KiB", "1.5", 0, false},
	};
	struct domain_def *def = NULL, *def2 = NULL;
	char buf[1024], *err = NULL, *xml = NULL;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int r;

		snprintf(buf, sizeof(buf), base, units[i].unit, units[i].val);
		r = domain_parse_string(buf, strlen(buf), "api", 0, &def, &err);
		CHECK_MSG((r == 0) == units[i].ok, "%s %s: r=%d %s", units[i].val, units[i].unit, r,
			  err ? err : "");
		if (r == 0)
			CHECK_MSG(def->memory_kib == units[i].kib, "%s %s -> %llu KiB",
				  units[i].val, units[i].unit, (unsigned long long)def->memory_kib);
		domain_def_free(def);
		def = NULL;
		free(err);
		err = NULL;
	}

	/* UUID and MAC are generated when absent, and stay stable across format/parse */
	snprintf(buf, sizeof(buf), base, "MiB", "64");
	CHECK_MSG(domain_parse_string(buf, strlen(buf), "api", 0, &def, &err) == 0, "%s", err);
	if (def) {
		char u[37], m[18];

		CHECK_MSG(def->uuid_generated && (def->uuid[6] >> 4) == 4, "uuid v4");
		CHECK_MSG(def->nets[0].mac_generated && def->nets[0].mac[0] == 0x52,
			  "mac generated");
		CHECK_MSG(domain_format(def, &xml) == 0, "format");
		domain_uuid_format(def->uuid, u);
		domain_mac_format(def->nets[0].mac, m);
		CHECK_MSG(strstr(xml, u) && strstr(xml, m), "generated ids formatted");
		CHECK_MSG(domain_parse_string(xml, strlen(xml), "api2", 0, &def2, &err) == 0, "%s",
			  err);
		if (def2) {
			CHECK_MSG(!memcmp(def->uuid, def2->uuid, 16) && !def2->uuid_generated,
				  "uuid kept");
			CHECK_MSG(!memcmp(def->nets[0].mac, def2->nets[0].mac, 6), "mac kept");
		}
		/* validate catches what a C caller breaks */
		def->vcpupin[3].str = strdup("1");
		def->nets[0].mac[0] = 0x01;
		free(err);
		err = NULL;
		CHECK_MSG(domain_def_validate(def, &err) == -EINVAL && err &&
				  strstr(err, "vcpupin") && strstr(err, "multicast"),
			  "validate: %s", err ? err : "");
	}
	domain_def_free(def);
	domain_def_free(def2);
	free(xml);
	free(err);
	err = NULL;
	def = NULL;

	/* size cap */
	{
		size_t n = DOMAIN_XML_MAX + 1;
		char *big = malloc(n);

		memset(big, ' ', n);
		CHECK_MSG(domain_parse_string(big, n, "big", 0, &def, &err) == -EFBIG, "size cap");
		CHECK_MSG(err && strstr(err, "larger than"), "size cap message");
		free(big);
		free(err);
		err = NULL;
	}
	/* a missing file names the file */
	CHECK_MSG(domain_parse_file("/nonexistent/d.xml", 0, &def, &err) == -ENOENT && err &&
			  strstr(err, "/nonexistent/d.xml"),
		  "missing file");
	free(err);
	printf("ok api\n");
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "golden")) {
		char **names;
		size_t n = list_inputs(argv[2], &names);

		CHECK_MSG(n > 0, "no inputs in %s", argv[2]);
		for (size_t i = 0; i < n; i++) {
			golden_one(argv[2], names[i]);
			free(names[i]);
		}
		free(names);
	} else if (argc >= 3 && !strcmp(argv[1], "bad")) {
		char **names;
		size_t n = list_inputs(argv[2], &names);

		CHECK_MSG(n > 0, "no inputs in %s", argv[2]);
		for (size_t i = 0; i < n; i++) {
			bad_one(argv[2], names[i]);
			free(names[i]);
		}
		free(names);
	} else if (argc >= 3 && !strcmp(argv[1], "parse")) {
		unsigned flags = 0;

		for (int i = 2; i < argc; i++) {
			struct domain_def *def = NULL;
			char *err = NULL;
			int r;

			if (!strcmp(argv[i], "--drop")) {
				flags |= DOMAIN_PARSE_DROP_UNSUPPORTED;
				continue;
			}
			r = domain_parse_file(argv[i], flags, &def, &err);
			CHECK_MSG(r == 0, "%s: %s", argv[i], err ? err : "");
			if (r == 0) {
				for (size_t j = 0; j < def->n_dropped; j++)
					printf("  %s\n", def->dropped[j]);
				printf("ok parse %s\n", argv[i]);
			}
			domain_def_free(def);
			free(err);
		}
	} else if (argc == 2 && !strcmp(argv[1], "api")) {
		test_api();
	} else {
		fprintf(stderr, "usage: %s golden DIR | bad DIR | parse [--drop] FILE... | api\n",
			argv[0]);
		return 2;
	}
	return test_failures ? 1 : 0;
}
