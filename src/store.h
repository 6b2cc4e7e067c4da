/*
 * store.h - postroom's state: one SQLite database.
 *
 * Everything postroom must remember lives here: subscribers and their
 * list memberships (with consent), the suppression list, campaigns, the
 * outbox that every outgoing message passes through, enquiries, bounces,
 * digests already sent, rate-limit state, IMAP positions, a key/value
 * table and the audit log of events.  store.c is the only file that
 * includes <sqlite3.h>; the rest of postroom calls the functions below.
 *
 * A struct store is one connection.  Give every thread its own and never
 * share one between threads (the connection is opened without a mutex).
 * The database runs in WAL mode with foreign keys on and a busy timeout,
 * so the daemon's threads and the CLI can all have it open at once.
 *
 * Times are unix-epoch seconds (int64_t) throughout.
 *
 * Errors: functions return -1 and set *cause to a string the caller logs
 * once and frees (cause may be NULL when the caller does not want it).
 * After a failure, store_busy() says whether it was only the database
 * being busy or locked by another process, so that the CLI can exit with
 * EX_TEMPFAIL (75) and the daemon can try again later.
 *
 * Strings handed back (*value, *cause) belong to the caller.
 */
#ifndef POSTROOM_STORE_H
#define POSTROOM_STORE_H

#include <stdint.h>

#include "token.h"

struct store;

/* Default time a statement waits for another connection's lock. */
#define STORE_BUSY_TIMEOUT	5000	/* milliseconds */

/*
 * A row of the outbox moves queued -> sending -> sent, or to deferred
 * (try again at next_attempt_at), failed (permanent) or skipped (not sent
 * on purpose: suppressed, unsubscribed meanwhile, campaign cancelled).
 */
enum store_outbox_state {
	STORE_OUTBOX_QUEUED,
	STORE_OUTBOX_SENDING,
	STORE_OUTBOX_SENT,
	STORE_OUTBOX_DEFERRED,
	STORE_OUTBOX_FAILED,
	STORE_OUTBOX_SKIPPED,
	STORE_OUTBOX_NSTATES
};

/* What an outbox row is; campaign rows are rendered at send time. */
enum store_outbox_kind {
	STORE_OUTBOX_CAMPAIGN,
	STORE_OUTBOX_FORWARD,
	STORE_OUTBOX_ACK,
	STORE_OUTBOX_CONFIRM,
	STORE_OUTBOX_DIGEST,
	STORE_OUTBOX_TEST,
	STORE_OUTBOX_LEAD_DIGEST,
	STORE_OUTBOX_NKINDS
};

/* The database's names for these ("queued", "lead_digest", ...). */
const char	*store_outbox_state_name(enum store_outbox_state);
int		 store_outbox_state_parse(const char *,
		    enum store_outbox_state *);
const char	*store_outbox_kind_name(enum store_outbox_kind);
int		 store_outbox_kind_parse(const char *,
		    enum store_outbox_kind *);

/* --- opening and closing -------------------------------------------- */

/*
 * Open (creating the file, but not its directory) the database at path,
 * switch it to WAL, turn foreign keys on, set the busy timeout and bring
 * the schema to the newest version, one transaction per step.  Refused,
 * with a message a person can act on: a missing directory, a file that is
 * not an SQLite database or belongs to another program, a schema newer
 * than this binary knows.  A new file is created mode 0660 less the umask.
 */
struct store	*store_open(const char *path, char **cause);
/*
 * For commands that only read: store_open(), or when the database (or
 * its disk) cannot be written, the database opened read-only, provided
 * its schema is this binary's.  Any write through it then fails (and
 * store_busy() says 1).
 */
struct store	*store_open_read(const char *path, char **cause);
/*
 * For tests only: like store_open() but migrate no further than version
 * (0: an empty database with no postroom tables).  Never downgrades.
 */
struct store	*store_open_version(const char *path, int version,
		    char **cause);
/* Roll back any open transaction and close.  NULL is allowed. */
void		 store_close(struct store *);

const char	*store_path(const struct store *);
/* The schema version of the open database / the newest this binary knows. */
int		 store_schema_version(const struct store *);
int		 store_latest_version(void);

/* How long to wait for other connections' locks (ms; 0: fail at once). */
void		 store_set_busy_timeout(struct store *, int ms);
/*
 * 1 when the last failed call on this handle failed for a reason that
 * passes: the database busy or locked by another process, or its disk
 * full, read-only or failing (the CLI then exits 75, EX_TEMPFAIL).
 * store_busy(NULL) answers for the last failed store_open() on this
 * thread.
 */
int		 store_busy(const struct store *);

/* --- transactions ----------------------------------------------------- */

/*
 * BEGIN IMMEDIATE: take the write lock now, so a transaction never fails
 * half-way because another writer got in first.  Transactions do not
 * nest: beginning one while one is open is an error.
 */
int		 store_begin(struct store *, char **cause);
/* On failure the transaction is still open: call store_rollback(). */
int		 store_commit(struct store *, char **cause);
/* Roll back if a transaction is open; otherwise nothing. */
void		 store_rollback(struct store *);
int		 store_in_transaction(const struct store *);

/* --- small shared tables --------------------------------------------- */

/*
 * Append to the audit log (time now).  subject and detail may be NULL.
 * The audit log is best effort: a failure is logged here, once, and -1
 * returned so that a caller inside a transaction may give it up.
 */
/*
 * Who the events recorded on this handle are by from now on ("user:ID",
 * "cli:USER"; NULL: nobody, postroom itself), for an audit log that
 * says who did what through the core functions that record it.
 */
void		 store_set_actor(struct store *, const char *actor);
int		 store_event(struct store *, const char *kind,
		    const char *subject, const char *detail);

/* 1 and *value (caller frees) when found, 0 when not, -1 on error. */
int		 store_kv_get(struct store *, const char *key, char **value,
		    char **cause);
int		 store_kv_set(struct store *, const char *key,
		    const char *value, char **cause);
/* 1 when the key was there, 0 when not, -1 on error. */
int		 store_kv_delete(struct store *, const char *key,
		    char **cause);

/*
 * Add one to the named counter (created at 0) and hand back the new value:
 * 1, 2, 3...  Enquiry references use one counter per year.
 */
int		 store_counter_next(struct store *, const char *name,
		    int64_t *value, char **cause);

/* --- outbox summary (postroom queue status) --------------------------- */

struct store_outbox_counts {
	/* Rows in each state, and in all. */
	int64_t	 state[STORE_OUTBOX_NSTATES];
	int64_t	 total;
	/* Queued or deferred with next_attempt_at <= now. */
	int64_t	 due;
	/* created_at of the oldest queued, sending or deferred row. */
	int64_t	 oldest;
	/* Earliest next_attempt_at of queued or deferred rows. */
	int64_t	 next_attempt;
	/* (oldest and next_attempt are 0 when there is no such row.) */
};

/* Count the outbox, all of it (campaign_id 0) or one campaign's rows. */
int		 store_outbox_counts(struct store *, int64_t campaign_id,
		    int64_t now, struct store_outbox_counts *, char **cause);
