/*
 * tls_peer: what a handshake says about the client certificate. The
 * verify callback only records the first failure (OpenSSL keeps the last
 * one and drops the certificate of a failed handshake); the verdict and
 * the names are read from that record afterwards. Nothing here decides
 * to reject a request: the connection does, from the verdict.
 */
#include "ac_config.h"
#include "tls_peer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util.h"

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
/*
 * A peer_cert built for the session's identity record during the
 * handshake, handed to the connection's first tls_peer_cert_new() so that
 * a full handshake formats the client's names once.
 */
static int built_idx = -1;

static struct peer_cert *build(SSL *ssl);

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

char *
tls_peer_name(const X509_NAME *n)
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

static void
built_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	tls_peer_cert_free(ptr);
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
	subj = tls_peer_name(X509_get_subject_name(x));
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

char *
tls_peer_sans(X509 *x)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const unsigned char *d;
	char *out = xstrdup("");
	size_t len = 0, n, j;
	char t;
	int i;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			t = 'D';
		else if (g->type == GEN_URI)
			t = 'U';
		else if (g->type == GEN_EMAIL)
			t = 'E';
		else
			continue;
		d = ASN1_STRING_get0_data(g->d.ia5);
		n = (size_t)ASN1_STRING_length(g->d.ia5);
		for (j = 0; j < n; j++)
			if (d[j] < 0x20 || d[j] == 0x7f)
				break;
		if (n == 0 || j < n)
			continue;	/* a name no rule could match */
		out = xrealloc(out, len + n + 4);
		if (len > 0)
			out[len++] = '\n';
		out[len++] = t;
		out[len++] = ':';
		memcpy(out + len, d, n);
		len += n;
		out[len] = '\0';
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return out;
}

/*
 * The identity record a shared-cache session carries instead of the
 * client certificate (see tls_session.c): decoding a certificate is most
 * of a resumption's CPU on OpenSSL 3.0, so the stored session drops it and
 * keeps, in its ticket appdata, what the certificate was read for:
 *   "mtlslb-id1" NUL notAfter NUL subject NUL issuer NUL serial NUL
 *   fingerprint NUL sans NUL
 * (sans as in struct peer_cert, for the allow rules; a record written
 * before it was added ends after the fingerprint and reads as "no SAN").
 * Only a verified certificate's record is ever written; one that does
 * not fit (many SANs) leaves the certificate in the session instead.
 */
#define ID_MAGIC	"mtlslb-id1"
#define ID_FIELDS	7

static size_t
put_field(unsigned char *buf, size_t cap, size_t off, const char *s)
{
	size_t n = strlen(s) + 1;

	if (off == 0 || off > cap || n > cap - off)
		return 0;
	memcpy(buf + off, s, n);
	return off + n;
}

size_t
tls_peer_record(SSL *ssl, unsigned char *buf, size_t cap)
{
	struct peer_cert *pc;
	char when[24];
	size_t off;
	int days = 0, secs = 0;

	if (SSL_get0_peer_certificate(ssl) == NULL ||
	    tls_peer_verdict(ssl) != TLS_PEER_OK ||
	    ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(
	    SSL_get0_peer_certificate(ssl))) != 1)
		return 0;
	snprintf(when, sizeof(when), "%lld", (long long)time(NULL) +
	    (long long)days * 86400 + secs);
	if (cap < sizeof(ID_MAGIC))
		return 0;
	memcpy(buf, ID_MAGIC, sizeof(ID_MAGIC));
	off = sizeof(ID_MAGIC);
	if (built_idx < 0 || (pc = SSL_get_ex_data(ssl, built_idx)) == NULL) {
		pc = build(ssl);
		if (built_idx < 0 || SSL_set_ex_data(ssl, built_idx, pc) != 1) {
			ERR_clear_error();
			tls_peer_cert_free(pc);
			return 0;
		}
	}
	off = put_field(buf, cap, off, when);
	off = put_field(buf, cap, off, pc->subject);
	off = put_field(buf, cap, off, pc->issuer);
	off = put_field(buf, cap, off, pc->serial);
	off = put_field(buf, cap, off, pc->fingerprint);
	off = put_field(buf, cap, off, pc->sans != NULL ? pc->sans : "");
	return off;
}

/*
 * Splits the record of ssl's session into f[ID_FIELDS] (f[0] the magic);
 * false when the session carries none.
 */
static bool
record_of(SSL *ssl, const char *f[ID_FIELDS])
{
	SSL_SESSION *sess = SSL_get_session(ssl);
	const char *p;
	void *data = NULL;
	size_t len = 0, off = 0;
	unsigned i;

	if (sess == NULL || !SSL_session_reused(ssl) ||
	    SSL_SESSION_get0_ticket_appdata(sess, &data, &len) != 1 ||
	    data == NULL || len < sizeof(ID_MAGIC) ||
	    memcmp(data, ID_MAGIC, sizeof(ID_MAGIC)) != 0 ||
	    ((const char *)data)[len - 1] != '\0')
		return false;
	p = data;
	for (i = 0; i < ID_FIELDS; i++) {
		if (off >= len && i == ID_FIELDS - 1) {
			f[i] = "";	/* an older record: no sans */
			break;
		}
		if (off >= len)
			return false;
		f[i] = p + off;
		off += strlen(p + off) + 1;
	}
	return true;
}

