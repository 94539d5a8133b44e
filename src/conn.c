/*
 * conn: the client connection state machine. Every state and transition
 * is in this file (see enum conn_state and conn_set_state); callbacks
 * dispatch on the state. Bodies are never copied into our own buffers:
 * they move between libevent evbuffers (chain moves), with watermarks
 * for backpressure. conn_close() is the only teardown.
 */
#include "ac_config.h"
#include "conn.h"

#include <assert.h>
#include <stdarg.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "balancer.h"
#include "config.h"
#include "health.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#define CONN_MAGIC	0x636f6e6eu
#define CONN_CHECK(c)	assert((c) != NULL && (c)->magic == CONN_MAGIC)

/* Above this many bytes queued towards one side, stop reading the other. */
#define BACKPRESSURE_HIGH	(256 * 1024)

/*
 * A response body up to this size that arrived with its head is copied
 * behind the head, so both leave in one TLS record and one write(2):
 * a record and a syscall cost more than copying a few KiB.
 */
#define SMALL_BODY		(8 * 1024)

enum conn_state {
	CS_HANDSHAKE,	/* TLS accept; verify verdict recorded, never fatal */
	CS_READ_HEAD,	/* buffer one request head (bounded); mTLS policy */
	CS_CONNECT,	/* server picked, connect in progress */
	CS_FORWARD,	/* request up, response down, with backpressure */
	CS_TUNNEL,	/* after 101: raw bytes both ways */
	CS_FLUSH,	/* response queued: drain, then keep-alive or close */
	CS_REJECT,	/* local error page queued, then close */
};

static const char *const state_names[] = {
	"handshake", "read_head", "connect", "forward", "tunnel", "flush",
	"reject",
};

/* Per request; reset by req_reset() between keep-alive requests. */
struct req {
	enum http_body body;
	uint64_t remaining;		/* LENGTH: bytes still to forward */
	struct http_chunked chunk;
	bool done;			/* whole request sent upstream */
	bool is_head;
	bool upgrade;
	int version;			/* client's HTTP version, 10 or 11 */
	bool keep_alive;		/* client connection may be reused */
	enum http_body resp_body;
	uint64_t resp_remaining;
	struct http_chunked resp_chunk;
	bool resp_head_done;
	bool resp_done;
	bool backend_keep_alive;
	int status;
	uint64_t bytes_out;		/* body bytes sent to the client */
	struct timeval t_start;
	struct timeval t_upstream;	/* when a server was picked */
	struct timeval t_resp;		/* response head received */
	uint64_t tried;			/* servers that failed this request */
	struct server *server;
	bool counted_active;
	bool replayable;		/* idempotent, bodiless: hold is kept */
};

struct conn {
	uint32_t magic;
	enum conn_state state;
	struct conn_worker *w;
	struct lsn *lsn;
	TAILQ_ENTRY(conn) link;
	uint64_t id;
	struct bufferevent *cbev;	/* client, TLS */
	struct bufferevent *bbev;	/* backend, plain TCP */
	SSL *ssl;			/* owned by cbev */
	struct event *timer;		/* handshake / header / keep-alive */
	enum tls_verdict verdict;	/* client certificate, from the handshake */
	struct peer_cert *peer;		/* its names, built when first needed */
	struct evbuffer *hold;		/* rewritten head until connected */
	char client_ip[46];
	unsigned client_port;
	unsigned nrequests;
	bool close_after_flush;
	bool cbev_reads_paused;		/* backpressure from the backend */
	bool timeouts_set;		/* client_timeouts() has run */
	bool lingering;			/* error page sent, draining input */
	bool body_timeout_set;		/* ... with the body read timeout */
	bool bbev_reads_paused;		/* backpressure from the client */
	/* access-log fields of the current request: line, referer, UA */
	char *alog;
	size_t alog_cap;
	size_t alog_referer, alog_ua;	/* offsets into alog */
	struct req r;
};

static void conn_close(struct conn *c, const char *why);
static void process_head(struct conn *c);
static void pick_and_connect(struct conn *c);
static void pump_request(struct conn *c);
static void pump_response(struct conn *c);
static void client_read_cb(struct bufferevent *bev, void *arg);
static void client_write_cb(struct bufferevent *bev, void *arg);
static void client_event_cb(struct bufferevent *bev, short what, void *arg);
static void backend_read_cb(struct bufferevent *bev, void *arg);
static void backend_write_cb(struct bufferevent *bev, void *arg);
static void backend_event_cb(struct bufferevent *bev, short what, void *arg);
static void timer_cb(evutil_socket_t fd, short what, void *arg);

/*
 * The legal edges of the state machine. Anything else is a bug, caught
 * by the assert in debug builds.
 */
static bool
edge_ok(enum conn_state from, enum conn_state to)
{
	switch (from) {
	case CS_HANDSHAKE:
		return to == CS_READ_HEAD;
	case CS_READ_HEAD:
		return to == CS_CONNECT || to == CS_FORWARD || to == CS_REJECT;
	case CS_CONNECT:
		return to == CS_CONNECT || to == CS_FORWARD || to == CS_REJECT;
	case CS_FORWARD:
		/* CONNECT/FORWARD: a replayable request is retried */
		return to == CS_FLUSH || to == CS_TUNNEL || to == CS_REJECT ||
		    to == CS_CONNECT || to == CS_FORWARD;
	case CS_FLUSH:
		return to == CS_READ_HEAD;
	case CS_TUNNEL:
	case CS_REJECT:
		return false;
	}
	return false;
}

static void
conn_set_state(struct conn *c, enum conn_state to)
{
	assert(edge_ok(c->state, to));
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu peer=%s:%u: %s -> %s",
		    (unsigned long long)c->id, c->client_ip, c->client_port,
		    state_names[c->state], state_names[to]);
	c->state = to;
}

