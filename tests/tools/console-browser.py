#!/usr/bin/python3
"""console-browser.py - drive headless Chromium through the staff console.

    console-browser.py --webdriver URL --base URL --db FILE --shots DIR
                       --password PW --wref REF --eref REF --aref REF
                       --href REF --sink DIR --image FILE [--axe FILE]

The WebDriver client, screenshots, axe-core checks and the run itself are
browser.py's (imported from this directory): this file is only the
journey.  Two journeys, as staff would make them:
  1. an admin signs in with the form (email, password), sees the
     dashboard, then every console page: newsletters, one newsletter,
     subscribers and a search for "zoe" (which finds Zoë), her page,
     enquiries, one enquiry, lists and leads, the audit log, the staff
     accounts; and signs out with the button, landing on the login page;
  2. the admin writes a newsletter: a Markdown table typed into the
     composer, saved, previewed in its frames, an image uploaded with its
     alt text; a test copy sent to themself (found at the SMTP sink, --sink,
     with the image and the table); scheduled, unscheduled, then sent now
     after the question with the number of recipients, and watched on the
     progress page to the end;
  3. the West Midlands DSU lead signs in, sees only their enquiry (WREF,
     never EREF), opens it, re-routes it to the East Midlands lead with
     the form (it leaves their list; the forward must reach the East
     lead's address at the SMTP sink), and signs out.
The admin also opens the enquiry with hostile attachments (AREF) and the
HTML-only one (HREF), lists the unanswered, marks AREF answered with the
button and sends the re-route form without a lead (the error summary).
Every page is screenshot at phone and desktop widths into --shots
(console-NN-NAME-SIZE.png) and, with --axe, checked against WCAG 2.2 A
and AA at both.  Output as browser.py's: "ok - ", "not ok - ", "# ".
"""
import argparse
import importlib.util
import os
import sys
import time

_spec = importlib.util.spec_from_file_location(
    "browser", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "browser.py"))
browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser)


