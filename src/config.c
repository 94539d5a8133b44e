/*
 * config: reads the INI file with inih into struct config, driving the
 * key tables of config_keys.c, then runs the checks of config_check.c.
 * Every problem is recorded in the diag collector, with the line of the
 * offending key, and parsing goes on so one run reports them all. Never
 * opens sockets and never parses certificates.
 */
#include "ac_config.h"
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <ini.h>

#include "config_check.h"
#include "config_keys.h"
#include "diag.h"
#include "parse.h"
#include "util.h"

#define ERRLEN		256

enum line_kind {
	LK_NONE,			/* no line read yet */
	LK_SKIP,			/* blank, comment, section, too long */
	LK_KEY,			/* must reach the handler, or it is bad */
};

struct state {
	struct config *c;
	struct diag *d;
	FILE *fp;
	/* reader: the current physical line, handed to inih in chunks */
	char *buf;
	size_t bufcap;
	const char *out;		/* what inih gets of the current line */
	size_t outlen, outpos;
	int line;
	enum line_kind kind;
	bool handled;			/* the handler saw the current line */
	int first_syntax_line;
	int *chunk_line;		/* inih's line number -> real line */
	size_t nchunks, chunkcap;
	/* sections */
	struct config_section *secs;
	size_t nsecs;
	struct config_section *cur;	/* NULL before the first [section] */
	bool read_error;
	int read_errno;
	char dir[PATH_MAX];		/* relative file names start here */
};

/* Section headers */

static struct config_section *
find_section(struct state *st, enum config_sec kind, const char *name)
{
	size_t i;

	for (i = 0; i < st->nsecs; i++) {
		if (st->secs[i].kind != kind)
			continue;
		if (name == NULL || strcmp(st->secs[i].name, name) == 0)
			return &st->secs[i];
	}
	return NULL;
}

/* Reports an unknown section kind, with a did-you-mean when one is close. */
static void
unknown_section(struct state *st, const char *kind, const char *name)
{
	const struct config_sec_kind *sk;

	for (sk = config_keys_sections; sk->name != NULL; sk++) {
		if (!config_keys_is_close(kind, sk->name))
			continue;
		diag_error(st->d, st->line, "unknown section [%s%s%s] "
		    "(did you mean [%s%s%s]?)", kind, *name ? " " : "", name,
		    sk->name, sk->named ? " " : "",
		    sk->named ? (*name ? name : "NAME") : "");
		return;
	}
	diag_error(st->d, st->line, "unknown section [%s%s%s] (expected "
	    "[global], [listener NAME], [server_group NAME], [route NAME] "
	    "or [admin])",
	    kind, *name ? " " : "", name);
}

/*
 * Opens a section from the text between the brackets. An unusable header
 * still opens a section, of kind SEC_NONE, so its keys are skipped quietly
 * instead of being blamed on the section before it.
 */
