#!/bin/bash
# bench-resume.sh [BUILD_DIR] [SECONDS]: CPU of mtlslb per mTLS connection
# with one request, full handshake against resumed session, with
# `workers = 2` and `session_cache = shared` (then `worker` for
# comparison). Clients: `openssl s_time -new` and `-reuse` fetching `/`
# (one connection at a time). The CPU is the master's and workers'
# utime + stime from /proc, so the load generator does not count; the
# access log is off (as in ../shared/bench) and the counts and the hit
# rate come from /metrics (mtlslb_tls_handshakes_total{resumed}). A
# benchmark, not a test: nothing here asserts a time.
# BUILD_DIR defaults to _build/check (made by scripts/check.sh); SECONDS to 10.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=${1:-$top/_build/check}
secs=${2:-10}
b=$(cd "$b" && pwd)
BENCH_NAME=bench-resume
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
# cpu_ticks PID: utime + stime of PID and its children (clock ticks).
cpu_ticks() {
	local p sum=0 f
	for p in "$1" $(pgrep -P "$1" || true); do
		f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
		sum=$((sum + ${f% *} + ${f#* }))
	done
	echo "$sum"
}

hz=$(getconf CLK_TCK)

# handshakes ADMIN_PORT true|false: the listener's handshake count.
handshakes() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v r="$2" '
	    $1 == "mtlslb_tls_handshakes_total{listener=\"https\",resumed=\"" r "\"}" {
		print $2 }'
}

# run MODE: prints one table row per client kind.
run() {
	local mode=$1 port aport kind t0 t1 n hits f0 r0 pid
	port=$(free_port)
	aport=$(free_port)
	bench_ini 2 "$port" "session_cache = $mode"
	printf '[admin]\nbind = 127.0.0.1:%s\n' "$aport" >>"$T/lb.ini"
	"$b/src/mtlslb" -c "$T/lb.ini" &
	pid=$!
	pids+=("$pid")
	wait_port "$port"
	wait_port "$aport"
	for kind in new reuse; do
		f0=$(handshakes "$aport" false)
		r0=$(handshakes "$aport" true)
		t0=$(cpu_ticks "$pid")
		openssl s_time -connect "127.0.0.1:$port" -"$kind" -time "$secs" \
		    -www / -cert "$T/pki/client.crt" -key "$T/pki/client.key" \
		    -CAfile "$T/pki/root.crt" >"$T/stime.$kind" 2>&1 || true
		t1=$(cpu_ticks "$pid")
		hits=$(($(handshakes "$aport" true) - r0))
		n=$((hits + $(handshakes "$aport" false) - f0))
		[ "$n" -gt 0 ] || { echo "bench-resume: no requests" >&2; exit 1; }
		awk -v m="$mode" -v k="$kind" -v n="$n" -v h="$hits" \
		    -v t="$((t1 - t0))" -v hz="$hz" 'BEGIN {
			printf "| %s | %s | %d | %.0f%% | %.0f |\n", m, k, n,
			    100 * h / n, t * 1e6 / hz / n }'
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

echo "| session_cache | s_time | connections | resumed | mtlslb CPU µs per connection |"
echo "|---|---|---:|---:|---:|"
run shared
run worker
