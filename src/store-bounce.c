/*
 * store-bounce.c - the bounces table: delivery reports, matched to the
 * subscriber (and campaign) they were about.
 *
 * Owns: the SQL for bounces.  Does not own: reading reports (enquiry.c
 * with mime-parse.c's report fields) or suppressing an address (the
 * membership moves are store-subscriber.c's).
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "store-int.h"

int
store_bounce_add(struct store *s, const struct store_bounce *b, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO bounces (outbox_id, subscriber_id, recipient, kind,"
	    " status, diagnostic, source, received_at, message_key)"
	    " VALUES ((SELECT id FROM outbox WHERE campaign_id = ?1"
	    " AND subscriber_id = ?2), NULLIF(?2, 0), ?3, ?4, ?5, ?6, ?7, ?8,"
	    " ?9) ON CONFLICT (message_key) DO NOTHING",
	    "IItttttIt", b->campaign_id, b->subscriber_id, b->recipient,
	    b->kind, b->status, b->diagnostic, b->source,
	    (int64_t)time(NULL), b->message_key);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_bounce_hard_count(struct store *s, int64_t subscriber_id, int64_t since,
    int64_t *n, char **cause)
{
	*n = 0;
	return store_query_int(s, n, cause,
	    "SELECT count(*) FROM bounces WHERE subscriber_id = ?"
	    " AND kind = 'hard' AND received_at >= ?", "II", subscriber_id,
	    since) == -1 ? -1 : 0;
}
