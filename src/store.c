/*
 * store.c - the state store: one SQLite database, its schema and its SQL.
 *
 * Owns: the only #include <sqlite3.h> in postroom; opening a database
 * (WAL, foreign keys, busy timeout, checks that it is ours); running the
 * schema's migrations (the steps are store-schema.c's); the helpers every
 * SQL statement runs through; a cache of prepared statements per
 * connection; where the forget key of the
 * suppression hashes is kept (beside the database: store_forget_key()).
 * Does not own: what the rows mean (campaign.c, route.c, the delivery
 * engine decide that), time (callers pass "now" where it matters), or
 * hashing addresses for suppression (token.c).
 *
 * Adding a query: write a function here named store_THING_VERB that uses
 * the helpers below - store_run() for statements without rows,
 * store_query() / store_step() / store_done() for rows, store_query_int()
 * for one number.  SQL text handed to them must be a fixed string: the
 * prepared statement is cached under that text for the connection's life.
 * A cached statement is not re-entrant: do not run the same SQL text again
 * while still stepping through its rows.
 *
 * Changing the schema: never edit a released migration.  Append a step to
 * store_migrations[] in store-schema.c (SQL, and a C function when SQL
 * alone will not do);
 * it runs inside one transaction together with the
 * user_version bump, with foreign keys off (as the "12 steps" of SQLite's
 * ALTER TABLE page do: dropping a rebuilt parent table must not fire its
 * children's ON DELETE actions) and PRAGMA foreign_key_check before the
 * commit.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "store-int.h"
#include "token.h"
#include "utf8.h"
#include "xmalloc.h"

/* "PSTR": PRAGMA application_id of a postroom database. */
#define STORE_APPLICATION_ID	0x50535452

struct store {
	sqlite3		 *db;
	char		 *path;
	int		  version;
	int		  busy;		/* last failure: locked */
	sqlite3_stmt	**cache;	/* prepared statements */
	size_t		  ncache;
	int		  have_forget_key;
	unsigned char	  forget_key[TOKEN_KEY_LEN];	/* store_forget_key() */
	char		  actor[64];	/* store_set_actor(); "": none */
};

/* What the last failed store_open() on this thread failed on. */
static _Thread_local int store_open_busy;
static _Thread_local int store_open_readonly;	/* it could only read */

#define STORE_LATEST	store_schema_latest

static const char *const store_outbox_states[] = {
	[STORE_OUTBOX_QUEUED] = "queued",
	[STORE_OUTBOX_SENDING] = "sending",
	[STORE_OUTBOX_SENT] = "sent",
	[STORE_OUTBOX_DEFERRED] = "deferred",
	[STORE_OUTBOX_FAILED] = "failed",
	[STORE_OUTBOX_SKIPPED] = "skipped",
};

static const char *const store_outbox_kinds[] = {
	[STORE_OUTBOX_CAMPAIGN] = "campaign",
	[STORE_OUTBOX_FORWARD] = "forward",
	[STORE_OUTBOX_ACK] = "ack",
	[STORE_OUTBOX_CONFIRM] = "confirm",
	[STORE_OUTBOX_DIGEST] = "digest",
	[STORE_OUTBOX_TEST] = "test",
	[STORE_OUTBOX_LEAD_DIGEST] = "lead_digest",
};

/* --- names ------------------------------------------------------------ */

/* The index of name in names[0..n), or -1. */
int
store_name_index(const char *const *names, int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (strcmp(name, names[i]) == 0)
			return i;
	}
	return -1;
}

const char *
store_outbox_state_name(enum store_outbox_state st)
{
	if ((unsigned)st >= STORE_OUTBOX_NSTATES)
		fatalx("%s: bad outbox state %d", __func__, (int)st);
	return store_outbox_states[st];
}

int
store_outbox_state_parse(const char *name, enum store_outbox_state *st)
{
	int	i;

	if ((i = store_name_index(store_outbox_states, STORE_OUTBOX_NSTATES,
	    name)) == -1)
		return -1;
	*st = i;
	return 0;
}

const char *
store_outbox_kind_name(enum store_outbox_kind kind)
{
	if ((unsigned)kind >= STORE_OUTBOX_NKINDS)
		fatalx("%s: bad outbox kind %d", __func__, (int)kind);
	return store_outbox_kinds[kind];
}

int
store_outbox_kind_parse(const char *name, enum store_outbox_kind *kind)
{
	int	i;

	if ((i = store_name_index(store_outbox_kinds, STORE_OUTBOX_NKINDS,
	    name)) == -1)
		return -1;
	*kind = i;
	return 0;
}

