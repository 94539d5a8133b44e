/*
 * metrics: Prometheus exposition and /status JSON, rendered on demand by
 * the master from shared memory. Never writes the counters it reads.
 */
#include "ac_config.h"
#include "metrics.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "allow.h"
#include "balancer.h"
#include "config.h"
#include "health.h"
#include "listener.h"
#include "runtime.h"
#include "sesscache.h"
#include "status.h"
#include "tls.h"
#include "tls_backend.h"

static const char *const sched_names[] = {
	"round_robin", "weighted_round_robin", "least_connections",
};
static const char *const mtls_names[] = { "off", "optional", "on" };
/* enum balancer_admin, as the state label of mtlslb_server_admin_state */
static const char *const admin_labels[] = { "active", "draining",
	"disabled" };

/*
 * A JSON string body: escape \ " and controls. Prometheus label values
 * need no escaping here: they are listener, group and server names,
 * which parse_name() limits to letters, digits, '-', '_' and '.'.
 */
static void
esc(struct evbuffer *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '\\' || ch == '"')
			evbuffer_add_printf(out, "\\%c", ch);
		else if (ch == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (ch < 0x20)
			evbuffer_add_printf(out, "\\u%04x", ch);
		else
			evbuffer_add(out, s, 1);
	}
}

static void
jstr(struct evbuffer *out, const char *s)
{
	if (s == NULL) {
		evbuffer_add(out, "null", 4);
		return;
	}
	evbuffer_add(out, "\"", 1);
	esc(out, s);
	evbuffer_add(out, "\"", 1);
}

static void
jtime(struct evbuffer *out, long t)
{
	char b[32];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == 0) {
		evbuffer_add(out, "null", 4);
		return;
	}
	gmtime_r(&tt, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jstr(out, b);
}

#define SLOT_OFF(field)	offsetof(struct listener_shared, field)
#define SUM_SLOTS(rt, l, field)	status_sum_slots((rt), (l), SLOT_OFF(field))

static uint64_t
sum_requests(const struct runtime *rt, const struct lsn *l, unsigned cls)
{
	return status_sum_slots(rt, l, offsetof(struct listener_shared, requests) +
	    cls * sizeof(atomic_uint_fast64_t));
}

static uint64_t
sum_rejections(const struct runtime *rt, const struct lsn *l, unsigned r)
{
	return status_sum_slots(rt, l, offsetof(struct listener_shared, rejections) +
	    r * sizeof(atomic_uint_fast64_t));
}

static int64_t
sum_active(const struct runtime *rt, const struct lsn *l)
{
	int64_t s = 0;
	unsigned w;

	for (w = 0; w < rt->nworkers; w++)
		s += atomic_load_explicit(&l->slots[w].active,
		    memory_order_relaxed);
	return s;
}

static void
help(struct evbuffer *out, const char *name, const char *type,
    const char *text)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text,
	    name, type);
}

/* One counter per listener: NAME{listener} SUM over the worker slots. */
static void
listener_metric(struct evbuffer *out, const struct runtime *rt,
    const char *name, const char *text, size_t off)
{
	size_t i;

	help(out, name, "counter", text);
	for (i = 0; i < rt->nlsns; i++)
		evbuffer_add_printf(out, "%s{listener=\"%s\"} %llu\n", name,
		    rt->lsns[i].conf->name,
		    (unsigned long long)status_sum_slots(rt, &rt->lsns[i], off));
}

static uint64_t
server_up(const struct server_shared *sh)
{
	return atomic_load(&sh->up) ? 1 : 0;
}

static uint64_t
server_active(const struct server_shared *sh)
{
	return atomic_load(&sh->active);
}

static uint64_t
server_requests(const struct server_shared *sh)
{
	return atomic_load(&sh->requests);
}

static uint64_t
server_failures(const struct server_shared *sh)
{
	return atomic_load(&sh->failures);
}

static uint64_t
server_5xx(const struct server_shared *sh)
{
	return atomic_load(&sh->responses_5xx);
}

