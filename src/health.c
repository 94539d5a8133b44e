/*
 * health: HTTP/1.1 probes on plain bufferevents in the master's loop. A
 * probe is one connection: connect, "GET path" with Connection: close,
 * read the status line, close. Only the master writes health state; the
 * workers read the up flag. A probe that is still running when the next
 * interval fires is left alone (timeout >= interval is allowed).
 */
#include "ac_config.h"
#include "health.h"

#include <errno.h>
#include <netinet/in.h>
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
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "balancer.h"
#include "config.h"
#include "log.h"
#include "proxyproto.h"
#include "tls_backend.h"
#include "util.h"

/* A status line longer than this is not HTTP. */
#define STATUS_LINE_MAX 1024

struct probe {
	struct health *h;
	struct server *s;
	struct event *tick;
	struct event *deadline;
	struct bufferevent *bev;
	struct timespec started;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *request;
	size_t reqlen;
	SSL_SESSION *session;		/* backend_tls: the next probe resumes */
};

struct health {
	struct event_base *base;
	struct probe *probes;
	size_t nprobes;
};

static const char *const error_words[] = {
	[HE_OK] = "ok",
	[HE_REFUSED] = "connection refused",
	[HE_RESET] = "connection reset",
	[HE_TIMEOUT] = "timed out",
	[HE_BAD_STATUS] = "unexpected status",
	[HE_BAD_RESPONSE] = "not an HTTP response",
	[HE_CONNECT] = "cannot connect",
	[HE_CLOSED] = "closed without a response",
	[HE_TLS] = "TLS handshake failed",
};

const char *
health_error_str(enum health_error e)
{
	if ((unsigned)e >= sizeof(error_words) / sizeof(error_words[0]))
		return "unknown";
	return error_words[e];
}

const char *
health_result_str(int err, const char *detail, char *buf, size_t len)
{
	if (err != HE_TLS || detail == NULL || detail[0] == '\0')
		return health_error_str((enum health_error)err);
	snprintf(buf, len, "%s: %s", health_error_str(HE_TLS), detail);
	return buf;
}

const char *
health_result(const struct server *s, char *buf, size_t len)
{
	return health_result_str(atomic_load(&s->sh->last_error),
	    s->sh->last_detail, buf, len);
}

bool
health_code_ok(int status, unsigned mask)
{
	if (status < 100 || status > 599)
		return false;
	return (mask & (1u << (status / 100))) != 0;
}

int
health_record(struct server *s, bool success, long now)
{
	const struct group_conf *gc = s->group;
	struct server_shared *sh = s->sh;
	unsigned streak;
	int expected;

	atomic_fetch_add_explicit(&sh->checks, 1, memory_order_relaxed);
	if (success) {
		atomic_store(&sh->fail_streak, 0);
		/*
		 * The server answers: request-path connect failures hours
		 * apart must not add up to "consecutive" ones.
		 */
		if (atomic_load_explicit(&sh->passive_fails,
		    memory_order_relaxed) != 0)
			atomic_store(&sh->passive_fails, 0);
		streak = atomic_fetch_add(&sh->ok_streak, 1) + 1;
		expected = 0;
		if (streak >= gc->healthy_threshold &&
		    atomic_compare_exchange_strong(&sh->up, &expected, 1)) {
			atomic_store(&sh->since, now);
			return 1;
		}
		return 0;
	}
	atomic_store(&sh->ok_streak, 0);
	streak = atomic_fetch_add(&sh->fail_streak, 1) + 1;
	/*
	 * A compare-and-swap, not a load and a store: a worker's passive
	 * failure may take the server down at the same moment, and only
	 * the one that flips it logs the flip.
	 */
	expected = 1;
	if (streak >= gc->unhealthy_threshold &&
	    atomic_compare_exchange_strong(&sh->up, &expected, 0)) {
		atomic_store(&sh->since, now);
		return -1;
	}
	return 0;
}