long
tls_peer_record_not_after(SSL_SESSION *sess)
{
	void *data = NULL;
	size_t len = 0;
	const char *p;

	if (SSL_SESSION_get0_ticket_appdata(sess, &data, &len) != 1 ||
	    data == NULL || len < sizeof(ID_MAGIC) + 2 ||
	    memcmp(data, ID_MAGIC, sizeof(ID_MAGIC)) != 0 ||
	    ((const char *)data)[len - 1] != '\0')
		return 0;
	p = (const char *)data + sizeof(ID_MAGIC);
	return strtol(p, NULL, 10);
}

struct peer_cert *
tls_peer_cert_new(SSL *ssl)
{
	struct peer_cert *pc;

	if (built_idx >= 0 && (pc = SSL_get_ex_data(ssl, built_idx)) != NULL) {
		/* the caller takes it over */
		(void)SSL_set_ex_data(ssl, built_idx, NULL);
		return pc;
	}
	return build(ssl);
}

static struct peer_cert *
build(SSL *ssl)
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
	if (x == NULL) {
		const char *f[ID_FIELDS];

		/* a resumed session: the record its certificate left */
		if (vr != NULL || !record_of(ssl, f))
			return pc;
		pc->verdict = TLS_PEER_OK;
		pc->subject = xstrdup(f[2]);
		pc->issuer = xstrdup(f[3]);
		pc->serial = xstrdup(f[4]);
		snprintf(pc->fingerprint, sizeof(pc->fingerprint), "%s", f[5]);
		pc->sans = xstrdup(f[6]);
		return pc;
	}

	pc->subject = tls_peer_name(X509_get_subject_name(x));
	pc->issuer = tls_peer_name(X509_get_issuer_name(x));
	pc->serial = serial_str(x);
	pc->sans = tls_peer_sans(x);
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
	    (vr == NULL || vr->leaf == NULL)) {
		const char *f[ID_FIELDS];

		return vr == NULL && record_of(ssl, f) ? TLS_PEER_OK :
		    TLS_PEER_NONE;
	}
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
	free(pc->sans);
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


int
tls_peer_init(void)
{
	if (verify_idx < 0)
		verify_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    verify_rec_free);
	if (built_idx < 0)
		built_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    built_free);
	return verify_idx < 0 || built_idx < 0 ? -1 : 0;
}

SSL_verify_cb
tls_peer_verify_cb(bool alert)
{
	return alert ? verify_alert_cb : verify_record_cb;
}

unsigned
tls_peer_dn_over(const struct peer_cert *pc, size_t max, char *why,
    size_t len)
{
	size_t ns = 0, ni = 0;
	unsigned over = 0;

	if (pc != NULL && pc->subject != NULL &&
	    (ns = strlen(pc->subject)) > max)
		over |= TLS_PEER_DN_SUBJECT;
	if (pc != NULL && pc->issuer != NULL &&
	    (ni = strlen(pc->issuer)) > max)
		over |= TLS_PEER_DN_ISSUER;
	if (why == NULL || len == 0)
		return over;
	switch (over) {
	case 0:
		why[0] = '\0';
		break;
	case TLS_PEER_DN_SUBJECT:
		snprintf(why, len, "subject DN is %zu bytes, over "
		    "max_client_cert_header_size %zu: not forwarded", ns, max);
		break;
	case TLS_PEER_DN_ISSUER:
		snprintf(why, len, "issuer DN is %zu bytes, over "
		    "max_client_cert_header_size %zu: not forwarded", ni, max);
		break;
	default:
		snprintf(why, len, "subject DN is %zu bytes and issuer DN "
		    "%zu bytes, over max_client_cert_header_size %zu: neither "
		    "forwarded", ns, ni, max);
		break;
	}
	return over;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool
tls_peer_cn(const struct peer_cert *pc, char *buf, size_t len)
{
	const char *p;
	size_t n = 0;
	bool at_start = true;
	int hi, lo;

	if (pc == NULL || pc->subject == NULL || len == 0)
		return false;
	/* RDNs start the string or follow an unescaped ',' or '+' */
	for (p = pc->subject; *p != '\0'; p++) {
		if (at_start && strncmp(p, "CN=", 3) == 0)
			break;
		at_start = *p == ',' || *p == '+';
		if (*p == '\\' && p[1] != '\0')
			p++;
	}
	if (*p == '\0')
		return false;
	for (p += 3; *p != '\0' && *p != ',' && *p != '+'; p++) {
		char ch = *p;

		if (ch == '\\') {
			if (p[1] == '\0')
				return false;
			if ((hi = hexval(p[1])) >= 0 &&
			    (lo = hexval(p[2])) >= 0) {
				ch = (char)(hi << 4 | lo);
				p += 2;
			} else
				ch = *++p;
		}
		if (n + 1 >= len)
			return false;
		buf[n++] = ch;
	}
	buf[n] = '\0';
	return n > 0;
}
