/*
 * test-enquiry.c - what happens to one inbound message, against a real
 * database and the shipped configuration and templates: the enquiry row,
 * the forwards and the acknowledgement queued together; a message seen
 * twice; a reply carrying a reference; the once-a-day acknowledgement
 * limit; unreadable mail; bounces matched and counted to suppression;
 * mail to a newsletter's List-Unsubscribe mailto address (valid, forged,
 * expired, misused and unknown tokens, in To, Cc or only the envelope
 * headers, read twice), which is never an enquiry; an acknowledgement
 * that quotes nothing the sender wrote, and the global hourly cap on
 * acknowledgements (enquiry.acks_per_hour).  Then what staff do after
 * (enquiry-act.c): marking one answered and back, re-routing it (the
 * history, the audit record, a new forward made as the router's) and
 * every refusal, which changes nothing.
 */
#include "testutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "conf.h"
#include "enquiry.h"
#include "message.h"
#include "mime-parse.h"
#include "newsletter.h"
#include "store.h"
#include "token.h"
#include "unsubscribe.h"
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
	assert_int_equal(count(t, "SELECT count(*) FROM outbox JOIN outbox_bodies b"
	    " ON b.id = body_id WHERE kind ="
	    " 'ack' AND instr(body, 'Auto-Submitted: auto-replied') > 0"
	    " AND instr(body, 'In-Reply-To: <join-1@nhs.example.net>') >"
	    " 0"), 1);
	/* The forward carries the original intact and Reply-To the sender. */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox JOIN outbox_bodies b"
	    " ON b.id = body_id WHERE kind ="
	    " 'forward' AND instr(body, 'Reply-To: Aaliyah Hussain"
	    " <aaliyah@nhs.example.net>') > 0 AND instr(body,"
	    " 'Content-Type: message/rfc822') > 0 AND instr(body,"
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

/*
 * The acknowledgement goes to whatever address a message claims, so it
 * must carry nothing the sender chose: not their subject, not their
 * display name, not their References chain.
 */
static void
test_ack_quotes_nothing(void **state)
{
	static const char *const never[] = {
		"Visit http://spam.example", "Cheap pills",
		"spam-chain@spam.example", "Hello Cheap",
	};
	struct env		*t = *state;
	struct enquiry_result	 res;
	char			*msg = NULL, *cause = NULL, *want;
	size_t			 i;

	assert_int_equal(receive(t, "From: \"Cheap pills\" "
	    "<quoted@nhs.example.net>\r\nTo: enquiries@example.org\r\n"
	    "Subject: Visit http://spam.example today\r\n"
	    "Message-ID: <q1@nhs.example.net>\r\n"
	    "References: <spam-chain@spam.example>\r\n\r\n"
	    "Can I join the analyst network huddles?\r\n", &res), 0);
	assert_int_equal(res.acked, 1);
	assert_int_equal(store_query_text(t->s, "SELECT CAST(b.body AS TEXT)"
	    " FROM outbox o JOIN outbox_bodies b ON b.id = o.body_id"
	    " WHERE o.kind = 'ack' AND o.rcpt_to = 'quoted@nhs.example.net'",
	    &msg, &cause), 1);
	for (i = 0; i < sizeof never / sizeof never[0]; i++) {
		if (strstr(msg, never[i]) != NULL) {
			print_error("got an acknowledgement holding \"%s\":"
			    "\n%s\n", never[i], msg);
			fail();
		}
	}
	want = xprintf("Subject: We have your enquiry [%s]\r\n",
	    res.reference);
	if (strstr(msg, want) == NULL || strstr(msg,
	    "To: quoted@nhs.example.net\r\n") == NULL ||
	    strstr(msg, "In-Reply-To: <q1@nhs.example.net>\r\n") == NULL ||
	    strstr(msg, res.reference) == NULL) {
		print_error("got\n%s\nwant \"%s\", a bare To, In-Reply-To "
		    "and the reference\n", msg, want);
		fail();
	}
	free(want);
	free(msg);
}

/* Lines postroom logged while fn ran (stderr into a file). */
static char *
logged(struct env *t, void (*fn)(struct env *))
{
	char	*path, *v;
	FILE	*f;
	long	 n;
	int	 fd, saved = -1;

	path = xprintf("%s/stderr", t->dir);
	fflush(stderr);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (saved = dup(2)) == -1 || dup2(fd, 2) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	fn(t);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	v = xcalloc(1, (size_t)n + 1);
	if (fread(v, 1, (size_t)n, f) != (size_t)n)
		fail_msg("%s: short read", path);
	fclose(f);
	free(path);
	return v;
}

static void
three_strangers(struct env *t)
{
	static const char *const who[] = { "cap1", "cap2", "cap3", "cap4" };
	struct enquiry_result	 res;
	char			*raw;
	size_t			 i;

	for (i = 0; i < sizeof who / sizeof who[0]; i++) {
		raw = xprintf("From: %s@stranger.example\r\n"
		    "To: enquiries@example.org\r\nSubject: huddles\r\n"
		    "Message-ID: <%s@stranger.example>\r\n\r\n"
		    "Can I join the analyst network huddles?\r\n", who[i],
		    who[i]);
		assert_int_equal(receive(t, raw, &res), 0);
		free(raw);
		assert_int_equal(res.outcome, ENQUIRY_ROUTED);
		if (i == 0)
			assert_int_equal(res.acked, 1);
		else if (res.acked ||
		    strcmp(res.why_no_ack, "hourly cap reached") != 0) {
			print_error("%s: got acked %d (%s), want no "
			    "acknowledgement: hourly cap reached\n", who[i],
			    res.acked, res.why_no_ack);
			fail();
		}
	}
}

/*
 * enquiry.acks_per_hour: over it, enquiries are still routed and
 * forwarded, recorded as "hourly cap reached", and one line says so.
 */
