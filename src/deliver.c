/*
 * deliver.c - the delivery engine: the outbox in, the transport out.
 *
 * Owns: the engine's loop and thread; claiming due rows and writing back
 * what became of them, in transactions; the state machine of a claimed
 * row (deliver_enter_state() is the one place a row moves, and it logs the
 * move, as OpenSMTPD's mta_enter_state); applying the retry schedule; the
 * rate limits' use (ratelimit.c does the arithmetic); skipping recipients
 * who left; pausing a campaign whose failures pile up and marking one
 * sent when its last row is done; turning rows into bytes (stored
 * messages with their line ends fixed, read from their bodies after the
 * claim and never inside a sync, campaign rows through a struct
 * deliver_render, by default deliver-newsletter.c's).  Does not own: the
 * states' names, the retry schedule and the pause rule
 * (deliver-schedule.c), SMTP or the Maildir (send-smtp.c,
 * send-maildir.c), the SQL (store-outbox.c), what a newsletter looks like
 * (newsletter.c).
 *
 * One pass of the loop:
 *   1. sync: in ONE transaction, write back every finished row and claim
 *      due rows into the free places, as the rate limits allow;
 *   2. hand claimed rows to the transport while it has a free slot,
 *      rendering any not rendered yet (outside the transaction: it must
 *      stay short, and nothing is sent before the claim is committed);
 *   3. render one claimed row ahead, if any waits, or else wait in the
 *      transport's run() for replies, the rate limit, a wakeup or the
 *      next look at the outbox.
 *
 * The bound on duplicates after a crash: a row handed over keeps its slot
 * until what became of it is written back, so no more than
 * smtp.concurrency rows are ever with the server or sent-but-not-written
 * (the only rows a crash can make go twice).  With no rate limit the
 * engine also claims up to smtp.concurrency rows AHEAD and renders them
 * while the connections work, so that a connection whose row was written
 * back gets its next message at once; those rows are in state sending in
 * the database but were never handed over, so a crash only queues them
 * again (as postroomd's start does).  With a rate limit nothing is
 * claimed ahead: the token is taken at the claim, and a row waiting for a
 * slot would reach the server later than its token said.  A row that
 * waits DELIVER_AHEAD_STALE for a slot once it is ready to go (a stalled
 * server), or is still waiting at a stop, is released: back to queued, its
 * attempt uncounted,
 * and claimed again later with its campaign read again, so that a pause
 * or a cancellation is never more than that late.  Write-backs are batched
 * (half the slots, or DELIVER_FLUSH_DELAY) because every commit is an
 * fsync.
 */
#include <sys/random.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "campaign.h"
#include "conf.h"
#include "deliver.h"
#include "log.h"
#include "monotime.h"
#include "ratelimit.h"
#include "store.h"
#include "transport.h"
#include "xmalloc.h"

#define DELIVER_DUE_BATCH	512	/* due rows read at a time */
#define DELIVER_DUE_STALE	1000000	/* us: read due rows again after */
#define DELIVER_FLUSH_DELAY	20000	/* us a finished row may wait */
#define DELIVER_AHEAD_STALE	1000000	/* us a row claimed ahead may wait */
#define DELIVER_IDLE_POLL	1000000	/* us between looks when idle */
#define DELIVER_RETRY_SYNC	1000000	/* us after a failed sync */
#define DELIVER_MAX_MESSAGE	(64 * 1024 * 1024)
#define DELIVER_CAMPAIGNS	8	/* prepared campaigns kept */
#define DELIVER_SPARE_MAX	(256 * 1024)	/* largest buffer kept */

struct deliver_job {
	struct deliver		*d;
	struct store_outbox_row	 row;
	enum deliver_state	 state;
	int			 prepared;	/* data and len are set */
	int64_t			 ready_us;	/* deliver_now() when prepared */
	struct buf		 buf;		/* rendered or fixed bytes */
	const char		*data;		/* what is sent */
	size_t			 len;
	char			*mail_from;
	int			 code;
	char			*reply;
	int64_t			 next_attempt;	/* deferred: when */
};

struct deliver_campaign {
	int64_t	 id;
	void	*prepared;
	int64_t	 used;
};

/* A campaign whose rows were written back in this sync. */
struct deliver_touched {
	int64_t	 id;
	int	 failed;
};

struct deliver {
	const struct conf		*conf;
	struct store			*store;
	const struct transport_ops	*ops;
	struct transport		*t;
	const struct deliver_render	*render;
	struct ratelimit		 second;
	struct ratelimit		 hour;

	/* Claimed rows not yet written back, in every state, claim order. */
	struct deliver_job		**jobs;
	size_t				 njobs;
	size_t				 nslots;	/* smtp.concurrency */
	size_t				 maxjobs;	/* nslots, + ahead */
	size_t				 nsending;
	size_t				 nfinished;
	int64_t				 finished_at;	/* oldest finished */

	int64_t				 due[DELIVER_DUE_BATCH];
	size_t				 ndue;
	size_t				 idue;
	int64_t				 due_at;	/* read at; 0: again */
	int				 idle;		/* nothing was due */
	int64_t				 retry_at;	/* after a failure */

	struct deliver_campaign		 camps[DELIVER_CAMPAIGNS];
	int64_t				 tick;

	struct deliver_touched		*touched;
	size_t				 ntouched;
	size_t				 ctouched;
	int64_t				 skipped;	/* in this sync */

	/* Message buffers of finished jobs, for the next ones to reuse. */
	struct buf			*spare;
	size_t				 nspare;
	size_t				 maxspare;

