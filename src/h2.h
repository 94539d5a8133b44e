/*
 * h2: the HTTP/2 client session on a TLS connection whose ALPN chose
 * "h2" (libnghttp2 does the framing, HPACK and flow control). Each
 * stream owns one request (proxy.h), translated to the HTTP/1.1 head the
 * proxy forwards; the listener's policy (admit.h) holds per stream. A
 * sibling of h1.c: conn.c starts one or the other after the handshake.
 */
#ifndef MTLSLB_H2_H
#define MTLSLB_H2_H

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct h2;

/*
 * Starts HTTP/2 on c after its handshake: takes over c's callbacks and
 * timer, sends the server's SETTINGS. Returns CONN_OK or CONN_CLOSED.
 */
int h2_start(struct conn *c);

/* c's timer fired (idle keep-alive, or a stalled client). */
int h2_timer(struct h2 *h);

/*
 * Graceful stop: GOAWAY with the last stream id; in-flight streams
 * finish, then the connection closes. Returns CONN_OK or CONN_CLOSED.
 */
int h2_stop(struct h2 *h);

/*
 * The connection is closing: ends every request in flight (its access-log
 * line, its backend). Called only by conn_close(); accepts NULL.
 */
void h2_end(struct h2 *h);

/* Frees h and its streams. Called only by the reaper; accepts NULL. */
void h2_free(struct h2 *h);

/*
 * For the fuzz target: feeds len bytes to c's session as if read from
 * the client (after TLS). Returns CONN_OK or CONN_CLOSED.
 */
int h2_feed(struct h2 *h, const unsigned char *p, size_t len);

#endif
