/*
 * test_backend: the scripted loopback backend of the data-path suites.
 * One connection at a time (a new one replaces the old); answers each
 * complete head once (request bodies here contain no CRLFCRLF).
 */
#include "ac_config.h"
#include "test_backend.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"

static void
conn_free(struct test_backend *b)
{
	if (b->bev != NULL)
		bufferevent_free(b->bev);
	b->bev = NULL;
}

int
test_backend_heads(const struct test_backend *b)
{
	struct evbuffer_ptr p;
	int n = 0;

	p = evbuffer_search(b->got, "\r\n\r\n", 4, NULL);
	while (p.pos != -1) {
		n++;
		evbuffer_ptr_set(b->got, &p, 4, EVBUFFER_PTR_ADD);
		p = evbuffer_search(b->got, "\r\n\r\n", 4, &p);
	}
	return n;
}

bool
test_backend_got(const struct test_backend *b, const char *s)
{
	return evbuffer_search(b->got, s, strlen(s), NULL).pos != -1;
}

/* TEST_BE_ECHO: answers the head at b->next with its target as body. */
static void
echo(struct test_backend *b)
{
	const char *p = (const char *)evbuffer_pullup(b->got, -1);
	size_t len = evbuffer_get_length(b->got);
	const char *head = p + b->next, *t, *e, *end;

	end = memmem(head, len - b->next, "\r\n\r\n", 4);
	ck_assert_ptr_nonnull(end);
	t = memchr(head, ' ', (size_t)(end - head));
	ck_assert_ptr_nonnull(t);
	t++;
	e = memchr(t, ' ', (size_t)(end - t));
	ck_assert_ptr_nonnull(e);
	evbuffer_add_printf(bufferevent_get_output(b->bev),
	    "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%.*s",
	    (int)(e - t), (int)(e - t), t);
	b->next = (size_t)(end + 4 - p);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct test_backend *b = arg;
	struct linger lg = { 1, 0 };

	evbuffer_add_buffer(b->got, bufferevent_get_input(bev));
	while (b->bev != NULL && test_backend_heads(b) > b->answered) {
		b->answered++;
		switch (b->mode) {
		case TEST_BE_RESET:
			(void)setsockopt(bufferevent_getfd(bev), SOL_SOCKET,
			    SO_LINGER, &lg, sizeof(lg));
			conn_free(b);
			break;
		case TEST_BE_SILENT:
			break;
		case TEST_BE_REPLY:
		case TEST_BE_REPLY_CLOSE:
			bufferevent_write(bev, b->resp, b->resp_len);
			break;
		case TEST_BE_ECHO:
			echo(b);
			break;
		}
	}
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct test_backend *b = arg;

	/* FIN, not close(): a close with unread input would be a reset */
	if (b->mode == TEST_BE_REPLY_CLOSE && b->answered > 0 &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		(void)shutdown(bufferevent_getfd(bev), SHUT_WR);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct test_backend *b = arg;

	b->closed++;
	conn_free(b);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct test_backend *b = arg;

	b->accepted++;
	b->answered = 0;
	b->next = 0;
	evbuffer_drain(b->got, evbuffer_get_length(b->got));
	conn_free(b);
	b->bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(b->bev, read_cb, write_cb, event_cb, b);
	bufferevent_enable(b->bev, EV_READ | EV_WRITE);
}

void
test_backend_start(struct test_backend *b, struct event_base *base)
{
	socklen_t len = sizeof(b->sin);

	memset(b, 0, sizeof(*b));
	b->base = base;
	b->sin.sin_family = AF_INET;
	b->sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->l = evconnlistener_new_bind(base, accept_cb, b,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
	    (struct sockaddr *)&b->sin, sizeof(b->sin));
	ck_assert_ptr_nonnull(b->l);
	getsockname(evconnlistener_get_fd(b->l), (struct sockaddr *)&b->sin,
	    &len);
	snprintf(b->text, sizeof(b->text), "127.0.0.1:%u",
	    (unsigned)ntohs(b->sin.sin_port));
	b->got = evbuffer_new();
}

void
test_backend_server(struct test_backend *b, struct server_conf *sc)
{
	memcpy(&sc->addr.ss, &b->sin, sizeof(b->sin));
	sc->addr.len = sizeof(b->sin);
	sc->addr.text = b->text;
}

void
test_backend_script(struct test_backend *b, enum test_be_mode mode,
    const char *resp, size_t len)
{
	b->mode = mode;
	b->resp = resp;
	b->resp_len = len;
}

void
test_backend_close_listener(struct test_backend *b)
{
	if (b->l != NULL)
		evconnlistener_free(b->l);
	b->l = NULL;
}

void
test_backend_free(struct test_backend *b)
{
	conn_free(b);
	test_backend_close_listener(b);
	if (b->got != NULL)
		evbuffer_free(b->got);
	b->got = NULL;
}
