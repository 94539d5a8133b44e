/*
 * upstream: backend sockets. An idle pooled connection watches for EOF
 * and expires on its own timer; before reuse it is probed with a
 * non-blocking MSG_PEEK, since a backend may have closed it a moment ago
 * and a request written into a dead socket cannot always be retried.
 * A group with send_proxy_protocol gets its PROXY header first on every
 * connection, and never pools one (it names a single client).
 * A server an operator disabled (balancer_admin) keeps no idle
 * connection: none is pooled, and upstream_pool_sweep() closes the ones
 * it had.
 */
#include "ac_config.h"
#include "upstream.h"

#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "proxyproto.h"
#include "tls_backend.h"
#include "tls_peer.h"
#include "util.h"

struct idle {
	TAILQ_ENTRY(idle) link;
	struct bufferevent *bev;
	struct idle_list *list;
	time_t since;			/* when it went idle */
};

TAILQ_HEAD(idle_head, idle);

struct idle_list {
	struct idle_head head;
	struct upstream_pool *pool;
	unsigned count;
	SSL_SESSION *session;		/* backend_tls: to resume */
	struct server *server;		/* set by upstream_put */
};

struct upstream_pool {
	struct event_base *base;
	struct idle_list *lists;	/* one per server id */
	size_t nlists;
	struct idle_head spare;		/* idle records kept for reuse */
};

struct upstream_pool *
upstream_pool_new(struct event_base *base, size_t nservers)
{
	struct upstream_pool *p;
	size_t i;

	p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->nlists = nservers;
	p->lists = xcalloc(nservers ? nservers : 1, sizeof(*p->lists));
	for (i = 0; i < nservers; i++) {
		TAILQ_INIT(&p->lists[i].head);
		p->lists[i].pool = p;
	}
	TAILQ_INIT(&p->spare);
	return p;
}

/*
 * Takes it off its list into the pool's spares: a keep-alive request
 * parks and takes a connection each time, with no heap churn.
 */
static void
idle_unlink(struct upstream_pool *p, struct idle *it)
{
	TAILQ_REMOVE(&it->list->head, it, link);
	it->list->count--;
	it->bev = NULL;
	TAILQ_INSERT_HEAD(&p->spare, it, link);
}

static void
idle_drop(struct idle *it)
{
	struct bufferevent *bev = it->bev;

	idle_unlink(it->list->pool, it);
	bufferevent_free(bev);
}

void
upstream_pool_free(struct upstream_pool *p)
{
	size_t i;
	struct idle *it;

	if (p == NULL)
		return;
	for (i = 0; i < p->nlists; i++) {
		while ((it = TAILQ_FIRST(&p->lists[i].head)) != NULL)
			idle_drop(it);
		SSL_SESSION_free(p->lists[i].session);
	}
	while ((it = TAILQ_FIRST(&p->spare)) != NULL) {
		TAILQ_REMOVE(&p->spare, it, link);
		free(it);
	}
	free(p->lists);
	free(p);
}

/* Any byte or event on an idle connection ends it. */
static void
idle_read_cb(struct bufferevent *bev, void *arg)
{
	idle_drop(arg);
}

static void
idle_event_cb(struct bufferevent *bev, short what, void *arg)
{
	idle_drop(arg);
}

