#!/bin/bash
# 51-reload-on-change: with reload_on_change = on, publishing a new CRL
# (no signal) makes the master reload within a few polls (2 s each): the
# revoked client then gets the 400 page and the others still 200. A broken
# file is reported once, not at every poll.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
cp "$PKI/crl-empty.pem" "$T/crl.pem"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
CRL=$T/crl.pem GLOBAL_EXTRA="reload_on_change = on" std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"
CERT=revoked expect_status 200 "$(lb_url /)"

log_mark
cp "$PKI/crl.pem" "$T/crl.pem.new"
mv -f "$T/crl.pem.new" "$T/crl.pem"
wait_mtlslb_log 'configuration reloaded' 10 ||
    fail "no reload within 10 s of the CRL change"
mtlslb_log_since | grep -q 'reload_on_change: a watched file changed' ||
    fail "the reload does not say why"
CERT=revoked expect_status 400 "$(lb_url /)"
last_body_contains "The SSL certificate error" ||
    fail "revoked client: not the certificate error page: $(last_summary)"
expect_status 200 "$(lb_url /)"
CERT=client2 expect_status 200 "$(lb_url /)"
pass "new CRL picked up without a signal: revoked gets 400, others 200"

# A broken CRL: one failed reload, then quiet until the next change.
log_mark
echo "not a CRL" >"$T/crl.pem.new"
mv -f "$T/crl.pem.new" "$T/crl.pem"
wait_mtlslb_log 'reload failed, keeping current configuration: ' 10 ||
    fail "no 'reload failed' after a broken CRL"
sleep 5
n=$(mtlslb_log_since | grep -c 'reload failed') || true
[ "$n" = 1 ] || fail "a broken file was reported $n times, expected once"
CERT=revoked expect_status 400 "$(lb_url /)"
expect_status 200 "$(lb_url /)"
pass "a broken CRL is reported once and the old one keeps serving"

# Fixing it reloads again (the config file itself is watched too).
log_mark
cp "$PKI/crl-empty.pem" "$T/crl.pem.new"
mv -f "$T/crl.pem.new" "$T/crl.pem"
wait_mtlslb_log 'configuration reloaded' 10 ||
    fail "no reload after the CRL was fixed"
CERT=revoked expect_status 200 "$(lb_url /)"
log_mark
sed -i 's/^reload_on_change = on/reload_on_change = off/' "$T/lb.ini"
wait_mtlslb_log 'configuration reloaded' 10 ||
    fail "no reload after the config file changed"
cp "$PKI/crl.pem" "$T/crl.pem"
sleep 5
CERT=revoked expect_status 200 "$(lb_url /)"
pass "config file change reloads; reload_on_change = off stops polling"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
