#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 10-config-check: "mtlslb -t -c FILE" accepts a good file without opening
# sockets, and rejects each kind of bad file with exit 1 and a
# "mtlslb: FILE:LINE: reason" line that points at the offending line.
# Also -V and -h.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

LB_PORT=$(free_port)
P1=$(free_port)
P2=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2 weight=2"
GOOD=$T/good.ini
BAD=$T/bad.ini
CRL=$PKI/crl.pem std_config "$GOOD"

# run_t FILE: runs mtlslb -t -c FILE; sets RC, stdout in $T/t.out, stderr
# in $T/t.err.
run_t() {
	RC=0
	timeout 20 "$MTLSLB_BIN" -t -c "$1" >"$T/t.out" 2>"$T/t.err" || RC=$?
}

run_t "$GOOD"
[ "$RC" = 0 ] || fail "good.ini: exit $RC: $(cat "$T/t.err")"
pass "good.ini: -t exits 0"

# -t must not bind: the listener port is taken by a backend.
start_backend BUSY "$LB_PORT"
run_t "$GOOD"
[ "$RC" = 0 ] || fail "good.ini with its port in use: exit $RC: $(cat "$T/t.err")"
pass "good.ini: -t exits 0 while its port is in use (no sockets opened)"
stop_backend BUSY

# bad NAME SED_EXPR KEY_REGEX WORD: bad.ini = good.ini edited by SED_EXPR;
# -t must exit 1 with a "mtlslb: .../bad.ini:N: " line matching WORD
# (case-insensitive ERE), where N is a line of bad.ini matching KEY_REGEX
# ("" = any line number).
bad() {
	local name=$1 expr=$2 keyre=$3 word=$4 lines re
	sed -e "$expr" "$GOOD" >"$BAD"
	cmp -s "$GOOD" "$BAD" && harness_error "$name: sed changed nothing"
	run_t "$BAD"
	[ "$RC" = 1 ] || fail "$name: exit $RC, want 1; stderr: $(cat "$T/t.err")"
	if [ -n "$keyre" ]; then
		lines=$(grep -nE -- "$keyre" "$BAD" | cut -d: -f1 | tr '\n' '|')
		lines=${lines%|}
		[ -n "$lines" ] || harness_error "$name: no line matches $keyre"
		re="^mtlslb: .*/bad\.ini:($lines): "
	else
		re='^mtlslb: .*/bad\.ini:[0-9]+: '
	fi
	grep -E -- "$re" "$T/t.err" | grep -qiE -- "$word" ||
	    fail "$name: no stderr line matching '$re' with '$word':" \
	    "$(cat "$T/t.err")"
	pass "$name: exit 1, $(grep -E -- "$re" "$T/t.err" |
	    grep -iE -- "$word" | head -n 1)"
}

bad "unknown key" \
    '/^forward_client_cert/a frobnicate = 1' \
    '^frobnicate' frobnicate
bad "unknown key in [global]" \
    '/^workers/a colour = blue' \
    '^colour' colour
bad "bad on/optional/off value" \
    's/^mutual_authentication = on/mutual_authentication = maybe/' \
    '^mutual_authentication' maybe
bad "bad verify_depth" \
    's/^verify_depth = 3/verify_depth = -1/' \
    '^verify_depth' verify_depth
bad "bad scheduler" \
    's/^scheduler = round_robin/scheduler = random/' \
    '^scheduler' random
bad "bad duration" \
    's/^backend_timeout = 60s/backend_timeout = 60 parsecs/' \
    '^backend_timeout' backend_timeout
bad "bad weight" \
    's/weight=2/weight=banana/' \
    '^server = ECS02' weight
bad "missing ca_certificate with mutual_authentication = on" \
    '/^ca_certificate/d' \
    '' ca_certificate
bad "unknown server_group" \
    's/^server_group = default/server_group = nosuch/' \
    '^server_group' nosuch
bad "bad port 70000" \
    "s/^bind = 127.0.0.1:$LB_PORT/bind = 127.0.0.1:70000/" \
    '^bind' 70000
bad "bad server port" \
    "s/^server = ECS01 127.0.0.1:$P1/server = ECS01 127.0.0.1:0/" \
    '^server = ECS01' "port|127\.0\.0\.1:0|'0'"
bad "server line without a name" \
    "s/^server = ECS01 127.0.0.1:$P1/server = 127.0.0.1:$P1/" \
    "^server = 127\\.0\\.0\\.1:$P1\$" \
    "server: needs a name before the address: write \"server = NAME 127\\.0\\.0\\.1:$P1\", e\\.g\\. \"server = ecs01 127\\.0\\.0\\.1:$P1\"\$"