class ConsoleJourney(browser.Journey):
    def __init__(self, args):
        super().__init__(args)
        self.n = 0

    def both(self, b, name, what):
        """Screenshots at both widths, the style checks, axe at both."""
        self.page_ok(b, what)
        for size in ("desktop", "phone"):
            b.resize(size)
            self.n += 1
            self.shot(b, "console-%02d-%s-%s.png" % (self.n, name, size))
        b.resize("desktop")
        self.axe(b)

    def signin(self, b, email):
        b.go(self.args.base + "/login")
        b.type("#email", email)
        b.type("#password", self.args.password)
        b.click("button[type=submit]")
        return b.wait_text("h1", "Dashboard")

    def visit(self, b, path, h1, name):
        b.go(self.args.base + path)
        got = b.wait_text("h1", h1)
        self.check("%s opens (h1: %s)" % (path, got),
                   got is not None and h1 in got)
        self.both(b, name, path)

    def signout(self, b):
        b.click(".signout button")
        got = b.wait_text("h1", "Sign in")
        self.check("the sign-out button ends the session (h1: %s)" % got,
                   got == "Sign in to postroom")
        b.go(self.args.base + "/")
        got = b.wait_text("h1", "Sign in")
        self.check("... and the dashboard asks to sign in again",
                   got == "Sign in to postroom")

    def submit(self, b, form):
        """The submit button of the form whose action ends in form."""
        b.click("form[action$='%s'] button[type=submit]" % form)

    def newsletter(self, b):
        a = self.args
        b.go(a.base + "/campaigns/new")
        got = b.wait_text("h1", "Write a newsletter")
        self.check("the composer opens (h1: %s)" % got,
                   got == "Write a newsletter")
        self.both(b, "compose", "the composer")
        b.js("document.getElementById('list').value = 'news';")
        b.type("#subject", "Courses for {{subscriber.name}}")
        b.type("#body", "# Courses this spring\n\nDear {{subscriber.name}},"
               "\n\n| Course | Date |\n|---|---|\n| System dynamics | "
               "3 March |\n")
        self.submit(b, "/campaigns/new")
        got = b.wait_text(".notice", "saved")
        self.check("the draft is saved (%s)" % got,
                   got is not None and "saved" in got)
        cid = self.db("SELECT max(id) FROM campaigns")
        b.type("#image", a.image)
        b.type("#alt", "Bookings by month")
        self.submit(b, "/campaigns/%s/image" % cid)
        got = b.wait_text(".notice", "image")
        self.check("the image is uploaded and added (%s)" % got,
                   got is not None and "image" in got)
        body = self.db("SELECT body FROM campaigns WHERE id = ?", cid)
        self.check("... to the text, with its alt text",
                   "![Bookings by month](" in (body or ""))
        n = b.js("return document.querySelectorAll("
                 "'.previews iframe').length;")
        self.check("the preview is framed at two widths", n == 2)
        self.both(b, "compose-saved", "the composer with the preview")

        b.go(a.base + "/campaigns/%s" % cid)
        b.wait_text("h1", "Courses")
        self.submit(b, "/campaigns/%s/test" % cid)
        got = b.wait_text(".notice", "test")
        self.check("a test copy is sent from the page (%s)" % got,
                   got is not None and "test" in got)
        msg = self.wait_mail("Courses", 30)
        self.check("... and arrives at the SMTP sink", msg is not None)
        html = ""
        for part in (msg.walk() if msg is not None else []):
            if part.get_content_type() == "text/html":
                html = part.get_content()
        self.check("... with the table and the image",
                   "<table" in html and "/media/" in html)
        b.js("document.getElementById('date').value = '2099-01-31';"
             "document.getElementById('time').value = '09:30';")
        self.submit(b, "/campaigns/%s/schedule" % cid)
        got = b.wait_text(".notice", "scheduled")
        self.check("scheduled for a time to come (%s)" % got,
                   got is not None and "scheduled" in got)
        self.submit(b, "/campaigns/%s/unschedule" % cid)
        got = b.wait_text(".notice", "draft again")
        self.check("... and unscheduled (%s)" % got,
                   got is not None and "draft again" in got)
        b.go(a.base + "/campaigns/%s/send" % cid)
        got = b.wait_text(".panel", "people")
        self.check("send now asks first, with the number (%s)" % got,
                   got is not None and "2 people" in got)
        self.both(b, "send", "the question before sending")
        self.submit(b, "/campaigns/%s/send" % cid)
        got = b.wait_text("h1", "Sending")
        self.check("... and, confirmed, shows its progress (h1: %s)" % got,
                   got is not None and got.startswith("Sending"))
        got = b.wait_text("#progress-status", "sent", 30)
        self.check("the progress page updates itself to the end (%s)" % got,
                   got == "sent")
        self.both(b, "progress", "the progress page")

    def journey(self, b):
        a = self.args
        b.desktop()
        b.go(a.base + "/")
        got = b.wait_text("h1", "Sign in")
        self.check("signed out, / leads to the login page (h1: %s)" % got,
                   got == "Sign in to postroom")
        self.both(b, "login", "the login page")
        b.type("#email", "admin@example.org")
        b.type("#password", "not the password")
        b.click("button[type=submit]")
        got = b.wait_text(".error-summary", "not right")
        self.check("a wrong password is explained in the error summary",
                   got is not None and "not right" in got)
        self.both(b, "login-error", "the login page with an error")

        got = self.signin(b, "admin@example.org")
        self.check("the admin signs in with the form (h1: %s)" % got,
                   got == "Dashboard")
        self.both(b, "dashboard", "the dashboard")
        cid = self.db("SELECT max(id) FROM campaigns")
        sid = self.db("SELECT id FROM subscribers WHERE email = "
                      "'zoe@example.net'")
        for path, h1, name in [
                ("/campaigns", "Newsletters", "campaigns"),
                ("/campaigns/%s" % cid, "Spring", "campaign"),
                ("/subscribers?q=zoe", "Subscribers", "search"),
                ("/subscribers/%s" % sid, "Zo", "subscriber"),
                ("/enquiries", "Enquiries", "enquiries"),
                ("/enquiries/%s" % a.wref, a.wref, "enquiry"),
                ("/enquiries?from=31/03/2026", "Enquiries",
                 "enquiries-error"),
                ("/lists", "Lists and leads", "lists"),
                ("/audit", "Audit log", "audit"),
                ("/users", "Staff accounts", "users"),
                ("/enquiries/%s" % a.aref, a.aref, "enquiry-attachments"),
                ("/enquiries/%s" % a.href, a.href, "enquiry-html"),
                ("/enquiries?unanswered=1", "Enquiries",
                 "enquiries-unanswered")]:
            self.visit(b, path, h1, name)
        b.go(a.base + "/subscribers?q=zoe")
        got = b.wait_text(".results", "zoe@example.net")
        self.check("searching for zoe finds Zoë",
                   got is not None and "zoe@example.net" in got)
        self.newsletter(b)
        self.enquiry_forms(b)
        self.signout(b)

        got = self.signin(b, "west@example.org")
        self.check("the lead signs in (h1: %s)" % got, got == "Dashboard")
        b.go(a.base + "/enquiries")
        got = b.wait_text("main", a.wref) or ""
        self.check("the lead's list shows their enquiry %s" % a.wref,
                   a.wref in got)
        self.check("... and not another lead's (%s)" % a.eref,
                   a.eref not in got)
        self.both(b, "lead-enquiries", "a lead's enquiries")
        self.lead_reroute(b)
        self.signout(b)

    def enquiry_forms(self, b):
        """An admin marks the enquiry with attachments answered, then
        sends the re-route form without choosing a lead."""
        a = self.args
        b.go(a.base + "/enquiries/%s" % a.aref)
        b.wait_text("h1", a.aref)
        b.click("form[action$='/answered'] button")
        got = b.wait_text(".notice", "Marked as answered") or ""
        self.check("'Mark answered' marks it answered (%s)" % got,
                   "Marked as answered" in got and
                   self.db("SELECT answered_at > 0 FROM enquiries WHERE "
                           "reference = ?", a.aref) == 1)
        self.both(b, "enquiry-answered", "an enquiry marked answered")
        b.click("form[action$='/reroute'] button")
        got = b.wait_text(".error-summary", "Choose the lead") or ""
        self.check("re-routing without a lead is explained in the error "
                   "summary", "Choose the lead" in got)
        self.check("... which links to the field",
                   b.js("return document.querySelector("
                        "'.error-summary a').getAttribute('href');")
                   == "#lead")
        self.both(b, "enquiry-reroute-error", "the re-route form's error")

    def forward_to(self, ref, address, seconds=20):
        """The file at the SMTP sink holding ref's forward to address,
        or None."""
        end = time.time() + seconds
        log = os.path.join(self.args.sink, "log")
        while time.time() < end:
            lines = open(log).read().splitlines() \
                if os.path.exists(log) else []
            for line in lines:
                fields = line.split("\t")
                if len(fields) < 6 or fields[4] != address:
                    continue
                path = os.path.join(self.args.sink, "msgs", fields[5])
                with open(path, "rb") as f:
                    head = f.read(65536)
                if b"\nX-Postroom-Reference: " + ref.encode() in head:
                    return path
            time.sleep(0.2)
        return None

    def lead_reroute(self, b):
        """The West lead opens their enquiry and re-routes it to the East
        Midlands lead, whose forward must arrive."""
        a = self.args
        b.go(a.base + "/enquiries/%s" % a.wref)
        got = b.wait_text("h1", a.wref)
        self.check("the lead opens their enquiry (h1: %s)" % got,
                   got is not None and a.wref in got)
        self.both(b, "lead-enquiry", "a lead's enquiry")
        b.click("#lead option[value='east_dsu']")
        b.type("#note", "Leicester is in the East Midlands")
        b.click("form[action$='/reroute'] button")
        got = b.wait_text(".notice", "Re-routed") or ""
        self.check("the lead re-routes it to the East Midlands lead (%s)"
                   % got, "Re-routed" in got)
        main = b.text("main") or ""
        self.check("... and it leaves their list", a.wref not in main)
        self.check("... the East Midlands lead's in the database",
                   self.db("SELECT lead FROM enquiries WHERE reference = ?",
                           a.wref) == "east_dsu")
        self.both(b, "lead-rerouted", "a lead's list after a re-route")
        path = self.forward_to(a.wref, "east-dsu@example.org")
        self.check("the forward reaches the East Midlands lead "
                   "(at the SMTP sink)", path is not None)
        if path is not None:
            with open(path, "rb") as f:
                body = f.read().decode("utf-8", "replace")
            self.check("... saying who re-routed it and why",
                       "re-routed it to you" in body and
                       "Leicester is in the East Midlands" in body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--webdriver", required=True)
    ap.add_argument("--base", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--wref", required=True)
    ap.add_argument("--eref", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--email", default="admin@example.org")
    ap.add_argument("--image", required=True)
    ap.add_argument("--aref", required=True)
    ap.add_argument("--href", required=True)
    ap.add_argument("--axe")
    args = ap.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    return ConsoleJourney(args).run()


if __name__ == "__main__":
    sys.exit(main())
