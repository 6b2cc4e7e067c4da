/*
 * store-merge.c - schema version 5's step: merging the subscribers whose
 * addresses differ only in the case of ASCII letters ("Sian.Jones@nhs.uk"
 * and "sian.jones@nhs.uk") into one person.
 *
 * Owns: the merge rules, and the report of what was merged (by id: no
 * address goes to the log).  Does not own: the schema (store.c runs this
 * between its SQL steps, with foreign keys off, and checks them after),
 * or matching at run time (version 6's COLLATE NOCASE does that).  Like a
 * migration's SQL, this file is frozen once released: it names the
 * columns of version 5 and uses no helper that later versions may change.
 *
 * The rules, for each group of addresses equal but for case:
 * - the survivor is the earliest created subscriber (then the lowest id);
 *   its address, in the form first given, is kept for display and
 *   sending; its name, unless it has none; attributes united, the
 *   survivor's winning on a conflict (json_patch);
 * - memberships united per list.  Where both are on a list the most
 *   protective status wins, in the order
 *	pending < confirmed < bounced < unsubscribed
 *   (a person's own "no" above an address that failed, either above
 *   consent; a tie keeps the survivor's row); the earliest consent is
 *   kept (consent_at with its method and source), the earliest
 *   confirmed_at and created_at, the survivor's mode;
 * - campaign rows of the outbox: UNIQUE (campaign_id, subscriber_id)
 *   allows one per person and campaign.  Where both have one, the row
 *   that got furthest is kept for the survivor, in the order
 *	skipped < failed < queued, deferred < sending < sent
 *   (what reached the person, or still can; a tie keeps the survivor's);
 *   the other stays in the outbox without a subscriber, as a forgotten
 *   person's rows do, so that the campaign's counts still add up and the
 *   bounces and digest items pointing at it stay valid - and, when it was
 *   still waiting, skipped ("merged"), never sent: nobody gets a
 *   newsletter twice.  Rows still waiting are addressed to the
 *   survivor's form.  Every other outbox row, the bounces and the digest
 *   items are re-pointed (a digest item the survivor already has for
 *   that newsletter is dropped);
 * - enquiries from any of the addresses are re-pointed to the survivor's
 *   form of it (enquiries hold an address, not an id);
 * - subscriber_merges records merged id -> survivor, so that links and
 *   VERP addresses carrying the old id still find the person.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-int.h"
#include "xmalloc.h"

/* Ids in the summary line; the rest are in the audit log. */
#define STORE_MERGE_LOG_IDS	20

/* One person merged into another. */
struct store_merge_pair {
	int64_t	 survivor;
	int64_t	 merged;
};

/* What one merge did, for the log and the audit log. */
struct store_merge_tally {
	int64_t	 lists_moved;	/* lists only the merged one had */
	int64_t	 lists_united;	/* lists both were on */
	int64_t	 outbox_moved;	/* rows re-pointed */
	int64_t	 outbox_skipped; /* waiting duplicates: skipped */
	int64_t	 outbox_kept;	/* finished duplicates: detached */
	int64_t	 bounces;
	int64_t	 digest_items;
};

/* A membership as version 5 has it; times 0 and strings NULL for NULL. */
struct store_merge_member {
	char	*list;
	char	*status;
	char	*consent_method;
	char	*consent_source;
	int64_t	 consent_at;
	int64_t	 confirmed_at;
	int64_t	 unsubscribed_at;
	int64_t	 created_at;
	int64_t	 updated_at;
};

