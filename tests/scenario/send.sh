#!/bin/sh
# Sending a campaign for real: "postroom campaign send|test|status|pause|
# resume|cancel|retry-failed|failures" against postroomd and
# tests/tools/smtp-sink.py (aiosmtpd) on loopback.
#
#   - 2,000 confirmed subscribers imported from a CSV, plus members in
#     digest mode, unsubscribed, forgotten and pending: one outbox row per
#     immediate confirmed member, queued at once; postroomd -f sends it
#     while "send --wait" (not a terminal) prints plain progress lines
#     and returns 0 when it is sent;
#   - every such member got exactly one message, nobody else any; each is
#     personal: its To, its subject, an unsubscribe token (checked with
#     the key, independently of the C) that names that subscriber, list
#     and campaign; a sample passes tests/tools/check-email.py;
#   - someone unsubscribed or forgotten after the send is skipped and
#     counted; status [--json] gives the counts, times and rate;
#   - "campaign test --to" delivers one "[TEST]" copy and leaves a draft;
#   - pause before the daemon runs: nothing sent; resume: sent; 550s are
#     failures listed with the server's reply; retry-failed queues them
#     again and the campaign goes back to sending, then sent;
#   - cancel: nothing more sent, the queued rows counted; illegal moves
#     exit 65; --wait returns 1 when the campaign is paused under it and
#     2 when it is cancelled;
#   - --at: a future time (two years from the real date) stays scheduled
#     through a --once run (in GMT and BST: the time is Europe/London's);
#     one whose time comes is started by the scheduler; a time that has
#     passed is refused (65, with the local time now), nothing queued;
#   - a send is never a surprise: on a terminal (a pseudo-terminal) send
#     asks 'Send "SUBJECT" to N people on LIST now? [y/N]', says when no
#     test copy was sent since the last edit, and queues nothing on N;
#     with standard input not a terminal it needs --yes (64 without,
#     nothing queued);
#   - unschedule (a draft again, its rows gone, counts at zero), edit of
#     a scheduled campaign refused, send --now of a scheduled one (asks
#     again), delete of a draft, copy of a sent campaign;
#   - retry-failed re-queues only temporary failures (a 451 given up
#     after smtp.max_retry_age); 550s stay failed unless
#     --include-permanent, and it says how many of each.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
P="$POSTROOM_BIN/postroom"
CHECK="$POSTROOM_TOP/tests/tools/check-email.py"
PTY="$POSTROOM_TOP/tests/tools/pty-answer.py"

needs aiosmtpd sqlite3

DB="$T/var/p.db"
KEY="$T/var/secret.key"
WEB_PORT=$(free_port)
mkdir -p "$T/var"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"

SINK_DIR="$T/sink"
mkdir -p "$SINK_DIR"
SINK_PORT=$(free_port)
$PYTHON "$POSTROOM_TOP/tests/tools/smtp-sink.py" --port "$SINK_PORT" \
    --dir "$SINK_DIR" 2>"$SINK_DIR/stderr" &
started $!
if wait_for 10 test -f "$SINK_DIR/ready"; then ok "the sink listens on 127.0.0.1:$SINK_PORT"
else not_ok "the sink listens"; diag "$(cat "$SINK_DIR/stderr")"; done_testing; exit 1; fi

