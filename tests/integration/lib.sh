# lib.sh: sourced (bash) by every tests/integration/NN-*.sh.
#
# Gives each test a temp dir ($T), free ports, the test PKI ($PKI), the
# backend helper, an nginx backend, and the daemon under test, and stops
# everything it started by PID (TERM, then KILL) when the test exits. On
# failure it dumps the daemon's and the backends' logs to stderr.
#
# Environment: MTLSLB_BIN, BACKEND_BIN, NGINX_BIN, top_srcdir, top_builddir,
# TMPDIR, T_KEEP=1 (keep $T), CURL_TIMEOUT (default 10 s), MTLSLB_WRAPPER
# (a command prefix such as "valgrind -q --error-exitcode=3"),
# MTLSLB_START_TIMEOUT (seconds to wait for the first listener, 15),
# T_DUMP_LINES (how much of each log a failure prints, 60).
# Exit codes: 0 pass, 1 fail, 77 a tool is missing (skip), 99 harness error.
#
# A test passes only if the daemon stayed healthy: at exit every daemon log
# (see daemon_log) is searched for a dead worker ("killed by signal", an
# "exited with status" nobody declared with expect_daemon_exit), a sanitizer
# report (AddressSanitizer, LeakSanitizer, UBSan's "runtime error:") or a
# failed assert(), and every master we started must have left on its own
# (not by a signal): any of these turns the test into a failure.
#
# Conventions: helpers that can fail the test (fail, skip, expect_*) exit
# the script, so never call them inside $(...). Every loop is bounded in
# time and count, every curl has --max-time, and only 127.0.0.1 is used.

set -eu

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
top_srcdir=$(cd "$top_srcdir" && pwd)
: "${top_builddir:=$top_srcdir}"
top_builddir=$(cd "$top_builddir" && pwd)
: "${MTLSLB_BIN:=$top_builddir/src/mtlslb}"
: "${BACKEND_BIN:=$top_builddir/tests/helpers/backend}"
: "${MKPKI:=$top_srcdir/tests/pki/mkpki.sh}"
: "${CURL_TIMEOUT:=10}"

T_NAME=$(basename "$0" .sh)
T=
PKI=
MTLSLB_PID=
MTLSLB_PORT=
MTLSLB_STATUS=
T_PIDS=()
T_LOGS=()
T_DAEMON_LOGS=()
T_EXPECT_EXIT=()
T_DAEMON_EXITS=()
declare -A T_PID_NAME=()
declare -A BACKEND_PID=()

# ---------------------------------------------------------------- reporting

# check_failed MSG: a failed check after which the others can still run;
# the test goes on, and fails at the end when FAILED is not empty.
FAILED=()
check_failed() {
	printf 'FAIL - %s: %s\n' "$T_NAME" "$*" >&2
	FAILED+=("$*")
}

# pass MSG: one line saying what was just checked.
pass() {
	printf 'ok - %s\n' "$*"
}

# fail MSG: the test failed (exit 1; the EXIT trap dumps the logs).
fail() {
	printf 'FAIL - %s: %s\n' "$T_NAME" "$*" >&2
	exit 1
}

# skip MSG: a tool or feature is missing (exit 77).
skip() {
	printf 'SKIP - %s: %s\n' "$T_NAME" "$*" >&2
	exit 77
}

# harness_error MSG: the test could not run as designed (exit 99).
harness_error() {
	printf 'ERROR - %s: %s\n' "$T_NAME" "$*" >&2
	exit 99
}

# need_cmd CMD...: skips the test unless every CMD is in PATH.
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not found"
	done
}

# need_mtlslb: harness error unless the daemon under test is built.
need_mtlslb() {
	[ -x "$MTLSLB_BIN" ] || harness_error "mtlslb not built: $MTLSLB_BIN"
}

# ---------------------------------------------------------------- processes

# t_track PID NAME [LOGFILE...]: stop PID at exit, dump LOGFILEs on failure.
t_track() {
	local pid=$1 name=$2
	shift 2
	local f g
	T_PIDS+=("$pid")
	T_PID_NAME[$pid]=$name
	# a restarted process keeps its files: list each once
	for f in "$@"; do
		for g in "${T_LOGS[@]}"; do
			[ "$g" != "$f" ] || continue 2
		done
		T_LOGS+=("$f")
	done
	case $name in
	mtlslb*) T_DAEMON_LOGS+=("$@") ;;
	esac
}

# daemon_log FILE...: FILE is (also) written by the daemon (an error_log
# file, say): the exit check searches it for dead workers and sanitizer
# reports. $T/mtlslb.log and the logs of every process tracked under a
# name starting with "mtlslb" are searched anyway.
daemon_log() {
	T_DAEMON_LOGS+=("$@")
}

# expect_daemon_exit ERE: a test that makes a worker exit on purpose
# declares it; "exited with status" / "killed by signal" lines matching
# the extended ERE are then not held against the daemon. Example:
#   expect_daemon_exit 'worker 0 \(pid [0-9]+\) killed by signal 9'
expect_daemon_exit() {
	T_EXPECT_EXIT+=("$1")
}

# daemon_exited STATUS: records the exit status of a master we stopped
# (stop_mtlslb does this); a status above 128 (a signal) fails the test
# at exit, so a master that crashed or ignored SIGTERM never passes.
daemon_exited() {
	[ -n "$1" ] && T_DAEMON_EXITS+=("$1")
	return 0
}

