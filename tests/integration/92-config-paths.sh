#!/bin/bash
# 92-config-paths: relative file names in the config, and the config file
# named by a relative path.
#   certificate, key, CA and log names relative to the config's directory
#       pass -t from any working directory (/, the config's, another one
#       with a relative -c), and the daemon serves a 200 with them
#   a relative -c keeps working for reloads after the directory the
#       daemon was started in is gone (the master made it absolute)
#   a log file the user running mtlslb (the master, which creates the logs
#       and hands them to `user`) cannot create or append to fails -t with
#       the file, the line, the reason and the fix; nothing is created.
#       As root the check runs as nobody (setpriv), else in a 0555 directory
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

BE_PORT=$(free_port)
start_backend ECS01 "$BE_PORT"

# The config in $T/etc with its files next to it, named relatively.
mkdir -p "$T/etc/pki" "$T/etc/logs" "$T/run/sub"
cp "$PKI/server.crt" "$PKI/server.key" "$PKI/root.crt" "$T/etc/pki/"
LB_PORT=$(free_port)
SERVERS="server = ECS01 127.0.0.1:$BE_PORT"
SERVER_CERT=pki/server.crt SERVER_KEY=./pki/server.key CA=pki/root.crt \
    std_config "$T/etc/lb.ini"
sed -i 's|^access_log = stderr|access_log = logs/access.log|' "$T/etc/lb.ini"
T_LOGS+=("$T/etc/logs/access.log")

# run_t DIR CONFIG: mtlslb -t -c CONFIG run in DIR; RC, stderr in $T/t.err.
run_t() {
	RC=0
	(cd "$1" && timeout 20 "$MTLSLB_BIN" -t -c "$2") >"$T/t.out" \
	    2>"$T/t.err" || RC=$?
}

