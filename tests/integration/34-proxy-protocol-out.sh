#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 34-proxy-protocol-out: send_proxy_protocol (issue 13). A backend that
# decodes the PROXY header (tests/helpers/ppbackend.py) finds, with
# v2_ssl, the client's address, its TLS version and cipher, and its
# certificate's CN and verify result; without a certificate, no CN and a
# non-zero verify. Health probes carry a LOCAL header (the server starts
# unhealthy, so a request succeeds only once they passed). Connections
# are never pooled: every request of a keep-alive client gets its own
# backend connection and header. v1 names the client too.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
python3 "$top_srcdir/tests/helpers/ppbackend.py" --listen "127.0.0.1:$BE_PORT" \
    --log "$T/pp.log" >"$T/ppbackend.out" 2>&1 &
t_track $! ppbackend "$T/ppbackend.out" "$T/pp.log"
wait_log "$T/ppbackend.out" '^listening on ' 20 $! ||
    harness_error "ppbackend did not start"

SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
HEALTH_CHECK=on GROUP_EXTRA="send_proxy_protocol = v2_ssl
health_check_initial = unhealthy
healthy_threshold = 1" restart_mtlslb "$T/lb.ini"
wait_mtlslb_log 'server ECS01 .* is UP' 30 ||
    fail "the LOCAL health probes did not bring the server UP"
grep -q 'pp-version=2 pp-command=LOCAL' "$T/pp.log" ||
    fail "no LOCAL header from a probe: $(head -n 3 "$T/pp.log")"
pass "health probes send a v2 LOCAL header and pass"

# body_field NAME: the value of "NAME: value" in the last body.
body_field() {
	sed -n "s/^$1: //p" "$T/last.body" | head -n 1
}

lport=$(curl_mtls "$(lb_url /)" --tlsv1.3 -o "$T/last.body" \
    -w '%{http_code} %{local_port}' 2>"$T/last.err") ||
    fail "v2_ssl: curl: $(cat "$T/last.err")"
[ "${lport%% *}" = 200 ] || fail "v2_ssl: HTTP ${lport%% *}"
src=$(body_field pp-src)
[ "$src" = "127.0.0.1:${lport#* }" ] ||
    fail "v2_ssl: pp-src '$src', want curl's 127.0.0.1:${lport#* }"
[ "$(body_field pp-dst)" = "127.0.0.1:$LB_PORT" ] ||
    fail "v2_ssl: pp-dst '$(body_field pp-dst)'"
[ "$(body_field pp-ssl-version)" = TLSv1.3 ] ||
    fail "v2_ssl: version '$(body_field pp-ssl-version)'"
[ "$(body_field pp-ssl-cn)" = client ] ||
    fail "v2_ssl: CN '$(body_field pp-ssl-cn)'"
[ "$(body_field pp-ssl-verify)" = 0 ] ||
    fail "v2_ssl: verify '$(body_field pp-ssl-verify)'"
[ "$(body_field pp-ssl-client)" = 7 ] ||
    fail "v2_ssl: client bits '$(body_field pp-ssl-client)', want 7" \
    "(SSL, CERT_CONN, CERT_SESS)"
case $(body_field pp-ssl-cipher) in
TLS_*) ;;
*) fail "v2_ssl: cipher '$(body_field pp-ssl-cipher)'" ;;
esac
pass "v2_ssl: client $src, TLSv1.3, CN=client, verify 0, cipher" \
    "$(body_field pp-ssl-cipher)"

expect_status 200 "$(lb_url /)" --interface 127.0.0.2 --tlsv1.2 \
    --tls-max 1.2
case $(body_field pp-src) in
127.0.0.2:*) ;;
*) fail "v2_ssl: pp-src '$(body_field pp-src)', want 127.0.0.2" ;;
esac
[ "$(body_field pp-ssl-version)" = TLSv1.2 ] ||
    fail "v2_ssl: version '$(body_field pp-ssl-version)', want TLSv1.2"
pass "v2_ssl: a client on 127.0.0.2 over TLS 1.2 is named as such"

