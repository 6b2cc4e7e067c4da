/*
 * store-enquiry.c - the enquiries table: one row per inbound message that
 * postroom decided about, with the decision and why.
 *
 * Owns: the SQL for enquiries, their re-routes (enquiry_routes) and
 * answered marks, and for inbound_failures (messages that could not be
 * recorded yet, and how often).  Does not own: the decision
 * (route.c) or what is sent about it (enquiry.c queues that through
 * store-outbox.c in the same transaction).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define ENQUIRY_COLUMNS \
	"id, reference, message_id, content_hash, sender, sender_name," \
	" subject, lead, rule, score, reason, source, received_at," \
	" routed_at, parse_status, ack, coalesce(answered_at, 0)," \
	" coalesce(answered_by, '')"

void
store_enquiry_clear(struct store_enquiry *e)
{
	free(e->reference);
	free(e->message_id);
	free(e->content_hash);
	free(e->sender);
	free(e->sender_name);
	free(e->subject);
	free(e->lead);
	free(e->rule);
	free(e->reason);
	free(e->source);
	free(e->parse_status);
	free(e->ack);
	free(e->answered_by);
	memset(e, 0, sizeof *e);
}

static void
store_enquiry_row(struct store_stmt *st, struct store_enquiry *e)
{
	memset(e, 0, sizeof *e);
	e->id = store_column_int(st, 0);
	e->reference = store_column_text_or(st, 1, "");
	e->message_id = store_column_text(st, 2);	/* NULL stays NULL */
	e->content_hash = store_column_text_or(st, 3, "");
	e->sender = store_column_text_or(st, 4, "");
	e->sender_name = store_column_text_or(st, 5, "");
	e->subject = store_column_text_or(st, 6, "");
	e->lead = store_column_text_or(st, 7, "");
	e->rule = store_column_text_or(st, 8, "");
	e->score = store_column_double(st, 9);
	e->reason = store_column_text_or(st, 10, "");
	e->source = store_column_text_or(st, 11, "");
	e->received_at = store_column_int(st, 12);
	e->routed_at = store_column_int(st, 13);
	e->parse_status = store_column_text_or(st, 14, "");
	e->ack = store_column_text_or(st, 15, "");
	e->answered_at = store_column_int(st, 16);
	e->answered_by = store_column_text_or(st, 17, "");
}

/* Step a one-row query into *out: 1 found, 0 not, -1. */
static int
store_enquiry_one(struct store *s, struct store_stmt *st,
    struct store_enquiry *out, char **cause)
{
	int	rc;

	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_enquiry_row(st, out);
	store_done(st);
	return rc;
}

int
store_enquiry_find(struct store *s, const char *message_id,
    const char *content_hash, struct store_enquiry *out, char **cause)
{
	struct store_stmt	*st;

	if (message_id != NULL && *message_id != '\0')
		st = store_query(s, cause, "SELECT " ENQUIRY_COLUMNS
		    " FROM enquiries WHERE message_id = ?", "t", message_id);
	else
		st = store_query(s, cause, "SELECT " ENQUIRY_COLUMNS
		    " FROM enquiries WHERE message_id IS NULL"
		    " AND content_hash = ?", "t", content_hash);
	return store_enquiry_one(s, st, out, cause);
}

int
store_enquiry_get(struct store *s, const char *reference,
    struct store_enquiry *out, char **cause)
{
	/* In any case ("enq-2026-00042"): enquiries_reference_nocase. */
	return store_enquiry_one(s, store_query(s, cause, "SELECT "
	    ENQUIRY_COLUMNS " FROM enquiries WHERE reference = ?"
	    " COLLATE NOCASE", "t", reference), out, cause);
}

