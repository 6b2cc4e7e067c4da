#!/bin/sh
# Newsletters in the staff console over HTTP with curl, against a real
# postroomd delivering to an SMTP sink: writing one (every problem shown
# by its line, nothing with a problem saved), the preview (framed by the
# console only, sandboxed, a test copy's links), images (by content, size
# capped, served to readers by the public listener), test copies at the
# sink, scheduling (past times refused), send now after the question
# with the number of recipients, progress without and with JavaScript,
# pause, resume, cancel, copy, delete, failures in plain words and as a
# spreadsheet, retry, the two-person rule, roles, and the audit log.
. "$(dirname "$0")/lib.sh"
needs curl sqlite3 aiosmtpd
CONSOLE_SINK=1
. "$(dirname "$0")/lib-console.sh"

E="$T/jar.editor"
A="$T/jar.admin"
V="$T/jar.viewer"
signin editor@example.org "$E" >/dev/null
signin admin@example.org "$A" >/dev/null
signin viewer@example.org "$V" >/dev/null
signin west@example.org "$T/jar.west" >/dev/null
token() { curl -sS -o "$T/page" -b "$1" "$H/"; csrf_of "$T/page"; }
ET=$(token "$E")
AT=$(token "$A")
VT=$(token "$V")
# post JAR PATH CURL-ARGS...: the status; body in $T/body, Location in $T/loc
post() {
	_jar=$1 _p=$2; shift 2
	curl -sS --max-time 20 -o "$T/body" -D "$T/hdr" -w '%{http_code}' -b "$_jar" "$@" "$H$_p" 2>/dev/null
	tr -d '\r' < "$T/hdr" | sed -n 's/^[Ll]ocation: //p' > "$T/loc"
}
loc() { cat "$T/loc"; }
cli subscriber add news 'reject.me@example.net' --name 'Rex' --confirmed >/dev/null
SUBID=$(q "SELECT id FROM subscribers WHERE email = 'zoe@example.net'")

