#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 31-bad-backend: a backend that misbehaves (tests/helpers/badbackend.py)
# behind the real daemon, real mTLS clients (curl and python3 ssl). For
# each misbehaviour: the client gets the right answer (502 for a bad,
# oversized or unsolicited head, 504 for silence, or a truncated response
# that ends WITHOUT a TLS close_notify and without curl claiming success),
# the error log names the server and the reason, the request gets exactly
# one access-log line with its status and upstream, the daemon serves the
# next request, and no worker dies (signal, exit, sanitizer report).
# Also issue 17 items 1 (tunnel crash), 4 (backend_timeout during a slow
# upload), 6 (truncation vs close_notify), 7 (one access-log line each,
# 499 for a client abort) and 16 (early 413 during an upload).
#
# Every case prints one "ok - NAME" or "not ok - NAME: ..." line; the
# script goes on after a failing case and exits 1 at the end if any failed.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3

BADBACKEND="$top_srcdir/tests/helpers/badbackend.py"
[ -r "$BADBACKEND" ] || harness_error "missing $BADBACKEND"

# --- the python client ----------------------------------------------------
# One request over mTLS; prints one line of key=value fields:
#   status= (000: no final head) interim= (1xx heads) body= (payload bytes,
#   chunked decoded) complete=0|1 eof=clean|unclean|reset|timeout|open|tls
#   early=0|1 (the response arrived before the whole body was sent)
#   tunnel= (bytes read after a 101) err=
# eof=clean means a TLS close_notify came before the TCP FIN; unclean means
# a FIN without close_notify; reset means a TCP RST.
cat >"$T/client.py" <<'EOF'
import argparse, select, socket, ssl, sys, time

p = argparse.ArgumentParser()
p.add_argument("port", type=int)
p.add_argument("pki")
p.add_argument("path")
p.add_argument("--method", default="GET")
p.add_argument("--body-bytes", type=int, default=-1)
p.add_argument("--rate", type=float, default=0, help="body bytes per second")
p.add_argument("--upgrade", action="store_true")
p.add_argument("--rcvbuf", type=int, default=0)
p.add_argument("--pause", type=float, default=0,
               help="after a 101: seconds without reading, then send 1 byte")
p.add_argument("--trickle", action="store_true",
               help="after a 101: read slowly, send a byte every 30 ms")
p.add_argument("--abort-after", type=float, default=0)
p.add_argument("--timeout", type=float, default=20)
a = p.parse_args()
deadline = time.monotonic() + a.timeout
res = {"status": "000", "interim": 0, "body": 0, "complete": 0,
       "eof": "open", "early": 0, "tunnel": 0, "err": "-"}


def out():
    print(" ".join("%s=%s" % kv for kv in res.items()))
    sys.exit(0)


ctx = ssl.create_default_context(cafile=a.pki + "/root.crt")
ctx.load_cert_chain(a.pki + "/client.crt", a.pki + "/client.key")
raw = socket.socket()
if a.rcvbuf:
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
raw.settimeout(a.timeout)
try:
    raw.connect(("127.0.0.1", a.port))
    s = ctx.wrap_socket(raw, server_hostname="127.0.0.1",
                        suppress_ragged_eofs=False)
except (OSError, ssl.SSLError) as e:
    res["err"] = "connect:" + type(e).__name__
    out()


class Eof(Exception):
    pass


def recv(n=65536):
    left = deadline - time.monotonic()
    if left <= 0:
        raise Eof("timeout")
    s.settimeout(left)
    try:
        d = s.recv(n)
    except ssl.SSLEOFError:
        raise Eof("unclean")
    except ConnectionResetError:
        raise Eof("reset")
    except (socket.timeout, TimeoutError):
        raise Eof("timeout")
    except ssl.SSLError as e:
        raise Eof("tls:" + str(e.reason))
    except OSError as e:
        raise Eof("oserror:" + str(e.errno))
    if not d:
        raise Eof("clean")
    return d


head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (a.method, a.path, a.port)
if a.upgrade:
    head += "Connection: Upgrade\r\nUpgrade: websocket\r\n"
if a.body_bytes >= 0:
    head += "Content-Length: %d\r\n" % a.body_bytes
s.sendall(head.encode() + b"\r\n")

if a.abort_after:
    time.sleep(a.abort_after)
    s.close()                   # no close_notify: an abort
    res["err"] = "aborted"
    out()

