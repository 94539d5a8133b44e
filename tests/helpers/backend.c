/*
 * backend: a tiny HTTP/1.1 origin server for the integration tests. One
 * process, one event_base, bufferevents (not evhttp: it must speak Upgrade
 * and stream large bodies with bounded memory). Routes are listed in
 * usage(). It must never buffer a whole request or response body, and it
 * answers malformed input with 400 and a close instead of crashing.
 * Every response carries X-Backend: NAME, X-Conn-Id (per accepted
 * connection) and X-Conn-Requests (requests so far on that connection),
 * so tests can see the proxy's upstream connection reuse. --idle-close
 * makes it close idle keep-alive connections without announcing it, as a
 * server whose keep-alive timeout is shorter than the proxy's pool does.
 */
#include "ac_config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <openssl/evp.h>

#define MAX_LINE	8192		/* request line or one header line */
#define MAX_HEAD	65536		/* all header lines together */
#define MAX_LEADING_CRLF 8		/* empty lines tolerated before a request */
#define MAX_TRAILERS	64
#define STREAM_PIECE	16384		/* one /bytes write or one chunk */
#define STREAM_HIGH	(256 * 1024)	/* stop filling above this */
#define STREAM_LOW	(64 * 1024)	/* write callback fires below this */
#define ECHO_HIGH	(1024 * 1024)	/* pause reading above this */
#define ECHO_LOW	(256 * 1024)
#define MAX_DELAY_MS	600000u
#define MAX_GEN		((uint64_t)1 << 40)
#define LINGER_SEC	2

#define CONN_MAGIC	0x62654b43u	/* "CKeb" */

enum state {
	ST_HEAD,	/* reading the request line and headers */
	ST_BODY_CL,	/* reading a Content-Length body */
	ST_CHUNK_SIZE,	/* chunk-size line */
	ST_CHUNK_DATA,	/* chunk payload */
	ST_CHUNK_CRLF,	/* CRLF after a chunk payload */
	ST_TRAILER,	/* trailer section after the last chunk */
	ST_DELAY,	/* /delay: timer armed, reading paused */
	ST_STREAM,	/* /bytes, /chunked: filling from the write callback */
	ST_ECHO,	/* after 101: echo every byte */
	ST_LINGER,	/* output flushed and shut down; drain until EOF */
	ST_CLOSING,	/* flush output, then shut down and linger */
};

struct server {
	struct event_base *base;
	const char *name;
	FILE *logfp;
	struct conn *conns;		/* every live connection */
	unsigned next_id;
	unsigned idle_timeout_s;
	long idle_close_ms;		/* --idle-close; -1: off */
	struct evconnlistener *lst;
	bool draining;			/* SIGTERM: finish what is in flight */
	struct event *drain_poll;
	int drain_ticks;
};

struct conn {
	unsigned magic;
	struct server *srv;
	struct bufferevent *bev;
	struct conn *prev, *next;
	enum state state;
	unsigned id;
	unsigned nreq;			/* requests seen on this connection */
	struct event *timer;
	struct event *idle;		/* --idle-close timer */
	/* the request being read */
	char *method;
	char *target;
	int minor;			/* HTTP/1.minor */
	bool got_line;
	unsigned leading_crlf;
	unsigned ntrailers;
	struct evbuffer *hdrs;		/* header lines as received, LF-ended */
	size_t head_bytes;
	bool keepalive;
	bool conn_close, conn_keepalive, conn_upgrade;
	bool chunked, has_cl, expect100, is_head;
	uint64_t cl;
	uint64_t remaining;		/* of the CL body or the current chunk */
	char upgrade[64];
	EVP_MD_CTX *md;
	uint64_t body_bytes;
	/* the response being sent */
	uint64_t stream_off, stream_len;
	bool stream_chunked;
	int delay_status;
};

