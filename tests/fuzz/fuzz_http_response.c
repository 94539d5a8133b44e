/*
 * fuzz_http_response: libFuzzer target for the response side of the http
 * module: the head parser, the rewriting for the client (HTTP/1.1 and
 * 1.0, close or keep-alive) and the chunked scanner on the body that
 * follows. The rewritten head must parse again with the same status and framing.
 */
#include "ac_config.h"
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#define NHDR	256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_header hdrs[NHDR], hdrs2[NHDR + 4];

static void
rewrite(const struct http_msg *m, bool is_head, int version, bool close)
{
	struct evbuffer *out = evbuffer_new();
	struct http_limits big = { 1 << 20, 1 << 22, NHDR + 4 };
	struct http_msg m2;
	const char *p;
	size_t len;
	int rc;

	if (out == NULL)
		abort();
	http_write_response_head(out, m, version, close);
	len = evbuffer_get_length(out);
	/* RFC 9110 15.2: no interim response for an HTTP/1.0 client */
	if (!http_forward_interim(m->status, version)) {
		if (len != 0 || version != 10 || m->status < 100 ||
		    m->status > 199 || m->status == 101)
			abort();
		evbuffer_free(out);
		return;
	}
	p = (const char *)evbuffer_pullup(out, -1);
	rc = http_parse_response(p, len, &big, is_head, &m2, hdrs2, NHDR + 4);
	if (rc <= 0 || (size_t)rc != len || m2.status != m->status)
		abort();
	/* a 1.0 client gets a de-chunked body: then framing is EOF */
	if (!(version == 10 && m->body == HTTP_BODY_CHUNKED)) {
		if (m2.body != m->body)
			abort();
		if (m->body == HTTP_BODY_LENGTH &&
		    m2.content_length != m->content_length)
			abort();
	}
	if (close && m->status != 101 && m2.keep_alive)
		abort();
	evbuffer_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct http_chunked c;
	struct http_msg m;
	bool is_head = size > 0 && (data[size - 1] & 1);
	bool done;
	ssize_t r;
	int rc;

	http_limits_init(&lim);
	rc = http_parse_response((const char *)data, size, &lim, is_head, &m,
	    hdrs, NHDR);
	if (rc < -1)
		abort();
	if (rc <= 0)
		return 0;
	if ((size_t)rc > size || m.head_len != (size_t)rc)
		abort();
	if ((m.body == HTTP_BODY_EOF && m.keep_alive) ||
	    (m.status == 101 && m.body != HTTP_BODY_NONE))
		abort();
	rewrite(&m, is_head, 11, false);
	rewrite(&m, is_head, 11, true);
	rewrite(&m, is_head, 10, false);
	rewrite(&m, is_head, 10, true);
	if (m.body == HTTP_BODY_CHUNKED) {
		http_chunked_init_response(&c);
		r = http_chunked_scan(&c, (const char *)data + rc,
		    size - (size_t)rc, &done);
		if (r >= 0 && (size_t)r < size - (size_t)rc && !done)
			abort();
	}
	return 0;
}
