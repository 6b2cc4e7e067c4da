#!/bin/sh
# bench/console.sh - how fast the staff console serves its pages on a
# large database, against baselines measured in the same run.  It
# measures; it never passes or fails on timing (issue 14, "Fast": each
# page under 100 ms at the median and a search under 50 ms, with 100,000
# subscribers and 10,000 enquiries).
#
# Two databases, each made by the CLI (so the schema is postroom's own)
# and then filled with the sqlite3 command in one transaction:
#   big    SUBS subscribers (names with accents) over the three lists,
#          mixed statuses and modes; ENQS enquiries over the nine leads
#          across the last year (some today); campaigns sent, paused,
#          scheduled, draft and cancelled, one sent to every subscriber
#          (SUBS outbox rows, about 1% failed, with bounces); the audit
#          events a year of web sign-ups leaves
#   small  one row of each, so that every page exists ("empty")
# Each is served by its own postroomd; staff accounts come from
# "postroom user add" and sign in through the login form with curl.
#
# Every console GET page is fetched ROUNDS times, the pages taking turns
# so that a burst of load elsewhere on this shared machine hits them all
# alike.  Per page: median and p90 of curl's time_total, the median as a
# ratio to /console.css from the same daemon (a static asset: the HTTP
# floor) and to the same page on the small database, and PASS or OVER
# against the budget (100 ms a page, 50 ms a search).  The table also
# goes to build/bench/console.txt.
#
#   SUBS=100000 ENQS=10000 ROUNDS=30 BIN=bin KEEP=0 sh bench/console.sh
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
SUBS=${SUBS:-100000}
ENQS=${ENQS:-10000}
ROUNDS=${ROUNDS:-30}
BIN=${BIN:-$top/bin}
OUT=${OUT:-$top/build/bench/console.txt}
PY=/usr/bin/python3
PW="a long bench password 1"

for tool in curl sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "console: $tool is not installed; skipped"
		exit 0
	fi
done
if [ ! -x "$BIN/postroomd" ] || [ ! -x "$BIN/postroom" ]; then
	echo "console: $BIN/postroomd is not built (make); skipped"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/postroom-bench-console.XXXXXX")
pids=""
# KEEP=1 keeps the scratch directory (its databases) for EXPLAIN.
trap 'for p in $pids; do kill $p 2>/dev/null; done;
    if [ "${KEEP:-0}" = 1 ]; then echo "console: kept $T"; else rm -rf "$T"; fi' \
    EXIT INT TERM
