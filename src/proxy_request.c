/*
 * proxy_request: request objects (a per-worker free list, so a request
 * costs no allocation), what a request keeps for its access-log line, and
 * the line itself. Part of the proxy module (proxy.h, proxy_int.h).
 */
#include "ac_config.h"
#include "proxy_int.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "balancer.h"
#include "config.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

/* --- objects -------------------------------------------------------- */

struct proxy_freelist *
proxy_freelist_new(void)
{
	return xcalloc(1, sizeof(struct proxy_freelist));
}

void
proxy_freelist_free(struct proxy_freelist *fl)
{
	struct request *r;

	if (fl == NULL)
		return;
	while ((r = fl->head) != NULL) {
		fl->head = r->next_free;
		if (r->hold != NULL)
			evbuffer_free(r->hold);
		free(r->alog);
		free(r);
	}
	free(fl);
}

struct request *
proxy_request_new(struct conn *c, const struct proxy_client *ops, void *sess)
{
	struct proxy_freelist *fl = c->w->requests;
	struct request *r = fl->head;
	struct evbuffer *hold = NULL;
	char *alog = NULL;
	size_t alog_cap = 0;

	if (r != NULL) {
		fl->head = r->next_free;
		fl->n--;
		hold = r->hold;
		alog = r->alog;
		alog_cap = r->alog_cap;
	} else {
		r = xmalloc(sizeof(*r));
	}
	memset(r, 0, sizeof(*r));
	r->magic = REQ_MAGIC;
	r->c = c;
	r->ops = ops;
	r->sess = sess;
	r->hold = hold;
	r->alog = alog;
	r->alog_cap = alog_cap;
	if (r->alog != NULL)
		r->alog[0] = '\0';
	r->alog_referer = r->alog_ua = 0;
	return r;
}

void
proxy_backend_release(struct request *r, bool reusable)
{
	struct server *s = r->server;

	if (r->counted_active && s != NULL) {
		metrics_count_server_done(s);
		r->counted_active = false;
	}
	if (r->bev == NULL)
		return;
	if (reusable && s != NULL && !r->c->w->stopping &&
	    evbuffer_get_length(bufferevent_get_input(r->bev)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(r->bev)) == 0)
		upstream_put(r->c->w->pool, s, r->bev);
	else
		bufferevent_free(r->bev);
	r->bev = NULL;
}

void
proxy_request_release(struct request *r)
{
	struct proxy_freelist *fl;

	if (r == NULL)
		return;
	REQ_CHECK(r);
	proxy_backend_release(r, false);
	fl = r->c->w->requests;
	r->magic = 0;
	if (fl->n >= FREELIST_MAX) {
		if (r->hold != NULL)
			evbuffer_free(r->hold);
		free(r->alog);
		free(r);
		return;
	}
	if (r->hold != NULL)
		evbuffer_drain(r->hold, evbuffer_get_length(r->hold));
	r->next_free = fl->head;
	fl->head = r;
	fl->n++;
}

void
proxy_request_clock(struct request *r)
{
	event_base_gettimeofday_cached(r->c->w->base, &r->t_start);
}

void
proxy_request_note(struct request *r, const struct http_msg *m)
{
	const struct http_header *h;
	const char *ref = "", *ua = "";
	size_t lref = 0, lua = 0, lline, need;

	if (!log_access_enabled())
		return;
	/* The request line: method, target and " HTTP/1.x". */
	lline = (size_t)(m->target + m->target_len - m->method) + 9;
	if ((h = http_find_header(m, "referer")) != NULL) {
		ref = h->value;
		lref = h->value_len;
	}
	if ((h = http_find_header(m, "user-agent")) != NULL) {
		ua = h->value;
		lua = h->value_len;
	}
	need = lline + lref + lua + 3;
	if (need > r->alog_cap) {
		r->alog = xrealloc(r->alog, need);
		r->alog_cap = need;
	}
	memcpy(r->alog, m->method, lline);
	r->alog[lline] = '\0';
	r->alog_referer = lline + 1;
	memcpy(r->alog + r->alog_referer, ref, lref);
	r->alog[r->alog_referer + lref] = '\0';
	r->alog_ua = r->alog_referer + lref + 1;
	memcpy(r->alog + r->alog_ua, ua, lua);
	r->alog[r->alog_ua + lua] = '\0';
}

