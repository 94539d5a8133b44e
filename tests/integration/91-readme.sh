#!/bin/bash
# shellcheck source-path=SCRIPTDIR disable=SC2034
# 91-readme: a new admin's first contact, as README.md tells it. The blocks
# marked "<!-- readme-test: NAME -->" are run as written; only the machine
# is rewritten: "sudo " is dropped, /etc/mtlslb lives under a temporary
# root $R, ports are free test ports on 127.0.0.1, the back ends are the
# test backend under the names the config gives them, and curl gets
# --max-time, -o and -w to be checked.
#   install    ./configure's directory options and "sudo make install"
#              become "make install DESTDIR=$R" of this build with those
#              directories; the files its comment names must be there
#   pki        the mtlslb-certs commands, run by the installed script;
#              each "# ..." line after a command must match its output
#              (serials, dates and the password are wildcards)
#   pki-files  the table names every file and directory they made, and
#              nothing else
#   config     is the installed mtlslb.ini without its comments
#   run        "mtlslb -t -c ..." exits 0; "mtlslb -c ..." is started
#   curl       each curl gets the status and body the README shows (a
#              backend's name may differ only once a health check has
#              taken a server DOWN)
# So a path, a file name or a directory changed in conf/mtlslb.ini or in
# the README alone fails here.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

t_setup
need_mtlslb
[ -f "$top_builddir/Makefile" ] || skip "no Makefile in $top_builddir"
need_cmd make
MAKE_CMD=${MAKE:-make}
README=$top_srcdir/README.md
R=$T/root
mkdir -p "$R" "$T/home"

# block NAME: the lines of the fenced block that follows the README's
# "<!-- readme-test: NAME ... -->" line.
block() {
	awk -v n="$1" '
	    !armed && index($0, "<!-- readme-test: " n) == 1 &&
		substr($0, length("<!-- readme-test: " n) + 1, 1) == " " {
		    armed = 1; next }
	    armed && !inside && /^```/ { inside = 1; next }
	    inside && /^```/ { exit }
	    inside { print }' "$README"
}

# read_block NAME: the block's lines into LINES; a harness error when the
# README has no such block.
read_block() {
	mapfile -t LINES < <(block "$1")
	[ "${#LINES[@]}" -gt 0 ] ||
	    harness_error "README.md has no block marked 'readme-test: $1'"
}

