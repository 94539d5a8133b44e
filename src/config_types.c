/*
 * config_types: the value types of the configuration keys, each a parser
 * and the kind of field it fills (config_types.h). The key tables that
 * use them are in config_keys.c.
 */
#include "ac_config.h"
#include "config_types.h"

#include <assert.h>
#include <ctype.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "allow.h"
#include "config_route.h"
#include "diag.h"
#include "parse.h"
#include "util.h"

/* Key parsers. Each writes one field of obj; -1 means err says why. */


/* Stores n in k's field, as its type says: a number, a flag or an enum. */
void
config_types_store_number(const struct config_key *k, void *obj, uint64_t n)
{
	switch (k->type->store) {
	case ST_UINT:
		*FIELD(unsigned, obj, k) = (unsigned)n;
		break;
	case ST_SIZE:
		*FIELD(size_t, obj, k) = (size_t)n;
		break;
	case ST_U64:
		*FIELD(uint64_t, obj, k) = n;
		break;
	case ST_BOOL:
		*FIELD(bool, obj, k) = n != 0;
		break;
	case ST_INT:
		*FIELD(int, obj, k) = (int)n;
		break;
	case ST_STRING:
	case ST_ADDRS:
	case ST_SERVERS:
	case ST_CIDRS:
	case ST_STRINGS:
	case ST_ALLOWS:
	case ST_PATHS:
		assert(!"not a number");
		break;
	}
}

static int
key_string(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	char **p = FIELD(char *, obj, k);

	free(*p);
	*p = xstrdup(v);
	return 0;
}

/*
 * A file name, stored absolute: a relative one is relative to the config
 * file's directory (ctx->dir), so the same file names the same files
 * whatever the working directory of -t, the start or a reload.
 */
static int
store_path(const struct config_key_ctx *ctx, char **p, const char *v,
    char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (parse_path(ctx->dir, v, path, sizeof(path), err, errlen) < 0)
		return -1;
	free(*p);
	*p = xstrdup(path);
	return 0;
}

static int
key_path(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	return store_path(ctx, FIELD(char *, obj, k), v, err, errlen);
}

/* A file key that may repeat (CONFIG_KEY_MORE): the first, then a list. */
static int
key_paths(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	struct file_conf **list = (struct file_conf **)(void *)((char *)obj +
	    k->more_off);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	char *path = NULL;

	if (*FIELD(char *, obj, k) == NULL)
		return store_path(ctx, FIELD(char *, obj, k), v, err, errlen);
	if (store_path(ctx, &path, v, err, errlen) < 0)
		return -1;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[*n].path = path;
	(*list)[(*n)++].line = ctx->line;
	return 0;
}

/* The user workers switch to: it must exist, or they could not start. */
static int
key_user(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	if (getpwnam(v) == NULL) {
		snprintf(err, errlen, "no such user '%s' (create it, e.g. "
		    "useradd --system --no-create-home %s, or remove the key)",
		    v, v);
		return -1;
	}
	return key_string(ctx, k, obj, v, err, errlen);
}

/* A number read by the type's parser (count, duration in ms, size). */
static int
key_number(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	uint64_t n;

	if (k->type->num(v, k->min, k->max, &n, err, errlen) < 0)
		return -1;
	config_types_store_number(k, obj, n);
	return 0;
}

static int
key_workers(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	uint64_t n;

	if (strcasecmp(v, "auto") == 0) {
		config_types_store_number(k, obj, 0);
		return 0;
	}
	if (parse_uint(v, k->min, k->max, &n, NULL, 0) < 0) {
		snprintf(err, errlen, "'%s' is not 'auto' or in %ju..%ju", v,
		    (uintmax_t)k->min, (uintmax_t)k->max);
		return -1;
	}
	config_types_store_number(k, obj, n);
	return 0;
}

static int
key_duration_s(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(v, k->min, k->max, &ms, err, errlen) < 0)
		return -1;
	if (ms % MS_SEC != 0) {
		snprintf(err, errlen, "'%s' is not a whole number of seconds",
		    v);
		return -1;
	}
	config_types_store_number(k, obj, ms / MS_SEC);
	return 0;
}

static int
key_onoff(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	return parse_onoff(v, FIELD(bool, obj, k), err, errlen);
}

/*
 * A word of k->tab, stored as an int-sized enum (tls_min_version too) or,
 * for two-word keys (reject_with, crl_check, ...), as a bool.
 */
