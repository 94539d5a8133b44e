#!/bin/sh
# valgrind.sh BUILDDIR [TEST...]: runs integration tests (default the core
# ones, 20-mtls, 30-proxy and the misbehaving backends of 31-bad-backend,
# one case per way a request can end) with the daemon under valgrind memcheck, one
# log per process (the master and its forked workers, which valgrind
# follows without --trace-children), then fails if any process reported an
# error or a definite/indirect/possible leak. Exit 0 clean, 1 not, 2 usage.
# Environment: VG_DIR (logs; default a temp dir, kept on failure),
# VALGRIND (valgrind).
set -eu
[ $# -ge 1 ] || { echo "usage: valgrind.sh BUILDDIR [TEST...]" >&2; exit 2; }
b=$(cd "$1" && pwd)
shift
top=$(cd "$(dirname "$0")/.." && pwd)
tests=${*:-20-mtls 30-proxy 31-bad-backend}
# Under valgrind every case costs seconds: one of each kind of ending.
BB_CASES=${BB_CASES:-'^(invalid-status|unsolicited-101|rst-after-post|close-mid-chunked|tunnel-close-as-filed|client-abort-499|whole-run-no-worker-death)$'}
export BB_CASES
command -v "${VALGRIND:-valgrind}" >/dev/null 2>&1 || {
	echo "valgrind.sh: valgrind not found" >&2
	exit 77
}
VG_DIR=${VG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-vg.XXXXXX")}
mkdir -p "$VG_DIR"
wrap="${VALGRIND:-valgrind} --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 --num-callers=30 --log-file=$VG_DIR/vg.%p.log"
rc=0
for t in $tests; do
	echo "valgrind.sh: $t"
	top_srcdir=$top top_builddir=$b MTLSLB_BIN=$b/src/mtlslb \
	    BACKEND_BIN=$b/tests/helpers/backend MTLSLB_WRAPPER=$wrap \
	    MTLSLB_START_TIMEOUT=60 CURL_TIMEOUT=30 \
	    bash "$top/tests/integration/$t.sh" || rc=1
done
n=$(find "$VG_DIR" -maxdepth 1 -name 'vg.*.log' | wc -l)
bad=$(grep -L 'ERROR SUMMARY: 0 errors' "$VG_DIR"/vg.*.log 2>/dev/null || true)
echo "valgrind.sh: $n process logs in $VG_DIR"
if [ -n "$bad" ]; then
	for f in $bad; do
		echo "---- $f"
		grep -E '^==[0-9]+== (Invalid|Conditional|Syscall|Mismatched|[0-9,]+ bytes in|   (at|by) 0x|ERROR SUMMARY)' "$f" | head -n 80
	done
	rc=1
fi
[ "$n" -gt 0 ] || { echo "valgrind.sh: no valgrind log written" >&2; rc=1; }
if [ "$rc" = 0 ] && [ -z "${KEEP:-}" ]; then
	case $VG_DIR in "${TMPDIR:-/tmp}"/mtlslb-vg.*) rm -rf "$VG_DIR" ;; esac
fi
exit "$rc"
