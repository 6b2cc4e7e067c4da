/*
 * test-campaign.c - the campaign engine (campaign.c, store-campaign.c) and
 * the progress display (progress.c).
 *
 *   - the state machine: every (from, to) pair against the table in
 *     campaign.h;
 *   - each operation from each status: allowed ones do what they say,
 *     refused ones fail with CAMPAIGN_FAIL_STATE and change nothing;
 *   - send: one row per confirmed immediate member (any mode on a list
 *     without digests), none for pending, unsubscribed or digest-mode
 *     members or those who had it in a digest; nobody -> sent at once;
 *   - the scheduler with a fake clock: nothing before the time, started
 *     at it (started_at = the clock), inside a caller's transaction too;
 *   - a time to send at that has passed is refused, nothing queued; the
 *     plan before a send counts as the send then queues, says whether a
 *     test copy was sent since the last edit;
 *   - unschedule (back to draft, rows removed), send now of a scheduled
 *     campaign, edit refused when scheduled, delete, copy;
 *   - cancel skips what is queued; retry-failed requeues temporary
 *     failures only unless asked, each kind counted; test copies;
 *   - campaign_check: merge fields against the attributes the list's
 *     pending and confirmed members have values for (in any case), the
 *     nearest name, images; who lacks a field (campaign_field_gaps);
 *     send and test of a draft with problems refused, nothing queued;
 *   - progress: the rate over its window, durations, the plain and
 *     terminal lines, when plain lines go out, the "is postroomd
 *     running?" hint after PROGRESS_STALL seconds, once.
 *
 * A fresh database per test, in a temporary directory.
 */
#include "testutil.h"

#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "conf.h"
#include "deliver.h"
#include "fields.h"
#include "log.h"
#include "period.h"
#include "progress.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

#define T0	((int64_t)1795000000)	/* a fixed "now" */

static char		 tmpdir[] = "/tmp/test-campaign.XXXXXX";
static struct conf	*conf;
static struct store	*s;
static int		 ndb;
static unsigned char	 key[TOKEN_KEY_LEN];

static const char conf_text[] =
    "general = {\n"
    "  from_address = \"news@example.org\";\n"
    "  domain = \"example.org\";\n"
    "  base_url = \"https://example.org\";\n"
    "};\n"
    "lists = (\n"
    "  { slug = \"news\"; name = \"News\"; from = \"news@example.org\";\n"
    "    digest = \"monthly\"; },\n"
    "  { slug = \"plain\"; name = \"Plain\"; from = \"news@example.org\";\n"
    "    digest = \"none\"; }\n"
    ");\n";

/* --- fixtures --------------------------------------------------------------- */

static int
group_setup(void **state)
{
	char	*path, *ov[2], *cause = NULL;
	FILE	*f;
	size_t	 i;

	(void)state;
	log_set_level(LOGL_ERROR);
	if (period_zone("Europe/London", &cause) == -1) {
		fprintf(stderr, "# %s\n", cause);
		free(cause);
		return -1;
	}
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	path = xprintf("%s/test.conf", tmpdir);
	if ((f = fopen(path, "w")) == NULL) {
		free(path);
		return -1;
	}
	fputs(conf_text, f);
	fclose(f);
	ov[0] = xprintf("general.templates=%s/templates", test_top());
	ov[1] = xprintf("general.database=%s/unused.db", tmpdir);
	conf = test_conf_load(path, ov, 2);
	free(ov[0]);
	free(ov[1]);
	free(path);
	return conf != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	conf_free(conf);
	test_remove_dir(tmpdir);
	return 0;
}

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

/* --- helpers ------------------------------------------------------------------ */

static void
sql(const char *q)
{
	char	*cause = NULL;

	if (store_exec_sql(s, q, &cause) == -1) {
		print_error("%s: %s\n", q, cause);
		free(cause);
		fail();
	}
}

/* The first column of q's first row as a number (-1 for none or NULL). */
static int64_t
num(const char *q)
{
	char	*v = NULL, *cause = NULL;
	int64_t	 n = -1;
	int	 rc;

	rc = store_query_text(s, q, &v, &cause);
	if (rc == -1) {
		print_error("%s: %s\n", q, cause);
		free(cause);
		fail();
	}
	if (rc == 1 && v != NULL)
		n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static int64_t
numf(const char *fmt, int64_t a)
{
	char	*q = xprintf(fmt, (long long)a);
	int64_t	 n = num(q);

	free(q);
	return n;
}

/* A member of list: status and mode; the subscriber's id. */
static int64_t
member(const char *email, const char *list, enum store_member_status st,
    const char *mode)
{
	char	*cause = NULL;
	int64_t	 id;

	assert_int_not_equal(store_subscriber_add(s, email, "Name", NULL, &id,
	    &cause), -1);
	if (st == STORE_MEMBER_UNSUBSCRIBED || st == STORE_MEMBER_BOUNCED) {
		assert_int_equal(store_member_add(s, id, list,
		    STORE_MEMBER_CONFIRMED, mode, "staff", "test", &cause), 1);
		assert_int_equal(store_member_set_status(s, id, list, st,
		    NULL, NULL, &cause), 1);
	} else
		assert_int_equal(store_member_add(s, id, list, st, mode,
		    "staff", "test", &cause), 1);
	return id;
}

static int64_t
campaign(const char *list)
{
	struct store_campaign	 c;
	char			*cause = NULL;
	int64_t			 id;

	memset(&c, 0, sizeof c);
	c.list = (char *)list;
	c.subject = (char *)"Hello {{subscriber.name}}";
	c.body = (char *)"Dear {{subscriber.name}},\n\nNews.\n";
	assert_int_equal(store_campaign_add(s, &c, T0 - 100, &id, &cause), 0);
	return id;
}

static enum store_campaign_status
status_of(int64_t id)
{
	struct store_campaign		c;
	enum store_campaign_status	st;
	char				*cause = NULL;

	assert_int_equal(store_campaign_get(s, id, &c, &cause), 1);
	st = c.status;
	store_campaign_clear(&c);
	return st;
}

static void
set_status(int64_t id, enum store_campaign_status st)
{
	char	*q;

	q = xprintf("UPDATE campaigns SET status = '%s' WHERE id = %lld",
	    store_campaign_status_name(st), (long long)id);
	sql(q);
	free(q);
}

#define assert_status(id, want) do {					\
	enum store_campaign_status got_ = status_of(id);		\
	if (got_ != (want)) {						\
		print_error("campaign %lld: got %s, want %s\n",		\
		    (long long)(id), store_campaign_status_name(got_),	\
		    store_campaign_status_name(want));			\
		fail();							\
	}								\
} while (0)

/* --- the state machine ------------------------------------------------------ */

