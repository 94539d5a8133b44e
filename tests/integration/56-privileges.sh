#!/bin/bash
# 56-privileges: privilege drop and key permissions (as root only).
#   user = nobody: every worker (child of the master) runs with nobody's
#       uid and gid and no supplementary groups; the master stays root;
#       requests work; a reload's new workers are nobody too
#   the log files become nobody's, so workers reopen them on USR1
#   a group/world-readable private key gets a warning with -t and at start;
#       mode 0600 gets none
#   an unknown user fails the start (exit 1, FILE:LINE) and a reload (old
#       one serves); -t reports it too
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
need_cmd python3
[ "$(id -u)" = 0 ] || skip "not root: no privilege drop to test"
t_setup
mkpki
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

# proc_ids PID: "UID GID GROUPS" (real uid and gid, supplementary groups).
proc_ids() {
	awk '/^Uid:/ { u = $2 } /^Gid:/ { g = $2 }
	    /^Groups:/ { $1 = ""; gr = $0 }
	    END { sub(/^ +/, "", gr); print u, g, "[" gr "]" }' "/proc/$1/status"
}

# workers: the master's children (the workers).
workers() {
	local f line pid rest ppid
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		rest=${line##*) }
		rest=${rest#* }
		ppid=${rest%% *}
		[ "$ppid" = "$MTLSLB_PID" ] && echo "$pid"
	done
}

check_workers() {
	local w n=0 ids
	for w in $(workers); do
		ids=$(proc_ids "$w")
		[ "$ids" = "$NOBODY_UID $NOBODY_GID []" ] ||
		    fail "worker $w runs as '$ids', expected '$NOBODY_UID $NOBODY_GID []'"
		n=$((n + 1))
	done
	[ "$n" = 2 ] || fail "$n workers, expected 2"
}

chmod 711 "$T"
mkdir -m 755 "$T/logs"
cp "$PKI/server.key" "$T/srv.key"
chmod 600 "$T/srv.key"
BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
SERVER_KEY=$T/srv.key GLOBAL_EXTRA="user = nobody" std_config "$T/lb.ini"
sed -i "s|^access_log = stderr|access_log = $T/logs/access.log|" "$T/lb.ini"

"$MTLSLB_BIN" -t -c "$T/lb.ini" >"$T/t.out" 2>&1 || {
	cat "$T/t.out" >&2
	fail "-t rejects the config"
}
grep -q 'readable' "$T/t.out" && fail "-t warns about a 0600 key: $(cat "$T/t.out")"
pass "mode 0600 key: no warning"

start_mtlslb "$T/lb.ini"
T_LOGS+=("$T/logs/access.log")
expect_status 200 "$(lb_url /)"
# The master keeps what it inherited from us: uid 0, gid 0 and our own
# supplementary groups, asked from the kernel with getgroups(2) (not read
# from the master's /proc entry, which is what is being checked).
my_groups=$(python3 -c 'import os
print(" ".join(str(g) for g in sorted(set(os.getgroups()))))') ||
    harness_error "python3 getgroups failed"
master_groups=$(awk '/^Groups:/ { $1 = ""; print }' \
    "/proc/$MTLSLB_PID/status" | tr ' ' '\n' | sed '/^$/d' | sort -nu |
    tr '\n' ' ' | sed 's/ $//')
[ "$(proc_ids "$MTLSLB_PID" | cut -d' ' -f1,2)" = "0 0" ] ||
    fail "master runs as $(proc_ids "$MTLSLB_PID"), expected root"
[ "$master_groups" = "$my_groups" ] ||
    fail "master's groups are [$master_groups], expected ours [$my_groups]"
check_workers
pass "user = nobody: workers run as uid $NOBODY_UID, the master as root"

log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'previous configuration retired' 10 || fail "no reload"
expect_status 200 "$(lb_url /)"
check_workers
pass "after a reload the new workers are nobody too"

[ "$(stat -c %u "$T/logs/access.log")" = "$NOBODY_UID" ] ||
    fail "access.log is not nobody's: $(stat -c '%U %a' "$T/logs/access.log")"
mv "$T/logs/access.log" "$T/logs/access.log.1"
kill -USR1 "$MTLSLB_PID"
for ((i = 0; i < 50; i++)); do
	expect_status 200 "$(lb_url "/?after-usr1")"
	grep -q 'after-usr1' "$T/logs/access.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'after-usr1' "$T/logs/access.log" 2>/dev/null ||
    fail "workers (nobody) did not reopen the access log"
mtlslb_log_since | grep -q 'cannot reopen' &&
    fail "$(mtlslb_log_since | grep -m1 'cannot reopen')"
pass "USR1: workers running as nobody reopen the (nobody's) access log"

# Unknown user: a reload fails, the old generation keeps serving.
sed -i 's/^user = nobody/user = no-such-user-mtlslb/' "$T/lb.ini"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log "reload failed, keeping current configuration: .*lb\.ini:[0-9]+: user: no such user 'no-such-user-mtlslb'" 10 ||
    fail "no 'reload failed' for an unknown user"
expect_status 200 "$(lb_url /)"
pass "reload with an unknown user fails, the old one keeps serving"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
rc=0
"$MTLSLB_BIN" -c "$T/lb.ini" >"$T/start.out" 2>&1 &
p=$!
t_track "$p" "mtlslb unknown user" "$T/start.out"
for ((i = 0; i < 100; i++)); do
	pid_alive "$p" || break
	sleep 0.1
done
pid_alive "$p" && fail "started with an unknown user"
wait "$p" || rc=$?
t_untrack "$p"
[ "$rc" = 1 ] || fail "start with an unknown user: exit $rc, expected 1"
grep -qE "^mtlslb: .*lb\.ini:[0-9]+: user: no such user 'no-such-user-mtlslb'" "$T/start.out" ||
    fail "start with an unknown user: $(cat "$T/start.out")"
pass "start with an unknown user: exit 1 and says why"
sed -i 's/^user = no-such-user-mtlslb/user = nobody/' "$T/lb.ini"

# Key permissions.
chmod 644 "$T/srv.key"
"$MTLSLB_BIN" -t -c "$T/lb.ini" >"$T/t.out" 2>&1 ||
    fail "-t fails on a world-readable key (a warning is enough)"
grep -q "$T/lb.ini:[0-9]*: warning: server_private_key: '$T/srv.key' is readable by every user" "$T/t.out" ||
    fail "-t: no warning for a 0644 key: $(cat "$T/t.out")"
pass "-t warns: $(grep -m1 'readable' "$T/t.out")"
chmod 640 "$T/srv.key"
"$MTLSLB_BIN" -t -c "$T/lb.ini" >"$T/t.out" 2>&1 || fail "-t fails on 0640"
grep -q "is readable by group 0" "$T/t.out" ||
    fail "-t: no warning for a root-group-readable key: $(cat "$T/t.out")"
pass "group-readable (root's group) key: warned"
chmod 644 "$T/srv.key"
log_mark
start_mtlslb "$T/lb.ini"
grep -q "warning: server_private_key: '$T/srv.key' is readable by every user" "$T/mtlslb.log" ||
    fail "no warning at start for a 0644 key"
pass "a 0644 key is warned about at start too"
stop_mtlslb