/*
 * The outbox's rows not sent (queued, sending, deferred, failed, skipped),
 * all of it, for the console's dashboard.  Sent rows, nearly all of an
 * outbox with a history, are not read: state[STORE_OUTBOX_SENT] is 0,
 * total is the rest, due, oldest and next_attempt are 0.
 */
int		 store_outbox_unsent(struct store *,
		    struct store_outbox_counts *, char **cause);

/* --- outbox: one-off messages (store-outbox.c) ------------------------ */

/*
 * A message that is stored whole (everything but campaign rows, which are
 * rendered at send time): a confirmation, a forward, an acknowledgement,
 * a test copy, a digest.
 */
struct store_outbox_msg {
	enum store_outbox_kind	 kind;
	const char		*mail_from;	/* envelope sender; "" for <> */
	const char		*rcpt_to;	/* one recipient */
	const char		*message;	/* the whole RFC 5322 message */
	size_t			 len;
	/*
	 * Or, instead of message: a body stored already with
	 * store_outbox_body_add(), shared with the other rows given it (one
	 * message to several recipients).  0: message is stored.
	 */
	int64_t			 body_id;
	const char		*message_id;	/* its Message-ID, or NULL */
	/* Queued at most once: a second add with the same key is ignored. */
	const char		*dedup_key;	/* or NULL */
	int64_t			 subscriber_id;	/* or 0 */
	int64_t			 enquiry_id;	/* or 0 */
	int			 priority;	/* higher goes first; 0 default */
	int64_t			 not_before;	/* 0: now */
};

/*
 * Queue one message.  Returns 1 with *id when queued, 0 when dedup_key
 * was already queued (*id is then that row's), -1 on error.  Inside or
 * outside a caller's transaction.
 */
int		 store_outbox_add(struct store *, const struct store_outbox_msg *,
		    int64_t *id, char **cause);
/*
 * Message bodies live apart from the rows (outbox_bodies), so that moving
 * a row between states never rewrites its message, and one body can serve
 * several rows.  A body goes when the last row referring to it does.
 * body_add stores len bytes and hands back the new body's id; give it to
 * rows through store_outbox_msg.body_id, inside one transaction.
 * body_forget deletes it if no row refers to it (every add was a
 * duplicate): 1 deleted, 0 still used, -1.  body_get reads one: 1 with
 * *data (NUL-terminated, caller frees) and *len, 0 when it is gone (its
 * rows were erased meanwhile), -1.
 */
int		 store_outbox_body_add(struct store *, const void *data,
		    size_t len, int64_t *body_id, char **cause);
int		 store_outbox_body_forget(struct store *, int64_t body_id,
		    char **cause);
int		 store_outbox_body_get(struct store *, int64_t body_id,
		    char **data, size_t *len, char **cause);

/* --- outbox: delivery (store-outbox.c, for deliver.c) ----------------- */

/*
 * A row the delivery engine has claimed.  For campaign rows body_id is 0
 * and the subscriber, the campaign's list and the membership status are
 * filled in, so that the engine can render the message and say why it
 * skipped someone (store_subscriber_mailable() decides whether to).  The
 * claim never reads a body: message is NULL until the engine reads it
 * with store_outbox_body_get(), outside the claim's transaction, and
 * store_outbox_row_clear() frees it.
 */
struct store_outbox_row {
	int64_t			 id;
	enum store_outbox_kind	 kind;
	int64_t			 campaign_id;	/* 0 when none */
	int64_t			 subscriber_id;	/* 0 when none */
	char			*mail_from;
	char			*rcpt_to;
	int64_t			 body_id;	/* 0 for campaign rows */
	char			*message;	/* its body, once read */
	size_t			 len;
	int			 attempts;	/* counting this one */
	int64_t			 created_at;
	/* kind campaign only: */
	int			 cancelled;	/* the campaign was cancelled */
	char			*list;		/* the campaign's list */
	char			*member_status;	/* on that list; NULL: none */
	char			*sub_email;	/* the subscriber */
	char			*sub_name;	/* "" when unknown */
	char			*sub_attrs;	/* JSON object text */
	int64_t			 sub_created_at;
	unsigned char		 sub_token_salt[TOKEN_SALT_LEN];
};

/* Free the strings of a filled row and zero it; a zeroed one is fine. */
void		 store_outbox_row_clear(struct store_outbox_row *);

/*
 * Ids of rows due at now (queued or deferred, next_attempt_at <= now),
 * highest priority first, then oldest; at most max into ids, *n set.
 * Campaign rows count only when campaigns is set and their campaign is
 * sending (or cancelled: claimed to be skipped).  Reading only.
 */
int		 store_outbox_due(struct store *, int64_t now, int campaigns,
		    int64_t *ids, size_t max, size_t *n, char **cause);
/*
 * Claim one row: queued or deferred -> sending, claimed_at now, attempts
 * plus one.  1 with *row filled (clear it), 0 when the row is not due any
 * more (another state, gone, its campaign paused), -1.  Call inside the
 * caller's transaction.
 */
int		 store_outbox_claim(struct store *, int64_t id, int64_t now,
		    struct store_outbox_row *row, char **cause);
/*
 * Finish a claimed row: state sent, deferred (next_attempt_at), failed or
 * skipped, with the last SMTP reply (code 0 and/or reply NULL: none).
 * 1 when the row was sending and moved, 0 when it was not (erased
 * meanwhile), -1.
 */
int		 store_outbox_complete(struct store *, int64_t id,
		    enum store_outbox_state, int code, const char *reply,
		    int64_t next_attempt_at, int64_t now, char **cause);
/* 1 when the campaign is being sent (status sending), 0 when not, -1. */
int		 store_outbox_campaign_sending(struct store *, int64_t id,
		    char **cause);
/*
 * A claimed row that was never handed over goes back to queued, its
 * attempt not counted.  1 when it moved, 0 when it was not sending, -1.
 */
int		 store_outbox_release(struct store *, int64_t id, int64_t now,
		    char **cause);
/*
 * At start-up: rows left sending by a process that died go back to queued
 * (their attempt is not counted).  *n gets how many.
 */
int		 store_outbox_recover(struct store *, int64_t now, int64_t *n,
		    char **cause);

/* A campaign's delivery so far: rows sent and failed. */
int		 store_outbox_campaign_tally(struct store *,
		    int64_t campaign_id, int64_t *sent, int64_t *failed,
		    char **cause);
/*
 * Pause a sending campaign (status paused, paused_reason).  1 when paused,
 * 0 when it was not sending, -1.
 */
int		 store_outbox_campaign_pause(struct store *,
		    int64_t campaign_id, const char *reason, int64_t now,
		    char **cause);
/*
 * Mark a sending campaign sent (finished_at now) when none of its rows is
 * queued, sending or deferred any more.  1 when marked, 0 when not, -1.
 */
int		 store_outbox_campaign_finish(struct store *,
		    int64_t campaign_id, int64_t now, char **cause);

/* Rows by kind and state, for "postroom queue status". */
struct store_outbox_kinds {
	int64_t	 n[STORE_OUTBOX_NKINDS][STORE_OUTBOX_NSTATES];
};
int		 store_outbox_kind_counts(struct store *,
		    struct store_outbox_kinds *, char **cause);

