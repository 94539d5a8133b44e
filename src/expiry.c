/*
 * expiry: a once-a-day timer in the master's loop that reads the expiry
 * dates tls.c noted while building each listener's SSL_CTX. It never
 * reads the files again: what matters is what the running generation
 * loaded (a renewed file on disk is not in use until a reload).
 */
#include "ac_config.h"
#include "expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "runtime.h"
#include "tls.h"
#include "tls_backend.h"
#include "util.h"

#define DAY	86400L

struct expiry {
	struct event *timer;
	const struct runtime *rt;
};

/* "3 days", "5 hours", "12 minutes": coarse, for a log line. */
static void
span(char *buf, size_t len, long secs)
{
	if (secs >= 2 * DAY)
		snprintf(buf, len, "%ld days", secs / DAY);
	else if (secs >= 2 * 3600)
		snprintf(buf, len, "%ld hours", secs / 3600);
	else
		snprintf(buf, len, "%ld minutes", secs / 60);
}

/* expiry_format() for a section of kind what ("listener", "server_group"). */
static void
format_as(char *buf, size_t len, const char *what, const char *name,
    const char *kind, const char *file, long t, long now)
{
	char date[64], when[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(date, sizeof(date), "?");
	if (t > now) {
		span(when, sizeof(when), t - now);
		snprintf(buf, len, "%s %s: %s %s expires on %s (in %s)",
		    what, name, kind, file ? file : "-", date, when);
	} else {
		span(when, sizeof(when), now - t);
		snprintf(buf, len, "%s %s: %s %s expired on %s (%s ago)",
		    what, name, kind, file ? file : "-", date, when);
	}
}

void
expiry_format(char *buf, size_t len, const char *listener, const char *kind,
    const char *file, long t, long now)
{
	format_as(buf, len, "listener", listener, kind, file, t, now);
}

static unsigned
warn_one(const struct listener_conf *lc, const char *kind, const char *file,
    long t, long now, long window)
{
	char line[1024];

	if (t == 0 || t - now > window)
		return 0;
	expiry_format(line, sizeof(line), lc->name, kind, file, t, now);
	log_msg(LL_WARN, "%s", line);
	return 1;
}

unsigned
expiry_check(const struct runtime *rt, long now)
{
	long window = (long)rt->cfg->expiry_warning_s;
	struct config_file f;
	unsigned n = 0;
	size_t i, pos;

	if (window == 0)
		return 0;
	for (i = 0; i < rt->nlsns; i++) {
		const struct listener_conf *lc = rt->lsns[i].conf;
		struct tls_expiry e;

		tls_ctx_expiry(rt->lsns[i].ctx, &e);
		for (pos = 0; config_listener_file_next(lc, &pos, &f);) {
			switch (f.kind) {
			case CONFIG_FILE_CERT:
				n += warn_one(lc, "server certificate", f.path,
				    e.server, now, window);
				break;
			case CONFIG_FILE_CA:
				n += warn_one(lc, "CA certificate", f.path,
				    e.ca, now, window);
				break;
			case CONFIG_FILE_CRL:
				n += warn_one(lc, "CRL", f.path, e.crl, now,
				    window);
				break;
			case CONFIG_FILE_KEY:
			case CONFIG_FILE_TICKET_KEYS:
				break;		/* a key does not expire */
			}
		}
	}
	/* backend_certificate: mTLS to the servers stops when it expires */
	for (i = 0; rt->gctxs != NULL && i < rt->cfg->ngroups; i++) {
		const struct group_conf *gc = &rt->cfg->groups[i];
		long t = tls_backend_cert_not_after(rt->gctxs[i]);
		char line[1024];

		if (t == 0 || t - now > window)
			continue;
		format_as(line, sizeof(line), "server_group", gc->name,
		    "backend certificate", gc->backend_certificate, t, now);
		log_msg(LL_WARN, "%s", line);
		n++;
	}
	return n;
}

static void
expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct expiry *e = arg;

	expiry_check(e->rt, (long)time(NULL));
}

struct expiry *
expiry_start(struct event_base *base, const struct runtime *rt)
{
	struct expiry *e;
	struct timeval tv = { DAY, 0 };

	if (rt->cfg->expiry_warning_s == 0)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	e->rt = rt;
	e->timer = event_new(base, -1, EV_PERSIST, expiry_cb, e);
	if (e->timer == NULL || event_add(e->timer, &tv) == -1) {
		log_msg(LL_ERROR, "cannot start the daily certificate expiry "
		    "check");
		expiry_stop(e);
		return NULL;
	}
	expiry_check(rt, (long)time(NULL));
	return e;
}

void
expiry_stop(struct expiry *e)
{
	if (e == NULL)
		return;
	if (e->timer != NULL)
		event_free(e->timer);
	free(e);
}
