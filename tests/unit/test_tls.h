/*
 * test_tls: the TLS fixture of the unit tests (see test_tls.c): a
 * listener over the test PKI, its SSL_CTX, a client SSL_CTX, and a
 * handshake between the two over a BIO pair.
 */
#ifndef MTLSLB_TEST_TLS_H
#define MTLSLB_TEST_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "config.h"

/* What the client offers in ALPN unless a test changes test_tls_alpn. */
#define TEST_TLS_ALPN	"\x02h2\x08http/1.1"

/* The diagnostics of a build, one per line. */
struct test_text {
	char buf[8192];
	size_t len;
};

/* The last alert the server sent in test_tls_handshake(), "" if none. */
extern char test_tls_alert[64];
extern int test_tls_alert_code;
extern const char *test_tls_alpn;

/*
 * Listener "https" (line 10 on) with server-chain.crt/key, mTLS on,
 * root.crt as CA, depth 3, TLS 1.2+, the default session settings.
 */
void test_tls_lc(struct listener_conf *lc);

/* tls_ctx_new(lc); its diagnostics into t and their error count. */
SSL_CTX *test_tls_build(const struct listener_conf *lc, struct test_text *t,
    size_t *nerr);

/* A client context with cert/key from the PKI (NULL: none), TLS <= max. */
SSL_CTX *test_tls_client(const char *cert, const char *key,
    int max_version);

/*
 * Runs a handshake between a server made from sctx and a client made from
 * cctx (resuming sess when not NULL). Returns whether the server side
 * completed; *sp and *cp are the caller's (test_tls_free()).
 */
bool test_tls_handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *sess,
    SSL **sp, SSL **cp);

/* Shuts both ends down cleanly and frees them. */
void test_tls_free(SSL *s, SSL *c);

#endif
