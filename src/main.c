/*
 * main: command line and start-up order: config and TLS checks, logs,
 * bind, then hand over to the master, which forks the workers. Exit
 * status: 0 ok, 1 invalid configuration or start-up failure, 2 usage.
 */
#include "ac_config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "config.h"
#include "diag.h"
#include "log.h"
#include "master.h"
#include "runtime.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: mtlslb [-t] [-c FILE]\n"
	    "       mtlslb -V | -h\n"
	    "\n"
	    "  -c FILE  configuration file (default %s/mtlslb/mtlslb.ini)\n"
	    "  -t       check the configuration and its certificates, then exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n"
	    "\n"
	    "Runs in the foreground; signals: HUP reload, TERM/INT graceful "
	    "stop,\nUSR1 reopen logs. See mtlslb(8) and mtlslb.ini(5).\n",
	    SYSCONFDIR);
}

int
main(int argc, char **argv)
{
	static char abspath[PATH_MAX];	/* the master keeps it */
	const char *path = SYSCONFDIR "/mtlslb/mtlslb.ini";
	struct config *cfg;
	struct runtime *rt;
	struct diag *d;
	bool test = false;
	int ch;

	while ((ch = getopt(argc, argv, "c:tVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("mtlslb %s (%s, libevent %s)\n", PACKAGE_VERSION,
			    OpenSSL_version(OPENSSL_VERSION),
			    event_get_version());
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "mtlslb: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}

	/*
	 * A reload reads the file again by name: a relative -c must not
	 * depend on the working directory (or its parents) staying there.
	 */
	if (util_abs_path(path, abspath, sizeof(abspath)) < 0) {
		fprintf(stderr, "mtlslb: %s: cannot open: %s\n", path,
		    strerror(errno));
		return 1;
	}
	/* messages name the file as it was given */
	d = diag_new(path);
	rt = runtime_load(abspath, d);
	diag_print(d, stderr);
	diag_free(d);
	if (rt == NULL)
		return 1;
	if (test) {
		fprintf(stderr, "mtlslb: %s: configuration is valid\n", path);
		runtime_free(rt);
		return 0;
	}
	cfg = rt->cfg;
	if (log_open(cfg->error_log, cfg->access_log,
	    (enum log_level)cfg->log_level, cfg->access_log_json) == -1) {
		runtime_free(rt);
		return 1;
	}
	if (runtime_bind(rt) == -1) {
		runtime_free(rt);
		return 1;
	}
	return master_run(abspath, rt);
}