# The options every command shares.
opts() {
	set -- -c "$conf" -o general.database="$DB" \
	    -o general.secret_file="$KEY" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o inbound.source=none -o smtp.starttls=off \
	    -o web.listen="127.0.0.1:$WEB_PORT" \
	    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" \
	    -o smtp.rate_per_second=0 -o smtp.concurrency=8 "$@"
	printf '%s\n' "$@"
}
# p ARGS...: postroom with opts; stdout in $T/out, stderr in $T/err, $rc.
# Standard input is never a terminal here (send then needs --yes).
p() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$P" $(opts) "$@") >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}
# ask ANSWER ARGS...: postroom on a pseudo-terminal, answering its
# question; what the terminal showed in $T/tty, $rc.
ask() {
	_answer=$1; shift
	# shellcheck disable=SC2046
	(IFS='
'; exec $PYTHON "$PTY" "$_answer" "$P" $(opts) "$@") >"$T/tty" 2>&1 </dev/null
	rc=$?
}
run_once() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$D" $(opts) --once) 2>>"$T/once.log"
}
q() { sqlite3 "$DB" "$1"; }
# expect NAME WANT: the last p exited WANT.
expect() {
	if [ "$rc" -eq "$2" ]; then ok "$1"
	else not_ok "$1"; diag "got exit $rc, want $2"
		diag "stdout: $(head -c 400 "$T/out")"
		diag "stderr: $(head -c 400 "$T/err")"; fi
}
# has NAME FILE TEXT: FILE holds TEXT.
has() {
	if grep -qF -- "$3" "$2"; then ok "$1"
	else not_ok "$1"; diag "no \"$3\" in: $(head -c 600 "$2")"; fi
}
# json ID EXPR: evaluate a Python expression over "status ID --json" (j).
json() {
	p campaign status "$1" --json
	$PYTHON -c 'import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$2"
}
# got PREFIX: messages at the sink for PREFIX<digits>@example.net.
got() { grep -c "	$1[0-9]*@example.net	" "$SINK_DIR/log"; }
status_of() { q "SELECT status FROM campaigns WHERE id = $1"; }
# new_campaign LIST SUBJECT: a draft; its id in $cid.
new_campaign() {
	printf 'Dear {{subscriber.name}},\n\nNews for **{{list.name}}**.\n' >"$T/body.md"
	p campaign new "$1" --subject "$2" --body "$T/body.md"
	cid=$(cat "$T/out")
}

# --- the people ---------------------------------------------------------------
N=2000
$PYTHON -c '
import sys
n = int(sys.argv[1])
print("email,name,org")
for i in range(1, n + 1):
    print("user%d@example.net,Person %d,Unit %d" % (i, i, i % 12))
' $N >"$T/people.csv"
p subscriber import news "$T/people.csv" --confirmed
expect "import $N confirmed subscribers" 0
for a in dig1 dig2 dig3; do p subscriber add news $a@example.net --confirmed --mode digest; done
for a in gone1 gone2; do p subscriber add news $a@example.net --confirmed; p subscriber remove news $a@example.net; done
for a in forgot1 forgot2; do p subscriber add news $a@example.net --confirmed; p subscriber forget $a@example.net; done
p subscriber add news pend1@example.net
check "the members are in place" [ "$(q "SELECT count(*) FROM memberships WHERE list = 'news' AND status = 'confirmed'")" -eq $((N + 3)) ]

new_campaign news "Hello {{subscriber.name}}"
A=$cid
check "campaign new gave an id ($A)" [ -n "$A" ]

# --- a test copy: one message, the campaign left alone ------------------------
p campaign test "$A" --to staff@example.org
expect "campaign test --to exits 0" 0
has "... and says it is queued" "$T/out" "test copy queued for staff@example.org"
p campaign test "$A" --to user17@example.net
p campaign test "$A"
expect "campaign test without --to exits 64" 64
p campaign test "$A" --to 'not an address'
expect "campaign test to a bad address exits 65" 65
p campaign test 999 --to staff@example.org
expect "campaign test of no campaign exits 65" 65
run_once
f=$(grep "	staff@example.org	" "$SINK_DIR/log" | cut -f6)
check "the test copy arrived, once" [ "$(grep -c "	staff@example.org	" "$SINK_DIR/log")" -eq 1 ]
if [ -n "$f" ] && $PYTHON "$CHECK" --expect-subject "[TEST] Hello Sample Subscriber" "$SINK_DIR/msgs/$f"; then
	ok "the test copy is well-formed and marked [TEST] in the subject"
else not_ok "the test copy is well-formed and marked [TEST] in the subject"; fi
f=$(grep "	user17@example.net	" "$SINK_DIR/log" | cut -f6)
check "a test copy to a subscriber is theirs: [TEST] Hello Person 17" $PYTHON "$CHECK" --expect-subject "[TEST] Hello Person 17" "$SINK_DIR/msgs/$f"
check "the campaign is still a draft" [ "$(status_of "$A")" = draft ]
check "and has no outbox rows" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $A")" -eq 0 ]
: >"$SINK_DIR/log"

