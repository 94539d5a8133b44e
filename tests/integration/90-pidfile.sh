#!/bin/bash
# 90-pidfile: the pid file, "mtlslb -s" and the process titles.
#   -s with no pid file, one that holds no pid, a dead pid, or a live
#       process that is not mtlslb: exit 1, a message naming the file, and
#       nobody is signalled
#   a stale pid file (dead pid) is replaced at start, and the start says so
#   the pid file holds the master's pid, mode 0644
#   /proc/PID/cmdline: "mtlslb: master process CONFIG" and "mtlslb: worker
#       N (generation 0)"; comm mtlslb for all, as nginx (titles
#       are not checked under MTLSLB_WRAPPER: valgrind's own shows)
#   a second start with the same pid file is refused while the master runs
#   -s reload reloads: new workers show "generation 1"
#   -s reopen after the access log was moved: a new file with new lines
#   -s stop stops the master (exit 0) and the pid file is gone
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

# ctl ACTION [CONFIG]: mtlslb -c CONFIG -s ACTION; CTL_RC, output in CTL_OUT.
ctl() {
	CTL_RC=0
	"$MTLSLB_BIN" -c "${2:-$T/lb.ini}" -s "$1" >"$T/ctl.out" 2>&1 ||
	    CTL_RC=$?
	CTL_OUT=$(cat "$T/ctl.out")
}

# expect_ctl_error MESSAGE: the last ctl exited 1 saying exactly MESSAGE.
expect_ctl_error() {
	[ "$CTL_RC" = 1 ] && [ "$CTL_OUT" = "$1" ] ||
	    fail "expected exit 1 and '$1', got exit $CTL_RC: '$CTL_OUT'"
}

