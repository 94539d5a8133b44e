/*
 * check_config_keys: the listener file list that the key table drives
 * (config_listener_file_next), which -t, the key permission check, reload
 * on change, the expiry warnings and /status all walk. Fixtures are shared
 * with check_config (tests/unit/data).
 */
#include "ac_config.h"
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	struct config_file f;
	struct config *c;
	struct diag *d;
	size_t pos = 0, n = 0;

	c = load_ok("good.ini", &d);
	while (config_listener_file_next(&c->listeners[0], &pos, &f)) {
		ck_assert_uint_lt(n, sizeof(want) / sizeof(want[0]));
		ck_assert_int_eq(f.kind, want[n].kind);
		ck_assert_str_eq(f.key, want[n].key);
		ck_assert_str_eq(f.path, want[n].path);
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
		if (f.kind != CONFIG_FILE_CRL) {
			ck_assert_ptr_nonnull(f.path);
			ck_assert_int_gt(f.line, 0);
			continue;
		}
		ck_assert_str_eq(f.key, "crl");
		ck_assert_ptr_null(f.path);
		ck_assert_int_eq(f.line, 0);
	}
	ck_assert_uint_eq(n, 4);
	config_free(c);
	diag_free(d);
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
