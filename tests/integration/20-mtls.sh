#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 20-mtls: the client-certificate policy of a listener. mutual_authentication
# on / optional / off, the two canned 400 pages, CRL and expiry and EKU
# checks, a server chain, a client CA behind an intermediate, verify_depth,
# reject_with = tls_alert, and the rejection log line.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
CONF=$T/lb.ini

NO_CERT_PAGE='<title>400 No required SSL certificate was sent</title>'
CERT_ERR_PAGE='<title>400 The SSL certificate error</title>'

# ok_as IDENT PATH: IDENT's request is proxied (200 from a backend).
ok_as() {
	CERT=$1 expect_status 200 "$(lb_url "$2")"
	last_body_contains "Hello World ! This is ECS0" ||
	    fail "$1: 200 without a backend body ($(last_summary))"
}

# page_as IDENT PAGE PATH: IDENT gets a local 400 with PAGE.
page_as() {
	CERT=$1 expect_status 400 "$(lb_url "$3")"
	last_body_contains "$2" ||
	    fail "$1: 400 without '$2' ($(last_summary))"
}

# not_proxied TAG: no backend saw a request whose target contains TAG.
not_proxied() {
	local n
	n=$(($(backend_hits ECS01 "$1") + $(backend_hits ECS02 "$1")))
	[ "$n" -eq 0 ] || fail "a rejected request ($1) reached a backend"
}

# --- mutual_authentication = on, with a CRL ------------------------------
CRL=$PKI/crl.pem restart_mtlslb "$CONF"

ok_as client /
pass "on: a valid client certificate is proxied (200)"
ok_as client2 /
pass "on: another valid client certificate is proxied (200)"

page_as none "$NO_CERT_PAGE" '/?tag=on-nocert'
not_proxied on-nocert
pass "on: no certificate -> 400 '$NO_CERT_PAGE', not proxied"

# A body the daemon will never read must not cost the client the page
# (lingering close instead of a reset while the upload is still coming).
head -c 8000000 /dev/zero >"$T/body.bin"
CERT=none expect_status 400 "$(lb_url '/upload?tag=on-nocert-post')" \
    -H 'Expect:' --data-binary "@$T/body.bin"
last_body_contains "$NO_CERT_PAGE" ||
    fail "POST without a certificate: no 400 page ($(last_summary))"
not_proxied on-nocert-post
pass "on: an 8 MB POST without a certificate still gets the 400 page"

page_as other "$CERT_ERR_PAGE" '/?tag=on-other'
not_proxied on-other
pass "on: certificate from another CA -> 400 certificate error"

page_as expired "$CERT_ERR_PAGE" '/?tag=on-expired'
not_proxied on-expired
pass "on: expired certificate -> 400 certificate error"

wait_mtlslb_log 'certificate has expired.*subject=.*expired' ||
    fail "no log line with 'certificate has expired' and 'subject=...expired'"
mtlslb_log_since | grep -E 'certificate has expired' | head -n 1 |
    grep -q 'client certificate rejected' ||
    fail "the expiry log line lacks 'client certificate rejected'"
pass "on: the log names the reason and subject of the expired certificate"

page_as revoked "$CERT_ERR_PAGE" '/?tag=on-revoked'
not_proxied on-revoked
wait_mtlslb_log 'certificate revoked.*subject=.*revoked' ||
    fail "no log line with 'certificate revoked' and the subject"
pass "on: revoked certificate (crl = crl.pem) -> 400 certificate error"

page_as wrong-eku "$CERT_ERR_PAGE" '/?tag=on-eku'
not_proxied on-eku
pass "on: certificate without clientAuth EKU -> 400 certificate error"

page_as inter-client "$CERT_ERR_PAGE" '/?tag=on-inter'
not_proxied on-inter
pass "on: certificate from an intermediate not in ca_certificate -> 400"

# --- without a CRL the revoked certificate is accepted --------------------
restart_mtlslb "$CONF"
ok_as revoked /
pass "on, no crl: the revoked certificate is accepted"

# --- an empty CRL revokes nothing -----------------------------------------
CRL=$PKI/crl-empty.pem restart_mtlslb "$CONF"
ok_as revoked /
pass "on, crl-empty.pem: the revoked certificate is accepted"

