/*
 * tls_session: OpenSSL's session callbacks for a listener. OpenSSL calls
 * new_cb once a session may be resumed (TLS 1.3: when the server sends
 * its ticket, which with SSL_OP_NO_TICKET is just the session id), get_cb
 * when a client offers an id its internal cache does not hold, and
 * remove_cb when it drops a session (a fatal alert, a bad session).
 */
#include "ac_config.h"
#include "tls_session.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "config.h"
#include "diag.h"
#include "log.h"
#include "sesscache.h"
#include "tls_peer.h"

/* SSL_CTX ex_data: the listener's shared cache (borrowed), or NULL. */
static int cache_idx = -1;

static struct sesscache *
cache_of(SSL_CTX *ctx)
{
	return cache_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, cache_idx);
}

static void
digest_der(EVP_MD_CTX *md, int len, unsigned char **der)
{
	if (len > 0)
		(void)EVP_DigestUpdate(md, *der, (size_t)len);
	OPENSSL_free(*der);
}

void
tls_session_id_context(SSL_CTX *ctx, const struct listener_conf *lc,
    STACK_OF(X509) *cas, STACK_OF(X509_CRL) *crls, struct diag *d)
{
	unsigned char sum[EVP_MAX_MD_SIZE];
	unsigned int sumlen = 0;
	EVP_MD_CTX *md;
	char buf[512];
	int i, n;

	/*
	 * Everything that decides a client certificate's verdict: a session
	 * made under other settings must not resume into its old verdict.
	 */
	n = snprintf(buf, sizeof(buf), "mtlslb listener %s\nmtls %d depth %u "
	    "alert %d crl_chain %d\n", lc->name != NULL ? lc->name : "",
	    (int)lc->mutual_authentication, lc->verify_depth,
	    (int)lc->reject_tls_alert, (int)lc->crl_check_chain);
	/*
	 * Sessions stored without the certificate (its identity record
	 * only) must not resume where a header format needs the certificate.
	 */
	if ((lc->forward_client_cert & FCC_NEEDS_CERT) != 0 &&
	    n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "keep_cert\n");
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, buf, (size_t)n) != 1)
		goto fail;
	for (i = 0; cas != NULL && i < sk_X509_num(cas); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509(sk_X509_value(cas, i), &der);

		digest_der(md, len, &der);
	}
	for (i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
		unsigned char *der = NULL;
		int len = i2d_X509_CRL(sk_X509_CRL_value(crls, i), &der);

		digest_der(md, len, &der);
	}
	if (EVP_DigestFinal_ex(md, sum, &sumlen) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, sum,
	    sumlen < SSL_MAX_SID_CTX_LENGTH ? sumlen : SSL_MAX_SID_CTX_LENGTH)
	    != 1)
		goto fail;
	EVP_MD_CTX_free(md);
	return;
fail:
	EVP_MD_CTX_free(md);
	diag_ssl(d, lc->line, "cannot set the session id context");
}

/*
 * The session's lifetime: session_timeout, cut to what is left of the
 * client certificate's validity (from the certificate, or from the
 * identity record of a session stored without it). Returns false when
 * nothing is left.
 */
static bool
clamp_lifetime(SSL_SESSION *sess)
{
	X509 *peer = SSL_SESSION_get0_peer(sess);
	long start = (long)SSL_SESSION_get_time(sess);
	long not_after = 0;
	struct tm tm;

	if (peer != NULL) {
		if (ASN1_TIME_to_tm(X509_get0_notAfter(peer), &tm) != 1)
			return false;
		not_after = (long)timegm(&tm);
	} else if ((not_after = tls_peer_record_not_after(sess)) == 0) {
		return true;
	}
	if (not_after <= (long)time(NULL))
		return false;
	if (not_after - start < SSL_SESSION_get_timeout(sess))
		SSL_SESSION_set_timeout(sess, not_after - start);
	return true;
}

/* Reads a DER length at p (n bytes); returns the bytes it took, 0: bad. */
static size_t
der_len(const unsigned char *p, size_t n, size_t *len)
{
	size_t i, k, v = 0;

	if (n < 1)
		return 0;
	if (p[0] < 0x80) {
		*len = p[0];
		return 1;
	}
	k = p[0] & 0x7f;
	if (k == 0 || k > 3 || n < 1 + k)
		return 0;
	for (i = 1; i <= k; i++)
		v = v << 8 | p[i];
	*len = v;
	return 1 + k;
}