static int
key_enum(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	int n;

	if (parse_enum(v, k->tab, &n, err, errlen) < 0)
		return -1;
	config_types_store_number(k, obj, (uint64_t)n);
	return 0;
}

/*
 * A keyword of k->tab, or a file name (error_log, access_log). A bare word,
 * with neither '/' nor '.', is taken for a mistyped keyword ("sylog",
 * "off" where only stderr and syslog are valid), not for a file of that
 * name next to the config.
 */
static int
key_log(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	char **p = FIELD(char *, obj, k);
	int n;

	if (parse_enum(v, k->tab, &n, NULL, 0) == 0) {
		free(*p);
		*p = xstrdup(k->tab[n].name);
		return 0;
	}
	if (strpbrk(v, "/.") == NULL) {
		snprintf(err, errlen, "'%s' is not '%s', '%s' or a file name "
		    "(for a file of that name, write './%s')", v,
		    k->tab[0].name, k->tab[1].name, v);
		return -1;
	}
	return store_path(ctx, p, v, err, errlen);
}

static int
key_http_codes(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	return parse_http_codes(v, FIELD(unsigned, obj, k), err, errlen);
}

/* A health check request target: "/..." without blanks. */
static int
key_hc_path(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	if (*v != '/' || strpbrk(v, " \t") != NULL) {
		snprintf(err, errlen, "'%s' must start with '/' and contain "
		    "no blanks", v);
		return -1;
	}
	return key_string(ctx, k, obj, v, err, errlen);
}

static int
key_hc_host(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	if (strpbrk(v, " \t") != NULL) {
		snprintf(err, errlen, "'%s' must not contain blanks", v);
		return -1;
	}
	return key_string(ctx, k, obj, v, err, errlen);
}

