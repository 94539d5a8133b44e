/*
 * tls_session: a listener's session resumption policy. Which sessions are
 * kept (only those whose client certificate verified or that carry none),
 * for how long (session_timeout, never past the certificate's notAfter),
 * where (OpenSSL's per-process cache, or a shared sesscache) and under
 * which session id context (a digest of the listener's name and trust
 * settings, so a reload that changes them ends resumption into the old
 * verdicts).
 */
#ifndef MTLSLB_TLS_SESSION_H
#define MTLSLB_TLS_SESSION_H

#include <openssl/ssl.h>
#include <openssl/x509.h>

struct diag;
struct listener_conf;
struct sesscache;

/*
 * Sets ctx's session id context from lc and the trust material it
 * loaded (either may be NULL: no client verification).
 */
void tls_session_id_context(SSL_CTX *ctx, const struct listener_conf *lc,
    STACK_OF(X509) *cas, STACK_OF(X509_CRL) *crls, struct diag *d);

/* Sets cache mode, lifetime and callbacks from lc's session_* keys. */
int tls_session_setup(SSL_CTX *ctx, const struct listener_conf *lc);

/*
 * Points ctx (session_cache = shared) at sc; the caller keeps its
 * reference for as long as ctx is used. Replaces an earlier one.
 */
void tls_session_use_cache(SSL_CTX *ctx, struct sesscache *sc);

/*
 * Removes the peer certificate from a serialised SSL_SESSION in place;
 * returns the new length, 0 if der is not one (exposed for its test).
 */
size_t tls_session_strip_peer(unsigned char *der, size_t n);

#endif