static void
tv_from_ms(struct timeval *tv, unsigned ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

/*
 * A timeval for ms that libevent files in a common-timeout queue: every
 * timeout here is one of a few configured durations, and such a queue
 * adds and removes in O(1) where the timer heap costs O(log n) on every
 * request. The pointer is only valid until the next call.
 */
static const struct timeval *
ctv(struct conn_worker *w, unsigned ms)
{
	const struct timeval *tv;
	size_t i;

	for (i = 0; i < w->ntvc; i++)
		if (w->tvc[i].ms == ms)
			return w->tvc[i].tv;
	tv_from_ms(&w->tv_tmp, ms);
	if (w->ntvc == sizeof(w->tvc) / sizeof(w->tvc[0]) ||
	    (tv = event_base_init_common_timeout(w->base, &w->tv_tmp)) ==
	    NULL)
		return &w->tv_tmp;
	w->tvc[w->ntvc].ms = ms;
	w->tvc[w->ntvc++].tv = tv;
	return tv;
}

static void
timer_arm(struct conn *c, unsigned ms)
{
	evtimer_add(c->timer, ctv(c->w, ms));
}

/*
 * The client's bufferevent timeouts: between reads of a request body
 * (client_body_timeout) and, always, between writes that make progress
 * (the same value, nginx's send_timeout), so a client that stops reading
 * cannot hold a connection and its backend forever.
 */
static void
client_timeouts(struct conn *c, bool body_read)
{
	const struct timeval *tv;

	if (c->body_timeout_set == body_read && c->timeouts_set)
		return;
	tv = ctv(c->w, c->lsn->conf->client_body_timeout_ms);
	bufferevent_set_timeouts(c->cbev, body_read ? tv : NULL, tv);
	c->body_timeout_set = body_read;
	c->timeouts_set = true;
}

/* Client reads are on unless backpressure or a state says otherwise. */
static void
client_reads(struct conn *c, bool on)
{
	if (on)
		bufferevent_enable(c->cbev, EV_READ);
	else
		bufferevent_disable(c->cbev, EV_READ);
}

static void
peer_name(struct conn *c, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		evutil_inet_ntop(AF_INET, &in->sin_addr, c->client_ip,
		    sizeof(c->client_ip));
		c->client_port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, c->client_ip,
		    sizeof(c->client_ip));
		c->client_port = ntohs(in6->sin6_port);
	} else {
		snprintf(c->client_ip, sizeof(c->client_ip), "unix");
	}
}

void
conn_accept(struct conn_worker *w, struct lsn *l, int fd,
    const struct sockaddr *sa, socklen_t salen)
{
	struct conn *c;
	SSL *ssl;
	int one = 1;

	if (l->conf->max_connections != 0 &&
	    l->nconns >= l->conf->max_connections) {
		log_msg(LL_WARN, "listener %s: max_connections (%u) reached, "
		    "closing new connection", l->conf->name,
		    l->conf->max_connections);
		atomic_fetch_add_explicit(&l->sh->overload_closed, 1,
		    memory_order_relaxed);
		close(fd);
		return;
	}
	if ((ssl = SSL_new(l->ctx)) == NULL) {
		log_ssl(LL_ERROR, "listener %s: SSL_new", l->conf->name);
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->magic = CONN_MAGIC;
	c->state = CS_HANDSHAKE;
	c->w = w;
	c->lsn = l;
	c->id = ++w->next_id;
	c->ssl = ssl;
	peer_name(c, sa);
	/* The bufferevent owns ssl and fd from here on. */
	c->cbev = bufferevent_openssl_socket_new(w->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->cbev == NULL) {
		log_msg(LL_ERROR, "listener %s: cannot create connection",
		    l->conf->name);
		SSL_free(ssl);
		close(fd);
		free(c);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->cbev, 1);
	bufferevent_setcb(c->cbev, client_read_cb, client_write_cb,
	    client_event_cb, c);
	/* Bounded input: one head plus a little; pipelined data waits. */
	bufferevent_setwatermark(c->cbev, EV_READ, 0,
	    l->conf->max_request_header_size + 16384);
	c->timer = evtimer_new(w->base, timer_cb, c);
	client_timeouts(c, false);
	TAILQ_INSERT_TAIL(&w->conns, c, link);
	w->nconns++;
	l->nconns++;
	atomic_fetch_add_explicit(&l->sh->connections, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&l->sh->active, 1, memory_order_relaxed);
	timer_arm(c, l->conf->handshake_timeout_ms);
	bufferevent_enable(c->cbev, EV_READ | EV_WRITE);
}

/* Frees the backend connection, or parks it in the pool when reusable. */
static void
backend_release(struct conn *c, bool reusable)
{
	struct server *s = c->r.server;

	if (c->r.counted_active && s != NULL) {
		atomic_fetch_sub_explicit(&s->sh->active, 1,
		    memory_order_relaxed);
		c->r.counted_active = false;
	}
	if (c->bbev == NULL)
		return;
	if (reusable && s != NULL && !c->w->stopping &&
	    evbuffer_get_length(bufferevent_get_input(c->bbev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->bbev)) == 0) {
		upstream_put(c->w->pool, s, c->bbev);
	} else {
		bufferevent_free(c->bbev);
	}
	c->bbev = NULL;
}

static void
conn_close(struct conn *c, const char *why)
{
	CONN_CHECK(c);
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu peer=%s:%u: close in %s: %s",
		    (unsigned long long)c->id, c->client_ip, c->client_port,
		    state_names[c->state], why);
	backend_release(c, false);
	if (c->cbev != NULL) {
		/* Best effort close_notify; never waits. */
		if (c->state != CS_HANDSHAKE && SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl);
		ERR_clear_error();
		bufferevent_free(c->cbev);
	}
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->hold != NULL)
		evbuffer_free(c->hold);
	tls_peer_cert_free(c->peer);
	free(c->alog);
	TAILQ_REMOVE(&c->w->conns, c, link);
	c->w->nconns--;
	c->lsn->nconns--;
	atomic_fetch_sub_explicit(&c->lsn->sh->active, 1, memory_order_relaxed);
	c->magic = 0;
	free(c);
}

/*
 * The client certificate's names, formatted on first use rather than at
 * the handshake: a connection that never sends a request (or a listener
 * that forwards nothing and logs nothing) never pays for them.
 */
static struct peer_cert *
peer(struct conn *c)
{
	if (c->peer == NULL && c->verdict != TLS_PEER_NONE)
		c->peer = tls_peer_cert_new(c->ssl);
	return c->peer;
}

/* --- access log ------------------------------------------------------ */

/*
 * Appends s to b escaped for a quoted log field: nginx's \xHH for the
 * combined format, \u00HH for JSON. Bytes >= 0x80 are escaped too, so a
 * line is always valid ASCII whatever a client sent.
 */
static size_t
esc(char *b, size_t cap, size_t off, const char *s, bool json)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && off + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			b[off++] = (char)ch;
			continue;
		}
		b[off++] = '\\';
		if (json && (ch == '"' || ch == '\\')) {
			b[off++] = (char)ch;
		} else if (json) {
			memcpy(b + off, "u00", 3);
			off += 3;
			b[off++] = hex[ch >> 4];
			b[off++] = hex[ch & 15];
		} else {
			b[off++] = 'x';
			b[off++] = hex[ch >> 4];
			b[off++] = hex[ch & 15];
		}
	}
	return off;
}

