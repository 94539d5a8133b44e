/*
 * fuzz_config: libFuzzer target for config_load(): inih, the key tables,
 * the value parsers of parse.c and the cross-key checks. The input becomes
 * the INI file (an anonymous memfd, opened by its /proc path, so nothing
 * touches the disk). Every diagnostic is formatted; the config is freed.
 */
#include "ac_config.h"
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
each(const char *line, bool is_error, void *arg)
{
	size_t *n = arg;

	if (line == NULL || strchr(line, '\n') != NULL)
		abort();	/* one diagnostic, one line */
	*n += strlen(line) + (is_error ? 1 : 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct config *c;
	struct diag *d;
	size_t n = 0;

	if (fd < 0) {
		if ((fd = memfd_create("fuzz.ini", MFD_CLOEXEC)) < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();
	d = diag_new(path);
	c = config_load(path, d);
	if (c == NULL && diag_errors(d) == 0)
		abort();	/* a refusal always says why */
	if (c != NULL && diag_errors(d) != 0)
		abort();
	diag_foreach(d, each, &n);
	config_free(c);
	diag_free(d);
	return 0;
}
