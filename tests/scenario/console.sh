#!/bin/sh
# The staff console over HTTP with curl, against a real postroomd: its own
# listener (never the public one), sign-in (one answer for every wrong
# part, the login form's own token, a new session each time, the cookie's
# flags), the role table tried exhaustively (every route with every role
# and signed out, POSTs with and without the CSRF token), a lead who sees
# only their own enquiries, a disabled account's session ended at once,
# a 20 MB POST refused before it is read, hostile text shown escaped,
# security headers, and Secure cookies with HSTS over https.
. "$(dirname "$0")/lib.sh"
needs curl sqlite3
. "$(dirname "$0")/lib-console.sh"

# --- 1. its own listener --------------------------------------------------
req "the public listener has no /login" 404 "$W/login"
req "... nor /users" 404 "$W/users"
req "the console's /login answers on console.listen" 200 "$H/login"
hdr "Content-Security-Policy: default-src 'none'; script-src 'self'" && hdr "X-Frame-Options: DENY" &&
    hdr "Referrer-Policy: no-referrer" && hdr "X-Content-Type-Options: nosniff" && hdr "Cache-Control: no-store"
check "console pages carry CSP (scripts only from itself), DENY framing, no referrer, no-store" [ $? -eq 0 ]
check "... and no HSTS over http" sh -c "! tr -d '\r' < '$T/hdr' | grep -qi '^Strict-Transport-Security'"
check "the login form has email, password and code fields and a csrf token" \
    sh -c "grep -q 'name=\"email\"' '$T/body' && grep -q 'name=\"password\"' '$T/body' && grep -q 'name=\"code\"' '$T/body' && grep -q 'name=\"csrf\" value=\"[0-9a-f]\{64\}\"' '$T/body'"
req "GET /console.css" 200 "$H/console.css"
req "GET /style.css (the public pages' look)" 200 "$H/style.css"

# --- 2. signed out: every page redirects to /login --------------------------
for p in / /campaigns /campaigns/1 /lists /subscribers "/subscribers?q=zoe" /subscribers/1 \
    /enquiries "/enquiries?lead=west_dsu" "/enquiries/$WREF" /audit /users; do
	req "signed out, GET $p is 303 to /login" 303 "$H$p"
	check "... Location: /login" hdr "Location: /login"
done
req "signed out, POST /logout is 303 to /login" 303 -X POST -d csrf=x "$H/logout"

# --- 3. signing in -------------------------------------------------------
J="$T/jar.admin"
check "a wrong password is refused (403)" [ "$(signin admin@example.org "$J" 'not the password at all')" = 403 ]
cp "$T/body" "$T/wrong.html"
check "an unknown account gets the same 403" [ "$(signin nobody@example.org "$J")" = 403 ]
words() { grep -o 'The email address, password or code is not right[^<]*' "$1"; }
check "... with the very same words" [ -n "$(words "$T/body")" -a "$(words "$T/body")" = "$(words "$T/wrong.html")" ]
rm -f "$J"; curl -sS -o /dev/null -c "$J" "$H/login"
got=$(curl -sS -o /dev/null -w '%{http_code}' -b "$J" --data-urlencode "email=admin@example.org" \
    --data-urlencode "password=$PW" --data-urlencode "csrf=0000000000000000000000000000000000000000000000000000000000000000" "$H/login")
check "a login POST without the form's own token is refused (403)" [ "$got" = 403 ]
got=$(curl -sS -o /dev/null -w '%{http_code}' --data-urlencode "email=admin@example.org" \
    --data-urlencode "password=$PW" --data-urlencode "csrf=$(csrf_of "$T/login")" "$H/login")
check "... and so is one whose token belongs to another browser (no login cookie)" [ "$got" = 403 ]
# A session id planted before signing in is never the one used after.
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tpostroom_session\t%s\n' \
    aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa > "$T/planted"
