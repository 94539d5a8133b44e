/* Unit tests for balancer.c: each scheduler's sequence, health skipping,
 * drained servers, drain/disable, the tried set and all_servers_down. */
#include "ac_config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "balancer.h"
#include "config.h"
#include "shm.h"
#include "test_group.h"
#include "test_main.h"

/* The names of n picks, e.g. "ABAB". */
static void
seq(struct test_group *f, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct server *s = balancer_pick(f->g, 0);

		out[i] = s ? s->conf->name[0] : '-';
	}
	out[n] = '\0';
}

static void
set_up(struct test_group *f, size_t i, int up)
{
	atomic_store(&group_server(f->g, i)->sh->up, up);
}

START_TEST(round_robin_alternates)
{
	struct test_group f;
	unsigned w[] = { 1, 5 };
	char s[16];

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 2);
	seq(&f, 10, s);
	ck_assert_str_eq(s, "ABABABABAB");
	test_group_free(&f);
}
END_TEST

START_TEST(round_robin_skips_down)
{
	struct test_group f;
	unsigned w[] = { 1, 1, 1 };
	char s[16];

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 3);
	set_up(&f, 1, 0);
	seq(&f, 6, s);
	ck_assert_str_eq(s, "ACACAC");
	ck_assert_ptr_null(strchr(s, 'B'));
	set_up(&f, 1, 1);
	test_group_free(&f);
}
END_TEST

START_TEST(weighted_smooth)
{
	struct test_group f;
	unsigned w[] = { 1, 3 };
	char s[16];

	test_group_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 2);
	seq(&f, 8, s);
	ck_assert_str_eq(s, "BABBBABB");
	test_group_free(&f);
}
END_TEST

START_TEST(weighted_five_one_one)
{
	struct test_group f;
	unsigned w[] = { 5, 1, 1 };
	char s[16];

	test_group_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 3);
	seq(&f, 7, s);
	/* Smooth: the heavy server never runs more than 3 in a row. */
	ck_assert_str_eq(s, "AABACAA");
	test_group_free(&f);
}
END_TEST

START_TEST(weight_zero_drains)
{
	struct test_group f;
	unsigned w[] = { 1, 0, 1 };
	char s[16];

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 3);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ACAC");
	test_group_free(&f);
	test_group_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 3);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ACAC");
	test_group_free(&f);
}
END_TEST

START_TEST(tried_set_excluded)
{
	struct test_group f;
	unsigned w[] = { 1, 1 };
	struct server *s;

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 2);
	s = balancer_pick(f.g, UINT64_C(1) << 0);
	ck_assert_str_eq(s->conf->name, "B");
	s = balancer_pick(f.g, UINT64_C(1) << 0);
	ck_assert_str_eq(s->conf->name, "B");
	ck_assert_ptr_null(balancer_pick(f.g, 3));
	test_group_free(&f);
}
END_TEST

START_TEST(least_connections)
{
	struct test_group f;
	unsigned w[] = { 1, 1, 1 };
	struct server *s;

	test_group_init(&f, SCHED_LEAST_CONNECTIONS, w, 3);
	atomic_store(&group_server(f.g, 0)->sh->active, 5);
	atomic_store(&group_server(f.g, 1)->sh->active, 1);
	atomic_store(&group_server(f.g, 2)->sh->active, 3);
	s = balancer_pick(f.g, 0);
	ck_assert_str_eq(s->conf->name, "B");
	set_up(&f, 1, 0);
	s = balancer_pick(f.g, 0);
	ck_assert_str_eq(s->conf->name, "C");
	test_group_free(&f);
}
END_TEST

START_TEST(least_connections_ties_rotate)
{
	struct test_group f;
	unsigned w[] = { 1, 1 };
	char s[16];

	test_group_init(&f, SCHED_LEAST_CONNECTIONS, w, 2);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ABAB");
	test_group_free(&f);
}
END_TEST

START_TEST(all_down_reject_or_try_all)
{
	struct test_group f;
	unsigned w[] = { 1, 1 };

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 2);
	set_up(&f, 0, 0);
	set_up(&f, 1, 0);
	ck_assert(!group_any_up(f.g));
	ck_assert_ptr_null(balancer_pick(f.g, 0));
	f.gc.all_servers_down_try_all = true;
	ck_assert_ptr_nonnull(balancer_pick(f.g, 0));
	/* try_all still honours the tried set. */
	ck_assert_ptr_null(balancer_pick(f.g, 3));
	test_group_free(&f);
}
END_TEST

START_TEST(server_ids_unique)
{
	struct test_group f;
	unsigned w[] = { 1, 1, 1 };

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 3);
	ck_assert_uint_eq(balancer_nservers(f.b), 3);
	ck_assert_uint_eq(group_server(f.g, 2)->id, 2);
	ck_assert_uint_eq(group_nservers(f.g), 3);
	test_group_free(&f);
}
END_TEST

/*
 * drain and disable take a server out of every scheduler whatever its
 * health, and try_all never brings it back; enable restores it.
 */
