/*
 * check_config: loads each fixture tests/unit/data/NAME.ini and compares
 * every diagnostic with NAME.err, then checks the values of a full and of
 * a minimal file, the key table, and conf/mtlslb.ini. The tests run inside
 * the data directory, so fixtures name their (placeholder) certificate
 * files and themselves by relative paths and the .err files are stable.
 */
#include "ac_config.h"
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "diag.h"
#include "test_main.h"

static char conf_example[PATH_MAX];	/* absolute conf/mtlslb.ini */
static char data_dir[PATH_MAX];		/* absolute tests/unit/data */

/*
 * Relative file names are stored relative to the config's directory,
 * here data_dir: returns data_dir/file, in one of 4 static buffers.
 */
static const char *
in_data(const char *file)
{
	static char buf[4][PATH_MAX + 64];
	static unsigned i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", data_dir, file);
	return buf[i];
}

/*
 * Writes s into a new string with every data_dir replaced by "@DATA@",
 * so that .err files do not depend on where the tree is.
 */
static char *
data_placeholder(const char *s)
{
	size_t dlen = strlen(data_dir), n = 0;
	const char *p;
	char *out;

	ck_assert_uint_ge(dlen, 6);
	out = malloc(strlen(s) + 1);
	ck_assert_ptr_nonnull(out);
	for (p = s; *p != '\0';) {
		if (strncmp(p, data_dir, dlen) == 0) {
			/* "@DATA@" is never longer than an absolute path */
			memcpy(out + n, "@DATA@", 6);
			n += 6;
			p += dlen;
		} else
			out[n++] = *p++;
	}
	out[n] = '\0';
	return out;
}

/* Returns the contents of path (caller frees), or NULL. */
static char *
slurp(const char *path)
{
	FILE *fp;
	char *s;
	long n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	return s;
}

/*
 * Points *a and *b at the first line where they differ, cut at its
 * newline, and returns its number (from 1).
 */
static int
first_diff(char *a, char *b, char **ap, char **bp)
{
	char *p, *q;
	int line = 1;

	for (p = a, q = b; *p != '\0' && *p == *q; p++, q++) {
		if (*p == '\n') {
			a = p + 1;
			b = q + 1;
			line++;
		}
	}
	a[strcspn(a, "\n")] = '\0';
	b[strcspn(b, "\n")] = '\0';
	*ap = a;
	*bp = b;
	return line;
}

/* Loads path and returns everything diag_print() wrote (caller frees). */
static char *
load(const char *path, struct config **cp, struct diag **dp)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem;

	*dp = diag_new(path);
	*cp = config_load(path, *dp);
	ck_assert_ptr_nonnull(mem = open_memstream(&out, &len));
	diag_print(*dp, mem);
	fclose(mem);
	return out;
}

static void
fixture(const char *name)
{
	char ini[128], errfile[128];
	char *want, *got, *wline, *gline, *p;
	int line;
	struct config *c;
	struct diag *d;

	snprintf(ini, sizeof(ini), "%s.ini", name);
	snprintf(errfile, sizeof(errfile), "%s.err", name);
	want = slurp(errfile);
	ck_assert_msg(want != NULL, "cannot read %s: %s", errfile,
	    strerror(errno));
	got = load(ini, &c, &d);
	p = data_placeholder(got);
	free(got);
	got = p;
	if (strcmp(got, want) != 0) {
		/* check limits its messages: the whole story goes to stderr */
		fprintf(stderr, "%s: diagnostics differ\n--- expected\n%s"
		    "--- got\n%s---\n", ini, want, got);
		line = first_diff(want, got, &wline, &gline);
		ck_abort_msg("%s: diagnostics differ from %s at line %d:\n"
		    "expected: %.300s\ngot:      %.300s", ini, errfile, line,
		    wline, gline);
	}
	/* NULL exactly when an error (not just a warning) was recorded */
	ck_assert_msg((c == NULL) == (diag_errors(d) > 0),
	    "%s: config %s with %zu errors", ini, c ? "returned" : "NULL",
	    diag_errors(d));
	config_free(c);
	diag_free(d);
	free(got);
	free(want);
}

START_TEST(test_syntax)
{
	fixture("syntax");
}
END_TEST

