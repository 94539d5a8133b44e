/*
 * sesscache: a bounded store of serialised TLS sessions in shared memory,
 * one per listener, used by every worker (session_cache = shared). Keys
 * are session ids (up to 32 bytes); values are i2d_SSL_SESSION bytes.
 * Oldest-first eviction over a ring of fixed-size slots; a process-shared
 * robust mutex guards it. Knows nothing of OpenSSL: tls_session.c is the
 * glue.
 */
#ifndef MTLSLB_SESSCACHE_H
#define MTLSLB_SESSCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Largest session id and serialised session a slot holds. */
#define SESSCACHE_MAX_ID	32
#define SESSCACHE_MAX_DATA	(1024 - 64)

struct sesscache;

/*
 * Maps a new, empty cache of entries slots (>= 1) shared with processes
 * forked later. The caller owns the one reference; NULL on failure
 * (logged, naming listener).
 */
struct sesscache *sesscache_new(unsigned entries, const char *listener);

/* Takes another reference to sc and returns it. */
struct sesscache *sesscache_ref(struct sesscache *sc);

/* Drops a reference; the last one unmaps this process's view. NULL ok. */
void sesscache_unref(struct sesscache *sc);

/* Slots the cache was made with. */
unsigned sesscache_capacity(const struct sesscache *sc);

/*
 * Stores len bytes of data under id until expires (Unix time), replacing
 * an entry with the same id; the oldest slot makes room. Returns 0, or -1
 * when id or data does not fit a slot.
 */
int sesscache_put(struct sesscache *sc, const unsigned char *id,
    size_t idlen, const void *data, size_t len, time_t expires, time_t now);

/*
 * Copies the data stored under id into buf (cap bytes, at least
 * SESSCACHE_MAX_DATA). Returns its length, or 0 when there is none or
 * it expired by now (an expired entry is dropped).
 */
size_t sesscache_get(struct sesscache *sc, const unsigned char *id,
    size_t idlen, void *buf, size_t cap, time_t now);

/* Drops the entry under id, if any. */
void sesscache_del(struct sesscache *sc, const unsigned char *id,
    size_t idlen);

/* Entries held, and live entries evicted to make room, so far. */
unsigned sesscache_entries(const struct sesscache *sc);
uint64_t sesscache_evictions(const struct sesscache *sc);

#endif
