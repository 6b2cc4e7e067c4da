#!/bin/sh
# The delivery engine for real: postroomd against tests/tools/smtp-sink.py
# (aiosmtpd) on loopback, rows put in the outbox with the sqlite3 CLI.
#
#   - every message arrives exactly once, bytes intact, over at most
#     smtp.concurrency connections (they are reused);
#   - 451 deferred with next_attempt in the future, then delivered on a
#     later run; 550 and a 554 to the message failed with the reply kept;
#     a dropped connection and a stalled server (timeout) deferred and
#     delivered later, nothing lost or doubled;
#   - smtp.rate_per_second=10: no second at the server with more than 10,
#     across a restart too;
#   - kill -9 mid-run with thousands queued, restart: nobody missing, at
#     most smtp.concurrency duplicates;
#   - SIGTERM: in-flight messages finish, nothing left sending, exit 0;
#   - the maildir: transport writes into new/ with CRLF intact;
#   - postroom queue status [--json];
#   - STARTTLS required and AUTH with a password file; the certificate
#     checked by default; a wrong password or a server without STARTTLS
#     defers (never fails) the message; smtps:// (implicit TLS).
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"

needs aiosmtpd sqlite3

DB="$T/var/p.db"
WEB_PORT=$(free_port)
mkdir -p "$T/var"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"

# start_sink DIR [OPTIONS]: a sink on a free port; $SINK_PORT, $SINK_PID.
start_sink() {
	SINK_DIR=$1; shift
	mkdir -p "$SINK_DIR"
	SINK_PORT=$(free_port)
	$PYTHON "$POSTROOM_TOP/tests/tools/smtp-sink.py" --port "$SINK_PORT" \
	    --dir "$SINK_DIR" --stall 10 "$@" 2>"$SINK_DIR/stderr" &
	SINK_PID=$!
	started $SINK_PID
	wait_for 10 test -f "$SINK_DIR/ready"
}

# The options every run shares, then the run's own.
opts() {
	set -- -c "$conf" -o general.database="$DB" \
	    -o general.secret_file="$T/var/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o inbound.source=none -o smtp.starttls=off \
	    -o web.listen="127.0.0.1:$WEB_PORT" \
	    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" "$@"
	printf '%s\n' "$@"
}
# run_once ARGS...: postroomd --once with opts and ARGS; log in $T/once.log.
run_once() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$D" $(opts "$@") --once) 2>>"$T/once.log"
}
start_daemon() {
	(IFS='
'; exec "$D" $(opts "$@") -f) 2>>"$T/daemon.log" &
	DPID=$!
	started $DPID
}

q() { sqlite3 "$DB" "$1"; }

# term_daemon WHAT: SIGTERM to the daemon, which must exit 0 within 5 s.
term_daemon() {
	kill -TERM $DPID
	i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $DPID 2>/dev/null; then not_ok "$1: stopped within 5 seconds"
	else wait $DPID; rc=$?; check "$1: stopped within 5 seconds, status 0" [ "$rc" -eq 0 ]; fi
}

# inject PREFIX N [MAIL_FROM]: N one-off messages to PREFIX1..N@example.net,
# each with CRLF line ends and a line starting with a dot.  Each body is
# stored first (outbox_bodies), under an id above every one there, and the
# rows point at theirs.
inject() {
	sqlite3 "$DB" "BEGIN; CREATE TEMP TABLE inj AS
	    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
	    SELECT i + 1 FROM n WHERE i < $2)
	    SELECT i, i + (SELECT coalesce(max(id), 0) FROM outbox_bodies)
	    AS body_id FROM n;
	    INSERT INTO outbox_bodies (id, body)
	    SELECT body_id, CAST('From: news@example.org' ||
	    char(13, 10) || 'To: $1' || i || '@example.net' || char(13, 10) ||
	    'Subject: message ' || i || char(13, 10, 13, 10) ||
	    'Hello.' || char(13, 10) || '.a line with a dot' || char(13, 10) ||
	    'Bye.' || char(13, 10) AS BLOB) FROM inj;
	    INSERT INTO outbox (kind, dedup_key, body_id, mail_from, rcpt_to,
	    created_at, updated_at)
	    SELECT 'confirm', '$1' || i, body_id, '${3-bounces@example.org}',
	    '$1' || i || '@example.net', strftime('%s'), strftime('%s')
	    FROM inj; COMMIT"
}
# put_body ROWSQL FILE: store FILE as a new body; ROWSQL is an INSERT or
# UPDATE of the outbox that names it as @body.
put_body() {
	sqlite3 "$DB" "BEGIN; INSERT INTO outbox_bodies (body)
	    VALUES (readfile('$2'));
	    $(printf '%s' "$1" | sed 's/@body/last_insert_rowid()/'); COMMIT"
}