/* One sample per server of every group: NAME{server_group,server} VALUE. */
static void
server_metric(struct evbuffer *out, struct balancer *b, const char *name,
    const char *type, const char *text,
    uint64_t (*value)(const struct server_shared *))
{
	size_t i, j;

	help(out, name, type, text);
	for (i = 0; i < balancer_ngroups(b); i++) {
		struct group *g = balancer_group_at(b, i);

		for (j = 0; j < group_nservers(g); j++) {
			struct server *s = group_server(g, j);

			evbuffer_add_printf(out, "%s{server_group=\"%s\","
			    "server=\"%s\"} %llu\n", name, group_conf(g)->name,
			    s->conf->name, (unsigned long long)value(s->sh));
		}
	}
}

void
metrics_render(struct evbuffer *out, const struct runtime *rt, long started)
{
	static const char *const reasons[] = LISTENER_REASONS;
	static const char *const classes[] = { "other", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	static const unsigned bounds[] = BALANCER_LATENCY_BOUNDS_MS;
	struct balancer *b = rt->bal;
	long now = (long)time(NULL);
	size_t i, j, k;

	help(out, "mtlslb_info", "gauge", "Version of the running mtlslb.");
	evbuffer_add_printf(out, "mtlslb_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	help(out, "mtlslb_start_time_seconds", "gauge",
	    "Unix time the daemon started.");
	evbuffer_add_printf(out, "mtlslb_start_time_seconds %ld\n", started);
	help(out, "mtlslb_config_load_time_seconds", "gauge",
	    "Unix time the running configuration was loaded.");
	evbuffer_add_printf(out, "mtlslb_config_load_time_seconds %ld\n",
	    rt->loaded_at);

	help(out, "mtlslb_requests_total", "counter",
	    "Requests answered, by listener and status class.");
	for (i = 0; i < rt->nlsns; i++)
		for (k = 0; k < 6; k++)
			evbuffer_add_printf(out, "mtlslb_requests_total{"
			    "listener=\"%s\",code=\"%s\"} %llu\n",
			    rt->lsns[i].conf->name, classes[k],
			    (unsigned long long)sum_requests(rt, &rt->lsns[i],
			    (unsigned)k));
	help(out, "mtlslb_route_requests_total", "counter",
	    "Requests that took a [route], by listener and route.");
	for (i = 0; i < rt->nlsns; i++) {
		const struct lsn *l = &rt->lsns[i];

		for (j = 0; j < l->conf->nroutes; j++) {
			uint64_t n = 0;
			unsigned w;

			for (w = 0; w < rt->nworkers; w++)
				n += atomic_load_explicit(
				    &l->routes[j].slots[w].requests,
				    memory_order_relaxed);
			evbuffer_add_printf(out, "mtlslb_route_requests_total{"
			    "listener=\"%s\",route=\"%s\"} %llu\n",
			    l->conf->name, l->routes[j].conf->name,
			    (unsigned long long)n);
		}
	}
	help(out, "mtlslb_tls_handshakes_total", "counter",
	    "Completed TLS handshakes, full or resuming a session.");
	for (i = 0; i < rt->nlsns; i++) {
		const struct lsn *l = &rt->lsns[i];
		uint64_t all = SUM_SLOTS(rt, l, handshakes);
		uint64_t resumed = SUM_SLOTS(rt, l, resumed);

		evbuffer_add_printf(out, "mtlslb_tls_handshakes_total{"
		    "listener=\"%s\",resumed=\"false\"} %llu\n"
		    "mtlslb_tls_handshakes_total{listener=\"%s\","
		    "resumed=\"true\"} %llu\n", l->conf->name,
		    (unsigned long long)(all >= resumed ? all - resumed : 0),
		    l->conf->name, (unsigned long long)resumed);
	}
	help(out, "mtlslb_tls_session_cache_entries", "gauge",
	    "Sessions in the listener's shared cache (session_cache = "
	    "shared; 0 otherwise).");
	for (i = 0; i < rt->nlsns; i++)
		evbuffer_add_printf(out, "mtlslb_tls_session_cache_entries{"
		    "listener=\"%s\"} %u\n", rt->lsns[i].conf->name,
		    rt->lsns[i].scache != NULL ?
		    sesscache_entries(rt->lsns[i].scache) : 0);
	help(out, "mtlslb_tls_session_cache_evictions_total", "counter",
	    "Unexpired sessions the shared cache dropped to make room.");
	for (i = 0; i < rt->nlsns; i++)
		evbuffer_add_printf(out,
		    "mtlslb_tls_session_cache_evictions_total{"
		    "listener=\"%s\"} %llu\n", rt->lsns[i].conf->name,
		    (unsigned long long)(rt->lsns[i].scache != NULL ?
		    sesscache_evictions(rt->lsns[i].scache) : 0));
	listener_metric(out, rt, "mtlslb_tls_handshake_failures_total",
	    "TLS handshakes that failed.", SLOT_OFF(handshake_failures));
	help(out, "mtlslb_client_cert_rejections_total", "counter",
	    "Client certificates rejected, by reason.");
	for (i = 0; i < rt->nlsns; i++)
		for (k = 0; k < LISTENER_NREASONS; k++)
			evbuffer_add_printf(out,
			    "mtlslb_client_cert_rejections_total{"
			    "listener=\"%s\",reason=\"%s\"} %llu\n",
			    rt->lsns[i].conf->name, reasons[k],
			    (unsigned long long)sum_rejections(rt,
			    &rt->lsns[i], (unsigned)k));
	listener_metric(out, rt, "mtlslb_connections_total",
	    "Client connections accepted.", SLOT_OFF(connections));
	listener_metric(out, rt, "mtlslb_connections_overload_closed_total",
	    "Connections closed at once because max_connections was reached.",
	    SLOT_OFF(overload_closed));
	help(out, "mtlslb_active_connections", "gauge",
	    "Open client connections.");
	for (i = 0; i < rt->nlsns; i++)
		evbuffer_add_printf(out, "mtlslb_active_connections{"
		    "listener=\"%s\"} %lld\n", rt->lsns[i].conf->name,
		    (long long)sum_active(rt, &rt->lsns[i]));

	help(out, "mtlslb_certificate_expiry_seconds", "gauge",
	    "Seconds until a listener's server certificate (kind server) "
	    "or earliest CA certificate (ca) expires, or its CRL's "
	    "nextUpdate (crl); or a server_group's backend client "
	    "certificate (backend).");
	for (i = 0; i < rt->nlsns; i++) {
		struct tls_expiry e;

		tls_ctx_expiry(rt->lsns[i].ctx, &e);
		if (e.server != 0)
			evbuffer_add_printf(out,
			    "mtlslb_certificate_expiry_seconds{listener=\"%s\","
			    "kind=\"server\"} %ld\n", rt->lsns[i].conf->name,
			    e.server - now);
		if (e.ca != 0)
			evbuffer_add_printf(out,
			    "mtlslb_certificate_expiry_seconds{listener=\"%s\","
			    "kind=\"ca\"} %ld\n", rt->lsns[i].conf->name,
			    e.ca - now);
		if (e.crl != 0)
			evbuffer_add_printf(out,
			    "mtlslb_certificate_expiry_seconds{listener=\"%s\","
			    "kind=\"crl\"} %ld\n", rt->lsns[i].conf->name,
			    e.crl - now);
	}
	for (i = 0; rt->gctxs != NULL && i < rt->cfg->ngroups; i++) {
		long t = tls_backend_cert_not_after(rt->gctxs[i]);

		if (t != 0)
			evbuffer_add_printf(out,
			    "mtlslb_certificate_expiry_seconds{server_group="
			    "\"%s\",kind=\"backend\"} %ld\n",
			    rt->cfg->groups[i].name, t - now);
	}

	server_metric(out, b, "mtlslb_server_up", "gauge",
	    "1 when the server is healthy (or unchecked), 0 when down.",
	    server_up);
	help(out, "mtlslb_server_admin_state", "gauge",
	    "Administrative state set on the admin endpoint: 1 for the "
	    "server's current state (active, draining, disabled), 0 for the "
	    "others.");
	for (i = 0; i < balancer_ngroups(b); i++) {
		struct group *g = balancer_group_at(b, i);

		for (j = 0; j < group_nservers(g); j++) {
			struct server *s = group_server(g, j);
			enum balancer_admin a = balancer_admin(s);

			for (k = 0; k < 3; k++)
				evbuffer_add_printf(out,
				    "mtlslb_server_admin_state{server_group="
				    "\"%s\",server=\"%s\",state=\"%s\"} %d\n",
				    group_conf(g)->name, s->conf->name,
				    admin_labels[k], (size_t)a == k);
		}
	}
	server_metric(out, b, "mtlslb_backend_active_requests", "gauge",
	    "Requests in flight to the server.", server_active);
	server_metric(out, b, "mtlslb_backend_requests_total", "counter",
	    "Requests sent to the server.", server_requests);
	server_metric(out, b, "mtlslb_backend_failures_total", "counter",
	    "Connect failures, resets and timeouts talking to the server.",
	    server_failures);
	server_metric(out, b, "mtlslb_backend_5xx_responses_total", "counter",
	    "Responses from the server with a 5xx status.", server_5xx);
	help(out, "mtlslb_backend_response_seconds", "histogram",
	    "Time from picking the server to its response head.");
	for (i = 0; i < balancer_ngroups(b); i++) {
		struct group *g = balancer_group_at(b, i);

		for (j = 0; j < group_nservers(g); j++) {
			struct server *s = group_server(g, j);
			uint64_t cum = 0;

			for (k = 0; k < BALANCER_LATENCY_BUCKETS; k++) {
				cum += atomic_load(&s->sh->latency_bucket[k]);
				if (k + 1 < BALANCER_LATENCY_BUCKETS)
					evbuffer_add_printf(out,
					    "mtlslb_backend_response_seconds_"
					    "bucket{server_group=\"%s\","
					    "server=\"%s\",le=\"%g\"} %llu\n",
					    group_conf(g)->name, s->conf->name,
					    bounds[k] / 1000.0,
					    (unsigned long long)cum);
				else
					evbuffer_add_printf(out,
					    "mtlslb_backend_response_seconds_"
					    "bucket{server_group=\"%s\","
					    "server=\"%s\",le=\"+Inf\"} %llu\n",
					    group_conf(g)->name, s->conf->name,
					    (unsigned long long)cum);
			}
			evbuffer_add_printf(out,
			    "mtlslb_backend_response_seconds_sum{"
			    "server_group=\"%s\",server=\"%s\"} %.6f\n"
			    "mtlslb_backend_response_seconds_count{"
			    "server_group=\"%s\",server=\"%s\"} %llu\n",
			    group_conf(g)->name, s->conf->name,
			    atomic_load(&s->sh->latency_sum_us) / 1e6,
			    group_conf(g)->name, s->conf->name,
			    (unsigned long long)cum);
		}
	}
}

/* A latency percentile: milliseconds, or null before any response. */
static void
jlatency(struct evbuffer *out, const char *name,
    const struct status_latency *l)
{
	if (l->none)
		evbuffer_add_printf(out, "\"%s\":null", name);
	else
		evbuffer_add_printf(out, "\"%s\":%.3f", name, l->ms);
}

static void
json_route(struct evbuffer *out, const struct route_conf *r, bool comma,
    uint64_t requests)
{
	static const char *const certs[] = { "inherit", "required",
	    "optional" };
	size_t i;

	evbuffer_add_printf(out, "%s{\"name\":", comma ? "," : "");
	jstr(out, r->name);
	evbuffer_add_printf(out, ",\"host\":");
	jstr(out, r->host);
	evbuffer_add_printf(out, ",\"path_prefix\":");
	jstr(out, r->path_prefix);
	evbuffer_add_printf(out, ",\"server_group\":");
	jstr(out, r->server_group);
	evbuffer_add_printf(out, ",\"client_certificate\":\"%s\","
	    "\"allow\":[", certs[r->client_certificate]);
	for (i = 0; i < r->nallow; i++) {
		evbuffer_add_printf(out, "%s\"%s:", i > 0 ? "," : "",
		    allow_kind_name(r->allow[i].kind));
		esc(out, r->allow[i].pattern);
		evbuffer_add(out, "\"", 1);
	}
	evbuffer_add_printf(out, "],\"requests\":%llu}",
	    (unsigned long long)requests);
}

static void
json_listener(struct evbuffer *out, const struct status_listener *sl)
{
	static const char *const reasons[] = LISTENER_REASONS;
	const struct listener_conf *lc = sl->conf;
	const struct tls_expiry *e = &sl->expiry;
	struct config_file f;
	size_t i, pos;

	evbuffer_add(out, "{\"name\":", 8);
	jstr(out, lc->name);
	evbuffer_add_printf(out, ",\"binds\":[");
	for (i = 0; i < lc->nbinds; i++) {
		if (i)
			evbuffer_add(out, ",", 1);
		jstr(out, lc->binds[i].text);
	}
	evbuffer_add_printf(out, "],\"mutual_authentication\":\"%s\","
	    "\"reject_with\":\"%s\",\"server_group\":",
	    mtls_names[lc->mutual_authentication],
	    lc->reject_tls_alert ? "tls_alert" : "http_400");
	jstr(out, lc->server_group);
	for (pos = 0; config_listener_file_next(lc, &pos, &f);) {
		if (f.kind == CONFIG_FILE_KEY ||
		    f.kind == CONFIG_FILE_TICKET_KEYS)
			continue;	/* where the key is stays private */
		evbuffer_add_printf(out, ",\"%s\":{\"file\":", f.key);
		jstr(out, f.path);
		switch (f.kind) {
		case CONFIG_FILE_CERT:
			evbuffer_add_printf(out, ",\"subject\":");
			jstr(out, e->server_subject[0] ? e->server_subject :
			    NULL);
			evbuffer_add_printf(out, ",\"not_after\":");
			jtime(out, e->server);
			break;
		case CONFIG_FILE_CA:
			evbuffer_add_printf(out, ",\"earliest_not_after\":");
			jtime(out, e->ca);
			break;
		case CONFIG_FILE_CRL:
			evbuffer_add_printf(out, ",\"next_update\":");
			jtime(out, e->crl);
			break;
		case CONFIG_FILE_KEY:
		case CONFIG_FILE_TICKET_KEYS:
			break;
		}
		evbuffer_add(out, "}", 1);
	}
	evbuffer_add_printf(out, ",\"active_connections\":%lld,"
	    "\"connections\":%llu,\"handshakes\":%llu,\"requests\":%llu,"
	    "\"client_cert_rejections\":{", (long long)sl->active,
	    (unsigned long long)sl->connections,
	    (unsigned long long)sl->handshakes,
	    (unsigned long long)sl->requests);
	for (i = 0; i < LISTENER_NREASONS; i++)
		evbuffer_add_printf(out, "%s\"%s\":%llu", i ? "," : "",
		    reasons[i], (unsigned long long)sl->rejections[i]);
	evbuffer_add_printf(out, "},\"resumed\":%llu,"
	    "\"handshake_failures\":%llu,\"routes\":[",
	    (unsigned long long)sl->resumed,
	    (unsigned long long)sl->handshake_failures);
	for (i = 0; i < lc->nroutes; i++)
		json_route(out, lc->routes[i], i > 0,
		    sl->route_requests != NULL ? sl->route_requests[i] : 0);
	evbuffer_add(out, "]}", 2);
}

static void
json_server(struct evbuffer *out, const struct status_server *ss)
{
	const struct server_conf *sc = ss->s->conf;
	char why[200];

	evbuffer_add(out, "{\"name\":", 8);
	jstr(out, sc->name);
	evbuffer_add(out, ",\"address\":", 11);
	jstr(out, sc->addr.text);
	evbuffer_add_printf(out, ",\"weight\":%u,\"state\":\"%s\","
	    "\"admin_state\":\"%s\",\"since\":", sc->weight,
	    ss->up ? "UP" : "DOWN", balancer_admin_name(ss->admin));
	jtime(out, ss->since);
	if (ss->probed) {
		evbuffer_add_printf(out, ",\"last_probe\":{\"result\":");
		jstr(out, health_result_str(ss->last_error, ss->last_detail,
		    why, sizeof(why)));
		evbuffer_add_printf(out, ",\"status\":%d,\"latency_ms\":%.3f,"
		    "\"checks\":%llu,\"time\":", ss->last_status,
		    ss->last_latency_ms, (unsigned long long)ss->checks);
		jtime(out, ss->last_check);
		evbuffer_add(out, "}", 1);
	} else {
		evbuffer_add_printf(out, ",\"last_probe\":null");
	}
	evbuffer_add_printf(out, ",\"active_connections\":%u,"
	    "\"total_connections\":%llu,\"requests\":%llu,\"failures\":%llu,"
	    "\"responses_5xx\":%llu,\"latency_ms\":{", ss->active,
	    (unsigned long long)ss->connections,
	    (unsigned long long)ss->requests,
	    (unsigned long long)ss->failures,
	    (unsigned long long)ss->responses_5xx);
	jlatency(out, "p50", &ss->p50);
	evbuffer_add(out, ",", 1);
	jlatency(out, "p90", &ss->p90);
	evbuffer_add(out, ",", 1);
	jlatency(out, "p99", &ss->p99);
	evbuffer_add(out, "}}", 2);
}

void
metrics_status_json(struct evbuffer *out, const struct status *st)
{
	size_t i, j;

	evbuffer_add_printf(out, "{\"version\":\"%s\",\"pid\":%ld,"
	    "\"uptime_seconds\":%ld,\"started\":", PACKAGE_VERSION, st->pid,
	    st->now - st->started);
	jtime(out, st->started);
	evbuffer_add_printf(out, ",\"config_file\":");
	jstr(out, st->config_file);
	evbuffer_add_printf(out, ",\"config_loaded\":");
	jtime(out, st->loaded_at);
	evbuffer_add_printf(out, ",\"workers\":%u,\"listeners\":[",
	    st->workers);
	for (i = 0; i < st->nlisteners; i++) {
		if (i)
			evbuffer_add(out, ",", 1);
		json_listener(out, &st->listeners[i]);
	}
	evbuffer_add_printf(out, "],\"server_groups\":[");
	for (i = 0; i < st->ngroups; i++) {
		const struct status_group *sg = &st->groups[i];

		if (i)
			evbuffer_add(out, ",", 1);
		evbuffer_add(out, "{\"name\":", 8);
		jstr(out, sg->conf->name);
		evbuffer_add_printf(out, ",\"scheduler\":\"%s\","
		    "\"health_check\":%s,\"servers\":[",
		    sched_names[sg->conf->scheduler],
		    sg->conf->health_check ? "true" : "false");
		for (j = 0; j < sg->nservers; j++) {
			if (j)
				evbuffer_add(out, ",", 1);
			json_server(out, &sg->servers[j]);
		}
		evbuffer_add(out, "]}", 2);
	}
	evbuffer_add_printf(out, "],\"reloads\":{\"count\":%u,\"last\":",
	    st->reloads.count);
	jtime(out, st->reloads.last_at);
	evbuffer_add_printf(out, ",\"failed_at\":");
	jtime(out, st->reloads.failed_at);
	evbuffer_add_printf(out, ",\"error\":");
	jstr(out, st->reloads.error[0] != '\0' ? st->reloads.error : NULL);
	evbuffer_add(out, "}}\n", 3);
}
