/*
 * tls_check: reads the PEM files a listener names and checks them the way
 * OpenSSL 3 will, so that `mtlslb -t` says what a handshake would refuse
 * (and why, and what to run instead) before any client finds out. It only
 * reads and records diagnostics: it never builds or changes an SSL_CTX.
 */
#include "ac_config.h"
#include "tls_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"
#include "tls_peer.h"

#define WEAK_MD_ADVICE \
	"which OpenSSL 3 refuses at security level 1 and above: " \
	"reissue it with -sha256"


static void
fmt_date(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/* Returns the name of a digest OpenSSL 3 refuses in signatures, or NULL. */
static const char *
weak_md(int mdnid)
{
	switch (mdnid) {
	case NID_md2:
		return "md2";
	case NID_md4:
		return "md4";
	case NID_md5:
		return "md5";
	case NID_md5_sha1:
		return "md5-sha1";
	case NID_sha1:
		return "sha1";
	default:
		return NULL;
	}
}

static int
cert_md(X509 *x)
{
	int mdnid = NID_undef;

	if (X509_get_signature_info(x, &mdnid, NULL, NULL, NULL) != 1)
		mdnid = NID_undef;
	return mdnid;
}

static bool
is_small_rsa(const EVP_PKEY *pk)
{
	return pk != NULL &&
	    (EVP_PKEY_is_a(pk, "RSA") || EVP_PKEY_is_a(pk, "RSA-PSS")) &&
	    EVP_PKEY_get_bits(pk) < 2048;
}

/* Never prompt on a terminal for a passphrase; note that one was wanted. */
static int
no_pass_cb(char *buf, int size, int rwflag, void *u)
{
	if (u != NULL)
		*(bool *)u = true;
	return -1;
}

/* Opens path for reading, or records why not under key at line. */
static BIO *
open_file(const char *key, const char *path, struct diag *d, int line)
{
	FILE *fp;
	BIO *b;

	if ((fp = fopen(path, "r")) == NULL) {
		diag_error(d, line, "%s: cannot open '%s': %s", key, path,
		    strerror(errno));
		return NULL;
	}
	if ((b = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		fclose(fp);
		diag_ssl(d, line, "%s: cannot read '%s'", key, path);
	}
	return b;
}

/* The end of a PEM file shows up as "no start line"; all else is damage. */
static bool
pem_clean_eof(void)
{
	unsigned long e = ERR_peek_last_error();

	return e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE);
}

/* Reads the next object of one kind from b into a stack; false at the end. */
typedef bool read_one_fn(BIO *b, void *sk);

static bool
read_one_cert(BIO *b, void *sk)
{
	X509 *x = PEM_read_bio_X509(b, NULL, no_pass_cb, NULL);

	if (x != NULL && sk_X509_push((STACK_OF(X509) *)sk, x) == 0)
		abort();
	return x != NULL;
}

static bool
read_one_crl(BIO *b, void *sk)
{
	X509_CRL *c = PEM_read_bio_X509_CRL(b, NULL, no_pass_cb, NULL);

	if (c != NULL && sk_X509_CRL_push((STACK_OF(X509_CRL) *)sk, c) == 0)
		abort();
	return c != NULL;
}

/*
 * Hands every PEM object of path to one, which keeps them in sk. Returns
 * 0, or -1 after recording why the file cannot be opened or parsed.
 */
static int
read_all(const char *key, const char *path, struct diag *d, int line,
    read_one_fn *one, void *sk)
{
	int rc = 0;
	BIO *b;

	if ((b = open_file(key, path, d, line)) == NULL)
		return -1;
	ERR_clear_error();
	while (one(b, sk))
		continue;
	if (!pem_clean_eof()) {
		diag_ssl(d, line, "%s: cannot parse '%s'", key, path);
		rc = -1;
	}
	ERR_clear_error();
	BIO_free(b);
	return rc;
}

STACK_OF(X509) *
tls_check_read_certs(const char *key, const char *path, struct diag *d,
    int line)
{
	STACK_OF(X509) *sk;

	if ((sk = sk_X509_new_null()) == NULL)
		abort();
	if (read_all(key, path, d, line, read_one_cert, sk) < 0) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	return sk;
}

STACK_OF(X509_CRL) *
tls_check_read_crls(const char *key, const char *path, struct diag *d,
    int line)
{
	STACK_OF(X509_CRL) *sk;

	if ((sk = sk_X509_CRL_new_null()) == NULL)
		abort();
	if (read_all(key, path, d, line, read_one_crl, sk) < 0) {
		sk_X509_CRL_pop_free(sk, X509_CRL_free);
		return NULL;
	}
	return sk;
}

/* True when b holds a PEM block named "... PRIVATE KEY"; rewinds b. */
static bool
has_pem_key(BIO *b)
{
	unsigned char *data;
	char *name, *header;
	bool found = false;
	size_t n;
	long len;

	while (!found && PEM_read_bio(b, &name, &header, &data, &len) == 1) {
		n = strlen(name);
		found = n >= 11 && strcmp(name + n - 11, "PRIVATE KEY") == 0;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	ERR_clear_error();
	(void)BIO_reset(b);
	return found;
}

EVP_PKEY *
tls_check_read_key(const char *key, const char *path, struct diag *d,
    int line)
{
	bool wanted_pass = false;
	EVP_PKEY *pk = NULL;
	BIO *b;

	if ((b = open_file(key, path, d, line)) == NULL)
		return NULL;
	ERR_clear_error();
	if (!has_pem_key(b))
		diag_error(d, line, "%s: no private key in '%s'", key, path);
	else if ((pk = PEM_read_bio_PrivateKey(b, NULL, no_pass_cb,
	    &wanted_pass)) != NULL)
		;
	else if (wanted_pass)
		diag_error(d, line, "%s: '%s' is encrypted and mtlslb cannot "
		    "ask for a passphrase: store it decrypted, readable by "
		    "root only", key, path);
	else
		diag_ssl(d, line, "%s: cannot parse '%s'", key, path);
	ERR_clear_error();
	BIO_free(b);
	return pk;
}

int
tls_check_read_pair(const struct tls_check_file *cert,
    const struct tls_check_file *key, struct diag *d,
    STACK_OF(X509) **chain, EVP_PKEY **pkey)
{
	STACK_OF(X509) *c;
	EVP_PKEY *pk = NULL;
	int rc = -1;

	*chain = NULL;
	*pkey = NULL;
	c = tls_check_read_certs(cert->key, cert->path, d, cert->line);
	if (c != NULL && sk_X509_num(c) == 0) {
		diag_error(d, cert->line, "%s: no certificate in '%s'",
		    cert->key, cert->path);
		sk_X509_free(c);
		c = NULL;
	}
	if (key->path != NULL)
		pk = tls_check_read_key(key->key, key->path, d, key->line);
	if (c == NULL || pk == NULL)
		goto out;
	if (X509_check_private_key(sk_X509_value(c, 0), pk) != 1) {
		ERR_clear_error();
		diag_error(d, key->line, "%s: '%s' does not match %s '%s'",
		    key->key, key->path, cert->key, cert->path);
		goto out;
	}
	*pkey = pk;
	pk = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	*chain = c;
	return rc;
}

/*
 * Warns about what OpenSSL 3 refuses in a certificate we hand out or
 * trust: an md5/sha1 signature (not for a self-signed anchor, whose own
 * signature nobody checks) and an RSA key under 2048 bits.
 */
static void
check_cert_strength(X509 *x, const char *key, struct diag *d, int line)
{
	const char *md;
	char *subj;

	subj = tls_peer_name(X509_get_subject_name(x));
	if ((md = weak_md(cert_md(x))) != NULL) {
		if (X509_self_signed(x, 0) == 1)
			diag_warn(d, line, "%s: '%s' is self-signed with %s: "
			    "OpenSSL 3 does not check a trust anchor's own "
			    "signature, but refuses any certificate signed "
			    "with %s at security level 1 and above: reissue "
			    "it with -sha256", key, subj, md, md);
		else
			diag_warn(d, line, "%s: '%s' is signed with %s, "
			    WEAK_MD_ADVICE, key, subj, md);
	}
	ERR_clear_error();
	if (is_small_rsa(X509_get0_pubkey(x)))
		diag_warn(d, line, "%s: '%s' has a %d-bit RSA key, which "
		    "OpenSSL refuses at security level 2 (the default here) "
		    "and above: reissue it with at least 2048 bits", key,
		    subj, EVP_PKEY_get_bits(X509_get0_pubkey(x)));
	ERR_clear_error();
	free(subj);
}

static void
check_server_leaf(X509 *x, struct diag *d, int line)
{
	char *subj, date[32];

	subj = tls_peer_name(X509_get_subject_name(x));
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0) {
		fmt_date(X509_get0_notAfter(x), date, sizeof(date));
		diag_warn(d, line, "server_certificate: '%s' expired on %s "
		    "(notAfter); clients will refuse it", subj, date);
	} else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		fmt_date(X509_get0_notBefore(x), date, sizeof(date));
		diag_warn(d, line, "server_certificate: '%s' is not valid "
		    "before %s (notBefore); clients will refuse it", subj,
		    date);
	}
	/* X509_get_extension_flags() also caches the extensions */
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) != 0 &&
	    (X509_get_extended_key_usage(x) & XKU_SSL_SERVER) == 0)
		diag_warn(d, line, "server_certificate: '%s' has an "
		    "extendedKeyUsage without serverAuth; clients will refuse "
		    "it", subj);
	/* Browsers and curl match the host name only against the SAN. */
	if (X509_get_ext_by_NID(x, NID_subject_alt_name, -1) < 0)
		diag_warn(d, line, "server_certificate: '%s' has no "
		    "subjectAltName; browsers and curl ignore the CN and will "
		    "refuse it: reissue it with -addext "
		    "'subjectAltName=DNS:host' (or mtlslb-certs server NAME "
		    "--san DNS:host)", subj);
	ERR_clear_error();
	free(subj);
}

