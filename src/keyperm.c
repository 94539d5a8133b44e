/*
 * keyperm: stat() of a private key file and a warning when its mode lets
 * other users read it. Opens nothing and never fails the configuration.
 */
#include "ac_config.h"
#include "keyperm.h"

#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

void
keyperm_check(const char *key, const char *path, int line,
    struct diag *d)
{
	struct stat st;
	gid_t egid = getegid();

	if (path == NULL || stat(path, &st) == -1)
		return;
	if (st.st_mode & S_IROTH) {
		diag_warn(d, line, "%s: '%s' is readable by every user (mode "
		    "%04o); chmod o-rwx it", key, path,
		    (unsigned)(st.st_mode & 07777));
		return;
	}
	/*
	 * Group-readable is the way to share a key with a non-root service
	 * (root:mtlslb 0640); any other group, root's included, is a leak.
	 */
	if ((st.st_mode & S_IRGRP) && (st.st_gid != egid || egid == 0))
		diag_warn(d, line, "%s: '%s' is readable by group %lu (mode "
		    "%04o); chmod g-rwx it", key, path,
		    (unsigned long)st.st_gid, (unsigned)(st.st_mode & 07777));
}
