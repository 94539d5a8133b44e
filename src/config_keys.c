/*
 * config_keys: the key tables, one per section kind (the types of the
 * values they hold are in config_types.c). A row is the whole truth about
 * a key: how it is parsed and stored, its default, its line field and the
 * kind of file it names, so adding a key (or a second certificate) is one
 * row here. Never reads the file and never checks one key against another
 * (config_check.c).
 */
#include "ac_config.h"
#include "config_keys.h"

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
#include "config_types.h"
#include "diag.h"
#include "parse.h"
#include "util.h"

static_assert(sizeof(enum sched_kind) == sizeof(int), "enum is not int");
static_assert(sizeof(enum mtls_mode) == sizeof(int), "enum is not int");
static_assert(sizeof(enum log_level_conf) == sizeof(int), "enum is not int");
static_assert(sizeof(enum pp_send) == sizeof(int), "enum is not int");
static_assert(sizeof(enum route_cert) == sizeof(int), "enum is not int");
static_assert(HC_CODE_2XX == PARSE_HTTP_CLASS(2) &&
    HC_CODE_3XX == PARSE_HTTP_CLASS(3) && HC_CODE_4XX == PARSE_HTTP_CLASS(4) &&
    HC_CODE_5XX == PARSE_HTTP_CLASS(5),
    "parse_http_codes() stores its bits in health_check_http_code");
