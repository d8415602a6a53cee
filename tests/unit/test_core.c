// SPDX-License-Identifier: GPL-2.0-only
/* core/: bus windows (overlaps refused, offsets, moves, unclaimed counting), guest-memory accessor
 * (every out-of-range and wrap-around case), parsers, JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "gmem.h"
#include "json.h"
#include "log.h"
#include "test.h"
#include "util.h"

struct fake_dev {
	uint64_t last_off;
	unsigned last_size;
	uint64_t last_val;
	unsigned reads, writes;
};

static uint64_t fake_read(void *opaque, uint64_t off, unsigned size)
{
	struct fake_dev *d = opaque;

	d->reads++;
	d->last_off = off;
	d->last_size = size;
	return 0x1122334455667788ull;
}

static void fake_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct fake_dev *d = opaque;

	d->writes++;
	d->last_off = off;
	d->last_size = size;
	d->last_val = val;
}

static const struct bus_ops fake_ops = { .read = fake_read, .write = fake_write };

static void test_bus(void)
{
	struct bus b;
	struct fake_dev a = { 0 }, c = { 0 };
	uint64_t v;

	CHECK(bus_init(&b, "pio") == 0);
	CHECK(bus_register(&b, 0x3f8, 8, &fake_ops, &a, "com1") == 0);
	/* Overlaps of every shape are refused. */
	CHECK(bus_register(&b, 0x3f8, 8, &fake_ops, &c, "dup") == -EEXIST);
	CHECK(bus_register(&b, 0x3f0, 9, &fake_ops, &c, "left") == -EEXIST);
	CHECK(bus_register(&b, 0x3ff, 1, &fake_ops, &c, "right") == -EEXIST);
	CHECK(bus_register(&b, 0x3f9, 2, &fake_ops, &c, "inside") == -EEXIST);
	CHECK(bus_register(&b, 0x300, 0x200, &fake_ops, &c, "around") == -EEXIST);
	/* Bad windows. */
	CHECK(bus_register(&b, 0x100, 0, &fake_ops, &c, "empty") == -EINVAL);
	CHECK(bus_register(&b, UINT64_MAX - 3, 8, &fake_ops, &c, "wrap") == -EINVAL);
	CHECK(bus_register(&b, 0x100, 8, NULL, &c, "noops") == -EINVAL);
	/* Adjacent is fine. */
	CHECK(bus_register(&b, 0x3f0, 8, &fake_ops, &c, "below") == 0);
	CHECK(bus_register(&b, 0x400, 8, &fake_ops, &c, "above") == 0);

	/* Devices see offsets, values are masked to the access size. */
	CHECK(bus_read(&b, 0x3fd, 1, &v));
	CHECK_EQ(a.last_off, 5);
	CHECK_EQ(v, 0x88);
	CHECK(bus_write(&b, 0x3fa, 2, 0xabcdef));
	CHECK_EQ(a.last_off, 2);
	CHECK_EQ(a.last_val, 0xcdef);
	/* An access that straddles the end of a window is unclaimed. */
	CHECK(!bus_read(&b, 0x3fe, 4, &v));
	CHECK_EQ(v, 0xffffffff);
	CHECK(!bus_write(&b, 0x500, 1, 1));
	CHECK(!bus_read(&b, 0x0, 8, &v));
	CHECK_EQ(v, ~0ull);
	CHECK_EQ(b.unclaimed_reads, 2);
	CHECK_EQ(b.unclaimed_writes, 1);

	/* Moves: onto another window refused (window unchanged), into free space works. */
	CHECK(bus_move(&b, 0x400, &c, 0x3f8) == -EEXIST);
	CHECK(bus_read(&b, 0x404, 1, &v));
	CHECK(bus_move(&b, 0x400, &c, 0x1000) == 0);
	CHECK(!bus_read(&b, 0x404, 1, &v));
	c.reads = 0;
	CHECK(bus_read(&b, 0x1004, 1, &v));
	CHECK_EQ(c.reads, 1);
	CHECK_EQ(c.last_off, 4);
	CHECK(bus_move(&b, 0x1000, &a, 0x2000) == -ENOENT); /* wrong owner */
	CHECK(bus_unregister(&b, 0x1000, &c) == 0);
	CHECK(bus_unregister(&b, 0x1000, &c) == -ENOENT);
	/* Many windows stay sorted and findable. */
	for (unsigned i = 0; i < 100; i++)
		CHECK(bus_register(&b, 0x10000 + i * 0x10, 0x10, &fake_ops, &c, "many") == 0);
	for (unsigned i = 0; i < 100; i++) {
		c.last_off = 99;
		CHECK(bus_read(&b, 0x10000 + i * 0x10 + 3, 1, &v));
		CHECK_EQ(c.last_off, 3);
	}
	bus_fini(&b);
}

