/*
 * h2_stream: one HTTP/2 stream as one request (proxy.h): its header block
 * translated into the struct http_msg the proxy forwards as HTTP/1.1, its
 * body streamed up with flow control as backpressure (the window opens
 * only as the backend takes bytes), its response framed as DATA straight
 * from an evbuffer, and the struct proxy_client functions. Part of the h2
 * module (h2_int.h).
 */
#include "ac_config.h"
#include "h2_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "admit.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "proxy.h"
#include "util.h"

static const struct proxy_client h2_client;

/* --- stream objects ---------------------------------------------------- */

struct h2_stream *
h2_stream_new(struct h2 *h, int32_t id)
{
	struct h2_stream *s = h->spare;
	struct evbuffer *in = NULL, *out = NULL;

	/*
	 * After our GOAWAY nghttp2 ignores streams above its last stream id
	 * (the client retries them elsewhere): every stream that gets here
	 * is served, even while the worker stops.
	 */
	if (s != NULL) {
		h->spare = TAILQ_NEXT(s, link);
		h->nspare--;
		in = s->in;
		out = s->out;
	} else {
		s = xmalloc(sizeof(*s));
	}
	memset(s, 0, sizeof(*s));
	s->magic = H2S_MAGIC;
	s->h = h;
	s->id = id;
	s->in = in != NULL ? in : evbuffer_new();
	s->out = out != NULL ? out : evbuffer_new();
	if (s->in == NULL || s->out == NULL) {
		fprintf(stderr, "mtlslb: out of memory (HTTP/2 stream)\n");
		abort();
	}
	TAILQ_INSERT_TAIL(&h->open, s, link);
	h->nopen++;
	return s;
}

/* Back to the session's spares, or freed. */
static void
stream_put(struct h2 *h, struct h2_stream *s)
{
	proxy_request_release(s->r);
	s->r = NULL;
	evbuffer_drain(s->in, evbuffer_get_length(s->in));
	evbuffer_drain(s->out, evbuffer_get_length(s->out));
	s->magic = 0;
	if (h->nspare < H2_SPARE_MAX) {
		TAILQ_NEXT(s, link) = h->spare;
		h->spare = s;
		h->nspare++;
		return;
	}
	evbuffer_free(s->in);
	evbuffer_free(s->out);
	free(s);
}

/* The access-log line of a stream that ends without its response. */
static void
stream_end(struct h2_stream *s)
{
	if (s->r != NULL && !proxy_logged(s->r))
		proxy_request_end(s->r, s->end_status ? s->end_status : 499);
}

void
h2_stream_closed(struct h2_stream *s, uint32_t error_code)
{
	struct h2 *h = s->h;

	H2S_CHECK(s);
	s->closed = true;
	if (error_code != NGHTTP2_NO_ERROR && s->end_status == 0)
		s->end_status = 499;
	TAILQ_REMOVE(&h->open, s, link);
	h->nopen--;
	TAILQ_INSERT_TAIL(&h->done, s, link);
	/* its request may be on the stack: it ends from the loop */
	h2_later(h);
}

void
h2_stream_reap(struct h2 *h)
{
	struct h2_stream *s;

	while ((s = TAILQ_FIRST(&h->done)) != NULL) {
		TAILQ_REMOVE(&h->done, s, link);
		if (s->r != NULL && !proxy_logged(s->r))
			stream_end(s);
		stream_put(h, s);
	}
}

void
h2_stream_end_all(struct h2 *h)
{
	struct h2_stream *s;

	TAILQ_FOREACH(s, &h->open, link)
		if (s->r != NULL && !proxy_logged(s->r)) {
			if (s->end_status == 0 && !s->body_done &&
			    h->c->closed)
				s->end_status = 499;
			stream_end(s);
		}
	TAILQ_FOREACH(s, &h->done, link)
		if (s->r != NULL && !proxy_logged(s->r))
			stream_end(s);
}