# daemon_health_check: prints one line per problem found in the daemon
# logs and exit statuses (see the header); true when there is none.
daemon_health_check() {
	local f files=() seen=' ' bad=0 line ok re st
	local pat='killed by signal|exited with status'
	pat+='|ERROR: (AddressSanitizer|LeakSanitizer)'
	pat+='|LeakSanitizer has encountered'
	pat+='|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer)'
	pat+='|runtime error:|Assertion .* failed'
	[ -n "$T" ] || return 0
	for f in "$T/mtlslb.log" "${T_DAEMON_LOGS[@]}"; do
		case $seen in *" $f "*) continue ;; esac
		seen="$seen$f "
		[ -f "$f" ] && files+=("$f")
	done
	for f in "${files[@]}"; do
		while IFS= read -r line; do
			ok=
			case $line in
			*"killed by signal"* | *"exited with status"*)
				for re in "${T_EXPECT_EXIT[@]}"; do
					if printf '%s\n' "$line" |
					    grep -Eq -- "$re"; then
						ok=1
						break
					fi
				done
				;;
			esac
			[ -n "$ok" ] && continue
			printf '%s: %s\n' "${f#"$T"/}" "$line"
			bad=$((bad + 1))
			[ "$bad" -lt 20 ] || break 2
		done < <(grep -aE -- "$pat" "$f" 2>/dev/null)
	done
	for st in "${T_DAEMON_EXITS[@]}"; do
		if [ "$st" -gt 128 ]; then
			printf 'the mtlslb master ended by signal %s (exit %s)\n' \
			    "$((st - 128))" "$st"
			bad=$((bad + 1))
		fi
	done
	[ "$bad" = 0 ]
}

# t_untrack PID: forget PID (it has been stopped and reaped).
t_untrack() {
	local p keep=()
	for p in "${T_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	T_PIDS=("${keep[@]}")
}

# pid_alive PID: true while PID exists and is not a zombie.
pid_alive() {
	local line st
	kill -0 "$1" 2>/dev/null || return 1
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${line##*) }
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ]
}

