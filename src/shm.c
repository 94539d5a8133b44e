/*
 * shm: an anonymous MAP_SHARED mapping inherited across fork(). Objects in
 * it hold only C11 atomics and plain integers, never pointers into process
 * memory, so every process can use them.
 */
#include "ac_config.h"
#include "shm.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "util.h"

struct shm {
	unsigned char *base;
	size_t size;
	size_t used;
};

struct shm *
shm_new(size_t size)
{
	struct shm *s;
	void *p;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED) {
		log_msg(LL_ERROR, "shared memory: cannot map %zu bytes: %s",
		    size, strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->base = p;
	s->size = size;
	return s;
}

void
shm_free(struct shm *s)
{
	if (s == NULL)
		return;
	munmap(s->base, s->size);
	free(s);
}

void *
shm_alloc(struct shm *s, size_t size)
{
	size_t off = (s->used + 63) & ~(size_t)63;

	if (off > s->size || size > s->size - off) {
		fprintf(stderr, "mtlslb: shared memory segment full\n");
		abort();
	}
	s->used = off + size;
	return s->base + off;
}