void
h2_stream_free_all(struct h2 *h)
{
	struct h2_stream *s;

	while ((s = TAILQ_FIRST(&h->open)) != NULL) {
		TAILQ_REMOVE(&h->open, s, link);
		stream_put(h, s);
	}
	while ((s = TAILQ_FIRST(&h->done)) != NULL) {
		TAILQ_REMOVE(&h->done, s, link);
		stream_put(h, s);
	}
	while ((s = h->spare) != NULL) {
		h->spare = TAILQ_NEXT(s, link);
		evbuffer_free(s->in);
		evbuffer_free(s->out);
		free(s);
	}
	h->nspare = 0;
}

bool
h2_stream_stalled(struct h2 *h)
{
	struct h2_stream *s;

	TAILQ_FOREACH(s, &h->open, link) {
		if (s->dead)
			continue;
		/* waiting for request body, or for the client's window */
		if ((!s->body_done && !s->answered && !s->paused) ||
		    evbuffer_get_length(s->out) > 0)
			return true;
	}
	return false;
}

/* --- the request head ---------------------------------------------------- */

/* Appends n bytes to the session's header block buffer. */
static void
hb_put(struct h2 *h, const void *p, size_t n)
{
	if (h->hb_len + n > h->hb_cap) {
		size_t cap = h->hb_cap ? h->hb_cap : 1024;

		while (cap < h->hb_len + n)
			cap *= 2;
		h->hb = xrealloc(h->hb, cap);
		h->hb_cap = cap;
	}
	memcpy(h->hb + h->hb_len, p, n);
	h->hb_len += n;
}

/*
 * A field as [name_len][value_len][name][value] (lengths as uint32_t):
 * pointers are made only once the block is complete, as the buffer may
 * move while it grows.
 */
static void
hb_field(struct h2 *h, const void *n, size_t nl, const void *v, size_t vl)
{
	uint32_t l[2] = { (uint32_t)nl, (uint32_t)vl };

	hb_put(h, l, sizeof(l));
	hb_put(h, n, nl);
	hb_put(h, v, vl);
}

int
h2_stream_header(struct h2_stream *s, const nghttp2_frame *f,
    const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen)
{
	struct h2 *h = s->h;
	const struct listener_conf *lc = h->c->lsn->conf;

	(void)f;
	if (s->too_big)
		return 0;
	/* RFC 9113 6.5.2: the size of a field is its name, value and 32 */
	h->hb_list += nlen + vlen + 32;
	if (h->hb_list > lc->http2_max_header_list_size) {
		s->too_big = true;
		return 0;
	}
	hb_field(h, name, nlen, value, vlen);
	return 0;
}

static bool
name_is(const char *n, size_t nl, const char *lit)
{
	return strlen(lit) == nl && memcmp(n, lit, nl) == 0;
}

/*
 * Builds m from the session's header block: pseudo-headers to the request
 * line and Host, cookies rejoined with "; ", a synthetic
 * Transfer-Encoding: chunked for a body of unknown length. Returns 0, an
 * HTTP status for a local answer, or -1 for a stream PROTOCOL_ERROR.
 */
