/*
 * Unit tests for proxy.c, the request module, without TLS or a client
 * socket: a scripted client session (struct proxy_client) on one side,
 * a real backend on a loopback socket in the same event loop on the
 * other, scripted to answer well or badly. Run under ASan (check.sh) these
 * catch a request or connection used after it ended.
 */
#include "ac_config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "proxy.h"
#include "relay.h"
#include "shm.h"
#include "test_backend.h"
#include "test_group.h"
#include "test_main.h"
#include "upstream.h"

/* The scripted client session. */
struct sess {
	struct evbuffer *out;		/* what the client would receive */
	struct evbuffer *in;		/* request body to upload */
	uint64_t remaining;
	struct request *r;
	int heads, done, error, abort, tunnel;
	int status[64];
	int err_status;
};

static struct {
	struct event_base *base;
	struct conn_worker w;
	struct test_group tg;
	struct listener_conf lc;
	struct lsn lsn;
	struct listener_shared lsh;
	struct conn c;
	struct test_backend be;
	struct sess s;
} F;

/* --- client session ---------------------------------------------------- */

static int
op_head(void *sess, const struct http_msg *m)
{
	struct sess *s = sess;

	if (s->heads < 64)
		s->status[s->heads] = m->status;
	s->heads++;
	return CONN_OK;
}

static struct evbuffer *
op_body_out(void *sess)
{
	return ((struct sess *)sess)->out;
}

static int
op_body_flush(void *sess)
{
	return CONN_OK;
}

static int
op_done(void *sess)
{
	((struct sess *)sess)->done++;
	return CONN_OK;
}

static int
op_error(void *sess, int status)
{
	struct sess *s = sess;

	s->error++;
	s->err_status = status;
	/* what h1's error page does: the request ends here */
	proxy_local_response(s->r, status, 0);
	return CONN_OK;
}

static int
op_abort(void *sess, const char *why)
{
	struct sess *s = sess;

	s->abort++;
	proxy_request_end(s->r, 499);
	return CONN_CLOSED;
}

static int
op_tunnel(void *sess)
{
	((struct sess *)sess)->tunnel++;
	return CONN_OK;
}

static int
op_upload(void *sess, struct evbuffer *dst, bool *done)
{
	struct sess *s = sess;

	relay_length(s->in, dst, &s->remaining);
	*done = s->remaining == 0;
	return 0;
}

static void
op_pause(void *sess, bool paused)
{
}

static const struct proxy_client ops = {
	op_head, op_body_out, op_body_flush, op_done, op_error, op_abort,
	op_tunnel, op_upload, op_pause,
};

/* --- fixture ----------------------------------------------------------- */

static void
setup(void)
{
	static char lname[] = "l";

	memset(&F, 0, sizeof(F));
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does (main.c) */
	F.base = event_base_new();
	ck_assert_ptr_nonnull(F.base);
	ck_assert_int_eq(conn_worker_init(&F.w, F.base), 0);
	F.w.pool = upstream_pool_new(F.base, 1);
	F.w.hdrs_cap = 100;
	F.w.hdrs = calloc(F.w.hdrs_cap, sizeof(struct http_header));
	F.w.scratch = evbuffer_new();

	test_backend_start(&F.be, F.base);

	/* one server, the scripted backend; generous timeouts: the loop
	 * waits for the event, never races the timer */
	test_group_conf(&F.tg, SCHED_ROUND_ROBIN, NULL, 1);
	test_backend_server(&F.be, &F.tg.sc[0]);
	F.tg.gc.health_check = false;
	F.tg.gc.backend_timeout_ms = 60000;
	F.tg.gc.connect_timeout_ms = 60000;
	F.tg.gc.max_idle_connections = 4;
	F.tg.gc.idle_connection_timeout_ms = 60000;
	test_group_build(&F.tg);

	F.lc.name = lname;
	F.lc.max_request_line = 8192;
	F.lc.max_request_header_size = 65536;
	F.lsn.conf = &F.lc;
	F.lsn.group = F.tg.g;
	F.lsn.sh = &F.lsh;
	ck_assert_ptr_nonnull(F.lsn.group);

	F.c.magic = CONN_MAGIC;
	F.c.w = &F.w;
	F.c.lsn = &F.lsn;
	F.c.verdict = TLS_PEER_NONE;
	strcpy(F.c.client_ip, "127.0.0.1");

	F.s.out = evbuffer_new();
	F.s.in = evbuffer_new();
}

static void
teardown(void)
{
	proxy_request_release(F.s.r);
	test_backend_free(&F.be);
	evbuffer_free(F.s.out);
	evbuffer_free(F.s.in);
	upstream_pool_free(F.w.pool);
	conn_worker_free(&F.w);
	evbuffer_free(F.w.scratch);
	free(F.w.hdrs);
	test_group_free(&F.tg);
	event_base_free(F.base);
}

