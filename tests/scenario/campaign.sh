#!/bin/sh
# "postroom campaign" for real, on a temporary database: new prints only
# an id, edit (and its refusals), list/show --json, preview as .eml (checked
# by Python's email package), as HTML and as text; exit codes 64/65/66.
# Merge fields nobody on the list can have and images that are not
# https:// are refused by new, edit, preview, test and send (65, with the
# field, its line and the nearest name), attributes match in any case,
# and preview says how many recipients lack a field.
. "$(dirname "$0")/lib.sh"
P="$POSTROOM_BIN/postroom"
CHECK="$POSTROOM_TOP/tests/tools/check-email.py"
MD="$POSTROOM_TOP/tests/golden/newsletter/november.md"
set -- -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$T/p.db" -o general.secret_file="$T/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates"

# expect_rc NAME WANT COMMAND...: the command exits WANT.
expect_rc() {
	_name=$1 _want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; _rc=$?
	if [ "$_rc" -eq "$_want" ]; then ok "$_name"
	else not_ok "$_name"; diag "got exit $_rc, want $_want"
		diag "stderr: $(head -c 400 "$T/err")"; fi
}
# has NAME FILE TEXT: FILE holds TEXT.
has() {
	if grep -qF -- "$3" "$2"; then ok "$1"
	else not_ok "$1"; diag "no \"$3\" in: $(head -c 400 "$2")"; fi
}

# --- help and usage ---------------------------------------------------------
expect_rc "campaign --help exits 0" 0 "$P" "$@" campaign --help
has "campaign --help prints the usage on stdout" "$T/out" "postroom campaign preview ID"
has "... and the merge fields, from the one table of them" "$T/out" "{{subscriber.attrs.KEY}}  the same attribute, for any KEY"
expect_rc "campaign with no subcommand exits 64" 64 "$P" "$@" campaign
expect_rc "an unknown subcommand exits 64" 64 "$P" "$@" campaign frobnicate
expect_rc "new without --body exits 64" 64 "$P" "$@" campaign new news --subject Hello
expect_rc "new without a list exits 64" 64 "$P" "$@" campaign new --subject Hello --body "$MD"
expect_rc "an option of another subcommand exits 64" 64 "$P" "$@" campaign new news --subject Hello --body "$MD" --json
expect_rc "edit of a non-number exits 64" 64 "$P" "$@" campaign edit abc --subject x
expect_rc "edit with nothing to change exits 64" 64 "$P" "$@" campaign edit 1
expect_rc "preview with a missing --eml argument exits 64" 64 "$P" "$@" campaign preview 1 --eml

# --- merge fields and images, before anyone receives them ------------------------
count() { $PYTHON -c '
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])
' "$T/p.db" "$1"; }
expect_rc "new with a field no member of the list has exits 65" 65 "$P" "$@" campaign new news --subject "November" --body "$MD"
has "... naming the field and its line" "$T/err" "body line 22: {{#subscriber.organisation}} is not a merge field"
has "... and what it is not" "$T/err" 'no member of list "news" has a value for "organisation"'
has "... one line per problem" "$T/err" "body line 23: {{subscriber.organisation}}"
has "... and that nothing was saved" "$T/err" "postroom: campaign: 2 problems: nothing saved"
check "... and nothing is on stdout" [ ! -s "$T/out" ]
check "... or in the database" [ "$(count 'SELECT count(*) FROM campaigns')" -eq 0 ]

printf 'Dear {{subscriber.nmae}},\n\nNews for {{lst.name}}.\n' > "$T/typo.md"
expect_rc "new with a typo in a field exits 65" 65 "$P" "$@" campaign new news --subject "Hi {{subscriber.name}}" --body "$T/typo.md"
has "... naming the field, its line and the nearest name" "$T/err" "body line 1: {{subscriber.nmae}} is not a merge field: it is not a standard field, and no member of list \"news\" has a value for \"nmae\"; did you mean {{subscriber.name}}?"
has "... every one of them" "$T/err" "body line 3: {{lst.name}} is not a merge field; did you mean {{list.name}}?"
printf 'Hello.\n' > "$T/hello.md"
expect_rc "new with a typo in the subject exits 65" 65 "$P" "$@" campaign new news --subject "Hi {{subscriber.nmae}}" --body "$T/hello.md"
has "... saying it is in the subject" "$T/err" "subject: {{subscriber.nmae}}"

