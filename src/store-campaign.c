/*
 * store-campaign.c - the campaigns table's rows.
 *
 * Owns: adding, reading, listing and editing campaigns, and the names of
 * their statuses.  Does not own: the SQLite connection (store.c), what a
 * campaign looks like when sent (newsletter.c), or moving a campaign from
 * one status to the next (the campaign engine).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "xmalloc.h"

static const char *const store_campaign_statuses[] = {
	[STORE_CAMPAIGN_DRAFT] = "draft",
	[STORE_CAMPAIGN_SCHEDULED] = "scheduled",
	[STORE_CAMPAIGN_SENDING] = "sending",
	[STORE_CAMPAIGN_PAUSED] = "paused",
	[STORE_CAMPAIGN_SENT] = "sent",
	[STORE_CAMPAIGN_CANCELLED] = "cancelled",
};

/*
 * Who a campaign is queued for: the members m of list ?2 who are
 * confirmed, in immediate mode unless ?3 (a list without digests: any
 * mode), and have not had campaign ?1 in a digest (digest.h).  One text
 * for queueing and for counting beforehand, so that the question before
 * a send gives the number the send then queues.
 */
#define STORE_CAMPAIGN_AUDIENCE						\
	"m.list = ?2 AND m.status = 'confirmed'"			\
	" AND (?3 OR m.mode = 'immediate')"				\
	" AND NOT EXISTS (SELECT 1 FROM digest_items d"			\
	" WHERE d.subscriber_id = m.subscriber_id AND d.campaign_id = ?1)"

/*
 * A failed row that failed for a temporary reason: the engine gave up
 * after smtp.max_retry_age (its reply starts with the prefix ?2 the
 * caller passes, DELIVER_GAVE_UP: 4xx replies, lost connections,
 * timeouts), or a 4xx code.  A 5xx is a refusal; anything else (no code
 * and no give-up: it could not be rendered or written) is neither.
 */
#define STORE_CAMPAIGN_TEMPORARY					\
	"(substr(coalesce(last_reply, ''), 1, length(?2)) = ?2"		\
	" OR coalesce(last_code, 0) BETWEEN 400 AND 499)"
#define STORE_CAMPAIGN_REFUSED						\
	"(coalesce(last_code, 0) BETWEEN 500 AND 599)"

/* The columns every read selects, in the order store_campaign_row reads. */
#define STORE_CAMPAIGN_COLUMNS						\
	"id, list, subject, template, status, scheduled_at, started_at,"	\
	" finished_at, paused_reason, created_by, created_at,"		\
	" updated_at, tested_at, edited_by, approved_by, approved_at"

const char *
store_campaign_status_name(enum store_campaign_status st)
{
	if ((unsigned int)st >= STORE_CAMPAIGN_NSTATUSES)
		return "unknown";
	return store_campaign_statuses[st];
}

int
store_campaign_status_parse(const char *s, enum store_campaign_status *st)
{
	int	i;

	if ((i = store_name_index(store_campaign_statuses,
	    STORE_CAMPAIGN_NSTATUSES, s)) == -1)
		return -1;
	*st = (enum store_campaign_status)i;
	return 0;
}

void
store_campaign_clear(struct store_campaign *c)
{
	free(c->list);
	free(c->subject);
	free(c->body);
	free(c->template);
	free(c->paused_reason);
	free(c->created_by);
	free(c->edited_by);
	free(c->approved_by);
	memset(c, 0, sizeof *c);
}

/* Fill c (zeroed) from a row of STORE_CAMPAIGN_COLUMNS; body not read. */
static int
store_campaign_row(struct store_stmt *st, struct store_campaign *c,
    char **cause)
{
	const char	*status;

	memset(c, 0, sizeof *c);
	c->id = store_column_int(st, 0);
	c->list = store_column_text_or(st, 1, "");
	c->subject = store_column_text_or(st, 2, "");
	c->template = store_column_text(st, 3);
	if (c->template == NULL || *c->template == '\0') {
		free(c->template);
		c->template = xstrdup(STORE_CAMPAIGN_TEMPLATE);
	}
	status = store_column_peek(st, 4);
	if (status == NULL ||
	    store_campaign_status_parse(status, &c->status) == -1) {
		*cause = xprintf("campaign %lld has an unknown status \"%s\"",
		    (long long)c->id, status != NULL ? status : "");
		store_campaign_clear(c);
		return -1;
	}
	c->scheduled_at = store_column_int(st, 5);
	c->started_at = store_column_int(st, 6);
	c->finished_at = store_column_int(st, 7);
	c->paused_reason = store_column_text_or(st, 8, "");
	c->created_by = store_column_text_or(st, 9, "");
	c->created_at = store_column_int(st, 10);
	c->updated_at = store_column_int(st, 11);
	c->tested_at = store_column_int(st, 12);
	c->edited_by = store_column_text_or(st, 13, "");
	c->approved_by = store_column_text_or(st, 14, "");
	c->approved_at = store_column_int(st, 15);
	return 0;
}

