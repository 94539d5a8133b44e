/*
 * parse: pure parsers for configuration values. No I/O, no global state.
 * Each parser returns 0 on success, or -1 after writing a lowercase message
 * that quotes the offending text into err (errlen bytes, always
 * NUL-terminated); config.c prefixes it with "KEY: ".
 */
#ifndef MTLSLB_PARSE_H
#define MTLSLB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Longest server, listener and group name. */
#define PARSE_NAME_MAX	64

/* Longest HOST:PORT text, brackets included. */
#define PARSE_ADDR_MAX	64

/* One accepted word of an enumerated key; arrays end with name NULL. */
struct parse_enum {
	const char *name;
	int value;
};

/* A parsed "NAME HOST:PORT [weight=N]" line. */
struct parse_server {
	char name[PARSE_NAME_MAX + 1];
	char addr[PARSE_ADDR_MAX + 1];	/* HOST:PORT as written */
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned weight;		/* 0..100, default 1 */
};

/*
 * Parses a decimal integer in min..max into *out. A value with a leading
 * '-' is reported as out of range ("'-1' is not in 0..32").
 */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen);

/*
 * Parses a duration into milliseconds: digits with an optional unit ms, s,
 * m, h or d (bare digits are seconds), in min..max ms.
 */
int parse_duration_ms(const char *s, uint64_t min, uint64_t max,
    uint64_t *out, char *err, size_t errlen);

/*
 * Parses a byte count with an optional k, m or g suffix (powers of 1024,
 * any case), in min..max bytes.
 */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    char *err, size_t errlen);

/* Parses "on" or "off" (any case) into *out. */
int parse_onoff(const char *s, bool *out, char *err, size_t errlen);

/* Looks s up (any case) in the NULL-terminated table; stores its value. */
int parse_enum(const char *s, const struct parse_enum *tab, int *out,
    char *err, size_t errlen);

/*
 * Checks that s is a valid name: 1..PARSE_NAME_MAX letters, digits, '-',
 * '_' or '.'.
 */
int parse_name(const char *s, char *err, size_t errlen);

/*
 * Parses HOST:PORT, where HOST is a numeric IPv4 address, a bracketed
 * numeric IPv6 address, "localhost" (127.0.0.1) or "*" (0.0.0.0), and PORT
 * is 1..65535. Fills *ss and *len; never resolves names.
 */
int parse_hostport(const char *s, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errlen);

/* Parses a server line "NAME HOST:PORT [weight=N]" into *out. */
int parse_server_line(const char *s, struct parse_server *out, char *err,
    size_t errlen);

/*
 * Resolves the file name s against dir, an absolute directory, into out
 * (len bytes): s itself when it is absolute, else "dir/s" without the
 * leading "./" of s. Fails when s is empty or the result does not fit.
 */
int parse_path(const char *dir, const char *s, char *out, size_t len,
    char *err, size_t errlen);

/* Longest distinguished name parse_dn() accepts, in bytes. */
#define PARSE_DN_MAX	1024

/*
 * Normalises a distinguished name written as RFC 2253 prints it, last RDN
 * first ("CN=alice, OU=ops"), into out (outlen bytes): the blanks around
 * the ',' and '+' between attributes and around each '=' after a type
 * are dropped, so that it compares byte for byte with what OpenSSL's
 * XN_FLAG_RFC2253 prints ("CN=alice,OU=ops"). Escapes ("\,", "\C3")
 * are kept as written. Each attribute is TYPE=VALUE: a type of letters,
 * digits, '.' or '-', and a value that is not empty.
 */
int parse_dn(const char *s, char *out, size_t outlen, char *err,
    size_t errlen);

/* The bit parse_http_codes() sets for the status class Nxx, N in 2..5. */
#define PARSE_HTTP_CLASS(n)	(1u << (n))

/*
 * Parses a comma-separated list of http_2xx, http_3xx, http_4xx and
 * http_5xx (blanks allowed around commas) into PARSE_HTTP_CLASS() bits.
 */
int parse_http_codes(const char *s, unsigned *out, char *err, size_t errlen);

/*
 * Writes ms as the largest unit that divides it exactly ("500ms", "30s",
 * "7d") into buf; returns buf.
 */
char *parse_fmt_duration(uint64_t ms, char *buf, size_t len);

/*
 * Writes n as the largest k/m/g multiple that divides it exactly ("64k")
 * into buf; returns buf.
 */
char *parse_fmt_size(uint64_t n, char *buf, size_t len);

/* An address block: family AF_INET or AF_INET6, bits 0..32 or 0..128. */
struct parse_cidr {
	int family;
	uint8_t addr[16];		/* network byte order, host bits zero */
	unsigned bits;
};

/*
 * Parses "ADDR/BITS" or a bare ADDR (a single host), numeric IPv4 or IPv6
 * without brackets. Host bits set under the mask are an error (a typo
 * for another network). Returns 0, or -1 with err set.
 */
int parse_cidr(const char *s, struct parse_cidr *out, char *err,
    size_t errlen);

/* True when sa (AF_INET or AF_INET6) lies in c. */
bool parse_cidr_match(const struct parse_cidr *c, const struct sockaddr *sa);

/*
 * 0 when s (len bytes, no final dot) is a host name (labels of letters,
 * digits and '-', at most 63 bytes each, 253 in all) or "*." and one, the
 * wildcard of server_name; -1 otherwise.
 */
int parse_server_name(const char *s, size_t len);

/* How a server name pattern matches a host name. */
#define PARSE_NAME_NONE		0
#define PARSE_NAME_WILDCARD	1	/* "*.example.com": one label */
#define PARSE_NAME_EXACT	2

/*
 * How pattern (lower case, "*.suffix" or exact) matches name (len bytes,
 * any case; one final dot is ignored).
 */
int parse_name_match(const char *pattern, const char *name, size_t len);

#endif