/* --- helpers: errors, statements, binding ----------------------------- */

/*
 * A failure that passes when the condition does: another process holds a
 * lock, or the disk is full, read-only or failing.  (The CLI exits 75.)
 */
static int
store_rc_busy(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_FULL ||
	    rc == SQLITE_READONLY || rc == SQLITE_IOERR;
}

/*
 * Record a failure: "PATH: what: SQLite's message" (or without "what: ").
 * rc is the result code that failed; it decides store_busy().
 */
static void
store_fail(struct store *s, char **cause, int rc, const char *what)
{
	const char	*msg;

	s->busy = store_rc_busy(rc);
	if (cause == NULL)
		return;
	msg = sqlite3_errmsg(s->db);
	if ((rc & 0xff) == SQLITE_NOTADB)
		msg = "not an SQLite database";
	if (what != NULL)
		*cause = xprintf("%s: %s: %s", s->path, what, msg);
	else
		*cause = xprintf("%s: %s", s->path, msg);
}

/*
 * The prepared statement for sql, from this connection's cache or newly
 * prepared and cached.  Hand it back with store_done().
 */
static sqlite3_stmt *
store_prepare(struct store *s, const char *sql, char **cause)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc;

	for (i = 0; i < s->ncache; i++) {
		if (strcmp(sqlite3_sql(s->cache[i]), sql) == 0)
			return s->cache[i];
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL);
	if (rc != SQLITE_OK) {
		store_fail(s, cause, rc, NULL);
		return NULL;
	}
	if (st == NULL)
		fatalx("%s: empty SQL statement", __func__);
	s->cache = xreallocarray(s->cache, s->ncache + 1, sizeof *s->cache);
	s->cache[s->ncache++] = st;
	return st;
}

/*
 * Finish with a statement: reset it (ending its read of the database, so
 * that WAL checkpoints are not held back) and drop its bindings (which
 * point at the caller's memory).
 */
void
store_done(struct store_stmt *sst)
{
	sqlite3_stmt	*st = (sqlite3_stmt *)sst;

	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Bind the arguments, one letter of fmt each:
 *	i	int
 *	I	int64_t
 *	d	double
 *	t	const char *		(NULL binds NULL)
 *	b	const void *, size_t	(NULL binds NULL)
 *	n	(no argument)		NULL
 * Text and blobs are not copied: they must live until store_done().
 */
static int
store_bindv(struct store *s, sqlite3_stmt *st, const char *fmt, va_list ap,
    char **cause)
{
	const char	*t;
	const void	*b;
	size_t		 len;
	int		 i, rc;

	if ((size_t)sqlite3_bind_parameter_count(st) != strlen(fmt))
		fatalx("%s: %zu arguments for %d parameters in \"%s\"",
		    __func__, strlen(fmt), sqlite3_bind_parameter_count(st),
		    sqlite3_sql(st));
	for (i = 1; *fmt != '\0'; fmt++, i++) {
		switch (*fmt) {
		case 'i':
			rc = sqlite3_bind_int(st, i, va_arg(ap, int));
			break;
		case 'I':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 'd':
			rc = sqlite3_bind_double(st, i, va_arg(ap, double));
			break;
		case 't':
			if ((t = va_arg(ap, const char *)) == NULL)
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_text(st, i, t, -1,
				    SQLITE_STATIC);
			break;
		case 'b':
			b = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			if (b == NULL)
				rc = sqlite3_bind_null(st, i);
			else
				rc = sqlite3_bind_blob64(st, i, b, len,
				    SQLITE_STATIC);
			break;
		case 'n':
			rc = sqlite3_bind_null(st, i);
			break;
		default:
			fatalx("%s: bad format letter '%c'", __func__, *fmt);
		}
		if (rc != SQLITE_OK) {
			store_fail(s, cause, rc, "binding a parameter");
			return -1;
		}
	}
	return 0;
}

/* Prepare and bind a statement that returns rows; step it with store_step. */
struct store_stmt *
store_query(struct store *s, char **cause, const char *sql,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	if ((st = store_prepare(s, sql, cause)) == NULL)
		return NULL;
	va_start(ap, fmt);
	rc = store_bindv(s, st, fmt, ap, cause);
	va_end(ap);
	if (rc != 0) {
		store_done((struct store_stmt *)st);
		return NULL;
	}
	return (struct store_stmt *)st;
}

/* 1 for a row, 0 when done, -1 on error.  Call store_done() after. */
int
store_step(struct store *s, struct store_stmt *sst, char **cause)
{
	sqlite3_stmt	*st = (sqlite3_stmt *)sst;
	int		 rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_fail(s, cause, rc, NULL);
	return -1;
}

/*
 * Run a statement to completion, ignoring any rows.  Returns the number of
 * rows it changed, or -1.
 */
int
store_run(struct store *s, char **cause, const char *sql, const char *fmt,
    ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	if ((st = store_prepare(s, sql, cause)) == NULL)
		return -1;
	va_start(ap, fmt);
	rc = store_bindv(s, st, fmt, ap, cause);
	va_end(ap);
	if (rc == 0) {
		while ((rc = store_step(s, (struct store_stmt *)st,
		    cause)) == 1)
			;
	}
	store_done((struct store_stmt *)st);
	if (rc != 0)
		return -1;
	return sqlite3_changes(s->db);
}

/*
 * One integer: the first column of the first row.  1 with *value set, 0
 * when there is no row (or it is NULL), -1 on error.
 */
int
store_query_int(struct store *s, int64_t *value, char **cause,
    const char *sql, const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 rc;

	if ((st = store_prepare(s, sql, cause)) == NULL)
		return -1;
	va_start(ap, fmt);
	rc = store_bindv(s, st, fmt, ap, cause);
	va_end(ap);
	if (rc == 0 && (rc = store_step(s, (struct store_stmt *)st,
	    cause)) == 1) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			rc = 0;
		else
			*value = sqlite3_column_int64(st, 0);
	}
	store_done((struct store_stmt *)st);
	return rc;
}

