#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 39-proxy-protocol: accept_proxy_protocol (issue 13). An HAProxy in TCP
# mode with send-proxy-v2 in front of mtlslb: the client connects from
# 127.0.0.2, HAProxy from 127.0.0.1, and the access log and the back
# end's X-Forwarded-For show 127.0.0.2 with proxy=127.0.0.1:PORT logged
# too. A client writing v1 and v2 headers itself names any address (the
# balancer is trusted); v2 LOCAL keeps the real peer. From an allowed
# peer, a missing header (TLS at once), garbage, a header cut by a close
# and a silent half header each end the connection with a warn line; a
# peer outside proxy_protocol_from is refused even with a valid header.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki
PPC="python3 $top_srcdir/tests/helpers/ppclient.py"
PP_CERT=(--cert "$PKI/client.crt" --key "$PKI/client.key" --ca "$PKI/root.crt")

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
WORKERS=1 LISTENER_EXTRA="accept_proxy_protocol = on
proxy_protocol_from = 127.0.0.1/32 ::1
handshake_timeout = 3s" restart_mtlslb "$T/lb.ini"

# pp KIND [ppclient args...]: one ppclient run; its output in $T/pp.out,
# its exit status in PP_RC.
pp() {
	local kind=$1
	shift
	PP_RC=0
	$PPC "$MTLSLB_PORT" --header "$kind" "${PP_CERT[@]}" "$@" >"$T/pp.out" \
	    2>"$T/pp.err" || PP_RC=$?
}

# refused_logged KIND REGEX [ppclient args]: the connection is refused
# (closed before TLS) and, as warn lines are rate-limited (one per 5 s),
# tried again once a second until a warn line matching REGEX appears.
refused_logged() {
	local kind=$1 re=$2 i
	shift 2
	log_mark
	for ((i = 0; i < 30; i++)); do
		pp "$kind" "$@"
		[ "$PP_RC" = 4 ] ||
		    fail "$kind: not refused (ppclient exit $PP_RC): $(head -c 300 "$T/pp.out" "$T/pp.err")"
		mtlslb_log_since | grep -Eq -- "warn.*$re" && return 0
		sleep 1
	done
	fail "$kind: refused, but no warn line matching '$re'"
}

# --- headers a trusted balancer writes --------------------------------------
pp v1 --src 192.0.2.7:4321
[ "$PP_RC" = 0 ] || fail "v1: exit $PP_RC: $(cat "$T/pp.err")"
grep -q '^X-Forwarded-For: 192.0.2.7' "$T/pp.out" ||
    fail "v1: X-Forwarded-For: $(grep -i forwarded-for "$T/pp.out")"
pp v2 --src '[2001:db8::5]:999' --dst '[2001:db8::1]:443'
[ "$PP_RC" = 0 ] || fail "v2 IPv6: exit $PP_RC: $(cat "$T/pp.err")"
grep -q '^X-Forwarded-For: 2001:db8::5' "$T/pp.out" ||
    fail "v2: X-Forwarded-For: $(grep -i forwarded-for "$T/pp.out")"
wait_mtlslb_log '^192\.0\.2\.7 - "CN=client" .*"GET /headers HTTP/1\.1" 200 .* proxy=127\.0\.0\.1:[0-9]+$' 10 ||
    fail "v1: no access-log line for 192.0.2.7 with proxy=127.0.0.1"
wait_mtlslb_log '^2001:db8::5 - .* proxy=127\.0\.0\.1:[0-9]+$' 10 ||
    fail "v2: no access-log line for 2001:db8::5"
pass "v1 and v2 (IPv6, with a TLV): X-Forwarded-For and the access log" \
    "name the header's client, proxy= the balancer"

pp v2local
[ "$PP_RC" = 0 ] || fail "v2 LOCAL: exit $PP_RC: $(cat "$T/pp.err")"
tr -d '\r' <"$T/pp.out" | grep -q '^X-Forwarded-For: 127\.0\.0\.1$' ||
    fail "v2 LOCAL: X-Forwarded-For: $(grep -i forwarded-for "$T/pp.out")"
