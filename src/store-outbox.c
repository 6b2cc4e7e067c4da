/*
 * store-outbox.c - the outbox's rows: everything postroom sends passes
 * through here.
 *
 * Owns: queueing messages; for the delivery engine (deliver.c), the SQL
 * of finding due rows, claiming and completing them, recovering rows a
 * dead process left sending, pausing and finishing campaigns as their
 * rows complete, and the rate_limits rows.  Does not own: the SQLite
 * connection (store.c), the retry schedule and what a reply means
 * (deliver.c), other campaign SQL (store-campaign.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-int.h"
#include "xmalloc.h"

int
store_outbox_body_add(struct store *s, const void *data, size_t len,
    int64_t *body_id, char **cause)
{
	if (store_run(s, cause, "INSERT INTO outbox_bodies (body) VALUES (?)",
	    "b", data != NULL ? data : "", len) == -1)
		return -1;
	*body_id = store_last_insert_id(s);
	return 0;
}

int
store_outbox_body_forget(struct store *s, int64_t body_id, char **cause)
{
	int	n;

	n = store_run(s, cause, "DELETE FROM outbox_bodies WHERE id = ?1"
	    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE body_id = ?1)", "I",
	    body_id);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_outbox_body_get(struct store *s, int64_t body_id, char **data,
    size_t *len, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*data = NULL;
	*len = 0;
	/* The one query that reads a body: by its own key, nothing else. */
	st = store_query(s, cause, "SELECT body FROM outbox_bodies"
	    " WHERE id = ?", "I", body_id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		*data = store_column_bytes(st, 0, len);
	store_done(st);
	return rc;
}

int
store_outbox_add(struct store *s, const struct store_outbox_msg *m,
    int64_t *id, char **cause)
{
	int64_t	now = (int64_t)time(NULL), body_id = m->body_id;
	int	n;

	/* The bytes first, as their own row: the outbox row only points. */
	if (body_id == 0 && m->kind != STORE_OUTBOX_CAMPAIGN &&
	    store_outbox_body_add(s, m->message, m->len, &body_id,
	    cause) == -1)
		return -1;
	n = store_run(s, cause,
	    "INSERT INTO outbox (kind, subscriber_id, enquiry_id, dedup_key,"
	    " body_id, message_id, mail_from, rcpt_to, priority,"
	    " next_attempt_at, created_at, updated_at)"
	    " VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, NULLIF(?, 0), ?, ?, ?,"
	    " ?, ?, ?, ?)"
	    " ON CONFLICT (dedup_key) DO NOTHING",
	    "tIItItttiIII", store_outbox_kind_name(m->kind),
	    m->subscriber_id, m->enquiry_id, m->dedup_key, body_id,
	    m->message_id, m->mail_from, m->rcpt_to, m->priority,
	    m->not_before != 0 ? m->not_before : now, now, now);
	if (n == -1)
		return -1;
	if (n == 1) {
		if (id != NULL)
			*id = store_last_insert_id(s);
		return 1;
	}
	/* Queued before: the body made here is nobody's. */
	if (m->body_id == 0 && body_id != 0 &&
	    store_outbox_body_forget(s, body_id, cause) == -1)
		return -1;
	if (id != NULL && store_query_int(s, id, cause,
	    "SELECT id FROM outbox WHERE dedup_key = ?", "t",
	    m->dedup_key) == -1)
		return -1;
	return 0;
}

/* --- delivery --------------------------------------------------------- */

void
store_outbox_row_clear(struct store_outbox_row *row)
{
	free(row->mail_from);
	free(row->rcpt_to);
	free(row->message);
	free(row->list);
	free(row->member_status);
	free(row->sub_email);
	free(row->sub_name);
	free(row->sub_attrs);
	memset(row, 0, sizeof *row);
}

