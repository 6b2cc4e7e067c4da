/*
 * test-subscriber.c - subscribers, memberships and suppression in the
 * store (store-subscriber.c).
 *
 * Owns: add/get/duplicate, uniqueness whatever the case, the
 * membership state machine and its consent records, the walks camp and
 * the digest use, mailable, removal skipping a queued confirmation, and
 * forget (everything gone but the hash, which then refuses the address).
 * Each test has its own database in a mkdtemp directory.
 */
#include "testutil.h"

#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "store.h"
#include "token.h"
#include "value.h"

struct fixture {
	char		 dir[64];
	char		 db[128];
	struct store	*s;
};

static int
setup(void **state)
{
	struct fixture	*f;
	char		*cause = NULL;

	f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test-subscriber.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
	if ((f->s = store_open(f->db, &cause)) == NULL) {
		print_error("store_open: %s\n", cause);
		free(cause);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];

	store_close(f->s);
	unlink(f->db);
	snprintf(p, sizeof p, "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", f->db);
	unlink(p);
	snprintf(p, sizeof p, "%s/forget.key", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The forget key the store made beside the database (store.c). */
static void
forget_key(struct fixture *f, unsigned char key[TOKEN_KEY_LEN])
{
	char	 path[160], *cause = NULL;

	snprintf(path, sizeof path, "%s/forget.key", f->dir);
	if (token_key_load(path, 0, key, &cause) != 0)
		fail_msg("%s", cause);
}

/* One number from SQL, failing the test on error. */
static long long
sql_int(struct store *s, const char *sql)
{
	char		*v = NULL, *cause = NULL;
	long long	 n;

	if (store_query_text(s, sql, &v, &cause) == -1) {
		print_error("%s: %s\n", sql, cause);
		fail();
	}
	n = v != NULL ? strtoll(v, NULL, 10) : -1;
	free(v);
	return n;
}

static int64_t
add(struct store *s, const char *email, const char *name, const char *attrs,
    int want)
{
	int64_t	 id = 0;
	char	*cause = NULL;
	int	 rc;

	rc = store_subscriber_add(s, email, name, attrs, &id, &cause);
	if (rc != want) {
		print_error("add %s: got %d (%s), want %d\n", email, rc,
		    cause != NULL ? cause : "", want);
		fail();
	}
	assert_true(id > 0);
	return id;
}

static void
member(struct store *s, int64_t id, const char *list,
    enum store_member_status st, const char *mode)
{
	char	*cause = NULL;

	if (store_member_add(s, id, list, st, mode, "staff", "cli:test",
	    &cause) != 1) {
		print_error("member_add %lld %s: %s\n", (long long)id, list,
		    cause);
		fail();
	}
}

static void
test_add_get(void **state)
{
	struct fixture		*f = *state;
	struct store_subscriber	 sub;
	int64_t			 id, id2;
	char			*cause = NULL;

	memset(&sub, 0, sizeof sub);
	id = add(f->s, "ann@example.org", "Ann", "{\"org\":\"DSU\"}", 1);
	assert_int_equal(store_subscriber_get(f->s, "ann@example.org", &sub,
	    &cause), 1);
	assert_int_equal(sub.id, id);
	assert_str_eq_msg("email", sub.email, "ann@example.org");
	assert_str_eq_msg("name", sub.name, "Ann");
	assert_str_eq_msg("attrs", sub.attrs, "{\"org\":\"DSU\"}");
	assert_true(sub.created_at > 0);
	store_subscriber_clear(&sub);

	/* A second add changes nothing and hands back the same id. */
	id2 = add(f->s, "ann@example.org", "Other", "{}", 0);
	assert_int_equal(id2, id);
	assert_int_equal(store_subscriber_get_id(f->s, id, &sub, &cause), 1);
	assert_str_eq_msg("name unchanged", sub.name, "Ann");
	store_subscriber_clear(&sub);

	/* Unknown name and attrs read as "" and "{}". */
	id2 = add(f->s, "bob@example.org", NULL, NULL, 1);
	assert_int_equal(store_subscriber_get_id(f->s, id2, &sub, &cause), 1);
	assert_str_eq_msg("no name", sub.name, "");
	assert_str_eq_msg("no attrs", sub.attrs, "{}");
	store_subscriber_clear(&sub);

	assert_int_equal(store_subscriber_get(f->s, "nobody@example.org",
	    &sub, &cause), 0);
	assert_int_equal(store_subscriber_get_id(f->s, 9999, &sub, &cause),
	    0);

	/* One person whatever the case, kept in the form first given. */
	id2 = add(f->s, "ANN@Example.org", NULL, NULL, 0);
	assert_int_equal(id2, id);
	assert_int_equal(store_subscriber_get(f->s, "aNN@example.ORG", &sub,
	    &cause), 1);
	assert_int_equal(sub.id, id);
	assert_str_eq_msg("form first given", sub.email, "ann@example.org");
	store_subscriber_clear(&sub);

	/* Update: 1 when something changed, 0 when nothing did. */
	assert_int_equal(store_subscriber_update(f->s, id, "Ann Smith", NULL,
	    &cause), 1);
	assert_int_equal(store_subscriber_update(f->s, id, "Ann Smith", NULL,
	    &cause), 0);
	assert_int_equal(store_subscriber_update(f->s, id, NULL,
	    "{\"org\":\"X\"}", &cause), 1);
	assert_int_equal(store_subscriber_update(f->s, id, NULL,
	    "{\"org\":\"X\"}", &cause), 0);
	assert_int_equal(store_subscriber_update(f->s, id, "", NULL,
	    &cause), 1);
	assert_int_equal(store_subscriber_get_id(f->s, id, &sub, &cause), 1);
	assert_str_eq_msg("name cleared", sub.name, "");
	assert_str_eq_msg("attrs updated", sub.attrs, "{\"org\":\"X\"}");
	store_subscriber_clear(&sub);
}

static void
test_membership(void **state)
{
	struct fixture		*f = *state;
	struct store_member	 m;
	int64_t			 id;
	char			*cause = NULL;

	memset(&m, 0, sizeof m);
	id = add(f->s, "ann@example.org", NULL, NULL, 1);
	member(f->s, id, "news", STORE_MEMBER_PENDING, NULL);
	assert_int_equal(store_member_add(f->s, id, "news",
	    STORE_MEMBER_CONFIRMED, NULL, "staff", "x", &cause), 0);

	assert_int_equal(store_member_get(f->s, id, "news", &m, &cause), 1);
	assert_int_equal(m.status, STORE_MEMBER_PENDING);
	assert_str_eq_msg("mode", m.mode, "immediate");
	assert_int_equal(m.consent_at, 0);
	assert_str_eq_msg("method", m.consent_method, "staff");
	assert_str_eq_msg("source", m.consent_source, "cli:test");
	store_member_clear(&m);
	assert_int_equal(store_member_get(f->s, id, "training", &m, &cause),
	    0);

	/* pending -> confirmed records consent; again changes nothing. */
	assert_int_equal(store_member_set_status(f->s, id, "news",
	    STORE_MEMBER_CONFIRMED, "web", "confirm link", &cause), 1);
	assert_int_equal(store_member_set_status(f->s, id, "news",
	    STORE_MEMBER_CONFIRMED, "web", "confirm link", &cause), 0);
	assert_int_equal(store_member_get(f->s, id, "news", &m, &cause), 1);
	assert_int_equal(m.status, STORE_MEMBER_CONFIRMED);
	assert_true(m.consent_at > 0);
	assert_true(m.confirmed_at > 0);
	assert_str_eq_msg("method", m.consent_method, "web");
	assert_str_eq_msg("source", m.consent_source, "confirm link");
	store_member_clear(&m);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM events WHERE "
	    "kind = 'member.confirmed' AND subject = 'ann@example.org'"), 1);

	/* Mode. */
	assert_int_equal(store_member_set_mode(f->s, id, "news", "digest",
	    &cause), 1);
	assert_int_equal(store_member_set_mode(f->s, id, "news", "digest",
	    &cause), 0);
	assert_int_equal(store_member_set_mode(f->s, id, "training",
	    "digest", &cause), 0);

	/* Status names. */
	enum store_member_status st;
	assert_int_equal(store_member_status_parse("bounced", &st), 0);
	assert_int_equal(st, STORE_MEMBER_BOUNCED);
	assert_int_equal(store_member_status_parse("gone", &st), -1);
	assert_str_eq_msg("name", store_member_status_name(
	    STORE_MEMBER_UNSUBSCRIBED), "unsubscribed");
}

