#!/bin/bash
# bench/bulk.sh [BUILD_DIR] [MIB]: CPU per MiB of a large download and a
# large upload through mtlslb and through nginx, each one worker in front
# of the same test backend (HTTP/1.1 keep-alive upstream), mutual TLS
# required, ECDSA P-256, TLS 1.3, access log off; curl with the client
# certificate moves MIB MiB (default 200) each way over HTTP/1.1. The
# figure is the proxy's user + system CPU time from /proc divided by the
# MiB moved, so other load changes it less than a rate would; the rate is
# printed too. BUILD_DIR defaults to _build/check. Prints a markdown table.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$(cd "${1:-$top/_build/check}" && pwd)
MIB=${2:-200}
NGINX=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
BENCH_NAME=bulk
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
pki=$T/pki
hz=$(getconf CLK_TCK)
bytes=$((MIB * 1048576))
head -c "$bytes" /dev/zero >"$T/up.bin"

ticks() {
	local f
	read -r -a f <"/proc/$1/stat"
	echo $((f[13] + f[14]))
}

# run NAME PORT PID: one download and one upload; prints a table row.
run() {
	local name=$1 port=$2 pid=$3 t0 t1 t2 down up a=()
	a=(-sS --http1.1 --cacert "$pki/root.crt" --cert "$pki/client.crt"
	    --key "$pki/client.key")
	curl "${a[@]}" -o /dev/null "https://127.0.0.1:$port/bytes/1048576"
	t0=$(ticks "$pid")
	down=$(curl "${a[@]}" -o /dev/null -w '%{speed_download}' \
	    "https://127.0.0.1:$port/bytes/$bytes")
	t1=$(ticks "$pid")
	up=$(curl "${a[@]}" -o /dev/null -w '%{speed_upload}' \
	    --data-binary "@$T/up.bin" "https://127.0.0.1:$port/upload")
	t2=$(ticks "$pid")
	awk -v n="$name" -v d=$((t1 - t0)) -v u=$((t2 - t1)) -v hz="$hz" \
	    -v m="$MIB" -v dr="$down" -v ur="$up" 'BEGIN {
		printf "| %s | %.2f | %.0f | %.2f | %.0f |\n", n,
		    d * 1000 / hz / m, dr / 1048576, u * 1000 / hz / m,
		    ur / 1048576 }'
}

port=$(free_port)
bench_ini 1 "$port" "keepalive_requests = 1000000"
"$b/src/mtlslb" -c "$T/lb.ini" >"$T/lb.out" 2>&1 &
pids+=($!)
wait_port "$port"
for ((i = 0; i < 50; i++)); do
	w=$(pgrep -P "${pids[-1]}" | head -n 1) && break
	sleep 0.1
done

nport=$(free_port)
bench_nginx "$nport" "" on "client_max_body_size 0;" \
    "proxy_request_buffering off;"

echo "| $MIB MiB over HTTP/1.1, one connection | download CPU ms/MiB | download MiB/s | upload CPU ms/MiB | upload MiB/s |"
echo "|---|---:|---:|---:|---:|"
run "mtlslb (1 worker)" "$port" "$w"
run "nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') (1 worker, request buffering off)" "$nport" "${pids[-1]}"
