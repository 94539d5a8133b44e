/*
 * tls: builds one SSL_CTX per listener (server chain and key, client CAs,
 * CRLs, protocol and session policy), checks the listener's files with
 * diagnostics that name the key, the file and the fix, and describes the
 * client certificate after a handshake. In reject_with = http_400 mode the
 * verify callback only records: it must never fail a handshake.
 */
#include "ac_config.h"
#include "tls.h"

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
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"
#include "util.h"

/* TLS 1.2: forward secrecy and AEAD only. TLS 1.3 keeps its defaults. */
#define TLS12_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS	"X25519:P-256:P-384"

#define WEAK_MD_ADVICE \
	"which OpenSSL 3 refuses at security level 1 and above: " \
	"reissue it with -sha256"

/*
 * What the verify callback saw first, kept in the SSL's ex_data: OpenSSL
 * drops the peer certificate when the handshake fails, and its
 * verify_result holds the last error rather than the first.
 */
struct verify_rec {
	long err;
	X509 *leaf;			/* a reference to the client's leaf */
	char *reason;			/* weak-crypto wording, or NULL */
};

static int verify_idx = -1;

static char *name_str(const X509_NAME *n);

/* Expiry dates noted while the context is built (SSL_CTX ex_data). */
static int expiry_idx = -1;

static void
expiry_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	free(ptr);
}

static long
asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (long)timegm(&tm);
}

static struct tls_expiry *
expiry_of(SSL_CTX *ctx)
{
	struct tls_expiry *e = SSL_CTX_get_ex_data(ctx, expiry_idx);

	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		SSL_CTX_set_ex_data(ctx, expiry_idx, e);
	}
	return e;
}

/* Earliest CA notAfter and CRL nextUpdate: what expires first. */
static void
note_client_expiry(SSL_CTX *ctx, STACK_OF(X509) *cas,
    STACK_OF(X509_CRL) *crls)
{
	struct tls_expiry *e = expiry_of(ctx);
	int i;

	for (i = 0; i < sk_X509_num(cas); i++) {
		long t = asn1_unix(X509_get0_notAfter(sk_X509_value(cas, i)));

		if (t != 0 && (e->ca == 0 || t < e->ca))
			e->ca = t;
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		long t = asn1_unix(X509_CRL_get0_nextUpdate(
		    sk_X509_CRL_value(crls, i)));

		if (t != 0 && (e->crl == 0 || t < e->crl))
			e->crl = t;
	}
}

static void
note_server_expiry(SSL_CTX *ctx)
{
	struct tls_expiry *e = expiry_of(ctx);
	X509 *x = SSL_CTX_get0_certificate(ctx);
	char *subj;

	if (x == NULL)
		return;
	e->server = asn1_unix(X509_get0_notAfter(x));
	if ((subj = name_str(X509_get_subject_name(x))) != NULL) {
		snprintf(e->server_subject, sizeof(e->server_subject), "%s",
		    subj);
		free(subj);
	}
}

void
tls_ctx_expiry(SSL_CTX *ctx, struct tls_expiry *out)
{
	struct tls_expiry *e = NULL;

	if (ctx != NULL && expiry_idx >= 0)
		e = SSL_CTX_get_ex_data(ctx, expiry_idx);
	if (e != NULL)
		*out = *e;
	else
		memset(out, 0, sizeof(*out));
}

static BIO *
xbio_mem(void)
{
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL) {
		fprintf(stderr, "mtlslb: out of memory (BIO)\n");
		abort();
	}
	return b;
}

/* Returns the RFC 2253 form of n; the caller owns it. */
static char *
name_str(const X509_NAME *n)
{
	BIO *b;
	char *p, *s;
	long len;

	if (n == NULL)
		return xstrdup("");
	b = xbio_mem();
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253);
	len = BIO_get_mem_data(b, &p);
	s = xstrndup(len > 0 ? p : "", len > 0 ? (size_t)len : 0);
	BIO_free(b);
	return s;
}

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

/*
 * Reads every certificate of a PEM file. Returns a stack the caller owns
 * (empty when the file holds none), or NULL after recording an error.
 */