static double
tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_usec - a->tv_usec) / 1e6;
}

/* What one access-log line says, whatever its format. */
struct alog_fields {
	const char *subject, *line, *referer, *ua, *verify, *verify_prefix;
	const char *server, *upstream, *tls, *cipher;
	double rt, urt;			/* urt < 0: no upstream response */
};

/* Appends printf output to b at *off; false when it did not fit. */
static bool __attribute__((format(printf, 4, 5)))
bprintf(char *b, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return false;
	*off += (size_t)n;
	return true;
}

static bool
alog_combined(struct conn *c, const struct alog_fields *f, char *b,
    size_t cap, size_t *off)
{
	*off = 0;
	if (!bprintf(b, cap, off, "%s - \"", c->client_ip))
		return false;
	*off = esc(b, cap, *off, f->subject ? f->subject : "-", false);
	if (!bprintf(b, cap, off, "\" [%s] \"", c->w->date))
		return false;
	*off = esc(b, cap, *off, f->line, false);
	if (!bprintf(b, cap, off, "\" %d %llu \"", c->r.status,
	    (unsigned long long)c->r.bytes_out))
		return false;
	*off = esc(b, cap, *off, *f->referer ? f->referer : "-", false);
	if (!bprintf(b, cap, off, "\" \""))
		return false;
	*off = esc(b, cap, *off, *f->ua ? f->ua : "-", false);
	if (!bprintf(b, cap, off, "\" tls=%s cipher=%s verify=%s%s server=%s "
	    "upstream=%s rt=%.3f urt=", f->tls, f->cipher, f->verify_prefix,
	    f->verify, f->server, f->upstream, f->rt))
		return false;
	if (f->urt >= 0)
		return bprintf(b, cap, off, "%.3f\n", f->urt);
	return bprintf(b, cap, off, "-\n");
}

static bool
alog_json(struct conn *c, const struct alog_fields *f, char *b, size_t cap,
    size_t *off)
{
	char when[40];
	struct tm tm;

	gmtime_r(&c->w->date_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	*off = 0;
	if (!bprintf(b, cap, off, "{\"time\":\"%s\",\"client\":\"%s\","
	    "\"subject\":", when, c->client_ip))
		return false;
	if (f->subject != NULL) {
		b[(*off)++] = '"';
		*off = esc(b, cap, *off, f->subject, true);
		b[(*off)++] = '"';
	} else if (!bprintf(b, cap, off, "null")) {
		return false;
	}
	if (!bprintf(b, cap, off, ",\"request\":\""))
		return false;
	*off = esc(b, cap, *off, f->line, true);
	if (!bprintf(b, cap, off, "\",\"status\":%d,\"bytes\":%llu,"
	    "\"referer\":\"", c->r.status,
	    (unsigned long long)c->r.bytes_out))
		return false;
	*off = esc(b, cap, *off, f->referer, true);
	if (!bprintf(b, cap, off, "\",\"user_agent\":\""))
		return false;
	*off = esc(b, cap, *off, f->ua, true);
	if (!bprintf(b, cap, off, "\",\"tls\":\"%s\",\"cipher\":\"%s\","
	    "\"verify\":\"%s%s\",", f->tls, f->cipher, f->verify_prefix,
	    f->verify))
		return false;
	if (c->r.server == NULL ? !bprintf(b, cap, off,
	    "\"server\":null,\"upstream\":null,") : !bprintf(b, cap, off,
	    "\"server\":\"%s\",\"upstream\":\"%s\",", f->server, f->upstream))
		return false;
	if (!bprintf(b, cap, off, "\"rt\":%.3f,\"urt\":", f->rt))
		return false;
	if (f->urt >= 0)
		return bprintf(b, cap, off, "%.3f}\n", f->urt);
	return bprintf(b, cap, off, "null}\n");
}

/* The end of a request: count it, then write its access-log line. */
static void
access_log(struct conn *c)
{
	struct conn_worker *w = c->w;
	struct alog_fields f;
	struct timeval now;
	char b[16384];
	size_t off = 0;
	bool ok;

	atomic_fetch_add_explicit(&c->lsn->sh->requests[c->r.status >= 100 &&
	    c->r.status < 600 ? c->r.status / 100 : 0], 1,
	    memory_order_relaxed);
	if (!log_access_enabled())
		return;
	event_base_gettimeofday_cached(w->base, &now);
	if (now.tv_sec != w->date_sec) {
		struct tm tm;

		w->date_sec = now.tv_sec;
		localtime_r(&w->date_sec, &tm);
		strftime(w->date, sizeof(w->date), "%d/%b/%Y:%H:%M:%S %z",
		    &tm);
	}
	f.subject = peer(c) ? c->peer->subject : NULL;
	f.line = c->alog ? c->alog : "";
	f.referer = c->alog ? c->alog + c->alog_referer : "";
	f.ua = c->alog ? c->alog + c->alog_ua : "";
	f.verify_prefix = "";
	if (c->verdict == TLS_PEER_NONE) {
		f.verify = "NONE";
	} else if (c->verdict == TLS_PEER_OK) {
		f.verify = "SUCCESS";
	} else {
		f.verify_prefix = "FAILED:";
		f.verify = tls_reason_class(c->peer);
	}
	f.server = c->r.server ? c->r.server->conf->name : "-";
	f.upstream = c->r.server ? c->r.server->conf->addr.text : "-";
	f.tls = SSL_get_version(c->ssl);
	f.cipher = SSL_get_cipher_name(c->ssl);
	f.rt = tv_diff(&c->r.t_start, &now);
	f.urt = c->r.server && c->r.t_resp.tv_sec != 0 ?
	    tv_diff(&c->r.t_upstream, &c->r.t_resp) : -1;
	ok = log_access_json() ? alog_json(c, &f, b, sizeof(b), &off) :
	    alog_combined(c, &f, b, sizeof(b), &off);
	if (!ok) {
		/* Only an absurd line gets here: keep the line, cut it. */
		off = sizeof(b) - 1;
		b[off - 1] = '\n';
	}
	log_access(b, off);
}

/* Keeps request line, Referer and User-Agent for the access log. */
static void
alog_keep(struct conn *c, const struct http_msg *m, const char *head)
{
	const struct http_header *h;
	const char *ref = "", *ua = "";
	size_t lref = 0, lua = 0, lline, need;

	if (!log_access_enabled())
		return;
	/* The request line ends at the first CR of the head. */
	lline = (size_t)(m->target + m->target_len - m->method) + 9;
	h = http_find_header(m, "referer");
	if (h != NULL) {
		ref = h->value;
		lref = h->value_len;
	}
	h = http_find_header(m, "user-agent");
	if (h != NULL) {
		ua = h->value;
		lua = h->value_len;
	}
	need = lline + lref + lua + 3;
	if (need > c->alog_cap) {
		c->alog = xrealloc(c->alog, need);
		c->alog_cap = need;
	}
	memcpy(c->alog, m->method, lline);
	c->alog[lline] = '\0';
	c->alog_referer = lline + 1;
	memcpy(c->alog + c->alog_referer, ref, lref);
	c->alog[c->alog_referer + lref] = '\0';
	c->alog_ua = c->alog_referer + lref + 1;
	memcpy(c->alog + c->alog_ua, ua, lua);
	c->alog[c->alog_ua + lua] = '\0';
	(void)head;
}

/* --- rejections and errors -------------------------------------------- */

/* How long a rejected connection keeps reading what the client still sends. */
#define LINGER_MS	2000

/*
 * After an error page: if the client may still be sending (a request body,
 * pipelined bytes), closing at once makes the kernel answer that data with
 * a reset, which can destroy the page before the client has read it. So
 * send close_notify, shut our side, and read and discard for a moment
 * (nginx's lingering close); EOF or LINGER_MS ends it.
 */
static void
linger_or_close(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->cbev);

	if (c->lingering)
		return;
	if (evbuffer_get_length(in) == 0 && (c->r.body == HTTP_BODY_NONE ||
	    c->r.done)) {
		conn_close(c, "error page sent");
		return;
	}
	c->lingering = true;
	evbuffer_drain(in, evbuffer_get_length(in));
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
	(void)shutdown(bufferevent_getfd(c->cbev), SHUT_WR);
	client_reads(c, true);
	timer_arm(c, LINGER_MS);
}

