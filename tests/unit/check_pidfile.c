/*
 * check_pidfile: the pid file's parsers (contents, /proc/PID/stat), the
 * default path, and the file's life on disk: written atomically with mode
 * 0644, read back, judged by the process it names (a child that calls
 * itself mtlslb), removed only while it names us.
 */
#include "ac_config.h"
#include "pidfile.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "test_main.h"

static char dir[PATH_MAX];

static void
dir_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/check_pidfile.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
dir_teardown(void)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return;
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (rmdir(path) == -1)
			unlink(path);
	}
	closedir(dp);
	rmdir(dir);
}

/* Writes s to dir/name; returns the path (static). */
static const char *
put(const char *name, const char *s)
{
	static char path[PATH_MAX + 64];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(s, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

static size_t
dir_entries(void)
{
	struct dirent *de;
	DIR *dp;
	size_t n = 0;

	ck_assert_ptr_nonnull(dp = opendir(dir));
	while ((de = readdir(dp)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dp);
	return n;
}

START_TEST(test_parse)
{
	static const char *const bad[] = {
		"", "\n", "0", "0\n", "-5", " 12", "12 ", "12 \n", "12\n\n",
		"12a", "+12", "2147483648", "99999999999", "12\r\n",
	};
	pid_t pid;
	size_t i;

	ck_assert_int_eq(pidfile_parse("123\n", 4, &pid), 0);
	ck_assert_int_eq(pid, 123);
	ck_assert_int_eq(pidfile_parse("4567", 4, &pid), 0);
	ck_assert_int_eq(pid, 4567);
	ck_assert_int_eq(pidfile_parse("2147483647\n", 11, &pid), 0);
	ck_assert_int_eq(pid, 2147483647);
	/* the length is what counts, not a NUL */
	ck_assert_int_eq(pidfile_parse("12\n34", 3, &pid), 0);
	ck_assert_int_eq(pid, 12);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = 99;
		ck_assert_msg(pidfile_parse(bad[i], strlen(bad[i]), &pid) == -1,
		    "'%s' parsed", bad[i]);
		ck_assert_int_eq(pid, 99);
	}
}
END_TEST

START_TEST(test_parse_stat)
{
	char comm[17], st = '?';

	ck_assert_int_eq(pidfile_parse_stat("123 (mtlslb-master) S 1 123 0",
	    comm, sizeof(comm), &st), 0);
	ck_assert_str_eq(comm, "mtlslb-master");
	ck_assert_int_eq(st, 'S');
	/* a name may hold blanks and parentheses: it ends at the last ')' */
	ck_assert_int_eq(pidfile_parse_stat("5 (a) b (c)) Z 1", comm,
	    sizeof(comm), &st), 0);
	ck_assert_str_eq(comm, "a) b (c)");
	ck_assert_int_eq(st, 'Z');
	ck_assert_int_eq(pidfile_parse_stat("7 (abcdefghijklmnop) R", comm,
	    5, &st), 0);
	ck_assert_str_eq(comm, "abcd");
	ck_assert_int_eq(pidfile_parse_stat("123 mtlslb S", comm,
	    sizeof(comm), &st), -1);
	ck_assert_int_eq(pidfile_parse_stat("1 (x)", comm, sizeof(comm),
	    &st), -1);
	ck_assert_int_eq(pidfile_parse_stat("1 (x)S 1", comm, sizeof(comm),
	    &st), -1);
	ck_assert_int_eq(pidfile_parse_stat("1 )x( S", comm, sizeof(comm),
	    &st), -1);
}
END_TEST

START_TEST(test_master_name)
{
	ck_assert(pidfile_is_master_name("mtlslb"));
	ck_assert(!pidfile_is_master_name("mtlslb-master"));
	ck_assert(!pidfile_is_master_name("mtlslbx"));
	ck_assert(!pidfile_is_master_name("bash"));
	ck_assert(!pidfile_is_master_name(""));
}
END_TEST

START_TEST(test_default)
{
	char *p;

	ck_assert_int_eq(unsetenv("RUNTIME_DIRECTORY"), 0);
	ck_assert_ptr_null(pidfile_default(false));
	p = pidfile_default(true);
	ck_assert_str_eq(p, PIDFILE_SERVICE_PATH);
	ck_assert_str_eq(p, "/run/mtlslb/mtlslb.pid");
	free(p);

	ck_assert_int_eq(setenv("RUNTIME_DIRECTORY", "/run/mtlslb", 1), 0);
	p = pidfile_default(false);
	ck_assert_str_eq(p, "/run/mtlslb/mtlslb.pid");
	free(p);
	/* RuntimeDirectory=a b: "/run/a:/run/b"; the first one */
	ck_assert_int_eq(setenv("RUNTIME_DIRECTORY", "/run/a:/run/b", 1), 0);
	p = pidfile_default(true);
	ck_assert_str_eq(p, "/run/a/mtlslb.pid");
	free(p);
	/* not an absolute path: not systemd's */
	ck_assert_int_eq(setenv("RUNTIME_DIRECTORY", "run", 1), 0);
	ck_assert_ptr_null(pidfile_default(false));
	ck_assert_int_eq(unsetenv("RUNTIME_DIRECTORY"), 0);
}
END_TEST

START_TEST(test_write)
{
	char path[PATH_MAX + 64], want[32];
	struct pidfile_info pi;
	struct stat st;

	snprintf(path, sizeof(path), "%s/mtlslb.pid", dir);
	umask(077);			/* the mode is set, not left to umask */
	ck_assert_int_eq(pidfile_write(path), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(dir_entries(), 1);	/* no temporary file left */
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	ck_assert_uint_eq((size_t)st.st_size, strlen(want));

	/* our own pid: whoever wrote it is gone (a restarted container) */
	pidfile_inspect(path, &pi);
	ck_assert_int_eq(pi.state, PIDFILE_DEAD);
	ck_assert_int_eq(pi.pid, getpid());

	/* written again over a stale file */
	put("mtlslb.pid", "1\n");
	ck_assert_int_eq(pidfile_write(path), 0);
	pidfile_inspect(path, &pi);
	ck_assert_int_eq(pi.pid, getpid());

	/* a directory that does not exist: ENOENT, nothing made */
	snprintf(path, sizeof(path), "%s/nodir/mtlslb.pid", dir);
	errno = 0;
	ck_assert_int_eq(pidfile_write(path), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(dir_entries(), 1);
}
END_TEST

START_TEST(test_inspect_files)
{
	char path[PATH_MAX + 64];
	struct pidfile_info pi;

	snprintf(path, sizeof(path), "%s/none.pid", dir);
	pidfile_inspect(path, &pi);
	ck_assert_int_eq(pi.state, PIDFILE_NONE);
	ck_assert_int_eq(pi.err, ENOENT);

	pidfile_inspect(dir, &pi);
	ck_assert_int_eq(pi.state, PIDFILE_ERROR);
	ck_assert_int_eq(pi.err, EISDIR);

	pidfile_inspect(put("bad.pid", "garbage\n"), &pi);
	ck_assert_int_eq(pi.state, PIDFILE_INVALID);
	ck_assert_int_eq(pi.pid, 0);
	ck_assert_str_eq(pi.text, "garbage");

	pidfile_inspect(put("bin.pid", "\001x\tyz\n\n"), &pi);
	ck_assert_int_eq(pi.state, PIDFILE_INVALID);
	ck_assert_str_eq(pi.text, "?x?yz?");

	pidfile_inspect(put("long.pid", "0123456789012345678901234567890123456"
	    "789012345678901234567890123456789"), &pi);
	ck_assert_int_eq(pi.state, PIDFILE_INVALID);
	ck_assert_uint_eq(strlen(pi.text), sizeof(pi.text) - 1);

	pidfile_inspect(put("empty.pid", ""), &pi);
	ck_assert_int_eq(pi.state, PIDFILE_INVALID);
	ck_assert_str_eq(pi.text, "");
}
END_TEST

/*
 * Forks a child that names itself comm and waits; returns its pid once
 * the name is set.
 */
static pid_t
child_named(const char *comm)
{
	int fds[2];
	pid_t pid;
	char c = 0;

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		close(fds[0]);
		(void)prctl(PR_SET_NAME, comm, 0, 0, 0);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &c, 1), 1);
	close(fds[0]);
	return pid;
}

static void
child_end(pid_t pid)
{
	int st;

	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
}

START_TEST(test_inspect_processes)
{
	struct pidfile_info pi;
	const char *path;
	char line[32];
	pid_t pid;
	int i;

	pid = child_named("mtlslb");
	snprintf(line, sizeof(line), "%ld\n", (long)pid);
	path = put("m.pid", line);
	pidfile_inspect(path, &pi);
	ck_assert_int_eq(pi.state, PIDFILE_MASTER);
	ck_assert_int_eq(pi.pid, pid);
	ck_assert_str_eq(pi.comm, "mtlslb");
	/* killed but not reaped: a zombie is no master */
	kill(pid, SIGKILL);
	for (i = 0; i < 3000; i++) {
		pidfile_inspect(path, &pi);
		if (pi.state != PIDFILE_MASTER)
			break;
		usleep(10000);
	}
	ck_assert_int_eq(pi.state, PIDFILE_DEAD);
	child_end(pid);
	pidfile_inspect(path, &pi);
	ck_assert_int_eq(pi.state, PIDFILE_DEAD);
	ck_assert_int_eq(pi.pid, pid);

	pid = child_named("nginx");
	snprintf(line, sizeof(line), "%ld", (long)pid);
	pidfile_inspect(put("w.pid", line), &pi);
	ck_assert_int_eq(pi.state, PIDFILE_OTHER);
	ck_assert_str_eq(pi.comm, "nginx");
	child_end(pid);
}
END_TEST

START_TEST(test_remove)
{
	char path[PATH_MAX + 64], line[32];

	snprintf(path, sizeof(path), "%s/mtlslb.pid", dir);
	ck_assert_int_eq(pidfile_remove(path), 0);	/* none: fine */
	/* a newer master's file stays */
	put("mtlslb.pid", "1\n");
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	put("mtlslb.pid", "garbage");
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(path, F_OK), 0);
	/* ours goes */
	snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	put("mtlslb.pid", line);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(pidfile_write(path), 0);
	ck_assert_int_eq(pidfile_remove(path), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

static Suite *
pidfile_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_master_name);
	tcase_add_test(tc, test_default);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_inspect_files);
	tcase_add_test(tc, test_inspect_processes);
	tcase_add_test(tc, test_remove);
	suite_add_tcase(s, tc);
	return s;
}

const struct test_unit test_unit = { pidfile_suite, NULL, NULL };
