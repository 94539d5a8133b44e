/*
 * log: error and access log targets. Lines are formatted into a stack
 * buffer and written with one write(2) so lines from several workers never
 * interleave (O_APPEND). A write that fails (EAGAIN, ENOSPC) drops the
 * line: logging must never block the event loop or kill the daemon.
 */
#include "ac_config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

enum target_kind { TK_STDERR, TK_SYSLOG, TK_FILE, TK_OFF };

struct log_target {
	enum target_kind kind;
	int fd;
	char path[4096];
};

/* Process-wide by nature: every module logs, and workers inherit it. */
static struct {
	struct log_target err;
	struct log_target acc;
	enum log_level level;
	bool json;
	bool journal;		/* stderr goes to journald: no timestamps */
	char role[32];
} L = {
	.err = { TK_STDERR, STDERR_FILENO, "" },
	.acc = { TK_OFF, -1, "" },
	.level = LL_INFO,
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

static int
target_open(struct log_target *t, const char *spec, bool allow_syslog)
{
	int fd;

	if (strcmp(spec, "stderr") == 0) {
		t->kind = TK_STDERR;
		t->fd = STDERR_FILENO;
		return 0;
	}
	if (strcmp(spec, "off") == 0 && !allow_syslog) {
		t->kind = TK_OFF;
		t->fd = -1;
		return 0;
	}
	if (strcmp(spec, "syslog") == 0 && allow_syslog) {
		t->kind = TK_SYSLOG;
		t->fd = -1;
		openlog("mtlslb", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		return 0;
	}
	fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
	    0640);
	if (fd == -1) {
		fprintf(stderr, "mtlslb: cannot open log file '%s': %s\n", spec,
		    strerror(errno));
		return -1;
	}
	t->kind = TK_FILE;
	t->fd = fd;
	snprintf(t->path, sizeof(t->path), "%s", spec);
	return 0;
}

int
log_open(const char *target, const char *access, enum log_level level,
    bool access_json)
{
	struct log_target e = { TK_STDERR, STDERR_FILENO, "" };
	struct log_target a = { TK_OFF, -1, "" };

	if (target_open(&e, target, true) == -1)
		return -1;
	if (target_open(&a, access, false) == -1) {
		if (e.kind == TK_FILE)
			close(e.fd);
		return -1;
	}
	log_close();
	L.err = e;
	L.acc = a;
	L.level = level;
	L.json = access_json;
	L.journal = getenv("JOURNAL_STREAM") != NULL;
	return 0;
}

static int
target_reopen(struct log_target *t)
{
	int fd;

	if (t->kind != TK_FILE)
		return 0;
	fd = open(t->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NONBLOCK, 0640);
	if (fd == -1) {
		log_msg(LL_ERROR, "cannot reopen log file '%s': %s", t->path,
		    strerror(errno));
		return -1;
	}
	/* dup2 keeps the descriptor number, so nothing else must change. */
	if (dup2(fd, t->fd) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int
log_reopen(void)
{
	int rc = 0;

	if (target_reopen(&L.err) == -1)
		rc = -1;
	if (L.acc.kind == TK_FILE && L.err.kind == TK_FILE &&
	    strcmp(L.acc.path, L.err.path) == 0)
		return rc;
	if (target_reopen(&L.acc) == -1)
		rc = -1;
	return rc;
}

void
log_close(void)
{
	if (L.err.kind == TK_FILE)
		close(L.err.fd);
	if (L.err.kind == TK_SYSLOG)
		closelog();
	if (L.acc.kind == TK_FILE)
		close(L.acc.fd);
	L.err = (struct log_target){ TK_STDERR, STDERR_FILENO, "" };
	L.acc = (struct log_target){ TK_OFF, -1, "" };
}

void
log_set_role(const char *role)
{
	snprintf(L.role, sizeof(L.role), "%s", role);
}

bool
log_enabled(enum log_level level)
{
	return level <= L.level;
}

static void
write_line(int fd, const char *buf, size_t len)
{
	ssize_t n;

	/* One attempt, no retry loop: a full disk or pipe drops the line. */
	do
		n = write(fd, buf, len);
	while (n == -1 && errno == EINTR);
}

static void __attribute__((format(printf, 3, 0)))
vlog(enum log_level level, bool ssl, const char *fmt, va_list ap)
{
	char buf[8192];
	size_t off = 0;
	int n;
	unsigned long e;

	if (L.err.kind != TK_SYSLOG && !(L.err.kind == TK_STDERR &&
	    L.journal)) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		off = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(buf + off, sizeof(buf) - off, ".%03ld ",
		    ts.tv_nsec / 1000000);
		off += (size_t)n;
	}
	n = snprintf(buf + off, sizeof(buf) - off, "[%s] %s%s",
	    level_names[level], L.role, L.role[0] ? ": " : "");
	off += (size_t)n;
	n = vsnprintf(buf + off, sizeof(buf) - off, fmt, ap);
	if (n > 0)
		off += (size_t)n < sizeof(buf) - off ? (size_t)n :
		    sizeof(buf) - off - 1;
	if (ssl) {
		const char *sep = ": ";

		if ((e = ERR_peek_error()) == 0) {
			n = snprintf(buf + off, sizeof(buf) - off,
			    ": (no OpenSSL error)");
			off += n > 0 && (size_t)n < sizeof(buf) - off ?
			    (size_t)n : 0;
		}
		while ((e = ERR_get_error()) != 0) {
			const char *r = ERR_reason_error_string(e);
			char tmp[256];

			if (r == NULL) {
				ERR_error_string_n(e, tmp, sizeof(tmp));
				r = tmp;
			}
			n = snprintf(buf + off, sizeof(buf) - off, "%s%s", sep,
			    r);
			if (n < 0 || (size_t)n >= sizeof(buf) - off)
				break;
			off += (size_t)n;
			sep = "; ";
		}
		ERR_clear_error();
	}
	if (off > sizeof(buf) - 2)
		off = sizeof(buf) - 2;
	if (L.err.kind == TK_SYSLOG) {
		buf[off] = '\0';
		syslog(syslog_prio[level], "%s", buf);
		return;
	}
	buf[off++] = '\n';
	write_line(L.err.fd, buf, off);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > L.level)
		return;
	va_start(ap, fmt);
	vlog(level, false, fmt, ap);
	va_end(ap);
}

void
log_ssl(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > L.level) {
		ERR_clear_error();
		return;
	}
	va_start(ap, fmt);
	vlog(level, true, fmt, ap);
	va_end(ap);
}

bool
log_access_enabled(void)
{
	return L.acc.kind != TK_OFF;
}

bool
log_access_json(void)
{
	return L.json;
}

void
log_access(const char *buf, size_t len)
{
	if (L.acc.kind == TK_OFF)
		return;
	write_line(L.acc.fd, buf, len);
}