/* Collect the first column of st's rows; see store-int.h. */
int
store_step_ids(struct store *s, struct store_stmt *st, int64_t *ids,
    size_t max, size_t *n, char **cause)
{
	int	rc;

	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1 && *n < max)
		ids[(*n)++] = store_column_int(st, 0);
	store_done(st);
	return rc == -1 ? -1 : 0;
}

/* A column as a new string (NULL for an SQL NULL). */
char *
store_column_text(struct store_stmt *st, int col)
{
	const unsigned char	*t;

	if ((t = sqlite3_column_text((sqlite3_stmt *)st, col)) == NULL)
		return NULL;
	return xstrdup((const char *)t);
}

/* A column as a new string, or a copy of dflt for an SQL NULL. */
char *
store_column_text_or(struct store_stmt *st, int col, const char *dflt)
{
	char	*s;

	if ((s = store_column_text(st, col)) == NULL)
		s = xstrdup(dflt);
	return s;
}

/* A column as a number (0 for an SQL NULL). */
int64_t
store_column_int(struct store_stmt *st, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)st, col);
}

double
store_column_double(struct store_stmt *st, int col)
{
	return sqlite3_column_double((sqlite3_stmt *)st, col);
}

/* A column's text without copying: valid until the next step or done. */
const char *
store_column_peek(struct store_stmt *st, int col)
{
	return (const char *)sqlite3_column_text((sqlite3_stmt *)st, col);
}

char *
store_column_bytes(struct store_stmt *st, int col, size_t *len)
{
	const void	*blob;
	char		*p;

	blob = store_column_blob(st, col, len);
	p = xmalloc(*len + 1);
	if (*len > 0)
		memcpy(p, blob, *len);
	p[*len] = '\0';
	return p;
}

/* A blob column without copying, and its length. */
const void *
store_column_blob(struct store_stmt *st, int col, size_t *len)
{
	*len = (size_t)sqlite3_column_bytes((sqlite3_stmt *)st, col);
	return sqlite3_column_blob((sqlite3_stmt *)st, col);
}

int
store_column_is_null(struct store_stmt *st, int col)
{
	return sqlite3_column_type((sqlite3_stmt *)st, col) == SQLITE_NULL;
}