/*
 * Where one message about an enquiry stands (a forward, an
 * acknowledgement): for the console's enquiry page.
 */
struct store_outbox_delivery {
	int64_t			 id;
	enum store_outbox_kind	 kind;
	const char		*rcpt_to;
	enum store_outbox_state	 state;
	int			 attempts;
	int			 last_code;	/* 0 when none */
	const char		*last_reply;	/* "" when none */
	int64_t			 created_at;
	int64_t			 next_attempt_at;
	int64_t			 sent_at;	/* 0 when not sent */
};
/* Every outbox row of enquiry_id, in the order queued; fn 0 to go on. */
int		 store_outbox_enquiry_each(struct store *, int64_t enquiry_id,
		    int (*fn)(const struct store_outbox_delivery *, void *),
		    void *arg, char **cause);

/*
 * A rate_limits row (ratelimit.c): a token bucket's level, tokens, as it
 * stood at the end of second updated_at, and a count of sends in the
 * current window.  get: 1 found, 0 not, -1.
 */
struct store_outbox_rate {
	double	 tokens;
	int64_t	 window_start;
	int64_t	 count;
	int64_t	 updated_at;
};
int		 store_outbox_rate_get(struct store *, const char *key,
		    struct store_outbox_rate *, char **cause);
int		 store_outbox_rate_set(struct store *, const char *key,
		    const struct store_outbox_rate *, char **cause);

/* --- subscribers (store-subscriber.c) --------------------------------- */

/*
 * A subscriber is one address; a membership is that address on one list
 * (lists live in the configuration).  Addresses are stored in the form
 * address_normalise() (address.h) gives: local part as written, domain
 * lowercased, IDN domains as A-labels ("xn--..."), in the form first
 * given, and an address is one person whatever its case: every match
 * on an address ignores the case of ASCII letters (subscribers.email is
 * unique under COLLATE NOCASE), so "Sian.Jones@nhs.uk" finds and cannot
 * duplicate "sian.jones@nhs.uk".  Callers normalise before calling.
 *
 * Everything here runs inside or outside a caller's transaction; a caller
 * changing several rows (an import) wraps them in store_begin/commit.
 */
struct store_subscriber {
	int64_t	 id;
	char	*email;
	char	*name;		/* "" when unknown */
	char	*attrs;		/* JSON object text, "{}" when none */
	int64_t	 created_at;
	/* What every token naming them is signed with (token.h). */
	unsigned char token_salt[TOKEN_SALT_LEN];
};

/*
 * A membership moves pending -> confirmed -> unsubscribed or bounced;
 * store_member_set_status() is the one function that moves it, and it
 * records the move in the audit log.
 */
enum store_member_status {
	STORE_MEMBER_PENDING,
	STORE_MEMBER_CONFIRMED,
	STORE_MEMBER_UNSUBSCRIBED,
	STORE_MEMBER_BOUNCED,
	STORE_MEMBER_NSTATUSES
};

struct store_member {
	int64_t			 subscriber_id;
	char			*list;
	enum store_member_status status;
	char			*mode;		/* "immediate" or "digest" */
	int64_t			 consent_at;	/* 0 when none yet */
	char			*consent_method; /* staff|web|import, or "" */
	char			*consent_source; /* "cli:USER", a file; or "" */
	int64_t			 confirmed_at;	/* 0 when never */
	int64_t			 unsubscribed_at; /* 0 when never */
	int64_t			 created_at;
	int64_t			 updated_at;
};

/* "pending", "confirmed", "unsubscribed", "bounced"; parse: 0 or -1. */
const char	*store_member_status_name(enum store_member_status);
int		 store_member_status_parse(const char *,
		    enum store_member_status *);

/* Free the strings of a filled struct and zero it; a zeroed one is fine. */
void		 store_subscriber_clear(struct store_subscriber *);
void		 store_member_clear(struct store_member *);

/*
 * 1 found, 0 not, -1 error.  The struct is filled only when found.  By
 * id, an id merged into another person's (schema version 3, store-merge.c)
 * finds that person: sub->id is then the one to use from there on.
 */
int		 store_subscriber_get(struct store *, const char *email,
		    struct store_subscriber *, char **cause);
int		 store_subscriber_get_id(struct store *, int64_t id,
		    struct store_subscriber *, char **cause);
/*
 * The token salt of subscriber id (exactly that id: a merged id has none
 * any more), as token_check() wants it (struct token_salts, arg = the
 * store): 1, 0 when there is no such row, -1 with *cause.
 */
int		 store_token_salt(void *store, int64_t id,
		    unsigned char salt[TOKEN_SALT_LEN], char **cause);

/*
 * Add a subscriber (name NULL or "": unknown; attrs NULL: "{}", else a
 * JSON object's text).  1 with *id when added, 0 when the address is
 * already there in any case (*id is then its id and nothing changed), -1
 * on error.
 */
int		 store_subscriber_add(struct store *, const char *email,
		    const char *name, const char *attrs, int64_t *id,
		    char **cause);
/*
 * Everyone whose name or address holds text, whatever the case and the
 * accents on Latin letters ("zoe" finds Zoë, "SIAN" finds Siân:
 * utf8_fold()), in id order.  fn returns 0 to go on; anything else stops
 * the walk and is returned.  Do not call back into this from fn.
 */
int		 store_subscriber_find(struct store *, const char *text,
		    int (*fn)(const struct store_subscriber *, void *),
		    void *arg, char **cause);
/*
 * Give up to max subscribers without search keys (rows written by another
 * program: store-schema.c, version 10) their keys, so that a search need
 * not fold them; *n says how many.  0, or -1 with *cause.
 */
int		 store_subscriber_search_keys(struct store *, int64_t max,
		    int64_t *n, char **cause);
/*
 * Replace name and/or attrs (NULL: leave that one alone).  1 when
 * something changed, 0 when nothing did (or there is no such id), -1.
 */
int		 store_subscriber_update(struct store *, int64_t id,
		    const char *name, const char *attrs, char **cause);

/* 1 and *m filled when subscriber_id is on list, 0 when not, -1. */
int		 store_member_get(struct store *, int64_t subscriber_id,
		    const char *list, struct store_member *, char **cause);
/*
 * Put a subscriber on a list with status pending or confirmed and mode
 * "immediate" or "digest" (NULL: immediate).  consent_method and
 * consent_source say how consent was given or, for pending, how the
 * request came in; when confirmed, consent_at and confirmed_at are now.
 * 1 when added, 0 when already on the list (nothing changed), -1.
 */
int		 store_member_add(struct store *, int64_t subscriber_id,
		    const char *list, enum store_member_status,
		    const char *mode, const char *consent_method,
		    const char *consent_source, char **cause);
/*
 * Move a membership to status (now).  Moving to confirmed records the
 * consent (method and source; NULL keeps what is there) and confirmed_at;
 * to unsubscribed sets unsubscribed_at; to unsubscribed or bounced marks
 * that list's confirmation emails still queued for them skipped.  1 when
 * it moved, 0 when it was already in that status or there is no such
 * membership, -1.
 */
