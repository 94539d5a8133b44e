/*
 * admin_page: renders the console from a status snapshot. Every string
 * that comes from the configuration, a certificate or a log line is
 * HTML-escaped on its way out (esc()); the page has no script, so it is
 * readable and usable without JavaScript. Never reads shared memory: the
 * snapshot is the only source, as for /status.
 */
#include "ac_config.h"
#include "admin_page.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "balancer.h"
#include "config.h"
#include "health.h"
#include "parse.h"
#include "status.h"

static const char *const sched_words[] = {
	"round_robin", "weighted_round_robin", "least_connections",
};
static const char *const mtls_words[] = { "off", "optional", "on" };

static const char style[] =
	"body{font:13px/1.4 system-ui,sans-serif;margin:1em 1.5em;color:#222;"
	"background:#fafafa}"
	"h1{font-size:1.4em;margin:0 0 .2em}"
	"h2{font-size:1.15em;margin:1.4em 0 .4em}"
	"h3{font-size:1em;margin:1em 0 .3em}"
	"table{border-collapse:collapse;background:#fff;margin:0 0 .6em}"
	"th,td{border:1px solid #ccc;padding:.15em .4em;text-align:left;"
	"vertical-align:top;white-space:nowrap}"
	"th{background:#eee;font-weight:600}"
	"td.n{text-align:right;font-variant-numeric:tabular-nums}"
	".st{font-weight:700;padding:0 .4em;border-radius:3px;color:#fff}"
	".up{background:#2e7d32}.down{background:#c62828}"
	".draining{background:#b85c00}.disabled{background:#555}"
	".warn{background:#fff3cd}"
	".bad{background:#f8d7da;color:#842029;font-weight:600}"
	".note{color:#555}"
	"form{display:inline;margin:0}";

/* Text for an HTML element or a double-quoted attribute value. */
static void
esc(struct evbuffer *out, const char *s)
{
	const char *run = s;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		const char *rep;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		evbuffer_add(out, run, (size_t)(s - run));
		evbuffer_add(out, rep, strlen(rep));
		run = s + 1;
	}
	evbuffer_add(out, run, (size_t)(s - run));
}

/* "<TAG>text</TAG>" with the text escaped. */
static void
cell(struct evbuffer *out, const char *tag, const char *text)
{
	evbuffer_add_printf(out, "<%s>", tag);
	esc(out, text);
	evbuffer_add_printf(out, "</%s>", tag);
}

static void
num(struct evbuffer *out, unsigned long long n)
{
	evbuffer_add_printf(out, "<td class=\"n\">%llu</td>", n);
}

/* "2026-12-07 01:13:09 UTC", or "never" for 0. */
static const char *
fmt_time(long t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0)
		snprintf(buf, len, "never");
	else if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "%ld", t);
	return buf;
}

/* "3 days", "5 hours", "40 s": the coarsest unit that is at least 1. */
static const char *
fmt_span(long s, char *buf, size_t len)
{
	if (s < 0)
		s = -s;
	if (s >= 2 * 86400)
		snprintf(buf, len, "%ld days", s / 86400);
	else if (s >= 2 * 3600)
		snprintf(buf, len, "%ld hours", s / 3600);
	else if (s >= 120)
		snprintf(buf, len, "%ld min", s / 60);
	else
		snprintf(buf, len, "%ld s", s);
	return buf;
}

