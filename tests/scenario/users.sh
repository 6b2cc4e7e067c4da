#!/bin/sh
# Staff accounts from the command line (issue 14): the first admin made
# by a script (password on standard input) or at a terminal (asked twice,
# not shown), what is refused and why, roles and leads, disabling, a new
# password, and the audit log that records each change and who made it.
# No password is ever stored, printed, logged or audited; the database
# holds only Argon2id hashes.
. "$(dirname "$0")/lib.sh"
C="$POSTROOM_BIN/postroom"
PTY="$POSTROOM_TOP/tests/tools/pty-answer.py"
needs sqlite3

set -- -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$T/p.db" -o general.secret_file="$T/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates"
DB="$T/p.db"
q() { sqlite3 "$DB" "$1"; }
PW="correct horse battery staple"

# run NAME WANT-STATUS [STDIN] -- ARGS...: postroom with ARGS, output in $T/out.
run() {
	_name=$1 _want=$2 _in=$3; shift 4
	printf '%s\n' "$_in" | "$C" "$@" >"$T/out" 2>&1
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_name (exit $_rc)"
	else not_ok "$_name"; diag "exit $_rc, want $_want"; sed 's/^/# /' "$T/out"; fi
}
has() { grep -q -- "$1" "$T/out"; }

run "the first admin, password on standard input" 0 "$PW" -- \
    "$@" user add Sian.Admin@Example.org --name "Siân Jones" --role admin
check "... says so" has "added"
check "... kept as an Argon2id hash" \
    [ "$(q "SELECT substr(password_hash, 1, 10) FROM users")" = '$argon2id$' ]
check "... never the password" [ "$(q "SELECT count(*) FROM users WHERE instr(password_hash, 'horse') > 0")" -eq 0 ]
run "the same address in another case" 65 "$PW" -- \
    "$@" user add SIAN.ADMIN@example.org --name Other --role viewer
check "... is refused: it has an account" has "already has an account"
run "a password of 11 characters" 65 "elevenchars" -- \
    "$@" user add ed@example.org --name Ed --role editor
check "... is refused, in plain words" has "at least 12 characters"
run "the address as the password" 65 "ed@example.org" -- \
    "$@" user add ed@example.org --name Ed --role editor
run "no password on standard input" 65 "" -- \
    "$@" user add ed@example.org --name Ed --role editor </dev/null
run "an unknown role" 65 "$PW" -- \
    "$@" user add ed@example.org --name Ed --role boss
check "... names the roles" has "admin, editor, viewer or lead"
run "a lead account without --lead" 65 "$PW" -- \
    "$@" user add lee@example.org --name Lee --role lead
run "a lead that is not configured" 65 "$PW" -- \
    "$@" user add lee@example.org --name Lee --role lead --lead nosuch
run "--lead for another role" 65 "$PW" -- \
    "$@" user add ed@example.org --name Ed --role editor --lead west_dsu
run "without --name" 64 "$PW" -- "$@" user add ed@example.org --role editor
run "an invalid address" 65 "$PW" -- \
    "$@" user add "not an address" --name X --role viewer
check "... none of these made an account" [ "$(q "SELECT count(*) FROM users")" -eq 1 ]

run "a name with markup" 65 "$PW" -- \
    "$@" user add lee@example.org --name "Lee <b>Bold</b>" --role lead --lead west_dsu
check "... is refused, saying why" has "without < or >"
run "a lead account" 0 "$PW" -- \
    "$@" user add lee@example.org --name "Lee Smith" --role lead --lead west_dsu
run "an editor" 0 "$PW" -- "$@" user add ed@example.org --name "Ed Brown" --role editor
check "three accounts" [ "$(q "SELECT count(*) FROM users")" -eq 3 ]
check "... each hash salted on its own" [ "$(q "SELECT count(DISTINCT password_hash) FROM users")" -eq 3 ]

# At a terminal: asked twice, nothing shown.
PTY_QUESTION=": " $PYTHON "$PTY" "typed at the terminal
typed at the terminal" "$C" "$@" user add vi@example.org --name Vi --role viewer >"$T/tty" 2>&1
check "at a terminal: the password asked twice" \
    sh -c "grep -q 'New password for vi@example.org' '$T/tty' && grep -q 'The same again' '$T/tty'"
check "... not shown as it is typed" sh -c "! grep -q 'typed at the terminal' '$T/tty'"
check "... and the account made" [ "$(q "SELECT role FROM users WHERE email = 'vi@example.org'")" = viewer ]
PTY_QUESTION=": " $PYTHON "$PTY" "first one typed here
second one typed here" "$C" "$@" user reset-password vi@example.org >"$T/tty" 2>&1
rc=$?
check "two different answers: nothing changed (exit 65)" [ "$rc" -eq 65 ]

