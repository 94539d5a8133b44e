#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 60-admin: the [admin] endpoint and the expiry warning. No [admin]
# section: no endpoint. With one: GET /status is JSON with the version,
# uptime, config file and load time, the listeners (binds, mode, server
# certificate subject and notAfter, CA and CRL files with next update) and
# every server (name, address, weight, UP/DOWN, since, last probe, counters);
# GET /metrics is Prometheus text 0.0.4, checked by a strict parser below
# (HELP/TYPE, names, labels, values, histogram buckets), and counts what the
# test did: requests by class, handshakes, an expired-certificate and a
# no-certificate rejection, backend requests, failures and latency, server
# up, certificate expiry. Both survive a reload, and /status's probe count
# (last_probe.checks) restarts with the reload's new generation, as
# mtlslb.ini(5) says. expiry_warning logs a CRL whose nextUpdate is 3 days
# away, at start and on reload.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3

P1=$(free_port)
PDEAD=$(closed_port)
PDEAD2=$(closed_port)
start_backend ECS01 "$P1"
CONF=$T/lb.ini

# A CRL of the test root whose nextUpdate is 3 days away.
(cd "$PKI" && openssl ca -batch -config .ca/openssl.cnf -name CA_root \
    -gencrl -crlexts ext_crl -crldays 3 -out "$T/crl-soon.pem") \
    >"$T/gencrl.log" 2>&1 || {
	cat "$T/gencrl.log" >&2
	harness_error "cannot make a short-lived CRL"
}
# A server certificate that expires in 20 days, for listener plain.
(cd "$PKI" && openssl req -new -config .ca/openssl.cnf -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout "$T/short.key" \
    -subj /CN=localhost -out "$T/short.csr" &&
    openssl ca -batch -notext -config .ca/openssl.cnf -name CA_root \
    -extensions ext_server -days 20 -in "$T/short.csr" -out "$T/short.crt") \
    >"$T/short.log" 2>&1 || {
	cat "$T/short.log" >&2
	harness_error "cannot issue a short-lived server certificate"
}

# admin_get PATH [curl args]: GET http://127.0.0.1:$PA/PATH; body in
# $T/admin.body, head in $T/admin.head, status in ADMIN_CODE.
admin_get() {
	local p=$1
	shift
	ADMIN_CODE=$(curl -sS --max-time "$CURL_TIMEOUT" -o "$T/admin.body" \
	    -D "$T/admin.head" -w '%{http_code}' "$@" \
	    "http://127.0.0.1:$PA$p" 2>"$T/last.err") || ADMIN_CODE=000
}

# --- no [admin] section: no endpoint ---------------------------------------
PA=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$P1" restart_mtlslb "$CONF"
expect_status 200 "$(lb_url /)"
port_open "$PA" && fail "something listens on the admin port without [admin]"
mtlslb_log_since | grep -q 'admin endpoint' &&
    fail "an admin endpoint was started without [admin]"
pass "no [admin] section: no admin endpoint"

# --- the full configuration --------------------------------------------------
stop_mtlslb
LB_PORT=$(free_port)
LB2_PORT=$(free_port)
write_config "$CONF" <<EOF
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
mutual_authentication = on
ca_certificate = $PKI/root.crt
crl = $T/crl-soon.pem
server_group = default

[listener plain]
bind = 127.0.0.1:$LB2_PORT
server_certificate = $T/short.crt
server_private_key = $T/short.key
mutual_authentication = off
server_group = nocheck

[server_group default]
server = ECS01 127.0.0.1:$P1 weight=3
server = DEAD 127.0.0.1:$PDEAD
health_check_interval = 1s
# Generous: a probe slowed by ASan on a busy machine must not take ECS01
# DOWN (100ms did, in CI). DEAD refuses, which is found at once.
health_check_timeout = 5s
health_check_path = /status/200

[server_group nocheck]
health_check = off
server = DEAD2 127.0.0.1:$PDEAD2
server = ECS01 127.0.0.1:$P1

[admin]
bind = 127.0.0.1:$PA
EOF
log_mark
start_mtlslb "$CONF"
wait_port "$PA" 10 "$MTLSLB_PID" || fail "admin port $PA not open"
wait_mtlslb_log "admin endpoint on http://127.0.0.1:$PA/status" 5 ||
    fail "admin endpoint not logged"
