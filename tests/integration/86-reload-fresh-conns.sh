#!/bin/bash
# 86-reload-fresh-conns: a SIGHUP (or a graceful stop) must not drop a
# connection that has not sent its first request yet. Holds connections
# that are (a) accepted but still before the TLS handshake and (b) past the
# handshake with no request yet, reloads, then completes them: each must
# get its 200. Found by tests/soak.sh (curl exit 35/55 at every SIGHUP).
#
# conn_worker_stop() closes only idle keep-alive connections (nrequests >
# 0); a fresh one finishes its handshake and gets its one request answered
# with Connection: close.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
WORKERS=1
std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"
log_mark

python3 - "$MTLSLB_PORT" "$PKI" "$T/go" >"$T/probe.out" 2>&1 <<'EOF' &
import os, socket, ssl, sys, time
port, pki, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.load_verify_locations(pki + "/root.crt")
ctx.load_cert_chain(pki + "/client.crt", pki + "/client.key")
tcp = [socket.create_connection(("127.0.0.1", port), timeout=5)
       for _ in range(3)]
tls = [ctx.wrap_socket(socket.create_connection(("127.0.0.1", port),
                                                timeout=5),
                       server_hostname="localhost") for _ in range(3)]
open(go + ".ready", "w").close()
for _ in range(100):
    if os.path.exists(go):
        break
    time.sleep(0.1)
ok = 0
req = b"GET /?fresh HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
for kind, s in [("tcp", x) for x in tcp] + [("tls", x) for x in tls]:
    try:
        if kind == "tcp":
            s = ctx.wrap_socket(s, server_hostname="localhost")
        s.sendall(req)
        got = s.recv(4096)
        if got.startswith(b"HTTP/1.1 200"):
            ok += 1
        else:
            print("%s: got %r" % (kind, got[:40]))
    except (OSError, ssl.SSLError) as e:
        print("%s: %s" % (kind, e))
print("ok=%d of 6" % ok)
EOF
PROBE=$!
t_track "$PROBE" probe "$T/probe.out"
for ((i = 0; i < 100; i++)); do
	[ -e "$T/go.ready" ] && break
	pid_alive "$PROBE" || break
	sleep 0.1
done
[ -e "$T/go.ready" ] ||
    harness_error "the probe did not connect: $(cat "$T/probe.out")"
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "no reload"
sleep 1
touch "$T/go"
for ((i = 0; i < 150; i++)); do
	pid_alive "$PROBE" || break
	sleep 0.1
done
stop_pid "$PROBE" 1
grep -q '^ok=6 of 6' "$T/probe.out" ||
    fail "connections made before the reload were dropped: $(tr '\n' ' ' <"$T/probe.out")"
pass "6 connections made before a SIGHUP (3 before the handshake, 3 after) each got 200"
