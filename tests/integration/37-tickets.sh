#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 37-tickets: session_ticket_keys. Instances sharing the key file resume
# each other's sessions, one with another file does not; the first key
# encrypts and every key decrypts, so a key lasts two rotations; -t and a
# start refuse key files that are not keys or that everyone can read; a
# ticket never resumes a failed verdict or a verdict made under other
# trust settings.
. "$(dirname "$0")/lib.sh"

t_setup
mkpki
need_mtlslb

P1=$(free_port)
start_backend ECS01 "$P1"
SERVERS="server = ECS01 127.0.0.1:$P1"

# newkey FILE [LEN]: one random key line appended to FILE (mode 600).
newkey() {
	(umask 077 && openssl rand "${2:-80}" | openssl base64 -A >>"$1" &&
	    echo >>"$1")
}
# rotate FILE: mtlslb-certs ticket-key, a new key first, one old one kept.
rotate() {
	sh "$top_srcdir/scripts/mtlslb-certs" ticket-key "$1" >"$T/certs.out" \
	    2>&1 || fail "mtlslb-certs ticket-key $1: $(cat "$T/certs.out")"
	[ "$(stat -c %a "$1")" = 600 ] || fail "$1: mode $(stat -c %a "$1")"
	[ "$(grep -c . "$1")" -le 2 ] || fail "$1: more than two keys"
}

sclient() {
	tls_resume "$@"
}

# start_lb NAME KEYFILE [more listener lines]: an instance on a new port;
# sets PORT_NAME and PID_NAME.
start_lb() {
	local name=$1 keys=$2
	LB_PORT=$(free_port)
	WORKERS=2 LISTENER_EXTRA="session_ticket_keys = $keys
${3:-}" std_config "$T/$name.ini"
	start_mtlslb "$T/$name.ini"
	printf -v "PORT_$name" '%s' "$MTLSLB_PORT"
	printf -v "PID_$name" '%s' "$MTLSLB_PID"
}
reload_lb() {
	local pid_var=PID_$1
	log_mark
	kill -HUP "${!pid_var}"
	wait_mtlslb_log 'configuration reloaded' 30 ||
	    fail "$1: no reload after HUP: $(mtlslb_log_since | tail -n 3)"
}

rotate "$T/k1"		# creates it
newkey "$T/k2"
GLOBAL_EXTRA="reload_on_change = on" start_lb A "$T/k1"
start_lb B "$T/k1"
start_lb C "$T/k2"

[ "$(sclient "$PORT_A" a1)" = New ] || fail "a1: $(head -c 600 "$T/a1.out")"
[ "$(sclient "$PORT_A" a2 a1)" = Reused ] ||
    fail "A did not resume its own ticket: $(head -c 600 "$T/a2.out")"
[ "$(sclient "$PORT_B" b1 a1)" = Reused ] ||
    fail "B (same key file) did not resume A's ticket: $(head -c 600 "$T/b1.out")"
[ "$(sclient "$PORT_C" c1 a1)" = New ] ||
    fail "C (another key file) resumed A's ticket"
pass "a ticket from A resumes on B (same key file), not on C (another)"

# rotation (mtlslb-certs ticket-key): [k1' k1] still decrypts a1's
# ticket; [k1'' k1'] no longer does
# A watches its files (reload_on_change): a rotation reloads it
rotated() {
	log_mark
	rotate "$T/k1"
	wait_mtlslb_log 'reload_on_change: a watched file changed' 60 ||
	    fail "A did not notice the rotated key file"
	wait_mtlslb_log 'configuration reloaded' 60 || fail "A did not reload"
}
rotated
[ "$(sclient "$PORT_A" r1 a1)" = Reused ] ||
    fail "one rotation: the old key no longer decrypts"
rotated
[ "$(sclient "$PORT_A" r2 a1)" = New ] ||
    fail "two rotations: the rotated-out key still decrypts"
[ "$(sclient "$PORT_A" r3 r2)" = Reused ] ||
    fail "after two rotations: a new ticket does not resume"