static STACK_OF(X509) *
read_certs(const char *key, const char *path, struct diag *d, int line)
{
	STACK_OF(X509) *sk;
	X509 *x;
	BIO *b;

	if ((b = open_file(key, path, d, line)) == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		abort();
	ERR_clear_error();
	while ((x = PEM_read_bio_X509(b, NULL, no_pass_cb, NULL)) != NULL)
		if (sk_X509_push(sk, x) == 0)
			abort();
	if (!pem_clean_eof()) {
		diag_ssl(d, line, "%s: cannot parse '%s'", key, path);
		sk_X509_pop_free(sk, X509_free);
		sk = NULL;
	}
	ERR_clear_error();
	BIO_free(b);
	return sk;
}

/* Like read_certs, for CRLs. */
static STACK_OF(X509_CRL) *
read_crls(const char *key, const char *path, struct diag *d, int line)
{
	STACK_OF(X509_CRL) *sk;
	X509_CRL *c;
	BIO *b;

	if ((b = open_file(key, path, d, line)) == NULL)
		return NULL;
	if ((sk = sk_X509_CRL_new_null()) == NULL)
		abort();
	ERR_clear_error();
	while ((c = PEM_read_bio_X509_CRL(b, NULL, no_pass_cb, NULL)) != NULL)
		if (sk_X509_CRL_push(sk, c) == 0)
			abort();
	if (!pem_clean_eof()) {
		diag_ssl(d, line, "%s: cannot parse '%s'", key, path);
		sk_X509_CRL_pop_free(sk, X509_CRL_free);
		sk = NULL;
	}
	ERR_clear_error();
	BIO_free(b);
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

static EVP_PKEY *
read_key(const char *key, const char *path, struct diag *d, int line)
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

	subj = name_str(X509_get_subject_name(x));
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

	subj = name_str(X509_get_subject_name(x));
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

/* Loads the server chain and key into ctx, recording every problem. */
static void
load_server(SSL_CTX *ctx, const struct listener_conf *lc, struct diag *d)
{
	const char *cpath = lc->server_certificate;
	const char *kpath = lc->server_private_key;
	int cline = lc->server_certificate_line;
	int kline = lc->server_private_key_line;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pk = NULL;
	X509 *leaf = NULL;
	bool leaf_used = false;
	int i;

	if (cpath == NULL)
		diag_error(d, lc->line, "server_certificate: missing");
	else if ((chain = read_certs("server_certificate", cpath, d,
	    cline)) != NULL && sk_X509_num(chain) == 0)
		diag_error(d, cline, "server_certificate: no certificate in "
		    "'%s'", cpath);
	if (chain != NULL && sk_X509_num(chain) > 0) {
		for (i = 0; i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);

			if (i == 0 || X509_self_signed(x, 0) != 1)
				check_cert_strength(x, "server_certificate",
				    d, cline);
		}
		leaf = sk_X509_value(chain, 0);
		check_server_leaf(leaf, d, cline);
		/* what SSL_CTX_use_certificate_chain_file() does, parsed once */
		if (SSL_CTX_use_certificate(ctx, leaf) != 1)
			diag_ssl(d, cline, "server_certificate: cannot use "
			    "'%s'", cpath);
		else
			leaf_used = true;
		for (i = 1; leaf_used && i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);

			if (SSL_CTX_add1_chain_cert(ctx, x) != 1) {
				char *subj = name_str(
				    X509_get_subject_name(x));

				diag_ssl(d, cline, "server_certificate: "
				    "cannot use '%s' from '%s'", subj, cpath);
				free(subj);
			}
		}
	}

	if (kpath == NULL)
		diag_error(d, lc->line, "server_private_key: missing");
	else
		pk = read_key("server_private_key", kpath, d, kline);
	if (pk != NULL && leaf != NULL) {
		if (X509_check_private_key(leaf, pk) != 1) {
			ERR_clear_error();
			diag_error(d, kline, "server_private_key: '%s' does "
			    "not match server_certificate '%s'", kpath, cpath);
		} else if (leaf_used) {
			if (SSL_CTX_use_PrivateKey(ctx, pk) != 1)
				diag_ssl(d, kline, "server_private_key: "
				    "cannot use '%s'", kpath);
			else if (SSL_CTX_check_private_key(ctx) != 1)
				diag_ssl(d, kline, "server_private_key: '%s' "
				    "does not match server_certificate '%s'",
				    kpath, cpath);
		}
	}
	EVP_PKEY_free(pk);
	sk_X509_pop_free(chain, X509_free);
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

/* Checks the CRLs against the CA bundle (cas may be NULL). */
static void
check_crls(STACK_OF(X509_CRL) *crls, STACK_OF(X509) *cas,
    const struct listener_conf *lc, struct diag *d)
{
	int i, mdnid, pknid;
	const char *md;
	char *iss, date[32];
	X509_CRL *crl;
	X509 *ca;

	for (i = 0; i < sk_X509_CRL_num(crls); i++) {
		crl = sk_X509_CRL_value(crls, i);
		iss = name_str(X509_CRL_get_issuer(crl));
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
		iss = name_str(X509_get_subject_name(ca));
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

/* Warns about bundle entries that cannot work as issuers. */
static void
check_cas(STACK_OF(X509) *cas, const struct listener_conf *lc,
    struct diag *d)
{
	int line = lc->ca_certificate_line;
	char *subj, *iss;
	X509 *x;
	int i;

	for (i = 0; i < sk_X509_num(cas); i++) {
		x = sk_X509_value(cas, i);
		check_cert_strength(x, "ca_certificate", d, line);
		subj = name_str(X509_get_subject_name(x));
		if (X509_check_ca(x) == 0)
			diag_warn(d, line, "ca_certificate: '%s' is not a CA "
			    "certificate, so it cannot issue client "
			    "certificates", subj);
		else if (X509_self_signed(x, 0) != 1 &&
		    find_issuer(cas, X509_get_issuer_name(x)) == NULL) {
			iss = name_str(X509_get_issuer_name(x));
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

static void
verify_rec_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct verify_rec *vr = ptr;

	if (vr == NULL)
		return;
	X509_free(vr->leaf);
	free(vr->reason);
	free(vr);
}

/* Words for the verify errors that only mean "too weak for this level". */
static char *
weak_reason(X509_STORE_CTX *xs, long err, int level)
{
	X509 *x = X509_STORE_CTX_get_current_cert(xs);
	const EVP_PKEY *pk;
	char buf[512], *subj;
	int depth = X509_STORE_CTX_get_error_depth(xs);
	int sig;

	if (x == NULL)
		return NULL;
	subj = name_str(X509_get_subject_name(x));
	switch (err) {
	case X509_V_ERR_CA_MD_TOO_WEAK:
		sig = X509_get_signature_nid(x);
		snprintf(buf, sizeof(buf), "certificate signature algorithm "
		    "too weak for OpenSSL security level %d (%s%s%s%s)", level,
		    sig != NID_undef ? OBJ_nid2ln(sig) : "unknown",
		    depth > 0 ? " in '" : "", depth > 0 ? subj : "",
		    depth > 0 ? "'" : "");
		break;
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
		pk = X509_get0_pubkey(x);
		snprintf(buf, sizeof(buf), "%s key too small for OpenSSL "
		    "security level %d (%s %d bits%s%s%s)",
		    err == X509_V_ERR_EE_KEY_TOO_SMALL ?
		    "client certificate" : "CA certificate", level,
		    pk != NULL ? EVP_PKEY_get0_type_name(pk) : "unknown",
		    pk != NULL ? EVP_PKEY_get_bits(pk) : 0,
		    depth > 0 ? " in '" : "", depth > 0 ? subj : "",
		    depth > 0 ? "'" : "");
		break;
	default:
		free(subj);
		return NULL;
	}
	free(subj);
	return xstrdup(buf);
}

/* Keeps the first failure of this handshake (see struct verify_rec). */
static void
verify_record(int ok, X509_STORE_CTX *xs)
{
	struct verify_rec *vr;
	X509 *leaf;
	SSL *ssl;

	if (ok || verify_idx < 0)
		return;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || SSL_get_ex_data(ssl, verify_idx) != NULL)
		return;
	vr = xcalloc(1, sizeof(*vr));
	vr->err = X509_STORE_CTX_get_error(xs);
	if (vr->err == X509_V_OK)
		vr->err = X509_V_ERR_UNSPECIFIED;
	if ((leaf = X509_STORE_CTX_get0_cert(xs)) != NULL &&
	    X509_up_ref(leaf) == 1)
		vr->leaf = leaf;
	vr->reason = weak_reason(xs, vr->err, SSL_get_security_level(ssl));
	if (SSL_set_ex_data(ssl, verify_idx, vr) != 1)
		verify_rec_free(NULL, vr, NULL, 0, 0, NULL);
}

/* reject_with = http_400: record, never fail; the HTTP layer decides. */
static int
verify_record_cb(int ok, X509_STORE_CTX *xs)
{
	verify_record(ok, xs);
	return 1;
}

/* reject_with = tls_alert: OpenSSL sends the alert matching the error. */
static int
verify_alert_cb(int ok, X509_STORE_CTX *xs)
{
	verify_record(ok, xs);
	return ok;
}

/* Offers "http/1.1" when the client lists it; otherwise no ALPN at all. */
static int
alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int i, n;

	for (i = 0; i < inlen; i += 1 + n) {
		n = in[i];
		if (n == 0 || n > inlen - i - 1)
			break;
		if (n == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* Loads the client CAs and CRLs and sets the verify policy. */
static void
load_client_verify(SSL_CTX *ctx, const struct listener_conf *lc,
    struct diag *d)
{
	STACK_OF(X509_NAME) *names = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	STACK_OF(X509) *cas = NULL;
	X509_STORE *st = NULL;
	unsigned long flags;
	int i, j, mode;

	if (lc->ca_certificate == NULL) {
		diag_error(d, lc->mutual_authentication_line,
		    "mutual_authentication: needs ca_certificate");
	} else if ((cas = read_certs("ca_certificate", lc->ca_certificate, d,
	    lc->ca_certificate_line)) != NULL && sk_X509_num(cas) == 0) {
		diag_error(d, lc->ca_certificate_line, "ca_certificate: no "
		    "certificate in '%s'", lc->ca_certificate);
		sk_X509_free(cas);
		cas = NULL;
	}
	if (cas != NULL)
		check_cas(cas, lc, d);
	if (lc->crl != NULL) {
		crls = read_crls("crl", lc->crl, d, lc->crl_line);
		if (crls != NULL && sk_X509_CRL_num(crls) == 0) {
			diag_error(d, lc->crl_line, "crl: no CRL in '%s'",
			    lc->crl);
			sk_X509_CRL_free(crls);
			crls = NULL;
		}
		if (crls != NULL)
			check_crls(crls, cas, lc, d);
	} else if (lc->crl_check_chain)
		diag_warn(d, lc->crl_check_line, "crl_check: has no effect "
		    "without crl");
	if (cas == NULL || (lc->crl != NULL && crls == NULL))
		goto out;

	if ((st = X509_STORE_new()) == NULL ||
	    (names = sk_X509_NAME_new_null()) == NULL)
		abort();
	for (i = 0; i < sk_X509_num(cas); i++) {
		X509 *x = sk_X509_value(cas, i);
		X509_NAME *n = X509_get_subject_name(x);

		if (X509_STORE_add_cert(st, x) != 1)
			diag_ssl(d, lc->ca_certificate_line, "ca_certificate: "
			    "cannot use '%s'", lc->ca_certificate);
		/* one name per CA in the CertificateRequest */
		for (j = 0; j < sk_X509_NAME_num(names); j++)
			if (X509_NAME_cmp(sk_X509_NAME_value(names, j), n) == 0)
				break;
		if (j == sk_X509_NAME_num(names) &&
		    sk_X509_NAME_push(names, X509_NAME_dup(n)) == 0)
			abort();
	}
	for (i = 0; i < sk_X509_CRL_num(crls); i++)
		if (X509_STORE_add_crl(st, sk_X509_CRL_value(crls, i)) != 1)
			diag_ssl(d, lc->crl_line, "crl: cannot use '%s'",
			    lc->crl);
	if (SSL_CTX_set1_verify_cert_store(ctx, st) != 1)
		diag_ssl(d, lc->ca_certificate_line, "ca_certificate: cannot "
		    "use '%s'", lc->ca_certificate);
	SSL_CTX_set_client_CA_list(ctx, names);		/* takes names */
	names = NULL;

	SSL_CTX_set_verify_depth(ctx, (int)lc->verify_depth);
	if (SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
		diag_ssl(d, lc->line, "cannot set the clientAuth purpose");
	if (crls != NULL) {
		flags = X509_V_FLAG_CRL_CHECK;
		if (lc->crl_check_chain)
			flags |= X509_V_FLAG_CRL_CHECK_ALL;
		X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), flags);
	}
	mode = SSL_VERIFY_PEER;
	if (lc->reject_tls_alert && lc->mutual_authentication == MTLS_ON)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(ctx, mode,
	    lc->reject_tls_alert ? verify_alert_cb : verify_record_cb);
	note_client_expiry(ctx, cas, crls);
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	X509_STORE_free(st);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(cas, X509_free);
}

/*
 * Without a session id context OpenSSL refuses to resume any session that
 * carries a verified client certificate, failing the handshake instead.
 */
static void
set_sessions(SSL_CTX *ctx, const struct listener_conf *lc, struct diag *d)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	const char *name = lc->name != NULL ? lc->name : "";
	char buf[256];
	long timeout;

	snprintf(buf, sizeof(buf), "mtlslb listener %s", name);
	if (EVP_Digest(buf, strlen(buf), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, md,
	    mdlen < SSL_MAX_SID_CTX_LENGTH ? mdlen : SSL_MAX_SID_CTX_LENGTH)
	    != 1)
		diag_ssl(d, lc->line, "cannot set the session id context");

	/*
	 * TLS 1.3 stateless tickets cost as much as a full handshake on
	 * OpenSSL 3.0; one stateful ticket from the bounded cache is cheap.
	 */
	if (lc->session_cache_size > 0) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, (long)lc->session_cache_size);
		timeout = (long)(lc->session_timeout_ms / 1000);
		SSL_CTX_set_timeout(ctx, timeout > 0 ? timeout : 1);
		SSL_CTX_set_num_tickets(ctx, 1);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_num_tickets(ctx, 0);
	}
}

SSL_CTX *
tls_ctx_new(const struct listener_conf *lc, struct diag *d)
{
	size_t errors = diag_errors(d);
	SSL_CTX *ctx;

	ERR_clear_error();
	if (verify_idx < 0)
		verify_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    verify_rec_free);
	if (expiry_idx < 0)
		expiry_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL,
		    expiry_free);
	if (verify_idx < 0 ||
	    (ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		diag_ssl(d, lc->line, "cannot create a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, lc->tls_min_version) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		diag_ssl(d, lc->line, "tls_min_version: cannot set 0x%04x",
		    (unsigned)lc->tls_min_version);
	if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1)
		diag_ssl(d, lc->line, "cannot set the TLS 1.2 ciphers");
	if (SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
		diag_ssl(d, lc->line, "cannot set the groups " TLS_GROUPS);
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_NO_TICKET);
	/* the chain comes from server_certificate, never from the store */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_NO_AUTO_CHAIN);
	/*
	 * No read_ahead: bufferevent_openssl only reads again when the
	 * socket is readable, so records OpenSSL had already buffered would
	 * wait for the client's next packet.
	 */
	set_sessions(ctx, lc, d);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select_cb, NULL);

	load_server(ctx, lc, d);
	note_server_expiry(ctx);
	if (lc->mutual_authentication != MTLS_OFF)
		load_client_verify(ctx, lc, d);
	else
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);

	ERR_clear_error();
	if (diag_errors(d) > errors) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static char *