static void test_gmem(void)
{
	struct gmem gm = { 0 };
	uint8_t *low = calloc(1, 1 << 20), *high = calloc(1, 1 << 20);
	uint8_t buf[16];
	struct iovec iov;

	CHECK(gmem_add_region(&gm, 0, 1 << 20, low, -1, 0) == 0);
	CHECK(gmem_add_region(&gm, 0x100000000ull, 1 << 20, high, -1, 0) == 0);
	CHECK(gmem_add_region(&gm, 0x80000, 0x100000, low, -1, 0) == -EEXIST);
	CHECK(gmem_add_region(&gm, 0x200000, 0, low, -1, 0) == -EINVAL);
	CHECK(gmem_add_region(&gm, UINT64_MAX - 10, 100, low, -1, 0) == -EINVAL);
	CHECK_EQ(gmem_total(&gm), 2 << 20);

	CHECK(gmem_write(&gm, 0x1000, "hello", 5) == 0);
	CHECK(!memcmp(low + 0x1000, "hello", 5));
	CHECK(gmem_read(&gm, 0x1000, buf, 5) == 0 && !memcmp(buf, "hello", 5));
	/* Last byte of a region is fine; one past is not; straddling is not. */
	CHECK(gmem_read(&gm, (1 << 20) - 1, buf, 1) == 0);
	CHECK(gmem_read(&gm, 1 << 20, buf, 1) == -EFAULT);
	CHECK(gmem_read(&gm, (1 << 20) - 4, buf, 8) == -EFAULT);
	/* In the gap between regions, and straddling into the second. */
	CHECK(gmem_read(&gm, 0x80000000ull, buf, 1) == -EFAULT);
	CHECK(gmem_read(&gm, 0xFFFFFFFCull, buf, 8) == -EFAULT);
	CHECK(gmem_read(&gm, 0x100000000ull, buf, 8) == 0);
	/* Wrap-around: huge lengths and addresses near 2^64 never pass. */
	CHECK(gmem_ptr(&gm, 0x1000, UINT64_MAX) == NULL);
	CHECK(gmem_ptr(&gm, 0x1000, UINT64_MAX - 0xfff) == NULL);
	CHECK(gmem_ptr(&gm, UINT64_MAX, 2) == NULL);
	CHECK(gmem_ptr(&gm, UINT64_MAX - 7, 8) == NULL);
	CHECK(gmem_ptr(&gm, 0x100000000ull + (1 << 20) - 8, 9) == NULL);
	CHECK(gmem_iov(&gm, 0x2000, 0x100, &iov) == 0 && iov.iov_base == low + 0x2000 && iov.iov_len == 0x100);
	CHECK(gmem_iov(&gm, 0xFFFFF, 2, &iov) == -EFAULT);
	CHECK(gm.bad_accesses >= 10);
	free(low);
	free(high);
}