pass "[admin] bind: endpoint on 127.0.0.1:$PA"

# --- expiry warning ------------------------------------------------------------
EXP_RE="\[warn\] master: listener https: CRL $T/crl-soon\.pem expires on [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC \(in [0-9]+ (days|hours)\)\$"
wait_mtlslb_log "$EXP_RE" 5 || fail "no expiry warning for a CRL due in 3 days"
n=$(mtlslb_log_since | grep -c 'expires on\|expired on') || true
[ "$n" = 1 ] || fail "expected exactly one expiry warning (7d), got $n"
pass "expiry_warning = 7d: $(mtlslb_log_since | grep -Eo 'listener https: CRL .*')"

wait_mtlslb_log 'server DEAD .* is DOWN \(2 consecutive failures: connection refused\)' 30 ||
    fail "DEAD not marked DOWN"

# --- traffic to count -----------------------------------------------------------
for ((i = 0; i < 5; i++)); do
	expect_status 200 "$(lb_url /)"
done
CERT=expired expect_status 400 "$(lb_url /)"
CERT=none expect_status 400 "$(lb_url /)"
expect_status 404 "$(lb_url /status/404)"
# nocheck: DEAD2 refuses, requests are retried on ECS01 (and counted).
for ((i = 0; i < 4; i++)); do
	CERT=none expect_status 200 "https://127.0.0.1:$LB2_PORT/"
done
# The workers count after the access log line: wait for the last request
# (the 4th on listener plain) to be logged, then to be counted.
for ((i = 0; i < 300; i++)); do
	n=$(mtlslb_log_since | grep -c '"GET / HTTP/1.1" 200 .*server=ECS01') ||
	    true
	[ "$n" -ge 9 ] && break
	sleep 0.1
