#!/bin/sh
# make bench: run every benchmark in bench/ (each bench/*.sh but this one).
# Benchmarks measure; they never pass or fail on timing.  Each prints its
# own result lines, with ratios against a baseline measured in the same run.
set -u
cd "$(dirname "$0")/.."
n=0
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	echo "== $b"
	sh "$b" || echo "$b: failed (status $?)"
	n=$((n + 1))
done
[ "$n" -eq 0 ] && echo "no benchmarks yet (the delivery and routing issues add them)"
exit 0