/* The rowid of the last INSERT on this connection. */
int64_t
store_last_insert_id(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

/* --- opening ---------------------------------------------------------- */

/*
 * Check what SQLite would report only as "unable to open database file":
 * a missing or unusable directory, or a directory where the file should be.
 */
static int
store_check_path(const char *path, char **cause)
{
	struct stat	 sb;
	char		*copy, *dir;
	int		 rc = -1;

	if (*path == '\0') {
		*cause = xstrdup("database path is empty");
		return -1;
	}
	if (stat(path, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			*cause = xprintf("%s: is a directory, not a database "
			    "file", path);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}

	copy = xstrdup(path);
	dir = dirname(copy);
	if (stat(dir, &sb) != 0) {
		if (errno == ENOENT)
			*cause = xprintf("%s: directory %s does not exist "
			    "(create it, writable by postroom)", path, dir);
		else
			*cause = xprintf("%s: directory %s: %s", path, dir,
			    strerror(errno));
	} else if (!S_ISDIR(sb.st_mode))
		*cause = xprintf("%s: %s is not a directory", path, dir);
	else
		rc = 0;
	free(copy);
	return rc;
}

/*
 * Create the file ourselves so that it does not get SQLite's default
 * 0644: the database holds people's addresses.  SQLite gives the -wal and
 * -shm files the same mode.
 */
static int
store_create_file(const char *path, char **cause)
{
	int	fd;

	fd = open(path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0660);
	if (fd == -1) {
		if (errno == EEXIST)
			return 0;
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

/* Read an integer PRAGMA ("PRAGMA user_version"); NULL reads as 0. */
static int
store_pragma_int(struct store *s, const char *sql, int64_t *value,
    char **cause)
{
	*value = 0;
	return store_query_int(s, value, cause, sql, "") == -1 ? -1 : 0;
}

/* Decide whether this is a database we may use, before changing anything. */
static int
store_check_identity(struct store *s, char **cause)
{
	int64_t	app, version;

	if (store_pragma_int(s, "PRAGMA application_id", &app, cause) != 0 ||
	    store_pragma_int(s, "PRAGMA user_version", &version, cause) != 0)
		return -1;
	if (version < 0) {
		*cause = xprintf("%s: bad schema version %lld", s->path,
		    (long long)version);
		return -1;
	}
	if (app != 0 && app != STORE_APPLICATION_ID) {
		*cause = xprintf("%s: not a postroom database (it belongs to "
		    "another program: application_id %lld)", s->path,
		    (long long)app);
		return -1;
	}
	if (version > STORE_LATEST) {
		*cause = xprintf("%s: schema version %lld is newer than this "
		    "postroom understands (%d); upgrade postroom", s->path,
		    (long long)version, STORE_LATEST);
		return -1;
	}
	if (version != 0 && app == 0) {
		*cause = xprintf("%s: not a postroom database (schema version "
		    "%lld but no postroom application_id)", s->path,
		    (long long)version);
		return -1;
	}
	s->version = version;
	return 0;
}

/* WAL, foreign keys, durability.  Outside any transaction. */
static int
store_configure(struct store *s, char **cause)
{
	char	*mode = NULL;
	int64_t	 fk;
	int	 rc;

	rc = store_query_text(s, "PRAGMA journal_mode = WAL", &mode, cause);
	if (rc == -1)
		return -1;
	if (rc == 0 || mode == NULL || strcmp(mode, "wal") != 0) {
		*cause = xprintf("%s: cannot use WAL journal mode (got %s); "
		    "is it on a network file system?", s->path,
		    mode != NULL ? mode : "nothing");
		free(mode);
		return -1;
	}
	free(mode);

	/*
	 * FULL: a commit is on disk before the delivery engine sends a
	 * byte, so a power cut cannot make it forget what it sent.
	 */
	if (store_exec_sql(s, "PRAGMA foreign_keys = ON;"
	    "PRAGMA synchronous = FULL;", cause) != 0)
		return -1;
	if (store_pragma_int(s, "PRAGMA foreign_keys", &fk, cause) != 0)
		return -1;
	if (fk != 1) {
		*cause = xprintf("%s: this SQLite cannot enforce foreign keys",
		    s->path);
		return -1;
	}
	return 0;
}

/*
 * SQL postroom_fold(TEXT): utf8_fold(), for searching names whatever
 * their case and accents (store_subscriber_find).  Only in queries,
 * never in the schema: other programs opening the file do not have it.
 */
static void
store_fold_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char	*t;
	char			*folded;

	if ((t = sqlite3_value_text(argv[0])) == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	folded = utf8_fold((const char *)t,
	    (size_t)sqlite3_value_bytes(argv[0]));
	sqlite3_result_text(ctx, folded, -1, free);
}

/*
 * What every connection gets, reading or writing: the busy timeout,
 * defensive mode, and postroom_fold() for case- and accent-blind search.
 */
static int
store_setup(struct store *s, char **cause)
{
	int	rc;

	sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT);
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	if ((rc = sqlite3_create_function_v2(s->db, "postroom_fold", 1,
	    SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS, NULL,
	    store_fold_sql, NULL, NULL, NULL)) != SQLITE_OK) {
		store_fail(s, cause, rc, "registering postroom_fold");
		return -1;
	}
	return 0;
}

/* Apply migrations up to target, one transaction per step. */
static int
store_migrate(struct store *s, int target, char **cause)
{
	int64_t	 version, broken;
	char	*sql, *c, what[64];
	int	 next;

	for (;;) {
		/* A no-op inside a transaction: so before it. */
		if (store_exec_sql(s, "PRAGMA foreign_keys = OFF", cause) != 0)
			return -1;
		if (store_begin(s, cause) != 0)
			goto fk;
		/* Another process may have migrated while we waited. */
		if (store_pragma_int(s, "PRAGMA user_version", &version,
		    cause) != 0)
			goto fail;
		if (version > STORE_LATEST) {
			*cause = xprintf("%s: schema version %lld is newer "
			    "than this postroom understands (%d); upgrade "
			    "postroom", s->path, (long long)version,
			    STORE_LATEST);
			goto fail;
		}
		s->version = version;
		if (version >= target)
			break;

		next = version + 1;
		snprintf(what, sizeof what, "upgrading schema to version %d",
		    next);
		if (sqlite3_exec(s->db, store_migrations[next].sql, NULL, NULL,
		    NULL) != SQLITE_OK) {
			store_fail(s, cause, sqlite3_errcode(s->db), what);
			goto fail;
		}
		if (store_migrations[next].fn != NULL &&
		    store_migrations[next].fn(s, &c) != 0) {
			*cause = xprintf("%s: %s: %s", s->path, what, c);
			free(c);
			goto fail;
		}
		if (store_query_int(s, &broken, cause,
		    "SELECT count(*) FROM pragma_foreign_key_check", "") == -1)
			goto fail;
		if (broken != 0) {
			*cause = xprintf("%s: %s: %lld rows would break foreign "
			    "keys", s->path, what, (long long)broken);
			goto fail;
		}
		sql = xprintf("PRAGMA user_version = %d", next);
		if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
			free(sql);
			store_fail(s, cause, sqlite3_errcode(s->db), what);
			goto fail;
		}
		free(sql);
		if (store_commit(s, cause) != 0)
			goto fail;
		s->version = next;
		log_info("%s: schema upgraded from version %d to %d", s->path,
		    next - 1, next);
	}
	if (store_commit(s, cause) != 0)
		goto fail;
	return store_exec_sql(s, "PRAGMA foreign_keys = ON", cause);

fail:
	store_rollback(s);
fk:
	/* Back on whatever happened: store_configure() checks it is. */
	(void)store_exec_sql(s, "PRAGMA foreign_keys = ON", NULL);
	return -1;
}

struct store *
store_open_version(const char *path, int version, char **cause)
{
	struct store	*s;
	char		*discard = NULL;
	int		 rc, flags;

	if (cause == NULL)
		cause = &discard;
	store_open_busy = 0;
	store_open_readonly = 0;
	if (version < 0 || version > STORE_LATEST)
		fatalx("%s: no schema version %d", __func__, version);

	if (store_check_path(path, cause) != 0 ||
	    store_create_file(path, cause) != 0) {
		free(discard);
		return NULL;
	}

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	flags = SQLITE_OPEN_READWRITE|SQLITE_OPEN_NOMUTEX|
	    SQLITE_OPEN_EXRESCODE;
	if ((rc = sqlite3_open_v2(path, &s->db, flags, NULL)) != SQLITE_OK) {
		if (s->db == NULL)
			fatalx("%s: out of memory", __func__);
		store_fail(s, cause, rc, NULL);
		goto fail;
	}
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		*cause = xprintf("%s: cannot write to the database (check the "
		    "permissions of the file and its directory, and that its "
		    "disk is not read-only)", path);
		s->busy = 1;
		store_open_readonly = 1;
		goto fail;
	}
	if (store_setup(s, cause) != 0)
		goto fail;

	/* Read-only checks first: refuse without touching the file. */
	if (store_check_identity(s, cause) != 0)
		goto fail;
	if (store_configure(s, cause) != 0)
		goto fail;
	/* Only take the write lock when there is something to do. */
	if (s->version < version && store_migrate(s, version, cause) != 0)
		goto fail;
	free(discard);
	return s;

fail:
	store_open_busy = s->busy;
	store_close(s);
	free(discard);
	return NULL;
}

struct store *
store_open(const char *path, char **cause)
{
	return store_open_version(path, STORE_LATEST, cause);
}

/*
 * A read-only connection.  A WAL database whose -shm file nobody has made
 * (no other connection is open) cannot be read by one that cannot create
 * it; with no -wal file either, the database file alone is the whole
 * database, and it is opened as immutable.
 */
static int
store_open_ro(struct store *s, const char *path)
{
	struct buf	 uri;
	char		*wal;
	const char	*p;
	int		 flags, rc, missing;

	flags = SQLITE_OPEN_READONLY|SQLITE_OPEN_NOMUTEX|SQLITE_OPEN_EXRESCODE;
	if ((rc = sqlite3_open_v2(path, &s->db, flags, NULL)) != SQLITE_OK) {
		if (s->db == NULL)
			fatalx("%s: out of memory", __func__);
		return rc;
	}
	rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_schema", NULL,
	    NULL, NULL);
	wal = xprintf("%s-wal", path);
	missing = access(wal, F_OK) == -1 && errno == ENOENT;
	free(wal);
	if (rc == SQLITE_OK || (rc & 0xff) != SQLITE_READONLY || !missing)
		return rc == SQLITE_OK ? SQLITE_OK : sqlite3_extended_errcode(
		    s->db);
	sqlite3_close(s->db);
	s->db = NULL;

	buf_init(&uri, BUF_NOMAX);
	(void)buf_addstr(&uri, "file:");
	for (p = path; *p != '\0'; p++) {
		if (*p == '%' || *p == '?' || *p == '#')
			(void)buf_printf(&uri, "%%%02X", (unsigned char)*p);
		else
			(void)buf_addc(&uri, *p);
	}
	(void)buf_addstr(&uri, "?immutable=1");
	rc = sqlite3_open_v2(uri.data, &s->db, flags|SQLITE_OPEN_URI, NULL);
	buf_free(&uri);
	if (rc != SQLITE_OK && s->db == NULL)
		fatalx("%s: out of memory", __func__);
	return rc;
}

