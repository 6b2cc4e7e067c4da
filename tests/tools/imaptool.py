#!/usr/bin/python3
"""imaptool.py - the other side of the IMAP tests: a client that puts mail
into a test Dovecot (tests/tools/dovecot.sh) and reports what is there.

    imaptool.py [--tls|--starttls] PORT append MAILBOX TEXT
    imaptool.py [--tls|--starttls] PORT count MAILBOX
    imaptool.py [--tls|--starttls] PORT uidvalidity MAILBOX
    imaptool.py [--tls|--starttls] PORT flags MAILBOX

Always 127.0.0.1, user "test", password "secret"; certificates are not
checked (this is the test's own server).  append creates MAILBOX when it is
missing and turns the newlines of TEXT into CRLF; count prints how many
messages MAILBOX holds (0 when it does not exist); uidvalidity prints its
UIDVALIDITY; flags prints each message's flags, one line each, in UID order.
Exit status 0, or 1 with the reason on stderr.
"""
import imaplib
import re
import ssl
import sys


def connect(mode, port):
    if mode == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=ctx)
    else:
        m = imaplib.IMAP4("127.0.0.1", port)
        if mode == "starttls":
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            m.starttls(ssl_context=ctx)
    m.login("test", "secret")
    return m


def main(argv):
    mode = "plain"
    if argv and argv[0] in ("--tls", "--starttls"):
        mode = argv.pop(0)[2:]
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    port, cmd, mailbox = int(argv[0]), argv[1], argv[2]
    m = connect(mode, port)
    try:
        if cmd == "append":
            text = argv[3].replace("\r\n", "\n").replace("\n", "\r\n")
            typ, _ = m.select(mailbox)
            if typ != "OK":
                m.create(mailbox)
            typ, data = m.append(mailbox, None, None, text.encode())
            if typ != "OK":
                raise RuntimeError("APPEND: %r" % data)
        elif cmd == "count":
            typ, data = m.select(mailbox, readonly=True)
            print(int(data[0]) if typ == "OK" else 0)
        elif cmd == "uidvalidity":
            typ, data = m.status(mailbox, "(UIDVALIDITY)")
            if typ != "OK":
                raise RuntimeError("STATUS: %r" % data)
            print(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1).decode())
        elif cmd == "flags":
            typ, data = m.select(mailbox, readonly=True)
            if typ != "OK":
                raise RuntimeError("SELECT: %r" % data)
            typ, data = m.uid("FETCH", "1:*", "(FLAGS)")
            for item in data:
                if item:
                    f = re.search(rb"FLAGS \(([^)]*)\)", item)
                    print(f.group(1).decode() if f else "")
        else:
            sys.stderr.write(__doc__)
            return 1
    finally:
        m.logout()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:
        sys.stderr.write("imaptool.py: %s\n" % e)
        sys.exit(1)