void
tls_check_server_chain(STACK_OF(X509) *chain, struct diag *d, int line)
{
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (i == 0 || X509_self_signed(x, 0) != 1)
			check_cert_strength(x, "server_certificate", d, line);
	}
	if (sk_X509_num(chain) > 0)
		check_server_leaf(sk_X509_value(chain, 0), d, line);
}

static bool
crl_from(const STACK_OF(X509_CRL) *crls, const X509 *ca)
{
	int i;

	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(
		    sk_X509_CRL_value(crls, i)),
		    X509_get_subject_name(ca)) == 0)
			return true;
	return false;
}

/* True when ca issued another CA certificate of the bundle. */
static bool
issues_other_ca(STACK_OF(X509) *cas, X509 *ca)
{
	int i;

	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);

		if (x != ca && X509_check_issued(ca, x) == X509_V_OK)
			return true;
	}
	return false;
}

static X509 *
find_issuer(STACK_OF(X509) *cas, const X509_NAME *issuer)
{
	int i;

	for (i = 0; i < sk_X509_num(cas); i++)
		if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(cas, i)),
		    issuer) == 0)
			return sk_X509_value(cas, i);
	return NULL;
}

void
tls_check_crls(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *cas,
    const struct listener_conf *lc, struct diag *d)
{
	int i, mdnid, pknid;
	const char *md;
	char *iss, date[32];
	X509_CRL *crl;
	X509 *ca;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		iss = tls_peer_name(X509_CRL_get_issuer(crl));
		if (X509_CRL_get0_nextUpdate(crl) != NULL &&
		    X509_cmp_current_time(X509_CRL_get0_nextUpdate(crl)) < 0) {
			fmt_date(X509_CRL_get0_nextUpdate(crl), date,
			    sizeof(date));
			diag_warn(d, lc->crl_line, "crl: CRL from '%s' expired "
			    "on %s (nextUpdate); OpenSSL rejects every client "
			    "certificate with \"CRL has expired\" until a new "
			    "CRL is installed", iss, date);
		}
		if (OBJ_find_sigid_algs(X509_CRL_get_signature_nid(crl),
		    &mdnid, &pknid) == 1 && (md = weak_md(mdnid)) != NULL)
			diag_warn(d, lc->crl_line, "crl: CRL from '%s' is "
			    "signed with %s, a broken digest: have the CA "
			    "sign its CRLs with sha256", iss, md);
		if (cas != NULL) {
			ca = find_issuer(cas, X509_CRL_get_issuer(crl));
			if (ca == NULL)
				diag_warn(d, lc->crl_line, "crl: CRL from '%s' "
				    "has no matching CA in ca_certificate, so "
				    "it is never used", iss);
			else if (X509_CRL_verify(crl,
			    X509_get0_pubkey(ca)) != 1)
				diag_warn(d, lc->crl_line, "crl: CRL from '%s' "
				    "does not verify with that CA's key; "
				    "OpenSSL rejects every client certificate "
				    "it covers with \"CRL signature failure\"",
				    iss);
		}
		ERR_clear_error();
		free(iss);
	}
	if (cas == NULL)
		return;
	/*
	 * nginx's trap: a CA without a CRL of its own makes OpenSSL reject
	 * every certificate below it with "unable to get certificate CRL".
	 * crl_check = chain needs one from every CA; leaf checking needs one
	 * at least from each CA that issues no other CA of the bundle.
	 */
	for (i = 0; i < sk_X509_num(cas); i++) {
		ca = sk_X509_value(cas, i);
		if (crl_from(crls, ca))
			continue;
		iss = tls_peer_name(X509_get_subject_name(ca));
		if (lc->crl_check_chain)
			diag_warn(d, lc->crl_check_line, "crl_check = chain "
			    "but no CRL for CA '%s'", iss);
		else if (!issues_other_ca(cas, ca))
			diag_warn(d, lc->crl_line, "crl: no CRL for CA '%s', "
			    "so OpenSSL rejects every client certificate it "
			    "issued with \"unable to get certificate CRL\"",
			    iss);
		free(iss);
	}
}