printf 'Hello.\n\n![Our logo](logo.png)\n\n![Map](C:\\Users\\me\\map.png)\n\n![Ok](https://example.org/ok.png)\n' > "$T/img.md"
expect_rc "new with an image that is not https:// exits 65" 65 "$P" "$@" campaign new news --subject "Hi" --body "$T/img.md"
has "... with its line and what to do" "$T/err" 'body line 3: the image "logo.png" is a file name, not a web address: put the image on a web site the network controls and use its https:// address'
has "... a Windows path too" "$T/err" 'body line 5: the image "C:\Users\me\map.png" is a file on a computer'
check "... and not the https one" [ "$(grep -c 'the image' "$T/err")" -eq 2 ]

# A CSV column "Organisation" fills {{subscriber.organisation}}.
printf 'email,name,Organisation\nbob@example.net,Bob Smith,Dudley ICB\n' > "$T/members.csv"
expect_rc "import a member with an Organisation column" 0 "$P" "$@" subscriber import news "$T/members.csv" --confirmed

# --- new ----------------------------------------------------------------------
"$P" "$@" campaign new news --subject "November bulletin – Ŵyl" --body "$MD" >"$T/out" 2>"$T/err"; rc=$?
id=$(cat "$T/out")
check "new exits 0" [ "$rc" -eq 0 ]
if printf '%s\n' "$id" | grep -qx '[0-9][0-9]*' && [ "$(wc -l <"$T/out")" -eq 1 ]; then
	ok "new prints the id and nothing else on stdout"
else not_ok "new prints the id and nothing else on stdout"; diag "got: $(cat "$T/out")"; fi
check "new says nothing on stderr" [ ! -s "$T/err" ]

expect_rc "new for an unknown list exits 65" 65 "$P" "$@" campaign new nosuch --subject Hi --body "$MD"
has "... and names the list" "$T/err" 'no list "nosuch"'
expect_rc "new with a missing body file exits 66" 66 "$P" "$@" campaign new news --subject Hi --body "$T/nosuch.md"
expect_rc "new with an unknown template exits 65" 65 "$P" "$@" campaign new news --subject Hi --body "$MD" --template nosuch
has "... and names the template file" "$T/err" "nosuch.html"
printf 'Hello {{subscriber.name\n' > "$T/bad.md"
expect_rc "new with an unclosed merge field exits 65" 65 "$P" "$@" campaign new news --subject Hi --body "$T/bad.md"
has "... and says which line" "$T/err" "line 1"
expect_rc "new with a two-line subject exits 65" 65 "$P" "$@" campaign new news --subject "$(printf 'Hi\nBcc: x@evil.example')" --body "$MD"
printf '\377\376 not UTF-8\n' > "$T/latin.md"
expect_rc "new with a body that is not UTF-8 exits 65" 65 "$P" "$@" campaign new news --subject Hi --body "$T/latin.md"

# --- list and show ---------------------------------------------------------------
expect_rc "list --json exits 0" 0 "$P" "$@" campaign list --json
if $PYTHON -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1, rows
r = rows[0]
assert r["id"] == int(sys.argv[2]) and r["status"] == "draft", r
assert r["list"] == "news" and r["subject"] == "November bulletin – Ŵyl", r
assert r["template"] == "newsletter", r
' "$T/out" "$id"; then ok "list --json is one JSON object per campaign"
else not_ok "list --json is one JSON object per campaign"; diag "$(cat "$T/out")"; fi
expect_rc "list exits 0" 0 "$P" "$@" campaign list
has "list shows the subject" "$T/out" "November bulletin – Ŵyl"

expect_rc "show --json exits 0" 0 "$P" "$@" campaign show "$id" --json
if $PYTHON -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["body"] == open(sys.argv[2], encoding="utf-8").read(), r["body"]
assert r["status"] == "draft" and r["created_by"].startswith("cli:"), r
' "$T/out" "$MD"; then ok "show --json holds the body as written"
else not_ok "show --json holds the body as written"; diag "$(head -c 300 "$T/out")"; fi
expect_rc "show of an unknown id exits 65" 65 "$P" "$@" campaign show 999
has "... saying no campaign 999" "$T/err" "no campaign 999"

