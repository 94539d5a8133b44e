/*
 * route: the pick of a listener's route for a request.
 */
#include "ac_config.h"
#include "route.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* 0: exact host, 1: *.suffix, 2: any host. */
static int
host_class(const struct route_conf *r)
{
	if (r->host == NULL)
		return 2;
	return r->host[0] == '*' ? 1 : 0;
}

int
route_cmp(const void *a, const void *b)
{
	const struct route_conf *x = *(const struct route_conf *const *)a;
	const struct route_conf *y = *(const struct route_conf *const *)b;
	size_t xl, yl;

	if (host_class(x) != host_class(y))
		return host_class(x) - host_class(y);
	if (host_class(x) == 1 && strlen(x->host) != strlen(y->host))
		return strlen(x->host) > strlen(y->host) ? -1 : 1;
	xl = x->path_prefix != NULL ? strlen(x->path_prefix) : 0;
	yl = y->path_prefix != NULL ? strlen(y->path_prefix) : 0;
	if (xl != yl)
		return xl > yl ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

bool
route_host_match(const char *pat, const char *host, size_t len)
{
	size_t i, pl;

	if (pat == NULL)
		return true;
	/* strip the port: after the last ':', unless inside [v6] */
	for (i = len; i > 0; i--) {
		if (host[i - 1] == ']')
			break;
		if (host[i - 1] == ':') {
			len = i - 1;
			break;
		}
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (pat[0] == '*') {
		pl = strlen(pat + 1);	/* ".example.com" */
		return len > pl &&
		    strncasecmp(host + len - pl, pat + 1, pl) == 0;
	}
	return strlen(pat) == len && strncasecmp(host, pat, len) == 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * At a '/' (or the end): the segment out[seg..len) is "." or ".."?
 * Drops it (and, for "..", the one before it). Returns the new length.
 */
static size_t
segment_done(char *out, size_t len, size_t seg)
{
	size_t n = len - seg;

	if (n == 1 && out[seg] == '.')
		return seg;
	if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
		/* out[seg - 1] is '/'; back to the '/' before it */
		if (seg <= 1)
			return seg;
		seg--;
		while (seg > 0 && out[seg - 1] != '/')
			seg--;
		return seg;
	}
	return len;
}

long
route_path_normalise(const char *p, size_t n, char *out, size_t cap)
{
	size_t i, len = 0, seg = 0;
	int c, hi, lo;

	if (cap == 0)
		return -1;
	for (i = 0; i < n && p[i] != '?' && p[i] != '#'; i++) {
		c = (unsigned char)p[i];
		if (c == '%' && i + 2 < n && (hi = hexval(p[i + 1])) >= 0 &&
		    (lo = hexval(p[i + 2])) >= 0) {
			c = hi << 4 | lo;
			i += 2;
		}
		if (c == '/') {
			if (len > 0 && seg < len)
				len = segment_done(out, len, seg);
			if (len > 0 && out[len - 1] == '/') {
				seg = len;	/* "//": one */
				continue;
			}
		}
		if (len + 1 >= cap)
			return -1;
		out[len++] = (char)c;
		if (c == '/')
			seg = len;
	}
	if (seg > 0 && seg < len)
		len = segment_done(out, len, seg);
	out[len] = '\0';
	return (long)len;
}

int
route_pick(const struct listener_conf *lc, const char *authority,
    size_t alen, const char *path, size_t plen)
{
	const struct route_conf *r;
	char norm[ROUTE_PATH_MAX];
	long nl = -1;
	size_t i, pl;
	bool normalised = false;

	for (i = 0; i < lc->nroutes; i++) {
		r = lc->routes[i];
		if (r->host != NULL && (authority == NULL ||
		    !route_host_match(r->host, authority, alen)))
			continue;
		if (r->path_prefix == NULL)
			return (int)i;
		if (!normalised) {
			nl = route_path_normalise(path, plen, norm,
			    sizeof(norm));
			normalised = true;
			if (nl < 0)
				return -2;
		}
		pl = strlen(r->path_prefix);
		if ((size_t)nl >= pl && memcmp(norm, r->path_prefix, pl) == 0)
			return (int)i;
	}
	return -1;
}
