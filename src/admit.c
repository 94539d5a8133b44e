/*
 * admit: the listener's request policy, shared by every client session.
 */
#include "ac_config.h"
#include "admit.h"

#include <stddef.h>

#include "config.h"
#include "conn.h"
#include "http.h"
#include "listener.h"
#include "tls_sni.h"

int
admit_request(const struct conn *c, const struct http_msg *m,
    struct admit *a)
{
	const struct listener_conf *lc = c->lsn->conf;

	a->detail = NULL;
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
	/* nginx's mTLS behaviour: the handshake passed, the request fails. */
	if (lc->mutual_authentication != MTLS_OFF && !lc->plain_http) {
		if (c->verdict == TLS_PEER_FAILED) {
			a->detail = "The SSL certificate error";
			return 400;
		}
		if (c->verdict == TLS_PEER_NONE &&
		    lc->mutual_authentication == MTLS_ON) {
			a->detail = "No required SSL certificate was sent";
			return 400;
		}
	}
	if (lc->max_request_body_size != 0 && m->body == HTTP_BODY_LENGTH &&
	    m->content_length > lc->max_request_body_size)
		return 413;
	return 0;
}
