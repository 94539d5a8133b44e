#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 61-admin-control: runtime control on the admin endpoint (issue 15).
# Two workers, ECS01 and ECS02. POST /servers/default/ECS02/drain: new
# requests go to ECS01 only while a slow request already on ECS02 (the
# backend's /delay route) completes with 200, and ECS02 keeps its idle
# pooled connections; enable restores strict alternation; disable closes
# ECS02's idle pooled connections (counted from /proc/net/tcp: ESTABLISHED
# sockets whose far end is ECS02's port; the health probes go to a third
# port, health_check_port, so only the workers' connections are counted)
# while health checks go on; the state survives SIGHUP; /status, /metrics
# and the console page agree. Also: 405, 404, 400, a cross-site Origin
# (403), a browser's form (303 to /), and one info line per change naming
# the peer.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3
[ -r /proc/net/tcp ] || skip "no /proc/net/tcp to count connections"

P1=$(free_port)
P2=$(free_port)
PHC=$(free_port)
PA=$(free_port)
# The backends keep idle connections for 10 minutes: a pooled connection
# that goes away in this test went because mtlslb closed it.
start_backend ECS01 "$P1" --idle-timeout 600
start_backend ECS02 "$P2" --idle-timeout 600
start_backend HC "$PHC"
CONF=$T/lb.ini

LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2" HEALTH_CHECK=on WORKERS=2 \
    GROUP_EXTRA="health_check_port = $PHC
health_check_interval = 1s
health_check_timeout = 5s
health_check_path = /status/200
max_idle_connections = 8
idle_connection_timeout = 10m" std_config "$CONF"
cat >>"$CONF" <<EOF

[admin]
bind = 127.0.0.1:$PA
EOF
log_mark
start_mtlslb "$CONF"
wait_port "$PA" 10 "$MTLSLB_PID" || fail "admin port $PA not open"

# admin PATH [curl args]: a request to the admin endpoint; ADMIN_CODE,
# body in $T/admin.body, head in $T/admin.head.
admin() {
	local p=$1
	shift
	ADMIN_CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -o "$T/admin.body" \
	    -D "$T/admin.head" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$PA$p" 2>"$T/last.err") || ADMIN_CODE=000
}

# post VERB [SERVER]: POST /servers/default/SERVER/VERB, expecting 200 and
# the new state in the JSON answer.
post() {
	local verb=$1 srv=${2:-ECS02} want
	case $verb in
	drain) want=DRAINING ;;
	enable) want=ACTIVE ;;
	disable) want=DISABLED ;;
	esac
	admin "/servers/default/$srv/$verb" -X POST
	[ "$ADMIN_CODE" = 200 ] ||
	    fail "POST $verb $srv: HTTP $ADMIN_CODE: $(head -c 300 "$T/admin.body")"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert d["server_group"] == "default" and d["server"] == sys.argv[2], d
assert d["admin_state"] == sys.argv[3], d' "$T/admin.body" "$srv" "$want" ||
	    fail "POST $verb $srv: $(cat "$T/admin.body")"
}

# status_of SERVER FIELD: a field of SERVER in /status ("." for nested).
status_of() {
	admin /status
	[ "$ADMIN_CODE" = 200 ] || fail "/status: HTTP $ADMIN_CODE"
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in d["server_groups"][0]["servers"]}[sys.argv[2]]
for k in sys.argv[3].split("."):
    s = s[k] if s is not None else None
print(s)' "$T/admin.body" "$1" "$2"
}

# served_by N: N requests, one connection each; prints the X-Backend of
# each, space-separated.
served_by() {
	local i out=
	for ((i = 0; i < $1; i++)); do
		http_get "$(lb_url "/?n=$i")"
		[ "$HTTP_CODE" = 200 ] ||
		    fail "request $i: HTTP $HTTP_CODE ($(last_summary))"
		out="$out $(last_header X-Backend)"
	done
	echo "${out# }"
}

# expect_alternation "A B A B": strictly alternating ECS01 and ECS02.
expect_alternation() {
	local prev="" b
	for b in $1; do
		case $b in ECS01 | ECS02) ;; *) fail "served by '$b' in: $1" ;; esac
		[ "$b" != "$prev" ] || fail "not alternating: $1"
		prev=$b
	done
}

