/*
 * test_pki: runs tests/pki/mkpki.sh for a unit test program and removes
 * what it made at exit. Nothing here knows which files mkpki makes.
 */
#include "ac_config.h"
#include "test_pki.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_main.h"

static char pki_dir[PATH_MAX];

char *
test_pki_path(const char *file)
{
	static char ring[32][2 * PATH_MAX];
	static unsigned next;
	char *p = ring[next++ % 32];

	snprintf(p, sizeof(ring[0]), "%s/%s", pki_dir, file);
	return p;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

void
test_pki_remove(void)
{
	if (pki_dir[0] != '\0')
		nftw(pki_dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	pki_dir[0] = '\0';
}

int
test_pki_make(void)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[3 * PATH_MAX];
	int rc;

	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_pki: no openssl CLI, skipped\n");
		return 77;
	}
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(pki_dir, sizeof(pki_dir), "%s/mtlslb-pki.XXXXXX", tmp);
	if (strchr(pki_dir, '\'') != NULL ||
	    strchr(test_srcdir(), '\'') != NULL || mkdtemp(pki_dir) == NULL) {
		perror("test_pki: mkdtemp");
		pki_dir[0] = '\0';
		return 99;
	}
	/* mkpki prints nothing on success and the failing step otherwise */
	snprintf(cmd, sizeof(cmd), "sh '%s/tests/pki/mkpki.sh' -u '%s' >&2",
	    test_srcdir(), pki_dir);
	if ((rc = system(cmd)) != 0) {
		fprintf(stderr, "test_pki: mkpki.sh failed (%d)\n", rc);
		return 99;
	}
	return 0;
}
