/*
 * proxy: serves one request through a backend server: pick, connect,
 * retry, forward, relay the response, map failures to 502/503/504, and
 * write the request's access-log line. It never frees its client
 * session: when a call into the session (struct proxy_client) returns
 * CONN_CLOSED, the request is over and the caller returns at once.
 */
#include "ac_config.h"
#include "proxy_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "health.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "relay.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

static void backend_read_cb(struct bufferevent *bev, void *arg);
static void backend_write_cb(struct bufferevent *bev, void *arg);
static void backend_event_cb(struct bufferevent *bev, short what, void *arg);
static int pick_and_connect(struct request *r);

/* --- backpressure ----------------------------------------------------- */

/* Too much queued towards the backend: stop reading the client. */
static void
hold_client(struct request *r)
{
	if (!r->sess_paused && evbuffer_get_length(
	    bufferevent_get_output(r->bev)) > BACKPRESSURE_HIGH) {
		r->sess_paused = true;
		r->ops->pause(r->sess, true);
	}
}

/* Too much queued towards the client: stop reading the backend. */
static void
hold_backend(struct request *r)
{
	if (!r->bev_paused && evbuffer_get_length(
	    r->ops->body_out(r->sess)) > BACKPRESSURE_HIGH) {
		bufferevent_disable(r->bev, EV_READ);
		r->bev_paused = true;
	}
}

/* --- failures --------------------------------------------------------- */

static const char *
server_group_name(const struct request *r)
{
	return r->server->group->name;
}

/* Nothing was sent to the client yet: a local error page answers. */
static int
fail(struct request *r, int status)
{
	proxy_backend_release(r, false);
	if (r->resp_head_done)
		return r->ops->abort(r->sess, "error after the response "
		    "started");
	return r->ops->error(r->sess, status);
}

/* --- the request: connect and forward ---------------------------------- */

/* Moves the request body that has arrived to the backend. */
static int
pump_upload(struct request *r)
{
	struct evbuffer *out = bufferevent_get_output(r->bev);
	const struct timeval *tv;
	bool done = false;

	if (!r->up_done) {
		if (r->ops->upload(r->sess, out, &done) < 0)
			return CONN_CLOSED;
		if (done) {
			r->up_done = true;
			/*
			 * backend_timeout is the wait for the response head
			 * once the request is sent: an upload that is still
			 * streaming is bounded by the write timeout instead.
			 */
			tv = conn_timeout(r->c->w,
			    r->server->group->backend_timeout_ms);
			bufferevent_set_timeouts(r->bev, tv, tv);
		}
	}
	upstream_send(r->bev);
	if (!r->up_done)
		hold_client(r);
	return CONN_OK;
}

static int
start_forward(struct request *r)
{
	const struct timeval *tv;

	r->started = true;
	metrics_count_server_request(r->server);
	r->counted_active = true;
	bufferevent_setcb(r->bev, backend_read_cb, backend_write_cb,
	    backend_event_cb, r);
	tv = conn_timeout(r->c->w, r->server->group->backend_timeout_ms);
	bufferevent_set_timeouts(r->bev, r->up_done ? tv : NULL, tv);
	bufferevent_disable(r->bev, EV_WRITE);
	bufferevent_enable(r->bev, EV_READ);
	if (r->replayable)
		/* a copy: the head stays in hold in case this server fails */
		evbuffer_add(bufferevent_get_output(r->bev),
		    evbuffer_pullup(r->hold, -1), evbuffer_get_length(r->hold));
	else
		evbuffer_add_buffer(bufferevent_get_output(r->bev), r->hold);
	r->bev_paused = false;
	return pump_upload(r);
}

/* s failed this request before a response: note it, never pick it again. */
static void
server_failed(struct request *r, struct server *s, bool count_health)
{
	metrics_count_server_failure(s);
	if (count_health)
		health_passive_failure(s);
	r->tried |= UINT64_C(1) << s->index;
	r->last_failed = s;
}

