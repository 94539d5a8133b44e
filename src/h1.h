/*
 * h1: the HTTP/1 client session on a TLS connection: reads request heads
 * (bounded), applies the listener's mTLS policy (nginx's 400 pages),
 * creates one request (proxy.h) at a time, streams its body up and its
 * response down, keep-alive, timeouts, and the lingering close after an
 * error page. A second protocol (h2.c) is a sibling of this module.
 */
#ifndef MTLSLB_H1_H
#define MTLSLB_H1_H

#include <stdbool.h>

struct conn;
struct h1;

/*
 * Starts HTTP/1 on c after its handshake: takes over c's callbacks and
 * timer. Returns CONN_OK or CONN_CLOSED.
 */
int h1_start(struct conn *c);

/* c's timer fired (header, keep-alive, linger, or a scheduled flush). */
int h1_timer(struct h1 *h);

/* True when h waits for a next request and has read none of it. */
bool h1_idle(const struct h1 *h);

/*
 * The connection is closing: ends the request in flight (its access-log
 * line, its backend). Called only by conn_close(); accepts NULL.
 */
void h1_end(struct h1 *h);

/* Frees h and its request. Called only by the reaper; accepts NULL. */
void h1_free(struct h1 *h);

#endif
