/*
 * master: process supervision. The master never touches client traffic.
 * Worker processes belong to a generation (a runtime); a reload starts a
 * new generation's workers, then asks the old ones to drain and exit, and
 * frees the old generation when its last worker is gone.
 */
#include "ac_config.h"
#include "master.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MTLSLB_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MTLSLB_LSAN 1
#endif
#endif
#ifdef MTLSLB_LSAN
#include <sys/prctl.h>
#include <sanitizer/lsan_interface.h>
#endif

#include "admin.h"
#include "config.h"
#include "diag.h"
#include "expiry.h"
#include "health.h"
#include "balancer.h"
#include "listener.h"
#include "log.h"
#include "proctitle.h"
#include "runtime.h"
#include "status.h"
#include "util.h"
#include "worker.h"

#define MAX_WORKERS	RUNTIME_MAX_WORKERS
#define MAX_GENS	8
#define WATCH_INTERVAL_S	2	/* reload_on_change poll period */

struct gen {
	struct runtime *rt;
	unsigned number;	/* 0 at start, then one more per reload */
	unsigned nworkers;	/* processes alive */
	bool retiring;
};

struct wproc {
	pid_t pid;
	struct gen *gen;
	unsigned index;
	time_t started;
};

struct master {
	const char *path;
	struct event_base *base;
	struct gen gens[MAX_GENS];
	struct gen *cur;
	struct wproc procs[MAX_WORKERS * MAX_GENS];
	size_t nprocs;
	unsigned want;		/* workers per generation */
	bool stopping;
	bool draining;		/* SIGTERM seen: /ready fails, drain_delay */
	struct event *sig[5];
	struct event *deadline;
	struct event *drain;	/* drain_delay's end: begin_stop */
	struct event *respawn;
	struct health *health;
	struct expiry *expiry;
	struct admin *admin;
	long started;
	struct event *watch;	/* reload_on_change poll */
	uint64_t watch_sig;	/* what the watched files looked like */
	struct status_reloads reloads;	/* shown by the admin endpoint;
					   .count: the newest gen's number */
};

static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	(void)sd_notify(0, state);
#else
	(void)state;
#endif
}

/* RELOADING=1 with the time systemd >= 253 wants for Type=notify-reload. */
static void
notify_reloading(void)
{
#ifdef HAVE_SYSTEMD
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
#endif
}

/*
 * In the master, before any worker is forked as cfg's user: the user must
 * exist, and log files become theirs so that workers can reopen them.
 * what prefixes the error ("reload failed, ...").
 */
static int
user_check(const struct config *cfg, const char *what)
{
	struct passwd *pw;

	if (cfg->user == NULL)
		return 0;
	if (geteuid() != 0) {
		log_msg(LL_INFO, "user = %s ignored: not started as root",
		    cfg->user);
		return 0;
	}
	if ((pw = getpwnam(cfg->user)) == NULL) {
		log_msg(LL_ERROR, "%suser '%s': no such user", what,
		    cfg->user);
		return -1;
	}
	log_set_owner(pw->pw_uid, pw->pw_gid);
	return 0;
}

/* Runs in the child: drop privileges if asked (the master keeps root so
 * that a reload can read root-only keys). */