# pooled: ESTABLISHED connections to ECS02's port (the workers' side).
pooled() {
	local hex
	hex=$(printf '%04X' "$P2")
	awk -v p=":$hex" '$3 ~ (p "$") && $4 == "01" { n++ }
	    END { print n + 0 }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_pooled OP N [SECONDS]: waits until "pooled OP N" holds.
wait_pooled() {
	local i
	for ((i = 0; i < ${3:-30} * 10; i++)); do
		test "$(pooled)" "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

# scrape: /metrics, the admin_state samples in $T/admin_state
scrape_admin_state() {
	admin /metrics
	[ "$ADMIN_CODE" = 200 ] || fail "/metrics: HTTP $ADMIN_CODE"
	grep '^mtlslb_server_admin_state{' "$T/admin.body" >"$T/admin_state" ||
	    fail "/metrics has no mtlslb_server_admin_state"
}

# expect_agree SERVER STATE: /status, /metrics and the page (GET /, its
# state cell) all say SERVER is STATE.
expect_agree() {
	local srv=$1 want=$2 got s v
	got=$(status_of "$srv" admin_state)
	[ "$got" = "$want" ] || fail "/status: $srv admin_state $got, want $want"
	admin /
	[ "$ADMIN_CODE" = 200 ] || fail "GET /: HTTP $ADMIN_CODE"
	python3 "$top_srcdir/tests/helpers/htmlcheck.py" "$T/admin.body" \
	    "$T/rows.json" >"$T/htmlcheck.out" ||
	    fail "the page is not valid: $(head -n 5 "$T/htmlcheck.out")"
	got=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["rows"]["server-default-" + sys.argv[2]][2])' \
	    "$T/rows.json" "$srv")
	case $want:$got in
	ACTIVE:UP | DRAINING:DRAINING* | DISABLED:DISABLED*) ;;
	*) fail "the page shows $srv as '$got', want $want" ;;
	esac
	scrape_admin_state
	for s in active draining disabled; do
		v=$(awk -v k="mtlslb_server_admin_state{server_group=\"default\",server=\"$srv\",state=\"$s\"}" \
		    '$1 == k { print $2 }' "$T/admin_state")
		if [ "$s" = "$(echo "$want" | tr '[:upper:]' '[:lower:]')" ]; then
			[ "$v" = 1 ] || fail "/metrics: $srv state=$s is '$v', want 1"
		else
			[ "$v" = 0 ] || fail "/metrics: $srv state=$s is '$v', want 0"
		fi
	done
}

# --- before: alternation, both ACTIVE -----------------------------------------
seq0=$(served_by 4)
expect_alternation "$seq0"
expect_agree ECS01 ACTIVE
expect_agree ECS02 ACTIVE
pass "both ACTIVE in /status and /metrics; requests alternate: $seq0"

# --- a slow request on ECS02 ----------------------------------------------------
# Round robin alternates, so of two slow requests in a row one is ECS02's.
SLOW=
for try in 1 2 3; do
	(
		c=$(curl_mtls "$(lb_url "/delay/30000?try=$try")" -o /dev/null \
		    -w '%{http_code}' --max-time 120 2>>"$T/slow$try.err") ||
		    c="$c/curl$?"
		echo "$c" >"$T/slow$try.code"
	) &
	pid=$!
	t_track "$pid" "slow client $try" "$T/slow$try.err"
	for ((i = 0; i < 300; i++)); do
		if grep -q "^GET /delay/30000?try=$try\$" "$T/ECS02.requests"; then
			SLOW=$try
			SLOW_PID=$pid
			break
		fi
		grep -q "^GET /delay/30000?try=$try\$" "$T/ECS01.requests" &&
		    break
		sleep 0.1
	done
	[ -n "$SLOW" ] && break
done
[ -n "$SLOW" ] || fail "no slow request reached ECS02 in 3 tries"
pass "a slow request (/delay/30000, try $SLOW) is in flight on ECS02"

