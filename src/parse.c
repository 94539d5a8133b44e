/*
 * parse: value parsers for the configuration file. Everything here is pure:
 * no I/O, no allocation, no global state, so it is tested exhaustively in
 * tests/unit/check_parse.c. Messages quote what the user wrote; the caller
 * adds the key name and the line.
 */
#include "ac_config.h"
#include "parse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define BLANKS	" \t"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Reads the digits at *sp into *out and advances *sp past them. Returns 0,
 * -1 when there is no digit, or 1 on overflow (all digits are consumed).
 */
static int
read_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int rc = 0;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			rc = 1;
		else
			v = v * 10 + (uint64_t)(*s - '0');
	}
	*sp = s;
	*out = v;
	return rc;
}

int
parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v;
	int rc;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	if (*p == '-')
		p++;
	if ((rc = read_digits(&p, &v)) < 0 || *p != '\0')
		return fail(err, errlen, "'%s' is not a number", s);
	if (*s == '-' || rc > 0 || v < min || v > max)
		return fail(err, errlen, "'%s' is not in %ju..%ju", s,
		    (uintmax_t)min, (uintmax_t)max);
	*out = v;
	return 0;
}

char *
parse_fmt_duration(uint64_t ms, char *buf, size_t len)
{
	static const struct {
		uint64_t ms;
		const char *unit;
	} units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" },
		{ 1000, "s" }, { 1, "ms" },
	};
	size_t i;

	if (ms == 0) {
		snprintf(buf, len, "0");
		return buf;
	}
	for (i = 0; ms % units[i].ms != 0; i++)
		continue;
	snprintf(buf, len, "%ju%s", (uintmax_t)(ms / units[i].ms),
	    units[i].unit);
	return buf;
}

char *
parse_fmt_size(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "gmk";
	int shift;

	for (shift = 30; shift > 0; shift -= 10) {
		if (n != 0 && n % ((uint64_t)1 << shift) == 0) {
			snprintf(buf, len, "%ju%c", (uintmax_t)(n >> shift),
			    units[(30 - shift) / 10]);
			return buf;
		}
	}
	snprintf(buf, len, "%ju", (uintmax_t)n);
	return buf;
}

/* Multiplies *v by f; returns -1 on overflow. */
static int
scale(uint64_t *v, uint64_t f)
{
	if (*v != 0 && f > UINT64_MAX / *v)
		return -1;
	*v *= f;
	return 0;
}

/* A number with an optional unit suffix; "" is the bare number's unit. */
struct unit {
	const char *suffix;
	uint64_t factor;
};

struct scaled_kind {
	const struct unit *units;	/* ends with suffix NULL */
	char *(*fmt)(uint64_t, char *, size_t);
	const char *what;		/* "a duration (use e.g. ...)" */
};

/*
 * The shared shape of durations and sizes: digits, a unit, overflow and
 * range checks, and one wording for each kind of mistake.
 */
static int
parse_scaled(const char *s, const struct scaled_kind *k, uint64_t min,
    uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	char lo[32], hi[32];
	const char *p = s;
	const struct unit *u;
	uint64_t v;
	int rc;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	if (*p == '-')
		p++;
	if ((rc = read_digits(&p, &v)) < 0)
		goto bad;
	for (u = k->units; u->suffix != NULL; u++)
		if (strcasecmp(p, u->suffix) == 0)
			break;
	if (u->suffix == NULL)
		goto bad;
	if (*s == '-' || rc > 0 || scale(&v, u->factor) < 0 || v < min ||
	    v > max)
		return fail(err, errlen, "'%s' is not in %s..%s", s,
		    k->fmt(min, lo, sizeof(lo)), k->fmt(max, hi, sizeof(hi)));
	*out = v;
	return 0;
bad:
	return fail(err, errlen, "'%s' is not %s", s, k->what);
}