int
store_enquiry_add(struct store *s, struct store_enquiry *e, const void *raw,
    size_t rawlen, char **cause)
{
	const char	*mid = e->message_id;

	if (mid != NULL && *mid == '\0')
		mid = NULL;
	/* With its search keys (schema version 11). */
	if (store_run(s, cause,
	    "INSERT INTO enquiries (reference, message_id, content_hash,"
	    " sender, sender_name, subject, lead, rule, score, reason,"
	    " source, received_at, routed_at, raw, raw_size, parse_status,"
	    " ack, search_sender, search_name, search_subject,"
	    " search_reference) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	    " ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	    " postroom_fold(coalesce(?4, '')), postroom_fold(coalesce(?5, '')),"
	    " postroom_fold(coalesce(?6, '')), postroom_fold(?1))",
	    "ttttttttdttIIbItt",
	    e->reference, mid, e->content_hash, e->sender, e->sender_name,
	    e->subject, e->lead, e->rule, e->score, e->reason, e->source,
	    e->received_at, e->routed_at, raw, rawlen, (int64_t)rawlen,
	    e->parse_status, e->ack) == -1)
		return -1;
	e->id = store_last_insert_id(s);
	return 0;
}

int
store_enquiry_acks_since(struct store *s, const char *sender, int64_t since,
    int64_t *count, char **cause)
{
	/* Served by enquiries_sender (sender COLLATE NOCASE, received_at). */
	*count = 0;
	return store_query_int(s, count, cause,
	    "SELECT count(*) FROM enquiries WHERE sender = ? COLLATE NOCASE"
	    " AND ack = 'queued' AND received_at >= ?", "tI", sender,
	    since) == -1 ? -1 : 0;
}

int
store_enquiry_ack_count(struct store *s, const char *ack, int64_t since,
    int64_t *count, char **cause)
{
	/* Served by enquiries_received. */
	*count = 0;
	return store_query_int(s, count, cause,
	    "SELECT count(*) FROM enquiries WHERE received_at >= ?"
	    " AND ack = ?", "It", since, ack) == -1 ? -1 : 0;
}

int
store_enquiry_each(struct store *s, const char *lead, int64_t since,
    int (*fn)(const struct store_enquiry *, void *), void *arg, char **cause)
{
	struct store_enquiry_query	q;

	memset(&q, 0, sizeof q);
	q.lead = lead;
	q.since = since;
	return store_enquiry_search(s, &q, fn, arg, cause);
}

int
store_enquiry_search(struct store *s, const struct store_enquiry_query *q,
    int (*fn)(const struct store_enquiry *, void *), void *arg, char **cause)
{
	struct store_stmt	*st;
	struct store_enquiry	 e;
	char			*folded = NULL;
	int			 rc;

	/*
	 * Without text, the newest through enquiries_received, read until
	 * fn stops.  With text, folded once here: the matching ids first,
	 * from enquiries_search and the search keys alone (the unary "+"
	 * keeps enquiries_received and enquiries_lead out of the running:
	 * through them every row in the period is read), the rows without
	 * keys folded in the query (store-schema.c, version 11); only the
	 * matches' rows are read.  Every row copied into C and folded there
	 * was 40 ms for 10,000 enquiries (bench/console.sh).
	 */
#define STORE_ENQUIRY_WHEN(p) \
	" (?1 IS NULL OR " p "lead = ?1) AND " p "received_at >= ?2" \
	" AND (?3 = 0 OR " p "received_at < ?3)"
	if (q->text == NULL)
		st = store_query(s, cause, "SELECT " ENQUIRY_COLUMNS
		    " FROM enquiries WHERE" STORE_ENQUIRY_WHEN("")
		    " ORDER BY received_at DESC, id DESC", "tII", q->lead,
		    q->since, q->until);
	else {
		folded = utf8_fold(q->text, strlen(q->text));
		st = store_query(s, cause, "SELECT " ENQUIRY_COLUMNS
		    " FROM enquiries WHERE id IN"
		    " (SELECT id FROM enquiries WHERE" STORE_ENQUIRY_WHEN("+")
		    " AND (instr(search_sender, ?4) > 0"
		    " OR instr(search_name, ?4) > 0"
		    " OR instr(search_subject, ?4) > 0"
		    " OR instr(search_reference, ?4) > 0)"
		    " UNION ALL SELECT id FROM enquiries"
		    " WHERE search_sender IS NULL AND" STORE_ENQUIRY_WHEN("")
		    " AND (instr(postroom_fold(coalesce(sender, '')), ?4) > 0"
		    " OR instr(postroom_fold(coalesce(sender_name, '')),"
		    " ?4) > 0"
		    " OR instr(postroom_fold(coalesce(subject, '')), ?4) > 0"
		    " OR instr(postroom_fold(reference), ?4) > 0))"
		    " ORDER BY received_at DESC, id DESC", "tIIt", q->lead,
		    q->since, q->until, folded);
	}
#undef STORE_ENQUIRY_WHEN
	if (st == NULL) {
		free(folded);
		return -1;
	}
	/* Bound as it is (SQLITE_STATIC): freed once the rows are read. */
	while ((rc = store_step(s, st, cause)) == 1) {
		store_enquiry_row(st, &e);
		rc = fn(&e, arg);
		store_enquiry_clear(&e);
		if (rc != 0)
			break;
	}
	store_done(st);
	free(folded);
	return rc == -1 ? -1 : 0;
}

