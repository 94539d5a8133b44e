/*
 * proxy: one request, from its parsed head to the end of its response:
 * policy that needs no protocol (body size), server pick, connect, retry,
 * forwarding the request, relaying the response, 502/503/504, and the
 * request's access-log line and counters. It does not know which
 * protocol the client speaks: it talks to its client session only
 * through struct proxy_client, and to the backend only through
 * upstream.h (the backend transport).
 */
#ifndef MTLSLB_PROXY_H
#define MTLSLB_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct conn_worker;
struct evbuffer;
struct http_msg;
struct request;
struct proxy_freelist;
struct lsn_route;

/*
 * How a request reaches its client session. Every function returns
 * CONN_OK, or CONN_CLOSED when the session (and so the request) ended:
 * the request then returns at once without touching itself again.
 */
struct proxy_client {
	/*
	 * A response head, interim (1xx) or final, for the session to
	 * encode. The session may buffer it until body_flush.
	 */
	int (*head)(void *sess, const struct http_msg *m);
	/* Where response body bytes go next (framing per body_dechunk). */
	struct evbuffer *(*body_out)(void *sess);
	/* Body bytes (or a buffered head) are ready to leave. */
	int (*body_flush)(void *sess);
	/* The whole response has been handed over. */
	int (*done)(void *sess);
	/* No response byte was sent: answer with a local error page. */
	int (*error)(void *sess, int status);
	/* Part of the response was sent: cut the connection (truncation). */
	int (*abort)(void *sess, const char *why);
	/* 101 went out: bytes flow raw both ways from now on. */
	int (*tunnel)(void *sess);
	/*
	 * Moves request body bytes that arrived into dst, at most what the
	 * request still needs; sets *done at its end. Returns 0, or -1 on a
	 * framing error (the session has answered or closed: CONN_CLOSED).
	 */
	int (*upload)(void *sess, struct evbuffer *dst, bool *done);
	/* Backpressure: stop or resume reading the client. */
	void (*pause)(void *sess, bool paused);
};

/* What a session tells the proxy about a new request. */
struct proxy_args {
	const struct http_msg *m;	/* parsed request head */
	bool dechunk;			/* client cannot read chunked framing */
	const struct lsn_route *route;	/* admit's pick; NULL: none */
};

/* A per-worker cache of request objects; no heap churn per request. */
struct proxy_freelist *proxy_freelist_new(void);
void proxy_freelist_free(struct proxy_freelist *fl);

/*
 * A new request of connection c, served for the session sess through
 * ops. The caller owns it until proxy_request_release().
 */
struct request *proxy_request_new(struct conn *c,
    const struct proxy_client *ops, void *sess);

/* Returns r to the worker's cache; accepts NULL. */
void proxy_request_release(struct request *r);

/*
 * Keeps the request line, Referer and User-Agent of m for the access
 * log; the request's clock starts at start (NULL: now).
 */
void proxy_request_note(struct request *r, const struct http_msg *m);

/*
 * The route r took (admit_request()), for its server group, its log line
 * and its counter; NULL: none. proxy_prepare() sets it too.
 */
void proxy_request_route(struct request *r, const struct lsn_route *route);

/* Starts the clock of r now (first byte of its head). */
void proxy_request_clock(struct request *r);

/*
 * Takes a parsed request: rewrites its head for the backend into r's own
 * buffer, so the caller may consume the head's bytes afterwards.
 */
void proxy_prepare(struct request *r, const struct proxy_args *a);

/* Serves a prepared request: picks a server and connects. */
int proxy_run(struct request *r);

/* More request body arrived from the client: forward it. */
int proxy_upload_more(struct request *r);

/* The client drained its output: resume reading the backend. */
int proxy_client_drained(struct request *r);

/* Tunnel bytes from the client (after 101) towards the backend. */
int proxy_tunnel_up(struct evbuffer *from, struct request *r);

/* True when the backend side of a tunnel is gone. */
bool proxy_tunnel_closed(const struct request *r);

/* True when it went with an error (a reset), not a clean close. */
bool proxy_tunnel_reset(const struct request *r);

/*
 * The session answers r itself (a local page: 400, 413, ...) with
 * status, bytes_out bytes: releases any backend and logs the request.
 */
void proxy_local_response(struct request *r, int status, size_t bytes_out);

/*
 * The session ends while r is in flight: releases the backend and writes
 * the access-log line if none was written (status: 499 when the client
 * went away, 408 on a client timeout, or what was already sent).
 */
void proxy_request_end(struct request *r, int status_if_unsent);

/* Accessors for the session. */
int proxy_status(const struct request *r);
bool proxy_response_started(const struct request *r);
bool proxy_logged(const struct request *r);

#endif
