/*
 * store-unsubscribe.c - the mail_unsubscribes table: messages sent to a
 * newsletter's List-Unsubscribe mailto address and what came of each.
 *
 * Owns: the SQL for mail_unsubscribes.  Does not own: recognising such
 * mail or checking its token (unsubscribe.c), or the membership move
 * itself (store_member_set_status() in store-subscriber.c).
 */
#include <stdint.h>
#include <stdlib.h>

#include "store-int.h"

int
store_unsubscribe_add(struct store *s, const struct store_unsubscribe *u,
    char **cause)
{
	int	n;

	/* A token names a subscriber who may be gone: keep only a real id. */
	n = store_run(s, cause,
	    "INSERT INTO mail_unsubscribes (message_key, outcome,"
	    " subscriber_id, list, campaign_id, detail, source, received_at)"
	    " VALUES (?1, ?2, (SELECT id FROM subscribers WHERE id = ?3),"
	    " ?4, NULLIF(?5, 0), ?6, ?7, ?8)"
	    " ON CONFLICT (message_key) DO NOTHING",
	    "ttItIttI", u->message_key, u->outcome, u->subscriber_id,
	    u->list, u->campaign_id, u->detail, u->source, u->received_at);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_unsubscribe_seen(struct store *s, const char *message_key,
    char **cause)
{
	int64_t	n = 0;

	if (store_query_int(s, &n, cause,
	    "SELECT count(*) FROM mail_unsubscribes WHERE message_key = ?",
	    "t", message_key) == -1)
		return -1;
	return n > 0;
}
