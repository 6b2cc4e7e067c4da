#!/bin/sh
# postroom subscriber: the real CLI on a temporary database.
#
# add (pending -> a confirmation in the outbox, confirmed, again), list and
# show --json, set, remove, import of tests/data/csv/*.csv (counts, the
# line numbers of skipped records and what to change; Windows-1252,
# semicolons, tabs, UTF-16, first + last names, line breaks in names, an
# export's status and mode; asking before confirmation emails, through a
# pseudo-terminal, and --yes; what the confirmation says), export (BOM,
# status, mode and consent columns) and a round trip that keeps people,
# status, mode and attributes,
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
raw = c.execute("SELECT (SELECT body FROM outbox_bodies WHERE id = body_id)"
                " FROM outbox WHERE kind = 'confirm'").fetchone()[0]
m = email.message_from_bytes(raw, policy=email.policy.default)
body = m.get_body().get_content()
urls = re.findall(r'https?://\S+', body)
conf = [u for u in urls if '/confirm/' in u]
assert len(conf) == 1, urls
u = conf[0]
assert re.fullmatch(r'http://127\.0\.0\.1:8025/confirm/[A-Za-z0-9_-]{20,}', u), u
assert '@' not in u and 'ann' not in u.lower(), u
# The bare address: never a display name (it would be text someone typed).
assert m['To'] == 'Ann.Smith@example.org', m['To']
assert m['Auto-Submitted'] == 'auto-generated'
assert 'Please confirm your subscription to' in m['Subject'], m['Subject']
assert 'Ann.Smith@example.org' in body
# Staff added her (subscriber add): the text says so, not "probably you".
assert 'The staff of the Midlands Decision Support Network have added' in body, body
assert 'probably you' not in body, body
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

# --- import ------------------------------------------------------------------------
p import news /nonexistent/file.csv
expect_rc "import a missing file" 66
p import news "$CSV/unterminated.csv" --yes
expect_rc "import an unterminated quote" 65
err_has "unterminated quote names its line" "unterminated.csv: line 3: quoted field is not closed"
err_has "and says what to change" "end it with another one, or save the file again from the spreadsheet; nothing imported"
check "a malformed file imports nothing" [ "$(sql "SELECT count(*) FROM subscribers WHERE email LIKE '_@example.org'")" = 0 ]
p import news "$CSV/no-email.csv" --yes
expect_rc "import without an address column" 65
err_has "no address column: the headings found and the names accepted" 'no column holds email addresses: the header row (line 1) has "Courriel", "Nom". Give the column of addresses the heading Email (E-mail, Email Address, E-mail Address and Mail work too)'
p import news "$CSV/workbook.csv" --yes
expect_rc "import a workbook (.xlsx)" 65
err_has "a workbook: how to save it as CSV" 'choose File > Save As, pick "CSV UTF-8 (Comma delimited) (*.csv)"'
p import news "$CSV/bad-headings.csv" --confirmed
expect_rc "import with headings that cannot be field names" 65
err_has "every bad heading at once, and what to change" '"Job Title" (column 3), "Phone Number" (column 4), "Région" (column 5): a heading for other information may hold only letters A to Z, digits, _ and - (at most 64), because it becomes a field name in newsletters; change them (for example to Job_Title), or delete those columns'
printf '' >"$T/empty.csv"
p import news "$T/empty.csv" --confirmed
expect_rc "import an empty file" 65
err_has "an empty file says what a file needs" "the file is empty: save the spreadsheet again with a header row (for example Email, Name) and a row for each person"

p import analyst-network "$CSV/basic.csv" --dry-run
expect_rc "import --dry-run" 0
out_has "dry run counts" "imported 5, updated 0, skipped 4 (dry run: nothing was changed)"
out_has "dry run says who would get an email" "Each of the 5 new people will get an email asking them to confirm their subscription to Analyst Network bulletin. It says that the network's staff added them, and they get nothing else unless they confirm."
check "dry run changed nothing" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network'")" = 0 ]

