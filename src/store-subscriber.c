/*
 * store-subscriber.c - subscribers, their list memberships (with consent)
 * and the suppression list.
 *
 * Owns: the SQL for the subscribers, memberships and suppressions tables,
 * the membership state machine (store_member_set_status), erasure and the
 * access-request export of one person.  Does not own: the SQLite connection
 * (store.c), what a valid address is (address.c), the hash of forgotten
 * addresses (token.c), the wording people see (cmd-subscriber.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "json.h"
#include "log.h"
#include "store-int.h"
#include "token.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

static const char *const store_member_statuses[] = {
	[STORE_MEMBER_PENDING] = "pending",
	[STORE_MEMBER_CONFIRMED] = "confirmed",
	[STORE_MEMBER_UNSUBSCRIBED] = "unsubscribed",
	[STORE_MEMBER_BOUNCED] = "bounced",
};

/* The columns store_subscriber_fill() and store_member_fill() read. */
#define STORE_SUBSCRIBER_COLS \
	"s.id, s.email, coalesce(s.name, ''), s.attrs, s.created_at," \
	" s.token_salt"
#define STORE_MEMBER_COLS \
	"m.subscriber_id, m.list, m.status, m.mode, coalesce(m.consent_at, 0)," \
	" coalesce(m.consent_method, ''), coalesce(m.consent_source, '')," \
	" coalesce(m.confirmed_at, 0), coalesce(m.unsubscribed_at, 0)," \
	" m.created_at, m.updated_at"
#define STORE_MEMBER_NCOLS	11

const char *
store_member_status_name(enum store_member_status st)
{
	if ((unsigned)st >= STORE_MEMBER_NSTATUSES)
		fatalx("%s: bad membership status %d", __func__, (int)st);
	return store_member_statuses[st];
}

int
store_member_status_parse(const char *name, enum store_member_status *st)
{
	int	i;

	if ((i = store_name_index(store_member_statuses,
	    STORE_MEMBER_NSTATUSES, name)) == -1)
		return -1;
	*st = i;
	return 0;
}

void
store_subscriber_clear(struct store_subscriber *sub)
{
	free(sub->email);
	free(sub->name);
	free(sub->attrs);
	memset(sub, 0, sizeof *sub);
}

void
store_member_clear(struct store_member *m)
{
	free(m->list);
	free(m->mode);
	free(m->consent_method);
	free(m->consent_source);
	memset(m, 0, sizeof *m);
}

/* A token salt from column col: the 16 bytes, else zeros. */
static void
store_subscriber_salt(struct store_stmt *st, int col,
    unsigned char salt[TOKEN_SALT_LEN])
{
	const void	*p;
	size_t		 len;

	memset(salt, 0, TOKEN_SALT_LEN);
	if ((p = store_column_blob(st, col, &len)) != NULL &&
	    len == TOKEN_SALT_LEN)
		memcpy(salt, p, TOKEN_SALT_LEN);
}

/* Fill from STORE_SUBSCRIBER_COLS at column col; strings are new. */
static void
store_subscriber_fill(struct store_stmt *st, int col,
    struct store_subscriber *sub)
{
	sub->id = store_column_int(st, col);
	sub->email = store_column_text(st, col + 1);
	sub->name = store_column_text(st, col + 2);
	sub->attrs = store_column_text(st, col + 3);
	sub->created_at = store_column_int(st, col + 4);
	/* A row without one (there should be none) makes no valid token. */
	store_subscriber_salt(st, col + 5, sub->token_salt);
	if (sub->email == NULL || sub->name == NULL || sub->attrs == NULL)
		fatalx("%s: NULL in subscriber %lld", __func__,
		    (long long)sub->id);
}

/* Fill from STORE_MEMBER_COLS at column col; strings are new. */
static void
store_member_fill(struct store_stmt *st, int col, struct store_member *m)
{
	const char	*status;

	m->subscriber_id = store_column_int(st, col);
	m->list = store_column_text(st, col + 1);
	status = store_column_peek(st, col + 2);
	if (status == NULL || store_member_status_parse(status,
	    &m->status) != 0)
		fatalx("%s: membership status %s", __func__,
		    status != NULL ? status : "NULL");
	m->mode = store_column_text(st, col + 3);
	m->consent_at = store_column_int(st, col + 4);
	m->consent_method = store_column_text(st, col + 5);
	m->consent_source = store_column_text(st, col + 6);
	m->confirmed_at = store_column_int(st, col + 7);
	m->unsubscribed_at = store_column_int(st, col + 8);
	m->created_at = store_column_int(st, col + 9);
	m->updated_at = store_column_int(st, col + 10);
}

/* --- subscribers -------------------------------------------------------- */

int
store_subscriber_get(struct store *s, const char *email,
    struct store_subscriber *sub, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause, "SELECT " STORE_SUBSCRIBER_COLS
	    " FROM subscribers s WHERE s.email = ?", "t", email);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_subscriber_fill(st, 0, sub);
	store_done(st);
	return rc;
}

