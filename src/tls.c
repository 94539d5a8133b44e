/*
 * tls: builds one SSL_CTX per listener (server chains and keys, client CAs,
 * CRLs, protocol and session policy) from files that tls_check reads and
 * explains; the client certificate's verdict and names are tls_peer's.
 * In reject_with = http_400 mode the verify callback only records: it
 * must never fail a handshake.
 */
#include "ac_config.h"
#include "tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"
#include "tls_certs.h"
#include "tls_check.h"
#include "tls_peer.h"
#include "tls_session.h"
#include "tls_sni.h"
#include "tls_tickets.h"
#include "util.h"

/* TLS 1.2: forward secrecy and AEAD only. TLS 1.3 keeps its defaults. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS	"X25519:P-256:P-384"

/* Expiry dates noted while the context is built (SSL_CTX ex_data). */
static int expiry_idx = -1;

static void
expiry_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	free(ptr);
}

static long
asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long)timegm(&tm);
}

static struct tls_expiry *
expiry_of(SSL_CTX *ctx)
{
	struct tls_expiry *e = SSL_CTX_get_ex_data(ctx, expiry_idx);

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		SSL_CTX_set_ex_data(ctx, expiry_idx, e);
	}
	return e;
}

/* Earliest CA notAfter and CRL nextUpdate: what expires first. */
static void
note_client_expiry(SSL_CTX *ctx, STACK_OF(X509) *cas,
    STACK_OF(X509_CRL) *crls)
{
	struct tls_expiry *e = expiry_of(ctx);
	int i;

	for (i = 0; i < sk_X509_num(cas); i++) {
		long t = asn1_unix(X509_get0_notAfter(sk_X509_value(cas, i)));

		if (t != 0 && (e->ca == 0 || t < e->ca))
			e->ca = t;
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		long t = asn1_unix(X509_CRL_get0_nextUpdate(
		    sk_X509_CRL_value(crls, i)));

		if (t != 0 && (e->crl == 0 || t < e->crl))
			e->crl = t;
	}
}

/* The server certificate that expires first, of all the listener's. */
static void
note_server_expiry(SSL_CTX *ctx)
{
	struct tls_expiry *e = expiry_of(ctx);
	X509 *x = NULL, *y;
	char *subj;
	size_t i;
	long t;

	for (i = 0; (y = tls_certs_leaf(ctx, i)) != NULL; i++) {
		t = asn1_unix(X509_get0_notAfter(y));
		if (x == NULL || (t != 0 && t < e->server)) {
			x = y;
			e->server = t;
		}
	}
	if (x == NULL)
		return;
	if ((subj = tls_peer_name(X509_get_subject_name(x))) != NULL) {
		snprintf(e->server_subject, sizeof(e->server_subject), "%s",
		    subj);
		free(subj);
	}
}

void
tls_ctx_expiry(SSL_CTX *ctx, struct tls_expiry *out)
{
	struct tls_expiry *e = NULL;

	if (ctx != NULL && expiry_idx >= 0)
		e = SSL_CTX_get_ex_data(ctx, expiry_idx);
	if (e != NULL)
		*out = *e;
	else
		memset(out, 0, sizeof(*out));
}

/* ALPN, in the server's order of preference (wire format). */
static const unsigned char alpn_h2[] = "\x02h2\x08http/1.1";
static const unsigned char alpn_h1[] = "\x08http/1.1";