static void
test_can_move(void **state)
{
	/* want[from][to], in enum order: draft scheduled sending paused sent
	 * cancelled. */
	static const int want[STORE_CAMPAIGN_NSTATUSES]
	    [STORE_CAMPAIGN_NSTATUSES] = {
		/* draft */	{ 0, 1, 1, 0, 0, 1 },
		/* scheduled */	{ 1, 0, 1, 0, 0, 1 },
		/* sending */	{ 0, 0, 0, 1, 1, 1 },
		/* paused */	{ 0, 0, 1, 0, 0, 1 },
		/* sent */	{ 0, 0, 1, 0, 0, 0 },
		/* cancelled */	{ 0, 0, 0, 0, 0, 0 },
	};
	int	from, to, got, bad = 0;

	(void)state;
	for (from = 0; from < STORE_CAMPAIGN_NSTATUSES; from++) {
		for (to = 0; to < STORE_CAMPAIGN_NSTATUSES; to++) {
			got = campaign_can_move(from, to);
			if (got != want[from][to]) {
				print_error("%s -> %s: got %d, want %d\n",
				    store_campaign_status_name(from),
				    store_campaign_status_name(to), got,
				    want[from][to]);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_enter_state(void **state)
{
	char	*cause = NULL;
	int64_t	 id;

	(void)state;
	id = campaign("news");
	/* Moved, with what goes with it, and logged in the audit log. */
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_DRAFT,
	    STORE_CAMPAIGN_SCHEDULED, T0 + 60, NULL, T0, &cause), 1);
	assert_status(id, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(numf("SELECT scheduled_at FROM campaigns WHERE id = "
	    "%lld", id), T0 + 60);
	assert_int_equal(numf("SELECT count(*) FROM events WHERE kind = "
	    "'campaign-scheduled' AND subject = '%lld'", id), 1);
	/* Not in from: nothing happens. */
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_DRAFT,
	    STORE_CAMPAIGN_SENDING, 0, NULL, T0, &cause), 0);
	assert_status(id, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_SCHEDULED,
	    STORE_CAMPAIGN_SENDING, 0, NULL, T0 + 61, &cause), 1);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id = "
	    "%lld", id), T0 + 61);
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_SENDING,
	    STORE_CAMPAIGN_PAUSED, 0, "too many failures", T0 + 62, &cause),
	    1);
	assert_int_equal(num("SELECT paused_reason = 'too many failures'"
	    " FROM campaigns"), 1);
	/* Resuming keeps started_at, clears the reason. */
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_PAUSED,
	    STORE_CAMPAIGN_SENDING, 0, NULL, T0 + 63, &cause), 1);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id = "
	    "%lld", id), T0 + 61);
	assert_int_equal(num("SELECT paused_reason IS NULL FROM campaigns"),
	    1);
	assert_int_equal(campaign_enter_state(s, id, STORE_CAMPAIGN_SENDING,
	    STORE_CAMPAIGN_SENT, 0, NULL, T0 + 64, &cause), 1);
	assert_int_equal(numf("SELECT finished_at FROM campaigns WHERE id = "
	    "%lld", id), T0 + 64);
}

/* --- operations from every status ------------------------------------------ */

enum op {
	OP_SEND, OP_SCHEDULE, OP_PAUSE, OP_RESUME, OP_CANCEL, OP_RETRY,
	OP_NOW, OP_UNSCHEDULE, OP_EDIT, OP_DELETE
};
static const char *const op_names[] = {
	"send", "send --at", "pause", "resume", "cancel", "retry-failed",
	"send --now", "unschedule", "edit", "delete"
};

struct op_case {
	enum op				op;
	enum store_campaign_status	from;
	int				ok;
	enum store_campaign_status	after;
};

static const struct op_case op_cases[] = {
	{ OP_SEND, STORE_CAMPAIGN_DRAFT, 1, STORE_CAMPAIGN_SENDING },
	{ OP_SEND, STORE_CAMPAIGN_SCHEDULED, 0, 0 },
	{ OP_SEND, STORE_CAMPAIGN_SENDING, 0, 0 },
	{ OP_SEND, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_SEND, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_SEND, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_SCHEDULE, STORE_CAMPAIGN_DRAFT, 1, STORE_CAMPAIGN_SCHEDULED },
	{ OP_SCHEDULE, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_PAUSE, STORE_CAMPAIGN_DRAFT, 0, 0 },
	{ OP_PAUSE, STORE_CAMPAIGN_SCHEDULED, 0, 0 },
	{ OP_PAUSE, STORE_CAMPAIGN_SENDING, 1, STORE_CAMPAIGN_PAUSED },
	{ OP_PAUSE, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_PAUSE, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_PAUSE, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_RESUME, STORE_CAMPAIGN_DRAFT, 0, 0 },
	{ OP_RESUME, STORE_CAMPAIGN_SENDING, 0, 0 },
	/* A row is queued below: resuming goes on sending. */
	{ OP_RESUME, STORE_CAMPAIGN_PAUSED, 1, STORE_CAMPAIGN_SENDING },
	{ OP_RESUME, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_RESUME, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_CANCEL, STORE_CAMPAIGN_DRAFT, 1, STORE_CAMPAIGN_CANCELLED },
	{ OP_CANCEL, STORE_CAMPAIGN_SCHEDULED, 1, STORE_CAMPAIGN_CANCELLED },
	{ OP_CANCEL, STORE_CAMPAIGN_SENDING, 1, STORE_CAMPAIGN_CANCELLED },
	{ OP_CANCEL, STORE_CAMPAIGN_PAUSED, 1, STORE_CAMPAIGN_CANCELLED },
	{ OP_CANCEL, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_CANCEL, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_RETRY, STORE_CAMPAIGN_DRAFT, 0, 0 },
	{ OP_RETRY, STORE_CAMPAIGN_SCHEDULED, 0, 0 },
	{ OP_RETRY, STORE_CAMPAIGN_SENDING, 1, STORE_CAMPAIGN_SENDING },
	{ OP_RETRY, STORE_CAMPAIGN_PAUSED, 1, STORE_CAMPAIGN_PAUSED },
	/* No failed row: nothing to retry, so it stays sent. */
	{ OP_RETRY, STORE_CAMPAIGN_SENT, 1, STORE_CAMPAIGN_SENT },
	{ OP_RETRY, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_NOW, STORE_CAMPAIGN_DRAFT, 1, STORE_CAMPAIGN_SENDING },
	{ OP_NOW, STORE_CAMPAIGN_SCHEDULED, 1, STORE_CAMPAIGN_SENDING },
	{ OP_NOW, STORE_CAMPAIGN_SENDING, 0, 0 },
	{ OP_NOW, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_NOW, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_NOW, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_DRAFT, 0, 0 },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_SCHEDULED, 1, STORE_CAMPAIGN_DRAFT },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_SENDING, 0, 0 },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_UNSCHEDULE, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_EDIT, STORE_CAMPAIGN_DRAFT, 1, STORE_CAMPAIGN_DRAFT },
	{ OP_EDIT, STORE_CAMPAIGN_SCHEDULED, 0, 0 },
	{ OP_EDIT, STORE_CAMPAIGN_SENDING, 0, 0 },
	{ OP_EDIT, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_EDIT, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_EDIT, STORE_CAMPAIGN_CANCELLED, 0, 0 },
	{ OP_DELETE, STORE_CAMPAIGN_SCHEDULED, 0, 0 },
	{ OP_DELETE, STORE_CAMPAIGN_SENDING, 0, 0 },
	{ OP_DELETE, STORE_CAMPAIGN_PAUSED, 0, 0 },
	{ OP_DELETE, STORE_CAMPAIGN_SENT, 0, 0 },
	{ OP_DELETE, STORE_CAMPAIGN_CANCELLED, 0, 0 },
};