static void process(struct conn *c);
static void conn_free(struct conn *c);
static void start_linger(struct conn *c);

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: backend --listen 127.0.0.1:PORT [--name NAME] [--log FILE]\n"
	    "               [--pidfile FILE] [--idle-timeout SEC]\n"
	    "               [--idle-close MS]\n"
	    "       backend --gen N\n"
	    "routes: GET /  /headers  /status/NNN  /delay/MS[/status/NNN]\n"
	    "        /bytes/N  /chunked/N  /close  /reset  /upload*  /ws (Upgrade)\n"
	    "        /stall/MS (answers after MS without reading the body)\n"
	    "        /eof/N (the /bytes/N body, ended by closing)\n"
	    "--log appends \"METHOD TARGET\" per request; --gen N writes the\n"
	    "/bytes/N body to stdout; --listen 127.0.0.1:0 picks a free port.\n"
	    "--idle-close MS closes a keep-alive connection idle for MS ms\n"
	    "after a response (0: as soon as the response is sent) without\n"
	    "having said Connection: close; with 0 the close travels with the\n"
	    "response's last bytes.\n");
}

/* Byte i of the /bytes and /chunked bodies (and of --gen). */
static unsigned char
pattern_byte(uint64_t i)
{
	return (unsigned char)((i * 7 + i / 65536) & 0xff);
}

static void
pattern_fill(unsigned char *p, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pattern_byte(off + i);
}

static const char *
reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

/* Parses a decimal number in 0..max; *end gets the first other byte. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out, const char **end)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	if (end != NULL)
		*end = s;
	return 0;
}

static bool
is_tchar(int ch)
{
	if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9'))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

/* Case-insensitive: does the comma list s contain token tok? */
static bool
has_token(const char *s, const char *tok)
{
	size_t n = strlen(tok);

	while (*s != '\0') {
		const char *e;
		size_t len;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		e = s;
		while (*e != '\0' && *e != ',')
			e++;
		len = (size_t)(e - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(s, tok, n) == 0)
			return true;
		s = e;
	}
	return false;
}

static void
request_reset(struct conn *c)
{
	free(c->method);
	free(c->target);
	c->method = c->target = NULL;
	c->got_line = false;
	c->leading_crlf = 0;
	c->ntrailers = 0;
	evbuffer_drain(c->hdrs, evbuffer_get_length(c->hdrs));
	c->head_bytes = 0;
	c->keepalive = false;
	c->conn_close = c->conn_keepalive = c->conn_upgrade = false;
	c->chunked = c->has_cl = c->expect100 = c->is_head = false;
	c->cl = c->remaining = 0;
	c->upgrade[0] = '\0';
	c->body_bytes = 0;
	c->stream_off = c->stream_len = 0;
	c->stream_chunked = false;
	c->delay_status = 200;
	c->minor = 1;
	EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
}

/* Starts the response head; the caller adds its own headers and CRLF. */
static void
head_begin(struct conn *c, int status)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->srv->draining)
		c->keepalive = false;	/* last answer on this connection */
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nX-Backend: %s\r\n"
	    "X-Conn-Requests: %u\r\nX-Conn-Id: %u\r\n", status, reason(status),
	    c->srv->name, c->nreq, c->id);
	if (!c->keepalive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (c->minor == 0)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
}

/* The request is answered: read the next one, or flush and close. */
static void
finish(struct conn *c)
{
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (c->keepalive && c->srv->idle_close_ms != 0) {
		request_reset(c);
		c->state = ST_HEAD;
		bufferevent_enable(c->bev, EV_READ);
		if (c->srv->idle_close_ms > 0) {
			struct timeval tv = {
				(time_t)(c->srv->idle_close_ms / 1000),
				(suseconds_t)(c->srv->idle_close_ms % 1000 *
				    1000) };

			evtimer_add(c->idle, &tv);
		}
		return;
	}
	/* Not keep-alive, or --idle-close 0: close once it is flushed. */
	if (c->keepalive) {
		/*
		 * --idle-close 0: cork, so that the shutdown in start_linger()
		 * sends the FIN in the segment with the response's last
		 * bytes. A proxy then has our close in its socket before it
		 * can read the whole response and reuse the connection.
		 */
		int one = 1;

		(void)setsockopt(bufferevent_getfd(c->bev), IPPROTO_TCP,
		    TCP_CORK, &one, sizeof(one));
	}
	c->state = ST_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
}

