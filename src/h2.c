/*
 * h2: the HTTP/2 client session. libnghttp2 parses and writes frames,
 * keeps HPACK state and flow control; this file feeds it what the client
 * sent, writes what it queues, and owns the connection's timers, limits
 * and GOAWAY. Streams and their requests are in h2_stream.c. Never frees
 * the connection: conn_close() marks it, the reaper frees it; nghttp2's
 * callbacks never send (nghttp2 forbids it): h2_flush() defers.
 */
#include "ac_config.h"
#include "h2_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "util.h"

/*
 * Control frames (SETTINGS, PING, PRIORITY, empty DATA, WINDOW_UPDATE
 * without a stream of ours) a client may send: a burst, then this many a
 * second. More is a flood: GOAWAY ENHANCE_YOUR_CALM.
 */
#define CTRL_BURST	1000.0
#define CTRL_RATE	100.0

/* RST_STREAM a client may send a second after a burst (CVE-2023-44487). */
#define RESET_RATE	33

/* How long a connection that sent its GOAWAY reads what still comes. */
#define LINGER_MS	2000

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void tick_cb(evutil_socket_t fd, short what, void *arg);

/* As the x* allocators do: running out of memory is fatal. */
static void
oom(void)
{
	fprintf(stderr, "mtlslb: out of memory (HTTP/2 session)\n");
	abort();
}

static struct h2 *
session_of(void *arg)
{
	struct conn *c = arg;

	assert(c != NULL && c->magic == CONN_MAGIC && !c->closed);
	H2_CHECK(c->h2);
	return c->h2;
}

/* --- nghttp2 callbacks --------------------------------------------------- */

bool
h2_out_full(const struct h2 *h)
{
	return evbuffer_get_length(bufferevent_get_output(h->c->cbev)) +
	    evbuffer_get_length(h->c->w->scratch) >= H2_OUT_HIGH;
}

