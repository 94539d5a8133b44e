#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 48-routes: [route] sections pick the server group by Host and path
# prefix (the most specific wins; the path is matched decoded and
# normalised), client_certificate = required makes one path of an
# optional listener need a certificate (nginx's 400 page without one),
# and the access log, /status and /metrics name the route.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

PW=$(free_port)
PA=$(free_port)
PI=$(free_port)
PM=$(free_port)
start_backend web "$PW"
start_backend admin "$PA"
start_backend api "$PI"
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
ca_certificate = $PKI/root.crt
mutual_authentication = optional
server_group = web

[route admin]
listener = www
path_prefix = /admin/
server_group = admin
client_certificate = required

[route api]
listener = www
host = api.example.com
server_group = api

[route api-admin]
listener = www
host = api.example.com
path_prefix = /admin/
server_group = admin

[route wild]
listener = www
host = *.example.org
server_group = api

[server_group web]
server = web 127.0.0.1:$PW
health_check = off

[server_group admin]
server = admin 127.0.0.1:$PA
health_check = off

[server_group api]
server = api 127.0.0.1:$PI
health_check = off

[admin]
bind = 127.0.0.1:$PM
EOF
log_mark
start_mtlslb "$CONF"

# at NAME PATH [curl args]: the request went to backend NAME (X-Backend).
at() {
	local want=$1 path=$2 got
	shift 2
	http_get "$(lb_url "$path")" "$@"
	got=$(last_header X-Backend)
	[ "$HTTP_CODE" != 000 ] && [ "$got" = "$want" ] ||
	    fail "$path $*: went to '$got' (HTTP $HTTP_CODE), want $want:" \
	    "$(last_summary)"
}

# --- path prefixes and the listener's own group ----------------------------
CERT=none at web /
CERT=none at web /headers
CERT=none at web /admin
CERT=none at web /administrator/
at admin /admin/
at admin '/admin/x?y=1'
at admin /%61dmin/x
at admin /x/../admin/y --path-as-is
at admin //admin/y --path-as-is
at admin /admin%2Fy
at web /admin/../headers --path-as-is
pass "/admin/ goes to group admin, the rest to the listener's group web," \
    "with the path decoded and normalised first"

# --- client_certificate = required on an optional listener -----------------
for p in /admin/ /admin/x /%61dmin/ /./admin/x /a/../admin/ /a/%2e%2E/admin/; do
	CERT=none expect_status 400 "$(lb_url "$p")" --path-as-is
	last_body_contains "No required SSL certificate was sent" ||
	    fail "$p without a certificate: not nginx's page: $(last_summary)"
	[ -z "$(last_header X-Backend)" ] ||
	    fail "$p without a certificate reached a backend"
done
CERT=none expect_status 200 "$(lb_url /headers)"
expect_status 200 "$(lb_url /headers)"
CERT=expired expect_status 400 "$(lb_url /admin/)"
last_body_contains "The SSL certificate error" ||
    fail "/admin/ with an expired certificate: $(last_summary)"
CERT=expired expect_status 400 "$(lb_url /)"
pass "client_certificate = required: 400 'No required SSL certificate was" \
    "sent' on /admin/ without one, 200 with one, 200 elsewhere"

# --- host matching ---------------------------------------------------------
CERT=none at api /x -H 'Host: api.example.com'
CERT=none at api / -H 'Host: API.Example.COM:443'
CERT=none at api / -H 'Host: api.example.com.'
CERT=none at admin /admin/x -H 'Host: api.example.com'
CERT=none at api /x -H 'Host: a.b.example.org'
CERT=none at web /x -H 'Host: example.org'
CERT=none at web /x -H 'Host: api.example.com.evil'
CERT=none expect_status 400 "$(lb_url /admin/)" -H 'Host: www.example.org.x'
pass "routes by host: exact (case, port and trailing dot ignored) before" \
    "*.suffix before none; the host's own routes sort by prefix"

# --- the same over HTTP/2: admit_request() runs per stream -----------------
CURL_HTTP=--http2 at admin /admin/x
CURL_HTTP=--http2 CERT=none at web /x
CURL_HTTP=--http2 CERT=none at api /x -H 'Host: api.example.com'
CURL_HTTP=--http2 CERT=none expect_status 400 "$(lb_url /admin/)"
last_body_contains "No required SSL certificate was sent" ||
    fail "h2 /admin/ without a certificate: $(last_summary)"
pass "over HTTP/2 too: routes by path and :authority, and" \
    "client_certificate = required"

# --- one connection, several routes ----------------------------------------
curl_mtls "$(lb_url /headers)" -i -w 'connects=%{num_connects}\n' \
    "$(lb_url /admin/x)" >"$T/two.h" 2>&1 || true
[ "$(grep -ci '^X-Backend: admin' "$T/two.h")" = 1 ] &&
    [ "$(grep -ci '^X-Backend: web' "$T/two.h")" = 1 ] &&
    [ "$(grep -c '^connects=' "$T/two.h")" = 2 ] &&
    [ "$(grep -c '^connects=0' "$T/two.h")" = 1 ] ||
    fail "two requests of one connection: $(tr -d '\r' <"$T/two.h")"
pass "requests of one kept-alive connection each take their own route"

# --- the access log and the counters ---------------------------------------
wait_mtlslb_log '"GET /%61dmin/x HTTP/1.1" [0-9]+ .* listener=www route=admin sni=-' 10 ||
    fail "no access-log line with listener=www route=admin sni=-:" \
    "$(mtlslb_log_since | grep -m3 '%61dmin')"
wait_mtlslb_log '"GET /headers HTTP/1.1" 200 .* listener=www route=- sni=-' 10 ||
    fail "no access-log line with route=- for an unrouted request"
curl -sS --http1.1 --resolve "localhost:$LB_PORT:127.0.0.1" --cacert "$PKI/root.crt" \
    -o /dev/null "https://localhost:$LB_PORT/sni-check" ||
    fail "curl with SNI localhost failed"
wait_mtlslb_log '"GET /sni-check HTTP/1.1" .* sni=localhost' 10 ||
    fail "no sni=localhost in the access log"
pass "the access log names listener, route and sni"

curl -sS "http://127.0.0.1:$PM/metrics" >"$T/metrics" ||
    fail "no /metrics"
n=$(sed -n 's/^mtlslb_route_requests_total{listener="www",route="admin"} //p' \
    "$T/metrics")
[ -n "$n" ] && [ "$n" -ge 10 ] ||
    fail "mtlslb_route_requests_total for admin: '$n', want >= 10"
grep -q '^mtlslb_route_requests_total{listener="www",route="wild"} 1$' \
    "$T/metrics" || fail "route wild: $(grep route_requests "$T/metrics")"
curl -sS "http://127.0.0.1:$PM/status" >"$T/status" || fail "no /status"
grep -q '"routes":\[{"name":"api-admin","host":"api.example.com","path_prefix":"/admin/","server_group":"admin","client_certificate":"inherit","allow":\[\],"requests":1}' \
    "$T/status" || fail "/status lacks the routes, most specific first:" \
    "$(grep -o '"routes":[^]]*' "$T/status" | head -c 600)"
curl -sS "http://127.0.0.1:$PM/" >"$T/console.html" || fail "no console"
grep -q '<table id="routes">' "$T/console.html" &&
    grep -q '<tr><td>www</td><td>admin</td><td>any</td><td>/admin/</td><td>admin</td><td>required</td>' \
    "$T/console.html" || fail "the console lacks the routes table"
pass "/metrics counts requests per route; /status and the console list" \
    "the routes"

stop_mtlslb