static int
pick_and_connect(struct request *r)
{
	struct conn *c = r->c;
	struct group *g = r->route != NULL ? r->route->group : c->lsn->group;
	struct server *s;
	const struct timeval *tv;
	int err;

	/*
	 * A retry starts over: until this attempt's connection is ready,
	 * its events are the connect's (a CONNECTED read as a close would
	 * fail a healthy server).
	 */
	r->started = false;
	for (;;) {
		s = balancer_pick(g, r->tried);
		if (s == NULL) {
			if (r->tried == 0)
				log_msg(LL_WARN, "server_group %s: no healthy "
				    "server for %s:%u", group_conf(g)->name,
				    c->client_ip, c->client_port);
			/* the log names the last server tried, as nginx does */
			r->server = r->last_failed;
			return fail(r, r->tried == 0 ? 503 : 502);
		}
		r->server = s;
		event_base_gettimeofday_cached(c->w->base, &r->t_upstream);
		if (!r->fresh_only && (r->bev = upstream_take(c->w->pool, s,
		    !r->replayable)) != NULL) {
			r->reused = true;
			return start_forward(r);
		}
		r->reused = false;
		if ((r->bev = upstream_connect(c->w->base, s, c)) != NULL)
			break;
		err = errno;
		if (upstream_local_error(err)) {
			/* Our shortage, not the server's: it stays up. */
			log_msg(LL_ERROR, "server_group %s: server %s %s: "
			    "cannot open a connection: %s", group_conf(g)->name,
			    s->conf->name, s->conf->addr.text, strerror(err));
			return fail(r, 503);
		}
		log_msg(LL_WARN, "server_group %s: server %s %s: connect "
		    "failed: %s", group_conf(g)->name, s->conf->name,
		    s->conf->addr.text, strerror(err));
		server_failed(r, s, true);
	}
	metrics_count_server_connect(s);
	bufferevent_setcb(r->bev, NULL, NULL, backend_event_cb, r);
	tv = conn_timeout(c->w, s->group->connect_timeout_ms);
	bufferevent_set_timeouts(r->bev, tv, tv);
	bufferevent_enable(r->bev, EV_WRITE);
	return CONN_OK;
}

void
proxy_prepare(struct request *r, const struct proxy_args *a)
{
	const struct http_msg *m = a->m;
	struct conn *c = r->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct http_fwd fwd;
	struct peer_cert *pc;

	REQ_CHECK(r);
	r->route = a->route;
	r->is_head = m->is_head;
	r->upgrade = m->upgrade;
	r->dechunk = a->dechunk;
	r->up_done = m->body == HTTP_BODY_NONE || m->body == HTTP_BODY_EOF;
	r->replayable = m->body == HTTP_BODY_NONE && !m->upgrade &&
	    (m->is_head || http_token_eq(m->method, m->method_len, "GET") ||
	    http_token_eq(m->method, m->method_len, "OPTIONS"));
	memset(&fwd, 0, sizeof(fwd));
	fwd.client_ip = c->client_ip;
	fwd.xff_replace = lc->x_forwarded_for_replace;
	fwd.plain = lc->plain_http;
	if ((lc->forward_client_cert & FCC_ALIBABA) != 0 && !lc->plain_http) {
		fwd.cert_verify = "NONE";
		if (c->verdict == TLS_PEER_OK && (pc = conn_peer(c)) != NULL) {
			char why[256];
			unsigned over = tls_peer_dn_over(pc,
			    lc->max_client_cert_header_size, why, sizeof(why));

			if (over != 0)
				log_msg(LL_WARN, "listener %s: %s:%u: client "
				    "certificate: %s", lc->name, c->client_ip,
				    c->client_port, why);
			fwd.cert_verify = "SUCCESS";
			fwd.cert_subject = over & TLS_PEER_DN_SUBJECT ? NULL :
			    pc->subject;
			fwd.cert_issuer = over & TLS_PEER_DN_ISSUER ? NULL :
			    pc->issuer;
			fwd.cert_fingerprint = pc->fingerprint;
			fwd.cert_serial = pc->serial;
		}
	}
	if ((lc->forward_client_cert & FCC_NEEDS_CERT) != 0 &&
	    !lc->plain_http && c->verdict == TLS_PEER_OK)
		fwd.cert_block = conn_cert_headers(c, &fwd.cert_block_len);
	if (r->hold == NULL)
		r->hold = evbuffer_new();
	http_write_request_head(r->hold, m, &fwd);
}