# Keep-alive: two requests, one client connection, two backend
# connections, each with its header and its first request.
before=$(grep -c 'pp-command=PROXY' "$T/pp.log")
curl -sS --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
    --cert "$PKI/client.crt" --key "$PKI/client.key" -o "$T/ka1" \
    "$(lb_url /a)" --next -sSv --max-time "$CURL_TIMEOUT" \
    --cacert "$PKI/root.crt" --cert "$PKI/client.crt" --key "$PKI/client.key" \
    -o "$T/ka2" "$(lb_url /b)" 2>"$T/ka.err" ||
    fail "keep-alive: $(cat "$T/ka.err")"
grep -q 'Re-using existing connection' "$T/ka.err" ||
    harness_error "keep-alive: curl opened a second connection"
grep -q '^request: 1$' "$T/ka1" && grep -q '^request: 1$' "$T/ka2" ||
    fail "keep-alive: a backend connection was reused: $(cat "$T/ka1" "$T/ka2")"
[ "$(grep -c 'pp-command=PROXY' "$T/pp.log")" = $((before + 2)) ] ||
    fail "keep-alive: $(($(grep -c 'pp-command=PROXY' "$T/pp.log") - before)) headers, want 2"
[ "$(sed -n 's/^pp-src: //p' "$T/ka1")" = "$(sed -n 's/^pp-src: //p' "$T/ka2")" ] ||
    fail "keep-alive: the two headers name different clients"
pass "no pooling: each request of a keep-alive client gets a new" \
    "backend connection with its header"

# No client certificate (optional): no CN, verify non-zero, client bit 1.
MTLS=optional GROUP_EXTRA="send_proxy_protocol = v2_ssl" \
    restart_mtlslb "$T/lb.ini"
CERT=none expect_status 200 "$(lb_url /)"
[ "$(body_field pp-ssl-client)" = 1 ] ||
    fail "no cert: client bits '$(body_field pp-ssl-client)', want 1"
[ "$(body_field pp-ssl-verify)" != 0 ] && [ -n "$(body_field pp-ssl-verify)" ] ||
    fail "no cert: verify '$(body_field pp-ssl-verify)', want non-zero"
[ -z "$(body_field pp-ssl-cn)" ] ||
    fail "no cert: a CN '$(body_field pp-ssl-cn)'"
pass "v2_ssl without a client certificate: no CN, verify non-zero"

# v1
GROUP_EXTRA="send_proxy_protocol = v1" restart_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /)" --interface 127.0.0.2
[ "$(body_field pp-version)" = 1 ] && [ "$(body_field pp-command)" = PROXY ] ||
    fail "v1: version '$(body_field pp-version)' command '$(body_field pp-command)'"
case $(body_field pp-src) in
127.0.0.2:*) ;;
*) fail "v1: pp-src '$(body_field pp-src)'" ;;
esac
[ "$(body_field pp-dst)" = "127.0.0.1:$LB_PORT" ] ||
    fail "v1: pp-dst '$(body_field pp-dst)'"
pass "v1: PROXY TCP4 with the client and the address it connected to"

# v2 with a client behind an L4 balancer: the header out names the
# client the header in named.
GROUP_EXTRA="send_proxy_protocol = v2" LISTENER_EXTRA="accept_proxy_protocol = on
proxy_protocol_from = 127.0.0.1" restart_mtlslb "$T/lb.ini"
python3 "$top_srcdir/tests/helpers/ppclient.py" "$MTLSLB_PORT" --header v1 \
    --src 198.51.100.9:777 --dst 203.0.113.1:443 --cert "$PKI/client.crt" \
    --key "$PKI/client.key" --ca "$PKI/root.crt" --path / >"$T/last.body" \
    2>"$T/ppc.err" || fail "ppclient: $(cat "$T/ppc.err")"
[ "$(body_field pp-src)" = 198.51.100.9:777 ] &&
    [ "$(body_field pp-dst)" = 203.0.113.1:443 ] ||
    fail "in and out: src '$(body_field pp-src)' dst '$(body_field pp-dst)'"
pass "PROXY in, PROXY out: the backend sees the balancer's client"

stop_mtlslb
pass "34-proxy-protocol-out: all checks passed"
