#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 64-ready: the admin endpoint's GET /ready and GET /live, the L4 tier's
# health check. /live is 200 while the master runs. /ready is 200 while
# every listener's group has a healthy server, and 503 (one line saying
# why) once the only backend is stopped and health checks declare it DOWN;
# 200 again when it is UP. A reload (SIGHUP) never fails /ready. On
# SIGTERM with drain_delay, /ready answers 503 at once while the listener
# still accepts and serves (a client loop that, like an L4 balancer, stops
# sending new requests once /ready fails never sees an error), then the
# listener closes and the master exits 0; the log says so in that order.
# A second SIGTERM cuts a long drain_delay short. Timing is never asserted
# beyond generous bounds: the test waits for log lines and statuses.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd curl

P1=$(free_port)
start_backend ECS01 "$P1"
CONF=$T/lb.ini
SERVERS="server = ECS01 127.0.0.1:$P1"
HEALTH_CHECK=on
HC="health_check_interval = 1s
health_check_timeout = 5s
healthy_threshold = 2
unhealthy_threshold = 2
health_check_path = /status/200"

# config DRAIN_DELAY: the standard config with health checks and [admin].
config() {
	LB_PORT=$(free_port)
	PA=$(free_port)
	GLOBAL_EXTRA="drain_delay = $1
shutdown_timeout = 20s" GROUP_EXTRA=$HC std_config "$CONF"
	printf '\n[admin]\nbind = 127.0.0.1:%s\n' "$PA" >>"$CONF"
}

# admin_get PATH [curl args]: status in ADMIN_CODE, body in $T/admin.body.
admin_get() {
	local p=$1
	shift
	ADMIN_CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -o "$T/admin.body" \
	    -w '%{http_code}' "$@" "http://127.0.0.1:$PA$p" \
	    2>"$T/admin.err") || ADMIN_CODE=000
}

# expect_admin CODE PATH [BODY]: GET PATH answers CODE (and body BODY).
expect_admin() {
	admin_get "$2"
	[ "$ADMIN_CODE" = "$1" ] || fail "GET $2: HTTP $ADMIN_CODE, expected" \
	    "$1: $(cat "$T/admin.body" "$T/admin.err")"
	[ -z "${3:-}" ] || [ "$(cat "$T/admin.body")" = "$3" ] ||
	    fail "GET $2: body '$(cat "$T/admin.body")', expected '$3'"
}

# wait_ready CODE [SECONDS]: until /ready answers CODE (30 s by default).
wait_ready() {
	local i
	for ((i = 0; i < ${2:-30} * 10; i++)); do
		admin_get /ready
		[ "$ADMIN_CODE" = "$1" ] && return 0
		sleep 0.1
	done
	fail "/ready did not answer $1 in ${2:-30} s (last: $ADMIN_CODE" \
	    "$(cat "$T/admin.body")"
}

# --- /live, /ready, and a backend that goes away --------------------------
config 0
log_mark
start_mtlslb "$CONF"
wait_port "$PA" 10 || fail "no admin endpoint"
expect_admin 200 /live live
wait_ready 200
expect_admin 200 /ready ready
admin_get /ready -X POST
[ "$ADMIN_CODE" = 405 ] || fail "POST /ready: HTTP $ADMIN_CODE, expected 405"
admin_get /ready -I
[ "$ADMIN_CODE" = 200 ] || fail "HEAD /ready: HTTP $ADMIN_CODE, expected 200"
pass "/live 200, /ready 200 with a healthy server (HEAD too, POST 405)"

# /metrics: the same names and labels on every instance of a fleet (no
# PID, host name or address of the instance in them), so that Prometheus'
# sum by (...) adds instances up; mtlslb_ready mirrors /ready.
admin_get /metrics
cp "$T/admin.body" "$T/metrics"
grep -qx 'mtlslb_ready 1' "$T/metrics" || fail "no 'mtlslb_ready 1' in /metrics"
names=$(grep -v '^#' "$T/metrics" | sed 's/[{ ].*//' | sort -u)
bad=$(echo "$names" | grep -Ev '^mtlslb_[a-z0-9_]+$') &&
    fail "metric names that are not mtlslb_[a-z0-9_]+: $bad"