struct seen {
	int64_t	ids[16];
	int	n;
	int	stop_after;
};

static int
collect(const struct store_subscriber *sub, void *arg)
{
	struct seen	*sn = arg;

	sn->ids[sn->n++] = sub->id;
	return sn->stop_after != 0 && sn->n == sn->stop_after ? 7 : 0;
}

static int
collect_walk(const struct store_subscriber *sub, const struct store_member *m,
    void *arg)
{
	return collect(sub, arg);
}

static void
test_walks(void **state)
{
	struct fixture	*f = *state;
	struct seen	 sn;
	int64_t		 a, b, c, d, e, n;
	char		*cause = NULL;

	a = add(f->s, "a@example.org", NULL, NULL, 1);
	b = add(f->s, "b@example.org", NULL, NULL, 1);
	c = add(f->s, "c@example.org", NULL, NULL, 1);
	d = add(f->s, "d@example.org", NULL, NULL, 1);
	e = add(f->s, "e@example.org", NULL, NULL, 1);
	member(f->s, a, "news", STORE_MEMBER_CONFIRMED, "immediate");
	member(f->s, b, "news", STORE_MEMBER_PENDING, NULL);
	member(f->s, c, "news", STORE_MEMBER_CONFIRMED, "digest");
	member(f->s, d, "news", STORE_MEMBER_CONFIRMED, NULL);
	member(f->s, e, "training", STORE_MEMBER_CONFIRMED, NULL);
	assert_int_equal(store_member_set_status(f->s, d, "news",
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause), 1);

	/* Confirmed only, by id, and the mode filter. */
	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_members_each(f->s, "news", NULL, 0, collect,
	    &sn, &cause), 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.ids[0], a);
	assert_int_equal(sn.ids[1], c);
	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_members_each(f->s, "news", "digest", 0,
	    collect, &sn, &cause), 0);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.ids[0], c);
	/* Paging and stopping. */
	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_members_each(f->s, "news", NULL, a, collect,
	    &sn, &cause), 0);
	assert_int_equal(sn.n, 1);
	assert_int_equal(sn.ids[0], c);
	memset(&sn, 0, sizeof sn);
	sn.stop_after = 1;
	assert_int_equal(store_members_each(f->s, "news", NULL, 0, collect,
	    &sn, &cause), 7);
	assert_int_equal(sn.n, 1);

	assert_int_equal(store_members_count(f->s, "news", NULL, &n, &cause),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(store_members_count(f->s, "news", "immediate", &n,
	    &cause), 0);
	assert_int_equal(n, 1);

	/* Every status, or some. */
	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_member_walk(f->s, "news", 0, collect_walk, &sn,
	    &cause), 0);
	assert_int_equal(sn.n, 4);
	memset(&sn, 0, sizeof sn);
	assert_int_equal(store_member_walk(f->s, "news",
	    (1U << STORE_MEMBER_PENDING) | (1U << STORE_MEMBER_UNSUBSCRIBED),
	    collect_walk, &sn, &cause), 0);
	assert_int_equal(sn.n, 2);
	assert_int_equal(sn.ids[0], b);
	assert_int_equal(sn.ids[1], d);
}

