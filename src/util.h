/*
 * util: allocation wrappers that abort on failure, so callers never carry
 * untested out-of-memory branches.
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

#endif