static void
test_operations(void **state)
{
	const struct op_case		*oc;
	struct campaign_sent		 r;
	struct campaign_retried		 rt;
	enum campaign_fail		 fail;
	enum store_campaign_status	 after;
	char				*cause, *q;
	int64_t				 id, n, sub;
	size_t				 i;
	int				 rc, bad = 0;

	(void)state;
	sub = member("ann@example.org", "news", STORE_MEMBER_CONFIRMED,
	    "immediate");
	for (i = 0; i < sizeof op_cases / sizeof op_cases[0]; i++) {
		oc = &op_cases[i];
		id = campaign("news");
		set_status(id, oc->from);
		if (oc->from != STORE_CAMPAIGN_DRAFT) {
			/* One queued row, as a send would have left. */
			q = xprintf("INSERT INTO outbox (kind, campaign_id,"
			    " subscriber_id, mail_from, rcpt_to, created_at,"
			    " updated_at) VALUES ('campaign', %lld, %lld,"
			    " 'b@example.org', 'ann@example.org', 0, 0)",
			    (long long)id, (long long)sub);
			sql(q);
			free(q);
		}
		cause = NULL;
		fail = CAMPAIGN_OK;
		switch (oc->op) {
		case OP_SEND:
		case OP_SCHEDULE:
			rc = campaign_send(conf, s, id, oc->op == OP_SEND ? 0 :
			    T0 + 3600, T0, &r, &fail, &cause);
			break;
		case OP_PAUSE:
			rc = campaign_pause(s, id, NULL, T0, &fail, &cause);
			break;
		case OP_RESUME:
			rc = campaign_resume(s, id, T0, &after, &fail, &cause);
			break;
		case OP_CANCEL:
			rc = campaign_cancel(s, id, T0, &n, &fail, &cause);
			break;
		case OP_RETRY:
			rc = campaign_retry_failed(s, id, 0, T0, &rt, &fail,
			    &cause);
			break;
		case OP_NOW:
			rc = campaign_send_now(conf, s, id, T0, &r, &fail,
			    &cause);
			break;
		case OP_UNSCHEDULE:
			rc = campaign_unschedule(s, id, T0, &n, &fail, &cause);
			break;
		case OP_EDIT:
			rc = campaign_edit(conf, s, id, "Changed", NULL, NULL,
			    "test", T0, &fail, &cause);
			break;
		default:
			rc = campaign_delete(s, id, "test", T0, &fail, &cause);
			break;
		}
		if (oc->ok && rc != 0) {
			print_error("%s from %s: got failure \"%s\", want ok\n",
			    op_names[oc->op],
			    store_campaign_status_name(oc->from), cause);
			bad++;
		} else if (!oc->ok && (rc != -1 ||
		    fail != CAMPAIGN_FAIL_STATE)) {
			print_error("%s from %s: got rc %d fail %d, want "
			    "refused (CAMPAIGN_FAIL_STATE)\n", op_names[oc->op],
			    store_campaign_status_name(oc->from), rc,
			    (int)fail);
			bad++;
		} else if (!oc->ok && (cause == NULL ||
		    strstr(cause, store_campaign_status_name(oc->from)) ==
		    NULL)) {
			print_error("%s from %s: the refusal \"%s\" does not "
			    "say the status\n", op_names[oc->op],
			    store_campaign_status_name(oc->from),
			    cause != NULL ? cause : "(null)");
			bad++;
		}
		if (status_of(id) != (oc->ok ? oc->after : oc->from)) {
			print_error("%s from %s: got status %s, want %s\n",
			    op_names[oc->op],
			    store_campaign_status_name(oc->from),
			    store_campaign_status_name(status_of(id)),
			    store_campaign_status_name(oc->ok ? oc->after :
			    oc->from));
			bad++;
		}
		if (store_in_transaction(s)) {
			print_error("%s from %s: a transaction left open\n",
			    op_names[oc->op],
			    store_campaign_status_name(oc->from));
			bad++;
		}
		free(cause);
	}
	assert_int_equal(bad, 0);
}

static void
test_missing(void **state)
{
	enum campaign_fail	fail;
	struct campaign_sent	r;
	char			*cause = NULL;

	(void)state;
	assert_int_equal(campaign_send(conf, s, 42, 0, T0, &r, &fail, &cause),
	    -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	assert_str_eq_msg("no such campaign", cause, "no campaign 42");
	free(cause);
}

/* --- send -------------------------------------------------------------------- */

static void
test_send_queues(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id, had;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	had = member("c@example.org", "news", STORE_MEMBER_CONFIRMED,
	    "immediate");
	member("d@example.org", "news", STORE_MEMBER_CONFIRMED, "digest");
	member("e@example.org", "news", STORE_MEMBER_PENDING, "immediate");
	member("f@example.org", "news", STORE_MEMBER_UNSUBSCRIBED,
	    "immediate");
	member("g@example.org", "news", STORE_MEMBER_BOUNCED, "immediate");
	member("h@example.org", "plain", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign("news");
	/* c had it in a digest already (digest.h's contract, point 2). */
	assert_int_equal(store_digest_item_add(s, had, id, "news", "2026-11",
	    0, T0, &cause), 1);

	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	assert_int_equal(r.status, STORE_CAMPAIGN_SENDING);
	assert_int_equal(r.queued, 2);
	assert_int_equal(r.digest, 1);
	assert_int_equal(num("SELECT count(*) FROM outbox WHERE kind ="
	    " 'campaign' AND state = 'queued' AND rcpt_to IN"
	    " ('a@example.org', 'b@example.org') AND next_attempt_at = "
	    "1795000000 AND mail_from = 'bounces@example.org'"), 2);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld", id), 2);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id = "
	    "%lld", id), T0);
	assert_false(store_in_transaction(s));
}

static void
test_send_all_modes(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	/* A list without digests: digest-mode members are sent it too. */
	member("a@example.org", "plain", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "plain", STORE_MEMBER_CONFIRMED, "digest");
	member("c@example.org", "plain", STORE_MEMBER_PENDING, "digest");
	id = campaign("plain");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	assert_int_equal(r.queued, 2);
	assert_int_equal(r.digest, 0);
}

static void
test_send_nobody(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	member("d@example.org", "news", STORE_MEMBER_CONFIRMED, "digest");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	assert_int_equal(r.queued, 0);
	assert_int_equal(r.status, STORE_CAMPAIGN_SENT);
	assert_status(id, STORE_CAMPAIGN_SENT);
	/* Started and finished, so that digests can place it. */
	assert_int_equal(numf("SELECT started_at = finished_at FROM campaigns"
	    " WHERE id = %lld", id), 1);
}

static void
test_send_unknown_list(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	id = campaign("gone");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	assert_non_null(strstr(cause, "\"gone\""));
	free(cause);
	assert_status(id, STORE_CAMPAIGN_DRAFT);
	assert_false(store_in_transaction(s));
}

/* --- what a campaign may hold --------------------------------------------- */

/* A member with a name and attributes (JSON); the subscriber's id. */
static int64_t
member_attrs(const char *email, const char *name, const char *attrs,
    const char *list, enum store_member_status st)
{
	char	*cause = NULL;
	int64_t	 id;

	assert_int_not_equal(store_subscriber_add(s, email, name, attrs, &id,
	    &cause), -1);
	assert_int_equal(store_member_add(s, id, list,
	    st == STORE_MEMBER_PENDING ? st : STORE_MEMBER_CONFIRMED,
	    "immediate", "staff", "test", &cause), 1);
	if (st != STORE_MEMBER_PENDING && st != STORE_MEMBER_CONFIRMED)
		assert_int_equal(store_member_set_status(s, id, list, st,
		    NULL, NULL, &cause), 1);
	return id;
}

static int64_t
campaign_with(const char *list, const char *subject, const char *body)
{
	struct store_campaign	 c;
	char			*cause = NULL;
	int64_t			 id;

	memset(&c, 0, sizeof c);
	c.list = (char *)list;
	c.subject = (char *)subject;
	c.body = (char *)body;
	assert_int_equal(store_campaign_add(s, &c, T0 - 100, &id, &cause), 0);
	return id;
}

/* The list "news" of test_check_fields and test_field_gaps. */
static void
fields_members(void)
{
	member_attrs("ann@example.org", "Ann",
	    "{\"Organisation\": \"Black Country ICB\"}", "news",
	    STORE_MEMBER_CONFIRMED);
	member_attrs("bob@example.org", "Bob", "{\"ics\": \"BSol\"}", "news",
	    STORE_MEMBER_PENDING);
	member_attrs("cat@example.org", "Cat", "{\"role\": \"analyst\"}",
	    "news", STORE_MEMBER_UNSUBSCRIBED);
	member_attrs("dan@example.org", "Dan", "{\"team\": \"\", "
	    "\"organisation\": null}", "news", STORE_MEMBER_CONFIRMED);
	member_attrs("eve@example.org", NULL, NULL, "news",
	    STORE_MEMBER_CONFIRMED);
	member_attrs("fay@example.org", "Fay", "{\"region\": \"West\"}",
	    "plain", STORE_MEMBER_CONFIRMED);
}