struct store *
store_open_read(const char *path, char **cause)
{
	struct store	*s;
	char		*discard = NULL;
	int		 rc;

	if (cause == NULL)
		cause = &discard;
	/* Read-only, or a disk too full to make the -shm file on. */
	if ((s = store_open(path, cause)) != NULL ||
	    (!store_open_readonly && !store_open_busy)) {
		free(discard);
		return s;
	}
	free(*cause);
	*cause = NULL;

	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	if ((rc = store_open_ro(s, path)) != SQLITE_OK) {
		store_fail(s, cause, rc, NULL);
		goto fail;
	}
	if (store_setup(s, cause) != 0)
		goto fail;
	if (store_check_identity(s, cause) != 0)
		goto fail;
	if (s->version != STORE_LATEST) {
		*cause = xprintf("%s: the database can only be read here, and "
		    "its schema (version %d) is not this postroom's (%d): "
		    "run postroomd or a command that writes once, as a user "
		    "that can write to it", path, s->version, STORE_LATEST);
		goto fail;
	}
	free(discard);
	return s;

fail:
	store_open_busy = 1;
	store_close(s);
	free(discard);
	return NULL;
}

void
store_close(struct store *s)
{
	size_t	i;
	int	rc;

	if (s == NULL)
		return;
	if (s->db != NULL) {
		store_rollback(s);
		for (i = 0; i < s->ncache; i++)
			sqlite3_finalize(s->cache[i]);
		if ((rc = sqlite3_close(s->db)) != SQLITE_OK)
			log_error("%s: closing: %s", s->path,
			    sqlite3_errstr(rc));
	}
	free(s->cache);
	free(s->path);
	explicit_bzero(s->forget_key, sizeof s->forget_key);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

int
store_schema_version(const struct store *s)
{
	return s->version;
}

int
store_latest_version(void)
{
	return STORE_LATEST;
}

void
store_set_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(s->db, ms);
}