/* The ASCII letters of s in lower case, as COLLATE NOCASE compares. */
static char *
store_merge_key(const char *s)
{
	char	*k, *p;

	k = xstrdup(s);
	for (p = k; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return k;
}

static int
store_merge_status_rank(const char *status)
{
	static const char *const order[] = {
		"pending", "confirmed", "bounced", "unsubscribed",
	};
	int	i;

	for (i = 0; i < (int)(sizeof order / sizeof order[0]); i++) {
		if (strcmp(status, order[i]) == 0)
			return i;
	}
	fatalx("%s: membership status %s", __func__, status);
}

static int
store_merge_state_rank(const char *state)
{
	if (strcmp(state, "sent") == 0)
		return 4;
	if (strcmp(state, "sending") == 0)
		return 3;
	if (strcmp(state, "queued") == 0 || strcmp(state, "deferred") == 0)
		return 2;
	if (strcmp(state, "failed") == 0)
		return 1;
	return 0;	/* skipped */
}

static int
store_merge_waiting(const char *state)
{
	return strcmp(state, "queued") == 0 || strcmp(state, "sending") == 0 ||
	    strcmp(state, "deferred") == 0;
}

static int64_t
store_merge_int(struct store_stmt *st, int col)
{
	return store_column_is_null(st, col) ? 0 : store_column_int(st, col);
}

static void
store_merge_member_clear(struct store_merge_member *m)
{
	free(m->list);
	free(m->status);
	free(m->consent_method);
	free(m->consent_source);
	memset(m, 0, sizeof *m);
}

/* The earlier of two times where 0 is none. */
static int64_t
store_merge_earlier(int64_t a, int64_t b)
{
	if (a == 0 || (b != 0 && b < a))
		return b;
	return a;
}

/* --- finding the groups --------------------------------------------------- */

/*
 * Every pair (survivor, merged), in address order: the rows sorted so
 * that equal addresses are together, earliest created first.
 */
static int
store_merge_pairs(struct store *s, struct store_merge_pair **pairs,
    size_t *npairs, char **cause)
{
	struct store_stmt	*st;
	char			*key = NULL, *k;
	int64_t			 id, survivor = 0;
	int			 rc;

	*pairs = NULL;
	*npairs = 0;
	st = store_query(s, cause,
	    "SELECT id, email FROM subscribers"
	    " ORDER BY email COLLATE NOCASE, created_at, id", "");
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		id = store_column_int(st, 0);
		k = store_merge_key(store_column_peek(st, 1));
		if (key != NULL && strcmp(k, key) == 0) {
			*pairs = xreallocarray(*pairs, *npairs + 1,
			    sizeof **pairs);
			(*pairs)[*npairs].survivor = survivor;
			(*pairs)[(*npairs)++].merged = id;
			free(k);
			continue;
		}
		free(key);
		key = k;
		survivor = id;
	}
	store_done(st);
	free(key);
	if (rc == -1) {
		free(*pairs);
		*pairs = NULL;
		*npairs = 0;
		return -1;
	}
	return 0;
}

/* --- memberships -------------------------------------------------------- */

/* The memberships of one subscriber into *out (*n set). */
static int
store_merge_members(struct store *s, int64_t id,
    struct store_merge_member **out, size_t *n, char **cause)
{
	struct store_merge_member	*m;
	struct store_stmt		*st;
	int				 rc;