int
store_subscriber_get_id(struct store *s, int64_t id,
    struct store_subscriber *sub, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	/* An id merged into another person's (store-merge.c) leads there. */
	st = store_query(s, cause, "SELECT " STORE_SUBSCRIBER_COLS
	    " FROM subscribers s WHERE s.id = coalesce((SELECT subscriber_id"
	    " FROM subscriber_merges WHERE merged_id = ?1), ?1)", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_subscriber_fill(st, 0, sub);
	store_done(st);
	return rc;
}

int
store_token_salt(void *arg, int64_t id, unsigned char salt[TOKEN_SALT_LEN],
    char **cause)
{
	struct store		*s = arg;
	struct store_stmt	*st;
	const void		*p;
	size_t			 len = 0;
	int			 rc;

	/* This id's own row: a merged id's salt went with it. */
	st = store_query(s, cause,
	    "SELECT token_salt FROM subscribers WHERE id = ?", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		if ((p = store_column_blob(st, 0, &len)) != NULL &&
		    len == TOKEN_SALT_LEN)
			memcpy(salt, p, TOKEN_SALT_LEN);
		else
			rc = 0;
	}
	store_done(st);
	return rc;
}

int
store_subscriber_add(struct store *s, const char *email, const char *name,
    const char *attrs, int64_t *id, char **cause)
{
	int64_t	now = (int64_t)time(NULL);
	int	n;

	/* With its search keys (schema version 11). */
	n = store_run(s, cause,
	    "INSERT INTO subscribers (email, name, attrs, created_at,"
	    " updated_at, token_salt, search_name, search_email)"
	    " VALUES (?1, nullif(?2, ''), coalesce(?3, '{}'), ?4, ?4,"
	    " randomblob(16), postroom_fold(coalesce(?2, '')),"
	    " postroom_fold(?1))"
	    " ON CONFLICT (email) DO NOTHING", "tttI", email, name,
	    attrs, now);
	if (n == -1)
		return -1;
	if (n == 1) {
		*id = store_last_insert_id(s);
		return 1;
	}
	if (store_query_int(s, id, cause,
	    "SELECT id FROM subscribers WHERE email = ?", "t", email) != 1) {
		if (cause != NULL && *cause == NULL)
			*cause = xprintf("%s: %s vanished", store_path(s),
			    email);
		return -1;
	}
	return 0;
}

int
store_subscriber_update(struct store *s, int64_t id, const char *name,
    const char *attrs, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "UPDATE subscribers SET"
	    " name = CASE WHEN ?2 IS NULL THEN name ELSE nullif(?2, '') END,"
	    " search_name = CASE WHEN ?2 IS NULL THEN search_name"
	    "  ELSE postroom_fold(?2) END,"
	    " search_email = CASE WHEN ?2 IS NULL THEN search_email"
	    "  ELSE postroom_fold(email) END,"
	    " attrs = coalesce(?3, attrs), updated_at = ?4"
	    " WHERE id = ?1 AND ((?2 IS NOT NULL AND coalesce(name, '') <> ?2)"
	    " OR (?3 IS NOT NULL AND attrs <> ?3))", "IttI", id, name, attrs,
	    (int64_t)time(NULL));
	if (n == -1)
		return -1;
	return n > 0;
}

/*
 * fn for each subscriber st's rows hold (STORE_SUBSCRIBER_COLS first),
 * until it returns non-zero; st is done after.  -1 on a database failure,
 * else what fn last returned.
 */
static int
store_subscriber_each(struct store *s, struct store_stmt *st,
    int (*fn)(const struct store_subscriber *, void *), void *arg,
    char **cause)
{
	struct store_subscriber	 sub;
	int			 rc, stop = 0;

	while ((rc = store_step(s, st, cause)) == 1) {
		memset(&sub, 0, sizeof sub);
		store_subscriber_fill(st, 0, &sub);
		stop = fn(&sub, arg);
		store_subscriber_clear(&sub);
		if (stop != 0)
			break;
	}
	store_done(st);
	return rc == -1 ? -1 : stop;
}

int
store_subscriber_find(struct store *s, const char *text,
    int (*fn)(const struct store_subscriber *, void *), void *arg,
    char **cause)
{
	struct store_stmt	*st;
	char			*folded;
	int			 rc;

	/*
	 * A scan of subscribers_search, the folded keys, without a function
	 * call per row; rows without keys (written by another program) are
	 * folded here (store-schema.c, version 11).  Substrings, so no
	 * index can seek: the keys' index is what is small to read.
	 */
	folded = utf8_fold(text, strlen(text));
	st = store_query(s, cause, "SELECT " STORE_SUBSCRIBER_COLS
	    " FROM subscribers s WHERE s.id IN"
	    " (SELECT id FROM subscribers"
	    " WHERE instr(search_name, ?1) > 0 OR instr(search_email, ?1) > 0"
	    " UNION ALL SELECT id FROM subscribers WHERE search_name IS NULL"
	    " AND (instr(postroom_fold(coalesce(name, '')), ?1) > 0"
	    " OR instr(postroom_fold(email), ?1) > 0))"
	    " ORDER BY s.id", "t", folded);
	/* Bound as it is (SQLITE_STATIC): freed once the rows are read. */
	rc = st == NULL ? -1 : store_subscriber_each(s, st, fn, arg, cause);
	free(folded);
	return rc;
}

int
store_subscriber_search_keys(struct store *s, int64_t max, int64_t *n,
    char **cause)
{
	int	rc;

	/* Keyless rows through subscribers_search (search_name IS NULL). */
	rc = store_run(s, cause, "UPDATE subscribers SET"
	    " search_name = postroom_fold(coalesce(name, '')),"
	    " search_email = postroom_fold(email)"
	    " WHERE id IN (SELECT id FROM subscribers"
	    " WHERE search_name IS NULL LIMIT ?1)", "I", max);
	*n = rc == -1 ? 0 : rc;
	return rc == -1 ? -1 : 0;
}

/* --- memberships -------------------------------------------------------- */

int
store_member_get(struct store *s, int64_t subscriber_id, const char *list,
    struct store_member *m, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause, "SELECT " STORE_MEMBER_COLS
	    " FROM memberships m WHERE m.subscriber_id = ? AND m.list = ?",
	    "It", subscriber_id, list);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_member_fill(st, 0, m);
	store_done(st);
	return rc;
}

static int
store_mode_ok(const char *mode)
{
	return strcmp(mode, "immediate") == 0 || strcmp(mode, "digest") == 0;
}

