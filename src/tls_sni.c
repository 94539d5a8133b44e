/*
 * tls_sni: picks a socket's listener by the client's server name. The
 * client hello callback runs first in OpenSSL's processing of a
 * ClientHello, so after SSL_set_SSL_CTX() the session id context, the
 * session cache lookup, ticket decryption, the version range and the
 * certificate request are the chosen listener's: a session made on one
 * listener is never resumed on another (nginx's CVE-2025-23419).
 */
#include "ac_config.h"
#include "tls_sni.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "parse.h"
#include "tls_certs.h"
#include "util.h"

struct sni_entry {
	SSL_CTX *ctx;			/* borrowed; NULL: plain HTTP */
	const struct listener_conf *lc;
	void *owner;
	char **names;			/* lower case, owned */
	size_t nnames;
};

struct tls_sni {
	struct sni_entry *e;
	size_t n;
	size_t def;			/* index of the default listener */
};

/* SSL ex_data: the socket's set (borrowed), the choice made, a refusal. */
static int set_idx = -1, chosen_idx = -1, refused_idx = -1;

struct tls_sni *
tls_sni_new(void)
{
	return xcalloc(1, sizeof(struct tls_sni));
}

void
tls_sni_free(struct tls_sni *t)
{
	size_t i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->e[i].nnames; j++)
			free(t->e[i].names[j]);
		free(t->e[i].names);
	}
	free(t->e);
	free(t);
}

static void
add_name(struct sni_entry *e, const char *name, size_t len)
{
	char *s;
	size_t i;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || parse_server_name(name, len) < 0)
		return;
	s = xmalloc(len + 1);
	for (i = 0; i < len; i++)
		s[i] = (char)tolower((unsigned char)name[i]);
	s[len] = '\0';
	e->names = xrealloc(e->names, (e->nnames + 1) * sizeof(*e->names));
	e->names[e->nnames++] = s;
}

void
tls_sni_add(struct tls_sni *t, SSL_CTX *ctx, const struct listener_conf *lc,
    void *owner)
{
	struct sni_entry *e;
	size_t i;

	t->e = xrealloc(t->e, (t->n + 1) * sizeof(*t->e));
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	e->ctx = ctx;
	e->lc = lc;
	e->owner = owner;
	for (i = 0; i < lc->nserver_names; i++)
		add_name(e, lc->server_names[i], strlen(lc->server_names[i]));
	if (lc->nserver_names == 0 && ctx != NULL) {
		const char *name;

		/* without server_name, the names its certificates are for */
		for (i = 0; (name = tls_certs_name(ctx, i)) != NULL; i++)
			add_name(e, name, strlen(name));
	}
	if (lc->default_server && !t->e[t->def].lc->default_server)
		t->def = t->n;
	t->n++;
}

void *
tls_sni_default(const struct tls_sni *t)
{
	return t->n > 0 ? t->e[t->def].owner : NULL;
}

size_t
tls_sni_count(const struct tls_sni *t)
{
	return t->n;
}

/* The entry whose names match name best; NULL when none does. */
static const struct sni_entry *
find(const struct tls_sni *t, const char *name, size_t len)
{
	const struct sni_entry *wild = NULL;
	size_t i, j;

	for (i = 0; i < t->n; i++) {
		for (j = 0; j < t->e[i].nnames; j++) {
			switch (parse_name_match(t->e[i].names[j], name,
			    len)) {
			case PARSE_NAME_EXACT:
				return &t->e[i];
			case PARSE_NAME_WILDCARD:
				if (wild == NULL)
					wild = &t->e[i];
				break;
			default:
				break;
			}
		}
	}
	return wild;
}

void *
tls_sni_lookup(const struct tls_sni *t, const char *host, size_t len)
{
	const struct sni_entry *e;
	const char *colon;

	if (t == NULL || len == 0 || host[0] == '[')
		return NULL;	/* an IPv6 literal names no listener */
	if ((colon = memchr(host, ':', len)) != NULL)
		len = (size_t)(colon - host);
	e = find(t, host, len);
	return e != NULL ? e->owner : NULL;
}

/*
 * The first host_name of a server_name extension (RFC 6066 §3); false
 * when there is none. The bytes are not checked here: a name that is
 * not a host name matches nothing.
 */
static bool
sni_of(SSL *ssl, const unsigned char **name, size_t *len)
{
	const unsigned char *p;
	size_t n, list, l;

	if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &n)
	    != 1 || n < 2)
		return false;
	list = (size_t)p[0] << 8 | p[1];
	p += 2;
	n -= 2;
	if (list > n)
		return false;
	n = list;
	while (n >= 3) {
		l = (size_t)p[1] << 8 | p[2];
		if (l > n - 3)
			return false;
		if (p[0] == TLSEXT_NAMETYPE_host_name) {
			*name = p + 3;
			*len = l;
			return l > 0;
		}
		p += 3 + l;
		n -= 3 + l;
	}
	return false;
}

