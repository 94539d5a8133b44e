/*
 * admit: the listener's request policy, shared by every client session.
 */
#include "ac_config.h"
#include "admit.h"

#include <stddef.h>

#include "allow.h"
#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "route.h"
#include "tls_peer.h"
#include "tls_sni.h"

/*
 * Whether c's verified certificate passes rule set bit (0: the
 * listener's rules, 1 + i: route i's), computed once per connection: the
 * identity does not change while it lives (no renegotiation).
 */
static bool
allowed(struct conn *c, unsigned bit, const struct allow_rule *rules,
    size_t n)
{
	uint32_t m = bit < 32 ? UINT32_C(1) << bit : 0;
	bool ok;

	if (m != 0 && (c->allow_done & m) != 0)
		return (c->allow_ok & m) != 0;
	ok = allow_match(rules, n, conn_peer(c));
	if (m != 0) {
		c->allow_done |= m;
		if (ok)
			c->allow_ok |= m;
	}
	return ok;
}

static int
not_allowed(struct conn *c, const struct lsn_route *lr)
{
	const struct peer_cert *pc = conn_peer(c);

	log_msg(LL_WARN, "listener %s route %s: %s:%u: client certificate "
	    "%s%s: not allowed", c->lsn->conf->name,
	    lr != NULL ? lr->conf->name : "-", c->client_ip, c->client_port,
	    pc != NULL && pc->subject != NULL ? "subject=" : "(none)",
	    pc != NULL && pc->subject != NULL ? pc->subject : "");
	metrics_count_rejection(c->lsn, "not_allowed");
	return 403;
}

/* The allow rules of the listener, then of the route: both must pass. */
static int
check_allow(struct conn *c, const struct lsn_route *lr)
{
	const struct listener_conf *lc = c->lsn->conf;
	const struct route_conf *rc = lr != NULL ? lr->conf : NULL;
	size_t ri = lr != NULL ? (size_t)(lr - c->lsn->routes) : 0;

	if (lc->nallow == 0 && (rc == NULL || rc->nallow == 0))
		return 0;
	if (c->verdict != TLS_PEER_OK) {
		/* a route may open a path to clients without one */
		if (rc != NULL && rc->client_certificate == ROUTE_CERT_OPTIONAL)
			return 0;
		return not_allowed(c, lr);
	}
	if (lc->nallow > 0 && !allowed(c, 0, lc->allow, lc->nallow))
		return not_allowed(c, lr);
	if (rc != NULL && rc->nallow > 0 &&
	    !allowed(c, 1 + (unsigned)ri, rc->allow, rc->nallow))
		return not_allowed(c, lr);
	return 0;
}

int
admit_request(const struct conn *cc, const struct http_msg *m,
    struct admit *a)
{
	struct conn *c = (struct conn *)(uintptr_t)cc;
	const struct listener_conf *lc = c->lsn->conf;
	const struct lsn_route *lr = NULL;
	int i;

	a->detail = NULL;
	a->route = NULL;
	if (http_token_eq(m->method, m->method_len, "CONNECT"))
		/* A tunnel request: a 2xx would be misread as a body. */
		return 501;
	/*
	 * SNI and Host must agree: a Host that another listener of this
	 * socket claims was not checked against that listener's CA (RFC 9110
	 * §15.5.20; nginx CVE-2025-23419). Before the certificate pages: the
	 * client should retry on a connection of its own for that name.
	 */
	if (c->sni != NULL && m->authority != NULL) {
		const void *l = tls_sni_lookup(c->sni, m->authority,
		    m->authority_len);

		if (l != NULL && l != c->lsn)
			return 421;
	}
	if (lc->nroutes > 0) {
		i = route_pick(lc, m->authority, m->authority_len, m->path,
		    m->path_len);
		if (i == -2)
			return 414;
		if (i >= 0)
			a->route = lr = &c->lsn->routes[i];
	}
	/* nginx's mTLS behaviour: the handshake passed, the request fails. */
	if (lc->mutual_authentication != MTLS_OFF && !lc->plain_http) {
		if (c->verdict == TLS_PEER_FAILED) {
			a->detail = "The SSL certificate error";
			return 400;
		}
		if (c->verdict == TLS_PEER_NONE &&
		    (lc->mutual_authentication == MTLS_ON || (lr != NULL &&
		    lr->conf->client_certificate == ROUTE_CERT_REQUIRED))) {
			a->detail = "No required SSL certificate was sent";
			return 400;
		}
		if (check_allow(c, lr) != 0)
			return 403;
	}
	if (lc->max_request_body_size != 0 && m->body == HTTP_BODY_LENGTH &&
	    m->content_length > lc->max_request_body_size)
		return 413;
	return 0;
}