# The body, at --rate or as fast as the proxy takes it; stop as soon as a
# response starts (an early answer). Readable with no application data is
# a TLS 1.3 session ticket.
buf = b""
sent = 0
chunk = b"b" * 16384
s.setblocking(False)
while 0 <= sent < a.body_bytes and time.monotonic() < deadline:
    r, w, _ = select.select([s], [] if a.rate else [s], [],
                            1 / a.rate if a.rate else 1)
    if r or s.pending():
        try:
            d = s.recv(65536)
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            d = None
        except (OSError, ssl.SSLError):
            d = b""
        if d is not None:
            buf = d
            res["early"] = 1
            break
    if not a.rate and not w:
        continue
    try:
        sent += s.send(b"b" if a.rate else chunk)
    except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
        continue
    except (OSError, ssl.SSLError) as e:
        res["err"] = "send:" + type(e).__name__
        break
s.setblocking(True)

try:
    while True:                         # heads: 1xx first, then the final
        while b"\r\n\r\n" not in buf:
            if len(buf) > 1 << 20:
                res["err"] = "head-too-large"
                out()
            buf += recv(1 if a.upgrade else 65536)
        h, buf = buf.split(b"\r\n\r\n", 1)
        lines = h.split(b"\r\n")
        st = lines[0].split(b" ")
        code = int(st[1]) if len(st) > 1 and st[1].isdigit() else 0
        if 100 <= code < 200 and code != 101:
            res["interim"] += 1
            continue
        res["status"] = "%03d" % code
        break
    hdrs = {}
    for l in lines[1:]:
        k, _, v = l.partition(b":")
        hdrs.setdefault(k.strip().lower(), v.strip().lower())
    if code == 101:
        res["tunnel"] = len(buf)
        if a.pause:
            time.sleep(a.pause)
            s.sendall(b"x")
        while a.trickle:                # about 500 KiB/s, a byte each time
            try:
                s.sendall(b"x")
            except (OSError, ssl.SSLError):
                pass
            res["tunnel"] += len(recv(16384))
            time.sleep(0.03)
        while True:
            res["tunnel"] += len(recv())
    if b"chunked" in hdrs.get(b"transfer-encoding", b""):
        while True:
            while b"\r\n" not in buf:
                buf += recv()
            line, buf = buf.split(b"\r\n", 1)
            size = int(line.split(b";")[0], 16)
            if size == 0:
                res["complete"] = 1
                break
            while len(buf) < size + 2:
                res["body"] += len(buf)
                size -= len(buf)
                buf = recv()
            res["body"] += size
            buf = buf[size + 2:]
    elif b"content-length" in hdrs:
        want = int(hdrs[b"content-length"])
        res["body"] = len(buf)
        while res["body"] < want:
            res["body"] += len(recv())
        if res["body"] > want:
            res["err"] = "excess-%d" % (res["body"] - want)
            res["body"] = want
        res["complete"] = 1
    else:
        res["body"] = len(buf)
        while True:
            res["body"] += len(recv())
    if b"close" in hdrs.get(b"connection", b""):
        while True:
            recv()
except Eof as e:
    res["eof"] = e.args[0]
out()
EOF

# client ARGS...: runs client.py against the daemon; the fields land in
# $T/client.out (kv reads them).
client() {
	timeout 90 python3 "$T/client.py" "$MTLSLB_PORT" "$PKI" "$@" </dev/null \
	    >"$T/client.out" 2>"$T/client.err" || true
	[ -s "$T/client.out" ] || echo "status=000 err=client-crashed" \
	    >"$T/client.out"
}

# kv KEY: the value of KEY in the last client line.
kv() {
	tr ' ' '\n' <"$T/client.out" | sed -n "s/^$1=//p" | head -n 1
}

# --- per-case bookkeeping -------------------------------------------------
# BB_CASES (an ERE) runs only the cases whose names match it.
NFAIL=0
FAILED=()
CASE=
CASE_ERRS=
ACCESS=()		# "TARGET STATUS_ERE" pairs case_tail checks

# bad MSG: record a failed check of the current case.
bad() {
	CASE_ERRS="${CASE_ERRS:+$CASE_ERRS; }$*"
}

# run_case NAME FUNC [ARGS...]: one case, one result line.
run_case() {
	CASE=$1
	shift
	[[ $CASE =~ ${BB_CASES:-.} ]] || return 0
	CASE_ERRS=
	ACCESS=()
	log_mark
	ensure_serving || bad "daemon not serving before the case"
	"$@"
	if [ -z "$CASE_ERRS" ]; then
		printf 'ok - %s\n' "$CASE"
	else
		printf 'not ok - %s: %s\n' "$CASE" "$CASE_ERRS"
		NFAIL=$((NFAIL + 1))
		FAILED+=("$CASE")
	fi
}