int
store_busy(const struct store *s)
{
	if (s == NULL)
		return store_open_busy;
	return s->busy;
}

/* --- the forget key ---------------------------------------------------- */

/*
 * The key of the forgotten-address hashes (token.h): the file
 * "forget.key" in the database's directory, 0600, made on first use.  It
 * goes with the database, not with the configuration: the hashes in this
 * database mean nothing without it.  A missing key is made again only
 * while no hash needs it: otherwise everyone forgotten would silently be
 * mailable again, so that is refused, saying what to restore.
 */
int
store_forget_key(struct store *s, const unsigned char **key, char **cause)
{
	struct stat	 sb;
	char		*path, *slash;
	int64_t		 n = 0;
	int		 rc;

	if (s->have_forget_key) {
		*key = s->forget_key;
		return 0;
	}
	path = xstrdup(s->path);
	if ((slash = strrchr(path, '/')) != NULL) {
		slash[1] = '\0';
		slash = path;
		path = xprintf("%sforget.key", slash);
		free(slash);
	} else {
		free(path);
		path = xstrdup("forget.key");
	}
	if (stat(path, &sb) == -1 && errno == ENOENT) {
		if (store_query_int(s, &n, cause,
		    "SELECT count(*) FROM suppressions WHERE keyed = 1",
		    "") == -1) {
			free(path);
			return -1;
		}
		if (n > 0) {
			*cause = xprintf("%s: missing, and %lld forgotten "
			    "addresses in %s are hashed with it: restore it "
			    "from a backup (a new key would let them be "
			    "mailed again)", path, (long long)n, s->path);
			free(path);
			return -1;
		}
	}
	rc = token_key_load(path, 1, s->forget_key, cause);
	free(path);
	if (rc != 0)
		return -1;
	s->have_forget_key = 1;
	*key = s->forget_key;
	return 0;
}

