#!/bin/bash
# 58-man: the man pages. Every key of config.c's tables
# (tests/helpers/config-keys) appears in man/mtlslb.ini.5 as an item and in
# conf/mtlslb.ini; every section kind has its section in the page. With
# mandoc (skipped without): mandoc -T lint -W warning is clean on every
# page in man/, and the pages rendered with -T utf8 read as written: both
# nginx page titles, "400 No required SSL certificate was sent" and "400
# The SSL certificate error", appear whole in mtlslb(8) and mtlslb.ini(5)
# (a "No" where mdoc parses macros is the No macro and vanishes unless
# written \&No), and no page anywhere says "400 required SSL".
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
for s in GLOBAL LISTENER SERVER_GROUP ROUTE ADMIN; do
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
PAGES=("$top_srcdir"/man/*.[1-9])
[ "${#PAGES[@]}" -ge 3 ] || harness_error "too few pages: ${PAGES[*]}"
if ! mandoc -T lint -W warning "${PAGES[@]}" >"$T/lint" 2>&1; then
	cat "$T/lint" >&2
	fail "mandoc -T lint reports problems"
fi
pass "mandoc -T lint -W warning: clean on ${#PAGES[@]} pages"

# rendered PAGE: the page as mandoc -T utf8 prints it, without overstrike
# (bold, underline), on one line with single blanks, so that a phrase the
# formatter wrapped is found whole.
rendered() {
	mandoc -T utf8 "$1" | sed 's/.\x08//g' | tr '\n' ' ' | tr -s ' '
}
for p in "${PAGES[@]}"; do
	rendered "$p" >"$T/rendered" || fail "mandoc -T utf8 $p failed"
	if grep -qF '400 required SSL' "$T/rendered"; then
		fail "$(basename "$p") renders '400 required SSL': a 'No' was" \
		    "read as a macro (write \\&No)"
	fi
	case $p in
	"$M8" | "$M5")
		for title in '400 No required SSL certificate was sent' \
		    '400 The SSL certificate error'; do
			grep -qF "$title" "$T/rendered" ||
			    fail "$(basename "$p") rendered lacks '$title'"
		done
		;;
	esac
done
pass "rendered: both nginx titles whole in mtlslb(8) and mtlslb.ini(5)," \
    "no '400 required SSL' in any page"