int
store_campaign_add(struct store *s, const struct store_campaign *c,
    int64_t now, int64_t *id, char **cause)
{
	const char	*template = c->template;

	if (template != NULL && *template == '\0')
		template = NULL;
	if (store_run(s, cause,
	    "INSERT INTO campaigns (list, subject, body, template, status,"
	    " created_by, edited_by, created_at, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, 'draft', ?5, ?5, ?6, ?6)",
	    "tttttI", c->list, c->subject, c->body, template,
	    c->created_by != NULL ? c->created_by : "", now) == -1)
		return -1;
	*id = store_last_insert_id(s);
	return 0;
}

int
store_campaign_get(struct store *s, int64_t id, struct store_campaign *c,
    char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT " STORE_CAMPAIGN_COLUMNS ", body"
	    " FROM campaigns WHERE id = ?", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		if (store_campaign_row(st, c, cause) == -1)
			rc = -1;
		else
			c->body = store_column_text_or(st, 16, "");
	}
	store_done(st);
	return rc;
}

int
store_campaign_edit(struct store *s, int64_t id, const char *subject,
    const char *body, const char *template, const char *who, int64_t now,
    char **cause)
{
	int	n;

	/*
	 * COALESCE keeps what is there for a NULL; the template is stored
	 * as NULL when it is the default, so "" resets it.  A test copy
	 * made before this change no longer shows the campaign as it is.
	 */
	n = store_run(s, cause,
	    "UPDATE campaigns SET subject = COALESCE(?1, subject),"
	    " body = COALESCE(?2, body),"
	    " template = CASE WHEN ?3 IS NULL THEN template"
	    "     WHEN ?3 = '' THEN NULL ELSE ?3 END,"
	    " tested_at = NULL, updated_at = ?4, edited_by = ?6,"
	    " approved_by = NULL, approved_at = NULL"
	    " WHERE id = ?5 AND status = 'draft'",
	    "tttIIt", subject, body, template, now, id, who);
	if (n == -1)
		return -1;
	return n > 0 ? 1 : 0;
}

int
store_campaign_approve(struct store *s, int64_t id, const char *who,
    int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "UPDATE campaigns SET approved_by = ?2, approved_at = ?3"
	    " WHERE id = ?1 AND status = 'draft'", "ItI", id, who, now);
	if (n == -1)
		return -1;
	return n > 0 ? 1 : 0;
}

int
store_campaign_each(struct store *s, const char *list,
    int (*fn)(const struct store_campaign *, void *), void *arg,
    char **cause)
{
	struct store_stmt	*st;
	struct store_campaign	 c;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT " STORE_CAMPAIGN_COLUMNS " FROM campaigns"
	    " WHERE ?1 IS NULL OR list = ?1 ORDER BY id DESC", "t", list);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		if (store_campaign_row(st, &c, cause) == -1) {
			rc = -1;
			break;
		}
		rc = fn(&c, arg);
		store_campaign_clear(&c);
		if (rc != 0)
			break;
	}
	store_done(st);
	return rc;
}

/* --- for the campaign engine ------------------------------------------ */

