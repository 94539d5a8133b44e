#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 46-sni-check: "mtlslb -t" on listeners that share a bind and on repeated
# certificate pairs. A good two-site file passes; each kind of bad file
# exits 1 with "mtlslb: FILE:LINE: reason" at the offending line: a name
# claimed by two listeners of one bind, two default servers, a socket-level
# key that differs, a protocol = http listener on a shared bind, a
# certificate without its key, a key that is not its certificate's, a bad
# server_name. A server_name no certificate is for is a warning.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

issue_server_cert api-ec ec DNS:api.example.com
issue_server_cert api-rsa rsa DNS:api.example.com
issue_server_cert www ec 'DNS:www.example.com,DNS:*.example.com'

LB_PORT=$(free_port)
P1=$(free_port)
GOOD=$T/good.ini
BAD=$T/bad.ini
write_config "$GOOD" <<EOF
[listener api]
bind = 127.0.0.1:$LB_PORT
server_name = api.example.com
server_certificate = $T/api-ec.crt
server_private_key = $T/api-ec.key
server_certificate = $T/api-rsa.crt
server_private_key = $T/api-rsa.key
ca_certificate = $PKI/other-root.crt
session_timeout = 300s
server_group = api

[listener www]
bind = 127.0.0.1:$LB_PORT
server_name = www.example.com *.example.com
default_server = off
server_certificate = $T/www.crt
server_private_key = $T/www.key
ca_certificate = $PKI/root.crt
mutual_authentication = optional
server_group = api

[server_group api]
server = API 127.0.0.1:$P1
EOF

run_t() {
	RC=0
	timeout 20 "$MTLSLB_BIN" -t -c "$1" >"$T/t.out" 2>"$T/t.err" || RC=$?
}

run_t "$GOOD"
[ "$RC" = 0 ] || fail "good.ini: exit $RC: $(cat "$T/t.err")"
! grep -q warning "$T/t.err" || fail "good.ini: warnings: $(cat "$T/t.err")"
pass "two listeners on one bind with two certificate pairs: -t exits 0"

# bad NAME SED_EXPR KEY_REGEX WORD [NTH]: bad.ini = good.ini edited by
# SED_EXPR; -t exits 1 with a "mtlslb: .../bad.ini:N: " line matching WORD
# (case-insensitive ERE), N the NTH (default: last) line of bad.ini
# matching KEY_REGEX.
bad() {
	local name=$1 expr=$2 keyre=$3 word=$4 line re
	sed -e "$expr" "$GOOD" >"$BAD"
	cmp -s "$GOOD" "$BAD" && harness_error "$name: sed changed nothing"
	run_t "$BAD"
	[ "$RC" = 1 ] || fail "$name: exit $RC, want 1; stderr: $(cat "$T/t.err")"
	if [ -n "${5:-}" ]; then
		line=$(grep -nE -- "$keyre" "$BAD" | sed -n "${5}p" | cut -d: -f1)
	else
		line=$(grep -nE -- "$keyre" "$BAD" | tail -n 1 | cut -d: -f1)
	fi
	[ -n "$line" ] || harness_error "$name: no line matches $keyre"
	re="^mtlslb: .*/bad\\.ini:$line: "
	grep -E -- "$re" "$T/t.err" | grep -qiE -- "$word" ||
	    fail "$name: no stderr line matching '$re' with '$word':" \
	    "$(cat "$T/t.err")"
	pass "$name: exit 1, $(grep -E -- "$re" "$T/t.err" |
	    grep -iE -- "$word" | head -n 1)"
}

bad "a name claimed by two listeners of one bind" \
    's/^server_name = www.example.com \*.example.com/server_name = www.example.com api.example.com/' \
    '^server_name' "server_name: 'api\\.example\\.com' is also a server_name of \\[listener api\\]"
bad "two default servers on one bind" \
    '/^server_name = api/a default_server = on
