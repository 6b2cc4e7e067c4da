#!/bin/sh
# postroom subscriber: the real CLI on a temporary database.
#
# add (pending -> a confirmation in the outbox, confirmed, again), list and
# show --json, set, remove, import of tests/data/csv/*.csv (counts and the
# line numbers of skipped records), export and a lossless round trip,
# forget (then add and import refused), export-person, the exit codes, and
# a 100,000-row import (its time is printed, not asserted).
. "$(dirname "$0")/lib.sh"

CSV="$POSTROOM_TOP/tests/data/csv"
PR="$POSTROOM_BIN/postroom"
if [ ! -x "$PR" ]; then
	skip "no $PR (build it first)"
	done_testing
	exit 0
fi

# p [ARGS...]: postroom on the test database; output in $T/out, $T/err.
p() {
	"$PR" -c "$POSTROOM_TOP/config/postroom.conf" \
	    -o general.database="$DB" -o general.secret_file="$T/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o inbound.maildir="$T/inbox" -o smtp.url="maildir:$T/outbox" \
	    subscriber "$@" >"$T/out" 2>"$T/err"
	rc=$?
	return 0
}
# expect_rc NAME CODE: the last p exited with CODE.
expect_rc() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1 (exit $2)"
	else
		not_ok "$1: got exit $rc, want $2"
		sed 's/^/#   /' "$T/out" "$T/err" | head -20
	fi
}
# out_has NAME TEXT: $T/out (or $T/err) holds the line TEXT exactly.
out_has() {
	if grep -qxF -- "$2" "$T/out"; then ok "$1"; else
		not_ok "$1: no line \"$2\""; sed 's/^/#   /' "$T/out" | head -20
	fi
}
err_has() {
	if grep -qF -- "$2" "$T/err"; then ok "$1"; else
		not_ok "$1: stderr lacks \"$2\""; sed 's/^/#   /' "$T/err" | head
	fi
}
sql() {	# sql QUERY: one value
	$PYTHON -c 'import sqlite3,sys
c=sqlite3.connect(sys.argv[1])
r=c.execute(sys.argv[2]).fetchone()
print("" if r is None or r[0] is None else r[0])' "$DB" "$1"
}

DB="$T/p.db"

# --- help and usage ---------------------------------------------------------
p --help
expect_rc "--help" 0
check "--help lists import" grep -q "subscriber import LIST FILE.csv" "$T/out"
p add news
expect_rc "add without EMAIL is a usage error" 64
check "usage on stderr" grep -q "^usage: postroom" "$T/err"
p add news a@example.org --mode sometimes
expect_rc "bad --mode" 64
p add news a@example.org --attr novalue
expect_rc "bad --attr" 64
p frobnicate
expect_rc "unknown subcommand" 64
p add nosuchlist a@example.org
expect_rc "unknown list" 65
err_has "unknown list named" 'no list "nosuchlist"'
p add news "not an address"
expect_rc "invalid address" 65
err_has "invalid address says why" "contains a space"
p add news jan@localhost
expect_rc "domain without a dot" 65

# --- add ------------------------------------------------------------------------
p add news Ann.Smith@EXAMPLE.ORG --name "Ann Smith" --attr org=DSU
expect_rc "add pending" 0
out_has "add pending says so" \
    "added Ann.Smith@example.org to news (pending: confirmation email queued)"
check "one confirmation queued" [ "$(sql "SELECT count(*) FROM outbox
    WHERE kind = 'confirm' AND rcpt_to = 'Ann.Smith@example.org'
    AND priority = 10 AND state = 'queued'")" = 1 ]
$PYTHON - "$DB" >"$T/msg" 2>&1 <<'EOF'
import email, email.policy, re, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
raw = c.execute("SELECT message FROM outbox WHERE kind = 'confirm'").fetchone()[0]
m = email.message_from_bytes(raw, policy=email.policy.default)
body = m.get_body().get_content()
urls = re.findall(r'https?://\S+', body)
conf = [u for u in urls if '/confirm/' in u]
assert len(conf) == 1, urls
u = conf[0]
assert re.fullmatch(r'http://127\.0\.0\.1:8025/confirm/[A-Za-z0-9_-]{20,}', u), u
assert '@' not in u and 'ann' not in u.lower(), u
assert m['To'] == 'Ann Smith <Ann.Smith@example.org>', m['To']
assert m['Auto-Submitted'] == 'auto-generated'
assert 'Please confirm your subscription to' in m['Subject'], m['Subject']
assert 'Ann.Smith@example.org' in body
print("ok", u)
EOF
if grep -q '^ok http' "$T/msg"; then ok "confirmation has a /confirm/ link and no address in it"
else not_ok "confirmation message"; sed 's/^/#   /' "$T/msg"; fi

