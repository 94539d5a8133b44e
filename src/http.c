/*
 * http: HTTP/1.1 head parsing (RFC 9112), framing decisions, header
 * rewriting and canned error pages. Parsing never allocates and never
 * copies: struct http_msg points into the caller's buffer. The parser is
 * deliberately strict wherever a lenient reading could make us and the
 * backend disagree about message boundaries (request smuggling).
 */
#include "ac_config.h"
#include "http.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

/* Empty lines tolerated before a request line. */
#define HTTP_MAX_LEADING_CRLF	8

/* Connection tokens and framing facts gathered from the header fields. */
struct head_info {
	size_t nhost;
	bool te;		/* Transfer-Encoding present */
	bool te_bad;		/* syntax error in a coding */
	size_t nchunked;
	bool chunked_last;
	size_t nother;		/* codings other than chunked */
	bool cl_bad;		/* malformed or conflicting Content-Length */
	bool conn_close;
	bool conn_keep_alive;
	bool conn_upgrade;
	bool upgrade_hdr;
	bool expect_continue;
};

void
http_limits_init(struct http_limits *lim)
{
	lim->max_request_line = HTTP_DEFAULT_MAX_REQUEST_LINE;
	lim->max_header_size = HTTP_DEFAULT_MAX_HEADER_SIZE;
	lim->max_headers = HTTP_DEFAULT_MAX_HEADERS;
}

static inline unsigned char
lower(unsigned char c)
{
	/* Not tolower(): header names are ASCII whatever the locale. */
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

static inline bool
is_tchar(unsigned char c)
{
	unsigned char l = lower(c);

	if ((l >= 'a' && l <= 'z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '.': case '^': case '_':
	case '`': case '|': case '~':
		return true;
	default:
		return false;
	}
}

/* CTLs other than HTAB; obs-text (>= 0x80) is allowed in values. */
static inline bool
is_bad_value_char(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static inline bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
http_token_eq(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lit[i] == '\0' ||
		    lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
			return false;
	}
	return lit[n] == '\0';
}

/*
 * Like http_token_eq() but '_' and '-' match each other: CGI-style backends
 * map both to '_', so "X_Forwarded_Clientcert_SubjectDN" would spoof ours.
 */
static bool
name_prefix_loose(const char *s, size_t n, const char *lit)
{
	size_t i;
	unsigned char a, b;

	for (i = 0; lit[i] != '\0'; i++) {
		if (i == n)
			return false;
		a = lower((unsigned char)s[i]);
		b = (unsigned char)lit[i];
		if (a == '_')
			a = '-';
		if (a != b)
			return false;
	}
	return true;
}

static bool
name_eq_loose(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && name_prefix_loose(s, n, lit);
}

const struct http_header *
http_find_header(const struct http_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nhdr; i++) {
		if (http_token_eq(m->hdr[i].name, m->hdr[i].name_len, name))
			return &m->hdr[i];
	}
	return NULL;
}

/*
 * Calls fn for each element of a comma-separated list value with the OWS
 * around it trimmed; empty elements are passed too (callers decide).
 */
typedef void list_fn(const char *e, size_t n, void *arg);

static void
list_foreach(const char *v, size_t len, list_fn *fn, void *arg)
{
	size_t i = 0, s, e;

	for (;;) {
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		fn(v + s, e - s, arg);
		if (i >= len)
			break;
		i++;
	}
}

struct cl_state {
	struct head_info *hi;
	struct http_msg *m;
};

static void
cl_elem(const char *e, size_t n, void *arg)
{
	struct cl_state *st = arg;
	uint64_t v = 0;
	size_t i;

	if (n == 0) {
		st->hi->cl_bad = true;
		return;
	}
	for (i = 0; i < n; i++) {
		if (!is_digit(e[i]) || v > (HTTP_MAX_CONTENT_LENGTH -
		    (uint64_t)(e[i] - '0')) / 10) {
			st->hi->cl_bad = true;
			return;
		}
		v = v * 10 + (uint64_t)(e[i] - '0');
	}
	/* RFC 9110 8.6: identical repeats may be collapsed, others are fatal */
	if (st->m->has_content_length && st->m->content_length != v)
		st->hi->cl_bad = true;
	st->m->has_content_length = true;
	st->m->content_length = v;
}

static void
te_elem(const char *e, size_t n, void *arg)
{
	struct head_info *hi = arg;
	size_t i;

	/* RFC 9110 5.6.1: empty list elements do not count */
	if (n == 0)
		return;
	if (http_token_eq(e, n, "chunked")) {
		hi->nchunked++;
		hi->chunked_last = true;
		return;
	}
	for (i = 0; i < n && is_tchar((unsigned char)e[i]); i++)
		;
	/* "chunked" takes no parameters; anything else is a coding we lack */
	if (i == 0 || http_token_eq(e, i, "chunked"))
		hi->te_bad = true;
	else if (i < n && e[i] != ';' && !is_ows(e[i]))
		hi->te_bad = true;
	hi->nother++;
	hi->chunked_last = false;
}

static void
conn_elem(const char *e, size_t n, void *arg)
{
	struct head_info *hi = arg;

	if (http_token_eq(e, n, "close"))
		hi->conn_close = true;
	else if (http_token_eq(e, n, "keep-alive"))
		hi->conn_keep_alive = true;
	else if (http_token_eq(e, n, "upgrade"))
		hi->conn_upgrade = true;
}

static void
scan_headers(struct http_msg *m, struct head_info *hi)
{
	struct cl_state st = { hi, m };
	const struct http_header *h;
	size_t i;

	memset(hi, 0, sizeof(*hi));
	for (i = 0; i < m->nhdr; i++) {
		h = &m->hdr[i];
		/* by length first: most names need no compare at all */
		switch (h->name_len) {
		case 4:
			if (http_token_eq(h->name, 4, "host"))
				hi->nhost++;
			break;
		case 14:
			if (http_token_eq(h->name, 14, "content-length"))
				list_foreach(h->value, h->value_len, cl_elem,
				    &st);
			break;
		case 17:
			if (http_token_eq(h->name, 17, "transfer-encoding")) {
				hi->te = true;
				list_foreach(h->value, h->value_len, te_elem,
				    hi);
			}
			break;
		case 10:
			if (http_token_eq(h->name, 10, "connection"))
				list_foreach(h->value, h->value_len,
				    conn_elem, hi);
			break;
		case 7:
			if (http_token_eq(h->name, 7, "upgrade"))
				hi->upgrade_hdr = true;
			break;
		case 6:
			if (http_token_eq(h->name, 6, "expect") &&
			    http_token_eq(h->value, h->value_len,
			    "100-continue"))
				hi->expect_continue = true;
			break;
		default:
			break;
		}
	}
}

/* Parses "HTTP/d.d"; returns 10 or 11, -505 for another version, -400. */
static int
parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || !is_digit(p[5]) ||
	    p[6] != '.' || !is_digit(p[7]))
		return -400;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return -505;
	return p[7] == '0' ? 10 : 11;
}