/*
 * Removes the peer certificate ([3] EXPLICIT, tag 0xa3) from a serialised
 * SSL_SESSION (a DER SEQUENCE of single-byte-tag elements) in place.
 * Returns the new length, or 0 when der is not what we expect.
 */
size_t
tls_session_strip_peer(unsigned char *der, size_t n)
{
	unsigned char head[5];
	size_t hl, body, off, el, l, tot, nh;

	if (n < 2 || der[0] != 0x30 || (hl = der_len(der + 1, n - 1,
	    &body)) == 0 || 1 + hl + body != n)
		return 0;
	for (off = 1 + hl; off < n; off += tot) {
		if ((der[off] & 0x1f) == 0x1f ||
		    (el = der_len(der + off + 1, n - off - 1, &l)) == 0 ||
		    (tot = 1 + el + l) > n - off)
			return 0;
		if (der[off] == 0xa3) {
			memmove(der + off, der + off + tot, n - off - tot);
			n -= tot;
			body -= tot;
			break;
		}
	}
	head[0] = 0x30;
	if (body < 0x80) {
		head[1] = (unsigned char)body;
		nh = 2;
	} else if (body < 0x100) {
		head[1] = 0x81;
		head[2] = (unsigned char)body;
		nh = 3;
	} else {
		head[1] = 0x82;
		head[2] = (unsigned char)(body >> 8);
		head[3] = (unsigned char)body;
		nh = 4;
	}
	memmove(der + nh, der + 1 + hl, body);
	memcpy(der, head, nh);
	return nh + body;
}

/*
 * A session is worth keeping if its client certificate verified or it
 * has none: a failed verdict is never resumed, so a reconnecting client
 * gets the full handshake and the same 400 page, and nothing can carry
 * a failure forward into a state that looks verified.
 */
static int
store(SSL *ssl, SSL_SESSION *sess, bool keep_cert)
{
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	struct sesscache *sc = cache_of(ctx);
	unsigned char der[8192], *p = der;
	const unsigned char *id;
	unsigned int idlen;
	bool strip = false;
	int len;

	if (tls_peer_verdict(ssl) == TLS_PEER_FAILED ||
	    !clamp_lifetime(sess)) {
		/* marks it not resumable; drops it from OpenSSL's cache */
		(void)SSL_CTX_remove_session(ctx, sess);
		return 0;
	}
	if (sc == NULL || (SSL_get_options(ssl) & SSL_OP_NO_TICKET) == 0)
		return 0;	/* no shared cache, or tickets carry sessions */
	/*
	 * Decoding the client certificate would be most of the cost of a
	 * resumption: store its identity record, not the certificate.
	 */
	if (SSL_SESSION_get0_peer(sess) != NULL && !keep_cert) {
		unsigned char rec[2048];
		size_t rl = tls_peer_record(ssl, rec, sizeof(rec));

		strip = rl > 0 &&
		    SSL_SESSION_set1_ticket_appdata(sess, rec, rl) == 1;
	}
	len = i2d_SSL_SESSION(sess, NULL);
	if (len <= 0 || len > (int)sizeof(der) ||
	    i2d_SSL_SESSION(sess, &p) != len) {
		ERR_clear_error();
		return 0;
	}
	if (strip && (len = (int)tls_session_strip_peer(der, (size_t)len)) == 0)
		return 0;
	if (len > SESSCACHE_MAX_DATA) {
		log_msg(LL_DEBUG, "session cache: a %d-byte session does not "
		    "fit a slot (%d): not kept", len, SESSCACHE_MAX_DATA);
		return 0;
	}
	id = SSL_SESSION_get_id(sess, &idlen);
	(void)sesscache_put(sc, id, idlen, der, (size_t)len,
	    (time_t)SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess),
	    time(NULL));
	return 0;		/* we keep a copy, not the reference */
}

static int
new_cb(SSL *ssl, SSL_SESSION *sess)
{
	return store(ssl, sess, false);
}

/*
 * forward_client_cert with rfc9440, xfcc or aws: the headers carry the
 * certificate itself, so the stored session keeps it (a session too big
 * for a cache slot is then not kept: that client does full handshakes).
 */
static int
new_keep_cert_cb(SSL *ssl, SSL_SESSION *sess)
{
	return store(ssl, sess, true);
}

/*
 * Stateless tickets (session_ticket_keys): the ticket is the encrypted
 * session, certificate included. Before it is made: the lifetime, and a
 * mark on a session whose certificate failed, which is then refused.
 */