/* A line_off of 0 means "no line field": offset 0 is always a name. */
static_assert(offsetof(struct config, path) == 0, "line_off 0 is taken");
static_assert(offsetof(struct listener_conf, name) == 0, "line_off 0 is taken");
static_assert(offsetof(struct group_conf, name) == 0, "line_off 0 is taken");
static_assert(offsetof(struct route_conf, name) == 0, "line_off 0 is taken");

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
static const struct parse_enum session_caches[] = {
	{ "shared", SESSION_CACHE_SHARED }, { "worker", SESSION_CACHE_WORKER },
	{ "off", SESSION_CACHE_OFF }, { NULL, 0 },
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
static const struct parse_enum protocols[] = {
	{ "https", 0 }, { "http", 1 }, { NULL, 0 },
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
static const struct parse_enum pp_sends[] = {
	{ "off", PP_SEND_OFF }, { "v1", PP_SEND_V1 }, { "v2", PP_SEND_V2 },
	{ "v2_ssl", PP_SEND_V2_SSL }, { NULL, 0 },
};
static const struct parse_enum route_certs[] = {
	{ "inherit", ROUTE_CERT_INHERIT }, { "required", ROUTE_CERT_REQUIRED },
	{ "optional", ROUTE_CERT_OPTIONAL }, { NULL, 0 },
};
static const struct parse_enum hc_initial[] = {
	{ "healthy", 1 }, { "unhealthy", 0 }, { NULL, 0 },
};

#define G(f)	offsetof(struct config, f)
#define L(f)	offsetof(struct listener_conf, f)
#define S(f)	offsetof(struct group_conf, f)
#define R(f)	offsetof(struct route_conf, f)

static const struct config_key global_keys[] = {
	{ "workers", &t_workers, G(workers), .min = 1, .max = 64, .def = 0 },
	{ "log_level", &t_enum, G(log_level), .tab = log_levels,
	    .def = LOGLEVEL_INFO },
	{ "error_log", &t_log, G(error_log), .tab = error_logs,
	    .def_str = "stderr" },
	{ "access_log", &t_log, G(access_log), .tab = access_logs,
	    .def_str = "stderr" },
	{ "access_log_format", &t_enum_bool, G(access_log_json),
	    .tab = log_formats, .def = false },
	{ "user", &t_user, G(user), .def_str = NULL },
	{ "pid_file", &t_path, G(pid_file), .def_str = NULL },
	{ "shutdown_timeout", &t_duration, G(shutdown_timeout_ms),
	    .max = MS_DAY, .def = 30 * MS_SEC },
	{ "reload_on_change", &t_onoff, G(reload_on_change), .def = false },
	{ "expiry_warning", &t_duration_s, G(expiry_warning_s),
	    .max = 365 * MS_DAY, .def = 7 * 86400 },
	{ "drain_delay", &t_duration, G(drain_delay_ms),
	    .max = 10 * 60 * MS_SEC, .def = 0 },
	{ .name = NULL },
};

static const struct config_key listener_keys[] = {
	{ "bind", &t_binds, L(binds), .count_off = L(nbinds),
	    .flags = CONFIG_KEY_REPEAT | CONFIG_KEY_REQUIRED },
	{ "protocol", &t_enum_bool, L(plain_http),
	    .line_off = L(protocol_line), .tab = protocols, .def = false },
	{ "redirect_to_https", &t_onoff, L(redirect_to_https),
	    .line_off = L(redirect_to_https_line), .def = false },
	{ "https_port", &t_uint, L(https_port), .line_off = L(https_port_line),
	    .min = 1, .max = 65535, .def = 443 },
	{ "accept_proxy_protocol", &t_onoff, L(accept_proxy_protocol),
	    .line_off = L(accept_proxy_protocol_line), .def = false },
	{ "proxy_protocol_from", &t_cidrs, L(proxy_from),
	    .count_off = L(nproxy_from),
	    .line_off = L(proxy_protocol_from_line),
	    .flags = CONFIG_KEY_REPEAT },
	{ "server_name", &t_names, L(server_names),
	    .count_off = L(nserver_names), .line_off = L(server_name_line),
	    .flags = CONFIG_KEY_REPEAT },
	{ "default_server", &t_onoff, L(default_server),
	    .line_off = L(default_server_line), .def = false },
	{ "strict_sni", &t_onoff, L(strict_sni),
	    .line_off = L(strict_sni_line), .def = false },
	{ "server_certificate", &t_paths, L(server_certificate),
	    .line_off = L(server_certificate_line),
	    .more_off = L(more_certificates),
	    .count_off = L(nmore_certificates),
	    .flags = CONFIG_KEY_REQUIRED | CONFIG_KEY_REPEAT | CONFIG_KEY_MORE,
	    .file = CONFIG_FILE_CERT },
	{ "server_private_key", &t_paths, L(server_private_key),
	    .line_off = L(server_private_key_line),
	    .more_off = L(more_keys), .count_off = L(nmore_keys),
	    .flags = CONFIG_KEY_REQUIRED | CONFIG_KEY_REPEAT | CONFIG_KEY_MORE,
	    .file = CONFIG_FILE_KEY },
	{ "mutual_authentication", &t_enum, L(mutual_authentication),
	    .line_off = L(mutual_authentication_line), .tab = mtls_modes,
	    .def = MTLS_ON },
	{ "ca_certificate", &t_path, L(ca_certificate),
	    .line_off = L(ca_certificate_line), .file = CONFIG_FILE_CA },
	{ "crl", &t_path, L(crl), .line_off = L(crl_line),
	    .file = CONFIG_FILE_CRL },
	{ "verify_depth", &t_uint, L(verify_depth),
	    .line_off = L(verify_depth_line), .max = 32, .def = 3 },
	{ "tls_min_version", &t_enum, L(tls_min_version),
	    .tab = tls_versions, .def = 0x0303 },
	{ "server_group", &t_string, L(server_group),
	    .line_off = L(server_group_line), .flags = CONFIG_KEY_REQUIRED },
	{ "forward_client_cert", &t_fcc, L(forward_client_cert),
	    .def = FCC_ALIBABA },
	{ "allow", &t_allows, L(allow), .count_off = L(nallow),
	    .flags = CONFIG_KEY_REPEAT },
	{ "max_client_cert_header_size", &t_size,
	    L(max_client_cert_header_size), .min = 256, .max = 64u << 10,
	    .def = 4 << 10 },
	{ "x_forwarded_for", &t_enum_bool, L(x_forwarded_for_replace),
	    .tab = xff_modes, .def = false },
	{ "reject_with", &t_enum_bool, L(reject_tls_alert),
	    .tab = reject_withs, .def = false },
	{ "crl_check", &t_enum_bool, L(crl_check_chain),
	    .line_off = L(crl_check_line), .tab = crl_checks, .def = false },
	{ "max_connections", &t_uint, L(max_connections), .max = 1000000,
	    .def = 0 },
	{ "handshake_timeout", &t_duration, L(handshake_timeout_ms), .min = 1,
	    .max = MS_DAY, .def = 10 * MS_SEC },
	{ "client_header_timeout", &t_duration, L(client_header_timeout_ms),
	    .min = 1, .max = MS_DAY, .def = 10 * MS_SEC },
	{ "client_body_timeout", &t_duration, L(client_body_timeout_ms),
	    .min = 1, .max = MS_DAY, .def = 60 * MS_SEC },
	{ "keepalive_timeout", &t_duration, L(keepalive_timeout_ms),
	    .max = MS_DAY, .def = 75 * MS_SEC },
	{ "keepalive_requests", &t_uint, L(keepalive_requests), .min = 1,
	    .max = 1000000, .def = 1000 },
	{ "tunnel_timeout", &t_duration, L(tunnel_timeout_ms), .min = 1,
	    .max = MS_DAY, .def = 3600 * MS_SEC },
	{ "max_request_line", &t_size, L(max_request_line), .min = 256,
	    .max = 1u << 20, .def = 8 << 10 },
	{ "max_request_header_size", &t_size, L(max_request_header_size),
	    .min = 1u << 10, .max = 16u << 20, .def = 64 << 10 },
	{ "max_request_body_size", &t_size64, L(max_request_body_size),
	    .max = (uint64_t)1 << 40, .def = 0 },
	{ "http2", &t_onoff, L(http2), .def = true },
	{ "http2_max_concurrent_streams", &t_uint,
	    L(http2_max_concurrent_streams), .min = 1, .max = 1000,
	    .def = 128 },
	{ "http2_initial_window_size", &t_size, L(http2_initial_window_size),
	    .min = 1u << 10, .max = (1u << 31) - 1, .def = 64 << 10 },
	{ "http2_max_header_list_size", &t_size,
	    L(http2_max_header_list_size), .min = 1u << 10, .max = 16u << 20,
	    .def = 64 << 10 },
	{ "http2_max_frame_size", &t_size, L(http2_max_frame_size),
	    .min = 16u << 10, .max = (16u << 20) - 1, .def = 16 << 10 },
	{ "session_cache", &t_enum, L(session_cache), .tab = session_caches,
	    .def = SESSION_CACHE_SHARED },
	{ "session_ticket_keys", &t_path, L(session_ticket_keys),
	    .line_off = L(session_ticket_keys_line),
	    .file = CONFIG_FILE_TICKET_KEYS },
	{ "session_cache_size", &t_uint, L(session_cache_size),
	    .max = 1000000, .def = 1024 },
	{ "session_timeout", &t_duration, L(session_timeout_ms),
	    .min = MS_SEC, .max = MS_DAY, .def = 300 * MS_SEC },
	{ .name = NULL },
};

static const struct config_key group_keys[] = {
	{ "scheduler", &t_enum, S(scheduler), .tab = schedulers,
	    .def = SCHED_ROUND_ROBIN },
	{ "server", &t_servers, S(servers), .count_off = S(nservers),
	    .flags = CONFIG_KEY_REPEAT | CONFIG_KEY_REQUIRED },
	{ "backend_timeout", &t_duration, S(backend_timeout_ms), .min = 1,
	    .max = MS_DAY, .def = 60 * MS_SEC },
	{ "connect_timeout", &t_duration, S(connect_timeout_ms), .min = 1,
	    .max = MS_DAY, .def = 5 * MS_SEC },
	{ "max_idle_connections", &t_uint, S(max_idle_connections),
	    .max = 10000, .def = 32 },
	{ "idle_connection_timeout", &t_duration,
	    S(idle_connection_timeout_ms), .min = 1, .max = MS_DAY,
	    .def = 30 * MS_SEC },
	{ "health_check", &t_onoff, S(health_check), .def = true },
	{ "health_check_path", &t_hc_path, S(health_check_path),
	    .def_str = "/" },
	{ "health_check_host", &t_hc_host, S(health_check_host),
	    .def_str = NULL },
	{ "health_check_port", &t_uint, S(health_check_port), .min = 1,
	    .max = 65535, .def = 0 },
	{ "health_check_interval", &t_duration, S(health_check_interval_ms),
	    .min = 100, .max = MS_DAY, .def = 2 * MS_SEC },
	{ "health_check_timeout", &t_duration, S(health_check_timeout_ms),
	    .min = 1, .max = MS_DAY, .def = 1 * MS_SEC },
	{ "healthy_threshold", &t_uint, S(healthy_threshold), .min = 1,
	    .max = 10, .def = 2 },
	{ "unhealthy_threshold", &t_uint, S(unhealthy_threshold), .min = 1,
	    .max = 10, .def = 2 },
	{ "health_check_http_code", &t_http_codes, S(health_check_http_code),
	    .def = HC_CODE_2XX | HC_CODE_3XX },
	{ "health_check_method", &t_enum_bool, S(health_check_head),
	    .tab = hc_methods, .def = false },
	{ "all_servers_down", &t_enum_bool, S(all_servers_down_try_all),
	    .tab = all_down, .def = false },
	{ "health_check_initial", &t_enum_bool,
	    S(health_check_initial_healthy), .tab = hc_initial, .def = true },
	{ "send_proxy_protocol", &t_enum, S(send_proxy_protocol),
	    .line_off = S(send_proxy_protocol_line), .tab = pp_sends,
	    .def = PP_SEND_OFF },
	{ "backend_tls", &t_onoff, S(backend_tls),
	    .line_off = S(backend_tls_line), .def = false },
	{ "backend_ca_certificate", &t_path, S(backend_ca_certificate),
	    .line_off = S(backend_ca_certificate_line),
	    .file = CONFIG_FILE_CA },
	{ "backend_verify", &t_onoff, S(backend_verify),
	    .line_off = S(backend_verify_line), .def = true },
	{ "backend_server_name", &t_hc_host, S(backend_server_name),
	    .line_off = S(backend_server_name_line), .def_str = NULL },
	{ "backend_certificate", &t_path, S(backend_certificate),
	    .line_off = S(backend_certificate_line),
	    .file = CONFIG_FILE_CERT },
	{ "backend_private_key", &t_path, S(backend_private_key),
	    .line_off = S(backend_private_key_line),
	    .file = CONFIG_FILE_KEY },
	{ "backend_tls_min_version", &t_enum, S(backend_tls_min_version),
	    .line_off = S(backend_tls_min_version_line), .tab = tls_versions,
	    .def = 0x0303 },
	{ .name = NULL },
};

static const struct config_key admin_keys[] = {
	{ "bind", &t_binds, G(admin_binds), .count_off = G(nadmin_binds),
	    .flags = CONFIG_KEY_REPEAT | CONFIG_KEY_REQUIRED },
	{ "server_certificate", &t_path, G(admin_server_certificate),
	    .line_off = G(admin_server_certificate_line),
	    .file = CONFIG_FILE_CERT },
	{ "server_private_key", &t_path, G(admin_server_private_key),
	    .line_off = G(admin_server_private_key_line),
	    .file = CONFIG_FILE_KEY },
	{ "ca_certificate", &t_path, G(admin_ca_certificate),
	    .line_off = G(admin_ca_certificate_line), .file = CONFIG_FILE_CA },
	{ "allow", &t_subjects, G(admin_allow), .count_off = G(nadmin_allow),
	    .flags = CONFIG_KEY_REPEAT },
	{ "insecure", &t_onoff, G(admin_insecure), .def = false },
	{ .name = NULL },
};

static const struct config_key route_keys[] = {
	{ "listener", &t_route_listener, R(listeners),
	    .count_off = R(nlisteners),
	    .flags = CONFIG_KEY_REPEAT | CONFIG_KEY_REQUIRED },
	{ "host", &t_route_host, R(host), .def_str = NULL },
	{ "path_prefix", &t_path_prefix, R(path_prefix), .def_str = NULL },
	{ "server_group", &t_string, R(server_group),
	    .line_off = R(server_group_line), .def_str = NULL },
	{ "client_certificate", &t_enum, R(client_certificate),
	    .line_off = R(client_certificate_line), .tab = route_certs,
	    .def = ROUTE_CERT_INHERIT },
	{ "allow", &t_allows, R(allow), .count_off = R(nallow),
	    .flags = CONFIG_KEY_REPEAT },
	{ .name = NULL },
};

#undef G
#undef L
#undef S
#undef R

const struct config_sec_kind config_keys_sections[] = {
	{ "global", SEC_GLOBAL, false, global_keys },
	{ "listener", SEC_LISTENER, true, listener_keys },
	{ "server_group", SEC_GROUP, true, group_keys },
	{ "route", SEC_ROUTE, true, route_keys },
	{ "admin", SEC_ADMIN, false, admin_keys },
	{ NULL, SEC_NONE, false, NULL },
};

const struct config_key *
config_keys_of(enum config_sec kind)
{
	const struct config_sec_kind *sk;

	for (sk = config_keys_sections; sk->name != NULL; sk++)
		if (sk->kind == kind)
			return sk->keys;
	return NULL;
}

const char *
config_keys_kind_name(enum config_sec kind)
{
	const struct config_sec_kind *sk;

	for (sk = config_keys_sections; sk->name != NULL; sk++)
		if (sk->kind == kind)
			return sk->name;
	return "?";
}

size_t
config_keys_index(const struct config_key *keys, const char *name)
{
	size_t i;

	for (i = 0; keys[i].name != NULL; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

int
config_keys_seen_line(const struct config_section *s, const char *name)
{
	const struct config_key *keys = config_keys_of(s->kind);
	size_t i = config_keys_index(keys, name);

	assert(keys[i].name != NULL);
	return s->seen[i];
}

const char *
config_keys_label(const struct config_section *s, char *buf, size_t len)
{
	if (s->name != NULL)
		snprintf(buf, len, "[%s %s]", config_keys_kind_name(s->kind),
		    s->name);
	else
		snprintf(buf, len, "[%s]", config_keys_kind_name(s->kind));
	return buf;
}

int
config_keys_parse(const struct config_key *k,
    const struct config_key_ctx *ctx, void *obj, const char *v, char *err,
    size_t errlen)
{
	/* a repeated CONFIG_KEY_MORE key keeps the first line */
	bool first = (k->flags & CONFIG_KEY_MORE) == 0 ||
	    *FIELD(char *, obj, k) == NULL;

	if (k->type->parse(ctx, k, obj, v, err, errlen) < 0)
		return -1;
	if (k->line_off != 0 && first)
		*(int *)(void *)((char *)obj + k->line_off) = ctx->line;
	return 0;
}

/*
 * The next file key of keys at or after *pos, read from the object base.
 * *pos is the row in its low 16 bits and, for a CONFIG_KEY_MORE row, the
 * repetition above them: each file of a repeated key comes in turn.
 */
#define POS_ROW(pos)	((pos) & 0xffff)
#define POS_MORE(pos)	((pos) >> 16)

static bool
file_next(const struct config_key *keys, const char *base, size_t *pos,
    struct config_file *f)
{
	const struct config_key *k;
	const struct file_conf *more;
	size_t row = POS_ROW(*pos), sub = POS_MORE(*pos), n;

	for (; keys[row].name != NULL; row++, sub = 0) {
		k = &keys[row];
		if (k->file == 0)
			continue;
		f->kind = k->file;
		f->key = k->name;
		if (sub == 0) {
			f->path = *(char *const *)(const void *)(base + k->off);
			f->line = k->line_off == 0 ? 0 :
			    *(const int *)(const void *)(base + k->line_off);
		} else {
			n = *(const size_t *)(const void *)(base +
			    k->count_off);
			if (sub > n)
				continue;
			more = *(struct file_conf *const *)(const void *)(base +
			    k->more_off);
			f->path = more[sub - 1].path;
			f->line = more[sub - 1].line;
		}
		if ((k->flags & CONFIG_KEY_MORE) != 0 && sub < *(const size_t *)
		    (const void *)(base + k->count_off))
			*pos = row | (sub + 1) << 16;
		else
			*pos = row + 1;
		return true;
	}
	*pos = row;
	return false;
}

bool
config_keys_file_next(const struct listener_conf *lc, size_t *pos,
    struct config_file *f)
{
	return file_next(listener_keys, (const char *)lc, pos, f);
}

bool
config_keys_group_file_next(const struct group_conf *gc, size_t *pos,
    struct config_file *f)
{
	return file_next(group_keys, (const char *)gc, pos, f);
}

void *
config_keys_obj(struct config *c, const struct config_section *s)
{
	switch (s->kind) {
	case SEC_LISTENER:
		return &c->listeners[s->idx];
	case SEC_GROUP:
		return &c->groups[s->idx];
	case SEC_ROUTE:
		return &c->routes[s->idx];
	case SEC_GLOBAL:
	case SEC_ADMIN:
	case SEC_NONE:
		break;
	}
	return c;
}

bool
config_keys_written_next(const struct config_section *s, const void *obj,
    size_t *pos, struct config_file *f)
{
	const struct config_key *keys = config_keys_of(s->kind), *k;
	const char *v;

	for (; keys != NULL && keys[*pos].name != NULL; (*pos)++) {
		k = &keys[*pos];
		/* the types whose files the master writes */
		if (k->type != &t_log)
			continue;
		v = *(char *const *)(const void *)((const char *)obj + k->off);
		/* paths are stored absolute: anything else is a keyword */
		if (v == NULL || *v != '/')
			continue;
		memset(f, 0, sizeof(*f));
		f->key = k->name;
		f->path = v;
		f->line = s->seen[*pos];
		(*pos)++;
		return true;
	}
	return false;
}

void
config_keys_defaults(enum config_sec kind, void *obj)
{
	const struct config_key *k;

	/* lists (ST_ADDRS, ST_SERVERS, ST_CIDRS, ST_STRINGS) start empty */
	for (k = config_keys_of(kind); k->name != NULL; k++) {
		if (k->type->store == ST_STRING || k->type->store == ST_PATHS)
			*FIELD(char *, obj, k) = k->def_str != NULL ?
			    xstrdup(k->def_str) : NULL;
		else if (k->type->store != ST_ADDRS &&
		    k->type->store != ST_SERVERS &&
		    k->type->store != ST_CIDRS &&
		    k->type->store != ST_STRINGS &&
		    k->type->store != ST_ALLOWS)
			config_types_store_number(k, obj, k->def);
	}
}

void
config_keys_free(enum config_sec kind, void *obj)
{
	const struct config_key *k;
	struct addr_conf *a;
	struct server_conf *s;
	struct file_conf *fc;
	size_t i, n;

	for (k = config_keys_of(kind); k->name != NULL; k++) {
		switch (k->type->store) {
		case ST_STRING:
			free(*FIELD(char *, obj, k));
			break;
		case ST_PATHS:
			free(*FIELD(char *, obj, k));
			fc = *(struct file_conf **)(void *)((char *)obj +
			    k->more_off);
			n = *(size_t *)(void *)((char *)obj + k->count_off);
			for (i = 0; i < n; i++)
				free(fc[i].path);
			free(fc);
			break;
		case ST_ADDRS:
			a = *FIELD(struct addr_conf *, obj, k);
			n = *(size_t *)(void *)((char *)obj + k->count_off);
			for (i = 0; i < n; i++)
				free(a[i].text);
			free(a);
			break;
		case ST_SERVERS:
			s = *FIELD(struct server_conf *, obj, k);
			n = *(size_t *)(void *)((char *)obj + k->count_off);
			for (i = 0; i < n; i++) {
				free(s[i].name);
				free(s[i].addr.text);
			}
			free(s);
			break;
		case ST_CIDRS:
			free(*FIELD(struct parse_cidr *, obj, k));
			break;
		case ST_STRINGS:
			n = *(size_t *)(void *)((char *)obj + k->count_off);
			for (i = 0; i < n; i++)
				free((*FIELD(char **, obj, k))[i]);
			free(*FIELD(char **, obj, k));
			break;
		case ST_ALLOWS:
			allow_free(*FIELD(struct allow_rule *, obj, k),
			    *(size_t *)(void *)((char *)obj + k->count_off));
			break;
		case ST_UINT:
		case ST_SIZE:
		case ST_U64:
		case ST_BOOL:
		case ST_INT:
			break;
		}
	}
}

bool
config_keys_same_addr(const struct sockaddr_storage *a,
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

/* "Did you mean" hints */

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

bool
config_keys_is_close(const char *typo, const char *word)
{
	size_t dist = distance(typo, word);

	return dist <= 2 && dist * 2 < strlen(word);
}
