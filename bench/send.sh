#!/bin/sh
# bench/send.sh - how fast postroom delivers a newsletter, against a baseline.
#
# A personalised campaign (a Markdown newsletter rendered per subscriber
# through the newsletter templates: multipart/alternative, about 11 KB) to
# N subscribers, delivered by "postroomd --once" through Postfix's
# smtp-sink on loopback at smtp.concurrency 8; then, against the same sink,
# Postfix's smtp-source sends N messages of the same size over 8
# connections, each reused (-d), as postroom reuses its connections.
# Prints both rates, their ratio and postroomd's peak RSS:
#
#   send: postroom 4200 msg/s, smtp-source 5000 msg/s, ratio 0.84, peak RSS 18 MB
#
# and the CPU seconds postroomd, smtp-source and the sink used in each
# half (both sides share the machine's cores with the sink, so a ratio
# means little without them),
# then the same campaign to RSS_N subscribers (100,000), to show that
# postroomd's memory does not grow with the number of recipients.  Every
# number goes to standard output; postroomd's own log stays in the
# scratch directory.  It measures; it never passes or fails on timing.
#
# The subscribers, the campaign and its outbox rows are written straight
# into a fresh database with the sqlite3 command: what is measured is
# delivery (claim, render, send, write back), not importing.
#
#   N=20000 RSS_N=100000 CONCURRENCY=8 ROUNDS=3 BIN=bin sh bench/send.sh
#
# RSS_N=0 skips the large run.  The timed pair runs ROUNDS times (3) and
# a last line gives the ratios' range and median: on a shared machine one
# ratio alone can be off by half.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
N=${N:-20000}
RSS_N=${RSS_N:-100000}
CONC=${CONCURRENCY:-8}
ROUNDS=${ROUNDS:-3}
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

# The sink counts its sessions (-c): postroom must reuse its connections.
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if [ "$(id -u)" -eq 0 ]; then
	smtp-sink -c -u nobody "127.0.0.1:$port" 256 >"$T/sink.out" 2>&1 &
else
	smtp-sink -c "127.0.0.1:$port" 256 >"$T/sink.out" 2>&1 &
fi
sink=$!
sleep 0.5

# sink_cpu: the sink's user + system CPU so far, in clock ticks.
sink_cpu() {
	awk '{ print $14 + $15 }' "/proc/$sink/stat" 2>/dev/null || echo 0
}

# sessions: how many SMTP sessions the sink has seen so far.
sessions() {
	tr '\r' '\n' <"$T/sink.out" | sed -n 's/.*sess=\([0-9]*\).*/\1/p' |
	    tail -1
}

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
	rm -f "$T/$1.db" "$T/$1.db-wal" "$T/$1.db-shm"
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
	        strftime('%s'), strftime('%s') FROM subscribers;" || exit 1
}

# deliver DB N: postroomd --once on DB, timed; sets p_secs and p_rss (KB).
deliver() {
	opts "$1" "smtp://127.0.0.1:$port" >"$T/opts"
	# exec keeps postroomd the process that /usr/bin/time measures.
	/usr/bin/time -f '%e %M %U %S' -o "$T/time" sh -c 'IFS="
"; exec "$0" $(cat "$1") --once' "$BIN/postroomd" "$T/opts" \
	    2>"$T/postroomd.log"
	rc=$?
	sent=$(sqlite3 "$T/$1.db" \
	    "SELECT count(*) FROM outbox WHERE state = 'sent'")
	if [ "$rc" -ne 0 ] || [ "$sent" -ne "$2" ]; then
		echo "send: postroomd --once exited $rc with $sent of $2 sent:"
		tail -5 "$T/postroomd.log"
		exit 1
	fi
	read -r p_secs p_rss p_user p_sys <"$T/time"
}

# The size of one rendered message: render one into a Maildir.
fill one 1
run one "maildir:$T/md" postroomd --once 2>"$T/one.log" || {
	echo "send: rendering a sample failed:"; cat "$T/one.log"; exit 1; }