static void
send_simple(struct conn *c, int status, const char *body, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	bool nobody = status == 204 || status == 304 || status < 200;

	head_begin(c, status);
	if (!nobody)
		evbuffer_add_printf(out, "Content-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n", len);
	evbuffer_add(out, "\r\n", 2);
	if (!nobody && !c->is_head)
		evbuffer_add(out, body, len);
	finish(c);
}

/* Answers a malformed request and closes after the flush. */
static void
send_error(struct conn *c, int status)
{
	char body[64];
	int n;

	c->keepalive = false;
	n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	send_simple(c, status, body, (size_t)n);
}

static void
send_status(struct conn *c, int status)
{
	char body[64];
	int n;

	n = snprintf(body, sizeof(body), "status %d from %s\n", status,
	    c->srv->name);
	send_simple(c, status, body, (size_t)n);
}

/* Closes with RST: SO_LINGER 0 makes close() abort the connection. */
static void
conn_reset(struct conn *c)
{
	struct linger lg = { 1, 0 };
	evutil_socket_t fd = bufferevent_getfd(c->bev);

	if (fd >= 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_free(c);
}

/* Tops up the output; returns true once the whole body is queued. */
static bool
stream_fill(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	unsigned char buf[STREAM_PIECE];

	while (evbuffer_get_length(out) < STREAM_HIGH &&
	    c->stream_off < c->stream_len) {
		uint64_t left = c->stream_len - c->stream_off;
		size_t n = left < sizeof(buf) ? (size_t)left : sizeof(buf);

		pattern_fill(buf, c->stream_off, n);
		if (c->stream_chunked)
			evbuffer_add_printf(out, "%zx\r\n", n);
		evbuffer_add(out, buf, n);
		if (c->stream_chunked)
			evbuffer_add(out, "\r\n", 2);
		c->stream_off += n;
	}
	if (c->stream_off == c->stream_len) {
		if (c->stream_chunked)
			evbuffer_add(out, "0\r\n\r\n", 5);
		return true;
	}
	return false;
}

static void
start_stream(struct conn *c, uint64_t n, bool chunked, bool eof)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (eof)
		c->keepalive = false;	/* the body ends at our close */
	head_begin(c, 200);
	evbuffer_add_printf(out, "Content-Type: application/octet-stream\r\n");
	if (chunked)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n\r\n");
	else if (eof)
		evbuffer_add_printf(out, "\r\n");
	else
		evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n\r\n",
		    n);
	if (c->is_head) {
		finish(c);
		return;
	}
	c->stream_len = n;
	c->stream_off = 0;
	c->stream_chunked = chunked;
	c->state = ST_STREAM;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, STREAM_LOW, 0);
	/*
	 * We run inside process(), so a body that fits at once just ends the
	 * request here and process() carries on; larger ones continue from
	 * write_cb as the output drains below STREAM_LOW.
	 */
	if (stream_fill(c))
		finish(c);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->magic != CONN_MAGIC)
		abort();
	if (c->state != ST_DELAY)
		return;
	send_status(c, c->delay_status);
	process(c);
}

static void
send_headers(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t len = evbuffer_get_length(c->hdrs);

	head_begin(c, 200);
	evbuffer_add_printf(out, "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n\r\n", len);
	if (!c->is_head)
		evbuffer_add_buffer(out, c->hdrs);
	finish(c);
}

static void
send_upload(struct conn *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char body[2 * EVP_MAX_MD_SIZE + 64];
	size_t n;

	EVP_DigestFinal_ex(c->md, md, &mdlen);
	memcpy(body, "sha256=", 7);
	n = 7;
	for (i = 0; i < mdlen; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "%02x",
		    md[i]);
	n += (size_t)snprintf(body + n, sizeof(body) - n,
	    " bytes=%" PRIu64 "\n", c->body_bytes);
	send_simple(c, 200, body, n);
}

static void
send_eof_body(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	c->keepalive = false;
	head_begin(c, 200);
	evbuffer_add_printf(out, "Content-Type: text/plain\r\n\r\n");
	if (!c->is_head)
		evbuffer_add_printf(out,
		    "This body ends at EOF. This is %s.\n", c->srv->name);
	finish(c);
}

