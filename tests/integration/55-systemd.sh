#!/bin/bash
# 55-systemd: the unit and the notify protocol.
#   systemd-analyze verify passes on systemd/mtlslb.service (a copy naming
#       the built binary, man pages found through MANPATH)
#   the unit reloads with "mtlslb -c CONFIG -s reload" (the ExecStart's
#       -c) and has RuntimeDirectory=mtlslb for the pid file
#   with NOTIFY_SOCKET set (a datagram socket this test listens on):
#       READY=1 once the listener accepts, RELOADING=1 then READY=1 around
#       a SIGHUP (and around a failed one), STOPPING=1 on SIGTERM
#   with RUNTIME_DIRECTORY set, as systemd sets it: the pid file is
#       $RUNTIME_DIRECTORY/mtlslb.pid, the unit's ExecReload= command lines
#       run as they are (binary and config paths replaced) reload the
#       daemon (RELOADING=1, READY=1), and the pid file goes at stop
# No systemd-run here: containers rarely have a user manager.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup

UNIT=$top_srcdir/systemd/mtlslb.service
[ -f "$UNIT" ] || harness_error "no $UNIT"

# -- systemd-analyze verify
if command -v systemd-analyze >/dev/null 2>&1; then
	mkdir -p "$T/unit" "$T/man/man8" "$T/man/man5"
	ln -s "$top_srcdir/man/mtlslb.8" "$T/man/man8/mtlslb.8"
	ln -s "$top_srcdir/man/mtlslb.ini.5" "$T/man/man5/mtlslb.ini.5"
	sed -e "s|/usr/sbin/mtlslb|$MTLSLB_BIN|g" "$UNIT" >"$T/unit/mtlslb.service"
	man_opt=()
	command -v man >/dev/null 2>&1 || man_opt=(--man=no)
	if ! MANPATH="$T/man:" SYSTEMD_LOG_LEVEL=notice systemd-analyze \
	    verify "${man_opt[@]}" "$T/unit/mtlslb.service" >"$T/verify.out" 2>&1 ||
	    [ -s "$T/verify.out" ]; then
		cat "$T/verify.out" >&2
		fail "systemd-analyze verify reports problems"
	fi
	pass "systemd-analyze verify systemd/mtlslb.service: clean"
	for k in 'Type=notify' \
	    'ExecStartPre=/usr/sbin/mtlslb -t -c /etc/mtlslb/mtlslb.ini' \
	    'LimitNOFILE=65536' 'AmbientCapabilities=CAP_NET_BIND_SERVICE' \
	    'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' \
	    'PrivateTmp=yes' 'PrivateDevices=yes' \
	    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
	    'SystemCallFilter=@system-service'; do
		grep -qxF -- "$k" "$UNIT" || fail "the unit lacks '$k'"
	done
	pass "the unit has the required settings"
else
	echo "# systemd-analyze not found: verify skipped"
fi

# -- reload through the pid file
grep -qxF 'ExecStart=/usr/sbin/mtlslb -c /etc/mtlslb/mtlslb.ini' "$UNIT" ||
    fail "the unit's ExecStart is not '/usr/sbin/mtlslb -c /etc/mtlslb/mtlslb.ini'"
mapfile -t RELOAD < <(sed -n 's/^ExecReload=//p' "$UNIT")
[ "${#RELOAD[@]}" = 2 ] &&
    [ "${RELOAD[0]}" = '/usr/sbin/mtlslb -t -c /etc/mtlslb/mtlslb.ini' ] &&
    [ "${RELOAD[1]}" = '/usr/sbin/mtlslb -c /etc/mtlslb/mtlslb.ini -s reload' ] ||
    fail "the unit's ExecReload= lines are not -t then -s reload with" \
    "ExecStart's -c: $(printf "'%s' " "${RELOAD[@]}")"
grep -qxF 'RuntimeDirectory=mtlslb' "$UNIT" ||
    fail "the unit lacks RuntimeDirectory=mtlslb (the pid file's directory)"
grep -q '^PIDFile=' "$UNIT" && fail "PIDFile= with Type=notify"
pass "the unit reloads with 'mtlslb -c CONFIG -s reload' and has RuntimeDirectory=mtlslb"

# -- the notify protocol
grep -q '^#define HAVE_SYSTEMD 1' "$top_builddir/ac_config.h" 2>/dev/null ||
    skip "built without libsystemd: no sd_notify"
