#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 47-client-cert-formats: forward_client_cert = alibaba, rfc9440, xfcc,
# aws. Each family is checked byte for byte at the test backend against
# what openssl says of the certificate curl sent (Client-Cert decoded back
# to that DER, the chain to the intermediate curl sent); spoofed copies of
# every family, in any spelling, never reach the backend, in headers
# (removed) or in chunked trailers (the request is refused); no family
# but alibaba's clientverify is sent without a certificate; resumed
# connections forward the same headers.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb
need_cmd python3
RAWTLS="python3 $top_srcdir/tests/helpers/rawtls.py"

# A leaf from the intermediate with URI and DNS SANs and a DN that needs
# escaping; curl sends it with the intermediate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$PKI/svc.key" -subj "/O=Example, Inc./CN=svc" \
    -addext "extendedKeyUsage=clientAuth" \
    -addext "subjectAltName=URI:spiffe://example.org/ns/prod/sa/web,DNS:web.svc.example.com,DNS:alt.example.com" \
    -out "$T/svc.csr" >>"$T/openssl.log" 2>&1 &&
openssl x509 -req -in "$T/svc.csr" -CA "$PKI/inter.crt" \
    -CAkey "$PKI/inter.key" -set_serial 0x0A1B2C3D4E5F -days 30 -sha256 \
    -copy_extensions copyall -out "$PKI/svc.crt" >>"$T/openssl.log" 2>&1 ||
    harness_error "svc certificate: $(tail -n 5 "$T/openssl.log")"
cat "$PKI/svc.crt" "$PKI/inter.crt" >"$PKI/svc-chain.crt"

P1=$(free_port)
start_backend ECS01 "$P1"
LB_PORT=$(free_port)
LB2=$(free_port)
LB3=$(free_port)
CONF=$T/lb.ini
write_config "$CONF" <<EOF
[global]
workers = 2
access_log = stderr

[listener all]
bind = 127.0.0.1:$LB_PORT
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
mutual_authentication = optional
server_group = default
forward_client_cert = alibaba, rfc9440, xfcc, aws

[listener off]
bind = 127.0.0.1:$LB2
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
server_group = default
forward_client_cert = off

[listener aws]
bind = 127.0.0.1:$LB3
server_certificate = $PKI/server.crt
server_private_key = $PKI/server.key
ca_certificate = $PKI/root.crt
server_group = default
forward_client_cert = aws

[server_group default]
server = ECS01 127.0.0.1:$P1
health_check = off
EOF
log_mark
start_mtlslb "$CONF"

# get PORT OUT [curl args]: GET /headers as svc (with its chain); the
# backend's echo of the request head goes to $T/OUT.
get() {
	local port=$1 out=$2
	shift 2
	curl -sS --http1.1 --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
	    --cert "$PKI/svc-chain.crt" --key "$PKI/svc.key" "$@" \
	    -o "$T/$out" "https://127.0.0.1:$port/headers" ||
	    fail "GET /headers on $port: curl failed"
	tr -d '\r' <"$T/$out" >"$T/$out.n"
}

SPOOF=(-H 'Client-Cert: :AAAA:' -H 'Client-Cert-Chain: :AAAA:'
    -H 'client_cert: :BBBB:' -H 'X-Forwarded-Client-Cert: Hash=00'
    -H 'X_Forwarded_Client_Cert: By=x' -H 'x-forwarded-clientcert-subjectdn: CN=admin'
    -H 'X-Amzn-Mtls-Clientcert-Leaf: x' -H 'X-Amzn-Mtls-Clientcert-Subject: CN=admin'
    -H 'x_amzn_mtls_clientcert_serial_number: 01' -H 'X-Amzn-Mtls-Clientcert: x')

get "$LB_PORT" all.txt "${SPOOF[@]}"
python3 - "$T/all.txt.n" "$PKI/svc.crt" "$PKI/inter.crt" <<'PY' ||
import base64, datetime, hashlib, subprocess, sys, urllib.parse
echo, leaf, inter = sys.argv[1:4]

def ossl(*args, inp=None):
    return subprocess.run(["openssl", *args], check=True, capture_output=True,
                          input=inp).stdout

