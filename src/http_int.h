/*
 * http_int: what the files of the http module share (http_parse.c,
 * http_write.c, http_fields.c) and nothing else includes: character
 * classes, list splitting and the classification of header names. The
 * module's contract is http.h; this header may change with the module.
 */
#ifndef MTLSLB_HTTP_INT_H
#define MTLSLB_HTTP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

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

/*
 * Calls fn for each element of a comma-separated list value with the OWS
 * around it trimmed; empty elements are passed too (callers decide).
 */
typedef void http_list_fn(const char *e, size_t n, void *arg);

/* Splits v[0..len) at commas and calls fn for each element. */
void http_list_foreach(const char *v, size_t len, http_list_fn *fn,
    void *arg);

/*
 * Returns true when s[0..n) starts with lit (lowercase), ASCII
 * case-insensitively and with '_' in s matching '-' in lit.
 */
bool http_name_prefix_loose(const char *s, size_t n, const char *lit);

/* The same for the whole name. */
bool http_name_eq_loose(const char *s, size_t n, const char *lit);

/* True when the Upgrade list element e[0..n) names h2c (any version). */
bool http_upgrade_is_h2c(const char *e, size_t n);

enum http_hdr_kind {
	HK_OTHER,
	HK_HOP,			/* hop-by-hop (RFC 9110 7.6.1) */
	HK_OURS,		/* set by us; a client copy is a spoof */
	HK_CONTENT_LENGTH,
	HK_TRANSFER_ENCODING,
	HK_UPGRADE,
	HK_HOST,
	HK_XFF,
	HK_EXPECT
};

/* Returns what a header field name means to the rewriting. */
enum http_hdr_kind http_classify(const struct http_header *h);

#endif /* MTLSLB_HTTP_INT_H */
