/*
 * relay: body movers shared by the client sessions and the proxy. Chunk
 * data is never read, only skipped by the scanner (http_parse.c); framing bytes
 * are few per chunk. Nothing here allocates.
 */
#include "ac_config.h"
#include "relay.h"

#include <event2/buffer.h>

#include "http.h"

size_t
relay_length(struct evbuffer *src, struct evbuffer *dst, uint64_t *remaining)
{
	size_t len = evbuffer_get_length(src);
	size_t n = len;

	if (*remaining < (uint64_t)n)
		n = (size_t)*remaining;
	if (n == len)
		evbuffer_add_buffer(dst, src);
	else
		evbuffer_remove_buffer(src, dst, n);
	*remaining -= n;
	return n;
}

int
relay_chunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done)
{
	struct evbuffer_iovec v[16];
	size_t total = 0;
	int i, nv;

	*done = false;
	while (!*done && evbuffer_get_length(src) > total) {
		struct evbuffer_ptr ptr;

		if (evbuffer_ptr_set(src, &ptr, total, EVBUFFER_PTR_SET) != 0)
			return -1;
		nv = evbuffer_peek(src, -1, &ptr, v, 16);
		if (nv <= 0)
			break;
		if (nv > 16)
			nv = 16;
		for (i = 0; i < nv && !*done; i++) {
			ssize_t k = http_chunked_scan(ch, v[i].iov_base,
			    v[i].iov_len, done);

			if (k < 0)
				return -1;
			total += (size_t)k;
			if ((size_t)k < v[i].iov_len && !*done)
				return -1;
		}
	}
	if (total == evbuffer_get_length(src))
		evbuffer_add_buffer(dst, src);
	else
		evbuffer_remove_buffer(src, dst, total);
	return total > 0;
}

int
relay_dechunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done)
{
	*done = false;
	while (!*done && evbuffer_get_length(src) > 0) {
		if (ch->state == HCS_DATA) {
			struct evbuffer_iovec v[8];
			size_t want = evbuffer_get_length(src), got = 0;
			int i, nv;

			if (ch->size < (uint64_t)want)
				want = (size_t)ch->size;
			nv = evbuffer_peek(src, (ev_ssize_t)want, NULL, v, 8);
			for (i = 0; i < nv && i < 8 && got < want; i++) {
				size_t k = v[i].iov_len < want - got ?
				    v[i].iov_len : want - got;

				if (http_chunked_scan(ch, v[i].iov_base, k,
				    done) != (ssize_t)k)
					return -1;
				got += k;
			}
			evbuffer_remove_buffer(src, dst, got);
		} else {
			char b;

			evbuffer_copyout(src, &b, 1);
			if (http_chunked_scan(ch, &b, 1, done) != 1)
				return -1;
			evbuffer_drain(src, 1);
		}
	}
	return 0;
}
