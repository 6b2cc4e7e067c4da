#!/bin/sh
# Large messages never stop delivery (issue 13, item 5).  Two enquiries of
# 50 MB and thirty small ones arrive in a Maildir; postroomd --once records
# them, queues their forwards and acknowledgements, and delivers all of it
# to tests/tools/smtp-sink.py (aiosmtpd) with smtp.rate_per_second = 0 (so
# rows are claimed ahead) over two connections:
#
#   - everything is delivered, once, within a generous bound (the engine
#     once rewrote each 50 MB message at every claim and give-back, every
#     cycle outlasted the one-second give-back, and nothing was sent);
#   - the big forwards arrive whole;
#   - a raw message is stored in the outbox once however many addresses
#     its lead has: the evaluation network's two rows share one body;
#   - when the rows are gone, so are their bodies.
#
# The 50 MB messages are made here, in the test's temporary directory.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"

needs aiosmtpd sqlite3

# Generous: on this machine, under ASan, it takes well under a minute.
BOUND=${LARGE_BOUND:-240}

SINK="$T/sink"
mkdir -p "$SINK" "$T/var"
SINK_PORT=$(free_port)
$PYTHON "$POSTROOM_TOP/tests/tools/smtp-sink.py" --port "$SINK_PORT" \
    --dir "$SINK" 2>"$SINK/stderr" &
started $!
check "the SMTP sink is listening" wait_for 10 test -f "$SINK/ready"

M="$T/inbox"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
# big N SUBJECT: a 50 MB enquiry (a base64 attachment) from big-N@.
big() {
	{
		printf 'From: Big %s <big-%s@nhs.example.net>\r\n' "$1" "$1"
		printf 'To: enquiries@example.org\r\nSubject: %s\r\n' "$2"
		printf 'Message-ID: <big-%s@nhs.example.net>\r\n' "$1"
		printf 'MIME-Version: 1.0\r\n'
		printf 'Content-Type: multipart/mixed; boundary=b\r\n\r\n'
		printf -- '--b\r\nContent-Type: text/plain\r\n\r\n%s\r\n' "$2"
		printf -- '--b\r\nContent-Type: application/octet-stream;'
		printf ' name=data.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n'
		head -c 36900000 /dev/urandom | base64 -w 76 | sed 's/$/\r/'
		printf -- '--b--\r\n'
	} > "$M/new/170000000$1.big$1.large"
}
big 1 "Where can I download the evaluation guide?"
big 2 "Joining the analyst network huddles"
for i in $(seq 1 30); do
	printf 'From: Person %s <small-%s@nhs.example.net>\r\nTo: enquiries@example.org\r\nSubject: Question %s\r\nMessage-ID: <small-%s@nhs.example.net>\r\n\r\nI would like to book a place on a training course, number %s.\r\n' \
	    "$i" "$i" "$i" "$i" "$i" > "$M/new/17000001$(printf %02d "$i").small$i.large"
done
size=$(wc -c < "$M/new/1700000001.big1.large")
check "the big enquiries are 50 MB each (got $size bytes)" [ "$size" -ge 50000000 -a "$size" -le 52428800 ]

start=$(date +%s)
timeout "$BOUND" "$D" --once -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$T/var/p.db" \
    -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o inbound.source=maildir -o inbound.maildir="$M" \
    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" -o smtp.starttls=off \
    -o smtp.rate_per_second=0 -o smtp.concurrency=2 \
    -o web.listen="127.0.0.1:$(free_port)" 2>"$T/once.log"
rc=$?
took=$(($(date +%s) - start))
diag "postroomd --once took ${took}s (bound ${BOUND}s)"
check "postroomd --once finished within ${BOUND}s, status 0 (got $rc after ${took}s)" [ "$rc" -eq 0 ]

q() { sqlite3 "$T/var/p.db" "$1"; }
check "32 enquiries recorded" [ "$(q "SELECT count(*) FROM enquiries")" = 32 ]
rows=$(q "SELECT count(*) FROM outbox")
sent=$(q "SELECT count(*) FROM outbox WHERE state = 'sent'")
check "every outbox row is sent ($sent of $rows)" [ "$rows" -ge 64 -a "$sent" = "$rows" ]
got=$(wc -l < "$SINK/log")
check "the sink got each message once ($got for $rows rows)" [ "$got" = "$rows" ]
acks=$(awk -F'\t' '$4 == ""' "$SINK/log" | cut -f5 | sort -u | wc -l)
check "... 32 acknowledgements among them, one to each enquirer" [ "$acks" = 32 ]

# The big forwards arrived whole: the original inside, byte for byte.
bigfwd=$(awk -F'\t' '$4 != "" && ($5 ~ /^evaluation-lead/ || $5 ~ /^analyst-network/)' "$SINK/log" | wc -l)
check "the 50 MB forwards went to the evaluation leads (2) and the analyst network (1)" [ "$bigfwd" -ge 3 ]
whole=0
for f in $(awk -F'\t' '$5 ~ /^evaluation-lead|^analyst-network/ { print $6 }' "$SINK/log"); do
	$PYTHON - "$SINK/msgs/$f" "$M"/cur/*big* <<'EOF' && whole=$((whole + 1))
import sys
fwd = open(sys.argv[1], "rb").read()
sys.exit(0 if any(open(f, "rb").read() in fwd for f in sys.argv[2:]) else 1)
EOF
done
check "each big forward carries its original whole ($whole of $bigfwd)" [ "$bigfwd" -ge 3 -a "$whole" = "$bigfwd" ]

# Stored once: the evaluation network's two forward rows share one body.
check "one body per 50 MB forward, shared by the lead's addresses" \
    [ "$(q "SELECT count(*) FROM outbox_bodies WHERE length(body) > 50000000")" = 2 ]
check "... the evaluation network's two rows point at the same body" \
    [ "$(q "SELECT count(*) || '/' || count(DISTINCT body_id) FROM outbox WHERE kind = 'forward' AND rcpt_to LIKE 'evaluation-lead-%'")" = "2/1" ]
q "DELETE FROM outbox"
check "rows gone, bodies gone" [ "$(q "SELECT count(*) FROM outbox_bodies")" = 0 ]
no_personal_data "no log line holds an address" "$T/once.log"
done_testing
