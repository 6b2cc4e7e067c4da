/*
 * test-digest.c - list digests and lead digests (digest.c, store-digest.c)
 * on a real database, with a simulated calendar.
 *
 * Campaign sending is not written yet, so send_campaign() below does what
 * digest.h's contract asks of it: outbox rows for confirmed immediate-mode
 * members who did not have the campaign in a digest, started_at set.
 * Everything else is the real thing: digest_run() at chosen "now"s,
 * weeks, missed weeks, the changes of clock, runs repeated, a run cut
 * short, members switching mode, and the exactly-once invariant checked
 * over every (subscriber, campaign) pair after each scenario.
 *
 * Golden files (tests/golden/digest/): weekly.txt and weekly.html are the
 * decoded parts of one member's digest, lead-general.txt and
 * lead-west.txt two leads' summaries, all at fixed times.
 * POSTROOM_UPDATE_GOLDEN=1 rewrites them (review the diff by eye).  Each
 * queued message is checked by tests/tools/check-email.py.
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "digest.h"
#include "log.h"
#include "message.h"
#include "mime-parse.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "token.h"
#include "value.h"
#include "xmalloc.h"

#define PYTHON		"/usr/bin/python3"

static char		 tmpdir[] = "/tmp/test-digest.XXXXXX";
static unsigned char	 key[TOKEN_KEY_LEN];
static struct conf	*conf;
static struct store	*s;
static int		 ndb;

/* --- fixtures --------------------------------------------------------------- */

static struct conf *
load_conf(const char *extra)
{
	struct conf	*c;
	char		*path, *ov[3];
	size_t		 i, n = 2;

	path = xprintf("%s/tests/golden/digest/digest.conf", test_top());
	ov[0] = xprintf("general.templates=%s/templates", test_top());
	ov[1] = xprintf("general.database=%s/unused.db", tmpdir);
	if (extra != NULL)
		ov[n++] = xstrdup(extra);
	c = test_conf_load(path, ov, n);
	for (i = 0; i < n; i++)
		free(ov[i]);
	free(path);
	return c;
}

static int
group_setup(void **state)
{
	char	*cause = NULL;
	size_t	 i;

	(void)state;
	if (period_zone("Europe/London", &cause) == -1) {
		fprintf(stderr, "# %s\n", cause);
		free(cause);
		return -1;
	}
	log_set_level(LOGL_WARN);
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 11 + 3);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	if ((conf = load_conf(NULL)) == NULL)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	conf_free(conf);
	test_remove_dir(tmpdir);
	return 0;
}

/* A fresh database for each test. */
static int
setup(void **state)
{
	(void)state;
	s = test_store_new(tmpdir, &ndb);
	return s != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	store_close(s);
	s = NULL;
	return 0;
}

static time_t
at(const char *local)
{
	time_t	 t;
	char	*cause = NULL;

	if (period_parse(local, &t, &cause) == -1)
		fail_msg("%s: %s", local, cause);
	return t;
}

static void
exec_ok(const char *sql)
{
	char	*cause = NULL;

	if (store_exec_sql(s, sql, &cause) == -1)
		fail_msg("%s: %s", sql, cause);
}

static long long
query_int(const char *sql)
{
	char		*v = NULL, *cause = NULL;
	long long	 n;

	if (store_query_text(s, sql, &v, &cause) == -1)
		fail_msg("%s: %s", sql, cause);
	n = v != NULL ? strtoll(v, NULL, 10) : 0;
	free(v);
	return n;
}

static void
check_ll(const char *what, long long got, long long want)
{
	if (got != want) {
		print_error("%s: got %lld, want %lld\n", what, got, want);
		fail();
	}
}

/* A confirmed member (confirmed at the local time given). */
static int64_t
member(const char *email, const char *name, const char *list,
    const char *mode, const char *confirmed)
{
	struct store_subscriber	 sub;
	char			*cause = NULL, *sql;
	int64_t			 id;
	int			 rc;

	memset(&sub, 0, sizeof sub);
	if ((rc = store_subscriber_get(s, email, &sub, &cause)) == 1) {
		id = sub.id;
		store_subscriber_clear(&sub);
	} else if (rc == -1 || store_subscriber_add(s, email, name,
	    "{\"organisation\": \"Sandwell and West Birmingham\"}", &id,
	    &cause) == -1)
		fail_msg("subscriber %s: %s", email, cause);
	if (store_member_add(s, id, list, STORE_MEMBER_CONFIRMED, mode,
	    "staff", "cli:test", &cause) != 1)
		fail_msg("member %s of %s: %s", email, list, cause);
	sql = xprintf("UPDATE memberships SET confirmed_at = %lld"
	    " WHERE subscriber_id = %lld AND list = '%s'",
	    (long long)at(confirmed), (long long)id, list);
	exec_ok(sql);
	free(sql);
	return id;
}

static void
set_mode(int64_t id, const char *list, const char *mode)
{
	char	*cause = NULL;

	if (store_member_set_mode(s, id, list, mode, &cause) == -1)
		fail_msg("set mode: %s", cause);
}

/*
 * What "campaign send" will do (digest.h's contract): the campaign
 * started at the local time given, an outbox row for each confirmed
 * immediate-mode member that did not have it in a digest.  status is
 * "sent" or "sending".
 */
static int64_t
send_campaign(const char *list, const char *subject, const char *body,
    const char *started, const char *status)
{
	struct store_campaign	 c;
	char			*cause = NULL, *sql;
	int64_t			 id;
	long long		 t = (long long)at(started);

	memset(&c, 0, sizeof c);
	c.list = (char *)list;
	c.subject = (char *)subject;
	c.body = (char *)body;
	if (store_campaign_add(s, &c, (int64_t)t, &id, &cause) == -1)
		fail_msg("campaign: %s", cause);
	sql = xprintf("UPDATE campaigns SET status = '%s', started_at = %lld"
	    " WHERE id = %lld;"
	    "INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from,"
	    " rcpt_to, created_at, updated_at)"
	    " SELECT 'campaign', %lld, m.subscriber_id, 'bounces@example.org',"
	    " s.email, %lld, %lld FROM memberships m"
	    " JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.list = '%s' AND m.status = 'confirmed'"
	    " AND m.mode = 'immediate' AND NOT EXISTS (SELECT 1"
	    " FROM digest_items d WHERE d.subscriber_id = m.subscriber_id"
	    " AND d.campaign_id = %lld)"
	    " ON CONFLICT DO NOTHING", status, t, (long long)id,
	    (long long)id, t, t, list, (long long)id);
	exec_ok(sql);
	free(sql);
	return id;
}

