/*
 * fuzz_proxyproto: libFuzzer target for the PROXY protocol parser (v1 and
 * v2, issue 13). Checked: the verdict never reads past the input (ASan),
 * a header's length is at most the input and PROXYPROTO_MAX; as the input
 * grows byte by byte the answer is "need more" until it becomes final
 * (-1, or the header's length) and never changes after that, so a reader
 * that consumes what "need more" covered cannot lose a byte of what
 * follows; and a header that names addresses reads back the same after
 * the writers of both versions wrote it again.
 */
#include "ac_config.h"
#include "proxyproto.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
		    *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    memcmp(&x->sin_addr, &y->sin_addr, 4) == 0;
	}
	{
		const struct sockaddr_in6 *x = (const void *)a,
		    *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
	}
}

/* The writers' output parses back to h's addresses. */
static void
round_trip(const struct proxyproto_hdr *h)
{
	struct proxyproto_ssl ssl = { true, false, 0, "TLSv1.3", "X", "cn" };
	uint8_t b[PROXYPROTO_MAX];
	struct proxyproto_hdr g;
	size_t n;

	n = proxyproto_write_v1((char *)b, sizeof(b),
	    (const struct sockaddr *)&h->src, (const struct sockaddr *)&h->dst);
	if (n == 0 || proxyproto_parse(b, n, &g) != (int)n || g.local ||
	    g.version != 1 || !same_addr(&g.src, &h->src) ||
	    !same_addr(&g.dst, &h->dst))
		abort();
	n = proxyproto_write_v2(b, sizeof(b), (const struct sockaddr *)&h->src,
	    (const struct sockaddr *)&h->dst, &ssl);
	if (n == 0 || proxyproto_parse(b, n, &g) != (int)n || g.local ||
	    g.version != 2 || !same_addr(&g.src, &h->src) ||
	    !same_addr(&g.dst, &h->dst))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_hdr h;
	uint8_t *copy;
	int r, rk, final = 0;
	size_t k, step;

	/* an exact-size copy, so ASan sees any read past the end */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	r = proxyproto_parse(copy, size, &h);
	if (r > 0 && ((size_t)r > size || (size_t)r > PROXYPROTO_MAX))
		abort();
	if (r == 0 && size >= PROXYPROTO_MAX)
		abort();
	if (r > 0 && !h.local)
		round_trip(&h);
	/* prefixes: 0 until final, then final for good */
	step = size > 512 ? size / 256 : 1;
	for (k = 0; k <= size; k += (k < 64 ? 1 : step)) {
		rk = proxyproto_parse(copy, k, &h);
		if (final != 0 && rk != final)
			abort();
		if (rk != 0)
			final = rk;
	}
	if (final != 0 && r != final)
		abort();
	free(copy);
	return 0;
}
