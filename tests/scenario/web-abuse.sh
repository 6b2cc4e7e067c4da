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

DEADLINE=4

opts() {
	set -- -c "$POSTROOM_TOP/config/postroom.conf" \
	    -o general.database="$DB" -o general.secret_file="$T/var/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o general.base_url="$H" -o web.listen="127.0.0.1:$PORT" \
	    -o web.subscribe_per_hour=0 -o web.confirmations_per_hour=$CAP \
	    -o web.request_timeout=$DEADLINE -o inbound.source=none \
	    -o smtp.url="maildir:$T/outbox" "$@"
	printf '%s\n' "$@"
}
cli() { (IFS='
'; exec "$POSTROOM_BIN/postroom" $(opts) "$@"); }
(IFS='
'; exec "$D" $(opts) -f) 2>"$T/d.log" &
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
TOK=$($PYTHON "$POSTROOM_TOP/tests/tools/web-token.py" "$T/var/secret.key" unsubscribe "$ID" --list news --db "$DB")
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

# --- 3. slow clients do not take the pages down -------------------------------------
# 200 connections send a request line, then one header byte a second (an
# idle timeout never fires); meanwhile a normal client GETs and POSTs.
# Bounds are generous (a shared, busy machine): the figures are printed.
cat > "$T/slow.py" <<'EOF'
import http.client, socket, sys, time
port, n, deadline = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /subscribe/news HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    s.setblocking(False)
    socks.append(s)
t0 = time.monotonic()
def alive():
    k = 0
    for i, s in enumerate(socks):
        if s is None:
            continue
        try:
            if s.recv(1) == b"":
                s.close(); socks[i] = None
                continue
        except BlockingIOError:
            pass
        except OSError:
            s.close(); socks[i] = None
            continue
        k += 1
    return k
def trickle():
    for i, s in enumerate(socks):
        if s is None:
            continue
        try:
            s.send(b"a")
        except OSError:
            s.close(); socks[i] = None
def normal(method, path, body=None):
    t = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    h = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    try:
        c.request(method, path, body=body, headers=h)
        st = c.getresponse().status
    except OSError as e:
        st = "error"
    return st, time.monotonic() - t
time.sleep(1.0); trickle()
held = alive()
g = normal("GET", "/subscribe/news")
p = normal("POST", "/subscribe/news", "email=slowtest%40example.net&consent=yes&website=")
held_after = alive()
print("held %d %d" % (held, held_after))
print("get %s %.3f" % g)
print("post %s %.3f" % p)
# Keep trickling: the deadline, not idleness, must end them.
end = t0 + deadline + 8
while time.monotonic() < end and alive() > 0:
    trickle(); time.sleep(1)
print("left %d after %.1f s" % (alive(), time.monotonic() - t0))
EOF
$PYTHON "$T/slow.py" "$PORT" 200 "$DEADLINE" > "$T/slow.out" 2>&1
diag "slow clients: $(tr '\n' ';' < "$T/slow.out")"
set -- $(grep '^held' "$T/slow.out")
[ "${2:-0}" -eq 200 ] && [ "${3:-0}" -ge 190 ]
check "200 slow connections are held open (before and after the normal requests)" [ $? -eq 0 ]
set -- $(grep '^get' "$T/slow.out")
check "while they are held, GET /subscribe/news answers 200 (within 5 s; took ${3:-?} s)" [ "${2:-}" = 200 ]
set -- $(grep '^post' "$T/slow.out")
check "... and a subscribe POST answers 200 (within 5 s; took ${3:-?} s)" [ "${2:-}" = 200 ]
check "the slow ones are cut off by web.request_timeout though they keep sending" \
    grep -q '^left 0 ' "$T/slow.out"
grep -q "connections closed: their request took over $DEADLINE s" "$T/d.log"
check "... and the log says so, a line per batch" [ $? -eq 0 ]

# --- 4. per-client limits count the X-Forwarded-For client, not the proxy ----------
# 60 subscribe POSTs at once (each held back WEB_SUBSCRIBE_ANSWER_MS) from
# one client behind the proxy: those over WEB_MAX_PER_IP (32) get 503;
# another client at the same moment is answered.
cat > "$T/burst.py" <<'EOF'
import http.client, sys, threading
port = int(sys.argv[1])
res, lock, go = [], threading.Lock(), threading.Barrier(61)
def one(ip):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.connect()
    go.wait()
    try:
        c.request("POST", "/subscribe/news", body="email=&website=",
                  headers={"X-Forwarded-For": ip,
                  "Content-Type": "application/x-www-form-urlencoded"})
        st = c.getresponse().status
    except OSError as e:
        st = "error"
    with lock:
        res.append((ip, st))
ts = [threading.Thread(target=one, args=("198.51.100.7",)) for i in range(60)]
for t in ts: t.start()
go.wait()
c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
c.request("GET", "/subscribe/news", headers={"X-Forwarded-For": "198.51.100.8"})
other = c.getresponse().status
for t in ts: t.join()
same = [s for ip, s in res]
print("same %d %d %d" % (same.count(400), same.count(503), len(same)))
print("other %d" % other)
EOF
$PYTHON "$T/burst.py" "$PORT" > "$T/burst.out" 2>&1
diag "burst: $(tr '\n' ';' < "$T/burst.out")"
set -- $(grep '^same' "$T/burst.out")
[ "${4:-0}" -eq 60 ] && [ "${3:-0}" -ge 1 ] && [ "${2:-0}" -ge 32 ] &&
    [ $((${2:-0} + ${3:-0})) -eq 60 ]
check "one X-Forwarded-For client's requests at once beyond 32 get 503, the rest are answered" [ $? -eq 0 ]
check "... and another client behind the same proxy is answered" grep -q '^other 200' "$T/burst.out"

# --- 5. the subscribe answer does not tell whether an address is known ------------
# Known and confirmed, suppressed, new: different work, one answer, never
# sooner than WEB_SUBSCRIBE_ANSWER_MS (300 ms) after the request came in:
# a lower bound, which a busy machine cannot break.
q "UPDATE memberships SET status = 'confirmed' WHERE subscriber_id = (SELECT id FROM subscribers WHERE email = 'own2@example.net')"
cli subscriber forget own3@example.net --suppress-anyway >"$T/forget.out" 2>&1 ||
    diag "forget: $(cat "$T/forget.out")"
cat > "$T/timing.py" <<'EOF'
import http.client, statistics, sys, time
port, rounds = int(sys.argv[1]), int(sys.argv[2])
def post(email, ip):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    t = time.monotonic()
    c.request("POST", "/subscribe/news", body="email=%s&consent=yes&website=" % email,
              headers={"X-Forwarded-For": ip,
                       "Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read()
    return r.status, time.monotonic() - t, body.replace(email.replace("%40", "@").encode(), b"EMAIL")
kinds = {"confirmed": lambda i: "own2%40example.net",
         "suppressed": lambda i: "own3%40example.net",
         "new": lambda i: "new%d%%40example.net" % i}
times, bodies = {k: [] for k in kinds}, {}
for i in range(rounds):
    for k, f in kinds.items():
        st, secs, body = post(f(i), "192.0.2.%d" % (i % 250 + 1))
        if st != 200:
            print("status %s %s" % (k, st))
        times[k].append(secs)
        bodies.setdefault(k, body)
for k in kinds:
    print("time %s min %.3f median %.3f max %.3f" % (k, min(times[k]),
          statistics.median(times[k]), max(times[k])))
print("same-page %d" % (len(set(bodies.values())) == 1))
EOF
$PYTHON "$T/timing.py" "$PORT" 10 > "$T/timing.out" 2>&1
diag "subscribe answer times (s): $(grep '^time' "$T/timing.out" | tr '\n' ';')"
check "every subscribe answer was 200" [ -z "$(grep -v '^time\|^same-page' "$T/timing.out")" ]
check "known, suppressed and new addresses get the same page" grep -q '^same-page 1' "$T/timing.out"
$PYTHON - "$T/timing.out" <<'EOF'
import sys
for line in open(sys.argv[1]):
    if line.startswith("time ") and float(line.split()[3]) < 0.3:
        sys.exit(1)
EOF
check "... none of them answered sooner than 300 ms after it came in" [ $? -eq 0 ]
check "the suppressed address got no confirmation email" \
    [ "$(q "SELECT count(*) FROM outbox WHERE kind = 'confirm' AND rcpt_to = 'own3@example.net'")" -eq 0 ]

kill -TERM $DPID
check "postroomd stops cleanly on SIGTERM" wait $DPID
! grep -q 'AddressSanitizer\|runtime error' "$T/d.log"
check "... with no sanitizer report" [ $? -eq 0 ]
done_testing
