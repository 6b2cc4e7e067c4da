#!/bin/sh
# "postroom campaign" for real, on a temporary database: new prints only
# an id, edit (and its refusals), list/show --json, preview as .eml (checked
# by Python's email package), as HTML and as text; exit codes 64/65/66.
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
expect_rc "campaign with no subcommand exits 64" 64 "$P" "$@" campaign
expect_rc "an unknown subcommand exits 64" 64 "$P" "$@" campaign frobnicate
expect_rc "new without --body exits 64" 64 "$P" "$@" campaign new news --subject Hello
expect_rc "new without a list exits 64" 64 "$P" "$@" campaign new --subject Hello --body "$MD"
expect_rc "an option of another subcommand exits 64" 64 "$P" "$@" campaign new news --subject Hello --body "$MD" --json
expect_rc "edit of a non-number exits 64" 64 "$P" "$@" campaign edit abc --subject x
expect_rc "edit with nothing to change exits 64" 64 "$P" "$@" campaign edit 1
expect_rc "preview with a missing --eml argument exits 64" 64 "$P" "$@" campaign preview 1 --eml

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

done_testing
