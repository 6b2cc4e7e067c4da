#!/bin/sh
# The routing gate: the shipped config/postroom.conf over the labelled
# enquiries in ../shared/corpus/enquiries (labels.tsv: file, expected
# lead, why, no_autoreply).  Fails when fewer than 90% go to their lead or
# when any message marked no_autoreply=yes would be acknowledged; every
# miss is printed as "got X, want Y".  Also checks "postroom route"
# itself: --json fields, --explain, exit codes.  Nothing is sent.
. "$(dirname "$0")/lib.sh"
C="$POSTROOM_BIN/postroom"
conf="$POSTROOM_TOP/config/postroom.conf"
corpus="$POSTROOM_SHARED/corpus/enquiries"
GATE=90

if [ ! -f "$corpus/labels.tsv" ]; then
	echo "# SKIPPED: routing corpus gate: $corpus/labels.tsv is absent" \
	    "(../shared is not beside the work tree)"
	skip "routing corpus gate: ../shared/corpus/enquiries is absent"
	done_testing
	exit 0
fi

"$C" -c "$conf" route --dry-run --json "$corpus" >"$T/out.json" \
    2>"$T/err"; rc=$?
if [ "$rc" -eq 0 ]; then ok "route --dry-run --json over the corpus exits 0"
else not_ok "route --dry-run --json over the corpus exits 0"; diag "exit $rc: $(cat "$T/err")"; fi

# Compare with the labels; print every miss.
$PYTHON - "$T/out.json" "$corpus/labels.tsv" "$GATE" >"$T/gate" <<'EOF'
import json, os, sys
out, labels, gate = sys.argv[1], sys.argv[2], int(sys.argv[3])
got = {}
bad_lines = 0
for line in open(out, encoding="utf-8"):
    try:
        o = json.loads(line)
    except ValueError:
        bad_lines += 1
        continue
    if not all(k in o for k in ("file", "lead", "rule", "autoreply")) or \
       not isinstance(o["autoreply"], bool):
        bad_lines += 1
        continue
    got[os.path.basename(o["file"])] = o
want = []
for n, line in enumerate(open(labels, encoding="utf-8")):
    f = line.rstrip("\n").split("\t")
    if n == 0 or len(f) < 4:
        continue
    want.append((f[0], f[1], f[3].strip() == "yes", f[2]))
right = 0
acked = []
for name, lead, noack, why in want:
    o = got.get(name)
    if o is None:
        print("# miss %s: got nothing, want %s (%s)" % (name, lead, why))
        continue
    if o["lead"] == lead:
        right += 1
    else:
        print("# miss %s: got %s (rule %s), want %s (%s)" %
              (name, o["lead"], o["rule"] or "default", lead, why))
    if noack and o["autoreply"]:
        acked.append(name)
        print("# ack %s: got an acknowledgement, want none (%s)" %
              (name, why))
pct = 100.0 * right / len(want) if want else 0
print("lines %d %d" % (len(got), bad_lines))
print("accuracy %d %d %.1f %s" % (right, len(want), pct,
      "pass" if pct >= gate else "fail"))
print("noack %d %d" % (sum(1 for w in want if w[2]), len(acked)))
EOF
grep '^#' "$T/gate"
set -- $(grep '^lines' "$T/gate")
check "one JSON line with file, lead, rule, autoreply per message ($2 read, $3 bad)" \
    [ "${2:-0}" -gt 0 -a "${3:-1}" -eq 0 ]
set -- $(grep '^accuracy' "$T/gate")
check "$2 of $3 enquiries ($4%) go to the lead in labels.tsv (gate: $GATE%)" \
    [ "${5:-fail}" = pass ]
set -- $(grep '^noack' "$T/gate")
check "no acknowledgement to the $2 messages marked no_autoreply=yes ($3 would get one)" \
    [ "${3:-1}" -eq 0 ]

# The table by lead goes to stderr with --json, stdout without.
check "--json puts the table by lead on stderr" grep -q '^total ' "$T/err"
"$C" -c "$conf" route --dry-run "$corpus/008.eml" >"$T/plain" 2>&1
check "--dry-run prints a line and the table" \
    grep -q '008.eml.*analyst_network.*ack' "$T/plain"

"$C" -c "$conf" route --explain "$corpus/008.eml" >"$T/explain" 2>&1; rc=$?
check "--explain exits 0" [ "$rc" -eq 0 ]
for want in '^lead: ' '^rule: ' '^reason: ' '^evidence:' 'huddle' \
    '^acknowledgement: ' '^nothing was sent'; do
	check "--explain shows $want" grep -q "$want" "$T/explain"
done

"$C" -c "$conf" route --explain "$T/no-such.eml" >/dev/null 2>"$T/err2"; rc=$?
check "a missing file exits 66 (EX_NOINPUT)" [ "$rc" -eq 66 ]
"$C" -c "$conf" route --dry-run --explain "$corpus" >/dev/null 2>&1; rc=$?
check "--dry-run with --explain is a usage error (64)" [ "$rc" -eq 64 ]
"$C" -c "$conf" route --json --explain "$corpus/008.eml" >/dev/null 2>&1; rc=$?
check "--json without --dry-run is a usage error (64)" [ "$rc" -eq 64 ]

# A Maildir: new/ and cur/ are read, tmp/ is not.
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
cp "$corpus/008.eml" "$T/md/new/1.host"
cp "$corpus/019.eml" "$T/md/cur/2.host:2,S"
cp "$corpus/024.eml" "$T/md/tmp/3.host"
n=$("$C" -c "$conf" route --dry-run --json "$T/md" 2>/dev/null | wc -l)
check "a Maildir's new/ and cur/ are read, tmp/ is not (got $n lines, want 2)" \
    [ "$n" -eq 2 ]
done_testing
