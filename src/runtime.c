/*
 * runtime: assembles a generation from a config file. Nothing here is
 * reached from the data path except through the plain structs it builds.
 */
#include "ac_config.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "balancer.h"
#include "config.h"
#include "config_sites.h"
#include "diag.h"
#include "keyperm.h"
#include "sesscache.h"
#include "shm.h"
#include "tls.h"
#include "tls_backend.h"
#include "tls_session.h"
#include "tls_sni.h"
#include "util.h"

static unsigned
worker_count(const struct config *cfg)
{
	long n;

	if (cfg->workers != 0)
		return cfg->workers < RUNTIME_MAX_WORKERS ? cfg->workers :
		    RUNTIME_MAX_WORKERS;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	return n > RUNTIME_MAX_WORKERS ? RUNTIME_MAX_WORKERS : (unsigned)n;
}

/* l's routes: each with its server group and its counter slots. */
static void
runtime_routes(struct runtime *rt, struct lsn *l)
{
	size_t j;

	l->routes = xcalloc(l->conf->nroutes ? l->conf->nroutes : 1,
	    sizeof(*l->routes));
	for (j = 0; j < l->conf->nroutes; j++) {
		struct lsn_route *lr = &l->routes[j];

		lr->conf = l->conf->routes[j];
		lr->group = lr->conf->group != NULL ?
		    balancer_group_at(rt->bal, lr->conf->group_idx) :
		    l->group;
		lr->slots = shm_alloc(rt->shm, rt->nworkers *
		    sizeof(struct route_shared));
	}
}

/*
 * Groups the binds by address: the first listener to name an address
 * binds it and owns its set; later ones join the set (file order).
 */
static void
group_sockets(struct runtime *rt)
{
	size_t i, j, k, m;

	for (i = 0; i < rt->nlsns; i++) {
		struct lsn *l = &rt->lsns[i];

		for (j = 0; j < l->nfds; j++) {
			for (k = 0; k < i && l->sni[j] == NULL; k++) {
				struct lsn *o = &rt->lsns[k];

				for (m = 0; m < o->nfds; m++) {
					if (!config_sites_same_bind(
					    &o->conf->binds[m],
					    &l->conf->binds[j]))
						continue;
					l->sni[j] = o->sni[m];
					l->shared[j] = true;
					break;
				}
			}
			if (l->sni[j] == NULL)
				l->sni[j] = tls_sni_new();
			tls_sni_add(l->sni[j], l->ctx, l->conf, l);
		}
	}
}

struct runtime *
runtime_load(const char *path, struct diag *d)
{
	struct runtime *rt;
	struct config *cfg;
	struct config_file f;
	size_t i, j, pos, nservers = 0, nroutes = 0;
	bool failed = false;

	if ((cfg = config_load(path, d)) == NULL)
		return NULL;
	rt = xcalloc(1, sizeof(*rt));
	rt->cfg = cfg;
	rt->nlsns = cfg->nlisteners;
	rt->lsns = xcalloc(cfg->nlisteners ? cfg->nlisteners : 1,
	    sizeof(*rt->lsns));
	for (i = 0; i < cfg->nlisteners; i++) {
		struct lsn *l = &rt->lsns[i];

		l->conf = &cfg->listeners[i];
		l->nfds = l->conf->nbinds;
		l->fds = xcalloc(l->nfds ? l->nfds : 1, sizeof(int));
		l->sni = xcalloc(l->nfds ? l->nfds : 1, sizeof(*l->sni));
		l->shared = xcalloc(l->nfds ? l->nfds : 1, sizeof(bool));
		for (j = 0; j < l->nfds; j++)
			l->fds[j] = -1;
		if (l->conf->plain_http)
			continue;	/* protocol = http: no TLS, no files */
		if ((l->ctx = tls_ctx_new(l->conf, d)) == NULL)
			failed = true;
		else if (l->conf->session_cache == SESSION_CACHE_SHARED &&
		    l->conf->session_cache_size > 0) {
			l->scache = sesscache_new(l->conf->session_cache_size,
			    l->conf->name);
			if (l->scache == NULL)
				failed = true;
			tls_session_use_cache(l->ctx, l->scache);
		}
		for (pos = 0; config_listener_file_next(l->conf, &pos, &f);)
			if (f.kind == CONFIG_FILE_KEY)
				keyperm_check(f.key, f.path, f.line, d);
	}
	rt->gctxs = xcalloc(cfg->ngroups ? cfg->ngroups : 1,
	    sizeof(*rt->gctxs));
	for (i = 0; i < cfg->ngroups; i++) {
		const struct group_conf *gc = &cfg->groups[i];

		if (!gc->backend_tls)
			continue;
		if ((rt->gctxs[i] = tls_backend_ctx_new(gc, d)) == NULL)
			failed = true;
		for (pos = 0; config_group_file_next(gc, &pos, &f);)
			if (f.kind == CONFIG_FILE_KEY)
				keyperm_check(f.key, f.path, f.line, d);
	}
	if (admin_tls_new(cfg, d, &rt->admin_ctx) == -1)
		failed = true;
	if (cfg->admin_server_private_key != NULL)
		keyperm_check("server_private_key",
		    cfg->admin_server_private_key,
		    cfg->admin_server_private_key_line, d);
	if (failed) {
		runtime_free(rt);
		return NULL;
	}
	group_sockets(rt);
	for (i = 0; i < cfg->ngroups; i++)
		nservers += cfg->groups[i].nservers;
	for (i = 0; i < cfg->nlisteners; i++)
		nroutes += cfg->listeners[i].nroutes;
	rt->shm = shm_new(65536 + (cfg->ngroups + nservers) * 512 +
	    cfg->nlisteners * (size_t)RUNTIME_MAX_WORKERS *
	    (sizeof(struct listener_shared) + 64) +
	    nroutes * (size_t)RUNTIME_MAX_WORKERS *
	    (sizeof(struct route_shared) + 64));
	if (rt->shm == NULL) {
		runtime_free(rt);
		return NULL;
	}
	rt->bal = balancer_new(cfg, rt->shm);
	for (i = 0; i < cfg->ngroups; i++) {
		struct group *g = balancer_group_at(rt->bal, i);

		for (j = 0; rt->gctxs[i] != NULL && j < group_nservers(g); j++)
			group_server(g, j)->tls = rt->gctxs[i];
	}
	rt->nworkers = worker_count(cfg);
	rt->loaded_at = (long)time(NULL);
	for (i = 0; i < rt->nlsns; i++) {
		if (rt->lsns[i].conf->server_group != NULL)
			rt->lsns[i].group = balancer_group(rt->bal,
			    rt->lsns[i].conf->server_group);
		rt->lsns[i].slots = shm_alloc(rt->shm, rt->nworkers *
		    sizeof(struct listener_shared));
		runtime_routes(rt, &rt->lsns[i]);
	}
	return rt;
}