f=$(ls "$T/md/new" | head -1)
[ -n "$f" ] || { echo "send: no sample message rendered"; cat "$T/one.log"; exit 1; }
# Less the Return-Path and Delivered-To the maildir transport adds.
size=$(($(wc -c <"$T/md/new/$f") - $(head -2 "$T/md/new/$f" | wc -c)))
echo "send: $N messages of $(($size / 1024)).$((($size % 1024) * 10 / 1024)) KB," \
    "concurrency $CONC, Postfix smtp-sink on loopback"

r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	fill bench "$N"
	s0=$(sessions)
	k0=$(sink_cpu)
	deliver bench "$N"
	k1=$(sink_cpu)
	s1=$(sessions)

	t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S' -o "$T/stime" smtp-source -s "$CONC" \
	    -m "$N" -l "$size" -d -f news@example.org \
	    -t reader@example.net "127.0.0.1:$port" >"$T/source.out" 2>&1 || {
		echo "send: smtp-source failed:"; cat "$T/source.out"; exit 1; }
	t1=$(date +%s.%N)
	k2=$(sink_cpu)
	read -r s_user s_sys <"$T/stime"

	$PY - "$N" "$p_secs" "$p_rss" "$t0" "$t1" "${s0:-0}" "${s1:-0}" \
	    "$T/ratios" <<'PYEOF'
import sys
n = int(sys.argv[1])
p_secs, p_rss = float(sys.argv[2]), int(sys.argv[3])
s_secs = float(sys.argv[5]) - float(sys.argv[4])
conns = int(sys.argv[7]) - int(sys.argv[6])
p_rate, s_rate = n / p_secs, n / s_secs
print("send: postroom %.0f msg/s, smtp-source %.0f msg/s, ratio %.2f, "
      "peak RSS %.0f MB" % (p_rate, s_rate, p_rate / s_rate, p_rss / 1024))
open(sys.argv[8], "a").write("%.4f\n" % (p_rate / s_rate))
print("send: postroomd --once %.2f s over %d SMTP sessions, "
      "smtp-source %.2f s" % (p_secs, conns, s_secs))
PYEOF
	# Where the 2 cores went: this machine is shared by both sides and
	# the sink, so the CPU each used explains the ratio.
	$PY - "$p_user" "$p_sys" "$s_user" "$s_sys" "$k0" "$k1" "$k2" \
	    "$(getconf CLK_TCK)" <<'PYEOF'
import sys
pu, ps, su, ss = (float(x) for x in sys.argv[1:5])
k0, k1, k2, hz = (int(x) for x in sys.argv[5:9])
print("send: CPU seconds: postroomd %.2f (user %.2f, sys %.2f), smtp-source "
      "%.2f; smtp-sink %.2f while postroom sent, %.2f while smtp-source did"
      % (pu + ps, pu, ps, su + ss, (k1 - k0) / hz, (k2 - k1) / hz))
PYEOF
done
if [ "$ROUNDS" -gt 1 ]; then
	$PY - "$T/ratios" <<'PYEOF'
import statistics, sys
r = [float(l) for l in open(sys.argv[1])]
print("send: %d rounds: ratio %.2f to %.2f, median %.2f"
      % (len(r), min(r), max(r), statistics.median(r)))
PYEOF
fi

# Memory must not grow with the recipients: the same campaign, larger.
if [ "$RSS_N" -gt 0 ]; then
	small_rss=$p_rss
	fill big "$RSS_N"
	deliver big "$RSS_N"
	$PY - "$RSS_N" "$p_secs" "$p_rss" "$N" "$small_rss" <<'PYEOF'
import sys
n, secs, rss = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
small_n, small_rss = int(sys.argv[4]), int(sys.argv[5])
print("send: %d recipients: postroom %.0f msg/s, peak RSS %.0f MB "
      "(%.0f MB for %d)" % (n, n / secs, rss / 1024, small_rss / 1024,
      small_n))
PYEOF
fi