static void
test_mailable(void **state)
{
	struct fixture	*f = *state;
	static const struct {
		const char		*email;
		int			 on_list;
		enum store_member_status status;
		int			 suppressed;
		int			 want;
	} t[] = {
		{ "confirmed@example.org", 1, STORE_MEMBER_CONFIRMED, 0, 1 },
		{ "pending@example.org", 1, STORE_MEMBER_PENDING, 0, 0 },
		{ "unsub@example.org", 1, STORE_MEMBER_UNSUBSCRIBED, 0, 0 },
		{ "bounced@example.org", 1, STORE_MEMBER_BOUNCED, 0, 0 },
		{ "suppressed@example.org", 1, STORE_MEMBER_CONFIRMED, 1, 0 },
		{ "elsewhere@example.org", 0, STORE_MEMBER_CONFIRMED, 0, 0 },
	};
	int64_t	 id;
	char	*cause = NULL;
	size_t	 i;
	int	 got;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		id = add(f->s, t[i].email, NULL, NULL, 1);
		member(f->s, id, t[i].on_list ? "news" : "training",
		    t[i].status == STORE_MEMBER_PENDING ?
		    STORE_MEMBER_PENDING : STORE_MEMBER_CONFIRMED, NULL);
		if (t[i].status != STORE_MEMBER_PENDING &&
		    t[i].status != STORE_MEMBER_CONFIRMED)
			assert_int_equal(store_member_set_status(f->s, id,
			    "news", t[i].status, NULL, NULL, &cause), 1);
		if (t[i].suppressed)
			assert_int_equal(store_subscriber_suppress(f->s,
			    t[i].email, "complaint", &cause), 1);
		got = store_subscriber_mailable(f->s, id, "news", &cause);
		if (got != t[i].want) {
			print_error("%s: got %d, want %d\n", t[i].email, got,
			    t[i].want);
			fail();
		}
	}
	assert_int_equal(store_subscriber_mailable(f->s, 424242, "news",
	    &cause), 0);
}

static void
test_remove_skips_confirm(void **state)
{
	struct fixture		*f = *state;
	struct store_outbox_msg	 m;
	struct store_member	 mb;
	int64_t			 id, oid;
	char			*cause = NULL;

	id = add(f->s, "ann@example.org", NULL, NULL, 1);
	member(f->s, id, "news", STORE_MEMBER_PENDING, NULL);
	member(f->s, id, "news-extra", STORE_MEMBER_PENDING, NULL);
	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_CONFIRM;
	m.mail_from = "enquiries@example.org";
	m.rcpt_to = "ann@example.org";
	m.message = "Subject: x\r\n\r\nx\r\n";
	m.len = strlen(m.message);
	m.subscriber_id = id;
	m.dedup_key = "confirm:news:1:2026-03-14";
	assert_int_equal(store_outbox_add(f->s, &m, &oid, &cause), 1);
	m.dedup_key = "confirm:news-extra:1:2026-03-14";
	assert_int_equal(store_outbox_add(f->s, &m, &oid, &cause), 1);

	assert_int_equal(store_member_set_status(f->s, id, "news",
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause), 1);
	assert_int_equal(store_member_get(f->s, id, "news", &mb, &cause), 1);
	assert_true(mb.unsubscribed_at > 0);
	store_member_clear(&mb);
	/* Only that list's confirmation is skipped. */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox WHERE "
	    "state = 'skipped' AND dedup_key LIKE 'confirm:news:%'"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox WHERE "
	    "state = 'queued' AND dedup_key LIKE 'confirm:news-extra:%'"), 1);
}

