/*
 * log: error and access log targets. Lines are formatted into a stack
 * buffer and written with one write(2) so lines from several workers never
 * interleave (O_APPEND). A write that fails (EAGAIN, ENOSPC) drops the
 * line: logging must never block the event loop or kill the daemon.
 *
 * What "never block" takes per target: regular files never return EAGAIN
 * (a full disk is ENOSPC, dropped); a pipe on stderr is reopened through
 * /proc/self/fd/2 as our own non-blocking open file description, so the
 * shared one (a shell's, a supervisor's) keeps its flags; a socket on
 * stderr (journald's stream) and syslog's datagram socket get
 * MSG_DONTWAIT. Only a terminal is written in blocking mode: it blocks
 * only while someone holds it with ^S.
 */
#include "ac_config.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#define SYSLOG_PATH	"/dev/log"

enum target_kind { TK_STDERR, TK_SYSLOG, TK_FILE, TK_OFF };

struct log_target {
	enum target_kind kind;
	int fd;
	bool owned;		/* fd is ours to close (a file, a pipe reopen) */
	bool sock;		/* send(MSG_DONTWAIT) instead of write() */
	char path[4096];
};

/* Process-wide by nature: every module logs, and workers inherit it. */
static struct {
	struct log_target err;
	struct log_target acc;
	enum log_level level;
	bool json;
	bool journal;		/* stderr goes to journald: no timestamps */
	bool chown;		/* give reopened files to uid:gid */
	uid_t uid;
	gid_t gid;
	time_t syslog_retry;	/* next connect attempt to /dev/log */
	char role[32];
} L = {
	.err = { TK_STDERR, STDERR_FILENO, false, false, "" },
	.acc = { TK_OFF, -1, false, false, "" },
	.level = LL_INFO,
};

static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

#define TARGET_INIT(k, fd)	((struct log_target){ (k), (fd), false, \
    false, "" })

/* True when fd 2 is the stream JOURNAL_STREAM ("DEV:INO") names. */
static bool
stderr_is_journal(const struct stat *st)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	return (unsigned long long)st->st_dev == dev &&
	    (unsigned long long)st->st_ino == ino;
}

static void
stderr_open(struct log_target *t)
{
	struct stat st;
	int fd;

	*t = TARGET_INIT(TK_STDERR, STDERR_FILENO);
	if (fstat(STDERR_FILENO, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode)) {
		t->sock = true;
		return;
	}
	if (!S_ISFIFO(st.st_mode))
		return;
	/*
	 * O_NONBLOCK on fd 2 itself would change the open file description
	 * we share with whoever started us. A new open of the same pipe is
	 * ours alone; if /proc is missing we stay blocking.
	 */
	fd = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd != -1) {
		t->fd = fd;
		t->owned = true;
	}
}