int
store_enquiry_search_keys(struct store *s, int64_t max, int64_t *n,
    char **cause)
{
	int	rc;

	/* Keyless rows through enquiries_search (search_sender IS NULL). */
	rc = store_run(s, cause, "UPDATE enquiries SET"
	    " search_sender = postroom_fold(coalesce(sender, '')),"
	    " search_name = postroom_fold(coalesce(sender_name, '')),"
	    " search_subject = postroom_fold(coalesce(subject, '')),"
	    " search_reference = postroom_fold(reference)"
	    " WHERE id IN (SELECT id FROM enquiries"
	    " WHERE search_sender IS NULL LIMIT ?1)", "I", max);
	*n = rc == -1 ? 0 : rc;
	return rc == -1 ? -1 : 0;
}

/* --- messages that could not be recorded ------------------------------ */

int
store_inbound_failure_get(struct store *s, const char *key,
    int64_t *attempts, char **last_error, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*attempts = 0;
	*last_error = NULL;
	st = store_query(s, cause, "SELECT attempts, coalesce(last_error, '')"
	    " FROM inbound_failures WHERE key = ?", "t", key);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		*attempts = store_column_int(st, 0);
		*last_error = store_column_text_or(st, 1, "");
	}
	store_done(st);
	return rc;
}

int
store_inbound_failure_add(struct store *s, const char *key,
    const char *error, int64_t now, int64_t *attempts, char **cause)
{
	if (store_run(s, cause,
	    "INSERT INTO inbound_failures (key, attempts, last_error,"
	    " first_at, last_at) VALUES (?1, 1, ?2, ?3, ?3)"
	    " ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1,"
	    " last_error = excluded.last_error, last_at = excluded.last_at",
	    "ttI", key, error, now) == -1)
		return -1;
	return store_query_int(s, attempts, cause,
	    "SELECT attempts FROM inbound_failures WHERE key = ?", "t",
	    key) == -1 ? -1 : 0;
}

int
store_inbound_failure_clear(struct store *s, const char *key, char **cause)
{
	return store_run(s, cause, "DELETE FROM inbound_failures"
	    " WHERE key = ?", "t", key) == -1 ? -1 : 0;
}