pass "v2 LOCAL: the real peer is the client"

# --- HAProxy in TCP mode with send-proxy-v2 ----------------------------------
if command -v haproxy >/dev/null 2>&1; then
	HA_PORT=$(free_port)
	write_config "$T/haproxy.cfg" <<EOF
global
	maxconn 100
defaults
	mode tcp
	timeout connect 10s
	timeout client 30s
	timeout server 30s
frontend fe
	bind 127.0.0.1:$HA_PORT
	default_backend be
backend be
	server lb 127.0.0.1:$MTLSLB_PORT send-proxy-v2
EOF
	haproxy -c -f "$T/haproxy.cfg" >"$T/haproxy.check" 2>&1 ||
	    harness_error "haproxy -c: $(cat "$T/haproxy.check")"
	haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1 &
	t_track $! haproxy "$T/haproxy.out"
	wait_port "$HA_PORT" 10 $! || harness_error "haproxy did not start"
	log_mark
	http_get "https://127.0.0.1:$HA_PORT/headers" --interface 127.0.0.2
	[ "$HTTP_CODE" = 200 ] ||
	    fail "through haproxy: HTTP $HTTP_CODE ($(last_summary))"
	[ "$(req_header X-Forwarded-For)" = 127.0.0.2 ] ||
	    fail "through haproxy: X-Forwarded-For '$(req_header X-Forwarded-For)'"
	wait_mtlslb_log '^127\.0\.0\.2 - "CN=client" .*"GET /headers HTTP/1\.1" 200 .* proxy=127\.0\.0\.1:[0-9]+$' 10 ||
	    fail "through haproxy: no access-log line for 127.0.0.2"
	pass "haproxy send-proxy-v2: the access log and X-Forwarded-For show" \
	    "127.0.0.2, proxy=127.0.0.1"
else
	[ "${CI:-}" = true ] && fail "haproxy not found (scripts/deps.sh installs it)"
	echo "# haproxy not found: its part is skipped"
fi

# --- misbehaving peers ---------------------------------------------------------
refused_logged none 'no PROXY protocol header \(a TLS handshake came first\)'
pass "allowed peer, no header (TLS at once): refused, warn line"
refused_logged garbage 'invalid PROXY protocol header'
pass "allowed peer, garbage: refused, warn line"
refused_logged partial-close 'closed before its PROXY protocol header'
pass "allowed peer, half a header then a close: refused, warn line"
refused_logged partial 'no PROXY protocol header within handshake_timeout' \
    --timeout 30
pass "allowed peer, half a header then silence: closed at handshake_timeout"
refused_logged v2 '127\.0\.0\.3:[0-9]+: not in proxy_protocol_from' \
    --bind 127.0.0.3
pass "a peer outside proxy_protocol_from sending a valid header: refused"

# The worker took it all and still serves.
pp v1 --src 192.0.2.8:1
[ "$PP_RC" = 0 ] || fail "after the misbehaving peers: exit $PP_RC"
pass "still serving after the misbehaving peers"

# JSON access log: the proxy field.
WORKERS=1 GLOBAL_EXTRA="access_log_format = json" \
    LISTENER_EXTRA="accept_proxy_protocol = on
proxy_protocol_from = 127.0.0.0/8" restart_mtlslb "$T/lb.ini"
pp v2 --src 198.51.100.4:5
[ "$PP_RC" = 0 ] || fail "json: exit $PP_RC"
wait_mtlslb_log '"client":"198\.51\.100\.4".*"proxy":"127\.0\.0\.1:[0-9]+"' 10 ||
    fail "json: no line with client 198.51.100.4 and proxy 127.0.0.1"
pass "JSON access log: client is the header's, proxy the balancer"

stop_mtlslb
pass "39-proxy-protocol: all checks passed"