check "the right password signs in (303)" [ "$(signin admin@example.org "$J")" = 303 ]
check "... to the dashboard" hdr "Location: /"
tr -d '\r' < "$T/hdr" | grep -i '^Set-Cookie: postroom_session=' > "$T/cookie"
check "the session cookie is HttpOnly, SameSite=Strict, Path=/" \
    sh -c "grep -q 'HttpOnly' '$T/cookie' && grep -q 'SameSite=Strict' '$T/cookie' && grep -q 'Path=/' '$T/cookie'"
check "... not Secure over http" sh -c "! grep -q 'Secure' '$T/cookie'"
SID=$(sed -n 's/^Set-Cookie: postroom_session=\([0-9a-f]*\);.*/\1/ip' "$T/cookie")
check "... and holds 256 random bits (64 hex digits)" [ "${#SID}" -eq 64 ]
check "the database keeps only its hash" [ "$(q "SELECT count(*) FROM sessions WHERE hash = '$SID'")" -eq 0 ]
check "the sign-in is in the audit log" [ "$(q "SELECT count(*) FROM events WHERE kind = 'user.signin'")" -ge 1 ]
check "... and the failures too" [ "$(q "SELECT count(*) FROM events WHERE kind = 'user.signin-failed'")" -ge 2 ]
rm -f "$T/jar.fix"; cp "$T/planted" "$T/jar.fix"
curl -sS -o "$T/login" -b "$T/jar.fix" -c "$T/jar.fix" "$H/login"
curl -sS -o /dev/null -D "$T/hdr" -b "$T/jar.fix" -c "$T/jar.fix" --data-urlencode "email=editor@example.org" \
    --data-urlencode "password=$PW" --data-urlencode "csrf=$(csrf_of "$T/login")" "$H/login"
check "a session id planted before sign-in is replaced by a new one (no fixation)" \
    sh -c "tr -d '\r' < '$T/hdr' | grep -i '^Set-Cookie: postroom_session=' | grep -qv aaaaaaaa"
req "GET / signed in: the dashboard" 200 -b "$J" "$H/"
check "... names who is signed in" has "The admin (admin)"

# --- 4. the role table, every route with every role ---------------------------
for who in editor viewer west east; do
	check "$who signs in" [ "$(signin $who@example.org "$T/jar.$who")" = 303 ]
