/*
 * Unit tests for the client connection and its HTTP/1 session (conn.c,
 * h1.c) without the daemon: the server end of a socketpair is handed to
 * conn_accept(), a TLS client made here drives the other end, and a
 * scripted backend listens on loopback, all in one event loop. Run under
 * ASan or valgrind (CK_FORK=no) these catch a connection, session or
 * request used after it ended, and anything left unfreed.
 */
#include "ac_config.h"

#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "diag.h"
#include "http.h"
#include "listener.h"
#include "tls.h"
#include "test_group.h"
#include "test_main.h"
#include "test_backend.h"
#include "test_pki.h"
#include "upstream.h"

#define P(file)	test_pki_path(file)

/* The bound of every wait: separates "happened" from "did not happen". */
#define WAIT_S	60

/* The TLS client on the other end of the socketpair. */
struct client {
	struct bufferevent *bev;
	struct evbuffer *in;		/* every byte it received */
	bool connected;
	bool eof;
	bool error;
};

/* One response the client read. */
struct resp {
	int status;
	bool keep_alive;
	char body[1024];		/* NUL-terminated, truncated */
};

static struct {
	struct event_base *base;
	struct conn_worker w;
	struct test_group tg;
	struct listener_conf lc;
	struct lsn lsn;
	struct listener_shared lsh;
	SSL_CTX *sctx;
	SSL_CTX *cctx;			/* with the client certificate */
	SSL_CTX *cctx_nocert;
	struct test_backend be;
	struct client cl;
} F;

/* --- client ------------------------------------------------------------ */

static void
cl_read_cb(struct bufferevent *bev, void *arg)
{
	evbuffer_add_buffer(F.cl.in, bufferevent_get_input(bev));
}

static void
cl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	if (what & BEV_EVENT_CONNECTED) {
		F.cl.connected = true;
		return;
	}
	evbuffer_add_buffer(F.cl.in, bufferevent_get_input(bev));
	while (bufferevent_get_openssl_error(bev) != 0)
		;
	if (what & BEV_EVENT_EOF)
		F.cl.eof = true;
	else
		F.cl.error = true;
	/* no more events from a dead socket */
	bufferevent_disable(bev, EV_READ | EV_WRITE);
}

/*
 * A socketpair: the server end goes to conn_accept() as if accepted from
 * 127.0.0.1:40000, the other end becomes a TLS client on ctx.
 */
