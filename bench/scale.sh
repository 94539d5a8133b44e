#!/bin/bash
# bench/scale.sh [BUILD_DIR] [SECONDS]: what a second worker costs and
# where the load goes. For workers = 1 and 2: keep-alive requests (ab -k
# -c 16) and full mTLS handshakes (ab -c 8), each for SECONDS (default 10),
# through mtlslb in front of the test backend (mutual TLS required, ECDSA
# P-256, TLS 1.3, access log off, keepalive_requests = 1000000). Prints per
# run the rate, the daemon's CPU time per request (all workers, from /proc)
# and each worker's share of it.
#
# On a machine with more cores than the daemon's workers plus the load
# generator and the backend, the rate itself shows the scaling. On the
# 2-core machines this project runs on, the load generator and the backend
# share the cores with the workers, so the rate cannot double; what the
# figures do show is whether a second worker adds CPU per request
# (contention on the shared memory: scheduler position, counters, session
# cache, health) and whether the kernel spreads connections evenly.
# BUILD_DIR defaults to _build/check.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$(cd "${1:-$top/_build/check}" && pwd)
SECS=${2:-10}
command -v ab >/dev/null || { echo "scale.sh: needs ab (apache2-utils)" >&2; exit 2; }
BENCH_NAME=scale
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
cat "$T/pki/client.crt" "$T/pki/client.key" >"$T/client.pem"
hz=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system ticks of each process, space-separated.
cpu_ticks() {
	local p f
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat"
		printf '%s ' $((f[13] + f[14]))
	done
}

# run LABEL AB-ARGS...: one ab run against the daemon; prints a table row.
run() {
	local label=$1 before after out n
	shift
	before=$(cpu_ticks "${workers[@]}")
	out=$(ab -q -r -s 30 -f TLS1.3 -E "$T/client.pem" -t "$SECS" \
	    -n 10000000 "$@" "https://127.0.0.1:$port/" 2>&1) || {
		echo "scale.sh: ab failed: $out" >&2
		exit 1
	}
	after=$(cpu_ticks "${workers[@]}")
	n=$(sed -n 's/^Complete requests: *//p' <<<"$out")
	grep -q '^Failed requests: *0$' <<<"$out" || {
		echo "scale.sh: $label: $(grep '^Failed' <<<"$out")" >&2
		exit 1
	}
	awk -v label="$label" -v w="${#workers[@]}" -v n="$n" -v hz="$hz" \
	    -v secs="$SECS" -v b="$before" -v a="$after" 'BEGIN {
		split(b, x, " "); split(a, y, " ")
		for (i = 1; i <= w; i++) { d[i] = y[i] - x[i]; t += d[i] }
		split_ = ""
		for (i = 1; i <= w; i++)
			split_ = split_ (i > 1 ? " / " : "") \
			    sprintf("%.0f%%", t ? 100 * d[i] / t : 0)
		printf "| %s | %d | %.0f | %.1f | %s |\n", label, w, n / secs,
		    t * 1e6 / hz / n, split_
	}'
}

echo "| run | workers | requests/s | daemon CPU µs/request | each worker's share of that CPU |"
echo "|---|---:|---:|---:|---|"
for w in 1 2; do
	port=$(free_port)
	bench_ini "$w" "$port" "keepalive_requests = 1000000"
	"$b/src/mtlslb" -c "$T/lb.ini" >"$T/lb.$w.out" 2>&1 &
	pids+=($!)
	wait_port "$port"
	for ((i = 0; i < 100; i++)); do
		mapfile -t workers < <(pgrep -P "${pids[-1]}")
		[ "${#workers[@]}" -lt "$w" ] || break
		sleep 0.1
	done
	# warm-up: sessions, caches, the backend pool
	ab -q -r -f TLS1.3 -E "$T/client.pem" -k -c 16 -n 20000 \
	    "https://127.0.0.1:$port/" >/dev/null 2>&1 || true
	run "keep-alive, ab -k -c 16" -k -c 16
	run "full handshake + request, ab -c 8" -c 8
	kill "${pids[-1]}"
	wait "${pids[-1]}" 2>/dev/null || true
	unset 'pids[-1]'
done