# --- edit -----------------------------------------------------------------------------
printf 'Dear {{subscriber.name}},\n\nA short one this time.\n' > "$T/short.md"
expect_rc "edit of a draft exits 0" 0 "$P" "$@" campaign edit "$id" --subject "December bulletin" --body "$T/short.md"
"$P" "$@" campaign show "$id" --json > "$T/show.json"
if $PYTHON -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["subject"] == "December bulletin", r
assert r["body"] == "Dear {{subscriber.name}},\n\nA short one this time.\n", r
' "$T/show.json"; then ok "edit changed the subject and body"
else not_ok "edit changed the subject and body"; diag "$(cat "$T/show.json")"; fi
expect_rc "edit to an unknown template exits 65" 65 "$P" "$@" campaign edit "$id" --template nosuch
"$P" "$@" campaign show "$id" --json > "$T/show.json"
has "... and changes nothing" "$T/show.json" '"template":"newsletter"'
expect_rc "edit to a field nobody has exits 65" 65 "$P" "$@" campaign edit "$id" --subject "For {{subscriber.role}}"
has "... naming it" "$T/err" "subject: {{subscriber.role}} is not a merge field"
has "... and that nothing changed" "$T/err" "1 problem: nothing changed"
"$P" "$@" campaign show "$id" --json > "$T/show.json"
has "... and changes nothing" "$T/show.json" '"subject":"December bulletin"'
expect_rc "edit of an unknown id exits 65" 65 "$P" "$@" campaign edit 999 --subject x
has "... saying no campaign 999" "$T/err" "no campaign 999"
check "... and nothing on stdout" [ ! -s "$T/out" ]

id2=$("$P" "$@" campaign new news --subject "Sent already" --body "$T/short.md")
$PYTHON -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE campaigns SET status = ? WHERE id = ?", ("sent", int(sys.argv[2])))
db.commit()
' "$T/p.db" "$id2"
expect_rc "edit of a campaign that was sent exits 65" 65 "$P" "$@" campaign edit "$id2" --subject x
has "... saying only a draft can be edited" "$T/err" "only a draft can be edited"

# Back to the long body for the previews.
expect_rc "edit the body back" 0 "$P" "$@" campaign edit "$id" --body "$MD" --subject "November bulletin – Ŵyl"

# --- preview ----------------------------------------------------------------------------
expect_rc "preview --eml exits 0" 0 "$P" "$@" campaign preview "$id" --eml "$T/p.eml"
has "preview says it used the sample subscriber" "$T/err" "sample subscriber"
check "preview --eml writes nothing on stdout" [ ! -s "$T/out" ]
if out=$($PYTHON "$CHECK" --expect-subject "November bulletin – Ŵyl" \
    --expect-to-name "Sample Subscriber" "$T/p.eml" 2>&1); then
	ok "the preview .eml passes check-email.py"
else not_ok "the preview .eml passes check-email.py"; diag "$out"; fi
for h in "List-Id: " "List-Unsubscribe: <" "List-Unsubscribe-Post: List-Unsubscribe=One-Click" "List-Help: <mailto:"; do
	has "the preview has $h" "$T/p.eml" "$h"
done
if grep -qi '^\(Precedence\|Auto-Submitted\):' "$T/p.eml"; then
	not_ok "the preview has no Precedence or Auto-Submitted"
else ok "the preview has no Precedence or Auto-Submitted"; fi

expect_rc "preview --html exits 0" 0 "$P" "$@" campaign preview "$id" --html "$T/p.html"
has "the HTML part holds the body" "$T/p.html" "<h2>Regional analytical programme</h2>"
has "the HTML part is personalised" "$T/p.html" "Dear Sample Subscriber,"
has "the HTML part has the unsubscribe link" "$T/p.html" "/unsubscribe/"

expect_rc "preview --text exits 0" 0 "$P" "$@" campaign preview "$id" --text
has "the text part is on stdout" "$T/out" "Dear Sample Subscriber,"
has "the text part underlines headings" "$T/out" "-----------------------------"
has "the text part numbers links" "$T/out" "[1] https://example.org/reports/2026-annual"
if $PYTHON -c '
import sys
text = open(sys.argv[1], encoding="utf-8").read()
body = text.split("-" * 70)[0]
long = [l for l in body.splitlines() if len(l) > 72]
assert not long, long
' "$T/out"; then ok "the text part's body is wrapped at 72 columns"
else not_ok "the text part's body is wrapped at 72 columns"; fi

expect_rc "preview of an unknown id exits 65" 65 "$P" "$@" campaign preview 999 --text
expect_rc "preview for an unknown subscriber exits 65" 65 "$P" "$@" campaign preview "$id" --subscriber nobody@example.net --text
has "... saying so" "$T/err" "no subscriber nobody@example.net"
expect_rc "preview to a file that cannot be written exits 73" 73 "$P" "$@" campaign preview "$id" --eml "$T/no/such/dir.eml"

