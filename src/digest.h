/*
 * digest.h - list digests and lead digests, sent when a timer says so.
 *
 * "postroom digest run" (systemd/postroom-digest.timer, or cron) calls
 * digest_run(), which queues every digest that is due at its "now" and
 * nothing else.  It is safe to run at any time, twice, concurrently, or
 * after weeks of not running.
 *
 * LIST DIGESTS.  A list with digest = daily|weekly|monthly (conf.h) has
 * periods (period.h); the digest of the last period to end is due until
 * the next one ends.  It goes to every confirmed member with newsletters
 * HELD for them (store.h defines held), whatever their mode now: one
 * message with a table of contents and then each newsletter (its body
 * rendered for that subscriber, merge fields and all, through
 * newsletter.c with the template pair DIGEST_ITEM_TEMPLATE), as text and
 * HTML (templates digest.txt, digest.html), with personal unsubscribe and
 * preferences links, List-Id, List-Unsubscribe and List-Unsubscribe-Post
 * like a newsletter.  A member with nothing held gets nothing.
 *
 *   Exactly once.  Each newsletter put in a member's digest is recorded
 *   (digest_items) in the same transaction as the queued message, so no
 *   newsletter reaches one person twice, by digest or directly.  The
 *   (list, period) is recorded in digests_sent when its last member is
 *   done: a second run in the same period queues nothing.  Members are
 *   done DIGEST_BATCH to a transaction (a list may have 100,000 members
 *   and a digest is stored whole: one transaction for all of them would
 *   hold the write lock for minutes and make a WAL of gigabytes); a run
 *   that dies half-way leaves whole messages only, and the next run
 *   finishes the rest.  After missed periods, the one digest due covers
 *   everything held, reaching back at most DIGEST_CATCHUP_MAX before the
 *   period's end (so a list whose digests were never run does not send
 *   years of newsletters at once), and never before the member's
 *   confirmation.  At most DIGEST_MAX_ITEMS newsletters go in one
 *   message; any more wait for the next digest.
 *
 *   Mode switches.  immediate -> digest: what was queued to them directly
 *   has an outbox row and is never held; later newsletters are.  digest ->
 *   immediate before their digest: what was held for them stays held
 *   (their newsletter had no outbox row) and reaches them in the list's
 *   next digest, once, as a last digest; newsletters started after the
 *   switch come directly.  For an immediate-mode member only campaigns
 *   whose status is "sent" count as held, so a campaign still queueing
 *   its recipients cannot be taken for a held one.
 *
 * THE CONTRACT FOR SENDING A CAMPAIGN (campaign.c; "campaign send").
 *   1. Queue an outbox row (kind campaign) for each member that is
 *	confirmed and whose mode is "immediate" - or any mode when the
 *	list's digest is none (CONF_DIGEST_NONE): such a list has no
 *	digests to hold newsletters for (what was held when a list was
 *	switched to none is flushed by a daily digest at digest.time).
 *	Never queue a digest-mode member of a list with digests: the
 *	digest does that.
 *   2. Do not queue a member who already had the campaign in a digest:
 *	store_digest_had(), or in SQL "AND NOT EXISTS (SELECT 1 FROM
 *	digest_items d WHERE d.subscriber_id = m.subscriber_id AND
 *	d.campaign_id = ?)".  Queue with ON CONFLICT DO NOTHING so a resumed
 *	send does not queue anyone twice.
 *   3. Set started_at (the time it started: digests are sorted into
 *	periods by it) no later than the transaction that queues its
 *	first row, and status sending; status sent once every row is done.
 *	Cancelled campaigns are never put in digests; paused ones wait.
 *   4. Never delete campaign outbox rows of campaigns younger than
 *	DIGEST_CATCHUP_MAX: a row is how a digest knows someone got it.
 *
 * LEAD DIGESTS.  Daily at digest.time.  Each lead gets a summary of the
 * enquiries routed to it that are in none of its summaries yet (recorded
 * in digest_enquiries in the same transaction as the queued messages,
 * one per address of the lead), since its last summary (a key/value row
 * remembers when that was; a first summary covers one day): reference,
 * received time, sender, subject, first lines of the text.  The default
 * lead (general.default_lead: general enquiries) also gets the count of
 * enquiries by lead and the list of those that fell to the default.  A
 * lead with nothing new gets nothing unless digest.send_empty.  Idempotent
 * per (lead, period) through digests_sent.
 *
 * Time: everything uses the process's time zone: call period_zone() with
 * general.timezone first.  "now" is the caller's, so tests (and
 * "--now") can walk a calendar.
 *
 * Owns: which digests are due, what goes in them, their messages.  Does
 * not own: the calendar (period.c), the SQL (store-digest.c), rendering a
 * newsletter's body (newsletter.c), the wire format (mime-build.c),
 * sending (the delivery engine reads the outbox).
 *
 * Errors: -1 with *cause (caller frees), and *fail saying what kind, so
 * that the command can pick its exit code.  A failing list or lead does
 * not stop the others, except when the database fails (everything would).
 */
