#!/bin/bash
# bench/callgrind.sh [BUILD_DIR]: instructions the worker executes per
# keep-alive request (HTTP/1.1, and HTTP/2 one stream at a time), per full
# mTLS handshake + request and per resumed one, counted by valgrind's
# callgrind. Instruction counts do not depend on
# what else the machine is doing, so a regression shows on a busy machine
# where microseconds do not. Each figure is the difference between two runs
# of the daemon (N and 2N requests), so start-up and shutdown cancel out.
# One worker, health checks and the access log off, ECDSA P-256, TLS 1.3.
# BUILD_DIR defaults to _build/check (scripts/check.sh makes it). Prints a
# markdown table. Takes about 3 minutes.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$(cd "${1:-$top/_build/check}" && pwd)
command -v valgrind >/dev/null || { echo "callgrind.sh: needs valgrind" >&2; exit 2; }
BENCH_NAME=callgrind
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"

# worker_ir KIND N: runs the daemon under callgrind, drives N requests of
# KIND (ka: keep-alive on one connection; full: a full handshake each;
# resumed: a resumed handshake each, after one full), prints the worker's
# instruction total.
worker_ir() {
	local kind=$1 n=$2 port pid urls=() i a=() f best size
	port=$(free_port)
	bench_ini 1 "$port"
	rm -f "$T"/cg.*
	valgrind --tool=callgrind --callgrind-out-file="$T/cg.%p" \
	    "$b/src/mtlslb" -c "$T/lb.ini" >"$T/vg.out" 2>&1 &
	pid=$!
	pids+=("$pid")
	wait_port "$port"
	for ((i = 0; i < n; i++)); do
		urls+=("https://127.0.0.1:$port/")
	done
	a=(-sS --cacert "$T/pki/root.crt" --cert "$T/pki/client.crt"
	    --key "$T/pki/client.key")
	case $kind in
	ka) a+=(--http1.1) ;;
	h2) a+=(--http2) ;;
	full) a+=(--http1.1 --no-sessionid -H 'Connection: close') ;;
	resumed) a+=(--http1.1 -H 'Connection: close') ;;
	esac
	curl "${a[@]}" "${urls[@]}" >/dev/null || { echo "callgrind.sh: curl failed" >&2; exit 1; }
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	# the worker's file is the largest
	best=
	size=0
	for f in "$T"/cg.*; do
		if [ "$(stat -c %s "$f")" -gt "$size" ]; then
			size=$(stat -c %s "$f")
			best=$f
		fi
	done
	sed -n 's/^summary: //p;s/^totals: //p' "$best" | head -n 1
}

row() {
	local what=$1 kind=$2 n=$3 a b2
	a=$(worker_ir "$kind" "$n")
	b2=$(worker_ir "$kind" $((2 * n)))
	printf '| %s | %s |\n' "$what" "$(( (b2 - a) / n ))"
}

echo "| per ... (worker, callgrind) | instructions |"
echo "|---|---:|"
row "keep-alive request" ka 2000
row "HTTP/2 request, one stream at a time on one connection" h2 2000
row "full mTLS handshake + request" full 100
row "resumed handshake + request" resumed 100
