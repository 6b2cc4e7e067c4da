#!/bin/sh
# The mailto unsubscribe in every newsletter, end to end.  postroomd sends
# a real newsletter to tests/tools/smtp-sink.py (aiosmtpd); each
# subscriber's List-Unsubscribe mailto address is read from the message
# as delivered, and a reply to it comes back in by each inbound path:
#   (a) "postroom deliver" (the MTA pipe), twice, as an MTA may;
#   (b) a Maildir source, with postroomd --once;
#   (c) IMAP IDLE against the private Dovecot (tests/tools/dovecot.sh).
# Each time the person leaves the list; nothing new is queued or reaches
# the sink (no acknowledgement, no forward); no enquiry is recorded; the
# request is recorded (mail_unsubscribes) and the message filed.  A mail
# with a forged token (pipe and IMAP) is recorded as forged and changes
# nothing; an ordinary enquiry sent the same way after it is routed and
# acknowledged, so the silence is the request's, not a broken sink.  No
# log line of the inbound side carries a subscriber's address.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
P="$POSTROOM_BIN/postroom"
TOOLS="$POSTROOM_TOP/tests/tools"
TOKEN="$PYTHON $TOOLS/web-token.py"

needs aiosmtpd sqlite3

DB="$T/var/p.db"
KEY="$T/var/secret.key"
mkdir -p "$T/var"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"

SINK="$T/sink"
mkdir -p "$SINK"
SINK_PORT=$(free_port)
$PYTHON "$TOOLS/smtp-sink.py" --port "$SINK_PORT" --dir "$SINK" \
    2>"$SINK/stderr" &
started $!
if wait_for 10 test -f "$SINK/ready"; then ok "the sink listens on 127.0.0.1:$SINK_PORT"
else not_ok "the sink listens"; diag "$(cat "$SINK/stderr")"; done_testing; exit 1; fi

