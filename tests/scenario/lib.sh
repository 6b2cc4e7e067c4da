# Sourced by tests/scenario/*.sh: TAP output and the things every scenario
# needs (a private temp dir, the binaries under test, cleanup of whatever a
# test started).  Scenarios only ever talk to 127.0.0.1.

: "${POSTROOM_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${POSTROOM_BIN:=$POSTROOM_TOP/build/san/bin}"
: "${POSTROOM_SHARED:=$POSTROOM_TOP/../shared}"
PYTHON=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/postroom-scn.XXXXXX")
_n=0
_pids=""

cleanup() {
	for p in $_pids; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $_pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { _n=$((_n + 1)); echo "ok $_n - $*"; }
not_ok() { _n=$((_n + 1)); echo "not ok $_n - $*"; }
skip() { _n=$((_n + 1)); echo "ok $_n # SKIP $*"; }
# check NAME COMMAND...: ok when the command succeeds.
check() { name=$1; shift; if "$@"; then ok "$name"; else not_ok "$name"; fi; }
diag() { echo "# $*"; }
# Remember a background process to stop at the end.
started() { _pids="$_pids $1"; }
# wait_for SECONDS COMMAND...: poll until the command succeeds.
wait_for() {
	_w=$1; shift
	_i=0
	while [ "$_i" -lt $((_w * 10)) ]; do
		"$@" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
done_testing() { echo "1..$_n"; }

# The tests read and write the database while postroomd works on it: wait
# for its locks as postroom itself does, instead of failing at once.
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }

# needs WHAT...: skip the whole script unless each WHAT is there:
# "aiosmtpd" (the Python module) or a command's name.
needs() {
	for _w in "$@"; do
		case $_w in
		aiosmtpd) $PYTHON -c 'import aiosmtpd' 2>/dev/null && continue
			skip "aiosmtpd is not installed (apt-get install python3-aiosmtpd)" ;;
		*) command -v "$_w" >/dev/null 2>&1 && continue
			skip "the $_w command is not installed (apt-get install $_w)" ;;
		esac
		done_testing
		exit 0
	done
}

# A free TCP port on 127.0.0.1.
free_port() {
	$PYTHON -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# no_personal_data NAME FILE [WORD...]: ok when no line of postroom's log
# FILE holds an email address, nor any WORD (the names of people the test
# used).  Masked addresses ("addr#1a2b3c4d") are what postroom writes.
no_personal_data() {
	_name=$1 _file=$2; shift 2
	grep -nE "[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+" \
	    "$_file" > "$T/pii" 2>/dev/null
	for _w in "$@"; do grep -nF -- "$_w" "$_file" >> "$T/pii"; done
	if [ -s "$T/pii" ]; then
		not_ok "$_name"; diag "$(sort -u "$T/pii" | head -5)"
	else
		ok "$_name"
	fi
}
