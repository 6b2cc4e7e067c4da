#!/bin/sh
# Run every test, each speaking TAP, and end with the one line
# "N passed, N failed, N skipped".  Exit 1 when anything failed.
#
#   unit:     build/san/tests/test-*   (cmocka, CMOCKA_MESSAGE_OUTPUT=TAP)
#   scenario: tests/scenario/*.sh      (real servers on loopback)
#
# A test that dies without reporting (a sanitizer abort, a crash) counts as a
# failure of its own.  TESTS="name ..." runs only those.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

export POSTROOM_TOP="$top"
BUILD=${BUILD:-build}
export POSTROOM_BIN="$top/$BUILD/san/bin"
export POSTROOM_SHARED="${POSTROOM_SHARED:-$top/../shared}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export CMOCKA_MESSAGE_OUTPUT=TAP
out=$(mktemp -d "${TMPDIR:-/tmp}/postroom-tests.XXXXXX")
trap 'rm -rf "$out"' EXIT INT TERM

pass=0 fail=0 skip=0 failed_names=""

run_one() {	# name command...
	name=$1; shift
	log="$out/$name.log"
	echo "# --- $name"
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^ok ' "$log")
	s=$(grep -c '^\(not \)\{0,1\}ok [0-9]* *# *SKIP' "$log")
	f=$(grep '^not ok ' "$log" | grep -vc '# *SKIP')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc without reporting a failure"
		f=1
	fi
	p=$((p - $(grep -c '^ok [0-9]* *# *SKIP' "$log")))
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" -gt 0 ] && failed_names="$failed_names $name"
}

want() {
	[ -z "${TESTS:-}" ] && return 0
	for _want in $TESTS; do [ "$_want" = "$1" ] && return 0; done
	return 1
}

for t in "$BUILD"/san/tests/test-*; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	want "$n" && run_one "$n" "$t"
done
for t in tests/scenario/*.sh; do
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	[ "$n" = lib ] && continue	# sourced by the scenarios, not one
	want "$n" && run_one "$n" sh "$t"
done

[ -n "$failed_names" ] && echo "# failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