/*
 * True when x can anchor a client's chain: a CA as OpenSSL's
 * X509_check_ca() sees it (basicConstraints CA:TRUE, or a self-signed v1
 * certificate, or keyCertSign without basicConstraints), or any
 * self-signed certificate, which OpenSSL trusts for itself alone when a
 * client presents exactly it (pinning).
 */
static bool
can_anchor(X509 *x)
{
	return X509_check_ca(x) != 0 || X509_self_signed(x, 0) == 1;
}

void
tls_check_cas(STACK_OF(X509) *cas, const struct listener_conf *lc,
    struct diag *d)
{
	int line = lc->ca_certificate_line;
	char *subj, *iss;
	bool none = true;
	X509 *x;
	int i;

	for (i = 0; i < sk_X509_num(cas) && none; i++)
		none = !can_anchor(sk_X509_value(cas, i));
	ERR_clear_error();
	if (none && sk_X509_num(cas) > 0) {
		/* the usual slip: the client certificate instead of its CA */
		x = sk_X509_value(cas, 0);
		subj = tls_peer_name(X509_get_subject_name(x));
		iss = tls_peer_name(X509_get_issuer_name(x));
		diag_error(d, line, "ca_certificate: '%s' holds only "
		    "end-entity certificates ('%s'%s), no CA, so no client "
		    "certificate can ever verify: use the root or "
		    "intermediate CA certificate that signed the client "
		    "certificates instead, e.g. root.crt ('%s' was issued by "
		    "'%s')", lc->ca_certificate, subj,
		    sk_X509_num(cas) > 1 ? ", ..." : "", subj, iss);
		free(iss);
		free(subj);
	}
	for (i = 0; i < sk_X509_num(cas); i++) {
		x = sk_X509_value(cas, i);
		check_cert_strength(x, "ca_certificate", d, line);
		subj = tls_peer_name(X509_get_subject_name(x));
		if (X509_check_ca(x) == 0) {
			if (!none)
				diag_warn(d, line, "ca_certificate: '%s' is "
				    "not a CA certificate, so it cannot issue "
				    "client certificates", subj);
		} else if (X509_self_signed(x, 0) != 1 &&
		    find_issuer(cas, X509_get_issuer_name(x)) == NULL) {
			iss = tls_peer_name(X509_get_issuer_name(x));
			diag_warn(d, line, "ca_certificate: the issuer '%s' "
			    "of '%s' is not in '%s', so OpenSSL rejects its "
			    "client certificates with \"unable to get issuer "
			    "certificate\"", iss, subj, lc->ca_certificate);
			free(iss);
		}
		ERR_clear_error();
		free(subj);
	}
}
