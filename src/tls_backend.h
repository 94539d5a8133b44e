/*
 * tls_backend: TLS towards the servers of a [server_group] with
 * backend_tls = on: one client SSL_CTX per group (CAs, verification,
 * minimum version, the optional client certificate), one SSL per backend
 * connection (SNI and the name its certificate must carry), session
 * resumption through a slot the caller keeps per server, and failures
 * described in words for the log and /status.
 */
#ifndef MTLSLB_TLS_BACKEND_H
#define MTLSLB_TLS_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

struct diag;
struct group_conf;
struct server_conf;

/*
 * Builds the client SSL_CTX of group gc (called in the master, as the
 * listeners' contexts are), recording every problem with its files in d
 * at the line of the key, and warning when backend_verify is off.
 * Returns NULL if an error was recorded; the caller owns the result.
 */
SSL_CTX *tls_backend_ctx_new(const struct group_conf *gc, struct diag *d);

/*
 * A new SSL for a connection to server sc of group gc: SNI and the
 * verified name are backend_server_name or the server's HOST (an IP
 * address is checked against the certificate's IP SANs and sent no SNI).
 * With slot not NULL, the session kept there is offered for resumption
 * and every new session the server hands out replaces it; the slot must
 * outlive the SSL (a per-worker, per-server place). Returns NULL when
 * OpenSSL fails (its error queue says why). The caller owns the SSL.
 */
SSL *tls_backend_ssl(SSL_CTX *ctx, const struct group_conf *gc,
    const struct server_conf *sc, SSL_SESSION **slot);

/*
 * Describes why a TLS connection to a server failed, into buf: the
 * verification failure ("certificate verify failed: unable to get local
 * issuer certificate") or OpenSSL's reason for err (an ERR_get_error()
 * code; 0 when none was queued). Returns buf, or NULL when there is no
 * TLS reason to give (ssl NULL, nothing recorded, or only libevent's
 * SSL_get_error() codes, which name no reason).
 */
const char *tls_backend_failure(SSL *ssl, unsigned long err, char *buf,
    size_t len);

/* The notAfter (Unix time) of the group's backend_certificate; 0: none. */
long tls_backend_cert_not_after(SSL_CTX *ctx);

#endif