int
store_campaign_move(struct store *s, int64_t id,
    enum store_campaign_status from, enum store_campaign_status to,
    int64_t at, const char *reason, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "UPDATE campaigns SET status = ?3,"
	    " scheduled_at = CASE WHEN ?3 = 'scheduled' THEN ?4"
	    "     WHEN ?3 = 'draft' THEN NULL ELSE scheduled_at END,"
	    " started_at = CASE WHEN ?3 = 'sending'"
	    "     THEN coalesce(started_at, ?6) ELSE started_at END,"
	    " finished_at = CASE WHEN ?3 IN ('sent', 'cancelled') THEN ?6"
	    "     WHEN ?3 = 'sending' THEN NULL ELSE finished_at END,"
	    " paused_reason = CASE WHEN ?3 = 'paused' THEN ?5"
	    "     WHEN ?3 = 'sending' THEN NULL ELSE paused_reason END,"
	    " updated_at = ?6"
	    " WHERE id = ?1 AND status = ?2", "IttItI", id,
	    store_campaign_status_name(from), store_campaign_status_name(to),
	    at, reason != NULL ? reason : "", now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_campaign_queue(struct store *s, int64_t id, const char *list,
    int all_modes, const char *mail_from, int64_t not_before, int64_t now,
    int64_t *n, char **cause)
{
	int	rc;

	/*
	 * One statement for the whole list: 100,000 members are a matter of
	 * a second or so, inside the caller's transaction.  The members'
	 * index (list, status, subscriber_id) gives them in id order.
	 */
	rc = store_run(s, cause,
	    "INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from,"
	    " rcpt_to, next_attempt_at, created_at, updated_at)"
	    " SELECT 'campaign', ?1, m.subscriber_id, ?4, u.email, ?5, ?6, ?6"
	    " FROM memberships m JOIN subscribers u ON u.id = m.subscriber_id"
	    " WHERE " STORE_CAMPAIGN_AUDIENCE
	    " ORDER BY m.subscriber_id"
	    " ON CONFLICT DO NOTHING", "ItitII", id, list, all_modes != 0,
	    mail_from, not_before, now);
	if (rc == -1)
		return -1;
	*n = rc;
	return 0;
}

int
store_campaign_due(struct store *s, int64_t now, int64_t *ids, size_t max,
    size_t *n, char **cause)
{
	struct store_stmt	*st;

	*n = 0;
	st = store_query(s, cause,
	    "SELECT id FROM campaigns WHERE status = 'scheduled'"
	    " AND scheduled_at <= ?1 ORDER BY scheduled_at, id LIMIT ?2",
	    "II", now, (int64_t)max);
	return store_step_ids(s, st, ids, max, n, cause);
}

int
store_campaign_idle(struct store *s, int64_t *ids, size_t max, size_t *n,
    char **cause)
{
	struct store_stmt	*st;

	*n = 0;
	st = store_query(s, cause,
	    "SELECT c.id FROM campaigns c WHERE c.status = 'sending'"
	    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.campaign_id = c.id"
	    " AND o.state IN ('queued', 'sending', 'deferred'))"
	    " ORDER BY c.id LIMIT ?", "I", (int64_t)max);
	return store_step_ids(s, st, ids, max, n, cause);
}

int
store_campaign_counts(struct store *s, int64_t id,
    struct store_campaign_counts *c, char **cause)
{
	enum store_outbox_state	 state;
	struct store_stmt	*st;
	const char		*name;
	int			 rc;

	memset(c, 0, sizeof *c);
	/* Covered by the index outbox_campaign (campaign_id, state). */
	st = store_query(s, cause,
	    "SELECT state, count(*) FROM outbox WHERE campaign_id = ?"
	    " GROUP BY state", "I", id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		name = store_column_peek(st, 0);
		if (name == NULL || store_outbox_state_parse(name, &state) != 0)
			continue;	/* the schema's CHECK forbids it */
		c->state[state] = store_column_int(st, 1);
		c->total += c->state[state];
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_campaign_sent_since(struct store *s, int64_t id, int64_t since,
    int64_t *n, char **cause)
{
	*n = 0;
	if (store_query_int(s, n, cause,
	    "SELECT count(*) FROM outbox WHERE campaign_id = ?"
	    " AND state = 'sent' AND sent_at >= ?", "II", id, since) == -1)
		return -1;
	return 0;
}

int
store_campaign_skip_queued(struct store *s, int64_t id, const char *reason,
    int64_t now, int64_t *n, char **cause)
{
	int	rc;

	rc = store_run(s, cause,
	    "UPDATE outbox SET state = 'skipped', last_code = NULL,"
	    " last_reply = ?2, updated_at = ?3"
	    " WHERE campaign_id = ?1 AND state IN ('queued', 'deferred')",
	    "ItI", id, reason, now);
	if (rc == -1)
		return -1;
	*n = rc;
	return 0;
}

int
store_campaign_failed_kinds(struct store *s, int64_t id,
    const char *gave_up, int64_t *temporary, int64_t *refused,
    int64_t *other, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*temporary = *refused = *other = 0;
	/* Rows of forgotten people (no subscriber) cannot be sent again. */
	st = store_query(s, cause,
	    "SELECT coalesce(sum(" STORE_CAMPAIGN_TEMPORARY "), 0),"
	    " coalesce(sum(NOT " STORE_CAMPAIGN_TEMPORARY " AND "
	    STORE_CAMPAIGN_REFUSED "), 0), count(*)"
	    " FROM outbox WHERE campaign_id = ?1 AND state = 'failed'"
	    " AND subscriber_id IS NOT NULL", "It", id, gave_up);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		*temporary = store_column_int(st, 0);
		*refused = store_column_int(st, 1);
		*other = store_column_int(st, 2) - *temporary - *refused;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_campaign_requeue_failed(struct store *s, int64_t id,
    const char *gave_up, int all, int64_t now, int64_t *n, char **cause)
{
	int	rc;

	rc = store_run(s, cause,
	    "UPDATE outbox SET state = 'queued', attempts = 0,"
	    " next_attempt_at = ?3, created_at = ?3, updated_at = ?3"
	    " WHERE campaign_id = ?1 AND state = 'failed'"
	    " AND subscriber_id IS NOT NULL"
	    " AND (?4 OR " STORE_CAMPAIGN_TEMPORARY ")", "ItIi", id, gave_up,
	    now, all != 0);
	if (rc == -1)
		return -1;
	*n = rc;
	return 0;
}

int
store_campaign_failures(struct store *s, int64_t id,
    int (*fn)(const struct store_campaign_failure *, void *), void *arg,
    char **cause)
{
	struct store_campaign_failure	 f;
	struct store_stmt		*st;
	const char			*reply;
	int				 rc;

	st = store_query(s, cause,
	    "SELECT id, coalesce(subscriber_id, 0), rcpt_to,"
	    " coalesce(last_code, 0), last_reply, attempts, updated_at"
	    " FROM outbox WHERE campaign_id = ? AND state = 'failed'"
	    " ORDER BY id", "I", id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		memset(&f, 0, sizeof f);
		f.outbox_id = store_column_int(st, 0);
		f.subscriber_id = store_column_int(st, 1);
		f.rcpt_to = store_column_peek(st, 2);
		if (f.rcpt_to == NULL)
			f.rcpt_to = "";
		f.code = (int)store_column_int(st, 3);
		reply = store_column_peek(st, 4);
		f.reply = reply != NULL ? reply : "";
		f.attempts = (int)store_column_int(st, 5);
		f.at = store_column_int(st, 6);
		if ((rc = fn(&f, arg)) != 0)
			break;
	}
	store_done(st);
	return rc;
}

/* --- before a send, and changing a scheduled campaign ------------------- */

int
store_campaign_audience(struct store *s, int64_t id, const char *list,
    int all_modes, int64_t *n, char **cause)
{
	*n = 0;
	return store_query_int(s, n, cause,
	    "SELECT count(*) FROM memberships m WHERE " STORE_CAMPAIGN_AUDIENCE,
	    "Iti", id, list, all_modes != 0) == -1 ? -1 : 0;
}

int
store_campaign_waiting(struct store *s, int64_t id, const char *list,
    int64_t *n, char **cause)
{
	*n = 0;
	/* Queued rows of people still on the list: the engine skips others. */
	return store_query_int(s, n, cause,
	    "SELECT count(*) FROM outbox o JOIN memberships m"
	    " ON m.subscriber_id = o.subscriber_id AND m.list = ?2"
	    " WHERE o.campaign_id = ?1 AND o.kind = 'campaign'"
	    " AND o.state = 'queued' AND m.status = 'confirmed'", "It", id,
	    list) == -1 ? -1 : 0;
}

int
store_campaign_unqueue(struct store *s, int64_t id, int64_t *n,
    char **cause)
{
	int64_t	left = 0;
	int	rc;

	*n = 0;
	rc = store_run(s, cause,
	    "DELETE FROM outbox WHERE campaign_id = ?1 AND kind = 'campaign'"
	    " AND state = 'queued'", "I", id);
	if (rc == -1)
		return -1;
	*n = rc;
	if (store_run(s, cause,
	    "DELETE FROM outbox WHERE campaign_id = ?1 AND kind = 'campaign'"
	    " AND state = 'skipped'", "I", id) == -1)
		return -1;
	if (store_query_int(s, &left, cause,
	    "SELECT count(*) FROM outbox WHERE campaign_id = ?1", "I",
	    id) == -1)
		return -1;
	return left == 0 ? 0 : 1;
}

int
store_campaign_bring_forward(struct store *s, int64_t id, int64_t now,
    int64_t *n, char **cause)
{
	int	rc;

	rc = store_run(s, cause,
	    "UPDATE outbox SET next_attempt_at = ?2, updated_at = ?2"
	    " WHERE campaign_id = ?1 AND state = 'queued'"
	    " AND next_attempt_at > ?2", "II", id, now);
	if (rc == -1)
		return -1;
	*n = rc;
	return 0;
}

int
store_campaign_tested(struct store *s, int64_t id, int64_t now,
    char **cause)
{
	return store_run(s, cause,
	    "UPDATE campaigns SET tested_at = ?2 WHERE id = ?1", "II", id,
	    now) == -1 ? -1 : 0;
}

int
store_campaign_delete(struct store *s, int64_t id, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "DELETE FROM campaigns WHERE id = ?1 AND status = 'draft'"
	    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?1)",
	    "I", id);
	if (n == -1)
		return -1;
	return n > 0;
}
