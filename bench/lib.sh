# bench/lib.sh: what bench/callgrind.sh and scripts/bench-resume.sh share.
# Source it with BENCH_NAME set and $top the source tree, $b the build:
# builds the daemon and the test backend, makes $T with a test PKI in
# $T/pki, starts the backend on $BACKEND_PORT, and stops what pids holds
# (by PID) and removes $T at exit.
# shellcheck shell=bash
make -C "$b" -s src/mtlslb tests/helpers/backend >/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-$BENCH_NAME.XXXXXX")
pids=()
bench_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap bench_cleanup EXIT
sh "$top/tests/pki/mkpki.sh" "$T/pki" >/dev/null

# free_port: a port nothing listens on, below the ephemeral range.
free_port() {
	local p
	for p in $(shuf -i 20000-30000 -n 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
	echo "$BENCH_NAME: no free port" >&2
	exit 1
}

# wait_port PORT: until something accepts on it (60 s at most).
wait_port() {
	local i
	for ((i = 0; i < 600; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$BENCH_NAME: nothing on port $1" >&2
	exit 1
}

BACKEND_PORT=$(free_port)
"$b/tests/helpers/backend" --listen "127.0.0.1:$BACKEND_PORT" --name ECS01 \
    >"$T/backend.out" 2>&1 &
pids+=($!)
wait_port "$BACKEND_PORT"
