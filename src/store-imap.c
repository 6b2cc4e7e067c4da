/*
 * store-imap.c - where the IMAP source is up to: one imap_state row per
 * account and mailbox holding the mailbox's UIDVALIDITY and the highest
 * UID below which every message has been handled.
 *
 * Owns: the SQL of the imap_state table.  Does not own: what the numbers
 * mean or when they move (source-imap.c), the connection (store.c).
 */
#include <stdint.h>
#include <time.h>

#include "store-int.h"

int
store_imap_get(struct store *s, const char *account, const char *mailbox,
    int64_t *uidvalidity, int64_t *last_uid, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT uidvalidity, last_uid FROM imap_state"
	    " WHERE account = ? AND mailbox = ?", "tt", account, mailbox);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		*uidvalidity = store_column_int(st, 0);
		*last_uid = store_column_int(st, 1);
	}
	store_done(st);
	return rc;
}

int
store_imap_set(struct store *s, const char *account, const char *mailbox,
    int64_t uidvalidity, int64_t last_uid, char **cause)
{
	int64_t	now = (int64_t)time(NULL);

	if (store_run(s, cause,
	    "INSERT INTO imap_state (account, mailbox, uidvalidity, last_uid,"
	    " updated_at) VALUES (?, ?, ?, ?, ?)"
	    " ON CONFLICT (account, mailbox) DO UPDATE SET"
	    " uidvalidity = excluded.uidvalidity,"
	    " last_uid = excluded.last_uid,"
	    " updated_at = excluded.updated_at",
	    "ttIII", account, mailbox, uidvalidity, last_uid, now) == -1)
		return -1;
	return 0;
}
