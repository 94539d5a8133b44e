#!/bin/bash
# 58-man: the man pages. mandoc -T lint is clean on man/mtlslb.8 and
# man/mtlslb.ini.5 (skipped without mandoc); every key of config.c's tables
# (tests/helpers/config-keys) appears in man/mtlslb.ini.5 as an item and in
# conf/mtlslb.ini; every section kind has its section in the page.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

t_setup
M8=$top_srcdir/man/mtlslb.8
M5=$top_srcdir/man/mtlslb.ini.5
KEYS=$top_builddir/tests/helpers/config-keys
[ -x "$KEYS" ] || harness_error "not built: $KEYS"

"$KEYS" >"$T/keys" || harness_error "config-keys failed"
[ "$(wc -l <"$T/keys")" -ge 40 ] || harness_error "too few keys: $(wc -l <"$T/keys")"
missing=
while read -r section key; do
	grep -q "^\.It Ic $key No = " "$M5" || missing="$missing $section.$key(man)"
	grep -Eq "^;?$key = " "$top_srcdir/conf/mtlslb.ini" ||
	    missing="$missing $section.$key(conf)"
done <"$T/keys"
[ -z "$missing" ] || fail "keys not documented:$missing"
for s in GLOBAL LISTENER SERVER_GROUP ADMIN; do
	grep -q "^\.Sh $s SECTION" "$M5" || fail "mtlslb.ini.5 has no $s section"
done
pass "all $(wc -l <"$T/keys") keys are in mtlslb.ini(5) and conf/mtlslb.ini"

for o in -c -t -s -V -h; do
	grep -q "^\.It Fl ${o#-}" "$M8" || fail "mtlslb.8 lacks option $o"
done
for s in SIGHUP SIGTERM SIGUSR1; do
	grep -q "Dv $s" "$M8" || fail "mtlslb.8 lacks $s"
done
grep -q '^\.Sh EXIT STATUS' "$M8" || fail "mtlslb.8 lacks EXIT STATUS"
pass "mtlslb(8) has the options, signals and exit status"

command -v mandoc >/dev/null 2>&1 || skip "mandoc not found: lint skipped"
if ! mandoc -T lint -W warning "$M8" "$M5" >"$T/lint" 2>&1; then
	cat "$T/lint" >&2
	fail "mandoc -T lint reports problems"
fi
pass "mandoc -T lint: clean"
