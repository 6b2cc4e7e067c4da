/*
 * campaign.h - the campaign engine: a campaign's life after its draft.
 *
 * A campaign's state is its status in the store (enum
 * store_campaign_status).  The moves allowed are:
 *
 *	draft     -> scheduled	send --at a time to come (rows queued now,
 *				due then)
 *	draft     -> sending	send (rows queued in the same transaction)
 *	scheduled -> sending	the scheduler, once scheduled_at has come;
 *				or send --now (its rows due at once)
 *	scheduled -> draft	unschedule (its rows removed)
 *	sending   -> paused	pause (or the engine, when failures pile up)
 *	paused    -> sending	resume
 *	sending   -> sent	every row done (the engine, or here when
 *				there is nothing left to send)
 *	sent      -> sending	retry-failed
 *	draft, scheduled, sending, paused -> cancelled
 *
 * campaign_enter_state() is the one function here that moves a campaign;
 * it logs the move and records it in the audit log (kind
 * "campaign-STATUS").  The delivery engine pauses a campaign and marks it
 * sent through store-outbox.c itself (deliver.h): those two moves are
 * its own.  Deleting a draft and copying a campaign are not moves: the
 * one removes a draft, the other makes a new one.
 *
 * Sending follows digest.h's contract: one outbox row per confirmed,
 * immediate-mode member (any mode when the list has no digests) who did
 * not have the campaign in a digest, all in ONE transaction with the
 * move, before anything can be sent; digest-mode members get it in their
 * list's digest.  With a time, the rows are queued at once, due at that
 * time, and the campaign is scheduled until then; started_at is set when
 * it starts sending.  A time that has passed is refused: a send is never
 * a surprise.  campaign_plan() says beforehand, without changing
 * anything, what a send would do - to whom, how many, whether it was
 * tested - so that a person can be asked.
 *
 * Every operation below runs in its own transaction (BEGIN IMMEDIATE, so
 * what it reads cannot change before it writes), except
 * campaign_start_due(), which also runs inside a caller's.  "now" is the
 * caller's, so that tests can move the clock.
 *
 * Owns: the rules of moving, editing, deleting and copying, queueing
 * recipients, the scheduler, test copies, which failures are worth
 * retrying, and whether a campaign may go out as written (campaign_check:
 * the list's attributes against its merge fields).  Does not own: the
 * SQL (store-campaign.c), rendering (newsletter.c), what a subject or
 * body may name (fields.c), delivery (deliver.c), the commands and their
 * questions (cmd-campaign.c), the progress display (progress.c).
 *
 * Errors: -1 with *cause (caller frees) and *fail saying what kind, so
 * that a command can pick its exit code.
 */
#ifndef POSTROOM_CAMPAIGN_H
#define POSTROOM_CAMPAIGN_H

#include <stdint.h>

#include "store.h"
#include "token.h"

struct conf;

#define CAMPAIGN_TEST_PRIORITY	10	/* as a confirmation: someone waits */
#define CAMPAIGN_DUE_BATCH	64	/* scheduled campaigns started a pass */

enum campaign_fail {
	CAMPAIGN_OK,
	CAMPAIGN_FAIL_MISSING,	/* no such campaign */
	CAMPAIGN_FAIL_STATE,	/* not allowed in its state */
	CAMPAIGN_FAIL_DATA,	/* its list is not configured, cannot render */
	CAMPAIGN_FAIL_PAST,	/* the time to send at has passed */
	CAMPAIGN_FAIL_STORE,	/* the database (store_busy() says if busy) */
	CAMPAIGN_FAIL_APPROVAL,	/* console.send_approval: not approved */
};

#define CAMPAIGN_VERSION_LEN	32	/* hex digits of campaign_version() */

/*
 * Can campaign c go out as written (c as stored, or as it will be after
 * "new" or "edit": only list, subject, body and template are read)?
 * What newsletter_check() finds (its list and template, Mustache, a trial
 * render) is -1 with *fail CAMPAIGN_FAIL_DATA and *cause.  Then
 * fields_check() against the attribute keys the list's members have
 * values for: 0 with *report (fields.h; no problems when nproblems is 0:
 * a merge field nobody on the list can have, an image that is not
 * https://).  -1 with CAMPAIGN_FAIL_STORE when the database fails.  send,
 * and test of a draft, refuse a campaign with problems; "new", "edit" and
 * "preview" (of a draft) call this first and refuse it too.  The caller
 * clears *report with fields_report_clear() (it is empty after -1).
 */
