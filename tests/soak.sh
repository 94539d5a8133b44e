#!/bin/bash
# soak.sh [DURATION]: mtlslb under mixed traffic and faults for DURATION
# seconds (default 60; 10..3600). Not part of make check.
#
# Two helper backends (ECS01, ECS02), health_check = on with short
# intervals. Concurrent client loops: valid client certificate (keep-alive
# GETs and POSTs, half of the loops over HTTP/2), no certificate, a certificate from another CA, an
# expired one, requests aborted mid-body, and slow readers. Meanwhile this
# script restarts ECS02 every RESTART_EVERY (3) seconds and sends SIGHUP to
# the mtlslb master every HUP_EVERY (4) seconds (0: never).
#
# At the end it asserts: every valid request succeeded (a connect refused
# by ECS02 is retried on ECS01 by mtlslb), every invalid client got its
# 400, the daemon's RSS and open-fd count (master and workers) are within
# 10% of the start after a settle period, the process count is back, and
# no error-level log line is unexpected. It prints the figures, and each
# failed request with its reason.
#
# Environment: as tests/integration/lib.sh (MTLSLB_BIN, BACKEND_BIN,
# top_srcdir, top_builddir, T_KEEP=1, MTLSLB_WRAPPER), VALID_LOOPS (4),
# SETTLE (8 s), WARMUP (10 s of traffic before the baseline). Exit 0 pass, 1 fail, 77 skip, 99 harness error. Everything
# it starts is stopped by PID.
T_NAME=soak
. "${top_srcdir:-$(dirname "$0")/..}/tests/integration/lib.sh"

DURATION=${1:-60}
case $DURATION in
'' | *[!0-9]*) echo "usage: soak.sh [DURATION]" >&2; exit 2 ;;
esac
if [ "$DURATION" -lt 10 ] || [ "$DURATION" -gt 3600 ]; then
	echo "soak.sh: DURATION must be 10..3600" >&2
	exit 2
fi
RESTART_EVERY=${RESTART_EVERY:-3}
HUP_EVERY=${HUP_EVERY:-4}
VALID_LOOPS=${VALID_LOOPS:-4}
SETTLE=${SETTLE:-8}
WARMUP=${WARMUP:-10}

need_cmd python3
need_mtlslb
# ECS02's restarts would fill a failure's output with request logs; the
# report below prints what matters
T_DUMP_LINES=${T_DUMP_LINES:-8}
t_setup
mkpki
RAWTLS="python3 $top_srcdir/tests/helpers/rawtls.py"

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
WORKERS=2
HEALTH_CHECK=on
# 1 s probes with a long timeout: a refused ECS02 is found at once, and a
# probe or connect slowed by a busy machine never takes a healthy server
# out (a dropped SYN is sent again after 1 s: a 1 s connect_timeout would
# race it).
GROUP_EXTRA="health_check_interval = 1s
health_check_timeout = 5s
healthy_threshold = 1
unhealthy_threshold = 1
connect_timeout = 5s
idle_connection_timeout = 2s"
GLOBAL_EXTRA="shutdown_timeout = 10s"
# A small session cache fills during the warm-up: the default (1024 per
# worker, about 8 KiB each with the client certificate) keeps growing the
# RSS for minutes and would hide a leak or fake one.
LISTENER_EXTRA=${SOAK_LISTENER_EXTRA:-session_cache_size = 64}
std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"

# tree_pids: the master and its descendants.
tree_pids() {
	echo "$MTLSLB_PID"
	proc_descendants "$MTLSLB_PID"
}

# fd_count: open fds of the master and all its descendants.
fd_count() {
	local p n=0 k
	for p in $(tree_pids); do
		k=$(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null |
		    wc -l) || k=0
		n=$((n + k))
	done
	echo "$n"
}

# proc_count: how many processes the daemon has.
proc_count() {
	tree_pids | wc -l
}

# ------------------------------------------------------------ client loops

STOP=$T/stop
END_BY=$((SECONDS + DURATION + ${WARMUP:-10} + 60))	# hard bound for every loop

