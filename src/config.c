/*
 * config: reads the INI file with inih into struct config, then checks the
 * rules that span keys and sections. Every problem is recorded in the diag
 * collector, with the line of the offending key, and parsing goes on so one
 * run reports them all. Never opens sockets and never parses certificates:
 * it only checks that the files named in the file can be read.
 */
#include "ac_config.h"
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "diag.h"
#include "parse.h"
#include "util.h"

#define ERRLEN		256
#define MAX_KEYS	32
#define NOLINE		((size_t)-1)

#define MS_SEC		1000ull
#define MS_MIN		(60 * MS_SEC)
#define MS_HOUR		(60 * MS_MIN)
#define MS_DAY		(24 * MS_HOUR)

#define KEY_REPEAT	0x01	/* may appear more than once */
#define KEY_REQUIRED	0x02	/* the section is incomplete without it */

enum sec_kind {
	SEC_NONE,		/* bad or duplicate header: keys ignored */
	SEC_GLOBAL,
	SEC_LISTENER,
	SEC_GROUP,
	SEC_ADMIN,
};

/* One [section] as it appeared in the file. */
struct section {
	enum sec_kind kind;
	char *name;			/* NAME of [listener NAME], or NULL */
	size_t idx;			/* into listeners or groups */
	int line;
	int seen[MAX_KEYS];		/* first line each key was set on */
};

enum line_kind {
	LK_NONE,			/* no line read yet */
	LK_SKIP,			/* blank, comment, section, too long */
	LK_KEY,			/* must reach the handler, or it is bad */
};

struct state {
	struct config *c;
	struct diag *d;
	FILE *fp;
	/* reader: the current physical line, handed to inih in chunks */
	char *buf;
	size_t bufcap;
	const char *out;		/* what inih gets of the current line */
	size_t outlen, outpos;
	int line;
	enum line_kind kind;
	bool handled;			/* the handler saw the current line */
	int first_syntax_line;
	int *chunk_line;		/* inih's line number -> real line */
	size_t nchunks, chunkcap;
	/* sections */
	struct section *secs;
	size_t nsecs;
	struct section *cur;		/* NULL before the first [section] */
	bool read_error;
	int read_errno;
};

struct key;
typedef int (*key_parser)(struct state *, const struct key *, void *,
    const char *, char *, size_t);

struct key {
	const char *name;
	key_parser parse;
	size_t off;			/* offset of the field in the object */
	size_t line_off;		/* offset of its int *_line or NOLINE */
	unsigned flags;
	uint64_t min, max;		/* numbers, durations and sizes */
	const struct parse_enum *tab;	/* enums; keywords for log paths */
	size_t count_off;		/* lists: offset of the count */
};

static_assert(sizeof(enum sched_kind) == sizeof(int), "enum is not int");
static_assert(sizeof(enum mtls_mode) == sizeof(int), "enum is not int");
static_assert(sizeof(enum log_level_conf) == sizeof(int), "enum is not int");
static_assert(HC_CODE_2XX == (1u << 2) && HC_CODE_5XX == (1u << 5),
    "HC_CODE_* bits are documented as 1 << N for Nxx");

/* Key parsers. Each writes one field of obj; -1 means err says why. */

#define FIELD(type, obj, k)	((type *)(void *)((char *)(obj) + (k)->off))

static int
key_string(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	char **p = FIELD(char *, obj, k);

	free(*p);
	*p = xstrdup(v);
	return 0;
}

/* The user workers switch to: it must exist, or they could not start. */
static int
key_user(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	if (getpwnam(v) == NULL) {
		snprintf(err, errlen, "no such user '%s' (create it, e.g. "
		    "useradd --system --no-create-home %s, or remove the key)",
		    v, v);
		return -1;
	}
	return key_string(st, k, obj, v, err, errlen);
}

static int
key_uint(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	uint64_t n;

	if (parse_uint(v, k->min, k->max, &n, err, errlen) < 0)
		return -1;
	*FIELD(unsigned, obj, k) = (unsigned)n;
	return 0;
}

static int
key_workers(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	uint64_t n;

	if (strcasecmp(v, "auto") == 0) {
		*FIELD(unsigned, obj, k) = 0;
		return 0;
	}
	if (parse_uint(v, k->min, k->max, &n, NULL, 0) < 0) {
		snprintf(err, errlen, "'%s' is not 'auto' or in %ju..%ju", v,
		    (uintmax_t)k->min, (uintmax_t)k->max);
		return -1;
	}
	*FIELD(unsigned, obj, k) = (unsigned)n;
	return 0;
}

static int
key_duration(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(v, k->min, k->max, &ms, err, errlen) < 0)
		return -1;
	*FIELD(unsigned, obj, k) = (unsigned)ms;
	return 0;
}

static int
key_duration_s(struct state *st, const struct key *k, void *obj,
    const char *v, char *err, size_t errlen)
{
	uint64_t ms;

	if (parse_duration_ms(v, k->min, k->max, &ms, err, errlen) < 0)
		return -1;
	if (ms % MS_SEC != 0) {
		snprintf(err, errlen, "'%s' is not a whole number of seconds",
		    v);
		return -1;
	}
	*FIELD(unsigned, obj, k) = (unsigned)(ms / MS_SEC);
	return 0;
}

static int
key_size(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	uint64_t n;

	if (parse_size(v, k->min, k->max, &n, err, errlen) < 0)
		return -1;
	*FIELD(size_t, obj, k) = (size_t)n;
	return 0;
}

static int
key_size64(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	uint64_t n;

	if (parse_size(v, k->min, k->max, &n, err, errlen) < 0)
		return -1;
	*FIELD(uint64_t, obj, k) = n;
	return 0;
}

static int
key_onoff(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	return parse_onoff(v, FIELD(bool, obj, k), err, errlen);
}