static void
header(struct evbuffer *out, const struct status *st,
    const struct admin_page_viewer *v)
{
	char now[64], up[32];

	evbuffer_add_printf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n"
	    "<head>\n<meta charset=\"utf-8\">\n"
	    "<meta http-equiv=\"refresh\" content=\"%d\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">\n<title>mtlslb console</title>\n"
	    "<style>%s</style>\n</head>\n<body>\n<h1>mtlslb console</h1>\n",
	    ADMIN_PAGE_REFRESH_S, style);
	evbuffer_add_printf(out, "<p class=\"note\">mtlslb %s, pid %ld, %u "
	    "workers, up %s. Page made <time id=\"now\">%s</time>; it "
	    "reloads every %d s. You are ", PACKAGE_VERSION, st->pid,
	    st->workers, fmt_span(st->now - st->started, up, sizeof(up)),
	    fmt_time(st->now, now, sizeof(now)), ADMIN_PAGE_REFRESH_S);
	esc(out, v->addr);
	if (v->subject != NULL) {
		evbuffer_add_printf(out, " with the client certificate ");
		esc(out, v->subject);
	}
	evbuffer_add_printf(out, ".</p>\n");
}

static void
generation(struct evbuffer *out, const struct status *st)
{
	const struct status_reloads *r = &st->reloads;
	char t[64];

	evbuffer_add_printf(out, "<h2>Configuration</h2>\n<table "
	    "id=\"generation\">\n<tr><th>file</th>");
	cell(out, "td", st->config_file);
	evbuffer_add_printf(out, "</tr>\n<tr><th>loaded at</th><td>%s</td>"
	    "</tr>\n", fmt_time(st->loaded_at, t, sizeof(t)));
	evbuffer_add_printf(out, "<tr><th>reloads</th><td>%u", r->count);
	if (r->count > 0)
		evbuffer_add_printf(out, " (last %s)", fmt_time(r->last_at, t,
		    sizeof(t)));
	evbuffer_add_printf(out, "</td></tr>\n<tr><th>last reload error</th>");
	if (r->error[0] != '\0') {
		evbuffer_add_printf(out, "<td class=\"bad\">%s: ",
		    fmt_time(r->failed_at, t, sizeof(t)));
		esc(out, r->error);
		evbuffer_add_printf(out, " (the configuration above is still "
		    "in use)</td>");
	} else {
		evbuffer_add_printf(out, "<td>none</td>");
	}
	evbuffer_add_printf(out, "</tr>\n</table>\n");
}

static void
rejections(struct evbuffer *out, const struct status_listener *sl)
{
	static const char *const reasons[] = LISTENER_REASONS;
	bool any = false;
	size_t i;

	evbuffer_add_printf(out, "<td>");
	for (i = 0; i < LISTENER_NREASONS; i++) {
		if (sl->rejections[i] == 0)
			continue;
		evbuffer_add_printf(out, "%s%s %llu", any ? ", " : "",
		    reasons[i], (unsigned long long)sl->rejections[i]);
		any = true;
	}
	evbuffer_add_printf(out, "%s</td>", any ? "" : "none");
}

/* The routes of every listener, as they are tried; nothing without. */
static void
routes(struct evbuffer *out, const struct status *st)
{
	static const char *const certs[] = { "inherit", "required",
	    "optional" };
	size_t i, j, n = 0;

	for (i = 0; i < st->nlisteners; i++)
		n += st->listeners[i].conf->nroutes;
	if (n == 0)
		return;
	evbuffer_add_printf(out, "<h2>Routes</h2>\n<table id=\"routes\">\n"
	    "<tr><th>listener</th><th>route</th><th>host</th>"
	    "<th>path prefix</th><th>server group</th>"
	    "<th>client certificate</th><th>allow rules</th>"
	    "<th>requests</th></tr>\n");
	for (i = 0; i < st->nlisteners; i++) {
		const struct status_listener *sl = &st->listeners[i];
		const struct listener_conf *lc = sl->conf;

		for (j = 0; j < lc->nroutes; j++) {
			const struct route_conf *r = lc->routes[j];

			evbuffer_add_printf(out, "<tr>");
			cell(out, "td", lc->name);
			cell(out, "td", r->name);
			cell(out, "td", r->host != NULL ? r->host : "any");
			cell(out, "td", r->path_prefix != NULL ?
			    r->path_prefix : "any");
			cell(out, "td", r->server_group != NULL ?
			    r->server_group : lc->server_group);
			cell(out, "td", certs[r->client_certificate]);
			evbuffer_add_printf(out, "<td class=\"n\">%zu</td>",
			    r->nallow);
			num(out, sl->route_requests != NULL ?
			    sl->route_requests[j] : 0);
			evbuffer_add_printf(out, "</tr>\n");
		}
	}
	evbuffer_add_printf(out, "</table>\n");
}

