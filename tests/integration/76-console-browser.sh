#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 76-console-browser: the operator console in a real browser (issue 15,
# Done-when 1). The admin endpoint serves TLS and requires a client
# certificate (ca_certificate, allow = CN=operator). ECS02's backend is
# stopped and the health checks mark it DOWN; then headless Chromium, with
# operator.p12 in the NSS database of a temporary HOME, loads
# https://localhost:PORT/, saves a screenshot and dumps the DOM, which must
# show both servers, ECS01 UP and ECS02 DOWN, and the server
# certificate's expiry date as openssl prints it. A HOME without the
# certificate gets no page (the handshake is refused).
#
# As 75-browser does: the certificate is picked without a dialog by an
# AutoSelectCertificateForUrls policy in /etc/chromium/policies/managed/
# (named after this run, removed at exit, written under an flock shared
# with 75-browser), so this needs root; each Chromium gets its own
# --user-data-dir. Nothing is installed or fetched here. CHROMIUM_BIN
# overrides the browser, BROWSER_TIMEOUT (60) bounds each run, and
# CONSOLE_SCREENSHOT=FILE copies the screenshot there (docs/console.png
# is made that way).
. "$(dirname "$0")/lib.sh"

t_setup
need_mtlslb
need_cmd python3
CERTS_SH=${MTLSLB_CERTS:-$top_srcdir/scripts/mtlslb-certs}
[ -r "$CERTS_SH" ] || harness_error "no $CERTS_SH"
BROWSER_TIMEOUT=${BROWSER_TIMEOUT:-60}
POLICY_DIR=/etc/chromium/policies/managed
POLICY=
POLICY_LOCK=/tmp/mtlslb-test-chromium-policy.lock
HTMLCHECK=$top_srcdir/tests/helpers/htmlcheck.py

CHROMIUM=${CHROMIUM_BIN:-}
[ -n "$CHROMIUM" ] ||
    CHROMIUM=$(command -v chromium 2>/dev/null ||
    command -v chromium-browser 2>/dev/null || true)
if [ -z "$CHROMIUM" ] || [ ! -x "$CHROMIUM" ]; then
	skip "chromium not found (scripts/check.sh installs it: apt-get install chromium)"
fi
need_cmd pk12util certutil flock
[ "$(id -u)" -eq 0 ] ||
    skip "needs root to write the Chromium policy in $POLICY_DIR"

# The PKI, made by mtlslb-certs: the operator's certificate is a client
# certificate of the same CA here; a real deployment would use its own.
PKI=$T/pki
certs() {
	sh "$CERTS_SH" -d "$PKI" "$@" >>"$T/certs.out" 2>&1 ||
	    harness_error "mtlslb-certs $*: $(cat "$T/certs.out")"
}
certs init-ca --cn "mtlslb console test CA"
certs server localhost --san DNS:localhost,IP:127.0.0.1
certs client operator --p12
# "notAfter=Mar 11 01:13:02 2029 GMT" -> "2029-03-11 01:13:02 UTC"
NOT_AFTER=$(openssl x509 -noout -enddate -in "$PKI/localhost.crt" |
    sed 's/^notAfter=//')
EXPIRY=$(date -u -d "$NOT_AFTER" '+%Y-%m-%d %H:%M:%S UTC') ||
    harness_error "cannot read the server certificate's date: $NOT_AFTER"

P1=$(free_port)
P2=$(free_port)
PA=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2" HEALTH_CHECK=on CA=$PKI/root.crt \
    SERVER_CERT=$PKI/localhost.fullchain.crt SERVER_KEY=$PKI/localhost.key \
    GROUP_EXTRA="health_check_interval = 1s
health_check_timeout = 5s
health_check_path = /status/200" std_config "$T/lb.ini"
cat >>"$T/lb.ini" <<EOF

[admin]
bind = 127.0.0.1:$PA
server_certificate = $PKI/localhost.fullchain.crt
server_private_key = $PKI/localhost.key
ca_certificate = $PKI/root.crt
allow = CN=operator
EOF
log_mark
start_mtlslb "$T/lb.ini"
wait_port "$PA" 10 "$MTLSLB_PID" || fail "admin port $PA not open"
URL=https://localhost:$PA/

# Some traffic for the counters, then ECS02 goes away.
for ((i = 0; i < 4; i++)); do
	curl -sS --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
	    --cert "$PKI/operator.crt" --key "$PKI/operator.key" \
	    -o /dev/null "https://localhost:$LB_PORT/?i=$i" 2>>"$T/curl.err" ||
	    fail "request $i failed: $(cat "$T/curl.err")"
done
stop_backend ECS02
wait_mtlslb_log "server_group default: server ECS02 127\.0\.0\.1:$P2 is DOWN" 60 ||
    fail "ECS02 was not marked DOWN within 60 s of its backend stopping"
pass "ECS02's backend stopped; the health checks marked it DOWN"

