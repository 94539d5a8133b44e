/*
 * pidfile: reading, writing and removing the master's pid file, and
 * telling whether the process it names is a running mtlslb master. Never
 * signals anyone and never prints: main.c decides and says what happened.
 */
#include "ac_config.h"
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
pidfile_parse(const char *buf, size_t len, pid_t *pid)
{
	unsigned long long n = 0;
	size_t i;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		n = n * 10 + (unsigned long long)(buf[i] - '0');
	}
	/* pid_t is int on Linux; kill(0) and kill(-1) mean groups */
	if (n == 0 || n > INT_MAX)
		return -1;
	*pid = (pid_t)n;
	return 0;
}

int
pidfile_parse_stat(const char *buf, char *comm, size_t commlen,
    char *state)
{
	const char *open, *close;
	size_t n;

	/* the name may hold ")": it ends at the last one */
	if ((open = strchr(buf, '(')) == NULL ||
	    (close = strrchr(buf, ')')) == NULL || close < open ||
	    close[1] != ' ' || close[2] == '\0' || commlen == 0)
		return -1;
	n = (size_t)(close - open - 1);
	if (n >= commlen)
		n = commlen - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	*state = close[2];
	return 0;
}

bool
pidfile_is_master_name(const char *comm)
{
	return strcmp(comm, "mtlslb") == 0;
}

char *
pidfile_default(bool for_signal)
{
	const char *dir = getenv("RUNTIME_DIRECTORY");
	size_t n;
	char *p;

	if (dir != NULL && *dir == '/') {
		/* several RuntimeDirectory= entries are joined with ':' */
		n = strcspn(dir, ":");
		p = xmalloc(n + sizeof("/mtlslb.pid"));
		memcpy(p, dir, n);
		memcpy(p + n, "/mtlslb.pid", sizeof("/mtlslb.pid"));
		return p;
	}
	return for_signal ? xstrdup(PIDFILE_SERVICE_PATH) : NULL;
}

/* Reads at most len - 1 bytes of path into buf, NUL-terminated. */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, buf, len - 1);
	while (n == -1 && errno == EINTR);
	e = errno;
	close(fd);
	errno = e;
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Looks at the process pi->pid: dead, a master, or something else. */
static void
probe(struct pidfile_info *pi)
{
	char path[64], buf[512], state;
	ssize_t n;
	int rc = 0;

	/* our own pid: whoever wrote the file is gone, we got its pid */
	if (pi->pid == getpid() ||
	    ((rc = kill(pi->pid, 0)) == -1 && errno == ESRCH)) {
		pi->state = PIDFILE_DEAD;
		return;
	}
	/* alive (or EPERM: someone else's); /proc says who */
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pi->pid);
	if ((n = read_small(path, buf, sizeof(buf))) == -1 &&
	    errno == ENOENT && rc == 0) {
		/*
		 * Gone since kill(). Not after EPERM: /proc mounted with
		 * hidepid= hides other users' processes, and that one lives.
		 */
		pi->state = PIDFILE_DEAD;
		return;
	}
	if (n <= 0 || pidfile_parse_stat(buf, pi->comm, sizeof(pi->comm),
	    &state) == -1) {
		pi->comm[0] = '\0';
		pi->state = PIDFILE_MASTER;
		return;
	}
	if (state == 'Z' || state == 'X')
		pi->state = PIDFILE_DEAD;
	else if (pidfile_is_master_name(pi->comm))
		pi->state = PIDFILE_MASTER;
	else
		pi->state = PIDFILE_OTHER;
}

void
pidfile_inspect(const char *path, struct pidfile_info *pi)
{
	char buf[64];
	ssize_t n;
	size_t i, j;

	memset(pi, 0, sizeof(*pi));
	if ((n = read_small(path, buf, sizeof(buf))) == -1) {
		pi->err = errno;
		pi->state = errno == ENOENT ? PIDFILE_NONE : PIDFILE_ERROR;
		return;
	}
	if (pidfile_parse(buf, (size_t)n, &pi->pid) == -1) {
		if (n > 0 && buf[n - 1] == '\n')
			n--;
		for (i = j = 0; i < (size_t)n && j < sizeof(pi->text) - 1;
		    i++, j++)
			pi->text[j] = buf[i] >= ' ' && buf[i] < 0x7f ?
			    buf[i] : '?';
		pi->text[j] = '\0';
		pi->pid = 0;
		pi->state = PIDFILE_INVALID;
		return;
	}
	probe(pi);
}

int
pidfile_write(const char *path)
{
	char *tmp, line[32];
	size_t plen = strlen(path);
	int fd, n, e;

	tmp = xmalloc(plen + sizeof(".XXXXXX"));
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		e = errno;
		free(tmp);
		errno = e;
		return -1;
	}
	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	errno = 0;
	/* mkostemp() makes it 0600; the pid is no secret */
	if (fchmod(fd, 0644) == -1 || write(fd, line, (size_t)n) != n) {
		e = errno != 0 ? errno : EIO;	/* EIO: a short write */
		close(fd);
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		e = errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	errno = e;
	return -1;
}

int
pidfile_remove(const char *path)
{
	char buf[64];
	ssize_t n;
	pid_t pid;

	if ((n = read_small(path, buf, sizeof(buf))) == -1)
		return errno == ENOENT ? 0 : -1;
	if (pidfile_parse(buf, (size_t)n, &pid) == -1 || pid != getpid())
		return 0;
	return unlink(path) == -1 && errno != ENOENT ? -1 : 0;
}
