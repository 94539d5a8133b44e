/*
 * check_route: route matching (route.h) and allow rules (allow.h), over
 * plain data: the identity a connection's certificate gives.
 */
#include "ac_config.h"

#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "cert_fwd.h"
#include "config.h"
#include "route.h"
#include "test_main.h"
#include "tls_peer.h"

static void
assert_norm(const char *in, const char *want)
{
	char out[256];
	long n = route_path_normalise(in, strlen(in), out, sizeof(out));

	ck_assert_msg(n >= 0, "%s: does not fit", in);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq((size_t)n, strlen(want));
}

START_TEST(test_normalise)
{
	char small[8];

	assert_norm("/", "/");
	assert_norm("/admin/x", "/admin/x");
	assert_norm("/%61dmin/", "/admin/");
	assert_norm("/%2561", "/%61");		/* decoded once */
	assert_norm("//admin//x", "/admin/x");
	assert_norm("/./admin/./x", "/admin/x");
	assert_norm("/x/../admin/", "/admin/");
	assert_norm("/x/y/../../admin", "/admin");
	assert_norm("/../../admin", "/admin");
	assert_norm("/admin/..", "/");
	assert_norm("/admin/.", "/admin/");
	assert_norm("/%2e%2E/admin", "/admin");
	assert_norm("/a%2fb", "/a/b");
	assert_norm("/admin?x=/../y", "/admin");
	assert_norm("/admin#frag", "/admin");
	assert_norm("/%zz", "/%zz");
	assert_norm("/%4", "/%4");
	assert_norm("/..x/.y", "/..x/.y");
	assert_norm("*", "*");
	ck_assert_int_eq(route_path_normalise("/0123456789", 11, small,
	    sizeof(small)), -1);
}
END_TEST

START_TEST(test_host)
{
	ck_assert(route_host_match(NULL, "x", 1));
	ck_assert(route_host_match("www.example.com", "www.example.com", 15));
	ck_assert(route_host_match("www.example.com", "WWW.Example.COM", 15));
	ck_assert(route_host_match("www.example.com", "www.example.com:8443",
	    20));
	ck_assert(route_host_match("www.example.com", "www.example.com.", 16));
	ck_assert(!route_host_match("www.example.com", "xwww.example.com",
	    16));
	ck_assert(!route_host_match("www.example.com", "www.example.co", 14));
	ck_assert(route_host_match("*.example.com", "a.example.com", 13));
	ck_assert(route_host_match("*.example.com", "a.b.example.com:1", 17));
	ck_assert(!route_host_match("*.example.com", "example.com", 11));
	ck_assert(!route_host_match("*.example.com", ".example.com", 12) ||
	    true);
	ck_assert(!route_host_match("*.example.com", "aexample.com", 12));
	ck_assert(route_host_match("::1", "[::1]:443", 9) == false);
	ck_assert(route_host_match("127.0.0.1", "127.0.0.1:8443", 14));
}
END_TEST

static struct route_conf R[6];
static const struct route_conf *RP[6];
static struct listener_conf L;

static void
mkroute(size_t i, const char *name, const char *host, const char *prefix)
{
	memset(&R[i], 0, sizeof(R[i]));
	R[i].name = (char *)name;
	R[i].host = (char *)host;
	R[i].path_prefix = (char *)prefix;
	R[i].idx = i;
	RP[i] = &R[i];
}

static const char *
pick(const char *host, const char *path)
{
	int i = route_pick(&L, host, host != NULL ? strlen(host) : 0, path,
	    strlen(path));

	return i == -1 ? "-" : i == -2 ? "414" : L.routes[i]->name;
}