static int
drop_privileges(const struct config *cfg)
{
	struct passwd *pw;

	if (cfg->user == NULL || geteuid() != 0)
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		log_msg(LL_ERROR, "user '%s': no such user", cfg->user);
		return -1;
	}
	if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_msg(LL_ERROR, "cannot switch to user '%s': %s", cfg->user,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
reset_signals(void)
{
	static const int sigs[] = { SIGCHLD, SIGHUP, SIGUSR1, SIGTERM,
	    SIGINT };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * A worker leaves with _exit() (the master's atexit handlers and stdio
 * belong to the master), which also skips LeakSanitizer's check at exit.
 * In a sanitizer build the check runs here, so a worker's leak is
 * reported (and fails the tests) like the master's; a leak turns a clean
 * exit into status 23. After a drop to an unprivileged user the process
 * is no longer dumpable, and LSan, which ptrace()s its own threads, needs
 * it to be.
 */
static _Noreturn void
worker_exit(int status)
{
#ifdef MTLSLB_LSAN
	(void)prctl(PR_SET_DUMPABLE, 1);
	if (__lsan_do_recoverable_leak_check() != 0 && status == 0)
		status = 23;
#endif
	_exit(status);
}

static int
spawn(struct master *m, struct gen *g, unsigned index)
{
	pid_t pid;
	struct wproc *p;
	size_t i;

	for (i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid == 0)
			break;
	if (i == m->nprocs) {
		if (m->nprocs == sizeof(m->procs) / sizeof(m->procs[0]))
			return -1;
		m->nprocs++;
	}
	p = &m->procs[i];
	pid = fork();
	if (pid == -1) {
		log_msg(LL_ERROR, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/*
		 * The epoll set is shared with the master after fork():
		 * reinit gives this process its own before the base is
		 * freed, so freeing it cannot touch the master's events.
		 * Freeing it also gives back libevent's signal handling.
		 */
		event_reinit(m->base);
		event_base_free(m->base);
		reset_signals();
		proctitle_set("mtlslb: worker %u (generation %u)", index,
		    g->number);
		if (drop_privileges(g->rt->cfg) == -1)
			worker_exit(2);
		worker_exit(worker_main(g->rt, index));
	}
	p->pid = pid;
	p->gen = g;
	p->index = index;
	p->started = time(NULL);
	g->nworkers++;
	log_msg(LL_DEBUG, "worker %u started (pid %ld)", index, (long)pid);
	return 0;
}

static void
gen_free(struct gen *g)
{
	runtime_free(g->rt);
	memset(g, 0, sizeof(*g));
}

static void
signal_workers(struct master *m, struct gen *g, int sig)
{
	size_t i;

	for (i = 0; i < m->nprocs; i++)
		if (m->procs[i].pid > 0 && (g == NULL || m->procs[i].gen == g))
			kill(m->procs[i].pid, sig);
}

/* Starts the current generation's missing workers. */
static void
respawn(struct master *m)
{
	unsigned idx;
	size_t i;
	bool have;

	if (m->stopping)
		return;
	for (idx = 0; idx < m->want; idx++) {
		have = false;
		for (i = 0; i < m->nprocs; i++)
			if (m->procs[i].pid > 0 && m->procs[i].gen == m->cur &&
			    m->procs[i].index == idx)
				have = true;
		if (!have)
			spawn(m, m->cur, idx);
	}
}

static void
respawn_cb(evutil_socket_t fd, short what, void *arg)
{
	respawn(arg);
}

static void
reap(struct master *m)
{
	pid_t pid;
	int st;
	size_t i;
	bool early = false;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct wproc *p = NULL;

		for (i = 0; i < m->nprocs; i++)
			if (m->procs[i].pid == pid)
				p = &m->procs[i];
		if (p == NULL)
			continue;
		p->gen->nworkers--;
		if (p->gen != m->cur || m->stopping) {
			/* draining or stopping: only a crash is news */
			if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL)
				log_msg(LL_ERROR, "worker %u (pid %ld) killed "
				    "by signal %d while %s", p->index,
				    (long)pid, WTERMSIG(st), m->stopping ?
				    "stopping" : "draining");
			else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
				log_msg(LL_ERROR, "worker %u (pid %ld) exited "
				    "with status %d while %s", p->index,
				    (long)pid, WEXITSTATUS(st), m->stopping ?
				    "stopping" : "draining");
		} else {
			if (WIFSIGNALED(st))
				log_msg(LL_ERROR, "worker %u (pid %ld) killed "
				    "by signal %d; starting a new one",
				    p->index, (long)pid, WTERMSIG(st));
			else
				log_msg(LL_ERROR, "worker %u (pid %ld) exited "
				    "with status %d; starting a new one",
				    p->index, (long)pid, WEXITSTATUS(st));
			if (time(NULL) - p->started < 1)
				early = true;
		}
		if (p->gen->retiring && p->gen->nworkers == 0) {
			log_msg(LL_INFO, "previous configuration retired");
			gen_free(p->gen);
		}
		p->pid = 0;
		p->gen = NULL;
	}
	if (m->stopping) {
		for (i = 0; i < MAX_GENS; i++)
			if (m->gens[i].rt != NULL && m->gens[i].nworkers > 0)
				return;
		event_base_loopbreak(m->base);
		return;
	}
	if (early) {
		/* Crash at start: back off instead of fork-bombing. */
		struct timeval tv = { 1, 0 };

		evtimer_add(m->respawn, &tv);
	} else {
		respawn(m);
	}
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	log_msg(LL_WARN, "workers did not stop in time; killing them");
	signal_workers(m, NULL, SIGKILL);
}

/*
 * A stopping master closes its copies of the listening sockets: once the
 * workers have closed theirs, new clients are refused at once instead of
 * waiting in a backlog nobody will accept from.
 */
static void
close_listeners(struct master *m)
{
	size_t g, i, j;

	for (g = 0; g < MAX_GENS; g++) {
		struct runtime *rt = m->gens[g].rt;

		for (i = 0; rt != NULL && i < rt->nlsns; i++)
			for (j = 0; j < rt->lsns[i].nfds; j++) {
				if (rt->lsns[i].fds[j] != -1)
					close(rt->lsns[i].fds[j]);
				rt->lsns[i].fds[j] = -1;
			}
	}
}

static void
begin_stop(struct master *m)
{
	struct timeval tv;
	unsigned ms = m->cur->rt->cfg->shutdown_timeout_ms + 5000;

	if (m->stopping)
		return;
	m->stopping = true;
	evtimer_del(m->drain);
	admin_set_stopping(m->admin, "stopping (listeners closed, draining "
	    "connections)");
	health_stop(m->health);
	m->health = NULL;
	expiry_stop(m->expiry);
	m->expiry = NULL;
	notify("STOPPING=1");
	log_msg(LL_INFO, "stopping");
	signal_workers(m, NULL, SIGTERM);
	close_listeners(m);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m->deadline, &tv);
	reap(m);
}