static int
build_msg(struct h2_stream *s, bool end_stream, struct http_msg *m)
{
	struct h2 *h = s->h;
	struct conn_worker *w = h->c->w;
	struct http_header *hd = w->hdrs;
	size_t off, end = h->hb_len, nh = 0, ncookie = 0;
	size_t meth = 0, methl = 0, path = 0, pathl = 0, auth = 0, authl = 0;
	size_t host = 0, hostl = 0, cookie_start, line, cl = 0, cll = 0;
	bool has_auth = false, has_host = false, has_cl = false, first;
	uint32_t l[2];
	uint64_t v;
	size_t i;

	/* the pseudo-headers (nghttp2 checked them) and a count */
	for (off = 0; off < end; off += sizeof(l) + l[0] + l[1]) {
		const char *n;

		memcpy(l, h->hb + off, sizeof(l));
		n = h->hb + off + sizeof(l);
		if (name_is(n, l[0], ":method")) {
			meth = off + sizeof(l) + l[0];
			methl = l[1];
		} else if (name_is(n, l[0], ":path")) {
			path = off + sizeof(l) + l[0];
			pathl = l[1];
		} else if (name_is(n, l[0], ":authority")) {
			auth = off + sizeof(l) + l[0];
			authl = l[1];
			has_auth = true;
		} else if (name_is(n, l[0], "host")) {
			if (has_host)
				return 400;
			host = off + sizeof(l) + l[0];
			hostl = l[1];
			has_host = true;
		} else if (name_is(n, l[0], "cookie")) {
			ncookie++;
		} else if (name_is(n, l[0], "content-length")) {
			cl = off + sizeof(l) + l[0];
			cll = l[1];
			has_cl = true;
		}
	}
	/* RFC 9113 8.3.1: a Host unlike :authority is malformed */
	if (has_auth && has_host && (authl != hostl ||
	    strncasecmp(h->hb + auth, h->hb + host, authl) != 0))
		return -1;
	if (!has_auth && has_host) {
		auth = host;
		authl = hostl;
		has_auth = true;
	}
	if (!has_auth || authl == 0)
		return 400;
	/* the cookies as one field (RFC 9113 8.2.3) */
	cookie_start = h->hb_len;
	if (ncookie > 1) {
		uint32_t z[2] = { 6, 0 };

		hb_put(h, z, sizeof(z));
		hb_put(h, "cookie", 6);
		first = true;
		for (off = 0; off < end; off += sizeof(l) + l[0] + l[1]) {
			memcpy(l, h->hb + off, sizeof(l));
			if (!name_is(h->hb + off + sizeof(l), l[0], "cookie"))
				continue;
			if (!first)
				hb_put(h, "; ", 2);
			first = false;
			hb_put(h, h->hb + off + sizeof(l) + l[0], l[1]);
		}
		z[1] = (uint32_t)(h->hb_len - cookie_start - sizeof(z) - 6);
		memcpy(h->hb + cookie_start, z, sizeof(z));
	}
	/* the access log's request line: "METHOD PATH HTTP/2.0" */
	line = h->hb_len;
	hb_put(h, h->hb + meth, methl);
	hb_put(h, " ", 1);
	hb_put(h, h->hb + path, pathl);
	hb_put(h, " HTTP/2.0", 9);

	memset(m, 0, sizeof(*m));
	m->method = h->hb + line;
	m->method_len = methl;
	m->target = m->path = h->hb + line + methl + 1;
	m->target_len = m->path_len = pathl;
	m->authority = h->hb + auth;
	m->authority_len = authl;
	m->version = 11;
	m->keep_alive = true;
	m->is_head = name_is(m->method, methl, "HEAD");
	for (off = 0; off <= end; off += sizeof(l) + l[0] + l[1]) {
		const char *n;

		if (off == end) {
			/* after the block: the rejoined cookie, if any */
			if (ncookie < 2)
				break;
			off = cookie_start;
			end = cookie_start;
		}
		memcpy(l, h->hb + off, sizeof(l));
		n = h->hb + off + sizeof(l);
		if (l[0] > 0 && n[0] == ':')
			continue;
		if (off != cookie_start && ncookie > 1 &&
		    name_is(n, l[0], "cookie"))
			continue;
		/* Host goes as the authority; nghttp2 refused hop-by-hop */
		if (name_is(n, l[0], "host") || name_is(n, l[0], "te"))
			continue;
		if (nh + 1 >= w->hdrs_cap)
			return 431;
		hd[nh].name = n;
		hd[nh].name_len = l[0];
		hd[nh].value = n + l[0];
		hd[nh].value_len = l[1];
		nh++;
	}
	if (has_cl) {
		v = 0;
		if (cll == 0 || cll > 19)
			return 400;
		for (i = 0; i < cll; i++) {
			char ch = h->hb[cl + i];

			if (ch < '0' || ch > '9')
				return 400;
			v = v * 10 + (uint64_t)(ch - '0');
		}
		m->has_content_length = true;
		m->content_length = v;
	}
	if (end_stream)
		m->body = HTTP_BODY_NONE;
	else if (has_cl)
		m->body = v > 0 ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else {
		/* no length: the backend gets it chunked */
		m->body = HTTP_BODY_CHUNKED;
		s->chunked = true;
		hd[nh].name = "Transfer-Encoding";
		hd[nh].name_len = 17;
		hd[nh].value = "chunked";
		hd[nh].value_len = 7;
		nh++;
	}
	m->hdr = hd;
	m->nhdr = nh;
	m->head_len = h->hb_len;
	return 0;
}

