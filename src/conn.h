/*
 * conn: one client connection, whatever protocol it speaks after TLS:
 * the accept, the TLS handshake and its client-certificate verdict, the
 * client's identity, and the connection's lifetime. The protocol that
 * runs on it (h1.c or h2.c) is chosen when the handshake completes.
 *
 * The lifetime rule (docs/DESIGN.md, "Lifetimes"):
 *  1. conn_close() releases the sockets at once and only marks the
 *     connection; the worker's reaper frees its memory after the current
 *     libevent callback has returned. Nothing else frees a connection.
 *  2. A function that may end the connection returns int: CONN_CLOSED
 *     (-1) means "ended", and its caller returns at once.
 *  3. libevent callbacks never call each other; shared work lives in
 *     plain functions that every callback may call.
 */
#ifndef MTLSLB_CONN_H
#define MTLSLB_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/ssl.h>

#include "log.h"
#include "tls.h"

struct bufferevent;
struct event;
struct event_base;
struct evbuffer;
struct http_header;
struct lsn;
struct upstream_pool;
struct proxy_freelist;
struct conn;
struct conn_pp;
struct h1;
struct h2;
struct tls_sni;

TAILQ_HEAD(conn_list, conn);

/* Returned by every function that may end a connection. */
#define CONN_OK		0
#define CONN_CLOSED	(-1)

/* What connections of one worker share; owned by worker.c. */
struct conn_worker {
	struct event_base *base;
	struct upstream_pool *pool;
	struct http_header *hdrs;	/* parse scratch, one head at a time */
	struct evbuffer *scratch;	/* response assembly, emptied at once */
	size_t hdrs_cap;
	struct conn_list conns;		/* open connections */
	struct conn_list dead;		/* closed, freed by the reaper */
	struct event *reaper;
	struct proxy_freelist *requests; /* request objects kept for reuse */
	size_t nconns;
	size_t max_conns;		/* descriptor budget; 0: none */
	struct log_limit overload_log;	/* "connection refused" lines */
	struct log_limit proxy_log;	/* bad or missing PROXY headers */
	uint64_t next_id;
	bool stopping;			/* no new requests; close when idle */
	/* libevent common-timeout timevals, one per configured duration */
	struct {
		unsigned ms;
		const struct timeval *tv;
	} tvc[32];
	size_t ntvc;
	struct timeval tv_tmp;		/* when tvc is full */
};

/* How a connection ends. */
enum conn_end {
	CONN_END_CLEAN,		/* TLS close_notify: the client got it all */
	CONN_END_ABORT,		/* no close_notify: a response was cut */
};

/*
 * A client connection. Fields are written by conn.c and by the protocol
 * session that runs on it; a request (proxy.c) only reads the identity.
 */
struct conn {
	uint32_t magic;
	bool closed;			/* conn_close() ran; awaiting the reaper */
	bool handshake_done;
	struct conn_worker *w;
	struct lsn *lsn;		/* the one SNI chose, once it did */
	const struct tls_sni *sni;	/* the listeners of its socket */
	TAILQ_ENTRY(conn) link;
	uint64_t id;
	struct bufferevent *cbev;	/* the client side, TLS or plain */
	SSL *ssl;			/* owned by cbev; NULL: plain HTTP */
	struct event *timer;		/* handshake, then the session's */
	/*
	 * The timer is lazy (nginx's lazy timers): moving a deadline later
	 * only writes it here, and a timer that fires early is re-armed
	 * for the rest. A keep-alive request then costs no event_add.
	 */
	struct timeval deadline;	/* when it is due; 0: none */
	struct timeval fires;		/* when the armed event fires */
	bool timer_armed;		/* the event is pending */
	bool timer_kicked;		/* conn_timer_kick(): run it now */
	enum tls_verdict verdict;	/* from the handshake */
	struct peer_cert *peer;		/* its names, built on first use */
	/*
	 * The allow rules' verdicts for this connection's certificate, one
	 * bit per rule set: bit 0 the listener's, bit 1 + i its route i
	 * (admit.c); allow_done says which were computed.
	 */
	uint32_t allow_done, allow_ok;
	/*
	 * The rfc9440/xfcc/aws header lines of the certificate, built on
	 * the first request that forwards them (cert_fwd.h); NULL before.
	 */
	char *cert_hdrs;
	size_t cert_hdrs_len;
	char client_ip[46];
	unsigned client_port;
	/*
	 * The client's address (a PROXY header's source when one came) and
	 * the one it connected to (its destination; local_len 0 until
	 * known), for a PROXY header towards the backend.
	 */
	struct sockaddr_storage client_sa;
	struct sockaddr_storage local_sa;
	socklen_t local_len;
	struct conn_pp *pp;		/* reading a PROXY header; then NULL */
	char proxy_peer[56];		/* "IP:PORT" of the balancer that sent
					   a PROXY header; "" without one */
	struct h1 *h1;			/* the HTTP/1 session, once started */
	struct h2 *h2;			/* or the HTTP/2 one (ALPN h2) */
};

#define CONN_MAGIC	0x636f6e6eu

/* Initialises w's lists and reaper on base; 0 or -1. */
int conn_worker_init(struct conn_worker *w, struct event_base *base);

/* Frees what conn_worker_init made (after conn_worker_close_all). */
void conn_worker_free(struct conn_worker *w);

/*
 * Takes ownership of the accepted socket fd from listener l (the default
 * listener of the socket; sni: the listeners that share it) and starts
 * the TLS handshake (on a protocol = http listener: the HTTP session).
 * On failure the socket is closed and logged.
 */
void conn_accept(struct conn_worker *w, struct lsn *l,
    const struct tls_sni *sni, int fd, const struct sockaddr *sa,
    socklen_t salen);

/*
 * Ends c (see the rule above): frees its sockets and timer now, its
 * memory later. Idempotent. Always returns CONN_CLOSED.
 */
int conn_close(struct conn *c, enum conn_end how, const char *why);

/*
 * The address c's client connected to (the PROXY header's destination
 * when one came); NULL when it cannot be known.
 */
const struct sockaddr *conn_local_addr(struct conn *c);

/* The client certificate's names, formatted on first use; NULL if none. */
struct peer_cert *conn_peer(struct conn *c);

/*
 * The header lines of c's listener's certificate families that need the
 * certificate (FCC_NEEDS_CERT), built on first use; *len gets their
 * length. "" when there is nothing to forward.
 */
const char *conn_cert_headers(struct conn *c, size_t *len);

/* A timeval for ms from the worker's common-timeout queues. */
const struct timeval *conn_timeout(struct conn_worker *w, unsigned ms);

/* c's timer is due in ms (from now, replacing any deadline). */
void conn_timer_arm(struct conn *c, unsigned ms);

/* c's timer is not due at all. */
void conn_timer_stop(struct conn *c);

/* Runs c's timer from the loop at once, whatever its deadline. */
void conn_timer_kick(struct conn *c);

/*
 * Sends what the worker's scratch buffer holds to c's client as one piece
 * (one TLS record up to 16 KiB, written at once when nothing is queued)
 * and leaves the scratch buffer empty.
 */
void conn_send_scratch(struct conn *c);

/*
 * Graceful stop: closes idle keep-alive connections now and makes busy
 * ones close after their current response.
 */
void conn_worker_stop(struct conn_worker *w);

/* Closes every connection at once (shutdown timeout). */
void conn_worker_close_all(struct conn_worker *w);

#endif
