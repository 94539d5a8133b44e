/*
 * log: the error log (stderr, syslog or a file) and the access log
 * (off, stderr or a file). The only module-level state in the daemon: one
 * process-wide log target, set up by the master before forking and
 * inherited by workers. Log writes never block and never abort.
 */
#ifndef MTLSLB_LOG_H
#define MTLSLB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

enum log_level {
	LL_ERROR,
	LL_WARN,
	LL_INFO,
	LL_DEBUG,
};

/*
 * Points the error log at target ("stderr", "syslog" or a path) and the
 * access log at access ("off", "stderr" or a path). Returns 0, or -1 with
 * a message on stderr when a file cannot be opened.
 */
int log_open(const char *target, const char *access, enum log_level level,
    bool access_json);

/*
 * From now on log files this process (re)opens as root are chowned to
 * uid:gid, and so are the open ones: workers that dropped to the service
 * user must be able to reopen them after a rotation.
 */
void log_set_owner(uid_t uid, gid_t gid);

/* Reopens file targets (SIGUSR1, logrotate). Returns 0 or -1. */
int log_reopen(void);

/* Closes every target; logging goes to stderr afterwards. */
void log_close(void);

/* Sets the tag written after the timestamp ("master", "worker 2"). */
void log_set_role(const char *role);

/* True when messages at level would be written. */
bool log_enabled(enum log_level level);

/* Writes one error-log line at level. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Like log_msg, then ": " and the OpenSSL error queue, which it clears. */
void log_ssl(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* True when the access log is on; whether it wants JSON lines. */
bool log_access_enabled(void);
bool log_access_json(void);

/* Writes one complete access-log line (buf ends with '\n'). */
void log_access(const char *buf, size_t len);

/*
 * A repeated event's log line, written at most once per interval, as the
 * kernel's printk_ratelimit does: the first occurrence always gets out,
 * and the next line says how many were left out in between. The caller
 * keeps one per kind of event (zeroed to start).
 */
struct log_limit {
	time_t next;			/* no line before this second */
	unsigned suppressed;		/* occurrences left out since */
};

/*
 * True when a line for l may be written at time now (then *suppressed is
 * how many were left out before it); false counts one more left out.
 */
bool log_limit_pass(struct log_limit *l, time_t now, unsigned interval_s,
    unsigned *suppressed);

/* What one access-log line says, whatever its format (log_access.c). */
struct log_access_entry {
	time_t when;
	const char *client_ip;
	const char *subject;		/* client certificate; NULL: none */
	const char *line;		/* request line */
	const char *referer, *ua;	/* "" when absent */
	int status;
	uint64_t bytes;			/* body bytes sent to the client */
	const char *verify_prefix;	/* "" or "FAILED:" */
	const char *verify;		/* NONE, SUCCESS or the reason */
	const char *server, *upstream;	/* NULL: no server was picked */
	const char *tls, *cipher;
	bool resumed;			/* the TLS session was resumed */
	double rt;			/* request time, seconds */
	double urt;			/* upstream response time; < 0: none */
	const char *proxy;		/* the balancer that sent a PROXY
					   header ("IP:PORT"); NULL: none */
	const char *listener;		/* its [listener] */
	const char *route;		/* its [route]; NULL: none */
	const char *sni;		/* the TLS server name; NULL: none */
};

/*
 * Formats e as one line in the configured format (combined or JSON) and
 * writes it. Every field is escaped: a line is printable ASCII.
 */
void log_access_entry(const struct log_access_entry *e);

#endif
