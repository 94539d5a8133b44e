/*
 * worker: the per-process event loop. SIGTERM stops accepting, closes idle
 * connections and lets requests in flight finish (shutdown_timeout);
 * SIGUSR1 reopens the logs. Exits by itself if the master dies.
 */
#include "ac_config.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "runtime.h"
#include "tls_sni.h"
#include "upstream.h"
#include "util.h"

#define MAX_HEADERS	100

struct accept_arg {
	struct worker *wk;
	struct lsn *lsn;		/* the listener that binds the socket */
	struct tls_sni *sni;		/* the listeners that share it */
};

struct worker {
	struct runtime *rt;
	struct conn_worker cw;
	struct accept_arg *args;
	size_t nargs;
	struct event *sigterm, *sigint, *sigusr1, *sighup;
	struct event *stop_poll;	/* while stopping: exit when idle */
	struct event *stop_deadline;
	struct event *resume;		/* EMFILE back-off */
	struct event *sweep;		/* idle pool of disabled servers */
	struct log_limit accept_log;	/* accept failures */
	unsigned index;
};

static void
listeners_set(struct worker *wk, bool on)
{
	size_t i, j;

	for (i = 0; i < wk->rt->nlsns; i++) {
		struct lsn *l = &wk->rt->lsns[i];

		for (j = 0; j < l->nfds; j++) {
			if (l->evls == NULL || l->evls[j] == NULL)
				continue;
			if (on)
				event_add(l->evls[j], NULL);
			else
				event_del(l->evls[j]);
		}
	}
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;

	if (!wk->cw.stopping)
		listeners_set(wk, true);
}

/*
 * Out of descriptors: accept would fail again at once and spin, so stop
 * accepting for a moment (connections close and free descriptors).
 */
static void
accept_failed(struct accept_arg *a, int e)
{
	struct worker *wk = a->wk;
	struct timeval tv = { 0, 100000 }, now;
	bool pause = e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
	unsigned n;

	event_base_gettimeofday_cached(wk->cw.base, &now);
	if (log_limit_pass(&wk->accept_log, now.tv_sec, 5, &n))
		log_msg(LL_WARN, "listener %s: accept: %s%s (%u more since the "
		    "last line)", a->lsn->conf->name, strerror(e), pause ?
		    "; pausing accepts for 100ms" : "", n);
	if (pause) {
		listeners_set(wk, false);
		evtimer_add(wk->resume, &tv);
	}
}

/*
 * One connection per wakeup, as nginx does by default (multi_accept
 * off). Every worker polls the same socket and all are woken; one that
 * accepted until EAGAIN would take a whole burst of connections (ab's 16
 * keep-alive connections all landed on one of two workers), and
 * long-lived connections never move. Taking one and going back to the
 * loop lets the other workers take theirs, and a busy worker, slower
 * round its loop, takes fewer.
 */
static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct accept_arg *a = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		/* another worker took it, or the client gave up first */
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED)
			return;
		accept_failed(a, errno);
		return;
	}
	conn_accept(&a->wk->cw, tls_sni_default(a->sni), a->sni, fd,
	    (struct sockaddr *)&ss, len);
}

/*
 * Connections this worker may hold: each needs a client and a backend
 * descriptor; some are kept back for idle pooled connections, listening
 * sockets, logs and health of the process (64).
 */
static size_t
descriptor_budget(const struct runtime *rt)
{
	struct rlimit rl;
	rlim_t reserve = 64;
	size_t i;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	for (i = 0; i < rt->cfg->ngroups; i++)
		reserve += (rlim_t)rt->cfg->groups[i].max_idle_connections *
		    rt->cfg->groups[i].nservers;
	if (rl.rlim_cur <= reserve + 2)
		return 1;
	return (size_t)((rl.rlim_cur - reserve) / 2);
}