/* The body callback: mime_parse() is fine in-process on our own input. */
static char *
parse_body(void *arg, const char *raw, size_t len)
{
	struct message	*m;
	char		*text;

	(void)arg;
	m = mime_parse(raw, len, NULL);
	text = xstrdup(m->body_text != NULL ? m->body_text : "");
	message_free(m);
	return text;
}

/* Run the digests at local time now: its stats; -1 runs must not happen. */
static struct digest_stats
run_conf(const struct conf *c, const char *now, const char *list, int lists,
    int leads)
{
	struct digest_opts	 opts;
	struct digest_stats	 st;
	enum digest_fail	 fail;
	char			*cause = NULL;

	memset(&opts, 0, sizeof opts);
	opts.now = at(now);
	opts.list = list;
	opts.lists = lists;
	opts.leads = leads;
	opts.body = parse_body;
	if (digest_run(c, s, key, &opts, &st, &fail, &cause) == -1)
		fail_msg("digest_run at %s: got \"%s\" (%d), want success",
		    now, cause, (int)fail);
	return st;
}

static struct digest_stats
run(const char *now)
{
	return run_conf(conf, now, NULL, 1, 0);
}

/* Digest messages queued to a subscriber. */
static long long
digests_of(int64_t id)
{
	char		*sql;
	long long	 n;

	sql = xprintf("SELECT count(*) FROM outbox WHERE kind = 'digest'"
	    " AND subscriber_id = %lld", (long long)id);
	n = query_int(sql);
	free(sql);
	return n;
}

/* How many times a subscriber got a campaign: directly or in digests. */
static long long
got(int64_t sub, int64_t campaign)
{
	char		*sql;
	long long	 n;

	sql = xprintf("SELECT (SELECT count(*) FROM outbox WHERE kind ="
	    " 'campaign' AND subscriber_id = %lld AND campaign_id = %lld) +"
	    " (SELECT count(*) FROM digest_items WHERE subscriber_id = %lld"
	    " AND campaign_id = %lld)", (long long)sub, (long long)campaign,
	    (long long)sub, (long long)campaign);
	n = query_int(sql);
	free(sql);
	return n;
}

/* Nobody got any newsletter twice, and each digest holds its items. */
static void
check_exactly_once(void)
{
	check_ll("(subscriber, campaign) pairs delivered twice",
	    query_int("SELECT count(*) FROM (SELECT subscriber_id, campaign_id"
	    " FROM (SELECT subscriber_id, campaign_id FROM outbox"
	    " WHERE kind = 'campaign' UNION ALL SELECT subscriber_id,"
	    " campaign_id FROM digest_items) GROUP BY 1, 2"
	    " HAVING count(*) > 1)"), 0);
	check_ll("digest messages with no newsletter recorded",
	    query_int("SELECT count(*) FROM outbox o WHERE kind = 'digest'"
	    " AND NOT EXISTS (SELECT 1 FROM digest_items d"
	    " WHERE d.outbox_id = o.id)"), 0);
}

/* The digest message queued last to a subscriber (caller frees). */
static char *
last_digest(int64_t id)
{
	char	*sql, *v = NULL, *cause = NULL;

	sql = xprintf("SELECT CAST(body AS TEXT) FROM outbox"
	    " JOIN outbox_bodies b ON b.id = body_id"
	    " WHERE kind = 'digest' AND subscriber_id = %lld"
	    " ORDER BY outbox.id DESC LIMIT 1", (long long)id);
	if (store_query_text(s, sql, &v, &cause) != 1)
		fail_msg("no digest for %lld: %s", (long long)id, cause);
	free(sql);
	return v;
}

/* --- message checks ------------------------------------------------------ */

static void
check_wire(const char *what, const char *msg)
{
	const char	*p, *line = msg;

	for (p = msg; *p != '\0'; p++) {
		if (*p == '\r' && p[1] != '\n')
			fail_msg("%s: got a bare CR, want CRLF", what);
		if (*p == '\n') {
			if (p == msg || p[-1] != '\r')
				fail_msg("%s: got a bare LF, want CRLF", what);
			if ((size_t)(p - 1 - line) > 998)
				fail_msg("%s: got a line of %zu octets, want "
				    "at most 998", what,
				    (size_t)(p - 1 - line));
			line = p + 1;
		}
	}
}

/* 1 when the header section has "Name: " with that (unfolded) start. */
static int
has_header(const char *msg, const char *name, const char *start)
{
	const char	*end = strstr(msg, "\r\n\r\n"), *p = msg;
	size_t		 n = strlen(name);

	while (p != NULL && p < end) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':' &&
		    (start == NULL || strncmp(p + n + 2, start,
		    strlen(start)) == 0))
			return 1;
		if ((p = strstr(p, "\r\n")) != NULL)
			p += 2;
	}
	return 0;
}

static void
check_email(const char *what, const char *msg, const char *subject,
    const char *to_name)
{
	char	*path, *script, *argv[10];
	FILE	*f;
	pid_t	 pid;
	int	 status, argc = 0;

	check_wire(what, msg);
	if (access(PYTHON, X_OK) != 0)
		fail_msg("%s: %s is needed to check messages", what, PYTHON);
	path = xprintf("%s/check.eml", tmpdir);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(msg, 1, strlen(msg), f) != strlen(msg) || fclose(f) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	script = xprintf("%s/tests/tools/check-email.py", test_top());
	argv[argc++] = (char *)PYTHON;
	argv[argc++] = script;
	if (subject != NULL) {
		argv[argc++] = (char *)"--expect-subject";
		argv[argc++] = (char *)subject;
	}
	if (to_name != NULL) {
		argv[argc++] = (char *)"--expect-to-name";
		argv[argc++] = (char *)to_name;
	}
	argv[argc++] = (char *)"--";
	argv[argc++] = path;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(2, 1);
		execv(PYTHON, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) == -1)
		fail_msg("waitpid: %s", strerror(errno));
	free(script);
	free(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s: check-email.py: got exit %d, want 0 (see its "
		    "complaints above)", what, WIFEXITED(status) ?
		    WEXITSTATUS(status) : 128);
}

