/*
 * balancer: server groups and their schedulers (round_robin,
 * weighted_round_robin, least_connections). Scheduler positions, health
 * and per-server counters live in shared memory so every worker follows
 * one sequence; the rest is read-only after the master builds it.
 */
#ifndef MTLSLB_BALANCER_H
#define MTLSLB_BALANCER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct group_conf;
struct ssl_ctx_st;
struct server_conf;
struct shm;

/* Most servers in one group: the "tried" set is a 64-bit mask. */
#define BALANCER_MAX_SERVERS 64

/* Upper bounds of the backend latency histogram, in milliseconds. */
#define BALANCER_LATENCY_BOUNDS_MS \
	{ 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }
#define BALANCER_LATENCY_BUCKETS 12	/* the bounds above and +Inf */

/*
 * A server's administrative state, set at run time on the admin endpoint
 * (POST /servers/GROUP/NAME/drain|enable|disable) and independent of its
 * health: a DRAINING or DISABLED server gets no new request whatever its
 * health (all_servers_down = try_all included), requests in flight
 * finish, and active health checks go on.
 */
enum balancer_admin {
	BAL_ACTIVE,		/* in rotation when healthy */
	BAL_DRAINING,		/* no new requests; idle pool kept */
	BAL_DISABLED,		/* no new requests; idle pool closed */
};

/* Per-server state shared by all processes (in the shm segment). */
struct server_shared {
	atomic_int up;			/* 1 = healthy (or unchecked) */
	atomic_int admin;		/* enum balancer_admin */
	atomic_uint active;		/* requests in flight */
	atomic_uint_fast64_t requests;	/* requests sent */
	atomic_uint_fast64_t failures;	/* connect/reset/timeout failures */
	atomic_uint_fast64_t connections; /* backend connections opened */
	atomic_int_fast64_t since;	/* time of the last up/down flip */
	atomic_uint passive_fails;	/* consecutive connect failures */
	/* written by the master's health checker, read by /status */
	atomic_uint ok_streak;
	atomic_uint fail_streak;
	atomic_int last_status;		/* HTTP status of the last probe */
	atomic_int last_error;		/* enum health_error of the last probe */
	/*
	 * HE_TLS: OpenSSL's reason. Plain bytes, not atomics: only the
	 * master writes them (the prober) and reads them (/status).
	 */
	char last_detail[120];
	atomic_uint last_latency_us;
	atomic_uint_fast64_t checks;
	atomic_int_fast64_t last_check;	/* time the last probe ended */
	/* backend response time histogram (metrics) */
	atomic_uint_fast64_t latency_bucket[BALANCER_LATENCY_BUCKETS];
	atomic_uint_fast64_t latency_sum_us;
	atomic_uint_fast64_t responses_5xx; /* response heads with 5xx */
};

/* A backend server: plain data, read-only after balancer_new(). */
struct server {
	const struct server_conf *conf;	/* name, address, weight */
	const struct group_conf *group;
	struct server_shared *sh;
	unsigned index;			/* position in its group */
	unsigned id;			/* unique across all groups */
	struct ssl_ctx_st *tls;		/* backend_tls: the group's client
					   SSL_CTX (runtime.c owns it) */
};

struct group;
struct balancer;

/*
 * Builds every group of cfg with its state carved from shm. cfg must
 * outlive the result; the caller owns the result.
 */
struct balancer *balancer_new(const struct config *cfg, struct shm *shm);

/* Frees b (not the shared memory); accepts NULL. */
void balancer_free(struct balancer *b);

/* Number of servers in all groups (ids are 0..n-1). */
size_t balancer_nservers(const struct balancer *b);

/* Returns the group named name, or NULL. */
struct group *balancer_group(struct balancer *b, const char *name);

/* Number of groups, and group i in file order. */
size_t balancer_ngroups(const struct balancer *b);
struct group *balancer_group_at(struct balancer *b, size_t i);

/* The group's configuration, server count and server i. */
const struct group_conf *group_conf(const struct group *g);
size_t group_nservers(const struct group *g);
struct server *group_server(struct group *g, size_t i);

/* The server of g named name, or NULL. */
struct server *group_server_named(struct group *g, const char *name);

/*
 * Picks the next server by the group's scheduler among ACTIVE, healthy
 * servers with a non-zero weight that are not in tried (bit i = server
 * i). With all_servers_down = try_all and no such healthy server, health
 * is ignored (the administrative state never is). Returns the server, or
 * NULL when none is left.
 */
struct server *balancer_pick(struct group *g, uint64_t tried);

/* True when at least one ACTIVE server of g with a non-zero weight is up. */
bool group_any_up(const struct group *g);

/* The administrative state of s, as every process sees it now. */
enum balancer_admin balancer_admin(const struct server *s);

/*
 * Sets the administrative state of s for every process at once; returns
 * the state it replaced.
 */
enum balancer_admin balancer_set_admin(struct server *s,
    enum balancer_admin a);

/* "ACTIVE", "DRAINING" or "DISABLED". */
const char *balancer_admin_name(enum balancer_admin a);

/*
 * The state the admin endpoint's verb sets: "enable" ACTIVE, "drain"
 * DRAINING, "disable" DISABLED. Returns 0, or -1 for any other verb.
 */
int balancer_admin_verb(const char *verb, enum balancer_admin *out);

#endif