bool
health_passive_failure(struct server *s)
{
	const struct group_conf *gc = s->group;
	unsigned n;
	int expected = 1;

	n = atomic_fetch_add(&s->sh->passive_fails, 1) + 1;
	/*
	 * Without active checks nothing would bring the server back, so
	 * passive failures only steer retries. With them, a run of connect
	 * failures (never client-caused) takes it out until probes pass.
	 */
	if (!gc->health_check || n < gc->unhealthy_threshold)
		return false;
	if (!atomic_compare_exchange_strong(&s->sh->up, &expected, 0))
		return false;
	atomic_store(&s->sh->ok_streak, 0);
	atomic_store(&s->sh->since, (long)time(NULL));
	log_msg(LL_WARN, "server_group %s: server %s %s is DOWN (%u "
	    "consecutive failures: cannot connect, in the request path)",
	    gc->name, s->conf->name, s->conf->addr.text, n);
	return true;
}

void
health_passive_success(struct server *s)
{
	if (atomic_load_explicit(&s->sh->passive_fails,
	    memory_order_relaxed) != 0)
		atomic_store(&s->sh->passive_fails, 0);
}

static void
probe_finish(struct probe *p, enum health_error err, int status)
{
	struct server *s = p->s;
	const struct group_conf *gc = s->group;
	struct timespec now;
	long us;
	int flip;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - p->started.tv_sec) * 1000000L +
	    (now.tv_nsec - p->started.tv_nsec) / 1000;
	if (p->bev != NULL) {
		bufferevent_free(p->bev);
		p->bev = NULL;
	}
	evtimer_del(p->deadline);
	if (err == HE_OK && !health_code_ok(status, gc->health_check_http_code))
		err = HE_BAD_STATUS;
	if (err != HE_OK) {
		/* a failing server is checked with a full handshake next */
		SSL_SESSION_free(p->session);
		p->session = NULL;
	}
	atomic_store(&s->sh->last_status, status);
	if (err != HE_TLS)
		s->sh->last_detail[0] = '\0';
	atomic_store(&s->sh->last_error, (int)err);
	atomic_store(&s->sh->last_latency_us, (unsigned)(us > 0 ? us : 0));
	atomic_store(&s->sh->last_check, (long)time(NULL));
	flip = health_record(s, err == HE_OK, (long)time(NULL));
	if (flip < 0) {
		char why[64] = "", res[200];

		if (err == HE_BAD_STATUS)
			snprintf(why, sizeof(why), " %d", status);
		log_msg(LL_WARN, "server_group %s: server %s %s is DOWN (%u "
		    "consecutive failures: %s%s)", gc->name, s->conf->name,
		    s->conf->addr.text, atomic_load(&s->sh->fail_streak),
		    health_result(s, res, sizeof(res)), why);
	} else if (flip > 0) {
		log_msg(LL_INFO, "server_group %s: server %s %s is UP (%u "
		    "consecutive successes)", gc->name, s->conf->name,
		    s->conf->addr.text, atomic_load(&s->sh->ok_streak));
	}
}

/* "HTTP/1.x NNN ..." : returns NNN, 0 when incomplete, -1 when invalid. */
static int
status_line(struct evbuffer *in)
{
	struct evbuffer_ptr eol;
	size_t n;
	char line[STATUS_LINE_MAX + 1];
	int minor, status;

	eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_CRLF);
	if (eol.pos == -1)
		return evbuffer_get_length(in) > STATUS_LINE_MAX ? -1 : 0;
	n = (size_t)eol.pos;
	if (n > STATUS_LINE_MAX)
		return -1;
	evbuffer_copyout(in, line, n);
	line[n] = '\0';
	if (sscanf(line, "HTTP/1.%1d %3d", &minor, &status) != 2 ||
	    status < 100 || status > 599 ||
	    (line[12] != '\0' && line[12] != ' '))
		return -1;
	return status;
}

static void
probe_read_cb(struct bufferevent *bev, void *arg)
{
	struct probe *p = arg;
	int st = status_line(bufferevent_get_input(bev));

	if (st < 0)
		probe_finish(p, HE_BAD_RESPONSE, 0);
	else if (st > 0)
		probe_finish(p, HE_OK, st);
}

