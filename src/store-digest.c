/*
 * store-digest.c - the SQL of digests: what was sent for which period,
 * which newsletters are held for whom, and which enquiries went into
 * which lead's summary.
 *
 * Owns: the digests_sent, digest_items and digest_enquiries rows and the
 * queries that decide what is held (the rule is written once, in
 * STORE_DIGEST_HELD, and explained in store.h).  Does not own: the SQLite
 * connection (store.c), the calendar (period.c), rendering or queueing
 * (digest.c, store-outbox.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "xmalloc.h"

/*
 * The campaigns held for a member: ?1 the list, ?2 since, ?3 end; sub,
 * mode and confirmed are SQL for the member's id, mode and confirmed_at.
 * Kept in one place so that the member walk and the per-member query can
 * never disagree.
 */
#define STORE_DIGEST_HELD(sub, mode, confirmed)				\
	" FROM campaigns c WHERE c.list = ?1"				\
	" AND c.started_at >= max(?2, " confirmed ")"			\
	" AND c.started_at < ?3"					\
	" AND (c.status = 'sent' OR"					\
	" (c.status = 'sending' AND " mode " = 'digest'))"		\
	" AND NOT EXISTS (SELECT 1 FROM outbox o"			\
	" WHERE o.campaign_id = c.id AND o.subscriber_id = " sub ")"	\
	" AND NOT EXISTS (SELECT 1 FROM digest_items d"			\
	" WHERE d.subscriber_id = " sub " AND d.campaign_id = c.id)"

/* --- the record of digests sent ---------------------------------------- */

int
store_digest_sent(struct store *s, const char *kind, const char *key,
    const char *period, char **cause)
{
	int64_t	n = 0;

	if (store_query_int(s, &n, cause,
	    "SELECT count(*) FROM digests_sent"
	    " WHERE kind = ?1 AND key = ?2 AND period = ?3", "ttt", kind,
	    key, period) == -1)
		return -1;
	return n > 0;
}

int
store_digest_record(struct store *s, const char *kind, const char *key,
    const char *period, int64_t messages, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO digests_sent (kind, key, period, messages, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (kind, key, period) DO NOTHING", "tttII", kind, key,
	    period, messages, now);
	if (n == -1)
		return -1;
	return n > 0;
}

/* --- list digests ---------------------------------------------------------- */

void
store_digest_member_clear(struct store_digest_member *m)
{
	store_subscriber_clear(&m->sub);
	memset(m, 0, sizeof *m);
}