static void
test_ack_hourly_cap(void **state)
{
	struct env	*t = *state;
	struct conf	*conf = t->conf;
	long long	 acked;
	char		*log, *p;
	int		 lines = 0;

	/* Room for exactly one more in this hour. */
	acked = count(t, "SELECT count(*) FROM enquiries WHERE ack ="
	    " 'queued'");
	conf->enquiry.acks_per_hour = (int)acked + 1;
	log = logged(t, three_strangers);
	conf->enquiry.acks_per_hour = 500;
	for (p = log; (p = strstr(p, "enquiry.acks_per_hour")) != NULL; p++)
		lines++;
	if (lines != 1) {
		print_error("got %d log lines about the cap, want 1:\n%s\n",
		    lines, log);
		fail();
	}
	free(log);
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries WHERE"
	    " sender LIKE 'cap_@stranger.example' AND ack ="
	    " 'hourly cap reached'"), 3);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox o JOIN"
	    " enquiries e ON o.enquiry_id = e.id WHERE e.sender LIKE"
	    " 'cap_@stranger.example' AND o.kind = 'forward'"), 4);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox o JOIN"
	    " enquiries e ON o.enquiry_id = e.id WHERE e.sender LIKE"
	    " 'cap_@stranger.example' AND o.kind = 'ack'"), 1);
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
	    " enquiries e ON o.enquiry_id = e.id JOIN outbox_bodies b"
	    " ON b.id = o.body_id WHERE e.rule = 'unreadable'"
	    " AND o.kind = 'forward' AND instr(b.body, 'body') > 0"), 2);
}

/*
 * Every line of what was queued for enquiry ref is CRLF-ended and at most
 * 998 octets (RFC 5322 2.1.1).
 */
static void
check_wire(struct env *t, const char *ref)
{
	char		*sql, *v = NULL, *cause = NULL, *p, *nl;
	size_t		 line;

	sql = xprintf("SELECT group_concat(CAST(b.body AS TEXT), '') FROM"
	    " outbox o JOIN outbox_bodies b ON b.id = o.body_id JOIN"
	    " enquiries e ON e.id = o.enquiry_id WHERE e.reference = '%s'",
	    ref);
	assert_int_equal(store_query_text(t->s, sql, &v, &cause), 1);
	free(sql);
	for (p = v; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		line = (size_t)(nl - p);
		if (line == 0 || p[line - 1] != '\r' || line - 1 > 998) {
			print_error("%s: got a line of %zu octets%s, want CRLF "
			    "and at most 998\n", ref, line,
			    line > 0 && p[line - 1] == '\r' ? "" :
			    " ending in a bare LF");
			fail();
		}
	}
	free(v);
}

/*
 * Poison messages (issue 13, item 6): each was rolled back and retried
 * for ever, reaching no lead.  Now each is recorded and forwarded, and
 * acknowledged or recorded with why not; what was queued is valid.
 */
static void
test_poison_routed(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	struct {
		const char	*what;
		char		*raw;
		const char	*ack;	/* "queued", or in the reason */
	} cases[3];
	char			*sql, *subject;
	size_t			 i;

	/* RFC 6532 allows UTF-8 in a Message-ID: no In-Reply-To then. */
	cases[0].what = "a non-ASCII Message-ID";
	cases[0].raw = xstrdup("From: Zoe <zoe@nhs.example.net>\r\n"
	    "To: enquiries@example.org\r\nSubject: Huddles\r\n"
	    "Message-ID: <caf\xc3\xa9-\xc3\xbc@nhs.example.net>\r\n\r\n"
	    "I would like to join the analyst network huddles.\r\n");
	cases[0].ack = "queued";
	/* No Reply-To, no acknowledgement: the address cannot be written. */
	subject = xmalloc(301);
	memset(subject, 'x', 300);
	subject[300] = '\0';
	cases[1].what = "a From local part of 300 octets";
	cases[1].raw = xprintf("From: %s@nhs.example.net\r\n"
	    "To: enquiries@example.org\r\nSubject: Hello\r\n"
	    "Message-ID: <long-local@nhs.example.net>\r\n\r\nHello.\r\n",
	    subject);
	cases[1].ack = "cannot be written in a reply";
	free(subject);
	/* Cut in what postroom writes; kept whole in the record. */
	subject = xmalloc(1024 * 1024 + 1);
	for (i = 0; i < 1024 * 1024; i++)
		subject[i] = i % 6 == 5 ? ' ' : 'a' + i % 6;
	subject[1024 * 1024] = '\0';
	cases[2].what = "a 1 MB Subject";
	cases[2].raw = xprintf("From: Max <max@nhs.example.net>\r\n"
	    "To: enquiries@example.org\r\nSubject: %s\r\n"
	    "Message-ID: <big-subject@nhs.example.net>\r\n\r\nHello.\r\n",
	    subject);
	cases[2].ack = "queued";
	free(subject);

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (receive(t, cases[i].raw, &res) != 0) {
			print_error("%s: got failure, want it recorded\n",
			    cases[i].what);
			fail();
		}
		assert_int_equal(res.outcome, ENQUIRY_ROUTED);
		sql = xprintf("SELECT count(*) FROM outbox o JOIN enquiries e"
		    " ON e.id = o.enquiry_id WHERE e.reference = '%s'"
		    " AND o.kind = 'forward'", res.reference);
		if (count(t, sql) < 1) {
			print_error("%s: got no forward, want one\n",
			    cases[i].what);
			fail();
		}
		free(sql);
		if (strcmp(cases[i].ack, "queued") == 0) {
			if (!res.acked) {
				print_error("%s: got no acknowledgement (%s), "
				    "want one\n", cases[i].what,
				    res.why_no_ack);
				fail();
			}
		} else if (res.acked ||
		    strstr(res.why_no_ack, cases[i].ack) == NULL) {
			print_error("%s: got acked %d \"%s\", want no "
			    "acknowledgement \"%s\"\n", cases[i].what,
			    res.acked, res.why_no_ack, cases[i].ack);
			fail();
		}
		check_wire(t, res.reference);
		free(cases[i].raw);
	}
	/* The whole subject is in the record, a cut one in the messages. */
	assert_int_equal(count(t, "SELECT length(subject) FROM enquiries"
	    " WHERE message_id = 'big-subject@nhs.example.net'"),
	    1024 * 1024);
	assert_int_equal(count(t, "SELECT count(DISTINCT b.id) FROM outbox o"
	    " JOIN outbox_bodies b ON b.id = o.body_id JOIN enquiries e"
	    " ON e.id = o.enquiry_id WHERE o.kind = 'forward'"
	    " AND e.message_id = 'big-subject@nhs.example.net'"
	    " AND instr(b.body, 'abcde') > 0 AND instr(b.body, 'abcde') <"
	    " instr(b.body, X'0D0A0D0A') AND instr(b.body, X'0D0A0D0A') < 8192"),
	    1);
	/* Its acknowledgement quotes none of it (item 8). */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox o JOIN"
	    " outbox_bodies b ON b.id = o.body_id JOIN enquiries e"
	    " ON e.id = o.enquiry_id WHERE o.kind = 'ack'"
	    " AND e.message_id = 'big-subject@nhs.example.net'"
	    " AND length(b.body) < 8192 AND instr(b.body, 'abcde') = 0"), 1);
	/* The non-ASCII id is not written into the acknowledgement. */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox o JOIN"
	    " outbox_bodies b ON b.id = o.body_id WHERE o.kind = 'ack'"
	    " AND o.rcpt_to = 'zoe@nhs.example.net'"
	    " AND instr(b.body, 'In-Reply-To') = 0"), 1);
}