static void
listeners(struct evbuffer *out, const struct status *st)
{
	size_t i, j;

	evbuffer_add_printf(out, "<h2>Listeners</h2>\n<table id=\"listeners\">"
	    "\n<tr><th>listener</th><th>binds</th><th>mutual TLS</th>"
	    "<th>open</th><th>connections</th><th>requests</th><th>2xx</th>"
	    "<th>3xx</th><th>4xx</th><th>5xx</th><th>handshakes</th>"
	    "<th>resumed</th><th>failed</th><th>client certificates "
	    "rejected</th></tr>\n");
	for (i = 0; i < st->nlisteners; i++) {
		const struct status_listener *sl = &st->listeners[i];
		const struct listener_conf *lc = sl->conf;

		evbuffer_add_printf(out, "<tr id=\"listener-");
		esc(out, lc->name);
		evbuffer_add_printf(out, "\">");
		cell(out, "td", lc->name);
		evbuffer_add_printf(out, "<td>");
		for (j = 0; j < lc->nbinds; j++) {
			if (j > 0)
				evbuffer_add_printf(out, "<br>");
			esc(out, lc->binds[j].text);
		}
		evbuffer_add_printf(out, "</td><td>%s</td>",
		    mtls_words[lc->mutual_authentication]);
		evbuffer_add_printf(out, "<td class=\"n\">%lld</td>",
		    (long long)sl->active);
		num(out, sl->connections);
		num(out, sl->requests);
		for (j = 2; j <= 5; j++)
			num(out, sl->by_class[j]);
		num(out, sl->handshakes);
		num(out, sl->resumed);
		num(out, sl->handshake_failures);
		rejections(out, sl);
		evbuffer_add_printf(out, "</tr>\n");
	}
	evbuffer_add_printf(out, "</table>\n");
	routes(out, st);
}

/* One row of the certificate table; nothing when the file is unset. */
static void
expiry_row(struct evbuffer *out, const struct status *st, const char *lname,
    const char *what, const struct config_file *f, const char *subject,
    long t)
{
	long left = t - st->now;
	const char *cls = "";
	char when[64], span[32];

	if (f->path == NULL)
		return;
	if (t != 0 && left <= 0)
		cls = " class=\"bad\"";
	else if (t != 0 && left <= (long)st->expiry_warning_s)
		cls = " class=\"warn\"";
	evbuffer_add_printf(out, "<tr>");
	cell(out, "td", lname);
	evbuffer_add_printf(out, "<td>%s", what);
	if (subject != NULL && subject[0] != '\0') {
		evbuffer_add_printf(out, "<br><span class=\"note\">");
		esc(out, subject);
		evbuffer_add_printf(out, "</span>");
	}
	evbuffer_add_printf(out, "</td>");
	cell(out, "td", f->path);
	if (t == 0) {
		evbuffer_add_printf(out, "<td>unknown</td></tr>\n");
		return;
	}
	evbuffer_add_printf(out, "<td%s>%s (%s %s%s)</td></tr>\n", cls,
	    fmt_time(t, when, sizeof(when)), left > 0 ? "in" : "expired",
	    fmt_span(left, span, sizeof(span)), left > 0 ? "" : " ago");
}

