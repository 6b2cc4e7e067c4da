#!/usr/bin/env python3
# Write the hostile and malformed messages in this directory (small ones;
# the large ones - 10,000 levels of nesting, a 30 MB attachment - are made
# by tests/unit/test-parser.c at run time).  Run it from anywhere; it
# rewrites the *.eml files next to it.  Deterministic: same bytes each run.
import os
import random

here = os.path.dirname(os.path.abspath(__file__))
files = {}


def put(name, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    files[name] = data


H = "From: Hostile <hostile@example.org>\nTo: enquiries@example.org\n"

# libetpan 1.9.4: mailmime_extract_boundary() strncpy()s len - 2 bytes
# when the unquoted boundary starts with a quote: for boundary="\"" that
# is SIZE_MAX bytes.
put("boundary-quote.eml", H + "Subject: crasher\n"
    "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n")
put("boundary-quote-nested.eml", H + "Subject: nested crasher\n"
    "Content-Type: multipart/mixed; boundary=ok\n\n"
    "--ok\nContent-Type: text/plain\n\nbefore\n"
    "--ok\nContent-Type: multipart/alternative; boundary=\"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\ninside\n--\"--\n--ok--\n")
put("boundary-quote-comment.eml", H + "Subject: hidden crasher\n"
    "Content-Type: multipart/mixed; (comment; boundary=x)\n"
    " BOUNDARY = \"\\\"\" ; charset=\"a\\\"b\"\n\n"
    "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n")
put("boundary-quote-message.eml", H + "Subject: crasher inside a message\n"
    "Content-Type: message/rfc822\n\n"
    "From: inner@example.org\n"
    "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n")
put("boundary-quotes.eml", H + "Subject: quoted quotes\n"
    "Content-Type: multipart/mixed; boundary=\"\\\"\\\"\"\n\n"
    "--\"\"\nContent-Type: text/plain\n\nhello\n--\"\"--\n")
# The same, one byte changed: the blank line that ends the first part's
# header is text, so a reader of structure sees the crasher inside a
# header block where it expected none (and once let it through).
put("boundary-quote-header-text.eml", H + "Subject: nested crasher\n"
    "Content-Type: multipart/mixed; boundary=ok\n\n"
    "--ok\nContent-Type: text/plain\nXbefore\n"
    "--ok\nContent-Type: multipart/alternative; boundary=\"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\ninside\n--\"--\n--ok--\n")
put("boundary-quote-folded.eml", H + "Subject: folded crasher\n"
    "Content-Type: multipart/mixed;\n boundary\n =\n (c (d\\)) \"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n")
put("boundary-empty.eml", H + "Subject: empty boundary\n"
    "Content-Type: multipart/mixed; boundary=\"\"\n\n"
    "--\nContent-Type: text/plain\n\nhello\n----\n")
put("boundary-long.eml", H + "Subject: long boundary\n"
    "Content-Type: multipart/mixed; boundary=\"" + "b" * 5000 + "\"\n\n"
    "--" + "b" * 5000 + "\nContent-Type: text/plain\n\nhello\n"
    "--" + "b" * 4999 + "--\n")
put("boundary-prefix.eml", H + "Subject: boundaries that prefix others\n"
    "Content-Type: multipart/mixed; boundary=a\n\n"
    "--a\nContent-Type: multipart/mixed; boundary=aa\n\n"
    "--aa\nContent-Type: text/plain\n\none\n--a\n"
    "Content-Type: text/plain\n\ntwo\n--aa--\n--a--\n")
put("missing-boundary.eml", H + "Subject: no boundary\n"
    "Content-Type: multipart/mixed\n\n"
    "--x\nContent-Type: text/plain\n\ntext\n--x--\n")
put("truncated-base64.eml", H + "Subject: truncated\n"
    "Content-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n\n"
    "SGVsbG8sIHRoaXMgaXMgY3V0IG9mZiBpbiB0aGUgbWlk\nZG\n"
    "--b\nContent-Type: application/pdf; name=x.pdf\n"
    "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJeLjz9MK=\nMSAw")
put("bad-qp.eml", H + "Subject: bad quoted-printable\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\n"
    "=G1 =\n=4 =3 caf=E9 =\r\n=\n=")
# libetpan's quoted-printable decoder reads the two bytes after "=" even
# when the buffer ends after one of them.
put("qp-end-hex.eml", H + "Subject: quoted-printable cut short\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n\nthe end =4")
put("8bit-headers.eml",
    "From: Jos\xe9 Garc\xeda <jos\xe9@example.org>\n"
    "To: \"M\xfcller, J\xfcrgen\" <j@example.org>, "
    "\xc3\x85sa <asa@example.org>\n"
    "Subject: Caf\xe9 \xc3\xa9t\xe9 \x80\x81\x8d\n"
    "Content-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: text/plain\n\n8-bit body \xe9\xff\n"
    "--b\nContent-Type: application/octet-stream; name=\"r\xe9sum\xe9.pdf\"\n"
    "\nxx\n--b--\n")
put("nul-bytes.eml", H + "Subject: nul\0inside\n"
    "Content-Type: multipart/mixed; boundary=\"b\0c\"\n\n"
    "--b\0c\nContent-Type: text/plain\n\nbody\0with\0nuls\n--b\0c--\n")
put("unclosed-nesting.eml", H + "Subject: 50 levels never closed\n"
    "Content-Type: multipart/mixed; boundary=b0\n\n" +
    "".join("--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" %
            (i, i + 1) for i in range(50)) +
    "--b50\nContent-Type: text/plain\n\nleaf\n")
put("message-nesting.eml", H + "Subject: 60 nested messages\n" +
    "Content-Type: message/rfc822\n\n" +
    "".join("From: m%d@example.org\nContent-Type: message/rfc822\n\n" % i
            for i in range(60)) + "leaf\n")
put("encoded-word-soup.eml",
    "From: =?UTF-8?B?" + "QUFB" * 400 + "?= <a@example.org>\n"
    "To: =?" + "x" * 300 + "?Q?a?= <b@example.org>\n"
    "Subject: =?UTF-8?Q?=?= =?UTF-8?B?====?= =?utf-16?B?2D3eAA?= "
    "=?iso-2022-jp?B?GyRCJCIbKEI?= =?UTF-8?Q?a?==?UTF-8?Q?b?= "
    "=?UTF-8?Q?=E2=82?= =?UTF-8?Q?=AC?= =?=?=?=? =?a?b?x=?a?b?x "
    "=?UTF-7?Q?+AKM-?= =?UTF-8*?Q?x?= =?*?Q?x?=\n"
    "Content-Type: text/plain\n\nbody\n")
put("rfc2231-soup.eml", H + "Subject: parameters\n"
    "Content-Type: multipart/mixed; boundary=b\n\n"
    "--b\nContent-Type: application/pdf; name*=''; name*0*=x'y'%; "
    "name*=nocharset\n"
    "Content-Disposition: attachment; " +
    "; ".join("filename*%d*=%%%02X" % (i, i) for i in range(150)) +
    "\n\nAA\n"
    "--b\nContent-Type: application/pdf\n"
    "Content-Disposition: attachment; filename*1=\"only one\"; "
    "filename*0*=x-bogus''%E9%FF\n\nAA\n"
    "--b\nContent-Type: application/pdf\n"
    "Content-Disposition: attachment; filename*=utf-8'en'%F0%9F%98; "
    "filename=plain.pdf\n\nAA\n--b--\n")
put("params-many.eml", H + "Subject: many parameters\n"
    "Content-Type: text/plain; " +
    "; ".join("p%d=\"%s\"" % (i, "v" * 20) for i in range(800)) +
    "\n\nbody\n")
put("dsn-broken.eml", "From: MAILER-DAEMON@example.org\n"
    "Subject: broken bounce\n"
    "Content-Type: multipart/report; report-type=\"delivery-\\\"status\"; "
    "boundary=r\n\n"
    "--r\nContent-Type: message/delivery-status\n\n"
    "Final-Recipient\n: rfc822\n Action: \nStatus:\n\n\n"
    "Diagnostic-Code: ;;;;\n"
    "--r\nContent-Type: message/rfc822\n\nMessage-ID: <<<>>>\n"
    "--r\nContent-Type: text/rfc822-headers\n\n: x\n--r")
put("html-soup.eml", H + "Subject: html\n"
    "Content-Type: text/html; charset=\"utf-8\n\n"
    "<html><head><title>t<script>x</title><body><p>visible<!-- open "
    "comment <script>never <style> closed &#x110000; &#99999999999999999; "
    "&amp &notin; <a href='unterminated>link")
put("header-only.eml", "From: a@example.org\nSubject: no body, no blank line")
put("empty.eml", "")
put("only-newlines.eml", "\n\n\n\n")
put("lone-cr.eml", H.replace("\n", "\r") + "Subject: CR only\r"
    "Content-Type: multipart/mixed; boundary=b\r\r--b\r"
    "Content-Type: text/plain\r\rbody\r--b--\r")
put("utf16-part.eml", H + "Subject: utf-16\n"
    "Content-Type: text/plain; charset=utf-16\n"
    "Content-Transfer-Encoding: base64\n\n//5oAGkAAND\n")
put("continuation-first.eml", " folded: nothing\n\tmore\nFrom: a@example.org\n"
    "Subject: starts with a continuation\n\nbody\n")
put("colon-soup.eml", ":\n::\n: :\nFrom:\nTo: ,,,,,;;;;<<>>@@\n"
    "Reply-To: \"unterminated <a@b\nSubject:\n\nbody\n")
put("report-in-alternative.eml", H + "Subject: report inside alternative\n"
    "Content-Type: multipart/alternative; boundary=a\n\n"
    "--a\nContent-Type: multipart/report; report-type=delivery-status; "
    "boundary=r\n\n--r\nContent-Type: message/delivery-status\n\n"
    "Status: 5.0.0\n--r--\n--a\nContent-Type: text/plain\n\nplain\n--a--\n")
# Forged delivery reports (issue 13): anyone can write Final-Recipient.
# Three of these once marked the named subscriber bounced on every list;
# one quotes a Message-ID shaped like postroom's, with a made-up token.
for i, quoted in enumerate(["<nothing@example.net>",
                            "<0123.AQQBAAAAAAAAAAF-forged@example.org>",
                            ""], 1):
    put("forged-dsn-%d.eml" % i, "From: MAILER-DAEMON@mx.example.net\n"
        "To: enquiries@example.org\n"
        "Subject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <forged-%d@mx.example.net>\nMIME-Version: 1.0\n"
        "Content-Type: multipart/report; report-type=delivery-status; "
        "boundary=r\n\n--r\nContent-Type: text/plain\n\nNo such user.\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        "Final-Recipient: rfc822; victim@example.net\nAction: failed\n"
        "Status: 5.1.1\n"
        "--r\nContent-Type: text/rfc822-headers\n\n"
        "From: news@example.org\n%s\n--r--\n"
        % (i, "Message-ID: " + quoted if quoted else "Subject: News"))
# Poison messages (issue 13, item 6): each made the forward or the
# acknowledgement impossible to build, so the enquiry was rolled back and
# retried for ever.  (The third, a 1 MB Subject, is made at run time by
# tests/scenario/inbound.sh.)
put("msgid-utf8.eml", ("From: Zo\u00eb Price <zoe@nhs.example.net>\n"
    "To: enquiries@example.org\nSubject: Joining the huddles\n"
    "Message-ID: <caf\u00e9-\u00fc\u00f1@nhs.example.net>\n"
    "In-Reply-To: <\u00e9arlier@nhs.example.net>\n"
    "Content-Type: text/plain; charset=utf-8\n\n"
    "I would like to join the analyst network huddles.\n").encode("utf-8"))
put("from-long-local.eml", "From: Long <" + "l" * 300 +
    "@nhs.example.net>\nTo: enquiries@example.org\n"
    "Subject: A very long address\n"
    "Message-ID: <long-local@nhs.example.net>\n\nHello.\n")
rnd = random.Random(2047)
put("binary-garbage.eml", bytes(rnd.getrandbits(8) for _ in range(8192)))
put("garbage-after-headers.eml", (H + "Subject: garbage\n"
    "Content-Type: multipart/mixed; boundary=g\n\n--g\n").encode() +
    bytes(rnd.getrandbits(8) for _ in range(4096)) + b"\n--g--\n")

for name in sorted(os.listdir(here)):
    if name.endswith(".eml") and name not in files:
        os.unlink(os.path.join(here, name))
for name, data in files.items():
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)
