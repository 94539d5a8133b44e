/*
 * allow: allow rules (allow = KIND:PATTERN) and the match of a client
 * certificate's identity against them. Pure functions over strings: the
 * identity comes from struct peer_cert (tls_peer.h), built once per
 * connection, so a rule set costs a few string compares per request and
 * no certificate parsing.
 */
#ifndef MTLSLB_ALLOW_H
#define MTLSLB_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct peer_cert;

/*
 * Parses "KIND:PATTERN" into r (r->pattern owned by r): subject and
 * issuer take one RDN "TYPE=value" (TYPE is upper-cased); san_dns and
 * san_email are lower-cased globs; san_uri a glob; fingerprint 64 hex
 * digits, colons allowed, stored lowercase without them. Returns 0, or -1
 * after writing why into err.
 */
int allow_parse(const char *v, struct allow_rule *r, char *err,
    size_t errlen);

/* The keyword of kind ("san_uri"). */
const char *allow_kind_name(enum allow_kind kind);

/* '*' matches any run of bytes (also none); fold: ignore ASCII case. */
bool allow_glob(const char *pat, const char *s, size_t n, bool fold);

/*
 * True when rdn ("OU=ops") is one of the RDNs of dn, an RFC 2253 string
 * as tls_peer_name() prints it (multi-valued RDNs count per value). The
 * type compares without case, the value exactly (escapes included).
 */
bool allow_dn_has(const char *dn, const char *rdn);

/*
 * True when pc (a verified certificate) matches one of the n rules.
 * pc->sans is the list tls_peer.h describes.
 */
bool allow_match(const struct allow_rule *rules, size_t n,
    const struct peer_cert *pc);

/* Frees the patterns of n rules and the array; accepts NULL. */
void allow_free(struct allow_rule *rules, size_t n);

#endif
