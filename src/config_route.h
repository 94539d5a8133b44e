/*
 * config_route: the checks of [route] sections and of allow rules, which
 * need the whole file, and the per-listener route lists they build
 * (private to the config modules).
 */
#ifndef MTLSLB_CONFIG_ROUTE_H
#define MTLSLB_CONFIG_ROUTE_H

#include <stdbool.h>

struct config;
struct diag;

/*
 * Resolves each route's listeners and server_group, builds each
 * listener's sorted route list (route.h) and records in d what is wrong;
 * sets used[i] for each server group a route names.
 */
void config_route_check(struct config *c, struct diag *d, bool *used);

#endif
