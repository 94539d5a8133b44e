/*
 * conn: accepts a client, runs the TLS handshake, records the client
 * certificate's verdict (never fatal here: nginx answers a bad certificate
 * with a 400 page), then hands the connection to its protocol session.
 * The only place a connection is freed is reap(), run by the worker's
 * reaper event after the callback that closed it has returned.
 */
#include "ac_config.h"
#include "conn.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cert_fwd.h"
#include "config.h"
#include "h1.h"
#include "h2.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "proxy.h"
#include "proxyproto.h"
#include "tls_sni.h"
#include "util.h"

#define CONN_CHECK(c)	assert((c) != NULL && (c)->magic == CONN_MAGIC && \
			    !(c)->closed)

static void reap_cb(evutil_socket_t fd, short what, void *arg);
static void handshake_event_cb(struct bufferevent *bev, short what,
    void *arg);
static void timer_cb(evutil_socket_t fd, short what, void *arg);

int
conn_worker_init(struct conn_worker *w, struct event_base *base)
{
	w->base = base;
	TAILQ_INIT(&w->conns);
	TAILQ_INIT(&w->dead);
	w->requests = proxy_freelist_new();
	w->reaper = event_new(base, -1, 0, reap_cb, w);
	return w->reaper != NULL ? 0 : -1;
}

/* Frees every closed connection. Never runs under a connection's caller. */
static void
reap(struct conn_worker *w)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->dead)) != NULL) {
		TAILQ_REMOVE(&w->dead, c, link);
		h1_free(c->h1);
		h2_free(c->h2);
		tls_peer_cert_free(c->peer);
		free(c->cert_hdrs);
		c->magic = 0;
		free(c);
	}
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	reap(arg);
}

void
conn_worker_free(struct conn_worker *w)
{
	reap(w);
	if (w->reaper != NULL)
		event_free(w->reaper);
	w->reaper = NULL;
	proxy_freelist_free(w->requests);
	w->requests = NULL;
}

/*
 * A timeval for ms that libevent files in a common-timeout queue: every
 * timeout here is one of a few configured durations, and such a queue
 * adds and removes in O(1) where the timer heap costs O(log n) on every
 * request. The pointer is only valid until the next call.
 */
const struct timeval *
conn_timeout(struct conn_worker *w, unsigned ms)
{
	const struct timeval *tv;
	size_t i;

	for (i = 0; i < w->ntvc; i++)
		if (w->tvc[i].ms == ms)
			return w->tvc[i].tv;
	w->tv_tmp.tv_sec = ms / 1000;
	w->tv_tmp.tv_usec = (ms % 1000) * 1000;
	if (w->ntvc == sizeof(w->tvc) / sizeof(w->tvc[0]) ||
	    (tv = event_base_init_common_timeout(w->base, &w->tv_tmp)) ==
	    NULL)
		return &w->tv_tmp;
	w->tvc[w->ntvc].ms = ms;
	w->tvc[w->ntvc++].tv = tv;
	return tv;
}

/*
 * Hands what was assembled in the worker's scratch buffer to the client
 * in one piece: bufferevent_openssl writes what is queued at each
 * addition, so adding piecemeal would cost a TLS record per piece (and
 * the first addition a wait for the socket to poll writable).
 */
void
conn_send_scratch(struct conn *c)
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
	if (c->ssl == NULL) {
		/* plain HTTP: the same shortcut with one write(2) */
		if (evbuffer_get_length(out) == 0)
			(void)evbuffer_write(sb, bufferevent_getfd(c->cbev));
		evbuffer_add_buffer(out, sb);
		return;
	}
	if (len > 0 && len <= 16384 && evbuffer_get_length(out) == 0) {
		const void *p = evbuffer_pullup(sb, -1);

		/*
		 * No ERR_clear_error() first: it costs 800 instructions and
		 * only matters to SSL_get_error(), which is not asked here.
		 */
		if (SSL_write(c->ssl, p, (int)len) == (int)len) {
			evbuffer_drain(sb, len);
			return;
		}
		ERR_clear_error();
	}
	evbuffer_add_buffer(out, sb);
}