/*
 * Hands what was assembled in the worker's scratch buffer to the client
 * in one piece: bufferevent_openssl writes each addition at once, so
 * adding piecemeal would cost a TLS record per piece.
 */
static void
send_scratch(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->cbev);
	struct evbuffer *sb = c->w->scratch;
	size_t len = evbuffer_get_length(sb);

	/*
	 * Nothing queued before it, and one record's worth: write it now
	 * rather than through libevent, which would first wait for the
	 * socket to poll writable (two epoll_ctl calls and a loop turn).
	 * If OpenSSL cannot write it all (WANT_WRITE), it keeps the record
	 * and must be called again with the same bytes: they go to the
	 * output as one chain of the same length, which libevent's next
	 * SSL_write passes unchanged.
	 */
	if (len > 0 && len <= 16384 && evbuffer_get_length(out) == 0 &&
	    (c->state == CS_FORWARD || c->state == CS_REJECT ||
	    c->state == CS_TUNNEL)) {
		const void *p = evbuffer_pullup(sb, -1);

		ERR_clear_error();
		if (SSL_write(c->ssl, p, (int)len) == (int)len) {
			evbuffer_drain(sb, len);
			return;
		}
		ERR_clear_error();
	}
	evbuffer_add_buffer(out, sb);
}

/*
 * Answers the current request with a local error page and closes the
 * connection once it is written. Nothing more is read from the client.
 */
static void
reject(struct conn *c, int status, const char *detail)
{
	struct evbuffer *out = bufferevent_get_output(c->cbev);

	if (c->r.resp_head_done) {
		/* Part of a response is out: an error page would corrupt it. */
		conn_close(c, "error after the response started");
		return;
	}
	backend_release(c, false);
	evtimer_del(c->timer);
	c->r.status = status;
	conn_set_state(c, CS_REJECT);
	http_write_error(c->w->scratch, status, detail, true);
	/* Logged like nginx's $bytes_sent for a local page: all of it. */
	c->r.bytes_out = evbuffer_get_length(c->w->scratch);
	send_scratch(c);
	access_log(c);
	bufferevent_enable(c->cbev, EV_WRITE);
	if (evbuffer_get_length(out) == 0)
		linger_or_close(c);
}

static void
log_rejection(struct conn *c)
{
	char d[1024];

	if (c->peer == NULL)
		c->peer = tls_peer_cert_new(c->ssl);
	atomic_fetch_add_explicit(&c->lsn->sh->rejections[
	    listener_reason_index(tls_reason_class(c->peer))], 1,
	    memory_order_relaxed);
	tls_peer_describe(c->peer, d, sizeof(d));
	log_msg(LL_WARN, "listener %s: %s:%u: client certificate rejected: %s",
	    c->lsn->conf->name, c->client_ip, c->client_port, d);
}

/* --- handshake --------------------------------------------------------- */

static void
on_handshake(struct conn *c)
{
	const struct listener_conf *lc = c->lsn->conf;

	evtimer_del(c->timer);
	atomic_fetch_add_explicit(&c->lsn->sh->handshakes, 1,
	    memory_order_relaxed);
	if (lc->mutual_authentication != MTLS_OFF) {
		c->verdict = tls_peer_verdict(c->ssl);
		if (c->verdict == TLS_PEER_FAILED ||
		    (c->verdict == TLS_PEER_NONE &&
		    lc->mutual_authentication == MTLS_ON))
			log_rejection(c);
	}
	conn_set_state(c, CS_READ_HEAD);
	timer_arm(c, lc->client_header_timeout_ms);
	process_head(c);
}

