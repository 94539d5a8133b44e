/*
 * check_status: the latency percentiles of the status snapshot that
 * /status and the console render, from the histogram buckets
 * (histogram_quantile()'s interpolation, and "over the last bound").
 */
#include "ac_config.h"

#include <check.h>
#include <string.h>

#include "balancer.h"
#include "status.h"
#include "test_main.h"

/* Bounds (ms): 5 10 25 50 100 250 500 1000 2500 5000 10000, then +Inf. */

START_TEST(quantile_empty)
{
	uint64_t b[BALANCER_LATENCY_BUCKETS] = { 0 };
	struct status_latency l = status_quantile(b, 0.5);

	ck_assert(l.none);
}
END_TEST

START_TEST(quantile_interpolates)
{
	uint64_t b[BALANCER_LATENCY_BUCKETS] = { 0 };
	struct status_latency l;

	/* 100 responses in 10..25 ms: the median is half way, 17.5 ms */
	b[2] = 100;
	l = status_quantile(b, 0.5);
	ck_assert(!l.none && !l.over);
	ck_assert_double_eq_tol(l.ms, 17.5, 1e-9);
	/* 90 fast (0..5 ms), 10 slow (250..500 ms): p90 is at 5, p99 at 475 */
	memset(b, 0, sizeof(b));
	b[0] = 90;
	b[6] = 10;
	ck_assert_double_eq_tol(status_quantile(b, 0.9).ms, 5, 1e-9);
	ck_assert_double_eq_tol(status_quantile(b, 0.99).ms, 475, 1e-9);
	ck_assert_double_eq_tol(status_quantile(b, 0.5).ms, 2.7777777777,
	    1e-6);
}
END_TEST

START_TEST(quantile_over_last_bound)
{
	uint64_t b[BALANCER_LATENCY_BUCKETS] = { 0 };
	struct status_latency l;

	b[0] = 1;
	b[BALANCER_LATENCY_BUCKETS - 1] = 9;
	l = status_quantile(b, 0.5);
	ck_assert(!l.none && l.over);
	ck_assert_double_eq(l.ms, 10000);
	l = status_quantile(b, 0.05);
	ck_assert(!l.over);
	ck_assert_double_eq_tol(l.ms, 2.5, 1e-9);
}
END_TEST

static Suite *
status_suite(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("quantile");

	tcase_add_test(tc, quantile_empty);
	tcase_add_test(tc, quantile_interpolates);
	tcase_add_test(tc, quantile_over_last_bound);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { status_suite, NULL, NULL };
