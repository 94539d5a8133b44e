#!/bin/bash
# 53-logs: a log that cannot be written never blocks the daemon.
#   stderr is a pipe nobody reads (full after 64 KiB): 600 requests with
#       debug logging and the access log on stderr all get 200, and a
#       reload and a graceful stop still work
#   error_log = syslog (when a private mount namespace can put a socket on
#       /dev/log): the lines arrive as "<PRI>... mtlslb[PID]: ..."
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
need_cmd python3
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
LOG_LEVEL=debug std_config "$T/lb.ini"

# -- a full pipe on stderr
mkfifo "$T/fifo"
exec 7<>"$T/fifo"	# holds the read end open and never reads
"$MTLSLB_BIN" -c "$T/lb.ini" >&7 2>&7 &
MTLSLB_PID=$!
MTLSLB_PORT=$LB_PORT
t_track "$MTLSLB_PID" mtlslb
wait_port "$LB_PORT" 15 "$MTLSLB_PID" || fail "mtlslb did not start"
urls=()
for ((i = 0; i < 200; i++)); do
	urls+=(-o /dev/null "$(lb_url "/?n=$i")")
done
for round in 1 2 3; do
	codes=$(curl_mtls "$(lb_url /)" -o /dev/null -w '%{http_code}\n' \
	    "${urls[@]}" 2>"$T/curl.err") || fail "round $round: curl: $(cat "$T/curl.err")"
	n=$(grep -c '^200$' <<<"$codes") || true
	[ "$n" = 201 ] || fail "round $round: $n of 201 requests got 200"
done
pass "600 requests with a full stderr pipe: all 200"
# The log goes to the pipe nobody reads, so the reload is proven by the
# workers: the master's children must become two new processes (the old
# generation drained and gone, the new one running).
children() {
	local f line pid rest ppid
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		rest=${line##*) }
		rest=${rest#* }
		ppid=${rest%% *}
		[ "$ppid" = "$MTLSLB_PID" ] && echo "$pid"
	done | sort -n | tr '\n' ' ' | sed 's/ $//'
}
old_workers=$(children)
[ "$(wc -w <<<"$old_workers")" = 2 ] ||
    fail "expected 2 workers before the reload, found '$old_workers'"
kill -HUP "$MTLSLB_PID"
for ((i = 0; i < 300; i++)); do
	new_workers=$(children)
	fresh=0 stale=0
	for w in $new_workers; do
		case " $old_workers " in
		*" $w "*) stale=$((stale + 1)) ;;
		*) fresh=$((fresh + 1)) ;;
		esac
	done
	[ "$fresh" = 2 ] && [ "$stale" = 0 ] && break
	pid_alive "$MTLSLB_PID" || fail "the daemon died during the reload"
	sleep 0.1
done
[ "$fresh" = 2 ] && [ "$stale" = 0 ] ||
    fail "reload: workers '$old_workers' not replaced in 30 s (now '$new_workers')"
expect_status 200 "$(lb_url /)"
pass "reload with a full stderr pipe: workers $old_workers -> $new_workers"
stop_mtlslb 10
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS with a full pipe"
pass "graceful stop with a full stderr pipe: exit 0"
exec 7<&-

# -- syslog through a private /dev/log
command -v unshare >/dev/null 2>&1 || skip "unshare not found"
unshare -m true 2>/dev/null || skip "no mount namespaces here: syslog untested"
python3 - "$T/syslog.sock" "$T/syslog.out" "$T/syslog.stop" \
    >"$T/syslogd.out" 2>&1 <<'PY' &
import os, socket, sys, time
path, out, stop = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(0.2)
end = time.time() + 60
with open(out, "a") as f:
    while time.time() < end and not os.path.exists(stop):
        try:
            f.write(s.recv(9000).decode(errors="replace") + "\n")
            f.flush()
        except socket.timeout:
            pass
PY
t_track "$!" syslogd "$T/syslogd.out" "$T/syslog.out"
for ((i = 0; i < 50; i++)); do
	[ -S "$T/syslog.sock" ] && break
	sleep 0.1
done
LB_PORT=$(free_port)
std_config "$T/syslog.ini"
sed -i 's/^error_log = stderr/error_log = syslog/' "$T/syslog.ini"
# In the namespace /dev gets a tmpfs with just "log", bound to our socket.
unshare -m sh -c 'mount --make-rprivate / 2>/dev/null
mount -t tmpfs tmpfs /dev && touch /dev/log &&
mount --bind "$1" /dev/log && ln -s /proc/self/fd /dev/fd 2>/dev/null
exec "$2" -c "$3"' sh "$T/syslog.sock" "$MTLSLB_BIN" "$T/syslog.ini" \
    >>"$T/mtlslb.log" 2>&1 &
MTLSLB_PID=$!
MTLSLB_PORT=$LB_PORT
t_track "$MTLSLB_PID" "mtlslb (syslog)" "$T/mtlslb.log"
if ! wait_port "$LB_PORT" 15 "$MTLSLB_PID"; then
	grep -q 'mount' "$T/mtlslb.log" && skip "cannot mount in a namespace"
	fail "mtlslb with error_log = syslog did not start"
fi
expect_status 200 "$(lb_url /)"
wait_log "$T/syslog.out" '^<30>[A-Z][a-z]{2} [ 0-9][0-9] [0-9:]{8} mtlslb\[[0-9]+\]: \[info\] master: mtlslb .* started' 5 ||
    fail "no start line on syslog: $(head -c 300 "$T/syslog.out")"
pass "error_log = syslog: $(head -n 1 "$T/syslog.out")"
stop_mtlslb
touch "$T/syslog.stop"