/* The errno of a failed connection, as a probe result. */
static enum health_error
socket_error(evutil_socket_t fd)
{
	int err = errno, soerr = 0;
	socklen_t len = sizeof(soerr);

	/* libevent leaves a failed connect's SO_ERROR in errno; be sure. */
	if (fd != -1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
	    &len) == 0 && soerr != 0)
		err = soerr;
	switch (err) {
	case ECONNREFUSED:
		return HE_REFUSED;
	case ECONNRESET:
	case EPIPE:
		return HE_RESET;
	case ETIMEDOUT:
		return HE_TIMEOUT;
	default:
		return HE_CONNECT;
	}
}

/*
 * backend_tls: a failed handshake's reason goes to the server's detail
 * (the log's DOWN line and /status name it). True when it was TLS.
 */
static bool
tls_failed(struct probe *p, struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);
	struct server_shared *sh = p->s->sh;
	unsigned long e, last = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		last = e;
	if (tls_backend_failure(ssl, last, sh->last_detail,
	    sizeof(sh->last_detail)) == NULL)
		return false;
	ERR_clear_error();
	return true;
}

static void
probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct probe *p = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_ERROR) && p->s->tls != NULL &&
	    tls_failed(p, bev)) {
		probe_finish(p, HE_TLS, 0);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);
		int st = status_line(in);

		if (st > 0)
			probe_finish(p, HE_OK, st);
		else
			probe_finish(p, evbuffer_get_length(in) == 0 ?
			    HE_CLOSED : HE_BAD_RESPONSE, 0);
		return;
	}
	probe_finish(p, socket_error(bufferevent_getfd(bev)), 0);
}

static void
probe_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	probe_finish(arg, HE_TIMEOUT, 0);
}