static void
connect_client(SSL_CTX *ctx)
{
	struct sockaddr_in sin;
	int sv[2];
	SSL *ssl;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(sv[0]), 0);
	ck_assert_int_eq(evutil_make_socket_nonblocking(sv[1]), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(40000);
	conn_accept(&F.w, &F.lsn, NULL, sv[0], (struct sockaddr *)&sin,
	    sizeof(sin));
	ck_assert_uint_eq(F.w.nconns, 1);

	ssl = SSL_new(ctx);
	ck_assert_ptr_nonnull(ssl);
	/* the bufferevent owns ssl and sv[1] from here on */
	F.cl.bev = bufferevent_openssl_socket_new(F.base, sv[1], ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	ck_assert_ptr_nonnull(F.cl.bev);
	bufferevent_openssl_set_allow_dirty_shutdown(F.cl.bev, 1);
	bufferevent_setcb(F.cl.bev, cl_read_cb, NULL, cl_event_cb, NULL);
	bufferevent_enable(F.cl.bev, EV_READ | EV_WRITE);
}

static void
cl_send(const char *s)
{
	ck_assert_int_eq(bufferevent_write(F.cl.bev, s, strlen(s)), 0);
}

/* The client goes away: its socket closes, no close_notify. */
static void
cl_close(void)
{
	if (F.cl.bev != NULL)
		bufferevent_free(F.cl.bev);
	F.cl.bev = NULL;
}

/*
 * Takes one complete response (Content-Length or no body) off the
 * client's input into rp; false while it is incomplete.
 */
static bool
take_response(struct resp *rp)
{
	struct http_header hdrs[32];
	struct http_msg m;
	size_t len = evbuffer_get_length(F.cl.in), blen;
	const char *p;
	int rc;

	if (len == 0)
		return false;
	p = (const char *)evbuffer_pullup(F.cl.in, -1);
	rc = http_parse_response(p, len, NULL, false, &m, hdrs, 32);
	ck_assert_msg(rc >= 0, "the client got an invalid response: %.*s",
	    (int)len, p);
	if (rc == 0)
		return false;
	ck_assert(m.body == HTTP_BODY_LENGTH || m.body == HTTP_BODY_NONE);
	blen = m.body == HTTP_BODY_LENGTH ? (size_t)m.content_length : 0;
	if ((size_t)rc + blen > len)
		return false;
	rp->status = m.status;
	rp->keep_alive = m.keep_alive;
	snprintf(rp->body, sizeof(rp->body), "%.*s", (int)blen, p + rc);
	evbuffer_drain(F.cl.in, (size_t)rc + blen);
	return true;
}

/*
 * Turns the loop until cond holds, WAIT_S at most; cond is evaluated once
 * per turn (it may consume what it found).
 */
#define WAIT_FOR(cond) do {						\
	time_t t0_ = time(NULL);					\
	bool ok_;							\
									\
	while (!(ok_ = (cond)) && time(NULL) - t0_ < WAIT_S)		\
		event_base_loop(F.base, EVLOOP_ONCE);			\
	ck_assert_msg(ok_, "timed out waiting for %s", #cond);		\
} while (0)

static bool
cl_closed(void)
{
	return F.cl.eof || F.cl.error;
}

/* Every connection closed and freed by the reaper. */
static bool
all_reaped(void)
{
	return F.w.nconns == 0 && TAILQ_EMPTY(&F.w.conns) &&
	    TAILQ_EMPTY(&F.w.dead) && F.lsn.nconns == 0;
}

/* --- fixture ----------------------------------------------------------- */

static SSL_CTX *
client_ctx(const char *cert, const char *key)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(c);
	if (cert != NULL) {
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(c,
		    P(cert)), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c, P(key),
		    SSL_FILETYPE_PEM), 1);
	}
	ck_assert_int_eq(SSL_CTX_load_verify_locations(c, P("root.crt"),
	    NULL), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	return c;
}

static void
setup(void)
{
	static char lname[] = "https";
	struct diag *d;

	memset(&F, 0, sizeof(F));
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does (main.c) */
	F.base = event_base_new();
	ck_assert_ptr_nonnull(F.base);
	/* what worker_main() gives a conn_worker */
	ck_assert_int_eq(conn_worker_init(&F.w, F.base), 0);
	F.w.scratch = evbuffer_new();
	F.w.max_conns = 64;
	F.w.pool = upstream_pool_new(F.base, 1);
	F.w.hdrs_cap = HTTP_DEFAULT_MAX_HEADERS;
	F.w.hdrs = calloc(F.w.hdrs_cap, sizeof(struct http_header));

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
	F.lc.server_certificate = P("server-chain.crt");
	F.lc.server_private_key = P("server-chain.key");
	F.lc.mutual_authentication = MTLS_ON;
	F.lc.ca_certificate = P("root.crt");
	F.lc.verify_depth = 3;
	F.lc.tls_min_version = 0x0303;
	F.lc.session_cache_size = 1024;
	F.lc.session_timeout_ms = 300000;
	F.lc.forward_client_cert = true;
	F.lc.max_client_cert_header_size = 4096;
	F.lc.tunnel_timeout_ms = 600000;
	F.lc.handshake_timeout_ms = 600000;
	F.lc.client_header_timeout_ms = 600000;
	F.lc.client_body_timeout_ms = 600000;
	F.lc.keepalive_timeout_ms = 600000;
	F.lc.keepalive_requests = 1000;
	F.lc.max_request_line = HTTP_DEFAULT_MAX_REQUEST_LINE;
	F.lc.max_request_header_size = HTTP_DEFAULT_MAX_HEADER_SIZE;
	d = diag_new("t.ini");
	F.sctx = tls_ctx_new(&F.lc, d);
	ck_assert_msg(F.sctx != NULL, "tls_ctx_new failed");
	diag_free(d);

	F.lsn.conf = &F.lc;
	F.lsn.ctx = F.sctx;
	F.lsn.group = F.tg.g;
	F.lsn.sh = &F.lsh;
	ck_assert_ptr_nonnull(F.lsn.group);

	F.cctx = client_ctx("client.crt", "client.key");
	F.cctx_nocert = client_ctx(NULL, NULL);
	F.cl.in = evbuffer_new();
}