# --- illegal moves on a draft -----------------------------------------------------
p campaign pause "$A"
expect "pausing a draft exits 65" 65
has "... and says why" "$T/err" "is draft: only a campaign that is sending can be paused"
p campaign resume "$A"
expect "resuming a draft exits 65" 65
p campaign retry-failed "$A"
expect "retry-failed on a draft exits 65" 65
p campaign send 999
expect "sending no campaign exits 65" 65
p campaign send "$A" --at "tomorrow"
expect "send --at with a bad time exits 64" 64
p campaign send abc
expect "send of a non-number exits 64" 64

# --- the question before a send ---------------------------------------------------
nrows() { q "SELECT count(*) FROM outbox WHERE campaign_id = $1"; }
p campaign send "$A"
expect "send with standard input not a terminal and no --yes exits 64" 64
has "... and says to add --yes" "$T/err" "add --yes to send campaign $A to $N people"
check "... and queues nothing: still a draft, no rows" [ "$(status_of "$A")" = draft -a "$(nrows "$A")" -eq 0 ]
ask n campaign send "$A"
expect "on a terminal, answering N exits 1" 1
has "... after asking the question, with the real count, the list and the digest members" "$T/tty" \
    "Send \"Hello {{subscriber.name}}\" to $N people on Midlands Decision Support Network news now (3 more get it in the list's digest)? [y/N]"
has "... says nothing was queued" "$T/tty" "not sent; nothing was queued"
if grep -q "No test copy" "$T/tty"; then not_ok "a campaign with a test copy since its last edit is not called untested"
else ok "a campaign with a test copy since its last edit is not called untested"; fi
check "... and queues nothing" [ "$(status_of "$A")" = draft -a "$(nrows "$A")" -eq 0 ]
ask EOF campaign send "$A"
expect "the end of input (Ctrl-D) is a no too" 1
check "... nothing queued" [ "$(nrows "$A")" -eq 0 ]
p campaign edit "$A" --subject "Hello {{subscriber.name}}"
expect "an edit of the draft" 0
ask n campaign send "$A"
has "after an edit, the question says no test copy was sent since" "$T/tty" \
    "No test copy of campaign $A has been sent since it was last changed"
p campaign show "$A"
has "campaign show says so too" "$T/out" "tested:    no test copy since the last change"
p campaign test "$A" --to staff@example.org
p campaign show "$A"
if grep -q '^tested:    [0-9]' "$T/out"; then ok "... and when the last test copy went"
else not_ok "... and when the last test copy went"; diag "$(cat "$T/out")"; fi
ask n campaign send "$A"
if grep -q "No test copy" "$T/tty"; then not_ok "... and a new test copy settles it"
else ok "... and a new test copy settles it"; fi

# --- send: the rows, at once -------------------------------------------------------
t0=$(date +%s.%N)
ask y campaign send "$A"
t1=$(date +%s.%N)
cp "$T/tty" "$T/out"
expect "answering y on a terminal: campaign send exits 0" 0
has "... and says how many" "$T/out" "sending to $N recipients"
has "... and who gets it in the digest" "$T/out" "3 digest-mode members get it in the list's digest"
diag "queueing $N recipients took $($PYTHON -c "print('%.2f' % ($t1 - $t0))")s"
check "status sending" [ "$(status_of "$A")" = sending ]
check "one queued row per immediate confirmed member" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $A AND kind = 'campaign' AND state = 'queued'")" -eq $N ]
check "none for digest-mode, unsubscribed, forgotten or pending members" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $A AND rcpt_to NOT LIKE 'user%'")" -eq 0 ]
check "started_at is set" [ "$(q "SELECT started_at > 0 FROM campaigns WHERE id = $A")" = 1 ]
p campaign send "$A" --yes
expect "sending it again exits 65" 65
has "... and says it is already being sent" "$T/err" "is sending: it is already being sent"
p campaign edit "$A" --subject "Changed"
expect "editing it now exits 65" 65

# Between the send and their turn: one leaves, one is forgotten.
p subscriber remove news user5@example.net
p subscriber forget user6@example.net