/* --- answering ------------------------------------------------------------ */

/* Resets s: ops then return CONN_CLOSED. */
static int
stream_reset(struct h2_stream *s, uint32_t code)
{
	s->dead = true;
	(void)nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE, s->id,
	    code);
	(void)h2_flush(s->h);
	return CONN_CLOSED;
}

static const nghttp2_data_provider *
provider(struct h2_stream *s, nghttp2_data_provider *prd)
{
	prd->source.ptr = s;
	prd->read_callback = h2_stream_read;
	return prd;
}

/*
 * Answers s with a local page (nginx's, as HTTP/1.1 clients get it) as
 * an HTTP/2 response. Returns CONN_OK or CONN_CLOSED.
 */
static int
answer(struct h2_stream *s, int status, const char *detail)
{
	struct h2 *h = s->h;
	struct evbuffer_ptr p;
	nghttp2_data_provider prd;
	nghttp2_nv nv[3];
	char st[8], len[24];
	size_t n;

	if (s->answered || (s->r != NULL && proxy_response_started(s->r)))
		return stream_reset(s, NGHTTP2_INTERNAL_ERROR);
	evbuffer_drain(s->out, evbuffer_get_length(s->out));
	http_write_error(s->out, status, detail, false);
	/* the page's body: the head is for HTTP/1 */
	p = evbuffer_search(s->out, "\r\n\r\n", 4, NULL);
	if (p.pos >= 0)
		evbuffer_drain(s->out, (size_t)p.pos + 4);
	n = evbuffer_get_length(s->out);
	snprintf(st, sizeof(st), "%03u", (unsigned)status % 1000u);
	snprintf(len, sizeof(len), "%zu", n);
	nv[0] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)st, 7, 3,
	    NGHTTP2_NV_FLAG_NONE };
	nv[1] = (nghttp2_nv){ (uint8_t *)"content-type",
	    (uint8_t *)"text/html", 12, 9, NGHTTP2_NV_FLAG_NONE };
	nv[2] = (nghttp2_nv){ (uint8_t *)"content-length", (uint8_t *)len,
	    14, strlen(len), NGHTTP2_NV_FLAG_NONE };
	s->answered = true;
	s->local = true;
	s->resp_done = true;
	if (s->r != NULL)
		proxy_local_response(s->r, status, n);
	if (nghttp2_submit_response(h->ng, s->id, nv, 3,
	    provider(s, &prd)) != 0)
		return stream_reset(s, NGHTTP2_INTERNAL_ERROR);
	return h2_flush(h);
}