static void
teardown(void)
{
	cl_close();
	conn_worker_close_all(&F.w);
	test_backend_free(&F.be);
	evbuffer_free(F.cl.in);
	conn_worker_free(&F.w);
	upstream_pool_free(F.w.pool);
	evbuffer_free(F.w.scratch);
	free(F.w.hdrs);
	test_group_free(&F.tg);
	SSL_CTX_free(F.sctx);
	SSL_CTX_free(F.cctx);
	SSL_CTX_free(F.cctx_nocert);
	event_base_free(F.base);
}

#define GET(path)	"GET " path " HTTP/1.1\r\nHost: a\r\n\r\n"
#define OK		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
#define BAD_STATUS	"HTTP/1.1 abc\r\n\r\n"

/* --- tests --------------------------------------------------------------- */

START_TEST(test_mtls_get_keepalive)
{
	struct resp rp;

	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	connect_client(F.cctx);
	cl_send(GET("/"));
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 200);
	ck_assert_str_eq(rp.body, "hello");
	ck_assert(rp.keep_alive);
	ck_assert(F.cl.connected);
	/* the verdict reached the backend */
	ck_assert(test_backend_got(&F.be, "SUCCESS"));
	ck_assert(test_backend_got(&F.be, "CN=client"));

	cl_send(GET("/2"));
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 200);
	ck_assert_str_eq(rp.body, "hello");
	ck_assert(!cl_closed());
	ck_assert_uint_eq(F.w.nconns, 1);	/* the same connection */
	ck_assert_int_eq(F.be.accepted, 1);	/* and the pooled backend */
	ck_assert_uint_eq(atomic_load(&F.lsh.requests[2]), 2);
	ck_assert_uint_eq(atomic_load(&F.lsh.handshakes), 1);
}
END_TEST

START_TEST(test_no_client_cert)
{
	struct resp rp;

	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	connect_client(F.cctx_nocert);
	cl_send(GET("/"));
	WAIT_FOR(take_response(&rp));
	ck_assert(F.cl.connected);	/* the handshake completed */
	ck_assert_int_eq(rp.status, 400);
	ck_assert(!rp.keep_alive);
	ck_assert_ptr_nonnull(strstr(rp.body,
	    "No required SSL certificate was sent"));
	WAIT_FOR(cl_closed());
	ck_assert(F.cl.eof);		/* close_notify or FIN, no reset */
	ck_assert_uint_eq(evbuffer_get_length(F.cl.in), 0);
	WAIT_FOR(all_reaped());
	ck_assert_int_eq(F.be.accepted, 0);	/* nothing went upstream */
	ck_assert_uint_eq(atomic_load(&F.lsh.rejections[
	    listener_reason_index("no_cert")]), 1);
}
END_TEST

START_TEST(test_bad_request_line)
{
	struct resp rp;

	test_backend_script(&F.be, TEST_BE_REPLY, OK, strlen(OK));
	connect_client(F.cctx);
	cl_send("GET /a b c HTTP/1.1\r\nHost: a\r\n\r\n");
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 400);
	ck_assert(!rp.keep_alive);
	WAIT_FOR(cl_closed());
	ck_assert(F.cl.eof);
	ck_assert_uint_eq(evbuffer_get_length(F.cl.in), 0);
	WAIT_FOR(all_reaped());
	ck_assert_int_eq(F.be.accepted, 0);
}
END_TEST