int
store_member_add(struct store *s, int64_t subscriber_id, const char *list,
    enum store_member_status status, const char *mode,
    const char *consent_method, const char *consent_source, char **cause)
{
	int64_t	now = (int64_t)time(NULL), when;
	int	n;

	if (status != STORE_MEMBER_PENDING && status != STORE_MEMBER_CONFIRMED)
		fatalx("%s: a new membership cannot be %s", __func__,
		    store_member_status_name(status));
	if (mode == NULL)
		mode = "immediate";
	if (!store_mode_ok(mode))
		fatalx("%s: bad mode %s", __func__, mode);
	when = status == STORE_MEMBER_CONFIRMED ? now : 0;
	n = store_run(s, cause,
	    "INSERT INTO memberships (subscriber_id, list, status, mode,"
	    " consent_at, consent_method, consent_source, confirmed_at,"
	    " created_at, updated_at)"
	    " VALUES (?1, ?2, ?3, ?4, nullif(?5, 0), ?6, nullif(?7, ''),"
	    " nullif(?5, 0), ?8, ?8)"
	    " ON CONFLICT (subscriber_id, list) DO NOTHING", "ItttIttI",
	    subscriber_id, list, store_member_status_name(status), mode, when,
	    consent_method, consent_source, now);
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_member_set_status(struct store *s, int64_t subscriber_id,
    const char *list, enum store_member_status status,
    const char *consent_method, const char *consent_source, char **cause)
{
	const char	*name = store_member_status_name(status);
	char		*detail;
	int		 n;

	n = store_run(s, cause,
	    "UPDATE memberships SET status = ?3, updated_at = ?4,"
	    " consent_at = CASE WHEN ?3 = 'confirmed' THEN ?4"
	    "  ELSE consent_at END,"
	    " consent_method = CASE WHEN ?3 = 'confirmed'"
	    "  THEN coalesce(?5, consent_method) ELSE consent_method END,"
	    " consent_source = CASE WHEN ?3 = 'confirmed'"
	    "  THEN coalesce(?6, consent_source) ELSE consent_source END,"
	    " confirmed_at = CASE WHEN ?3 = 'confirmed' THEN ?4"
	    "  ELSE confirmed_at END,"
	    " unsubscribed_at = CASE WHEN ?3 = 'unsubscribed' THEN ?4"
	    "  ELSE unsubscribed_at END"
	    " WHERE subscriber_id = ?1 AND list = ?2 AND status <> ?3",
	    "IttItt", subscriber_id, list, name, (int64_t)time(NULL),
	    consent_method, consent_source);
	if (n <= 0)
		return n;

	/*
	 * Leaving: a confirmation or a digest of this list still waiting to
	 * go must not go (their dedup keys name the list: "confirm:LIST:..."
	 * and "digest:LIST:...").  Campaign rows are looked at when claimed.
	 */
	if (status == STORE_MEMBER_UNSUBSCRIBED ||
	    status == STORE_MEMBER_BOUNCED) {
		detail = xprintf("%s from list %s", name, list);
		n = store_run(s, cause,
		    "UPDATE outbox SET state = 'skipped', updated_at = ?3,"
		    " last_reply = ?4"
		    " WHERE subscriber_id = ?1"
		    " AND state IN ('queued', 'deferred')"
		    " AND ((kind = 'confirm' AND substr(dedup_key, 1,"
		    " length(?2) + 9) = 'confirm:' || ?2 || ':')"
		    " OR (kind = 'digest' AND substr(dedup_key, 1,"
		    " length(?2) + 8) = 'digest:' || ?2 || ':'))", "ItIt",
		    subscriber_id, list, (int64_t)time(NULL), detail);
		free(detail);
		if (n == -1)
			return -1;
	}

	/* The audit log says who moved it where (best effort). */
	detail = xprintf("list %s%s%s%s%s", list,
	    consent_method != NULL ? " method " : "",
	    consent_method != NULL ? consent_method : "",
	    consent_source != NULL ? " source " : "",
	    consent_source != NULL ? consent_source : "");
	(void)store_run(s, NULL,
	    "INSERT INTO events (at, kind, subject, detail)"
	    " SELECT ?, 'member.' || ?, email, ? FROM subscribers WHERE id = ?",
	    "IttI", (int64_t)time(NULL), name, detail,
	    subscriber_id);
	free(detail);
	log_info("subscriber %lld on %s: now %s", (long long)subscriber_id,
	    list, name);
	return 1;
}

int
store_member_set_mode(struct store *s, int64_t subscriber_id,
    const char *list, const char *mode, char **cause)
{
	int	n;

	if (!store_mode_ok(mode))
		fatalx("%s: bad mode %s", __func__, mode);
	n = store_run(s, cause,
	    "UPDATE memberships SET mode = ?3, updated_at = ?4"
	    " WHERE subscriber_id = ?1 AND list = ?2 AND mode <> ?3",
	    "IttI", subscriber_id, list, mode, (int64_t)time(NULL));
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_members_each(struct store *s, const char *list, const char *mode,
    int64_t after_id, int (*fn)(const struct store_subscriber *, void *),
    void *arg, char **cause)
{
	struct store_stmt	*st;

	st = store_query(s, cause, "SELECT " STORE_SUBSCRIBER_COLS
	    " FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.list = ?1 AND m.status = 'confirmed'"
	    " AND (?2 IS NULL OR m.mode = ?2) AND m.subscriber_id > ?3"
	    " ORDER BY m.subscriber_id", "ttI", list, mode, after_id);
	if (st == NULL)
		return -1;
	return store_subscriber_each(s, st, fn, arg, cause);
}

int
store_members_count(struct store *s, const char *list, const char *mode,
    int64_t *n, char **cause)
{
	*n = 0;
	return store_query_int(s, n, cause,
	    "SELECT count(*) FROM memberships"
	    " WHERE list = ?1 AND status = 'confirmed'"
	    " AND (?2 IS NULL OR mode = ?2)", "tt", list, mode) == -1 ? -1 : 0;
}

/* A value a template would print: not null, not "". */
#define STORE_ATTR_HAS_VALUE \
	"j.type != 'null' AND NOT (j.type = 'text' AND j.atom = '')"

int
store_members_attr_keys(struct store *s, const char *list, char ***keys,
    size_t *n, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*keys = NULL;
	*n = 0;
	st = store_query(s, cause, "SELECT DISTINCT j.key"
	    " FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id,"
	    " json_each(s.attrs) j"
	    " WHERE m.list = ?1 AND m.status IN ('pending', 'confirmed')"
	    " AND " STORE_ATTR_HAS_VALUE
	    " ORDER BY j.key LIMIT ?2", "ti", list, STORE_ATTR_KEYS_MAX);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		*keys = xreallocarray(*keys, *n + 1, sizeof **keys);
		(*keys)[(*n)++] = store_column_text_or(st, 0, "");
	}
	store_done(st);
	if (rc == -1) {
		while (*n > 0)
			free((*keys)[--*n]);
		free(*keys);
		*keys = NULL;
		return -1;
	}
	return 0;
}

int
store_members_lacking(struct store *s, const char *list, const char *key,
    int64_t *lacking, int64_t *total, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	*lacking = *total = 0;
	st = store_query(s, cause, "SELECT count(*), coalesce(sum(CASE"
	    " WHEN ?2 IS NULL THEN coalesce(s.name, '') = ''"
	    " ELSE NOT EXISTS (SELECT 1 FROM json_each(s.attrs) j"
	    " WHERE lower(j.key) = lower(?2) AND " STORE_ATTR_HAS_VALUE ")"
	    " END), 0)"
	    " FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.list = ?1 AND m.status = 'confirmed'", "tt", list, key);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		*total = store_column_int(st, 0);
		*lacking = store_column_int(st, 1);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_member_walk(struct store *s, const char *list, unsigned int statuses,
    int (*fn)(const struct store_subscriber *, const struct store_member *,
    void *), void *arg, char **cause)
{
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct store_stmt	*st;
	int			 rc, stop = 0;

	st = store_query(s, cause, "SELECT " STORE_MEMBER_COLS ", "
	    STORE_SUBSCRIBER_COLS
	    " FROM memberships m JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.list = ?1 AND (?2 = 0 OR (?2 >> CASE m.status"
	    " WHEN 'pending' THEN 0 WHEN 'confirmed' THEN 1"
	    " WHEN 'unsubscribed' THEN 2 ELSE 3 END) & 1)"
	    " ORDER BY m.subscriber_id", "ti", list, (int)statuses);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		memset(&sub, 0, sizeof sub);
		memset(&m, 0, sizeof m);
		store_member_fill(st, 0, &m);
		store_subscriber_fill(st, STORE_MEMBER_NCOLS, &sub);
		stop = fn(&sub, &m, arg);
		store_subscriber_clear(&sub);
		store_member_clear(&m);
		if (stop != 0)
			break;
	}
	store_done(st);
	if (rc == -1)
		return -1;
	return stop;
}

int
store_member_walk_subscriber(struct store *s, int64_t subscriber_id,
    int (*fn)(const struct store_member *, void *), void *arg, char **cause)
{
	struct store_member	 m;
	struct store_stmt	*st;
	int			 rc, stop = 0;

	st = store_query(s, cause, "SELECT " STORE_MEMBER_COLS
	    " FROM memberships m WHERE m.subscriber_id = ? ORDER BY m.list",
	    "I", subscriber_id);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		memset(&m, 0, sizeof m);
		store_member_fill(st, 0, &m);
		stop = fn(&m, arg);
		store_member_clear(&m);
		if (stop != 0)
			break;
	}
	store_done(st);
	if (rc == -1)
		return -1;
	return stop;
}

