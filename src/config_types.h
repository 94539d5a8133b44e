/*
 * config_types: the value types of the key tables (config_keys.c): for
 * each, a parser that checks one value and stores it in its row's field,
 * and the kind of field it stores into (which says how a default is set
 * and how the value is freed). Private to the config modules.
 */
#ifndef MTLSLB_CONFIG_TYPES_H
#define MTLSLB_CONFIG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "config_keys.h"

#define MS_SEC		1000ull
#define MS_MIN		(60 * MS_SEC)
#define MS_HOUR		(60 * MS_MIN)
#define MS_DAY		(24 * MS_HOUR)

/* Where a type keeps its value, which says how to default and free it. */
enum store {
	ST_STRING,		/* char *, owned */
	ST_UINT,		/* unsigned */
	ST_SIZE,		/* size_t */
	ST_U64,			/* uint64_t */
	ST_BOOL,		/* bool */
	ST_INT,			/* int-sized enum */
	ST_ADDRS,		/* struct addr_conf *, counted at count_off */
	ST_SERVERS,		/* struct server_conf *, counted at count_off */
	ST_CIDRS,		/* struct parse_cidr *, counted at count_off */
	ST_STRINGS,		/* char **, owned, counted at count_off */
	ST_ALLOWS,		/* struct allow_rule *, counted too */
	ST_PATHS,		/* char *, then struct file_conf *s */
};

typedef int (*key_parser)(const struct config_key_ctx *,
    const struct config_key *, void *, const char *, char *, size_t);

/* parse_uint, parse_duration_ms or parse_size: a number in min..max. */
typedef int (*num_parser)(const char *, uint64_t, uint64_t, uint64_t *,
    char *, size_t);

struct config_type {
	key_parser parse;
	enum store store;
	num_parser num;			/* for key_number */
};

/* The field of row k in obj, as a TYPE. */
#define FIELD(type, obj, k)	((type *)(void *)((char *)(obj) + (k)->off))

/* Stores n in k's field, as its type says: a number, a flag or an enum. */
void config_types_store_number(const struct config_key *k, void *obj,
    uint64_t n);

extern const struct config_type t_string;
extern const struct config_type t_path;
extern const struct config_type t_paths;
extern const struct config_type t_user;
extern const struct config_type t_log;
extern const struct config_type t_hc_path;
extern const struct config_type t_hc_host;
extern const struct config_type t_uint;
extern const struct config_type t_workers;
extern const struct config_type t_duration;
extern const struct config_type t_duration_s;
extern const struct config_type t_http_codes;
extern const struct config_type t_size;
extern const struct config_type t_size64;
extern const struct config_type t_onoff;
extern const struct config_type t_enum_bool;
extern const struct config_type t_enum;
extern const struct config_type t_binds;
extern const struct config_type t_servers;
extern const struct config_type t_cidrs;
extern const struct config_type t_subjects;
extern const struct config_type t_allows;
extern const struct config_type t_fcc;
extern const struct config_type t_route_listener;
extern const struct config_type t_route_host;
extern const struct config_type t_path_prefix;
extern const struct config_type t_names;

#endif
