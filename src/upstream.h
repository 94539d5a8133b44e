/*
 * upstream: the backend transport. Opens connections to backend servers,
 * moves their bytes, and keeps a per-worker pool of idle keep-alive
 * connections per server, bounded by max_idle_connections and
 * idle_connection_timeout. A connection is a bufferevent: plain TCP
 * today; a TLS backend is a bufferevent_openssl made here, and no other
 * module needs to change (no module writes to a backend fd itself).
 */
#ifndef MTLSLB_UPSTREAM_H
#define MTLSLB_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct conn;
struct event_base;
struct server;

struct upstream_pool;

/* A pool for nservers servers (indexed by server id); caller owns it. */
struct upstream_pool *upstream_pool_new(struct event_base *base,
    size_t nservers);

/* Closes every idle connection and frees p; accepts NULL. */
void upstream_pool_free(struct upstream_pool *p);

/*
 * Returns an idle connection to s that is still open, with no callbacks
 * set and reading enabled under the idle timeout (the caller sets its
 * own timeouts), or NULL (always for a group that sends a PROXY header: its
 * connections carry one client's address, so they are never pooled).
 * The caller owns it. With probe, the connection is always
 * checked for a close the event loop has not seen yet (one recv); without,
 * only after a second of idleness.
 */
struct bufferevent *upstream_take(struct upstream_pool *p, struct server *s,
    bool probe);

/*
 * Takes ownership of bev, an open connection to s with nothing pending,
 * and keeps it idle for reuse, or frees it when the pool is full or s is
 * disabled (BAL_DISABLED).
 */
void upstream_put(struct upstream_pool *p, struct server *s,
    struct bufferevent *bev);

/*
 * Closes every idle connection to a server that is disabled now (the
 * admin endpoint sets that in shared memory; each worker's pool notices
 * it here). Returns how many were closed.
 */
size_t upstream_pool_sweep(struct upstream_pool *p);

/*
 * Starts a non-blocking connect to s for a request of client connection
 * c. Returns a bufferevent the caller owns (BEV_EVENT_CONNECTED or an
 * error follows), or NULL when the connect failed at once (errno set).
 * With send_proxy_protocol, the PROXY header naming c's client is the
 * first thing the connection sends.
 */
struct bufferevent *upstream_connect(struct event_base *base,
    struct server *s, struct conn *c);

/*
 * Sends what is queued on bev now when no write is pending (the common
 * case: a request head and a small body fit the socket buffer); a
 * remainder, or an error, goes through bev's write event.
 */
void upstream_send(struct bufferevent *bev);

/*
 * Describes in words why bev, a connection that failed with the event
 * bits what, failed: "timed out", the TLS reason ("TLS handshake failed:
 * certificate verify failed: hostname mismatch"), the socket error or
 * "connection closed". Drains the connection's OpenSSL errors. Returns
 * buf.
 */
const char *upstream_failure(struct bufferevent *bev, short what, char *buf,
    size_t len);

/*
 * True when err (from upstream_connect) is this process's shortage
 * (descriptors, buffers, memory), not the server's fault.
 */
bool upstream_local_error(int err);

#endif