static int
parse_request_line(const char *p, size_t n, struct http_msg *m)
{
	size_t i = 0, s;
	int v;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -400;
	m->method = p;
	m->method_len = i;
	s = ++i;
	/* no CTLs; obs-text is tolerated in the target like most servers */
	while (i < n && p[i] != ' ') {
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return -400;
		i++;
	}
	if (i == s || i == n)
		return -400;
	m->target = p + s;
	m->target_len = i - s;
	i++;
	if ((v = parse_version(p + i, n - i)) < 0)
		return v;
	m->version = v;
	m->is_head = m->method_len == 4 && memcmp(m->method, "HEAD", 4) == 0;
	return 0;
}

static int
parse_status_line(const char *p, size_t n, struct http_msg *m)
{
	size_t i;
	int v;

	if (n < 12 || p[8] != ' ')
		return -400;
	if ((v = parse_version(p, 8)) < 0)
		return v;
	m->version = v;
	if (p[9] < '1' || p[9] > '5' || !is_digit(p[10]) || !is_digit(p[11]))
		return -400;
	m->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	m->reason = p + n;
	m->reason_len = 0;
	if (n == 12)
		return 0;	/* "HTTP/1.1 200": reason and its SP omitted */
	if (p[12] != ' ')
		return -400;
	for (i = 13; i < n; i++) {
		if (is_bad_value_char((unsigned char)p[i]))
			return -400;
	}
	m->reason = p + 13;
	m->reason_len = n - 13;
	return 0;
}

static int
parse_field(const char *p, size_t n, struct http_header *h)
{
	size_t i = 0, s, e;

	/* obs-fold (RFC 9112 5.2) and whitespace before the name */
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return -400;
	h->name = p;
	h->name_len = i;
	s = i + 1;
	e = n;
	while (s < e && is_ows(p[s]))
		s++;
	while (e > s && is_ows(p[e - 1]))
		e--;
	for (i = s; i < e; i++) {
		if (is_bad_value_char((unsigned char)p[i]))
			return -400;
	}
	h->value = p + s;
	h->value_len = e - s;
	return 0;
}

