/*
 * status: one snapshot of a generation for the people and programs that
 * watch it, per listener and per server: counters summed over the worker
 * slots, states, probe results, expiry dates, latency percentiles. The
 * /status JSON (metrics.c) and the console page (admin_page.c) both
 * render it, so they cannot disagree; neither reads shared memory.
 */
#ifndef MTLSLB_STATUS_H
#define MTLSLB_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "balancer.h"
#include "listener.h"
#include "tls.h"

struct group_conf;
struct listener_conf;
struct runtime;

/* The master's record of reloads (it owns it; the admin endpoint reads). */
struct status_reloads {
	unsigned count;		/* successful reloads since start */
	long last_at;		/* time of the last successful one */
	long failed_at;		/* time of the last failure, 0: none */
	char error[512];	/* its first error line, "" after a success */
};

struct status_listener {
	const struct listener_conf *conf;	/* name, binds, mode, files */
	struct tls_expiry expiry;
	int64_t active;			/* open connections */
	uint64_t connections;
	uint64_t handshakes;		/* completed, full and resumed */
	uint64_t resumed;
	uint64_t handshake_failures;
	uint64_t requests;		/* all classes */
	uint64_t by_class[6];		/* other, 1xx .. 5xx */
	uint64_t rejections[LISTENER_NREASONS]; /* LISTENER_REASONS */
	uint64_t *route_requests;	/* per conf->routes[i]; owned */
};

/* The percentile of a server's latency histogram, in milliseconds. */
struct status_latency {
	bool none;			/* no response yet */
	bool over;			/* above the last bound (ms: it) */
	double ms;
};

struct status_server {
	const struct server *s;		/* conf: name, address, weight */
	bool up;
	enum balancer_admin admin;
	long since;			/* last up/down flip, 0: never */
	bool probed;			/* checks on and one has ended */
	int last_error;			/* enum health_error */
	char last_detail[120];		/* HE_TLS: OpenSSL's reason, or "" */
	int last_status;
	double last_latency_ms;
	uint64_t checks;
	long last_check;		/* last probe's end, 0: never */
	unsigned active;		/* requests in flight */
	uint64_t connections, requests, failures, responses_5xx;
	uint64_t responses;		/* histogram count */
	struct status_latency p50, p90, p99;
};

struct status_group {
	const struct group_conf *conf;
	struct status_server *servers;
	size_t nservers;
};

struct status {
	long now, started, loaded_at;
	long pid;
	const char *config_file;
	unsigned workers;
	unsigned expiry_warning_s;
	struct status_reloads reloads;
	struct status_listener *listeners;
	size_t nlisteners;
	struct status_group *groups;
	size_t ngroups;
};

/*
 * Reads rt's shared counters once into a snapshot the caller owns
 * (status_free). started is the daemon's start time; reloads may be NULL
 * (no reload history). The snapshot points into rt's configuration, so
 * rt must outlive it.
 */
struct status *status_build(const struct runtime *rt, long started,
    const struct status_reloads *reloads);

/* Frees st; accepts NULL. */
void status_free(struct status *st);

/*
 * Quantile q (0..1) of a latency histogram with BALANCER_LATENCY_BUCKETS
 * buckets (counts, not cumulative) over the bounds of
 * BALANCER_LATENCY_BOUNDS_MS, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile() does.
 */
struct status_latency status_quantile(const uint64_t *buckets, double q);

/* Sums the counter at offset off over every worker slot of l. */
uint64_t status_sum_slots(const struct runtime *rt, const struct lsn *l,
    size_t off);

#endif