done
SUBID=$(q "SELECT id FROM subscribers WHERE email = 'zoe@example.net'")
CID=$(q "SELECT max(id) FROM campaigns")
# PATH and the status for admin editor viewer lead(west), then for a POST
# signed out when the page takes one (303 to /login; else 405 or 404):
while read -r p a e v l po; do
	[ -n "$p" ] || continue
	p=$(printf '%s' "$p" | sed "s/SUBID/$SUBID/; s/CID/$CID/; s/WREF/$WREF/; s/EREF/$EREF/")
	for role in admin:$a editor:$e viewer:$v west:$l; do
		r=${role%%:*} want=${role#*:}
		got=$(status "$T/jar.$r" GET "$p")
		check "GET $p as $r: $want" [ "$got" = "$want" ]
		[ "$got" = "$want" ] || diag "got $got: $(head -c 300 "$T/sbody")"
	done
	want=${po:-405}; [ "$p" != /no-such-page ] || want=404
	got=$(status "$T/jar.none" POST "$p" -d "csrf=x")
	check "POST $p signed out: $want (no such method, or page)" [ "$got" = "$want" ]
done <<ROUTES
/ 200 200 200 200
/lists 200 200 200 403
/campaigns 200 200 200 403
/campaigns/CID 200 200 200 403
/subscribers 200 200 200 403
/subscribers?q=zoe 200 200 200 403
/subscribers/SUBID 200 200 200 403
/enquiries 200 200 200 200
/enquiries?lead=east_dsu 200 200 200 200
/enquiries/WREF 200 200 200 200
/enquiries/EREF 200 200 200 403
/audit 200 403 403 403
/campaigns/new 200 200 403 403 303
/campaigns/CID/edit 200 200 403 403 303
/campaigns/CID/preview 200 200 200 403
/campaigns/CID/send 200 200 403 403 303
/campaigns/CID/progress 200 200 200 403
/campaigns/CID/progress.json 200 200 200 403
/campaigns/CID/failures.csv 200 200 403 403
/campaigns/999999/edit 404 404 403 403 303
/users 200 403 403 403
/campaigns/999999 404 404 404 403
/subscribers/0 404 404 404 403
/no-such-page 404 404 404 404
/enquiries/$AREF/attachments/1 200 200 200 200
/enquiries/$AREF/attachments/9 404 404 404 404
/enquiries/$EREF/attachments/1 404 404 404 403
ROUTES
for r in admin editor viewer west; do
	got=$(status "$T/jar.$r" POST / -d "csrf=x")
	check "POST / as $r: 405 (a GET page)" [ "$got" = 405 ]
done
check "... with Allow: GET, HEAD" sh -c "curl -sS -o /dev/null -D - -b '$T/jar.admin' -X POST -d csrf=x '$H/' | tr -d '\r' | grep -qi '^Allow: GET, HEAD'"

# --- 5. CSRF: a POST without the session's token changes nothing -------------
got=$(status "$T/jar.viewer" POST /logout)
check "POST /logout without a csrf token: 403" [ "$got" = 403 ]
got=$(status "$T/jar.viewer" POST /logout -d "csrf=$(printf '%064d' 0)")
check "POST /logout with a wrong csrf token: 403" [ "$got" = 403 ]
curl -sS -o "$T/page" -b "$T/jar.editor" "$H/"
ETOK=$(csrf_of "$T/page")
got=$(status "$T/jar.viewer" POST /logout -d "csrf=$ETOK")
check "... and with another session's token: 403" [ "$got" = 403 ]
check "the viewer is still signed in after all three" [ "$(status "$T/jar.viewer" GET /)" = 200 ]
curl -sS -o "$T/page" -b "$T/jar.viewer" "$H/"
got=$(status "$T/jar.viewer" POST /logout -d "csrf=$(csrf_of "$T/page")")
check "POST /logout with its own token: 303" [ "$got" = 303 ]
check "... and the session is over" [ "$(status "$T/jar.viewer" GET /)" = 303 ]
check "... in the database too" [ "$(q "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'viewer@example.org'")" -eq 0 ]

# --- 6. leads see their own enquiries only ----------------------------------
curl -sS -o "$T/body" -b "$T/jar.west" "$H/enquiries?lead=east_dsu"
check "a lead's list shows their enquiry" has "$WREF"
check "... and not another lead's, whatever ?lead= asks" sh -c "! grep -q '$EREF' '$T/body'"
curl -sS -o "$T/body" -b "$T/jar.admin" "$H/enquiries"
check "an admin's list shows both" sh -c "grep -q '$WREF' '$T/body' && grep -q '$EREF' '$T/body'"
curl -sS -o "$T/body" -b "$T/jar.admin" "$H/enquiries?lead=east_dsu"
check "?lead= filters for staff" sh -c "! grep -q '$WREF' '$T/body'"
curl -sS -o "$T/body" -b "$T/jar.admin" "$H/enquiries?q=black+country"
check "?q= finds by subject, case aside" sh -c "grep -q '$WREF' '$T/body' && ! grep -q '$EREF' '$T/body'"
req "a date that is not one is explained, not an error" 200 -b "$T/jar.admin" "$H/enquiries?from=31/03/2026"
check "... in plain words next to the field" has "Enter the date as YYYY-MM-DD"

# --- 7. hostile text comes back escaped --------------------------------------
req "search by name, accents aside" 200 -b "$T/jar.editor" "$H/subscribers?q=ZOE"
check "... finds Zoë, her name escaped" sh -c "grep -q 'zoe@example.net' '$T/body' && grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$T/body' && ! grep -q '<script>alert' '$T/body'"
req "her page" 200 -b "$T/jar.editor" "$H/subscribers/$SUBID"
check "... escapes it too" sh -c "grep -q '&lt;script&gt;' '$T/body' && ! grep -q '<script>alert' '$T/body'"
req "the campaign's page" 200 -b "$T/jar.editor" "$H/campaigns/$CID"
check "... escapes its subject" sh -c "grep -q '&lt;img src=x' '$T/body' && ! grep -q '<img src=x' '$T/body'"
req "the enquiry's page" 200 -b "$T/jar.editor" "$H/enquiries/$WREF"
check "... escapes its subject" sh -c "grep -q '&lt;script&gt;x' '$T/body' && ! grep -q '<script>x' '$T/body'"
req "a search for markup" 200 -b "$T/jar.editor" "$H/subscribers?q=%22%3E%3Cscript%3E"
check "... is shown back escaped" sh -c "grep -q '&quot;&gt;&lt;script&gt;' '$T/body' && ! grep -q '\"><script>' '$T/body'"

# --- 8. a disabled account stops at once -------------------------------------
check "gone@ signs in" [ "$(signin gone@example.org "$T/jar.gone")" = 303 ]
check "... and sees the dashboard" [ "$(status "$T/jar.gone" GET /)" = 200 ]
cli user disable gone@example.org >/dev/null
check "once disabled, the very next request goes to /login" [ "$(status "$T/jar.gone" GET /)" = 303 ]
check "... and signing in again is refused" [ "$(signin gone@example.org "$T/jar.gone")" = 403 ]

# --- 9. a huge POST is refused before it is read ------------------------------
got=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -b "$J" -H 'Content-Type: application/x-www-form-urlencoded' \
    -H 'Content-Length: 20971520' --data-binary 'csrf=x' "$H/logout" 2>/dev/null)