START_TEST(admin_state_skips)
{
	struct test_group f;
	unsigned w[] = { 1, 1, 1 };
	enum balancer_admin a;
	struct server *b;
	char s[16];

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 3);
	b = group_server(f.g, 1);
	ck_assert_int_eq(balancer_admin(b), BAL_ACTIVE);
	ck_assert_int_eq(balancer_set_admin(b, BAL_DRAINING), BAL_ACTIVE);
	seq(&f, 6, s);
	ck_assert_str_eq(s, "ACACAC");
	ck_assert_int_eq(balancer_set_admin(b, BAL_DISABLED), BAL_DRAINING);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ACAC");
	/* A and C down, B disabled: try_all may use A or C, never B. */
	set_up(&f, 0, 0);
	set_up(&f, 2, 0);
	ck_assert(!group_any_up(f.g));
	f.gc.all_servers_down_try_all = true;
	seq(&f, 6, s);
	ck_assert_ptr_null(strchr(s, 'B'));
	ck_assert_ptr_null(strchr(s, '-'));
	/* B up but disabled still counts as no server up */
	ck_assert_ptr_null(balancer_pick(f.g, 5));
	ck_assert_int_eq(balancer_set_admin(b, BAL_ACTIVE), BAL_DISABLED);
	ck_assert(group_any_up(f.g));
	ck_assert_str_eq(balancer_pick(f.g, 0)->conf->name, "B");
	test_group_free(&f);

	test_group_init(&f, SCHED_LEAST_CONNECTIONS, w, 3);
	balancer_set_admin(group_server(f.g, 0), BAL_DRAINING);
	atomic_store(&group_server(f.g, 1)->sh->active, 4);
	atomic_store(&group_server(f.g, 2)->sh->active, 2);
	ck_assert_str_eq(balancer_pick(f.g, 0)->conf->name, "C");
	test_group_free(&f);

	ck_assert_int_eq(balancer_admin_verb("drain", &a), 0);
	ck_assert_int_eq(a, BAL_DRAINING);
	ck_assert_int_eq(balancer_admin_verb("disable", &a), 0);
	ck_assert_int_eq(a, BAL_DISABLED);
	ck_assert_int_eq(balancer_admin_verb("enable", &a), 0);
	ck_assert_int_eq(a, BAL_ACTIVE);
	ck_assert_int_eq(balancer_admin_verb("Drain", &a), -1);
	ck_assert_int_eq(balancer_admin_verb("", &a), -1);
	ck_assert_str_eq(balancer_admin_name(BAL_DISABLED), "DISABLED");
}
END_TEST

START_TEST(server_named)
{
	struct test_group f;
	unsigned w[] = { 1, 1 };

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 2);
	ck_assert_ptr_eq(group_server_named(f.g, "B"), group_server(f.g, 1));
	ck_assert_ptr_null(group_server_named(f.g, "b"));
	ck_assert_ptr_null(group_server_named(f.g, ""));
	test_group_free(&f);
}
END_TEST

struct race_arg {
	struct group *g;
	long nulls;
};

static void *
race_picker(void *p)
{
	struct race_arg *a = p;
	long i;

	for (i = 0; i < 200000; i++)
		if (balancer_pick(a->g, 0) == NULL)
			a->nulls++;
	return NULL;
}

/*
 * Two pickers (workers) share the cycle counter: each one's own draws
 * need not cover the cycle, yet a pick must never fail while a server
 * is up.
 */
START_TEST(concurrent_pickers_never_miss)
{
	struct test_group f;
	unsigned w[] = { 1, 1 };
	struct race_arg a, b;
	pthread_t ta, tb;

	test_group_init(&f, SCHED_ROUND_ROBIN, w, 2);
	set_up(&f, 1, 0);
	a.g = b.g = f.g;
	a.nulls = b.nulls = 0;
	ck_assert_int_eq(pthread_create(&ta, NULL, race_picker, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, race_picker, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_int_eq(a.nulls + b.nulls, 0);
	test_group_free(&f);
}
END_TEST

static Suite *
balancer_suite(void)
{
	Suite *s = suite_create("balancer");
	TCase *tc;

#define ADD(name) do {					\
	tc = tcase_create(#name);			\
	tcase_add_test(tc, name);			\
	suite_add_tcase(s, tc);				\
} while (0)
	ADD(round_robin_alternates);
	ADD(round_robin_skips_down);
	ADD(weighted_smooth);
	ADD(weighted_five_one_one);
	ADD(weight_zero_drains);
	ADD(tried_set_excluded);
	ADD(least_connections);
	ADD(least_connections_ties_rotate);
	ADD(all_down_reject_or_try_all);
	ADD(server_ids_unique);
	ADD(admin_state_skips);
	ADD(server_named);
	ADD(concurrent_pickers_never_miss);
#undef ADD
	return s;
}

const struct test_unit test_unit = { balancer_suite, NULL, NULL };