# children PID: the direct children of PID.
children() {
	local f line pid rest
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		rest=${line##*) }
		rest=${rest#* }
		[ "${rest%% *}" = "$1" ] && echo "$pid"
	done
	return 0
}

# title PID: what /proc/PID/cmdline shows, up to its first NUL.
title() {
	local t=
	{ IFS= read -r -d '' t <"/proc/$1/cmdline"; } 2>/dev/null || true
	printf '%s' "$t"
}

# comm PID: the short name.
comm() {
	cat "/proc/$1/comm" 2>/dev/null || true
}

# worker_titles: the master's workers, "TITLE|COMM" sorted, one a line.
worker_titles() {
	local p t
	for p in $(children "$MTLSLB_PID"); do
		t=$(title "$p")
		case $t in
		"mtlslb: worker "*) echo "$t|$(comm "$p")" ;;
		esac
	done | sort
}

# wait_workers GEN: until the master's workers are exactly worker 0 and 1
# of generation GEN (the old ones drain and go).
wait_workers() {
	local want i
	want=$(printf 'mtlslb: worker %s (generation %s)|mtlslb\n' \
	    0 "$1" 1 "$1")
	for ((i = 0; i < 600; i++)); do
		[ "$(worker_titles)" = "$want" ] && return 0
		sleep 0.1
	done
	fail "workers: expected [$want], got [$(worker_titles)]"
}

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
mkdir "$T/run"
PIDF=$T/run/lb.pid
GLOBAL_EXTRA="pid_file = $PIDF" std_config "$T/lb.ini"
sed -i "s|^access_log = stderr|access_log = $T/access.log|" "$T/lb.ini"
T_LOGS+=("$T/access.log")

# -- -s without a master
ctl reload
expect_ctl_error "mtlslb: cannot read pid file $PIDF: No such file or directory; is mtlslb running?"
pass "-s reload, no pid file: $CTL_OUT"

sed '/^pid_file = /d' "$T/lb.ini" >"$T/nopid.ini"
RUNTIME_DIRECTORY=$T/rt ctl reload "$T/nopid.ini"
expect_ctl_error "mtlslb: cannot read pid file $T/rt/mtlslb.pid: No such file or directory; is mtlslb running? (set pid_file in $T/nopid.ini)"
pass "-s reload without pid_file under systemd: \$RUNTIME_DIRECTORY/mtlslb.pid"
# The default outside systemd; never with a real one on this machine.
if [ ! -e /run/mtlslb ]; then
	RUNTIME_DIRECTORY='' ctl reload "$T/nopid.ini"
	expect_ctl_error "mtlslb: cannot read pid file /run/mtlslb/mtlslb.pid: No such file or directory; is mtlslb running? (set pid_file in $T/nopid.ini)"
	pass "-s reload without pid_file: /run/mtlslb/mtlslb.pid"
fi

echo garbage >"$PIDF"
ctl reload
expect_ctl_error "mtlslb: pid file $PIDF holds no process ID ('garbage')"
pass "-s reload, invalid pid file: $CTL_OUT"

DEAD=$(bash -c 'echo $$')
echo "$DEAD" >"$PIDF"
ctl stop
expect_ctl_error "mtlslb: pid file $PIDF names pid $DEAD, which is not running; is mtlslb running?"
pass "-s stop, dead pid: $CTL_OUT"

sleep 600 &
SLEEP=$!
t_track "$SLEEP" sleep
# the child is bash until it has exec'd sleep (a busy machine showed it)
for ((i = 0; i < 300; i++)); do
	[ "$(cat "/proc/$SLEEP/comm" 2>/dev/null)" = sleep ] && break
	sleep 0.1
done
echo "$SLEEP" >"$PIDF"
ctl stop
expect_ctl_error "mtlslb: pid file $PIDF names pid $SLEEP, which is 'sleep', not an mtlslb master: a stale pid file?"
pid_alive "$SLEEP" || fail "-s stop signalled a process that is not mtlslb"
pass "-s stop, a live pid that is not mtlslb: not signalled: $CTL_OUT"
stop_pid "$SLEEP"

# -- start over a stale pid file
echo "$DEAD" >"$PIDF"
log_mark
start_mtlslb "$T/lb.ini"
for ((i = 0; i < 300; i++)); do
	[ "$(cat "$PIDF" 2>/dev/null)" = "$MTLSLB_PID" ] && break
	sleep 0.1
done
[ "$(cat "$PIDF" 2>/dev/null)" = "$MTLSLB_PID" ] ||
    fail "pid file: '$(cat "$PIDF" 2>&1)', expected $MTLSLB_PID"
[ "$(stat -c %a "$PIDF")" = 644 ] || fail "pid file mode $(stat -c %a "$PIDF")"
wait_mtlslb_log "pid file $PIDF named pid $DEAD, which is not running; replacing it" 10 ||
    fail "no log line about the stale pid file"
pass "a stale pid file is replaced (and logged); it holds the master's pid, mode 0644"
expect_status 200 "$(lb_url /)"

# -- process titles
t=$(title "$MTLSLB_PID")
if [ -n "${MTLSLB_WRAPPER:-}" ]; then
	# valgrind runs the daemon on a stack of its own: the kernel shows
	# the wrapper's command line, whatever the daemon writes
	echo "# under MTLSLB_WRAPPER: process titles not checked"
else
	[ "$t" = "mtlslb: master process $T/lb.ini" ] ||
	    fail "master title: '$t'"
	pass "master: '$t'"
	wait_workers 0
	pass "workers: $(worker_titles | cut -d'|' -f1 | paste -sd, -) (comm mtlslb)"
fi
[ "$(comm "$MTLSLB_PID")" = mtlslb ] ||
    fail "master comm: '$(comm "$MTLSLB_PID")'"
pass "master comm: mtlslb (pidof, pgrep -x and killall find it)"

# -- a second master with the same pid file (another port) is refused
LB2_PORT=$(free_port)
sed "s/^bind = 127.0.0.1:$LB_PORT\$/bind = 127.0.0.1:$LB2_PORT/" "$T/lb.ini" \
    >"$T/second.ini"
"$MTLSLB_BIN" -c "$T/second.ini" >"$T/second.out" 2>&1 &
SECOND=$!
t_track "$SECOND" "mtlslb second" "$T/second.out"
for ((i = 0; i < 600; i++)); do
	pid_alive "$SECOND" || break
	sleep 0.1
done
pid_alive "$SECOND" && fail "a second master runs on the same pid file"
rc=0
wait "$SECOND" || rc=$?
t_untrack "$SECOND"
[ "$rc" = 1 ] || fail "second start: exit $rc, expected 1"
want="mtlslb: pid file $PIDF names pid $MTLSLB_PID, a running mtlslb master: not starting a second one (stop it with -s stop, or set another pid_file)"
grep -qxF -- "$want" "$T/second.out" ||
    fail "second start: expected '$want', got: $(cat "$T/second.out")"
[ "$(cat "$PIDF")" = "$MTLSLB_PID" ] || fail "the refused start changed the pid file"
pass "second start refused: $want"

# -- -s reload
log_mark
ctl reload
[ "$CTL_RC" = 0 ] && [ -z "$CTL_OUT" ] ||
    fail "-s reload: exit $CTL_RC: $CTL_OUT"
wait_mtlslb_log 'configuration reloaded \(generation 1\)' 60 ||
    fail "-s reload: no 'configuration reloaded (generation 1)'"
[ "$(cat "$PIDF")" = "$MTLSLB_PID" ] || fail "the pid file changed on reload"
expect_status 200 "$(lb_url /)"
pass "-s reload: configuration reloaded (generation 1), same pid file"
if [ -z "${MTLSLB_WRAPPER:-}" ]; then
	wait_workers 1
	pass "workers now $(worker_titles | cut -d'|' -f1 | paste -sd, -)"
fi

# -- -s reopen
expect_status 200 "$(lb_url '/?first')"
wait_log "$T/access.log" '"GET /[?]first ' 30 || fail "no access log line"
mv "$T/access.log" "$T/access.log.1"
ctl reopen
[ "$CTL_RC" = 0 ] && [ -z "$CTL_OUT" ] ||
    fail "-s reopen: exit $CTL_RC: $CTL_OUT"
# The workers reopen after the master: retry until a line lands.
for ((i = 0; i < 300; i++)); do
	expect_status 200 "$(lb_url '/?second')"
	grep -q '"GET /?second ' "$T/access.log" 2>/dev/null && break
	sleep 0.1
done
grep -q '"GET /?second ' "$T/access.log" 2>/dev/null ||
    fail "-s reopen: requests still go to the moved access log"
pass "-s reopen after moving the access log: a new access.log is written"

# -- -s stop
ctl stop
[ "$CTL_RC" = 0 ] && [ -z "$CTL_OUT" ] || fail "-s stop: exit $CTL_RC: $CTL_OUT"
for ((i = 0; i < 600; i++)); do
	pid_alive "$MTLSLB_PID" || break
	sleep 0.1
done
pid_alive "$MTLSLB_PID" && fail "-s stop: the master still runs after 60 s"
rc=0
wait "$MTLSLB_PID" || rc=$?
t_untrack "$MTLSLB_PID"
daemon_exited "$rc"
MTLSLB_PID=
[ "$rc" = 0 ] || fail "-s stop: exit status $rc, expected 0"
[ ! -e "$PIDF" ] || fail "-s stop: the pid file is still there"
pass "-s stop: the master exits 0 and removes its pid file"
ctl reload
expect_ctl_error "mtlslb: cannot read pid file $PIDF: No such file or directory; is mtlslb running?"
pass "-s reload after the stop: exit 1"