/* Turns the loop until the request ended (done, error or abort). */
static void
wait_end(void)
{
	time_t t0 = time(NULL);

	while (F.s.done + F.s.error + F.s.abort == 0 &&
	    time(NULL) - t0 < 60)
		event_base_loop(F.base, EVLOOP_ONCE);
	ck_assert_msg(F.s.done + F.s.error + F.s.abort == 1,
	    "the request did not end exactly once (done %d error %d "
	    "abort %d)", F.s.done, F.s.error, F.s.abort);
}

/* Sends the request head req (and body) through proxy.c. */
static void
request(const char *req, const char *body)
{
	struct http_header hdrs[32];
	struct http_msg m;
	struct proxy_args a;
	int rc;

	rc = http_parse_request(req, strlen(req), NULL, &m, hdrs, 32);
	ck_assert_int_gt(rc, 0);
	if (body != NULL)
		evbuffer_add(F.s.in, body, strlen(body));
	F.s.remaining = m.content_length;
	proxy_request_release(F.s.r);
	memset(&F.s.status, 0, sizeof(F.s.status));
	F.s.heads = F.s.done = F.s.error = F.s.abort = F.s.tunnel = 0;
	F.s.r = proxy_request_new(&F.c, &ops, &F.s);
	proxy_request_clock(F.s.r);
	a.m = &m;
	a.dechunk = false;
	a.route = NULL;
	proxy_prepare(F.s.r, &a);
	(void)proxy_run(F.s.r);
	wait_end();
}

static bool
out_is(const char *want)
{
	size_t n = evbuffer_get_length(F.s.out);

	return n == strlen(want) &&
	    memcmp(evbuffer_pullup(F.s.out, -1), want, n) == 0;
}

#define GET	"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define OK	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

/* --- tests --------------------------------------------------------------- */

START_TEST(test_ok_then_pooled)
{
	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	request(GET, NULL);
	ck_assert_int_eq(F.s.done, 1);
	ck_assert_int_eq(F.s.status[0], 200);
	ck_assert(out_is("hello"));
	ck_assert_int_eq(proxy_status(F.s.r), 200);
	ck_assert(proxy_logged(F.s.r));
	evbuffer_drain(F.s.out, 5);
	request(GET, NULL);
	ck_assert_int_eq(F.s.done, 1);
	ck_assert_int_eq(F.be.accepted, 1);	/* the pooled connection */
	ck_assert_uint_eq(atomic_load(&F.lsh.requests[2]), 2);
}
END_TEST

/*
 * Drained, the server keeps its pooled connection and gets no request
 * (503: none available); disabled, the sweep closes that connection
 * (the backend sees the close); enabled again, it gets a new one.
 */
START_TEST(test_disable_closes_pooled)
{
	struct server *sv = group_server(F.tg.g, 0);
	time_t t0;

	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	request(GET, NULL);
	ck_assert_int_eq(F.s.status[0], 200);
	evbuffer_drain(F.s.out, evbuffer_get_length(F.s.out));
	balancer_set_admin(sv, BAL_DRAINING);
	ck_assert_uint_eq(upstream_pool_sweep(F.w.pool), 0);
	request(GET, NULL);
	ck_assert_int_eq(F.s.error, 1);
	ck_assert_int_eq(F.s.err_status, 503);
	ck_assert_int_eq(F.be.closed, 0);
	balancer_set_admin(sv, BAL_DISABLED);
	ck_assert_uint_eq(upstream_pool_sweep(F.w.pool), 1);
	ck_assert_uint_eq(upstream_pool_sweep(F.w.pool), 0);
	t0 = time(NULL);
	while (F.be.closed == 0 && time(NULL) - t0 < 60)
		event_base_loop(F.base, EVLOOP_ONCE);
	ck_assert_int_eq(F.be.closed, 1);
	balancer_set_admin(sv, BAL_ACTIVE);
	evbuffer_drain(F.s.out, evbuffer_get_length(F.s.out));
	request(GET, NULL);
	ck_assert_int_eq(F.s.status[0], 200);
	ck_assert_int_eq(F.be.accepted, 2);
}
END_TEST

START_TEST(test_invalid_status_line)
{
	static const char r[] = "HTTP/1.1 abc\r\n\r\n";

	test_backend_script(&F.be, TEST_BE_REPLY, r, sizeof(r) - 1);
	request(GET, NULL);
	ck_assert_int_eq(F.s.error, 1);
	ck_assert_int_eq(F.s.err_status, 502);
	ck_assert_int_eq(F.s.heads, 0);
}
END_TEST