int
h2_stream_head_done(struct h2_stream *s, bool end_stream)
{
	struct h2 *h = s->h;
	struct conn *c = h->c;
	const struct listener_conf *lc = c->lsn->conf;
	struct http_msg m;
	struct proxy_args a;
	struct admit adm;
	int status;

	H2S_CHECK(s);
	s->body_done = end_stream;
	s->r = proxy_request_new(c, &h2_client, s);
	proxy_request_clock(s->r);
	/* the last stream: keepalive_requests, or a stopping worker (a
	 * connection that was still in its handshake when the stop came) */
	if (lc->keepalive_requests != 0 &&
	    h->nrequests >= lc->keepalive_requests)
		h2_goaway(h);
	else if (c->w->stopping)
		h2_drain(h);
	status = build_msg(s, end_stream, &m);
	if (s->too_big) {
		log_msg(LL_INFO, "listener %s: %s:%u: HTTP/2 header list over "
		    "http2_max_header_list_size", lc->name, c->client_ip,
		    c->client_port);
		/* what was kept of it names the request in the log */
		if (status == 0)
			proxy_request_note(s->r, &m);
		status = 431;
	}
	if (status < 0) {
		log_msg(LL_INFO, "listener %s: %s:%u: HTTP/2 request with a "
		    "Host other than its :authority", lc->name, c->client_ip,
		    c->client_port);
		s->end_status = 400;
		(void)stream_reset(s, NGHTTP2_PROTOCOL_ERROR);
		return c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	}
	adm.detail = NULL;
	adm.route = NULL;
	if (status == 0) {
		proxy_request_note(s->r, &m);
		status = admit_request(c, &m, &adm);
		/* the route names the request in the log, even refused */
		proxy_request_route(s->r, adm.route);
	}
	if (status != 0) {
		(void)answer(s, status, adm.detail);
		return c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	}
	a.m = &m;
	a.dechunk = true;		/* HTTP/2 frames its own bodies */
	a.route = adm.route;
	proxy_prepare(s->r, &a);
	s->started = true;
	h2_progress(h);
	(void)proxy_run(s->r);
	return c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

int
h2_stream_data(struct h2_stream *s, const uint8_t *p, size_t len)
{
	struct h2 *h = s->h;
	const struct listener_conf *lc = h->c->lsn->conf;

	H2S_CHECK(s);
	h2_progress(h);
	s->body_bytes += len;
	if (lc->max_request_body_size != 0 &&
	    s->body_bytes > lc->max_request_body_size) {
		(void)nghttp2_session_consume(h->ng, s->id, len);
		(void)answer(s, 413, NULL);
		return h->c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
	}
	evbuffer_add(s->in, p, len);
	if (s->started && !s->paused)
		(void)proxy_upload_more(s->r);
	return h->c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

int
h2_stream_end(struct h2_stream *s)
{
	struct h2 *h = s->h;

	H2S_CHECK(s);
	s->body_done = true;
	if (s->started && !s->paused && !s->answered && !s->dead)
		(void)proxy_upload_more(s->r);
	return h->c->closed ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

void
h2_stream_sent(struct h2_stream *s, const nghttp2_frame *f)
{
	(void)f;
	/*
	 * The response is complete while the client is still sending:
	 * RFC 9113 8.1 lets it stop (RST_STREAM NO_ERROR).
	 */
	if (!s->body_done && !s->dead) {
		s->dead = true;
		(void)nghttp2_submit_rst_stream(s->h->ng, NGHTTP2_FLAG_NONE,
		    s->id, NGHTTP2_NO_ERROR);
	}
}

/* --- the response body ------------------------------------------------ */

ssize_t
h2_stream_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len,
    uint32_t *flags, nghttp2_data_source *src, void *ud)
{
	struct h2_stream *s = src->ptr;
	size_t n = evbuffer_get_length(s->out);

	(void)ng;
	(void)id;
	(void)buf;
	(void)ud;
	H2S_CHECK(s);
	if (n == 0) {
		if (s->resp_done) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		}
		s->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > len)
		n = len;
	*flags |= NGHTTP2_DATA_FLAG_NO_COPY;
	if (s->resp_done && n == evbuffer_get_length(s->out))
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)n;
}