# ensure_serving: waits (bounded) until a plain request through the daemon
# gets the good answer; a crashed worker is being replaced meanwhile.
ensure_serving() {
	local end=$((SECONDS + 60))
	while [ "$SECONDS" -lt "$end" ]; do
		http_get "$(lb_url /ok)"
		[ "$HTTP_CODE" = 200 ] && return 0
		sleep 0.5
	done
	return 1
}

# log_has ERE: a daemon log line after the mark matches ERE (-i).
log_has() {
	mtlslb_log_since | grep -Eiq -- "$1"
}

# wait_log_has ERE SECONDS: waits for log_has, bounded by the clock.
wait_log_has() {
	local end=$((SECONDS + $2))
	while :; do
		log_has "$1" && return 0
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# next_ok_barrier: the next normal request is served (200 "ok BAD ..."),
# then waits for its access-log line. With one worker, which logs in
# order, every line the case's requests will ever get is written by then
# (a short grace covers the client-abort race).
next_ok_barrier() {
	local id="/ok?next-after=$CASE"
	http_get "$(lb_url "$id")"
	if [ "$HTTP_CODE" != 200 ] || ! last_body_contains "ok BAD bytes=0"; then
		bad "next request: expected 200 'ok BAD bytes=0'," \
		    "got $HTTP_CODE '$(head -c 80 "$T/last.body" | tr '\n' ' ')'"
		return
	fi
	wait_log_has "\"GET ${id//\?/\\?} HTTP/1\.1\" 200 " 20 ||
	    bad "no access-log line for the next request $id"
}

# expect_error_log REASON_ERE: an error-log line names the server (BAD and
# its address) and matches REASON_ERE.
expect_error_log() {
	local re="server BAD 127\\.0\\.0\\.1:$BAD_PORT.*($1)"
	wait_log_has "$re" 2 && return 0
	bad "error log: expected a line matching '$re', got:" \
	    "'$(mtlslb_log_since | grep -v '^127\.0\.0\.1 - ' | grep -F BAD |
	    tail -n 2 | tr '\n' '|')'"
}

# expect_access TARGET STATUS_ERE: exactly one access-log line for TARGET
# (GET or POST), with a status matching STATUS_ERE and upstream = BAD.
expect_access() {
	local target=$1 st=$2 re lines n
	re="\"(GET|POST) ${target//\?/\\?} HTTP/1\.1\""
	wait_log_has "$re" 2 || true
	lines=$(mtlslb_log_since | grep -E "$re" || true)
	n=$(printf '%s' "$lines" | grep -c . || true)
	if [ "$n" != 1 ]; then
		bad "access log: expected 1 line for $target, got $n"
		return
	fi
	[[ $lines =~ HTTP/1\.1\"\ ($st)\  ]] ||
	    bad "access log: expected status $st for $target, got" \
	    "'$(printf '%s' "$lines" | sed 's/.*HTTP\/1.1" //' | cut -d' ' -f1)'"
	[[ $lines == *" upstream=127.0.0.1:$BAD_PORT "* ]] ||
	    bad "access log: expected upstream=127.0.0.1:$BAD_PORT for" \
	    "$target, got '$(printf '%s' "$lines" | grep -o 'upstream=[^ ]*')'"
}

DEATH_RE='killed by signal|exited with status|Sanitizer|runtime error:'

# expect_no_death: no worker died since the mark.
expect_no_death() {
	local l
	l=$(mtlslb_log_since | grep -E "$DEATH_RE" | head -n 2 | tr '\n' '|')
	[ -z "$l" ] || bad "a worker died: $l"
	pid_alive "$MTLSLB_PID" || bad "the master is gone"
}

# case_tail [REASON_ERE]: the checks every case ends with: the daemon
# serves the next request, the error log names server and reason, each
# request in ACCESS got exactly one access-log line, no worker died.
case_tail() {
	local a
	next_ok_barrier
	[ -z "${1:-}" ] || expect_error_log "$1"
	for a in "${ACCESS[@]}"; do
		expect_access "${a%% *}" "${a#* }"
	done
	expect_no_death
}

# --- the cases ----------------------------------------------------------------

# bad_head PATH REASON: the backend's head is invalid, oversized or
# unsolicited: a whole 502 page.
bad_head() {
	local target
	case $1 in
	*\?*) target="$1&id=$CASE" ;;
	*) target="$1?id=$CASE" ;;
	esac
	http_get "$(lb_url "$target")"
	[ "$HTTP_CODE" = 502 ] || bad "expected 502, got $HTTP_CODE ($(last_summary))"
	[ "$CURL_RC" = 0 ] || bad "expected a whole 502 page (curl 0), got curl $CURL_RC"
	ACCESS=("$target 502")
	case_tail "$2"
}

