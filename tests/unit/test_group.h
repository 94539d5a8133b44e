/*
 * test_group: a hand-made server group "g" over a fresh shm segment, the
 * fixture the balancer and health suites share.
 */
#ifndef MTLSLB_TEST_GROUP_H
#define MTLSLB_TEST_GROUP_H

#include <stddef.h>

#include "config.h"

#define TEST_GROUP_MAX	4		/* servers A, B, C, D */

struct test_group {
	struct config cfg;
	struct group_conf gc;
	struct server_conf sc[TEST_GROUP_MAX];
	struct shm *shm;
	struct balancer *b;
	struct group *g;		/* "g", once built */
	struct server *s;		/* its server 0, once built */
};

/*
 * Configures, without building, group "g" with scheduler k and n servers
 * named (and addressed) "A", "B", ... of the given weights (NULL: 1 each);
 * active checks on, "/", every 2s, timeout 1s, thresholds 2/2, 2xx and
 * 3xx, starting healthy. Tests change f->gc before test_group_build().
 */
void test_group_conf(struct test_group *f, enum sched_kind k,
    const unsigned *weights, size_t n);

/* Builds the shm segment and the balancer from f's configuration. */
void test_group_build(struct test_group *f);

/* test_group_conf() then test_group_build(). */
void test_group_init(struct test_group *f, enum sched_kind k,
    const unsigned *weights, size_t n);

/* Frees what test_group_build() made. */
void test_group_free(struct test_group *f);

#endif