# delivered PREFIX: lines in the sink's log for PREFIX* recipients.
delivered() { grep -c "	$1[0-9]*@example.net	" "$SINK_DIR/log"; }
# dups PREFIX: deliveries beyond the first per recipient.
dups() {
	cut -f5 "$SINK_DIR/log" | grep "^$1[0-9]*@" | sort | uniq -d -c |
	    awk '{ n += $1 - 1 } END { print n + 0 }'
}
state_of() { q "SELECT state FROM outbox WHERE rcpt_to = '$1'"; }

start_sink "$T/sink"
if [ -f "$T/sink/ready" ]; then ok "the sink listens on 127.0.0.1:$SINK_PORT"
else not_ok "the sink listens"; diag "$(cat "$T/sink/stderr")"; done_testing; exit 1; fi

# The database and its schema.
(IFS='
'; exec "$C" $(opts) queue status) >"$T/status0" 2>&1
check "postroom queue status on an empty outbox" grep -q '^all  *0 ' "$T/status0"

# --- 1. a clean run: once each, intact, connections reused --------------
inject user 200
run_once -o smtp.concurrency=4 -o smtp.rate_per_second=0; rc=$?
check "postroomd --once delivers and exits 0" [ "$rc" -eq 0 ]
n=$(delivered user); d=$(dups user)
check "all 200 messages arrived (got $n)" [ "$n" -eq 200 ]
check "none twice (got $d duplicates)" [ "$d" -eq 0 ]
check "all 200 rows are sent" [ "$(q "SELECT count(*) FROM outbox WHERE state = 'sent' AND rcpt_to LIKE 'user%' AND last_reply LIKE '250 2.0.0 Ok: queued as %'")" -eq 200 ]
conns=$(cat "$T/sink/connections")
check "connections reused: $conns for 200 messages at concurrency 4" [ "$conns" -le 4 ]
f=$(grep "	user17@example.net	" "$T/sink/log" | cut -f6)
printf 'From: news@example.org\r\nTo: user17@example.net\r\nSubject: message 17\r\n\r\nHello.\r\n.a line with a dot\r\nBye.\r\n' >"$T/want17"
check "the message arrived byte for byte (CRLF, the dot line)" cmp -s "$T/want17" "$T/sink/msgs/$f"
check "the envelope sender is the row's" grep -q "	bounces@example.org	user17@example.net	" "$T/sink/log"

# A relay slow to answer the final dot (its queue file's fsync): the
# connections wait for those replies side by side, not in turn (libcurl's
# multi interface would wait for each in turn: curl issue 8555).
inject slowdot 12
run_once -o smtp.concurrency=4 -o smtp.rate_per_second=0; rc=$?
check "slow final replies: all 12 arrived" [ "$rc" -eq 0 -a "$(delivered slowdot)" -eq 12 ]
most=$(cat "$T/sink/slowdot" 2>/dev/null || echo 0)
check "slow final replies: up to 4 awaited at once, not one at a time (most at once: $most)" [ "$most" -ge 3 ]

# --- 2. replies: 451, 550, 554, a drop, a stall, greylisting ------------
# replies P: the failures with recipients named PREFIX$P, against the sink
# running now.  Run without PIPELINING here, with it after section 8.
replies() {
	p=$1
	inject tempfail$p 1; inject reject$p 1; inject rejectdata$p 1
	inject drop$p 1; inject stall$p 1; inject flaky$p 1
	inject nullsender$p 1 ""
	now=$(date +%s)
	run_once -o smtp.concurrency=3 -o smtp.rate_per_second=0 -o smtp.timeout=2; rc=$?
	check "a run with failures still exits 0" [ "$rc" -eq 0 ]
	row=$(q "SELECT state || '|' || last_code || '|' || (next_attempt_at > $now + 30) || '|' || last_reply FROM outbox WHERE rcpt_to = 'tempfail${p}1@example.net'")
	case $row in "deferred|451|1|451 4.3.0 <tempfail${p}1@example.net>: try again later") ok "451: deferred, retry in the future, reply kept" ;;
		*) not_ok "451: deferred, retry in the future, reply kept"; diag "got $row" ;; esac
	row=$(q "SELECT state || '|' || last_code || '|' || last_reply FROM outbox WHERE rcpt_to = 'reject${p}1@example.net'")
	case $row in "failed|550|550 5.1.1 <reject${p}1@example.net>: no such user here") ok "550: failed at once, reply kept" ;;
		*) not_ok "550: failed at once, reply kept"; diag "got $row" ;; esac
	row=$(q "SELECT state || '|' || last_code || '|' || last_reply FROM outbox WHERE rcpt_to = 'rejectdata${p}1@example.net'")
	case $row in "failed|554|554 5.7.1 message refused: looks like spam") ok "554 to the message: failed, reply kept" ;;
		*) not_ok "554 to the message: failed, reply kept"; diag "got $row" ;; esac
	check "dropped connection: deferred" [ "$(state_of drop${p}1@example.net)" = deferred ]
	check "stalled server: timed out, deferred" [ "$(state_of stall${p}1@example.net)" = deferred ]
	check "greylisted: deferred" [ "$(state_of flaky${p}1@example.net)" = deferred ]
	check "nothing of those reached the sink" [ "$(delivered drop$p)$(delivered stall$p)$(delivered flaky$p)" = 000 ]
	check "the null sender goes out as MAIL FROM:<>" grep -q "		nullsender${p}1@example.net	" "$SINK_DIR/log"

	q "UPDATE outbox SET next_attempt_at = 0 WHERE state = 'deferred'"
	run_once -o smtp.concurrency=3 -o smtp.rate_per_second=0 -o smtp.timeout=2
	for a in drop stall flaky; do
		check "$a$p delivered on the later run, once" [ "$(state_of $a${p}1@example.net)" = sent -a "$(delivered $a$p)" -eq 1 ]
	done
	check "451 again: deferred, attempt 2" [ "$(q "SELECT state || attempts FROM outbox WHERE rcpt_to = 'tempfail${p}1@example.net'")" = deferred2 ]
}
replies ""