port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# opts DB CPORT: the settings both daemons and the CLI share, one a line.
opts() {
	printf '%s\n' -c "$top/config/postroom.conf" \
	    -o "general.database=$T/$1.db" \
	    -o "general.secret_file=$T/secret.key" \
	    -o "general.templates=$top/templates" \
	    -o "general.base_url=https://news.example.org" \
	    -o "web.listen=127.0.0.1:$3" \
	    -o "console.listen=127.0.0.1:$2" \
	    -o "console.base_url=http://127.0.0.1:$2" \
	    -o inbound.source=none -o "smtp.url=maildir:$T/sent"
}
run() {	# DB CPORT WPORT COMMAND [ARGS]
	db=$1 cp=$2 wp=$3 cmd=$4; shift 4
	(IFS='
'; exec "$BIN/$cmd" $(opts "$db" "$cp" "$wp") "$@")
}

# --- the databases --------------------------------------------------------
# users DB CPORT WPORT: the staff who sign in (this also makes the
# database, migrated by postroom itself).
users() {
	echo "$PW" | run "$1" "$2" "$3" postroom user add admin@example.org \
	    --name "Bench admin" --role admin >/dev/null &&
	echo "$PW" | run "$1" "$2" "$3" postroom user add west@example.org \
	    --name "West lead" --role lead --lead west_dsu >/dev/null || {
		echo "console: postroom user add failed"; exit 1; }
}

# fill DB SUBS ENQS: the fixture, in one transaction.  Deterministic
# (row numbers, not random()), so that runs compare; times are spread
# back from now.
fill() {
	sqlite3 "$T/$1.db" <<EOF || { echo "console: filling $1 failed"; exit 1; }
.bail on
BEGIN;
CREATE TEMP TABLE k (now INTEGER, subs INTEGER, enqs INTEGER);
INSERT INTO k VALUES (strftime('%s'), $2, $3);
CREATE TEMP TABLE first (slot INTEGER PRIMARY KEY, name TEXT, ascii TEXT);
INSERT INTO first (slot, name, ascii) SELECT key, value ->> 0, value ->> 1
    FROM json_each('[["Siân","sian"],["Zoë","zoe"],["José","jose"],
    ["Chloé","chloe"],["Renée","renee"],["Bronwen","bronwen"],
    ["Łukasz","lukasz"],["Agnieszka","agnieszka"],["Dafydd","dafydd"],
    ["Aoife","aoife"],["Seán","sean"],["Mohammed","mohammed"],
    ["Priya","priya"],["Oliver","oliver"],["Amelia","amelia"],
    ["Noémie","noemie"],["Jürgen","jurgen"],["Ifeoma","ifeoma"],
    ["Björn","bjorn"],["Grace","grace"]]');
CREATE TEMP TABLE last (slot INTEGER PRIMARY KEY, name TEXT, ascii TEXT);
INSERT INTO last (slot, name, ascii) SELECT key, value ->> 0, value ->> 1
    FROM json_each('[["Jones","jones"],["Müller","muller"],
    ["Núñez","nunez"],["O''Brien","obrien"],["Ødegaard","odegaard"],
    ["Kowalski","kowalski"],["Williams","williams"],["Patel","patel"],
    ["Brontë","bronte"],["Çelik","celik"],["Smith","smith"],
    ["Davies","davies"],["Khan","khan"],["Lefèvre","lefevre"],
    ["Hughes","hughes"],["García","garcia"],["Nowak","nowak"],
    ["Evans","evans"],["Ó Súilleabháin","osuilleabhain"],
    ["Thomas","thomas"],["Begum","begum"],["Dvořák","dvorak"],
    ["Roberts","roberts"],["Wright","wright"],["Ahmed","ahmed"]]');

-- Subscribers: 500 common names, and a rare one (Llŷr ap Siôn, one in
-- 4,001) that a search must read the whole table to find.
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < (SELECT subs FROM k))
INSERT INTO subscribers (id, email, name, created_at, updated_at,
    token_salt)
SELECT i,
    CASE WHEN i % 4001 = 0 THEN 'llyr.apsion.' || i || '@nhs.example.net'
    ELSE f.ascii || '.' || l.ascii || '.' || i || '@' ||
    CASE i % 4 WHEN 0 THEN 'nhs.example.net' WHEN 1 THEN 'example.ac.uk'
    WHEN 2 THEN 'council.example.gov.uk' ELSE 'example.com' END END,
    CASE WHEN i % 4001 = 0 THEN 'Llŷr ap Siôn'
    WHEN i % 50 = 7 THEN NULL ELSE f.name || ' ' || l.name END,
    (SELECT now FROM k) - (SELECT (subs - i) * 31536000 / subs FROM k),
    (SELECT now FROM k) - (SELECT (subs - i) * 31536000 / subs FROM k),
    randomblob(16)
FROM n JOIN first f ON f.slot = n.i % 20 JOIN last l ON l.slot = (n.i / 20) % 25;

-- Memberships: everyone on news, a third on analyst-network, a fifth on
-- training; mostly confirmed, some unsubscribed or bounced, and pending
-- only among the last 20 days' sign-ups (postroomd deletes older ones:
-- web.pending_days); one in seven in digest mode.
INSERT INTO memberships (subscriber_id, list, status, mode, consent_at,
    consent_method, consent_source, confirmed_at, unsubscribed_at,
    created_at, updated_at)
SELECT id, list,
    CASE WHEN id % 23 = 0 THEN 'unsubscribed' WHEN id % 3 = 0 AND
    created_at > (SELECT now FROM k) - 20 * 86400 THEN 'pending'
    WHEN id % 97 = 0 THEN 'bounced' ELSE 'confirmed' END,
    CASE WHEN id % 7 = 0 THEN 'digest' ELSE 'immediate' END,
    created_at, CASE id % 3 WHEN 0 THEN 'web' WHEN 1 THEN 'import'
    ELSE 'staff' END, CASE id % 3 WHEN 1 THEN 'members-2025.csv'
    ELSE NULL END, created_at + 600,
    CASE WHEN id % 23 = 0 THEN created_at + 86400 END,
    created_at, created_at