done
[ "$n" -ge 9 ] || fail "only $n of 9 '200 server=ECS01' access-log lines in 30 s"
for ((i = 0; i < 300; i++)); do
	n=$(curl -sS --max-time 5 "http://127.0.0.1:$PA/metrics" 2>/dev/null |
	    awk '/^mtlslb_requests_total\{/ && /listener="plain"/ &&
		/code="2xx"/ { print $2; exit }')
	[ "${n:-0}" -ge 4 ] && break
	sleep 0.1
done
[ "${n:-0}" -ge 4 ] ||
    fail "the 4 requests on listener plain not counted in 30 s (${n:-none})"

# --- /status ---------------------------------------------------------------------------
admin_get /status
[ "$ADMIN_CODE" = 200 ] || fail "/status: HTTP $ADMIN_CODE"
tr -d '\r' <"$T/admin.head" | grep -qix 'content-type: application/json' ||
    fail "/status Content-Type: $(grep -i content-type "$T/admin.head")"
python3 -m json.tool "$T/admin.body" >/dev/null ||
    fail "/status is not JSON: $(head -c 300 "$T/admin.body")"
python3 - "$T/admin.body" "$CONF" "$LB_PORT" "$P1" "$PDEAD" "$T/crl-soon.pem" \
    "$PKI/root.crt" >"$T/status.check" 2>&1 <<'EOF' ||
import json, re, sys
doc = json.load(open(sys.argv[1]))
conf, lbport, p1, pdead, crl, ca = sys.argv[2:8]
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
def need(cond, what):
    if not cond:
        print("FAILED:", what)
        print(json.dumps(doc, indent=1)[:3000])
        sys.exit(1)
need(isinstance(doc.get("version"), str) and doc["version"], "version")
need(isinstance(doc.get("uptime_seconds"), int) and
     0 <= doc["uptime_seconds"] < 600, "uptime_seconds")
need(doc.get("config_file") == conf, "config_file")
need(iso.match(doc.get("config_loaded") or ""), "config_loaded")
need(iso.match(doc.get("started") or ""), "started")
ls = {l["name"]: l for l in doc["listeners"]}
need(set(ls) == {"https", "plain"}, "listener names")
h = ls["https"]
need(h["binds"] == ["127.0.0.1:" + lbport], "binds")
need(h["mutual_authentication"] == "on", "mode on")
need(ls["plain"]["mutual_authentication"] == "off", "mode off")
need("CN=localhost" in (h["server_certificate"]["subject"] or ""),
     "server cert subject")
need(iso.match(h["server_certificate"]["not_after"] or ""), "notAfter")
need(h["ca_certificate"]["file"] == ca, "CA file")
need(h["crl"]["file"] == crl, "CRL file")
need(iso.match(h["crl"]["next_update"] or ""), "CRL next update")
need(ls["plain"]["crl"]["file"] is None, "no CRL: null")
need(h["client_cert_rejections"]["expired"] == 1, "rejections expired")
need(h["client_cert_rejections"]["no_cert"] == 1, "rejections no_cert")
gs = {g["name"]: g for g in doc["server_groups"]}
need(set(gs) == {"default", "nocheck"}, "group names")
need(gs["default"]["health_check"] is True, "health_check true")
need(gs["nocheck"]["health_check"] is False, "health_check false")
sv = {s["name"]: s for s in gs["default"]["servers"]}
e, d = sv["ECS01"], sv["DEAD"]
need(e["address"] == "127.0.0.1:" + p1 and e["weight"] == 3, "ECS01 addr")
need(d["address"] == "127.0.0.1:" + pdead and d["weight"] == 1, "DEAD addr")
need(e["state"] == "UP" and d["state"] == "DOWN", "states")
need(iso.match(e["since"] or "") and iso.match(d["since"] or ""), "since")
need(e["last_probe"]["result"] == "ok" and e["last_probe"]["status"] == 200,
     "ECS01 last probe")
need(isinstance(e["last_probe"]["latency_ms"], (int, float)) and
     0 <= e["last_probe"]["latency_ms"] < 1000, "probe latency")
need(d["last_probe"]["result"] == "connection refused", "DEAD last probe")
for k in ("active_connections", "total_connections", "requests", "failures"):
    need(isinstance(e[k], int) and isinstance(d[k], int), k)
need(e["requests"] >= 6 and e["active_connections"] == 0, "ECS01 counters")
need(d["requests"] == 0, "DEAD requests")
nc = {s["name"]: s for s in gs["nocheck"]["servers"]}
need(nc["DEAD2"]["state"] == "UP" and nc["DEAD2"]["last_probe"] is None,
     "unchecked server: UP, no probe")
need(nc["DEAD2"]["failures"] >= 1 and nc["DEAD2"]["requests"] == 0,
     "DEAD2 failures")
print("ok")
EOF
    fail "/status: $(cat "$T/status.check")"
pass "/status: version, uptime, config, listeners (binds, mode, cert, CA," \
    "CRL), servers (address, weight, state, since, probe, counters)"

# --- /metrics --------------------------------------------------------------------------
cat >"$T/promparse.py" <<'EOF'
# promparse.py FILE: a strict parser of the Prometheus text format 0.0.4.
# Exits 1 with a message on the first violation; otherwise prints one
# "name{l1=v1,l2=v2} value" line per sample, labels sorted.
import math, re, sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LNAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}

def die(n, msg, line=""):
    sys.stderr.write("line %d: %s: %r\n" % (n, msg, line))
    sys.exit(1)

def value(s, n, line):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    if not re.fullmatch(r"[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)", s):
        die(n, "bad value " + s, line)
    return float(s)

def labels(s, i, n, line):
    """Parses {a="b",...} from s[i] == '{'; returns (dict, next index)."""
    out = {}
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return out, i + 1
        m = LNAME.match(s, i)
        if not m:
            die(n, "bad label name", line)
        ln = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            die(n, "expected =\" after label " + ln, line)
        i += 2
        v = ""
        while True:
            if i >= len(s):
                die(n, "unterminated label value", line)
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    die(n, "bad escape \\" + e, line)
                v += "\n" if e == "n" else e
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                die(n, "newline in label value", line)
            else:
                v += c
                i += 1
        if ln in out:
            die(n, "duplicate label " + ln, line)
        out[ln] = v
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            die(n, "expected , or } after a label", line)

text = open(sys.argv[1], encoding="utf-8").read()
if not text.endswith("\n"):
    die(0, "no final newline")