/* Compare with (or, with POSTROOM_UPDATE_GOLDEN=1, write) a golden file. */
static void
check_golden(const char *name, const char *got_text)
{
	struct buf	 b;
	char		*path;
	const char	*upd = getenv("POSTROOM_UPDATE_GOLDEN");
	FILE		*f;
	size_t		 i, line = 1;

	path = xprintf("%s/tests/golden/digest/%s", test_top(), name);
	if (upd != NULL && strcmp(upd, "1") == 0) {
		if ((f = fopen(path, "w")) == NULL ||
		    fputs(got_text, f) == EOF || fclose(f) != 0)
			fail_msg("%s: %s", path, strerror(errno));
		free(path);
		return;
	}
	buf_init(&b, BUF_NOMAX);
	if (buf_read_file(&b, path) == -1)
		fail_msg("%s: %s (POSTROOM_UPDATE_GOLDEN=1 writes it)", path,
		    strerror(errno));
	if (b.data == NULL)
		buf_add(&b, "", 0);
	if (strcmp(b.data, got_text) != 0) {
		for (i = 0; got_text[i] != '\0' && got_text[i] == b.data[i];
		    i++) {
			if (got_text[i] == '\n')
				line++;
		}
		print_error("%s: differs from line %zu:\n  got  \"%.80s\"\n"
		    "  want \"%.80s\"\n", path, line, got_text + i,
		    b.data + i);
		buf_free(&b);
		free(path);
		fail();
	}
	buf_free(&b);
	free(path);
}

static const char body_a[] =
    "Dear {{subscriber.name}},\n\n"
    "The next **huddle** is on 26 November: *system dynamics* for "
    "colleagues from {{subscriber.organisation}}.\n\n"
    "- Slides: [huddle pack](https://example.org/huddle)\n"
    "- Recording afterwards\n";
static const char body_b[] =
    "# Cyfarfod yr Ŵyl\n\n"
    "Croeso i’r cyfarfod – bring a <colleague> & a question.\n\n"
    "## Rhaglen\n\n"
    "Coffi am 10.\n";

/* --- list digests: the calendar ---------------------------------------------- */

static void
test_weekly_calendar(void **state)
{
	struct digest_stats	 st;
	int64_t			 ann, bob, cat, c1, c2, c3;
	char			*msg;

	(void)state;
	ann = member("ann@example.org", "Ann Immediate", "analyst-network",
	    "immediate", "2026-11-01 09:00");
	bob = member("bob@example.org", "Bob Digest", "analyst-network",
	    "digest", "2026-11-01 09:00");
	cat = member("cat@example.org", "", "analyst-network", "digest",
	    "2026-11-01 09:00");

	c1 = send_campaign("analyst-network", "Huddle on 26 November",
	    body_a, "2026-11-17 10:00", "sent");
	c2 = send_campaign("analyst-network", "Cyfarfod yr Ŵyl", body_b,
	    "2026-11-19 10:00", "sent");

	/* Monday 06:59: the week of 9 November is due, and was empty. */
	st = run("2026-11-23 06:59");
	check_ll("06:59 messages", st.messages, 0);
	/* Each list records its period, held or not (plain: its flush). */
	check_ll("06:59 periods recorded", st.periods, 4);

	/* Monday 07:00: the week of 16 November, to the digest members. */
	st = run("2026-11-23 07:00");
	check_ll("07:00 messages", st.messages, 2);
	check_ll("07:00 newsletters", st.items, 4);
	check_ll("ann's digests", digests_of(ann), 0);
	check_ll("bob's digests", digests_of(bob), 1);
	check_ll("cat's digests", digests_of(cat), 1);
	check_ll("ann got c1", got(ann, c1), 1);
	check_ll("bob got c1", got(bob, c1), 1);
	check_ll("cat got c2", got(cat, c2), 1);

	msg = last_digest(bob);
	check_email("bob's digest", msg, "Analyst Network bulletin digest: "
	    "week of 16 November 2026", "Bob Digest");
	if (!has_header(msg, "List-Id", "Analyst Network bulletin "
	    "<analyst-network.mail.example.org>") ||
	    !has_header(msg, "List-Unsubscribe", "<https://news.example.org/"
	    "unsubscribe/") ||
	    !has_header(msg, "List-Unsubscribe-Post",
	    "List-Unsubscribe=One-Click") ||
	    !has_header(msg, "Reply-To", "analyst-network@example.org") ||
	    !has_header(msg, "From", "Analyst Network bulletin"))
		fail_msg("bob's digest: got headers\n%.*s\nwant From, "
		    "Reply-To, List-Id, List-Unsubscribe, "
		    "List-Unsubscribe-Post",
		    (int)(strstr(msg, "\r\n\r\n") - msg), msg);
	free(msg);
	msg = last_digest(cat);
	check_email("cat's digest (no name)", msg, NULL, "");
	free(msg);

	/* Again, the same minute, the next day: nothing more. */
	st = run("2026-11-23 07:00");
	check_ll("second run messages", st.messages, 0);
	check_ll("second run periods", st.periods, 0);
	st = run("2026-11-24 07:00");
	check_ll("tuesday messages", st.messages, 0);

	/* A newsletter after Monday 07:00 is next week's. */
	c3 = send_campaign("analyst-network", "December dates", body_b,
	    "2026-11-23 09:00", "sent");
	st = run("2026-11-27 07:00");
	check_ll("friday messages", st.messages, 0);
	st = run("2026-11-30 07:00");
	check_ll("next monday messages", st.messages, 2);
	check_ll("next monday newsletters", st.items, 2);
	check_ll("bob's digests", digests_of(bob), 2);
	check_ll("bob got c3", got(bob, c3), 1);
	check_ll("ann got c3", got(ann, c3), 1);
	check_exactly_once();
}