/*
 * Splits and validates the head line by line. Every complete line is
 * checked as soon as it is there, so a bare LF or a bad request line is
 * answered at once instead of after the read timeout. Returns head_len, 0
 * or a negative status.
 */
static int
parse_head(const char *buf, size_t len, const struct http_limits *lim,
    bool request, struct http_msg *m, struct http_header *hdrs, size_t cap)
{
	struct http_limits def;
	const char *nl;
	size_t pos = 0, start, eol, maxh, tail;
	bool first = true;
	int rc;

	if (lim == NULL) {
		http_limits_init(&def);
		lim = &def;
	}
	memset(m, 0, sizeof(*m));
	m->hdr = hdrs;
	maxh = lim->max_headers < cap ? lim->max_headers : cap;

	/*
	 * RFC 9112 2.2: a server SHOULD ignore at least one empty line before
	 * a request (old clients sent CRLF after a body). A few are plenty,
	 * and a bound keeps a trickled head from costing many full passes.
	 */
	if (request) {
		while (pos + 1 < len && buf[pos] == '\r' &&
		    buf[pos + 1] == '\n') {
			pos += 2;
			if (pos > 2 * HTTP_MAX_LEADING_CRLF)
				return -400;
		}
	}
	for (;;) {
		if (pos > lim->max_header_size)
			return -431;
		start = pos;
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			tail = len - start;
			if (tail > 0 && buf[len - 1] == '\r')
				tail--;
			if (first && tail > lim->max_request_line)
				return -414;
			if (len > lim->max_header_size)
				return -431;
			return 0;
		}
		eol = (size_t)(nl - buf);
		pos = eol + 1;
		if (eol > start && buf[eol - 1] == '\r')
			eol--;
		/*
		 * Limits before syntax, so that the verdict does not depend on
		 * how the bytes were split across reads.
		 */
		if (first && eol - start > lim->max_request_line)
			return -414;
		if (pos > lim->max_header_size)
			return -431;
		/* bare LF: RFC 9112 2.2 allows it, but lenient peers desync */
		if (pos - eol != 2)
			return -400;
		if (first) {
			rc = request ?
			    parse_request_line(buf + start, eol - start, m) :
			    parse_status_line(buf + start, eol - start, m);
			if (rc < 0)
				return rc;
			first = false;
			continue;
		}
		if (eol == start)
			break;		/* the empty line ending the head */
		if (m->nhdr >= maxh)
			return -431;
		if ((rc = parse_field(buf + start, eol - start,
		    &hdrs[m->nhdr])) < 0)
			return rc;
		m->nhdr++;
	}
	if (pos > INT_MAX)
		return -431;
	m->head_len = pos;
	return (int)pos;
}

int
http_parse_request(const char *buf, size_t len,
    const struct http_limits *lim, struct http_msg *m,
    struct http_header *hdrs, size_t cap)
{
	struct head_info hi;
	int rc;

	if ((rc = parse_head(buf, len, lim, true, m, hdrs, cap)) <= 0)
		return rc;
	scan_headers(m, &hi);
	if (m->version == 11 ? hi.nhost != 1 : hi.nhost > 1)
		return -400;
	if (hi.cl_bad)
		return -400;
	if (hi.te) {
		/* RFC 9112 6.1: 1.0 has no chunked; TE with CL is smuggling */
		if (m->version == 10 || m->has_content_length || hi.te_bad)
			return -400;
		/* RFC 9112 6.3: chunked must be final (and once) */
		if (hi.nchunked > 1 || (hi.nchunked == 1 && !hi.chunked_last))
			return -400;
		/* RFC 9112 6.1: a coding we do not understand is a 501 */
		if (hi.nother > 0 || hi.nchunked == 0)
			return -501;
		m->body = HTTP_BODY_CHUNKED;
	} else if (m->has_content_length && m->content_length > 0)
		m->body = HTTP_BODY_LENGTH;
	else
		m->body = HTTP_BODY_NONE;
	if (m->version == 11)
		m->keep_alive = !hi.conn_close;
	else
		m->keep_alive = hi.conn_keep_alive && !hi.conn_close;
	/* RFC 9110 7.8 / 10.1.1: ignore Upgrade and Expect from 1.0 */
	m->upgrade = m->version == 11 && hi.conn_upgrade && hi.upgrade_hdr;
	m->expect_continue = m->version == 11 && hi.expect_continue;
	return rc;
}