FROM subscribers, (SELECT 'news' AS list UNION ALL
    SELECT 'analyst-network' UNION ALL SELECT 'training') lists
WHERE list = 'news' OR (list = 'analyst-network' AND id % 3 = 0)
    OR (list = 'training' AND id % 5 = 0);

-- Campaigns: one sent to everyone on news, one to analyst-network, one
-- to training paused part way, older sent ones whose rows are gone, and
-- one each scheduled, draft and cancelled.
INSERT INTO campaigns (id, list, subject, body, status, scheduled_at,
    started_at, finished_at, paused_reason, created_by, created_at,
    updated_at)
SELECT i, CASE i % 3 WHEN 0 THEN 'news' WHEN 1 THEN 'analyst-network'
    ELSE 'training' END, 'Network news, issue ' || i,
    'Dear {{subscriber.name}},' || char(10) || char(10) ||
    'News from the Midlands Decision Support Network.', 'sent', NULL,
    (SELECT now FROM k) - (30 - i) * 86400 * 12,
    (SELECT now FROM k) - (30 - i) * 86400 * 12 + 3600, NULL,
    'cli:bench', (SELECT now FROM k) - (30 - i) * 86400 * 12,
    (SELECT now FROM k) - (30 - i) * 86400 * 12 + 3600
FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < 20) SELECT i FROM n);
INSERT INTO campaigns (id, list, subject, body, status, scheduled_at,
    started_at, finished_at, paused_reason, created_by, created_at,
    updated_at) VALUES
 (21, 'news', 'Spring news: the evaluation guide, huddles and courses',
  'Dear {{subscriber.name}},' || char(10) || char(10) || 'Spring news.',
  'sent', NULL, (SELECT now FROM k) - 86400 * 3,
  (SELECT now FROM k) - 86400 * 3 + 5400, NULL, 'user:1',
  (SELECT now FROM k) - 86400 * 4, (SELECT now FROM k) - 86400 * 3),
 (22, 'analyst-network', 'Huddle dates for the summer',
  'Dear {{subscriber.name}},' || char(10) || char(10) || 'Huddles.',
  'sent', NULL, (SELECT now FROM k) - 86400 * 2,
  (SELECT now FROM k) - 86400 * 2 + 1800, NULL, 'user:1',
  (SELECT now FROM k) - 86400 * 3, (SELECT now FROM k) - 86400 * 2),
 (23, 'training', 'New course dates: system dynamics',
  'Dear {{subscriber.name}},' || char(10) || char(10) || 'Courses.',
  'paused', NULL, (SELECT now FROM k) - 3600, NULL,
  'Too many failures: 50 of the last 100 messages were refused',
  'user:1', (SELECT now FROM k) - 7200, (SELECT now FROM k) - 600),
 (24, 'news', 'Summer news', 'Dear {{subscriber.name}},', 'scheduled',
  (SELECT now FROM k) + 86400 * 7, NULL, NULL, NULL, 'user:1',
  (SELECT now FROM k) - 3600, (SELECT now FROM k) - 3600),
 (25, 'training', 'Prospectus (draft)', 'Draft.', 'draft', NULL, NULL,
  NULL, NULL, 'user:1', (SELECT now FROM k) - 600,
  (SELECT now FROM k) - 600),
 (26, 'news', 'Cancelled: wrong date', 'Oops.', 'cancelled', NULL, NULL,
  (SELECT now FROM k) - 86400 * 20, NULL, 'user:1',
  (SELECT now FROM k) - 86400 * 21, (SELECT now FROM k) - 86400 * 20);

-- Their outbox rows: 21 to every subscriber (one in 97 refused, a few
-- skipped), 22 to analyst-network, 23 to training, 60% sent, the rest
-- waiting.
INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to,
    state, attempts, last_code, last_reply, created_at, updated_at,
    sent_at)
SELECT 'campaign', 21, id, 'news@example.org', email,
    CASE WHEN id % 97 = 0 THEN 'failed' WHEN id % 499 = 0 THEN 'skipped'
    ELSE 'sent' END, 1,
    CASE WHEN id % 97 = 0 THEN 550 ELSE 250 END,
    CASE WHEN id % 97 = 0 THEN '550 5.1.1 <' || email ||
    '>: Recipient address rejected: User unknown in virtual mailbox table'
    ELSE '250 2.0.0 Ok: queued' END,
    (SELECT now FROM k) - 86400 * 3, (SELECT now FROM k) - 86400 * 3,
    CASE WHEN id % 97 <> 0 AND id % 499 <> 0
    THEN (SELECT now FROM k) - 86400 * 3 END
