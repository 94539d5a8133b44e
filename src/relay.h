/*
 * relay: moves message bodies between evbuffers by their framing
 * (Content-Length, chunked, chunked to plain) without copying: whole
 * chains move where they can. Validates chunked framing as it goes.
 */
#ifndef MTLSLB_RELAY_H
#define MTLSLB_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct http_chunked;

/* Moves at most *remaining bytes of src to dst; returns how many. */
size_t relay_length(struct evbuffer *src, struct evbuffer *dst,
    uint64_t *remaining);

/*
 * Moves what src holds of a chunked body, framing included, to dst after
 * validating it; *done at its end. Returns 1 when bytes moved, 0 when
 * none did, -1 on a framing error.
 */
int relay_chunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done);

/*
 * For a client that cannot read chunked framing (HTTP/1.0): moves only
 * the chunk data. Returns 0, or -1 on a framing error.
 */
int relay_dechunked(struct evbuffer *src, struct evbuffer *dst,
    struct http_chunked *ch, bool *done);

#endif