# proc_descendants PID: prints every descendant of PID (not PID), via the
# ppid field of /proc/*/stat.
proc_descendants() {
	local -A kids=()
	local f line pid rest ppid p c
	local queue=("$1")
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue
		pid=${line%% *}
		rest=${line##*) }
		rest=${rest#* }
		ppid=${rest%% *}
		kids[$ppid]+="$pid "
	done
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		for c in ${kids[$p]:-}; do
			echo "$c"
			queue+=("$c")
		done
	done
}

# rss_tree_kb PID: resident set size in KiB of PID and all its descendants.
rss_tree_kb() {
	local total=0 p v line
	for p in "$1" $(proc_descendants "$1"); do
		v=0
		while read -r line; do
			case $line in
			VmRSS:*)
				v=${line#VmRSS:}
				v=${v% kB}
				v=${v//[[:space:]]/}
				;;
			esac
		done 2>/dev/null <"/proc/$p/status" || v=0
		total=$((total + ${v:-0}))
	done
	echo "$total"
}

# stop_pid PID [SECONDS]: TERM, wait up to SECONDS (10), then KILL; also
# stops descendants left behind (a daemon's workers). Sets STOP_STATUS to
# the exit status when PID was our child (else empty).
stop_pid() {
	local pid=$1 secs=${2:-10} i kids k
	STOP_STATUS=
	kids=$(proc_descendants "$pid" 2>/dev/null || true)
	if pid_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < secs * 10; i++)); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			echo "$T_NAME: ${T_PID_NAME[$pid]:-pid $pid} ignored" \
			    "SIGTERM for ${secs}s, sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				pid_alive "$pid" || break
				sleep 0.1
			done
		fi
	fi
	if ! pid_alive "$pid"; then
		wait "$pid" 2>/dev/null && STOP_STATUS=0 || STOP_STATUS=$?
	fi
	for k in $kids; do
		pid_alive "$k" || continue
		kill -TERM "$k" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do
			pid_alive "$k" || break
			sleep 0.1
		done
		pid_alive "$k" && kill -KILL "$k" 2>/dev/null
	done
	t_untrack "$pid"
	return 0
}

# ------------------------------------------------------------ setup/cleanup

t_cleanup() {
	local rc=$? p f name problems
	set +e
	trap - EXIT
	for p in "${T_PIDS[@]}"; do
		name=${T_PID_NAME[$p]:-}
		stop_pid "$p" 5
		case $name in
		mtlslb*) daemon_exited "$STOP_STATUS" ;;
		esac
	done
	if [ -n "$T" ] && ! problems=$(daemon_health_check); then
		printf 'FAIL - %s: the daemon was not healthy:\n%s\n' \
		    "$T_NAME" "$problems" >&2
		[ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || rc=1
	fi
	port_release
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$T" ]; then
		for f in "${T_LOGS[@]}" "$T/last.err"; do
			[ -s "$f" ] || continue
			printf -- '---- %s (last %s lines) ----\n' "${f#"$T"/}" \
			    "${T_DUMP_LINES:-60}" >&2
			tail -n "${T_DUMP_LINES:-60}" "$f" >&2
		done
		printf -- '---- %s: exit %s ----\n' "$T_NAME" "$rc" >&2
	fi
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${T_KEEP:-0}" = 1 ]; then
			echo "$T_NAME: kept $T" >&2
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# t_setup: temp dir $T, the EXIT trap, the tools every test needs.
t_setup() {
	need_cmd curl openssl
	[ -x "$BACKEND_BIN" ] || harness_error "backend not built: $BACKEND_BIN"
	T=$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-$T_NAME.XXXXXX") ||
	    harness_error "mktemp failed"
	: >"$T/ports"
	trap t_cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# watch_bg NAME: for the job just started in the background ($!): tracks
# it as NAME, samples the daemon's total RSS (KiB) until it exits (at most
# 180 s) into MAX_RSS, the largest value seen, and reaps it.
watch_bg() {
	local pid=$! r i
	t_track "$pid" "$1"
	MAX_RSS=0
	for ((i = 0; i < 1800; i++)); do
		r=$(rss_tree_kb "$MTLSLB_PID")
		[ "$r" -gt "$MAX_RSS" ] && MAX_RSS=$r
		pid_alive "$pid" || break
		sleep 0.1
	done
	stop_pid "$pid" 5
}

# big_transfers LABEL VERSION: $BIG bytes down from /bytes/$BIG and as many
# up to /upload through the daemon (curl_mtls at 25 MB/s), each intact
# (sha256) and over HTTP/VERSION (curl's %{http_version}), with the
# daemon's RSS under $RSS_LIMIT_KB all the while.
big_transfers() {
	local label=$1 ver=$2 want base rc
	want=$("$BACKEND_BIN" --gen "$BIG" | sha256_of -)
	base=$(rss_tree_kb "$MTLSLB_PID")
	(
		curl_mtls "$(lb_url "/bytes/$BIG")" --max-time 150 \
		    --limit-rate 25M -w '%{stderr}version=%{http_version}\n' \
		    2>"$T/dl.err" | sha256_of - >"$T/dl.sha"
		echo "${PIPESTATUS[0]}" >"$T/dl.rc"
	) &
	watch_bg download
	[ "$(cat "$T/dl.rc" 2>/dev/null)" = 0 ] || fail "$label download:" \
	    "curl exit $(cat "$T/dl.rc" 2>/dev/null): $(cat "$T/dl.err")"
	grep -qx "version=$ver" "$T/dl.err" ||
	    fail "$label download: not over HTTP/$ver: $(cat "$T/dl.err")"
	[ "$(cat "$T/dl.sha")" = "$want" ] ||
	    fail "$label download: sha256 $(cat "$T/dl.sha"), want $want"
	[ "$MAX_RSS" -lt "$RSS_LIMIT_KB" ] || fail "$label download: daemon" \
	    "RSS reached $MAX_RSS KiB (limit $RSS_LIMIT_KB)"
	pass "$label download intact (sha256), daemon RSS ${base} -> max" \
	    "${MAX_RSS} KiB"

	head -c "$BIG" /dev/urandom >"$T/up.bin"
	want=$(sha256_of "$T/up.bin")
	(
		rc=0
		curl_mtls "$(lb_url /upload)" --max-time 150 --limit-rate 25M \
		    --data-binary "@$T/up.bin" -o "$T/up.out" \
		    -w '%{http_version}' >"$T/up.v" 2>"$T/up.err" || rc=$?
		echo "$rc" >"$T/up.rc"
	) &
	watch_bg upload
	[ "$(cat "$T/up.rc" 2>/dev/null)" = 0 ] || fail "$label upload:" \
	    "curl exit $(cat "$T/up.rc" 2>/dev/null): $(cat "$T/up.err")"
	[ "$(cat "$T/up.v")" = "$ver" ] ||
	    fail "$label upload: not over HTTP/$ver ($(cat "$T/up.v"))"
	grep -qx "sha256=$want bytes=$BIG" "$T/up.out" ||
	    fail "$label upload: backend says '$(cat "$T/up.out")'," \
	    "want sha256=$want"
	[ "$MAX_RSS" -lt "$RSS_LIMIT_KB" ] || fail "$label upload: daemon" \
	    "RSS reached $MAX_RSS KiB (limit $RSS_LIMIT_KB)"
	pass "$label upload intact (sha256), daemon RSS max ${MAX_RSS} KiB"
	rm -f "$T/up.bin"
}

# issue_server_cert NAME ec|rsa SAN: a server certificate for SAN (an
# openssl subjectAltName value) from the test root, in $T/NAME.crt and
# $T/NAME.key (after mkpki).
issue_server_cert() {
	local name=$1 alg=$2 san=$3
	case $alg in
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$T/$name.key" 2>>"$T/pki.log" ;;
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$T/$name.key" 2>>"$T/pki.log" ;;
	esac
	chmod 600 "$T/$name.key"
	openssl req -new -key "$T/$name.key" -subj "/CN=$name" \
	    -out "$T/$name.csr" 2>>"$T/pki.log" &&
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" \
	    >"$T/$name.ext" &&
	openssl x509 -req -in "$T/$name.csr" -CA "$PKI/root.crt" \
	    -CAkey "$PKI/root.key" -CAcreateserial -days 30 -sha256 \
	    -extfile "$T/$name.ext" -out "$T/$name.crt" 2>>"$T/pki.log" ||
	    harness_error "cannot issue $name: $(tail -n 5 "$T/pki.log")"
}

# mkpki: the test PKI in $PKI ($T/pki), made once per test.
mkpki() {
	PKI=$T/pki
	[ -s "$PKI/client.p12" ] && return 0
	local rc=0
	sh "$MKPKI" "$PKI" >"$T/mkpki.log" 2>&1 || rc=$?
	case $rc in
	0) ;;
	77) skip "mkpki: $(cat "$T/mkpki.log")" ;;
	*) cat "$T/mkpki.log" >&2; harness_error "mkpki.sh failed ($rc)" ;;
	esac
}

# write_config FILE: FILE gets stdin (use with a heredoc).
write_config() {
	cat >"$1"
}

# ------------------------------------------------------------------ ports

