#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 49-allow: allow rules (allow = KIND:PATTERN) of a listener and of its
# routes, each kind admitting the certificates it names and refusing the
# others with 403 (nginx-style page, a warn line, the not_allowed
# counter), with client certificates made here with openssl req -addext
# (a SPIFFE URI SAN, a wildcard DNS SAN). A request must pass the
# listener's rules and its route's; a route with client_certificate =
# optional lets requests without a certificate through. Resumed
# connections (the shared cache keeps an identity record, not the
# certificate) get the same verdict as full handshakes.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

# mkcert NAME SUBJECT [SAN]: $PKI/NAME.{crt,key}, a client certificate
# from the test root with the SAN given (openssl req -addext).
mkcert() {
	local n=$1 subj=$2 san=${3:-}
	local a=(-addext "extendedKeyUsage=clientAuth"
	    -addext "basicConstraints=critical,CA:FALSE")
	[ -z "$san" ] || a+=(-addext "subjectAltName=$san")
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
	    -keyout "$PKI/$n.key" -subj "$subj" "${a[@]}" \
	    -out "$T/$n.csr" >>"$T/openssl.log" 2>&1 &&
	openssl x509 -req -in "$T/$n.csr" -CA "$PKI/root.crt" \
	    -CAkey "$PKI/root.key" -set_serial "0x1$(openssl rand -hex 7)" \
	    -days 30 -sha256 -copy_extensions copyall -out "$PKI/$n.crt" \
	    >>"$T/openssl.log" 2>&1 ||
	    harness_error "mkcert $n: $(tail -n 5 "$T/openssl.log")"
}
mkcert alice "/O=Example/OU=ops/CN=alice" "email:alice@example.com"
mkcert bob "/OU=dev/CN=bob" \
    "URI:spiffe://example.org/ns/prod/sa/web,DNS:web.svc.example.com"
mkcert dave "/CN=dave" "URI:spiffe://example.org/ns/prod/sa/db"
mkcert erin "/CN=erin" "DNS:*.svc.example.com"
mkcert frank "/CN=frank" \
    "DNS:svc.example.com,URI:spiffe://example.org/ns/dev/sa/web,email:frank@example.org"
mkcert carol "/CN=carol"
FP=$(openssl x509 -in "$PKI/carol.crt" -noout -fingerprint -sha256 |
    sed 's/.*=//')
cat "$PKI/root.crt" "$PKI/other-root.crt" >"$T/cas.pem"

P1=$(free_port)
PM=$(free_port)
start_backend ECS01 "$P1"
LB_PORT=$(free_port)
CONF=$T/lb.ini
write_config "$CONF" <<EOF
[global]
workers = 2
access_log = stderr

[listener www]
bind = 127.0.0.1:$LB_PORT
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $T/cas.pem
mutual_authentication = optional
server_group = default
allow = issuer:CN=mtlslb test root

[route ops]
listener = www
path_prefix = /ops/
allow = subject:OU=ops

[route svc]
listener = www
path_prefix = /svc/
allow = san_uri:spiffe://example.org/ns/prod/*
allow = san_dns:*.svc.example.com

[route mail]
listener = www
path_prefix = /mail/
allow = san_email:*@EXAMPLE.com

[route fp]
listener = www
path_prefix = /fp/
allow = fingerprint:$FP

[route public]
listener = www
path_prefix = /public/
client_certificate = optional

[server_group default]
server = ECS01 127.0.0.1:$P1
health_check = off

[admin]
bind = 127.0.0.1:$PM
EOF
log_mark
start_mtlslb "$CONF"

# verdict CERT PATH: "ok" when the request reached the backend, "403"
# when refused with our 403 page, else what happened.
verdict() {
	CERT=$1 http_get "$(lb_url "$2")"
	if [ -n "$(last_header X-Backend)" ]; then
		echo ok
	elif [ "$HTTP_CODE" = 403 ] && last_body_contains "403 Forbidden"; then
		echo 403
	else
		echo "HTTP $HTTP_CODE: $(last_summary)"
	fi
}

# expect CERT VERDICT PATH...: each path gives VERDICT for CERT.
expect() {
	local cert=$1 want=$2 p got
	shift 2
	for p in "$@"; do
		got=$(verdict "$cert" "$p")
		[ "$got" = "$want" ] ||
		    fail "$cert $p: got '$got', want '$want'"
	done
}

# --- each kind admits and refuses -------------------------------------------
expect alice ok / /headers /ops/x /mail/x /public/x
expect alice 403 /svc/x /fp/x
pass "subject:OU=ops and san_email:*@EXAMPLE.com admit alice (RDN of" \
    "the subject, email case-insensitive); the others refuse her"
