#!/bin/sh
# Run every test, each speaking TAP, and end with the one line
# "N passed, N failed, N skipped".  Exit 1 when anything failed.
#
#   unit:     build/san/tests/test-*   (cmocka, CMOCKA_MESSAGE_OUTPUT=TAP)
#   scenario: tests/scenario/*.sh      (real servers on loopback)
#
# A test that dies without reporting (a sanitizer abort, a crash) counts as a
# failure of its own.  TESTS="name ..." runs only those.
#
# CLOCK="2029-01-15 10:00:00" runs only the unit tests, each under
# libfaketime (Debian's faketime) with the clock starting at that time: no
# test may depend on the real date (.ci/run does this for a date years ahead and for one in
# British Summer Time).
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
CLOCK=${CLOCK:-}
if [ -n "$CLOCK" ]; then
	# libfaketime preloaded directly: the faketime(1) wrapper's semaphore
	# (sem_open) collides now and then with one left by an earlier run.
	FAKETIME_LIB=
	for _lib in /usr/lib/*/faketime/libfaketimeMT.so.1 \
	    /usr/lib/faketime/libfaketimeMT.so.1; do
		[ -f "$_lib" ] && { FAKETIME_LIB=$_lib; break; }
	done
	if [ -z "$FAKETIME_LIB" ]; then
		echo "tests/run.sh: CLOCK is set but libfaketime is not installed (apt-get install faketime)" >&2
		exit 1
	fi
	# faketime's preload comes before ASan's runtime in the link order.
	export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"
	echo "# unit tests only, under libfaketime, the clock starting at $CLOCK"
fi

# clocked COMMAND...: the command, under libfaketime when CLOCK is set.
clocked() {
	if [ -n "$CLOCK" ]; then
		LD_PRELOAD="$FAKETIME_LIB" FAKETIME="@$CLOCK" \
		    FAKETIME_NO_CACHE=1 "$@"
	else
		"$@"
	fi
}
# Under CLOCK, make sure the clock really moved (a preload that failed
# would test today's date again and pass).
if [ -n "$CLOCK" ] && [ "$(clocked date +%Y-%m-%d)" != "${CLOCK%% *}" ]; then
	echo "tests/run.sh: libfaketime did not set the clock to $CLOCK" >&2
	exit 1
fi
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
	want "$n" && run_one "$n" clocked "$t"
done
for t in tests/scenario/*.sh; do
	[ -n "$CLOCK" ] && break
	[ -f "$t" ] || continue
	n=$(basename "$t" .sh)
	case $n in lib|lib-*) continue ;; esac	# sourced, not scenarios
	want "$n" && run_one "$n" sh "$t"
done

[ -n "$failed_names" ] && echo "# failed:$failed_names"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