def der(path):
    return ossl("x509", "-in", path, "-outform", "DER")

heads = {}
for line in open(echo, encoding="latin-1").read().split("\n"):
    if ":" in line:
        k, v = line.split(":", 1)
        heads.setdefault(k.lower(), []).append(v.strip())
fails = []

def want(name, value):
    got = heads.get(name.lower(), [])
    if got != [value]:
        fails.append("%s: got %r, want [%r]" % (name, got, value))

leaf_der, inter_der = der(leaf), der(inter)
pem = ossl("x509", "-in", leaf).decode()
enc = urllib.parse.quote(pem, safe="")
subj = ossl("x509", "-in", leaf, "-noout", "-subject", "-nameopt",
            "RFC2253").decode().strip().split("=", 1)[1]
iss = ossl("x509", "-in", leaf, "-noout", "-issuer", "-nameopt",
           "RFC2253").decode().strip().split("=", 1)[1]
serial = ossl("x509", "-in", leaf, "-noout", "-serial").decode().strip().split("=", 1)[1]
def when(opt):
    s = ossl("x509", "-in", leaf, "-noout", opt).decode().strip().split("=", 1)[1]
    t = datetime.datetime.strptime(s, "%b %d %H:%M:%S %Y %Z")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
fp = hashlib.sha256(leaf_der).hexdigest()

# rfc9440: decoded back to the DER curl sent
cc = heads.get("client-cert", [])
if len(cc) != 1 or not (cc[0].startswith(":") and cc[0].endswith(":")):
    fails.append("Client-Cert: %r" % cc)
elif base64.b64decode(cc[0][1:-1], validate=True) != leaf_der:
    fails.append("Client-Cert does not decode to the leaf's DER")
want("Client-Cert-Chain", ":" + base64.b64encode(inter_der).decode() + ":")
# xfcc
xs = subj.replace("\\", "\\\\").replace('"', '\\"')
want("X-Forwarded-Client-Cert",
     'Hash=%s;Cert="%s";Subject="%s";URI=spiffe://example.org/ns/prod/sa/web;'
     'DNS=web.svc.example.com;DNS=alt.example.com' % (fp, enc, xs))
# aws
want("X-Amzn-Mtls-Clientcert-Serial-Number", serial)
want("X-Amzn-Mtls-Clientcert-Issuer", iss)
want("X-Amzn-Mtls-Clientcert-Subject", subj)
want("X-Amzn-Mtls-Clientcert-Validity",
     "NotBefore=%s;NotAfter=%s" % (when("-startdate"), when("-enddate")))
want("X-Amzn-Mtls-Clientcert-Leaf", enc)
# alibaba, as before
want("X-Forwarded-Clientcert-subjectdn", subj)
want("X-Forwarded-Clientcert-issuerdn", iss)
want("X-Forwarded-Clientcert-fingerprint", fp)
want("X-Forwarded-Clientcert-serialnumber", serial)
want("X-Forwarded-Clientcert-clientverify", "SUCCESS")
# no spoofed spelling survives
for k in heads:
    if "_" in k:
        fails.append("a spoofed %s reached the backend" % k)
if "x-amzn-mtls-clientcert" in heads:
    fails.append("a spoofed X-Amzn-Mtls-Clientcert reached the backend")
if subj != "CN=svc,O=Example\\, Inc.":
    fails.append("unexpected subject %r" % subj)
if fails:
    print("\n".join(fails))
    sys.exit(1)
PY
    fail "the forwarded headers differ: see the log"
pass "rfc9440 (Client-Cert decodes to the DER curl sent, Client-Cert-Chain" \
    "the intermediate), xfcc, aws and alibaba exact, spoofed copies gone"

# --- forward_client_cert = off / aws only: nothing else, nothing spoofed ----
get "$LB2" off.txt "${SPOOF[@]}"
if grep -Eiq '^(client.cert|x.forwarded.client|x.amzn|x.forwarded.clientcert)' \
    "$T/off.txt.n"; then
	fail "forward_client_cert = off: $(grep -Ei '^(client|x.amzn|x.forw)' "$T/off.txt.n")"
