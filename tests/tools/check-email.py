#!/usr/bin/python3
"""check-email.py - is a built message well-formed?  (Debian's python3)

    check-email.py [--expect-subject S] [--expect-to-name N]
                   [--expect-text T] FILE.eml...

Reads each file as bytes and checks, independently of postroom's C:

  - every line ends in CRLF (no bare LF, no bare CR) and no line is longer
    than 998 octets (RFC 5322 2.1.1), the CRLF not counted;
  - Python's email package (policy=email.policy.default) finds no defect
    anywhere: the message's and every part's .defects (message/rfc822
    parts included), every header object's .defects, and the defects a
    part's body gives when it is decoded (base64 padding, bad charset);
  - optionally, that the decoded Subject, the display name of the first
    To address, or the decoded text/plain body (newlines normalised to LF)
    are what the caller expected.

Prints one line per problem, "FILE: problem", and exits 1 when there was
any; exits 0 silently otherwise.  Exit 2 is a usage error.
"""

import argparse
import email
import email.policy
import sys


def check_lines(raw):
    problems = []
    lines = raw.split(b"\n")
    for n, line in enumerate(lines, 1):
        last = n == len(lines)
        if last:
            if line:
                problems.append("line %d: no line end at the end" % n)
            body = line
        elif not line.endswith(b"\r"):
            problems.append("line %d: bare LF" % n)
            body = line
        else:
            body = line[:-1]
        if b"\r" in body:
            problems.append("line %d: bare CR" % n)
        if len(body) > 998:
            problems.append("line %d: %d octets (more than 998)" %
                            (n, len(body)))
    return problems


def part_name(part, path):
    return "%s (%s)" % (path, part.get_content_type())


def check_tree(part, path, problems):
    for d in part.defects:
        problems.append("%s: defect %s: %s" %
                        (part_name(part, path), type(d).__name__, d))
    for name, value in part.items():
        for d in getattr(value, "defects", ()):
            problems.append("%s: header %s: defect %s: %s" %
                            (part_name(part, path), name,
                             type(d).__name__, d))
    if part.is_multipart():
        payload = part.get_payload()
        if not isinstance(payload, list):
            payload = [payload]
        for i, sub in enumerate(payload, 1):
            check_tree(sub, "%s.%d" % (path, i), problems)
        return
    before = len(part.defects)
    try:
        part.get_payload(decode=True)
        if part.get_content_maintype() == "text":
            part.get_content()
    except Exception as e:  # any failure to decode is a problem
        problems.append("%s: body does not decode: %s" %
                        (part_name(part, path), e))
    seen = set()
    for d in part.defects[before:]:
        line = "%s: body defect %s: %s" % (part_name(part, path),
                                            type(d).__name__, d)
        if line not in seen:  # decoding twice reports twice
            seen.add(line)
            problems.append(line)


def first_text(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/plain" and \
           not part.is_multipart():
            return part.get_content()
    return None


def check_file(path, args):
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        return ["cannot read: %s" % e]
    problems = check_lines(raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    check_tree(msg, "message", problems)

    if args.expect_subject is not None:
        got = msg["Subject"]
        got = None if got is None else str(got)
        if got != args.expect_subject:
            problems.append("Subject: got %r, want %r" %
                            (got, args.expect_subject))
    if args.expect_to_name is not None:
        to = msg["To"]
        got = None
        if to is not None and to.addresses:
            got = to.addresses[0].display_name
        if got != args.expect_to_name:
            problems.append("To display name: got %r, want %r" %
                            (got, args.expect_to_name))
    if args.expect_text is not None:
        got = first_text(msg)
        if got is not None:
            got = got.replace("\r\n", "\n")
        if got != args.expect_text:
            problems.append("text/plain body: got %r, want %r" %
                            (got, args.expect_text))
    return problems


def main():
    p = argparse.ArgumentParser(description="check built .eml files")
    p.add_argument("--expect-subject")
    p.add_argument("--expect-to-name")
    p.add_argument("--expect-text")
    p.add_argument("files", nargs="+", metavar="FILE")
    args = p.parse_args()
    bad = 0
    for path in args.files:
        for problem in check_file(path, args):
            print("%s: %s" % (path, problem))
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main())