static void
test_missed_weeks(void **state)
{
	struct digest_stats	 st;
	int64_t			 bob, c1, c2, c3;
	char			*msg;

	(void)state;
	bob = member("bob@example.org", "Bob", "analyst-network", "digest",
	    "2026-11-01 09:00");
	c1 = send_campaign("analyst-network", "One", body_b,
	    "2026-11-17 10:00", "sent");
	c2 = send_campaign("analyst-network", "Two", body_b,
	    "2026-11-24 10:00", "sent");
	c3 = send_campaign("analyst-network", "Three", body_b,
	    "2026-12-01 10:00", "sent");

	/* Nobody ran the timer for three weeks: one digest catches up. */
	st = run("2026-12-07 07:30");
	check_ll("catch-up messages", st.messages, 1);
	check_ll("catch-up newsletters", st.items, 3);
	check_ll("bob got c1", got(bob, c1), 1);
	check_ll("bob got c2", got(bob, c2), 1);
	check_ll("bob got c3", got(bob, c3), 1);
	msg = last_digest(bob);
	check_email("catch-up", msg, "Analyst Network bulletin digest: "
	    "week of 30 November 2026", "Bob");
	free(msg);

	/* The weeks missed are not sent later. */
	st = run("2026-12-14 07:00");
	check_ll("week after catch-up", st.messages, 0);
	check_ll("digest_sent rows", query_int("SELECT count(*) FROM "
	    "digests_sent WHERE key = 'analyst-network'"), 2);
	check_exactly_once();
}

/* Old newsletters never flood a digest: DIGEST_CATCHUP_MAX. */
static void
test_catchup_limit(void **state)
{
	struct digest_stats	st;
	int64_t			bob, old, recent;

	(void)state;
	bob = member("bob@example.org", "Bob", "analyst-network", "digest",
	    "2025-01-01 09:00");
	old = send_campaign("analyst-network", "Old", body_b,
	    "2026-03-03 10:00", "sent");
	recent = send_campaign("analyst-network", "Recent", body_b,
	    "2026-11-17 10:00", "sent");
	st = run("2026-11-23 07:00");
	check_ll("messages", st.messages, 1);
	check_ll("bob got the old one", got(bob, old), 0);
	check_ll("bob got the recent one", got(bob, recent), 1);
}

/*
 * A daily list at 08:30 across the autumn change (Sunday 25 October
 * 2026, 02:00 BST becomes 01:00 GMT): the period of Saturday is 25 hours
 * long and everything in it comes once.
 */
static void
test_daylight_saving(void **state)
{
	struct digest_stats	 st;
	int64_t			 dee, c1, c2, c3, c4;
	char			*msg;

	(void)state;
	dee = member("dee@example.org", "Dee", "daily", "digest",
	    "2026-10-01 09:00");
	c1 = send_campaign("daily", "Friday", body_b, "2026-10-24 08:00",
	    "sent");
	c2 = send_campaign("daily", "Saturday", body_b, "2026-10-24 09:00",
	    "sent");
	c3 = send_campaign("daily", "Small hours", body_b, "2026-10-25 01:30",
	    "sent");
	c4 = send_campaign("daily", "Sunday GMT", body_b, "2026-10-25 08:00",
	    "sent");

	st = run("2026-10-25 08:29");
	check_ll("sunday 08:29 messages", st.messages, 1);
	check_ll("sunday 08:29 newsletters", st.items, 1);
	check_ll("dee got c1", got(dee, c1), 1);
	check_ll("dee got c2 yet", got(dee, c2), 0);

	st = run("2026-10-25 08:30");
	check_ll("sunday 08:30 newsletters", st.items, 3);
	check_ll("dee got c2", got(dee, c2), 1);
	check_ll("dee got c3", got(dee, c3), 1);
	check_ll("dee got c4", got(dee, c4), 1);
	check_ll("sunday 08:30 period", query_int("SELECT count(*) FROM "
	    "digests_sent WHERE key = 'daily' AND period = '2026-10-24'"), 1);
	msg = last_digest(dee);
	check_email("welsh list name", msg, "Cylchlythyr Ŵyl y Rhwydwaith "
	    "digest: 24 October 2026", "Dee");
	free(msg);

	/* Spring: 29 March 2026, the period of Saturday is 23 hours. */
	c1 = send_campaign("daily", "Spring", body_b, "2026-03-29 08:00",
	    "sent");
	st = run("2026-03-29 08:30");
	check_ll("spring newsletters", st.items, 0);	/* before confirmed */
	exec_ok("UPDATE memberships SET confirmed_at = 0");
	st = run("2026-03-30 08:30");
	check_ll("spring, confirmed earlier", st.items, 1);
	check_ll("dee got spring", got(dee, c1), 1);
	check_exactly_once();
}

/* --- list digests: repeats, a run cut short, many members ------------------ */