static void
certificates(struct evbuffer *out, const struct status *st)
{
	char win[32];
	size_t i, pos;

	evbuffer_add_printf(out, "<h3>Certificates</h3>\n<p class=\"note\">"
	    "Highlighted: expires within expiry_warning (%s) or has "
	    "expired.</p>\n<table id=\"certificates\">\n<tr><th>listener</th>"
	    "<th>file</th><th>path</th><th>expires (CRL: next update)</th>"
	    "</tr>\n", st->expiry_warning_s > 0 ? parse_fmt_duration(
	    (uint64_t)st->expiry_warning_s * 1000, win, sizeof(win)) : "off");
	for (i = 0; i < st->nlisteners; i++) {
		const struct status_listener *sl = &st->listeners[i];
		const struct tls_expiry *e = &sl->expiry;
		struct config_file f;

		for (pos = 0; config_listener_file_next(sl->conf, &pos, &f);) {
			switch (f.kind) {
			case CONFIG_FILE_CERT:
				expiry_row(out, st, sl->conf->name,
				    "server certificate", &f,
				    e->server_subject, e->server);
				break;
			case CONFIG_FILE_CA:
				expiry_row(out, st, sl->conf->name,
				    "CA certificate (earliest)", &f, NULL,
				    e->ca);
				break;
			case CONFIG_FILE_CRL:
				expiry_row(out, st, sl->conf->name, "CRL", &f,
				    NULL, e->crl);
				break;
			case CONFIG_FILE_KEY:
			case CONFIG_FILE_TICKET_KEYS:
				break;
			}
		}
	}
	evbuffer_add_printf(out, "</table>\n");
}

/* The state cell: UP or DOWN, or the administrative state over it. */
static void
state_cell(struct evbuffer *out, const struct status_server *ss)
{
	const char *health = ss->up ? "UP" : "DOWN";

	switch (ss->admin) {
	case BAL_DRAINING:
		evbuffer_add_printf(out, "<td><span class=\"st draining\">"
		    "DRAINING</span> <span class=\"note\">health %s</span>"
		    "</td>", health);
		break;
	case BAL_DISABLED:
		evbuffer_add_printf(out, "<td><span class=\"st disabled\">"
		    "DISABLED</span> <span class=\"note\">health %s</span>"
		    "</td>", health);
		break;
	case BAL_ACTIVE:
		evbuffer_add_printf(out, "<td><span class=\"st %s\">%s</span>"
		    "</td>", ss->up ? "up" : "down", health);
		break;
	}
}

static void
probe_cell(struct evbuffer *out, const struct status *st,
    const struct status_server *ss)
{
	char span[32], why[200];

	if (!ss->probed) {
		evbuffer_add_printf(out, "<td class=\"note\">%s</td>",
		    ss->s->group->health_check ? "none yet" : "checks off");
		return;
	}
	evbuffer_add_printf(out, "<td%s>", ss->last_error == HE_OK ? "" :
	    " class=\"bad\"");
	esc(out, health_result_str(ss->last_error, ss->last_detail, why,
	    sizeof(why)));
	if (ss->last_status > 0)
		evbuffer_add_printf(out, ", HTTP %d", ss->last_status);
	evbuffer_add_printf(out, ", %.1f ms, %s ago</td>",
	    ss->last_latency_ms, fmt_span(st->now - ss->last_check, span,
	    sizeof(span)));
}

static void
latency(struct evbuffer *out, const struct status_latency *l, bool last)
{
	if (l->none)
		evbuffer_add_printf(out, "-");
	else
		evbuffer_add_printf(out, "%s%.*f ms", l->over ? "&gt;" : "",
		    l->ms < 10 ? 1 : 0, l->ms);
	if (!last)
		evbuffer_add_printf(out, " / ");
}

/* A form that POSTs verb for the server: a button, no script. */
static void
action(struct evbuffer *out, const char *group, const char *server,
    const char *verb)
{
	evbuffer_add_printf(out, "<form method=\"post\" action=\"/servers/");
	esc(out, group);
	evbuffer_add_printf(out, "/");
	esc(out, server);
	evbuffer_add_printf(out, "/%s\"><button type=\"submit\">%s</button>"
	    "</form> ", verb, verb);
}

