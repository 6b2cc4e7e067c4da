#!/bin/sh
# Enquiry routing end to end, with real servers on 127.0.0.1: a private
# Dovecot (tests/tools/dovecot.sh) holds the public inbox, postroomd waits
# on it with IMAP IDLE, routes what is APPENDed, and its delivery thread
# sends the forward and the acknowledgement to a capturing SMTP server
# (tests/tools/smtp-sink.py); the message ends up in Routed.  Then the IMAP
# server is stopped and started under the daemon's feet, and it carries
# on.  Last, hostile and malformed mail through a Maildir: the daemon
# stays up and records every message; the poison ones (a non-ASCII
# Message-ID, a 300-octet local part, a 1 MB Subject) reach a lead.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
TOOLS="$POSTROOM_TOP/tests/tools"

if ! command -v dovecot >/dev/null 2>&1 || [ ! -x $PYTHON ]; then
	skip "dovecot or /usr/bin/python3 not installed"
	done_testing
	exit 0
fi
chmod 711 "$T"	# Dovecot's mail processes run as nobody when we are root

DV="$T/dovecot"
IMAP_PORT=$(free_port)
stop_dovecot() { sh "$TOOLS/dovecot.sh" stop "$DV" >/dev/null 2>&1; }
trap 'stop_dovecot; cleanup' EXIT INT TERM
sh "$TOOLS/dovecot.sh" start "$DV" "$IMAP_PORT" plain >"$T/dovecot.out" 2>&1
check "a private Dovecot starts on 127.0.0.1:$IMAP_PORT" [ $? -eq 0 ]

SINK="$T/sink"
mkdir -p "$SINK"
SINK_PORT=$(free_port)
$PYTHON "$TOOLS/smtp-sink.py" --port "$SINK_PORT" --dir "$SINK" \
    2>"$SINK/stderr" &
started $!
wait_for 10 test -f "$SINK/ready"
check "the SMTP sink is listening" [ $? -eq 0 ]

printf 'secret\n' > "$T/imap.pass"
chmod 600 "$T/imap.pass"
mkdir -p "$T/var"
set -- -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$T/var/p.db" \
    -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o inbound.source=imap -o inbound.imap_url="imap://127.0.0.1:$IMAP_PORT" \
    -o inbound.imap_user=test -o inbound.password_file="$T/imap.pass" \
    -o inbound.starttls=off -o inbound.routed_folder=Routed \
    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" -o smtp.starttls=off \
    -o web.listen="127.0.0.1:$(free_port)"

"$D" -f "$@" 2>"$T/d.log" &
pid=$!
started $pid
if wait_for 15 grep -q 'started' "$T/d.log"; then ok "postroomd starts on the IMAP inbox"
else not_ok "postroomd starts on the IMAP inbox"; diag "$(cat "$T/d.log")"; fi

sent() { [ "$(wc -l < "$SINK/log" 2>/dev/null || echo 0)" -ge "$1" ]; }

$PYTHON "$TOOLS/imaptool.py" "$IMAP_PORT" append INBOX "From: Aaliyah Hussain <aaliyah@nhs.example.net>
To: enquiries@example.org
Subject: Joining the Analyst Network huddles
Message-ID: <imap-1@nhs.example.net>
Date: Mon, 16 Nov 2026 09:00:00 +0000

