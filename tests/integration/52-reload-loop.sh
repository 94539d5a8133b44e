#!/bin/bash
# 52-reload-loop: ten SIGHUPs, 0.3 s apart, while four clients send
# requests back to back (new connections and keep-alive ones): not one
# request may fail, and every reload must be logged as done. Clients 1
# and 2 speak HTTP/1.1, 3 and 4 HTTP/2.
#
# Found by it: a stopping worker used to close connections still in the
# handshake and fresh ones that never sent a request (curl exit 35/52/55
# at every reload); now it closes only idle keep-alive connections.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
BE2_PORT=$(free_port)
start_backend ECS02 "$BE2_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT
server = ECS02 127.0.0.1:$BE2_PORT"
WORKERS=2 std_config "$T/lb.ini"
sed -i 's/^access_log = stderr/access_log = off/' "$T/lb.ini"
start_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /)"

# client N: requests until $T/stop exists (at most 2000), one line per
# request "HTTP_CODE CURL_EXIT"; odd clients reuse one connection for 5.
client() {
	local n=$1 i out rc
	local urls=() k per=1 proto=--http1.1
	[ $((n % 2)) = 1 ] && per=5
	# clients 3 and 4 speak HTTP/2: a stopping worker's two-phase
	# GOAWAY must not refuse a stream they send across it
	[ "$n" -gt 2 ] && proto=--http2
	for ((k = 0; k < per; k++)); do
		urls+=(-o /dev/null "$(lb_url "/?c$n")")
	done
	for ((i = 0; i < 2000; i++)); do
		[ -e "$T/stop" ] && break
		rc=0
		out=$(curl -sS "$proto" --max-time 10 --cacert "$PKI/root.crt" \
		    --cert "$PKI/client.crt" --key "$PKI/client.key" \
		    -w '%{http_code}\n' "${urls[@]}" \
		    2>>"$T/client$n.err") || rc=$?
		while read -r code; do
			echo "$code $rc"
		done <<<"$out"
		[ -n "$out" ] || echo "000 $rc"
	done >"$T/client$n.out"
}

pids=()
for n in 1 2 3 4; do
	client "$n" &
	pids+=("$!")
	t_track "$!" "client $n" "$T/client$n.err"
done
sleep 0.5
log_mark
# Each SIGHUP is sent once the master has taken the previous one
# ("reloading" logged): two signals pending at once would merge into one.
for ((r = 0; r < 10; r++)); do
	kill -HUP "$MTLSLB_PID"
	for ((i = 0; i < 300; i++)); do
		n=$(mtlslb_log_since | grep -c '\] master: reloading ') || true
		[ "$n" -gt "$r" ] && break
		pid_alive "$MTLSLB_PID" || break
		sleep 0.1
	done
	[ "$n" -gt "$r" ] || fail "SIGHUP $((r + 1)): no 'reloading' line in 30 s"
	sleep 0.3
done
for ((i = 0; i < 300; i++)); do
	done_n=$(mtlslb_log_since | grep -c 'configuration reloaded') || true
	[ "$done_n" -ge 10 ] && break
	mtlslb_log_since | grep -q 'reload failed' && break
	sleep 0.1
done
sleep 1
touch "$T/stop"
for p in "${pids[@]}"; do
	wait "$p" || true
	t_untrack "$p"
done
if mtlslb_log_since | grep -q 'reload failed'; then
	fail "a reload failed: $(mtlslb_log_since | grep -m1 'reload failed')"
fi
[ "$done_n" = 10 ] ||
    fail "10 SIGHUPs but $done_n 'configuration reloaded' lines"
total=$(cat "$T"/client*.out | wc -l)
bad=$(cat "$T"/client*.out | grep -vc '^200 0$') || true
[ "$total" -ge 50 ] || harness_error "only $total requests were made"
if [ "$bad" != 0 ]; then
	cat "$T"/client*.out | grep -v '^200 0$' | sort | uniq -c >&2
	head -n 5 "$T"/client*.err >&2
	fail "$bad of $total requests failed during 10 reloads"
fi
pass "10 reloads under load: $total requests, 0 failed ($done_n logged)"
pid_alive "$MTLSLB_PID" || fail "the daemon died"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