p add news ann.smith@example.org
expect_rc "another case of the address is the same person" 0
out_has "the same person, shown as first given" \
    "Ann.Smith@example.org is already on news, waiting for confirmation; nothing changed (a confirmation email was already queued today)"
check "one subscriber for both cases" [ "$(sql "SELECT count(*) || ' ' || min(email) FROM subscribers WHERE lower(email) = 'ann.smith@example.org'")" = "1 Ann.Smith@example.org" ]
p add news Ann.Smith@example.org
expect_rc "add again" 0
check "add again says already" grep -q "already on news, waiting for confirmation; nothing changed" "$T/out"
check "add again queues nothing more today" [ "$(sql "SELECT count(*) FROM outbox WHERE rcpt_to = 'Ann.Smith@example.org'")" = 1 ]

p add news bob@example.org --confirmed --name "Bob Jones" --mode digest
expect_rc "add --confirmed" 0
check "add --confirmed says staff consent" grep -q "^added bob@example.org to news (confirmed: consent given to staff, cli:" "$T/out"
check "no confirmation for --confirmed" [ "$(sql "SELECT count(*) FROM outbox WHERE rcpt_to = 'bob@example.org'")" = 0 ]
before=$(sql "SELECT m.updated_at || status || mode FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE email = 'bob@example.org'")
p add news bob@example.org --name "Someone Else"
expect_rc "add existing confirmed" 0
out_has "already subscribed" "bob@example.org is already subscribed to news (confirmed); nothing changed"
check "nothing changed" [ "$(sql "SELECT m.updated_at || status || mode FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE email = 'bob@example.org'")" = "$before" ]
check "name unchanged" [ "$(sql "SELECT name FROM subscribers WHERE email = 'bob@example.org'")" = "Bob Jones" ]
check "consent recorded" [ "$(sql "SELECT consent_method || ' ' || substr(consent_source, 1, 4) || ' ' || (consent_at > 0) FROM memberships WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'bob@example.org')")" = "staff cli: 1" ]
p add news jan@ŻÓŁW.pl --confirmed
expect_rc "add IDN" 0
check "IDN stored as A-label" grep -q "^added jan@xn--w-uga1v8h.pl to news (confirmed" "$T/out"

# --- list, show, set, remove -----------------------------------------------------
p list news --json
expect_rc "list --json" 0
check "list --json: one object per line" $PYTHON -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {r["email"]: r for r in rows}
assert len(rows) == 3, rows
assert by["Ann.Smith@example.org"]["status"] == "pending"
assert by["Ann.Smith@example.org"]["attrs"] == {"org": "DSU"}
assert by["bob@example.org"]["mode"] == "digest"
assert by["bob@example.org"]["consent"]["method"] == "staff"
' "$T/out"
p list news --status confirmed
expect_rc "list --status confirmed" 0
check "list text: two confirmed and a header" [ "$(wc -l <"$T/out")" -eq 3 ]
p show Ann.Smith@example.org --json
expect_rc "show --json" 0
check "show --json: one object with memberships" $PYTHON -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["email"] == "Ann.Smith@example.org" and o["name"] == "Ann Smith"
assert [m["list"] for m in o["memberships"]] == ["news"]
assert o["memberships"][0]["consent"]["method"] == "staff"
' "$T/out"
p show nobody@example.org
expect_rc "show unknown" 65
p show ANN.SMITH@example.org
expect_rc "show in another case" 0
check "show in another case finds the form first given" grep -qx "email:    Ann.Smith@example.org" "$T/out"
p set news BOB@example.org --mode digest
out_has "set in another case finds them" "bob@example.org on news: mode is already digest; nothing changed"

