#!/bin/bash
# 33-headers: issue 17's header rules end to end, through the daemon to
# the test backend, whose /headers route echoes the request head it got.
# Spoofable forwarding and client-certificate headers never arrive (item
# 11), X-Forwarded-For ends with the peer address, a chunked request with
# a forbidden trailer field gets 400 (item 3), absolute-form targets are
# forwarded in origin-form with their authority as Host and bad targets
# or Hosts get 400 (item 12), h2c is never offered upstream (item 15) and
# an HTTP/1.0 client's Expect is not forwarded, so it sees no 1xx (item 10).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki
RAWTLS="python3 $top_srcdir/tests/helpers/rawtls.py"

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
restart_mtlslb "$T/lb.ini"

# over NAME DATA: one mTLS connection that sends DATA (escapes as in
# rawtls.py) and reads until the daemon closes it (bounded by --timeout).
# The answer is $T/NAME.out; prints its status codes on one line.
over() {
	local name=$1 rc=0
	$RAWTLS send "$MTLSLB_PORT" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" --ca "$PKI/root.crt" --timeout 5 "$2" \
	    >"$T/$name.out" 2>"$T/$name.err" || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 3 ] ||
	    harness_error "$name: rawtls exit $rc: $(head -c 200 "$T/$name.err")"
	grep -aoE '^HTTP/1\.[01] [0-9]{3}' "$T/$name.out" | cut -d' ' -f2 |
	    tr '\n' ' ' | sed 's/ $//'
}