static void
handshake_failed(struct conn *c, short what)
{
	const struct listener_conf *lc = c->lsn->conf;
	unsigned long e = bufferevent_get_openssl_error(c->cbev);
	char reason[256] = "connection closed by client";

	atomic_fetch_add_explicit(&c->lsn->sh->handshake_failures, 1,
	    memory_order_relaxed);

	if (lc->mutual_authentication != MTLS_OFF && lc->reject_tls_alert) {
		c->peer = tls_peer_cert_new(c->ssl);
		c->verdict = c->peer->verdict;
		if (c->peer->verdict == TLS_PEER_FAILED || (e != 0 &&
		    ERR_GET_REASON(e) ==
		    SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
			log_rejection(c);
			while (bufferevent_get_openssl_error(c->cbev) != 0)
				;
			conn_close(c, "client certificate rejected");
			return;
		}
	}
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else if (what & BEV_EVENT_TIMEOUT)
		snprintf(reason, sizeof(reason), "handshake timed out");
	else if (errno != 0 && (what & BEV_EVENT_ERROR))
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	while (bufferevent_get_openssl_error(c->cbev) != 0)
		;
	log_msg(LL_INFO, "listener %s: %s:%u: TLS handshake failed: %s",
	    lc->name, c->client_ip, c->client_port, reason);
	conn_close(c, "handshake failed");
}

/* --- request head ------------------------------------------------------ */

static void
req_reset(struct conn *c)
{
	memset(&c->r, 0, sizeof(c->r));
}

static void
process_head(struct conn *c)
{
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(c->cbev);
	struct http_limits lim;
	struct http_msg m;
	struct http_fwd fwd;
	size_t len, n;
	const char *p;
	int rc;

	len = evbuffer_get_length(in);
	if (len == 0)
		return;
	if (c->nrequests > 0 && c->r.t_start.tv_sec == 0) {
		/* First byte of a keep-alive request: the head clock starts. */
		timer_arm(c, lc->client_header_timeout_ms);
		event_base_gettimeofday_cached(c->w->base, &c->r.t_start);
	} else if (c->r.t_start.tv_sec == 0) {
		event_base_gettimeofday_cached(c->w->base, &c->r.t_start);
	}
	lim.max_request_line = lc->max_request_line;
	lim.max_header_size = lc->max_request_header_size;
	lim.max_headers = c->w->hdrs_cap;
	n = len < lim.max_header_size + 1 ? len : lim.max_header_size + 1;
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	rc = http_parse_request(p, n, &lim, &m, c->w->hdrs, c->w->hdrs_cap);
	if (rc == 0)
		return;
	c->nrequests++;
	if (rc < 0) {
		if (c->alog != NULL)
			c->alog[0] = c->alog[c->alog_referer] =
			    c->alog[c->alog_ua] = '\0';
		reject(c, -rc, NULL);
		return;
	}
	alog_keep(c, &m, p);
	evtimer_del(c->timer);
	if (http_token_eq(m.method, m.method_len, "CONNECT")) {
		/* A tunnel request: a 2xx would be misread as a body. */
		reject(c, 501, NULL);
		return;
	}

	/* Known before any rejection, so a rejection can linger. */
	c->r.body = m.body;
	c->r.remaining = m.content_length;

	/* nginx's mTLS behaviour: the handshake passed, the request fails. */
	if (lc->mutual_authentication != MTLS_OFF) {
		if (c->verdict == TLS_PEER_FAILED) {
			reject(c, 400, "The SSL certificate error");
			return;
		}
		if (c->verdict == TLS_PEER_NONE &&
		    lc->mutual_authentication == MTLS_ON) {
			reject(c, 400, "No required SSL certificate was sent");
			return;
		}
	}
	if (lc->max_request_body_size != 0 && m.body == HTTP_BODY_LENGTH &&
	    m.content_length > lc->max_request_body_size) {
		reject(c, 413, NULL);
		return;
	}

	if (m.body == HTTP_BODY_CHUNKED)
		http_chunked_init(&c->r.chunk);
	c->r.is_head = m.is_head;
	c->r.replayable = m.body == HTTP_BODY_NONE && !m.upgrade &&
	    (m.is_head || http_token_eq(m.method, m.method_len, "GET") ||
	    http_token_eq(m.method, m.method_len, "OPTIONS"));
	c->r.upgrade = m.upgrade;
	c->r.version = m.version;
	c->r.keep_alive = m.keep_alive && !c->w->stopping &&
	    lc->keepalive_timeout_ms != 0 &&
	    (lc->keepalive_requests == 0 ||
	    c->nrequests < lc->keepalive_requests);

	memset(&fwd, 0, sizeof(fwd));
	fwd.client_ip = c->client_ip;
	if (lc->forward_client_cert) {
		fwd.cert_verify = "NONE";
		if (c->verdict == TLS_PEER_OK && peer(c) != NULL) {
			fwd.cert_verify = "SUCCESS";
			fwd.cert_subject = c->peer->subject;
			fwd.cert_issuer = c->peer->issuer;
			fwd.cert_fingerprint = c->peer->fingerprint;
			fwd.cert_serial = c->peer->serial;
		}
	}
	if (c->hold == NULL)
		c->hold = evbuffer_new();
	http_write_request_head(c->hold, &m, &fwd);
	evbuffer_drain(in, (size_t)rc);
	pick_and_connect(c);
}

/*
 * Writes what is queued for the backend at once when no write is pending
 * (the common case: a request head and a small body fit the socket
 * buffer); only a remainder goes through the bufferevent's write event.
 * backend_write_cb switches back to direct writes once it has drained.
 */
static void
backend_send(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bbev);

	if (bufferevent_get_enabled(c->bbev) & EV_WRITE)
		return;
	if (evbuffer_get_length(out) > 0)
		(void)evbuffer_write(out, bufferevent_getfd(c->bbev));
	/* A remainder, or an error the write event will report. */
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->bbev, EV_WRITE);
}

/* Tunnel bytes from the client to the backend, with backpressure. */
static void
tunnel_up(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bbev);

	evbuffer_add_buffer(out, bufferevent_get_input(c->cbev));
	backend_send(c);
	if (evbuffer_get_length(out) > BACKPRESSURE_HIGH) {
		client_reads(c, false);
		c->cbev_reads_paused = true;
	}
}

/* --- choosing and connecting to a server ------------------------------- */

static void
start_forward(struct conn *c)
{
	const struct group_conf *gc = c->r.server->group;
	const struct timeval *tv;

	conn_set_state(c, CS_FORWARD);
	atomic_fetch_add_explicit(&c->r.server->sh->active, 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&c->r.server->sh->requests, 1,
	    memory_order_relaxed);
	c->r.counted_active = true;
	bufferevent_setcb(c->bbev, backend_read_cb, backend_write_cb,
	    backend_event_cb, c);
	tv = ctv(c->w, gc->backend_timeout_ms);
	bufferevent_set_timeouts(c->bbev, tv, tv);
	bufferevent_disable(c->bbev, EV_WRITE);
	bufferevent_enable(c->bbev, EV_READ);
	if (c->r.replayable)
		/* a copy: the head stays in hold in case this server fails */
		evbuffer_add(bufferevent_get_output(c->bbev),
		    evbuffer_pullup(c->hold, -1), evbuffer_get_length(c->hold));
	else
		evbuffer_add_buffer(bufferevent_get_output(c->bbev), c->hold);
	c->bbev_reads_paused = false;
	pump_request(c);
}

