/*
 * http: HTTP/1.1 message-head parsing, framing decisions (Content-Length,
 * chunked), header rewriting and canned error pages. Pure functions: no
 * I/O, no heap allocation while parsing; parsed messages point into the
 * caller's buffer, which must outlive them. One module in three files
 * (http_parse.c, http_write.c, http_fields.c); this is its only public
 * header, http_int.h is private to those files.
 */
#ifndef MTLSLB_HTTP_H
#define MTLSLB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct evbuffer;

#define HTTP_DEFAULT_MAX_REQUEST_LINE	8192
#define HTTP_DEFAULT_MAX_HEADER_SIZE	65536
#define HTTP_DEFAULT_MAX_HEADERS	100

/* Largest Content-Length or chunk total we accept (fits off_t/ev_ssize_t). */
#define HTTP_MAX_CONTENT_LENGTH		((uint64_t)INT64_MAX)

struct http_limits {
	size_t max_request_line;	/* longer -> 414 (responses: error) */
	size_t max_header_size;		/* whole head incl. start line -> 431 */
	size_t max_headers;		/* more header fields -> 431 */
};

struct http_header {
	const char *name;
	size_t name_len;
	const char *value;		/* surrounding OWS trimmed */
	size_t value_len;
};

enum http_body {
	HTTP_BODY_NONE,
	HTTP_BODY_LENGTH,
	HTTP_BODY_CHUNKED,
	HTTP_BODY_EOF			/* response only: read until close */
};

struct http_msg {
	const char *method;		/* request */
	size_t method_len;
	const char *target;		/* request, as received */
	size_t target_len;
	const char *path;		/* request: the target to forward (see
					   http_parse_request) */
	size_t path_len;
	const char *authority;		/* request: the Host to forward; NULL
					   when there is none (HTTP/1.0) */
	size_t authority_len;
	int status;			/* response */
	const char *reason;		/* response; may be empty */
	size_t reason_len;
	int version;			/* 10 or 11 */
	struct http_header *hdr;	/* caller-supplied array */
	size_t nhdr;
	size_t head_len;		/* bytes incl. the final CRLF CRLF */
	enum http_body body;
	uint64_t content_length;	/* valid when has_content_length */
	bool has_content_length;	/* even when body is NONE (HEAD, 304) */
	bool keep_alive;		/* per version + Connection tokens */
	bool upgrade;			/* request (1.1): Connection: upgrade
					   and an Upgrade token other than
					   h2c; response: 101 */
	bool expect_continue;		/* request (1.1): 100-continue */
	bool is_head;			/* request method is HEAD */
};

/* Fills lim with the defaults above. */
void http_limits_init(struct http_limits *lim);

/*
 * Parses a request head at the start of buf. Returns head_len (> 0) when a
 * complete head was parsed into m, 0 when more bytes are needed and no
 * limit is exceeded yet, or -STATUS (-400, -414, -431, -501, -505) when the
 * head is invalid. hdrs/cap is the caller's storage for the header array;
 * more fields than min(cap, lim->max_headers) is -431. lim NULL means the
 * defaults. A head is at most INT_MAX bytes. Each call parses from the
 * start: call again only when the new bytes hold a '\n' or pass a limit,
 * which bounds a trickled head to about max_headers + 10 passes.
 *
 * The target and Host are validated (RFC 9112 3.2, 3.2.2): origin-form
 * ("/..."), "*" for OPTIONS only, authority-form for CONNECT only, and
 * absolute-form with an http or https scheme and no userinfo; one Host of
 * the form host[:port] (none is allowed in HTTP/1.0); anything else is
 * -400. For an absolute-form target, m->authority is the target's
 * authority (it replaces Host) and m->path its path and query, empty when
 * it has no path (http_write_request_head then sends "/", or "*" for
 * OPTIONS); otherwise m->path is the target and m->authority the Host.
 */
int http_parse_request(const char *buf, size_t len,
    const struct http_limits *lim, struct http_msg *m,
    struct http_header *hdrs, size_t cap);

/*
 * Same for a response head; req_is_head says the request was HEAD. Returns
 * head_len, 0, or -1 for an invalid response (the caller answers 502).
 * A 1xx other than 101 is a complete interim head: forward it and parse
 * again. Body: 1xx/204/304/HEAD -> NONE; chunked; Content-Length;
 * otherwise EOF (and keep_alive false).
 */
int http_parse_response(const char *buf, size_t len,
    const struct http_limits *lim, bool req_is_head, struct http_msg *m,
    struct http_header *hdrs, size_t cap);

/* Returns the first header called name (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_msg *m,
    const char *name);

/* Returns true when s[0..n) equals lit, ASCII case-insensitively. */
bool http_token_eq(const char *s, size_t n, const char *lit);

/* What the proxy adds to a forwarded request. */
struct http_fwd {
	const char *client_ip;		/* appended to X-Forwarded-For */
	const char *cert_subject;	/* NULL when absent; never sent empty */
	const char *cert_issuer;
	const char *cert_fingerprint;
	const char *cert_serial;
	const char *cert_verify;	/* "SUCCESS" | "NONE" | "FAILED:reason";
					   NULL: no X-Forwarded-Clientcert-* */
	bool xff_replace;		/* X-Forwarded-For is client_ip alone
					   (x_forwarded_for = replace) */
	bool plain;			/* the client spoke plain HTTP:
					   X-Forwarded-Proto: http */
	const char *cert_block;		/* more certificate header lines,
					   "Name: value\r\n" each, or NULL */
	size_t cert_block_len;
};

