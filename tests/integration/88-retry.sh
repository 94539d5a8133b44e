#!/bin/bash
# 88-retry: a GET whose backend connection fails before any response is
# sent again, and only the server that failed is blamed.
#   a server that resets every request (badbackend --mode rst) beside a
#       good one, no pooling (max_idle_connections = 0): every GET gets
#       200 from the good server, whose new connection is not taken for a
#       failure (regression: a retry's CONNECTED event was read as "closed
#       before a response", which failed the good server too: 502, and
#       with health checks a healthy server marked DOWN)
#   one server that closes each keep-alive connection right after its
#       response (backend --idle-close 0) and health checks with
#       unhealthy_threshold = 1: a GET pipelined behind another one meets
#       the closed pooled connection, goes out again on a new connection
#       to the same server and gets 200; the server is never marked DOWN
#       (the keep-alive race is not a health failure)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

# --- a reset on one server, a new connection to the other -----------------
BAD_PORT=$(free_port)
python3 "$top_srcdir/tests/helpers/badbackend.py" --port "$BAD_PORT" \
    --name BAD --mode rst --log "$T/BAD.log" >"$T/BAD.out" 2>&1 &
BAD_PID=$!
t_track "$BAD_PID" "badbackend" "$T/BAD.out" "$T/BAD.log"
wait_log "$T/BAD.out" '^listening on ' 15 "$BAD_PID" ||
    harness_error "badbackend did not start on port $BAD_PORT"
P1=$(free_port)
start_backend ECS01 "$P1"

LB_PORT=$(free_port)
WORKERS=1 SERVERS="server = BAD 127.0.0.1:$BAD_PORT
server = ECS01 127.0.0.1:$P1" GROUP_EXTRA="max_idle_connections = 0" \
    std_config "$T/rst.ini"
start_mtlslb "$T/rst.ini"
for i in 1 2 3 4 5 6; do
	http_get "$(lb_url "/?rst=$i")"
	[ "$HTTP_CODE" = 200 ] && last_body_contains "This is ECS01" ||
	    fail "GET $i with BAD resetting: HTTP $HTTP_CODE, $(last_summary)"
done
n=$(grep -c 'server BAD .*before a response; retrying' "$T/mtlslb.log") ||
    true
[ "$n" -ge 2 ] ||
    fail "BAD was tried first only $n times in 6: the retry was not tested"
! grep -q 'server ECS01 .*\(before a response\|connect failed\)' \
    "$T/mtlslb.log" ||
    fail "ECS01 was blamed for BAD's reset: $(grep 'server ECS01' \
    "$T/mtlslb.log" | head -n 3)"
pass "GETs reset by BAD went out again on a new connection to ECS01:" \
    "6 of 6 got 200 ($n retried), ECS01 never blamed"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"

# --- the keep-alive race on a pooled connection ------------------------------
P2=$(free_port)
start_backend ECS02 "$P2" --idle-close 0
mv "$T/mtlslb.log" "$T/mtlslb-rst.log"
LB_PORT=$(free_port)
WORKERS=1 HEALTH_CHECK=on SERVERS="server = ECS02 127.0.0.1:$P2" \
    GROUP_EXTRA="health_check_interval = 10s
health_check_timeout = 5s
healthy_threshold = 1
unhealthy_threshold = 1" std_config "$T/race.ini"
start_mtlslb "$T/race.ini"
out=$(timeout 300 python3 "$top_srcdir/tests/helpers/pipeline.py" \
    "$MTLSLB_PORT" "$PKI" 20 get 2>&1) ||
    fail "a GET on a pooled connection the backend had closed: $out"
n=$(grep -c 'pooled connection .* as it was reused; retrying' \
    "$T/mtlslb.log") || true
! grep -q 'ECS02 .* is DOWN' "$T/mtlslb.log" ||
    fail "the keep-alive race took ECS02 down: $(grep 'is DOWN' \
    "$T/mtlslb.log" | head -n 2)"
pass "GETs behind a response whose backend closed the pooled connection:" \
    "20 rounds of 200s, $n sent again on a new connection, ECS02 never DOWN"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
pass "88-retry: all checks passed"
