#!/bin/bash
# 88-http-compat: clients and addresses off the HTTP/1.1-over-IPv4 path.
#   an IPv6 listener ([::1]:PORT) serving, to an IPv6 backend, next to an
#       IPv4 one (skipped, with the reason, only without IPv6 loopback)
#   Expect: 100-continue end to end: curl gets the 100 before it sends the
#       body (Content-Length and chunked), then the final answer; the
#       backend's sha256 of the body matches
#   an HTTP/1.0 client, no Host: a valid HTTP/1.x answer without chunked
#       framing (a chunked backend response is de-chunked, intact), closed
#       after the response unless the client asked for keep-alive; a 1.0
#       POST; and no 1xx answer to a 1.0 client (RFC 9110 15.2)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

# has_ipv6_loopback: true if a socket can bind [::1].
has_ipv6_loopback() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null
}

# wait_port6 PORT SECONDS: until something accepts on [::1]:PORT.
wait_port6() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		python3 -c 'import socket, sys
socket.create_connection(("::1", int(sys.argv[1])), timeout=3).close()' \
		    "$1" 2>/dev/null && return 0
		pid_alive "$MTLSLB_PID" || return 1
		sleep 0.1
	done
	return 1
}

IPV6=yes
has_ipv6_loopback || IPV6=no

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
LB_PORT=$(free_port)
std_config "$T/lb.ini"
if [ "$IPV6" = yes ]; then
	BE6_PORT=$(free_port)
	"$BACKEND_BIN" --listen "[::1]:$BE6_PORT" --name ECS6 \
	    --log "$T/ECS6.requests" >"$T/ECS6.out" 2>&1 &
	t_track "$!" "backend ECS6" "$T/ECS6.out"
	wait_log "$T/ECS6.out" '^listening on ' 10 "$!" ||
	    harness_error "backend ECS6 did not start on [::1]:$BE6_PORT"
	LB6_PORT=$(free_port)
	cat >>"$T/lb.ini" <<EOF

[listener v6]
bind = [::1]:$LB6_PORT
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
server_group = v6

[server_group v6]
server = ECS6 [::1]:$BE6_PORT
health_check = off
EOF
fi
start_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /)"

# --- IPv6 ---------------------------------------------------------------------
if [ "$IPV6" = yes ]; then
	wait_port6 "$LB6_PORT" 30 ||
	    fail "nothing accepts on [::1]:$LB6_PORT"
	expect_status 200 "https://localhost:$LB6_PORT/headers" \
	    --connect-to "localhost:$LB6_PORT:[::1]:$LB6_PORT"
	[ "$(last_header X-Backend)" = ECS6 ] ||
	    fail "[::1] listener: answered by '$(last_header X-Backend)'," \
	    "not the [::1] backend ECS6"
	case $(req_header X-Forwarded-For) in
	*::1*) ;;
	*) fail "[::1] listener: X-Forwarded-For is" \
	    "'$(req_header X-Forwarded-For)', want ::1" ;;
	esac
	[ "$(req_header Host)" = "localhost:$LB6_PORT" ] ||
	    fail "[::1] listener: Host is '$(req_header Host)'"
	[ "$(req_header X-Forwarded-Clientcert-subjectdn)" = CN=client ] ||
	    fail "[::1] listener: subjectdn is" \
	    "'$(req_header X-Forwarded-Clientcert-subjectdn)'"
	wait_log "$T/mtlslb.log" '^::1 .*"GET /headers HTTP/1.1" 200 ' 10 ||
	    fail "[::1] listener: no access log line with the peer ::1"
	pass "[::1]:$LB6_PORT serves through the [::1] backend: 200," \
	    "X-Forwarded-For ::1, client certificate forwarded"
	expect_status 200 "$(lb_url /)"
	[ "$(last_header X-Backend)" = ECS01 ] ||
	    fail "the IPv4 listener: answered by '$(last_header X-Backend)'"
	pass "the IPv4 listener next to it still serves its own group"
else
	echo "# no IPv6 loopback (binding [::1] failed): IPv6 checks skipped"
fi