static void
section_begin(struct state *st, const char *text, size_t len)
{
	struct config *c = st->c;
	const struct config_sec_kind *sk;
	struct config_section *s, *prev;
	char err[ERRLEN], label[128];
	char *copy, *kind, *name;
	size_t klen;

	st->secs = xrealloc(st->secs, (st->nsecs + 1) * sizeof(*st->secs));
	s = st->cur = &st->secs[st->nsecs++];
	memset(s, 0, sizeof(*s));
	s->line = st->line;

	/* "[ listener   https ]" -> kind "listener", name "https" */
	copy = xstrndup(text, len);
	kind = copy + strspn(copy, " \t");
	klen = strcspn(kind, " \t");
	name = kind + klen + strspn(kind + klen, " \t");
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		name[--len] = '\0';
	kind[klen] = '\0';

	for (sk = config_keys_sections; sk->name != NULL; sk++)
		if (strcmp(kind, sk->name) == 0)
			break;
	if (sk->name == NULL) {
		unknown_section(st, kind, name);
		goto out;
	}
	if (!sk->named && *name != '\0') {
		diag_error(st->d, st->line, "[%s %s]: [%s] takes no name",
		    kind, name, kind);
		goto out;
	}
	if (sk->named && *name == '\0') {
		diag_error(st->d, st->line, "[%s] needs a name, as in "
		    "[%s NAME]", kind, kind);
		goto out;
	}
	if (sk->named && parse_name(name, err, sizeof(err)) < 0) {
		diag_error(st->d, st->line, "[%s %s]: %s", kind, name, err);
		goto out;
	}
	if ((prev = find_section(st, sk->kind,
	    sk->named ? name : NULL)) != NULL) {
		diag_error(st->d, st->line, "duplicate section %s (first at "
		    "line %d)", config_keys_label(prev, label, sizeof(label)),
		    prev->line);
		goto out;
	}

	s->kind = sk->kind;
	if (sk->named)
		s->name = xstrdup(name);
	switch (s->kind) {
	case SEC_LISTENER:
		c->listeners = xrealloc(c->listeners,
		    (c->nlisteners + 1) * sizeof(*c->listeners));
		s->idx = c->nlisteners++;
		memset(&c->listeners[s->idx], 0, sizeof(*c->listeners));
		c->listeners[s->idx].name = xstrdup(name);
		c->listeners[s->idx].line = st->line;
		config_keys_defaults(SEC_LISTENER, &c->listeners[s->idx]);
		break;
	case SEC_GROUP:
		c->groups = xrealloc(c->groups,
		    (c->ngroups + 1) * sizeof(*c->groups));
		s->idx = c->ngroups++;
		memset(&c->groups[s->idx], 0, sizeof(*c->groups));
		c->groups[s->idx].name = xstrdup(name);
		c->groups[s->idx].line = st->line;
		config_keys_defaults(SEC_GROUP, &c->groups[s->idx]);
		break;
	case SEC_ROUTE:
		c->routes = xrealloc(c->routes,
		    (c->nroutes + 1) * sizeof(*c->routes));
		s->idx = c->nroutes++;
		memset(&c->routes[s->idx], 0, sizeof(*c->routes));
		c->routes[s->idx].name = xstrdup(name);
		c->routes[s->idx].line = st->line;
		c->routes[s->idx].idx = s->idx;
		config_keys_defaults(SEC_ROUTE, &c->routes[s->idx]);
		break;
	case SEC_NONE:
	case SEC_GLOBAL:
	case SEC_ADMIN:
		break;
	}
out:
	free(copy);
}

/*
 * The reader is the lexer in front of inih. It reads whole lines itself,
 * so it knows the real line number (inih counts fgets chunks, and a long
 * line is several chunks), replaces an over-long line by a blank one
 * instead of letting inih see its tail as a line of its own, and strips
 * leading blanks so that an indented key is just a key: inih would
 * otherwise append it to the previous key's value (multi-line values).
 * It also opens sections, which inih does not report when they are empty.
 */

static void
syntax_error(struct state *st, const char *msg)
{
	if (st->first_syntax_line == 0)
		st->first_syntax_line = st->line;
	diag_error(st->d, st->line, "syntax error: %s", msg);
}

/* Called once inih is done with the current line. */
static void
line_done(struct state *st)
{
	if (st->kind == LK_KEY && !st->handled)
		syntax_error(st, "expected '[section]' or 'key = value'");
	st->kind = LK_NONE;
}

static void
line_classify(struct state *st, const char *p)
{
	const char *q, *rest;
	bool was_space = false;
	size_t n;

	st->kind = LK_SKIP;
	if (p[strspn(p, " \t\v\f\r\n")] == '\0' || *p == ';' || *p == '#')
		return;
	if (*p != '[') {
		st->kind = LK_KEY;
		return;
	}
	/* like inih: the header ends at ']' or at a ';' after a blank */
	for (q = p + 1; *q != '\0' && *q != ']' && !(was_space && *q == ';');
	    q++)
		was_space = isspace((unsigned char)*q);
	if (*q != ']') {
		syntax_error(st, "section header has no ']'");
		return;
	}
	rest = q + 1 + strspn(q + 1, " \t\v\f\r\n");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		n = strcspn(rest, "\r\n");
		diag_error(st->d, st->line, "unexpected '%.*s' after ']'",
		    (int)n, rest);
	}
	section_begin(st, p + 1, (size_t)(q - p - 1));
}

static int
line_next(struct state *st, int num)
{
	ssize_t n;
	size_t len;
	char *p;

	errno = 0;
	if ((n = getline(&st->buf, &st->bufcap, st->fp)) < 0) {
		if (ferror(st->fp)) {
			st->read_error = true;
			st->read_errno = errno;
		}
		return -1;
	}
	st->line++;
	st->handled = false;
	p = st->buf;
	if (st->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;		/* UTF-8 byte order mark */
	len = strlen(p);
	if (len > 0 && p[len - 1] == '\n')
		len--;
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > (size_t)num - 1) {
		diag_error(st->d, st->line, "line is longer than %d characters",
		    num - 1);
		st->out = "\n";
		st->kind = LK_SKIP;
	} else {
		p += strspn(p, " \t\v\f");
		st->out = p;
		line_classify(st, p);
	}
	st->outlen = strlen(st->out);
	st->outpos = 0;
	return 0;
}

