/*
 * h1: the HTTP/1 client session. Every state and transition of an
 * HTTP/1 connection after its handshake is here (enum h1_state,
 * set_state); the request in flight is served by proxy.c through the
 * struct proxy_client functions below. Bodies never pass through our own
 * buffers: they move between evbuffers (relay.c). Never frees the
 * connection: conn_close() marks it, the reaper frees it.
 */
#include "ac_config.h"
#include "h1.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "admit.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "proxy.h"
#include "relay.h"
#include "util.h"

#define H1_MAGIC	0x68312020u
#define H1_CHECK(h)	assert((h) != NULL && (h)->magic == H1_MAGIC)

/* How long a rejected connection keeps reading what the client sends. */
#define LINGER_MS	2000

/*
 * After the server closed a tunnel: the client may still be reading what
 * was queued, and may send more meanwhile (nginx's lingering_time).
 */
#define TUNNEL_LINGER_MS	30000

enum h1_state {
	H1_READ_HEAD,	/* buffer one request head (bounded); mTLS policy */
	H1_PROXY,	/* the request is with proxy.c: connect, forward */
	H1_TUNNEL,	/* after 101: raw bytes both ways */
	H1_FLUSH,	/* response handed over: drain, then keep-alive */
	H1_REJECT,	/* local error page queued, then close */
};

static const char *const state_names[] = {
	"read_head", "proxy", "tunnel", "flush", "reject",
};

struct h1 {
	uint32_t magic;
	enum h1_state state;
	struct conn *c;
	struct request *r;		/* the request being read or served */
	struct request *done_r;		/* answered; released from the loop */
	unsigned nrequests;
	/* the request in flight */
	enum http_body body;
	uint64_t remaining;		/* LENGTH: bytes still to forward */
	struct http_chunked chunk;
	bool body_done;			/* whole body read from the client */
	bool parsed;			/* its head was parsed */
	int version;			/* 10 or 11 */
	bool keep_alive;		/* the connection may be reused */
	int end_status;			/* for the log if it ends unanswered */
	/* the connection */
	bool head_pending;		/* a response head waits in scratch */
	bool timeouts_set;		/* client_timeouts() has run */
	bool body_timeout_set;		/* ... with the body read timeout */
	bool lingering;			/* draining input before the close */
};

static const struct proxy_client h1_client;
static int on_input(struct h1 *h);
static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

/* The legal edges of the state machine; anything else is a bug. */
static bool
edge_ok(enum h1_state from, enum h1_state to)
{
	switch (from) {
	case H1_READ_HEAD:
		return to == H1_PROXY || to == H1_REJECT;
	case H1_PROXY:
		return to == H1_FLUSH || to == H1_TUNNEL || to == H1_REJECT;
	case H1_FLUSH:
		return to == H1_READ_HEAD;
	case H1_TUNNEL:
	case H1_REJECT:
		return false;
	}
	return false;
}

static void
set_state(struct h1 *h, enum h1_state to)
{
	struct conn *c = h->c;

	assert(edge_ok(h->state, to));
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu peer=%s:%u: %s -> %s",
		    (unsigned long long)c->id, c->client_ip, c->client_port,
		    state_names[h->state], state_names[to]);
	h->state = to;
}

/*
 * The client's bufferevent timeouts: between reads of a request body
 * (client_body_timeout) and, always, between writes that make progress
 * (the same value, nginx's send_timeout), so a client that stops reading
 * cannot hold a connection and its backend forever.
 */
static void
client_timeouts(struct h1 *h, bool body_read)
{
	const struct timeval *tv;

	if (h->body_timeout_set == body_read && h->timeouts_set)
		return;
	tv = conn_timeout(h->c->w, h->c->lsn->conf->client_body_timeout_ms);
	bufferevent_set_timeouts(h->c->cbev, body_read ? tv : NULL, tv);
	h->body_timeout_set = body_read;
	h->timeouts_set = true;
}

static void
client_reads(struct h1 *h, bool on)
{
	if (on)
		bufferevent_enable(h->c->cbev, EV_READ);
	else
		bufferevent_disable(h->c->cbev, EV_READ);
}

