#!/usr/bin/python3
"""smtp-sink.py - a capturing SMTP server for postroom's scenario tests.

    smtp-sink.py --port PORT --dir DIR [--stall SECONDS]
                 [--starttls | --smtps] [--cert PEM --key PEM]
                 [--auth USER:PASSWORD] [--pipelining]
                 [--idle-timeout SECONDS]

Listens on 127.0.0.1:PORT (aiosmtpd, Debian's python3-aiosmtpd) and keeps
what it is sent:

    DIR/msgs/NNNNNN.eml   each accepted message, bytes as received (CRLF)
    DIR/log               one line per accepted message, tab-separated:
                          time of MAIL FROM, time of the final dot (unix
                          seconds, float), connection number, envelope
                          sender ("" for the null sender <>), recipient,
                          file name
    DIR/connections       how many connections were made so far
    DIR/pipelined         with --pipelining: how many MAIL commands came
                          with the rest of the envelope already behind
                          them, unanswered (the client pipelined)
    DIR/ready             written once listening

What it answers depends on the recipient's local part:

    tempfail*    451 to RCPT, always
    flaky*       451 to RCPT the first time (per address), then accepted
    reject*      550 to RCPT, always
    rejectdata*  554 to the final dot (the message itself refused)
    drop*        the first time: the connection is closed after the data,
                 before any reply; then accepted
    closing*     the first time: RCPT gets 421 (the server is going
                 away) and the connection is closed after it; then
                 accepted
    stall*       the first time: RCPT gets no reply for --stall seconds
                 (past the client's timeout); then accepted
    slowdot*     accepted, but the reply to the final dot comes after half
                 a second (a relay writing its queue file); DIR/slowdot
                 holds the most transactions ever waiting for that reply
                 at once
    anything else: accepted

TLS: --starttls offers STARTTLS and refuses mail without it; --smtps
speaks TLS from the first byte (smtps://).  Both need --cert and --key.
--auth requires AUTH (PLAIN or LOGIN, over TLS) as USER with PASSWORD; the
number of successful logins is in DIR/auths.

--pipelining offers PIPELINING (RFC 2920) in the EHLO reply.
--idle-timeout closes a connection idle that long, without a word
(aiosmtpd's own timeout; the default is 300 seconds).

Stops on SIGTERM or SIGINT.
"""
import argparse
import asyncio
import os
import signal
import ssl
import sys
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, stall):
        self.dir = directory
        self.stall = stall
        self.seen = set()
        self.slow = 0
        self.slow_max = 0
        self.n = 0
        self.conns = 0
        self.auths = 0
        self.user = None
        self.pipelining = False
        self.pipelined = 0
        os.makedirs(os.path.join(directory, "msgs"), exist_ok=True)
        self.log = open(os.path.join(directory, "log"), "a", buffering=1)
        self.write_connections()

    def write_connections(self):
        path = os.path.join(self.dir, "connections")
        with open(path + ".tmp", "w") as f:
            f.write("%d\n" % self.conns)
        os.rename(path + ".tmp", path)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and self.user is not None
              and (auth_data.login, auth_data.password) == self.user)
        if ok:
            self.auths += 1
            with open(os.path.join(self.dir, "auths"), "w") as f:
                f.write("%d\n" % self.auths)
        # handled=False: let aiosmtpd answer 535 to a failure.
        return AuthResult(success=ok, handled=False)

    def connected(self):
        self.conns += 1
        self.write_connections()
        return self.conns

    def first(self, what, address):
        """True the first time this behaviour meets this address."""
        key = (what, address.lower())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    @staticmethod
    def local(address):
        return address.split("@")[0].lower()

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address,
                          mail_options):
        # Bytes already read past MAIL's line: the client did not wait
        # for this reply (aiosmtpd reads with an asyncio.StreamReader).
        buffered = getattr(getattr(server, "_reader", None), "_buffer", b"")
        if self.pipelining and b"DATA" in bytes(buffered).upper():
            self.pipelined += 1
            with open(os.path.join(self.dir, "pipelined"), "w") as f:
                f.write("%d\n" % self.pipelined)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        session.t_mail = time.time()
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local = self.local(address)
        if local.startswith("tempfail"):
            return "451 4.3.0 <%s>: try again later" % address
        if local.startswith("reject") and not local.startswith("rejectdata"):
            return "550 5.1.1 <%s>: no such user here" % address
        if local.startswith("flaky") and self.first("flaky", address):
            return "451 4.7.1 <%s>: greylisted, come back later" % address
        if local.startswith("closing") and self.first("closing", address):
            asyncio.get_running_loop().call_later(
                0.05, server.transport.close)
            return "421 4.3.2 <%s>: shutting down, try later" % address
        if local.startswith("stall") and self.first("stall", address):
            await asyncio.sleep(self.stall)
            return "451 4.4.2 too slow"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            local = self.local(rcpt)
            if local.startswith("drop") and self.first("drop", rcpt):
                server.transport.abort()
                return "421 4.4.2 gone"
            if local.startswith("rejectdata"):
                return "554 5.7.1 message refused: looks like spam"
        if any(self.local(r).startswith("slowdot")
               for r in envelope.rcpt_tos):
            self.slow += 1
            if self.slow > self.slow_max:
                self.slow_max = self.slow
                with open(os.path.join(self.dir, "slowdot"), "w") as f:
                    f.write("%d\n" % self.slow_max)
            await asyncio.sleep(0.5)
            self.slow -= 1
        self.n += 1
        name = "%06d.eml" % self.n
        with open(os.path.join(self.dir, "msgs", name), "wb") as f:
            f.write(envelope.original_content)
        for rcpt in envelope.rcpt_tos:
            self.log.write("%.6f\t%.6f\t%d\t%s\t%s\t%s\n" % (
                getattr(session, "t_mail", 0.0), time.time(),
                getattr(session, "conn_no", 0),
                "" if envelope.mail_from in (None, "<>") else envelope.mail_from,
                rcpt, name))
        return "250 2.0.0 Ok: queued as %d" % self.n


class CountingSMTP(SMTP):
    def connection_made(self, transport):
        super().connection_made(transport)
        self.session.conn_no = self.event_handler.connected()


class SinkController(Controller):
    def factory(self):
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--stall", type=float, default=30.0)
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--smtps", action="store_true")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--auth")
    ap.add_argument("--pipelining", action="store_true")
    ap.add_argument("--idle-timeout", type=float)
    args = ap.parse_args()

    sink = Sink(args.dir, args.stall)
    sink.pipelining = args.pipelining
    kw = {"data_size_limit": 64 << 20}
    if args.idle_timeout:
        kw["timeout"] = args.idle_timeout
    ctx = None
    if args.starttls or args.smtps:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)
    if args.starttls:
        kw.update(tls_context=ctx, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)
        sink.user = (user.encode(), password.encode())
        kw.update(auth_required=True, authenticator=sink.authenticate,
                  auth_require_tls=True)
    ctl = SinkController(sink, hostname="127.0.0.1", port=args.port,
                         server_hostname="sink.test", server_kwargs=kw,
                         ssl_context=ctx if args.smtps else None)
    ctl.start()
    # start() made one connection of its own to check the server is up.
    sink.conns = 0
    sink.write_connections()
    with open(os.path.join(args.dir, "ready"), "w") as f:
        f.write("%d\n" % args.port)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    ctl.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