int		 store_member_set_status(struct store *, int64_t subscriber_id,
		    const char *list, enum store_member_status,
		    const char *consent_method, const char *consent_source,
		    char **cause);
/*
 * Sign-ups never confirmed: delete the pending memberships made before
 * before (their confirmation emails still queued go with them), then the
 * people left on no list at all, in one transaction.  *memberships and
 * *people get the counts.  0 or -1.
 */
int		 store_members_purge_pending(struct store *, int64_t before,
		    int64_t *memberships, int64_t *people, char **cause);
/* mode "immediate" or "digest".  1 changed, 0 unchanged or not a member. */
int		 store_member_set_mode(struct store *, int64_t subscriber_id,
		    const char *list, const char *mode, char **cause);

/*
 * Walk a list's members with status confirmed (and, when mode is not
 * NULL, that mode), ordered by id, after_id for paging: calls fn for each;
 * fn returns 0 to go on, anything else stops the walk and is returned.
 * Suppressed addresses are not skipped here: check
 * store_subscriber_mailable() before sending.  Do not call back into
 * store_members_each() from fn.
 */
int		 store_members_each(struct store *, const char *list,
		    const char *mode, int64_t after_id,
		    int (*fn)(const struct store_subscriber *, void *),
		    void *arg, char **cause);
/* How many store_members_each() would visit (after_id 0). */
int		 store_members_count(struct store *, const char *list,
		    const char *mode, int64_t *n, char **cause);
/*
 * The attribute keys that a list's pending or confirmed members (those
 * who are or may become its recipients) have a value for (not null, not
 * ""), each once as stored, sorted, at most STORE_ATTR_KEYS_MAX: 0 with
 * *keys (free each and the array; NULL when none) and *n, or -1.
 */
#define STORE_ATTR_KEYS_MAX	1000
int		 store_members_attr_keys(struct store *, const char *list,
		    char ***keys, size_t *n, char **cause);
/*
 * Of a list's confirmed members, how many there are (*total) and how
 * many have no value (missing, null or "") for the attribute key, its
 * name compared ignoring ASCII case as the renderer does; key NULL: how
 * many have no name.  0, or -1.
 */
int		 store_members_lacking(struct store *, const char *list,
		    const char *key, int64_t *lacking, int64_t *total,
		    char **cause);
/*
 * Walk every membership of a list (statuses: a bit mask of
 * 1 << STORE_MEMBER_*, 0 for all), ordered by subscriber id, with the
 * subscriber.  fn returns 0 to go on; anything else stops the walk and is
 * returned.
 */
int		 store_member_walk(struct store *, const char *list,
		    unsigned int statuses,
		    int (*fn)(const struct store_subscriber *,
		    const struct store_member *, void *), void *arg,
		    char **cause);
/*
 * A subscriber's attrs text as a new object (value.h) the caller frees;
 * an empty object when the text is not a JSON object.
 */
struct value	*store_subscriber_attrs_value(const char *attrs);
/* Every list one subscriber is on (any status), ordered by list. */
/*
 * A membership as JSON (value.h): list, status, mode, consent {at,
 * method, source}, confirmed_at, unsubscribed_at, created_at, and
 * updated_at when with_updated.  For --json output and access requests.
 */
struct value	*store_member_value(const struct store_member *,
		    int with_updated);
int		 store_member_walk_subscriber(struct store *,
		    int64_t subscriber_id,
		    int (*fn)(const struct store_member *, void *), void *arg,
		    char **cause);

/*
 * Whether a subscriber may be mailed for list: 1 when the membership is
 * confirmed and the address is not suppressed, 0 when not (unknown
 * subscriber, not on the list, pending, unsubscribed, bounced,
 * suppressed), -1 on error.  Call it just before sending.
 */
int		 store_subscriber_mailable(struct store *,
		    int64_t subscriber_id, const char *list, char **cause);

/*
 * The suppression list holds token_hash_address() of the normalised
 * address, which lowercases it whole, so that no spelling of a suppressed
 * address is mailed, keyed with the forget key (in forget.key beside the
 * database, made on first use); checking also looks for the legacy,
 * unkeyed hashes of before (token.h says why).  Check and add through
 * these two, not with token_hash_address() directly: -1 also when the
 * forget key cannot be read or made.
 * 1 when the (normalised) address is suppressed, 0 when not, -1.
 */
int		 store_subscriber_suppressed(struct store *, const char *email,
		    char **cause);
/*
 * Put an address's hash on the suppression list; reason is "forgotten",
 * "complaint"...  1 added, 0 already there, -1.
 */
int		 store_subscriber_suppress(struct store *, const char *email,
		    const char *reason, char **cause);
/*
 * Erase a person (UK GDPR erasure): delete the subscriber, and any whose
 * address differs only in the case of the local part (memberships, outbox
 * rows and bounces go with them), every other outbox row and bounce for
 * the address, the audit-log events that mention it, and the sender,
 * name, subject and raw message of their enquiries; then suppress the
 * address with reason "forgotten".  Runs in its own transaction unless
 * the caller has one open.  1 when a subscriber was erased, 0 when there
 * was none (the address is suppressed anyway), -1.
 */
int		 store_subscriber_forget(struct store *, const char *email,
		    char **cause);

/*
 * What store_subscriber_erase() found and erased.  Each enquiry keeps
 * what is needed to find its original message outside the database
 * (forget.c deletes it from the mail store).
 */
struct store_erased_enquiry {
	int64_t	 id;
	char	*reference;	/* "ENQ-2026-00042" */
	char	*source;	/* "maildir:NAME", "imap:UID", "pipe" */
	char	*message_id;	/* without <>; NULL when it had none */
	char	*lead;		/* where it was forwarded */
	int	 forwarded;	/* a forward to the lead was sent */
};
struct store_erasure {
	int		 held;		/* anything at all was held */
	int		 suppressed;	/* the hash was added now */
	int		 was_suppressed; /* it was there before */
	int64_t		*subscriber_ids; /* erased */
	size_t		 nsubscribers;
	int64_t		 memberships;	/* erased */
	int64_t		 campaign_rows;	/* kept, without the address */
	int64_t		 forwards;	/* of their enquiries, erased */
	int64_t		 acks;		/* to them, erased */
	int64_t		 outbox;	/* other messages, erased */
	int64_t		 lead_digests;	/* sent summaries naming them */
	int64_t		 bounces;
	int64_t		 events;	/* audit-log entries */
	struct store_erased_enquiry *enquiries;	/* anonymised */
	size_t		 nenquiries;
};
#define STORE_ERASE_SUPPRESS_ANYWAY	0x1

/*
 * Erase a person as store_subscriber_forget() does, and say what was
 * erased in *x (clear it with store_erasure_clear).  When postroom held
 * nothing for the address (no subscriber, enquiry, outbox row, bounce or
 * audit-log entry) nothing is changed - x->held is 0, x->was_suppressed
 * says whether it was suppressed already - unless flags has
 * STORE_ERASE_SUPPRESS_ANYWAY, which suppresses it all the same.  Also
 * erased: the forwards and acknowledgements of their enquiries, and the
 * copies of lead summaries sent naming them; their enquiries stay
 * without sender, name, subject, message or reasoning.  0, or -1.
 */
