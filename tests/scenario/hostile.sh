#!/bin/sh
# Hostile mail through every path that parses it: "postroom route"
# (--dry-run and --explain) and postroomd --once over a Maildir, for the
# project's hostile set (tests/data/hostile) and CPython's email test set
# (Debian's libpython3.11-testsuite: 60-odd real and malformed messages
# from the email package's own tests).  None may crash anything: the
# command exits 0, says something about every message, logs no parser
# child that died, and the daemon records every message.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
conf="$POSTROOM_TOP/config/postroom.conf"
CPY=/usr/lib/python3.11/test/test_email/data

mkdir -p "$T/sets/hostile" "$T/var"
cp "$POSTROOM_TOP"/tests/data/hostile/*.eml "$T/sets/hostile/"
sets=hostile
if [ -d "$CPY" ]; then
	mkdir -p "$T/sets/cpython"
	for f in "$CPY"/msg_*.txt; do
		cp "$f" "$T/sets/cpython/$(basename "$f" .txt).eml"
	done
	sets="$sets cpython"
else
	echo "# SKIPPED: CPython's email test set: $CPY is absent" \
	    "(install libpython3.11-testsuite)"
	skip "CPython's email test set: $CPY is absent"
fi

set -- -c "$conf" -o general.database="$T/var/p.db" \
    -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o smtp.url="maildir:$T/out" -o web.listen="127.0.0.1:$(free_port)"

died() { grep -c 'parser child' "$1"; }

total=0
for s in $sets; do
	n=$(ls "$T/sets/$s" | wc -l)
	total=$((total + n))

	"$C" "$@" route --dry-run --json "$T/sets/$s" >"$T/$s.json" \
	    2>"$T/$s.err"; rc=$?
	check "route --dry-run over the $s set ($n messages) exits 0" \
	    [ "$rc" -eq 0 ]
	lines=$(grep -c '"lead"' "$T/$s.json")
	check "... and gives a lead for each of the $n" [ "$lines" -eq "$n" ]
	d=$(died "$T/$s.err")
	if [ "$d" -eq 0 ]; then ok "... and no parser child died"
	else not_ok "... and no parser child died"; grep 'parser child' "$T/$s.err" | sed 's/^/# /'; fi

	bad=0
	for f in "$T/sets/$s"/*.eml; do
		"$C" "$@" route --explain "$f" >"$T/explain.out" \
		    2>>"$T/$s.explain.err" || { bad=$((bad + 1)); diag "route --explain $(basename "$f"): exit $?"; continue; }
		grep -q '^nothing was sent' "$T/explain.out" || bad=$((bad + 1))
	done
	check "route --explain on each of the $s set exits 0 and explains" \
	    [ "$bad" -eq 0 ]
	check "... and no parser child died" [ "$(died "$T/$s.explain.err")" -eq 0 ]
done

# The daemon: every message of every set through a Maildir, in one run.
M="$T/maildir"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
for s in $sets; do
	for f in "$T/sets/$s"/*.eml; do
		cp "$f" "$M/new/$s.$(basename "$f")"
	done
done
timeout 300 "$D" --once "$@" -o inbound.source=maildir \
    -o inbound.maildir="$M" 2>"$T/d.log"
rc=$?
check "postroomd --once over all $total messages exits 0" [ "$rc" -eq 0 ]
check "... and none is left in new/" [ "$(ls "$M/new" | wc -l)" -eq 0 ]
d=$(died "$T/d.log")
if [ "$d" -eq 0 ]; then ok "... and no parser child died"
else not_ok "... and no parser child died"; grep 'parser child' "$T/d.log" | sed 's/^/# /'; fi
if grep -q "not recorded" "$T/d.log"; then
	not_ok "... and every message was recorded"; grep "not recorded" "$T/d.log" | sed 's/^/# /'
else ok "... and every message was recorded"; fi
no_personal_data "the daemon logs no address" "$T/d.log"

done_testing