int
http_parse_response(const char *buf, size_t len,
    const struct http_limits *lim, bool req_is_head, struct http_msg *m,
    struct http_header *hdrs, size_t cap)
{
	struct head_info hi;
	int rc;

	if ((rc = parse_head(buf, len, lim, false, m, hdrs, cap)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	scan_headers(m, &hi);
	/*
	 * Stricter than RFC 9112 6.3 (which lets TE override CL): a backend
	 * sending both is broken, and guessing is how desync starts.
	 */
	if (hi.cl_bad || hi.te_bad || hi.nchunked > 1)
		return -1;
	if (hi.te && (m->version == 10 || m->has_content_length))
		return -1;
	if (m->version == 11)
		m->keep_alive = !hi.conn_close;
	else
		m->keep_alive = hi.conn_keep_alive && !hi.conn_close;
	if (m->status == 101) {
		m->upgrade = true;
		m->keep_alive = false;
		m->body = HTTP_BODY_NONE;
	} else if (m->status < 200 || m->status == 204 || m->status == 304 ||
	    req_is_head)
		m->body = HTTP_BODY_NONE;
	else if (hi.te && hi.chunked_last)
		m->body = HTTP_BODY_CHUNKED;
	else if (hi.te) {
		/* RFC 9112 6.3: chunked not final → read until close */
		m->body = HTTP_BODY_EOF;
		m->keep_alive = false;
	} else if (m->has_content_length)
		m->body = m->content_length > 0 ?
		    HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	else {
		m->body = HTTP_BODY_EOF;
		m->keep_alive = false;
	}
	return rc;
}

/* ---- serialisation ---- */

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
			list_foreach(m->hdr[i].value, m->hdr[i].value_len,
			    named_elem, &st);
	}
	return st.found;
}

enum hdr_kind {
	HK_OTHER,
	HK_HOP,			/* hop-by-hop (RFC 9110 7.6.1) */
	HK_OURS,		/* set by us; a client copy is a spoof */
	HK_CONTENT_LENGTH,
	HK_TRANSFER_ENCODING,
	HK_UPGRADE,
	HK_HOST,
	HK_XFF
};

/*
 * Runs for every header of every request and response, so it dispatches
 * on the length first: most names are then rejected without a compare.
 */
