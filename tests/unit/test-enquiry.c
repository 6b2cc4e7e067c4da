/*
 * test-enquiry.c - what happens to one inbound message, against a real
 * database and the shipped configuration and templates: the enquiry row,
 * the forwards and the acknowledgement queued together; a message seen
 * twice; a reply carrying a reference; the once-a-day acknowledgement
 * limit; unreadable mail; bounces matched and counted to suppression.
 */
#include "testutil.h"

#include <unistd.h>

#include "conf.h"
#include "enquiry.h"
#include "message.h"
#include "mime-parse.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

struct env {
	char			 dir[64];
	struct conf		*conf;
	struct store		*s;
	struct enquiry_env	*e;
};

static int
setup(void **state)
{
	struct env		*t = xcalloc(1, sizeof *t);
	struct conf_errors	 errs = { 0 };
	char			*ov[4], *cause = NULL, path[4300];

	snprintf(t->dir, sizeof t->dir, "/tmp/postroom-enq.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	ov[0] = xprintf("general.database=%s/p.db", t->dir);
	ov[1] = xprintf("general.secret_file=%s/secret.key", t->dir);
	ov[2] = xprintf("general.templates=%s/templates", test_top());
	ov[3] = xstrdup("smtp.bounce_threshold=2");
	snprintf(path, sizeof path, "%s/config/postroom.conf", test_top());
	t->conf = conf_load(path, ov, 4, &errs);
	for (size_t i = 0; i < 4; i++)
		free(ov[i]);
	for (size_t i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	if (t->conf == NULL)
		return -1;
	if ((t->s = store_open(t->conf->general.database, &cause)) == NULL ||
	    (t->e = enquiry_open(t->conf, &cause)) == NULL) {
		print_error("%s\n", cause);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*t = *state;
	char		 cmd[128];

	enquiry_close(t->e);
	store_close(t->s);
	conf_free(t->conf);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	free(t);
	return system(cmd) == 0 ? 0 : -1;
}

/* Parse raw in-process (trusted test input) and hand it to enquiry.c. */
static int
receive(struct env *t, const char *raw, struct enquiry_result *res)
{
	struct mime_parse_limits	 lim;
	struct message			*m;
	char				*cause = NULL;
	int				 rc;

	mime_parse_limits_default(&lim);
	m = mime_parse(raw, strlen(raw), &lim);
	rc = enquiry_receive(t->e, t->s, raw, strlen(raw), m, "test", res,
	    &cause);
	if (rc == -1)
		print_error("enquiry_receive: %s\n", cause);
	free(cause);
	message_free(m);
	return rc;
}

static long long
count(struct env *t, const char *sql)
{
	char		*v = NULL, *cause = NULL;
	long long	 n;

	assert_int_equal(store_query_text(t->s, sql, &v, &cause), 1);
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static const char join[] =
    "From: Aaliyah Hussain <aaliyah@nhs.example.net>\r\n"
    "To: enquiries@example.org\r\n"
    "Subject: Joining the Analyst Network huddles\r\n"
    "Message-ID: <join-1@nhs.example.net>\r\n"
    "Date: Mon, 16 Nov 2026 09:00:00 +0000\r\n"
    "\r\n"
    "I am an analyst in Derby and would like to join the Midlands Analyst\r\n"
    "Network and its fortnightly huddles.\r\n";

static void
test_routed_forwarded_acknowledged(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;

	assert_int_equal(receive(t, join, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	assert_str_eq_msg("lead (topic beats region)", res.lead,
	    "analyst_network");
	assert_int_equal(res.acked, 1);
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries"), 1);
	/* One forward per address of the lead, one acknowledgement. */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'forward' AND rcpt_to IN (SELECT value FROM json_each("
	    "'[\"analyst-network@example.org\"]'))"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'ack' AND rcpt_to = 'aaliyah@nhs.example.net' AND"
	    " mail_from = ''"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'ack' AND instr(message, 'Auto-Submitted: auto-replied') > 0"
	    " AND instr(message, 'In-Reply-To: <join-1@nhs.example.net>') >"
	    " 0"), 1);
	/* The forward carries the original intact and Reply-To the sender. */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'forward' AND instr(message, 'Reply-To: Aaliyah Hussain"
	    " <aaliyah@nhs.example.net>') > 0 AND instr(message,"
	    " 'Content-Type: message/rfc822') > 0 AND instr(message,"
	    " 'Message-ID: <join-1@nhs.example.net>') > 0"), 1);
}

static void
test_seen_twice_routed_once(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	long long		 before = count(t, "SELECT count(*) FROM outbox");

	assert_int_equal(receive(t, join, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_DUPLICATE);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox"), before);
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries"), 1);
}

static void
test_reply_same_lead_no_ack(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	char			*raw, ref[32];
	char			*v = NULL, *cause = NULL;

	assert_int_equal(store_query_text(t->s, "SELECT reference FROM"
	    " enquiries", &v, &cause), 1);
	snprintf(ref, sizeof ref, "%s", v);
	free(v);
	/* The words would route elsewhere: the reference wins. */
	raw = xprintf("From: aaliyah@nhs.example.net\r\n"
	    "To: enquiries@example.org\r\nSubject: Re: huddles [%s]\r\n"
	    "Message-ID: <join-2@nhs.example.net>\r\n\r\n"
	    "Also, where is the evaluation guide?\r\n", ref);
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(res.outcome, ENQUIRY_REPLY);
	assert_str_eq_msg("reply lead", res.lead, "analyst_network");
	assert_int_equal(res.acked, 0);
}

static void
test_one_ack_a_day(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;

	assert_int_equal(receive(t, "From: aaliyah@nhs.example.net\r\n"
	    "To: enquiries@example.org\r\nSubject: Evaluation guide\r\n"
	    "Message-ID: <other@nhs.example.net>\r\n\r\n"
	    "Where can I download the evaluation guide?\r\n", &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	assert_int_equal(res.acked, 0);
	if (strstr(res.why_no_ack, "already acknowledged today") == NULL) {
		print_error("got why_no_ack \"%s\", want \"already "
		    "acknowledged today\"\n", res.why_no_ack);
		fail();
	}
}

static void
test_unreadable_to_default_with_raw(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	struct message		*m;
	char			*cause = NULL;
	const char		*raw = "From: x@example.net\r\nSubject: ???\r\n"
				    "\r\nbody\r\n";

	m = message_new_failed("the parser child died (test)");
	assert_int_equal(enquiry_receive(t->e, t->s, raw, strlen(raw), m,
	    "test", &res, &cause), 0);
	message_free(m);
	assert_str_eq_msg("lead", res.lead, "general");
	assert_str_eq_msg("rule", res.rule, "unreadable");
	assert_int_equal(res.acked, 0);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox o JOIN"
	    " enquiries e ON o.enquiry_id = e.id WHERE e.rule = 'unreadable'"
	    " AND o.kind = 'forward' AND instr(o.message, 'body') > 0"), 2);
}

/* Forwards only ever go to configured lead addresses. */
static void
test_never_an_open_relay(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;

	assert_int_equal(receive(t, "From: evil@example.net\r\n"
	    "To: enquiries+x@example.org, victim@example.com\r\n"
	    "Cc: other-victim@example.com\r\nReply-To: victim@example.com\r\n"
	    "Subject: forward me to victim@example.com\r\n"
	    "Message-ID: <relay@example.net>\r\n\r\n"
	    "Please send this to victim@example.com\r\n", &res), 0);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'forward' AND rcpt_to LIKE '%example.com'"), 0);
}

static char *
dsn(const char *to, const char *rcpt, const char *action, const char *status,
    const char *id)
{
	return xprintf("From: MAILER-DAEMON@mx.example.net\r\n"
	    "To: %s\r\nSubject: Undelivered Mail Returned to Sender\r\n"
	    "Message-ID: <%s@mx.example.net>\r\nMIME-Version: 1.0\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;"
	    " boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n"
	    "Sorry.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.net\r\n\r\n"
	    "Final-Recipient: rfc822; %s\r\nAction: %s\r\n"
	    "Status: %s\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
	    "\r\n--B--\r\n", to, id, rcpt, action, status);
}

static void
test_bounces_matched_and_suppressed(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	struct token		 tk;
	unsigned char		 key[TOKEN_KEY_LEN];
	char			*cause = NULL, *tok, *raw, *verp;
	int64_t			 id;

	assert_int_equal(store_subscriber_add(t->s, "gone@example.net",
	    "Gone", NULL, &id, &cause), 1);
	assert_int_equal(store_member_add(t->s, id, "news",
	    STORE_MEMBER_CONFIRMED, NULL, "staff", "test", &cause), 1);
	assert_int_equal(token_key_load(t->conf->general.secret_file, 0, key,
	    &cause), 0);
	memset(&tk, 0, sizeof tk);
	tk.purpose = TOKEN_BOUNCE;
	tk.subscriber = id;
	tk.campaign = 0;
	tok = token_make(key, &tk);
	verp = xprintf("bounces+%s@example.org", tok);

	/* A hard bounce to the VERP address: recorded, not yet suppressed. */
	raw = dsn(verp, "gone@example.net", "failed", "5.1.1", "b1");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(res.outcome, ENQUIRY_BOUNCE);
	assert_int_equal(count(t, "SELECT count(*) FROM bounces WHERE kind ="
	    " 'hard' AND subscriber_id IS NOT NULL"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 1);
	/*
	 * The same report read again (not filed before a crash): once only,
	 * or this second reading would pass the threshold of 2.
	 */
	raw = dsn(verp, "gone@example.net", "failed", "5.1.1", "b1");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(res.outcome, ENQUIRY_BOUNCE);
	assert_int_equal(count(t, "SELECT count(*) FROM bounces"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 1);
	/* A soft one does not count. */
	raw = dsn(verp, "gone@example.net", "delayed", "4.2.2", "b2");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 1);
	/* The second hard one, matched by Final-Recipient alone: suppressed. */
	raw = dsn("postmaster@example.org", "gone@example.net", "failed",
	    "5.1.1", "b3");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'bounced'"), 1);
	/* No bounce ever became an enquiry or got a reply. */
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries WHERE"
	    " sender LIKE 'MAILER-DAEMON%'"), 0);
	free(verp);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed_forwarded_acknowledged),
		cmocka_unit_test(test_seen_twice_routed_once),
		cmocka_unit_test(test_reply_same_lead_no_ack),
		cmocka_unit_test(test_one_ack_a_day),
		cmocka_unit_test(test_unreadable_to_default_with_raw),
		cmocka_unit_test(test_never_an_open_relay),
		cmocka_unit_test(test_bounces_matched_and_suppressed),
	};

	return cmocka_run_group_tests_name("enquiry", tests, setup, teardown);
}
