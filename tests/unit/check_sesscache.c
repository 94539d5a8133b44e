/* Unit tests for sesscache.c: store, fetch, replace, expiry, oldest-first
 * eviction, limits, and one cache seen by two processes. */
#include "ac_config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sesscache.h"
#include "test_main.h"

#define NOW 1000000

static void
id_of(unsigned n, unsigned char id[32])
{
	unsigned i;

	for (i = 0; i < 32; i++)
		id[i] = (unsigned char)(n * 131 + i * 7);
}

static int
put(struct sesscache *sc, unsigned n, const char *v, time_t expires)
{
	unsigned char id[32];

	id_of(n, id);
	return sesscache_put(sc, id, sizeof(id), v, strlen(v) + 1, expires,
	    NOW);
}

/* The value under n, or "" when none. */
static const char *
get(struct sesscache *sc, unsigned n, time_t now)
{
	static char buf[SESSCACHE_MAX_DATA];
	unsigned char id[32];

	id_of(n, id);
	if (sesscache_get(sc, id, sizeof(id), buf, sizeof(buf), now) == 0)
		return "";
	return buf;
}

START_TEST(store_fetch_replace_delete)
{
	struct sesscache *sc = sesscache_new(8, "t");
	unsigned char id[32];

	ck_assert_ptr_nonnull(sc);
	ck_assert_uint_eq(sesscache_capacity(sc), 8);
	ck_assert_str_eq(get(sc, 1, NOW), "");
	ck_assert_int_eq(put(sc, 1, "one", NOW + 10), 0);
	ck_assert_int_eq(put(sc, 2, "two", NOW + 10), 0);
	ck_assert_str_eq(get(sc, 1, NOW), "one");
	ck_assert_str_eq(get(sc, 2, NOW), "two");
	ck_assert_uint_eq(sesscache_entries(sc), 2);
	/* the same id again replaces, it does not add */
	ck_assert_int_eq(put(sc, 1, "uno", NOW + 10), 0);
	ck_assert_str_eq(get(sc, 1, NOW), "uno");
	ck_assert_uint_eq(sesscache_entries(sc), 2);
	id_of(2, id);
	sesscache_del(sc, id, sizeof(id));
	sesscache_del(sc, id, sizeof(id));
	ck_assert_str_eq(get(sc, 2, NOW), "");
	ck_assert_uint_eq(sesscache_entries(sc), 1);
	/* a shorter id that is a prefix of a stored one is another id */
	ck_assert_uint_eq(sesscache_get(sc, id, 16, id, sizeof(id), NOW), 0);
	sesscache_unref(sc);
}
END_TEST

START_TEST(expiry)
{
	struct sesscache *sc = sesscache_new(8, "t");

	ck_assert_int_eq(put(sc, 1, "one", NOW + 10), 0);
	ck_assert_str_eq(get(sc, 1, NOW + 9), "one");
	ck_assert_str_eq(get(sc, 1, NOW + 10), "");
	/* an expired entry is dropped when met */
	ck_assert_uint_eq(sesscache_entries(sc), 0);
	ck_assert_uint_eq(sesscache_evictions(sc), 0);
	sesscache_unref(sc);
}
END_TEST