# One line per request in $T/res.KIND.N: "ok", or "FAIL reason".
loop_valid() {
	local n=$1
	local out=$T/res.valid.$n i=0 codes c rc
	while [ ! -e "$STOP" ] && [ "$SECONDS" -lt "$END_BY" ]; do
		i=$((i + 1))
		rc=0
		codes=$(curl_mtls "$(lb_url "/?v=$n.$i.a")" -o /dev/null \
		    -w '%{http_code} ' "$(lb_url "/?v=$n.$i.b")" -o /dev/null \
		    "$(lb_url "/?v=$n.$i.c")" -o /dev/null \
		    2>>"$T/err.valid.$n") || rc=$?
		for c in $codes; do
			if [ "$c" = 200 ]; then
				echo ok
			else
				echo "FAIL GET /?v=$n.$i.*: HTTP $c curl $rc at $(date +%T.%N)"
			fi
		done >>"$out"
		[ "$rc" = 0 ] || [ -n "$codes" ] ||
		    echo "FAIL GET /?v=$n.$i: curl $rc, no answer at $(date +%T.%N)" >>"$out"
		rc=0
		c=$(curl_mtls "$(lb_url "/upload?v=$n.$i.p")" -o "$T/up.$n" \
		    -w '%{http_code}' --data-binary @"$T/body10k" \
		    2>>"$T/err.valid.$n") || rc=$?
		if [ "$c" = 200 ] && grep -q "bytes=10240" "$T/up.$n"; then
			echo ok >>"$out"
		else
			echo "FAIL POST /upload?v=$n.$i.p: HTTP $c curl $rc at $(date +%T.%N)" >>"$out"
		fi
	done
}

loop_invalid() {
	local out=$T/res.invalid i=0 id c rc
	while [ ! -e "$STOP" ] && [ "$SECONDS" -lt "$END_BY" ]; do
		i=$((i + 1))
		for id in none other expired; do
			rc=0
			c=$(CERT=$id curl_mtls "$(lb_url "/?bad=$id.$i")" \
			    -o /dev/null -w '%{http_code}' 2>/dev/null) || rc=$?
			if [ "$c" = 400 ]; then
				echo ok
			else
				echo "FAIL $id: HTTP $c curl $rc at $(date +%T.%N)"
			fi
		done >>"$out"
		sleep 0.2
	done
}

loop_abort() {
	local out=$T/res.abort i=0
	while [ ! -e "$STOP" ] && [ "$SECONDS" -lt "$END_BY" ]; do
		i=$((i + 1))
		$RAWTLS send "$MTLSLB_PORT" --cert "$PKI/client.crt" \
		    --key "$PKI/client.key" --ca "$PKI/root.crt" \
		    --timeout 0.3 \
		    "POST /upload?abort=$i HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" \
		    "@$T/body10k" >/dev/null 2>&1 || true
		echo sent >>"$out"
		sleep 0.3
	done
}

loop_slow() {
	local out=$T/res.slow i=0 c rc size
	while [ ! -e "$STOP" ] && [ "$SECONDS" -lt "$END_BY" ]; do
		i=$((i + 1))
		rc=0
		c=$(curl_mtls "$(lb_url "/bytes/100000?slow=$i")" \
		    --limit-rate 50k -o "$T/slow.body" -D "$T/slow.head" \
		    -w '%{http_code}' 2>/dev/null) || rc=$?
		size=$(wc -c <"$T/slow.body" 2>/dev/null || echo 0)
		if [ "$c" = 200 ] && [ "$size" = 100000 ]; then
			echo ok
		else
			echo "FAIL slow /bytes/100000?slow=$i: HTTP $c curl $rc" \
			    "size $size from $(tr -d '\r' <"$T/slow.head" |
			    sed -n 's/^X-Backend: //p') at $(date +%T.%N)"
		fi >>"$out"
	done
}

head -c 10240 /dev/zero | tr '\0' z >"$T/body10k"

LOOP_PIDS=()
# start_loops: every client loop in the background.
start_loops() {
	local n
	rm -f "$STOP"
	LOOP_PIDS=()
	for ((n = 0; n < VALID_LOOPS; n++)); do
		# every other loop speaks HTTP/2: its three GETs are streams
		# of one connection, across the reloads as well
		if ((n % 2)); then
			CURL_HTTP=--http2 loop_valid "$n" &
		else
			loop_valid "$n" &
		fi
		LOOP_PIDS+=($!)
		t_track $! "valid loop $n"
	done
	loop_invalid &
	LOOP_PIDS+=($!)
	t_track $! "invalid loop"
	loop_abort &
	LOOP_PIDS+=($!)
	t_track $! "abort loop"
	loop_slow &
	LOOP_PIDS+=($!)
	t_track $! "slow loop"
}

