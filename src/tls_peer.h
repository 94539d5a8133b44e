/*
 * tls_peer: the client certificate of one connection. The verify callback
 * that records the first failure of a handshake (it never fails one in
 * reject_with = http_400 mode), the verdict, and the names forwarded to
 * backends and written to logs, in the formats docs/DESIGN.md pins.
 */
#ifndef MTLSLB_TLS_PEER_H
#define MTLSLB_TLS_PEER_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

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
	char *sans;			/* the DNS, URI and email SANs, one a
					   line: "D:a.example.com\nU:spiffe://
					   x/y\nE:a@b.c" (names holding a
					   control byte are left out); NULL
					   without a certificate */
	char *reason;			/* the verify error in words, e.g.
					   "certificate has expired"; NULL when
					   the verdict is OK or NONE */
};

/*
 * Prepares the SSL ex_data slot the verify callback records into; called
 * by tls_ctx_new() before any handshake. Returns 0, or -1 when OpenSSL
 * has no slot to give.
 */
int tls_peer_init(void);

/*
 * Returns the verify callback for a listener: with alert false it records
 * the first failure and lets the handshake complete (the HTTP layer
 * answers 400); with alert true it records and fails the handshake, so
 * OpenSSL sends the alert that matches the error.
 */
SSL_verify_cb tls_peer_verify_cb(bool alert);

/*
 * Returns n in RFC 2253 form as OpenSSL prints it (XN_FLAG_RFC2253: last
 * RDN first, bytes >= 0x80 and controls escaped as \XX); "" for NULL. The
 * caller owns the result.
 */
char *tls_peer_name(const X509_NAME *n);

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

/*
 * Writes into buf (cap bytes) the identity record of ssl's verified
 * client certificate, for a stored session that leaves the certificate
 * out; returns its length, 0 when there is no verified certificate or it
 * does not fit. A session resumed with such a record gives the same
 * verdict and names as the certificate did (tls_peer_cert_new()).
 */
size_t tls_peer_record(SSL *ssl, unsigned char *buf, size_t cap);

/* The notAfter (Unix time) in sess's identity record; 0 if none. */
long tls_peer_record_not_after(SSL_SESSION *sess);

/*
 * Writes x's DNS, URI and email SANs in the form of peer_cert.sans into
 * a new string the caller owns ("" when it has none).
 */
char *tls_peer_sans(X509 *x);

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

/* Bits of tls_peer_dn_over(). */
#define TLS_PEER_DN_SUBJECT	0x1
#define TLS_PEER_DN_ISSUER	0x2

/*
 * Returns which of pc's DNs are longer than max bytes (the listener's
 * max_client_cert_header_size) as TLS_PEER_DN_* bits, 0 when both fit or
 * pc is NULL. A DN over the cap is never forwarded, neither cut (a prefix
 * of a DN is another DN) nor sent whole. When why is not NULL it receives
 * the warning to log, e.g. "subject DN is 19203 bytes, over
 * max_client_cert_header_size 4096: not forwarded" ("" when 0).
 */
unsigned tls_peer_dn_over(const struct peer_cert *pc, size_t max, char *why,
    size_t len);

/*
 * Writes the most specific commonName of pc's subject (the first CN= of
 * the RFC 2253 form, unescaped: UTF-8 as the certificate has it) into
 * buf, NUL-terminated; returns false when there is none or it does not
 * fit in len bytes. For the PROXY protocol's PP2_SUBTYPE_SSL_CN.
 */
bool tls_peer_cn(const struct peer_cert *pc, char *buf, size_t len);

#endif