/*
 * A message that keeps failing to be recorded (here a trigger refuses
 * its forward) is counted, in the store, so across a restart; after three
 * failures it goes as received to the default lead, recorded as
 * unreadable and unacknowledged, and its count is forgotten.  The reason
 * stored names no address.
 */
static void
test_failures_counted_then_raw(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	char			*cause = NULL;
	int			 i;

	assert_int_equal(store_exec_sql(t->s, "CREATE TRIGGER refuse"
	    " BEFORE INSERT ON outbox WHEN NEW.rcpt_to ="
	    " 'analyst-network@example.org' BEGIN SELECT RAISE(ABORT,"
	    " 'refused for analyst-network@example.org'); END", &cause), 0);
	for (i = 1; i <= 3; i++) {
		assert_int_equal(receive(t, join, &res), -1);
		assert_int_equal(count(t, "SELECT count(*) FROM enquiries"), 0);
		assert_int_equal(count(t, "SELECT attempts FROM"
		    " inbound_failures WHERE key ="
		    " '<join-1@nhs.example.net>'"), i);
		if (i == 2) {
			/* A restart: the count is in the database. */
			enquiry_close(t->e);
			store_close(t->s);
			t->s = store_open(t->conf->general.database, &cause);
			assert_non_null(t->s);
			t->e = enquiry_open(t->conf, &cause);
			assert_non_null(t->e);
		}
	}
	assert_int_equal(count(t, "SELECT count(*) FROM inbound_failures"
	    " WHERE instr(last_error, 'refused for') > 0"
	    " AND instr(last_error, 'analyst-network@') = 0"), 1);

	assert_int_equal(receive(t, join, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	assert_str_eq_msg("lead", res.lead, "general");
	assert_str_eq_msg("rule", res.rule, "unreadable");
	assert_int_equal(res.acked, 0);
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries WHERE"
	    " message_id = 'join-1@nhs.example.net' AND parse_status ="
	    " 'failed' AND sender = 'aaliyah@nhs.example.net'"
	    " AND raw IS NOT NULL"), 1);
	/* Both general addresses, one body holding the original. */
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'forward' AND rcpt_to LIKE 'general-enquiries-%'"), 2);
	assert_int_equal(count(t, "SELECT count(DISTINCT body_id) FROM outbox"
	    " WHERE kind = 'forward'"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox_bodies WHERE"
	    " instr(body, 'Message-ID: <join-1@nhs.example.net>') > 0"
	    " AND instr(body, 'Reply-To') = 0"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox WHERE kind ="
	    " 'ack'"), 0);
	assert_int_equal(count(t, "SELECT count(*) FROM inbound_failures"), 0);
	/* Read again (a crash before filing): recorded once. */
	assert_int_equal(receive(t, join, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_DUPLICATE);
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

/* A delivery report quoting the headers of the message it returns. */
static char *
dsn_quoting(const char *to, const char *rcpt, const char *action,
    const char *status, const char *id, const char *quoted)
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
	    "\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
	    "From: news@example.org\r\nSubject: News\r\n"
	    "Message-ID: %s\r\n\r\n--B--\r\n", to, id, rcpt, action, status,
	    quoted);
}

static char *
dsn(const char *to, const char *rcpt, const char *action, const char *status,
    const char *id)
{
	return dsn_quoting(to, rcpt, action, status, id,
	    "<unrelated@example.net>");
}

static void
test_bounces_matched_and_suppressed(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	struct newsletter_links	 links;
	struct token		 tk;
	unsigned char		 key[TOKEN_KEY_LEN];
	char			*cause = NULL, *tok, *tok2, *raw, *verp, *other;
	char			*msgid;
	int64_t			 id, id2;

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
	tk.issued = time(NULL);
	assert_int_equal(store_token_salt(t->s, id, tk.salt, &cause), 1);
	tok = token_make(key, &tk);
	verp = xprintf("bounces+%s@example.org", tok);
	/* Someone else on the list, and a token made for them. */
	assert_int_equal(store_subscriber_add(t->s, "other@example.net",
	    "Other", NULL, &id2, &cause), 1);
	assert_int_equal(store_member_add(t->s, id2, "news",
	    STORE_MEMBER_CONFIRMED, NULL, "staff", "test", &cause), 1);
	tk.subscriber = id2;
	assert_int_equal(store_token_salt(t->s, id2, tk.salt, &cause), 1);
	tok2 = token_make(key, &tk);

	/* A hard bounce to the VERP address: recorded, not yet suppressed. */
	raw = dsn(verp, "gone@example.net", "failed", "5.1.1", "b1");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(res.outcome, ENQUIRY_BOUNCE);
	assert_int_equal(count(t, "SELECT count(*) FROM bounces WHERE kind ="
	    " 'hard' AND subscriber_id IS NOT NULL"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 2);
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
	    " status = 'confirmed'"), 2);
	/* A soft one does not count. */
	raw = dsn(verp, "gone@example.net", "delayed", "4.2.2", "b2");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 2);
	/*
	 * Anyone can write a report naming a subscriber in Final-Recipient:
	 * alone, or quoting a Message-ID that is not postroom's, or one of
	 * postroom's made for somebody else, it is recorded and not held
	 * against anyone (three of these once emptied the lists).
	 */
	raw = dsn("postmaster@example.org", "gone@example.net", "failed",
	    "5.1.1", "f1");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(res.outcome, ENQUIRY_BOUNCE);
	other = xprintf("<0123.%s@example.org>", tok2);
	raw = dsn_quoting("postmaster@example.org", "gone@example.net",
	    "failed", "5.1.1", "f2", other);
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	free(other);
	raw = dsn_quoting("postmaster@example.org", "gone@example.net",
	    "failed", "5.1.1", "f3", "<0123.forged-token@example.org>");
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	assert_int_equal(count(t, "SELECT count(*) FROM bounces WHERE"
	    " subscriber_id IS NULL AND kind = 'hard'"), 3);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 2);

	/*
	 * The second hard one, to another address but quoting the
	 * Message-ID postroom gave the message it sent to gone@ (its
	 * Final-Recipient in another case): suppressed.
	 */
	memset(&links, 0, sizeof links);
	links.mail_from = verp;
	msgid = newsletter_message_id(&links, "example.org");
	assert_non_null(strstr(msgid, tok));
	raw = dsn_quoting("postmaster@example.org", "Gone@Example.NET",
	    "failed", "5.1.1", "b3", msgid);
	assert_int_equal(receive(t, raw, &res), 0);
	free(raw);
	free(msgid);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'bounced'"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " status = 'confirmed'"), 1);
	/* No bounce ever became an enquiry or got a reply. */
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries WHERE"
	    " sender LIKE 'MAILER-DAEMON%'"), 0);
	free(verp);
	free(tok);
	free(tok2);
}

