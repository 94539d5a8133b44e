/*
 * fuzz_h2: libFuzzer target for the HTTP/2 client session (h2.c,
 * h2_stream.c) as the daemon runs it: the input is what a client sent
 * after the TLS layer. A real connection of a real worker (one end of a
 * socketpair, its timer, the worker's request freelist) runs h2_start(),
 * then the input goes to the session through h2_feed() in pieces whose
 * sizes come from the input's first byte, so frames split anywhere. Every
 * request is translated, admitted and handed to the proxy, whose group
 * has no usable server: it is answered (503) through the same path a
 * backend's error takes. The event loop then runs the deferred work, the
 * connection closes and the reaper frees it. Checked: no memory error,
 * leak or undefined behaviour (ASan, UBSan, LeakSanitizer), no abort.
 */
#include "ac_config.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "h2.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "proxy.h"
#include "shm.h"
#include "upstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	struct event_base *base;
	struct conn_worker w;
	struct config cfg;
	struct group_conf gc;
	struct server_conf sc;
	struct shm *shm;
	struct balancer *b;
	struct listener_conf lc;
	struct listener_shared lsh;
	struct lsn lsn;
} F;

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->h2 != NULL)
		(void)h2_timer(c->h2);
}

static void
init(void)
{
	static char lname[] = "https", gname[] = "g", sname[] = "A";

	signal(SIGPIPE, SIG_IGN);
	(void)log_open("stderr", "off", LL_ERROR, false);
	F.base = event_base_new();
	if (F.base == NULL || conn_worker_init(&F.w, F.base) != 0)
		abort();
	F.w.scratch = evbuffer_new();
	F.w.pool = upstream_pool_new(F.base, 1);
	F.w.hdrs_cap = HTTP_DEFAULT_MAX_HEADERS;
	F.w.hdrs = calloc(F.w.hdrs_cap, sizeof(struct http_header));

	/* one server of weight 0: never picked, every request gets 503 */
	F.sc.name = sname;
	F.sc.addr.text = sname;
	F.sc.weight = 0;
	F.gc.name = gname;
	F.gc.servers = &F.sc;
	F.gc.nservers = 1;
	F.gc.backend_timeout_ms = 1000;
	F.gc.connect_timeout_ms = 1000;
	F.cfg.groups = &F.gc;
	F.cfg.ngroups = 1;
	F.shm = shm_new(65536);
	F.b = balancer_new(&F.cfg, F.shm);
	if (F.shm == NULL || F.b == NULL)
		abort();

	F.lc.name = lname;
	F.lc.mutual_authentication = MTLS_OPTIONAL;
	F.lc.forward_client_cert = true;
	F.lc.max_client_cert_header_size = 4096;
	F.lc.client_header_timeout_ms = 10000;
	F.lc.client_body_timeout_ms = 10000;
	F.lc.keepalive_timeout_ms = 10000;
	F.lc.keepalive_requests = 100;
	F.lc.max_request_line = HTTP_DEFAULT_MAX_REQUEST_LINE;
	F.lc.max_request_header_size = HTTP_DEFAULT_MAX_HEADER_SIZE;
	F.lc.max_request_body_size = 1 << 20;
	F.lc.http2 = true;
	F.lc.http2_max_concurrent_streams = 16;
	F.lc.http2_initial_window_size = 65536;
	F.lc.http2_max_header_list_size = 16384;
	F.lc.http2_max_frame_size = 16384;
	F.lsn.conf = &F.lc;
	F.lsn.group = balancer_group(F.b, "g");
	F.lsn.sh = &F.lsh;
	if (F.lsn.group == NULL)
		abort();
}

/* A connection as conn_accept() and a finished handshake leave it. */
static struct conn *
new_conn(int fd)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		abort();
	c->magic = CONN_MAGIC;
	c->w = &F.w;
	c->lsn = &F.lsn;
	c->id = ++F.w.next_id;
	c->timer = evtimer_new(F.base, timer_cb, c);
	c->cbev = bufferevent_socket_new(F.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->timer == NULL || c->cbev == NULL)
		abort();
	c->handshake_done = true;
	c->verdict = TLS_PEER_NONE;
	strcpy(c->client_ip, "127.0.0.1");
	c->client_port = 1;
	TAILQ_INSERT_TAIL(&F.w.conns, c, link);
	F.w.nconns++;
	F.lsn.nconns++;
	return c;
}

/* c is still open (the reaper may have freed it once it closed). */
static bool
open_conn(const struct conn *c)
{
	const struct conn *x;

	TAILQ_FOREACH(x, &F.w.conns, link)
		if (x == c)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	struct conn *c;
	size_t piece, off, n;
	int sv[2], i;
	char sink[4096];

	if (F.base == NULL)
		init();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
		abort();
	c = new_conn(sv[0]);
	piece = size > 0 ? (size_t)data[0] + 1 : 1;
	if (h2_start(c) == CONN_OK)
		(void)h2_feed(c->h2, (const unsigned char *)preface,
		    sizeof(preface) - 1);
	for (off = 1; off < size && open_conn(c); off += n) {
		n = size - off < piece ? size - off : piece;
		if (h2_feed(c->h2, data + off, n) != CONN_OK)
			break;
		/* what the loop does between reads: ticks, writes */
		(void)event_base_loop(F.base, EVLOOP_NONBLOCK);
		while (read(sv[1], sink, sizeof(sink)) > 0)
			;
	}
	for (i = 0; i < 3; i++)
		(void)event_base_loop(F.base, EVLOOP_NONBLOCK);
	/* conn_worker_close_all() closes what is open and reaps it all */
	conn_worker_close_all(&F.w);
	close(sv[1]);
	return 0;
}