# port_open PORT: true if something accepts on 127.0.0.1:PORT.
port_open() {
	if command -v timeout >/dev/null 2>&1; then
		# shellcheck disable=SC2016 # $0 is expanded by the inner bash
		timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" \
		    2>/dev/null
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# Ports. Under "make check -j" several tests (and other checkouts' tests)
# run at once, and every client connection takes a source port from the
# kernel's ephemeral range. So free_port hands out ports from BELOW that
# range (PORT_LO..ephemeral low - 1, 20000..32767 on Linux' defaults),
# where the kernel never puts a client, starting at a point derived from
# the test name and PID, and reserves each one machine-wide: the
# directory $PORT_LOCKS/PORT (renamed into place: atomic) names its
# owner, "PID STARTTIME" of the test's shell; a reservation whose owner is
# gone is taken over. No socket may use the port now (any address, any
# state). Reservations are released at exit.
: "${PORT_LOCKS:=/tmp/mtlslb-test-ports}"
: "${PORT_LO:=20000}"

# t_owner_id: "PID STARTTIME" of this test's shell (survives $(...)).
t_owner_id() {
	local line rest
	{ read -r line <"/proc/$$/stat"; } 2>/dev/null || { echo "$$ 0"; return; }
	rest=${line##*) }
	# field 22 (starttime) is the 20th after "comm)"
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $rest
	echo "$$ ${20:-0}"
}

# port_owner_alive DIR: true while the test that reserved DIR still runs.
port_owner_alive() {
	local pid st line rest
	read -r pid st <"$1/owner" 2>/dev/null || return 1
	[ -n "$pid" ] || return 1
	{ read -r line <"/proc/$pid/stat"; } 2>/dev/null || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086 # split into fields on purpose
	set -- $rest
	[ "${20:-0}" = "$st" ]
}

# port_reserve PORT: true if this test now holds PORT. The directory is
# made complete (with its owner file) aside and renamed into place, so
# nobody ever sees a reservation without an owner.
port_reserve() {
	local d=$PORT_LOCKS/$1 tmp=$PORT_LOCKS/.new.$$.$1
	rm -rf "$tmp"
	mkdir "$tmp" 2>/dev/null || return 1
	t_owner_id >"$tmp/owner"
	mv -T "$tmp" "$d" 2>/dev/null && return 0
	# Held, or held by a test that died: take over only a dead one.
	if ! port_owner_alive "$d" && mv -T "$d" "$d.stale.$$" 2>/dev/null; then
		if port_owner_alive "$d.stale.$$"; then
			# Raced with another taker: give its fresh one back.
			mv -T "$d.stale.$$" "$d" 2>/dev/null
		else
			rm -rf "$d.stale.$$"
			mv -T "$tmp" "$d" 2>/dev/null && return 0
		fi
	fi
	rm -rf "$tmp"
	return 1
}

# port_bindable PORT: no TCP socket on this machine uses PORT as its local
# port now, in any state (listening, connected, TIME_WAIT), per
# /proc/net/tcp and tcp6 (read with awk: a python3 per port would cost
# seconds on a loaded machine).
port_bindable() {
	local hex
	hex=$(printf ':%04X' "$1")
	if [ -r /proc/net/tcp ]; then
		if awk -v p="$hex" '$2 ~ p "$" { found = 1; exit }
		    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
		then
			return 1
		fi
	elif port_open "$1"; then
		return 1
	fi
	return 0
}

# free_port: prints a port nothing else uses, reserved for this test until
# it exits (safe inside $(...)).
free_port() {
	local p i lo=32768 hi=60999 base span h
	[ -n "$T" ] || harness_error "free_port before t_setup"
	if [ -r /proc/sys/net/ipv4/ip_local_port_range ]; then
		read -r lo hi </proc/sys/net/ipv4/ip_local_port_range || true
	fi
	mkdir -p "$PORT_LOCKS" 2>/dev/null && chmod 1777 "$PORT_LOCKS" 2>/dev/null
	if [ "$lo" -gt $((PORT_LO + 1000)) ]; then
		base=$PORT_LO
		span=$((lo - PORT_LO))
	else
		# An unusual ephemeral range: use the ports above it.
		base=$((hi + 1))
		span=$((65535 - hi))
	fi
	[ "$span" -ge 100 ] ||
	    harness_error "free_port: no port range outside $lo-$hi"
	h=$(printf '%s %s' "$T_NAME" "$$" | cksum | cut -d' ' -f1)
	p=$((base + h % span))
	for ((i = 0; i < 500; i++)); do
		p=$((base + (p - base + 1) % span))
		grep -qx "$p" "$T/ports" 2>/dev/null && continue
		port_reserve "$p" || continue
		echo "$p" >>"$T/ports"
		if ! port_bindable "$p"; then
			rm -rf "${PORT_LOCKS:?}/$p"
			continue
		fi
		echo "$p"
		return 0
	done
	echo "$T_NAME: free_port: no free port found" >&2
	exit 99
}

# port_release: gives back this test's reservations (at exit).
port_release() {
	local p me d
	[ -n "$T" ] && [ -f "$T/ports" ] || return 0
	me=$(t_owner_id)
	while read -r p; do
		d=$PORT_LOCKS/$p
		[ "$(cat "$d/owner" 2>/dev/null)" = "$me" ] && rm -rf "$d"
	done <"$T/ports"
	return 0
}

# closed_port: a port nothing listens on (for "backend down" tests).
closed_port() {
	free_port
}

# wait_port PORT [SECONDS] [PID]: waits until 127.0.0.1:PORT accepts;
# false on timeout or as soon as PID (if given) is gone.
wait_port() {
	local port=$1 secs=${2:-10} pid=${3:-} i
	for ((i = 0; i < secs * 10; i++)); do
		port_open "$port" && return 0
		if [ -n "$pid" ] && ! pid_alive "$pid"; then
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# wait_port_closed PORT [SECONDS]: waits until nothing accepts on PORT.
wait_port_closed() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		port_open "$port" || return 0
		sleep 0.1
	done
	return 1
}

# wait_log FILE REGEX [SECONDS] [PID]: waits until FILE has a line matching
# the extended REGEX; false on timeout or once PID (if given) is gone.
wait_log() {
	local file=$1 re=$2 secs=${3:-10} pid=${4:-} i
	for ((i = 0; i < secs * 10; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! pid_alive "$pid"; then
			grep -Eq -- "$re" "$file" 2>/dev/null && return 0
			return 1
		fi
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- backends

# start_backend NAME PORT [backend args...]: the helper backend on
# 127.0.0.1:PORT answering as NAME; request log in $T/NAME.requests,
# stdout/stderr in $T/NAME.out, pid in ${BACKEND_PID[NAME]}.
start_backend() {
	local name=$1 port=$2 pid
	shift 2
	"$BACKEND_BIN" --listen "127.0.0.1:$port" --name "$name" \
	    --log "$T/$name.requests" "$@" >"$T/$name.out" 2>&1 &
	pid=$!
	t_track "$pid" "backend $name" "$T/$name.out" "$T/$name.requests"
	BACKEND_PID[$name]=$pid
	wait_log "$T/$name.out" '^listening on ' 10 "$pid" ||
	    harness_error "backend $name did not start on port $port"
}

# stop_backend NAME: stops a backend started by start_backend.
stop_backend() {
	local pid=${BACKEND_PID[$1]:-}
	[ -n "$pid" ] || harness_error "stop_backend: no backend $1"
	stop_pid "$pid" 35	# it drains for 30 s at most
	unset "BACKEND_PID[$1]"
}

# backend_hits NAME [ERE]: how many requests (matching ERE) NAME has logged.
backend_hits() {
	local n
	n=$(grep -Ec -- "${2:-.}" "$T/$1.requests" 2>/dev/null) || true
	echo "${n:-0}"
}

# start_nginx_backend NAME PORT: a private nginx (own prefix, conf, pid,
# logs under $T/nginx-NAME, "daemon off", one process) on 127.0.0.1:PORT:
#   /          200 "Hello World ! This is NAME.\n"
#   /headers   200, the interesting request headers as "Name: value" lines
#   /status/NNN (200, 400, 404, 500, 502, 503)  that status
#   anything else 404; every answer carries X-Backend: NAME.
#   /tls       200 "PROTOCOL REUSED CLIENT-DN" of the TLS connection
#   /pp        200 "ADDR:PORT" of the PROXY header (NGINX_PROXY_PROTOCOL=1:
#              every connection must start with one)
# Requests are logged to $T/NAME.requests as "METHOD TARGET". Skips (77)
# without nginx. With NGINX_TLS_CERT and NGINX_TLS_KEY it speaks HTTPS
# (TLS backends), and with NGINX_CLIENT_CA too it requires a client
# certificate issued by that CA (ssl_verify_client on).
start_nginx_backend() {
	local name=$1 port=$2 nginx dir pid v temps='' m ssl='' listen=''
	nginx=${NGINX_BIN:-$(command -v nginx 2>/dev/null || true)}
	[ -n "$nginx" ] || nginx=/usr/sbin/nginx
	[ -x "$nginx" ] || skip "nginx not found"
	dir=$T/nginx-$name
	mkdir -p "$dir/logs" "$dir/tmp"
	v=$("$nginx" -V 2>&1)
	for m in client_body proxy fastcgi uwsgi scgi; do
		case $v in *"--without-http_${m}_module"*) continue ;; esac
		case $m in
		client_body) ;;
		*) case $v in *"--http-${m}-temp-path"*) ;; *) continue ;; esac ;;
		esac
		temps="$temps	${m}_temp_path $dir/tmp/$m;
"
	done
	if [ -n "${NGINX_TLS_CERT:-}" ]; then
		listen=' ssl'
		ssl="		ssl_certificate $NGINX_TLS_CERT;
		ssl_certificate_key $NGINX_TLS_KEY;
		ssl_session_cache shared:$name:1m;
		access_log $T/$name.tls tls;
"
		[ -z "${NGINX_CLIENT_CA:-}" ] || ssl="$ssl		ssl_client_certificate $NGINX_CLIENT_CA;
		ssl_verify_client on;
"
	fi
	[ -z "${NGINX_PROXY_PROTOCOL:-}" ] || listen="$listen proxy_protocol"
	# Map each header to a whole "Name: value\n" line, empty when absent.
	write_config "$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log notice;
events {
	worker_connections 256;
}
http {
	log_format reqs '\$request_method \$request_uri';
	# TLS backends also log whether each request's session resumed
	log_format tls '\$request_uri \$ssl_session_reused';
	access_log $T/$name.requests reqs;
$temps
	default_type text/plain;
	keepalive_requests 10000;
	server_tokens off;
	map \$http_x_forwarded_for \$h_xff {
		"" "";
		default "X-Forwarded-For: \$http_x_forwarded_for\n";
	}
	map \$http_x_forwarded_proto \$h_xfp {
		"" "";
		default "X-Forwarded-Proto: \$http_x_forwarded_proto\n";
	}
	map \$http_x_forwarded_clientcert_subjectdn \$h_subj {
		"" "";
		default "X-Forwarded-Clientcert-subjectdn: \$http_x_forwarded_clientcert_subjectdn\n";
	}
	map \$http_x_forwarded_clientcert_issuerdn \$h_iss {
		"" "";
		default "X-Forwarded-Clientcert-issuerdn: \$http_x_forwarded_clientcert_issuerdn\n";
	}
	map \$http_x_forwarded_clientcert_fingerprint \$h_fp {
		"" "";
		default "X-Forwarded-Clientcert-fingerprint: \$http_x_forwarded_clientcert_fingerprint\n";
	}
	map \$http_x_forwarded_clientcert_serialnumber \$h_ser {
		"" "";
		default "X-Forwarded-Clientcert-serialnumber: \$http_x_forwarded_clientcert_serialnumber\n";
	}
	map \$http_x_forwarded_clientcert_clientverify \$h_ver {
		"" "";
		default "X-Forwarded-Clientcert-clientverify: \$http_x_forwarded_clientcert_clientverify\n";
	}
	map \$http_connection \$h_conn {
		"" "";
		default "Connection: \$http_connection\n";
	}
	server {
		listen 127.0.0.1:$port$listen;
$ssl		add_header X-Backend $name always;
		location = /tls {
			return 200 "\$ssl_protocol \$ssl_session_reused \$ssl_client_s_dn\n";
		}
		location = /pp {
			return 200 "\$proxy_protocol_addr:\$proxy_protocol_port\n";
		}
		location = / {
			return 200 "Hello World ! This is $name.\n";
		}
		location = /headers {
			return 200 "Host: \$http_host\n\$h_xff\$h_xfp\$h_subj\$h_iss\$h_fp\$h_ser\$h_ver\$h_conn";
		}
		location = /status/200 { return 200 "status 200 from $name\n"; }
		location = /status/400 { return 400 "status 400 from $name\n"; }
		location = /status/404 { return 404 "status 404 from $name\n"; }
		location = /status/500 { return 500 "status 500 from $name\n"; }
		location = /status/502 { return 502 "status 502 from $name\n"; }
		location = /status/503 { return 503 "status 503 from $name\n"; }
		location / {
			return 404 "status 404 from $name\n";
		}
	}
}
EOF
	"$nginx" -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" \
	    >"$dir/out" 2>&1 &
	pid=$!
	t_track "$pid" "nginx $name" "$dir/out" "$dir/logs/error.log" \
	    "$T/$name.requests"
	BACKEND_PID[$name]=$pid
	wait_port "$port" 10 "$pid" ||
	    harness_error "nginx backend $name did not start on port $port"
}