/* --- suppression -------------------------------------------------------- */

int
store_subscriber_suppressed(struct store *s, const char *email,
    char **cause)
{
	const unsigned char	*key;
	char			 hash[65], legacy[65], given[65];
	int64_t			 one;

	if (store_forget_key(s, &key, cause) == -1)
		return -1;
	/*
	 * The keyed hash; and the legacy, unkeyed ones (token.h): of the
	 * address in lower case, and - for a list made by hand when
	 * token.h described the local part as kept - of the address as
	 * given.  A legacy row matches only a legacy hash.
	 */
	token_hash_address(key, email, hash);
	token_hash_address_legacy(email, legacy);
	token_hash_address_as_given(email, given);
	return store_query_int(s, &one, cause,
	    "SELECT 1 FROM suppressions WHERE (keyed = 1 AND hash = ?1)"
	    " OR (keyed = 0 AND hash IN (?2, ?3))", "ttt", hash, legacy,
	    given);
}

int
store_subscriber_suppress(struct store *s, const char *email,
    const char *reason, char **cause)
{
	const unsigned char	*key;
	char			 hash[65];
	int			 n;

	if (store_forget_key(s, &key, cause) == -1)
		return -1;
	token_hash_address(key, email, hash);
	n = store_run(s, cause,
	    "INSERT INTO suppressions (hash, reason, created_at, keyed)"
	    " VALUES (?, ?, ?, 1) ON CONFLICT (hash) DO NOTHING", "ttI", hash,
	    reason, (int64_t)time(NULL));
	if (n == -1)
		return -1;
	return n > 0;
}

int
store_subscriber_mailable(struct store *s, int64_t subscriber_id,
    const char *list, char **cause)
{
	struct store_stmt	*st;
	char			*email = NULL;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT s.email FROM memberships m"
	    " JOIN subscribers s ON s.id = m.subscriber_id"
	    " WHERE m.subscriber_id = ? AND m.list = ?"
	    " AND m.status = 'confirmed'", "It", subscriber_id, list);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		email = store_column_text(st, 0);
	store_done(st);
	if (rc != 1)
		return rc;
	rc = store_subscriber_suppressed(s, email, cause);
	free(email);
	if (rc == -1)
		return -1;
	return !rc;
}

/* --- erasure ------------------------------------------------------------ */

