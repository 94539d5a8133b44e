/*
 * test_main: main() for the unit tests (see test_main.h). Setup runs
 * before the suite and teardown after it in the parent; check forks each
 * test, so what setup makes is shared by all tests and never changed.
 */
#include "ac_config.h"
#include "test_main.h"

#include <stdlib.h>

const char *
test_srcdir(void)
{
	const char *s = getenv("srcdir");

	return s != NULL && *s != '\0' ? s : TEST_TOP_SRCDIR;
}

int
main(void)
{
	SRunner *sr;
	int failed, rc;

	if (test_unit.setup != NULL && (rc = test_unit.setup()) != 0) {
		if (test_unit.teardown != NULL)
			test_unit.teardown();
		return rc;
	}
	sr = srunner_create(test_unit.suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (test_unit.teardown != NULL)
		test_unit.teardown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
