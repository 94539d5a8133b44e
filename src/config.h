/*
 * config: the parsed and checked INI file (struct config). Plain data,
 * owned by whoever called config_load(). Never opens sockets and never
 * looks inside certificates (tls.c does that).
 */
#ifndef MTLSLB_CONFIG_H
#define MTLSLB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct diag;
struct parse_cidr;

/* One HOST:PORT as written in the file, resolved numerically. */
struct addr_conf {
	struct sockaddr_storage ss;
	socklen_t len;
	char *text;			/* as written: "0.0.0.0:443", "[::]:443" */
	int line;
};

/* A file named again by a repeatable file key (a second certificate). */
struct file_conf {
	char *path;			/* absolute */
	int line;
};

struct server_conf {
	char *name;			/* "ECS01" */
	struct addr_conf addr;
	unsigned weight;		/* 0..100, default 1; 0 = drained */
	int line;
};

enum sched_kind {
	SCHED_ROUND_ROBIN,
	SCHED_WEIGHTED_ROUND_ROBIN,
	SCHED_LEAST_CONNECTIONS,
};

/* Bits of health_check_http_code: 1 << N for the class Nxx. */
#define HC_CODE_2XX	(1u << 2)
#define HC_CODE_3XX	(1u << 3)
#define HC_CODE_4XX	(1u << 4)
#define HC_CODE_5XX	(1u << 5)

/* send_proxy_protocol: the header that starts every backend connection. */
enum pp_send {
	PP_SEND_OFF,
	PP_SEND_V1,
	PP_SEND_V2,
	PP_SEND_V2_SSL,			/* v2 with PP2_TYPE_SSL */
};

struct group_conf {
	char *name;
	int line;
	enum sched_kind scheduler;
	struct server_conf *servers;
	size_t nservers;
	unsigned backend_timeout_ms;	/* 60s */
	unsigned connect_timeout_ms;	/* 5s */
	unsigned max_idle_connections;	/* per server per worker, 32 */
	unsigned idle_connection_timeout_ms; /* pooled conn lifetime, 30s */
	/* active health checks */
	bool health_check;		/* on */
	char *health_check_path;	/* "/" */
	char *health_check_host;	/* NULL: the server's address */
	unsigned health_check_port;	/* 0: the server's port */
	unsigned health_check_interval_ms;	/* 2s */
	unsigned health_check_timeout_ms;	/* 1s */
	unsigned healthy_threshold;	/* 2, 1..10 */
	unsigned unhealthy_threshold;	/* 2, 1..10 */
	unsigned health_check_http_code; /* HC_CODE_2XX | HC_CODE_3XX */
	bool health_check_head;		/* health_check_method = HEAD */
	bool all_servers_down_try_all;	/* all_servers_down = try_all */
	bool health_check_initial_healthy; /* health_check_initial, true */
	enum pp_send send_proxy_protocol;	/* off */
	int send_proxy_protocol_line;
	/* TLS to the servers */
	bool backend_tls;		/* off */
	int backend_tls_line;
	char *backend_ca_certificate;	/* NULL: the system store */
	int backend_ca_certificate_line;
	bool backend_verify;		/* on */
	int backend_verify_line;
	char *backend_server_name;	/* NULL: each server's HOST */
	int backend_server_name_line;
	char *backend_certificate;	/* mTLS to the servers; NULL: none */
	int backend_certificate_line;
	char *backend_private_key;
	int backend_private_key_line;
	int backend_tls_min_version;	/* 0x0303 TLSv1.2 */
	int backend_tls_min_version_line;
};

enum session_cache_mode {
	SESSION_CACHE_SHARED,		/* one cache for all workers (shm) */
	SESSION_CACHE_WORKER,		/* OpenSSL's, per process */
	SESSION_CACHE_OFF,
};

enum mtls_mode {
	MTLS_OFF,
	MTLS_OPTIONAL,
	MTLS_ON,
};

/* The kinds of an allow rule (allow = KIND:PATTERN). */
enum allow_kind {
	ALLOW_SUBJECT,		/* an RDN of the subject: OU=ops */
	ALLOW_ISSUER,			/* an RDN of the issuer */
	ALLOW_SAN_DNS,			/* a dNSName SAN, glob '*' */
	ALLOW_SAN_URI,			/* a URI SAN, glob '*' */
	ALLOW_SAN_EMAIL,		/* an rfc822Name SAN, glob '*' */
	ALLOW_FINGERPRINT,	/* SHA-256 of the DER, hex */
};

struct allow_rule {
	enum allow_kind kind;
	char *pattern;			/* normalised (see allow.h) */
	int line;
};

