/*
 * pidfile: the file that names the master process ("1234\n"), written by
 * the master after it has bound its sockets and read by "mtlslb -s" to
 * find whom to signal. Plain functions; no state. Messages are the
 * caller's: these functions say what happened, never print it.
 */
#ifndef MTLSLB_PIDFILE_H
#define MTLSLB_PIDFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Where "mtlslb -s" looks when neither pid_file nor systemd says. */
#define PIDFILE_SERVICE_PATH	"/run/mtlslb/mtlslb.pid"

/* What a pid file says about the process it names. */
enum pidfile_state {
	PIDFILE_NONE,		/* no such file (ENOENT) */
	PIDFILE_ERROR,		/* cannot be read; err says why */
	PIDFILE_INVALID,	/* holds no process ID; text shows it */
	PIDFILE_DEAD,		/* names no running process, or a zombie */
	PIDFILE_OTHER,		/* names a process that is not a master */
	PIDFILE_MASTER,		/* names a running mtlslb master */
};

struct pidfile_info {
	enum pidfile_state state;
	pid_t pid;		/* the process ID in the file, 0 if none */
	int err;		/* errno (PIDFILE_NONE, PIDFILE_ERROR) */
	char comm[17];		/* the process's name, "" if unknown */
	char text[41];		/* the file's start, printable */
};

/*
 * Parses the contents of a pid file: decimal digits of a pid > 0 that
 * fits pid_t, then at most one '\n' and nothing else. Returns 0 and sets
 * *pid, or -1.
 */
int pidfile_parse(const char *buf, size_t len, pid_t *pid);

/*
 * Parses the start of /proc/PID/stat ("PID (COMM) S ..."): copies COMM
 * (which may hold blanks and parentheses) into comm, truncated to
 * commlen - 1, and sets *state to the state letter. Returns 0 or -1.
 */
int pidfile_parse_stat(const char *buf, char *comm, size_t commlen,
    char *state);

/*
 * True when a process named comm can be an mtlslb master ("mtlslb": the
 * short name is never changed, so workers have it too; the pid file only
 * ever names the master).
 */
bool pidfile_is_master_name(const char *comm);

/*
 * The pid file to use when pid_file is not set: $RUNTIME_DIRECTORY
 * /mtlslb.pid when systemd's RuntimeDirectory= set that variable (its
 * first directory), else for_signal ? PIDFILE_SERVICE_PATH : NULL (the
 * daemon writes none). The caller owns the result.
 */
char *pidfile_default(bool for_signal);

/*
 * Reads the pid file at path and looks at the process it names (signal 0
 * and /proc/PID/stat). A live process whose name /proc does not give is
 * taken for a master: refusing to start is safer than a second master.
 */
void pidfile_inspect(const char *path, struct pidfile_info *pi);

/*
 * Writes our pid to path atomically (a temporary file in the same
 * directory, mode 0644, renamed over path). Returns 0, or -1 with errno
 * set and nothing left behind.
 */
int pidfile_write(const char *path);

/*
 * Removes path if it still names this process; leaves it alone when it
 * names another (a newer master's). Returns 0 (removed or not ours), or
 * -1 with errno set when unlink() failed.
 */
int pidfile_remove(const char *path);

#endif
