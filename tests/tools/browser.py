#!/usr/bin/python3
"""browser.py - drive headless Chromium through postroom's web pages.

    browser.py --webdriver URL --base URL --db FILE --sink DIR --shots DIR
               --email ADDRESS --send-newsletter COMMAND
               [--send-test COMMAND] [--axe FILE]

Speaks the W3C WebDriver protocol to a running chromedriver with nothing
but urllib (no selenium), and for what WebDriver lacks (a phone-sized
viewport, full-page screenshots) chromedriver's goog/cdp/execute.  Chromium
is started by chromedriver with --headless --no-sandbox --disable-gpu and a
fresh profile in a temporary directory.

The journey, as a person would make it:
  1. on a phone-sized screen, open BASE/subscribe/news, fill in the form,
     tick the consent box, press Subscribe: "Check your inbox"; the
     database shows the membership pending;
  2. take the confirmation link from the email that postroomd delivered to
     the SMTP sink (DIR/msgs/*.eml, tests/tools/smtp-sink.py), open it on
     a desktop-sized screen (the database still says pending: a GET
     confirms nothing), press Confirm: confirmed;
  3. run COMMAND, which sends a newsletter to the list; take the links in
     the newsletter that reaches the sink; choose the digest on the
     preferences page; press Unsubscribe on the unsubscribe page:
     unsubscribed.
  4. with --send-test, run COMMAND, which sends a test copy of the
     newsletter to ADDRESS; its unsubscribe link opens a page saying it
     was a test copy (the membership is left as it was), its "read this
     online" link shows the newsletter, and its preferences link says it
     was a test copy too;
  5. the newsletter's "read this online" page (/archive/ID), and the
     pages for a link that was tampered with and for an address that
     does not exist.
Each step is checked in the page and in the database (sqlite3), and a
full-page screenshot of every page is saved in --shots (PNG).

With --axe FILE (axe.min.js from axe-core), every page is also checked
for WCAG 2.2 A and AA failures, on a phone-sized and on a desktop-sized
screen: the file is injected into the page with WebDriver's execute/sync
and axe.run() called with execute/async.  One check per page and size,
and one diagnostic line for each rule the page breaks.

Output is one line per check, "ok - WHAT" or "not ok - WHAT", and "# ..."
for diagnostics; the exit status is 0 when every check passed.
"""
import argparse
import base64
import email
import email.policy
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

PHONE = (390, 844)
DESKTOP = (1280, 900)
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

# axe-core's tags for the success criteria of WCAG 2.0, 2.1 and 2.2 at
# levels A and AA (2.2 added no level A criterion axe can test).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Pages whose last path segment is a token: the token is left out of what
# is printed.
TOKEN_ROUTES = ("confirm", "unsubscribe", "preferences", "test-copy",
                "test-unsubscribe", "test-preferences")
# Run axe; hand back each violation with the selectors of its elements.
AXE_RUN = """
var done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]},
                   resultTypes: ['violations']}).then(function (r) {
    done({violations: r.violations.map(function (v) {
        return {id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(function (n) {
                    return n.target.join(' '); })};
    })});
}, function (e) { done({error: String(e)}); });
"""


class WebDriverError(Exception):
    pass