int		 store_subscriber_erase(struct store *, const char *email,
		    int flags, struct store_erasure *x, char **cause);
void		 store_erasure_clear(struct store_erasure *);

/*
 * Everything held about an address (a UK GDPR access request), as a new
 * struct value the caller frees (value.h): an object with "email",
 * "subscriber" (null when none; when there is no exact match, the first
 * whose local part differs only in case), "memberships" (with consent),
 * "outbox" (kind, state, times; not message bodies), "bounces",
 * "enquiries", "events" and "suppressed".  NULL with *cause on error.
 */
struct value;
struct value	*store_subscriber_person(struct store *, const char *email,
		    char **cause);

/* --- campaigns (store-campaign.c) ------------------------------------- */

/*
 * A campaign is one newsletter for one list: a subject and a Markdown body
 * rendered through a template pair (templates/NAME.html, NAME.txt).  Its
 * status moves draft -> scheduled -> sending -> sent, with paused and
 * cancelled on the side; only a draft may be edited.  Moving between the
 * other states belongs to the campaign engine (campaign.c), which owns the
 * rules; the store only keeps the rows.
 */
enum store_campaign_status {
	STORE_CAMPAIGN_DRAFT,
	STORE_CAMPAIGN_SCHEDULED,
	STORE_CAMPAIGN_SENDING,
	STORE_CAMPAIGN_PAUSED,
	STORE_CAMPAIGN_SENT,
	STORE_CAMPAIGN_CANCELLED,
	STORE_CAMPAIGN_NSTATUSES
};

#define STORE_CAMPAIGN_TEMPLATE	"newsletter"	/* when template is unset */

struct store_campaign {
	int64_t			 id;
	char			*list;		/* a list slug */
	char			*subject;	/* may hold {{merge fields}} */
	char			*body;		/* Markdown */
	char			*template;	/* never NULL once read */
	enum store_campaign_status status;
	int64_t			 scheduled_at;	/* 0 when not set */
	int64_t			 started_at;	/* 0 when not started */
	int64_t			 finished_at;	/* 0 when not finished */
	char			*paused_reason;	/* "" when none */
	char			*created_by;	/* "cli:USER", or "" */
	int64_t			 created_at;
	int64_t			 updated_at;
	int64_t			 tested_at;	/* 0: no test copy queued
						 * since the last edit */
	char			*edited_by;	/* who wrote this version */
	char			*approved_by;	/* who approved it, or "" */
	int64_t			 approved_at;	/* 0: not approved */
};

/* "draft", "scheduled", ...; parse: 0, or -1 for an unknown name. */
const char	*store_campaign_status_name(enum store_campaign_status);
int		 store_campaign_status_parse(const char *,
		    enum store_campaign_status *);

/* Free the strings of a filled struct and zero it; a zeroed one is fine. */
void		 store_campaign_clear(struct store_campaign *);

/*
 * Add a draft from c's list, subject, body, template (NULL: the default)
 * and created_by (NULL: "") at time now.  0 with *id, or -1.
 */
int		 store_campaign_add(struct store *,
		    const struct store_campaign *c, int64_t now, int64_t *id,
		    char **cause);
/* 1 and *c filled when found, 0 when there is no such id, -1. */
int		 store_campaign_get(struct store *, int64_t id,
		    struct store_campaign *c, char **cause);
/*
 * Change a draft's subject, body and/or template (NULL: leave it alone)
 * at time now, by who (its edited_by); tested_at goes back to 0 (a test
 * copy made before shows the campaign as it was), and so does an
 * approval (approved_by, approved_at: it was of another version).  1 when changed, 0 when there is no such
 * campaign or it is no longer a draft (nothing changed), -1.  The status
 * is checked in the same statement, so a campaign that another process
 * has just scheduled is never edited.
 */
int		 store_campaign_edit(struct store *, int64_t id,
		    const char *subject, const char *body,
		    const char *template, const char *who, int64_t now,
		    char **cause);
/*
 * Record that who approved draft id as it stands (campaign_approve()
 * has checked, in its transaction, that it is the version they saw).
 * 1, 0 when it is no longer a draft, -1.
 */
int		 store_campaign_approve(struct store *, int64_t id,
		    const char *who, int64_t now, char **cause);
/*
 * Every campaign, newest first (list NULL: all lists).  c's strings live
 * only during the call; body is left NULL (use store_campaign_get).  fn
 * returns 0 to go on; anything else stops the walk and is returned.
 */
int		 store_campaign_each(struct store *, const char *list,
		    int (*fn)(const struct store_campaign *c, void *),
		    void *arg, char **cause);

/*
 * For the campaign engine (campaign.c), which decides whether a move is
 * allowed and calls these inside its own transaction.
 *
 * store_campaign_move: move campaign id from status from to status to at
 * time now, in one statement that checks from, with what goes with the
 * move: to scheduled sets scheduled_at to at, back to draft clears it;
 * to sending sets started_at when it is unset and clears finished_at and
 * paused_reason; to paused sets paused_reason to reason; to sent or
 * cancelled sets finished_at.
 * 1 when moved, 0 when the campaign is not (or no longer) in from, -1.
 */
int		 store_campaign_move(struct store *, int64_t id,
		    enum store_campaign_status from,
		    enum store_campaign_status to, int64_t at,
		    const char *reason, int64_t now, char **cause);
/*
 * Queue campaign id for its list's members, ONE statement (INSERT ...
 * SELECT): an outbox row (kind campaign, envelope sender mail_from - the
 * engine renders the real one -, recipient the subscriber's address,
 * next_attempt_at not_before) for every member that is confirmed and in
 * immediate mode (any mode when all_modes) and has not had the campaign
 * in a digest (digest.h's contract).  Anyone already queued is left as
 * they are.  *n gets the rows added.
 */
int		 store_campaign_queue(struct store *, int64_t id,
		    const char *list, int all_modes, const char *mail_from,
		    int64_t not_before, int64_t now, int64_t *n, char **cause);
/* Up to max ids of scheduled campaigns due at now, oldest schedule first. */
int		 store_campaign_due(struct store *, int64_t now, int64_t *ids,
		    size_t max, size_t *n, char **cause);
/*
 * Up to max ids of sending campaigns with no row queued, sending or
 * deferred: done, but never marked sent (their last rows were erased).
 */
int		 store_campaign_idle(struct store *, int64_t *ids, size_t max,
		    size_t *n, char **cause);

/* A campaign's outbox rows in each state, and in all. */
struct store_campaign_counts {
	int64_t	 state[STORE_OUTBOX_NSTATES];
	int64_t	 total;
};
int		 store_campaign_counts(struct store *, int64_t id,
		    struct store_campaign_counts *, char **cause);
/* Rows of campaign id sent at or after since (a rate). */
int		 store_campaign_sent_since(struct store *, int64_t id,
		    int64_t since, int64_t *n, char **cause);
/*
 * Cancelling: rows still queued or deferred become skipped (last_reply
 * reason); rows being sent finish as they will.  *n gets how many.
 */
int		 store_campaign_skip_queued(struct store *, int64_t id,
		    const char *reason, int64_t now, int64_t *n, char **cause);
