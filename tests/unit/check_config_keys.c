/*
 * check_config_keys: the listener file list that the key table drives
 * (config_listener_file_next), which -t, the key permission check, reload
 * on change, the expiry warnings and /status all walk, and how the
 * path-typed keys resolve relative names. Fixtures are shared with
 * check_config (tests/unit/data).
 */
#include "ac_config.h"
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "diag.h"
#include "test_main.h"

static struct config *
load_ok(const char *path, struct diag **dp)
{
	struct config *c;

	*dp = diag_new(path);
	c = config_load(path, *dp);
	ck_assert_msg(c != NULL, "%s: %zu errors", path, diag_errors(*dp));
	return c;
}

START_TEST(test_files_all_set)
{
	static const struct {
		enum config_file_kind kind;
		const char *key, *path;
		int line;
	} want[] = {
		{ CONFIG_FILE_CERT, "server_certificate", "cert.pem", 16 },
		{ CONFIG_FILE_KEY, "server_private_key", "key.pem", 17 },
		{ CONFIG_FILE_CA, "ca_certificate", "ca.pem", 19 },
		{ CONFIG_FILE_CRL, "crl", "crl.pem", 20 },
	};
	char cwd[PATH_MAX], path[PATH_MAX + 16];
	struct config_file f;
	struct config *c;
	struct diag *d;
	size_t pos = 0, n = 0;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));

	c = load_ok("good.ini", &d);
	while (config_listener_file_next(&c->listeners[0], &pos, &f)) {
		if (f.kind == CONFIG_FILE_TICKET_KEYS) {
			/* not set in good.ini */
			ck_assert_str_eq(f.key, "session_ticket_keys");
			ck_assert_ptr_null(f.path);
			continue;
		}
		ck_assert_uint_lt(n, sizeof(want) / sizeof(want[0]));
		ck_assert_int_eq(f.kind, want[n].kind);
		ck_assert_str_eq(f.key, want[n].key);
		/* relative to the config's directory, stored absolute */
		snprintf(path, sizeof(path), "%s/%s", cwd, want[n].path);
		ck_assert_str_eq(f.path, path);
		ck_assert_int_eq(f.line, want[n].line);
		n++;
	}
	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	/* the end is sticky */
	ck_assert(!config_listener_file_next(&c->listeners[0], &pos, &f));
	config_free(c);
	diag_free(d);
}
END_TEST

/* Unset keys are listed too, with no path and no line. */
START_TEST(test_files_unset)
{
	struct config_file f;
	struct config *c;
	struct diag *d;
	size_t pos = 0, n = 0;

	c = load_ok("minimal.ini", &d);
	while (config_listener_file_next(&c->listeners[0], &pos, &f)) {
		n++;
		if (f.kind != CONFIG_FILE_CRL &&
		    f.kind != CONFIG_FILE_TICKET_KEYS) {
			ck_assert_ptr_nonnull(f.path);
			ck_assert_int_gt(f.line, 0);
			continue;
		}
		ck_assert_str_eq(f.key, f.kind == CONFIG_FILE_CRL ? "crl" :
		    "session_ticket_keys");
		ck_assert_ptr_null(f.path);
		ck_assert_int_eq(f.line, 0);
	}
	ck_assert_uint_eq(n, 5);
	config_free(c);
	diag_free(d);
}
END_TEST

/* Writes text into the file dir/name. */
static void
put(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg((fp = fopen(path, "w")) != NULL, "%s: %s", path,
	    strerror(errno));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Loads path from the working directory cwd and checks every file key. */
static void
expect_resolved(const char *cwd, const char *path, const char *etc)
{
	char want[PATH_MAX + 32];
	struct config *c;
	struct diag *d;

	ck_assert_int_eq(chdir(cwd), 0);
	c = load_ok(path, &d);
	snprintf(want, sizeof(want), "%s/pki/cert.pem", etc);
	ck_assert_str_eq(c->listeners[0].server_certificate, want);
	snprintf(want, sizeof(want), "%s/pki/key.pem", etc);
	ck_assert_str_eq(c->listeners[0].server_private_key, want);
	ck_assert_str_eq(c->listeners[0].ca_certificate, "/dev/null");
	snprintf(want, sizeof(want), "%s/../crl.pem", etc);
	ck_assert_str_eq(c->listeners[0].crl, want);
	snprintf(want, sizeof(want), "%s/logs/access.log", etc);
	ck_assert_str_eq(c->access_log, want);
	ck_assert_str_eq(c->error_log, "syslog");
	config_free(c);
	diag_free(d);
}

/*
 * Relative file names (every path-typed key, logs too) are relative to
 * the directory of the config file, whatever the working directory.
 */
START_TEST(test_paths_relative)
{
	char tmpl[] = "/tmp/check_config_keys.XXXXXX";
	char top[PATH_MAX], etc[PATH_MAX + 8], sub[PATH_MAX + 16];
	char ini[PATH_MAX + 32], want[PATH_MAX + 64];
	struct config *c;
	struct diag *d;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, top));
	snprintf(etc, sizeof(etc), "%s/etc", top);
	ck_assert_int_eq(mkdir(etc, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/pki", etc);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/logs", etc);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	put(etc, "pki/cert.pem", "");
	put(etc, "pki/key.pem", "");
	put(top, "crl.pem", "");
	put(etc, "lb.ini",
	    "[global]\n"
	    "error_log = syslog\n"
	    "access_log = logs/access.log\n"
	    "[listener https]\n"
	    "bind = 127.0.0.1:8443\n"
	    "server_certificate = pki/cert.pem\n"
	    "server_private_key = ./pki/key.pem\n"
	    "ca_certificate = /dev/null\n"
	    "crl = ../crl.pem\n"
	    "server_group = g\n"
	    "[server_group g]\n"
	    "server = a 127.0.0.1:8081\n");

	expect_resolved(top, "etc/lb.ini", etc);
	expect_resolved(etc, "lb.ini", etc);
	expect_resolved(etc, "./lb.ini", etc);
	snprintf(ini, sizeof(ini), "%s/lb.ini", etc);
	expect_resolved("/", ini, etc);
	/* the directory of a relative name is resolved at once */
	expect_resolved(sub, "../lb.ini", etc);
	expect_resolved(top, "etc/logs/../lb.ini", etc);
	/* an absolute name is taken as it is written */
	snprintf(ini, sizeof(ini), "%s/../lb.ini", sub);
	c = load_ok(ini, &d);
	snprintf(want, sizeof(want), "%s/../pki/cert.pem", sub);
	ck_assert_str_eq(c->listeners[0].server_certificate, want);
	config_free(c);
	diag_free(d);

	snprintf(ini, sizeof(ini), "rm -rf '%s'", top);
	ck_assert_int_eq(system(ini), 0);
}
END_TEST

static Suite *
config_keys_suite(void)
{
	Suite *s = suite_create("config_keys");
	TCase *tc;

	tc = tcase_create("listener_files");
	tcase_add_test(tc, test_files_all_set);
	tcase_add_test(tc, test_files_unset);
	suite_add_tcase(s, tc);
	tc = tcase_create("paths");
	tcase_add_test(tc, test_paths_relative);
	suite_add_tcase(s, tc);
	return s;
}

/* The fixtures are in tests/unit/data. */
static int
config_keys_setup(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tests/unit/data", test_srcdir());
	if (chdir(path) < 0) {
		fprintf(stderr, "check_config_keys: %s: %s\n", path,
		    strerror(errno));
		return 99;
	}
	return 0;
}

const struct test_unit test_unit = { config_keys_suite, config_keys_setup,
    NULL };