static void
test_forget(void **state)
{
	struct fixture		*f = *state;
	struct store_subscriber	 sub;
	struct store_outbox_msg	 m;
	struct store_unsubscribe u;
	struct value		*v;
	char			 hash[65], *cause = NULL, *got = NULL;
	unsigned char		 key[TOKEN_KEY_LEN];
	int64_t			 id, other, oid;

	memset(&sub, 0, sizeof sub);
	id = add(f->s, "ann@example.org", "Ann", "{\"org\":\"DSU\"}", 1);
	other = add(f->s, "bob@example.org", "Bob", NULL, 1);
	member(f->s, id, "news", STORE_MEMBER_CONFIRMED, NULL);
	member(f->s, id, "training", STORE_MEMBER_PENDING, NULL);
	member(f->s, other, "news", STORE_MEMBER_CONFIRMED, NULL);
	store_event(f->s, "subscriber.add", "ann@example.org", "list news");
	store_event(f->s, "note", NULL, "wrote to ANN@example.org about x");
	store_event(f->s, "subscriber.add", "bob@example.org", "list news");
	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_CONFIRM;
	m.mail_from = "enquiries@example.org";
	m.rcpt_to = "ann@example.org";
	m.message = "Subject: x\r\n\r\nx\r\n";
	m.len = strlen(m.message);
	m.subscriber_id = id;
	assert_int_equal(store_outbox_add(f->s, &m, &oid, &cause), 1);
	m.subscriber_id = 0;	/* an acknowledgement, not tied to the row */
	m.kind = STORE_OUTBOX_ACK;
	assert_int_equal(store_outbox_add(f->s, &m, &oid, &cause), 1);
	assert_int_equal(store_exec_sql(f->s, "INSERT INTO bounces "
	    "(recipient, kind, received_at) VALUES ('ann@example.org', "
	    "'hard', 1)", &cause), 0);
	memset(&u, 0, sizeof u);
	u.message_key = "<left@example.org>";
	u.outcome = "done";
	u.subscriber_id = id;
	u.list = "news";
	u.source = "pipe";
	assert_int_equal(store_unsubscribe_add(f->s, &u, &cause), 1);
	u.message_key = "<forged@example.org>";
	u.outcome = "forged";
	u.subscriber_id = 0;
	u.list = NULL;
	assert_int_equal(store_unsubscribe_add(f->s, &u, &cause), 1);

	/* Access request first: everything is there. */
	v = store_subscriber_person(f->s, "ann@example.org", &cause);
	assert_non_null(v);
	assert_int_equal(value_list_len(value_object_get(v, "memberships")),
	    2);
	assert_int_equal(value_list_len(value_object_get(v, "outbox")), 2);
	assert_int_equal(value_list_len(value_object_get(v, "bounces")), 1);
	assert_int_equal(value_list_len(value_object_get(v,
	    "unsubscribe_requests")), 1);
	assert_int_equal(value_list_len(value_object_get(v, "events")), 2);
	assert_false(value_bool(value_object_get(v, "suppressed")));
	assert_str_eq_msg("person name", value_object_get_string(
	    value_object_get(v, "subscriber"), "name"), "Ann");
	value_free(v);

	/* Asked for with another spelling of the local part. */
	assert_int_equal(store_subscriber_forget(f->s, "Ann@example.org",
	    &cause), 1);
	assert_false(store_in_transaction(f->s));

	/* Gone everywhere... */
	assert_int_equal(store_subscriber_get(f->s, "ann@example.org", &sub,
	    &cause), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM memberships"),
	    1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM bounces"), 0);
	/* Her unsubscribe request by mail; a forged one named nobody. */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM"
	    " mail_unsubscribes WHERE outcome = 'forged'"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM"
	    " mail_unsubscribes"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM events WHERE "
	    "instr(lower(coalesce(subject, '') || coalesce(detail, '')), "
	    "'ann@example.org') > 0"), 0);
	/* ...but other people's rows stay... */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM events WHERE "
	    "subject = 'bob@example.org'"), 1);
	assert_int_equal(store_subscriber_mailable(f->s, other, "news",
	    &cause), 1);
	/* ...and only the hash is kept, which refuses the address. */
	forget_key(f, key);
	token_hash_address(key, "ann@example.org", hash);
	assert_int_equal(store_query_text(f->s, "SELECT hash || ' ' || reason"
	    " FROM suppressions", &got, &cause), 1);
	assert_non_null(got);
	assert_int_equal(strncmp(got, hash, 64), 0);
	assert_str_eq_msg("reason", got + 65, "forgotten");
	free(got);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM suppressions"),
	    1);
	assert_int_equal(store_subscriber_suppressed(f->s, "ann@example.org",
	    &cause), 1);
	assert_int_equal(store_subscriber_suppressed(f->s, "bob@example.org",
	    &cause), 0);

	v = store_subscriber_person(f->s, "ann@example.org", &cause);
	assert_non_null(v);
	assert_int_equal(value_get_type(value_object_get(v, "subscriber")),
	    VALUE_NULL);
	assert_int_equal(value_list_len(value_object_get(v, "events")), 0);
	assert_true(value_bool(value_object_get(v, "suppressed")));
	value_free(v);

	/* No spelling of the local part gets past the suppression. */
	assert_int_equal(store_subscriber_suppressed(f->s, "ANN@example.org",
	    &cause), 1);

	/* Forgetting again, or someone never seen, is fine. */
	assert_int_equal(store_subscriber_forget(f->s, "ann@example.org",
	    &cause), 0);
	assert_int_equal(store_subscriber_forget(f->s, "zed@example.org",
	    &cause), 0);
	assert_int_equal(store_subscriber_suppressed(f->s, "zed@example.org",
	    &cause), 1);
	assert_int_equal(store_subscriber_suppress(f->s, "zed@example.org",
	    "forgotten", &cause), 0);

	/* Inside a caller's transaction it joins it. */
	assert_int_equal(store_begin(f->s, &cause), 0);
	assert_int_equal(store_subscriber_forget(f->s, "bob@example.org",
	    &cause), 1);
	assert_true(store_in_transaction(f->s));
	store_rollback(f->s);
	assert_int_equal(store_subscriber_get(f->s, "bob@example.org", &sub,
	    &cause), 1);
	store_subscriber_clear(&sub);
}

/*
 * An address is one person whatever its case: adding, finding, the
 * suppression list (folded hashes, and old ones made as given), enquiry
 * senders for the once-a-day acknowledgement, references.
 */
