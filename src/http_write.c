/*
 * http_write: serialises heads for the other side (the request upstream
 * with hop-by-hop and spoofable headers removed and ours added, the
 * response for the client) and the canned error pages. Writes only into
 * the caller's evbuffer; never reads a socket.
 */
#include "ac_config.h"
#include "http_int.h"

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

static void
add_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, s, strlen(s));
}

/* Adds s with CTLs replaced by '?': DNs come from certificates. */
static void
add_sanitised(struct evbuffer *out, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		if (is_bad_value_char((unsigned char)*s)) {
			evbuffer_add(out, run, (size_t)(s - run));
			evbuffer_add(out, "?", 1);
			run = s + 1;
		}
	}
	evbuffer_add(out, run, (size_t)(s - run));
}

static void
add_header(struct evbuffer *out, const struct http_header *h)
{
	evbuffer_add(out, h->name, h->name_len);
	evbuffer_add(out, ": ", 2);
	evbuffer_add(out, h->value, h->value_len);
	evbuffer_add(out, "\r\n", 2);
}

static void
add_sanitised_header(struct evbuffer *out, const char *name, const char *val)
{
	if (val == NULL || *val == '\0')
		return;
	add_str(out, name);
	evbuffer_add(out, ": ", 2);
	add_sanitised(out, val);
	evbuffer_add(out, "\r\n", 2);
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
add_content_length(struct evbuffer *out, uint64_t cl)
{
	char b[40], *p = b + sizeof(b);

	/* digits from the right, no printf on the per-response path */
	*--p = '\n';
	*--p = '\r';
	do
		*--p = (char)('0' + cl % 10);
	while ((cl /= 10) != 0);
	evbuffer_add(out, "Content-Length: ", 16);
	evbuffer_add(out, p, (size_t)(b + sizeof(b) - p));
}

static void
add_host(struct evbuffer *out, const struct http_msg *req)
{
	evbuffer_add(out, "Host: ", 6);
	if (req->authority != NULL)
		evbuffer_add(out, req->authority, req->authority_len);
	evbuffer_add(out, "\r\n", 2);
}

struct upgrade_state {
	struct evbuffer *out;
	bool any;
};

static void
upgrade_elem(const char *e, size_t n, void *arg)
{
	struct upgrade_state *st = arg;

	if (n == 0 || http_upgrade_is_h2c(e, n))
		return;
	evbuffer_add(st->out, st->any ? ", " : "Upgrade: ", st->any ? 2 : 9);
	evbuffer_add(st->out, e, n);
	st->any = true;
}

/* Upgrade without its h2c tokens; nothing when only h2c was offered. */
static void
add_upgrade(struct evbuffer *out, const struct http_header *h)
{
	struct upgrade_state st = { out, false };

	http_list_foreach(h->value, h->value_len, upgrade_elem, &st);
	if (st.any)
		evbuffer_add(out, "\r\n", 2);
}

void
http_write_request_head(struct evbuffer *out, const struct http_msg *req,
    const struct http_fwd *fwd)
{
	const struct http_header *h;
	bool cl_done = false, te_done = false, host = false, xff = false;
	bool named = connection_names_fields(req);
	size_t i;

	evbuffer_expand(out, req->head_len + 512);
	evbuffer_add(out, req->method, req->method_len);
	evbuffer_add(out, " ", 1);
	/* an absolute-form target in origin-form (RFC 9112 3.2.4) */
	if (req->path_len == 0)
		add_str(out, req->method_len == 7 &&
		    memcmp(req->method, "OPTIONS", 7) == 0 ? "*" : "/");
	else if (req->path[0] == '?')
		evbuffer_add(out, "/", 1);
	evbuffer_add(out, req->path, req->path_len);
	evbuffer_add(out, " HTTP/1.1\r\n", 11);

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		switch (http_classify(h)) {
		case HK_CONTENT_LENGTH:
			/* one canonical copy of the validated value */
			if (!cl_done && req->has_content_length)
				add_content_length(out, req->content_length);
			cl_done = true;
			break;
		case HK_TRANSFER_ENCODING:
			/* the parser accepts no coding but a lone chunked */
			if (!te_done && req->body == HTTP_BODY_CHUNKED)
				add_str(out, "Transfer-Encoding: chunked\r\n");
			te_done = true;
			break;
		case HK_HOST:
			/* the parser allows one; absolute-form replaced it */
			if (!host)
				add_host(out, req);
			host = true;
			break;
		case HK_UPGRADE:
			if (req->upgrade)
				add_upgrade(out, h);
			break;
		case HK_EXPECT:
			/* RFC 9110 10.1.1: a 1.0 client's expectation is void */
			if (req->version != 10 &&
			    (!named || !named_by_connection(req, h)))
				add_header(out, h);
			break;
		case HK_XFF:
		case HK_HOP:
		case HK_OURS:
			break;
		case HK_OTHER:
			if (!named || !named_by_connection(req, h))
				add_header(out, h);
			break;
		}
	}
	/*
	 * We always speak 1.1 upstream, which requires Host; RFC 9112 3.2
	 * says an empty one is right when the 1.0 client sent none.
	 */
	if (!host)
		add_host(out, req);
	if (req->upgrade)
		add_str(out, "Connection: upgrade\r\n");

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		if (fwd != NULL && fwd->xff_replace)
			break;
		if (h->value_len == 0 || http_classify(h) != HK_XFF)
			continue;
		add_str(out, xff ? ", " : "X-Forwarded-For: ");
		evbuffer_add(out, h->value, h->value_len);
		xff = true;
	}
	if (fwd != NULL && fwd->client_ip != NULL && *fwd->client_ip != '\0') {
		add_str(out, xff ? ", " : "X-Forwarded-For: ");
		add_sanitised(out, fwd->client_ip);
		xff = true;
	}
	if (xff)
		evbuffer_add(out, "\r\n", 2);
	add_str(out, "X-Forwarded-Proto: https\r\n");

	if (fwd != NULL && fwd->cert_verify != NULL) {
		add_sanitised_header(out, "X-Forwarded-Clientcert-subjectdn",
		    fwd->cert_subject);
		add_sanitised_header(out, "X-Forwarded-Clientcert-issuerdn",
		    fwd->cert_issuer);
		add_sanitised_header(out, "X-Forwarded-Clientcert-fingerprint",
		    fwd->cert_fingerprint);
		add_sanitised_header(out,
		    "X-Forwarded-Clientcert-serialnumber", fwd->cert_serial);
		add_sanitised_header(out, "X-Forwarded-Clientcert-clientverify",
		    fwd->cert_verify);
	}
	evbuffer_add(out, "\r\n", 2);
}

