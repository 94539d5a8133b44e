/*
 * admin: evhttp is enough here (small requests without bodies, never on
 * the proxy data path). The endpoint runs in the master, which owns no
 * client traffic, so a slow scrape cannot delay a request. GET only
 * reads; the one thing a POST may change is a server's administrative
 * state in shared memory, and only for a peer allowed to (see may_post).
 */
#include "ac_config.h"
#include "admin.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "admin_page.h"
#include "balancer.h"
#include "config.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "status.h"
#include "tls.h"
#include "tls_peer.h"
#include "util.h"

/* Longest GROUP or NAME in a /servers/GROUP/NAME/VERB path. */
#define ADMIN_NAME_MAX	128
/* A 403 line naming a client certificate's subject. */
#define PEER_LINE_MAX	1200

struct admin {
	struct evhttp *http;
	const struct runtime *rt;
	long started;
	const struct status_reloads *reloads;	/* the master's */
	const char *stopping;	/* why /ready fails, or NULL (static) */
};

/* Who sent a request: for the permission checks and the log line. */
struct peer {
	char addr[64];		/* "127.0.0.1:40112", "[::1]:40112" */
	bool loopback;
	char *subject;		/* verified client cert, RFC 2253 */
};

static bool
is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const void *)sa;
	const struct sockaddr_in6 *sin6 = (const void *)sa;

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family != AF_INET6)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
		return true;
	return IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    sin6->sin6_addr.s6_addr[12] == 127;
}

/* Fills *p for req; p->subject is the caller's to free. */
static void
peer_of(struct evhttp_request *req, struct peer *p)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	char *host = NULL;
	ev_uint16_t port = 0;
	SSL *ssl;
	X509 *x;

	memset(p, 0, sizeof(*p));
	if (evcon == NULL) {
		snprintf(p->addr, sizeof(p->addr), "?");
		return;
	}
	evhttp_connection_get_peer(evcon, &host, &port);
	snprintf(p->addr, sizeof(p->addr), strchr(host ? host : "", ':') ?
	    "[%s]:%u" : "%s:%u", host ? host : "?", (unsigned)port);
	p->loopback = is_loopback(evhttp_connection_get_addr(evcon));
	if ((bev = evhttp_connection_get_bufferevent(evcon)) == NULL ||
	    (ssl = bufferevent_openssl_get_ssl(bev)) == NULL)
		return;
	/* ca_certificate: the handshake failed unless this verified */
	if ((x = SSL_get0_peer_certificate(ssl)) != NULL &&
	    SSL_get_verify_result(ssl) == X509_V_OK)
		p->subject = tls_peer_name(X509_get_subject_name(x));
}