void
conn_timer_arm(struct conn *c, unsigned ms)
{
	struct timeval now, d;

	event_base_gettimeofday_cached(c->w->base, &now);
	d.tv_sec = ms / 1000;
	d.tv_usec = (ms % 1000) * 1000;
	timeradd(&now, &d, &c->deadline);
	if (c->timer_armed && !timercmp(&c->deadline, &c->fires, <))
		return;		/* fires first; timer_cb re-arms the rest */
	evtimer_add(c->timer, conn_timeout(c->w, ms));
	c->fires = c->deadline;
	c->timer_armed = true;
}

void
conn_timer_stop(struct conn *c)
{
	/* the event may stay: firing with no deadline does nothing */
	timerclear(&c->deadline);
}

void
conn_timer_kick(struct conn *c)
{
	c->timer_kicked = true;
	/* running it removes its timeout: a later arm must add it anew */
	c->timer_armed = false;
	event_active(c->timer, EV_TIMEOUT, 1);
}

/*
 * True when c's timer is due now; otherwise re-arms it for what is left
 * of its deadline (if it has one).
 */
static bool
timer_due(struct conn *c)
{
	struct timeval now, left;

	/* a non-persistent event is no longer pending once it ran */
	c->timer_armed = false;
	if (c->timer_kicked) {
		c->timer_kicked = false;
		return true;
	}
	if (!timerisset(&c->deadline))
		return false;
	event_base_gettimeofday_cached(c->w->base, &now);
	timersub(&c->deadline, &now, &left);
	/* within a millisecond: the clocks of libevent and ours differ */
	if (left.tv_sec < 0 || (left.tv_sec == 0 && left.tv_usec <= 1000))
		return true;
	evtimer_add(c->timer, &left);
	c->fires = c->deadline;
	c->timer_armed = true;
	return false;
}

struct peer_cert *
conn_peer(struct conn *c)
{
	/*
	 * Formatted on first use rather than at the handshake: a connection
	 * that never sends a request (or a listener that forwards nothing
	 * and logs nothing) never pays for them.
	 */
	if (c->peer == NULL && c->verdict != TLS_PEER_NONE)
		c->peer = tls_peer_cert_new(c->ssl);
	return c->peer;
}

const char *
conn_cert_headers(struct conn *c, size_t *len)
{
	const struct listener_conf *lc = c->lsn->conf;

	if (c->cert_hdrs == NULL)
		c->cert_hdrs = cert_fwd_headers(c->ssl, conn_peer(c),
		    lc->forward_client_cert & FCC_NEEDS_CERT,
		    lc->max_client_cert_header_size, &c->cert_hdrs_len);
	*len = c->cert_hdrs_len;
	return c->cert_hdrs;
}

/* Formats an address as IP and port (IPv6 without brackets). */
static void
addr_name(const struct sockaddr *sa, char *ip, size_t iplen, unsigned *port)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		evutil_inet_ntop(AF_INET, &in->sin_addr, ip, iplen);
		*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, ip, iplen);
		*port = ntohs(in6->sin6_port);
	} else {
		snprintf(ip, iplen, "unix");
		*port = 0;
	}
}

static void
peer_name(struct conn *c, const struct sockaddr *sa, socklen_t salen)
{
	if (salen > sizeof(c->client_sa))
		salen = sizeof(c->client_sa);
	memcpy(&c->client_sa, sa, salen);
	addr_name(sa, c->client_ip, sizeof(c->client_ip), &c->client_port);
}

const struct sockaddr *
conn_local_addr(struct conn *c)
{
	socklen_t len = sizeof(c->local_sa);

	/* asked only when a backend wants a PROXY header: one syscall then */
	if (c->local_len == 0 && c->cbev != NULL &&
	    getsockname(bufferevent_getfd(c->cbev),
	    (struct sockaddr *)&c->local_sa, &len) == 0)
		c->local_len = len;
	return c->local_len != 0 ? (const struct sockaddr *)&c->local_sa :
	    NULL;
}

