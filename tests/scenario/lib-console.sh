# lib-console.sh - sourced by the console's scenarios (console.sh,
# console-browser.sh) after lib.sh: staff accounts of every role (from the
# CLI, password $PW), two subscribers (one named with markup), a campaign
# whose subject holds markup, an enquiry routed to each DSU lead by the
# real router (WREF: west_dsu's, EREF: east_dsu's), then postroomd serving
# the public pages on $W and the console on $H (its pid in DPID, its log
# in $T/d.log).  opts, cli and q as in the other scenarios.
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"

DB="$T/var/p.db"
mkdir -p "$T/var" "$T/mail/new" "$T/mail/cur" "$T/mail/tmp"
WPORT=$(free_port)
CPORT=$(free_port)
W="http://127.0.0.1:$WPORT"
H="http://127.0.0.1:$CPORT"
PW="a long staff password 1"

opts() {
	set -- -c "$POSTROOM_TOP/config/postroom.conf" \
	    -o general.database="$DB" -o general.secret_file="$T/var/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o general.base_url="$W" -o web.listen="127.0.0.1:$WPORT" \
	    -o console.listen="127.0.0.1:$CPORT" -o console.base_url="$H" \
	    -o inbound.source=none -o smtp.url="${SMTP_URL:-maildir:$T/outbox}" "$@"
	[ "${CONSOLE_SINK:-}" = 1 ] && set -- -o smtp.starttls=off "$@"
	printf '%s\n' "$@"
}
cli() { (IFS='
'; exec "$C" $(opts) "$@"); }
q() { sqlite3 "$DB" "$1"; }
# req NAME STATUS CURL-ARGS...: body in $T/body, headers in $T/hdr.
req() {
	_name=$1 _want=$2; shift 2
	_got=$(curl -sS --max-time 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' "$@" 2>"$T/curl.err")
	if [ "$_got" = "$_want" ]; then ok "$_name"
	else not_ok "$_name"; diag "got status $_got, want $_want"; diag "$(head -c 600 "$T/body")"; sed 's/^/# /' "$T/curl.err"; fi
}
has() { grep -q -- "$1" "$T/body"; }
hdr() { tr -d '\r' < "$T/hdr" | grep -qi -- "^$1"; }
# status JAR METHOD PATH [CURL-ARGS]: the status only.
status() {
	_jar=$1 _m=$2 _p=$3; shift 3
	curl -sS --max-time 10 -o "$T/sbody" -w '%{http_code}' -b "$_jar" -c "$_jar" -X "$_m" "$@" "$H$_p" 2>/dev/null
}
# csrf_of FILE: the first csrf field's value in a page.
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$1" | head -n 1; }
# signin EMAIL JAR [PASSWORD]: the login form, then its POST; status of the POST.
signin() {
	rm -f "$2"
	curl -sS --max-time 10 -o "$T/login" -b "$2" -c "$2" "$H/login" 2>/dev/null
	curl -sS --max-time 10 -o "$T/body" -D "$T/hdr" -w '%{http_code}' -b "$2" -c "$2" \
	    --data-urlencode "email=$1" --data-urlencode "password=${3:-$PW}" \
	    --data-urlencode "csrf=$(csrf_of "$T/login")" "$H/login" 2>/dev/null
}


# CONSOLE_SINK=1 (set before this file is sourced): deliver to an SMTP sink
# (tests/tools/smtp-sink.py, its files in $T/sink) instead of a maildir.
if [ "${CONSOLE_SINK:-}" = 1 ]; then
	SINK_PORT=$(free_port)
	mkdir -p "$T/sink"
	$PYTHON "$POSTROOM_TOP/tests/tools/smtp-sink.py" --port "$SINK_PORT" \
	    --dir "$T/sink" 2>"$T/sink.err" &
	started $!
	wait_for 10 test -f "$T/sink/ready" || diag "the SMTP sink did not start: $(cat "$T/sink.err")"
	SMTP_URL="smtp://127.0.0.1:$SINK_PORT"
fi

# --- the data the pages show ---------------------------------------------
for who in admin editor viewer; do
	echo "$PW" | cli user add "$who@example.org" --name "The $who" --role $who >/dev/null ||
	    diag "user add $who failed"
done
echo "$PW" | cli user add west@example.org --name "West lead" --role lead --lead west_dsu >/dev/null
echo "$PW" | cli user add east@example.org --name "East lead" --role lead --lead east_dsu >/dev/null
echo "$PW" | cli user add gone@example.org --name "Gone" --role editor >/dev/null
check "staff accounts for every role are made from the CLI" [ "$(q 'SELECT count(*) FROM users')" -eq 6 ]
cli subscriber add news 'zoe@example.net' --name 'Zoë <script>alert(1)</script>' --confirmed >/dev/null
cli subscriber add news 'sian@example.net' --name 'Siân Jones' --confirmed >/dev/null
printf 'Hello {{subscriber.name}}, <b>welcome</b>\n' > "$T/body.md"
cli campaign new news --subject 'Spring <img src=x onerror=alert(1)>' --body "$T/body.md" >/dev/null 2>&1 ||
    diag "campaign new failed"
# Two enquiries routed by the real router: one to each DSU lead.
{
	printf 'From: Ed East <ed@nhs.example.net>\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: Leicester, Leicestershire and Rutland DSU hosting\r\nMessage-ID: <e1@nhs.example.net>\r\n'
	printf 'Date: Mon, 2 Mar 2026 11:00:00 +0000\r\n\r\n'
	printf 'We are planning the East Midlands DSU for Leicester, Leicestershire and Rutland: who should host it?\r\n'
} > "$T/mail/new/east.eml"
{
	printf 'From: Wendy West <wendy@nhs.example.net>\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: Black Country DSU <script>x</script> plans\r\nMessage-ID: <w1@nhs.example.net>\r\n'
	printf 'Date: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n'
	printf 'Could the West Midlands DSU development team help with our Black Country DSU business case?\r\n'
} > "$T/mail/new/west.eml"
(IFS='
'; exec "$D" $(opts -o inbound.source=maildir -o inbound.maildir="$T/mail") --once) 2>"$T/once.log"
WREF=$(q "SELECT reference FROM enquiries WHERE lead = 'west_dsu' LIMIT 1")
EREF=$(q "SELECT reference FROM enquiries WHERE lead != 'west_dsu' LIMIT 1")
check "an enquiry for the West Midlands DSU lead is recorded" [ -n "$WREF" ]
check "... and one for another lead" [ -n "$EREF" ]

(IFS='
'; exec "$D" $(opts) -f) 2>"$T/d.log" &
DPID=$!
started $DPID
if wait_for 15 grep -q 'console: serving on' "$T/d.log"; then ok "postroomd serves the console on console.listen"
else not_ok "postroomd serves the console on console.listen"; diag "$(cat "$T/d.log")"; done_testing; exit 1; fi
wait_for 15 grep -q 'web: serving on' "$T/d.log"


# --- enquiries with hostile parts (console-enquiry.c) ----------------------
# AREF: to west_dsu, with markup in its subject and text and three
# attachments: a plain file, one whose name is markup, one whose name
# (RFC 2231) holds a CR LF, a quote and a header of its own.  HREF: HTML
# only, with scripts.  Both recorded through the MTA pipe while postroomd
# runs, as mail to enquiries@ would be.
{
	printf 'From: Wendy West <wendy@nhs.example.net>\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: Black Country DSU <img src=x onerror=alert(1)> papers\r\nMessage-ID: <a1@nhs.example.net>\r\n'
	printf 'Date: Tue, 3 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
	printf -- '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
	printf 'Could the West Midlands DSU development team help with our Black Country DSU business case?\r\n'
	printf '<script>alert("body")</script> Our draft is attached.\r\n'
	printf -- '--b1\r\nContent-Type: text/plain; name="draft.txt"\r\nContent-Disposition: attachment; filename="draft.txt"\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n%s\r\n' "$(printf 'The draft business case.\n' | base64)"
	printf -- '--b1\r\nContent-Type: text/html; name="x.html"\r\n'
	printf 'Content-Disposition: attachment; filename="\\"><script>alert(2)</script>.html"\r\n\r\n'
	printf '<script>alert("file")</script>\r\n'
	printf -- '--b1\r\nContent-Type: application/octet-stream\r\n'
	printf "Content-Disposition: attachment; filename*=UTF-8''caf%%C3%%A9%%0D%%0ASet-Cookie%%3A%%20evil%%3D1%%22%%3B.txt\r\n\r\n"
	printf 'evil\r\n'
	printf -- '--b1--\r\n'
} > "$T/attached.eml"
{
	printf 'From: Harry Html <harry@nhs.example.net>\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: Black Country DSU (HTML only)\r\nMessage-ID: <h1@nhs.example.net>\r\n'
	printf 'Date: Tue, 3 Mar 2026 11:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
	printf '<html><head><script>alert("head")</script></head><body><p>Could the West Midlands DSU team help with the <b>Black Country</b> DSU?</p>'
	printf '<script>alert(document.cookie)</script><p onclick="alert(3)">Thank you</p></body></html>\r\n'
} > "$T/html.eml"
cli deliver < "$T/attached.eml" 2>>"$T/once.log" || diag "deliver attached.eml failed"
cli deliver < "$T/html.eml" 2>>"$T/once.log" || diag "deliver html.eml failed"
AREF=$(q "SELECT reference FROM enquiries WHERE message_id = 'a1@nhs.example.net'")
HREF=$(q "SELECT reference FROM enquiries WHERE message_id = 'h1@nhs.example.net'")
check "an enquiry with hostile attachments is recorded for the West Midlands DSU lead" \
    [ -n "$AREF" -a "$(q "SELECT lead FROM enquiries WHERE reference = '$AREF'")" = west_dsu ]
check "... and an HTML-only one" [ -n "$HREF" ]