# --- postroomd sends it while send --wait watches (not a terminal) -------------
new_campaign news "Second {{subscriber.name}}"
B0=$cid
(IFS='
'; exec "$D" $(opts) -f) 2>>"$T/daemon.log" &
DPID=$!
started $DPID
p campaign send "$B0" --yes --wait
expect "send --yes --wait exits 0 once the campaign is sent" 0
lines=$(grep -c "^campaign $B0: " "$T/out")
check "--wait printed plain progress lines ($lines)" [ "$lines" -ge 2 ]
has "... the last says it is sent" "$T/out" "campaign $B0: sent: $((N - 2)) of $((N - 2)) done"
if grep -q "$(printf '\r')" "$T/out"; then not_ok "no carriage returns when not on a terminal"
else ok "no carriage returns when not on a terminal"; fi
wait_for 30 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM campaigns WHERE id = $A\")\" = sent ]"
kill -TERM $DPID; wait $DPID 2>/dev/null
check "campaign $A is sent" [ "$(status_of "$A")" = sent ]

# --- what crossed the wire -------------------------------------------------------------
q "SELECT id, email, hex(token_salt) FROM subscribers" >"$T/ids"
if $PYTHON - "$SINK_DIR" "$T/ids" "$KEY" "$A" $N <<'EOF'
import base64, email, email.policy, hashlib, hmac, os, re, sys
sink, idfile, keyfile, camp, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
key = bytes.fromhex(open(keyfile).read().strip())
ids = {}
salts = {}
for line in open(idfile):
    i, e, salt = line.rstrip("\n").split("|", 2)
    ids[e] = int(i)
    salts[e] = bytes.fromhex(salt)
def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7F) << shift; shift += 7
        if not c & 0x80:
            return v, i
bad = []
seen = {}
tokens = set()
for line in open(os.path.join(sink, "log")):
    f = line.rstrip("\n").split("\t")
    rcpt, name = f[4], f[5]
    msg = email.message_from_bytes(open(os.path.join(sink, "msgs", name), "rb").read(),
                                   policy=email.policy.default)
    subj = str(msg["Subject"])
    if not subj.startswith("Hello "):
        continue                        # campaign B0
    seen[rcpt] = seen.get(rcpt, 0) + 1
    m = re.match(r"user(\d+)@example.net$", rcpt)
    if not m:
        bad.append("%s is not a member who should get it" % rcpt); continue
    if msg["To"].addresses[0].addr_spec != rcpt:
        bad.append("%s: To is %s" % (rcpt, msg["To"]))
    if subj != "Hello Person %s" % m.group(1):
        bad.append("%s: subject %r" % (rcpt, subj))
    text = msg.get_body(("plain",)).get_content()
    u = re.search(r"/unsubscribe/([A-Za-z0-9_-]+)", text)
    if not u:
        bad.append("%s: no unsubscribe link" % rcpt); continue
    tok = u.group(1)
    tokens.add(tok)
    raw = base64.urlsafe_b64decode(tok + "=" * (-len(tok) % 4))
    payload, mac = raw[:-16], raw[-16:]
    # Signed with the subscriber's own salt (token.h, version 2).
    if hmac.new(key, payload + salts.get(rcpt, b""), hashlib.sha256).digest()[:16] != mac:
        bad.append("%s: token signature wrong" % rcpt); continue
    if payload[0] != 2 or payload[1] != 2:
        bad.append("%s: not an unsubscribe token" % rcpt); continue
    sub, i = varint(payload, 2)
    issued, i = varint(payload, i)
    life, i = varint(payload, i)
    slen = payload[i]; slug = payload[i + 1:i + 1 + slen].decode(); i += 1 + slen
    cid, i = varint(payload, i)
    if (sub, life, slug, cid) != (ids.get(rcpt), 365 * 24 * 3600, "news", camp):
        bad.append("%s: token says subscriber %d list %s campaign %d, lasting %d" % (rcpt, sub, slug, cid, life))
want = set("user%d@example.net" % i for i in range(1, n + 1)) - {"user5@example.net", "user6@example.net"}
missing = want - set(seen)
if missing:
    bad.append("%d missing, e.g. %s" % (len(missing), sorted(missing)[:3]))