int
parse_duration_ms(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	static const struct unit units[] = {
		{ "", 1000 }, { "s", 1000 }, { "ms", 1 }, { "m", 60 * 1000 },
		{ "h", 3600 * 1000 }, { "d", 86400 * 1000 }, { NULL, 0 },
	};
	static const struct scaled_kind kind = { units, parse_fmt_duration,
	    "a duration (use e.g. 500ms, 30s, 5m, 1h or 7d)" };

	return parse_scaled(s, &kind, min, max, out, err, errlen);
}

int
parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen)
{
	static const struct unit units[] = {
		{ "", 1 }, { "k", (uint64_t)1 << 10 }, { "m", (uint64_t)1 << 20 },
		{ "g", (uint64_t)1 << 30 }, { NULL, 0 },
	};
	static const struct scaled_kind kind = { units, parse_fmt_size,
	    "a size (use e.g. 512, 64k or 1m)" };

	return parse_scaled(s, &kind, min, max, out, err, errlen);
}

int
parse_enum(const char *s, const struct parse_enum *tab, int *out,
    char *err, size_t errlen)
{
	size_t i, n, len;
	int w;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	for (n = 0; tab[n].name != NULL; n++) {
		if (strcasecmp(s, tab[n].name) == 0) {
			*out = tab[n].value;
			return 0;
		}
	}
	/* "'x' is not 'a', 'b' or 'c'" */
	if (errlen == 0)
		return -1;
	w = snprintf(err, errlen, "'%s' is not ", s);
	for (i = 0; i < n && w >= 0 && (size_t)w < errlen; i++) {
		len = (size_t)w;
		w += snprintf(err + len, errlen - len, "%s'%s'",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", tab[i].name);
	}
	return -1;
}

int
parse_onoff(const char *s, bool *out, char *err, size_t errlen)
{
	static const struct parse_enum tab[] = {
		{ "on", 1 }, { "off", 0 }, { NULL, 0 },
	};
	int v;

	if (parse_enum(s, tab, &v, err, errlen) < 0)
		return -1;
	*out = v != 0;
	return 0;
}

int
parse_name(const char *s, char *err, size_t errlen)
{
	size_t len;

	if ((len = strlen(s)) == 0)
		return fail(err, errlen, "name is empty");
	if (len > PARSE_NAME_MAX)
		return fail(err, errlen,
		    "name '%.*s...' is longer than %d characters",
		    PARSE_NAME_MAX, s, PARSE_NAME_MAX);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != len)
		return fail(err, errlen, "name '%s' may only contain letters, "
		    "digits, '-', '_' and '.'", s);
	return 0;
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_attr_type_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' &&
	    c <= 'Z') || c == '.' || c == '-';
}

int
parse_dn(const char *s, char *out, size_t outlen, char *err, size_t errlen)
{
	const char *p = s, *type;
	size_t o = 0, keep, value;
	int tlen;

#define PUT(ch) do {							\
	if (o + 1 >= outlen)						\
		return fail(err, errlen, "'%.40s...' is longer than %zu "\
		    "bytes", s, outlen - 1);				\
	out[o++] = (ch);						\
} while (0)
	for (;;) {
		while (is_blank(*p))
			p++;
		for (type = p; is_attr_type_char(*p); p++)
			PUT(*p);
		if (p == type)
			return fail(err, errlen, "'%s' is not a subject like "
			    "'CN=alice, OU=ops': an attribute has no type", s);
		tlen = (int)(p - type);
		while (is_blank(*p))
			p++;
		if (*p != '=')
			return fail(err, errlen, "'%s' is not a subject like "
			    "'CN=alice, OU=ops': no '=' after '%.*s'", s,
			    tlen, type);
		PUT('=');
		p++;
		while (is_blank(*p))
			p++;
		value = keep = o;
		while (*p != '\0' && *p != ',' && *p != '+') {
			if (*p == '\\') {
				if (p[1] == '\0')
					return fail(err, errlen, "'%s' ends "
					    "with a lone '\\'", s);
				PUT(p[0]);
				PUT(p[1]);
				p += 2;
				keep = o;
				continue;
			}
			PUT(*p);
			if (!is_blank(*p))
				keep = o;
			p++;
		}
		o = keep;		/* unescaped trailing blanks */
		if (o == value)
			return fail(err, errlen, "'%s': attribute '%.*s' has no "
			    "value", s, tlen, type);
		if (*p == '\0')
			break;
		PUT(*p);
		p++;
	}