static void
test_check_fields(void **state)
{
	static const struct {
		const char	*body;
		const char	*want;	/* "" or the first problem's start */
	} cases[] = {
		{ "{{subscriber.organisation}} {{subscriber.ORGANISATION}}\n",
		  "" },
		{ "{{subscriber.ics}}\n", "" },	/* a pending member's */
		{ "{{subscriber.role}}\n",		/* unsubscribed: no */
		  "body line 1: {{subscriber.role}} is not a merge field" },
		{ "{{subscriber.team}}\n",		/* only "": no */
		  "body line 1: {{subscriber.team}} is not a merge field" },
		{ "{{subscriber.region}}\n",		/* another list's */
		  "body line 1: {{subscriber.region}} is not" },
		{ "x\n{{subscriber.organization}}\n",
		  "body line 2: {{subscriber.organization}} is not a merge "
		  "field: it is not a standard field, and no member of list "
		  "\"news\" has a value for \"organization\"; did you mean "
		  "{{subscriber.Organisation}}?" },
		{ "![logo](logo.png)\n",
		  "body line 1: the image \"logo.png\"" },
	};
	struct fields_report	 r;
	enum campaign_fail	 fail;
	struct store_campaign	 c;
	char			*cause = NULL;
	const char		*got;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	fields_members();
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&c, 0, sizeof c);
		c.list = (char *)"news";
		c.subject = (char *)"Hello";
		c.body = (char *)cases[i].body;
		if (campaign_check(conf, s, &c, &r, &fail, &cause) == -1)
			fail_msg("case %zu: %s", i, cause);
		got = r.nproblems > 0 ? r.problems[0].message : "";
		if (*cases[i].want == '\0' ? *got != '\0' :
		    strncmp(got, cases[i].want, strlen(cases[i].want)) != 0) {
			print_error("case %zu: got \"%s\",\n  want \"%s\"\n",
			    i, got, cases[i].want);
			failed++;
		}
		fields_report_clear(&r);
	}
	assert_int_equal(failed, 0);

	/* What newsletter_check() finds comes first, as an error. */
	memset(&c, 0, sizeof c);
	c.list = (char *)"news";
	c.subject = (char *)"Hello";
	c.body = (char *)"x\n";
	c.template = (char *)"nosuch";
	assert_int_equal(campaign_check(conf, s, &c, &r, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	assert_non_null(strstr(cause, "nosuch.html"));
	free(cause);
	assert_int_equal(r.nproblems, 0);
}

static void
test_field_gaps(void **state)
{
	struct fields_report	 r;
	enum campaign_fail	 fail;
	struct store_campaign	 c;
	char			*cause = NULL;

	(void)state;
	fields_members();
	memset(&c, 0, sizeof c);
	c.list = (char *)"news";
	c.subject = (char *)"For {{subscriber.name}}";
	c.body = (char *)"{{subscriber.organisation}} {{subscriber.ics}}\n";
	assert_int_equal(campaign_check(conf, s, &c, &r, &fail, &cause), 0);
	assert_int_equal(r.nproblems, 0);
	assert_int_equal(r.nuses, 3);
	assert_int_equal(campaign_field_gaps(s, "news", &r, &cause), 0);
	/* Confirmed: ann, dan and eve.  eve has no name. */
	assert_string_equal(r.uses[0].field, "subscriber.name");
	assert_int_equal(r.uses[0].recipients, 3);
	assert_int_equal(r.uses[0].lacking, 1);
	/* ann's "Organisation" counts; dan's is null, eve has none. */
	assert_string_equal(r.uses[1].field, "subscriber.organisation");
	assert_int_equal(r.uses[1].lacking, 2);
	/* Only bob has it, and he is pending: every recipient lacks it. */
	assert_string_equal(r.uses[2].field, "subscriber.ics");
	assert_int_equal(r.uses[2].lacking, 3);
	fields_report_clear(&r);
}

static void
test_send_refuses_fields(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id, row;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign_with("news", "Hello {{subscriber.name}}",
	    "Dear {{subscriber.nmae}},\n\n![logo](logo.png)\n");

	/* Send: refused, said why, nothing moved or queued. */
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	if (strstr(cause, "body line 1: {{subscriber.nmae}}") == NULL ||
	    strstr(cause, "did you mean {{subscriber.name}}?") == NULL ||
	    strstr(cause, "; body line 3: the image \"logo.png\"") == NULL)
		fail_msg("got \"%s\"", cause);
	free(cause);
	assert_status(id, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(num("SELECT count(*) FROM outbox"), 0);
	assert_int_equal(num("SELECT count(*) FROM events WHERE kind LIKE"
	    " 'campaign-%'"), 0);
	assert_false(store_in_transaction(s));
	/* Scheduling is sending too. */
	assert_int_equal(campaign_send(conf, s, id, T0 + 3600, T0, &r, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	free(cause);
	assert_status(id, STORE_CAMPAIGN_DRAFT);

	/* A test copy of the draft: refused as well. */
	assert_int_equal(campaign_test(conf, s, key, id, "staff@example.org",
	    T0, &row, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	assert_non_null(strstr(cause, "{{subscriber.nmae}}"));
	free(cause);
	assert_int_equal(num("SELECT count(*) FROM outbox"), 0);

	/* Once it has gone out it is tested as it went. */
	set_status(id, STORE_CAMPAIGN_SENT);
	assert_int_equal(campaign_test(conf, s, key, id, "staff@example.org",
	    T0, &row, &fail, &cause), 0);
	assert_int_equal(num("SELECT count(*) FROM outbox WHERE kind = "
	    "'test'"), 1);
}

/* --- the scheduler ---------------------------------------------------------- */

static void
test_scheduler(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 early, late, at = T0 + 3600;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	early = campaign("news");
	late = campaign("news");
	assert_int_equal(campaign_send(conf, s, early, at, T0, &r, &fail,
	    &cause), 0);
	assert_int_equal(r.status, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(r.queued, 2);
	assert_int_equal(campaign_send(conf, s, late, at + 7200, T0, &r, &fail,
	    &cause), 0);
	/* Queued now, due at the time; not started. */
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND next_attempt_at = 1795003600", early), 2);
	assert_int_equal(numf("SELECT started_at IS NULL FROM campaigns WHERE"
	    " id = %lld", early), 1);

	/* The clock moves: nothing a second before, early at its time. */
	assert_int_equal(campaign_start_due(s, at - 1, &cause), 0);
	assert_status(early, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(campaign_start_due(s, at, &cause), 1);
	assert_status(early, STORE_CAMPAIGN_SENDING);
	assert_status(late, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id = "
	    "%lld", early), at);
	assert_int_equal(campaign_start_due(s, at + 10, &cause), 0);
	assert_false(store_in_transaction(s));

	/* Inside the delivery engine's transaction, and late: now. */
	assert_int_equal(store_begin(s, &cause), 0);
	assert_int_equal(campaign_start_due(s, at + 9000, &cause), 1);
	assert_true(store_in_transaction(s));
	assert_int_equal(store_commit(s, &cause), 0);
	assert_status(late, STORE_CAMPAIGN_SENDING);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id = "
	    "%lld", late), at + 9000);
}

static void
test_scheduler_nobody(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, T0 + 60, T0, &r, &fail,
	    &cause), 0);
	assert_status(id, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(campaign_start_due(s, T0 + 60, &cause), 1);
	assert_status(id, STORE_CAMPAIGN_SENT);
}

static void
test_scheduler_forgotten(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	/*
	 * Its one recipient is erased before their turn: the row stays,
	 * skipped and counted, with nothing left of the address.
	 */
	assert_int_equal(store_subscriber_forget(s, "a@example.org", &cause),
	    1);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'skipped' AND last_reply = 'forgotten' AND"
	    " rcpt_to = '(forgotten)' AND subscriber_id IS NULL", id), 1);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND instr(rcpt_to || coalesce(last_reply, ''),"
	    " 'a@example.org') > 0", id), 0);
	assert_status(id, STORE_CAMPAIGN_SENDING);
	assert_int_equal(campaign_start_due(s, T0 + 1, &cause), 0);
	assert_status(id, STORE_CAMPAIGN_SENT);
}

/* --- cancel, retry, resume ---------------------------------------------------- */

static void
test_cancel_and_retry(void **state)
{
	struct campaign_sent		 r;
	struct campaign_retried		 rt;
	enum campaign_fail		 fail;
	char				*cause = NULL, *q;
	int64_t				 id, n;
	int				 i;

	(void)state;
	for (i = 0; i < 6; i++) {
		q = xprintf("m%d@example.org", i);
		member(q, "news", STORE_MEMBER_CONFIRMED, "immediate");
		free(q);
	}
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	/* As the engine would leave them: 2 sent, 2 failed, 1 sending, 1
	 * deferred. */
	q = xprintf("UPDATE outbox SET state = CASE rcpt_to"
	    " WHEN 'm0@example.org' THEN 'sent' WHEN 'm1@example.org' THEN"
	    " 'sent' WHEN 'm2@example.org' THEN 'failed' WHEN"
	    " 'm3@example.org' THEN 'failed' WHEN 'm4@example.org' THEN"
	    " 'sending' ELSE 'deferred' END, attempts = 3,"
	    " last_code = 451, last_reply = 'gave up after 3 attempts over"
	    " 3d 0h (smtp.max_retry_age): 451 later' WHERE campaign_id ="
	    " %lld", (long long)id);
	sql(q);
	free(q);

	/* retry-failed while sending: the 2 failed, queued, attempts 0. */
	assert_int_equal(campaign_retry_failed(s, id, 0, T0 + 5, &rt, &fail,
	    &cause), 0);
	assert_int_equal(rt.requeued, 2);
	assert_int_equal(rt.temporary, 2);
	assert_int_equal(rt.after, STORE_CAMPAIGN_SENDING);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'queued' AND attempts = 0 AND next_attempt_at ="
	    " 1795000005", id), 2);

	/* cancel: queued and deferred skipped (3), sending left alone. */
	assert_int_equal(campaign_cancel(s, id, T0 + 6, &n, &fail, &cause), 0);
	assert_int_equal(n, 3);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'skipped' AND last_reply = 'campaign"
	    " cancelled'", id), 3);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'sending'", id), 1);
	assert_int_equal(numf("SELECT finished_at FROM campaigns WHERE id = "
	    "%lld", id), T0 + 6);
}