run "user list" 0 "" -- "$@" user list
check "... shows every account with its role" \
    sh -c "grep -q 'lee@example.org  lead:west_dsu  Lee Smith  active' '$T/out' && grep -q 'admin' '$T/out'"
run "user list --json" 0 "" -- "$@" user list --json
check "... one object a line, no hash in it" \
    sh -c "[ \$(wc -l < '$T/out') -eq 4 ] && ! grep -q argon2 '$T/out'"

run "set-role to viewer" 0 "" -- "$@" user set-role lee@example.org viewer
check "... drops the lead" [ "$(q "SELECT role || ':' || coalesce(lead, '-') FROM users WHERE email = 'lee@example.org'")" = "viewer:-" ]
run "set-role --role lead --lead east_dsu" 0 "" -- \
    "$@" user set-role lee@example.org --role lead --lead east_dsu
check "... names the new lead" [ "$(q "SELECT lead FROM users WHERE email = 'lee@example.org'")" = east_dsu ]
run "set-role of nobody" 65 "" -- "$@" user set-role nobody@example.org viewer
check "... says so" has "no account for nobody@example.org"

run "disable" 0 "" -- "$@" user disable ED@example.org
check "... is recorded" [ "$(q "SELECT disabled FROM users WHERE email = 'ed@example.org'")" -eq 1 ]
run "disable again: nothing to do, still done" 0 "" -- "$@" user disable ed@example.org
run "enable" 0 "" -- "$@" user enable ed@example.org
check "... can sign in again" [ "$(q "SELECT disabled FROM users WHERE email = 'ed@example.org'")" -eq 0 ]

OLD=$(q "SELECT password_hash FROM users WHERE email = 'ed@example.org'")
run "reset-password with one too short" 65 "too short" -- "$@" user reset-password ed@example.org
check "... leaves the password" [ "$(q "SELECT password_hash FROM users WHERE email = 'ed@example.org'")" = "$OLD" ]
run "reset-password" 0 "a brand new passphrase" -- "$@" user reset-password ed@example.org
check "... a new hash" [ "$(q "SELECT password_hash FROM users WHERE email = 'ed@example.org'")" != "$OLD" ]

# A second factor: its key shown once, as an otpauth:// URI.
run "user totp" 0 "" -- "$@" user totp ed@example.org
URI=$(grep -o 'otpauth://[^ ]*' "$T/out")
check "... prints an otpauth:// URI for the app" \
    sh -c "echo '$URI' | grep -Eq '^otpauth://totp/postroom:ed@example.org\?secret=[A-Z2-7]{32}&issuer=postroom'"
SECRET=$(echo "$URI" | sed 's/.*secret=//; s/&.*//')
check "... whose key is the one kept (20 bytes)" [ "$($PYTHON -c "import base64,sys; print(base64.b32decode(sys.argv[1]).hex().upper())" "$SECRET")" = "$(q "SELECT hex(totp_secret) FROM users WHERE email = 'ed@example.org'")" ]
run "user list" 0 "" -- "$@" user list
check "... says who has a second factor" has "ed@example.org  editor  Ed Brown  active, second factor"
run "user totp again" 0 "" -- "$@" user totp ed@example.org
check "... a new key" sh -c "! grep -q '$SECRET' '$T/out'"
run "user totp --off" 0 "" -- "$@" user totp ed@example.org --off
check "... removes it" [ "$(q "SELECT totp_secret IS NULL FROM users WHERE email = 'ed@example.org'")" -eq 1 ]

run "postroom audit" 0 "" -- "$@" audit
for k in user.added user.role user.disabled user.enabled user.password \
    user.totp-on user.totp-off; do
	check "... records $k" has "$k"
done
check "... with who did it" has "cli:"
check "... disabling twice is one event" [ "$(grep -c user.disabled "$T/out")" -eq 1 ]
run "postroom audit --json --since 2000-01-01" 0 "" -- "$@" audit --json --since 2000-01-01
check "... one object an event" [ "$(wc -l < "$T/out")" -eq "$(q "SELECT count(*) FROM events")" ]
run "postroom audit --since 2999-01-01" 0 "" -- "$@" audit --since 2999-01-01
check "... a day to come: nothing" [ ! -s "$T/out" ]
run "audit --since yesterday" 64 "" -- "$@" audit --since yesterday
check "no key of a second factor in the audit log" [ "$(q "SELECT count(*) FROM events WHERE instr(coalesce(detail, ''), 'otpauth') > 0")" -eq 0 ]
check "no password in the audit log" [ "$(q "SELECT count(*) FROM events WHERE instr(coalesce(detail, '') || subject, 'horse') > 0 OR instr(coalesce(detail, ''), 'passphrase') > 0")" -eq 0 ]
run "user --help" 0 "" -- "$@" user --help
check "... lists the commands and the roles" \
    sh -c "grep -q reset-password '$T/out' && grep -q 'Roles:' '$T/out'"
run "user frobnicate" 64 "" -- "$@" user frobnicate
done_testing
