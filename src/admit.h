/*
 * admit: what a listener admits of a parsed request, whatever protocol
 * carried it (h1.c, h2.c): the methods it cannot proxy, the route the
 * request takes (route.h), nginx's mTLS 400 pages (per route too), the
 * allow rules of the listener and of the route (403), the body size
 * limit. No I/O but the log line of a 403: the session answers with the
 * status admit_request() returns.
 */
#ifndef MTLSLB_ADMIT_H
#define MTLSLB_ADMIT_H

struct conn;
struct http_msg;
struct lsn_route;

/* What admit_request() decided, for the session and the proxy. */
struct admit {
	const char *detail;	/* the page's text; NULL: the status's own */
	const struct lsn_route *route;	/* the route taken; NULL: none */
};

/*
 * Returns 0 when connection c may send request m on, or the HTTP status
 * to answer it with (and a->detail). a->route is set either way (NULL
 * when no route matched or the request was refused before the match).
 * The allow rules' verdict is kept in c (once per rule set), hence the
 * cast inside: c is otherwise only read.
 */
int admit_request(const struct conn *c, const struct http_msg *m,
    struct admit *a);

#endif
