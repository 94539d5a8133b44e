/*
 * config_route: the checks of [route] sections and of allow rules, which
 * need the whole file, and the per-listener route lists they build
 * (private to the config modules).
 */
#ifndef MTLSLB_CONFIG_ROUTE_H
#define MTLSLB_CONFIG_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct config_key;
struct config_key_ctx;
struct diag;

/*
 * Key parsers for config_keys.c's tables: allow = KIND:PATTERN (listener
 * and route), forward_client_cert (on, off or a list of families, stored
 * as FCC_* bits), and [route]'s listener, host and path_prefix. Each
 * writes k's field of obj; -1 means err says why.
 */
int config_route_key_allow(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen);
int config_route_key_fcc(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen);
int config_route_key_listener(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen);
int config_route_key_host(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen);
int config_route_key_path_prefix(const struct config_key_ctx *ctx,
    const struct config_key *k, void *obj, const char *v, char *err,
    size_t errlen);

/*
 * Resolves each route's listeners and server_group, builds each
 * listener's sorted route list (route.h) and records in d what is wrong;
 * sets used[i] for each server group a route names.
 */
void config_route_check(struct config *c, struct diag *d, bool *used);

#endif
