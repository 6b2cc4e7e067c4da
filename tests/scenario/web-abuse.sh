#!/bin/sh
# The public pages under abuse, against a real postroomd: POSTs sent from
# another site's page are refused (Origin, or Referer without one) while
# our own forms, curl and RFC 8058 one-click still work; the global hourly
# cap on confirmation emails (web.confirmations_per_hour), logged once;
# 200 slow clients trickling their headers while a normal client's pages
# still answer, and cut off by web.request_timeout; the subscribe answer
# takes the same path and time whether or not the address is known.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"

for tool in curl sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "the $tool command is not installed (apt-get install $tool)"
		done_testing; exit 0
	fi
done

DB="$T/var/p.db"
mkdir -p "$T/var"
PORT=$(free_port)
H="http://127.0.0.1:$PORT"
CAP=6

(exec "$D" -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$DB" -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o general.base_url="$H" -o web.listen="127.0.0.1:$PORT" \
    -o web.subscribe_per_hour=0 -o web.confirmations_per_hour=$CAP \
    -o web.request_timeout=4 -o inbound.source=none \
    -o smtp.url="maildir:$T/outbox" -f) 2>"$T/d.log" &
DPID=$!
started $DPID
if wait_for 15 grep -q 'web: serving on' "$T/d.log"; then ok "postroomd serves the web pages"
else not_ok "postroomd serves the web pages"; diag "$(cat "$T/d.log")"; done_testing; exit 1; fi

q() { sqlite3 "$DB" "$1"; }
# req NAME STATUS CURL-ARGS...: one request, body in $T/body.
req() {
	_name=$1 _want=$2; shift 2
	_got=$(curl -sS --max-time 20 -o "$T/body" -w '%{http_code}' "$@" 2>"$T/curl.err")
	if [ "$_got" = "$_want" ]; then ok "$_name"
	else not_ok "$_name"; diag "got status $_got, want $_want"; diag "$(head -c 400 "$T/body")"; sed 's/^/# /' "$T/curl.err"; fi
}
has() { grep -q -- "$1" "$T/body"; }
pending() { q "SELECT count(*) FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.email = '$1'"; }
form() { printf 'email=%s&name=&consent=yes&website=' "$1"; }

# --- 1. cross-site POSTs --------------------------------------------------------
req "a POST from another site's page (Origin) is refused" 403 \
    -H "Origin: https://evil.example" -d "$(form x1%40example.net)" "$H/subscribe/news"
check "... saying why, and nobody is signed up" eval 'has "another site" && [ "$(pending x1@example.net)" -eq 0 ]'
req "Origin: null (a sandboxed page) is refused" 403 \
    -H "Origin: null" -d "$(form x2%40example.net)" "$H/subscribe/news"
req "without Origin, a foreign Referer is refused" 403 \
    -H "Referer: https://evil.example/page" -d "$(form x3%40example.net)" "$H/subscribe/news"
req "the same origin with another port is foreign" 403 \
    -H "Origin: http://127.0.0.1:1" -d "$(form x4%40example.net)" "$H/subscribe/news"
check "... none of them signed anyone up" [ "$(q "SELECT count(*) FROM subscribers")" -eq 0 ]
req "our own form (Origin is base_url's) is accepted" 200 \
    -H "Origin: $H" -d "$(form own1%40example.net)" "$H/subscribe/news"
check "... and signs up" [ "$(pending own1@example.net)" -eq 1 ]
req "Origin in other case is still ours" 200 \
    -H "Origin: HTTP://127.0.0.1:$PORT" -d "$(form own2%40example.net)" "$H/subscribe/news"
req "a Referer on our site, without Origin, is accepted" 200 \
    -H "Referer: $H/subscribe/news" -d "$(form own3%40example.net)" "$H/subscribe/news"
req "neither header (curl, scripts) is accepted" 200 \
    -d "$(form own4%40example.net)" "$H/subscribe/news"
grep -q 'sent from another site' "$T/d.log"
check "refusals are logged" [ $? -eq 0 ]
# A one-click POST from a mail provider may carry anything: the token is it.
ID=$(q "SELECT id FROM subscribers WHERE email = 'own1@example.net'")
TOK=$($PYTHON "$POSTROOM_TOP/tests/tools/web-token.py" "$T/var/secret.key" unsubscribe "$ID" --list news)
if [ -n "$TOK" ]; then
	req "RFC 8058 one-click with a foreign Origin still unsubscribes" 200 \
	    -H "Origin: https://mail.example" -d 'List-Unsubscribe=One-Click' "$H/unsubscribe/$TOK"
	check "... and did" [ "$(q "SELECT status FROM memberships WHERE subscriber_id = $ID")" = unsubscribed ]
	req "a foreign unsubscribe-page POST (not one-click) is refused" 403 \
	    -H "Origin: https://evil.example" -d 'x=1' "$H/unsubscribe/$TOK"
else
	not_ok "tests/tools/web-token.py made no token"
fi

# --- 2. the global hourly cap on confirmation emails ------------------------------
# Four went out above; CAP allows two more this hour, from any clients.
for i in 1 2 3 4 5; do
	req "sign-up c$i (its own client) gets the usual answer" 200 \
	    -H "X-Forwarded-For: 203.0.113.$i" -d "$(form c$i%40example.net)" "$H/subscribe/news"
	has "Check your inbox" || not_ok "... c$i: not the usual answer"
done
check "only $CAP confirmation emails were queued this hour" \
    [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'confirm'")" -eq $CAP ]
check "... c1 and c2 got theirs, c3 to c5 none" \
    [ "$(q "SELECT group_concat(s.email, ' ') FROM outbox o JOIN subscribers s ON s.id = o.subscriber_id WHERE o.kind = 'confirm' AND s.email LIKE 'c_@example.net' ORDER BY s.email")" = "c1@example.net c2@example.net" ]
check "the cap is logged once" [ "$(grep -c "confirmations_per_hour ($CAP) reached" "$T/d.log")" -eq 1 ]
done_testing