types, helps, done, seen = {}, set(), set(), set()
samples = []
cur = None
for n, line in enumerate(text.split("\n")[:-1], 1):
    if line == "":
        continue
    if line.startswith("#"):
        p = line.split(" ", 3)
        if len(p) >= 3 and p[1] in ("HELP", "TYPE"):
            if not NAME.fullmatch(p[2]):
                die(n, "bad metric name", line)
            if p[1] == "HELP":
                if p[2] in helps:
                    die(n, "second HELP", line)
                if len(p) < 4 or not p[3]:
                    die(n, "empty HELP", line)
                helps.add(p[2])
            else:
                if p[2] in types:
                    die(n, "second TYPE", line)
                if len(p) != 4 or p[3] not in TYPES:
                    die(n, "bad TYPE", line)
                if p[2] in done or p[2] == cur:
                    die(n, "TYPE after samples", line)
                types[p[2]] = p[3]
        continue
    m = NAME.match(line)
    if not m:
        die(n, "bad sample name", line)
    name, i = m.group(0), m.end()
    lab = {}
    if line[i:i + 1] == "{":
        lab, i = labels(line, i, n, line)
    if line[i:i + 1] != " ":
        die(n, "expected a blank before the value", line)
    rest = line[i + 1:].split(" ")
    if len(rest) not in (1, 2) or (len(rest) == 2 and
                                   not re.fullmatch(r"-?\d+", rest[1])):
        die(n, "bad value/timestamp", line)
    v = value(rest[0], n, line)
    fam = name
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
            fam = name[:-len(suf)]
    if fam not in types:
        die(n, "sample without a TYPE", line)
    if fam != cur:
        if fam in done:
            die(n, "family samples not contiguous", line)
        if cur is not None:
            done.add(cur)
        cur = fam
    t = types[fam]
    if t == "histogram" and name == fam:
        die(n, "histogram sample without _bucket/_sum/_count", line)
    if t == "histogram" and name.endswith("_bucket") and "le" not in lab:
        die(n, "bucket without le", line)
    if t == "counter" and (v < 0 or math.isnan(v)):
        die(n, "negative counter", line)
    key = name + "{" + ",".join("%s=%s" % kv for kv in sorted(lab.items())) + "}"
    if key in seen:
        die(n, "duplicate sample", line)
    seen.add(key)
    samples.append((name, fam, lab, v, key))

# Histograms: per label set, buckets rise with le, end at +Inf == _count.
for fam, t in types.items():
    if t != "histogram":
        continue
    series = {}
    for name, f, lab, v, key in samples:
        if f != fam:
            continue
        base = tuple(sorted((k, x) for k, x in lab.items() if k != "le"))
        s = series.setdefault(base, {"b": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            s["b"].append((value(lab["le"], 0, lab["le"]), v))
        elif name.endswith("_sum"):
            s["sum"] = v
        else:
            s["count"] = v
    if not series:
        die(0, "histogram %s without samples" % fam)
    for base, s in series.items():
        b = s["b"]
        if not b or b[-1][0] != float("inf"):
            die(0, "%s%s: no +Inf bucket last" % (fam, base))
        for (l1, c1), (l2, c2) in zip(b, b[1:]):
            if not l1 < l2:
                die(0, "%s%s: le not increasing" % (fam, base))
            if c2 < c1:
                die(0, "%s%s: bucket counts fall" % (fam, base))
        if s["count"] is None or s["sum"] is None:
            die(0, "%s%s: no _sum or _count" % (fam, base))
        if s["count"] != b[-1][1]:
            die(0, "%s%s: _count != +Inf bucket" % (fam, base))
for fam in types:
    if fam not in helps:
        die(0, "no HELP for " + fam)
for name, fam, lab, v, key in samples:
    print(key, repr(v) if v != int(v) or math.isinf(v) else int(v))
EOF

# metric KEY: the value of sample KEY ("name{l1=v1,l2=v2}", labels sorted)
# in the last parsed scrape; empty when absent.
metric() {
	awk -v k="$1" '$1 == k { print $2; exit }' "$T/metrics.parsed"
}

# expect_metric KEY OP N: e.g. expect_metric 'x{a=b}' -ge 1
expect_metric() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] || fail "/metrics: no sample $1"
	case $v in
	*.*) v=${v%%.*} ;;
	esac
	test "$v" "$2" "$3" || fail "/metrics: $1 is $v, expected $2 $3"
}

scrape() {
	admin_get /metrics
	[ "$ADMIN_CODE" = 200 ] || fail "/metrics: HTTP $ADMIN_CODE"
	python3 "$T/promparse.py" "$T/admin.body" >"$T/metrics.parsed" \
	    2>"$T/promparse.err" ||
	    fail "/metrics does not parse: $(cat "$T/promparse.err")"
}

