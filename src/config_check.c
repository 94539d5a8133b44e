/*
 * config_check: the rules that need the whole file, run once it has been
 * read: required keys, keys that depend on each other, server group
 * references, overlapping binds, whether each file a listener names can
 * be opened and whether each log file can be written. Reports with the
 * line of the key at fault; never parses a certificate (tls.c does that)
 * and never creates a file.
 */
#include "ac_config.h"
#include "config_check.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_keys.h"
#include "config_route.h"
#include "config_sites.h"
#include "diag.h"
#include "parse.h"
#include "util.h"

struct checker {
	struct config *c;
	struct diag *d;
	const struct config_section *secs;	/* in file order */
	size_t nsecs;
};

static void
check_file(const struct checker *ck, const struct config_file *f)
{
	struct stat sb;
	int fd;

	if (f->path == NULL)
		return;
	/* O_NONBLOCK: opening a FIFO must not hang the check */
	if ((fd = open(f->path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) < 0) {
		diag_error(ck->d, f->line, "%s: cannot read '%s': %s", f->key,
		    f->path, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
		diag_error(ck->d, f->line, "%s: cannot read '%s': %s", f->key,
		    f->path, strerror(EISDIR));
	close(fd);
}

/*
 * Who opens the log files: the master, at start (main.c) and at every
 * reload (master.c), before any worker exists; it fchown()s them to the
 * `user` key's user (log_set_owner()) so that the workers can reopen them
 * on SIGUSR1. So the credentials that must be able to create or append to
 * them are the master's, which are this process's: -t runs as the daemon
 * will (systemd's ExecStartPre= has the ExecStart= user and capabilities)
 * and a reload checks in the master itself. faccessat(AT_EACCESS) asks
 * the kernel with exactly these credentials, capabilities included (root
 * without CAP_DAC_OVERRIDE, as in mtlslb.service, is refused a directory
 * it does not own), which comparing mode bits would get wrong. Checking as
 * `user` instead would refuse what works: a root-owned 0750 log directory
 * with user = mtlslb. Nothing is created here.
 */
static const char *
who(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	snprintf(buf, len, "%s (uid %lu)", pw != NULL ? pw->pw_name : "?",
	    (unsigned long)geteuid());
	return buf;
}

/* The fix for path not writable by us: chmod when it is ours, or chown. */
static const char *
perm_fix(const char *path, const struct stat *sb, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());
	char name[64];

	if (pw != NULL)
		snprintf(name, sizeof(name), "%s", pw->pw_name);
	else
		snprintf(name, sizeof(name), "%lu", (unsigned long)geteuid());
	if (sb->st_uid == geteuid())
		snprintf(buf, len, "chmod u+w '%s'", path);
	else
		snprintf(buf, len, "chown %s '%s'", name, path);
	return buf;
}

/* Can the master append to the log file f->path, or create it? */
static void
check_written(const struct checker *ck, const struct config_file *f)
{
	char dir[PATH_MAX], whobuf[128], fix[PATH_MAX + 80], *slash;
	struct stat sb;
	int e;

	/* errno is saved first: getpwuid() in who() may change it */
	if (stat(f->path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode))
			diag_error(ck->d, f->line, "%s: '%s' is a directory "
			    "(name a file in it)", f->key, f->path);
		else if (faccessat(AT_FDCWD, f->path, W_OK, AT_EACCESS) != 0) {
			e = errno;
			diag_error(ck->d, f->line, "%s: cannot append to '%s': "
			    "%s for %s, who runs mtlslb (%s)", f->key, f->path,
			    strerror(e), who(whobuf, sizeof(whobuf)),
			    e == EACCES ? perm_fix(f->path, &sb, fix,
			    sizeof(fix)) : "make it writable");
		}
		return;
	}
	if ((e = errno) != ENOENT) {
		diag_error(ck->d, f->line, "%s: cannot open '%s': %s for %s",
		    f->key, f->path, strerror(e),
		    who(whobuf, sizeof(whobuf)));
		return;
	}
	snprintf(dir, sizeof(dir), "%s", f->path);
	slash = strrchr(dir, '/');		/* paths are absolute */
	slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &sb) != 0) {
		if (errno == ENOENT)
			diag_error(ck->d, f->line, "%s: cannot create '%s': "
			    "the directory '%s' does not exist (create it: "
			    "mkdir -p '%s')", f->key, f->path, dir, dir);
		else
			diag_error(ck->d, f->line, "%s: cannot create '%s': "
			    "'%s': %s", f->key, f->path, dir, strerror(errno));
	} else if (!S_ISDIR(sb.st_mode))
		diag_error(ck->d, f->line, "%s: cannot create '%s': '%s' is "
		    "not a directory", f->key, f->path, dir);
	else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0) {
		e = errno;
		diag_error(ck->d, f->line, "%s: cannot create '%s': the "
		    "directory '%s' is not writable by %s, who runs mtlslb "
		    "(%s)", f->key, f->path, dir, who(whobuf, sizeof(whobuf)),
		    e == EACCES ? perm_fix(dir, &sb, fix, sizeof(fix)) :
		    strerror(e));
	}
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

