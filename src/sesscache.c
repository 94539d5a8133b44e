/*
 * sesscache: layout of one listener's shared session cache.
 *
 *   header | buckets[nbuckets] | slots[nslots]
 *
 * A slot is 1 KiB: a 64-byte head (chain link, id, expiry, length) and
 * the serialised session, which without its client certificate (see
 * tls_session.c) is 300-400 bytes. Every new session touches a slot of
 * shared memory, which counts in the workers' RSS: a page per session
 * would add 4 KiB to every connection. Buckets hold slot index + 1 (0: empty) and
 * chain through the slots' next fields. New entries take the slot under
 * the ring cursor, so the oldest entry is the one replaced: no LRU list
 * to update on every hit, and a full cache costs nothing extra.
 *
 * Session ids are chosen by OpenSSL's random generator, so their first
 * bytes are a good hash; a client can name any id in a lookup, but only
 * ids we generated are ever stored, so no chain can be made long.
 *
 * The lock is a process-shared robust mutex: a worker killed while it
 * holds the lock (SIGKILL in the middle of a memcpy) leaves the table
 * in doubt, so the next locker empties it rather than trusting it.
 */
#include "ac_config.h"
#include "sesscache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "log.h"
#include "util.h"

struct sc_slot {
	uint32_t next;			/* index + 1 of the next in chain */
	uint16_t len;			/* 0: free */
	uint8_t idlen;
	uint8_t pad;
	int64_t expires;
	unsigned char id[SESSCACHE_MAX_ID];
	unsigned char pad2[64 - 48];
	unsigned char data[SESSCACHE_MAX_DATA];
};

struct sc_shared {
	pthread_mutex_t mu;
	uint32_t nslots, nbuckets;	/* nbuckets: a power of two */
	uint32_t cursor;		/* next slot to fill */
	atomic_uint entries;
	atomic_uint_fast64_t evictions;
};

struct sesscache {
	struct sc_shared *sh;
	uint32_t *buckets;
	struct sc_slot *slots;
	size_t maplen;
	unsigned refs;
};

_Static_assert(sizeof(struct sc_slot) == 1024, "four slots a page");

struct sesscache *
sesscache_new(unsigned entries, const char *listener)
{
	struct sesscache *sc;
	pthread_mutexattr_t ma;
	size_t head, nb = 1;
	void *p;

	if (entries < 1)
		entries = 1;
	while (nb < entries)
		nb <<= 1;
	head = (sizeof(struct sc_shared) + nb * sizeof(uint32_t) + 4095) &
	    ~(size_t)4095;
	sc = xcalloc(1, sizeof(*sc));
	sc->maplen = head + (size_t)entries * sizeof(struct sc_slot);
	p = mmap(NULL, sc->maplen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_msg(LL_ERROR, "listener %s: session cache: cannot map %zu "
		    "bytes: %s", listener, sc->maplen, strerror(errno));
		free(sc);
		return NULL;
	}
	sc->sh = p;
	sc->buckets = (uint32_t *)(sc->sh + 1);
	sc->slots = (struct sc_slot *)((unsigned char *)p + head);
	sc->sh->nslots = entries;
	sc->sh->nbuckets = (uint32_t)nb;
	sc->refs = 1;
	if (pthread_mutexattr_init(&ma) != 0 ||
	    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&sc->sh->mu, &ma) != 0) {
		log_msg(LL_ERROR, "listener %s: session cache: cannot make "
		    "its lock", listener);
		munmap(p, sc->maplen);
		free(sc);
		return NULL;
	}
	pthread_mutexattr_destroy(&ma);
	return sc;
}

struct sesscache *
sesscache_ref(struct sesscache *sc)
{
	sc->refs++;
	return sc;
}

void
sesscache_unref(struct sesscache *sc)
{
	if (sc == NULL || --sc->refs > 0)
		return;
	munmap(sc->sh, sc->maplen);
	free(sc);
}

unsigned
sesscache_capacity(const struct sesscache *sc)
{
	return sc->sh->nslots;
}

static void
reset(struct sesscache *sc)
{
	memset(sc->buckets, 0, sc->sh->nbuckets * sizeof(uint32_t));
	memset(sc->slots, 0, sc->sh->nslots * sizeof(struct sc_slot));
	sc->sh->cursor = 0;
	atomic_store(&sc->sh->entries, 0);
}

