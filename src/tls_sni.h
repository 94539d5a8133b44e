/*
 * tls_sni: the listeners that share one listening socket (several
 * [listener] sections with the same bind), and the client hello callback
 * that picks one of them by the TLS server name, as nginx's server blocks
 * are picked: before OpenSSL looks at the session offered, the protocol
 * version or the certificates, so that everything after it (verification,
 * session id context, session cache and ticket keys) is the chosen
 * listener's.
 */
#ifndef MTLSLB_TLS_SNI_H
#define MTLSLB_TLS_SNI_H

#include <stddef.h>

#include <openssl/ssl.h>

struct listener_conf;
struct tls_sni;

/* An empty set; free with tls_sni_free(). */
struct tls_sni *tls_sni_new(void);

/* Frees t; accepts NULL. */
void tls_sni_free(struct tls_sni *t);

/*
 * Adds a listener of the socket, in file order: its SSL_CTX (NULL for
 * protocol = http), its config and an opaque owner (the caller's struct
 * lsn) that tls_sni_chosen() and tls_sni_lookup() return. Its names are
 * server_name, or without one its certificates' DNS names.
 */
void tls_sni_add(struct tls_sni *t, SSL_CTX *ctx,
    const struct listener_conf *lc, void *owner);

/* The owner that takes a connection first: default_server, else first. */
void *tls_sni_default(const struct tls_sni *t);

/* How many listeners share the socket. */
size_t tls_sni_count(const struct tls_sni *t);

/* Installs the client hello callback on ctx (every listener's). */
int tls_sni_setup(SSL_CTX *ctx);

/* Makes ssl, accepted on t's socket, choose among t; 0 or -1. */
int tls_sni_attach(SSL *ssl, const struct tls_sni *t);

/* The owner the callback chose for ssl; NULL when it has not run. */
void *tls_sni_chosen(SSL *ssl);

/* Why the callback refused ssl's ClientHello (strict_sni); NULL: it did not. */
const char *tls_sni_refusal(SSL *ssl);

/*
 * The owner whose names match host (len bytes, an optional ":port" is
 * ignored): an exact name first, then a wildcard; NULL when none does.
 */
void *tls_sni_lookup(const struct tls_sni *t, const char *host, size_t len);

#endif
