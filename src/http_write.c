/*
 * http_write: serialises heads for the other side (the request upstream
 * with hop-by-hop and spoofable headers removed and ours added, the
 * response for the client) and the canned error pages. Writes only into
 * the caller's evbuffer; never reads a socket.
 */
#include "ac_config.h"
#include "http_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

/*
 * A head is written straight into space reserved in the output buffer:
 * one reserve and one commit per head instead of an evbuffer_add (and its
 * callbacks) per piece. hw_put stops at the end of the space and marks the
 * head as not fitting; the caller then reserves more and writes it again.
 */
struct hw {
	char *p;
	char *end;
	bool full;
};

static void
hw_put(struct hw *w, const void *s, size_t n)
{
	if ((size_t)(w->end - w->p) < n) {
		w->full = true;
		w->end = w->p;
		return;
	}
	memcpy(w->p, s, n);
	w->p += n;
}

static void
hw_str(struct hw *w, const char *s)
{
	hw_put(w, s, strlen(s));
}

/* Adds s with CTLs replaced by '?': DNs come from certificates. */
static void
hw_sanitised(struct hw *w, const char *s)
{
	char *start = w->p;

	hw_str(w, s);
	for (; start < w->p; start++) {
		if (is_bad_value_char((unsigned char)*start))
			*start = '?';
	}
}

static void
hw_header(struct hw *w, const struct http_header *h)
{
	hw_put(w, h->name, h->name_len);
	hw_put(w, ": ", 2);
	hw_put(w, h->value, h->value_len);
	hw_put(w, "\r\n", 2);
}

static void
hw_sanitised_header(struct hw *w, const char *name, const char *val)
{
	if (val == NULL || *val == '\0')
		return;
	hw_str(w, name);
	hw_put(w, ": ", 2);
	hw_sanitised(w, val);
	hw_put(w, "\r\n", 2);
}

/*
 * Runs write_fn(w, arg) into at least want bytes reserved at the end of
 * out, and commits what it wrote; retries with twice the space when the
 * head did not fit (want is an estimate).
 */
static void
hw_run(struct evbuffer *out, size_t want,
    void (*write_fn)(struct hw *, const void *), const void *arg)
{
	struct evbuffer_iovec v;
	struct hw w;

	for (;;) {
		if (evbuffer_reserve_space(out, (ev_ssize_t)want, &v, 1) != 1)
			abort();	/* allocation failure, as xmalloc */
		w.p = v.iov_base;
		w.end = w.p + v.iov_len;
		w.full = false;
		write_fn(&w, arg);
		if (!w.full)
			break;
		want *= 2;
	}
	v.iov_len = (size_t)(w.p - (char *)v.iov_base);
	(void)evbuffer_commit_space(out, &v, 1);
}

struct named_state {
	const char *name;
	size_t len;
	bool found;
};

static void
named_elem(const char *e, size_t n, void *arg)
{
	struct named_state *st = arg;
	size_t i;

	if (n != st->len)
		return;
	for (i = 0; i < n; i++) {
		if (lower((unsigned char)e[i]) !=
		    lower((unsigned char)st->name[i]))
			return;
	}
	st->found = true;
}

/* True when a Connection token names h (RFC 9110 7.6.1). */
static bool
named_by_connection(const struct http_msg *m, const struct http_header *h)
{
	struct named_state st = { h->name, h->name_len, false };
	size_t i;

	for (i = 0; i < m->nhdr && !st.found; i++) {
		if (http_token_eq(m->hdr[i].name, m->hdr[i].name_len,
		    "connection"))
			http_list_foreach(m->hdr[i].value,
			    m->hdr[i].value_len, named_elem, &st);
	}
	return st.found;
}

/*
 * True when a Connection header names a field other than the ones every
 * client sends (close, keep-alive, upgrade): only then can a header be
 * "named by Connection", and only then is the per-header check needed.
 */
static bool
connection_names_fields(const struct http_msg *m)
{
	size_t i, j, start, n;
	const char *v;

	for (i = 0; i < m->nhdr; i++) {
		if (m->hdr[i].name_len != 10 || !http_token_eq(m->hdr[i].name,
		    10, "connection"))
			continue;
		v = m->hdr[i].value;
		n = m->hdr[i].value_len;
		for (j = 0; j <= n; j = start) {
			size_t e;

			while (j < n && (v[j] == ' ' || v[j] == '\t' ||
			    v[j] == ','))
				j++;
			for (e = j; e < n && v[e] != ','; e++)
				;
			start = e + 1;
			while (e > j && (v[e - 1] == ' ' || v[e - 1] == '\t'))
				e--;
			if (e == j)
				continue;
			if (!http_token_eq(v + j, e - j, "close") &&
			    !http_token_eq(v + j, e - j, "keep-alive") &&
			    !http_token_eq(v + j, e - j, "upgrade"))
				return true;
		}
	}
	return false;
}

