/*
 * conn: one client connection and its state machine, from TLS accept to
 * close, including the backend connection of the request in flight. The
 * only place a connection is freed.
 */
#ifndef MTLSLB_CONN_H
#define MTLSLB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

struct event_base;
struct evbuffer;
struct http_header;
struct lsn;
struct upstream_pool;
struct conn;

TAILQ_HEAD(conn_list, conn);

/* What connections of one worker share; owned by worker.c. */
struct conn_worker {
	struct event_base *base;
	struct upstream_pool *pool;
	struct http_header *hdrs;	/* parse scratch, one request at a time */
	struct evbuffer *scratch;	/* response assembly, emptied at once */
	size_t hdrs_cap;
	struct conn_list conns;
	size_t nconns;
	uint64_t next_id;
	bool stopping;			/* no new requests; close when idle */
	/* libevent common-timeout timevals, one per configured duration */
	struct {
		unsigned ms;
		const struct timeval *tv;
	} tvc[32];
	size_t ntvc;
	struct timeval tv_tmp;		/* when tvc is full */
	time_t date_sec;		/* access-log time cache */
	char date[40];
};

/*
 * Takes ownership of the accepted socket fd from listener l and starts
 * the TLS handshake. On failure the socket is closed and logged.
 */
void conn_accept(struct conn_worker *w, struct lsn *l, int fd,
    const struct sockaddr *sa, socklen_t salen);

/*
 * Graceful stop: closes idle keep-alive connections now and makes busy
 * ones close after their current response.
 */
void conn_worker_stop(struct conn_worker *w);

/* Closes every connection at once (shutdown timeout). */
void conn_worker_close_all(struct conn_worker *w);

#endif
