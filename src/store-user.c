/*
 * store-user.c - staff accounts (the users table) and reading the audit
 * log (events) back.
 *
 * Owns: the SQL of users and of reading events.  Does not own: what a
 * role may do or how a password is hashed (user.c), who may change an
 * account (cmd-user.c, the console), the connection (store.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "store-int.h"

#define STORE_USER_COLUMNS \
	"id, email, name, role, coalesce(lead, ''), password_hash," \
	" totp_secret IS NOT NULL, disabled, created_at, updated_at," \
	" password_at"

void
store_user_clear(struct store_user *u)
{
	free(u->email);
	free(u->name);
	free(u->role);
	free(u->lead);
	free(u->password_hash);
	memset(u, 0, sizeof *u);
}

static void
store_user_read(struct store_stmt *st, struct store_user *u)
{
	u->id = store_column_int(st, 0);
	u->email = store_column_text(st, 1);
	u->name = store_column_text(st, 2);
	u->role = store_column_text(st, 3);
	u->lead = store_column_text(st, 4);
	u->password_hash = store_column_text(st, 5);
	u->has_totp = store_column_int(st, 6) != 0;
	u->disabled = store_column_int(st, 7) != 0;
	u->created_at = store_column_int(st, 8);
	u->updated_at = store_column_int(st, 9);
	u->password_at = store_column_int(st, 10);
}

int
store_user_add(struct store *s, const struct store_user *u, int64_t now,
    int64_t *id, char **cause)
{
	int	n;

	n = store_run(s, cause,
	    "INSERT INTO users (email, name, role, lead, password_hash,"
	    " created_at, updated_at, password_at)"
	    " VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6, ?6, ?6)"
	    " ON CONFLICT (email) DO NOTHING", "tttttI",
	    u->email, u->name, u->role, u->lead != NULL ? u->lead : "",
	    u->password_hash, now);
	if (n == -1)
		return -1;
	if (n == 0)
		return 0;
	*id = store_last_insert_id(s);
	return 1;
}

/* The one row st selects (NULL: the query failed) into u: 1, 0, -1. */
static int
store_user_one(struct store *s, struct store_stmt *st, struct store_user *u,
    char **cause)
{
	int	rc;

	memset(u, 0, sizeof *u);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		store_user_read(st, u);
	store_done(st);
	return rc;
}

int
store_user_get(struct store *s, const char *email, struct store_user *u,
    char **cause)
{
	return store_user_one(s, store_query(s, cause, "SELECT "
	    STORE_USER_COLUMNS " FROM users WHERE email = ?", "t", email), u,
	    cause);
}

int
store_user_get_id(struct store *s, int64_t id, struct store_user *u,
    char **cause)
{
	return store_user_one(s, store_query(s, cause, "SELECT "
	    STORE_USER_COLUMNS " FROM users WHERE id = ?", "I", id), u,
	    cause);
}

