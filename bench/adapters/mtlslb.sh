#!/usr/bin/env bash
# Adapter: mtlslb (the project's C daemon). See adapters/README.md.
# MTLSLB_BIN names the binary (bench/run.sh builds one into _build/bench).
set -euo pipefail
MTLSLB_BIN=${MTLSLB_BIN:-$PWD/src/mtlslb}

case ${1:-} in
  check)
    [ -x "$MTLSLB_BIN" ] || { echo "not built ($MTLSLB_BIN missing; set MTLSLB_BIN)"; exit 1; }
    ;;
  version)
    v=$(timeout 5 "$MTLSLB_BIN" -V 2>&1 | head -1 || true)
    echo "${v:-unknown} ($MTLSLB_BIN)"
    ;;
  prepare)
    d=$2
    mkdir -p "$d"
    cat > "$d/mtlslb.ini" <<EOF
[global]
workers = ${WORKERS:-1}
log_level = warn
access_log = off
[listener https]
bind = ${LISTEN}
server_certificate = ${PKI}/server.crt
server_private_key = ${PKI}/server.key
mutual_authentication = on
ca_certificate = ${PKI}/root.crt
server_group = default
; as the nginx adapter's keepalive_requests 1000000 (HAProxy has no limit):
; with the default 1000, every 1000th request of a connection closes it and
; ab's next one pays a full handshake on the measured core
keepalive_requests = 1000000
[server_group default]
scheduler = round_robin
server = ECS01 ${BACKEND1}
server = ECS02 ${BACKEND2}
health_check = off
EOF
    printf '%s\n' "$MTLSLB_BIN" -c "$d/mtlslb.ini" > "$d/cmd"
    ;;
  *) echo "usage: $0 check|version|prepare DIR" >&2; exit 2 ;;
esac