struct fields_report;
int	 campaign_check(const struct conf *, struct store *,
	    const struct store_campaign *c, struct fields_report *report,
	    enum campaign_fail *, char **cause);
/*
 * For each field in report->uses (attributes and subscriber.name): how
 * many of list's confirmed members there are and how many lack it (it
 * renders empty for them).  0, or -1 for the database.
 */
int	 campaign_field_gaps(struct store *, const char *list,
	    struct fields_report *report, char **cause);

/* 1 when a campaign may move from one status to the other. */
int	 campaign_can_move(enum store_campaign_status,
	    enum store_campaign_status);

/*
 * THE move: campaign id from status from to status to (at: the schedule
 * time, for scheduled; reason: why, for paused), logged.  The caller has
 * checked campaign_can_move(); an illegal move is a broken invariant.
 * 1 moved, 0 when the campaign was not in from, -1.
 */
int	 campaign_enter_state(struct store *, int64_t id,
	    enum store_campaign_status from, enum store_campaign_status to,
	    int64_t at, const char *reason, int64_t now, char **cause);

/*
 * What a send would do, for the question before it (campaign_plan()).
 * The caller clears it with campaign_plan_clear().
 */
struct campaign_plan {
	enum store_campaign_status status;	/* draft or scheduled */
	char	*subject;	/* as written, merge fields and all */
	char	*list;		/* the list's slug */
	char	*list_name;	/* ... and its name */
	int64_t	 recipients;	/* who would be sent it when it starts */
	int64_t	 digest;	/* digest-mode members: in their digest */
	int64_t	 at;		/* 0: now; else when it would start */
	int64_t	 scheduled_at;	/* scheduled: when it was to start */
	int64_t	 tested_at;	/* 0: no test copy since the last edit */
};

/*
 * What send (at 0: now, else at that time) or, with now_too, send now
 * even when scheduled (campaign_send_now()) would do to campaign id,
 * refused exactly as that send would be (and when it cannot be rendered,
 * CAMPAIGN_FAIL_DATA).  Changes nothing.  A draft's recipients are
 * counted as campaign_send() would queue them; a scheduled campaign's
 * are its queued rows of people still confirmed.
 */
int	 campaign_plan(const struct conf *, struct store *, int64_t id,
	    int64_t at, int now_too, int64_t now, struct campaign_plan *,
	    enum campaign_fail *, char **cause);
void	 campaign_plan_clear(struct campaign_plan *);

/* What campaign_send() did. */
struct campaign_sent {
	enum store_campaign_status status;	/* sending, scheduled or sent */
	int64_t	 queued;	/* outbox rows made (or brought forward) */
	int64_t	 digest;	/* digest-mode members left to the digest */
	int64_t	 at;		/* scheduled: when it starts */
};

/*
 * Send draft id now (at 0) or schedule it for at, which must not have
 * passed (CAMPAIGN_FAIL_PAST, saying the local time now in
 * general.timezone).  A send with nobody to send to is sent at once.  A
 * draft that cannot be rendered, or that campaign_check() finds problems
 * with, is refused (CAMPAIGN_FAIL_DATA, every problem in *cause) and
 * nothing is queued.
 */
int	 campaign_send(const struct conf *, struct store *, int64_t id,
	    int64_t at, int64_t now, struct campaign_sent *,
	    enum campaign_fail *, char **cause);
/*
 * Send id now: a draft as campaign_send() does; a scheduled campaign
 * starts at once (scheduled -> sending), its queued rows due now
 * (out->queued: how many).
 */
int	 campaign_send_now(const struct conf *, struct store *, int64_t id,
	    int64_t now, struct campaign_sent *, enum campaign_fail *,
	    char **cause);
/*
 * scheduled -> draft: its rows are removed (*removed: how many were
 * queued), so that its counts start again from nothing; it can then be
 * edited and sent (or scheduled) again.
 */
int	 campaign_unschedule(struct store *, int64_t id, int64_t now,
	    int64_t *removed, enum campaign_fail *, char **cause);

/*
 * Change a draft's subject, body and/or template (NULL: leave it as it
 * is; template "": the default), checked by rendering it as it will be
 * and by campaign_check() (CAMPAIGN_FAIL_DATA when it cannot be, or
 * names a field nobody on its list can have).  Anything but a draft is
 * refused; a scheduled one with the advice to unschedule it first.  who
 * goes into the audit log.  A test copy made before no longer counts as
 * one (campaign_plan()).
 */
int	 campaign_edit(const struct conf *, struct store *, int64_t id,
	    const char *subject, const char *body, const char *template,
	    const char *who, int64_t now, enum campaign_fail *, char **cause);
