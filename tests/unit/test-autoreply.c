/*
 * test-autoreply.c - the RFC 3834 decision: one table of messages, each
 * with whether it may be acknowledged, whether a machine sent it, and a
 * word of the reason.
 */
#include "testutil.h"

#include "autoreply.h"
#include "conf.h"
#include "message.h"

#define NHDR	4

struct ar_case {
	const char	*name;
	const char	*from;
	const char	*return_path;
	const char	*hdr[NHDR][2];
	int		 is_report;
	int		 want_allowed;
	int		 want_automatic;
	const char	*want_why;	/* a part of the reason */
};

static const struct ar_case ar_cases[] = {
	{ "a person", "jo@example.net", "jo@example.net", { { NULL } },
	  0, 1, 0, "" },
	{ "no Return-Path header at all", "jo@example.net", "", { { NULL } },
	  0, 1, 0, "" },
	{ "out of office", "jo@example.net", "",
	  { { "Auto-Submitted", "auto-replied" } }, 0, 0, 1,
	  "Auto-Submitted: auto-replied" },
	{ "auto-generated", "robot@example.net", "robot@example.net",
	  { { "Auto-Submitted", "auto-generated" } }, 0, 0, 1,
	  "auto-generated" },
	{ "Auto-Submitted: no", "jo@example.net", "",
	  { { "Auto-Submitted", "no" } }, 0, 1, 0, "" },
	{ "Auto-Submitted: No with a comment", "jo@example.net", "",
	  { { "auto-submitted", "No (a person wrote this)" } }, 0, 1, 0, "" },
	{ "Precedence: bulk", "news@example.net", "",
	  { { "Precedence", "bulk" } }, 0, 0, 1, "Precedence: bulk" },
	{ "Precedence: list", "jo@example.net", "",
	  { { "Precedence", "List" } }, 0, 0, 1, "Precedence" },
	{ "Precedence: junk", "jo@example.net", "",
	  { { "Precedence", "junk" } }, 0, 0, 1, "junk" },
	{ "Precedence: first-class", "jo@example.net", "",
	  { { "Precedence", "first-class" } }, 0, 1, 0, "" },
	{ "List-Id", "jo@example.net", "",
	  { { "List-Id", "<news.example.net>" } }, 0, 0, 1, "List-Id" },
	{ "List-Unsubscribe alone", "jo@example.net", "",
	  { { "List-Unsubscribe", "<mailto:u@example.net>" } }, 0, 0, 1,
	  "List-Unsubscribe" },
	{ "list-post in lower case", "jo@example.net", "",
	  { { "list-post", "<mailto:l@example.net>" } }, 0, 0, 1,
	  "list-post" },
	{ "empty envelope sender", "jo@example.net", "",
	  { { "Return-Path", "<>" } }, 0, 0, 1, "Return-Path: <>" },
	{ "MAILER-DAEMON envelope", "postmaster@example.net",
	  "MAILER-DAEMON@mx.example.net", { { NULL } }, 0, 0, 1,
	  "mail robot" },
	{ "MAILER-DAEMON From", "Mailer-Daemon@mx.example.net", "",
	  { { NULL } }, 0, 0, 1, "mail robot" },
	{ "noreply", "noreply@example.net", "", { { NULL } }, 0, 0, 1,
	  "no-reply" },
	{ "no-reply", "no-reply@example.net", "", { { NULL } }, 0, 0, 1,
	  "no-reply" },
	{ "do_not_reply", "Do_Not_Reply@example.net", "", { { NULL } }, 0, 0,
	  1, "no-reply" },
	{ "noreply in a longer name", "alerts.NoReply@example.net", "",
	  { { NULL } }, 0, 0, 1, "no-reply" },
	{ "owner-", "owner-news@example.net", "", { { NULL } }, 0, 0, 1,
	  "list robot" },
	{ "-request", "news-request@example.net", "", { { NULL } }, 0, 0, 1,
	  "list robot" },
	{ "reply is not noreply", "reply@example.net", "", { { NULL } },
	  0, 1, 0, "" },
	{ "a report", "postmaster@example.net", "", { { NULL } }, 1, 0, 1,
	  "multipart/report" },
	{ "X-Auto-Response-Suppress: All", "jo@example.net", "",
	  { { "X-Auto-Response-Suppress", "All" } }, 0, 0, 0,
	  "X-Auto-Response-Suppress" },
	{ "X-Auto-Response-Suppress: OOF, AutoReply", "jo@example.net", "",
	  { { "X-Auto-Response-Suppress", "OOF, AutoReply" } }, 0, 0, 0,
	  "OOF" },
	{ "X-Auto-Response-Suppress: None", "jo@example.net", "",
	  { { "X-Auto-Response-Suppress", "None" } }, 0, 1, 0, "" },
	{ "our own forward", "enquiries@example.org", "",
	  { { "X-Postroom-Reference", "ENQ-2026-00001" } }, 0, 0, 0,
	  "own mail" },
	{ "our own address", "Enquiries@Example.org", "", { { NULL } }, 0, 0,
	  0, "own mail" },
	{ "a list's From", "news@example.org", "", { { NULL } }, 0, 0, 0,
	  "own mail" },
	{ "no sender at all", "", "", { { NULL } }, 0, 0, 0,
	  "no sender address" },
	{ "Auto-Submitted: no, then another", "jo@example.net", "",
	  { { "Auto-Submitted", "no" },
	    { "Auto-Submitted", "auto-replied" } }, 0, 0, 1, "auto-replied" },
	{ "Precedence: first-class, then bulk", "jo@example.net", "",
	  { { "Precedence", "first-class" }, { "Precedence", "bulk" } }, 0, 0,
	  1, "Precedence: bulk" },
	{ "postmaster", "Postmaster@example.net", "", { { NULL } }, 0, 0, 1,
	  "mail robot" },
	{ "X-Loop with our address", "jo@example.net", "",
	  { { "X-Loop", "<Enquiries@example.org>" } }, 0, 0, 0, "own mail" },
	{ "X-Loop naming postroom", "jo@example.net", "",
	  { { "X-Loop", "postroom" } }, 0, 0, 0, "own mail" },
	{ "X-Loop of someone else", "jo@example.net", "",
	  { { "X-Loop", "helpdesk@example.net" } }, 0, 1, 0, "" },
	{ "our address, plus a tag", "enquiries+ENQ-2026-00001@EXAMPLE.org",
	  "", { { NULL } }, 0, 0, 0, "own mail" },
	{ "our VERP address", "jo@example.net", "bounces+AQIB@example.org",
	  { { NULL } }, 0, 0, 0, "own mail" },
	{ "our unsubscribe address", "unsubscribe+AQIB@example.org", "",
	  { { NULL } }, 0, 0, 0, "own mail" },
	{ "like ours, but another mailbox", "enquiries2@example.org", "",
	  { { NULL } }, 0, 1, 0, "" },
	{ "the first reason wins", "noreply@example.net", "",
	  { { "Auto-Submitted", "auto-replied" },
	    { "Precedence", "bulk" } }, 0, 0, 1, "Auto-Submitted" },
};