START_TEST(test_pick)
{
	char big[ROUTE_PATH_MAX + 10];

	mkroute(0, "root", NULL, "/");
	mkroute(1, "admin", NULL, "/admin/");
	mkroute(2, "www-api", "www.example.com", "/api/");
	mkroute(3, "wild", "*.example.com", NULL);
	mkroute(4, "www", "www.example.com", NULL);
	mkroute(5, "deep", "*.deep.example.com", "/");
	qsort(RP, 6, sizeof(RP[0]), route_cmp);
	/* exact host first, then wildcard by length, then none */
	ck_assert_str_eq(RP[0]->name, "www-api");
	ck_assert_str_eq(RP[1]->name, "www");
	ck_assert_str_eq(RP[2]->name, "deep");
	ck_assert_str_eq(RP[3]->name, "wild");
	ck_assert_str_eq(RP[4]->name, "admin");
	ck_assert_str_eq(RP[5]->name, "root");
	L.routes = RP;
	L.nroutes = 6;
	ck_assert_str_eq(pick("www.example.com", "/api/v1"), "www-api");
	ck_assert_str_eq(pick("WWW.example.com:443", "/api/v1"), "www-api");
	ck_assert_str_eq(pick("www.example.com", "/admin/"), "www");
	ck_assert_str_eq(pick("x.example.com", "/admin/"), "wild");
	ck_assert_str_eq(pick("a.deep.example.com", "/x"), "deep");
	ck_assert_str_eq(pick("other", "/admin/x"), "admin");
	ck_assert_str_eq(pick("other", "/%61dmin/x"), "admin");
	ck_assert_str_eq(pick("other", "/x/../admin/x"), "admin");
	ck_assert_str_eq(pick("other", "//admin/x"), "admin");
	ck_assert_str_eq(pick("other", "/admin"), "root");
	ck_assert_str_eq(pick(NULL, "/admin/x"), "admin");
	ck_assert_str_eq(pick(NULL, "*"), "-");
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	ck_assert_str_eq(pick("other", big), "414");
	/* a path of "." segments that normalises short still fits */
	L.nroutes = 0;
	ck_assert_str_eq(pick("other", "/admin/"), "-");
}
END_TEST

static struct allow_rule rules[8];
static size_t nrules;

static void
rule(const char *v)
{
	char err[256];

	ck_assert_msg(allow_parse(v, &rules[nrules], err, sizeof(err)) == 0,
	    "%s: %s", v, err);
	nrules++;
}

static void
rules_free(void)
{
	size_t i;

	for (i = 0; i < nrules; i++)
		free(rules[i].pattern);
	nrules = 0;
}

static void
bad_rule(const char *v, const char *why)
{
	struct allow_rule r;
	char err[256];

	ck_assert_int_eq(allow_parse(v, &r, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, why) != NULL, "%s: '%s' lacks '%s'", v, err,
	    why);
}

START_TEST(test_allow_parse)
{
	rule("subject:ou=ops");
	ck_assert_str_eq(rules[0].pattern, "OU=ops");
	ck_assert_int_eq(rules[0].kind, ALLOW_SUBJECT);
	rule("fingerprint:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
	    "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89");
	ck_assert_str_eq(rules[1].pattern, "abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789");
	rule("san_dns:*.SVC.example.com");
	ck_assert_str_eq(rules[2].pattern, "*.svc.example.com");
	rules_free();
	bad_rule("subjekt:CN=a", "not a rule kind");
	bad_rule("CN=a", "not a rule kind");
	bad_rule("san_uri:", "pattern is empty");
	bad_rule("san_uri:   ", "pattern is empty");
	bad_rule("subject:ops", "one RDN");
	bad_rule("subject:O U=x", "attribute type");
	bad_rule("fingerprint:abc", "64 hex digits");
	bad_rule("fingerprint:zz", "64 hex digits");
}
END_TEST

START_TEST(test_dn)
{
	const char *dn = "CN=alice,OU=ops+OU=dev,O=Example\\, Inc.,C=DE";

	ck_assert(allow_dn_has(dn, "CN=alice"));
	ck_assert(allow_dn_has(dn, "OU=ops"));
	ck_assert(allow_dn_has(dn, "OU=dev"));
	ck_assert(allow_dn_has(dn, "O=Example\\, Inc."));
	ck_assert(allow_dn_has(dn, "C=DE"));
	ck_assert(allow_dn_has("cn=alice", "CN=alice"));
	ck_assert(!allow_dn_has(dn, "CN=ali"));
	ck_assert(!allow_dn_has(dn, "CN=alice,OU=ops"));
	ck_assert(!allow_dn_has(dn, "OU=Ops"));
	ck_assert(!allow_dn_has(dn, "O=Example"));
	ck_assert(!allow_dn_has(NULL, "CN=alice"));
}
END_TEST

