/*
 * Unit tests for proxyproto.c: v1 and v2 headers as HAProxy's spec
 * writes them (its examples byte for byte), LOCAL and UNKNOWN, every
 * prefix of a valid header asks for more, garbage and over-long headers
 * are refused at once, TLVs are skipped but must fit, and what the
 * writers produce parses back to the same addresses.
 */
#include "ac_config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"
#include "test_main.h"

static const uint8_t sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
};

static void
sa4(struct sockaddr_in *in, const char *a, unsigned port)
{
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &in->sin_addr), 1);
	in->sin_port = htons((uint16_t)port);
}

static void
sa6(struct sockaddr_in6 *in6, const char *a, unsigned port)
{
	memset(in6, 0, sizeof(*in6));
	in6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
	in6->sin6_port = htons((uint16_t)port);
}

/* "ADDR PORT" of an address the parser filled. */
static const char *
fmt(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s %u", a, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "%s %u", a, ntohs(in6->sin6_port));
	} else
		snprintf(buf, len, "family %d", ss->ss_family);
	return buf;
}

/* Every proper prefix of a complete header asks for more bytes. */
static void
assert_prefixes_incomplete(const uint8_t *b, size_t n)
{
	struct proxyproto_hdr h;
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_msg(proxyproto_parse(b, i, &h) == 0,
		    "prefix of %zu of %zu bytes: not 'need more'", i, n);
}

static void
assert_header(const void *b, size_t n, int version, const char *src,
    const char *dst)
{
	struct proxyproto_hdr h;
	uint8_t more[PROXYPROTO_MAX + 64];
	char s[80], d[80];

	ck_assert_int_eq(proxyproto_parse(b, n, &h), (int)n);
	ck_assert_int_eq(h.version, version);
	ck_assert(!h.local);
	ck_assert_str_eq(fmt(&h.src, s, sizeof(s)), src);
	ck_assert_str_eq(fmt(&h.dst, d, sizeof(d)), dst);
	assert_prefixes_incomplete(b, n);
	/* what follows the header (the ClientHello) is not read */
	memcpy(more, b, n);
	memset(more + n, 0x16, 64);
	ck_assert_int_eq(proxyproto_parse(more, n + 64, &h), (int)n);
}

static void
assert_bad(const void *b, size_t n)
{
	struct proxyproto_hdr h;

	ck_assert_msg(proxyproto_parse(b, n, &h) == -1, "accepted: %.*s",
	    (int)n, (const char *)b);
}

static void
assert_bad_str(const char *s)
{
	assert_bad(s, strlen(s));
}

START_TEST(v1_valid)
{
	const char *a = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
	const char *b = "PROXY TCP6 2001:db8::1 ::1 0 65535\r\n";
	const char *c = "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n";

	assert_header(a, strlen(a), 1, "192.168.0.1 56324",
	    "192.168.0.11 443");
	assert_header(b, strlen(b), 1, "2001:db8::1 0", "::1 65535");
	assert_header(c, strlen(c), 1, "::ffff:192.0.2.1 1", "::1 2");
}
END_TEST

START_TEST(v1_unknown_is_local)
{
	const char *a = "PROXY UNKNOWN\r\n";
	const char *b = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n";
	struct proxyproto_hdr h;

	ck_assert_int_eq(proxyproto_parse((const void *)a, strlen(a), &h),
	    (int)strlen(a));
	ck_assert(h.local);
	ck_assert_int_eq(proxyproto_parse((const void *)b, strlen(b), &h),
	    (int)strlen(b));
	ck_assert(h.local);
}
END_TEST