static void
test_case(void **state)
{
	struct fixture		*f = *state;
	struct store_subscriber	 sub;
	struct store_enquiry	 e;
	char			 hash[65], *cause = NULL;
	unsigned char		 key[TOKEN_KEY_LEN];
	int64_t			 id, n;

	memset(&sub, 0, sizeof sub);
	id = add(f->s, "Sian.Jones@nhs.uk", "Siân", NULL, 1);
	assert_int_equal(add(f->s, "sian.jones@nhs.uk", NULL, NULL, 0), id);
	assert_int_equal(add(f->s, "SIAN.JONES@nhs.uk", NULL, NULL, 0), id);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"), 1);
	assert_int_equal(store_subscriber_get(f->s, "sIAN.jONES@nhs.uk", &sub,
	    &cause), 1);
	assert_int_equal(sub.id, id);
	assert_str_eq_msg("the form first given", sub.email,
	    "Sian.Jones@nhs.uk");
	store_subscriber_clear(&sub);

	/* Suppressed in one case, suppressed in all; the hash is folded. */
	assert_int_equal(store_subscriber_suppress(f->s, "SIAN.jones@nhs.uk",
	    "complaint", &cause), 1);
	assert_int_equal(store_subscriber_suppressed(f->s, "sian.JONES@nhs.uk",
	    &cause), 1);
	forget_key(f, key);
	token_hash_address(key, "sian.jones@nhs.uk", hash);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM suppressions"),
	    1);
	{
		char	*sql = xprintf("SELECT count(*) FROM suppressions"
		    " WHERE hash = '%s'", hash);

		assert_int_equal(sql_int(f->s, sql), 1);
		free(sql);
	}
	/* A hash made by hand of the address as given still counts. */
	token_hash_address_as_given("Carol.Hand@example.org", hash);
	{
		char	*sql = xprintf("INSERT INTO suppressions (hash,"
		    " reason, created_at) VALUES ('%s', 'forgotten', 1)",
		    hash);

		assert_int_equal(store_exec_sql(f->s, sql, &cause), 0);
		free(sql);
	}
	assert_int_equal(store_subscriber_suppressed(f->s,
	    "Carol.Hand@example.org", &cause), 1);

	/* Enquiry senders and references, in any case. */
	assert_int_equal(store_exec_sql(f->s, "INSERT INTO enquiries"
	    " (reference, content_hash, sender, received_at, ack) VALUES"
	    " ('ENQ-2026-00042', 'h', 'Sian.Jones@nhs.uk', 1000, 'queued')",
	    &cause), 0);
	assert_int_equal(store_enquiry_acks_since(f->s, "sian.jones@NHS.UK",
	    999, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_enquiry_get(f->s, "enq-2026-00042", &e, &cause),
	    1);
	assert_str_eq_msg("reference", e.reference, "ENQ-2026-00042");
	store_enquiry_clear(&e);
}

static int
collect_email(const struct store_subscriber *sub, void *arg)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_addc(b, ' ');
	buf_addstr(b, sub->email);
	return 0;
}

/* find: part of the name or address, whatever the case and accents. */
static void
test_find(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} t[] = {
		{ "zoe", "zoe.b@example.org zed@example.org" },
		{ "ZOË", "zoe.b@example.org zed@example.org" },
		{ "SIAN", "Sian.Jones@nhs.uk" },
		{ "siân j", "Sian.Jones@nhs.uk" },
		{ "NHS.UK", "Sian.Jones@nhs.uk" },
		{ "brown", "zoe.b@example.org" },
		{ "nobody", "" },
	};
	struct fixture	*f = *state;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;

	add(f->s, "zoe.b@example.org", "Zoë Brown", NULL, 1);
	add(f->s, "Sian.Jones@nhs.uk", "Siân Jones", NULL, 1);
	add(f->s, "zed@example.org", "Zoe\xcc\x88 Zed", NULL, 1);
	add(f->s, "bob@example.org", NULL, NULL, 1);
	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		buf_reset(&b);
		buf_addstr(&b, "");
		assert_int_equal(store_subscriber_find(f->s, t[i].text,
		    collect_email, &b, &cause), 0);
		assert_str_eq_msg(t[i].text, b.data, t[i].want);
	}
	buf_free(&b);
}

/* find() on the rows of every kind: keyed, changed, and keyless. */
static void
find_is(struct store *s, const char *text, const char *want)
{
	struct buf	 b;
	char		*cause = NULL;

	buf_init(&b, BUF_NOMAX);
	buf_addstr(&b, "");
	if (store_subscriber_find(s, text, collect_email, &b, &cause) != 0) {
		print_error("find %s: %s\n", text, cause);
		fail();
	}
	assert_str_eq_msg(text, b.data, want);
	buf_free(&b);
}

/*
 * The search keys (schema version 11): postroom's own writes keep them,
 * and rows another program wrote or changed, without keys, are found
 * all the same, by their new name and not their old one.
 */
