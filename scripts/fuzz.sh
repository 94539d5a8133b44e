#!/bin/sh
# fuzz.sh [SECONDS] [TARGET...]: builds the libFuzzer targets of tests/fuzz/
# with clang (-fsanitize=fuzzer,address,undefined) straight from the
# sources, then runs each for SECONDS (default 60) from its seed corpus
# tests/fuzz/corpus/NAME (read only; new inputs go to the work dir). Exits 0 when no target crashed, 1 when one did (the reproducer is
# kept and named in the output), 77 when clang or libFuzzer is missing, 2 on
# bad usage. Bounded: every run has -max_total_time plus a hard timeout.
#
# Environment: CC (clang), FUZZ_DIR (work dir; default a temp dir that is
# removed unless something crashed), FUZZ_ARGS (extra libFuzzer flags),
# FUZZ_JOBS (targets run at once; default the CPU count), KEEP=1 (keep
# FUZZ_DIR).
# Targets: http_request http_response http_chunked config proxyproto h2.
#
# Reproduce a crash: $FUZZ_DIR/bin/fuzz_NAME CRASH-FILE; then add the
# input to tests/fuzz/corpus/NAME/ as a regression seed.
set -eu

prog=fuzz.sh
secs=${1:-60}
case $secs in
'' | *[!0-9]*) echo "usage: $prog [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
[ $# -gt 0 ] && shift
targets=${*:-http_request http_response http_chunked config proxyproto h2}

top=$(cd "$(dirname "$0")/.." && pwd)
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || {
	echo "$prog: $CC not found (need clang with libFuzzer)" >&2
	exit 77
}
command -v pkg-config >/dev/null 2>&1 || {
	echo "$prog: pkg-config not found" >&2
	exit 77
}

own_dir=no
if [ -z "${FUZZ_DIR:-}" ]; then
	FUZZ_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-fuzz.XXXXXX")
	own_dir=yes
fi
mkdir -p "$FUZZ_DIR/bin" "$FUZZ_DIR/inc"
crashed=no
cleanup() {
	if [ "$own_dir" = yes ] && [ "$crashed" = no ] &&
	    [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$FUZZ_DIR"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# What configure would put in ac_config.h for these sources.
cat >"$FUZZ_DIR/inc/ac_config.h" <<'H'
#define _GNU_SOURCE 1
#define PACKAGE "mtlslb"
#define PACKAGE_VERSION "fuzz"
#define SYSCONFDIR "/etc"
H

san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer $san -I$FUZZ_DIR/inc \
    -I$top/src"
ev=$(pkg-config --cflags --libs libevent_core 2>/dev/null) || ev=-levent_core
h2cflags=$(pkg-config --cflags libnghttp2 libevent_core libevent_openssl \
    libssl inih 2>/dev/null) || h2cflags=
h2=$(pkg-config --cflags --libs libnghttp2 libevent_core libevent_openssl \
    libevent_pthreads libevent_extra libssl libcrypto inih 2>/dev/null) ||
    h2="-lnghttp2 -levent_core -levent_openssl -levent_pthreads -levent_extra \
    -lssl -lcrypto -linih"

build() {
	name=$1
	shift
	# shellcheck disable=SC2086 # flag lists
	if ! $CC $cflags -o "$FUZZ_DIR/bin/fuzz_$name" \
	    "$top/tests/fuzz/fuzz_$name.c" "$@" >"$FUZZ_DIR/build-$name.log" \
	    2>&1; then
		cat "$FUZZ_DIR/build-$name.log" >&2
		if grep -q 'fuzzer' "$FUZZ_DIR/build-$name.log"; then
			echo "$prog: cannot link libFuzzer with $CC" >&2
			exit 77
		fi
		echo "$prog: building fuzz_$name failed" >&2
		exit 1
	fi
}

# The daemon but main.c, compiled once into an archive for the targets
# that need more than a module or two (the linker takes what they use).
daemon_lib() {
	[ -f "$FUZZ_DIR/libmtlslb.a" ] && return 0
	mkdir -p "$FUZZ_DIR/obj"
	for f in "$top"/src/*.c; do
		case $f in */main.c) continue ;; esac
		o=$FUZZ_DIR/obj/$(basename "$f" .c).o
		# shellcheck disable=SC2086 # flag lists
		if ! $CC $cflags $h2cflags -c -o "$o" "$f" \
		    >>"$FUZZ_DIR/build-lib.log" 2>&1; then
			cat "$FUZZ_DIR/build-lib.log" >&2
			echo "$prog: building $f failed" >&2
			exit 1
		fi
	done
	ar rcs "$FUZZ_DIR/libmtlslb.a" "$FUZZ_DIR"/obj/*.o
}

for t in $targets; do
	case $t in
	http_request | http_response | http_chunked)
		# shellcheck disable=SC2086
		build "$t" "$top/src/http_fields.c" \
		    "$top/src/http_parse.c" "$top/src/http_write.c" $ev ;;
	config)
		daemon_lib
		# shellcheck disable=SC2086 # flag lists
		build "$t" "$FUZZ_DIR/libmtlslb.a" $h2 -lpthread ;;
	proxyproto)
		build "$t" "$top/src/proxyproto.c" ;;
	h2)
		# the whole daemon but main.c: the session runs as in a worker
		daemon_lib
		# shellcheck disable=SC2086 # flag lists
		build "$t" "$FUZZ_DIR/libmtlslb.a" $h2 -lpthread ;;
	*) echo "$prog: unknown target '$t'" >&2; exit 2 ;;
	esac
done

# The hard limit: libFuzzer stops at -max_total_time; this catches a hang
# in its own shutdown or a stuck input (-timeout covers one input).
hard=$((secs + 60))
tmo=
command -v timeout >/dev/null 2>&1 && tmo="timeout -s KILL $hard"

# run_one TARGET: one bounded libFuzzer run; its exit status in rc-TARGET.
run_one() {
	t=$1
	work=$FUZZ_DIR/corpus-$t
	mkdir -p "$work" "$FUZZ_DIR/artifacts-$t"
	case $t in
	http_*) dict=$top/tests/fuzz/http.dict ;;
	h2) dict=$top/tests/fuzz/h2.dict ;;
	*) dict=$top/tests/fuzz/$t.dict ;;
	esac
	if [ -f "$dict" ]; then dict="-dict=$dict"; else dict=; fi
	rc=0
	# shellcheck disable=SC2086
	$tmo "$FUZZ_DIR/bin/fuzz_$t" -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
	    -artifact_prefix="$FUZZ_DIR/artifacts-$t/" $dict \
	    ${FUZZ_ARGS:-} "$work" "$top/tests/fuzz/corpus/$t" \
	    >"$FUZZ_DIR/run-$t.log" 2>&1 || rc=$?
	echo "$rc" >"$FUZZ_DIR/rc-$t"
}

# Targets run side by side, FUZZ_JOBS (default: the CPU count) at a time;
# each still gets its full SECONDS of wall-clock time.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
case $jobs in '' | *[!0-9]* | 0) jobs=1 ;; esac
batch=
n=0
for t in $targets; do
	echo "$prog: fuzz_$t for ${secs}s"
	run_one "$t" &
	batch="$batch $!"
	n=$((n + 1))
	if [ "$n" -ge "$jobs" ]; then
		# shellcheck disable=SC2086 # a PID list
		wait $batch
		batch=
		n=0
	fi
done
# shellcheck disable=SC2086
[ -z "$batch" ] || wait $batch

for t in $targets; do
	rc=$(cat "$FUZZ_DIR/rc-$t" 2>/dev/null || echo 1)
	grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' \
	    "$FUZZ_DIR/run-$t.log" | sed "s/^/  $t: /" || true
	if [ "$rc" -ne 0 ]; then
		crashed=yes
		tail -n 60 "$FUZZ_DIR/run-$t.log" >&2
		echo "$prog: fuzz_$t failed (exit $rc); reproducers:" >&2
		ls "$FUZZ_DIR/artifacts-$t" >&2 || true
		echo "$prog: kept $FUZZ_DIR" >&2
	fi
done
[ "$crashed" = no ] || exit 1
echo "$prog: no crash in ${secs}s per target"