/* Sends a short text/plain answer: status, reason and one line. */
static void
reply_text(struct evhttp_request *req, int code, const char *reason,
    const char *line)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (out == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(out, "%s\n", line);
	evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
	/* the line may quote the request's path: never sniff it as HTML */
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/*
 * With allow, a client certificate whose subject is not listed may do
 * nothing at all (403), GET included.
 */
static bool
allowed(const struct config *cfg, const struct peer *p)
{
	size_t i;

	if (cfg->nadmin_allow == 0)
		return true;
	for (i = 0; p->subject != NULL && i < cfg->nadmin_allow; i++)
		if (strcmp(p->subject, cfg->admin_allow[i]) == 0)
			return true;
	return false;
}

const char *
admin_post_refusal(const struct config *cfg, bool loopback, bool verified)
{
	if (loopback || verified)
		return NULL;
	if (cfg->admin_server_certificate != NULL)
		return "changes need a client certificate (set ca_certificate "
		    "in [admin]) or a loopback peer";
	return "changes need TLS with a client certificate (set "
	    "server_certificate, server_private_key and ca_certificate in "
	    "[admin]) or a loopback peer";
}

/*
 * A browser sends Origin with every POST; one naming another site is a
 * cross-site request forgery (a page the operator has open posting to
 * the console with their certificate or from their loopback). curl sends
 * none. Returns true when the request may go on.
 */
static bool
same_origin(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const char *origin = evhttp_find_header(in, "Origin");
	const char *host = evhttp_find_header(in, "Host");
	const char *rest;

	if (origin == NULL)
		return true;
	if (host == NULL)
		return false;
	if (strncmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else if (strncmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else
		return false;
	return strcasecmp(rest, host) == 0;
}

/*
 * Splits "/servers/GROUP/NAME/VERB" into its three parts (each at most
 * ADMIN_NAME_MAX - 1 bytes, none empty). Returns 0, or -1 when path has
 * another shape.
 */
static int
split_servers_path(const char *path, char group[ADMIN_NAME_MAX],
    char name[ADMIN_NAME_MAX], char verb[ADMIN_NAME_MAX])
{
	char *parts[3] = { group, name, verb };
	const char *p, *end;
	size_t i, n;

	if (strncmp(path, "/servers/", 9) != 0)
		return -1;
	p = path + 9;
	for (i = 0; i < 3; i++) {
		end = strchr(p, '/');
		if (i < 2 && end == NULL)
			return -1;
		if (i == 2 && end != NULL)
			return -1;
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 0 || n >= ADMIN_NAME_MAX)
			return -1;
		memcpy(parts[i], p, n);
		parts[i][n] = '\0';
		p = end != NULL ? end + 1 : p + n;
	}
	return 0;
}

/* True when the request's Accept names text/html: a browser's form. */
static bool
wants_html(struct evhttp_request *req)
{
	const char *acc = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept");

	return acc != NULL && strstr(acc, "text/html") != NULL;
}

/* POST /servers/GROUP/NAME/VERB: sets a server's administrative state. */
static void
servers_post(struct admin *a, struct evhttp_request *req, const char *path,
    const struct peer *p)
{
	char group[ADMIN_NAME_MAX], name[ADMIN_NAME_MAX], verb[ADMIN_NAME_MAX];
	char line[512];
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out;
	enum balancer_admin want, was;
	const char *why;
	struct group *g;
	struct server *s;

	if (split_servers_path(path, group, name, verb) == -1) {
		reply_text(req, 404, "Not Found", "not found: POST "
		    "/servers/GROUP/NAME/drain, enable or disable");
		return;
	}
	if ((why = admin_post_refusal(a->rt->cfg, p->loopback,
	    p->subject != NULL)) != NULL) {
		snprintf(line, sizeof(line), "forbidden: %s", why);
		reply_text(req, 403, "Forbidden", line);
		return;
	}
	if (!same_origin(req)) {
		reply_text(req, 403, "Forbidden", "forbidden: the Origin of "
		    "this POST is another site");
		return;
	}
	if ((g = balancer_group(a->rt->bal, group)) == NULL) {
		snprintf(line, sizeof(line), "not found: no server_group '%s'",
		    group);
		reply_text(req, 404, "Not Found", line);
		return;
	}
	if ((s = group_server_named(g, name)) == NULL) {
		snprintf(line, sizeof(line), "not found: no server '%s' in "
		    "server_group '%s'", name, group);
		reply_text(req, 404, "Not Found", line);
		return;
	}
	if (balancer_admin_verb(verb, &want) == -1) {
		snprintf(line, sizeof(line), "bad request: unknown verb '%s' "
		    "(use drain, enable or disable)", verb);
		reply_text(req, 400, "Bad Request", line);
		return;
	}
	was = balancer_set_admin(s, want);
	log_msg(LL_INFO, "admin: server_group %s: server %s %s: %s -> %s "
	    "(%s by %s%s%s)", group, name, s->conf->addr.text,
	    balancer_admin_name(was), balancer_admin_name(want), verb, p->addr,
	    p->subject != NULL ? ", client certificate " : "",
	    p->subject != NULL ? p->subject : "");
	if (wants_html(req)) {
		/* back to the page, which now shows the new state */
		evhttp_add_header(h, "Location", "/");
		reply_text(req, 303, "See Other", "see /");
		return;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(out, "{\"server_group\":\"%s\",\"server\":"
	    "\"%s\",\"admin_state\":\"%s\",\"previous\":\"%s\"}\n", group,
	    name, balancer_admin_name(want), balancer_admin_name(was));
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

/*
 * The L4 tier's question "may I send new connections here?": no while a
 * graceful stop has begun, nor while a listener's server group has no
 * server to send a request to (the clients would get 502s that another
 * instance might not give). Returns NULL for yes, else why, in buf.
 */
static const char *
not_ready(const struct admin *a, char *buf, size_t len)
{
	const struct runtime *rt = a->rt;
	size_t i;

	if (a->stopping != NULL) {
		snprintf(buf, len, "not ready: %s", a->stopping);
		return buf;
	}
	for (i = 0; i < rt->nlsns; i++) {
		const struct lsn *l = &rt->lsns[i];

		if (l->group == NULL || group_any_up(l->group))
			continue;
		snprintf(buf, len, "not ready: listener %s: no healthy server "
		    "in server_group %s", l->conf->name,
		    group_conf(l->group)->name);
		return buf;
	}
	return NULL;
}

/* GET /ready: 200 "ready", or 503 and one line saying why not. */
static void
ready_get(struct admin *a, struct evhttp_request *req)
{
	char line[512];

	if (not_ready(a, line, sizeof(line)) != NULL)
		reply_text(req, 503, "Service Unavailable", line);
	else
		reply_text(req, 200, "OK", "ready");
}

static void
request_cb(struct evhttp_request *req, void *arg)
{
	struct admin *a = arg;
	struct evbuffer *out = NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct status *st = NULL;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req));
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	bool servers;
	struct peer p;

	if (path == NULL)
		path = "";
	servers = strncmp(path, "/servers/", 9) == 0;
	peer_of(req, &p);
	/*
	 * An L4 balancer's probe carries no client certificate an allow
	 * list would name (keepalived's cannot send one): /ready and /live
	 * answer whoever completed the handshake, and tell only one bit.
	 */
	if ((cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) &&
	    (strcmp(path, "/ready") == 0 || strcmp(path, "/live") == 0)) {
		if (path[1] == 'r')
			ready_get(a, req);
		else
			reply_text(req, 200, "OK", "live");
		goto out;
	}
	if (!allowed(a->rt->cfg, &p)) {
		char line[PEER_LINE_MAX];

		snprintf(line, sizeof(line), "forbidden: client certificate "
		    "'%s' is not in [admin] allow", p.subject ? p.subject :
		    "(none)");
		reply_text(req, 403, "Forbidden", line);
		goto out;
	}
	if (servers && cmd == EVHTTP_REQ_POST) {
		servers_post(a, req, path, &p);
		goto out;
	}
	if (servers || (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)) {
		evhttp_add_header(h, "Allow", servers ? "POST" : "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed", servers ?
		    "method not allowed: /servers/GROUP/NAME/VERB takes POST" :
		    "method not allowed: use GET");
		goto out;
	}
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		goto out;
	}
	if (strcmp(path, "/") == 0) {
		struct admin_page_viewer v;

		v.addr = p.addr;
		v.subject = p.subject;
		v.post_refusal = admin_post_refusal(a->rt->cfg, p.loopback,
		    p.subject != NULL);
		st = status_build(a->rt, a->started, a->reloads);
		admin_page_render(out, st, &v);
		evhttp_add_header(h, "Content-Type",
		    "text/html; charset=utf-8");
		/*
		 * No script, no external resource, no framing (the buttons
		 * must not be clickable from inside another site's page).
		 */
		evhttp_add_header(h, "Content-Security-Policy", "default-src "
		    "'none'; style-src 'unsafe-inline'; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'");
		evhttp_add_header(h, "X-Frame-Options", "DENY");
		evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	} else if (strcmp(path, "/metrics") == 0) {
		char line[512];

		metrics_render(out, a->rt, a->started);
		/* what /ready says, so that sum(mtlslb_ready) counts a fleet */
		evbuffer_add_printf(out, "# HELP mtlslb_ready 1 when GET "
		    "/ready answers 200, 0 when it answers 503.\n"
		    "# TYPE mtlslb_ready gauge\nmtlslb_ready %d\n",
		    not_ready(a, line, sizeof(line)) == NULL);
		evhttp_add_header(h, "Content-Type",
		    "text/plain; version=0.0.4; charset=utf-8");
	} else if (strcmp(path, "/status") == 0) {
		st = status_build(a->rt, a->started, a->reloads);
		metrics_status_json(out, st);
		evhttp_add_header(h, "Content-Type", "application/json");
	} else {
		reply_text(req, 404, "Not Found", "not found: try /, /status, "
		    "/metrics, /ready or /live");
		goto out;
	}
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_send_reply(req, 200, "OK", out);
out:
	status_free(st);
	if (out != NULL)
		evbuffer_free(out);
	free(p.subject);
}

/*
 * Each accepted connection's bufferevent: TLS when the generation has an
 * admin SSL_CTX. evhttp would serve a NULL return in plain HTTP, which on
 * a TLS endpoint would skip the client certificate check, so a failure
 * (only ever out of memory) aborts, as the x* allocators do.
 */
static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct admin *a = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if (a->rt->admin_ctx == NULL)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = SSL_new(a->rt->admin_ctx)) == NULL) {
		log_ssl(LL_ERROR, "admin endpoint: cannot create a TLS "
		    "session");
		abort();
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		log_msg(LL_ERROR, "admin endpoint: cannot create a TLS "
		    "bufferevent");
		abort();
	}
	/* a browser or curl closing without close_notify is no error */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