# A POST is never retried: the reset goes straight to 502.
rst_after_post() {
	http_get "$(lb_url "/mode/rst?id=$CASE")" --data-binary 'a=1&b=2'
	[ "$HTTP_CODE" = 502 ] || bad "expected 502, got $HTTP_CODE ($(last_summary))"
	ACCESS=("/mode/rst?id=$CASE 502")
	case_tail reset
}

never_answers() {
	http_get "$(lb_url "/mode/hold?id=$CASE")" --max-time 30
	[ "$HTTP_CODE" = 504 ] || bad "expected 504, got $HTTP_CODE ($(last_summary))"
	ACCESS=("/mode/hold?id=$CASE 504")
	case_tail 'timeout|timed out'
}

# 1000 interim responses: either relayed followed by the final 200, or
# refused with a 502; never a hang or a dead worker.
flood_1xx() {
	local t="/mode/flood-1xx?n=1000&id=$CASE"
	client "$t"
	echo "# $CASE: $(cat "$T/client.out")"
	case $(kv status) in
	200)
		if [ "$(kv body)" != 12 ] || [ "$(kv complete)" != 1 ]; then
			bad "200 after the flood, but body $(kv body)" \
			    "complete $(kv complete)"
		fi
		;;
	502) ;;
	*) bad "expected 200 (after the 1xx) or 502, got $(cat "$T/client.out")" ;;
	esac
	ACCESS=("$t 200|502")
	case_tail
}

# Content-Length shorter than the body: the client gets exactly 5 bytes;
# the excess (a whole smuggled response) reaches no client, and that
# backend connection is not reused.
cl_shorter() {
	local t="/mode/cl-short?id=$CASE"
	http_get "$(lb_url "$t")"
	if [ "$HTTP_CODE" != 200 ] || [ "$CURL_RC" != 0 ] ||
	    [ "$(cat "$T/last.body")" != hello ]; then
		bad "expected 200 'hello', got $HTTP_CODE" \
		    "'$(head -c 60 "$T/last.body")' ($(last_summary))"
	fi
	http_get "$(lb_url /ok)"
	if last_body_contains smuggled ||
	    last_body_contains reused-after-excess; then
		bad "the next request got '$(head -c 60 "$T/last.body")'"
	fi
	ACCESS=("$t 200")
	case_tail 'more data|excess|extra|exceed|longer|Content-Length'
}

# truncated MODE REASON: the response head went out, the body is cut. The
# client must see the truncation: no close_notify after it (python ssl
# says unclean EOF or reset), and curl does not exit 0. Logged with the
# status that was sent (200), as nginx does.
truncated() {
	local tp="/mode/$1?id=$CASE-py" tc="/mode/$1?id=$CASE-curl"
	client "$tp"
	echo "# $CASE: $(cat "$T/client.out")"
	[ "$(kv status)" = 200 ] || bad "python: expected the 200 head, got $(kv status)"
	[ "$(kv complete)" = 0 ] || bad "python: the truncated body looked complete"
	case $(kv eof) in
	unclean | reset) ;;
	*) bad "python: expected a close without close_notify (eof=unclean or reset), got eof=$(kv eof)" ;;
	esac
	http_get "$(lb_url "$tc")" --max-time 30
	case $CURL_RC in
	18 | 56) ;;
	*) bad "curl: expected exit 18 or 56, got $CURL_RC (HTTP $HTTP_CODE)" ;;
	esac
	ACCESS=("$tp 200" "$tc 200")
	case_tail "$2"
}

# Issue 17 item 8: an upgraded connection on which nobody says anything is
# closed after tunnel_timeout (8 s here), not held forever. The client
# waits up to 60 s: the daemon, not the client's deadline, must end it.
tunnel_idle() {
	local t="/mode/upgrade-idle?id=$CASE"
	client "$t" --upgrade --timeout 60
	echo "# $CASE: $(cat "$T/client.out")"
	[ "$(kv status)" = 101 ] || bad "expected 101, got $(kv status)"
	[ "$(kv eof)" != timeout ] ||
	    bad "the idle tunnel was still open after 60 s (tunnel_timeout 8s)"
	ACCESS=("$t 101")
	case_tail
}

