/*
 * tls_check: reads a listener's certificate, key, CA and CRL files and
 * explains, as diagnostics at the line of the key that named them, what
 * OpenSSL would refuse in them and how to fix it. Used by tls_ctx_new().
 */
#ifndef MTLSLB_TLS_CHECK_H
#define MTLSLB_TLS_CHECK_H

#include <openssl/evp.h>
#include <openssl/x509.h>

struct diag;
struct listener_conf;

/*
 * Reads every certificate of the PEM file path, named by key at line.
 * Returns a stack the caller owns (empty when the file holds none), or
 * NULL after recording why not in d.
 */
STACK_OF(X509) *tls_check_read_certs(const char *key, const char *path,
    struct diag *d, int line);

/* Like tls_check_read_certs(), for CRLs. */
STACK_OF(X509_CRL) *tls_check_read_crls(const char *key, const char *path,
    struct diag *d, int line);

/*
 * Reads the unencrypted private key in path (never prompting for a
 * passphrase). Returns it, the caller's to free, or NULL after recording
 * why not in d.
 */
EVP_PKEY *tls_check_read_key(const char *key, const char *path,
    struct diag *d, int line);

/*
 * Warns about a server chain (leaf first) that clients or OpenSSL will
 * refuse: weak signatures and keys, dates, extendedKeyUsage, no SAN.
 */
void tls_check_server_chain(STACK_OF(X509) *chain, struct diag *d, int line);

/*
 * Records an error when no certificate of cas can anchor a client chain
 * (only end-entity certificates, none self-signed), and warns about the
 * entries that cannot work as issuers in a bundle that has some CA.
 */
void tls_check_cas(STACK_OF(X509) *cas, const struct listener_conf *lc,
    struct diag *d);

/*
 * Warns about CRLs that are expired, weakly signed, from no CA of cas or
 * not signed by it, and about CAs of cas (may be NULL) without the CRL
 * OpenSSL will ask for.
 */
void tls_check_crls(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *cas,
    const struct listener_conf *lc, struct diag *d);

#endif
