#!/bin/bash
# fleet.sh: a fleet of three mtlslb instances behind a real L4 tier, on
# one machine, in network namespaces (root only). docs/SCALE-OUT.md says
# what it proves and how it maps onto real hosts.
#
#   scripts/fleet.sh up      build the namespaces and start everything
#   scripts/fleet.sh test    the checks (brings the fleet up and down
#                            around them unless it is already up)
#   scripts/fleet.sh bench   requests/s and handshakes/s via 1, 2, 3
#                            instances (same up/down rule)
#   scripts/fleet.sh down    stop every process by PID, delete the
#                            namespaces this script created
#   scripts/fleet.sh can     exit 0 when this machine can run it, else
#                            say why and exit 77
#
# Topology: namespace hub holds a bridge; every other namespace has one
# veth on it, in 10.77.0.0/24 (addresses that exist only in there):
#   client .10 (curl, openssl)   lb .2 (HAProxy, TCP mode, send-proxy-v2,
#   i1 .11 i2 .12 i3 .13 (mtlslb, check on /ready)   b1 .21 b2 .22 (backends)
#   nat .3, with a second link to client (10.78.0.1 <-> 10.78.0.10): the
#   nftables variant, numgen DNAT of 10.78.0.1:8444 onto the instances.
# Each instance runs from its own directory with byte-identical files
# (mtlslb.ini, certificates, CRL, session ticket keys): relative paths.
#
# Environment: MTLSLB_BUILD (a build directory with src/mtlslb and
# tests/helpers/backend; default _build/dev, else _build/check),
# FLEET_DIR (state, logs, pid files; default /tmp/mtlslb-fleet),
# FLEET_NS (namespace name prefix; default mlbf).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
FLEET_DIR=${FLEET_DIR:-/tmp/mtlslb-fleet}
NS=${FLEET_NS:-mlbf}
NET=10.77.0
NODES="client lb nat i1 i2 i3 b1 b2"
INSTANCES="i1 i2 i3"
DRAIN_DELAY=${FLEET_DRAIN_DELAY:-2s}	# 0: the drain check must fail
CURL_MAX=${CURL_MAX:-20}

declare -A IP=([lb]=$NET.2 [nat]=$NET.3 [client]=$NET.10 [i1]=$NET.11
    [i2]=$NET.12 [i3]=$NET.13 [b1]=$NET.21 [b2]=$NET.22)
declare -A PIN=([i1]=8461 [i2]=8462 [i3]=8463)	# HAProxy: one instance

die() {
	echo "fleet.sh: $*" >&2
	exit 1
}

say() {
	echo "fleet.sh: $*"
}

build_dir() {
	local d
	for d in ${MTLSLB_BUILD:-} "$top/_build/dev" "$top/_build/check"; do
		[ -x "$d/src/mtlslb" ] && [ -x "$d/tests/helpers/backend" ] &&
		    { echo "$d"; return 0; }
	done
	return 1
}

# in NODE CMD...: runs CMD in NODE's namespace.
inns() {
	local n=$1
	shift
	ip netns exec "$NS-$n" "$@"
}

# can: whether this machine lets us build the fleet; exit 77 with why.
can() {
	local t
	[ "$(id -u)" = 0 ] || { echo "fleet.sh: needs root (network namespaces)"; return 77; }
	for t in ip haproxy nft keepalived curl openssl; do
		command -v "$t" >/dev/null ||
		    { echo "fleet.sh: $t is not installed"; return 77; }
	done
	build_dir >/dev/null ||
	    { echo "fleet.sh: no build (set MTLSLB_BUILD)"; return 77; }
	ip netns add "$NS-probe" 2>/dev/null ||
	    { echo "fleet.sh: cannot create a network namespace here"; return 77; }
	if ! ip -n "$NS-probe" link add br0 type bridge 2>/dev/null ||
	    ! ip link add "$NS-pv" netns "$NS-probe" type veth peer name pv1 \
	    netns "$NS-probe" 2>/dev/null; then
		ip netns del "$NS-probe"
		echo "fleet.sh: no bridge or veth pair in a namespace here"
		return 77
	fi
	ip netns del "$NS-probe"
	return 0
}

# pid_start NAME NODE LOG CMD...: runs CMD in NODE in the background,
# output to LOG, pid in run/NAME.pid (ip netns exec execs the command, so
# the pid is the command's).
pid_start() {
	local name=$1 node=$2 log=$3
	shift 3
	ip netns exec "$NS-$node" "$@" >>"$log" 2>&1 </dev/null &
	echo $! >"$FLEET_DIR/run/$name.pid"
}

