#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 36-resumption: TLS sessions resume whichever worker accepts the
# reconnection and however the last connection ended; a resumed connection
# forwards the same identity; a reload that changes the trust settings, or
# another listener, never resumes into the old verdict.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3

P1=$(free_port)
start_backend ECS01 "$P1"
SERVERS="server = ECS01 127.0.0.1:$P1"
CONF=$T/lb.ini

# resumed_lines FROM: how many access-log lines after line FROM say r / .
alog_since() {
	tail -n "+$(($1 + 1))" "$T/mtlslb.log" | grep -E '" [0-9]{3} [0-9]+ ' ||
	    true
}
log_lines() {
	wc -l <"$T/mtlslb.log" | tr -d ' '
}

# curl20 WORKERS: one curl fetching 20 URLs, a connection each; curl
# offers its last session every time.
curl20() {
	local from urls=() i n_r n_dot
	for ((i = 0; i < 20; i++)); do
		urls+=("$(lb_url "/headers?i=$i")")
	done
	from=$(log_lines)
	curl_mtls "${urls[@]}" -H 'Connection: close' >"$T/curl20.out" ||
	    fail "workers=$1: curl of 20 URLs failed"
	for ((i = 0; i < 100; i++)); do
		[ "$(alog_since "$from" | wc -l)" -ge 20 ] && break
		sleep 0.1
	done
	n_r=$(alog_since "$from" | grep -c 'tls_resumed=r ') || true
	n_dot=$(alog_since "$from" | grep -c 'tls_resumed=\. ') || true
	[ "$n_r" = 19 ] && [ "$n_dot" = 1 ] ||
	    fail "workers=$1: $n_r resumed and $n_dot full handshakes of 20" \
	    "(want 19 and 1): $(alog_since "$from" | head -n 3)"
	# the forwarded identity is the same on every connection
	n=$(grep -i '^X-Forwarded-Clientcert-' "$T/curl20.out" | tr -d '\r' |
	    sort | uniq -c | awk '{print $1}' | sort -u)
	[ "$n" = 20 ] || fail "workers=$1: identity headers differ between" \
	    "connections: $(grep -i '^X-Forwarded-Clientcert-' \
	    "$T/curl20.out" | sort | uniq -c)"
	grep -qi '^X-Forwarded-Clientcert-clientverify: SUCCESS' \
	    "$T/curl20.out" || fail "workers=$1: no clientverify SUCCESS"
	pass "workers=$1: curl resumed 19 of 20 connections with the same" \
	    "identity headers"
}

# sclient NAME [IN]: tls_resume on the daemon's port.
sclient() {
	tls_resume "$MTLSLB_PORT" "$@"
}

# expect_sclient WHAT NAME [IN]: sclient must print WHAT.
expect_sclient() {
	local want=$1 got
	shift
	got=$(sclient "$@")
	[ "$got" = "$want" ] || fail "s_client $1 (offering ${2:-nothing}):" \
	    "'$got', want '$want': $(head -c 600 "$T/$1.out")"
}

# noclose N: a Python client that keeps its session and closes each
# connection without close_notify; prints how many of N were reused.
noclose() {
	python3 - "$MTLSLB_PORT" "$PKI" "$1" <<'EOF'
import socket, ssl, sys
port, pki, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=pki + "/root.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
sess, reused = None, 0
for i in range(n + 1):
    raw = socket.create_connection(("127.0.0.1", port), timeout=20)
    s = ctx.wrap_socket(raw, server_hostname="localhost", session=sess)
    s.sendall(b"GET /headers HTTP/1.1\r\nHost: t\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    clen = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
            if l.lower().startswith(b"content-length:")][0]
    while len(body) < clen:
        body += s.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head
    if i > 0 and s.session_reused:
        reused += 1
    sess = s.session
    raw.close()      # a FIN, no close_notify: s.close() is not called
    s.detach() if hasattr(s, "detach") else None
print(reused)
EOF
}