static void
syslog_connect(struct log_target *t)
{
	struct sockaddr_un sun;
	time_t now = time(NULL);

	if (t->fd != -1 || now < L.syslog_retry)
		return;
	L.syslog_retry = now + 1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", SYSLOG_PATH);
	t->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (t->fd == -1)
		return;
	if (connect(t->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		close(t->fd);
		t->fd = -1;
	}
}

static int
target_open(struct log_target *t, const char *spec, bool allow_syslog)
{
	int fd;

	if (strcmp(spec, "stderr") == 0) {
		stderr_open(t);
		return 0;
	}
	if (strcmp(spec, "off") == 0 && !allow_syslog) {
		*t = TARGET_INIT(TK_OFF, -1);
		return 0;
	}
	if (strcmp(spec, "syslog") == 0 && allow_syslog) {
		*t = TARGET_INIT(TK_SYSLOG, -1);
		t->owned = true;
		t->sock = true;
		L.syslog_retry = 0;
		syslog_connect(t);
		if (t->fd == -1)
			fprintf(stderr, "mtlslb: syslog: cannot connect to %s "
			    "(messages are dropped until it can): %s\n",
			    SYSLOG_PATH, strerror(errno));
		return 0;
	}
	fd = open(spec, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK,
	    0640);
	if (fd == -1) {
		fprintf(stderr, "mtlslb: cannot open log file '%s': %s\n", spec,
		    strerror(errno));
		return -1;
	}
	*t = TARGET_INIT(TK_FILE, fd);
	t->owned = true;
	snprintf(t->path, sizeof(t->path), "%s", spec);
	if (L.chown && geteuid() == 0)
		(void)fchown(fd, L.uid, L.gid);
	return 0;
}

static void
target_close(struct log_target *t)
{
	if (t->owned && t->fd != -1)
		close(t->fd);
	t->fd = -1;
	t->owned = false;
}

int
log_open(const char *target, const char *access, enum log_level level,
    bool access_json)
{
	struct log_target e, a;
	struct stat st;

	if (target_open(&e, target, true) == -1)
		return -1;
	if (target_open(&a, access, false) == -1) {
		target_close(&e);
		return -1;
	}
	log_close();
	L.err = e;
	L.acc = a;
	L.level = level;
	L.json = access_json;
	L.journal = fstat(STDERR_FILENO, &st) == 0 && stderr_is_journal(&st);
	return 0;
}

void
log_set_owner(uid_t uid, gid_t gid)
{
	L.chown = true;
	L.uid = uid;
	L.gid = gid;
	if (geteuid() != 0)
		return;
	if (L.err.kind == TK_FILE)
		(void)fchown(L.err.fd, uid, gid);
	if (L.acc.kind == TK_FILE)
		(void)fchown(L.acc.fd, uid, gid);
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
	/* Workers run as the service user and reopen after the master. */
	if (L.chown && geteuid() == 0)
		(void)fchown(fd, L.uid, L.gid);
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
	target_close(&L.err);
	target_close(&L.acc);
	L.err = TARGET_INIT(TK_STDERR, STDERR_FILENO);
	L.acc = TARGET_INIT(TK_OFF, -1);
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

/* One attempt, no retry loop: a full disk, pipe or socket drops the line. */
static void
write_line(const struct log_target *t, const char *buf, size_t len)
{
	ssize_t n;

	do {
		if (t->sock)
			n = send(t->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = write(t->fd, buf, len);
	} while (n == -1 && errno == EINTR);
}

/*
 * RFC 3164 framing, as syslog(3) sends it, but on a non-blocking socket:
 * syslog(3) blocks when the daemon's queue is full. A restarted daemon
 * refuses the old association, so reconnect once and resend.
 */
static void
syslog_send(enum log_level level, const char *msg, size_t len)
{
	char buf[8400];
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	syslog_connect(&L.err);
	if (L.err.fd == -1)
		return;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	n = snprintf(buf, sizeof(buf), "<%d>%s mtlslb[%ld]: %.*s",
	    LOG_DAEMON | syslog_prio[level], stamp, (long)getpid(), (int)len,
	    msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (send(L.err.fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    -1 && (errno == ECONNREFUSED || errno == ENOTCONN ||
	    errno == ECONNRESET)) {
		target_close(&L.err);
		L.err.owned = true;
		L.syslog_retry = 0;
		syslog_connect(&L.err);
		if (L.err.fd != -1)
			(void)send(L.err.fd, buf, (size_t)n,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

static void __attribute__((format(printf, 3, 0)))
vlog(enum log_level level, bool ssl, const char *fmt, va_list ap)
{
	char buf[8192];
	size_t off = 0;
	int n;
	unsigned long e;

	if (L.err.kind == TK_STDERR && L.journal) {
		/* journald reads "<N>" as the priority and strips it. */
		n = snprintf(buf, sizeof(buf), "<%d>", syslog_prio[level]);
		off = (size_t)n;
	} else if (L.err.kind != TK_SYSLOG) {
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
		syslog_send(level, buf, off);
		return;
	}
	buf[off++] = '\n';
	write_line(&L.err, buf, off);
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
	write_line(&L.acc, buf, len);
}

bool
log_limit_pass(struct log_limit *l, time_t now, unsigned interval_s,
    unsigned *suppressed)
{
	if (now < l->next) {
		l->suppressed++;
		return false;
	}
	*suppressed = l->suppressed;
	l->suppressed = 0;
	l->next = now + (time_t)interval_s;
	return true;
}