	struct deliver_stats		 stats;
	struct deliver_stats		 reported;	/* at last summary */
	uint32_t			 rnd;
	int				 once;
	pthread_t			 thread;
	atomic_int			 stopping;
	int				(*stop)(void *);	/* opts */
	void				*stop_arg;
	atomic_int			 woken;
	int64_t				 stop_at;
};

/* --- states (their names and moves: deliver-schedule.c) ---------------- */

static int
deliver_final(enum deliver_state st)
{
	return st == DELIVER_SENT || st == DELIVER_DEFERRED ||
	    st == DELIVER_FAILED || st == DELIVER_SKIPPED ||
	    st == DELIVER_RELEASED;
}

/* --- small helpers ----------------------------------------------------- */

static int64_t
deliver_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * RATELIMIT_USEC + ts.tv_nsec / 1000;
}

/* xorshift32: jitter only needs to differ between rows. */
static uint32_t
deliver_random(struct deliver *d)
{
	uint32_t	x = d->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return d->rnd = x;
}

static const char *
deliver_duration(int64_t secs, char *out, size_t len)
{
	if (secs >= 86400 && secs % 3600 == 0)
		snprintf(out, len, "%lldh", (long long)(secs / 3600));
	else if (secs >= 3600)
		snprintf(out, len, "%lldh%02lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
	else
		snprintf(out, len, "%lldm%02llds", (long long)(secs / 60),
		    (long long)(secs % 60));
	return out;
}

/*
 * SMTP wants CRLF; rows written by hand (or by a test) may have bare LF.
 * Copy into out with every bare LF made CRLF: 1 when that was needed,
 * 0 when the message is fine as it is (nothing copied), -1 over the cap.
 */
static int
deliver_crlf(struct buf *out, const char *p, size_t len)
{
	const char	*nl, *end = p + len, *q = p;

	/* Most messages are fine: look with memchr before copying. */
	while ((nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		if (nl == p || nl[-1] != '\r')
			break;
		q = nl + 1;
	}
	if (nl == NULL)
		return 0;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			if (buf_add(out, p, (size_t)(end - p)) == -1)
				return -1;
			break;
		}
		if (nl > p && nl[-1] == '\r') {
			if (buf_add(out, p, (size_t)(nl - p) + 1) == -1)
				return -1;
		} else if (buf_add(out, p, (size_t)(nl - p)) == -1 ||
		    buf_add(out, "\r\n", 2) == -1)
			return -1;
		p = nl + 1;
	}
	return 1;
}

/* --- the state machine ------------------------------------------------ */

/*
 * Move a job to state to, with the reply that moved it, and log the move:
 * every row's story is in the log at debug, the unhappy endings at info
 * and warn.
 */
static void
deliver_enter_state(struct deliver_job *job, enum deliver_state to,
    int code, const char *reply)
{
	struct deliver		*d = job->d;
	enum deliver_state	 from = job->state;
	const struct store_outbox_row *row = &job->row;
	char			 when[32], ctx[64];
	const char		*sep = reply != NULL ? ": " : "";

	if (!deliver_can_move(from, to))
		fatalx("%s: outbox %lld: %s -> %s", __func__,
		    (long long)row->id, deliver_state_name(from),
		    deliver_state_name(to));
	if (reply == NULL)
		reply = "";
	/* Ids, never the address: no log line names a person. */
	if (row->campaign_id != 0 && row->subscriber_id != 0)
		snprintf(ctx, sizeof ctx, "%s %lld, subscriber %lld",
		    store_outbox_kind_name(row->kind),
		    (long long)row->campaign_id,
		    (long long)row->subscriber_id);
	else if (row->campaign_id != 0)
		snprintf(ctx, sizeof ctx, "%s %lld",
		    store_outbox_kind_name(row->kind),
		    (long long)row->campaign_id);
	else if (row->subscriber_id != 0)
		snprintf(ctx, sizeof ctx, "%s, subscriber %lld",
		    store_outbox_kind_name(row->kind),
		    (long long)row->subscriber_id);
	else
		snprintf(ctx, sizeof ctx, "%s",
		    store_outbox_kind_name(row->kind));

	switch (to) {
	case DELIVER_DEFERRED:
		log_info("outbox %lld (%s): %s -> deferred, attempt %d, "
		    "next in %s%s%s", (long long)row->id, ctx,
		    deliver_state_name(from), row->attempts,
		    deliver_duration(job->next_attempt -
		    deliver_now() / RATELIMIT_USEC, when, sizeof when), sep,
		    reply);
		break;
	case DELIVER_FAILED:
		log_warn("outbox %lld (%s): %s -> failed%s%s",
		    (long long)row->id, ctx,
		    deliver_state_name(from), sep, reply);
		break;
	case DELIVER_SKIPPED:
		log_info("outbox %lld (%s): %s -> skipped%s%s",
		    (long long)row->id, ctx,
		    deliver_state_name(from), sep, reply);
		break;
	default:
		log_debug("outbox %lld (%s): %s -> %s%s%s",
		    (long long)row->id, ctx,
		    deliver_state_name(from), deliver_state_name(to), sep,
		    reply);
		break;
	}

	if (from == DELIVER_SENDING)
		d->nsending--;
	if (to == DELIVER_SENDING)
		d->nsending++;
	if (deliver_final(to) && d->nfinished++ == 0)
		d->finished_at = deliver_now();
	job->state = to;
	job->code = code;
	free(job->reply);
	job->reply = reply[0] != '\0' ? xstrdup(reply) : NULL;
}