static void
test_retry_sent(void **state)
{
	struct campaign_sent		 r;
	struct campaign_retried		 rt;
	enum campaign_fail		 fail;
	char				*cause = NULL, *q;
	int64_t				 id;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	q = xprintf("UPDATE outbox SET state = CASE rcpt_to WHEN"
	    " 'a@example.org' THEN 'sent' ELSE 'failed' END WHERE campaign_id"
	    " = %lld; UPDATE campaigns SET status = 'sent', finished_at = 5"
	    " WHERE id = %lld", (long long)id, (long long)id);
	sql(q);
	free(q);
	/* No code, no give-up: not temporary, so only when asked. */
	assert_int_equal(campaign_retry_failed(s, id, 0, T0 + 5, &rt, &fail,
	    &cause), 0);
	assert_int_equal(rt.requeued, 0);
	assert_int_equal(rt.other, 1);
	assert_int_equal(rt.after, STORE_CAMPAIGN_SENT);
	assert_status(id, STORE_CAMPAIGN_SENT);
	assert_int_equal(campaign_retry_failed(s, id, 1, T0 + 5, &rt, &fail,
	    &cause), 0);
	assert_int_equal(rt.requeued, 1);
	assert_int_equal(rt.after, STORE_CAMPAIGN_SENDING);
	assert_status(id, STORE_CAMPAIGN_SENDING);
	assert_int_equal(numf("SELECT finished_at IS NULL AND started_at ="
	    " 1795000000 FROM campaigns WHERE id = %lld", id), 1);
}

static void
test_resume_nothing_left(void **state)
{
	struct campaign_sent		 r;
	enum campaign_fail		 fail;
	enum store_campaign_status	 after;
	char				*cause = NULL, *q;
	int64_t				 id;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, 0, T0, &r, &fail, &cause),
	    0);
	assert_int_equal(campaign_pause(s, id, NULL, T0, &fail, &cause), 0);
	/* Its last row finished while it was paused. */
	q = xprintf("UPDATE outbox SET state = 'sent' WHERE campaign_id ="
	    " %lld", (long long)id);
	sql(q);
	free(q);
	assert_int_equal(campaign_resume(s, id, T0 + 1, &after, &fail,
	    &cause), 0);
	assert_int_equal(after, STORE_CAMPAIGN_SENT);
	assert_status(id, STORE_CAMPAIGN_SENT);
}

/* --- test copies -------------------------------------------------------------- */