static void
pick_and_connect(struct conn *c)
{
	struct group *g = c->lsn->group;
	struct server *s;

	for (;;) {
		s = balancer_pick(g, c->r.tried);
		if (s == NULL) {
			if (c->r.tried == 0) {
				log_msg(LL_WARN, "server_group %s: no healthy "
				    "server for %s:%u", group_conf(g)->name,
				    c->client_ip, c->client_port);
				reject(c, 503, NULL);
			} else {
				reject(c, 502, NULL);
			}
			return;
		}
		c->r.server = s;
		event_base_gettimeofday_cached(c->w->base, &c->r.t_upstream);
		if ((c->bbev = upstream_take(c->w->pool, s,
		    !c->r.replayable)) != NULL) {
			if (c->state != CS_CONNECT)
				conn_set_state(c, CS_CONNECT);
			start_forward(c);
			return;
		}
		if ((c->bbev = upstream_connect(c->w->base, s)) != NULL)
			break;
		log_msg(LL_WARN, "server_group %s: server %s %s: connect "
		    "failed: %s", group_conf(g)->name, s->conf->name,
		    s->conf->addr.text, strerror(errno));
		atomic_fetch_add_explicit(&s->sh->failures, 1,
		    memory_order_relaxed);
		health_passive_failure(s);
		c->r.tried |= UINT64_C(1) << s->index;
	}
	atomic_fetch_add_explicit(&s->sh->connections, 1, memory_order_relaxed);
	if (c->state != CS_CONNECT)
		conn_set_state(c, CS_CONNECT);
	bufferevent_setcb(c->bbev, NULL, NULL, backend_event_cb, c);
	bufferevent_set_timeouts(c->bbev, ctv(c->w, s->group->connect_timeout_ms),
	    ctv(c->w, s->group->connect_timeout_ms));
	bufferevent_enable(c->bbev, EV_WRITE);
}

/* A connect that failed before anything was sent: try the next server. */
static void
connect_failed(struct conn *c, short what)
{
	struct server *s = c->r.server;
	int err = evutil_socket_geterror(bufferevent_getfd(c->bbev));

	log_msg(LL_WARN, "server_group %s: server %s %s: connect failed: %s",
	    s->group->name, s->conf->name, s->conf->addr.text,
	    (what & BEV_EVENT_TIMEOUT) ? "timed out" :
	    err ? strerror(err) : "connection closed");
	atomic_fetch_add_explicit(&s->sh->failures, 1, memory_order_relaxed);
	health_passive_failure(s);
	bufferevent_free(c->bbev);
	c->bbev = NULL;
	c->r.tried |= UINT64_C(1) << s->index;
	c->r.server = NULL;
	pick_and_connect(c);
}

/* --- bodies -------------------------------------------------------------- */

/*
 * Moves up to n bytes of src's chunked body into dst after validating its
 * framing. Returns -1 on a framing error.
 */
static int
move_chunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done)
{
	struct evbuffer_iovec v[16];
	size_t total = 0;
	int i, nv;

	*done = false;
	while (!*done && evbuffer_get_length(src) > total) {
		struct evbuffer_ptr ptr;

		if (evbuffer_ptr_set(src, &ptr, total, EVBUFFER_PTR_SET) != 0)
			return -1;
		nv = evbuffer_peek(src, -1, &ptr, v, 16);
		if (nv <= 0)
			break;
		if (nv > 16)
			nv = 16;
		for (i = 0; i < nv && !*done; i++) {
			ssize_t k = http_chunked_scan(ch, v[i].iov_base,
			    v[i].iov_len, done);

			if (k < 0)
				return -1;
			total += (size_t)k;
			if ((size_t)k < v[i].iov_len && !*done)
				return -1;
		}
	}
	if (total == evbuffer_get_length(src))
		evbuffer_add_buffer(dst, src);
	else
		evbuffer_remove_buffer(src, dst, total);
	return (int)(total > 0);
}

/*
 * For an HTTP/1.0 client, which cannot read chunked framing: forwards only
 * the chunk data. Framing bytes (a few per chunk) are scanned one by one;
 * data moves as chains. Returns -1 on a framing error.
 */
static int
move_dechunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done)
{
	*done = false;
	while (!*done && evbuffer_get_length(src) > 0) {
		if (ch->state == HCS_DATA) {
			struct evbuffer_iovec v[8];
			size_t want = evbuffer_get_length(src), got = 0;
			int i, nv;

			if (ch->size < (uint64_t)want)
				want = (size_t)ch->size;
			nv = evbuffer_peek(src, (ev_ssize_t)want, NULL, v, 8);
			for (i = 0; i < nv && i < 8 && got < want; i++) {
				size_t k = v[i].iov_len < want - got ?
				    v[i].iov_len : want - got;

				if (http_chunked_scan(ch, v[i].iov_base, k,
				    done) != (ssize_t)k)
					return -1;
				got += k;
			}
			evbuffer_remove_buffer(src, dst, got);
		} else {
			char b;

			evbuffer_copyout(src, &b, 1);
			if (http_chunked_scan(ch, &b, 1, done) != 1)
				return -1;
			evbuffer_drain(src, 1);
		}
	}
	return 0;
}

/* Moves at most *remaining bytes; whole chains when everything goes. */
static size_t
move_length(struct evbuffer *src, struct evbuffer *dst, uint64_t *remaining)
{
	size_t len = evbuffer_get_length(src);
	size_t n = len;

	if (*remaining < (uint64_t)n)
		n = (size_t)*remaining;
	if (n == len)
		evbuffer_add_buffer(dst, src);
	else
		evbuffer_remove_buffer(src, dst, n);
	*remaining -= n;
	return n;
}

static void
pump_request(struct conn *c)
{
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(c->cbev);
	struct evbuffer *out = bufferevent_get_output(c->bbev);
	bool done = false;

	switch (c->r.body) {
	case HTTP_BODY_NONE:
	case HTTP_BODY_EOF:
		c->r.done = true;
		break;
	case HTTP_BODY_LENGTH:
		move_length(in, out, &c->r.remaining);
		c->r.done = c->r.remaining == 0;
		break;
	case HTTP_BODY_CHUNKED:
		if (move_chunked(in, out, &c->r.chunk, &done) < 0) {
			log_msg(LL_INFO, "listener %s: %s:%u: invalid chunked "
			    "request body", lc->name, c->client_ip,
			    c->client_port);
			reject(c, 400, NULL);
			return;
		}
		if (lc->max_request_body_size != 0 &&
		    c->r.chunk.data_bytes > lc->max_request_body_size) {
			reject(c, 413, NULL);
			return;
		}
		c->r.done = done;
		break;
	}
	client_timeouts(c, !c->r.done);
	backend_send(c);
	if (evbuffer_get_length(out) > BACKPRESSURE_HIGH) {
		client_reads(c, false);
		c->cbev_reads_paused = true;
	}
}