static void
probe_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct server *s = p->s;
	const struct group_conf *gc = s->group;
	struct timeval tv;
	SSL *ssl = NULL;
	int sfd;

	if (p->bev != NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &p->started);
	sfd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (sfd == -1) {
		probe_finish(p, HE_CONNECT, 0);
		return;
	}
	/*
	 * Connect here rather than in bufferevent_socket_connect(): a
	 * loopback refusal is reported at once by connect(), and libevent
	 * would then call back with an error but no errno to name it.
	 */
	if (connect(sfd, (struct sockaddr *)&p->addr, p->addrlen) == -1 &&
	    errno != EINPROGRESS) {
		enum health_error e = socket_error(-1);

		close(sfd);
		probe_finish(p, e, 0);
		return;
	}
	if (s->tls != NULL) {
		/* the handshake starts once the socket is writable */
		if ((ssl = tls_backend_ssl(s->tls, gc, s->conf,
		    &p->session)) ==
		    NULL || (p->bev = bufferevent_openssl_socket_new(
		    p->h->base, sfd, ssl, BUFFEREVENT_SSL_CONNECTING,
		    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
			log_ssl(LL_ERROR, "server_group %s: server %s: cannot "
			    "start TLS", gc->name, s->conf->name);
			SSL_free(ssl);
			close(sfd);
			probe_finish(p, HE_CONNECT, 0);
			return;
		}
		bufferevent_openssl_set_allow_dirty_shutdown(p->bev, 1);
	} else if ((p->bev = bufferevent_socket_new(p->h->base, sfd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(sfd);
		probe_finish(p, HE_CONNECT, 0);
		return;
	}
	bufferevent_setcb(p->bev, probe_read_cb, NULL, probe_event_cb, p);
	tv.tv_sec = gc->health_check_timeout_ms / 1000;
	tv.tv_usec = (gc->health_check_timeout_ms % 1000) * 1000;
	evtimer_add(p->deadline, &tv);
	/* NULL address: the socket is already connecting. */
	if (s->tls == NULL && bufferevent_socket_connect(p->bev, NULL, 0) ==
	    -1) {
		probe_finish(p, HE_CONNECT, 0);
		return;
	}
	bufferevent_write(p->bev, p->request, p->reqlen);
	bufferevent_enable(p->bev, EV_READ | EV_WRITE);
}

static void
probe_init(struct health *h, struct probe *p, struct server *s)
{
	const struct group_conf *gc = s->group;
	struct timeval tv;
	char host[300], pp[PROXYPROTO_V1_MAX];
	size_t pre = 0;
	int n;

	p->h = h;
	p->s = s;
	memcpy(&p->addr, &s->conf->addr.ss, sizeof(p->addr));
	p->addrlen = s->conf->addr.len;
	if (gc->health_check_port != 0) {
		if (p->addr.ss_family == AF_INET)
			((struct sockaddr_in *)&p->addr)->sin_port =
			    htons((uint16_t)gc->health_check_port);
		else
			((struct sockaddr_in6 *)&p->addr)->sin6_port =
			    htons((uint16_t)gc->health_check_port);
	}
	snprintf(host, sizeof(host), "%s", gc->health_check_host ?
	    gc->health_check_host : s->conf->addr.text);
	n = snprintf(NULL, 0, "%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "Connection: close\r\nUser-Agent: mtlslb-health-check\r\n\r\n",
	    gc->health_check_head ? "HEAD" : "GET", gc->health_check_path,
	    host);
	/*
	 * A backend that wants a PROXY header refuses a probe without one:
	 * it gets the header of a connection on the sender's own behalf
	 * (v2 LOCAL, v1 UNKNOWN), as HAProxy's check-send-proxy sends.
	 */
	if (gc->send_proxy_protocol == PP_SEND_V1)
		pre = proxyproto_write_v1(pp, sizeof(pp), NULL, NULL);
	else if (gc->send_proxy_protocol != PP_SEND_OFF)
		pre = proxyproto_write_v2((uint8_t *)pp, sizeof(pp), NULL, NULL,
		    NULL);
	p->request = xmalloc(pre + (size_t)n + 1);
	memcpy(p->request, pp, pre);
	snprintf(p->request + pre, (size_t)n + 1, "%s %s HTTP/1.1\r\n"
	    "Host: %s\r\nConnection: close\r\n"
	    "User-Agent: mtlslb-health-check\r\n\r\n",
	    gc->health_check_head ? "HEAD" : "GET", gc->health_check_path,
	    host);
	p->reqlen = pre + (size_t)n;
	p->deadline = evtimer_new(h->base, probe_deadline_cb, p);
	p->tick = event_new(h->base, -1, EV_PERSIST, probe_tick_cb, p);
	tv.tv_sec = gc->health_check_interval_ms / 1000;
	tv.tv_usec = (gc->health_check_interval_ms % 1000) * 1000;
	event_add(p->tick, &tv);
	/* The first probe runs now, not one interval after start. */
	event_active(p->tick, EV_TIMEOUT, 0);
}

struct health *
health_start(struct event_base *base, struct balancer *b)
{
	struct health *h;
	size_t i, j, n = 0;

	h = xcalloc(1, sizeof(*h));
	h->base = base;
	for (i = 0; i < balancer_ngroups(b); i++) {
		struct group *g = balancer_group_at(b, i);

		if (group_conf(g)->health_check)
			n += group_nservers(g);
		/* "since" of a server that never flipped: since start. */
		for (j = 0; j < group_nservers(g); j++) {
			int_fast64_t zero = 0;

			atomic_compare_exchange_strong(
			    &group_server(g, j)->sh->since, &zero,
			    (int_fast64_t)time(NULL));
		}
	}
	h->probes = xcalloc(n ? n : 1, sizeof(*h->probes));
	for (i = 0; i < balancer_ngroups(b); i++) {
		struct group *g = balancer_group_at(b, i);

		if (!group_conf(g)->health_check)
			continue;
		for (j = 0; j < group_nservers(g); j++)
			probe_init(h, &h->probes[h->nprobes++],
			    group_server(g, j));
	}
	return h;
}

void
health_stop(struct health *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nprobes; i++) {
		struct probe *p = &h->probes[i];

		if (p->bev != NULL)
			bufferevent_free(p->bev);
		event_free(p->tick);
		event_free(p->deadline);
		free(p->request);
		SSL_SESSION_free(p->session);
	}
	free(h->probes);
	free(h);
}
