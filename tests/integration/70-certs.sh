#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 70-certs: scripts/mtlslb-certs. Every subcommand (init-ca, server,
# client --p12, revoke, crl, list, check, -v); its certificates work end to
# end with mtlslb and curl; revoke + crl + SIGHUP turns one client away with
# the certificate-error page while another still gets through; check
# explains each classic mistake (made here with plain openssl), and says a
# certificate verifies only when mtlslb would accept it (not an md5 one);
# it refuses to overwrite keys; -h and --help print the usage on stdout and
# exit 0, an unknown option prints it on stderr and exits 2. Runs the
# script with dash when there is one.
. "$(dirname "$0")/lib.sh"

t_setup
need_mtlslb
CERTS_SH=${MTLSLB_CERTS:-$top_srcdir/scripts/mtlslb-certs}
[ -r "$CERTS_SH" ] || harness_error "no $CERTS_SH"
SH='sh'
command -v dash >/dev/null 2>&1 && SH=dash

PKI=$T/pki
BAD=$T/bad
mkdir -p "$BAD"

# certs ARG...: mtlslb-certs -d $PKI, output in $T/certs.out; status in RC.
certs() {
	RC=0
	(cd "$T" && "$SH" "$CERTS_SH" -d "$PKI" "$@") >"$T/certs.out" 2>&1 ||
	    RC=$?
}

# certs_ok ARG...: certs, which must succeed.
certs_ok() {
	certs "$@"
	[ "$RC" -eq 0 ] || fail "mtlslb-certs $*: exit $RC: $(cat "$T/certs.out")"
}

# certs_fail PATTERN ARG...: certs, which must fail saying PATTERN (ERE).
certs_fail() {
	local re=$1
	shift
	certs "$@"
	[ "$RC" -ne 0 ] || fail "mtlslb-certs $*: succeeded, expected a failure"
	grep -Eq -- "$re" "$T/certs.out" ||
	    fail "mtlslb-certs $*: output lacks /$re/: $(cat "$T/certs.out")"
}

# out_has ERE: the last mtlslb-certs output matches ERE.
out_has() {
	grep -Eq -- "$1" "$T/certs.out" ||
	    fail "expected /$1/ in: $(cat "$T/certs.out")"
}

mode_of() {
	stat -c %a "$1"
}

text_of() {
	openssl x509 -in "$1" -noout -text
}

# --- usage -----------------------------------------------------------------
# usage_run WANT_RC ARG...: the script's stdout in $T/u.out, stderr in
# $T/u.err, and its exit status must be WANT_RC.
usage_run() {
	local want=$1 rc=0
	shift
	(cd "$T" && "$SH" "$CERTS_SH" "$@") >"$T/u.out" 2>"$T/u.err" || rc=$?
	[ "$rc" = "$want" ] || fail "mtlslb-certs $*: exit $rc, expected $want" \
	    "(stdout: $(head -c 200 "$T/u.out"); stderr: $(head -c 200 "$T/u.err"))"
}
for a in --help -h "-d $T/nowhere --help" "client --help" "check -h"; do
	# shellcheck disable=SC2086 # split on purpose
	usage_run 0 $a
	grep -q '^usage: mtlslb-certs ' "$T/u.out" ||
	    fail "mtlslb-certs $a: no usage on stdout: $(cat "$T/u.out")"
	[ ! -s "$T/u.err" ] || fail "mtlslb-certs $a: stderr: $(cat "$T/u.err")"
done
[ ! -e "$T/nowhere" ] || fail "mtlslb-certs -d DIR --help made DIR"
for a in --bogus -x; do
	usage_run 2 "$a"
	grep -q "unknown option '$a'" "$T/u.err" ||
	    fail "mtlslb-certs $a: stderr does not name it: $(cat "$T/u.err")"
	grep -q '^usage: mtlslb-certs ' "$T/u.err" ||
	    fail "mtlslb-certs $a: no usage on stderr: $(cat "$T/u.err")"
	[ ! -s "$T/u.out" ] || fail "mtlslb-certs $a: stdout: $(cat "$T/u.out")"
