#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 63-admin-page: the console page, GET / on the admin endpoint (issue 15),
# with two server groups of ten servers (two real backends, eight closed
# ports that health checks take DOWN) and a CRL whose file name holds
# HTML's special characters. The page is valid HTML for a strict parser
# (tests/helpers/htmlcheck.py: balanced tags, no script, no external
# resource), under 30 KB, reloads itself (meta refresh) and is sent with
# a Content-Security-Policy; it shows every server with the state /status
# gives it (UP, DOWN, DRAINING), the counters /status and /metrics give,
# the listener's certificate and CRL dates with the CRL inside
# expiry_warning highlighted, and the configuration generation (reload
# count, then a failed reload's error). A browser's form POST from the
# page drains a server (303 back to /, where it shows DRAINING and an
# enable button).
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3
HTMLCHECK=$top_srcdir/tests/helpers/htmlcheck.py

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
PA=$(free_port)
LB_PORT=$(free_port)
CONF=$T/lb.ini

# A CRL that expires in 3 days (inside expiry_warning), under a file name
# that must be escaped.
CRL_NAME="$T/crl <b>&'x'.pem"
(cd "$PKI" && openssl ca -batch -config .ca/openssl.cnf -name CA_root \
    -gencrl -crlexts ext_crl -crldays 3 -out "$CRL_NAME") \
    >"$T/gencrl.log" 2>&1 || {
	cat "$T/gencrl.log" >&2
	harness_error "cannot make a short-lived CRL"
}

{
	cat <<EOF
[global]
workers = 2
log_level = info
error_log = stderr
access_log = stderr
expiry_warning = 7d

[listener https]
bind = 127.0.0.1:$LB_PORT
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
crl = $CRL_NAME
server_group = front

EOF
	for g in front back; do
		printf '[server_group %s]\n' "$g"
		printf 'server = ECS01 127.0.0.1:%s\n' "$P1"
		printf 'server = ECS02 127.0.0.1:%s\n' "$P2"
		for i in 3 4 5 6 7 8 9 10; do
			printf 'server = %s-%02d 127.0.0.1:%s\n' "$g" "$i" \
			    "$(closed_port)"
		done
		cat <<EOF
health_check_interval = 1s
health_check_timeout = 5s
health_check_path = /status/200

EOF
	done
	printf '[admin]\nbind = 127.0.0.1:%s\n' "$PA"
} >"$CONF"
log_mark
start_mtlslb "$CONF"
wait_port "$PA" 10 "$MTLSLB_PID" || fail "admin port $PA not open"

# admin PATH [curl args]: ADMIN_CODE, body $T/admin.body, head $T/admin.head
admin() {
	local p=$1
	shift
	ADMIN_CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -o "$T/admin.body" \
	    -D "$T/admin.head" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$PA$p" 2>"$T/last.err") || ADMIN_CODE=000
}

# page: GET /, checked by the parser; the rows in $T/rows.json and /status
# (fetched right after) in $T/status.json.
page() {
	admin /
	[ "$ADMIN_CODE" = 200 ] || fail "GET /: HTTP $ADMIN_CODE"
	cp "$T/admin.body" "$T/page.html"
	cp "$T/admin.head" "$T/page.head"
	python3 "$HTMLCHECK" "$T/page.html" "$T/rows.json" >"$T/htmlcheck.out" ||
	    fail "the page is not valid: $(head -n 10 "$T/htmlcheck.out")"
	admin /status
	[ "$ADMIN_CODE" = 200 ] || fail "/status: HTTP $ADMIN_CODE"
	cp "$T/admin.body" "$T/status.json"
}

# Every closed port DOWN (16 servers; 2 failures each at 1 s probes).
for ((i = 0; i < 600; i++)); do
	n=$(mtlslb_log_since | grep -c 'server_group .* is DOWN') || true
	[ "$n" -ge 16 ] && break
	sleep 0.1
done
[ "$n" -ge 16 ] || fail "only $n of 16 closed servers marked DOWN in 60 s"

# Traffic to count, then a quiet moment so the page and /status agree.
for ((i = 0; i < 6; i++)); do
	expect_status 200 "$(lb_url "/?i=$i")"
done
expect_status 500 "$(lb_url /status/500)"
CERT=expired expect_status 400 "$(lb_url /)"
for ((i = 0; i < 300; i++)); do
	n=$(mtlslb_log_since | grep -c '"GET /[^ ]* HTTP/1.1" [245]') || true
	[ "$n" -ge 8 ] && break
	sleep 0.1
done

page
size=$(wc -c <"$T/page.html")
[ "$size" -lt 30720 ] || fail "the page is $size bytes, not under 30 KB"
tr -d '\r' <"$T/page.head" | grep -qix 'content-type: text/html; charset=utf-8' ||
    fail "GET / Content-Type: $(grep -i content-type "$T/page.head")"
tr -d '\r' <"$T/page.head" | grep -qi "^content-security-policy: default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'" ||
    fail "GET / has no Content-Security-Policy: $(cat "$T/page.head")"
grep -q '<meta http-equiv="refresh" content="5">' "$T/page.html" ||
    fail "the page does not reload itself"
pass "GET /: valid HTML (strict parser), $size bytes for 2 groups of 10" \
    "servers, meta refresh, CSP"

# The page shows what /status shows.
python3 - "$T/rows.json" "$T/status.json" "$CRL_NAME" "$T/page.html" \
    >"$T/agree.out" 2>&1 <<'EOF' || fail "page and /status: $(cat "$T/agree.out")"
