#!/bin/sh
# The public web pages over HTTP with curl, against a real postroomd
# (confirmation emails go to a Maildir outbox): every route and every bad
# input - bad, foreign, expired and misused tokens, wrong methods, oversized
# bodies, bad form encodings - plus the no-enumeration answer, the
# honeypot, the rate limits (per client, per /64, per address; the
# X-Forwarded-For rule), RFC 8058 one-click (urlencoded and multipart),
# preferences, SIGHUP, no address in any URL or log line, pages that
# keep answering while a campaign is being sent, and the links of a test
# copy (a page that says so and changes nothing, one-click answered and
# ignored, the draft shown to whoever holds the link and nothing else).
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
TOKEN="$PYTHON $POSTROOM_TOP/tests/tools/web-token.py"

for tool in curl sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "the $tool command is not installed (apt-get install $tool)"
		done_testing; exit 0
	fi
done

DB="$T/var/p.db"
KEY="$T/var/secret.key"
mkdir -p "$T/var"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"
PORT=$(free_port)
H="http://127.0.0.1:$PORT"
LIMIT=3

opts() {
	set -- -c "$conf" -o general.database="$DB" \
	    -o general.secret_file="$KEY" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o general.base_url="$H" -o web.listen="127.0.0.1:$PORT" \
	    -o web.subscribe_per_hour=$LIMIT -o smtp.rate_per_second=25 \
	    -o inbound.source=none -o smtp.url="maildir:$T/outbox" "$@"
	printf '%s\n' "$@"
}
cli() { (IFS='
'; exec "$C" $(opts) "$@"); }
q() { sqlite3 "$DB" "$1"; }

(IFS='
'; exec "$D" $(opts) -f) 2>"$T/d.log" &
DPID=$!
started $DPID
if wait_for 15 grep -q 'web: serving on' "$T/d.log"; then ok "postroomd serves the web pages on web.listen"
else not_ok "postroomd serves the web pages on web.listen"; diag "$(cat "$T/d.log")"; done_testing; exit 1; fi

# req NAME STATUS CURL-ARGS...: one request; body in $T/body, headers in
# $T/hdr; ok when the status is STATUS.  Every request comes from its own
# client address (X-Forwarded-For, trusted from loopback) unless it says
# otherwise, so that the per-client limit only bites where it is tested.
_ip=0
req() {
	_name=$1 _want=$2; shift 2
	_ip=$((_ip + 1))
	_got=$(curl -sS --max-time 10 -o "$T/body" -D "$T/hdr" \
	    -w '%{http_code}' -H "X-Forwarded-For: 198.51.$((_ip / 250)).$((_ip % 250 + 1))" "$@" 2>"$T/curl.err")
	if [ "$_got" = "$_want" ]; then ok "$_name"
	else not_ok "$_name"; diag "got status $_got, want $_want"; diag "$(head -c 600 "$T/body")"; cat "$T/curl.err" | sed 's/^/# /'; fi
}
has() { grep -q -- "$1" "$T/body"; }
hdr() { tr -d '\r' < "$T/hdr" | grep -qi -- "^$1"; }
status_of() { q "SELECT m.status FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.email = '$1' AND m.list = '${2:-news}'"; }
id_of() { q "SELECT id FROM subscribers WHERE email = '$1'"; }
nsubs() { q "SELECT count(*) FROM subscribers"; }

# link EMAIL KIND: the newest KIND link (confirm, unsubscribe, preferences)
# in a message to EMAIL in the outbox Maildir, decoded from the MIME.
link() {
	$PYTHON - "$T/outbox/new" "$1" "$2" <<'EOF'
import email, email.policy, os, re, sys
d, rcpt, kind = sys.argv[1:]
best = None
for name in sorted(os.listdir(d), key=lambda n: os.stat(os.path.join(d, n)).st_mtime):
    with open(os.path.join(d, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    if rcpt not in str(m["To"]):
        continue
    for part in m.walk():
        if part.get_content_maintype() == "text":
            found = re.findall(r"https?://[^\s<>\"]*/%s/[A-Za-z0-9_-]+" % kind, part.get_content())
            if found:
                best = found[-1]
if best:
    print(best)
EOF
}
confirm_mail() { test -n "$(link "$1" confirm)"; }

# --- 1. pages anyone can open ---------------------------------------------
req "GET / lists the lists" 200 "$H/"
check "... each with a subscribe link" has "Subscribe<span class=\"visually-hidden\"> to Training and development"
hdr "Content-Security-Policy: default-src 'none'; style-src 'self'" &&
hdr "X-Content-Type-Options: nosniff" && hdr "Referrer-Policy: same-origin" &&
hdr "Cache-Control: no-store" && hdr "Content-Type: text/html; charset=utf-8"
check "every page carries the security headers (CSP, nosniff, same-origin referrers, no-store)" [ $? -eq 0 ]
grep -qi 'frame-ancestors .none.' "$T/hdr"
check "... and refuses to be framed (frame-ancestors 'none')" [ $? -eq 0 ]
req "GET /style.css" 200 "$H/style.css"
check "... is text/css" hdr "Content-Type: text/css"
req "GET /subscribe/news shows the form" 200 "$H/subscribe/news"
has 'label class="label" for="email"' && has 'id="email" name="email"' &&
    has 'id="name" name="name"' && has 'type="checkbox" id="consent"' &&
    has 'News from the network: events' && has 'name="website"' &&
    has 'name="viewport"' && ! grep -qi '<script' "$T/body"
check "... with labelled email, name and consent (the list's description), a honeypot, a viewport and no script" [ $? -eq 0 ]
req "HEAD /subscribe/news" 200 -I "$H/subscribe/news"
req "GET /subscribe/nosuch is 404" 404 "$H/subscribe/nosuch"
req "GET /nothing-here is 404" 404 "$H/nothing-here"
req "GET /subscribe/news/extra is 404" 404 "$H/subscribe/news/extra"
req "GET /subscribe/ is 404" 404 "$H/subscribe/"
req "GET /confirm/ is 404" 404 "$H/confirm/"

# --- 2. wrong methods -------------------------------------------------------
req "PUT /subscribe/news is 405" 405 -X PUT -d x=1 "$H/subscribe/news"
check "... with Allow: GET, HEAD, POST" hdr "Allow: GET, HEAD, POST"
req "DELETE /confirm/TOKEN is 405" 405 -X DELETE "$H/confirm/AAAA"
req "POST / is 405" 405 -d x=1 "$H/"
check "... with Allow: GET, HEAD" hdr "Allow: GET, HEAD"
req "POST /style.css is 405" 405 -d x=1 "$H/style.css"
req "OPTIONS /subscribe/news is 405" 405 -X OPTIONS "$H/subscribe/news"

# --- 3. subscribing ---------------------------------------------------------
req "POST /subscribe/news with a good form" 200 \
    -d 'email=ann%40example.net&name=Ann+Smith&consent=yes&website=' "$H/subscribe/news"
check "... answers check your inbox" has "Check your inbox"
cp "$T/body" "$T/body.new"
check "... and records ann pending, consent method web" \
    [ "$(q "SELECT m.status || ' ' || m.consent_method FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.email = 'ann@example.net'")" = "pending web" ]
check "... with her name" [ "$(q "SELECT name FROM subscribers WHERE email = 'ann@example.net'")" = "Ann Smith" ]
check "a confirmation email reaches the outbox with a confirm link" wait_for 10 confirm_mail ann@example.net
ANN_CONFIRM=$(link ann@example.net confirm)
case $ANN_CONFIRM in
"$H"/confirm/*) case $ANN_CONFIRM in *@*|*%40*|*ann*|*example*) r=1 ;; *) r=0 ;; esac ;;
*) r=1 ;; esac
check "the link is base_url/confirm/TOKEN and holds no address" [ $r -eq 0 ]
diag "confirm link: $ANN_CONFIRM"

req "the same request again" 200 \
    -d 'email=ann%40example.net&name=Someone+Else&consent=yes' "$H/subscribe/news"
check "... leaves her name alone" [ "$(q "SELECT name FROM subscribers WHERE email = 'ann@example.net'")" = "Ann Smith" ]
check "... and queues no second email the same day" \
    [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'confirm' AND rcpt_to = 'ann@example.net'")" -eq 1 ]
req "the same address in another case" 200 \
    -d 'email=ANN%40Example.NET&consent=yes' "$H/subscribe/news"
check "... is the same person, kept as first given" \
    [ "$(q "SELECT count(*) || ' ' || min(email) FROM subscribers WHERE lower(email) = 'ann@example.net'")" = "1 ann@example.net" ]
check "... and gets no second email the same day" \
    [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'confirm' AND lower(rcpt_to) = 'ann@example.net'")" -eq 1 ]

n0=$(nsubs)
req "a filled honeypot gets the usual answer" 200 \
    -d 'email=robot%40example.net&consent=yes&website=http%3A%2F%2Fspam.example' "$H/subscribe/news"
check "... says check your inbox" has "Check your inbox"
check "... and stores nothing" [ "$(nsubs)" -eq "$n0" -a -z "$(id_of robot@example.net)" ]
grep -q 'honeypot' "$T/d.log"
check "... and is logged as a honeypot hit" [ $? -eq 0 ]

req "no consent: 400 and the form again" 400 -d 'email=bob%40example.net&name=Bob' "$H/subscribe/news"
has 'There is a problem' && has 'href="#consent"' && has 'value="bob@example.net"' && has 'aria-invalid="true"'
check "... with an error summary linked to the field, the values kept" [ $? -eq 0 ]
req "a bad address: 400" 400 -d 'email=bob-at-example.net&consent=yes' "$H/subscribe/news"
check "... says what is wrong" has 'Enter an email address like'
req "no address: 400" 400 -d 'consent=yes' "$H/subscribe/news"
req "a name with a line break: 400" 400 -d 'email=bob%40example.net&name=Bob%0AEvil&consent=yes' "$H/subscribe/news"
req "a script in the name is escaped, not run" 400 \
    -d 'email=bob&name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&consent=yes' "$H/subscribe/news"
check "... (&lt;script&gt; in the page)" has '&lt;script&gt;alert(1)&lt;/script&gt;'
check "none of these stored anyone" [ "$(nsubs)" -eq "$n0" ]

# --- 4. malformed bodies ------------------------------------------------------
req "a bad %-escape: 400" 400 -d 'email=bob%zz%40example.net&consent=yes' "$H/subscribe/news"
req "a truncated %-escape: 400" 400 -d 'email=bob%40example.net&consent=yes%' "$H/subscribe/news"
req "an overlong UTF-8 sequence: 400" 400 -d 'email=bob%40example.net&name=%C0%AF&consent=yes' "$H/subscribe/news"
req "Latin-1 instead of UTF-8: 400" 400 -d 'email=bob%40example.net&name=Zo%EB&consent=yes' "$H/subscribe/news"
req "an encoded NUL: 400" 400 -d 'email=bob%40example.net%00x&consent=yes' "$H/subscribe/news"
printf 'email=bob%%40example.net&consent=yes\001' > "$T/ctl"
req "a raw control character: 400" 400 --data-binary @"$T/ctl" "$H/subscribe/news"
req "a JSON body: 415" 415 -H 'Content-Type: application/json' -d '{"email":"bob@example.net"}' "$H/subscribe/news"
req "multipart without a closing boundary: 400" 400 \
    -H 'Content-Type: multipart/form-data; boundary=xyz' \
    --data-binary "$(printf -- '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\nbob@example.net\r\n')" "$H/subscribe/news"
head -c 20000 /dev/zero | tr '\0' a > "$T/big"
req "a body over 16 KiB (Content-Length): 413" 413 --data-binary @"$T/big" "$H/subscribe/news"
req "a body over 16 KiB (chunked): 413" 413 -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" "$H/subscribe/news"
head -c 300000 /dev/zero | tr '\0' a > "$T/huge"
# With "Expect: 100-continue" curl sends the body only when asked to, so the
# 413 cannot race the body into a broken pipe (postroomd answers from the
# headers and never asks).
req "a 300 KB one-click body: 413, nothing read" 413 -H 'Expect: 100-continue' \
    --expect100-timeout 5 --data-binary @"$T/huge" "$H/unsubscribe/AAAA"
check "none of the malformed requests stored anyone" [ "$(nsubs)" -eq "$n0" ]
printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$(head -c 40000 /dev/zero | tr '\0' a)" > "$T/bighdr"
got=$($PYTHON -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(open(sys.argv[2], "rb").read())
print(s.recv(100).split(b"\r\n")[0].decode())' "$PORT" "$T/bighdr" 2>&1)
case $got in "HTTP/1.1 4"*) r=0 ;; *) r=1 ;; esac
check "40 KB of headers is refused with a 4xx (connection memory limit)" [ $r -eq 0 ]
diag "headers: $got"

# --- 5. confirming ------------------------------------------------------------
TOK=${ANN_CONFIRM##*/}
req "GET the confirm link shows a Confirm button" 200 "$ANN_CONFIRM"
has '<form method="post">' && has 'Confirm my subscription' && has 'ann@example.net'
check "... a POST form for ann" [ $? -eq 0 ]
req "HEAD the confirm link" 200 -I "$ANN_CONFIRM"
check "a GET (a link scanner) confirms nothing: still pending" [ "$(status_of ann@example.net)" = pending ]

short=$(printf '%s' "$TOK" | cut -c1-20)
req "a truncated token: 400" 400 "$H/confirm/$short"
check "... says the link is not complete" has "not complete"
req "a token with characters that are not base64url: 400" 400 "$H/confirm/abc.def"
i=$(( ${#TOK} / 2 ))
c=$(printf '%s' "$TOK" | cut -c$i)
[ "$c" = A ] && n=B || n=A
BAD="$(printf '%s' "$TOK" | cut -c1-$((i - 1)))$n$(printf '%s' "$TOK" | cut -c$((i + 1))-)"
req "an altered token: 403" 403 "$H/confirm/$BAD"
check "... says it is not valid" has "not valid"
req "POST with an altered token: 403" 403 -X POST "$H/confirm/$BAD"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/other.key"
ANN=$(id_of ann@example.net)
FOREIGN=$($TOKEN "$T/other.key" confirm "$ANN" --db "$DB" --list news --expires $(( $(date +%s) + 3600 )))
req "a token signed with another key: 403" 403 -X POST "$H/confirm/$FOREIGN"
EXPIRED=$($TOKEN "$KEY" confirm "$ANN" --db "$DB" --list news --expired)
req "an expired confirm token: 403" 403 "$H/confirm/$EXPIRED"
check "... says it has expired and offers to subscribe again" has "expired"
check "... with a link to subscribe again" has 'href="../subscribe/news"'
req "POST with the expired token: 403" 403 -X POST "$H/confirm/$EXPIRED"
UNSUB_AT_CONFIRM=$($TOKEN "$KEY" unsubscribe "$ANN" --db "$DB" --list news)
req "an unsubscribe token at /confirm: 403" 403 -X POST "$H/confirm/$UNSUB_AT_CONFIRM"
check "... says the link is not for this page" has "not for this page"
req "a confirm POST with a malformed body: 400" 400 -d 'x=%G0' "$ANN_CONFIRM"
check "none of these confirmed her" [ "$(status_of ann@example.net)" = pending ]

req "POST the confirm link" 200 -X POST "$ANN_CONFIRM"
check "... says you are subscribed" has "You are subscribed"
check "... and she is confirmed" [ "$(status_of ann@example.net)" = confirmed ]
check "... with consent recorded (method web, time set)" \
    [ "$(q "SELECT consent_method || ' ' || (consent_at > 0) || ' ' || (confirmed_at > 0) FROM memberships WHERE subscriber_id = $ANN")" = "web 1 1" ]
check "... and the move is in the audit log" \
    [ "$(q "SELECT count(*) FROM events WHERE kind = 'member.confirmed' AND subject = 'ann@example.net'")" -eq 1 ]
grep -o 'href="[^"]*preferences/[^"]*"' "$T/body" | head -1 | sed 's/href="..\///; s/"$//' > "$T/prefpath"
check "... with a link to her preferences" [ -s "$T/prefpath" ]
req "POST the confirm link again: already subscribed" 200 -X POST "$ANN_CONFIRM"
check "... says so" has "already subscribed"

# No enumeration: a confirmed address and a new one get the same answer.
req "subscribing a confirmed address" 200 -d 'email=ann%40example.net&consent=yes' "$H/subscribe/news"
sed 's/ann@example.net/ADDRESS/g' "$T/body" > "$T/a.known"
req "subscribing a new address" 200 -d 'email=carol%40example.net&name=Carol&consent=yes' "$H/subscribe/news"
sed 's/carol@example.net/ADDRESS/g' "$T/body" > "$T/a.new"
check "... the two answers are the same, byte for byte (no enumeration)" cmp -s "$T/a.known" "$T/a.new"
check "carol gets her confirmation email" wait_for 10 confirm_mail carol@example.net
# Never held: forgetting it needs --suppress-anyway.
cli subscriber forget dave@example.net --suppress-anyway >"$T/forget.out" 2>&1
req "an address erased at its owner's request gets the usual answer" 200 \
    -d 'email=dave%40example.net&consent=yes' "$H/subscribe/news"
sed 's/dave@example.net/ADDRESS/g' "$T/body" > "$T/a.gone"
check "... byte for byte" cmp -s "$T/a.gone" "$T/a.new"
check "... and nothing is stored or sent" \
    [ -z "$(id_of dave@example.net)" -a "$(q "SELECT count(*) FROM outbox WHERE rcpt_to = 'dave@example.net'")" -eq 0 ]
req "carol confirms" 200 -X POST "$(link carol@example.net confirm)"

# --- 6. unsubscribing ----------------------------------------------------------
printf 'Hello {{subscriber.name}}.\n\nNews.\n' > "$T/body.md"
cli campaign new news --subject "Network news" --body "$T/body.md" >"$T/camp.out" 2>&1
CAMP=$(q "SELECT max(id) FROM campaigns")
cli campaign preview "$CAMP" --subscriber ann@example.net --eml "$T/ann.eml" >/dev/null 2>&1
UNSUB=$(grep -o "$H/unsubscribe/[A-Za-z0-9_-]*" "$T/ann.eml" | head -1)
PREFS=$(grep -o "$H/preferences/[A-Za-z0-9_-]*" "$T/ann.eml" | head -1)
MAILTO=$(grep -o 'unsubscribe+[A-Za-z0-9_-]*@' "$T/ann.eml" | head -1 | sed 's/^unsubscribe+//; s/@$//')
check "a newsletter for ann carries unsubscribe and preferences links" [ -n "$UNSUB" -a -n "$PREFS" ]

req "GET the unsubscribe link shows an Unsubscribe button" 200 "$UNSUB"
has '<form method="post">' && has '>Unsubscribe</button>'
check "... in a POST form" [ $? -eq 0 ]
check "... and no fresh preferences link (the link lasts a year and is forwarded)" \
    eval '! grep -q "/preferences/" "$T/body"'
check "... and changes nothing (still confirmed)" [ "$(status_of ann@example.net)" = confirmed ]
req "an unsubscribe POST with a malformed body: 400" 400 -d 'List-Unsubscribe=One%2' "$UNSUB"
check "... and she is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
req "a confirm token at /unsubscribe: 403" 403 -d 'List-Unsubscribe=One-Click' "$H/unsubscribe/$TOK"
req "an expired unsubscribe token: 403" 403 -d 'List-Unsubscribe=One-Click' \
    "$H/unsubscribe/$($TOKEN "$KEY" unsubscribe "$ANN" --db "$DB" --list news --expired)"
check "... and she is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
req "GET an expired unsubscribe link: 403" 403 \
    "$H/unsubscribe/$($TOKEN "$KEY" unsubscribe "$ANN" --db "$DB" --list news --expired)"
check "... says it has expired, and to write to the list's address instead" \
    eval 'has "This link has expired" && has "write to enquiries@example.org"'
check "... and shows no address and no preferences link" \
    eval '! grep -q "ann@example.net\|/preferences/" "$T/body"'
req "a retired (version 1) unsubscribe link: 403, as expired" 403 \
    "$H/unsubscribe/$($TOKEN "$KEY" unsubscribe "$ANN" --v1 --list news)"
check "... says it has expired" has "This link has expired"
check "... and she is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]

req "RFC 8058 one-click POST (urlencoded)" 200 -d 'List-Unsubscribe=One-Click' "$UNSUB"
check "... answers 200 text/plain, nothing to click" hdr "Content-Type: text/plain"
check "... and she is unsubscribed" [ "$(status_of ann@example.net)" = unsubscribed ]
check "... at a recorded time" [ "$(q "SELECT unsubscribed_at > 0 FROM memberships WHERE subscriber_id = $ANN")" = 1 ]
req "one-click again: still 200" 200 -d 'List-Unsubscribe=One-Click' "$UNSUB"
req "GET the unsubscribe link afterwards: you are not subscribed" 200 "$UNSUB"
check "... says so" has "You are not subscribed"

CAROL=$(id_of carol@example.net)
cli campaign preview "$CAMP" --subscriber carol@example.net --eml "$T/carol.eml" >/dev/null 2>&1
CUNSUB=$(grep -o "$H/unsubscribe/[A-Za-z0-9_-]*" "$T/carol.eml" | head -1)
printf -- '--BoUnDaRy\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--BoUnDaRy--\r\n' > "$T/mp"
req "RFC 8058 one-click POST (multipart/form-data)" 200 \
    -H 'Content-Type: multipart/form-data; boundary=BoUnDaRy' --data-binary @"$T/mp" "$CUNSUB"
check "... and carol is unsubscribed" [ "$(status_of carol@example.net)" = unsubscribed ]
check "... the audit log says one-click" \
    [ "$(q "SELECT count(*) FROM events WHERE kind = 'member.unsubscribed' AND subject = 'carol@example.net' AND detail LIKE '%one-click%'")" -eq 1 ]

# Coming back: a new request and a new link; the old link stays dead.
# (A link counts only if made after she left; times are in seconds.)
sleep 1
req "ann subscribes again" 200 -d 'email=ann%40example.net&consent=yes' "$H/subscribe/news"
check "... and is still unsubscribed until she confirms" [ "$(status_of ann@example.net)" = unsubscribed ]
req "her old confirm link (sent before she left): 403" 403 -X POST "$ANN_CONFIRM"
check "... says it is out of date" has "out of date"
check "... and a second confirmation email is queued the same day" \
    [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'confirm' AND rcpt_to = 'ann@example.net'")" -eq 2 ]
newlink() { NEWLINK=$(link ann@example.net confirm); [ -n "$NEWLINK" -a "$NEWLINK" != "$ANN_CONFIRM" ]; }
check "... and it is delivered, with a new link" wait_for 10 newlink
req "the link in the new email" 200 -X POST "$NEWLINK"
check "... brings her back: confirmed" [ "$(status_of ann@example.net)" = confirmed ]

# Links from before she subscribed again belong to the old subscription.
req "her old unsubscribe link (sent before she left and came back): 403" 403 -X POST "$UNSUB"
check "... says it is out of date" has "out of date"
req "... also as RFC 8058 one-click: 403" 403 -d 'List-Unsubscribe=One-Click' "$UNSUB"
check "... and she is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
if [ -n "$MAILTO" ]; then
	req "her old list-less (mailto) unsubscribe token: 403" 403 -d 'List-Unsubscribe=One-Click' "$H/unsubscribe/$MAILTO"
	check "... and she is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
fi
cli campaign preview "$CAMP" --subscriber ann@example.net --eml "$T/ann.eml" >/dev/null 2>&1
UNSUB=$(grep -o "$H/unsubscribe/[A-Za-z0-9_-]*" "$T/ann.eml" | head -1)
req "the unsubscribe page's own button (an empty POST)" 200 -X POST "$UNSUB"
check "... shows you have unsubscribed, with a way back" has "You have unsubscribed"
check "... and a link to subscribe again" has 'href="../subscribe/news"'
check "... and she is unsubscribed" [ "$(status_of ann@example.net)" = unsubscribed ]
q "UPDATE memberships SET status = 'confirmed' WHERE subscriber_id = $ANN"
# A newsletter made since she left (one from before would be out of date).
cli campaign preview "$CAMP" --subscriber ann@example.net --eml "$T/ann.eml" >/dev/null 2>&1
MAILTO=$(grep -o 'unsubscribe+[A-Za-z0-9_-]*@' "$T/ann.eml" | head -1 | sed 's/^unsubscribe+//; s/@$//')
if [ -n "$MAILTO" ]; then
	req "a list-less (mailto) unsubscribe token finds the campaign's list" 200 -d 'List-Unsubscribe=One-Click' "$H/unsubscribe/$MAILTO"
	check "... and unsubscribes her from news" [ "$(status_of ann@example.net)" = unsubscribed ]
else
	not_ok "the newsletter carries a mailto unsubscribe token"
fi
q "UPDATE memberships SET status = 'confirmed' WHERE subscriber_id = $ANN"

# --- 7. preferences -------------------------------------------------------------
q "INSERT INTO memberships (subscriber_id, list, status, mode, created_at, updated_at) VALUES ($ANN, 'training', 'confirmed', 'immediate', 0, 0)"
req "GET the preferences link" 200 "$PREFS"
has 'name="mode-news" value="digest"' && has 'name="mode-training" value="digest"' &&
    has 'name="leave-news"' && has 'one email a month' && has 'Analyst Network bulletin'
check "... offers immediate or digest and leaving for each list, and the other lists" [ $? -eq 0 ]
req "the confirmed page's preferences link works too" 200 "$H/$(cat "$T/prefpath")"
req "POST digest for news" 200 -d 'mode-news=digest&mode-training=immediate' "$PREFS"
check "... saves it" [ "$(q "SELECT mode FROM memberships WHERE subscriber_id = $ANN AND list = 'news'")" = digest ]
check "... and says so" has "Your choices have been saved"
req "POST a mode that is not offered: 400" 400 -d 'mode-news=hourly&mode-training=digest' "$PREFS"
check "... and nothing changed (news still digest, training immediate)" \
    [ "$(q "SELECT group_concat(mode, ' ') FROM (SELECT mode FROM memberships WHERE subscriber_id = $ANN AND list IN ('news', 'training') ORDER BY list)")" = "digest immediate" ]
req "POST with a bad encoding: 400" 400 -d 'mode-news=%FF' "$PREFS"
req "an unsubscribe token at /preferences: 403" 403 "$H/preferences/$UNSUB_AT_CONFIRM"
req "an expired preferences token: 403" 403 "$H/preferences/$($TOKEN "$KEY" preferences "$ANN" --db "$DB" --list news --expired)"
req "POST leave-training" 200 -d 'mode-news=digest&leave-training=yes' "$PREFS"
check "... unsubscribes her from training only" \
    [ "$(status_of ann@example.net training) $(status_of ann@example.net news)" = "unsubscribed confirmed" ]
req "preferences of a subscriber who is not there: 403" 403 \
    "$H/preferences/$($TOKEN "$KEY" preferences 999999 --expires $(( $(date +%s) + 600 )))"
check "... says it is not valid" has "not valid"

# --- 8. rate limits ---------------------------------------------------------------
i=0; codes=""
while [ $i -le $LIMIT ]; do
	i=$((i + 1))
	codes="$codes $(curl -s -o "$T/body" -D "$T/hdr" -w '%{http_code}' -H 'X-Forwarded-For: 203.0.113.7' \
	    -d "email=rate$i%40example.net&consent=yes" "$H/subscribe/news")"
done
check "one client gets $LIMIT subscribe requests an hour, then 429 (got$codes)" [ "$codes" = "$(printf ' 200%.0s' $(seq $LIMIT)) 429" ]
check "... with Retry-After" hdr "Retry-After: 3600"
check "... and the refused request stored nothing" [ -z "$(id_of rate$i@example.net)" ]
req "another client is not affected" 200 -d 'email=rate-other%40example.net&consent=yes' "$H/subscribe/news"
i=0; codes=""
while [ $i -le $LIMIT ]; do
	i=$((i + 1))
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 10.9.9.$i, 203.0.113.9" \
	    -d "email=xff$i%40example.net&consent=yes" "$H/subscribe/news")"
done
check "X-Forwarded-For: the last entry (the proxy's) counts, not the client's own (got$codes)" \
    [ "$codes" = "$(printf ' 200%.0s' $(seq $LIMIT)) 429" ]
i=0; codes=""
while [ $i -le $LIMIT ]; do
	i=$((i + 1))
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 2001:db8:1:2::$i" \
	    -d "email=six$i%40example.net&consent=yes" "$H/subscribe/news")"
done
check "IPv6 clients count by their /64 (got$codes)" [ "$codes" = "$(printf ' 200%.0s' $(seq $LIMIT)) 429" ]
i=0; codes=""
while [ $i -lt 7 ]; do
	i=$((i + 1))
	# In any case: one address, one person, one limit.
	case $i in 2|5) who=TARGET ;; 4) who=target ;; *) who=Target ;; esac
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 192.0.2.$i" \
	    -d "email=$who%40example.net&consent=yes" "$H/subscribe/news")"
done
check "one address asked for from 7 clients: the same 200 every time (got$codes)" [ "$codes" = " 200 200 200 200 200 200 200" ]
check "... but only 5 requests were acted on, whatever the case" \
    [ "$(q "SELECT count(*) FROM events WHERE kind = 'web.subscribe' AND lower(subject) = 'target@example.net'")" -eq 5 ]
check "... for one person" \
    [ "$(q "SELECT count(*) FROM subscribers WHERE lower(email) = 'target@example.net'")" -eq 1 ]
grep -q 'for one address; nothing sent' "$T/d.log"
check "... and the rest are logged (without the address)" [ $? -eq 0 ]
check "the counters are in rate_limits, addresses only as hashes" \
    [ "$(q "SELECT count(*) FROM rate_limits WHERE key LIKE 'web.ip:203.0.113.7'")" -eq 1 -a \
      "$(q "SELECT count(*) FROM rate_limits WHERE key LIKE 'web.addr:%'")" -gt 0 -a \
      "$(q "SELECT count(*) FROM rate_limits WHERE key LIKE '%@%' OR key LIKE '%example%'")" -eq 0 ]

# --- 9. SIGHUP: a changed list description shows at once -----------------------------
sed 's/New courses, dates and the prospectus./Courses for analysts, reloaded./' "$conf" > "$conf.new" && mv "$conf.new" "$conf"
kill -HUP $DPID
wait_for 5 grep -q 'configuration reloaded' "$T/d.log"
req "after SIGHUP the pages use the new configuration" 200 "$H/subscribe/training"
check "... (the new description is shown)" has "Courses for analysts, reloaded."

# --- 10. pages keep answering while a campaign is being sent ---------------------------
q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)
    INSERT INTO subscribers (email, name, created_at, updated_at)
    SELECT 'bulk' || i || '@example.com', 'Bulk ' || i, 0, 0 FROM n;
    INSERT INTO memberships (subscriber_id, list, status, mode, created_at, updated_at)
    SELECT id, 'news', 'confirmed', 'immediate', 0, 0 FROM subscribers WHERE email LIKE 'bulk%';
    UPDATE campaigns SET status = 'sending', started_at = strftime('%s') WHERE id = $CAMP;
    INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to, created_at, updated_at)
    SELECT 'campaign', $CAMP, id, 'bounces@example.org', email, strftime('%s'), strftime('%s')
    FROM subscribers WHERE email LIKE 'bulk%';"
sending() { [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'campaign' AND state = 'sent'")" -gt 0 ]; }
wait_for 20 sending
slow=0 bad=0 n=0
while [ $n -lt 20 ]; do
	n=$((n + 1))
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$H/subscribe/news")
	case $t in "200 "*) ;; *) bad=$((bad + 1)) ;; esac
	awk -v t="${t#* }" 'BEGIN { exit !(t > 2.0) }' && slow=$((slow + 1))
	t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "X-Forwarded-For: 192.0.2.$((100 + n))" \
	    -d "email=during$n%40example.net&consent=yes" "$H/subscribe/news")
	case $t in "200 "*) ;; *) bad=$((bad + 1)) ;; esac
	awk -v t="${t#* }" 'BEGIN { exit !(t > 2.0) }' && slow=$((slow + 1))