int
store_outbox_due(struct store *s, int64_t now, int campaigns, int64_t *ids,
    size_t max, size_t *n, char **cause)
{
	struct store_stmt	*st;

	*n = 0;
	/*
	 * Walk the partial index outbox_ready, which holds only the rows
	 * waiting (queued or deferred) in exactly this order, and stop at
	 * the limit: a batch costs the same whether 100 or 100,000 rows
	 * wait.  (Schema 1's index on state and a sort read every waiting
	 * row at every batch: quadratic over a campaign.)  The unary "+" on
	 * state, here and in the index's WHERE, keeps any index on state out
	 * of the running, and the two terms still match, so the partial
	 * index is usable.
	 */
	st = store_query(s, cause,
	    "SELECT o.id FROM outbox o"
	    " WHERE +o.state IN ('queued', 'deferred')"
	    " AND o.next_attempt_at <= ?1"
	    " AND (o.kind <> 'campaign' OR (?2 AND EXISTS (SELECT 1"
	    " FROM campaigns c WHERE c.id = o.campaign_id"
	    " AND c.status IN ('sending', 'cancelled'))))"
	    " ORDER BY o.priority DESC, o.next_attempt_at, o.id LIMIT ?3",
	    "IiI", now, campaigns != 0, (int64_t)max);
	return store_step_ids(s, st, ids, max, n, cause);
}

/*
 * The claimed row, and for a campaign row its campaign, subscriber and
 * membership.  Whether they may be mailed is store_subscriber_mailable()'s
 * to say; the membership status here only explains a skip.
 */
static int
store_outbox_claim_read(struct store *s, int64_t id,
    struct store_outbox_row *row, char **cause)
{
	struct store_stmt	*st;
	const char		*kind;
	const void		*blob;
	size_t			 len;
	int			 rc, missing = 0;

	/*
	 * Small columns only: the body is read by store_outbox_body_get(),
	 * outside the sync's transaction (SQLite reads a record's overflow
	 * pages only for a column that is asked for).
	 */
	st = store_query(s, cause,
	    "SELECT o.kind, coalesce(o.campaign_id, 0),"
	    " coalesce(o.subscriber_id, 0), o.mail_from, o.rcpt_to,"
	    " coalesce(o.body_id, 0),"
	    " o.attempts, o.created_at,"
	    " c.id IS NULL OR s.id IS NULL, c.status = 'cancelled', c.list,"
	    " m.status, s.email, coalesce(s.name, ''), s.attrs, s.created_at,"
	    " s.token_salt FROM outbox o"
	    " LEFT JOIN campaigns c ON o.kind = 'campaign'"
	    " AND c.id = o.campaign_id"
	    " LEFT JOIN subscribers s ON o.kind = 'campaign'"
	    " AND s.id = o.subscriber_id"
	    " LEFT JOIN memberships m ON m.subscriber_id = s.id"
	    " AND m.list = c.list"
	    " WHERE o.id = ?1", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		row->id = id;
		kind = store_column_peek(st, 0);
		if (kind == NULL ||
		    store_outbox_kind_parse(kind, &row->kind) != 0)
			fatalx("%s: outbox kind %s", __func__,
			    kind != NULL ? kind : "NULL");
		row->campaign_id = store_column_int(st, 1);
		row->subscriber_id = store_column_int(st, 2);
		row->mail_from = store_column_text(st, 3);
		row->rcpt_to = store_column_text(st, 4);
		row->body_id = store_column_int(st, 5);
		row->attempts = (int)store_column_int(st, 6);
		row->created_at = store_column_int(st, 7);
		if (row->kind == STORE_OUTBOX_CAMPAIGN) {
			missing = store_column_int(st, 8) != 0;
			row->cancelled = store_column_int(st, 9) != 0;
			row->list = store_column_text(st, 10);
			row->member_status = store_column_text(st, 11);
			row->sub_email = store_column_text(st, 12);
			row->sub_name = store_column_text(st, 13);
			row->sub_attrs = store_column_text(st, 14);
			row->sub_created_at = store_column_int(st, 15);
			/* Else zeros: its links then do nothing (token.h). */
			if ((blob = store_column_blob(st, 16, &len)) != NULL &&
			    len == TOKEN_SALT_LEN)
				memcpy(row->sub_token_salt, blob,
				    TOKEN_SALT_LEN);
		}
	}
	store_done(st);
	if (rc == -1)
		return -1;
	if (rc == 0 || missing) {
		/* Just claimed, and foreign keys: impossible. */
		*cause = xprintf("outbox row %lld: campaign %lld or subscriber "
		    "%lld is missing", (long long)id,
		    (long long)row->campaign_id, (long long)row->subscriber_id);
		return -1;
	}
	return 0;
}

int
store_outbox_claim(struct store *s, int64_t id, int64_t now,
    struct store_outbox_row *row, char **cause)
{
	int	n;

