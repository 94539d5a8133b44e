#!/bin/bash
# 50-signals: the daemon's signals, end to end.
#   HUP with a new server certificate on disk: new connections get it while
#       a slow request started before completes with 200
#   HUP with a broken config: the old one keeps serving, the log says
#       "reload failed, keeping current configuration: FILE:LINE: ..."
#   HUP after a new CRL revoking a client: that client gets the 400 page,
#       the others still 200
#   TERM during a slow request: it completes, new clients are refused, the
#       daemon exits 0
#   USR1 after the log files were moved: new files are written
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

# served_subject: the subject of the certificate the daemon presents now.
served_subject() {
	openssl s_client -connect "127.0.0.1:$MTLSLB_PORT" \
	    -servername localhost -cert "$PKI/client.crt" \
	    -key "$PKI/client.key" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject -nameopt RFC2253 2>/dev/null || true
}

# slow_request NAME: GET /delay/3000 in the background; result (status)
# in $T/NAME.code; waits until the backend has the request in hand.
slow_request() {
	local name=$1 before i
	before=$(backend_hits ECS01 '/delay/')
	curl_mtls "$(lb_url /delay/3000)" -o /dev/null -w '%{http_code}' \
	    >"$T/$name.code" 2>"$T/$name.err" &
	SLOW_PID=$!
	t_track "$SLOW_PID" "curl $name" "$T/$name.err"
	for ((i = 0; i < 600; i++)); do	# 30 s: an ASan build on a busy box
		[ "$(backend_hits ECS01 '/delay/')" -gt "$before" ] && return 0
		sleep 0.05
	done
	fail "$name: the slow request never reached the backend"
}

# slow_result NAME: waits for the slow request; expects 200.
slow_result() {
	local name=$1 rc=0
	wait "$SLOW_PID" || rc=$?
	t_untrack "$SLOW_PID"
	[ "$rc" = 0 ] && [ "$(cat "$T/$name.code")" = 200 ] ||
	    fail "$name: slow request: curl exit $rc, HTTP" \
	    "$(cat "$T/$name.code"), $(cat "$T/$name.err")"
}

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
cp "$PKI/server.crt" "$T/srv.crt"
cp "$PKI/server.key" "$T/srv.key"
chmod 600 "$T/srv.key"
cp "$PKI/crl-empty.pem" "$T/crl.pem"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
SERVER_CERT=$T/srv.crt SERVER_KEY=$T/srv.key CRL=$T/crl.pem \
    GLOBAL_EXTRA="shutdown_timeout = 20s" std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"

case $(served_subject) in
*CN=localhost) pass "serves server.crt (CN=localhost)" ;;
*) fail "served certificate: '$(served_subject)', expected CN=localhost" ;;
esac
expect_status 200 "$(lb_url /)"
CERT=revoked expect_status 200 "$(lb_url /)"
pass "revoked client accepted while the CRL is empty"

# -- HUP with a new server certificate, a slow request in flight
slow_request cert
cp "$PKI/server2.crt" "$T/srv.crt.new"
cp "$PKI/server2.key" "$T/srv.key.new"
mv -f "$T/srv.crt.new" "$T/srv.crt"
mv -f "$T/srv.key.new" "$T/srv.key"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "no reload after HUP"
case $(served_subject) in
*CN=localhost-2) pass "after HUP new connections get server2.crt" ;;
*) fail "after HUP: served '$(served_subject)', expected CN=localhost-2" ;;
esac
expect_status 200 "$(lb_url /)"
slow_result cert
pass "the slow request started before the reload completed with 200"

# -- HUP with a broken config
cp "$T/lb.ini" "$T/lb.ini.good"
sed -i 's/^verify_depth = .*/verify_depth = -1/' "$T/lb.ini"
bad_line=$(grep -n '^verify_depth' "$T/lb.ini" | cut -d: -f1)
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log "reload failed, keeping current configuration: $T/lb.ini:$bad_line: verify_depth" 10 ||
    fail "no 'reload failed, keeping current configuration: FILE:LINE' line"
pass "broken config: $(mtlslb_log_since | grep -m1 'reload failed' | sed 's/.*\] //')"
pid_alive "$MTLSLB_PID" || fail "the daemon died on a broken reload"
expect_status 200 "$(lb_url /)"
case $(served_subject) in
*CN=localhost-2) pass "the old configuration keeps serving" ;;
*) fail "after a failed reload: served '$(served_subject)'" ;;
esac
mv -f "$T/lb.ini.good" "$T/lb.ini"

# -- HUP after a new CRL
cp "$PKI/crl.pem" "$T/crl.pem.new"
mv -f "$T/crl.pem.new" "$T/crl.pem"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "no reload after the CRL"
CERT=revoked expect_status 400 "$(lb_url /)"
last_body_contains "The SSL certificate error" ||
    fail "revoked client: not the certificate error page: $(last_summary)"
pass "revoked client gets the 400 page after HUP"
expect_status 200 "$(lb_url /)"
CERT=client2 expect_status 200 "$(lb_url /)"
pass "other clients still get 200"

# -- TERM during a slow request
slow_request term
kill -TERM "$MTLSLB_PID"
wait_port_closed "$MTLSLB_PORT" 5 ||
    fail "still accepting connections after SIGTERM"
pid_alive "$SLOW_PID" || fail "the slow request ended before its time"
pass "no new connections after TERM, the slow request still in flight"
slow_result term
pass "the slow request completed with 200 after TERM"
for ((i = 0; i < 150; i++)); do
	pid_alive "$MTLSLB_PID" || break
	sleep 0.1
done
pid_alive "$MTLSLB_PID" && fail "the daemon did not exit after TERM"
rc=0
wait "$MTLSLB_PID" || rc=$?
t_untrack "$MTLSLB_PID"
MTLSLB_PID=
[ "$rc" = 0 ] || fail "exit status $rc after TERM, expected 0"
pass "exit status 0 after TERM"

# -- USR1 after moving the log files
LB_PORT=$(free_port)
SERVER_CERT=$T/srv.crt SERVER_KEY=$T/srv.key WORKERS=2 std_config "$T/files.ini"
sed -i -e "s|^error_log = stderr|error_log = $T/error.log|" \
    -e "s|^access_log = stderr|access_log = $T/access.log|" "$T/files.ini"
start_mtlslb "$T/files.ini"
T_LOGS+=("$T/error.log" "$T/access.log")
expect_status 200 "$(lb_url "/?first")"
wait_log "$T/access.log" '"GET /[?]first ' 5 || fail "no access log line"
mv "$T/access.log" "$T/access.log.1"
mv "$T/error.log" "$T/error.log.1"
kill -USR1 "$MTLSLB_PID"

for ((i = 0; i < 50; i++)); do
	[ -e "$T/access.log" ] && [ -e "$T/error.log" ] && break
	sleep 0.1
done
[ -e "$T/access.log" ] || fail "USR1: no new access.log"
[ -e "$T/error.log" ] || fail "USR1: no new error.log"
# The workers reopen after the master: retry until a line lands.
for ((i = 0; i < 50; i++)); do
	expect_status 200 "$(lb_url "/?second")"
	grep -q '"GET /?second ' "$T/access.log" && break
	sleep 0.1
done
grep -q '"GET /?second ' "$T/access.log" ||
    fail "USR1: requests still go to the moved access log"
kill -HUP "$MTLSLB_PID"
wait_log "$T/error.log" 'configuration reloaded' 10 ||
    fail "USR1: the master still logs to the moved error log"
pass "USR1 after moving the logs: new access.log and error.log written"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
