/* Unit tests for balancer.c: each scheduler's sequence, health skipping,
 * drained servers, the tried set and all_servers_down. */
#include "ac_config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "balancer.h"
#include "config.h"
#include "shm.h"

struct fixture {
	struct config cfg;
	struct group_conf gc;
	struct server_conf sc[4];
	struct shm *shm;
	struct balancer *b;
	struct group *g;
};

static void
fx_init(struct fixture *f, enum sched_kind k, const unsigned *weights,
    size_t n)
{
	static char names[4][2] = { "A", "B", "C", "D" };
	static char gname[] = "g";
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		f->sc[i].name = names[i];
		f->sc[i].weight = weights[i];
	}
	f->gc.name = gname;
	f->gc.scheduler = k;
	f->gc.servers = f->sc;
	f->gc.nservers = n;
	f->gc.health_check = true;
	f->gc.health_check_initial_healthy = true;
	f->cfg.groups = &f->gc;
	f->cfg.ngroups = 1;
	f->shm = shm_new(65536);
	ck_assert_ptr_nonnull(f->shm);
	f->b = balancer_new(&f->cfg, f->shm);
	f->g = balancer_group(f->b, "g");
	ck_assert_ptr_nonnull(f->g);
}

static void
fx_free(struct fixture *f)
{
	balancer_free(f->b);
	shm_free(f->shm);
}

/* The names of n picks, e.g. "ABAB". */
static void
seq(struct fixture *f, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct server *s = balancer_pick(f->g, 0);

		out[i] = s ? s->conf->name[0] : '-';
	}
	out[n] = '\0';
}

static void
set_up(struct fixture *f, size_t i, int up)
{
	atomic_store(&group_server(f->g, i)->sh->up, up);
}

START_TEST(round_robin_alternates)
{
	struct fixture f;
	unsigned w[] = { 1, 5 };
	char s[16];

	fx_init(&f, SCHED_ROUND_ROBIN, w, 2);
	seq(&f, 10, s);
	ck_assert_str_eq(s, "ABABABABAB");
	fx_free(&f);
}
END_TEST

START_TEST(round_robin_skips_down)
{
	struct fixture f;
	unsigned w[] = { 1, 1, 1 };
	char s[16];

	fx_init(&f, SCHED_ROUND_ROBIN, w, 3);
	set_up(&f, 1, 0);
	seq(&f, 6, s);
	ck_assert_str_eq(s, "ACACAC");
	ck_assert_ptr_null(strchr(s, 'B'));
	set_up(&f, 1, 1);
	fx_free(&f);
}
END_TEST

START_TEST(weighted_smooth)
{
	struct fixture f;
	unsigned w[] = { 1, 3 };
	char s[16];

	fx_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 2);
	seq(&f, 8, s);
	ck_assert_str_eq(s, "BABBBABB");
	fx_free(&f);
}
END_TEST

START_TEST(weighted_five_one_one)
{
	struct fixture f;
	unsigned w[] = { 5, 1, 1 };
	char s[16];

	fx_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 3);
	seq(&f, 7, s);
	/* Smooth: the heavy server never runs more than 3 in a row. */
	ck_assert_str_eq(s, "AABACAA");
	fx_free(&f);
}
END_TEST

START_TEST(weight_zero_drains)
{
	struct fixture f;
	unsigned w[] = { 1, 0, 1 };
	char s[16];

	fx_init(&f, SCHED_ROUND_ROBIN, w, 3);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ACAC");
	fx_free(&f);
	fx_init(&f, SCHED_WEIGHTED_ROUND_ROBIN, w, 3);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ACAC");
	fx_free(&f);
}
END_TEST

START_TEST(tried_set_excluded)
{
	struct fixture f;
	unsigned w[] = { 1, 1 };
	struct server *s;

	fx_init(&f, SCHED_ROUND_ROBIN, w, 2);
	s = balancer_pick(f.g, UINT64_C(1) << 0);
	ck_assert_str_eq(s->conf->name, "B");
	s = balancer_pick(f.g, UINT64_C(1) << 0);
	ck_assert_str_eq(s->conf->name, "B");
	ck_assert_ptr_null(balancer_pick(f.g, 3));
	fx_free(&f);
}
END_TEST

START_TEST(least_connections)
{
	struct fixture f;
	unsigned w[] = { 1, 1, 1 };
	struct server *s;

	fx_init(&f, SCHED_LEAST_CONNECTIONS, w, 3);
	atomic_store(&group_server(f.g, 0)->sh->active, 5);
	atomic_store(&group_server(f.g, 1)->sh->active, 1);
	atomic_store(&group_server(f.g, 2)->sh->active, 3);
	s = balancer_pick(f.g, 0);
	ck_assert_str_eq(s->conf->name, "B");
	set_up(&f, 1, 0);
	s = balancer_pick(f.g, 0);
	ck_assert_str_eq(s->conf->name, "C");
	fx_free(&f);
}
END_TEST

START_TEST(least_connections_ties_rotate)
{
	struct fixture f;
	unsigned w[] = { 1, 1 };
	char s[16];

	fx_init(&f, SCHED_LEAST_CONNECTIONS, w, 2);
	seq(&f, 4, s);
	ck_assert_str_eq(s, "ABAB");
	fx_free(&f);
}
END_TEST

START_TEST(all_down_reject_or_try_all)
{
	struct fixture f;
	unsigned w[] = { 1, 1 };

	fx_init(&f, SCHED_ROUND_ROBIN, w, 2);
	set_up(&f, 0, 0);
	set_up(&f, 1, 0);
	ck_assert(!group_any_up(f.g));
	ck_assert_ptr_null(balancer_pick(f.g, 0));
	f.gc.all_servers_down_try_all = true;
	ck_assert_ptr_nonnull(balancer_pick(f.g, 0));
	/* try_all still honours the tried set. */
	ck_assert_ptr_null(balancer_pick(f.g, 3));
	fx_free(&f);
}
END_TEST

START_TEST(server_ids_unique)
{
	struct fixture f;
	unsigned w[] = { 1, 1, 1 };

	fx_init(&f, SCHED_ROUND_ROBIN, w, 3);
	ck_assert_uint_eq(balancer_nservers(f.b), 3);
	ck_assert_uint_eq(group_server(f.g, 2)->id, 2);
	ck_assert_uint_eq(group_nservers(f.g), 3);
	fx_free(&f);
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
	struct fixture f;
	unsigned w[] = { 1, 1 };
	struct race_arg a, b;
	pthread_t ta, tb;

	fx_init(&f, SCHED_ROUND_ROBIN, w, 2);
	set_up(&f, 1, 0);
	a.g = b.g = f.g;
	a.nulls = b.nulls = 0;
	ck_assert_int_eq(pthread_create(&ta, NULL, race_picker, &a), 0);
	ck_assert_int_eq(pthread_create(&tb, NULL, race_picker, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	ck_assert_int_eq(a.nulls + b.nulls, 0);
	fx_free(&f);
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
	ADD(concurrent_pickers_never_miss);
#undef ADD
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(balancer_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