static void test_parsers(void)
{
	uint64_t v, mask[16];

	CHECK(parse_size("64M", &v) == 0 && v == 64 * MiB);
	CHECK(parse_size("2G", &v) == 0 && v == 2 * GiB);
	CHECK(parse_size("2GiB", &v) == 0 && v == 2 * GiB);
	CHECK(parse_size("4096", &v) == 0 && v == 4096);
	CHECK(parse_size("1X", &v) == -EINVAL);
	CHECK(parse_size("-1M", &v) == -EINVAL);
	CHECK(parse_size("99999999999999999999T", &v) == -ERANGE);
	CHECK(parse_size("20000000T", &v) == -ERANGE);
	CHECK(parse_u64("0x10", &v) == 0 && v == 16);
	CHECK(parse_u64("12a", &v) == -EINVAL);
	CHECK(parse_u64("", &v) == -EINVAL);
	CHECK(parse_cpulist("0-2,5,7-8", mask) == 0 && mask[0] == 0x1a7);
	CHECK(parse_cpulist("1023", mask) == 0 && mask[15] == 1ull << 63);
	CHECK(parse_cpulist("1024", mask) == -ERANGE);
	CHECK(parse_cpulist("3-1", mask) == -ERANGE);
	CHECK(parse_cpulist("1,,2", mask) == -EINVAL);
	CHECK(parse_cpulist("a", mask) == -EINVAL);
	CHECK(parse_cpulist("1-", mask) == -EINVAL);
	{
		cpu_set_t set;

		CHECK(parse_cpuset("0-2,5,1023", &set) == 0);
		CHECK(CPU_ISSET(0, &set) && CPU_ISSET(2, &set) && !CPU_ISSET(3, &set) && CPU_ISSET(5, &set));
		CHECK(CPU_ISSET(1023, &set));
		CHECK_EQ(CPU_COUNT(&set), 5);
		CHECK(parse_cpuset("x", &set) == -EINVAL);
		mask[0] = 0x6;
		mask[1] = 1;
		cpumask_to_cpuset(mask, 2, &set);
		CHECK(CPU_ISSET(1, &set) && CPU_ISSET(2, &set) && CPU_ISSET(64, &set));
		CHECK_EQ(CPU_COUNT(&set), 3);
	}
}

static void test_json_parse_ok(void)
{
	static const char txt[] =
		" {\"cmd\":\"vcpupin\",\"vcpu\":1,\"ok\":true,\"t\":[1,2,{}],\"n\":null,"
		"\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\",\"cmd\":\"second\","
		"\"neg\":-9223372036854775808,\"big\":9223372036854775808,\"e\":1e3,"
		"\"f\":-0.5E-2} \n";
	struct json *j = NULL;
	const char *s = NULL;
	int64_t i = 0;
	bool b = false;

	CHECK_EQ(json_parse(txt, strlen(txt), &j, NULL), 0);
	if (!j)
		return;
	CHECK_EQ(j->type, JSON_OBJECT);
	CHECK_EQ(j->len, 11);
	/* Duplicate members are kept; lookups see the first. */
	CHECK(json_get_str(j, "cmd", &s) == 0 && !strcmp(s, "vcpupin"));
	CHECK(json_get_int(j, "vcpu", 0, 1, &i) == 0 && i == 1);
	CHECK_EQ(json_get_int(j, "vcpu", 2, 5, &i), -EINVAL);
	CHECK_EQ(json_get_int(j, "cmd", 0, 5, &i), -EINVAL);
	CHECK_EQ(json_get_int(j, "nope", 0, 5, &i), -ENOENT);
	CHECK(json_get_int(j, "neg", INT64_MIN, 0, &i) == 0 && i == INT64_MIN);
	CHECK_EQ(json_get_int(j, "big", INT64_MIN, INT64_MAX, &i), -EINVAL); /* 2^63 */
	CHECK(json_get_int(j, "e", 0, 1000, &i) == 0 && i == 1000);
	CHECK_EQ(json_get_int(j, "f", -1, 1, &i), -EINVAL);
	CHECK(json_get(j, "f") && json_get(j, "f")->num == -0.005);
	CHECK(json_get_bool(j, "ok", &b) == 0 && b);
	CHECK_EQ(json_get_bool(j, "n", &b), -EINVAL);
	CHECK_EQ(json_get_str(j, "missing", &s), -ENOENT);
	CHECK(json_get_str(j, "s", &s) == 0 &&
	      !strcmp(s, "a\"\xc3\xa9\xf0\x9f\x98\x80/\b\f\n\r\t"));
	CHECK_EQ(json_get(j, "s")->len, strlen(s));
	CHECK(json_get(j, "t") && json_get(j, "t")->len == 3 && json_get(j, "t")->child->num == 1);
	CHECK_EQ(json_get(j, "n")->type, JSON_NULL);
	CHECK(!json_get(j, "missing"));
	CHECK(!json_get(json_get(j, "t"), "x"));	/* not an object */
	CHECK_EQ(json_get_str(NULL, "cmd", &s), -ENOENT);
	json_free(j);
	json_free(NULL);

	/* Input need not be NUL-terminated: only @len bytes are read. */
	CHECK_EQ(json_parse("[12]34", 4, &j, NULL), 0);
	CHECK(j && j->child && j->child->num == 12);
	json_free(j);
	/* Numbers longer than any fixed buffer. */
	{
		char num[200];

		memset(num, '0', sizeof(num));
		num[0] = '0';
		num[1] = '.';
		num[sizeof(num) - 1] = '1';
		CHECK_EQ(json_parse(num, sizeof(num), &j, NULL), 0);
		CHECK(j && j->num > 0 && j->num < 1e-190);
		json_free(j);
	}
}