# --- Expect: 100-continue ------------------------------------------------------
# curl waits up to --expect100-timeout for the 100 before it sends the
# body: 60 s here, so a 100 that never comes is a failed (timed out) request,
# not a slow pass. -D records interim responses too.
head -c 65536 /dev/urandom >"$T/body.bin"
want=$(sha256_of "$T/body.bin")
for kind in length chunked; do
	te=()
	[ "$kind" = chunked ] && te=(-H 'Transfer-Encoding: chunked')
	expect_status 200 "$(lb_url "/upload?expect-$kind")" --max-time 90 \
	    --expect100-timeout 60 -H 'Expect: 100-continue' "${te[@]}" \
	    --data-binary "@$T/body.bin"
	codes=$(tr -d '\r' <"$T/last.headers" |
	    sed -n 's/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' | tr '\n' ' ')
	[ "$codes" = "100 200 " ] ||
	    fail "Expect ($kind): status lines '$codes', want '100 200'"
	last_body_contains "sha256=$want bytes=65536" ||
	    fail "Expect ($kind): the backend got '$(cat "$T/last.body")'"
	grep -qx "POST /upload?expect-$kind" "$T/ECS01.requests" ||
	    fail "Expect ($kind): the backend never logged the request"
	pass "Expect: 100-continue ($kind body, 64 KiB): 100, then 200;" \
	    "body intact at the backend"
done

# --- HTTP/1.0 clients -----------------------------------------------------------
"$BACKEND_BIN" --gen 100000 >"$T/chunked.want"
cat >"$T/h10.py" <<'EOF'
# h10.py PORT PKI CASE [ARG]: one raw HTTP/1.0 exchange over mTLS; prints
# one line of what it saw and exits 1 when the answer is wrong.
import hashlib, os, socket, ssl, sys, time

port, pki, case = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(pki + "/root.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")

def die(msg):
    print(msg)
    sys.exit(1)

def connect():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                    timeout=30),
                           server_hostname="localhost")