/* Dispatches on the path once the whole request body has been read. */
static void
route(struct conn *c)
{
	char path[MAX_LINE];
	const char *p, *end;
	uint64_t v, st;
	size_t n;

	n = strcspn(c->target, "?");
	if (n >= sizeof(path))
		n = sizeof(path) - 1;
	memcpy(path, c->target, n);
	path[n] = '\0';

	if (strcmp(path, "/") == 0) {
		char body[256];
		int len;

		len = snprintf(body, sizeof(body),
		    "Hello World ! This is %s.\n", c->srv->name);
		send_simple(c, 200, body, (size_t)len);
	} else if (strcmp(path, "/headers") == 0) {
		send_headers(c);
	} else if (strncmp(path, "/status/", 8) == 0) {
		if (parse_u64(path + 8, 999, &v, &end) == -1 || *end != '\0' ||
		    v < 200 || v > 599)
			send_error(c, 400);
		else
			send_status(c, (int)v);
	} else if (strncmp(path, "/delay/", 7) == 0 ||
	    strncmp(path, "/stall/", 7) == 0) {
		struct timeval tv;

		st = 200;
		if (parse_u64(path + 7, MAX_DELAY_MS, &v, &end) == -1) {
			send_error(c, 400);
			return;
		}
		if (*end != '\0' && (strncmp(end, "/status/", 8) != 0 ||
		    parse_u64(end + 8, 999, &st, &p) == -1 || *p != '\0' ||
		    st < 200 || st > 599)) {
			send_error(c, 400);
			return;
		}
		c->delay_status = (int)st;
		c->state = ST_DELAY;
		bufferevent_disable(c->bev, EV_READ);
		tv.tv_sec = (time_t)(v / 1000);
		tv.tv_usec = (suseconds_t)((v % 1000) * 1000);
		evtimer_add(c->timer, &tv);
	} else if (strncmp(path, "/bytes/", 7) == 0 ||
	    strncmp(path, "/chunked/", 9) == 0) {
		bool chunked = path[1] == 'c';

		if (parse_u64(path + (chunked ? 9 : 7), MAX_GEN, &v, &end) ==
		    -1 || *end != '\0')
			send_error(c, 400);
		else
			start_stream(c, v, chunked, false);
	} else if (strncmp(path, "/eof/", 5) == 0) {
		if (parse_u64(path + 5, MAX_GEN, &v, &end) == -1 ||
		    *end != '\0')
			send_error(c, 400);
		else
			start_stream(c, v, false, true);
	} else if (strncmp(path, "/upload", 7) == 0) {
		send_upload(c);
	} else if (strcmp(path, "/close") == 0) {
		send_eof_body(c);
	} else if (strcmp(path, "/ws") == 0) {
		send_status(c, 426);
	} else {
		send_status(c, 404);
	}
}

static void
hash_body(struct conn *c, struct evbuffer *in, size_t n)
{
	struct evbuffer_iovec v[16];
	int i, nv;
	size_t left = n;

	while (left > 0) {
		size_t done = 0;

		nv = evbuffer_peek(in, (ev_ssize_t)left, NULL, v, 16);
		if (nv > 16)
			nv = 16;
		for (i = 0; i < nv && done < left; i++) {
			size_t take = v[i].iov_len;

			if (take > left - done)
				take = left - done;
			EVP_DigestUpdate(c->md, v[i].iov_base, take);
			done += take;
		}
		evbuffer_drain(in, done);
		left -= done;
	}
	c->body_bytes += n;
}

