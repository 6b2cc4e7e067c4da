/*
 * ratelimit.c - token buckets for smtp.rate_per_second and rate_per_hour.
 *
 * Owns: the bucket arithmetic (see ratelimit.h for the promise it keeps
 * and why the refill is period / (limit - burst + 1)) and turning a bucket
 * into a rate_limits row and back.  Does not own: the SQL (store-outbox.c)
 * or when to send (deliver.c).
 *
 * Why the refill keeps the promise: a send needs a whole token, so between
 * the first and the n-th send of any run at least (n - burst) tokens must
 * have been refilled, which takes (n - burst) * interval.  With interval
 * >= period / (limit - burst + 1), n = limit + 1 sends would need
 * (limit - burst + 1) * interval >= period: they cannot all fall inside
 * one half-open window of length period.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "ratelimit.h"
#include "store.h"

int64_t
ratelimit_default_burst(int64_t limit, int64_t period_s)
{
	/*
	 * Per second: an even pace is the polite one.  Per hour (or longer):
	 * a small list should not wait an hour, so a tenth of the limit may
	 * go at once; the rest of the hour runs at 90% of the limit.
	 */
	if (period_s <= 1 || limit < 10)
		return 1;
	return limit / 10;
}

void
ratelimit_init(struct ratelimit *rl, const char *key, int64_t limit,
    int64_t period_s, int64_t burst, int64_t now)
{
	int64_t	steps;

	memset(rl, 0, sizeof *rl);
	snprintf(rl->key, sizeof rl->key, "%s", key);
	if (limit < 0)
		limit = 0;
	if (period_s < 1)
		period_s = 1;
	rl->limit = limit;
	rl->period = period_s * RATELIMIT_USEC;
	rl->last = now;
	rl->window_start = now / RATELIMIT_USEC;
	if (limit == 0)
		return;
	if (burst < 1)
		burst = 1;
	if (burst > limit)
		burst = limit;
	rl->burst = burst;
	/*
	 * Round the interval UP (a slower refill never breaks the limit)
	 * and add RATELIMIT_MARGIN percent: the server sees our sends after
	 * some jitter, and it is its count that must stay under the limit.
	 */
	steps = limit - burst + 1;
	rl->interval = (rl->period + steps - 1) / steps;
	rl->interval += (rl->interval * RATELIMIT_MARGIN + 99) / 100;
	rl->credit = rl->burst * rl->interval;
}

/* Bring credit up to now; time going backwards refills nothing. */
static void
ratelimit_refill(struct ratelimit *rl, int64_t now)
{
	int64_t	max;

	if (now <= rl->last)
		return;
	max = rl->burst * rl->interval;
	if (now - rl->last >= max - rl->credit)
		rl->credit = max;
	else
		rl->credit += now - rl->last;
	rl->last = now;
}

int64_t
ratelimit_available(struct ratelimit *rl, int64_t now)
{
	if (rl->limit == 0)
		return INT64_MAX;
	ratelimit_refill(rl, now);
	return rl->credit / rl->interval;
}

int64_t
ratelimit_wait(struct ratelimit *rl, int64_t now)
{
	if (rl->limit == 0)
		return 0;
	ratelimit_refill(rl, now);
	if (rl->credit >= rl->interval)
		return 0;
	/* After a pessimistic load last is ahead: no refill till then. */
	if (now < rl->last)
		return rl->interval - rl->credit + (rl->last - now);
	return rl->interval - rl->credit;
}

void
ratelimit_take(struct ratelimit *rl, int64_t now, int64_t n)
{
	int64_t	window;

	if (n <= 0)
		return;
	window = now / RATELIMIT_USEC;
	window -= window % (rl->period / RATELIMIT_USEC);
	if (window != rl->window_start) {
		rl->window_start = window;
		rl->count = 0;
	}
	rl->count += n;
	if (rl->limit == 0)
		return;
	if (n > ratelimit_available(rl, now))
		fatalx("%s: %s: took %lld tokens, %lld there", __func__,
		    rl->key, (long long)n,
		    (long long)ratelimit_available(rl, now));
	rl->credit -= n * rl->interval;
}

double
ratelimit_tokens(struct ratelimit *rl, int64_t now)
{
	if (rl->limit == 0)
		return 0;
	ratelimit_refill(rl, now);
	return (double)rl->credit / (double)rl->interval;
}

int
ratelimit_load(struct ratelimit *rl, struct store *s, int64_t now,
    char **cause)
{
	struct store_outbox_rate	 row;
	int64_t				 credit, max;
	int				 rc;

	if ((rc = store_outbox_rate_get(s, rl->key, &row, cause)) != 1)
		return rc;
	rl->window_start = row.window_start;
	rl->count = row.count;
	if (rl->limit == 0)
		return 0;
	/*
	 * Saved during second updated_at: take it as the level at the end
	 * of that second (no refill before then), never more than a full
	 * bucket of today's size.
	 */
	max = rl->burst * rl->interval;
	if (row.tokens < 0)
		credit = 0;
	else if (row.tokens * (double)rl->interval >= (double)max)
		credit = max;
	else
		credit = (int64_t)(row.tokens * (double)rl->interval);
	rl->credit = credit;
	rl->last = (row.updated_at + 1) * RATELIMIT_USEC;
	if (rl->last < now)
		ratelimit_refill(rl, now);
	return 0;
}

int
ratelimit_save(struct ratelimit *rl, struct store *s, int64_t now,
    char **cause)
{
	struct store_outbox_rate	row;

	memset(&row, 0, sizeof row);
	row.window_start = rl->window_start;
	row.count = rl->count;
	row.tokens = ratelimit_tokens(rl, now);
	/*
	 * The row means "the level at the end of second updated_at".  After
	 * a pessimistic load last may still be ahead of now: the level is
	 * then the level at last.
	 */
	if (now < rl->last)
		row.updated_at = (rl->last - 1) / RATELIMIT_USEC;
	else
		row.updated_at = now / RATELIMIT_USEC;
	return store_outbox_rate_set(s, rl->key, &row, cause);
}
