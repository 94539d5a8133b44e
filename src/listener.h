/*
 * listener: the listening sockets of one [listener NAME] and what a worker
 * needs to serve them (its SSL_CTX and server group). The master binds;
 * each worker accepts on the inherited descriptors.
 */
#ifndef MTLSLB_LISTENER_H
#define MTLSLB_LISTENER_H

#include <openssl/ssl.h>

struct addr_conf;
struct evconnlistener;
struct group;
struct listener_conf;

/* A listener at run time: plain data, built by runtime.c. */
struct lsn {
	const struct listener_conf *conf;
	SSL_CTX *ctx;			/* built once in the master */
	struct group *group;
	int *fds;			/* one per bind, owned */
	size_t nfds;
	unsigned nconns;		/* this worker's open connections */
	struct evconnlistener **evls;	/* worker side, one per fd */
};

/*
 * Creates, binds and listens on a non-blocking TCP socket for a. Returns
 * the descriptor, or -1 after logging why (naming the address).
 */
int listener_bind(const struct addr_conf *a, const char *name);

#endif