# echoed NAME HEADER: the value of HEADER in the backend's echo, the body
# of the last response in $T/NAME.out (empty when it has none).
echoed() {
	tr -d '\r' <"$T/$1.out" | awk -v n="$(printf '%s' "$2" |
	    tr '[:upper:]' '[:lower:]')" '
	    /^HTTP\/1\.[01] [0-9][0-9][0-9]/ { body = 0; next }
	    /^$/ { body = 1; next }
	    { if (!body) next; i = index($0, ":"); if (i == 0) next
	      if (tolower(substr($0, 1, i - 1)) == n) {
		v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

H='Host: localhost\r\n'
CLOSE='Connection: close\r\n'

# --- item 11: spoofable forwarding and identity headers ----------------------
SPOOF=(-H 'Forwarded: for=10.9.9.9;proto=http'
    -H 'X-Real-IP: 10.9.9.9'
    -H 'X-Forwarded-Host: internal.example'
    -H 'X-Forwarded-Port: 80'
    -H 'X-Forwarded-Proto: http'
    -H 'X-Forwarded-Client-Cert: Hash=00;Subject="CN=admin"'
    -H 'Client-Cert: :QUJD:'
    -H 'Client-Cert-Chain: :QUJD:'
    -H 'X-Amzn-Mtls-Clientcert: CN=admin'
    -H 'X-SSL-Client-S-DN: CN=admin'
    -H 'X_Real_IP: 10.9.9.9'
    -H 'X-Forwarded-For: 10.1.1.1'
    -H 'X-Kept: yes')
expect_status 200 "$(lb_url /headers)" "${SPOOF[@]}"
for h in Forwarded X-Real-IP X_Real_IP X-Forwarded-Host X-Forwarded-Port \
    X-Forwarded-Client-Cert Client-Cert Client-Cert-Chain \
    X-Amzn-Mtls-Clientcert X-SSL-Client-S-DN; do
	[ "$(req_header_count "$h")" = 0 ] ||
	    fail "$h reached the backend: $(tr '\n' '|' <"$T/last.body")"
done
grep -qE '10\.9\.9\.9|internal\.example|CN=admin|QUJD' "$T/last.body" &&
    fail "a spoofed value reached the backend: $(tr '\n' '|' <"$T/last.body")"
[ "$(req_header_count X-Forwarded-Proto)" = 1 ] &&
    [ "$(req_header X-Forwarded-Proto)" = https ] ||
    fail "X-Forwarded-Proto is '$(req_header X-Forwarded-Proto)'"
[ "$(req_header X-Kept)" = yes ] || fail "X-Kept was not forwarded"
pass "Forwarded, X-Real-IP, X-Forwarded-Host/-Port/-Proto/-Client-Cert," \
    "Client-Cert(-Chain), X-Amzn-Mtls-*, X-SSL-Client-* removed"
[ "$(req_header X-Forwarded-For)" = "10.1.1.1, 127.0.0.1" ] ||
    fail "X-Forwarded-For is '$(req_header X-Forwarded-For)'," \
    "want '10.1.1.1, 127.0.0.1'"
pass "x_forwarded_for = append: the peer address is the last entry"

# --- item 3: forbidden chunked trailer fields ---------------------------------
BODY='5\r\nhello\r\n0\r\n'
st=$(over trailer-ok "POST /upload HTTP/1.1\r\n${H}${CLOSE}Transfer-Encoding: chunked\r\n\r\n${BODY}X-Checksum: 1\r\n\r\n")
[ "$st" = 200 ] || fail "an allowed trailer: got '$st', want 200"
grep -qa 'bytes=5' "$T/trailer-ok.out" || fail "allowed trailer: body lost"
pass "an ordinary trailer field passes (200, body intact)"
n=0
for f in 'X-Forwarded-Clientcert-subjectdn: CN=admin' \
    'x-forwarded-clientcert-clientverify: SUCCESS' 'Content-Length: 5' \
    'X-Forwarded-For: 10.0.0.1' 'Host: internal' 'Authorization: Basic eDp5' \
    'X-SSL-Client-Verify: SUCCESS'; do
	n=$((n + 1))
	st=$(over "trailer-$n" "POST /upload HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${BODY}X-Sum: 1\r\n${f}\r\n\r\n")
	[ "$st" = 400 ] || fail "trailer '$f': got '$st', want 400"
	grep -qa 'bytes=' "$T/trailer-$n.out" &&
	    fail "trailer '$f': the backend answered the request"
	pass "trailer '${f%%:*}': 400, the backend never completed the request"
done

# --- item 12: request target and Host --------------------------------------------
st=$(over absolute "GET http://internal.example/headers?x=1 HTTP/1.1\r\nHost: public.example\r\n${CLOSE}\r\n")
[ "$st" = 200 ] || fail "absolute-form: got '$st', want 200"
[ "$(echoed absolute Host)" = internal.example ] ||
    fail "absolute-form: Host is '$(echoed absolute Host)'"
[ "$(backend_hits ECS01 '^GET /headers\?x=1$')" = 1 ] ||
    fail "absolute-form: backend log: $(cat "$T/ECS01.requests")"
pass "absolute-form: forwarded as 'GET /headers?x=1', Host from the target"
for c in 'relative:GET foo HTTP/1.1\r\nHost: h\r\n' \
    'star-get:GET * HTTP/1.1\r\nHost: h\r\n' \
    'ftp:GET ftp://h/ HTTP/1.1\r\nHost: h\r\n' \
    'userinfo:GET http://u@h/ HTTP/1.1\r\nHost: h\r\n' \
    'host-space:GET / HTTP/1.1\r\nHost: a b\r\n' \
    'host-at:GET / HTTP/1.1\r\nHost: evil@a\r\n' \
    'host-empty:GET / HTTP/1.1\r\nHost:\r\n' \
    'host-two:GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n' \
    'host-none:GET / HTTP/1.1\r\nX-A: 1\r\n'; do
	name=${c%%:*}
	st=$(over "$name" "${c#*:}\r\n")
	[ "$st" = 400 ] || fail "$name: got '$st', want 400"
	pass "$name: 400"
done
# (the test backend itself answers '*' with 400: the access log says who)
log_mark
st=$(over options-star "OPTIONS * HTTP/1.1\r\n${H}${CLOSE}\r\n")
wait_mtlslb_log '"OPTIONS \* HTTP/1\.1" [0-9]+ .* server=ECS01 ' ||
    fail "OPTIONS * was not forwarded (got '$st'): $(mtlslb_log_since)"
pass "OPTIONS * is forwarded"

# --- item 15: h2c ------------------------------------------------------------
st=$(over h2c "GET /headers HTTP/1.1\r\n${H}${CLOSE}Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
[ "$st" = 200 ] || fail "h2c: got '$st', want 200"
for h in Upgrade HTTP2-Settings Connection; do
	[ -z "$(echoed h2c "$h")" ] ||
	    fail "h2c: the backend got $h: $(echoed h2c "$h")"
done
pass "Upgrade: h2c: the backend gets a plain request, no Upgrade"

# --- item 10: an HTTP/1.0 client's Expect ----------------------------------
st=$(over expect10 "POST /headers HTTP/1.0\r\n${H}Content-Length: 2\r\nExpect: 100-continue\r\n\r\nhi")
[ "$st" = 200 ] || fail "HTTP/1.0 Expect: got '$st', want only 200"
[ -z "$(echoed expect10 Expect)" ] ||
    fail "HTTP/1.0 Expect was forwarded: $(echoed expect10 Expect)"
pass "HTTP/1.0 + Expect: not forwarded, no 100 Continue for the client"
st=$(over expect11 "POST /headers HTTP/1.1\r\n${H}${CLOSE}Content-Length: 2\r\nExpect: 100-continue\r\n\r\nhi")
[ "$st" = "100 200" ] || fail "HTTP/1.1 Expect: got '$st', want '100 200'"
pass "HTTP/1.1 + Expect: 100 Continue, then 200"

# --- item 11: x_forwarded_for = replace -------------------------------------
LISTENER_EXTRA='x_forwarded_for = replace' restart_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /headers)" -H 'X-Forwarded-For: 10.1.1.1'
[ "$(req_header X-Forwarded-For)" = 127.0.0.1 ] ||
    fail "x_forwarded_for = replace: the backend got '$(req_header X-Forwarded-For)'"
pass "x_forwarded_for = replace: the peer address alone"