static void
lock(struct sesscache *sc)
{
	int rc = pthread_mutex_lock(&sc->sh->mu);

	if (rc == EOWNERDEAD) {
		log_msg(LL_WARN, "session cache: a process died holding its "
		    "lock; emptying the cache");
		reset(sc);
		(void)pthread_mutex_consistent(&sc->sh->mu);
	} else if (rc != 0) {
		abort();
	}
}

static void
unlock(struct sesscache *sc)
{
	(void)pthread_mutex_unlock(&sc->sh->mu);
}

static uint32_t *
bucket(struct sesscache *sc, const unsigned char *id, size_t idlen)
{
	uint32_t h = 2166136261u;
	size_t i;

	/* the ids are random: four bytes would do; FNV keeps short ids fair */
	for (i = 0; i < idlen && i < 8; i++)
		h = (h ^ id[i]) * 16777619u;
	return &sc->buckets[h & (sc->sh->nbuckets - 1)];
}

/*
 * Returns the link that points at the slot holding id (a bucket or a
 * slot's next), or NULL. *link then names slot index + 1.
 */
static uint32_t *
find(struct sesscache *sc, const unsigned char *id, size_t idlen)
{
	uint32_t *link = bucket(sc, id, idlen);
	uint32_t guard = sc->sh->nslots;

	while (*link != 0 && guard-- > 0) {
		struct sc_slot *s = &sc->slots[*link - 1];

		if (s->idlen == idlen && memcmp(s->id, id, idlen) == 0)
			return link;
		link = &s->next;
	}
	return NULL;
}

/* Unlinks and frees the slot *link names. */
static void
drop(struct sesscache *sc, uint32_t *link)
{
	struct sc_slot *s = &sc->slots[*link - 1];

	*link = s->next;
	s->next = 0;
	s->len = 0;
	atomic_fetch_sub(&sc->sh->entries, 1);
}

int
sesscache_put(struct sesscache *sc, const unsigned char *id, size_t idlen,
    const void *data, size_t len, time_t expires, time_t now)
{
	struct sc_slot *s;
	uint32_t *link, *head, idx;

	if (idlen == 0 || idlen > SESSCACHE_MAX_ID || len == 0 ||
	    len > SESSCACHE_MAX_DATA)
		return -1;
	lock(sc);
	if ((link = find(sc, id, idlen)) != NULL)
		drop(sc, link);
	idx = sc->sh->cursor;
	sc->sh->cursor = (idx + 1) % sc->sh->nslots;
	s = &sc->slots[idx];
	if (s->len != 0) {
		if (s->expires > now)
			atomic_fetch_add(&sc->sh->evictions, 1);
		link = find(sc, s->id, s->idlen);
		if (link != NULL)
			drop(sc, link);
	}
	head = bucket(sc, id, idlen);
	s->next = *head;
	s->len = (uint16_t)len;
	s->idlen = (uint8_t)idlen;
	s->expires = expires;
	memcpy(s->id, id, idlen);
	memcpy(s->data, data, len);
	*head = idx + 1;
	atomic_fetch_add(&sc->sh->entries, 1);
	unlock(sc);
	return 0;
}

size_t
sesscache_get(struct sesscache *sc, const unsigned char *id, size_t idlen,
    void *buf, size_t cap, time_t now)
{
	struct sc_slot *s;
	uint32_t *link;
	size_t len = 0;

	if (idlen == 0 || idlen > SESSCACHE_MAX_ID)
		return 0;
	lock(sc);
	if ((link = find(sc, id, idlen)) != NULL) {
		s = &sc->slots[*link - 1];
		if (s->expires <= now)
			drop(sc, link);
		else if (s->len <= cap)
			memcpy(buf, s->data, len = s->len);
	}
	unlock(sc);
	return len;
}

void
sesscache_del(struct sesscache *sc, const unsigned char *id, size_t idlen)
{
	uint32_t *link;

	if (idlen == 0 || idlen > SESSCACHE_MAX_ID)
		return;
	lock(sc);
	if ((link = find(sc, id, idlen)) != NULL)
		drop(sc, link);
	unlock(sc);
}

unsigned
sesscache_entries(const struct sesscache *sc)
{
	return atomic_load(&sc->sh->entries);
}

uint64_t
sesscache_evictions(const struct sesscache *sc)
{
	return atomic_load(&sc->sh->evictions);
}