/* True when the peer has not closed fd and sent nothing. */
static bool
still_open(evutil_socket_t fd)
{
	char b;
	ssize_t n;

	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct bufferevent *
upstream_take(struct upstream_pool *p, struct server *s, bool probe)
{
	struct idle_list *l;
	struct idle *it;
	struct bufferevent *bev;
	struct timeval now;

	if (s->id >= p->nlists || s->group->send_proxy_protocol != PP_SEND_OFF)
		return NULL;
	l = &p->lists[s->id];
	/* Most recently used first: the likeliest to be alive. */
	event_base_gettimeofday_cached(p->base, &now);
	while ((it = TAILQ_LAST(&l->head, idle_head)) != NULL) {
		bev = it->bev;
		/*
		 * A backend closing an idle connection does so after
		 * seconds, and a close the loop has seen dropped it already,
		 * so a request that can be retried (probe false) skips the
		 * syscall on young connections. One that cannot be retried
		 * always probes: a backend that just died (its FIN in our
		 * socket, not yet read by the loop) must not get it.
		 */
		if ((probe || now.tv_sec - it->since >= 1) &&
		    !still_open(bufferevent_getfd(bev))) {
			idle_drop(it);
			continue;
		}
		idle_unlink(p, it);
		/*
		 * Reading stays enabled, and the idle timeout set: the
		 * caller sets its callbacks and timeouts at once.
		 */
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		return bev;
	}
	return NULL;
}

void
upstream_put(struct upstream_pool *p, struct server *s,
    struct bufferevent *bev)
{
	const struct group_conf *gc;
	struct idle_list *l;
	struct idle *it;
	struct timeval tv;

	gc = s->group;
	if (s->id >= p->nlists || gc->send_proxy_protocol != PP_SEND_OFF) {
		bufferevent_free(bev);
		return;
	}
	l = &p->lists[s->id];
	l->server = s;
	if (balancer_admin(s) == BAL_DISABLED) {
		bufferevent_free(bev);
		return;
	}
	if (l->count >= gc->max_idle_connections) {
		/* Full: drop the oldest, keep the warm one. */
		if ((it = TAILQ_FIRST(&l->head)) == NULL) {
			bufferevent_free(bev);
			return;
		}
		idle_drop(it);
	}
	if ((it = TAILQ_FIRST(&p->spare)) != NULL)
		TAILQ_REMOVE(&p->spare, it, link);
	else
		it = xcalloc(1, sizeof(*it));
	it->bev = bev;
	it->list = l;
	event_base_gettimeofday_cached(p->base, &tv);
	it->since = tv.tv_sec;
	TAILQ_INSERT_TAIL(&l->head, it, link);
	l->count++;
	tv.tv_sec = gc->idle_connection_timeout_ms / 1000;
	tv.tv_usec = (gc->idle_connection_timeout_ms % 1000) * 1000;
	bufferevent_setcb(bev, idle_read_cb, NULL, idle_event_cb, it);
	bufferevent_set_timeouts(bev, &tv, NULL);
	bufferevent_enable(bev, EV_READ);
}

size_t
upstream_pool_sweep(struct upstream_pool *p)
{
	struct idle *it;
	size_t i, n = 0;

	for (i = 0; i < p->nlists; i++) {
		struct idle_list *l = &p->lists[i];

		if (l->count == 0 || balancer_admin(l->server) != BAL_DISABLED)
			continue;
		while ((it = TAILQ_FIRST(&l->head)) != NULL) {
			idle_drop(it);
			n++;
		}
	}
	return n;
}

/*
 * v2_ssl: what the client's TLS was. verify is 0 only for a verified
 * certificate (the spec: non-zero otherwise, also without one).
 */
static void
ssl_facts(struct conn *c, struct proxyproto_ssl *ssl, char *cn, size_t cnlen)
{
	struct peer_cert *pc = conn_peer(c);

	memset(ssl, 0, sizeof(*ssl));
	ssl->version = SSL_get_version(c->ssl);
	ssl->cipher = SSL_get_cipher_name(c->ssl);
	ssl->cert_sess = c->verdict != TLS_PEER_NONE;
	ssl->cert_conn = ssl->cert_sess && !SSL_session_reused(c->ssl);
	if (c->verdict == TLS_PEER_OK)
		ssl->verify = 0;
	else if (pc != NULL && pc->verify_err != 0)
		ssl->verify = (uint32_t)pc->verify_err;
	else
		ssl->verify = 1;
	if (tls_peer_cn(pc, cn, cnlen))
		ssl->cn = cn;
}

/* Queues the PROXY header of c's client on bev, before anything else. */
static void
proxy_header(struct bufferevent *bev, const struct group_conf *gc,
    struct conn *c)
{
	const struct sockaddr *src = (const struct sockaddr *)&c->client_sa;
	const struct sockaddr *dst = conn_local_addr(c);
	struct proxyproto_ssl ssl;
	uint8_t hdr[1024];
	char cn[256];
	size_t n;

	if (gc->send_proxy_protocol == PP_SEND_V1)
		n = proxyproto_write_v1((char *)hdr, sizeof(hdr), src, dst);
	else if (gc->send_proxy_protocol == PP_SEND_V2_SSL && c->ssl != NULL) {
		ssl_facts(c, &ssl, cn, sizeof(cn));
		n = proxyproto_write_v2(hdr, sizeof(hdr), src, dst, &ssl);
	} else
		n = proxyproto_write_v2(hdr, sizeof(hdr), src, dst, NULL);
	/* cannot happen with these sizes; an empty header would be a lie */
	assert(n > 0);
	evbuffer_add(bufferevent_get_output(bev), hdr, n);
}

/*
 * backend_tls: TLS over the connecting socket; BEV_EVENT_CONNECTED comes
 * once the handshake is done, so connect_timeout covers both. With a
 * PROXY header, which must precede the ClientHello on the wire, TLS is a
 * filter over a socket bufferevent that holds the header (such
 * connections are never pooled, so the extra layer costs little).
 */
static struct bufferevent *
tls_bev(struct event_base *base, struct server *s, struct conn *c,
    evutil_socket_t fd)
{
	struct upstream_pool *p = c->w->pool;
	SSL_SESSION **slot = s->id < p->nlists ? &p->lists[s->id].session :
	    NULL;
	struct bufferevent *bev, *under;
	SSL *ssl;

	if ((ssl = tls_backend_ssl(s->tls, s->group, s->conf, slot)) == NULL) {
		log_ssl(LL_ERROR, "server_group %s: server %s: cannot start "
		    "TLS", s->group->name, s->conf->name);
		close(fd);
		errno = ENOMEM;		/* ours, not the server's */
		return NULL;
	}
	if (s->group->send_proxy_protocol == PP_SEND_OFF) {
		/* the bufferevent owns ssl and fd from here on */
		bev = bufferevent_openssl_socket_new(base, fd, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(ssl);
			close(fd);
		}
	} else {
		if ((under = bufferevent_socket_new(base, fd,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			SSL_free(ssl);
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		proxy_header(under, s->group, c);
		bev = bufferevent_openssl_filter_new(base, under, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL) {
			SSL_free(ssl);
			bufferevent_free(under);
		}
	}
	if (bev == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	/* a server's FIN is an end, as for plain HTTP (nginx does the same) */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *
upstream_connect(struct event_base *base, struct server *s, struct conn *c)
{
	struct bufferevent *bev, *sock;
	evutil_socket_t fd;
	int one = 1;
	const struct addr_conf *a = &s->conf->addr;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return NULL;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->tls != NULL)
		bev = tls_bev(base, s, c, fd);
	else if ((bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		close(fd);
	if (bev == NULL)
		return NULL;
	/* a filter's socket is the one underneath */
	sock = bufferevent_get_underlying(bev);
	if (sock == NULL)
		sock = bev;
	if (bufferevent_socket_connect(sock, (const struct sockaddr *)&a->ss,
	    (int)a->len) == -1) {
		int e = errno;

		bufferevent_free(bev);
		errno = e;
		return NULL;
	}
	if (s->tls == NULL && s->group->send_proxy_protocol != PP_SEND_OFF)
		proxy_header(bev, s->group, c);
	return bev;
}

const char *
upstream_failure(struct bufferevent *bev, short what, char *buf,
    size_t len)
{
	int saved = errno;
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	unsigned long e, last = 0;
	int err = evutil_socket_geterror(bufferevent_getfd(bev));
	char why[200];

	/*
	 * A TLS connection's refused connect shows in the failed write of
	 * the ClientHello, whose errno libevent leaves, not in SO_ERROR.
	 */
	if (err == 0 && (what & BEV_EVENT_ERROR) && saved != EAGAIN &&
	    saved != EWOULDBLOCK && saved != EINPROGRESS)
		err = saved;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		last = e;
	if (what & BEV_EVENT_TIMEOUT)
		snprintf(buf, len, "timed out%s", ssl != NULL &&
		    !SSL_is_init_finished(ssl) ? " (TCP connect or TLS "
		    "handshake)" : "");
	else if (tls_backend_failure(ssl, last, why, sizeof(why)) != NULL)
		snprintf(buf, len, "TLS handshake failed: %s", why);
	else if (err != 0 && ssl != NULL && !SSL_is_init_finished(ssl) &&
	    (err == EPIPE || err == ECONNRESET))
		/* a write of the handshake met the server's close */
		snprintf(buf, len, "connection closed during the TLS "
		    "handshake (%s)", strerror(err));
	else if (err != 0)
		snprintf(buf, len, "%s", strerror(err));
	else if (ssl != NULL && !SSL_is_init_finished(ssl))
		snprintf(buf, len, "connection closed during the TLS "
		    "handshake");
	else
		snprintf(buf, len, "connection closed");
	ERR_clear_error();
	return buf;
}

void
upstream_send(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (bufferevent_get_enabled(bev) & EV_WRITE)
		return;
	if (bufferevent_openssl_get_ssl(bev) != NULL) {
		/* TLS: the bufferevent encrypts; the event writes */
		if (evbuffer_get_length(out) > 0)
			bufferevent_enable(bev, EV_WRITE);
		return;
	}
	if (evbuffer_get_length(out) > 0)
		(void)evbuffer_write(out, bufferevent_getfd(bev));
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(bev, EV_WRITE);
}

bool
upstream_local_error(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
}