# pid_stop NAME [SECONDS]: TERM, wait, KILL; removes the pid file.
pid_stop() {
	local f=$FLEET_DIR/run/$1.pid pid i
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < ${2:-15} * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

# wait_for SECONDS CMD...: until CMD succeeds (bounded).
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

ready_ok() {
	[ "$(inns lb curl -sS --max-time 5 --cacert "$FLEET_DIR/pki/root.crt" \
	    -o /dev/null -w '%{http_code}' "https://${IP[$1]}:9443/ready")" = 200 ]
}

write_configs() {
	local d=$FLEET_DIR i
	cat >"$d/mtlslb.ini" <<EOF
; One configuration for every instance of the fleet (scripts/fleet.sh):
; paths are relative to this file, addresses are wildcards.
[global]
workers = 1
error_log = stderr
access_log = stderr
drain_delay = $DRAIN_DELAY
shutdown_timeout = 10s

; behind HAProxy: the PROXY v2 header names the client
[listener l4]
bind = 0.0.0.0:8443
accept_proxy_protocol = on
proxy_protocol_from = ${IP[lb]}
server_certificate = server.crt
server_private_key = server.key
ca_certificate = root.crt
crl = crl.pem
session_ticket_keys = ticket.keys
server_group = app

; behind nftables DNAT: the client's own address arrives
[listener direct]
bind = 0.0.0.0:8444
server_certificate = server.crt
server_private_key = server.key
ca_certificate = root.crt
crl = crl.pem
session_ticket_keys = ticket.keys
server_group = app

[server_group app]
server = b1 ${IP[b1]}:8080
server = b2 ${IP[b2]}:8080
health_check = on
health_check_interval = 2s
health_check_timeout = 1500ms
health_check_path = /status/200

[admin]
bind = 0.0.0.0:9443
server_certificate = server.crt
server_private_key = server.key
EOF
	{
		cat <<EOF
global
	log stdout format iso local0 info
	maxconn 2000

defaults
	mode tcp
	log global
	option tcplog
	timeout connect 2s
	timeout client 30s
	timeout server 30s
	# no retry, no redispatch: a refused connection is a failed request
	retries 0

frontend fleet
	bind ${IP[lb]}:8443
	default_backend fleet

backend fleet
	balance roundrobin
	option httpchk GET /ready
	http-check expect status 200
	default-server send-proxy-v2 check port 9443 check-ssl verify required ca-file $d/pki/root.crt inter 300ms fall 2 rise 2
EOF
		for i in $INSTANCES; do
			echo "	server $i ${IP[$i]}:8443"
		done
		for i in $INSTANCES; do
			cat <<EOF

# pinned to $i, for the resumption and CRL checks
frontend pin_$i
	bind ${IP[lb]}:${PIN[$i]}
	default_backend pin_$i

backend pin_$i
	server $i ${IP[$i]}:8443 send-proxy-v2
EOF
		done
		# bench: the same checked backend cut to 1 or 2 instances
		for n in 1 2; do
			cat <<EOF

frontend bench$n
	bind ${IP[lb]}:845$n
	default_backend bench$n

backend bench$n
	balance roundrobin
	option httpchk GET /ready
	http-check expect status 200
	default-server send-proxy-v2 check port 9443 check-ssl verify required ca-file $d/pki/root.crt inter 300ms fall 2 rise 2
EOF
			for i in $(echo "$INSTANCES" | cut -d' ' -f1-"$n"); do
				echo "	server $i ${IP[$i]}:8443"
			done
		done
	} >"$d/haproxy.cfg"
	cat >"$d/nat.nft" <<EOF
# recipe (b): round robin DNAT of the service address onto the instances
# (numgen; "jhash ip saddr . tcp sport mod 3" hashes instead). Conntrack
# keeps each connection on its instance and undoes the DNAT on replies.
table ip fleet {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 10.78.0.1 tcp dport 8444 dnat to numgen inc mod 3 map { 0 : ${IP[i1]}, 1 : ${IP[i2]}, 2 : ${IP[i3]} }
	}
}
EOF
}

make_pki() {
	local p=$FLEET_DIR/pki c=$top/scripts/mtlslb-certs
	mkdir -p "$p"
	{
		"$c" -d "$p" init-ca --cn "fleet test CA"
		"$c" -d "$p" server server --san \
		    "DNS:fleet.test,IP:${IP[i1]},IP:${IP[i2]},IP:${IP[i3]}"
		"$c" -d "$p" client alice
		"$c" -d "$p" ticket-key "$p/ticket.keys"
	} >"$FLEET_DIR/log/pki.log" 2>&1 || {
		cat "$FLEET_DIR/log/pki.log" >&2
		die "cannot make the PKI"
	}
}

# install_files I: the instance's directory, the same files for everyone.
install_files() {
	local d=$FLEET_DIR/$1 p=$FLEET_DIR/pki
	mkdir -p "$d"
	cp "$FLEET_DIR/mtlslb.ini" "$d/mtlslb.ini"
	cp "$p/server.crt" "$p/root.crt" "$p/crl.pem" "$d/"
	install -m 600 "$p/server.key" "$d/server.key"
	install -m 600 "$p/ticket.keys" "$d/ticket.keys"
}

start_instance() {
	local i=$1
	pid_start "$i" "$i" "$FLEET_DIR/log/$i.log" \
	    "$BIN" -c "$FLEET_DIR/$i/mtlslb.ini"
	wait_for 30 ready_ok "$i" || {
		tail -n 20 "$FLEET_DIR/log/$i.log" >&2
		die "instance $i: /ready is not 200 after 30 s"
	}
}

net_up() {
	local n
	: >"$FLEET_DIR/namespaces"
	for n in hub $NODES; do
		ip netns add "$NS-$n" || die "cannot create namespace $NS-$n"
		echo "$NS-$n" >>"$FLEET_DIR/namespaces"
		ip -n "$NS-$n" link set lo up
	done
	ip -n "$NS-hub" link add br0 type bridge
	ip -n "$NS-hub" link set br0 up
	for n in $NODES; do
		ip link add "v$n" netns "$NS-hub" type veth peer name eth0 \
		    netns "$NS-$n"
		ip -n "$NS-hub" link set "v$n" master br0 up
		ip -n "$NS-$n" addr add "${IP[$n]}/24" dev eth0
		ip -n "$NS-$n" link set eth0 up
	done
	# the nftables variant's router: client 10.78.0.10 <-> nat 10.78.0.1
	ip link add eth1 netns "$NS-nat" type veth peer name eth1 \
	    netns "$NS-client"
	ip -n "$NS-nat" addr add 10.78.0.1/24 dev eth1
	ip -n "$NS-nat" link set eth1 up
	ip -n "$NS-client" addr add 10.78.0.10/24 dev eth1
	ip -n "$NS-client" link set eth1 up
	inns nat sysctl -qw net.ipv4.ip_forward=1
	for n in $INSTANCES; do
		ip -n "$NS-$n" route add 10.78.0.0/24 via "${IP[nat]}"
	done
}

cmd_up() {
	local n i
	[ ! -e "$FLEET_DIR/up" ] || die "already up ($FLEET_DIR/up); run down first"
	can || exit $?
	B=$(build_dir)
	BIN=$B/src/mtlslb
	rm -rf "$FLEET_DIR"
	mkdir -p "$FLEET_DIR/run" "$FLEET_DIR/log"
	trap cmd_down EXIT	# a failed up leaves nothing behind
	echo "$B" >"$FLEET_DIR/build"
	touch "$FLEET_DIR/up"
	net_up
	make_pki
	write_configs
	for n in b1 b2; do
		pid_start "$n" "$n" "$FLEET_DIR/log/$n.out" \
		    "$B/tests/helpers/backend" --listen "${IP[$n]}:8080" \
		    --name "$n" --log "$FLEET_DIR/log/$n.requests"
	done
	for n in b1 b2; do
		wait_for 10 grep -q '^listening on ' "$FLEET_DIR/log/$n.out" ||
		    die "backend $n did not start"
	done
	for i in $INSTANCES; do
		install_files "$i"
	done
	"$BIN" -t -c "$FLEET_DIR/i1/mtlslb.ini" >"$FLEET_DIR/log/t.log" 2>&1 || {
		cat "$FLEET_DIR/log/t.log" >&2
		die "mtlslb -t refuses the fleet's configuration"
	}
	for i in $INSTANCES; do
		start_instance "$i"
	done
	pid_start haproxy lb "$FLEET_DIR/log/haproxy.log" \
	    haproxy -db -f "$FLEET_DIR/haproxy.cfg"
	inns nat nft -f "$FLEET_DIR/nat.nft" 2>"$FLEET_DIR/log/nft.log" ||
	    echo "nft: $(cat "$FLEET_DIR/log/nft.log")" >"$FLEET_DIR/nft.failed"
	wait_for 30 haproxy_all_up || {
		tail -n 20 "$FLEET_DIR/log/haproxy.log" >&2
		die "HAProxy does not see three instances UP"
	}
	trap - EXIT
	say "up: HAProxy ${IP[lb]}:8443 -> $INSTANCES -> b1 b2; state in $FLEET_DIR"
}

# HAProxy logs "Server fleet/iN is UP" when a check passes after start;
# at start servers are assumed UP, so ask the runtime state instead:
# a request through it is enough to know the frontend listens.
haproxy_all_up() {
	[ "$(inns client curl -sS --max-time 5 -o /dev/null -w '%{http_code}' \
	    --resolve "fleet.test:8443:${IP[lb]}" \
	    --cacert "$FLEET_DIR/pki/root.crt" \
	    --cert "$FLEET_DIR/pki/alice.crt" --key "$FLEET_DIR/pki/alice.key" \
	    https://fleet.test:8443/)" = 200 ]
}

cmd_down() {
	local f n
	[ -d "$FLEET_DIR/run" ] || { say "nothing to stop"; return 0; }
	for f in "$FLEET_DIR"/run/*.pid; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .pid)
		pid_stop "$n" 15
	done
	if [ -f "$FLEET_DIR/namespaces" ]; then
		while read -r n; do
			ip netns del "$n" 2>/dev/null || true
		done <"$FLEET_DIR/namespaces"
		rm -f "$FLEET_DIR/namespaces"
	fi
	rm -f "$FLEET_DIR/up"
	say "down (logs stay in $FLEET_DIR/log)"
}

# ------------------------------------------------------------------ test

FAILS=0
ok() {
	echo "ok - $*"
}
bad() {
	echo "FAIL - $*"
	FAILS=$((FAILS + 1))
}

# curl_args: sets CURL_ARGS for curl in the client namespace with
# alice's certificate (CLIENT=mallory for another), the fleet's CA and
# fleet.test resolved to the L4 tier (port 8444: the nftables address).
curl_args() {
	local who=${CLIENT:-alice} p=$FLEET_DIR/pki port
	# HTTP/1.1: the tests count connections spread by the L4 tier, and
	# HTTP/2 would carry a whole URL list on one
	CURL_ARGS=(-sS --http1.1 --max-time "$CURL_MAX" --cacert "$p/root.crt"
	    --cert "$p/$who.crt" --key "$p/$who.key"
	    --resolve "fleet.test:8444:10.78.0.1")
	for port in 8443 8451 8452 "${PIN[@]}"; do
		CURL_ARGS+=(--resolve "fleet.test:$port:${IP[lb]}")
	done
}

# client_curl ARGS...: curl_args' curl in the client namespace.
client_curl() {
	curl_args
	inns client curl "${CURL_ARGS[@]}" "$@"
}

# client_curl_bg OUT ERR ARGS...: the same in the background, its output
# in OUT, errors in ERR; BG_PID is curl's own PID (ip netns exec execs).
client_curl_bg() {
	local out=$1 err=$2
	shift 2
	curl_args
	# -w's line per request, flushed at once: the count is what was done
	ip netns exec "$NS-client" stdbuf -oL curl "${CURL_ARGS[@]}" "$@" >"$out" \
	    2>"$err" </dev/null &
	BG_PID=$!
}

# count FILE ERE: matching lines (0 when none).
count() {
	local n
	n=$(grep -Ec -- "$2" "$1" 2>/dev/null) || true
	echo "${n:-0}"
}

test_spread() {
	local out=$FLEET_DIR/log/spread.out i n sum=0 where=""
	client_curl -H 'Connection: close' -o /dev/null \
	    -w '%{http_code} %header{x-backend}\n' \
	    "https://fleet.test:8443/?spread=$RUN&n=[1-300]" >"$out" \
	    2>"$FLEET_DIR/log/spread.err" || true
	n=$(count "$out" '^200 b[12]$')
	[ "$n" = 300 ] || { bad "300 requests via HAProxy: $n answered 200" \
	    "($(sort "$out" | uniq -c | tr '\n' ' '))"; return; }
	for i in $INSTANCES; do
		n=$(count "$FLEET_DIR/log/$i.log" "GET /\\?spread=$RUN&n=")
		sum=$((sum + n))
		where="$where $i:$n"
		[ "$n" -gt 0 ] || bad "instance $i got none of the 300 requests"
	done
	[ "$sum" = 300 ] || bad "the instances logged $sum of 300 requests"
	for i in b1 b2; do
		n=$(count "$out" "^200 $i\$")
		where="$where $i:$n"
		[ "$n" -gt 0 ] || bad "backend $i got none of the 300 requests"
	done
	ok "300 requests with a client certificate via HAProxy, all 200:$where"
}

# s_client_get PORT OUT [SESSION-IN-OR-OUT...]: GET /headers over openssl
# s_client via the pinned frontend PORT; the whole transcript in OUT.
s_client_get() {
	local port=$1 out=$2 p=$FLEET_DIR/pki
	shift 2
	printf 'GET /headers?resume=%s.%s HTTP/1.1\r\nHost: fleet.test\r\nConnection: close\r\n\r\n' \
	    "$RUN" "$port" | inns client timeout 20 openssl s_client -connect \
	    "${IP[lb]}:$port" -servername fleet.test -CAfile "$p/root.crt" \
	    -cert "$p/alice.crt" -key "$p/alice.key" -ign_eof "$@" \
	    >"$out" 2>&1 || true
}

test_resume() {
	local a=$FLEET_DIR/log/resume-a.out b=$FLEET_DIR/log/resume-b.out
	local sess=$FLEET_DIR/log/resume.sess ida idb
	rm -f "$sess"
	s_client_get "${PIN[i1]}" "$a" -sess_out "$sess"
	s_client_get "${PIN[i2]}" "$b" -sess_in "$sess"
	{ grep -q '^HTTP/1.1 200' "$a" && grep -q '^HTTP/1.1 200' "$b"; } ||
	    { bad "resumption: no 200 via i1 or i2 (see $a, $b)"; return; }
	grep -q '^New, ' "$a" || bad "resumption: the first handshake via i1 was not new"
	grep -q '^Reused, ' "$b" || { bad "resumption: the session from i1 was not reused on i2"; return; }
	grep -q "GET /headers?resume=$RUN.${PIN[i2]} .*tls_resumed=r" \
	    "$FLEET_DIR/log/i2.log" ||
	    bad "i2's access log has no tls_resumed=r for the resumed request"
	grep -q "GET /headers?resume=$RUN.${PIN[i1]} .*tls_resumed=\." \
	    "$FLEET_DIR/log/i1.log" ||
	    bad "i1's access log does not show a full handshake"
	ida=$(grep -Ei '^X-Forwarded-Clientcert-' "$a" | tr -d '\r' | sort)
	idb=$(grep -Ei '^X-Forwarded-Clientcert-' "$b" | tr -d '\r' | sort)
	[ -n "$ida" ] || { bad "no identity headers reached the backend"; return; }
	[ "$ida" = "$idb" ] || { bad "identity headers differ between i1 and" \
	    "the resumption on i2: $(diff <(echo "$ida") <(echo "$idb") | tr '\n' ' ')"; return; }
	ok "a TLS session from i1 resumed on i2 (shared ticket keys):" \
	    "tls_resumed=r in i2's log, the same $(echo "$ida" | wc -l)" \
	    "identity headers"
}

test_client_addr() {
	local a=$FLEET_DIR/log/resume-a.out xff
	xff=$(grep -i '^X-Forwarded-For:' "$a" | tr -d '\r' | sed 's/^[^:]*: *//')
	[ "$xff" = "${IP[client]}" ] ||
	    { bad "the backend saw X-Forwarded-For '$xff', not the client ${IP[client]}"; return; }
	grep -q "^${IP[client]} - .*GET /headers?resume=$RUN.${PIN[i1]} .*proxy=${IP[lb]}:" \
	    "$FLEET_DIR/log/i1.log" ||
	    { bad "i1's access log does not show client ${IP[client]} via proxy ${IP[lb]}"; return; }
	ok "the backend sees the client ${IP[client]} (PROXY v2 from HAProxy" \
	    "${IP[lb]}); i1 logs proxy=${IP[lb]}"
}

test_crl() {
	local i code ok_all=yes m
	# a client of its own per run, so that test works on a fleet again
	m=mallory$(date +%s)
	"$top/scripts/mtlslb-certs" -d "$FLEET_DIR/pki" client "$m" \
	    >>"$FLEET_DIR/log/pki.log" 2>&1 || { bad "cannot make client $m"; return; }
	for i in $INSTANCES; do
		code=$(CLIENT=$m client_curl -o /dev/null -w '%{http_code}' \
		    "https://fleet.test:${PIN[$i]}/?crl-before") || true
		[ "$code" = 200 ] || { bad "$m before the CRL via $i: $code"; ok_all=no; }
	done
	"$top/scripts/mtlslb-certs" -d "$FLEET_DIR/pki" revoke "$m" \
	    >>"$FLEET_DIR/log/pki.log" 2>&1 || { bad "cannot revoke $m"; return; }
	for i in $INSTANCES; do
		cp "$FLEET_DIR/pki/crl.pem" "$FLEET_DIR/$i/crl.pem.new"
		mv -f "$FLEET_DIR/$i/crl.pem.new" "$FLEET_DIR/$i/crl.pem"
		wc -l <"$FLEET_DIR/log/$i.log" >"$FLEET_DIR/log/$i.mark"
		kill -HUP "$(cat "$FLEET_DIR/run/$i.pid")"
	done
	for i in $INSTANCES; do
		wait_for 30 reloaded "$i" || { bad "$i: no 'configuration reloaded' after SIGHUP"; ok_all=no; }
	done
	for i in $INSTANCES; do
		code=$(CLIENT=$m client_curl -o /dev/null -w '%{http_code}' \
		    "https://fleet.test:${PIN[$i]}/?crl-after") || true
		[ "$code" = 400 ] || { bad "revoked $m via $i after one reload: $code, expected 400"; ok_all=no; }
		code=$(client_curl -o /dev/null -w '%{http_code}' \
		    "https://fleet.test:${PIN[$i]}/?crl-after") || true
		[ "$code" = 200 ] || { bad "alice via $i after the CRL: $code"; ok_all=no; }
	done
	code=$(CLIENT=$m client_curl -o /dev/null -w '%{http_code}' \
	    "https://fleet.test:8443/?crl-after") || true
	[ "$code" = 400 ] || { bad "revoked $m via the L4 tier: $code"; ok_all=no; }
	[ "$ok_all" = no ] ||
	    ok "CRL copied to i1 i2 i3 and one SIGHUP each: revoked client $m gets 400 everywhere, alice 200"
}

reloaded() {
	tail -n "+$(($(cat "$FLEET_DIR/log/$1.mark") + 1))" "$FLEET_DIR/log/$1.log" |
	    grep -q 'configuration reloaded'
}

test_nft() {
	local out=$FLEET_DIR/log/nft.out i n where=""
	if [ -e "$FLEET_DIR/nft.failed" ]; then
		bad "nftables: $(cat "$FLEET_DIR/nft.failed")"
		return
	fi
	client_curl -H 'Connection: close' -o /dev/null -w '%{http_code}\n' \
	    "https://fleet.test:8444/?nft=$RUN&n=[1-30]" >"$out" \
	    2>"$FLEET_DIR/log/nft.err" || true
	n=$(count "$out" '^200$')
	[ "$n" = 30 ] || { bad "nftables DNAT: $n of 30 requests got 200" \
	    "($(sort "$out" | uniq -c | tr '\n' ' '))"; return; }
	for i in $INSTANCES; do
		n=$(count "$FLEET_DIR/log/$i.log" "^10\\.78\\.0\\.10 - .*GET /\\?nft=$RUN&n=")
		where="$where $i:$n"
		[ "$n" -gt 0 ] || bad "nftables: instance $i got none of 30 requests (from 10.78.0.10)"
	done
	ok "nftables numgen DNAT in a namespace: 30 requests, all 200, client" \
	    "10.78.0.10 seen as itself:$where"
}

# The L4 tier and drain_delay: SIGTERM to i3 while a client loop runs.
test_drain() {
	local out=$FLEET_DIR/log/drain.out pid loop n i a b first during hmark imark
	local log=$FLEET_DIR/log/i3.log
	rm -f "$out"
	client_curl_bg "$out" "$FLEET_DIR/log/drain.err" \
	    -H 'Connection: close' -o /dev/null -w '%{http_code}\n' \
	    "https://fleet.test:8443/?drain&n=[1-100000]"
	loop=$BG_PID
	wait_for 30 enough "$out" 30 || bad "drain: the client loop did not start"
	pid=$(cat "$FLEET_DIR/run/i3.pid")
	hmark=$(wc -l <"$FLEET_DIR/log/haproxy.log")
	imark=$(wc -l <"$log")
	kill -TERM "$pid"
	# which comes first: HAProxy taking i3 out, or i3 closing its listener
	first=none
	for ((i = 0; i < 300; i++)); do
		if tail -n "+$((hmark + 1))" "$FLEET_DIR/log/haproxy.log" |
		    grep -q 'Server fleet/i3 is DOWN.*code: 503'; then
			first=haproxy
			break
		fi
		tail -n "+$((imark + 1))" "$log" |
		    grep -q 'drain_delay over: closing' && { first=i3; break; }
		sleep 0.05
	done
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && bad "drain: i3 still runs 30 s after SIGTERM"
	rm -f "$FLEET_DIR/run/i3.pid"
	n=$(count "$out" .)
	wait_for 30 enough "$out" $((n + 30)) || bad "drain: the loop stalled after i3 stopped"
	kill -TERM "$loop" 2>/dev/null || true
	wait "$loop" 2>/dev/null || true
	n=$(count "$out" .)
	i=$(grep -vcx 200 "$out") || true
	[ "$i" = 0 ] || bad "drain: $i of $n requests failed ($(sort "$out" | uniq -c | tr '\n' ' '); $(tail -n 2 "$FLEET_DIR/log/drain.err" | tr '\n' ' '))"
	a=$(grep -n 'stopping: /ready answers 503' "$log" | tail -n 1 | cut -d: -f1)
	b=$(grep -n 'drain_delay over: closing the listeners' "$log" | tail -n 1 | cut -d: -f1)
	if [ -z "$a" ] || [ -z "$b" ] || [ "$a" -ge "$b" ]; then
		bad "drain: i3's log lacks '/ready answers 503' before 'drain_delay over' ($a, $b)"
	elif [ "$first" != haproxy ]; then
		bad "drain: HAProxy did not take i3 out (503) before i3 closed its listener ($first)"
	elif [ "$i" = 0 ]; then
		during=$(sed -n "${a},${b}p" "$log" | grep -c 'GET /?drain&n=') || true
		ok "SIGTERM to i3 (drain_delay $DRAIN_DELAY) under a client" \
		    "loop: $n requests via HAProxy, none failed ($during served" \
		    "by i3 during its drain_delay); i3's /ready" \
		    "went 503, HAProxy logged i3 DOWN (503) before i3 logged" \
		    "'drain_delay over: closing the listeners'"
	fi
	start_instance i3
}

enough() {
	[ "$(count "$1" .)" -ge "$2" ]
}

test_keepalived() {
	local f=$top/conf/fleet/keepalived.conf
	if keepalived -t -f "$f" >"$FLEET_DIR/log/keepalived-t.log" 2>&1; then
		ok "keepalived -t accepts conf/fleet/keepalived.conf (IPVS itself is not loaded)"
	else
		bad "keepalived -t refuses $f: $(tail -n 3 "$FLEET_DIR/log/keepalived-t.log" | tr '\n' ' ')"
	fi
}

test_tickets_rotate() {
	local r=$top/conf/fleet/mtlslb-ticket-rotate t=$FLEET_DIR/rotate i
	local a=$FLEET_DIR/log/rot-a.out b=$FLEET_DIR/log/rot-b.out
	local sess=$FLEET_DIR/log/rot.sess
	# a session from before the rotation, on i1
	s_client_get "${PIN[i1]}" "$a" -sess_out "$sess"
	mkdir -p "$t"
	cp "$FLEET_DIR/i1/ticket.keys" "$t/ticket.keys"
	cp "$FLEET_DIR/i1/ticket.keys" "$t/before.keys"
	# the rotation, with a copy and a reload that reach the namespaces
	if ! MTLSLB_TICKET_KEYS=$t/ticket.keys \
	    MTLSLB_TICKET_HOSTS="i1 i2 i3" \
	    MTLSLB_TICKET_COPY="$top/scripts/fleet.sh _copy_keys" \
	    MTLSLB_TICKET_RELOAD="$top/scripts/fleet.sh _reload" \
	    "$r" >"$FLEET_DIR/log/rotate.log" 2>&1; then
		bad "ticket key rotation failed: $(tail -n 3 "$FLEET_DIR/log/rotate.log" | tr '\n' ' ')"
		return
	fi
	for i in i2 i3; do
		cmp -s "$FLEET_DIR/i1/ticket.keys" "$FLEET_DIR/$i/ticket.keys" ||
		    { bad "after the rotation $i's ticket keys differ from i1's"; return; }
	done
	[ "$(grep -c . "$FLEET_DIR/i1/ticket.keys")" = 2 ] ||
	    bad "after the rotation the file has not 2 keys"
	head -n 1 "$t/before.keys" | cmp -s - <(sed -n 2p "$FLEET_DIR/i1/ticket.keys") ||
	    bad "the previous encryption key is not kept second"
	s_client_get "${PIN[i3]}" "$b" -sess_in "$sess"
	grep -q '^Reused, ' "$b" ||
	    { bad "a ticket issued before the rotation did not resume on i3 after it"; return; }
	ok "ticket keys rotated in two phases (add, then promote; every" \
	    "instance reloaded after each): an older ticket still resumes on i3"
}

# internal, for the rotation script: copy FILE to HOST's directory
_copy_keys() {
	local file=$1 host=$2
	install -m 600 "$file" "$FLEET_DIR/$host/ticket.keys.new"
	mv -f "$FLEET_DIR/$host/ticket.keys.new" "$FLEET_DIR/$host/ticket.keys"
}

_reload() {
	local host=$1
	wc -l <"$FLEET_DIR/log/$host.log" >"$FLEET_DIR/log/$host.mark"
	kill -HUP "$(cat "$FLEET_DIR/run/$host.pid")"
	wait_for 30 reloaded "$host"
}

cmd_test() {
	RUN=$(date +%s)	# in every request's query: a second test run on
			# the same fleet counts only its own log lines
	if [ ! -e "$FLEET_DIR/up" ]; then
		cmd_up
		trap cmd_down EXIT
	fi
	B=$(cat "$FLEET_DIR/build")
	BIN=$B/src/mtlslb
	for i in $INSTANCES; do
		cmp -s "$FLEET_DIR/i1/mtlslb.ini" "$FLEET_DIR/$i/mtlslb.ini" ||
		    bad "$i's mtlslb.ini differs from i1's"
	done
	test_spread
	test_resume
	test_client_addr
	test_nft
	test_crl
	test_tickets_rotate
	test_drain
	test_keepalived
	# as the integration harness does: a crash anywhere fails the run
	for i in $INSTANCES; do
		! grep -E 'killed by signal|exited with status|did not stop in time|AddressSanitizer|LeakSanitizer|runtime error:' \
		    "$FLEET_DIR/log/$i.log" >"$FLEET_DIR/log/$i.bad" ||
		    bad "$i's log: $(head -n 2 "$FLEET_DIR/log/$i.bad" | tr '\n' ' ')"
	done
	if [ "$FAILS" = 0 ]; then
		say "test: all passed"
	else
		say "test: $FAILS failed (logs in $FLEET_DIR/log)"
	fi
	[ "$FAILS" = 0 ]
}

# ----------------------------------------------------------------- bench

cmd_bench() {
	local n port mode secs=${BENCH_SECONDS:-10} par=${BENCH_CLIENTS:-4}
	if [ ! -e "$FLEET_DIR/up" ]; then
		cmd_up
		trap cmd_down EXIT
	fi
	echo "# $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg);" \
	    "clients, HAProxy, instances and backends share them"
	echo "instances mode clients seconds requests per_second" \
	    "mtlslb_cpu_s per_mtlslb_cpu_s haproxy_cpu_s"
	for n in 1 2 3; do
		case $n in 3) port=8443 ;; *) port=845$n ;; esac
		for mode in keepalive handshake; do
			bench_one "$port" "$mode" "$par" "$secs" "$n"
		done
	done
}

