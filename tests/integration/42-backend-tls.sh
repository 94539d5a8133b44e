#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 42-backend-tls: TLS to backends (issue 13). nginx as an HTTPS backend
# with ssl_verify_client on answers through mtlslb, which shows its
# backend_certificate; without one nginx refuses it (400 passed through).
# Sessions towards the backend resume. A backend whose certificate comes
# from an untrusted CA, has expired or names another host gives 502 and a
# warn line with the server and OpenSSL's reason, never plaintext;
# backend_server_name makes the name check (and SNI) another name;
# backend_verify = off works and warns in -t and at start; a health check
# over TLS marks the untrusted backend DOWN with the reason in the log and
# /status, while it keeps the good one (which wants the client
# certificate) UP. With send_proxy_protocol too, the header precedes the
# handshake (nginx listen ... ssl proxy_protocol). A TLS backend that
# closes at once or stays silent gets 502 with the reason; the expiry of
# backend_certificate is logged and in /metrics. Skips (77) without nginx.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_mtlslb
t_setup
PKI=$T/pki
sh "$MKPKI" -b "$PKI" >"$T/mkpki.log" 2>&1 ||
    harness_error "mkpki.sh -b: $(cat "$T/mkpki.log")"

# mTLS to the backends with a certificate that expires in 10 days
printf '%s\n' 'basicConstraints = critical, CA:FALSE' \
    'keyUsage = critical, digitalSignature' \
    'extendedKeyUsage = clientAuth' >"$T/lb-client.ext"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$T/lb-client.key" -subj /CN=lb-client -out "$T/lb-client.csr" \
    >"$T/openssl.log" 2>&1 &&
    openssl x509 -req -in "$T/lb-client.csr" -CA "$PKI/root.crt" \
    -CAkey "$PKI/root.key" -set_serial 77 -days 10 -sha256 \
    -extfile "$T/lb-client.ext" -out "$T/lb-client.crt" \
    >>"$T/openssl.log" 2>&1 ||
    harness_error "lb-client certificate: $(cat "$T/openssl.log")"

GOOD=$(free_port)
UNTRUSTED=$(free_port)
EXPIRED=$(free_port)
WRONGNAME=$(free_port)
NGINX_TLS_CERT=$PKI/server.crt NGINX_TLS_KEY=$PKI/server.key \
    NGINX_CLIENT_CA=$PKI/root.crt start_nginx_backend GOOD "$GOOD"
NGINX_TLS_CERT=$PKI/other-server.crt NGINX_TLS_KEY=$PKI/other-server.key \
    start_nginx_backend UNTRUSTED "$UNTRUSTED"
NGINX_TLS_CERT=$PKI/server-expired.crt NGINX_TLS_KEY=$PKI/server-expired.key \
    start_nginx_backend EXPIRED "$EXPIRED"
PPTLS=$(free_port)
NGINX_TLS_CERT=$PKI/server.crt NGINX_TLS_KEY=$PKI/server.key \
    NGINX_PROXY_PROTOCOL=1 start_nginx_backend PPTLS "$PPTLS"
# Two TLS backends that misbehave: one closes every connection at once,
# one accepts and never says a word (both stopped by PID at exit).
CLOSER=$(free_port)
SILENT=$(free_port)
python3 -c '
import socket, sys, threading, time
def serve(port, close):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    held = []
    while True:
        c, _ = s.accept()
        if close:
            c.close()
        else:
            held.append(c)
for port, close in ((int(sys.argv[1]), True), (int(sys.argv[2]), False)):
    threading.Thread(target=serve, args=(port, close), daemon=True).start()
print("listening", flush=True)
time.sleep(900)
' "$CLOSER" "$SILENT" >"$T/bad.out" 2>&1 &
t_track $! badtls "$T/bad.out"
wait_log "$T/bad.out" '^listening' 20 $! || harness_error "bad TLS backends"
NGINX_TLS_CERT=$PKI/server-wrongname.crt \
    NGINX_TLS_KEY=$PKI/server-wrongname.key \
    start_nginx_backend WRONGNAME "$WRONGNAME"

