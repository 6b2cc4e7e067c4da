#!/bin/sh
# What staff do with an enquiry from the CLI, against a real postroomd and
# a capturing SMTP server (tests/tools/smtp-sink.py): "postroom enquiry
# answered REF [--undo]" and "list --unanswered"; "postroom enquiry
# reroute REF LEAD [--note TEXT]", whose forward must reach the new
# lead's address at the SMTP server made as the router makes it (Reply-To
# the enquirer, the original attached, the reference in the subject,
# who re-routed it and why in the text); the refusals in plain words
# (the lead it has, an unknown lead or reference, a note too long);
# the history and the audit log; nobody's address in the daemon's log.
. "$(dirname "$0")/lib.sh"
needs aiosmtpd sqlite3
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
TOOLS="$POSTROOM_TOP/tests/tools"

SINK="$T/sink"
mkdir -p "$SINK" "$T/var"
SINK_PORT=$(free_port)
$PYTHON "$TOOLS/smtp-sink.py" --port "$SINK_PORT" --dir "$SINK" \
    2>"$SINK/stderr" &
started $!
wait_for 10 test -f "$SINK/ready"
check "the SMTP sink is listening" [ $? -eq 0 ]

set -- -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$T/var/p.db" \
    -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o inbound.source=none -o web.listen="127.0.0.1:$(free_port)" \
    -o console.listen="127.0.0.1:$(free_port)" \
    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" -o smtp.starttls=off
q() { sqlite3 "$T/var/p.db" "$1"; }
sent() { [ "$(wc -l < "$SINK/log" 2>/dev/null || echo 0)" -ge "$1" ]; }

# One enquiry for the West Midlands DSU lead, through the MTA pipe.
printf 'From: Wendy West <wendy@nhs.example.net>\r\nTo: enquiries@example.org\r\nSubject: Black Country DSU business case\r\nMessage-ID: <act-1@nhs.example.net>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nCould the West Midlands DSU development team help with our Black Country DSU business case?\r\n' |
    "$C" "$@" deliver 2>"$T/deliver.log"
check "an enquiry is recorded through the MTA pipe" [ $? -eq 0 ]
REF=$(q "SELECT reference FROM enquiries WHERE message_id = 'act-1@nhs.example.net'")
check "... for the West Midlands DSU lead" [ "$(q "SELECT lead FROM enquiries WHERE reference = '$REF'")" = west_dsu ]

"$D" -f "$@" 2>"$T/d.log" &
pid=$!
started $pid
if wait_for 20 sent 2; then ok "postroomd sends its forward and acknowledgement"
else not_ok "postroomd sends its forward and acknowledgement"; diag "$(tail -5 "$T/d.log")"; fi

# --- answered ----------------------------------------------------------------
"$C" "$@" enquiry list --unanswered > "$T/list" 2>&1
check "list --unanswered shows it while it waits" grep -q "^$REF " "$T/list"
"$C" "$@" enquiry answered "$REF" > "$T/out" 2>&1
check "enquiry answered REF: exit 0" [ $? -eq 0 ]
check "... saying so" grep -q "$REF is marked answered" "$T/out"
check "... when and by whom in the database" [ "$(q "SELECT answered_by FROM enquiries WHERE reference = '$REF' AND answered_at > 0")" = "cli:$(id -un)" ]
"$C" "$@" enquiry list --unanswered > "$T/list" 2>&1
check "list --unanswered no longer shows it" sh -c "! grep -q '^$REF ' '$T/list' && grep -q '^0 enquiries' '$T/list'"
"$C" "$@" enquiry show "$REF" > "$T/show" 2>&1
check "show says when and by whom it was answered" grep -q "^answered: .* by cli:" "$T/show"
"$C" "$@" enquiry answered "$REF" --undo > "$T/out" 2>&1
check "answered --undo: exit 0, not answered after all" [ $? -eq 0 -a "$(q "SELECT answered_at IS NULL FROM enquiries WHERE reference = '$REF'")" = 1 ]
"$C" "$@" enquiry show "$REF" --json > "$T/show.json" 2>&1
check "show --json says it is not answered" $PYTHON -c '
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if j["answered"] is False and j["routes"] == [] else 1)' "$T/show.json"
"$C" "$@" enquiry answered ENQ-1999-99999 > "$T/out" 2>&1
rc=$?
check "answered for an unknown reference: 65, in plain words" sh -c "[ $rc -eq 65 ] && grep -q 'There is no enquiry ENQ-1999-99999' '$T/out'"
"$C" "$@" enquiry answered > /dev/null 2>&1
check "answered without a reference: 64" [ $? -eq 64 ]

