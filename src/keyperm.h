/*
 * keyperm: the permission check of private key files. Warns, never fails:
 * a key that others can read is a leak waiting to happen, not a config
 * error.
 */
#ifndef MTLSLB_KEYPERM_H
#define MTLSLB_KEYPERM_H

struct diag;

/*
 * Records a warning in d at line, naming key, when the key file at path
 * can be read by other users: world-readable, or group-readable by a group
 * other than the one mtlslb runs as (root:mtlslb 0640 is the non-root
 * service's model). Says nothing when path cannot be stat()ed: loading the
 * key reports that.
 */
void keyperm_check(const char *key, const char *path, int line,
    struct diag *d);

#endif