# Without --confirmed each new person is emailed: say so and ask first.
q0=$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")
p import analyst-network "$CSV/basic.csv" </dev/null
expect_rc "import without --confirmed, not on a terminal, no --yes" 64
err_has "it says to add --yes" "standard input is not a terminal: add --yes to subscriber import to import and send 5 confirmation emails; nothing was imported"
out_has "it says before anything is sent who gets an email" "Each of the 5 new people will get an email asking them to confirm their subscription to Analyst Network bulletin. It says that the network's staff added them, and they get nothing else unless they confirm."
out_has "and what the file holds" "checked: would import 5, update 0, skip 4"
check "nothing imported without --yes" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network'")" = 0 ]
check "no email queued without --yes" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")" -eq "$q0" ]

# On a terminal it asks [y/N]: through a pseudo-terminal, "n" then "y".
tty_import() {	# ANSWER FILE: import FILE at a terminal answering ANSWER
	$PYTHON "$POSTROOM_TOP/tests/tools/pty-answer.py" "$1" "$PR" \
	    -c "$POSTROOM_TOP/config/postroom.conf" -o "general.database=$DB" \
	    -o "general.secret_file=$T/secret.key" \
	    -o "general.templates=$POSTROOM_TOP/templates" \
	    subscriber import analyst-network "$2" >"$T/tty" 2>&1 </dev/null
	echo "exit $?" >>"$T/tty"
}
# out_has_tty NAME TEXT: the terminal showed the line TEXT.
out_has_tty() {
	if grep -qxF -- "$2" "$T/tty"; then ok "$1"; else
		not_ok "$1: no line \"$2\""; sed 's/^/#   /' "$T/tty" | head -20
	fi
}
tty_import n "$CSV/basic.csv"
check "on a terminal it asks before sending" grep -qF "Import and send 5 confirmation emails? [y/N]" "$T/tty"
out_has_tty "answering n imports nothing (exit 1, as campaign send)" "exit 1"
out_has_tty "answering n says so" "nothing imported"
check "answering n: no member, no email" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network'")/$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")" = "0/$q0" ]
tty_import y "$CSV/basic.csv"
out_has_tty "answering y imports" "imported 5, updated 0, skipped 4"
out_has_tty "answering y: the emails queued" "5 confirmation emails queued (postroomd sends them)"
out_has_tty "answering y: exit 0" "exit 0"
printf 'email,name\r\nDee@example.org,Dee\r\ndee@EXAMPLE.org,Dee again\r\n' >"$T/dee.csv"
p import analyst-network "$T/dee.csv" --dry-run
out_has "import: another case is a duplicate" "line 3: dee@example.org is also on line 2, and only the first is imported: delete one of the two rows"
check "each pending import got a confirmation" [ "$(sql "SELECT count(*) FROM outbox WHERE kind = 'confirm'")" -eq $((q0 + 5)) ]
out_has_tty "skip: invalid address, with what to change" 'line 6: "not-an-address" is not a complete email address (no @): check the email column for this person'
out_has_tty "skip: no email" "line 7: no email address: fill in the email column for this person, or delete the row"
out_has_tty "skip: duplicate names the first line" "line 8: ann@example.org is also on line 2, and only the first is imported: delete one of the two rows"
out_has_tty "skip: too many cells" "line 11: this row has 5 cells but the header row has 4 headings: delete the extra cells, or give their column a heading"
check "multi-line field kept" [ "$(sql "SELECT json_extract(attrs, '$.org') FROM subscribers WHERE email = 'carol@example.org'")" = "Multi
line org" ]
check "consent method import" [ "$(sql "SELECT DISTINCT consent_method FROM memberships WHERE list = 'analyst-network'")" = import ]

# The confirmation an import sends says the network's staff added them.
$PYTHON - "$DB" "$T" >"$T/msg" 2>&1 <<'EOF'
import email, email.policy, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
raw = c.execute("SELECT (SELECT body FROM outbox_bodies WHERE id = body_id)"
                " FROM outbox WHERE kind = 'confirm'"
                " AND rcpt_to = 'carol@example.org'").fetchone()[0]
open(sys.argv[2] + "/import-confirm.eml", "wb").write(raw)
body = email.message_from_bytes(raw, policy=email.policy.default).get_body().get_content()
assert "The staff of the Midlands Decision Support Network have added" in body, body
assert "carol@example.org" in body and "/confirm/" in body, body
assert "If you do not want these emails, ignore this message" in body, body
assert "probably you" not in body, body
print("ok")
EOF
if grep -qx ok "$T/msg"; then ok "the import's confirmation says staff added them, with confirm and ignore"
else not_ok "the import's confirmation"; sed 's/^/#   /' "$T/msg"; fi
check "the import's confirmation is valid RFC 5322/MIME" $PYTHON "$POSTROOM_TOP/tests/tools/check-email.py" "$T/import-confirm.eml"

p import analyst-network "$CSV/excel.csv" --confirmed
expect_rc "import excel.csv (BOM, CRLF)" 0
out_has "excel.csv counts" "imported 2, updated 0, skipped 0"
check "quoted quote" [ "$(sql "SELECT name FROM subscribers WHERE email = 'grace@example.org'")" = 'Grace "G"' ]
p import analyst-network "$CSV/basic.csv" --confirmed
expect_rc "import basic.csv again, confirmed" 0
out_has "re-import updates" "imported 0, updated 5, skipped 4"
check "pending became confirmed" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'analyst-network' AND status = 'confirmed'")" = 7 ]