static ssize_t
cb_send(nghttp2_session *ng, const uint8_t *p, size_t len, int flags,
    void *ud)
{
	struct h2 *h = ud;
	struct evbuffer *out;

	(void)ng;
	(void)flags;
	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	/* staged: h2_flush hands a whole send over as one piece */
	out = h->c->w->scratch;
	if (h2_out_full(h))
		return NGHTTP2_ERR_WOULDBLOCK;
	if (evbuffer_add(out, p, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

/* False when the client floods control frames (the bucket is empty). */
static bool
ctrl_token(struct h2 *h)
{
	struct timeval now;
	double dt;

	event_base_gettimeofday_cached(h->c->w->base, &now);
	dt = (double)(now.tv_sec - h->tokens_at.tv_sec) +
	    (double)(now.tv_usec - h->tokens_at.tv_usec) / 1e6;
	h->tokens_at = now;
	if (dt > 0)
		h->tokens += dt * CTRL_RATE;
	if (h->tokens > CTRL_BURST)
		h->tokens = CTRL_BURST;
	if (h->tokens < 1.0)
		return false;
	h->tokens -= 1.0;
	return true;
}

/*
 * RST_STREAM from the client: cancelling is normal, a stream of them is
 * the rapid-reset attack (CVE-2023-44487), each costing us a request.
 */
static bool
rst_token(struct h2 *h)
{
	struct timeval now;
	double dt, burst = 2.0 * h->c->lsn->conf->http2_max_concurrent_streams;

	event_base_gettimeofday_cached(h->c->w->base, &now);
	dt = (double)(now.tv_sec - h->rst_at.tv_sec) +
	    (double)(now.tv_usec - h->rst_at.tv_usec) / 1e6;
	h->rst_at = now;
	if (dt > 0)
		h->rst_tokens += dt * RESET_RATE;
	if (h->rst_tokens > burst)
		h->rst_tokens = burst;
	if (h->rst_tokens < 1.0)
		return false;
	h->rst_tokens -= 1.0;
	return true;
}

static int
calm_down(struct h2 *h, const char *what)
{
	const struct conn *c = h->c;

	log_msg(LL_WARN, "listener %s: %s:%u: HTTP/2 %s flood: closing with "
	    "ENHANCE_YOUR_CALM", c->lsn->conf->name, c->client_ip,
	    c->client_port, what);
	(void)nghttp2_session_terminate_session(h->ng,
	    NGHTTP2_ENHANCE_YOUR_CALM);
	return 0;
}

static int
cb_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s;

	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	h->hb_len = 0;
	h->hb_list = 0;
	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;		/* trailers: read, not forwarded */
	if ((s = h2_stream_new(h, f->hd.stream_id)) == NULL) {
		/* stopping: the client may retry it elsewhere (RFC 9113 8.7) */
		(void)nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE,
		    f->hd.stream_id, NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	if (nghttp2_session_set_stream_user_data(ng, f->hd.stream_id, s) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	h->nrequests++;
	h2_progress(h);
	return 0;
}

static int
cb_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
    size_t nlen, const uint8_t *value, size_t vlen, uint8_t flags, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s;

	(void)flags;
	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (s == NULL)
		return 0;
	return h2_stream_header(s, f, name, nlen, value, vlen);
}

static int
cb_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s;
	bool end = (f->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	switch (f->hd.type) {
	case NGHTTP2_PING:
		/* the ACK of a stop's PING: the client has seen the notice */
		if ((f->hd.flags & NGHTTP2_FLAG_ACK) && h->draining) {
			h2_goaway(h);
			break;
		}
		/* FALLTHROUGH */
	case NGHTTP2_SETTINGS:
		if (f->hd.flags & NGHTTP2_FLAG_ACK)
			break;
		/* FALLTHROUGH */
	case NGHTTP2_PRIORITY:
		if (!ctrl_token(h))
			return calm_down(h, f->hd.type == NGHTTP2_PING ?
			    "PING" : f->hd.type == NGHTTP2_SETTINGS ?
			    "SETTINGS" : "PRIORITY");
		break;
	case NGHTTP2_RST_STREAM:
		/*
		 * Only a reset that cancels work counts towards the rapid
		 * reset budget: one of a stream whose response is all out
		 * (curl resets those it is done with) costs nothing, one of
		 * a stream already gone is a control frame like any other.
		 */
		s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
		if (s != NULL && s->resp_done)
			break;
		if (s == NULL ? !ctrl_token(h) : !rst_token(h))
			return calm_down(h, "RST_STREAM (rapid reset)");
		break;
	case NGHTTP2_WINDOW_UPDATE:
		if (f->hd.stream_id == 0 && !ctrl_token(h))
			return calm_down(h, "WINDOW_UPDATE");
		break;
	case NGHTTP2_HEADERS:
		s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
		if (s == NULL)
			break;
		if (f->headers.cat == NGHTTP2_HCAT_REQUEST)
			return h2_stream_head_done(s, end);
		if (end)
			return h2_stream_end(s);	/* after trailers */
		break;
	case NGHTTP2_DATA:
		if (f->hd.length == 0 && !end && !ctrl_token(h))
			return calm_down(h, "empty DATA");
		s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
		if (s != NULL && end)
			return h2_stream_end(s);
		break;
	default:
		break;
	}
	return 0;
}

static int
cb_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id,
    const uint8_t *p, size_t len, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s;

	(void)flags;
	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s = nghttp2_session_get_stream_user_data(ng, id);
	if (s == NULL || s->local || s->dead) {
		/* nobody reads it: give the window back at once */
		(void)nghttp2_session_consume(ng, id, len);
		h->want_send = true;
		return 0;
	}
	return h2_stream_data(s, p, len);
}

static int
cb_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s;

	(void)h;
	if (f->hd.stream_id == 0 || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
	if (s != NULL)
		h2_stream_sent(s, f);
	return 0;
}

static int
cb_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code,
    void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)h;
	if (s != NULL) {
		(void)nghttp2_session_set_stream_user_data(ng, id, NULL);
		h2_stream_closed(s, error_code);
	}
	return 0;
}

static int
cb_invalid_frame(nghttp2_session *ng, const nghttp2_frame *f, int err,
    void *ud)
{
	struct h2 *h = ud;

	(void)ng;
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu: HTTP/2 invalid frame type %u on "
		    "stream %d: %s", (unsigned long long)h->c->id,
		    f->hd.type, f->hd.stream_id, nghttp2_strerror(err));
	return 0;
}

/* The session's callbacks and options, made once per process. */
static nghttp2_session_callbacks *callbacks;

static nghttp2_session_callbacks *
session_callbacks(void)
{
	nghttp2_session_callbacks *cb;

	if (callbacks != NULL)
		return callbacks;
	if (nghttp2_session_callbacks_new(&cb) != 0)
		oom();
	nghttp2_session_callbacks_set_send_callback(cb, cb_send);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb,
	    cb_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, cb_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb,
	    cb_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb,
	    cb_data_chunk);
	nghttp2_session_callbacks_set_on_frame_send_callback(cb,
	    cb_frame_send);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb,
	    cb_stream_close);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(cb,
	    cb_invalid_frame);
	nghttp2_session_callbacks_set_send_data_callback(cb,
	    h2_stream_send_data);
	callbacks = cb;
	return cb;
}

