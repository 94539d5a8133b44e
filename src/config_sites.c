/*
 * config_sites: several [listener] sections on one bind are one socket,
 * and the TLS server name picks among them. What belongs to the socket
 * (whether a PROXY header comes first, who may send it, SNI strictness,
 * where sessions are kept and for how long) must then be the same in all
 * of them; what belongs to a site (certificates, CAs, mutual_authentication,
 * server_group, limits) may differ.
 */
#include "ac_config.h"
#include "config_sites.h"

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "diag.h"
#include "parse.h"

bool
config_sites_same_bind(const struct addr_conf *a, const struct addr_conf *b)
{
	return config_keys_same_addr(&a->ss, &b->ss);
}

static const struct config_section *
section_of(const struct config_section *secs, size_t nsecs, size_t idx)
{
	size_t i;

	for (i = 0; i < nsecs; i++)
		if (secs[i].kind == SEC_LISTENER && secs[i].idx == idx)
			return &secs[i];
	return NULL;
}

static bool
same_cidrs(const struct listener_conf *a, const struct listener_conf *b)
{
	size_t i, j;

	if (a->nproxy_from != b->nproxy_from)
		return false;
	for (i = 0; i < a->nproxy_from; i++) {
		for (j = 0; j < b->nproxy_from; j++)
			if (memcmp(&a->proxy_from[i], &b->proxy_from[j],
			    sizeof(a->proxy_from[i])) == 0)
				break;
		if (j == b->nproxy_from)
			return false;
	}
	return true;
}

/* The socket-level key on which a and b differ, or NULL. */
static const char *
socket_difference(const struct listener_conf *a, const struct listener_conf *b)
{
	if (a->plain_http != b->plain_http)
		return "protocol";
	if (a->accept_proxy_protocol != b->accept_proxy_protocol)
		return "accept_proxy_protocol";
	if (!same_cidrs(a, b))
		return "proxy_protocol_from";
	if (a->strict_sni != b->strict_sni)
		return "strict_sni";
	if (a->session_cache != b->session_cache)
		return "session_cache";
	if (a->session_cache_size != b->session_cache_size)
		return "session_cache_size";
	if (a->session_timeout_ms != b->session_timeout_ms)
		return "session_timeout";
	if ((a->session_ticket_keys == NULL) !=
	    (b->session_ticket_keys == NULL))
		return "session_ticket_keys";
	return NULL;
}

/* b (later in the file) shares bind ab with a: what must agree. */
static void
check_pair(const struct config_section *sa, const struct listener_conf *a,
    const struct config_section *sb, const struct listener_conf *b,
    const struct addr_conf *ab, bool socket, struct diag *d)
{
	const char *key;
	char la[128];
	size_t i, j;
	int line;

	config_keys_label(sa, la, sizeof(la));
	if (socket && (a->plain_http || b->plain_http)) {
		diag_error(d, ab->line, "bind: '%s' is also the bind of %s "
		    "(line %d); only protocol = https listeners can share a "
		    "bind (the TLS server name picks among them)", ab->text,
		    la, sa->line);
		return;
	}
	if (a->plain_http || b->plain_http)
		return;
	if (socket && (key = socket_difference(a, b)) != NULL) {
		if ((line = config_keys_seen_line(sb, key)) == 0 &&
		    (line = config_keys_seen_line(sa, key)) == 0)
			line = ab->line;
		diag_error(d, line, "%s: differs from %s, which shares bind "
		    "'%s' (a socket's keys must be the same in every listener "
		    "on it: protocol, accept_proxy_protocol, "
		    "proxy_protocol_from, strict_sni, session_cache, "
		    "session_cache_size, session_timeout, session_ticket_keys)",
		    key, la, ab->text);
	}
	if (a->default_server && b->default_server)
		diag_error(d, b->default_server_line, "default_server: %s on "
		    "bind '%s' is the default server already (line %d); one "
		    "per bind", la, ab->text, a->default_server_line);
	for (i = 0; i < b->nserver_names; i++) {
		for (j = 0; j < a->nserver_names; j++) {
			if (strcmp(b->server_names[i], a->server_names[j]) != 0)
				continue;
			diag_error(d, b->server_name_line, "server_name: '%s' "
			    "is also a server_name of %s (line %d) on bind "
			    "'%s'; each name picks one listener",
			    b->server_names[i], la, a->server_name_line,
			    ab->text);
		}
	}
}

static void
check_pairs(const struct config_section *s, const struct listener_conf *l,
    struct diag *d)
{
	char label[128];

	config_keys_label(s, label, sizeof(label));
	if (l->nmore_certificates + 1 > CONFIG_SITES_MAX_PAIRS)
		diag_error(d, l->more_certificates[CONFIG_SITES_MAX_PAIRS -
		    1].line, "server_certificate: more than %d in %s",
		    CONFIG_SITES_MAX_PAIRS, label);
	if (l->server_certificate == NULL || l->server_private_key == NULL)
		return;		/* "missing key" said it */
	if (l->nmore_certificates > l->nmore_keys)
		diag_error(d, l->more_certificates[l->nmore_keys].line,
		    "server_certificate: has no server_private_key in %s "
		    "(the Nth server_private_key belongs to the Nth "
		    "server_certificate)", label);
	else if (l->nmore_keys > l->nmore_certificates)
		diag_error(d, l->more_keys[l->nmore_certificates].line,
		    "server_private_key: has no server_certificate in %s "
		    "(the Nth server_private_key belongs to the Nth "
		    "server_certificate)", label);
}

/* The first bind of b that is also a bind of a, or NULL. */
static const struct addr_conf *
shared_bind(const struct listener_conf *a, const struct listener_conf *b)
{
	size_t j, m;

	for (j = 0; j < b->nbinds; j++)
		for (m = 0; m < a->nbinds; m++)
			if (config_sites_same_bind(&a->binds[m], &b->binds[j]))
				return &b->binds[j];
	return NULL;
}

void
config_sites_check(const struct config *c, const struct config_section *secs,
    size_t nsecs, struct diag *d)
{
	const struct config_section *sa, *sb;
	const struct listener_conf *a, *b;
	const struct addr_conf *ab;
	size_t i, k;
	bool first;

	for (i = 0; i < c->nlisteners; i++) {
		b = &c->listeners[i];
		if ((sb = section_of(secs, nsecs, i)) == NULL)
			continue;
		check_pairs(sb, b, d);
		for (k = 0, first = true; k < i; k++) {
			a = &c->listeners[k];
			if ((ab = shared_bind(a, b)) == NULL ||
			    (sa = section_of(secs, nsecs, k)) == NULL)
				continue;
			/* the socket's keys against the first only */
			check_pair(sa, a, sb, b, ab, first, d);
			first = false;
		}
	}
}
