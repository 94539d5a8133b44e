#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 75-browser: a real browser. Headless Chromium, with client.p12 (made by
# mtlslb-certs) imported into the NSS database of a temporary HOME and the
# root trusted there, opens https://localhost:PORT/ twice and shows ECS01,
# then ECS02, over HTTP/2 (its default with ALPN h2, seen in the access
# log); a HOME without the certificate gets the 400 page. Chromium
# picks the certificate without a dialog because of an
# AutoSelectCertificateForUrls policy in /etc/chromium/policies/managed/
# (written here, removed at exit), so this needs root. Chromium reads every
# file in that directory, so a parallel run (another checkout's make check)
# must not see ours: the policy file is named after this run (PID and
# port) and the part that needs it holds an flock on
# /tmp/mtlslb-test-chromium-policy.lock (bounded wait); each Chromium gets its
# own --user-data-dir under $T.
#
# Nothing is installed or fetched from the network here: scripts/check.sh
# installs chromium and libnss3-tools before the tests. Without them this
# skips (77), which CI turns into a failure (tests/skip-allowlist).
# CHROMIUM_BIN overrides the browser; every browser run is bounded by
# BROWSER_TIMEOUT seconds (default 60).
. "$(dirname "$0")/lib.sh"

t_setup
need_mtlslb
CERTS_SH=${MTLSLB_CERTS:-$top_srcdir/scripts/mtlslb-certs}
[ -r "$CERTS_SH" ] || harness_error "no $CERTS_SH"
BROWSER_TIMEOUT=${BROWSER_TIMEOUT:-60}
POLICY_DIR=/etc/chromium/policies/managed
POLICY=
POLICY_LOCK=/tmp/mtlslb-test-chromium-policy.lock

find_chromium() {
	CHROMIUM=${CHROMIUM_BIN:-}
	[ -n "$CHROMIUM" ] ||
	    CHROMIUM=$(command -v chromium 2>/dev/null ||
	    command -v chromium-browser 2>/dev/null || true)
	[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ]
}

find_chromium ||
    skip "chromium not found (scripts/check.sh installs it: apt-get install chromium)"
need_cmd pk12util certutil flock
[ "$(id -u)" -eq 0 ] ||
    skip "needs root to write the Chromium policy in $POLICY_DIR"
"$CHROMIUM" --version >"$T/version" 2>/dev/null || true
echo "# $(head -n 1 "$T/version")"

# The PKI, all made by mtlslb-certs.
PKI=$T/pki
certs() {
	sh "$CERTS_SH" -d "$PKI" "$@" >>"$T/certs.out" 2>&1 ||
	    harness_error "mtlslb-certs $*: $(cat "$T/certs.out")"
}
certs init-ca --cn "mtlslb browser test CA"
certs server localhost --san DNS:localhost,IP:127.0.0.1
certs client browser --p12

# The backends serve a small HTML page that names its icon (data:), as a
# real application page does. The test backend's text/plain page makes
# Chromium also fetch /favicon.ico, sometimes before it exits and
# sometimes not, which would take a round-robin turn at random.
need_cmd python3
html_backend() {
	local name=$1 port=$2 pid
	python3 -c '
import http.server, sys
name, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
page = ("<!doctype html><html><head><meta charset=\"utf-8\">"
        "<link rel=\"icon\" href=\"data:,\"><title>%s</title></head>"
        "<body><p>Hello World ! This is %s.</p></body></html>\n"
        % (name, name)).encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        with open(log, "a") as f:
            f.write("GET %s\n" % self.path)
        ok = self.path.split("?")[0] == "/"
        body = page if ok else b"not found\n"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8" if ok
                         else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", name)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
print("listening on 127.0.0.1:%d" % port, flush=True)
s.serve_forever()
' "$name" "$port" "$T/$name.requests" >"$T/$name.out" 2>&1 &
	pid=$!
	t_track "$pid" "backend $name" "$T/$name.out" "$T/$name.requests"
	wait_log "$T/$name.out" '^listening on ' 10 "$pid" ||
	    harness_error "backend $name did not start on port $port"
}
P1=$(free_port)
P2=$(free_port)
html_backend ECS01 "$P1"
html_backend ECS02 "$P2"
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
SERVER_CERT=$PKI/localhost.fullchain.crt SERVER_KEY=$PKI/localhost.key \
    CRL=$PKI/crl.pem restart_mtlslb "$T/lb.ini"
URL=https://localhost:$MTLSLB_PORT/