void
store_erasure_clear(struct store_erasure *x)
{
	size_t	i;

	for (i = 0; i < x->nenquiries; i++) {
		free(x->enquiries[i].reference);
		free(x->enquiries[i].source);
		free(x->enquiries[i].message_id);
		free(x->enquiries[i].lead);
	}
	free(x->enquiries);
	free(x->subscriber_ids);
	memset(x, 0, sizeof *x);
}

/* Step 1: who and what, before anything goes. */
static int
store_subscriber_erase_find(struct store *s, const char *email,
    const char *display, struct store_erasure *x, char **cause)
{
	struct store_erased_enquiry	*e;
	struct store_stmt		*st;
	int				 rc;

	st = store_query(s, cause,
	    "SELECT id FROM subscribers WHERE email = ? COLLATE NOCASE"
	    " ORDER BY id", "t", email);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		x->subscriber_ids = xreallocarray(x->subscriber_ids,
		    x->nsubscribers + 1, sizeof *x->subscriber_ids);
		x->subscriber_ids[x->nsubscribers++] = store_column_int(st, 0);
	}
	store_done(st);
	if (rc == -1)
		return -1;

	st = store_query(s, cause,
	    "SELECT e.id, e.reference, e.source, e.message_id, e.lead,"
	    " EXISTS (SELECT 1 FROM outbox o WHERE o.enquiry_id = e.id"
	    " AND o.kind = 'forward' AND o.state = 'sent')"
	    " FROM enquiries e WHERE e.sender = ?1 COLLATE NOCASE"
	    " OR e.sender = ?2 COLLATE NOCASE ORDER BY e.id", "tt", email,
	    display);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		x->enquiries = xreallocarray(x->enquiries, x->nenquiries + 1,
		    sizeof *x->enquiries);
		e = &x->enquiries[x->nenquiries++];
		e->id = store_column_int(st, 0);
		e->reference = store_column_text_or(st, 1, "");
		e->source = store_column_text_or(st, 2, "");
		e->message_id = store_column_text(st, 3);
		e->lead = store_column_text_or(st, 4, "");
		e->forwarded = store_column_int(st, 5) != 0;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

/* Steps 2-4: erase, counting what went.  0 or -1. */
static int
store_subscriber_erase_rows(struct store *s, const char *email,
    const char *display, int64_t now, struct store_erasure *x,
    char **cause)
{
	size_t	i;
	int	n;

	/* Step 2: the enquiries' forwards and acknowledgements. */
	for (i = 0; i < x->nenquiries; i++) {
		if ((n = store_run(s, cause, "DELETE FROM outbox WHERE"
		    " enquiry_id = ? AND kind = 'forward'", "I",
		    x->enquiries[i].id)) == -1)
			return -1;
		x->forwards += n;
		if ((n = store_run(s, cause, "DELETE FROM outbox WHERE"
		    " enquiry_id = ? AND kind = 'ack'", "I",
		    x->enquiries[i].id)) == -1)
			return -1;
		x->acks += n;
	}

	/*
	 * Step 3: their campaign rows stay, without the address or the
	 * server's reply, so that each campaign's counts still add up; one
	 * still waiting is skipped ("recipients forgotten when their turn
	 * comes are skipped and counted").  A row in flight is skipped too:
	 * the engine's write-back then finds it no longer sending.  Rows a
	 * merge (store-merge.c) left without a subscriber are found by
	 * address.
	 */
	if ((n = store_run(s, cause,
	    "UPDATE outbox SET subscriber_id = NULL, rcpt_to = '(forgotten)',"
	    " claimed_at = NULL, updated_at = ?3,"
	    " last_reply = CASE WHEN state IN ('queued', 'sending',"
	    " 'deferred') THEN 'forgotten' ELSE NULL END,"
	    " state = CASE WHEN state IN ('queued', 'sending', 'deferred')"
	    " THEN 'skipped' ELSE state END"
	    " WHERE kind = 'campaign' AND (subscriber_id IN (SELECT id FROM"
	    " subscribers WHERE email = ?1 COLLATE NOCASE)"
	    " OR rcpt_to = ?1 COLLATE NOCASE OR rcpt_to = ?2 COLLATE NOCASE)",
	    "ttI", email, display, now)) == -1)
		return -1;
	x->campaign_rows = n;

	/* Step 4: every other row that names them, by id or address. */
	if ((n = store_run(s, cause,
	    "DELETE FROM outbox WHERE subscriber_id IN (SELECT id FROM"
	    " subscribers WHERE email = ?1 COLLATE NOCASE)"
	    " OR rcpt_to = ?1 COLLATE NOCASE OR rcpt_to = ?2 COLLATE NOCASE",
	    "tt", email, display)) == -1)
		return -1;
	x->outbox = n;
	/* Lead summaries that went out naming them: the copies here. */
	if ((n = store_run(s, cause,
	    "DELETE FROM outbox WHERE kind = 'lead_digest'"
	    " AND state IN ('sent', 'failed', 'skipped')"
	    " AND body_id IN (SELECT id FROM outbox_bodies"
	    " WHERE instr(lower(CAST(body AS TEXT)), lower(?1)) > 0"
	    " OR instr(lower(CAST(body AS TEXT)), lower(?2)) > 0)", "tt",
	    email, display)) == -1)
		return -1;
	x->lead_digests = n;
	if ((n = store_run(s, cause,
	    "DELETE FROM bounces WHERE subscriber_id IN (SELECT id FROM"
	    " subscribers WHERE email = ?1 COLLATE NOCASE)"
	    " OR recipient = ?1 COLLATE NOCASE"
	    " OR recipient = ?2 COLLATE NOCASE", "tt", email,
	    display)) == -1)
		return -1;
	x->bounces = n;
	if ((n = store_run(s, cause,
	    "DELETE FROM memberships WHERE subscriber_id IN (SELECT id FROM"
	    " subscribers WHERE email = ? COLLATE NOCASE)", "t", email)) == -1)
		return -1;
	x->memberships = n;
	/* Digest items and merged ids go with them (ON DELETE CASCADE). */
	if (store_run(s, cause,
	    "DELETE FROM subscribers WHERE email = ? COLLATE NOCASE", "t",
	    email) == -1)
		return -1;
	if ((n = store_run(s, cause,
	    "DELETE FROM events WHERE instr(lower(coalesce(subject, '') ||"
	    " ' ' || coalesce(detail, '')), lower(?1)) > 0"
	    " OR instr(lower(coalesce(subject, '') || ' ' ||"
	    " coalesce(detail, '')), lower(?2)) > 0", "tt", email,
	    display)) == -1)
		return -1;
	x->events = n;
	/* Notes on their enquiries' re-routes: staff may name them there. */
	if (store_run(s, cause,
	    "UPDATE enquiry_routes SET note = NULL WHERE enquiry_id IN"
	    " (SELECT id FROM enquiries WHERE sender = ?1 COLLATE NOCASE"
	    " OR sender = ?2 COLLATE NOCASE)", "tt", email, display) == -1)
		return -1;
	/*
	 * The enquiries stay, for the leads' counts and so that the message
	 * is known again if it comes round, but nothing of the person:
	 * neither sender, name, subject, message nor the reasoning about
	 * its words.
	 */
	if (store_run(s, cause,
	    "UPDATE enquiries SET sender = NULL, sender_name = NULL,"
	    " subject = NULL, raw = NULL, raw_path = NULL,"
	    " reason = 'erased at the sender''s request',"
	    " ack = CASE WHEN instr(ack, '@') > 0 THEN 'erased' ELSE ack END"
	    " WHERE sender = ?1 COLLATE NOCASE OR sender = ?2 COLLATE NOCASE",
	    "tt", email, display) == -1)
		return -1;
	return 0;
}