# --- spreadsheets as staff save them ----------------------------------------------
DB="$T/x.db"
p import news "$CSV/windows-1252.csv" --confirmed
expect_rc "import Windows-1252 (Excel's CSV (Comma delimited))" 0
out_has "Windows-1252: every person imported" "imported 3, updated 0, skipped 0"
out_has "Windows-1252: the summary says so" "note: the file is not UTF-8, so it was read as Windows-1252 (what Excel's \"CSV (Comma delimited)\" writes): check that accented names look right, and next time save as \"CSV UTF-8\""
check "Windows-1252: é and ’ read right" [ "$(sql "SELECT name FROM subscribers WHERE email = 'renee@example.org'")" = "Renée O’Brien" ]
check "Windows-1252: ë and â read right" [ "$(sql "SELECT name FROM subscribers WHERE email = 'zoe@example.org'")" = "Zoë Château" ]
check "Windows-1252: € read right" [ "$(sql "SELECT json_extract(attrs, '$.Note') FROM subscribers WHERE email = 'renee@example.org'")" = "Café € fund" ]
p import news "$CSV/utf8-bom-semicolon.csv" --confirmed
expect_rc "import semicolons, UTF-8 with BOM, E-mail Address / Full Name" 0
out_has "semicolons: the summary says so" "note: the columns are separated by semicolons"
out_has "semicolons: both updated" "imported 0, updated 2, skipped 0"
check "semicolons: a semicolon inside quotes is kept" [ "$(sql "SELECT name FROM subscribers WHERE email = 'zoe@example.org'")" = "Zoë; Château" ]
p import news "$CSV/tab.csv" --confirmed
expect_rc "import tab-separated" 0
out_has "tabs: the summary says so" "note: the columns are separated by tabs"
p import news "$CSV/first-last.csv" --confirmed
expect_rc "import First Name + Last Name" 0
out_has "first and last: the summary says so" "note: names are made from the First Name and Last Name columns"
check "first and last: joined for a new person" [ "$(sql "SELECT name FROM subscribers WHERE email = 'carol@example.org'")" = "Carol-Jones" ]
check "first and last: an existing name updated" [ "$(sql "SELECT name FROM subscribers WHERE email = 'ann@example.org'")" = "Ann Smith" ]
p import news "$CSV/line-break.csv" --confirmed
expect_rc "import a quoted line break in a name" 0
out_has "a line break in a name skips nobody" "imported 0, updated 3, skipped 0"
check "a line break in a name is a space" [ "$(sql "SELECT name FROM subscribers WHERE email = 'bob@example.org'")" = "Bob Jones" ]
p import news "$CSV/utf16.txt" --confirmed
expect_rc "import UTF-16 (Excel's Unicode Text)" 0
out_has "UTF-16: the summary says so" "note: read as UTF-16 (Excel's \"Unicode Text\")"

