/*
 * admin: the [admin] HTTP endpoint, served by the master with evhttp:
 * GET /status (JSON) and GET /metrics (Prometheus). No authentication:
 * it must stay on loopback or behind a firewall.
 */
#ifndef MTLSLB_ADMIN_H
#define MTLSLB_ADMIN_H

struct event_base;
struct runtime;
struct admin;

/*
 * Binds every [admin] bind of rt and serves it on base. Returns the
 * endpoint (NULL without [admin], or on failure, which is logged and
 * sets *failed).
 */
struct admin *admin_start(struct event_base *base, const struct runtime *rt,
    long started, int *failed);

/* Points the endpoint at a newly loaded generation. */
void admin_set_runtime(struct admin *a, const struct runtime *rt);

/*
 * For a reload: keeps a (pointed at rt) when rt's [admin] binds are the
 * ones a serves, else closes a and starts the endpoint rt asks for.
 * Returns the endpoint now serving (NULL: none, or a bind failed, which
 * is logged). a must still point at a live runtime.
 */
struct admin *admin_reload(struct admin *a, struct event_base *base,
    const struct runtime *rt, long started);

/* Closes the endpoint; accepts NULL. */
void admin_stop(struct admin *a);

#endif