int
store_digest_members(struct store *s, const char *list, int64_t since,
    int64_t end, int64_t after_id, struct store_digest_member *out,
    size_t max, size_t *n, char **cause)
{
	struct store_digest_member	*m;
	struct store_stmt		*st;
	const void			*salt;
	size_t				 saltlen;
	int				 rc;

	*n = 0;
	st = store_query(s, cause,
	    "SELECT s.id, s.email, coalesce(s.name, ''), s.attrs,"
	    " s.created_at, m.mode = 'digest', coalesce(m.confirmed_at, 0),"
	    " s.token_salt"
	    " FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.list = ?1 AND m.status = 'confirmed'"
	    " AND m.subscriber_id > ?4"
	    " AND EXISTS (SELECT 1"
	    STORE_DIGEST_HELD("m.subscriber_id", "m.mode",
	    "coalesce(m.confirmed_at, 0)")
	    ") ORDER BY m.subscriber_id LIMIT ?5", "tIIII", list, since, end,
	    after_id, (int64_t)max);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1 && *n < max) {
		m = &out[(*n)++];
		memset(m, 0, sizeof *m);
		m->sub.id = store_column_int(st, 0);
		m->sub.email = store_column_text_or(st, 1, "");
		m->sub.name = store_column_text_or(st, 2, "");
		m->sub.attrs = store_column_text_or(st, 3, "{}");
		m->sub.created_at = store_column_int(st, 4);
		m->digest_mode = store_column_int(st, 5) != 0;
		m->confirmed_at = store_column_int(st, 6);
		/* Else zeros: its links then do nothing (token.h). */
		if ((salt = store_column_blob(st, 7, &saltlen)) != NULL &&
		    saltlen == TOKEN_SALT_LEN)
			memcpy(m->sub.token_salt, salt, TOKEN_SALT_LEN);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_digest_held(struct store *s, const char *list,
    const struct store_digest_member *m, int64_t since, int64_t end,
    int64_t *ids, size_t max, size_t *n, char **cause)
{
	struct store_stmt	*st;

	*n = 0;
	st = store_query(s, cause, "SELECT c.id"
	    STORE_DIGEST_HELD("?4", "?5", "?6")
	    " ORDER BY c.started_at, c.id LIMIT ?7", "tIIItII", list, since,
	    end, m->sub.id, m->digest_mode ? "digest" : "immediate",
	    m->confirmed_at, (int64_t)max);
	return store_step_ids(s, st, ids, max, n, cause);
}

int
store_digest_item_add(struct store *s, int64_t subscriber_id,
    int64_t campaign_id, const char *list, const char *period,
    int64_t outbox_id, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO digest_items (subscriber_id, campaign_id, list,"
	    " period, outbox_id, created_at)"
	    " VALUES (?1, ?2, ?3, ?4, NULLIF(?5, 0), ?6)"
	    " ON CONFLICT (subscriber_id, campaign_id) DO NOTHING", "IIttII",
	    subscriber_id, campaign_id, list, period, outbox_id, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_digest_had(struct store *s, int64_t campaign_id, int64_t subscriber_id,
    char **cause)
{
	int64_t	n = 0;

	if (store_query_int(s, &n, cause,
	    "SELECT count(*) FROM digest_items"
	    " WHERE subscriber_id = ?1 AND campaign_id = ?2", "II",
	    subscriber_id, campaign_id) == -1)
		return -1;
	return n > 0;
}

/* --- lead digests ---------------------------------------------------------- */

void
store_digest_enquiry_clear(struct store_digest_enquiry *e)
{
	free(e->reference);
	free(e->sender);
	free(e->sender_name);
	free(e->subject);
	free(e->lead);
	free(e->rule);
	free(e->raw);
	memset(e, 0, sizeof *e);
}

int
store_digest_enquiries(struct store *s, const char *lead, int64_t since,
    int64_t end, int raw, struct store_digest_enquiry *out, size_t max,
    size_t *n, int64_t *more, char **cause)
{
	struct store_digest_enquiry	*e;
	struct store_stmt		*st;
	const void			*p;
	size_t				 len;
	int64_t				 total = 0;
	int				 rc;

	*n = 0;
	*more = 0;
	st = store_query(s, cause,
	    "SELECT e.id, e.reference, coalesce(e.sender, ''),"
	    " coalesce(e.sender_name, ''), coalesce(e.subject, ''),"
	    " coalesce(e.lead, ''), coalesce(e.rule, ''), e.received_at,"
	    " coalesce(e.routed_at, e.received_at),"
	    " CASE WHEN ?4 THEN e.raw END"
	    " FROM enquiries e WHERE e.lead = ?1"
	    " AND coalesce(e.routed_at, e.received_at) >= ?2"
	    " AND coalesce(e.routed_at, e.received_at) < ?3"
	    " AND NOT EXISTS (SELECT 1 FROM digest_enquiries d"
	    " WHERE d.lead = ?1 AND d.enquiry_id = e.id)"
	    " ORDER BY coalesce(e.routed_at, e.received_at), e.id LIMIT ?5",
	    "tIIiI", lead, since, end, raw != 0, (int64_t)max);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1 && *n < max) {
		e = &out[(*n)++];
		memset(e, 0, sizeof *e);
		e->id = store_column_int(st, 0);
		e->reference = store_column_text_or(st, 1, "");
		e->sender = store_column_text_or(st, 2, "");
		e->sender_name = store_column_text_or(st, 3, "");
		e->subject = store_column_text_or(st, 4, "");
		e->lead = store_column_text_or(st, 5, "");
		e->rule = store_column_text_or(st, 6, "");
		e->received_at = store_column_int(st, 7);
		e->routed_at = store_column_int(st, 8);
		if (!store_column_is_null(st, 9)) {
			p = store_column_blob(st, 9, &len);
			e->raw = xmalloc(len + 1);
			if (len > 0)
				memcpy(e->raw, p, len);
			e->raw[len] = '\0';
			e->rawlen = len;
		}
	}
	store_done(st);
	if (rc == -1)
		return -1;

	if (store_query_int(s, &total, cause,
	    "SELECT count(*) FROM enquiries e WHERE e.lead = ?1"
	    " AND coalesce(e.routed_at, e.received_at) >= ?2"
	    " AND coalesce(e.routed_at, e.received_at) < ?3"
	    " AND NOT EXISTS (SELECT 1 FROM digest_enquiries d"
	    " WHERE d.lead = ?1 AND d.enquiry_id = e.id)", "tII", lead, since,
	    end) == -1)
		return -1;
	*more = total > (int64_t)*n ? total - (int64_t)*n : 0;
	return 0;
}

int
store_digest_enquiry_mark(struct store *s, const char *lead,
    int64_t enquiry_id, const char *period, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO digest_enquiries (lead, enquiry_id, period,"
	    " created_at) VALUES (?1, ?2, ?3, ?4)"
	    " ON CONFLICT (lead, enquiry_id) DO NOTHING", "tItI", lead,
	    enquiry_id, period, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_digest_lead_counts(struct store *s, int64_t since, int64_t end,
    int (*fn)(const char *, int64_t, void *), void *arg, char **cause)
{
	struct store_stmt	*st;
	int			 rc, stop = 0;

	st = store_query(s, cause,
	    "SELECT coalesce(lead, ''), count(*) FROM enquiries"
	    " WHERE coalesce(routed_at, received_at) >= ?1"
	    " AND coalesce(routed_at, received_at) < ?2"
	    " GROUP BY 1 ORDER BY 1", "II", since, end);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		stop = fn(store_column_peek(st, 0), store_column_int(st, 1),
		    arg);
		if (stop != 0)
			break;
	}
	store_done(st);
	if (rc == -1)
		return -1;
	return stop;
}