need_cmd python3
mkpki
python3 - "$T/notify.sock" "$T/notify.log" "$T/notify.stop" \
    >"$T/notify.out" 2>&1 <<'PY' &
import os, socket, sys, time
path, log, stop = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
end = time.time() + 90
with open(log, "a") as f:
    while time.time() < end and not os.path.exists(stop):
        try:
            msg = s.recv(4096)
        except socket.timeout:
            continue
        f.write(msg.decode(errors="replace").replace("\n", "|") + "\n")
        f.flush()
PY
NPID=$!
t_track "$NPID" "notify listener" "$T/notify.out" "$T/notify.log"
for ((i = 0; i < 50; i++)); do
	[ -S "$T/notify.sock" ] && break
	sleep 0.1
done
[ -S "$T/notify.sock" ] || harness_error "notify socket not created"
: >"$T/notify.log"

# notified N REGEX: waits until line N of the log matches REGEX.
notified() {
	local n=$1 re=$2 i
	for ((i = 0; i < 100; i++)); do
		sed -n "${n}p" "$T/notify.log" | grep -Eq -- "$re" && return 0
		sleep 0.1
	done
	fail "notify message $n: expected /$re/, got: $(tr '\n' ' ' <"$T/notify.log")"
}

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
std_config "$T/lb.ini"
need_mtlslb
mkdir "$T/run"
NOTIFY_SOCKET=$T/notify.sock RUNTIME_DIRECTORY=$T/run "$MTLSLB_BIN" \
    -c "$T/lb.ini" >>"$T/mtlslb.log" 2>&1 &
MTLSLB_PID=$!
MTLSLB_PORT=$LB_PORT
t_track "$MTLSLB_PID" mtlslb "$T/mtlslb.log"
notified 1 '^READY=1'
port_open "$LB_PORT" || fail "READY=1 before the listener accepts"
expect_status 200 "$(lb_url /)"
pass "READY=1 once the listener accepts"
[ "$(cat "$T/run/mtlslb.pid" 2>/dev/null)" = "$MTLSLB_PID" ] ||
    fail "pid file \$RUNTIME_DIRECTORY/mtlslb.pid: '$(cat "$T/run/mtlslb.pid" 2>&1)'," \
    "expected $MTLSLB_PID"
pass "pid file \$RUNTIME_DIRECTORY/mtlslb.pid names the master"

kill -HUP "$MTLSLB_PID"
notified 2 '^RELOADING=1(\||$)'
notified 3 '^READY=1'
expect_status 200 "$(lb_url /)"
pass "RELOADING=1 then READY=1 around SIGHUP"

cp "$T/lb.ini" "$T/lb.ini.good"
echo "bogus = 1" >>"$T/lb.ini"
kill -HUP "$MTLSLB_PID"
notified 4 '^RELOADING=1(\||$)'
notified 5 '^READY=1'
mv -f "$T/lb.ini.good" "$T/lb.ini"
pass "RELOADING=1 then READY=1 around a failed reload"

# The unit's ExecReload= lines, in order, as systemd runs them (with
# RUNTIME_DIRECTORY), on this build's binary and config.
log_mark
for line in "${RELOAD[@]}"; do
	case $line in *'$'* | *'%'*) fail "ExecReload=$line needs systemd to expand it" ;; esac
	line=${line//\/usr\/sbin\/mtlslb/$MTLSLB_BIN}
	line=${line//\/etc\/mtlslb\/mtlslb.ini/$T/lb.ini}
	read -ra cmd <<<"$line"
	rc=0
	RUNTIME_DIRECTORY=$T/run "${cmd[@]}" >"$T/execreload.out" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "ExecReload=$line: exit $rc: $(cat "$T/execreload.out")"
done
notified 6 '^RELOADING=1(\||$)'
notified 7 '^READY=1'
wait_mtlslb_log 'configuration reloaded \(generation 2\)' 60 ||
    fail "the unit's ExecReload= did not reload the daemon"
expect_status 200 "$(lb_url /)"
pass "the unit's ExecReload= (-t, then -s reload) reloads: RELOADING=1, READY=1"

stop_mtlslb
notified 8 '^STOPPING=1'
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
pass "STOPPING=1 on SIGTERM, exit 0"
[ ! -e "$T/run/mtlslb.pid" ] || fail "the pid file is still there after the stop"
pass "the pid file is removed at stop"
touch "$T/notify.stop"
