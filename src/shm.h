/*
 * shm: the one shared-memory segment, mapped by the master before it forks
 * so every worker sees the same pages. A bump allocator carves it up at
 * start-up (balancer state, metrics slots); nothing is freed piecemeal.
 */
#ifndef MTLSLB_SHM_H
#define MTLSLB_SHM_H

#include <stddef.h>

struct shm;

/* Maps a zeroed shared segment of size bytes; NULL on failure (logged). */
struct shm *shm_new(size_t size);

/* Unmaps the segment; accepts NULL. Pointers from shm_alloc die with it. */
void shm_free(struct shm *s);

/* Returns size zeroed bytes, 64-byte aligned, from s; aborts when full. */
void *shm_alloc(struct shm *s, size_t size);

#endif