dup = [r for r, c in seen.items() if c > 1]
if dup:
    bad.append("%d twice, e.g. %s" % (len(dup), dup[:3]))
if len(tokens) != len(seen):
    bad.append("%d tokens for %d recipients" % (len(tokens), len(seen)))
for b in bad[:10]:
    print("# " + b)
sys.exit(1 if bad else 0)
EOF
then ok "each of the $((N - 2)) members got one message: their To, their subject, their own unsubscribe token"
else not_ok "each member got one personal message"; fi
check "nothing for digest-mode, unsubscribed, forgotten or pending members" [ "$(grep -c '	\(dig\|gone\|forgot\|pend\|user5@\|user6@\)' "$SINK_DIR/log")" -eq 0 ]
sample=$(grep "	user\(1\|500\|1999\)@example.net	" "$SINK_DIR/log" | cut -f6 | sed "s|^|$SINK_DIR/msgs/|")
# shellcheck disable=SC2086
check "a sample of the messages is well-formed (check-email.py)" $PYTHON "$CHECK" $sample

json "$A" 'j["status"] == "sent" and j["total"] == '$N' and j["sent"] == '$((N - 2))' and j["skipped"] == 2 and j["failed"] == 0 and j["deferred"] == 0 and j["pending"] == 0 and j["started_at"] and j["finished_at"] and isinstance(j["rate"], (int, float))'
check "status --json: sent, $N rows, $((N - 2)) sent, 2 skipped (unsubscribed, forgotten after the send), times" [ $? -eq 0 ] || diag "$(cat "$T/out")"
p campaign status "$A"
expect "status exits 0" 0
has "status shows the status" "$T/out" "status:    sent"
has "status shows the skipped" "$T/out" "skipped:   2"
p campaign cancel "$A"
expect "cancelling a sent campaign exits 65" 65
: >"$SINK_DIR/log"

# --- pause, resume, failures, retry-failed (list training: digest weekly) --------
printf 'email,name\n' >"$T/training.csv"
for i in 1 2 3 4 5 6 7 8 9 10; do printf 'ok%d@example.net,OK %d\n' $i $i; done >>"$T/training.csv"
printf 'reject1@example.net,R1\nreject2@example.net,R2\n' >>"$T/training.csv"
p subscriber import training "$T/training.csv" --confirmed
new_campaign training "Training {{subscriber.name}}"
B=$cid
p campaign send "$B" --yes
p campaign pause "$B"
expect "pause exits 0" 0
has "... and says how to go on" "$T/out" "campaign resume $B"
check "status paused" [ "$(status_of "$B")" = paused ]
p campaign pause "$B"
expect "pausing it twice exits 65" 65
run_once
check "nothing of a paused campaign is sent" [ "$(got ok)$(got reject)" = 00 ]
check "its rows wait, queued" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $B AND state = 'queued'")" -eq 12 ]
p campaign resume "$B"
expect "resume exits 0" 0
check "status sending again" [ "$(status_of "$B")" = sending ]
run_once
check "after resume: the 10 sent" [ "$(got ok)" -eq 10 ]
check "the campaign is sent, with 2 failures" [ "$(status_of "$B")" = sent -a "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $B AND state = 'failed'")" -eq 2 ]
p campaign failures "$B"
expect "failures exits 0" 0
check "failures lists the two, one a line" [ "$(wc -l <"$T/out")" -eq 2 ]
has "... with the server's reply" "$T/out" "reject1@example.net  550  550 5.1.1 <reject1@example.net>: no such user here"
p campaign failures "$B" --json
check "failures --json: one object a line, code and reply" $PYTHON -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert sorted(r["email"] for r in rows) == ["reject1@example.net", "reject2@example.net"], rows
assert all(r["code"] == 550 and r["reply"].startswith("550 5.1.1") and r["attempts"] == 1 for r in rows), rows
' "$T/out"
json "$B" 'j["status"] == "sent" and j["total"] == 12 and j["sent"] == 10 and j["failed"] == 2'
check "status --json after the failures" [ $? -eq 0 ]
p campaign retry-failed "$B"
expect "retry-failed exits 0" 0
has "... leaves the 5xx refusals failed and says how to retry them" "$T/out" \
    "re-queued 0 that failed for a temporary reason; 2 refused permanently (5xx) stay failed: add --include-permanent to retry them too"