/* --- unsubscribe requests by mail -------------------------------------- */

/* The first column of the first row as a new string ("" for none). */
static char *
text(struct env *t, const char *sql)
{
	char	*v = NULL, *cause = NULL;
	int	 rc;

	rc = store_query_text(t->s, sql, &v, &cause);
	assert_int_not_equal(rc, -1);
	return v != NULL ? v : xstrdup("");
}

/* A subscriber (made when new) confirmed on list: the id. */
static int64_t
member(struct env *t, const char *email, const char *list)
{
	char	*cause = NULL;
	int64_t	 id;

	assert_int_not_equal(store_subscriber_add(t->s, email, NULL, NULL,
	    &id, &cause), -1);
	assert_int_not_equal(store_member_add(t->s, id, list,
	    STORE_MEMBER_CONFIRMED, NULL, "staff", "test", &cause), -1);
	return id;
}

static const char *
status_of(struct env *t, int64_t id, const char *list)
{
	static char	 buf[32];
	char		*sql, *v;

	sql = xprintf("SELECT status FROM memberships WHERE subscriber_id ="
	    " %lld AND list = '%s'", (long long)id, list);
	v = text(t, sql);
	snprintf(buf, sizeof buf, "%s", v);
	free(v);
	free(sql);
	return buf;
}

static int64_t
campaign_on(struct env *t, const char *list)
{
	struct store_campaign	 c;
	char			*cause = NULL;
	int64_t			 id;

	memset(&c, 0, sizeof c);
	c.list = (char *)list;
	c.subject = (char *)"News";
	c.body = (char *)"Hello.";
	assert_int_equal(store_campaign_add(t->s, &c, 0, &id, &cause), 0);
	return id;
}

/* The subscriber's salt, or zeros for one who is not there. */
static void
salt_of(struct env *t, int64_t subscriber, unsigned char salt[TOKEN_SALT_LEN])
{
	char	*cause = NULL;

	memset(salt, 0, TOKEN_SALT_LEN);
	assert_int_not_equal(store_token_salt(t->s, subscriber, salt,
	    &cause), -1);
}

/*
 * The mailto address a newsletter of campaign, sent at now, carries for
 * subscriber.
 */
static char *
mailto_at(struct env *t, int64_t subscriber, int64_t campaign, time_t now)
{
	struct newsletter_links	 l;
	struct token_signer	*signer;
	unsigned char		 key[TOKEN_KEY_LEN], salt[TOKEN_SALT_LEN];
	char			*cause = NULL, *addr;

	assert_int_equal(token_key_load(t->conf->general.secret_file, 0, key,
	    &cause), 0);
	salt_of(t, subscriber, salt);
	signer = token_signer_new(key);
	assert_int_equal(newsletter_links_make(signer, "https://x.example",
	    t->conf->general.domain, "news", subscriber, salt, campaign,
	    campaign, now, &l, &cause), 0);
	addr = xstrdup(l.unsubscribe_mailto);
	newsletter_links_free(&l);
	token_signer_free(signer);
	return addr;
}

static char *
mailto(struct env *t, int64_t subscriber, int64_t campaign)
{
	return mailto_at(t, subscriber, campaign, time(NULL));
}

/* unsubscribe+TOKEN@example.org for a token made as given. */
static char *
mailto_token(struct env *t, const unsigned char *key,
    enum token_purpose purpose, int64_t subscriber, int64_t campaign,
    time_t expires)
{
	struct token	 tk;
	unsigned char	 own[TOKEN_KEY_LEN];
	char		*cause = NULL, *tok, *addr;

	if (key == NULL) {
		assert_int_equal(token_key_load(t->conf->general.secret_file,
		    0, own, &cause), 0);
		key = own;
	}
	memset(&tk, 0, sizeof tk);
	tk.purpose = purpose;
	tk.subscriber = subscriber;
	salt_of(t, subscriber, tk.salt);
	tk.campaign = campaign;
	tk.issued = expires != 0 ? expires - 3600 : time(NULL);
	tk.expires = expires;
	tok = token_make(key, &tk);
	addr = xprintf("unsubscribe+%s@example.org", tok);
	free(tok);
	return addr;
}

/* A person's short note to addr (in header hdr: "To" or "Cc"). */
static char *
request(const char *hdr, const char *addr, const char *id)
{
	return xprintf("From: Lee Vernon <lee@nhs.example.net>\r\n"
	    "%s%s: %s\r\nSubject: unsubscribe\r\n"
	    "Message-ID: <%s@nhs.example.net>\r\n"
	    "Date: Mon, 16 Nov 2026 09:00:00 +0000\r\n\r\n"
	    "Please take me off this list.\r\n",
	    strcmp(hdr, "To") != 0 ? "To: enquiries@example.org\r\n" : "",
	    hdr, addr, id);
}