for W in 2 4; do
	LB_PORT=$(free_port)
	WORKERS=$W std_config "$CONF"
	start_mtlslb "$CONF"
	curl20 "$W"
	expect_sclient New s1
	for i in 2 3 4 5 6; do
		expect_sclient Reused "s$i" s1
	done
	pass "workers=$W: s_client -sess_in resumed 5 of 5"
	got=$(noclose 6) || fail "workers=$W: the python client failed"
	[ "$got" = 6 ] || fail "workers=$W: $got of 6 resumed after a close" \
	    "without close_notify"
	pass "workers=$W: 6 of 6 resumed after closes without close_notify"
	stop_mtlslb
done

# --- a connection that ended without close_notify on our side ------------------
# The backend announces 100 bytes, sends 10 and closes: the client's
# response is cut, so the connection ends without close_notify.
BAD_PORT=$(free_port)
python3 "$top_srcdir/tests/helpers/badbackend.py" --port "$BAD_PORT" \
    --name BAD --log "$T/BAD.log" --hold 30 >"$T/BAD.out" 2>&1 &
BAD_PID=$!
t_track "$BAD_PID" "badbackend" "$T/BAD.out" "$T/BAD.log"
wait_log "$T/BAD.out" '^listening on ' 15 "$BAD_PID" ||
    harness_error "badbackend did not start on port $BAD_PORT"
LB_PORT=$(free_port)
WORKERS=2 SERVERS="server = BAD 127.0.0.1:$BAD_PORT" std_config "$CONF"
start_mtlslb "$CONF"
cut_resp() {
	local got
	got=$(tls_resume "$MTLSLB_PORT" "$1" "${2:-}" \
	    'GET /mode/cl-long HTTP/1.1\r\nHost: t\r\n\r\n')
	grep -q '^HTTP/1.1 200' "$T/$1.out" ||
	    fail "cut response $1: $(head -c 600 "$T/$1.out")"
	echo "$got"
}
[ "$(cut_resp c1)" = New ] || fail "cut response c1: not a full handshake"
for i in 2 3 4; do
	[ "$(cut_resp "c$i" c1)" = Reused ] ||
	    fail "after a cut response: c$i not resumed"
done
pass "a connection closed without close_notify (cut response) resumes"
stop_mtlslb

# --- reloads -----------------------------------------------------------------
LB_PORT=$(free_port)
WORKERS=2 std_config "$CONF"
start_mtlslb "$CONF"
expect_sclient New r1
CERT=revoked expect_sclient New rv1
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "no reload after HUP"
expect_sclient Reused r2 r1
pass "a reload that changes nothing keeps sessions resumable"

# a CRL that revokes the client: the next attempt is a full handshake, 400
WORKERS=2 CRL=$PKI/crl.pem std_config "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "no reload after HUP"
CERT=revoked expect_sclient New rv2 rv1
grep -q '^HTTP/1.1 400 ' "$T/rv2.out" ||
    fail "revoked client after the CRL reload: $(head -c 600 "$T/rv2.out")"
pass "a reload adding a CRL: the revoked client's session is not resumed (400)"

# another CA: the old session is not resumed, the client gets the 400 page
WORKERS=2 CA=$PKI/other-root.crt std_config "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "no reload after HUP"
expect_sclient New r3 r1
grep -q '^HTTP/1.1 400 ' "$T/r3.out" ||
    fail "after ca_certificate changed: $(head -c 600 "$T/r3.out")"
pass "a reload replacing ca_certificate: no resumption, 400"
stop_mtlslb

# --- another listener on the same certificate does not resume it -------------
LB_PORT=$(free_port)
P_B=$(free_port)
PA=$(free_port)
WORKERS=2 std_config "$CONF"
cat >>"$CONF" <<EOF

[listener other]
bind = 127.0.0.1:$P_B
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
server_group = default

[admin]
bind = 127.0.0.1:$PA
EOF
start_mtlslb "$CONF"
expect_sclient New a1
expect_sclient Reused a2 a1
MTLSLB_PORT_A=$MTLSLB_PORT
MTLSLB_PORT=$P_B
expect_sclient New b1 a1
MTLSLB_PORT=$MTLSLB_PORT_A
pass "a session from listener https is not resumed on listener other"

