/*
 * test_backend: a scripted HTTP/1.1 backend on a loopback socket, run in
 * the test's own event loop, for the suites that drive the data path
 * without the daemon (check_proxy, check_h1). It answers every complete
 * request head as its mode says, well or badly.
 */
#ifndef MTLSLB_TEST_BACKEND_H
#define MTLSLB_TEST_BACKEND_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct bufferevent;
struct event_base;
struct evbuffer;
struct evconnlistener;
struct server_conf;

enum test_be_mode {
	TEST_BE_REPLY,		/* the response, connection kept */
	TEST_BE_REPLY_CLOSE,	/* the response, then FIN */
	TEST_BE_RESET,		/* a reset as soon as the head arrived */
	TEST_BE_SILENT,		/* read, never answer */
	TEST_BE_ECHO,		/* 200 whose body is the request's target */
};

struct test_backend {
	struct event_base *base;
	struct evconnlistener *l;	/* NULL once closed */
	struct sockaddr_in sin;
	char text[32];			/* "127.0.0.1:PORT" */
	enum test_be_mode mode;
	const char *resp;
	size_t resp_len;
	int accepted;			/* connections taken */
	int closed;			/* connections the peer ended */
	int answered;			/* heads answered, this connection */
	size_t next;			/* TEST_BE_ECHO: the next head */
	struct bufferevent *bev;	/* the current connection */
	struct evbuffer *got;		/* every byte of that connection */
};

/* Listens on 127.0.0.1:0 in base (mode TEST_BE_REPLY, no response yet). */
void test_backend_start(struct test_backend *b, struct event_base *base);

/* Points sc's address at b. */
void test_backend_server(struct test_backend *b, struct server_conf *sc);

/* How b answers from now on; resp (len bytes) for the REPLY modes. */
void test_backend_script(struct test_backend *b, enum test_be_mode mode,
    const char *resp, size_t len);

/* How many complete request heads the current connection received. */
int test_backend_heads(const struct test_backend *b);

/* True when the current connection received s. */
bool test_backend_got(const struct test_backend *b, const char *s);

/* Closes the listening socket: its port refuses from now on. */
void test_backend_close_listener(struct test_backend *b);

/* Frees everything test_backend_start made. */
void test_backend_free(struct test_backend *b);

#endif