done
pass "--help, -h (also after -d DIR and a command): usage on stdout, exit 0;" \
    "--bogus, -x: usage on stderr, exit 2"

# --- init-ca ---------------------------------------------------------------
certs_ok -v init-ca --cn "mtlslb test CA"
for f in root.crt root.key crl.pem ca/index.txt ca/serial ca/crlnumber \
    ca/openssl.cnf; do
	[ -s "$PKI/$f" ] || [ "$f" = ca/index.txt ] ||
	    fail "init-ca did not write $f"
	[ -e "$PKI/$f" ] || fail "init-ca did not write $f"
done
[ "$(mode_of "$PKI/root.key")" = 600 ] || fail "root.key is not mode 600"
text_of "$PKI/root.crt" >"$T/root.txt"
grep -A1 'Basic Constraints: critical' "$T/root.txt" | grep -q 'CA:TRUE' ||
    fail "root.crt lacks a critical basicConstraints CA:TRUE"
grep -A1 'Key Usage: critical' "$T/root.txt" |
    grep -q 'Certificate Sign, CRL Sign' || fail "root.crt keyUsage is wrong"
grep -q 'ASN1 OID: prime256v1' "$T/root.txt" || fail "root.crt is not P-256"
grep -q 'Signature Algorithm: ecdsa-with-SHA256' "$T/root.txt" ||
    fail "root.crt is not signed with SHA-256"
openssl crl -in "$PKI/crl.pem" -noout || fail "crl.pem does not parse"
out_has '^\+ openssl req -x509 '
pass "init-ca: P-256 root with CA:TRUE, keyCertSign/cRLSign, database, CRL; -v shows the commands"

sum=$(sha256_of "$PKI/root.key")
certs_fail 'refusing to overwrite' init-ca
[ "$(sha256_of "$PKI/root.key")" = "$sum" ] || fail "init-ca replaced root.key"
pass "init-ca refuses to overwrite an existing CA"

(cd "$T" && "$SH" "$CERTS_SH" -d "$T/rsaca" init-ca --rsa 4096 --cn rsa-ca) \
    >/dev/null 2>&1 || fail "init-ca --rsa 4096 failed"
text_of "$T/rsaca/root.crt" | grep -q 'Public-Key: (4096 bit)' ||
    fail "init-ca --rsa 4096 did not make a 4096-bit key"
pass "init-ca --rsa 4096"

# --- server -----------------------------------------------------------------
certs_fail 'san is required' server localhost
[ ! -e "$PKI/localhost.key" ] || fail "server without --san left a key"
certs_ok server localhost --san DNS:localhost,IP:127.0.0.1
text_of "$PKI/localhost.crt" >"$T/server.txt"
grep -A1 'Extended Key Usage' "$T/server.txt" |
    grep -q 'TLS Web Server Authentication' || fail "server: no serverAuth"
grep -A1 'Subject Alternative Name' "$T/server.txt" |
    grep -q 'DNS:localhost, IP Address:127.0.0.1' || fail "server: SAN wrong"
grep -A1 'Basic Constraints: critical' "$T/server.txt" | grep -q 'CA:FALSE' ||
    fail "server: not CA:FALSE"
cat "$PKI/localhost.crt" "$PKI/root.crt" | cmp -s - "$PKI/localhost.fullchain.crt" ||
    fail "server: fullchain is not leaf + root"
[ "$(mode_of "$PKI/localhost.key")" = 600 ] || fail "server key not mode 600"
certs_fail 'refusing to overwrite' server localhost --san DNS:localhost
pass "server: refuses without a SAN; serverAuth, SAN, fullchain, key 600; no overwrite"

# --- client -----------------------------------------------------------------
certs_ok client client --p12
pw=$(sed -n 's/.*its import password (also in .*): //p' "$T/certs.out")
[ -n "$pw" ] || fail "client --p12 printed no password: $(cat "$T/certs.out")"
[ "$pw" = "$(cat "$PKI/client.p12.pass")" ] ||
    fail "the printed password differs from client.p12.pass"
for f in client.key client.p12.pass client.p12 client-legacy.p12; do
	[ "$(mode_of "$PKI/$f")" = 600 ] || fail "$f is not mode 600"
