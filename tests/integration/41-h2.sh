#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 41-h2: HTTP/2 to clients (ALPN h2). curl --http2 with a client
# certificate gets 200 over HTTP/2; streams of one connection are balanced
# one by one; nginx's 400 pages (no certificate, a revoked one) come as
# HTTP/2 responses; http2 = off negotiates http/1.1; the client-certificate
# headers are forwarded and spoofed ones dropped; the access log says
# HTTP/2.0; 100 MiB each way intact in bounded memory; keepalive_requests
# ends a connection with GOAWAY and curl carries on; h2load runs many
# streams at 0 failures, and nghttp as many with a client certificate.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd curl
curl -V | grep -qw HTTP2 || skip "curl without HTTP/2"

BIG=104857600			# 100 MiB
RSS_LIMIT_KB=65536		# 64 MiB for the master and all workers
if [ -n "${MTLSLB_WRAPPER:-}" ] ||
    ldd "$MTLSLB_BIN" 2>/dev/null | grep -q 'libasan'; then
	RSS_LIMIT_KB=$((1 << 30))
	echo "# sanitizer build: the 64 MiB RSS bound is checked in the plain build"
fi
# h2load's request count: 100k in the plain build, fewer under sanitizers
H2LOAD_N=${H2LOAD_N:-100000}
case $RSS_LIMIT_KB in 65536) ;; *) H2LOAD_N=${H2LOAD_N_SLOW:-10000} ;; esac

CURL_HTTP=--http2

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
CONF=$T/lb.ini

NO_CERT_PAGE='<title>400 No required SSL certificate was sent</title>'
CERT_ERR_PAGE='<title>400 The SSL certificate error</title>'

WORKERS=1 CRL=$PKI/crl.pem restart_mtlslb "$CONF"

# --- one request, then four on one connection --------------------------------
v=$(curl_mtls "$(lb_url /)" -o "$T/one.body" -w '%{http_code} %{http_version}') ||
    fail "curl --http2 failed: $v"
[ "$v" = "200 2" ] || fail "want '200 2' (status, HTTP version), got '$v'"
grep -q 'Hello World ! This is ECS0' "$T/one.body" ||
    fail "no backend body over HTTP/2: $(head -c 200 "$T/one.body")"
pass "curl --http2 with a client certificate: 200 over HTTP/2"

u=$(lb_url /)
out=$(curl_mtls "$u" "$u" "$u" "$u" -w '[%{http_version} %{num_connects}]\n') ||
    fail "four requests on one connection failed"
s=$(echo "$out" | sed -n 's/^Hello World ! This is ECS0\([12]\)\..*/\1/p' | tr -d '\n')
n=$(echo "$out" | grep -c '^\[2 ')
c=$(echo "$out" | grep -o '\[2 [0-9]*\]' | awk '{ s += $2 } END { print s + 0 }')
case $s in 1212 | 2121) ;; *) fail "streams of one connection gave '$s'" ;; esac
[ "$n" = 4 ] || fail "not all four over HTTP/2: $out"
[ "$c" = 1 ] || fail "four requests took $c connections: $out"
pass "four streams on one HTTP/2 connection alternate: $s"

wait_mtlslb_log '"GET / HTTP/2\.0" 200 ' ||
    fail "no access log line with 'GET / HTTP/2.0' 200"
pass "access log: protocol HTTP/2.0"

# --- nginx's 400 pages as HTTP/2 responses ----------------------------------
page_h2() {
	local id=$1 page=$2 tag=$3 v
	v=$(CERT=$id curl_mtls "$(lb_url "/?tag=$tag")" -o "$T/page.body" \
	    -w '%{http_code} %{http_version}') || true
	[ "$v" = "400 2" ] || fail "$id: want '400 2', got '$v'"
	grep -qF "$page" "$T/page.body" ||
	    fail "$id: the 400 page lacks '$page': $(head -c 300 "$T/page.body")"
	[ "$(($(backend_hits ECS01 "$tag") + $(backend_hits ECS02 "$tag")))" = 0 ] ||
	    fail "$id: a rejected stream reached a backend"
}
page_h2 none "$NO_CERT_PAGE" h2-nocert
pass "no certificate: HTTP/2 400 '$NO_CERT_PAGE', not proxied"
page_h2 revoked "$CERT_ERR_PAGE" h2-revoked
pass "revoked certificate: HTTP/2 400 '$CERT_ERR_PAGE', not proxied"