# An export's own columns: people who left stay out, mode is kept.
DB="$T/e.db"
p import news "$CSV/export.csv" --confirmed
expect_rc "import an export, confirmed" 0
out_has "export: counts" "imported 2, updated 0, skipped 5"
out_has "export: the consent columns are not taken" "note: the consent columns of an export are not imported (consent is recorded by this import); its status column leaves out people who left"
out_has "export: pending is not confirmed by --confirmed" "line 3: bob@example.org is marked pending in the status column (they never confirmed), so an import that records their consent cannot add them: delete the row, or import it without --confirmed so that they get a confirmation email"
out_has "export: unsubscribed is not added back" "line 4: carol@example.org is marked unsubscribed in the status column: people who left a list are not added back, so delete the row"
out_has "export: bounced is not added back" "line 5: dan@example.org is marked bounced in the status column: people who left a list are not added back, so delete the row"
out_has "export: a status postroom does not write" 'line 7: the status "active" is not one that subscriber export writes (pending, confirmed, unsubscribed or bounced): correct it, or empty the cell'
out_has "export: a mode postroom does not write" 'line 8: the mode "weekly" is neither immediate nor digest: correct it, or empty the cell (immediate)'
check "export: the mode is kept for new members" [ "$(sql "SELECT group_concat(mode) FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE email IN ('ann@example.org', 'erin@example.org')")" = "digest,digest" ]
check "export: consent recorded by this import, not the file" [ "$(sql "SELECT DISTINCT consent_method || ' ' || substr(consent_source, 1, 11) FROM memberships")" = "import export.csv " ]
check "export: status and consent are not attributes" [ "$(sql "SELECT attrs FROM subscribers WHERE email = 'ann@example.org'")" = '{"org":"DSU"}' ]
DB="$T/p.db"

# --- export and round trip -----------------------------------------------------------
p export analyst-network "$T/a.csv"
expect_rc "export to a file" 0
check "export file is private" [ "$(stat -c %a "$T/a.csv")" = 600 ]
check "export header: BOM, email, name, status, mode, consent, sorted attributes, CRLF" $PYTHON -c '
import sys
first = open(sys.argv[1], "rb").readline()
want = b"\xef\xbb\xbfemail,name,status,mode,consent_at,consent_method,consent_source,org,region,team\r\n"
assert first == want, first
' "$T/a.csv"
check "export quotes commas, and has status, mode and consent" $PYTHON -c '
import csv, re, sys
rows = {r["email"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""))}
b = rows["bob@example.org"]
assert b["name"] == "Jones, Bob" and b["org"] == "Analyst Network", b
assert b["status"] == "confirmed" and b["mode"] == "immediate", b
assert b["consent_method"] == "import" and b["consent_source"].startswith("basic.csv (cli:"), b
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b["consent_at"]), b
' "$T/a.csv"
p export analyst-network
check "export to stdout is the same" cmp -s "$T/out" "$T/a.csv"
DB="$T/q.db"
p import analyst-network "$T/a.csv" --confirmed
expect_rc "import the export elsewhere" 0
out_has "round trip counts" "imported 7, updated 0, skipped 0"
p export analyst-network "$T/b.csv"
check "import -> export -> import -> export keeps people, status, mode and attributes" $PYTHON -c '
import csv, sys
def rows(p):
    return [{k: v for k, v in r.items() if not k.startswith("consent_")}
            for r in csv.DictReader(open(p, encoding="utf-8-sig", newline=""))]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert a == b, (a, b)
assert open(sys.argv[1], "rb").readline() == open(sys.argv[2], "rb").readline()
' "$T/a.csv" "$T/b.csv"
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
out_has "import skips a forgotten address" "line 4: carol@example.org was erased at their request (subscriber forget) and is never added again: delete the row"
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
check "nothing of her is left in the database" [ "$(sql "SELECT count(*) FROM enquiries WHERE lower(sender) = 'sian.jones@nhs.example.net'")/$(sql "SELECT count(*) FROM outbox WHERE lower(rcpt_to) = 'sian.jones@nhs.example.net' OR instr(lower(CAST((SELECT body FROM outbox_bodies WHERE id = body_id) AS TEXT)), 'sian.jones@nhs.example.net') > 0")/$(sql "SELECT count(*) FROM subscribers WHERE lower(email) = 'sian.jones@nhs.example.net'")/$(sql "SELECT count(*) FROM events WHERE instr(lower(coalesce(subject, '') || coalesce(detail, '')), 'sian.jones@nhs.example.net') > 0")" = "0/0/0/0" ]
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
out_has "100,000 rows: the bad line" 'line 50001: "not-an-address" is not a complete email address (no @): check the email column for this person'
check "100,000 rows: all there" [ "$(sql "SELECT count(*) FROM memberships WHERE list = 'training' AND status = 'confirmed'")" = 99999 ]

done_testing