/*
 * Writes the rewritten request head of req into out: "METHOD TARGET
 * HTTP/1.1" (the target in origin-form), Host from req->authority,
 * hop-by-hop and spoofable headers removed (the X-Forwarded-* family,
 * Forwarded, X-Real-IP and the client-certificate families: see
 * http_fields.c), the h2c token of Upgrade and HTTP2-Settings removed,
 * Expect removed from an HTTP/1.0 request, framing headers canonical,
 * X-Forwarded-For (the client's values then client_ip, or client_ip alone
 * with fwd->xff_replace), X-Forwarded-Proto and (when fwd->cert_verify is
 * set) the client certificate headers added, then fwd->cert_block as it
 * is, then the empty line. fwd may be NULL.
 */
void http_write_request_head(struct evbuffer *out, const struct http_msg *req,
    const struct http_fwd *fwd);

/*
 * Writes the rewritten response head of resp for the client into out.
 * close adds "Connection: close"; an HTTP/1.0 client kept alive gets
 * "Connection: keep-alive"; a 101 keeps Upgrade and gets
 * "Connection: upgrade". Writes nothing for an interim 1xx (not 101) when
 * client_version is 10: RFC 9110 15.2 forbids sending one to a 1.0 client
 * (http_forward_interim() says the same to a caller that wants to know).
 */
void http_write_response_head(struct evbuffer *out,
    const struct http_msg *resp, int client_version, bool close);

/*
 * Returns whether a response with status may go to a client speaking
 * client_version: false only for an interim one (1xx but 101) to an
 * HTTP/1.0 client, which RFC 9110 15.2 forbids.
 */
bool http_forward_interim(int status, int client_version);

/*
 * Writes a complete canned error response (head and HTML body) into out.
 * detail NULL or "" means the reason phrase.
 */
void http_write_error(struct evbuffer *out, int status, const char *detail,
    bool close);

/*
 * Writes a complete 308 response into out whose Location is
 * https://HOST[:port]/path: HOST is m->authority without its port (an
 * IPv6 literal keeps its brackets), port is left out when it is 443, and
 * path is m->path ("/" when it is empty or "*"). m->authority must not be
 * NULL. Bytes a header may not carry are percent-encoded.
 */
void http_write_redirect(struct evbuffer *out, const struct http_msg *m,
    unsigned port, bool close);

/* Returns the reason phrase of status, or "Unknown". */
const char *http_reason(int status);

enum http_chunked_state {
	HCS_SIZE_FIRST,		/* first hex digit of a chunk-size */
	HCS_SIZE,		/* more hex digits, ';' or CR */
	HCS_EXT,		/* chunk-ext up to CR */
	HCS_SIZE_LF,
	HCS_DATA,
	HCS_DATA_CR,
	HCS_DATA_LF,
	HCS_TRAILER_START,	/* a trailer field or the final CRLF */
	HCS_TRAILER_NAME,
	HCS_TRAILER_VALUE,
	HCS_TRAILER_LF,
	HCS_FINAL_LF,
	HCS_DONE,
	HCS_ERROR
};

/* Bytes of a trailer field name kept to decide whether it is allowed. */
#define HTTP_TRAILER_NAME_KEEP	48

/* Chunked-body scanner state; plain data, the caller embeds it. */
struct http_chunked {
	enum http_chunked_state state;
	uint64_t size;		/* chunk-size being read, then data left */
	size_t line_len;	/* bytes of the chunk-size line or trailer */
	uint64_t data_bytes;	/* total chunk-data bytes seen so far */
	bool any_trailer;	/* response: trailer names not checked */
	bool bad_trailer;	/* the error was a forbidden trailer field */
	size_t name_len;	/* of the trailer field name being read */
	char name[HTTP_TRAILER_NAME_KEEP];	/* its first bytes */
};

#define HTTP_CHUNK_LINE_MAX	4096
#define HTTP_CHUNK_TRAILER_MAX	8192

/*
 * Resets c to the start of a chunked request body. Its trailer section may
 * not carry a field that frames, routes, authenticates or that mtlslb sets
 * itself (http_trailer_forbidden()): such a field is a framing error (the
 * caller answers 400), seen at its ':' before any byte of its value or
 * line end has been accepted, so no backend can receive it whole.
 */
void http_chunked_init(struct http_chunked *c);

/*
 * Resets c to the start of a chunked response body: trailer fields are
 * checked for syntax only (they go to the client, whom they cannot spoof).
 */
void http_chunked_init_response(struct http_chunked *c);

/*
 * Returns true when a request trailer field called name[0..n) is refused:
 * framing (Content-Length, Transfer-Encoding, Trailer, Content-Type,
 * -Encoding, -Range), routing (Host, the X-Forwarded-* family, Forwarded,
 * X-Real-IP, Via, X-Original-URL, X-Rewrite-URL, method overrides),
 * hop-by-hop (Connection, Keep-Alive, TE, Upgrade, HTTP2-Settings, ...),
 * request modifiers (Expect, Max-Forwards, Range, If-*, Cache-Control,
 * Pragma), authentication (Authorization, Proxy-Authorization, Cookie, the
 * *-Authenticate fields) and every client-certificate header family.
 * Names compare case-insensitively with '_' matching '-'.
 */
bool http_trailer_forbidden(const char *name, size_t n);

/*
 * Scans the next n bytes of a chunked body. Returns how many of them belong
 * to this message (fewer than n only when it ended, with *done set), or -1
 * on a framing error (sticky; bad_trailer set when a forbidden trailer
 * field caused it). Chunk data is skipped without being read.
 */
ssize_t http_chunked_scan(struct http_chunked *c, const char *p, size_t n,
    bool *done);

#endif /* MTLSLB_HTTP_H */