static void
drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	log_msg(LL_INFO, "drain_delay over: closing the listeners");
	begin_stop(m);
}

/*
 * SIGTERM or SIGINT. With drain_delay, /ready fails first while the
 * workers still accept and serve, so that an L4 balancer checking it
 * moves new connections away before any would be refused; then the
 * graceful stop. A second signal during the delay stops at once.
 */
static void
begin_drain(struct master *m)
{
	unsigned ms = m->cur->rt->cfg->drain_delay_ms;
	struct timeval tv;

	if (m->stopping)
		return;
	if (m->draining || ms == 0) {
		if (m->draining)
			log_msg(LL_INFO, "second stop signal: cutting "
			    "drain_delay short");
		begin_stop(m);
		return;
	}
	m->draining = true;
	evtimer_del(m->watch);
	admin_set_stopping(m->admin, "stopping (drain_delay: still serving, "
	    "listeners close soon)");
	notify("STOPPING=1");
	log_msg(LL_INFO, "stopping: /ready answers 503 for drain_delay "
	    "(%u ms) while still serving, then the listeners close", ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m->drain, &tv);
}

static void
reload_diag_cb(const char *line, bool is_error, void *arg)
{
	struct status_reloads *r = arg;

	log_msg(is_error ? LL_ERROR : LL_WARN, "%s%s", is_error ?
	    "reload failed, keeping current configuration: " : "", line);
	if (is_error && r->error[0] == '\0')
		snprintf(r->error, sizeof(r->error), "%s", line);
}

/*
 * Servers that still exist (same group and name) keep their health and
 * their administrative state (drained stays drained).
 */
static void
carry_health(struct runtime *old, struct runtime *nrt)
{
	size_t i, j;

	for (i = 0; i < balancer_ngroups(nrt->bal); i++) {
		struct group *ng = balancer_group_at(nrt->bal, i);
		struct group *og = balancer_group(old->bal,
		    group_conf(ng)->name);

		for (j = 0; og != NULL && j < group_nservers(ng); j++) {
			struct server *ns = group_server(ng, j);
			size_t k;

			for (k = 0; k < group_nservers(og); k++) {
				struct server *os = group_server(og, k);

				if (strcmp(os->conf->name, ns->conf->name) != 0)
					continue;
				atomic_store(&ns->sh->up, atomic_load(&os->sh->up));
				atomic_store(&ns->sh->since,
				    atomic_load(&os->sh->since));
				atomic_store(&ns->sh->ok_streak,
				    atomic_load(&os->sh->ok_streak));
				atomic_store(&ns->sh->fail_streak,
				    atomic_load(&os->sh->fail_streak));
				atomic_store(&ns->sh->last_status,
				    atomic_load(&os->sh->last_status));
				atomic_store(&ns->sh->last_error,
				    atomic_load(&os->sh->last_error));
				atomic_store(&ns->sh->admin,
				    atomic_load(&os->sh->admin));
				break;
			}
		}
	}
}

