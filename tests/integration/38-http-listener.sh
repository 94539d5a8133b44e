#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 38-http-listener: protocol = http listeners (issue 13). With
# redirect_to_https = on every request gets 308 to
# https://HOST[:https_port]/path?query, port included only when it is not
# 443, no back end is asked, a request without Host gets 400, and curl -L
# with the client certificate follows the redirect to a 200 over mTLS.
# Without redirect_to_https the listener forwards plain HTTP with
# X-Forwarded-Proto: http and no client-certificate header of any family,
# whatever the client sent; its access-log line says tls=-.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
LB_PORT=$(free_port)
HP=$(free_port)			# redirect, https_port = LB_PORT
HP443=$(free_port)		# redirect, https_port = 443
PP=$(free_port)			# plain proxying
std_config "$T/lb.ini"
cat >>"$T/lb.ini" <<EOF

[listener redirect]
protocol = http
bind = 127.0.0.1:$HP
redirect_to_https = on
https_port = $LB_PORT

[listener redirect443]
protocol = http
bind = 127.0.0.1:$HP443
redirect_to_https = on

[listener plain]
protocol = http
bind = 127.0.0.1:$PP
server_group = default
EOF
"$MTLSLB_BIN" -t -c "$T/lb.ini" 2>"$T/t.err" ||
    fail "-t refuses the config: $(cat "$T/t.err")"
log_mark
start_mtlslb "$T/lb.ini"
wait_port "$HP" 10 || fail "the redirect listener does not accept"
wait_port "$PP" 10 || fail "the plain listener does not accept"

# plain GET URL [curl args...]: curl -i over plain HTTP; the head in
# $T/plain.head, the status in PLAIN_CODE.
plain() {
	local url=$1
	shift
	PLAIN_CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -o "$T/plain.body" \
	    -D "$T/plain.head" -w '%{http_code}' "$@" "$url" 2>"$T/plain.err") ||
	    PLAIN_CODE=000
}
location() {
	tr -d '\r' <"$T/plain.head" | sed -n 's/^[Ll]ocation: //p' | head -n 1
}

# --- redirect_to_https --------------------------------------------------------
before=$(backend_hits ECS01)
plain "http://127.0.0.1:$HP/a?b=c" -H 'Host: lb.example.com'
[ "$PLAIN_CODE" = 308 ] || fail "redirect: HTTP $PLAIN_CODE, want 308"
[ "$(location)" = "https://lb.example.com:$LB_PORT/a?b=c" ] ||
    fail "redirect: Location '$(location)', want https://lb.example.com:$LB_PORT/a?b=c"
pass "308 with Location https://lb.example.com:$LB_PORT/a?b=c"

plain "http://127.0.0.1:$HP443/a?b=c" -H 'Host: lb.example.com'
[ "$PLAIN_CODE" = 308 ] && [ "$(location)" = "https://lb.example.com/a?b=c" ] ||
    fail "https_port 443: HTTP $PLAIN_CODE, Location '$(location)'"
plain "http://127.0.0.1:$HP443/x/y?q=1&r" -H 'Host: lb.example.com:8080'
[ "$(location)" = "https://lb.example.com/x/y?q=1&r" ] ||
    fail "Host with a port: Location '$(location)'"
plain "http://127.0.0.1:$HP443/" -H 'Host: [::1]:80'
[ "$(location)" = "https://[::1]/" ] ||
    fail "IPv6 Host: Location '$(location)'"
pass "https_port = 443 leaves the port out; the Host's port is dropped"

plain "http://127.0.0.1:$HP/p" -X POST --data-binary 'some body'
[ "$PLAIN_CODE" = 308 ] && [ "$(location)" = "https://127.0.0.1:$LB_PORT/p" ] ||
    fail "POST: HTTP $PLAIN_CODE, Location '$(location)'"
pass "a POST is redirected too (308 keeps the method)"

# No Host at all (HTTP/1.0), a bad Host: 400, nothing redirected.
python3 - "$HP" >"$T/nohost.out" 2>&1 <<'PY' || fail "no Host: $(cat "$T/nohost.out")"
import socket, sys
port = int(sys.argv[1])
def ask(req):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(req)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    s.close()
    return data
