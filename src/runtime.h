/*
 * runtime: a generation, everything built from one configuration file:
 * the config, one SSL_CTX per listener, the balancer and its shared
 * memory, the listening sockets. Built and checked whole before use.
 */
#ifndef MTLSLB_RUNTIME_H
#define MTLSLB_RUNTIME_H

#include <stddef.h>

#include "listener.h"

struct balancer;
struct config;
struct diag;
struct shm;

/* Most worker processes (config allows 1..64). */
#define RUNTIME_MAX_WORKERS 64

struct runtime {
	struct config *cfg;
	SSL_CTX *admin_ctx;		/* [admin] TLS, NULL: plain HTTP */
	struct shm *shm;
	struct balancer *bal;
	struct lsn *lsns;
	size_t nlsns;
	SSL_CTX **gctxs;		/* per cfg->groups[i]: backend_tls */
	unsigned nworkers;		/* workers = auto resolved */
	long loaded_at;			/* time(NULL) when loaded */
};

/*
 * Loads and checks path: config, TLS files, server groups. Records every
 * problem in d and returns NULL on any error; the caller owns the result.
 * Binds nothing.
 */
struct runtime *runtime_load(const char *path, struct diag *d);

/* Binds every listener's addresses; returns 0, or -1 (logged). */
int runtime_bind(struct runtime *rt);

/* Frees rt, its SSL_CTXs and closes its sockets; accepts NULL. */
void runtime_free(struct runtime *rt);

/*
 * Gives each shared session cache of rt whose listener old had, with the
 * same size, old's cache instead: sessions survive a reload, and whether
 * one resumes is then the session id context's decision.
 */
void runtime_carry_sessions(const struct runtime *old, struct runtime *rt);

/* Closes rt's listening sockets that are still open (set to -1). */
void runtime_close_sockets(struct runtime *rt);

#endif