static void
hw_content_length(struct hw *w, uint64_t cl)
{
	char b[40], *p = b + sizeof(b);

	/* digits from the right, no printf on the per-response path */
	*--p = '\n';
	*--p = '\r';
	do
		*--p = (char)('0' + cl % 10);
	while ((cl /= 10) != 0);
	hw_put(w, "Content-Length: ", 16);
	hw_put(w, p, (size_t)(b + sizeof(b) - p));
}

static void
hw_host(struct hw *w, const struct http_msg *req)
{
	hw_put(w, "Host: ", 6);
	if (req->authority != NULL)
		hw_put(w, req->authority, req->authority_len);
	hw_put(w, "\r\n", 2);
}

struct upgrade_state {
	struct hw *w;
	bool any;
};

static void
upgrade_elem(const char *e, size_t n, void *arg)
{
	struct upgrade_state *st = arg;

	if (n == 0 || http_upgrade_is_h2c(e, n))
		return;
	hw_put(st->w, st->any ? ", " : "Upgrade: ", st->any ? 2 : 9);
	hw_put(st->w, e, n);
	st->any = true;
}

/* Upgrade without its h2c tokens; nothing when only h2c was offered. */
static void
hw_upgrade(struct hw *w, const struct http_header *h)
{
	struct upgrade_state st = { w, false };

	http_list_foreach(h->value, h->value_len, upgrade_elem, &st);
	if (st.any)
		hw_put(w, "\r\n", 2);
}

struct req_args {
	const struct http_msg *req;
	const struct http_fwd *fwd;
};

static void
request_head(struct hw *w, const void *arg)
{
	const struct req_args *ra = arg;
	const struct http_msg *req = ra->req;
	const struct http_fwd *fwd = ra->fwd;
	const struct http_header *h;
	bool cl_done = false, te_done = false, host = false, xff = false;
	bool named = connection_names_fields(req);
	size_t i;

	hw_put(w, req->method, req->method_len);
	hw_put(w, " ", 1);
	/* an absolute-form target in origin-form (RFC 9112 3.2.4) */
	if (req->path_len == 0)
		hw_str(w, req->method_len == 7 &&
		    memcmp(req->method, "OPTIONS", 7) == 0 ? "*" : "/");
	else if (req->path[0] == '?')
		hw_put(w, "/", 1);
	hw_put(w, req->path, req->path_len);
	hw_put(w, " HTTP/1.1\r\n", 11);

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		switch (http_classify(h)) {
		case HK_CONTENT_LENGTH:
			/* one canonical copy of the validated value */
			if (!cl_done && req->has_content_length)
				hw_content_length(w, req->content_length);
			cl_done = true;
			break;
		case HK_TRANSFER_ENCODING:
			/* the parser accepts no coding but a lone chunked */
			if (!te_done && req->body == HTTP_BODY_CHUNKED)
				hw_str(w, "Transfer-Encoding: chunked\r\n");
			te_done = true;
			break;
		case HK_HOST:
			/* the parser allows one; absolute-form replaced it */
			if (!host)
				hw_host(w, req);
			host = true;
			break;
		case HK_UPGRADE:
			if (req->upgrade)
				hw_upgrade(w, h);
			break;
		case HK_EXPECT:
			/* RFC 9110 10.1.1: a 1.0 client's expectation is void */
			if (req->version != 10 &&
			    (!named || !named_by_connection(req, h)))
				hw_header(w, h);
			break;
		case HK_XFF:
		case HK_HOP:
		case HK_OURS:
			break;
		case HK_OTHER:
			if (!named || !named_by_connection(req, h))
				hw_header(w, h);
			break;
		}
	}
	/*
	 * We always speak 1.1 upstream, which requires Host; RFC 9112 3.2
	 * says an empty one is right when the 1.0 client sent none.
	 */
	if (!host)
		hw_host(w, req);
	if (req->upgrade)
		hw_str(w, "Connection: upgrade\r\n");

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		if (fwd != NULL && fwd->xff_replace)
			break;
		if (h->value_len == 0 || http_classify(h) != HK_XFF)
			continue;
		hw_str(w, xff ? ", " : "X-Forwarded-For: ");
		hw_put(w, h->value, h->value_len);
		xff = true;
	}
	if (fwd != NULL && fwd->client_ip != NULL && *fwd->client_ip != '\0') {
		hw_str(w, xff ? ", " : "X-Forwarded-For: ");
		hw_sanitised(w, fwd->client_ip);
		xff = true;
	}
	if (xff)
		hw_put(w, "\r\n", 2);
	hw_str(w, fwd != NULL && fwd->plain ? "X-Forwarded-Proto: http\r\n" :
	    "X-Forwarded-Proto: https\r\n");

	if (fwd != NULL && fwd->cert_verify != NULL) {
		hw_sanitised_header(w, "X-Forwarded-Clientcert-subjectdn",
		    fwd->cert_subject);
		hw_sanitised_header(w, "X-Forwarded-Clientcert-issuerdn",
		    fwd->cert_issuer);
		hw_sanitised_header(w, "X-Forwarded-Clientcert-fingerprint",
		    fwd->cert_fingerprint);
		hw_sanitised_header(w,
		    "X-Forwarded-Clientcert-serialnumber", fwd->cert_serial);
		hw_sanitised_header(w, "X-Forwarded-Clientcert-clientverify",
		    fwd->cert_verify);
	}
	if (fwd != NULL && fwd->cert_block != NULL)
		hw_put(w, fwd->cert_block, fwd->cert_block_len);
	hw_put(w, "\r\n", 2);
}

