#!/bin/bash
# 87-lifecycle: reloads and stops with traffic in flight, and backend
# connections that die in the pool.
#   HUP that moves a listener's bind: the new port serves, the old one
#       refuses, a request in flight on the old port completes; and back
#   HUP (twice) while 24 MiB downloads and uploads (Content-Length and
#       chunked) are in flight: all complete, sha256 intact both ways, and
#       the retired generations' workers exit
#   TERM while clients keep opening connections: every connection whose
#       request went out after a completed handshake gets a whole
#       response, the rest are refused; no worker dies, exit status 0
#   a pooled backend connection the backend closed (its FIN already in our
#       socket) when a POST reuses it: the POST is not a 502 (regression
#       test for 37ab4bf, "always probe a pooled connection before a
#       non-retryable request"); the backend helper's --idle-close 0 sends
#       the FIN with the response's last bytes, and a pipelined POST is
#       processed before the loop reads that FIN
#
# Workers that die while draining (old generation, or stopping) are not
# logged by the master, so the daemon runs with log_level = debug and the
# test counts "worker N started (pid" against "worker N: stopped".
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

# refuses PORT: true once connecting to 127.0.0.1:PORT is refused (curl
# exit 7) within 30 s. A socket left listening with no one accepting
# completes the TCP handshake and then times out (curl 28) instead.
refuses() {
	local i end=$((SECONDS + 30))
	for ((i = 0; i < 30 && SECONDS < end; i++)); do
		http_get "https://127.0.0.1:$1/" --connect-timeout 5 \
		    --max-time 5
		[ "$HTTP_CODE" = 000 ] && [ "$CURL_RC" = 7 ] && return 0
		sleep 1
	done
	return 1
}

# listening_on PORT: who listens on 127.0.0.1:PORT, for messages.
listening_on() {
	command -v ss >/dev/null 2>&1 || return 0
	ss -Hltnp "sport = :$1" 2>/dev/null | tr -s ' \n' ' '
}

# no_worker_died: fails on any sign of a crash in the daemon log.
no_worker_died() {
	local bad
	bad=$(grep -E 'killed by signal|exited with status|did not stop in time|AddressSanitizer|LeakSanitizer|runtime error:|shutdown_timeout reached' \
	    "$T/mtlslb.log" | head -n 5) || true
	[ -z "$bad" ] || fail "$1: $bad"
}

# workers_all_stopped WHAT: once the daemon has exited, every worker it
# started logged "stopped" (a worker that crashed or was killed did not).
workers_all_stopped() {
	local started stopped
	started=$(grep -Ec 'master: worker [0-9]+ started \(pid' \
	    "$T/mtlslb.log") || true
	stopped=$(grep -Ec 'worker [0-9]+: stopped$' "$T/mtlslb.log") || true
	[ "$started" -gt 0 ] && [ "$started" = "$stopped" ] ||
	    fail "$1: $started workers started, $stopped logged 'stopped'"
}

# reload_and_wait WHAT: HUP, then wait for "configuration reloaded".
reload_and_wait() {
	log_mark
	kill -HUP "$MTLSLB_PID"
	wait_mtlslb_log 'configuration reloaded' 60 ||
	    fail "$1: no 'configuration reloaded' within 60 s of HUP:" \
	    "$(mtlslb_log_since | grep -E 'reload|error' | head -n 3)"
}

# bg_curl NAME URL [curl args...]: curl_mtls in the background; exit code
# in $T/NAME.rc, body in $T/NAME.body, status in $T/NAME.code.
bg_curl() {
	local name=$1 url=$2
	shift 2
	(
		rc=0
		curl_mtls "$url" -o "$T/$name.body" -w '%{http_code}' "$@" \
		    >"$T/$name.code" 2>"$T/$name.err" || rc=$?
		echo "$rc" >"$T/$name.rc"
	) &
	BG_PID=$!
	t_track "$BG_PID" "curl $name" "$T/$name.err"
}

# bg_wait NAME PID SECONDS: waits for a bg_curl job; fails on a timeout.
bg_wait() {
	local name=$1 pid=$2 secs=$3 i
	for ((i = 0; i < secs * 10; i++)); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	pid_alive "$pid" && fail "$name: still running after ${secs}s"
	wait "$pid" 2>/dev/null || true
	t_untrack "$pid"
	[ -s "$T/$name.rc" ] || harness_error "$name: no exit code"
}

