/*
 * proctitle: what ps(1) and /proc/PID/cmdline show for this process
 * ("mtlslb: master process FILE", "mtlslb: worker 0 (generation 3)"). The
 * short name (/proc/PID/comm) stays "mtlslb", so pidof, pgrep -x and
 * killall find every process as they find nginx's. Linux, as nginx does.
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
 * Sets the title, printf-style, cut to the area proctitle_init() kept. A
 * no-op before proctitle_init().
 */
void proctitle_set(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
