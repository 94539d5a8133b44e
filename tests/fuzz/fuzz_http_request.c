/*
 * fuzz_http_request: libFuzzer target for the request side of the http
 * module: the head parser, the header rewriting that conn.c sends
 * upstream, and the chunked-body scanner. Besides "no crash", it checks the properties a
 * proxy relies on against smuggling: the rewritten head parses again with
 * the same framing, and the chunked scanner gives the same verdict however
 * the body is split across reads.
 */
#include "ac_config.h"
#include "http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#define NHDR	256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct http_header hdrs[NHDR], hdrs2[NHDR + 16];

/*
 * Scans body[0..n) in pieces whose sizes come from the bytes of cut (cycled);
 * returns the bytes consumed, -1 on error; *done as http_chunked_scan.
 */
static long long
scan_split(const char *body, size_t n, const uint8_t *cut, size_t ncut,
    bool *done)
{
	struct http_chunked c;
	size_t off = 0, k, i = 0;
	ssize_t r;

	http_chunked_init(&c);
	*done = false;
	while (off < n && !*done) {
		k = ncut > 0 ? (size_t)cut[i++ % ncut] % 17 + 1 : n - off;
		if (k > n - off)
			k = n - off;
		r = http_chunked_scan(&c, body + off, k, done);
		if (r < 0)
			return -1;
		if ((size_t)r > k || ((size_t)r < k && !*done))
			abort();	/* short only when the body ended */
		off += (size_t)r;
	}
	if (c.state == HCS_DONE && !*done)
		abort();
	return (long long)off;
}

static void
check_chunked(const char *body, size_t n, const uint8_t *cut, size_t ncut)
{
	bool d1, d2;
	long long a, b;

	a = scan_split(body, n, NULL, 0, &d1);
	b = scan_split(body, n, cut, ncut, &d2);
	/* the verdict must not depend on how the bytes were split */
	if (a != b || d1 != d2)
		abort();
}