# A real subscriber, added through the CLI.
if "$P" "$@" subscriber add news ann@example.net --name "Ann Jones" --attr organisation="Black Country ICB" --confirmed >"$T/out" 2>"$T/err"; then
	expect_rc "preview --subscriber exits 0" 0 "$P" "$@" campaign preview "$id" --subscriber ann@example.net --eml "$T/ann.eml"
	check "... and says nothing about a sample" [ ! -s "$T/err" ]
	if out=$($PYTHON "$CHECK" --expect-to-name "Ann Jones" "$T/ann.eml" 2>&1); then
		ok "the subscriber's preview passes check-email.py, To Ann Jones"
	else not_ok "the subscriber's preview passes check-email.py, To Ann Jones"; diag "$out"; fi
	"$P" "$@" campaign preview "$id" --subscriber ann@example.net --text >"$T/out" 2>"$T/err"
	has "the subscriber's text part is personalised" "$T/out" "Dear Ann Jones,"
	has "the subscriber's attribute is merged" "$T/out" "colleagues from Black Country ICB."
else
	not_ok "subscriber add for the preview"; diag "$(cat "$T/err")"
fi
"$P" "$@" campaign preview "$id" --subscriber bob@example.net --text >"$T/out" 2>"$T/err"
has "a CSV column Organisation fills {{subscriber.organisation}}" "$T/out" "colleagues from Dudley ICB."

# preview says how many recipients lack a field, on stderr.
"$P" "$@" subscriber add news carol@example.net --confirmed >/dev/null 2>&1
"$P" "$@" subscriber add news dave@example.net --name "Dave" --attr Organisation= --confirmed >/dev/null 2>&1
expect_rc "preview with recipients who lack fields exits 0" 0 "$P" "$@" campaign preview "$id" --text
has "... says how many have no organisation" "$T/err" "postroom: campaign: note: 2 of 4 recipients have no subscriber.organisation; it will be empty for them"
has "... and how many have no name" "$T/err" "postroom: campaign: note: 1 of 4 recipients has no subscriber.name; it will be empty for them"
has "... and stdout is the message" "$T/out" "Dear Sample Subscriber,"
if grep -q "note:" "$T/out"; then not_ok "... and nothing else"; else ok "... and nothing else"; fi

# --- the list changes: nobody has the field any more ------------------------------
printf 'For your team, {{subscriber.team}}.\n' > "$T/team.md"
"$P" "$@" subscriber add training tom@example.net --attr team=Modelling --confirmed >/dev/null 2>&1
tid=$("$P" "$@" campaign new training --subject "Teams" --body "$T/team.md" 2>"$T/err")
check "new with a field a member has exits 0" [ -n "$tid" ]
"$P" "$@" subscriber remove training tom@example.net >/dev/null 2>&1
expect_rc "then nobody has it: preview of the draft exits 65" 65 "$P" "$@" campaign preview "$tid" --text
has "... naming the field" "$T/err" "body line 1: {{subscriber.team}} is not a merge field"
has "... and that there is no preview" "$T/err" "no preview"
check "... and shows nothing" [ ! -s "$T/out" ]
expect_rc "test of the draft exits 65" 65 "$P" "$@" campaign test "$tid" --to staff@example.org
has "... no test copy queued" "$T/err" "no test copy queued"
expect_rc "send of the draft exits 65" 65 "$P" "$@" campaign send "$tid"
has "... naming the field" "$T/err" "{{subscriber.team}} is not a merge field"
has "... nothing queued" "$T/err" "1 problem: nothing queued"
check "... and nothing is queued" [ "$(count 'SELECT count(*) FROM outbox')" -eq 0 ]
check "... and it is still a draft" [ "$(count "SELECT status FROM campaigns WHERE id = $tid")" = draft ]
expect_rc "send --at of the draft exits 65 too" 65 "$P" "$@" campaign send "$tid" --at "2099-01-01 09:00"
check "... and nothing is queued" [ "$(count 'SELECT count(*) FROM outbox')" -eq 0 ]
# Once it has gone out, preview shows it as it went, with a warning.
$PYTHON -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE campaigns SET status = ? WHERE id = ?", ("sent", int(sys.argv[2])))
db.commit()
' "$T/p.db" "$tid"
expect_rc "preview of a campaign that went out exits 0" 0 "$P" "$@" campaign preview "$tid" --text
has "... with the problem as a warning" "$T/err" "warning: body line 1: {{subscriber.team}}"
has "... and the message" "$T/out" "For your team, ."

done_testing
