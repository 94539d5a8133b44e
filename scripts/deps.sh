# Sourced by check.sh and demo.sh: installs the Debian 12 packages that
# are missing (as root), or says which ones to install.
# shellcheck shell=sh

# What building and the demo need; check.sh adds the test tools.
mtlslb_deps="build-essential autoconf automake autoconf-archive pkg-config
libssl-dev libevent-dev libinih-dev libnghttp2-dev check libsystemd-dev
curl openssl python3 procps ca-certificates"

# What the tests add: a real nginx backend, HAProxy (an L4 balancer sending
# the PROXY protocol), libFuzzer, valgrind, systemd-analyze, mandoc, and
# Chromium with NSS tools for the browser test.
mtlslb_test_deps="nginx-light haproxy clang libclang-rt-14-dev valgrind
systemd mandoc man-db chromium libnss3-tools iproute2 nftables keepalived
python3-h2 nghttp2-client"

mtlslb_install_deps() {
	_missing=
	for _p in $mtlslb_deps "$@"; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null |
		    grep -q "ok installed" || _missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing packages:$_missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$_missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $_missing >/dev/null
}

# mtlslb_configure DIR [configure args]: configure a build in DIR once.
mtlslb_configure() {
	_dir=$1
	shift
	[ -x "$mtlslb_top/configure" ] ||
	    (cd "$mtlslb_top" && autoreconf -fi >/dev/null 2>&1) ||
	    (cd "$mtlslb_top" && autoreconf -fi)
	mkdir -p "$_dir"
	(cd "$_dir" && "$mtlslb_top/configure" "$@" >configure.log) || {
		cat "$_dir/configure.log" "$_dir/config.log" >&2
		return 1
	}
}