static void
check_rewrite(const struct http_msg *m, const uint8_t *data, size_t size)
{
	struct evbuffer *out = evbuffer_new(), *tail;
	struct http_limits big = { 1 << 20, 1 << 22, NHDR + 16 };
	struct http_fwd fwd;
	struct http_msg m2;
	char ip[32];
	const char *p;
	size_t len, i, nproto = 0;
	int rc;

	if (out == NULL)
		abort();
	memset(&fwd, 0, sizeof(fwd));
	/* a client_ip with a CTL must be sanitised, not break the head */
	snprintf(ip, sizeof(ip), "127.0.0.%u%s", size > 0 ? data[0] : 1,
	    size > 1 && (data[1] & 1) ? "\r\nX: y" : "");
	fwd.client_ip = ip;
	fwd.xff_replace = size > 3 && (data[3] & 1);
	if (size > 2 && (data[2] & 1)) {
		fwd.cert_verify = "SUCCESS";
		fwd.cert_subject = "CN=client\r\nTransfer-Encoding: chunked";
		fwd.cert_issuer = "CN=mtlslb test root";
		fwd.cert_fingerprint = "ab:cd";
		fwd.cert_serial = "";
	}
	http_write_request_head(out, m, &fwd);
	if (m->authority == NULL) {
		/*
		 * A 1.0 request without Host gets an empty one (RFC 9112 3.2),
		 * which our own parser refuses from a client: name one to
		 * parse the rest.
		 */
		struct evbuffer_ptr at = evbuffer_search(out, "\r\nHost: \r\n",
		    10, NULL);

		if (at.pos < 0)
			abort();
		tail = evbuffer_new();
		if (tail == NULL)
			abort();
		evbuffer_remove_buffer(out, tail, (size_t)at.pos + 8);
		evbuffer_add(tail, "x", 1);
		evbuffer_add_buffer(tail, out);
		evbuffer_add_buffer(out, tail);
		evbuffer_free(tail);
	}
	len = evbuffer_get_length(out);
	p = (const char *)evbuffer_pullup(out, -1);
	rc = http_parse_request(p, len, &big, &m2, hdrs2, NHDR + 16);
	/* what we send upstream is one valid head with the same framing */
	if (rc <= 0 || (size_t)rc != len)
		abort();
	if (m2.body != m->body || m2.version != 11 ||
	    m2.method_len != m->method_len ||
	    memcmp(m2.method, m->method, m->method_len) != 0)
		abort();
	/* the target in origin-form: an absolute-form one lost its authority */
	if (m->path_len > 0 && (m2.target_len < m->path_len ||
	    memcmp(m2.target + m2.target_len - m->path_len, m->path,
	    m->path_len) != 0 || m2.target_len > m->path_len + 1))
		abort();
	if (m2.target[0] != '/' && m2.target[0] != '*' &&
	    m2.target_len != m->target_len)
		abort();		/* only CONNECT keeps authority-form */
	/* Host is the authority the parser chose, or empty */
	if (m->authority != NULL && (m2.authority == NULL ||
	    m2.authority_len != m->authority_len ||
	    memcmp(m2.authority, m->authority, m->authority_len) != 0))
		abort();
	if (m->body == HTTP_BODY_LENGTH &&
	    m2.content_length != m->content_length)
		abort();
	/* nothing spoofable, no h2c, one X-Forwarded-Proto of ours */
	if (http_find_header(&m2, "forwarded") != NULL ||
	    http_find_header(&m2, "x-real-ip") != NULL ||
	    http_find_header(&m2, "x-forwarded-host") != NULL ||
	    http_find_header(&m2, "client-cert") != NULL ||
	    http_find_header(&m2, "http2-settings") != NULL ||
	    m2.upgrade != m->upgrade)
		abort();
	for (i = 0; i < m2.nhdr; i++) {
		if (http_token_eq(m2.hdr[i].name, m2.hdr[i].name_len,
		    "x-forwarded-proto"))
			nproto++;
		if (http_token_eq(m2.hdr[i].name, m2.hdr[i].name_len,
		    "upgrade") && m2.hdr[i].value_len >= 3 &&
		    http_token_eq(m2.hdr[i].value, 3, "h2c") &&
		    (m2.hdr[i].value_len == 3 || m2.hdr[i].value[3] == ',' ||
		    m2.hdr[i].value[3] == '/'))
			abort();
		if (m->version == 10 && http_token_eq(m2.hdr[i].name,
		    m2.hdr[i].name_len, "expect"))
			abort();
	}
	if (nproto != 1)
		abort();
	evbuffer_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_limits lim;
	struct http_msg m;
	struct evbuffer *err;
	char detail[64];
	int rc;

	http_limits_init(&lim);
	/* the first byte picks tight limits sometimes: exercise 414/431 */
	if (size > 0 && data[0] == 'L') {
		lim.max_request_line = 32;
		lim.max_header_size = 128;
		lim.max_headers = 4;
	}
	rc = http_parse_request((const char *)data, size, &lim, &m, hdrs,
	    NHDR);
	if (rc > 0) {
		if ((size_t)rc > size || m.head_len != (size_t)rc)
			abort();
		(void)http_find_header(&m, "host");
		check_rewrite(&m, data, size);
		if (m.body == HTTP_BODY_CHUNKED)
			check_chunked((const char *)data + rc, size - (size_t)rc,
			    data, (size_t)rc);
		else if (m.body == HTTP_BODY_LENGTH &&
		    m.content_length == 0)
			abort();
	} else if (rc < 0) {
		switch (-rc) {
		case 400: case 414: case 431: case 501: case 505:
			break;
		default:
			abort();
		}
		/* an error page quoting peer bytes */
		err = evbuffer_new();
		snprintf(detail, sizeof(detail), "%.*s",
		    (int)(size < 40 ? size : 40), (const char *)data);
		http_write_error(err, -rc, detail, true);
		evbuffer_free(err);
	}
	/* the whole input as a chunked body, too */
	check_chunked((const char *)data, size, data, size < 8 ? size : 8);
	return 0;
}
