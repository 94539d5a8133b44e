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
 * A certificate and its key, as a listener's server_certificate and
 * server_private_key or a group's backend_certificate and
 * backend_private_key are: reads the chain in cert (leaf first) and the
 * key in key (none when key->path is NULL) and checks that they belong
 * together. Every problem is recorded in d at the line of its key.
 * Returns 0 with both; otherwise -1, and *chain is still set (the
 * caller's to free) when the certificates were readable, for checks
 * that concern them alone. On 0 the caller owns *chain and *pkey.
 */
struct tls_check_file {
	const char *key;	/* the config key, for messages */
	const char *path;
	int line;
};
int tls_check_read_pair(const struct tls_check_file *cert,
    const struct tls_check_file *key, struct diag *d,
    STACK_OF(X509) **chain, EVP_PKEY **pkey);

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