s/^default_server = off/default_server = on/' \
    '^default_server' "default_server: \\[listener api\\] on bind .* is the default server already"
bad "a socket-level key that differs" \
    '/^mutual_authentication = optional/a session_timeout = 60s' \
    '^session_timeout = 60s' "session_timeout: differs from \\[listener api\\], which shares bind"
bad "strict_sni on one listener of a bind only" \
    '/^default_server = off/a strict_sni = on' \
    '^strict_sni' "strict_sni: differs"
bad "protocol = http on a shared bind" \
    '/^\[listener www\]/,/^server_group/{/^server_/d;/^default_server/d;/^ca_cert/d;/^mutual/d}
/^\[listener www\]/a protocol = http\nredirect_to_https = on' \
    "^bind" "only protocol = https listeners can share a bind"
bad "a certificate without its key" \
    '0,/^server_private_key = .*api-rsa.key/{/^server_private_key = .*api-rsa.key/d}' \
    '^server_certificate = .*api-rsa' "server_certificate: has no server_private_key"
bad "a key that is not its certificate's" \
    's|^server_private_key = .*api-rsa.key|server_private_key = '"$T"'/api-ec.key|' \
    '^server_private_key = .*api-ec.key' "does not match server_certificate '.*api-rsa\\.crt'" 2
bad "a wildcard that is not one label" \
    's/^server_name = www.example.com \*.example.com/server_name = www.example.com *.*.example.com/' \
    '^server_name = www' "'\\*\\.\\*\\.example\\.com' is not a host name"
bad "a name with a blank label" \
    's/^server_name = api.example.com/server_name = api..example.com/' \
    '^server_name = api' "'api\\.\\.example\\.com' is not a host name"

# a server_name no certificate is for: a warning, exit 0
sed -e 's/^server_name = api.example.com/server_name = api.example.com partners.example.net/' \
    "$GOOD" >"$T/warn.ini"
run_t "$T/warn.ini"
[ "$RC" = 0 ] || fail "uncovered server_name: exit $RC: $(cat "$T/t.err")"
line=$(grep -n '^server_name = api' "$T/warn.ini" | cut -d: -f1)
grep -qE "^mtlslb: .*/warn\\.ini:$line: warning: server_name: 'partners\\.example\\.net' is not a name of any server_certificate" \
    "$T/t.err" || fail "uncovered server_name: $(cat "$T/t.err")"
# the wildcard certificate covers www's *.example.com; a wildcard
# server_name needs a wildcard certificate
sed -e 's/^server_name = api.example.com/server_name = api.example.com *.example.com/' \
    -e 's/^server_name = www.example.com \*.example.com/server_name = www.example.com/' \
    "$GOOD" >"$T/warn.ini"
run_t "$T/warn.ini"
grep -qE "warning: server_name: '\\*\\.example\\.com' is not a name" \
    "$T/t.err" || fail "uncovered wildcard: $(cat "$T/t.err")"
pass "a server_name no certificate is for: a warning at its line"

# a second pair for the same names and key type is never used: a warning
sed -e 's|^server_certificate = .*api-rsa.crt|server_certificate = '"$T"'/api-ec.crt|' \
    -e 's|^server_private_key = .*api-rsa.key|server_private_key = '"$T"'/api-ec.key|' \
    "$GOOD" >"$T/warn.ini"
run_t "$T/warn.ini"
[ "$RC" = 0 ] || fail "a shadowed pair: exit $RC: $(cat "$T/t.err")"
line=$(grep -n '^server_certificate = .*api-ec' "$T/warn.ini" | sed -n 2p |
    cut -d: -f1)
grep -qE "^mtlslb: .*/warn\.ini:$line: warning: server_certificate: '.*api-ec\.crt' is never used" \
    "$T/t.err" || fail "a shadowed pair: $(cat "$T/t.err")"
pass "a pair for the same names and key type as an earlier one: a warning"
