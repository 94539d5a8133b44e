/*
 * check_admin_page: the console page rendered from a status snapshot of
 * a hand-made generation (one listener, the test group): every string
 * escaped, a row per server with its state, the forms only for a viewer
 * who may POST and the reason instead for one who may not, the drained
 * server's enable button, the counters of the snapshot. The integration
 * tests (63-admin-page, 76-console-browser) parse the real page.
 */
#include "ac_config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "admin_page.h"
#include "balancer.h"
#include "config.h"
#include "listener.h"
#include "runtime.h"
#include "status.h"
#include "test_group.h"
#include "test_main.h"

static struct {
	struct test_group tg;
	struct listener_conf lc;
	struct addr_conf bind;
	struct lsn lsn;
	struct listener_shared slot;
	struct runtime rt;
	char *page;
} F;

static void
setup(void)
{
	static char lname[] = "l<i>&\"1\"";
	static char btext[] = "127.0.0.1:443";
	static char cert[] = "/etc/a&b/<cert>.pem";
	static char path[] = "/etc/mtlslb/lb.ini";

	memset(&F, 0, sizeof(F));
	test_group_init(&F.tg, SCHED_ROUND_ROBIN, NULL, 2);
	F.bind.text = btext;
	F.lc.name = lname;
	F.lc.binds = &F.bind;
	F.lc.nbinds = 1;
	F.lc.server_certificate = cert;
	F.lc.mutual_authentication = MTLS_ON;
	F.lsn.conf = &F.lc;
	F.lsn.slots = &F.slot;
	F.tg.cfg.path = path;
	F.tg.cfg.expiry_warning_s = 7 * 86400;
	F.rt.cfg = &F.tg.cfg;
	F.rt.bal = F.tg.b;
	F.rt.lsns = &F.lsn;
	F.rt.nlsns = 1;
	F.rt.nworkers = 1;
	F.rt.loaded_at = (long)time(NULL);
}

static void
teardown(void)
{
	free(F.page);
	test_group_free(&F.tg);
}

/* Renders the page for a viewer (refusal NULL: may POST) into F.page. */
static void
render(const char *refusal, const char *subject)
{
	struct status_reloads r;
	struct admin_page_viewer v = { "127.0.0.1:4000", subject, refusal };
	struct evbuffer *out = evbuffer_new();
	struct status *st;
	size_t n;

	memset(&r, 0, sizeof(r));
	r.count = 2;
	r.failed_at = (long)time(NULL);
	snprintf(r.error, sizeof(r.error), "lb.ini:3: bind: '<x>' & more");
	ck_assert_ptr_nonnull(out);
	st = status_build(&F.rt, (long)time(NULL) - 10, &r);
	admin_page_render(out, st, &v);
	status_free(st);
	n = evbuffer_get_length(out);
	free(F.page);
	F.page = calloc(1, n + 1);
	ck_assert_ptr_nonnull(F.page);
	evbuffer_remove(out, F.page, n);
	evbuffer_free(out);
}

static bool
has(const char *s)
{
	return strstr(F.page, s) != NULL;
}

/* The row of server NAME of group g, up to its end (in F.page). */
static char *
row(const char *name)
{
	char id[64], *p, *end;

	snprintf(id, sizeof(id), "<tr id=\"server-g-%s\">", name);
	p = strstr(F.page, id);
	ck_assert_msg(p != NULL, "no row %s", id);
	end = strstr(p, "</tr>");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	return p;
}

START_TEST(escapes_every_string)
{
	render(NULL, "CN=<me>");
	ck_assert(has("<!DOCTYPE html>"));
	ck_assert(has("<meta http-equiv=\"refresh\" content=\"5\">"));
	ck_assert(has("l&lt;i&gt;&amp;&quot;1&quot;"));
	ck_assert(!has("l<i>"));
	ck_assert(has("/etc/a&amp;b/&lt;cert&gt;.pem"));
	ck_assert(has("CN=&lt;me&gt;"));
	ck_assert(has("lb.ini:3: bind: &#39;&lt;x&gt;&#39; &amp; more"));
	ck_assert(has("/etc/mtlslb/lb.ini"));
	ck_assert(!has("<script"));
	ck_assert(!has("http://") && !has("https://"));
}
END_TEST

START_TEST(rows_states_and_forms)
{
	struct server *b = group_server(F.tg.g, 1);
	char *r;

	atomic_store(&group_server(F.tg.g, 0)->sh->requests, 42);
	atomic_store(&group_server(F.tg.g, 0)->sh->responses_5xx, 3);
	atomic_store(&b->sh->up, 0);
	render(NULL, NULL);
	ck_assert(has("<tr id=\"listener-"));
	r = row("A");
	ck_assert(strstr(r, "<span class=\"st up\">UP</span>") != NULL);
	ck_assert(strstr(r, "<td class=\"n\">42</td><td class=\"n\">3</td>")
	    != NULL);
	ck_assert(strstr(r, "<form method=\"post\" "
	    "action=\"/servers/g/A/drain\">") != NULL);
	ck_assert(strstr(r, "/servers/g/A/disable") != NULL);
	ck_assert(strstr(r, "/servers/g/A/enable") == NULL);
	render(NULL, NULL);
	r = row("B");
	ck_assert(strstr(r, "<span class=\"st down\">DOWN</span>") != NULL);

	balancer_set_admin(b, BAL_DRAINING);
	render(NULL, NULL);
	r = row("B");
	ck_assert(strstr(r, "DRAINING</span> <span class=\"note\">health "
	    "DOWN</span>") != NULL);
	ck_assert(strstr(r, "/servers/g/B/enable") != NULL);
	ck_assert(strstr(r, "/servers/g/B/drain") == NULL);
	ck_assert(strstr(r, "/servers/g/B/disable") != NULL);
}
END_TEST

START_TEST(refused_viewer_sees_why)
{
	render("changes need a client certificate (set ca_certificate in "
	    "[admin]) or a loopback peer", NULL);
	ck_assert(has("Server controls are not shown: changes need a client "
	    "certificate (set ca_certificate in [admin]) or a loopback "
	    "peer."));
	ck_assert(!has("<form"));
	ck_assert(!has("<th>actions</th>"));
}
END_TEST

static Suite *
admin_page_suite(void)
{
	Suite *s = suite_create("admin_page");
	TCase *tc = tcase_create("render");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, escapes_every_string);
	tcase_add_test(tc, rows_states_and_forms);
	tcase_add_test(tc, refused_viewer_sees_why);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { admin_page_suite, NULL, NULL };
