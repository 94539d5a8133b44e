/*
 * balancer: scheduling over shared state. round_robin and
 * weighted_round_robin both walk a precomputed cycle of server indexes
 * with one shared atomic counter, so they need no lock and give the same
 * sequence whatever the number of workers; the weighted cycle is the
 * smooth one (weights 1 and 3 give B A B B). least_connections reads the
 * shared in-flight counts.
 */
#include "ac_config.h"
#include "balancer.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "shm.h"
#include "util.h"

struct group_shared {
	atomic_uint_fast64_t next;
};

struct group {
	const struct group_conf *conf;
	struct server *servers;
	size_t nservers;
	struct group_shared *sh;
	unsigned *cycle;	/* server indexes, one scheduler period */
	size_t ncycle;
};

struct balancer {
	struct group *groups;
	size_t ngroups;
	size_t nservers;
};

/*
 * One period of smooth weighted round robin: each step every server gains
 * its weight, the richest is chosen and pays the total. Ties go to the
 * first server, which makes the sequence deterministic.
 */
static void
build_cycle(struct group *g, bool weighted)
{
	long cur[BALANCER_MAX_SERVERS] = { 0 };
	long total = 0;
	size_t i, k, n = g->nservers;

	for (i = 0; i < n; i++)
		if (g->servers[i].conf->weight > 0)
			total += weighted ? (long)g->servers[i].conf->weight : 1;
	g->ncycle = (size_t)total;
	g->cycle = xcalloc(total > 0 ? (size_t)total : 1, sizeof(unsigned));
	for (k = 0; k < g->ncycle; k++) {
		size_t best = n;

		for (i = 0; i < n; i++) {
			long w = g->servers[i].conf->weight;

			if (w == 0)
				continue;
			cur[i] += weighted ? w : 1;
			if (best == n || cur[i] > cur[best])
				best = i;
		}
		cur[best] -= total;
		g->cycle[k] = (unsigned)best;
	}
}

struct balancer *
balancer_new(const struct config *cfg, struct shm *shm)
{
	struct balancer *b;
	size_t i, j;

	b = xcalloc(1, sizeof(*b));
	b->ngroups = cfg->ngroups;
	b->groups = xcalloc(cfg->ngroups ? cfg->ngroups : 1,
	    sizeof(*b->groups));
	for (i = 0; i < cfg->ngroups; i++) {
		struct group *g = &b->groups[i];
		const struct group_conf *gc = &cfg->groups[i];

		g->conf = gc;
		g->nservers = gc->nservers < BALANCER_MAX_SERVERS ?
		    gc->nservers : BALANCER_MAX_SERVERS;
		g->servers = xcalloc(g->nservers ? g->nservers : 1,
		    sizeof(*g->servers));
		g->sh = shm_alloc(shm, sizeof(*g->sh));
		for (j = 0; j < g->nservers; j++) {
			struct server *s = &g->servers[j];

			s->conf = &gc->servers[j];
			s->group = gc;
			s->index = (unsigned)j;
			s->id = (unsigned)b->nservers++;
			s->sh = shm_alloc(shm, sizeof(*s->sh));
			atomic_store(&s->sh->up,
			    gc->health_check_initial_healthy ||
			    !gc->health_check);
		}
		build_cycle(g, gc->scheduler == SCHED_WEIGHTED_ROUND_ROBIN);
	}
	return b;
}

void
balancer_free(struct balancer *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->ngroups; i++) {
		free(b->groups[i].servers);
		free(b->groups[i].cycle);
	}
	free(b->groups);
	free(b);
}

struct group *
balancer_group(struct balancer *b, const char *name)
{
	size_t i;

	for (i = 0; i < b->ngroups; i++)
		if (strcmp(b->groups[i].conf->name, name) == 0)
			return &b->groups[i];
	return NULL;
}

size_t
balancer_nservers(const struct balancer *b)
{
	return b->nservers;
}

size_t
balancer_ngroups(const struct balancer *b)
{
	return b->ngroups;
}

struct group *
balancer_group_at(struct balancer *b, size_t i)
{
	return i < b->ngroups ? &b->groups[i] : NULL;
}

const struct group_conf *
group_conf(const struct group *g)
{
	return g->conf;
}

size_t
group_nservers(const struct group *g)
{
	return g->nservers;
}

struct server *
group_server(struct group *g, size_t i)
{
	return i < g->nservers ? &g->servers[i] : NULL;
}

struct server *
group_server_named(struct group *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->nservers; i++)
		if (strcmp(g->servers[i].conf->name, name) == 0)
			return &g->servers[i];
	return NULL;
}