/* While stopping: leave the loop once no connection is left. */
static void
stop_if_idle(struct worker *wk)
{
	if (wk->cw.nconns == 0)
		event_base_loopbreak(wk->cw.base);
}

static void
stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	stop_if_idle(arg);
}

static void
stop_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;

	log_msg(LL_WARN, "shutdown_timeout reached: closing %zu connections",
	    wk->cw.nconns);
	conn_worker_close_all(&wk->cw);
	event_base_loopbreak(wk->cw.base);
}

static void
begin_stop(struct worker *wk)
{
	size_t i, j;
	struct timeval poll = { 0, 50000 };
	struct timeval dl;
	unsigned ms = wk->rt->cfg->shutdown_timeout_ms;

	if (wk->cw.stopping)
		return;
	for (i = 0; i < wk->rt->nlsns; i++) {
		struct lsn *l = &wk->rt->lsns[i];

		for (j = 0; l->evls != NULL && j < l->nfds; j++) {
			if (l->evls[j] != NULL)
				event_free(l->evls[j]);
			l->evls[j] = NULL;
			/*
			 * Our copy of the socket: kept open it would let the
			 * kernel queue connections no one accepts once the
			 * master stops. On reload the new workers hold theirs.
			 */
			if (l->fds[j] != -1)
				close(l->fds[j]);
			l->fds[j] = -1;
		}
	}
	conn_worker_stop(&wk->cw);
	dl.tv_sec = ms / 1000;
	dl.tv_usec = (ms % 1000) * 1000;
	wk->stop_poll = event_new(wk->cw.base, -1, EV_PERSIST, stop_poll_cb,
	    wk);
	event_add(wk->stop_poll, &poll);
	wk->stop_deadline = evtimer_new(wk->cw.base, stop_deadline_cb, wk);
	evtimer_add(wk->stop_deadline, &dl);
	stop_if_idle(wk);
}

/*
 * Once a second: close the idle pooled connections of servers an
 * operator disabled. Polling one shared word per pooled server is
 * cheaper and simpler than a signal from the master to every worker of
 * every generation.
 */
static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *wk = arg;
	size_t n;

	if ((n = upstream_pool_sweep(wk->cw.pool)) > 0)
		log_msg(LL_DEBUG, "closed %zu idle connections to disabled "
		    "servers", n);
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct worker *wk = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		begin_stop(wk);
		break;
	case SIGUSR1:
		log_reopen();
		break;
	default:
		break;
	}
}

static void
worker_free(struct worker *wk)
{
	size_t i, j;

	for (i = 0; i < wk->rt->nlsns; i++) {
		struct lsn *l = &wk->rt->lsns[i];

		for (j = 0; l->evls != NULL && j < l->nfds; j++)
			if (l->evls[j] != NULL)
				event_free(l->evls[j]);
		free(l->evls);
		l->evls = NULL;
	}
	conn_worker_close_all(&wk->cw);
	conn_worker_free(&wk->cw);
	upstream_pool_free(wk->cw.pool);
	if (wk->sigterm)
		event_free(wk->sigterm);
	if (wk->sigint)
		event_free(wk->sigint);
	if (wk->sigusr1)
		event_free(wk->sigusr1);
	if (wk->sighup)
		event_free(wk->sighup);
	if (wk->stop_poll)
		event_free(wk->stop_poll);
	if (wk->stop_deadline)
		event_free(wk->stop_deadline);
	if (wk->resume)
		event_free(wk->resume);
	if (wk->sweep)
		event_free(wk->sweep);
	free(wk->cw.hdrs);
	if (wk->cw.scratch != NULL)
		evbuffer_free(wk->cw.scratch);
	free(wk->args);
	event_base_free(wk->cw.base);
}

/*
 * epoll's change list folds an add and a delete of the same event within
 * one loop iteration into nothing; bufferevent_openssl adds and removes
 * its write event around every synchronous write, so this saves two
 * epoll_ctl calls per response. (Its caveat, dup()ed descriptors, does
 * not apply: we never dup sockets.)
 */