# Issue 17 item 1, as filed: the backend sends 2 MiB into a tunnel and
# closes while the client does not read (small receive buffer); three
# seconds later the client sends one byte, then reads. The worker must
# live, and what the backend sent before closing must all arrive (a
# half-closed side flushes what it holds).
tunnel_as_filed() {
	local t="/mode/upgrade-flood?id=$CASE"
	client "$t" --upgrade --rcvbuf 4096 --pause 3 --timeout 60
	echo "# $CASE: $(cat "$T/client.out")"
	[ "$(kv status)" = 101 ] || bad "expected 101, got $(kv status)"
	[ "$(kv tunnel)" = 2097152 ] ||
	    bad "expected the 2097152 tunnel bytes, got $(kv tunnel) (eof=$(kv eof))"
	ACCESS=("$t 101")
	case_tail
}

# Issue 17 item 1, whatever the kernel's socket buffer sizes: 6 MiB is
# more than the daemon's socket send buffer can take (tcp_wmem allows at
# most 4 MiB), so tunnel data is still queued in the daemon when it reads
# the backend's close. The client reads it slowly (small receive buffer)
# and sends a byte every 30 ms all along, so some byte arrives then.
# Once the backend has closed, those bytes draw a reset from its kernel,
# which discards what it had not sent yet: no proxy can deliver that.
# So the client gets all 6 MiB and a clean end, or a prefix and a cut
# (no close_notify): never a clean end after a prefix.
tunnel_trickle() {
	local t="/mode/upgrade-flood?bytes=6291456&id=$CASE"
	client "$t" --upgrade --rcvbuf 4096 --trickle --timeout 80
	echo "# $CASE: $(cat "$T/client.out")"
	[ "$(kv status)" = 101 ] || bad "expected 101, got $(kv status)"
	[ "$(kv tunnel)" = 6291456 ] || [ "$(kv eof)" != clean ] ||
	    bad "a clean end after $(kv tunnel) of the 6291456 tunnel bytes"
	ACCESS=("$t 101")
	case_tail
}

# Issue 17 item 4: 80 bytes at 10 bytes/s, about 8 s of upload, with
# backend_timeout = 3s and client_body_timeout = 60s. The backend answers
# once it has the whole body; backend_timeout must not run meanwhile.
slow_upload() {
	local t="/ok?id=$CASE"
	client "$t" --method POST --body-bytes 80 --rate 10 --timeout 60
	echo "# $CASE: $(cat "$T/client.out")"
	if [ "$(kv status)" != 200 ] || [ "$(kv early)" != 0 ]; then
		bad "expected the backend's 200 after the whole body," \
		    "got $(kv status) (early=$(kv early))"
	fi
	if log_has 'backend_timeout|timed out'; then
		bad "timeout logged: '$(mtlslb_log_since |
		    grep -Ei 'backend_timeout|timed out' | head -n 1)'"
	fi
	ACCESS=("$t 200")
	case_tail
}

# Issue 17 item 16: the backend answers 413 before reading a 16 MiB body
# (and drains it, as nginx does). The client must get the whole 413, not
# a reset: curl (no Expect: it uploads at once; three times, as whether a
# reset beats the 413 to curl is a race) and python, which stops sending
# when the answer starts.
early_413() {
	local tc="/mode/early-413?id=$CASE-curl" tp="/mode/early-413?id=$CASE-py" i
	head -c 16777216 /dev/zero >"$T/up.bin"
	for i in 1 2 3; do
		http_get "$(lb_url "$tc$i")" -H 'Expect:' \
		    --data-binary "@$T/up.bin" --max-time 60
		ACCESS+=("$tc$i 413")
		if [ "$HTTP_CODE" != 413 ] || [ "$CURL_RC" != 0 ]; then
			bad "curl $i: expected 413 and exit 0, got $HTTP_CODE" \
			    "($(last_summary))"
		elif [ "$(tail -c 11 "$T/last.body")" != end-of-413 ]; then
			bad "curl $i: the 413 body is cut" \
			    "($(wc -c <"$T/last.body") bytes)"
		fi
	done
	rm -f "$T/up.bin"
	client "$tp" --method POST --body-bytes 16777216 --timeout 60
	echo "# $CASE: python: $(cat "$T/client.out")"
	if [ "$(kv status)" != 413 ] || [ "$(kv complete)" != 1 ]; then
		bad "python: expected a whole 413, got $(cat "$T/client.out")"
	fi
	ACCESS+=("$tp 413")
	case_tail
}