static void
server_row(struct evbuffer *out, const struct status *st,
    const struct status_group *sg, const struct status_server *ss,
    bool controls)
{
	const struct server_conf *sc = ss->s->conf;

	evbuffer_add_printf(out, "<tr id=\"server-");
	esc(out, sg->conf->name);
	evbuffer_add_printf(out, "-");
	esc(out, sc->name);
	evbuffer_add_printf(out, "\">");
	cell(out, "td", sc->name);
	cell(out, "td", sc->addr.text);
	state_cell(out, ss);
	num(out, sc->weight);
	num(out, ss->active);
	num(out, ss->requests);
	num(out, ss->responses_5xx);
	num(out, ss->failures);
	probe_cell(out, st, ss);
	evbuffer_add_printf(out, "<td>");
	latency(out, &ss->p50, false);
	latency(out, &ss->p90, false);
	latency(out, &ss->p99, true);
	evbuffer_add_printf(out, "</td>");
	if (controls) {
		evbuffer_add_printf(out, "<td>");
		if (ss->admin != BAL_ACTIVE)
			action(out, sg->conf->name, sc->name, "enable");
		if (ss->admin != BAL_DRAINING)
			action(out, sg->conf->name, sc->name, "drain");
		if (ss->admin != BAL_DISABLED)
			action(out, sg->conf->name, sc->name, "disable");
		evbuffer_add_printf(out, "</td>");
	}
	evbuffer_add_printf(out, "</tr>\n");
}

static void
groups(struct evbuffer *out, const struct status *st,
    const struct admin_page_viewer *v)
{
	bool controls = v->post_refusal == NULL;
	size_t i, j;

	evbuffer_add_printf(out, "<h2>Server groups</h2>\n<p class=\"note\" "
	    "id=\"controls\">");
	if (controls) {
		evbuffer_add_printf(out, "drain: no new requests, those in "
		    "flight finish; disable: the same, and idle connections "
		    "are closed; enable: back in rotation. Health checks go on "
		    "either way; a reload keeps the state.");
	} else {
		evbuffer_add_printf(out, "Server controls are not shown: ");
		esc(out, v->post_refusal);
		evbuffer_add_printf(out, ".");
	}
	evbuffer_add_printf(out, "</p>\n");
	for (i = 0; i < st->ngroups; i++) {
		const struct status_group *sg = &st->groups[i];
		const struct group_conf *gc = sg->conf;
		char iv[32];

		evbuffer_add_printf(out, "<h3 id=\"group-");
		esc(out, gc->name);
		evbuffer_add_printf(out, "\">");
		esc(out, gc->name);
		evbuffer_add_printf(out, " <span class=\"note\">%s, health "
		    "checks %s%s</span></h3>\n", sched_words[gc->scheduler],
		    gc->health_check ? "every " : "off",
		    gc->health_check ? parse_fmt_duration(
		    gc->health_check_interval_ms, iv, sizeof(iv)) : "");
		evbuffer_add_printf(out, "<table class=\"servers\">\n<tr>"
		    "<th>server</th><th>address</th><th>state</th>"
		    "<th>weight</th><th>in flight</th><th>requests</th>"
		    "<th>5xx</th><th>failures</th><th>last health check</th>"
		    "<th>latency p50 / p90 / p99</th>%s</tr>\n", controls ?
		    "<th>actions</th>" : "");
		for (j = 0; j < sg->nservers; j++)
			server_row(out, st, sg, &sg->servers[j], controls);
		evbuffer_add_printf(out, "</table>\n");
	}
}

void
admin_page_render(struct evbuffer *out, const struct status *st,
    const struct admin_page_viewer *v)
{
	header(out, st, v);
	groups(out, st, v);
	listeners(out, st);
	certificates(out, st);
	generation(out, st);
	evbuffer_add_printf(out, "<p class=\"note\">Also: <a href=\"/status\">"
	    "/status</a> (JSON), <a href=\"/metrics\">/metrics</a> "
	    "(Prometheus).</p>\n</body>\n</html>\n");
}
