#!/bin/sh
# "make install" honours PREFIX and DESTDIR, and the systemd units it
# writes pass "systemd-analyze verify" with nothing to report.
. "$(dirname "$0")/lib.sh"
dest="$T/root"
make -s -C "$POSTROOM_TOP" install DESTDIR="$dest" PREFIX=/opt/pr \
    SYSCONFDIR=/opt/pr/etc >"$T/install.log" 2>&1
check "make install DESTDIR=... PREFIX=... succeeds" [ $? -eq 0 ]
for f in /opt/pr/sbin/postroomd /opt/pr/bin/postroom \
    /opt/pr/etc/postroom/postroom.conf.example \
    /opt/pr/lib/systemd/system/postroomd.service \
    /opt/pr/lib/systemd/system/postroom-digest.service \
    /opt/pr/lib/systemd/system/postroom-digest.timer \
    /opt/pr/lib/sysusers.d/postroom.conf \
    /opt/pr/share/postroom/templates; do
	check "installed $f" [ -e "$dest$f" ]
done
n=$(ls "$dest/opt/pr/share/postroom/templates" | wc -l)
check "templates are installed under share/postroom/templates" [ "$n" -gt 0 ]
grep -q "ExecStart=/opt/pr/sbin/postroomd -f" \
    "$dest/opt/pr/lib/systemd/system/postroomd.service"
check "the unit names the installed daemon" [ $? -eq 0 ]
grep -q "POSTROOM_CONFIG=/opt/pr/etc/postroom/postroom.conf" \
    "$dest/opt/pr/lib/systemd/system/postroomd.service"
check "the unit names the installed configuration" [ $? -eq 0 ]
! grep -q '@[A-Z]*@' "$dest"/opt/pr/lib/systemd/system/*
check "no @PLACEHOLDER@ is left in the units" [ $? -eq 0 ]

if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the executables at the paths the units name.
	u="$T/units"; mkdir -p "$u"
	for f in "$POSTROOM_TOP"/systemd/*.service "$POSTROOM_TOP"/systemd/*.timer; do
		sed -e "s|@SBINDIR@|$dest/opt/pr/sbin|g" -e "s|@BINDIR@|$dest/opt/pr/bin|g" \
		    -e "s|@SYSCONFDIR@|/etc|g" -e "s|@DATADIR@|/usr/share/postroom|g" \
		    "$f" > "$u/$(basename "$f")"
	done
	out=$(cd "$u" && systemd-analyze verify ./*.service ./*.timer 2>&1)
	if [ -z "$out" ]; then ok "systemd-analyze verify reports nothing"
	else not_ok "systemd-analyze verify reports nothing"; echo "$out" | sed 's/^/# /'; fi
	grep -q '^Persistent=true' "$u/postroom-digest.timer" &&
	    grep -q '^OnCalendar=\*-\*-\* \*:00:00' "$u/postroom-digest.timer"
	check "the digest timer runs hourly, persistent" [ $? -eq 0 ]
else
	skip "systemd-analyze not installed"
fi
done_testing
