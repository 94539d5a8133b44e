/*
 * test_group: the server-group fixture of the balancer and health suites
 * (see test_group.h). Everything is static or in f: nothing to free but
 * the balancer and the shm segment.
 */
#include "ac_config.h"
#include "test_group.h"

#include <check.h>
#include <string.h>

#include "balancer.h"
#include "shm.h"

void
test_group_conf(struct test_group *f, enum sched_kind k,
    const unsigned *weights, size_t n)
{
	static char names[TEST_GROUP_MAX][2] = { "A", "B", "C", "D" };
	static char gname[] = "g";
	static char path_root[] = "/";
	size_t i;

	ck_assert_uint_le(n, TEST_GROUP_MAX);
	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		f->sc[i].name = names[i];
		f->sc[i].weight = weights != NULL ? weights[i] : 1;
		f->sc[i].addr.text = names[i];
	}
	f->gc.name = gname;
	f->gc.scheduler = k;
	f->gc.servers = f->sc;
	f->gc.nservers = n;
	f->gc.health_check = true;
	f->gc.health_check_path = path_root;
	f->gc.health_check_interval_ms = 2000;
	f->gc.health_check_timeout_ms = 1000;
	f->gc.healthy_threshold = 2;
	f->gc.unhealthy_threshold = 2;
	f->gc.health_check_http_code = HC_CODE_2XX | HC_CODE_3XX;
	f->gc.health_check_initial_healthy = true;
	f->cfg.groups = &f->gc;
	f->cfg.ngroups = 1;
}

void
test_group_build(struct test_group *f)
{
	f->shm = shm_new(65536);
	ck_assert_ptr_nonnull(f->shm);
	f->b = balancer_new(&f->cfg, f->shm);
	f->g = balancer_group(f->b, "g");
	ck_assert_ptr_nonnull(f->g);
	f->s = group_server(f->g, 0);
}

void
test_group_init(struct test_group *f, enum sched_kind k,
    const unsigned *weights, size_t n)
{
	test_group_conf(f, k, weights, n);
	test_group_build(f);
}

void
test_group_free(struct test_group *f)
{
	balancer_free(f->b);
	shm_free(f->shm);
}