admin_tls_new(const struct config *cfg, struct diag *d, SSL_CTX **out)
{
	struct listener_conf lc;

	*out = NULL;
	if (cfg->admin_server_certificate == NULL)
		return 0;
	/*
	 * The listener code, with the policy of a console: client
	 * certificates required (and checked in the handshake) when
	 * ca_certificate is set, no session cache (a browser's few
	 * connections a minute do not need one).
	 */
	memset(&lc, 0, sizeof(lc));
	lc.line = cfg->admin_server_certificate_line;
	lc.server_certificate = cfg->admin_server_certificate;
	lc.server_certificate_line = cfg->admin_server_certificate_line;
	lc.server_private_key = cfg->admin_server_private_key;
	lc.server_private_key_line = cfg->admin_server_private_key_line;
	lc.ca_certificate = cfg->admin_ca_certificate;
	lc.ca_certificate_line = cfg->admin_ca_certificate_line;
	lc.mutual_authentication = cfg->admin_ca_certificate != NULL ?
	    MTLS_ON : MTLS_OFF;
	lc.mutual_authentication_line = cfg->admin_ca_certificate_line;
	lc.verify_depth = 3;
	lc.tls_min_version = TLS1_2_VERSION;
	lc.reject_tls_alert = true;
	lc.session_cache = SESSION_CACHE_OFF;
	lc.session_timeout_ms = 300 * 1000;
	*out = tls_ctx_new(&lc, d);
	return *out != NULL ? 0 : -1;
}