/* One line per few seconds however many connections are refused. */
static void
overloaded(struct conn_worker *w, struct lsn *l)
{
	struct timeval now;
	unsigned n;

	event_base_gettimeofday_cached(w->base, &now);
	if (!log_limit_pass(&w->overload_log, now.tv_sec, 5, &n))
		return;
	if (l->conf->max_connections != 0 &&
	    l->nconns >= l->conf->max_connections)
		log_msg(LL_WARN, "listener %s: max_connections (%u) reached, "
		    "closing new connections (%u more since the last line)",
		    l->conf->name, l->conf->max_connections, n);
	else
		log_msg(LL_WARN, "listener %s: the descriptor budget (%zu "
		    "connections per worker, from the open-files limit) is "
		    "used up, closing new connections (%u more since the "
		    "last line); raise LimitNOFILE", l->conf->name,
		    w->max_conns, n);
}

/*
 * Wraps c's socket fd in its bufferevent: a TLS accept, or, on a
 * protocol = http listener, a plain socket whose session starts at once.
 * Plain function: called on accept (or once a PROXY header was read).
 */
static int
start_transport(struct conn *c, int fd)
{
	struct lsn *l = c->lsn;

	if (l->conf->plain_http) {
		c->cbev = bufferevent_socket_new(c->w->base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (c->cbev == NULL) {
			close(fd);
			log_msg(LL_ERROR, "listener %s: cannot create "
			    "connection", l->conf->name);
			return conn_close(c, CONN_END_CLEAN, "no bufferevent");
		}
		c->handshake_done = true;
		conn_timer_stop(c);
		bufferevent_setwatermark(c->cbev, EV_READ, 0,
		    l->conf->max_request_header_size + 16384);
		bufferevent_enable(c->cbev, EV_READ | EV_WRITE);
		return h1_start(c);
	}
	if ((c->ssl = SSL_new(l->ctx)) == NULL ||
	    (c->sni != NULL && tls_sni_attach(c->ssl, c->sni) == -1)) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(fd);
		log_ssl(LL_ERROR, "listener %s: SSL_new", l->conf->name);
		return conn_close(c, CONN_END_CLEAN, "SSL_new failed");
	}
	/* The bufferevent owns ssl and fd from here on. */
	c->cbev = bufferevent_openssl_socket_new(c->w->base, fd, c->ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (c->cbev == NULL) {
		SSL_free(c->ssl);
		c->ssl = NULL;
		close(fd);
		log_msg(LL_ERROR, "listener %s: cannot create connection",
		    l->conf->name);
		return conn_close(c, CONN_END_CLEAN, "no bufferevent");
	}
	bufferevent_openssl_set_allow_dirty_shutdown(c->cbev, 1);
	bufferevent_setcb(c->cbev, NULL, NULL, handshake_event_cb, c);
	/* Bounded input: one head plus a little; pipelined data waits. */
	bufferevent_setwatermark(c->cbev, EV_READ, 0,
	    l->conf->max_request_header_size + 16384);
	bufferevent_enable(c->cbev, EV_READ | EV_WRITE);
	return CONN_OK;
}

/* --- PROXY protocol (accept_proxy_protocol) ----------------------------- */

/* A PROXY header being read: bytes that belong to it, and its event. */
struct conn_pp {
	struct event *ev;
	int fd;
	size_t len;
	uint8_t buf[PROXYPROTO_MAX];
};

static void pp_read_cb(evutil_socket_t fd, short what, void *arg);

/*
 * One warn line per few seconds for refused PROXY connections, however
 * many: a misconfigured balancer (or a scan) must not flood the log.
 */
static void
pp_warn(struct conn_worker *w, const struct listener_conf *lc,
    const char *ip, unsigned port, const char *what)
{
	struct timeval now;
	unsigned n;

	event_base_gettimeofday_cached(w->base, &now);
	if (!log_limit_pass(&w->proxy_log, now.tv_sec, 5, &n))
		return;
	log_msg(LL_WARN, "listener %s: %s:%u: %s; connection closed (%u more "
	    "since the last line)", lc->name, ip, port, what, n);
}

static bool
pp_allowed(const struct listener_conf *lc, const struct sockaddr *sa)
{
	size_t i;

	for (i = 0; i < lc->nproxy_from; i++)
		if (parse_cidr_match(&lc->proxy_from[i], sa))
			return true;
	return false;
}

/* Ends the PROXY phase: frees its state, not the socket. */
static void
pp_free(struct conn *c)
{
	if (c->pp == NULL)
		return;
	if (c->pp->ev != NULL)
		event_free(c->pp->ev);
	free(c->pp);
	c->pp = NULL;
}

static int
pp_fail(struct conn *c, const char *what)
{
	pp_warn(c->w, c->lsn->conf, c->client_ip, c->client_port, what);
	return conn_close(c, CONN_END_CLEAN, what);
}

/*
 * The header names the client: from now on it is the client (access log,
 * X-Forwarded-For, rejections); the balancer is kept for the log.
 */
static void
pp_apply(struct conn *c, const struct proxyproto_hdr *h)
{
	snprintf(c->proxy_peer, sizeof(c->proxy_peer), "%s%s%s:%u",
	    c->client_sa.ss_family == AF_INET6 ? "[" : "", c->client_ip,
	    c->client_sa.ss_family == AF_INET6 ? "]" : "", c->client_port);
	if (h->local)
		return;		/* the balancer's own connection */
	peer_name(c, (const struct sockaddr *)&h->src, h->srclen);
	memcpy(&c->local_sa, &h->dst, h->dstlen);
	c->local_len = h->dstlen;
}

/*
 * Reads the header without reading past it: what follows (the TLS
 * ClientHello) stays in the socket. Bytes are peeked, and consumed only
 * as far as they are known to be header: all of them while the header
 * is incomplete, exactly its length once it is complete. Plain function.
 */
static int
pp_read(struct conn *c)
{
	struct conn_pp *pp = c->pp;
	struct proxyproto_hdr h;
	ssize_t n, want;
	int r, fd = pp->fd;

	n = recv(fd, pp->buf + pp->len, sizeof(pp->buf) - pp->len, MSG_PEEK);
	if (n == 0)
		return pp_fail(c, "closed before its PROXY protocol header");
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return CONN_OK;
		return pp_fail(c, "error before its PROXY protocol header");
	}
	r = proxyproto_parse(pp->buf, pp->len + (size_t)n, &h);
	if (r < 0)
		return pp_fail(c, pp->len + (size_t)n > 0 &&
		    pp->buf[0] == 0x16 ? "no PROXY protocol header (a TLS "
		    "handshake came first)" : "invalid PROXY protocol header");
	want = r == 0 ? n : (ssize_t)((size_t)r - pp->len);
	if (recv(fd, pp->buf + pp->len, (size_t)want, 0) != want)
		return pp_fail(c, "error reading its PROXY protocol header");
	pp->len += (size_t)want;
	if (r == 0)
		return CONN_OK;
	pp_apply(c, &h);
	pp_free(c);
	return start_transport(c, fd);
}