# listener NAME GROUP: a listener section on a new port, LP_NAME.
listener() {
	local p
	p=$(free_port)
	printf -v "LP_$1" '%s' "$p"
	cat <<EOF

[listener $1]
bind = 127.0.0.1:$p
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
server_group = $2
EOF
}
# group NAME SERVER-NAME PORT [lines...]: a backend_tls group of one server.
group() {
	local name=$1 sname=$2 port=$3
	shift 3
	printf '\n[server_group %s]\nserver = %s 127.0.0.1:%s\n' "$name" \
	    "$sname" "$port"
	printf 'backend_tls = on\nhealth_check = off\nmax_idle_connections = 0\n'
	printf '%s\n' "$@"
}
ADMIN=$(free_port)
{
	printf '[global]\nworkers = 1\nerror_log = stderr\naccess_log = stderr\n'
	printf 'expiry_warning = 30d\n'
	listener good good
	listener nocert nocert
	listener untrusted untrusted
	listener expired expired
	listener wrongname wrongname
	listener wrongip wrongip
	listener othername othername
	listener noverify noverify
	listener checked checked
	listener pptls pptls
	listener closer closer
	listener silent silent
	group good GOOD "$GOOD" "backend_ca_certificate = $PKI/root.crt" \
	    "backend_certificate = $T/lb-client.crt" \
	    "backend_private_key = $T/lb-client.key"
	group nocert GOOD "$GOOD" "backend_ca_certificate = $PKI/root.crt"
	group untrusted UNTRUSTED "$UNTRUSTED" \
	    "backend_ca_certificate = $PKI/root.crt"
	group expired EXPIRED "$EXPIRED" \
	    "backend_ca_certificate = $PKI/root.crt"
	group wrongname WRONGNAME "$WRONGNAME" \
	    "backend_ca_certificate = $PKI/root.crt" \
	    "backend_server_name = localhost"
	group wrongip WRONGNAME "$WRONGNAME" \
	    "backend_ca_certificate = $PKI/root.crt"
	group othername WRONGNAME "$WRONGNAME" \
	    "backend_ca_certificate = $PKI/root.crt" \
	    "backend_server_name = other.example"
	group noverify UNTRUSTED "$UNTRUSTED" "backend_verify = off"
	group pptls PPTLS "$PPTLS" "backend_ca_certificate = $PKI/root.crt" \
	    "send_proxy_protocol = v2"
	group closer CLOSER "$CLOSER" "backend_ca_certificate = $PKI/root.crt"
	group silent SILENT "$SILENT" "backend_ca_certificate = $PKI/root.crt" \
	    "connect_timeout = 3s"
	printf '\n[server_group checked]\nbackend_tls = on\n'
	printf 'backend_ca_certificate = %s\n' "$PKI/root.crt"
	printf 'backend_certificate = %s\nbackend_private_key = %s\n' \
	    "$PKI/client.crt" "$PKI/client.key"
	printf 'server = GOOD 127.0.0.1:%s\nserver = UNTRUSTED 127.0.0.1:%s\n' \
	    "$GOOD" "$UNTRUSTED"
	printf 'health_check = on\nhealth_check_path = /tls\n'
	printf 'health_check_interval = 2s\nhealth_check_timeout = 1500ms\n'
	printf '\n[admin]\nbind = 127.0.0.1:%s\n' "$ADMIN"
} >"$T/lb.ini"

"$MTLSLB_BIN" -t -c "$T/lb.ini" 2>"$T/t.err" ||
    fail "-t refuses the config: $(cat "$T/t.err")"
grep -q "warning: backend_verify: off: the servers of \[server_group noverify\] are not authenticated" \
    "$T/t.err" || fail "-t does not warn about backend_verify = off: $(cat "$T/t.err")"
pass "-t accepts the config and warns about backend_verify = off"

log_mark
start_mtlslb "$T/lb.ini"
wait_mtlslb_log 'backend_verify: off' 10 ||
    fail "no warning about backend_verify = off at start"
