#!/bin/sh
# Run each fuzz target for a while: fuzz/run.sh DIR SECONDS TARGET...
# DIR holds the binaries (fuzz-TARGET), gets the corpora (corpus-TARGET)
# and any crash-*, leak-*, timeout-* inputs.  Exit 1 when a target failed.
set -u
dir=$1 secs=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${POSTROOM_SHARED:-$top/../shared}
rc=0
for t in "$@"; do
	corpus=$dir/corpus-$t
	mkdir -p "$corpus"
	seeds="$top/tests/data/hostile $top/fuzz/seeds/$t"
	[ -d "$shared/corpus/enquiries" ] && seeds="$seeds $shared/corpus/enquiries"
	dirs=""
	for s in $seeds; do [ -d "$s" ] && dirs="$dirs $s"; done
	echo "# fuzz-$t: $secs s"
	# -rss_limit_mb: the parser child has its own limits; here 2 GB.
	if ! "$dir/fuzz-$t" -max_total_time="$secs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/$t-" "$corpus" $dirs \
	    >"$dir/$t.log" 2>&1; then
		tail -40 "$dir/$t.log"
		echo "not ok - fuzz-$t: see $dir/$t.log and $dir/$t-*"
		rc=1
	else
		grep -E '^stat::(number_of_executed_units|new_units_added)' \
		    "$dir/$t.log" | sed 's/^/# /'
		echo "ok - fuzz-$t"
	fi
done
exit $rc
