/*
 * proctitle: what ps(1) and /proc/PID/cmdline show for this process
 * ("mtlslb: master process FILE", "mtlslb: worker 0 (generation 3)") and
 * its short name (/proc/PID/comm: top, pgrep). Linux, as nginx does it.
 */
#ifndef MTLSLB_PROCTITLE_H
#define MTLSLB_PROCTITLE_H

/*
 * Call first thing in main(), before anything keeps a pointer into argv
 * or the environment (getopt's optarg does): moves every argv and
 * environ string to the heap, points argv[] and environ at the copies,
 * and keeps the area they used (argv[0] to the end of the last string
 * that follows it without a gap) for proctitle_set().
 */
void proctitle_init(int argc, char **argv);

/*
 * Sets the short name (comm, at most 15 characters; NULL keeps it) and
 * the title, printf-style, cut to the area proctitle_init() kept. A no-op
 * for the title before proctitle_init().
 */
void proctitle_set(const char *comm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