int
h1_start(struct conn *c)
{
	struct h1 *h = xcalloc(1, sizeof(*h));

	h->magic = H1_MAGIC;
	h->c = c;
	h->state = H1_READ_HEAD;
	c->h1 = h;
	bufferevent_setcb(c->cbev, read_cb, write_cb, event_cb, c);
	client_timeouts(h, false);
	conn_timer_arm(c, c->lsn->conf->client_header_timeout_ms);
	return on_input(h);
}

bool
h1_idle(const struct h1 *h)
{
	return h->state == H1_READ_HEAD && h->nrequests > 0 && h->r == NULL &&
	    h->c->cbev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(h->c->cbev)) == 0;
}

void
h1_end(struct h1 *h)
{
	if (h == NULL || h->r == NULL)
		return;
	H1_CHECK(h);
	/*
	 * A request that was parsed gets its one access-log line: 499 when
	 * the client went away before a response, 408 on its timeout, or
	 * the status already sent. A partial head is not a request.
	 */
	if (h->parsed)
		proxy_request_end(h->r, h->end_status ? h->end_status : 499);
}

void
h1_free(struct h1 *h)
{
	if (h == NULL)
		return;
	H1_CHECK(h);
	proxy_request_release(h->r);
	proxy_request_release(h->done_r);
	h->magic = 0;
	free(h);
}

/* --- writing to the client --------------------------------------------- */

/*
 * After an error page, or a response the backend sent before the client
 * finished its upload: if the client may still be sending, closing at
 * once makes the kernel answer that data with a reset, which can destroy
 * the response before the client has read it. So send close_notify, shut
 * our side, and read and discard for a moment (nginx's lingering close);
 * EOF or LINGER_MS ends it.
 */
static int
linger_for(struct h1 *h, const char *why, unsigned ms, bool always)
{
	struct conn *c = h->c;
	struct evbuffer *in = bufferevent_get_input(c->cbev);

	if (h->lingering)
		return CONN_OK;
	if (!always && evbuffer_get_length(in) == 0 && h->body_done)
		return conn_close(c, CONN_END_CLEAN, why);
	h->lingering = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(bufferevent_getfd(c->cbev), SHUT_WR);
	bufferevent_set_timeouts(c->cbev, NULL, NULL);
	client_reads(h, true);
	conn_timer_arm(c, ms);
	return CONN_OK;
}

static int
linger_or_close(struct h1 *h, const char *why)
{
	return linger_for(h, why, LINGER_MS, false);
}

/*
 * The server closed the tunnel and everything it sent has left: a close
 * now would answer the client's next bytes with a reset, which destroys
 * what it has not read yet. Shut our side and linger instead.
 */
static int
tunnel_end(struct h1 *h)
{
	if (proxy_tunnel_reset(h->r))
		/* the server's side was cut: the client must see a cut too */
		return conn_close(h->c, CONN_END_ABORT,
		    "tunnel reset by server");
	return linger_for(h, "tunnel closed by server", TUNNEL_LINGER_MS,
	    true);
}

/*
 * Sends the local page assembled in the worker's scratch buffer as the
 * answer to the current request, and closes the connection once it is
 * written. Nothing more is read from the client.
 */
static int
send_page(struct h1 *h, int status)
{
	struct conn *c = h->c;
	struct evbuffer *out = bufferevent_get_output(c->cbev);

	conn_timer_stop(c);
	set_state(h, H1_REJECT);
	h->head_pending = false;
	proxy_local_response(h->r, status,
	    evbuffer_get_length(c->w->scratch));
	conn_send_scratch(h->c);
	bufferevent_enable(c->cbev, EV_WRITE);
	if (evbuffer_get_length(out) == 0)
		return linger_or_close(h, "error page sent");
	return CONN_OK;
}

/*
 * Answers the current request with a local error page and closes the
 * connection once it is written. Nothing more is read from the client.
 */
static int
reject(struct h1 *h, int status, const char *detail)
{
	struct evbuffer *sb = h->c->w->scratch;

	if (h->r != NULL && proxy_response_started(h->r))
		/* Part of a response is out: an error page would corrupt it. */
		return conn_close(h->c, CONN_END_ABORT,
		    "error after the response started");
	evbuffer_drain(sb, evbuffer_get_length(sb));
	http_write_error(sb, status, detail, true);
	return send_page(h, status);
}

/*
 * redirect_to_https: a 308 to the same host and target over https,
 * written before the head's len bytes (which m points into) are dropped.
 */
