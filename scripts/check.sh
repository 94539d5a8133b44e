#!/bin/sh
# The one test command: installs what is missing (Debian 12, as root),
# builds with warnings as errors, runs `make check` (unit + integration),
# then does the same again in an ASan/UBSan build, then the long checks:
# scripts/demo.sh --once, each libFuzzer target for 60 s, the 60 s soak,
# the core integration tests under valgrind, scripts/fleet.sh test
# (skipped, saying why, where network namespaces cannot be made), and one
# short run of the benchmark (bench/run.sh) to prove it still works.
# Usage: scripts/check.sh [--quick]   (--quick: make check only, no
# sanitizer build, no long checks: for the edit-compile-test loop)
#
# No silent skips: every test whose tools this script installs must run.
# With CI=true a test that skipped (exit 77) fails the run unless
# tests/skip-allowlist names it with the reason; without CI the skips are
# listed, saying they would fail there.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

quick=no
case ${1:-} in
--quick | --no-sanitizers) quick=yes ;;
"") ;;
*) echo "usage: scripts/check.sh [--quick]" >&2; exit 2 ;;
esac
sanitizers=yes
[ "$quick" = yes ] && sanitizers=no

mtlslb_top=$top
. "$top/scripts/deps.sh"
# shellcheck disable=SC2086 # a word list
mtlslb_install_deps $mtlslb_test_deps

jobs=$(nproc 2>/dev/null || echo 2)

# check_skips DIR: lists the tests of the build in DIR that skipped;
# false when CI=true and one of them is not on tests/skip-allowlist.
check_skips() {
	_bad=0
	for _trs in "$1"/tests/*/*.trs; do
		[ -f "$_trs" ] || continue
		grep -q '^:test-result: SKIP' "$_trs" || continue
		_name=$(basename "$_trs" .trs)
		_why=$(grep -m1 '^SKIP - ' "${_trs%.trs}.log" 2>/dev/null || true)
		_ok=$(awk -v n="$_name" '$1 == n { $1 = ""; sub(/^ +/, "");
		    print; exit }' "$top/tests/skip-allowlist" 2>/dev/null || true)
		if [ -n "$_ok" ]; then
			echo "check.sh: skipped $_name (allowed: $_ok): $_why"
		elif [ "${CI:-}" = true ]; then
			echo "check.sh: skipped $_name, not on tests/skip-allowlist" \
			    "(CI=true): $_why" >&2
			_bad=1
		else
			echo "check.sh: skipped $_name (fails with CI=true): $_why"
		fi
	done
	return "$_bad"
}

run_build() {
	dir=$1
	shift
	rm -rf "$dir"
	mtlslb_configure "$dir" --enable-werror "$@"
	make -C "$dir" -j"$jobs" >"$dir/build.log" 2>&1 || {
		cat "$dir/build.log" >&2
		return 1
	}
	# one test more than the CPUs: most of a test's time is waiting on
	# the daemon, its peers and their timeouts (ports are locked per test)
	if ! make -C "$dir" -j"$((jobs + 1))" check; then
		for f in "$dir"/tests/*/*.log "$dir"/tests/*.log; do
			[ -f "$f" ] || continue
			case $f in */build.log) continue ;; esac
			grep -q '^\(FAIL\|ERROR\)' "${f%.log}.trs" 2>/dev/null || continue
			echo "===== $f" >&2
			tail -n 80 "$f" >&2
		done
		return 1
	fi
	check_skips "$dir" || return 1
	# check's own summaries ("100%: Checks: N, Failures: 0, Errors: 0")
	for f in "$dir"/tests/unit/check_*.log; do
		[ -f "$f" ] || continue
		printf '%s: ' "$(basename "$f" .log)"
		grep -h 'Checks:' "$f" | tail -n 1
	done
}

# phase NAME: announces a phase and says how long the one before took, so
# a slow CI run shows where its minutes went.
start=$(date +%s)
last=$start
phase_name=
phase() {
	_now=$(date +%s)
	[ -z "$phase_name" ] || echo "check.sh: $phase_name: $((_now - last)) s"
	last=$_now
	phase_name=${1:-}
	[ -z "$phase_name" ] || echo "check.sh: $phase_name"
}

autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

phase "build and test (gcc, -Werror)"
run_build "$top/_build/check"

if [ "$sanitizers" = yes ]; then
	phase "build and test with ASan+UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    run_build "$top/_build/asan" --enable-sanitizers
fi
if [ "$quick" = no ]; then
	b="$top/_build/check"
	phase "the README's first command, scripts/demo.sh --once"
	"$top/scripts/demo.sh" --once
	phase "fuzzing, 60 s per target"
	# six targets, three at a time: two rounds of 60 s, not three
	FUZZ_JOBS=3 make -C "$b" fuzz FUZZ_SECONDS=60
	phase "soak, 60 s"
	make -C "$b" soak SOAK_SECONDS=60
	phase "core integration tests under valgrind"
	make -C "$b" valgrind
	# root with network namespaces: three instances behind HAProxy and
	# nftables (docs/SCALE-OUT.md); well under 2 minutes
	phase "fleet: scripts/fleet.sh test"
	if why=$(MTLSLB_BUILD=$b "$top/scripts/fleet.sh" can); then
		MTLSLB_BUILD=$b FLEET_DIR=$b/fleet FLEET_NS=mlbck \
		    "$top/scripts/fleet.sh" test
	else
		echo "check.sh: fleet test SKIPPED: $why"
	fi
	phase "the benchmark runs (bench/run.sh --seconds 2; no timing is checked)"
	bench_work=$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-bench.XXXXXX")
	BENCH_WORK=$bench_work BENCH_RESULTS=$bench_work/results \
	MTLSLB_BIN=$b/src/mtlslb "$top/bench/run.sh" --seconds 2 \
	    --proxy mtlslb --smoke --quiet-wait 0 --retries 0 >"$bench_work/table.md"
	grep -q '^| status | [^|]* | ok |$' "$bench_work/table.md" || {
		cat "$bench_work/table.md" >&2
		echo "check.sh: bench/run.sh did not run mtlslb" >&2
		exit 1
	}
	rm -rf "$bench_work"
fi
phase
echo "check.sh: all passed in $(($(date +%s) - start)) s"