# --- mutual_authentication = optional --------------------------------------
MTLS=optional restart_mtlslb "$CONF"
ok_as none /
pass "optional: no certificate is proxied (200)"
ok_as client /
pass "optional: a valid certificate is proxied (200)"
page_as other "$CERT_ERR_PAGE" '/?tag=opt-other'
not_proxied opt-other
pass "optional: certificate from another CA -> 400 certificate error"
page_as expired "$CERT_ERR_PAGE" '/?tag=opt-expired'
not_proxied opt-expired
pass "optional: expired certificate -> 400 certificate error"

# --- mutual_authentication = off -------------------------------------------
MTLS=off CA='' restart_mtlslb "$CONF"
ok_as none /
pass "off: no certificate is proxied (200)"
ok_as client /
pass "off: a client with a certificate is proxied too (200)"

# --- a server chain: leaf + intermediate, the client trusts only the root --
SERVER_CERT=$PKI/server-chain.crt SERVER_KEY=$PKI/server-chain.key \
    restart_mtlslb "$CONF"
CACERT=$PKI/root.crt ok_as client /
pass "server chain: curl verifies leaf+intermediate with root.crt only"
if command -v timeout >/dev/null 2>&1; then
	n=$(timeout 10 openssl s_client -connect "127.0.0.1:$LB_PORT" \
	    -CAfile "$PKI/root.crt" -cert "$PKI/client.crt" \
	    -key "$PKI/client.key" -showcerts </dev/null 2>/dev/null |
	    grep -c 'BEGIN CERTIFICATE') || true
	[ "$n" = 2 ] || fail "server chain: s_client saw $n certificates, not 2"
	pass "server chain: the server sends exactly leaf + intermediate"
fi

# --- a client CA behind an intermediate -------------------------------------
CA=$PKI/inter-ca-bundle.crt restart_mtlslb "$CONF"
ok_as inter-client /
pass "inter-ca-bundle.crt: a client issued by the intermediate is proxied"
ok_as client /
pass "inter-ca-bundle.crt: a client issued by the root is proxied"
page_as other "$CERT_ERR_PAGE" '/?tag=bundle-other'
pass "inter-ca-bundle.crt: another CA is still rejected"

# --- verify_depth: deep-client sits 4 levels below the root -----------------
CA=$PKI/deep-ca-bundle.crt VERIFY_DEPTH=3 restart_mtlslb "$CONF"
ok_as deep-client /
pass "verify_depth = 3: a 5-certificate chain is accepted"
CA=$PKI/deep-ca-bundle.crt VERIFY_DEPTH=2 restart_mtlslb "$CONF"
page_as deep-client "$CERT_ERR_PAGE" '/?tag=deep'
not_proxied tag=deep
ok_as client /
pass "verify_depth = 2: the 5-certificate chain is rejected, a short one not"

# --- reject_with = tls_alert -------------------------------------------------
REJECT_WITH=tls_alert CRL=$PKI/crl.pem restart_mtlslb "$CONF"
ok_as client /
pass "tls_alert: a valid certificate is proxied (200)"

CERT=none expect_tls_reject "$(lb_url '/?tag=alert-nocert')"
not_proxied alert-nocert
pass "tls_alert: no certificate fails in TLS (curl exit $CURL_RC, $TLS_ALERT), no HTTP"
CERT=other expect_tls_reject "$(lb_url '/?tag=alert-other')"
not_proxied alert-other
pass "tls_alert: another CA fails in TLS (curl exit $CURL_RC, $TLS_ALERT), no HTTP"
CERT=expired expect_tls_reject "$(lb_url '/?tag=alert-expired')"
not_proxied alert-expired
pass "tls_alert: expired certificate fails in TLS (curl exit $CURL_RC, $TLS_ALERT)"

wait_mtlslb_log 'client certificate rejected' ||
    fail "tls_alert: no 'client certificate rejected' in the log"
wait_mtlslb_log 'client certificate rejected.*certificate has expired.*subject=' ||
    fail "tls_alert: the expiry rejection lacks reason or subject"
pass "tls_alert: rejections are logged as 'client certificate rejected'"

# A rejected client must not take the daemon down.
ok_as client /
pass "tls_alert: still serving after the rejections"

stop_mtlslb
pass "20-mtls: all checks passed"
