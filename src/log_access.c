/*
 * log_access: the access-log line of one request, in nginx's combined
 * format with mtlslb's fields appended, or as one JSON object. Part of
 * the log module (log.h). Formats on the stack; never allocates.
 */
#include "ac_config.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The formatted local time of the last line, per second (process-local). */
static time_t date_sec;
static char date[40];

/*
 * Appends s to b escaped for a quoted log field: nginx's \xHH for the
 * combined format, \u00HH for JSON. Bytes >= 0x80 are escaped too, so a
 * line is always valid ASCII whatever a client sent.
 */
static size_t
esc(char *b, size_t cap, size_t off, const char *s, bool json)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && off + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') {
			b[off++] = (char)ch;
			continue;
		}
		b[off++] = '\\';
		if (json && (ch == '"' || ch == '\\')) {
			b[off++] = (char)ch;
		} else if (json) {
			memcpy(b + off, "u00", 3);
			off += 3;
			b[off++] = hex[ch >> 4];
			b[off++] = hex[ch & 15];
		} else {
			b[off++] = 'x';
			b[off++] = hex[ch >> 4];
			b[off++] = hex[ch & 15];
		}
	}
	return off;
}

/*
 * Appends a client-chosen token (the SNI) unquoted: anything but a
 * letter, digit, '.', '-' or '_' as \xHH, so it never splits a field.
 */
static size_t
token(char *b, size_t cap, size_t off, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (; *s != '\0' && off + 5 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		    ch == '_') {
			b[off++] = (char)ch;
			continue;
		}
		b[off++] = '\\';
		b[off++] = 'x';
		b[off++] = hex[ch >> 4];
		b[off++] = hex[ch & 15];
	}
	return off;
}

/* Appends printf output to b at *off; false when it did not fit. */
static bool __attribute__((format(printf, 4, 5)))
bprintf(char *b, size_t cap, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b + *off, cap - *off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *off)
		return false;
	*off += (size_t)n;
	return true;
}

static bool
combined(const struct log_access_entry *f, char *b, size_t cap, size_t *off)
{
	if (f->when != date_sec) {
		struct tm tm;

		date_sec = f->when;
		localtime_r(&date_sec, &tm);
		strftime(date, sizeof(date), "%d/%b/%Y:%H:%M:%S %z", &tm);
	}
	*off = 0;
	if (!bprintf(b, cap, off, "%s - \"", f->client_ip))
		return false;
	*off = esc(b, cap, *off, f->subject ? f->subject : "-", false);
	if (!bprintf(b, cap, off, "\" [%s] \"", date))
		return false;
	*off = esc(b, cap, *off, f->line, false);
	if (!bprintf(b, cap, off, "\" %d %llu \"", f->status,
	    (unsigned long long)f->bytes))
		return false;
	*off = esc(b, cap, *off, *f->referer ? f->referer : "-", false);
	if (!bprintf(b, cap, off, "\" \""))
		return false;
	*off = esc(b, cap, *off, *f->ua ? f->ua : "-", false);
	if (!bprintf(b, cap, off, "\" tls=%s cipher=%s tls_resumed=%c "
	    "verify=%s%s server=%s upstream=%s rt=%.3f urt=", f->tls,
	    f->cipher, f->resumed ? 'r' : '.', f->verify_prefix, f->verify, f->server ? f->server : "-",
	    f->upstream ? f->upstream : "-", f->rt))
		return false;
	if (f->urt >= 0 ? !bprintf(b, cap, off, "%.3f", f->urt) :
	    !bprintf(b, cap, off, "-"))
		return false;
	if (!bprintf(b, cap, off, " listener=%s route=%s sni=", f->listener,
	    f->route != NULL ? f->route : "-"))
		return false;
	*off = f->sni != NULL ? token(b, cap, *off, f->sni) :
	    esc(b, cap, *off, "-", false);
	/* only behind an L4 balancer: other lines keep their shape */
	if (f->proxy != NULL && !bprintf(b, cap, off, " proxy=%s", f->proxy))
		return false;
	return bprintf(b, cap, off, "\n");
}

static bool
json(const struct log_access_entry *f, char *b, size_t cap, size_t *off)
{
	char when[40];
	struct tm tm;

	gmtime_r(&f->when, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	*off = 0;
	if (!bprintf(b, cap, off, "{\"time\":\"%s\",\"client\":\"%s\","
	    "\"subject\":", when, f->client_ip))
		return false;
	if (f->subject != NULL) {
		b[(*off)++] = '"';
		*off = esc(b, cap, *off, f->subject, true);
		b[(*off)++] = '"';
	} else if (!bprintf(b, cap, off, "null")) {
		return false;
	}
	if (!bprintf(b, cap, off, ",\"request\":\""))
		return false;
	*off = esc(b, cap, *off, f->line, true);
	if (!bprintf(b, cap, off, "\",\"status\":%d,\"bytes\":%llu,"
	    "\"referer\":\"", f->status, (unsigned long long)f->bytes))
		return false;
	*off = esc(b, cap, *off, f->referer, true);
	if (!bprintf(b, cap, off, "\",\"user_agent\":\""))
		return false;
	*off = esc(b, cap, *off, f->ua, true);
	if (!bprintf(b, cap, off, "\",\"tls\":\"%s\",\"cipher\":\"%s\","
	    "\"tls_resumed\":%s,\"verify\":\"%s%s\",", f->tls, f->cipher,
	    f->resumed ? "true" : "false", f->verify_prefix, f->verify))
		return false;
	if (f->server == NULL ? !bprintf(b, cap, off,
	    "\"server\":null,\"upstream\":null,") : !bprintf(b, cap, off,
	    "\"server\":\"%s\",\"upstream\":\"%s\",", f->server, f->upstream))
		return false;
	if (!bprintf(b, cap, off, "\"rt\":%.3f,\"urt\":", f->rt))
		return false;
	if (f->urt >= 0 ? !bprintf(b, cap, off, "%.3f", f->urt) :
	    !bprintf(b, cap, off, "null"))
		return false;
	if (!bprintf(b, cap, off, ",\"listener\":\"%s\",\"route\":",
	    f->listener))
		return false;
	if (f->route == NULL ? !bprintf(b, cap, off, "null") :
	    !bprintf(b, cap, off, "\"%s\"", f->route))
		return false;
	if (!bprintf(b, cap, off, ",\"sni\":"))
		return false;
	if (f->sni != NULL) {
		b[(*off)++] = '"';
		*off = esc(b, cap, *off, f->sni, true);
		b[(*off)++] = '"';
	} else if (!bprintf(b, cap, off, "null")) {
		return false;
	}
	if (f->proxy == NULL)
		return bprintf(b, cap, off, ",\"proxy\":null}\n");
	return bprintf(b, cap, off, ",\"proxy\":\"%s\"}\n", f->proxy);
}

void
log_access_entry(const struct log_access_entry *e)
{
	char b[16384];
	size_t off = 0;
	bool ok;

	if (!log_access_enabled())
		return;
	ok = log_access_json() ? json(e, b, sizeof(b), &off) :
	    combined(e, b, sizeof(b), &off);
	if (!ok) {
		/* Only an absurd line gets here: keep the line, cut it. */
		off = sizeof(b) - 1;
		b[off - 1] = '\n';
	}
	log_access(b, off);
}
