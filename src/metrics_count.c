/*
 * metrics_count: the counters the data path bumps, behind names (part of
 * the metrics module, metrics.h). Listener counters live in this
 * worker's slot, server counters in the server's shared record; all are
 * relaxed atomics, summed by the master when it renders them.
 */
#include "ac_config.h"
#include "metrics.h"

#include <stdatomic.h>

#include "balancer.h"
#include "listener.h"

#define INC(x)	atomic_fetch_add_explicit(&(x), 1, memory_order_relaxed)
#define DEC(x)	atomic_fetch_sub_explicit(&(x), 1, memory_order_relaxed)

void
metrics_count_accept(struct lsn *l)
{
	INC(l->sh->connections);
	INC(l->sh->active);
}

void
metrics_count_overload(struct lsn *l)
{
	INC(l->sh->overload_closed);
}

void
metrics_count_move(struct lsn *from, struct lsn *to)
{
	DEC(from->sh->active);
	INC(to->sh->active);
}

void
metrics_count_close(struct lsn *l)
{
	DEC(l->sh->active);
}

void
metrics_count_handshake(struct lsn *l, bool ok)
{
	if (ok)
		INC(l->sh->handshakes);
	else
		INC(l->sh->handshake_failures);
}

void
metrics_count_resumed(struct lsn *l)
{
	INC(l->sh->resumed);
}

void
metrics_count_rejection(struct lsn *l, const char *reason)
{
	INC(l->sh->rejections[listener_reason_index(reason)]);
}

void
metrics_count_request(struct lsn *l, int status)
{
	INC(l->sh->requests[status >= 100 && status < 600 ? status / 100 :
	    0]);
}

void
metrics_count_route(const struct lsn_route *r)
{
	INC(r->sh->requests);
}

void
metrics_count_server_connect(struct server *s)
{
	INC(s->sh->connections);
}

void
metrics_count_server_failure(struct server *s)
{
	INC(s->sh->failures);
}

void
metrics_count_server_request(struct server *s)
{
	INC(s->sh->active);
	INC(s->sh->requests);
}

void
metrics_count_server_done(struct server *s)
{
	DEC(s->sh->active);
}

void
metrics_count_server_latency(struct server *s, uint64_t us)
{
	static const unsigned bounds[] = BALANCER_LATENCY_BOUNDS_MS;
	size_t i;

	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (us <= (uint64_t)bounds[i] * 1000)
			break;
	INC(s->sh->latency_bucket[i]);
	atomic_fetch_add_explicit(&s->sh->latency_sum_us, us,
	    memory_order_relaxed);
}

void
metrics_count_server_5xx(struct server *s)
{
	INC(s->sh->responses_5xx);
}