/*
 * Hand raw over and check: an unsubscribe request with outcome want, no
 * enquiry, nothing queued (no acknowledgement, no forward), one more
 * mail_unsubscribes row (none when want is "seen").
 */
static void
unsub_check(struct env *t, const char *raw, const char *want)
{
	struct enquiry_result	 res;
	long long		 enq, out, rows;

	enq = count(t, "SELECT count(*) FROM enquiries");
	out = count(t, "SELECT count(*) FROM outbox");
	rows = count(t, "SELECT count(*) FROM mail_unsubscribes");
	assert_int_equal(receive(t, raw, &res), 0);
	if (res.outcome != ENQUIRY_UNSUBSCRIBE) {
		print_error("got outcome %d (lead \"%s\"), want an unsubscribe "
		    "request\n", (int)res.outcome, res.lead);
		fail();
	}
	assert_str_eq_msg("unsubscribe outcome", res.unsubscribe, want);
	assert_str_eq_msg("no reference", res.reference, "");
	assert_int_equal(count(t, "SELECT count(*) FROM enquiries"), enq);
	assert_int_equal(count(t, "SELECT count(*) FROM outbox"), out);
	assert_int_equal(count(t, "SELECT count(*) FROM mail_unsubscribes"),
	    rows + (strcmp(want, "seen") != 0));
}

static void
test_unsubscribe_by_mail(void **state)
{
	struct env	*t = *state;
	int64_t		 id, camp;
	char		*addr, *raw, *v, *want;

	id = member(t, "lee@nhs.example.net", "news");
	(void)member(t, "lee@nhs.example.net", "training");
	camp = campaign_on(t, "news");
	addr = mailto(t, id, camp);
	raw = request("To", addr, "u1");
	unsub_check(t, raw, "done");
	assert_str_eq_msg("news", status_of(t, id, "news"), "unsubscribed");
	assert_str_eq_msg("training (another list)",
	    status_of(t, id, "training"), "confirmed");
	/* Recorded, keyed by Message-ID, with the ids; no address. */
	v = text(t, "SELECT message_key || ' ' || outcome || ' ' ||"
	    " subscriber_id || ' ' || list || ' ' || campaign_id || ' ' ||"
	    " source FROM mail_unsubscribes ORDER BY id DESC LIMIT 1");
	want = xprintf("<u1@nhs.example.net> done %lld news %lld test",
	    (long long)id, (long long)camp);
	assert_str_eq_msg("mail_unsubscribes row", v, want);
	free(want);
	free(v);
	/* The audit log as the web's unsubscribe writes it, method mail. */
	v = text(t, "SELECT detail FROM events WHERE kind ="
	    " 'member.unsubscribed' ORDER BY id DESC LIMIT 1");
	assert_str_eq_msg("member event", v,
	    "list news method mail source test");
	free(v);
	assert_int_equal(count(t, "SELECT count(*) FROM events WHERE kind ="
	    " 'unsubscribe.mail' AND detail LIKE 'done:%'"), 1);
	assert_int_equal(count(t, "SELECT count(*) FROM memberships WHERE"
	    " unsubscribed_at > 0 AND list = 'news'"), 1);

	/*
	 * The same message read again (not filed before a crash), after
	 * they joined again meanwhile: nothing done or recorded twice.
	 */
	assert_int_equal(store_member_set_status(t->s, id, "news",
	    STORE_MEMBER_CONFIRMED, "staff", "test", NULL), 1);
	unsub_check(t, raw, "seen");
	assert_str_eq_msg("news after the re-read", status_of(t, id, "news"),
	    "confirmed");
	free(raw);

	/*
	 * Without a Message-ID it is known again by its content.  (A link
	 * from a newsletter since they joined again: the one from before
	 * does nothing now, test_unsubscribe_after_rejoin.)
	 */
	free(addr);
	addr = mailto(t, id, camp);
	raw = xprintf("From: lee@nhs.example.net\r\nTo: %s\r\n\r\nstop\r\n",
	    addr);
	unsub_check(t, raw, "done");
	unsub_check(t, raw, "seen");
	free(raw);

	/* Mailing it again once they have left: recorded, nothing to do. */
	raw = request("To", addr, "u2");
	unsub_check(t, raw, "already");
	assert_str_eq_msg("news", status_of(t, id, "news"), "unsubscribed");
	free(raw);
	free(addr);
}

/*
 * A link from a newsletter sent before they last joined the list does
 * nothing (issue 13, item 14): it belongs to the earlier subscription.
 */
static void
test_unsubscribe_after_rejoin(void **state)
{
	struct env	*t = *state;
	int64_t		 id, camp;
	char		*old, *fresh, *raw, *v;

	camp = campaign_on(t, "news");
	/* Joined now (the store's clock); a newsletter of a minute ago. */
	id = member(t, "back@nhs.example.net", "news");
	old = mailto_at(t, id, camp, time(NULL) - 60);
	raw = request("To", old, "rj1");
	unsub_check(t, raw, "expired");
	free(raw);
	assert_str_eq_msg("still subscribed", status_of(t, id, "news"),
	    "confirmed");
	v = text(t, "SELECT detail FROM mail_unsubscribes WHERE message_key ="
	    " '<rj1@nhs.example.net>'");
	assert_str_eq_msg("detail", v, "the token was made before they last "
	    "subscribed to the list");
	free(v);

	/* One from a newsletter sent since: it works. */
	fresh = mailto(t, id, camp);
	raw = request("To", fresh, "rj2");
	unsub_check(t, raw, "done");
	free(raw);
	assert_str_eq_msg("left", status_of(t, id, "news"), "unsubscribed");
	free(old);
	free(fresh);
}

/* Only the address in Cc, or only in what the MTA wrote: the same. */
static void
test_unsubscribe_cc_and_envelope(void **state)
{
	struct env	*t = *state;
	int64_t		 a, b, camp;
	char		*addr, *raw;

	camp = campaign_on(t, "news");
	a = member(t, "cc@nhs.example.net", "news");
	addr = mailto(t, a, camp);
	raw = request("Cc", addr, "cc1");
	unsub_check(t, raw, "done");
	assert_str_eq_msg("cc", status_of(t, a, "news"), "unsubscribed");
	free(raw);
	free(addr);

	b = member(t, "env@nhs.example.net", "news");
	addr = mailto(t, b, camp);
	raw = xprintf("Delivered-To: <%s>\r\nFrom: env@nhs.example.net\r\n"
	    "To: undisclosed-recipients:;\r\nSubject: unsubscribe\r\n"
	    "Message-ID: <env1@nhs.example.net>\r\n\r\nstop\r\n", addr);
	unsub_check(t, raw, "done");
	assert_str_eq_msg("envelope", status_of(t, b, "news"),
	    "unsubscribed");
	free(raw);
	free(addr);
}

