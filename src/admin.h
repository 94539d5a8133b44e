/*
 * admin: the [admin] endpoint, served by the master with evhttp, in plain
 * HTTP or TLS (optionally requiring client certificates): GET /status
 * (JSON), GET /metrics (Prometheus), GET /ready and /live (for an L4 load
 * balancer's health check), and POST /servers/GROUP/NAME/VERB, which
 * sets a server's administrative state (balancer.h).
 */
#ifndef MTLSLB_ADMIN_H
#define MTLSLB_ADMIN_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct config;
struct diag;
struct event_base;
struct runtime;
struct status_reloads;
struct admin;

/*
 * Builds the endpoint's SSL_CTX from cfg's [admin] TLS keys into *out
 * (the caller's), or sets it to NULL when [admin] has no TLS. Returns 0,
 * or -1 after recording the problems in d (at the lines of the keys).
 */
int admin_tls_new(const struct config *cfg, struct diag *d, SSL_CTX **out);

/*
 * Why a POST from this peer would be refused under cfg (a loopback peer,
 * or verified a client certificate the endpoint accepts), or NULL when
 * it would not be.
 */
const char *admin_post_refusal(const struct config *cfg, bool loopback,
    bool verified);

/*
 * Binds every [admin] bind of rt and serves it on base. reloads is the
 * master's record of reloads (it must outlive the endpoint; NULL: none).
 * Returns the endpoint (NULL without [admin], or on failure, which is
 * logged and sets *failed).
 */
struct admin *admin_start(struct event_base *base, const struct runtime *rt,
    long started, const struct status_reloads *reloads, int *failed);

/* Points the endpoint at a newly loaded generation. */
void admin_set_runtime(struct admin *a, const struct runtime *rt);

/*
 * For a reload: keeps a (pointed at rt) when rt's [admin] binds are the
 * ones a serves, else closes a and starts the endpoint rt asks for.
 * Returns the endpoint now serving (NULL: none, or a bind failed, which
 * is logged). a must still point at a live runtime.
 */
struct admin *admin_reload(struct admin *a, struct event_base *base,
    const struct runtime *rt, long started,
    const struct status_reloads *reloads);

/*
 * From now on GET /ready answers 503 with why ("stopping"): a graceful
 * stop has begun. The master calls it on SIGTERM, before drain_delay.
 * Accepts NULL.
 */
void admin_set_stopping(struct admin *a, const char *why);

/* Closes the endpoint; accepts NULL. */
void admin_stop(struct admin *a);

#endif