/* A temporary failure: deferred, or failed when the row is too old. */
static void
deliver_tempfail(struct deliver_job *job, int code, const char *reply)
{
	struct deliver	*d = job->d;
	int64_t		 now = deliver_now() / RATELIMIT_USEC;
	char		 age[32], *why;

	if (deliver_retry(d->conf->smtp.max_retry_age, job->row.attempts,
	    job->row.created_at, now, deliver_random(d),
	    &job->next_attempt) == DELIVER_DEFERRED) {
		deliver_enter_state(job, DELIVER_DEFERRED, code, reply);
		return;
	}
	why = xprintf(DELIVER_GAVE_UP "%d attempts over %s "
	    "(smtp.max_retry_age): %s", job->row.attempts,
	    deliver_duration(now - job->row.created_at, age, sizeof age),
	    reply);
	deliver_enter_state(job, DELIVER_FAILED, code, why);
	free(why);
}

/* The transport's word on a message. */
static void
deliver_done(const struct transport_result *res, void *arg)
{
	struct deliver_job	*job = res->cookie;

	(void)arg;
	switch (res->status) {
	case TRANSPORT_OK:
		deliver_enter_state(job, DELIVER_SENT, res->code, res->reply);
		break;
	case TRANSPORT_PERMFAIL:
		deliver_enter_state(job, DELIVER_FAILED, res->code,
		    res->reply);
		break;
	case TRANSPORT_TEMPFAIL:
		deliver_tempfail(job, res->code, res->reply);
		break;
	}
}

/*
 * An empty message buffer: one a finished job left, so that a campaign
 * does not allocate and grow a buffer per message, or a new one.
 */
static void
deliver_buf_get(struct deliver *d, struct buf *b)
{
	if (d->nspare > 0) {
		*b = d->spare[--d->nspare];
		buf_reset(b);
	} else
		buf_init(b, DELIVER_MAX_MESSAGE);
}

/* Done with b: keep it for deliver_buf_get() unless large or too many. */
static void
deliver_buf_put(struct deliver *d, struct buf *b)
{
	if (b->data != NULL && b->cap <= DELIVER_SPARE_MAX &&
	    d->nspare < d->maxspare)
		d->spare[d->nspare++] = *b;
	else
		buf_free(b);
	buf_init(b, DELIVER_MAX_MESSAGE);
}

static void
deliver_job_free(struct deliver_job *job)
{
	store_outbox_row_clear(&job->row);
	deliver_buf_put(job->d, &job->buf);
	free(job->mail_from);
	free(job->reply);
	free(job);
}

/* --- campaigns --------------------------------------------------------- */

/* The prepared campaign, from the cache or made now; NULL with *cause. */
static void *
deliver_campaign(struct deliver *d, int64_t id, char **cause)
{
	struct deliver_campaign	*c, *lru = NULL;
	size_t			 i;

	for (i = 0; i < DELIVER_CAMPAIGNS; i++) {
		c = &d->camps[i];
		if (c->prepared != NULL && c->id == id) {
			c->used = ++d->tick;
			return c->prepared;
		}
		if (lru == NULL || c->prepared == NULL ||
		    (lru->prepared != NULL && c->used < lru->used))
			lru = c;
	}
	if (lru->prepared != NULL)
		d->render->free(lru->prepared);
	lru->prepared = d->render->prepare(d->conf, d->store, id, cause);
	lru->id = id;
	lru->used = ++d->tick;
	if (lru->prepared != NULL)
		log_debug("campaign %lld: prepared for sending", (long long)id);
	return lru->prepared;
}

/*
 * Why a claimed row's recipient may not be mailed now (as
 * store_subscriber_mailable() says: confirmed on the list, which the claim
 * read, and not suppressed), in *reason; NULL when they may.  Only list
 * mail is looked at: a campaign row, and a digest (leaving the list
 * skipped that already, store_member_set_status(); an address suppressed
 * since it was queued, a complaint, is not mailed).  -1 when the store
 * failed.
 */
static int
deliver_skip_reason(struct deliver *d, const struct store_outbox_row *row,
    char **reason, char **cause)
{
	const char	*st = row->member_status, *addr;
	int		 rc;

	*reason = NULL;
	switch (row->kind) {
	case STORE_OUTBOX_CAMPAIGN:
		if (row->cancelled)
			*reason = xstrdup("campaign cancelled");
		else if (st == NULL)
			*reason = xprintf("no longer on list %s", row->list);
		else if (strcmp(st, "pending") == 0)
			*reason = xprintf("not confirmed on list %s",
			    row->list);
		else if (strcmp(st, "confirmed") != 0)
			*reason = xprintf("%s from list %s", st, row->list);
		if (*reason != NULL)
			return 0;
		addr = row->sub_email;
		break;
	case STORE_OUTBOX_DIGEST:
		addr = row->rcpt_to;
		break;
	default:
		return 0;
	}
	if ((rc = store_subscriber_suppressed(d->store, addr, cause)) == -1)
		return -1;
	if (rc == 1)
		*reason = xstrdup("address suppressed");
	return 0;
}

static void
deliver_touch(struct deliver *d, int64_t campaign_id, int failed)
{
	size_t	i;

	if (campaign_id == 0)
		return;
	for (i = 0; i < d->ntouched; i++) {
		if (d->touched[i].id == campaign_id) {
			d->touched[i].failed |= failed;
			return;
		}
	}
	if (d->ntouched == d->ctouched) {
		d->ctouched = d->ctouched == 0 ? 8 : d->ctouched * 2;
		d->touched = xreallocarray(d->touched, d->ctouched,
		    sizeof *d->touched);
	}
	d->touched[d->ntouched].id = campaign_id;
	d->touched[d->ntouched].failed = failed;
	d->ntouched++;
}

/*
 * A campaign was paused (or cancelled): its rows claimed ahead go back to
 * the queue now, in the sync's transaction, rather than out after it.
 */