static void
ar_message(struct message *m, struct message_header *h,
    const struct ar_case *c)
{
	size_t	i;

	memset(m, 0, sizeof *m);
	m->status_detail = m->subject = m->message_id = m->in_reply_to =
	    m->references = m->date = m->body_text = m->report_type = "";
	m->from.name = m->sender.name = m->sender.addr = m->reply_to.name =
	    m->reply_to.addr = "";
	m->from.addr = (char *)c->from;
	m->return_path = (char *)c->return_path;
	m->is_report = c->is_report;
	if (c->is_report)
		m->report_type = "delivery-status";
	for (i = 0; i < NHDR && c->hdr[i][0] != NULL; i++) {
		h[i].name = (char *)c->hdr[i][0];
		h[i].value = (char *)c->hdr[i][1];
	}
	m->headers = h;
	m->nheaders = i;
}

static void
ar_conf(struct conf *conf, struct conf_list *list)
{
	memset(conf, 0, sizeof *conf);
	memset(list, 0, sizeof *list);
	conf->general.from_address = "enquiries@example.org";
	conf->general.domain = "example.org";
	list->slug = "news";
	list->from = "news@example.org";
	conf->lists = list;
	conf->nlists = 1;
}

static void
test_table(void **state)
{
	const struct ar_case	*c;
	struct message		 m;
	struct message_header	 h[NHDR];
	struct conf		 conf;
	struct conf_list	 list;
	char			 why[AUTOREPLY_WHY_MAX];
	char			 awhy[AUTOREPLY_WHY_MAX];
	size_t			 i;
	int			 allowed, automatic, failed = 0;

	ar_conf(&conf, &list);
	for (i = 0; i < sizeof ar_cases / sizeof ar_cases[0]; i++) {
		c = &ar_cases[i];
		ar_message(&m, h, c);
		allowed = autoreply_allowed(&conf, &m, why, sizeof why);
		automatic = autoreply_is_automatic(&m, awhy, sizeof awhy);
		if (allowed != c->want_allowed) {
			print_error("%s: allowed: got %d, want %d (%s)\n",
			    c->name, allowed, c->want_allowed, why);
			failed++;
		}
		if (automatic != c->want_automatic) {
			print_error("%s: automatic: got %d, want %d (%s)\n",
			    c->name, automatic, c->want_automatic, awhy);
			failed++;
		}
		if (!allowed && strstr(why, c->want_why) == NULL) {
			print_error("%s: reason: got \"%s\", want it to hold "
			    "\"%s\"\n", c->name, why, c->want_why);
			failed++;
		}
	}
	if (failed)
		fail_msg("%d failures", failed);
}