START_TEST(test_bom_crlf)
{
	fixture("bom-crlf");
}
END_TEST

START_TEST(test_sections)
{
	fixture("sections");
}
END_TEST

START_TEST(test_keys)
{
	fixture("keys");
}
END_TEST

START_TEST(test_values_global)
{
	fixture("values-global");
	fixture("values-global2");
}
END_TEST

START_TEST(test_values_listener)
{
	fixture("values-listener");
}
END_TEST

START_TEST(test_values_group)
{
	fixture("values-group");
}
END_TEST

START_TEST(test_check)
{
	fixture("check");
}
END_TEST

START_TEST(test_log_files)
{
	fixture("logs");
}
END_TEST

/* [admin]: TLS keys that need each other, allow, loopback or insecure. */
START_TEST(test_admin)
{
	fixture("admin");
	fixture("admin2");
	fixture("admin3");
}
END_TEST

START_TEST(test_no_group)
{
	fixture("nogroup");
}
END_TEST

START_TEST(test_no_listener)
{
	fixture("nolistener");
	fixture("empty");
}
END_TEST

START_TEST(test_warnings_only)
{
	fixture("warnings");
}
END_TEST

/* protocol = http listeners: TLS keys are errors, redirect keys only there */
START_TEST(test_protocol)
{
	fixture("protocol");
	fixture("proxy-protocol");
	fixture("routes");
	fixture("backend-tls");
}
END_TEST

START_TEST(test_unreadable_file)
{
	struct config *c;
	struct diag *d;
	char *got;

	got = load("no-such-file.ini", &c, &d);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(got, "mtlslb: no-such-file.ini: cannot open: No "
	    "such file or directory\n");
	free(got);
	diag_free(d);

	got = load(".", &c, &d);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(got, "mtlslb: .: cannot read: Is a directory\n");
	free(got);
	diag_free(d);
}
END_TEST

/*
 * config_read (for "mtlslb -s") reads the values but skips the checks over
 * the whole file: a missing group is no error there, a bad value is.
 */
START_TEST(test_read_only)
{
	struct config *c;
	struct diag *d;

	d = diag_new("nogroup.ini");
	c = config_read("nogroup.ini", d);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(diag_errors(d), 0);
	ck_assert_uint_eq(c->nlisteners, 1);
	config_free(c);
	diag_free(d);

	d = diag_new("good.ini");
	c = config_read("good.ini", d);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->pid_file, "/run/mtlslb/test.pid");
	config_free(c);
	diag_free(d);

	d = diag_new("values-global2.ini");
	ck_assert_ptr_null(config_read("values-global2.ini", d));
	ck_assert_uint_eq(diag_errors(d), 3);
	diag_free(d);
}
END_TEST

static unsigned
port_of(const struct addr_conf *a)
{
	if (a->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)(const void *)
		    &a->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)(const void *)
	    &a->ss)->sin6_port);
}

