#!/bin/sh
# A real browser through the web pages: headless Chromium (Debian's
# chromium and chromium-driver) driven by tests/tools/browser.py subscribes
# on a phone-sized screen, confirms through the link in the email that
# postroomd delivered to an SMTP sink, then uses a newsletter's
# preferences and unsubscribe links, and a test copy's links (which change
# nothing), then reads the newsletter online and opens a changed link and
# an address with no page; the database is checked at each step.
# Full-page screenshots of every page are kept in $SHOTS (BUILD/screenshots,
# git-ignored) for a person to look at.
# Every page is checked against WCAG 2.2 A and AA with axe-core, on a phone
# and on a desktop, when make has installed it (BUILD/npm, from
# tests/tools/npm/package-lock.json); without it those checks are skipped.
. "$(dirname "$0")/lib.sh"
D="$POSTROOM_BIN/postroomd"
C="$POSTROOM_BIN/postroom"
BUILDDIR=$(cd "$POSTROOM_BIN/../.." && pwd)
SHOTS=${POSTROOM_SCREENSHOTS:-$BUILDDIR/screenshots}
AXE=${POSTROOM_AXE:-$BUILDDIR/npm/node_modules/axe-core/axe.min.js}

for tool in chromium chromedriver sqlite3; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "$tool is not installed (apt-get install chromium chromium-driver sqlite3)"
		done_testing; exit 0
	fi
done
needs aiosmtpd

DB="$T/var/p.db"
mkdir -p "$T/var" "$T/sink"
conf="$T/postroom.conf"
cp "$POSTROOM_TOP/config/postroom.conf" "$conf"
PORT=$(free_port)
H="http://127.0.0.1:$PORT"

SINK_PORT=$(free_port)
$PYTHON "$POSTROOM_TOP/tests/tools/smtp-sink.py" --port "$SINK_PORT" \
    --dir "$T/sink" 2>"$T/sink.err" &
started $!
if wait_for 10 test -f "$T/sink/ready"; then ok "the SMTP sink listens on 127.0.0.1:$SINK_PORT"
else not_ok "the SMTP sink listens"; diag "$(cat "$T/sink.err")"; done_testing; exit 1; fi

opts() {
	set -- -c "$conf" -o general.database="$DB" \
	    -o general.secret_file="$T/var/secret.key" \
	    -o general.templates="$POSTROOM_TOP/templates" \
	    -o general.base_url="$H" -o web.listen="127.0.0.1:$PORT" \
	    -o inbound.source=none -o smtp.starttls=off \
	    -o smtp.url="smtp://127.0.0.1:$SINK_PORT" "$@"
	printf '%s\n' "$@"
}
(IFS='
'; exec "$D" $(opts) -f) 2>"$T/d.log" &
DPID=$!
started $DPID
if wait_for 15 grep -q 'web: serving on' "$T/d.log"; then ok "postroomd serves the web pages and delivers to the sink"
else not_ok "postroomd serves the web pages"; diag "$(cat "$T/d.log")"; done_testing; exit 1; fi

CD_PORT=$(free_port)
chromedriver --port="$CD_PORT" --allowed-ips=127.0.0.1 >"$T/chromedriver.log" 2>&1 &
started $!
if wait_for 15 curl -sf "http://127.0.0.1:$CD_PORT/status" -o /dev/null; then ok "chromedriver is up"
else not_ok "chromedriver is up"; diag "$(tail -5 "$T/chromedriver.log")"; done_testing; exit 1; fi

# What "send a newsletter" is for this test: a campaign composed with the
# CLI, then its recipients queued.  With a "postroom campaign send" the CLI
# does that; without one, the rows the campaign engine would write are
# written here, and the daemon's delivery thread renders and sends them.
printf 'Hello {{subscriber.name}},\n\nThis is the **network news**.\n' > "$T/news.md"
opts > "$T/opts"
export C T DB
cat > "$T/send.sh" <<'EOF'
set -e
nl='
'
cli() { (IFS=$nl; exec "$C" $(cat "$T/opts") "$@"); }
cli campaign new news --subject "Autumn bulletin" --body "$T/news.md" >/dev/null
id=$(sqlite3 "$DB" "SELECT max(id) FROM campaigns")
if cli campaign send "$id" --yes >"$T/send.out" 2>&1 </dev/null; then
	echo "# sent with postroom campaign send" >&2
else
	echo "# no 'postroom campaign send' yet: recipients queued with SQL" >&2
	sqlite3 "$DB" "UPDATE campaigns SET status = 'sending',
	    started_at = strftime('%s') WHERE id = $id;
	    INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from,
	    rcpt_to, created_at, updated_at)
	    SELECT 'campaign', $id, s.id, 'bounces@example.org', s.email,
	    strftime('%s'), strftime('%s') FROM memberships m
	    JOIN subscribers s ON s.id = m.subscriber_id
	    WHERE m.list = 'news' AND m.status = 'confirmed'"
fi
EOF

cat > "$T/test.sh" <<'EOF'
set -e
nl='
'
cli() { (IFS=$nl; exec "$C" $(cat "$T/opts") "$@"); }
id=$(sqlite3 "$DB" "SELECT max(id) FROM campaigns")
cli campaign test "$id" --to ann.browser@example.net >/dev/null
EOF

if [ -f "$AXE" ]; then
	set -- --axe "$AXE"
else
	skip "accessibility checks: axe-core is not installed at $AXE (make check installs it with npm ci)"
	set --
fi
rm -f "$SHOTS"/*.png
$PYTHON "$POSTROOM_TOP/tests/tools/browser.py" \
    --webdriver "http://127.0.0.1:$CD_PORT" --base "$H" --db "$DB" \
    --sink "$T/sink" --shots "$SHOTS" --email "ann.browser@example.net" \
    --send-newsletter "sh $T/send.sh 2>$T/send.err" \
    --send-test "sh $T/test.sh 2>>$T/send.err" "$@" \
    >"$T/journey" 2>"$T/journey.err"
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	"# "*) diag "${line#\# }" ;;
	esac
done < "$T/journey"
check "browser.py finished without an error" [ "$rc" -eq 0 -a ! -s "$T/journey.err" ]
[ -s "$T/journey.err" ] && diag "$(tail -5 "$T/journey.err")"
[ -s "$T/send.err" ] && diag "$(cat "$T/send.err")"
n=$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)
check "17 screenshots saved in $SHOTS" [ "$n" -eq 17 ]

grep -n 'example\.net' "$T/d.log" > "$T/leaks"
check "the address never appears in postroomd's log" [ ! -s "$T/leaks" ]
kill -TERM $DPID
i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $DPID 2>/dev/null; then not_ok "postroomd stops on SIGTERM"
else wait $DPID; rc=$?; check "postroomd stops on SIGTERM, status 0" [ "$rc" -eq 0 ]; fi
grep -q 'ERROR: AddressSanitizer\|runtime error' "$T/d.log"
check "no sanitizer reports from postroomd" [ $? -ne 0 ]
done_testing
