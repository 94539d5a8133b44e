/*
 * test_tls: a listener_conf over the test PKI, SSL_CTXs built from it, and
 * handshakes between two SSL objects over a BIO pair, in memory: the
 * fixture the tls and tls_session suites share.
 */
#include "ac_config.h"
#include "test_tls.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "diag.h"
#include "test_pki.h"
#include "tls.h"

#define P(file)	test_pki_path(file)

static char name_https[] = "https";

void
test_tls_lc(struct listener_conf *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->name = name_https;
	lc->line = 10;
	lc->server_certificate = P("server-chain.crt");
	lc->server_certificate_line = 11;
	lc->server_private_key = P("server-chain.key");
	lc->server_private_key_line = 12;
	lc->mutual_authentication = MTLS_ON;
	lc->mutual_authentication_line = 13;
	lc->ca_certificate = P("root.crt");
	lc->ca_certificate_line = 14;
	lc->crl = NULL;
	lc->crl_line = 15;
	lc->crl_check_line = 16;
	lc->verify_depth = 3;
	lc->tls_min_version = 0x0303;
	lc->session_cache_size = 1024;
	lc->session_timeout_ms = 300000;
}

static void
collect_cb(const char *line, bool is_error, void *arg)
{
	struct test_text *t = arg;
	int n;

	n = snprintf(t->buf + t->len, sizeof(t->buf) - t->len, "%s\n", line);
	if (n > 0 && (size_t)n < sizeof(t->buf) - t->len)
		t->len += (size_t)n;
}

/* Runs tls_ctx_new and returns the diagnostics, one per line. */
SSL_CTX *
test_tls_build(const struct listener_conf *lc, struct test_text *t,
    size_t *nerr)
{
	struct diag *d = diag_new("t.ini");
	SSL_CTX *ctx;

	ctx = tls_ctx_new(lc, d);
	t->len = 0;
	t->buf[0] = '\0';
	diag_foreach(d, collect_cb, t);
	if (nerr != NULL)
		*nerr = diag_errors(d);
	diag_free(d);
	return ctx;
}

/* ---- handshakes in memory ---- */

char test_tls_alert[64];
int test_tls_alert_code = -1;
const char *test_tls_alpn = TEST_TLS_ALPN;

static void
info_cb(const SSL *ssl, int where, int ret)
{
	if ((where & SSL_CB_ALERT) && (where & SSL_CB_WRITE)) {
		snprintf(test_tls_alert, sizeof(test_tls_alert), "%s",
		    SSL_alert_desc_string_long(ret));
		test_tls_alert_code = ret & 0xff;
	}
}

SSL_CTX *
test_tls_client(const char *cert, const char *key, int max_version)
{
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(c);
	/* the test clients carry deliberately weak certificates */
	SSL_CTX_set_security_level(c, 0);
	if (cert != NULL) {
		ck_assert_int_eq(SSL_CTX_use_certificate_chain_file(c,
		    P(cert)), 1);
		ck_assert_int_eq(SSL_CTX_use_PrivateKey_file(c, P(key),
		    SSL_FILETYPE_PEM), 1);
	}
	ck_assert_int_eq(SSL_CTX_load_verify_locations(c, P("root.crt"),
	    NULL), 1);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	if (max_version != 0)
		SSL_CTX_set_max_proto_version(c, max_version);
	return c;
}

static bool
want_more(SSL *ssl, int rc)
{
	int e = SSL_get_error(ssl, rc);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/*
 * Runs a handshake between a server made from sctx and a client made from
 * cctx (resuming sess when not NULL). Returns whether the server side
 * completed; *sp and *cp are the caller's to SSL_free.
 */
bool
test_tls_handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *sess, SSL **sp,
    SSL **cp)
{
	bool s_done = false, c_done = false, s_fail = false, c_fail = false;
	BIO *sb, *cb;
	SSL *s, *c;
	int i, rc;

	test_tls_alert[0] = '\0';
	test_tls_alert_code = -1;
	ck_assert_ptr_nonnull(s = SSL_new(sctx));
	ck_assert_ptr_nonnull(c = SSL_new(cctx));
	ck_assert_int_eq(BIO_new_bio_pair(&sb, 0, &cb, 0), 1);
	SSL_set_bio(s, sb, sb);
	SSL_set_bio(c, cb, cb);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	SSL_set_info_callback(s, info_cb);
	SSL_set_tlsext_host_name(c, "localhost");
	ck_assert_int_eq(SSL_set_alpn_protos(c,
	    (const unsigned char *)test_tls_alpn,
	    (unsigned int)strlen(test_tls_alpn)), 0);
	if (sess != NULL)
		ck_assert_int_eq(SSL_set_session(c, sess), 1);
	for (i = 0; i < 64 && !(s_done && c_done) && !s_fail; i++) {
		if (!c_done && !c_fail) {
			if ((rc = SSL_do_handshake(c)) == 1)
				c_done = true;
			else if (!want_more(c, rc))
				c_fail = true;
		}
		if (!s_done && !s_fail) {
			if ((rc = SSL_do_handshake(s)) == 1)
				s_done = true;
			else if (!want_more(s, rc))
				s_fail = true;
		}
	}
	if (s_done && c_done) {
		unsigned char b;

		/* let the client take the session ticket */
		rc = SSL_read(c, &b, 1);
		ck_assert(rc <= 0 && want_more(c, rc));
	}
	ERR_clear_error();
	*sp = s;
	*cp = c;
	return s_done;
}

/*
 * Frees both ends. An SSL freed without sending close_notify marks its
 * session not resumable (and the server drops it from the cache), so both
 * sides say goodbye first.
 */
void
test_tls_free(SSL *s, SSL *c)
{
	if (SSL_is_init_finished(s))
		SSL_shutdown(s);
	if (SSL_is_init_finished(c))
		SSL_shutdown(c);
	ERR_clear_error();
	SSL_free(s);
	SSL_free(c);
}
