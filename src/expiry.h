/*
 * expiry: the master's early warning for the files a listener cannot run
 * without. A server certificate, a CA certificate or a CRL (nextUpdate)
 * that expires within [global] expiry_warning is logged at warn at start,
 * on reload and then once a day.
 */
#ifndef MTLSLB_EXPIRY_H
#define MTLSLB_EXPIRY_H

#include <stddef.h>

struct event_base;
struct runtime;
struct expiry;

/*
 * Writes the warning for a file of kind ("server certificate", "CA
 * certificate" or "CRL") of listener that expires at t, seen at now, into
 * buf (NUL-terminated, truncated to len), e.g. "listener https: CRL
 * /etc/ca.crl expires on 2026-05-01 12:00:00 UTC (in 3 days)"; for a CRL
 * the date is its nextUpdate.
 */
void expiry_format(char *buf, size_t len, const char *listener,
    const char *kind, const char *file, long t, long now);

/*
 * Logs one warning per server certificate, CA bundle and CRL of rt that
 * expires before now + expiry_warning (or has expired). Returns how many.
 */
unsigned expiry_check(const struct runtime *rt, long now);

/*
 * Checks rt now and then once a day on base. Returns the timer, which the
 * caller owns, or NULL when expiry_warning is 0. rt must outlive it.
 */
struct expiry *expiry_start(struct event_base *base,
    const struct runtime *rt);

/* Stops the daily check and frees e; accepts NULL. */
void expiry_stop(struct expiry *e);

#endif