# wait_hits NAME ERE COUNT SECONDS: until backend NAME logged COUNT
# requests matching ERE.
wait_hits() {
	local i
	for ((i = 0; i < $4 * 10; i++)); do
		[ "$(backend_hits "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
P1=$(free_port)
LB_PORT=$P1 LOG_LEVEL=debug WORKERS=2 \
    GLOBAL_EXTRA="shutdown_timeout = 300s" std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /)"
pass "serves on the first bind, port $P1"

# --- a reload that moves the listener to another port ---------------------
bg_curl slow "$(lb_url '/delay/3000?slow')"
SLOW=$BG_PID
wait_hits ECS01 '/delay/3000[?]slow' 1 30 ||
    fail "the slow request never reached the backend"
P2=$(free_port)
sed -i "s/^bind = 127\.0\.0\.1:$P1\$/bind = 127.0.0.1:$P2/" "$T/lb.ini"
grep -q "^bind = 127.0.0.1:$P2\$" "$T/lb.ini" || harness_error "sed bind"
reload_and_wait "bind $P1 -> $P2"
wait_port "$P2" 30 "$MTLSLB_PID" ||
    fail "after the reload nothing accepts on the new bind, port $P2"
MTLSLB_PORT=$P2
expect_status 200 "$(lb_url /)"
pass "after HUP the new bind, port $P2, serves"
bg_wait slow "$SLOW" 60
[ "$(cat "$T/slow.rc")" = 0 ] && [ "$(cat "$T/slow.code")" = 200 ] ||
    fail "the request in flight on port $P1 during the reload: curl exit" \
    "$(cat "$T/slow.rc"), HTTP $(cat "$T/slow.code"), $(cat "$T/slow.err")"
pass "a request in flight on the old port completed with 200"
if refuses "$P1"; then
	pass "the old bind, port $P1, refuses connections (curl exit 7)"
else
	check_failed "after a reload moved the listener from port $P1 to" \
	    "$P2, port $P1 does not refuse connections: $(last_summary);" \
	    "listening: $(listening_on "$P1")"
fi

sed -i "s/^bind = 127\.0\.0\.1:$P2\$/bind = 127.0.0.1:$P1/" "$T/lb.ini"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded|reload failed' 60 ||
    fail "bind $P2 -> $P1: HUP was neither done nor failed in 60 s"
if mtlslb_log_since | grep -q 'reload failed'; then
	check_failed "moving the listener back from port $P2 to $P1:" \
	    "$(mtlslb_log_since | grep -E 'error' | sed 's/.*\] //' |
	    tr '\n' ' ')"
	sed -i "s/^bind = 127\.0\.0\.1:$P1\$/bind = 127.0.0.1:$P2/" \
	    "$T/lb.ini"
else
	wait_port "$P1" 30 "$MTLSLB_PID" ||
	    fail "moving back: nothing accepts on port $P1 again"
	MTLSLB_PORT=$P1
	expect_status 200 "$(lb_url /)"
	refuses "$P2" ||
	    check_failed "moving back: port $P2 does not refuse" \
	    "connections: $(last_summary); listening:" \
	    "$(listening_on "$P2")"
	pass "moved back: port $P1 serves again"
fi
no_worker_died "bind change"

# --- HUP twice while large transfers are in flight --------------------------
SIZE=25165824			# 24 MiB
RATE=2M				# about 12 s per transfer: in flight at the HUP
head -c "$SIZE" /dev/urandom >"$T/up.bin"
want_up=$(sha256_of "$T/up.bin")
want_dl=$("$BACKEND_BIN" --gen "$SIZE" | sha256_of -)
before=$(backend_hits ECS01 '[?]big')
bg_curl dl-cl "$(lb_url "/bytes/$SIZE?big")" --max-time 300 \
    --limit-rate "$RATE"
DL1=$BG_PID
bg_curl dl-chunked "$(lb_url "/chunked/$SIZE?big")" --max-time 300 \
    --limit-rate "$RATE"
DL2=$BG_PID
bg_curl up-cl "$(lb_url "/upload?big")" --max-time 300 --limit-rate "$RATE" \
    --data-binary "@$T/up.bin"
UP1=$BG_PID
bg_curl up-chunked "$(lb_url "/upload/chunked?big")" --max-time 300 \
    --limit-rate "$RATE" -H 'Transfer-Encoding: chunked' \
    --data-binary "@$T/up.bin"
