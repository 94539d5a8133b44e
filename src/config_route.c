/*
 * config_route: [route] sections and allow rules, checked against the
 * listeners and server groups they name.
 */
#include "ac_config.h"
#include "config_route.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allow.h"
#include "config.h"
#include "config_keys.h"
#include "diag.h"
#include "parse.h"
#include "route.h"
#include "util.h"

#define FIELD(type, obj, k)	((type *)(void *)((char *)(obj) + (k)->off))

/* Key parsers of config_keys.c's tables (see config_route.h). */

/* Appends one allow = KIND:PATTERN rule (listeners and routes). */
int
config_route_key_allow(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen)
{
	struct allow_rule **list = FIELD(struct allow_rule *, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	struct allow_rule r;

	if (allow_parse(v, &r, err, errlen) < 0)
		return -1;
	r.line = ctx->line;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = r;
	return 0;
}

/* forward_client_cert: on, off, or a list of header families. */
int
config_route_key_fcc(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen)
{
	static const struct parse_enum fams[] = {
		{ "alibaba", FCC_ALIBABA }, { "rfc9440", FCC_RFC9440 },
		{ "xfcc", FCC_XFCC }, { "aws", FCC_AWS }, { NULL, 0 },
	};
	unsigned bits = 0;
	char word[32];
	size_t len;
	int n;

	if (strcasecmp(v, "on") == 0 || strcasecmp(v, "off") == 0) {
		*FIELD(unsigned, obj, k) = strcasecmp(v, "on") == 0 ?
		    FCC_ALIBABA : 0;
		return 0;
	}
	while (*v != '\0') {
		v += strspn(v, " \t,");
		if (*v == '\0')
			break;
		len = strcspn(v, " \t,");
		if (len >= sizeof(word) ||
		    (memcpy(word, v, len), word[len] = '\0',
		    parse_enum(word, fams, &n, NULL, 0) < 0)) {
			snprintf(err, errlen, "'%.*s' is not 'on', 'off' or a "
			    "list of alibaba, rfc9440, xfcc, aws", (int)len,
			    v);
			return -1;
		}
		bits |= (unsigned)n;
		v += len;
	}
	*FIELD(unsigned, obj, k) = bits;
	return 0;
}

/* [route] listener = NAME: a name, with its line for -t. */
int
config_route_key_listener(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen)
{
	struct route_conf *r = obj;

	if (parse_name(v, err, errlen) < 0)
		return -1;
	r->listeners = xrealloc(r->listeners,
	    (r->nlisteners + 1) * sizeof(*r->listeners));
	r->listener_lines = xrealloc(r->listener_lines,
	    (r->nlisteners + 1) * sizeof(*r->listener_lines));
	r->listener_lines[r->nlisteners] = ctx->line;
	r->listeners[r->nlisteners++] = xstrdup(v);
	return 0;
}

/* [route] host: a name or *.suffix, stored lowercase. */
int
config_route_key_host(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen)
{
	const char *p = v[0] == '*' ? v + 1 : v;
	char **dst = FIELD(char *, obj, k);
	size_t i;

	if ((v[0] == '*' && (v[1] != '.' || v[2] == '\0')) || *p == '\0' ||
	    strspn(p, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != strlen(p)) {
		snprintf(err, errlen, "'%s' is not a host name or *.suffix "
		    "(no port, no blanks)", v);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(v);
	for (i = 0; (*dst)[i] != '\0'; i++)
		(*dst)[i] = (char)tolower((unsigned char)(*dst)[i]);
	return 0;
}

/* [route] path_prefix: "/...", matched against the normalised path. */
int
config_route_key_path_prefix(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen)
{
	if (*v != '/' || strpbrk(v, " \t?#%") != NULL || strlen(v) > 1024) {
		snprintf(err, errlen, "'%s' must start with '/' and hold no "
		    "blank, '?', '#' or '%%' (it is matched against the "
		    "decoded path), at most 1024 bytes", v);
		return -1;
	}
	free(*FIELD(char *, obj, k));
	*FIELD(char *, obj, k) = xstrdup(v);
	return 0;
}


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