struct admin *
admin_start(struct event_base *base, const struct runtime *rt, long started,
    const struct status_reloads *reloads, int *failed)
{
	const struct config *cfg = rt->cfg;
	struct admin *a;
	size_t i;

	*failed = 0;
	if (cfg->nadmin_binds == 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->rt = rt;
	a->started = started;
	a->reloads = reloads;
	if ((a->http = evhttp_new(base)) == NULL) {
		free(a);
		*failed = 1;
		return NULL;
	}
	/* Every method reaches request_cb, which answers 405 with Allow:
	 * evhttp's own filter would say 501 Not Implemented instead. */
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(a->http, 16384);
	evhttp_set_max_body_size(a->http, 0);
	evhttp_set_timeout(a->http, 10);
	evhttp_set_gencb(a->http, request_cb, a);
	evhttp_set_bevcb(a->http, bev_cb, a);
	for (i = 0; i < cfg->nadmin_binds; i++) {
		int fd = listener_bind(&cfg->admin_binds[i], "admin");

		if (fd == -1 || evhttp_accept_socket(a->http, fd) != 0) {
			if (fd != -1)
				close(fd);
			admin_stop(a);
			*failed = 1;
			return NULL;
		}
		log_msg(LL_INFO, "admin endpoint on %s://%s/status, /metrics "
		    "and / (console)", rt->admin_ctx != NULL ? "https" : "http",
		    cfg->admin_binds[i].text);
	}
	return a;
}

void
admin_set_runtime(struct admin *a, const struct runtime *rt)
{
	if (a != NULL)
		a->rt = rt;
}

/* True when both configurations list the same admin binds, in order. */
static bool
same_binds(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->nadmin_binds != b->nadmin_binds)
		return false;
	for (i = 0; i < a->nadmin_binds; i++)
		if (strcmp(a->admin_binds[i].text, b->admin_binds[i].text) != 0)
			return false;
	return true;
}

struct admin *
admin_reload(struct admin *a, struct event_base *base,
    const struct runtime *rt, long started,
    const struct status_reloads *reloads)
{
	int failed;

	if (a != NULL && same_binds(a->rt->cfg, rt->cfg)) {
		a->rt = rt;
		return a;
	}
	if (a == NULL && rt->cfg->nadmin_binds == 0)
		return NULL;
	/* Close first: the new binds may reuse an old address. */
	admin_stop(a);
	if (rt->cfg->nadmin_binds == 0)
		log_msg(LL_INFO, "admin endpoint closed");
	a = admin_start(base, rt, started, reloads, &failed);
	if (failed)
		log_msg(LL_ERROR, "admin endpoint: off until a reload with a "
		    "bind that works");
	return a;
}

void
admin_set_stopping(struct admin *a, const char *why)
{
	if (a != NULL)
		a->stopping = why;
}

void
admin_stop(struct admin *a)
{
	if (a == NULL)
		return;
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
}
