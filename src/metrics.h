/*
 * metrics: renders the shared counters of a generation as Prometheus text
 * exposition (version 0.0.4), and a status snapshot (status.h) as the
 * /status JSON document. Reads shared memory only; the per-worker slots
 * are summed here and in status.c.
 */
#ifndef MTLSLB_METRICS_H
#define MTLSLB_METRICS_H

#include <stdbool.h>
#include <stdint.h>

struct evbuffer;
struct lsn;
struct lsn_route;
struct runtime;
struct server;
struct status;

/* Appends the Prometheus exposition of rt to out. */
void metrics_render(struct evbuffer *out, const struct runtime *rt,
    long started);

/* Appends the /status JSON document of the snapshot st to out. */
void metrics_status_json(struct evbuffer *out, const struct status *st);

/*
 * The data path's counters (metrics_count.c): each names what happened;
 * the worker's own slot or the server's shared record is updated with a
 * relaxed atomic. Nothing else in the data path touches shared counters.
 */
void metrics_count_accept(struct lsn *l);
void metrics_count_overload(struct lsn *l);
void metrics_count_close(struct lsn *l);
/* An open connection moves to the listener its server name chose. */
void metrics_count_move(struct lsn *from, struct lsn *to);
void metrics_count_handshake(struct lsn *l, bool ok);
/* A completed handshake (counted above) resumed a session. */
void metrics_count_resumed(struct lsn *l);
void metrics_count_rejection(struct lsn *l, const char *reason);
void metrics_count_request(struct lsn *l, int status);
void metrics_count_route(const struct lsn_route *r);
void metrics_count_server_connect(struct server *s);
void metrics_count_server_failure(struct server *s);
/* A request went to s (in flight until metrics_count_server_done). */
void metrics_count_server_request(struct server *s);
void metrics_count_server_done(struct server *s);
/* A response head from s arrived us microseconds after the pick. */
void metrics_count_server_latency(struct server *s, uint64_t us);
/* That response head from s had a 5xx status. */
void metrics_count_server_5xx(struct server *s);

#endif
