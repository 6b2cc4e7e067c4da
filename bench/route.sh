#!/bin/sh
# bench/route.sh - how fast enquiries are read and routed, and how long one
# takes from the public inbox to the lead.  It measures; it never passes or
# fails on timing.
#
#  1. "postroom route --dry-run" over N messages (the labelled corpus in
#     ../shared, each copy given its own Message-ID), against a baseline
#     measured in the same run on the same files: Python's email package
#     (policy default) parsing them and walking their text parts, a parser
#     that decodes about as much as postroom's does before routing.
#  2. IMAP APPEND to a private Dovecot -> postroomd (IDLE) -> the forward
#     accepted by an SMTP sink: median and worst of RUNS enquiries, sent
#     one at a time.  Dovecot's own IDLE notification delay (about half a
#     second) is part of what is measured, as it is in production.
#
#   N=3000 RUNS=50 BIN=bin sh bench/route.sh
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
N=${N:-3000}
RUNS=${RUNS:-50}
BIN=${BIN:-$top/bin}
PY=/usr/bin/python3
shared=${POSTROOM_SHARED:-$top/../shared}

if [ ! -x "$BIN/postroom" ] || [ ! -x "$BIN/postroomd" ]; then
	echo "route: $BIN/postroom is not built (make); skipped"
	exit 0
fi
if [ ! -d "$shared/corpus/enquiries" ]; then
	echo "route: SKIPPED: $shared/corpus/enquiries not found"
	exit 0
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/postroom-bench-route.XXXXXX")
chmod 711 "$T"
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done;
    sh "$top/tests/tools/dovecot.sh" stop "$T/dovecot" >/dev/null 2>&1;
    rm -rf "$T"' EXIT INT TERM
now() { $PY -c 'import time; print(time.time())'; }

# --- 1. throughput --------------------------------------------------------
mkdir -p "$T/msgs"
$PY - "$shared/corpus/enquiries" "$T/msgs" "$N" <<'EOF'
import os, re, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(f for f in os.listdir(src) if f.endswith(".eml"))
raw = [open(os.path.join(src, f), "rb").read() for f in files]
for i in range(n):
    m = raw[i % len(raw)]
    m = re.sub(rb"(?im)^Message-ID:[^\r\n]*", b"Message-ID: <bench-%d@example.net>" % i, m, count=1)
    open(os.path.join(dst, "%06d.eml" % i), "wb").write(m)
EOF
conf="-c $top/config/postroom.conf -o general.templates=$top/templates"
t0=$(now)
"$BIN/postroom" $conf route --dry-run --json "$T/msgs" > "$T/route.json" 2>"$T/route.err"
t1=$(now)
routed=$(wc -l < "$T/route.json")
t2=$(now)
$PY - "$T/msgs" <<'EOF'
import email, email.policy, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"), policy=email.policy.default)
    for part in m.walk():
        if part.get_content_maintype() == "text":
            try:
                part.get_content()
            except Exception:
                pass
EOF
t3=$(now)
$PY - "$routed" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import sys
n, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:])
a, b = n / (t1 - t0), n / (t3 - t2)
print("route --dry-run: postroom %.0f msg/s, python email %.0f msg/s, ratio %.2f (%d messages)" % (a, b, a / b, n))
EOF

# --- 2. latency, inbox to lead -------------------------------------------
if ! command -v dovecot >/dev/null 2>&1; then
	echo "route: dovecot not installed; latency skipped"
	exit 0
fi
imap_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
sink_port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
sh "$top/tests/tools/dovecot.sh" start "$T/dovecot" "$imap_port" plain >/dev/null 2>&1 || {
	echo "route: dovecot would not start; latency skipped"; exit 0; }
mkdir -p "$T/sink"
$PY "$top/tests/tools/smtp-sink.py" --port "$sink_port" --dir "$T/sink" 2>/dev/null &
pids="$pids $!"
printf 'secret\n' > "$T/pass"; chmod 600 "$T/pass"
mkdir -p "$T/var"
"$BIN/postroomd" -f $conf -o general.database="$T/var/p.db" \
    -o general.secret_file="$T/var/key" -o inbound.source=imap \
    -o inbound.imap_url="imap://127.0.0.1:$imap_port" -o inbound.imap_user=test \
    -o inbound.password_file="$T/pass" -o inbound.starttls=off \
    -o smtp.url="smtp://127.0.0.1:$sink_port" -o smtp.starttls=off \
    -o web.listen="127.0.0.1:$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')" \
    2>"$T/d.log" &
pids="$pids $!"
sleep 2
$PY - "$imap_port" "$T/sink/log" "$RUNS" <<'EOF'
import imaplib, os, statistics, sys, time
port, log, runs = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
m = imaplib.IMAP4("127.0.0.1", port)
m.login("test", "secret")
def lines():
    try:
        return open(log).read().count("\n")
    except FileNotFoundError:
        return 0
lat = []
for i in range(runs):
    before = lines()
    msg = ("From: Bench %d <bench%d@nhs.example.net>\r\nTo: enquiries@example.org\r\n"
           "Subject: Joining the Analyst Network huddles\r\nMessage-ID: <lat-%d@example.net>\r\n\r\n"
           "I would like to join the Midlands Analyst Network huddles.\r\n" % (i, i, i))
    t = time.time()
    m.append("INBOX", None, None, msg.encode())
    # the forward and the acknowledgement
    while lines() < before + 2 and time.time() - t < 30:
        time.sleep(0.005)
    lat.append(time.time() - t)
m.logout()
lat.sort()
print("inbox to lead: median %.0f ms, worst %.0f ms over %d enquiries (IMAP APPEND to the forward accepted by the SMTP sink)"
      % (statistics.median(lat) * 1000, lat[-1] * 1000, len(lat)))
EOF