static int
parse_request_line(struct conn *c, const char *line)
{
	const char *sp1, *sp2, *p;

	sp1 = strchr(line, ' ');
	if (sp1 == NULL || sp1 == line)
		return -1;
	for (p = line; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	sp2 = strchr(sp1 + 1, ' ');
	if (sp2 == NULL || sp2 == sp1 + 1)
		return -1;
	for (p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		c->minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		c->minor = 0;
	else
		return -1;
	c->method = strndup(line, (size_t)(sp1 - line));
	c->target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (c->method == NULL || c->target == NULL)
		abort();
	if (c->target[0] != '/')
		return -1;
	c->is_head = strcmp(c->method, "HEAD") == 0;
	return 0;
}

static int
parse_header(struct conn *c, char *line)
{
	char *colon, *v, *e;
	const char *p;
	uint64_t n;

	colon = strchr(line, ':');
	if (colon == NULL || colon == line)
		return -1;
	for (p = line; p < colon; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	for (p = colon + 1; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return -1;
	evbuffer_add_printf(c->hdrs, "%s\n", line);
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';

	if (strcasecmp(line, "Content-Length") == 0) {
		if (parse_u64(v, UINT64_MAX >> 1, &n, &p) == -1 || *p != '\0')
			return -1;
		if (c->has_cl && n != c->cl)
			return -1;
		c->has_cl = true;
		c->cl = n;
	} else if (strcasecmp(line, "Transfer-Encoding") == 0) {
		if (strcasecmp(v, "chunked") != 0 || c->chunked)
			return -1;
		c->chunked = true;
	} else if (strcasecmp(line, "Connection") == 0) {
		c->conn_close |= has_token(v, "close");
		c->conn_keepalive |= has_token(v, "keep-alive");
		c->conn_upgrade |= has_token(v, "upgrade");
	} else if (strcasecmp(line, "Upgrade") == 0) {
		snprintf(c->upgrade, sizeof(c->upgrade), "%s", v);
		for (e = c->upgrade; *e != '\0'; e++)
			if (!is_tchar((unsigned char)*e) && *e != '/')
				return -1;
	} else if (strcasecmp(line, "Expect") == 0) {
		c->expect100 = strcasecmp(v, "100-continue") == 0;
	}
	return 0;
}

static void
log_request(struct conn *c)
{
	if (c->srv->logfp == NULL)
		return;
	fprintf(c->srv->logfp, "%s %s\n", c->method, c->target);
	fflush(c->srv->logfp);
}

/* The head is complete: log it, then pick the body reader or answer. */
static int
head_done(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char path[16];

	c->nreq++;
	log_request(c);
	c->keepalive = c->minor == 1 ? !c->conn_close :
	    c->conn_keepalive && !c->conn_close;
	if ((c->chunked && c->has_cl) || (c->chunked && c->minor == 0)) {
		send_error(c, 400);
		return 0;
	}
	snprintf(path, sizeof(path), "%.*s", (int)strcspn(c->target, "?"),
	    c->target);
	if (strcmp(path, "/reset") == 0) {
		conn_reset(c);
		return -1;
	}
	if (strncmp(path, "/stall/", 7) == 0) {
		/* at once, reading nothing of the body; closes after it */
		c->keepalive = false;
		route(c);
		return 0;
	}
	if (strcmp(path, "/ws") == 0 && c->conn_upgrade &&
	    c->upgrade[0] != '\0') {
		evbuffer_add_printf(out, "HTTP/1.1 101 Switching Protocols\r\n"
		    "Upgrade: %s\r\nConnection: Upgrade\r\nX-Backend: %s\r\n\r\n",
		    c->upgrade, c->srv->name);
		c->state = ST_ECHO;
		bufferevent_setwatermark(c->bev, EV_WRITE, ECHO_LOW, 0);
		return 0;
	}
	if ((c->chunked || c->cl > 0) && c->expect100 && c->minor == 1)
		evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
	if (c->chunked) {
		c->state = ST_CHUNK_SIZE;
	} else if (c->cl > 0) {
		c->remaining = c->cl;
		c->state = ST_BODY_CL;
	} else {
		route(c);
	}
	return 0;
}

static int
parse_chunk_size(const char *line, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = line;
	int digits = 0;

	for (;; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		if (++digits > 15)
			return -1;
		v = v * 16 + (uint64_t)d;
	}
	if (digits == 0)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0' && *p != ';')
		return -1;
	*out = v;
	return 0;
}

/*
 * Runs the request state machine over what is buffered. Returns when it
 * needs more input or is waiting on a timer or the write side; it may
 * free c (callers must not touch c afterwards).
 */
static void
process(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t n, len;
	char *line;
	uint64_t sz;

	for (;;) {
		switch (c->state) {
		case ST_HEAD:
		case ST_CHUNK_SIZE:
		case ST_CHUNK_CRLF:
		case ST_TRAILER:
			line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);
			if (line == NULL) {
				if (evbuffer_get_length(in) > MAX_LINE)
					send_error(c, c->state == ST_HEAD &&
					    c->got_line ? 431 : 400);
				return;
			}
			if (n > MAX_LINE || strlen(line) != n) {
				free(line);
				send_error(c, 400);
				return;
			}
			break;
		case ST_BODY_CL:
		case ST_CHUNK_DATA:
			len = evbuffer_get_length(in);
			if (len == 0)
				return;
			if (len > c->remaining)
				len = (size_t)c->remaining;
			hash_body(c, in, len);
			c->remaining -= len;
			if (c->remaining > 0)
				return;
			if (c->state == ST_CHUNK_DATA)
				c->state = ST_CHUNK_CRLF;
			else
				route(c);
			continue;
		case ST_ECHO:
			evbuffer_add_buffer(out, in);
			if (evbuffer_get_length(out) > ECHO_HIGH)
				bufferevent_disable(c->bev, EV_READ);
			return;
		case ST_LINGER:
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		case ST_DELAY:
		case ST_STREAM:
		case ST_CLOSING:
		default:
			return;
		}

		/* A line-oriented state got a line. */
		switch (c->state) {
		case ST_HEAD:
			if (!c->got_line) {
				if (n == 0 && ++c->leading_crlf <=
				    MAX_LEADING_CRLF) {
					free(line);
					continue;
				}
				c->got_line = true;
				if (parse_request_line(c, line) == -1) {
					free(line);
					send_error(c, 400);
					return;
				}
			} else if (n == 0) {
				free(line);
				if (head_done(c) == -1)
					return;
				continue;
			} else {
				c->head_bytes += n;
				if (c->head_bytes > MAX_HEAD) {
					free(line);
					send_error(c, 431);
					return;
				}
				if (line[0] == ' ' || line[0] == '\t' ||
				    parse_header(c, line) == -1) {
					free(line);
					send_error(c, 400);
					return;
				}
			}
			break;
		case ST_CHUNK_SIZE:
			if (parse_chunk_size(line, &sz) == -1) {
				free(line);
				send_error(c, 400);
				return;
			}
			c->remaining = sz;
			c->state = sz == 0 ? ST_TRAILER : ST_CHUNK_DATA;
			break;
		case ST_CHUNK_CRLF:
			if (n != 0) {
				free(line);
				send_error(c, 400);
				return;
			}
			c->state = ST_CHUNK_SIZE;
			break;
		case ST_TRAILER:
			if (n == 0) {
				free(line);
				route(c);
				continue;
			}
			if (++c->ntrailers > MAX_TRAILERS) {
				free(line);
				send_error(c, 400);
				return;
			}
			break;
		default:
			break;
		}
		free(line);
	}
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->magic != CONN_MAGIC)
		abort();
	evtimer_del(c->idle);
	process(c);
}

/* --idle-close: nothing arrived since the last response; close quietly. */
static void
idle_close_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->magic != CONN_MAGIC)
		abort();
	if (c->state != ST_HEAD || c->got_line ||
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return;
	c->state = ST_CLOSING;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		start_linger(c);
	else
		bufferevent_disable(c->bev, EV_READ);
}

/* Half-closes our side, then drains the peer until EOF or a timeout. */
static void
start_linger(struct conn *c)
{
	struct timeval tv = { LINGER_SEC, 0 };

	(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	c->state = ST_LINGER;
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_set_timeouts(c->bev, &tv, NULL);
	bufferevent_enable(c->bev, EV_READ);
	process(c);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(bev);

	if (c->magic != CONN_MAGIC)
		abort();
	switch (c->state) {
	case ST_STREAM:
		if (stream_fill(c)) {
			finish(c);
			process(c);
		}
		break;
	case ST_CLOSING:
		if (evbuffer_get_length(out) == 0)
			start_linger(c);
		break;
	case ST_ECHO:
		if (evbuffer_get_length(out) <= ECHO_LOW)
			bufferevent_enable(bev, EV_READ);
		break;
	default:
		break;
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (c->magic != CONN_MAGIC)
		abort();
	if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) &&
	    c->state == ST_ECHO) {
		/* The client is done sending: flush what we echo, then close. */
		process(c);
		c->state = ST_CLOSING;
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free(c);
		return;
	}
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		c->srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	event_free(c->timer);
	event_free(c->idle);
	evbuffer_free(c->hdrs);
	EVP_MD_CTX_free(c->md);
	free(c->method);
	free(c->target);
	c->magic = 0;
	free(c);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct server *srv = arg;
	struct conn *c;
	struct timeval tv = { (time_t)srv->idle_timeout_s, 0 };

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->magic = CONN_MAGIC;
	c->srv = srv;
	c->id = ++srv->next_id;
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(srv->base, delay_cb, c);
	c->idle = evtimer_new(srv->base, idle_close_cb, c);
	c->hdrs = evbuffer_new();
	c->md = EVP_MD_CTX_new();
	if (c->bev == NULL || c->timer == NULL || c->idle == NULL ||
	    c->hdrs == NULL ||
	    c->md == NULL)
		abort();
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	request_reset(c);
	c->state = ST_HEAD;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/*
 * While draining: exit once every connection is gone, or after 30 s (a
 * slow reader's response on a busy machine must not be cut by our exit).
 */
static void
drain_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	if (srv->conns == NULL || ++srv->drain_ticks > 600)
		event_base_loopexit(srv->base, NULL);
}

/*
 * SIGTERM stops like a real server's graceful stop: no new connections
 * (the port refuses them), idle keep-alive connections closed, requests
 * in flight answered with Connection: close. SIGINT, or a second
 * SIGTERM, exits at once.
 */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct conn *c, *next;
	struct timeval tv = { 0, 50000 };

	if (sig != SIGTERM || srv->draining) {
		event_base_loopexit(srv->base, NULL);
		return;
	}
	srv->draining = true;
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		if (c->state == ST_HEAD && evbuffer_get_length(
		    bufferevent_get_input(c->bev)) == 0)
			conn_free(c);
	}
	if (srv->lst != NULL) {
		/*
		 * Connections the kernel completed but we have not accepted
		 * would be reset by the close, after their client may have
		 * sent a request: take them in and answer them first.
		 */
		evutil_socket_t lfd = evconnlistener_get_fd(srv->lst);
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		evutil_socket_t nfd;
		int n = 0;

		while (n++ < 1024 && (nfd = accept4(lfd, (struct sockaddr *)&ss,
		    &len, SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
			accept_cb(srv->lst, nfd, (struct sockaddr *)&ss,
			    (int)len, srv);
			len = sizeof(ss);
		}
		evconnlistener_free(srv->lst);
		srv->lst = NULL;
	}
	srv->drain_poll = event_new(srv->base, -1, EV_PERSIST, drain_poll_cb,
	    srv);
	if (srv->drain_poll == NULL || event_add(srv->drain_poll, &tv) == -1)
		event_base_loopexit(srv->base, NULL);
}

/* HOST:PORT or [V6]:PORT, numeric only; port 0 picks a free one. */
static int
parse_listen(const char *arg, struct sockaddr_storage *ss, int *sslen)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(arg, ':'), *end;
	size_t hlen;
	uint64_t port;

	if (colon == NULL || parse_u64(colon + 1, 65535, &port, &end) == -1 ||
	    *end != '\0')
		return -1;
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		arg++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return -1;
		*sslen = (int)sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -1;
		*sslen = (int)sizeof(*s4);
	}
	return 0;
}