hex(const unsigned char *p, size_t n, bool upper, char *out)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
	return out;
}

static char *
serial_str(X509 *x)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *p;
	char *s;
	int n;

	if (sn == NULL)
		return xstrdup("");
	p = ASN1_STRING_get0_data(sn);
	n = ASN1_STRING_length(sn);
	if (n <= 0)
		return xstrdup("00");
	s = xmalloc(2 * (size_t)n + 2);
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER) {
		s[0] = '-';
		hex(p, (size_t)n, true, s + 1);
	} else
		hex(p, (size_t)n, true, s);
	return s;
}

struct peer_cert *
tls_peer_cert_new(SSL *ssl)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	struct verify_rec *vr = NULL;
	struct peer_cert *pc;
	unsigned int mdlen = 0;
	X509 *x;

	pc = xcalloc(1, sizeof(*pc));
	pc->verdict = TLS_PEER_NONE;
	pc->verify_err = X509_V_OK;
	if (verify_idx >= 0)
		vr = SSL_get_ex_data(ssl, verify_idx);
	if ((x = SSL_get0_peer_certificate(ssl)) == NULL && vr != NULL)
		x = vr->leaf;
	if (x == NULL)
		return pc;

	pc->subject = name_str(X509_get_subject_name(x));
	pc->issuer = name_str(X509_get_issuer_name(x));
	pc->serial = serial_str(x);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
		hex(md, mdlen, false, pc->fingerprint);
	ERR_clear_error();

	/* a resumed session has no callback record, only its stored result */
	pc->verify_err = vr != NULL ? vr->err : SSL_get_verify_result(ssl);
	if (pc->verify_err == X509_V_OK) {
		pc->verdict = TLS_PEER_OK;
		return pc;
	}
	pc->verdict = TLS_PEER_FAILED;
	if (vr != NULL && vr->reason != NULL)
		pc->reason = xstrdup(vr->reason);
	else
		pc->reason = xstrdup(X509_verify_cert_error_string(
		    pc->verify_err));
	return pc;
}

