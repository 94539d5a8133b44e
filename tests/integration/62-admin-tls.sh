#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 62-admin-tls: an admin endpoint safe to expose (issue 15). Without TLS a
# bind that is not loopback fails -t (and start, and a reload) with
# FILE:LINE and the fix; insecure = on turns that into a warning. With
# server_certificate, ca_certificate and allow = CN=client: a client
# without a certificate, or with one from another CA, is refused in the
# TLS handshake (a TLS alert, no HTTP answer); CN=client reads /status and
# /metrics and POSTs (the info line names its subject); CN=client2, which
# the CA verifies but allow does not list, gets 403 for GET and POST. A
# reload that changes allow applies to the next connection on the same
# bind. TLS without ca_certificate: anyone may read, a loopback peer may
# POST.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

P1=$(free_port)
start_backend ECS01 "$P1"
CONF=$T/lb.ini

# admin_conf FILE ADMIN-LINES: the standard config plus an [admin] section.
admin_conf() {
	SERVERS="server = ECS01 127.0.0.1:$P1" std_config "$1"
	printf '\n[admin]\n%s\n' "$2" >>"$1"
}

# line_of FILE TEXT: the line number of the first line equal to TEXT.
line_of() {
	grep -nxF -- "$2" "$1" | head -n 1 | cut -d: -f1
}

# --- -t: a plain bind that is not loopback -------------------------------------
LB_PORT=$(free_port)
PL=$(free_port)
PX=$(free_port)
admin_conf "$T/plain.ini" "bind = 127.0.0.1:$PL
bind = 0.0.0.0:$PX"
line=$(line_of "$T/plain.ini" "bind = 0.0.0.0:$PX")
rc=0
"$MTLSLB_BIN" -t -c "$T/plain.ini" >"$T/t.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "-t with a plain 0.0.0.0 admin bind: exit $rc, want 1: $(cat "$T/t.out")"
want="mtlslb: $T/plain.ini:$line: bind: '0.0.0.0:$PX' is not a loopback address and [admin] has no TLS (bind to 127.0.0.1 or [::1], or set server_certificate and server_private_key, with ca_certificate to require client certificates, or set insecure = on)"
[ "$(cat "$T/t.out")" = "$want" ] || fail "-t said: $(cat "$T/t.out")"
pass "-t: a plain admin bind on 0.0.0.0 fails at line $line and says the fix"
rc=0
timeout 30 "$MTLSLB_BIN" -c "$T/plain.ini" >"$T/start.out" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "start with a plain 0.0.0.0 admin bind: exit $rc, want 1"
grep -qxF -- "$want" "$T/start.out" || fail "start said: $(cat "$T/start.out")"
pass "start: refused with the same line"
sed -i 's/^bind = 0\.0\.0\.0:.*$/&\ninsecure = on/' "$T/plain.ini"
rc=0
"$MTLSLB_BIN" -t -c "$T/plain.ini" >"$T/t.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "-t with insecure = on: exit $rc: $(cat "$T/t.out")"
grep -qF "$T/plain.ini:$line: warning: bind: [admin] serves '0.0.0.0:$PX' in plain HTTP without authentication (insecure = on)" \
    "$T/t.out" || fail "-t with insecure = on: $(cat "$T/t.out")"
pass "-t with insecure = on: valid, with a warning"

# --- mutual TLS --------------------------------------------------------------
PA=$(free_port)
LB_PORT=$(free_port)
admin_conf "$CONF" "bind = 127.0.0.1:$PA
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
allow = CN=client"
log_mark
start_mtlslb "$CONF"
wait_port "$PA" 10 "$MTLSLB_PID" || fail "admin port $PA not open"
wait_mtlslb_log "admin endpoint on https://127\.0\.0\.1:$PA/status" 10 ||
    fail "the admin endpoint is not logged as https"
URL=https://127.0.0.1:$PA

CERT=none expect_tls_reject "$URL/status"
pass "no client certificate: refused in the TLS handshake ($TLS_ALERT)"
CERT=other expect_tls_reject "$URL/status"
pass "a certificate from another CA: refused in the TLS handshake ($TLS_ALERT)"
CERT=expired expect_tls_reject "$URL/status"
pass "an expired certificate: refused in the TLS handshake ($TLS_ALERT)"

expect_status 200 "$URL/status"
grep -q '"server_groups"' "$T/last.body" || fail "/status: $(last_summary)"
expect_status 200 "$URL/metrics"
grep -q '^mtlslb_server_admin_state{' "$T/last.body" ||
    fail "/metrics: $(last_summary)"
log_mark
expect_status 200 "$URL/servers/default/ECS01/drain" -X POST
grep -q '"admin_state":"DRAINING"' "$T/last.body" || fail "drain: $(last_summary)"
wait_mtlslb_log "admin: server_group default: server ECS01 127\.0\.0\.1:$P1: ACTIVE -> DRAINING \(drain by 127\.0\.0\.1:[0-9]+, client certificate CN=client\)\$" 10 ||
    fail "the drain's info line does not name the certificate"
expect_status 200 "$URL/servers/default/ECS01/enable" -X POST
pass "CN=client (allowed): /status, /metrics, POST drain and enable; the log names CN=client"

CERT=client2 expect_status 403 "$URL/status"
grep -qF "client certificate 'CN=client2' is not in [admin] allow" \
    "$T/last.body" || fail "client2: $(last_summary)"
CERT=client2 expect_status 403 "$URL/servers/default/ECS01/drain" -X POST
expect_status 200 "$URL/status"
grep -q '"admin_state":"ACTIVE"' "$T/last.body" ||
    fail "a refused POST changed the state: $(head -c 400 "$T/last.body")"
pass "CN=client2 (verified, not in allow): 403 for GET and POST"

# --- reload: allow changes, same bind ------------------------------------------
sed -i 's/^allow = CN=client$/allow = CN=client2/' "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "reload not logged"
CERT=client2 expect_status 200 "$URL/status"
expect_status 403 "$URL/status"
pass "reload: allow = CN=client2 applies to new connections on the same bind"

# --- reload: a plain non-loopback bind is refused -------------------------------
cp "$CONF" "$T/good.ini"
sed -i '/^\[admin\]$/,$d' "$CONF"
printf '[admin]\nbind = 127.0.0.1:%s\nbind = 0.0.0.0:%s\n' "$PA" "$PX" >>"$CONF"
line=$(line_of "$CONF" "bind = 0.0.0.0:$PX")
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log "reload failed, keeping current configuration: .*$CONF:$line: bind: '0\.0\.0\.0:$PX' is not a loopback address and \[admin\] has no TLS" 30 ||
    fail "a reload to a plain 0.0.0.0 admin bind was not refused"
CERT=client2 expect_status 200 "$URL/status"
pass "reload: a plain 0.0.0.0 admin bind is refused (line $line); TLS stays"

# --- TLS without client certificates: read by anyone, POST from loopback --------
cp "$T/good.ini" "$CONF"
sed -i '/^\[admin\]$/,$d' "$CONF"
printf '[admin]\nbind = 127.0.0.1:%s\nserver_certificate = %s\nserver_private_key = %s\n' \
    "$PA" "$PKI/server.crt" "$PKI/server.key" >>"$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "reload not logged"
CERT=none expect_status 200 "$URL/status"
CERT=none expect_status 200 "$URL/servers/default/ECS01/drain" -X POST
CERT=none expect_status 200 "$URL/servers/default/ECS01/enable" -X POST
pass "TLS without ca_certificate: GET without a certificate, POST from loopback"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited with $MTLSLB_STATUS"
pass "62-admin-tls: all checks passed"
