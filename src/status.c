/*
 * status: builds the snapshot that /status and the console render. The
 * only reader of shared memory for both, once per request, with relaxed
 * loads: a snapshot may mix counters a request apart, never a torn value.
 * Never writes shared memory and never formats output.
 */
#include "ac_config.h"
#include "status.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "runtime.h"
#include "util.h"

#define LOAD(x)	atomic_load_explicit(&(x), memory_order_relaxed)

uint64_t
status_sum_slots(const struct runtime *rt, const struct lsn *l, size_t off)
{
	uint64_t s = 0;
	unsigned w;

	for (w = 0; w < rt->nworkers; w++)
		s += atomic_load_explicit((atomic_uint_fast64_t *)(void *)
		    ((char *)&l->slots[w] + off), memory_order_relaxed);
	return s;
}

#define SLOT_OFF(field)	offsetof(struct listener_shared, field)

static void
build_listener(const struct runtime *rt, const struct lsn *l,
    struct status_listener *sl)
{
	size_t i;
	unsigned w;

	sl->conf = l->conf;
	tls_ctx_expiry(l->ctx, &sl->expiry);
	for (w = 0; w < rt->nworkers; w++)
		sl->active += LOAD(l->slots[w].active);
	sl->connections = status_sum_slots(rt, l, SLOT_OFF(connections));
	sl->handshakes = status_sum_slots(rt, l, SLOT_OFF(handshakes));
	sl->resumed = status_sum_slots(rt, l, SLOT_OFF(resumed));
	sl->handshake_failures = status_sum_slots(rt, l,
	    SLOT_OFF(handshake_failures));
	for (i = 0; i < 6; i++) {
		sl->by_class[i] = status_sum_slots(rt, l, SLOT_OFF(requests) +
		    i * sizeof(atomic_uint_fast64_t));
		sl->requests += sl->by_class[i];
	}
	for (i = 0; i < LISTENER_NREASONS; i++)
		sl->rejections[i] = status_sum_slots(rt, l, SLOT_OFF(rejections) +
		    i * sizeof(atomic_uint_fast64_t));
	sl->route_requests = xcalloc(l->conf->nroutes ? l->conf->nroutes : 1,
	    sizeof(*sl->route_requests));
	for (i = 0; i < l->conf->nroutes; i++)
		for (w = 0; w < rt->nworkers; w++)
			sl->route_requests[i] += LOAD(
			    l->routes[i].slots[w].requests);
}

struct status_latency
status_quantile(const uint64_t *buckets, double q)
{
	static const unsigned bounds[] = BALANCER_LATENCY_BOUNDS_MS;
	struct status_latency r = { true, false, 0 };
	uint64_t total = 0, cum = 0;
	double rank, lo;
	size_t k;

	for (k = 0; k < BALANCER_LATENCY_BUCKETS; k++)
		total += buckets[k];
	if (total == 0)
		return r;
	r.none = false;
	rank = q * (double)total;
	for (k = 0; k < BALANCER_LATENCY_BUCKETS; k++) {
		if (buckets[k] == 0 || (double)(cum + buckets[k]) < rank) {
			cum += buckets[k];
			continue;
		}
		if (k == BALANCER_LATENCY_BUCKETS - 1)
			break;
		lo = k == 0 ? 0 : bounds[k - 1];
		r.ms = lo + (bounds[k] - lo) * (rank - (double)cum) /
		    (double)buckets[k];
		return r;
	}
	/* in the +Inf bucket: all that is known is "above the last bound" */
	r.over = true;
	r.ms = bounds[BALANCER_LATENCY_BUCKETS - 2];
	return r;
}

static void
build_server(const struct server *s, struct status_server *ss)
{
	const struct server_shared *sh = s->sh;
	uint64_t buckets[BALANCER_LATENCY_BUCKETS];
	size_t k;

	ss->s = s;
	ss->up = LOAD(sh->up) != 0;
	ss->admin = balancer_admin(s);
	ss->since = (long)LOAD(sh->since);
	ss->checks = LOAD(sh->checks);
	ss->probed = s->group->health_check && ss->checks > 0;
	ss->last_error = LOAD(sh->last_error);
	/* written by this process (the master's prober) only */
	memcpy(ss->last_detail, sh->last_detail, sizeof(ss->last_detail));
	ss->last_detail[sizeof(ss->last_detail) - 1] = '\0';
	ss->last_status = LOAD(sh->last_status);
	ss->last_latency_ms = LOAD(sh->last_latency_us) / 1000.0;
	ss->last_check = (long)LOAD(sh->last_check);
	ss->active = LOAD(sh->active);
	ss->connections = LOAD(sh->connections);
	ss->requests = LOAD(sh->requests);
	ss->failures = LOAD(sh->failures);
	ss->responses_5xx = LOAD(sh->responses_5xx);
	for (k = 0; k < BALANCER_LATENCY_BUCKETS; k++) {
		buckets[k] = LOAD(sh->latency_bucket[k]);
		ss->responses += buckets[k];
	}
	ss->p50 = status_quantile(buckets, 0.50);
	ss->p90 = status_quantile(buckets, 0.90);
	ss->p99 = status_quantile(buckets, 0.99);
}

struct status *
status_build(const struct runtime *rt, long started,
    const struct status_reloads *reloads)
{
	struct status *st = xcalloc(1, sizeof(*st));
	size_t i, j;

	st->now = (long)time(NULL);
	st->started = started;
	st->loaded_at = rt->loaded_at;
	st->pid = (long)getpid();
	st->config_file = rt->cfg->path;
	st->workers = rt->nworkers;
	st->expiry_warning_s = rt->cfg->expiry_warning_s;
	if (reloads != NULL)
		st->reloads = *reloads;
	st->nlisteners = rt->nlsns;
	st->listeners = xcalloc(rt->nlsns ? rt->nlsns : 1,
	    sizeof(*st->listeners));
	for (i = 0; i < rt->nlsns; i++)
		build_listener(rt, &rt->lsns[i], &st->listeners[i]);
	st->ngroups = balancer_ngroups(rt->bal);
	st->groups = xcalloc(st->ngroups ? st->ngroups : 1,
	    sizeof(*st->groups));
	for (i = 0; i < st->ngroups; i++) {
		struct group *g = balancer_group_at(rt->bal, i);
		struct status_group *sg = &st->groups[i];

		sg->conf = group_conf(g);
		sg->nservers = group_nservers(g);
		sg->servers = xcalloc(sg->nservers ? sg->nservers : 1,
		    sizeof(*sg->servers));
		for (j = 0; j < sg->nservers; j++)
			build_server(group_server(g, j), &sg->servers[j]);
	}
	return st;
}

void
status_free(struct status *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ngroups; i++)
		free(st->groups[i].servers);
	free(st->groups);
	for (i = 0; i < st->nlisteners; i++)
		free(st->listeners[i].route_requests);
	free(st->listeners);
	free(st);
}