labels=$(grep -v '^#' "$T/metrics" | grep -o '{[^}]*}' |
    grep -Eo '[a-z_]+=' | sort -u | tr -d '=' | tr '\n' ' ')
case " $labels" in
*" pid "* | *" host "* | *" hostname "* | *" instance "* | *" worker "*)
	fail "an instance-specific label in /metrics: $labels" ;;
esac
for s in "$MTLSLB_PID" "$(hostname)" "127.0.0.1:$LB_PORT" "$LB_PORT" "$PA"; do
	grep -v '^#' "$T/metrics" | grep -Fq -- "$s" &&
	    fail "/metrics names this instance ($s): $(grep -F -- "$s" "$T/metrics" | head -n 2)"
done
pass "/metrics: $(echo "$names" | wc -l) names, labels $labels- nothing" \
    "instance-specific; mtlslb_ready 1"

stop_backend ECS01
wait_mtlslb_log "server ECS01 127\.0\.0\.1:$P1 is DOWN" 60 ||
    fail "ECS01 not declared DOWN after it stopped"
expect_admin 503 /ready "not ready: listener https: no healthy server in server_group default"
pass "/ready 503 once the group's only server is DOWN: $(cat "$T/admin.body")"
admin_get /metrics
grep -qx 'mtlslb_ready 0' "$T/admin.body" || fail "no 'mtlslb_ready 0' when /ready is 503"
expect_admin 200 /live live

start_backend ECS01 "$P1"
wait_mtlslb_log "server ECS01 127\.0\.0\.1:$P1 is UP" 60 ||
    fail "ECS01 not declared UP after it came back"
expect_admin 200 /ready ready
pass "/ready 200 again once the server is UP"

# --- SIGHUP never fails /ready ---------------------------------------------
rm -f "$T/poll.stop"
(
	for ((i = 0; i < 3000; i++)); do
		[ -e "$T/poll.stop" ] && break
		curl -sS --max-time "$CURL_TIMEOUT" -o /dev/null \
		    -w '%{http_code}\n' "http://127.0.0.1:$PA/ready" \
		    >>"$T/poll.codes" 2>>"$T/poll.err" ||
		    echo "curl$?" >>"$T/poll.codes"
	done
) &
POLL=$!
t_track "$POLL" "ready poller" "$T/poll.err"
for n in 1 2 3; do
	log_mark
	kill -HUP "$MTLSLB_PID"
	wait_mtlslb_log 'configuration reloaded' 30 || fail "no reload $n"
done
touch "$T/poll.stop"
stop_pid "$POLL" 15
t_untrack "$POLL"
bad=$(grep -vcx 200 "$T/poll.codes") || true
[ "$bad" = 0 ] || fail "/ready during reloads: $(sort "$T/poll.codes" |
    uniq -c | tr '\n' ' ')"
pass "/ready stayed 200 across 3 reloads ($(wc -l <"$T/poll.codes") polls)"
stop_mtlslb

# --- SIGTERM with drain_delay: 503 first, still serving, then closed --------
# A client loop that behaves like an L4 balancer: it checks /ready before
# every request and, once /ready fails, sends 5 more requests (the ones in
# flight while the balancer notices) and stops.
config 10s
log_mark
start_mtlslb "$CONF"
wait_ready 200
rm -f "$T/loop.codes"
(
	after=-1
	for ((i = 0; i < 5000 && after != 0; i++)); do
		r=$(curl -sS --max-time "$CURL_TIMEOUT" -o /dev/null \
		    -w '%{http_code}' "http://127.0.0.1:$PA/ready" \
		    2>>"$T/loop.err") || r=000
		if [ "$r" != 200 ] && [ "$after" -lt 0 ]; then
			echo "ready $r" >>"$T/loop.codes"
			after=5
		fi
		c=$(curl_mtls "$(lb_url "/?loop=$i")" -o /dev/null \
		    -w '%{http_code}' 2>>"$T/loop.err") || c="$c/curl$?"
		echo "$c" >>"$T/loop.codes"
		[ "$after" -gt 0 ] && after=$((after - 1))
	done
) &
LOOP=$!
t_track "$LOOP" "client loop" "$T/loop.err"
for ((i = 0; i < 300; i++)); do
	n=$(grep -cx 200 "$T/loop.codes" 2>/dev/null) || n=0
	[ "$n" -ge 10 ] && break
	sleep 0.1