scrape
ct=$(tr -d '\r' <"$T/admin.head" | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
case $ct in
"text/plain; version=0.0.4"*) ;;
*) fail "/metrics Content-Type: '$ct'" ;;
esac
pass "/metrics: Content-Type $ct, parses strictly as text format 0.0.4" \
    "($(wc -l <"$T/metrics.parsed") samples)"

expect_metric 'mtlslb_client_cert_rejections_total{listener=https,reason=expired}' -eq 1
expect_metric 'mtlslb_client_cert_rejections_total{listener=https,reason=no_cert}' -eq 1
expect_metric 'mtlslb_client_cert_rejections_total{listener=https,reason=revoked}' -eq 0
expect_metric 'mtlslb_client_cert_rejections_total{listener=plain,reason=no_cert}' -eq 0
pass "client_cert_rejections_total: expired 1, no_cert 1, others 0"
expect_metric 'mtlslb_requests_total{code=2xx,listener=https}' -ge 5
expect_metric 'mtlslb_requests_total{code=4xx,listener=https}' -eq 3
expect_metric 'mtlslb_requests_total{code=5xx,listener=https}' -eq 0
expect_metric 'mtlslb_requests_total{code=2xx,listener=plain}' -eq 4
expect_metric 'mtlslb_tls_handshakes_total{listener=https,resumed=false}' -ge 8
expect_metric 'mtlslb_tls_handshakes_total{listener=plain,resumed=false}' -ge 4
pass "requests_total by listener and status class, tls_handshakes_total"
expect_metric 'mtlslb_server_up{server=ECS01,server_group=default}' -eq 1
expect_metric 'mtlslb_server_up{server=DEAD,server_group=default}' -eq 0
expect_metric 'mtlslb_server_up{server=DEAD2,server_group=nocheck}' -eq 1
pass "server_up: 1 for ECS01, 0 for DEAD, 1 for an unchecked server"
expect_metric 'mtlslb_backend_requests_total{server=ECS01,server_group=default}' -ge 6
expect_metric 'mtlslb_backend_requests_total{server=DEAD,server_group=default}' -eq 0
expect_metric 'mtlslb_backend_failures_total{server=DEAD2,server_group=nocheck}' -ge 1
expect_metric 'mtlslb_backend_failures_total{server=ECS01,server_group=default}' -eq 0
n=$(metric 'mtlslb_backend_requests_total{server=ECS01,server_group=default}')
expect_metric 'mtlslb_backend_response_seconds_count{server=ECS01,server_group=default}' -eq "$n"
expect_metric 'mtlslb_backend_response_seconds_bucket{le=+Inf,server=ECS01,server_group=default}' -eq "$n"
expect_metric 'mtlslb_backend_response_seconds_bucket{le=10,server=ECS01,server_group=default}' -eq "$n"
pass "backend requests, failures and the latency histogram ($n for ECS01)"
for k in server ca; do
	expect_metric "mtlslb_certificate_expiry_seconds{kind=$k,listener=https}" -gt $((7 * 86400))
done
expect_metric 'mtlslb_certificate_expiry_seconds{kind=crl,listener=https}' -gt $((2 * 86400))
expect_metric 'mtlslb_certificate_expiry_seconds{kind=crl,listener=https}' -le $((3 * 86400))
expect_metric 'mtlslb_certificate_expiry_seconds{kind=server,listener=plain}' -gt $((19 * 86400))
expect_metric 'mtlslb_certificate_expiry_seconds{kind=server,listener=plain}' -le $((20 * 86400))
[ -z "$(metric 'mtlslb_certificate_expiry_seconds{kind=crl,listener=plain}')" ] ||
    fail "a listener without a CRL has a crl expiry sample"
pass "certificate_expiry_seconds: server, ca, crl (3 days) per listener"
expect_metric 'mtlslb_active_connections{listener=https}' -ge 0
grep -q '^mtlslb_info{version=' "$T/metrics.parsed" || fail "no mtlslb_info"