check "... nothing queued, still sent" [ "$(status_of "$B")" = sent -a "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $B AND state = 'failed'")" -eq 2 ]
p campaign retry-failed "$B" --include-permanent
expect "retry-failed --include-permanent exits 0" 0
has "... and says how many of each" "$T/out" "re-queued 2: 0 that failed for a temporary reason, 2 refused permanently (5xx)"
has "... and that the campaign is sending" "$T/out" "the campaign is sending"
check "the campaign is sending again" [ "$(status_of "$B")" = sending ]
check "the rows are queued, attempts reset" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $B AND state = 'queued' AND attempts = 0")" -eq 2 ]
run_once
check "retried: they failed again (attempt 1), the campaign is sent again" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $B AND state = 'failed' AND attempts = 1")" -eq 2 -a "$(status_of "$B")" = sent ]
check "and nothing was sent twice" [ "$(got ok)" -eq 10 ]
p campaign retry-failed 999
expect "retry-failed of no campaign exits 65" 65

# --- cancel --------------------------------------------------------------------------
new_campaign training "Cancelled {{subscriber.name}}"
C=$cid
p campaign send "$C" --yes
p campaign cancel "$C"
expect "cancel exits 0" 0
has "... and says how many will not be sent" "$T/out" "cancelled; 12 queued messages will not be sent"
run_once
check "nothing of a cancelled campaign is sent" [ "$(grep -c 'Cancelled' "$SINK_DIR"/msgs/* 2>/dev/null | awk -F: '{ n += $2 } END { print n + 0 }')" -eq 0 ]
json "$C" 'j["status"] == "cancelled" and j["skipped"] == 12 and j["pending"] == 0 and j["finished_at"]'
check "status: cancelled, 12 skipped" [ $? -eq 0 ]
for cmd in pause resume retry-failed cancel unschedule delete; do
	p campaign $cmd "$C"
	expect "$cmd of a cancelled campaign exits 65" 65
done
p campaign send "$C" --yes
expect "send of a cancelled campaign exits 65" 65
p campaign send "$C" --now --yes
expect "send --now of a cancelled campaign exits 65" 65
p campaign edit "$C" --subject "Too late"
expect "edit of a cancelled campaign exits 65" 65

