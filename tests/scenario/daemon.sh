#!/bin/sh
# postroomd's skeleton, for real: -n, start in the foreground, the single-
# instance lock, a message dropped into the Maildir noticed, SIGHUP with a
# bad and a good configuration, SIGTERM within 5 seconds, --once.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"
set -- -c "$conf" -o general.database="$T/var/p.db" \
    -o inbound.maildir="$T/inbox" -o smtp.url="maildir:$T/outbox" \
    -o general.secret_file="$T/var/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates"
mkdir -p "$T/var"

out=$("$D" -c "$conf" -n 2>&1); rc=$?
check "postroomd -n on the shipped config says configuration OK" \
    [ "$rc" -eq 0 -a "$out" = "configuration OK" ]

printf 'general = { databse = "x"; };\n' > "$T/bad.conf"
out=$("$D" -c "$T/bad.conf" -n 2>&1); rc=$?
check "postroomd -n on a bad config exits 2" [ "$rc" -eq 2 ]
case $out in *"$T/bad.conf:1:"*databse*) ok "postroomd -n names the file, line and setting" ;;
	*) not_ok "postroomd -n names the file, line and setting"; diag "got: $out" ;; esac

"$D" -f "$@" 2>"$T/d.log" & pid=$!; started $pid
if wait_for 10 grep -q 'started' "$T/d.log"; then ok "postroomd -f starts"
else not_ok "postroomd -f starts"; diag "$(cat "$T/d.log")"; fi
check "the database was created with its schema" [ -s "$T/var/p.db" ]

out=$("$D" -f "$@" 2>&1); rc=$?
case $out in *"already running"*) r=0 ;; *) r=1 ;; esac
check "a second postroomd on the same database refuses to start" [ "$rc" -ne 0 -a $r -eq 0 ]

printf 'From: Ann <ann@example.net>\r\nTo: enquiries@example.org\r\nSubject: hello\r\nMessage-ID: <1@example.net>\r\n\r\nHello.\r\n' \
    > "$T/inbox/tmp/1.eml" && mv "$T/inbox/tmp/1.eml" "$T/inbox/new/1.eml"
if wait_for 10 grep -q 'ENQ-[0-9]*-00001: maildir:1.eml' "$T/d.log"; then ok "a message moved into new/ is routed"
else not_ok "a message moved into new/ is routed"; diag "$(cat "$T/d.log")"; fi
check "the routed message is filed in cur/ with the seen flag" \
    wait_for 5 test -f "$T/inbox/cur/1.eml:2,S"
# general has two addresses: two forwards, and one acknowledgement.
n_out() { [ "$(ls "$T/outbox/new" 2>/dev/null | wc -l)" -eq 3 ]; }
check "the delivery thread writes 2 forwards and 1 acknowledgement" wait_for 10 n_out
grep -l '^Auto-Submitted: auto-replied' "$T"/outbox/new/* >/dev/null 2>&1
check "one of them is the acknowledgement (Auto-Submitted: auto-replied)" [ $? -eq 0 ]

cp "$conf" "$T/good.conf"
printf 'smtp = { concurrency = "many"; };\n' >> "$conf"
kill -HUP $pid
if wait_for 5 grep -q 'keeping the old one' "$T/d.log"; then ok "SIGHUP with a bad config keeps the old one"
else not_ok "SIGHUP with a bad config keeps the old one"; diag "$(cat "$T/d.log")"; fi
check "the daemon is still running after a bad reload" kill -0 $pid
cp "$T/good.conf" "$conf"
kill -HUP $pid
if wait_for 5 grep -q 'configuration reloaded' "$T/d.log"; then ok "SIGHUP with a good config reloads"
else not_ok "SIGHUP with a good config reloads"; fi

kill -TERM $pid
i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $pid 2>/dev/null; then not_ok "SIGTERM stops postroomd within 5 seconds"
else wait $pid; rc=$?; check "SIGTERM stops postroomd within 5 seconds, status 0" [ "$rc" -eq 0 ]; fi

cp "$T/inbox/cur/1.eml:2,S" "$T/inbox/new/again.eml"
"$D" --once "$@" 2>"$T/once.log"; rc=$?
check "postroomd --once does the due work and exits 0" [ "$rc" -eq 0 ]
grep -q 'already recorded as ENQ-[0-9]*-00001' "$T/once.log"
check "the same message seen again is not routed twice" [ $? -eq 0 ]
check "... and is filed all the same" test -f "$T/inbox/cur/again.eml:2,S"

# Run from the checkout, the commands find the tree's templates without
# -o general.templates (the default directory is not installed here).
if [ -d /usr/local/share/postroom/templates ]; then
	skip "templates from the source tree: they are installed on this machine"
else
	tree() { "$C" -c "$conf" -o general.database="$T/var/p.db" \
	    -o smtp.url="maildir:$T/outbox" \
	    -o general.secret_file="$T/var/secret.key" "$@"; }
	tree config dump > "$T/dump" 2>&1
	check "config dump says the source tree's templates are used" \
	    grep -q "^general.templates = \"$POSTROOM_TOP/templates\"  # .* does not exist: using the source tree's" "$T/dump"
	tree subscriber add news tree@example.net > "$T/tree.out" 2>&1; rc=$?
	check "subscriber add (a confirmation email) works without -o general.templates" [ "$rc" -eq 0 ]
	printf '# Hello\n\nA newsletter.\n' > "$T/body.md"
	id=$(tree campaign new news --subject "From the tree" --body "$T/body.md" 2>"$T/tree.err")
	tree campaign preview "$id" --text > "$T/tree.txt" 2>>"$T/tree.err"; rc=$?
	check "campaign preview works without -o general.templates" \
	    [ "$rc" -eq 0 -a -s "$T/tree.txt" ]
	[ "$rc" -eq 0 ] || diag "$(cat "$T/tree.out" "$T/tree.err")"
fi

"$D" --bogus >/dev/null 2>&1; rc=$?
check "postroomd with an unknown option exits 64" [ "$rc" -eq 64 ]
"$D" --help >"$T/help" 2>&1; rc=$?
grep -q -- '-n ' "$T/help"; g=$?
check "postroomd --help exits 0 and explains -n" [ "$rc" -eq 0 -a $g -eq 0 ]
done_testing