# --- other paths and methods ----------------------------------------------------------
admin_get /nope
[ "$ADMIN_CODE" = 404 ] || fail "/nope: HTTP $ADMIN_CODE"
admin_get /metrics -X POST
post=$ADMIN_CODE
[ "$post" = 405 ] || fail "POST /metrics: HTTP $post, want 405"
admin_get /status -I
[ "$ADMIN_CODE" = 200 ] || fail "HEAD /status: HTTP $ADMIN_CODE"
pass "admin: 404 elsewhere, POST refused ($post), HEAD works"

# --- reload: both still answer, about the new generation; expiry logged again -----------
# probe_checks: last_probe.checks of ECS01 in group default (the one
# probed) in $T/admin.body; 0 while last_probe is null.
probe_checks() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
g = [g for g in d["server_groups"] if g["name"] == "default"][0]
p = [x for x in g["servers"] if x["name"] == "ECS01"][0]["last_probe"]
print(p["checks"] if p else 0)' "$T/admin.body"
}
for ((i = 0; i < 300; i++)); do
	admin_get /status
	checks_before=$(probe_checks) || fail "/status: no ECS01 probe count"
	[ "$checks_before" -ge 2 ] && break
	sleep 0.1
done
[ "$checks_before" -ge 2 ] ||
    fail "ECS01 probed $checks_before times in 30 s (1 s interval)"
# The new generation probes once at start, then not for an hour: its
# count is at most 1 however long the rest of this test takes.
sed -i 's/^health_check_interval = 1s$/health_check_interval = 1h/' "$CONF"
sed -i 's/^expiry_warning = 7d$/expiry_warning = 30d/' "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "reload not logged"
wait_mtlslb_log 'previous configuration retired' 10 ||
    fail "old generation not retired"
for k in "https: CRL $T/crl-soon.pem" \
    "plain: server certificate $T/short.crt"; do
	mtlslb_log_since | grep -qF "[warn] master: listener $k expires on" ||
	    fail "reload with expiry_warning = 30d: no warning for $k"
done
n=$(mtlslb_log_since | grep -c 'expires on\|expired on') || true
[ "$n" = 2 ] || fail "reload, expiry_warning = 30d: $n warnings, expected 2"
pass "reload: expiry warnings again with the new window (30d: the CRL and" \
    "the 20-day server certificate, not the 825-day ones)"
expect_status 200 "$(lb_url /)"
admin_get /status
[ "$ADMIN_CODE" = 200 ] || fail "/status after reload: HTTP $ADMIN_CODE"
python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
s = {x["name"]: x for x in d["server_groups"][0]["servers"]}
assert s["DEAD"]["state"] == "DOWN", s
assert s["ECS01"]["state"] == "UP", s' "$T/admin.body" ||
    fail "/status after reload: $(head -c 500 "$T/admin.body")"
checks_after=$(probe_checks) || fail "/status after reload: no probe count"
if [ "$checks_after" -gt 1 ] || [ "$checks_after" -ge "$checks_before" ]; then
	fail "/status after reload: ECS01 last_probe.checks is $checks_after" \
	    "($checks_before before the reload): it did not restart"
fi
scrape
expect_metric 'mtlslb_server_up{server=DEAD,server_group=default}' -eq 0
pass "reload: /status and /metrics answer for the new generation;" \
    "last_probe.checks restarted ($checks_before, then $checks_after)"

# --- reload: a new admin bind moves the endpoint; no [admin] closes it -------
PA_OLD=$PA
PA=$(free_port)
sed -i "s/^bind = 127.0.0.1:$PA_OLD\$/bind = 127.0.0.1:$PA/" "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "reload not logged"
wait_port "$PA" 5 || fail "reload: new admin port $PA not open"
wait_port_closed "$PA_OLD" 5 || fail "reload: old admin port still open"
admin_get /status
[ "$ADMIN_CODE" = 200 ] || fail "/status on the new port: HTTP $ADMIN_CODE"
pass "reload: [admin] bind changed, the endpoint moved to port $PA"
sed -i '/^\[admin\]$/,$d' "$CONF"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 || fail "reload not logged"
wait_port_closed "$PA" 5 || fail "reload without [admin]: port still open"
wait_mtlslb_log 'admin endpoint closed' 5 || fail "admin close not logged"
expect_status 200 "$(lb_url /)"
pass "reload without [admin]: the endpoint is closed"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited with $MTLSLB_STATUS"
pass "60-admin: all checks passed"