r = ask(b"GET /a HTTP/1.0\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400 "), r[:200]
assert b"Location" not in r, r[:300]
r = ask(b"GET /a HTTP/1.1\r\nHost: a b\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400 "), r[:200]
r = ask(b"GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400 "), r[:200]
PY
pass "HTTP/1.0 without Host, a Host with a blank, two Hosts: 400"
[ "$(backend_hits ECS01)" = "$before" ] ||
    fail "a redirect listener sent $(($(backend_hits ECS01) - before)) requests to the back end"
pass "no redirect touched the back end"

# curl -L with the client certificate follows it to the mTLS listener.
rm -f "$T/follow.body"
code=$(curl -sS --max-time "$CURL_TIMEOUT" -L --cacert "$PKI/root.crt" \
    --cert "$PKI/client.crt" --key "$PKI/client.key" -o "$T/follow.body" \
    -w '%{http_code} %{num_redirects} %{url_effective}' \
    "http://127.0.0.1:$HP/headers?via=80" 2>"$T/follow.err") ||
    fail "curl -L failed: $(cat "$T/follow.err")"
[ "$code" = "200 1 https://127.0.0.1:$LB_PORT/headers?via=80" ] ||
    fail "curl -L: '$code', want 200 after one redirect to https"
grep -q '^X-Forwarded-Clientcert-subjectdn: CN=client' "$T/follow.body" ||
    fail "curl -L: the back end saw no client certificate: $(cat "$T/follow.body")"
pass "curl -L with the client certificate follows the 308 to a 200 over mTLS"

# --- plain proxying ------------------------------------------------------------
plain "http://127.0.0.1:$PP/headers" \
    -H 'X-Forwarded-Proto: https' \
    -H 'X-Forwarded-Clientcert-subjectdn: CN=admin' \
    -H 'X-Forwarded-Clientcert-clientverify: SUCCESS' \
    -H 'X-SSL-Client-Cert: forged' -H 'SSL_CLIENT_S_DN: CN=admin' \
    -H 'X-Client-Cert: forged' -H 'Client-Cert: :Zm9v:' \
    -H 'X-Forwarded-For: 192.0.2.1'
[ "$PLAIN_CODE" = 200 ] || fail "plain proxying: HTTP $PLAIN_CODE"
cp "$T/plain.body" "$T/last.body"
[ "$(req_header X-Forwarded-Proto)" = http ] ||
    fail "plain: X-Forwarded-Proto is '$(req_header X-Forwarded-Proto)'"
[ "$(req_header_count X-Forwarded-Proto)" = 1 ] ||
    fail "plain: $(req_header_count X-Forwarded-Proto) X-Forwarded-Proto lines"
if grep -qiE 'clientcert|ssl[-_]client|client[-_]cert|forged|CN=admin' \
    "$T/last.body"; then
	fail "plain: a client-certificate header reached the back end:" \
	    "$(tr '\n' '|' <"$T/last.body")"
fi
[ "$(req_header X-Forwarded-For)" = "192.0.2.1, 127.0.0.1" ] ||
    fail "plain: X-Forwarded-For is '$(req_header X-Forwarded-For)'"
pass "plain HTTP proxied with X-Forwarded-Proto: http, no client-certificate" \
    "headers, X-Forwarded-For appended"

plain "http://127.0.0.1:$PP/" -H 'Connection: keep-alive' \
    --next -sS --max-time "$CURL_TIMEOUT" -o /dev/null "http://127.0.0.1:$PP/"
[ "$PLAIN_CODE" = 200200 ] || fail "plain keep-alive: '$PLAIN_CODE'"
pass "two requests on one plain connection"

wait_mtlslb_log '"GET /headers HTTP/1\.1" 200 .* tls=- cipher=- tls_resumed=\. verify=NONE server=ECS01' 10 ||
    fail "no access-log line with tls=- for the plain request"
wait_mtlslb_log '"GET /a\?b=c HTTP/1\.1" 308 [0-9]+ .* server=- upstream=-' 10 ||
    fail "no access-log line for the redirect"
pass "access log: tls=- for plain requests, 308 with server=-"

stop_mtlslb
pass "38-http-listener: all checks passed"