for where in "/ $T/etc/lb.ini" "$T/etc lb.ini" "$T/run/sub ../../etc/lb.ini"; do
	dir=${where%% *}
	cfg=${where#* }
	run_t "$dir" "$cfg"
	[ "$RC" = 0 ] || fail "-t -c $cfg in $dir: exit $RC: $(cat "$T/t.err")"
	grep -qxF "mtlslb: $cfg: configuration is valid" "$T/t.err" ||
	    fail "-t -c $cfg in $dir: $(cat "$T/t.err")"
done
pass "relative file names: -t passes from /, the config's directory and another one"

# Start from $T/run/sub with a relative -c, then remove that directory:
# a reload must still find the config and its files.
cd "$T/run/sub"
start_mtlslb ../../etc/lb.ini
cd "$T"
expect_status 200 "$(lb_url "/?first")"
for ((i = 0; i < 50; i++)); do
	grep -q 'GET /?first ' "$T/etc/logs/access.log" 2>/dev/null && break
	sleep 0.1
done
grep -q 'GET /?first ' "$T/etc/logs/access.log" ||
    fail "no access log line in $T/etc/logs/access.log"
pass "started with relative names and -c ../../etc/lb.ini: 200, logged in etc/logs"

rm -rf "$T/run"
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded|reload failed' 20 ||
    fail "no reload outcome: $(mtlslb_log_since)"
mtlslb_log_since | grep -q 'reload failed' &&
    fail "reload failed: $(mtlslb_log_since | grep -m1 'reload failed')"
mtlslb_log_since | grep -qF "reloading $T/etc/lb.ini" ||
    fail "the reload does not name the absolute config: $(mtlslb_log_since)"
expect_status 200 "$(lb_url "/?after-reload")"
pass "after its start directory is gone, a reload reads $T/etc/lb.ini"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"

# -- log files the user running mtlslb cannot write
# as_user CMD...: CMD as the user -t is checked for: nobody when we are root
# (root may write anywhere), else ourselves.
if [ "$(id -u)" = 0 ]; then
	need_cmd setpriv
	id nobody >/dev/null 2>&1 || harness_error "no user nobody"
	WHO=nobody
	as_user() {
		setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
		    "$@"
	}
	as_user "$MTLSLB_BIN" -V >/dev/null 2>&1 ||
	    harness_error "nobody cannot run $MTLSLB_BIN (a directory above it is not searchable)"
else
	WHO=$(id -un)
	as_user() { "$@"; }
fi
WHO_ID="$WHO \\(uid $(id -u "$WHO")\\)"

# A directory only root (or, not as root, nobody) may write; everything
# else readable by the user.
chmod 711 "$T"
mkdir -m 755 "$T/nb" "$T/nb/logs"
cp "$PKI/server.crt" "$PKI/server.key" "$PKI/root.crt" "$T/nb/"
chmod 644 "$T/nb/server.key"	# a warning, not the point here
SERVER_CERT=$T/nb/server.crt SERVER_KEY=$T/nb/server.key CA=$T/nb/root.crt \
    std_config "$T/nb/lb.ini"
sed -i "s|^access_log = stderr|access_log = logs/access.log|" "$T/nb/lb.ini"
chmod 644 "$T/nb/lb.ini"
line=$(grep -n '^access_log' "$T/nb/lb.ini" | cut -d: -f1)

# run_nb: mtlslb -t on $T/nb/lb.ini as that user; RC, stderr in $T/t.err.
run_nb() {
	RC=0
	as_user timeout 20 "$MTLSLB_BIN" -t -c "$T/nb/lb.ini" >"$T/t.out" \
	    2>"$T/t.err" || RC=$?
}

[ "$WHO" = nobody ] || chmod 555 "$T/nb/logs"
run_nb
[ "$RC" = 1 ] || fail "-t with an unwritable log directory: exit $RC: $(cat "$T/t.err")"
if [ "$WHO" = nobody ]; then fix="chown nobody '$T/nb/logs'"
else fix="chmod u\\+w '$T/nb/logs'"; fi
grep -qE "^mtlslb: $T/nb/lb\.ini:$line: access_log: cannot create '$T/nb/logs/access\.log': the directory '$T/nb/logs' is not writable by $WHO_ID, who runs mtlslb \($fix\)\$" "$T/t.err" ||
    fail "-t with an unwritable log directory: $(cat "$T/t.err")"
[ ! -e "$T/nb/logs/access.log" ] || fail "-t created the log file"
pass "unwritable log directory: $(grep -m1 'access_log:' "$T/t.err")"

# Writable once the fix is applied; still nothing created.
if [ "$WHO" = nobody ]; then chown nobody "$T/nb/logs"
else chmod 755 "$T/nb/logs"; fi
run_nb
[ "$RC" = 0 ] || fail "-t after the fix: exit $RC: $(cat "$T/t.err")"
[ ! -e "$T/nb/logs/access.log" ] || fail "-t created the log file"
pass "after '$fix' -t passes and creates nothing"

# An existing log file the user cannot append to.
: >"$T/nb/logs/access.log"	# ours: root's when we are root
if [ "$WHO" = nobody ]; then chmod 644 "$T/nb/logs/access.log"
else chmod 444 "$T/nb/logs/access.log"; fi
run_nb
[ "$RC" = 1 ] || fail "-t with an unwritable log file: exit $RC: $(cat "$T/t.err")"
if [ "$WHO" = nobody ]; then fix="chown nobody '$T/nb/logs/access\.log'"
else fix="chmod u\\+w '$T/nb/logs/access\.log'"; fi
grep -qE "^mtlslb: $T/nb/lb\.ini:$line: access_log: cannot append to '$T/nb/logs/access\.log': Permission denied for $WHO_ID, who runs mtlslb \($fix\)\$" "$T/t.err" ||
    fail "-t with an unwritable log file: $(cat "$T/t.err")"
pass "unwritable log file: $(grep -m1 'access_log:' "$T/t.err")"

pass "92-config-paths: all checks passed"
