#!/bin/sh
# "postroom digest run" for real, on a temporary database, with
# tests/golden/digest/digest.conf: subscribers added with the CLI, a
# newsletter "sent" the way digest.h's contract says campaign sending will
# (there is no "campaign send" yet: sqlite3 sets it started and queues the
# immediate-mode rows), a simulated calendar with --now (the week before,
# the week's Monday, again, the next day), the digest message checked by
# Python's email package, an enquiry delivered through the MTA pipe and
# the summary its lead gets the next morning (with its first lines, read
# by the parser child), and the exit codes 0, 64, 65, 75 and 78.
. "$(dirname "$0")/lib.sh"

PR="$POSTROOM_BIN/postroom"
CHECK="$POSTROOM_TOP/tests/tools/check-email.py"
CONF="$POSTROOM_TOP/tests/golden/digest/digest.conf"
DB="$T/p.db"
if [ ! -x "$PR" ]; then
	skip "no $PR (build it first)"
	done_testing
	exit 0
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "no sqlite3 command to play campaign sending"
	done_testing
	exit 0
fi

# p ARGS...: postroom on the test database; output in $T/out, $T/err.
p() {
	"$PR" -c "$CONF" -o general.database="$DB" \
	    -o general.secret_file="$T/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o smtp.url="maildir:$T/outbox" \
	    "$@" >"$T/out" 2>"$T/err"
	rc=$?
	return 0
}
expect_rc() {
	if [ "$rc" -eq "$2" ]; then ok "$1 (exit $2)"
	else not_ok "$1: got exit $rc, want $2"
		sed 's/^/#   /' "$T/out" "$T/err" | head -20; fi
}
has() {	# NAME FILE TEXT
	if grep -qF -- "$3" "$2"; then ok "$1"
	else not_ok "$1: no \"$3\""; sed 's/^/#   /' "$2" | head -20; fi
}
sql() { sqlite3 -batch "$DB" "$@"; }
# epoch "YYYY-MM-DD HH:MM": that London time as unix time.
epoch() { TZ=Europe/London date -d "$1" +%s; }
# message QUERY FILE: the outbox message the query selects, to a file.
message() {
	$PYTHON -c 'import sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()
open(sys.argv[3], "wb").write(bytes(r[0]) if r else b"")' "$DB" "$1" "$2"
}

# --- usage and configuration errors ---------------------------------------
p digest --help
expect_rc "digest --help" 0
has "... shows the usage" "$T/out" "digest run [--list SLUG]"
p digest
expect_rc "no subcommand" 64
p digest frobnicate
expect_rc "unknown subcommand" 64
p digest run extra
expect_rc "an extra argument" 64
p digest run --now "23 November"
expect_rc "a --now that is not YYYY-MM-DD HH:MM" 64
p digest run --now "2026-02-30 07:00"
expect_rc "a --now that does not exist" 64
p digest run --list nosuch
expect_rc "an unknown list" 65
has "... named" "$T/err" 'no list "nosuch"'
p -o general.timezone=Mars/Olympus_Mons digest run
expect_rc "an unknown time zone" 78
has "... named" "$T/err" "Mars/Olympus_Mons"
mkdir -p "$T/none"
p -o general.templates="$T/none" digest run --now "2026-11-23 07:00"
expect_rc "no templates" 78
has "... says which file" "$T/err" "$T/none/digest.html"
sql "DELETE FROM digests_sent"

# --- a week of a weekly list -------------------------------------------------
p subscriber add analyst-network ann@example.org --name "Ann" --confirmed
p subscriber add analyst-network bob@example.org --name "Bob Digest" \
    --mode digest --confirmed
expect_rc "add a digest-mode subscriber" 0
printf 'Dear {{subscriber.name}},\n\nThe next **huddle** is on 26 November.\n' \
    >"$T/a.md"
p campaign new analyst-network --subject "Huddle dates" --body "$T/a.md"
c1=$(cat "$T/out")
sql "UPDATE memberships SET confirmed_at = $(epoch '2026-11-01 09:00');
UPDATE campaigns SET status = 'sent', started_at = $(epoch '2026-11-17 10:00')
 WHERE id = $c1;
INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to,
 created_at, updated_at) SELECT 'campaign', $c1, m.subscriber_id, 'b@x',
 s.email, 0, 0 FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id
 WHERE m.list = 'analyst-network' AND m.status = 'confirmed'
 AND m.mode = 'immediate'"

p digest run --list analyst-network --now "2026-11-23 06:59"
expect_rc "the minute before" 0
has "... the week before was empty" "$T/out" "week of 9 November 2026 (2026-W46): nothing held"
p digest run --list analyst-network --now "2026-11-23 07:00"
expect_rc "Monday 07:00" 0
has "... queues one digest" "$T/out" "(2026-W47): queued 1 message holding 1 newsletter"
check "... to bob only" [ "$(sql "SELECT group_concat(rcpt_to) FROM outbox WHERE kind = 'digest'")" = "bob@example.org" ]
message "SELECT (SELECT body FROM outbox_bodies WHERE id = body_id) FROM outbox WHERE kind = 'digest'" "$T/digest.eml"
if $PYTHON "$CHECK" --expect-subject "Analyst Network bulletin digest: week of 16 November 2026" \
    --expect-to-name "Bob Digest" "$T/digest.eml" >&2; then
	ok "the digest is a well-formed message"
