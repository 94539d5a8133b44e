#!/bin/bash
# 90-pidfile: the process titles.
#   /proc/PID/cmdline: "mtlslb: master process CONFIG" and "mtlslb: worker
#       N (generation 0)"; comm mtlslb-master and mtlslb-worker
#   after a reload the new workers show "generation 1"
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

need_mtlslb
t_setup
mkpki

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
	want=$(printf 'mtlslb: worker %s (generation %s)|mtlslb-worker\n' \
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
std_config "$T/lb.ini"
start_mtlslb "$T/lb.ini"
expect_status 200 "$(lb_url /)"

# -- process titles
t=$(title "$MTLSLB_PID")
[ "$t" = "mtlslb: master process $T/lb.ini" ] || fail "master title: '$t'"
[ "$(comm "$MTLSLB_PID")" = mtlslb-master ] ||
    fail "master comm: '$(comm "$MTLSLB_PID")'"
pass "master: '$t' (comm mtlslb-master)"
wait_workers 0
pass "workers: $(worker_titles | cut -d'|' -f1 | paste -sd, -) (comm mtlslb-worker)"

# -- a reload: a new generation
log_mark
kill -HUP "$MTLSLB_PID"
wait_mtlslb_log 'configuration reloaded \(generation 1\)' 60 ||
    fail "HUP: no 'configuration reloaded (generation 1)'"
wait_workers 1
expect_status 200 "$(lb_url /)"
pass "reload: workers now $(worker_titles | cut -d'|' -f1 | paste -sd, -)"
stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "exit status $MTLSLB_STATUS"