I work in Derby and would like to join the Midlands Analyst Network
and come to its fortnightly huddles.
"
check "APPEND to the inbox" [ $? -eq 0 ]
if wait_for 20 sent 2; then ok "the forward and the acknowledgement reach the SMTP server"
else not_ok "the forward and the acknowledgement reach the SMTP server"; diag "$(cat "$T/d.log")"; fi
grep -q "	analyst-network@example.org	" "$SINK/log"
check "the forward went to the analyst network lead" [ $? -eq 0 ]
awk -F'\t' '$4 == "" && $5 == "aaliyah@nhs.example.net"' "$SINK/log" | grep -q .
check "the acknowledgement went to the enquirer from the null sender <>" [ $? -eq 0 ]
$PYTHON "$TOOLS/check-email.py" "$SINK"/msgs/*.eml >"$T/check.out" 2>&1
check "both messages are well-formed (Python email, default policy)" [ $? -eq 0 ]
routed() { [ "$($PYTHON "$TOOLS/imaptool.py" "$IMAP_PORT" count Routed)" = "$1" ]; }
check "the message was moved to Routed" wait_for 10 routed 1
check "... and the inbox is empty" [ "$($PYTHON "$TOOLS/imaptool.py" "$IMAP_PORT" count INBOX)" = 0 ]

# The server goes away under the daemon and comes back.
stop_dovecot
sh "$TOOLS/dovecot.sh" start "$DV" "$IMAP_PORT" plain >>"$T/dovecot.out" 2>&1
$PYTHON "$TOOLS/imaptool.py" "$IMAP_PORT" append INBOX "From: Sandeep Gill <sandeep@nhs.example.net>
To: enquiries@example.org
Subject: Setting up a Decision Support Unit in Birmingham and Solihull
Message-ID: <imap-2@nhs.example.net>

Birmingham and Solihull ICB is setting up a decision support unit and
would like advice from the West Midlands DSU development lead.
"
if wait_for 30 sent 4; then ok "after the IMAP server restarts, the daemon reconnects and routes new mail"
else not_ok "after the IMAP server restarts, the daemon reconnects and routes new mail"; diag "$(tail -20 "$T/d.log")"; fi
grep -q "	west-dsu@example.org	" "$SINK/log"
check "the second enquiry went to the West Midlands DSU lead" [ $? -eq 0 ]
check "both are in Routed" wait_for 10 routed 2
kill -0 $pid 2>/dev/null
check "the daemon is still running" [ $? -eq 0 ]
kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait $pid; rc=$?
check "SIGTERM stops it cleanly" [ "$rc" -eq 0 ]
n=$("$C" "$@" enquiry list --json 2>/dev/null | wc -l)
check "two enquiries are recorded" [ "$n" -eq 2 ]

# Hostile and malformed mail, through a Maildir, in one --once run.  Among
# them three forged delivery reports naming victim@, a subscriber: they
# are recorded and not held against her (three once marked her bounced).
"$C" "$@" subscriber add news victim@example.net --confirmed >/dev/null 2>&1
check "victim@ is a confirmed subscriber" "$C" "$@" subscriber show victim@example.net
M="$T/hostile"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
nh=0
for f in "$POSTROOM_TOP"/tests/data/hostile/*.eml; do
	cp "$f" "$M/new/$(basename "$f")"
	nh=$((nh + 1))
done
# A 30 MB attachment.
{
	printf 'From: big@example.net\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: a large attachment\r\nMessage-ID: <big@example.net>\r\n'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n'
	printf -- '--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n'
	printf -- '--b\r\nContent-Type: application/octet-stream; name=big.bin\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	head -c 22500000 /dev/zero | base64 -w 76 | sed 's/$/\r/'
	printf -- '--b--\r\n'
} > "$M/new/big.eml"
nh=$((nh + 1))
# A 1 MB Subject (issue 13, item 6): the acknowledgement could not be
# built, and the enquiry was retried for ever, reaching nobody.
{
	printf 'From: Max Long <max@nhs.example.net>\r\nTo: enquiries@example.org\r\n'
	printf 'Subject: '
	head -c 786432 /dev/zero | base64 -w 0 | tr '=' 'x' | sed 's/AAAAAAA/Aaaa bb /g'
	printf '\r\nMessage-ID: <big-subject@nhs.example.net>\r\n\r\nHello.\r\n'
} > "$M/new/subject-1mb.eml"
nh=$((nh + 1))
# Not messages: a link to the token key (never to be read and forwarded)
# and a FIFO (opening it for reading once waited for a writer forever).
ln -s "$T/var/secret.key" "$M/new/1700000000.link.hostile"
mkfifo "$M/new/1700000000.fifo.hostile"
timeout 300 "$D" --once "$@" -o inbound.source=maildir -o inbound.maildir="$M" \
    -o smtp.url="maildir:$T/out" 2>"$T/hostile.log"
rc=$?
check "a link and a FIFO in new/ are set aside in cur/, unread" \
    [ -L "$M/cur/1700000000.link.hostile:2,T" -a -p "$M/cur/1700000000.fifo.hostile:2,T" ]
check "... and logged as not regular files" [ "$(grep -c 'is not a regular file' "$T/hostile.log")" -eq 2 ]
check "postroomd --once over $nh hostile messages exits 0" [ "$rc" -eq 0 ]
left=$(ls "$M/new" | wc -l)
check "every hostile message was recorded and filed (none left in new/)" [ "$left" -eq 0 ]
if grep -q "not recorded" "$T/hostile.log"; then
	not_ok "no message failed to be recorded"; grep "not recorded" "$T/hostile.log" | sed 's/^/# /'
else ok "no message failed to be recorded"; fi
bad=$("$C" "$@" enquiry list --json 2>/dev/null | $PYTHON -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
print(sum(1 for r in rows if r["parse_status"] == "failed" and r["lead"] != "general"))')
check "every message the parser could not read went to general" [ "$bad" = 0 ]
"$C" "$@" subscriber show victim@example.net --json >"$T/victim.json" 2>&1
check "three forged delivery reports did not mark victim@ bounced" $PYTHON -c '
import json, sys
j = json.load(open(sys.argv[1]))
ms = j.get("memberships", [])
sys.exit(0 if ms and all(m["status"] == "confirmed" for m in ms) else 1)' "$T/victim.json"
check "... and each was logged as not acted on" [ "$(grep -c 'not matched to a message postroom sent' "$T/hostile.log")" -ge 3 ]
# The poison messages: each recorded, forwarded to a lead, and either
# acknowledged or recorded with why not; what was queued for them valid.
$PYTHON - "$T/var/p.db" "$T/poison" >"$T/poison.out" 2>&1 <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
os.makedirs(sys.argv[2], exist_ok=True)
bad = []
for mid in ["caf\u00e9-\u00fc\u00f1@nhs.example.net",
            "long-local@nhs.example.net", "big-subject@nhs.example.net"]:
    r = db.execute("SELECT id, reference, lead, ack FROM enquiries"
                   " WHERE message_id = ?", (mid,)).fetchone()
    if r is None:
        bad.append("%s: not recorded" % mid)
        continue
    eid, ref, lead, ack = r
    rows = db.execute("SELECT o.kind, o.state, b.body FROM outbox o JOIN"
                      " outbox_bodies b ON b.id = o.body_id"
                      " WHERE o.enquiry_id = ?", (eid,)).fetchall()
    fwd = [x for x in rows if x[0] == "forward"]
    acks = [x for x in rows if x[0] == "ack"]
    if not lead or not fwd or any(x[1] != "sent" for x in fwd):
        bad.append("%s: forwards %r to %r" % (ref, [x[1] for x in fwd], lead))
    if ack == "queued":
        if len(acks) != 1 or acks[0][1] != "sent":
            bad.append("%s: acknowledgement %r" % (ref, [x[1] for x in acks]))
        else:
            open(os.path.join(sys.argv[2], ref + ".eml"), "wb").write(acks[0][2])
    elif not ack or acks:
        bad.append("%s: no acknowledgement, but no reason (%r)" % (ref, ack))
    for x in rows:
        for line in bytes(x[2]).split(b"\n")[:-1]:
            if not line.endswith(b"\r") or len(line) > 999:
                bad.append("%s: %s: a bad line (%d octets)" % (ref, x[0], len(line)))
                break
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
if [ $? -eq 0 ]; then ok "the poison messages are recorded, forwarded, acknowledged or recorded why not"
else not_ok "the poison messages are recorded, forwarded, acknowledged or recorded why not"; sed 's/^/# /' "$T/poison.out"; fi
if ls "$T/poison"/*.eml >/dev/null 2>&1; then
	$PYTHON "$TOOLS/check-email.py" "$T/poison"/*.eml >"$T/poison-check.out" 2>&1
	check "... their acknowledgements are well-formed (two of them)" [ $? -eq 0 -a "$(ls "$T/poison" | wc -l)" -eq 2 ]
else not_ok "... their acknowledgements are well-formed"; fi
no_personal_data "no log line names an enquirer or holds an address" \
    "$T/d.log" Aaliyah Hussain
done_testing
