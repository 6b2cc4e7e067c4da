/*
 * store-outbox.c - the outbox's rows: everything postroom sends passes
 * through here.
 *
 * Owns: queueing messages.  Claiming due rows, completing them and the
 * retry schedule belong to the delivery engine's functions, which join
 * this file.  Does not own: the SQLite connection (store.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "store-int.h"

int
store_outbox_add(struct store *s, const struct store_outbox_msg *m,
    int64_t *id, char **cause)
{
	int64_t	now = (int64_t)time(NULL);
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO outbox (kind, subscriber_id, enquiry_id, dedup_key,"
	    " message, message_id, mail_from, rcpt_to, priority,"
	    " next_attempt_at, created_at, updated_at)"
	    " VALUES (?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT (dedup_key) DO NOTHING",
	    "tIItbtttiIII", store_outbox_kind_name(m->kind),
	    m->subscriber_id, m->enquiry_id, m->dedup_key, m->message, m->len, m->message_id,
	    m->mail_from, m->rcpt_to, m->priority,
	    m->not_before != 0 ? m->not_before : now, now, now);
	if (n == -1)
		return -1;
	if (n == 1) {
		if (id != NULL)
			*id = store_last_insert_id(s);
		return 1;
	}
	if (id != NULL && store_query_int(s, id, cause,
	    "SELECT id FROM outbox WHERE dedup_key = ?", "t",
	    m->dedup_key) == -1)
		return -1;
	return 0;
}