static int
redirect(struct h1 *h, int len, const struct http_msg *m)
{
	struct evbuffer *sb = h->c->w->scratch;

	evbuffer_drain(sb, evbuffer_get_length(sb));
	http_write_redirect(sb, m, h->c->lsn->conf->https_port, true);
	evbuffer_drain(bufferevent_get_input(h->c->cbev), (size_t)len);
	return send_page(h, 308);
}

/* --- reading requests ---------------------------------------------------- */

/* Rejects a parsed request whose head is the first len input bytes. */
static int
reject_parsed(struct h1 *h, int len, int status, const char *detail)
{
	evbuffer_drain(bufferevent_get_input(h->c->cbev), (size_t)len);
	return reject(h, status, detail);
}

static int
process_head(struct h1 *h)
{
	struct conn *c = h->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(c->cbev);
	struct http_limits lim;
	struct http_msg m;
	struct proxy_args a;
	struct admit adm;
	size_t len, n;
	const char *p;
	int rc, status;

	len = evbuffer_get_length(in);
	if (len == 0)
		return CONN_OK;
	if (h->r == NULL) {
		/* The first byte of a request: its clock starts. */
		proxy_request_release(h->done_r);
		h->done_r = NULL;
		h->r = proxy_request_new(c, &h1_client, h);
		proxy_request_clock(h->r);
		if (h->nrequests > 0)
			conn_timer_arm(c, lc->client_header_timeout_ms);
	}
	lim.max_request_line = lc->max_request_line;
	lim.max_header_size = lc->max_request_header_size;
	lim.max_headers = c->w->hdrs_cap;
	n = len < lim.max_header_size + 1 ? len : lim.max_header_size + 1;
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	rc = http_parse_request(p, n, &lim, &m, c->w->hdrs, c->w->hdrs_cap);
	if (rc == 0)
		return CONN_OK;
	h->nrequests++;
	h->parsed = true;
	if (rc < 0) {
		/*
		 * The head's end is unknown and its bytes stay in the input:
		 * the close lingers, as the client may still be sending.
		 */
		h->body_done = true;
		return reject(h, -rc, NULL);
	}
	proxy_request_note(h->r, &m);
	conn_timer_stop(c);
	/*
	 * Known before any rejection, so that a rejection lingers only while
	 * a body may still come (reject_parsed drops the head first: a
	 * bodiless request is closed at once).
	 */
	h->body = m.body;
	h->remaining = m.content_length;
	h->body_done = m.body == HTTP_BODY_NONE;
	status = admit_request(c, &m, &adm);
	proxy_request_route(h->r, adm.route);
	if (status != 0)
		return reject_parsed(h, rc, status, adm.detail);
	if (lc->redirect_to_https) {
		/* an HTTP/1.0 request may come without Host: nowhere to go */
		if (m.authority == NULL || m.authority_len == 0)
			return reject_parsed(h, rc, 400,
			    "No Host to redirect to");
		return redirect(h, rc, &m);
	}
	if (m.body == HTTP_BODY_CHUNKED)
		http_chunked_init(&h->chunk);
	h->version = m.version;
	h->keep_alive = m.keep_alive && !c->w->stopping &&
	    lc->keepalive_timeout_ms != 0 &&
	    (lc->keepalive_requests == 0 ||
	    h->nrequests < lc->keepalive_requests);
	a.m = &m;
	a.dechunk = m.version == 10;
	a.route = adm.route;
	proxy_prepare(h->r, &a);
	evbuffer_drain(in, (size_t)rc);
	set_state(h, H1_PROXY);
	return proxy_run(h->r);
}

/* Back to waiting for a request on a kept-alive connection. */
static void
keepalive_wait(struct h1 *h)
{
	h->parsed = false;
	h->end_status = 0;
	set_state(h, H1_READ_HEAD);
	client_reads(h, true);
	conn_timer_arm(h->c, h->c->lsn->conf->keepalive_timeout_ms);
}

/* The response is out: next request, or close. Plain function. */
static int
flush_done(struct h1 *h)
{
	struct conn *c = h->c;

	if (!h->keep_alive || c->w->stopping) {
		if (!h->body_done)
			return linger_or_close(h, "response done, request "
			    "body unread");
		return conn_close(c, CONN_END_CLEAN,
		    "response done, not keep-alive");
	}
	proxy_request_release(h->r);
	h->r = NULL;
	keepalive_wait(h);
	return process_head(h);
}