int
h2_stream_send_data(nghttp2_session *ng, nghttp2_frame *f,
    const uint8_t *framehd, size_t len, nghttp2_data_source *src, void *ud)
{
	struct h2 *h = ud;
	struct h2_stream *s = src->ptr;
	struct evbuffer *out;
	uint8_t pad = 0;

	(void)ng;
	H2S_CHECK(s);
	if (h->c->closed)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	/* staged with the other frames of this send (see h2_flush) */
	out = h->c->w->scratch;
	if (h2_out_full(h))
		return NGHTTP2_ERR_WOULDBLOCK;
	evbuffer_add(out, framehd, 9);
	if (f->data.padlen > 0) {
		pad = (uint8_t)(f->data.padlen - 1);
		evbuffer_add(out, &pad, 1);
	}
	/* the body's chains move; no copy */
	evbuffer_remove_buffer(s->out, out, len);
	if (f->data.padlen > 1) {
		static const uint8_t zero[256];

		evbuffer_add(out, zero, f->data.padlen - 1);
	}
	h2_progress(h);
	if (s->r != NULL && evbuffer_get_length(s->out) < H2_OUT_HIGH / 2)
		(void)proxy_client_drained(s->r);
	return 0;
}

/* --- the request's view of this stream (struct proxy_client) ------------ */

/* Hop-by-hop fields of an HTTP/1.1 response: HTTP/2 forbids them. */
static bool
hop_by_hop(const char *n, size_t l)
{
	return http_token_eq(n, l, "connection") ||
	    http_token_eq(n, l, "keep-alive") ||
	    http_token_eq(n, l, "proxy-connection") ||
	    http_token_eq(n, l, "transfer-encoding") ||
	    http_token_eq(n, l, "upgrade") || http_token_eq(n, l, "te") ||
	    http_token_eq(n, l, "trailer") ||
	    http_token_eq(n, l, "http2-settings");
}

static int
op_head(void *sess, const struct http_msg *m)
{
	struct h2_stream *s = sess;
	struct h2 *h = s->h;
	nghttp2_data_provider prd;
	size_t i, n = 0, need = 0, at = 0, k;
	char st[8];
	int rv;

	H2S_CHECK(s);
	if (s->dead || s->closed || h->c->closed)
		return CONN_CLOSED;
	snprintf(st, sizeof(st), "%03u", (unsigned)m->status % 1000u);
	if (h->nv_cap < m->nhdr + 1) {
		h->nv_cap = m->nhdr + 1;
		h->nv = xrealloc(h->nv, h->nv_cap * sizeof(*h->nv));
	}
	for (i = 0; i < m->nhdr; i++)
		need += m->hdr[i].name_len;
	if (h->nvbuf_cap < need + 1) {
		h->nvbuf_cap = need + 1;
		h->nvbuf = xrealloc(h->nvbuf, h->nvbuf_cap);
	}
	h->nv[n++] = (nghttp2_nv){ (uint8_t *)":status", (uint8_t *)st, 7, 3,
	    NGHTTP2_NV_FLAG_NONE };
	for (i = 0; i < m->nhdr; i++) {
		const struct http_header *f = &m->hdr[i];

		if (hop_by_hop(f->name, f->name_len))
			continue;
		/* HTTP/2 field names are lower case (RFC 9113 8.2.1) */
		for (k = 0; k < f->name_len; k++) {
			char ch = f->name[k];

			h->nvbuf[at + k] = ch >= 'A' && ch <= 'Z' ?
			    (char)(ch - 'A' + 'a') : ch;
		}
		h->nv[n++] = (nghttp2_nv){ (uint8_t *)h->nvbuf + at,
		    (uint8_t *)f->value, f->name_len, f->value_len,
		    NGHTTP2_NV_FLAG_NONE };
		at += f->name_len;
	}
	if (m->status < 200) {
		/* 1xx (never 101: no upgrade comes over HTTP/2) */
		rv = nghttp2_submit_headers(h->ng, NGHTTP2_FLAG_NONE, s->id,
		    NULL, h->nv, 1, NULL);
		return rv == 0 ? CONN_OK : stream_reset(s,
		    NGHTTP2_INTERNAL_ERROR);
	}
	s->answered = true;
	if (m->body == HTTP_BODY_NONE)
		s->resp_done = true;
	rv = nghttp2_submit_response(h->ng, s->id, h->nv, n,
	    m->body == HTTP_BODY_NONE ? NULL : provider(s, &prd));
	if (rv != 0)
		return stream_reset(s, NGHTTP2_INTERNAL_ERROR);
	return CONN_OK;
}