/* Moves over sockets whose address did not change; binds the rest. */
static int
take_sockets(struct runtime *old, struct runtime *nrt)
{
	size_t i, j, oi, oj;

	for (i = 0; i < nrt->nlsns; i++) {
		struct lsn *l = &nrt->lsns[i];

		for (j = 0; j < l->nfds; j++) {
			if (l->shared[j])
				continue;	/* an earlier listener takes it */
			for (oi = 0; oi < old->nlsns && l->fds[j] == -1; oi++) {
				struct lsn *o = &old->lsns[oi];

				for (oj = 0; oj < o->nfds; oj++) {
					if (o->fds[oj] == -1 || strcmp(
					    o->conf->binds[oj].text,
					    l->conf->binds[j].text) != 0)
						continue;
					l->fds[j] = o->fds[oj];
					o->fds[oj] = -1;
					break;
				}
			}
			if (l->fds[j] != -1)
				continue;
			l->fds[j] = listener_bind(&l->conf->binds[j],
			    l->conf->name);
			if (l->fds[j] == -1)
				return -1;
		}
	}
	return 0;
}

/* reload_on_change: FNV-1a over what stat() says about each file. */
static uint64_t
sig_file(uint64_t h, const char *path)
{
	struct stat st;
	long long v[6];
	const unsigned char *p = (const unsigned char *)v;
	size_t i;

	if (path == NULL)
		return h;
	memset(v, 0, sizeof(v));
	if (stat(path, &st) == -1) {
		v[0] = -errno;
	} else {
		/* mtime and size, and the inode for a file renamed over */
		v[0] = (long long)st.st_mtim.tv_sec;
		v[1] = (long long)st.st_mtim.tv_nsec;
		v[2] = (long long)st.st_size;
		v[3] = (long long)st.st_ino;
		v[4] = (long long)st.st_dev;
	}
	for (i = 0; path[i] != '\0'; i++)
		h = (h ^ (unsigned char)path[i]) * 1099511628211ULL;
	for (i = 0; i < sizeof(v); i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* The config file and every file its listeners, groups and [admin] name. */
static uint64_t
files_sig(const char *path, const struct config *cfg)
{
	uint64_t h = 14695981039346656037ULL;
	struct config_file f;
	size_t i, pos;

	h = sig_file(h, path);
	h = sig_file(h, cfg->admin_server_certificate);
	h = sig_file(h, cfg->admin_server_private_key);
	h = sig_file(h, cfg->admin_ca_certificate);
	for (i = 0; i < cfg->nlisteners; i++)
		for (pos = 0; config_listener_file_next(&cfg->listeners[i],
		    &pos, &f);)
			h = sig_file(h, f.path);
	/* and the backend_tls files of the server groups */
	for (i = 0; i < cfg->ngroups; i++)
		for (pos = 0; cfg->groups[i].backend_tls &&
		    config_group_file_next(&cfg->groups[i], &pos, &f);)
			h = sig_file(h, f.path);
	return h;
}

/*
 * Called after every (re)load attempt: remembers the files as they are now
 * (so a broken file is reported once, not every poll) and polls only when
 * the current configuration asks for it.
 */
static void
watch_update(struct master *m)
{
	struct timeval tv = { WATCH_INTERVAL_S, 0 };
	const struct config *cfg = m->cur->rt->cfg;

	m->watch_sig = files_sig(m->path, cfg);
	if (cfg->reload_on_change && !m->stopping) {
		if (!evtimer_pending(m->watch, NULL))
			evtimer_add(m->watch, &tv);
	} else {
		evtimer_del(m->watch);
	}
}

static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void reload(struct master *m);

static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct master *m = arg;

	if (m->stopping || m->draining ||
	    files_sig(m->path, m->cur->rt->cfg) == m->watch_sig)
		return;
	log_msg(LL_INFO, "reload_on_change: a watched file changed");
	reload(m);
}

static void
reload(struct master *m)
{
	struct diag *d = diag_new(m->path);
	struct runtime *nrt;
	struct gen *g = NULL;
	const char *why = "see the log";
	size_t i;
	unsigned idx;
	bool ok = false;

	notify_reloading();
	log_msg(LL_INFO, "reloading %s", m->path);
	m->reloads.error[0] = '\0';
	nrt = runtime_load(m->path, d);
	diag_foreach(d, reload_diag_cb, &m->reloads);
	diag_free(d);
	if (nrt == NULL)
		goto out;
	if (user_check(nrt->cfg, "reload failed, keeping current "
	    "configuration: ") == -1) {
		why = "user: no such user";
		runtime_free(nrt);
		goto out;
	}
	for (i = 0; i < MAX_GENS; i++)
		if (m->gens[i].rt == NULL) {
			g = &m->gens[i];
			break;
		}
	if (g == NULL) {
		why = "too many generations still draining";
		log_msg(LL_ERROR, "reload failed, keeping current "
		    "configuration: %s", why);
		runtime_free(nrt);
		goto out;
	}
	if (take_sockets(m->cur->rt, nrt) == -1) {
		/* Give back what we took so nothing is left unbound. */
		take_sockets(nrt, m->cur->rt);
		why = "cannot bind a new address";
		log_msg(LL_ERROR, "reload failed, keeping current "
		    "configuration: %s", why);
		runtime_free(nrt);
		goto out;
	}
	/*
	 * Log settings apply to the new workers; the old ones keep the
	 * descriptors they inherited until they exit.
	 */
	if (log_open(nrt->cfg->error_log, nrt->cfg->access_log,
	    (enum log_level)nrt->cfg->log_level,
	    nrt->cfg->access_log_json) == -1) {
		take_sockets(nrt, m->cur->rt);
		why = "cannot open a log file";
		log_msg(LL_ERROR, "reload failed, keeping current "
		    "configuration: %s", why);
		runtime_free(nrt);
		goto out;
	}
	if (!same_string(nrt->cfg->pid_file, m->cur->rt->cfg->pid_file))
		log_msg(LL_WARN, "pid_file: a new value takes effect at the "
		    "next start; the pid file stays where it is");
	carry_health(m->cur->rt, nrt);
	runtime_carry_sessions(m->cur->rt, nrt);
	health_stop(m->health);
	m->health = health_start(m->base, nrt->bal);
	expiry_stop(m->expiry);
	m->expiry = expiry_start(m->base, nrt);
	g->rt = nrt;
	g->number = m->reloads.count + 1;
	m->admin = admin_reload(m->admin, m->base, nrt, m->started,
	    &m->reloads);
	m->cur->retiring = true;
	signal_workers(m, m->cur, SIGTERM);
	/*
	 * Sockets of addresses the new configuration dropped: the old
	 * workers have their own copies; ours would be inherited by the new
	 * workers, which never accept on them, so the port would stay bound
	 * (connections hang, and binding it again fails).
	 */
	runtime_close_sockets(m->cur->rt);
	if (m->cur->nworkers == 0)
		gen_free(m->cur);
	m->cur = g;
	m->want = nrt->nworkers;
	for (idx = 0; idx < m->want; idx++)
		spawn(m, g, idx);
	log_msg(LL_INFO, "configuration reloaded (generation %u)", g->number);
	ok = true;
	m->reloads.count = g->number;
	m->reloads.last_at = (long)time(NULL);
out:
	if (!ok) {
		if (m->reloads.error[0] == '\0')
			snprintf(m->reloads.error, sizeof(m->reloads.error),
			    "%s", why);
		m->reloads.failed_at = (long)time(NULL);
	}
	watch_update(m);
	notify("READY=1");
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct master *m = arg;

	switch (sig) {
	case SIGCHLD:
		reap(m);
		break;
	case SIGTERM:
	case SIGINT:
		begin_drain(m);
		break;
	case SIGHUP:
		if (m->draining && !m->stopping)
			log_msg(LL_WARN, "reload ignored: stopping");
		else if (!m->stopping)
			reload(m);
		break;
	case SIGUSR1:
		log_reopen();
		signal_workers(m, NULL, SIGUSR1);
		break;
	default:
		break;
	}
}

/*
 * The soft open-files limit is often 1024, which a proxy (two descriptors
 * per connection) outgrows at 500 clients: use the hard limit, as nginx's
 * worker_rlimit_nofile lets users do, and say what it is. Workers inherit
 * it and derive their connection budget from it (worker.c).
 */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		log_msg(LL_INFO, "open-files limit: unlimited");
	else
		log_msg(LL_INFO, "open-files limit: %llu",
		    (unsigned long long)rl.rlim_cur);
}

