/*
 * store-schema.c - the database's schema: one step per version, from the
 * empty database to today's.
 *
 * Owns: the SQL of every migration, and what each version's columns
 * mean.  Does not own: running the steps (store.c's store_migrate(), in
 * one transaction each, foreign keys off, foreign_key_check before the
 * commit) or the C function of a step that SQL alone cannot do
 * (store-merge.c's store_merge_case()).
 *
 * Never edit a released step: append one.
 */
#include <stddef.h>

#include "store.h"
#include "store-int.h"

/*
 * The schema, one step per version: store_migrations[N] takes a database
 * from version N-1 to N.  [0] is the empty database.
 *
 * Version 1 is the whole product's schema (see DESIGN.md).  Notes:
 * - subscribers.email holds the normal form of address.h (domain in
 *   lowercase, IDN as A-labels, local part as written) and is unique on
 *   exactly that, byte for byte: the local part may be case-sensitive, so
 *   NOCASE would merge two people.  (Version 3 and 4 reverse this: one
 *   person whatever the case.)  attrs is a JSON object of the
 *   subscriber's extra fields.
 * - memberships: one row per subscriber and list slug (lists are defined
 *   in the configuration, not here).  consent_* record when, how (staff,
 *   web, import) and from what (a staff user, a form, a file name).
 * - suppressions hold only the lowercase hex SHA-256 of a normalised
 *   address, so that a forgotten address can be refused without being kept.
 *   (Version 7 keys it: an HMAC under the forget key, store_forget_key().)
 * - outbox: one row per outgoing message and recipient.  Campaign rows
 *   carry campaign_id + subscriber_id and are rendered at send time; all
 *   other kinds carry the whole message (since version 8 in
 *   outbox_bodies, which the row points at).  UNIQUE (campaign_id,
 *   subscriber_id) means nobody is queued twice for a campaign; dedup_key
 *   does the same for one-off mail ("ack:ENQ-2026-00042").  Higher
 *   priority goes first, so a confirmation does not wait behind a
 *   newsletter.  claimed_at marks rows a delivery engine has taken.
 * - enquiries are keyed by Message-ID, or by content hash when there is
 *   none.  parse_status: ok, malformed, oversized, empty.  ack says
 *   whether an acknowledgement was queued, or why not.
 * - digests_sent: kind is digest (a list's subscribers) or lead_digest;
 *   key is the list slug or the lead key; period as the caller names it
 *   ("2026-03-14", "2026-W11").
 * - digest_items: which newsletter (campaign) went to which subscriber in
 *   a list digest, so that nobody gets one twice (digest.h says how
 *   campaign sending and digests share the work).  digest_enquiries:
 *   which enquiry was in which lead's summary.
 * - rate_limits: a fixed window (window_start, count) and/or a token
 *   bucket level (tokens), per key, so limits hold across restarts.
 */