check "a POST saying it is 20 MB is refused at once (413)" [ "$got" = 413 ]
check "the admin is still signed in" [ "$(status "$J" GET /)" = 200 ]

# --- 9b. an enquiry's page, its attachments, answered and re-routed ----------
# (console-enquiry.c; AREF and HREF come from lib-console.sh.)
check "the viewer signs in again" [ "$(signin viewer@example.org "$T/jar.viewer")" = 303 ]
hline() { tr -d '\r' < "$T/hdr" | grep -i "^$1:"; }
req "the page of an enquiry with hostile parts" 200 -b "$J" "$H/enquiries/$AREF"
check "... shows its text as text, escaped" sh -c "grep -q '&lt;script&gt;alert(&quot;body&quot;)&lt;/script&gt; Our draft is attached.' '$T/body' && ! grep -q '<script' '$T/body'"
check "... its subject escaped" has '&lt;img src=x onerror=alert(1)&gt; papers'
check "... its attachments with name, type and size, names escaped" sh -c "grep -q 'attachments/1\" download>draft.txt</a></td><td>text/plain</td><td class=\"num\">25 bytes' '$T/body' && grep -q 'attachments/2\" download>&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;.html</a>' '$T/body' && grep -q 'attachments/3\" download>caf' '$T/body'"
check "... why it was routed and the forward's delivery" sh -c "grep -q '<dt>Why it was routed</dt><dd>Rule west-dsu' '$T/body' && grep -A1 '<dd>Forward to the lead</dd>' '$T/body' | grep -q '<dt>To</dt><dd>west-dsu@example.org</dd>'"
check "... and, for an admin, the forms to act on it" sh -c "grep -q 'action=\"/enquiries/$AREF/answered\"' '$T/body' && grep -q 'action=\"/enquiries/$AREF/reroute\"' '$T/body'"
req "the viewer reads it too" 200 -b "$T/jar.viewer" "$H/enquiries/$AREF"
check "... without the forms (viewers may not act)" sh -c "! grep -q 'answered\"' '$T/body' && ! grep -q 'id=\"note\"' '$T/body'"
req "the page of an HTML-only enquiry with scripts" 200 -b "$J" "$H/enquiries/$HREF"
check "... shows the text of its HTML part, never the HTML" sh -c "grep -q 'Could the West Midlands DSU team help with the Black Country DSU?' '$T/body' && grep -q 'Thank you' '$T/body' && grep -q 'no plain-text part' '$T/body'"
check "... nothing of its markup or scripts, even escaped" sh -c "! grep -qi '<script\|&lt;script\|alert(\|&lt;b&gt;\|onclick' '$T/body'"

