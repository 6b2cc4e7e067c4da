/*
 * deliver.h - the delivery engine: everything postroom sends leaves
 * through the outbox and this engine.
 *
 * The engine claims due outbox rows, makes their bytes (stored messages as
 * they are; campaign rows rendered for their subscriber at send time),
 * hands them to the transport for smtp.url (transport.h), and writes back
 * what happened: sent, deferred with backoff, failed, or skipped.
 *
 * Promises:
 *   - Rate: smtp.rate_per_second and rate_per_hour are never exceeded,
 *     across restarts too (ratelimit.h).
 *   - Crash safety: a row is claimed (state sending) in a committed
 *     transaction before any byte of it is sent, and completed in a later
 *     one.  Completions are batched, but a finished row keeps its
 *     connection slot until its completion is committed, so at most
 *     smtp.concurrency rows are ever "sending": after kill -9 at most that
 *     many recipients get the message twice (store_outbox_recover() puts
 *     them back at start), and nobody is lost.
 *   - Replies: 2xx sent; 4xx, lost connections and timeouts deferred with
 *     backoff (about 1 min, 5 min, 15 min, 1 h, then every 4 h, each
 *     +-10%) until smtp.max_retry_age, then failed; 5xx failed at once,
 *     with the reply kept.  A campaign pauses itself once at least
 *     smtp.failure_pause_count of its rows failed and they are at least
 *     smtp.failure_pause_percent of those tried.
 *   - Recipients of a campaign who are no longer mailable when their turn
 *     comes (unsubscribed, bounced, suppressed, forgotten) are skipped and
 *     counted, not sent; rows of a cancelled campaign are skipped.
 *
 * Threads: deliver_start() runs the engine in its own thread with its own
 * store connection.  deliver_wake() may be called from any thread.
 */
#ifndef POSTROOM_DELIVER_H
#define POSTROOM_DELIVER_H

#include <stdint.h>

struct buf;
struct conf;
struct store;
struct store_outbox_row;
struct transport_ops;

/*
 * A claimed row in the engine.  deliver_enter_state() is the one place a
 * row moves, and it logs the move:
 *
 *	CLAIMED -> SENDING -> SENT | DEFERRED | FAILED
 *	CLAIMED -> SKIPPED | FAILED | DEFERRED  (never handed over)
 *	CLAIMED -> RELEASED  (never handed over: back to the queue)
 *
 * Every final state is written back to the outbox and the row forgotten.
 */
enum deliver_state {
	DELIVER_CLAIMED,	/* outbox row taken (state sending) */
	DELIVER_SENDING,	/* its bytes are with the transport */
	DELIVER_SENT,		/* accepted (2xx) */
	DELIVER_DEFERRED,	/* 4xx, lost connection, timeout: later */
	DELIVER_FAILED,		/* 5xx, too old, cannot be rendered */
	DELIVER_SKIPPED,	/* not sent on purpose */
	DELIVER_RELEASED,	/* given back unsent: stopping, or stale */
	DELIVER_NSTATES
};

const char	*deliver_state_name(enum deliver_state);
/* 1 when a row may move from one state to the other. */
int		 deliver_can_move(enum deliver_state, enum deliver_state);

/* --- the retry schedule (pure functions, for tests) ------------------- */

#define DELIVER_JITTER_PERCENT	10
/*
 * How the reply of a row failed by giving up after smtp.max_retry_age
 * starts: what the campaign engine tells temporary failures (4xx, lost
 * connections, timeouts) by when it retries them (campaign.h).
 */
#define DELIVER_GAVE_UP		"gave up after "

/* Seconds to wait after the attempts-th failed attempt, without jitter. */
int64_t		 deliver_backoff_base(int attempts);
/* The same with jitter from rnd: base +- DELIVER_JITTER_PERCENT. */
int64_t		 deliver_backoff(int attempts, uint32_t rnd);
/*
 * After a temporary failure of a row created at created_at that has now
 * been tried attempts times: DELIVER_DEFERRED with *next (never later
 * than created_at + max_age: a last try at the deadline), or
 * DELIVER_FAILED once now is at or past that deadline.
 */
enum deliver_state deliver_retry(int64_t max_age, int attempts,
		    int64_t created_at, int64_t now, uint32_t rnd,
		    int64_t *next);
/* Whether a campaign with these tallies pauses itself (see above). */
int		 deliver_should_pause(int64_t count, int percent,
		    int64_t sent, int64_t failed);

/* --- hooks ------------------------------------------------------------- */

/*
 * How campaign rows get their bytes.  prepare() once per campaign (the
 * engine keeps the result while the campaign sends), render() per row
 * into out, with the envelope sender (VERP) in *mail_from (caller frees).
 * deliver_render_newsletter is the real one (newsletter.h).
 */
struct deliver_render {
	void	*(*prepare)(const struct conf *, struct store *,
		    int64_t campaign_id, char **cause);
	int	 (*render)(void *, const struct store_outbox_row *,
		    int64_t now, struct buf *out, char **mail_from,
		    char **cause);
	void	 (*free)(void *);
};

extern const struct deliver_render	deliver_render_newsletter;

/* For tests and tools: what to use instead of the defaults. */
struct deliver_opts {
	const struct transport_ops	*transport;	/* NULL: by smtp.url */
	const struct deliver_render	*render;	/* NULL: newsletter */
	/*
	 * Once mode: asked at each turn of the loop; when it returns
	 * non-zero (postroomd --once got SIGTERM), stop claiming, let what
	 * is with the server finish (as deliver_stop()), and return.
	 * NULL: never.
	 */
	int				(*stop)(void *);
	void				*stop_arg;
};

struct deliver_stats {
	int64_t	 sent;
	int64_t	 deferred;
	int64_t	 failed;
	int64_t	 skipped;
	int64_t	 recovered;	/* rows found sending at start */
};

/* --- running ------------------------------------------------------------ */

struct deliver;

/*
 * Start the engine thread: open its own store on general.database, put
 * back rows a dead process left sending, set up the transport and start
 * delivering.  conf must stay valid until deliver_stop() returns.  NULL
 * with *cause when it cannot start.
 */
struct deliver	*deliver_start(const struct conf *, char **cause);
/* New work may be waiting: look now rather than at the next second. */
void		 deliver_wake(struct deliver *);
/*
 * SIGTERM: stop claiming, let the messages in flight finish (giving up on
 * them, deferred, after DELIVER_STOP_GRACE seconds: a stalled server does
 * not hold up a stop), write everything back, join the thread and free.
 * NULL is fine.
 */
#define DELIVER_STOP_GRACE	3
void		 deliver_stop(struct deliver *);

/*
 * postroomd --once: deliver everything due now in the calling thread and
 * return when nothing is due and nothing is in flight.  0, or -1 with
 * *cause.  stats may be NULL.
 */
int		 deliver_run_once(const struct conf *, struct deliver_stats *,
		    char **cause);
int		 deliver_run_once_opts(const struct conf *,
		    const struct deliver_opts *, struct deliver_stats *,
		    char **cause);

#endif