#ifndef POSTROOM_DIGEST_H
#define POSTROOM_DIGEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "token.h"

struct buf;
struct conf;
struct newsletter_parts;
struct period;
struct store;
struct store_subscriber;

#define DIGEST_CATCHUP_MAX	(93 * 86400)	/* s before the period end */
#define DIGEST_BATCH		100	/* members per transaction */
#define DIGEST_MAX_ITEMS	50	/* newsletters in one digest */
#define DIGEST_LEAD_MAX		500	/* enquiries in one lead summary */
#define DIGEST_LEAD_SLACK	(24 * 3600)	/* routed, committed later */
#define DIGEST_MAX_MESSAGE	(32 * 1024 * 1024)
#define DIGEST_ITEM_TEMPLATE	"digest-item"	/* a newsletter's body */
#define DIGEST_FIRST_LINES	3	/* of an enquiry in a summary */

enum digest_fail {
	DIGEST_OK,
	DIGEST_FAIL_DATA,	/* a campaign that cannot render */
	DIGEST_FAIL_CONFIG,	/* templates, list or lead settings */
	DIGEST_FAIL_TEMP,	/* the database: busy, full; try again */
};

struct digest_opts {
	time_t		 now;
	const char	*list;		/* only this list; NULL: all */
	int		 lists;		/* do list digests */
	int		 leads;		/* do lead digests */
	/*
	 * The decoded text of an enquiry's raw message (the caller frees
	 * it), or NULL; for the first lines in a lead's summary.  NULL: no
	 * first lines.  Raw mail is untrusted: parse it in the parser child.
	 */
	char		*(*body)(void *arg, const char *raw, size_t len);
	void		*body_arg;
	/* One line for the log per list and lead (what was queued). */
	void		 (*report)(void *arg, const char *line);
	void		*report_arg;
};

struct digest_stats {
	int		 periods;	/* (list or lead, period) done */
	int64_t		 messages;	/* digest messages queued */
	int64_t		 items;		/* newsletters or enquiries */
	int64_t		 skipped;	/* members not mailable */
};

/*
 * Queue every digest due at opts->now.  key signs the links.  0, or -1
 * with *cause and *fail.  stats may be NULL.
 */
int		 digest_run(const struct conf *, struct store *,
		    const unsigned char key[TOKEN_KEY_LEN],
		    const struct digest_opts *, struct digest_stats *,
		    enum digest_fail *fail, char **cause);

/*
 * What a member would get if the list's digest due at opts->now were
 * queued now: 1 with the message in out (NULL: not wanted), the envelope
 * sender in *mail_from (NULL: not wanted) and the decoded parts in parts
 * (NULL: not wanted); 0 when nothing is held for them (or the list has
 * no digests), -1 with *cause.  Nothing is written to the database.
 */
int		 digest_list_preview(const struct conf *, struct store *,
		    const unsigned char key[TOKEN_KEY_LEN], const char *list,
		    const struct store_subscriber *, const struct digest_opts *,
		    struct buf *out, char **mail_from,
		    struct newsletter_parts *parts, char **cause);

/*
 * The subject and text of the summary lead would get at opts->now: 1
 * with both (the caller frees them), 0 when there would be none, -1.
 * Nothing is written to the database.
 */
int		 digest_lead_preview(const struct conf *, struct store *,
		    const char *lead, const struct digest_opts *,
		    char **subject, char **text, char **cause);

/*
 * The first lines of an enquiry's text for a summary: at most n lines,
 * blank and quoted ("> ...") lines skipped, nothing after a signature
 * ("-- "), white space squeezed, each cut at 100 characters with "...".
 * A new list value of strings (value.h).
 */
struct value	*digest_first_lines(const char *text, size_t n);

#endif