int
proxy_run(struct request *r)
{
	REQ_CHECK(r);
	return pick_and_connect(r);
}

int
proxy_upload_more(struct request *r)
{
	REQ_CHECK(r);
	/* Before the connect completes the body waits in the client's input. */
	if (r->bev == NULL || !r->started || r->up_done || r->tunnel)
		return CONN_OK;
	return pump_upload(r);
}

/* A connect that failed before anything was sent: try the next server. */
static int
connect_failed(struct request *r, short what)
{
	struct server *s = r->server;
	char why[256];

	/* the transport knows how it failed (a refusal, TLS, a timeout) */
	log_msg(LL_WARN, "server_group %s: server %s %s: connect failed: %s",
	    s->group->name, s->conf->name, s->conf->addr.text,
	    upstream_failure(r->bev, what, why, sizeof(why)));
	bufferevent_free(r->bev);
	r->bev = NULL;
	server_failed(r, s, true);
	r->server = NULL;
	return pick_and_connect(r);
}

/* --- the response ------------------------------------------------------ */

/* Moves the response body that has arrived into out, per its framing. */
static void
pump_body(struct request *r, struct evbuffer *out)
{
	struct evbuffer *in = bufferevent_get_input(r->bev);
	size_t before = evbuffer_get_length(out);
	bool done = false;

	switch (r->resp_body) {
	case HTTP_BODY_NONE:
		r->resp_done = true;
		break;
	case HTTP_BODY_LENGTH:
		relay_length(in, out, &r->resp_remaining);
		r->resp_done = r->resp_remaining == 0;
		break;
	case HTTP_BODY_CHUNKED:
		if ((r->dechunk ? relay_dechunked(in, out, &r->resp_chunk,
		    &done) : relay_chunked(in, out, &r->resp_chunk,
		    &done)) < 0) {
			log_msg(LL_WARN, "server_group %s: server %s %s: "
			    "invalid chunked response body",
			    server_group_name(r), r->server->conf->name,
			    r->server->conf->addr.text);
			r->backend_keep_alive = false;
			r->resp_done = true;
			r->resp_chunk.state = HCS_ERROR;
			break;
		}
		r->resp_done = done;
		break;
	case HTTP_BODY_EOF:
		evbuffer_add_buffer(out, in);
		break;
	}
	r->bytes_out += evbuffer_get_length(out) - before;
}

/* The response is complete: log it, pool the backend, tell the session. */
static int
finish(struct request *r)
{
	bool reusable = r->backend_keep_alive && r->up_done &&
	    r->resp_body != HTTP_BODY_EOF;

	if (r->resp_body == HTTP_BODY_CHUNKED &&
	    r->resp_chunk.state == HCS_ERROR)
		/* a broken body: the client must not see a clean end */
		return fail(r, 502);
	if (r->bev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(r->bev)) > 0) {
		/* never read as the next response: the connection goes */
		log_msg(LL_WARN, "server_group %s: server %s %s: upstream sent "
		    "more data than specified in Content-Length (%zu bytes "
		    "dropped)", server_group_name(r), r->server->conf->name,
		    r->server->conf->addr.text,
		    evbuffer_get_length(bufferevent_get_input(r->bev)));
		reusable = false;
	}
	proxy_request_log(r);
	proxy_backend_release(r, reusable);
	return r->ops->done(r->sess);
}

static int
pump_response(struct request *r)
{
	struct evbuffer *out = r->ops->body_out(r->sess);

	if (!r->resp_done)
		pump_body(r, out);
	if (r->ops->body_flush(r->sess) < 0)
		return CONN_CLOSED;
	if (r->resp_done)
		return finish(r);
	hold_backend(r);
	return CONN_OK;
}

/* Tunnel bytes from the backend to the client, with backpressure. */
static int
tunnel_down(struct request *r)
{
	struct evbuffer *out = r->ops->body_out(r->sess);

	evbuffer_add_buffer(out, bufferevent_get_input(r->bev));
	if (r->ops->body_flush(r->sess) < 0)
		return CONN_CLOSED;
	hold_backend(r);
	return CONN_OK;
}