/*
 * A campaign's failed rows that can be sent again (those of forgotten
 * people cannot), by why they failed: *temporary, the engine gave up
 * after smtp.max_retry_age (the reply starts with gave_up, the delivery
 * engine's DELIVER_GAVE_UP: 4xx replies, lost connections, timeouts) or
 * a 4xx code; *refused, a 5xx code; *other, neither (the message could
 * not be rendered or written, no server said anything).
 */
int		 store_campaign_failed_kinds(struct store *, int64_t id,
		    const char *gave_up, int64_t *temporary, int64_t *refused,
		    int64_t *other, char **cause);
/*
 * Retrying: failed rows - the temporary ones above, or all when all is
 * set - go back to queued, due now, their attempts reset and created_at
 * now (a fresh start for the retry deadline, smtp.max_retry_age).  *n
 * gets how many.
 */
int		 store_campaign_requeue_failed(struct store *, int64_t id,
		    const char *gave_up, int all, int64_t now, int64_t *n,
		    char **cause);

/*
 * How many store_campaign_queue() would queue now (the same rule, for
 * the question before a send).
 */
int		 store_campaign_audience(struct store *, int64_t id,
		    const char *list, int all_modes, int64_t *n, char **cause);
/* Rows of campaign id queued for people still confirmed on list. */
int		 store_campaign_waiting(struct store *, int64_t id,
		    const char *list, int64_t *n, char **cause);
/*
 * Unscheduling: remove the rows of a campaign that never started (queued,
 * or skipped for someone forgotten meanwhile); *n gets how many were
 * queued.  0 when
 * it has no rows left, 1 when some remain (rows in other states: it has
 * been sending, and they are left alone), -1.
 */
int		 store_campaign_unqueue(struct store *, int64_t id, int64_t *n,
		    char **cause);
/* Sending now what was due later: queued rows due after now, due now. */
int		 store_campaign_bring_forward(struct store *, int64_t id,
		    int64_t now, int64_t *n, char **cause);
/* A test copy was queued at now (campaigns.tested_at). */
int		 store_campaign_tested(struct store *, int64_t id, int64_t now,
		    char **cause);
/*
 * Delete a draft that has no outbox rows: 1 deleted, 0 when there is no
 * such draft (or it has rows), -1.
 */
int		 store_campaign_delete(struct store *, int64_t id,
		    char **cause);

/* A failed recipient; strings live only during the call. */
struct store_campaign_failure {
	int64_t		 outbox_id;
	int64_t		 subscriber_id;
	const char	*rcpt_to;
	int		 code;		/* 0 when none */
	const char	*reply;		/* "" when none */
	int		 attempts;
	int64_t		 at;		/* when it failed */
};
/* Every failed row of campaign id, in outbox order; fn returns 0 to go on. */
int		 store_campaign_failures(struct store *, int64_t id,
		    int (*fn)(const struct store_campaign_failure *, void *),
		    void *arg, char **cause);

/* --- enquiries (store-enquiry.c) ------------------------------------- */

/* One routed (or at least recorded) inbound message. */
struct store_enquiry {
	int64_t	 id;
	char	*reference;	/* "ENQ-2026-00042" */
	char	*message_id;	/* NULL when the message had none */
	char	*content_hash;	/* SHA-256 hex of the raw message */
	char	*sender;	/* the enquirer's address ("" when unknown) */
	char	*sender_name;
	char	*subject;
	char	*lead;		/* lead key */
	char	*rule;		/* rule name, or "default", "reply", ... */
	double	 score;
	char	*reason;	/* one sentence: why this lead */
	char	*source;	/* "maildir:NAME", "imap:UID", "pipe" */
	int64_t	 received_at;
	int64_t	 routed_at;
	char	*parse_status;	/* "ok", "defective", "limits", "failed" */
	char	*ack;		/* "queued", or why none was sent */
	int64_t	 answered_at;	/* 0 while it waits for an answer */
	char	*answered_by;	/* "user:ID", "cli:USER"; "" while it waits */
};

void	store_enquiry_clear(struct store_enquiry *);
/*
 * Find an enquiry already recorded for this message: by Message-ID when
 * it has one, else by content hash.  1 found (*out filled), 0, -1.
 */
int	store_enquiry_find(struct store *, const char *message_id,
	    const char *content_hash, struct store_enquiry *out, char **cause);
/* By reference ("ENQ-2026-00042", in any case): 1 found, 0, -1. */
int	store_enquiry_get(struct store *, const char *reference,
	    struct store_enquiry *out, char **cause);
/*
 * Record e (its id is filled in; raw may be NULL).  The caller holds a
 * transaction and has allocated the reference.
 */
int	store_enquiry_add(struct store *, struct store_enquiry *e,
	    const void *raw, size_t rawlen, char **cause);
/* Acknowledgements queued to sender (in any case) since the given time. */
/*
 * Messages that could not be recorded (enquiry.c), keyed as enquiries are
 * known again: "<Message-ID>", else "sha256:HASH".  get: 1 with the
 * number of failed attempts so far and the last error (caller frees), 0
 * when none failed, -1.  add: one more failure, *attempts the count now.
 * clear: forget them (the message is recorded), inside the caller's
 * transaction.
 */
int	store_inbound_failure_get(struct store *, const char *key,
	    int64_t *attempts, char **last_error, char **cause);
int	store_inbound_failure_add(struct store *, const char *key,
	    const char *error, int64_t now, int64_t *attempts, char **cause);
int	store_inbound_failure_clear(struct store *, const char *key,
	    char **cause);
int	store_enquiry_acks_since(struct store *, const char *sender,
	    int64_t since, int64_t *count, char **cause);
/*
 * Enquiries of every sender since the given time whose ack column is ack
 * ("queued": acknowledged; else the reason there was none).
 */
int	store_enquiry_ack_count(struct store *, const char *ack,
	    int64_t since, int64_t *count, char **cause);
/*
 * Call fn for each enquiry (newest first), optionally for one lead and
 * since a time (0: all); fn returns 0 to go on.
 */
int	store_enquiry_each(struct store *, const char *lead, int64_t since,
	    int (*fn)(const struct store_enquiry *, void *), void *arg,
	    char **cause);
/* Which enquiries store_enquiry_search() hands back. */
struct store_enquiry_query {
	const char	*lead;		/* one lead's; NULL: all */
	int64_t		 since;		/* received at or after; 0: all */
	int64_t		 until;		/* received before; 0: no end */
	/*
	 * In the sender's address or name, the subject or the reference,
	 * whatever the case and accents (utf8_fold()); NULL: any.
	 */
	const char	*text;
};
/*
 * Call fn for each enquiry q asks for, newest first, until it returns
 * non-zero: 0, or -1 with *cause.  The filter runs in the database, so
 * that enquiries it leaves out are never read into C.
 */
int	store_enquiry_search(struct store *,
	    const struct store_enquiry_query *q,
	    int (*fn)(const struct store_enquiry *, void *), void *arg,
	    char **cause);
/* As store_subscriber_search_keys(), for enquiries. */
int	store_enquiry_search_keys(struct store *, int64_t max, int64_t *n,
	    char **cause);