struct value *
store_enquiry_value(const struct store_enquiry *e)
{
	struct value	*v;

	v = value_new_object();
	value_object_set(v, "reference", value_new_string(e->reference));
	value_object_set(v, "message_id", e->message_id != NULL ?
	    value_new_string(e->message_id) : value_new_null());
	value_object_set(v, "sender", value_new_string(e->sender));
	value_object_set(v, "sender_name", value_new_string(e->sender_name));
	value_object_set(v, "subject", value_new_string(e->subject));
	value_object_set(v, "lead", value_new_string(e->lead));
	value_object_set(v, "rule", value_new_string(e->rule));
	value_object_set(v, "score", value_new_double(e->score));
	value_object_set(v, "reason", value_new_string(e->reason));
	value_object_set(v, "source", value_new_string(e->source));
	value_object_set(v, "received_at", value_new_int(e->received_at));
	value_object_set(v, "routed_at", value_new_int(e->routed_at));
	value_object_set(v, "parse_status",
	    value_new_string(e->parse_status));
	value_object_set(v, "ack", value_new_string(e->ack));
	value_object_set(v, "answered", value_new_bool(e->answered_at != 0));
	value_object_set(v, "answered_at", value_new_int(e->answered_at));
	value_object_set(v, "answered_by", value_new_string(e->answered_by));
	return v;
}

int
store_enquiry_raw(struct store *s, int64_t id, char **raw, size_t *len,
    char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*raw = NULL;
	*len = 0;
	st = store_query(s, cause, "SELECT raw FROM enquiries WHERE id = ?",
	    "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1 &&
	    !store_column_is_null(st, 0))
		*raw = store_column_bytes(st, 0, len);
	store_done(st);
	return rc;
}

int
store_enquiry_set_answered(struct store *s, int64_t id, int64_t at,
    const char *by, char **cause)
{
	int	n;

	if (at != 0)
		n = store_run(s, cause, "UPDATE enquiries SET answered_at = ?2,"
		    " answered_by = ?3 WHERE id = ?1 AND answered_at IS NULL",
		    "IIt", id, at, by);
	else
		n = store_run(s, cause, "UPDATE enquiries SET answered_at ="
		    " NULL, answered_by = NULL WHERE id = ?1"
		    " AND answered_at IS NOT NULL", "I", id);
	return n == -1 ? -1 : n > 0;
}

int
store_enquiry_reroute(struct store *s, const struct store_enquiry_route *r,
    int64_t *id, char **cause)
{
	if (store_run(s, cause, "INSERT INTO enquiry_routes (enquiry_id,"
	    " from_lead, to_lead, actor, note, at) VALUES (?, ?, ?, ?,"
	    " NULLIF(?, ''), ?)", "IttttI", r->enquiry_id, r->from_lead,
	    r->to_lead, r->actor, r->note != NULL ? r->note : "", r->at) == -1)
		return -1;
	*id = store_last_insert_id(s);
	return store_run(s, cause, "UPDATE enquiries SET lead = ?2,"
	    " routed_at = ?3 WHERE id = ?1", "ItI", r->enquiry_id, r->to_lead,
	    r->at) == -1 ? -1 : 0;
}

int
store_enquiry_routes(struct store *s, int64_t enquiry_id,
    int (*fn)(const struct store_enquiry_route *, void *), void *arg,
    char **cause)
{
	struct store_enquiry_route	 r;
	struct store_stmt		*st;
	int				 rc;

	/* Served by enquiry_routes_enquiry. */
	st = store_query(s, cause, "SELECT id, from_lead, to_lead, actor,"
	    " coalesce(note, ''), at FROM enquiry_routes"
	    " WHERE enquiry_id = ? ORDER BY id", "I", enquiry_id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		r.id = store_column_int(st, 0);
		r.enquiry_id = enquiry_id;
		r.from_lead = store_column_peek(st, 1);
		r.to_lead = store_column_peek(st, 2);
		r.actor = store_column_peek(st, 3);
		r.note = store_column_peek(st, 4);
		r.at = store_column_int(st, 5);
		/* NULL only when SQLite is out of memory. */
		if (r.from_lead == NULL || r.to_lead == NULL ||
		    r.actor == NULL || r.note == NULL)
			fatalx("%s: out of memory", __func__);
		if ((rc = fn(&r, arg)) != 0)
			break;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}
