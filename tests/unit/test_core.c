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

static void test_json(void)
{
	struct json *j = NULL;
	const char *s;
	int64_t i;
	bool b;
	size_t off;
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\" 1}", "[1,]", "{\"a\":1,}", "01", "1.2.3", "\"\\x\"", "\"\\u00\"",
		"\"\\ud800\"", "\"\\u0000\"", "tru", "nul", "{} x", "\"a\nb\"", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};

	{
		static const char txt[] = "{\"cmd\":\"vcpupin\",\"vcpu\":1,\"ok\":true,\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\"}";

		CHECK(json_parse(txt, strlen(txt), &j, &off) == 0);
	}
	CHECK(json_get_str(j, "cmd", &s) && !strcmp(s, "vcpupin"));
	CHECK(json_get_int(j, "vcpu", &i) && i == 1);
	CHECK(json_get_bool(j, "ok", &b) && b);
	CHECK(json_get_str(j, "s", &s) && !strcmp(s, "a\"\xc3\xa9\xf0\x9f\x98\x80"));
	CHECK(!json_get_int(j, "cmd", &i));
	CHECK(!json_get(j, "missing"));
	json_free(j);
	CHECK(json_parse("{\"a\":1.5}", 9, &j, &off) == 0);
	CHECK(!json_get_int(j, "a", &i));
	json_free(j);
	for (unsigned k = 0; k < ARRAY_SIZE(bad); k++) {
		j = NULL;
		if (json_parse(bad[k], strlen(bad[k]), &j, &off) == 0) {
			fprintf(stderr, "accepted bad JSON #%u: %s\n", k, bad[k]);
			test_failures++;
			json_free(j);
		}
	}
	{
		struct jbuf jb;

		jbuf_init(&jb);
		jbuf_str(&jb, "a\"b\\c\n");
		CHECK(!strcmp(jb.buf, "\"a\\\"b\\\\c\\u000a\""));
		jbuf_free(&jb);
	}
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
	test_json();
	test_ratelimit();
	TEST_DONE("core");
}