# A HOME with the client certificate and the trusted root in NSS, and one
# with only the root.
mkhome() {
	local home=$1 db=$1/.pki/nssdb
	mkdir -p "$db"
	timeout 30 certutil -N -d "sql:$db" --empty-password \
	    >>"$T/nss.log" 2>&1 || harness_error "certutil -N: $(cat "$T/nss.log")"
	timeout 30 certutil -A -d "sql:$db" -t C,, -n "mtlslb browser test CA" \
	    -i "$PKI/root.crt" >>"$T/nss.log" 2>&1 ||
	    harness_error "certutil -A: $(cat "$T/nss.log")"
}
mkhome "$T/home-cert"
timeout 30 pk12util -d "sql:$T/home-cert/.pki/nssdb" -i "$PKI/browser.p12" \
    -W "$(cat "$PKI/browser.p12.pass")" >>"$T/nss.log" 2>&1 ||
    fail "pk12util could not import browser.p12: $(cat "$T/nss.log")"
timeout 30 certutil -L -d "sql:$T/home-cert/.pki/nssdb" >"$T/nss.list" 2>&1
grep -q '^browser ' "$T/nss.list" ||
    fail "browser.p12's certificate is not in NSS: $(cat "$T/nss.list")"
pass "pk12util imports browser.p12 (AES-256/PBKDF2) into NSS; root trusted with certutil"
mkhome "$T/home-nocert"

# The policy: pick the certificate issued by our CA for this origin. Only
# one run at a time has a policy there (the lock, released at exit).
mkdir -p "$POLICY_DIR"
exec 8>"$POLICY_LOCK"
flock -w 600 8 || fail "another run held $POLICY_LOCK for 600 s"
POLICY=$POLICY_DIR/mtlslb-test-$$-$MTLSLB_PORT.json
trap 'rc=$?; rm -f "$POLICY"; exec 8>&-; (exit $rc); t_cleanup' EXIT
cat >"$POLICY" <<EOF
{
  "AutoSelectCertificateForUrls": [
    "{\"pattern\":\"https://localhost:$MTLSLB_PORT\",\"filter\":{\"ISSUER\":{\"CN\":\"mtlslb browser test CA\"}}}"
  ]
}
EOF
chmod 644 "$POLICY"

# browse HOME OUT: one headless load of $URL, the DOM in OUT.
browse() {
	local home=$1 out=$2 prof rc=0 p
	prof=$(mktemp -d "$T/profile.XXXXXX")
	HOME=$home timeout -k 5 "$BROWSER_TIMEOUT" "$CHROMIUM" --headless \
	    --no-sandbox --disable-gpu --disable-quic --no-first-run \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$prof" --dump-dom "$URL" \
	    >"$out" 2>>"$T/chromium.log" || rc=$?
	# Anything of that run still alive (only processes using this
	# profile directory) is stopped by PID.
	grep -l -s -F -- "$prof" /proc/[0-9]*/cmdline |
	    sed 's|/proc/\([0-9]*\)/cmdline|\1|' | while read -r p; do
		kill -KILL "$p" 2>/dev/null || true
	done
	[ "$rc" -eq 0 ] || fail "chromium exited $rc loading $URL" \
	    "(timeout ${BROWSER_TIMEOUT}s?): $(tail -n 5 "$T/chromium.log")"
}

T_LOGS+=("$T/chromium.log")
browse "$T/home-cert" "$T/dom1"
browse "$T/home-cert" "$T/dom2"
first=$(grep -o 'This is ECS0[12]' "$T/dom1" || true)
second=$(grep -o 'This is ECS0[12]' "$T/dom2" || true)
[ -n "$first" ] || fail "first load: no ECS page: $(head -c 400 "$T/dom1")"
[ -n "$second" ] || fail "second load: no ECS page: $(head -c 400 "$T/dom2")"
[ "$first" != "$second" ] ||
    fail "both loads show '$first'; expected ECS01 then ECS02"
wait_mtlslb_log '"CN=browser" .* 200 .*verify=SUCCESS' ||
    fail "no access-log line for CN=browser with verify=SUCCESS"
pass "chromium with browser.p12: '$first' then '$second'"
# HTTP/2 is the browser's default when the server offers it (ALPN h2)
n=$(mtlslb_log_since | grep -c '"CN=browser" .*"GET / HTTP/2\.0" 200 ') || true
[ "$n" -ge 2 ] ||
    fail "chromium did not load / over HTTP/2 twice (access log: $n)"
pass "chromium negotiated HTTP/2 (access log: GET / HTTP/2.0, $n loads)"

browse "$T/home-nocert" "$T/dom3"
grep -q '400 No required SSL certificate was sent' "$T/dom3" ||
    fail "without the certificate: $(head -c 400 "$T/dom3")"
pass "chromium without the certificate: 400 No required SSL certificate was sent"

stop_mtlslb 15
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited $MTLSLB_STATUS on TERM"
