/*
 * tls_certs: reads a listener's certificate and key pairs, keeps them in
 * the SSL_CTX's ex_data, and picks the ones for the client's server name.
 * The context holds the first pair and the later pairs for the same
 * names; a connection whose name another pair matches better gets that
 * pair (and its siblings of other key types) instead, on its SSL only.
 */
#include "ac_config.h"
#include "tls_certs.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "diag.h"
#include "parse.h"
#include "tls_check.h"
#include "tls_peer.h"
#include "util.h"

struct pair {
	X509 *leaf;
	STACK_OF(X509) *chain;		/* the intermediates */
	EVP_PKEY *key;
	int type;			/* EVP_PKEY_get_base_id() */
	char **names;			/* SAN dNSNames, else the CN */
	size_t nnames;
};

struct certs {
	struct pair p[TLS_CERTS_MAX];
	size_t n;
	uint32_t in_ctx;		/* the pairs loaded into the context */
};

static int certs_idx = -1;

static void
pair_clear(struct pair *p)
{
	size_t i;

	X509_free(p->leaf);
	sk_X509_pop_free(p->chain, X509_free);
	EVP_PKEY_free(p->key);
	for (i = 0; i < p->nnames; i++)
		free(p->names[i]);
	free(p->names);
	memset(p, 0, sizeof(*p));
}

static void
certs_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	struct certs *cs = ptr;
	size_t i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->n; i++)
		pair_clear(&cs->p[i]);
	free(cs);
}

static struct certs *
certs_of(SSL_CTX *ctx)
{
	return certs_idx < 0 ? NULL : SSL_CTX_get_ex_data(ctx, certs_idx);
}

static void
add_name(struct pair *p, const unsigned char *s, int len)
{
	char *n;
	int i;

	if (len <= 0 || memchr(s, '\0', (size_t)len) != NULL)
		return;
	n = xmalloc((size_t)len + 1);
	for (i = 0; i < len; i++)
		n[i] = (char)tolower(s[i]);
	n[len] = '\0';
	p->names = xrealloc(p->names, (p->nnames + 1) * sizeof(*p->names));
	p->names[p->nnames++] = n;
}

/* The names a certificate is for: its DNS SANs, else its CN. */
static void
read_names(struct pair *p)
{
	GENERAL_NAMES *gens;
	X509_NAME *subj;
	int i;

	gens = X509_get_ext_d2i(p->leaf, NID_subject_alt_name, NULL, NULL);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS)
			add_name(p, ASN1_STRING_get0_data(g->d.dNSName),
			    ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (p->nnames > 0 || (subj = X509_get_subject_name(p->leaf)) == NULL)
		return;
	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (i >= 0) {
		const ASN1_STRING *cn = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subj, i));

		add_name(p, ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn));
	}
	ERR_clear_error();
}

/* Reads one pair; false after recording why in d. */
static bool
read_pair(struct pair *p, const char *cpath, int cline, const char *kpath,
    int kline, struct diag *d)
{
	const struct tls_check_file cf = { "server_certificate", cpath, cline };
	const struct tls_check_file kf = { "server_private_key", kpath, kline };
	STACK_OF(X509) *chain;
	EVP_PKEY *pk;
	bool ok;

	ok = tls_check_read_pair(&cf, &kf, d, &chain, &pk) == 0;
	if (chain == NULL)
		return false;
	tls_check_server_chain(chain, d, cline);
	p->leaf = sk_X509_shift(chain);
	p->chain = chain;
	p->key = pk;
	p->type = pk != NULL ? EVP_PKEY_get_base_id(pk) : 0;
	read_names(p);
	return ok;
}

/* Whether two pairs are for the same names (in any order). */
static bool
same_names(const struct pair *a, const struct pair *b)
{
	size_t i, j;

	if (a->nnames != b->nnames)
		return false;
	for (i = 0; i < a->nnames; i++) {
		for (j = 0; j < b->nnames; j++)
			if (strcmp(a->names[i], b->names[j]) == 0)
				break;
		if (j == b->nnames)
			return false;
	}
	return true;
}

/* Whether a pair of the same key type as pair i is in mask already. */
static bool
type_in(const struct certs *cs, uint32_t mask, size_t i)
{
	size_t j;

	for (j = 0; j < cs->n; j++)
		if ((mask & 1u << j) != 0 && cs->p[j].type == cs->p[i].type)
			return true;
	return false;
}

/*
 * The pairs a connection for name gets: those with an exact name, else
 * those with a wildcard, one per key type, in file order; 0: none
 * matches.
 */
static uint32_t
pick(const struct certs *cs, const char *name, size_t len)
{
	uint32_t set[PARSE_NAME_EXACT + 1] = { 0 };
	int best = PARSE_NAME_NONE, m, k;
	size_t i, j;

	if (len == 0)
		return 0;
	for (i = 0; i < cs->n; i++) {
		m = PARSE_NAME_NONE;
		for (j = 0; j < cs->p[i].nnames; j++) {
			k = parse_name_match(cs->p[i].names[j], name, len);
			if (k > m)
				m = k;
		}
		/* one pair per key type: the first in the file */
		if (m == PARSE_NAME_NONE || type_in(cs, set[m], i))
			continue;
		set[m] |= 1u << i;
		if (m > best)
			best = m;
	}
	return set[best];
}

/* The pair's chain on ctx or ssl: the intermediates, not the leaf. */
static bool
use_pair(SSL_CTX *ctx, SSL *ssl, const struct pair *p)
{
	if (ssl != NULL)
		return SSL_use_cert_and_key(ssl, p->leaf, p->key, p->chain,
		    1) == 1;
	return SSL_CTX_use_cert_and_key(ctx, p->leaf, p->key, p->chain, 1) ==
	    1;
}