pass "the start warns about backend_verify = off"
wait_mtlslb_log "\[warn\] .*server_group good: backend certificate $T/lb-client\.crt expires on .* \(in " 10 ||
    fail "no expiry warning for backend_certificate"
curl -sS --max-time "$CURL_TIMEOUT" "http://127.0.0.1:$ADMIN/metrics" \
    >"$T/metrics" 2>"$T/metrics.err" || fail "/metrics: $(cat "$T/metrics.err")"
grep -Eq '^mtlslb_certificate_expiry_seconds\{server_group="good",kind="backend"\} [0-9]+$' \
    "$T/metrics" || fail "/metrics has no backend certificate expiry"
pass "backend_certificate expiring in 10 days: a warn line and /metrics"

url() {
	echo "https://127.0.0.1:$1${2:-/}"
}

# --- mTLS to nginx ---------------------------------------------------------------
expect_status 200 "$(url "$LP_good" /tls)"
read -r proto reused dn <"$T/last.body" || true
case $proto in
TLSv1.[23]) ;;
*) fail "good: nginx saw protocol '$proto': $(cat "$T/last.body")" ;;
esac
[ "$dn" = CN=lb-client ] || fail "good: nginx saw client DN '$dn'"
[ "$(last_header X-Backend)" = GOOD ] || fail "good: X-Backend '$(last_header X-Backend)'"
pass "nginx (ssl_verify_client on) answers through mtlslb over $proto," \
    "with mtlslb's backend_certificate CN=lb-client"

# Each request opens its own backend connection (max_idle_connections =
# 0): a later one resumes the session of an earlier one.
for ((i = 0; i < 5; i++)); do
	expect_status 200 "$(url "$LP_good" /tls)"
	read -r proto reused dn <"$T/last.body" || true
	[ "$reused" = r ] && break
done
[ "$reused" = r ] || fail "no TLS session towards nginx was resumed"
pass "TLS sessions towards the backend resume"

expect_status 400 "$(url "$LP_nocert" /)"
grep -q 'No required SSL certificate was sent' "$T/last.body" ||
    fail "nocert: nginx did not refuse for want of a certificate: $(last_summary)"
pass "without backend_certificate nginx refuses mtlslb (its 400 passed on)"

# --- backends that must not be trusted ------------------------------------------
# bad NAME PORT REASON BACKEND: 502, the warn line naming the server and
# the reason, and BACKEND's nginx got no request (never a plaintext one).
bad() {
	log_mark
	expect_status 502 "$(url "$2" /)"
	wait_mtlslb_log "\[warn\].*server_group $1: server [A-Z]+ 127\.0\.0\.1:[0-9]+: connect failed: TLS handshake failed: certificate verify failed: $3" 10 ||
	    fail "$1: no warn line with '$3': $(mtlslb_log_since | tail -n 5)"
	[ "$(backend_hits "$4")" = 0 ] ||
	    fail "$1: the backend got $(backend_hits "$4") requests"
}
bad untrusted "$LP_untrusted" 'unable to get local issuer certificate' \
    UNTRUSTED
pass "a backend certificate from an untrusted CA: 502 and the reason"
bad expired "$LP_expired" 'certificate has expired' EXPIRED
pass "an expired backend certificate: 502 and the reason"
bad wrongname "$LP_wrongname" 'hostname mismatch' WRONGNAME
pass "a backend certificate for another name: 502 and the reason"
bad wrongip "$LP_wrongip" 'IP address mismatch' WRONGNAME
pass "... and checked against the server's IP address by default"

expect_status 200 "$(url "$LP_othername" /)"
[ "$(last_header X-Backend)" = WRONGNAME ] ||
    fail "othername: X-Backend '$(last_header X-Backend)'"
pass "backend_server_name = other.example verifies that name instead"

expect_status 200 "$(url "$LP_noverify" /)"
[ "$(last_header X-Backend)" = UNTRUSTED ] ||
    fail "noverify: X-Backend '$(last_header X-Backend)'"
