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
