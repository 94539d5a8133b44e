/*
 * proctitle: overwrites the process's argv area, which the kernel shows
 * as /proc/PID/cmdline (and so ps(1)), after moving argv and environ out
 * of it. Never touches anything but
 * the area it was given and the copies it made.
 *
 * The kernel gives argv and the environment strings one contiguous block
 * at the top of the stack. A title longer than the original command line
 * runs on into the environment strings: the kernel then shows cmdline up
 * to the first NUL (fs/proc/base.c, get_mm_proctitle), so the title ends
 * with a NUL and the rest of the block is zeroed, as nginx does.
 */
#include "ac_config.h"
#include "proctitle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "util.h"

extern char **environ;

/*
 * Process-wide by nature: there is one argv area. Written once by
 * proctitle_init() before any fork; each process then writes its own
 * copy of the area (fork() copies it).
 */
static struct {
	char *area;		/* argv[0]: where the title goes */
	size_t len;		/* bytes up to the end of the block */
	/*
	 * The copies, held here too, so that leak checkers (and a setenv()
	 * that replaces environ) never take them for lost.
	 */
	char *strings;
	char **env;
} P;

/* The end of the contiguous block of strings that starts at end. */
static char *
extend(char *end, char **strs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strs[i] == end)
			end = strs[i] + strlen(strs[i]) + 1;
	return end;
}

void
proctitle_init(int argc, char **argv)
{
	char **env, *start, *end, *copy;
	size_t envc, i, total = 0, len;

	if (argc < 1 || argv[0] == NULL || P.area != NULL)
		return;
	for (envc = 0; environ[envc] != NULL; envc++)
		total += strlen(environ[envc]) + 1;
	for (i = 0; i < (size_t)argc; i++)
		total += strlen(argv[i]) + 1;
	start = argv[0];
	end = extend(start, argv, (size_t)argc);
	end = extend(end, environ, envc);

	/*
	 * One block for every string and one array for environ. Both are
	 * never freed: argv[] and environ point into them until exit.
	 */
	P.strings = copy = xmalloc(total);
	P.env = env = xcalloc(envc + 1, sizeof(*env));
	for (i = 0; i < (size_t)argc; i++) {
		len = strlen(argv[i]) + 1;
		memcpy(copy, argv[i], len);
		argv[i] = copy;
		copy += len;
	}
	for (i = 0; i < envc; i++) {
		len = strlen(environ[i]) + 1;
		memcpy(copy, environ[i], len);
		env[i] = copy;
		copy += len;
	}
#ifdef __GLIBC__
	/* glibc's messages (assert(), err()) name the program through these */
	program_invocation_name = argv[0];
	if ((program_invocation_short_name = strrchr(argv[0], '/')) != NULL)
		program_invocation_short_name++;
	else
		program_invocation_short_name = argv[0];
#endif
	/*
	 * The short name stays "mtlslb" even when a wrapper (valgrind)
	 * started us, so pidof, pgrep -x and -s's check find the master.
	 */
	(void)prctl(PR_SET_NAME, "mtlslb", 0, 0, 0);
	environ = env;
	P.area = start;
	P.len = (size_t)(end - start);
}

void
proctitle_set(const char *fmt, ...)
{
	va_list ap;
	size_t used;
	int n;

	if (P.area == NULL || P.len < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(P.area, P.len, fmt, ap);
	va_end(ap);
	used = n < 0 ? 0 : (size_t)n + 1 < P.len ? (size_t)n + 1 : P.len;
	memset(P.area + used, 0, P.len - used);
}
