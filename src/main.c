/*
 * main: command line and start-up order: config and TLS checks, the pid
 * file check, logs, bind, the pid file, then hand over to the master,
 * which forks the workers; and "-s", which signals a running master.
 * Exit status: 0 ok, 1 invalid configuration, start-up failure or no
 * master to signal, 2 usage.
 */
#include "ac_config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
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
#include "pidfile.h"
#include "proctitle.h"
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
	    "       mtlslb [-c FILE] -s reload | stop | reopen\n"
	    "       mtlslb -V | -h\n"
	    "\n"
	    "  -c FILE  configuration file (default %s/mtlslb/mtlslb.ini)\n"
	    "  -t       check the configuration and its certificates, then exit\n"
	    "  -s WHAT  signal the running master named by FILE's pid_file:\n"
	    "           reload (HUP), stop (TERM), reopen the logs (USR1)\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n"
	    "\n"
	    "Runs in the foreground; signals: HUP reload, TERM/INT graceful "
	    "stop,\nUSR1 reopen logs. See mtlslb(8) and mtlslb.ini(5).\n",
	    SYSCONFDIR);
}

static const struct {
	const char *name;
	int sig;
	const char *signame;
} actions[] = {
	{ "reload", SIGHUP, "SIGHUP" },
	{ "stop", SIGTERM, "SIGTERM" },
	{ "reopen", SIGUSR1, "SIGUSR1" },
};

/*
 * -s: sends the action's signal to the master that the pid file of the
 * configuration at path names. Reads the file, not what it names, so
 * that "-s stop" works while a certificate is missing. Returns the exit
 * status.
 */
static int
signal_master(const char *path, size_t action)
{
	struct pidfile_info pi;
	struct config *cfg;
	struct diag *d;
	char *pid_path;
	bool set;

	d = diag_new(path);
	if ((cfg = config_read(path, d)) == NULL) {
		diag_print(d, stderr);
		diag_free(d);
		return 1;
	}
	diag_free(d);
	set = cfg->pid_file != NULL;
	pid_path = set ? xstrdup(cfg->pid_file) : pidfile_default(true);
	config_free(cfg);
	pidfile_inspect(pid_path, &pi);
	switch (pi.state) {
	case PIDFILE_NONE:
	case PIDFILE_ERROR:
		fprintf(stderr, "mtlslb: cannot read pid file %s: %s; is "
		    "mtlslb running?%s%s%s\n", pid_path, strerror(pi.err),
		    set ? "" : " (set pid_file in ", set ? "" : path,
		    set ? "" : ")");
		break;
	case PIDFILE_INVALID:
		fprintf(stderr, "mtlslb: pid file %s holds no process ID "
		    "('%s')\n", pid_path, pi.text);
		break;
	case PIDFILE_DEAD:
		fprintf(stderr, "mtlslb: pid file %s names pid %ld, which is "
		    "not running; is mtlslb running?\n", pid_path,
		    (long)pi.pid);
		break;
	case PIDFILE_OTHER:
		fprintf(stderr, "mtlslb: pid file %s names pid %ld, which is "
		    "'%s', not an mtlslb master: a stale pid file?\n",
		    pid_path, (long)pi.pid, pi.comm);
		break;
	case PIDFILE_MASTER:
		if (kill(pi.pid, actions[action].sig) == 0) {
			free(pid_path);
			return 0;
		}
		fprintf(stderr, "mtlslb: cannot send %s to pid %ld (pid file "
		    "%s): %s\n", actions[action].signame, (long)pi.pid,
		    pid_path, strerror(errno));
		break;
	}
	free(pid_path);
	return 1;
}

/*
 * Before binding: a pid file that names a running master stops the
 * start (two masters, one pid file). Any other pid file is stale and
 * will be replaced; *stale says why, for the log. Returns 0 or -1.
 */
static int
pidfile_check(const char *pid_path, char *stale, size_t len)
{
	struct pidfile_info pi;

	*stale = '\0';
	pidfile_inspect(pid_path, &pi);
	switch (pi.state) {
	case PIDFILE_NONE:
		break;
	case PIDFILE_ERROR:
		fprintf(stderr, "mtlslb: cannot read pid file %s: %s\n",
		    pid_path, strerror(pi.err));
		return -1;
	case PIDFILE_MASTER:
		fprintf(stderr, "mtlslb: pid file %s names pid %ld, a running "
		    "mtlslb master: not starting a second one (stop it with "
		    "-s stop, or set another pid_file)\n", pid_path,
		    (long)pi.pid);
		return -1;
	case PIDFILE_INVALID:
		snprintf(stale, len, "pid file %s held no process ID ('%s'); "
		    "replacing it", pid_path, pi.text);
		break;
	case PIDFILE_DEAD:
		snprintf(stale, len, "pid file %s named pid %ld, which is not "
		    "running; replacing it", pid_path, (long)pi.pid);
		break;
	case PIDFILE_OTHER:
		snprintf(stale, len, "pid file %s named pid %ld, which is "
		    "'%s', not an mtlslb master; replacing it", pid_path,
		    (long)pi.pid, pi.comm);
		break;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static char abspath[PATH_MAX];	/* the master keeps it */
	const char *path = SYSCONFDIR "/mtlslb/mtlslb.ini";
	struct config *cfg;
	struct runtime *rt;
	struct diag *d;
	char *pid_path = NULL, stale[512];
	size_t action = sizeof(actions) / sizeof(actions[0]);
	bool test = false;
	int ch, rc;

	proctitle_init(argc, argv);
	while ((ch = getopt(argc, argv, "c:s:tVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 's':
			for (action = 0; action < sizeof(actions) /
			    sizeof(actions[0]); action++)
				if (strcmp(optarg, actions[action].name) == 0)
					break;
			if (action == sizeof(actions) / sizeof(actions[0])) {
				fprintf(stderr, "mtlslb: -s: unknown action "
				    "'%s' (expected reload, stop or reopen)\n",
				    optarg);
				return 2;
			}
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
	if (action < sizeof(actions) / sizeof(actions[0])) {
		if (test) {
			fprintf(stderr, "mtlslb: -s and -t do not go "
			    "together\n");
			usage(stderr);
			return 2;
		}
		return signal_master(path, action);
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
	pid_path = cfg->pid_file != NULL ? xstrdup(cfg->pid_file) :
	    pidfile_default(false);
	if (pid_path != NULL &&
	    pidfile_check(pid_path, stale, sizeof(stale)) == -1) {
		rc = 1;
		goto out;
	}
	if (log_open(cfg->error_log, cfg->access_log,
	    (enum log_level)cfg->log_level, cfg->access_log_json) == -1 ||
	    runtime_bind(rt) == -1) {
		rc = 1;
		goto out;
	}
	if (pid_path != NULL) {
		if (*stale != '\0')
			log_msg(LL_WARN, "%s", stale);
		if (pidfile_write(pid_path) == -1) {
			log_msg(LL_ERROR, "cannot write pid file %s: %s",
			    pid_path, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	rc = master_run(abspath, rt);
	if (pid_path != NULL && pidfile_remove(pid_path) == -1)
		log_msg(LL_ERROR, "cannot remove pid file %s: %s", pid_path,
		    strerror(errno));
	free(pid_path);
	return rc;
out:
	runtime_free(rt);
	free(pid_path);
	return rc;
}