static int
gen(const char *arg)
{
	unsigned char buf[65536];
	uint64_t n, off = 0;
	const char *end;

	if (parse_u64(arg, MAX_GEN, &n, &end) == -1 || *end != '\0') {
		fprintf(stderr, "backend: --gen: bad size '%s'\n", arg);
		return 2;
	}
	while (off < n) {
		size_t len = n - off < sizeof(buf) ? (size_t)(n - off) :
		    sizeof(buf);

		pattern_fill(buf, off, len);
		if (fwrite(buf, 1, len, stdout) != len) {
			fprintf(stderr, "backend: --gen: write: %s\n",
			    strerror(errno));
			return 1;
		}
		off += len;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "name", required_argument, NULL, 'n' },
		{ "log", required_argument, NULL, 'L' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "idle-close", required_argument, NULL, 'c' },
		{ "gen", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct server srv;
	struct sockaddr_storage ss;
	int sslen = (int)sizeof(ss);
	const char *listen_arg = NULL, *log_path = NULL, *pidfile = NULL;
	struct evconnlistener *lst = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	struct sigaction sa;
	char addr[INET6_ADDRSTRLEN];
	socklen_t alen;
	uint64_t v;
	const char *end;
	int ch, rc = 1;
	unsigned short port;

	memset(&srv, 0, sizeof(srv));
	srv.name = "backend";
	srv.idle_timeout_s = 60;
	srv.idle_close_ms = -1;
	while ((ch = getopt_long(argc, argv, "l:n:L:p:i:c:g:h", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'l':
			listen_arg = optarg;
			break;
		case 'n':
			srv.name = optarg;
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'i':
			if (parse_u64(optarg, 86400, &v, &end) == -1 ||
			    *end != '\0' || v == 0) {
				fprintf(stderr, "backend: bad --idle-timeout "
				    "'%s'\n", optarg);
				return 2;
			}
			srv.idle_timeout_s = (unsigned)v;
			break;
		case 'c':
			if (parse_u64(optarg, MAX_DELAY_MS, &v, &end) == -1 ||
			    *end != '\0') {
				fprintf(stderr, "backend: bad --idle-close "
				    "'%s'\n", optarg);
				return 2;
			}
			srv.idle_close_ms = (long)v;
			break;
		case 'g':
			return gen(optarg);
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (listen_arg == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (parse_listen(listen_arg, &ss, &sslen) == -1) {
		fprintf(stderr, "backend: bad --listen '%s'\n", listen_arg);
		return 2;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (log_path != NULL && (srv.logfp = fopen(log_path, "a")) == NULL) {
		fprintf(stderr, "backend: %s: %s\n", log_path, strerror(errno));
		return 1;
	}
	if ((srv.base = event_base_new()) == NULL)
		goto out;
	lst = evconnlistener_new_bind(srv.base, accept_cb, &srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    128, (struct sockaddr *)&ss, sslen);
	srv.lst = lst;
	if (lst == NULL) {
		fprintf(stderr, "backend: bind %s: %s\n", listen_arg,
		    strerror(errno));
		goto out;
	}
	sigterm = evsignal_new(srv.base, SIGTERM, signal_cb, &srv);
	sigint = evsignal_new(srv.base, SIGINT, signal_cb, &srv);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) ==
	    -1 || evsignal_add(sigint, NULL) == -1)
		goto out;
	if (pidfile != NULL) {
		FILE *fp = fopen(pidfile, "w");

		if (fp == NULL) {
			fprintf(stderr, "backend: %s: %s\n", pidfile,
			    strerror(errno));
			goto out;
		}
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	/* Report the port actually bound, so --listen 127.0.0.1:0 works. */
	alen = sizeof(ss);
	getsockname(evconnlistener_get_fd(lst), (struct sockaddr *)&ss, &alen);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		port = ntohs(s6->sin6_port);
		printf("listening on [%s]:%u\n", addr, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		port = ntohs(s4->sin_port);
		printf("listening on %s:%u\n", addr, port);
	}
	fflush(stdout);

	event_base_dispatch(srv.base);
	rc = 0;
	if (pidfile != NULL)
		unlink(pidfile);
out:
	while (srv.conns != NULL)
		conn_free(srv.conns);
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	if (srv.lst != NULL)
		evconnlistener_free(srv.lst);
	if (srv.drain_poll != NULL)
		event_free(srv.drain_poll);
	if (srv.base != NULL)
		event_base_free(srv.base);
	if (srv.logfp != NULL)
		fclose(srv.logfp);
	libevent_global_shutdown();
	return rc;
}