#undef PUT
	out[o] = '\0';
	return 0;
}

int
parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len,
    char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[PARSE_ADDR_MAX + 1];
	const char *end, *port;
	uint64_t pnum;
	size_t hlen;
	bool v6;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	if (strlen(s) > PARSE_ADDR_MAX)
		return fail(err, errlen, "'%s' is too long for HOST:PORT", s);
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return fail(err, errlen,
			    "'%s' has no ']' after the IPv6 address", s);
		if (end[1] != ':')
			return fail(err, errlen,
			    "'%s' has no ':PORT' after ']'", s);
		v6 = true;
		hlen = (size_t)(end - s - 1);
		memcpy(host, s + 1, hlen);
		port = end + 2;
	} else {
		if ((end = strrchr(s, ':')) == NULL)
			return fail(err, errlen,
			    "'%s' has no port (use HOST:PORT)", s);
		if (strchr(s, ':') != end)
			return fail(err, errlen, "'%s': an IPv6 address needs "
			    "brackets, as in '[::1]:443'", s);
		if (end == s)
			return fail(err, errlen, "'%s' has no host "
			    "(use '*' for all IPv4 addresses)", s);
		v6 = false;
		hlen = (size_t)(end - s);
		memcpy(host, s, hlen);
		port = end + 1;
	}
	host[hlen] = '\0';
	if (*port == '\0')
		return fail(err, errlen, "'%s' has no port (use HOST:PORT)", s);
	if (parse_uint(port, 1, 65535, &pnum, NULL, 0) < 0)
		return fail(err, errlen, "'%s': port '%s' is not in 1..65535",
		    s, port);

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return fail(err, errlen, "'%s': '%s' is not a numeric "
			    "IPv6 address", s, host);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)pnum);
		*len = sizeof(*sin6);
		return 0;
	}
	if (strcmp(host, "*") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcasecmp(host, "localhost") == 0)
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return fail(err, errlen, "'%s': '%s' is not a numeric IPv4 "
		    "address, 'localhost' or '*' (names are not resolved)",
		    s, host);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)pnum);
	*len = sizeof(*sin);
	return 0;
}

/*
 * Copies the next blank-separated word of *sp into buf (truncating at
 * len - 1 bytes) and advances *sp. Returns the word's full length, 0 at
 * the end of the string.
 */
static size_t
next_word(const char **sp, char *buf, size_t len)
{
	const char *s = *sp + strspn(*sp, BLANKS);
	size_t n;

	n = strcspn(s, BLANKS);
	snprintf(buf, len, "%.*s", (int)n, s);
	*sp = s + n;
	return n;
}