static void
test_test_copy(void **state)
{
	enum campaign_fail	 fail;
	char			*cause = NULL, *msg = NULL, *q;
	int64_t			 id, row, sub;

	(void)state;
	sub = member("ann@example.org", "news", STORE_MEMBER_CONFIRMED,
	    "immediate");
	id = campaign("news");
	if (campaign_test(conf, s, key, id, "ann@example.org", T0, &row,
	    &fail, &cause) == -1) {
		print_error("campaign_test: %s\n", cause);
		fail();
	}
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE id = %lld"
	    " AND kind = 'test' AND priority = 10 AND state = 'queued'"
	    " AND rcpt_to = 'ann@example.org' AND campaign_id IS NULL", row),
	    1);
	assert_int_equal(numf("SELECT subscriber_id FROM outbox WHERE id ="
	    " %lld", row), sub);
	q = xprintf("SELECT CAST(body AS TEXT) FROM outbox JOIN outbox_bodies"
	    " b ON b.id = body_id WHERE outbox.id = %lld", (long long)row);
	assert_int_equal(store_query_text(s, q, &msg, &cause), 1);
	free(q);
	assert_non_null(strstr(msg, "Subject: [TEST] Hello Name"));
	/* Its links are a test copy's: nobody's subscription. */
	assert_non_null(strstr(msg, "<https://example.org/test-unsubscribe/"));
	assert_null(strstr(msg, "https://example.org/unsubscribe/"));
	free(msg);
	assert_int_equal(numf("SELECT tested_at FROM campaigns WHERE id ="
	    " %lld", id), T0);
	assert_false(store_in_transaction(s));
	/* The campaign is left alone. */
	assert_status(id, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld", id), 0);

	/* Not a subscriber: the sample's name, at that address. */
	assert_int_equal(campaign_test(conf, s, key, id, "staff@example.org",
	    T0, &row, &fail, &cause), 0);
	assert_int_equal(numf("SELECT subscriber_id IS NULL FROM outbox WHERE"
	    " id = %lld", row), 1);
	assert_int_equal(campaign_test(conf, s, key, 999, "staff@example.org",
	    T0, &row, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	free(cause);
}

/* --- a send is never a surprise ------------------------------------------ */

static void
test_send_past(void **state)
{
	static const struct {
		int64_t	at;		/* from T0 */
		int	ok;
	} cases[] = {
		{ -60, 0 }, { -1, 0 }, { -86400 * 365, 0 }, { 0, 1 }, { 60, 1 },
	};
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause, now[64];
	int64_t			 id;
	size_t			 i;
	int			 rc;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	period_datetime((time_t)T0, now, sizeof now);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		id = campaign("news");
		cause = NULL;
		rc = campaign_send(conf, s, id, T0 + cases[i].at, T0, &r,
		    &fail, &cause);
		if (cases[i].ok) {
			if (rc != 0)
				fail_msg("at now%+lld: got \"%s\", want "
				    "scheduled", (long long)cases[i].at,
				    cause);
			assert_status(id, STORE_CAMPAIGN_SCHEDULED);
			continue;
		}
		if (rc != -1 || fail != CAMPAIGN_FAIL_PAST)
			fail_msg("at now%+lld: got rc %d fail %d, want "
			    "CAMPAIGN_FAIL_PAST", (long long)cases[i].at, rc,
			    (int)fail);
		/* It says so, and what the time is now, in the zone. */
		if (strstr(cause, "has passed") == NULL ||
		    strstr(cause, now) == NULL ||
		    strstr(cause, "Europe/London") == NULL)
			fail_msg("at now%+lld: got \"%s\", want \"has passed\""
			    " and \"it is now %s (Europe/London\"",
			    (long long)cases[i].at, cause, now);
		free(cause);
		assert_status(id, STORE_CAMPAIGN_DRAFT);
		assert_int_equal(numf("SELECT count(*) FROM outbox WHERE"
		    " campaign_id = %lld", id), 0);
		assert_false(store_in_transaction(s));
	}
}

static void
test_plan(void **state)
{
	struct campaign_plan	 p;
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id, row, a;

	(void)state;
	a = member("a@example.org", "news", STORE_MEMBER_CONFIRMED,
	    "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("c@example.org", "news", STORE_MEMBER_CONFIRMED, "digest");
	member("d@example.org", "news", STORE_MEMBER_PENDING, "immediate");
	member("e@example.org", "news", STORE_MEMBER_UNSUBSCRIBED,
	    "immediate");
	id = campaign("news");

	/* What a send would do, and nothing done. */
	assert_int_equal(campaign_plan(conf, s, id, 0, 0, T0, &p, &fail,
	    &cause), 0);
	assert_int_equal(p.status, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(p.recipients, 2);
	assert_int_equal(p.digest, 1);
	assert_int_equal(p.tested_at, 0);
	assert_int_equal(p.at, 0);
	assert_str_eq_msg("subject", p.subject, "Hello {{subscriber.name}}");
	assert_str_eq_msg("list name", p.list_name, "News");
	campaign_plan_clear(&p);
	assert_status(id, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld", id), 0);
	assert_false(store_in_transaction(s));

	/* Refused as the send would be. */
	assert_int_equal(campaign_plan(conf, s, id, T0 - 60, 0, T0, &p, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_PAST);
	free(cause);
	cause = NULL;
	assert_int_equal(campaign_plan(conf, s, 999, 0, 0, T0, &p, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	free(cause);
	cause = NULL;

	/* A test copy counts until the next edit. */
	assert_int_equal(campaign_test(conf, s, key, id, "staff@example.org",
	    T0 + 1, &row, &fail, &cause), 0);
	assert_int_equal(campaign_plan(conf, s, id, 0, 0, T0 + 2, &p, &fail,
	    &cause), 0);
	assert_int_equal(p.tested_at, T0 + 1);
	campaign_plan_clear(&p);
	assert_int_equal(campaign_edit(conf, s, id, NULL, "New body.\n", NULL,
	    "test", T0 + 3, &fail, &cause), 0);
	assert_int_equal(campaign_plan(conf, s, id, 0, 0, T0 + 4, &p, &fail,
	    &cause), 0);
	assert_int_equal(p.tested_at, 0);
	campaign_plan_clear(&p);

	/* The send queues the number the plan gave. */
	assert_int_equal(campaign_send(conf, s, id, T0 + 3600, T0 + 5, &r,
	    &fail, &cause), 0);
	assert_int_equal(r.queued, 2);

	/* Scheduled: only "now" is a send; its count is who is still on. */
	assert_int_equal(campaign_plan(conf, s, id, 0, 0, T0 + 6, &p, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_STATE);
	assert_non_null(strstr(cause, "scheduled for"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_member_set_status(s, a, "news",
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause), 1);
	assert_int_equal(campaign_plan(conf, s, id, 0, 1, T0 + 7, &p, &fail,
	    &cause), 0);
	assert_int_equal(p.status, STORE_CAMPAIGN_SCHEDULED);
	assert_int_equal(p.recipients, 1);
	assert_int_equal(p.scheduled_at, T0 + 3600);
	campaign_plan_clear(&p);
	assert_status(id, STORE_CAMPAIGN_SCHEDULED);
}

static void
test_unschedule(void **state)
{
	struct campaign_sent		 r;
	struct store_campaign_counts	 cc;
	enum campaign_fail		 fail;
	char				*cause = NULL;
	int64_t				 id, n;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("c@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, T0 + 3600, T0, &r, &fail,
	    &cause), 0);
	assert_int_equal(r.queued, 3);
	/* One is forgotten meanwhile: a skipped row without an address. */
	assert_int_equal(store_subscriber_forget(s, "c@example.org", &cause),
	    1);

	assert_int_equal(campaign_unschedule(s, id, T0 + 10, &n, &fail,
	    &cause), 0);
	assert_int_equal(n, 2);
	assert_status(id, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(numf("SELECT scheduled_at IS NULL AND started_at IS"
	    " NULL FROM campaigns WHERE id = %lld", id), 1);
	assert_int_equal(store_campaign_counts(s, id, &cc, &cause), 0);
	assert_int_equal(cc.total, 0);
	assert_int_equal(numf("SELECT count(*) FROM events WHERE kind ="
	    " 'campaign-draft' AND subject = '%lld'", id), 1);
	/* The scheduler has nothing to start. */
	assert_int_equal(campaign_start_due(s, T0 + 7200, &cause), 0);
	assert_status(id, STORE_CAMPAIGN_DRAFT);

	/* A draft again: edited, then sent to who is on the list now. */
	assert_int_equal(campaign_edit(conf, s, id, "Changed", NULL, NULL,
	    "test", T0 + 11, &fail, &cause), 0);
	assert_int_equal(campaign_send(conf, s, id, 0, T0 + 12, &r, &fail,
	    &cause), 0);
	assert_int_equal(r.queued, 2);
	assert_int_equal(store_campaign_counts(s, id, &cc, &cause), 0);
	assert_int_equal(cc.total, 2);
	assert_int_equal(cc.state[STORE_OUTBOX_QUEUED], 2);
}

static void
test_send_now_scheduled(void **state)
{
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	member("a@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("b@example.org", "news", STORE_MEMBER_CONFIRMED, "immediate");
	member("d@example.org", "news", STORE_MEMBER_CONFIRMED, "digest");
	id = campaign("news");
	assert_int_equal(campaign_send(conf, s, id, T0 + 3600, T0, &r, &fail,
	    &cause), 0);
	/* Plain send is refused: it is scheduled already. */
	assert_int_equal(campaign_send(conf, s, id, 0, T0 + 1, &r, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_STATE);
	free(cause);
	cause = NULL;
	assert_int_equal(campaign_send_now(conf, s, id, T0 + 10, &r, &fail,
	    &cause), 0);
	assert_int_equal(r.status, STORE_CAMPAIGN_SENDING);
	assert_int_equal(r.queued, 2);
	assert_int_equal(r.digest, 1);
	assert_status(id, STORE_CAMPAIGN_SENDING);
	assert_int_equal(numf("SELECT started_at FROM campaigns WHERE id ="
	    " %lld", id), T0 + 10);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'queued' AND next_attempt_at = 1795000010", id),
	    2);
	assert_int_equal(numf("SELECT count(*) FROM events WHERE kind ="
	    " 'campaign-sending' AND subject = '%lld'", id), 1);
}

static void
test_edit(void **state)
{
	struct campaign_sent	 r;
	struct store_campaign	 c;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;

	(void)state;
	id = campaign("news");
	assert_int_equal(campaign_edit(conf, s, id, "New {{list.name}}", NULL,
	    NULL, "cli:staff", T0, &fail, &cause), 0);
	assert_int_equal(store_campaign_get(s, id, &c, &cause), 1);
	assert_str_eq_msg("subject", c.subject, "New {{list.name}}");
	store_campaign_clear(&c);
	assert_int_equal(numf("SELECT count(*) FROM events WHERE kind ="
	    " 'campaign.edit' AND subject = '%lld' AND detail = 'cli:staff'",
	    id), 1);

	/* What cannot be rendered is refused and changes nothing. */
	assert_int_equal(campaign_edit(conf, s, id, NULL, NULL, "no-such",
	    "test", T0, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	free(cause);
	cause = NULL;
	assert_int_equal(campaign_edit(conf, s, id, "{{#open", NULL, NULL,
	    "test", T0, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	free(cause);
	cause = NULL;
	/* So is a merge field nobody can have, with the nearest name. */
	assert_int_equal(campaign_edit(conf, s, id, NULL, "Dear "
	    "{{subscriber.nmae}}", NULL, "test", T0, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_DATA);
	assert_non_null(strstr(cause, "subscriber.name"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_campaign_get(s, id, &c, &cause), 1);
	assert_str_eq_msg("subject after refusals", c.subject,
	    "New {{list.name}}");
	assert_str_eq_msg("template after refusals", c.template,
	    "newsletter");
	store_campaign_clear(&c);

	/* Scheduled: unschedule first, it says. */
	assert_int_equal(campaign_send(conf, s, id, T0 + 60, T0, &r, &fail,
	    &cause), 0);
	assert_int_equal(campaign_edit(conf, s, id, "Late", NULL, NULL, "test",
	    T0, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_STATE);
	assert_non_null(strstr(cause, "unschedule it first"));
	free(cause);
	cause = NULL;
	assert_int_equal(campaign_edit(conf, s, 999, "Late", NULL, NULL,
	    "test", T0, &fail, &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	free(cause);
}

static void
test_delete_copy(void **state)
{
	struct store_campaign	 c, d;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id, sent, copy;

	(void)state;
	id = campaign("news");
	assert_int_equal(campaign_delete(s, id, "cli:staff", T0, &fail,
	    &cause), 0);
	assert_int_equal(store_campaign_get(s, id, &c, &cause), 0);
	assert_int_equal(numf("SELECT count(*) FROM events WHERE kind ="
	    " 'campaign-deleted' AND subject = '%lld'", id), 1);
	assert_int_equal(campaign_delete(s, id, "cli:staff", T0, &fail,
	    &cause), -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	free(cause);
	cause = NULL;

	/* A copy of a sent campaign is a new draft with its content. */
	sent = campaign("plain");
	sql("UPDATE campaigns SET template = 'special', status = 'sent',"
	    " started_at = 5, finished_at = 6, tested_at = 4");
	assert_int_equal(campaign_copy(s, sent, "cli:staff", T0 + 1, &copy,
	    &fail, &cause), 0);
	assert_true(copy != sent);
	assert_int_equal(store_campaign_get(s, sent, &c, &cause), 1);
	assert_int_equal(store_campaign_get(s, copy, &d, &cause), 1);
	assert_int_equal(d.status, STORE_CAMPAIGN_DRAFT);
	assert_str_eq_msg("list", d.list, c.list);
	assert_str_eq_msg("subject", d.subject, c.subject);
	assert_str_eq_msg("body", d.body, c.body);
	assert_str_eq_msg("template", d.template, "special");
	assert_str_eq_msg("created_by", d.created_by, "cli:staff");
	assert_int_equal(d.started_at, 0);
	assert_int_equal(d.tested_at, 0);
	assert_int_equal(d.created_at, T0 + 1);
	store_campaign_clear(&c);
	store_campaign_clear(&d);
	assert_int_equal(campaign_copy(s, 999, "x", T0, &copy, &fail, &cause),
	    -1);
	assert_int_equal(fail, CAMPAIGN_FAIL_MISSING);
	free(cause);
}

/*
 * retry-failed tells failures apart by what the row holds, as deliver.c
 * writes it: a give-up after smtp.max_retry_age (4xx, lost connection,
 * timeout; even a session 5xx such as 535) is temporary, a 5xx refusal
 * is permanent, and one with neither a code nor a give-up (not rendered,
 * too large, an address SMTP cannot carry) is neither.
 */
static void
test_retry_kinds(void **state)
{
	static const struct {
		int		 code;	/* 0: NULL */
		const char	*reply;
		char		 want;	/* t temporary, r refused, o other */
	} rows[] = {
		{ 451, DELIVER_GAVE_UP "9 attempts over 3d 0h "
		  "(smtp.max_retry_age): 451 4.7.1 try later", 't' },
		{ 0, DELIVER_GAVE_UP "6 attempts over 3d 0h "
		  "(smtp.max_retry_age): connection refused", 't' },
		{ 0, DELIVER_GAVE_UP "7 attempts over 3d 0h "
		  "(smtp.max_retry_age): timed out", 't' },
		{ 535, DELIVER_GAVE_UP "5 attempts over 3d 0h "
		  "(smtp.max_retry_age): 535 5.7.8 bad credentials", 't' },
		{ 421, "421 4.3.2 going away", 't' },
		{ 550, "550 5.1.1 <x@example.org>: no such user", 'r' },
		{ 554, "554 5.6.0 message refused", 'r' },
		{ 0, "cannot render: template missing", 'o' },
		{ 0, "message too large", 'o' },
	};
	struct campaign_retried	 rt;
	enum campaign_fail	 fail;
	char			*cause = NULL, *q, *email, want[16];
	int64_t			 id, sub, nt = 0, nr = 0, no = 0;
	size_t			 i;

	(void)state;
	id = campaign("news");
	set_status(id, STORE_CAMPAIGN_SENT);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		email = xprintf("r%zu@example.org", i);
		sub = member(email, "news", STORE_MEMBER_CONFIRMED,
		    "immediate");
		q = xprintf("INSERT INTO outbox (kind, campaign_id,"
		    " subscriber_id, mail_from, rcpt_to, state, attempts,"
		    " last_code, last_reply, created_at, updated_at) VALUES"
		    " ('campaign', %lld, %lld, 'b@example.org', '%s',"
		    " 'failed', 3, NULLIF(%d, 0), '%s', 0, 0)",
		    (long long)id, (long long)sub, email, rows[i].code,
		    rows[i].reply);
		sql(q);
		free(q);
		free(email);
		nt += rows[i].want == 't';
		nr += rows[i].want == 'r';
		no += rows[i].want == 'o';
	}
	/* A forgotten person's failed row: not counted, never sent. */
	q = xprintf("INSERT INTO outbox (kind, campaign_id, mail_from,"
	    " rcpt_to, state, last_code, last_reply, created_at, updated_at)"
	    " VALUES ('campaign', %lld, 'b@example.org', '(forgotten)',"
	    " 'failed', 451, '" DELIVER_GAVE_UP "1 attempt', 0, 0)",
	    (long long)id);
	sql(q);
	free(q);

	assert_int_equal(campaign_retry_failed(s, id, 0, T0, &rt, &fail,
	    &cause), 0);
	if (rt.temporary != nt || rt.refused != nr || rt.other != no ||
	    rt.requeued != nt)
		fail_msg("got %lld temporary %lld refused %lld other, %lld "
		    "requeued; want %lld %lld %lld, %lld",
		    (long long)rt.temporary, (long long)rt.refused,
		    (long long)rt.other, (long long)rt.requeued,
		    (long long)nt, (long long)nr, (long long)no,
		    (long long)nt);
	assert_int_equal(rt.after, STORE_CAMPAIGN_SENDING);
	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		q = xprintf("SELECT state = 'queued' FROM outbox WHERE rcpt_to"
		    " = 'r%zu@example.org'", i);
		snprintf(want, sizeof want, "%s", rows[i].want == 't' ?
		    "queued" : "failed");
		if (num(q) != (rows[i].want == 't'))
			fail_msg("row %zu (%d, %s): got %s, want %s", i,
			    rows[i].code, rows[i].reply, rows[i].want == 't' ?
			    "failed" : "queued", want);
		free(q);
	}

	/* With --include-permanent, the rest, and never the forgotten. */
	assert_int_equal(campaign_retry_failed(s, id, 1, T0 + 1, &rt, &fail,
	    &cause), 0);
	assert_int_equal(rt.requeued, nr + no);
	assert_int_equal(rt.temporary, 0);
	assert_int_equal(numf("SELECT count(*) FROM outbox WHERE campaign_id ="
	    " %lld AND state = 'failed'", id), 1);
}

/* --- progress ------------------------------------------------------------------ */

static struct progress_sample
sample(int64_t at_ms, enum store_campaign_status st, int64_t total,
    int64_t sent, int64_t deferred, int64_t failed, int64_t skipped)
{
	struct progress_sample	ps;

	memset(&ps, 0, sizeof ps);
	ps.at_ms = at_ms;
	ps.status = st;
	ps.total = total;
	ps.sent = sent;
	ps.deferred = deferred;
	ps.failed = failed;
	ps.skipped = skipped;
	ps.left = total - sent - deferred - failed - skipped;
	return ps;
}

static void
test_progress_duration(void **state)
{
	static const struct { int64_t secs; const char *want; } cases[] = {
		{ -5, "0s" }, { 0, "0s" }, { 41, "41s" }, { 60, "1m00s" },
		{ 185, "3m05s" }, { 3599, "59m59s" }, { 3600, "1h00m" },
		{ 7620, "2h07m" },
	};
	char	buf[32], what[64];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		progress_duration(cases[i].secs, buf, sizeof buf);
		snprintf(what, sizeof what, "%lld seconds",
		    (long long)cases[i].secs);
		assert_str_eq_msg(what, buf, cases[i].want);
	}
}

static void
test_progress_rate(void **state)
{
	struct progress		p;
	struct progress_sample	ps;
	int64_t			t;

	(void)state;
	/* Finished samples are recorded but never drawn. */
	progress_init(&p, stdout, 0, 80, 7);
	assert_true(progress_rate(&p) < 0);

	/* 10 a second for 20 s, then 100 a second: the window forgets. */
	memset(&ps, 0, sizeof ps);
	for (t = 0; t <= 20; t++) {
		ps = sample(t * 1000, STORE_CAMPAIGN_SENT, 100000, t * 10, 0,
		    0, 0);
		progress_update(&p, &ps);	/* finished: draws nothing */
	}
	if (progress_rate(&p) < 9.99 || progress_rate(&p) > 10.01) {
		print_error("rate: got %f, want 10\n", progress_rate(&p));
		fail();
	}
	for (t = 21; t <= 40; t++) {
		ps = sample(t * 1000, STORE_CAMPAIGN_SENT, 100000,
		    200 + (t - 20) * 100, 0, 0, 0);
		progress_update(&p, &ps);
	}
	if (progress_rate(&p) < 99.99 || progress_rate(&p) > 100.01) {
		print_error("rate: got %f, want 100\n", progress_rate(&p));
		fail();
	}
}

static void
test_progress_lines(void **state)
{
	struct progress		p;
	struct progress_sample	ps;
	char			buf[512], what[64];
	static const int	widths[] = { 20, 40, 60, 80, 100, 200, 400 };
	size_t			i;

	(void)state;
	progress_init(&p, stdout, 0, 80, 7);
	ps = sample(0, STORE_CAMPAIGN_SENT, 10000, 0, 0, 0, 0);
	progress_update(&p, &ps);
	ps = sample(10000, STORE_CAMPAIGN_SENT, 10000, 1180, 3, 1, 20);
	progress_update(&p, &ps);
	ps.status = STORE_CAMPAIGN_SENDING;

	progress_plain_line(&p, &ps, buf, sizeof buf);
	assert_str_eq_msg("plain line", buf, "campaign 7: sending: 1201 of "
	    "10000 done (1180 sent, 3 deferred, 1 failed, 20 skipped), 8796 "
	    "left, 120/s, ETA 1m13s");

	/* The terminal line never wraps; the bar goes when room is short. */
	for (i = 0; i < sizeof widths / sizeof widths[0]; i++) {
		p.width = widths[i];
		progress_tty_line(&p, &ps, buf, sizeof buf);
		snprintf(what, sizeof what, "width %d: %zu columns", widths[i],
		    strlen(buf));
		if (strlen(buf) >= (size_t)widths[i]) {
			print_error("%s, want fewer than %d: \"%s\"\n", what,
			    widths[i], buf);
			fail();
		}
		if (widths[i] >= 100 && buf[0] != '[') {
			print_error("%s: no bar: \"%s\"\n", what, buf);
			fail();
		}
	}
	p.width = 120;
	progress_tty_line(&p, &ps, buf, sizeof buf);
	assert_str_eq_msg("terminal line", buf, "[###-------------------------"
	    "-]   12%  1180 sent  3 deferred  1 failed  20 skipped  8796 left "
	    " 120/s  ETA 1m13s");
}

static void
test_progress_plain_every(void **state)
{
	struct progress		 p;
	struct progress_sample	 ps;
	char			*out = NULL, *err = NULL;
	size_t			 outlen = 0, errlen = 0, lines;
	const char		*c;
	FILE			*fo, *fe;
	int64_t			 t;

	(void)state;
	fo = open_memstream(&out, &outlen);
	fe = open_memstream(&err, &errlen);
	assert_non_null(fo);
	assert_non_null(fe);
	progress_init(&p, fo, 0, 0, 9);
	p.err = fe;

	/*
	 * Scheduled, then 12 s of steady progress, a look a second: a line
	 * at the first look, at the change of status, then every
	 * PROGRESS_PLAIN_EVERY (5) seconds.
	 */
	for (t = -2; t <= 12; t++) {
		ps = sample(t * 1000, t < 0 ? STORE_CAMPAIGN_SCHEDULED :
		    STORE_CAMPAIGN_SENDING, 1000, t < 0 ? 0 : t * 10, 0, 0, 0);
		ps.scheduled_at = 0;
		assert_int_equal(progress_update(&p, &ps), 0);
	}
	fflush(fo);
	for (lines = 0, c = out; *c != '\0'; c++)
		lines += *c == '\n';
	if (lines != 4) {
		print_error("got %zu lines, want 4:\n%s", lines, out);
		fail();
	}

	/* Then nothing moves after 12 s: one hint PROGRESS_STALL later. */
	for (t = 13; t <= 12 + 2 * PROGRESS_STALL; t++) {
		ps = sample(t * 1000, STORE_CAMPAIGN_SENDING, 1000, 120, 0, 0,
		    0);
		assert_int_equal(progress_update(&p, &ps), 0);
		fflush(fe);
		if ((t < 12 + PROGRESS_STALL) != (errlen == 0)) {
			print_error("at %llds without progress: got %s, want "
			    "the hint from %ds on\n", (long long)(t - 12),
			    errlen == 0 ? "no hint" : err, PROGRESS_STALL);
			fail();
		}
	}
	fflush(fe);
	assert_non_null(strstr(err, "is postroomd running?"));
	assert_null(strstr(strstr(err, "running?") + 1, "running?"));

	/* The end: a finished status says so. */
	ps = sample(100000, STORE_CAMPAIGN_SENT, 1000, 1000, 0, 0, 0);
	assert_int_equal(progress_update(&p, &ps), 1);
	ps.status = STORE_CAMPAIGN_CANCELLED;
	assert_int_equal(progress_update(&p, &ps), 1);
	ps.status = STORE_CAMPAIGN_PAUSED;
	assert_int_equal(progress_update(&p, &ps), 1);
	fclose(fo);
	fclose(fe);
	free(out);
	free(err);
}

static void
test_progress_scheduled_hint(void **state)
{
	struct progress		 p;
	struct progress_sample	 ps;
	char			*out = NULL, *err = NULL;
	size_t			 outlen = 0, errlen = 0;
	FILE			*fo, *fe;

	(void)state;
	fo = open_memstream(&out, &outlen);
	fe = open_memstream(&err, &errlen);
	progress_init(&p, fo, 1, 100, 3);
	p.err = fe;
	/* Due 10 s ago: no hint yet; PROGRESS_STALL late: the hint. */
	ps = sample(T0 * 1000, STORE_CAMPAIGN_SCHEDULED, 5, 0, 0, 0, 0);
	ps.scheduled_at = T0 - 10;
	progress_update(&p, &ps);
	fflush(fe);
	assert_int_equal(errlen, 0);
	ps.at_ms = (T0 + PROGRESS_STALL) * 1000;
	progress_update(&p, &ps);
	fflush(fe);
	fflush(fo);
	assert_non_null(strstr(err, "but not started: is postroomd "
	    "running?"));
	/* On a terminal: redrawn lines, no line ends until the end. */
	assert_null(strchr(out, '\n'));
	assert_non_null(strstr(out, "\r"));
	ps = sample((T0 + 30) * 1000, STORE_CAMPAIGN_SENT, 5, 5, 0, 0, 0);
	assert_int_equal(progress_update(&p, &ps), 1);
	progress_end(&p, &ps);
	fflush(fo);
	assert_non_null(strstr(out, "100%  5 sent"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	fclose(fo);
	fclose(fe);
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_can_move),
		cmocka_unit_test_setup_teardown(test_enter_state, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_operations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_queues, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_all_modes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_nobody, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_unknown_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scheduler, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_nobody, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_forgotten, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_retry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry_sent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_resume_nothing_left,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_field_gaps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_refuses_fields,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_test_copy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_past, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unschedule, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_send_now_scheduled, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_edit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_copy, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry_kinds, setup,
		    teardown),
		cmocka_unit_test(test_progress_duration),
		cmocka_unit_test(test_progress_rate),
		cmocka_unit_test(test_progress_lines),
		cmocka_unit_test(test_progress_plain_every),
		cmocka_unit_test(test_progress_scheduled_hint),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