enum tls_verdict
tls_peer_verdict(SSL *ssl)
{
	struct verify_rec *vr = NULL;
	long err;

	if (verify_idx >= 0)
		vr = SSL_get_ex_data(ssl, verify_idx);
	if (SSL_get0_peer_certificate(ssl) == NULL &&
	    (vr == NULL || vr->leaf == NULL))
		return TLS_PEER_NONE;
	err = vr != NULL ? vr->err : SSL_get_verify_result(ssl);
	return err == X509_V_OK ? TLS_PEER_OK : TLS_PEER_FAILED;
}

void
tls_peer_cert_free(struct peer_cert *pc)
{
	if (pc == NULL)
		return;
	free(pc->subject);
	free(pc->issuer);
	free(pc->serial);
	free(pc->reason);
	free(pc);
}

void
tls_peer_describe(const struct peer_cert *pc, char *buf, size_t len)
{
	if (len == 0)
		return;
	switch (pc->verdict) {
	case TLS_PEER_NONE:
		snprintf(buf, len, "no client certificate presented");
		break;
	case TLS_PEER_OK:
		snprintf(buf, len, "ok: subject=%s issuer=%s",
		    pc->subject != NULL ? pc->subject : "",
		    pc->issuer != NULL ? pc->issuer : "");
		break;
	case TLS_PEER_FAILED:
	default:
		snprintf(buf, len, "%s (%ld): subject=%s issuer=%s",
		    pc->reason != NULL ? pc->reason : "verify failed",
		    pc->verify_err,
		    pc->subject != NULL ? pc->subject : "",
		    pc->issuer != NULL ? pc->issuer : "");
		break;
	}
}

const char *
tls_reason_class(const struct peer_cert *pc)
{
	if (pc->verdict == TLS_PEER_NONE)
		return "no_cert";
	if (pc->verdict == TLS_PEER_OK)
		return "ok";
	switch (pc->verify_err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return "unknown_ca";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "expired";
	case X509_V_ERR_CERT_REVOKED:
		return "revoked";
	case X509_V_ERR_CRL_HAS_EXPIRED:
		return "crl_expired";
	case X509_V_ERR_INVALID_PURPOSE:
		return "bad_purpose";
	default:
		return "other";
	}
}