static char *
read_cb(char *str, int num, void *arg)
{
	struct state *st = arg;
	size_t n;

	if (num < 2)
		return NULL;
	if (st->outpos == st->outlen) {
		line_done(st);
		if (line_next(st, num) < 0)
			return NULL;
	}
	n = st->outlen - st->outpos;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, st->out + st->outpos, n);
	str[n] = '\0';
	st->outpos += n;
	if (st->nchunks == st->chunkcap) {
		st->chunkcap = st->chunkcap == 0 ? 64 : st->chunkcap * 2;
		st->chunk_line = xrealloc(st->chunk_line,
		    st->chunkcap * sizeof(*st->chunk_line));
	}
	st->chunk_line[st->nchunks++] = st->line;
	return str;
}

/* Reports an unknown key with the most useful hint we can find. */
static void
unknown_key(struct state *st, const char *name)
{
	const struct config_key *keys = config_keys_of(st->cur->kind);
	const struct config_sec_kind *sk;
	char label[128], hint[512];
	size_t i, n, len;

	config_keys_label(st->cur, label, sizeof(label));
	for (i = 0; keys[i].name != NULL; i++) {
		if (config_keys_is_close(name, keys[i].name)) {
			diag_error(st->d, st->line, "unknown key '%s' in %s "
			    "(did you mean '%s'?)", name, label,
			    keys[i].name);
			return;
		}
	}
	hint[0] = '\0';
	for (sk = config_keys_sections, n = 0; sk->name != NULL; sk++) {
		if (sk->kind == st->cur->kind ||
		    sk->keys[config_keys_index(sk->keys, name)].name == NULL)
			continue;
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "%s[%s%s]",
		    n++ == 0 ? "" : " or ", sk->name,
		    sk->named ? " NAME" : "");
	}
	if (n > 0) {
		diag_error(st->d, st->line, "unknown key '%s' in %s (it "
		    "belongs in %s)", name, label, hint);
		return;
	}
	for (n = 0; keys[n].name != NULL; n++)
		continue;
	if (n > 10) {
		diag_error(st->d, st->line, "unknown key '%s' in %s (see "
		    "mtlslb.ini(5) for the keys of [%s%s])", name, label,
		    config_keys_kind_name(st->cur->kind),
		    st->cur->name ? " NAME" : "");
		return;
	}
	for (i = 0; i < n; i++) {
		len = strlen(hint);
		snprintf(hint + len, sizeof(hint) - len, "%s%s",
		    i == 0 ? "" : ", ", keys[i].name);
	}
	diag_error(st->d, st->line, "unknown key '%s' in %s (valid keys: %s)",
	    name, label, hint);
}

/* Always returns 1: problems are recorded here, not reported to inih. */
static int
handler_cb(void *arg, const char *section, const char *name,
    const char *value)
{
	struct state *st = arg;
	struct config_section *s = st->cur;
	const struct config_key *keys, *k;
	struct config_key_ctx ctx;
	char err[ERRLEN], label[128];
	size_t i;
	void *obj;

	st->handled = true;
	if (*name == '\0') {
		diag_error(st->d, st->line,
		    "syntax error: no key name before '='");
		return 1;
	}
	if (s == NULL) {
		keys = config_keys_of(SEC_GLOBAL);
		diag_error(st->d, st->line, "key '%s' comes before any "
		    "[section]%s", name,
		    keys[config_keys_index(keys, name)].name != NULL ?
		    " (put it under [global])" : "");
		return 1;
	}
	if (s->kind == SEC_NONE)
		return 1;	/* the header was reported already */
	keys = config_keys_of(s->kind);
	if (keys[i = config_keys_index(keys, name)].name == NULL) {
		unknown_key(st, name);
		return 1;
	}
	assert(i < CONFIG_KEYS_MAX);
	k = &keys[i];
	if (s->seen[i] != 0 && (k->flags & CONFIG_KEY_REPEAT) == 0) {
		diag_error(st->d, st->line, "duplicate key '%s' in %s (first "
		    "set at line %d)", name,
		    config_keys_label(s, label, sizeof(label)), s->seen[i]);
		return 1;
	}
	if (s->seen[i] == 0)
		s->seen[i] = st->line;
	if (*value == '\0') {
		diag_error(st->d, st->line, "%s: value is empty", name);
		return 1;
	}
	obj = config_keys_obj(st->c, s);
	ctx.d = st->d;
	ctx.sec = s;
	ctx.line = st->line;
	ctx.dir = st->dir;
	if (config_keys_parse(k, &ctx, obj, value, err, sizeof(err)) < 0)
		diag_error(st->d, st->line, "%s: %s", name, err);
	return 1;
}


