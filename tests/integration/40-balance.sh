#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 40-balance: the schedulers of a server group, seen from the client with
# workers = 2 and a new connection per request (so the scheduler state must
# be shared between workers): round_robin alternates strictly,
# weighted_round_robin with weights 1 and 3 is smooth (B A B B),
# least_connections avoids a busy server and uses both.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
CONF=$T/lb.ini

# pick: one request on a new connection; prints 1 or 2 (the backend).
# Fails the test (from the caller) on anything but a backend's hello.
pick() {
	local body
	body=$(curl_mtls "$(lb_url /)" 2>>"$T/last.err") || return 1
	case $body in
	"Hello World ! This is ECS01.") echo 1 ;;
	"Hello World ! This is ECS02.") echo 2 ;;
	*) echo "bad body: $body" >>"$T/last.err"; return 1 ;;
	esac
}

# picks N: N sequential picks as one string, e.g. "1212121212".
picks() {
	local i s='' p
	for ((i = 0; i < $1; i++)); do
		p=$(pick) || fail "request $((i + 1)) failed: $(tail -n 2 "$T/last.err")"
		s=$s$p
	done
	SEQ=$s
}

count() {
	local s=${1//[!$2]/}
	echo "${#s}"
}

# --- round_robin ---------------------------------------------------------------
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2" restart_mtlslb "$CONF"
picks 10
case $SEQ in
*11* | *22*) fail "round_robin: not strictly alternating: $SEQ" ;;
esac
[ "$(count "$SEQ" 1)" = 5 ] || fail "round_robin: $SEQ"
pass "round_robin, 2 workers, new connection each: $SEQ"

# Keep-alive requests on one connection are balanced per request too.
out=$(curl_mtls "$(lb_url /)" "$(lb_url /)" "$(lb_url /)" "$(lb_url /)" \
    2>>"$T/last.err") || fail "keep-alive requests failed"
s=$(echo "$out" | sed -n 's/^Hello World ! This is ECS0\([12]\)\.$/\1/p' |
    tr -d '\n')
case $s in
1212 | 2121) pass "round_robin per request on one client connection: $s" ;;
*) fail "round_robin on one client connection gave '$s'" ;;
esac

# --- weighted_round_robin: A = ECS01 weight 1, B = ECS02 weight 3 ----------------
SCHED=weighted_round_robin SERVERS="server = ECS01 127.0.0.1:$P1 weight=1
server = ECS02 127.0.0.1:$P2 weight=3" restart_mtlslb "$CONF"
picks 12
for w in 0 4 8; do
	win=${SEQ:$w:4}
	[ "$(count "$win" 1)" = 1 ] ||
	    fail "weighted_round_robin: window '$win' of $SEQ is not 1:3"
done
case $SEQ in
*2222*) fail "weighted_round_robin: run of 4 B in $SEQ (not smooth)" ;;
*11*) fail "weighted_round_robin: A twice in a row in $SEQ" ;;
esac
pass "weighted_round_robin 1:3: $SEQ (1:3 per 4, smooth)"
# A fresh daemon starts the scheduler from zero, so nginx's smooth WRR
# gives exactly B A B B from the first request on (ties go to the first
# server); anything else is a different scheduler.
case $SEQ in
212221222122) pass "weighted_round_robin: exactly the smooth B A B B order" ;;
*) fail "weighted_round_robin: $SEQ is not the smooth B A B B order" \
    "(212221222122) from the start" ;;
esac

# --- least_connections -------------------------------------------------------------
SCHED=least_connections SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2" restart_mtlslb "$CONF"

# A long request keeps one server busy; the quick ones go to the other.
# It lasts 20 s so that the quick ones surely run while it is in flight,
# even when each takes seconds (ASan on a busy machine took over 4 s for
# four, and the 4th went to the then idle server).
(
	rc=0
	curl_mtls "$(lb_url /delay/20000?tag=busy)" -o /dev/null --max-time 60 ||
	    rc=$?
	echo "$rc" >"$T/busy.rc"
) &
job=$!
t_track "$job" "slow request"
busy=
for ((i = 0; i < 300; i++)); do
	if [ "$(backend_hits ECS01 'tag=busy')" = 1 ]; then
		busy=1 idle=2
		break
	fi
	if [ "$(backend_hits ECS02 'tag=busy')" = 1 ]; then
		busy=2 idle=1
		break
	fi
	sleep 0.1
done
[ -n "$busy" ] || fail "least_connections: the slow request reached no backend"
picks 4
pid_alive "$job" ||
    harness_error "least_connections: the slow request ended before the picks"
[ "$SEQ" = "$idle$idle$idle$idle" ] ||
    fail "least_connections: with ECS0$busy busy, quick requests went $SEQ"
pass "least_connections: ECS0$busy busy with /delay, 4 quick requests all" \
    "went to ECS0$idle"
for ((i = 0; i < 600; i++)); do
	pid_alive "$job" || break
	sleep 0.1
done
stop_pid "$job" 5
[ "$(cat "$T/busy.rc" 2>/dev/null)" = 0 ] || fail "the slow request failed"

# Concurrent slow requests spread over both servers (5 s each, so they
# overlap however slowly curl starts).
jobs_=()
for n in 1 2 3 4; do
	(
		rc=0
		curl_mtls "$(lb_url "/delay/5000?tag=spread$n")" -o /dev/null \
		    --max-time 60 || rc=$?
		echo "$rc" >"$T/spread$n.rc"
	) &
	jobs_+=("$!")
	t_track "$!" "spread request $n"
	sleep 0.2
done
for j in "${jobs_[@]}"; do
	for ((i = 0; i < 600; i++)); do
		pid_alive "$j" || break
		sleep 0.1
	done
	stop_pid "$j" 5
done
for n in 1 2 3 4; do
	[ "$(cat "$T/spread$n.rc" 2>/dev/null)" = 0 ] ||
	    fail "least_connections: concurrent request $n failed"
done
na=$(backend_hits ECS01 'tag=spread')
nb=$(backend_hits ECS02 'tag=spread')
[ "$na" -ge 1 ] && [ "$nb" -ge 1 ] ||
    fail "least_connections: 4 concurrent requests went $na/$nb"
pass "least_connections: 4 concurrent slow requests spread $na/$nb"

stop_mtlslb
pass "40-balance: all checks passed"
