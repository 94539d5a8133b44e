/*
 * check_tls: tls_ctx_new diagnostics and verify verdicts. The PKI is
 * tests/pki/mkpki.sh -u's, made at run time in a temporary directory that
 * is removed at exit; handshakes run in memory over BIO pairs.
 */
#include "ac_config.h"
#include "tls.h"

#include <check.h>
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "diag.h"
#include "test_main.h"
#include "test_pki.h"
#include "test_tls.h"

#define P(file)	test_pki_path(file)

/* The CAs of mkpki.sh, as RFC 2253 subjects. */
#define ROOT_DN		"CN=mtlslb test root"
#define INTER_DN	"CN=mtlslb test intermediate"
#define OTHER_DN	"CN=mtlslb other root"
#define WEAK_ROOT_DN	"CN=mtlslb weak root"
#define SHA1_INTER_DN	"CN=mtlslb sha1 intermediate"

/* First line of the output of an openssl command about one file. */
static void
cli(const char *args, const char *file, char *out, size_t len)
{
	char cmd[PATH_MAX + 256];
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "openssl %s -in '%s'", args, P(file));
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	out[0] = '\0';
	ck_assert_ptr_nonnull(fgets(out, (int)len, fp));
	out[strcspn(out, "\r\n")] = '\0';
	pclose(fp);
}


/*
 * Handshake of client cert/key against a listener; returns the server's
 * peer_cert and whether the server completed the handshake.
 */
static struct peer_cert *
peer(const struct listener_conf *lc, const char *cert, const char *key,
    bool *ok)
{
	struct peer_cert *pc;
	SSL_CTX *sctx, *cctx;
	struct test_text t;
	SSL *s, *c;

	sctx = test_tls_build(lc, &t, NULL);
	ck_assert_msg(sctx != NULL, "tls_ctx_new: %s", t.buf);
	cctx = test_tls_client(cert, key, 0);
	*ok = test_tls_handshake(sctx, cctx, NULL, &s, &c);
	pc = tls_peer_cert_new(s);
	ck_assert_ptr_nonnull(pc);
	/* the cheap verdict must always agree with the full description */
	ck_assert_int_eq(tls_peer_verdict(s), pc->verdict);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	return pc;
}

static void
expect_failed(struct peer_cert *pc, long err, const char *reason,
    const char *class, const char *subject, const char *issuer)
{
	char buf[512], want[512];

	ck_assert_int_eq(pc->verdict, TLS_PEER_FAILED);
	ck_assert_int_eq(pc->verify_err, err);
	ck_assert_str_eq(pc->reason, reason);
	ck_assert_str_eq(tls_reason_class(pc), class);
	ck_assert_str_eq(pc->subject, subject);
	ck_assert_str_eq(pc->issuer, issuer);
	ck_assert_uint_eq(strlen(pc->fingerprint), 64);
	tls_peer_describe(pc, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s (%ld): subject=%s issuer=%s", reason,
	    err, subject, issuer);
	ck_assert_str_eq(buf, want);
}

/* ---- tls_ctx_new: a good listener ---- */