opts() {
	set -- -c "$conf" -o general.database="$DB" \
	    -o general.secret_file="$KEY" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o inbound.source=none -o smtp.starttls=off \
	    -o web.listen="127.0.0.1:$(free_port)" \
	    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" \
	    -o smtp.rate_per_second=0 "$@"
	printf '%s\n' "$@"
}
# p ARGS...: postroom with opts; stdout in $T/out, stderr in $T/err, $rc.
p() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$P" $(opts) "$@") >"$T/out" 2>"$T/err"
	rc=$?
}
# deliver FILE: "postroom deliver" with FILE on standard input; $rc.
deliver() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$P" $(opts) deliver) <"$1" >"$T/out" 2>>"$T/in.log"
	rc=$?
}
# run_once [OPTS...]: postroomd --once, its log in $T/once.log (or $LOG).
run_once() {
	# shellcheck disable=SC2046
	(IFS='
'; exec "$D" $(opts "$@") --once) 2>>"${LOG:-$T/once.log}"
}
q() { sqlite3 "$DB" "$1"; }
status_of() { q "SELECT m.status FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE s.email = '$1' AND m.list = '${2:-news}'"; }
id_of() { q "SELECT id FROM subscribers WHERE email = '$1'"; }
outbox() { q "SELECT count(*) FROM outbox"; }
enquiries() { q "SELECT count(*) FROM enquiries"; }
sent() { wc -l < "$SINK/log" 2>/dev/null || echo 0; }
# request ID OUTCOME: the mail_unsubscribes row of <ID@example.net> has it.
request() { [ "$(q "SELECT outcome FROM mail_unsubscribes WHERE message_key = '<$1@example.net>'")" = "$2" ]; }
# reply FROM TO ID FILE: a person's one-line reply, as a mail client writes it.
reply() {
	printf 'From: %s\nTo: %s\nSubject: unsubscribe\nMessage-ID: <%s@example.net>\nDate: Mon, 16 Nov 2026 09:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nunsubscribe\n' \
	    "$1" "$2" "$3" >"$4"
}

# --- a newsletter, sent for real --------------------------------------------
for who in ann bob carol dave erin; do
	p subscriber add news $who@example.net --confirmed
done
p subscriber add training ann@example.net --confirmed
check "five members of news" [ "$(q "SELECT count(*) FROM memberships WHERE list = 'news' AND status = 'confirmed'")" -eq 5 ]
printf 'Dear {{subscriber.name}},\n\nNews of the network.\n' >"$T/body.md"
p campaign new news --subject "Network news" --body "$T/body.md"
cid=$(cat "$T/out")
p campaign send "$cid" --yes
check "campaign send exits 0" [ "$rc" -eq 0 ]
run_once
check "postroomd delivered the newsletter to all five" [ "$(sent)" -eq 5 ]

# Each recipient's List-Unsubscribe mailto address, as delivered.
$PYTHON - "$SINK" >"$T/mailto" <<'EOF'
import email, email.policy, os, re, sys
d = sys.argv[1]
for line in open(os.path.join(d, "log")):
    f = line.rstrip("\n").split("\t")
    with open(os.path.join(d, "msgs", f[5]), "rb") as fh:
        m = email.message_from_binary_file(fh, policy=email.policy.default)
    lu = str(m["List-Unsubscribe"] or "")
    found = re.search(r"<mailto:([^?>]+)(\?[^>]*)?>", lu)
    if found:
        print(f[4], found.group(1))
EOF
mailto() { awk -v r="$1" '$1 == r { print $2 }' "$T/mailto"; }
check "every newsletter offers a mailto unsubscribe address" [ "$(wc -l < "$T/mailto")" -eq 5 ]
check "... unsubscribe+TOKEN on postroom's own domain" \
    [ "$(grep -Ec ' unsubscribe\+[A-Za-z0-9_-]+@example\.org$' "$T/mailto")" -eq 5 ]
check "... each its own" [ "$(cut -d' ' -f2 "$T/mailto" | sort -u | wc -l)" -eq 5 ]

reply ann@example.net "$(mailto ann@example.net)" ann-1 "$T/ann.eml"
(IFS='
'; exec "$P" $(opts) route --explain "$T/ann.eml") >"$T/explain" 2>&1
check "route --explain says it is an unsubscribe request, not an enquiry" \
    grep -q '^unsubscribe: yes' "$T/explain"

# --- (a) the MTA pipe --------------------------------------------------------
o0=$(outbox); s0=$(sent)
deliver "$T/ann.eml"
check "(pipe) postroom deliver exits 0" [ "$rc" -eq 0 ]
check "(pipe) ann has left news" [ "$(status_of ann@example.net)" = unsubscribed ]
check "(pipe) ... and only news" [ "$(status_of ann@example.net training)" = confirmed ]
check "(pipe) nothing was queued (no acknowledgement, no forward)" [ "$(outbox)" -eq "$o0" ]
check "(pipe) no enquiry was recorded" [ "$(enquiries)" -eq 0 ]
check "(pipe) the request is recorded as done, from the pipe" \
    [ "$(q "SELECT outcome || ' ' || subscriber_id || ' ' || list || ' ' || source FROM mail_unsubscribes WHERE message_key = '<ann-1@example.net>'")" = "done $(id_of ann@example.net) news pipe" ]
check "(pipe) the audit log says: unsubscribed by mail" \
    [ "$(q "SELECT count(*) FROM events WHERE kind = 'member.unsubscribed' AND subject = 'ann@example.net' AND detail = 'list news method mail source pipe'")" -eq 1 ]
deliver "$T/ann.eml"
check "(pipe) the same message delivered again: exit 0" [ "$rc" -eq 0 ]
check "(pipe) ... recorded once" [ "$(q "SELECT count(*) FROM mail_unsubscribes")" -eq 1 ]
check "(pipe) ... and moved once" \
    [ "$(q "SELECT count(*) FROM events WHERE kind = 'member.unsubscribed'")" -eq 1 ]

# A forged token: ann's, signed with another key, for dave.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/other.key"
FORGED="unsubscribe+$($TOKEN "$T/other.key" unsubscribe "$(id_of dave@example.net)" --campaign "$cid")@example.org"
reply dave@example.net "$FORGED" forged-1 "$T/forged1.eml"
deliver "$T/forged1.eml"
check "(pipe) a forged token: exit 0" [ "$rc" -eq 0 ]
check "(pipe) ... recorded as forged" request forged-1 forged
check "(pipe) ... dave is still subscribed" [ "$(status_of dave@example.net)" = confirmed ]
check "(pipe) ... not routed: no enquiry, nothing queued" [ "$(enquiries)" -eq 0 -a "$(outbox)" -eq "$o0" ]
run_once
check "(pipe) a run of the delivery engine sends nothing new" [ "$(sent)" -eq "$s0" ]

# --- (b) a Maildir -----------------------------------------------------------
M="$T/inbox"
mkdir -p "$M/new" "$M/cur" "$M/tmp"
reply "Bob <bob@example.net>" "$(mailto bob@example.net)" bob-1 "$M/new/1.bob"
LOG="$T/in.log" run_once -o inbound.source=maildir -o inbound.maildir="$M"
check "(maildir) bob has left news" [ "$(status_of bob@example.net)" = unsubscribed ]
check "(maildir) the request is recorded as done" request bob-1 done
check "(maildir) the message was filed: new/ is empty, cur/ holds it" \
    [ "$(ls "$M/new" | wc -l)" -eq 0 -a "$(ls "$M/cur" | wc -l)" -eq 1 ]
check "(maildir) nothing was queued or sent" [ "$(outbox)" -eq "$o0" -a "$(sent)" -eq "$s0" ]
check "(maildir) no enquiry was recorded" [ "$(enquiries)" -eq 0 ]

# --- (c) IMAP ----------------------------------------------------------------
if ! command -v dovecot >/dev/null 2>&1; then
	skip "dovecot is not installed: the IMAP path is not tested here"
else
	chmod 711 "$T"	# Dovecot's mail processes run as nobody under root
	DV="$T/dovecot"
	IMAP_PORT=$(free_port)
	stop_dovecot() { sh "$TOOLS/dovecot.sh" stop "$DV" >/dev/null 2>&1; }
	trap 'stop_dovecot; cleanup' EXIT INT TERM
	sh "$TOOLS/dovecot.sh" start "$DV" "$IMAP_PORT" plain >"$T/dovecot.out" 2>&1
	check "(imap) a private Dovecot starts on 127.0.0.1:$IMAP_PORT" [ $? -eq 0 ]
	printf 'secret\n' >"$T/imap.pass"
	chmod 600 "$T/imap.pass"
	# shellcheck disable=SC2046
	(IFS='
'; exec "$D" $(opts -o inbound.source=imap \
	    -o inbound.imap_url="imap://127.0.0.1:$IMAP_PORT" \
	    -o inbound.imap_user=test -o inbound.password_file="$T/imap.pass" \
	    -o inbound.starttls=off -o inbound.routed_folder=Routed) -f) \
	    2>"$T/imap.log" &
	DPID=$!
	started $DPID
	if wait_for 15 grep -q 'started' "$T/imap.log"; then ok "(imap) postroomd starts on the IMAP inbox"
	else not_ok "(imap) postroomd starts on the IMAP inbox"; diag "$(cat "$T/imap.log")"; fi
	imap() { $PYTHON "$TOOLS/imaptool.py" "$IMAP_PORT" "$@"; }
	routed() { [ "$(imap count Routed)" = "$1" ]; }

	reply carol@example.net "$(mailto carol@example.net)" carol-1 "$T/carol.eml"
	imap append INBOX "$(cat "$T/carol.eml")"
	check "(imap) APPEND the reply to the inbox" [ $? -eq 0 ]
	check "(imap) the message is filed in Routed" wait_for 20 routed 1
	check "(imap) ... and the inbox is empty" [ "$(imap count INBOX)" = 0 ]
	check "(imap) carol has left news" [ "$(status_of carol@example.net)" = unsubscribed ]
	check "(imap) the request is recorded as done" request carol-1 done

	# dave's own token with one character changed.
	DAVE=$(mailto dave@example.net)
	TAMPERED=$(printf '%s' "$DAVE" | $PYTHON -c '
import sys
a = sys.stdin.read()
i = a.index("@") - 3
print(a[:i] + ("A" if a[i] != "A" else "B") + a[i + 1:])')
	reply dave@example.net "$TAMPERED" forged-2 "$T/forged2.eml"
	imap append INBOX "$(cat "$T/forged2.eml")"
	check "(imap) a forged token: filed in Routed" wait_for 20 routed 2
	check "(imap) ... recorded as forged" request forged-2 forged
	check "(imap) ... dave is still subscribed" [ "$(status_of dave@example.net)" = confirmed ]

	# The control: an ordinary enquiry after them is routed and answered.
	imap append INBOX "From: Erin Okafor <erin@example.net>
To: enquiries@example.org
Subject: Joining the Analyst Network huddles
Message-ID: <erin-1@example.net>

I work in Derby and would like to join the Midlands Analyst Network
and come to its fortnightly huddles.
"
	check "(imap) an ordinary enquiry after them is forwarded and acknowledged" \
	    wait_for 20 sh -c "[ \$(wc -l < '$SINK/log') -ge $((s0 + 2)) ]"
	sleep 1
	check "(imap) ... and that is all that reached the sink: nothing for the unsubscribe requests" \
	    [ "$(sent)" -eq $((s0 + 2)) ]
	check "(imap) one enquiry recorded in all, erin's" \
	    [ "$(q "SELECT group_concat(sender) FROM enquiries")" = erin@example.net ]
	kill -TERM $DPID
	wait $DPID
	check "(imap) SIGTERM stops postroomd cleanly" [ $? -eq 0 ]
fi

# --- what is left behind -----------------------------------------------------
if command -v dovecot >/dev/null 2>&1; then
	want_outcomes="done forged done done forged"
	want_left="dave@example.net erin@example.net"
else
	want_outcomes="done forged done"
	want_left="carol@example.net dave@example.net erin@example.net"
fi
check "every request recorded once, with its outcome ($want_outcomes)" \
    [ "$(q "SELECT group_concat(outcome, ' ') FROM (SELECT outcome FROM mail_unsubscribes ORDER BY id)")" = "$want_outcomes" ]
check "only those whose token was forged or who never wrote are still on news" \
    [ "$(q "SELECT group_concat(email, ' ') FROM (SELECT s.email FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id WHERE m.list = 'news' AND m.status = 'confirmed' ORDER BY s.email)")" = "$want_left" ]
cat "$T/in.log" "$T/imap.log" 2>/dev/null >"$T/inbound.log"
if grep -E '(ann|bob|carol|dave)@example\.net' "$T/inbound.log" >"$T/leak"; then
	not_ok "no inbound log line carries a subscriber's address"; sed 's/^/# /' "$T/leak"
else ok "no inbound log line carries a subscriber's address"; fi
check "... but they say who left which list, by id" \
    grep -q "subscriber $(id_of bob@example.net), list news: unsubscribed" "$T/inbound.log"
done_testing