pass "backend_verify = off talks TLS to the untrusted backend"

# --- health checks over TLS --------------------------------------------------------
wait_mtlslb_log 'server_group checked: server UNTRUSTED 127\.0\.0\.1:[0-9]+ is DOWN \([0-9]+ consecutive failures: TLS handshake failed: certificate verify failed: unable to get local issuer certificate\)' 40 ||
    fail "the TLS health check did not mark UNTRUSTED DOWN with the reason"
curl -sS --max-time "$CURL_TIMEOUT" "http://127.0.0.1:$ADMIN/status" \
    >"$T/status.json" 2>"$T/status.err" || fail "/status: $(cat "$T/status.err")"
python3 - "$T/status.json" <<'PY' || fail "/status: $(cat "$T/status.json")"
import json, sys
st = json.load(open(sys.argv[1]))
groups = st["server_groups"] if isinstance(st, dict) and "server_groups" in st else st["groups"]
g = [g for g in groups if g["name"] == "checked"][0]
srv = {s["name"]: s for s in g["servers"]}
u = srv["UNTRUSTED"]
assert u["state"] == "DOWN", u
assert u["last_probe"]["result"] == ("TLS handshake failed: certificate verify "
    "failed: unable to get local issuer certificate"), u
ok = srv["GOOD"]
assert ok["state"] == "UP", ok
assert ok["last_probe"]["result"] == "ok", ok
PY
pass "/status: UNTRUSTED DOWN with OpenSSL's reason; GOOD (mTLS probe) UP"
for ((i = 0; i < 4; i++)); do
	expect_status 200 "$(url "$LP_checked" /)"
	[ "$(last_header X-Backend)" = GOOD ] ||
	    fail "checked: a request went to $(last_header X-Backend)"
done
pass "requests go to the healthy backend only"
# probes resume their TLS session (nginx logs \$ssl_session_reused): only
# the first, and the first after a failure, is a full handshake
wait_log "$T/GOOD.tls" '^/tls r$' 40 ||
    fail "the health probes never resumed: $(grep '^/tls' "$T/GOOD.tls" | tail -n 3)"
grep -q '^/tls \.$' "$T/GOOD.tls" ||
    fail "no full handshake among the probes: $(head -n 3 "$T/GOOD.tls")"
pass "TLS health probes resume their session after the first full handshake"

# --- TLS and a PROXY header -----------------------------------------------------
expect_status 200 "$(url "$LP_pptls" /pp)" --interface 127.0.0.2
[ "$(cut -d: -f1 "$T/last.body")" = 127.0.0.2 ] ||
    fail "pptls: nginx's PROXY address is '$(cat "$T/last.body")'"
pass "send_proxy_protocol with backend_tls: the header precedes the" \
    "handshake (nginx ssl proxy_protocol sees 127.0.0.2)"

# --- misbehaving TLS backends ---------------------------------------------------------
log_mark
expect_status 502 "$(url "$LP_closer" /)"
# the close met by a handshake read or write: named as such, never a bare
# "Broken pipe"
wait_mtlslb_log 'server_group closer: server CLOSER 127\.0\.0\.1:[0-9]+: connect failed: connection closed during the TLS handshake' 10 ||
    fail "closer: no warn line naming the close: $(mtlslb_log_since | tail -n 3)"
pass "a backend that closes during the handshake: 502, $(mtlslb_log_since |
    sed -n 's/.*server CLOSER [^ ]*: connect failed: //p' | head -n 1)"
log_mark
expect_status 502 "$(url "$LP_silent" /)"
wait_mtlslb_log 'server_group silent: server SILENT 127\.0\.0\.1:[0-9]+: connect failed: timed out \(TCP connect or TLS handshake\)' 10 ||
    fail "silent: no timeout line: $(mtlslb_log_since | tail -n 3)"
pass "a backend silent in the handshake: connect_timeout, 502 and a warn line"

stop_mtlslb
pass "42-backend-tls: all checks passed"