int
store_subscriber_erase(struct store *s, const char *email, int flags,
    struct store_erasure *x, char **cause)
{
	int64_t	 now = (int64_t)time(NULL);
	char	*display = NULL, *detail;
	int	 own, rc;

	memset(x, 0, sizeof *x);
	own = !store_in_transaction(s);
	if (own && store_begin(s, cause) != 0)
		return -1;
	display = address_display(email);
	if (store_subscriber_erase_find(s, email, display, x, cause) == -1 ||
	    store_subscriber_erase_rows(s, email, display, now, x,
	    cause) == -1)
		goto fail;
	x->held = x->nsubscribers > 0 || x->nenquiries > 0 ||
	    x->campaign_rows > 0 || x->outbox > 0 || x->lead_digests > 0 ||
	    x->bounces > 0 || x->events > 0;

	/* Step 5: remember only the hash, and that it happened. */
	if ((rc = store_subscriber_suppressed(s, email, cause)) == -1)
		goto fail;
	x->was_suppressed = rc;
	if (!x->held && !(flags & STORE_ERASE_SUPPRESS_ANYWAY)) {
		/* Nothing changed: nobody is suppressed by a typing error. */
		if (own)
			store_rollback(s);
		free(display);
		return 0;
	}
	if ((rc = store_subscriber_suppress(s, email, "forgotten",
	    cause)) == -1)
		goto fail;
	x->suppressed = rc;
	detail = xprintf("%zu subscriber%s, %zu enquir%s erased",
	    x->nsubscribers, x->nsubscribers == 1 ? "" : "s", x->nenquiries,
	    x->nenquiries == 1 ? "y" : "ies");
	(void)store_run(s, NULL, "INSERT INTO events (at, kind, subject,"
	    " detail) VALUES (?, 'subscriber.forget', NULL, ?)", "It", now,
	    detail);
	free(detail);
	if (own && store_commit(s, cause) != 0)
		goto fail;
	free(display);
	return 0;

fail:
	if (own)
		store_rollback(s);
	free(display);
	store_erasure_clear(x);
	return -1;
}

int
store_subscriber_forget(struct store *s, const char *email, char **cause)
{
	struct store_erasure	x;
	int			rc;

	if (store_subscriber_erase(s, email, STORE_ERASE_SUPPRESS_ANYWAY, &x,
	    cause) == -1)
		return -1;
	rc = x.nsubscribers > 0;
	store_erasure_clear(&x);
	return rc;
}

/* --- access request ----------------------------------------------------- */

/* A column as a string value, or null. */
static struct value *
store_subscriber_col(struct store_stmt *st, int col)
{
	const char	*t;

	if (store_column_is_null(st, col) ||
	    (t = store_column_peek(st, col)) == NULL)
		return value_new_null();
	return value_new_string(t);
}

static struct value *
store_subscriber_colint(struct store_stmt *st, int col)
{
	if (store_column_is_null(st, col))
		return value_new_null();
	return value_new_int((long long)store_column_int(st, col));
}

/* How store_subscriber_rows() shows one column of an access request. */
enum store_subscriber_kind {
	STORE_SUBSCRIBER_TEXT,	/* string, or null */
	STORE_SUBSCRIBER_INT,	/* number, or null */
	STORE_SUBSCRIBER_TIME,	/* ISO 8601, or null for 0 */
	STORE_SUBSCRIBER_BOOL,	/* true when not 0 */
};

struct store_subscriber_field {
	const char			*name;
	enum store_subscriber_kind	 kind;
};

/*
 * Append to list one object per row of st, field i from column i, and
 * finish st: 0, or -1 with *cause.
 */
