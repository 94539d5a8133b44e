/*
 * fuzz_http_chunked: libFuzzer target for the chunked-body scanner and its
 * trailer rules (issue 17 item 3). The input is a chunked body; the first
 * byte picks how it is split across scan calls. Checked: the verdict does
 * not depend on the split, in the request mode (forbidden trailer fields
 * refused) and the response mode (syntax only); the request mode accepts
 * nothing the response mode refuses; a body the request mode accepted has
 * no forbidden field in its trailer section (an oracle that re-reads the
 * section line by line); and a refusal for a forbidden field happens at
 * the ':' of a field whose name really is forbidden.
 */
#include "ac_config.h"
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct verdict {
	long long used;		/* bytes taken, or -1 */
	bool done;
	bool bad_trailer;
};

/* Scans body[0..n) in pieces of 1..step bytes (step 0: all at once). */
static struct verdict
scan(const char *body, size_t n, bool response, unsigned step)
{
	struct verdict v = { 0, false, false };
	struct http_chunked c;
	size_t off = 0, k;
	ssize_t r;

	if (response)
		http_chunked_init_response(&c);
	else
		http_chunked_init(&c);
	while (off < n && !v.done) {
		k = step == 0 ? n - off : (off * 7 + 3) % step + 1;
		if (k > n - off)
			k = n - off;
		r = http_chunked_scan(&c, body + off, k, &v.done);
		if (r < 0) {
			v.used = -1;
			v.bad_trailer = c.bad_trailer;
			if (c.state != HCS_ERROR)
				abort();
			return v;
		}
		if ((size_t)r > k || ((size_t)r < k && !v.done))
			abort();
		off += (size_t)r;
	}
	if (c.bad_trailer)
		abort();
	v.used = (long long)off;
	return v;
}

/*
 * Scans byte by byte in the request mode. Returns the offset of the
 * trailer section (SIZE_MAX when never reached). When a forbidden field
 * is refused, the refused byte must be the ':' after a forbidden name.
 */
static size_t
walk(const char *body, size_t n)
{
	struct http_chunked c;
	size_t off, at = SIZE_MAX, s;
	bool done = false;

	http_chunked_init(&c);
	for (off = 0; off < n && !done; off++) {
		if (http_chunked_scan(&c, body + off, 1, &done) < 0) {
			if (!c.bad_trailer)
				return at;
			if (at == SIZE_MAX || body[off] != ':')
				abort();
			for (s = off; s > at && body[s - 1] != '\n'; s--)
				;
			if (!http_trailer_forbidden(body + s, off - s))
				abort();
			return at;
		}
		if (at == SIZE_MAX && (c.state == HCS_TRAILER_START ||
		    c.state == HCS_FINAL_LF))
			at = off + 1;
	}
	return at;
}

/* Every field of an accepted request trailer section is allowed. */
static void
check_trailers(const char *body, size_t at, size_t end)
{
	size_t i = at, s, colon;

	while (i < end) {
		s = i;
		while (i < end && body[i] != '\r')
			i++;
		if (i == s)
			return;		/* the final CRLF */
		for (colon = s; colon < i && body[colon] != ':'; colon++)
			;
		if (colon == i || http_trailer_forbidden(body + s, colon - s))
			abort();
		i += 2;			/* CRLF, checked by the scanner */
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	struct verdict req, req2, rsp, rsp2;
	unsigned step;
	size_t n, at;

	if (size == 0)
		return 0;
	step = data[0] % 19;
	body = (const char *)data + 1;
	n = size - 1;

	req = scan(body, n, false, 0);
	req2 = scan(body, n, false, step);
	rsp = scan(body, n, true, 0);
	rsp2 = scan(body, n, true, step);
	/* the verdict must not depend on how the bytes were split */
	if (req.used != req2.used || req.done != req2.done ||
	    req.bad_trailer != req2.bad_trailer ||
	    rsp.used != rsp2.used || rsp.done != rsp2.done)
		abort();
	if (rsp.bad_trailer)
		abort();
	/* the request mode is the response mode plus the trailer rule */
	if (req.used >= 0 && (req.used != rsp.used || req.done != rsp.done))
		abort();
	if (req.used < 0 && !req.bad_trailer && rsp.used >= 0)
		abort();
	at = walk(body, n);
	if (req.done) {
		if (at == SIZE_MAX)
			abort();
		check_trailers(body, at, (size_t)req.used);
	}
	return 0;
}
