#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 43-h2-attacks: the HTTP/2 attack classes and misbehaving HTTP/2 peers
# (tests/helpers/h2attack.py, raw frames over TLS with a client
# certificate). Each ends in the RFC's answer and the daemon goes on
# serving another connection (checked with curl --http2 after each):
# rapid reset (CVE-2023-44487) -> GOAWAY ENHANCE_YOUR_CALM with a bounded
# number of requests started; CONTINUATION flood (CVE-2024-27316) ->
# GOAWAY; HPACK bomb past http2_max_header_list_size -> 431; SETTINGS and
# PING floods -> GOAWAY ENHANCE_YOUR_CALM; a zero window forever -> closed
# after client_body_timeout with the daemon's memory bounded; stream id
# reuse -> GOAWAY STREAM_CLOSED, even ids -> GOAWAY PROTOCOL_ERROR; DATA over the window ->
# FLOW_CONTROL_ERROR; connection-specific headers and a Host unlike
# :authority -> RST_STREAM PROTOCOL_ERROR; a client that closes mid-upload
# (499), resets mid-download (the connection goes on), or sends no
# HTTP/2 preface.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
PY=/usr/bin/python3
if ! [ -x "$PY" ] || ! "$PY" -c 'import h2, hpack' 2>/dev/null; then
	skip "/usr/bin/python3 with the h2 module (python3-h2) not found"
fi
curl -V | grep -qw HTTP2 || skip "curl without HTTP/2"
ATTACK=$top_srcdir/tests/helpers/h2attack.py
CURL_HTTP=--http2

P1=$(free_port)
start_backend ECS01 "$P1"
SERVERS="server = ECS01 127.0.0.1:$P1"
CONF=$T/lb.ini
# backend_timeout = 300s: data-over-window's backend stays silent until the
# client has overrun its window, which may take a slow machine a while.
WORKERS=1 BACKEND_TIMEOUT=300s LISTENER_EXTRA="client_body_timeout = 2s" \
    restart_mtlslb "$CONF"

# attack NAME [args]: runs one attack; its result line in $RESULT.
attack() {
	local name=$1 rc=0
	shift
	RESULT=$(timeout 120 "$PY" "$ATTACK" "$name" "$MTLSLB_PORT" \
	    --cert "$PKI/client.crt" --key "$PKI/client.key" \
	    --ca "$PKI/root.crt" "$@" 2>"$T/attack.err") || rc=$?
	RESULT=${RESULT##*result: }
	[ "$rc" = 0 ] ||
	    fail "$name: not the RFC's answer (exit $rc): ${RESULT:-none}; $(tail -n 3 "$T/attack.err")"
	still_serving "$name"
}

# still_serving NAME: a new connection is served over HTTP/2.
still_serving() {
	local v
	pid_alive "$MTLSLB_PID" || fail "$1: the daemon died"
	v=$(curl_mtls "$(lb_url /)" -o /dev/null -w '%{http_code} %{http_version}') ||
	    fail "$1: the next connection failed"
	[ "$v" = "200 2" ] || fail "$1: the next connection got '$v'"
}

before=$(backend_hits ECS01 rapid=)
attack rapid-reset --n 20000
started=$(($(backend_hits ECS01 rapid=) - before))
[ "$started" -le 1000 ] ||
    fail "rapid reset: $started requests reached the backend"
pass "rapid reset: $RESULT; $started of them reached the backend"

attack continuation-flood --n 100000
pass "CONTINUATION flood: $RESULT"

attack hpack-bomb
pass "HPACK bomb past http2_max_header_list_size: $RESULT"

attack settings-flood --n 100000
pass "SETTINGS flood: $RESULT"

attack ping-flood --n 100000
pass "PING flood: $RESULT"

base=$(rss_tree_kb "$MTLSLB_PID")
attack zero-window --path /bytes/104857600 --timeout 60
after=$(rss_tree_kb "$MTLSLB_PID")
[ $((after - base)) -lt 32768 ] ||
    fail "zero window: the daemon grew from $base to $after KiB"
wait_mtlslb_log 'no progress within client_body_timeout' ||
    fail "zero window: no 'client_body_timeout' line"
pass "zero window forever: $RESULT after client_body_timeout" \
    "(RSS $base -> $after KiB)"

attack stream-reuse
[ "$(backend_hits ECS01 reuse2)" = 0 ] ||
    fail "stream id reuse: the second HEADERS on stream 1 was served"
pass "stream id reuse (HEADERS again on a half-closed stream): $RESULT"
attack even-stream
pass "an even stream id from the client: $RESULT"
attack data-over-window
pass "DATA past the window: $RESULT"
attack conn-header
pass "a connection-specific header: $RESULT"
attack host-conflict
pass "Host unlike :authority: $RESULT"

log_mark
attack early-close
wait_mtlslb_log '"POST /upload HTTP/2\.0" 499 ' 10 ||
    fail "early close: no 499 access-log line"
pass "client gone mid-upload: 499 logged, daemon serves on"
attack reset-mid
pass "client resets a stream mid-download; its next stream: $RESULT"
attack garbage-preface
pass "no HTTP/2 preface after ALPN h2: $RESULT"

pass "43-h2-attacks: all checks passed"