	memset(row, 0, sizeof *row);
	/*
	 * Claim, then read what was claimed.  Not UPDATE ... RETURNING:
	 * SQLite keeps RETURNING rows in a temporary b-tree, whose page
	 * cache costs a large allocation and a free per row claimed.
	 */
	n = store_run(s, cause,
	    "UPDATE outbox SET state = 'sending', claimed_at = ?2,"
	    " attempts = attempts + 1, updated_at = ?2"
	    " WHERE id = ?1 AND state IN ('queued', 'deferred')"
	    " AND next_attempt_at <= ?2"
	    " AND (kind <> 'campaign' OR EXISTS (SELECT 1 FROM campaigns c"
	    " WHERE c.id = outbox.campaign_id"
	    " AND c.status IN ('sending', 'cancelled')))", "II", id, now);
	if (n <= 0)
		return n;
	if (store_outbox_claim_read(s, id, row, cause) == -1) {
		store_outbox_row_clear(row);
		return -1;
	}
	return 1;
}

int
store_outbox_complete(struct store *s, int64_t id,
    enum store_outbox_state state, int code, const char *reply,
    int64_t next_attempt_at, int64_t now, char **cause)
{
	int	n;

	if (state != STORE_OUTBOX_SENT && state != STORE_OUTBOX_DEFERRED &&
	    state != STORE_OUTBOX_FAILED && state != STORE_OUTBOX_SKIPPED)
		fatalx("%s: cannot complete a row as %s", __func__,
		    store_outbox_state_name(state));
	n = store_run(s, cause,
	    "UPDATE outbox SET state = ?2, last_code = NULLIF(?3, 0),"
	    " last_reply = ?4, claimed_at = NULL, updated_at = ?6,"
	    " next_attempt_at = CASE WHEN ?2 = 'deferred' THEN ?5"
	    " ELSE next_attempt_at END,"
	    " sent_at = CASE WHEN ?2 = 'sent' THEN ?6 ELSE sent_at END"
	    " WHERE id = ?1 AND state = 'sending'", "ItitII", id,
	    store_outbox_state_name(state), code, reply, next_attempt_at,
	    now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_outbox_campaign_sending(struct store *s, int64_t id, char **cause)
{
	int64_t	n = 0;

	if (store_query_int(s, &n, cause, "SELECT count(*) FROM campaigns"
	    " WHERE id = ? AND status = 'sending'", "I", id) == -1)
		return -1;
	return n > 0;
}

int
store_outbox_release(struct store *s, int64_t id, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "UPDATE outbox SET state = 'queued', claimed_at = NULL,"
	    " attempts = max(attempts - 1, 0), updated_at = ?2"
	    " WHERE id = ?1 AND state = 'sending'", "II", id, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_outbox_recover(struct store *s, int64_t now, int64_t *n, char **cause)
{
	int	rc;

	rc = store_run(s, cause,
	    "UPDATE outbox SET state = 'queued', claimed_at = NULL,"
	    " attempts = max(attempts - 1, 0), updated_at = ?"
	    " WHERE state = 'sending'", "I", now);
	if (rc == -1)
		return -1;
	*n = rc;
	return 0;
}

int
store_outbox_campaign_tally(struct store *s, int64_t campaign_id,
    int64_t *sent, int64_t *failed, char **cause)
{
	*sent = *failed = 0;
	if (store_query_int(s, sent, cause,
	    "SELECT count(*) FROM outbox WHERE campaign_id = ?"
	    " AND state = 'sent'", "I", campaign_id) == -1)
		return -1;
	if (store_query_int(s, failed, cause,
	    "SELECT count(*) FROM outbox WHERE campaign_id = ?"
	    " AND state = 'failed'", "I", campaign_id) == -1)
		return -1;
	return 0;
}

int
store_outbox_campaign_pause(struct store *s, int64_t campaign_id,
    const char *reason, int64_t now, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "UPDATE campaigns SET status = 'paused', paused_reason = ?2,"
	    " updated_at = ?3 WHERE id = ?1 AND status = 'sending'", "ItI",
	    campaign_id, reason, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_outbox_campaign_finish(struct store *s, int64_t campaign_id,
    int64_t now, char **cause)
{
	int	n;

	/*
	 * Asked after every write-back, so it must be cheap: three seeks in
	 * outbox_campaign.  (state IN with three values would have SQLite
	 * build a temporary b-tree of them at every call.)
	 */
	n = store_run(s, cause,
	    "UPDATE campaigns SET status = 'sent', finished_at = ?2,"
	    " updated_at = ?2 WHERE id = ?1 AND status = 'sending'"
	    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?1"
	    " AND state = 'queued')"
	    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?1"
	    " AND state = 'sending')"
	    " AND NOT EXISTS (SELECT 1 FROM outbox WHERE campaign_id = ?1"
	    " AND state = 'deferred')", "II", campaign_id, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_outbox_kind_counts(struct store *s, struct store_outbox_kinds *k,
    char **cause)
{
	enum store_outbox_kind	 kind;
	enum store_outbox_state	 state;
	struct store_stmt	*st;
	const char		*kname, *sname;
	int			 rc;

	memset(k, 0, sizeof *k);
	st = store_query(s, cause,
	    "SELECT kind, state, count(*) FROM outbox GROUP BY kind, state",
	    "");
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		kname = store_column_peek(st, 0);
		if (kname == NULL ||
		    store_outbox_kind_parse(kname, &kind) != 0)
			fatalx("%s: outbox kind %s", __func__,
			    kname != NULL ? kname : "NULL");
		sname = store_column_peek(st, 1);
		if (sname == NULL ||
		    store_outbox_state_parse(sname, &state) != 0)
			fatalx("%s: outbox state %s", __func__,
			    sname != NULL ? sname : "NULL");
		k->n[kind][state] = store_column_int(st, 2);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_outbox_enquiry_each(struct store *s, int64_t enquiry_id,
    int (*fn)(const struct store_outbox_delivery *, void *), void *arg,
    char **cause)
{
	struct store_outbox_delivery	 d;
	struct store_stmt		*st;
	const char			*name;
	int				 rc;

	/* Served by outbox_enquiry; the bodies are not read. */
	st = store_query(s, cause, "SELECT id, kind, rcpt_to, state,"
	    " attempts, coalesce(last_code, 0), coalesce(last_reply, ''),"
	    " created_at, next_attempt_at, coalesce(sent_at, 0)"
	    " FROM outbox WHERE enquiry_id = ? ORDER BY id", "I", enquiry_id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		memset(&d, 0, sizeof d);
		d.id = store_column_int(st, 0);
		name = store_column_peek(st, 1);
		if (name == NULL || store_outbox_kind_parse(name, &d.kind) != 0)
			fatalx("%s: outbox kind %s", __func__,
			    name != NULL ? name : "NULL");
		d.rcpt_to = store_column_peek(st, 2);
		name = store_column_peek(st, 3);
		if (name == NULL ||
		    store_outbox_state_parse(name, &d.state) != 0)
			fatalx("%s: outbox state %s", __func__,
			    name != NULL ? name : "NULL");
		d.attempts = (int)store_column_int(st, 4);
		d.last_code = (int)store_column_int(st, 5);
		d.last_reply = store_column_peek(st, 6);
		d.created_at = store_column_int(st, 7);
		d.next_attempt_at = store_column_int(st, 8);
		d.sent_at = store_column_int(st, 9);
		if (d.rcpt_to == NULL)
			d.rcpt_to = "";
		if (d.last_reply == NULL)
			d.last_reply = "";
		if ((rc = fn(&d, arg)) != 0)
			break;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_outbox_rate_get(struct store *s, const char *key,
    struct store_outbox_rate *r, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	memset(r, 0, sizeof *r);
	/*
	 * The level as whole millionths of a token, truncated: reading back
	 * may lose a millionth but never gains one.
	 */
	st = store_query(s, cause,
	    "SELECT CAST(coalesce(tokens, 0) * 1000000 AS INTEGER),"
	    " window_start, count, updated_at"
	    " FROM rate_limits WHERE key = ?", "t", key);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		r->tokens = (double)store_column_int(st, 0) / 1e6;
		r->window_start = store_column_int(st, 1);
		r->count = store_column_int(st, 2);
		r->updated_at = store_column_int(st, 3);
	}
	store_done(st);
	return rc;
}

int
store_outbox_rate_set(struct store *s, const char *key,
    const struct store_outbox_rate *r, char **cause)
{
	if (store_run(s, cause,
	    "INSERT INTO rate_limits (key, window_start, count, tokens,"
	    " updated_at) VALUES (?, ?, ?, ?, ?)"
	    " ON CONFLICT (key) DO UPDATE SET"
	    " window_start = excluded.window_start, count = excluded.count,"
	    " tokens = excluded.tokens, updated_at = excluded.updated_at",
	    "tIIdI", key, r->window_start, r->count, r->tokens,
	    r->updated_at) == -1)
		return -1;
	return 0;
}