FROM subscribers;
INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to,
    state, attempts, last_code, created_at, updated_at, sent_at)
SELECT 'campaign', 22, subscriber_id, 'analyst-network-bulletin@example.org',
    s.email, 'sent', 1, 250, (SELECT now FROM k) - 86400 * 2,
    (SELECT now FROM k) - 86400 * 2, (SELECT now FROM k) - 86400 * 2
FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id
WHERE m.list = 'analyst-network' AND m.status = 'confirmed';
INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to,
    state, attempts, last_code, last_reply, created_at, updated_at,
    sent_at)
SELECT 'campaign', 23, subscriber_id, 'training-news@example.org', s.email,
    CASE WHEN s.id / 5 % 10 < 6 THEN 'sent' WHEN s.id / 5 % 10 = 6
    THEN 'deferred' ELSE 'queued' END, s.id / 5 % 10 < 7,
    CASE WHEN s.id / 5 % 10 < 6 THEN 250 WHEN s.id / 5 % 10 = 6
    THEN 451 END,
    CASE WHEN s.id / 5 % 10 = 6 THEN '451 4.7.1 Try again later' END,
    (SELECT now FROM k) - 3600, (SELECT now FROM k) - 600,
    CASE WHEN s.id / 5 % 10 < 6 THEN (SELECT now FROM k) - 1800 END
FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id
WHERE m.list = 'training' AND m.status = 'confirmed';
UPDATE outbox SET next_attempt_at = (SELECT now FROM k) + 86400
    WHERE state = 'deferred';

INSERT INTO bounces (outbox_id, subscriber_id, recipient, kind, status,
    diagnostic, source, received_at, message_key)
SELECT id, subscriber_id, rcpt_to, 'hard', '5.1.1',
    'smtp; 550 5.1.1 User unknown', 'maildir', updated_at + 60,
    '<bounce-' || id || '@mx.example.net>'
FROM outbox WHERE state = 'failed';

-- Enquiries: over the nine leads, spread across the last year, one in
-- 500 today; one in ten from a subscriber; messages of 1.5 KB (as the
-- corpus's), one in 50 of 60 KB (an attachment).
CREATE TEMP TABLE subj (slot INTEGER PRIMARY KEY, s TEXT);
INSERT INTO subj (slot, s) SELECT key, value FROM json_each('[
    "Black Country DSU business case",
    "Joining the fortnightly huddles",
    "Booking the system dynamics course",
    "Evaluation guide: qualitative methods",
    "Evidence review request: falls prevention",
    "Leicester, Leicestershire and Rutland DSU hosting",
    "Replicating the regional frailty analysis",
    "Partnership with another region",
    "Question about the newsletter",
    "Café-style knowledge mobilisation session",
    "Présentation at the Analyst Network",
    "Population health management course dates"]');
CREATE TEMP TABLE leads (slot INTEGER PRIMARY KEY, k TEXT);
INSERT INTO leads (slot, k) SELECT key, value FROM json_each('["west_dsu",
    "east_dsu", "analytics_programme", "training", "analyst_network",
    "evaluation_network", "evidence_network", "programme", "general"]');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < (SELECT enqs FROM k)),
e AS (SELECT i, CASE WHEN i % 500 = 0 THEN (SELECT now FROM k) - i % 3600
    ELSE (SELECT now FROM k) - (i * 7919) % (365 * 86400) END AS t FROM n)
INSERT INTO enquiries (reference, message_id, content_hash, sender,
    sender_name, subject, lead, rule, score, reason, source, received_at,
    routed_at, raw, raw_size, parse_status, ack)
SELECT printf('ENQ-%s-%05d', strftime('%Y', e.t, 'unixepoch'), e.i),
    '<enq-' || e.i || '@nhs.example.net>', lower(hex(randomblob(32))),
    CASE WHEN e.i % 10 = 0 THEN (SELECT email FROM subscribers
    WHERE id = e.i * 7 % (SELECT subs FROM k) + 1)
    ELSE 'enquirer' || e.i || '@nhs.example.net' END,
    f.name || ' ' || l.name, sj.s || ' (' || e.i || ')', ld.k,
    'to-' || ld.k, 3.5, 'Matched "' || sj.s || '" for ' || ld.k, 'imap',
    e.t, e.t + 2,
    CAST('From: ' || f.ascii || '@nhs.example.net' || char(13, 10) ||
    'Subject: ' || sj.s || char(13, 10, 13, 10) ||
    printf('%.*c', CASE WHEN e.i % 50 = 0 THEN 60000 ELSE 1500 END, 'x')
    AS BLOB), CASE WHEN e.i % 50 = 0 THEN 60100 ELSE 1600 END, 'ok',
    'queued'
FROM e JOIN first f ON f.slot = e.i % 20 JOIN last l ON l.slot = (e.i / 7) % 25
    JOIN subj sj ON sj.slot = e.i % 12 JOIN leads ld ON ld.slot = e.i % 9;

-- The audit trail a year of this leaves: a web sign-up for one in four
-- subscribers, newsletters sent, staff signing in.
INSERT INTO events (at, kind, subject, detail, actor)
SELECT created_at, 'web.subscribe', email, 'news', NULL
FROM subscribers WHERE id % 4 = 0;
INSERT INTO events (at, kind, subject, detail, actor)
SELECT finished_at, 'campaign-sent', id, NULL, NULL FROM campaigns
WHERE status = 'sent';
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < 300)
INSERT INTO events (at, kind, subject, detail, actor)
SELECT (SELECT now FROM k) - i * 1800, 'user.signin', 'admin@example.org',
    NULL, 'user:1' FROM n;