# --- --wait when the campaign stops under it -----------------------------------------
new_campaign training "Watched {{subscriber.name}}"
G=$cid
# shellcheck disable=SC2046
(IFS='
'; exec "$P" $(opts) campaign send "$G" --yes --wait) >"$T/wait.out" 2>"$T/wait.err" </dev/null &
WPID=$!
started $WPID
wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM campaigns WHERE id = $G\")\" = sending ]"
p campaign pause "$G"
i=0; while kill -0 $WPID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait $WPID; wrc=$?
check "--wait returns 1 when the campaign is paused (got $wrc)" [ "$wrc" -eq 1 ]
has "... and says why" "$T/wait.err" "paused by hand"
new_campaign training "Watched again {{subscriber.name}}"
H=$cid
# shellcheck disable=SC2046
(IFS='
'; exec "$P" $(opts) campaign send "$H" --yes --wait) >"$T/wait.out" 2>"$T/wait.err" </dev/null &
WPID=$!
started $WPID
wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT status FROM campaigns WHERE id = $H\")\" = sending ]"
p campaign cancel "$H"
i=0; while kill -0 $WPID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
wait $WPID; wrc=$?
check "--wait returns 2 when the campaign is cancelled (got $wrc)" [ "$wrc" -eq 2 ]
p campaign cancel "$G"

# --- scheduling ---------------------------------------------------------------------------
# Dates two years from the real one: always to come, whatever today is.
Y=$(( $(date +%Y) + 2 ))
: >"$SINK_DIR/log"
new_campaign training "Winter {{subscriber.name}}"
E=$cid
ask n campaign send "$E" --at "$Y-01-15 09:00"
has "send --at asks, with the local time it would start" "$T/tty" \
    "to 12 people on Training and development at "
has "... in general.timezone" "$T/tty" "15 Jan $Y 09:00 (Europe/London)? [y/N]"
p campaign send "$E" --at "$Y-01-15 09:00" --yes
expect "send --at a future time exits 0" 0
has "... and says when" "$T/out" "scheduled for $Y-01-15 09:00"
new_campaign training "Summer {{subscriber.name}}"
S=$cid
p campaign send "$S" --at "$Y-07-15 09:00" --yes
json "$E" 'j["status"] == "scheduled" and j["scheduled_at"] == "'$Y'-01-15T09:00:00Z" and j["total"] == 12 and j["started_at"] is None'
check "scheduled, in GMT: 09:00 London is 09:00Z; rows queued, not started" [ $? -eq 0 ] || diag "$(cat "$T/out")"
json "$S" 'j["scheduled_at"] == "'$Y'-07-15T08:00:00Z"'
check "in BST: 09:00 London is 08:00Z" [ $? -eq 0 ] || diag "$(cat "$T/out")"

new_campaign training "Late {{subscriber.name}}"
L=$cid
p campaign send "$L" --at "2020-01-15 09:00" --yes
expect "send --at a time that has passed exits 65" 65
has "... saying the time has passed" "$T/err" "has passed: it is now "
has "... and the local time now" "$T/err" "$(TZ=Europe/London date +'%-d %b %Y')"
check "... and queues nothing: a draft, no rows" [ "$(status_of "$L")" = draft -a "$(nrows "$L")" -eq 0 ]
p campaign send "$L" --at "$(TZ=Europe/London date -d '-2 minutes' +'%Y-%m-%d %H:%M')" --yes
expect "... also a minute ago" 65
# Its time comes: scheduled for later, then the clock moves past it.
p campaign send "$L" --at "$Y-03-01 09:00" --yes
q "UPDATE campaigns SET scheduled_at = strftime('%s') - 60 WHERE id = $L;
    UPDATE outbox SET next_attempt_at = strftime('%s') - 60 WHERE campaign_id = $L"
run_once
check "a --once run leaves the future ones scheduled" [ "$(status_of "$E")$(status_of "$S")" = scheduledscheduled ]
check "... and sends none of their messages" [ "$(grep -c 'Winter\|Summer' "$SINK_DIR"/msgs/* 2>/dev/null | awk -F: '{ n += $2 } END { print n + 0 }')" -eq 0 ]
check "one whose time has come was started by the scheduler and sent" [ "$(status_of "$L")" = sent -a "$(q "SELECT started_at > 0 FROM campaigns WHERE id = $L")" = 1 ]
check "... to its 10 good recipients" [ "$(got ok)" -eq 10 ]

# --- changing a scheduled campaign ----------------------------------------------------------
p campaign send "$E" --yes
expect "send (without --now) of a scheduled campaign exits 65" 65
has "... and says what can be done" "$T/err" "send it now, unschedule it to change it, or cancel it"
p campaign edit "$E" --subject "Changed"
expect "edit of a scheduled campaign exits 65" 65
has "... with the advice to unschedule it first" "$T/err" "is scheduled: unschedule it first"
p campaign delete "$E"
expect "delete of a scheduled campaign exits 65" 65
p campaign unschedule "$E"
expect "unschedule exits 0" 0
has "... and says how many queued messages went" "$T/out" "unscheduled, a draft again; 12 queued messages removed"
json "$E" 'j["status"] == "draft" and j["scheduled_at"] is None and j["total"] == 0 and j["pending"] == 0'
check "a draft again: no schedule, no rows, counts at zero" [ $? -eq 0 ] || diag "$(cat "$T/out")"
p campaign unschedule "$E"
expect "unscheduling a draft exits 65" 65
p campaign edit "$E" --subject "Winter, changed {{subscriber.name}}"
expect "... and it can be edited" 0
p campaign send "$E" --at "$Y-01-16 09:00" --yes
expect "... and scheduled again" 0
check "... its rows queued once more (12)" [ "$(nrows "$E")" -eq 12 ]

p campaign send "$S" --now
expect "send --now of a scheduled campaign without --yes (not a terminal) exits 64" 64
check "... and it stays scheduled" [ "$(status_of "$S")" = scheduled ]
ask n campaign send "$S" --now
has "send --now asks again, saying it replaces the schedule" "$T/tty" "to 12 people on Training and development now, instead of at "
check "... N keeps it scheduled" [ "$(status_of "$S")" = scheduled ]
ask y campaign send "$S" --now
expect "... y sends it now" 0
has "... and says so" "$T/tty" "sending to 12 recipients now, not at its scheduled time"
check "it is sending, its rows due now" [ "$(status_of "$S")" = sending -a "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $S AND state = 'queued' AND next_attempt_at <= strftime('%s')")" -eq 12 ]
: >"$SINK_DIR/log"
run_once
check "... and the daemon sends it to its 10 good recipients" [ "$(status_of "$S")" = sent -a "$(got ok)" -eq 10 ]
p campaign send "$E" --at "$Y-01-15 09:00" --now --yes
expect "--at and --now together exit 64" 64
p campaign cancel "$E"
expect "a scheduled campaign can be cancelled" 0
has "... its queued rows counted" "$T/out" "12 queued messages will not be sent"
no_personal_data "no log line holds an address (a test copy's, a recipient's)" "$T/daemon.log"
no_personal_data "... nor in the --once runs" "$T/once.log"

# --- copy and delete ------------------------------------------------------------------------
p campaign copy "$S"
expect "copy of a sent campaign exits 0" 0
K=$(cat "$T/out")
check "... and prints the new draft's id ($K)" [ -n "$K" -a "$K" != "$S" -a "$(status_of "$K")" = draft ]
check "... with the same list, subject and body, no rows" \
    [ "$(q "SELECT count(*) FROM campaigns a JOIN campaigns b ON a.list = b.list AND a.subject = b.subject AND a.body = b.body WHERE a.id = $S AND b.id = $K")" -eq 1 -a "$(nrows "$K")" -eq 0 ]
p campaign delete "$K"
expect "delete of a draft exits 0" 0
check "... and it is gone" [ -z "$(q "SELECT id FROM campaigns WHERE id = $K")" ]
p campaign delete "$K"
expect "delete of no campaign exits 65" 65
p campaign delete "$S"
expect "delete of a sent campaign exits 65" 65
has "... and says only a draft can be" "$T/err" "only a draft can be deleted"

# --- retry-failed: a temporary failure given up, a permanent one -------------------------------
for a in tempfail1 tempfail2 reject3 ok11; do p subscriber add analyst-network $a@example.net --confirmed; done
new_campaign analyst-network "Huddle {{subscriber.name}}"
R=$cid
p campaign send "$R" --yes
run_once
check "a 451 is deferred, a 550 failed" [ "$(q "SELECT group_concat(state, ' ') FROM (SELECT state FROM outbox WHERE campaign_id = $R ORDER BY rcpt_to)")" = "sent failed deferred deferred" ]
# Past smtp.max_retry_age: the next attempt gives up on them.
q "UPDATE outbox SET created_at = created_at - 4 * 86400, next_attempt_at = 0 WHERE campaign_id = $R AND state = 'deferred'"
run_once
check "... given up after smtp.max_retry_age, the 451s fail too" [ "$(q "SELECT count(*) FROM outbox WHERE campaign_id = $R AND state = 'failed' AND last_code = 451 AND last_reply LIKE 'gave up after %'")" -eq 2 -a "$(status_of "$R")" = sent ]
p campaign retry-failed "$R"
expect "retry-failed exits 0" 0
has "... re-queues the temporary ones only and says how many of each" "$T/out" \
    "re-queued 2 that failed for a temporary reason; 1 refused permanently (5xx) stay failed: add --include-permanent to retry them too"
check "... the 451s queued, the 550 still failed" [ "$(q "SELECT group_concat(state, ' ') FROM (SELECT state FROM outbox WHERE campaign_id = $R ORDER BY rcpt_to)")" = "sent failed queued queued" ]
check "... the campaign sending again" [ "$(status_of "$R")" = sending ]

done_testing