done
grep -A1 'Extended Key Usage' <(text_of "$PKI/client.crt") |
    grep -q 'TLS Web Client Authentication' || fail "client: no clientAuth"
openssl pkcs12 -info -noout -in "$PKI/client.p12" \
    -passin "file:$PKI/client.p12.pass" >"$T/p12.info" 2>&1 ||
    fail "client.p12 does not open: $(cat "$T/p12.info")"
grep -q 'PBES2, PBKDF2, AES-256-CBC' "$T/p12.info" ||
    fail "client.p12 is not AES-256/PBKDF2: $(cat "$T/p12.info")"
grep -q 'MAC: sha256' "$T/p12.info" || fail "client.p12 MAC is not sha256"
openssl pkcs12 -info -noout -in "$PKI/client-legacy.p12" \
    -passin "file:$PKI/client.p12.pass" >"$T/p12l.info" 2>&1 ||
    fail "client-legacy.p12 does not open: $(cat "$T/p12l.info")"
grep -q 'pbeWithSHA1And3-KeyTripleDES-CBC' "$T/p12l.info" ||
    fail "client-legacy.p12 is not 3DES: $(cat "$T/p12l.info")"
grep -q 'MAC: sha1' "$T/p12l.info" || fail "client-legacy.p12 MAC is not sha1"
pass "client --p12: clientAuth, p12 (AES-256/PBKDF2/SHA-256) and legacy p12 (3DES/SHA-1) open, password printed and kept 600"

printf 'correct horse\n' >"$T/pw"
certs_ok client client2 --password-file "$T/pw"
openssl pkcs12 -info -noout -in "$PKI/client2.p12" -passin "file:$T/pw" \
    >/dev/null 2>&1 || fail "client2.p12 does not open with --password-file"
[ ! -e "$PKI/client2.p12.pass" ] || fail "--password-file wrote a .pass"
certs_ok client other
certs_fail 'refusing to overwrite' client client --p12
certs_fail 'same CN' -d "$T/rsaca" client rsa-ca
pass "client --password-file; refuses to overwrite; refuses the CA's CN"

# --- end to end with mtlslb and curl ----------------------------------------
P1=$(free_port)
P2=$(free_port)
start_backend ECS01 "$P1"
start_backend ECS02 "$P2"
SERVERS="server = ECS01 127.0.0.1:$P1
server = ECS02 127.0.0.1:$P2"
CONF=$T/lb.ini
SERVER_CERT=$PKI/localhost.fullchain.crt SERVER_KEY=$PKI/localhost.key \
    CRL=$PKI/crl.pem restart_mtlslb "$CONF"
"$MTLSLB_BIN" -t -c "$CONF" >"$T/t.out" 2>&1 ||
    fail "mtlslb -t rejects the mtlslb-certs PKI: $(cat "$T/t.out")"

# get_as IDENT: curl https://localhost:PORT/ as the way a user types it.
get_as() {
	rm -f "$T/last.body"
	local a=(-sS --max-time "$CURL_TIMEOUT" --cacert "$PKI/root.crt"
	    -o "$T/last.body" -w '%{http_code}')
	[ "$1" = none ] || a+=(--cert "$PKI/$1.crt" --key "$PKI/$1.key")
	HTTP_CODE=$(curl "${a[@]}" "https://localhost:$MTLSLB_PORT/" \
	    2>"$T/last.err") || HTTP_CODE=000
	touch "$T/last.body"
}
seen=
for i in 1 2; do
	get_as client
	[ "$HTTP_CODE" = 200 ] ||
	    fail "client via https://localhost: HTTP $HTTP_CODE $(cat "$T/last.err")"
	seen="$seen $(grep -o 'ECS0[12]' "$T/last.body")"
done
[ "$seen" = " ECS01 ECS02" ] || [ "$seen" = " ECS02 ECS01" ] ||
    fail "expected ECS01 and ECS02 in turn, got:$seen"