# ------------------------------------------------------------------ daemon

# config_first_port FILE: the port of the first "bind =" in FILE.
config_first_port() {
	local addr
	addr=$(sed -n 's/^[[:space:]]*bind[[:space:]]*=[[:space:]]*\([^;#[:space:]]*\).*/\1/p' "$1" | head -n 1)
	[ -n "$addr" ] || return 1
	echo "${addr##*:}"
}

# start_mtlslb CONFIG: runs "$MTLSLB_BIN -c CONFIG" in the foreground as a
# background job, output appended to $T/mtlslb.log; waits until the first
# listener port accepts. Sets MTLSLB_PID and MTLSLB_PORT. Fails with the
# log if the daemon exits instead. If it could not bind one of our ports
# because something else took it since free_port (EADDRINUSE), that port
# is replaced by a new one in CONFIG and in every upper-case variable that
# held it (LB_PORT, PA, ...), and the start is tried again (3 times).
start_mtlslb() {
	local cfg=$1 port attempt mark old new v flags
	need_mtlslb
	local secs=${MTLSLB_START_TIMEOUT:-15}
	for attempt in 1 2 3; do
		port=$(config_first_port "$cfg") ||
		    harness_error "start_mtlslb: no bind = in $cfg"
		mark=0
		[ -f "$T/mtlslb.log" ] && mark=$(wc -l <"$T/mtlslb.log")
		# shellcheck disable=SC2086 # the wrapper is a word list
		${MTLSLB_WRAPPER:-} "$MTLSLB_BIN" -c "$cfg" >>"$T/mtlslb.log" 2>&1 &
		MTLSLB_PID=$!
		t_track "$MTLSLB_PID" mtlslb "$T/mtlslb.log"
		if wait_port "$port" "$secs" "$MTLSLB_PID"; then
			MTLSLB_PORT=$port
			return 0
		fi
		if pid_alive "$MTLSLB_PID"; then
			fail "mtlslb does not accept on port $port after ${secs}s"
		fi
		wait "$MTLSLB_PID" 2>/dev/null && MTLSLB_STATUS=0 ||
		    MTLSLB_STATUS=$?
		t_untrack "$MTLSLB_PID"
		daemon_exited "$MTLSLB_STATUS"
		old=$(tail -n "+$((mark + 1))" "$T/mtlslb.log" | sed -n \
		    's/.*cannot bind [^ ]*:\([0-9][0-9]*\): Address already in use.*/\1/p' |
		    head -n 1)
		if [ -z "$old" ] || [ "$attempt" = 3 ] ||
		    ! grep -qx "$old" "$T/ports"; then
			break
		fi
		new=$(free_port)
		echo "# port $old was taken by someone else: retrying on $new" >&2
		sed -i -E "s/:$old([^0-9]|\$)/:$new\1/g" "$cfg"
		for v in $(compgen -v); do
			[[ $v =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
			[ "${!v}" = "$old" ] || continue
			flags=$(declare -p "$v" 2>/dev/null)
			flags=${flags#declare -}
			[[ ${flags%% *} == *r* ]] && continue
			printf -v "$v" '%s' "$new"
		done
	done
	fail "mtlslb exited ($MTLSLB_STATUS) instead of listening on" \
	    "port $port"
}

# stop_mtlslb [SECONDS]: TERM then KILL; sets MTLSLB_STATUS (exit status).
stop_mtlslb() {
	[ -n "$MTLSLB_PID" ] || return 0
	stop_pid "$MTLSLB_PID" "${1:-15}"
	MTLSLB_STATUS=$STOP_STATUS
	daemon_exited "$MTLSLB_STATUS"
	MTLSLB_PID=
}

# std_config FILE: writes the standard one-listener, one-group config.
# Knobs (shell variables; prefix them to the call, e.g.
# MTLS=optional std_config "$T/lb.ini"):
#   LB_PORT (required)  SERVERS (required: "server = ..." lines)
#   WORKERS=2 LOG_LEVEL=info MTLS=on CA=$PKI/root.crt (CA= omits the key)
#   CRL= (unset: no crl key) VERIFY_DEPTH=3 FORWARD_CERT=on
#   REJECT_WITH=http_400 SERVER_CERT=$PKI/server.crt
#   SERVER_KEY=$PKI/server.key SCHED=round_robin BACKEND_TIMEOUT=60s
#   HEALTH_CHECK=off LISTENER_EXTRA= GROUP_EXTRA= GLOBAL_EXTRA= (more lines)
std_config() {
	local ca=${CA-$PKI/root.crt}
	[ -n "${LB_PORT:-}" ] || harness_error "std_config: LB_PORT unset"
	[ -n "${SERVERS:-}" ] || harness_error "std_config: SERVERS unset"
	{
		cat <<EOF
[global]
workers = ${WORKERS:-2}
log_level = ${LOG_LEVEL:-info}
error_log = stderr
access_log = stderr
${GLOBAL_EXTRA:-}

[listener https]
bind = 127.0.0.1:$LB_PORT
server_certificate = ${SERVER_CERT:-$PKI/server.crt}
server_private_key = ${SERVER_KEY:-$PKI/server.key}
mutual_authentication = ${MTLS:-on}
EOF
		[ -z "$ca" ] || echo "ca_certificate = $ca"
		[ -z "${CRL:-}" ] || echo "crl = $CRL"
		cat <<EOF
verify_depth = ${VERIFY_DEPTH:-3}
server_group = default
forward_client_cert = ${FORWARD_CERT:-on}
reject_with = ${REJECT_WITH:-http_400}
${LISTENER_EXTRA:-}

[server_group default]
scheduler = ${SCHED:-round_robin}
$SERVERS
backend_timeout = ${BACKEND_TIMEOUT:-60s}
health_check = ${HEALTH_CHECK:-off}
${GROUP_EXTRA:-}
EOF
	} >"$1"
}

# restart_mtlslb FILE: stop the daemon if running, write FILE with
# std_config on a fresh LB_PORT, start it, and set a log mark.
restart_mtlslb() {
	stop_mtlslb
	LB_PORT=$(free_port)
	std_config "$1"
	log_mark
	start_mtlslb "$1"
}

# log_mark: remember how far $T/mtlslb.log goes; wait_mtlslb_log and
# mtlslb_log_since look only at what comes after.
log_mark() {
	LOG_MARK=0
	[ -f "$T/mtlslb.log" ] && LOG_MARK=$(wc -l <"$T/mtlslb.log")
	LOG_MARK=${LOG_MARK// /}
}
LOG_MARK=0

# mtlslb_log_since: prints the daemon log after the mark.
mtlslb_log_since() {
	tail -n "+$((LOG_MARK + 1))" "$T/mtlslb.log" 2>/dev/null || true
}

# wait_mtlslb_log REGEX [SECONDS]: true once a daemon log line after the
# mark matches the extended REGEX (the workers log asynchronously).
wait_mtlslb_log() {
	local re=$1 secs=${2:-5} i
	for ((i = 0; i < secs * 10; i++)); do
		mtlslb_log_since | grep -Eq -- "$re" && return 0
		sleep 0.1
	done
	return 1
}

# lb_url PATH: https://127.0.0.1:$MTLSLB_PORT/PATH
lb_url() {
	echo "https://127.0.0.1:$MTLSLB_PORT${1:-/}"
}

# ------------------------------------------------------------------- curl

# curl_mtls URL [curl args...]: curl with the test root as CA and, unless
# CERT=none, the client certificate $PKI/${CERT:-client}.{crt,key}.
# CACERT overrides the CA file. Example: CERT=other curl_mtls "$(lb_url /)"
# It speaks HTTP/1.1 (the daemon offers h2 too): CURL_HTTP=--http2 makes
# it negotiate HTTP/2 (41-h2.sh; the whole suite can run so as well).
curl_mtls() {
	local url=$1 id=${CERT:-client}
	shift
	local a=(-sS --max-time "$CURL_TIMEOUT" --cacert "${CACERT:-$PKI/root.crt}"
	    "${CURL_HTTP:---http1.1}")
	if [ "$id" != none ]; then
		a+=(--cert "$PKI/$id.crt" --key "$PKI/$id.key")
	fi
	curl "${a[@]}" "$@" "$url"
}

# http_get URL [curl args...]: one request through curl_mtls; never fails.
# Sets HTTP_CODE ("000" when no HTTP answer) and CURL_RC; the body is in
# $T/last.body, the response head in $T/last.headers, curl's stderr in
# $T/last.err.
http_get() {
	local url=$1
	shift
	rm -f "$T/last.body" "$T/last.headers"
	CURL_RC=0
	HTTP_CODE=$(curl_mtls "$url" -o "$T/last.body" -D "$T/last.headers" \
	    -w '%{http_code}' "$@" 2>"$T/last.err") || CURL_RC=$?
	[ -n "$HTTP_CODE" ] || HTTP_CODE=000
	touch "$T/last.body" "$T/last.headers"
}

# last_summary: curl's verdict and the start of the last body, for messages.
last_summary() {
	printf 'curl exit %s: %s; body: %s' "$CURL_RC" \
	    "$(head -c 300 "$T/last.err" | tr '\n' ' ')" \
	    "$(head -c 300 "$T/last.body" | tr '\n' ' ')"
}

# expect_status CODE URL [curl args...]: the answer has HTTP status CODE.
expect_status() {
	local want=$1 url=$2
	shift 2
	http_get "$url" "$@"
	[ "$HTTP_CODE" = "$want" ] ||
	    fail "$url: expected HTTP $want, got $HTTP_CODE ($(last_summary))"
}

# expect_body_contains STRING URL [curl args...]: GET, and the body has
# STRING (fixed string).
expect_body_contains() {
	local s=$1 url=$2
	shift 2
	http_get "$url" "$@"
	grep -qF -- "$s" "$T/last.body" ||
	    fail "$url: body lacks '$s' (HTTP $HTTP_CODE, $(last_summary))"
}

# last_body_contains STRING: the last body has STRING (fixed string).
last_body_contains() {
	grep -qF -- "$1" "$T/last.body"
}

# last_header NAME: prints the value of response header NAME (the first
# one, case-insensitive name, CR stripped) of the last http_get.
last_header() {
	local n
	n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
	tr -d '\r' <"$T/last.headers" | awk -v n="$n" '
	    { i = index($0, ":"); if (i == 0) next
	      if (tolower(substr($0, 1, i - 1)) == n) {
		v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

# req_header NAME: the value of request header NAME (first one, name
# case-insensitive) in the last body, which is a backend's /headers dump.
req_header() {
	local n
	n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
	tr -d '\r' <"$T/last.body" | awk -v n="$n" '
	    { i = index($0, ":"); if (i == 0) next
	      if (tolower(substr($0, 1, i - 1)) == n) {
		v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }'
}

# req_header_count NAME: how many NAME lines the /headers dump has.
req_header_count() {
	local n
	n=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
	tr -d '\r' <"$T/last.body" | awk -v n="$n" '
	    BEGIN { c = 0 }
	    { i = index($0, ":"); if (i == 0) next
	      if (tolower(substr($0, 1, i - 1)) == n) c++ }
	    END { print c }'
}

# tls_resume PORT NAME [IN [REQUEST]]: one openssl s_client connection
# to 127.0.0.1:PORT with the client certificate $PKI/${CERT:-client}.*
# sending REQUEST (printf format; default a GET /headers that closes);
# saves the session in $T/NAME.sess and the output in $T/NAME.out,
# offers the session $T/IN.sess when IN is given, and prints New or Reused.
tls_resume() {
	local a=(-connect "127.0.0.1:$1" -CAfile "$PKI/root.crt"
	    -cert "$PKI/${CERT:-client}.crt" -key "$PKI/${CERT:-client}.key"
	    -sess_out "$T/$2.sess" -ign_eof)
	[ -z "${3:-}" ] || a+=(-sess_in "$T/$3.sess")
	# shellcheck disable=SC2059 # the request is a format
	printf "${4:-GET /headers HTTP/1.1\\r\\nHost: t\\r\\nConnection: close\\r\\n\\r\\n}" |
	    timeout 60 openssl s_client "${a[@]}" >"$T/$2.out" 2>&1
	sed -n 's/^\(New\|Reused\), .*/\1/p' "$T/$2.out" | head -n 1
}

# expect_tls_reject URL [curl args...]: the TLS layer refuses the client
# (CERT, as in curl_mtls) and no HTTP status arrives. Only a real
# rejection passes: the certificate files must exist (curl exit 58, "cannot
# load the client certificate", is never a rejection), curl must fail in
# TLS (35, 16) or right after it (55/56: TLS 1.3 checks the client
# certificate after the client's Finished), and since a worker that dies
# produces 55/56 too, the same client is replayed with openssl s_client,
# which must receive a TLS alert from the server (SSL alert number N) and
# no HTTP answer. Sets TLS_ALERT (e.g. "tlsv13 alert certificate required").
expect_tls_reject() {
	local url=$1 id=${CERT:-client} ca=${CACERT:-$PKI/root.crt} f hp
	local a=()
	shift
	[ "$id" = none ] || a=(-cert "$PKI/$id.crt" -key "$PKI/$id.key")
	for f in "$ca" ${a[1]:+"${a[1]}"} ${a[3]:+"${a[3]}"}; do
		[ -r "$f" ] || harness_error "expect_tls_reject: no file $f"
	done
	http_get "$url" "$@"
	[ "$HTTP_CODE" = 000 ] ||
	    fail "$url: expected a TLS rejection, got HTTP $HTTP_CODE"
	case $CURL_RC in
	35 | 16 | 55 | 56) ;;
	58) fail "$url: curl could not load the client certificate (exit 58)," \
	    "that is not a rejection: $(last_summary)" ;;
	*) fail "$url: expected curl exit 35, 16, 55 or 56 (TLS), got" \
	    "$(last_summary)" ;;
	esac
	hp=${url#https://}
	hp=${hp%%/*}
	printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
	    timeout 20 openssl s_client -connect "$hp" -CAfile "$ca" "${a[@]}" \
	    -ign_eof -brief >"$T/last.s_client" 2>&1 || true
	if grep -q '^HTTP/1' "$T/last.s_client"; then
		fail "$url: openssl s_client as $id got an HTTP answer:" \
		    "$(grep -m1 '^HTTP/1' "$T/last.s_client")"
	fi
	grep -q 'SSL alert number' "$T/last.s_client" ||
	    fail "$url: the server sent no TLS alert to $id (curl: $(last_summary));" \
	    "s_client: $(tail -n 3 "$T/last.s_client" | tr '\n' ' ')"
	# shellcheck disable=SC2034 # for the tests' messages
	TLS_ALERT=$(grep -oE '(sslv3|tlsv1|tlsv13) alert [a-z ]+' \
	    "$T/last.s_client" | head -n 1)
}

# sha256_of FILE: prints the hex SHA-256 of FILE ("-" for stdin).
sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | cut -d' ' -f1
	else
		openssl dgst -sha256 -r "$1" | cut -d' ' -f1
	fi
}