# bench_one PORT MODE CLIENTS SECONDS N: CLIENTS curl processes for
# SECONDS; keepalive: one connection each, handshake: a new connection
# and a full handshake (no session reuse) per request.
bench_one() {
	local port=$1 mode=$2 par=$3 secs=$4 n=$5 j total=0 pids=()
	local extra=() c0 c1 h0 h1
	[ "$mode" = handshake ] && extra=(-H 'Connection: close' --no-sessionid)
	for ((j = 0; j < par; j++)); do
		client_curl_bg "$FLEET_DIR/log/bench.$j" /dev/null \
		    "${extra[@]}" -o /dev/null -w '%{http_code}\n' \
		    "https://fleet.test:$port/?bench&n=[1-1000000]"
		pids+=("$BG_PID")
	done
	c0=$(cpu_ticks i1 i2 i3)
	h0=$(cpu_ticks haproxy)
	sleep "$secs"
	c1=$(cpu_ticks i1 i2 i3)
	h1=$(cpu_ticks haproxy)
	for j in "${pids[@]}"; do
		kill -TERM "$j" 2>/dev/null || true
		wait "$j" 2>/dev/null || true
	done
	for ((j = 0; j < par; j++)); do
		total=$((total + $(count "$FLEET_DIR/log/bench.$j" '^200$')))
	done
	awk -v n="$n" -v m="$mode" -v p="$par" -v s="$secs" -v t="$total" \
	    -v c=$((c1 - c0)) -v h=$((h1 - h0)) -v hz="$(getconf CLK_TCK)" \
	    'BEGIN { printf "%s %s %s %s %d %d %.1f %d %.1f\n", n, m, p, s,
	    t, t / s, c / hz, (c > 0 ? t / (c / hz) : 0), h / hz }'
}

# cpu_ticks NAME...: user+system clock ticks of the processes in
# run/NAME.pid and their children (an instance's workers).
cpu_ticks() {
	local name pid kid sum=0
	for name in "$@"; do
		[ -f "$FLEET_DIR/run/$name.pid" ] || continue
		pid=$(cat "$FLEET_DIR/run/$name.pid")
		for kid in $pid $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
			sum=$((sum + $(awk '{ print $14 + $15 }' \
			    "/proc/$kid/stat" 2>/dev/null || echo 0)))
		done
	done
	echo "$sum"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
test) cmd_test ;;
bench) cmd_bench ;;
can) can && echo "fleet.sh: this machine can run the fleet" ;;
_copy_keys | _reload) c=$1; shift; "$c" "$@" ;;
*)
	echo "usage: scripts/fleet.sh up|test|bench|down|can" >&2
	exit 2
	;;
esac
