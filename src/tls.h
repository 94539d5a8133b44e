/*
 * tls: one SSL_CTX per listener, built and checked from the listener's
 * files, and the description of a client certificate after the handshake.
 */
#ifndef MTLSLB_TLS_H
#define MTLSLB_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct diag;
struct listener_conf;

/*
 * Builds the SSL_CTX for one listener (called once in the master; workers
 * inherit it by fork). Records every problem with the listener's files in
 * d at the line of the offending key and returns NULL if any error was
 * recorded; warnings don't fail. The caller owns the result (SSL_CTX_free).
 */
SSL_CTX *tls_ctx_new(const struct listener_conf *lc, struct diag *d);

enum tls_verdict {
	TLS_PEER_NONE,			/* no client certificate */
	TLS_PEER_OK,			/* presented and verified */
	TLS_PEER_FAILED,		/* presented, verification failed */
};

/* Plain data, built once per connection after the handshake. */
struct peer_cert {
	enum tls_verdict verdict;
	long verify_err;		/* X509_V_OK or the first verify error */
	char *subject;			/* RFC 2253, NULL without a certificate */
	char *issuer;			/* RFC 2253, NULL without a certificate */
	char *serial;			/* UPPERCASE hex, no colons, as
					   "openssl x509 -serial"; NULL without */
	char fingerprint[65];		/* SHA-256 of the DER, lowercase hex;
					   "" without a certificate */
	char *reason;			/* the verify error in words, e.g.
					   "certificate has expired"; NULL when
					   the verdict is OK or NONE */
};

/*
 * Describes the client certificate outcome of ssl, after a successful
 * handshake (also a resumed one) or after a handshake that failed in
 * reject_with = tls_alert mode (from what the verify callback recorded).
 * The caller owns the result and frees it with tls_peer_cert_free().
 */
struct peer_cert *tls_peer_cert_new(SSL *ssl);

/*
 * The verdict alone, as tls_peer_cert_new() would give it, without
 * formatting any name: cheap enough for every handshake.
 */
enum tls_verdict tls_peer_verdict(SSL *ssl);

/* Frees pc; accepts NULL. */
void tls_peer_cert_free(struct peer_cert *pc);

/*
 * Writes the one-line log detail of pc into buf (always NUL-terminated,
 * truncated to len): "certificate has expired (10): subject=CN=client
 * issuer=CN=root", "no client certificate presented" or, when verified,
 * "ok: subject=CN=client issuer=CN=root".
 */
void tls_peer_describe(const struct peer_cert *pc, char *buf, size_t len);

/*
 * Returns the metric class of a rejection: "no_cert", "unknown_ca",
 * "expired", "revoked", "crl_expired", "bad_purpose" or "other"; "ok" for
 * a verified certificate. The string is static.
 */
const char *tls_reason_class(const struct peer_cert *pc);

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
