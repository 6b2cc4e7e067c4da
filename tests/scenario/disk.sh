#!/bin/sh
# A full disk and a database that can only be read.  On a 3 MB tmpfs in a
# mount namespace of its own (root only; otherwise skipped), filled up:
# a command that writes exits 75 with one line; commands that only read
# still work; postroomd leaves inbound mail where it is and says so once
# a minute, not once per message per look.  Then, as another user, a
# database file mode 0444: the commands that read work, one that writes
# exits 75.
. "$(dirname "$0")/lib.sh"
C="$POSTROOM_BIN/postroom"
D="$POSTROOM_BIN/postroomd"

if [ "${1:-}" != --inside ]; then
	if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
		skip "a full disk: needs root and mount namespaces (unshare -m)"
		done_testing
		exit 0
	fi
	unshare -m sh "$0" --inside
	exit $?
fi

F="$T/full"
mkdir -p "$F" "$T/maildir/new" "$T/maildir/cur" "$T/maildir/tmp"
mount -t tmpfs -o size=3m tmpfs "$F"
check "a 3 MB tmpfs is mounted" mountpoint -q "$F"

WEB="127.0.0.1:$(free_port)"
set -- -c "$POSTROOM_TOP/config/postroom.conf" \
    -o general.database="$F/p.db" -o general.secret_file="$T/secret.key" \
    -o general.templates="$POSTROOM_TOP/templates" \
    -o smtp.url="maildir:$T/out" -o web.listen="$WEB"
"$C" "$@" subscriber add news a@example.org --confirmed >/dev/null 2>&1
check "a database is made on it" [ -s "$F/p.db" ]
# postroomd holds it open (so its -shm file stays) and looks every second.
"$D" -f "$@" -o inbound.source=maildir -o inbound.maildir="$T/maildir" \
    -o inbound.poll_interval=1 2>"$T/d.log" &
pid=$!
started $pid
wait_for 15 grep -q started "$T/d.log"
check "postroomd starts" [ $? -eq 0 ]
dd if=/dev/zero of="$F/fill" bs=4k 2>/dev/null
check "the disk is full" [ "$(df -P "$F" | awk 'NR == 2 { print $4 }')" -eq 0 ]

"$C" "$@" subscriber add news b@example.org --confirmed >/dev/null \
    2>"$T/add.err"; rc=$?
check "a command that writes exits 75 (EX_TEMPFAIL)" [ "$rc" -eq 75 ]
check "... with one line that says why" \
    sh -c "[ \$(wc -l < '$T/add.err') -eq 1 ] && grep -q full '$T/add.err'"
"$C" "$@" subscriber list news >"$T/list.out" 2>&1
check "a command that only reads still works" grep -q a@example.org "$T/list.out"

# 20 enquiries arrive; postroomd cannot record them for 5 s.
i=0
while [ $i -lt 20 ]; do
	printf 'From: p%d@example.net\r\nTo: enquiries@example.org\r\nSubject: %d\r\nMessage-ID: <%d@example.net>\r\n\r\nHello\r\n' \
	    $i $i $i > "$T/maildir/new/17000000$i.x"
	i=$((i + 1))
done
sleep 5
n=$(grep -c 'not recorded' "$T/d.log")
check "postroomd says it once for a full disk, not per message ($n lines)" \
    [ "$n" -ge 1 -a "$n" -le 2 ]
check "... and every message is still in new/" \
    [ "$(ls "$T/maildir/new" | wc -l)" -eq 20 ]
# A sign-up while the disk is full: the commit that would queue its
# confirmation fails, so no line may say it was queued.
curl -sS --max-time 20 -o /dev/null -d email=s@example.net -d consent=yes \
    "http://$WEB/subscribe/news" 2>/dev/null
check "a sign-up on a full disk is not logged as queued" \
    sh -c "! grep -q 'confirmation email queued' '$T/d.log'"
rm -f "$F/fill"
# (It looks at new/ again within a minute; delivering them anew is quicker.)
for f in "$T/maildir/new"/*; do
	mv "$f" "$T/maildir/tmp/" && mv "$T/maildir/tmp/$(basename "$f")" "$f"
done
wait_for 10 sh -c "[ \$(ls '$T/maildir/new' | wc -l) -eq 0 ]"
rc=$?
check "with room again, it records them all" [ $rc -eq 0 ]
[ $rc -eq 0 ] || sed 's/^/# /' "$T/d.log" | tail -5
kill -TERM $pid 2>/dev/null
wait $pid 2>/dev/null
no_personal_data "... and its log holds no address" "$T/d.log"
umount "$F"

# A database that can only be read, as another user.
R="$T/ro"
mkdir -p "$R"
"$C" "$@" -o general.database="$R/p.db" subscriber add news c@example.org \
    --confirmed >/dev/null 2>&1
chmod 755 "$T" "$R"
chmod 444 "$R/p.db"
set -- "$@" -o general.database="$R/p.db"
as_nobody() {
	(cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups "$@")
}
for cmd in "subscriber list news" "subscriber show c@example.org" \
    "subscriber find c@" "enquiry list" "queue status"; do
	# shellcheck disable=SC2086
	as_nobody "$C" "$@" $cmd >"$T/ro.out" 2>&1
	rc=$?
	check "read-only database: $cmd works" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || sed 's/^/# /' "$T/ro.out" | head -3
done
as_nobody "$C" "$@" subscriber add news d@example.org --confirmed \
    >/dev/null 2>&1
check "read-only database: a command that writes exits 75" [ $? -eq 75 ]

done_testing
