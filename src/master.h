/*
 * master: the supervising process. Forks the workers, replaces one that
 * dies, stops them gracefully on SIGTERM/SIGINT, forwards SIGUSR1, and
 * on SIGHUP builds a new generation and swaps workers over to it.
 */
#ifndef MTLSLB_MASTER_H
#define MTLSLB_MASTER_H

struct runtime;

/*
 * Runs the master loop on rt (already bound), loaded from path. Takes
 * ownership of rt. Returns the process exit status.
 */
int master_run(const char *path, struct runtime *rt);

#endif