START_TEST(oldest_first_eviction)
{
	struct sesscache *sc = sesscache_new(3, "t");
	unsigned n;

	ck_assert_int_eq(put(sc, 1, "a", NOW + 100), 0);
	ck_assert_int_eq(put(sc, 2, "b", NOW), 0);	/* already up */
	ck_assert_int_eq(put(sc, 3, "c", NOW + 100), 0);
	/* fetching 1 does not keep it: the oldest goes first */
	ck_assert_str_eq(get(sc, 1, NOW), "a");
	ck_assert_int_eq(put(sc, 4, "d", NOW + 100), 0);
	ck_assert_str_eq(get(sc, 1, NOW), "");
	ck_assert_uint_eq(sesscache_evictions(sc), 1);
	ck_assert_uint_eq(sesscache_entries(sc), 3);
	/* replacing an entry whose time is up is no eviction */
	ck_assert_int_eq(put(sc, 5, "e", NOW + 100), 0);
	ck_assert_uint_eq(sesscache_evictions(sc), 1);
	ck_assert_str_eq(get(sc, 3, NOW), "c");
	ck_assert_str_eq(get(sc, 4, NOW), "d");
	ck_assert_str_eq(get(sc, 5, NOW), "e");
	/* many rounds keep the count and the chains right */
	for (n = 10; n < 1000; n++)
		ck_assert_int_eq(put(sc, n, "x", NOW + 100), 0);
	ck_assert_uint_eq(sesscache_entries(sc), 3);
	ck_assert_str_eq(get(sc, 999, NOW), "x");
	ck_assert_str_eq(get(sc, 996, NOW), "");
	sesscache_unref(sc);
}
END_TEST

START_TEST(limits)
{
	struct sesscache *sc = sesscache_new(2, "t");
	static char big[SESSCACHE_MAX_DATA + 1];
	unsigned char id[SESSCACHE_MAX_ID + 1] = { 1 };

	ck_assert_int_eq(sesscache_put(sc, id, 0, "x", 1, NOW + 1, NOW), -1);
	ck_assert_int_eq(sesscache_put(sc, id, sizeof(id), "x", 1, NOW + 1,
	    NOW), -1);
	ck_assert_int_eq(sesscache_put(sc, id, 8, big, sizeof(big), NOW + 1,
	    NOW), -1);
	ck_assert_int_eq(sesscache_put(sc, id, 8, big, sizeof(big) - 1,
	    NOW + 1, NOW), 0);
	ck_assert_uint_eq(sesscache_get(sc, id, sizeof(id), big, sizeof(big),
	    NOW), 0);
	ck_assert_uint_eq(sesscache_get(sc, id, 8, big, sizeof(big), NOW),
	    SESSCACHE_MAX_DATA);
	/* a buffer too small for the entry gets nothing, not a part */
	ck_assert_uint_eq(sesscache_get(sc, id, 8, big, 10, NOW), 0);
	/* references: the last one unmaps */
	sesscache_unref(sesscache_ref(sc));
	ck_assert_uint_eq(sesscache_entries(sc), 1);
	sesscache_unref(sc);
	sesscache_unref(NULL);
}
END_TEST

/* What one worker stores, another finds; a child killed at any time
 * leaves a usable cache. */
START_TEST(shared_between_processes)
{
	struct sesscache *sc = sesscache_new(64, "t");
	int status;
	pid_t pid;
	unsigned n;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		for (n = 1; n <= 32; n++)
			if (put(sc, n, "child", NOW + 100) != 0)
				_exit(1);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(sesscache_entries(sc), 32);
	for (n = 1; n <= 32; n++)
		ck_assert_str_eq(get(sc, n, NOW), "child");

	/* a writer killed mid-stream: the survivor still stores and finds */
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		for (n = 0;; n++)
			(void)put(sc, 100 + n % 500, "loop", NOW + 100);
	}
	for (n = 0; n < 2000; n++)
		(void)put(sc, 10000 + n, "parent", NOW + 100);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(put(sc, 7, "after", NOW + 100), 0);
	ck_assert_str_eq(get(sc, 7, NOW), "after");
	ck_assert_uint_le(sesscache_entries(sc), 64);
	sesscache_unref(sc);
}
END_TEST

static Suite *
sesscache_suite(void)
{
	Suite *s = suite_create("sesscache");
	TCase *tc;

#define ADD(name) do {					\
	tc = tcase_create(#name);			\
	tcase_add_test(tc, name);			\
	suite_add_tcase(s, tc);				\
} while (0)
	ADD(store_fetch_replace_delete);
	ADD(expiry);
	ADD(oldest_first_eviction);
	ADD(limits);
	ADD(shared_between_processes);
#undef ADD
	return s;
}

const struct test_unit test_unit = { sesscache_suite, NULL, NULL };
