/*
 * ratelimit.h - how fast postroom may send: token buckets.
 *
 * One struct ratelimit is one bucket for "at most limit messages in any
 * period": smtp.rate_per_second and smtp.rate_per_hour are one bucket
 * each.  A message goes out only when every bucket holds a whole token.
 *
 * The promise is strict: no window of `period` seconds, wherever it
 * starts, ever holds more than `limit` sends - not even the first one
 * after a restart.  A plain bucket of capacity L refilled at L per period
 * lets 2L through in the period after a quiet spell, so the bucket here
 * holds at most `burst` tokens and refills one token every
 * period / (limit - burst + 1): a burst of `burst` at once, then an even
 * pace just under the limit.  burst 1 is an even pace at exactly the
 * limit (what the per-second bucket uses: 10 a second is one every
 * 100 ms); the per-hour bucket allows a tenth of the hour at once.  The
 * interval is then made RATELIMIT_MARGIN percent longer, so that jitter
 * between us and the server (up to 2% of the period: 20 ms for a
 * per-second limit) cannot make the server count one too many.
 *
 * Arithmetic is in whole microseconds ("credit": time's worth of tokens),
 * so nothing rounds the wrong way.  Time is passed in by the caller
 * (microseconds since the epoch; tests use a fake clock).
 *
 * Persistence: ratelimit_save() writes the level to the rate_limits table
 * (store.h) and ratelimit_load() reads it back, pessimistically: the level
 * saved during second S is taken to be the level at the END of S, so a
 * restart never gains tokens.  Save inside the transaction that claims the
 * messages the tokens were taken for, so that a crash cannot forget a
 * token that was spent.
 *
 * Owns: the arithmetic and the save format.  Does not own: the SQL
 * (store-outbox.c) or deciding when to send (deliver.c).
 */
#ifndef POSTROOM_RATELIMIT_H
#define POSTROOM_RATELIMIT_H

#include <stdint.h>

struct store;

#define RATELIMIT_USEC		1000000LL
#define RATELIMIT_MARGIN	2	/* percent slower than the limit */
#define RATELIMIT_KEY_SECOND	"smtp.rate_per_second"
#define RATELIMIT_KEY_HOUR	"smtp.rate_per_hour"

struct ratelimit {
	char	 key[48];	/* the rate_limits row */
	int64_t	 limit;		/* sends per period; 0: no limit */
	int64_t	 period;	/* microseconds */
	int64_t	 burst;		/* tokens the bucket holds at most */
	int64_t	 interval;	/* microseconds per token */
	int64_t	 credit;	/* microseconds' worth of tokens, at last */
	int64_t	 last;		/* when credit was worked out */
	/* Informational: sends in the current wall-clock window. */
	int64_t	 window_start;	/* seconds */
	int64_t	 count;
};

/*
 * A full bucket for limit per period_s seconds holding at most burst
 * tokens (clamped to 1..limit), at time now.  limit 0: no limit.
 */
void	 ratelimit_init(struct ratelimit *, const char *key, int64_t limit,
	    int64_t period_s, int64_t burst, int64_t now);
/* The burst postroom uses for a limit per period_s (see above). */
int64_t	 ratelimit_default_burst(int64_t limit, int64_t period_s);

/* Whole tokens available at now (INT64_MAX without a limit). */
int64_t	 ratelimit_available(struct ratelimit *, int64_t now);
/* Microseconds from now until a token is there (0: now). */
int64_t	 ratelimit_wait(struct ratelimit *, int64_t now);
/* Take n tokens (n <= ratelimit_available(), or it is a broken invariant). */
void	 ratelimit_take(struct ratelimit *, int64_t now, int64_t n);

/* The level in tokens (fractional) at now. */
double	 ratelimit_tokens(struct ratelimit *, int64_t now);

/*
 * Restore the bucket from the store (nothing there: left as it is, full
 * after ratelimit_init).  0, or -1 with *cause.
 */
int	 ratelimit_load(struct ratelimit *, struct store *, int64_t now,
	    char **cause);
/* Write the level at now: 0, or -1 with *cause. */
int	 ratelimit_save(struct ratelimit *, struct store *, int64_t now,
	    char **cause);

#endif