static void
finish_request(struct conn *c)
{
	bool reusable = c->r.backend_keep_alive && c->r.done &&
	    c->r.resp_body != HTTP_BODY_EOF;

	access_log(c);
	backend_release(c, reusable);
	if (!c->r.done)
		c->r.keep_alive = false;	/* unread body: cannot resync */
	c->close_after_flush = !c->r.keep_alive;
	conn_set_state(c, CS_FLUSH);
	client_timeouts(c, false);
	if (c->cbev_reads_paused) {
		c->cbev_reads_paused = false;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->cbev)) == 0)
		client_write_cb(c->cbev, c);
}

/* Moves the response body that has arrived into out, per its framing. */
static void
pump_body(struct conn *c, struct evbuffer *out)
{
	struct evbuffer *in = bufferevent_get_input(c->bbev);
	size_t before = evbuffer_get_length(out);
	bool done = false;

	switch (c->r.resp_body) {
	case HTTP_BODY_NONE:
		c->r.resp_done = true;
		break;
	case HTTP_BODY_LENGTH:
		move_length(in, out, &c->r.resp_remaining);
		c->r.resp_done = c->r.resp_remaining == 0;
		break;
	case HTTP_BODY_CHUNKED:
		if ((c->r.version == 10 ? move_dechunked(in, out,
		    &c->r.resp_chunk, &done) : move_chunked(in, out,
		    &c->r.resp_chunk, &done)) < 0) {
			log_msg(LL_WARN, "server %s: invalid chunked response "
			    "body", c->r.server->conf->name);
			c->r.keep_alive = false;
			c->r.backend_keep_alive = false;
			c->r.resp_done = true;
			break;
		}
		c->r.resp_done = done;
		break;
	case HTTP_BODY_EOF:
		evbuffer_add_buffer(out, in);
		break;
	}
	c->r.bytes_out += evbuffer_get_length(out) - before;
}

static void
pump_response(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->cbev);

	if (!c->r.resp_done)
		pump_body(c, out);
	if (c->r.resp_done) {
		finish_request(c);
		return;
	}
	if (evbuffer_get_length(out) > BACKPRESSURE_HIGH) {
		bufferevent_disable(c->bbev, EV_READ);
		c->bbev_reads_paused = true;
	}
}

/* A response head arrived: the server works; note how long it took. */
static void
record_latency(struct conn *c)
{
	static const unsigned bounds[] = BALANCER_LATENCY_BOUNDS_MS;
	struct server_shared *sh = c->r.server->sh;
	double secs = tv_diff(&c->r.t_upstream, &c->r.t_resp);
	uint64_t us = secs > 0 ? (uint64_t)(secs * 1e6) : 0;
	size_t i;

	health_passive_success(c->r.server);
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (us <= (uint64_t)bounds[i] * 1000)
			break;
	atomic_fetch_add_explicit(&sh->latency_bucket[i], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->latency_sum_us, us,
	    memory_order_relaxed);
}

/* Parses as many response heads as are complete (1xx, then the final). */
static void
response_head(struct conn *c)
{
	const struct listener_conf *lc = c->lsn->conf;
	struct evbuffer *in = bufferevent_get_input(c->bbev);
	struct evbuffer *out = bufferevent_get_output(c->cbev);
	struct http_limits lim;
	struct http_msg m;
	size_t len, n;
	const char *p;
	int rc;

	lim.max_request_line = lc->max_request_line;
	lim.max_header_size = lc->max_request_header_size;
	lim.max_headers = c->w->hdrs_cap;
	while (!c->r.resp_head_done) {
		len = evbuffer_get_length(in);
		if (len == 0)
			return;
		n = len < lim.max_header_size + 1 ? len :
		    lim.max_header_size + 1;
		p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
		rc = http_parse_response(p, n, &lim, c->r.is_head, &m,
		    c->w->hdrs, c->w->hdrs_cap);
		if (rc == 0)
			return;
		if (rc < 0) {
			log_msg(LL_WARN, "server_group %s: server %s %s: "
			    "invalid response head", c->r.server->group->name,
			    c->r.server->conf->name,
			    c->r.server->conf->addr.text);
			reject(c, 502, NULL);
			return;
		}
		if (m.status >= 100 && m.status < 200 && m.status != 101) {
			http_write_response_head(c->w->scratch, &m,
			    c->r.version, false);
			send_scratch(c);
			evbuffer_drain(in, (size_t)rc);
			continue;
		}
		event_base_gettimeofday_cached(c->w->base, &c->r.t_resp);
		c->r.status = m.status;
		record_latency(c);
		if (m.status == 101) {
			if (!c->r.upgrade) {
				reject(c, 502, NULL);
				return;
			}
			http_write_response_head(c->w->scratch, &m,
			    c->r.version, false);
			send_scratch(c);
			evbuffer_drain(in, (size_t)rc);
			c->r.resp_head_done = true;
			access_log(c);
			conn_set_state(c, CS_TUNNEL);
			bufferevent_set_timeouts(c->bbev, NULL, NULL);
			client_timeouts(c, false);
			evbuffer_add_buffer(out, in);
			client_reads(c, true);
			tunnel_up(c);
			return;
		}
		c->r.resp_body = m.body;
		c->r.resp_remaining = m.content_length;
		if (m.body == HTTP_BODY_CHUNKED)
			http_chunked_init(&c->r.resp_chunk);
		c->r.backend_keep_alive = m.keep_alive;
		if (m.body == HTTP_BODY_EOF || !c->r.done ||
		    (m.body == HTTP_BODY_CHUNKED && c->r.version == 10))
			c->r.keep_alive = false;
		http_write_response_head(c->w->scratch, &m, c->r.version,
		    !c->r.keep_alive);
		evbuffer_drain(in, (size_t)rc);
		c->r.resp_head_done = true;
		if (evbuffer_get_length(in) <= SMALL_BODY)
			pump_body(c, c->w->scratch);
		send_scratch(c);
	}
}

/* --- callbacks ------------------------------------------------------------ */

static void
client_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	switch (c->state) {
	case CS_READ_HEAD:
		process_head(c);
		break;
	case CS_FORWARD:
		if (!c->r.done)
			pump_request(c);
		break;
	case CS_TUNNEL:
		tunnel_up(c);
		break;
	case CS_REJECT:
		evbuffer_drain(bufferevent_get_input(bev),
		    evbuffer_get_length(bufferevent_get_input(bev)));
		break;
	case CS_HANDSHAKE:
	case CS_CONNECT:
	case CS_FLUSH:
		break;
	}
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->cbev);

	CONN_CHECK(c);
	if (evbuffer_get_length(out) != 0)
		return;
	switch (c->state) {
	case CS_FLUSH:
		if (c->close_after_flush || c->w->stopping) {
			conn_close(c, "response done, not keep-alive");
			return;
		}
		req_reset(c);
		conn_set_state(c, CS_READ_HEAD);
		client_reads(c, true);
		c->cbev_reads_paused = false;
		timer_arm(c, c->lsn->conf->keepalive_timeout_ms);
		process_head(c);
		break;
	case CS_REJECT:
		linger_or_close(c);
		break;
	case CS_FORWARD:
	case CS_TUNNEL:
		if (c->bbev_reads_paused && c->bbev != NULL) {
			c->bbev_reads_paused = false;
			bufferevent_enable(c->bbev, EV_READ);
		}
		if (c->state == CS_TUNNEL && c->bbev == NULL)
			conn_close(c, "tunnel closed by server");
		break;
	case CS_HANDSHAKE:
	case CS_READ_HEAD:
	case CS_CONNECT:
		break;
	}
}

