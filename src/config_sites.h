/*
 * config_sites: the checks of listeners that share one bind address (the
 * server name picks among them) and of repeated certificate pairs; private
 * to the config modules, but for config_sites_same_bind().
 */
#ifndef MTLSLB_CONFIG_SITES_H
#define MTLSLB_CONFIG_SITES_H

#include <stdbool.h>
#include <stddef.h>

struct addr_conf;
struct config;
struct config_section;
struct diag;

/* Most server_certificate and server_private_key pairs per listener. */
#define CONFIG_SITES_MAX_PAIRS	16

/* True when a and b are the same address and port: one socket. */
bool config_sites_same_bind(const struct addr_conf *a,
    const struct addr_conf *b);

/*
 * Records in d: unpaired certificates or keys, and for listeners sharing a
 * bind, socket-level keys that differ, a server name claimed twice, two
 * default servers, and a protocol = http listener among them.
 */
void config_sites_check(const struct config *c,
    const struct config_section *secs, size_t nsecs, struct diag *d);

#endif