static void
test_twice_and_crash(void **state)
{
	struct digest_stats	 st;
	struct store		*other;
	char			*cause = NULL, email[64], *path, *sql;
	int64_t			 c1, c2, first = 0, id;
	int			 i;

	(void)state;
	/* 250 digest members: three batches. */
	if (store_begin(s, &cause) == -1)
		fail_msg("%s", cause);
	for (i = 0; i < 250; i++) {
		snprintf(email, sizeof email, "m%03d@example.org", i);
		id = member(email, "", "analyst-network", "digest",
		    "2026-11-01 09:00");
		if (i == 0)
			first = id;
	}
	if (store_commit(s, &cause) == -1)
		fail_msg("%s", cause);
	c1 = send_campaign("analyst-network", "One", body_b,
	    "2026-11-17 10:00", "sent");
	c2 = send_campaign("analyst-network", "Two", body_a,
	    "2026-11-18 10:00", "sent");

	st = run("2026-11-23 07:00");
	check_ll("messages", st.messages, 250);
	check_ll("newsletters", st.items, 500);

	/* A second connection (a second process) finds nothing to do. */
	path = xstrdup(store_path(s));
	if ((other = store_open(path, &cause)) == NULL)
		fail_msg("%s", cause);
	free(path);
	{
		struct store	*mine = s;

		s = other;
		st = run("2026-11-23 07:01");
		s = mine;
	}
	store_close(other);
	check_ll("second process messages", st.messages, 0);

	/*
	 * A run that died after its first batch: what the database holds
	 * then is exactly the first 100 members' messages and items and no
	 * digests_sent row.  Make it so, and run again.
	 */
	sql = xprintf("DELETE FROM digests_sent;"
	    "DELETE FROM digest_items WHERE subscriber_id >= %lld;"
	    "DELETE FROM outbox WHERE kind = 'digest'"
	    " AND subscriber_id >= %lld", (long long)first + 100,
	    (long long)first + 100);
	exec_ok(sql);
	free(sql);
	check_ll("left after the crash", query_int("SELECT count(*) FROM "
	    "outbox WHERE kind = 'digest'"), 100);
	st = run("2026-11-23 07:30");
	check_ll("after the crash messages", st.messages, 150);
	check_ll("digests in all", query_int("SELECT count(*) FROM outbox "
	    "WHERE kind = 'digest'"), 250);
	check_ll("member 0 got c1", got(first, c1), 1);
	check_ll("member 249 got c2", got(first + 249, c2), 1);
	check_exactly_once();
}

/* --- list digests: who gets what ----------------------------------------- */

static void
test_mode_switch(void **state)
{
	struct digest_stats	 st;
	int64_t			 imm, dig, late, a, b, c;
	char			*msg;

	(void)state;
	imm = member("imm@example.org", "Imm", "analyst-network", "immediate",
	    "2026-11-01 09:00");
	dig = member("dig@example.org", "Dig", "analyst-network", "digest",
	    "2026-11-01 09:00");
	late = member("late@example.org", "Late", "analyst-network", "digest",
	    "2026-11-01 09:00");

	/* A: imm gets it at once; dig and late have it held. */
	a = send_campaign("analyst-network", "Newsletter A", body_b,
	    "2026-11-16 10:00", "sent");
	check_ll("imm got A at once", got(imm, a), 1);

	/* imm -> digest, dig -> immediate, mid-period. */
	set_mode(imm, "analyst-network", "digest");
	set_mode(dig, "analyst-network", "immediate");

	/* B: dig (now immediate) gets it at once, imm has it held. */
	b = send_campaign("analyst-network", "Newsletter B", body_b,
	    "2026-11-18 10:00", "sent");
	check_ll("dig got B at once", got(dig, b), 1);

	/* C: still sending when late switches to immediate after it passed. */
	c = send_campaign("analyst-network", "Newsletter C", body_b,
	    "2026-11-20 10:00", "sending");
	set_mode(late, "analyst-network", "immediate");

	st = run("2026-11-23 07:00");
	/* imm: B only; dig: A (held before the switch); late: A and B. */
	check_ll("imm got A once", got(imm, a), 1);
	check_ll("imm got B", got(imm, b), 1);
	check_ll("dig got A in a last digest", got(dig, a), 1);
	check_ll("dig got B once", got(dig, b), 1);
	check_ll("late got A", got(late, a), 1);
	check_ll("late got B", got(late, b), 1);
	/* C is still sending: not held for someone now immediate. */
	check_ll("late got C yet", got(late, c), 0);
	check_ll("messages", st.messages, 3);
	msg = last_digest(dig);
	if (strstr(msg, "Newsletter B") != NULL ||
	    strstr(msg, "Newsletter A") == NULL)
		fail_msg("dig's digest: got B or no A, want A only");
	free(msg);

	/* C finishes; late gets it in the next digest, once. */
	exec_ok("UPDATE campaigns SET status = 'sent'");
	st = run("2026-11-30 07:00");
	check_ll("late got C", got(late, c), 1);
	check_ll("imm got C", got(imm, c), 1);
	check_ll("dig got C at once", got(dig, c), 1);
	check_exactly_once();
}

static void
test_who_not(void **state)
{
	struct digest_stats	 st;
	char			*cause = NULL;
	int64_t			 newbie, gone, suppressed, pending, other, c1;

	(void)state;
	c1 = send_campaign("analyst-network", "Before you came", body_b,
	    "2026-11-17 10:00", "sent");
	newbie = member("newbie@example.org", "", "analyst-network", "digest",
	    "2026-11-18 09:00");
	gone = member("gone@example.org", "", "analyst-network", "digest",
	    "2026-11-01 09:00");
	suppressed = member("Sup@example.org", "", "analyst-network",
	    "digest", "2026-11-01 09:00");
	other = member("other@example.org", "", "news", "digest",
	    "2026-11-01 09:00");
	if (store_subscriber_add(s, "pending@example.org", NULL, NULL,
	    &pending, &cause) == -1 || store_member_add(s, pending,
	    "analyst-network", STORE_MEMBER_PENDING, "digest", "web", "form",
	    &cause) == -1)
		fail_msg("%s", cause);
	if (store_member_set_status(s, gone, "analyst-network",
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause) == -1 ||
	    store_subscriber_suppress(s, "sup@example.org", "complaint",
	    &cause) == -1)
		fail_msg("%s", cause);
	exec_ok("INSERT INTO campaigns (list, subject, body, status, "
	    "started_at, created_at, updated_at) VALUES ('analyst-network', "
	    "'Cancelled', 'x', 'cancelled', 1795000000, 1, 1)");

	st = run("2026-11-23 07:00");
	check_ll("messages", st.messages, 0);
	check_ll("skipped (suppressed)", st.skipped, 1);
	check_ll("newbie got c1", got(newbie, c1), 0);
	check_ll("gone got c1", got(gone, c1), 0);
	check_ll("pending got c1", got(pending, c1), 0);
	check_ll("suppressed got c1", got(suppressed, c1), 0);
	check_ll("other list", digests_of(other), 0);
}

