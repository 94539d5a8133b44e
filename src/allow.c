/*
 * allow: allow rules and their match against a connection's identity.
 */
#include "ac_config.h"
#include "allow.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tls_peer.h"
#include "util.h"

static const char *const kinds[] = {
	[ALLOW_SUBJECT] = "subject",
	[ALLOW_ISSUER] = "issuer",
	[ALLOW_SAN_DNS] = "san_dns",
	[ALLOW_SAN_URI] = "san_uri",
	[ALLOW_SAN_EMAIL] = "san_email",
	[ALLOW_FINGERPRINT] = "fingerprint",
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

const char *
allow_kind_name(enum allow_kind kind)
{
	return (size_t)kind < NKINDS ? kinds[kind] : "?";
}

/* "TYPE=value": TYPE a letter then letters, digits or '.' (an OID). */
static int
parse_rdn(const char *p, char **out, char *err, size_t errlen)
{
	const char *eq = strchr(p, '=');
	size_t i, tl;
	char *s;

	if (eq == NULL || eq == p || eq[1] == '\0') {
		snprintf(err, errlen, "'%s' is not one RDN TYPE=value, as in "
		    "OU=ops or CN=alice", p);
		return -1;
	}
	tl = (size_t)(eq - p);
	for (i = 0; i < tl; i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '.') {
			snprintf(err, errlen, "'%.*s' is not an attribute "
			    "type (CN, OU, O, ...)", (int)tl, p);
			return -1;
		}
	}
	s = xstrdup(p);
	for (i = 0; i < tl; i++)
		s[i] = (char)toupper((unsigned char)s[i]);
	*out = s;
	return 0;
}

static int
parse_fingerprint(const char *p, char **out, char *err, size_t errlen)
{
	char hexs[65];
	size_t n = 0;

	for (; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 64) {
			n = 65;
			break;
		}
		hexs[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 64) {
		snprintf(err, errlen, "a fingerprint is the SHA-256 of the "
		    "certificate, 64 hex digits (colons allowed), as "
		    "'openssl x509 -noout -fingerprint -sha256' prints");
		return -1;
	}
	hexs[64] = '\0';
	*out = xstrdup(hexs);
	return 0;
}

int
allow_parse(const char *v, struct allow_rule *r, char *err, size_t errlen)
{
	const char *colon = strchr(v, ':'), *pat;
	size_t kl, i;
	char *s;

	memset(r, 0, sizeof(*r));
	kl = colon != NULL ? (size_t)(colon - v) : strlen(v);
	for (i = 0; i < NKINDS; i++)
		if (strlen(kinds[i]) == kl && strncmp(v, kinds[i], kl) == 0)
			break;
	if (colon == NULL || i == NKINDS) {
		snprintf(err, errlen, "'%.*s' is not a rule kind (expected "
		    "KIND:PATTERN, KIND one of subject, issuer, san_dns, "
		    "san_uri, san_email, fingerprint)", (int)kl, v);
		return -1;
	}
	r->kind = (enum allow_kind)i;
	pat = colon + 1;
	while (*pat == ' ' || *pat == '\t')
		pat++;
	if (*pat == '\0') {
		snprintf(err, errlen, "%s: the pattern is empty", kinds[i]);
		return -1;
	}
	switch (r->kind) {
	case ALLOW_SUBJECT:
	case ALLOW_ISSUER:
		return parse_rdn(pat, &r->pattern, err, errlen);
	case ALLOW_FINGERPRINT:
		return parse_fingerprint(pat, &r->pattern, err, errlen);
	case ALLOW_SAN_DNS:
	case ALLOW_SAN_EMAIL:
		s = xstrdup(pat);
		for (i = 0; s[i] != '\0'; i++)
			s[i] = (char)tolower((unsigned char)s[i]);
		r->pattern = s;
		return 0;
	case ALLOW_SAN_URI:
		r->pattern = xstrdup(pat);
		return 0;
	}
	return -1;
}

bool
allow_glob(const char *pat, const char *s, size_t n, bool fold)
{
	const char *star = NULL, *resume = NULL, *end = s + n;

	/* the classic iterative glob: backtrack to the last '*' only */
	while (s < end) {
		if (*pat == '*') {
			star = ++pat;
			resume = s;
			continue;
		}
		if (*pat != '\0' && (*pat == *s || (fold &&
		    tolower((unsigned char)*pat) ==
		    tolower((unsigned char)*s)))) {
			pat++;
			s++;
			continue;
		}
		if (star == NULL)
			return false;
		pat = star;
		s = ++resume;
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

bool
allow_dn_has(const char *dn, const char *rdn)
{
	const char *p = dn, *start, *eq = strchr(rdn, '=');
	size_t tl = eq != NULL ? (size_t)(eq - rdn) : 0, len;

	if (dn == NULL || eq == NULL)
		return false;
	while (*p != '\0') {
		start = p;
		/* one attribute: up to an unescaped ',' or '+' */
		while (*p != '\0' && *p != ',' && *p != '+') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		len = (size_t)(p - start);
		if (len == strlen(rdn) && start[tl] == '=' &&
		    strncasecmp(start, rdn, tl) == 0 &&
		    memcmp(start + tl, eq, len - tl) == 0)
			return true;
		if (*p != '\0')
			p++;
	}
	return false;
}

/* Whether one SAN of type t ('D', 'U', 'E') in pc->sans matches pat. */
static bool
san_has(const char *sans, char t, const char *pat, bool fold)
{
	const char *p = sans, *e;

	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (e == NULL)
			e = p + strlen(p);
		if (*p == t && p + 1 < e && p[1] == ':' &&
		    allow_glob(pat, p + 2, (size_t)(e - p - 2), fold))
			return true;
		p = *e != '\0' ? e + 1 : e;
	}
	return false;
}

static bool
rule_match(const struct allow_rule *r, const struct peer_cert *pc)
{
	switch (r->kind) {
	case ALLOW_SUBJECT:
		return allow_dn_has(pc->subject, r->pattern);
	case ALLOW_ISSUER:
		return allow_dn_has(pc->issuer, r->pattern);
	case ALLOW_SAN_DNS:
		return san_has(pc->sans, 'D', r->pattern, true);
	case ALLOW_SAN_URI:
		return san_has(pc->sans, 'U', r->pattern, false);
	case ALLOW_SAN_EMAIL:
		return san_has(pc->sans, 'E', r->pattern, true);
	case ALLOW_FINGERPRINT:
		return strcmp(pc->fingerprint, r->pattern) == 0;
	}
	return false;
}

bool
allow_match(const struct allow_rule *rules, size_t n,
    const struct peer_cert *pc)
{
	size_t i;

	if (pc == NULL || pc->verdict != TLS_PEER_OK)
		return false;
	for (i = 0; i < n; i++)
		if (rule_match(&rules[i], pc))
			return true;
	return false;
}

void
allow_free(struct allow_rule *rules, size_t n)
{
	size_t i;

	for (i = 0; rules != NULL && i < n; i++)
		free(rules[i].pattern);
	free(rules);
}