# --- drain ---------------------------------------------------------------------------
log_mark
post drain
wait_mtlslb_log "\[info\] master: admin: server_group default: server ECS02 127\.0\.0\.1:$P2: ACTIVE -> DRAINING \(drain by 127\.0\.0\.1:[0-9]+\)\$" 10 ||
    fail "no info line for the drain naming the peer"
n=$(mtlslb_log_since | grep -c 'admin: server_group') || true
[ "$n" = 1 ] || fail "$n admin log lines for one drain"
expect_agree ECS02 DRAINING
[ "$(status_of ECS02 active_connections)" = 1 ] ||
    fail "ECS02 does not show the slow request in flight while DRAINING"
pass "drain: one info line naming 127.0.0.1; /status and /metrics say DRAINING, 1 in flight"
hits2=$(backend_hits ECS02 '^GET /\?n=')
seq1=$(served_by 6)
[ "$seq1" = "ECS01 ECS01 ECS01 ECS01 ECS01 ECS01" ] ||
    fail "while ECS02 drains: $seq1"
[ "$(backend_hits ECS02 '^GET /\?n=')" = "$hits2" ] ||
    fail "ECS02 logged a new request while draining"
pass "drain: 6 new requests all went to ECS01 ($seq1)"
for ((i = 0; i < 900; i++)); do
	[ -s "$T/slow$SLOW.code" ] && break
	sleep 0.1
done
[ "$(cat "$T/slow$SLOW.code" 2>/dev/null)" = 200 ] ||
    fail "the slow request on ECS02 ended with '$(cat "$T/slow$SLOW.code" 2>/dev/null)', want 200"
pass "drain: the request in flight on ECS02 completed with 200"
# Drained, not disabled: its idle pooled connections stay. Wait 3 probes
# of ECS02 (3 s of sweeps in every worker) and count again.
wait_pooled -ge 1 30 || fail "no pooled connection to ECS02 after its responses"
c0=$(status_of ECS02 last_probe.checks)
for ((i = 0; i < 300; i++)); do
	[ "$(status_of ECS02 last_probe.checks)" -ge $((c0 + 3)) ] && break
	sleep 0.1
done
[ "$(status_of ECS02 last_probe.checks)" -ge $((c0 + 3)) ] ||
    fail "no health checks of ECS02 while it drains"
n=$(pooled)
[ "$n" -ge 1 ] || fail "draining closed the idle pooled connections to ECS02"
pass "drain: health checks go on; $n idle pooled connection(s) to ECS02 kept"
# Wait for every slow client, so none is left for the checks below.
for try in 1 2 3; do
	for ((i = 0; i < 900; i++)); do
		[ -e "$T/slow$try.err" ] || break
		[ -s "$T/slow$try.code" ] && break
		sleep 0.1
	done
done

# --- enable ----------------------------------------------------------------------------
log_mark
post enable
wait_mtlslb_log "admin: server_group default: server ECS02 127\.0\.0\.1:$P2: DRAINING -> ACTIVE \(enable by 127\.0\.0\.1:[0-9]+\)\$" 10 ||
    fail "no info line for the enable"
expect_agree ECS02 ACTIVE
seq2=$(served_by 6)
expect_alternation "$seq2"
pass "enable: alternation again: $seq2"

# --- disable ---------------------------------------------------------------------------
# Keep-alive requests leave connections to ECS02 in both workers' pools.
curl_mtls "$(lb_url '/?ka=[1-8]')" -o /dev/null >/dev/null 2>"$T/ka.err" ||
    fail "keep-alive requests failed: $(cat "$T/ka.err")"
wait_pooled -ge 1 30 || fail "no idle pooled connection to ECS02 before disable"
before=$(pooled)
log_mark
post disable
wait_mtlslb_log "admin: server_group default: server ECS02 127\.0\.0\.1:$P2: ACTIVE -> DISABLED \(disable by 127\.0\.0\.1:[0-9]+\)\$" 10 ||
    fail "no info line for the disable"
wait_pooled -eq 0 30 ||
    fail "disable: $(pooled) connection(s) to ECS02 still open after 30 s (were $before)"