/* Forged, expired, misused and unknown tokens: recorded, nothing done. */
static void
test_unsubscribe_bad_tokens(void **state)
{
	struct env		*t = *state;
	static const unsigned char other[TOKEN_KEY_LEN] = { 1, 2, 3 };
	int64_t			 id, camp;
	char			*addr, *raw, *v;
	size_t			 at;

	camp = campaign_on(t, "news");
	id = member(t, "keep@nhs.example.net", "news");

	/* Signed with another key. */
	addr = mailto_token(t, other, TOKEN_UNSUBSCRIBE, id, camp, 0);
	raw = request("To", addr, "bad1");
	unsub_check(t, raw, "forged");
	free(raw);
	free(addr);
	/* Ours, one character changed. */
	addr = mailto(t, id, camp);
	at = (size_t)(strchr(addr, '@') - addr);
	addr[at - 3] = addr[at - 3] == 'A' ? 'B' : 'A';
	raw = request("To", addr, "bad2");
	unsub_check(t, raw, "forged");
	free(raw);
	free(addr);
	/* Not a token at all. */
	raw = request("To", "unsubscribe+please@example.org", "bad3");
	unsub_check(t, raw, "forged");
	free(raw);
	/* A forged one records no ids, which nobody vouched for. */
	assert_int_equal(count(t, "SELECT count(*) FROM mail_unsubscribes"
	    " WHERE outcome = 'forged' AND (subscriber_id IS NOT NULL OR"
	    " list IS NOT NULL OR campaign_id IS NOT NULL)"), 0);

	/* Ours, expired a minute ago. */
	addr = mailto_token(t, NULL, TOKEN_UNSUBSCRIBE, id, camp,
	    time(NULL) - 60);
	raw = request("To", addr, "bad4");
	unsub_check(t, raw, "expired");
	free(raw);
	free(addr);
	v = text(t, "SELECT detail FROM mail_unsubscribes WHERE message_key ="
	    " '<bad4@nhs.example.net>'");
	if (strstr(v, "expired on ") == NULL) {
		print_error("got detail \"%s\", want \"expired on ...\"\n", v);
		fail();
	}
	free(v);

	/* Ours, made for another purpose: a confirmation, a bounce. */
	addr = mailto_token(t, NULL, TOKEN_CONFIRM, id, camp, 0);
	raw = request("To", addr, "bad5");
	unsub_check(t, raw, "misused");
	free(raw);
	free(addr);
	addr = mailto_token(t, NULL, TOKEN_BOUNCE, id, camp, 0);
	raw = request("To", addr, "bad6");
	unsub_check(t, raw, "misused");
	free(raw);
	free(addr);
	assert_str_eq_msg("still subscribed", status_of(t, id, "news"),
	    "confirmed");

	/* Ours, for nobody we hold, or for a campaign we do not know. */
	addr = mailto(t, 999999, camp);
	raw = request("To", addr, "bad7");
	unsub_check(t, raw, "unknown");
	free(raw);
	free(addr);
	addr = mailto(t, id, 999999);
	raw = request("To", addr, "bad8");
	unsub_check(t, raw, "unknown");
	free(raw);
	free(addr);
	assert_str_eq_msg("still subscribed", status_of(t, id, "news"),
	    "confirmed");
	/* Nothing was moved by any of them. */
	assert_int_equal(count(t, "SELECT count(*) FROM events WHERE kind ="
	    " 'member.unsubscribed' AND subject = 'keep@nhs.example.net'"), 0);

	/* A forged address beside a good one: the good one counts. */
	addr = mailto(t, id, camp);
	raw = xprintf("From: keep@nhs.example.net\r\nTo: "
	    "unsubscribe+forged@example.org, %s\r\nSubject: unsubscribe\r\n"
	    "Message-ID: <bad9@nhs.example.net>\r\n\r\nstop\r\n", addr);
	unsub_check(t, raw, "done");
	assert_str_eq_msg("left", status_of(t, id, "news"), "unsubscribed");
	free(raw);
	free(addr);
}

