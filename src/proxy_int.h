/*
 * proxy_int: the request object, shared by the two files of the proxy
 * module (proxy.c serves a request, proxy_request.c keeps, logs and frees
 * it). Nothing outside the module includes this header.
 */
#ifndef MTLSLB_PROXY_INT_H
#define MTLSLB_PROXY_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

#include "http.h"
#include "proxy.h"

struct bufferevent;
struct evbuffer;
struct server;

#define REQ_MAGIC	0x72657175u
#define REQ_CHECK(r)	assert((r) != NULL && (r)->magic == REQ_MAGIC)

/* Above this many bytes queued towards one side, stop reading the other. */
#define BACKPRESSURE_HIGH	(256 * 1024)

/* What libevent 2.1 reads from a socket at most per call; see read_more. */
#define LIBEVENT_READ		4096

/* Read on from a backend per callback: the client's backpressure limit. */
#define READ_MORE_MAX		(256 * 1024)

/*
 * A response body up to this size that arrived with its head leaves with
 * it, in one TLS record and one write(2): a record and a syscall cost
 * more than copying a few KiB.
 */
#define SMALL_BODY		(8 * 1024)

/* Request objects kept per worker for reuse; more are freed. */
#define FREELIST_MAX		64

struct request {
	uint32_t magic;
	struct request *next_free;
	struct conn *c;
	const struct proxy_client *ops;
	void *sess;
	struct bufferevent *bev;	/* the backend connection */
	struct evbuffer *hold;		/* rewritten head until sent (kept) */
	/* the request */
	bool is_head;
	bool upgrade;
	bool replayable;		/* idempotent, bodiless: hold is kept */
	bool dechunk;
	bool up_done;			/* whole request sent upstream */
	bool started;			/* a backend connection is ready */
	bool reused;			/* ... and it came from the pool */
	bool fresh_only;		/* a pooled one failed: open a new one */
	/* the response */
	enum http_body resp_body;
	uint64_t resp_remaining;
	struct http_chunked resp_chunk;
	bool resp_head_done;
	bool resp_done;
	bool backend_keep_alive;
	bool tunnel;
	bool up_closed;			/* tunnel: the server takes no more */
	bool tunnel_reset;		/* tunnel: the server's side broke */
	bool bev_paused;		/* backpressure from the client */
	bool sess_paused;		/* backpressure towards the backend */
	bool counted_active;
	bool logged;
	int status;
	uint64_t bytes_out;		/* body bytes sent to the client */
	struct timeval t_start;
	struct timeval t_upstream;	/* when a server was picked */
	struct timeval t_resp;		/* response head received */
	uint64_t tried;			/* servers that failed this request */
	struct server *server;
	struct server *last_failed;	/* for the log when none is left */
	const struct lsn_route *route;	/* NULL: the listener's group */
	/* access-log fields: request line, referer, user agent (kept) */
	char *alog;
	size_t alog_cap;
	size_t alog_referer, alog_ua;	/* offsets into alog */
};

struct proxy_freelist {
	struct request *head;
	unsigned n;
};

/* Frees the backend connection, or parks it in the pool when reusable. */
void proxy_backend_release(struct request *r, bool reusable);

/* The end of a request: count it, then write its access-log line. */
void proxy_request_log(struct request *r);

/* Seconds from a to b. */
double proxy_tv_diff(const struct timeval *a, const struct timeval *b);

#endif