int
runtime_bind(struct runtime *rt)
{
	size_t i, j;

	for (i = 0; i < rt->nlsns; i++) {
		struct lsn *l = &rt->lsns[i];

		for (j = 0; j < l->nfds; j++) {
			if (l->shared[j])
				continue;	/* an earlier listener has it */
			l->fds[j] = listener_bind(&l->conf->binds[j],
			    l->conf->name);
			if (l->fds[j] == -1)
				return -1;
		}
	}
	return 0;
}

void
runtime_free(struct runtime *rt)
{
	size_t i, j;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->nlsns; i++) {
		for (j = 0; j < rt->lsns[i].nfds; j++)
			if (rt->lsns[i].fds[j] != -1)
				close(rt->lsns[i].fds[j]);
		free(rt->lsns[i].fds);
		free(rt->lsns[i].routes);
		for (j = 0; j < rt->lsns[i].nfds; j++)
			if (!rt->lsns[i].shared[j])
				tls_sni_free(rt->lsns[i].sni[j]);
		free(rt->lsns[i].sni);
		free(rt->lsns[i].shared);
		SSL_CTX_free(rt->lsns[i].ctx);
		sesscache_unref(rt->lsns[i].scache);
	}
	free(rt->lsns);
	for (i = 0; rt->gctxs != NULL && i < rt->cfg->ngroups; i++)
		SSL_CTX_free(rt->gctxs[i]);
	free(rt->gctxs);
	SSL_CTX_free(rt->admin_ctx);
	balancer_free(rt->bal);
	shm_free(rt->shm);
	config_free(rt->cfg);
	free(rt);
}

void
runtime_close_sockets(struct runtime *rt)
{
	size_t i, j;

	for (i = 0; i < rt->nlsns; i++)
		for (j = 0; j < rt->lsns[i].nfds; j++)
			if (rt->lsns[i].fds[j] != -1) {
				close(rt->lsns[i].fds[j]);
				rt->lsns[i].fds[j] = -1;
			}
}

void
runtime_carry_sessions(const struct runtime *old, struct runtime *rt)
{
	size_t i, j;

	for (i = 0; i < rt->nlsns; i++) {
		struct lsn *l = &rt->lsns[i];

		for (j = 0; l->scache != NULL && j < old->nlsns; j++) {
			const struct lsn *o = &old->lsns[j];

			if (o->scache == NULL ||
			    strcmp(o->conf->name, l->conf->name) != 0 ||
			    sesscache_capacity(o->scache) !=
			    sesscache_capacity(l->scache))
				continue;
			sesscache_unref(l->scache);
			l->scache = sesscache_ref(o->scache);
			tls_session_use_cache(l->ctx, l->scache);
			break;
		}
	}
}
