#!/bin/sh
# mutation-check.sh [NAME...]: breaks the daemon on purpose, one mutation
# at a time, and shows that the integration tests meant to guard each
# behaviour now fail. A mutation is tests/mutations/NAME.patch; the tests
# that must catch it are listed below. Everything happens in a throwaway
# copy of the working tree (WORK, default a new temp dir; give the same
# WORK again to reuse its builds), never in the checkout itself, and
# nothing is committed. Exit 0 when every mutation was caught by every
# test listed for it, 1 when one survived, 2 on a usage or build error.
#
# Environment: WORK (the copy), JOBS (make -j, default nproc).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-mutation.XXXXXX")}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# NAME BUILD TESTS: the build (plain or asan) and the tests that must fail.
mutations='
abort-on-bad-chunk plain 80-smuggling
sighup-ignored plain 52-reload-loop,53-logs
wrr-not-smooth plain 40-balance
segv-third-request plain 30-proxy,80-smuggling
worker-leak asan 30-proxy
session-dropped-on-cut plain 36-resumption
ticket-resumes-failed plain 37-tickets
backend-verify-ignored plain 42-backend-tls
proxy-from-ignored plain 39-proxy-protocol
sni-one-session-context plain 46-sni
sni-host-ignored plain 46-sni
retry-keeps-started plain 88-retry
pooled-failure-counts plain 88-retry
'

want=${*:-$(echo "$mutations" | awk 'NF { print $1 }')}
for n in $want; do
	[ -f "$top/tests/mutations/$n.patch" ] || {
		echo "mutation-check: no tests/mutations/$n.patch" >&2
		exit 2
	}
done

echo "mutation-check: copy of $top in $WORK"
mkdir -p "$WORK"
# The working tree as it is (mtimes kept, so a reused WORK rebuilds only
# what changed), without builds and git metadata.
tar -C "$top" --exclude=./_build --exclude=./.git -cf - . | tar -C "$WORK" -xf -
[ -x "$WORK/configure" ] || (cd "$WORK" && autoreconf -fi >/dev/null 2>&1)

build() {
	b=$WORK/_$1
	if [ ! -f "$b/Makefile" ]; then
		mkdir -p "$b"
		case $1 in
		asan) set -- --enable-sanitizers ;;
		*) set -- ;;
		esac
		(cd "$b" && "$WORK/configure" --enable-werror "$@" \
		    >configure.log 2>&1) || return 1
	fi
	make -C "$b" -j"$JOBS" src/mtlslb tests/helpers/backend \
	    >"$b/build.log" 2>&1
}

rc=0
for n in $want; do
	line=$(echo "$mutations" | awk -v n="$n" '$1 == n')
	kind=$(echo "$line" | awk '{ print $2 }')
	tests=$(echo "$line" | awk '{ print $3 }' | tr ',' ' ')
	b=$WORK/_$kind
	echo "mutation-check: $n ($kind build): must fail $tests"
	patch -s -d "$WORK" -p1 <"$top/tests/mutations/$n.patch"
	if ! build "$kind"; then
		tail -n 30 "$b/build.log" >&2
		patch -s -R -d "$WORK" -p1 <"$top/tests/mutations/$n.patch"
		exit 2
	fi
	for t in $tests; do
		log=$WORK/$n.$t.log
		r=0
		top_srcdir=$WORK top_builddir=$b MTLSLB_BIN=$b/src/mtlslb \
		    BACKEND_BIN=$b/tests/helpers/backend \
		    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    bash "$WORK/tests/integration/$t.sh" >"$log" 2>&1 || r=$?
		why=$(grep -m1 -E '^(FAIL|ERROR|SKIP) - ' "$log" || true)
		case $r in
		0) echo "  SURVIVED $t (exit 0): $log"; rc=1 ;;
		77 | 99) echo "  NOT RUN $t (exit $r): $why"; rc=1 ;;
		*) echo "  caught by $t (exit $r): $why"
		   # what the exit check found, if anything (3 lines)
		   awk '/the daemon was not healthy/ { on = 1; next }
		       on && /^---- / { exit }
		       on && n++ < 3 { print "      " $0 }' "$log" ;;
		esac
	done
	patch -s -R -d "$WORK" -p1 <"$top/tests/mutations/$n.patch"
done
[ "$rc" = 0 ] && echo "mutation-check: every mutation was caught" ||
    echo "mutation-check: some mutation survived (logs in $WORK)"
exit "$rc"
