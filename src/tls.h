/*
 * tls: one SSL_CTX per listener, built and checked from the listener's
 * files. The client certificate after the handshake is tls_peer's.
 */
#ifndef MTLSLB_TLS_H
#define MTLSLB_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Callers that predate the split of tls.c read verdicts through this
 * header; new code includes tls_peer.h itself.
 */
#include "tls_peer.h"

struct diag;
struct listener_conf;

/*
 * Builds the SSL_CTX for one listener (called once in the master; workers
 * inherit it by fork). Records every problem with the listener's files in
 * d at the line of the offending key and returns NULL if any error was
 * recorded; warnings don't fail. The caller owns the result (SSL_CTX_free).
 */
SSL_CTX *tls_ctx_new(const struct listener_conf *lc, struct diag *d);

/* Expiry dates of a listener's files, as Unix times (0: none). */
struct tls_expiry {
	long server;			/* server certificate notAfter */
	long ca;			/* earliest notAfter in ca_certificate */
	long crl;			/* earliest nextUpdate in crl */
	char server_subject[256];	/* RFC 2253 */
};

/* Fills out with the dates noted when ctx was built by tls_ctx_new(). */
void tls_ctx_expiry(SSL_CTX *ctx, struct tls_expiry *out);

#endif
