/*
 * config_route: [route] sections and allow rules, checked against the
 * listeners and server groups they name.
 */
#include "ac_config.h"
#include "config_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "diag.h"
#include "route.h"
#include "util.h"

static struct listener_conf *
listener_named(struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (strcmp(c->listeners[i].name, name) == 0)
			return &c->listeners[i];
	return NULL;
}

/* "'a', 'b'" of what the file defines, for an error's hint. */
static void
names_of(struct config *c, bool groups, char *buf, size_t len)
{
	size_t i, n = groups ? c->ngroups : c->nlisteners, off;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		off = strlen(buf);
		snprintf(buf + off, len - off, "%s'%s'", i == 0 ? "" : ", ",
		    groups ? c->groups[i].name : c->listeners[i].name);
	}
}

static void
resolve_group(struct config *c, struct diag *d, struct route_conf *r,
    bool *used)
{
	char names[512];
	size_t j;

	if (r->server_group == NULL)
		return;
	for (j = 0; j < c->ngroups; j++) {
		if (strcmp(r->server_group, c->groups[j].name) == 0) {
			r->group = &c->groups[j];
			r->group_idx = j;
			used[j] = true;
			return;
		}
	}
	for (j = 0; j < c->ngroups; j++) {
		if (config_keys_is_close(r->server_group, c->groups[j].name)) {
			diag_error(d, r->server_group_line, "server_group: no "
			    "[server_group %s] for [route %s] (did you mean "
			    "'%s'?)", r->server_group, r->name,
			    c->groups[j].name);
			return;
		}
	}
	names_of(c, true, names, sizeof(names));
	diag_error(d, r->server_group_line, "server_group: no [server_group "
	    "%s] for [route %s] (defined: %s)", r->server_group, r->name,
	    c->ngroups > 0 ? names : "none");
}

/* Rules and per-route mTLS need a listener that asks for certificates. */
static void
check_cert_use(struct diag *d, const struct route_conf *r,
    const struct listener_conf *l, int line)
{
	if (l->plain_http || l->mutual_authentication == MTLS_OFF) {
		if (r->nallow > 0)
			diag_error(d, r->allow[0].line, "allow: [listener %s] "
			    "(line %d) asks for no client certificate "
			    "(%s): set mutual_authentication = optional or "
			    "on there, or remove the rule from [route %s]",
			    l->name, line, l->plain_http ? "protocol = http" :
			    "mutual_authentication = off", r->name);
		if (r->client_certificate != ROUTE_CERT_INHERIT)
			diag_error(d, r->client_certificate_line,
			    "client_certificate: [listener %s] asks for no "
			    "client certificate: set mutual_authentication = "
			    "optional there", l->name);
	}
}

/* A "did you mean" for a listener name that is almost one; or false. */
static bool
close_listener(struct config *c, struct diag *d, const struct route_conf *r,
    size_t j)
{
	size_t i;

	for (i = 0; i < c->nlisteners; i++) {
		if (!config_keys_is_close(r->listeners[j],
		    c->listeners[i].name))
			continue;
		diag_error(d, r->listener_lines[j], "listener: no [listener "
		    "%s] for [route %s] (did you mean '%s'?)",
		    r->listeners[j], r->name, c->listeners[i].name);
		return true;
	}
	return false;
}

static void
add_route(struct listener_conf *l, const struct route_conf *r)
{
	l->routes = xrealloc(l->routes, (l->nroutes + 1) *
	    sizeof(*l->routes));
	l->routes[l->nroutes++] = r;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

void
config_route_check(struct config *c, struct diag *d, bool *used)
{
	struct listener_conf *l;
	struct route_conf *r;
	const struct route_conf *x, *y;
	char names[512];
	size_t i, j;

	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		free(l->routes);
		l->routes = NULL;
		l->nroutes = 0;
		if (l->nallow > 0 && !l->plain_http &&
		    l->mutual_authentication == MTLS_OFF)
			diag_error(d, l->allow[0].line, "allow: [listener %s] "
			    "has mutual_authentication = off and so no client "
			    "certificate to match (set it to optional or on)",
			    l->name);
	}
	for (i = 0; i < c->nroutes; i++) {
		r = &c->routes[i];
		resolve_group(c, d, r, used);
		for (j = 0; j < r->nlisteners; j++) {
			if ((l = listener_named(c, r->listeners[j])) == NULL) {
				if (close_listener(c, d, r, j))
					continue;
				names_of(c, false, names, sizeof(names));
				diag_error(d, r->listener_lines[j], "listener: "
				    "no [listener %s] for [route %s] "
				    "(defined: %s)", r->listeners[j], r->name,
				    c->nlisteners > 0 ? names : "none");
				continue;
			}
			check_cert_use(d, r, l, l->line);
			add_route(l, r);
		}
	}
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		if (l->nroutes > 1)
			qsort(l->routes, l->nroutes, sizeof(*l->routes),
			    route_cmp);
		for (j = 1; j < l->nroutes; j++) {
			x = l->routes[j - 1];
			y = l->routes[j];
			if (x != y && same_str(x->host, y->host) &&
			    same_str(x->path_prefix, y->path_prefix))
				diag_error(d, y->line, "[route %s]: same host "
				    "and path_prefix on [listener %s] as "
				    "[route %s] (line %d): it would never "
				    "match", y->name, l->name, x->name,
				    x->line);
		}
	}
}