	*out = NULL;
	*n = 0;
	st = store_query(s, cause,
	    "SELECT list, status, consent_method, consent_source,"
	    " consent_at, confirmed_at, unsubscribed_at, created_at,"
	    " updated_at FROM memberships WHERE subscriber_id = ?"
	    " ORDER BY list", "I", id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		*out = xreallocarray(*out, *n + 1, sizeof **out);
		m = &(*out)[(*n)++];
		memset(m, 0, sizeof *m);
		m->list = store_column_text(st, 0);
		m->status = store_column_text(st, 1);
		m->consent_method = store_column_text(st, 2);
		m->consent_source = store_column_text(st, 3);
		m->consent_at = store_merge_int(st, 4);
		m->confirmed_at = store_merge_int(st, 5);
		m->unsubscribed_at = store_merge_int(st, 6);
		m->created_at = store_merge_int(st, 7);
		m->updated_at = store_merge_int(st, 8);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

/* Unite the merged one's membership m with the survivor's keep. */
static int
store_merge_unite(struct store *s, const struct store_merge_pair *p,
    const struct store_merge_member *keep,
    const struct store_merge_member *m, char **cause)
{
	const struct store_merge_member	*won, *lost, *consent;

	/* The most protective status; the survivor's on a tie. */
	if (store_merge_status_rank(m->status) >
	    store_merge_status_rank(keep->status)) {
		won = m;
		lost = keep;
	} else {
		won = keep;
		lost = m;
	}
	/* The earliest consent, with how and where it was given. */
	consent = keep;
	if (m->consent_at != 0 && (keep->consent_at == 0 ||
	    m->consent_at < keep->consent_at))
		consent = m;

	if (store_run(s, cause,
	    "UPDATE memberships SET status = ?3,"
	    " consent_at = nullif(?4, 0), consent_method = ?5,"
	    " consent_source = ?6, confirmed_at = nullif(?7, 0),"
	    " unsubscribed_at = nullif(?8, 0), created_at = ?9,"
	    " updated_at = ?10 WHERE subscriber_id = ?1 AND list = ?2",
	    "IttIttIIII", p->survivor,
	    keep->list, won->status, consent->consent_at,
	    consent->consent_method, consent->consent_source,
	    store_merge_earlier(keep->confirmed_at, m->confirmed_at),
	    won->unsubscribed_at != 0 ? won->unsubscribed_at :
	    lost->unsubscribed_at,
	    keep->created_at < m->created_at ? keep->created_at :
	    m->created_at,
	    keep->updated_at > m->updated_at ? keep->updated_at :
	    m->updated_at) == -1)
		return -1;
	return store_run(s, cause,
	    "DELETE FROM memberships WHERE subscriber_id = ? AND list = ?",
	    "It", p->merged, m->list) == -1 ? -1 : 0;
}

static int
store_merge_memberships(struct store *s, const struct store_merge_pair *p,
    struct store_merge_tally *t, char **cause)
{
	struct store_merge_member	*mine = NULL, *theirs = NULL;
	size_t				 nmine, ntheirs, i, j;
	int				 rc = -1;

	if (store_merge_members(s, p->survivor, &mine, &nmine, cause) == -1 ||
	    store_merge_members(s, p->merged, &theirs, &ntheirs, cause) == -1)
		goto out;
	for (i = 0; i < ntheirs; i++) {
		for (j = 0; j < nmine; j++) {
			if (strcmp(mine[j].list, theirs[i].list) == 0)
				break;
		}
		if (j == nmine) {
			if (store_run(s, cause,
			    "UPDATE memberships SET subscriber_id = ?"
			    " WHERE subscriber_id = ? AND list = ?", "IIt",
			    p->survivor, p->merged, theirs[i].list) == -1)
				goto out;
			t->lists_moved++;
			continue;
		}
		if (store_merge_unite(s, p, &mine[j], &theirs[i], cause) == -1)
			goto out;
		t->lists_united++;
	}
	rc = 0;
out:
	for (i = 0; mine != NULL && i < nmine; i++)
		store_merge_member_clear(&mine[i]);
	for (i = 0; theirs != NULL && i < ntheirs; i++)
		store_merge_member_clear(&theirs[i]);
	free(mine);
	free(theirs);
	return rc;
}

/* --- the outbox ---------------------------------------------------------- */

/*
 * Take row other (of the pair's campaign duplicates) away from its
 * subscriber; still waiting, it is skipped and never sent.
 */
static int
store_merge_detach(struct store *s, const struct store_merge_pair *p,
    int64_t other, const char *state, int64_t now,
    struct store_merge_tally *t, char **cause)
{
	char	*why;
	int	 rc;

	why = xprintf("merged: a duplicate of subscriber %lld's row",
	    (long long)p->survivor);
	rc = store_run(s, cause,
	    "UPDATE outbox SET subscriber_id = NULL, updated_at = ?2,"
	    " claimed_at = CASE WHEN ?3 THEN NULL ELSE claimed_at END,"
	    " last_reply = CASE WHEN ?3 THEN ?4 ELSE last_reply END,"
	    " state = CASE WHEN ?3 THEN 'skipped' ELSE state END"
	    " WHERE id = ?1", "IIit", other, now, store_merge_waiting(state),
	    why);
	free(why);
	if (rc == -1)
		return -1;
	if (store_merge_waiting(state))
		t->outbox_skipped++;
	else
		t->outbox_kept++;
	return 0;
}

/* Row id (of the merged one) goes to the survivor. */
static int
store_merge_repoint(struct store *s, const struct store_merge_pair *p,
    int64_t id, int64_t now, char **cause)
{
	return store_run(s, cause,
	    "UPDATE outbox SET subscriber_id = ?2, updated_at = ?3,"
	    " rcpt_to = CASE WHEN state IN ('queued', 'sending', 'deferred')"
	    " THEN (SELECT email FROM subscribers WHERE id = ?2)"
	    " ELSE rcpt_to END WHERE id = ?1", "III", id, p->survivor,
	    now) == -1 ? -1 : 0;
}

/* One campaign row of the merged subscriber. */
struct store_merge_row {
	int64_t	 id;
	int64_t	 campaign_id;
	char	*state;
};

static int
store_merge_campaign_row(struct store *s, const struct store_merge_pair *p,
    const struct store_merge_row *r, int64_t now,
    struct store_merge_tally *t, char **cause)
{
	struct store_stmt	*st;
	char			*state = NULL;
	int64_t			 mine = 0;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT id, state FROM outbox WHERE campaign_id = ?"
	    " AND subscriber_id = ?", "II", r->campaign_id, p->survivor);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		mine = store_column_int(st, 0);
		state = store_column_text(st, 1);
	}
	store_done(st);
	if (rc == -1)
		return -1;

