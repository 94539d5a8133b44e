/* Unit tests for tls_session.c with tls.c and tls_peer.c: resumption from
 * the shared cache with the identity record, the per-worker cache, the
 * peer certificate cut from a stored session, failed verdicts not kept. */
#include "ac_config.h"

#include <check.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "sesscache.h"
#include "test_main.h"
#include "test_pki.h"
#include "test_tls.h"
#include "tls.h"
#include "tls_session.h"

START_TEST(test_session_resume)
{
	const unsigned char *sid_ctx, *alpn;
	struct sesscache *sc;
	struct listener_conf lc;
	struct peer_cert *pc, *full;
	SSL_SESSION *sess;
	SSL_CTX *sctx, *cctx;
	unsigned int len;
	struct test_text t;
	SSL *s, *c;

	test_tls_lc(&lc);
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	ck_assert_ptr_nonnull(sc = sesscache_new(16, "https"));
	tls_session_use_cache(sctx, sc);
	cctx = test_tls_client("client.crt", "client.key", 0);

	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 0);
	full = tls_peer_cert_new(s);
	SSL_SESSION_get0_id_context(SSL_get_session(s), &len);
	ck_assert_uint_eq(len, 32);
	SSL_get0_alpn_selected(s, &alpn, &len);
	ck_assert_uint_eq(len, 8);
	ck_assert_int_eq(memcmp(alpn, "http/1.1", 8), 0);
	ck_assert_ptr_nonnull(sess = SSL_get1_session(c));
	ck_assert_int_eq(SSL_SESSION_is_resumable(sess), 1);
	ck_assert_uint_eq(sesscache_entries(sc), 1);
	test_tls_free(s, c);

	/* a stateful ticket from the shared cache, with the certificate */
	ck_assert_uint_eq(sesscache_entries(sc), 1);
	ck_assert(test_tls_handshake(sctx, cctx, sess, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 1);
	SSL_SESSION_get0_id_context(SSL_get_session(s), &len);
	ck_assert_ptr_nonnull(sid_ctx = SSL_SESSION_get0_id_context(
	    SSL_get_session(s), &len));
	ck_assert_uint_eq(len, 32);
	/*
	 * The stored session left the certificate out (decoding it is most
	 * of a resumption's cost); its identity record gives the same names.
	 */
	ck_assert_ptr_null(SSL_get0_peer_certificate(s));
	ck_assert_int_eq(tls_peer_verdict(s), TLS_PEER_OK);
	pc = tls_peer_cert_new(s);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	ck_assert_int_eq(pc->verify_err, X509_V_OK);
	ck_assert_str_eq(pc->subject, "CN=client");
	ck_assert_str_eq(pc->subject, full->subject);
	ck_assert_str_eq(pc->issuer, full->issuer);
	ck_assert_str_eq(pc->serial, full->serial);
	ck_assert_str_eq(pc->fingerprint, full->fingerprint);
	ck_assert_ptr_nonnull(pc->sans);	/* the allow rules' SANs */
	ck_assert_str_eq(pc->sans, full->sans);
	ck_assert_ptr_null(pc->reason);
	tls_peer_cert_free(pc);
	SSL_SESSION_free(sess);
	/* and the ticket of the resumed connection carries it on */
	ck_assert_ptr_nonnull(sess = SSL_get1_session(c));
	test_tls_free(s, c);
	ck_assert(test_tls_handshake(sctx, cctx, sess, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 1);
	pc = tls_peer_cert_new(s);
	ck_assert_str_eq(pc->fingerprint, full->fingerprint);
	tls_peer_cert_free(pc);
	tls_peer_cert_free(full);
	SSL_SESSION_free(sess);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);

	/* TLS 1.2: ECDHE + AEAD, and the session-ID cache */
	cctx = test_tls_client("client.crt", "client.key", TLS1_2_VERSION);
	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	ck_assert_int_eq(SSL_version(s), TLS1_2_VERSION);
	ck_assert_str_eq(SSL_get_cipher_name(s),
	    "ECDHE-ECDSA-AES128-GCM-SHA256");
	ck_assert_ptr_nonnull(sess = SSL_get1_session(c));
	test_tls_free(s, c);
	ck_assert(test_tls_handshake(sctx, cctx, sess, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 1);
	pc = tls_peer_cert_new(s);
	ck_assert_int_eq(pc->verdict, TLS_PEER_OK);
	tls_peer_cert_free(pc);
	SSL_SESSION_free(sess);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	sesscache_unref(sc);

	/* session_cache = worker: OpenSSL's own cache in each process */
	lc.session_cache = SESSION_CACHE_WORKER;
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	ck_assert_int_eq(SSL_CTX_get_session_cache_mode(sctx),
	    SSL_SESS_CACHE_SERVER);
	ck_assert_int_eq(SSL_CTX_sess_get_cache_size(sctx), 1024);
	cctx = test_tls_client("client.crt", "client.key", 0);
	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	ck_assert_ptr_nonnull(sess = SSL_get1_session(c));
	test_tls_free(s, c);
	ck_assert_int_eq(SSL_CTX_sess_number(sctx), 1);
	ck_assert(test_tls_handshake(sctx, cctx, sess, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 1);
	SSL_SESSION_free(sess);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

/* The peer certificate leaves a serialised session; the rest stays. */
START_TEST(test_session_strip_peer)
{
	static const unsigned char bad[] = { 0x30, 0x05, 0x02, 0x01 };
	unsigned char der[8192], *p = der;
	const unsigned char *q = der;
	struct listener_conf lc;
	SSL_SESSION *sess, *slim;
	SSL_CTX *sctx, *cctx;
	unsigned int idlen, idlen2;
	struct test_text t;
	size_t n;
	int len;
	SSL *s, *c;

	test_tls_lc(&lc);
	lc.session_cache = SESSION_CACHE_WORKER;
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	cctx = test_tls_client("client.crt", "client.key", 0);
	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	sess = SSL_get_session(s);
	ck_assert_ptr_nonnull(SSL_SESSION_get0_peer(sess));
	len = i2d_SSL_SESSION(sess, NULL);
	ck_assert_int_gt(len, 300);
	ck_assert_int_lt(len, (int)sizeof(der));
	ck_assert_int_eq(i2d_SSL_SESSION(sess, &p), len);
	n = tls_session_strip_peer(der, (size_t)len);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, (size_t)len - 200);
	ck_assert_ptr_nonnull(slim = d2i_SSL_SESSION(NULL, &q, (long)n));
	ck_assert_ptr_null(SSL_SESSION_get0_peer(slim));
	ck_assert_mem_eq(SSL_SESSION_get_id(slim, &idlen),
	    SSL_SESSION_get_id(sess, &idlen2), 32);
	ck_assert_uint_eq(idlen, idlen2);
	ck_assert_int_eq(SSL_SESSION_get_protocol_version(slim),
	    SSL_SESSION_get_protocol_version(sess));
	ck_assert_int_eq(SSL_SESSION_get_timeout(slim),
	    SSL_SESSION_get_timeout(sess));
	/* again: nothing left to strip, same bytes */
	ck_assert_uint_eq(tls_session_strip_peer(der, n), n);
	/* not a session */
	memcpy(der, bad, sizeof(bad));
	ck_assert_uint_eq(tls_session_strip_peer(der, sizeof(bad)), 0);
	ck_assert_uint_eq(tls_session_strip_peer(der, 1), 0);
	SSL_SESSION_free(slim);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}
END_TEST

/*
 * http_400 mode: a session whose certificate failed verification is never
 * resumed; the next connection verifies again and fails the same way.
 */
START_TEST(test_session_resume_failed)
{
	struct sesscache *sc;
	struct listener_conf lc;
	struct peer_cert *pc;
	SSL_SESSION *sess;
	SSL_CTX *sctx, *cctx;
	struct test_text t;
	SSL *s, *c;

	test_tls_lc(&lc);
	ck_assert_ptr_nonnull(sctx = test_tls_build(&lc, &t, NULL));
	ck_assert_ptr_nonnull(sc = sesscache_new(16, "https"));
	tls_session_use_cache(sctx, sc);
	cctx = test_tls_client("other.crt", "other.key", 0);
	ck_assert(test_tls_handshake(sctx, cctx, NULL, &s, &c));
	ck_assert_ptr_nonnull(sess = SSL_get1_session(c));
	test_tls_free(s, c);
	ck_assert_uint_eq(sesscache_entries(sc), 0);
	ck_assert(test_tls_handshake(sctx, cctx, sess, &s, &c));
	ck_assert_int_eq(SSL_session_reused(s), 0);
	pc = tls_peer_cert_new(s);
	ck_assert_int_eq(pc->verdict, TLS_PEER_FAILED);
	ck_assert_str_eq(pc->subject, "CN=client");
	ck_assert_str_eq(tls_reason_class(pc), "unknown_ca");
	tls_peer_cert_free(pc);
	SSL_SESSION_free(sess);
	test_tls_free(s, c);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	sesscache_unref(sc);
}
END_TEST

static Suite *
tls_session_suite(void)
{
	Suite *s = suite_create("tls_session");
	TCase *tc;

	tc = tcase_create("sessions");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_session_resume);
	tcase_add_test(tc, test_session_resume_failed);
	tcase_add_test(tc, test_session_strip_peer);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { tls_session_suite, test_pki_make,
    test_pki_remove };