import json, re, sys
rows = json.load(open(sys.argv[1]))["rows"]
st = json.load(open(sys.argv[2]))
crl, html = sys.argv[3], open(sys.argv[4], encoding="utf-8").read()
def need(cond, what):
    if not cond:
        print("FAILED:", what)
        sys.exit(1)
n = 0
for g in st["server_groups"]:
    for s in g["servers"]:
        rid = "server-%s-%s" % (g["name"], s["name"])
        need(rid in rows, "no row " + rid)
        cells = rows[rid]
        state = s["state"] if s["admin_state"] == "ACTIVE" else s["admin_state"]
        need(cells[0] == s["name"] and cells[1] == s["address"], rid + " name")
        need(cells[2].split()[0] == state, "%s: page %r, /status %s" % (rid, cells[2], state))
        need(cells[3] == str(s["weight"]), rid + " weight")
        need(cells[5] == str(s["requests"]), "%s requests: page %s, /status %s" % (rid, cells[5], s["requests"]))
        need(cells[6] == str(s["responses_5xx"]), rid + " 5xx")
        need(cells[7] == str(s["failures"]), rid + " failures")
        lp = s["last_probe"]
        need(lp is not None and cells[8].startswith(lp["result"]), rid + " probe: " + cells[8])
        n += 1
need(n == 20, "%d servers" % n)
front = {s["name"]: s for s in st["server_groups"][0]["servers"]}
need(front["ECS01"]["state"] == "UP" and front["front-03"]["state"] == "DOWN", "states")
need(front["ECS01"]["requests"] + front["ECS02"]["requests"] >= 7, "requests counted")
need(front["ECS01"]["responses_5xx"] + front["ECS02"]["responses_5xx"] == 1, "one 5xx")
need(rows["server-front-ECS01"][9] != "- / - / -", "no latency for ECS01")
l = st["listeners"][0]
lr = rows["listener-https"]
need(lr[0] == "https" and lr[1] == l["binds"][0] and lr[2] == "on", "listener row " + repr(lr))
need(lr[5] == str(l["requests"]) and lr[10] == str(l["handshakes"]), "listener counters " + repr(lr))
need("expired 1" in lr[13], "rejections " + lr[13])
# the CRL: its escaped name, its date in the warning colour
esc = crl.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")
need(esc in html and crl not in html, "the CRL file name is not escaped")
nu = l["crl"]["next_update"].replace("T", " ").replace("Z", " UTC")
need(re.search(r'<td class="warn">' + re.escape(nu), html), "CRL date %s not highlighted" % nu)
na = l["server_certificate"]["not_after"].replace("T", " ").replace("Z", " UTC")
need(re.search(r"<td>" + re.escape(na) + r" \(in \d+ days\)</td>", html), "server certificate date " + na)
print("ok")
EOF
pass "the page agrees with /status: 20 servers (state, weight, requests, 5xx," \
    "failures, probe), listener counters, rejections, escaped CRL name," \
    "CRL date highlighted, certificate date"

# /metrics agrees too (state and admin state).
admin /metrics
grep -q '^mtlslb_server_up{server_group="front",server="front-03"} 0$' \
    "$T/admin.body" || fail "/metrics: front-03 not down"
grep -q '^mtlslb_server_admin_state{server_group="front",server="ECS01",state="active"} 1$' \
    "$T/admin.body" || fail "/metrics: ECS01 not active"
grep -q '^mtlslb_backend_5xx_responses_total{server_group="front",server="ECS0[12]"} 1$' \
    "$T/admin.body" || fail "/metrics: no 5xx counted"

# --- a browser's form POST from the page ---------------------------------
grep -q '<form method="post" action="/servers/back/ECS02/drain"><button type="submit">drain</button></form>' \
    "$T/page.html" || fail "no drain button for back/ECS02"
admin /servers/back/ECS02/drain -X POST -H "Origin: http://127.0.0.1:$PA" \
    -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' \
    -H 'Content-Type: application/x-www-form-urlencoded' --data-binary ''
[ "$ADMIN_CODE" = 303 ] || fail "form POST: HTTP $ADMIN_CODE, want 303"
page
python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["rows"]["server-back-ECS02"]
assert r[2] == "DRAINING health UP", r
assert r[10] == "enable disable", r' "$T/rows.json" ||
    fail "after the drain: $(grep -o '<tr id="server-back-ECS02">.*' "$T/page.html")"
pass "the drain form: 303 to /, which shows back/ECS02 DRAINING (health UP) with enable"

# --- the generation: reloads and a failed reload ----------------------------
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 30 || fail "reload not logged"
printf 'bogus line\n' >>"$CONF"
line=$(wc -l <"$CONF")
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'reload failed' 30 || fail "the broken reload is not logged"
page
grep -qF "<tr><th>reloads</th><td>1 (last " "$T/page.html" ||
    fail "the page does not count 1 reload"
grep -qF "$(basename "$CONF"):$line: syntax error" "$T/page.html" ||
    fail "the page does not show the reload error: $(grep -o 'last reload error.*' "$T/page.html")"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["reloads"]
assert d["count"] == 1 and d["last"] and d["failed_at"], d
assert "syntax error" in d["error"], d' "$T/status.json" ||
    fail "/status reloads: $(head -c 300 "$T/status.json")"
grep -q '"admin_state":"DRAINING"' "$T/status.json" ||
    fail "the reload lost the drain"
pass "the page and /status show the reload count and the failed reload's error"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited with $MTLSLB_STATUS"
pass "63-admin-page: all checks passed"