static void
test_find_keys(void **state)
{
	struct fixture	*f = *state;
	char		*cause = NULL;
	int64_t		 id, n;

	id = add(f->s, "ann@example.org", "Ann Ångström", NULL, 1);
	add(f->s, "bob@example.org", "", NULL, 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name IS NULL"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name = 'ann angstrom'"
	    " AND search_email = 'ann@example.org'"), 1);
	find_is(f->s, "ANGSTR", "ann@example.org");

	/* Renamed by postroom: the keys follow. */
	assert_int_equal(store_subscriber_update(f->s, id, "Ann Öberg", NULL,
	    &cause), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name = 'ann oberg'"), 1);
	find_is(f->s, "oberg", "ann@example.org");
	find_is(f->s, "angstrom", "");
	/* Only attributes: the keys stay. */
	assert_int_equal(store_subscriber_update(f->s, id, NULL, "{\"org\":"
	    "\"NHS\"}", &cause), 1);
	find_is(f->s, "oberg", "ann@example.org");
	/* A name taken away: found by address only. */
	assert_int_equal(store_subscriber_update(f->s, id, "", NULL, &cause),
	    1);
	find_is(f->s, "oberg", "");
	find_is(f->s, "ann@", "ann@example.org");

	/* Another program's rows and changes: no keys, found anyway. */
	assert_int_equal(store_exec_sql(f->s, "INSERT INTO subscribers"
	    " (email, name, created_at, updated_at) VALUES"
	    " ('cy@example.org', 'Cy Çelik', 0, 0);"
	    " UPDATE subscribers SET name = 'Bob Dvořák'"
	    " WHERE email = 'bob@example.org'", &cause), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name IS NULL"), 2);
	find_is(f->s, "celik", "cy@example.org");
	find_is(f->s, "DVORAK", "bob@example.org");
	find_is(f->s, "example.org", "ann@example.org bob@example.org"
	    " cy@example.org");
	/* ... and renamed by postroom later, they have keys again. */
	id = add(f->s, "cy@example.org", NULL, NULL, 0);
	assert_int_equal(store_subscriber_update(f->s, id, "Cy Celik", NULL,
	    &cause), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name IS NULL"), 1);
	find_is(f->s, "celik", "cy@example.org");

	/* store_subscriber_search_keys(): the keyless, max at a time. */
	assert_int_equal(store_exec_sql(f->s, "INSERT INTO subscribers"
	    " (email, name, created_at, updated_at) VALUES"
	    " ('dee@example.org', NULL, 0, 0)", &cause), 0);
	assert_int_equal(store_subscriber_search_keys(f->s, 1, &n, &cause), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_subscriber_search_keys(f->s, 10, &n, &cause),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(store_subscriber_search_keys(f->s, 10, &n, &cause),
	    0);
	assert_int_equal(n, 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE search_name IS NULL"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE email = 'bob@example.org' AND search_name = 'bob dvorak'"
	    " AND search_email = 'bob@example.org'"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM subscribers"
	    " WHERE email = 'dee@example.org' AND search_name = ''"), 1);
	find_is(f->s, "DVOŘ", "bob@example.org");
	find_is(f->s, "dee", "dee@example.org");
}

/*
 * Erasure says what it erased; an address never held is not suppressed
 * unless asked; an enquirer's enquiries lose everything of them, with
 * their forwards and acknowledgements, and say where the originals are.
 */
static void
test_erase(void **state)
{
	struct fixture		*f = *state;
	struct store_erasure	 x;
	char			*cause = NULL;
	int64_t			 id;

	/* Nothing held: nothing changed, unless asked. */
	assert_int_equal(store_subscriber_erase(f->s, "nobody@example.org",
	    0, &x, &cause), 0);
	assert_int_equal(x.held, 0);
	assert_int_equal(x.suppressed, 0);
	assert_int_equal(x.was_suppressed, 0);
	store_erasure_clear(&x);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM suppressions"),
	    0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM events"), 0);
	assert_int_equal(store_subscriber_erase(f->s, "nobody@example.org",
	    STORE_ERASE_SUPPRESS_ANYWAY, &x, &cause), 0);
	assert_int_equal(x.held, 0);
	assert_int_equal(x.suppressed, 1);
	store_erasure_clear(&x);
	assert_int_equal(store_subscriber_erase(f->s, "NOBODY@example.org",
	    0, &x, &cause), 0);
	assert_int_equal(x.was_suppressed, 1);
	store_erasure_clear(&x);

	/* A subscriber who also wrote in, from another case. */
	id = add(f->s, "Sian.Jones@nhs.uk", "Siân", NULL, 1);
	member(f->s, id, "news", STORE_MEMBER_CONFIRMED, NULL);
	assert_int_equal(store_exec_sql(f->s,
	    "INSERT INTO enquiries (id, reference, message_id, content_hash,"
	    " sender, sender_name, subject, lead, reason, source, received_at,"
	    " ack, raw) VALUES"
	    " (1, 'ENQ-2026-00001', 'm1@x', 'h1', 'SIAN.jones@nhs.uk', 'Siân',"
	    " 'Help', 'general', 'It says Derby', 'maildir:123.M1.h', 1,"
	    " 'queued', X'41'),"
	    " (2, 'ENQ-2026-00002', NULL, 'h2', 'sian.jones@NHS.uk', 'Siân',"
	    " 'Again', 'training', 'x', 'imap:7', 2,"
	    " 'sian.jones@nhs.uk was already acknowledged today', NULL),"
	    " (3, 'ENQ-2026-00003', NULL, 'h3', 'bob@example.org', 'Bob', 'B',"
	    " 'general', 'x', 'pipe', 3, 'queued', NULL);"
	    "INSERT INTO outbox_bodies (id, body) VALUES (1, X'41'),"
	    " (2, CAST('from sian.jones@nhs.uk: Help' AS BLOB));"
	    "INSERT INTO outbox (kind, enquiry_id, body_id, mail_from,"
	    " rcpt_to, state, created_at, updated_at) VALUES"
	    " ('forward', 1, 1, 'e@x', 'lead@example.org', 'sent', 1, 1),"
	    " ('ack', 1, 1, '', 'replies@elsewhere.org', 'sent', 1, 1),"
	    " ('forward', 2, 1, 'e@x', 'lead@example.org', 'queued', 1, 1),"
	    " ('forward', 3, 1, 'e@x', 'lead@example.org', 'sent', 1, 1),"
	    " ('lead_digest', NULL, 2, 'e@x', 'lead@example.org', 'sent', 1,"
	    " 1);", &cause), 0);
	assert_int_equal(store_subscriber_erase(f->s, "sian.jones@nhs.uk", 0,
	    &x, &cause), 0);
	assert_int_equal(x.held, 1);
	assert_int_equal(x.suppressed, 1);
	assert_int_equal(x.nsubscribers, 1);
	assert_int_equal(x.subscriber_ids[0], id);
	assert_int_equal(x.memberships, 1);
	assert_int_equal(x.forwards, 2);
	assert_int_equal(x.acks, 1);
	assert_int_equal(x.lead_digests, 1);
	assert_int_equal(x.nenquiries, 2);
	assert_str_eq_msg("first", x.enquiries[0].reference, "ENQ-2026-00001");
	assert_str_eq_msg("source", x.enquiries[0].source, "maildir:123.M1.h");
	assert_str_eq_msg("message-id", x.enquiries[0].message_id, "m1@x");
	assert_int_equal(x.enquiries[0].forwarded, 1);
	assert_null(x.enquiries[1].message_id);
	assert_int_equal(x.enquiries[1].forwarded, 0);
	assert_str_eq_msg("lead", x.enquiries[1].lead, "training");
	store_erasure_clear(&x);

	/* Nothing of her is left; Bob's enquiry and forward are. */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM enquiries WHERE"
	    " sender IS NULL AND sender_name IS NULL AND subject IS NULL AND"
	    " raw IS NULL AND instr(ack, '@') = 0 AND reason ="
	    " 'erased at the sender''s request'"), 2);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox"), 1);
	/* The summary's body went with it; the one Bob's row shares stays. */
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox_bodies"
	    " WHERE id = 2"), 0);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM outbox_bodies"
	    " WHERE id = 1"), 1);
	assert_int_equal(sql_int(f->s, "SELECT count(*) FROM enquiries WHERE"
	    " sender = 'bob@example.org' AND subject = 'B'"), 1);
	assert_int_equal(store_subscriber_suppressed(f->s, "SIAN.JONES@nhs.uk",
	    &cause), 1);
}