# --- metrics ------------------------------------------------------------------
wait_port "$PA" 30 "$MTLSLB_PID" || fail "no admin endpoint"
curl -sS --max-time "$CURL_TIMEOUT" "http://127.0.0.1:$PA/metrics" \
    >"$T/metrics" || fail "GET /metrics failed"
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$T/metrics"
}
v=$(metric 'mtlslb_tls_handshakes_total{listener="https",resumed="true"}')
[ "${v:-0}" -ge 1 ] || fail "resumed handshakes on https: '$v'"
v=$(metric 'mtlslb_tls_handshakes_total{listener="https",resumed="false"}')
[ "${v:-0}" -ge 1 ] || fail "full handshakes on https: '$v'"
v=$(metric 'mtlslb_tls_handshakes_total{listener="other",resumed="true"}')
[ "$v" = 0 ] || fail "resumed handshakes on other: '$v'"
v=$(metric 'mtlslb_tls_session_cache_entries{listener="https"}')
[ "${v:-0}" -ge 2 ] || fail "session cache entries on https: '$v'"
v=$(metric 'mtlslb_tls_session_cache_evictions_total{listener="https"}')
[ "$v" = 0 ] || fail "session cache evictions on https: '$v'"
pass "/metrics: handshakes by resumed, cache entries and evictions"
stop_mtlslb

# --- a session too large for a slot is not kept: full handshakes, no error ----
# The client's identity travels in the stored session: a subject of ~900
# bytes makes it larger than a slot (960 bytes).
long=$(printf 'o%.0s' $(seq 1 60))
subj="/CN=long"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
	subj="$subj/OU=$long$i"
done
printf 'basicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n' \
    >"$T/long.ext"
{ openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$PKI/long.key" -subj "$subj" -out "$T/long.csr" &&
    openssl x509 -req -in "$T/long.csr" -CA "$PKI/root.crt" \
    -CAkey "$PKI/root.key" -CAcreateserial -CAserial "$T/long.srl" \
    -days 2 -sha256 -extfile "$T/long.ext" -out "$PKI/long.crt"; } \
    >"$T/long.log" 2>&1 || {
	cat "$T/long.log" >&2
	harness_error "cannot issue the long-subject client certificate"
}
LB_PORT=$(free_port)
WORKERS=2 LOG_LEVEL=debug std_config "$CONF"
start_mtlslb "$CONF"
[ "$(CERT=long sclient L1)" = New ] || fail "L1"
grep -q '^HTTP/1.1 200 ' "$T/L1.out" || fail "long subject: no 200"
[ "$(CERT=long sclient L2 L1)" = New ] ||
    fail "a session larger than a slot was resumed"
grep -q '^HTTP/1.1 200 ' "$T/L2.out" || fail "long subject, again: no 200"
wait_mtlslb_log 'session cache: a [0-9]+-byte session does not fit a slot' 10 ||
    fail "no debug line for the session that did not fit"
pass "a session larger than a slot is not kept: full handshakes, 200"
stop_mtlslb

# --- a full cache evicts the oldest session -----------------------------------
LB_PORT=$(free_port)
WORKERS=2 LISTENER_EXTRA='session_cache_size = 2' std_config "$CONF"
start_mtlslb "$CONF"
expect_sclient New e1
expect_sclient New e2
expect_sclient New e3
expect_sclient Reused e4 e3
expect_sclient New e5 e1
pass "session_cache_size = 2: the oldest session was evicted"
stop_mtlslb

# --- session_cache = off: nothing resumes; worker: the old per-process cache --
LB_PORT=$(free_port)
WORKERS=1 LISTENER_EXTRA='session_cache = off' std_config "$CONF"
start_mtlslb "$CONF"
expect_sclient New o1
[ ! -s "$T/o1.sess" ] || fail "session_cache = off: a session was issued"
expect_sclient New o2 a1
pass "session_cache = off: no session issued, none resumed"
stop_mtlslb
LB_PORT=$(free_port)
WORKERS=1 LISTENER_EXTRA='session_cache = worker' std_config "$CONF"
start_mtlslb "$CONF"
expect_sclient New w1
expect_sclient Reused w2 w1
pass "session_cache = worker, one worker: resumed"
