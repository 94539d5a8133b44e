#!/bin/bash
# 89-descriptors: a worker short of file descriptors (issue 17 items 5 and
# 13). The daemon runs with an open-files limit of 120 (prlimit), so its
# one worker may hold (120 - 64 - 4 pooled) / 2 = 26 client connections.
# 40 idle TLS connections: the rest are refused at once and counted, the
# refusal is logged once (not 14 times), the server is never marked DOWN,
# and once the idle connections are gone a request is served again.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_cmd python3
need_cmd prlimit
need_mtlslb
t_setup
mkpki
RAWTLS="python3 $top_srcdir/tests/helpers/rawtls.py"

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
WORKERS=1
ADMIN_PORT=$(free_port)
LB_PORT=$(free_port)
LISTENER_EXTRA="client_header_timeout = 60s"
# [admin] last: start_mtlslb waits for the first bind = (the listener).
GROUP_EXTRA="max_idle_connections = 4

[admin]
bind = 127.0.0.1:$ADMIN_PORT"
std_config "$T/lb.ini"
# The wrapper sets the daemon's limit only: soft = hard, so the master's
# raise to the hard limit changes nothing.
MTLSLB_WRAPPER="prlimit --nofile=120:120" start_mtlslb "$T/lb.ini"
grep -q "open-files limit: 120" "$T/mtlslb.log" ||
    fail "the master did not log its open-files limit of 120"
pass "the master logs its open-files limit (120)"

r=$($RAWTLS hold "$MTLSLB_PORT" --tls --cert "$PKI/client.crt" \
    --key "$PKI/client.key" --ca "$PKI/root.crt" --conns 40 --hold 15 \
    --timeout 60)
echo "# hold: $r"
refused=$(printf '%s\n' "$r" | sed -n 's/.*accepted_closed=\([0-9]*\).*/\1/p')
[ "${refused:-0}" -ge 10 ] ||
    fail "expected at least 10 of 40 connections refused at once ($r)"
pass "over the descriptor budget, connections are closed at once ($refused of 40)"

n=$(grep -c "descriptor budget" "$T/mtlslb.log" || true)
[ "$n" -ge 1 ] && [ "$n" -le 3 ] ||
    fail "expected the budget line once per 5 s, got $n lines"
pass "the refusals are logged $n time(s), not once each"

# The idle connections are gone: the server was never the problem.
expect_status 200 "$(lb_url /?after)"
st=$(curl -s --max-time 30 "http://127.0.0.1:$ADMIN_PORT/status")
case $st in
*'"state":"down"'* | *'"state":"DOWN"'*) fail "ECS01 was marked down: $st" ;;
esac
grep -qi "ECS01.*DOWN" "$T/mtlslb.log" && fail "ECS01 was logged DOWN"
pass "ECS01 stayed up; a request after the flood gets 200"
pass "89-descriptors: all checks passed"