/*
 * Sign-ups never confirmed go after web.pending_days: the old pending
 * memberships and their queued confirmation emails, and the people left
 * on no list; a recent sign-up, a confirmed list of the same person and
 * other people stay.  Times are the test's own.
 */
static void
test_purge_pending(void **state)
{
	struct fixture	*f = *state;
	char		*cause = NULL;
	int64_t		 old, both, fresh, members, people;

	old = add(f->s, "old@example.org", "Old", NULL, 1);
	member(f->s, old, "news", STORE_MEMBER_PENDING, NULL);
	both = add(f->s, "both@example.org", "Both", NULL, 1);
	member(f->s, both, "news", STORE_MEMBER_PENDING, NULL);
	member(f->s, both, "training", STORE_MEMBER_CONFIRMED, NULL);
	fresh = add(f->s, "fresh@example.org", "Fresh", NULL, 1);
	member(f->s, fresh, "news", STORE_MEMBER_PENDING, NULL);
	assert_int_equal(store_exec_sql(f->s, "UPDATE memberships SET"
	    " created_at = 1000 WHERE subscriber_id IN (1, 2);"
	    " UPDATE memberships SET created_at = 5000 WHERE subscriber_id = 3;"
	    " UPDATE subscribers SET created_at = 1000;"
	    " INSERT INTO outbox_bodies (id, body) VALUES (1, X'41');"
	    " INSERT INTO outbox (kind, subscriber_id, dedup_key, body_id,"
	    " mail_from, rcpt_to, created_at, updated_at) VALUES"
	    " ('confirm', 1, 'c1', 1, 'b@x', 'old@example.org', 1000, 1000),"
	    " ('confirm', 3, 'c3', 1, 'b@x', 'fresh@example.org', 5000,"
	    " 5000)", &cause), 0);
	assert_int_equal(old, 1);
	assert_int_equal(both, 2);

	assert_int_equal(store_members_purge_pending(f->s, 3000, &members,
	    &people, &cause), 0);
	check_int("pending memberships deleted", members, 2);
	check_int("people left on no list deleted", people, 1);
	check_int("people", sql_int(f->s, "SELECT group_concat(id, '') FROM"
	    " (SELECT id FROM subscribers ORDER BY id)"), 23);
	check_int("both keeps the confirmed list", sql_int(f->s,
	    "SELECT count(*) FROM memberships WHERE subscriber_id = 2 AND"
	    " list = 'training' AND status = 'confirmed'"), 1);
	check_int("the old confirmation email went too", sql_int(f->s,
	    "SELECT count(*) FROM outbox WHERE dedup_key = 'c1'"), 0);
	check_int("the fresh one stays", sql_int(f->s,
	    "SELECT count(*) FROM outbox WHERE dedup_key = 'c3'"), 1);
	/* Again: nothing more. */
	assert_int_equal(store_members_purge_pending(f->s, 3000, &members,
	    &people, &cause), 0);
	check_int("a second purge", members + people, 0);
}


/*
 * Each row has its own token salt, made with it: forgetting someone and
 * adding the address again gives another salt (and another id), so that
 * no old link names the new row (issue 13, item 2).
 */
static void
test_token_salt(void **state)
{
	struct fixture		*f = *state;
	struct store_subscriber	 sub;
	unsigned char		 a[TOKEN_SALT_LEN], b[TOKEN_SALT_LEN];
	unsigned char		 zero[TOKEN_SALT_LEN];
	char			*cause = NULL;
	int64_t			 id, id2, other;

	memset(zero, 0, sizeof zero);
	memset(&sub, 0, sizeof sub);
	id = add(f->s, "ann@example.org", "Ann", NULL, 1);
	other = add(f->s, "bob@example.org", "Bob", NULL, 1);
	assert_int_equal(store_token_salt(f->s, id, a, &cause), 1);
	assert_int_equal(store_token_salt(f->s, other, b, &cause), 1);
	assert_memory_not_equal(a, zero, TOKEN_SALT_LEN);
	assert_memory_not_equal(a, b, TOKEN_SALT_LEN);
	/* The subscriber as read carries it, to sign links with. */
	assert_int_equal(store_subscriber_get_id(f->s, id, &sub, &cause), 1);
	assert_memory_equal(sub.token_salt, a, TOKEN_SALT_LEN);
	store_subscriber_clear(&sub);

	assert_int_equal(store_subscriber_forget(f->s, "ann@example.org",
	    &cause), 1);
	assert_int_equal(store_token_salt(f->s, id, b, &cause), 0);
	/* Suppressed, but staff may still add the row again by hand. */
	assert_int_equal(store_exec_sql(f->s, "DELETE FROM suppressions",
	    &cause), 0);
	id2 = add(f->s, "ann@example.org", "Ann", NULL, 1);
	assert_true(id2 > other);
	assert_int_equal(store_token_salt(f->s, id2, b, &cause), 1);
	assert_memory_not_equal(a, b, TOKEN_SALT_LEN);
	/* Made again under the old id (a restored backup): another salt. */
	{
		char	*sql = xprintf("UPDATE subscribers SET id = %lld"
		    " WHERE id = %lld", (long long)id, (long long)id2);

		assert_int_equal(store_exec_sql(f->s, sql, &cause), 0);
		free(sql);
	}
	assert_int_equal(store_token_salt(f->s, id, b, &cause), 1);
	assert_memory_not_equal(a, b, TOKEN_SALT_LEN);
}