static int
ticket_gen_cb(SSL *ssl, void *arg)
{
	SSL_SESSION *sess = SSL_get_session(ssl);
	static const char failed[] = "mtlslb-failed";

	(void)arg;
	if (sess == NULL)
		return 1;
	if (tls_peer_verdict(ssl) == TLS_PEER_FAILED || !clamp_lifetime(sess))
		return SSL_SESSION_set1_ticket_appdata(sess, failed,
		    sizeof(failed));
	return 1;
}

static SSL_TICKET_RETURN
ticket_dec_cb(SSL *ssl, SSL_SESSION *sess, const unsigned char *name,
    size_t namelen, SSL_TICKET_STATUS status, void *arg)
{
	static const char failed[] = "mtlslb-failed";
	void *data = NULL;
	size_t len = 0;

	(void)ssl, (void)name, (void)namelen, (void)arg;
	switch (status) {
	case SSL_TICKET_SUCCESS:
	case SSL_TICKET_SUCCESS_RENEW:
		break;
	case SSL_TICKET_EMPTY:
	case SSL_TICKET_NO_DECRYPT:
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	default:
		return SSL_TICKET_RETURN_ABORT;
	}
	if (SSL_SESSION_get0_ticket_appdata(sess, &data, &len) == 1 &&
	    len == sizeof(failed) && memcmp(data, failed, len) == 0)
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	if ((long)SSL_SESSION_get_time(sess) + SSL_SESSION_get_timeout(sess) <=
	    (long)time(NULL) || !clamp_lifetime(sess))
		return SSL_TICKET_RETURN_IGNORE_RENEW;
	return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE :
	    SSL_TICKET_RETURN_USE_RENEW;
}

static SSL_SESSION *
get_cb(SSL *ssl, const unsigned char *id, int idlen, int *copy)
{
	struct sesscache *sc = cache_of(SSL_get_SSL_CTX(ssl));
	unsigned char der[SESSCACHE_MAX_DATA];
	const unsigned char *p = der;
	SSL_SESSION *sess;
	size_t len;

	*copy = 0;		/* the caller owns what we return */
	if (sc == NULL || idlen <= 0)
		return NULL;
	len = sesscache_get(sc, id, (size_t)idlen, der, sizeof(der),
	    time(NULL));
	if (len == 0)
		return NULL;
	if ((sess = d2i_SSL_SESSION(NULL, &p, (long)len)) == NULL)
		ERR_clear_error();
	return sess;
}

static void
remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
	struct sesscache *sc = cache_of(ctx);
	const unsigned char *id;
	unsigned int idlen;

	if (sc == NULL)
		return;
	id = SSL_SESSION_get_id(sess, &idlen);
	sesscache_del(sc, id, idlen);
}

int
tls_session_setup(SSL_CTX *ctx, const struct listener_conf *lc)
{
	long timeout = (long)(lc->session_timeout_ms / 1000);

	if (cache_idx < 0 &&
	    (cache_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL)) < 0)
		return -1;
	if (lc->session_cache == SESSION_CACHE_OFF ||
	    lc->session_cache_size == 0) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, 0);
		return 0;
	}
	/*
	 * TLS 1.3 stateless tickets cost as much as a full handshake on
	 * OpenSSL 3.0; one stateful ticket (the session id) is cheap.
	 */
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_timeout(ctx, timeout > 0 ? timeout : 1);
	SSL_CTX_sess_set_new_cb(ctx, (lc->forward_client_cert &
	    FCC_NEEDS_CERT) != 0 ? new_keep_cert_cb : new_cb);
	if (lc->session_ticket_keys != NULL &&
	    SSL_CTX_set_session_ticket_cb(ctx, ticket_gen_cb, ticket_dec_cb,
	    NULL) != 1)
		return -1;
	if (lc->session_cache == SESSION_CACHE_SHARED) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER |
		    SSL_SESS_CACHE_NO_INTERNAL);
		SSL_CTX_sess_set_get_cb(ctx, get_cb);
		SSL_CTX_sess_set_remove_cb(ctx, remove_cb);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx,
		    (long)lc->session_cache_size);
	}
	return 0;
}

void
tls_session_use_cache(SSL_CTX *ctx, struct sesscache *sc)
{
	if (cache_idx >= 0)
		(void)SSL_CTX_set_ex_data(ctx, cache_idx, sc);
}