# --- 3. rate limit: 10 a second at the server, across a restart ---------
inject ratea 16; t0=$(date +%s.%N)
run_once -o smtp.concurrency=4 -o smtp.rate_per_second=10
inject rateb 16
run_once -o smtp.concurrency=4 -o smtp.rate_per_second=10
t1=$(date +%s.%N)
check "all 32 rate-limited messages arrived" [ $(($(delivered ratea) + $(delivered rateb))) -eq 32 ]
worst=$(grep -E '	rate[ab][0-9]+@' "$T/sink/log" | cut -f1 | cut -d. -f1 | sort | uniq -c | sort -rn | head -1 | awk '{ print $1 }')
check "no second at the server with more than 10 (busiest: $worst)" [ "$worst" -le 10 ]
check "and it took the time that implies (>= 3s)" $PYTHON -c "import sys; sys.exit(0 if $t1 - $t0 >= 3.0 else 1)"
$PYTHON - "$T/sink/log" <<'EOF' >"$T/window"
import sys
t = sorted(float(l.split("\t")[0]) for l in open(sys.argv[1])
           if l.split("\t")[4].startswith("rate"))
print(max(sum(1 for u in t if s <= u < s + 1.0) for s in t))
EOF
check "no sliding one-second window with more than 10 either (got $(cat "$T/window"))" [ "$(cat "$T/window")" -le 10 ]

