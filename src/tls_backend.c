/*
 * tls_backend: the client side of TLS, towards backend servers. Builds a
 * group's SSL_CTX from its backend_* keys with the files tls_check reads
 * and explains, and the SSL of each connection. Verification is OpenSSL's
 * (chain, then the name through X509_VERIFY_PARAM_set1_host or _ip): a
 * failure fails the handshake, never falls back to plaintext.
 */
#include "ac_config.h"
#include "tls_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"
#include "tls_check.h"

/* TLS 1.2: forward secrecy and AEAD only, as towards clients. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/*
 * A new session from the server (with TLS 1.3 it comes after the
 * handshake, in a ticket): a copy goes to the connection's slot. A copy,
 * because OpenSSL marks a session not resumable when its SSL is freed
 * without a close_notify, which is how pooled connections end.
 */
static int
new_session_cb(SSL *ssl, SSL_SESSION *sess)
{
	SSL_SESSION **slot = SSL_get_app_data(ssl);
	SSL_SESSION *copy;

	if (slot == NULL || (copy = SSL_SESSION_dup(sess)) == NULL)
		return 0;
	SSL_SESSION_free(*slot);
	*slot = copy;
	return 0;		/* we did not keep sess itself */
}

static void
load_trust(SSL_CTX *ctx, const struct group_conf *gc, struct diag *d)
{
	STACK_OF(X509) *cas;
	X509_STORE *st;
	int i;

	if (gc->backend_ca_certificate == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) != 1)
			diag_ssl(d, gc->backend_tls_line, "backend_tls: cannot "
			    "load the system's CA certificates");
		return;
	}
	cas = tls_check_read_certs("backend_ca_certificate",
	    gc->backend_ca_certificate, d, gc->backend_ca_certificate_line);
	if (cas == NULL)
		return;
	if (sk_X509_num(cas) == 0)
		diag_error(d, gc->backend_ca_certificate_line,
		    "backend_ca_certificate: no certificate in '%s'",
		    gc->backend_ca_certificate);
	st = SSL_CTX_get_cert_store(ctx);
	for (i = 0; i < sk_X509_num(cas); i++)
		if (X509_STORE_add_cert(st, sk_X509_value(cas, i)) != 1)
			diag_ssl(d, gc->backend_ca_certificate_line,
			    "backend_ca_certificate: cannot use '%s'",
			    gc->backend_ca_certificate);
	sk_X509_pop_free(cas, X509_free);
}

/* backend_certificate and backend_private_key: mTLS to the servers. */
static void
load_client_cert(SSL_CTX *ctx, const struct group_conf *gc, struct diag *d)
{
	const struct tls_check_file cf = { "backend_certificate",
	    gc->backend_certificate, gc->backend_certificate_line };
	const struct tls_check_file kf = { "backend_private_key",
	    gc->backend_private_key, gc->backend_private_key_line };
	STACK_OF(X509) *chain;
	EVP_PKEY *pk;
	X509 *leaf;

	if (gc->backend_certificate == NULL || gc->backend_private_key == NULL)
		return;
	if (tls_check_read_pair(&cf, &kf, d, &chain, &pk) == 0) {
		leaf = sk_X509_shift(chain);
		if (SSL_CTX_use_cert_and_key(ctx, leaf, pk, chain, 1) != 1)
			diag_ssl(d, gc->backend_certificate_line,
			    "backend_certificate: cannot use '%s'",
			    gc->backend_certificate);
		X509_free(leaf);
	}
	EVP_PKEY_free(pk);
	sk_X509_pop_free(chain, X509_free);
}

SSL_CTX *
tls_backend_ctx_new(const struct group_conf *gc, struct diag *d)
{
	size_t errors = diag_errors(d);
	SSL_CTX *ctx;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		diag_ssl(d, gc->backend_tls_line, "backend_tls: cannot create "
		    "a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, gc->backend_tls_min_version) !=
	    1)
		diag_ssl(d, gc->backend_tls_min_version_line,
		    "backend_tls_min_version: cannot set 0x%04x",
		    (unsigned)gc->backend_tls_min_version);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		diag_ssl(d, gc->backend_tls_line, "cannot set the TLS 1.2 "
		    "ciphers");
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* sessions are kept per server by the caller's slot, not in ctx */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session_cb);
	load_trust(ctx, gc, d);
	load_client_cert(ctx, gc, d);
	if (gc->backend_verify)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		diag_warn(d, gc->backend_verify_line, "backend_verify: off: "
		    "the servers of [server_group %s] are not authenticated, "
		    "so anyone on the path can read and change the traffic",
		    gc->name);
	}
	ERR_clear_error();
	if (diag_errors(d) > errors) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The HOST of "HOST:PORT" or "[HOST]:PORT", into buf. */
static const char *
server_host(const struct server_conf *sc, char *buf, size_t len)
{
	const char *a = sc->addr.text, *end;
	size_t n;

	if (*a == '[') {
		a++;
		end = strchr(a, ']');
	} else
		end = strrchr(a, ':');
	n = end != NULL ? (size_t)(end - a) : strlen(a);
	if (n >= len)
		n = len - 1;
	memcpy(buf, a, n);
	buf[n] = '\0';
	return buf;
}

SSL *
tls_backend_ssl(SSL_CTX *ctx, const struct group_conf *gc,
    const struct server_conf *sc, SSL_SESSION **slot)
{
	unsigned char ip[16];
	const char *name;
	char host[256];
	bool is_ip;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	name = gc->backend_server_name != NULL ? gc->backend_server_name :
	    server_host(sc, host, sizeof(host));
	is_ip = inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1;
	/* RFC 6066 3: no IP literal in SNI */
	if ((!is_ip && SSL_set_tlsext_host_name(ssl, name) != 1) ||
	    (gc->backend_verify && (is_ip ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) :
	    SSL_set1_host(ssl, name)) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	if (slot != NULL) {
		SSL_set_app_data(ssl, slot);
		if (*slot != NULL)
			(void)SSL_set_session(ssl, *slot);
	}
	return ssl;
}

const char *
tls_backend_failure(SSL *ssl, unsigned long err, char *buf, size_t len)
{
	long v;

	if (ssl == NULL)
		return NULL;
	if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) &&
	    (v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		snprintf(buf, len, "certificate verify failed: %s",
		    X509_verify_cert_error_string(v));
		return buf;
	}
	/*
	 * libevent queues SSL_get_error() codes (library 0) beside OpenSSL's
	 * errors: they say "syscall" or "ssl", not why, so they are no reason.
	 */
	if (err != 0 && ERR_GET_LIB(err) != 0) {
		const char *r = ERR_reason_error_string(err);

		if (r != NULL)
			snprintf(buf, len, "%s", r);
		else
			ERR_error_string_n(err, buf, len);
		return buf;
	}
	return NULL;
}

long
tls_backend_cert_not_after(SSL_CTX *ctx)
{
	X509 *x = ctx != NULL ? SSL_CTX_get0_certificate(ctx) : NULL;
	struct tm tm;

	if (x == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return (long)timegm(&tm);
}