/* server_name values that no certificate is for: a warning each. */
static void
check_names(const struct certs *cs, const struct listener_conf *lc,
    struct diag *d)
{
	const char *sn, *cn;
	size_t i, j, k;
	bool covered;

	for (i = 0; i < lc->nserver_names; i++) {
		sn = lc->server_names[i];
		covered = false;
		for (j = 0; j < cs->n && !covered; j++) {
			for (k = 0; k < cs->p[j].nnames && !covered; k++) {
				cn = cs->p[j].names[k];
				/* a wildcard needs a wildcard certificate */
				covered = sn[0] == '*' ? strcmp(sn, cn) == 0 :
				    parse_name_match(cn, sn, strlen(sn)) !=
				    PARSE_NAME_NONE;
			}
		}
		if (!covered)
			diag_warn(d, lc->server_name_line, "server_name: '%s' "
			    "is not a name of any server_certificate of "
			    "[listener %s] (clients that check names will "
			    "refuse the certificate)", sn, lc->name);
	}
}

void
tls_certs_load(SSL_CTX *ctx, const struct listener_conf *lc, struct diag *d)
{
	struct certs *cs;
	const char *cpath, *kpath;
	int cline, kline;
	size_t i, n;
	bool ok = true;

	if (certs_idx < 0 && (certs_idx = SSL_CTX_get_ex_new_index(0, NULL,
	    NULL, NULL, certs_free)) < 0) {
		diag_ssl(d, lc->line, "server_certificate: no OpenSSL ex_data "
		    "slot");
		return;
	}
	if (lc->server_certificate == NULL) {
		diag_error(d, lc->line, "server_certificate: missing");
		return;
	}
	if (lc->server_private_key == NULL)
		diag_error(d, lc->line, "server_private_key: missing");
	cs = xcalloc(1, sizeof(*cs));
	SSL_CTX_set_ex_data(ctx, certs_idx, cs);
	n = 1 + lc->nmore_certificates;
	if (n > TLS_CERTS_MAX)
		n = TLS_CERTS_MAX;	/* config_check said so */
	for (i = 0; i < n; i++) {
		if (i == 0) {
			cpath = lc->server_certificate;
			cline = lc->server_certificate_line;
			kpath = lc->server_private_key;
			kline = lc->server_private_key_line;
		} else {
			cpath = lc->more_certificates[i - 1].path;
			cline = lc->more_certificates[i - 1].line;
			kpath = i - 1 < lc->nmore_keys ?
			    lc->more_keys[i - 1].path : NULL;
			kline = i - 1 < lc->nmore_keys ?
			    lc->more_keys[i - 1].line : 0;
		}
		if (!read_pair(&cs->p[cs->n], cpath, cline, kpath, kline, d)) {
			pair_clear(&cs->p[cs->n]);
			ok = false;
			continue;
		}
		cs->n++;
	}
	if (!ok || cs->n == 0)
		return;
	/* a pair shadowed by an earlier one (same names and key type) */
	for (i = 1; i < cs->n; i++) {
		size_t j;

		for (j = 0; j < i; j++)
			if (same_names(&cs->p[j], &cs->p[i]) &&
			    cs->p[j].type == cs->p[i].type)
				break;
		if (j < i)
			diag_warn(d, lc->more_certificates[i - 1].line,
			    "server_certificate: '%s' is never used: '%s' "
			    "(line %d) is for the same names with the same "
			    "key type", lc->more_certificates[i - 1].path,
			    j == 0 ? lc->server_certificate :
			    lc->more_certificates[j - 1].path, j == 0 ?
			    lc->server_certificate_line :
			    lc->more_certificates[j - 1].line);
	}
	/* the context: the first pair and those for the same names */
	for (i = 0; i < cs->n; i++) {
		if (i > 0 && !same_names(&cs->p[0], &cs->p[i]))
			continue;
		if (type_in(cs, cs->in_ctx, i))
			continue;
		if (!use_pair(ctx, NULL, &cs->p[i])) {
			diag_ssl(d, i == 0 ? lc->server_certificate_line :
			    lc->more_certificates[i - 1].line,
			    "server_certificate: cannot use '%s'", i == 0 ?
			    lc->server_certificate :
			    lc->more_certificates[i - 1].path);
			continue;
		}
		cs->in_ctx |= 1u << i;
	}
	check_names(cs, lc, d);
}

const char *
tls_certs_name(SSL_CTX *ctx, size_t i)
{
	const struct certs *cs = certs_of(ctx);
	size_t j;

	for (j = 0; cs != NULL && j < cs->n; j++) {
		if (i < cs->p[j].nnames)
			return cs->p[j].names[i];
		i -= cs->p[j].nnames;
	}
	return NULL;
}

X509 *
tls_certs_leaf(SSL_CTX *ctx, size_t i)
{
	const struct certs *cs = certs_of(ctx);

	return cs != NULL && i < cs->n ? cs->p[i].leaf : NULL;
}

void
tls_certs_select(SSL *ssl, SSL_CTX *ctx, const char *name, size_t len)
{
	const struct certs *cs = certs_of(ctx);
	uint32_t set;
	size_t i;

	if (cs == NULL || cs->n <= 1 ||
	    (set = pick(cs, name, len)) == 0 || set == cs->in_ctx)
		return;
	SSL_certs_clear(ssl);
	for (i = 0; i < cs->n; i++)
		if ((set & 1u << i) != 0 && !use_pair(NULL, ssl, &cs->p[i]))
			ERR_clear_error();
}