# --- 4. kill -9 mid-run, restart: none lost, duplicates bounded --------
# crash PREFIX RATE MAXSENDING: 3000 rows to PREFIX, postroomd -f at
# concurrency 4 and smtp.rate_per_second RATE killed -9 after 600, at most
# MAXSENDING rows left sending; a restart delivers the rest: none missing,
# at most 4 (the concurrency) twice.
crash() {
	inject "$1" 3000
	start_daemon -o smtp.concurrency=4 -o smtp.rate_per_second="$2"
	if ! wait_for 60 sh -c "[ \$(grep -c '	$1' '$T/sink/log') -ge 600 ]"; then
		not_ok "$1: postroomd -f delivers"; diag "$(tail -5 "$T/daemon.log")"
		return
	fi
	kill -9 $DPID; wait $DPID 2>/dev/null
	before=$(delivered "$1")
	sending=$(q "SELECT count(*) FROM outbox WHERE state = 'sending'")
	check "$1: killed mid-run ($before delivered): at most $3 rows left sending (got $sending)" [ "$sending" -le "$3" ]
	: >"$T/once.log"
	run_once -o smtp.concurrency=4 -o smtp.rate_per_second=0; rc=$?
	check "$1: the restart exits 0" [ "$rc" -eq 0 ]
	grep -q 'were being sent when postroom last stopped' "$T/once.log"
	check "$1: the restart put back what was in flight" [ $? -eq 0 -o "$sending" -eq 0 ]
	missing=$(cut -f5 "$T/sink/log" | grep "^$1" | sort -u | wc -l)
	check "$1: nobody missing, 3000 of 3000 got it (got $missing)" [ "$missing" -eq 3000 ]
	d=$(dups "$1")
	check "$1: duplicates at most the concurrency, 4 (got $d)" [ "$d" -le 4 ]
	check "$1: every row is sent" [ "$(q "SELECT count(*) FROM outbox WHERE rcpt_to LIKE '$1%' AND state = 'sent'")" -eq 3000 ]
}
crash bulk 500 4
# With no rate limit the engine also claims up to 4 rows ahead, which a
# crash must only queue again.
crash ahead 0 8

# --- 5. SIGTERM: finish what is in flight, exit ------------------------
inject term 400
start_daemon -o smtp.concurrency=4 -o smtp.rate_per_second=100
wait_for 20 sh -c "[ \$(grep -c '	term' '$T/sink/log') -ge 50 ]"
term_daemon "SIGTERM"
check "nothing left sending after SIGTERM" [ "$(q "SELECT count(*) FROM outbox WHERE state = 'sending'")" -eq 0 ]
sent=$(q "SELECT count(*) FROM outbox WHERE rcpt_to LIKE 'term%' AND state = 'sent'")
check "every message the sink got is marked sent, and only those ($sent)" [ "$sent" -eq "$(delivered term)" -a "$(dups term)" -eq 0 ]
check "the rest is still queued" [ "$(q "SELECT count(*) FROM outbox WHERE rcpt_to LIKE 'term%' AND state = 'queued'")" -eq $((400 - sent)) ]

# A server that stalls does not hold up a stop for long.  (Priority 1:
# it goes before the term rows still queued.)
inject stallterm 1
q "UPDATE outbox SET priority = 1 WHERE rcpt_to = 'stallterm1@example.net'"
start_daemon -o smtp.concurrency=2 -o smtp.timeout=60
wait_for 10 sh -c "[ \$(sqlite3 '$DB' \"SELECT state FROM outbox WHERE rcpt_to = 'stallterm1@example.net'\") = sending ]"
sleep 0.5
term_daemon "SIGTERM with a stalled server"
row=$(q "SELECT state || '|' || coalesce(last_reply, '') FROM outbox WHERE rcpt_to = 'stallterm1@example.net'")
case $row in deferred\|interrupted*) ok "the stalled message is deferred, not lost" ;;
	*) not_ok "the stalled message is deferred, not lost"; diag "got $row"; diag "$(tail -5 "$T/daemon.log")" ;; esac