START_TEST(test_good)
{
	const struct listener_conf *l;
	const struct group_conf *g;
	struct config *c;
	struct diag *d;
	char *got;

	got = load("good.ini", &c, &d);
	ck_assert_str_eq(got, "");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->path, "good.ini");

	ck_assert_uint_eq(c->workers, 4);
	ck_assert_int_eq(c->log_level, LOGLEVEL_DEBUG);
	ck_assert_str_eq(c->error_log, "/tmp/mtlslb-check-config-error.log");
	ck_assert_str_eq(c->access_log, "stderr");
	ck_assert(c->access_log_json);
	ck_assert_str_eq(c->user, "nobody");
	ck_assert_str_eq(c->pid_file, "/run/mtlslb/test.pid");
	ck_assert_uint_eq(c->shutdown_timeout_ms, 60000);
	ck_assert(c->reload_on_change);
	ck_assert_uint_eq(c->expiry_warning_s, 30 * 86400);

	ck_assert_uint_eq(c->nlisteners, 2);
	l = &c->listeners[0];
	ck_assert_str_eq(l->name, "https");
	ck_assert_int_eq(l->line, 13);
	ck_assert_uint_eq(l->nbinds, 2);
	ck_assert_str_eq(l->binds[0].text, "127.0.0.1:8443");
	ck_assert_int_eq(l->binds[0].ss.ss_family, AF_INET);
	ck_assert_uint_eq(port_of(&l->binds[0]), 8443);
	ck_assert_int_eq(l->binds[0].line, 14);
	ck_assert_str_eq(l->binds[1].text, "[::1]:8443");
	ck_assert_int_eq(l->binds[1].ss.ss_family, AF_INET6);
	ck_assert_uint_eq(l->binds[1].len, sizeof(struct sockaddr_in6));
	ck_assert_str_eq(l->server_certificate, in_data("cert.pem"));
	ck_assert_int_eq(l->server_certificate_line, 16);
	ck_assert_str_eq(l->server_private_key, in_data("key.pem"));
	ck_assert_int_eq(l->server_private_key_line, 17);
	ck_assert_int_eq(l->mutual_authentication, MTLS_OPTIONAL);
	ck_assert_int_eq(l->mutual_authentication_line, 18);
	ck_assert_str_eq(l->ca_certificate, in_data("ca.pem"));
	ck_assert_int_eq(l->ca_certificate_line, 19);
	ck_assert_str_eq(l->crl, in_data("crl.pem"));
	ck_assert_int_eq(l->crl_line, 20);
	ck_assert_uint_eq(l->verify_depth, 5);
	ck_assert_int_eq(l->verify_depth_line, 21);
	ck_assert_int_eq(l->tls_min_version, 0x0304);
	ck_assert_str_eq(l->server_group, "backends");
	ck_assert_int_eq(l->server_group_line, 23);
	ck_assert_ptr_eq(l->group, &c->groups[0]);
	ck_assert_uint_eq(l->forward_client_cert, 0);
	ck_assert(!l->x_forwarded_for_replace);
	ck_assert(c->listeners[1].x_forwarded_for_replace);
	ck_assert(l->reject_tls_alert);
	ck_assert(l->crl_check_chain);
	ck_assert_int_eq(l->crl_check_line, 26);
	ck_assert_uint_eq(l->max_connections, 5000);
	ck_assert_uint_eq(l->handshake_timeout_ms, 5000);
	ck_assert_uint_eq(l->client_header_timeout_ms, 7000);
	ck_assert_uint_eq(l->client_body_timeout_ms, 120000);
	ck_assert_uint_eq(l->keepalive_timeout_ms, 0);
	ck_assert_uint_eq(l->keepalive_requests, 50);
	ck_assert_uint_eq(l->max_request_line, 4096);
	ck_assert_uint_eq(l->max_request_header_size, 32768);
	ck_assert(l->max_request_body_size == 10u << 20);
	ck_assert_uint_eq(l->session_cache_size, 0);
	ck_assert_uint_eq(l->session_timeout_ms, 3600000);

	l = &c->listeners[1];
	ck_assert_str_eq(l->name, "plain-mtls");
	ck_assert_uint_eq(l->nbinds, 1);
	ck_assert_str_eq(l->binds[0].text, "*:9443");
	ck_assert_int_eq(l->mutual_authentication, MTLS_OFF);
	ck_assert_ptr_null(l->ca_certificate);
	ck_assert_ptr_eq(l->group, &c->groups[1]);

	ck_assert_uint_eq(c->ngroups, 2);
	g = &c->groups[0];
	ck_assert_str_eq(g->name, "backends");
	ck_assert_int_eq(g->scheduler, SCHED_WEIGHTED_ROUND_ROBIN);
	ck_assert_uint_eq(g->nservers, 3);
	ck_assert_str_eq(g->servers[0].name, "ECS01");
	ck_assert_str_eq(g->servers[0].addr.text, "127.0.0.1:8081");
	ck_assert_uint_eq(port_of(&g->servers[0].addr), 8081);
	ck_assert_uint_eq(g->servers[0].weight, 3);
	ck_assert_int_eq(g->servers[0].line, 49);
	ck_assert_str_eq(g->servers[1].name, "ECS02");
	ck_assert_uint_eq(g->servers[1].weight, 1);
	ck_assert_str_eq(g->servers[2].addr.text, "[::1]:8083");
	ck_assert_uint_eq(g->servers[2].weight, 0);
	ck_assert_uint_eq(g->backend_timeout_ms, 30000);
	ck_assert_uint_eq(g->connect_timeout_ms, 1500);
	ck_assert_uint_eq(g->max_idle_connections, 0);
	ck_assert_uint_eq(g->idle_connection_timeout_ms, 10000);
	ck_assert(!g->health_check);
	ck_assert_str_eq(g->health_check_path, "/healthz?full=1");
	ck_assert_str_eq(g->health_check_host, "backend.example");
	ck_assert_uint_eq(g->health_check_port, 9000);
	ck_assert_uint_eq(g->health_check_interval_ms, 10000);
	ck_assert_uint_eq(g->health_check_timeout_ms, 3000);
	ck_assert_uint_eq(g->healthy_threshold, 1);
	ck_assert_uint_eq(g->unhealthy_threshold, 10);
	ck_assert_uint_eq(g->health_check_http_code,
	    HC_CODE_2XX | HC_CODE_4XX | HC_CODE_5XX);
	ck_assert(g->health_check_head);
	ck_assert(g->all_servers_down_try_all);
	ck_assert(!g->health_check_initial_healthy);

	g = &c->groups[1];
	ck_assert_str_eq(g->name, "spare");
	ck_assert_int_eq(g->scheduler, SCHED_LEAST_CONNECTIONS);
	ck_assert_str_eq(g->servers[0].addr.text, "localhost:8090");

	ck_assert_uint_eq(c->nadmin_binds, 1);
	ck_assert_str_eq(c->admin_binds[0].text, "localhost:9100");
	ck_assert_uint_eq(port_of(&c->admin_binds[0]), 9100);

	config_free(c);
	diag_free(d);
	free(got);
}
END_TEST