const struct store_migration store_migrations[] = {
	{ NULL, NULL },

	/* 1 */
	{
	/* STORE_APPLICATION_ID */
	"PRAGMA application_id = 1347638354;\n"

	"CREATE TABLE subscribers (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    email           TEXT NOT NULL UNIQUE,\n"
	"    name            TEXT,\n"
	"    attrs           TEXT NOT NULL DEFAULT '{}'\n"
	"        CHECK (json_valid(attrs)),\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE memberships (\n"
	"    subscriber_id   INTEGER NOT NULL\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    list            TEXT NOT NULL,\n"
	"    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN\n"
	"        ('pending', 'confirmed', 'unsubscribed', 'bounced')),\n"
	"    mode            TEXT NOT NULL DEFAULT 'immediate'\n"
	"        CHECK (mode IN ('immediate', 'digest')),\n"
	"    consent_at      INTEGER,\n"
	"    consent_method  TEXT CHECK (consent_method IN\n"
	"        ('staff', 'web', 'import')),\n"
	"    consent_source  TEXT,\n"
	"    confirmed_at    INTEGER,\n"
	"    unsubscribed_at INTEGER,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    PRIMARY KEY (subscriber_id, list)\n"
	") STRICT;\n"
	"CREATE INDEX memberships_list ON memberships (list, status,\n"
	"    subscriber_id);\n"

	"CREATE TABLE suppressions (\n"
	"    hash            TEXT PRIMARY KEY,\n"
	"    reason          TEXT NOT NULL,\n"
	"    created_at      INTEGER NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE campaigns (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    list            TEXT NOT NULL,\n"
	"    subject         TEXT NOT NULL,\n"
	"    body            TEXT NOT NULL,\n"
	"    template        TEXT,\n"
	"    status          TEXT NOT NULL DEFAULT 'draft' CHECK (status IN\n"
	"        ('draft', 'scheduled', 'sending', 'paused', 'sent',\n"
	"        'cancelled')),\n"
	"    scheduled_at    INTEGER,\n"
	"    started_at      INTEGER,\n"
	"    finished_at     INTEGER,\n"
	"    paused_reason   TEXT,\n"
	"    created_by      TEXT,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX campaigns_status ON campaigns (status, scheduled_at);\n"
	"CREATE INDEX campaigns_list ON campaigns (list, finished_at);\n"

	"CREATE TABLE enquiries (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    reference       TEXT NOT NULL UNIQUE,\n"
	"    message_id      TEXT UNIQUE,\n"
	"    content_hash    TEXT NOT NULL,\n"
	"    sender          TEXT,\n"
	"    sender_name     TEXT,\n"
	"    subject         TEXT,\n"
	"    lead            TEXT,\n"
	"    rule            TEXT,\n"
	"    score           REAL,\n"
	"    reason          TEXT,\n"
	"    source          TEXT,\n"
	"    received_at     INTEGER NOT NULL,\n"
	"    routed_at       INTEGER,\n"
	"    raw_path        TEXT,\n"
	"    raw             BLOB,\n"
	"    raw_size        INTEGER,\n"
	"    parse_status    TEXT NOT NULL DEFAULT 'ok',\n"
	"    ack             TEXT\n"
	") STRICT;\n"
	"CREATE UNIQUE INDEX enquiries_content ON enquiries (content_hash)\n"
	"    WHERE message_id IS NULL;\n"
	"CREATE INDEX enquiries_lead ON enquiries (lead, routed_at);\n"
	"CREATE INDEX enquiries_received ON enquiries (received_at);\n"
	"CREATE INDEX enquiries_sender ON enquiries (sender, received_at);\n"

	"CREATE TABLE outbox (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    kind            TEXT NOT NULL CHECK (kind IN\n"
	"        ('campaign', 'forward', 'ack', 'confirm',\n"
	"        'digest', 'test', 'lead_digest')),\n"
	"    campaign_id     INTEGER REFERENCES campaigns(id),\n"
	"    subscriber_id   INTEGER\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    enquiry_id      INTEGER\n"
	"        REFERENCES enquiries(id) ON DELETE SET NULL,\n"
	"    dedup_key       TEXT UNIQUE,\n"
	"    message         BLOB,\n"
	"    message_id      TEXT,\n"
	"    mail_from       TEXT NOT NULL,\n"
	"    rcpt_to         TEXT NOT NULL,\n"
	"    priority        INTEGER NOT NULL DEFAULT 0,\n"
	"    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN\n"
	"        ('queued', 'sending', 'sent', 'deferred',\n"
	"        'failed', 'skipped')),\n"
	"    attempts        INTEGER NOT NULL DEFAULT 0,\n"
	"    next_attempt_at INTEGER NOT NULL DEFAULT 0,\n"
	"    claimed_at      INTEGER,\n"
	"    last_code       INTEGER,\n"
	"    last_reply      TEXT,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    sent_at         INTEGER,\n"
	"    UNIQUE (campaign_id, subscriber_id),\n"
	"    CHECK (kind <> 'campaign' OR\n"
	"        (campaign_id IS NOT NULL AND subscriber_id IS NOT NULL)),\n"
	"    CHECK (kind = 'campaign' OR message IS NOT NULL)\n"
	") STRICT;\n"
	"CREATE INDEX outbox_due ON outbox (state, next_attempt_at);\n"
	/* The delivery engine's queue in claim order: see store_outbox_due. */
	"CREATE INDEX outbox_ready ON outbox (priority DESC, next_attempt_at)\n"
	"    WHERE +state IN ('queued', 'deferred');\n"
	"CREATE INDEX outbox_campaign ON outbox (campaign_id, state);\n"
	"CREATE INDEX outbox_subscriber ON outbox (subscriber_id);\n"
	"CREATE INDEX outbox_enquiry ON outbox (enquiry_id);\n"

	"CREATE TABLE bounces (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    outbox_id       INTEGER\n"
	"        REFERENCES outbox(id) ON DELETE SET NULL,\n"
	"    subscriber_id   INTEGER\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    recipient       TEXT NOT NULL,\n"
	"    kind            TEXT NOT NULL\n"
	"        CHECK (kind IN ('hard', 'soft', 'complaint')),\n"
	"    status          TEXT,\n"
	"    diagnostic      TEXT,\n"
	"    source          TEXT,\n"
	"    received_at     INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX bounces_subscriber ON bounces (subscriber_id,\n"
	"    received_at);\n"
	"CREATE INDEX bounces_recipient ON bounces (recipient, received_at);\n"
	"CREATE INDEX bounces_outbox ON bounces (outbox_id);\n"

	"CREATE TABLE digests_sent (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    kind            TEXT NOT NULL\n"
	"        CHECK (kind IN ('digest', 'lead_digest')),\n"
	"    key             TEXT NOT NULL,\n"
	"    period          TEXT NOT NULL,\n"
	"    messages        INTEGER NOT NULL DEFAULT 0,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    UNIQUE (kind, key, period)\n"
	") STRICT;\n"
	"CREATE TABLE digest_items (\n"
	"    subscriber_id   INTEGER NOT NULL\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    campaign_id     INTEGER NOT NULL\n"
	"        REFERENCES campaigns(id) ON DELETE CASCADE,\n"
	"    list            TEXT NOT NULL,\n"
	"    period          TEXT NOT NULL,\n"
	"    outbox_id       INTEGER\n"
	"        REFERENCES outbox(id) ON DELETE SET NULL,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    PRIMARY KEY (subscriber_id, campaign_id)\n"
	") STRICT;\n"
	"CREATE INDEX digest_items_campaign ON digest_items (campaign_id);\n"
	"CREATE INDEX digest_items_outbox ON digest_items (outbox_id);\n"
	"CREATE TABLE digest_enquiries (\n"
	"    lead            TEXT NOT NULL,\n"
	"    enquiry_id      INTEGER NOT NULL\n"
	"        REFERENCES enquiries(id) ON DELETE CASCADE,\n"
	"    period          TEXT NOT NULL,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    PRIMARY KEY (lead, enquiry_id)\n"
	") STRICT;\n"
	"CREATE INDEX digest_enquiries_enquiry ON digest_enquiries\n"
	"    (enquiry_id);\n"
	"CREATE INDEX campaigns_started ON campaigns (list, started_at);\n"

	"CREATE TABLE rate_limits (\n"
	"    key             TEXT PRIMARY KEY,\n"
	"    window_start    INTEGER NOT NULL,\n"
	"    count           INTEGER NOT NULL DEFAULT 0,\n"
	"    tokens          REAL,\n"
	"    updated_at      INTEGER NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE imap_state (\n"
	"    account         TEXT NOT NULL,\n"
	"    mailbox         TEXT NOT NULL,\n"
	"    uidvalidity     INTEGER NOT NULL,\n"
	"    last_uid        INTEGER NOT NULL DEFAULT 0,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    PRIMARY KEY (account, mailbox)\n"
	") STRICT;\n"

	"CREATE TABLE counters (\n"
	"    name            TEXT PRIMARY KEY,\n"
	"    value           INTEGER NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE kv (\n"
	"    key             TEXT PRIMARY KEY,\n"
	"    value           TEXT NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL\n"
	") STRICT;\n"

	"CREATE TABLE events (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    at              INTEGER NOT NULL,\n"
	"    kind            TEXT NOT NULL,\n"
	"    subject         TEXT,\n"
	"    detail          TEXT\n"
	") STRICT;\n"
	"CREATE INDEX events_at ON events (at);\n"
	"CREATE INDEX events_kind ON events (kind, at);\n", NULL },

	/* 2 */
	{
	/*
	 * The outbox's CHECKs as ORs of equalities.  The same rule, but
	 * SQLite evaluates "x IN (more than two constants)" by building a
	 * temporary table, and a CHECK on state runs on every claim and
	 * every write-back: that table was a third of a claim's cost.
	 * Rebuilt as in the 12 steps of SQLite's ALTER TABLE page
	 * (store_migrate() turns foreign keys off around the step).
	 * A campaign row may lose its subscriber once it can no longer be
	 * sent: forgetting someone keeps their rows of a campaign, without
	 * the address, so that the campaign's counts still add up (a row
	 * still waiting is counted skipped).
	 * Without outbox_due (state, next_attempt_at): the engine finds
	 * due rows through outbox_ready and rows by id, campaigns count
	 * through outbox_campaign, and every index holding state costs a
	 * delete and an insert at each claim and write-back; only the
	 * start-up recovery and the outbox totals scanned by state.
	 */
	"CREATE TABLE outbox_v2 (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    kind            TEXT NOT NULL CHECK (kind = 'campaign'\n"
	"        OR kind = 'forward' OR kind = 'ack' OR kind = 'confirm'\n"
	"        OR kind = 'digest' OR kind = 'test'\n"
	"        OR kind = 'lead_digest'),\n"
	"    campaign_id     INTEGER REFERENCES campaigns(id),\n"
	"    subscriber_id   INTEGER\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    enquiry_id      INTEGER\n"
	"        REFERENCES enquiries(id) ON DELETE SET NULL,\n"
	"    dedup_key       TEXT UNIQUE,\n"
	"    message         BLOB,\n"
	"    message_id      TEXT,\n"
	"    mail_from       TEXT NOT NULL,\n"
	"    rcpt_to         TEXT NOT NULL,\n"
	"    priority        INTEGER NOT NULL DEFAULT 0,\n"
	"    state           TEXT NOT NULL DEFAULT 'queued' CHECK (\n"
	"        state = 'queued' OR state = 'sending' OR state = 'sent'\n"
	"        OR state = 'deferred' OR state = 'failed'\n"
	"        OR state = 'skipped'),\n"
	"    attempts        INTEGER NOT NULL DEFAULT 0,\n"
	"    next_attempt_at INTEGER NOT NULL DEFAULT 0,\n"
	"    claimed_at      INTEGER,\n"
	"    last_code       INTEGER,\n"
	"    last_reply      TEXT,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    sent_at         INTEGER,\n"
	"    UNIQUE (campaign_id, subscriber_id),\n"
	"    CHECK (kind <> 'campaign' OR (campaign_id IS NOT NULL AND\n"
	"        (subscriber_id IS NOT NULL OR (state <> 'queued'\n"
	"        AND state <> 'sending' AND state <> 'deferred')))),\n"
	"    CHECK (kind = 'campaign' OR message IS NOT NULL)\n"
	") STRICT;\n"
	"INSERT INTO outbox_v2 SELECT * FROM outbox;\n"
	"DROP TABLE outbox;\n"
	"ALTER TABLE outbox_v2 RENAME TO outbox;\n"
	"CREATE INDEX outbox_ready ON outbox (priority DESC, next_attempt_at)\n"
	"    WHERE +state IN ('queued', 'deferred');\n"
	"CREATE INDEX outbox_campaign ON outbox (campaign_id, state);\n"
	"CREATE INDEX outbox_subscriber ON outbox (subscriber_id);\n"
	"CREATE INDEX outbox_enquiry ON outbox (enquiry_id);\n"
	/*
	 * The delivery report a bounce came in, by its Message-ID (else its
	 * content's hash): a report read twice (a crash between recording
	 * and filing it) counts once.  NULL for the rows before.
	 */
	"ALTER TABLE bounces ADD COLUMN message_key TEXT;\n"
	"CREATE UNIQUE INDEX bounces_message ON bounces (message_key);\n",
	NULL },

	/* 3 */
	/*
	 * Mail to a newsletter's List-Unsubscribe mailto address
	 * (unsubscribe+TOKEN@): one row per message, keyed like bounces by
	 * its Message-ID (else its content's hash), so that a message read
	 * twice (a crash between recording and filing it) acts and counts
	 * once.  outcome: done (they left the list), already (not on it any
	 * more), unknown (no such subscriber or list), forged (not our
	 * token), expired, misused (our token, made for something else).
	 * subscriber_id, list and campaign_id only from a token that is
	 * ours.  No address is kept (the token names the person); like their
	 * bounces, a person's requests go when they are forgotten.
	 */
	{
	"CREATE TABLE mail_unsubscribes (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    message_key     TEXT NOT NULL UNIQUE,\n"
	"    outcome         TEXT NOT NULL CHECK (outcome = 'done'\n"
	"        OR outcome = 'already' OR outcome = 'unknown'\n"
	"        OR outcome = 'forged' OR outcome = 'expired'\n"
	"        OR outcome = 'misused'),\n"
	"    subscriber_id   INTEGER\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    list            TEXT,\n"
	"    campaign_id     INTEGER,\n"
	"    detail          TEXT,\n"
	"    source          TEXT NOT NULL,\n"
	"    received_at     INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX mail_unsubscribes_received ON mail_unsubscribes\n"
	"    (received_at);\n"
	"CREATE INDEX mail_unsubscribes_subscriber ON mail_unsubscribes\n"
	"    (subscriber_id);\n",
	NULL },

	/* 4 */
	/*
	 * When the last test copy of a campaign was queued since its
	 * subject, body or template last changed: campaign_test() sets it,
	 * an edit sets it back to NULL, in the statement that makes the
	 * change - so "sent a test since the last edit" needs no clock to
	 * order the two.  "campaign send" says so when it is NULL.
	 * Campaigns from before have none: they read as not tested.
	 */
	{
	"ALTER TABLE campaigns ADD COLUMN tested_at INTEGER;\n",
	NULL },

	/* 5 */
	/*
	 * An address is one person, whatever its case (issue 12): people
	 * whose addresses differ only in the case of ASCII letters are
	 * merged into one, the earliest created, by store_merge_case()
	 * (store-merge.c says how, and logs what it merged by id).  This
	 * overrides version 1's decision to keep subscribers.email unique
	 * byte for byte: local parts are case-sensitive in principle, but
	 * no mail system people use treats them so, and two rows for one
	 * mailbox sent Sian everything twice.
	 * subscriber_merges: which id was merged into which, so that a link
	 * or VERP address carrying a merged id (a token in an old
	 * newsletter) still finds its person: store_subscriber_get_id()
	 * follows it.  It holds ids only, and goes with the person.
	 */
	{
	"CREATE TABLE subscriber_merges (\n"
	"    merged_id       INTEGER PRIMARY KEY,\n"
	"    subscriber_id   INTEGER NOT NULL\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    merged_at       INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX subscriber_merges_subscriber ON subscriber_merges\n"
	"    (subscriber_id);\n",
	store_merge_case },

	/* 6 */
	/*
	 * Case-insensitive matching, in the schema.  subscribers.email is
	 * unique under COLLATE NOCASE (ASCII letters only, which is all a
	 * normalised address holds: address.h), so every "email = ?" finds
	 * the person in any case and a second spelling cannot be added;
	 * email keeps the form first given, for display and sending.  A
	 * column collation rather than an email_key column: nothing to keep
	 * in step in C, and no query can forget to use it.  Rebuilt as in
	 * version 2 (foreign keys are off around the step).  AUTOINCREMENT:
	 * an id is never given again, so that a token naming a merged or
	 * forgotten person can never name somebody new (the sequence starts
	 * above every merged id).
	 * Enquiry senders and bounce recipients are not rebuilt (enquiries
	 * hold the raw messages): their indexes are made NOCASE, and their
	 * queries say "COLLATE NOCASE", which these indexes serve.
	 * References are found in any case ("enq-2026-00042") through one
	 * more index.
	 */
	{
	"CREATE TABLE subscribers_v4 (\n"
	"    id              INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
	"    name            TEXT,\n"
	"    attrs           TEXT NOT NULL DEFAULT '{}'\n"
	"        CHECK (json_valid(attrs)),\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL\n"
	") STRICT;\n"
	"INSERT INTO subscribers_v4 (id, email, name, attrs, created_at,\n"
	"    updated_at) SELECT id, email, name, attrs, created_at,\n"
	"    updated_at FROM subscribers;\n"
	"DROP TABLE subscribers;\n"
	"ALTER TABLE subscribers_v4 RENAME TO subscribers;\n"
	"DELETE FROM sqlite_sequence WHERE name = 'subscribers';\n"
	"INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers',\n"
	"    max((SELECT coalesce(max(id), 0) FROM subscribers),\n"
	"    (SELECT coalesce(max(merged_id), 0) FROM subscriber_merges)));\n"
	"DROP INDEX enquiries_sender;\n"
	"CREATE INDEX enquiries_sender ON enquiries\n"
	"    (sender COLLATE NOCASE, received_at);\n"
	"CREATE INDEX enquiries_reference_nocase ON enquiries\n"
	"    (reference COLLATE NOCASE);\n"
	"DROP INDEX bounces_recipient;\n"
	"CREATE INDEX bounces_recipient ON bounces\n"
	"    (recipient COLLATE NOCASE, received_at);\n",
	NULL },

	/* 7 */
	/*
	 * Tokens die with the person (issue 13, item 2).  token_salt: 16
	 * random bytes made with the row, inside the MAC of every token
	 * naming the subscriber (token.h), so that erasing the row, or
	 * making it again for the same address, leaves no old link that
	 * works.  randomblob() is enough: the salt needs to differ from
	 * row to row, not to be secret (the token key is).  Rows from
	 * before get one here; their old tokens (version 1) were made
	 * without it and are retired anyway.
	 * suppressions.keyed: 1 for a hash under the forget key (issue 13,
	 * item 16: token_hash_address()), 0 for the plain SHA-256 of
	 * before, which cannot be re-keyed (the addresses are gone) and
	 * is still matched as legacy (store_subscriber_suppressed()).
	 */
	{
	"ALTER TABLE subscribers ADD COLUMN token_salt BLOB\n"
	"    CHECK (token_salt IS NULL OR length(token_salt) = 16);\n"
	"UPDATE subscribers SET token_salt = randomblob(16);\n"
	"ALTER TABLE suppressions ADD COLUMN keyed INTEGER NOT NULL\n"
	"    DEFAULT 0 CHECK (keyed IN (0, 1));\n",
	NULL },

	/* 8 */
	/*
	 * Message bodies live apart from the outbox rows (issue 13, item 5).
	 * SQLite writes a whole record at every UPDATE, overflow pages and
	 * all: with the message in the row, claiming a 50 MB forward and
	 * giving it back rewrote 100 MB, every state change outlasted the
	 * engine's one-second give-back and nothing was sent.  Now a row is
	 * small (state, times, the reply) and points at its body, which no
	 * state change touches; rows carrying the same bytes (a forward to
	 * each of a lead's addresses) share one body.  A body goes with the
	 * last row that refers to it (the two triggers), so deleting or
	 * erasing rows needs no second statement.  Rebuilt as in version 2
	 * (foreign keys are off around the step); bodies keep their row's
	 * id.
	 * inbound_failures: a message that could not be recorded, keyed as
	 * enquiries are known again (Message-ID, else content hash), with
	 * how often and why.  enquiry.c reads it to stop retrying one that
	 * keeps failing (item 6): stored, so that the count survives a
	 * restart; the row goes once the message is recorded.
	 */
	{
	"CREATE TABLE outbox_bodies (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    body            BLOB NOT NULL\n"
	") STRICT;\n"
	"INSERT INTO outbox_bodies (id, body)\n"
	"    SELECT id, message FROM outbox WHERE message IS NOT NULL;\n"
	"CREATE TABLE outbox_v8 (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    kind            TEXT NOT NULL CHECK (kind = 'campaign'\n"
	"        OR kind = 'forward' OR kind = 'ack' OR kind = 'confirm'\n"
	"        OR kind = 'digest' OR kind = 'test'\n"
	"        OR kind = 'lead_digest'),\n"
	"    campaign_id     INTEGER REFERENCES campaigns(id),\n"
	"    subscriber_id   INTEGER\n"
	"        REFERENCES subscribers(id) ON DELETE CASCADE,\n"
	"    enquiry_id      INTEGER\n"
	"        REFERENCES enquiries(id) ON DELETE SET NULL,\n"
	"    dedup_key       TEXT UNIQUE,\n"
	"    body_id         INTEGER REFERENCES outbox_bodies(id),\n"
	"    message_id      TEXT,\n"
	"    mail_from       TEXT NOT NULL,\n"
	"    rcpt_to         TEXT NOT NULL,\n"
	"    priority        INTEGER NOT NULL DEFAULT 0,\n"
	"    state           TEXT NOT NULL DEFAULT 'queued' CHECK (\n"
	"        state = 'queued' OR state = 'sending' OR state = 'sent'\n"
	"        OR state = 'deferred' OR state = 'failed'\n"
	"        OR state = 'skipped'),\n"
	"    attempts        INTEGER NOT NULL DEFAULT 0,\n"
	"    next_attempt_at INTEGER NOT NULL DEFAULT 0,\n"
	"    claimed_at      INTEGER,\n"
	"    last_code       INTEGER,\n"
	"    last_reply      TEXT,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    sent_at         INTEGER,\n"
	"    UNIQUE (campaign_id, subscriber_id),\n"
	"    CHECK (kind <> 'campaign' OR (campaign_id IS NOT NULL AND\n"
	"        (subscriber_id IS NOT NULL OR (state <> 'queued'\n"
	"        AND state <> 'sending' AND state <> 'deferred')))),\n"
	"    CHECK (kind = 'campaign' OR body_id IS NOT NULL)\n"
	") STRICT;\n"
	"INSERT INTO outbox_v8 (id, kind, campaign_id, subscriber_id,\n"
	"    enquiry_id, dedup_key, body_id, message_id, mail_from, rcpt_to,\n"
	"    priority, state, attempts, next_attempt_at, claimed_at,\n"
	"    last_code, last_reply, created_at, updated_at, sent_at)\n"
	"    SELECT id, kind, campaign_id, subscriber_id, enquiry_id,\n"
	"    dedup_key, CASE WHEN message IS NOT NULL THEN id END,\n"
	"    message_id, mail_from, rcpt_to, priority, state, attempts,\n"
	"    next_attempt_at, claimed_at, last_code, last_reply, created_at,\n"
	"    updated_at, sent_at FROM outbox;\n"
	"DROP TABLE outbox;\n"
	"ALTER TABLE outbox_v8 RENAME TO outbox;\n"
	"CREATE INDEX outbox_ready ON outbox (priority DESC, next_attempt_at)\n"
	"    WHERE +state IN ('queued', 'deferred');\n"
	"CREATE INDEX outbox_campaign ON outbox (campaign_id, state);\n"
	"CREATE INDEX outbox_subscriber ON outbox (subscriber_id);\n"
	"CREATE INDEX outbox_enquiry ON outbox (enquiry_id);\n"
	"CREATE INDEX outbox_body ON outbox (body_id);\n"
	"CREATE TRIGGER outbox_body_deleted AFTER DELETE ON outbox\n"
	"    WHEN old.body_id IS NOT NULL BEGIN\n"
	"    DELETE FROM outbox_bodies WHERE id = old.body_id\n"
	"        AND NOT EXISTS (SELECT 1 FROM outbox\n"
	"        WHERE body_id = old.body_id);\n"
	"END;\n"
	"CREATE TRIGGER outbox_body_replaced AFTER UPDATE OF body_id ON outbox\n"
	"    WHEN old.body_id IS NOT NULL\n"
	"    AND old.body_id IS NOT new.body_id BEGIN\n"
	"    DELETE FROM outbox_bodies WHERE id = old.body_id\n"
	"        AND NOT EXISTS (SELECT 1 FROM outbox\n"
	"        WHERE body_id = old.body_id);\n"
	"END;\n"
	"CREATE TABLE inbound_failures (\n"
	"    key             TEXT PRIMARY KEY,\n"
	"    attempts        INTEGER NOT NULL,\n"
	"    last_error      TEXT,\n"
	"    first_at        INTEGER NOT NULL,\n"
	"    last_at         INTEGER NOT NULL\n"
	") STRICT;\n",
	NULL },

	/* 9 */
	/*
	 * Staff accounts for the console (issue 14).  email is the sign-in
	 * name, one account whatever its case; role one of admin, editor,
	 * viewer, lead, and a lead account names its lead's key (from the
	 * configuration, so not a foreign key).  password_hash is an
	 * Argon2id encoded string ($argon2id$v=19$...), never the password.
	 * totp_secret: the raw key of the second factor (RFC 6238, 20
	 * bytes), or NULL; totp_last_step: the time step of the last code
	 * accepted, so that no code is accepted twice.
	 * sessions: a console sign-in, known by the SHA-256 (hex) of its
	 * random identifier, never the identifier itself (session.c).
	 * events.actor: who did it ("cli:USER", "user:ID"), for the audit
	 * log; NULL for what postroom did by itself and for older rows.
	 */
	{
	"CREATE TABLE users (\n"
	"    id              INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,\n"
	"    name            TEXT NOT NULL,\n"
	"    role            TEXT NOT NULL CHECK (role = 'admin'\n"
	"        OR role = 'editor' OR role = 'viewer' OR role = 'lead'),\n"
	"    lead            TEXT,\n"
	"    password_hash   TEXT NOT NULL,\n"
	"    totp_secret     BLOB\n"
	"        CHECK (totp_secret IS NULL OR length(totp_secret) = 20),\n"
	"    totp_last_step  INTEGER NOT NULL DEFAULT 0,\n"
	"    disabled        INTEGER NOT NULL DEFAULT 0\n"
	"        CHECK (disabled IN (0, 1)),\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    updated_at      INTEGER NOT NULL,\n"
	"    password_at     INTEGER NOT NULL,\n"
	"    CHECK ((role = 'lead') = (lead IS NOT NULL))\n"
	") STRICT;\n"
	"CREATE TABLE sessions (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    hash            TEXT NOT NULL UNIQUE,\n"
	"    user_id         INTEGER NOT NULL\n"
	"        REFERENCES users(id) ON DELETE CASCADE,\n"
	"    created_at      INTEGER NOT NULL,\n"
	"    seen_at         INTEGER NOT NULL,\n"
	"    signed_in_at    INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX sessions_user ON sessions (user_id);\n"
	"ALTER TABLE events ADD COLUMN actor TEXT;\n",
	NULL },

	/* 10 */
	/*
	 * The console's newsletters (issue 14).  campaigns.edited_by: who
	 * wrote the version as it stands (created_by, then each editor);
	 * approved_by/approved_at: the second person who approved exactly
	 * that version, for console.send_approval (an edit clears them).
	 * media: images staff upload for newsletters, served to readers at
	 * /media/NAME; name is the start of the SHA-256 of the bytes with
	 * the type's extension, so an image is stored once and its address
	 * never changes what it shows.  filename is as uploaded, for staff.
	 */
	{
	"ALTER TABLE campaigns ADD COLUMN edited_by TEXT;\n"
	"ALTER TABLE campaigns ADD COLUMN approved_by TEXT;\n"
	"ALTER TABLE campaigns ADD COLUMN approved_at INTEGER;\n"
	"UPDATE campaigns SET edited_by = created_by;\n"
	"CREATE TABLE media (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    name            TEXT NOT NULL UNIQUE,\n"
	"    type            TEXT NOT NULL CHECK (type IN ('image/png',\n"
	"        'image/jpeg', 'image/gif')),\n"
	"    data            BLOB NOT NULL,\n"
	"    size            INTEGER NOT NULL,\n"
	"    width           INTEGER NOT NULL,\n"
	"    height          INTEGER NOT NULL,\n"
	"    filename        TEXT NOT NULL,\n"
	"    created_by      TEXT,\n"
	"    created_at      INTEGER NOT NULL\n"
	") STRICT;\n",
	NULL },

	/* 11 */
	/*
	 * Finding people and enquiries fast (issue 14: a console search
	 * under 50 ms with 100,000 subscribers; bench/console.sh).
	 * Search keys: the searched columns as utf8_fold() makes them (NULL
	 * as ""), all of a row's or none.  subscribers.search_name and
	 * search_email; enquiries.search_sender, search_name (the sender's),
	 * search_subject and search_reference.  Each table's *_search index
	 * leads with its keys, so that the rows without are found by
	 * seeking, and holds what a search filters on, so that it reads the
	 * index and folds nothing (enquiry rows hold the raw messages).
	 * postroom writes the keys with the row (store_subscriber_add() and
	 * _update(), store_enquiry_add()).  No trigger or generated column
	 * can compute them: postroom_fold() exists only in postroom's own
	 * connections.  So a row another program writes has none, and the
	 * *_search_stale triggers drop them when a searched column changes
	 * without them (a merge, an erasure, sqlite3): a key is right or
	 * NULL, never stale, and the searches fold the keyless rows in the
	 * query, as they did all rows before; postroomd gives them keys
	 * (postroomd_search_keys()).
	 * outbox_rcpt: the mail sent to an address in any case, for an
	 * access request (store_subscriber_person()): acknowledgements and
	 * other mail that is not a campaign's carry no subscriber id, and
	 * finding them read the whole outbox.
	 */
	{
	"ALTER TABLE subscribers ADD COLUMN search_name TEXT;\n"
	"ALTER TABLE subscribers ADD COLUMN search_email TEXT\n"
	"    CHECK ((search_name IS NULL) = (search_email IS NULL));\n"
	"UPDATE subscribers SET\n"
	"    search_name = postroom_fold(coalesce(name, '')),\n"
	"    search_email = postroom_fold(email);\n"
	"CREATE INDEX subscribers_search ON subscribers\n"
	"    (search_name, search_email);\n"
	"CREATE TRIGGER subscribers_search_stale\n"
	"    AFTER UPDATE OF name, email ON subscribers\n"
	"    WHEN (new.name IS NOT old.name OR new.email IS NOT old.email)\n"
	"    AND new.search_name IS old.search_name\n"
	"    AND new.search_email IS old.search_email BEGIN\n"
	"    UPDATE subscribers SET search_name = NULL, search_email = NULL\n"
	"        WHERE id = new.id;\n"
	"END;\n"
	"ALTER TABLE enquiries ADD COLUMN search_sender TEXT;\n"
	"ALTER TABLE enquiries ADD COLUMN search_name TEXT;\n"
	"ALTER TABLE enquiries ADD COLUMN search_subject TEXT;\n"
	"ALTER TABLE enquiries ADD COLUMN search_reference TEXT\n"
	"    CHECK ((search_sender IS NULL) = (search_name IS NULL)\n"
	"    AND (search_name IS NULL) = (search_subject IS NULL)\n"
	"    AND (search_subject IS NULL) = (search_reference IS NULL));\n"
	"UPDATE enquiries SET\n"
	"    search_sender = postroom_fold(coalesce(sender, '')),\n"
	"    search_name = postroom_fold(coalesce(sender_name, '')),\n"
	"    search_subject = postroom_fold(coalesce(subject, '')),\n"
	"    search_reference = postroom_fold(reference);\n"
	"CREATE INDEX enquiries_search ON enquiries (search_sender,\n"
	"    search_name, search_subject, search_reference, received_at,\n"
	"    lead);\n"
	"CREATE TRIGGER enquiries_search_stale\n"
	"    AFTER UPDATE OF sender, sender_name, subject, reference\n"
	"    ON enquiries\n"
	"    WHEN (new.sender IS NOT old.sender\n"
	"    OR new.sender_name IS NOT old.sender_name\n"
	"    OR new.subject IS NOT old.subject\n"
	"    OR new.reference IS NOT old.reference)\n"
	"    AND new.search_sender IS old.search_sender\n"
	"    AND new.search_name IS old.search_name\n"
	"    AND new.search_subject IS old.search_subject\n"
	"    AND new.search_reference IS old.search_reference BEGIN\n"
	"    UPDATE enquiries SET search_sender = NULL, search_name = NULL,\n"
	"        search_subject = NULL, search_reference = NULL\n"
	"        WHERE id = new.id;\n"
	"END;\n"
	"CREATE INDEX outbox_rcpt ON outbox (rcpt_to COLLATE NOCASE);\n",
	NULL },

	/* 12 */
	/*
	 * What staff do with an enquiry once it is routed (issues 14 and
	 * 15).  answered_at and answered_by: when it was marked answered
	 * and by whom ("user:ID" from the console, "cli:USER"); both NULL
	 * while it waits, and again when the mark is taken back.
	 * enquiry_routes: every re-route, oldest first (the id orders them),
	 * never rewritten: the lead it left and the lead it went to (keys
	 * from the configuration, so not foreign keys), who and why (a note
	 * of theirs, or NULL), when.  enquiries.lead and routed_at hold the
	 * latest; the router's first decision stays in rule and reason.
	 * The rows go with their enquiry; erasure (store-subscriber.c)
	 * empties their notes, which staff may have written the person into.
	 */
	{
	"ALTER TABLE enquiries ADD COLUMN answered_at INTEGER;\n"
	"ALTER TABLE enquiries ADD COLUMN answered_by TEXT;\n"
	"CREATE TABLE enquiry_routes (\n"
	"    id              INTEGER PRIMARY KEY,\n"
	"    enquiry_id      INTEGER NOT NULL\n"
	"        REFERENCES enquiries(id) ON DELETE CASCADE,\n"
	"    from_lead       TEXT NOT NULL,\n"
	"    to_lead         TEXT NOT NULL,\n"
	"    actor           TEXT NOT NULL,\n"
	"    note            TEXT,\n"
	"    at              INTEGER NOT NULL\n"
	") STRICT;\n"
	"CREATE INDEX enquiry_routes_enquiry ON enquiry_routes\n"
	"    (enquiry_id, id);\n",
	NULL },
};
const int store_schema_latest =
    (int)(sizeof store_migrations / sizeof store_migrations[0]) - 1;