static void
pp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	(void)pp_read(c);
}

/* --- accept --------------------------------------------------------------- */

void
conn_accept(struct conn_worker *w, struct lsn *l, const struct tls_sni *sni,
    int fd, const struct sockaddr *sa, socklen_t salen)
{
	struct conn *c;
	int one = 1;

	if ((l->conf->max_connections != 0 &&
	    l->nconns >= l->conf->max_connections) ||
	    (w->max_conns != 0 && w->nconns >= w->max_conns)) {
		overloaded(w, l);
		metrics_count_overload(l);
		close(fd);
		return;
	}
	if (l->conf->accept_proxy_protocol && !pp_allowed(l->conf, sa)) {
		char ip[46];
		unsigned port;

		addr_name(sa, ip, sizeof(ip), &port);
		pp_warn(w, l->conf, ip, port, "not in proxy_protocol_from");
		close(fd);
		return;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->magic = CONN_MAGIC;
	c->w = w;
	c->lsn = l;
	c->sni = sni;
	c->id = ++w->next_id;
	peer_name(c, sa, salen);
	c->timer = evtimer_new(w->base, timer_cb, c);
	TAILQ_INSERT_TAIL(&w->conns, c, link);
	w->nconns++;
	l->nconns++;
	metrics_count_accept(l);
	/* the handshake (and a PROXY header before it) within its timeout */
	conn_timer_arm(c, l->conf->handshake_timeout_ms);
	if (!l->conf->accept_proxy_protocol) {
		(void)start_transport(c, fd);
		return;
	}
	c->pp = xmalloc(sizeof(*c->pp));
	c->pp->fd = fd;
	c->pp->len = 0;
	c->pp->ev = event_new(w->base, fd, EV_READ | EV_PERSIST, pp_read_cb,
	    c);
	if (c->pp->ev == NULL || event_add(c->pp->ev, NULL) == -1) {
		log_msg(LL_ERROR, "listener %s: cannot watch a connection",
		    l->conf->name);
		(void)conn_close(c, CONN_END_CLEAN, "no event");
	}
}

int
conn_close(struct conn *c, enum conn_end how, const char *why)
{
	if (c->closed)
		return CONN_CLOSED;
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu peer=%s:%u: close: %s",
		    (unsigned long long)c->id, c->client_ip, c->client_port,
		    why);
	c->closed = true;
	h1_end(c->h1);
	h2_end(c->h2);
	if (c->pp != NULL) {
		/* still reading the PROXY header: nobody owns the socket yet */
		close(c->pp->fd);
		pp_free(c);
	}
	if (c->cbev != NULL) {
		/*
		 * close_notify only after a complete exchange: a client that
		 * reads to the close must be able to tell a cut response.
		 * Best effort; never waits.
		 */
		if (how == CONN_END_CLEAN && c->handshake_done &&
		    c->ssl != NULL && SSL_is_init_finished(c->ssl))
			(void)SSL_shutdown(c->ssl);
		/*
		 * However it ended, the session stays resumable: OpenSSL
		 * drops a session whose SSL is freed before a close_notify
		 * was sent, and most clients just close their socket. A
		 * session a fatal alert ended was dropped when it was sent.
		 */
		if (c->handshake_done && c->ssl != NULL)
			SSL_set_shutdown(c->ssl, SSL_get_shutdown(c->ssl) |
			    SSL_SENT_SHUTDOWN);
		ERR_clear_error();
		bufferevent_free(c->cbev);
		c->cbev = NULL;
	}
	if (c->timer != NULL)
		event_free(c->timer);
	c->timer = NULL;
	TAILQ_REMOVE(&c->w->conns, c, link);
	TAILQ_INSERT_TAIL(&c->w->dead, c, link);
	c->w->nconns--;
	c->lsn->nconns--;
	metrics_count_close(c->lsn);
	event_active(c->w->reaper, EV_TIMEOUT, 1);
	return CONN_CLOSED;
}

