/*
 * config_check: the checks of a configuration that span keys and sections,
 * run after the whole file was parsed (private to the config modules).
 */
#ifndef MTLSLB_CONFIG_CHECK_H
#define MTLSLB_CONFIG_CHECK_H

#include <stddef.h>

struct config;
struct config_section;
struct diag;

/*
 * Resolves each listener's server_group in c, then records in d every
 * problem that needs the whole file (secs: the nsecs sections in file
 * order, as the parser saw them).
 */
void config_check_run(struct config *c, const struct config_section *secs,
    size_t nsecs, struct diag *d);

#endif