/* An enum stored in an int-sized field (enums, tls_min_version). */
static int
key_enum(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	return parse_enum(v, k->tab, FIELD(int, obj, k), err, errlen);
}

/* A two-word enum stored as a bool (reject_with, crl_check, ...). */
static int
key_enum_bool(struct state *st, const struct key *k, void *obj,
    const char *v, char *err, size_t errlen)
{
	int n;

	if (parse_enum(v, k->tab, &n, err, errlen) < 0)
		return -1;
	*FIELD(bool, obj, k) = n != 0;
	return 0;
}

/* A keyword of k->tab, or an absolute path (error_log, access_log). */
static int
key_log(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	char **p = FIELD(char *, obj, k);
	int n;

	if (*v != '/' && parse_enum(v, k->tab, &n, err, errlen) < 0) {
		/* "'x' is not 'a' or 'b'" -> "'x' is not 'a', 'b' or ..." */
		snprintf(err, errlen, "'%s' is not '%s', '%s' or an absolute "
		    "path", v, k->tab[0].name, k->tab[1].name);
		return -1;
	}
	free(*p);
	*p = *v == '/' ? xstrdup(v) : xstrdup(k->tab[n].name);
	return 0;
}

static int
key_http_codes(struct state *st, const struct key *k, void *obj,
    const char *v, char *err, size_t errlen)
{
	return parse_http_codes(v, FIELD(unsigned, obj, k), err, errlen);
}

/* A health check request target: "/..." without blanks. */
static int
key_hc_path(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	if (*v != '/' || strpbrk(v, " \t") != NULL) {
		snprintf(err, errlen, "'%s' must start with '/' and contain "
		    "no blanks", v);
		return -1;
	}
	return key_string(st, k, obj, v, err, errlen);
}

static int
key_hc_host(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	if (strpbrk(v, " \t") != NULL) {
		snprintf(err, errlen, "'%s' must not contain blanks", v);
		return -1;
	}
	return key_string(st, k, obj, v, err, errlen);
}

/* Appends one HOST:PORT to the list at k->off, counted at k->count_off. */
static int
key_bind(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
{
	struct addr_conf **list = FIELD(struct addr_conf *, obj, k);
	size_t *n = (size_t *)(void *)((char *)obj + k->count_off);
	struct addr_conf a;

	memset(&a, 0, sizeof(a));
	if (parse_hostport(v, &a.ss, &a.len, err, errlen) < 0)
		return -1;
	a.text = xstrdup(v);
	a.line = st->line;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = a;
	return 0;
}

static const char *
section_label(const struct section *s, char *buf, size_t len)
{
	static const char *const kinds[] = {
		[SEC_NONE] = "?", [SEC_GLOBAL] = "global",
		[SEC_LISTENER] = "listener", [SEC_GROUP] = "server_group",
		[SEC_ADMIN] = "admin",
	};

	if (s->name != NULL)
		snprintf(buf, len, "[%s %s]", kinds[s->kind], s->name);
	else
		snprintf(buf, len, "[%s]", kinds[s->kind]);
	return buf;
}

static bool
same_sockaddr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const void *)a, *b4 = (const void *)b;
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