# --- 1. writing one ------------------------------------------------------------
req "the composer opens for an editor" 200 -b "$E" "$H/campaigns/new"
check "... with the lists to choose from" has '<option value="news">'
n0=$(q "SELECT count(*) FROM campaigns")
got=$(post "$E" /campaigns/new --data-urlencode "csrf=$ET" --data-urlencode list=news \
    --data-urlencode 'subject=Spring {{subscriber.name}}' --data-urlencode 'body=# Spring

Dear {{subscriber.nmae}},

![a chart](C:\charts\spring.png)
')
check "a newsletter with mistakes is refused (400)" [ "$got" = 400 ]
check "... each problem shown with its line" sh -c "grep -q '<strong>Line 3:</strong>.*nmae' '$T/body' && grep -q '<strong>Line 5:</strong>.*file on a computer' '$T/body'"
check "... the error summary links to the text" has 'href="#body"'
check "... what was typed is kept" has 'Dear {{subscriber.nmae}}'
check "... and nothing is saved" [ "$(q "SELECT count(*) FROM campaigns")" = "$n0" ]
got=$(post "$E" /campaigns/new --data-urlencode "csrf=$ET" --data-urlencode 'subject=x' --data-urlencode 'body=y')
check "no list chosen: 400" [ "$got" = 400 ]
check "... said next to the field" has 'href="#list">Choose the list'
got=$(post "$E" /campaigns/new --data-urlencode "csrf=$ET" --data-urlencode list=news \
    --data-urlencode 'subject=Spring <script>alert(1)</script> {{subscriber.name}}' --data-urlencode 'body=# Spring

Dear {{subscriber.name}},

| Course | Date |
|---|---|
| System dynamics | 3 March |
')
check "a good newsletter is saved (303)" [ "$got" = 303 ]
NID=$(q "SELECT max(id) FROM campaigns")
check "... to its edit page" [ "$(loc)" = "/campaigns/$NID/edit?saved=1" ]
check "... as a draft by the editor" [ "$(q "SELECT status || ' ' || (created_by = edited_by) FROM campaigns WHERE id = $NID")" = "draft 1" ]
req "the edit page" 200 -b "$E" "$H/campaigns/$NID/edit?saved=1"
check "... says it is saved" has 'The draft is saved'
check "... escapes the subject" sh -c "grep -q 'Spring &lt;script&gt;' '$T/body' && ! grep -q 'Spring <script>' '$T/body'"
check "... frames the preview at desktop and phone widths" sh -c "grep -q 'class=\"preview-desktop\"' '$T/body' && grep -q 'class=\"preview-phone\"' '$T/body'"
got=$(post "$E" "/campaigns/$NID/edit" --data-urlencode "csrf=$ET" --data-urlencode 'subject=Spring news for {{subscriber.name}}' \
    --data-urlencode 'body=# Spring

Dear {{subscriber.name}},

| Course | Date |
|---|---|
| System dynamics | 3 March |

[Book a place](https://example.org/book)
')
check "an edit is saved (303)" [ "$got" = 303 ]
check "... and changes the draft" [ "$(q "SELECT subject FROM campaigns WHERE id = $NID")" = 'Spring news for {{subscriber.name}}' ]

# --- 2. the preview ----------------------------------------------------------
req "the preview" 200 -b "$E" "$H/campaigns/$NID/preview"
check "... is the HTML part as sent, for the sample subscriber" sh -c "grep -q 'Sample Subscriber' '$T/body' && grep -q '<table' '$T/body'"
check "... sandboxed with its own policy" hdr "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'.*sandbox"
check "... framed by the console only" hdr "X-Frame-Options: SAMEORIGIN"
check "... its links are a test copy's, which change nobody's subscription" sh -c "grep -q '/test-unsubscribe/' '$T/body' && ! grep -q '\"$W/unsubscribe/' '$T/body'"
req "the preview as a chosen subscriber" 200 -b "$E" "$H/campaigns/$NID/preview?as=sian%40example.net"
check "... greets her by name" has 'Siân Jones'
req "the text part" 200 -b "$E" "$H/campaigns/$NID/preview?part=text"
check "... as text" hdr "Content-Type: text/plain"
req "a viewer may preview" 200 -b "$V" "$H/campaigns/$NID/preview"
req "the newsletter's page offers a preview as anyone" 200 -b "$E" "$H/campaigns/$NID?as=a%2Bb%40example.net"
check "... the address put into the frames' URLs safely" has 'preview?as=a%2Bb%40example.net'

# --- 3. images ------------------------------------------------------------------
$PYTHON - "$T" <<'EOF'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
def png(w, h, extra=b''):
    raw = b''.join(b'\x00' + b'\x00\x5e\xa5' * w for _ in range(h))
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            extra + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
t = sys.argv[1]
open(t + '/chart.png', 'wb').write(png(8, 4))
open(t + '/big.png', 'wb').write(png(8, 4, chunk(b'tEXt', b'x' * 20000)))
open(t + '/fake.png', 'wb').write(b'<html><script>alert(1)</script></html>')
open(t + '/cut.png', 'wb').write(png(8, 4)[:40])
EOF
got=$(post "$E" "/campaigns/$NID/image" -F "csrf=$ET" -F "image=@$T/chart.png;filename=<b>x</b>.png;type=image/png" -F 'alt=Bookings by month')
check "an image is uploaded and added (303)" [ "$got" = 303 ]
MEDIA=$(q "SELECT name FROM media LIMIT 1")
check "... kept by its content's hash, as a PNG" sh -c "echo '$MEDIA' | grep -Eq '^[0-9a-f]{20}\.png$' && [ \"\$(sqlite3 '$DB' \"SELECT type || ' ' || width || 'x' || height FROM media\")\" = 'image/png 8x4' ]"
check "... and added to the text with its alt text" sh -c "sqlite3 '$DB' 'SELECT body FROM campaigns WHERE id = $NID' | grep -qF '![Bookings by month]($W/media/$MEDIA)'"
curl -sS -o "$T/got.png" -D "$T/hdr" "$W/media/$MEDIA"
check "the public listener serves it to readers" cmp -s "$T/got.png" "$T/chart.png"
check "... as a PNG" hdr "Content-Type: image/png"
check "... for caches to keep" hdr "Cache-Control: public, max-age=31536000, immutable"
check "... sandboxed should it be opened itself" hdr "Content-Security-Policy: default-src 'none'; sandbox"
req "the console listener does not serve /media/" 404 -b "$E" "$H/media/$MEDIA"
req "an unknown image: 404" 404 "$W/media/0123456789abcdef0123.png"
req "a name that is not one: 404" 404 "$W/media/..%2F..%2Fetc%2Fpasswd"
req "the edit page lists it with its file name escaped" 200 -b "$E" "$H/campaigns/$NID/edit"
check "... escaped" sh -c "grep -q '&lt;b&gt;x&lt;/b&gt;.png' '$T/body' && ! grep -q '<b>x</b>' '$T/body'"
for f in fake cut; do
	got=$(post "$E" "/campaigns/$NID/image" -F "csrf=$ET" -F "image=@$T/$f.png;type=image/png" -F 'alt=x')
	check "$f.png, not a whole image whatever its name and type, is refused (400)" [ "$got" = 400 ]
	check "... in plain words" has 'is not a PNG, JPEG or GIF image'
done
check "... and nothing of them is kept" [ "$(q "SELECT count(*) FROM media")" = 1 ]
got=$(post "$E" "/campaigns/$NID/image" -F "csrf=$ET" -F "image=@$T/chart.png" -F 'alt=')
check "an image without alt text is refused (400)" [ "$got" = 400 ]
check "... saying why" has 'Say what the image shows'
got=$(post "$V" "/campaigns/$NID/image" -F "csrf=$VT" -F "image=@$T/chart.png" -F 'alt=x')
check "a viewer may not upload (403)" [ "$got" = 403 ]

# --- 4. a test copy, at the sink ------------------------------------------------
got=$(post "$E" "/campaigns/$NID/test" --data-urlencode "csrf=$ET" --data-urlencode 'to=one@example.org, two@example.org')
check "test copies to two addresses (303)" [ "$got" = 303 ]
check "... and the page says so" sh -c "grep -q 'done=tested-many' '$T/loc'"
if wait_for 30 sh -c "grep -q '	one@example.org	' '$T/sink/log' && grep -q '	two@example.org	' '$T/sink/log'"; then ok "... both arrive at the SMTP sink"
else not_ok "... both arrive at the SMTP sink"; diag "$(cat "$T/sink/log" 2>/dev/null)"; fi
f=$(grep '	one@example.org	' "$T/sink/log" | tail -n 1 | cut -f 6)
check "... marked as a test, its image and table in it" sh -c "grep -q '^Subject: .*TEST' '$T/sink/msgs/$f' && grep -q 'media/$MEDIA' '$T/sink/msgs/$f' && grep -qi '<table' '$T/sink/msgs/$f'"
many=$(for i in 1 2 3 4 5 6 7 8 9 10 11; do printf 't%s@example.org,' $i; done)
got=$(post "$E" "/campaigns/$NID/test" --data-urlencode "csrf=$ET" --data-urlencode "to=$many")
check "eleven addresses at once are refused (409)" [ "$got" = 409 ]

# --- 5. scheduling ------------------------------------------------------------
got=$(post "$E" "/campaigns/$NID/schedule" --data-urlencode "csrf=$ET" --data-urlencode date=2020-01-01 --data-urlencode time=09:00)
check "a time that has passed is refused (409)" [ "$got" = 409 ]
check "... in plain words" has 'has passed'
got=$(post "$E" "/campaigns/$NID/schedule" --data-urlencode "csrf=$ET" --data-urlencode date=31/01/2099 --data-urlencode time=09:00)
check "a date not written as one is refused (409)" [ "$got" = 409 ]
check "... saying how to write it" has 'YYYY-MM-DD'
check "... and it is still a draft" [ "$(q "SELECT status FROM campaigns WHERE id = $NID")" = draft ]
got=$(post "$E" "/campaigns/$NID/schedule" --data-urlencode "csrf=$ET" --data-urlencode date=2099-01-31 --data-urlencode time=09:30)
check "a time to come schedules it (303)" [ "$got" = 303 ]
check "... for then, the network's time" [ "$(q "SELECT status FROM campaigns WHERE id = $NID")" = scheduled ]
got=$(post "$E" "/campaigns/$NID/unschedule" --data-urlencode "csrf=$ET")
check "unschedule (303)" [ "$got" = 303 ]
check "... a draft again, nobody queued" [ "$(q "SELECT status || ' ' || (SELECT count(*) FROM outbox WHERE campaign_id = $NID AND kind = 'campaign') FROM campaigns WHERE id = $NID")" = "draft 0" ]

# --- 6. send now, after the question ------------------------------------------
req "the question before sending" 200 -b "$E" "$H/campaigns/$NID/send"
check "... says how many people it goes to" has 'to <strong>3 people</strong>'
got=$(post "$E" "/campaigns/$NID/send" --data-urlencode "csrf=$ET" --data-urlencode recipients=2)
check "a confirmation for another number asks again (303)" [ "$got" = 303 ]
check "... to the question, saying the number changed" [ "$(loc)" = "/campaigns/$NID/send?changed=1" ]
check "... and nothing is sent" [ "$(q "SELECT status FROM campaigns WHERE id = $NID")" = draft ]
got=$(post "$V" "/campaigns/$NID/send" --data-urlencode "csrf=$VT" --data-urlencode recipients=3)
check "a viewer may not send (403)" [ "$got" = 403 ]
got=$(post "$E" "/campaigns/$NID/send" --data-urlencode "csrf=$ET" --data-urlencode recipients=3)
check "the confirmation with the number sends it (303)" [ "$got" = 303 ]
check "... to its progress page" [ "$(loc)" = "/campaigns/$NID/progress" ]
req "the progress page" 200 -b "$E" "$H/campaigns/$NID/progress"
check "... reloads itself without JavaScript" sh -c "grep -q '<noscript><meta http-equiv=\"refresh\"' '$T/body' || grep -q 'State: <span id=\"progress-status\">sent' '$T/body'"
check "... and loads the console's own script" has '<script src="/console.js" defer></script>'
if wait_for 30 sh -c "curl -sS -b '$E' '$H/campaigns/$NID/progress.json' | grep -q '\"finished\":true'"; then ok "progress.json says when it has finished"
else not_ok "progress.json says when it has finished"; fi
curl -sS -o "$T/body" -D "$T/hdr" -b "$E" "$H/campaigns/$NID/progress.json"
check "... as JSON with the counts" sh -c "grep -q '\"total\":3' '$T/body' && grep -q '\"sent\":2' '$T/body' && grep -q '\"failed\":1' '$T/body'"
check "... application/json" hdr "Content-Type: application/json"
req "the script itself" 200 "$H/console.js"
check "... served as JavaScript by postroomd" hdr "Content-Type: text/javascript"

# --- 7. failures, in plain words -------------------------------------------------
req "the newsletter's page lists the failure" 200 -b "$E" "$H/campaigns/$NID"
check "... with what the server's reply means" sh -c "grep -q 'reject.me@example.net' '$T/body' && grep -q 'The address does not exist\|The mailbox is not available' '$T/body'"
q "UPDATE outbox SET last_reply = '=HYPERLINK(\"http://evil.example\")' WHERE campaign_id = $NID AND state = 'failed'"
req "the failures as a spreadsheet" 200 -b "$E" "$H/campaigns/$NID/failures.csv"
check "... a CSV download" sh -c "tr -d '\r' < '$T/hdr' | grep -qi '^Content-Disposition: attachment; filename=\"newsletter-$NID-failures.csv\"'"
check "... with the address and the meaning" sh -c "grep -q '^address,code,reply,meaning' '$T/body' && grep -q 'reject.me@example.net,550' '$T/body'"
check "... a reply that would be a formula stays text" sh -c "grep -q \"'=HYPERLINK\" '$T/body' && ! grep -q ',\"=HYPERLINK\|,=HYPERLINK' '$T/body'"
req "a viewer may not download it (personal data)" 403 -b "$V" "$H/campaigns/$NID/failures.csv"
got=$(post "$E" "/campaigns/$NID/retry" --data-urlencode "csrf=$ET" --data-urlencode permanent=yes)
check "retry, the refused ones too (303)" [ "$got" = 303 ]
check "... queued again" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $NID AND state IN ('queued', 'sending', 'deferred', 'failed') AND attempts >= 0")" -ge 1 ]

# --- 8. pause, resume, cancel, copy, delete ----------------------------------------
got=$(post "$E" "/campaigns/$NID/copy" --data-urlencode "csrf=$ET")
CPY=$(q "SELECT max(id) FROM campaigns")
check "copy makes a new draft (303 to its editor)" sh -c "[ '$got' = 303 ] && [ '$(loc)' = '/campaigns/$CPY/edit?copied=1' ] && [ \"\$(sqlite3 '$DB' 'SELECT status FROM campaigns WHERE id = $CPY')\" = draft ]"
got=$(post "$E" "/campaigns/$CPY/delete" --data-urlencode "csrf=$ET")
check "delete without the box ticked is refused (409)" [ "$got" = 409 ]
check "... saying so" has 'Tick the box'
check "... and the draft is still there" [ "$(q "SELECT count(*) FROM campaigns WHERE id = $CPY")" = 1 ]
got=$(post "$E" "/campaigns/$CPY/delete" --data-urlencode "csrf=$ET" --data-urlencode confirm=yes)
check "delete with it ticked (303)" [ "$got" = 303 ]
check "... and it is gone" [ "$(q "SELECT count(*) FROM campaigns WHERE id = $CPY")" = 0 ]
got=$(post "$E" "/campaigns/$NID/delete" --data-urlencode "csrf=$ET" --data-urlencode confirm=yes)
check "a newsletter that has gone cannot be deleted (409)" [ "$got" = 409 ]
# A big list's send, caught in the middle: paused, resumed, cancelled.
q "INSERT INTO campaigns (list, subject, body, status, created_at, updated_at, started_at) VALUES ('news', 'Big', 'Hi', 'sending', 1, 1, 1)"
BIG=$(q "SELECT max(id) FROM campaigns")
q "INSERT INTO outbox (kind, campaign_id, subscriber_id, rcpt_to, mail_from, priority, state, attempts, next_attempt_at, created_at, updated_at) VALUES ('campaign', $BIG, $SUBID, 'x@example.org', 'b@example.org', 0, 'queued', 0, 4102444800, 1, 1)"
got=$(post "$E" "/campaigns/$BIG/pause" --data-urlencode "csrf=$ET")
check "pause (303)" sh -c "[ '$got' = 303 ] && [ \"\$(sqlite3 '$DB' 'SELECT status FROM campaigns WHERE id = $BIG')\" = paused ]"
got=$(post "$E" "/campaigns/$BIG/resume" --data-urlencode "csrf=$ET")
check "resume (303)" sh -c "[ '$got' = 303 ] && [ \"\$(sqlite3 '$DB' 'SELECT status FROM campaigns WHERE id = $BIG')\" = sending ]"
got=$(post "$E" "/campaigns/$BIG/cancel" --data-urlencode "csrf=$ET")
check "cancel without the box ticked is refused (409)" [ "$got" = 409 ]
got=$(post "$E" "/campaigns/$BIG/cancel" --data-urlencode "csrf=$ET" --data-urlencode confirm=yes)
check "cancel with it ticked (303)" sh -c "[ '$got' = 303 ] && [ \"\$(sqlite3 '$DB' 'SELECT status FROM campaigns WHERE id = $BIG')\" = cancelled ]"
check "... its queued rows are skipped" [ "$(q "SELECT state FROM outbox WHERE campaign_id = $BIG")" = skipped ]
got=$(post "$E" "/campaigns/$BIG/pause" -d "csrf=0")
check "a wrong CSRF token changes nothing (403)" [ "$got" = 403 ]
for p in edit send test schedule unschedule pause resume cancel copy delete retry approve image; do
	m=POST; [ $p = edit ] && m=GET
	got=$(status "$T/jar.west" $m "/campaigns/$NID/$p" -d "csrf=x")
	[ "$got" = 403 ] || diag "$m /campaigns/ID/$p as a lead: $got"
	[ "$got" = 403 ] || break
done
check "a lead may do none of it (403)" [ "$got" = 403 ]

# Every action: signed out to /login, a viewer refused, no CSRF token
# refused, and nothing changed by any of them.
before=$(q "SELECT group_concat(id || status || updated_at) FROM campaigns")
rm -f "$T/jar.none"
for p in new $NID/edit $NID/image $NID/test $NID/schedule $NID/unschedule $NID/send \
    $NID/pause $NID/resume $NID/cancel $NID/copy $NID/delete $NID/retry $NID/approve; do
	got=$(status "$T/jar.none" POST "/campaigns/$p" -d "csrf=x&confirm=yes&recipients=3")
	[ "$got" = 303 ] || { diag "POST /campaigns/$p signed out: $got"; break; }
	got=$(status "$V" POST "/campaigns/$p" -d "csrf=$VT&confirm=yes&recipients=3")
	[ "$got" = 403 ] || { diag "POST /campaigns/$p as a viewer: $got"; break; }
	got=$(status "$E" POST "/campaigns/$p" -d "confirm=yes&recipients=3")
	[ "$got" = 403 ] || { diag "POST /campaigns/$p without a token: $got"; break; }
done
check "every action: signed out 303, viewer 403, no token 403" [ "$got" = 403 ]
check "... and none of them changed anything" [ "$(q "SELECT group_concat(id || status || updated_at) FROM campaigns")" = "$before" ]

# --- 9. the two-person rule ------------------------------------------------
kill $DPID; wait $DPID 2>/dev/null
(IFS='
'; exec "$D" $(opts -o console.send_approval=true) -f) 2>"$T/d2.log" &
DPID=$!
started $DPID
wait_for 15 grep -q 'console: serving on' "$T/d2.log"
got=$(post "$E" /campaigns/new --data-urlencode "csrf=$ET" --data-urlencode list=news \
    --data-urlencode 'subject=Needs two' --data-urlencode 'body=Hello {{subscriber.name}}')
TWO=$(q "SELECT max(id) FROM campaigns")
req "the question is not even asked before approval" 409 -b "$E" "$H/campaigns/$TWO/send"
check "... saying a second person must approve it" has 'second editor or admin must approve'
req "its writer is not offered the approval" 200 -b "$E" "$H/campaigns/$TWO"
check "... (no button)" sh -c "! grep -q 'Approve this version' '$T/body'"
VER=$(sed -n 's/.*name="version" value="\([0-9a-f]*\)".*/\1/p' "$T/body")
req "an admin is" 200 -b "$A" "$H/campaigns/$TWO"
VER=$(sed -n 's/.*name="version" value="\([0-9a-f]*\)".*/\1/p' "$T/body")
check "... for the version they read" [ -n "$VER" ]
got=$(post "$E" "/campaigns/$TWO/approve" --data-urlencode "csrf=$ET" --data-urlencode "version=$VER")
check "the writer's own approval is refused (409)" [ "$got" = 409 ]
got=$(post "$E" "/campaigns/$TWO/edit" --data-urlencode "csrf=$ET" --data-urlencode 'subject=Needs two, changed' --data-urlencode 'body=Hello {{subscriber.name}}')
got=$(post "$A" "/campaigns/$TWO/approve" --data-urlencode "csrf=$AT" --data-urlencode "version=$VER")
check "approving a version since changed is refused (409)" [ "$got" = 409 ]
check "... saying it changed" has 'changed since you read it'
curl -sS -o "$T/body" -b "$A" "$H/campaigns/$TWO"
VER=$(sed -n 's/.*name="version" value="\([0-9a-f]*\)".*/\1/p' "$T/body")
got=$(post "$A" "/campaigns/$TWO/approve" --data-urlencode "csrf=$AT" --data-urlencode "version=$VER")
check "the admin approves the version as it stands (303)" [ "$got" = 303 ]
check "... recorded as theirs" [ "$(q "SELECT approved_by FROM campaigns WHERE id = $TWO")" = "user:$(q "SELECT id FROM users WHERE email = 'admin@example.org'")" ]
got=$(post "$E" "/campaigns/$TWO/edit" --data-urlencode "csrf=$ET" --data-urlencode 'subject=Needs two, changed again' --data-urlencode 'body=Hello {{subscriber.name}}')
check "an edit withdraws the approval" [ -z "$(q "SELECT approved_by FROM campaigns WHERE id = $TWO")" ]
curl -sS -o "$T/body" -b "$A" "$H/campaigns/$TWO"
VER=$(sed -n 's/.*name="version" value="\([0-9a-f]*\)".*/\1/p' "$T/body")
post "$A" "/campaigns/$TWO/approve" --data-urlencode "csrf=$AT" --data-urlencode "version=$VER" >/dev/null
req "approved again, the question is asked" 200 -b "$E" "$H/campaigns/$TWO/send"
got=$(post "$E" "/campaigns/$TWO/send" --data-urlencode "csrf=$ET" --data-urlencode recipients=3)
check "... and it is sent (303)" [ "$got" = 303 ]

# --- 10. the audit log says who ---------------------------------------------
EID=$(q "SELECT id FROM users WHERE email = 'editor@example.org'")
check "edits, sends and uploads are in the audit log as the editor's" [ "$(q "SELECT count(DISTINCT kind) FROM events WHERE actor = 'user:$EID' AND kind IN ('campaign.new', 'campaign.edit', 'media.add', 'campaign-sending', 'campaign-scheduled')")" -ge 4 ]
check "the approval as the admin's" [ "$(q "SELECT count(*) FROM events WHERE kind = 'campaign.approve' AND actor LIKE 'user:%'")" -ge 2 ]
no_personal_data "postroomd's log" "$T/d.log"
no_personal_data "postroomd's log after the restart" "$T/d2.log"
done_testing
