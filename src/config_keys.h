/*
 * config_keys: the key tables of the configuration, private to the config
 * modules (config.c, config_check.c). One row per key says how its value
 * is parsed and stored, its default, the line field it records and the
 * kind of file it names; the parser, the defaults, config_free(), the
 * listener file list and the docs test are loops over these rows.
 */
#ifndef MTLSLB_CONFIG_KEYS_H
#define MTLSLB_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

struct diag;
struct parse_enum;

/* Most keys in one section kind (the size of config_section.seen). */
#define CONFIG_KEYS_MAX		48

#define CONFIG_KEY_REPEAT	0x01	/* may appear more than once */
#define CONFIG_KEY_REQUIRED	0x02	/* a section is incomplete without it */
/*
 * A file key that may repeat: the first value (and its line) stays in the
 * field, later ones go to the struct file_conf list at more_off, counted
 * at count_off (server_certificate, server_private_key).
 */
#define CONFIG_KEY_MORE		0x04

enum config_sec {
	SEC_NONE,		/* bad or duplicate header: keys ignored */
	SEC_GLOBAL,
	SEC_LISTENER,
	SEC_GROUP,
	SEC_ADMIN,
	SEC_ROUTE,
};

/* One [section] as it appeared in the file. */
struct config_section {
	enum config_sec kind;
	char *name;			/* NAME of [listener NAME], or NULL */
	size_t idx;			/* into listeners, groups, routes */
	int line;
	int seen[CONFIG_KEYS_MAX];	/* first line each key was set on */
};

/* What a key parser knows besides the value: where it is. */
struct config_key_ctx {
	struct diag *d;			/* for warnings about the value */
	const struct config_section *sec;
	int line;
	const char *dir;		/* the config file's, absolute */
};

/* How a value is parsed and stored (config_types.h). */
struct config_type;

struct config_key {
	const char *name;
	const struct config_type *type;
	size_t off;			/* offset of the field in the object */
	size_t line_off;		/* offset of its int *_line, 0: none */
	unsigned flags;			/* CONFIG_KEY_* */
	enum config_file_kind file;	/* what the path names, 0: no file */
	uint64_t min, max;		/* numbers, durations and sizes */
	const struct parse_enum *tab;	/* enums; keywords for log paths */
	size_t count_off;		/* lists: offset of the count */
	size_t more_off;		/* CONFIG_KEY_MORE: the list */
	uint64_t def;			/* default of numbers, flags, enums */
	const char *def_str;		/* default of strings (NULL: unset) */
};

/* A section kind: its header word and its key table. */
struct config_sec_kind {
	const char *name;		/* "listener"; NULL ends the list */
	enum config_sec kind;
	bool named;			/* [listener NAME] */
	const struct config_key *keys;	/* ends with a row of name NULL */
};

/* Every section kind, in the order of the documentation. */
extern const struct config_sec_kind config_keys_sections[];

/* The key table of kind (NULL for SEC_NONE). */
const struct config_key *config_keys_of(enum config_sec kind);

/* The header word of kind ("server_group"). */
const char *config_keys_kind_name(enum config_sec kind);

/* The index of name in keys, or of the terminating row when unknown. */
size_t config_keys_index(const struct config_key *keys, const char *name);

/* The line name was first set on in s, or 0; name must be a key of s. */
int config_keys_seen_line(const struct config_section *s, const char *name);

/* Writes "[listener https]" or "[global]" for s into buf; returns buf. */
const char *config_keys_label(const struct config_section *s, char *buf,
    size_t len);

/*
 * Parses v as the value of k into obj (the section's struct) and records
 * the line in k's line field. Returns 0, or -1 after writing why into err.
 */
int config_keys_parse(const struct config_key *k,
    const struct config_key_ctx *ctx, void *obj, const char *v, char *err,
    size_t errlen);

/*
 * config_listener_file_next() for the modules below config.c: the next
 * file key of the listener table at or after *pos (see config.h).
 */
bool config_keys_file_next(const struct listener_conf *lc, size_t *pos,
    struct config_file *f);

/* The same for the server group table (config_group_file_next()). */
bool config_keys_group_file_next(const struct group_conf *gc, size_t *pos,
    struct config_file *f);

/* The struct that holds the keys of section s of c. */
void *config_keys_obj(struct config *c, const struct config_section *s);

/*
 * The next key of section s, at or after *pos, whose value names a file
 * the master writes (a log file; not a keyword such as "stderr"): fills
 * *f from obj, the section's struct, with kind 0 and the line the key was
 * set on, advances *pos past it and returns true; false at the end.
 */
bool config_keys_written_next(const struct config_section *s,
    const void *obj, size_t *pos, struct config_file *f);

/* Sets every key of kind in obj to its default. */
void config_keys_defaults(enum config_sec kind, void *obj);

/* Frees what the keys of kind own in obj (strings, lists); not obj. */
void config_keys_free(enum config_sec kind, void *obj);

/*
 * True when typo is a likely misspelling of word: at most 2 edits, and
 * fewer than half of word (case is ignored). For "did you mean" hints.
 */
bool config_keys_is_close(const char *typo, const char *word);

/* True when a and b are the same address and port. */
bool config_keys_same_addr(const struct sockaddr_storage *a,
    const struct sockaddr_storage *b);

#endif