/*
 * Sets st->dir to the directory of the config file at path, absolute (see
 * util_abs_path(): a symbolic link to the file itself is not followed).
 * Returns 0, or -1 after recording why not.
 */
static int
config_dir(struct state *st, const char *path)
{
	char *slash;

	if (util_abs_path(path, st->dir, sizeof(st->dir)) < 0) {
		diag_error(st->d, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	slash = strrchr(st->dir, '/');
	slash[slash == st->dir ? 1 : 0] = '\0';	/* "/x.ini" -> "/" */
	return 0;
}

static struct config *
config_new(const char *path)
{
	struct config *c;

	c = xcalloc(1, sizeof(*c));
	c->path = xstrdup(path);
	config_keys_defaults(SEC_GLOBAL, c);
	config_keys_defaults(SEC_ADMIN, c);
	return c;
}

static struct config *
load(const char *path, struct diag *d, bool check)
{
	struct state st;
	struct config *c;
	size_t errors = diag_errors(d), i;
	int rc, line;

	memset(&st, 0, sizeof(st));
	st.c = c = config_new(path);
	st.d = d;
	if (config_dir(&st, path) < 0)
		goto out;
	if ((st.fp = fopen(path, "re")) == NULL) {
		diag_error(d, 0, "cannot open: %s", strerror(errno));
		goto out;
	}
	rc = ini_parse_stream(read_cb, &st, handler_cb, &st);
	line_done(&st);
	if (st.read_error) {
		diag_error(d, 0, "cannot read: %s", strerror(st.read_errno));
		goto out;
	}
	if (rc > 0) {
		/* inih reports its first error only; we saw them all */
		line = (size_t)rc <= st.nchunks ? st.chunk_line[rc - 1] : 0;
		if (line != st.first_syntax_line)
			diag_error(d, line, "syntax error: expected "
			    "'[section]' or 'key = value'");
	} else if (rc < 0) {
		diag_error(d, 0, "cannot parse: inih failed with %d", rc);
		goto out;
	}
	if (check)
		config_check_run(c, st.secs, st.nsecs, d);
out:
	if (st.fp != NULL)
		fclose(st.fp);
	for (i = 0; i < st.nsecs; i++)
		free(st.secs[i].name);
	free(st.secs);
	free(st.buf);
	free(st.chunk_line);
	if (diag_errors(d) > errors) {
		config_free(c);
		return NULL;
	}
	return c;
}

struct config *
config_load(const char *path, struct diag *d)
{
	return load(path, d, true);
}

struct config *
config_read(const char *path, struct diag *d)
{
	return load(path, d, false);
}

void
config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nlisteners; i++) {
		free(c->listeners[i].name);
		free(c->listeners[i].routes);
		config_keys_free(SEC_LISTENER, &c->listeners[i]);
	}
	free(c->listeners);
	for (i = 0; i < c->ngroups; i++) {
		free(c->groups[i].name);
		config_keys_free(SEC_GROUP, &c->groups[i]);
	}
	free(c->groups);
	for (i = 0; i < c->nroutes; i++) {
		free(c->routes[i].name);
		free(c->routes[i].listener_lines);
		config_keys_free(SEC_ROUTE, &c->routes[i]);
	}
	free(c->routes);
	config_keys_free(SEC_GLOBAL, c);
	config_keys_free(SEC_ADMIN, c);
	free(c->path);
	free(c);
}

bool
config_listener_file_next(const struct listener_conf *lc, size_t *pos,
    struct config_file *f)
{
	return config_keys_file_next(lc, pos, f);
}

bool
config_group_file_next(const struct group_conf *gc, size_t *pos,
    struct config_file *f)
{
	return config_keys_group_file_next(gc, pos, f);
}

void
config_foreach_key(void (*cb)(const char *section, const char *key,
    void *arg), void *arg)
{
	const struct config_sec_kind *sk;
	const struct config_key *k;

	for (sk = config_keys_sections; sk->name != NULL; sk++)
		for (k = sk->keys; k->name != NULL; k++)
			cb(sk->name, k->name, arg);
}