fi
get "$LB3" aws.txt "${SPOOF[@]}"
n=$(grep -Eic '^(client.cert|x.forwarded.client|x.forwarded.clientcert)' \
    "$T/aws.txt.n") || true
[ "$n" = 0 ] && [ "$(grep -ic '^X-Amzn-Mtls-Clientcert-' "$T/aws.txt.n")" = 5 ] ||
    fail "forward_client_cert = aws: $(grep -Ei '^(client|x.amzn|x.forw)' "$T/aws.txt.n")"
pass "off sends no family, aws only its five headers; no spoofed copy passes"

# --- without a certificate ---------------------------------------------------
curl -sS --http1.1 --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
    -o "$T/none.txt" "${SPOOF[@]}" "https://127.0.0.1:$LB_PORT/headers" ||
    fail "GET without a certificate failed"
tr -d '\r' <"$T/none.txt" >"$T/none.txt.n"
[ "$(grep -Eic '^(client.cert|x.forwarded.client.cert|x.amzn)' "$T/none.txt.n")" = 0 ] &&
    grep -qx 'X-Forwarded-Clientcert-clientverify: NONE' "$T/none.txt.n" ||
    fail "no certificate: $(grep -Ei '^(client|x.amzn|x.forw)' "$T/none.txt.n")"
pass "without a certificate: no rfc9440, xfcc or aws header, clientverify NONE"

# --- trailers ----------------------------------------------------------------
for t in 'Client-Cert: :AAAA:' 'Client-Cert-Chain: :AAAA:' \
    'X-Forwarded-Client-Cert: Hash=00' 'X-Amzn-Mtls-Clientcert-Leaf: x' \
    'X_Amzn_Mtls_Clientcert_Subject: CN=x' 'X-Forwarded-Clientcert-subjectdn: CN=x'; do
	rc=0
	$RAWTLS send "$LB_PORT" --cert "$PKI/client.crt" \
	    --key "$PKI/client.key" --ca "$PKI/root.crt" --timeout 5 \
	    "POST /upload HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n$t\r\n\r\n" \
	    >"$T/trailer.out" 2>"$T/trailer.err" || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 3 ] ||
	    harness_error "trailer: rawtls exit $rc: $(head -c 200 "$T/trailer.err")"
	grep -aq '^HTTP/1.1 400' "$T/trailer.out" ||
	    fail "trailer '$t': $(head -c 200 "$T/trailer.out")"
done
[ "$(backend_hits ECS01 'POST /upload')" = 0 ] ||
    fail "a request with a spoofed trailer reached the backend"
pass "a spoofed certificate header of any family in the trailers: 400," \
    "the backend never sees it"

# --- resumed connections forward the same certificate -----------------------
log_mark
u=()
for i in 1 2 3 4 5 6; do
	u+=(-o "$T/res$i.txt" "https://127.0.0.1:$LB_PORT/headers?i=$i")
done
curl -sS --http1.1 --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt" \
    --cert "$PKI/svc-chain.crt" --key "$PKI/svc.key" \
    -H 'Connection: close' "${u[@]}" || fail "6 connections: curl failed"
wait_mtlslb_log '"GET /headers\?i=6 ' 10 || fail "no log of the 6th request"
nr=$(mtlslb_log_since | grep -c 'tls_resumed=r ') || true
[ "$nr" -ge 4 ] || fail "only $nr of 6 connections resumed"
for i in 1 2 3 4 5 6; do
	for h in Client-Cert X-Forwarded-Client-Cert X-Amzn-Mtls-Clientcert-Leaf \
	    X-Amzn-Mtls-Clientcert-Validity; do
		full=$(tr -d '\r' <"$T/all.txt" | grep -i "^$h:")
		again=$(tr -d '\r' <"$T/res$i.txt" | grep -i "^$h:")
		[ -n "$again" ] && [ "$full" = "$again" ] ||
		    fail "connection $i: $h differs from the full handshake's"
	done
done
pass "resumed connections ($nr of 6) forward the same Client-Cert, XFCC" \
    "and AWS headers (the stored session keeps the certificate)"

stop_mtlslb