def head(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            die("EOF before a whole response head: %r" % buf[:200])
        buf += d
    h, rest = buf.split(b"\r\n\r\n", 1)
    lines = h.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or parts[0] not in ("HTTP/1.0", "HTTP/1.1"):
        die("not an HTTP/1.x status line: %r" % lines[0])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(":", 1)
        k = k.strip().lower()
        hdrs[k] = hdrs[k] + ", " + v.strip() if k in hdrs else v.strip()
    return int(parts[1]), hdrs, rest

def until_eof(s, buf):
    """Reads to EOF; dies if the server keeps the connection open."""
    end = time.time() + 30
    while time.time() < end:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if not d:
            return buf
        buf += d
    die("the server did not close the connection (%d bytes so far)"
        % len(buf))

def body(s, hdrs, rest, must_close):
    if "transfer-encoding" in hdrs:
        die("Transfer-Encoding: %s sent to an HTTP/1.0 client"
            % hdrs["transfer-encoding"])
    if "content-length" in hdrs:
        n = int(hdrs["content-length"])
        while len(rest) < n:
            d = s.recv(65536)
            if not d:
                die("EOF after %d of %d body bytes" % (len(rest), n))
            rest += d
        if must_close:
            extra = until_eof(s, rest[n:])
            if extra:
                die("%d bytes after the body" % len(extra))
        return rest[:n]
    return until_eof(s, rest)

def connection(hdrs):
    return hdrs.get("connection", "").lower()

if case == "chunked":
    # No Host, no keep-alive asked: a chunked backend answer de-chunked,
    # then the connection closes.
    want = open(sys.argv[4], "rb").read()
    s = connect()
    s.sendall(b"GET /chunked/%d HTTP/1.0\r\n\r\n" % len(want))
    st, h, rest = head(s)
    if st != 200:
        die("status %d" % st)
    if "keep-alive" in connection(h):
        die("Connection: %s, but the client did not ask" % h["connection"])
    b = body(s, h, rest, True)
    if b != want:
        die("body differs: %d bytes, want %d" % (len(b), len(want)))
    print("200, no chunked framing, %d bytes intact, Connection: %s, closed"
          % (len(b), h.get("connection", "(none)")))
elif case == "chunked-ka":
    # Keep-alive asked, but a chunked answer has no length a 1.0 client
    # can use: it must end with a close, and not promise keep-alive.
    want = open(sys.argv[4], "rb").read()
    s = connect()
    s.sendall(b"GET /chunked/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
              % len(want))
    st, h, rest = head(s)
    if st != 200:
        die("status %d" % st)
    if "content-length" not in h and "keep-alive" in connection(h):
        die("Connection: keep-alive without a Content-Length")
    b = body(s, h, rest, "keep-alive" not in connection(h))
    if b != want:
        die("body differs: %d bytes, want %d" % (len(b), len(want)))
    print("200, %d bytes intact, Connection: %s"
          % (len(b), h.get("connection", "(none)")))
elif case == "close":
    # No keep-alive asked: the server closes after the response.
    s = connect()
    s.sendall(b"GET /headers HTTP/1.0\r\n\r\n")
    st, h, rest = head(s)
    if st != 200:
        die("status %d" % st)
    if "keep-alive" in connection(h):
        die("Connection: %s, but the client did not ask" % h["connection"])
    b = body(s, h, rest, True).decode("latin-1")
    hosts = [l for l in b.split("\n") if l.lower().startswith("host:")]
    if len(hosts) != 1:
        die("the backend saw %d Host lines: %r" % (len(hosts), hosts))
    print("200, closed after the response; the backend saw %r" % hosts[0])
elif case == "keep-alive":
    # Keep-alive asked: either honoured (Connection: keep-alive and a
    # Content-Length, then a second request works) or refused (close).
    s = connect()
    s.sendall(b"GET /?ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, h, rest = head(s)
    if st != 200:
        die("status %d" % st)
    ka = "keep-alive" in connection(h)
    if ka and "content-length" not in h:
        die("Connection: keep-alive without a Content-Length")
    body(s, h, rest, not ka)
    if not ka:
        print("200, keep-alive not granted, closed")
        sys.exit(0)
    s.sendall(b"GET /?ka2 HTTP/1.0\r\n\r\n")
    st, h, rest = head(s)
    if st != 200:
        die("second request on the kept-alive connection: status %d" % st)
    body(s, h, rest, True)
    print("200 with Connection: keep-alive, a second request on it got 200,"
          " then closed")
elif case == "post":
    data = os.urandom(5000)
    s = connect()
    s.sendall(b"POST /upload?h10 HTTP/1.0\r\nContent-Length: 5000\r\n\r\n"
              + data)
    st, h, rest = head(s)
    b = body(s, h, rest, True).decode("latin-1")
    want = "sha256=%s bytes=5000\n" % hashlib.sha256(data).hexdigest()
    if st != 200 or b != want:
        die("status %d, body %r" % (st, b[:100]))
    print("200, the backend got the 5000 bytes intact")
elif case == "expect":
    # RFC 9110 10.1.1: a 1.0 request's Expect is ignored; 15.2: no 1xx to
    # a 1.0 client. The client sends its body at once, as 1.0 clients do.
    data = os.urandom(2048)
    s = connect()
    s.sendall(b"POST /upload?h10-expect HTTP/1.0\r\nContent-Length: 2048\r\n"
              b"Expect: 100-continue\r\n\r\n" + data)
    st, h, rest = head(s)
    if st < 200:
        die("a %d interim response sent to an HTTP/1.0 client" % st)
    b = body(s, h, rest, True).decode("latin-1")
    want = "sha256=%s bytes=2048\n" % hashlib.sha256(data).hexdigest()
    if st != 200 or b != want:
        die("status %d, body %r" % (st, b[:100]))
    print("200 and no interim response")
else:
    die("unknown case " + case)
EOF
for c in chunked chunked-ka close keep-alive post expect; do
	out=$(timeout 120 python3 "$T/h10.py" "$MTLSLB_PORT" "$PKI" "$c" \
	    "$T/chunked.want" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = 0 ]; then
		pass "HTTP/1.0 $c: $out"
	else
		check_failed "HTTP/1.0 $c: $out"
	fi
done
grep -qx 'GET /chunked/100000' "$T/ECS01.requests" ||
    fail "the backend never saw the HTTP/1.0 chunked request"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
bad=$(grep -E 'killed by signal|exited with status|AddressSanitizer|runtime error:' \
    "$T/mtlslb.log" | head -n 3) || true
[ -z "$bad" ] || fail "the daemon log says: $bad"
[ ${#FAILED[@]} = 0 ] || fail "${#FAILED[@]} check(s) failed, see above"
[ "$IPV6" = yes ] ||
    skip "no IPv6 loopback (cannot bind [::1]): the IPv6 listener was" \
    "not tested; everything else passed"
pass "88-http-compat: all checks passed"