START_TEST(test_unsolicited_101)
{
	static const char r[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n";

	test_backend_script(&F.be, TEST_BE_REPLY, r, sizeof(r) - 1);
	request(GET, NULL);
	ck_assert_int_eq(F.s.err_status, 502);
	ck_assert_int_eq(F.s.tunnel, 0);
}
END_TEST

START_TEST(test_interim_flood)
{
	static char r[64 * 25 + sizeof(OK)];
	size_t i, off = 0;

	for (i = 0; i < 60; i++)
		off += (size_t)sprintf(r + off, "HTTP/1.1 100 Continue\r\n\r\n");
	off += (size_t)sprintf(r + off, "%s", OK);
	test_backend_script(&F.be, TEST_BE_REPLY, r, off);
	request(GET, NULL);
	ck_assert_int_eq(F.s.done, 1);
	ck_assert_int_eq(F.s.heads, 61);
	ck_assert_int_eq(F.s.status[0], 100);
	ck_assert_int_eq(F.s.status[60], 200);
}
END_TEST

START_TEST(test_body_shorter_than_length)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
	    "\r\nabc";

	test_backend_script(&F.be, TEST_BE_REPLY_CLOSE, r, sizeof(r) - 1);
	request(GET, NULL);
	ck_assert_int_eq(F.s.abort, 1);
	ck_assert_int_eq(F.s.done, 0);
	ck_assert(proxy_logged(F.s.r));
	ck_assert_int_eq(proxy_status(F.s.r), 200);
}
END_TEST

START_TEST(test_close_in_head)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nContent-Le";

	test_backend_script(&F.be, TEST_BE_REPLY_CLOSE, r, sizeof(r) - 1);
	request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
	    "abc");
	ck_assert_int_eq(F.s.err_status, 502);
}
END_TEST

START_TEST(test_reset_after_request)
{
	test_backend_script(&F.be, TEST_BE_RESET, NULL, 0);
	request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n",
	    "abc");
	ck_assert_int_eq(F.s.err_status, 502);
	ck_assert_uint_eq(atomic_load(&F.lsh.requests[5]), 1);
}
END_TEST

START_TEST(test_never_answers)
{
	F.tg.gc.backend_timeout_ms = 1000;
	test_backend_script(&F.be, TEST_BE_SILENT, NULL, 0);
	request(GET, NULL);
	ck_assert_int_eq(F.s.err_status, 504);
}
END_TEST

START_TEST(test_connect_refused)
{
	/* close the backend's listening socket: its port now refuses */
	test_backend_close_listener(&F.be);
	request(GET, NULL);
	ck_assert_int_eq(F.s.err_status, 502);
	ck_assert_uint_eq(atomic_load(&group_server(F.lsn.group,
	    0)->sh->failures), 1);
}
END_TEST

/* Issue 17 item 5: running out of descriptors is our shortage, not the
 * server's. The request gets 503 and the server no failure. */
START_TEST(test_out_of_descriptors)
{
	struct rlimit old, rl;
	int fds[512];
	int n = 0, i, err;

	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	if (rl.rlim_cur > 256)
		rl.rlim_cur = 256;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	while (n < 512 && (fds[n] = open("/dev/null", O_RDONLY)) != -1)
		n++;
	err = errno;
	ck_assert_int_lt(n, 512);
	ck_assert_int_eq(err, EMFILE);

	request(GET, NULL);
	for (i = 0; i < n; i++)
		close(fds[i]);
	(void)setrlimit(RLIMIT_NOFILE, &old);
	ck_assert_int_eq(F.s.err_status, 503);
	ck_assert_uint_eq(atomic_load(&group_server(F.lsn.group,
	    0)->sh->failures), 0);
	/* with descriptors back, the same server answers */
	request(GET, NULL);
	ck_assert_int_eq(F.s.done, 1);
	ck_assert_int_eq(F.s.status[0], 200);
}
END_TEST

START_TEST(test_chunked_passthrough)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";

	test_backend_script(&F.be, TEST_BE_REPLY, r, sizeof(r) - 1);
	request(GET, NULL);
	ck_assert_int_eq(F.s.done, 1);
	ck_assert(out_is("5\r\nhello\r\n0\r\n\r\n"));
}
END_TEST

START_TEST(test_invalid_chunked_is_cut)
{
	static const char r[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n";

	test_backend_script(&F.be, TEST_BE_REPLY, r, sizeof(r) - 1);
	request(GET, NULL);
	/* the head went out: the client must see a cut, not a clean end */
	ck_assert_int_eq(F.s.abort, 1);
	ck_assert_int_eq(F.s.done, 0);
}
END_TEST

START_TEST(test_upload_reaches_backend)
{
	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	request("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n",
	    "0123456789");
	ck_assert_int_eq(F.s.done, 1);
	ck_assert_ptr_ne(strstr((const char *)evbuffer_pullup(F.be.got, -1),
	    "\r\n\r\n0123456789"), NULL);
}
END_TEST

static Suite *
proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("request");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ok_then_pooled);
	tcase_add_test(tc, test_disable_closes_pooled);
	tcase_add_test(tc, test_invalid_status_line);
	tcase_add_test(tc, test_unsolicited_101);
	tcase_add_test(tc, test_interim_flood);
	tcase_add_test(tc, test_body_shorter_than_length);
	tcase_add_test(tc, test_close_in_head);
	tcase_add_test(tc, test_reset_after_request);
	tcase_add_test(tc, test_never_answers);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_out_of_descriptors);
	tcase_add_test(tc, test_chunked_passthrough);
	tcase_add_test(tc, test_invalid_chunked_is_cut);
	tcase_add_test(tc, test_upload_reaches_backend);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { proxy_suite, NULL, NULL };
