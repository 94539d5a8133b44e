/*
 * config-keys: prints "SECTION KEY" for every key config.c knows, one a
 * line, from the very tables the parser uses; the docs test greps the man
 * page and the example config for each.
 */
#include "ac_config.h"

#include <stdio.h>

#include "config.h"

static void
print_key(const char *section, const char *key, void *arg)
{
	printf("%s %s\n", section, key);
}

int
main(void)
{
	config_foreach_key(print_key, NULL);
	return ferror(stdout) ? 1 : 0;
}