req "attachment 1 downloads" 200 -b "$J" "$H/enquiries/$AREF/attachments/1"
check "... as application/octet-stream with nosniff" sh -c "tr -d '\r' < '$T/hdr' | grep -qx 'Content-Type: application/octet-stream' && tr -d '\r' < '$T/hdr' | grep -qx 'X-Content-Type-Options: nosniff'"
check "... to be saved as draft.txt (filename*=UTF-8'')" [ "$(hline Content-Disposition)" = "Content-Disposition: attachment; filename=\"draft.txt\"; filename*=UTF-8''draft.txt" ]
check "... its bytes as sent" [ "$(cat "$T/body")" = "The draft business case." ]
req "an attachment named with markup downloads" 200 -b "$J" "$H/enquiries/$AREF/attachments/2"
check "... its name percent-encoded, and a plain fallback" [ "$(hline Content-Disposition)" = "Content-Disposition: attachment; filename=\"___script_alert(2)__script_.html\"; filename*=UTF-8''%22%3E%3Cscript%3Ealert%282%29%3C%2Fscript%3E.html" ]
check "... never as HTML" sh -c "tr -d '\r' < '$T/hdr' | grep -qx 'Content-Type: application/octet-stream'"
req "an attachment named with CR, LF, a quote and a header downloads" 200 -b "$J" "$H/enquiries/$AREF/attachments/3"
check "... in one Content-Disposition line, its name encoded, two quotes in all" sh -c "[ \$(tr -d '\r' < '$T/hdr' | grep -ci '^Content-Disposition:') -eq 1 ] && tr -d '\r' < '$T/hdr' | grep -i '^Content-Disposition:' | grep -q \"filename\\*=UTF-8''caf%C3%A9%20%20Set-Cookie%3A%20evil%3D1%22%3B.txt\$\" && [ \$(tr -d '\r' < '$T/hdr' | grep -i '^Content-Disposition:' | tr -cd '\"' | wc -c) -eq 2 ]"
check "... and no header of its own" sh -c "! tr -d '\r' < '$T/hdr' | grep -qi '^Set-Cookie'"
req "a lead's download of another lead's attachment: 403" 403 -b "$T/jar.east" "$H/enquiries/$AREF/attachments/1"
req "attachment 0: 404" 404 -b "$J" "$H/enquiries/$AREF/attachments/0"
req "attachment x: 404" 404 -b "$J" "$H/enquiries/$AREF/attachments/x"

# POSTs: signed out, every role without and with a wrong token, and the
# roles that may not act, with their own token: nothing changes.
state() { q "SELECT coalesce(answered_at, 0) || ' ' || lead || ' ' || (SELECT count(*) FROM enquiry_routes) FROM enquiries WHERE reference = '$AREF'"; }
before=$(state)
for act in answered reroute; do
	p="/enquiries/$AREF/$act"
	got=$(status "$T/jar.none" POST "$p" -d "csrf=x&answered=yes&lead=general")
	check "POST $p signed out: 303 to /login" [ "$got" = 303 ]
	for r in admin editor viewer west east; do
		got=$(status "$T/jar.$r" POST "$p" -d "answered=yes&lead=general")
		check "POST $p as $r without a csrf token: 403" [ "$got" = 403 ]
		got=$(status "$T/jar.$r" POST "$p" -d "csrf=$(printf '%064d' 0)&answered=yes&lead=general")
		check "POST $p as $r with a wrong csrf token: 403" [ "$got" = 403 ]
	done
	for r in viewer east; do
		curl -sS -o "$T/page" -b "$T/jar.$r" "$H/"
		got=$(status "$T/jar.$r" POST "$p" -d "csrf=$(csrf_of "$T/page")&answered=yes&lead=general")
		check "POST $p as $r with its own token: 403 (may not act on it)" [ "$got" = 403 ]
	done
	got=$(status "$J" GET "$p")
	check "GET $p: 405" [ "$got" = 405 ]
done
check "... and none of them changed anything" [ "$(state)" = "$before" ]