UP2=$BG_PID
wait_hits ECS01 '[?]big' $((before + 4)) 60 ||
    fail "the four transfers did not all reach the backend:" \
    "$(grep -c '[?]big' "$T/ECS01.requests") requests"
for ((i = 0; i < 600; i++)); do
	s1=$(stat -c %s "$T/dl-cl.body" 2>/dev/null) || s1=0
	s2=$(stat -c %s "$T/dl-chunked.body" 2>/dev/null) || s2=0
	[ "$s1" -ge 1048576 ] && [ "$s2" -ge 1048576 ] && break
	sleep 0.1
done
[ "$s1" -ge 1048576 ] && [ "$s2" -ge 1048576 ] ||
    fail "the downloads are not moving: $s1 and $s2 bytes after 60 s"
reload_and_wait "first HUP during transfers"
running=0
for p in "$DL1" "$DL2" "$UP1" "$UP2"; do
	pid_alive "$p" && running=$((running + 1))
done
expect_status 200 "$(lb_url /)"
reload_and_wait "second HUP during transfers"
expect_status 200 "$(lb_url /)"
pass "two reloads while the transfers ran ($running of 4 still running" \
    "after the first); new connections get 200"
bg_wait dl-cl "$DL1" 320
bg_wait dl-chunked "$DL2" 320
bg_wait up-cl "$UP1" 320
bg_wait up-chunked "$UP2" 320
for n in dl-cl dl-chunked up-cl up-chunked; do
	[ "$(cat "$T/$n.rc")" = 0 ] && [ "$(cat "$T/$n.code")" = 200 ] ||
	    fail "$n across two reloads: curl exit $(cat "$T/$n.rc")," \
	    "HTTP $(cat "$T/$n.code"), $(head -c 300 "$T/$n.err")"
done
for n in dl-cl dl-chunked; do
	got=$(sha256_of "$T/$n.body")
	[ "$got" = "$want_dl" ] ||
	    fail "$n across two reloads: sha256 $got ($(stat -c %s \
	    "$T/$n.body") bytes), want $want_dl ($SIZE bytes)"
done
for n in up-cl up-chunked; do
	grep -qx "sha256=$want_up bytes=$SIZE" "$T/$n.body" ||
	    fail "$n across two reloads: the backend got" \
	    "'$(head -c 200 "$T/$n.body")', want sha256=$want_up bytes=$SIZE"
done
rm -f "$T/up.bin" "$T/dl-cl.body" "$T/dl-chunked.body"
pass "24 MiB downloads (Content-Length, chunked) intact across two reloads"
pass "24 MiB uploads (Content-Length, chunked) intact across two reloads"
# Every reload that was done left an old generation to drain and retire.
want=$(grep -c 'configuration reloaded' "$T/mtlslb.log") || true
for ((i = 0; i < 600; i++)); do
	n=$(grep -c 'previous configuration retired' "$T/mtlslb.log") || true
	[ "$n" -ge "$want" ] && break
	sleep 0.1
done
[ "$n" -ge "$want" ] ||
    fail "$n of $want old configurations retired after the transfers ended"
no_worker_died "reloads during transfers"
pass "the old generations retired once their transfers ended"

# --- TERM while fresh connections keep arriving ----------------------------
# Threads open connection after connection, one request each (GET, a slow
# GET, a POST with a checked body), and one thread reuses keep-alive
# connections. A connection whose handshake completed and whose request
# was sent must get a whole response; connect refused or a handshake cut
# is fine after TERM; on a reused keep-alive connection a close before any
# response byte is fine too (the client retries: RFC 9112 9.3.1).
cat >"$T/load.py" <<'EOF'
import hashlib, os, socket, ssl, sys, threading, time