/* forward_client_cert: bits of the header families sent to backends. */
#define FCC_ALIBABA	0x1		/* X-Forwarded-Clientcert-* */
#define FCC_RFC9440	0x2		/* Client-Cert(-Chain) */
#define FCC_XFCC	0x4		/* X-Forwarded-Client-Cert (Envoy) */
#define FCC_AWS		0x8		/* X-Amzn-Mtls-Clientcert-* */
/* The families that carry the certificate itself, not only its names. */
#define FCC_NEEDS_CERT	(FCC_RFC9440 | FCC_XFCC | FCC_AWS)

struct route_conf;

struct listener_conf {
	char *name;			/* "https" from [listener https] */
	int line;
	bool plain_http;		/* protocol = http: no TLS */
	int protocol_line;
	bool redirect_to_https;		/* 308 to https://HOST[:https_port] */
	int redirect_to_https_line;
	unsigned https_port;		/* 443 */
	int https_port_line;
	bool accept_proxy_protocol;	/* a PROXY header before TLS */
	int accept_proxy_protocol_line;
	struct parse_cidr *proxy_from;	/* peers that may send one */
	size_t nproxy_from;
	int proxy_protocol_from_line;
	struct addr_conf *binds;
	size_t nbinds;
	/* several listeners may share a bind: the TLS server name picks */
	char **server_names;		/* lower case; "*.example.com" */
	size_t nserver_names;
	int server_name_line;
	bool default_server;		/* no or unknown SNI on its socket */
	int default_server_line;
	bool strict_sni;		/* unknown SNI: unrecognized_name */
	int strict_sni_line;
	char *server_certificate;
	int server_certificate_line;
	char *server_private_key;
	int server_private_key_line;
	/* the pairs after the first: the Nth key belongs to the Nth cert */
	struct file_conf *more_certificates;
	size_t nmore_certificates;
	struct file_conf *more_keys;
	size_t nmore_keys;
	enum mtls_mode mutual_authentication;	/* default on */
	int mutual_authentication_line;
	char *ca_certificate;		/* NULL when unset */
	int ca_certificate_line;
	char *crl;			/* NULL when unset */
	int crl_line;
	unsigned verify_depth;		/* 0..32, default 3 */
	int verify_depth_line;
	int tls_min_version;		/* 0x0303 TLSv1.2 (default), 0x0304 */
	char *server_group;
	int server_group_line;
	struct group_conf *group;	/* resolved by config_load */
	unsigned forward_client_cert;	/* FCC_*; default FCC_ALIBABA */
	struct allow_rule *allow;	/* allow = KIND:PATTERN, any matches */
	size_t nallow;
	/*
	 * The [route]s naming this listener, most specific first (exact
	 * host, then *.suffix by length, then none; within each, longest
	 * path_prefix first): the first that matches is the one. Pointers
	 * into config.routes, set by config_load.
	 */
	const struct route_conf **routes;
	size_t nroutes;
	bool x_forwarded_for_replace;	/* x_forwarded_for = replace */
	size_t max_client_cert_header_size; /* per forwarded DN, 4k */
	unsigned tunnel_timeout_ms;	/* idle Upgrade tunnel, 1h */
	bool reject_tls_alert;		/* reject_with = tls_alert */
	bool crl_check_chain;		/* crl_check = chain */
	int crl_check_line;
	/* limits */
	unsigned max_connections;	/* per listener per worker, 0 = none */
	unsigned handshake_timeout_ms;	/* 10s */
	unsigned client_header_timeout_ms; /* 10s */
	unsigned client_body_timeout_ms;	/* 60s */
	unsigned keepalive_timeout_ms;	/* 75s */
	unsigned keepalive_requests;	/* 1000 */
	size_t max_request_line;	/* 8k */
	size_t max_request_header_size;	/* 64k */
	uint64_t max_request_body_size;	/* 0 = unlimited */
	bool http2;			/* ALPN offers h2 (default on) */
	unsigned http2_max_concurrent_streams;	/* 128 */
	size_t http2_initial_window_size;	/* 64k */
	size_t http2_max_header_list_size;	/* 64k */
	size_t http2_max_frame_size;		/* 16k */
	enum session_cache_mode session_cache;	/* shared */
	char *session_ticket_keys;	/* NULL: no stateless tickets */
	int session_ticket_keys_line;
	unsigned session_cache_size;	/* entries, 1024; 0 = off */
	unsigned session_timeout_ms;	/* 300s */
};

/* client_certificate of a route. */
enum route_cert {
	ROUTE_CERT_INHERIT,		/* as the listener says */
	ROUTE_CERT_REQUIRED,		/* 400 without one */
	ROUTE_CERT_OPTIONAL,		/* none: allow rules skipped */
};