/* --- handshake --------------------------------------------------------- */

/*
 * The listener the server name chose becomes the connection's: its
 * certificate verdict, request policy, server group and counters. The
 * connection stays counted as accepted where it was accepted.
 */
static void
adopt_listener(struct conn *c)
{
	struct lsn *l;

	if (c->ssl == NULL || (l = tls_sni_chosen(c->ssl)) == NULL ||
	    l == c->lsn)
		return;
	c->lsn->nconns--;
	l->nconns++;
	metrics_count_move(c->lsn, l);
	c->lsn = l;
	/* its request head limit, as start_transport() set the first's */
	bufferevent_setwatermark(c->cbev, EV_READ, 0,
	    l->conf->max_request_header_size + 16384);
}

static void
log_rejection(struct conn *c)
{
	char d[1024];

	if (c->peer == NULL)
		c->peer = tls_peer_cert_new(c->ssl);
	metrics_count_rejection(c->lsn, tls_reason_class(c->peer));
	tls_peer_describe(c->peer, d, sizeof(d));
	log_msg(LL_WARN, "listener %s: %s:%u: client certificate rejected: %s",
	    c->lsn->conf->name, c->client_ip, c->client_port, d);
}

/* HTTP/2 when ALPN chose "h2", HTTP/1 otherwise. */
static int
start_session(struct conn *c)
{
	const unsigned char *p = NULL;
	unsigned int n = 0;

	SSL_get0_alpn_selected(c->ssl, &p, &n);
	if (n == 2 && memcmp(p, "h2", 2) == 0)
		return h2_start(c);
	return h1_start(c);
}