# Issue 17 item 7: a client that gives up before the answer gets one
# access-log line with nginx's 499 and the upstream it was waiting for.
client_abort() {
	local t="/mode/hold?id=$CASE"
	client "$t" --abort-after 1
	# the abort is noticed on the daemon's next loop turn: a short grace
	wait_log_has "\"GET ${t//\?/\\?} HTTP/1\.1\"" 5 || true
	ACCESS=("$t 499")
	case_tail
}

# --- set-up -------------------------------------------------------------
BAD_PORT=$(free_port)
python3 "$BADBACKEND" --port "$BAD_PORT" --name BAD --log "$T/BAD.log" \
    --hold 30 >"$T/BAD.out" 2>&1 &
BAD_PID=$!
t_track "$BAD_PID" "badbackend" "$T/BAD.out" "$T/BAD.log"
wait_log "$T/BAD.out" '^listening on ' 15 "$BAD_PID" ||
    harness_error "badbackend did not start on port $BAD_PORT"

# One worker, so "the next request" goes to the worker that just met the
# bad backend and its log lines come in order. backend_timeout = 3s:
# generous for a loaded ASan machine (every good answer is immediate),
# short enough for the silent cases.
WORKERS=1
BACKEND_TIMEOUT=3s
LISTENER_EXTRA="client_body_timeout = 60s
tunnel_timeout = 8s"
SERVERS="server = BAD 127.0.0.1:$BAD_PORT"
CONF=$T/lb.ini
restart_mtlslb "$CONF"
ensure_serving || fail "the daemon does not serve /ok at all"

BADHEAD='invalid|malformed|too (large|long|big)|exceed|limit|unsolicited|not (requested|asked)|upgrade|101'

run_case invalid-status bad_head /mode/invalid-status "$BADHEAD|status"
run_case status-600 bad_head "/mode/bad-code?code=600" "$BADHEAD|status"
run_case status-099 bad_head "/mode/bad-code?code=099" "$BADHEAD|status"
run_case unsolicited-101 bad_head /mode/unsolicited-101 "$BADHEAD"
run_case head-too-large bad_head /mode/big-head "$BADHEAD"
run_case obs-fold bad_head /mode/obs-fold "$BADHEAD|fold"
run_case nul-in-head bad_head /mode/nul "$BADHEAD|nul"
run_case bare-lf-in-head bad_head /mode/bare-lf "$BADHEAD|LF"
run_case cl-and-te bad_head /mode/cl-te \
    "$BADHEAD|Transfer-Encoding|Content-Length"
run_case duplicate-cl bad_head /mode/dup-cl "$BADHEAD|Content-Length"
run_case close-mid-head bad_head /mode/close-mid-head \
    'closed|incomplete|truncated|EOF'
# A GET is retried on the next server after a reset; with none left: 502.
run_case rst-after-request bad_head /mode/rst reset
run_case rst-after-post rst_after_post
run_case never-answers never_answers
run_case flood-1xx flood_1xx
run_case cl-shorter-than-body cl_shorter
TRUNC='closed|prematurely|truncated|mid-response|before the end|incomplete'
run_case cl-longer-than-body truncated cl-long "$TRUNC"
run_case close-mid-chunked truncated close-mid-chunked "$TRUNC"
run_case rst-mid-body truncated rst-mid-body reset
run_case stall-mid-body truncated stall-mid-body 'timeout|timed out'
run_case tunnel-idle-timeout tunnel_idle
run_case tunnel-close-as-filed tunnel_as_filed
run_case tunnel-close-while-client-sends tunnel_trickle
run_case slow-upload-not-504 slow_upload
run_case early-413-during-upload early_413
run_case client-abort-499 client_abort

# --- the end --------------------------------------------------------------
whole_run() {
	LOG_MARK=0
	expect_no_death
	stop_mtlslb 15
	[ "$MTLSLB_STATUS" = 0 ] ||
	    bad "the daemon exited $MTLSLB_STATUS on SIGTERM"
}
run_case whole-run-no-worker-death whole_run

if [ "$NFAIL" -gt 0 ]; then
	printf '# %d case(s) failed: %s\n' "$NFAIL" "${FAILED[*]}"
	exit 1
fi
pass "31-bad-backend: all cases passed"