static struct event_base *
new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int
worker_main(struct runtime *rt, unsigned index)
{
	struct worker wk;
	struct timeval sweep_tv = { 1, 0 };
	char role[32];
	size_t i, j, k = 0, nfds = 0;

	memset(&wk, 0, sizeof(wk));
	wk.rt = rt;
	wk.index = index;
	snprintf(role, sizeof(role), "worker %u", index);
	log_set_role(role);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 1;

	if ((wk.cw.base = new_base()) == NULL) {
		log_msg(LL_ERROR, "cannot create event loop");
		return 1;
	}
	if (conn_worker_init(&wk.cw, wk.cw.base) == -1) {
		log_msg(LL_ERROR, "cannot create the connection reaper");
		event_base_free(wk.cw.base);
		return 1;
	}
	wk.cw.scratch = evbuffer_new();
	wk.cw.max_conns = descriptor_budget(rt);
	wk.cw.pool = upstream_pool_new(wk.cw.base, balancer_nservers(rt->bal));
	wk.cw.hdrs_cap = MAX_HEADERS;
	wk.cw.hdrs = xcalloc(MAX_HEADERS, sizeof(struct http_header));

	for (i = 0; i < rt->nlsns; i++)
		nfds += rt->lsns[i].nfds;
	wk.args = xcalloc(nfds ? nfds : 1, sizeof(*wk.args));
	for (i = 0; i < rt->nlsns; i++) {
		struct lsn *l = &rt->lsns[i];

		l->nconns = 0;
		l->sh = &l->slots[index];
		for (j = 0; j < l->conf->nroutes; j++)
			l->routes[j].sh = &l->routes[j].slots[index];
		l->evls = xcalloc(l->nfds ? l->nfds : 1, sizeof(*l->evls));
		for (j = 0; j < l->nfds; j++, k++) {
			wk.args[k].wk = &wk;
			wk.args[k].lsn = l;
			wk.args[k].sni = l->sni[j];
			if (l->shared[j])
				continue;	/* its binder accepts */
			l->evls[j] = event_new(wk.cw.base, l->fds[j],
			    EV_READ | EV_PERSIST, accept_cb, &wk.args[k]);
			if (l->evls[j] == NULL ||
			    evutil_make_socket_nonblocking(l->fds[j]) == -1 ||
			    event_add(l->evls[j], NULL) == -1) {
				log_msg(LL_ERROR, "listener %s: cannot listen "
				    "on %s", l->conf->name,
				    l->conf->binds[j].text);
				worker_free(&wk);
				return 1;
			}
		}
	}
	wk.resume = evtimer_new(wk.cw.base, resume_cb, &wk);
	wk.sweep = event_new(wk.cw.base, -1, EV_PERSIST, sweep_cb, &wk);
	if (wk.resume == NULL || wk.sweep == NULL ||
	    event_add(wk.sweep, &sweep_tv) != 0) {
		log_msg(LL_ERROR, "cannot create the worker's timers");
		worker_free(&wk);
		return 1;
	}
	wk.sigterm = evsignal_new(wk.cw.base, SIGTERM, signal_cb, &wk);
	wk.sigint = evsignal_new(wk.cw.base, SIGINT, signal_cb, &wk);
	wk.sigusr1 = evsignal_new(wk.cw.base, SIGUSR1, signal_cb, &wk);
	/* SIGHUP goes to the master; a stray one must not kill a worker. */
	wk.sighup = evsignal_new(wk.cw.base, SIGHUP, signal_cb, &wk);
	event_add(wk.sigterm, NULL);
	event_add(wk.sigint, NULL);
	event_add(wk.sigusr1, NULL);
	event_add(wk.sighup, NULL);

	log_msg(LL_DEBUG, "started");
	event_base_dispatch(wk.cw.base);
	worker_free(&wk);
	log_msg(LL_DEBUG, "stopped");
	return 0;
}