static bool
is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const void *)ss;
	const struct sockaddr_in6 *sin6 = (const void *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
	    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) &&
	    sin6->sin6_addr.s6_addr[12] == 127);
}

static in_port_t
port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)ss)->sin_port;
	return ((const struct sockaddr_in6 *)(const void *)ss)->sin6_port;
}

static void
binds_of(const struct checker *ck, const struct config_section *s,
    struct addr_conf **list, size_t *n)
{
	*list = NULL;
	*n = 0;
	if (s->kind == SEC_LISTENER) {
		*list = ck->c->listeners[s->idx].binds;
		*n = ck->c->listeners[s->idx].nbinds;
	} else if (s->kind == SEC_ADMIN) {
		*list = ck->c->admin_binds;
		*n = ck->c->nadmin_binds;
	}
}

/*
 * Two sockets cannot listen on the same address, nor on a specific address
 * and the wildcard of the same family and port. Compares each bind of s
 * with those before it in the file.
 */
static void
check_binds(const struct checker *ck, const struct config_section *s)
{
	struct addr_conf *mine, *theirs, *a, *b;
	size_t nmine, ntheirs, i, j, k;
	char label[128];

	binds_of(ck, s, &mine, &nmine);
	for (i = 0; i < nmine; i++) {
		a = &mine[i];
		for (j = 0; j < ck->nsecs && &ck->secs[j] <= s; j++) {
			binds_of(ck, &ck->secs[j], &theirs, &ntheirs);
			if (&ck->secs[j] == s)
				ntheirs = i;
			for (k = 0; k < ntheirs; k++) {
				b = &theirs[k];
				if (a->ss.ss_family != b->ss.ss_family ||
				    port_of(&a->ss) != port_of(&b->ss))
					continue;
				config_keys_label(&ck->secs[j], label,
				    sizeof(label));
				/* listeners on one bind: config_sites */
				if (config_keys_same_addr(&a->ss, &b->ss) &&
				    s->kind == SEC_LISTENER &&
				    ck->secs[j].kind == SEC_LISTENER &&
				    &ck->secs[j] != s)
					continue;
				if (config_keys_same_addr(&a->ss, &b->ss)) {
					diag_error(ck->d, a->line, "bind: '%s' "
					    "is already used by %s (line %d)",
					    a->text, label, b->line);
					goto next;
				}
				if (is_wildcard(&a->ss) ||
				    is_wildcard(&b->ss)) {
					diag_error(ck->d, a->line, "bind: '%s' "
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
check_group_ref(const struct checker *ck, const struct config_section *s,
    struct listener_conf *l)
{
	struct config *c = ck->c;
	char names[512];
	size_t i, len;

	if (l->server_group == NULL || l->group != NULL)
		return;
	for (i = 0; i < c->ngroups; i++) {
		if (config_keys_is_close(l->server_group, c->groups[i].name)) {
			diag_error(ck->d, l->server_group_line, "server_group: "
			    "no [server_group %s] (did you mean '%s'?)",
			    l->server_group, c->groups[i].name);
			return;
		}
	}
	if (c->ngroups == 0) {
		diag_error(ck->d, l->server_group_line, "server_group: no "
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
	diag_error(ck->d, l->server_group_line, "server_group: no "
	    "[server_group %s] (defined: %s)", l->server_group, names);
}

/* Keys that configure TLS towards clients: none fits protocol = http. */
static const char *const tls_only_keys[] = {
	"server_certificate", "server_private_key", "mutual_authentication",
	"ca_certificate", "crl", "crl_check", "verify_depth",
	"tls_min_version", "forward_client_cert", "allow",
	"max_client_cert_header_size", "reject_with", "session_cache",
	"session_ticket_keys", "session_cache_size", "session_timeout",
	"server_name", "default_server", "strict_sni", NULL,
};

/*
 * A protocol = http listener has no TLS: every TLS key is an error that
 * says so (a certificate set there would silently protect nothing), and
 * redirect_to_https needs no server group. The keys that only such a
 * listener reads are errors elsewhere.
 */
static void
check_protocol(const struct checker *ck, const struct config_section *s,
    const struct listener_conf *l, const char *label)
{
	size_t i;
	int line;

	if (!l->plain_http) {
		if (l->redirect_to_https_line != 0)
			diag_error(ck->d, l->redirect_to_https_line,
			    "redirect_to_https: only a protocol = http "
			    "listener redirects (remove it from %s, or add "
			    "protocol = http)", label);
		if (l->https_port_line != 0)
			diag_error(ck->d, l->https_port_line, "https_port: "
			    "only a protocol = http listener with "
			    "redirect_to_https = on uses it (remove it from "
			    "%s)", label);
		return;
	}
	for (i = 0; tls_only_keys[i] != NULL; i++)
		if ((line = config_keys_seen_line(s, tls_only_keys[i])) != 0)
			diag_error(ck->d, line, "%s: %s has protocol = http "
			    "and no TLS (remove the key, or set protocol = "
			    "https)", tls_only_keys[i], label);
	if (l->https_port_line != 0 && !l->redirect_to_https)
		diag_warn(ck->d, l->https_port_line, "https_port: has no "
		    "effect without redirect_to_https = on in %s", label);
	if (l->redirect_to_https && l->server_group_line != 0)
		diag_warn(ck->d, l->server_group_line, "server_group: not "
		    "used: %s answers every request with a redirect "
		    "(redirect_to_https = on)", label);
}

/* PROXY protocol from an L4 balancer: only from the peers named. */
static void
check_proxy_protocol(const struct checker *ck,
    const struct listener_conf *l, const char *label)
{
	if (l->accept_proxy_protocol && l->nproxy_from == 0 &&
	    l->proxy_protocol_from_line == 0)
		diag_error(ck->d, l->accept_proxy_protocol_line,
		    "accept_proxy_protocol: needs proxy_protocol_from in %s, "
		    "the addresses of the balancers that send the header "
		    "(0.0.0.0/0 ::/0 trusts every peer to name any client)",
		    label);
	if (!l->accept_proxy_protocol && l->proxy_protocol_from_line != 0)
		diag_warn(ck->d, l->proxy_protocol_from_line,
		    "proxy_protocol_from: has no effect without "
		    "accept_proxy_protocol = on in %s", label);
}

/* Whether a key flagged required is required in this section. */
static bool
required_here(const struct checker *ck, const struct config_section *s,
    const char *key)
{
	const struct listener_conf *l;

	if (s->kind != SEC_LISTENER)
		return true;
	l = &ck->c->listeners[s->idx];
	if (l->plain_http && (strcmp(key, "server_certificate") == 0 ||
	    strcmp(key, "server_private_key") == 0))
		return false;
	if (l->plain_http && l->redirect_to_https &&
	    strcmp(key, "server_group") == 0)
		return false;
	return true;
}

static void
check_listener(const struct checker *ck, const struct config_section *s)
{
	struct listener_conf *l = &ck->c->listeners[s->idx];
	struct config_file f;
	char label[128], a[32], b[32];
	size_t pos;
	int line;

	config_keys_label(s, label, sizeof(label));
	check_protocol(ck, s, l, label);
	check_proxy_protocol(ck, l, label);
	/* a bad mutual_authentication value was reported already */
	if (l->mutual_authentication != MTLS_OFF && !l->plain_http &&
	    l->ca_certificate == NULL &&
	    (config_keys_seen_line(s, "mutual_authentication") == 0 ||
	    l->mutual_authentication_line != 0)) {
		if (l->mutual_authentication_line != 0)
			diag_error(ck->d, l->mutual_authentication_line,
			    "mutual_authentication: '%s' needs ca_certificate "
			    "in %s (add ca_certificate or set "
			    "mutual_authentication = off)",
			    l->mutual_authentication == MTLS_ON ? "on" :
			    "optional", label);
		else if (config_keys_seen_line(s, "ca_certificate") == 0)
			diag_error(ck->d, s->line, "%s: mutual_authentication "
			    "is on by default and needs ca_certificate (add "
			    "ca_certificate or set mutual_authentication = "
			    "off)", label);
	}
	if (l->crl != NULL && l->ca_certificate == NULL &&
	    config_keys_seen_line(s, "ca_certificate") == 0)
		diag_error(ck->d, l->crl_line, "crl: needs ca_certificate in "
		    "%s", label);
	if (l->mutual_authentication == MTLS_OFF && l->ca_certificate != NULL)
		diag_warn(ck->d, l->ca_certificate_line, "ca_certificate: "
		    "ignored because mutual_authentication = off in %s",
		    label);
	if (l->crl_check_line != 0 && l->crl == NULL &&
	    config_keys_seen_line(s, "crl") == 0)
		diag_warn(ck->d, l->crl_check_line, "crl_check: has no effect "
		    "without crl in %s", label);
	if (l->max_request_line > l->max_request_header_size) {
		if ((line = config_keys_seen_line(s, "max_request_line")) == 0)
			line = config_keys_seen_line(s,
			    "max_request_header_size");
		diag_error(ck->d, line, "max_request_line: '%s' is larger "
		    "than max_request_header_size '%s'",
		    parse_fmt_size(l->max_request_line, a, sizeof(a)),
		    parse_fmt_size(l->max_request_header_size, b, sizeof(b)));
	}
	check_group_ref(ck, s, l);
	for (pos = 0; config_keys_file_next(l, &pos, &f);)
		check_file(ck, &f);
}

/* Keys that only matter with backend_tls = on. */
static const char *const backend_tls_keys[] = {
	"backend_ca_certificate", "backend_verify", "backend_server_name",
	"backend_certificate", "backend_private_key",
	"backend_tls_min_version", NULL,
};

/* TLS to the servers: keys that need each other, files that must open. */
static void
check_backend_tls(const struct checker *ck, const struct config_section *s,
    const struct group_conf *g, const char *label)
{
	struct config_file f;
	size_t i, pos;
	int line;

	if (!g->backend_tls) {
		for (i = 0; backend_tls_keys[i] != NULL; i++)
			if ((line = config_keys_seen_line(s,
			    backend_tls_keys[i])) != 0)
				diag_warn(ck->d, line, "%s: has no effect "
				    "without backend_tls = on in %s",
				    backend_tls_keys[i], label);
		return;
	}
	if (g->backend_certificate != NULL && g->backend_private_key == NULL &&
	    config_keys_seen_line(s, "backend_private_key") == 0)
		diag_error(ck->d, g->backend_certificate_line,
		    "backend_certificate: needs backend_private_key in %s",
		    label);
	if (g->backend_private_key != NULL && g->backend_certificate == NULL &&
	    config_keys_seen_line(s, "backend_certificate") == 0)
		diag_error(ck->d, g->backend_private_key_line,
		    "backend_private_key: needs backend_certificate in %s",
		    label);
	for (pos = 0; config_keys_group_file_next(g, &pos, &f);)
		check_file(ck, &f);
}

/*
 * [admin]: TLS needs a certificate and its key, client certificates (and
 * allow) need TLS, and without TLS the endpoint (no authentication, and
 * POST changes state) may only be bound to loopback unless insecure = on.
 */
static void
check_admin(const struct checker *ck, const struct config_section *s)
{
	const struct config *c = ck->c;
	const struct config_file files[] = {
		{ CONFIG_FILE_CERT, "server_certificate",
		    c->admin_server_certificate,
		    c->admin_server_certificate_line },
		{ CONFIG_FILE_KEY, "server_private_key",
		    c->admin_server_private_key,
		    c->admin_server_private_key_line },
		{ CONFIG_FILE_CA, "ca_certificate", c->admin_ca_certificate,
		    c->admin_ca_certificate_line },
	};
	bool tls = config_keys_seen_line(s, "server_certificate") != 0;
	size_t i;

	if (c->admin_server_certificate != NULL &&
	    config_keys_seen_line(s, "server_private_key") == 0)
		diag_error(ck->d, c->admin_server_certificate_line,
		    "server_certificate: needs server_private_key in [admin]");
	if (c->admin_server_private_key != NULL && !tls)
		diag_error(ck->d, c->admin_server_private_key_line,
		    "server_private_key: needs server_certificate in [admin]");
	if (c->admin_ca_certificate != NULL && !tls)
		diag_error(ck->d, c->admin_ca_certificate_line,
		    "ca_certificate: client certificates need TLS (set "
		    "server_certificate and server_private_key in [admin])");
	if (config_keys_seen_line(s, "allow") != 0 &&
	    config_keys_seen_line(s, "ca_certificate") == 0)
		diag_error(ck->d, config_keys_seen_line(s, "allow"), "allow: "
		    "needs ca_certificate in [admin] (allow names client "
		    "certificates that ca_certificate verifies)");
	for (i = 0; !tls && i < c->nadmin_binds; i++) {
		const struct addr_conf *a = &c->admin_binds[i];

		if (is_loopback(&a->ss))
			continue;
		if (c->admin_insecure)
			diag_warn(ck->d, a->line, "bind: [admin] serves '%s' "
			    "in plain HTTP without authentication "
			    "(insecure = on)", a->text);
		else
			diag_error(ck->d, a->line, "bind: '%s' is not a "
			    "loopback address and [admin] has no TLS (bind "
			    "to 127.0.0.1 or [::1], or set server_certificate "
			    "and server_private_key, with ca_certificate to "
			    "require client certificates, or set insecure = "
			    "on)", a->text);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		check_file(ck, &files[i]);
}

static void
check_group(const struct checker *ck, const struct config_section *s,
    bool used)
{
	struct group_conf *g = &ck->c->groups[s->idx];
	char label[128], a[32], b[32];
	size_t i;
	int line;

	config_keys_label(s, label, sizeof(label));
	check_backend_tls(ck, s, g, label);
	if (!used)
		diag_warn(ck->d, s->line, "%s is not used by any listener",
		    label);
	for (i = 0; i < g->nservers && g->servers[i].weight == 0; i++)
		continue;
	if (g->nservers > 0 && i == g->nservers)
		diag_warn(ck->d, s->line, "%s: every server has weight 0, so "
		    "no request can be sent", label);
	if (g->health_check &&
	    g->health_check_timeout_ms >= g->health_check_interval_ms) {
		if ((line = config_keys_seen_line(s,
		    "health_check_timeout")) == 0)
			line = config_keys_seen_line(s,
			    "health_check_interval");
		diag_warn(ck->d, line, "health_check_timeout: '%s' is not "
		    "shorter than health_check_interval '%s'",
		    parse_fmt_duration(g->health_check_timeout_ms, a,
		    sizeof(a)),
		    parse_fmt_duration(g->health_check_interval_ms, b,
		    sizeof(b)));
	}
}

void
config_check_run(struct config *c, const struct config_section *secs,
    size_t nsecs, struct diag *d)
{
	const struct checker checker = { c, d, secs, nsecs }, *ck = &checker;
	const struct config_key *keys;
	struct listener_conf *l;
	const struct config_section *s;
	struct config_file f;
	char label[128];
	bool *used;
	size_t i, j, pos;

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
	config_route_check(c, d, used);

	for (i = 0; i < ck->nsecs; i++) {
		s = &ck->secs[i];
		if (s->kind == SEC_NONE)
			continue;
		keys = config_keys_of(s->kind);
		for (j = 0; keys[j].name != NULL; j++) {
			if ((keys[j].flags & CONFIG_KEY_REQUIRED) &&
			    s->seen[j] == 0 &&
			    required_here(ck, s, keys[j].name))
				diag_error(ck->d, s->line, "missing key '%s' "
				    "in %s", keys[j].name,
				    config_keys_label(s, label, sizeof(label)));
		}
		for (pos = 0; config_keys_written_next(s,
		    config_keys_obj(c, s), &pos, &f);)
			check_written(ck, &f);
		if (s->kind == SEC_LISTENER)
			check_listener(ck, s);
		else if (s->kind == SEC_GROUP)
			check_group(ck, s, used[s->idx]);
		else if (s->kind == SEC_ADMIN)
			check_admin(ck, s);
		check_binds(ck, s);
	}
	config_sites_check(c, secs, nsecs, d);
	if (c->nlisteners == 0)
		diag_error(ck->d, 0, "no [listener NAME] section (at least "
		    "one is required)");
	free(used);
}
