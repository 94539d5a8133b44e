#!/bin/bash
# 57-install: "make install DESTDIR=..." lays out sbin/mtlslb, the example
# config in $(sysconfdir)/mtlslb/mtlslb.ini, the unit (naming the installed
# binary and config) in the systemd unit dir, and the man pages; a second
# install keeps an edited config; uninstall removes everything but it.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

t_setup
[ -f "$top_builddir/Makefile" ] || skip "no Makefile in $top_builddir"
need_cmd make
MAKE_CMD=${MAKE:-make}
D=$T/root

mk() {
	# MAKEFLAGS from a parallel "make check" would reach this make's
	# jobserver; run it on its own.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE_CMD" -s -C "$top_builddir" \
	    "$@" >>"$T/make.out" 2>&1 || {
		tail -n 40 "$T/make.out" >&2
		fail "make $*"
	}
}
var() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE_CMD" -s -C "$top_builddir" \
	    -f Makefile -f - print-var VAR="$1" <<'MK' 2>/dev/null
print-var:
	@echo $($(VAR))
MK
}
sbindir=$(var sbindir)
sysconfdir=$(var sysconfdir)
unitdir=$(var systemdsystemunitdir)
mandir=$(var mandir)
[ -n "$sbindir" ] && [ -n "$unitdir" ] && [ -n "$mandir" ] ||
    harness_error "cannot read install dirs from the Makefile"

mk install DESTDIR="$D"
for f in "$sbindir/mtlslb" "$sysconfdir/mtlslb/mtlslb.ini" \
    "$unitdir/mtlslb.service" "$mandir/man8/mtlslb.8" \
    "$mandir/man5/mtlslb.ini.5"; do
	[ -f "$D$f" ] || fail "make install: no $f ($(cd "$D" && find . -type f | tr '\n' ' '))"
done
[ -x "$D$sbindir/mtlslb" ] || fail "$sbindir/mtlslb is not executable"
pass "installed: $sbindir/mtlslb $sysconfdir/mtlslb/mtlslb.ini $unitdir/mtlslb.service man8 man5"
grep -qxF "ExecStart=$sbindir/mtlslb -c $sysconfdir/mtlslb/mtlslb.ini" \
    "$D$unitdir/mtlslb.service" ||
    fail "the installed unit does not name $sbindir and $sysconfdir: $(grep ^Exec "$D$unitdir/mtlslb.service")"
cmp -s "$top_srcdir/conf/mtlslb.ini" "$D$sysconfdir/mtlslb/mtlslb.ini" ||
    fail "the installed config is not conf/mtlslb.ini"
pass "the installed unit names the installed binary and config"

echo "; edited by the admin" >>"$D$sysconfdir/mtlslb/mtlslb.ini"
mk install DESTDIR="$D"
grep -q 'edited by the admin' "$D$sysconfdir/mtlslb/mtlslb.ini" ||
    fail "a second install overwrote the edited config"
pass "a second install keeps an existing config"

mk uninstall DESTDIR="$D"
for f in "$sbindir/mtlslb" "$unitdir/mtlslb.service" "$mandir/man8/mtlslb.8" \
    "$mandir/man5/mtlslb.ini.5"; do
	[ ! -e "$D$f" ] || fail "uninstall left $f"
done
[ -f "$D$sysconfdir/mtlslb/mtlslb.ini" ] ||
    fail "uninstall removed an edited config"
pass "uninstall removes the files and keeps the edited config"