/* e as "postroom enquiry show --json" and the console give it. */
struct value	*store_enquiry_value(const struct store_enquiry *e);
/*
 * The raw message of enquiry id: 1 with *raw (caller frees; NULL when it
 * is not kept, or was erased) and *len, 0 when there is no such enquiry,
 * -1.
 */
int	store_enquiry_raw(struct store *, int64_t id, char **raw, size_t *len,
	    char **cause);
/*
 * Mark enquiry id answered at at by by ("user:ID", "cli:USER"), or with
 * at 0 not answered after all.  1 when it changed, 0 when it already was
 * so (an answered one keeps its first when and who), -1.
 */
int	store_enquiry_set_answered(struct store *, int64_t id, int64_t at,
	    const char *by, char **cause);

/* One re-route of an enquiry (enquiry_routes). */
struct store_enquiry_route {
	int64_t		 id;
	int64_t		 enquiry_id;
	const char	*from_lead;	/* lead keys */
	const char	*to_lead;
	const char	*actor;		/* who: "user:ID", "cli:USER" */
	const char	*note;		/* why, in their words; "" for none */
	int64_t		 at;
};
/*
 * Record a re-route and move the enquiry to to_lead, routed at at, in
 * the caller's transaction: 0 with *id (the route's row), or -1.
 */
int	store_enquiry_reroute(struct store *,
	    const struct store_enquiry_route *, int64_t *id, char **cause);
/* Each re-route of enquiry_id, oldest first; fn returns 0 to go on. */
int	store_enquiry_routes(struct store *, int64_t enquiry_id,
	    int (*fn)(const struct store_enquiry_route *, void *), void *arg,
	    char **cause);

/* --- IMAP positions (store-imap.c) ----------------------------------- */

/*
 * One row per account (the IMAP URL with the user, as the source names it)
 * and mailbox: the mailbox's UIDVALIDITY and last_uid, the highest UID at
 * or below which every message has been handled.  When the server's
 * UIDVALIDITY differs from the one stored, the UIDs are meaningless and
 * the source starts again from 0.
 *
 * store_imap_get: 1 and both values filled when there is a row, 0 when
 * there is none (a first start), -1.  store_imap_set writes the row
 * (inserting or replacing it): 0 or -1.
 */
int		 store_imap_get(struct store *, const char *account,
		    const char *mailbox, int64_t *uidvalidity,
		    int64_t *last_uid, char **cause);
int		 store_imap_set(struct store *, const char *account,
		    const char *mailbox, int64_t uidvalidity,
		    int64_t last_uid, char **cause);

/* --- digests (store-digest.c) ----------------------------------------- */

/*
 * The SQL of digest.c; digest.h tells the whole story, and the contract
 * campaign sending must keep.  kind is "digest" (a list's digest, key the
 * list slug) or "lead_digest" (key a lead key); period is period.h's key
 * ("2026-W47").
 *
 * store_digest_sent: 1 when (kind, key, period) is recorded, 0, -1.
 * store_digest_record: record it with the number of messages queued;
 * 1 recorded, 0 when it already was, -1.
 */
int		 store_digest_sent(struct store *, const char *kind,
		    const char *key, const char *period, char **cause);
int		 store_digest_record(struct store *, const char *kind,
		    const char *key, const char *period, int64_t messages,
		    int64_t now, char **cause);

/*
 * A newsletter (campaign) is HELD for member M of list L, for a digest
 * whose period ends at end, when: the campaign is L's; it started in
 * [max(since, M's confirmed_at), end); it is sent, or still sending while
 * M's mode is digest; and M has no outbox row for it (never queued to
 * them directly) and no digest_items row (never in one of their digests).
 */
struct store_digest_member {
	struct store_subscriber	 sub;
	int			 digest_mode;	/* else immediate */
	int64_t			 confirmed_at;
};
void		 store_digest_member_clear(struct store_digest_member *);
/*
 * Up to max confirmed members of list with something held, after
 * subscriber id after_id, in id order, into out (*n set; the caller
 * clears each).  Whatever their mode: someone who has just gone back to
 * immediate still gets what was held for them.
 */
int		 store_digest_members(struct store *, const char *list,
		    int64_t since, int64_t end, int64_t after_id,
		    struct store_digest_member *out, size_t max, size_t *n,
		    char **cause);
/* The campaigns held for one member, oldest first; at most max. */
int		 store_digest_held(struct store *, const char *list,
		    const struct store_digest_member *, int64_t since,
		    int64_t end, int64_t *ids, size_t max, size_t *n,
		    char **cause);
/*
 * Record that a subscriber got a campaign in the digest queued as outbox
 * row outbox_id: 1, 0 when it was already recorded, -1.
 */
int		 store_digest_item_add(struct store *, int64_t subscriber_id,
		    int64_t campaign_id, const char *list, const char *period,
		    int64_t outbox_id, int64_t now, char **cause);
/*
 * For campaign sending: 1 when the subscriber already had the campaign
 * in a digest (so must not be queued it), 0 when not, -1.
 */
int		 store_digest_had(struct store *, int64_t campaign_id,
		    int64_t subscriber_id, char **cause);

/* An enquiry for a lead's summary; strings are "" when unknown. */
struct store_digest_enquiry {
	int64_t		 id;
	char		*reference;
	char		*sender;
	char		*sender_name;
	char		*subject;
	char		*lead;
	char		*rule;
	int64_t		 received_at;
	int64_t		 routed_at;	/* received_at when never routed */
	char		*raw;		/* NULL when not kept */
	size_t		 rawlen;
};
void		 store_digest_enquiry_clear(struct store_digest_enquiry *);
/*
 * Up to max enquiries for lead routed in [since, end) and in none of its
 * summaries yet, oldest first, into out (*n set; the caller clears each);
 * with raw, their raw messages too.  *more gets how many more there are.
 */
int		 store_digest_enquiries(struct store *, const char *lead,
		    int64_t since, int64_t end, int raw,
		    struct store_digest_enquiry *out, size_t max, size_t *n,
		    int64_t *more, char **cause);
/* Record that an enquiry was in lead's summary: 1, 0 already, -1. */
int		 store_digest_enquiry_mark(struct store *, const char *lead,
		    int64_t enquiry_id, const char *period, int64_t now,
		    char **cause);
/*
 * Enquiries routed in [since, end) per lead, in lead order: fn(lead,
 * count, arg) returns 0 to go on.
 */
int		 store_digest_lead_counts(struct store *, int64_t since,
		    int64_t end, int (*fn)(const char *, int64_t, void *),
		    void *arg, char **cause);

/* --- bounces (store-bounce.c) ------------------------------------------ */

/* One delivery report (or mail to a VERP address), matched as far as can be. */
struct store_bounce {
	int64_t		 subscriber_id;	/* 0 when not matched */
	int64_t		 campaign_id;	/* 0 when not known */
	const char	*recipient;	/* the address that bounced */
	const char	*kind;		/* "hard", "soft" or "complaint" */
	const char	*status;	/* "5.1.1", or "" */
	const char	*diagnostic;	/* the remote server's words, or "" */
	const char	*source;	/* where the report came in */
	const char	*message_key;	/* "<message-id>" or "sha256:HASH" */
};