static int
on_handshake(struct conn *c)
{
	const struct listener_conf *lc;

	adopt_listener(c);
	lc = c->lsn->conf;

	conn_timer_stop(c);
	c->handshake_done = true;
	metrics_count_handshake(c->lsn, true);
	if (SSL_session_reused(c->ssl))
		metrics_count_resumed(c->lsn);
	if (lc->mutual_authentication != MTLS_OFF) {
		c->verdict = tls_peer_verdict(c->ssl);
		if (c->verdict == TLS_PEER_FAILED ||
		    (c->verdict == TLS_PEER_NONE &&
		    lc->mutual_authentication == MTLS_ON))
			log_rejection(c);
	}
	return start_session(c);
}

static int
handshake_failed(struct conn *c, short what)
{
	const struct listener_conf *lc;
	unsigned long e = bufferevent_get_openssl_error(c->cbev);
	char reason[256] = "connection closed by client";

	adopt_listener(c);
	lc = c->lsn->conf;
	metrics_count_handshake(c->lsn, false);
	if (lc->mutual_authentication != MTLS_OFF && lc->reject_tls_alert) {
		c->peer = tls_peer_cert_new(c->ssl);
		c->verdict = c->peer->verdict;
		if (c->peer->verdict == TLS_PEER_FAILED || (e != 0 &&
		    ERR_GET_REASON(e) ==
		    SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)) {
			log_rejection(c);
			while (bufferevent_get_openssl_error(c->cbev) != 0)
				;
			return conn_close(c, CONN_END_CLEAN,
			    "client certificate rejected");
		}
	}
	if (tls_sni_refusal(c->ssl) != NULL)
		snprintf(reason, sizeof(reason), "%s", tls_sni_refusal(c->ssl));
	else if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else if (what & BEV_EVENT_TIMEOUT)
		snprintf(reason, sizeof(reason), "handshake timed out");
	else if (errno != 0 && (what & BEV_EVENT_ERROR))
		snprintf(reason, sizeof(reason), "%s", strerror(errno));
	while (bufferevent_get_openssl_error(c->cbev) != 0)
		;
	log_msg(LL_INFO, "listener %s: %s:%u: TLS handshake failed: %s",
	    lc->name, c->client_ip, c->client_port, reason);
	return conn_close(c, CONN_END_CLEAN, "handshake failed");
}

static void
handshake_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	if (what & BEV_EVENT_CONNECTED)
		(void)on_handshake(c);
	else
		(void)handshake_failed(c, what);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	CONN_CHECK(c);
	if (!timer_due(c))
		return;
	if (c->h1 != NULL) {
		(void)h1_timer(c->h1);
		return;
	}
	if (c->h2 != NULL) {
		(void)h2_timer(c->h2);
		return;
	}
	if (c->pp != NULL) {
		(void)pp_fail(c, "no PROXY protocol header within "
		    "handshake_timeout");
		return;
	}
	adopt_listener(c);
	log_msg(LL_INFO, "listener %s: %s:%u: TLS handshake timed out",
	    c->lsn->conf->name, c->client_ip, c->client_port);
	(void)conn_close(c, CONN_END_CLEAN, "handshake timeout");
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
		if (c->h1 != NULL && h1_idle(c->h1))
			(void)conn_close(c, CONN_END_CLEAN, "shutting down");
		else if (c->h2 != NULL)
			/* GOAWAY: its streams finish, then it closes */
			(void)h2_stop(c->h2);
	}
}

void
conn_worker_close_all(struct conn_worker *w)
{
	struct conn *c;

	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		(void)conn_close(c, CONN_END_CLEAN, "shutdown timeout");
	/* The loop may not turn again: free them now, no caller holds one. */
	reap(w);
}