/*
 * Picks "h2" (when the listener has http2 on) or "http/1.1" from what the
 * client lists, in our order; with neither, no ALPN at all. arg is one of
 * the lists above.
 */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const unsigned char *ours = arg;
	unsigned int ourlen = ours == alpn_h2 ? sizeof(alpn_h2) - 1 :
	    sizeof(alpn_h1) - 1;
	unsigned char *sel;

	(void)ssl;
	if (SSL_select_next_proto(&sel, outlen, ours, ourlen, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Loads the client CAs and CRLs and sets the verify policy. */
static void
load_client_verify(SSL_CTX *ctx, const struct listener_conf *lc,
    struct diag *d)
{
	STACK_OF(X509_NAME) *names = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas = NULL;
	X509_STORE *st = NULL;
	unsigned long flags;
	int i, j, mode;

	if (lc->ca_certificate == NULL) {
		diag_error(d, lc->mutual_authentication_line,
		    "mutual_authentication: needs ca_certificate");
	} else if ((cas = tls_check_read_certs("ca_certificate",
	    lc->ca_certificate, d, lc->ca_certificate_line)) != NULL &&
	    sk_X509_num(cas) == 0) {
		diag_error(d, lc->ca_certificate_line, "ca_certificate: no "
		    "certificate in '%s'", lc->ca_certificate);
		sk_X509_free(cas);
		cas = NULL;
	}
	if (cas != NULL)
		tls_check_cas(cas, lc, d);
	if (lc->crl != NULL) {
		crls = tls_check_read_crls("crl", lc->crl, d, lc->crl_line);
		if (crls != NULL && sk_X509_CRL_num(crls) == 0) {
			diag_error(d, lc->crl_line, "crl: no CRL in '%s'",
			    lc->crl);
			sk_X509_CRL_free(crls);
			crls = NULL;
		}
		if (crls != NULL)
			tls_check_crls(crls, cas, lc, d);
	} else if (lc->crl_check_chain)
		diag_warn(d, lc->crl_check_line, "crl_check: has no effect "
		    "without crl");
	if (cas == NULL || (lc->crl != NULL && crls == NULL))
		goto out;

	if ((st = X509_STORE_new()) == NULL ||
	    (names = sk_X509_NAME_new_null()) == NULL)
		abort();
	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);
		X509_NAME *n = X509_get_subject_name(x);

		if (X509_STORE_add_cert(st, x) != 1)
			diag_ssl(d, lc->ca_certificate_line, "ca_certificate: "
			    "cannot use '%s'", lc->ca_certificate);
		/* one name per CA in the CertificateRequest */
		for (j = 0; j < sk_X509_NAME_num(names); j++)
			if (X509_NAME_cmp(sk_X509_NAME_value(names, j), n) == 0)
				break;
		if (j == sk_X509_NAME_num(names) &&
		    sk_X509_NAME_push(names, X509_NAME_dup(n)) == 0)
			abort();
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_STORE_add_crl(st, sk_X509_CRL_value(crls, i)) != 1)
			diag_ssl(d, lc->crl_line, "crl: cannot use '%s'",
			    lc->crl);
	if (SSL_CTX_set1_verify_cert_store(ctx, st) != 1)
		diag_ssl(d, lc->ca_certificate_line, "ca_certificate: cannot "
		    "use '%s'", lc->ca_certificate);
	SSL_CTX_set_client_CA_list(ctx, names);		/* takes names */
	names = NULL;

	SSL_CTX_set_verify_depth(ctx, (int)lc->verify_depth);
	if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
		diag_ssl(d, lc->line, "cannot set the clientAuth purpose");
	if (crls != NULL) {
		flags = X509_V_FLAG_CRL_CHECK;
		if (lc->crl_check_chain)
			flags |= X509_V_FLAG_CRL_CHECK_ALL;
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags);
	}
	mode = SSL_VERIFY_PEER;
	if (lc->reject_tls_alert && lc->mutual_authentication == MTLS_ON)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode,
	    tls_peer_verify_cb(lc->reject_tls_alert));
	note_client_expiry(ctx, cas, crls);
	tls_session_id_context(ctx, lc, cas, crls, d);
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	X509_STORE_free(st);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(cas, X509_free);
}

SSL_CTX *
tls_ctx_new(const struct listener_conf *lc, struct diag *d)
{
	size_t errors = diag_errors(d);
	SSL_CTX *ctx;

	ERR_clear_error();
	if (expiry_idx < 0)
		expiry_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    expiry_free);
	if (tls_peer_init() < 0 || expiry_idx < 0 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		diag_ssl(d, lc->line, "cannot create a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, lc->tls_min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		diag_ssl(d, lc->line, "tls_min_version: cannot set 0x%04x",
		    (unsigned)lc->tls_min_version);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		diag_ssl(d, lc->line, "cannot set the TLS 1.2 ciphers");
	if (SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		diag_ssl(d, lc->line, "cannot set the groups " TLS_GROUPS);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET);
	/* the chain comes from server_certificate, never from the store */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_NO_AUTO_CHAIN);
	/*
	 * No read_ahead: bufferevent_openssl only reads again when the
	 * socket is readable, so records OpenSSL had already buffered would
	 * wait for the client's next packet.
	 */
	if (tls_session_setup(ctx, lc) == -1)
		diag_ssl(d, lc->line, "cannot set up session resumption");
	if (lc->session_ticket_keys != NULL) {
		if (lc->session_cache == SESSION_CACHE_OFF ||
		    lc->session_cache_size == 0)
			diag_warn(d, lc->session_ticket_keys_line,
			    "session_ticket_keys: has no effect with session "
			    "resumption off (session_cache = off or "
			    "session_cache_size = 0)");
		else
			(void)tls_tickets_load(ctx, lc, d);
	}
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb,
	    (void *)(lc->http2 ? alpn_h2 : alpn_h1));

	if (tls_sni_setup(ctx) == -1)
		diag_ssl(d, lc->line, "cannot set up the server name callback");
	tls_certs_load(ctx, lc, d);
	note_server_expiry(ctx);
	if (lc->mutual_authentication != MTLS_OFF)
		load_client_verify(ctx, lc, d);
	else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		tls_session_id_context(ctx, lc, NULL, NULL, d);
	}

	ERR_clear_error();
	if (diag_errors(d) > errors) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
