#!/bin/bash
# mtlslb demo: builds mtlslb, makes a throwaway PKI in demo/, starts two
# backends (ECS01 on 127.0.0.1:8081, ECS02 on :8082) and mtlslb on
# https://127.0.0.1:8443 with conf/demo.ini, then shows what a user sees.
#   scripts/demo.sh          run, then keep serving until Ctrl-C
#   scripts/demo.sh --once   run the steps and exit 0 only if all behaved
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
once=no
[ "${1:-}" = "--once" ] && once=yes

# shellcheck disable=SC2034 # read by deps.sh
mtlslb_top=$top
# shellcheck source=/dev/null
. "$top/scripts/deps.sh"
mtlslb_install_deps

build="$top/_build/demo"
if [ ! -f "$build/Makefile" ]; then
	echo "== configuring in $build"
	mtlslb_configure "$build"
fi
echo "== building"
make -C "$build" -j"$(nproc)" src/mtlslb tests/helpers/backend >"$build/make.log" 2>&1 || {
	cat "$build/make.log" >&2
	exit 1
}

for port in 8443 8081 8082; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "demo: port $port on 127.0.0.1 is in use; stop what uses it first" >&2
		exit 1
	fi
done 2>/dev/null

# demo/ca/index.txt: made by mtlslb-certs (older demos used another tool).
if [ ! -f demo/client.crt ] || [ ! -f demo/ca/index.txt ]; then
	echo "== making a throwaway PKI in demo/ with scripts/mtlslb-certs (root CA, server, client, client.p12, CRL)"
	rm -rf demo
	certs() {
		echo "\$ scripts/mtlslb-certs -d demo $*"
		sh scripts/mtlslb-certs -d demo "$@"
	}
	certs init-ca --cn "mtlslb demo CA"
	certs server server --san DNS:localhost,IP:127.0.0.1
	certs client client --p12
	certs client revoked
	certs revoke revoked
fi

pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$build/tests/helpers/backend" --listen 127.0.0.1:8081 --name ECS01 >demo/ecs01.log 2>&1 &
pids="$pids $!"
"$build/tests/helpers/backend" --listen 127.0.0.1:8082 --name ECS02 >demo/ecs02.log 2>&1 &
pids="$pids $!"
"$build/src/mtlslb" -c conf/demo.ini 2>demo/mtlslb.log &
pids="$pids $!"

i=0
until (exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "demo: mtlslb did not start; its log:" >&2
		cat demo/mtlslb.log >&2
		exit 1
	fi
	sleep 0.1
done

ok=yes
show() {
	echo
	echo "\$ $*"
	"$@" 2>&1 || true
}
expect() {
	out=$("$@" 2>&1 || true)
	printf '%s\n' "$out"
	printf '%s' "$out"
}

echo
echo "== mtlslb is listening on https://localhost:8443 (config: conf/demo.ini)"
last=
for _ in 1 2 3 4; do
	echo
	echo "\$ curl --cert demo/client.crt --key demo/client.key --cacert demo/root.crt https://localhost:8443/"
	out=$(curl -sS --max-time 10 --cert demo/client.crt --key demo/client.key \
	    --cacert demo/root.crt https://localhost:8443/ 2>&1 || true)
	echo "$out"
	case $out in
	"Hello World ! This is ECS0"[12]".") ;;
	*) ok=no ;;
	esac
	[ "$out" != "$last" ] || ok=no
	last=$out
done

echo
echo "\$ curl --cacert demo/root.crt https://localhost:8443/      # no client certificate"
out=$(curl -sS --max-time 10 --cacert demo/root.crt -w '\nHTTP status: %{http_code}\n' \
    https://localhost:8443/ 2>&1 || true)
echo "$out"
case $out in
*"<title>400 No required SSL certificate was sent</title>"*"HTTP status: 400"*) ;;
*) ok=no ;;
esac

echo
echo "\$ curl --cert demo/revoked.crt --key demo/revoked.key --cacert demo/root.crt https://localhost:8443/   # revoked by demo/crl.pem"
out=$(curl -sS --max-time 10 --cert demo/revoked.crt --key demo/revoked.key \
    --cacert demo/root.crt -w '\nHTTP status: %{http_code}\n' https://localhost:8443/ 2>&1 || true)
echo "$out"
case $out in
*"<title>400 The SSL certificate error</title>"*"HTTP status: 400"*) ;;
*) ok=no ;;
esac

echo
echo "== what mtlslb logged:"
tail -n 8 demo/mtlslb.log

cat <<EOT

== In a browser
  1. Import demo/client.p12 (password: $(cat demo/client.p12.pass 2>/dev/null || echo '?')):
     Firefox: Settings > Privacy & Security > Certificates > View Certificates >
              Your Certificates > Import; and Authorities > Import demo/root.crt
              (trust for websites).
     Chrome/Chromium on Linux: pk12util -d sql:\$HOME/.pki/nssdb -i demo/client.p12
              certutil -d sql:\$HOME/.pki/nssdb -A -t C,, -n mtlslb-demo -i demo/root.crt
     Windows: double-click demo/client.p12 and demo/root.crt.
     (Older browsers: demo/client-legacy.p12 uses SHA1/3DES encryption.)
  2. Open https://localhost:8443/ and pick the certificate; refresh to see
     ECS01 and ECS02 answer in turn (the browser's own request for
     /favicon.ico takes a turn too, so one answer may repeat).
EOT

if [ "$once" = yes ]; then
	if [ "$ok" = yes ]; then
		echo
		echo "demo: every step behaved as expected"
		exit 0
	fi
	echo "demo: some step did not behave as expected (see above)" >&2
	exit 1
fi
echo
echo "== serving until Ctrl-C (logs in demo/*.log)"
wait
