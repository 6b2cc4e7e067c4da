/*
 * store-web.c - the web pages' SQL: subscribe-request counters in the
 * rate_limits table, keys starting "web.".
 *
 * Owns: those rows.  Does not own: the keys' meaning or the limits
 * (web-subscribe.c), the delivery engine's rows of the same table
 * (store-outbox.c).
 */
#include <stdint.h>

#include "store-int.h"
#include "xmalloc.h"
#include "web.h"

int
store_web_hit(struct store *s, const char *key, int64_t now, int64_t window,
    int64_t *count, char **cause)
{
	int	rc;

	/*
	 * One statement, so that two requests at once cannot both read the
	 * old count.  (In DO UPDATE SET, window_start is the old row's.)
	 */
	rc = store_query_int(s, count, cause,
	    "INSERT INTO rate_limits (key, window_start, count, updated_at)"
	    " VALUES (?1, ?2, 1, ?2)"
	    " ON CONFLICT (key) DO UPDATE SET"
	    "  count = CASE WHEN window_start <= ?2 - ?3 THEN 1"
	    "   ELSE count + 1 END,"
	    "  window_start = CASE WHEN window_start <= ?2 - ?3 THEN ?2"
	    "   ELSE window_start END,"
	    "  updated_at = ?2"
	    " RETURNING count", "tII", key, now, window);
	if (rc == 0 && cause != NULL)
		*cause = xstrdup("rate_limits: no row came back");
	return rc == 1 ? 0 : -1;
}

int
store_web_prune(struct store *s, int64_t before, char **cause)
{
	/* The key range "web." up to "web/" is the primary key's index. */
	return store_run(s, cause,
	    "DELETE FROM rate_limits WHERE key >= 'web.' AND key < 'web/'"
	    " AND window_start < ?", "I", before) == -1 ? -1 : 0;
}