static void test_json_parse_bad(void)
{
	static const struct {
		const char *txt;
		size_t off;
		const char *msg;
	} bad[] = {
		{ "", 0, "unexpected end of input" },
		{ "{", 1, "expected member name" },
		{ "{\"a\"}", 4, "expected ':'" },
		{ "{\"a\":}", 5, "unexpected character 0x7d" },
		{ "{\"a\" 1}", 5, "expected ':'" },
		{ "[1,]", 3, "unexpected character 0x5d" },
		{ "{\"a\":1,}", 7, "expected member name" },
		{ "[1 2]", 3, "expected ',' or ']'" },
		{ "[1", 2, "unterminated array" },
		{ "tru", 0, "unexpected token" },
		{ "nul", 0, "unexpected token" },
		{ "01", 1, "trailing characters" },
		{ "1.", 0, "bad number" },
		{ "1.e3", 0, "bad number" },
		{ ".5", 0, "unexpected character 0x2e" },
		{ "+1", 0, "unexpected character 0x2b" },
		{ "1e", 0, "bad number" },
		{ "-", 0, "bad number" },
		{ "1.2.3", 3, "trailing characters" },
		{ "0x10", 1, "trailing characters" },
		{ "1e999", 0, "number out of range" },
		{ "-1e999", 0, "number out of range" },
		{ "\"\\x\"", 2, "bad escape" },
		{ "\"\\u00\"", 2, "bad \\u escape" },
		{ "\"\\u00zz\"", 2, "bad \\u escape" },
		{ "\"\\ud800\"", 6, "unpaired surrogate" },
		{ "\"\\ud800\\u0041\"", 6, "unpaired surrogate" },
		{ "\"\\udc00\"", 6, "unpaired surrogate" },
		{ "\"\\u0000\"", 6, "NUL in string" },
		{ "\"a", 1, "unterminated string" },
		{ "\"a\\", 1, "unterminated string" },
		{ "\"a\nb\"", 2, "control character in string" },
		{ "\"\x01\"", 1, "control character in string" },
		{ "{} x", 3, "trailing characters" },
		{ "{\"a\":1}x", 7, "trailing characters" },
		{ "\x01\x02\xff", 0, "unexpected character 0x01" },
	};
	struct json_err err;
	struct json *j;

	for (unsigned k = 0; k < ARRAY_SIZE(bad); k++) {
		j = (struct json *)&err;	/* must come back NULL */
		CHECK_MSG(json_parse(bad[k].txt, strlen(bad[k].txt), &j, &err) == -EINVAL,
			  "accepted bad JSON #%u: %s", k, bad[k].txt);
		CHECK_MSG(!j, "#%u: *out not cleared", k);
		CHECK_MSG(err.off == bad[k].off && !strcmp(err.msg, bad[k].msg),
			  "#%u %s: got '%s' at %zu", k, bad[k].txt, err.msg, err.off);
	}
	/* A raw NUL byte inside a string (the length says it is input). */
	CHECK_EQ(json_parse("\"a\0b\"", 5, &j, &err), -EINVAL);
	CHECK_EQ(err.off, 2);
	CHECK_EQ(json_parse("\"a\0b\"", 5, &j, NULL), -EINVAL);	/* @err may be NULL */
}

/* JSON_MAX_DEPTH nested containers parse; one more is refused, arrays or objects alike. */
static void test_json_depth(void)
{
	char txt[8 * (JSON_MAX_DEPTH + 1)];
	struct json_err err;
	struct json *j = NULL;

	for (int extra = 0; extra <= 1; extra++) {
		int depth = JSON_MAX_DEPTH + extra;
		size_t n = 0;

		for (int d = 0; d < depth; d++)
			txt[n++] = '[';
		for (int d = 0; d < depth; d++)
			txt[n++] = ']';
		CHECK_EQ(json_parse(txt, n, &j, &err), extra ? -EINVAL : 0);
		json_free(j);
		n = 0;
		for (int d = 0; d < depth; d++) {
			memcpy(txt + n, "{\"k\":", 5);
			n += 5;
		}
		txt[n++] = '1';
		for (int d = 0; d < depth; d++)
			txt[n++] = '}';
		CHECK_EQ(json_parse(txt, n, &j, &err), extra ? -EINVAL : 0);
		json_free(j);
	}
	CHECK(!strcmp(err.msg, "nesting too deep") && err.off == 5 * JSON_MAX_DEPTH);
}

