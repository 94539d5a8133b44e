/*
 * check_parse: unit tests for the pure value parsers in src/parse.c, with
 * the exact messages they produce, since config.c passes them on verbatim.
 */
#include "ac_config.h"
#include "parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "config.h"
#include "log.h"
#include "test_main.h"

static char err[256];

#define OK(call)	ck_assert_msg((call) == 0, "%s failed: %s", #call, err)
#define FAIL(call, msg) do {						\
	err[0] = '\0';							\
	ck_assert_msg((call) == -1, "%s succeeded", #call);		\
	ck_assert_str_eq(err, msg);					\
} while (0)

START_TEST(test_uint)
{
	uint64_t v;

	OK(parse_uint("0", 0, 32, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 0);
	OK(parse_uint("32", 0, 32, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 32);
	OK(parse_uint("007", 0, 32, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 7);
	OK(parse_uint("18446744073709551615", 0, UINT64_MAX, &v, err,
	    sizeof(err)));
	ck_assert(v == UINT64_MAX);
	FAIL(parse_uint("-1", 0, 32, &v, err, sizeof(err)),
	    "'-1' is not in 0..32");
	FAIL(parse_uint("33", 0, 32, &v, err, sizeof(err)),
	    "'33' is not in 0..32");
	FAIL(parse_uint("0", 1, 10, &v, err, sizeof(err)),
	    "'0' is not in 1..10");
	FAIL(parse_uint("18446744073709551616", 0, UINT64_MAX, &v, err,
	    sizeof(err)), "'18446744073709551616' is not in "
	    "0..18446744073709551615");
	FAIL(parse_uint("", 0, 32, &v, err, sizeof(err)), "value is empty");
	FAIL(parse_uint("abc", 0, 32, &v, err, sizeof(err)),
	    "'abc' is not a number");
	FAIL(parse_uint("1x", 0, 32, &v, err, sizeof(err)),
	    "'1x' is not a number");
	FAIL(parse_uint("+1", 0, 32, &v, err, sizeof(err)),
	    "'+1' is not a number");
	FAIL(parse_uint(" 1", 0, 32, &v, err, sizeof(err)),
	    "' 1' is not a number");
	FAIL(parse_uint("-", 0, 32, &v, err, sizeof(err)),
	    "'-' is not a number");
	FAIL(parse_uint("0x10", 0, 32, &v, err, sizeof(err)),
	    "'0x10' is not a number");
}
END_TEST

START_TEST(test_uint_no_buffer)
{
	uint64_t v = 42;

	/* err may be NULL when errlen is 0; *out is left alone on failure */
	ck_assert_int_eq(parse_uint("x", 0, 1, &v, NULL, 0), -1);
	ck_assert_uint_eq(v, 42);
	/* a short buffer truncates but stays NUL-terminated */
	ck_assert_int_eq(parse_uint("12345", 0, 1, &v, err, 6), -1);
	ck_assert_str_eq(err, "'1234");
}
END_TEST

START_TEST(test_duration)
{
	uint64_t v;

	OK(parse_duration_ms("500ms", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 500);
	OK(parse_duration_ms("2s", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 2000);
	OK(parse_duration_ms("30", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 30000);
	OK(parse_duration_ms("1m", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 60000);
	OK(parse_duration_ms("1h", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 3600000);
	OK(parse_duration_ms("7d", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 7 * 86400000ull);
	OK(parse_duration_ms("0", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 0);
	OK(parse_duration_ms("10S", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 10000);
	OK(parse_duration_ms("5MS", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 5);
	OK(parse_duration_ms("18446744073709551615ms", 0, UINT64_MAX, &v, err,
	    sizeof(err)));
	ck_assert(v == UINT64_MAX);
}
END_TEST

START_TEST(test_duration_bad)
{
	uint64_t v;

	FAIL(parse_duration_ms("", 0, 1000, &v, err, sizeof(err)),
	    "value is empty");
	FAIL(parse_duration_ms("-1s", 0, 86400000, &v, err, sizeof(err)),
	    "'-1s' is not in 0..1d");
	FAIL(parse_duration_ms("-0", 0, 86400000, &v, err, sizeof(err)),
	    "'-0' is not in 0..1d");
	FAIL(parse_duration_ms("0", 1, 86400000, &v, err, sizeof(err)),
	    "'0' is not in 1ms..1d");
	FAIL(parse_duration_ms("25h", 1000, 86400000, &v, err, sizeof(err)),
	    "'25h' is not in 1s..1d");
	/* 2^64 ms overflows in the digits, 2^64 / 1000 + 1 in the unit */
	FAIL(parse_duration_ms("18446744073709551616ms", 0, UINT64_MAX, &v,
	    err, sizeof(err)), "'18446744073709551616ms' is not in "
	    "0..18446744073709551615ms");
	FAIL(parse_duration_ms("18446744073709552s", 0, UINT64_MAX, &v, err,
	    sizeof(err)), "'18446744073709552s' is not in "
	    "0..18446744073709551615ms");
	FAIL(parse_duration_ms("213503982335d", 0, UINT64_MAX, &v, err,
	    sizeof(err)), "'213503982335d' is not in "
	    "0..18446744073709551615ms");
	FAIL(parse_duration_ms("s", 0, 1000, &v, err, sizeof(err)),
	    "'s' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("1.5s", 0, 1000, &v, err, sizeof(err)),
	    "'1.5s' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("1 s", 0, 1000, &v, err, sizeof(err)),
	    "'1 s' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("1m30s", 0, 1000, &v, err, sizeof(err)),
	    "'1m30s' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("1w", 0, 1000, &v, err, sizeof(err)),
	    "'1w' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("+1s", 0, 1000, &v, err, sizeof(err)),
	    "'+1s' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
	FAIL(parse_duration_ms("--1", 0, 1000, &v, err, sizeof(err)),
	    "'--1' is not a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)");
}
END_TEST

START_TEST(test_size)
{
	uint64_t v;

	OK(parse_size("512", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 512);
	OK(parse_size("64k", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 65536);
	OK(parse_size("8K", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 8192);
	OK(parse_size("1m", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 1048576);
	OK(parse_size("2G", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 2147483648ull);
	OK(parse_size("0", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert_uint_eq(v, 0);
	OK(parse_size("17179869183g", 0, UINT64_MAX, &v, err, sizeof(err)));
	ck_assert(v == 17179869183ull << 30);
	FAIL(parse_size("17179869184g", 0, UINT64_MAX, &v, err, sizeof(err)),
	    "'17179869184g' is not in 0..18446744073709551615");
	FAIL(parse_size("", 0, 1, &v, err, sizeof(err)), "value is empty");
	FAIL(parse_size("-1", 0, 1024, &v, err, sizeof(err)),
	    "'-1' is not in 0..1k");
	FAIL(parse_size("100", 256, 1048576, &v, err, sizeof(err)),
	    "'100' is not in 256..1m");
	FAIL(parse_size("2m", 1024, 1048576, &v, err, sizeof(err)),
	    "'2m' is not in 1k..1m");
	FAIL(parse_size("64kb", 0, 1, &v, err, sizeof(err)),
	    "'64kb' is not a size (use e.g. 512, 64k or 1m)");
	FAIL(parse_size("1t", 0, 1, &v, err, sizeof(err)),
	    "'1t' is not a size (use e.g. 512, 64k or 1m)");
	FAIL(parse_size("k", 0, 1, &v, err, sizeof(err)),
	    "'k' is not a size (use e.g. 512, 64k or 1m)");
	FAIL(parse_size("1.5k", 0, 1, &v, err, sizeof(err)),
	    "'1.5k' is not a size (use e.g. 512, 64k or 1m)");
}
END_TEST

START_TEST(test_fmt)
{
	char buf[32];

	ck_assert_str_eq(parse_fmt_duration(0, buf, sizeof(buf)), "0");
	ck_assert_str_eq(parse_fmt_duration(1, buf, sizeof(buf)), "1ms");
	ck_assert_str_eq(parse_fmt_duration(1500, buf, sizeof(buf)), "1500ms");
	ck_assert_str_eq(parse_fmt_duration(30000, buf, sizeof(buf)), "30s");
	ck_assert_str_eq(parse_fmt_duration(90000, buf, sizeof(buf)), "90s");
	ck_assert_str_eq(parse_fmt_duration(120000, buf, sizeof(buf)), "2m");
	ck_assert_str_eq(parse_fmt_duration(7200000, buf, sizeof(buf)), "2h");
	ck_assert_str_eq(parse_fmt_duration(86400000, buf, sizeof(buf)),
	    "1d");
	ck_assert_str_eq(parse_fmt_size(0, buf, sizeof(buf)), "0");
	ck_assert_str_eq(parse_fmt_size(1000, buf, sizeof(buf)), "1000");
	ck_assert_str_eq(parse_fmt_size(1536, buf, sizeof(buf)), "1536");
	ck_assert_str_eq(parse_fmt_size(3072, buf, sizeof(buf)), "3k");
	ck_assert_str_eq(parse_fmt_size(1u << 20, buf, sizeof(buf)), "1m");
	ck_assert_str_eq(parse_fmt_size(3ull << 30, buf, sizeof(buf)), "3g");
	ck_assert_str_eq(parse_fmt_size(1ull << 40, buf, sizeof(buf)),
	    "1024g");
	ck_assert_str_eq(parse_fmt_size(UINT64_MAX, buf, sizeof(buf)),
	    "18446744073709551615");
	/* short buffers truncate */
	ck_assert_str_eq(parse_fmt_duration(3 * 86400000ull, buf, 3), "3d");
	ck_assert_str_eq(parse_fmt_duration(3 * 86400000ull, buf, 2), "3");
}
END_TEST

START_TEST(test_onoff)
{
	bool b = false;

	OK(parse_onoff("on", &b, err, sizeof(err)));
	ck_assert(b);
	OK(parse_onoff("off", &b, err, sizeof(err)));
	ck_assert(!b);
	OK(parse_onoff("ON", &b, err, sizeof(err)));
	ck_assert(b);
	OK(parse_onoff("Off", &b, err, sizeof(err)));
	ck_assert(!b);
	FAIL(parse_onoff("yes", &b, err, sizeof(err)),
	    "'yes' is not 'on' or 'off'");
	FAIL(parse_onoff("1", &b, err, sizeof(err)),
	    "'1' is not 'on' or 'off'");
	FAIL(parse_onoff("true", &b, err, sizeof(err)),
	    "'true' is not 'on' or 'off'");
	FAIL(parse_onoff("", &b, err, sizeof(err)), "value is empty");
	FAIL(parse_onoff("onn", &b, err, sizeof(err)),
	    "'onn' is not 'on' or 'off'");
}
END_TEST

START_TEST(test_enum)
{
	static const struct parse_enum one[] = {
		{ "only", 7 }, { NULL, 0 },
	};
	static const struct parse_enum three[] = {
		{ "a", 1 }, { "b", 2 }, { "c", 3 }, { NULL, 0 },
	};
	int v = 0;

	OK(parse_enum("only", one, &v, err, sizeof(err)));
	ck_assert_int_eq(v, 7);
	OK(parse_enum("B", three, &v, err, sizeof(err)));
	ck_assert_int_eq(v, 2);
	FAIL(parse_enum("x", one, &v, err, sizeof(err)),
	    "'x' is not 'only'");
	FAIL(parse_enum("x", three, &v, err, sizeof(err)),
	    "'x' is not 'a', 'b' or 'c'");
	FAIL(parse_enum("", three, &v, err, sizeof(err)), "value is empty");
	/* the list is cut when the buffer is short */
	err[0] = '\0';
	ck_assert_int_eq(parse_enum("x", three, &v, err, 16), -1);
	ck_assert_str_eq(err, "'x' is not 'a',");
	ck_assert_int_eq(parse_enum("x", three, &v, NULL, 0), -1);
}
END_TEST

START_TEST(test_name)
{
	char longest[PARSE_NAME_MAX + 2];

	OK(parse_name("ECS01", err, sizeof(err)));
	OK(parse_name("a-b_c.d", err, sizeof(err)));
	memset(longest, 'x', PARSE_NAME_MAX);
	longest[PARSE_NAME_MAX] = '\0';
	OK(parse_name(longest, err, sizeof(err)));
	longest[PARSE_NAME_MAX] = 'x';
	longest[PARSE_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(parse_name(longest, err, sizeof(err)), -1);
	ck_assert(strstr(err, "is longer than 64 characters") != NULL);
	FAIL(parse_name("", err, sizeof(err)), "name is empty");
	FAIL(parse_name("a b", err, sizeof(err)), "name 'a b' may only "
	    "contain letters, digits, '-', '_' and '.'");
	FAIL(parse_name("a/b", err, sizeof(err)), "name 'a/b' may only "
	    "contain letters, digits, '-', '_' and '.'");
	FAIL(parse_name("caf\xc3\xa9", err, sizeof(err)), "name 'caf\xc3\xa9' "
	    "may only contain letters, digits, '-', '_' and '.'");
}
END_TEST

static void
assert_v4(const struct sockaddr_storage *ss, socklen_t len, const char *ip,
    unsigned port)
{
	const struct sockaddr_in *sin = (const void *)ss;
	char buf[INET_ADDRSTRLEN];

	ck_assert_int_eq(ss->ss_family, AF_INET);
	ck_assert_uint_eq(len, sizeof(*sin));
	ck_assert_uint_eq(ntohs(sin->sin_port), port);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET, &sin->sin_addr, buf,
	    sizeof(buf)));
	ck_assert_str_eq(buf, ip);
}

static void
assert_v6(const struct sockaddr_storage *ss, socklen_t len, const char *ip,
    unsigned port)
{
	const struct sockaddr_in6 *sin6 = (const void *)ss;
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(ss->ss_family, AF_INET6);
	ck_assert_uint_eq(len, sizeof(*sin6));
	ck_assert_uint_eq(ntohs(sin6->sin6_port), port);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
	    sizeof(buf)));
	ck_assert_str_eq(buf, ip);
}

START_TEST(test_hostport)
{
	struct sockaddr_storage ss;
	socklen_t len;

	OK(parse_hostport("127.0.0.1:8081", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "127.0.0.1", 8081);
	OK(parse_hostport("0.0.0.0:1", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "0.0.0.0", 1);
	OK(parse_hostport("*:443", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "0.0.0.0", 443);
	OK(parse_hostport("localhost:65535", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "127.0.0.1", 65535);
	OK(parse_hostport("LocalHost:80", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "127.0.0.1", 80);
	OK(parse_hostport("[::1]:443", &ss, &len, err, sizeof(err)));
	assert_v6(&ss, len, "::1", 443);
	OK(parse_hostport("[::]:8443", &ss, &len, err, sizeof(err)));
	assert_v6(&ss, len, "::", 8443);
	OK(parse_hostport("[2001:db8::1]:80", &ss, &len, err, sizeof(err)));
	assert_v6(&ss, len, "2001:db8::1", 80);
	OK(parse_hostport("[::ffff:10.0.0.1]:80", &ss, &len, err,
	    sizeof(err)));
	assert_v6(&ss, len, "::ffff:10.0.0.1", 80);
	OK(parse_hostport("10.0.0.1:080", &ss, &len, err, sizeof(err)));
	assert_v4(&ss, len, "10.0.0.1", 80);
}
END_TEST

START_TEST(test_hostport_bad)
{
	struct sockaddr_storage ss;
	socklen_t len;

#define BAD(s, msg) FAIL(parse_hostport(s, &ss, &len, err, sizeof(err)), msg)
	BAD("", "value is empty");
	BAD("127.0.0.1", "'127.0.0.1' has no port (use HOST:PORT)");
	BAD("127.0.0.1:", "'127.0.0.1:' has no port (use HOST:PORT)");
	BAD(":443", "':443' has no host (use '*' for all IPv4 addresses)");
	BAD("127.0.0.1:0", "'127.0.0.1:0': port '0' is not in 1..65535");
	BAD("127.0.0.1:65536",
	    "'127.0.0.1:65536': port '65536' is not in 1..65535");
	BAD("127.0.0.1:-1", "'127.0.0.1:-1': port '-1' is not in 1..65535");
	BAD("127.0.0.1:https",
	    "'127.0.0.1:https': port 'https' is not in 1..65535");
	BAD("127.0.0.1:99999999999999999999", "'127.0.0.1:99999999999999999999"
	    "': port '99999999999999999999' is not in 1..65535");
	BAD("example.com:443", "'example.com:443': 'example.com' is not a "
	    "numeric IPv4 address, 'localhost' or '*' (names are not "
	    "resolved)");
	BAD("1.2.3:80", "'1.2.3:80': '1.2.3' is not a numeric IPv4 address, "
	    "'localhost' or '*' (names are not resolved)");
	BAD("256.0.0.1:80", "'256.0.0.1:80': '256.0.0.1' is not a numeric "
	    "IPv4 address, 'localhost' or '*' (names are not resolved)");
	BAD(" 1.2.3.4:80", "' 1.2.3.4:80': ' 1.2.3.4' is not a numeric IPv4 "
	    "address, 'localhost' or '*' (names are not resolved)");
	BAD("::1:443", "'::1:443': an IPv6 address needs brackets, as in "
	    "'[::1]:443'");
	BAD("[::1", "'[::1' has no ']' after the IPv6 address");
	BAD("[::1]", "'[::1]' has no ':PORT' after ']'");
	BAD("[::1]443", "'[::1]443' has no ':PORT' after ']'");
	BAD("[::1]:", "'[::1]:' has no port (use HOST:PORT)");
	BAD("[]:80", "'[]:80': '' is not a numeric IPv6 address");
	BAD("[1.2.3.4]:80", "'[1.2.3.4]:80': '1.2.3.4' is not a numeric IPv6 "
	    "address");
	BAD("[fe80::1%eth0]:80", "'[fe80::1%eth0]:80': 'fe80::1%eth0' is not "
	    "a numeric IPv6 address");
	BAD("[*]:80", "'[*]:80': '*' is not a numeric IPv6 address");
	/* 64 characters are fine, 65 are too many */
	BAD("11111111111111111111111111111111111111111111111111111111111.1:80",
	    "'11111111111111111111111111111111111111111111111111111111111.1:80"
	    "': '11111111111111111111111111111111111111111111111111111111111.1"
	    "' is not a numeric IPv4 address, 'localhost' or '*' (names are "
	    "not resolved)");
	BAD("111111111111111111111111111111111111111111111111111111111111.1:80",
	    "'111111111111111111111111111111111111111111111111111111111111.1:80"
	    "' is too long for HOST:PORT");
#undef BAD
}
END_TEST

START_TEST(test_server)
{
	struct parse_server ps;

	OK(parse_server_line("ECS01 127.0.0.1:8081", &ps, err, sizeof(err)));
	ck_assert_str_eq(ps.name, "ECS01");
	ck_assert_str_eq(ps.addr, "127.0.0.1:8081");
	assert_v4(&ps.ss, ps.len, "127.0.0.1", 8081);
	ck_assert_uint_eq(ps.weight, 1);

	OK(parse_server_line("b.2\t [::1]:8082   weight=0", &ps, err,
	    sizeof(err)));
	ck_assert_str_eq(ps.name, "b.2");
	ck_assert_str_eq(ps.addr, "[::1]:8082");
	assert_v6(&ps.ss, ps.len, "::1", 8082);
	ck_assert_uint_eq(ps.weight, 0);

	OK(parse_server_line("x localhost:1 WEIGHT=100", &ps, err,
	    sizeof(err)));
	ck_assert_uint_eq(ps.weight, 100);

	/* a name may look like an address, when an address follows */
	OK(parse_server_line("10.0.0.1 10.0.0.1:80", &ps, err, sizeof(err)));
	ck_assert_str_eq(ps.name, "10.0.0.1");
	ck_assert_str_eq(ps.addr, "10.0.0.1:80");
}
END_TEST

START_TEST(test_server_bad)
{
	struct parse_server ps;
	char line[300];

#define BAD(s, msg) FAIL(parse_server_line(s, &ps, err, sizeof(err)), msg)
	BAD("", "value is empty");
	BAD("   ", "value is empty");
	BAD("ECS01", "'ECS01' has no address (use NAME HOST:PORT "
	    "[weight=N])");
	BAD("ECS/01 127.0.0.1:80", "name 'ECS/01' may only contain letters, "
	    "digits, '-', '_' and '.'");
	BAD("a 127.0.0.1", "'127.0.0.1' has no port (use HOST:PORT)");
	/* no name: the address came first */
	BAD("127.0.0.1:8082", "needs a name before the address: write "
	    "\"server = NAME 127.0.0.1:8082\", e.g. \"server = ecs01 "
	    "127.0.0.1:8082\"");
	BAD("[::1]:8082  weight=2", "needs a name before the address: write "
	    "\"server = NAME [::1]:8082  weight=2\", e.g. \"server = ecs01 "
	    "[::1]:8082  weight=2\"");
	BAD("backend:80", "needs a name before the address: write "
	    "\"server = NAME backend:80\", e.g. \"server = ecs01 "
	    "backend:80\"");
	BAD("127.0.0.1:8082 ECS01", "the name comes before the address: "
	    "write \"server = ECS01 127.0.0.1:8082\"");
	BAD("localhost:8082\tECS01 weight=3", "the name comes before the "
	    "address: write \"server = ECS01 localhost:8082 weight=3\"");
	BAD("127.0.0.1", "a server line is NAME HOST:PORT [weight=N]: write "
	    "\"server = NAME 127.0.0.1:PORT\", e.g. \"server = ecs01 "
	    "127.0.0.1:8080\"");
	BAD("127.0.0.1 8082 weight=0", "a server line is NAME HOST:PORT "
	    "[weight=N]: write \"server = NAME 127.0.0.1:8082 weight=0\", e.g. "
	    "\"server = ecs01 127.0.0.1:8082 weight=0\"");
	BAD("10.0.0.1 weight=2", "a server line is NAME HOST:PORT [weight=N]: "
	    "write \"server = NAME 10.0.0.1:PORT weight=2\", e.g. \"server = "
	    "ecs01 10.0.0.1:8080 weight=2\"");
	BAD("a b:80", "'b:80': 'b' is not a numeric IPv4 address, "
	    "'localhost' or '*' (names are not resolved)");
	BAD("a 127.0.0.1:80 weight=101", "weight '101' is not in 0..100");
	BAD("a 127.0.0.1:80 weight=-1", "weight '-1' is not in 0..100");
	BAD("a 127.0.0.1:80 weight=", "weight '' is not in 0..100");
	BAD("a 127.0.0.1:80 weight=1 weight=2", "weight is given twice");
	BAD("a 127.0.0.1:80 weight = 2", "unknown option 'weight' "
	    "(expected weight=N)");
	BAD("a 127.0.0.1:80 backup", "unknown option 'backup' "
	    "(expected weight=N)");
	BAD("a 111111111111111111111111111111111111111111111111111111111111.1:"
	    "80", "'11111111111111111111111111111111111111111111111111111111111"
	    "1.1:80' is too long for HOST:PORT");
#undef BAD
	/* a name too long for the internal word buffer */
	memset(line, 'n', 280);
	strcpy(line + 280, " 1.2.3.4:5");
	ck_assert_int_eq(parse_server_line(line, &ps, err, sizeof(err)), -1);
	ck_assert(strstr(err, "is longer than 64 characters") != NULL);
}
END_TEST

START_TEST(test_path)
{
	char out[32];

#define PATH_OK(dir, s, want) do {					\
	OK(parse_path(dir, s, out, sizeof(out), err, sizeof(err)));	\
	ck_assert_str_eq(out, want);					\
} while (0)
	PATH_OK("/etc/mtlslb", "/srv/pki/ca.crt", "/srv/pki/ca.crt");
	PATH_OK("/etc/mtlslb", "pki/ca.crt", "/etc/mtlslb/pki/ca.crt");
	PATH_OK("/etc/mtlslb/", "ca.crt", "/etc/mtlslb/ca.crt");
	PATH_OK("/etc/mtlslb", "./ca.crt", "/etc/mtlslb/ca.crt");
	PATH_OK("/etc/mtlslb", "././/ca.crt", "/etc/mtlslb/ca.crt");
	PATH_OK("/etc/mtlslb", "../ca.crt", "/etc/mtlslb/../ca.crt");
	PATH_OK("/etc/mtlslb", ".ca.crt", "/etc/mtlslb/.ca.crt");
	PATH_OK("/etc/mtlslb", "./", "/etc/mtlslb");
	PATH_OK("/", "ca.crt", "/ca.crt");
	PATH_OK("/", "./", "/");
	/* 31 characters fit in out[32], 32 do not */
	PATH_OK("/a", "bcdefghijklmnopqrstuvwxyz012",
	    "/a/bcdefghijklmnopqrstuvwxyz012");
#undef PATH_OK
	FAIL(parse_path("/a", "", out, sizeof(out), err, sizeof(err)),
	    "value is empty");
	FAIL(parse_path("/a", "bcdefghijklmnopqrstuvwxyz0123", out,
	    sizeof(out), err, sizeof(err)), "'bcdefghijklmnopqrstuvwxyz0123' "
	    "is too long for a path (at most 31 characters, relative names "
	    "with their directory)");
	FAIL(parse_path("/", "/bcdefghijklmnopqrstuvwxyz012345", out,
	    sizeof(out), err, sizeof(err)),
	    "'/bcdefghijklmnopqrstuvwxyz012345' is too long for a path (at "
	    "most 31 characters, relative names with their directory)");
}
END_TEST

START_TEST(test_http_codes)
{
	unsigned v = 0;

	OK(parse_http_codes("http_2xx", &v, err, sizeof(err)));
	ck_assert_uint_eq(v, HC_CODE_2XX);
	OK(parse_http_codes("http_2xx,http_3xx", &v, err, sizeof(err)));
	ck_assert_uint_eq(v, HC_CODE_2XX | HC_CODE_3XX);
	OK(parse_http_codes("http_5xx, http_4xx,  HTTP_2XX", &v, err,
	    sizeof(err)));
	ck_assert_uint_eq(v, HC_CODE_2XX | HC_CODE_4XX | HC_CODE_5XX);
	OK(parse_http_codes("http_2xx ,http_2xx", &v, err, sizeof(err)));
	ck_assert_uint_eq(v, HC_CODE_2XX);
	FAIL(parse_http_codes("", &v, err, sizeof(err)), "value is empty");
	FAIL(parse_http_codes("http_2xx,", &v, err, sizeof(err)),
	    "'http_2xx,' has an empty item");
	FAIL(parse_http_codes(",http_2xx", &v, err, sizeof(err)),
	    "',http_2xx' has an empty item");
	FAIL(parse_http_codes("http_2xx, ,http_3xx", &v, err, sizeof(err)),
	    "'http_2xx, ,http_3xx' has an empty item");
	FAIL(parse_http_codes("http_2xx,200", &v, err, sizeof(err)),
	    "'200' is not 'http_2xx', 'http_3xx', 'http_4xx' or 'http_5xx'");
	FAIL(parse_http_codes("http_2xx http_3xx", &v, err, sizeof(err)),
	    "'http_2xx http_3xx' is not 'http_2xx', 'http_3xx', 'http_4xx' "
	    "or 'http_5xx'");
}
END_TEST

/* [admin] allow: subjects compare with what XN_FLAG_RFC2253 prints. */
START_TEST(test_dn)
{
	char out[64];

	OK(parse_dn("CN=alice, OU=ops", out, sizeof(out), err, sizeof(err)));
	ck_assert_str_eq(out, "CN=alice,OU=ops");
	OK(parse_dn("  CN = alice ,OU=ops + UID=7 ", out, sizeof(out), err,
	    sizeof(err)));
	ck_assert_str_eq(out, "CN=alice,OU=ops+UID=7");
	/* escapes stay, escaped blanks are significant */
	OK(parse_dn("O=M\\C3\\BCller\\, Acme,CN=\\ x\\ ", out, sizeof(out),
	    err, sizeof(err)));
	ck_assert_str_eq(out, "O=M\\C3\\BCller\\, Acme,CN=\\ x\\ ");
	OK(parse_dn("CN=client", out, sizeof(out), err, sizeof(err)));
	ck_assert_str_eq(out, "CN=client");
	FAIL(parse_dn("", out, sizeof(out), err, sizeof(err)),
	    "'' is not a subject like 'CN=alice, OU=ops': an attribute has "
	    "no type");
	FAIL(parse_dn("alice", out, sizeof(out), err, sizeof(err)),
	    "'alice' is not a subject like 'CN=alice, OU=ops': no '=' after "
	    "'alice'");
	FAIL(parse_dn("CN=alice,", out, sizeof(out), err, sizeof(err)),
	    "'CN=alice,' is not a subject like 'CN=alice, OU=ops': an "
	    "attribute has no type");
	FAIL(parse_dn("CN= ,OU=x", out, sizeof(out), err, sizeof(err)),
	    "'CN= ,OU=x': attribute 'CN' has no value");
	FAIL(parse_dn("CN=x\\", out, sizeof(out), err, sizeof(err)),
	    "'CN=x\\' ends with a lone '\\'");
	FAIL(parse_dn("CN=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    out, sizeof(out), err, sizeof(err)),
	    "'CN=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is longer than 63 "
	    "bytes");
}
END_TEST

/* Repeated log lines (issue 17): the first always, then one per interval
 * saying how many were left out. */
START_TEST(test_log_limit)
{
	struct log_limit l;
	unsigned n = 99;
	int i;

	memset(&l, 0, sizeof(l));
	ck_assert(log_limit_pass(&l, 1000, 5, &n));
	ck_assert_uint_eq(n, 0);
	for (i = 0; i < 7; i++)
		ck_assert(!log_limit_pass(&l, 1000 + i % 5, 5, &n));
	ck_assert(log_limit_pass(&l, 1005, 5, &n));
	ck_assert_uint_eq(n, 7);
	ck_assert(!log_limit_pass(&l, 1009, 5, &n));
	/* a quiet spell: the next one passes with what was left out */
	ck_assert(log_limit_pass(&l, 2000, 5, &n));
	ck_assert_uint_eq(n, 1);
}
END_TEST

/* proxy_protocol_from: address blocks and who is in them. */
static bool
in_cidr(const char *cidr, const char *addr)
{
	struct parse_cidr c;
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

	OK(parse_cidr(cidr, &c, err, sizeof(err)));
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &in->sin_addr) == 1)
		in->sin_family = AF_INET;
	else {
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		in6->sin6_family = AF_INET6;
	}
	return parse_cidr_match(&c, (struct sockaddr *)&ss);
}

START_TEST(test_cidr)
{
	struct parse_cidr c;

	ck_assert(in_cidr("10.0.0.0/8", "10.255.1.2"));
	ck_assert(!in_cidr("10.0.0.0/8", "11.0.0.1"));
	ck_assert(in_cidr("192.0.2.1", "192.0.2.1"));
	ck_assert(!in_cidr("192.0.2.1", "192.0.2.2"));
	ck_assert(in_cidr("192.0.2.128/25", "192.0.2.200"));
	ck_assert(!in_cidr("192.0.2.128/25", "192.0.2.127"));
	ck_assert(in_cidr("0.0.0.0/0", "203.0.113.1"));
	ck_assert(!in_cidr("0.0.0.0/0", "::1"));
	ck_assert(in_cidr("::/0", "2001:db8::1"));
	ck_assert(in_cidr("2001:db8::/33", "2001:db8:7fff::1"));
	ck_assert(!in_cidr("2001:db8::/33", "2001:db8:8000::1"));
	ck_assert(!in_cidr("::ffff:0:0/96", "10.0.0.1"));
	OK(parse_cidr("::1", &c, err, sizeof(err)));
	ck_assert_uint_eq(c.bits, 128);
	FAIL(parse_cidr("10.0.0.0/33", &c, err, sizeof(err)),
	    "'10.0.0.0/33': prefix length '33' is not in 0..32");
	FAIL(parse_cidr("10.0.0.0/", &c, err, sizeof(err)),
	    "'10.0.0.0/': prefix length '' is not in 0..32");
	FAIL(parse_cidr("10.0.0.1/24", &c, err, sizeof(err)),
	    "'10.0.0.1/24' has host bits set (the network is written with "
	    "them zero)");
	FAIL(parse_cidr("/8", &c, err, sizeof(err)),
	    "'/8' is not an address or ADDRESS/BITS");
	FAIL(parse_cidr("[::1]/128", &c, err, sizeof(err)),
	    "'[::1]/128': '[::1]' is not a numeric IPv4 or IPv6 address");
}
END_TEST

/* server_name values, and how a pattern matches a server name or Host */
START_TEST(test_server_name)
{
	static const char *const good[] = {
		"example.com", "a", "*.example.com", "x-1.example.com",
		"_acme.example.com", NULL,
	};
	static const char *const bad[] = {
		"", "*", "*.", "a..b", ".a", "a.", "*.*.example.com",
		"a*.example.com", "ex ample.com", "\xc3\xa9.example.com",
		"a.*.example.com", NULL,
	};
	char l63[64], l64[65], n254[256];
	size_t i;

	for (i = 0; good[i] != NULL; i++)
		ck_assert_msg(parse_server_name(good[i], strlen(good[i])) == 0,
		    "%s", good[i]);
	for (i = 0; bad[i] != NULL; i++)
		ck_assert_msg(parse_server_name(bad[i], strlen(bad[i])) == -1,
		    "%s", bad[i]);
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	ck_assert_int_eq(parse_server_name(l63, 63), 0);
	ck_assert_int_eq(parse_server_name(l64, 64), -1);
	/* 253 bytes are a name, 254 are not */
	for (i = 0; i < 254; i++)
		n254[i] = i % 2 == 0 ? 'a' : '.';
	n254[253] = 'a';
	n254[254] = '\0';
	ck_assert_int_eq(parse_server_name(n254, 253), 0);
	ck_assert_int_eq(parse_server_name(n254, 254), -1);
	/* a NUL in the name is not a name */
	ck_assert_int_eq(parse_server_name("a\0b", 3), -1);

	ck_assert_int_eq(parse_name_match("www.example.com", "www.example.com",
	    15), PARSE_NAME_EXACT);
	ck_assert_int_eq(parse_name_match("www.example.com", "WWW.Example.COM.",
	    16), PARSE_NAME_EXACT);
	ck_assert_int_eq(parse_name_match("www.example.com", "ww.example.com",
	    14), PARSE_NAME_NONE);
	ck_assert_int_eq(parse_name_match("*.example.com", "a.example.com",
	    13), PARSE_NAME_WILDCARD);
	ck_assert_int_eq(parse_name_match("*.example.com", "example.com", 11),
	    PARSE_NAME_NONE);
	ck_assert_int_eq(parse_name_match("*.example.com", ".example.com", 12),
	    PARSE_NAME_NONE);
	ck_assert_int_eq(parse_name_match("*.example.com", "a.b.example.com",
	    15), PARSE_NAME_NONE);
	ck_assert_int_eq(parse_name_match("*.example.com", "a.xexample.com",
	    14), PARSE_NAME_NONE);
	ck_assert_int_eq(parse_name_match("*.example.com", "", 0),
	    PARSE_NAME_NONE);
	/* only len bytes count */
	ck_assert_int_eq(parse_name_match("a.example.com", "a.example.com:443",
	    13), PARSE_NAME_EXACT);
}
END_TEST

static Suite *
parse_suite(void)
{
	Suite *s = suite_create("parse");
	TCase *tc;

	tc = tcase_create("uint");
	tcase_add_test(tc, test_uint);
	tcase_add_test(tc, test_uint_no_buffer);
	suite_add_tcase(s, tc);
	tc = tcase_create("duration");
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_duration_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("size");
	tcase_add_test(tc, test_size);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, test_fmt);
	suite_add_tcase(s, tc);
	tc = tcase_create("onoff");
	tcase_add_test(tc, test_onoff);
	suite_add_tcase(s, tc);
	tc = tcase_create("enum");
	tcase_add_test(tc, test_enum);
	suite_add_tcase(s, tc);
	tc = tcase_create("name");
	tcase_add_test(tc, test_name);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostport");
	tcase_add_test(tc, test_hostport);
	tcase_add_test(tc, test_hostport_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("server");
	tcase_add_test(tc, test_server);
	tcase_add_test(tc, test_server_bad);
	suite_add_tcase(s, tc);
	tc = tcase_create("http_codes");
	tcase_add_test(tc, test_http_codes);
	suite_add_tcase(s, tc);
	tc = tcase_create("cidr");
	tcase_add_test(tc, test_cidr);
	suite_add_tcase(s, tc);
	tc = tcase_create("path");
	tcase_add_test(tc, test_path);
	suite_add_tcase(s, tc);
	tc = tcase_create("dn");
	tcase_add_test(tc, test_dn);
	suite_add_tcase(s, tc);
	tc = tcase_create("log_limit");
	tcase_add_test(tc, test_log_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("server_name");
	tcase_add_test(tc, test_server_name);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { parse_suite, NULL, NULL };