static int
start_tunnel(struct request *r)
{
	const struct timeval *tv = conn_timeout(r->c->w,
	    r->c->lsn->conf->tunnel_timeout_ms);

	r->tunnel = true;
	proxy_request_log(r);
	bufferevent_set_timeouts(r->bev, tv, tv);
	/* The session forwards what the client sent after its request. */
	if (r->ops->tunnel(r->sess) < 0)
		return CONN_CLOSED;
	return tunnel_down(r);
}

/* Parses as many response heads as are complete (1xx, then the final). */
static int
response_heads(struct request *r)
{
	struct conn *c = r->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(r->bev);
	struct http_limits lim;
	struct http_msg m;
	struct server *s = r->server;
	size_t len, n;
	const char *p;
	int rc;

	lim.max_request_line = lc->max_request_line;
	lim.max_header_size = lc->max_request_header_size;
	lim.max_headers = c->w->hdrs_cap;
	while (!r->resp_head_done) {
		len = evbuffer_get_length(in);
		if (len == 0)
			return CONN_OK;
		n = len < lim.max_header_size + 1 ? len :
		    lim.max_header_size + 1;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		rc = http_parse_response(p, n, &lim, r->is_head, &m,
		    c->w->hdrs, c->w->hdrs_cap);
		if (rc == 0)
			return CONN_OK;
		if (rc < 0 || (m.status == 101 && !r->upgrade)) {
			log_msg(LL_WARN, "server_group %s: server %s %s: "
			    "invalid response head%s", s->group->name,
			    s->conf->name, s->conf->addr.text, rc < 0 ? "" :
			    ": 101 to a request that did not ask to upgrade");
			server_failed(r, s, false);
			return fail(r, 502);
		}
		if (m.status >= 100 && m.status < 200 && m.status != 101) {
			/* interim: the session decides whether its client gets it */
			if (r->ops->head(r->sess, &m) < 0)
				return CONN_CLOSED;
			evbuffer_drain(in, (size_t)rc);
			if (r->ops->body_flush(r->sess) < 0)
				return CONN_CLOSED;
			continue;
		}
		event_base_gettimeofday_cached(c->w->base, &r->t_resp);
		r->status = m.status;
		health_passive_success(s);
		metrics_count_server_latency(s, (uint64_t)(proxy_tv_diff(
		    &r->t_upstream, &r->t_resp) * 1e6 + 0.5));
		if (m.status >= 500)
			metrics_count_server_5xx(s);
		r->resp_body = m.status == 101 ? HTTP_BODY_NONE : m.body;
		r->resp_remaining = m.content_length;
		if (m.body == HTTP_BODY_CHUNKED)
			http_chunked_init_response(&r->resp_chunk);
		r->backend_keep_alive = m.keep_alive;
		if (r->ops->head(r->sess, &m) < 0)
			return CONN_CLOSED;
		evbuffer_drain(in, (size_t)rc);
		r->resp_head_done = true;
		if (m.status == 101)
			return start_tunnel(r);
		if (evbuffer_get_length(in) <= SMALL_BODY)
			pump_body(r, r->ops->body_out(r->sess));
	}
	return CONN_OK;
}

/* What arrived from the backend: heads, then body (plain function). */
static int
relay(struct request *r)
{
	if (r->replayable) {
		/* the server answered: never send this request again */
		r->replayable = false;
		evbuffer_drain(r->hold, evbuffer_get_length(r->hold));
	}
	if (r->tunnel)
		return tunnel_down(r);
	if (!r->resp_head_done) {
		if (response_heads(r) < 0)
			return CONN_CLOSED;
		if (!r->resp_head_done || r->tunnel)
			return CONN_OK;
	}
	return pump_response(r);
}

int
proxy_client_drained(struct request *r)
{
	REQ_CHECK(r);
	if (r->bev_paused && r->bev != NULL) {
		r->bev_paused = false;
		bufferevent_enable(r->bev, EV_READ);
	}
	return CONN_OK;
}