/* Appends one HOST:PORT to the list at k->off, counted at k->count_off. */
static int
key_bind(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	struct addr_conf **list = FIELD(struct addr_conf *, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	struct addr_conf a;

	memset(&a, 0, sizeof(a));
	if (parse_hostport(v, &a.ss, &a.len, err, errlen) < 0)
		return -1;
	a.text = xstrdup(v);
	a.line = ctx->line;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = a;
	return 0;
}

/*
 * Appends every blank-separated server name of v: a host name, or
 * "*.suffix" (one label), stored in lower case without a final dot.
 */
static int
key_names(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	char ***list = FIELD(char **, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	char name[256];
	size_t len, i;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0') {
		snprintf(err, errlen, "value is empty");
		return -1;
	}
	while (*v != '\0') {
		len = strcspn(v, " \t");
		if (len > 0 && v[len - 1] == '.')
			len--;
		if (len == 0 || len >= sizeof(name) ||
		    parse_server_name(v, len) < 0) {
			snprintf(err, errlen, "'%.*s' is not a host name or "
			    "*.DOMAIN (letters, digits, '-' and '.'; a '*' "
			    "only as the whole first label)",
			    (int)strcspn(v, " \t"), v);
			return -1;
		}
		for (i = 0; i < len; i++)
			name[i] = (char)tolower((unsigned char)v[i]);
		name[len] = '\0';
		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = xstrdup(name);
		v += strcspn(v, " \t");
		while (*v == ' ' || *v == '\t')
			v++;
	}
	return 0;
}

/* Appends every blank-separated ADDR[/BITS] of v to the list at k->off. */
static int
key_cidrs(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	struct parse_cidr **list = FIELD(struct parse_cidr *, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	struct parse_cidr c;
	char word[64];
	size_t len;

	while (*v == ' ' || *v == '\t')
		v++;
	if (*v == '\0') {
		snprintf(err, errlen, "value is empty");
		return -1;
	}
	while (*v != '\0') {
		len = strcspn(v, " \t");
		if (len >= sizeof(word)) {
			snprintf(err, errlen, "'%.*s' is not an address or "
			    "ADDRESS/BITS", (int)len, v);
			return -1;
		}
		memcpy(word, v, len);
		word[len] = '\0';
		if (parse_cidr(word, &c, err, errlen) < 0)
			return -1;
		*list = xrealloc(*list, (*n + 1) * sizeof(**list));
		(*list)[(*n)++] = c;
		v += len;
		while (*v == ' ' || *v == '\t')
			v++;
	}
	return 0;
}

/*
 * Appends one client certificate subject ([admin] allow), normalised by
 * parse_dn() so that it compares with what tls_peer_name() prints.
 */
static int
key_allow(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	char ***list = FIELD(char **, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	char dn[PARSE_DN_MAX + 1];

	if (parse_dn(v, dn, sizeof(dn), err, errlen) < 0)
		return -1;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = xstrdup(dn);
	return 0;
}

static int
key_server(const struct config_key_ctx *ctx, const struct config_key *k,
    void *obj, const char *v, char *err, size_t errlen)
{
	struct group_conf *g = obj;
	struct server_conf *s;
	struct parse_server ps;
	char label[128];
	size_t i;

	if (parse_server_line(v, &ps, err, errlen) < 0)
		return -1;
	for (i = 0; i < g->nservers; i++) {
		if (strcmp(g->servers[i].name, ps.name) == 0) {
			snprintf(err, errlen, "duplicate server name '%s' in "
			    "%s (first at line %d)", ps.name,
			    config_keys_label(ctx->sec, label, sizeof(label)),
			    g->servers[i].line);
			return -1;
		}
	}
	for (i = 0; i < g->nservers; i++) {
		if (config_keys_same_addr(&g->servers[i].addr.ss, &ps.ss)) {
			diag_warn(ctx->d, ctx->line, "server: '%s' has the "
			    "same address as '%s' (line %d)", ps.name,
			    g->servers[i].name, g->servers[i].line);
			break;
		}
	}
	g->servers = xrealloc(g->servers,
	    (g->nservers + 1) * sizeof(*g->servers));
	s = &g->servers[g->nservers++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(ps.name);
	s->addr.ss = ps.ss;
	s->addr.len = ps.len;
	s->addr.text = xstrdup(ps.addr);
	s->addr.line = ctx->line;
	s->weight = ps.weight;
	s->line = ctx->line;
	return 0;
}

/* Value types: a parser and where it stores its result. */

const struct config_type t_string = { key_string, ST_STRING, NULL };
/*
 * a file name, resolved against the config file's directory; the row's
 * .file says what the file holds
 */
const struct config_type t_path = { key_path, ST_STRING, NULL };
const struct config_type t_paths = { key_paths, ST_PATHS, NULL };
const struct config_type t_user = { key_user, ST_STRING, NULL };
/* a keyword or the name of a file the master creates or appends to */
const struct config_type t_log = { key_log, ST_STRING, NULL };
const struct config_type t_hc_path = { key_hc_path, ST_STRING, NULL };
const struct config_type t_hc_host = { key_hc_host, ST_STRING, NULL };
const struct config_type t_uint = { key_number, ST_UINT, parse_uint };
const struct config_type t_workers = { key_workers, ST_UINT, NULL };
const struct config_type t_duration = {
	key_number, ST_UINT, parse_duration_ms,
};
const struct config_type t_duration_s = {
	key_duration_s, ST_UINT, NULL,
};
const struct config_type t_http_codes = {
	key_http_codes, ST_UINT, NULL,
};
const struct config_type t_size = { key_number, ST_SIZE, parse_size };
const struct config_type t_size64 = { key_number, ST_U64, parse_size };
const struct config_type t_onoff = { key_onoff, ST_BOOL, NULL };
const struct config_type t_enum_bool = { key_enum, ST_BOOL, NULL };
const struct config_type t_enum = { key_enum, ST_INT, NULL };
const struct config_type t_binds = { key_bind, ST_ADDRS, NULL };
const struct config_type t_servers = { key_server, ST_SERVERS, NULL };
const struct config_type t_cidrs = { key_cidrs, ST_CIDRS, NULL };
const struct config_type t_subjects = { key_allow, ST_STRINGS, NULL };
const struct config_type t_allows = {
	config_route_key_allow, ST_ALLOWS, NULL,
};
const struct config_type t_fcc = {
	config_route_key_fcc, ST_UINT, NULL,
};
const struct config_type t_route_listener = {
	config_route_key_listener, ST_STRINGS, NULL,
};
const struct config_type t_route_host = {
	config_route_key_host, ST_STRING, NULL,
};
const struct config_type t_path_prefix = {
	config_route_key_path_prefix, ST_STRING, NULL,
};
const struct config_type t_names = { key_names, ST_STRINGS, NULL };