/* --- sending ----------------------------------------------------------- */

void
h2_later(struct h2 *h)
{
	h->want_send = true;
	if (!h->c->closed)
		event_active(h->tick, EV_TIMEOUT, 1);
}

void
h2_progress(struct h2 *h)
{
	event_base_gettimeofday_cached(h->c->w->base, &h->progress);
}

/*
 * No stream open: wait client_header_timeout for the first request, then
 * keepalive_timeout between requests. Streams open: check for progress
 * every client_body_timeout.
 */
static void
arm_timer(struct h2 *h)
{
	const struct listener_conf *lc = h->c->lsn->conf;
	bool idle = h->nopen == 0;

	if (idle == h->timer_idle && h->c->timer_armed)
		return;
	h->timer_idle = idle;
	if (!idle)
		conn_timer_arm(h->c, lc->client_body_timeout_ms);
	else
		conn_timer_arm(h->c, h->nrequests == 0 ?
		    lc->client_header_timeout_ms : lc->keepalive_timeout_ms);
}

/*
 * The GOAWAY is out: a close now would answer what the client is still
 * sending with a reset, which can destroy the GOAWAY (and responses)
 * before it read them. So send close_notify, shut our side, and read and
 * discard for a moment (as h1.c's lingering close); EOF or LINGER_MS
 * ends it.
 */
static int
linger(struct h2 *h)
{
	struct conn *c = h->c;
	struct evbuffer *in = bufferevent_get_input(c->cbev);

	if (h->lingering)
		return CONN_OK;
	h->lingering = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	if (c->ssl != NULL)
		(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(bufferevent_getfd(c->cbev), SHUT_WR);
	bufferevent_set_timeouts(c->cbev, NULL, NULL);
	bufferevent_enable(c->cbev, EV_READ);
	conn_timer_arm(c, LINGER_MS);
	return CONN_OK;
}

/* Closes the connection once it has nothing left to do. */
static int
maybe_close(struct h2 *h)
{
	struct conn *c = h->c;
	bool drained = evbuffer_get_length(bufferevent_get_output(c->cbev)) ==
	    0;
	bool busy = nghttp2_session_want_write(h->ng) != 0;

	if (!drained || busy)
		return CONN_OK;
	if (nghttp2_session_want_read(h->ng) == 0 ||
	    (h->closing && h->nopen == 0))
		return linger(h);
	return CONN_OK;
}

int
h2_flush(struct h2 *h)
{
	struct conn *c = h->c;
	int rv;

	if (c->closed)
		return CONN_CLOSED;
	if (h->lingering)
		return CONN_OK;
	if (h->in_recv) {
		h->want_send = true;
		return CONN_OK;
	}
	h->want_send = false;
	/*
	 * The frames of one send (a response's HEADERS and DATA, with the
	 * WINDOW_UPDATEs and SETTINGS ACKs due) are staged in the worker's
	 * scratch buffer and go out together: added to the output one by
	 * one, each would have cost its own TLS record.
	 */
	rv = nghttp2_session_send(h->ng);
	if (rv != 0 || c->closed) {
		evbuffer_drain(c->w->scratch,
		    evbuffer_get_length(c->w->scratch));
		if (c->closed)
			return CONN_CLOSED;
		log_msg(LL_INFO, "listener %s: %s:%u: HTTP/2 send: %s",
		    c->lsn->conf->name, c->client_ip, c->client_port,
		    nghttp2_strerror(rv));
		return conn_close(c, CONN_END_ABORT, "HTTP/2 send failed");
	}
	conn_send_scratch(c);
	arm_timer(h);
	return maybe_close(h);
}

void
h2_goaway(struct h2 *h)
{
	if (h->closing)
		return;
	h->closing = true;
	(void)nghttp2_submit_goaway(h->ng, NGHTTP2_FLAG_NONE,
	    nghttp2_session_get_last_proc_stream_id(h->ng), NGHTTP2_NO_ERROR,
	    NULL, 0);
}

/*
 * A worker's graceful stop, in two phases as nginx and h2o stop: a GOAWAY
 * with the largest stream id (nghttp2's shutdown notice) and a PING; the
 * real GOAWAY, with the last stream id, goes when the PING's ACK comes
 * back. A HEADERS the client sent before it saw the notice then arrives
 * before the real GOAWAY and is served, not refused (which some clients
 * report as an error instead of retrying).
 */
void
h2_drain(struct h2 *h)
{
	if (h->closing || h->draining)
		return;
	h->draining = true;
	if (nghttp2_submit_shutdown_notice(h->ng) != 0 ||
	    nghttp2_submit_ping(h->ng, NGHTTP2_FLAG_NONE, NULL) != 0)
		h2_goaway(h);
}

int
h2_stop(struct h2 *h)
{
	H2_CHECK(h);
	/*
	 * A connection that has not sent a request yet gets its first one
	 * served, then the GOAWAY (h2_stream_head_done), as a fresh HTTP/1
	 * connection gets its answer with Connection: close: a GOAWAY that
	 * crosses the client's first HEADERS makes some clients fail it.
	 * Its idle timer (client_header_timeout) bounds the wait.
	 */
	if (h->nrequests == 0)
		return CONN_OK;
	h2_drain(h);
	return h2_flush(h);
}

/* --- receiving --------------------------------------------------------- */

int
h2_feed(struct h2 *h, const unsigned char *p, size_t len)
{
	struct conn *c = h->c;
	ssize_t n;

	h->in_recv = true;
	n = nghttp2_session_mem_recv(h->ng, p, len);
	h->in_recv = false;
	if (c->closed)
		return CONN_CLOSED;
	if (n < 0) {
		log_msg(LL_INFO, "listener %s: %s:%u: HTTP/2 protocol error: "
		    "%s", c->lsn->conf->name, c->client_ip, c->client_port,
		    nghttp2_strerror((int)n));
		if (n == NGHTTP2_ERR_BAD_CLIENT_MAGIC)
			return conn_close(c, CONN_END_ABORT,
			    "not an HTTP/2 connection preface");
		/* GOAWAY (unless nghttp2 queued one): let it out, close */
		h->closing = true;
		(void)nghttp2_session_terminate_session(h->ng,
		    n == NGHTTP2_ERR_FLOODED ? NGHTTP2_ENHANCE_YOUR_CALM :
		    NGHTTP2_PROTOCOL_ERROR);
	}
	h2_stream_reap(h);
	return h2_flush(h);
}

static int
on_input(struct h2 *h)
{
	struct evbuffer *in = bufferevent_get_input(h->c->cbev);
	struct evbuffer_iovec v[8];
	int i, nv;
	size_t total;

	if (h->lingering) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return CONN_OK;
	}
	while ((total = evbuffer_get_length(in)) > 0) {
		nv = evbuffer_peek(in, -1, NULL, v, 8);
		if (nv > 8)
			nv = 8;
		total = 0;
		for (i = 0; i < nv; i++) {
			if (h2_feed(h, v[i].iov_base, v[i].iov_len) < 0)
				return CONN_CLOSED;
			total += v[i].iov_len;
		}
		evbuffer_drain(in, total);
	}
	return CONN_OK;
}