static int
store_subscriber_rows(struct store *s, struct store_stmt *st,
    const struct store_subscriber_field *fields, struct value *list,
    char **cause)
{
	struct value	*o, *v;
	size_t		 i;
	int		 rc, col;

	while ((rc = store_step(s, st, cause)) == 1) {
		o = value_new_object();
		for (i = 0; fields[i].name != NULL; i++) {
			col = (int)i;
			switch (fields[i].kind) {
			case STORE_SUBSCRIBER_TEXT:
				v = store_subscriber_col(st, col);
				break;
			case STORE_SUBSCRIBER_INT:
				v = store_subscriber_colint(st, col);
				break;
			case STORE_SUBSCRIBER_TIME:
				v = value_new_time(
				    store_column_int(st, col));
				break;
			case STORE_SUBSCRIBER_BOOL:
				v = value_new_bool(
				    store_column_int(st, col) != 0);
				break;
			default:
				fatalx("%s: bad field kind %d", __func__,
				    (int)fields[i].kind);
			}
			value_object_set(o, fields[i].name, v);
		}
		value_list_append(list, o);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

struct value *
store_subscriber_attrs_value(const char *attrs)
{
	struct value	*v;

	if ((v = json_parse(attrs, strlen(attrs), NULL)) == NULL ||
	    value_get_type(v) != VALUE_OBJECT) {
		value_free(v);
		return value_new_object();
	}
	return v;
}

struct value *
store_member_value(const struct store_member *m, int with_updated)
{
	struct value	*o, *c;

	o = value_new_object();
	value_object_set(o, "list", value_new_string(m->list));
	value_object_set(o, "status", value_new_string(
	    store_member_status_name(m->status)));
	value_object_set(o, "mode", value_new_string(m->mode));
	c = value_new_object();
	value_object_set(c, "at", value_new_time(m->consent_at));
	value_object_set(c, "method", *m->consent_method != '\0' ?
	    value_new_string(m->consent_method) : value_new_null());
	value_object_set(c, "source", *m->consent_source != '\0' ?
	    value_new_string(m->consent_source) : value_new_null());
	value_object_set(o, "consent", c);
	value_object_set(o, "confirmed_at", value_new_time(m->confirmed_at));
	value_object_set(o, "unsubscribed_at",
	    value_new_time(m->unsubscribed_at));
	value_object_set(o, "created_at", value_new_time(m->created_at));
	if (with_updated)
		value_object_set(o, "updated_at",
		    value_new_time(m->updated_at));
	return o;
}

static int
store_subscriber_person_member(const struct store_member *m, void *arg)
{
	value_list_append(arg, store_member_value(m, 1));
	return 0;
}

/*
 * What an access request shows of each table: field i is column i; a
 * NULL name ends the list.
 */
static const struct store_subscriber_field store_subscriber_outbox[] = {
	{ "id", STORE_SUBSCRIBER_INT },
	{ "kind", STORE_SUBSCRIBER_TEXT },
	{ "state", STORE_SUBSCRIBER_TEXT },
	{ "campaign_id", STORE_SUBSCRIBER_INT },
	{ "attempts", STORE_SUBSCRIBER_INT },
	{ "last_code", STORE_SUBSCRIBER_INT },
	{ "created_at", STORE_SUBSCRIBER_TIME },
	{ "sent_at", STORE_SUBSCRIBER_TIME },
	{ NULL, 0 },
};
static const struct store_subscriber_field store_subscriber_bounces[] = {
	{ "kind", STORE_SUBSCRIBER_TEXT },
	{ "status", STORE_SUBSCRIBER_TEXT },
	{ "diagnostic", STORE_SUBSCRIBER_TEXT },
	{ "received_at", STORE_SUBSCRIBER_TIME },
	{ NULL, 0 },
};
static const struct store_subscriber_field store_subscriber_unsubscribes[] = {
	{ "outcome", STORE_SUBSCRIBER_TEXT },
	{ "list", STORE_SUBSCRIBER_TEXT },
	{ "campaign_id", STORE_SUBSCRIBER_INT },
	{ "source", STORE_SUBSCRIBER_TEXT },
	{ "received_at", STORE_SUBSCRIBER_TIME },
	{ NULL, 0 },
};
static const struct store_subscriber_field store_subscriber_enquiries[] = {
	{ "reference", STORE_SUBSCRIBER_TEXT },
	{ "received_at", STORE_SUBSCRIBER_TIME },
	{ "sender_name", STORE_SUBSCRIBER_TEXT },
	{ "subject", STORE_SUBSCRIBER_TEXT },
	{ "lead", STORE_SUBSCRIBER_TEXT },
	{ "reason", STORE_SUBSCRIBER_TEXT },
	{ "message_kept", STORE_SUBSCRIBER_BOOL },
	{ NULL, 0 },
};
static const struct store_subscriber_field store_subscriber_events[] = {
	{ "at", STORE_SUBSCRIBER_TIME },
	{ "kind", STORE_SUBSCRIBER_TEXT },
	{ "subject", STORE_SUBSCRIBER_TEXT },
	{ "detail", STORE_SUBSCRIBER_TEXT },
	{ NULL, 0 },
};

struct value *
store_subscriber_person(struct store *s, const char *email, char **cause)
{
	struct store_subscriber	 sub;
	struct store_stmt	*st;
	struct value		*person, *o, *list, *attrs;
	char			*display;
	int			 rc, found;

	memset(&sub, 0, sizeof sub);
	display = address_display(email);
	person = value_new_object();
	value_object_set(person, "email", value_new_string(email));
	if (strcmp(display, email) != 0)
		value_object_set(person, "email_display",
		    value_new_string(display));

	/* Step 1: the subscriber and memberships. */
	if ((found = store_subscriber_get(s, email, &sub, cause)) == -1)
		goto fail;
	if (!found) {
		st = store_query(s, cause, "SELECT " STORE_SUBSCRIBER_COLS
		    " FROM subscribers s WHERE s.email = ? COLLATE NOCASE"
		    " ORDER BY s.id", "t", email);
		if (st == NULL)
			goto fail;
		if ((found = store_step(s, st, cause)) == 1)
			store_subscriber_fill(st, 0, &sub);
		store_done(st);
		if (found == -1)
			goto fail;
	}
	if (found) {
		o = value_new_object();
		value_object_set(o, "id", value_new_int((long long)sub.id));
		value_object_set(o, "email", value_new_string(sub.email));
		value_object_set(o, "name", *sub.name != '\0' ?
		    value_new_string(sub.name) : value_new_null());
		if ((attrs = json_parse(sub.attrs, strlen(sub.attrs),
		    NULL)) == NULL)
			attrs = value_new_string(sub.attrs);
		value_object_set(o, "attrs", attrs);
		value_object_set(o, "created_at",
		    value_new_time(sub.created_at));
		value_object_set(person, "subscriber", o);
	} else
		value_object_set(person, "subscriber", value_new_null());
	list = value_new_list();
	value_object_set(person, "memberships", list);
	if (found && store_member_walk_subscriber(s, sub.id,
	    store_subscriber_person_member, list, cause) == -1)
		goto fail;

	/* Step 2: messages queued or sent to them (not the bodies). */
	list = value_new_list();
	value_object_set(person, "outbox", list);
	st = store_query(s, cause,
	    "SELECT id, kind, state, campaign_id, attempts, last_code,"
	    " created_at, sent_at FROM outbox"
	    " WHERE subscriber_id = ?1 OR rcpt_to = ?2 COLLATE NOCASE"
	    " OR rcpt_to = ?3 COLLATE NOCASE ORDER BY id", "Itt",
	    found ? sub.id : (int64_t)-1, email, display);
	if (st == NULL || store_subscriber_rows(s, st, store_subscriber_outbox,
	    list, cause) == -1)
		goto fail;

	/* Step 3: bounces. */
	list = value_new_list();
	value_object_set(person, "bounces", list);
	st = store_query(s, cause,
	    "SELECT kind, status, diagnostic, received_at FROM bounces"
	    " WHERE subscriber_id = ?1 OR recipient = ?2 COLLATE NOCASE"
	    " OR recipient = ?3 COLLATE NOCASE ORDER BY id", "Itt",
	    found ? sub.id : (int64_t)-1, email, display);
	if (st == NULL || store_subscriber_rows(s, st, store_subscriber_bounces,
	    list, cause) == -1)
		goto fail;
	/* ... and their unsubscribe requests by mail (unsubscribe.h). */
	list = value_new_list();
	value_object_set(person, "unsubscribe_requests", list);
	st = store_query(s, cause,
	    "SELECT outcome, list, campaign_id, source, received_at"
	    " FROM mail_unsubscribes WHERE subscriber_id = ? ORDER BY id", "I",
	    found ? sub.id : (int64_t)-1);
	if (st == NULL || store_subscriber_rows(s, st,
	    store_subscriber_unsubscribes, list, cause) == -1)
		goto fail;

	/* Step 4: enquiries they sent (the record, not the raw message). */
	list = value_new_list();
	value_object_set(person, "enquiries", list);
	st = store_query(s, cause,
	    "SELECT reference, received_at, sender_name, subject, lead,"
	    " reason, raw IS NOT NULL OR raw_path IS NOT NULL FROM enquiries"
	    " WHERE sender = ?1 COLLATE NOCASE OR sender = ?2 COLLATE NOCASE"
	    " ORDER BY id", "tt", email, display);
	if (st == NULL || store_subscriber_rows(s, st,
	    store_subscriber_enquiries, list, cause) == -1)
		goto fail;

	/* Step 5: the audit log. */
	list = value_new_list();
	value_object_set(person, "events", list);
	st = store_query(s, cause,
	    "SELECT at, kind, subject, detail FROM events"
	    " WHERE instr(lower(coalesce(subject, '') || ' ' ||"
	    " coalesce(detail, '')), lower(?1)) > 0"
	    " OR instr(lower(coalesce(subject, '') || ' ' ||"
	    " coalesce(detail, '')), lower(?2)) > 0 ORDER BY id", "tt", email,
	    display);
	if (st == NULL || store_subscriber_rows(s, st, store_subscriber_events,
	    list, cause) == -1)
		goto fail;

	/* Step 6: whether the address is suppressed. */
	if ((rc = store_subscriber_suppressed(s, email, cause)) == -1)
		goto fail;
	value_object_set(person, "suppressed", value_new_bool(rc));

	store_subscriber_clear(&sub);
	free(display);
	return person;

fail:
	store_subscriber_clear(&sub);
	free(display);
	value_free(person);
	return NULL;
}

int
store_members_purge_pending(struct store *s, int64_t before,
    int64_t *memberships, int64_t *people, char **cause)
{
	int64_t	n;

	*memberships = *people = 0;
	if (store_begin(s, cause) == -1)
		return -1;
	if (store_run(s, cause, "CREATE TEMP TABLE purge_pending AS SELECT"
	    " DISTINCT subscriber_id AS id FROM memberships WHERE status ="
	    " 'pending' AND created_at < ?1", "I", before) == -1)
		goto fail;
	/* Their confirmation emails not yet sent: never send them now. */
	if (store_run(s, cause, "DELETE FROM outbox WHERE kind = 'confirm'"
	    " AND state IN ('queued', 'deferred') AND subscriber_id IN"
	    " (SELECT id FROM purge_pending)", "") == -1)
		goto fail;
	if ((n = store_run(s, cause, "DELETE FROM memberships WHERE status ="
	    " 'pending' AND created_at < ?1", "I", before)) == -1)
		goto fail;
	*memberships = n;
	/* Only those this purge left on no list. */
	if ((n = store_run(s, cause, "DELETE FROM subscribers WHERE id IN"
	    " (SELECT id FROM purge_pending) AND NOT EXISTS (SELECT 1 FROM"
	    " memberships m WHERE m.subscriber_id = subscribers.id)",
	    "")) == -1)
		goto fail;
	*people = n;
	if (store_run(s, cause, "DROP TABLE temp.purge_pending", "") == -1)
		goto fail;
	if (store_commit(s, cause) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return -1;
}
