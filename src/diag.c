/*
 * diag: an ordered list of "FILE:LINE: message" lines. It only collects
 * and prints; it never decides whether a problem is fatal (callers look at
 * diag_errors()) and never writes anywhere but the FILE * it is given.
 */
#include "ac_config.h"
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "util.h"

struct diag_msg {
	char *text;			/* "FILE:LINE: msg", no "mtlslb: " */
	bool is_error;
};

struct diag {
	char *file;
	struct diag_msg *msgs;
	size_t nmsgs;
	size_t cap;
	size_t nerrors;
	size_t nwarnings;
};

struct diag *
diag_new(const char *file)
{
	struct diag *d;

	d = xcalloc(1, sizeof(*d));
	d->file = xstrdup(file);
	return d;
}

void
diag_free(struct diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nmsgs; i++)
		free(d->msgs[i].text);
	free(d->msgs);
	free(d->file);
	free(d);
}

static char *
vformat(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
vformat(const char *fmt, va_list ap)
{
	char small[256], *s;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return xstrdup("(unprintable message)");
	if ((size_t)n < sizeof(small))
		return xstrdup(small);
	s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

/* Takes ownership of msg. */
static void
add(struct diag *d, int line, bool is_error, const char *prefix, char *msg,
    const char *suffix)
{
	struct diag_msg *m;
	char where[32];
	size_t n;

	if (d->nmsgs == d->cap) {
		d->cap = d->cap == 0 ? 8 : d->cap * 2;
		d->msgs = xrealloc(d->msgs, d->cap * sizeof(*d->msgs));
	}
	where[0] = '\0';
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	n = strlen(d->file) + strlen(where) + 2 + strlen(prefix) +
	    strlen(msg) + strlen(suffix) + 1;
	m = &d->msgs[d->nmsgs++];
	m->text = xmalloc(n);
	snprintf(m->text, n, "%s%s: %s%s%s", d->file, where, prefix, msg,
	    suffix);
	m->is_error = is_error;
	if (is_error)
		d->nerrors++;
	else
		d->nwarnings++;
	free(msg);
}

void
diag_error(struct diag *d, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, line, true, "", vformat(fmt, ap), "");
	va_end(ap);
}

void
diag_warn(struct diag *d, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add(d, line, false, "warning: ", vformat(fmt, ap), "");
	va_end(ap);
}

void
diag_ssl(struct diag *d, int line, const char *fmt, ...)
{
	char suffix[256];
	const char *reason;
	unsigned long e;
	va_list ap;

	suffix[0] = '\0';
	/* the oldest entry is usually the root cause; later ones are context */
	if ((e = ERR_get_error()) != 0) {
		/* OpenSSL 3 keeps errno values in system errors, unnamed */
		if (ERR_SYSTEM_ERROR(e))
			snprintf(suffix, sizeof(suffix), ": %s",
			    strerror(ERR_GET_REASON(e)));
		else if ((reason = ERR_reason_error_string(e)) != NULL)
			snprintf(suffix, sizeof(suffix), ": %s", reason);
		else
			snprintf(suffix, sizeof(suffix), ": error %d",
			    ERR_GET_REASON(e));
	}
	ERR_clear_error();
	va_start(ap, fmt);
	add(d, line, true, "", vformat(fmt, ap), suffix);
	va_end(ap);
}

size_t
diag_errors(const struct diag *d)
{
	return d->nerrors;
}

size_t
diag_warnings(const struct diag *d)
{
	return d->nwarnings;
}

void
diag_print(const struct diag *d, FILE *fp)
{
	size_t i;

	for (i = 0; i < d->nmsgs; i++)
		fprintf(fp, "mtlslb: %s\n", d->msgs[i].text);
}

void
diag_foreach(const struct diag *d,
    void (*cb)(const char *line, bool is_error, void *arg), void *arg)
{
	size_t i;

	for (i = 0; i < d->nmsgs; i++)
		cb(d->msgs[i].text, d->msgs[i].is_error, arg);
}