pass "a key decrypts until it has been rotated out twice (reload_on_change)"

# a failed verdict is never resumed (http_400 mode: the ticket is issued)
[ "$(CERT=other sclient "$PORT_A" f1)" = New ] || fail "f1"
grep -q '^HTTP/1.1 400 ' "$T/f1.out" || fail "unknown CA: no 400"
[ "$(CERT=other sclient "$PORT_A" f2 f1)" = New ] ||
    fail "a ticket of a failed verification was resumed"
grep -q '^HTTP/1.1 400 ' "$T/f2.out" || fail "unknown CA, again: no 400"
pass "a ticket of a failed verification is not resumed (400 again)"

# a reload adding a CRL that revokes the client: full handshake, 400
[ "$(CERT=revoked sclient "$PORT_B" v1)" = New ] || fail "v1"
grep -q '^HTTP/1.1 200 ' "$T/v1.out" || fail "revoked before the CRL: no 200"
WORKERS=2 CRL=$PKI/crl.pem LB_PORT=$PORT_B \
    LISTENER_EXTRA="session_ticket_keys = $T/k2" std_config "$T/B.ini"
sed -i "s|session_ticket_keys = $T/k2|session_ticket_keys = $T/k1|" "$T/B.ini"
reload_lb B
[ "$(CERT=revoked sclient "$PORT_B" v2 v1)" = New ] ||
    fail "a ticket from before the CRL was resumed"
grep -q '^HTTP/1.1 400 ' "$T/v2.out" || fail "revoked after the CRL: no 400"
pass "a reload adding a CRL: the revoked client's ticket is not resumed (400)"

# -t and start refuse bad key files
printf 'not a key\n' >"$T/bad"
chmod 600 "$T/bad"
LB_PORT=$(free_port)
LISTENER_EXTRA="session_ticket_keys = $T/bad" std_config "$T/bad.ini"
out=$("$MTLSLB_BIN" -t -c "$T/bad.ini" 2>&1) && fail "-t accepted a bad key file"
case $out in
*"bad.ini:"*"session_ticket_keys: '$T/bad' line 1 is not a key"*"mtlslb-certs ticket-key"*) ;;
*) fail "-t on a bad key file said: $out" ;;
esac
openssl rand 32 | openssl base64 -A >"$T/short"
sed -i "s|$T/bad|$T/short|" "$T/bad.ini"
chmod 600 "$T/short"
out=$("$MTLSLB_BIN" -t -c "$T/bad.ini" 2>&1) && fail "-t accepted a 32-byte key"
case $out in
*"line 1 is not a key (32 bytes)"*) ;;
*) fail "-t on a short key said: $out" ;;
esac
cp "$T/k2" "$T/open"
chmod 644 "$T/open"
sed -i "s|$T/short|$T/open|" "$T/bad.ini"
out=$("$MTLSLB_BIN" -t -c "$T/bad.ini" 2>&1) &&
    fail "-t accepted a world-readable key file"
case $out in
*"can be read or written by every user (mode 0644)"*"chmod 600"*) ;;
*) fail "-t on a world-readable key file said: $out" ;;
esac
: >"$T/empty"
chmod 600 "$T/empty"
sed -i "s|$T/open|$T/empty|" "$T/bad.ini"
out=$("$MTLSLB_BIN" -t -c "$T/bad.ini" 2>&1) && fail "-t accepted an empty key file"
case $out in
*"holds no key"*) ;;
*) fail "-t on an empty key file said: $out" ;;
esac
# a 48-byte key and comments are fine
{ echo "# rotated 2026-12-07"; newkey /dev/stdout 48; } >"$T/k48"
chmod 600 "$T/k48"
sed -i "s|$T/empty|$T/k48|" "$T/bad.ini"
"$MTLSLB_BIN" -t -c "$T/bad.ini" >"$T/t.out" 2>&1 ||
    fail "-t refused a 48-byte key: $(cat "$T/t.out")"
pass "-t: not base64, wrong size, world-readable and empty key files are errors"