static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	if (what & BEV_EVENT_CONNECTED) {
		on_handshake(c);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		handshake_failed(c, what);
		return;
	}
	while (bufferevent_get_openssl_error(bev) != 0)
		;
	if (what & BEV_EVENT_TIMEOUT) {
		conn_close(c, (what & BEV_EVENT_READING) ?
		    "client body timeout" : "client send timeout");
		return;
	}
	if (c->state == CS_TUNNEL && c->bbev != NULL &&
	    evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		tunnel_up(c);
	conn_close(c, (what & BEV_EVENT_EOF) ? "client closed" :
	    "client error");
}

static void
backend_read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	switch (c->state) {
	case CS_FORWARD:
		if (c->r.replayable) {
			/* the server answered: never send this request again */
			c->r.replayable = false;
			evbuffer_drain(c->hold, evbuffer_get_length(c->hold));
		}
		if (!c->r.resp_head_done) {
			response_head(c);
			if (c->state != CS_FORWARD || !c->r.resp_head_done)
				return;
		}
		pump_response(c);
		break;
	case CS_TUNNEL:
		evbuffer_add_buffer(bufferevent_get_output(c->cbev),
		    bufferevent_get_input(bev));
		if (evbuffer_get_length(bufferevent_get_output(c->cbev)) >
		    BACKPRESSURE_HIGH) {
			bufferevent_disable(bev, EV_READ);
			c->bbev_reads_paused = true;
		}
		break;
	default:
		break;
	}
}

static void
backend_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
		return;
	bufferevent_disable(bev, EV_WRITE);
	if (c->cbev_reads_paused && (c->state == CS_FORWARD ||
	    c->state == CS_TUNNEL)) {
		c->cbev_reads_paused = false;
		client_reads(c, true);
		if (c->state == CS_FORWARD && !c->r.done)
			pump_request(c);
		else if (c->state == CS_TUNNEL)
			tunnel_up(c);
	}
}

static void
backend_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct server *s = c->r.server;

	CONN_CHECK(c);
	if (c->state == CS_CONNECT) {
		if (what & BEV_EVENT_CONNECTED)
			start_forward(c);
		else
			connect_failed(c, what);
		return;
	}
	if (c->state == CS_TUNNEL) {
		evbuffer_add_buffer(bufferevent_get_output(c->cbev),
		    bufferevent_get_input(bev));
		backend_release(c, false);
		if (evbuffer_get_length(bufferevent_get_output(c->cbev)) == 0)
			conn_close(c, "tunnel closed by server");
		return;
	}
	if (c->state != CS_FORWARD)
		return;
	if (what & BEV_EVENT_TIMEOUT) {
		log_msg(LL_WARN, "server_group %s: server %s %s: no response "
		    "within backend_timeout", s->group->name, s->conf->name,
		    s->conf->addr.text);
		atomic_fetch_add_explicit(&s->sh->failures, 1,
		    memory_order_relaxed);
		if (!c->r.resp_head_done)
			reject(c, 504, NULL);
		else
			conn_close(c, "backend timeout mid-response");
		return;
	}
	/* EOF or error: drain what arrived first. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		backend_read_cb(bev, c);
	if (c->state != CS_FORWARD)
		return;
	if (!c->r.resp_head_done) {
		int err = evutil_socket_geterror(bufferevent_getfd(bev));
		bool retry = c->r.replayable &&
		    evbuffer_get_length(c->hold) > 0;

		/*
		 * Not one response byte came back. A GET, HEAD or OPTIONS
		 * without a body can safely go to the next server (as nginx
		 * and browsers do: a backend that died between accept() and
		 * reading, or closed a pooled connection as we reused it);
		 * anything else may have had effects, so it gets a 502.
		 */
		log_msg(LL_WARN, "server_group %s: server %s %s: connection "
		    "%s before a response%s", s->group->name, s->conf->name,
		    s->conf->addr.text, (what & BEV_EVENT_ERROR) && err ?
		    strerror(err) : "closed", retry ?
		    "; retrying on the next server" : "");
		atomic_fetch_add_explicit(&s->sh->failures, 1,
		    memory_order_relaxed);
		if (retry) {
			health_passive_failure(s);
			backend_release(c, false);
			c->r.tried |= UINT64_C(1) << s->index;
			c->r.server = NULL;
			pick_and_connect(c);
			return;
		}
		reject(c, 502, NULL);
		return;
	}
	if (c->r.resp_body == HTTP_BODY_EOF && (what & BEV_EVENT_EOF)) {
		c->r.resp_done = true;
		c->r.backend_keep_alive = false;
		finish_request(c);
		return;
	}
	conn_close(c, "backend closed mid-response");
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	switch (c->state) {
	case CS_HANDSHAKE:
		log_msg(LL_INFO, "listener %s: %s:%u: TLS handshake timed out",
		    c->lsn->conf->name, c->client_ip, c->client_port);
		conn_close(c, "handshake timeout");
		break;
	case CS_READ_HEAD:
		conn_close(c, c->r.t_start.tv_sec ? "client header timeout" :
		    "keep-alive timeout");
		break;
	case CS_REJECT:
		conn_close(c, "lingering close done");
		break;
	default:
		break;
	}
}

/* --- worker-wide ------------------------------------------------------ */

void
conn_worker_stop(struct conn_worker *w)
{
	struct conn *c, *next;

	w->stopping = true;
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		/*
		 * Only idle keep-alive connections. A fresh one (handshake
		 * or first request on its way) gets its request answered
		 * with Connection: close; its timeouts bound the wait.
		 */
		if (c->state == CS_READ_HEAD && c->nrequests > 0 &&
		    evbuffer_get_length(bufferevent_get_input(c->cbev)) == 0)
			conn_close(c, "shutting down");
	}
}

void
conn_worker_close_all(struct conn_worker *w)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		conn_close(c, "shutdown timeout");
}