/*
 * Leaving after the digest was queued and before it went: it does not go
 * (skipped, saying why); a digest of another list stays queued.
 */
static void
test_left_before_sent(void **state)
{
	struct digest_stats	 st;
	char			*cause = NULL, *sql;
	int64_t			 who, c1, c2;

	(void)state;
	c1 = send_campaign("analyst-network", "One", body_b,
	    "2026-11-17 10:00", "sent");
	c2 = send_campaign("daily", "Two", body_b, "2026-11-22 11:00", "sent");
	who = member("leaver@example.org", "", "analyst-network", "digest",
	    "2026-11-01 09:00");
	member("leaver@example.org", "", "daily", "digest", "2026-11-01 09:00");
	st = run("2026-11-23 09:00");
	check_ll("messages", st.messages, 2);
	check_ll("got c1", got(who, c1), 1);
	check_ll("got c2", got(who, c2), 1);

	if (store_member_set_status(s, who, "analyst-network",
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause) == -1)
		fail_msg("%s", cause);
	sql = xprintf("SELECT count(*) FROM outbox WHERE kind = 'digest'"
	    " AND subscriber_id = %lld AND state = 'skipped' AND last_reply ="
	    " 'unsubscribed from list analyst-network'"
	    " AND dedup_key LIKE 'digest:analyst-network:%%'", (long long)who);
	check_ll("the left list's digest skipped", query_int(sql), 1);
	free(sql);
	sql = xprintf("SELECT count(*) FROM outbox WHERE kind = 'digest'"
	    " AND subscriber_id = %lld AND state = 'queued'"
	    " AND dedup_key LIKE 'digest:daily:%%'", (long long)who);
	check_ll("the other list's digest still queued", query_int(sql), 1);
	free(sql);
}

static void
test_list_options(void **state)
{
	struct digest_opts	 opts;
	struct digest_stats	 st;
	enum digest_fail	 fail;
	struct conf		*bad;
	char			*cause = NULL, *sql;
	int64_t			 bob;

	(void)state;
	bob = member("bob@example.org", "Bob", "analyst-network", "digest",
	    "2026-11-01 09:00");
	member("bob@example.org", "Bob", "news", "digest", "2026-11-01 09:00");
	member("bob@example.org", "Bob", "plain", "digest",
	    "2026-11-01 09:00");
	send_campaign("analyst-network", "AN", body_b, "2026-11-17 10:00",
	    "sent");
	send_campaign("news", "News", body_b, "2026-11-17 10:00", "sent");
	send_campaign("plain", "Plain", body_b, "2026-11-17 10:00", "sent");

	/* --list: that list only. */
	st = run_conf(conf, "2026-12-01 07:00", "news", 1, 0);
	check_ll("--list news", st.messages, 1);
	/*
	 * Then the others: analyst-network, and plain, which has no
	 * digests but flushes what was held (as when a list is switched to
	 * none: send_campaign() held it like a list with digests).
	 */
	st = run_conf(conf, "2026-12-01 07:00", NULL, 1, 0);
	check_ll("then all lists", st.messages, 2);
	check_ll("bob's digests", digests_of(bob), 3);
	check_ll("plain flushed daily", query_int("SELECT count(*) FROM "
	    "digests_sent WHERE key = 'plain' AND period = '2026-11-30'"), 1);

	/* An unknown list. */
	memset(&opts, 0, sizeof opts);
	opts.now = at("2026-12-01 07:00");
	opts.list = "nosuch";
	opts.lists = 1;
	if (digest_run(conf, s, key, &opts, &st, &fail, &cause) != -1 ||
	    fail != DIGEST_FAIL_DATA || strstr(cause, "nosuch") == NULL)
		fail_msg("unknown list: got %d \"%s\", want a data error",
		    (int)fail, cause != NULL ? cause : "");
	free(cause);

	/*
	 * Templates missing: a configuration error, nothing recorded.  (A
	 * directory that exists: one that does not gives way to the source
	 * tree's, which this test runs from.)
	 */
	cause = NULL;
	sql = xprintf("%s/notemplates", tmpdir);
	if (mkdir(sql, 0700) == -1 && errno != EEXIST)
		fail_msg("mkdir %s: %s", sql, strerror(errno));
	free(sql);
	sql = xprintf("general.templates=%s/notemplates", tmpdir);
	bad = load_conf(sql);
	free(sql);
	if (bad == NULL)
		fail_msg("cannot load the configuration");
	exec_ok("DELETE FROM digests_sent");
	opts.list = NULL;
	opts.now = at("2026-12-08 07:00");
	if (digest_run(bad, s, key, &opts, &st, &fail, &cause) != -1 ||
	    fail != DIGEST_FAIL_CONFIG ||
	    strstr(cause, "/notemplates/digest.html") == NULL)
		fail_msg("no templates: got %d \"%s\", want a configuration "
		    "error naming digest.html", (int)fail,
		    cause != NULL ? cause : "");
	free(cause);
	conf_free(bad);
	check_ll("nothing recorded", query_int("SELECT count(*) FROM "
	    "digests_sent"), 0);
	check_exactly_once();
}

/* --- golden: one member's digest ----------------------------------------- */

