/*
 * listener: binding. Runs in the master before workers exist, so a port
 * that cannot be bound stops start-up with a message instead of leaving
 * workers half up.
 */
#include "ac_config.h"
#include "listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int
listener_bind(const struct addr_conf *a, const char *name)
{
	int fd, one = 1;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_msg(LL_ERROR, "listener %s: %s: socket: %s", name, a->text,
		    strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1) {
		log_msg(LL_ERROR, "listener %s: cannot bind %s: %s%s", name,
		    a->text, strerror(errno), errno == EACCES ?
		    " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" :
		    "");
		close(fd);
		return -1;
	}
	if (listen(fd, 511) == -1) {
		log_msg(LL_ERROR, "listener %s: cannot listen on %s: %s", name,
		    a->text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

unsigned
listener_reason_index(const char *reason)
{
	static const char *const names[] = LISTENER_REASONS;
	unsigned i;

	for (i = 0; i < LISTENER_NREASONS; i++)
		if (strcmp(names[i], reason) == 0)
			return i;
	return LISTENER_NREASONS - 1;
}