int
store_user_each(struct store *s,
    int (*fn)(const struct store_user *, void *), void *arg, char **cause)
{
	struct store_stmt	*st;
	struct store_user	 u;
	int			 rc;

	st = store_query(s, cause, "SELECT " STORE_USER_COLUMNS
	    " FROM users ORDER BY email", "");
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		store_user_read(st, &u);
		rc = fn(&u, arg);
		store_user_clear(&u);
		if (rc == -1)
			break;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_user_set_role(struct store *s, int64_t id, const char *role,
    const char *lead, int64_t now, char **cause)
{
	return store_run(s, cause, "UPDATE users SET role = ?,"
	    " lead = NULLIF(?, ''), updated_at = ? WHERE id = ?", "ttII",
	    role, lead != NULL ? lead : "", now, id);
}

int
store_user_set_disabled(struct store *s, int64_t id, int disabled,
    int64_t now, char **cause)
{
	return store_run(s, cause, "UPDATE users SET disabled = ?,"
	    " updated_at = ? WHERE id = ? AND disabled <> ?1", "iII",
	    disabled != 0, now, id);
}

int
store_user_set_password(struct store *s, int64_t id, const char *hash,
    int64_t now, char **cause)
{
	return store_run(s, cause, "UPDATE users SET password_hash = ?,"
	    " password_at = ?2, updated_at = ?2 WHERE id = ?", "tII",
	    hash, now, id);
}

int
store_user_totp_get(struct store *s, int64_t id, unsigned char *key,
    size_t *len, int64_t *last_step, char **cause)
{
	struct store_stmt	*st;
	const void		*blob;
	int			 rc;

	*len = 0;
	*last_step = 0;
	st = store_query(s, cause, "SELECT totp_secret, totp_last_step"
	    " FROM users WHERE id = ? AND totp_secret IS NOT NULL", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		blob = store_column_blob(st, 0, len);
		if (*len > 64)
			*len = 64;
		memcpy(key, blob, *len);
		*last_step = store_column_int(st, 1);
	}
	store_done(st);
	return rc;
}

int
store_user_set_totp(struct store *s, int64_t id, const void *key, size_t len,
    int64_t now, char **cause)
{
	if (key == NULL)
		return store_run(s, cause, "UPDATE users SET totp_secret = NULL,"
		    " totp_last_step = 0, updated_at = ? WHERE id = ?", "II",
		    now, id);
	return store_run(s, cause, "UPDATE users SET totp_secret = ?,"
	    " totp_last_step = 0, updated_at = ? WHERE id = ?", "bII",
	    key, len, now, id);
}

int
store_user_totp_use(struct store *s, int64_t id, int64_t step, char **cause)
{
	return store_run(s, cause, "UPDATE users SET totp_last_step = ?2"
	    " WHERE id = ?1 AND totp_last_step < ?2", "II", id, step);
}

int
store_session_add(struct store *s, const char *hash, int64_t user_id,
    int64_t now, char **cause)
{
	return store_run(s, cause, "INSERT INTO sessions (hash, user_id,"
	    " created_at, seen_at, signed_in_at) VALUES (?1, ?2, ?3, ?3, ?3)",
	    "tII", hash, user_id, now) == -1 ? -1 : 0;
}

int
store_session_get(struct store *s, const char *hash,
    struct store_session *ss, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	memset(ss, 0, sizeof *ss);
	st = store_query(s, cause, "SELECT x.id, x.user_id, x.created_at,"
	    " x.seen_at, x.signed_in_at FROM sessions x JOIN users u"
	    " ON u.id = x.user_id WHERE x.hash = ? AND u.disabled = 0", "t",
	    hash);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		ss->id = store_column_int(st, 0);
		ss->user_id = store_column_int(st, 1);
		ss->created_at = store_column_int(st, 2);
		ss->seen_at = store_column_int(st, 3);
		ss->signed_in_at = store_column_int(st, 4);
	}
	store_done(st);
	return rc;
}

int
store_session_seen(struct store *s, int64_t id, int64_t now, char **cause)
{
	return store_run(s, cause, "UPDATE sessions SET seen_at = ?"
	    " WHERE id = ?", "II", now, id);
}

int
store_session_delete(struct store *s, const char *hash, char **cause)
{
	return store_run(s, cause, "DELETE FROM sessions WHERE hash = ?", "t",
	    hash);
}

int
store_session_delete_user(struct store *s, int64_t user_id, char **cause)
{
	return store_run(s, cause, "DELETE FROM sessions WHERE user_id = ?",
	    "I", user_id);
}

int
store_session_prune(struct store *s, int64_t idle_before,
    int64_t begun_before, char **cause)
{
	return store_run(s, cause, "DELETE FROM sessions WHERE seen_at < ?"
	    " OR created_at < ?", "II", idle_before, begun_before);
}

int
store_event_by(struct store *s, const char *actor, const char *kind,
    const char *subject, const char *detail)
{
	char	*cause = NULL;

	if (store_run(s, &cause,
	    "INSERT INTO events (at, actor, kind, subject, detail)"
	    " VALUES (?, ?, ?, ?, ?)", "Itttt",
	    (int64_t)time(NULL), actor, kind, subject, detail) == -1) {
		free(cause);
		return store_event(s, kind, subject, detail);
	}
	return 0;
}

int
store_events_each(struct store *s, int64_t since,
    int (*fn)(const struct store_event_row *, void *), void *arg,
    char **cause)
{
	struct store_stmt	*st;
	struct store_event_row	 e;
	int			 rc;

	st = store_query(s, cause, "SELECT id, at, coalesce(actor, ''), kind,"
	    " coalesce(subject, ''), coalesce(detail, '') FROM events"
	    " WHERE at >= ? ORDER BY at, id", "I", since);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		e.id = store_column_int(st, 0);
		e.at = store_column_int(st, 1);
		e.actor = store_column_peek(st, 2);
		e.kind = store_column_peek(st, 3);
		e.subject = store_column_peek(st, 4);
		e.detail = store_column_peek(st, 5);
		if (fn(&e, arg) == -1) {
			rc = -1;
			break;
		}
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}