static void
test_golden_list(void **state)
{
	struct store_subscriber	 sub;
	struct newsletter_parts	 parts;
	struct digest_opts	 opts;
	struct buf		 out;
	char			*cause = NULL, *mail_from = NULL;
	int64_t			 id;
	int			 rc;

	(void)state;
	id = member("sian@example.org", "Siân Ŵyn", "analyst-network",
	    "digest", "2026-11-01 09:00");
	/* A fixed salt (the store makes a random one): the same links. */
	exec_ok("UPDATE subscribers SET token_salt ="
	    " x'000102030405060708090a0b0c0d0e0f'");
	send_campaign("analyst-network", "Huddle for {{subscriber.name}}",
	    body_a, "2026-11-17 10:00", "sent");
	send_campaign("analyst-network", "Cyfarfod yr Ŵyl", body_b,
	    "2026-11-19 10:00", "sent");

	memset(&opts, 0, sizeof opts);
	opts.now = at("2026-11-23 07:00");
	memset(&sub, 0, sizeof sub);
	if (store_subscriber_get_id(s, id, &sub, &cause) != 1)
		fail_msg("%s", cause);
	buf_init(&out, DIGEST_MAX_MESSAGE);
	rc = digest_list_preview(conf, s, key, "analyst-network", &sub, &opts,
	    &out, &mail_from, &parts, &cause);
	if (rc != 1)
		fail_msg("preview: got %d \"%s\", want a digest", rc,
		    cause != NULL ? cause : "");
	assert_str_eq_msg("subject", parts.subject, "Analyst Network "
	    "bulletin digest: week of 16 November 2026");
	check_golden("weekly.txt", parts.text);
	check_golden("weekly.html", parts.html);
	/* One <h1>; a body's own "# title" is its item's <h2>, not another. */
	if (strstr(parts.html, "<h1") == NULL ||
	    strstr(strstr(parts.html, "<h1") + 1, "<h1") != NULL ||
	    strstr(parts.html, "<h2>Cyfarfod yr Ŵyl</h2>\n<p>Croeso") == NULL ||
	    strstr(parts.html, "<h3>Rhaglen</h3>") == NULL)
		fail_msg("digest headings: want one <h1>, the body's title as "
		    "its item's <h2> and its ## as <h3>");
	if (strncmp(mail_from, "bounces+", 8) != 0 ||
	    strstr(mail_from, "@mail.example.org") == NULL)
		fail_msg("envelope sender: got %s, want bounces+TOKEN@"
		    "mail.example.org", mail_from);
	check_email("golden digest", out.data, parts.subject, "Siân Ŵyn");
	newsletter_parts_clear(&parts);
	free(mail_from);
	buf_free(&out);

	/* A preview writes nothing; the run then queues the same. */
	check_ll("previews queue nothing", digests_of(id), 0);
	run("2026-11-23 07:00");
	check_ll("run queues it", digests_of(id), 1);
	/* Nothing held any more. */
	buf_init(&out, DIGEST_MAX_MESSAGE);
	rc = digest_list_preview(conf, s, key, "analyst-network", &sub, &opts,
	    &out, NULL, NULL, &cause);
	check_ll("preview after the run", rc, 0);
	buf_free(&out);
	store_subscriber_clear(&sub);
}

/* --- lead digests ----------------------------------------------------------- */

static void
enquiry(const char *ref, const char *lead, const char *rule,
    const char *sender, const char *name, const char *subject,
    const char *routed, const char *body)
{
	char	*sql, *raw;
	long long t = (long long)at(routed);

	raw = xprintf("From: %s <%s>\r\nTo: enquiries@example.org\r\n"
	    "Subject: %s\r\nMessage-ID: <%s@example.net>\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", name, sender,
	    subject, ref, body);
	sql = xprintf("INSERT INTO enquiries (reference, message_id,"
	    " content_hash, sender, sender_name, subject, lead, rule,"
	    " received_at, routed_at, raw) VALUES ('%s', '%s@example.net',"
	    " '%s', '%s', '%s', '%s', '%s', '%s', %lld, %lld,"
	    " CAST('%s' AS BLOB))", ref, ref, ref, sender, name, subject, lead,
	    rule, t - 5, t, raw);
	exec_ok(sql);
	free(sql);
	free(raw);
}

static long long
lead_msgs(const char *rcpt)
{
	char		*sql;
	long long	 n;

	sql = xprintf("SELECT count(*) FROM outbox WHERE kind ="
	    " 'lead_digest' AND rcpt_to = '%s'", rcpt);
	n = query_int(sql);
	free(sql);
	return n;
}

