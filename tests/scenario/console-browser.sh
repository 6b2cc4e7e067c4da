#!/bin/sh
# The staff console in a real browser: headless Chromium (Debian's chromium
# and chromium-driver) driven by tests/tools/console-browser.py signs in
# with the form as an admin and walks every console page, then as a lead
# who sees only their own enquiry; every page is screenshot at phone and
# desktop widths into BUILD/screenshots and checked against WCAG 2.2 A
# and AA with axe-core (installed by make into BUILD/npm).
. "$(dirname "$0")/lib.sh"
for tool in chromium chromedriver; do
	if ! command -v $tool >/dev/null 2>&1; then
		skip "$tool is not installed (apt-get install chromium chromium-driver)"
		done_testing; exit 0
	fi
done
needs curl sqlite3 aiosmtpd
BUILDDIR=$(cd "$POSTROOM_BIN/../.." && pwd)
SHOTS=${POSTROOM_SCREENSHOTS:-$BUILDDIR/screenshots}
AXE=${POSTROOM_AXE:-$BUILDDIR/npm/node_modules/axe-core/axe.min.js}
CONSOLE_SINK=1
. "$(dirname "$0")/lib-console.sh"
# The image the admin uploads: a 40 by 20 PNG.
$PYTHON - "$T/chart.png" <<'EOF'
import struct, sys, zlib
def chunk(t, d):
    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
raw = b''.join(b'\x00' + b'\x00\x5e\xa5' * 40 for _ in range(20))
open(sys.argv[1], 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 40, 20, 8, 2, 0, 0, 0)) +
    chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
EOF

CD_PORT=$(free_port)
chromedriver --port="$CD_PORT" --allowed-ips=127.0.0.1 >"$T/chromedriver.log" 2>&1 &
started $!
if wait_for 15 curl -sf "http://127.0.0.1:$CD_PORT/status" -o /dev/null; then ok "chromedriver is up"
else not_ok "chromedriver is up"; diag "$(tail -5 "$T/chromedriver.log")"; done_testing; exit 1; fi

if [ -f "$AXE" ]; then
	set -- --axe "$AXE"
else
	skip "accessibility checks: axe-core is not installed at $AXE (make check installs it with npm ci)"
	set --
fi
rm -f "$SHOTS"/console-*.png
$PYTHON "$POSTROOM_TOP/tests/tools/console-browser.py" \
    --webdriver "http://127.0.0.1:$CD_PORT" --base "$H" --db "$DB" \
    --shots "$SHOTS" --password "$PW" --wref "$WREF" --eref "$EREF" \
    --sink "$T/sink" --image "$T/chart.png" --aref "$AREF" --href "$HREF" "$@" \
    >"$T/journey" 2>"$T/journey.err"
rc=$?
while IFS= read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	"# "*) diag "${line#\# }" ;;
	esac
done < "$T/journey"
check "console-browser.py finished without an error" [ "$rc" -eq 0 -a ! -s "$T/journey.err" ]
[ -s "$T/journey.err" ] && diag "$(tail -5 "$T/journey.err")"
n=$(ls "$SHOTS"/console-*.png 2>/dev/null | wc -l)
check "50 console screenshots (25 pages, 2 widths) saved in $SHOTS" [ "$n" -eq 50 ]
no_personal_data "postroomd's log" "$T/d.log"
kill -TERM $DPID
i=0; while kill -0 $DPID 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'ERROR: AddressSanitizer\|runtime error' "$T/d.log"
check "no sanitizer reports from postroomd" [ $? -ne 0 ]
done_testing