# Answered, and not after all.
csrf_for() { curl -sS -o "$T/page" -b "$1" "$H/"; csrf_of "$T/page"; }
ATOK=$(csrf_for "$J")
req "the admin marks it answered: 303" 303 -b "$J" -d "csrf=$ATOK&answered=yes" "$H/enquiries/$AREF/answered"
check "... back to its page with a message" hdr "Location: /enquiries/$AREF?done=answered"
ADMINID=$(q "SELECT id FROM users WHERE email = 'admin@example.org'")
check "... answered, when and by whom, in the database" [ "$(q "SELECT answered_by FROM enquiries WHERE reference = '$AREF' AND answered_at > 0")" = "user:$ADMINID" ]
check "... and in the audit log" [ "$(q "SELECT actor FROM events WHERE kind = 'enquiry.answered' AND subject = '$AREF'")" = "user:$ADMINID" ]
req "its page says so" 200 -b "$J" "$H/enquiries/$AREF?done=answered"
check "... in a message and in its summary, with the button to take it back" sh -c "grep -q 'role=\"status\"><p>Marked as answered.' '$T/body' && grep -q 'Yes, marked .* by The admin' '$T/body' && grep -q 'Not answered after all' '$T/body'"
req "the unanswered filter leaves it out" 200 -b "$J" "$H/enquiries?unanswered=1&q=black"
check "... shows the others, and keeps its values" sh -c "! grep -q '$AREF' '$T/body' && grep -q '$WREF' '$T/body' && grep -q 'name=\"unanswered\" value=\"1\" checked' '$T/body' && grep -q 'name=\"q\" value=\"black\"' '$T/body'"
req "without it, the list says when it was answered" 200 -b "$J" "$H/enquiries?q=black"
check "... for it, and 'Not yet' for the others" sh -c "grep '$AREF' '$T/body' | grep -q '</td><td>[A-Z][a-z][a-z] [0-9]' && grep '$WREF' '$T/body' | grep -q 'Not yet'"
ETOK=$(csrf_for "$T/jar.editor")
req "an answer that is neither yes nor no: 400" 400 -b "$T/jar.editor" -d "csrf=$ETOK&answered=maybe" "$H/enquiries/$AREF/answered"
req "the editor: not answered after all (303)" 303 -b "$T/jar.editor" -d "csrf=$ETOK&answered=no" "$H/enquiries/$AREF/answered"
check "... waiting again in the database" [ "$(q "SELECT answered_at IS NULL AND answered_by IS NULL FROM enquiries WHERE reference = '$AREF'")" = 1 ]
WTOK=$(csrf_for "$T/jar.west")
req "the West lead marks their own enquiry answered (303)" 303 -b "$T/jar.west" -d "csrf=$WTOK&answered=yes" "$H/enquiries/$WREF/answered"
check "... answered in the database" [ "$(q "SELECT answered_at > 0 FROM enquiries WHERE reference = '$WREF'")" = 1 ]

# Re-routing: refusals in plain words next to the field, nothing changed.
req "re-route without a lead: 400" 400 -b "$T/jar.editor" --data-urlencode "csrf=$ETOK" --data-urlencode "lead=" --data-urlencode "note=<b>keep me</b>" "$H/enquiries/$AREF/reroute"
check "... the error summary links to the field, the note is kept, escaped" sh -c "grep -q '<a href=\"#lead\">Choose the lead to send it to</a>' '$T/body' && grep -q 'aria-invalid=\"true\"' '$T/body' && grep -q '&lt;b&gt;keep me&lt;/b&gt;</textarea>' '$T/body'"
req "re-route to the lead it has: 400" 400 -b "$T/jar.editor" -d "csrf=$ETOK&lead=west_dsu" "$H/enquiries/$AREF/reroute"
check "... saying so" has "is already with West Midlands DSU development"
req "re-route to no such lead: 400" 400 -b "$T/jar.editor" --data-urlencode "csrf=$ETOK" --data-urlencode "lead=<script>nope" "$H/enquiries/$AREF/reroute"
check "... saying so, escaped" sh -c "grep -q 'There is no lead &quot;&lt;script&gt;nope&quot;' '$T/body' && ! grep -q '<script' '$T/body'"
req "a note of 1,001 characters: 400" 400 -b "$T/jar.editor" -d "csrf=$ETOK&lead=general&note=$(head -c 1001 /dev/zero | tr '\0' x)" "$H/enquiries/$AREF/reroute"
check "... the error next to the note" has '<a href="#note">The note is longer than 1,000 characters'
check "... and none of them changed anything" [ "$(q "SELECT lead || (SELECT count(*) FROM enquiry_routes) FROM enquiries WHERE reference = '$AREF'")" = west_dsu0 ]

