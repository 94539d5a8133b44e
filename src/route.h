/*
 * route: which [route] of a listener a request belongs to. The listener's
 * routes are sorted once, when the configuration is loaded (route_order);
 * a request walks them in that order and takes the first that matches
 * its Host and its path, normalised on the stack as nginx normalises a
 * URI for its locations (percent-decoded, "//" merged, "." and ".."
 * resolved), so "/%61dmin/" and "/x/../admin/" are /admin/ too. No
 * allocation per request.
 */
#ifndef MTLSLB_ROUTE_H
#define MTLSLB_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Longest normalised path route_pick() matches; longer: 414. */
#define ROUTE_PATH_MAX		8192

/*
 * qsort(3) order of const struct route_conf * for one listener: exact
 * host, then *.suffix (longer suffix first), then no host; within each,
 * longer path_prefix first; then file order.
 */
int route_cmp(const void *a, const void *b);

/*
 * True when host (the Host or :authority, len bytes, with or without a
 * port) matches pat: NULL matches anything, "*.example.com" any name
 * ending in ".example.com", otherwise the same name; ASCII case and one
 * trailing dot are ignored.
 */
bool route_host_match(const char *pat, const char *host, size_t len);

/*
 * Normalises the path of a request target (up to '?' or '#') into out
 * (cap bytes, NUL-terminated): %XX decoded, "//" merged, "." and ".."
 * segments resolved (never above "/"). Returns its length, or -1 when it
 * does not fit.
 */
long route_path_normalise(const char *p, size_t n, char *out, size_t cap);

/*
 * The index in lc->routes of the route request (authority, path) takes,
 * -1 for none (the listener's own server_group), or -2 when the path is
 * longer than ROUTE_PATH_MAX (answer 414).
 */
int route_pick(const struct listener_conf *lc, const char *authority,
    size_t alen, const char *path, size_t plen);

#endif
