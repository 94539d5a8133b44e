#!/usr/bin/env bash
# Side-by-side benchmark of mTLS-terminating reverse proxies on one machine.
#
#   bench/run.sh [--proxy nginx|haproxy|mtlslb|all|LIST] [--flavour ecdsa|rsa|both]
#                [--seconds N] [--workers N] [--mem-conns N]
#                [--proxy-cpus LIST] [--load-cpus LIST] [--tls 1.3|1.2|auto]
#                [--rounds N] [--quiet-wait SECONDS] [--retries N] [--budget SECONDS]
#                [--smoke]
#
# --smoke (for CI: it proves the harness still runs): no crypto floor
# (openssl speed), no direct-to-backend baseline, 100 idle connections.
#
# Prints a markdown table and writes it to $BENCH_RESULTS/LATEST.md (default /tmp/mtlslb-bench/results) (plus a
# dated copy). Raw outputs stay in $BENCH_WORK/runs/<id>/ (default /tmp/mtlslb-bench/work).
# Exits 0 even if a proxy fails; the failure is noted in the table.
# See bench/README.md for what is measured and the caveats.
set -u -o pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$BENCH/.." && pwd)
LIB=$BENCH/lib
ADAPTERS=$BENCH/adapters
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/mtlslb-bench/work}
RESULTS=${BENCH_RESULTS:-${TMPDIR:-/tmp}/mtlslb-bench/results}

PROXIES=all
FLAVOURS=ecdsa
SECS=10
WORKERS=1
MEM_CONNS=1000
PROXY_CPUS=0
LOAD_CPUS=1
KA_C=32        # keep-alive throughput concurrency
HS_C=16        # handshake-rate concurrency
LAT_KA_C=8     # "moderate" concurrency for latency, keep-alive
LAT_HS_C=4     # "moderate" concurrency for latency, new connection per request
QUIET_MAX=15   # seconds to wait, before each measurement, for other load to go away
QUIET_BUSY=0.05 # "quiet" = every core under 5% busy for 0.5 s
ROUNDS=1       # repeat the whole per-proxy sequence, proxies interleaved
RETRIES=1      # extra attempts of a throughput run disturbed by other tenants
RETRY_OVER=0.10 # ... when they took more than 10% of a core
BUDGET=0       # seconds for the whole run; 0 = auto. Quiet-waits and retries are
               # dropped when the remaining nominal work would not fit any more.
TLS=1.3        # TLS version every client insists on (auto = whatever gets negotiated)
SMOKE=0        # --smoke: skip the crypto floor and the baseline
LISTEN=127.0.0.1:19443
BACKEND1=127.0.0.1:19081
BACKEND2=127.0.0.1:19082

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case $1 in
    --proxy) PROXIES=$2; shift 2 ;;
    --proxy=*) PROXIES=${1#*=}; shift ;;
    --flavour|--flavor) FLAVOURS=$2; shift 2 ;;
    --flavour=*|--flavor=*) FLAVOURS=${1#*=}; shift ;;
    --seconds) SECS=$2; shift 2 ;;
    --seconds=*) SECS=${1#*=}; shift ;;
    --workers) WORKERS=$2; shift 2 ;;
    --workers=*) WORKERS=${1#*=}; shift ;;
    --mem-conns) MEM_CONNS=$2; shift 2 ;;
    --mem-conns=*) MEM_CONNS=${1#*=}; shift ;;
    --proxy-cpus) PROXY_CPUS=$2; shift 2 ;;
    --load-cpus) LOAD_CPUS=$2; shift 2 ;;
    --quiet-wait) QUIET_MAX=$2; shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --tls) TLS=$2; shift 2 ;;
    --tls=*) TLS=${1#*=}; shift ;;
    --smoke) SMOKE=1; MEM_CONNS=100; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

[ "$PROXIES" = all ] && PROXIES="nginx haproxy mtlslb"