static void
test_leads(void **state)
{
	struct digest_opts	 opts;
	struct digest_stats	 st;
	char			*cause = NULL, *subject, *text, *msg;
	int			 rc;

	(void)state;
	enquiry("ENQ-2026-00041", "west_dsu", "west-dsu", "jo@nhs.example",
	    "Jo Bloggs", "Setting up a DSU in the Black Country",
	    "2026-11-22 16:00", "Hello,\r\n\r\nWe are an ICS in the Black "
	    "Country and would like to set up a Decision Support Unit.\r\n"
	    "> quoted text from before\r\nCould we talk next week?\r\n"
	    "Another line.\r\n-- \r\nJo\r\n");
	enquiry("ENQ-2026-00042", "west_dsu", "west-dsu", "kim@nhs.example",
	    "", "Follow-up", "2026-11-22 09:15", "Just a follow-up.\r\n");
	enquiry("ENQ-2026-00043", "general", "default", "pat@example.com",
	    "Pat", "A question nobody expected", "2026-11-22 11:00",
	    "Is there a parking space at the venue?\r\n");
	enquiry("ENQ-2026-00044", "evaluation_network", "evaluation",
	    "lee@example.com", "Lee", "Evaluation guide", "2026-11-22 12:00",
	    "Where is the guide?\r\n");
	/* Before the first summary's period: not in it. */
	enquiry("ENQ-2026-00040", "west_dsu", "west-dsu", "old@example.com",
	    "Old", "Old", "2026-11-19 12:00", "Old.\r\n");
	/* After 07:00: the next day's. */
	enquiry("ENQ-2026-00045", "west_dsu", "west-dsu", "new@example.com",
	    "New", "Late", "2026-11-23 07:30", "Late.\r\n");

	/* Golden summaries, before anything is queued. */
	memset(&opts, 0, sizeof opts);
	opts.now = at("2026-11-23 07:00");
	opts.body = parse_body;
	rc = digest_lead_preview(conf, s, "general", &opts, &subject, &text,
	    &cause);
	if (rc != 1)
		fail_msg("general: got %d \"%s\"", rc, cause ? cause : "");
	assert_str_eq_msg("general subject", subject, "Enquiries for General "
	    "enquiries: 22 November 2026 (1 new)");
	check_golden("lead-general.txt", text);
	free(subject);
	free(text);
	rc = digest_lead_preview(conf, s, "west_dsu", &opts, &subject, &text,
	    &cause);
	if (rc != 1)
		fail_msg("west_dsu: got %d \"%s\"", rc, cause ? cause : "");
	check_golden("lead-west.txt", text);
	free(subject);
	free(text);

	/* Monday 07:00: the first summaries cover Sunday 07:00 on. */
	st = run_conf(conf, "2026-11-23 07:00", NULL, 0, 1);
	check_ll("messages", st.messages, 5);
	check_ll("west", lead_msgs("west-dsu@example.org"), 1);
	check_ll("evaluation a", lead_msgs("evaluation-a@example.org"), 1);
	check_ll("evaluation b", lead_msgs("evaluation-b@example.org"), 1);
	check_ll("general a", lead_msgs("enquiries-a@example.org"), 1);
	check_ll("general b", lead_msgs("enquiries-b@example.org"), 1);
	if (store_query_text(s, "SELECT CAST(body AS TEXT) FROM outbox"
	    " JOIN outbox_bodies b ON b.id = body_id"
	    " WHERE rcpt_to = 'west-dsu@example.org'", &msg, &cause) != 1)
		fail_msg("%s", cause);
	check_email("west summary", msg, "Enquiries for West Midlands DSU "
	    "development: 22 November 2026 (2 new)",
	    "West Midlands DSU development");
	if (!has_header(msg, "Auto-Submitted", "auto-generated"))
		fail_msg("west summary: got no Auto-Submitted: auto-generated");
	free(msg);

	/* Again: nothing. */
	st = run_conf(conf, "2026-11-23 09:00", NULL, 0, 1);
	check_ll("again", st.messages, 0);

	/* Tuesday: west has the late one; the others nothing new. */
	st = run_conf(conf, "2026-11-24 07:00", NULL, 0, 1);
	check_ll("tuesday messages (west, general's counts)", st.messages, 3);
	check_ll("west on tuesday", lead_msgs("west-dsu@example.org"), 2);
	check_ll("evaluation on tuesday", lead_msgs("evaluation-a@example.org"),
	    1);
	check_ll("enquiries in two summaries", query_int("SELECT count(*) "
	    "FROM (SELECT enquiry_id FROM digest_enquiries GROUP BY lead, "
	    "enquiry_id HAVING count(*) > 1)"), 0);
	check_ll("the old one never", query_int("SELECT count(*) FROM "
	    "digest_enquiries d JOIN enquiries e ON e.id = d.enquiry_id "
	    "WHERE e.reference = 'ENQ-2026-00040'"), 0);

	/* A missed day: Thursday's covers Wednesday and Tuesday. */
	enquiry("ENQ-2026-00046", "west_dsu", "west-dsu", "a@example.com",
	    "A", "Tuesday", "2026-11-24 10:00", "A.\r\n");
	enquiry("ENQ-2026-00047", "west_dsu", "west-dsu", "b@example.com",
	    "B", "Wednesday", "2026-11-25 10:00", "B.\r\n");
	st = run_conf(conf, "2026-11-26 07:00", NULL, 0, 1);
	check_ll("west after a missed day", lead_msgs("west-dsu@example.org"),
	    3);
	check_ll("both in it", query_int("SELECT count(*) FROM "
	    "digest_enquiries WHERE period = '2026-11-25'"), 2);
}

static void
test_leads_send_empty(void **state)
{
	struct digest_stats	 st;
	struct conf		*c;

	(void)state;
	if ((c = load_conf("digest.send_empty=true")) == NULL)
		fail_msg("cannot load the configuration");
	st = run_conf(c, "2026-11-23 07:00", NULL, 0, 1);
	check_ll("empty summaries", st.messages, 5);
	st = run_conf(c, "2026-11-23 08:00", NULL, 0, 1);
	check_ll("once", st.messages, 0);
	conf_free(c);
	/* And off: nothing, but the day is recorded. */
	st = run_conf(conf, "2026-11-24 07:00", NULL, 0, 1);
	check_ll("send_empty off", st.messages, 0);
	check_ll("days recorded", query_int("SELECT count(*) FROM "
	    "digests_sent WHERE kind = 'lead_digest'"), 6);
}

/* --- first lines ------------------------------------------------------------- */

static void
test_first_lines(void **state)
{
	static const struct {
		const char	*what;
		const char	*text;
		const char	*want;	/* lines joined with '|' */
	} cases[] = {
		{ "plain", "one\ntwo\nthree\nfour\n", "one|two|three" },
		{ "blank and quoted skipped", "\n\n> quoted\n  \nhello  "
		  "there\t you\n", "hello there you" },
		{ "signature ends", "hi\n-- \nJo Bloggs\n", "hi" },
		{ "CRLF", "a\r\nb\r\n", "a|b" },
		{ "controls", "a\x01" "b\x7f" "c\n", "a b c" },
		{ "long line cut",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\n",
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
		{ "long welsh cut on a character",
		  "ŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵ"
		  "ŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵ",
		  "ŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵ"
		  "ŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵŵ..." },
		{ "empty", "", "" },
	};
	struct value	*v;
	struct buf	 b;
	size_t		 i, j;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		v = digest_first_lines(cases[i].text, 3);
		buf_init(&b, BUF_NOMAX);
		buf_add(&b, "", 0);
		for (j = 0; j < value_list_len(v); j++) {
			if (j > 0)
				buf_addc(&b, '|');
			buf_addstr(&b, value_string(value_list_get(v, j),
			    NULL));
		}
		assert_str_eq_msg(cases[i].what, b.data, cases[i].want);
		buf_free(&b);
		value_free(v);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_lines),
		cmocka_unit_test_setup_teardown(test_weekly_calendar, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missed_weeks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_catchup_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_daylight_saving, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_twice_and_crash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mode_switch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_left_before_sent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_who_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_options, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_golden_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_leads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leads_send_empty, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