int
proxy_tunnel_up(struct evbuffer *from, struct request *r)
{
	struct evbuffer *out;

	REQ_CHECK(r);
	if (r->bev == NULL || r->up_closed) {
		/* the server closed its side: nothing more goes up */
		evbuffer_drain(from, evbuffer_get_length(from));
		return CONN_OK;
	}
	out = bufferevent_get_output(r->bev);
	evbuffer_add_buffer(out, from);
	upstream_send(r->bev);
	hold_client(r);
	return CONN_OK;
}

bool
proxy_tunnel_closed(const struct request *r)
{
	return r->bev == NULL;
}

bool
proxy_tunnel_reset(const struct request *r)
{
	return r->tunnel_reset;
}

/* --- backend callbacks ------------------------------------------------ */

/*
 * libevent 2.1 reads a socket 4 KiB at a time, one read per loop turn
 * (evbuffer_set_max_read() came in 2.2): a large response crossed the
 * proxy in 4 KiB reads and 4 KiB TLS records, at 2.5 times nginx's CPU
 * per byte. When its read came back full, read on into one large chain,
 * bounded by the client's backpressure, so the response goes out in full
 * 16 KiB records. Only what the socket holds (FIONREAD) is read, so a
 * reset stays for libevent to report (a read past the data would take
 * the error, and the next read would find a clean EOF, which would end
 * an EOF-delimited body as if whole); a TLS backend's
 * bufferevent reads through OpenSSL and is left alone. A small response
 * costs nothing: its read was not full.
 */
static void
read_more(struct request *r)
{
	struct evbuffer *in = bufferevent_get_input(r->bev);
	struct evbuffer_iovec v[2];
	evutil_socket_t fd;
	size_t queued;
	ssize_t got;
	int avail = 0, n;

	if (evbuffer_get_length(in) < LIBEVENT_READ || r->server->tls != NULL)
		return;
	queued = evbuffer_get_length(r->ops->body_out(r->sess));
	if (queued >= BACKPRESSURE_HIGH)
		return;
	fd = bufferevent_getfd(r->bev);
	if (ioctl(fd, FIONREAD, &avail) == -1 || avail <= 0)
		return;
	if ((size_t)avail > READ_MORE_MAX)
		avail = READ_MORE_MAX;
	/* the bufferevent keeps its input's end frozen between its reads */
	evbuffer_unfreeze(in, 0);
	if ((n = evbuffer_reserve_space(in, avail, v, 2)) <= 0) {
		evbuffer_freeze(in, 0);
		return;
	}
	if (n == 1 || v[0].iov_len >= (size_t)avail) {
		n = 1;
		v[0].iov_len = (size_t)avail;
	} else
		v[1].iov_len = (size_t)avail - v[0].iov_len;
	got = readv(fd, (struct iovec *)v, n);
	if (got <= 0)
		n = 0;
	else if ((size_t)got <= v[0].iov_len) {
		v[0].iov_len = (size_t)got;
		n = 1;
	} else
		v[1].iov_len = (size_t)got - v[0].iov_len;
	(void)evbuffer_commit_space(in, v, n);
	evbuffer_freeze(in, 0);
}

static void
backend_read_cb(struct bufferevent *bev, void *arg)
{
	struct request *r = arg;

	REQ_CHECK(r);
	read_more(r);
	(void)relay(r);
}

static void
backend_write_cb(struct bufferevent *bev, void *arg)
{
	struct request *r = arg;

	REQ_CHECK(r);
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	bufferevent_disable(bev, EV_WRITE);
	if (r->sess_paused) {
		r->sess_paused = false;
		r->ops->pause(r->sess, false);
		if (r->tunnel)
			return;
		(void)pump_upload(r);
	}
}