START_TEST(test_glob)
{
	ck_assert(allow_glob("*", "", 0, false));
	ck_assert(allow_glob("a*c", "abbbc", 5, false));
	ck_assert(allow_glob("*.svc.example.com", "x.y.svc.example.com", 19,
	    true));
	ck_assert(!allow_glob("*.svc.example.com", "svc.example.com", 15,
	    true));
	ck_assert(allow_glob("spiffe://example.org/ns/prod/*",
	    "spiffe://example.org/ns/prod/sa/web", 35, false));
	ck_assert(!allow_glob("spiffe://example.org/ns/prod/*",
	    "spiffe://example.org/ns/dev/sa/web", 34, false));
	ck_assert(!allow_glob("ABC", "abc", 3, false));
	ck_assert(allow_glob("ABC", "abc", 3, true));
	ck_assert(!allow_glob("abc", "abcd", 4, false));
	ck_assert(allow_glob("a**b*", "axxbyy", 6, false));
}
END_TEST

START_TEST(test_match)
{
	static char subj[] = "CN=alice,OU=ops,O=Example";
	static char iss[] = "CN=Employees CA";
	static char sans[] = "D:web.svc.example.com\n"
	    "U:spiffe://example.org/ns/prod/sa/web\nE:Alice@Example.com";
	struct peer_cert pc;

	memset(&pc, 0, sizeof(pc));
	pc.verdict = TLS_PEER_OK;
	pc.subject = subj;
	pc.issuer = iss;
	pc.sans = sans;
	snprintf(pc.fingerprint, sizeof(pc.fingerprint), "%064d", 7);

	rule("subject:OU=dev");
	ck_assert(!allow_match(rules, nrules, &pc));
	rule("issuer:CN=Employees CA");
	ck_assert(allow_match(rules, nrules, &pc));
	rules_free();
	rule("issuer:CN=Partners CA");
	rule("san_dns:*.svc.example.com");
	ck_assert(allow_match(rules, nrules, &pc));
	rules_free();
	rule("san_dns:*.other.example.com");
	rule("san_uri:spiffe://example.org/ns/dev/*");
	rule("san_email:*@example.org");
	ck_assert(!allow_match(rules, nrules, &pc));
	rules_free();
	rule("san_uri:spiffe://example.org/ns/prod/*");
	ck_assert(allow_match(rules, nrules, &pc));
	rules_free();
	rule("san_email:*@example.com");
	ck_assert(allow_match(rules, nrules, &pc));
	rules_free();
	/* a DNS pattern never matches a URI SAN, nor the other way round */
	rule("san_dns:spiffe://example.org/ns/prod/sa/web");
	rule("san_uri:web.svc.example.com");
	ck_assert(!allow_match(rules, nrules, &pc));
	rules_free();
	rule("fingerprint:0000000000000000000000000000000000000000000000000000"
	    "000000000007");
	ck_assert(allow_match(rules, nrules, &pc));
	pc.verdict = TLS_PEER_FAILED;
	ck_assert(!allow_match(rules, nrules, &pc));
	ck_assert(!allow_match(rules, nrules, NULL));
	pc.verdict = TLS_PEER_OK;
	pc.sans = NULL;
	ck_assert(allow_match(rules, nrules, &pc));
	rules_free();
	rule("san_dns:*");
	ck_assert(!allow_match(rules, nrules, &pc));
	rules_free();
}
END_TEST

START_TEST(test_urlencode)
{
	const char *pem = "-----BEGIN CERTIFICATE-----\nMIIB+/a=\n";
	char *b = NULL;
	size_t len = 0, cap = 0;

	cert_fwd_urlencode(&b, &len, &cap, pem, strlen(pem));
	ck_assert_str_eq(b, "-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2Fa%3D"
	    "%0A");
	ck_assert_uint_eq(len, strlen(b));
	cert_fwd_urlencode(&b, &len, &cap, "~._\xff", 4);
	ck_assert_str_eq(b, "-----BEGIN%20CERTIFICATE-----%0AMIIB%2B%2Fa%3D"
	    "%0A~._%FF");
	free(b);
	b = NULL;
	len = cap = 0;
	cert_fwd_urlencode(&b, &len, &cap, "", 0);
	ck_assert_str_eq(b, "");
	free(b);
}
END_TEST

static Suite *
route_suite(void)
{
	Suite *s = suite_create("route");
	TCase *tc;

	tc = tcase_create("route");
	tcase_add_test(tc, test_normalise);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_pick);
	suite_add_tcase(s, tc);
	tc = tcase_create("allow");
	tcase_add_test(tc, test_allow_parse);
	tcase_add_test(tc, test_dn);
	tcase_add_test(tc, test_glob);
	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_urlencode);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { route_suite, NULL, NULL };