static int
key_server(struct state *st, const struct key *k, void *obj, const char *v,
    char *err, size_t errlen)
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
			    section_label(st->cur, label, sizeof(label)),
			    g->servers[i].line);
			return -1;
		}
	}
	for (i = 0; i < g->nservers; i++) {
		if (same_sockaddr(&g->servers[i].addr.ss, &ps.ss)) {
			diag_warn(st->d, st->line, "server: '%s' has the same "
			    "address as '%s' (line %d)", ps.name,
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
	s->addr.line = st->line;
	s->weight = ps.weight;
	s->line = st->line;
	return 0;
}

/* Key tables: one per section kind, in the order of the documentation. */

static const struct parse_enum log_levels[] = {
	{ "error", LOGLEVEL_ERROR }, { "warn", LOGLEVEL_WARN },
	{ "info", LOGLEVEL_INFO }, { "debug", LOGLEVEL_DEBUG }, { NULL, 0 },
};
static const struct parse_enum error_logs[] = {
	{ "stderr", 0 }, { "syslog", 1 }, { NULL, 0 },
};
static const struct parse_enum access_logs[] = {
	{ "off", 0 }, { "stderr", 1 }, { NULL, 0 },
};
static const struct parse_enum log_formats[] = {
	{ "combined", 0 }, { "json", 1 }, { NULL, 0 },
};
static const struct parse_enum mtls_modes[] = {
	{ "on", MTLS_ON }, { "optional", MTLS_OPTIONAL }, { "off", MTLS_OFF },
	{ NULL, 0 },
};
static const struct parse_enum tls_versions[] = {
	{ "TLSv1.2", 0x0303 }, { "TLSv1.3", 0x0304 }, { NULL, 0 },
};
static const struct parse_enum reject_withs[] = {
	{ "http_400", 0 }, { "tls_alert", 1 }, { NULL, 0 },
};
static const struct parse_enum xff_modes[] = {
	{ "append", 0 }, { "replace", 1 }, { NULL, 0 },
};
static const struct parse_enum crl_checks[] = {
	{ "leaf", 0 }, { "chain", 1 }, { NULL, 0 },
};
static const struct parse_enum schedulers[] = {
	{ "round_robin", SCHED_ROUND_ROBIN },
	{ "weighted_round_robin", SCHED_WEIGHTED_ROUND_ROBIN },
	{ "least_connections", SCHED_LEAST_CONNECTIONS }, { NULL, 0 },
};
static const struct parse_enum hc_methods[] = {
	{ "GET", 0 }, { "HEAD", 1 }, { NULL, 0 },
};
static const struct parse_enum all_down[] = {
	{ "reject", 0 }, { "try_all", 1 }, { NULL, 0 },
};
static const struct parse_enum hc_initial[] = {
	{ "healthy", 1 }, { "unhealthy", 0 }, { NULL, 0 },
};

#define G(f)	offsetof(struct config, f)
#define L(f)	offsetof(struct listener_conf, f)
#define S(f)	offsetof(struct group_conf, f)

static const struct key global_keys[] = {
	{ "workers", key_workers, G(workers), NOLINE, 0, 1, 64, NULL, 0 },
	{ "log_level", key_enum, G(log_level), NOLINE, 0, 0, 0, log_levels,
	    0 },
	{ "error_log", key_log, G(error_log), NOLINE, 0, 0, 0, error_logs, 0 },
	{ "access_log", key_log, G(access_log), NOLINE, 0, 0, 0, access_logs,
	    0 },
	{ "access_log_format", key_enum_bool, G(access_log_json), NOLINE, 0,
	    0, 0, log_formats, 0 },
	{ "user", key_user, G(user), NOLINE, 0, 0, 0, NULL, 0 },
	{ "shutdown_timeout", key_duration, G(shutdown_timeout_ms), NOLINE, 0,
	    0, MS_DAY, NULL, 0 },
	{ "reload_on_change", key_onoff, G(reload_on_change), NOLINE, 0, 0, 0,
	    NULL, 0 },
	{ "expiry_warning", key_duration_s, G(expiry_warning_s), NOLINE, 0, 0,
	    365 * MS_DAY, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0 },
};

static const struct key listener_keys[] = {
	{ "bind", key_bind, L(binds), NOLINE, KEY_REPEAT | KEY_REQUIRED, 0, 0,
	    NULL, L(nbinds) },
	{ "server_certificate", key_string, L(server_certificate),
	    L(server_certificate_line), KEY_REQUIRED, 0, 0, NULL, 0 },
	{ "server_private_key", key_string, L(server_private_key),
	    L(server_private_key_line), KEY_REQUIRED, 0, 0, NULL, 0 },
	{ "mutual_authentication", key_enum, L(mutual_authentication),
	    L(mutual_authentication_line), 0, 0, 0, mtls_modes, 0 },
	{ "ca_certificate", key_string, L(ca_certificate),
	    L(ca_certificate_line), 0, 0, 0, NULL, 0 },
	{ "crl", key_string, L(crl), L(crl_line), 0, 0, 0, NULL, 0 },
	{ "verify_depth", key_uint, L(verify_depth), L(verify_depth_line), 0,
	    0, 32, NULL, 0 },
	{ "tls_min_version", key_enum, L(tls_min_version), NOLINE, 0, 0, 0,
	    tls_versions, 0 },
	{ "server_group", key_string, L(server_group), L(server_group_line),
	    KEY_REQUIRED, 0, 0, NULL, 0 },
	{ "forward_client_cert", key_onoff, L(forward_client_cert), NOLINE, 0,
	    0, 0, NULL, 0 },
	{ "max_client_cert_header_size", key_size,
	    L(max_client_cert_header_size), NOLINE, 0, 256, 64u << 10, NULL,
	    0 },
	{ "x_forwarded_for", key_enum_bool, L(x_forwarded_for_replace),
	    NOLINE, 0, 0, 0, xff_modes, 0 },
	{ "reject_with", key_enum_bool, L(reject_tls_alert), NOLINE, 0, 0, 0,
	    reject_withs, 0 },
	{ "crl_check", key_enum_bool, L(crl_check_chain), L(crl_check_line), 0,
	    0, 0, crl_checks, 0 },
	{ "max_connections", key_uint, L(max_connections), NOLINE, 0, 0,
	    1000000, NULL, 0 },
	{ "handshake_timeout", key_duration, L(handshake_timeout_ms), NOLINE,
	    0, 1, MS_DAY, NULL, 0 },
	{ "client_header_timeout", key_duration, L(client_header_timeout_ms),
	    NOLINE, 0, 1, MS_DAY, NULL, 0 },
	{ "client_body_timeout", key_duration, L(client_body_timeout_ms),
	    NOLINE, 0, 1, MS_DAY, NULL, 0 },
	{ "keepalive_timeout", key_duration, L(keepalive_timeout_ms), NOLINE,
	    0, 0, MS_DAY, NULL, 0 },
	{ "keepalive_requests", key_uint, L(keepalive_requests), NOLINE, 0, 1,
	    1000000, NULL, 0 },
	{ "max_request_line", key_size, L(max_request_line), NOLINE, 0, 256,
	    1u << 20, NULL, 0 },
	{ "max_request_header_size", key_size, L(max_request_header_size),
	    NOLINE, 0, 1u << 10, 16u << 20, NULL, 0 },
	{ "max_request_body_size", key_size64, L(max_request_body_size),
	    NOLINE, 0, 0, (uint64_t)1 << 40, NULL, 0 },
	{ "session_cache_size", key_uint, L(session_cache_size), NOLINE, 0, 0,
	    1000000, NULL, 0 },
	{ "session_timeout", key_duration, L(session_timeout_ms), NOLINE, 0,
	    MS_SEC, MS_DAY, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0 },
};

static const struct key group_keys[] = {
	{ "scheduler", key_enum, S(scheduler), NOLINE, 0, 0, 0, schedulers, 0 },
	{ "server", key_server, S(servers), NOLINE, KEY_REPEAT | KEY_REQUIRED,
	    0, 0, NULL, S(nservers) },
	{ "backend_timeout", key_duration, S(backend_timeout_ms), NOLINE, 0, 1,
	    MS_DAY, NULL, 0 },
	{ "connect_timeout", key_duration, S(connect_timeout_ms), NOLINE, 0, 1,
	    MS_DAY, NULL, 0 },
	{ "max_idle_connections", key_uint, S(max_idle_connections), NOLINE,
	    0, 0, 10000, NULL, 0 },
	{ "idle_connection_timeout", key_duration,
	    S(idle_connection_timeout_ms), NOLINE, 0, 1, MS_DAY, NULL, 0 },
	{ "health_check", key_onoff, S(health_check), NOLINE, 0, 0, 0, NULL,
	    0 },
	{ "health_check_path", key_hc_path, S(health_check_path), NOLINE, 0, 0,
	    0, NULL, 0 },
	{ "health_check_host", key_hc_host, S(health_check_host), NOLINE, 0, 0,
	    0, NULL, 0 },
	{ "health_check_port", key_uint, S(health_check_port), NOLINE, 0, 1,
	    65535, NULL, 0 },
	{ "health_check_interval", key_duration, S(health_check_interval_ms),
	    NOLINE, 0, 100, MS_DAY, NULL, 0 },
	{ "health_check_timeout", key_duration, S(health_check_timeout_ms),
	    NOLINE, 0, 1, MS_DAY, NULL, 0 },
	{ "healthy_threshold", key_uint, S(healthy_threshold), NOLINE, 0, 1,
	    10, NULL, 0 },
	{ "unhealthy_threshold", key_uint, S(unhealthy_threshold), NOLINE, 0,
	    1, 10, NULL, 0 },
	{ "health_check_http_code", key_http_codes,
	    S(health_check_http_code), NOLINE, 0, 0, 0, NULL, 0 },
	{ "health_check_method", key_enum_bool, S(health_check_head), NOLINE,
	    0, 0, 0, hc_methods, 0 },
	{ "all_servers_down", key_enum_bool, S(all_servers_down_try_all),
	    NOLINE, 0, 0, 0, all_down, 0 },
	{ "health_check_initial", key_enum_bool,
	    S(health_check_initial_healthy), NOLINE, 0, 0, 0, hc_initial, 0 },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0 },
};

static const struct key admin_keys[] = {
	{ "bind", key_bind, G(admin_binds), NOLINE, KEY_REPEAT | KEY_REQUIRED,
	    0, 0, NULL, G(nadmin_binds) },
	{ NULL, NULL, 0, 0, 0, 0, 0, NULL, 0 },
};

#undef G
#undef L
#undef S

static const struct {
	const char *name;
	enum sec_kind kind;
	bool named;
	const struct key *keys;
} sec_kinds[] = {
	{ "global", SEC_GLOBAL, false, global_keys },
	{ "listener", SEC_LISTENER, true, listener_keys },
	{ "server_group", SEC_GROUP, true, group_keys },
	{ "admin", SEC_ADMIN, false, admin_keys },
};

#define NSEC_KINDS	(sizeof(sec_kinds) / sizeof(sec_kinds[0]))

static const struct key *
keys_of(enum sec_kind kind)
{
	size_t i;

	for (i = 0; i < NSEC_KINDS; i++)
		if (sec_kinds[i].kind == kind)
			return sec_kinds[i].keys;
	return NULL;
}

static const char *
kind_name(enum sec_kind kind)
{
	size_t i;

	for (i = 0; i < NSEC_KINDS; i++)
		if (sec_kinds[i].kind == kind)
			return sec_kinds[i].name;
	return "?";
}

/* Levenshtein distance, ignoring case; words here are short. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, tmp, best;
	size_t row[64];

	if (la >= sizeof(row) / sizeof(row[0]) ||
	    lb >= sizeof(row) / sizeof(row[0]))
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* A near enough candidate: at most 2 edits, and fewer than half the word. */
static bool
is_close(const char *typo, const char *word)
{
	size_t dist = distance(typo, word);

	return dist <= 2 && dist * 2 < strlen(word);
}

/* Section headers */

static void
section_defaults_listener(struct listener_conf *l)
{
	l->mutual_authentication = MTLS_ON;
	l->verify_depth = 3;
	l->tls_min_version = 0x0303;
	l->forward_client_cert = true;
	l->max_client_cert_header_size = 4 << 10;
	l->handshake_timeout_ms = 10 * MS_SEC;
	l->client_header_timeout_ms = 10 * MS_SEC;
	l->client_body_timeout_ms = 60 * MS_SEC;
	l->keepalive_timeout_ms = 75 * MS_SEC;
	l->keepalive_requests = 1000;
	l->max_request_line = 8 << 10;
	l->max_request_header_size = 64 << 10;
	l->session_cache_size = 1024;
	l->session_timeout_ms = 300 * MS_SEC;
}

static void
section_defaults_group(struct group_conf *g)
{
	g->scheduler = SCHED_ROUND_ROBIN;
	g->backend_timeout_ms = 60 * MS_SEC;
	g->connect_timeout_ms = 5 * MS_SEC;
	g->max_idle_connections = 32;
	g->idle_connection_timeout_ms = 30 * MS_SEC;
	g->health_check = true;
	g->health_check_path = xstrdup("/");
	g->health_check_interval_ms = 2 * MS_SEC;
	g->health_check_timeout_ms = 1 * MS_SEC;
	g->healthy_threshold = 2;
	g->unhealthy_threshold = 2;
	g->health_check_http_code = HC_CODE_2XX | HC_CODE_3XX;
	g->health_check_initial_healthy = true;
}

static struct section *
find_section(struct state *st, enum sec_kind kind, const char *name)
{
	size_t i;

	for (i = 0; i < st->nsecs; i++) {
		if (st->secs[i].kind != kind)
			continue;
		if (name == NULL || strcmp(st->secs[i].name, name) == 0)
			return &st->secs[i];
	}
	return NULL;
}

/* Reports an unknown section kind, with a did-you-mean when one is close. */
static void
unknown_section(struct state *st, const char *kind, const char *name)
{
	size_t i;

	for (i = 0; i < NSEC_KINDS; i++) {
		if (!is_close(kind, sec_kinds[i].name))
			continue;
		diag_error(st->d, st->line, "unknown section [%s%s%s] "
		    "(did you mean [%s%s%s]?)", kind, *name ? " " : "", name,
		    sec_kinds[i].name, sec_kinds[i].named ? " " : "",
		    sec_kinds[i].named ? (*name ? name : "NAME") : "");
		return;
	}
	diag_error(st->d, st->line, "unknown section [%s%s%s] (expected "
	    "[global], [listener NAME], [server_group NAME] or [admin])",
	    kind, *name ? " " : "", name);
}

/*
 * Opens a section from the text between the brackets. An unusable header
 * still opens a section, of kind SEC_NONE, so its keys are skipped quietly
 * instead of being blamed on the section before it.
 */
static void
section_begin(struct state *st, const char *text, size_t len)
{
	struct config *c = st->c;
	struct section *s, *prev;
	char err[ERRLEN], label[128];
	char *copy, *kind, *name;
	size_t i, klen;

	st->secs = xrealloc(st->secs, (st->nsecs + 1) * sizeof(*st->secs));
	s = st->cur = &st->secs[st->nsecs++];
	memset(s, 0, sizeof(*s));
	s->line = st->line;

	/* "[ listener   https ]" -> kind "listener", name "https" */
	copy = xstrndup(text, len);
	kind = copy + strspn(copy, " \t");
	klen = strcspn(kind, " \t");
	name = kind + klen + strspn(kind + klen, " \t");
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		name[--len] = '\0';
	kind[klen] = '\0';

	for (i = 0; i < NSEC_KINDS; i++)
		if (strcmp(kind, sec_kinds[i].name) == 0)
			break;
	if (i == NSEC_KINDS) {
		unknown_section(st, kind, name);
		goto out;
	}
	if (!sec_kinds[i].named && *name != '\0') {
		diag_error(st->d, st->line, "[%s %s]: [%s] takes no name",
		    kind, name, kind);
		goto out;
	}
	if (sec_kinds[i].named && *name == '\0') {
		diag_error(st->d, st->line, "[%s] needs a name, as in "
		    "[%s NAME]", kind, kind);
		goto out;
	}
	if (sec_kinds[i].named && parse_name(name, err, sizeof(err)) < 0) {
		diag_error(st->d, st->line, "[%s %s]: %s", kind, name, err);
		goto out;
	}
	if ((prev = find_section(st, sec_kinds[i].kind,
	    sec_kinds[i].named ? name : NULL)) != NULL) {
		diag_error(st->d, st->line, "duplicate section %s (first at "
		    "line %d)", section_label(prev, label, sizeof(label)),
		    prev->line);
		goto out;
	}

	s->kind = sec_kinds[i].kind;
	if (sec_kinds[i].named)
		s->name = xstrdup(name);
	switch (s->kind) {
	case SEC_LISTENER:
		c->listeners = xrealloc(c->listeners,
		    (c->nlisteners + 1) * sizeof(*c->listeners));
		s->idx = c->nlisteners++;
		memset(&c->listeners[s->idx], 0, sizeof(*c->listeners));
		c->listeners[s->idx].name = xstrdup(name);
		c->listeners[s->idx].line = st->line;
		section_defaults_listener(&c->listeners[s->idx]);
		break;
	case SEC_GROUP:
		c->groups = xrealloc(c->groups,
		    (c->ngroups + 1) * sizeof(*c->groups));
		s->idx = c->ngroups++;
		memset(&c->groups[s->idx], 0, sizeof(*c->groups));
		c->groups[s->idx].name = xstrdup(name);
		c->groups[s->idx].line = st->line;
		section_defaults_group(&c->groups[s->idx]);
		break;
	case SEC_NONE:
	case SEC_GLOBAL:
	case SEC_ADMIN:
		break;
	}
out:
	free(copy);
}

/*
 * The reader is the lexer in front of inih. It reads whole lines itself,
 * so it knows the real line number (inih counts fgets chunks, and a long
 * line is several chunks), replaces an over-long line by a blank one
 * instead of letting inih see its tail as a line of its own, and strips
 * leading blanks so that an indented key is just a key: inih would
 * otherwise append it to the previous key's value (multi-line values).
 * It also opens sections, which inih does not report when they are empty.
 */

static void
syntax_error(struct state *st, const char *msg)
{
	if (st->first_syntax_line == 0)
		st->first_syntax_line = st->line;
	diag_error(st->d, st->line, "syntax error: %s", msg);
}

/* Called once inih is done with the current line. */
static void
line_done(struct state *st)
{
	if (st->kind == LK_KEY && !st->handled)
		syntax_error(st, "expected '[section]' or 'key = value'");
	st->kind = LK_NONE;
}

static void
line_classify(struct state *st, const char *p)
{
	const char *q, *rest;
	bool was_space = false;
	size_t n;

	st->kind = LK_SKIP;
	if (p[strspn(p, " \t\v\f\r\n")] == '\0' || *p == ';' || *p == '#')
		return;
	if (*p != '[') {
		st->kind = LK_KEY;
		return;
	}
	/* like inih: the header ends at ']' or at a ';' after a blank */
	for (q = p + 1; *q != '\0' && *q != ']' && !(was_space && *q == ';');
	    q++)
		was_space = isspace((unsigned char)*q);
	if (*q != ']') {
		syntax_error(st, "section header has no ']'");
		return;
	}
	rest = q + 1 + strspn(q + 1, " \t\v\f\r\n");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		n = strcspn(rest, "\r\n");
		diag_error(st->d, st->line, "unexpected '%.*s' after ']'",
		    (int)n, rest);
	}
	section_begin(st, p + 1, (size_t)(q - p - 1));
}