static int
deliver_release_campaign(struct deliver *d, int64_t campaign_id,
    int64_t now, char **cause)
{
	struct deliver_job	*job;
	size_t			 i;

	for (i = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (job->state != DELIVER_CLAIMED ||
		    job->row.campaign_id != campaign_id)
			continue;
		if (store_outbox_release(d->store, job->row.id, now,
		    cause) == -1)
			return -1;
		deliver_enter_state(job, DELIVER_RELEASED, 0,
		    "campaign no longer sending");
	}
	return 0;
}

/*
 * Inside the sync's transaction: rows claimed ahead whose campaign was
 * paused or cancelled since (by an operator) go back to the queue, so
 * that they are not sent after the pause; claimed again, a cancelled
 * campaign's rows are skipped.  One look per campaign per sync.
 */
static int
deliver_check_ahead(struct deliver *d, int64_t now, char **cause)
{
	struct deliver_job	*job;
	int64_t			 last = 0;
	size_t			 i;
	int			 rc;

	for (i = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (job->state != DELIVER_CLAIMED ||
		    job->row.campaign_id == 0 || job->row.campaign_id == last)
			continue;
		last = job->row.campaign_id;
		rc = store_outbox_campaign_sending(d->store, last, cause);
		if (rc == -1)
			return -1;
		if (rc == 0 && deliver_release_campaign(d, last, now,
		    cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * After write-backs, inside the transaction: pause campaigns whose
 * failures passed the threshold, mark finished ones sent.  Only the
 * campaigns touched from index from on.
 */
static int
deliver_campaigns_check(struct deliver *d, size_t from, int64_t now,
    char **cause)
{
	const struct conf_smtp	*c = &d->conf->smtp;
	struct deliver_touched	*tc;
	int64_t			 sent, failed;
	char			*reason, id[32];
	size_t			 i;
	int			 rc;

	for (i = from; i < d->ntouched; i++) {
		tc = &d->touched[i];
		snprintf(id, sizeof id, "%lld", (long long)tc->id);
		if (tc->failed) {
			if (store_outbox_campaign_tally(d->store, tc->id, &sent,
			    &failed, cause) == -1)
				return -1;
			if (deliver_should_pause(c->failure_pause_count,
			    c->failure_pause_percent, sent, failed)) {
				reason = xprintf("%lld of %lld deliveries "
				    "failed (smtp.failure_pause_count %d, "
				    "failure_pause_percent %d)",
				    (long long)failed,
				    (long long)(sent + failed),
				    c->failure_pause_count,
				    c->failure_pause_percent);
				rc = store_outbox_campaign_pause(d->store,
				    tc->id, reason, now, cause);
				if (rc == 1) {
					log_warn("campaign %s paused: %s", id,
					    reason);
					store_event(d->store, "campaign-paused",
					    id, reason);
				}
				free(reason);
				if (rc == -1 || deliver_release_campaign(d,
				    tc->id, now, cause) == -1)
					return -1;
				continue;
			}
		}
		if ((rc = store_outbox_campaign_finish(d->store, tc->id, now,
		    cause)) == -1)
			return -1;
		if (rc == 1) {
			log_info("campaign %s: every recipient done, marked "
			    "sent", id);
			store_event(d->store, "campaign-sent", id, NULL);
		}
	}
	return 0;
}

/* --- sync: write back and claim in one transaction -------------------- */

static int64_t
deliver_tokens(struct deliver *d, int64_t now)
{
	int64_t	a, b;

	a = ratelimit_available(&d->second, now);
	b = ratelimit_available(&d->hour, now);
	return a < b ? a : b;
}

static enum store_outbox_state
deliver_store_state(enum deliver_state st)
{
	switch (st) {
	case DELIVER_SENT:
		return STORE_OUTBOX_SENT;
	case DELIVER_DEFERRED:
		return STORE_OUTBOX_DEFERRED;
	case DELIVER_FAILED:
		return STORE_OUTBOX_FAILED;
	case DELIVER_SKIPPED:
		return STORE_OUTBOX_SKIPPED;
	default:
		fatalx("%s: %s is not final", __func__,
		    deliver_state_name(st));
	}
}

/* Claim up to max due rows; skipped ones are completed at once. */
static int
deliver_claim(struct deliver *d, int64_t now_us, int64_t max, char **cause)
{
	struct store_outbox_row	 row;
	struct deliver_job	*job;
	int64_t			 now = now_us / RATELIMIT_USEC, claimed = 0;
	size_t			 examined = 0;
	char			*reason;
	int			 rc, fetched = 0;

	while (claimed < max && examined < DELIVER_DUE_BATCH) {
		if (d->idue >= d->ndue ||
		    now_us - d->due_at >= DELIVER_DUE_STALE) {
			if (fetched++ > 0 && d->ndue == 0)
				break;
			/* Scheduled campaigns whose time has come start. */
			if (campaign_start_due(d->store, now, cause) == -1)
				return -1;
			if (store_outbox_due(d->store, now, d->render != NULL,
			    d->due, DELIVER_DUE_BATCH, &d->ndue, cause) == -1)
				return -1;
			d->idue = 0;
			d->due_at = now_us;
			if (d->ndue == 0) {
				d->idle = 1;
				break;
			}
		}
		examined++;
		rc = store_outbox_claim(d->store, d->due[d->idue++], now, &row,
		    cause);
		if (rc == -1)
			return -1;
		if (rc == 0)
			continue;

		job = xcalloc(1, sizeof *job);
		job->d = d;
		job->row = row;
		job->state = DELIVER_CLAIMED;
		deliver_buf_get(d, &job->buf);

		if (deliver_skip_reason(d, &job->row, &reason, cause) == -1) {
			deliver_job_free(job);
			return -1;
		}
		if (reason != NULL) {
			/*
			 * Written back in this transaction, using no slot
			 * (so not counted among the finished in the slots).
			 */
			deliver_enter_state(job, DELIVER_SKIPPED, 0, reason);
			d->nfinished--;
			free(reason);
			rc = store_outbox_complete(d->store, row.id,
			    STORE_OUTBOX_SKIPPED, 0, job->reply, 0, now,
			    cause);
			deliver_touch(d, row.campaign_id, 0);
			deliver_job_free(job);
			if (rc == -1)
				return -1;
			d->skipped++;
			continue;
		}
		d->jobs[d->njobs++] = job;
		ratelimit_take(&d->second, now_us, 1);
		ratelimit_take(&d->hour, now_us, 1);
		claimed++;
	}
	if (claimed > 0)
		d->idle = 0;
	return 0;
}

static int
deliver_sync(struct deliver *d, int64_t now_us, int claim, char **cause)
{
	struct deliver_job	*job;
	int64_t			 now = now_us / RATELIMIT_USEC, n;
	size_t			 i, j, claimed_from, first_new;

	d->ntouched = 0;
	d->skipped = 0;
	first_new = d->njobs;		/* rows claimed here go after */
	if (store_begin(d->store, cause) == -1)
		return -1;

	/* Step 1: write back the finished rows. */
	for (i = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (!deliver_final(job->state))
			continue;
		if (job->state == DELIVER_RELEASED) {
			if (store_outbox_release(d->store, job->row.id, now,
			    cause) == -1)
				goto fail;
			continue;
		}
		if (store_outbox_complete(d->store, job->row.id,
		    deliver_store_state(job->state), job->code, job->reply,
		    job->next_attempt, now, cause) == -1)
			goto fail;
		deliver_touch(d, job->row.campaign_id,
		    job->state == DELIVER_FAILED);
	}

	/*
	 * Step 2: campaigns that pause or finish with these rows - before
	 * claiming, so that a paused campaign's rows are not claimed - and
	 * rows claimed ahead for a campaign no longer sending.
	 */
	if (deliver_campaigns_check(d, 0, now, cause) == -1 ||
	    deliver_check_ahead(d, now, cause) == -1)
		goto fail;

	/*
	 * Step 3: claim into the free slots, as the rate limits allow.  Rows
	 * skipped on the way are written back at once, and may be the last
	 * of their campaign: check those campaigns too.
	 */
	claimed_from = d->ntouched;
	if (claim) {
		n = (int64_t)(d->maxjobs - (d->njobs - d->nfinished));
		if (deliver_tokens(d, now_us) < n)
			n = deliver_tokens(d, now_us);
		if (n > 0 && deliver_claim(d, now_us, n, cause) == -1)
			goto fail;
		if (ratelimit_save(&d->second, d->store, now_us, cause) == -1 ||
		    ratelimit_save(&d->hour, d->store, now_us, cause) == -1)
			goto fail;
		if (deliver_campaigns_check(d, claimed_from, now, cause) == -1)
			goto fail;
	}
	if (store_commit(d->store, cause) == -1)
		goto fail;

	/* Committed: forget what was written back. */
	for (i = j = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (!deliver_final(job->state)) {
			d->jobs[j++] = job;
			continue;
		}
		switch (job->state) {
		case DELIVER_SENT:
			d->stats.sent++;
			break;
		case DELIVER_DEFERRED:
			d->stats.deferred++;
			break;
		case DELIVER_FAILED:
			d->stats.failed++;
			break;
		case DELIVER_SKIPPED:
			d->stats.skipped++;
			break;
		default:
			break;		/* released: queued again */
		}
		deliver_job_free(job);
	}
	d->njobs = j;
	d->nfinished = 0;
	d->stats.skipped += d->skipped;
	return 0;

fail:
	store_rollback(d->store);
	/*
	 * None of it happened: drop the rows claimed here (they are still
	 * queued in the database; those from earlier syncs, after first_new,
	 * stay claimed); finished rows wait for the next sync.  Tokens taken
	 * stay taken: slower, never faster.
	 */
	for (i = first_new; i < d->njobs; i++)
		deliver_job_free(d->jobs[i]);
	d->njobs = first_new;
	d->due_at = 0;
	return -1;
}

/* --- making bytes and sending ----------------------------------------- */

/*
 * Read a stored row's body into row->message: 0, or -1 when the row moved
 * to a final state instead (its body is gone: the row was erased since
 * the claim; the database failed: deferred, as any temporary failure).
 */
static int
deliver_body(struct deliver *d, struct deliver_job *job)
{
	struct store_outbox_row	*row = &job->row;
	char			*cause = NULL, *why;
	int			 rc;

	rc = store_outbox_body_get(d->store, row->body_id, &row->message,
	    &row->len, &cause);
	if (rc == 1 && row->len > DELIVER_MAX_MESSAGE) {
		free(row->message);
		row->message = NULL;
		deliver_enter_state(job, DELIVER_FAILED, 0,
		    "message too large");
		return -1;
	}
	if (rc == 1)
		return 0;
	if (rc == 0) {
		deliver_enter_state(job, DELIVER_FAILED, 0,
		    "the message was erased before it was sent");
		return -1;
	}
	why = xprintf("cannot read the message: %s", cause);
	deliver_tempfail(job, 0, why);
	free(why);
	free(cause);
	return -1;
}

/*
 * A claimed row's bytes and envelope sender.  0 when ready to hand over;
 * -1 when the row moved to a final state instead (too large, cannot be
 * rendered, its campaign cannot be prepared).
 */
static int
deliver_prepare(struct deliver *d, struct deliver_job *job)
{
	struct store_outbox_row	*row = &job->row;
	struct buf		 raw;
	void			*prepared;
	char			*cause = NULL, *why, id[32];
	int			 rc;

	if (row->body_id != 0) {
		/* Read here, not at the claim: see store_outbox_row. */
		if (row->message == NULL && deliver_body(d, job) == -1)
			return -1;
		job->mail_from = xstrdup(row->mail_from);
		job->data = row->message;
		job->len = row->len;
		rc = deliver_crlf(&job->buf, row->message, row->len);
		if (rc == 1) {
			job->data = job->buf.data;
			job->len = job->buf.len;
		} else if (rc == -1) {
			deliver_enter_state(job, DELIVER_FAILED, 0,
			    "message too large");
			return -1;
		}
	} else {
		if ((prepared = deliver_campaign(d, row->campaign_id,
		    &cause)) == NULL) {
			/*
			 * Nothing of this campaign can be sent: pause it and
			 * let this row wait for it to be resumed.
			 */
			why = xprintf("cannot prepare the newsletter: %s",
			    cause);
			snprintf(id, sizeof id, "%lld",
			    (long long)row->campaign_id);
			free(cause);
			cause = NULL;
			if (store_outbox_campaign_pause(d->store,
			    row->campaign_id, why,
			    deliver_now() / RATELIMIT_USEC, &cause) == 1) {
				log_error("campaign %s paused: %s", id, why);
				store_event(d->store, "campaign-paused", id,
				    why);
			} else if (cause != NULL) {
				log_error("campaign %s: %s", id, cause);
				free(cause);
			}
			job->next_attempt = deliver_now() / RATELIMIT_USEC;
			deliver_enter_state(job, DELIVER_DEFERRED, 0, why);
			free(why);
			return -1;
		}
		deliver_buf_get(d, &raw);
		if (d->render->render(prepared, row,
		    deliver_now() / RATELIMIT_USEC, &raw, &job->mail_from,
		    &cause) == -1) {
			why = xprintf("cannot render: %s", cause);
			deliver_enter_state(job, DELIVER_FAILED, 0, why);
			free(why);
			free(cause);
			deliver_buf_put(d, &raw);
			return -1;
		}
		if ((rc = deliver_crlf(&job->buf, raw.data, raw.len)) == 0) {
			deliver_buf_put(d, &job->buf);
			job->buf = raw;
		} else
			deliver_buf_put(d, &raw);
		if (rc == -1) {
			deliver_enter_state(job, DELIVER_FAILED, 0,
			    "message too large");
			return -1;
		}
		job->data = job->buf.data;
		job->len = job->buf.len;
	}
	job->prepared = 1;
	job->ready_us = deliver_now();
	return 0;
}

/* Over to the transport, which has a free slot. */
static void
deliver_submit(struct deliver *d, struct deliver_job *job)
{
	struct transport_msg	 m;
	char			*cause = NULL;

	m.mail_from = job->mail_from;
	m.rcpt_to = job->row.rcpt_to;
	m.data = job->data;
	m.len = job->len;
	m.cookie = job;
	if (d->ops->submit(d->t, &m, &cause) == -1) {
		deliver_tempfail(job, 0, cause);
		free(cause);
		return;
	}
	deliver_enter_state(job, DELIVER_SENDING, 0, NULL);
}

/*
 * Hand claimed rows over, oldest claim first, while a slot is free: a
 * slot is held from the hand-over until the row's fate is written back
 * (finished rows count until the sync that forgets them).
 */
static void
deliver_hand_over(struct deliver *d)
{
	struct deliver_job	*job;
	size_t			 i;

	for (i = 0; i < d->njobs; i++) {
		if (d->nsending + d->nfinished >= d->nslots ||
		    d->ops->slots(d->t) <= 0)
			break;
		job = d->jobs[i];
		if (job->state != DELIVER_CLAIMED)
			continue;
		if (!job->prepared && deliver_prepare(d, job) == -1)
			continue;
		deliver_submit(d, job);
	}
}

/* Render one row claimed ahead; 1 if there was one. */
static int
deliver_render_ahead(struct deliver *d)
{
	struct deliver_job	*job;
	size_t			 i;

	for (i = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (job->state == DELIVER_CLAIMED && !job->prepared) {
			(void)deliver_prepare(d, job);
			return 1;
		}
	}
	return 0;
}

/*
 * Give back rows claimed ahead that are still waiting: all of them when
 * stopping, otherwise those ready (prepared) for DELIVER_AHEAD_STALE with
 * no slot for them.  The clock starts when a row is ready, not at its
 * claim: reading and rendering are the engine's own work, and a large
 * message that takes a second to read must not be given back for it, nor
 * make every row claimed after it wait out its second unready (the engine
 * then gave back all it claimed, cycle after cycle, and sent nothing).
 */
static void
deliver_release(struct deliver *d, int64_t now)
{
	struct deliver_job	*job;
	size_t			 i;

	for (i = 0; i < d->njobs; i++) {
		job = d->jobs[i];
		if (job->state != DELIVER_CLAIMED)
			continue;
		if (d->stop_at != 0)
			deliver_enter_state(job, DELIVER_RELEASED, 0,
			    "stopping");
		else if (job->prepared &&
		    now - job->ready_us >= DELIVER_AHEAD_STALE)
			deliver_enter_state(job, DELIVER_RELEASED, 0,
			    "no connection free for a second");
	}
}

/* --- the loop ---------------------------------------------------------- */

static int
deliver_want_sync(struct deliver *d, int64_t now)
{
	size_t	batch;

	if (now < d->retry_at)
		return 0;
	if (d->nfinished > 0) {
		batch = d->nslots / 2 > 0 ? d->nslots / 2 : 1;
		if (d->stop_at != 0 || d->nsending == 0 ||
		    d->nfinished >= batch ||
		    now - d->finished_at >= DELIVER_FLUSH_DELAY)
			return 1;
	}
	if (d->stop_at == 0 && d->njobs < d->maxjobs &&
	    deliver_tokens(d, now) > 0 &&
	    (!d->idle || now - d->due_at >= DELIVER_DUE_STALE))
		return 1;
	return 0;
}

/* How long run() may wait, in milliseconds. */
static int
deliver_timeout(struct deliver *d, int64_t now)
{
	int64_t	t = DELIVER_IDLE_POLL, w;

	if (d->nfinished > 0) {
		w = d->finished_at + DELIVER_FLUSH_DELAY - now;
		t = w < t ? w : t;
	}
	if (d->retry_at > now) {
		w = d->retry_at - now;
		t = w < t ? w : t;
	} else if (d->stop_at == 0 && d->njobs < d->maxjobs) {
		if (d->idle)
			w = d->due_at + DELIVER_DUE_STALE - now;
		else {
			w = ratelimit_wait(&d->second, now);
			if (ratelimit_wait(&d->hour, now) > w)
				w = ratelimit_wait(&d->hour, now);
		}
		t = w < t ? w : t;
	}
	if (d->stop_at != 0 && t > 100000)
		t = 100000;
	if (t <= 0)
		return 0;
	return (int)((t + 999) / 1000);
}

/* At info, once a burst is over: what it came to. */
static void
deliver_report(struct deliver *d)
{
	struct deliver_stats	*s = &d->stats, *r = &d->reported;

	if (s->sent == r->sent && s->deferred == r->deferred &&
	    s->failed == r->failed && s->skipped == r->skipped)
		return;
	log_info("delivery: %lld sent, %lld deferred, %lld failed, "
	    "%lld skipped", (long long)(s->sent - r->sent),
	    (long long)(s->deferred - r->deferred),
	    (long long)(s->failed - r->failed),
	    (long long)(s->skipped - r->skipped));
	*r = *s;
}

static int
deliver_loop(struct deliver *d, char **cause)
{
	/* A full or read-only disk: a line a minute, not ten a second. */
	static struct log_every	syncfail, runfail;
	struct timespec	 pause = { 0, 100 * 1000 * 1000 };
	int64_t		 now;
	char		*error = NULL;
	int		 claim, timeout;

	for (;;) {
		now = deliver_now();
		if (atomic_exchange(&d->woken, 0)) {
			d->due_at = 0;
			d->idle = 0;
		}
		if (d->stop_at == 0 && (atomic_load(&d->stopping) ||
		    (d->stop != NULL && d->stop(d->stop_arg)))) {
			d->stop_at = now;
			log_debug("delivery: stopping, %zu in flight",
			    d->nsending);
		}

		/* Rows claimed ahead do not wait for ever, nor for a stop. */
		deliver_release(d, now);

		/* Step 1: write back, claim, then hand over. */
		if (deliver_want_sync(d, now)) {
			claim = d->stop_at == 0;
			if (deliver_sync(d, now, claim, &error) == -1) {
				if (d->once) {
					*cause = error;
					return -1;
				}
				(void)log_every(&syncfail, monotime_ms(),
				    LOG_EVERY_MINUTE, LOGL_ERROR,
				    "delivery: %s; trying again", error);
				free(error);
				error = NULL;
				d->retry_at = now + DELIVER_RETRY_SYNC;
			} else {
				deliver_hand_over(d);
				if (d->idle && d->njobs == 0)
					deliver_report(d);
			}
			continue;
		}

		/* Step 2: done? */
		if (d->njobs == 0 && (d->stop_at != 0 || (d->once && d->idle)))
			return 0;

		/* Step 3: a stalled server does not hold up a stop for long. */
		if (d->stop_at != 0 && d->nsending > 0 &&
		    now - d->stop_at >= DELIVER_STOP_GRACE * RATELIMIT_USEC) {
			log_warn("delivery: giving up on %zu messages in "
			    "flight", d->nsending);
			d->ops->abort(d->t, deliver_done, d);
			continue;
		}

		/*
		 * Step 4: render a row claimed ahead, then only look for
		 * replies; or else wait for replies, tokens or the next look.
		 */
		timeout = deliver_render_ahead(d) ? 0 : deliver_timeout(d, now);
		if (d->ops->run(d->t, timeout, deliver_done, d, &error) == -1) {
			if (d->once) {
				*cause = error;
				return -1;
			}
			(void)log_every(&runfail, monotime_ms(),
			    LOG_EVERY_MINUTE, LOGL_ERROR, "delivery: %s",
			    error);
			free(error);
			error = NULL;
			/* Not a hot loop if it keeps failing. */
			nanosleep(&pause, NULL);
		}
	}
}

/* --- starting and stopping -------------------------------------------- */

static const struct transport_ops *
deliver_transport(const char *url, char **cause)
{
	if (strncmp(url, "smtp://", 7) == 0 || strncmp(url, "smtps://", 8) == 0)
		return &send_smtp_ops;
	if (strncmp(url, "maildir:", 8) == 0)
		return &send_maildir_ops;
	xasprintf(cause, "smtp.url %s: expected smtp://, smtps:// or "
	    "maildir:", url);
	return NULL;
}

static void
deliver_free(struct deliver *d)
{
	size_t	i;

	if (d == NULL)
		return;
	if (d->t != NULL)
		d->ops->close(d->t);
	for (i = 0; i < DELIVER_CAMPAIGNS; i++) {
		if (d->camps[i].prepared != NULL)
			d->render->free(d->camps[i].prepared);
	}
	for (i = 0; i < d->njobs; i++)
		deliver_job_free(d->jobs[i]);
	free(d->jobs);
	free(d->touched);
	for (i = 0; i < d->nspare; i++)
		buf_free(&d->spare[i]);
	free(d->spare);
	store_close(d->store);
	free(d);
}

static struct deliver *
deliver_new(const struct conf *conf, const struct deliver_opts *opts,
    int once, char **cause)
{
	const struct conf_smtp	*c = &conf->smtp;
	struct deliver		*d;
	int64_t			 now, n;

	d = xcalloc(1, sizeof *d);
	d->conf = conf;
	d->once = once;
	atomic_init(&d->stopping, 0);
	atomic_init(&d->woken, 0);
	d->ops = opts != NULL ? opts->transport : NULL;
	d->stop = opts != NULL ? opts->stop : NULL;
	d->stop_arg = opts != NULL ? opts->stop_arg : NULL;
	if (d->ops == NULL &&
	    (d->ops = deliver_transport(c->url, cause)) == NULL)
		goto fail;
	d->render = opts != NULL && opts->render != NULL ? opts->render :
	    &deliver_render_newsletter;
	if (getrandom(&d->rnd, sizeof d->rnd, 0) != sizeof d->rnd ||
	    d->rnd == 0)
		d->rnd = (uint32_t)deliver_now() | 1;

	if ((d->store = store_open(conf->general.database, cause)) == NULL)
		goto fail;
	now = deliver_now();
	/* One engine per database (postroomd's lock): these are orphans. */
	if (store_outbox_recover(d->store, now / RATELIMIT_USEC, &n,
	    cause) == -1)
		goto fail;
	if (n > 0)
		log_info("delivery: %lld messages were being sent when "
		    "postroom last stopped; queued again", (long long)n);
	d->stats.recovered = n;

	ratelimit_init(&d->second, RATELIMIT_KEY_SECOND, c->rate_per_second,
	    1, ratelimit_default_burst(c->rate_per_second, 1), now);
	ratelimit_init(&d->hour, RATELIMIT_KEY_HOUR, c->rate_per_hour, 3600,
	    ratelimit_default_burst(c->rate_per_hour, 3600), now);
	if (ratelimit_load(&d->second, d->store, now, cause) == -1 ||
	    ratelimit_load(&d->hour, d->store, now, cause) == -1)
		goto fail;

	if ((d->t = d->ops->open(conf, cause)) == NULL)
		goto fail;
	d->nslots = c->concurrency > 0 ? (size_t)c->concurrency : 1;
	if ((int)d->nslots > d->ops->slots(d->t))
		d->nslots = (size_t)d->ops->slots(d->t);
	/* Ahead only when no rate limit: see the top of this file. */
	d->maxjobs = d->nslots;
	if (c->rate_per_second == 0 && c->rate_per_hour == 0)
		d->maxjobs += d->nslots;
	/*
	 * A sync claims before it forgets the rows it wrote back (it may
	 * roll back), so for a moment there can be twice maxjobs.
	 */
	d->jobs = xcalloc(2 * d->maxjobs, sizeof *d->jobs);
	/* Each job may hold two buffers for a moment (deliver_prepare). */
	d->maxspare = 2 * d->maxjobs + 1;
	d->spare = xcalloc(d->maxspare, sizeof *d->spare);
	return d;

fail:
	deliver_free(d);
	return NULL;
}

int
deliver_run_once_opts(const struct conf *conf,
    const struct deliver_opts *opts, struct deliver_stats *stats,
    char **cause)
{
	struct deliver	*d;
	int		 rc;

	if ((d = deliver_new(conf, opts, 1, cause)) == NULL)
		return -1;
	rc = deliver_loop(d, cause);
	if (rc == 0)
		deliver_report(d);
	if (stats != NULL)
		*stats = d->stats;
	deliver_free(d);
	return rc;
}

int
deliver_run_once(const struct conf *conf, struct deliver_stats *stats,
    char **cause)
{
	return deliver_run_once_opts(conf, NULL, stats, cause);
}

static void *
deliver_thread(void *arg)
{
	struct deliver	*d = arg;
	char		*cause = NULL;

	/* Not in once mode, the loop logs its own errors and carries on. */
	if (deliver_loop(d, &cause) == -1) {
		log_error("delivery stopped: %s", cause);
		free(cause);
	}
	return NULL;
}

struct deliver *
deliver_start(const struct conf *conf, char **cause)
{
	struct deliver	*d;
	sigset_t	 all, old;
	int		 rc;

	if ((d = deliver_new(conf, NULL, 0, cause)) == NULL)
		return NULL;
	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&d->thread, NULL, deliver_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		xasprintf(cause, "pthread_create: %s", strerror(rc));
		deliver_free(d);
		return NULL;
	}
	log_info("delivery: %s, %zu at once, at most %d a second and %d an "
	    "hour (0: no limit)", d->ops->name, d->nslots,
	    conf->smtp.rate_per_second, conf->smtp.rate_per_hour);
	return d;
}

void
deliver_wake(struct deliver *d)
{
	atomic_store(&d->woken, 1);
	d->ops->wakeup(d->t);
}

void
deliver_stop(struct deliver *d)
{
	if (d == NULL)
		return;
	atomic_store(&d->stopping, 1);
	d->ops->wakeup(d->t);
	pthread_join(d->thread, NULL);
	deliver_report(d);
	deliver_free(d);
}
