/*
 * worker: one worker process. Its own event loop, accepting on the
 * listening sockets it inherited from the master, serving connections
 * with the SSL_CTXs it inherited, until told to stop.
 */
#ifndef MTLSLB_WORKER_H
#define MTLSLB_WORKER_H

struct runtime;

/*
 * Runs worker number index on rt in a freshly forked process. Returns the
 * process exit status once it has stopped (SIGTERM: graceful, bounded by
 * shutdown_timeout).
 */
int worker_main(struct runtime *rt, unsigned index);

#endif
