#!/usr/bin/python3
"""web-token.py - make a postroom link token for the web scenario tests.

    web-token.py KEYFILE PURPOSE SUBSCRIBER [--list SLUG] [--campaign ID]
                 [--salt HEX | --db DATABASE] [--issued UNIXTIME]
                 [--expires UNIXTIME | --expired] [--v1]

PURPOSE is confirm, unsubscribe, preferences, bounce or test-copy.  Prints
the token that src/token.c would make with the key in KEYFILE (64 hex
digits): the same bytes, written independently, so the tests can make
tokens the mail never carries (expired ones, ones for another page, ones
signed with another key) and, on the way, check that the format in
token.h holds.  The subscriber's salt is --salt (32 hex digits), or read
from subscribers.token_salt in --db; without either it is 16 zero bytes
(right for subscriber 0).  --issued defaults to now (an --expired token
was made two hours ago).  --v1 makes a retired version 1 token (no salt,
no issue time).
"""
import argparse
import base64
import hashlib
import hmac
import sys
import time

PURPOSES = {"confirm": 1, "unsubscribe": 2, "preferences": 3, "bounce": 4,
            "test-copy": 5}


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def make_v1(key, purpose, subscriber, expires, slug, campaign):
    slug = slug.encode()
    payload = (bytes([1, PURPOSES[purpose]]) + varint(subscriber) +
               varint(expires) + bytes([len(slug)]) + slug + varint(campaign))
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


def make(key, salt, purpose, subscriber, issued, expires, slug, campaign):
    slug = slug.encode()
    life = expires - issued if expires else 0
    payload = (bytes([2, PURPOSES[purpose]]) + varint(subscriber) +
               varint(issued) + varint(life) + bytes([len(slug)]) + slug +
               varint(campaign))
    mac = hmac.new(key, payload + salt, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


def db_salt(path, subscriber):
    import sqlite3
    con = sqlite3.connect(path)
    row = con.execute("SELECT token_salt FROM subscribers WHERE id = ?",
                      (subscriber,)).fetchone()
    con.close()
    if row is None or row[0] is None:
        sys.exit("web-token.py: no salt for subscriber %d" % subscriber)
    return bytes(row[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("keyfile")
    ap.add_argument("purpose", choices=sorted(PURPOSES))
    ap.add_argument("subscriber", type=int)
    ap.add_argument("--list", default="")
    ap.add_argument("--campaign", type=int, default=0)
    ap.add_argument("--expires", type=int, default=0)
    ap.add_argument("--expired", action="store_true",
                    help="expired an hour ago")
    ap.add_argument("--salt")
    ap.add_argument("--db")
    ap.add_argument("--issued", type=int)
    ap.add_argument("--v1", action="store_true")
    args = ap.parse_args()
    with open(args.keyfile) as f:
        key = bytes.fromhex(f.read().strip())
    now = int(time.time())
    expires = now - 3600 if args.expired else args.expires
    if args.v1:
        print(make_v1(key, args.purpose, args.subscriber, expires,
                      args.list, args.campaign))
        return 0
    if args.salt is not None:
        salt = bytes.fromhex(args.salt)
    elif args.db is not None and args.subscriber != 0:
        salt = db_salt(args.db, args.subscriber)
    else:
        salt = bytes(16)
    issued = args.issued
    if issued is None:
        issued = now - 7200 if args.expired else now
    if expires and expires <= issued:
        issued = expires - 3600
    print(make(key, salt, args.purpose, args.subscriber, issued, expires,
               args.list, args.campaign))
    return 0


if __name__ == "__main__":
    sys.exit(main())