/* [route NAME]: requests of listeners matched by Host and path. */
struct route_conf {
	char *name;
	int line;
	char **listeners;		/* listener = NAME, repeatable */
	size_t nlisteners;
	int *listener_lines;		/* the line of each */
	char *host;			/* exact, or "*.suffix"; lowercase;
					   NULL: any */
	char *path_prefix;		/* NULL: any */
	char *server_group;		/* NULL: the listener's */
	int server_group_line;
	struct group_conf *group;	/* resolved by config_load; or NULL */
	size_t group_idx;		/* its index in config.groups */
	enum route_cert client_certificate;	/* inherit */
	int client_certificate_line;
	struct allow_rule *allow;
	size_t nallow;
	size_t idx;			/* index in config.routes */
};

enum log_level_conf {
	LOGLEVEL_ERROR,
	LOGLEVEL_WARN,
	LOGLEVEL_INFO,
	LOGLEVEL_DEBUG,
};

struct config {
	char *path;
	/* [global] */
	unsigned workers;		/* 0 = auto (number of CPUs) */
	enum log_level_conf log_level;	/* info */
	char *error_log;		/* "stderr" | "syslog" | path */
	char *access_log;		/* "off" | "stderr" | path */
	bool access_log_json;		/* access_log_format = json */
	char *user;			/* NULL: stay who we are */
	char *pid_file;			/* NULL: none, or systemd's */
	unsigned shutdown_timeout_ms;	/* 30s */
	bool reload_on_change;		/* off */
	unsigned expiry_warning_s;	/* 7d */
	unsigned drain_delay_ms;	/* 0: /ready fails this long first */
	/* [admin] */
	struct addr_conf *admin_binds;
	size_t nadmin_binds;
	char *admin_server_certificate;	/* NULL: plain HTTP */
	int admin_server_certificate_line;
	char *admin_server_private_key;
	int admin_server_private_key_line;
	char *admin_ca_certificate;	/* NULL: no client certificates */
	int admin_ca_certificate_line;
	char **admin_allow;		/* subjects, normalised RFC 2253 */
	size_t nadmin_allow;
	bool admin_insecure;		/* insecure = on */
	/* [listener NAME] and [server_group NAME], in file order */
	struct listener_conf *listeners;
	size_t nlisteners;
	struct group_conf *groups;
	size_t ngroups;
	struct route_conf *routes;	/* [route NAME], in file order */
	size_t nroutes;
};

/*
 * Parses and checks the INI file at path, recording every problem in d.
 * Returns NULL when an error (not a warning) was recorded; otherwise a
 * config the caller owns and frees with config_free().
 */
struct config *config_load(const char *path, struct diag *d);

/*
 * Like config_load(), but only reads the file (syntax, keys, values),
 * without the checks that need the whole file or the files it names:
 * enough for [global] ("mtlslb -s" wants pid_file). A config that
 * passes here may still fail config_load().
 */
struct config *config_read(const char *path, struct diag *d);

/* Frees c and everything it points to; accepts NULL. */
void config_free(struct config *c);

/*
 * The kinds of file a listener names. A key table row that names a file
 * carries one of these (0 there means "not a file").
 */
enum config_file_kind {
	CONFIG_FILE_CERT = 1,		/* server certificate, then its chain */
	CONFIG_FILE_KEY,		/* its private key */
	CONFIG_FILE_CA,			/* CA bundle that verifies clients */
	CONFIG_FILE_CRL,		/* CRLs of those CAs */
	CONFIG_FILE_TICKET_KEYS,	/* session ticket keys */
};

/* One file key of a listener, as config_listener_file_next() gives it. */
struct config_file {
	enum config_file_kind kind;
	const char *key;		/* "server_certificate" */
	const char *path;		/* NULL when the key is unset */
	int line;			/* where it was set, 0 when unset */
};

/*
 * Iterates over the file keys of the listener table, in table order (so
 * in the order of the documentation): fills *f for the key at *pos or
 * after it, advances *pos past it and returns true; returns false when no
 * file key is left. Start with *pos = 0. Unset keys are included, with
 * path NULL; f->path belongs to lc.
 */
bool config_listener_file_next(const struct listener_conf *lc, size_t *pos,
    struct config_file *f);

/* Like config_listener_file_next(), for a server group's files. */
bool config_group_file_next(const struct group_conf *gc, size_t *pos,
    struct config_file *f);

/*
 * Calls cb once per known key, with the section kind ("global",
 * "listener", "server_group", "route", "admin"); for the docs test.
 */
void config_foreach_key(void (*cb)(const char *section, const char *key,
    void *arg), void *arg);

#endif
