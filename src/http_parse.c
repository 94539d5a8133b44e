/*
 * http_parse: HTTP/1.1 head parsing (RFC 9112), framing decisions and the
 * chunked-body scanner. Parsing never allocates and never copies: struct
 * http_msg points into the caller's buffer. The parser is deliberately
 * strict wherever a lenient reading could make us and the backend disagree
 * about message boundaries (request smuggling).
 */
#include "ac_config.h"
#include "http_int.h"

#include <limits.h>
#include <string.h>

/* Empty lines tolerated before a request line. */
#define HTTP_MAX_LEADING_CRLF	8

/* Connection tokens and framing facts gathered from the header fields. */
struct head_info {
	size_t nhost;
	const struct http_header *host;
	bool te;		/* Transfer-Encoding present */
	bool te_bad;		/* syntax error in a coding */
	size_t nchunked;
	bool chunked_last;
	size_t nother;		/* codings other than chunked */
	bool cl_bad;		/* malformed or conflicting Content-Length */
	bool conn_close;
	bool conn_keep_alive;
	bool conn_upgrade;
	size_t nupgrade;	/* Upgrade tokens other than h2c */
	bool expect_continue;
};

void
http_limits_init(struct http_limits *lim)
{
	lim->max_request_line = HTTP_DEFAULT_MAX_REQUEST_LINE;
	lim->max_header_size = HTTP_DEFAULT_MAX_HEADER_SIZE;
	lim->max_headers = HTTP_DEFAULT_MAX_HEADERS;
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
upgrade_elem(const char *e, size_t n, void *arg)
{
	struct head_info *hi = arg;

	if (n > 0 && !http_upgrade_is_h2c(e, n))
		hi->nupgrade++;
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
			if (http_token_eq(h->name, 4, "host")) {
				hi->nhost++;
				hi->host = h;
			}
			break;
		case 14:
			if (http_token_eq(h->name, 14, "content-length"))
				http_list_foreach(h->value, h->value_len,
				    cl_elem, &st);
			break;
		case 17:
			if (http_token_eq(h->name, 17, "transfer-encoding")) {
				hi->te = true;
				http_list_foreach(h->value, h->value_len,
				    te_elem, hi);
			}
			break;
		case 10:
			if (http_token_eq(h->name, 10, "connection"))
				http_list_foreach(h->value, h->value_len,
				    conn_elem, hi);
			break;
		case 7:
			if (http_token_eq(h->name, 7, "upgrade"))
				http_list_foreach(h->value, h->value_len,
				    upgrade_elem, hi);
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

/* ---- request target and Host (RFC 9112 3.2, RFC 3986 3.2) ---- */

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* unreserved / sub-delims (RFC 3986 2.2, 2.3); '%' is checked apart */
static bool
is_reg_name_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return true;
	switch (c) {
	case '-': case '.': case '_': case '~':
	case '!': case '$': case '&': case '\'': case '(': case ')':
	case '*': case '+': case ',': case ';': case '=':
		return true;
	default:
		return false;
	}
}

/*
 * True when p[0..n) is uri-host [ ":" port ]: a non-empty reg-name or an
 * IPv6 literal in brackets, then at most five port digits. No userinfo
 * ('@'), no space, no path: what a backend's virtual hosting can trust.
 */
static bool
valid_authority(const char *p, size_t n)
{
	size_t i = 0, d;

	if (n == 0)
		return false;
	if (p[0] == '[') {
		/* IPv6address only: no zone id, no IPvFuture */
		for (i = 1; i < n && p[i] != ']'; i++) {
			if (!is_hex(p[i]) && p[i] != ':' && p[i] != '.')
				return false;
		}
		if (i == n || i < 3)
			return false;
		i++;
	} else {
		while (i < n && p[i] != ':') {
			if (p[i] == '%') {
				if (n - i < 3 || !is_hex(p[i + 1]) ||
				    !is_hex(p[i + 2]))
					return false;
				i += 3;
				continue;
			}
			if (!is_reg_name_char(p[i]))
				return false;
			i++;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (p[i++] != ':')
		return false;
	for (d = 0; i < n; i++, d++) {
		if (!is_digit(p[i]) || d == 5)
			return false;
	}
	return true;
}

/*
 * Checks m->target against the method and sets m->path and m->authority
 * (see http_parse_request). host is the one Host field, or NULL.
 */
static int
check_target(struct http_msg *m, const struct http_header *host)
{
	const char *t = m->target, *a;
	size_t n = m->target_len, i, s;

	if (host != NULL) {
		if (!valid_authority(host->value, host->value_len))
			return -400;
		m->authority = host->value;
		m->authority_len = host->value_len;
	}
	m->path = t;
	m->path_len = n;
	if (t[0] == '/')
		return 0;			/* origin-form */
	if (n == 1 && t[0] == '*')		/* asterisk-form */
		return m->method_len == 7 &&
		    memcmp(m->method, "OPTIONS", 7) == 0 ? 0 : -400;
	/* as conn.c, which answers it with 501 */
	if (http_token_eq(m->method, m->method_len, "CONNECT"))
		return valid_authority(t, n) ? 0 : -400;
	/*
	 * absolute-form: only the schemes we serve. Its authority replaces
	 * Host (RFC 9112 3.2.2) and the backend gets origin-form, which every
	 * server understands the same way.
	 */
	if (n > 7 && http_token_eq(t, 7, "http://"))
		s = 7;
	else if (n > 8 && http_token_eq(t, 8, "https://"))
		s = 8;
	else
		return -400;
	for (i = s; i < n && t[i] != '/' && t[i] != '?'; i++) {
		if (t[i] == '#')
			return -400;
	}
	a = t + s;
	if (!valid_authority(a, i - s))
		return -400;			/* incl. userinfo, empty host */
	m->authority = a;
	m->authority_len = i - s;
	m->path = t + i;
	m->path_len = n - i;
	return 0;
}

int
http_parse_request(const char *buf, size_t len,
    const struct http_limits *lim, struct http_msg *m,
    struct http_header *hdrs, size_t cap)
{
	struct head_info hi;
	int rc, rc2;

	if ((rc = parse_head(buf, len, lim, true, m, hdrs, cap)) <= 0)
		return rc;
	scan_headers(m, &hi);
	if (m->version == 11 ? hi.nhost != 1 : hi.nhost > 1)
		return -400;
	if ((rc2 = check_target(m, hi.host)) < 0)
		return rc2;
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
	/*
	 * h2c is never forwarded: HTTP/2 inside the tunnel would bypass every
	 * header rewrite (Envoy refuses it too). Without another token this
	 * is no upgrade request at all.
	 */
	m->upgrade = m->version == 11 && hi.conn_upgrade && hi.nupgrade > 0;
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

/* ---- chunked bodies (RFC 9112 7.1) ---- */

void
http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = HCS_SIZE_FIRST;
}

void
http_chunked_init_response(struct http_chunked *c)
{
	http_chunked_init(c);
	c->any_trailer = true;
}

/*
 * A trailer field name ended at its ':'. Only the first bytes are kept:
 * every exact name refused is shorter than that, every family is a prefix.
 */
static bool
trailer_name_ok(const struct http_chunked *c)
{
	size_t n = c->name_len < sizeof(c->name) ? c->name_len :
	    sizeof(c->name);

	return c->any_trailer || !http_trailer_forbidden(c->name, n);
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
				else if (is_tchar(ch)) {
					c->state = HCS_TRAILER_NAME;
					c->name[0] = (char)ch;
					c->name_len = 1;
				} else
					goto fail;	/* obs-fold, bare LF */
				break;
			case HCS_TRAILER_NAME:
				if (ch == ':') {
					/* before the ':' is accepted */
					if (!trailer_name_ok(c)) {
						c->bad_trailer = true;
						goto fail;
					}
					c->state = HCS_TRAILER_VALUE;
				} else if (!is_tchar(ch))
					goto fail;
				else if (c->name_len++ < sizeof(c->name))
					c->name[c->name_len - 1] = (char)ch;
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