# The West lead re-routes their enquiry to the East lead.
req "the West lead re-routes $WREF to the East Midlands lead (303)" 303 -b "$T/jar.west" --data-urlencode "csrf=$WTOK" --data-urlencode "lead=east_dsu" --data-urlencode "note=Leicester is East <script>alert(9)</script>" "$H/enquiries/$WREF/reroute"
check "... back to their list, where it no longer is" hdr "Location: /enquiries?done=rerouted"
WESTID=$(q "SELECT id FROM users WHERE email = 'west@example.org'")
check "... the East lead's now, with who and why in its history" [ "$(q "SELECT e.lead || ' ' || r.from_lead || ' ' || r.actor || ' ' || r.note FROM enquiries e JOIN enquiry_routes r ON r.enquiry_id = e.id WHERE e.reference = '$WREF'")" = "east_dsu west_dsu user:$WESTID Leicester is East <script>alert(9)</script>" ]
check "... and in the audit log" [ "$(q "SELECT actor || ' ' || detail FROM events WHERE kind = 'enquiry.reroute' AND subject = '$WREF'")" = "user:$WESTID west_dsu -> east_dsu, with a note" ]
req "the West lead's list" 200 -b "$T/jar.west" "$H/enquiries?done=rerouted"
check "... says it went, and no longer shows it" sh -c "grep -q 'no longer in your list' '$T/body' && ! grep -q '$WREF' '$T/body'"
req "the West lead may no longer open it" 403 -b "$T/jar.west" "$H/enquiries/$WREF"
req "... nor act on it" 403 -b "$T/jar.west" -d "csrf=$WTOK&answered=no" "$H/enquiries/$WREF/answered"
req "the East lead opens it" 200 -b "$T/jar.east" "$H/enquiries/$WREF"
check "... with its history: from, to, by whom, the note escaped" sh -c "grep -q ': West lead re-routed it from West Midlands DSU development to East Midlands DSU development.</p><p class=\"pre-line\">Their note: Leicester is East &lt;script&gt;alert(9)&lt;/script&gt;</p>' '$T/body'"
check "... and the new forward among its messages" sh -c "grep -A1 '<dd>Forward to the lead</dd>' '$T/body' | grep -q '<dt>To</dt><dd>east-dsu@example.org</dd>'"
fwd() { grep -l "^X-Postroom-Reference: $WREF" "$T/outbox/new/"* 2>/dev/null | xargs grep -l '^Delivered-To: east-dsu@example.org' 2>/dev/null | head -n 1; }
if wait_for 20 sh -c "[ -n \"\$(grep -l '^X-Postroom-Reference: $WREF' '$T'/outbox/new/* 2>/dev/null | xargs grep -l '^Delivered-To: east-dsu@example.org' 2>/dev/null)\" ]"; then
	ok "the forward reaches the East Midlands lead's mailbox (the outbox Maildir)"