COMMIT;
EOF
}

# The small database: one subscriber, campaign (with one row), enquiry.
small_fill() {
	sqlite3 "$T/small.db" <<EOF || { echo "console: filling small failed"; exit 1; }
.bail on
BEGIN;
INSERT INTO subscribers (id, email, name, created_at, updated_at,
    token_salt) VALUES (1, 'sian.jones.1@nhs.example.net', 'Siân Jones',
    strftime('%s') - 86400, strftime('%s') - 86400, randomblob(16));
INSERT INTO memberships (subscriber_id, list, status, consent_at,
    consent_method, confirmed_at, created_at, updated_at)
    VALUES (1, 'news', 'confirmed', 0, 'staff', 0, 0, 0);
INSERT INTO campaigns (id, list, subject, body, status, started_at,
    finished_at, created_at, updated_at) VALUES (21, 'news',
    'Spring news', 'Hello.', 'sent', strftime('%s') - 3600,
    strftime('%s') - 3000, 0, 0);
INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from, rcpt_to,
    state, last_code, last_reply, created_at, updated_at) VALUES
    ('campaign', 21, 1, 'news@example.org', 'sian.jones.1@nhs.example.net',
    'failed', 550, '550 5.1.1 User unknown', 0, 0);
INSERT INTO enquiries (reference, message_id, content_hash, sender,
    sender_name, subject, lead, received_at, routed_at)
    VALUES ('ENQ-2026-00010', '<one@nhs.example.net>', 'x',
    'enquirer10@nhs.example.net', 'Chloé Patel',
    'Black Country DSU business case', 'west_dsu', strftime('%s') - 60,
    strftime('%s') - 58);
COMMIT;
EOF
}

CB=$(port) WB=$(port) CS=$(port) WS=$(port)
t0=$(date +%s.%N)
users big "$CB" "$WB"
fill big "$SUBS" "$ENQS"
t1=$(date +%s.%N)
users small "$CS" "$WS"
small_fill
# What every page reads must be on disk in the WAL-free main file, as a
# database that has been running a while is.
for db in big small; do
	sqlite3 "$T/$db.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
done

