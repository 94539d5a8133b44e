/*
 * tls_certs: a listener's server certificates. server_certificate and
 * server_private_key may repeat (the Nth key belongs to the Nth
 * certificate); the certificate whose DNS names match the client's server
 * name is used, an exact name before a wildcard, and of the pairs for the
 * same names (an ECDSA and an RSA one) OpenSSL takes the one the client's
 * signature algorithms allow.
 */
#ifndef MTLSLB_TLS_CERTS_H
#define MTLSLB_TLS_CERTS_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "config_sites.h"

struct diag;
struct listener_conf;

/* Most certificate and key pairs in one listener. */
#define TLS_CERTS_MAX	CONFIG_SITES_MAX_PAIRS

/*
 * Reads every pair of lc, checks each (chain, key against certificate,
 * server_name against the certificates' names: a warning) and loads the
 * first pair, with the later pairs for the same names, into ctx. Records
 * problems in d at the line of the key at fault.
 */
void tls_certs_load(SSL_CTX *ctx, const struct listener_conf *lc,
    struct diag *d);

/*
 * The i-th DNS name (lower case) of all of ctx's certificates, in file
 * order; NULL past the last.
 */
const char *tls_certs_name(SSL_CTX *ctx, size_t i);

/* The i-th leaf certificate of ctx (file order); NULL past the last. */
X509 *tls_certs_leaf(SSL_CTX *ctx, size_t i);

/*
 * Gives ssl (whose context is ctx) the pairs whose names match name (len
 * bytes, 0: no server name) best; without a match, ctx's own stay.
 */
void tls_certs_select(SSL *ssl, SSL_CTX *ctx, const char *name, size_t len);

#endif
