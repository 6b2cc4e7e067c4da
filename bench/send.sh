#!/bin/sh
# bench/send.sh - how fast postroom delivers a newsletter, against a baseline.
#
# A personalised campaign (a Markdown newsletter rendered per subscriber
# through the newsletter templates: multipart/alternative, about 10 KB) to
# 20,000 subscribers, delivered by "postroomd --once" through Postfix's
# smtp-sink on loopback at smtp.concurrency 8; then, against the same sink,
# Postfix's smtp-source sends 20,000 messages of the same size over 8
# connections, each reused (-d), as postroom reuses its connections.
# Prints both rates, their ratio and postroomd's peak RSS.  It measures;
# it never passes or fails on timing.
#
# The subscribers, the campaign and its outbox rows are written straight
# into a fresh database with the sqlite3 command: what is measured is
# delivery (claim, render, send, write back), not importing.
#
#   N=20000 CONCURRENCY=8 BIN=bin sh bench/send.sh
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
N=${N:-20000}
CONC=${CONCURRENCY:-8}
BIN=${BIN:-$top/bin}
PY=/usr/bin/python3

for tool in smtp-sink smtp-source sqlite3; do
	if ! command -v $tool >/dev/null 2>&1 && [ ! -x /usr/sbin/$tool ]; then
		echo "send: $tool is not installed (Debian: postfix, sqlite3); skipped"
		exit 0
	fi
done
PATH=$PATH:/usr/sbin
if [ ! -x "$BIN/postroomd" ]; then
	echo "send: $BIN/postroomd is not built (make); skipped"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/postroom-bench.XXXXXX")
sink=""
trap '[ -n "$sink" ] && kill $sink 2>/dev/null; rm -rf "$T"' EXIT INT TERM

port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if [ "$(id -u)" -eq 0 ]; then
	smtp-sink -u nobody "127.0.0.1:$port" 256 & sink=$!
else
	smtp-sink "127.0.0.1:$port" 256 & sink=$!
fi
sleep 0.5

# postroom OPTIONS...: the settings every run shares, one per line.
opts() {
	printf '%s\n' -c "$top/config/postroom.conf" \
	    -o "general.database=$T/$1.db" \
	    -o "general.secret_file=$T/secret.key" \
	    -o "general.templates=$top/templates" \
	    -o "general.base_url=https://news.example.org" \
	    -o inbound.source=none -o smtp.starttls=off \
	    -o smtp.rate_per_second=0 -o "smtp.concurrency=$CONC" \
	    -o "smtp.url=$2"
}
run() {	# DB URL COMMAND [ARGS]
	db=$1 url=$2 cmd=$3; shift 3
	(IFS='
'; exec "$BIN/$cmd" $(opts "$db" "$url") "$@")
}

# A newsletter of about 10 KB once rendered: eight items with links.
$PY - "$T/body.md" <<'EOF'
import sys
para = ("The Midlands Decision Support Network brings analysts together: "
        "fortnightly huddles, the training programme, the evaluation guide "
        "and the knowledge and evidence service. ") * 2
items = ["## Item %d\n\n%s[Read more](https://example.org/news/%d)."
         % (i, para, i) for i in range(1, 9)]
open(sys.argv[1], "w").write("Dear {{subscriber.name}},\n\n"
                             + "\n\n".join(items) + "\n")
EOF

# fill DB N: subscribers, their memberships, one campaign sending, its rows.
fill() {
	run "$1" maildir:/nonexistent postroom queue status >/dev/null || exit 1
	sqlite3 "$T/$1.db" "
	    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	        WHERE i < $2)
	    INSERT INTO subscribers (id, email, name, created_at, updated_at)
	        SELECT i, 'reader' || i || '@example.net', 'Reader ' || i,
	        0, 0 FROM n;
	    INSERT INTO memberships (subscriber_id, list, status, consent_at,
	        consent_method, created_at, updated_at)
	        SELECT id, 'news', 'confirmed', 0, 'import', 0, 0
	        FROM subscribers;
	    INSERT INTO campaigns (id, list, subject, body, status, started_at,
	        created_at, updated_at) VALUES (1, 'news',
	        'Network news for {{subscriber.name}}',
	        CAST(readfile('$T/body.md') AS TEXT), 'sending', strftime('%s'),
	        0, 0);
	    INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from,
	        rcpt_to, created_at, updated_at)
	        SELECT 'campaign', 1, id, 'news@example.org', email,
	        strftime('%s'), strftime('%s') FROM subscribers;"
}

# The size of one rendered message: render one into a Maildir.
fill one 1
run one "maildir:$T/md" postroomd --once 2>"$T/one.log" || {
	echo "send: rendering a sample failed:"; cat "$T/one.log"; exit 1; }
f=$(ls "$T/md/new" | head -1)
[ -n "$f" ] || { echo "send: no sample message rendered"; cat "$T/one.log"; exit 1; }
# Less the Return-Path and Delivered-To the maildir transport adds.
size=$(($(wc -c <"$T/md/new/$f") - $(head -2 "$T/md/new/$f" | wc -c)))

fill bench "$N"
# Timed: exec keeps postroomd the process that /usr/bin/time measures.
opts bench "smtp://127.0.0.1:$port" >"$T/opts"
/usr/bin/time -f '%e %M' -o "$T/time" sh -c 'IFS="
"; exec "$0" $(cat "$1") --once' "$BIN/postroomd" "$T/opts" \
    2>"$T/postroomd.log"
rc=$?
sent=$(sqlite3 "$T/bench.db" "SELECT count(*) FROM outbox WHERE state = 'sent'")
if [ "$rc" -ne 0 ] || [ "$sent" -ne "$N" ]; then
	echo "send: postroomd --once exited $rc with $sent of $N sent:"
	tail -5 "$T/postroomd.log"
	exit 1
fi
read -r p_secs p_rss <"$T/time"

t0=$(date +%s.%N)
smtp-source -s "$CONC" -m "$N" -l "$size" -d -f news@example.org \
    -t reader@example.net "127.0.0.1:$port" || {
	echo "send: smtp-source failed"; exit 1; }
t1=$(date +%s.%N)

$PY - "$N" "$CONC" "$size" "$p_secs" "$p_rss" "$t0" "$t1" <<'PYEOF'
import sys
n, conc, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
p_secs, p_rss = float(sys.argv[4]), int(sys.argv[5])
s_secs = float(sys.argv[7]) - float(sys.argv[6])
p_rate, s_rate = n / p_secs, n / s_secs
print("messages: %d of %.1f KB, concurrency %d, Postfix smtp-sink on "
      "loopback" % (n, size / 1024, conc))
print("postroomd --once: %6.2f s %7.0f msg/s (rendered per subscriber)"
      % (p_secs, p_rate))
print("smtp-source -d:   %6.2f s %7.0f msg/s" % (s_secs, s_rate))
print("ratio postroom / smtp-source: %.2f" % (p_rate / s_rate))
print("postroomd peak RSS: %.1f MB" % (p_rss / 1024))
PYEOF
