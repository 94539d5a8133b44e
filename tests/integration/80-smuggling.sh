#!/bin/bash
# 80-smuggling: request smuggling and malformed heads over real TLS (a raw
# python3 ssl client with the test client certificate). Each case is named
# after the attack it covers and checks the status the client gets and,
# through the backend's request log, that the backend never sees a second,
# hidden request (every smuggled request targets /smuggled).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki
RAWTLS="python3 $top_srcdir/tests/helpers/rawtls.py"

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT" WORKERS=1 \
    std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"

# raw NAME DATA...: sends DATA over one mTLS connection; the answer is in
# $T/NAME.out, the statuses (one per line) in $T/NAME.st, RAW_RC is
# rawtls' exit (0 closed by the server in order, 3 still open after the
# timeout, 5 reset, 6 TLS error) and RAW_CLOSE how it ended (close_notify,
# eof, reset ...).
raw() {
	local name=$1
	shift
	RAW_RC=0
	$RAWTLS send "$MTLSLB_PORT" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" --ca "$PKI/root.crt" \
	    --timeout "${RAW_TIMEOUT:-10}" "$@" >"$T/$name.out" \
	    2>"$T/$name.err" || RAW_RC=$?
	RAW_CLOSE=$(sed -n 's/^rawtls: close=//p' "$T/$name.err" | head -n 1)
	grep -aoE '^HTTP/1\.[01] [0-9]{3}' "$T/$name.out" |
	    cut -d' ' -f2 >"$T/$name.st" || true
}

# statuses NAME: the statuses of raw NAME on one line ("200 400").
statuses() {
	tr '\n' ' ' <"$T/$1.st" | sed 's/ $//'
}

# expect_raw NAME "STATUSES" DATA...: the answers are exactly STATUSES and
# the connection was closed by the daemon afterwards.
expect_raw() {
	local name=$1 want=$2 got
	shift 2
	raw "$name" "$@"
	got=$(statuses "$name")
	[ "$got" = "$want" ] ||
	    fail "$name: expected '$want', got '$got' (rawtls exit $RAW_RC:" \
	    "$(head -c 300 "$T/$name.out" | tr '\r\n' '  ')" \
	    "$(head -c 200 "$T/$name.err")"
	[ "$RAW_RC" = 0 ] ||
	    fail "$name: the connection was not closed in order after" \
	    "'$want' (rawtls exit $RAW_RC, close=$RAW_CLOSE)"
	pass "$name: $want, then closed ($RAW_CLOSE)"
}

# no_smuggled: the backend never logged a /smuggled request.
no_smuggled() {
	local n
	n=$(backend_hits ECS01 ' /smuggled')
	[ "$n" = 0 ] || fail "$1: the backend saw $n hidden request(s):" \
	    "$(cat "$T/ECS01.requests")"
}

H='Host: localhost\r\n'
SMUG="GET /smuggled HTTP/1.1\r\n${H}\r\n"

# Sanity: a plain request works over this client.
raw sanity "GET /?ok HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
[ "$(statuses sanity)" = 200 ] || fail "sanity: $(head -c 300 "$T/sanity.out")"
pass "sanity: raw client gets 200"

# --- framing conflicts: rejected before anything goes upstream ---------
expect_raw cl-te 400 \
    "POST /cl-te HTTP/1.1\r\n${H}Content-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-cl 400 \
    "POST /te-cl HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\n${SMUG}0\r\n\r\n"
expect_raw cl-cl-differ 400 \
    "POST /cl-cl HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 38\r\n\r\n${SMUG}"
expect_raw te-chunked-chunked 400 \
    "POST /te-dup HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-two-headers 400 \
    "POST /te-dup2 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-chunked-identity 400 \
    "POST /te-ci HTTP/1.1\r\n${H}Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-gzip-chunked 501 \
    "POST /te-gz HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-identity 501 \
    "POST /te-id HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n${SMUG}"
expect_raw te-space-before-colon 400 \
    "POST /te-sp HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-obs-fold 400 \
    "POST /te-fold HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n${SMUG}"
expect_raw te-http10 400 \
    "POST /te-10 HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUG}"
for p in /cl-te /te-cl /cl-cl /te-dup /te-dup2 /te-ci /te-gz /te-id /te-sp \
    /te-fold /te-10; do
	[ "$(backend_hits ECS01 " $p\$")" = 0 ] ||
	    fail "$p: a rejected request reached the backend"
done
no_smuggled framing
pass "framing conflicts: nothing reached the backend"