static int
line_next(struct state *st, int num)
{
	ssize_t n;
	size_t len;
	char *p;

	errno = 0;
	if ((n = getline(&st->buf, &st->bufcap, st->fp)) < 0) {
		if (ferror(st->fp)) {
			st->read_error = true;
			st->read_errno = errno;
		}
		return -1;
	}
	st->line++;
	st->handled = false;
	p = st->buf;
	if (st->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;		/* UTF-8 byte order mark */
	len = strlen(p);
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > (size_t)num - 1) {
		diag_error(st->d, st->line, "line is longer than %d characters",
		    num - 1);
		st->out = "\n";
		st->kind = LK_SKIP;
	} else {
		p += strspn(p, " \t\v\f");
		st->out = p;
		line_classify(st, p);
	}
	st->outlen = strlen(st->out);
	st->outpos = 0;
	return 0;
}

static char *
read_cb(char *str, int num, void *arg)
{
	struct state *st = arg;
	size_t n;

	if (num < 2)
		return NULL;
	if (st->outpos == st->outlen) {
		line_done(st);
		if (line_next(st, num) < 0)
			return NULL;
	}
	n = st->outlen - st->outpos;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, st->out + st->outpos, n);
	str[n] = '\0';
	st->outpos += n;
	if (st->nchunks == st->chunkcap) {
		st->chunkcap = st->chunkcap == 0 ? 64 : st->chunkcap * 2;
		st->chunk_line = xrealloc(st->chunk_line,
		    st->chunkcap * sizeof(*st->chunk_line));
	}
	st->chunk_line[st->nchunks++] = st->line;
	return str;
}