done
left=$(q "SELECT count(*) FROM outbox WHERE kind = 'campaign' AND state IN ('queued', 'sending', 'deferred')")
sent=$(q "SELECT count(*) FROM outbox WHERE kind = 'campaign' AND state = 'sent'")
diag "during the campaign: $sent sent, $left still to send after 40 requests"
check "40 page requests during a campaign all answered 200 within 2 s ($bad failed, $slow slow)" [ $bad -eq 0 -a $slow -eq 0 ]
check "... while it was still sending" [ "$left" -gt 0 ]
check "... and each POST was recorded" [ "$(q "SELECT count(*) FROM subscribers WHERE email LIKE 'during%'")" -eq 20 ]

# --- 10b. the archive: every newsletter's "read this online" link ---------------------
ARCH=$(grep -o "$H/archive/[0-9]*" "$T/ann.eml" | head -1)
check "ann's newsletter links to its page in the archive ($ARCH)" [ "$ARCH" = "$H/archive/$CAMP" ]
req "GET /archive/ID of a campaign being sent shows it" 200 "$H/archive/$CAMP"
has '<h1>Network news</h1>' && has 'Hello reader.' && has '<p>News.</p>' &&
    has "subscribe/news" && ! grep -q 'example\.net\|/unsubscribe/\|/preferences/' "$T/body"