# stop_loops: asks the loops to finish their iteration, then stops them.
stop_loops() {
	local p i
	touch "$STOP"
	for p in "${LOOP_PIDS[@]}"; do
		for ((i = 0; i < 300; i++)); do
			pid_alive "$p" || break
			sleep 0.1
		done
		stop_pid "$p" 2
	done
	LOOP_PIDS=()
}

# settle: waits SETTLE seconds and until the daemon has no more processes
# than NP (old generations drained; pooled connections expire meanwhile).
settle() {
	local i
	for ((i = 0; i < SETTLE * 10 + 100; i++)); do
		[ "$i" -ge $((SETTLE * 10)) ] && [ "$(proc_count)" -le "$1" ] &&
		    break
		sleep 0.1
	done
}

# Warm up with the same traffic mix (no faults) so that the baseline has
# the heap a worker keeps (session cache, libevent free lists), then
# measure it quiescent.
for ((i = 0; i < 10; i++)); do
	expect_status 200 "$(lb_url "/?warmup=$i")"
done
NP0=$(proc_count)
start_loops
sleep "$WARMUP"
stop_loops
settle "$NP0"
RSS0=$(rss_tree_kb "$MTLSLB_PID")
FD0=$(fd_count)
NP0=$(proc_count)
rm -f "$T"/res.*
echo "# start (after ${WARMUP}s warm-up): rss ${RSS0} KiB, fds $FD0, processes $NP0"
start_loops

# ------------------------------------------------------------ fault loop

restarts=0
hups=0
next_restart=$((SECONDS + RESTART_EVERY))
next_hup=$((SECONDS + HUP_EVERY))
t_start=$SECONDS
t_end=$((SECONDS + DURATION))
next_sample=$((SECONDS + 10))
while [ "$SECONDS" -lt "$t_end" ]; do
	pid_alive "$MTLSLB_PID" || fail "mtlslb died during the soak"
	if [ "$SECONDS" -ge "$next_restart" ]; then
		echo "$(date +%T.%N) ECS02 stopping" >>"$T/ecs02.events"
		stop_backend ECS02
		sleep 1
		start_backend ECS02 "$P2"
		echo "$(date +%T.%N) ECS02 listening again" >>"$T/ecs02.events"
		restarts=$((restarts + 1))
		next_restart=$((SECONDS + RESTART_EVERY))
	fi
	if [ "$HUP_EVERY" != 0 ] && [ "$SECONDS" -ge "$next_hup" ]; then
		kill -HUP "$MTLSLB_PID"
		hups=$((hups + 1))
		next_hup=$((SECONDS + HUP_EVERY))
	fi
	if [ "$SECONDS" -ge "$next_sample" ]; then
		echo "# t=$((SECONDS - t_start))s: rss $(rss_tree_kb "$MTLSLB_PID") KiB, fds $(fd_count), processes $(proc_count) (under load)"
		next_sample=$((SECONDS + 10))
	fi
	sleep 0.2
done

stop_loops
settle "$NP0"
RSS1=$(rss_tree_kb "$MTLSLB_PID")
FD1=$(fd_count)
NP1=$(proc_count)

count() {
	cat "$T"/res."$1"* 2>/dev/null | grep -c "^$2" || true
}
v_ok=$(count valid ok)
v_fail=$(count valid FAIL)
i_ok=$(count invalid ok)
i_fail=$(count invalid FAIL)
s_ok=$(count slow ok)
s_fail=$(count slow FAIL)
aborts=$(count abort sent)
reloads=$(grep -c 'configuration reloaded' "$T/mtlslb.log" || true)
errors=$(grep -E '\[(error|crit|alert|emerg)\]' "$T/mtlslb.log" |
    grep -vE "${EXPECTED_ERRORS:-^$}" || true)