static void *
section_obj(struct state *st, const struct section *s)
{
	switch (s->kind) {
	case SEC_LISTENER:
		return &st->c->listeners[s->idx];
	case SEC_GROUP:
		return &st->c->groups[s->idx];
	case SEC_GLOBAL:
	case SEC_ADMIN:
	case SEC_NONE:
		break;
	}
	return st->c;
}

static size_t
key_index(const struct key *keys, const char *name)
{
	size_t i;

	for (i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

/* Reports an unknown key with the most useful hint we can find. */
static void
unknown_key(struct state *st, const char *name)
{
	const struct key *keys = keys_of(st->cur->kind);
	char label[128], hint[512];
	size_t i, n, len;

	section_label(st->cur, label, sizeof(label));
	for (i = 0; keys[i].name != NULL; i++) {
		if (is_close(name, keys[i].name)) {
			diag_error(st->d, st->line, "unknown key '%s' in %s "
			    "(did you mean '%s'?)", name, label,
			    keys[i].name);
			return;
		}
	}
	hint[0] = '\0';
	for (i = 0, n = 0; i < NSEC_KINDS; i++) {
		if (sec_kinds[i].kind == st->cur->kind ||
		    sec_kinds[i].keys[key_index(sec_kinds[i].keys,
		    name)].name == NULL)
			continue;
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "%s[%s%s]",
		    n++ == 0 ? "" : " or ", sec_kinds[i].name,
		    sec_kinds[i].named ? " NAME" : "");
	}
	if (n > 0) {
		diag_error(st->d, st->line, "unknown key '%s' in %s (it "
		    "belongs in %s)", name, label, hint);
		return;
	}
	for (n = 0; keys[n].name != NULL; n++)
		continue;
	if (n > 10) {
		diag_error(st->d, st->line, "unknown key '%s' in %s (see "
		    "mtlslb.ini(5) for the keys of [%s%s])", name, label,
		    kind_name(st->cur->kind), st->cur->name ? " NAME" : "");
		return;
	}
	for (i = 0; i < n; i++) {
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "%s%s",
		    i == 0 ? "" : ", ", keys[i].name);
	}
	diag_error(st->d, st->line, "unknown key '%s' in %s (valid keys: %s)",
	    name, label, hint);
}