/* True for "1.2.3.4": a numeric IPv4 address, and no port. */
static bool
is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool
is_digits(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/*
 * A server line that starts with an address lost its name (or has it after
 * the address): say what the line should be rather than what a name may
 * contain. word is the first word of s. Returns -1 after writing the
 * message, or 0 when the line is not one of these.
 */
static int
server_addr_first(const char *s, const char *word, char *err, size_t errlen)
{
	const char *p = s, *rest, *line = s + strspn(s, BLANKS);
	char next[PARSE_ADDR_MAX + 2];
	size_t n;

	(void)next_word(&p, next, sizeof(next));	/* word again */
	rest = p + strspn(p, BLANKS);			/* after word */
	n = next_word(&p, next, sizeof(next));
	p += strspn(p, BLANKS);				/* after next */
	if (strchr(word, ':') != NULL) {
		/* "ADDR NAME [options]" */
		if (n > 0 && strchr(next, '=') == NULL && !is_ipv4(next) &&
		    parse_name(next, NULL, 0) == 0)
			return fail(err, errlen, "the name comes before the "
			    "address: write \"server = %s %s%s%s\"", next,
			    word, *p != '\0' ? " " : "", p);
		return fail(err, errlen, "needs a name before the address: "
		    "write \"server = NAME %s\", e.g. \"server = ecs01 %s\"",
		    line, line);
	}
	/* a bare IPv4 address is a valid name, unless no address follows */
	if (!is_ipv4(word) || (n > 0 && strchr(next, ':') != NULL))
		return 0;
	if (n > 0 && is_digits(next))		/* "1.2.3.4 8080" */
		return fail(err, errlen, "a server line is NAME HOST:PORT "
		    "[weight=N]: write \"server = NAME %s:%s%s%s\", e.g. "
		    "\"server = ecs01 %s:%s%s%s\"", word, next,
		    *p != '\0' ? " " : "", p, word, next,
		    *p != '\0' ? " " : "", p);
	return fail(err, errlen, "a server line is NAME HOST:PORT [weight=N]: "
	    "write \"server = NAME %s:PORT%s%s\", e.g. \"server = ecs01 "
	    "%s:8080%s%s\"", word, *rest != '\0' ? " " : "", rest, word,
	    *rest != '\0' ? " " : "", rest);
}

int
parse_server_line(const char *s, struct parse_server *out, char *err,
    size_t errlen)
{
	char word[256];
	const char *p = s;
	uint64_t w;
	bool have_weight = false;
	size_t n;

	memset(out, 0, sizeof(*out));
	out->weight = 1;
	if ((n = next_word(&p, word, sizeof(word))) == 0)
		return fail(err, errlen, "value is empty");
	if (n < sizeof(word) && server_addr_first(s, word, err, errlen) < 0)
		return -1;
	if (n >= sizeof(word) || parse_name(word, NULL, 0) < 0)
		return parse_name(word, err, errlen);
	memcpy(out->name, word, n + 1);

	if ((n = next_word(&p, word, sizeof(word))) == 0)
		return fail(err, errlen, "'%s' has no address "
		    "(use NAME HOST:PORT [weight=N])", s);
	if (n > PARSE_ADDR_MAX)
		return fail(err, errlen, "'%s' is too long for HOST:PORT",
		    word);
	if (parse_hostport(word, &out->ss, &out->len, err, errlen) < 0)
		return -1;
	memcpy(out->addr, word, n + 1);

	while (next_word(&p, word, sizeof(word)) > 0) {
		if (strncasecmp(word, "weight=", 7) != 0)
			return fail(err, errlen, "unknown option '%s' "
			    "(expected weight=N)", word);
		if (have_weight)
			return fail(err, errlen, "weight is given twice");
		if (parse_uint(word + 7, 0, 100, &w, NULL, 0) < 0)
			return fail(err, errlen, "weight '%s' is not in 0..100",
			    word + 7);
		out->weight = (unsigned)w;
		have_weight = true;
	}
	return 0;
}

int
parse_path(const char *dir, const char *s, char *out, size_t len,
    char *err, size_t errlen)
{
	const char *rel = s;
	size_t dlen;
	int n;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	if (*s == '/')
		n = snprintf(out, len, "%s", s);
	else {
		dlen = strlen(dir);
		while (rel[0] == '.' && rel[1] == '/')
			rel += 2 + strspn(rel + 2, "/");
		if (dlen > 0 && dir[dlen - 1] == '/')
			dlen--;
		if (*rel == '\0')	/* "./": the directory itself */
			n = snprintf(out, len, "%s", dir);
		else
			n = snprintf(out, len, "%.*s/%s", (int)dlen, dir, rel);
	}
	if (n < 0 || (size_t)n >= len)
		return fail(err, errlen, "'%s' is too long for a path (at most "
		    "%zu characters, relative names with their directory)", s,
		    len - 1);
	return 0;
}

int
parse_http_codes(const char *s, unsigned *out, char *err, size_t errlen)
{
	static const struct parse_enum tab[] = {
		{ "http_2xx", PARSE_HTTP_CLASS(2) },
		{ "http_3xx", PARSE_HTTP_CLASS(3) },
		{ "http_4xx", PARSE_HTTP_CLASS(4) },
		{ "http_5xx", PARSE_HTTP_CLASS(5) },
		{ NULL, 0 },
	};
	char item[64];
	const char *p = s, *comma;
	unsigned bits = 0;
	size_t n;
	int v;

	if (*s == '\0')
		return fail(err, errlen, "value is empty");
	for (;;) {
		p += strspn(p, BLANKS);
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && strchr(BLANKS, p[n - 1]) != NULL)
			n--;
		if (n == 0)
			return fail(err, errlen, "'%s' has an empty item", s);
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		memcpy(item, p, n);
		item[n] = '\0';
		if (parse_enum(item, tab, &v, err, errlen) < 0)
			return -1;
		bits |= (unsigned)v;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = bits;
	return 0;
}

int
parse_cidr(const char *s, struct parse_cidr *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	uint64_t bits;
	size_t hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	unsigned i, max;

	memset(out, 0, sizeof(*out));
	if (hlen == 0 || hlen >= sizeof(host))
		return fail(err, errlen, "'%s' is not an address or "
		    "ADDRESS/BITS", s);
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else
		return fail(err, errlen, "'%s': '%s' is not a numeric IPv4 or "
		    "IPv6 address", s, host);
	bits = max;
	if (slash != NULL && parse_uint(slash + 1, 0, max, &bits, NULL, 0) < 0)
		return fail(err, errlen, "'%s': prefix length '%s' is not in "
		    "0..%u", s, slash + 1, max);
	out->bits = (unsigned)bits;
	for (i = out->bits; i < max; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return fail(err, errlen, "'%s' has host bits set (the "
			    "network is written with them zero)", s);
	return 0;
}

bool
parse_cidr_match(const struct parse_cidr *c, const struct sockaddr *sa)
{
	const uint8_t *a;
	unsigned i;

	if (sa->sa_family != c->family)
		return false;
	if (sa->sa_family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	else
		a = (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr;
	for (i = 0; i < c->bits / 8; i++)
		if (a[i] != c->addr[i])
			return false;
	if (c->bits % 8 != 0) {
		uint8_t m = (uint8_t)(0xff << (8 - c->bits % 8));

		if ((a[i] & m) != c->addr[i])
			return false;
	}
	return true;
}

int
parse_server_name(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '.') {
			if (label == 0)
				return -1;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_') ||
		    ++label > 63)
			return -1;
	}
	return label == 0 ? -1 : 0;
}

int
parse_name_match(const char *pattern, const char *name, size_t len)
{
	size_t plen = strlen(pattern), dot;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0)
		return PARSE_NAME_NONE;
	if (pattern[0] != '*') {
		return plen == len && strncasecmp(pattern, name, len) == 0 ?
		    PARSE_NAME_EXACT : PARSE_NAME_NONE;
	}
	/* "*.example.com" matches "a.example.com", not "a.b.example.com" */
	for (dot = 0; dot < len && name[dot] != '.'; dot++)
		;
	if (dot == 0 || dot == len || len - dot != plen - 1)
		return PARSE_NAME_NONE;
	return strncasecmp(pattern + 1, name + dot, plen - 1) == 0 ?
	    PARSE_NAME_WILDCARD : PARSE_NAME_NONE;
}