# The pages: NAME|PATH|BUDGET-ms|USER.  The rare name is found by its
# accented and its unaccented spelling; the common one stops at the 100
# shown; an address; enquiry searches over many and over few.
REF=$(sqlite3 "$T/big.db" "SELECT reference FROM enquiries
    WHERE lead = 'west_dsu' ORDER BY received_at DESC LIMIT 1")
ADDR=$(sqlite3 "$T/big.db" "SELECT email FROM subscribers WHERE id = 4242")
SUB=$(sqlite3 "$T/big.db" "SELECT sender FROM enquiries
    WHERE sender NOT LIKE 'enquirer%' LIMIT 1")
SUBID=$(sqlite3 "$T/big.db" "SELECT id FROM subscribers
    WHERE email = '$SUB' COLLATE NOCASE")
SREF=ENQ-2026-00010
cat >"$T/pages" <<EOF
/login (signed out)|/login|100|-
/|/|100|admin
/ (as a lead)|/|100|west
/lists|/lists|100|admin
/campaigns|/campaigns|100|admin
/campaigns/21 (100,000 rows)|/campaigns/21|100|admin
/subscribers|/subscribers|100|admin
/subscribers?q=Llŷr (rare, accented)|/subscribers?q=Ll%C5%B7r|50|admin
/subscribers?q=LLYR (unaccented)|/subscribers?q=LLYR|50|admin
/subscribers?q=Siân (common)|/subscribers?q=Si%C3%A2n|50|admin
/subscribers?q=ADDRESS|/subscribers?q=$(printf %s "$ADDR" | sed 's/@/%40/')|50|admin
/subscribers/ID (busiest)|/subscribers/$SUBID|100|admin
/enquiries|/enquiries|100|admin
/enquiries (as a lead)|/enquiries|100|west
/enquiries?lead=west_dsu|/enquiries?lead=west_dsu|100|admin
/enquiries?q=black+country (many)|/enquiries?q=black+country|50|admin
/enquiries?q=ADDRESS (one)|/enquiries?q=enquirer4243%40nhs|50|admin
/enquiries?q=café (accented)|/enquiries?q=caf%C3%A9|50|admin
/enquiries?q=nothing matches|/enquiries?q=zzqx|50|admin
/enquiries/REF|/enquiries/REF|100|admin
/audit|/audit|100|admin
/users|/users|100|admin
EOF

# Every GET route of the console's table should be here: say which not.
sed -n '/console_routes\[\] = {/,/^};/p' src/console.c |
    sed -n 's/.*{ "\([^"]*\)", WEB_GET,.*/\1/p' | while read -r route; do
	re=$(printf '%s' "$route" | sed 's/\*/[^|?]*/')
	grep -q "|$re\(?[^|]*\)\?|" "$T/pages" ||
	    grep -q "|$(printf '%s' "$route" | sed 's/\*/REF/')|" "$T/pages" ||
	    echo "console: GET $route is in the route table but not timed here"
done

# serve DB CPORT WPORT: postroomd on DB, until the console answers.
serve() {
	(IFS='
'; exec "$BIN/postroomd" $(opts "$1" "$2" "$3") -f) 2>"$T/$1.log" &
	pids="$pids $!"
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$2/console.css"; do
		i=$((i + 1))
		if [ "$i" -gt 100 ]; then
			echo "console: postroomd on $1 did not start:"
			tail -5 "$T/$1.log"
			exit 1
		fi
		sleep 0.1
	done
}
# signin URL EMAIL JAR: the login form for its token, then the POST.
signin() {
	curl -sS -o "$T/login.html" -b "$3" -c "$3" "$1/login"
	csrf=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' \
	    "$T/login.html" | head -n 1)
	got=$(curl -sS -o /dev/null -w '%{http_code}' -b "$3" -c "$3" \
	    --data-urlencode "email=$2" --data-urlencode "password=$PW" \
	    --data-urlencode "csrf=$csrf" "$1/login")
	[ "$got" = 303 ] || { echo "console: signing in $2 got $got"; exit 1; }
}
serve big "$CB" "$WB"
serve small "$CS" "$WS"
# postroomd gives rows another program wrote (here: sqlite3) their search
# keys at start (store-schema.c, version 11), as it would have long since
# on a database in use: wait for that, not to time searches without.
for db in big small; do
	i=0
	while n=$(sqlite3 "$T/$db.db" "SELECT (SELECT count(*) FROM subscribers
	    WHERE search_name IS NULL) + (SELECT count(*) FROM enquiries
	    WHERE search_sender IS NULL)" 2>/dev/null) && [ "$n" != 0 ]; do
		i=$((i + 1))
		if [ "$i" -gt 600 ]; then
			echo "console: $db: $n rows still without search keys"
			break
		fi
		sleep 0.2
	done
done
for side in big small; do
	if [ $side = big ]; then u="http://127.0.0.1:$CB"; else u="http://127.0.0.1:$CS"; fi
	signin "$u" admin@example.org "$T/$side.admin"
	signin "$u" west@example.org "$T/$side.west"
done

# One curl per page and round; the order of pages turns each round.
# Lines: SIDE PAGE-NUMBER STATUS SECONDS.
: >"$T/times"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	for side in big small; do
		if [ $side = big ]; then u="http://127.0.0.1:$CB" ref=$REF
		else u="http://127.0.0.1:$CS" ref=$SREF; fi
		printf '%s 0 ' $side >>"$T/times"
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
		    "$u/console.css" >>"$T/times"
		n=0
		while IFS='|' read -r name path budget who; do
			n=$((n + 1))
			path=$(printf '%s' "$path" | sed "s|REF|$ref|")
			[ "$side" = small ] && path=$(printf '%s' "$path" |
			    sed "s|^/subscribers/[0-9]*$|/subscribers/1|")
			jar=/dev/null
			[ "$who" != - ] && jar="$T/$side.$who"
			printf '%s %d ' $side $n >>"$T/times"
			curl -s -o /dev/null -b "$jar" \
			    -w '%{http_code} %{time_total}\n' \
			    "$u$path" >>"$T/times"
		done <"$T/pages"
	done
done

# The database's size and rows, and the table.
sqlite3 "$T/big.db" "SELECT
    (SELECT count(*) FROM subscribers), (SELECT count(*) FROM memberships),
    (SELECT count(*) FROM enquiries), (SELECT count(*) FROM campaigns),
    (SELECT count(*) FROM outbox), (SELECT count(*) FROM events),
    (SELECT count(*) FROM bounces)" | tr '|' ' ' >"$T/counts"
mkdir -p "$(dirname "$OUT")"
$PY - "$T/pages" "$T/times" "$T/counts" "$T/big.db" "$ROUNDS" "$t0" "$t1" \
    <<'PYEOF' | tee "$OUT"
import os, statistics, sys
pages = [l.rstrip("\n").split("|") for l in open(sys.argv[1]) if l.strip()]
t = {}
bad = []
for l in open(sys.argv[2]):
    side, n, code, secs = l.split()
    n = int(n)
    if code != "200":
        bad.append((side, n, code))
    t.setdefault((side, n), []).append(float(secs) * 1000)
subs, mem, enq, camp, outbox, ev, bnc = open(sys.argv[3]).read().split()
size = os.path.getsize(sys.argv[4])
rounds = int(sys.argv[5])
fill_secs = float(sys.argv[7]) - float(sys.argv[6])
try:
    load = open("/proc/loadavg").read().split()[:3]
except OSError:
    load = ["?"] * 3
cpu = "?"
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        cpu = l.split(":", 1)[1].strip()
        break

def p90(v):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(0.9 * (len(v) - 1))))]

print("console: database %.1f MB: %s subscribers (%s memberships), "
      "%s enquiries, %s campaigns, %s outbox rows, %s events, %s bounces "
      "(filled in %.1f s)" % (size / 1e6, subs, mem, enq, camp, outbox,
      ev, bnc, fill_secs))
print("console: %d pages, %d requests each, one at a time; %d CPUs (%s), "
      "load average %s" % (len(pages), rounds, os.cpu_count(), cpu,
      " ".join(load)))
css = statistics.median(t[("big", 0)])
css_small = statistics.median(t[("small", 0)])
print("console: baselines: /console.css median %.2f ms (small database: "
      "%.2f ms); \"empty\" is the same page on a database of one row each"
      % (css, css_small))
print()
w = max(len(p[0]) for p in pages)
print("%-*s %8s %8s %8s %8s %8s  %s" % (w, "page", "median", "p90",
      "x css", "empty", "x empty", "budget"))
over = 0
for i, (name, path, budget, who) in enumerate(pages, 1):
    big, small = t[("big", i)], t[("small", i)]
    m, ms = statistics.median(big), statistics.median(small)
    verdict = "PASS" if m < float(budget) else "OVER"
    over += verdict == "OVER"
    print("%-*s %5.1f ms %5.1f ms %8.1f %5.1f ms %8.1f  %s (%s ms)" % (w,
          name, m, p90(big), m / css, ms, m / ms, verdict, budget))
print()
print("console: %d of %d pages over budget" % (over, len(pages)))
for side, n, code in sorted(set(bad)):
    print("console: %s database: %s answered %s, not 200: its times "
          "do not count" % (side, pages[n - 1][0] if n else "/console.css",
          code))
PYEOF