START_TEST(test_ctx_ok)
{
	struct listener_conf lc;
	STACK_OF(X509_NAME) *names;
	struct test_text t;
	SSL_CTX *ctx;
	char *n;
	BIO *b;

	test_tls_lc(&lc);
	lc.crl = P("crl.pem");
	ctx = test_tls_build(&lc, &t, NULL);
	ck_assert_msg(ctx != NULL, "%s", t.buf);
	ck_assert_str_eq(t.buf, "");
	ck_assert_int_eq(SSL_CTX_get_num_tickets(ctx), 1);
	ck_assert((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
	ck_assert((SSL_CTX_get_options(ctx) & SSL_OP_CIPHER_SERVER_PREFERENCE));
	ck_assert((SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION) != 0);
	ck_assert((SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION) != 0);
	ck_assert_int_eq(SSL_CTX_get_mode(ctx) & (SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_NO_AUTO_CHAIN), SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_NO_AUTO_CHAIN);
	/* session_cache = shared: only the shared cache, no internal one */
	ck_assert_int_eq(SSL_CTX_get_session_cache_mode(ctx),
	    SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
	ck_assert_int_eq(SSL_CTX_get_timeout(ctx), 300);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	ck_assert_int_eq(SSL_CTX_get_verify_depth(ctx), 3);
	ck_assert((X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx)) &
	    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)) ==
	    X509_V_FLAG_CRL_CHECK);
	names = SSL_CTX_get_client_CA_list(ctx);
	ck_assert_int_eq(sk_X509_NAME_num(names), 1);
	b = BIO_new(BIO_s_mem());
	X509_NAME_print_ex(b, sk_X509_NAME_value(names, 0), 0,
	    XN_FLAG_RFC2253);
	BIO_write(b, "", 1);
	BIO_get_mem_data(b, &n);
	ck_assert_str_eq(n, ROOT_DN);
	BIO_free(b);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(test_ctx_modes)
{
	struct listener_conf lc;
	struct test_text t;
	SSL_CTX *ctx;

	/* tls_alert + on: no certificate is a handshake failure */
	test_tls_lc(&lc);
	lc.reject_tls_alert = true;
	ck_assert_ptr_nonnull(ctx = test_tls_build(&lc, &t, NULL));
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
	SSL_CTX_free(ctx);

	lc.mutual_authentication = MTLS_OPTIONAL;
	ck_assert_ptr_nonnull(ctx = test_tls_build(&lc, &t, NULL));
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER);
	SSL_CTX_free(ctx);

	/* off: no CertificateRequest; a ca_certificate is ignored */
	lc.mutual_authentication = MTLS_OFF;
	lc.ca_certificate = P("empty.pem");
	ctx = test_tls_build(&lc, &t, NULL);
	ck_assert_msg(ctx != NULL, "%s", t.buf);
	ck_assert_str_eq(t.buf, "");
	ck_assert_int_eq(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_NONE);
	SSL_CTX_free(ctx);

	/* session cache off: no tickets at all */
	test_tls_lc(&lc);
	lc.session_cache_size = 0;
	lc.tls_min_version = 0x0304;
	ck_assert_ptr_nonnull(ctx = test_tls_build(&lc, &t, NULL));
	ck_assert_int_eq(SSL_CTX_get_num_tickets(ctx), 0);
	ck_assert_int_eq(SSL_CTX_get_session_cache_mode(ctx),
	    SSL_SESS_CACHE_OFF);
	ck_assert((SSL_CTX_get_options(ctx) & SSL_OP_NO_TICKET) != 0);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_3_VERSION);
	SSL_CTX_free(ctx);

	/* crl_check = chain */
	test_tls_lc(&lc);
	lc.crl = P("crl.pem");
	lc.crl_check_chain = true;
	ck_assert_ptr_nonnull(ctx = test_tls_build(&lc, &t, NULL));
	ck_assert_str_eq(t.buf, "");
	ck_assert((X509_VERIFY_PARAM_get_flags(SSL_CTX_get0_param(ctx)) &
	    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL)) ==
	    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL));
	SSL_CTX_free(ctx);
}
END_TEST

/* ---- tls_ctx_new: errors ---- */

static void
expect_error(const struct listener_conf *lc, const char *want)
{
	struct test_text t;
	size_t nerr;

	ck_assert_ptr_null(test_tls_build(lc, &t, &nerr));
	ck_assert_uint_eq(nerr, 1);
	ck_assert_str_eq(t.buf, want);
}