/* The backend closed or failed while a response was expected. */
static int
backend_gone(struct request *r, short what)
{
	struct server *s = r->server;
	int err = evutil_socket_geterror(bufferevent_getfd(r->bev));
	bool retry;

	/* Drain what arrived first. */
	if (evbuffer_get_length(bufferevent_get_input(r->bev)) > 0) {
		if (relay(r) < 0)
			return CONN_CLOSED;
		if (r->bev == NULL)
			return CONN_OK;		/* finished, pooled or freed */
	}
	if (r->tunnel) {
		r->tunnel_reset |= (what & BEV_EVENT_ERROR) != 0;
		proxy_backend_release(r, false);
		return r->ops->done(r->sess);
	}
	if (!r->resp_head_done) {
		retry = r->replayable && evbuffer_get_length(r->hold) > 0;
		/*
		 * Not one response byte came back. A GET, HEAD or OPTIONS
		 * without a body can safely be sent again (as nginx and
		 * browsers do); anything else may have had effects, so it
		 * gets a 502.
		 *
		 * A pooled connection that fails as it is reused most likely
		 * met the server's keep-alive timeout: that says nothing of
		 * the server's health, so it is neither counted against the
		 * server nor excluded: the request goes out again on a new
		 * connection (nginx likewise gives a cached connection's
		 * failure a free try). Once: the new one's failure counts.
		 */
		if (retry && r->reused && !r->fresh_only) {
			log_msg(LL_INFO, "server_group %s: server %s %s: pooled "
			    "connection %s as it was reused; retrying on a "
			    "new connection", s->group->name, s->conf->name,
			    s->conf->addr.text, (what & BEV_EVENT_ERROR) &&
			    err ? strerror(err) : "closed");
			r->fresh_only = true;
			proxy_backend_release(r, false);
			r->server = NULL;
			return pick_and_connect(r);
		}
		log_msg(LL_WARN, "server_group %s: server %s %s: connection "
		    "%s before a response%s", s->group->name, s->conf->name,
		    s->conf->addr.text, (what & BEV_EVENT_ERROR) && err ?
		    strerror(err) : "closed", retry ?
		    "; retrying on the next server" : "");
		server_failed(r, s, retry);
		if (retry) {
			proxy_backend_release(r, false);
			r->server = NULL;
			return pick_and_connect(r);
		}
		return fail(r, 502);
	}
	if (r->resp_body == HTTP_BODY_EOF && (what & BEV_EVENT_EOF)) {
		r->resp_done = true;
		r->backend_keep_alive = false;
		return finish(r);
	}
	log_msg(LL_WARN, "server_group %s: server %s %s: connection %s "
	    "mid-response", s->group->name, s->conf->name, s->conf->addr.text,
	    (what & BEV_EVENT_ERROR) && err ? strerror(err) : "closed");
	server_failed(r, s, false);
	proxy_backend_release(r, false);
	return r->ops->abort(r->sess, "backend closed mid-response");
}

static void
backend_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct request *r = arg;
	struct server *s = r->server;

	REQ_CHECK(r);
	if (!r->started) {
		if (what & BEV_EVENT_CONNECTED)
			(void)start_forward(r);
		else
			(void)connect_failed(r, what);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && r->tunnel) {
		/*
		 * Idle towards the server for tunnel_timeout: end it. (Data
		 * from the client alone does not keep a tunnel alive.)
		 */
		proxy_backend_release(r, false);
		(void)r->ops->abort(r->sess, "tunnel idle for tunnel_timeout");
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && !r->tunnel) {
		log_msg(LL_WARN, "server_group %s: server %s %s: %s within "
		    "backend_timeout", s->group->name, s->conf->name,
		    s->conf->addr.text, (what & BEV_EVENT_READING) ?
		    "no response" : "request not accepted");
		server_failed(r, s, false);
		if (!r->resp_head_done)
			(void)fail(r, 504);
		else {
			proxy_backend_release(r, false);
			(void)r->ops->abort(r->sess, "backend timeout "
			    "mid-response");
		}
		return;
	}
	if (r->tunnel && (what & BEV_EVENT_WRITING) && !r->up_closed) {
		/*
		 * The server stopped reading (it closed, and our bytes drew a
		 * reset): what it sent before is still to be read and
		 * relayed, so only the upward direction ends here.
		 */
		r->up_closed = true;
		/*
		 * Its kernel may have dropped what it had not sent yet: the
		 * client cannot be told the tunnel ended cleanly.
		 */
		r->tunnel_reset = true;
		bufferevent_disable(r->bev, EV_WRITE);
		evbuffer_drain(bufferevent_get_output(r->bev),
		    evbuffer_get_length(bufferevent_get_output(r->bev)));
		if (r->sess_paused) {
			r->sess_paused = false;
			r->ops->pause(r->sess, false);
		}
		return;
	}
	(void)backend_gone(r, what);
}