# --- find --------------------------------------------------------------------
p add news zoe.brown@example.org --name "Zoë Brown" --confirmed
p add news sian.jones@nhs.uk --name "Siân Jones" --confirmed
p find zoe
expect_rc "find zoe" 0
check "find zoe finds Zoë, like list" [ "$(sed 1d "$T/out" | awk '{ print $1, $2 }')" = "zoe.brown@example.org news:confirmed" ]
check "find prints a header" grep -q "^EMAIL  *LISTS  *NAME$" "$T/out"
p find SIAN --json
expect_rc "find SIAN --json" 0
check "find SIAN finds Siân, one JSON object per line" $PYTHON -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["email"] for r in rows] == ["sian.jones@nhs.uk"], rows
assert rows[0]["name"] == "Siân Jones"
assert rows[0]["memberships"][0]["list"] == "news"
' "$T/out"
p find "EXAMPLE.org"
check "find by part of the address" [ "$(sed 1d "$T/out" | wc -l)" -eq 3 ]
p find nobody-at-all
expect_rc "find with no match" 65
p find ""
expect_rc "find with no text" 64
p set news bob@example.org --mode immediate
expect_rc "set --mode" 0
out_has "set says so" "bob@example.org on news: mode immediate (was digest)"
p set news bob@example.org
expect_rc "set without --mode" 64
p remove news ann.smith@example.org
expect_rc "remove in another case" 0
check "remove says who, as first given" grep -q "^removed Ann.Smith@example.org from news" "$T/out"
check "remove keeps an unsubscribed row" [ "$(sql "SELECT status FROM memberships WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'Ann.Smith@example.org')")" = unsubscribed ]
check "remove skips the queued confirmation" [ "$(sql "SELECT state FROM outbox WHERE rcpt_to = 'Ann.Smith@example.org'")" = skipped ]
p remove news nobody@example.org
expect_rc "remove someone not on the list" 65

