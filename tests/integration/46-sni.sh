#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 46-sni: two listeners on one port, picked by the TLS server name, each
# with its certificates, client CA and server group: a partner
# certificate is refused on www and accepted on api and the other way
# round; the client's signature algorithms pick api's ECDSA or RSA
# certificate; an unknown or missing name goes to the default listener
# (strict_sni: refused); a Host that names the other listener gets 421;
# a session made on api never resumes on www (TLS 1.2 and 1.3, with the
# shared cache and with tickets); a reload keeps it all; a ClientHello
# whose name is not a host name is survived.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3

# --- certificates: api (ECDSA and RSA), www (ECDSA, with a wildcard) ------
issue_server_cert api-ec ec DNS:api.example.com
issue_server_cert api-rsa rsa DNS:api.example.com
issue_server_cert www ec 'DNS:www.example.com,DNS:*.example.com'

PA=$(free_port)
PW=$(free_port)
start_backend API "$PA"
start_backend WEB "$PW"
CONF=$T/lb.ini
LB_PORT=$(free_port)
ADMIN_PORT=$(free_port)

# config [STRICT] [EXTRA] [API_EXTRA]: api (partners) and www (employees)
# on LB_PORT; EXTRA in both listeners, API_EXTRA in api.
config() {
	write_config "$CONF" <<EOF
[global]
workers = 2
access_log = stderr

[listener api]
bind = 127.0.0.1:$LB_PORT
server_name = api.example.com
server_certificate = $T/api-ec.crt
server_private_key = $T/api-ec.key
server_certificate = $T/api-rsa.crt
server_private_key = $T/api-rsa.key
ca_certificate = $PKI/other-root.crt
mutual_authentication = on
server_group = api
strict_sni = ${1:-off}
${2:-}
${3:-}

[listener www]
bind = 127.0.0.1:$LB_PORT
server_name = www.example.com *.example.com
default_server = on
strict_sni = ${1:-off}
server_certificate = $T/www.crt
server_private_key = $T/www.key
ca_certificate = $PKI/root.crt
mutual_authentication = on
server_group = web
${2:-}

[server_group api]
server = API 127.0.0.1:$PA
health_check = off

[server_group web]
server = WEB 127.0.0.1:$PW
health_check = off

[admin]
bind = 127.0.0.1:$ADMIN_PORT
EOF
}

# get NAME [curl args]: GET / on NAME, resolved to the daemon (SNI NAME).
get() {
	local name=$1
	shift
	http_get "https://$name:$MTLSLB_PORT/" \
	    --resolve "$name:$MTLSLB_PORT:127.0.0.1" "$@"
}

# served_by NAME CERT WANT BACKEND [curl args]: GET on NAME with client
# CERT answers WANT; BACKEND's hits grew by one (or, with "-", no
# backend's did).
served_by() {
	local name=$1 cert=$2 want=$3 be=$4 api web
	shift 4
	api=$(backend_hits API)
	web=$(backend_hits WEB)
	CERT=$cert get "$name" "$@"
	[ "$HTTP_CODE" = "$want" ] || fail "$name with $cert: HTTP $HTTP_CODE," \
	    "want $want ($(last_summary))"
	case $be in
	API) [ "$(backend_hits API)" = $((api + 1)) ] ;;
	WEB) [ "$(backend_hits WEB)" = $((web + 1)) ] ;;
	-) [ "$(backend_hits API)" = "$api" ] &&
	    [ "$(backend_hits WEB)" = "$web" ] ;;
	esac || fail "$name with $cert: not answered by ${be/-/no backend}" \
	    "(API $api -> $(backend_hits API), WEB $web -> $(backend_hits WEB))"
}

# peer_cert [s_client args]: the subject CN and key size the server sent.
peer_cert() {
	timeout 30 openssl s_client -connect "127.0.0.1:$MTLSLB_PORT" \
	    -CAfile "$PKI/root.crt" "$@" </dev/null >"$T/peer.out" 2>&1 ||
	    true
	printf '%s %s\n' \
	    "$(sed -n 's/^subject=.*CN *= *\([^,]*\).*/\1/p' "$T/peer.out" |
	    head -n 1)" \
	    "$(sed -n 's/^Server public key is \([0-9]*\) bit.*/\1/p' \
	    "$T/peer.out" | head -n 1)"
}

config
start_mtlslb "$CONF"
"$MTLSLB_BIN" -t -c "$CONF" >"$T/t.out" 2>&1 ||
    fail "-t refuses the two-site config: $(cat "$T/t.out")"