# What the harness needs (Debian 12, installed when run as root), and the
# daemon built from this tree unless MTLSLB_BIN names one.
mtlslb_top=$TOP
# shellcheck source=../scripts/deps.sh
. "$TOP/scripts/deps.sh"
mtlslb_install_deps nginx-light haproxy apache2-utils || exit 1
case " ${PROXIES//,/ } " in
*" mtlslb "*)
  if [ -z "${MTLSLB_BIN:-}" ]; then
    [ -f "$TOP/_build/bench/Makefile" ] ||
      mtlslb_configure "$TOP/_build/bench" CFLAGS="-O2 -g" || exit 1
    make -C "$TOP/_build/bench" -s -j"$(nproc)" src/mtlslb >/dev/null || exit 1
    export MTLSLB_BIN=$TOP/_build/bench/src/mtlslb
  fi ;;
esac
PROXIES=${PROXIES//,/ }
[ "$FLAVOURS" = both ] && FLAVOURS="ecdsa rsa"
FLAVOURS=${FLAVOURS//,/ }
for f in $FLAVOURS; do
  case $f in ecdsa|rsa) ;; *) echo "run.sh: flavour must be ecdsa, rsa or both" >&2; exit 2 ;; esac
done
case $TLS in
  1.3) AB_TLS=(-f TLS1.3); OSSL_TLS=(-tls1_3); CURL_TLS=(--tlsv1.3 --tls-max 1.3) ;;
  1.2) AB_TLS=(-f TLS1.2); OSSL_TLS=(-tls1_2); CURL_TLS=(--tlsv1.2 --tls-max 1.2) ;;
  auto) AB_TLS=(); OSSL_TLS=(); CURL_TLS=() ;;
  *) echo "run.sh: --tls must be 1.3, 1.2 or auto" >&2; exit 2 ;;
esac
for v in SECS WORKERS MEM_CONNS ROUNDS RETRIES QUIET_MAX BUDGET; do
  case ${!v} in ''|*[!0-9]*) echo "run.sh: ${v} must be a non-negative integer (got '${!v}')" >&2; exit 2 ;; esac
done
[ "$ROUNDS" -ge 1 ] || ROUNDS=1
[ "$WORKERS" -ge 1 ] || WORKERS=1
[ "$SECS" -ge 2 ] || SECS=2
LAT_SECS=$(( SECS / 2 > 2 ? SECS / 2 : 2 ))

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

NCPU=$(nproc)
PIN_NOTE=""
if [ "$NCPU" -lt 2 ]; then
  PROXY_CPUS=0; LOAD_CPUS=0
  PIN_NOTE="only $NCPU CPU: proxy and load share CPU 0"
fi

# Raise the fd limit for 1,000+ held connections (root may raise the hard limit).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# This shell (and so ab, openssl, python, the backends) runs on the load CPU(s);
# only the proxy is started on PROXY_CPUS.
taskset -cp "$LOAD_CPUS" $$ >/dev/null 2>&1 || log "warning: could not pin harness to CPU $LOAD_CPUS"

RUN_ID=$(date +%Y%m%d-%H%M%S)
RUN=$WORK/runs/$RUN_ID
mkdir -p "$RUN" "$RESULTS"
T_START=$(date +%s)

# ---------------------------------------------------------------- time budget
# One proxy round without waits or retries takes about NOMINAL seconds.
NOMINAL=$(( 4 * SECS + 3 * LAT_SECS + 15 ))
T_START_BUDGET_EXTRA=$(( 45 + 2 * SECS ))   # openssl speed, baseline, setup
UNITS_LEFT=0
DEADLINE=0
have_slack() { [ $(( $(date +%s) + UNITS_LEFT * NOMINAL )) -lt "$DEADLINE" ]; }

