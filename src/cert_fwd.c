/*
 * cert_fwd: RFC 9440, Envoy XFCC and AWS ALB client-certificate headers.
 */
#include "ac_config.h"
#include "cert_fwd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "tls_peer.h"
#include "util.h"

struct sb {
	char *p;
	size_t len, cap;
};

static void
sb_put(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

void
cert_fwd_urlencode(char **buf, size_t *len, size_t *cap, const char *s,
    size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	struct sb b = { *buf, *len, *cap };
	char e[3];
	size_t i;
	unsigned char ch;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			sb_put(&b, (const char *)&ch, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[ch >> 4];
		e[2] = hex[ch & 15];
		sb_put(&b, e, 3);
	}
	if (b.p == NULL)
		sb_put(&b, "", 0);
	*buf = b.p;
	*len = b.len;
	*cap = b.cap;
}

static void
sb_urlenc(struct sb *b, const char *s, size_t n)
{
	cert_fwd_urlencode(&b->p, &b->len, &b->cap, s, n);
}

/* ":BASE64:" of x's DER, an RFC 8941 byte sequence; false on failure. */
static bool
sb_b64_der(struct sb *b, X509 *x)
{
	unsigned char *der = NULL, *out;
	int n = i2d_X509(x, &der), m;

	if (n <= 0) {
		ERR_clear_error();
		return false;
	}
	out = xmalloc(4 * (((size_t)n + 2) / 3) + 1);
	m = EVP_EncodeBlock(out, der, n);
	sb_put(b, ":", 1);
	sb_put(b, (const char *)out, (size_t)m);
	sb_put(b, ":", 1);
	free(out);
	OPENSSL_free(der);
	return true;
}

/* x as PEM ("-----BEGIN CERTIFICATE-----\n...\n"), URL-encoded. */
static void
sb_pem_urlenc(struct sb *b, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
		ERR_clear_error();
		BIO_free(bio);
		return;
	}
	n = BIO_get_mem_data(bio, &p);
	if (n > 0)
		sb_urlenc(b, p, (size_t)n);
	BIO_free(bio);
}

/* A time as AWS writes it: 2024-09-20T01:50:16Z. */
static void
sb_time(struct sb *b, const ASN1_TIME *t)
{
	struct tm tm;
	char s[32];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return;
	}
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_str(b, s);
}

/* An XFCC value: quoted when it holds , ; = or ", with \ and " escaped. */
static void
sb_xfcc_value(struct sb *b, const char *s, size_t n, bool quote)
{
	size_t i;

	if (!quote && strcspn(s, ",;=\"") < n)
		quote = true;
	if (quote)
		sb_put(b, "\"", 1);
	for (i = 0; i < n; i++) {
		if (quote && (s[i] == '"' || s[i] == '\\'))
			sb_put(b, "\\", 1);
		sb_put(b, &s[i], 1);
	}
	if (quote)
		sb_put(b, "\"", 1);
}

/* Each SAN of type t ('U' or 'D') in pc->sans as ";KEY=value". */
static void
sb_xfcc_sans(struct sb *b, const char *sans, char t, const char *key)
{
	const char *p = sans, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (*p == t && p + 1 < e && p[1] == ':') {
			sb_str(b, key);
			sb_xfcc_value(b, p + 2, (size_t)(e - p - 2), false);
		}
		p = *e != '\0' ? e + 1 : e;
	}
}

static void
rfc9440(struct sb *b, SSL *ssl, X509 *leaf)
{
	STACK_OF(X509) *chain;
	X509 *x;
	bool any = false;
	int i;

	if (leaf == NULL)
		return;
	sb_str(b, "Client-Cert: ");
	if (!sb_b64_der(b, leaf)) {
		b->len -= strlen("Client-Cert: ");
		return;
	}
	sb_str(b, "\r\n");
	/* the chain the client sent, leaf excluded */
	chain = SSL_get_peer_cert_chain(ssl);
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
		x = sk_X509_value(chain, i);
		if (X509_cmp(x, leaf) == 0)
			continue;
		sb_str(b, any ? ", " : "Client-Cert-Chain: ");
		(void)sb_b64_der(b, x);
		any = true;
	}
	if (any)
		sb_str(b, "\r\n");
}

static void
xfcc(struct sb *b, const struct peer_cert *pc, X509 *leaf, size_t max_dn)
{
	sb_str(b, "X-Forwarded-Client-Cert: Hash=");
	sb_str(b, pc->fingerprint);
	if (leaf != NULL) {
		sb_str(b, ";Cert=\"");
		sb_pem_urlenc(b, leaf);
		sb_str(b, "\"");
	}
	if (pc->subject != NULL && strlen(pc->subject) <= max_dn) {
		sb_str(b, ";Subject=");
		sb_xfcc_value(b, pc->subject, strlen(pc->subject), true);
	}
	sb_xfcc_sans(b, pc->sans, 'U', ";URI=");
	sb_xfcc_sans(b, pc->sans, 'D', ";DNS=");
	sb_str(b, "\r\n");
}

static void
aws(struct sb *b, const struct peer_cert *pc, X509 *leaf, size_t max_dn)
{
	sb_str(b, "X-Amzn-Mtls-Clientcert-Serial-Number: ");
	sb_str(b, pc->serial != NULL ? pc->serial : "");
	sb_str(b, "\r\n");
	if (pc->issuer != NULL && strlen(pc->issuer) <= max_dn) {
		sb_str(b, "X-Amzn-Mtls-Clientcert-Issuer: ");
		sb_str(b, pc->issuer);
		sb_str(b, "\r\n");
	}
	if (pc->subject != NULL && strlen(pc->subject) <= max_dn) {
		sb_str(b, "X-Amzn-Mtls-Clientcert-Subject: ");
		sb_str(b, pc->subject);
		sb_str(b, "\r\n");
	}
	if (leaf == NULL)
		return;
	sb_str(b, "X-Amzn-Mtls-Clientcert-Validity: NotBefore=");
	sb_time(b, X509_get0_notBefore(leaf));
	sb_str(b, ";NotAfter=");
	sb_time(b, X509_get0_notAfter(leaf));
	sb_str(b, "\r\nX-Amzn-Mtls-Clientcert-Leaf: ");
	sb_pem_urlenc(b, leaf);
	sb_str(b, "\r\n");
}

char *
cert_fwd_headers(SSL *ssl, const struct peer_cert *pc, unsigned fams,
    size_t max_dn, size_t *len)
{
	struct sb b = { NULL, 0, 0 };
	X509 *leaf = ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;

	sb_put(&b, "", 0);
	if (pc != NULL && pc->verdict == TLS_PEER_OK) {
		if (fams & FCC_RFC9440)
			rfc9440(&b, ssl, leaf);
		if (fams & FCC_XFCC)
			xfcc(&b, pc, leaf, max_dn);
		if (fams & FCC_AWS)
			aws(&b, pc, leaf, max_dn);
	}
	*len = b.len;
	return b.p;
}