/* --- transactions ----------------------------------------------------- */

int
store_begin(struct store *s, char **cause)
{
	if (store_in_transaction(s)) {
		s->busy = 0;
		if (cause != NULL)
			*cause = xprintf("%s: a transaction is already open",
			    s->path);
		return -1;
	}
	return store_run(s, cause, "BEGIN IMMEDIATE", "") == -1 ? -1 : 0;
}

int
store_commit(struct store *s, char **cause)
{
	return store_run(s, cause, "COMMIT", "") == -1 ? -1 : 0;
}

void
store_rollback(struct store *s)
{
	int	rc;

	if (!store_in_transaction(s))
		return;
	rc = sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		log_error("%s: rollback: %s", s->path, sqlite3_errmsg(s->db));
}

int
store_in_transaction(const struct store *s)
{
	return !sqlite3_get_autocommit(s->db);
}

/* --- small shared tables --------------------------------------------- */

int
store_event(struct store *s, const char *kind, const char *subject,
    const char *detail)
{
	char	*cause = NULL;

	if (store_run(s, &cause,
	    "INSERT INTO events (at, actor, kind, subject, detail)"
	    " VALUES (?, nullif(?, ''), ?, ?, ?)", "Itttt",
	    (int64_t)time(NULL), s->actor, kind, subject, detail) == -1) {
		log_warn("recording event %s: %s", kind, cause);
		free(cause);
		return -1;
	}
	return 0;
}

void
store_set_actor(struct store *s, const char *actor)
{
	if (actor == NULL || strlen(actor) >= sizeof s->actor)
		actor = "";
	memcpy(s->actor, actor, strlen(actor) + 1);
}

int
store_kv_get(struct store *s, const char *key, char **value, char **cause)
{
	struct store_stmt	*st;
	int		 rc;

	*value = NULL;
	st = store_query(s, cause, "SELECT value FROM kv WHERE key = ?", "t",
	    key);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1)
		*value = store_column_text(st, 0);
	store_done(st);
	return rc;
}

int
store_kv_set(struct store *s, const char *key, const char *value,
    char **cause)
{
	if (store_run(s, cause,
	    "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?)"
	    " ON CONFLICT (key) DO UPDATE"
	    " SET value = excluded.value, updated_at = excluded.updated_at",
	    "ttI", key, value, (int64_t)time(NULL)) == -1)
		return -1;
	return 0;
}

int
store_kv_delete(struct store *s, const char *key, char **cause)
{
	int	n;

	if ((n = store_run(s, cause, "DELETE FROM kv WHERE key = ?", "t",
	    key)) == -1)
		return -1;
	return n > 0;
}

int
store_counter_next(struct store *s, const char *name, int64_t *value,
    char **cause)
{
	struct store_stmt	*st;
	int		 rc;

	st = store_query(s, cause,
	    "INSERT INTO counters (name, value) VALUES (?, 1)"
	    " ON CONFLICT (name) DO UPDATE SET value = value + 1"
	    " RETURNING value", "t", name);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		*value = store_column_int(st, 0);
		/* Step to SQLITE_DONE so that the statement completes. */
		rc = store_step(s, st, cause);
	} else if (rc == 0)
		fatalx("%s: counter %s returned nothing", __func__, name);
	store_done(st);
	return rc == 0 ? 0 : -1;
}

