#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 32-access-log: one access-log line per request, nginx-combined first then
# the TLS and upstream fields; access_log_format = json gives one JSON
# object per line with the same fields; client-controlled text is escaped.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
WORKERS=1
CONF=$T/lb.ini

# --- combined ---------------------------------------------------------------
std_config "$CONF"
start_mtlslb "$CONF"
curl_mtls "$(lb_url /headers)" -A 'agent "quoted"' -e 'https://ref.example/' \
    -o /dev/null || fail "request with a certificate failed"
curl -sS --http1.1 --max-time 10 --cacert "$PKI/root.crt" "$(lb_url /)" -o /dev/null ||
    fail "request without a certificate failed"
wait_log "$T/mtlslb.log" '"GET / HTTP/1.1" 400 ' 10 ||
    fail "no access-log line for the 400"

line=$(grep -F '"GET /headers HTTP/1.1" 200 ' "$T/mtlslb.log" | tail -n 1)
[ -n "$line" ] || fail "no access-log line for the proxied request"
re='^127\.0\.0\.1 - "CN=client" \[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4}:[0-9:]{8} [-+][0-9]{4}\] "GET /headers HTTP/1\.1" 200 [0-9]+ "https://ref\.example/" "agent \\x22quoted\\x22" tls=TLSv1\.[23] cipher=[A-Z0-9_-]+ tls_resumed=[.r] verify=SUCCESS server=ECS0[12] upstream=127\.0\.0\.1:[0-9]+ rt=[0-9]+\.[0-9]{3} urt=[0-9]+\.[0-9]{3} listener=https route=- sni=-$'
[[ $line =~ $re ]] || fail "combined line has the wrong shape: $line"
pass "combined: $line"

line=$(grep -F '"GET / HTTP/1.1" 400 ' "$T/mtlslb.log" | tail -n 1)
re='^127\.0\.0\.1 - "-" \[.*\] "GET / HTTP/1\.1" 400 [1-9][0-9]* "-" "curl/[^"]*" tls=TLSv1\.[23] cipher=[A-Z0-9_-]+ tls_resumed=[.r] verify=NONE server=- upstream=- rt=[0-9.]+ urt=- listener=https route=- sni=-$'
[[ $line =~ $re ]] || fail "400 line has the wrong shape: $line"
pass "combined, rejected request: server=- upstream=- urt=-"
stop_mtlslb

# --- json -------------------------------------------------------------------
: >"$T/mtlslb.log"
GLOBAL_EXTRA="access_log_format = json"
std_config "$CONF"
start_mtlslb "$CONF"
curl_mtls "$(lb_url /)" -A $'tab\there "q" \\ \xc3\xa9' -o /dev/null ||
    fail "request with a certificate failed"
curl -sS --http1.1 --max-time 10 --cacert "$PKI/root.crt" "$(lb_url /)" -o /dev/null ||
    fail "request without a certificate failed"
wait_log "$T/mtlslb.log" '"status":400' 10 || fail "no JSON line for the 400"
grep '^{' "$T/mtlslb.log" >"$T/json.lines"
python3 - "$T/json.lines" <<'PY' || fail "JSON access log check failed"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in rows if r["status"] == 200]
bad = [r for r in rows if r["status"] == 400]
assert ok and bad, rows
r = ok[-1]
keys = {"time", "client", "subject", "request", "status", "bytes", "referer",
        "user_agent", "tls", "cipher", "verify", "server", "upstream", "rt",
        "urt", "tls_resumed", "listener", "route", "sni"}
assert keys <= set(r), set(r) ^ keys
assert r["tls_resumed"] in (True, False), r
assert r["subject"] == "CN=client", r
assert r["request"] == "GET / HTTP/1.1", r
assert r["user_agent"] == 'tab\there "q" \\ \u00c3\u00a9', repr(r["user_agent"])
assert r["verify"] == "SUCCESS" and r["server"] in ("ECS01", "ECS02"), r
assert isinstance(r["urt"], float), r
assert r["listener"] == "https" and r["route"] is None, r
assert r["sni"] is None, r
b = bad[-1]
assert b["subject"] is None and b["verify"] == "NONE" and b["urt"] is None, b
assert b["server"] is None and b["upstream"] is None, b
print("ok - json:", json.dumps(r))
PY
pass "json: every line parses, fields and escaping as expected"
pass "32-access-log: all checks passed"