done
log_mark
kill -TERM "$MTLSLB_PID"
wait_mtlslb_log 'stopping: /ready answers 503 for drain_delay' 10 ||
    fail "no drain_delay line after SIGTERM"
for ((i = 0; i < 300; i++)); do
	pid_alive "$LOOP" || break
	sleep 0.1
done
pid_alive "$LOOP" && fail "the client loop never saw /ready fail"
t_untrack "$LOOP"
grep -qx 'ready 503' "$T/loop.codes" ||
    fail "the client loop saw no 503 on /ready: $(tail -n 3 "$T/loop.codes")"
bad=$(grep -v '^ready ' "$T/loop.codes" | grep -vcx 200) || true
[ "$bad" = 0 ] || fail "client loop: $bad requests without a 200:" \
    "$(sort "$T/loop.codes" | uniq -c | tr '\n' ' ')"
after=$(sed -n '/^ready 503$/,$p' "$T/loop.codes" | grep -cx 200) || true
[ "$after" = 5 ] || fail "after /ready went 503: $after requests, expected 5"
pass "SIGTERM: /ready 503 at once; $(grep -cx 200 "$T/loop.codes") requests" \
    "all 200, 5 of them after /ready failed"
port_open "$MTLSLB_PORT" ||
    fail "the listener closed before drain_delay ended"
admin_get /ready
case $(cat "$T/admin.body") in
"not ready: stopping"*) ;;
*) fail "/ready while stopping says '$(cat "$T/admin.body")'" ;;
esac
pass "during drain_delay the listener accepts; /ready: $(cat "$T/admin.body")"
wait_port_closed "$MTLSLB_PORT" 60 ||
    fail "the listener still accepts 60 s after SIGTERM (drain_delay 10s)"
wait_mtlslb_log 'drain_delay over: closing the listeners' 10 ||
    fail "no 'drain_delay over' line"
first=$(mtlslb_log_since | grep -n 'stopping: /ready answers 503' |
    cut -d: -f1 | head -n 1)
closed=$(mtlslb_log_since | grep -n 'drain_delay over: closing' |
    cut -d: -f1 | head -n 1)
[ -n "$first" ] && [ -n "$closed" ] && [ "$first" -lt "$closed" ] ||
    fail "log order after SIGTERM: 503 at line '$first', close at '$closed'"
for ((i = 0; i < 300; i++)); do
	pid_alive "$MTLSLB_PID" || break
	sleep 0.1
done
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS after TERM"
pass "then the listener closed and the master exited 0 (log: 503 first)"

# --- a second SIGTERM cuts a long drain_delay short ------------------------
config 300s
log_mark
start_mtlslb "$CONF"
wait_ready 200
kill -TERM "$MTLSLB_PID"
wait_ready 503
port_open "$MTLSLB_PORT" || fail "listener closed at once with drain_delay"
kill -TERM "$MTLSLB_PID"
wait_port_closed "$MTLSLB_PORT" 60 ||
    fail "a second SIGTERM did not close the listener"
wait_mtlslb_log 'second stop signal: cutting drain_delay short' 10 ||
    fail "no line for the second SIGTERM"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS after 2 TERMs"
pass "a second SIGTERM during drain_delay stops at once (exit 0)"
