/*
 * util: allocation wrappers. Running out of memory is fatal by design:
 * the daemon cannot do anything useful without it, and aborting here keeps
 * every caller free of untestable recovery code. Also util_abs_path().
 */
#include "ac_config.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
oom(size_t n)
{
	fprintf(stderr, "mtlslb: out of memory (%zu bytes)\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p;

	/* malloc(0) may return NULL; ask for one byte so NULL means failure */
	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q;

	if ((q = realloc(p, n == 0 ? 1 : n)) == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int
util_abs_path(const char *path, char *out, size_t len)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/'), *base = path;
	int n;

	if (*path == '/')
		n = snprintf(out, len, "%s", path);
	else {
		if (slash != NULL) {
			if ((size_t)(slash - path) >= sizeof(dir)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			memcpy(dir, path, (size_t)(slash - path));
			dir[slash - path] = '\0';
			base = slash + 1;
		} else
			snprintf(dir, sizeof(dir), ".");
		if (realpath(dir, real) == NULL)
			return -1;
		n = snprintf(out, len, "%s%s%s", real,
		    strcmp(real, "/") == 0 ? "" : "/", base);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