/* --- libevent callbacks -------------------------------------------------- */

static void
read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	(void)on_input(session_of(arg));
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct h2 *h = session_of(arg);

	(void)bev;
	/* room again: frame what waited, or close when all is out */
	(void)h2_flush(h);
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct h2 *h = arg;

	(void)fd;
	(void)what;
	H2_CHECK(h);
	if (h->c->closed)
		return;
	h2_stream_reap(h);
	(void)h2_flush(h);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct h2 *h = session_of(arg);
	unsigned long e;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (log_enabled(LL_DEBUG))
			log_msg(LL_DEBUG, "conn=%llu: client TLS error %lx",
			    (unsigned long long)h->c->id, e);
	if (what & BEV_EVENT_TIMEOUT) {
		(void)conn_close(h->c, CONN_END_ABORT, "client send timeout");
		return;
	}
	(void)conn_close(h->c, CONN_END_CLEAN, (what & BEV_EVENT_EOF) ?
	    "client closed" : "client error");
}

int
h2_timer(struct h2 *h)
{
	struct conn *c = h->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct timeval now;
	double idle;

	H2_CHECK(h);
	if (h->lingering)
		return conn_close(c, CONN_END_CLEAN, "lingering close done");
	if (h->nopen == 0) {
		/* keepalive_timeout: GOAWAY, then close once it is out */
		h2_goaway(h);
		return h2_flush(h);
	}
	event_base_gettimeofday_cached(c->w->base, &now);
	idle = (double)(now.tv_sec - h->progress.tv_sec) * 1000.0 +
	    (double)(now.tv_usec - h->progress.tv_usec) / 1000.0;
	if (idle + 1.0 >= (double)lc->client_body_timeout_ms &&
	    h2_stream_stalled(h)) {
		log_msg(LL_INFO, "listener %s: %s:%u: HTTP/2 client made no "
		    "progress within client_body_timeout", lc->name,
		    c->client_ip, c->client_port);
		return conn_close(c, CONN_END_ABORT, "client body timeout");
	}
	conn_timer_arm(c, lc->client_body_timeout_ms);
	return CONN_OK;
}