/* What arrived from the client, by state. Plain function. */
static int
on_input(struct h1 *h)
{
	struct evbuffer *in = bufferevent_get_input(h->c->cbev);

	if (h->lingering) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return CONN_OK;
	}
	switch (h->state) {
	case H1_READ_HEAD:
		return process_head(h);
	case H1_PROXY:
		return h->body_done ? CONN_OK : proxy_upload_more(h->r);
	case H1_TUNNEL:
		return proxy_tunnel_up(in, h->r);
	case H1_REJECT:
		evbuffer_drain(in, evbuffer_get_length(in));
		return CONN_OK;
	case H1_FLUSH:
		break;
	}
	return CONN_OK;
}

/* --- the request's view of this session (struct proxy_client) ---------- */

static int
op_head(void *sess, const struct http_msg *m)
{
	struct h1 *h = sess;
	struct evbuffer *sb = h->c->w->scratch;

	if (!http_forward_interim(m->status, h->version))
		return CONN_OK;		/* RFC 9110 15.2: none to HTTP/1.0 */
	if (m->status >= 200 && (m->body == HTTP_BODY_EOF || !h->body_done ||
	    (m->body == HTTP_BODY_CHUNKED && h->version == 10)))
		h->keep_alive = false;
	http_write_response_head(sb, m, h->version, m->status >= 200 &&
	    m->status != 101 && !h->keep_alive);
	h->head_pending = true;
	return CONN_OK;
}

static struct evbuffer *
op_body_out(void *sess)
{
	struct h1 *h = sess;

	return h->head_pending ? h->c->w->scratch :
	    bufferevent_get_output(h->c->cbev);
}

static int
op_body_flush(void *sess)
{
	struct h1 *h = sess;

	if (h->head_pending) {
		h->head_pending = false;
		conn_send_scratch(h->c);
	}
	return CONN_OK;
}

static int
op_done(void *sess)
{
	struct h1 *h = sess;
	struct conn *c = h->c;

	if (h->state == H1_TUNNEL) {
		/* the server closed the tunnel: end once the client has it */
		if (evbuffer_get_length(bufferevent_get_output(c->cbev)) == 0)
			return tunnel_end(h);
		return CONN_OK;
	}
	if (!h->body_done)
		h->keep_alive = false;	/* unread body: cannot resync */
	set_state(h, H1_FLUSH);
	client_timeouts(h, false);
	if (evbuffer_get_length(bufferevent_get_output(c->cbev)) != 0)
		return CONN_OK;		/* write_cb goes on when it drained */
	if (!h->keep_alive || c->w->stopping ||
	    evbuffer_get_length(bufferevent_get_input(c->cbev)) != 0) {
		/*
		 * A close or a pipelined request: both may end what proxy.c
		 * still holds, so they start from the loop, not under it.
		 */
		conn_timer_kick(c);
		return CONN_OK;
	}
	/*
	 * The common keep-alive turn, done here: with no byte waiting no
	 * request can start, and the answered request is only released
	 * when the next one starts (or the connection is freed).
	 */
	h->done_r = h->r;
	h->r = NULL;
	keepalive_wait(h);
	return CONN_OK;
}

static int
op_error(void *sess, int status)
{
	struct h1 *h = sess;

	return reject(h, status, NULL);
}

static int
op_abort(void *sess, const char *why)
{
	struct h1 *h = sess;

	return conn_close(h->c, CONN_END_ABORT, why);
}

static int
op_tunnel(void *sess)
{
	struct h1 *h = sess;

	const struct timeval *tv;

	set_state(h, H1_TUNNEL);
	/* idle in both directions: tunnel_timeout (HAProxy's timeout tunnel) */
	tv = conn_timeout(h->c->w, h->c->lsn->conf->tunnel_timeout_ms);
	bufferevent_set_timeouts(h->c->cbev, tv, tv);
	h->timeouts_set = false;
	client_reads(h, true);
	/* what the client sent after its request goes up now */
	return proxy_tunnel_up(bufferevent_get_input(h->c->cbev), h->r);
}