static size_t
len_or_0(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

void
http_write_request_head(struct evbuffer *out, const struct http_msg *req,
    const struct http_fwd *fwd)
{
	struct req_args ra = { req, fwd };
	/*
	 * Every header we keep grows by at most one byte (": " for ":"); what
	 * we add is below 400 bytes plus the certificate fields.
	 */
	size_t want = req->head_len + req->nhdr + 400;

	if (fwd != NULL)
		want += len_or_0(fwd->client_ip) + len_or_0(fwd->cert_subject) +
		    len_or_0(fwd->cert_issuer) +
		    len_or_0(fwd->cert_fingerprint) +
		    len_or_0(fwd->cert_serial) + len_or_0(fwd->cert_verify) +
		    fwd->cert_block_len;
	hw_run(out, want, request_head, &ra);
}

struct resp_args {
	const struct http_msg *resp;
	int client_version;
	bool close;
};

static void
response_head(struct hw *w, const void *arg)
{
	const struct resp_args *ra = arg;
	const struct http_msg *resp = ra->resp;
	int client_version = ra->client_version;
	const struct http_header *h;
	bool cl_done = false;
	bool named = connection_names_fields(resp);
	char sl[16];
	size_t i;

	/* "HTTP/1.1 NNN " without printf: this runs for every response. */
	memcpy(sl, "HTTP/1.1 ", 9);
	sl[9] = (char)('0' + resp->status / 100 % 10);
	sl[10] = (char)('0' + resp->status / 10 % 10);
	sl[11] = (char)('0' + resp->status % 10);
	sl[12] = ' ';
	hw_put(w, sl, 13);
	if (resp->reason_len > 0)
		hw_put(w, resp->reason, resp->reason_len);
	else if (strcmp(http_reason(resp->status), "Unknown") != 0)
		hw_str(w, http_reason(resp->status));
	hw_put(w, "\r\n", 2);

	for (i = 0; i < resp->nhdr; i++) {
		h = &resp->hdr[i];
		switch (http_classify(h)) {
		case HK_CONTENT_LENGTH:
			if (!cl_done && resp->has_content_length)
				hw_content_length(w, resp->content_length);
			cl_done = true;
			break;
		case HK_UPGRADE:
			if (resp->status == 101)
				hw_header(w, h);
			break;
		case HK_HOP:
			break;
		case HK_TRANSFER_ENCODING:
			/*
			 * Kept as received: the body is relayed unchanged and
			 * the client must see the same codings. An HTTP/1.0
			 * client cannot read chunked: the caller de-chunks and
			 * closes, so the header goes.
			 */
			if (client_version != 10 ||
			    resp->body != HTTP_BODY_CHUNKED)
				hw_header(w, h);
			break;
		case HK_HOST:
		case HK_XFF:
		case HK_EXPECT:
		case HK_OURS:
		case HK_OTHER:
			if (!named || !named_by_connection(resp, h))
				hw_header(w, h);
			break;
		}
	}
	if (resp->status == 101)
		hw_str(w, "Connection: upgrade\r\n");
	else if (ra->close)
		hw_str(w, "Connection: close\r\n");
	else if (client_version == 10)
		hw_str(w, "Connection: keep-alive\r\n");
	hw_put(w, "\r\n", 2);
}

void
http_write_response_head(struct evbuffer *out, const struct http_msg *resp,
    int client_version, bool close)
{
	struct resp_args ra = { resp, client_version, close };

	if (!http_forward_interim(resp->status, client_version))
		return;
	/* as for requests; the status line is at most 64 bytes longer */
	hw_run(out, resp->head_len + resp->nhdr + 128, response_head, &ra);
}

bool
http_forward_interim(int status, int client_version)
{
	return status < 100 || status > 199 || status == 101 ||
	    client_version != 10;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/* Adds n bytes when out is set; returns n either way (for measuring). */
static size_t
put(struct evbuffer *out, const char *s, size_t n)
{
	if (out != NULL)
		evbuffer_add(out, s, n);
	return n;
}

/* HTML-escapes s: a detail may quote peer-controlled text. */
static size_t
put_html(struct evbuffer *out, const char *s)
{
	const char *run = s, *esc;
	size_t n = 0;

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '&': esc = "&amp;"; break;
		case '"': esc = "&quot;"; break;
		default:
			if (!is_bad_value_char((unsigned char)*s))
				continue;
			esc = "?";
			break;
		}
		n += put(out, run, (size_t)(s - run));
		n += put(out, esc, strlen(esc));
		run = s + 1;
	}
	return n + put(out, run, (size_t)(s - run));
}