START_TEST(test_defaults)
{
	const struct listener_conf *l;
	const struct group_conf *g;
	struct config *c;
	struct diag *d;
	char *got;

	got = load("minimal.ini", &c, &d);
	ck_assert_str_eq(got, "");
	ck_assert_ptr_nonnull(c);

	ck_assert_uint_eq(c->workers, 0);
	ck_assert_int_eq(c->log_level, LOGLEVEL_INFO);
	ck_assert_str_eq(c->error_log, "stderr");
	ck_assert_str_eq(c->access_log, "stderr");
	ck_assert(!c->access_log_json);
	ck_assert_ptr_null(c->user);
	ck_assert_ptr_null(c->pid_file);
	ck_assert_uint_eq(c->shutdown_timeout_ms, 30000);
	ck_assert(!c->reload_on_change);
	ck_assert_uint_eq(c->expiry_warning_s, 7 * 86400);
	ck_assert_uint_eq(c->drain_delay_ms, 0);
	ck_assert_uint_eq(c->nadmin_binds, 0);
	ck_assert_ptr_null(c->admin_binds);

	l = &c->listeners[0];
	ck_assert_int_eq(l->mutual_authentication, MTLS_ON);
	ck_assert_int_eq(l->mutual_authentication_line, 0);
	ck_assert_ptr_null(l->crl);
	ck_assert_int_eq(l->crl_line, 0);
	ck_assert_uint_eq(l->verify_depth, 3);
	ck_assert_int_eq(l->verify_depth_line, 0);
	ck_assert_int_eq(l->tls_min_version, 0x0303);
	ck_assert_uint_eq(l->forward_client_cert, FCC_ALIBABA);
	ck_assert_uint_eq(l->max_client_cert_header_size, 4096);
	ck_assert(!l->x_forwarded_for_replace);
	ck_assert(!l->reject_tls_alert);
	ck_assert(!l->crl_check_chain);
	ck_assert_uint_eq(l->max_connections, 0);
	ck_assert_uint_eq(l->handshake_timeout_ms, 10000);
	ck_assert_uint_eq(l->client_header_timeout_ms, 10000);
	ck_assert_uint_eq(l->client_body_timeout_ms, 60000);
	ck_assert_uint_eq(l->keepalive_timeout_ms, 75000);
	ck_assert_uint_eq(l->keepalive_requests, 1000);
	ck_assert_uint_eq(l->max_request_line, 8192);
	ck_assert_uint_eq(l->max_request_header_size, 65536);
	ck_assert(l->max_request_body_size == 0);
	ck_assert_uint_eq(l->session_cache_size, 1024);
	ck_assert_uint_eq(l->session_timeout_ms, 300000);

	g = &c->groups[0];
	ck_assert_ptr_eq(l->group, g);
	ck_assert_int_eq(g->scheduler, SCHED_ROUND_ROBIN);
	ck_assert_uint_eq(g->servers[0].weight, 1);
	ck_assert_uint_eq(g->backend_timeout_ms, 60000);
	ck_assert_uint_eq(g->connect_timeout_ms, 5000);
	ck_assert_uint_eq(g->max_idle_connections, 32);
	ck_assert_uint_eq(g->idle_connection_timeout_ms, 30000);
	ck_assert(g->health_check);
	ck_assert_str_eq(g->health_check_path, "/");
	ck_assert_ptr_null(g->health_check_host);
	ck_assert_uint_eq(g->health_check_port, 0);
	ck_assert_uint_eq(g->health_check_interval_ms, 2000);
	ck_assert_uint_eq(g->health_check_timeout_ms, 1000);
	ck_assert_uint_eq(g->healthy_threshold, 2);
	ck_assert_uint_eq(g->unhealthy_threshold, 2);
	ck_assert_uint_eq(g->health_check_http_code,
	    HC_CODE_2XX | HC_CODE_3XX);
	ck_assert(!g->health_check_head);
	ck_assert(!g->all_servers_down_try_all);
	ck_assert(g->health_check_initial_healthy);

	config_free(c);
	diag_free(d);
	free(got);
}
END_TEST