START_TEST(test_pipelined)
{
	struct resp rp;

	test_backend_script(&F.be, TEST_BE_ECHO, NULL, 0);
	connect_client(F.cctx);
	cl_send(GET("/first") GET("/second"));
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 200);
	ck_assert_str_eq(rp.body, "/first");
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 200);
	ck_assert_str_eq(rp.body, "/second");
	ck_assert(!cl_closed());
	ck_assert_uint_eq(F.w.nconns, 1);
	ck_assert_uint_eq(atomic_load(&F.lsh.requests[2]), 2);
}
END_TEST

static bool
body_part_arrived(void)
{
	return test_backend_heads(&F.be) == 1 && test_backend_got(&F.be, "\r\n\r\n0123456789");
}

START_TEST(test_client_closes_mid_body)
{
	test_backend_script(&F.be, TEST_BE_SILENT, NULL, 0);
	connect_client(F.cctx);
	cl_send("POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n"
	    "0123456789");
	WAIT_FOR(body_part_arrived());
	ck_assert_int_eq(F.be.closed, 0);
	cl_close();
	WAIT_FOR(F.be.closed == 1);	/* the backend saw the close */
	WAIT_FOR(all_reaped());
	ck_assert_int_eq(F.be.accepted, 1);
}
END_TEST

START_TEST(test_backend_invalid_status_line)
{
	struct resp rp;

	test_backend_script(&F.be, TEST_BE_REPLY, BAD_STATUS,
	    strlen(BAD_STATUS));
	connect_client(F.cctx);
	cl_send(GET("/"));
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 502);
	/* an error page closes the connection */
	ck_assert(!rp.keep_alive);
	WAIT_FOR(cl_closed());
	ck_assert(F.cl.eof);
	ck_assert_uint_eq(evbuffer_get_length(F.cl.in), 0);
	WAIT_FOR(all_reaped());
	WAIT_FOR(F.be.closed == 1);
	ck_assert_uint_eq(atomic_load(&F.lsh.requests[5]), 1);
}
END_TEST

START_TEST(test_close_all_in_flight)
{
	test_backend_script(&F.be, TEST_BE_SILENT, NULL, 0);
	connect_client(F.cctx);
	cl_send(GET("/"));
	WAIT_FOR(test_backend_heads(&F.be) == 1);
	ck_assert_uint_eq(F.w.nconns, 1);
	conn_worker_close_all(&F.w);
	/* closed and freed at once: the loop may never turn again */
	ck_assert(all_reaped());
	WAIT_FOR(cl_closed());
	WAIT_FOR(F.be.closed == 1);
	ck_assert_uint_eq(evbuffer_get_length(F.cl.in), 0);
}
END_TEST

/*
 * A bodiless request rejected by the mTLS policy: nothing more can come,
 * so linger_for() should close at once (its "input empty and body done"
 * rule) rather than linger for LINGER_MS. conn_close() drops w.nconns
 * before the client can see the close_notify, so when the client sees
 * its end the connection must already be gone; a lingering connection is
 * still open then (its timer is seconds away).
 */
START_TEST(test_reject_closes_at_once)
{
	struct resp rp;

	connect_client(F.cctx_nocert);
	cl_send(GET("/"));
	WAIT_FOR(take_response(&rp));
	ck_assert_int_eq(rp.status, 400);
	WAIT_FOR(cl_closed());
	ck_assert_msg(F.w.nconns == 0, "a rejected bodiless request left "
	    "its connection lingering (the rejected head was never "
	    "consumed, so linger_for() saw input waiting)");
}
END_TEST

static Suite *
h1_suite(void)
{
	Suite *s = suite_create("h1");
	TCase *tc = tcase_create("session");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 4 * WAIT_S);
	tcase_add_test(tc, test_mtls_get_keepalive);
	tcase_add_test(tc, test_no_client_cert);
	tcase_add_test(tc, test_bad_request_line);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_client_closes_mid_body);
	tcase_add_test(tc, test_backend_invalid_status_line);
	tcase_add_test(tc, test_close_all_in_flight);
	tcase_add_test(tc, test_reject_closes_at_once);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { h1_suite, test_pki_make,
    test_pki_remove };