# --- re-route ------------------------------------------------------------------
"$C" "$@" enquiry reroute "$REF" west_dsu > "$T/out" 2>&1
check "reroute to the lead it has: 65" [ $? -eq 65 ]
check "... saying so" grep -q "is already with West Midlands DSU development" "$T/out"
"$C" "$@" enquiry reroute "$REF" nobody_at_all > "$T/out" 2>&1
rc=$?
check "reroute to an unknown lead: 65, in plain words" sh -c "[ $rc -eq 65 ] && grep -q 'There is no lead \"nobody_at_all\"' '$T/out'"
"$C" "$@" enquiry reroute ENQ-1999-99999 east_dsu > "$T/out" 2>&1
rc=$?
check "reroute of an unknown reference: 65" sh -c "[ $rc -eq 65 ] && grep -q 'There is no enquiry' '$T/out'"
"$C" "$@" enquiry reroute "$REF" east_dsu --note "$(head -c 1001 /dev/zero | tr '\0' x)" > "$T/out" 2>&1
rc=$?
check "a note of 1,001 characters: 65" sh -c "[ $rc -eq 65 ] && grep -q 'longer than 1,000' '$T/out'"
check "... none of them changed anything" [ "$(q "SELECT lead || (SELECT count(*) FROM enquiry_routes) FROM enquiries WHERE reference = '$REF'")" = west_dsu0 ]
"$C" "$@" enquiry reroute "$REF" east_dsu --undo > /dev/null 2>&1
check "reroute with --undo: 64" [ $? -eq 64 ]

n0=$(wc -l < "$SINK/log")
"$C" "$@" enquiry reroute "$REF" east_dsu --note "They are in Derbyshire" > "$T/out" 2>&1
check "enquiry reroute REF east_dsu --note: exit 0" [ $? -eq 0 ]
check "... saying the forward is queued" grep -q "re-routed to east_dsu" "$T/out"
check "the enquiry is now the East Midlands lead's" [ "$(q "SELECT lead FROM enquiries WHERE reference = '$REF'")" = east_dsu ]
check "... with the re-route in its history: from, to, who, why" \
    [ "$(q "SELECT from_lead || '>' || to_lead || ' ' || actor || ' ' || note FROM enquiry_routes")" = "west_dsu>east_dsu cli:$(id -un) They are in Derbyshire" ]
check "... and in the audit log (that there was a note, not what it says)" \
    [ "$(q "SELECT detail FROM events WHERE kind = 'enquiry.reroute' AND subject = '$REF'")" = "west_dsu -> east_dsu, with a note" ]
"$C" "$@" audit > "$T/audit" 2>&1
check "postroom audit lists the re-route and the answered marks" \
    sh -c "grep -q 'enquiry.reroute' '$T/audit' && grep -q 'enquiry.answered' '$T/audit' && grep -q 'enquiry.unanswered' '$T/audit'"
if wait_for 20 sent $((n0 + 1)); then ok "the new forward reaches the SMTP server"
else not_ok "the new forward reaches the SMTP server"; diag "$(tail -5 "$T/d.log")"; fi
f=$(awk -F'\t' -v n="$n0" 'NR > n && $5 == "east-dsu@example.org" { print $6 }' "$SINK/log" | head -n 1)
check "... addressed to the East Midlands DSU lead" [ -n "$f" ]
m="$SINK/msgs/$(basename "${f:-none}")"
check "... from postroom, Reply-To the enquirer, the reference in the subject" \
    sh -c "grep -q '^Reply-To: Wendy West <wendy@nhs.example.net>' '$m' && grep -q '^Subject: \[$REF\] Black Country DSU business case' '$m' && grep -q '^X-Postroom-Lead: east_dsu' '$m'"
check "... the original attached, who re-routed it and why in its text" \
    sh -c "grep -q 'Content-Type: message/rfc822' '$m' && grep -q 're-routed it to you from West Midlands DSU' '$m' && grep -q 'Their note: They are in Derbyshire' '$m'"
$PYTHON "$TOOLS/check-email.py" "$m" > "$T/check.out" 2>&1
check "... and well-formed" [ $? -eq 0 ]
[ -s "$T/check.out" ] && diag "$(head -3 "$T/check.out")"
check "nothing else was sent again (one new message)" [ "$(wc -l < "$SINK/log")" -eq $((n0 + 1)) ]
"$C" "$@" enquiry show "$REF" > "$T/show" 2>&1
check "show lists the re-route" grep -q "^rerouted: .* west_dsu -> east_dsu by cli:.*: They are in Derbyshire" "$T/show"
"$C" "$@" enquiry reroute "$REF" west_dsu > "$T/out" 2>&1
check "and back again: exit 0 (a second forward, to the first lead)" [ $? -eq 0 ]
if wait_for 20 sent $((n0 + 2)); then ok "... which reaches the SMTP server too"
else not_ok "... which reaches the SMTP server too"; fi
check "... the history holds both, oldest first" [ "$(q "SELECT group_concat(to_lead, ',') FROM (SELECT to_lead FROM enquiry_routes ORDER BY id)")" = "east_dsu,west_dsu" ]

kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
no_personal_data "no log line of postroomd holds an address" "$T/d.log" Wendy
grep -q 'ERROR: AddressSanitizer\|runtime error' "$T/d.log"
check "no sanitizer reports from postroomd" [ $? -ne 0 ]
done_testing