/* Always returns 1: problems are recorded here, not reported to inih. */
static int
handler_cb(void *arg, const char *section, const char *name,
    const char *value)
{
	struct state *st = arg;
	struct section *s = st->cur;
	const struct key *keys, *k;
	char err[ERRLEN], label[128];
	size_t i;
	void *obj;

	st->handled = true;
	if (*name == '\0') {
		diag_error(st->d, st->line,
		    "syntax error: no key name before '='");
		return 1;
	}
	if (s == NULL) {
		diag_error(st->d, st->line, "key '%s' comes before any "
		    "[section]%s", name,
		    global_keys[key_index(global_keys, name)].name != NULL ?
		    " (put it under [global])" : "");
		return 1;
	}
	if (s->kind == SEC_NONE)
		return 1;	/* the header was reported already */
	keys = keys_of(s->kind);
	if (keys[i = key_index(keys, name)].name == NULL) {
		unknown_key(st, name);
		return 1;
	}
	assert(i < MAX_KEYS);
	k = &keys[i];
	if (s->seen[i] != 0 && (k->flags & KEY_REPEAT) == 0) {
		diag_error(st->d, st->line, "duplicate key '%s' in %s (first "
		    "set at line %d)", name,
		    section_label(s, label, sizeof(label)), s->seen[i]);
		return 1;
	}
	if (s->seen[i] == 0)
		s->seen[i] = st->line;
	if (*value == '\0') {
		diag_error(st->d, st->line, "%s: value is empty", name);
		return 1;
	}
	obj = section_obj(st, s);
	if (k->parse(st, k, obj, value, err, sizeof(err)) < 0) {
		diag_error(st->d, st->line, "%s: %s", name, err);
		return 1;
	}
	if (k->line_off != NOLINE)
		*(int *)(void *)((char *)obj + k->line_off) = st->line;
	return 1;
}

/* Checks: rules that need the whole file. */

/* The line the key was first set on in s, or 0. */
static int
seen_line(const struct section *s, const char *name)
{
	const struct key *keys = keys_of(s->kind);
	size_t i = key_index(keys, name);

	assert(keys[i].name != NULL);
	return s->seen[i];
}

