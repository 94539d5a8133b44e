/*
 * check_http: unit tests for the HTTP/1.1 head parser, the framing rules
 * that stop request smuggling, header rewriting, error pages and the
 * chunked-body scanner.
 */
#include "ac_config.h"
#include "http.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "test_main.h"

#define NHDR	128

static struct http_msg msg;
static struct http_header hdrs[NHDR];

static int
req_lim(const char *s, size_t len, const struct http_limits *lim)
{
	return http_parse_request(s, len, lim, &msg, hdrs, NHDR);
}

static int
req(const char *s)
{
	return req_lim(s, strlen(s), NULL);
}

static int
resp(const char *s, bool head)
{
	return http_parse_response(s, strlen(s), NULL, head, &msg, hdrs,
	    NHDR);
}

static bool
span_eq(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* Returns the bytes of b as a NUL-terminated string owned by the caller. */
static char *
drain(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

#define ck_assert_req(s, rc)	ck_assert_int_eq(req(s), (rc))

/* ---- good requests ---- */

START_TEST(test_get)
{
	const char *s = "GET /a?b=c HTTP/1.1\r\nHost:  example.com \t\r\n"
	    "Accept: */*\r\nX-Empty:\r\n\r\nNEXT";
	int rc = req(s);

	ck_assert_int_eq(rc, (int)strlen(s) - 4);
	ck_assert_uint_eq(msg.head_len, strlen(s) - 4);
	ck_assert(span_eq(msg.method, msg.method_len, "GET"));
	ck_assert(span_eq(msg.target, msg.target_len, "/a?b=c"));
	ck_assert_int_eq(msg.version, 11);
	ck_assert_uint_eq(msg.nhdr, 3);
	ck_assert_ptr_eq(msg.hdr, hdrs);
	ck_assert(span_eq(hdrs[0].name, hdrs[0].name_len, "Host"));
	ck_assert(span_eq(hdrs[0].value, hdrs[0].value_len, "example.com"));
	ck_assert(span_eq(hdrs[2].name, hdrs[2].name_len, "X-Empty"));
	ck_assert_uint_eq(hdrs[2].value_len, 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert(msg.keep_alive);
	ck_assert(!msg.upgrade);
	ck_assert(!msg.expect_continue);
	ck_assert(!msg.is_head);
	/* points into the buffer, no copies */
	ck_assert_ptr_eq(msg.method, s);
}
END_TEST

START_TEST(test_post_length)
{
	ck_assert_int_gt(req("POST /up HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 42\r\nExpect: 100-continue\r\n\r\n"), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(msg.content_length, 42);
	ck_assert(msg.has_content_length);
	ck_assert(msg.expect_continue);

	ck_assert_int_gt(req("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 0\r\n\r\n"), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert(msg.has_content_length);

	/* Expect is ignored from 1.0 clients (RFC 9110 10.1.1) */
	ck_assert_int_gt(req("POST / HTTP/1.0\r\nContent-Length: 1\r\n"
	    "Expect: 100-continue\r\n\r\n"), 0);
	ck_assert(!msg.expect_continue);
}
END_TEST

START_TEST(test_post_chunked)
{
	ck_assert_int_gt(req("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n"), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_CHUNKED);
	ck_assert_int_gt(req("POST / HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: , chunked\r\n\r\n"), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_CHUNKED);
}
END_TEST

START_TEST(test_head_method)
{
	ck_assert_int_gt(req("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ck_assert(msg.is_head);
	/* methods are case-sensitive */
	ck_assert_int_gt(req("head / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ck_assert(!msg.is_head);
}
END_TEST

START_TEST(test_keep_alive)
{
	ck_assert_int_gt(req("GET / HTTP/1.0\r\n\r\n"), 0);
	ck_assert_int_eq(msg.version, 10);
	ck_assert(!msg.keep_alive);
	ck_assert_int_gt(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n"
	    "\r\n"), 0);
	ck_assert(msg.keep_alive);
	ck_assert_int_gt(req("GET / HTTP/1.0\r\nConnection: keep-alive, "
	    "close\r\n\r\n"), 0);
	ck_assert(!msg.keep_alive);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: foo, CLOSE\r\n\r\n"), 0);
	ck_assert(!msg.keep_alive);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: foo\r\nConnection: close\r\n\r\n"), 0);
	ck_assert(!msg.keep_alive);
}
END_TEST

START_TEST(test_upgrade)
{
	ck_assert_int_gt(req("GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"), 0);
	ck_assert(msg.upgrade);
	ck_assert_int_gt(req("GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Upgrade: websocket\r\n\r\n"), 0);
	ck_assert(!msg.upgrade);
	ck_assert_int_gt(req("GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Connection: upgrade\r\n\r\n"), 0);
	ck_assert(!msg.upgrade);
	ck_assert_int_gt(req("GET /ws HTTP/1.0\r\n"
	    "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"), 0);
	ck_assert(!msg.upgrade);
}
END_TEST

START_TEST(test_leading_crlf)
{
	const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n";

	ck_assert_int_eq(req(s), (int)strlen(s));
	ck_assert_ptr_eq(msg.method, s + 4);
	ck_assert_int_eq(req("\r\n"), 0);
	ck_assert_int_eq(req("\r"), 0);
	ck_assert_int_eq(req(""), 0);
	ck_assert_req("\n", -400);
	ck_assert_req("\r\n\nGET / HTTP/1.1\r\n", -400);
	/* a few are tolerated, a flood is not */
	ck_assert_int_gt(req("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
	    "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ck_assert_req("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n", -400);
}
END_TEST

START_TEST(test_find_header)
{
	const struct http_header *h;

	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n"
	    "x-a: 2\r\n\r\n"), 0);
	h = http_find_header(&msg, "X-A");
	ck_assert_ptr_nonnull(h);
	ck_assert(span_eq(h->value, h->value_len, "1"));
	ck_assert_ptr_null(http_find_header(&msg, "X-"));
	ck_assert(http_token_eq("Chunked", 7, "chunked"));
	ck_assert(!http_token_eq("chunked", 6, "chunked"));
	ck_assert(!http_token_eq("chunkedx", 8, "chunked"));
	ck_assert(http_token_eq("", 0, ""));
}
END_TEST

/* ---- incomplete heads ---- */

START_TEST(test_incomplete)
{
	const char *s = "\r\nPOST /x HTTP/1.1\r\nHost: h\r\n"
	    "Content-Length: 3\r\nA: b\r\n\r\n";
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		ck_assert_msg(req_lim(s, i, NULL) == 0, "prefix %zu", i);
	ck_assert_int_eq(req_lim(s, n, NULL), (int)n);

	s = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n";
	n = strlen(s);
	for (i = 0; i < n; i++)
		ck_assert_msg(http_parse_response(s, i, NULL, false, &msg,
		    hdrs, NHDR) == 0, "prefix %zu", i);
	ck_assert_int_eq(http_parse_response(s, n, NULL, false, &msg, hdrs,
	    NHDR), (int)n);
}
END_TEST

/* ---- request line ---- */

START_TEST(test_request_line_400)
{
	ck_assert_req("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", -400);
	ck_assert_req(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET /\r\n\r\n", -400);
	ck_assert_req("GET / http/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.10\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET / HTTPS/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET /a\rb HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET\r\n\r\n", -400);
	ck_assert_int_eq(req_lim("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n", 30,
	    NULL), -400);
	/* rejected as soon as the line is complete, before the head is */
	ck_assert_req("GET  / HTTP/1.1\r\n", -400);
}
END_TEST

START_TEST(test_request_line_505)
{
	ck_assert_req("GET / HTTP/2.0\r\nHost: h\r\n\r\n", -505);
	ck_assert_req("GET / HTTP/1.2\r\nHost: h\r\n\r\n", -505);
	ck_assert_req("GET / HTTP/0.9\r\nHost: h\r\n\r\n", -505);
	ck_assert_req("GET / HTTP/3.0\r\n", -505);
}
END_TEST

START_TEST(test_bare_lf)
{
	ck_assert_req("GET / HTTP/1.1\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\n\n", -400);
	/* incomplete heads: answer now, not at the read timeout */
	ck_assert_req("GET / HTTP/1.1\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nA: b\nC", -400);
	/* bare CR */
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", -400);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\nA: b\r\n\r\n", false), -1);
}
END_TEST

/* ---- limits ---- */

static char big[200000];

/* Builds "GET /aaa... HTTP/1.1" whose line (without CRLF) is n bytes. */
static size_t
make_line(size_t n)
{
	size_t t = n - strlen("GET / HTTP/1.1");

	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', t);
	memcpy(big + 5 + t, " HTTP/1.1", 9);
	return n;
}

START_TEST(test_limit_request_line)
{
	struct http_limits lim = { 100, 1000, 10 };
	size_t n;

	n = make_line(100);
	memcpy(big + n, "\r\nHost: h\r\n\r\n", 13);
	ck_assert_int_eq(req_lim(big, n + 13, &lim), (int)n + 13);
	n = make_line(101);
	memcpy(big + n, "\r\nHost: h\r\n\r\n", 13);
	ck_assert_int_eq(req_lim(big, n + 13, &lim), -414);
	/* incomplete: limit bytes wait, limit + 1 is refused */
	ck_assert_int_eq(req_lim(big, 100, &lim), 0);
	ck_assert_int_eq(req_lim(big, 101, &lim), -414);
	n = make_line(100);
	memcpy(big + n, "\r", 1);
	ck_assert_int_eq(req_lim(big, 101, &lim), 0);
	/* the default is 8192 */
	n = make_line(8192);
	memcpy(big + n, "\r\nHost: h\r\n\r\n", 13);
	ck_assert_int_gt(req_lim(big, n + 13, NULL), 0);
	n = make_line(8193);
	memcpy(big + n, "\r\nHost: h\r\n\r\n", 13);
	ck_assert_int_eq(req_lim(big, n + 13, NULL), -414);
}
END_TEST

/* A head of exactly n bytes: request line, Host, one padded field. */
static size_t
make_head(size_t n)
{
	const char *pre = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
	size_t p = strlen(pre), pad = n - p - 4;

	memcpy(big, pre, p);
	memset(big + p, 'v', pad);
	memcpy(big + p + pad, "\r\n\r\n", 4);
	return n;
}

START_TEST(test_limit_header_size)
{
	struct http_limits lim = { 100, 1000, 10 };
	size_t n;

	n = make_head(1000);
	ck_assert_int_eq(req_lim(big, n, &lim), 1000);
	n = make_head(1001);
	ck_assert_int_eq(req_lim(big, n, &lim), -431);
	/* incomplete: what the caller pulls up is at most limit + 1 */
	ck_assert_int_eq(req_lim(big, 1000, &lim), 0);
	ck_assert_int_eq(req_lim(big, 1001, &lim), -431);
	/* leading empty lines count */
	memset(big, 0, sizeof(big));
	make_head(998);
	memmove(big + 2, big, 998);
	memcpy(big, "\r\n", 2);
	ck_assert_int_eq(req_lim(big, 1000, &lim), 1000);
	memmove(big + 2, big, 1000);
	memcpy(big, "\r\n", 2);
	ck_assert_int_eq(req_lim(big, 1002, &lim), -431);
	/* the default is 65536 */
	n = make_head(65536);
	ck_assert_int_eq(req_lim(big, n, NULL), 65536);
	n = make_head(65537);
	ck_assert_int_eq(req_lim(big, n, NULL), -431);
	ck_assert_int_eq(req_lim(big, 65537, NULL), -431);
}
END_TEST

static size_t
make_fields(size_t nf)
{
	size_t n, i;

	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (i = 1; i < nf; i++)
		n += (size_t)sprintf(big + n, "X-%zu: v\r\n", i);
	n += (size_t)sprintf(big + n, "\r\n");
	return n;
}

START_TEST(test_limit_headers)
{
	struct http_limits lim = { 100, 10000, 10 };
	size_t n;

	n = make_fields(10);
	ck_assert_int_eq(req_lim(big, n, &lim), (int)n);
	ck_assert_uint_eq(msg.nhdr, 10);
	n = make_fields(11);
	ck_assert_int_eq(req_lim(big, n, &lim), -431);
	/* detected while the head is still incomplete */
	ck_assert_int_eq(req_lim(big, n - 2, &lim), -431);
	/* the caller's array is a limit too */
	n = make_fields(5);
	ck_assert_int_eq(http_parse_request(big, n, &lim, &msg, hdrs, 4),
	    -431);
	ck_assert_int_eq(http_parse_request(big, n, &lim, &msg, hdrs, 5),
	    (int)n);
	/* the default is 100 */
	n = make_fields(100);
	ck_assert_int_eq(req_lim(big, n, NULL), (int)n);
	n = make_fields(101);
	ck_assert_int_eq(req_lim(big, n, NULL), -431);
}
END_TEST

/* ---- header fields ---- */

START_TEST(test_field_syntax)
{
	ck_assert_req("GET / HTTP/1.1\r\nHost : h\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX-A\t: 1\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX A: 1\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX(: 1\r\n\r\n", -400);
	/* obs-fold, including on the first field */
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\n Host: h\r\n\r\n", -400);
	/* CTLs in values; HTAB and obs-text are fine */
	ck_assert_int_eq(req_lim("GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n",
	    35, NULL), -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x01" "b\r\n\r\n",
	    -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b\r\n\r\n", -400);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\n"
	    "X: a\tb \xc3\xa9\r\n\r\n"), 0);
	ck_assert(span_eq(hdrs[1].value, hdrs[1].value_len, "a\tb \xc3\xa9"));
}
END_TEST

START_TEST(test_host)
{
	ck_assert_req("GET / HTTP/1.1\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", -400);
	ck_assert_int_gt(req("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), 0);
	/* an empty Host names no virtual host a backend could route by */
	ck_assert_req("GET / HTTP/1.1\r\nHost:\r\n\r\n", -400);
}
END_TEST

/* RFC 9112 3.2.2: the authority of an absolute-form target is the Host. */
START_TEST(test_target_absolute)
{
	ck_assert_int_gt(req("GET http://internal.example/admin?x HTTP/1.1\r\n"
	    "Host: public\r\n\r\n"), 0);
	ck_assert(span_eq(msg.authority, msg.authority_len,
	    "internal.example"));
	ck_assert(span_eq(msg.path, msg.path_len, "/admin?x"));
	ck_assert(span_eq(msg.target, msg.target_len,
	    "http://internal.example/admin?x"));
	ck_assert_int_gt(req("GET HTTPS://[::1]:8443 HTTP/1.1\r\n"
	    "Host: a\r\n\r\n"), 0);
	ck_assert(span_eq(msg.authority, msg.authority_len, "[::1]:8443"));
	ck_assert_uint_eq(msg.path_len, 0);
	/* 1.0 needs no Host: the target's authority is the one sent */
	ck_assert_int_gt(req("GET http://a.b:81/ HTTP/1.0\r\n\r\n"), 0);
	ck_assert(span_eq(msg.authority, msg.authority_len, "a.b:81"));
	/* origin-form: path is the target, authority the Host */
	ck_assert_int_gt(req("GET /x HTTP/1.1\r\nHost: h:1\r\n\r\n"), 0);
	ck_assert(span_eq(msg.path, msg.path_len, "/x"));
	ck_assert(span_eq(msg.authority, msg.authority_len, "h:1"));
	ck_assert_int_gt(req("GET / HTTP/1.0\r\n\r\n"), 0);
	ck_assert_ptr_null(msg.authority);
}
END_TEST

START_TEST(test_target_invalid)
{
	ck_assert_req("GET foo HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET * HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_int_gt(req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
	ck_assert_req("GET ftp://a/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http:/a HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http:// HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http://u@a/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http://a#f HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http://a:x/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET http://[::1/ HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	ck_assert_req("GET a:443 HTTP/1.1\r\nHost: h\r\n\r\n", -400);
	/* authority-form is CONNECT's (which conn.c answers with 501) */
	ck_assert_int_gt(req("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"),
	    0);
	ck_assert_req("CONNECT a/b HTTP/1.1\r\nHost: a\r\n\r\n", -400);
	/* absolute-form does not excuse a missing or bad Host in 1.1 */
	ck_assert_req("GET http://a/ HTTP/1.1\r\n\r\n", -400);
	ck_assert_req("GET http://a/ HTTP/1.1\r\nHost: a b\r\n\r\n", -400);
}
END_TEST

START_TEST(test_host_value)
{
	ck_assert_req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: evil@a\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a:1:2\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: [fe80::1%25e]\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.0\r\nHost:\r\n\r\n", -400);
	ck_assert_req("GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n", -400);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: a.b-c_d~:65535\r\n\r\n"),
	    0);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: [::ffff:1.2.3.4]:1\r\n"
	    "\r\n"), 0);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: a%2D\r\n\r\n"), 0);
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 0);
}
END_TEST

#define POST11	"POST / HTTP/1.1\r\nHost: h\r\n"

START_TEST(test_content_length)
{
	ck_assert_req(POST11 "Content-Length: 1a\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: +1\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: -1\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: 0x10\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: 1 2\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length:\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: 5,\r\n\r\n", -400);
	ck_assert_req(POST11 "Content-Length: 99999999999999999999\r\n\r\n",
	    -400);
	ck_assert_req(POST11 "Content-Length: 9223372036854775808\r\n\r\n",
	    -400);
	ck_assert_int_gt(req(POST11 "Content-Length: 9223372036854775807"
	    "\r\n\r\n"), 0);
	ck_assert_uint_eq(msg.content_length, 9223372036854775807ULL);
	ck_assert_req(POST11 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
	    -400);
	ck_assert_req(POST11 "Content-Length: 5, 6\r\n\r\n", -400);
	ck_assert_int_gt(req(POST11 "Content-Length: 5 , 5\r\n"
	    "content-length: 5\r\n\r\n"), 0);
	ck_assert_uint_eq(msg.content_length, 5);
	ck_assert_int_eq(msg.body, HTTP_BODY_LENGTH);
	ck_assert_int_gt(req(POST11 "Content-Length: 007\r\n\r\n"), 0);
	ck_assert_uint_eq(msg.content_length, 7);
}
END_TEST

START_TEST(test_transfer_encoding)
{
	ck_assert_req(POST11 "Content-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked\r\n"
	    "Content-Length: 0\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked, chunked\r\n\r\n",
	    -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked, gzip\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked;x=1\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: chunked\x01\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding: \"chunked\"\r\n\r\n", -400);
	ck_assert_req(POST11 "Transfer-Encoding:\r\n\r\n", -501);
	ck_assert_req(POST11 "Transfer-Encoding: gzip, chunked\r\n\r\n", -501);
	ck_assert_req(POST11 "Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", -501);
	ck_assert_req(POST11 "Transfer-Encoding: identity\r\n\r\n", -501);
	ck_assert_req(POST11 "Transfer-Encoding: gzip\r\n\r\n", -501);
	ck_assert_req(POST11 "Transfer-Encoding: chunkedx\r\n\r\n", -501);
	ck_assert_req("POST / HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", -400);
	ck_assert_int_gt(req(POST11 "Transfer-Encoding: \tchunked \r\n\r\n"),
	    0);
	ck_assert_int_eq(msg.body, HTTP_BODY_CHUNKED);
}
END_TEST

/* ---- responses ---- */

START_TEST(test_response_good)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n";

	ck_assert_int_eq(resp(s, false), (int)strlen(s));
	ck_assert_int_eq(msg.status, 200);
	ck_assert(span_eq(msg.reason, msg.reason_len, "OK"));
	ck_assert_int_eq(msg.body, HTTP_BODY_LENGTH);
	ck_assert_uint_eq(msg.content_length, 12);
	ck_assert(msg.keep_alive);

	ck_assert_int_gt(resp("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n",
	    false), 0);
	ck_assert_uint_eq(msg.reason_len, 0);
	ck_assert_int_gt(resp("HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\n",
	    false), 0);
	ck_assert_uint_eq(msg.reason_len, 0);
	ck_assert_int_gt(resp("HTTP/1.1 500 Internal  Error\r\n\r\n", false),
	    0);
	ck_assert(span_eq(msg.reason, msg.reason_len, "Internal  Error"));
	ck_assert_int_eq(msg.body, HTTP_BODY_EOF);
	ck_assert(!msg.keep_alive);

	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_CHUNKED);
	ck_assert(msg.keep_alive);

	ck_assert_int_gt(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n",
	    false), 0);
	ck_assert_int_eq(msg.version, 10);
	ck_assert(!msg.keep_alive);
	ck_assert_int_gt(resp("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
	    "Connection: keep-alive\r\n\r\n", false), 0);
	ck_assert(msg.keep_alive);
	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Connection: close\r\n\r\n", false), 0);
	ck_assert(!msg.keep_alive);
}
END_TEST

START_TEST(test_response_no_body)
{
	ck_assert_int_gt(resp("HTTP/1.1 204 No Content\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert_int_gt(resp("HTTP/1.1 304 Not Modified\r\n"
	    "Content-Length: 10\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert_int_gt(resp("HTTP/1.1 100 Continue\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert(!msg.upgrade);
	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
	    true), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", true), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert(msg.keep_alive);
	ck_assert_int_gt(resp("HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_NONE);
	ck_assert(msg.upgrade);
}
END_TEST

START_TEST(test_response_bad)
{
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
	    false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked, chunked\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.0 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false), -1);
	/* the 304/HEAD exemption does not excuse a CL/TE conflict */
	ck_assert_int_eq(resp("HTTP/1.1 304 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/2.0 200 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 20 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 2000 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 099 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 600 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1  200 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 O\x01K\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("ICY 200 OK\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", false), -1);
	ck_assert_int_eq(resp("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", false),
	    -1);
	ck_assert_int_eq(resp("\r\nHTTP/1.1 200 OK\r\n\r\n", false), -1);
	/* chunked not final: RFC 9112 6.3 says read until close */
	ck_assert_int_gt(resp("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked, gzip\r\n\r\n", false), 0);
	ck_assert_int_eq(msg.body, HTTP_BODY_EOF);
	ck_assert(!msg.keep_alive);
}
END_TEST

START_TEST(test_response_limits)
{
	struct http_limits lim = { 100, 1000, 10 };
	size_t n;

	n = make_head(1000);
	memcpy(big, "HTTP/1.1 200 OK\r\nHost: h\r\nX: ", 29);
	ck_assert_int_eq(http_parse_response(big, n, &lim, false, &msg, hdrs,
	    NHDR), 1000);
	n = make_head(1001);
	memcpy(big, "HTTP/1.1 200 OK\r\nHost: h\r\nX: ", 29);
	ck_assert_int_eq(http_parse_response(big, n, &lim, false, &msg, hdrs,
	    NHDR), -1);
	n = make_line(101);
	memcpy(big, "HTTP/1.1 200 ", 13);
	ck_assert_int_eq(http_parse_response(big, n, &lim, false, &msg, hdrs,
	    NHDR), -1);
}
END_TEST

/* ---- rewriting ---- */

static char *
rewrite_req(const char *s, const struct http_fwd *fwd)
{
	struct evbuffer *b = evbuffer_new();
	char *out;

	ck_assert_int_gt(req(s), 0);
	http_write_request_head(b, &msg, fwd);
	out = drain(b);
	evbuffer_free(b);
	return out;
}

static void
assert_rewrite(const char *in, const struct http_fwd *fwd, const char *want)
{
	char *got = rewrite_req(in, fwd);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_rewrite_request)
{
	struct http_fwd fwd = { "127.0.0.1", "CN=client,O=Acme",
	    "CN=CA", "AB:CD", "01", "SUCCESS", false, false, NULL, 0 };

	assert_rewrite("GET /p HTTP/1.0\r\n"
	    "Host: example.com\r\n"
	    "Connection: keep-alive, X-Secret, Content-Length, Host\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "TE: trailers\r\n"
	    "Trailer: X-Sum\r\n"
	    "Upgrade: h2c\r\n"
	    "X-Secret: 1\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\n"
	    "Accept: */*\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "x-forwarded-for: 5.6.7.8 \r\n"
	    "Content-Length: 3\r\n"
	    "Content-Length: 3\r\n"
	    "\r\n", &fwd,
	    "GET /p HTTP/1.1\r\n"
	    "Host: example.com\r\n"
	    "Trailer: X-Sum\r\n"
	    "Accept: */*\r\n"
	    "Content-Length: 3\r\n"
	    "X-Forwarded-For: 1.2.3.4, 5.6.7.8, 127.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Clientcert-subjectdn: CN=client,O=Acme\r\n"
	    "X-Forwarded-Clientcert-issuerdn: CN=CA\r\n"
	    "X-Forwarded-Clientcert-fingerprint: AB:CD\r\n"
	    "X-Forwarded-Clientcert-serialnumber: 01\r\n"
	    "X-Forwarded-Clientcert-clientverify: SUCCESS\r\n"
	    "\r\n");
}
END_TEST

START_TEST(test_rewrite_minimal)
{
	struct http_fwd fwd = { "::1", NULL, NULL, NULL, NULL, NULL,
	    false, false, NULL, 0 };

	assert_rewrite("POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", &fwd,
	    "POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "X-Forwarded-For: ::1\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	/* canonical form of a list-valued TE */
	assert_rewrite("POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: ,CHUNKED\r\n\r\n", &fwd,
	    "POST /u HTTP/1.1\r\nHost: h\r\n"
	    "Transfer-Encoding: chunked\r\n"
	    "X-Forwarded-For: ::1\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	/* a 1.0 client without Host still makes a valid 1.1 request */
	assert_rewrite("GET / HTTP/1.0\r\n\r\n", NULL,
	    "GET / HTTP/1.1\r\nHost: \r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

/* A protocol = http listener: X-Forwarded-Proto says http. */
START_TEST(test_rewrite_plain)
{
	struct http_fwd fwd = { "10.0.0.9", NULL, NULL, NULL, NULL, NULL,
	    false, true, NULL, 0 };

	assert_rewrite("GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Clientcert-subjectdn: CN=admin\r\n\r\n", &fwd,
	    "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.9\r\n"
	    "X-Forwarded-Proto: http\r\n\r\n");
}
END_TEST

/* The Location of redirect_to_https for the request in s. */
static char *
redirect_location(const char *s, unsigned port)
{
	struct evbuffer *b = evbuffer_new();
	char *out, *loc, *end;

	ck_assert_int_gt(req(s), 0);
	http_write_redirect(b, &msg, port, true);
	out = drain(b);
	evbuffer_free(b);
	ck_assert_msg(strncmp(out, "HTTP/1.1 308 Permanent Redirect\r\n",
	    33) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(loc = strstr(out, "\r\nLocation: "));
	loc += 12;
	ck_assert_ptr_nonnull(end = strstr(loc, "\r\n"));
	memmove(out, loc, (size_t)(end - loc));
	out[end - loc] = '\0';
	return out;
}

static void
assert_location(const char *in, unsigned port, const char *want)
{
	char *got = redirect_location(in, port);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_redirect)
{
	assert_location("GET /a?b=c HTTP/1.1\r\nHost: lb.example.com\r\n\r\n",
	    443, "https://lb.example.com/a?b=c");
	assert_location("GET /a?b=c HTTP/1.1\r\nHost: lb.example.com\r\n\r\n",
	    8443, "https://lb.example.com:8443/a?b=c");
	/* the Host's own port is the plain one: it goes */
	assert_location("GET / HTTP/1.1\r\nHost: lb.example.com:80\r\n\r\n",
	    443, "https://lb.example.com/");
	assert_location("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
	    8443, "https://[::1]:8443/x");
	assert_location("GET /x HTTP/1.0\r\nHost: [2001:db8::1]\r\n\r\n",
	    443, "https://[2001:db8::1]/x");
	/* absolute-form: its authority is the host */
	assert_location("GET http://other.example:81/p?q HTTP/1.1\r\n"
	    "Host: lb.example.com\r\n\r\n", 443,
	    "https://other.example/p?q");
	assert_location("GET http://other.example HTTP/1.1\r\n"
	    "Host: lb.example.com\r\n\r\n", 443, "https://other.example/");
	assert_location("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", 443,
	    "https://h/");
	/* 8-bit bytes in the target are percent-encoded */
	assert_location("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", 443,
	    "https://h/caf%C3%A9");
}
END_TEST

START_TEST(test_rewrite_spoofed_cert)
{
	struct http_fwd on = { "10.0.0.1", NULL, NULL, NULL, NULL, "NONE",
	    false, false, NULL, 0 };
	struct http_fwd off = { "10.0.0.1", "CN=x", "CN=y", "FF", "02",
	    NULL, false, false, NULL, 0 };
	const char *in = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-Clientcert-SubjectDN: CN=admin\r\n"
	    "x-forwarded-clientcert-clientverify: SUCCESS\r\n"
	    "X_Forwarded_Clientcert_SubjectDN: CN=admin\r\n"
	    "X-Forwarded-Clientcert: CN=admin\r\n"
	    "X_Forwarded_Proto: http\r\n"
	    "X-Other: keep\r\n\r\n";

	assert_rewrite(in, &on,
	    "GET / HTTP/1.1\r\nHost: h\r\nX-Other: keep\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Clientcert-clientverify: NONE\r\n\r\n");
	assert_rewrite(in, &off,
	    "GET / HTTP/1.1\r\nHost: h\r\nX-Other: keep\r\n"
	    "X-Forwarded-For: 10.0.0.1\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

/* "Content_Length" / "Transfer_Encoding" could frame the body for a
 * backend that maps '_' to '-': they never reach it. */
START_TEST(test_rewrite_underscore_framing)
{
	assert_rewrite("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "Transfer_Encoding: chunked\r\nContent_Length: 99\r\n\r\n",
	    NULL,
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_sanitise)
{
	struct http_fwd fwd = { "1.1.1.1", "CN=a\r\nX-Evil: 1", "",
	    NULL, "0\x7f", "FAILED:certificate has expired", false, false,
	    NULL, 0 };

	assert_rewrite("GET / HTTP/1.1\r\nHost: h\r\n\r\n", &fwd,
	    "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 1.1.1.1\r\n"
	    "X-Forwarded-Proto: https\r\n"
	    "X-Forwarded-Clientcert-subjectdn: CN=a??X-Evil: 1\r\n"
	    "X-Forwarded-Clientcert-serialnumber: 0?\r\n"
	    "X-Forwarded-Clientcert-clientverify: "
	    "FAILED:certificate has expired\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_upgrade)
{
	assert_rewrite("GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: k\r\n\r\n", NULL,
	    "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Key: k\r\n"
	    "Connection: upgrade\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

static void
assert_resp_rewrite(const char *in, bool head, int cv, bool close,
    const char *want)
{
	struct evbuffer *b = evbuffer_new();
	char *got;

	ck_assert_int_gt(resp(in, head), 0);
	http_write_response_head(b, &msg, cv, close);
	got = drain(b);
	ck_assert_str_eq(got, want);
	free(got);
	evbuffer_free(b);
}

START_TEST(test_rewrite_response)
{
	assert_resp_rewrite("HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\n"
	    "Connection: keep-alive, X-Hop\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "X-Hop: 1\r\n"
	    "Content-Length: 5, 5\r\n"
	    "Upgrade: h2\r\n"
	    "\r\n", false, 11, false,
	    "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: 5\r\n"
	    "\r\n");
	assert_resp_rewrite("HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n",
	    false, 11, true,
	    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n");
	/* An HTTP/1.0 client gets the body de-chunked and then a close. */
	assert_resp_rewrite("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false, 10, true,
	    "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	assert_resp_rewrite("HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", false, 11, false,
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	assert_resp_rewrite("HTTP/1.1 101 Switching Protocols\r\n"
	    "Connection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Accept: a\r\n\r\n", false, 11, false,
	    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Accept: a\r\nConnection: upgrade\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_absolute)
{
	assert_rewrite("GET http://internal.example/admin HTTP/1.1\r\n"
	    "X-A: 1\r\nHost: public\r\n\r\n", NULL,
	    "GET /admin HTTP/1.1\r\nX-A: 1\r\nHost: internal.example\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	assert_rewrite("GET http://a:8080?q=1 HTTP/1.1\r\nHost: b\r\n\r\n",
	    NULL,
	    "GET /?q=1 HTTP/1.1\r\nHost: a:8080\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	/* RFC 9112 3.2.4: an OPTIONS without a path is asked of the server */
	assert_rewrite("OPTIONS http://a HTTP/1.1\r\nHost: a\r\n\r\n", NULL,
	    "OPTIONS * HTTP/1.1\r\nHost: a\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	assert_rewrite("GET https://a HTTP/1.0\r\n\r\n", NULL,
	    "GET / HTTP/1.1\r\nHost: a\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

/* Issue 17 item 11: every forwarding and identity header is ours to set. */
START_TEST(test_rewrite_forwarded_family)
{
	struct http_fwd fwd = { "10.0.0.9", NULL, NULL, NULL, NULL, NULL,
	    false, false, NULL, 0 };

	assert_rewrite("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Forwarded: for=1.2.3.4;proto=http\r\n"
	    "X-Real-IP: 1.2.3.4\r\n"
	    "X_Real_IP: 1.2.3.4\r\n"
	    "X-Forwarded-Host: evil\r\n"
	    "X-Forwarded-Port: 80\r\n"
	    "X-Forwarded-Proto: http\r\n"
	    "X-Forwarded-Prefix: /admin\r\n"
	    "X-Forwarded-Client-Cert: Hash=00;Subject=\"CN=admin\"\r\n"
	    "Client-Cert: :AAAA:\r\n"
	    "client_cert_chain: :AAAA:\r\n"
	    "X-Amzn-Mtls-Clientcert: x\r\n"
	    "X-Amzn-Mtls-Clientcert-Leaf: x\r\n"
	    "X-SSL-Client-S-DN: CN=admin\r\n"
	    "X-SSL-Client-Verify: SUCCESS\r\n"
	    "SSL_CLIENT_S_DN: CN=admin\r\n"
	    "X-Client-Cert-Present: true\r\n"
	    "X-ARR-ClientCert: x\r\n"
	    "X-Forwarded: keep\r\n"
	    "Client-Certs: keep\r\n"
	    "Forwarded-X: keep\r\n"
	    "X-Real-IPs: keep\r\n\r\n", &fwd,
	    "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded: keep\r\n"
	    "Client-Certs: keep\r\n"
	    "Forwarded-X: keep\r\n"
	    "X-Real-IPs: keep\r\n"
	    "X-Forwarded-For: 10.0.0.9\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

START_TEST(test_rewrite_xff)
{
	struct http_fwd app = { "10.0.0.9", NULL, NULL, NULL, NULL, NULL,
	    false, false, NULL, 0 };
	struct http_fwd rep = { "10.0.0.9", NULL, NULL, NULL, NULL, NULL,
	    true, false, NULL, 0 };
	struct http_fwd none = { NULL, NULL, NULL, NULL, NULL, NULL, true,
	    false, NULL, 0 };
	const char *in = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 1.1.1.1, 2.2.2.2\r\n"
	    "X-Forwarded-For:\r\n"
	    "X_Forwarded_For: 3.3.3.3\r\n\r\n";

	/* append: the last entry is always the address mtlslb saw */
	assert_rewrite(in, &app, "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	assert_rewrite(in, &rep, "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-For: 10.0.0.9\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	assert_rewrite(in, &none, "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
}
END_TEST

/*
 * A head that grows more than the writer's first estimate (each "a,"
 * of Upgrade becomes "a, ") is written again into more space, whole, and
 * after what the buffer already held.
 */
START_TEST(test_rewrite_grows)
{
	enum { NTOK = 1500 };
	char *in = malloc(NTOK * 2 + 200), *want = malloc(NTOK * 3 + 200);
	char *p = in, *q = want, *got;
	struct evbuffer *b = evbuffer_new();
	size_t i, n;

	p += sprintf(p, "GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Connection: upgrade\r\nUpgrade: ");
	q += sprintf(q, "before|GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: ");
	for (i = 0; i < NTOK; i++) {
		p += sprintf(p, i + 1 < NTOK ? "a," : "a");
		q += sprintf(q, i + 1 < NTOK ? "a, " : "a");
	}
	sprintf(p, "\r\n\r\n");
	sprintf(q, "\r\nConnection: upgrade\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	ck_assert_int_gt(req(in), 0);
	ck_assert(msg.upgrade);
	evbuffer_add(b, "before|", 7);
	http_write_request_head(b, &msg, NULL);
	n = evbuffer_get_length(b);
	got = drain(b);
	ck_assert_uint_eq(n, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
	free(in);
	free(want);
	evbuffer_free(b);
}
END_TEST

/* Issue 17 item 15: HTTP/2 inside a tunnel would bypass every rewrite. */
START_TEST(test_rewrite_h2c)
{
	const char *h2c = "GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
	    "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n";

	ck_assert_int_gt(req(h2c), 0);
	ck_assert(!msg.upgrade);
	assert_rewrite(h2c, NULL, "GET / HTTP/1.1\r\nHost: h\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: upgrade\r\nUpgrade: H2C/1, ,h2c\r\n\r\n"), 0);
	ck_assert(!msg.upgrade);
	/* another protocol stays an upgrade, without the h2c offer */
	assert_rewrite("GET /ws HTTP/1.1\r\nHost: h\r\n"
	    "Connection: upgrade\r\nUpgrade: h2c, websocket\r\n"
	    "Upgrade: h2c\r\nHTTP2-Settings: A\r\n\r\n", NULL,
	    "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	    "Connection: upgrade\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	ck_assert(msg.upgrade);
	/* a name that merely starts with h2c is another protocol */
	ck_assert_int_gt(req("GET / HTTP/1.1\r\nHost: h\r\n"
	    "Connection: upgrade\r\nUpgrade: h2cx\r\n\r\n"), 0);
	ck_assert(msg.upgrade);
}
END_TEST

/* Issue 17 item 10: a 1.0 client's Expect is void, and it gets no 1xx. */
START_TEST(test_http10_expect_interim)
{
	struct evbuffer *b = evbuffer_new();

	assert_rewrite("POST /u HTTP/1.0\r\nContent-Length: 1\r\n"
	    "Expect: 100-continue\r\n\r\n", NULL,
	    "POST /u HTTP/1.1\r\nContent-Length: 1\r\nHost: \r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");
	assert_rewrite("POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	    "Expect: 100-continue\r\n\r\n", NULL,
	    "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
	    "Expect: 100-continue\r\n"
	    "X-Forwarded-Proto: https\r\n\r\n");

	ck_assert(!http_forward_interim(100, 10));
	ck_assert(!http_forward_interim(103, 10));
	ck_assert(http_forward_interim(101, 10));
	ck_assert(http_forward_interim(200, 10));
	ck_assert(http_forward_interim(100, 11));
	ck_assert_int_gt(resp("HTTP/1.1 100 Continue\r\n\r\n", false), 0);
	http_write_response_head(b, &msg, 10, false);
	ck_assert_uint_eq(evbuffer_get_length(b), 0);
	assert_resp_rewrite("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
	    false, 11, false, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n");
	evbuffer_free(b);
}
END_TEST

/* ---- error pages ---- */

static char *
error_page(int status, const char *detail, bool close)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	http_write_error(b, status, detail, close);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

START_TEST(test_error_no_cert)
{
	const char *body = "<html>\r\n"
	    "<head><title>400 No required SSL certificate was sent</title>"
	    "</head>\r\n<body>\r\n"
	    "<center><h1>400 Bad Request</h1></center>\r\n"
	    "<center>No required SSL certificate was sent</center>\r\n"
	    "<hr><center>mtlslb</center>\r\n</body>\r\n</html>\r\n";
	char want[1024];
	char *got = error_page(400, "No required SSL certificate was sent",
	    true);

	snprintf(want, sizeof(want), "HTTP/1.1 400 Bad Request\r\n"
	    "Server: mtlslb\r\nContent-Type: text/html\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    strlen(body), body);
	ck_assert_str_eq(got, want);
	free(got);
}
END_TEST

START_TEST(test_error_default)
{
	const char *want = "HTTP/1.1 502 Bad Gateway\r\n"
	    "Server: mtlslb\r\nContent-Type: text/html\r\n"
	    "Content-Length: 151\r\nConnection: keep-alive\r\n\r\n"
	    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
	    "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
	    "<hr><center>mtlslb</center>\r\n</body>\r\n</html>\r\n";
	char *got = error_page(502, NULL, false);

	ck_assert_uint_eq(strlen(strstr(want, "<html>")), 151);
	ck_assert_str_eq(got, want);
	free(got);

	got = error_page(400, "The SSL certificate error", true);
	ck_assert_ptr_nonnull(strstr(got,
	    "<title>400 The SSL certificate error</title>"));
	free(got);

	/* details are escaped, and the length still matches */
	got = error_page(400, "a<b>&\r\n", true);
	ck_assert_ptr_nonnull(strstr(got, 
	    "<center>a&lt;b&gt;&amp;?\?</center>"));
	ck_assert_uint_eq(strlen(strstr(got, "<html>")),
	    (size_t)atoi(strstr(got, "Content-Length: ") + 16));
	free(got);

	ck_assert_str_eq(http_reason(431), "Request Header Fields Too Large");
	ck_assert_str_eq(http_reason(505), "HTTP Version Not Supported");
	ck_assert_str_eq(http_reason(299), "Unknown");
}
END_TEST

/* ---- chunked scanner ---- */

/* Scans s all at once; returns the result and sets *done. */
static ssize_t
scan_all(const char *s, size_t n, bool *done, struct http_chunked *c)
{
	http_chunked_init(c);
	return http_chunked_scan(c, s, n, done);
}

/* Scans s one byte at a time; returns bytes consumed or -1. */
static ssize_t
scan_bytes(const char *s, size_t n, bool *done, struct http_chunked *c)
{
	size_t i;
	ssize_t r;

	http_chunked_init(c);
	*done = false;
	for (i = 0; i < n; i++) {
		r = http_chunked_scan(c, s + i, 1, done);
		if (r < 0)
			return -1;
		if (*done)
			return (ssize_t)i + r;
		ck_assert_int_eq(r, 1);
	}
	return (ssize_t)i;
}

static void
assert_chunked_ok(const char *s, uint64_t data)
{
	struct http_chunked c;
	size_t n = strlen(s);
	bool done;
	char *more;

	ck_assert_int_eq(scan_all(s, n, &done, &c), (ssize_t)n);
	ck_assert_msg(done, "not done: %s", s);
	ck_assert_uint_eq(c.data_bytes, data);
	ck_assert_int_eq(scan_bytes(s, n, &done, &c), (ssize_t)n);
	ck_assert(done);
	ck_assert_uint_eq(c.data_bytes, data);
	/* bytes after the end belong to the next message */
	more = malloc(n + 20);
	ck_assert_ptr_nonnull(more);
	memcpy(more, s, n);
	memcpy(more + n, "GET / HTTP/1.1\r\n", 16);
	ck_assert_int_eq(scan_all(more, n + 16, &done, &c), (ssize_t)n);
	ck_assert(done);
	free(more);
	/* once done, nothing more is taken */
	ck_assert_int_eq(http_chunked_scan(&c, "x", 1, &done), 0);
	ck_assert(done);
}

static void
assert_chunked_bad(const char *s)
{
	struct http_chunked c;
	size_t n = strlen(s);
	bool done;

	ck_assert_msg(scan_all(s, n, &done, &c) == -1, "accepted: %s", s);
	ck_assert_msg(scan_bytes(s, n, &done, &c) == -1, "accepted: %s", s);
	/* errors are sticky */
	ck_assert_int_eq(http_chunked_scan(&c, "0\r\n\r\n", 5, &done), -1);
}

START_TEST(test_chunked_valid)
{
	assert_chunked_ok("0\r\n\r\n", 0);
	assert_chunked_ok("5\r\nhello\r\n0\r\n\r\n", 5);
	assert_chunked_ok("A\r\n0123456789\r\n1\r\n\n\r\n0\r\n\r\n", 11);
	assert_chunked_ok("a\r\n0123456789\r\n000\r\n\r\n", 10);
	assert_chunked_ok("00000000000000000000001\r\nx\r\n0\r\n\r\n", 1);
	/* chunk data is opaque: CR, LF, NUL inside are fine */
	assert_chunked_ok("4\r\n\r\n\r\n\r\n0\r\n\r\n", 4);
}
END_TEST

START_TEST(test_chunked_incomplete)
{
	const char *s = "5\r\nhello\r\n0\r\nX: y\r\n\r\n";
	struct http_chunked c;
	size_t i;
	bool done;

	for (i = 0; i < strlen(s); i++) {
		ck_assert_int_eq(scan_all(s, i, &done, &c), (ssize_t)i);
		ck_assert(!done);
	}
}
END_TEST

START_TEST(test_chunked_ext)
{
	assert_chunked_ok("5;name=value\r\nhello\r\n0;x\r\n\r\n", 5);
	assert_chunked_ok("5;a=\"q s\";b\r\nhello\r\n0\r\n\r\n", 5);
	/* BWS before ';' is rejected (documented strictness) */
	assert_chunked_bad("5 ;a\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("5;a\x01\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("5;a\rb\r\nhello\r\n0\r\n\r\n");
}
END_TEST

START_TEST(test_chunked_trailers)
{
	assert_chunked_ok("5\r\nhello\r\n0\r\nX-Sum: 1\r\nX-B:\r\n\r\n", 5);
	assert_chunked_bad("0\r\nX-Sum 1\r\n\r\n");
	assert_chunked_bad("0\r\n X: 1\r\n\r\n");
	assert_chunked_bad("0\r\nX: 1\n\r\n");
	assert_chunked_bad("0\r\nX: 1\r\n\n");
	assert_chunked_bad("0\r\nX: a\x7f\r\n\r\n");
	assert_chunked_bad("0\r\n\rx");
}
END_TEST

/* Issue 17 item 3: a trailer cannot smuggle what the head may not carry. */
START_TEST(test_chunked_trailer_forbidden)
{
	static const char *const bad[] = {
		"X-Forwarded-Clientcert-subjectdn: CN=admin",
		"x_forwarded_clientcert_clientverify: SUCCESS",
		"Content-Length: 5", "Transfer-Encoding: chunked",
		"X-Forwarded-For: 10.0.0.1", "Host: internal",
		"Connection: close", "Upgrade: h2c", "Trailer: X",
		"Authorization: Basic YTpi", "Cookie: s=1", "Forwarded: for=x",
		"X-Real-IP: 1.2.3.4", "Client-Cert: :AA:",
		"X-Amzn-Mtls-Clientcert: x", "X-SSL-Client-S-DN: CN=a",
		"If-None-Match: *", "Content-Type: text/plain",
		"X-Forwarded-Clientcert-"
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1",
		NULL
	};
	struct http_chunked c;
	char body[256];
	const char *colon;
	size_t i, n;
	bool done;

	for (i = 0; bad[i] != NULL; i++) {
		n = (size_t)snprintf(body, sizeof(body),
		    "5\r\nhello\r\n0\r\nX-Sum: 1\r\n%s\r\n\r\n", bad[i]);
		assert_chunked_bad(body);
		ck_assert_int_eq(scan_all(body, n, &done, &c), -1);
		ck_assert_msg(c.bad_trailer, "%s", bad[i]);
		/*
		 * Refused at the ':' of its name: no byte of the field from
		 * there on was accepted, so it never reaches a backend whole.
		 */
		colon = strchr(body + strlen("5\r\nhello\r\n0\r\nX-Sum: 1\r\n"),
		    ':');
		ck_assert_int_eq(scan_bytes(body, n, &done, &c), -1);
		http_chunked_init(&c);
		ck_assert_int_eq(http_chunked_scan(&c, body,
		    (size_t)(colon - body), &done), colon - body);
		ck_assert_int_eq(http_chunked_scan(&c, colon, 1, &done), -1);
		/* the client gets them through as a response's trailers */
		http_chunked_init_response(&c);
		ck_assert_int_eq(http_chunked_scan(&c, body, n, &done),
		    (ssize_t)n);
		ck_assert(done);
	}
	/* what trailers are for stays allowed, in a request too */
	assert_chunked_ok("5\r\nhello\r\n0\r\nX-Checksum: 1\r\n"
	    "Server-Timing: db;dur=1\r\nDigest: sha-256=x\r\n"
	    "X-Forwarded: 1\r\nX-Forwardedfor: 1\r\n"
	    "X-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: "
	    "1\r\n\r\n", 5);
	ck_assert(http_trailer_forbidden("SET-COOKIE", 10));
	ck_assert(!http_trailer_forbidden("X-Sum", 5));
}
END_TEST

START_TEST(test_chunked_bad)
{
	assert_chunked_bad("\r\n");
	assert_chunked_bad("g\r\n");
	assert_chunked_bad("5x\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("-5\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("+5\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("0x5\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad(" 5\r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("5 \r\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("5\t\r\nhello\r\n0\r\n\r\n");
	/* missing or bare CRLF */
	assert_chunked_bad("5\nhello\r\n0\r\n\r\n");
	assert_chunked_bad("5\r\rhello\r\n0\r\n\r\n");
	assert_chunked_bad("5\r\nhelloX\r\n0\r\n\r\n");
	assert_chunked_bad("5\r\nhello\n0\r\n\r\n");
	assert_chunked_bad("5\r\nhello\r0\r\n\r\n");
	assert_chunked_bad("5\r\nhello0\r\n\r\n");
	assert_chunked_bad("0\r\n\n");
	/* overflow: 16 hex digits is 64 bits, above our 2^63-1 bound */
	assert_chunked_bad("10000000000000000\r\n");
	assert_chunked_bad("ffffffffffffffff\r\n");
	assert_chunked_bad("8000000000000000\r\n");
}
END_TEST

START_TEST(test_chunked_bounds)
{
	static char s[20000];
	struct http_chunked c;
	size_t n;
	bool done;

	/* chunk-size line: 4096 bytes before CRLF pass, 4097 fail */
	memset(s, '0', 4096);
	memcpy(s + 4095, "5\r\nhello\r\n0\r\n\r\n", 15);
	n = 4095 + 15;
	ck_assert_int_eq(scan_all(s, n, &done, &c), (ssize_t)n);
	ck_assert(done);
	memset(s, '0', 4097);
	memcpy(s + 4096, "5\r\nhello\r\n0\r\n\r\n", 15);
	ck_assert_int_eq(scan_all(s, 4096 + 15, &done, &c), -1);
	memcpy(s, "1;", 2);
	memset(s + 2, 'e', 4094);
	memcpy(s + 4096, "\r\nx\r\n0\r\n\r\n", 10);
	ck_assert_int_eq(scan_all(s, 4106, &done, &c), 4106);
	memset(s + 2, 'e', 4095);
	memcpy(s + 4097, "\r\nx\r\n0\r\n\r\n", 10);
	ck_assert_int_eq(scan_all(s, 4107, &done, &c), -1);

	/* trailer section: 8192 bytes including the final CRLF */
	memcpy(s, "0\r\nX: ", 6);
	memset(s + 6, 'v', 8192 - 7);
	memcpy(s + 8192 - 1, "\r\n\r\n", 4);
	n = 8192 + 3;
	ck_assert_int_eq(scan_all(s, n, &done, &c), (ssize_t)n);
	ck_assert(done);
	memset(s + 6, 'v', 8192 - 6);
	memcpy(s + 8192, "\r\n\r\n", 4);
	ck_assert_int_eq(scan_all(s, 8192 + 4, &done, &c), -1);

	/* big sizes are fine while below 2^63 */
	ck_assert_int_eq(scan_all("7fffffffffffffff\r\nab", 20, &done, &c),
	    20);
	ck_assert(!done);
	ck_assert_uint_eq(c.data_bytes, 2);
	ck_assert_uint_eq(c.size, 0x7fffffffffffffffULL - 2);
}
END_TEST

static Suite *
http_suite(void)
{
	Suite *s = suite_create("http");
	struct {
		const char *name;
		const TTest *fn;
	} t[] = {
		{ "get", test_get },
		{ "post_length", test_post_length },
		{ "post_chunked", test_post_chunked },
		{ "head_method", test_head_method },
		{ "keep_alive", test_keep_alive },
		{ "upgrade", test_upgrade },
		{ "leading_crlf", test_leading_crlf },
		{ "find_header", test_find_header },
		{ "incomplete", test_incomplete },
		{ "request_line_400", test_request_line_400 },
		{ "request_line_505", test_request_line_505 },
		{ "bare_lf", test_bare_lf },
		{ "limit_request_line", test_limit_request_line },
		{ "limit_header_size", test_limit_header_size },
		{ "limit_headers", test_limit_headers },
		{ "field_syntax", test_field_syntax },
		{ "host", test_host },
		{ "target_absolute", test_target_absolute },
		{ "target_invalid", test_target_invalid },
		{ "host_value", test_host_value },
		{ "content_length", test_content_length },
		{ "transfer_encoding", test_transfer_encoding },
		{ "response_good", test_response_good },
		{ "response_no_body", test_response_no_body },
		{ "response_bad", test_response_bad },
		{ "response_limits", test_response_limits },
		{ "rewrite_request", test_rewrite_request },
		{ "rewrite_minimal", test_rewrite_minimal },
		{ "rewrite_plain", test_rewrite_plain },
		{ "redirect", test_redirect },
		{ "rewrite_spoofed_cert", test_rewrite_spoofed_cert },
		{ "rewrite_underscore_framing", test_rewrite_underscore_framing },
		{ "rewrite_sanitise", test_rewrite_sanitise },
		{ "rewrite_upgrade", test_rewrite_upgrade },
		{ "rewrite_response", test_rewrite_response },
		{ "rewrite_absolute", test_rewrite_absolute },
		{ "rewrite_forwarded_family", test_rewrite_forwarded_family },
		{ "rewrite_xff", test_rewrite_xff },
		{ "rewrite_h2c", test_rewrite_h2c },
		{ "rewrite_grows", test_rewrite_grows },
		{ "http10_expect_interim", test_http10_expect_interim },
		{ "error_no_cert", test_error_no_cert },
		{ "error_default", test_error_default },
		{ "chunked_valid", test_chunked_valid },
		{ "chunked_incomplete", test_chunked_incomplete },
		{ "chunked_ext", test_chunked_ext },
		{ "chunked_trailers", test_chunked_trailers },
		{ "chunked_trailer_forbidden", test_chunked_trailer_forbidden },
		{ "chunked_bad", test_chunked_bad },
		{ "chunked_bounds", test_chunked_bounds },
	};
	size_t i;
	TCase *tc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		tc = tcase_create(t[i].name);
		tcase_add_test(tc, t[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

const struct test_unit test_unit = { http_suite, NULL, NULL };