static int
op_upload(void *sess, struct evbuffer *dst, bool *done)
{
	struct h1 *h = sess;
	struct conn *c = h->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(c->cbev);

	switch (h->body) {
	case HTTP_BODY_NONE:
	case HTTP_BODY_EOF:
		h->body_done = true;
		break;
	case HTTP_BODY_LENGTH:
		relay_length(in, dst, &h->remaining);
		h->body_done = h->remaining == 0;
		break;
	case HTTP_BODY_CHUNKED:
		if (relay_chunked(in, dst, &h->chunk, &h->body_done) < 0) {
			log_msg(LL_INFO, "listener %s: %s:%u: invalid chunked "
			    "request body", lc->name, c->client_ip,
			    c->client_port);
			(void)reject(h, 400, NULL);
			return -1;
		}
		if (lc->max_request_body_size != 0 &&
		    h->chunk.data_bytes > lc->max_request_body_size) {
			(void)reject(h, 413, NULL);
			return -1;
		}
		break;
	}
	*done = h->body_done;
	client_timeouts(h, !h->body_done);
	return 0;
}

static void
op_pause(void *sess, bool paused)
{
	struct h1 *h = sess;

	client_reads(h, !paused);
}

static const struct proxy_client h1_client = {
	.head = op_head,
	.body_out = op_body_out,
	.body_flush = op_body_flush,
	.done = op_done,
	.error = op_error,
	.abort = op_abort,
	.tunnel = op_tunnel,
	.upload = op_upload,
	.pause = op_pause,
};

/* --- callbacks ------------------------------------------------------------ */

static struct h1 *
session_of(void *arg)
{
	struct conn *c = arg;

	assert(c != NULL && c->magic == CONN_MAGIC && !c->closed);
	H1_CHECK(c->h1);
	return c->h1;
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)on_input(session_of(arg));
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct h1 *h = session_of(arg);

	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	switch (h->state) {
	case H1_FLUSH:
		(void)flush_done(h);
		break;
	case H1_REJECT:
		(void)linger_or_close(h, "error page sent");
		break;
	case H1_PROXY:
		(void)proxy_client_drained(h->r);
		break;
	case H1_TUNNEL:
		if (proxy_tunnel_closed(h->r))
			(void)tunnel_end(h);
		else
			(void)proxy_client_drained(h->r);
		break;
	case H1_READ_HEAD:
		break;
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct h1 *h = session_of(arg);
	unsigned long e = 0, e1;
	int err = errno;

	while ((e1 = bufferevent_get_openssl_error(bev)) != 0) {
		if (log_enabled(LL_DEBUG))
			log_msg(LL_DEBUG, "conn=%llu: client TLS error %lx",
			    (unsigned long long)h->c->id, e1);
		e = e1;
	}
	if ((what & BEV_EVENT_ERROR) && log_enabled(LL_DEBUG)) {
		char why[256] = "";

		if (e != 0)
			ERR_error_string_n(e, why, sizeof(why));
		log_msg(LL_DEBUG, "conn=%llu: client %s error: %s",
		    (unsigned long long)h->c->id, (what & BEV_EVENT_READING) ?
		    "read" : "write", e != 0 ? why : strerror(err));
	}
	if (what & BEV_EVENT_TIMEOUT) {
		if (what & BEV_EVENT_READING)
			h->end_status = 408;
		(void)conn_close(h->c, CONN_END_ABORT,
		    (what & BEV_EVENT_READING) ? "client body timeout" :
		    "client send timeout");
		return;
	}
	if (h->state == H1_TUNNEL && !h->lingering &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0 &&
	    proxy_tunnel_up(bufferevent_get_input(bev), h->r) < 0)
		return;
	(void)conn_close(h->c, CONN_END_CLEAN, (what & BEV_EVENT_EOF) ?
	    "client closed" : "client error");
}

int
h1_timer(struct h1 *h)
{
	struct conn *c = h->c;

	H1_CHECK(h);
	if (h->lingering)
		return conn_close(c, CONN_END_CLEAN, "lingering close done");
	switch (h->state) {
	case H1_FLUSH:
		/* scheduled by op_done: the response left at once */
		return flush_done(h);
	case H1_READ_HEAD:
		return conn_close(c, CONN_END_CLEAN, h->r != NULL ?
		    "client header timeout" : "keep-alive timeout");
	case H1_REJECT:
		return conn_close(c, CONN_END_CLEAN, "lingering close done");
	case H1_PROXY:
	case H1_TUNNEL:
		break;
	}
	return CONN_OK;
}