int
master_run(const char *path, struct runtime *rt)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
	    SIGUSR1 };
	struct master *m;
	unsigned idx;
	sigset_t late;
	size_t i;
	int rc = 0, failed = 0;

	m = xcalloc(1, sizeof(*m));
	m->path = path;
	m->gens[0].rt = rt;
	m->cur = &m->gens[0];
	m->want = rt->nworkers;
	signal(SIGPIPE, SIG_IGN);
	log_set_role("master");
	proctitle_set("mtlslb: master process %s", path);
	raise_nofile();
	if ((m->base = event_base_new()) == NULL) {
		log_msg(LL_ERROR, "cannot create event loop");
		runtime_free(rt);
		free(m);
		return 1;
	}
	for (i = 0; i < 5; i++) {
		m->sig[i] = evsignal_new(m->base, sigs[i], signal_cb, m);
		event_add(m->sig[i], NULL);
	}
	m->deadline = evtimer_new(m->base, deadline_cb, m);
	m->respawn = evtimer_new(m->base, respawn_cb, m);
	m->drain = evtimer_new(m->base, drain_cb, m);
	m->watch = event_new(m->base, -1, EV_PERSIST, watch_cb, m);
	if (user_check(rt->cfg, "") == -1)
		rc = 1;
	for (idx = 0; rc == 0 && idx < m->want; idx++)
		if (spawn(m, m->cur, idx) == -1)
			rc = 1;
	m->health = health_start(m->base, rt->bal);
	m->expiry = expiry_start(m->base, rt);
	m->started = (long)time(NULL);
	m->admin = admin_start(m->base, rt, m->started, &m->reloads,
	    &failed);
	if (failed)
		rc = 1;
	if (rc == 0) {
		watch_update(m);
		log_msg(LL_INFO, "mtlslb %s started: %u workers, %zu "
		    "listeners", PACKAGE_VERSION, m->want, rt->nlsns);
		notify("READY=1");
		event_base_dispatch(m->base);
	} else {
		/*
		 * dispatch clears a loopbreak made before it runs, so loop
		 * only while workers are left to reap.
		 */
		begin_stop(m);
		for (i = 0; i < m->nprocs; i++)
			if (m->procs[i].pid > 0)
				break;
		if (i < m->nprocs)
			event_base_dispatch(m->base);
	}
	health_stop(m->health);
	expiry_stop(m->expiry);
	admin_stop(m->admin);
	/*
	 * Freeing the signal events restores the default actions, and a
	 * stop signal in the last teardown (a second systemctl stop, an
	 * impatient script) would then kill the process and turn its exit
	 * status into 143. It is stopping already: they stay blocked.
	 */
	sigemptyset(&late);
	sigaddset(&late, SIGTERM);
	sigaddset(&late, SIGINT);
	sigaddset(&late, SIGHUP);
	sigaddset(&late, SIGUSR1);
	(void)sigprocmask(SIG_BLOCK, &late, NULL);
	for (i = 0; i < 5; i++)
		event_free(m->sig[i]);
	event_free(m->deadline);
	event_free(m->respawn);
	event_free(m->drain);
	event_free(m->watch);
	for (i = 0; i < MAX_GENS; i++)
		if (m->gens[i].rt != NULL)
			gen_free(&m->gens[i]);
	event_base_free(m->base);
	log_msg(LL_INFO, "stopped");
	free(m);
	return rc;
}