/* --- outbox summary --------------------------------------------------- */

/* The rows waiting in the outbox: how many are due (?2: now), since when. */
#define STORE_OUTBOX_WAITING \
	"SELECT" \
	" sum(state IN ('queued', 'deferred') AND next_attempt_at <= ?2)," \
	" min(created_at)," \
	" min(CASE WHEN state IN ('queued', 'deferred')" \
	" THEN next_attempt_at END)" \
	" FROM outbox WHERE state IN ('queued', 'sending', 'deferred')"

/* Add st's rows (state, count) to c; st is done after.  0 or -1. */
static int
store_outbox_tally(struct store *s, struct store_stmt *st,
    struct store_outbox_counts *c, char **cause)
{
	enum store_outbox_state	 state;
	const char		*name;
	int64_t			 n;
	int			 rc;

	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		name = store_column_peek(st, 0);
		n = store_column_int(st, 1);
		if (name == NULL || store_outbox_state_parse(name, &state) != 0)
			fatalx("%s: outbox state %s", __func__,
			    name != NULL ? name : "NULL");
		c->state[state] += n;
		c->total += n;
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

int
store_outbox_unsent(struct store *s, struct store_outbox_counts *c,
    char **cause)
{
	memset(c, 0, sizeof *c);
	/*
	 * Each campaign's rows and the other mail's (campaign_id NULL),
	 * state by state, through outbox_campaign (campaign_id, state): a
	 * range per campaign and state, never the sent rows.  Every
	 * campaign_id is in campaigns (a foreign key).
	 */
	return store_outbox_tally(s, store_query(s, cause,
	    "SELECT o.state, count(*)"
	    " FROM (SELECT id FROM campaigns UNION ALL SELECT NULL) c"
	    " JOIN outbox o ON o.campaign_id IS c.id AND o.state IN"
	    " ('queued', 'sending', 'deferred', 'failed', 'skipped')"
	    " GROUP BY o.state", ""), c, cause);
}

int
store_outbox_counts(struct store *s, int64_t campaign_id, int64_t now,
    struct store_outbox_counts *c, char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	memset(c, 0, sizeof *c);

	/*
	 * Step 1: rows per state.  A statement for each case, not one with
	 * "?1 = 0 OR campaign_id = ?1": SQLite cannot seek outbox_campaign
	 * through that OR, so one campaign's counts read the whole outbox
	 * (bench/console.sh: /campaigns/ID on 150,000 rows).
	 */
	if (campaign_id != 0)
		st = store_query(s, cause, "SELECT state, count(*)"
		    " FROM outbox WHERE campaign_id = ?1 GROUP BY state", "I",
		    campaign_id);
	else
		st = store_query(s, cause, "SELECT state, count(*)"
		    " FROM outbox GROUP BY state", "");
	if (store_outbox_tally(s, st, c, cause) == -1)
		return -1;

	/* Step 2: what is waiting, and since when (?1 unused for all). */
	if (campaign_id != 0)
		st = store_query(s, cause, STORE_OUTBOX_WAITING
		    " AND campaign_id = ?1", "II", campaign_id, now);
	else
		st = store_query(s, cause, STORE_OUTBOX_WAITING, "II",
		    campaign_id, now);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		c->due = store_column_int(st, 0);
		c->oldest = store_column_int(st, 1);
		c->next_attempt = store_column_int(st, 2);
	}
	store_done(st);
	return rc == -1 ? -1 : 0;
}

/* --- tests and maintenance -------------------------------------------- */

int
store_exec_sql(struct store *s, const char *sql, char **cause)
{
	int	rc;

	if ((rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL)) != SQLITE_OK) {
		store_fail(s, cause, sqlite3_extended_errcode(s->db), NULL);
		return -1;
	}
	return 0;
}

int
store_query_text(struct store *s, const char *sql, char **value,
    char **cause)
{
	sqlite3_stmt	*st;
	int		 rc;

	*value = NULL;
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		store_fail(s, cause, rc, NULL);
		return -1;
	}
	if (st == NULL)
		return 0;
	if ((rc = store_step(s, (struct store_stmt *)st, cause)) == 1)
		*value = store_column_text((struct store_stmt *)st, 0);
	sqlite3_finalize(st);
	return rc;
}