	if (rc == 0) {
		/* Only the merged one had it. */
		if ((rc = store_merge_repoint(s, p, r->id, now, cause)) == 0)
			t->outbox_moved++;
	} else if (store_merge_state_rank(r->state) >
	    store_merge_state_rank(state)) {
		/* Theirs got further: the survivor's row steps aside. */
		if ((rc = store_merge_detach(s, p, mine, state, now, t,
		    cause)) == 0 && (rc = store_merge_repoint(s, p, r->id, now,
		    cause)) == 0)
			t->outbox_moved++;
	} else
		rc = store_merge_detach(s, p, r->id, r->state, now, t, cause);
	free(state);
	return rc;
}

static int
store_merge_outbox(struct store *s, const struct store_merge_pair *p,
    int64_t now, struct store_merge_tally *t, char **cause)
{
	struct store_merge_row	*rows = NULL;
	struct store_stmt	*st;
	size_t			 n = 0, i;
	int			 rc;

	/* Step 1: campaign rows, one per person and campaign. */
	st = store_query(s, cause,
	    "SELECT id, campaign_id, state FROM outbox"
	    " WHERE subscriber_id = ? AND kind = 'campaign' ORDER BY id", "I",
	    p->merged);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		rows = xreallocarray(rows, n + 1, sizeof *rows);
		rows[n].id = store_column_int(st, 0);
		rows[n].campaign_id = store_column_int(st, 1);
		rows[n++].state = store_column_text(st, 2);
	}
	store_done(st);
	for (i = 0; rc == 0 && i < n; i++) {
		if (store_merge_campaign_row(s, p, &rows[i], now, t,
		    cause) == -1)
			rc = -1;
	}
	for (i = 0; i < n; i++)
		free(rows[i].state);
	free(rows);
	if (rc == -1)
		return -1;

	/*
	 * Step 2: everything else (confirmations, digests, tests).  Their
	 * messages are built already; the links in them carry the merged
	 * id, which subscriber_merges leads to the survivor.
	 */
	if ((rc = store_run(s, cause,
	    "UPDATE outbox SET subscriber_id = ?1 WHERE subscriber_id = ?2",
	    "II", p->survivor, p->merged)) == -1)
		return -1;
	t->outbox_moved += rc;
	return 0;
}

/* --- one merge ----------------------------------------------------------- */