/*
 * What SSL_set_SSL_CTX() leaves as SSL_new() copied it from the first
 * context: the verification policy, options, versions and tickets. (The
 * CA names of the certificate request are read from the SSL's context
 * when it is sent: 46-sni checks that they are the chosen listener's.)
 */
static void
take_policy(SSL *ssl, SSL_CTX *ctx)
{
	X509_VERIFY_PARAM *p = SSL_get0_param(ssl);

	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx),
	    SSL_CTX_get_verify_callback(ctx));
	/* purpose and depth as set there; flags (CRL checks) exactly */
	X509_VERIFY_PARAM_clear_flags(p, X509_VERIFY_PARAM_get_flags(p));
	(void)X509_VERIFY_PARAM_set1(p, SSL_CTX_get0_param(ctx));
	SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
	SSL_clear_options(ssl, SSL_get_options(ssl) &
	    ~SSL_CTX_get_options(ctx));
	SSL_set_options(ssl, SSL_CTX_get_options(ctx));
	(void)SSL_set_min_proto_version(ssl,
	    SSL_CTX_get_min_proto_version(ctx));
	(void)SSL_set_num_tickets(ssl, SSL_CTX_get_num_tickets(ctx));
}

static const char unknown_name[] = "a server name no listener of the "
    "socket claims (strict_sni = on)";
static const char no_name[] = "no server name (strict_sni = on)";

static int
hello_cb(SSL *ssl, int *al, void *arg)
{
	const struct tls_sni *t;
	const struct sni_entry *e = NULL;
	const unsigned char *name = NULL;
	char buf[256];
	size_t len = 0;
	bool have;

	(void)arg;
	have = sni_of(ssl, &name, &len);
	if (have && len < sizeof(buf)) {
		memcpy(buf, name, len);
		buf[len] = '\0';
	} else
		len = 0, buf[0] = '\0';
	if (set_idx < 0 || (t = SSL_get_ex_data(ssl, set_idx)) == NULL ||
	    t->n == 0) {
		tls_certs_select(ssl, SSL_get_SSL_CTX(ssl), buf, len);
		return SSL_CLIENT_HELLO_SUCCESS;
	}
	/* a NUL or a byte no host name has matches nothing */
	if (len > 0 && strlen(buf) == len)
		e = find(t, buf, len);
	if (e == NULL) {
		e = &t->e[t->def];
		if (e->lc->strict_sni) {
			(void)SSL_set_ex_data(ssl, refused_idx, (void *)(have ?
			    unknown_name : no_name));
			*al = SSL_AD_UNRECOGNIZED_NAME;
			return SSL_CLIENT_HELLO_ERROR;
		}
	}
	if (e->ctx == NULL) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	/* a second ClientHello (after a HelloRetryRequest) may not move */
	if (SSL_get_ex_data(ssl, chosen_idx) != NULL &&
	    SSL_get_ex_data(ssl, chosen_idx) != e->owner) {
		*al = SSL_AD_ILLEGAL_PARAMETER;
		return SSL_CLIENT_HELLO_ERROR;
	}
	(void)SSL_set_ex_data(ssl, chosen_idx, e->owner);
	if (e->ctx != SSL_get_SSL_CTX(ssl)) {
		if (SSL_set_SSL_CTX(ssl, e->ctx) != e->ctx) {
			*al = SSL_AD_INTERNAL_ERROR;
			return SSL_CLIENT_HELLO_ERROR;
		}
		take_policy(ssl, e->ctx);
	}
	tls_certs_select(ssl, e->ctx, buf, len);
	return SSL_CLIENT_HELLO_SUCCESS;
}

int
tls_sni_setup(SSL_CTX *ctx)
{
	if (set_idx < 0)
		set_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (chosen_idx < 0)
		chosen_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (refused_idx < 0)
		refused_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (set_idx < 0 || chosen_idx < 0 || refused_idx < 0)
		return -1;
	SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
	return 0;
}

int
tls_sni_attach(SSL *ssl, const struct tls_sni *t)
{
	if (set_idx < 0)
		return -1;
	return SSL_set_ex_data(ssl, set_idx, (void *)t) == 1 ? 0 : -1;
}

void *
tls_sni_chosen(SSL *ssl)
{
	return chosen_idx < 0 ? NULL : SSL_get_ex_data(ssl, chosen_idx);
}

const char *
tls_sni_refusal(SSL *ssl)
{
	return refused_idx < 0 ? NULL : SSL_get_ex_data(ssl, refused_idx);
}