static size_t
error_body(struct evbuffer *out, const char *code, const char *reason,
    const char *detail)
{
	size_t n = 0;

#define PUT(s)	(n += put(out, (s), strlen(s)))
	PUT("<html>\r\n<head><title>");
	PUT(code);
	PUT(" ");
	n += put_html(out, detail != NULL ? detail : reason);
	PUT("</title></head>\r\n<body>\r\n<center><h1>");
	PUT(code);
	PUT(" ");
	n += put_html(out, reason);
	PUT("</h1></center>\r\n");
	if (detail != NULL) {
		PUT("<center>");
		n += put_html(out, detail);
		PUT("</center>\r\n");
	}
	PUT("<hr><center>mtlslb</center>\r\n</body>\r\n</html>\r\n");
#undef PUT
	return n;
}

void
http_write_error(struct evbuffer *out, int status, const char *detail,
    bool close)
{
	const char *reason = http_reason(status);
	char code[16];

	if (detail != NULL && *detail == '\0')
		detail = NULL;
	snprintf(code, sizeof(code), "%03d", status);
	evbuffer_add_printf(out, "HTTP/1.1 %s %s\r\n"
	    "Server: mtlslb\r\n"
	    "Content-Type: text/html\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: %s\r\n\r\n",
	    code, reason, error_body(NULL, code, reason, detail),
	    close ? "close" : "keep-alive");
	error_body(out, code, reason, detail);
}


/* Appends s[0..n) to out, percent-encoding blanks, controls and 8-bit. */
static void
put_location(struct evbuffer *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, start = 0;
	char esc[3];

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch > ' ' && ch < 0x7f)
			continue;
		evbuffer_add(out, s + start, i - start);
		esc[0] = '%';
		esc[1] = hex[ch >> 4];
		esc[2] = hex[ch & 15];
		evbuffer_add(out, esc, 3);
		start = i + 1;
	}
	evbuffer_add(out, s + start, n - start);
}

void
http_write_redirect(struct evbuffer *out, const struct http_msg *m,
    unsigned port, bool close)
{
	static const char body[] = "<html>\r\n<head><title>308 Permanent "
	    "Redirect</title></head>\r\n<body>\r\n<center><h1>308 Permanent "
	    "Redirect</h1></center>\r\n<hr><center>mtlslb</center>\r\n"
	    "</body>\r\n</html>\r\n";
	const char *host = m->authority;
	size_t hlen = m->authority_len, i;

	/* "[::1]:80" -> "[::1]", "lb.example.com:80" -> "lb.example.com" */
	if (hlen > 0 && host[0] == '[') {
		for (i = 0; i < hlen && host[i] != ']'; i++)
			;
		hlen = i < hlen ? i + 1 : hlen;
	} else {
		for (i = 0; i < hlen && host[i] != ':'; i++)
			;
		hlen = i;
	}
	evbuffer_add_printf(out, "HTTP/1.1 308 Permanent Redirect\r\n"
	    "Server: mtlslb\r\nContent-Type: text/html\r\n"
	    "Content-Length: %zu\r\nLocation: https://", sizeof(body) - 1);
	put_location(out, host, hlen);
	if (port != 443)
		evbuffer_add_printf(out, ":%u", port);
	if (m->path_len == 0 || m->path[0] != '/')
		evbuffer_add(out, "/", 1);
	else
		put_location(out, m->path, m->path_len);
	evbuffer_add_printf(out, "\r\nConnection: %s\r\n\r\n",
	    close ? "close" : "keep-alive");
	evbuffer_add(out, body, sizeof(body) - 1);
}