# --- bad chunk sizes: the head is already upstream, the body is not ----
# conn.c's pump_request() answers an invalid chunked body with a local 400
# (no response byte has gone to the client yet: the backend waits for the
# body) and logs "invalid chunked request body"; then it closes in order.
# A bare close is not accepted: a worker that dies closes too.
for case in "chunk-negative:-1" "chunk-hex-prefix:0x10" \
    "chunk-overflow:1ffffffffffffffff" "chunk-plus:+5" \
    "chunk-space:5 " "chunk-huge:ffffffffffffffffffff"; do
	name=${case%%:*}
	size=${case#*:}
	log_mark
	raw "$name" "POST /$name HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${size}\r\n${SMUG}\r\n0\r\n\r\n"
	st=$(statuses "$name")
	[ "$st" = 400 ] ||
	    fail "$name: expected 400, got '$st' (rawtls exit $RAW_RC," \
	    "close=$RAW_CLOSE): $(head -c 300 "$T/$name.out" | tr '\r\n' '  ')"
	[ "$RAW_RC" = 0 ] || fail "$name: after the 400 the connection was" \
	    "not closed in order (rawtls exit $RAW_RC, close=$RAW_CLOSE)"
	wait_mtlslb_log "invalid chunked request body" 10 ||
	    fail "$name: no 'invalid chunked request body' in the daemon log"
	[ "$(backend_hits ECS01 " /$name\$")" -le 1 ] ||
	    fail "$name: request seen twice"
	no_smuggled "$name"
	pass "$name (${size}): $st, then closed ($RAW_CLOSE), backend saw no" \
	    "hidden request"
done

# --- malformed heads -----------------------------------------------------
expect_raw bare-lf 400 "GET /bare-lf HTTP/1.1\n${H}\r\n"
expect_raw bare-lf-in-headers 400 \
    "GET /bare-lf2 HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n"
expect_raw bare-cr 400 "GET /bare-cr HTTP/1.1\r\n${H}X-A: 1\rX-B: 2\r\n\r\n"
expect_raw header-name-space 400 \
    "GET /name-space HTTP/1.1\r\n${H}Bad Header: x\r\n\r\n"
expect_raw header-leading-space 400 \
    "GET /lead-space HTTP/1.1\r\n${H} X-A: x\r\n\r\n"
expect_raw nul-in-header 400 "GET /nul HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n"
expect_raw nul-in-target 400 "GET /nul\x00t HTTP/1.1\r\n${H}\r\n"
expect_raw no-host 400 "GET /no-host HTTP/1.1\r\n\r\n"
expect_raw two-hosts 400 "GET /two-hosts HTTP/1.1\r\n${H}${H}\r\n"
expect_raw http-version 505 "GET /v2 HTTP/2.0\r\n${H}\r\n"
expect_raw connect-method 501 "CONNECT localhost:22 HTTP/1.1\r\n${H}\r\n"

long=$(head -c 9000 /dev/zero | tr '\0' a)
expect_raw long-request-line 414 "GET /$long HTTP/1.1\r\n${H}\r\n"
hdr="X-Filler: $(head -c 1000 /dev/zero | tr '\0' b)\r\n"
many=
for ((i = 0; i < 70; i++)); do many+=$hdr; done
expect_raw long-headers 431 "GET /long-headers HTTP/1.1\r\n${H}${many}\r\n"
few=
for ((i = 0; i < 120; i++)); do few+="X-H$i: v\r\n"; done
expect_raw too-many-headers 431 "GET /many HTTP/1.1\r\n${H}${few}\r\n"
for p in /bare-lf /bare-lf2 /bare-cr /name-space /lead-space /nul /no-host \
    /two-hosts /v2 /long-headers /many; do
	[ "$(backend_hits ECS01 " $p\$")" = 0 ] ||
	    fail "$p: a rejected request reached the backend"
done
pass "malformed heads: nothing reached the backend"

# --- pipelining: a malformed second request ------------------------------
expect_raw pipeline-second-malformed "200 400" \
    "GET /?first HTTP/1.1\r\n${H}\r\nGET /second HTTP/1.1\r\n${H}Bad Header: 1\r\n\r\n"
[ "$(backend_hits ECS01 ' /\?first$')" = 1 ] || fail "pipeline: /first not seen once"
[ "$(backend_hits ECS01 ' /second$')" = 0 ] || fail "pipeline: /second reached the backend"
expect_raw pipeline-second-cl-te "200 400" \
    "GET /?p1 HTTP/1.1\r\n${H}\r\nPOST /p2 HTTP/1.1\r\n${H}Content-Length: 38\r\nTransfer-Encoding: chunked\r\n\r\n${SMUG}"
[ "$(backend_hits ECS01 ' /p2$')" = 0 ] || fail "pipeline: /p2 reached the backend"
# Pipelined in separate writes as well as one.
expect_raw pipeline-three "200 200 400" "GET /?q1 HTTP/1.1\r\n${H}\r\n" \
    "GET /?q2 HTTP/1.1\r\n${H}\r\n" "GET /q3 HTTP/1.1\n${H}\n"
[ "$(backend_hits ECS01 ' /q3$')" = 0 ] || fail "pipeline: /q3 reached the backend"
# A body that hides a request is body, not a request.
expect_raw cl-body-is-not-a-request "200 200" \
    "POST /upload HTTP/1.1\r\n${H}Content-Length: 43\r\n\r\n${SMUG}GET /?last HTTP/1.1\r\n${H}Connection: close\r\n\r\n"
no_smuggled pipelining
pass "pipelining: the backend saw only the valid requests"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited $MTLSLB_STATUS"
if grep -Eq 'AddressSanitizer|runtime error|Assertion|assert' "$T/mtlslb.log"; then
	fail "sanitizer or assertion report in the daemon log"
fi
pass "daemon stopped cleanly"
