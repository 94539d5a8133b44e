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

bool
http_upgrade_is_h2c(const char *e, size_t n)
{
	/* protocol-name [ "/" protocol-version ] (RFC 9110 7.8) */
	return (n == 3 || (n > 3 && e[3] == '/')) && http_token_eq(e, 3, "h2c");
}

/*
 * Families of names a client must never send us, matched as prefixes:
 * mtlslb is the first HTTP hop, so no X-Forwarded-* field from the client
 * is true (X-Forwarded-For is merged by the caller before this is asked),
 * and every client-certificate convention we know of is an identity claim
 * that only a TLS terminator may make: ours (X-Forwarded-Clientcert-*),
 * Envoy's X-Forwarded-Client-Cert, AWS's X-Amzn-Mtls-*, nginx/Apache
 * setups' X-SSL-Client-* and SSL_CLIENT_*, Google's X-Client-Cert-* and
 * Azure's X-ARR-ClientCert.
 */
static const char *const spoof_prefixes[] = {
	"x-forwarded-", "x-amzn-mtls-", "x-ssl-client-", "ssl-client-",
	"x-client-cert", "x-arr-clientcert", NULL
};

static bool
spoofable(const char *n, size_t l)
{
	size_t i;

	/* RFC 7239; nginx's realip convention; RFC 9440 */
	if ((l == 9 && (http_name_eq_loose(n, l, "forwarded") ||
	    http_name_eq_loose(n, l, "x-real-ip"))) ||
	    (l == 11 && http_name_eq_loose(n, l, "client-cert")) ||
	    (l == 17 && http_name_eq_loose(n, l, "client-cert-chain")))
		return true;
	/* every prefix starts with x or s: most names stop here */
	if (l < 11 || (lower((unsigned char)n[0]) != 'x' &&
	    lower((unsigned char)n[0]) != 's'))
		return false;
	for (i = 0; spoof_prefixes[i] != NULL; i++) {
		if (http_name_prefix_loose(n, l, spoof_prefixes[i]))
			return true;
	}
	return false;
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
	/* names shorter than 9 cannot be spoofable(): return at once */
	case 2:
		return http_token_eq(n, l, "te") ? HK_HOP : HK_OTHER;
	case 4:
		return http_token_eq(n, l, "host") ? HK_HOST : HK_OTHER;
	case 6:
		return http_token_eq(n, l, "expect") ? HK_EXPECT : HK_OTHER;
	case 7:
		return http_token_eq(n, l, "upgrade") ? HK_UPGRADE : HK_OTHER;
	case 10:
		if (http_token_eq(n, l, "connection") ||
		    http_token_eq(n, l, "keep-alive"))
			return HK_HOP;
		break;
	case 14:
		if (http_token_eq(n, l, "content-length"))
			return HK_CONTENT_LENGTH;
		/* RFC 7540 3.2.1: hop-by-hop, and only for h2c (never sent) */
		if (http_token_eq(n, l, "http2-settings"))
			return HK_HOP;
		/*
		 * "Content_Length": we do not frame by it, but a CGI-style
		 * backend mapping '_' to '-' would: never pass it on.
		 */
		if (http_name_eq_loose(n, l, "content-length"))
			return HK_OURS;
		break;
	case 15:
		if (http_name_eq_loose(n, l, "x-forwarded-for"))
			return HK_XFF;
		break;
	case 16:
		if (http_token_eq(n, l, "proxy-connection"))
			return HK_HOP;
		break;
	case 17:
		if (http_token_eq(n, l, "transfer-encoding"))
			return HK_TRANSFER_ENCODING;
		if (http_name_eq_loose(n, l, "transfer-encoding"))
			return HK_OURS;
		break;
	default:
		break;
	}
	return spoofable(n, l) ? HK_OURS : HK_OTHER;
}

/*
 * Request trailer fields refused besides what http_classify() treats
 * specially (RFC 9110 6.5.1 and fields that re-route or re-authenticate a
 * request some frameworks would merge into the headers).
 */
static const char *const trailer_names[] = {
	"trailer", "content-type", "content-encoding", "content-range",
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"www-authenticate", "proxy-authenticate", "max-forwards", "range",
	"cache-control", "pragma", "via", "x-original-url", "x-rewrite-url",
	"x-http-method-override", "x-http-method", "x-method-override", NULL
};

bool
http_trailer_forbidden(const char *name, size_t n)
{
	struct http_header h = { name, n, "", 0 };
	size_t i;

	if (http_classify(&h) != HK_OTHER)
		return true;
	if (http_name_prefix_loose(name, n, "if-"))
		return true;		/* conditionals */
	for (i = 0; trailer_names[i] != NULL; i++) {
		if (http_name_eq_loose(name, n, trailer_names[i]))
			return true;
	}
	return false;
}
