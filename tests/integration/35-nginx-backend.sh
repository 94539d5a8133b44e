#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 35-nginx-backend: the demo setup with real nginx origins. Round robin
# alternates between two nginx backends, they see the forwarded and client
# certificate headers, and spoofed ones do not get through. Skips (77)
# without nginx.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

P1=$(free_port)
P2=$(free_port)
start_nginx_backend ECS01 "$P1"
start_nginx_backend ECS02 "$P2"
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
restart_mtlslb "$T/lb.ini"

# Strict alternation over 10 requests, each on a new connection.
seq=
for ((i = 0; i < 10; i++)); do
	expect_status 200 "$(lb_url /)"
	case $(cat "$T/last.body") in
	"Hello World ! This is ECS01.") seq=${seq}1 ;;
	"Hello World ! This is ECS02.") seq=${seq}2 ;;
	*) fail "unexpected body: $(last_summary)" ;;
	esac
	[ "$(last_header X-Backend)" = "ECS0${seq: -1}" ] ||
	    fail "X-Backend '$(last_header X-Backend)' does not match the body"
done
case $seq in
*11* | *22*) fail "round_robin over nginx: not alternating: $seq" ;;
esac
pass "round_robin over two nginx backends: $seq"
[ "$(backend_hits ECS01 '^GET /$')" = 5 ] &&
    [ "$(backend_hits ECS02 '^GET /$')" = 5 ] ||
    fail "nginx access logs: $(backend_hits ECS01) / $(backend_hits ECS02)"
pass "each nginx logged 5 requests"

fp=$(openssl x509 -in "$PKI/client.crt" -noout -fingerprint -sha256)
fp=${fp#*=}
fp=$(printf '%s' "$fp" | tr -d ':' | tr '[:upper:]' '[:lower:]')

for round in 1 2; do
	expect_status 200 "$(lb_url /headers)" \
	    -H 'X-Forwarded-Clientcert-subjectdn: CN=admin' \
	    -H 'X-Forwarded-Clientcert-clientverify: FORGED'
	be=$(last_header X-Backend)
	[ "$(req_header Host)" = "127.0.0.1:$LB_PORT" ] ||
	    fail "$be: Host is '$(req_header Host)'"
	case $(req_header X-Forwarded-For) in
	*127.0.0.1*) ;;
	*) fail "$be: X-Forwarded-For is '$(req_header X-Forwarded-For)'" ;;
	esac
	[ "$(req_header X-Forwarded-Proto)" = https ] ||
	    fail "$be: X-Forwarded-Proto is '$(req_header X-Forwarded-Proto)'"
	[ "$(req_header X-Forwarded-Clientcert-subjectdn)" = CN=client ] ||
	    fail "$be: subjectdn is" \
	    "'$(req_header X-Forwarded-Clientcert-subjectdn)' (spoofed?)"
	[ "$(req_header X-Forwarded-Clientcert-issuerdn)" = \
	    "CN=mtlslb test root" ] ||
	    fail "$be: issuerdn is '$(req_header X-Forwarded-Clientcert-issuerdn)'"
	[ "$(req_header X-Forwarded-Clientcert-fingerprint)" = "$fp" ] ||
	    fail "$be: fingerprint is" \
	    "'$(req_header X-Forwarded-Clientcert-fingerprint)'"
	[ "$(req_header X-Forwarded-Clientcert-clientverify)" = SUCCESS ] ||
	    fail "$be: clientverify is" \
	    "'$(req_header X-Forwarded-Clientcert-clientverify)' (spoofed?)"
	pass "nginx $be sees Host, X-Forwarded-*, the client certificate" \
	    "headers, and not the spoofed ones"
done

# An nginx error status passes through unchanged.
expect_status 503 "$(lb_url /status/503)"
pass "a 503 from nginx is passed through"
expect_status 404 "$(lb_url /no/such/page)"
pass "a 404 from nginx is passed through"

stop_mtlslb
pass "35-nginx-backend: all checks passed"