static enum hdr_kind
classify(const struct http_header *h)
{
	const char *n = h->name;
	size_t l = h->name_len;

	switch (l) {
	case 2:
		return http_token_eq(n, l, "te") ? HK_HOP : HK_OTHER;
	case 4:
		return http_token_eq(n, l, "host") ? HK_HOST : HK_OTHER;
	case 7:
		return http_token_eq(n, l, "upgrade") ? HK_UPGRADE : HK_OTHER;
	case 10:
		return http_token_eq(n, l, "connection") ||
		    http_token_eq(n, l, "keep-alive") ? HK_HOP : HK_OTHER;
	case 14:
		if (http_token_eq(n, l, "content-length"))
			return HK_CONTENT_LENGTH;
		/*
		 * "Content_Length": we do not frame by it, but a CGI-style
		 * backend mapping '_' to '-' would: never pass it on.
		 */
		return name_eq_loose(n, l, "content-length") ? HK_OURS :
		    HK_OTHER;
	case 15:
		return name_eq_loose(n, l, "x-forwarded-for") ? HK_XFF :
		    HK_OTHER;
	case 16:
		return http_token_eq(n, l, "proxy-connection") ? HK_HOP :
		    HK_OTHER;
	case 17:
		if (http_token_eq(n, l, "transfer-encoding"))
			return HK_TRANSFER_ENCODING;
		return name_eq_loose(n, l, "x-forwarded-proto") ||
		    name_eq_loose(n, l, "transfer-encoding") ? HK_OURS :
		    HK_OTHER;
	default:
		return l >= 22 && name_prefix_loose(n, l,
		    "x-forwarded-clientcert") ? HK_OURS : HK_OTHER;
	}
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
	evbuffer_add(out, req->target, req->target_len);
	evbuffer_add(out, " HTTP/1.1\r\n", 11);

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		switch (classify(h)) {
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
			host = true;
			add_header(out, h);
			break;
		case HK_UPGRADE:
			if (req->upgrade)
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
		add_str(out, "Host: \r\n");
	if (req->upgrade)
		add_str(out, "Connection: upgrade\r\n");

	for (i = 0; i < req->nhdr; i++) {
		h = &req->hdr[i];
		if (h->value_len == 0 || classify(h) != HK_XFF)
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
	bool named = connection_names_fields(resp);
	char sl[16];
	size_t i;

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
		switch (classify(h)) {
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

/* ---- chunked bodies (RFC 9112 7.1) ---- */

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = HCS_SIZE_FIRST;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

ssize_t
http_chunked_scan(struct http_chunked *c, const char *p, size_t n,
    bool *done)
{
	size_t i = 0, take;
	unsigned char ch;
	int v;

	*done = false;
	while (i < n) {
		if (c->state == HCS_DATA) {
			take = (uint64_t)(n - i) < c->size ?
			    n - i : (size_t)c->size;
			c->size -= take;
			c->data_bytes += take;
			i += take;
			if (c->size == 0)
				c->state = HCS_DATA_CR;
			continue;
		}
		if (c->state == HCS_DONE) {
			*done = true;
			return (ssize_t)i;
		}
		if (c->state == HCS_ERROR)
			return -1;
		ch = (unsigned char)p[i++];
		switch (c->state) {
		case HCS_SIZE_FIRST:
		case HCS_SIZE:
			/* the line limit counts the bytes before CRLF */
			if (ch != '\r' && ++c->line_len > HTTP_CHUNK_LINE_MAX)
				goto fail;
			if ((v = hexval((char)ch)) >= 0) {
				if (c->size > (HTTP_MAX_CONTENT_LENGTH -
				    (uint64_t)v) / 16)
					goto fail;
				c->size = c->size * 16 + (uint64_t)v;
				c->state = HCS_SIZE;
			} else if (c->state == HCS_SIZE_FIRST)
				goto fail;	/* no digits: '+', '-', SP... */
			else if (ch == ';')
				c->state = HCS_EXT;
			else if (ch == '\r')
				c->state = HCS_SIZE_LF;
			else
				goto fail;	/* incl. BWS before ';' */
			break;
		case HCS_EXT:
			/* not parsed (we relay it), but bounded and CTL-free */
			if (ch != '\r' && ++c->line_len > HTTP_CHUNK_LINE_MAX)
				goto fail;
			if (ch == '\r')
				c->state = HCS_SIZE_LF;
			else if (is_bad_value_char(ch))
				goto fail;
			break;
		case HCS_SIZE_LF:
			if (ch != '\n')
				goto fail;
			c->line_len = 0;
			if (c->size == 0)
				c->state = HCS_TRAILER_START;
			else {
				if (c->data_bytes > HTTP_MAX_CONTENT_LENGTH -
				    c->size)
					goto fail;
				c->state = HCS_DATA;
			}
			break;
		case HCS_DATA_CR:
			if (ch != '\r')
				goto fail;
			c->state = HCS_DATA_LF;
			break;
		case HCS_DATA_LF:
			if (ch != '\n')
				goto fail;
			c->line_len = 0;
			c->state = HCS_SIZE_FIRST;
			break;
		case HCS_TRAILER_START:
		case HCS_TRAILER_NAME:
		case HCS_TRAILER_VALUE:
		case HCS_TRAILER_LF:
		case HCS_FINAL_LF:
			if (++c->line_len > HTTP_CHUNK_TRAILER_MAX)
				goto fail;
			switch (c->state) {
			case HCS_TRAILER_START:
				if (ch == '\r')
					c->state = HCS_FINAL_LF;
				else if (is_tchar(ch))
					c->state = HCS_TRAILER_NAME;
				else
					goto fail;	/* obs-fold, bare LF */
				break;
			case HCS_TRAILER_NAME:
				if (ch == ':')
					c->state = HCS_TRAILER_VALUE;
				else if (!is_tchar(ch))
					goto fail;
				break;
			case HCS_TRAILER_VALUE:
				if (ch == '\r')
					c->state = HCS_TRAILER_LF;
				else if (is_bad_value_char(ch))
					goto fail;
				break;
			case HCS_TRAILER_LF:
				if (ch != '\n')
					goto fail;
				c->state = HCS_TRAILER_START;
				break;
			default:	/* HCS_FINAL_LF */
				if (ch != '\n')
					goto fail;
				c->state = HCS_DONE;
				*done = true;
				return (ssize_t)i;
			}
			break;
		default:
			goto fail;
		}
	}
	if (c->state == HCS_DONE)
		*done = true;
	return c->state == HCS_ERROR ? -1 : (ssize_t)i;
fail:
	c->state = HCS_ERROR;
	return -1;
}