# ---------------------------------------------------------------- processes
STARTED=()          # root PIDs of everything this script started
is_alive() { [ -n "${1:-}" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# start_bg CPUS OUTPREFIX CMD...  -> sets BG_PID
start_bg() {
  local cpus=$1 out=$2; shift 2
  taskset -c "$cpus" "$@" > "$out.stdout" 2> "$out.stderr" &
  BG_PID=$!
  STARTED+=("$BG_PID")
}

# stop_tree PID: SIGTERM the root, then SIGKILL whatever of its tree is left, by PID.
stop_tree() {
  local pid=$1 i tree
  is_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  tree=$(python3 "$LIB/procstat.py" tree "$pid" 2>/dev/null)
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 50); do is_alive "$pid" || break; sleep 0.1; done
  for p in $tree; do is_alive "$p" && kill -KILL "$p" 2>/dev/null; done
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  local i
  for (( i=${#STARTED[@]}-1; i>=0; i-- )); do stop_tree "${STARTED[$i]}"; done
  STARTED=()
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

port_busy() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

snap() { # PREFIX PIDS...
  local pre=$1; shift
  python3 "$LIB/procstat.py" snap "$@" | tr ' ' '\n' | sed "s/^/${pre}_/"
}

# ---------------------------------------------------------------- backends
BK=$WORK/backend
start_backends() {
  mkdir -p "$BK/tmp"
  local p
  for p in ${BACKEND1##*:} ${BACKEND2##*:}; do
    if port_busy "$p"; then log "port $p busy: another process is listening"; return 1; fi
  done
  cat > "$BK/nginx.conf" <<EOF
# Backends ECS01/ECS02 for the mTLS proxy benchmark (separate nginx instance).
worker_processes 1;
daemon off;
master_process on;
pid $BK/nginx.pid;
error_log $BK/error.log warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; }
http {
    client_body_temp_path $BK/tmp/body;
    proxy_temp_path $BK/tmp/proxy;
    fastcgi_temp_path $BK/tmp/fastcgi;
    uwsgi_temp_path $BK/tmp/uwsgi;
    scgi_temp_path $BK/tmp/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    default_type text/plain;
    # Request counting: one 2-byte line ("1\n") per request, buffered.
    log_format cnt '1';
    server {
        listen ${BACKEND1} backlog=4096;
        access_log $BK/ecs01.cnt cnt buffer=64k flush=1s;
        location / { return 200 "Hello World ! This is ECS01.\n"; }
    }
    server {
        listen ${BACKEND2} backlog=4096;
        access_log $BK/ecs02.cnt cnt buffer=64k flush=1s;
        location / { return 200 "Hello World ! This is ECS02.\n"; }
    }
}
EOF
  : > "$BK/ecs01.cnt"; : > "$BK/ecs02.cnt"   # 2 bytes per request: start empty each run
  nginx -t -q -p "$BK" -c "$BK/nginx.conf" -e "$BK/error.log" || return 1
  start_bg "$LOAD_CPUS" "$BK/nginx" nginx -p "$BK" -c "$BK/nginx.conf" -e "$BK/error.log"
  BK_PID=$BG_PID
  local i
  for i in $(seq 1 50); do
    if curl -s --max-time 1 "http://$BACKEND1/" | grep -q ECS01 &&
       curl -s --max-time 1 "http://$BACKEND2/" | grep -q ECS02; then
      return 0
    fi
    is_alive "$BK_PID" || break
    sleep 0.2
  done
  log "backends did not come up: $(tail -3 "$BK/error.log" "$BK/nginx.stderr" 2>/dev/null)"
  return 1
}

backend_counts() { # PREFIX -> request counts per backend (bytes/2)
  local a b
  a=$(stat -c %s "$BK/ecs01.cnt" 2>/dev/null || echo 0)
  b=$(stat -c %s "$BK/ecs02.cnt" 2>/dev/null || echo 0)
  printf '%s_ecs01=%s\n%s_ecs02=%s\n' "$1" $((a / 2)) "$1" $((b / 2))
}

# raw_capture FILE PIDS... : per-core jiffies and /proc/PID/stat of PIDS, using
# only shell builtins (no fork), so that the capture itself costs ~nothing.
raw_capture() {
  local f=$1 p line; shift
  {
    echo "t $EPOCHREALTIME"
    while read -r line; do
      case $line in cpu[0-9]*) echo "stat $line" ;; cpu*) ;; *) break ;; esac
    done < /proc/stat
    for p in "$@"; do
      if read -r line < "/proc/$p/stat"; then echo "pid $line"; fi 2>/dev/null
    done
    # every process on the machine, to name other tenants when cores were busy
    for p in /proc/[0-9]*/stat; do
      if read -r line < "$p"; then echo "all $line"; fi 2>/dev/null
    done
  } > "$f"
}

# measure DIR KEY COUNT(0|1) TIMEOUT ROOTPIDS -- CMD...
# Runs CMD (bounded by `timeout`) on the load CPUs. Around it: per-core busy
# time, CPU time of the ROOTPIDS trees (the server under test) and of the
# backends, the load generator's own CPU time (bash `times`), and with COUNT=1
# the backend request counters (after letting their 1 s log buffers flush).
measure() {
  local d=$1 key=$2 count=$3 lim=$4; shift 4
  local roots=()
  while [ "$1" != -- ]; do roots+=("$1"); shift; done
  shift
  local f=$d/$key rc ppids bpids
  : > "$f.kv"
  if [ "$count" = 1 ]; then sleep 1.2; backend_counts b0 >> "$f.kv"; fi
  # Other tenants of this machine (other builds or tests) show up as busy
  # cores: wait (bounded) for a quiet moment, and record what was found.
  local qmax=$QUIET_MAX
  have_slack || qmax=0
  python3 "$LIB/procstat.py" quiet "$qmax" "$QUIET_BUSY" | tr ' ' '\n' >> "$f.kv"
  ppids=$(python3 "$LIB/procstat.py" tree "${roots[@]}" | tr '\n' ' ')
  bpids=$(python3 "$LIB/procstat.py" tree "$BK_PID" | tr '\n' ' ')
  printf 'server_pids=%s\nbackend_pids=%s\nharness_pid=%s\nhz=%s\n' "$ppids" "$bpids" "$$" "$(getconf CLK_TCK)" >> "$f.kv"
  # shellcheck disable=SC2086
  raw_capture "$f.pre" $ppids $bpids
  times > "$f.times0"   # builtin, in this shell: CPU of reaped children so far
  timeout -k 5 "$lim" taskset -c "$LOAD_CPUS" "$@" > "$f.out" 2> "$f.err"
  rc=$?
  times > "$f.times1"   # the difference is the load generator's CPU time
  # shellcheck disable=SC2086
  raw_capture "$f.post" $ppids $bpids
  if [ "$count" = 1 ]; then sleep 1.2; backend_counts b1 >> "$f.kv"; fi
  printf 'rc=%s\ncmd=%s\n' "$rc" "$*" >> "$f.kv"
  printf 'loadgen_times0=%s\nloadgen_times1=%s\n' "$(tail -1 "$f.times0")" "$(tail -1 "$f.times1")" >> "$f.kv"
  return 0
}

# measure_retry: measure(), repeated up to RETRIES more times while other
# tenants took more than RETRY_OVER of a core; the cleanest attempt is kept.
measure_retry() {
  local d=$1 key=$2 base_flag=""
  [ "$(basename "$d")" = baseline ] && base_flag=baseline
  measure "$@"
  local best cur try ext
  best=$(python3 "$LIB/report.py" --interference "$d" "$key" "$PROXY_CPUS" "$LOAD_CPUS" $base_flag)
  for (( try=1; try<=RETRIES; try++ )); do
    awk -v v="$best" -v t="$RETRY_OVER" 'BEGIN { exit !(v > t) }' || break
    if ! have_slack; then log "  $key: disturbed, but no time left in the budget for a retry"; break; fi
    log "  $key: other tenants used $(awk -v v="$best" 'BEGIN{printf "%.0f", v*100}')% of a core; retry $try/$RETRIES"
    mkdir -p "$d/.prev"
    for ext in kv out err pre post times0 times1; do mv -f "$d/$key.$ext" "$d/.prev/" 2>/dev/null; done
    measure "$@"
    cur=$(python3 "$LIB/report.py" --interference "$d" "$key" "$PROXY_CPUS" "$LOAD_CPUS" $base_flag)
    if awk -v a="$cur" -v b="$best" 'BEGIN { exit !(a > b) }'; then
      for ext in kv out err pre post times0 times1; do mv -f "$d/.prev/$key.$ext" "$d/" 2>/dev/null; done
    else
      best=$cur
    fi
    rm -rf "$d/.prev"
  done
  echo "attempts=$(( try > RETRIES ? RETRIES + 1 : try ))" >> "$d/$key.kv"
}

# ---------------------------------------------------------------- per proxy
# ab request cap: bounded in count as well as in time.
ab_cap() { echo $(( $1 * 100000 )); }

write_status() { # DIR STATUS REASON
  printf 'status=%s\nreason=%s\n' "$2" "$3" > "$1/status.kv"
}

run_proxy() { # PROXY FLAVOUR ROUND
  local proxy=$1 flavour=$2 round=$3
  local d=$RUN/$flavour/$proxy/r$round
  local adapter=$ADAPTERS/$proxy.sh
  local pki=$WORK/pki/$flavour
  mkdir -p "$d"
  if [ ! -x "$adapter" ]; then write_status "$d" failed "no adapter $adapter"; return 1; fi

  local why
  if ! why=$(PKI=$pki FLAVOUR=$flavour WORKERS=$WORKERS LISTEN=$LISTEN BACKEND1=$BACKEND1 BACKEND2=$BACKEND2 \
             "$adapter" check 2>&1); then
    write_status "$d" "not built" "${why:-check failed}"
    return 1
  fi
  "$adapter" version > "$d/version.txt" 2>&1 || true

  local cfg=$d/config
  mkdir -p "$cfg"
  if ! PKI=$pki FLAVOUR=$flavour WORKERS=$WORKERS LISTEN=$LISTEN BACKEND1=$BACKEND1 BACKEND2=$BACKEND2 \
       "$adapter" prepare "$cfg" > "$d/prepare.log" 2>&1; then
    write_status "$d" failed "config rejected: $(tail -2 "$d/prepare.log" | tr '\n' ' ')"
    return 1
  fi
  local cmd=()
  mapfile -t cmd < "$cfg/cmd"

  if port_busy "${LISTEN##*:}"; then
    write_status "$d" failed "port ${LISTEN##*:} already in use before start"
    return 1
  fi

  local tag="$proxy/$flavour"
  [ "$ROUNDS" -gt 1 ] && tag="$tag round $round/$ROUNDS"
  log "$tag: start (${cmd[*]}) on CPU $PROXY_CPUS"
  start_bg "$PROXY_CPUS" "$d/proxy" "${cmd[@]}"
  local pid=$BG_PID
  echo "$pid" > "$d/pid"

  local curl_ok=(curl -s "${CURL_TLS[@]}" --max-time 3 --cacert "$pki/root.crt" --cert "$pki/client.crt" --key "$pki/client.key"
                 --resolve "localhost:${LISTEN##*:}:${LISTEN%:*}")
  local url="https://localhost:${LISTEN##*:}/"
  local i ready=0
  for i in $(seq 1 50); do
    is_alive "$pid" || break
    if [ "$("${curl_ok[@]}" -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; then ready=1; break; fi
    sleep 0.2
  done
  if [ $ready = 0 ]; then
    local tailtxt
    tailtxt=$(tail -n 3 "$d/proxy.stderr" "$cfg"/*.log 2>/dev/null | grep -v '^==>' | grep -v '^$' | tail -3 | tr '\n' ' ')
    if is_alive "$pid"; then
      write_status "$d" failed "no HTTP 200 over mTLS within 10 s: $tailtxt"
    else
      write_status "$d" failed "exited at start: $tailtxt"
    fi
    stop_tree "$pid"
    return 1
  fi

  # ---- smoke: round robin, mTLS enforcement, negotiated parameters
  {
    local out
    out=$("${curl_ok[@]}" -w '\n%{http_code}\n' "$url" "$url" "$url" "$url" 2>&1)
    echo "smoke_codes=$(echo "$out" | grep -E '^[0-9]{3}$' | tr '\n' ' ')"
    echo "smoke_ecs01=$(echo "$out" | grep -c 'This is ECS01')"
    echo "smoke_ecs02=$(echo "$out" | grep -c 'This is ECS02')"
    local code rc
    code=$(curl -s "${CURL_TLS[@]}" --max-time 3 --cacert "$pki/root.crt" --resolve "localhost:${LISTEN##*:}:${LISTEN%:*}" \
           -o /dev/null -w '%{http_code}' "$url" 2>/dev/null); rc=$?
    echo "nocert_code=$code"; echo "nocert_rc=$rc"
    code=$(curl -s "${CURL_TLS[@]}" --max-time 3 --cacert "$pki/root.crt" --cert "$pki/rogue-client.crt" --key "$pki/rogue-client.key" \
           --resolve "localhost:${LISTEN##*:}:${LISTEN%:*}" -o /dev/null -w '%{http_code}' "$url" 2>/dev/null); rc=$?
    echo "rogue_code=$code"; echo "rogue_rc=$rc"
    echo | timeout 5 openssl s_client "${OSSL_TLS[@]}" -connect "$LISTEN" -servername localhost -brief \
         -cert "$pki/client.crt" -key "$pki/client.key" -CAfile "$pki/root.crt" 2>&1 |
      sed -n -e 's/^Protocol version: /tls_protocol=/p' -e 's/^Ciphersuite: /tls_cipher=/p' \
             -e 's/^Server Temp Key: /tls_group=/p' -e 's/^Signature type: /tls_sigtype=/p' \
             -e 's/^Verification: /tls_verify=/p'
  } > "$d/smoke.kv"

  # ---- CPU speed probe: this VM's effective speed drifts (other guests on the
  # host are invisible from here); one second of X25519 on the proxy core.
  timeout -k 5 30 taskset -c "${PROXY_CPUS%%[,-]*}" openssl speed -seconds 1 ecdhx25519 \
    > "$d/probe.out" 2>/dev/null

  # ---- memory: idle established mTLS connections
  log "$tag: memory with $MEM_CONNS idle mTLS connections"
  sleep 0.5
  {
    snap m0 "$pid"
    rm -f "$d/hold.ready" "$d/hold.release"
    start_bg "$LOAD_CPUS" "$d/hold" timeout -k 5 150 python3 "$LIB/holdconns.py" \
      --host "${LISTEN%:*}" --port "${LISTEN##*:}" --n "$MEM_CONNS" \
      --cert "$pki/client.crt" --key "$pki/client.key" --ca "$pki/root.crt" \
      --ready "$d/hold.ready" --release "$d/hold.release" --max-hold 60 --open-timeout 80 --tls "$TLS"
    local hpid=$BG_PID
    for i in $(seq 1 900); do [ -f "$d/hold.ready" ] && break; is_alive "$hpid" || break; sleep 0.1; done
    sleep 1
    snap m1 "$pid"
    echo "m1_established=$(ss -Htn state established "( sport = :${LISTEN##*:} )" 2>/dev/null | wc -l)"
    if [ -f "$d/hold.ready" ]; then tr ' ' '\n' < "$d/hold.ready" | sed 's/^/hold_/'; else echo "hold_error=no ready file"; fi
    touch "$d/hold.release"
    for i in $(seq 1 100); do is_alive "$hpid" || break; sleep 0.1; done
    stop_tree "$hpid"
    sleep 1
    snap m2 "$pid"
  } > "$d/mem.kv"

  # ---- throughput and handshakes
  local AB=(ab -q -r -s 10 "${AB_TLS[@]}" -E "$pki/client.pem")
  local cap lim=$(( SECS + 60 ))
  cap=$(ab_cap "$SECS")
  log "$tag: warm-up"
  measure "$d" warmup 0 30 "$pid" -- "${AB[@]}" -k -c "$KA_C" -t 2 -n 400000 "https://$LISTEN/"
  log "$tag: keep-alive throughput (ab -k -c $KA_C, ${SECS}s)"
  measure_retry "$d" ka 1 "$lim" "$pid" -- "${AB[@]}" -k -c "$KA_C" -t "$SECS" -n "$cap" "https://$LISTEN/"
  log "$tag: handshake rate (ab -c $HS_C, ${SECS}s)"
  measure_retry "$d" hs 1 "$lim" "$pid" -- "${AB[@]}" -c "$HS_C" -t "$SECS" -n "$cap" "https://$LISTEN/"
  log "$tag: openssl s_time -new (${SECS}s)"
  measure_retry "$d" stime 0 "$lim" "$pid" -- openssl s_time "${OSSL_TLS[@]}" -connect "$LISTEN" -cert "$pki/client.crt" \
    -key "$pki/client.key" -new -time "$SECS"
  log "$tag: latency (ab -k -c $LAT_KA_C / ab -c $LAT_HS_C / ab -k -c 1, ${LAT_SECS}s each)"
  measure "$d" lat_ka 0 "$lim" "$pid" -- "${AB[@]}" -k -c "$LAT_KA_C" -t "$LAT_SECS" -n "$cap" \
    -e "$d/lat_ka.csv" "https://$LISTEN/"
  measure "$d" lat_hs 0 "$lim" "$pid" -- "${AB[@]}" -c "$LAT_HS_C" -t "$LAT_SECS" -n "$cap" \
    -e "$d/lat_hs.csv" "https://$LISTEN/"
  measure "$d" lat_ka1 0 "$lim" "$pid" -- "${AB[@]}" -k -c 1 -t "$LAT_SECS" -n "$cap" \
    -e "$d/lat_ka1.csv" "https://$LISTEN/"

  local alive=1
  is_alive "$pid" || alive=0
  snap end "$pid" > "$d/end.kv"
  stop_tree "$pid"
  cp "$cfg"/error.log "$d/error.log" 2>/dev/null || true
  if [ $alive = 0 ]; then
    write_status "$d" failed "proxy died during the run: $(tail -n 2 "$d/proxy.stderr" | tr '\n' ' ')"
    return 1
  fi
  write_status "$d" ok ""
  return 0
}

# ---------------------------------------------------------------- main
{
  echo "run_id=$RUN_ID"
  echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "ncpu=$NCPU"
  echo "kernel=$(uname -r)"
  echo "openssl=$(openssl version)"
  echo "ab=$(ab -V 2>&1 | head -1)"
  echo "proxies=$PROXIES"
  echo "flavours=$FLAVOURS"
  echo "seconds=$SECS"
  echo "lat_seconds=$LAT_SECS"
  echo "workers=$WORKERS"
  echo "mem_conns=$MEM_CONNS"
  echo "proxy_cpus=$PROXY_CPUS"
  echo "load_cpus=$LOAD_CPUS"
  echo "pin_note=$PIN_NOTE"
  echo "tls=$TLS"
  echo "quiet_max=$QUIET_MAX"; echo "quiet_busy=$QUIET_BUSY"
  echo "retries=$RETRIES"; echo "retry_over=$RETRY_OVER"; echo "rounds=$ROUNDS"
  echo "ka_c=$KA_C"; echo "hs_c=$HS_C"; echo "lat_ka_c=$LAT_KA_C"; echo "lat_hs_c=$LAT_HS_C"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$RUN/meta.kv"

log "run $RUN_ID: proxies=[$PROXIES] flavours=[$FLAVOURS] seconds=$SECS workers=$WORKERS (raw: $RUN)"

for f in $FLAVOURS; do
  bash "$LIB/pki.sh" "$WORK/pki/$f" "$f" >&2 || { log "PKI generation failed for $f"; exit 1; }
done

runnable=0
for p in $PROXIES; do
  [ -x "$ADAPTERS/$p.sh" ] && "$ADAPTERS/$p.sh" check >/dev/null 2>&1 && runnable=$(( runnable + 1 ))
done
UNITS_LEFT=$(( runnable * $(echo $FLAVOURS | wc -w) * ROUNDS ))
[ "$BUDGET" -gt 0 ] || BUDGET=$(( T_START_BUDGET_EXTRA + UNITS_LEFT * (NOMINAL + 45) ))
DEADLINE=$(( T_START + BUDGET ))
echo "budget_s=$BUDGET" >> "$RUN/meta.kv"
log "$UNITS_LEFT proxy run(s) of ~${NOMINAL}s each; budget ${BUDGET}s (quiet-waits and retries only while it allows)"

if ! start_backends; then
  log "cannot start the backends; nothing measured"
  echo "status=failed" > "$RUN/backend.kv"
else
  if [ "$SMOKE" = 0 ]; then
  # Pure crypto cost on one (the proxy's) core, before anything else loads it.
  log "openssl speed on CPU $PROXY_CPUS (about 20 s)"
  timeout -k 5 120 taskset -c "${PROXY_CPUS%%[,-]*}" openssl speed -seconds 3 \
    ecdsap256 ecdhp256 ecdhx25519 rsa2048 > "$RUN/speed.out" 2> "$RUN/speed.err"

  # Direct-to-backend baseline (plain HTTP keep-alive, ab and backend on the load core).
  log "baseline: ab -k -c $KA_C straight at ECS01 (${SECS}s)"
  mkdir -p "$RUN/baseline"
  measure "$RUN/baseline" warmup 0 30 "$BK_PID" -- ab -q -r -s 10 -k -c "$KA_C" -t 1 -n 200000 "http://$BACKEND1/"
  measure_retry "$RUN/baseline" ka 1 $(( SECS + 60 )) "$BK_PID" -- ab -q -r -s 10 -k -c "$KA_C" -t "$SECS" \
    -n $(( SECS * 200000 )) "http://$BACKEND1/"
  fi
  echo "status=ok" > "$RUN/backend.kv"

  # Rounds interleave the proxies (A B A B ...) so that slow drifts of the
  # machine affect all of them alike; the report gives medians and ranges.
  for (( r=1; r<=ROUNDS; r++ )); do
    for f in $FLAVOURS; do
      for p in $PROXIES; do
        if run_proxy "$p" "$f" "$r"; then
          UNITS_LEFT=$(( UNITS_LEFT > 0 ? UNITS_LEFT - 1 : 0 ))
        else
          [ -f "$RUN/$f/$p/r$r/pid" ] && UNITS_LEFT=$(( UNITS_LEFT > 0 ? UNITS_LEFT - 1 : 0 ))
          log "$p/$f: $(sed -n 's/^reason=//p' "$RUN/$f/$p/r$r/status.kv" 2>/dev/null)"
        fi
        sleep 1
      done
    done
  done
fi

cleanup
echo "elapsed_s=$(( $(date +%s) - T_START ))" >> "$RUN/meta.kv"

python3 "$LIB/report.py" "$RUN" > "$RUN/report.md" 2> "$RUN/report.err" ||
  { log "report generation failed: $(tail -3 "$RUN/report.err")"; }
if [ -s "$RUN/report.md" ]; then
  cp "$RUN/report.md" "$RESULTS/LATEST.md"
  cp "$RUN/report.md" "$RESULTS/$RUN_ID-$(echo "$FLAVOURS" | tr ' ' '+')-$(echo "$PROXIES" | tr ' ' '+').md"
  cat "$RUN/report.md"
fi
log "done in $(( $(date +%s) - T_START )) s; $RESULTS/LATEST.md written"
exit 0