# --- import --------------------------------------------------------------------------
p import news /nonexistent/file.csv
expect_rc "import a missing file" 66
p import news "$CSV/unterminated.csv"
expect_rc "import an unterminated quote" 65
err_has "unterminated quote names its line" "unterminated.csv: line 3: quoted field is not closed"
check "a malformed file imports nothing" [ "$(sql "SELECT count(*) FROM subscribers WHERE email LIKE '_@example.org'")" = 0 ]
p import news "$CSV/no-email.csv"
expect_rc "import without an email column" 65
p import analyst-network "$CSV/basic.csv" --dry-run
expect_rc "import --dry-run" 0
out_has "dry run counts" "imported 5, updated 0, skipped 4 (dry run: nothing was changed)"
check "dry run changed nothing" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network'")" = 0 ]
q0=$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")
p import analyst-network "$CSV/basic.csv"
expect_rc "import basic.csv" 0
out_has "basic.csv counts" "imported 5, updated 0, skipped 4"
out_has "skip: invalid address" "line 6: not-an-address: no @"
out_has "skip: no email" "line 7: no email address"
out_has "skip: duplicate names the first line" "line 8: ann@example.org: duplicate of line 2"
out_has "skip: too many fields" "line 11: 5 fields, but the header has 4"
printf 'email,name\r\nDee@example.org,Dee\r\ndee@EXAMPLE.org,Dee again\r\n' >"$T/dee.csv"
p import analyst-network "$T/dee.csv" --dry-run
out_has "import: another case is a duplicate" "line 3: dee@example.org: duplicate of line 2"
check "each pending import got a confirmation" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")" -eq $((q0 + 5)) ]
check "multi-line field kept" [ "$(sql "SELECT json_extract(attrs, '$.org') FROM subscribers WHERE email = 'carol@example.org'")" = "Multi
line org" ]
check "consent method import" [ "$(sql "SELECT DISTINCT consent_method FROM memberships WHERE list = 'analyst-network'")" = import ]
p import analyst-network "$CSV/excel.csv" --confirmed
expect_rc "import excel.csv (BOM, CRLF)" 0
out_has "excel.csv counts" "imported 2, updated 0, skipped 0"
check "quoted quote" [ "$(sql "SELECT name FROM subscribers WHERE email = 'grace@example.org'")" = 'Grace "G"' ]
p import analyst-network "$CSV/basic.csv" --confirmed
expect_rc "import basic.csv again, confirmed" 0
out_has "re-import updates" "imported 0, updated 5, skipped 4"
check "pending became confirmed" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network' AND status = 'confirmed'")" = 7 ]

# --- export and round trip -----------------------------------------------------------
p export analyst-network "$T/a.csv"
expect_rc "export to a file" 0
check "export file is private" [ "$(stat -c %a "$T/a.csv")" = 600 ]
check "export header: email, name, sorted attributes, CRLF" $PYTHON -c '
import sys
first = open(sys.argv[1], "rb").readline()
assert first == b"email,name,org,region,team\r\n", first
' "$T/a.csv"
check "export quotes commas" grep -q '^bob@example.org,"Jones, Bob",Analyst Network,East,' "$T/a.csv"
p export analyst-network
check "export to stdout is the same" cmp -s "$T/out" "$T/a.csv"
DB="$T/q.db"
p import analyst-network "$T/a.csv" --confirmed
expect_rc "import the export elsewhere" 0
out_has "round trip counts" "imported 7, updated 0, skipped 0"
p export analyst-network "$T/b.csv"
check "import -> export -> import -> export is lossless" cmp "$T/a.csv" "$T/b.csv"
DB="$T/p.db"

# --- forget and the access request ------------------------------------------------
p export-person carol@example.org
expect_rc "export-person" 0
check "export-person: everything held" $PYTHON -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["subscriber"]["name"] == "Carol"
assert o["memberships"][0]["list"] == "analyst-network"
assert o["memberships"][0]["consent"]["method"] == "import"
assert len(o["outbox"]) == 1 and o["outbox"][0]["kind"] == "confirm"
assert o["suppressed"] is False
' "$T/out"
p forget CAROL@Example.org
expect_rc "forget (a different spelling of the domain)" 0
check "forget keeps the subscriber only as a hash" [ "$(sql "SELECT count(*) FROM subscribers WHERE email = 'carol@example.org'")/$(sql "SELECT count(*) FROM outbox WHERE rcpt_to = 'carol@example.org'")/$(sql "SELECT reason FROM suppressions")" = "0/0/forgotten" ]
check "nothing else mentions her" [ "$(sql "SELECT count(*) FROM events WHERE instr(lower(coalesce(subject,'') || coalesce(detail,'')), 'carol@') > 0")" = 0 ]
p add analyst-network carol@example.org --confirmed
expect_rc "add a forgotten address" 65
err_has "add refused with a reason" "was erased at their request"
p import analyst-network "$CSV/basic.csv" --confirmed
out_has "import skips a forgotten address" "line 4: carol@example.org: erased at their request (subscriber forget); never added again"
p export-person carol@example.org
check "export-person after forget: nothing but the hash" $PYTHON -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["subscriber"] is None and o["memberships"] == [] and o["events"] == []
assert o["suppressed"] is True
' "$T/out"

# --- forget: an address never held, and an enquirer --------------------------
p forget never@example.org
expect_rc "forget an address postroom never held" 65
err_has "says it held nothing" "postroom holds nothing for never@example.org; nothing was suppressed (use --suppress-anyway to make sure it is never mailed)"
check "nothing suppressed" [ "$(sql "SELECT count(*) FROM suppressions")" = 1 ]
p forget never@example.org --suppress-anyway
expect_rc "forget --suppress-anyway" 0
check "--suppress-anyway suppresses" [ "$(sql "SELECT count(*) FROM suppressions")" = 2 ]
p add news never@example.org --confirmed
expect_rc "... and the address cannot be added" 65

# Siân writes in (the daemon routes it from the Maildir and files it in
# cur/), and subscribes; she asks to be forgotten with another case.
mkdir -p "$T/inbox/new" "$T/inbox/cur" "$T/inbox/tmp"
printf 'From: =?utf-8?q?Si=C3=A2n_Jones?= <Sian.Jones@nhs.example.net>\r\nTo: enquiries@example.org\r\nSubject: Joining the huddles\r\nMessage-ID: <sian-1@nhs.example.net>\r\n\r\nHow do I join the analyst network huddles?\r\n' \
    >"$T/inbox/tmp/sian.eml"
mv "$T/inbox/tmp/sian.eml" "$T/inbox/new/sian.eml"
"$POSTROOM_BIN/postroomd" --once -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$DB" -o general.secret_file="$T/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o inbound.maildir="$T/inbox" -o smtp.url="maildir:$T/outbox" \
    2>"$T/d.log"
check "the daemon filed her message in cur/" test -f "$T/inbox/cur/sian.eml:2,S"
check "no log line holds her address or subject" sh -c "! grep -qi 'sian.jones\|huddles' '$T/d.log'"
ref=$(sql "SELECT reference FROM enquiries WHERE sender = 'Sian.Jones@nhs.example.net'")
check "her enquiry was recorded" [ -n "$ref" ]
p add news sian.jones@NHS.example.net --confirmed
p forget SIAN.JONES@nhs.example.net
expect_rc "forget an enquirer" 0
check "forget names the subscriber record" grep -q "^  erased: 1 subscriber record (id [0-9]*) with its name, attributes and 1 list membership$" "$T/out"
check "forget lists the enquiry, its forwards and acknowledgement" grep -q "^  erased: 1 enquiry ($ref): sender, name, subject and message; their [12] forwards\{0,1\} and 1 acknowledgement$" "$T/out"
out_has "forget deleted the original from the Maildir" "  $ref: deleted ($T/inbox/cur/sian.eml:2,S)"
check "... and it is gone" [ ! -e "$T/inbox/cur/sian.eml:2,S" ]
check "forget says what stays outside postroom" grep -q "^  the forwards of $ref (to [a-z_]*) are in those leads' mailboxes: ask them to delete them$" "$T/out"
check "nothing of her is left in the database" [ "$(sql "SELECT count(*) FROM enquiries WHERE lower(sender) = 'sian.jones@nhs.example.net'")/$(sql "SELECT count(*) FROM outbox WHERE lower(rcpt_to) = 'sian.jones@nhs.example.net' OR instr(lower(CAST(message AS TEXT)), 'sian.jones@nhs.example.net') > 0")/$(sql "SELECT count(*) FROM subscribers WHERE lower(email) = 'sian.jones@nhs.example.net'")/$(sql "SELECT count(*) FROM events WHERE instr(lower(coalesce(subject, '') || coalesce(detail, '')), 'sian.jones@nhs.example.net') > 0")" = "0/0/0/0" ]
check "her enquiry stays, anonymous" [ "$(sql "SELECT coalesce(sender, '-') || coalesce(subject, '-') FROM enquiries WHERE reference = '$ref'")" = "--" ]
p forget sian.jones@nhs.example.net
expect_rc "forgetting again: held nothing, suppressed before" 0
out_has "forgetting again says so" "postroom holds nothing for sian.jones@nhs.example.net; it was forgotten before (only a one-way hash is kept), so it is never mailed"
check "the once-a-day index serves acknowledgements in any case" $PYTHON -c '
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
plan = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN SELECT count(*) FROM enquiries WHERE sender = ? COLLATE NOCASE AND ack = \x27queued\x27 AND received_at >= ?", ("x", 0)))
assert "USING INDEX enquiries_sender" in plan, plan
plan = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN SELECT * FROM enquiries WHERE reference = ? COLLATE NOCASE", ("x",)))
assert "enquiries_reference_nocase" in plan, plan
plan = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN SELECT id FROM subscribers WHERE email = ?", ("x",)))
assert "USING INDEX sqlite_autoindex_subscribers" in plan or "USING COVERING INDEX sqlite_autoindex_subscribers" in plan, plan
' "$DB"

# --- a busy database --------------------------------------------------------------
$PYTHON -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(9)' "$DB" "$T/locked" &
started $!
wait_for 5 test -f "$T/locked"
p add news busy@example.org --confirmed
expect_rc "a locked database" 75

# --- 100,000 rows -------------------------------------------------------------------
DB="$T/big.db"
awk 'BEGIN {
	print "email,name,org,region"
	for (i = 1; i <= 100000; i++) {
		if (i == 50000)
			print "not-an-address,Nobody,,"
		else
			printf "user%d@example.org,\"User %d, Jr\",Org %d,%s\n", i, i, i % 97, (i % 2 ? "West" : "East")
	}
}' >"$T/big.csv"
t0=$(date +%s.%N)
p import training "$T/big.csv" --confirmed
t1=$(date +%s.%N)
diag "100,000-row import took $(echo "$t1 $t0" | awk '{ printf "%.2f", $1 - $2 }') s (sanitizer build)"
expect_rc "import 100,000 rows" 0
out_has "100,000 rows: counts" "imported 99999, updated 0, skipped 1"
out_has "100,000 rows: the bad line" "line 50001: not-an-address: no @"
check "100,000 rows: all there" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'training' AND status = 'confirmed'")" = 99999 ]

done_testing
