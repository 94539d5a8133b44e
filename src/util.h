/*
 * util: allocation wrappers that abort on failure, so callers never carry
 * untested out-of-memory branches; making a file name absolute.
 */
#ifndef MTLSLB_UTIL_H
#define MTLSLB_UTIL_H

#include <stddef.h>

/* Like malloc(3), but never returns NULL: prints a message and aborts. */
void *xmalloc(size_t n);

/* Like calloc(3); aborts on failure or when n * size overflows. */
void *xcalloc(size_t n, size_t size);

/* Like realloc(3); aborts on failure. */
void *xrealloc(void *p, size_t n);

/* Returns a copy of s that the caller owns; aborts on failure. */
char *xstrdup(const char *s);

/* Returns a copy of at most n bytes of s, NUL-terminated; aborts on failure. */
char *xstrndup(const char *s, size_t n);

/*
 * Writes path into out (len bytes) as an absolute name that does not
 * depend on the working directory: an absolute path as it is; a relative
 * one as the real path of its directory (realpath(3), so ".." is resolved
 * now), '/' and its last component, which is left alone (a symbolic link
 * to the file stays one). Returns 0, or -1 with errno set (the directory
 * does not exist, ENAMETOOLONG).
 */
int util_abs_path(const char *path, char *out, size_t len);

#endif