# rw TEXT: TEXT as it runs here: no sudo, /etc/mtlslb under $R, the
# listener's test port in https://localhost/ URLs.
rw() {
	local s=$1
	s=${s#sudo }
	s=${s//\/etc\/mtlslb/$R\/etc\/mtlslb}
	[ -z "${LB_PORT:-}" ] ||
	    s=${s//https:\/\/localhost\//https:\/\/localhost:$LB_PORT\/}
	printf '%s' "$s"
}

# line_re TEXT: an anchored ERE for one "# ..." output line of the README:
# hex runs of 16 or more (serials, the password), numbers and month names
# match any, blanks match any run of blanks.
line_re() {
	printf '%s' "$(rw "$1")" | sed -E \
	    -e 's/[0-9A-Fa-f]{16,}/@HEX@/g' \
	    -e 's/[][\.*^$+?(){}|]/\\&/g' \
	    -e 's/[0-9]+/@NUM@/g' \
	    -e 's/(^|[^A-Za-z])(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)([^A-Za-z]|$)/\1@MON@\3/g' \
	    -e 's/[[:space:]]+/[[:space:]]+/g' \
	    -e 's/@HEX@/[0-9A-Fa-f]+/g' -e 's/@NUM@/[0-9]+/g' \
	    -e 's/@MON@/[A-Z][a-z][a-z]/g' -e 's/^/^/' -e 's/$/$/'
}

# commands: splits LINES into CMDS (the commands, "\" continuations
# joined) and OUTS (for each, its "# " output lines, newline-separated).
commands() {
	local l c='' i=-1
	CMDS=()
	OUTS=()
	for l in "${LINES[@]}"; do
		if [ -n "$c" ]; then
			c="$c ${l#"${l%%[![:space:]]*}"}"
		elif [[ $l =~ ^#\ ?(.*)$ ]]; then
			[ "$i" -ge 0 ] || continue
			OUTS[i]+="${BASH_REMATCH[1]}"$'\n'
			continue
		elif [[ $l =~ ^[[:space:]]*$ ]]; then
			continue
		else
			c=$l
		fi
		if [[ $c == *\\ ]]; then
			c=${c%\\}
			continue
		fi
		i=$((i + 1))
		CMDS[i]=$c
		OUTS[i]=
		c=
	done
}

# run_cmd CMD: runs CMD (already rewritten) with bash in $CWD with the
# installed programs first in PATH; output in $T/cmd.out, status in RC.
run_cmd() {
	RC=0
	(cd "$CWD" && PATH="$R$bindir:$R$sbindir:$PATH" bash -c "$1") \
	    >"$T/cmd.out" 2>&1 || RC=$?
}

mk() {
	# MAKEFLAGS from a parallel "make check" would reach this make's
	# jobserver; run it on its own.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE_CMD" -s -C "$top_builddir" \
	    "$@" >>"$T/make.out" 2>&1 || {
		tail -n 40 "$T/make.out" >&2
		fail "make $*"
	}
}
# var NAME: the Makefile's value of NAME with the README's directories.
var() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "$MAKE_CMD" -s -C "$top_builddir" \
	    -f Makefile -f - print-var VAR="$1" "${DIRS[@]}" <<'MK' 2>/dev/null
print-var:
	@echo $($(VAR))
MK
}

# --- install ---------------------------------------------------------------
# autoconf's defaults, then what the README's ./configure line says.
# shellcheck disable=SC2016 # make expands ${prefix}
declare -A DIR=([prefix]=/usr/local [exec_prefix]='${prefix}'
    [bindir]='${exec_prefix}/bin' [sbindir]='${exec_prefix}/sbin'
    [sysconfdir]='${prefix}/etc')
read_block install
commands
installed=no
for ((i = 0; i < ${#CMDS[@]}; i++)); do
	c=${CMDS[i]%%#*}
	c=${c%"${c##*[![:space:]]}"}
	note=
	[[ ${CMDS[i]} == *#* ]] && note=${CMDS[i]#*#}
	case $c in
	"autoreconf -fi" | make | "make check")
		# The tree under test is bootstrapped and built, and this
		# test is part of its make check.
		;;
	"./configure"*)
		for a in ${c#./configure}; do
			case $a in
			--prefix=* | --exec-prefix=* | --bindir=* | --sbindir=* | \
			    --sysconfdir=*)
				k=${a%%=*}
				k=${k#--}
				DIR[${k//-/_}]=${a#*=} ;;
			--enable-* | --disable-* | --with-* | --without-*) ;;
			*) harness_error "README: ./configure option '$a' is new" \
			    "to this test" ;;
			esac
		done ;;
	"sudo make install" | "make install")
		DIRS=()
		for k in prefix exec_prefix bindir sbindir sysconfdir; do
			DIRS+=("$k=${DIR[$k]}")
		done
		mk install DESTDIR="$R" "${DIRS[@]}"
		bindir=$(var bindir)
		sbindir=$(var sbindir)
		[ -n "$bindir" ] && [ -n "$sbindir" ] ||
		    harness_error "cannot read bindir/sbindir from the Makefile"
		for f in $note; do
			f=${f%,}
			case $f in /*) ;; *) continue ;; esac
			[ -e "$R$f" ] || fail "README: 'make install' puts $f in" \
			    "place, but it did not: $(cd "$R" && find . -type f |
			    tr '\n' ' ')"
		done
		installed=yes ;;
	*) harness_error "README install block: '$c' is new to this test" ;;
	esac
done
[ "$installed" = yes ] || fail "README install block has no make install"
[ -x "$R$sbindir/mtlslb" ] || fail "make install: no $sbindir/mtlslb"
[ -x "$R$bindir/mtlslb-certs" ] || fail "make install: no $bindir/mtlslb-certs"
CWD=$T/home
run_cmd 'command -v mtlslb; command -v mtlslb-certs'
[ "$(cat "$T/cmd.out")" = "$R$sbindir/mtlslb
$R$bindir/mtlslb-certs" ] || harness_error "PATH finds: $(cat "$T/cmd.out")"
pass "install: make install DESTDIR with the README's directories" \
    "(${DIR[sysconfdir]}); the files its comment names are there"

# --- pki ---------------------------------------------------------------------
read_block pki
commands
for ((i = 0; i < ${#CMDS[@]}; i++)); do
	c=$(rw "${CMDS[i]}")
	run_cmd "$c"
	[ "$RC" = 0 ] || fail "README: '${CMDS[i]}': exit $RC: $(cat "$T/cmd.out")"
	while IFS= read -r want; do
		[ -n "$want" ] || continue
		re=$(line_re "$want")
		grep -Eq -- "$re" "$T/cmd.out" ||
		    fail "README: '${CMDS[i]}' shows '$want'; it printed:" \
		    "$(cat "$T/cmd.out")"
	done <<<"${OUTS[i]}"
done
pass "pki: ${#CMDS[@]} mtlslb-certs commands as written, output as shown"

# --- pki-files ---------------------------------------------------------------
PKIDIR=$R/etc/mtlslb/pki
[ -d "$PKIDIR" ] || fail "the README's mtlslb-certs steps made no /etc/mtlslb/pki"
# shellcheck disable=SC2016 # backquotes in grep, not an expansion
awk '
    index($0, "<!-- readme-test: pki-files") == 1 { armed = 1; next }
    armed && /^\|/ { rows++; if (rows > 2) print; next }
    armed && rows { exit }' "$README" | cut -d'|' -f2 |
    grep -o '`[^`]*`' | tr -d '`' | sed 's|/$||' | sort -u >"$T/table"
[ -s "$T/table" ] || harness_error "README: no table marked readme-test: pki-files"
ls -A "$PKIDIR" | sort -u >"$T/made"
if ! diff "$T/table" "$T/made" >"$T/table.diff"; then
	fail "README's file table ('<' only in the table, '>' made but not" \
	    "in the table): $(grep '^[<>]' "$T/table.diff" | tr '\n' ' ')"
fi
pass "pki-files: the table lists exactly what was made: $(tr '\n' ' ' <"$T/made")"

# --- config ------------------------------------------------------------------
# effective: "[section] key = value" for each key line of stdin; comments
# (whole-line ';' and '#', inline " ;") and blank lines dropped.
effective() {
	awk '
	{ sub(/\r$/, "") }
	/^[ \t]*[;#]/ || /^[ \t]*$/ { next }
	{ sub(/[ \t]+;.*$/, ""); sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
	/^\[/ { sec = $0; next }
	{ i = index($0, "="); k = substr($0, 1, i - 1); v = substr($0, i + 1)
	  gsub(/^[ \t]+|[ \t]+$/, "", k); gsub(/^[ \t]+|[ \t]+$/, "", v)
	  print sec " " k " = " v }'
}
INI=$R/etc/mtlslb/mtlslb.ini
[ -f "$INI" ] || fail "README: the config is /etc/mtlslb/mtlslb.ini, but make" \
    "install put none there: $(cd "$R" && find . -name mtlslb.ini)"
block config | effective >"$T/readme.ini"
[ -s "$T/readme.ini" ] || harness_error "README: no block marked readme-test: config"
effective <"$INI" >"$T/installed.ini"
if ! diff "$T/readme.ini" "$T/installed.ini" >"$T/ini.diff"; then
	fail "README's minimal configuration ('<') is not the installed" \
	    "/etc/mtlslb/mtlslb.ini ('>'): $(grep '^[<>]' "$T/ini.diff" |
	    tr '\n' ' ')"
fi
pass "config: the README's block is the installed mtlslb.ini" \
    "($(wc -l <"$T/readme.ini") keys)"

# The machine: every bind on a test port, every server a test backend,
# absolute paths under $R.
LB_PORT=
BACKENDS=()
while IFS= read -r line; do
	if [[ $line =~ ^[[:space:]]*bind[[:space:]]*= ]]; then
		p=$(free_port)
		[ -n "$LB_PORT" ] || LB_PORT=$p
		line="bind = 127.0.0.1:$p"
	elif [[ $line =~ ^[[:space:]]*server[[:space:]]*=[[:space:]]*([^[:space:]]+)[[:space:]]+[^[:space:]]+(.*)$ ]]; then
		p=$(free_port)
		BACKENDS+=("${BASH_REMATCH[1]} $p")
		line="server = ${BASH_REMATCH[1]} 127.0.0.1:$p${BASH_REMATCH[2]}"
	elif [[ $line =~ ^([[:space:]]*[A-Za-z_]+[[:space:]]*=[[:space:]]*)/(.*)$ ]]; then
		line="${BASH_REMATCH[1]}$R/${BASH_REMATCH[2]}"
	fi
	printf '%s\n' "$line"
done <"$INI" >"$INI.new"
mv "$INI.new" "$INI"
[ -n "$LB_PORT" ] || fail "the installed mtlslb.ini has no bind"
[ "${#BACKENDS[@]}" -gt 0 ] || fail "the installed mtlslb.ini has no server"
for b in "${BACKENDS[@]}"; do
	# shellcheck disable=SC2086 # NAME PORT
	start_backend $b
done

# --- run ---------------------------------------------------------------------
read_block run
commands
started=no
for ((i = 0; i < ${#CMDS[@]}; i++)); do
	c=$(rw "${CMDS[i]}")
	c=${c%%#*}
	c=${c%"${c##*[![:space:]]}"}
	if [[ $c =~ ^mtlslb\ +-c\ +([^[:space:]]+)$ ]]; then
		# The daemon, in the foreground: started as lib.sh starts it.
		MTLSLB_BIN=$R$sbindir/mtlslb
		log_mark
		start_mtlslb "${BASH_REMATCH[1]}"
		started=yes
		continue
	fi
	run_cmd "$c"
	[ "$RC" = 0 ] || fail "README: '${CMDS[i]}': exit $RC: $(cat "$T/cmd.out")"
	pass "run: '$c': exit 0, $(tr '\n' ' ' <"$T/cmd.out")"
done
[ "$started" = yes ] || fail "README run block starts no 'mtlslb -c FILE'"

# --- curl --------------------------------------------------------------------
read_block curl
commands
CWD=$T/home
n=0
for ((i = 0; i < ${#CMDS[@]}; i++)); do
	c=$(rw "${CMDS[i]}")
	if [[ $c =~ ^cd\ +([^[:space:]]+)$ ]]; then
		CWD=${BASH_REMATCH[1]}
		[ -d "$CWD" ] || fail "README: '${CMDS[i]}': no such directory"
		continue
	fi
	[[ $c == "curl "* ]] || harness_error "README curl block: '$c' is new"
	want=${OUTS[i]%%$'\n'*}
	[ -n "$want" ] || harness_error "README: '${CMDS[i]}' shows no output"
	code=200
	[[ $want =~ \<title\>([0-9]{3})\  ]] && code=${BASH_REMATCH[1]}
	rm -f "$T/readme.body"
	run_cmd "curl -sS --max-time $CURL_TIMEOUT -o '$T/readme.body' -w '%{http_code}' ${c#curl }"
	got=$(cat "$T/cmd.out")
	[ "$RC" = 0 ] && [ "$got" = "$code" ] ||
	    fail "README: '${CMDS[i]}': curl exit $RC, HTTP '$got', expected" \
	    "$code"
	if [[ $want == *" ..." ]]; then
		grep -qF -- "${want% ...}" "$T/readme.body" ||
		    fail "README: '${CMDS[i]}' shows '$want'; body:" \
		    "$(head -c 300 "$T/readme.body")"
	else
		body=$(head -n 1 "$T/readme.body")
		# Round robin is strict, so the README's order is what we
		# get, unless a health check took a server out meanwhile.
		if [ "$body" != "$want" ] &&
		    ! { [ "${body% This is *}" = "${want% This is *}" ] &&
		    grep -q ' is DOWN ' "$T/mtlslb.log"; }; then
			fail "README: '${CMDS[i]}' shows '$want'; body:" \
			    "$(head -c 300 "$T/readme.body")"
		fi
	fi
	n=$((n + 1))
done
[ "$n" -ge 2 ] || harness_error "README curl block: only $n curl commands"
pass "curl: $n requests as written through the started daemon, each" \
    "with the status and body the README shows"

stop_mtlslb
[ "$MTLSLB_STATUS" = 0 ] || fail "mtlslb exited $MTLSLB_STATUS on TERM"
pass "91-readme: the README's first steps work as written"