get_as client2
[ "$HTTP_CODE" = 200 ] || fail "client2: HTTP $HTTP_CODE"
get_as none
if [ "$HTTP_CODE" != 400 ] || ! last_body_contains 'No required SSL certificate'; then
	fail "no certificate: HTTP $HTTP_CODE"
fi
pass "curl --cert/--key/--cacert https://localhost: 200 from ECS01 and ECS02; no cert: 400"

# --- revoke, crl, reload ----------------------------------------------------
crlno=$(cat "$PKI/ca/crlnumber")
certs_ok revoke client2 --reason keyCompromise
serial=$(openssl x509 -in "$PKI/client2.crt" -noout -serial | cut -d= -f2)
openssl crl -in "$PKI/crl.pem" -noout -text | grep -q "Serial Number: $serial" ||
    fail "crl.pem does not list client2 ($serial)"
certs_fail 'no valid certificate' revoke client2
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded' 10 ||
    fail "no 'configuration reloaded' after SIGHUP"
ok=no
for ((i = 0; i < 30; i++)); do
	get_as client2
	if [ "$HTTP_CODE" = 400 ]; then
		ok=yes
		break
	fi
	sleep 0.2
done
[ "$ok" = yes ] || fail "revoked client2 after reload: HTTP $HTTP_CODE"
last_body_contains '<title>400 The SSL certificate error</title>' ||
    fail "revoked client2: not the certificate-error page"
wait_mtlslb_log 'client certificate rejected: certificate revoked \(23\): subject=CN=client2' ||
    fail "no 'certificate revoked (23)' log line"
get_as client
[ "$HTTP_CODE" = 200 ] || fail "client after client2's revocation: $HTTP_CODE"
pass "revoke + SIGHUP: client2 gets '400 The SSL certificate error' (certificate revoked (23) logged), client still 200"

certs_ok crl --days 2
[ "$(cat "$PKI/ca/crlnumber")" -gt "$crlno" ] || fail "crlnumber did not grow"
next=$(openssl crl -in "$PKI/crl.pem" -noout -nextupdate | cut -d= -f2)
d=$(($(date -u -d "$next" +%s) - $(date -u +%s)))
if [ "$d" -le 86400 ] || [ "$d" -gt 172800 ]; then
	fail "crl --days 2: nextUpdate $next"
fi
openssl crl -in "$PKI/crl.pem" -noout -text | grep -q "Serial Number: $serial" ||
    fail "a regenerated CRL lost client2"
pass "crl --days 2: fresh CRL, still revoking client2"

# --- list, with an expired certificate issued by plain openssl ca ----------
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
    -keyout "$PKI/expired.key" -subj /CN=expired -out "$T/expired.csr" \
    >/dev/null 2>&1 || harness_error "req for expired"
(cd "$PKI" && openssl ca -batch -notext -config ca/openssl.cnf \
    -extensions ext_client -startdate 20200101000000Z \
    -enddate 20210101000000Z -in "$T/expired.csr" -out expired.crt) \
    >"$T/ca.out" 2>&1 || harness_error "openssl ca for expired: $(cat "$T/ca.out")"
certs_ok list
out_has '^V +[0-9-]+ [0-9:]+ +localhost '
out_has '^V +[0-9-]+ [0-9:]+ +client '
out_has '^R +[0-9-]+ [0-9:]+ +client2 .*revoked .*keyCompromise'
out_has '^E +2021-01-01 00:00 +expired '
pass "list: V, R (with reason), E with expiry"

get_as expired
[ "$HTTP_CODE" = 400 ] || fail "expired: HTTP $HTTP_CODE"
wait_mtlslb_log 'client certificate rejected: certificate has expired \(10\): subject=CN=expired' ||
    fail "no 'certificate has expired (10)' log line"
pass "an expired client: 400, 'certificate has expired (10)' logged"

# --- check ------------------------------------------------------------------
certs_ok check "$PKI/root.crt" "$PKI/client.crt" "$PKI/client.key" \
    "$PKI/localhost.crt" "$PKI/crl.pem"
out_has 'no problems found'
certs_ok check "$PKI/localhost.fullchain.crt" "$PKI/localhost.key"
pass "check: a good CA, client, key, server and CRL pass"