double
proxy_tv_diff(const struct timeval *a, const struct timeval *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_usec - a->tv_usec) / 1e6;
}

void
proxy_request_log(struct request *r)
{
	struct conn *c = r->c;
	struct log_access_entry e;
	struct timeval now;
	struct peer_cert *pc;

	if (r->logged)
		return;
	r->logged = true;
	metrics_count_request(c->lsn, r->status);
	if (r->route != NULL)
		metrics_count_route(r->route);
	if (!log_access_enabled())
		return;
	event_base_gettimeofday_cached(c->w->base, &now);
	if (r->t_start.tv_sec == 0)
		r->t_start = now;
	pc = conn_peer(c);
	e.when = now.tv_sec;
	e.client_ip = c->client_ip;
	e.subject = pc != NULL ? pc->subject : NULL;
	e.line = r->alog != NULL ? r->alog : "";
	e.referer = r->alog != NULL ? r->alog + r->alog_referer : "";
	e.ua = r->alog != NULL ? r->alog + r->alog_ua : "";
	e.status = r->status;
	e.bytes = r->bytes_out;
	e.verify_prefix = "";
	if (c->verdict == TLS_PEER_NONE) {
		e.verify = "NONE";
	} else if (c->verdict == TLS_PEER_OK) {
		e.verify = "SUCCESS";
	} else {
		e.verify_prefix = "FAILED:";
		e.verify = tls_reason_class(pc);
	}
	e.server = r->server ? r->server->conf->name : NULL;
	e.upstream = r->server ? r->server->conf->addr.text : NULL;
	e.tls = c->ssl != NULL ? SSL_get_version(c->ssl) : "-";
	e.cipher = c->ssl != NULL ? SSL_get_cipher_name(c->ssl) : "-";
	e.resumed = c->ssl != NULL && SSL_session_reused(c->ssl) == 1;
	e.rt = proxy_tv_diff(&r->t_start, &now);
	e.urt = r->server && r->t_resp.tv_sec != 0 ?
	    proxy_tv_diff(&r->t_upstream, &r->t_resp) : -1;
	e.proxy = c->proxy_peer[0] != '\0' ? c->proxy_peer : NULL;
	e.listener = c->lsn->conf->name;
	e.route = r->route != NULL ? r->route->conf->name : NULL;
	e.sni = c->ssl != NULL ? SSL_get_servername(c->ssl,
	    TLSEXT_NAMETYPE_host_name) : NULL;
	log_access_entry(&e);
}

void
proxy_request_route(struct request *r, const struct lsn_route *route)
{
	REQ_CHECK(r);
	r->route = route;
}

void
proxy_local_response(struct request *r, int status, size_t bytes_out)
{
	REQ_CHECK(r);
	proxy_backend_release(r, false);
	r->status = status;
	/* Logged like nginx's $bytes_sent for a local page: all of it. */
	r->bytes_out = bytes_out;
	proxy_request_log(r);
}

void
proxy_request_end(struct request *r, int status_if_unsent)
{
	REQ_CHECK(r);
	proxy_backend_release(r, false);
	if (!r->logged) {
		if (!r->resp_head_done || r->status == 0)
			r->status = status_if_unsent;
		proxy_request_log(r);
	}
}

int
proxy_status(const struct request *r)
{
	return r->status;
}

bool
proxy_response_started(const struct request *r)
{
	return r->resp_head_done;
}

bool
proxy_logged(const struct request *r)
{
	return r->logged;
}

