#!/bin/bash
# bench/idlemem.sh [N...] [-- BUILD_DIR]: what an idle mTLS connection
# costs the worker: holds N handshaken, idle connections (ECDSA P-256,
# TLS 1.3, mutual TLS, one worker, the default shared session cache) and
# prints the worker's Rss and Pss growth per connection, from
# /proc/PID/smaps_rollup. Memory does not depend on the machine's load.
# Default N: 1000 10000. MASSIF=FILE runs the daemon under valgrind's
# massif instead (one N), to see where the bytes are.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ns=()
while [ $# -gt 0 ]; do
	case $1 in
	--) shift; break ;;
	*) ns+=("$1"); shift ;;
	esac
done
[ ${#ns[@]} -gt 0 ] || ns=(1000 10000)
b=$(cd "${1:-$top/_build/check}" && pwd)
BENCH_NAME=idlemem
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# rollup PID FIELD: a field of smaps_rollup, in KiB
rollup() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"
}

printf '| idle connections | worker Rss KiB/conn | worker Pss KiB/conn |\n'
printf '|---:|---:|---:|\n'
for n in "${ns[@]}"; do
	port=$(free_port)
	bench_ini 1 "$port" "max_connections = $((n + 100))" \
	    "session_cache_size = $((n + 100))"
	if [ -n "${MASSIF:-}" ]; then
		valgrind --tool=massif --detailed-freq=1 --massif-out-file="$MASSIF.%p" \
		    "$b/src/mtlslb" -c "$T/lb.ini" >"$T/lb.out" 2>&1 &
	else
		"$b/src/mtlslb" -c "$T/lb.ini" >"$T/lb.out" 2>&1 &
	fi
	mpid=$!
	pids+=("$mpid")
	wait_port "$port"
	wpid=$(pgrep -P "$mpid" | head -n 1)
	# one warm-up connection and request, so lazy start-up allocations
	# (the first handshake's tables) are not counted per connection
	curl -sS --cacert "$T/pki/root.crt" --cert "$T/pki/client.crt" \
	    --key "$T/pki/client.key" "https://127.0.0.1:$port/" >/dev/null
	r0=$(rollup "$wpid" Rss); p0=$(rollup "$wpid" Pss)
	rm -f "$T/ready" "$T/release"
	python3 "$top/bench/lib/holdconns.py" --port "$port" --n "$n" \
	    --server-name localhost --cert "$T/pki/client.crt" \
	    --key "$T/pki/client.key" --ca "$T/pki/root.crt" --tls 1.3 \
	    --ready "$T/ready" --release "$T/release" --max-hold 120 \
	    --open-timeout 300 &
	hpid=$!
	pids+=("$hpid")
	for ((i = 0; i < 3000; i++)); do
		[ -f "$T/ready" ] && break
		sleep 0.1
	done
	[ -f "$T/ready" ] || { echo "idlemem.sh: connections not held" >&2; exit 1; }
	sleep 1
	r1=$(rollup "$wpid" Rss); p1=$(rollup "$wpid" Pss)
	alive=$(sed -n 's/.*alive=\([0-9]*\).*/\1/p' "$T/ready")
	touch "$T/release"
	wait "$hpid" || true
	kill "$mpid"
	wait "$mpid" 2>/dev/null || true
	awk -v n="$alive" -v r="$((r1 - r0))" -v p="$((p1 - p0))" \
	    'BEGIN { printf "| %d | %.1f | %.1f |\n", n, r / n, p / n }'
done
