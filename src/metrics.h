/*
 * metrics: renders the shared counters of a generation as Prometheus text
 * exposition (version 0.0.4) and as the /status JSON document. Reads
 * shared memory only; the per-worker slots are summed here.
 */
#ifndef MTLSLB_METRICS_H
#define MTLSLB_METRICS_H

struct evbuffer;
struct runtime;

/* Appends the Prometheus exposition of rt to out. */
void metrics_render(struct evbuffer *out, const struct runtime *rt,
    long started);

/* Appends the /status JSON document of rt to out. */
void metrics_status_json(struct evbuffer *out, const struct runtime *rt,
    long started);

#endif