START_TEST(test_err_missing_files)
{
	struct listener_conf lc;
	char want[3 * PATH_MAX];

	test_tls_lc(&lc);
	lc.server_certificate = P("nope.pem");
	snprintf(want, sizeof(want), "t.ini:11: server_certificate: cannot "
	    "open '%s': No such file or directory\n", P("nope.pem"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.server_private_key = P("nope.key");
	snprintf(want, sizeof(want), "t.ini:12: server_private_key: cannot "
	    "open '%s': No such file or directory\n", P("nope.key"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.ca_certificate = P("nope-ca.pem");
	snprintf(want, sizeof(want), "t.ini:14: ca_certificate: cannot "
	    "open '%s': No such file or directory\n", P("nope-ca.pem"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.crl = P("nope-crl.pem");
	snprintf(want, sizeof(want), "t.ini:15: crl: cannot open '%s': No "
	    "such file or directory\n", P("nope-crl.pem"));
	expect_error(&lc, want);
}
END_TEST

START_TEST(test_err_key_mismatch)
{
	struct listener_conf lc;
	char want[3 * PATH_MAX];

	test_tls_lc(&lc);
	lc.server_private_key = P("client.key");
	snprintf(want, sizeof(want), "t.ini:12: server_private_key: '%s' "
	    "does not match server_certificate '%s'\n", P("client.key"),
	    P("server-chain.crt"));
	expect_error(&lc, want);

	/* a key of another type (RSA for an EC certificate) too */
	lc.server_private_key = P("small.key");
	snprintf(want, sizeof(want), "t.ini:12: server_private_key: '%s' "
	    "does not match server_certificate '%s'\n", P("small.key"),
	    P("server-chain.crt"));
	expect_error(&lc, want);

	/* an encrypted key: never prompt */
	test_tls_lc(&lc);
	lc.server_private_key = P("server-chain-encrypted.key");
	snprintf(want, sizeof(want), "t.ini:12: server_private_key: '%s' is "
	    "encrypted and mtlslb cannot ask for a passphrase: store it "
	    "decrypted, readable by root only\n", P("server-chain-encrypted.key"));
	expect_error(&lc, want);

	/* a certificate file holding a key only, and the other way round */
	test_tls_lc(&lc);
	lc.server_certificate = P("server-chain.key");
	snprintf(want, sizeof(want), "t.ini:11: server_certificate: no "
	    "certificate in '%s'\n", P("server-chain.key"));
	expect_error(&lc, want);
	test_tls_lc(&lc);
	lc.server_private_key = P("server.crt");
	snprintf(want, sizeof(want), "t.ini:12: server_private_key: no "
	    "private key in '%s'\n", P("server.crt"));
	expect_error(&lc, want);
}
END_TEST

START_TEST(test_err_ca_crl)
{
	struct listener_conf lc;
	char want[3 * PATH_MAX];

	test_tls_lc(&lc);
	lc.ca_certificate = P("empty.pem");
	snprintf(want, sizeof(want), "t.ini:14: ca_certificate: no "
	    "certificate in '%s'\n", P("empty.pem"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.crl = P("garbage-crl.pem");
	snprintf(want, sizeof(want), "t.ini:15: crl: cannot parse '%s': "
	    "bad base64 decode\n", P("garbage-crl.pem"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.crl = P("root.crt");
	snprintf(want, sizeof(want), "t.ini:15: crl: no CRL in '%s'\n",
	    P("root.crt"));
	expect_error(&lc, want);

	test_tls_lc(&lc);
	lc.ca_certificate = NULL;
	expect_error(&lc, "t.ini:13: mutual_authentication: needs "
	    "ca_certificate\n");
}
END_TEST

/* Client certificates where their CA belongs: nobody could ever pass. */
START_TEST(test_err_ca_only_leaves)
{
	struct listener_conf lc;
	char want[3 * PATH_MAX];

	test_tls_lc(&lc);
	lc.ca_certificate = P("client.crt");
	snprintf(want, sizeof(want), "t.ini:14: ca_certificate: '%s' holds "
	    "only end-entity certificates ('CN=client'), no CA, so no client "
	    "certificate can ever verify: use the root or intermediate CA "
	    "certificate that signed the client certificates instead, e.g. "
	    "root.crt ('CN=client' was issued by '" ROOT_DN "')\n",
	    P("client.crt"));
	expect_error(&lc, want);

	lc.ca_certificate = P("leaves.crt");
	snprintf(want, sizeof(want), "t.ini:14: ca_certificate: '%s' holds "
	    "only end-entity certificates ('CN=client', ...), no CA, so no "
	    "client certificate can ever verify: use the root or "
	    "intermediate CA certificate that signed the client certificates "
	    "instead, e.g. root.crt ('CN=client' was issued by '" ROOT_DN
	    "')\n", P("leaves.crt"));
	expect_error(&lc, want);
}
END_TEST

START_TEST(test_err_all_recorded)
{
	struct listener_conf lc;
	char want[6 * PATH_MAX];
	struct test_text t;
	size_t nerr;

	test_tls_lc(&lc);
	lc.server_certificate = P("nope.pem");
	lc.ca_certificate = P("empty.pem");
	lc.crl = P("garbage-crl.pem");
	ck_assert_ptr_null(test_tls_build(&lc, &t, &nerr));
	snprintf(want, sizeof(want),
	    "t.ini:11: server_certificate: cannot open '%s': No such file or "
	    "directory\n"
	    "t.ini:14: ca_certificate: no certificate in '%s'\n"
	    "t.ini:15: crl: cannot parse '%s': bad base64 decode\n",
	    P("nope.pem"), P("empty.pem"), P("garbage-crl.pem"));
	ck_assert_str_eq(t.buf, want);
	ck_assert_uint_eq(nerr, 3);
}
END_TEST

/* ---- tls_ctx_new: warnings ---- */

static void
expect_warnings(const struct listener_conf *lc, const char *want)
{
	struct test_text t;
	SSL_CTX *ctx;
	size_t nerr;

	ctx = test_tls_build(lc, &t, &nerr);
	ck_assert_str_eq(t.buf, want);
	ck_assert_uint_eq(nerr, 0);
	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_free(ctx);
}

START_TEST(test_warn_crl_expired)
{
	struct listener_conf lc;

	test_tls_lc(&lc);
	lc.crl = P("crl-expired.pem");
	expect_warnings(&lc, "t.ini:15: warning: crl: CRL from '" ROOT_DN "' "
	    "expired on 2020-02-01 (nextUpdate); OpenSSL rejects every "
	    "client certificate with \"CRL has expired\" until a new CRL is "
	    "installed\n");
}
END_TEST

START_TEST(test_warn_weak_ca)
{
	struct listener_conf lc;

	test_tls_lc(&lc);
	lc.ca_certificate = P("weak-root.crt");
	expect_warnings(&lc, "t.ini:14: warning: ca_certificate: '"
	    WEAK_ROOT_DN "' is self-signed with md5: OpenSSL 3 does not check a trust "
	    "anchor's own signature, but refuses any certificate signed with "
	    "md5 at security level 1 and above: reissue it with -sha256\n"
	    "t.ini:14: warning: ca_certificate: '" WEAK_ROOT_DN "' has a "
	    "1024-bit "
	    "RSA key, which OpenSSL refuses at security level 2 (the default "
	    "here) and above: reissue it with at least 2048 bits\n");

	lc.ca_certificate = P("sha1-ca-bundle.crt");
	expect_warnings(&lc, "t.ini:14: warning: ca_certificate: '"
	    SHA1_INTER_DN "' is signed with sha1, which OpenSSL 3 refuses at security "
	    "level 1 and above: reissue it with -sha256\n");
}
END_TEST

/*
 * A bundle with a CA and a client certificate works for that CA's clients
 * (a warning), and a self-signed client certificate can be trusted as
 * itself: neither is the all-leaves error.
 */
START_TEST(test_warn_ca_leaf)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	bool ok;

	test_tls_lc(&lc);
	lc.ca_certificate = P("root-and-leaf.crt");
	expect_warnings(&lc, "t.ini:14: warning: ca_certificate: 'CN=client' "
	    "is not a CA certificate, so it cannot issue client "
	    "certificates\n");

	lc.ca_certificate = P("pinned.crt");
	expect_warnings(&lc, "t.ini:14: warning: ca_certificate: 'CN=pinned' "
	    "is not a CA certificate, so it cannot issue client "
	    "certificates\n");
	pc = peer(&lc, "pinned.crt", "pinned.key", &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	tls_peer_cert_free(pc);
}
END_TEST

START_TEST(test_warn_crl_per_ca)
{
	char want[2 * PATH_MAX];
	struct listener_conf lc;

	test_tls_lc(&lc);
	lc.ca_certificate = P("inter-ca-bundle.crt");
	lc.crl = P("crl.pem");
	lc.crl_check_chain = true;
	expect_warnings(&lc, "t.ini:16: warning: crl_check = chain but no "
	    "CRL for CA '" INTER_DN "'\n");

	/* leaf checking: the CA that issues the clients needs its CRL */
	lc.crl_check_chain = false;
	expect_warnings(&lc, "t.ini:15: warning: crl: no CRL for CA "
	    "'" INTER_DN "', so OpenSSL rejects every client certificate "
	    "it issued with \"unable to get certificate CRL\"\n");

	/* a CRL from a CA that is not trusted here */
	lc.ca_certificate = P("other-root.crt");
	expect_warnings(&lc, "t.ini:15: warning: crl: CRL from '" ROOT_DN "' has "
	    "no matching CA in ca_certificate, so it is never used\n"
	    "t.ini:15: warning: crl: no CRL for CA '" OTHER_DN "', so "
	    "OpenSSL rejects every client certificate it issued with "
	    "\"unable to get certificate CRL\"\n");

	/* an intermediate without its issuer */
	lc.crl = NULL;
	lc.ca_certificate = P("inter.crt");
	snprintf(want, sizeof(want), "t.ini:14: warning: ca_certificate: the "
	    "issuer '" ROOT_DN "' of '" INTER_DN "' is not in '%s', so OpenSSL "
	    "rejects its client certificates with \"unable to get issuer "
	    "certificate\"\n", P("inter.crt"));
	expect_warnings(&lc, want);
}
END_TEST

START_TEST(test_warn_server_cert)
{
	char want[2 * PATH_MAX];
	struct listener_conf lc;
	struct test_text t;
	SSL_CTX *ctx;
	size_t nerr;

	/* one file with the chain and the key is fine */
	test_tls_lc(&lc);
	lc.server_certificate = P("server-combined.pem");
	lc.server_private_key = P("server-combined.pem");
	expect_warnings(&lc, "");

	/* sha1: explained, then refused by OpenSSL itself */
	test_tls_lc(&lc);
	lc.server_certificate = P("server-sha1.crt");
	ck_assert_ptr_null(ctx = test_tls_build(&lc, &t, &nerr));
	snprintf(want, sizeof(want), "t.ini:11: warning: server_certificate: "
	    "'CN=localhost' is signed with sha1, which OpenSSL 3 refuses at "
	    "security level 1 and above: reissue it with -sha256\n"
	    "t.ini:11: server_certificate: cannot use '%s': ca md too weak\n",
	    P("server-sha1.crt"));
	ck_assert_str_eq(t.buf, want);
	ck_assert_uint_eq(nerr, 1);

	test_tls_lc(&lc);
	lc.server_certificate = P("server-expired.crt");
	lc.server_private_key = P("server-expired.key");
	lc.mutual_authentication = MTLS_OFF;
	expect_warnings(&lc, "t.ini:11: warning: server_certificate: "
	    "'CN=localhost' expired on 2021-01-01 (notAfter); clients will "
	    "refuse it\n");

	test_tls_lc(&lc);
	lc.server_certificate = P("server-clientauth.crt");
	lc.server_private_key = P("server-clientauth.key");
	expect_warnings(&lc, "t.ini:11: warning: server_certificate: "
	    "'CN=server-clientauth' has an extendedKeyUsage without serverAuth; "
	    "clients will refuse it\n");
}
END_TEST

/* ---- verdicts after real handshakes ---- */

START_TEST(test_peer_ok)
{
	char buf[512], want[256], *p, *q;
	struct listener_conf lc;
	struct peer_cert *pc;
	bool ok;

	test_tls_lc(&lc);
	lc.crl = P("crl.pem");
	pc = peer(&lc, "client.crt", "client.key", &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	ck_assert_int_eq(pc->verify_err, X509_V_OK);
	ck_assert_ptr_null(pc->reason);
	ck_assert_str_eq(pc->subject, "CN=client");
	ck_assert_str_eq(pc->issuer, ROOT_DN);
	ck_assert_str_eq(tls_reason_class(pc), "ok");

	cli("x509 -noout -serial", "client.crt", buf, sizeof(buf));
	ck_assert_str_eq(pc->serial, buf + strlen("serial="));

	cli("x509 -noout -fingerprint -sha256", "client.crt", buf,
	    sizeof(buf));
	ck_assert_ptr_nonnull(p = strchr(buf, '='));
	for (q = want, p++; *p != '\0' && q < want + sizeof(want) - 1; p++)
		if (*p != ':')
			*q++ = (char)tolower((unsigned char)*p);
	*q = '\0';
	ck_assert_str_eq(pc->fingerprint, want);

	tls_peer_describe(pc, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ok: subject=CN=client issuer=" ROOT_DN);
	tls_peer_cert_free(pc);

	/* crl_check = chain: the root's CRL also covers the root */
	lc.crl_check_chain = true;
	pc = peer(&lc, "client.crt", "client.key", &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	tls_peer_cert_free(pc);
}
END_TEST

START_TEST(test_peer_none)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	char buf[128];
	bool ok;

	test_tls_lc(&lc);
	pc = peer(&lc, NULL, NULL, &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_NONE);
	ck_assert_ptr_null(pc->subject);
	ck_assert_ptr_null(pc->serial);
	ck_assert_ptr_null(pc->reason);
	ck_assert_str_eq(pc->fingerprint, "");
	ck_assert_str_eq(tls_reason_class(pc), "no_cert");
	tls_peer_describe(pc, buf, sizeof(buf));
	ck_assert_str_eq(buf, "no client certificate presented");
	tls_peer_cert_free(pc);
}
END_TEST

START_TEST(test_peer_failed)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	bool ok;

	/* http_400 mode: the handshake completes, the verdict says no */
	test_tls_lc(&lc);
	lc.crl = P("crl.pem");
	pc = peer(&lc, "other.crt", "other.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	    "unable to get local issuer certificate", "unknown_ca",
	    "CN=client", OTHER_DN);
	tls_peer_cert_free(pc);

	pc = peer(&lc, "expired.crt", "expired.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_CERT_HAS_EXPIRED,
	    "certificate has expired", "expired", "CN=expired", ROOT_DN);
	tls_peer_cert_free(pc);

	pc = peer(&lc, "revoked.crt", "revoked.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_CERT_REVOKED, "certificate revoked",
	    "revoked", "CN=revoked", ROOT_DN);
	tls_peer_cert_free(pc);

	pc = peer(&lc, "wrong-eku.crt", "wrong-eku.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_INVALID_PURPOSE,
	    "unsuitable certificate purpose", "bad_purpose",
	    "CN=wrong-eku", ROOT_DN);
	tls_peer_cert_free(pc);

	lc.crl = P("crl-expired.pem");
	pc = peer(&lc, "client.crt", "client.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_CRL_HAS_EXPIRED, "CRL has expired",
	    "crl_expired", "CN=client", ROOT_DN);
	tls_peer_cert_free(pc);
}
END_TEST

START_TEST(test_peer_weak)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	bool ok;

	test_tls_lc(&lc);
	lc.ca_certificate = P("weak-root.crt");
	pc = peer(&lc, "weak.crt", "weak.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_CA_MD_TOO_WEAK, "certificate signature "
	    "algorithm too weak for OpenSSL security level 2 "
	    "(md5WithRSAEncryption)", "other", "CN=weak", WEAK_ROOT_DN);
	tls_peer_cert_free(pc);

	test_tls_lc(&lc);
	pc = peer(&lc, "small.crt", "small.key", &ok);
	ck_assert(ok);
	expect_failed(pc, X509_V_ERR_EE_KEY_TOO_SMALL, "client certificate "
	    "key too small for OpenSSL security level 2 (RSA 1024 bits)",
	    "other", "CN=small key", ROOT_DN);
	tls_peer_cert_free(pc);
}
END_TEST

START_TEST(test_peer_tls_alert)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	char want[64];
	bool ok;

	test_tls_lc(&lc);
	lc.crl = P("crl.pem");
	lc.reject_tls_alert = true;

	pc = peer(&lc, "other.crt", "other.key", &ok);
	ck_assert(!ok);
	ck_assert_str_eq(test_tls_alert, "unknown CA");
	expect_failed(pc, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
	    "unable to get local issuer certificate", "unknown_ca",
	    "CN=client", OTHER_DN);
	cli("x509 -noout -serial", "other.crt", want, sizeof(want));
	ck_assert_str_eq(pc->serial, want + strlen("serial="));
	tls_peer_cert_free(pc);

	pc = peer(&lc, "expired.crt", "expired.key", &ok);
	ck_assert(!ok);
	ck_assert_str_eq(test_tls_alert, "certificate expired");
	expect_failed(pc, X509_V_ERR_CERT_HAS_EXPIRED,
	    "certificate has expired", "expired", "CN=expired", ROOT_DN);
	tls_peer_cert_free(pc);

	pc = peer(&lc, "revoked.crt", "revoked.key", &ok);
	ck_assert(!ok);
	ck_assert_str_eq(test_tls_alert, "certificate revoked");
	ck_assert_str_eq(tls_reason_class(pc), "revoked");
	tls_peer_cert_free(pc);

	/* on: no certificate is fatal (certificate_required in TLS 1.3) */
	pc = peer(&lc, NULL, NULL, &ok);
	ck_assert(!ok);
	ck_assert_int_eq(test_tls_alert_code, TLS13_AD_CERTIFICATE_REQUIRED);
	ck_assert_int_eq(pc->verdict, TLS_PEER_NONE);
	ck_assert_str_eq(tls_reason_class(pc), "no_cert");
	tls_peer_cert_free(pc);

	pc = peer(&lc, "client.crt", "client.key", &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	tls_peer_cert_free(pc);

	/* optional: no certificate is fine */
	lc.mutual_authentication = MTLS_OPTIONAL;
	pc = peer(&lc, NULL, NULL, &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_NONE);
	tls_peer_cert_free(pc);
}
END_TEST

/*
 * verify_depth is OpenSSL's (>= 1.1.0) and so nginx's ssl_verify_depth on
 * it: the most CA certificates allowed between the client certificate and
 * the trusted root, neither of them counted. Each chain at its boundary.
 */
START_TEST(test_verify_depth)
{
	static const struct {
		const char *ca, *cert, *key;
		unsigned depth;
		bool ok;
	} t[] = {
		/* root > client: issued by the root itself */
		{ "root.crt", "client.crt", "client.key", 0, true },
		{ "root.crt", "client.crt", "client.key", 1, true },
		{ "root.crt", "client.crt", "client.key", 2, true },
		/* root > inter > inter-client: one intermediate */
		{ "inter-ca-bundle.crt", "inter-client.crt", "inter-client.key",
		    0, false },
		{ "inter-ca-bundle.crt", "inter-client.crt", "inter-client.key",
		    1, true },
		{ "inter-ca-bundle.crt", "inter-client.crt", "inter-client.key",
		    2, true },
		/* root > inter > deep-ca2 > deep-ca3 > deep-client: three */
		{ "deep-ca-bundle.crt", "deep-client.crt", "deep-client.key",
		    2, false },
		{ "deep-ca-bundle.crt", "deep-client.crt", "deep-client.key",
		    3, true },
	};
	struct listener_conf lc;
	struct peer_cert *pc;
	size_t i;
	bool ok;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		test_tls_lc(&lc);
		lc.ca_certificate = P(t[i].ca);
		lc.verify_depth = t[i].depth;
		pc = peer(&lc, t[i].cert, t[i].key, &ok);
		ck_assert(ok);
		if (t[i].ok)
			ck_assert_msg(pc->verdict == TLS_PEER_OK, "%s at depth "
			    "%u: %s", t[i].cert, t[i].depth, pc->reason);
		else
			ck_assert_msg(pc->verdict == TLS_PEER_FAILED &&
			    pc->verify_err == X509_V_ERR_CERT_CHAIN_TOO_LONG,
			    "%s at depth %u: verdict %d, error %ld", t[i].cert,
			    t[i].depth, pc->verdict, pc->verify_err);
		tls_peer_cert_free(pc);
	}

	/* tls_alert mode: the same verdict fails the handshake */
	test_tls_lc(&lc);
	lc.ca_certificate = P("deep-ca-bundle.crt");
	lc.verify_depth = 2;
	lc.reject_tls_alert = true;
	pc = peer(&lc, "deep-client.crt", "deep-client.key", &ok);
	ck_assert(!ok);
	ck_assert_int_eq(pc->verify_err, X509_V_ERR_CERT_CHAIN_TOO_LONG);
	ck_assert_str_eq(pc->reason, "certificate chain too long");
	ck_assert_str_eq(tls_reason_class(pc), "other");
	tls_peer_cert_free(pc);
}
END_TEST

/*
 * The forwarded formats (man/mtlslb.ini.5, forward_client_cert): DNs as
 * OpenSSL's RFC 2253 printer writes them (last RDN first, "+" inside a
 * multi-valued RDN, specials backslash-escaped, UTF-8 bytes as \XX), the
 * serial in uppercase hex without the DER sign byte, the fingerprint in
 * lowercase hex.
 */
START_TEST(test_peer_formats)
{
	const char *dn = "UID=u1+CN=\\#lead\\<1\\>,OU=R&D \\\"lab\\\"\\;x,"
	    "O=M\\C3\\BCller\\, Acme\\+Co,C=DE";
	struct listener_conf lc;
	struct peer_cert *pc;
	char buf[512];
	size_t i;
	bool ok;

	test_tls_lc(&lc);
	pc = peer(&lc, "client-utf8.crt", "client-utf8.key", &ok);
	ck_assert(ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	ck_assert_str_eq(pc->subject, dn);
	cli("x509 -noout -subject -nameopt RFC2253", "client-utf8.crt", buf,
	    sizeof(buf));
	ck_assert_str_eq(pc->subject, buf + strlen("subject="));
	ck_assert_str_eq(pc->issuer, ROOT_DN);
	ck_assert_str_eq(pc->serial, "80A1B2");
	ck_assert_uint_eq(strlen(pc->fingerprint), 64);
	for (i = 0; i < 64; i++)
		ck_assert(strchr("0123456789abcdef", pc->fingerprint[i]));
	tls_peer_cert_free(pc);

	/* one byte, leading zero kept, as "openssl x509 -serial" */
	lc.ca_certificate = P("weak-root.crt");
	pc = peer(&lc, "weak.crt", "weak.key", &ok);
	ck_assert_str_eq(pc->serial, "08");
	tls_peer_cert_free(pc);
}
END_TEST

/* max_client_cert_header_size: a DN over the cap is named, never cut. */
/* PP2_SUBTYPE_SSL_CN: the first CN of the RFC 2253 subject, unescaped. */
static const char *
cn_of(const char *subject, char *buf, size_t len)
{
	struct peer_cert pc;

	memset(&pc, 0, sizeof(pc));
	pc.subject = (char *)subject;
	return tls_peer_cn(&pc, buf, len) ? buf : "(none)";
}

START_TEST(test_peer_cn)
{
	char b[64];

	ck_assert_str_eq(cn_of("CN=client", b, sizeof(b)), "client");
	ck_assert_str_eq(cn_of("CN=a\\, b,O=x", b, sizeof(b)), "a, b");
	ck_assert_str_eq(cn_of("CN=#lead<1>+UID=u1,OU=R&D", b, sizeof(b)),
	    "#lead<1>");
	ck_assert_str_eq(cn_of("O=M\\C3\\BCller,CN=m\\C3\\BC", b,
	    sizeof(b)), "m\xc3\xbc");
	ck_assert_str_eq(cn_of("O=CN=fake,OU=x\\,CN=no", b, sizeof(b)),
	    "(none)");
	ck_assert_str_eq(cn_of("UID=u+CN=second,CN=third", b, sizeof(b)),
	    "second");
	ck_assert_str_eq(cn_of("O=x", b, sizeof(b)), "(none)");
	ck_assert_str_eq(cn_of("CN=", b, sizeof(b)), "(none)");
	ck_assert_str_eq(cn_of("CN=toolong", b, 4), "(none)");
	ck_assert(!tls_peer_cn(NULL, b, sizeof(b)));
}
END_TEST

START_TEST(test_peer_dn_over)
{
	struct listener_conf lc;
	struct peer_cert *pc;
	char why[256], want[256];
	size_t ns, ni;
	bool ok;

	test_tls_lc(&lc);
	pc = peer(&lc, "client-utf8.crt", "client-utf8.key", &ok);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	ns = strlen(pc->subject);
	ni = strlen(pc->issuer);
	ck_assert_uint_gt(ns, ni);

	/* at the cap: forwarded */
	ck_assert_uint_eq(tls_peer_dn_over(pc, ns, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
	ck_assert_uint_eq(tls_peer_dn_over(pc, 4096, NULL, 0), 0);

	/* one byte over */
	ck_assert_uint_eq(tls_peer_dn_over(pc, ns - 1, why, sizeof(why)),
	    TLS_PEER_DN_SUBJECT);
	snprintf(want, sizeof(want), "subject DN is %zu bytes, over "
	    "max_client_cert_header_size %zu: not forwarded", ns, ns - 1);
	ck_assert_str_eq(why, want);

	/* both over */
	ck_assert_uint_eq(tls_peer_dn_over(pc, ni - 1, why, sizeof(why)),
	    TLS_PEER_DN_SUBJECT | TLS_PEER_DN_ISSUER);
	snprintf(want, sizeof(want), "subject DN is %zu bytes and issuer DN "
	    "%zu bytes, over max_client_cert_header_size %zu: neither "
	    "forwarded", ns, ni, ni - 1);
	ck_assert_str_eq(why, want);
	tls_peer_cert_free(pc);

	/* the issuer alone: a long CA name over a short client name */
	lc.ca_certificate = P("other-root.crt");
	pc = peer(&lc, "other.crt", "other.key", &ok);
	ck_assert_str_eq(pc->subject, "CN=client");
	ck_assert_uint_eq(tls_peer_dn_over(pc, 10, why, sizeof(why)),
	    TLS_PEER_DN_ISSUER);
	ck_assert_str_eq(why, "issuer DN is 20 bytes, over "
	    "max_client_cert_header_size 10: not forwarded");
	tls_peer_cert_free(pc);

	/* no certificate, no names */
	ck_assert_uint_eq(tls_peer_dn_over(NULL, 0, why, sizeof(why)), 0);
	pc = peer(&lc, NULL, NULL, &ok);
	ck_assert_uint_eq(tls_peer_dn_over(pc, 0, why, sizeof(why)), 0);
	tls_peer_cert_free(pc);
}
END_TEST

/* ---- sessions, ALPN, TLS 1.2 ---- */

START_TEST(test_tls_min_13)
{
	struct listener_conf lc;
	SSL_CTX *sctx, *cctx;
	struct test_text t;
	SSL *s, *c;

	test_tls_lc(&lc);
	lc.tls_min_version = 0x0304;
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	cctx = test_tls_client("client.crt", "client.key", TLS1_2_VERSION);
	ck_assert(!test_tls_handshake(sctx, cctx, NULL, &s, &c));
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

START_TEST(test_alpn_none)
{
	struct listener_conf lc;
	const unsigned char *alpn;
	SSL_CTX *sctx, *cctx;
	unsigned int len;
	struct test_text t;
	SSL *s, *c;

	/* no http/1.1 offered: carry on without ALPN rather than fail */
	test_tls_lc(&lc);
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	cctx = test_tls_client("client.crt", "client.key", 0);
	test_tls_alpn = "\x02h2";
	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	test_tls_alpn = TEST_TLS_ALPN;
	SSL_get0_alpn_selected(s, &alpn, &len);
	ck_assert_uint_eq(len, 0);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

static Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc;

	tc = tcase_create("ctx");
	tcase_add_test(tc, test_ctx_ok);
	tcase_add_test(tc, test_ctx_modes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_err_missing_files);
	tcase_add_test(tc, test_err_key_mismatch);
	tcase_add_test(tc, test_err_ca_crl);
	tcase_add_test(tc, test_err_ca_only_leaves);
	tcase_add_test(tc, test_err_all_recorded);
	suite_add_tcase(s, tc);

	tc = tcase_create("warnings");
	tcase_add_test(tc, test_warn_crl_expired);
	tcase_add_test(tc, test_warn_weak_ca);
	tcase_add_test(tc, test_warn_ca_leaf);
	tcase_add_test(tc, test_warn_crl_per_ca);
	tcase_add_test(tc, test_warn_server_cert);
	suite_add_tcase(s, tc);

	tc = tcase_create("peer");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_peer_ok);
	tcase_add_test(tc, test_peer_none);
	tcase_add_test(tc, test_peer_failed);
	tcase_add_test(tc, test_peer_weak);
	tcase_add_test(tc, test_peer_tls_alert);
	tcase_add_test(tc, test_verify_depth);
	tcase_add_test(tc, test_peer_formats);
	tcase_add_test(tc, test_peer_dn_over);
	tcase_add_test(tc, test_peer_cn);
	suite_add_tcase(s, tc);

	tc = tcase_create("sessions");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tls_min_13);
	tcase_add_test(tc, test_alpn_none);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { tls_suite, test_pki_make,
    test_pki_remove };