/* c as campaign_edit() with those arguments would leave it. */
void	 campaign_apply_edit(struct store_campaign *c, const char *subject,
	    const char *body, const char *template);
/*
 * The version of c a person reads: a digest of its list, subject,
 * template and body (any change changes it), into out.
 */
void	 campaign_version(const struct store_campaign *c,
	    char out[CAMPAIGN_VERSION_LEN + 1]);
/*
 * The two-person rule (console.send_approval): who approves draft id as
 * they read it (version: its campaign_version() then).  Refused when it
 * is not a draft, has changed since (version differs), was written by
 * who (its edited_by: a second person approves), or could not be sent
 * as it stands.  An edit withdraws the approval (store_campaign_edit());
 * while the rule is on, campaign_send() refuses a draft without one
 * (CAMPAIGN_FAIL_APPROVAL).
 */
int	 campaign_approve(const struct conf *, struct store *, int64_t id,
	    const char *version, const char *who, int64_t now,
	    enum campaign_fail *, char **cause);
/* Remove a draft (nothing else: a scheduled one is unscheduled first). */
int	 campaign_delete(struct store *, int64_t id, const char *who,
	    int64_t now, enum campaign_fail *, char **cause);
/*
 * A new draft with the list, subject, body and template of campaign id,
 * whatever its status; created_by who.  *copy gets its id.
 */
int	 campaign_copy(struct store *, int64_t id, const char *who,
	    int64_t now, int64_t *copy, enum campaign_fail *, char **cause);

/* sending -> paused, with reason (NULL: "paused by hand"). */
int	 campaign_pause(struct store *, int64_t id, const char *reason,
	    int64_t now, enum campaign_fail *, char **cause);
/* paused -> sending (sent at once when nothing is left to send). */
int	 campaign_resume(struct store *, int64_t id, int64_t now,
	    enum store_campaign_status *after, enum campaign_fail *,
	    char **cause);
/*
 * -> cancelled; the rows still queued or deferred are skipped at once
 * (*skipped: how many); rows being sent finish.
 */
int	 campaign_cancel(struct store *, int64_t id, int64_t now,
	    int64_t *skipped, enum campaign_fail *, char **cause);
/* What campaign_retry_failed() found and did. */
struct campaign_retried {
	int64_t	 requeued;	/* queued again */
	int64_t	 temporary;	/* failed for a temporary reason */
	int64_t	 refused;	/* refused for good by the server (5xx) */
	int64_t	 other;		/* could not be sent at all (rendering...) */
	enum store_campaign_status after;
};

/*
 * Failed rows back to queued: those that failed for a temporary reason
 * (the engine gave up on 4xx replies, lost connections or timeouts after
 * smtp.max_retry_age), and with permanent_too also those refused for
 * good (5xx) and those that could not be sent at all.  The counts say
 * how many of each there were; requeued 0 changes nothing.  A sent
 * campaign goes back to sending; a sending one goes on; a paused one
 * stays paused until resumed.  Refused for any other.
 */
int	 campaign_retry_failed(struct store *, int64_t id, int permanent_too,
	    int64_t now, struct campaign_retried *, enum campaign_fail *,
	    char **cause);

/*
 * The scheduler: start every scheduled campaign whose time has come
 * (scheduled -> sending, started_at now), and mark sent any sending
 * campaign left with nothing to send (its last rows erased rather than
 * sent: "subscriber forget").  Inside the caller's transaction when one
 * is open (the delivery engine's), else in its own.  Returns how many
 * started, or -1.
 */
int	 campaign_start_due(struct store *, int64_t now, char **cause);

/*
 * Queue one test copy of campaign id (any status; it is not changed) to
 * address (normalised): rendered now with newsletter_render_test() for
 * the subscriber with that address when there is one, else for the
 * preview's sample subscriber (newsletter_sample()) at that address; kind
 * test, priority CAMPAIGN_TEST_PRIORITY.  Its links are a test copy's
 * (newsletter.h): they change nobody's subscription.  The campaign's
 * tested_at is set in the same transaction.  *outbox_id gets its row.
 * A draft campaign_check() finds problems with is refused as send
 * refuses it: a test copy is for a campaign that could be sent.  One
 * that has gone out is tested as it went, problems or not (its list may
 * have changed since).
 */
int	 campaign_test(const struct conf *, struct store *,
	    const unsigned char key[TOKEN_KEY_LEN], int64_t id,
	    const char *address, int64_t now, int64_t *outbox_id,
	    enum campaign_fail *, char **cause);

#endif