START_TEST(v1_invalid)
{
	char longline[200];

	assert_bad_str("\x16\x03\x01\x02\x00");	/* a TLS ClientHello */
	assert_bad_str("GET / HTTP/1.1\r\n");
	assert_bad_str("PROXY\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n");	/* bare LF */
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX");
	assert_bad_str("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n");
	assert_bad_str("PROXY TCP4 ::1 ::1 1 2\r\n");
	assert_bad_str("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n");
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n");
	assert_bad_str("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n");
	assert_bad_str("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
	assert_bad("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33);
	assert_bad_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xc3\xa9\r\n");
	/* 107 bytes at most, CRLF included; no CRLF in time is refused */
	memset(longline, 'x', sizeof(longline));
	memcpy(longline, "PROXY UNKNOWN ", 14);
	memcpy(longline + 105, "\r\n", 2);
	ck_assert_int_eq(proxyproto_parse((const void *)longline, 107,
	    &(struct proxyproto_hdr){ 0 }), 107);
	memcpy(longline + 105, "x\r\n", 3);
	assert_bad(longline, 108);
	assert_bad(longline, 107);
	memset(longline + 14, 'x', sizeof(longline) - 14);
	assert_bad(longline, sizeof(longline));
}
END_TEST

/* A v2 header from parts: command byte, family byte, body. */
static size_t
v2(uint8_t *out, uint8_t ver_cmd, uint8_t fam, const void *body, size_t n)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(n >> 8);
	out[15] = (uint8_t)n;
	memcpy(out + 16, body, n);
	return 16 + n;
}

START_TEST(v2_valid)
{
	uint8_t b[PROXYPROTO_MAX + 64], body[64];
	size_t n;

	/* 192.0.2.1:56324 -> 198.51.100.7:443 */
	memcpy(body, "\xc0\x00\x02\x01\xc6\x33\x64\x07\xdc\x04\x01\xbb", 12);
	n = v2(b, 0x21, 0x11, body, 12);
	assert_header(b, n, 2, "192.0.2.1 56324", "198.51.100.7 443");
	/* with TLVs: an ALPN and an empty NOOP, skipped */
	memcpy(body + 12, "\x01\x00\x02h2\x04\x00\x00", 8);
	n = v2(b, 0x21, 0x11, body, 20);
	assert_header(b, n, 2, "192.0.2.1 56324", "198.51.100.7 443");
	/* proto UNSPEC over INET is taken as TCP */
	n = v2(b, 0x21, 0x10, body, 12);
	assert_header(b, n, 2, "192.0.2.1 56324", "198.51.100.7 443");
	/* IPv6 */
	memset(body, 0, 36);
	body[0] = 0x20; body[1] = 0x01; body[2] = 0x0d; body[3] = 0xb8;
	body[15] = 1; body[31] = 1;
	body[32] = 0x04; body[33] = 0xd2; body[34] = 0x00; body[35] = 0x50;
	n = v2(b, 0x21, 0x21, body, 36);
	assert_header(b, n, 2, "2001:db8::1 1234", "::1 80");
}
END_TEST

START_TEST(v2_local_and_unspec)
{
	uint8_t b[PROXYPROTO_MAX], body[216];
	struct proxyproto_hdr h;
	size_t n;

	/* LOCAL: the balancer's own health check; no addresses at all */
	n = v2(b, 0x20, 0x00, body, 0);
	ck_assert_int_eq(proxyproto_parse(b, n, &h), (int)n);
	ck_assert(h.local);
	ck_assert_int_eq(h.version, 2);
	assert_prefixes_incomplete(b, n);
	/* LOCAL with an address block: ignored */
	memset(body, 0xab, sizeof(body));
	n = v2(b, 0x20, 0x11, body, 12);
	ck_assert_int_eq(proxyproto_parse(b, n, &h), (int)n);
	ck_assert(h.local);
	/* PROXY over UNSPEC or UNIX: the real endpoints are used */
	n = v2(b, 0x21, 0x00, body, 0);
	ck_assert_int_eq(proxyproto_parse(b, n, &h), (int)n);
	ck_assert(h.local);
	n = v2(b, 0x21, 0x31, body, 216);
	ck_assert_int_eq(proxyproto_parse(b, n, &h), (int)n);
	ck_assert(h.local);
}
END_TEST

START_TEST(v2_invalid)
{
	uint8_t b[PROXYPROTO_MAX + 64], body[PROXYPROTO_MAX];
	size_t n;

	memset(body, 0, sizeof(body));
	n = v2(b, 0x21, 0x11, body, 12);
	b[3] = 'x';					/* signature */
	assert_bad(b, n);
	assert_bad(b, 4);				/* ... seen early */
	n = v2(b, 0x11, 0x11, body, 12);		/* version 1 */
	assert_bad(b, n);
	assert_bad(b, 13);
	n = v2(b, 0x22, 0x11, body, 12);		/* command 2 */
	assert_bad(b, n);
	n = v2(b, 0x21, 0x41, body, 12);		/* family 4 */
	assert_bad(b, n);
	assert_bad(b, 14);
	n = v2(b, 0x21, 0x13, body, 12);		/* protocol 3 */
	assert_bad(b, n);
	n = v2(b, 0x21, 0x12, body, 12);		/* UDP */
	assert_bad(b, n);
	n = v2(b, 0x21, 0x11, body, 11);		/* short IPv4 block */
	assert_bad(b, n);
	n = v2(b, 0x21, 0x21, body, 35);		/* short IPv6 block */
	assert_bad(b, n);
	/* a TLV longer than what is left, or a cut TLV header */
	memcpy(body + 12, "\x01\x00\x05h2", 5);
	n = v2(b, 0x21, 0x11, body, 17);
	assert_bad(b, n);
	n = v2(b, 0x21, 0x11, body, 14);
	assert_bad(b, n);
	/* over the length limit: refused from the preamble alone */
	n = v2(b, 0x21, 0x11, body, PROXYPROTO_V2_MAX - 16 + 1);
	assert_bad(b, 16);
	memset(body + 12, 0, 3);
	n = v2(b, 0x21, 0x11, body, PROXYPROTO_V2_MAX - 16);
	body[12] = 0x04;
	body[13] = (uint8_t)((PROXYPROTO_V2_MAX - 16 - 15) >> 8);
	body[14] = (uint8_t)(PROXYPROTO_V2_MAX - 16 - 15);
	n = v2(b, 0x21, 0x11, body, PROXYPROTO_V2_MAX - 16);
	assert_header(b, n, 2, "0.0.0.0 0", "0.0.0.0 0");
}
END_TEST

START_TEST(write_v1_round_trip)
{
	struct sockaddr_in s4, d4;
	struct sockaddr_in6 s6, d6;
	char b[PROXYPROTO_V1_MAX + 1];
	size_t n;

	sa4(&s4, "203.0.113.9", 40000);
	sa4(&d4, "10.0.0.1", 443);
	n = proxyproto_write_v1(b, sizeof(b), (void *)&s4, (void *)&d4);
	ck_assert_str_eq(b, "PROXY TCP4 203.0.113.9 10.0.0.1 40000 443\r\n");
	assert_header(b, n, 1, "203.0.113.9 40000", "10.0.0.1 443");
	sa6(&s6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	sa6(&d6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535);
	n = proxyproto_write_v1(b, sizeof(b), (void *)&s6, (void *)&d6);
	ck_assert_uint_le(n, PROXYPROTO_V1_MAX);
	assert_header(b, n, 1, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe 65535");
	/* mixed families: UNKNOWN */
	n = proxyproto_write_v1(b, sizeof(b), (void *)&s4, (void *)&d6);
	ck_assert_str_eq(b, "PROXY UNKNOWN\r\n");
	ck_assert_uint_eq(proxyproto_write_v1(b, 10, (void *)&s4,
	    (void *)&d4), 0);
}
END_TEST

START_TEST(write_v2_ssl)
{
	struct sockaddr_in s4, d4;
	struct proxyproto_ssl ssl = { true, true, 0, "TLSv1.3",
	    "TLS_AES_128_GCM_SHA256", "client" };
	uint8_t b[512];
	size_t n, off;

	sa4(&s4, "203.0.113.9", 40000);
	sa4(&d4, "10.0.0.1", 443);
	n = proxyproto_write_v2(b, sizeof(b), (void *)&s4, (void *)&d4, &ssl);
	assert_header(b, n, 2, "203.0.113.9 40000", "10.0.0.1 443");
	ck_assert_uint_eq(b[12], 0x21);
	ck_assert_uint_eq(b[13], 0x11);
	/* the SSL TLV after the 12 address bytes */
	off = 16 + 12;
	ck_assert_uint_eq(b[off], PP2_TYPE_SSL);
	ck_assert_uint_eq((size_t)b[off + 1] << 8 | b[off + 2], n - off - 3);
	ck_assert_uint_eq(b[off + 3], PP2_CLIENT_SSL | PP2_CLIENT_CERT_CONN |
	    PP2_CLIENT_CERT_SESS);
	ck_assert(memcmp(b + off + 4, "\0\0\0\0", 4) == 0);
	ck_assert(memcmp(b + off + 8, "\x21\x00\x07TLSv1.3", 10) == 0);
	ck_assert(memcmp(b + off + 18, "\x22\x00\x06" "client", 9) == 0);
	ck_assert(memcmp(b + off + 27, "\x23\x00\x16TLS_AES_128_GCM_SHA256",
	    25) == 0);
	ck_assert_uint_eq(off + 52, n);
	/* no certificate: verify non-zero, no CN */
	ssl.cert_conn = ssl.cert_sess = false;
	ssl.verify = 1;
	ssl.cn = NULL;
	n = proxyproto_write_v2(b, sizeof(b), (void *)&s4, (void *)&d4, &ssl);
	assert_header(b, n, 2, "203.0.113.9 40000", "10.0.0.1 443");
	ck_assert_uint_eq(b[off + 3], PP2_CLIENT_SSL);
	ck_assert(memcmp(b + off + 4, "\0\0\0\1", 4) == 0);
	/* too small a buffer */
	ck_assert_uint_eq(proxyproto_write_v2(b, 40, (void *)&s4,
	    (void *)&d4, &ssl), 0);
	/* plain v2, mixed families: LOCAL */
	n = proxyproto_write_v2(b, sizeof(b), (void *)&s4, (void *)&d4, NULL);
	ck_assert_uint_eq(n, 28);
	ck_assert_uint_eq(b[12], 0x21);
	n = proxyproto_write_v2(b, sizeof(b), (void *)&s4, NULL, NULL);
	ck_assert_uint_eq(n, 16);
	ck_assert_uint_eq(b[12], 0x20);
}
END_TEST

static Suite *
proxyproto_suite(void)
{
	Suite *s = suite_create("proxyproto");
	TCase *tc;

#define ADD(name) do {					\
	tc = tcase_create(#name);			\
	tcase_add_test(tc, name);			\
	suite_add_tcase(s, tc);				\
} while (0)
	ADD(v1_valid);
	ADD(v1_unknown_is_local);
	ADD(v1_invalid);
	ADD(v2_valid);
	ADD(v2_local_and_unspec);
	ADD(v2_invalid);
	ADD(write_v1_round_trip);
	ADD(write_v2_ssl);
#undef ADD
	return s;
}

const struct test_unit test_unit = { proxyproto_suite, NULL, NULL };