bad "missing certificate file" \
    "s|^server_certificate = .*|server_certificate = $PKI/nonexistent.crt|" \
    '^server_certificate' nonexistent.crt
bad "missing CA file" \
    "s|^ca_certificate = .*|ca_certificate = $PKI/nonexistent-ca.crt|" \
    '^ca_certificate' nonexistent-ca.crt
bad "client certificate as ca_certificate" \
    "s|^ca_certificate = .*|ca_certificate = $PKI/client.crt|" \
    '^ca_certificate' \
    "ca_certificate: '.*/client\\.crt' holds only end-entity certificates \\('CN=client'\\), no CA, .*use the root or intermediate CA certificate that signed the client certificates"
bad "key does not match certificate" \
    "s|^server_private_key = .*|server_private_key = $PKI/client.key|" \
    '^server_(private_key|certificate)' match
bad "unreadable CRL" \
    "s|^crl = .*|crl = $PKI/server.crt|" \
    '^crl' crl

# -t said valid and the start failed: a log directory that does not exist.
bad "log directory missing" \
    "s|^access_log = stderr|access_log = $T/nolog/access.log|" \
    '^access_log' \
    "access_log: cannot create '.*/nolog/access\\.log': the directory '.*/nolog' does not exist \\(create it: mkdir -p '.*/nolog'\\)\$"
[ ! -e "$T/nolog" ] || fail "-t created $T/nolog"
RC=0
timeout 20 "$MTLSLB_BIN" -c "$BAD" >"$T/start.out" 2>&1 || RC=$?
[ "$RC" = 1 ] || fail "start with a missing log directory: exit $RC"
grep -q "cannot create '.*/nolog/access\.log'" "$T/start.out" ||
    fail "start with a missing log directory: $(cat "$T/start.out")"
pass "the start fails the same way, and nothing was created"

# Several problems are all reported, not just the first.
sed -e 's/^verify_depth = 3/verify_depth = 99/' \
    -e '/^workers/a colour = blue' "$GOOD" >"$BAD"
run_t "$BAD"
[ "$RC" = 1 ] || fail "two errors: exit $RC"
n=$(grep -cE '^mtlslb: .*/bad\.ini:[0-9]+: ' "$T/t.err") || true
[ "$n" -ge 2 ] || fail "two errors, $n reported: $(cat "$T/t.err")"
pass "two errors in one file: both reported"

# A missing file is an error too (no line number needed).
run_t "$T/does-not-exist.ini"
[ "$RC" = 1 ] || fail "missing config file: exit $RC"
grep -q 'does-not-exist.ini' "$T/t.err" ||
    fail "missing config file: stderr does not name it: $(cat "$T/t.err")"
pass "missing config file: exit 1 and named"

# Warnings leave the exit status alone: a server certificate without
# subjectAltName (old guides) and an expired CRL.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/nosan.key" -out "$T/nosan.crt" -subj /CN=localhost \
    -days 30 2>/dev/null || harness_error "cannot make a SAN-less cert"
sed -e "s|^server_certificate = .*|server_certificate = $T/nosan.crt|" \
    -e "s|^server_private_key = .*|server_private_key = $T/nosan.key|" \
    -e "s|^crl = .*|crl = $PKI/crl-expired.pem|" "$GOOD" >"$T/warn.ini"
run_t "$T/warn.ini"
[ "$RC" = 0 ] || fail "warnings only: exit $RC, want 0: $(cat "$T/t.err")"
grep -qE '^mtlslb: .*/warn\.ini:[0-9]+: warning: server_certificate: .*no subjectAltName' \
    "$T/t.err" || fail "no SAN warning: $(cat "$T/t.err")"
grep -qE '^mtlslb: .*/warn\.ini:[0-9]+: warning: crl: .*expired' "$T/t.err" ||
    fail "no expired-CRL warning: $(cat "$T/t.err")"
pass "warnings (no subjectAltName, expired CRL) print with exit 0"

# -V and -h
RC=0
timeout 10 "$MTLSLB_BIN" -V >"$T/t.out" 2>&1 || RC=$?
[ "$RC" = 0 ] || fail "-V: exit $RC"
grep -qE '[0-9]+\.[0-9]+(\.[0-9]+)?' "$T/t.out" ||
    fail "-V prints no version: $(cat "$T/t.out")"
pass "-V: $(head -n 1 "$T/t.out")"

RC=0
timeout 10 "$MTLSLB_BIN" -h >"$T/t.out" 2>&1 || RC=$?
[ "$RC" = 0 ] || fail "-h: exit $RC"
grep -qi 'usage' "$T/t.out" && grep -q -- '-c' "$T/t.out" ||
    fail "-h prints no usage with -c: $(cat "$T/t.out")"
pass "-h: prints usage"

pass "10-config-check: all checks passed"