/* A large document: many values and strings of every size, all from the arena. */
static void test_json_large(void)
{
	size_t cap = 4 << 20, n = 0;
	char *txt = malloc(cap);
	struct json *j = NULL;
	size_t count = 0;

	if (!txt) {
		TEST_FAIL("out of memory");
		return;
	}
	txt[n++] = '[';
	for (unsigned k = 0; n < cap - 70000; k++) {
		size_t len = k % 97 == 0 ? 60000 : k % 13;

		txt[n++] = '"';
		memset(txt + n, 'a' + (char)(k % 26), len);
		n += len;
		n += (size_t)sprintf(txt + n, "\",%u,", k);
	}
	txt[n++] = 'n';
	txt[n++] = 'u';
	txt[n++] = 'l';
	txt[n++] = 'l';
	txt[n++] = ']';
	CHECK_EQ(json_parse(txt, n, &j, NULL), 0);
	for (const struct json *v = j ? j->child : NULL; v; v = v->next, count++) {
		size_t k = count / 2;

		if (v->type == JSON_STRING && v->len != (k % 97 == 0 ? 60000 : k % 13)) {
			TEST_FAIL("string %zu has length %zu", k, v->len);
			break;
		}
	}
	CHECK(j && j->len == count && count > 1000);
	json_free(j);
	free(txt);
}

static void test_json_write(void)
{
	struct jbuf jb;
	struct json *j = NULL;
	const char *s;

	jbuf_init(&jb);
	jbuf_quote(&jb, "a\"b\\c\n\x1f\xc3\xa9");
	CHECK(jb.buf && !strcmp(jb.buf, "\"a\\\"b\\\\c\\u000a\\u001f\xc3\xa9\""));
	jbuf_free(&jb);
	CHECK(!jb.buf && !jb.len);

	/* Structural writers place the commas; printf output mixes in with the caller's commas. */
	jbuf_obj_open(&jb, NULL);
	jbuf_bool(&jb, "ok", true);
	jbuf_str(&jb, "k\"", "v\n");
	jbuf_u64(&jb, "u", UINT64_MAX);
	jbuf_i64(&jb, "i", INT64_MIN);
	jbuf_null(&jb, "z");
	jbuf_arr_open(&jb, "a");
	jbuf_u64(&jb, NULL, 1);
	jbuf_obj_open(&jb, NULL);
	jbuf_obj_close(&jb);
	jbuf_arr_open(&jb, NULL);
	jbuf_arr_close(&jb);
	jbuf_arr_close(&jb);
	jbuf_printf(&jb, ",\"p\":%d", 7);
	jbuf_obj_close(&jb);
	CHECK(!jb.failed && !strcmp(jb.buf, "{\"ok\":true,\"k\\\"\":\"v\\u000a\","
					    "\"u\":18446744073709551615,\"i\":-9223372036854775808,"
					    "\"z\":null,\"a\":[1,{},[]],\"p\":7}"));
	CHECK_EQ(jb.len, strlen(jb.buf));
	CHECK_EQ(json_parse(jb.buf, jb.len, &j, NULL), 0);
	CHECK(json_get_str(j, "k\"", &s) == 0 && !strcmp(s, "v\n"));
	json_free(j);
	jbuf_free(&jb);
}

static void test_ratelimit(void)
{
	struct ratelimit rl = RATELIMIT_INIT(100000, 3);
	uint64_t sup;
	int ok = 0;

	for (int i = 0; i < 10; i++)
		ok += ratelimit_ok(&rl, &sup);
	CHECK_EQ(ok, 3);
	CHECK_EQ(rl.suppressed, 7);
}

int main(void)
{
	log_set_level(LOGL_ERR);
	test_bus();
	test_gmem();
	test_parsers();
	test_json_parse_ok();
	test_json_parse_bad();
	test_json_depth();
	test_json_large();
	test_json_write();
	test_ratelimit();
	TEST_DONE("core");
}