static void
check_file(struct state *st, const char *key, const char *path, int line)
{
	struct stat sb;
	int fd;

	if (path == NULL)
		return;
	/* O_NONBLOCK: opening a FIFO must not hang the check */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) <
	    0) {
		diag_error(st->d, line, "%s: cannot read '%s': %s", key, path,
		    strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		diag_error(st->d, line, "%s: cannot read '%s': %s", key, path,
		    strerror(EISDIR));
	close(fd);
}

static bool
is_wildcard(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
}

static in_port_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port;
}

static void
binds_of(struct state *st, const struct section *s, struct addr_conf **list,
    size_t *n)
{
	*list = NULL;
	*n = 0;
	if (s->kind == SEC_LISTENER) {
		*list = st->c->listeners[s->idx].binds;
		*n = st->c->listeners[s->idx].nbinds;
	} else if (s->kind == SEC_ADMIN) {
		*list = st->c->admin_binds;
		*n = st->c->nadmin_binds;
	}
}

/*
 * Two sockets cannot listen on the same address, nor on a specific address
 * and the wildcard of the same family and port. Compares each bind of s
 * with those before it in the file.
 */
static void
check_binds(struct state *st, const struct section *s)
{
	struct addr_conf *mine, *theirs, *a, *b;
	size_t nmine, ntheirs, i, j, k;
	char label[128];

	binds_of(st, s, &mine, &nmine);
	for (i = 0; i < nmine; i++) {
		a = &mine[i];
		for (j = 0; j < st->nsecs && &st->secs[j] <= s; j++) {
			binds_of(st, &st->secs[j], &theirs, &ntheirs);
			if (&st->secs[j] == s)
				ntheirs = i;
			for (k = 0; k < ntheirs; k++) {
				b = &theirs[k];
				if (a->ss.ss_family != b->ss.ss_family ||
				    port_of(&a->ss) != port_of(&b->ss))
					continue;
				section_label(&st->secs[j], label,
				    sizeof(label));
				if (same_sockaddr(&a->ss, &b->ss)) {
					diag_error(st->d, a->line, "bind: '%s' "
					    "is already used by %s (line %d)",
					    a->text, label, b->line);
					goto next;
				}
				if (is_wildcard(&a->ss) ||
				    is_wildcard(&b->ss)) {
					diag_error(st->d, a->line, "bind: '%s' "
					    "overlaps '%s' of %s (line %d)",
					    a->text, b->text, label, b->line);
					goto next;
				}
			}
		}
next:
		continue;
	}
}

static void
check_group_ref(struct state *st, const struct section *s,
    struct listener_conf *l)
{
	struct config *c = st->c;
	char names[512];
	size_t i, len;

	if (l->server_group == NULL || l->group != NULL)
		return;
	for (i = 0; i < c->ngroups; i++) {
		if (is_close(l->server_group, c->groups[i].name)) {
			diag_error(st->d, l->server_group_line, "server_group: "
			    "no [server_group %s] (did you mean '%s'?)",
			    l->server_group, c->groups[i].name);
			return;
		}
	}
	if (c->ngroups == 0) {
		diag_error(st->d, l->server_group_line, "server_group: no "
		    "[server_group %s] (the file defines no server group)",
		    l->server_group);
		return;
	}
	names[0] = '\0';
	for (i = 0; i < c->ngroups; i++) {
		len = strlen(names);
		snprintf(names + len, sizeof(names) - len, "%s'%s'",
		    i == 0 ? "" : ", ", c->groups[i].name);
	}
	diag_error(st->d, l->server_group_line, "server_group: no "
	    "[server_group %s] (defined: %s)", l->server_group, names);
}

static void
check_listener(struct state *st, const struct section *s)
{
	struct listener_conf *l = &st->c->listeners[s->idx];
	char label[128], a[32], b[32];
	int line;

	section_label(s, label, sizeof(label));
	/* a bad mutual_authentication value was reported already */
	if (l->mutual_authentication != MTLS_OFF &&
	    l->ca_certificate == NULL &&
	    (seen_line(s, "mutual_authentication") == 0 ||
	    l->mutual_authentication_line != 0)) {
		if (l->mutual_authentication_line != 0)
			diag_error(st->d, l->mutual_authentication_line,
			    "mutual_authentication: '%s' needs ca_certificate "
			    "in %s (add ca_certificate or set "
			    "mutual_authentication = off)",
			    l->mutual_authentication == MTLS_ON ? "on" :
			    "optional", label);
		else if (seen_line(s, "ca_certificate") == 0)
			diag_error(st->d, s->line, "%s: mutual_authentication "
			    "is on by default and needs ca_certificate (add "
			    "ca_certificate or set mutual_authentication = "
			    "off)", label);
	}
	if (l->crl != NULL && l->ca_certificate == NULL &&
	    seen_line(s, "ca_certificate") == 0)
		diag_error(st->d, l->crl_line, "crl: needs ca_certificate in "
		    "%s", label);
	if (l->mutual_authentication == MTLS_OFF && l->ca_certificate != NULL)
		diag_warn(st->d, l->ca_certificate_line, "ca_certificate: "
		    "ignored because mutual_authentication = off in %s",
		    label);
	if (l->crl_check_line != 0 && l->crl == NULL &&
	    seen_line(s, "crl") == 0)
		diag_warn(st->d, l->crl_check_line, "crl_check: has no effect "
		    "without crl in %s", label);
	if (l->max_request_line > l->max_request_header_size) {
		if ((line = seen_line(s, "max_request_line")) == 0)
			line = seen_line(s, "max_request_header_size");
		diag_error(st->d, line, "max_request_line: '%s' is larger "
		    "than max_request_header_size '%s'",
		    parse_fmt_size(l->max_request_line, a, sizeof(a)),
		    parse_fmt_size(l->max_request_header_size, b, sizeof(b)));
	}
	check_group_ref(st, s, l);
	check_file(st, "server_certificate", l->server_certificate,
	    l->server_certificate_line);
	check_file(st, "server_private_key", l->server_private_key,
	    l->server_private_key_line);
	check_file(st, "ca_certificate", l->ca_certificate,
	    l->ca_certificate_line);
	check_file(st, "crl", l->crl, l->crl_line);
}