static struct evbuffer *
op_body_out(void *sess)
{
	struct h2_stream *s = sess;

	return s->out;
}

static int
op_body_flush(void *sess)
{
	struct h2_stream *s = sess;
	struct h2 *h = s->h;

	H2S_CHECK(s);
	if (s->dead || s->closed || h->c->closed)
		return CONN_CLOSED;
	if (s->deferred && (evbuffer_get_length(s->out) > 0 ||
	    s->resp_done)) {
		s->deferred = false;
		(void)nghttp2_session_resume_data(h->ng, s->id);
	}
	/*
	 * Framed from the loop, after what the backend's read brought is
	 * all relayed: a response that ends in the same read goes out with
	 * END_STREAM on its last DATA frame, in the same TLS record as its
	 * HEADERS, instead of an empty DATA frame later. (A client that
	 * counts the body by content-length, as curl does, resets a stream
	 * still open when it is done.)
	 */
	h2_later(h);
	return CONN_OK;
}

static int
op_done(void *sess)
{
	struct h2_stream *s = sess;

	H2S_CHECK(s);
	s->resp_done = true;
	return op_body_flush(sess);
}

static int
op_error(void *sess, int status)
{
	struct h2_stream *s = sess;

	H2S_CHECK(s);
	if (s->dead || s->closed || s->h->c->closed)
		return CONN_CLOSED;
	return answer(s, status, NULL) < 0 ? CONN_CLOSED : CONN_OK;
}

static int
op_abort(void *sess, const char *why)
{
	struct h2_stream *s = sess;
	struct conn *c = s->h->c;

	H2S_CHECK(s);
	if (log_enabled(LL_DEBUG))
		log_msg(LL_DEBUG, "conn=%llu stream=%d: reset: %s",
		    (unsigned long long)c->id, s->id, why);
	if (s->dead || s->closed || c->closed)
		return CONN_CLOSED;
	return stream_reset(s, NGHTTP2_INTERNAL_ERROR);
}

static int
op_tunnel(void *sess)
{
	return op_abort(sess, "no tunnel over HTTP/2");
}

static int
op_upload(void *sess, struct evbuffer *dst, bool *done)
{
	struct h2_stream *s = sess;
	struct h2 *h = s->h;
	size_t n = evbuffer_get_length(s->in);
	char sz[24];
	int k;

	H2S_CHECK(s);
	if (n > 0) {
		if (s->chunked) {
			k = snprintf(sz, sizeof(sz), "%zx\r\n", n);
			evbuffer_add(dst, sz, (size_t)k);
		}
		evbuffer_add_buffer(dst, s->in);
		if (s->chunked)
			evbuffer_add(dst, "\r\n", 2);
		/* the backend took it: the client may send as much again */
		(void)nghttp2_session_consume(h->ng, s->id, n);
		h2_later(h);
	}
	if (s->body_done && !s->body_sent) {
		s->body_sent = true;
		if (s->chunked)
			evbuffer_add(dst, "0\r\n\r\n", 5);
	}
	*done = s->body_sent;
	return 0;
}

static void
op_pause(void *sess, bool paused)
{
	struct h2_stream *s = sess;

	s->paused = paused;
}

static const struct proxy_client h2_client = {
	.head = op_head,
	.body_out = op_body_out,
	.body_flush = op_body_flush,
	.done = op_done,
	.error = op_error,
	.abort = op_abort,
	.tunnel = op_tunnel,
	.upload = op_upload,
	.pause = op_pause,
};