pass "disable: the $before idle pooled connection(s) to ECS02 were closed"
expect_agree ECS02 DISABLED
hits2=$(backend_hits ECS02 '^GET /\?n=')
seq3=$(served_by 4)
[ "$seq3" = "ECS01 ECS01 ECS01 ECS01" ] || fail "while ECS02 is disabled: $seq3"
[ "$(backend_hits ECS02 '^GET /\?n=')" = "$hits2" ] ||
    fail "ECS02 logged a request while disabled"
c0=$(status_of ECS02 last_probe.checks)
for ((i = 0; i < 300; i++)); do
	[ "$(status_of ECS02 last_probe.checks)" -ge $((c0 + 2)) ] && break
	sleep 0.1
done
[ "$(status_of ECS02 last_probe.checks)" -ge $((c0 + 2)) ] ||
    fail "no health checks of ECS02 while disabled"
[ "$(status_of ECS02 state)" = UP ] || fail "disabled ECS02 is not UP in /status"
[ "$(pooled)" = 0 ] || fail "a connection to ECS02 was opened while disabled"
pass "disable: requests only to ECS01 ($seq3), health checks go on, ECS02 still UP"

# --- reload keeps the state ---------------------------------------------------------
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "reload not logged"
expect_agree ECS02 DISABLED
expect_agree ECS01 ACTIVE
seq4=$(served_by 4)
[ "$seq4" = "ECS01 ECS01 ECS01 ECS01" ] || fail "after SIGHUP: $seq4"
pass "SIGHUP: ECS02 is still DISABLED; requests only to ECS01"

# --- errors ---------------------------------------------------------------------------
admin /servers/default/ECS02/drain
[ "$ADMIN_CODE" = 405 ] || fail "GET .../drain: HTTP $ADMIN_CODE, want 405"
tr -d '\r' <"$T/admin.head" | grep -qix 'allow: POST' ||
    fail "GET .../drain: no Allow: POST"
admin /servers/nope/ECS02/drain -X POST
[ "$ADMIN_CODE" = 404 ] || fail "unknown group: HTTP $ADMIN_CODE, want 404"
grep -q "no server_group 'nope'" "$T/admin.body" ||
    fail "unknown group: $(cat "$T/admin.body")"
tr -d '\r' <"$T/admin.head" | grep -qix 'x-content-type-options: nosniff' ||
    fail "a 404 quoting the path may be sniffed as HTML: $(cat "$T/admin.head")"
admin /servers/default/ECS09/drain -X POST
[ "$ADMIN_CODE" = 404 ] || fail "unknown server: HTTP $ADMIN_CODE, want 404"
grep -q "no server 'ECS09' in server_group 'default'" "$T/admin.body" ||
    fail "unknown server: $(cat "$T/admin.body")"
admin /servers/default/ECS02/reboot -X POST
[ "$ADMIN_CODE" = 400 ] || fail "unknown verb: HTTP $ADMIN_CODE, want 400"
grep -q "unknown verb 'reboot'" "$T/admin.body" ||
    fail "unknown verb: $(cat "$T/admin.body")"
admin /servers/default/ECS02/enable -X POST -H 'Origin: http://evil.example'
[ "$ADMIN_CODE" = 403 ] || fail "cross-site Origin: HTTP $ADMIN_CODE, want 403"
[ "$(status_of ECS02 admin_state)" = DISABLED ] ||
    fail "a cross-site POST changed the state"
pass "GET on a control path 405 (Allow: POST), unknown group or server 404," \
    "unknown verb 400, a cross-site Origin 403"
admin /servers/default/ECS02/enable -X POST -H "Origin: http://127.0.0.1:$PA" \
    -H 'Accept: text/html,application/xhtml+xml'
[ "$ADMIN_CODE" = 303 ] || fail "form POST: HTTP $ADMIN_CODE, want 303"
tr -d '\r' <"$T/admin.head" | grep -qix 'location: /' ||
    fail "form POST: no Location: /"
expect_agree ECS02 ACTIVE
pass "a browser's same-origin form POST: 303 to /, ECS02 ACTIVE again"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited with $MTLSLB_STATUS"
pass "61-admin-control: all checks passed"