void
http_write_response_head(struct evbuffer *out, const struct http_msg *resp,
    int client_version, bool close)
{
	const struct http_header *h;
	bool cl_done = false;
	bool named;
	char sl[16];
	size_t i;

	if (!http_forward_interim(resp->status, client_version))
		return;
	named = connection_names_fields(resp);
	evbuffer_expand(out, resp->head_len + 128);
	/* "HTTP/1.1 NNN " without printf: this runs for every response. */
	memcpy(sl, "HTTP/1.1 ", 9);
	sl[9] = (char)('0' + resp->status / 100 % 10);
	sl[10] = (char)('0' + resp->status / 10 % 10);
	sl[11] = (char)('0' + resp->status % 10);
	sl[12] = ' ';
	evbuffer_add(out, sl, 13);
	if (resp->reason_len > 0)
		evbuffer_add(out, resp->reason, resp->reason_len);
	else if (strcmp(http_reason(resp->status), "Unknown") != 0)
		add_str(out, http_reason(resp->status));
	evbuffer_add(out, "\r\n", 2);

	for (i = 0; i < resp->nhdr; i++) {
		h = &resp->hdr[i];
		switch (http_classify(h)) {
		case HK_CONTENT_LENGTH:
			if (!cl_done && resp->has_content_length)
				add_content_length(out, resp->content_length);
			cl_done = true;
			break;
		case HK_UPGRADE:
			if (resp->status == 101)
				add_header(out, h);
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
				add_header(out, h);
			break;
		case HK_HOST:
		case HK_XFF:
		case HK_EXPECT:
		case HK_OURS:
		case HK_OTHER:
			if (!named || !named_by_connection(resp, h))
				add_header(out, h);
			break;
		}
	}
	if (resp->status == 101)
		add_str(out, "Connection: upgrade\r\n");
	else if (close)
		add_str(out, "Connection: close\r\n");
	else if (client_version == 10)
		add_str(out, "Connection: keep-alive\r\n");
	evbuffer_add(out, "\r\n", 2);
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