struct keylist {
	char text[4096];		/* "section.key\n" ... */
	size_t n[5];		/* global, listener, server_group, route,
				   admin */
};

static void
collect_cb(const char *section, const char *key, void *arg)
{
	static const char *const order[] = {
		"global", "listener", "server_group", "route", "admin",
	};
	struct keylist *kl = arg;
	char entry[128];
	size_t i;

	for (i = 0; i < 5 && strcmp(order[i], section) != 0; i++)
		continue;
	ck_assert_msg(i < 5, "unknown section kind '%s'", section);
	kl->n[i]++;
	snprintf(entry, sizeof(entry), "\n%s.%s\n", section, key);
	ck_assert_msg(strstr(kl->text, entry) == NULL, "%s.%s twice",
	    section, key);
	/* entries are stored as "\nsec.key" so a search needs no prefix */
	strncat(kl->text, entry, sizeof(kl->text) - strlen(kl->text) - 1);
	kl->text[strlen(kl->text) - 1] = '\0';
}

START_TEST(test_foreach_key)
{
	struct keylist kl;

	memset(&kl, 0, sizeof(kl));
	config_foreach_key(collect_cb, &kl);
	ck_assert_uint_eq(kl.n[0], 11);
	ck_assert_uint_eq(kl.n[1], 42);
	ck_assert_uint_eq(kl.n[2], 26);
	ck_assert_uint_eq(kl.n[3], 6);
	ck_assert_uint_eq(kl.n[4], 6);
	ck_assert(strstr(kl.text, "\nlistener.verify_depth") != NULL);
	ck_assert(strstr(kl.text, "\nlistener.server_name") != NULL);
	ck_assert(strstr(kl.text, "\nserver_group.health_check_initial") !=
	    NULL);
	ck_assert(strstr(kl.text, "\nadmin.bind") != NULL);
	ck_assert(strstr(kl.text, "\nglobal.expiry_warning") != NULL);
	ck_assert(strstr(kl.text, "\nglobal.drain_delay") != NULL);
	ck_assert(strstr(kl.text, "\nglobal.pid_file") != NULL);
}
END_TEST

struct doc {
	const char *text;
	char missing[1024];
};

/* Each key appears in the example as "key = " or ";key = " at a line start. */
static void
documented_cb(const char *section, const char *key, void *arg)
{
	struct doc *doc = arg;
	char a[128], b[128];

	snprintf(a, sizeof(a), "\n%s = ", key);
	snprintf(b, sizeof(b), "\n;%s = ", key);
	if (strstr(doc->text, a) == NULL && strstr(doc->text, b) == NULL)
		snprintf(doc->missing + strlen(doc->missing),
		    sizeof(doc->missing) - strlen(doc->missing), " %s.%s",
		    section, key);
}

