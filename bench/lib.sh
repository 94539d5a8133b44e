# bench/lib.sh: what bench/*.sh and scripts/bench-resume.sh share.
# Source it with BENCH_NAME set and $top the source tree, $b the build:
# builds the daemon and the test backend, makes $T with a test PKI in
# $T/pki, starts the backend on $BACKEND_PORT, and stops what pids holds
# (by PID) and removes $T at exit.
# shellcheck shell=bash
make -C "$b" -s src/mtlslb tests/helpers/backend >/dev/null
T=$(mktemp -d "${TMPDIR:-/tmp}/mtlslb-$BENCH_NAME.XXXXXX")
pids=()
bench_cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap bench_cleanup EXIT
sh "$top/tests/pki/mkpki.sh" "$T/pki" >/dev/null

# free_port: a port nothing listens on, below the ephemeral range.
free_port() {
	local p
	for p in $(shuf -i 20000-30000 -n 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || {
			echo "$p"
			return
		}
	done
	echo "$BENCH_NAME: no free port" >&2
	exit 1
}

# wait_port PORT: until something accepts on it (60 s at most).
wait_port() {
	local i
	for ((i = 0; i < 600; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "$BENCH_NAME: nothing on port $1" >&2
	exit 1
}

BACKEND_PORT=$(free_port)
"$b/tests/helpers/backend" --listen "127.0.0.1:$BACKEND_PORT" --name ECS01 \
    >"$T/backend.out" 2>&1 &
pids+=($!)
wait_port "$BACKEND_PORT"

# bench_ini WORKERS PORT [LISTENER-LINE...]: writes $T/lb.ini, one listener
# on 127.0.0.1:PORT (mutual TLS, the test PKI) in front of the backend,
# health checks and the access log off; extra lines go into the listener.
# Append further sections to $T/lb.ini after it.
bench_ini() {
	local workers=$1 port=$2 line
	shift 2
	{
		printf '[global]\nworkers = %s\nlog_level = warn\n' "$workers"
		printf 'error_log = %s\naccess_log = off\n' "$T/error.log"
		printf '[listener https]\nbind = 127.0.0.1:%s\n' "$port"
		printf 'server_certificate = %s\n' "$T/pki/server.crt"
		printf 'server_private_key = %s\n' "$T/pki/server.key"
		printf 'ca_certificate = %s\nserver_group = default\n' \
		    "$T/pki/root.crt"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		printf '[server_group default]\n'
		printf 'server = ECS01 127.0.0.1:%s\n' "$BACKEND_PORT"
		printf 'health_check = off\n'
	} >"$T/lb.ini"
}

# bench_nginx PORT LISTEN-FLAGS VERIFY [HTTP-LINE...]: starts a private
# nginx ($NGINX; one process, access log off, TLS 1.3, the test PKI,
# ssl_verify_client VERIFY) on 127.0.0.1:PORT in front of the backend with
# HTTP/1.1 keep-alive upstream; LISTEN-FLAGS follow "ssl" on the listen
# line, HTTP-LINEs go into the http block. Its pid joins pids.
bench_nginx() {
	local port=$1 flags=$2 verify=$3 line
	shift 3
	mkdir -p "$T/nginx/logs" "$T/nginx/tmp"
	{
		cat <<EOF2
daemon off;
master_process off;
worker_processes 1;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log error;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
EOF2
		for line in "$@"; do
			printf '\t%s\n' "$line"
		done
		cat <<EOF2
	upstream be { server 127.0.0.1:$BACKEND_PORT; keepalive 32; }
	server {
		listen 127.0.0.1:$port ssl$flags;
		ssl_certificate $T/pki/server.crt;
		ssl_certificate_key $T/pki/server.key;
		ssl_client_certificate $T/pki/root.crt;
		ssl_verify_client $verify;
		ssl_protocols TLSv1.3;
		location / {
			proxy_pass http://be;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
}
EOF2
	} >"$T/nginx/nginx.conf"
	"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" >"$T/nginx.out" 2>&1 &
	pids+=($!)
	wait_port "$port"
}