class Browser:
    def __init__(self, url, profile):
        self.url = url.rstrip("/")
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-quic", "--no-first-run",
                         "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage",
                         "--user-data-dir=" + profile,
                         "--window-size=%d,%d" % DESKTOP],
            },
        }}}
        value = self.call("POST", "/session", caps)
        self.session = value["sessionId"]
        self.base = "/session/" + self.session
        self.size = "desktop"
        self.cmd("POST", "/timeouts", {"script": 30000})

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                out = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                err = json.loads(e.read())["value"]
                raise WebDriverError("%s %s: %s: %s" % (
                    method, path, err.get("error"),
                    err.get("message", "").split("\n")[0]))
            except (ValueError, KeyError):
                raise WebDriverError("%s %s: HTTP %d" % (method, path,
                                                         e.code))
        return out.get("value")

    def cmd(self, method, path, body=None):
        return self.call(method, self.base + path, body)

    def cdp(self, command, params=None):
        return self.cmd("POST", "/goog/cdp/execute",
                        {"cmd": command, "params": params or {}})

    def phone(self):
        self.cdp("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 2,
            "mobile": True})
        self.size = "phone"

    def desktop(self):
        self.cdp("Emulation.clearDeviceMetricsOverride")
        self.cmd("POST", "/window/rect", {"width": DESKTOP[0],
                                          "height": DESKTOP[1]})
        self.size = "desktop"

    def resize(self, size):
        if size == "phone":
            self.phone()
        else:
            self.desktop()

    def go(self, url):
        self.cmd("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script,
                                                  "args": list(args)})

    def js_async(self, script, *args):
        """script calls its last argument with the result."""
        return self.cmd("POST", "/execute/async", {"script": script,
                                                   "args": list(args)})

    def find(self, css):
        return self.cmd("POST", "/element", {"using": "css selector",
                                             "value": css})[ELEMENT]

    def type(self, css, text):
        self.cmd("POST", "/element/%s/value" % self.find(css),
                 {"text": text})

    def click(self, css):
        self.cmd("POST", "/element/%s/click" % self.find(css), {})

    def text(self, css):
        return self.cmd("GET", "/element/%s/text" % self.find(css))

    def wait_text(self, css, want, seconds=10):
        end = time.time() + seconds
        got = None
        while time.time() < end:
            try:
                got = self.text(css)
                if want in got:
                    return got
            except WebDriverError:
                pass
            time.sleep(0.1)
        return got

    def screenshot(self, path):
        """The whole page, not only what fits in the window."""
        m = self.cdp("Page.getLayoutMetrics")
        size = m.get("cssContentSize") or m["contentSize"]
        shot = self.cdp("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": size["height"], "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def quit(self):
        try:
            self.cmd("DELETE", "")
        except (WebDriverError, OSError):
            pass


class Journey:
    def __init__(self, args):
        self.args = args
        self.failed = 0
        self.shots = []
        self.axe_source = None
        self.axe_version = None
        if args.axe:
            with open(args.axe) as f:
                self.axe_source = f.read()

    def check(self, what, cond, detail=None):
        if cond:
            print("ok - " + what)
        else:
            self.failed += 1
            print("not ok - " + what)
            if detail:
                for line in str(detail).splitlines()[:8]:
                    print("# " + line)
        sys.stdout.flush()
        return cond

    def diag(self, text):
        print("# " + text)
        sys.stdout.flush()

    def db(self, sql, *params):
        con = sqlite3.connect(self.args.db, timeout=10)
        try:
            row = con.execute(sql, params).fetchone()
        finally:
            con.close()
        return row[0] if row else None

    def membership(self, what="status"):
        return self.db("SELECT m.%s FROM memberships m JOIN subscribers s "
                       "ON s.id = m.subscriber_id WHERE s.email = ? AND "
                       "m.list = 'news'" % what, self.args.email)

    def shot(self, b, name):
        path = os.path.join(self.args.shots, name)
        b.screenshot(path)
        self.shots.append(path)

    def axe(self, b):
        """The page against WCAG 2.2 A/AA, at the size it was opened at
        and at the other one; the browser is left at the first."""
        if self.axe_source is None:
            return
        path = urllib.parse.urlsplit(b.cmd("GET", "/url")).path
        parts = path.split("/")
        if len(parts) == 3 and parts[1] in TOKEN_ROUTES:
            path = "/%s/TOKEN" % parts[1]
        title = b.cmd("GET", "/title").split(" \u2013 ")[0]
        here = b.size
        for size in [here] + [s for s in ("phone", "desktop") if s != here]:
            if size != b.size:
                b.resize(size)
            self.axe_check(b, "axe: %s (%s) on a %s" % (path, title, size))
        if b.size != here:
            b.resize(here)

    def axe_check(self, b, what):
        if b.js("return typeof window.axe;") == "undefined":
            b.js(self.axe_source)
            version = b.js("return window.axe && window.axe.version;")
            if self.axe_version is None:
                self.axe_version = version
                self.diag("axe-core %s, rules tagged %s" %
                          (version, " ".join(AXE_TAGS)))
        r = b.js_async(AXE_RUN, AXE_TAGS)
        if r.get("error"):
            self.check(what + ": axe runs", False, r["error"])
            return
        found = r["violations"]
        if self.check("%s has no WCAG 2.2 A/AA violations" % what,
                      not found):
            return
        for v in found:
            more = len(v["targets"]) - 3
            self.diag("%s (%s): %s: %s%s" % (
                v["id"], v["impact"], v["help"],
                ", ".join(v["targets"][:3]),
                " and %d more" % more if more > 0 else ""))

    def wait_mail(self, subject_part, seconds=20):
        """The newest message to --email in the sink with this subject."""
        end = time.time() + seconds
        while time.time() < end:
            log = os.path.join(self.args.sink, "log")
            found = None
            if os.path.exists(log):
                with open(log) as f:
                    for line in f:
                        fields = line.rstrip("\n").split("\t")
                        if len(fields) < 6 or fields[4] != self.args.email:
                            continue
                        path = os.path.join(self.args.sink, "msgs",
                                            fields[5])
                        with open(path, "rb") as mf:
                            msg = email.message_from_binary_file(
                                mf, policy=email.policy.default)
                        if subject_part in str(msg["Subject"]):
                            found = msg
            if found is not None:
                return found
            time.sleep(0.2)
        return None

    @staticmethod
    def links(msg, kind):
        out = []
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                out += re.findall(r"https?://[^\s<>\"']*/%s/[A-Za-z0-9_-]+"
                                  % kind, part.get_content())
        return out

    def page_ok(self, b, what):
        """The style sheet applied (CSP allows it) and nothing overflows."""
        r = b.js("var s = getComputedStyle(document.querySelector("
                 "'.masthead'));"
                 "return [s.backgroundColor,"
                 " document.documentElement.scrollWidth, innerWidth,"
                 " document.documentElement.lang];")
        self.check("%s: the style sheet is applied under the CSP and the "
                   "page fits the screen (%s)" % (what, r),
                   r[0] == "rgb(29, 63, 110)" and r[1] <= r[2] and
                   r[3] == "en-GB")

    def run(self):
        a = self.args
        profile = tempfile.mkdtemp(prefix="postroom-chromium-")
        b = None
        try:
            b = Browser(a.webdriver, profile)
            self.journey(b)
        except (WebDriverError, OSError, KeyError, TypeError) as e:
            self.check("the browser journey runs to the end", False,
                       "%s: %s" % (type(e).__name__, e))
        finally:
            if b is not None:
                b.quit()
            shutil.rmtree(profile, ignore_errors=True)
        self.diag("screenshots: " + " ".join(
            os.path.basename(s) for s in self.shots))
        return 1 if self.failed else 0

    def journey(self, b):
        a = self.args

        # 1. Subscribe on a phone.
        b.phone()
        b.go(a.base + "/subscribe/news")
        title = b.cmd("GET", "/title")
        self.check("the subscribe page opens on a phone (title: %s)" % title,
                   title.startswith("Subscribe"))
        self.page_ok(b, "subscribe on a phone")
        w = b.js("return innerWidth;")
        self.check("the phone viewport is %d CSS pixels wide (got %s)" %
                   (PHONE[0], w), w == PHONE[0])
        self.shot(b, "01-subscribe-phone.png")
        self.axe(b)
        b.type("#email", a.email)
        b.type("#name", "Ann Browser")
        b.click("#consent")
        self.shot(b, "02-subscribe-filled-phone.png")
        b.click("button[type=submit]")
        got = b.wait_text("h1", "Check your inbox")
        self.check("pressing Subscribe says check your inbox (h1: %s)" % got,
                   got == "Check your inbox")
        self.shot(b, "03-check-inbox-phone.png")
        self.axe(b)
        status = self.membership()
        self.check("the database has the membership pending (%s), consent "
                   "method web" % status, status == "pending" and
                   self.membership("consent_method") == "web")

        # 2. The confirmation email, the link, the button.
        msg = self.wait_mail("Please confirm")
        self.check("the confirmation email reached the SMTP sink",
                   msg is not None)
        if msg is None:
            return
        urls = self.links(msg, "confirm")
        self.check("it holds a confirm link on our server (%s)" %
                   (urls[:1]), len(urls) > 0 and
                   urls[0].startswith(a.base + "/confirm/"))
        if not urls:
            return
        b.desktop()
        b.go(urls[0])
        got = b.wait_text("h1", "Confirm")
        self.check("the link opens a page with a Confirm button (h1: %s)" %
                   got, got == "Confirm your subscription")
        self.page_ok(b, "confirm on a desktop")
        self.shot(b, "04-confirm-desktop.png")
        self.axe(b)
        status = self.membership()
        self.check("opening the link changed nothing: still %s" % status,
                   status == "pending")
        b.click("button[type=submit]")
        got = b.wait_text("h1", "You are subscribed")
        self.check("pressing Confirm says you are subscribed (h1: %s)" % got,
                   got == "You are subscribed")
        self.shot(b, "05-confirmed-desktop.png")
        self.axe(b)
        status = self.membership()
        self.check("the database has the membership confirmed (%s) with "
                   "consent_at set" % status, status == "confirmed" and
                   (self.membership("consent_at") or 0) > 0)

        # 3. A newsletter; preferences and unsubscribe through its links.
        rc = subprocess.call(a.send_newsletter, shell=True)
        self.check("the newsletter is sent (%s: %d)" % (a.send_newsletter,
                                                        rc), rc == 0)
        msg = self.wait_mail("Autumn bulletin", 60)
        self.check("the newsletter reached the SMTP sink", msg is not None)
        if msg is None:
            return
        header = str(msg["List-Unsubscribe"] or "")
        self.check("it has List-Unsubscribe and List-Unsubscribe-Post "
                   "headers", "/unsubscribe/" in header and
                   "One-Click" in str(msg["List-Unsubscribe-Post"]))
        unsub = self.links(msg, "unsubscribe")
        prefs = self.links(msg, "preferences")
        online = self.links(msg, "archive")
        self.check("its body links to unsubscribe, preferences and the "
                   "archive", unsub and prefs and online)
        if not unsub or not prefs or not online:
            return

        b.phone()
        b.go(prefs[0])
        got = b.wait_text("h1", "preferences")
        self.check("the preferences link opens the preferences page (h1: %s)"
                   % got, got == "Your email preferences")
        self.page_ok(b, "preferences on a phone")
        self.shot(b, "06-preferences-phone.png")
        self.axe(b)
        b.click("#mode-news-digest")
        b.click("button[type=submit]")
        got = b.wait_text(".panel h2", "saved")
        self.check("choosing the digest and saving says saved (%s)" % got,
                   got == "Your choices have been saved")
        self.shot(b, "07-preferences-saved-phone.png")
        self.axe(b)
        mode = self.membership("mode")
        self.check("the database has the digest mode (%s)" % mode,
                   mode == "digest")

        b.go(unsub[0])
        got = b.wait_text("h1", "Unsubscribe")
        self.check("the newsletter's unsubscribe link opens a page with a "
                   "button (h1: %s)" % got, got is not None and
                   got.startswith("Unsubscribe from"))
        self.page_ok(b, "unsubscribe on a phone")
        self.shot(b, "08-unsubscribe-phone.png")
        self.axe(b)
        status = self.membership()
        self.check("opening it changed nothing: still %s" % status,
                   status == "confirmed")
        b.click("button[type=submit]")
        got = b.wait_text("h1", "unsubscribed")
        self.check("pressing Unsubscribe says you have unsubscribed (h1: %s)"
                   % got, got == "You have unsubscribed")
        self.shot(b, "09-unsubscribed-phone.png")
        self.axe(b)
        status = self.membership()
        self.check("the database has the membership unsubscribed (%s)" %
                   status, status == "unsubscribed" and
                   (self.membership("unsubscribed_at") or 0) > 0)

        # 4. A mistake the browser lets through and the server catches.
        b.desktop()
        b.go(a.base + "/subscribe/training")
        self.axe(b)
        b.type("#email", "someone@localhost")
        b.click("#consent")
        b.click("button[type=submit]")
        got = b.wait_text(".error-summary h2", "problem")
        self.check("an address the server refuses shows the error summary "
                   "(%s)" % got, got == "There is a problem")
        self.shot(b, "10-subscribe-error-desktop.png")
        self.axe(b)
        b.go(a.base + "/")
        self.page_ok(b, "the list of lists on a desktop")
        self.shot(b, "11-lists-desktop.png")
        self.axe(b)

        if a.send_test:
            self.test_copy(b)
        self.others(b, online[0], unsub[0])

    def test_copy(self, b):
        """5. A test copy's links change nothing and show the newsletter."""
        a = self.args
        rc = subprocess.call(a.send_test, shell=True)
        self.check("a test copy is sent (%s: %d)" % (a.send_test, rc),
                   rc == 0)
        msg = self.wait_mail("[TEST] Autumn bulletin", 60)
        self.check("the test copy reached the SMTP sink", msg is not None)
        if msg is None:
            return
        unsub = self.links(msg, "test-unsubscribe")
        prefs = self.links(msg, "test-preferences")
        read = self.links(msg, "test-copy")
        self.check("its links are a test copy's (%s)" % (unsub[:1]),
                   unsub and prefs and read and
                   not self.links(msg, "unsubscribe"))
        if not unsub or not prefs or not read:
            return
        before = self.membership()
        b.phone()
        b.go(unsub[0])
        got = b.wait_text("h1", "test copy")
        self.check("its unsubscribe link says it was a test copy (h1: %s)"
                   % got, got == "This was a test copy")
        self.page_ok(b, "a test copy's unsubscribe link on a phone")
        self.shot(b, "12-test-unsubscribe-phone.png")
        self.axe(b)
        self.check("... and changed nothing (%s)" % self.membership(),
                   self.membership() == before)
        b.desktop()
        b.go(read[0])
        got = b.wait_text("h1", "Autumn bulletin")
        self.check("its read-online link shows the newsletter (h1: %s)" %
                   got, got == "Autumn bulletin")
        self.page_ok(b, "a test copy read online on a desktop")
        self.shot(b, "13-test-copy-desktop.png")
        self.axe(b)
        b.go(prefs[0])
        got = b.wait_text("h1", "test copy")
        self.check("its preferences link says it was a test copy (h1: %s)"
                   % got, got == "This was a test copy")
        self.page_ok(b, "a test copy's preferences link on a desktop")
        self.shot(b, "14-test-preferences-desktop.png")
        self.axe(b)

    def others(self, b, online, unsub):
        """6. The newsletter read online; a link someone changed, and an
        address with no page, on a phone."""
        a = self.args
        b.phone()
        b.go(online)
        got = b.wait_text("h1", "Autumn bulletin")
        self.check("the newsletter's read-online link shows it (h1: %s)" %
                   got, got == "Autumn bulletin")
        self.page_ok(b, "the newsletter read online on a phone")
        self.shot(b, "15-archive-phone.png")
        self.axe(b)

        # One character of the token changed: the signature fails.
        head, tok = unsub.rsplit("/", 1)
        tok = tok[:4] + ("B" if tok[4] != "B" else "C") + tok[5:]
        b.go(head + "/" + tok)
        got = b.wait_text("h1", "not valid")
        self.check("a changed unsubscribe link says it is not valid "
                   "(h1: %s)" % got, got == "This link is not valid")
        self.page_ok(b, "a changed link on a phone")
        self.shot(b, "16-link-not-valid-phone.png")
        self.axe(b)

        b.go(a.base + "/no-such-page")
        got = b.wait_text("h1", "not found")
        self.check("an address with no page says so (h1: %s)" % got,
                   got == "Page not found")
        self.page_ok(b, "page not found on a phone")
        self.shot(b, "17-not-found-phone.png")
        self.axe(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--webdriver", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--send-newsletter", required=True)
    ap.add_argument("--send-test")
    ap.add_argument("--axe", help="axe-core's axe.min.js: check each "
                    "page against WCAG 2.2 A/AA")
    args = ap.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    return Journey(args).run()


if __name__ == "__main__":
    sys.exit(main())