# A HOME with the operator's certificate and the trusted root, one with
# only the root.
mkhome() {
	local home=$1 db=$1/.pki/nssdb
	mkdir -p "$db"
	timeout 30 certutil -N -d "sql:$db" --empty-password \
	    >>"$T/nss.log" 2>&1 || harness_error "certutil -N: $(cat "$T/nss.log")"
	timeout 30 certutil -A -d "sql:$db" -t C,, -n "mtlslb console test CA" \
	    -i "$PKI/root.crt" >>"$T/nss.log" 2>&1 ||
	    harness_error "certutil -A: $(cat "$T/nss.log")"
}
mkhome "$T/home-cert"
timeout 30 pk12util -d "sql:$T/home-cert/.pki/nssdb" -i "$PKI/operator.p12" \
    -W "$(cat "$PKI/operator.p12.pass")" >>"$T/nss.log" 2>&1 ||
    fail "pk12util could not import operator.p12: $(cat "$T/nss.log")"
mkhome "$T/home-nocert"

mkdir -p "$POLICY_DIR"
exec 8>"$POLICY_LOCK"
flock -w 600 8 || fail "another run held $POLICY_LOCK for 600 s"
POLICY=$POLICY_DIR/mtlslb-test-$$-$PA.json
trap 'rc=$?; rm -f "$POLICY"; exec 8>&-; (exit $rc); t_cleanup' EXIT
cat >"$POLICY" <<EOF
{
  "AutoSelectCertificateForUrls": [
    "{\"pattern\":\"https://localhost:$PA\",\"filter\":{\"ISSUER\":{\"CN\":\"mtlslb console test CA\"}}}"
  ]
}
EOF
chmod 644 "$POLICY"

# browse HOME ARGS...: one headless Chromium run on $URL; its stdout in
# $T/browser.out.
browse() {
	local home=$1 prof rc=0 p
	shift
	prof=$(mktemp -d "$T/profile.XXXXXX")
	HOME=$home timeout -k 5 "$BROWSER_TIMEOUT" "$CHROMIUM" --headless \
	    --no-sandbox --disable-gpu --disable-quic --no-first-run \
	    --disable-background-networking --disable-component-update \
	    --disable-sync --hide-scrollbars --force-device-scale-factor=1 \
	    --user-data-dir="$prof" "$@" "$URL" \
	    >"$T/browser.out" 2>>"$T/chromium.log" || rc=$?
	grep -l -s -F -- "$prof" /proc/[0-9]*/cmdline |
	    sed 's|/proc/\([0-9]*\)/cmdline|\1|' | while read -r p; do
		kill -KILL "$p" 2>/dev/null || true
	done
	[ "$rc" -eq 0 ] || fail "chromium exited $rc loading $URL" \
	    "(timeout ${BROWSER_TIMEOUT}s?): $(tail -n 5 "$T/chromium.log")"
}
T_LOGS+=("$T/chromium.log")

browse "$T/home-cert" --window-size=1280,720 --screenshot="$T/console.png"
[ -s "$T/console.png" ] || fail "no screenshot"
[ "$(head -c 8 "$T/console.png" | od -An -tx1 | tr -d ' \n')" = \
    89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
if [ -n "${CONSOLE_SCREENSHOT:-}" ]; then
	cp "$T/console.png" "$CONSOLE_SCREENSHOT" ||
	    fail "cannot copy the screenshot to $CONSOLE_SCREENSHOT"
fi
pass "screenshot: $(wc -c <"$T/console.png") bytes"

browse "$T/home-cert" --dump-dom
cp "$T/browser.out" "$T/dom.html"
python3 "$HTMLCHECK" "$T/dom.html" "$T/rows.json" >"$T/htmlcheck.out" ||
    fail "the DOM does not parse: $(head -n 5 "$T/htmlcheck.out")"
python3 - "$T/rows.json" "$EXPIRY" "$T/dom.html" >"$T/dom.check" 2>&1 <<'EOF' ||
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
expiry, dom = sys.argv[2], open(sys.argv[3], encoding="utf-8").read()
def need(cond, what):
    if not cond:
        print("FAILED:", what, json.dumps(rows, indent=1)[:1500])
        sys.exit(1)
need("server-default-ECS01" in rows and "server-default-ECS02" in rows,
     "both servers")
need(rows["server-default-ECS01"][2] == "UP", "ECS01 UP")
need(rows["server-default-ECS02"][2] == "DOWN", "ECS02 DOWN")
need(rows["server-default-ECS02"][8].startswith("connection refused"),
     "ECS02's last check: " + rows["server-default-ECS02"][8])
need(expiry in dom, "the server certificate's expiry " + expiry)
need("with the client certificate CN=operator" in dom, "the viewer")
need('action="/servers/default/ECS01/drain"' in dom, "the drain buttons")
print("ok")
EOF
    fail "the DOM: $(cat "$T/dom.check")"
pass "the DOM shows ECS01 UP, ECS02 DOWN (connection refused), the" \
    "certificate's expiry $EXPIRY, CN=operator and the buttons"

browse "$T/home-nocert" --dump-dom
if grep -q 'mtlslb console' "$T/browser.out"; then
	fail "a browser without the certificate got the console"
fi
pass "a browser without a client certificate gets no page"

stop_mtlslb 15
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited $MTLSLB_STATUS on TERM"
