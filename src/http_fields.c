/*
 * http_fields: header field names and values as the whole http module sees
 * them: token comparison, header lookup, list splitting and which names
 * are hop-by-hop, framing or ours to set. No I/O, no allocation; nothing
 * here knows whether it runs for a request or a response.
 */
#include "ac_config.h"
#include "http_int.h"

#include <string.h>

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
bool
http_name_prefix_loose(const char *s, size_t n, const char *lit)
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

bool
http_name_eq_loose(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && http_name_prefix_loose(s, n, lit);
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

void
http_list_foreach(const char *v, size_t len, http_list_fn *fn, void *arg)
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

/*
 * Runs for every header of every request and response, so it dispatches
 * on the length first: most names are then rejected without a compare.
 */
enum http_hdr_kind
http_classify(const struct http_header *h)
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
		return http_name_eq_loose(n, l, "content-length") ? HK_OURS :
		    HK_OTHER;
	case 15:
		return http_name_eq_loose(n, l, "x-forwarded-for") ? HK_XFF :
		    HK_OTHER;
	case 16:
		return http_token_eq(n, l, "proxy-connection") ? HK_HOP :
		    HK_OTHER;
	case 17:
		if (http_token_eq(n, l, "transfer-encoding"))
			return HK_TRANSFER_ENCODING;
		return http_name_eq_loose(n, l, "x-forwarded-proto") ||
		    http_name_eq_loose(n, l, "transfer-encoding") ? HK_OURS :
		    HK_OTHER;
	default:
		return l >= 22 && http_name_prefix_loose(n, l,
		    "x-forwarded-clientcert") ? HK_OURS : HK_OTHER;
	}
}