cnf=$T/bad.cnf
cat >"$cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ noext ]
subjectKeyIdentifier = none
[ ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[ cli ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
[ ca_noid ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ cli_noid ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectKeyIdentifier = none
authorityKeyIdentifier = none
[ srvonly ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
[ nosan ]
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
EOF
# o ARG...: plain openssl for the bad inputs; fails the harness if it does.
o() {
	openssl "$@" >"$T/o.out" 2>&1 ||
	    harness_error "openssl $*: $(cat "$T/o.out")"
}
cd "$BAD"
# An RSA CA for the RSA cases, then md5 on an RSA-1024 key, and sha1.
o req -x509 -config "$cnf" -extensions ca -newkey rsa:2048 -noenc \
    -keyout rsaca.key -subj /CN=rsaca -sha256 -days 30 -out rsaca.crt
o req -new -config "$cnf" -newkey rsa:1024 -noenc -keyout md5.key \
    -subj /CN=md5 -out md5.csr
o x509 -req -in md5.csr -CA rsaca.crt -CAkey rsaca.key -md5 -days 30 \
    -extfile "$cnf" -extensions cli -out md5.crt
o req -new -config "$cnf" -newkey rsa:2048 -noenc -keyout md5ok.key \
    -subj /CN=md5ok -out md5ok.csr
o x509 -req -in md5ok.csr -CA rsaca.crt -CAkey rsaca.key -md5 -days 30 \
    -extfile "$cnf" -extensions cli -out md5ok.crt
o x509 -req -in md5ok.csr -CA rsaca.crt -CAkey rsaca.key -sha256 -days 30 \
    -extfile "$cnf" -extensions cli -out sha256ok.crt
o req -new -config "$cnf" -newkey rsa:2048 -noenc -keyout sha1.key \
    -subj /CN=sha1 -out sha1.csr
o x509 -req -in sha1.csr -CA rsaca.crt -CAkey rsaca.key -sha1 -days 30 \
    -extfile "$cnf" -extensions cli -out sha1.crt
# A CA without basicConstraints, and a client it issued.
o req -x509 -config "$cnf" -extensions noext -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout nobc.key -subj /CN=nobc \
    -days 30 -out nobc.crt
o req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -noenc -keyout nobc-client.key -subj /CN=nobc-client -out nobc-client.csr
o x509 -req -in nobc-client.csr -CA nobc.crt -CAkey nobc.key -days 30 \
    -extfile "$cnf" -extensions cli -out nobc-client.crt
# The CA's CN equal to the client's, without key identifiers as old
# guides made them (then the client looks self-signed), and with them.
o req -x509 -config "$cnf" -extensions ca_noid -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout sameca.key \
    -subj /CN=alice -days 30 -out sameca.crt
o req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -noenc -keyout alice.key -subj /CN=alice -out alice.csr
o x509 -req -in alice.csr -CA sameca.crt -CAkey sameca.key -days 30 \
    -extfile "$cnf" -extensions cli_noid -out alice.crt
o x509 -req -in alice.csr -CA sameca.crt -CAkey sameca.key -days 30 \
    -extfile "$cnf" -extensions cli -out alice-keyid.crt
# A "client" certificate without clientAuth (serverAuth only, no SAN).
o req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -noenc -keyout noeku.key -subj /CN=noeku -out noeku.csr
o x509 -req -in noeku.csr -CA "$PKI/root.crt" -CAkey "$PKI/root.key" \
    -days 30 -extfile "$cnf" -extensions srvonly -out noeku.crt
# A server certificate without a SAN; one without serverAuth.
o x509 -req -in noeku.csr -CA "$PKI/root.crt" -CAkey "$PKI/root.key" \
    -days 30 -extfile "$cnf" -extensions nosan -out nosan.crt
o x509 -req -in noeku.csr -CA "$PKI/root.crt" -CAkey "$PKI/root.key" \
    -days 30 -extfile <(printf 'extendedKeyUsage = clientAuth\nsubjectAltName = DNS:localhost\n') \
    -out nosrv.crt
# Expired (x509 -days is relative; use an openssl ca range above), and a
# certificate not yet valid.
o req -new -config "$cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -noenc -keyout future.key -subj /CN=future -out future.csr
(cd "$PKI" && openssl ca -batch -notext -config ca/openssl.cnf \
    -extensions ext_client -startdate 20990101000000Z \
    -enddate 20991231000000Z -in "$BAD/future.csr" -out "$BAD/future.crt") \
    >"$T/ca.out" 2>&1 || harness_error "future: $(cat "$T/ca.out")"
# An expired CRL.
(cd "$PKI" && openssl ca -batch -config ca/openssl.cnf -gencrl \
    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
    -out "$BAD/crl-expired.pem") >"$T/ca.out" 2>&1 ||
    harness_error "expired CRL: $(cat "$T/ca.out")"
# DER versions, and an encrypted key.
o x509 -in "$PKI/client.crt" -outform DER -out client.der
o crl -in "$PKI/crl.pem" -outform DER -out crl.der
o pkey -in "$PKI/client.key" -aes256 -passout pass:secret -out enc.key
cd "$T"

# check_says WHAT PATTERN FILE...: check fails and explains with PATTERN.
check_says() {
	local what=$1 re=$2
	shift 2
	certs check "$@"
	[ "$RC" -eq 1 ] || fail "check $what: exit $RC: $(cat "$T/certs.out")"
	grep -Eq -- "$re" "$T/certs.out" ||
	    fail "check $what: lacks /$re/: $(cat "$T/certs.out")"
	grep -q '  fix: ' "$T/certs.out" ||
	    fail "check $what: no 'fix:' line: $(cat "$T/certs.out")"
	pass "check: $what"
}

check_says "md5 signature" \
    'md5.crt: error: .*signed with md5WithRSAEncryption.*too weak' "$BAD/md5.crt"
check_says "RSA-1024" 'md5.crt: error: .*1024-bit RSA key' "$BAD/md5.crt"
check_says "RSA-1024 key file" 'md5.key: error: a 1024-bit RSA key' \
    "$BAD/md5.key"
# md5 on an otherwise good client (RSA-2048, clientAuth), with its CA:
# "too weak", and never "verifies against the CA(s) given" (plain
# openssl verify checks no security level and said OK).
check_says "md5 signature, verified against its CA" \
    "md5ok.crt: error: 'CN=md5ok' does not verify against the CA\\(s\\) given: .*too weak \\(68\\)" \
    "$BAD/rsaca.crt" "$BAD/md5ok.crt"
grep -q 'md5ok.crt: error: .*signed with md5WithRSAEncryption' "$T/certs.out" ||
    fail "check md5ok: no 'signed with md5' error: $(cat "$T/certs.out")"
if grep -q 'verifies against' "$T/certs.out"; then
	fail "check md5ok: claims it verifies: $(cat "$T/certs.out")"
fi
certs_ok check "$BAD/rsaca.crt" "$BAD/sha256ok.crt"
out_has "sha256ok.crt: info: 'CN=md5ok' verifies against the CA\\(s\\) given\$"
pass "check: an md5-signed client does not 'verify against the CA(s) given';" \
    "the same one signed with sha256 does"
check_says "sha1 signature" \
    'sha1.crt: error: .*signed with sha1WithRSAEncryption' "$BAD/sha1.crt"
check_says "CA without basicConstraints" \
    'nobc.crt: error: .*used as a CA but has no basicConstraints CA:TRUE' \
    "$BAD/nobc.crt" "$BAD/nobc-client.crt"
check_says "CA without basicConstraints, alone (--ca)" \
    'no basicConstraints CA:TRUE' --ca "$BAD/nobc.crt"
check_says "CA CN equal to the client CN" \
    'alice.crt: error: .*same name \(CN\) as the client' "$BAD/alice.crt"
check_says "CA CN equal to the client CN, with the CA" \
    'same name \(CN\) as the client' "$BAD/sameca.crt" "$BAD/alice.crt"
certs check "$BAD/alice-keyid.crt"
grep -q 'alice-keyid.crt: warning: .*same name (CN) as the client' \
    "$T/certs.out" || fail "check alice-keyid: $(cat "$T/certs.out")"
pass "check: same CN but told apart by key identifiers: a warning"
check_says "client certificate without clientAuth" \
    'noeku.crt: error: .*lacks clientAuth.*unsuitable certificate purpose' \
    --client "$BAD/noeku.crt"
check_says "client without clientAuth, verified against its CA" \
    'noeku.crt: error: .*unsuitable certificate purpose \(26\)' \
    --client "$PKI/root.crt" "$BAD/noeku.crt"
check_says "server certificate without a SAN" \
    'nosan.crt: error: .*no subjectAltName' "$BAD/nosan.crt"
check_says "server certificate without serverAuth" \
    'nosrv.crt: error: .*lacks serverAuth' --server "$BAD/nosrv.crt"
check_says "key/certificate mismatch" \
    'client.key: error: this private key belongs to none' \
    "$PKI/localhost.crt" "$PKI/client.key"
check_says "expired certificate" \
    'expired.crt: error: .*expired on Jan  1 00:00:00 2021 GMT.*certificate has expired \(10\)' \
    "$PKI/expired.crt"
check_says "not yet valid certificate" \
    'future.crt: error: .*not valid before.*2099' "$BAD/future.crt"
check_says "CRL past nextUpdate" \
    'crl-expired.pem: error: CRL from .* expired on .*2020.*CRL has expired' \
    "$BAD/crl-expired.pem"
check_says "DER certificate" \
    'client.der: error: a DER \(binary\) certificate.*' "$BAD/client.der"
grep -qF "fix: openssl x509 -inform DER -in $BAD/client.der -out $BAD/client.pem" \
    "$T/certs.out" || fail "check DER: no conversion command: $(cat "$T/certs.out")"
check_says "DER CRL" 'crl.der: error: a DER \(binary\) CRL' "$BAD/crl.der"
check_says "PKCS#12 given as a PEM" 'client.p12: error: a PKCS#12 bundle' \
    "$PKI/client.p12"
check_says "encrypted key" 'enc.key: error: an encrypted' "$BAD/enc.key"
check_says "revoked client, with the CA and CRL" \
    'client2.crt: error: .*certificate revoked \(23\)' \
    "$PKI/root.crt" "$PKI/crl.pem" "$PKI/client2.crt"

# --- mtlslb's own verdict on two of them, as a user sees it -----------------
cat "$PKI/root.crt" "$BAD/nobc.crt" "$BAD/sameca.crt" >"$T/bundle.crt"
CA=$T/bundle.crt SERVER_CERT=$PKI/localhost.fullchain.crt \
    SERVER_KEY=$PKI/localhost.key restart_mtlslb "$CONF"
http_get "$(lb_url /)" --cert "$BAD/nobc-client.crt" --key "$BAD/nobc-client.key"
[ "$HTTP_CODE" = 400 ] || fail "client of a CA without CA:TRUE: $HTTP_CODE"
http_get "$(lb_url /)" --cert "$BAD/noeku.crt" --key "$BAD/noeku.key"
[ "$HTTP_CODE" = 400 ] || fail "client without clientAuth: $HTTP_CODE"
wait_mtlslb_log 'rejected: unsuitable certificate purpose \(26\): subject=CN=noeku' ||
    fail "no 'unsuitable certificate purpose (26)' log line"
http_get "$(lb_url /)" --cert "$BAD/alice.crt" --key "$BAD/alice.key"
[ "$HTTP_CODE" = 400 ] || fail "client with its CA's CN: $HTTP_CODE"
wait_mtlslb_log 'rejected: self-signed certificate \(18\): subject=CN=alice issuer=CN=alice' ||
    fail "no 'self-signed certificate (18)' log line for CN=alice"
wait_mtlslb_log 'rejected: invalid CA certificate \(79\): subject=CN=nobc-client' ||
    fail "no log line for the client of a CA without CA:TRUE"
pass "mtlslb rejects what check flags: no clientAuth (26), CA without CA:TRUE (79), CA CN = client CN (18)"

stop_mtlslb 15
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited $MTLSLB_STATUS on TERM"
pass "mtlslb stopped cleanly"