# A rejected stream does not end the connection: the next one is served
# on it (the page is per stream, as the client-certificate verdict is the
# connection's, every stream gets it).
out=$(CERT=none curl_mtls "$u" "$u" -w '[%{http_code} %{num_connects}]\n') || true
c=$(echo "$out" | grep -o '\[400 [0-9]*\]' | awk '{ s += $2; n++ } END { print n + 0, s + 0 }')
[ "$c" = "2 1" ] ||
    fail "two streams without a certificate: want 2 pages on 1 connection, got '$c'"
pass "both streams of a connection without a certificate get the page"

# --- forwarded client-certificate headers, spoofed ones dropped --------------
SPOOF=(-H 'X-Forwarded-Clientcert-subjectdn: CN=admin'
    -H 'X-Forwarded-Clientcert-issuerdn: CN=evil'
    -H 'X-Forwarded-Clientcert-clientverify: FORGED'
    -H 'X-Forwarded-For: 6.6.6.6')
expect_status 200 "$(lb_url /headers)" "${SPOOF[@]}" \
    -H 'Cookie: a=1' -H 'Cookie: b=2'
grep -qiE 'CN=admin|CN=evil|FORGED' "$T/last.body" &&
    fail "a spoofed client-certificate header reached the backend over h2"
[ "$(req_header X-Forwarded-Clientcert-clientverify)" = SUCCESS ] ||
    fail "clientverify is '$(req_header X-Forwarded-Clientcert-clientverify)'"
case $(req_header X-Forwarded-Clientcert-subjectdn) in
*CN=client*) ;;
*) fail "subjectdn is '$(req_header X-Forwarded-Clientcert-subjectdn)'" ;;
esac
[ "$(req_header Host)" = "127.0.0.1:$MTLSLB_PORT" ] ||
    fail "Host is '$(req_header Host)', want the :authority"
[ "$(req_header Cookie)" = "a=1; b=2" ] ||
    fail "cookies not rejoined with '; ': '$(req_header Cookie)'"
pass "h2: clientcert headers forwarded, spoofed ones dropped, :authority" \
    "-> Host, cookies rejoined"

# --- 100 MiB down and up over HTTP/2, intact, bounded memory ------------------
big_transfers "h2 100 MiB" 2

# A body of unknown length (no content-length) goes up chunked.
n=3000001
head -c "$n" /dev/urandom >"$T/chunk.bin"
want=$(sha256_of "$T/chunk.bin")
expect_status 200 "$(lb_url /upload/chunked)" --max-time 60 \
    -H 'Transfer-Encoding: chunked' --data-binary "@$T/chunk.bin"
grep -qx "sha256=$want bytes=$n" "$T/last.body" ||
    fail "h2 upload without a length: backend says '$(cat "$T/last.body")'"
expect_status 200 "$(lb_url "/chunked/$n")" --max-time 60
[ "$(sha256_of "$T/last.body")" = "$("$BACKEND_BIN" --gen "$n" | sha256_of -)" ] ||
    fail "h2 chunked download: body differs from the pattern"
pass "h2: a body without a length goes up chunked; a chunked response" \
    "comes down as DATA (sha256 both ways)"

# --- http2 = off; keepalive_requests ------------------------------------------
LISTENER_EXTRA="http2 = off" restart_mtlslb "$CONF"
v=$(curl_mtls "$(lb_url /)" -o /dev/null -w '%{http_code} %{http_version}') ||
    fail "http2 = off: curl failed"
[ "$v" = "200 1.1" ] || fail "http2 = off: want '200 1.1', got '$v'"
pass "http2 = off: curl --http2 negotiates http/1.1"

LISTENER_EXTRA="keepalive_requests = 2" restart_mtlslb "$CONF"
u=$(lb_url /)
out=$(curl_mtls "$u" "$u" "$u" "$u" -w '[%{http_code} %{num_connects}]\n' \
    2>"$T/ka.err") || fail "keepalive_requests = 2: curl failed: $(cat "$T/ka.err")"