START_TEST(test_example_documents_every_key)
{
	struct doc doc;
	char *text;

	ck_assert_msg((text = slurp(conf_example)) != NULL, "cannot read %s",
	    conf_example);
	doc.text = text;
	doc.missing[0] = '\0';
	config_foreach_key(documented_cb, &doc);
	ck_assert_msg(doc.missing[0] == '\0', "not in %s:%s", conf_example,
	    doc.missing);
	free(text);
}
END_TEST

/*
 * Loads the example, then a copy with every commented-out key and section
 * (";key", ";[admin]") enabled. Both may only fail for want of the files
 * in /etc/mtlslb and of the mtlslb user, which a test machine does not
 * have.
 */
static void
assert_only_missing_files(const char *path)
{
	struct config *c;
	struct diag *d;
	char *got, *line, *save;

	got = load(path, &c, &d);
	ck_assert_uint_eq(diag_warnings(d), 0);
	for (line = strtok_r(got, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		ck_assert_msg(strstr(line, ": cannot read '/etc/mtlslb/") !=
		    NULL || strstr(line, ": user: no such user 'mtlslb'") !=
		    NULL, "unexpected: %s", line);
	config_free(c);
	diag_free(d);
	free(got);
}

START_TEST(test_example_loads)
{
	char tmp[] = "/tmp/check_config.XXXXXX";
	char *text, *p;
	FILE *fp;
	int fd;

	assert_only_missing_files(conf_example);

	ck_assert_ptr_nonnull(text = slurp(conf_example));
	ck_assert_int_ge(fd = mkstemp(tmp), 0);
	ck_assert_ptr_nonnull(fp = fdopen(fd, "w"));
	for (p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
		if (p[0] == ';' && (islower((unsigned char)p[1]) ||
		    p[1] == '['))
			p++;
		fwrite(p, 1, (size_t)(strchr(p, '\n') - p + 1), fp);
	}
	fclose(fp);
	assert_only_missing_files(tmp);
	unlink(tmp);
	free(text);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("syntax");
	tcase_add_test(tc, test_syntax);
	tcase_add_test(tc, test_bom_crlf);
	suite_add_tcase(s, tc);
	tc = tcase_create("sections");
	tcase_add_test(tc, test_sections);
	suite_add_tcase(s, tc);
	tc = tcase_create("keys");
	tcase_add_test(tc, test_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("values");
	tcase_add_test(tc, test_values_global);
	tcase_add_test(tc, test_values_listener);
	tcase_add_test(tc, test_values_group);
	suite_add_tcase(s, tc);
	tc = tcase_create("checks");
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_log_files);
	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_no_group);
	tcase_add_test(tc, test_no_listener);
	tcase_add_test(tc, test_warnings_only);
	tcase_add_test(tc, test_protocol);
	tcase_add_test(tc, test_read_only);
	suite_add_tcase(s, tc);
	tc = tcase_create("io");
	tcase_add_test(tc, test_unreadable_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("good");
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_defaults);
	suite_add_tcase(s, tc);
	tc = tcase_create("key_table");
	tcase_add_test(tc, test_foreach_key);
	tcase_add_test(tc, test_example_documents_every_key);
	tcase_add_test(tc, test_example_loads);
	suite_add_tcase(s, tc);
	return s;
}

/* Finds conf/mtlslb.ini and runs the tests in tests/unit/data. */
static int
config_setup(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/conf/mtlslb.ini", test_srcdir());
	if (realpath(path, conf_example) == NULL) {
		fprintf(stderr, "check_config: %s: %s\n", path,
		    strerror(errno));
		return 99;
	}
	snprintf(path, sizeof(path), "%s/tests/unit/data", test_srcdir());
	if (chdir(path) < 0 || getcwd(data_dir, sizeof(data_dir)) == NULL) {
		fprintf(stderr, "check_config: %s: %s\n", path,
		    strerror(errno));
		return 99;
	}
	return 0;
}

const struct test_unit test_unit = { config_suite, config_setup, NULL };