static int
store_merge_one(struct store *s, const struct store_merge_pair *p,
    int64_t now, char **cause)
{
	struct store_merge_tally	 t;
	char				*detail;
	int				 n;

	memset(&t, 0, sizeof t);

	/* Step 1: the person: name when the survivor has none, attrs. */
	if (store_run(s, cause,
	    "UPDATE subscribers SET"
	    " name = coalesce(nullif(name, ''),"
	    "  (SELECT name FROM subscribers WHERE id = ?2)),"
	    " attrs = json_patch((SELECT attrs FROM subscribers"
	    "  WHERE id = ?2), attrs),"
	    " updated_at = max(updated_at, (SELECT updated_at"
	    "  FROM subscribers WHERE id = ?2))"
	    " WHERE id = ?1", "II", p->survivor, p->merged) == -1)
		return -1;

	/* Step 2: what points at the merged one points at the survivor. */
	if (store_merge_memberships(s, p, &t, cause) == -1 ||
	    store_merge_outbox(s, p, now, &t, cause) == -1)
		return -1;
	if ((n = store_run(s, cause,
	    "UPDATE bounces SET subscriber_id = ?1 WHERE subscriber_id = ?2",
	    "II", p->survivor, p->merged)) == -1)
		return -1;
	t.bounces = n;
	/* Unsubscribe requests by mail (version 3) are the person's too. */
	if (store_run(s, cause,
	    "UPDATE mail_unsubscribes SET subscriber_id = ?1"
	    " WHERE subscriber_id = ?2", "II", p->survivor, p->merged) == -1)
		return -1;
	if (store_run(s, cause,
	    "DELETE FROM digest_items WHERE subscriber_id = ?2"
	    " AND campaign_id IN (SELECT campaign_id FROM digest_items"
	    " WHERE subscriber_id = ?1)", "II", p->survivor,
	    p->merged) == -1)
		return -1;
	if ((n = store_run(s, cause,
	    "UPDATE digest_items SET subscriber_id = ?1"
	    " WHERE subscriber_id = ?2", "II", p->survivor,
	    p->merged)) == -1)
		return -1;
	t.digest_items = n;
	if (store_run(s, cause,
	    "UPDATE subscriber_merges SET subscriber_id = ?1"
	    " WHERE subscriber_id = ?2", "II", p->survivor, p->merged) == -1 ||
	    store_run(s, cause,
	    "INSERT INTO subscriber_merges (merged_id, subscriber_id,"
	    " merged_at) VALUES (?, ?, ?)", "III", p->merged, p->survivor,
	    now) == -1)
		return -1;

	/* Step 3: enquiries name the address, in the survivor's form. */
	if (store_run(s, cause,
	    "UPDATE enquiries SET sender = (SELECT email FROM subscribers"
	    " WHERE id = ?1) WHERE sender = (SELECT email FROM subscribers"
	    " WHERE id = ?1) COLLATE NOCASE AND sender <> (SELECT email"
	    " FROM subscribers WHERE id = ?1)", "I", p->survivor) == -1)
		return -1;

	/* Step 4: the merged one goes (foreign keys are off: nothing else). */
	if (store_run(s, cause, "DELETE FROM subscribers WHERE id = ?", "I",
	    p->merged) == -1)
		return -1;

	detail = xprintf("subscriber %lld merged into %lld (same address but "
	    "for case): lists %lld moved, %lld united; outbox %lld rows "
	    "re-pointed, %lld waiting duplicates skipped, %lld finished "
	    "duplicates kept apart; bounces %lld; digest items %lld",
	    (long long)p->merged, (long long)p->survivor,
	    (long long)t.lists_moved, (long long)t.lists_united,
	    (long long)t.outbox_moved, (long long)t.outbox_skipped,
	    (long long)t.outbox_kept, (long long)t.bounces,
	    (long long)t.digest_items);
	log_info("%s: %s", store_path(s), detail);
	n = store_run(s, cause, "INSERT INTO events (at, kind, subject, detail)"
	    " VALUES (?, 'subscriber.merge', NULL, ?)", "It", now, detail);
	free(detail);
	return n == -1 ? -1 : 0;
}

int
store_merge_case(struct store *s, char **cause)
{
	struct store_merge_pair	*pairs;
	int64_t			 now, survivors = 0;
	size_t			 npairs, i, shown = 0;
	char			*ids = NULL, *more;

	now = (int64_t)time(NULL);
	if (store_merge_pairs(s, &pairs, &npairs, cause) == -1)
		return -1;
	for (i = 0; i < npairs; i++) {
		if (store_merge_one(s, &pairs[i], now, cause) == -1) {
			free(pairs);
			free(ids);
			return -1;
		}
		if (i == 0 || pairs[i].survivor != pairs[i - 1].survivor)
			survivors++;
		if (shown < STORE_MERGE_LOG_IDS) {
			more = xprintf("%s%s%lld into %lld",
			    ids != NULL ? ids : "", ids != NULL ? ", " : "",
			    (long long)pairs[i].merged,
			    (long long)pairs[i].survivor);
			free(ids);
			ids = more;
			shown++;
		}
	}
	if (npairs > 0)
		log_warn("%s: %zu subscriber%s merged into %lld whose address "
		    "is the same but for case (subscriber %s%s); see the audit "
		    "log, kind subscriber.merge", store_path(s), npairs,
		    npairs == 1 ? "" : "s", (long long)survivors, ids,
		    npairs > shown ? ", ..." : "");
	free(ids);
	free(pairs);
	return 0;
}
