/*
 * admit: what a listener admits of a parsed request, whatever protocol
 * carried it (h1.c, h2.c): the methods it cannot proxy, nginx's mTLS 400
 * pages, the body size limit. Routes and allow rules belong here too. No
 * I/O: the session answers with the status admit_request() returns.
 */
#ifndef MTLSLB_ADMIT_H
#define MTLSLB_ADMIT_H

struct conn;
struct http_msg;

/* Why a request was refused, for the session's error page. */
struct admit {
	const char *detail;	/* the page's text; NULL: the status's own */
};

/*
 * Returns 0 when connection c may send request m on, or the HTTP status
 * to answer it with (and a->detail).
 */
int admit_request(const struct conn *c, const struct http_msg *m,
    struct admit *a);

#endif