/* Rows from before version 7 get a salt each from the migration. */
static void
test_token_salt_migrated(void **state)
{
	struct fixture	*f = *state;
	unsigned char	 a[TOKEN_SALT_LEN], b[TOKEN_SALT_LEN];
	char		*cause = NULL;

	store_close(f->s);
	unlink(f->db);
	f->s = store_open_version(f->db, 6, &cause);
	assert_non_null(f->s);
	assert_int_equal(store_exec_sql(f->s, "INSERT INTO subscribers"
	    " (id, email, created_at, updated_at) VALUES"
	    " (1, 'ann@example.org', 1, 1), (2, 'bob@example.org', 1, 1);"
	    " INSERT INTO suppressions (hash, reason, created_at) VALUES"
	    " ('33b7efa039b7ba48dd0e4f1e28bb8ead899ad125439a854cb63e8960b94a3657',"
	    " 'forgotten', 1)", &cause), 0);
	store_close(f->s);
	f->s = store_open(f->db, &cause);
	assert_non_null(f->s);
	assert_int_equal(store_token_salt(f->s, 1, a, &cause), 1);
	assert_int_equal(store_token_salt(f->s, 2, b, &cause), 1);
	assert_memory_not_equal(a, b, TOKEN_SALT_LEN);
	/* The plain hash of before is kept, marked legacy, and still counts. */
	assert_int_equal(sql_int(f->s, "SELECT keyed FROM suppressions"), 0);
	assert_int_equal(store_subscriber_suppressed(f->s, "Alice@example.org",
	    &cause), 1);
}

/*
 * The erasure hash is keyed (issue 13, item 16): what is stored is
 * neither the plain SHA-256 of the address nor the unkeyed hash of
 * before, it is the HMAC under the key in forget.key, and two databases
 * with two keys store two hashes for one address.  Suppression works end
 * to end; a lost key is not silently made again.
 */
static void
test_forget_keyed(void **state)
{
	struct fixture	*f = *state;
	struct store	*s2;
	unsigned char	 key[TOKEN_KEY_LEN], md[CRYPTO_SHA256_LEN];
	char		 want[65], plain[65], legacy[65], dir2[64], db2[128];
	char		*got = NULL, *got2 = NULL, *cause = NULL, path[160];
	size_t		 i;

	(void)add(f->s, "ann@example.org", "Ann", NULL, 1);
	assert_int_equal(store_subscriber_forget(f->s, "Ann@Example.org",
	    &cause), 1);
	assert_int_equal(store_query_text(f->s, "SELECT hash FROM"
	    " suppressions WHERE keyed = 1", &got, &cause), 1);
	assert_non_null(got);

	forget_key(f, key);
	token_hash_address(key, "ann@example.org", want);
	assert_str_eq_msg("the stored hash", got, want);
	crypto_sha256("ann@example.org", strlen("ann@example.org"), "", 0,
	    md);
	for (i = 0; i < sizeof md; i++)
		snprintf(plain + 2 * i, 3, "%02x", md[i]);
	assert_true(strcmp(got, plain) != 0);
	token_hash_address_legacy("ann@example.org", legacy);
	assert_true(strcmp(got, legacy) != 0);

	/* Suppressed, in any spelling; someone else is not. */
	assert_int_equal(store_subscriber_suppressed(f->s, "ANN@example.org",
	    &cause), 1);
	assert_int_equal(store_subscriber_suppressed(f->s, "bob@example.org",
	    &cause), 0);

	/* Another database beside another key: another hash. */
	snprintf(dir2, sizeof dir2, "/tmp/test-subscriber.XXXXXX");
	assert_non_null(mkdtemp(dir2));
	snprintf(db2, sizeof db2, "%s/p.db", dir2);
	s2 = store_open(db2, &cause);
	assert_non_null(s2);
	assert_int_equal(store_subscriber_suppress(s2, "ann@example.org",
	    "forgotten", &cause), 1);
	assert_int_equal(store_query_text(s2, "SELECT hash FROM"
	    " suppressions", &got2, &cause), 1);
	assert_true(strcmp(got, got2) != 0);
	store_close(s2);
	test_remove_dir(dir2);
	free(got2);

	/* The key lost: refused, not made again (that would unforget). */
	store_close(f->s);
	snprintf(path, sizeof path, "%s/forget.key", f->dir);
	assert_int_equal(unlink(path), 0);
	f->s = store_open(f->db, &cause);
	assert_non_null(f->s);
	assert_int_equal(store_subscriber_suppressed(f->s, "ann@example.org",
	    &cause), -1);
	assert_non_null(strstr(cause, "restore it"));
	free(cause);
	assert_int_equal(access(path, F_OK), -1);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_add_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_membership, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_walks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_skips_confirm,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_salt, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_salt_migrated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forget_keyed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_pending, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