# With no rate limit, rows claimed ahead are given back at a stop, their
# attempt uncounted; one that waits a second for a stalled connection is
# given back too, and claimed again later.
inject stallahead 1; inject behind 3
q "UPDATE outbox SET priority = 1 WHERE rcpt_to = 'stallahead1@example.net'"
start_daemon -o smtp.concurrency=1 -o smtp.rate_per_second=0 -o smtp.timeout=60 -vv
wait_for 10 sh -c "[ \$(sqlite3 '$DB' \"SELECT state FROM outbox WHERE rcpt_to = 'stallahead1@example.net'\") = sending ]"
sleep 2.5
check "a row claimed ahead that waits a second for a connection is released" grep -q 'claimed -> released: no connection free' "$T/daemon.log"
term_daemon "SIGTERM while claiming ahead"
check "claiming ahead: nothing left sending after SIGTERM" [ "$(q "SELECT count(*) FROM outbox WHERE state = 'sending'")" -eq 0 ]
row=$(q "SELECT group_concat(state || ':' || attempts, ' ') FROM outbox WHERE rcpt_to LIKE 'behind%'")
check "the rows behind it are queued, no attempt counted (got $row)" [ "$row" = "queued:0 queued:0 queued:0" ]
check "none of them reached the sink" [ "$(delivered behind)" -eq 0 ]
run_once -o smtp.concurrency=1 -o smtp.rate_per_second=0
check "then sent, one attempt each" [ "$(q "SELECT group_concat(state || ':' || attempts, ' ') FROM outbox WHERE rcpt_to LIKE 'behind%'")" = "sent:1 sent:1 sent:1" ]
q "DELETE FROM outbox WHERE rcpt_to LIKE 'stallahead%' OR rcpt_to LIKE 'behind%'"