check "... its subject and body, merge fields for \"reader\", no one's address or links" [ $? -eq 0 ]
req "HEAD /archive/ID" 200 -I "$H/archive/$CAMP"
cli campaign new news --subject "Not yet" --body "$T/body.md" >/dev/null 2>&1
DRAFT=$(q "SELECT max(id) FROM campaigns")
req "GET /archive/ID of a draft is 404" 404 "$H/archive/$DRAFT"
req "GET /archive/99999 is 404" 404 "$H/archive/99999"
req "GET /archive/abc is 404" 404 "$H/archive/abc"
req "GET /archive/0$CAMP is 404" 404 "$H/archive/0$CAMP"
req "POST /archive/ID is 405" 405 -d x=1 "$H/archive/$CAMP"
# A body with a "# title" of its own: that is the page's heading, and the
# subject is not printed as a second <h1> above it.
printf '# Our own title\n\nNews.\n' > "$T/titled.md"
cli campaign new news --subject "The subject" --body "$T/titled.md" >/dev/null 2>&1
TITLED=$(q "SELECT max(id) FROM campaigns")
q "UPDATE campaigns SET status = 'sent', started_at = strftime('%s') WHERE id = $TITLED"
req "GET /archive/ID of a body with its own title" 200 "$H/archive/$TITLED"
if [ "$(grep -c '<h1' "$T/body")" -eq 1 ] && has '<h1>Our own title</h1>'; then
	ok "... has one <h1>, the body's, not the subject"
