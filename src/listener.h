/*
 * listener: the listening sockets of one [listener NAME] and what a worker
 * needs to serve them (its SSL_CTX and server group). The master binds;
 * each worker accepts on the inherited descriptors.
 */
#ifndef MTLSLB_LISTENER_H
#define MTLSLB_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>

#include <openssl/ssl.h>

struct addr_conf;
struct event;
struct group;
struct listener_conf;
struct sesscache;
struct tls_sni;

/* Client-certificate rejection reasons, as metrics label values. */
#define LISTENER_REASONS \
	{ "no_cert", "unknown_ca", "expired", "revoked", "crl_expired", \
	  "bad_purpose", "not_allowed", "other" }
#define LISTENER_NREASONS 8

/*
 * Counters of one listener in one worker (a slot in shared memory; the
 * admin endpoint sums the slots). Only that worker writes them.
 */
struct listener_shared {
	atomic_uint_fast64_t requests[6];	/* by status class; 0: other */
	atomic_uint_fast64_t handshakes;	/* completed */
	atomic_uint_fast64_t resumed;		/* of which resumed */
	atomic_uint_fast64_t handshake_failures;
	atomic_uint_fast64_t rejections[LISTENER_NREASONS];
	atomic_uint_fast64_t connections;	/* accepted */
	atomic_uint_fast64_t overload_closed;	/* max_connections */
	atomic_int_fast64_t active;		/* open connections */
};

/* Counters of one route in one worker (a slot in shared memory). */
struct route_shared {
	atomic_uint_fast64_t requests;		/* that took the route */
};

/* A [route] of a listener at run time, as listener_conf.routes orders. */
struct lsn_route {
	const struct route_conf *conf;
	struct group *group;		/* the route's, or the listener's */
	struct route_shared *slots;	/* one per worker index */
	struct route_shared *sh;	/* this worker's slot */
};

/* A listener at run time: plain data, built by runtime.c. */
struct lsn {
	const struct listener_conf *conf;
	SSL_CTX *ctx;			/* built once in the master */
	struct sesscache *scache;	/* session_cache = shared; a ref */
	struct group *group;
	struct lsn_route *routes;	/* conf->nroutes, owned */
	int *fds;			/* one per bind, owned */
	size_t nfds;
	/*
	 * Per bind: the listeners of its socket, chosen among by SNI (owned
	 * by the first of them, which binds it), and whether an earlier
	 * listener binds it (then fds[j] stays -1 and nothing accepts here).
	 */
	struct tls_sni **sni;
	bool *shared;
	unsigned nconns;		/* this worker's open connections */
	struct listener_shared *slots;	/* one per worker index */
	struct listener_shared *sh;	/* this worker's slot */
	struct event **evls;		/* worker side: accept, one per fd */
};

/* Index of reason (LISTENER_REASONS) in the table; "other" if unknown. */
unsigned listener_reason_index(const char *reason);

/*
 * Creates, binds and listens on a non-blocking TCP socket for a. Returns
 * the descriptor, or -1 after logging why (naming the address).
 */
int listener_bind(const struct addr_conf *a, const char *name);

#endif