# postroomd --once stops on SIGTERM as the daemon does (it once went on
# to the end of the queue): 60 messages at one a second, a stop after
# the second has arrived.
inject onceterm 60
(IFS='
'; exec "$D" $(opts -o smtp.concurrency=1 -o smtp.rate_per_second=1) --once) 2>"$T/onceterm.log" &
OPID=$!
started $OPID
wait_for 20 sh -c "[ \$(grep -c '	onceterm' '$T/sink/log') -ge 2 ]"
kill -TERM $OPID
wait $OPID; rc=$?
check "postroomd --once: SIGTERM stops it, status 0" [ "$rc" -eq 0 ]
check "... saying so" grep -q 'stopping' "$T/onceterm.log"
sent=$(q "SELECT count(*) FROM outbox WHERE rcpt_to LIKE 'onceterm%' AND state = 'sent'")
check "... what the sink got is marked sent, nothing is left sending" [ "$sent" -eq "$(delivered onceterm)" -a "$(q "SELECT count(*) FROM outbox WHERE state = 'sending'")" -eq 0 ]
check "... and the rest waits for the next run ($((60 - sent)) queued)" [ "$(q "SELECT count(*) FROM outbox WHERE rcpt_to LIKE 'onceterm%' AND state = 'queued'")" -eq $((60 - sent)) -a "$sent" -lt 60 ]
q "DELETE FROM outbox WHERE rcpt_to LIKE 'onceterm%'"

# --- 6. postroom queue status ------------------------------------------
(IFS='
'; exec "$C" $(opts) queue status --json) >"$T/status.json" 2>"$T/status.err"; rc=$?
$PYTHON - "$T/status.json" <<'EOF'; r=$?
import json, sys
j = json.load(open(sys.argv[1]))
k = j["kinds"]["confirm"]
assert j["states"]["failed"] == 2, j["states"]
assert k["failed"] == 2 and k["deferred"] == 2, k
assert j["total"] == sum(j["states"].values())
assert "smtp.rate_per_second" in j["rate_limits"]
EOF
check "postroom queue status --json counts by kind and state" [ "$rc" -eq 0 -a "$r" -eq 0 ]
(IFS='
'; exec "$C" $(opts) queue status) >"$T/status" 2>&1
check "postroom queue status shows the confirm row" grep -q '^confirm ' "$T/status"
(IFS='
'; exec "$C" $(opts) queue bogus) >/dev/null 2>&1; rc=$?
check "postroom queue with a bad subcommand exits 64" [ "$rc" -eq 64 ]

# --- 7. the maildir: transport ------------------------------------------
q "DELETE FROM outbox"
inject md 3
printf 'Subject: bare\nbare LF\n' >"$T/bare"
put_body "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to, created_at, updated_at) VALUES ('ack', @body, 'o@example.org', 'bare@example.net', 0, 0)" "$T/bare"
run_once -o smtp.url="maildir:$T/outmd"; rc=$?
n=$(ls "$T/outmd/new" 2>/dev/null | wc -l)
if [ "$rc" -eq 0 ] && [ "$n" -eq 4 ] && [ "$(ls "$T/outmd/tmp" | wc -l)" -eq 0 ]; then
	ok "maildir: 4 files in new/, none left in tmp/"
else
	not_ok "maildir: 4 files in new/, none left in tmp/"
	diag "status $rc, $n files:"
	sed -n '/ERROR: AddressSanitizer\|runtime error\|fatal/,$p' "$T/once.log" | head -30 | sed 's/^/# /'
fi
f=$(grep -l 'Delivered-To: md2@example.net' "$T/outmd/new/"* | head -1)
{ printf 'Return-Path: <bounces@example.org>\r\nDelivered-To: md2@example.net\r\n'
  printf 'From: news@example.org\r\nTo: md2@example.net\r\nSubject: message 2\r\n\r\nHello.\r\n.a line with a dot\r\nBye.\r\n'; } >"$T/wantmd"
check "maildir: envelope headers, then the message with CRLF intact" cmp -s "$T/wantmd" "$f"
f=$(grep -l 'Delivered-To: bare@' "$T/outmd/new/"* | head -1)
check "maildir: bare LF written as CRLF" cmp -s "$f" /dev/stdin <<EOF
$(printf 'Return-Path: <o@example.org>\r\nDelivered-To: bare@example.net\r\nSubject: bare\r\nbare LF\r')
EOF

# --- 8. a server that offers PIPELINING (RFC 2920) ---------------------
# postroom then sends MAIL, RCPT and DATA in one go and reads the three
# replies in turn: the same messages must arrive, and every refusal among
# the replies must count just as it does one command at a time.
start_sink "$T/pipe" --pipelining
inject piped 40
run_once -o smtp.concurrency=4 -o smtp.rate_per_second=0; rc=$?
check "PIPELINING: all 40 arrived, none twice" [ "$rc" -eq 0 -a "$(delivered piped)" -eq 40 -a "$(dups piped)" -eq 0 ]
f=$(grep "	piped7@example.net	" "$T/pipe/log" | cut -f6)
printf 'From: news@example.org\r\nTo: piped7@example.net\r\nSubject: message 7\r\n\r\nHello.\r\n.a line with a dot\r\nBye.\r\n' >"$T/want7"
check "PIPELINING: byte for byte (CRLF, the dot line)" cmp -s "$T/want7" "$T/pipe/msgs/$f"
n=$(cat "$T/pipe/pipelined" 2>/dev/null || echo 0)
check "PIPELINING: RCPT and DATA were there before MAIL's reply ($n of 40)" [ "$n" -eq 40 ]
replies p
# The server says 421 and goes: that message waits, the others go on.
inject closing 1; inject afterclose 6
run_once -o smtp.concurrency=2 -o smtp.rate_per_second=0
row=$(q "SELECT state || '|' || last_code || '|' || last_reply FROM outbox WHERE dedup_key = 'closing1'")
case $row in "deferred|421|421 4.3.2 <closing1@example.net>: shutting down, try later") ok "421 and a closed connection: deferred, reply kept" ;;
	*) not_ok "421 and a closed connection: deferred, reply kept"; diag "got $row" ;; esac
check "... the others were sent on new connections" [ "$(delivered afterclose)" -eq 6 ]
q "UPDATE outbox SET next_attempt_at = 0 WHERE dedup_key = 'closing1'"
run_once -o smtp.concurrency=2 -o smtp.rate_per_second=0
check "... and it went on the later run" [ "$(state_of closing1@example.net)" = sent ]

# wait_sent PREFIX N: until N rows PREFIX* are sent (10 s at most).
wait_sent() {
	wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' \"SELECT count(*) FROM outbox WHERE dedup_key LIKE '$1%' AND state = 'sent'\")\" -eq $2 ]"
}
# A server that closes connections left idle: postroomd notices, and the
# next messages go on new connections, not deferred.
start_sink "$T/idle" --pipelining --idle-timeout 1
start_daemon -o smtp.concurrency=2 -o smtp.rate_per_second=0
inject idlea 2; wait_sent idlea 2
c1=$(cat "$T/idle/connections")
sleep 2
inject idleb 2; wait_sent idleb 2
c2=$(cat "$T/idle/connections")
row=$(q "SELECT count(*) || '|' || max(attempts) FROM outbox WHERE dedup_key LIKE 'idle%' AND state = 'sent'")
check "connections closed while idle: the next messages sent at the first try (got $row)" [ "$row" = "4|1" ]
check "... on new connections ($c1, then $c2)" [ "$c2" -gt "$c1" ]
term_daemon "after the idle connections"

# Postfix's own smtp-sink, which reads pipelined commands as Postfix does
# and dumps each transaction (envelope, then the message as it took it).
if PF=$(command -v smtp-sink || ls /usr/sbin/smtp-sink 2>/dev/null); then
	# Run as nobody when we are root: it must reach and write $T/pf.
	mkdir -p "$T/pf"; chmod 711 "$T"; chmod 777 "$T/pf"
	pf_port=$(free_port)
	if [ "$(id -u)" -eq 0 ]; then pfu="-u nobody"; else pfu=""; fi
	# shellcheck disable=SC2086
	"$PF" $pfu -d "$T/pf/%M." "127.0.0.1:$pf_port" 16 2>"$T/pf.err" &
	started $!
	wait_for 10 $PYTHON -c "import socket; socket.create_connection(('127.0.0.1', $pf_port), 1)"
	inject pfsink 30
	run_once -o smtp.concurrency=4 -o smtp.rate_per_second=0 \
	    -o smtp.url="smtp://127.0.0.1:$pf_port"
	n=$(grep -l '^X-Rcpt-Args: <pfsink[0-9]*@example.net>' "$T"/pf/* 2>/dev/null | wc -l)
	u=$(grep -h '^X-Rcpt-Args:' "$T"/pf/* 2>/dev/null | sort -u | wc -l)
	check "Postfix smtp-sink, pipelined: 30 transactions, 30 recipients (got $n, $u)" [ "$n" -eq 30 -a "$u" -eq 30 ]
	check "... the dot line as it was written" grep -q '^\.a line with a dot$' "$(grep -l 'pfsink7@' "$T"/pf/* | head -1)"
	check "... the rows are sent" [ "$(q "SELECT count(*) FROM outbox WHERE dedup_key LIKE 'pfsink%' AND state = 'sent'")" -eq 30 ]
else
	skip "Postfix's smtp-sink is not installed (apt-get install postfix)"
fi

# An envelope address that would smuggle a command: refused, not sent.
inject smuggle 1
q "UPDATE outbox SET rcpt_to = 'smuggle1@example.net>' || char(13, 10) || 'RCPT TO:<victim@example.net' WHERE dedup_key = 'smuggle1'"
run_once -o smtp.concurrency=2 -o smtp.rate_per_second=0
row=$(q "SELECT state || '|' || last_reply FROM outbox WHERE dedup_key = 'smuggle1'")
case $row in "failed|refused before sending: an envelope address SMTP cannot carry"*) ok "an address with CR LF in it fails before a byte is sent" ;;
	*) not_ok "an address with CR LF in it fails before a byte is sent"; diag "got $row" ;; esac
check "... and nothing reached anyone" [ "$(grep -c victim "$SINK_DIR/log")" -eq 0 ]

# --- 9. TLS and AUTH ----------------------------------------------------
if ! command -v openssl >/dev/null 2>&1; then
	skip "TLS and AUTH: the openssl command is not installed"
	done_testing; exit 0
fi
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
    -out "$T/cert.pem" -days 2 -subj /CN=127.0.0.1 >/dev/null 2>&1
printf 's3cret\n' >"$T/pw"; chmod 600 "$T/pw"
printf 'wrong\n' >"$T/badpw"; chmod 600 "$T/badpw"
plain_port=$SINK_PORT
tls() {	# PREFIX, then settings: one message to PREFIX1, run once
	p=$1; shift
	inject "$p" 1
	run_once -o smtp.concurrency=1 -o smtp.rate_per_second=0 \
	    -o smtp.timeout=5 -o smtp.url="smtp://127.0.0.1:$SINK_PORT" "$@"
}
# This one offers PIPELINING too: pipelined commands through TLS.
start_sink "$T/tls" --starttls --cert "$T/cert.pem" --key "$T/key.pem" \
    --auth postroom:s3cret --pipelining
tls tlsok -o smtp.starttls=required -o smtp.verify_cert=false \
    -o smtp.user=postroom -o smtp.password_file="$T/pw"
check "STARTTLS required + AUTH from a password file: delivered" [ "$(state_of tlsok1@example.net)" = sent -a "$(delivered tlsok)" -eq 1 -a "$(cat "$T/tls/auths" 2>/dev/null)" -ge 1 ]
tls tlsverify -o smtp.starttls=required -o smtp.user=postroom \
    -o smtp.password_file="$T/pw"
row=$(q "SELECT state || '|' || last_reply FROM outbox WHERE rcpt_to = 'tlsverify1@example.net'")
case $row in deferred*[Cc]ertificate*|deferred*SSL*|deferred*verif*) ok "the certificate is checked by default: a self-signed one defers" ;;
	*) not_ok "the certificate is checked by default: a self-signed one defers"; diag "got $row" ;; esac
tls tlsbadpw -o smtp.starttls=required -o smtp.verify_cert=false \
    -o smtp.user=postroom -o smtp.password_file="$T/badpw"
row=$(q "SELECT state || '|' || last_code FROM outbox WHERE rcpt_to = 'tlsbadpw1@example.net'")
check "a wrong password (535) defers, it does not fail the message (got $row)" [ "$row" = "deferred|535" -a "$(delivered tlsbadpw)" -eq 0 ]
tls tlsnone -o smtp.starttls=off
row=$(q "SELECT state || '|' || last_code FROM outbox WHERE rcpt_to = 'tlsnone1@example.net'")
check "STARTTLS off against a server requiring it: 530, deferred (got $row)" [ "$row" = "deferred|530" ]
SINK_PORT=$plain_port
tls tlsmissing -o smtp.starttls=required
check "STARTTLS required but not offered: deferred, nothing sent in clear" [ "$(state_of tlsmissing1@example.net)" = deferred -a "$(delivered tlsmissing)" -eq 0 ]
start_sink "$T/smtps" --smtps --cert "$T/cert.pem" --key "$T/key.pem"
inject smtps 1
# A message of 3 MB: many TLS records, sends that do not all go at once.
inject smtpsbig 1
/usr/bin/python3 - "$T/big.eml" <<'PY'
import sys
lines = ["From: news@example.org", "To: smtpsbig1@example.net",
         "Subject: a large one", ""]
lines += [("%06d " % i) + "x" * 70 for i in range(40000)]
lines += [".a dot line at the end"]
open(sys.argv[1], "wb").write(("\r\n".join(lines) + "\r\n").encode())
PY
put_body "UPDATE outbox SET body_id = @body WHERE dedup_key = 'smtpsbig1'" "$T/big.eml"
run_once -o smtp.concurrency=1 -o smtp.timeout=5 -o smtp.verify_cert=false \
    -o smtp.url="smtps://127.0.0.1:$SINK_PORT"
check "smtps:// (TLS from the first byte): delivered" [ "$(state_of smtps1@example.net)" = sent -a "$(delivered smtps)" -eq 1 ]
f=$(grep "	smtpsbig1@example.net	" "$T/smtps/log" | cut -f6)
check "a 3 MB message over TLS arrived byte for byte" cmp -s "$T/big.eml" "$T/smtps/msgs/${f:-none}"
no_personal_data "no log line holds a recipient's address (deferred, failed, skipped)" "$T/daemon.log"
no_personal_data "... nor in the --once runs" "$T/once.log"
done_testing