/*
 * With inbound.addresses set, mail that names none of the inbox's
 * addresses in To, Cc, Resent-To or Resent-Cc (a Bcc, a list's copy) is
 * not acknowledged; with it unset, every message counts as addressed.
 */
static void
test_addressed(void **state)
{
	static const struct {
		const char	*addresses;
		const char	*to;		/* To/Cc, or NULL */
		const char	*resent;	/* Resent-To, or NULL */
		int		 want;
	} cases[] = {
		{ "enquiries@midlands-dsn.example.org",
		  "enquiries@midlands-dsn.example.org", NULL, 1 },
		{ "enquiries@midlands-dsn.example.org",
		  "Enquiries+Training@MIDLANDS-DSN.example.org", NULL, 1 },
		{ "a@x.example, enquiries@midlands-dsn.example.org",
		  "enquiries@midlands-dsn.example.org", NULL, 1 },
		{ "enquiries@midlands-dsn.example.org",
		  "enquiries@example.org", NULL, 1 },	/* from_address */
		{ "enquiries@midlands-dsn.example.org",
		  "someone@elsewhere.example", NULL, 0 },
		{ "enquiries@midlands-dsn.example.org", NULL, NULL, 0 },
		{ "enquiries@midlands-dsn.example.org", "list@lists.example",
		  "Enquiries <enquiries@midlands-dsn.example.org>", 1 },
		{ "", "someone@elsewhere.example", NULL, 1 },
		{ "", NULL, NULL, 1 },
	};
	struct ar_case		 c;
	struct message		 m;
	struct message_header	 h[NHDR];
	struct message_address	 to;
	struct conf		 conf;
	struct conf_list	 list;
	char			 why[AUTOREPLY_WHY_MAX];
	size_t			 i;
	int			 got;

	ar_conf(&conf, &list);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&c, 0, sizeof c);
		c.name = "addressed";
		c.from = "jo@example.net";
		c.return_path = "";
		if (cases[i].resent != NULL) {
			c.hdr[0][0] = "Resent-To";
			c.hdr[0][1] = cases[i].resent;
		}
		ar_message(&m, h, &c);
		memset(&to, 0, sizeof to);
		to.name = "";
		to.addr = (char *)cases[i].to;
		if (cases[i].to != NULL) {
			m.to = &to;
			m.nto = 1;
		}
		conf.inbound.addresses = (char *)cases[i].addresses;
		got = autoreply_allowed(&conf, &m, why, sizeof why);
		if (got != cases[i].want)
			fail_msg("case %zu (to %s, resent %s): got %d (%s), "
			    "want %d", i, cases[i].to ? cases[i].to : "none",
			    cases[i].resent ? cases[i].resent : "none", got,
			    why, cases[i].want);
		if (!got && strstr(why, "not addressed") == NULL)
			fail_msg("case %zu: reason \"%s\"", i, why);
	}
}

static void
test_why_fits(void **state)
{
	static char		 longv[600];
	struct ar_case		 c;
	struct message		 m;
	struct message_header	 h[NHDR];
	char			 why[16];

	memset(longv, 'x', sizeof longv - 1);
	memset(&c, 0, sizeof c);
	c.name = "long";
	c.from = "jo@example.net";
	c.return_path = "";
	c.hdr[0][0] = "Auto-Submitted";
	c.hdr[0][1] = longv;
	ar_message(&m, h, &c);
	assert_int_equal(autoreply_allowed(NULL, &m, why, sizeof why), 0);
	assert_int_equal(strlen(why), sizeof why - 1);
	/* A size of 0 writes nothing. */
	assert_int_equal(autoreply_allowed(NULL, &m, NULL, 0), 0);
}

static void
test_address(void **state)
{
	struct ar_case		 c;
	struct message		 m;
	struct message_header	 h[NHDR];

	memset(&c, 0, sizeof c);
	c.from = "jo@example.net";
	c.return_path = "bounce-jo@lists.example.net";
	ar_message(&m, h, &c);
	assert_str_eq_msg("envelope first", autoreply_address(&m),
	    "bounce-jo@lists.example.net");
	c.return_path = "";
	ar_message(&m, h, &c);
	assert_str_eq_msg("then From", autoreply_address(&m),
	    "jo@example.net");
	c.from = "";
	ar_message(&m, h, &c);
	assert_str_eq_msg("else nothing", autoreply_address(&m), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_addressed),
		cmocka_unit_test(test_why_fits),
		cmocka_unit_test(test_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
