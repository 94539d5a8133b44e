/*
 * h2_int: the HTTP/2 session and its streams, shared by the two files of
 * the h2 module (h2.c: the connection, its I/O, timers and GOAWAY;
 * h2_stream.c: a stream's request, its translation to HTTP/1.1 and the
 * struct proxy_client functions). Nothing outside the module includes it.
 */
#ifndef MTLSLB_H2_INT_H
#define MTLSLB_H2_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <nghttp2/nghttp2.h>

#include "h2.h"

struct conn;
struct evbuffer;
struct event;
struct request;

#define H2_MAGIC	0x68322020u
#define H2_CHECK(h)	assert((h) != NULL && (h)->magic == H2_MAGIC)
#define H2S_MAGIC	0x68327374u
#define H2S_CHECK(s)	assert((s) != NULL && (s)->magic == H2S_MAGIC)

/* Above this many bytes queued to the client, frame no more DATA. */
#define H2_OUT_HIGH	(256 * 1024)

/* Stream objects a session keeps for reuse. */
#define H2_SPARE_MAX	16

struct h2_stream {
	uint32_t magic;
	TAILQ_ENTRY(h2_stream) link;
	struct h2 *h;
	int32_t id;
	struct request *r;		/* from its head on */
	struct evbuffer *in;		/* request body to forward */
	struct evbuffer *out;		/* response body to frame */
	uint64_t body_bytes;		/* request body received */
	bool chunked;			/* body goes up chunked */
	bool started;			/* with proxy.c */
	bool body_done;			/* END_STREAM came */
	bool body_sent;			/* ... all went up */
	bool paused;			/* backend full */
	bool resp_done;			/* response all in out */
	bool deferred;			/* provider waits */
	bool answered;			/* head submitted */
	bool local;			/* our page: body dropped */
	bool closed;			/* nghttp2 closed it */
	bool dead;			/* we reset it */
	bool too_big;			/* header list too big */
	int end_status;			/* log status if unanswered */
};

TAILQ_HEAD(h2_streams, h2_stream);

struct h2 {
	uint32_t magic;
	struct conn *c;
	nghttp2_session *ng;
	struct h2_streams open;		/* not closed by nghttp2 */
	struct h2_streams done;		/* closed, to release */
	struct h2_stream *spare;	/* kept for reuse */
	unsigned nspare;
	unsigned nopen;
	unsigned nrequests;		/* streams opened */
	struct event *tick;		/* deferred work */
	bool in_recv;			/* in mem_recv */
	bool want_send;			/* frames queued */
	bool closing;			/* GOAWAY sent */
	bool draining;			/* stopping: shutdown notice and PING
					   sent, the GOAWAY follows the ACK */
	bool lingering;			/* draining, then close */
	bool timer_idle;		/* timer: idle wait */
	struct timeval progress;	/* last DATA/HEADERS */
	/* control frames: a token bucket against SETTINGS/PING floods */
	double tokens;
	struct timeval tokens_at;
	double rst_tokens;		/* and against rapid reset */
	struct timeval rst_at;
	/* the header block being received (one at a time per connection) */
	char *hb;
	size_t hb_len, hb_cap;
	size_t hb_list;			/* RFC 9113 size of its fields */
	/* response heads: nghttp2_nv array and lower-cased names */
	nghttp2_nv *nv;
	size_t nv_cap;
	char *nvbuf;
	size_t nvbuf_cap;
};

/* --- h2.c ------------------------------------------------------------ */

/*
 * Sends what nghttp2 has queued, or defers it when inside a callback.
 * Returns CONN_OK or CONN_CLOSED.
 */
int h2_flush(struct h2 *h);

/* True when the client has H2_OUT_HIGH bytes queued or staged already. */
bool h2_out_full(const struct h2 *h);

/* Runs h2_flush and the releases from the loop, soon. */
void h2_later(struct h2 *h);

/* Marks that bytes moved: the stall timer restarts. */
void h2_progress(struct h2 *h);

/* Sends GOAWAY(NO_ERROR) with the last stream id; closes when idle. */
void h2_goaway(struct h2 *h);

/* A worker's graceful stop: the shutdown notice and a PING, then the
 * GOAWAY (h2_goaway) when the client ACKs it. */
void h2_drain(struct h2 *h);

/* --- h2_stream.c ------------------------------------------------------ */

/* A new stream id of h (the client's HEADERS began); NULL: refused. */
struct h2_stream *h2_stream_new(struct h2 *h, int32_t id);

/* One header field of a stream's request head; nghttp2 error or 0. */
int h2_stream_header(struct h2_stream *s, const nghttp2_frame *f,
    const uint8_t *name, size_t nlen, const uint8_t *value, size_t vlen);

/* The head is complete (END_HEADERS): admit and start the request. */
int h2_stream_head_done(struct h2_stream *s, bool end_stream);

/* Body bytes of the request arrived. */
int h2_stream_data(struct h2_stream *s, const uint8_t *p, size_t len);

/* END_STREAM from the client. */
int h2_stream_end(struct h2_stream *s);

/* A frame of ours went out on s (RST after an early full response). */
void h2_stream_sent(struct h2_stream *s, const nghttp2_frame *f);

/* nghttp2 closed s: move it to the done list. */
void h2_stream_closed(struct h2_stream *s, uint32_t error_code);

/* Ends and releases the streams on the done list. */
void h2_stream_reap(struct h2 *h);

/* Ends every stream's request (the connection is closing). */
void h2_stream_end_all(struct h2 *h);

/* Frees every stream object (the session is freed). */
void h2_stream_free_all(struct h2 *h);

/* True when some stream waits for the client (body or window). */
bool h2_stream_stalled(struct h2 *h);

/* nghttp2's data provider callbacks for response bodies. */
ssize_t h2_stream_read(nghttp2_session *ng, int32_t id, uint8_t *buf,
    size_t len, uint32_t *flags, nghttp2_data_source *src, void *ud);
int h2_stream_send_data(nghttp2_session *ng, nghttp2_frame *f,
    const uint8_t *framehd, size_t len, nghttp2_data_source *src, void *ud);

#endif