else not_ok "the digest is a well-formed message"; fi
has "... with List-Unsubscribe-Post" "$T/digest.eml" "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
has "... and a List-Id" "$T/digest.eml" "List-Id: Analyst Network bulletin <analyst-network.mail.example.org>"
if $PYTHON -c 'import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = m.get_body(("plain",)).get_content()
assert "Dear Bob Digest," in t and "1. Huddle dates" in t, t
h = m.get_body(("html",)).get_content()
assert "<strong>huddle</strong>" in h, h' "$T/digest.eml"; then
	ok "... whose parts hold the newsletter, merged for bob"
else not_ok "... whose parts hold the newsletter, merged for bob"; fi

p digest run --list analyst-network --now "2026-11-23 07:00"
expect_rc "again" 0
has "... queues nothing" "$T/out" "already queued"
p digest run --list analyst-network --now "2026-11-24 12:00"
has "... nor the next day" "$T/out" "digest: 0 messages queued"
check "one digest in all" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'digest'")" -eq 1 ]

# Switching mode: bob now gets newsletters directly, nothing is held.
p subscriber set analyst-network bob@example.org --mode immediate
expect_rc "subscriber set --mode immediate" 0
check "... recorded" [ "$(sql "SELECT mode FROM memberships WHERE list = 'analyst-network' AND subscriber_id = (SELECT id FROM subscribers WHERE email = 'bob@example.org')")" = immediate ]
p digest run --list analyst-network --now "2026-11-30 07:00"
has "... and the next digest has nothing for him" "$T/out" "nothing held"

# --- a busy database -----------------------------------------------------------
$PYTHON -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(30)' "$DB" "$T/locked" &
locker=$!
started $locker
wait_for 5 [ -f "$T/locked" ]
p digest run --list analyst-network --now "2026-12-07 07:00"
expect_rc "a database locked by another writer" 75
has "... says to try again" "$T/err" "try again later"
kill "$locker" 2>/dev/null
wait "$locker" 2>/dev/null

# --- a lead's summary ------------------------------------------------------------
cat >"$T/enquiry.eml" <<'EOF'
From: Pat Example <pat@example.com>
To: enquiries@example.org
Subject: A question nobody expected
Message-ID: <digest-scenario-1@example.com>
Date: Sun, 22 Nov 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8

Hello,

Is there a parking space at the venue?
> an old quoted line
Thank you.
--
Pat
EOF
p deliver <"$T/enquiry.eml"
expect_rc "an enquiry through the MTA pipe" 0
ref=$(sql "SELECT reference FROM enquiries")
# The next 07:00 in London after the enquiry.
next=$($PYTHON -c 'import datetime, zoneinfo
z = zoneinfo.ZoneInfo("Europe/London")
n = datetime.datetime.now(z)
d = n.date() + datetime.timedelta(days=1 if n.hour >= 7 else 0)
print(d.strftime("%Y-%m-%d") + " 07:00")')
p digest run --leads --now "$next"
expect_rc "digest run --leads" 0
has "... queues general's summary" "$T/out" "lead general: summary for"
check "... one to each general address" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'lead_digest' AND rcpt_to LIKE 'enquiries-_@example.org'")" -eq 2 ]
check "... nothing for leads with nothing new" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'lead_digest' AND rcpt_to NOT LIKE 'enquiries-_@example.org'")" -eq 0 ]
message "SELECT (SELECT body FROM outbox_bodies WHERE id = body_id) FROM outbox WHERE kind = 'lead_digest' AND rcpt_to = 'enquiries-a@example.org'" "$T/lead.eml"
if $PYTHON "$CHECK" --expect-to-name "General enquiries" "$T/lead.eml" >&2; then
	ok "the summary is a well-formed message"
else not_ok "the summary is a well-formed message"; fi
if $PYTHON -c 'import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = m.get_body(("plain",)).get_content()
assert sys.argv[2] in t, t
assert "| Is there a parking space at the venue?" in t, t
assert "| Thank you." in t and "old quoted" not in t and "Pat\n" not in t, t
assert "Fell to the default lead" in t, t
assert m["Auto-Submitted"] == "auto-generated", m["Auto-Submitted"]' "$T/lead.eml" "$ref"; then
	ok "... names the enquiry, its first lines, and that it fell to the default"
else not_ok "... names the enquiry, its first lines, and that it fell to the default"; fi
p digest run --leads --now "$next"
has "lead summaries again: nothing" "$T/out" "digest: 0 messages queued"

done_testing
