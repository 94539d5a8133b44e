/*
 * test_main: the one main() of every check_<module> program. A suite file
 * defines test_unit; main() runs its setup, the suite, its teardown, and
 * exits as automake expects (0 pass, 1 fail, 77 skip, 99 harness error).
 */
#ifndef MTLSLB_TEST_MAIN_H
#define MTLSLB_TEST_MAIN_H

#include <check.h>

struct test_unit {
	Suite *(*suite)(void);
	/* NULL, or returns 0 to run, 77 to skip, 99 on a harness error */
	int (*setup)(void);
	void (*teardown)(void);		/* NULL, or runs after the suite */
};

/* Defined once by each check_<module>.c. */
extern const struct test_unit test_unit;

/*
 * Returns the top of the source tree: $srcdir (make check exports it),
 * else the directory configure was run for. The string is static.
 */
const char *test_srcdir(void);

#endif