else not_ok "... has one <h1>, the body's, not the subject"; diag "$(grep '<h1' "$T/body")"; fi
check "... and the subject is still the page's <title>" has '<title>The subject'

# --- 10c. a test copy's links: they change nothing, and show the draft ---------------------
cli campaign test "$DRAFT" --to ann@example.net >"$T/test.out" 2>&1
check "a test copy of the draft is queued for ann, a subscriber" grep -q "test copy queued" "$T/test.out"
testmail() { test -n "$(link ann@example.net test-unsubscribe)"; }
check "... and delivered, with a test copy's unsubscribe link" wait_for 15 testmail
TUNSUB=$(link ann@example.net test-unsubscribe)
TPREFS=$(link ann@example.net test-preferences)
TREAD=$(link ann@example.net test-copy)
TTOK=${TREAD##*/}
check "its links: /test-unsubscribe/, /test-preferences/, /test-copy/, one token ($TREAD)" \
    [ "$TUNSUB" = "$H/test-unsubscribe/$TTOK" -a "$TPREFS" = "$H/test-preferences/$TTOK" ]
check "ann is confirmed on news before" [ "$(status_of ann@example.net)" = confirmed ]
req "GET its unsubscribe link: a page that says it was a test copy" 200 "$TUNSUB"
has '<h1>This was a test copy</h1>' && has 'nothing has been changed' && has 'test-copy/'
check "... nothing changed, with a link to read it online" [ $? -eq 0 ]
req "RFC 8058 one-click POST on a test copy's link" 200 -d 'List-Unsubscribe=One-Click' "$TUNSUB"
check "... answers 200 text/plain as the RFC expects" hdr "Content-Type: text/plain"
check "... says nobody was unsubscribed" has "nobody has been unsubscribed"
check "... and ann is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
req "the same one-click as multipart" 200 \
    -H 'Content-Type: multipart/form-data; boundary=BoUnDaRy' --data-binary @"$T/mp" "$TUNSUB"
req "an empty POST (a button) on it: the page again" 200 -X POST "$TUNSUB"
check "... still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
req "a malformed POST body on it: 400" 400 -d 'List-Unsubscribe=One%2' "$TUNSUB"
req "GET its preferences link: the same explanation" 200 "$TPREFS"
check "... about preferences" has 'the preferences link only leads here'
before=$(q "SELECT group_concat(list || ' ' || status || ' ' || mode, ', ') FROM memberships WHERE subscriber_id = $ANN")
req "POST its preferences link changes nothing either" 200 -d 'mode-news=immediate&leave-news=yes' "$TPREFS"
check "... every membership as it was ($before)" \
    [ "$(q "SELECT group_concat(list || ' ' || status || ' ' || mode, ', ') FROM memberships WHERE subscriber_id = $ANN")" = "$before" ]
req "GET /test-copy/TOKEN shows the draft to whoever holds it" 200 "$TREAD"
has '<h1>Not yet</h1>' && has 'Hello reader.' && has 'Test copy.' && has 'It is a draft' &&
    ! grep -q 'example\.net\|/unsubscribe/\|/preferences/' "$T/body"
check "... its subject and body, marked a draft, nobody's address or links" [ $? -eq 0 ]
req "HEAD /test-copy/TOKEN" 200 -I "$TREAD"
req "POST /test-copy/TOKEN is 405" 405 -d x=1 "$TREAD"
req "the draft is still not in the archive" 404 "$H/archive/$DRAFT"
req "the test token at /unsubscribe/: 403" 403 -d 'List-Unsubscribe=One-Click' "$H/unsubscribe/$TTOK"
req "the test token at /preferences/: 403" 403 "$H/preferences/$TTOK"
check "... and ann is still confirmed" [ "$(status_of ann@example.net)" = confirmed ]
req "a real unsubscribe token at /test-copy/: 403 (it grants nothing else)" 403 "$H/test-copy/${UNSUB##*/}"
check "... says the link is not for this page" has "not for this page"
req "a damaged test token: 400" 400 "$H/test-copy/$(printf '%s' "$TTOK" | cut -c1-15)"
req "a test token signed with another key: 403" 403 \
    "$H/test-copy/$($TOKEN "$T/other.key" test-copy 0 --campaign "$DRAFT" --expires $(( $(date +%s) + 3600 )))"
check "... says it is not valid" has "not valid"
req "an expired test token: 403" 403 "$H/test-copy/$($TOKEN "$KEY" test-copy 0 --campaign "$DRAFT" --expired)"
check "... says plainly that test links last 30 days" has "work for 30 days"
req "an expired test token at its unsubscribe link: 403" 403 -d 'List-Unsubscribe=One-Click' \
    "$H/test-unsubscribe/$($TOKEN "$KEY" test-copy 0 --campaign "$DRAFT" --expired)"
req "a test token for a campaign that is gone: 404" 404 \
    "$H/test-copy/$($TOKEN "$KEY" test-copy 0 --campaign 99999 --expires $(( $(date +%s) + 3600 )))"
req "GET /test-copy/ is 404" 404 "$H/test-copy/"
req "PUT on a test link is 405" 405 -X PUT -d x=1 "$TUNSUB"

# --- 10d. links die with the person they name (issue 13, item 2) -----------------------
req "bob subscribes" 200 -d 'email=bob%40example.net&name=Bob&consent=yes' "$H/subscribe/news"
check "bob gets his confirmation email" wait_for 10 confirm_mail bob@example.net
BOB_CONFIRM=$(link bob@example.net confirm)
req "bob confirms" 200 -X POST "$BOB_CONFIRM"
BOB=$(id_of bob@example.net)
cli campaign preview "$CAMP" --subscriber bob@example.net --eml "$T/bob.eml" >/dev/null 2>&1
BUNSUB=$(grep -o "$H/unsubscribe/[A-Za-z0-9_-]*" "$T/bob.eml" | head -1)
BPREFS=$(grep -o "$H/preferences/[A-Za-z0-9_-]*" "$T/bob.eml" | head -1)
req "bob's preferences link works while he is here" 200 "$BPREFS"
cli subscriber forget bob@example.net >"$T/forget-bob.out" 2>&1
check "bob is forgotten" [ -z "$(id_of bob@example.net)" ]
req "eve subscribes" 200 -d 'email=eve%40example.net&name=Eve&consent=yes' "$H/subscribe/news"
check "eve gets her confirmation email" wait_for 10 confirm_mail eve@example.net
req "eve confirms" 200 -X POST "$(link eve@example.net confirm)"
EVE=$(id_of eve@example.net)
req "bob's old preferences link: 403" 403 "$BPREFS"
check "... says it is not valid" has "not valid"
req "bob's old unsubscribe link: 403" 403 "$BUNSUB"
req "... and as one-click: 403" 403 -d 'List-Unsubscribe=One-Click' "$BUNSUB"
# The worst case: another person's row under bob's id (ids were given
# again before schema version 6, or a backup was restored).  It has its
# own salt, so bob's links are still nobody's.
q "UPDATE subscribers SET id = $BOB WHERE id = $EVE; UPDATE memberships SET subscriber_id = $BOB WHERE subscriber_id = $EVE; UPDATE outbox SET subscriber_id = $BOB WHERE subscriber_id = $EVE"
req "bob's old preferences link, eve's row under his id: 403" 403 "$BPREFS"
check "... shows nothing of eve" eval '! grep -q "eve@example.net" "$T/body"'
req "bob's old unsubscribe link, eve's row under his id: 403" 403 "$BUNSUB"
check "... shows nothing of eve" eval '! grep -q "eve@example.net" "$T/body"'
req "... and as one-click: 403" 403 -d 'List-Unsubscribe=One-Click' "$BUNSUB"
req "bob's old confirm link: 403" 403 -X POST "$BOB_CONFIRM"
check "... and eve is still subscribed" [ "$(status_of eve@example.net)" = confirmed ]

# The same address, its row made again (as an unconfirmed sign-up is
# removed after web.pending_days and asked for again), under the same id.
req "fay subscribes" 200 -d 'email=fay%40example.net&consent=yes' "$H/subscribe/news"
check "fay gets her confirmation email" wait_for 10 confirm_mail fay@example.net
FAY_CONFIRM=$(link fay@example.net confirm)
FAY=$(id_of fay@example.net)
q "DELETE FROM outbox WHERE subscriber_id = $FAY; DELETE FROM memberships WHERE subscriber_id = $FAY; DELETE FROM subscribers WHERE id = $FAY"
req "fay subscribes again" 200 -d 'email=fay%40example.net&consent=yes' "$H/subscribe/news"
FAY2=$(id_of fay@example.net)
q "UPDATE subscribers SET id = $FAY WHERE id = $FAY2; UPDATE memberships SET subscriber_id = $FAY WHERE subscriber_id = $FAY2; UPDATE outbox SET subscriber_id = $FAY WHERE subscriber_id = $FAY2"
req "her link for the row that was removed: 403" 403 -X POST "$FAY_CONFIRM"
check "... and she is still pending" [ "$(status_of fay@example.net)" = pending ]

# --- 11. privacy: no address in any log line, no token either ---------------------------
grep -n 'example\.net\|%40' "$T/d.log" > "$T/leaks"
check "no subscriber address appears in postroomd's log" [ ! -s "$T/leaks" ]
[ -s "$T/leaks" ] && diag "$(head -5 "$T/leaks")"
grep -n "$TOK\|$TTOK" "$T/d.log" > "$T/leaks"
check "no token appears in postroomd's log" [ ! -s "$T/leaks" ]

kill -TERM $DPID
i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $DPID 2>/dev/null; then not_ok "SIGTERM stops postroomd and the web thread within 10 seconds"
else wait $DPID; rc=$?; check "SIGTERM stops postroomd and the web thread, status 0" [ "$rc" -eq 0 ]; fi
grep -q 'ERROR: AddressSanitizer\|runtime error' "$T/d.log"
check "no sanitizer reports from postroomd" [ $? -ne 0 ]
done_testing