static bool
admin_active(const struct server *s)
{
	return atomic_load_explicit(&s->sh->admin, memory_order_relaxed) ==
	    BAL_ACTIVE;
}

bool
group_any_up(const struct group *g)
{
	size_t i;

	for (i = 0; i < g->nservers; i++)
		if (g->servers[i].conf->weight > 0 &&
		    admin_active(&g->servers[i]) &&
		    atomic_load_explicit(&g->servers[i].sh->up,
		    memory_order_relaxed))
			return true;
	return false;
}

enum balancer_admin
balancer_admin(const struct server *s)
{
	int a = atomic_load(&s->sh->admin);

	return a == BAL_DRAINING || a == BAL_DISABLED ?
	    (enum balancer_admin)a : BAL_ACTIVE;
}

enum balancer_admin
balancer_set_admin(struct server *s, enum balancer_admin a)
{
	int old = atomic_exchange(&s->sh->admin, (int)a);

	return old == BAL_DRAINING || old == BAL_DISABLED ?
	    (enum balancer_admin)old : BAL_ACTIVE;
}

const char *
balancer_admin_name(enum balancer_admin a)
{
	switch (a) {
	case BAL_DRAINING:
		return "DRAINING";
	case BAL_DISABLED:
		return "DISABLED";
	case BAL_ACTIVE:
		break;
	}
	return "ACTIVE";
}

int
balancer_admin_verb(const char *verb, enum balancer_admin *out)
{
	if (strcmp(verb, "enable") == 0)
		*out = BAL_ACTIVE;
	else if (strcmp(verb, "drain") == 0)
		*out = BAL_DRAINING;
	else if (strcmp(verb, "disable") == 0)
		*out = BAL_DISABLED;
	else
		return -1;
	return 0;
}

/*
 * The administrative state is never ignored: try_all overrides health,
 * not an operator who took a server out.
 */
static bool
usable(const struct server *s, uint64_t tried, bool ignore_health)
{
	if (s->conf->weight == 0 || (tried & (UINT64_C(1) << s->index)) ||
	    !admin_active(s))
		return false;
	return ignore_health ||
	    atomic_load_explicit(&s->sh->up, memory_order_relaxed);
}

/*
 * Each position that is skipped (down, drained, tried) is consumed from
 * the shared counter too, so healthy servers keep strict alternation.
 */
static struct server *
pick_cycle(struct group *g, uint64_t tried, bool ignore_health)
{
	uint_fast64_t pos;
	size_t k;

	for (k = 0; k < g->ncycle; k++) {
		struct server *s;

		pos = atomic_fetch_add_explicit(&g->sh->next, 1,
		    memory_order_relaxed);
		s = &g->servers[g->cycle[pos % g->ncycle]];
		if (usable(s, tried, ignore_health))
			return s;
	}
	/*
	 * Other pickers (workers) took positions in between, so the ones
	 * seen above need not cover the cycle: scan it once, locally.
	 */
	for (k = 0; k < g->ncycle; k++) {
		struct server *s = &g->servers[g->cycle[k]];

		if (usable(s, tried, ignore_health))
			return s;
	}
	return NULL;
}

/* Fewest in-flight requests per unit of weight; ties rotate. */
static struct server *
pick_least(struct group *g, uint64_t tried, bool ignore_health)
{
	struct server *best = NULL;
	unsigned best_active = 0;
	uint_fast64_t start;
	size_t k, n = g->nservers;

	if (n == 0)
		return NULL;
	start = atomic_fetch_add_explicit(&g->sh->next, 1,
	    memory_order_relaxed);
	for (k = 0; k < n; k++) {
		struct server *s = &g->servers[(start + k) % n];
		unsigned a;

		if (!usable(s, tried, ignore_health))
			continue;
		a = atomic_load_explicit(&s->sh->active, memory_order_relaxed);
		if (best == NULL || (uint64_t)a * best->conf->weight <
		    (uint64_t)best_active * s->conf->weight) {
			best = s;
			best_active = a;
		}
	}
	return best;
}

static struct server *
pick(struct group *g, uint64_t tried, bool ignore_health)
{
	if (g->conf->scheduler == SCHED_LEAST_CONNECTIONS)
		return pick_least(g, tried, ignore_health);
	return pick_cycle(g, tried, ignore_health);
}

struct server *
balancer_pick(struct group *g, uint64_t tried)
{
	struct server *s;

	if ((s = pick(g, tried, false)) != NULL)
		return s;
	if (g->conf->all_servers_down_try_all && !group_any_up(g))
		return pick(g, tried, true);
	return NULL;
}