else not_ok "the forward reaches the East Midlands lead's mailbox (the outbox Maildir)"; fi
F=$(fwd)
check "... saying who re-routed it and why" sh -c "grep -q 're-routed it to you from West Midlands DSU' '${F:-/dev/null}' && grep -q 'West lead' '${F:-/dev/null}' && grep -q 'Their note: Leicester is East' '${F:-/dev/null}'"
check "... with the original attached and the enquirer as Reply-To" sh -c "grep -q '^Reply-To: Wendy West <wendy@nhs.example.net>' '${F:-/dev/null}' && grep -q '^Content-Type: message/rfc822' '${F:-/dev/null}'"
req "an editor re-routes $AREF to general enquiries (303)" 303 -b "$T/jar.editor" -d "csrf=$ETOK&lead=general" "$H/enquiries/$AREF/reroute"
check "... back to its page" hdr "Location: /enquiries/$AREF?done=rerouted"
req "... which says where it went" 200 -b "$T/jar.editor" "$H/enquiries/$AREF?done=rerouted"
check "... in a message" has "Re-routed: it is forwarded to General enquiries."

# Real and hostile mail from ../shared: every page and every download.
S="$POSTROOM_SHARED"
if [ -d "$S/hostile" ] && [ -d "$S/corpus/enquiries" ]; then
	n0=$(q "SELECT count(*) FROM enquiries")
	for f in "$S"/hostile/*.eml "$S"/corpus/enquiries/*.eml; do
		cli deliver < "$f" >/dev/null 2>>"$T/shared.log"
	done
	nf=$(ls "$S"/hostile/*.eml "$S"/corpus/enquiries/*.eml | wc -l)
	check "the $nf messages of ../shared are recorded" [ $(($(q "SELECT count(*) FROM enquiries") - n0)) -ge $((nf - 2)) ]
	bad=0 pages=0 files=0
	for ref in $(q "SELECT reference FROM enquiries WHERE id > (SELECT id FROM enquiries WHERE reference = '$HREF')"); do
		pages=$((pages + 1))
		got=$(status "$J" GET "/enquiries/$ref")
		if [ "$got" != 200 ] || grep -qi '<script\|<iframe\|<img\|<style\|onerror=\|onload=' "$T/sbody"; then
			bad=$((bad + 1)); diag "$ref: $got"
		fi
		cp "$T/sbody" "$T/shared-page"
		for a in $(sed -n 's|.*href="/enquiries/[^/]*/attachments/\([0-9]*\)".*|\1|p' "$T/shared-page"); do
			files=$((files + 1))
			got=$(curl -sS --max-time 10 -o /dev/null -D "$T/dhdr" -w '%{http_code}' -b "$J" "$H/enquiries/$ref/attachments/$a")
			if [ "$got" != 200 ] || ! tr -d '\r' < "$T/dhdr" | grep -qx 'Content-Type: application/octet-stream' ||
			    [ "$(tr -d '\r' < "$T/dhdr" | grep -ci '^Content-Disposition: attachment; filename="[^"]*"; filename\*=UTF-8'"''"'[A-Za-z0-9%!#$&+.^_`|~-]*$')" -ne 1 ]; then
				bad=$((bad + 1)); diag "$ref attachment $a: $got"
			fi
		done
	done
	check "their $pages pages answer 200 with nothing of theirs as markup, and their $files attachments download safely named" [ "$bad" -eq 0 -a "$pages" -ge $((nf - 2)) ]
	check "postroomd is still serving" [ "$(status "$J" GET /)" = 200 ]
else
	skip "../shared/hostile and ../shared/corpus/enquiries are not there"
fi

# --- 10. the log names no one ----------------------------------------------
no_personal_data "the console's log lines" "$T/d.log"
check "no password in the log" sh -c "! grep -q '$PW' '$T/d.log'"

# --- 11. over https: Secure cookies and HSTS ---------------------------------
kill $DPID; wait $DPID
(IFS='
'; exec "$D" $(opts -o console.base_url="https://console.example.org") -f) 2>"$T/d2.log" &
started $!
wait_for 15 grep -q 'console: serving on' "$T/d2.log"
curl -sS -o /dev/null -D "$T/hdr" "$H/login"
check "with an https console.base_url, HSTS is sent" hdr "Strict-Transport-Security: max-age="
check "... and the login cookie is Secure" sh -c "tr -d '\r' < '$T/hdr' | grep -i '^Set-Cookie: postroom_login=' | grep -q '; Secure'"
done_testing