echo "# soak ${DURATION}s: ECS02 restarts $restarts, SIGHUPs $hups (reloaded $reloads)"
echo "# valid requests: $((v_ok + v_fail)), failed $v_fail"
echo "# slow readers: $((s_ok + s_fail)), failed $s_fail"
echo "# invalid clients: $((i_ok + i_fail)), without their 400: $i_fail"
echo "# aborted mid-body: $aborts"
echo "# rss KiB: start $RSS0, end $RSS1; fds: start $FD0, end $FD1;" \
    "processes: start $NP0, end $NP1"
status=0
if [ "$v_fail" != 0 ] || [ "$s_fail" != 0 ]; then
	echo "# failed valid requests (first 20):"
	cat "$T"/res.valid.* "$T/res.slow" 2>/dev/null | grep '^FAIL' | head -n 20
	echo "# the daemon's lines for them (first 5 failures):"
	cat "$T"/res.valid.* "$T/res.slow" 2>/dev/null | grep '^FAIL' |
	    head -n 5 | while read -r _ _ what _; do
		tag=${what#*\?}
		tag=${tag%.\*:}
		tag=${tag%:}
		grep -F -- "$tag" "$T/mtlslb.log" | grep -v '" 200 ' |
		    head -n 3 | sed 's/^/#   /'
	done
	echo "# 502/503/504 and backend errors in the daemon log (last 10):"
	grep -E '" 50[234] |before a response|mid-response|invalid' \
	    "$T/mtlslb.log" | tail -n 10 | sed 's/^/#   /'
	status=1
fi
# timeline: the daemon's own lines (health, reloads, errors; no access
# lines) from 2 s before the first failure to 1 s after it, and when ECS02
# went away and came back
first=$(cat "$T"/res.valid.* "$T/res.slow" 2>/dev/null | grep '^FAIL' |
    sed -n 's/.* at \([0-9:]*\)\..*/\1/p' | sort | head -n 1)
if [ -n "$first" ]; then
	echo "# the daemon's lines from 2 s before the first failure ($first):"
	awk -v f="$first" '
	    function sec(t,  a) { split(t, a, ":"); return a[1]*3600 + a[2]*60 + a[3] }
	    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/ {
		t = sec(substr($1, 12, 8))
		if (t >= sec(f) - 2 && t <= sec(f) + 1) print "#   " $0
	    }' "$T/mtlslb.log" |
	    grep -v 'client certificate rejected\|TLS handshake failed' |
	    tail -n 40
	grep -h '' "$T/ecs02.events" 2>/dev/null | tail -n 6 | sed 's/^/#   /'
fi
if [ "$i_fail" != 0 ]; then
	echo "# invalid clients without their 400 (first 10):"
	grep '^FAIL' "$T/res.invalid" | head -n 10
	status=1
fi
[ "$((v_ok))" -gt 0 ] || { echo "# no valid request succeeded"; status=1; }
within() {	# within A B: B within 10% of A
	awk -v a="$1" -v b="$2" 'BEGIN { d = b - a; if (d < 0) d = -d;
	    exit !(d * 10 <= a) }'
}
within "$RSS0" "$RSS1" || { echo "# RSS not within 10% of the start"; status=1; }
within "$FD0" "$FD1" || {
	echo "# fds not within 10% of the start:"
	for p in $(tree_pids); do
		echo "#   pid $p: $(find "/proc/$p/fd" -mindepth 1 \
		    -maxdepth 1 -printf '%l\n' 2>/dev/null | sort | uniq -c |
		    sort -rn | head -n 5 | tr '\n' ';')"
	done
	status=1
}
[ "$NP1" -le "$NP0" ] || { echo "# $NP1 processes, $NP0 at the start"; status=1; }
if [ -n "$errors" ]; then
	echo "# unexpected error-level log lines (first 10):"
	printf '%s\n' "$errors" | head -n 10
	status=1
fi
if grep -Eq 'AddressSanitizer|runtime error|Assertion' "$T/mtlslb.log"; then
	echo "# sanitizer or assertion report in the daemon log"
	status=1
fi
stop_mtlslb 20
[ "$MTLSLB_STATUS" = 0 ] || { echo "# mtlslb exited $MTLSLB_STATUS"; status=1; }
[ "$status" = 0 ] || fail "soak failed (see the figures above)"
pass "soak ${DURATION}s: $v_ok valid requests, 0 failed; $i_ok invalid clients got 400"
