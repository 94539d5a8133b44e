#!/bin/bash
# bench/h2.sh [BUILD_DIR] [N]: CPU per request over HTTP/2 with 100
# concurrent streams on one client connection (h2load -c 1 -m 100), for
# mtlslb and for nginx ("listen ... ssl http2", nginx 1.22's spelling of
# "http2 on"), both as one worker in front of the same test backend with
# HTTP/1.1 keep-alive upstream, the access log off, ECDSA P-256, TLS 1.3.
# h2load has no client-certificate option, so both verify an optional
# client certificate (the handshake is one per run; the cost measured is
# per stream). The figure is the proxy's user + system CPU time (from
# /proc) divided by N (default 100000), so other load on the machine
# changes it less than a rate would; it still varies by some percent.
# BUILD_DIR defaults to _build/check. Prints a markdown table.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
b=$(cd "${1:-$top/_build/check}" && pwd)
N=${2:-100000}
command -v h2load >/dev/null || { echo "h2.sh: needs h2load (nghttp2-client)" >&2; exit 2; }
NGINX=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
BENCH_NAME=h2
# shellcheck source=bench/lib.sh
. "$top/bench/lib.sh"
bport=$BACKEND_PORT
pki=$T/pki
hz=$(getconf CLK_TCK)

# cpu_ticks PID...: user + system ticks of the processes.
cpu_ticks() {
	local p s=0 f
	for p in "$@"; do
		read -r -a f <"/proc/$p/stat"
		s=$((s + f[13] + f[14]))
	done
	echo "$s"
}

# run NAME PORT PIDS...: h2load against the proxy; prints µs CPU per request.
run() {
	local name=$1 port=$2 before after out
	shift 2
	# warm up: connections, caches
	h2load -n 2000 -c 1 -m 100 "https://127.0.0.1:$port/" >/dev/null 2>&1 || true
	before=$(cpu_ticks "$@")
	out=$(h2load -n "$N" -c 1 -m 100 "https://127.0.0.1:$port/" 2>&1)
	after=$(cpu_ticks "$@")
	echo "$out" >"$T/$name.h2load"
	grep -q "^requests: $N total, $N started, $N done, $N succeeded, 0 failed" \
	    <<<"$out" || { echo "h2.sh: $name: $(grep '^requests' <<<"$out")" >&2; exit 1; }
	awk -v t=$((after - before)) -v hz="$hz" -v n="$N" \
	    'BEGIN { printf "%.1f\n", t * 1e6 / hz / n }'
}

# --- mtlslb --------------------------------------------------------------------
port=$(free_port)
cat >"$T/lb.ini" <<EOF2
[global]
workers = 1
log_level = error
access_log = off
[listener https]
bind = 127.0.0.1:$port
server_certificate = $pki/server.crt
server_private_key = $pki/server.key
ca_certificate = $pki/root.crt
mutual_authentication = optional
keepalive_requests = 1000000
server_group = default
[server_group default]
server = ECS01 127.0.0.1:$bport
health_check = off
EOF2
"$b/src/mtlslb" -c "$T/lb.ini" >"$T/lb.out" 2>&1 &
pids+=($!)
wait_port "$port"
w=$(pgrep -P "${pids[-1]}" | head -n 1)
m_us=$(run mtlslb "$port" "$w")

# --- nginx ---------------------------------------------------------------------
nport=$(free_port)
bench_nginx "$nport" " http2" optional "keepalive_requests 1000000;"
n_us=$(run nginx "$nport" "${pids[-1]}")

echo "| HTTP/2, 100 streams on one connection, $N requests | CPU µs/request |"
echo "|---|---:|"
echo "| mtlslb (1 worker) | $m_us |"
echo "| nginx $("$NGINX" -v 2>&1 | sed 's|.*/||') (1 worker, http2) | $n_us |"
awk -v m="$m_us" -v n="$n_us" 'BEGIN { if (n > 0) printf "| ratio mtlslb / nginx | %.2f |\n", m / n }'