/* --- the session ------------------------------------------------------- */

int
h2_start(struct conn *c)
{
	const struct listener_conf *lc = c->lsn->conf;
	struct h2 *h = xcalloc(1, sizeof(*h));
	nghttp2_option *opt;
	nghttp2_settings_entry iv[5];
	uint64_t conn_window;
	const struct timeval *tv;
	int rv;

	h->magic = H2_MAGIC;
	h->c = c;
	TAILQ_INIT(&h->open);
	TAILQ_INIT(&h->done);
	h->tokens = CTRL_BURST;
	h->rst_tokens = 2.0 * lc->http2_max_concurrent_streams;
	event_base_gettimeofday_cached(c->w->base, &h->tokens_at);
	h->rst_at = h->tokens_at;
	h->progress = h->tokens_at;
	c->h2 = h;
	if ((h->tick = event_new(c->w->base, -1, 0, tick_cb, h)) == NULL)
		oom();
	if (nghttp2_option_new(&opt) != 0)
		oom();
	/* we give the window back as the backend takes the body */
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_no_closed_streams(opt, 1);
	nghttp2_option_set_max_send_header_block_length(opt, 256 * 1024);
	/* ours (rst_token) answers first, with ENHANCE_YOUR_CALM */
	nghttp2_option_set_stream_reset_rate_limit(opt,
	    4 * (uint64_t)lc->http2_max_concurrent_streams, 2 * RESET_RATE);
	nghttp2_option_set_max_outbound_ack(opt, 100);
	nghttp2_option_set_max_settings(opt, 32);
	nghttp2_option_set_max_continuations(opt, 8);
	rv = nghttp2_session_server_new2(&h->ng, session_callbacks(), h, opt);
	nghttp2_option_del(opt);
	if (rv != 0)
		oom();
	iv[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	iv[0].value = lc->http2_max_concurrent_streams;
	iv[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	iv[1].value = (uint32_t)lc->http2_initial_window_size;
	iv[2].settings_id = NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE;
	iv[2].value = (uint32_t)lc->http2_max_header_list_size;
	iv[3].settings_id = NGHTTP2_SETTINGS_MAX_FRAME_SIZE;
	iv[3].value = (uint32_t)lc->http2_max_frame_size;
	iv[4].settings_id = NGHTTP2_SETTINGS_ENABLE_PUSH;
	iv[4].value = 0;
	(void)nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, iv, 5);
	/* the connection's window: all streams' windows together */
	conn_window = (uint64_t)lc->http2_initial_window_size *
	    lc->http2_max_concurrent_streams;
	if (conn_window > NGHTTP2_MAX_WINDOW_SIZE)
		conn_window = NGHTTP2_MAX_WINDOW_SIZE;
	if (conn_window > NGHTTP2_INITIAL_CONNECTION_WINDOW_SIZE)
		(void)nghttp2_session_set_local_window_size(h->ng,
		    NGHTTP2_FLAG_NONE, 0, (int32_t)conn_window);
	bufferevent_setcb(c->cbev, read_cb, write_cb, event_cb, c);
	/* a client that stops reading cannot hold the connection */
	tv = conn_timeout(c->w, lc->client_body_timeout_ms);
	bufferevent_set_timeouts(c->cbev, NULL, tv);
	bufferevent_setwatermark(c->cbev, EV_READ, 0, 0);
	bufferevent_enable(c->cbev, EV_READ | EV_WRITE);
	if (c->cbev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(c->cbev)) > 0 &&
	    on_input(h) < 0)
		return CONN_CLOSED;
	return h2_flush(h);
}

void
h2_end(struct h2 *h)
{
	if (h == NULL)
		return;
	H2_CHECK(h);
	h2_stream_end_all(h);
}

void
h2_free(struct h2 *h)
{
	if (h == NULL)
		return;
	H2_CHECK(h);
	h2_stream_end_all(h);
	if (h->ng != NULL)
		nghttp2_session_del(h->ng);
	h2_stream_free_all(h);
	if (h->tick != NULL)
		event_free(h->tick);
	free(h->hb);
	free(h->nv);
	free(h->nvbuf);
	h->magic = 0;
	free(h);
}
