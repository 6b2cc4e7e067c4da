#!/usr/bin/python3
"""web-token.py - make a postroom link token for the web scenario tests.

    web-token.py KEYFILE PURPOSE SUBSCRIBER [--list SLUG] [--campaign ID]
                 [--expires UNIXTIME | --expired]

PURPOSE is confirm, unsubscribe, preferences, bounce or test-copy.  Prints
the token that src/token.c would make with the key in KEYFILE (64 hex
digits): the same bytes, written independently, so the tests can make
tokens the mail never carries (expired ones, ones for another page, ones
signed with another key) and, on the way, check that the format in
token.h holds.
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


def make(key, purpose, subscriber, expires, slug, campaign):
    slug = slug.encode()
    payload = (bytes([1, PURPOSES[purpose]]) + varint(subscriber) +
               varint(expires) + bytes([len(slug)]) + slug + varint(campaign))
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode()


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
    args = ap.parse_args()
    with open(args.keyfile) as f:
        key = bytes.fromhex(f.read().strip())
    expires = int(time.time()) - 3600 if args.expired else args.expires
    print(make(key, args.purpose, args.subscriber, expires, args.list,
               args.campaign))
    return 0


if __name__ == "__main__":
    sys.exit(main())