/* 1 when recorded, 0 when that report (message_key) was already, -1. */
int	store_bounce_add(struct store *, const struct store_bounce *,
	    char **cause);
/* Hard bounces recorded for a subscriber since a time. */
int	store_bounce_hard_count(struct store *, int64_t subscriber_id,
	    int64_t since, int64_t *n, char **cause);

/* --- unsubscribe requests by mail (store-unsubscribe.c) ---------------- */

/*
 * One message sent to a List-Unsubscribe mailto address (unsubscribe.h)
 * and what came of it.  subscriber_id is kept only when that subscriber
 * exists; no address is kept.
 */
struct store_unsubscribe {
	const char	*message_key;	/* "<message-id>" or "sha256:HASH" */
	const char	*outcome;	/* done, already, unknown, forged,
					   expired or misused */
	int64_t		 subscriber_id;	/* 0 when none */
	const char	*list;		/* a list slug, or NULL */
	int64_t		 campaign_id;	/* 0 when none */
	const char	*detail;	/* why, for staff; or NULL */
	const char	*source;	/* where it came in: "pipe", ... */
	int64_t		 received_at;
};

/* 1 when recorded, 0 when that message (message_key) already was, -1. */
int	store_unsubscribe_add(struct store *, const struct store_unsubscribe *,
	    char **cause);
/* 1 when a message with that key is recorded, 0 when not, -1. */
int	store_unsubscribe_seen(struct store *, const char *message_key,
	    char **cause);

/* --- images for newsletters (store-media.c) -------------------------- */

struct store_media {
	char		*name;		/* "HEX.png" (media.h) */
	char		*type;		/* "image/png" ... */
	int64_t		 size;
	int64_t		 width;
	int64_t		 height;
	char		*filename;	/* as uploaded */
	int64_t		 created_at;
	unsigned char	*data;		/* store_media_get() only */
	size_t		 len;
};

/*
 * Keep an image under name (media.c has checked it); an image of that
 * name already kept is left as it is (the name is its bytes' hash).
 */
int	store_media_add(struct store *, const char *name, const char *type,
	    const void *data, size_t len, uint32_t width, uint32_t height,
	    const char *filename, int64_t now, char **cause);
/* 1 with *m (its bytes too), 0 when there is none of that name, -1. */
int	store_media_get(struct store *, const char *name,
	    struct store_media *m, char **cause);
void	store_media_clear(struct store_media *);
/* The newest max images, without their bytes; fn returns 0 to go on. */
int	store_media_each(struct store *, size_t max,
	    int (*fn)(const struct store_media *, void *), void *arg,
	    char **cause);

/* --- staff accounts (store-user.c) ------------------------------------ */

/* One users row; the strings are the struct's own (store_user_clear()). */
struct store_user {
	int64_t		 id;
	char		*email;
	char		*name;
	char		*role;		/* admin, editor, viewer, lead */
	char		*lead;		/* a lead's key, for role lead */
	char		*password_hash;	/* Argon2id, encoded */
	int		 has_totp;
	int		 disabled;
	int64_t		 created_at;
	int64_t		 updated_at;
	int64_t		 password_at;	/* when the password was set */
};

void	store_user_clear(struct store_user *);
/* 1 with *id when added, 0 when the address has an account, -1. */
int	store_user_add(struct store *, const struct store_user *, int64_t now,
	    int64_t *id, char **cause);
/* By sign-in address, whatever its case: 1 with *u, 0 none, -1. */
int	store_user_get(struct store *, const char *email, struct store_user *,
	    char **cause);
/* The same by the row's id. */
int	store_user_get_id(struct store *, int64_t id, struct store_user *,
	    char **cause);
/* Every account by address; fn returning -1 stops.  0, or -1. */
int	store_user_each(struct store *,
	    int (*fn)(const struct store_user *, void *), void *arg,
	    char **cause);
/* Each of these: 1 when the account was changed, 0 when none, -1. */
int	store_user_set_role(struct store *, int64_t id, const char *role,
	    const char *lead, int64_t now, char **cause);
int	store_user_set_disabled(struct store *, int64_t id, int disabled,
	    int64_t now, char **cause);
int	store_user_set_password(struct store *, int64_t id, const char *hash,
	    int64_t now, char **cause);

/*
 * The second factor's key: 1 with key[0..*len) and the last step used, 0
 * when the account has none, -1.  len is at most 64.
 */
int	store_user_totp_get(struct store *, int64_t id, unsigned char *key,
	    size_t *len, int64_t *last_step, char **cause);
/* Set (key, len) or, with key NULL, remove the second factor. */
int	store_user_set_totp(struct store *, int64_t id, const void *key,
	    size_t len, int64_t now, char **cause);
/*
 * Record that the code of time step was used: 1, or 0 when that step or
 * a later one was already (a replay), -1.
 */
int	store_user_totp_use(struct store *, int64_t id, int64_t step,
	    char **cause);

/* --- console sessions (store-user.c) ---------------------------------- */

struct store_session {
	int64_t		 id;
	int64_t		 user_id;
	int64_t		 created_at;
	int64_t		 seen_at;
	int64_t		 signed_in_at;
};

/* A new session known by hash (64 hex digits): 0, or -1. */
int	store_session_add(struct store *, const char *hash, int64_t user_id,
	    int64_t now, char **cause);
/*
 * The session known by hash whose account is not disabled: 1 with *ss,
 * 0 none, -1.
 */
int	store_session_get(struct store *, const char *hash,
	    struct store_session *, char **cause);
int	store_session_seen(struct store *, int64_t id, int64_t now,
	    char **cause);
/* Delete by hash: 1 when there was one, 0, -1. */
int	store_session_delete(struct store *, const char *hash, char **cause);
/* Every session of an account (disabled, new password): count, or -1. */
int	store_session_delete_user(struct store *, int64_t user_id,
	    char **cause);
/* Sessions idle since idle_before or begun before begun_before. */
int	store_session_prune(struct store *, int64_t idle_before,
	    int64_t begun_before, char **cause);

/* --- the audit log (store-user.c) ------------------------------------- */

/* store_event() with who did it ("cli:USER", "user:ID"). */
int	store_event_by(struct store *, const char *actor, const char *kind,
	    const char *subject, const char *detail);

struct store_event_row {
	int64_t		 id;
	int64_t		 at;
	const char	*actor;		/* "" when postroom itself */
	const char	*kind;
	const char	*subject;	/* "" for none */
	const char	*detail;	/* "" for none */
};
/* Events at or after since, oldest first; fn returning -1 stops. */
int	store_events_each(struct store *, int64_t since,
	    int (*fn)(const struct store_event_row *, void *), void *arg,
	    char **cause);

/* --- tests and maintenance -------------------------------------------- */

/* Run one or more SQL statements, discarding any rows. */
int		 store_exec_sql(struct store *, const char *sql,
		    char **cause);
/*
 * Run one SQL statement and hand back the first column of its first row
 * as text (*value NULL for an SQL NULL).  1 for a row, 0 for none, -1.
 */
int		 store_query_text(struct store *, const char *sql,
		    char **value, char **cause);

#endif