static void
check_group(struct state *st, const struct section *s, bool used)
{
	struct group_conf *g = &st->c->groups[s->idx];
	char label[128], a[32], b[32];
	size_t i;
	int line;

	section_label(s, label, sizeof(label));
	if (!used)
		diag_warn(st->d, s->line, "%s is not used by any listener",
		    label);
	for (i = 0; i < g->nservers && g->servers[i].weight == 0; i++)
		continue;
	if (g->nservers > 0 && i == g->nservers)
		diag_warn(st->d, s->line, "%s: every server has weight 0, so "
		    "no request can be sent", label);
	if (g->health_check &&
	    g->health_check_timeout_ms >= g->health_check_interval_ms) {
		if ((line = seen_line(s, "health_check_timeout")) == 0)
			line = seen_line(s, "health_check_interval");
		diag_warn(st->d, line, "health_check_timeout: '%s' is not "
		    "shorter than health_check_interval '%s'",
		    parse_fmt_duration(g->health_check_timeout_ms, a,
		    sizeof(a)),
		    parse_fmt_duration(g->health_check_interval_ms, b,
		    sizeof(b)));
	}
}

static void
check(struct state *st)
{
	struct config *c = st->c;
	const struct key *keys;
	struct listener_conf *l;
	struct section *s;
	char label[128];
	bool *used;
	size_t i, j;

	/*
	 * Resolve the groups only now: c->groups was realloc'd while the
	 * file was read.
	 */
	used = xcalloc(c->ngroups + 1, sizeof(*used));
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		for (j = 0; l->server_group != NULL && j < c->ngroups; j++) {
			if (strcmp(l->server_group, c->groups[j].name) == 0) {
				l->group = &c->groups[j];
				used[j] = true;
				break;
			}
		}
	}

	for (i = 0; i < st->nsecs; i++) {
		s = &st->secs[i];
		if (s->kind == SEC_NONE)
			continue;
		keys = keys_of(s->kind);
		for (j = 0; keys[j].name != NULL; j++) {
			if ((keys[j].flags & KEY_REQUIRED) && s->seen[j] == 0)
				diag_error(st->d, s->line, "missing key '%s' "
				    "in %s", keys[j].name,
				    section_label(s, label, sizeof(label)));
		}
		if (s->kind == SEC_LISTENER)
			check_listener(st, s);
		else if (s->kind == SEC_GROUP)
			check_group(st, s, used[s->idx]);
		check_binds(st, s);
	}
	if (c->nlisteners == 0)
		diag_error(st->d, 0, "no [listener NAME] section (at least "
		    "one is required)");
	free(used);
}

static struct config *
config_new(const char *path)
{
	struct config *c;

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	c->log_level = LOGLEVEL_INFO;
	c->error_log = xstrdup("stderr");
	c->access_log = xstrdup("stderr");
	c->shutdown_timeout_ms = 30 * MS_SEC;
	c->expiry_warning_s = 7 * 86400;
	return c;
}

struct config *
config_load(const char *path, struct diag *d)
{
	struct state st;
	struct config *c;
	size_t errors = diag_errors(d), i;
	int rc, line;

	memset(&st, 0, sizeof(st));
	st.c = c = config_new(path);
	st.d = d;
	if ((st.fp = fopen(path, "re")) == NULL) {
		diag_error(d, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	rc = ini_parse_stream(read_cb, &st, handler_cb, &st);
	line_done(&st);
	if (st.read_error) {
		diag_error(d, 0, "cannot read: %s", strerror(st.read_errno));
		goto out;
	}
	if (rc > 0) {
		/* inih reports its first error only; we saw them all */
		line = (size_t)rc <= st.nchunks ? st.chunk_line[rc - 1] : 0;
		if (line != st.first_syntax_line)
			diag_error(d, line, "syntax error: expected "
			    "'[section]' or 'key = value'");
	} else if (rc < 0) {
		diag_error(d, 0, "cannot parse: inih failed with %d", rc);
		goto out;
	}
	check(&st);
out:
	if (st.fp != NULL)
		fclose(st.fp);
	for (i = 0; i < st.nsecs; i++)
		free(st.secs[i].name);
	free(st.secs);
	free(st.buf);
	free(st.chunk_line);
	if (diag_errors(d) > errors) {
		config_free(c);
		return NULL;
	}
	return c;
}

static void
addrs_free(struct addr_conf *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(a[i].text);
	free(a);
}

void
config_free(struct config *c)
{
	struct listener_conf *l;
	struct group_conf *g;
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlisteners; i++) {
		l = &c->listeners[i];
		free(l->name);
		addrs_free(l->binds, l->nbinds);
		free(l->server_certificate);
		free(l->server_private_key);
		free(l->ca_certificate);
		free(l->crl);
		free(l->server_group);
	}
	free(c->listeners);
	for (i = 0; i < c->ngroups; i++) {
		g = &c->groups[i];
		free(g->name);
		for (j = 0; j < g->nservers; j++) {
			free(g->servers[j].name);
			free(g->servers[j].addr.text);
		}
		free(g->servers);
		free(g->health_check_path);
		free(g->health_check_host);
	}
	free(c->groups);
	addrs_free(c->admin_binds, c->nadmin_binds);
	free(c->path);
	free(c->error_log);
	free(c->access_log);
	free(c->user);
	free(c);
}

void
config_foreach_key(void (*cb)(const char *section, const char *key,
    void *arg), void *arg)
{
	const struct key *k;
	size_t i;

	for (i = 0; i < NSEC_KINDS; i++)
		for (k = sec_kinds[i].keys; k->name != NULL; k++)
			cb(sec_kinds[i].name, k->name, arg);
}
