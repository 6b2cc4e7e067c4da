#!/bin/sh
# tests/tools/dovecot.sh - a private Dovecot on 127.0.0.1 for the IMAP tests.
#
#   dovecot.sh start DIR PORT [plain|starttls|tls]
#   dovecot.sh stop DIR
#
# start writes DIR/dovecot.conf and starts Dovecot as the current user, with
# nothing shared with a system Dovecot: base_dir, state_dir and the log are
# under DIR, the one user comes from DIR/passwd ("test", password "secret",
# plaintext), mail is Maildir under DIR/mail/%u.  It returns once PORT
# answers.
#	plain	  (default) IMAP on PORT, no TLS at all (ssl = no)
#	starttls  IMAP on PORT offering STARTTLS
#	tls	  IMAPS (implicit TLS) on PORT
# The TLS modes use DIR/cert.pem and DIR/key.pem when the caller put them
# there (a test choosing which certificate the server shows); otherwise a
# self-signed one for 127.0.0.1 is made with openssl req -x509.
#
# stop stops the Dovecot started on DIR, and its client connections, and
# waits for its master to exit.
# Options: DOVECOT_NO_IDLE=1 starts a server without the IDLE capability;
# DOVECOT_NO_MOVE=1 one without MOVE (imap_capability is then spelled out);
# DOVECOT_WEAK_TLS=1 one that serves certificates Debian's OpenSSL refuses
# by default (RSA under 2048 bits, SHA-1 or MD5 signatures): OpenSSL's
# security level 0, for the tests that check postroom refuses them.
set -eu

usage() {
	echo "usage: dovecot.sh start DIR PORT [plain|starttls|tls] | stop DIR" >&2
	exit 64
}

dc_start() {
	dir=$1 port=$2 mode=${3:-plain}
	case $mode in plain|starttls|tls) ;; *) usage ;; esac
	mkdir -p "$dir/run" "$dir/state" "$dir/mail" "$dir/home"
	dir=$(cd "$dir" && pwd)
	user=$(id -un)
	group=$(id -gn)
	uid=$(id -u)
	gid=$(id -g)
	# Dovecot refuses to run its login processes as root: as root (a CI
	# container), they run as Dovecot's own unprivileged users instead.
	# Nor will it hand mail to uid 0: the mailbox then belongs to nobody.
	login=$user internal=$user igroup=$group
	if [ "$uid" = 0 ]; then
		login=dovenull internal=dovecot igroup=dovecot
		id dovenull >/dev/null 2>&1 || login=nobody
		id dovecot >/dev/null 2>&1 || { internal=nobody; igroup=nogroup; }
		uid=$(id -u nobody)
		gid=$(id -g nobody)
		chown "$uid:$gid" "$dir/mail" "$dir/home"
		chmod 711 "$dir"
		# setpriv, not su: no PAM session.  Without the preload of
		# libfaketime (tests/run.sh's CLOCK): as nobody it cannot
		# open the semaphore root's processes made, and fails the
		# check whatever the permissions.
		if ! env -u LD_PRELOAD setpriv --reuid="$uid" --regid="$gid" \
		    --clear-groups test -x "$dir/mail"; then
			echo "dovecot.sh: $dir is not reachable by nobody" \
			    "(run as root, the mailbox belongs to nobody):" \
			    "make its parents searchable (chmod o+x)" >&2
			p=$dir
			while [ "$p" != / ]; do
				ls -ld "$p" >&2
				p=$(dirname "$p")
			done
			exit 1
		fi
	fi
	echo "test:{PLAIN}secret::::::" > "$dir/passwd"

	if [ "$mode" != plain ] && [ ! -f "$dir/cert.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
		    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		    -keyout "$dir/key.pem" -out "$dir/cert.pem" \
		    >/dev/null 2>&1
	fi
	case $mode in
	plain)
		ssl="ssl = no"
		listeners="inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }" ;;
	starttls)
		ssl="ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem"
		listeners="inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }" ;;
	tls)
		ssl="ssl = yes
ssl_cert = <$dir/cert.pem
ssl_key = <$dir/key.pem"
		listeners="inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $port
    ssl = yes
  }" ;;
	esac
	if [ "$mode" != plain ] && [ "${DOVECOT_WEAK_TLS:-}" = 1 ]; then
		ssl="$ssl
ssl_cipher_list = DEFAULT:@SECLEVEL=0"
	fi
	caps=""
	if [ "${DOVECOT_NO_IDLE:-}" = 1 ] || [ "${DOVECOT_NO_MOVE:-}" = 1 ]; then
		c="IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT"
		c="$c UIDPLUS CHILDREN NAMESPACE UNSELECT ESEARCH"
		[ "${DOVECOT_NO_IDLE:-}" = 1 ] || c="$c IDLE"
		[ "${DOVECOT_NO_MOVE:-}" = 1 ] || c="$c MOVE"
		caps="imap_capability = $c"
	fi

	cat > "$dir/dovecot.conf" <<EOF
# Written by tests/tools/dovecot.sh: a private test server.
protocols = imap
listen = 127.0.0.1
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
debug_log_path = $dir/dovecot.log
default_internal_user = $internal
default_internal_group = $igroup
default_login_user = $login
first_valid_uid = $uid
last_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:$dir/mail/%u
disable_plaintext_auth = no
auth_mechanisms = plain login
login_trusted_networks =
shutdown_clients = yes
$ssl
$caps
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%u
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  chroot =
  user = $login
  $listeners
}
service anvil {
  chroot =
}
service auth {
  user = $user
}
service auth-worker {
  user = $user
}
EOF
	dovecot -c "$dir/dovecot.conf"
	i=0
	while [ $i -lt 100 ]; do
		if /usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "dovecot.sh: Dovecot did not answer on 127.0.0.1:$port" >&2
	cat "$dir/dovecot.log" >&2 2>/dev/null || true
	return 1
}

dc_stop() {
	dir=$1
	[ -f "$dir/dovecot.conf" ] || return 0
	pid=$(cat "$dir/run/master.pid" 2>/dev/null || true)
	[ -n "$pid" ] || return 0
	# The master's children (imap, imap-login, auth...): a stopped
	# server must also drop its clients, which Dovecot may leave running.
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null || true)
	kill "$pid" 2>/dev/null || return 0
	[ -z "$kids" ] || kill $kids 2>/dev/null || true
	# The master takes seconds over a clean exit; a test has no time.
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 5 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	[ -z "$kids" ] || kill -9 $kids 2>/dev/null || true
	rm -f "$dir/run/master.pid"
}

[ $# -ge 2 ] || usage
case $1 in
start)	[ $# -ge 3 ] || usage; dc_start "$2" "$3" "${4:-plain}" ;;
stop)	dc_stop "$2" ;;
*)	usage ;;
esac