port, pki, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(pki + "/root.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
body = os.urandom(32768)
body_sha = hashlib.sha256(body).hexdigest()
lock = threading.Lock()
count = {"ok": 0, "refused": 0, "handshake_cut": 0, "ka_closed": 0,
         "bad": 0}
bad = []
deadline = time.time() + 240

def note(kind, detail=None):
    with lock:
        count[kind] += 1
        if detail is not None and len(bad) < 20:
            bad.append(detail)
        if count["ok"] == 20:
            open(ready, "w").close()

def recv(s):
    """A close, clean or not (a reset, no close_notify), reads as EOF."""
    try:
        return s.recv(65536)
    except (ConnectionResetError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
        return b""

def read_response(s):
    """Returns (status, headers, body); raises EOFError("none") when the
    peer closed before any byte, EOFError("partial ...") after some."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = recv(s)
        if not d:
            raise EOFError("none" if not buf else "partial head %r" % buf[:80])
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for l in lines[1:]:
        k, v = l.split(b":", 1)
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get(b"content-length", b"-1"))
    if n < 0:
        raise EOFError("partial: no Content-Length in %r" % head[:200])
    while len(rest) < n:
        d = recv(s)
        if not d:
            raise EOFError("partial body %d of %d" % (len(rest), n))
        rest += d
    return status, hdrs, rest[:n]

def request(i):
    k = i % 3
    if k == 0:
        return b"GET /?load HTTP/1.1\r\nHost: localhost\r\n\r\n", None
    if k == 1:
        return b"GET /delay/100?load HTTP/1.1\r\nHost: localhost\r\n\r\n", None
    return (b"POST /upload?load HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body) + body,
            ("sha256=%s bytes=%d\n" % (body_sha, len(body))).encode())

def check(tag, status, resp, want):
    if status != 200 or (want is not None and resp != want):
        note("bad", "%s: HTTP %d %r" % (tag, status, resp[:80]))
    else:
        note("ok")

def fresh(tid):
    refused = i = 0
    while refused < 20 and time.time() < deadline:
        i += 1
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        except ConnectionRefusedError:
            refused += 1
            note("refused")
            time.sleep(0.05)
            continue
        refused = 0
        try:
            s = ctx.wrap_socket(raw, server_hostname="localhost")
        except (OSError, ssl.SSLError):
            raw.close()
            note("handshake_cut")
            continue
        req, want = request(i + tid)
        try:
            s.sendall(req)
            status, hdrs, resp = read_response(s)
            check("fresh %d" % i, status, resp, want)
        except (OSError, ssl.SSLError, EOFError, ValueError,
                IndexError) as e:
            note("bad", "fresh connection %d, request sent: %r" % (i, e))
        s.close()

def keepalive(tid):
    refused = i = 0
    while refused < 20 and time.time() < deadline:
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=30)
            s = ctx.wrap_socket(raw, server_hostname="localhost")
        except ConnectionRefusedError:
            refused += 1
            note("refused")
            time.sleep(0.05)
            continue
        except (OSError, ssl.SSLError):
            note("handshake_cut")
            continue
        refused = 0
        for n in range(20):
            i += 1
            req, want = request(i)
            try:
                s.sendall(req)
                status, hdrs, resp = read_response(s)
            except (OSError, ssl.SSLError, EOFError) as e:
                # sendall fails (EPIPE, reset) or nothing came back: the
                # server closed the idle connection as the request went.
                if n > 0 and (isinstance(e, (ConnectionResetError,
                              BrokenPipeError, ssl.SSLEOFError)) or
                              str(e) == "none"):
                    note("ka_closed")
                else:
                    note("bad", "keep-alive request %d on its connection:"
                         " %r" % (n + 1, e))
                break
            check("keep-alive %d" % i, status, resp, want)
            if hdrs.get(b"connection", b"").lower() == b"close":
                break
        s.close()

ts = [threading.Thread(target=fresh, args=(t,)) for t in range(3)]
ts.append(threading.Thread(target=keepalive, args=(9,)))
for t in ts:
    t.start()
for t in ts:
    t.join()
print(" ".join("%s=%d" % kv for kv in sorted(count.items())))
for b in bad:
    print("bad: " + b)
EOF
python3 "$T/load.py" "$MTLSLB_PORT" "$PKI" "$T/load.ready" \
    >"$T/load.out" 2>&1 &
LOAD=$!
t_track "$LOAD" "load" "$T/load.out"
for ((i = 0; i < 600; i++)); do
	[ -e "$T/load.ready" ] && break
	pid_alive "$LOAD" || break
	sleep 0.1
done
[ -e "$T/load.ready" ] ||
    fail "the load never got 20 answers: $(tr '\n' ' ' <"$T/load.out")"
log_mark
kill -TERM "$MTLSLB_PID"
for ((i = 0; i < 3000; i++)); do
	pid_alive "$LOAD" || break
	sleep 0.1
done
pid_alive "$LOAD" && fail "the load did not end within 300 s of TERM"
wait "$LOAD" || fail "load.py failed: $(tail -n 5 "$T/load.out")"
t_untrack "$LOAD"
summary=$(head -n 1 "$T/load.out")
grep -q '^bad=0 ' "$T/load.out" ||
    fail "TERM under load: $(tr '\n' '|' <"$T/load.out")"
case " $summary " in
*' refused=0 '*) fail "TERM under load: never refused: $summary" ;;
esac
for ((i = 0; i < 600; i++)); do
	pid_alive "$MTLSLB_PID" || break
	sleep 0.1
done
pid_alive "$MTLSLB_PID" && fail "the daemon still runs 60 s after TERM"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS after TERM"
no_worker_died "TERM under load"
workers_all_stopped "TERM under load"
pass "TERM under load: $summary; every worker stopped, exit status 0"

# --- a pooled connection the backend closed as it is reused -----------------
# ECS02 answers with keep-alive and closes at once (--idle-close 0), the
# FIN riding on the response's last segment. One TLS record carries a GET
# and a POST: the POST is processed as soon as the GET's response is out,
# before the loop reads the FIN, and takes the pooled connection unless it
# is probed first. Without the probe the POST goes into a closed
# connection and, not being retryable, becomes a 502.
BE2_PORT=$(free_port)
start_backend ECS02 "$BE2_PORT" --idle-close 0
BE3_PORT=$(free_port)
start_backend ECS03 "$BE3_PORT" --idle-close 300
# A fresh log, so that the worker counts are this daemon's.
mv "$T/mtlslb.log" "$T/mtlslb-1.log"
LB_PORT=$(free_port)
SERVERS="server = ECS02 127.0.0.1:$BE2_PORT" LOG_LEVEL=debug WORKERS=1 \
    std_config "$T/pool.ini"
start_mtlslb "$T/pool.ini"
out=$(timeout 300 python3 "$top_srcdir/tests/helpers/pipeline.py" \
    "$MTLSLB_PORT" "$PKI" 30 post 2>&1) ||
    fail "POST on a pooled connection the backend had closed: $out"
# Every POST found its pooled connection closed: the backend must have
# seen each one on a connection of its own.
n=$(backend_hits ECS02 '^POST /upload[?]pipe')
[ "$n" = 30 ] || fail "ECS02 saw $n of the 30 POSTs"
pass "a POST pipelined behind a GET whose backend closed the pooled" \
    "connection got 200, body intact (30 rounds, no 502)"

# The slow variant: ECS03 closes after 300 ms idle. A POST right after a
# GET may reuse the connection; one sent a second later must find the
# close handled (dropped from the pool, or probed) and still get 200.
SERVERS="server = ECS03 127.0.0.1:$BE3_PORT"
LB_PORT=$MTLSLB_PORT LOG_LEVEL=debug WORKERS=1 std_config "$T/pool.ini"
reload_and_wait "ECS03"
head -c 2048 /dev/urandom >"$T/small.bin"
want=$(sha256_of "$T/small.bin")
TLS_ARGS=(-sS --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt"
    --cert "$PKI/client.crt" --key "$PKI/client.key")
reused=0
for r in 1 2 3 4 5; do
	out=$(curl "${TLS_ARGS[@]}" -o /dev/null "$(lb_url "/?slow$r")" \
	    --next "${TLS_ARGS[@]}" -D "$T/ka.headers" \
	    --data-binary "@$T/small.bin" "$(lb_url "/upload?now$r")" \
	    2>"$T/last.err") ||
	    fail "round $r: GET + POST: curl failed: $(cat "$T/last.err")"
	[ "$out" = "sha256=$want bytes=2048" ] ||
	    fail "round $r: POST right after a GET got '$out'"
	grep -qiE '^X-Conn-Requests: ([2-9]|[1-9][0-9]+)' "$T/ka.headers" &&
	    reused=$((reused + 1))
	sleep 1
	http_get "$(lb_url "/upload?late$r")" --data-binary "@$T/small.bin"
	[ "$HTTP_CODE" = 200 ] &&
	    last_body_contains "sha256=$want bytes=2048" ||
	    fail "round $r: POST 1 s after the backend closed its idle" \
	    "connection: HTTP $HTTP_CODE, $(last_summary)"
done
[ "$reused" -gt 0 ] ||
    fail "no POST reused a pooled connection: the pool was never tested"
pass "backend closing idle connections after 300 ms: POSTs got 200" \
    "($reused of 5 immediate ones reused the pooled connection)"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
no_worker_died "pooled connections"
workers_all_stopped "pooled connections"
[ ${#FAILED[@]} = 0 ] || fail "${#FAILED[@]} check(s) failed, see above"
pass "87-lifecycle: all checks passed"
