/*
 * test_pki: the test PKI of tests/pki/mkpki.sh (the one builder every test
 * uses), made in a temporary directory for a unit test program.
 */
#ifndef MTLSLB_TEST_PKI_H
#define MTLSLB_TEST_PKI_H

/*
 * Runs "mkpki.sh -u" into a new directory under $TMPDIR. Returns 0, 77
 * when there is no openssl CLI, or 99 (with mkpki's output on stderr).
 * Meant as a test_unit setup.
 */
int test_pki_make(void);

/* Removes the directory test_pki_make() made; a test_unit teardown. */
void test_pki_remove(void);

/*
 * Returns the path of file in the test PKI, in one of 32 static buffers
 * used in turn (so a few may be alive at once).
 */
char *test_pki_path(const char *file);

#endif