/* Only postroom's own address counts; anything else is an enquiry. */
static void
test_unsubscribe_not_ours(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	int64_t			 id, camp;
	char			*addr, *raw, *tok;

	camp = campaign_on(t, "news");
	id = member(t, "other@nhs.example.net", "news");
	addr = mailto(t, id, camp);
	tok = xstrndup(addr + strlen(UNSUBSCRIBE_PREFIX),
	    (size_t)(strchr(addr, '@') - addr) - strlen(UNSUBSCRIBE_PREFIX));

	/* A good token on another domain; a look-alike local part. */
	raw = xprintf("From: other@nhs.example.net\r\n"
	    "To: unsubscribe+%s@example.com\r\nSubject: training courses\r\n"
	    "Message-ID: <no1@nhs.example.net>\r\n\r\nWhich courses are "
	    "running in spring?\r\n", tok);
	assert_int_equal(receive(t, raw, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	free(raw);
	raw = xprintf("From: other@nhs.example.net\r\n"
	    "To: newsletter-unsubscribe+%s@example.org\r\n"
	    "Subject: evaluation guide\r\nMessage-ID: <no2@nhs.example.net>"
	    "\r\n\r\nWhere is the evaluation guide?\r\n", tok);
	assert_int_equal(receive(t, raw, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	free(raw);

	/* A newsletter forwarded to enquiries with a question about it. */
	raw = xprintf("From: other@nhs.example.net\r\n"
	    "To: enquiries@example.org\r\nSubject: Fwd: News\r\n"
	    "Message-ID: <no3@nhs.example.net>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: text/plain\r\n\r\nCan I join the analyst network "
	    "huddles?\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
	    "From: news@example.org\r\nTo: other@nhs.example.net\r\n"
	    "Subject: News\r\nList-Unsubscribe: <mailto:%s>\r\n\r\nNews."
	    "\r\n--b--\r\n", addr);
	assert_int_equal(receive(t, raw, &res), 0);
	assert_int_equal(res.outcome, ENQUIRY_ROUTED);
	free(raw);
	assert_str_eq_msg("still subscribed", status_of(t, id, "news"),
	    "confirmed");
	assert_int_equal(count(t, "SELECT count(*) FROM mail_unsubscribes"
	    " WHERE message_key LIKE '<no_@%'"), 0);
	free(tok);
	free(addr);
}

/* --- what staff do afterwards (enquiry-act.c) ---------------------------- */

/* The reference of the enquiry recorded for Message-ID mid. */
static char *
reference_of(struct env *t, const char *mid)
{
	char	*sql, *v = NULL, *cause = NULL;

	sql = xprintf("SELECT reference FROM enquiries WHERE message_id ="
	    " '%s'", mid);
	assert_int_equal(store_query_text(t->s, sql, &v, &cause), 1);
	free(sql);
	return v;
}

static void
test_answered(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	char			*ref, *cause = NULL, *v;

	assert_int_equal(receive(t, join, &res), 0);
	ref = reference_of(t, "join-1@nhs.example.net");
	check_int("answered", enquiry_answered(t->s, ref, 1, "cli:tester",
	    1000, &cause), 1);
	v = text(t, "SELECT answered_at || ' ' || answered_by FROM"
	    " enquiries");
	assert_str_eq_msg("when and by whom", v, "1000 cli:tester");
	free(v);
	check_int("its audit record", count(t, "SELECT count(*) FROM events"
	    " WHERE kind = 'enquiry.answered' AND actor = 'cli:tester'"), 1);
	/* Again: nothing changes, the first mark stays, no second record. */
	check_int("answered again", enquiry_answered(t->s, ref, 1,
	    "user:7", 2000, &cause), 1);
	v = text(t, "SELECT answered_at || ' ' || answered_by FROM"
	    " enquiries");
	assert_str_eq_msg("the first mark stays", v, "1000 cli:tester");
	free(v);
	check_int("no second record", count(t, "SELECT count(*) FROM events"
	    " WHERE kind = 'enquiry.answered'"), 1);
	/* In any case, as references are found. */
	for (v = ref; *v != '\0'; v++)
		*v = (char)tolower((unsigned char)*v);
	check_int("not answered after all", enquiry_answered(t->s, ref, 0,
	    "user:7", 3000, &cause), 1);
	check_int("waiting again", count(t, "SELECT count(*) FROM enquiries"
	    " WHERE answered_at IS NULL AND answered_by IS NULL"), 1);
	check_int("its audit record", count(t, "SELECT count(*) FROM events"
	    " WHERE kind = 'enquiry.unanswered' AND actor = 'user:7'"), 1);
	free(ref);

	check_int("an unknown reference", enquiry_answered(t->s,
	    "ENQ-1999-00001", 1, "cli:tester", 1000, &cause), 0);
	assert_str_eq_msg("... in plain words", cause,
	    "There is no enquiry ENQ-1999-00001.");
	free(cause);
}

static void
test_reroute(void **state)
{
	struct env		*t = *state;
	struct enquiry_result	 res;
	struct store_erasure	 x;
	char			*ref, *cause = NULL, *v, *sql;
	long long		 rows;

	assert_int_equal(receive(t, join, &res), 0);
	assert_str_eq_msg("first lead", res.lead, "analyst_network");
	ref = reference_of(t, "join-1@nhs.example.net");
	rows = count(t, "SELECT count(*) FROM outbox");

	check_int("re-routed", enquiry_reroute(t->conf, t->s, ref, "training",
	    "  Wrong team:\r\nthey ask about a course\x01 \n", "cli:tester",
	    5000, &cause), 1);
	if (cause != NULL)
		fail_msg("cause: %s", cause);
	v = text(t, "SELECT lead || ' ' || routed_at || ' ' || rule FROM"
	    " enquiries");
	assert_str_eq_msg("its lead and time now, the router's rule kept", v,
	    "training 5000 analyst-network");
	free(v);
	v = text(t, "SELECT from_lead || '>' || to_lead || ' ' || actor ||"
	    " ' ' || at || ' [' || note || ']' FROM enquiry_routes");
	assert_str_eq_msg("the history, the note's line breaks kept, its"
	    " control characters spaces", v, "analyst_network>training"
	    " cli:tester 5000 [Wrong team:\nthey ask about a course]");
	free(v);
	v = text(t, "SELECT detail FROM events WHERE kind = 'enquiry.reroute'"
	    " AND actor = 'cli:tester'");
	assert_str_eq_msg("the audit: that there was a note, not what it says",
	    v, "analyst_network -> training, with a note");
	free(v);

	/* One new forward, to the new lead, made as the router makes it. */
	check_int("one more outbox row", count(t, "SELECT count(*) FROM"
	    " outbox") - rows, 1);
	sql = xprintf("SELECT count(*) FROM outbox o JOIN outbox_bodies b"
	    " ON b.id = o.body_id JOIN enquiries e ON e.id = o.enquiry_id"
	    " WHERE o.kind = 'forward' AND o.rcpt_to ="
	    " 'training@example.org' AND o.dedup_key ="
	    " 'forward:%s:route:1:training@example.org'"
	    " AND instr(b.body, 'Subject: [%s] Joining the Analyst Network"
	    " huddles') > 0"
	    " AND instr(b.body, 'Reply-To: Aaliyah Hussain"
	    " <aaliyah@nhs.example.net>') > 0"
	    " AND instr(b.body, 'X-Postroom-Lead: training') > 0"
	    " AND instr(b.body, 'Content-Type: message/rfc822') > 0"
	    " AND instr(b.body, 'Message-ID: <join-1@nhs.example.net>') > 0"
	    " AND instr(b.body, 'Why it came to you: tester (command line)"
	    " re-routed it to you from Midlands Analyst Network.') > 0"
	    " AND instr(b.body, 'Their note: Wrong team:') > 0"
	    " AND instr(b.body, 'acknowledgement naming Midlands Analyst"
	    " Network.') > 0", ref, ref);
	check_int("the forward to the training lead", count(t, sql), 1);
	free(sql);

	/* And back: a second forward, the acknowledgement still the first
	 * lead's. */
	check_int("back again", enquiry_reroute(t->conf, t->s, ref,
	    "analyst_network", NULL, "user:3", 6000, &cause), 1);
	check_int("two routes", count(t, "SELECT count(*) FROM"
	    " enquiry_routes"), 2);
	sql = xprintf("SELECT count(*) FROM outbox o JOIN outbox_bodies b"
	    " ON b.id = o.body_id WHERE o.dedup_key ="
	    " 'forward:%s:route:2:analyst-network@example.org'"
	    " AND instr(b.body, 'acknowledgement naming Midlands Analyst"
	    " Network.') > 0 AND instr(b.body, 'Their note') = 0", ref);
	check_int("a second forward, without a note", count(t, sql), 1);
	free(sql);
	free(ref);

	/* Erasing the enquirer empties the notes staff wrote about them. */
	memset(&x, 0, sizeof x);
	assert_int_equal(store_subscriber_erase(t->s,
	    "aaliyah@nhs.example.net", 0, &x, &cause), 0);
	store_erasure_clear(&x);
	check_int("no note left", count(t, "SELECT count(*) FROM"
	    " enquiry_routes WHERE note IS NOT NULL"), 0);
	check_int("... the routes themselves kept", count(t, "SELECT count(*)"
	    " FROM enquiry_routes"), 2);
}

static void
test_reroute_refused(void **state)
{
	static const struct {
		const char	*reference;	/* NULL: the enquiry's */
		const char	*lead;
		const char	*note;
		const char	*want;
	} cases[] = {
		{ NULL, "analyst_network", NULL, "is already with Midlands"
		    " Analyst Network." },
		{ NULL, "nobody", NULL, "There is no lead \"nobody\" in the"
		    " configuration." },
		{ "ENQ-1999-00001", "training", NULL, "There is no enquiry"
		    " ENQ-1999-00001." },
		{ NULL, "training", "\xff\xfe", "The note is not text"
		    " (UTF-8)." },
		{ NULL, "training", NULL, "is no longer kept" },	/* erased */
	};
	struct env		*t = *state;
	struct enquiry_result	 res;
	char			*ref, *cause, big[ENQUIRY_NOTE_MAX + 2];
	size_t			 i;

	assert_int_equal(receive(t, join, &res), 0);
	ref = reference_of(t, "join-1@nhs.example.net");
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (i == sizeof cases / sizeof cases[0] - 1)
			assert_int_equal(store_exec_sql(t->s, "UPDATE enquiries"
			    " SET raw = NULL", NULL), 0);
		cause = NULL;
		check_int(cases[i].want, enquiry_reroute(t->conf, t->s,
		    cases[i].reference != NULL ? cases[i].reference : ref,
		    cases[i].lead, cases[i].note, "cli:tester", 5000,
		    &cause), 0);
		if (cause == NULL || strstr(cause, cases[i].want) == NULL)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    cause != NULL ? cause : "(null)", cases[i].want);
		free(cause);
	}
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	cause = NULL;
	check_int("a note too long", enquiry_reroute(t->conf, t->s, ref,
	    "training", big, "cli:tester", 5000, &cause), 0);
	free(cause);
	check_int("nothing changed: no route", count(t, "SELECT count(*) FROM"
	    " enquiry_routes"), 0);
	check_int("... the same lead", count(t, "SELECT count(*) FROM"
	    " enquiries WHERE lead = 'analyst_network'"), 1);
	check_int("... one forward", count(t, "SELECT count(*) FROM outbox"
	    " WHERE kind = 'forward'"), 1);
	check_int("... nothing audited", count(t, "SELECT count(*) FROM"
	    " events WHERE kind = 'enquiry.reroute'"), 0);
	free(ref);
}

static void
test_note_refused(void **state)
{
	static const struct {
		const char	*note;
		int		 ok;
	} cases[] = {
		{ NULL, 1 },
		{ "", 1 },
		{ "Wrong team.\nThey ask about a course.", 1 },
		{ "caf\xc3\xa9", 1 },
		{ "caf\xe9", 0 },		/* Latin-1, not UTF-8 */
		{ "\xed\xa0\x80", 0 },		/* a surrogate */
	};
	char	*s;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((enquiry_note_refused(cases[i].note) == NULL) !=
		    cases[i].ok)
			fail_msg("case %zu: got %s, want %s", i,
			    cases[i].ok ? "refused" : "accepted",
			    cases[i].ok ? "accepted" : "refused");
	}
	/* Characters, not bytes: 1,000 two-byte ones, then one more. */
	s = xcalloc(2 * ENQUIRY_NOTE_MAX + 3, 1);
	for (i = 0; i < ENQUIRY_NOTE_MAX; i++)
		memcpy(s + 2 * i, "\xc3\xa9", 2);
	assert_null(enquiry_note_refused(s));
	memcpy(s + 2 * i, "\xc3\xa9", 2);
	assert_non_null(enquiry_note_refused(s));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routed_forwarded_acknowledged),
		cmocka_unit_test(test_seen_twice_routed_once),
		cmocka_unit_test(test_reply_same_lead_no_ack),
		cmocka_unit_test(test_one_ack_a_day),
		cmocka_unit_test(test_ack_quotes_nothing),
		cmocka_unit_test(test_ack_hourly_cap),
		cmocka_unit_test(test_unreadable_to_default_with_raw),
		cmocka_unit_test(test_never_an_open_relay),
		cmocka_unit_test(test_poison_routed),
		cmocka_unit_test_setup_teardown(test_failures_counted_then_raw,
		    setup, teardown),
		cmocka_unit_test(test_bounces_matched_and_suppressed),
		cmocka_unit_test(test_unsubscribe_by_mail),
		cmocka_unit_test(test_unsubscribe_after_rejoin),
		cmocka_unit_test(test_unsubscribe_cc_and_envelope),
		cmocka_unit_test(test_unsubscribe_bad_tokens),
		cmocka_unit_test(test_unsubscribe_not_ours),
		cmocka_unit_test_setup_teardown(test_answered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reroute, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reroute_refused, setup,
		    teardown),
		cmocka_unit_test(test_note_refused),
	};

	return cmocka_run_group_tests_name("enquiry", tests, setup, teardown);
}