expect bob ok / /svc/x /public/x
expect bob 403 /ops/x /mail/x /fp/x
expect dave ok /svc/x
expect erin ok /svc/x
expect frank 403 /svc/x /mail/x /ops/x
expect frank ok /headers
pass "san_uri: a SPIFFE ID under spiffe://example.org/ns/prod/ is admitted," \
    "ns/dev is not; san_dns:*.svc.example.com admits web.svc and the" \
    "wildcard SAN *.svc, not svc.example.com itself"
expect carol ok /fp/x
expect carol 403 /ops/x /svc/x /mail/x
# the rules hold per HTTP/2 stream as they do per HTTP/1 request
CURL_HTTP=--http2 expect alice ok /ops/x
CURL_HTTP=--http2 expect alice 403 /svc/x
CURL_HTTP=--http2 expect bob 403 /ops/x
expect client 403 /fp/x
pass "fingerprint: the SHA-256 with colons, upper case, admits exactly" \
    "that certificate"
expect other 403 / /headers /public/x /svc/x
pass "issuer: the listener's rule refuses a certificate of another CA" \
    "that the listener trusts, on every path, a route's too"
expect none 403 / /ops/x /svc/x
expect none ok /public/x
pass "without a certificate: 403 where rules apply, admitted on a route" \
    "with client_certificate = optional"

# --- the 403: page, log line, counter ---------------------------------------
CERT=bob http_get "$(lb_url /ops/secret)"
[ "$HTTP_CODE" = 403 ] && last_body_contains "<title>403 Forbidden</title>" ||
    fail "403 page: $(last_summary)"
wait_mtlslb_log '\[warn\] worker [0-9]+: listener www route ops: 127\.0\.0\.1:[0-9]+: client certificate subject=CN=bob,OU=dev: not allowed' 10 ||
    fail "no warn line naming listener, route, subject and 'not allowed':" \
    "$(mtlslb_log_since | grep -m3 'not allowed')"
wait_mtlslb_log '\[warn\] worker [0-9]+: listener www route -: .*client certificate \(none\): not allowed' 10 ||
    fail "no warn line for a request without a certificate"
wait_mtlslb_log '"GET /ops/secret HTTP/1.1" 403 .* route=ops' 10 ||
    fail "the 403 has no access-log line naming the route"
curl -sS "http://127.0.0.1:$PM/metrics" >"$T/metrics" || fail "no /metrics"
n=$(sed -n 's/^mtlslb_client_cert_rejections_total{listener="www",reason="not_allowed"} //p' \
    "$T/metrics")
[ -n "$n" ] && [ "$n" -ge 20 ] ||
    fail "not_allowed rejections: '$n', want >= 20"
pass "a refusal: 403 Forbidden page, a warn line with listener, route," \
    "subject and 'not allowed', and reason=\"not_allowed\" counted"

# --- resumed connections give the same verdict -------------------------------
# resumed CERT: one curl, several URLs, one connection each (Connection:
# close); curl offers its session every time. Prints each status.
resumed() {
	local u=() p
	for p in /svc/1 /ops/1 /mail/1 /svc/2 /ops/2 /mail/2 /svc/3 /ops/3; do
		u+=(-o /dev/null "$(lb_url "$p")")
	done
	curl -sS --http1.1 --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
	    --cert "$PKI/$1.crt" --key "$PKI/$1.key" -H 'Connection: close' \
	    -w '%{http_code} ' "${u[@]}" 2>"$T/resumed.err" || true
}
for c in alice bob; do
	log_mark
	got=$(resumed "$c")
	# the backend answers 404 for these paths: 404 = admitted
	case $c in
	alice) want="403 404 404 403 404 404 403 404 " ;;
	bob) want="404 403 403 404 403 403 404 403 " ;;
	esac
	[ "$got" = "$want" ] || fail "$c, resumed: statuses '$got', want '$want'"
	wait_mtlslb_log '"GET /ops/3 HTTP/1.1"' 10 || fail "$c: no log of /ops/3"
	nr=$(mtlslb_log_since | grep -c 'tls_resumed=r ') || true
	[ "$nr" -ge 6 ] || fail "$c: only $nr of 8 connections resumed:" \
	    "$(mtlslb_log_since | grep -c 'tls_resumed=\. ')"
	verdicts=$(mtlslb_log_since | grep '"GET /' |
	    sed -E 's/.*"GET (\/[a-z]+)\/[0-9] HTTP\/1.1" ([0-9]+) .*tls_resumed=([.r]).*/\1 \2 \3/' |
	    sort -u)
	# each path has one status, whether the session was resumed or not
	[ "$(echo "$verdicts" | awk '{print $1, $2}' | sort -u | wc -l)" = 3 ] ||
	    fail "$c: verdicts differ between full and resumed:" "$verdicts"
done
pass "resumed connections (identity record with the SANs) get the verdict" \
    "of the full handshake, for subject, SAN URI, SAN DNS and email rules"

stop_mtlslb