# --- a CA per site --------------------------------------------------------
sites() {
	served_by www.example.com client 200 WEB
	served_by www.example.com other 400 -
	grep -q 'The SSL certificate error' "$T/last.body" ||
	    fail "partner on www: not nginx's certificate error page"
	served_by api.example.com other 200 API
	served_by api.example.com client 400 -
	# a name only the wildcard covers
	served_by shop.example.com client 200 WEB
	pass "$1: partner certificate accepted on api and refused on www," \
	    "employee certificate the other way round"
}
sites "start"

# --- metrics and status: one entry per listener ----------------------------
# metric LINE: waits until /metrics has LINE (fixed, whole line).
metric() {
	local i
	for ((i = 0; i < 100; i++)); do
		curl -sS --max-time 10 "http://127.0.0.1:$ADMIN_PORT/metrics" \
		    >"$T/metrics" 2>&1 && grep -qxF -- "$1" "$T/metrics" &&
		    return 0
		sleep 0.1
	done
	fail "/metrics lacks '$1': $(grep -F "${1%%\{*}" "$T/metrics")"
}
metric 'mtlslb_requests_total{listener="api",code="2xx"} 1'
metric 'mtlslb_requests_total{listener="api",code="4xx"} 1'
metric 'mtlslb_requests_total{listener="www",code="2xx"} 2'
metric 'mtlslb_requests_total{listener="www",code="4xx"} 1'
metric 'mtlslb_client_cert_rejections_total{listener="www",reason="unknown_ca"} 1'
metric 'mtlslb_client_cert_rejections_total{listener="api",reason="unknown_ca"} 1'
metric 'mtlslb_tls_handshakes_total{listener="api",resumed="false"} 2'
curl -sS --max-time 10 "http://127.0.0.1:$ADMIN_PORT/status" >"$T/status" ||
    fail "/status: $(cat "$T/status")"
python3 - "$T/status" <<'EOF' || fail "/status: $(head -c 600 "$T/status")"
import json, sys
st = json.load(open(sys.argv[1]))
names = [l["name"] for l in st["listeners"]]
assert names == ["api", "www"], names
EOF
pass "/metrics and /status: requests, rejections and handshakes counted" \
    "on the listener the server name chose"

# --- certificates by name and by signature algorithm -----------------------
got=$(peer_cert -servername www.example.com)
[ "$got" = "www 256" ] || fail "SNI www: got '$got' ($(head -c 400 "$T/peer.out"))"
got=$(peer_cert -servername api.example.com -sigalgs ECDSA+SHA256)
[ "$got" = "api-ec 256" ] || fail "api, ECDSA: got '$got'"
got=$(peer_cert -servername api.example.com \
    -sigalgs 'RSA-PSS+SHA256:RSA+SHA256')
[ "$got" = "api-rsa 2048" ] || fail "api, RSA: got '$got'"
got=$(peer_cert -servername api.example.com -tls1_2 \
    -cipher ECDHE-RSA-AES128-GCM-SHA256)
[ "$got" = "api-rsa 2048" ] || fail "api, TLS 1.2 ECDHE-RSA: got '$got'"
got=$(peer_cert -servername api.example.com -tls1_2 \
    -cipher ECDHE-ECDSA-AES128-GCM-SHA256)
[ "$got" = "api-ec 256" ] || fail "api, TLS 1.2 ECDHE-ECDSA: got '$got'"
# curl with the RSA suite, to the end: the RSA chain verifies for the name
CERT=other get api.example.com --tls-max 1.2 \
    --ciphers ECDHE-RSA-AES128-GCM-SHA256
[ "$HTTP_CODE" = 200 ] || fail "curl, api over ECDHE-RSA: $(last_summary)"
# a HelloRetryRequest (a key share for ffdhe2048, which the server does not
# offer): the second ClientHello keeps the listener
got=$(peer_cert -servername api.example.com -tls1_3 -groups ffdhe2048:X25519 \
    -cert "$PKI/other.crt" -key "$PKI/other.key" -ign_eof)
[ "$got" = "api-ec 256" ] && grep -q 'Server Temp Key: X25519' "$T/peer.out" ||
    fail "api after a HelloRetryRequest: '$got'" \
    "$(grep -E 'Temp Key|alert' "$T/peer.out")"
# the certificate request names the chosen listener's CA
peer_cert -servername api.example.com >/dev/null
sed -n '/^Acceptable client certificate CA names/,/^Requested/p' \
    "$T/peer.out" >"$T/canames"
grep -q 'mtlslb other root' "$T/canames" &&
    ! grep -q 'mtlslb test root' "$T/canames" ||
    fail "api asks for certificates of: $(cat "$T/canames")"
pass "each name gets its certificate; the client's algorithms pick" \
    "api's ECDSA or RSA one"

# --- no name, an unknown name: the default listener ------------------------
got=$(peer_cert -noservername)
[ "$got" = "www 256" ] || fail "no SNI: got '$got'"
got=$(peer_cert -servername unknown.example.org)
[ "$got" = "www 256" ] || fail "unknown SNI: got '$got'"
http_get "https://127.0.0.1:$MTLSLB_PORT/" -k
[ "$HTTP_CODE" = 200 ] || fail "no SNI, employee: $(last_summary)"
pass "no SNI and an unknown SNI go to the default listener (www)"

# --- Host must agree with SNI ----------------------------------------------
served_by www.example.com client 421 - -H 'Host: api.example.com'
grep -q '421 Misdirected Request' "$T/last.body" ||
    fail "421 without its page: $(head -c 300 "$T/last.body")"
served_by api.example.com other 421 - -H 'Host: www.example.com:443'
served_by api.example.com other 421 - -H 'Host: shop.example.com'
# over HTTP/2, :authority is the Host: 421 per stream (RFC 9110 §15.5.20
# is what tells an h2 client reusing a connection across names to retry)
CURL_HTTP=--http2 served_by www.example.com client 421 - \
    -H 'Host: api.example.com'
# an absolute target's authority replaces Host
served_by www.example.com client 421 - \
    --request-target "https://api.example.com:$MTLSLB_PORT/"
# no SNI (the default listener, www) and api's Host
api=$(backend_hits API)
CERT=other http_get "https://127.0.0.1:$MTLSLB_PORT/" -k \
    -H 'Host: api.example.com'
[ "$HTTP_CODE" = 421 ] && [ "$(backend_hits API)" = "$api" ] ||
    fail "no SNI, Host api: HTTP $HTTP_CODE ($(last_summary))"
# a Host no listener claims stays where SNI put it
served_by www.example.com client 200 WEB -H 'Host: elsewhere.test'
served_by api.example.com other 200 API -H 'Host: API.Example.COM.'
pass "a Host of the other listener gets 421, never its backends"

# --- sessions stay on their listener ----------------------------------------
# sess NAME SNI CERT VERSION [IN]: an s_client connection; prints New or
# Reused.
sess() {
	local a=(-connect "127.0.0.1:$MTLSLB_PORT" -CAfile "$PKI/root.crt"
	    -servername "$2" -cert "$PKI/$3.crt" -key "$PKI/$3.key" "$4"
	    -sess_out "$T/$1.sess" -ign_eof)
	[ -z "${5:-}" ] || a+=(-sess_in "$T/$5.sess")
	printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' \
	    "$2" | timeout 60 openssl s_client "${a[@]}" >"$T/$1.out" 2>&1
	sed -n 's/^\(New\|Reused\), .*/\1/p' "$T/$1.out" | head -n 1
}
# isolation WHAT: a session of api resumes on api, never on www.
isolation() {
	local v got
	for v in -tls1_2 -tls1_3; do
		got=$(sess "a$v" api.example.com other "$v")
		[ "$got" = New ] || fail "$1 $v: first api connection: '$got'"
		got=$(sess "a2$v" api.example.com other "$v" "a$v")
		[ "$got" = Reused ] || fail "$1 $v: api session not resumed" \
		    "on api: '$got' ($(head -c 300 "$T/a2$v.out"))"
		# the same session offered to www, with a certificate www
		# trusts and with none: a full handshake, www's verdict
		got=$(sess "w$v" www.example.com client "$v" "a$v")
		[ "$got" = New ] || fail "$1 $v: api's session resumed on" \
		    "www: '$got'"
		grep -q '^HTTP/1.1 200' "$T/w$v.out" ||
		    fail "$1 $v: www after api's session: $(head -c 300 "$T/w$v.out")"
		got=$(sess "x$v" www.example.com other "$v" "a$v")
		[ "$got" = New ] || fail "$1 $v: api's session resumed on" \
		    "www (partner certificate): '$got'"
		grep -q '^HTTP/1.1 400' "$T/x$v.out" ||
		    fail "$1 $v: partner on www after api's session was not" \
		    "refused: $(grep '^HTTP' "$T/x$v.out")"
		# and the other way round
		got=$(sess "b$v" www.example.com client "$v")
		got=$(sess "c$v" api.example.com client "$v" "b$v")
		[ "$got" = New ] || fail "$1 $v: www's session resumed on api"
		grep -q '^HTTP/1.1 400' "$T/c$v.out" ||
		    fail "$1 $v: employee on api after www's session: not 400"
	done
	pass "$1: a session of one listener never resumes on the other" \
	    "(TLS 1.2 and 1.3)"
}
isolation "shared cache"

# --- strict_sni ----------------------------------------------------------
stop_mtlslb
config on "" "tls_min_version = TLSv1.3"
start_mtlslb "$CONF"
peer_cert -servername unknown.example.org >/dev/null
grep -Eq 'alert unrecognized name|alert number 112' "$T/peer.out" ||
    fail "strict_sni, unknown name: $(head -c 400 "$T/peer.out")"
peer_cert -noservername >/dev/null
grep -Eq 'alert unrecognized name|alert number 112' "$T/peer.out" ||
    fail "strict_sni, no name: $(head -c 400 "$T/peer.out")"
served_by shop.example.com client 200 WEB
grep -q 'TLS handshake failed: a server name no listener of the socket claims (strict_sni = on)' \
    "$T/mtlslb.log" && grep -q 'TLS handshake failed: no server name (strict_sni = on)' \
    "$T/mtlslb.log" || fail "strict_sni: no log line says why: $(grep \
    'handshake failed' "$T/mtlslb.log" | tail -n 3)"
pass "strict_sni = on: an unknown or missing name gets unrecognized_name"

# --- a TLS version range per site ---------------------------------------------
got=$(peer_cert -servername www.example.com -tls1_2)
[ "$got" = "www 256" ] || fail "www over TLS 1.2: '$got'"
got=$(peer_cert -servername api.example.com -tls1_2)
[ "$got" = " " ] && grep -Eq 'alert protocol version|alert number 70' \
    "$T/peer.out" || fail "api (TLSv1.3 only) over TLS 1.2: '$got'" \
    "$(head -c 400 "$T/peer.out")"
got=$(peer_cert -servername api.example.com -tls1_3)
[ "$got" = "api-ec 256" ] || fail "api over TLS 1.3: '$got'"
pass "tls_min_version = TLSv1.3 on api only: TLS 1.2 refused there, not on www"

# --- tickets: one key file for both listeners -------------------------------
stop_mtlslb
(umask 077 && openssl rand 80 | openssl base64 -A >"$T/tk" && echo >>"$T/tk")
config off "session_ticket_keys = $T/tk"
start_mtlslb "$CONF"
isolation "tickets (one key file)"
sites "tickets"

# --- reload -----------------------------------------------------------------
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 ||
    fail "no reload after HUP: $(mtlslb_log_since | tail -n 3)"
sites "after a reload"
got=$(peer_cert -servername api.example.com -sigalgs ECDSA+SHA256)
[ "$got" = "api-ec 256" ] || fail "after a reload, api ECDSA: got '$got'"

# --- a misbehaving client: names that are not host names -------------------
# hello NAME-HEX: a ClientHello made by Python's ssl module for a name of
# the same labels' lengths, with the name's bytes put in; prints the first byte
# of the answer (16: handshake, 15: alert) or "closed".
hello() {
	python3 - "$MTLSLB_PORT" "$1" <<'EOF'
import re, socket, ssl, sys
port, name = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
marker = re.sub(rb"[^.]", b"q", name)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
obj = ctx.wrap_bio(inc, out, server_hostname=marker.decode())
try:
    obj.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
assert hello.count(marker) == 1, "marker not found once"
hello = hello.replace(marker, name)
s = socket.create_connection(("127.0.0.1", port), timeout=20)
s.sendall(hello)
try:
    b = s.recv(1)
except ConnectionResetError:
    b = b""
print("%02x" % b[0] if b else "closed")
EOF
}
stop_mtlslb
config off
start_mtlslb "$CONF"
# a NUL and bytes above 0x7f; a 253-byte name; 254 bytes (too long)
long=$(printf 'a%.0s' $(seq 1 60))
for n in "www.exa$(printf '\\x00')mple.com" "api.\xff\xfe.example.com" \
    "$long.$long.$long.$long.aaaaaaaaa" "$long.$long.$long.$long.aaaaaaaaaa"; do
	hex=$(printf '%b' "$n" | od -An -v -tx1 | tr -d ' \n')
	got=$(hello "$hex") || fail "hello $hex: python failed"
	case $got in
	16 | 15 | closed) ;;
	*) fail "a ClientHello with name $hex: answered '$got'" ;;
	esac
done
pid_alive "$MTLSLB_PID" || fail "the daemon died of a bad server name"
served_by www.example.com client 200 WEB
served_by api.example.com other 200 API
pass "names with NUL, non-ASCII or too many bytes: refused or defaulted," \
    "the daemon serves on"
stop_mtlslb