c=$(echo "$out" | grep -o '\[200 [0-9]*\]' | awk '{ s += $2; n++ } END { print n + 0, s + 0 }')
[ "$c" = "4 2" ] || fail "keepalive_requests = 2: want 4 answers on 2 connections, got '$c': $out"
pass "keepalive_requests = 2: GOAWAY after 2 streams, 4 requests on 2 connections"

# --- SIGHUP: GOAWAY to the old workers' connections, streams in flight end ---
(
	curl_mtls "$(lb_url /delay/3000)" -o "$T/hup.body" \
	    -w '%{http_code} %{http_version}' >"$T/hup.v" 2>"$T/hup.err"
	echo "$?" >"$T/hup.rc"
) &
job=$!
t_track "$job" "request across the reload"
for ((i = 0; i < 100; i++)); do
	[ "$(($(backend_hits ECS01 /delay/3000) + $(backend_hits ECS02 /delay/3000)))" -ge 1 ] && break
	sleep 0.1
done
kill -HUP "$MTLSLB_PID"
wait "$job" 2>/dev/null || true
t_untrack "$job"
if [ "$(cat "$T/hup.rc" 2>/dev/null)" != 0 ] ||
    [ "$(cat "$T/hup.v" 2>/dev/null)" != "200 2" ]; then
	fail "a stream in flight across SIGHUP: '$(cat "$T/hup.v" 2>/dev/null)'" \
	    "$(cat "$T/hup.err" 2>/dev/null)"
fi
v=$(curl_mtls "$(lb_url /)" -o /dev/null -w '%{http_code} %{http_version}') ||
    fail "after the reload: curl failed"
[ "$v" = "200 2" ] || fail "after the reload: '$v'"
pass "SIGHUP: the HTTP/2 stream in flight finishes (200), new connections served"

# --- h2load: many streams at 0 failures -------------------------------------
# h2load (nghttp2-client 1.52) has no client-certificate option, so this
# listener has mutual_authentication = optional; the mTLS path per stream
# is the one the curl checks above take.
if command -v h2load >/dev/null 2>&1; then
	# one connection carries them all: keepalive_requests (GOAWAY after
	# N streams, 1000 by default as in nginx) is raised for it
	MTLS=optional LISTENER_EXTRA="keepalive_requests = 1000000" \
	    restart_mtlslb "$CONF"
	h2load -n "$H2LOAD_N" -c 1 -m 100 "$(lb_url /)" >"$T/h2load.out" 2>&1 ||
	    fail "h2load failed: $(tail -n 5 "$T/h2load.out")"
	grep -E "^requests: $H2LOAD_N total, $H2LOAD_N started, $H2LOAD_N done, $H2LOAD_N succeeded, 0 failed, 0 errored" "$T/h2load.out" >/dev/null ||
	    fail "h2load: $(grep -E '^requests|^status' "$T/h2load.out")"
	pass "h2load: $H2LOAD_N requests over 100 concurrent streams, 0 failed" \
	    "($(grep -E '^finished' "$T/h2load.out"))"
else
	echo "# h2load not installed (nghttp2-client): skipped"
fi

# --- nghttp: many streams with a client certificate ---------------------------
# The same package's nghttp can present one: N requests on one connection
# with mutual_authentication = on, at most 100 streams at once (the
# listener's http2_max_concurrent_streams), each one forwarded.
if command -v nghttp >/dev/null 2>&1; then
	NGHTTP_N=$H2LOAD_N
	LISTENER_EXTRA="keepalive_requests = 1000000
http2_max_concurrent_streams = 100" restart_mtlslb "$CONF"
	before=$(($(backend_hits ECS01) + $(backend_hits ECS02)))
	nghttp -n -m "$NGHTTP_N" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" "$(lb_url /)" >"$T/nghttp.out" 2>&1 ||
	    fail "nghttp with a client certificate: $(tail -n 5 "$T/nghttp.out")"
	after=$(($(backend_hits ECS01) + $(backend_hits ECS02)))
	[ $((after - before)) = "$NGHTTP_N" ] ||
	    fail "nghttp: $((after - before)) of $NGHTTP_N requests reached" \
	    "the backends: $(tail -n 5 "$T/nghttp.out")"
	pass "nghttp with a client certificate: $NGHTTP_N requests on one" \
	    "connection, at most 100 streams at once, all forwarded"
fi

pass "41-h2: all checks passed"
