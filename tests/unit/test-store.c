/*
 * test-store.c - the state store: opening, refusing, migrating, the schema's
 * guarantees (unique campaign recipients, foreign keys), transactions and
 * the small shared tables.
 *
 * Each test has its own directory, made by mkdtemp under /tmp and removed.
 * The test cannot include <sqlite3.h> (only store.c may), so it crafts old
 * or odd databases through store_open_version() and store_exec_sql().
 */
#include "testutil.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

struct fixture {
	char	 dir[64];
	char	*db;		/* dir/postroom.db */
};

/* cause must contain want. */
#define check_cause(what, cause, want) do {				\
	const char *c_ = (cause);					\
	if (c_ == NULL || strstr(c_, (want)) == NULL) {			\
		print_error("%s: got cause \"%s\", want one containing " \
		    "\"%s\"\n", (what), c_ ? c_ : "(null)", (want));	\
		fail();							\
	}								\
} while (0)

static int
setup(void **state)
{
	struct fixture	*f;

	f = xcalloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test-store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	f->db = xprintf("%s/postroom.db", f->dir);
	*state = f;
	return 0;
}

/* Remove the directory and what is in it, one level deep. */
static void
remove_dir(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	char		*p;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		p = xprintf("%s/%s", dir, de->d_name);
		if (unlink(p) != 0)
			rmdir(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	remove_dir(f->dir);
	free(f->db);
	free(f);
	return 0;
}

static struct store *
open_ok(const char *path)
{
	struct store	*s;
	char		*cause = NULL;

	if ((s = store_open(path, &cause)) == NULL) {
		print_error("store_open %s: got \"%s\", want success\n", path,
		    cause);
		free(cause);
		fail();
	}
	return s;
}

static void
exec_ok(struct store *s, const char *sql)
{
	char	*cause = NULL;

	if (store_exec_sql(s, sql, &cause) != 0) {
		print_error("%s: got \"%s\", want success\n", sql, cause);
		free(cause);
		fail();
	}
}

/* The SQL must fail, with a cause containing want. */
static void
exec_fails(struct store *s, const char *sql, const char *want)
{
	char	*cause = NULL;

	if (store_exec_sql(s, sql, &cause) == 0) {
		print_error("%s: got success, want failure with \"%s\"\n", sql,
		    want);
		fail();
	}
	check_cause(sql, cause, want);
	free(cause);
}

/* Compare the first column of the first row with want (NULL: no row). */
static void
query_is(struct store *s, const char *sql, const char *want)
{
	char	*cause = NULL, *value = NULL;
	int	 rc;

	rc = store_query_text(s, sql, &value, &cause);
	if (rc == -1) {
		print_error("%s: got \"%s\", want \"%s\"\n", sql, cause,
		    want ? want : "(no row)");
		free(cause);
		fail();
	}
	assert_str_eq_msg(sql, value, want);
	free(value);
}

static char *
read_file(const char *path, size_t *len)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	if (buf_read_file(&b, path) != 0) {
		print_error("reading %s: %s\n", path, strerror(errno));
		fail();
	}
	return buf_detach(&b, len);
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Opening must fail with cause exactly want, leaving the file as it was. */
static void
open_refused(const char *path, const char *want)
{
	struct store	*s;
	char		*before, *after, *cause = NULL;
	size_t		 blen, alen;

	before = read_file(path, &blen);
	s = store_open(path, &cause);
	if (s != NULL) {
		print_error("store_open %s: got success, want \"%s\"\n", path,
		    want);
		store_close(s);
		fail();
	}
	assert_str_eq_msg("refusal", cause, want);
	check_int("store_busy(NULL) after refusal", store_busy(NULL), 0);
	after = read_file(path, &alen);
	check_int("file length after refusal", alen, blen);
	if (memcmp(before, after, blen) != 0) {
		print_error("%s: contents changed by a refused open\n", path);
		fail();
	}
	free(before);
	free(after);
	free(cause);
}

/* --- tests ------------------------------------------------------------ */

static const char *const tables[] = {
	"subscribers", "memberships", "suppressions", "campaigns", "outbox",
	"enquiries", "bounces", "digests_sent", "rate_limits", "imap_state",
	"counters", "kv", "events", "mail_unsubscribes", "subscriber_merges",
};

static void
test_fresh(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct stat	 sb;
	char		*sql;
	size_t		 i;

	s = open_ok(f->db);
	check_int("schema version", store_schema_version(s),
	    store_latest_version());
	check_int("latest version at least 6", store_latest_version() >= 6, 1);
	assert_str_eq_msg("store_path", store_path(s), f->db);
	for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		sql = xprintf("SELECT name FROM sqlite_schema"
		    " WHERE type = 'table' AND name = '%s'", tables[i]);
		query_is(s, sql, tables[i]);
		free(sql);
	}
	query_is(s, "PRAGMA journal_mode", "wal");
	query_is(s, "PRAGMA foreign_keys", "1");
	sql = xprintf("%d", store_latest_version());
	query_is(s, "PRAGMA user_version", sql);
	free(sql);
	query_is(s, "PRAGMA application_id", "1347638354");
	query_is(s, "PRAGMA synchronous", "2");		/* FULL */
	query_is(s, "PRAGMA busy_timeout", "5000");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	query_is(s, "PRAGMA integrity_check", "ok");
	check_int("in transaction", store_in_transaction(s), 0);

	/* People's addresses: never readable by everybody. */
	assert_int_equal(stat(f->db, &sb), 0);
	check_int("database mode & 007", sb.st_mode & 007, 0);
	store_close(s);
}

static void
test_reopen(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;

	a = open_ok(f->db);
	exec_ok(a, "INSERT INTO kv VALUES ('k', 'v', 0)");
	store_close(a);

	/* Again, and twice at once, as the daemon and the CLI do. */
	a = open_ok(f->db);
	b = open_ok(f->db);
	check_int("version a", store_schema_version(a), store_latest_version());
	check_int("version b", store_schema_version(b), store_latest_version());
	query_is(b, "SELECT value FROM kv WHERE key = 'k'", "v");
	store_close(b);

	/* Opening an up-to-date database needs no write lock. */
	assert_int_equal(store_begin(a, NULL), 0);
	b = open_ok(f->db);
	check_int("opened while another writes", store_in_transaction(a), 1);
	store_close(b);
	store_rollback(a);
	store_close(a);
}

static void
test_version0(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	/* An empty database with something else in it is upgraded... */
	s = store_open_version(f->db, 0, &cause);
	assert_non_null(s);
	check_int("version at 0", store_schema_version(s), 0);
	query_is(s, "SELECT name FROM sqlite_schema WHERE name = 'outbox'",
	    NULL);
	exec_ok(s, "CREATE TABLE notes (t TEXT); INSERT INTO notes"
	    " VALUES ('kept')");
	store_close(s);

	/* ...keeping what was there. */
	s = open_ok(f->db);
	check_int("version after upgrade", store_schema_version(s),
	    store_latest_version());
	query_is(s, "SELECT t FROM notes", "kept");
	query_is(s, "SELECT name FROM sqlite_schema WHERE name = 'outbox'",
	    "outbox");
	store_close(s);
}

static void
test_migration_atomic(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	/* A table in the way makes version 1 fail: nothing of it stays. */
	s = store_open_version(f->db, 0, &cause);
	assert_non_null(s);
	exec_ok(s, "CREATE TABLE events (x INTEGER)");
	store_close(s);

	assert_null(s = store_open(f->db, &cause));
	check_cause("migration", cause, "upgrading schema to version 1");
	check_cause("migration", cause, "events already exists");
	free(cause);
	cause = NULL;

	s = store_open_version(f->db, 0, &cause);
	assert_non_null(s);
	check_int("version after failed upgrade", store_schema_version(s), 0);
	query_is(s, "PRAGMA user_version", "0");
	query_is(s, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'subscribers'", "0");
	store_close(s);
}

static void
test_newer_refused(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*sql, *want;

	s = open_ok(f->db);
	sql = xprintf("PRAGMA user_version = %d", store_latest_version() + 1);
	exec_ok(s, sql);
	free(sql);
	store_close(s);

	want = xprintf("%s: schema version %d is newer than this postroom "
	    "understands (%d); upgrade postroom", f->db,
	    store_latest_version() + 1, store_latest_version());
	open_refused(f->db, want);
	free(want);
}

static void
test_other_program(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*want;

	/* Another program's database, marked as such. */
	s = open_ok(f->db);
	exec_ok(s, "PRAGMA application_id = 42");
	store_close(s);
	want = xprintf("%s: not a postroom database (it belongs to another "
	    "program: application_id 42)", f->db);
	open_refused(f->db, want);
	free(want);
}

static void
test_other_versioned(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*want;

	/* Another program's database that uses user_version but no id. */
	s = store_open_version(f->db, 0, NULL);
	assert_non_null(s);
	exec_ok(s, "CREATE TABLE t (x); PRAGMA user_version = 1");
	store_close(s);
	want = xprintf("%s: not a postroom database (schema version 1 but "
	    "no postroom application_id)", f->db);
	open_refused(f->db, want);
	free(want);
}

static void
test_not_sqlite(void **state)
{
	struct fixture	*f = *state;
	static const struct {
		const char	*name;
		size_t		 repeat;
		const char	*text;
	} cases[] = {
		{ "short text", 1, "not a database\n" },
		{ "long text", 200, "From: a@example.org\nSubject: hi\n\n" },
		{ "binary", 64, "\x7f" "ELF\x02\x01\x01" },
	};
	struct buf	 b;
	char		*want;
	size_t		 i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_init(&b, BUF_NOMAX);
		for (j = 0; j < cases[i].repeat; j++)
			buf_addstr(&b, cases[i].text);
		write_file(f->db, b.data, b.len);
		buf_free(&b);
		want = xprintf("%s: not an SQLite database", f->db);
		print_message("# %s\n", cases[i].name);
		open_refused(f->db, want);
		free(want);
		unlink(f->db);
	}
}

static void
test_empty_file(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;

	/* An empty file is an empty database: it becomes ours. */
	write_file(f->db, "", 0);
	s = open_ok(f->db);
	check_int("version", store_schema_version(s), store_latest_version());
	store_close(s);
}

static void
test_bad_paths(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	struct stat	 sb;
	char		*path, *file, *want, *cause = NULL;

	/* A missing directory is reported, not created. */
	path = xprintf("%s/missing/postroom.db", f->dir);
	want = xprintf("%s: directory %s/missing does not exist (create it, "
	    "writable by postroom)", path, f->dir);
	assert_null(s = store_open(path, &cause));
	assert_str_eq_msg("missing directory", cause, want);
	free(cause);
	free(want);
	free(path);
	path = xprintf("%s/missing", f->dir);
	check_int("missing directory created", stat(path, &sb), -1);
	free(path);

	/* A file where the directory should be. */
	file = xprintf("%s/plain", f->dir);
	write_file(file, "x", 1);
	path = xprintf("%s/postroom.db", file);
	want = xprintf("%s: %s is not a directory", path, file);
	assert_null(s = store_open(path, &cause));
	assert_str_eq_msg("file as directory", cause, want);
	free(cause);
	free(want);
	free(path);
	free(file);

	/* A directory where the file should be. */
	want = xprintf("%s: is a directory, not a database file", f->dir);
	assert_null(s = store_open(f->dir, &cause));
	assert_str_eq_msg("directory as file", cause, want);
	free(cause);
	free(want);
}

static void
test_kv_events(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*value = NULL, *cause = NULL;

	s = open_ok(f->db);

	check_int("get missing", store_kv_get(s, "smtp.paused", &value,
	    &cause), 0);
	assert_null(value);
	check_int("set", store_kv_set(s, "smtp.paused", "yes", &cause), 0);
	check_int("get", store_kv_get(s, "smtp.paused", &value, &cause), 1);
	assert_str_eq_msg("value", value, "yes");
	free(value);
	check_int("overwrite", store_kv_set(s, "smtp.paused", "no", &cause),
	    0);
	check_int("get again", store_kv_get(s, "smtp.paused", &value, &cause),
	    1);
	assert_str_eq_msg("value after overwrite", value, "no");
	free(value);
	check_int("delete", store_kv_delete(s, "smtp.paused", &cause), 1);
	check_int("delete again", store_kv_delete(s, "smtp.paused", &cause),
	    0);
	check_int("get deleted", store_kv_get(s, "smtp.paused", &value,
	    &cause), 0);

	check_int("event", store_event(s, "campaign.start", "3",
	    "1200 recipients"), 0);
	check_int("event with NULLs", store_event(s, "daemon.start", NULL,
	    NULL), 0);
	query_is(s, "SELECT count(*) FROM events", "2");
	query_is(s, "SELECT kind || '|' || subject || '|' || detail"
	    " FROM events ORDER BY id LIMIT 1",
	    "campaign.start|3|1200 recipients");
	query_is(s, "SELECT subject IS NULL AND detail IS NULL"
	    " FROM events WHERE kind = 'daemon.start'", "1");
	query_is(s, "SELECT abs(at - strftime('%s', 'now')) < 60"
	    " FROM events LIMIT 1", "1");
	store_close(s);

	/* Still there for the next connection. */
	s = open_ok(f->db);
	query_is(s, "SELECT count(*) FROM events", "2");
	store_close(s);
}

static void
test_counter(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;
	int64_t		 v;
	char		*cause = NULL;

	a = open_ok(f->db);
	b = open_ok(f->db);
	assert_int_equal(store_counter_next(a, "enquiry-2026", &v, &cause), 0);
	check_int("first", v, 1);
	assert_int_equal(store_counter_next(b, "enquiry-2026", &v, &cause), 0);
	check_int("second, other connection", v, 2);
	assert_int_equal(store_counter_next(a, "enquiry-2027", &v, &cause), 0);
	check_int("other counter", v, 1);
	assert_int_equal(store_counter_next(a, "enquiry-2026", &v, &cause), 0);
	check_int("third", v, 3);
	store_close(b);
	store_close(a);
}

/* A subscriber, a campaign and the SQL to queue him for it. */
static const char setup_sql[] =
    "INSERT INTO subscribers (id, email, created_at, updated_at)"
    " VALUES (1, 'ann@example.org', 0, 0);"
    "INSERT INTO campaigns (id, list, subject, body, created_at, updated_at)"
    " VALUES (7, 'analyst-network', 'Huddle', '# Hi', 0, 0);";
static const char queue_sql[] =
    "INSERT INTO outbox (kind, campaign_id, subscriber_id, mail_from,"
    " rcpt_to, created_at, updated_at) VALUES ('campaign', 7, 1,"
    " 'bounces@example.org', 'ann@example.org', 0, 0)";

/*
 * Version 2 rebuilds the outbox (its CHECKs as ORs).  A version 1
 * database with mail in it - rows that bounces and digest items point
 * at - keeps every row, every link and the rule.
 */
static void
test_version2(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	s = store_open_version(f->db, 1, &cause);
	assert_non_null(s);
	check_int("version at 1", store_schema_version(s), 1);
	exec_ok(s, setup_sql);
	exec_ok(s, queue_sql);
	exec_ok(s, "UPDATE outbox SET state = 'sent', attempts = 1,"
	    " last_code = 250, last_reply = '250 ok', sent_at = 9");
	exec_ok(s, "INSERT INTO outbox (id, kind, message, mail_from, rcpt_to,"
	    " dedup_key, state, created_at, updated_at) VALUES (5, 'ack',"
	    " X'41', 'a@x', 'b@x', 'ack:ENQ-2026-00001', 'deferred', 1, 2)");
	exec_ok(s, "INSERT INTO bounces (outbox_id, subscriber_id, recipient,"
	    " kind, received_at) VALUES (1, 1, 'ann@example.org', 'hard', 3)");
	exec_ok(s, "INSERT INTO digest_items (subscriber_id, campaign_id, list,"
	    " period, outbox_id, created_at) VALUES (1, 7, 'analyst-network',"
	    " '2026-W47', 5, 4)");
	store_close(s);

	s = open_ok(f->db);
	check_int("version after upgrade", store_schema_version(s),
	    store_latest_version());
	query_is(s, "SELECT group_concat(id || ':' || kind || ':' || state ||"
	    " ':' || coalesce(last_reply, '') || ':' ||"
	    " coalesce(dedup_key, ''), ' ') FROM (SELECT * FROM outbox"
	    " ORDER BY id)", "1:campaign:sent:250 ok: 5:ack:deferred::"
	    "ack:ENQ-2026-00001");
	/* Dropping the old table did not fire ON DELETE SET NULL. */
	query_is(s, "SELECT outbox_id FROM bounces", "1");
	query_is(s, "SELECT outbox_id FROM digest_items", "5");
	query_is(s, "PRAGMA foreign_keys", "1");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	query_is(s, "PRAGMA integrity_check", "ok");
	query_is(s, "SELECT group_concat(name, ' ') FROM (SELECT name FROM"
	    " sqlite_schema WHERE type = 'index' AND tbl_name = 'outbox'"
	    " AND sql IS NOT NULL ORDER BY name)", "outbox_body"
	    " outbox_campaign outbox_enquiry outbox_rcpt outbox_ready"
	    " outbox_subscriber");
	query_is(s, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'outbox_v2'", "0");
	query_is(s, "SELECT sql LIKE '%state IN%' FROM sqlite_schema"
	    " WHERE name = 'outbox'", "0");
	/* The same rule, and the references still hold. */
	exec_fails(s, "UPDATE outbox SET state = 'lost'",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET kind = 'spam'",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET campaign_id = 99 WHERE id = 1",
	    "FOREIGN KEY constraint failed");
	exec_fails(s, "DELETE FROM campaigns WHERE id = 7",
	    "FOREIGN KEY constraint failed");
	exec_ok(s, "DELETE FROM outbox WHERE id = 5");
	query_is(s, "SELECT coalesce(outbox_id, 'null') FROM digest_items",
	    "null");
	/* A campaign row may lose its subscriber only once it cannot go. */
	exec_ok(s, "UPDATE outbox SET subscriber_id = NULL WHERE id = 1");
	exec_fails(s, "UPDATE outbox SET state = 'queued' WHERE id = 1",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET state = 'deferred' WHERE id = 1",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET state = 'sending' WHERE id = 1",
	    "CHECK constraint failed");
	exec_ok(s, "UPDATE outbox SET state = 'skipped' WHERE id = 1");
	exec_fails(s, "UPDATE outbox SET campaign_id = NULL WHERE id = 1",
	    "CHECK constraint failed");
	store_close(s);
}

/*
 * Version 8 moves message bodies out of the outbox rows.  A version 7
 * database keeps every row and every body, byte for byte, each body under
 * its row's id; a body goes with the last row that points at it, whether
 * the row is deleted or pointed elsewhere, and not before.
 */
static void
test_version8(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	s = store_open_version(f->db, 7, &cause);
	assert_non_null(s);
	exec_ok(s, setup_sql);
	exec_ok(s, queue_sql);
	exec_ok(s, "INSERT INTO outbox (id, kind, message, mail_from, rcpt_to,"
	    " dedup_key, state, created_at, updated_at) VALUES (5, 'ack',"
	    " CAST('Subject: hi' || char(13, 10, 13, 10) || 'body' AS BLOB),"
	    " '', 'b@x', 'ack:ENQ-2026-00001', 'deferred', 1, 2),"
	    " (6, 'forward', X'00FF41', 'a@x', 'c@x', NULL, 'sent', 1, 2)");
	exec_ok(s, "INSERT INTO bounces (outbox_id, subscriber_id, recipient,"
	    " kind, received_at) VALUES (5, 1, 'b@x', 'hard', 3)");
	store_close(s);

	s = open_ok(f->db);
	query_is(s, "SELECT group_concat(id || ':' || kind || ':' || state ||"
	    " ':' || coalesce(body_id, '-'), ' ') FROM (SELECT * FROM outbox"
	    " ORDER BY id)", "1:campaign:queued:- 5:ack:deferred:5"
	    " 6:forward:sent:6");
	query_is(s, "SELECT hex(body) FROM outbox_bodies WHERE id = 5",
	    "5375626A6563743A2068690D0A0D0A626F6479");
	query_is(s, "SELECT hex(body) FROM outbox_bodies WHERE id = 6",
	    "00FF41");
	query_is(s, "SELECT outbox_id FROM bounces", "5");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	query_is(s, "SELECT count(*) FROM sqlite_schema"
	    " WHERE name = 'outbox_v8'", "0");
	/* A one-off row needs a body, and a body that exists. */
	exec_fails(s, "INSERT INTO outbox (kind, mail_from, rcpt_to,"
	    " created_at, updated_at) VALUES ('ack', 'a@x', 'b@x', 0, 0)",
	    "CHECK constraint failed");
	exec_fails(s, "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to,"
	    " created_at, updated_at) VALUES ('ack', 99, 'a@x', 'b@x', 0, 0)",
	    "FOREIGN KEY constraint failed");
	exec_fails(s, "DELETE FROM outbox_bodies WHERE id = 5",
	    "FOREIGN KEY constraint failed");

	/* Shared: the body stays while one row still points at it. */
	exec_ok(s, "INSERT INTO outbox (id, kind, body_id, mail_from, rcpt_to,"
	    " created_at, updated_at) VALUES (7, 'forward', 6, 'a@x', 'd@x',"
	    " 0, 0)");
	exec_ok(s, "DELETE FROM outbox WHERE id = 6");
	query_is(s, "SELECT count(*) FROM outbox_bodies WHERE id = 6", "1");
	exec_ok(s, "DELETE FROM outbox WHERE id = 7");
	query_is(s, "SELECT count(*) FROM outbox_bodies WHERE id = 6", "0");
	/* Pointed elsewhere: the old body goes. */
	exec_ok(s, "INSERT INTO outbox_bodies (id, body) VALUES (8, X'42')");
	exec_ok(s, "UPDATE outbox SET body_id = 8 WHERE id = 5");
	query_is(s, "SELECT group_concat(id) FROM outbox_bodies", "8");
	/* A state change leaves the body where it is. */
	exec_ok(s, "UPDATE outbox SET state = 'queued' WHERE id = 5");
	query_is(s, "SELECT group_concat(id) FROM outbox_bodies", "8");
	store_close(s);
}

/*
 * Version 11 gives every subscriber and enquiry its folded search keys
 * (NULL as ""), all or none; a searched column changed by another
 * program drops them (postroom then folds that row in the query), one
 * changed with them keeps them; the outbox is searchable by address in
 * any case.
 */
static void
test_version11(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	s = store_open_version(f->db, 10, &cause);
	assert_non_null(s);
	exec_ok(s, "INSERT INTO subscribers (id, email, name, created_at,"
	    " updated_at) VALUES (1, 'Zoe.B@example.org', 'Zoë Brontë', 0, 0),"
	    " (2, 'sian@example.org', NULL, 0, 0)");
	exec_ok(s, "INSERT INTO enquiries (reference, content_hash, sender,"
	    " sender_name, subject, received_at) VALUES ('ENQ-2026-00001',"
	    " 'h', 'Ed@NHS.example', 'Édith Piaf', NULL, 1)");
	store_close(s);

	s = open_ok(f->db);
	query_is(s, "SELECT group_concat(search_name || '|' || search_email,"
	    " ' ') FROM (SELECT * FROM subscribers ORDER BY id)",
	    "zoe bronte|zoe.b@example.org |sian@example.org");
	exec_fails(s, "UPDATE subscribers SET search_email = NULL WHERE id = 1",
	    "CHECK constraint failed");
	/* Another program changes a name: the keys go. */
	exec_ok(s, "UPDATE subscribers SET name = 'Zoe Jones' WHERE id = 1");
	query_is(s, "SELECT coalesce(search_name, 'NULL') || '|' ||"
	    " coalesce(search_email, 'NULL') FROM subscribers WHERE id = 1",
	    "NULL|NULL");
	/* ... the same row written with its keys keeps them. */
	exec_ok(s, "UPDATE subscribers SET email = 'zj@example.org',"
	    " search_name = 'zoe jones', search_email = 'zj@example.org'"
	    " WHERE id = 1");
	query_is(s, "SELECT search_name || '|' || search_email FROM subscribers"
	    " WHERE id = 1", "zoe jones|zj@example.org");
	/* Other columns leave them alone. */
	exec_ok(s, "UPDATE subscribers SET attrs = '{\"a\":1}' WHERE id = 2");
	query_is(s, "SELECT search_email FROM subscribers WHERE id = 2",
	    "sian@example.org");
	query_is(s, "SELECT search_sender || '|' || search_name || '|' ||"
	    " search_subject || '|' || search_reference FROM enquiries",
	    "ed@nhs.example|edith piaf||enq-2026-00001");
	exec_fails(s, "UPDATE enquiries SET search_subject = NULL",
	    "CHECK constraint failed");
	/* A merge's new sender drops them; the lead leaves them alone. */
	exec_ok(s, "UPDATE enquiries SET lead = 'general'");
	query_is(s, "SELECT count(*) FROM enquiries"
	    " WHERE search_sender IS NOT NULL", "1");
	exec_ok(s, "UPDATE enquiries SET sender = 'ed@nhs.example'");
	query_is(s, "SELECT count(*) FROM enquiries"
	    " WHERE search_sender IS NULL AND search_name IS NULL"
	    " AND search_subject IS NULL AND search_reference IS NULL", "1");
	query_is(s, "SELECT count(*) FROM sqlite_schema WHERE name IN"
	    " ('subscribers_search', 'subscribers_search_stale',"
	    " 'enquiries_search', 'enquiries_search_stale', 'outbox_rcpt')",
	    "5");
	store_close(s);
}

/* Bytes in the database's write-ahead log. */
static off_t
wal_size(const struct fixture *f)
{
	struct stat	 sb;
	char		*path;

	path = xprintf("%s-wal", f->db);
	if (stat(path, &sb) != 0)
		sb.st_size = 0;
	free(path);
	return sb.st_size;
}

/*
 * Claiming a row, giving it back and completing it touch only the small
 * row, never its message: the claim hands back no bytes (the engine reads
 * them later, outside its transaction), and the three commits together
 * write a few pages to the log, not the 4 MB message again (they wrote it
 * three times when the message was in the row: a whole record is written
 * at every UPDATE).
 */
static void
test_outbox_claim_body(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct store_outbox_msg	 m;
	struct store_outbox_row	 row;
	const int64_t		 now = 4000000000LL;
	size_t			 len = 4 * 1024 * 1024, i;
	int64_t			 id;
	char			*big, *cause = NULL, *want;
	off_t			 wal;

	big = xmalloc(len);
	for (i = 0; i < len; i++)
		big[i] = i % 78 == 76 ? '\r' : i % 78 == 77 ? '\n' : 'a' + i % 26;
	s = open_ok(f->db);
	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_FORWARD;
	m.mail_from = "enquiries@example.org";
	m.rcpt_to = "lead@example.org";
	m.message = big;
	m.len = len;
	m.dedup_key = "forward:ENQ-2026-00001:lead@example.org";
	assert_int_equal(store_outbox_add(s, &m, &id, &cause), 1);
	exec_ok(s, "PRAGMA wal_checkpoint(TRUNCATE)");
	check_int("log after the checkpoint", wal_size(f), 0);

	assert_int_equal(store_begin(s, &cause), 0);
	assert_int_equal(store_outbox_claim(s, id, now, &row, &cause), 1);
	assert_int_equal(store_commit(s, &cause), 0);
	if (row.message != NULL) {
		print_error("claim: got %zu bytes of message, want none\n",
		    row.len);
		fail();
	}
	store_outbox_row_clear(&row);
	assert_int_equal(store_outbox_release(s, id, now, &cause), 1);
	assert_int_equal(store_begin(s, &cause), 0);
	assert_int_equal(store_outbox_claim(s, id, now, &row, &cause), 1);
	assert_int_equal(store_commit(s, &cause), 0);
	store_outbox_row_clear(&row);
	assert_int_equal(store_outbox_complete(s, id, STORE_OUTBOX_DEFERRED,
	    451, "451 try later", now + 60, now, &cause), 1);
	wal = wal_size(f);
	if (wal > 256 * 1024) {
		print_error("claim, give back, claim, defer: got %lld bytes "
		    "written to the log, want at most 256 KB\n",
		    (long long)wal);
		fail();
	}
	/* The message is still there, byte for byte. */
	want = xprintf("%zu", len);
	query_is(s, "SELECT length(body) FROM outbox_bodies", want);
	free(want);
	store_close(s);
	free(big);
}

/*
 * The mail_unsubscribes table: a database from before it (version 2, with
 * a subscriber) gains it; a message is recorded once; an outcome is one
 * of the known ones; a person's rows go with them, others' stay.
 */
static void
test_mail_unsubscribes(void **state)
{
	struct fixture		*f = *state;
	struct store		*s;
	struct store_unsubscribe u;
	char			*cause = NULL;

	s = store_open_version(f->db, 2, &cause);
	assert_non_null(s);
	exec_ok(s, setup_sql);
	store_close(s);

	s = open_ok(f->db);
	memset(&u, 0, sizeof u);
	u.message_key = "<m1@example.net>";
	u.outcome = "done";
	u.subscriber_id = 1;
	u.list = "analyst-network";
	u.campaign_id = 7;
	u.detail = "unsubscribed";
	u.source = "pipe";
	u.received_at = 5;
	check_int("first add", store_unsubscribe_add(s, &u, &cause), 1);
	check_int("seen", store_unsubscribe_seen(s, "<m1@example.net>",
	    &cause), 1);
	check_int("not seen", store_unsubscribe_seen(s, "<m2@example.net>",
	    &cause), 0);
	u.outcome = "forged";
	check_int("same message again", store_unsubscribe_add(s, &u, &cause),
	    0);
	/* A token may name a subscriber who is not there: no link kept. */
	u.message_key = "sha256:00";
	u.subscriber_id = 99;
	check_int("unknown subscriber", store_unsubscribe_add(s, &u, &cause),
	    1);
	query_is(s, "SELECT group_concat(message_key || ':' || outcome || ':'"
	    " || coalesce(subscriber_id, 'null'), ' ') FROM (SELECT * FROM"
	    " mail_unsubscribes ORDER BY id)", "<m1@example.net>:done:1"
	    " sha256:00:forged:null");
	exec_fails(s, "UPDATE mail_unsubscribes SET outcome = 'maybe'",
	    "CHECK constraint failed");
	exec_ok(s, "DELETE FROM subscribers WHERE id = 1");
	query_is(s, "SELECT group_concat(message_key) FROM mail_unsubscribes",
	    "sha256:00");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	store_close(s);
}

/*
 * Version 4 adds campaigns.tested_at: a version 2 database keeps its
 * campaigns, which read as never tested (NULL), and the column takes a
 * time.
 */
static void
test_tested_at(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*cause = NULL;

	s = store_open_version(f->db, 2, &cause);
	assert_non_null(s);
	exec_ok(s, setup_sql);
	exec_fails(s, "UPDATE campaigns SET tested_at = 5",
	    "no such column: tested_at");
	store_close(s);

	s = open_ok(f->db);
	check_int("version after upgrade", store_schema_version(s),
	    store_latest_version());
	query_is(s, "SELECT id || ':' || subject || ':' ||"
	    " coalesce(tested_at, 'null') FROM campaigns", "7:Huddle:null");
	exec_ok(s, "UPDATE campaigns SET tested_at = 5");
	query_is(s, "SELECT tested_at FROM campaigns", "5");
	query_is(s, "PRAGMA integrity_check", "ok");
	store_close(s);
}

/*
 * Version 5 merges the people whose addresses differ only in case, and
 * version 6 keeps them one.  A version 4 database with three spellings of
 * Sian's address (and two of Zed's, the later id created first), their
 * lists, consent, campaign rows, a bounce, digest items, an unsubscribe
 * request by mail and an enquiry.
 */
static const char merge_sql[] =
    "INSERT INTO subscribers (id, email, name, attrs, created_at,"
    " updated_at) VALUES"
    " (1, 'Sian.Jones@nhs.uk', 'Siân Jones',"
    "  '{\"org\":\"DSU\",\"team\":\"A\"}', 100, 100),"
    " (2, 'sian.jones@nhs.uk', NULL,"
    "  '{\"team\":\"B\",\"role\":\"analyst\"}', 200, 260),"
    " (3, 'SIAN.JONES@nhs.uk', 'S J', '{}', 300, 300),"
    " (4, 'bob@example.org', 'Bob', '{}', 400, 400),"
    " (5, 'Zed@example.org', 'Zed', '{}', 50, 50),"
    " (6, 'zed@example.org', NULL, '{}', 40, 40);"
    "INSERT INTO memberships (subscriber_id, list, status, mode,"
    " consent_at, consent_method, consent_source, confirmed_at,"
    " unsubscribed_at, created_at, updated_at) VALUES"
    " (1, 'news', 'confirmed', 'digest', 150, 'staff', 'cli:a', 150,"
    "  NULL, 150, 150),"
    " (2, 'news', 'unsubscribed', 'immediate', 120, 'web', 'web:1.2.3.4',"
    "  120, 250, 110, 250),"
    " (3, 'news', 'pending', 'immediate', NULL, 'web', NULL, NULL, NULL,"
    "  300, 300),"
    " (2, 'training', 'confirmed', 'immediate', 210, 'import', 'a.csv',"
    "  210, NULL, 210, 210),"
    " (1, 'analyst-network', 'pending', 'immediate', NULL, 'web', NULL,"
    "  NULL, NULL, 160, 160),"
    " (3, 'analyst-network', 'confirmed', 'immediate', 310, 'staff',"
    "  'cli:b', 310, NULL, 310, 310),"
    " (1, 'evaluation', 'confirmed', 'immediate', 170, 'staff', 'cli:c',"
    "  170, NULL, 170, 170),"
    " (2, 'evaluation', 'bounced', 'immediate', 220, 'web', 'web:x',"
    "  220, NULL, 220, 230),"
    " (5, 'news', 'confirmed', 'immediate', 55, 'staff', 'cli:z', 55,"
    "  NULL, 55, 55);"
    "INSERT INTO campaigns (id, list, subject, body, status, created_at,"
    " updated_at) VALUES (7, 'news', 'One', 'x', 'sending', 0, 0),"
    " (8, 'news', 'Two', 'x', 'sending', 0, 0),"
    " (9, 'news', 'Three', 'x', 'sending', 0, 0);"
    "INSERT INTO outbox (id, kind, campaign_id, subscriber_id, mail_from,"
    " rcpt_to, state, created_at, updated_at) VALUES"
    " (10, 'campaign', 7, 1, 'b@x.org', 'Sian.Jones@nhs.uk', 'sent', 1, 1),"
    " (11, 'campaign', 7, 2, 'b@x.org', 'sian.jones@nhs.uk', 'queued', 1,"
    "  1),"
    " (12, 'campaign', 8, 1, 'b@x.org', 'Sian.Jones@nhs.uk', 'deferred',"
    "  1, 1),"
    " (13, 'campaign', 8, 2, 'b@x.org', 'sian.jones@nhs.uk', 'sent', 1, 1),"
    " (14, 'campaign', 9, 3, 'b@x.org', 'SIAN.JONES@nhs.uk', 'queued', 1,"
    "  1),"
    " (15, 'campaign', 9, 2, 'b@x.org', 'sian.jones@nhs.uk', 'failed', 1,"
    "  1);"
    "INSERT INTO outbox (id, kind, subscriber_id, message, mail_from,"
    " rcpt_to, dedup_key, state, created_at, updated_at) VALUES"
    " (16, 'confirm', 3, X'41', 'e@x.org', 'SIAN.JONES@nhs.uk',"
    "  'confirm:analyst-network:3:2026-03-14', 'sent', 1, 1);"
    "INSERT INTO bounces (outbox_id, subscriber_id, recipient, kind,"
    " received_at) VALUES (15, 2, 'sian.jones@nhs.uk', 'hard', 5);"
    "INSERT INTO digest_items (subscriber_id, campaign_id, list, period,"
    " created_at) VALUES (1, 7, 'news', '2026-W01', 1),"
    " (2, 7, 'news', '2026-W01', 1), (2, 8, 'news', '2026-W02', 1);"
    "INSERT INTO enquiries (reference, content_hash, sender, received_at)"
    " VALUES ('ENQ-2026-00001', 'h1', 'SIAN.jones@NHS.uk', 1),"
    " ('ENQ-2026-00002', 'h2', 'bob@example.org', 2);";

/* What stderr held while fn(arg) ran. */
static char *
capture_stderr(const char *dir, struct store *(*fn)(const char *),
    const char *arg, struct store **out)
{
	char	*path, *text;
	size_t	 len;
	int	 fd, saved;

	path = xprintf("%s/stderr", dir);
	fflush(stderr);
	assert_true((saved = dup(STDERR_FILENO)) != -1);
	assert_true((fd = open(path, O_WRONLY|O_CREAT|O_TRUNC, 0600)) != -1);
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	close(fd);
	*out = fn(arg);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	text = read_file(path, &len);
	unlink(path);
	free(path);
	return text;
}

static void
test_merge_case(void **state)
{
	struct fixture		*f = *state;
	struct store_subscriber	 sub;
	struct store		*s;
	char			*cause = NULL, *log;
	int64_t			 id;

	s = store_open_version(f->db, 4, &cause);
	assert_non_null(s);
	exec_ok(s, merge_sql);
	exec_ok(s, "INSERT INTO mail_unsubscribes (message_key, outcome,"
	    " subscriber_id, list, campaign_id, detail, source, received_at)"
	    " VALUES ('<u@example.net>', 'done', 3, 'news', 7, 'unsubscribed',"
	    " 'pipe', 5)");
	store_close(s);

	log = capture_stderr(f->dir, open_ok, f->db, &s);
	check_int("version after upgrade", store_schema_version(s),
	    store_latest_version());
	/* It says what it merged, by id, never by address. */
	if (strstr(log, "3 subscribers merged into 2 whose address is the "
	    "same but for case (subscriber 2 into 1, 3 into 1, 5 into 6)") ==
	    NULL || strchr(log, '@') != NULL) {
		print_error("log: got \"%s\"\n", log);
		fail();
	}
	free(log);

	/* One person each, in the form first given, with united details. */
	query_is(s, "SELECT group_concat(id || ' ' || email, ', ') FROM"
	    " (SELECT * FROM subscribers ORDER BY id)",
	    "1 Sian.Jones@nhs.uk, 4 bob@example.org, 6 zed@example.org");
	query_is(s, "SELECT name FROM subscribers WHERE id = 1", "Siân Jones");
	query_is(s, "SELECT name FROM subscribers WHERE id = 6", "Zed");
	query_is(s, "SELECT json_extract(attrs, '$.team') || ' ' ||"
	    " json_extract(attrs, '$.org') || ' ' || json_extract(attrs,"
	    " '$.role') FROM subscribers WHERE id = 1", "A DSU analyst");
	query_is(s, "SELECT group_concat(merged_id || '>' || subscriber_id,"
	    " ' ') FROM (SELECT * FROM subscriber_merges ORDER BY merged_id)",
	    "2>1 3>1 5>6");

	/*
	 * Lists united: unsubscribed beats confirmed and pending, bounced
	 * beats confirmed; the earliest consent is kept with its method.
	 */
	query_is(s, "SELECT group_concat(list || ':' || status || ':' || mode"
	    " || ':' || coalesce(consent_at, '-') || ':' ||"
	    " coalesce(consent_method, '-') || ':' ||"
	    " coalesce(consent_source, '-') || ':' ||"
	    " coalesce(confirmed_at, '-') || ':' ||"
	    " coalesce(unsubscribed_at, '-') || ':' || created_at, ' ')"
	    " FROM (SELECT * FROM memberships WHERE subscriber_id = 1"
	    " ORDER BY list)",
	    "analyst-network:confirmed:immediate:310:staff:cli:b:310:-:160"
	    " evaluation:bounced:immediate:170:staff:cli:c:170:-:170"
	    " news:unsubscribed:digest:120:web:web:1.2.3.4:120:250:110"
	    " training:confirmed:immediate:210:import:a.csv:210:-:210");
	query_is(s, "SELECT group_concat(list || ':' || status, ' ') FROM"
	    " memberships WHERE subscriber_id = 6", "news:confirmed");
	query_is(s, "SELECT count(*) FROM memberships", "5");

	/*
	 * One row per person and campaign: the one sent is kept; a
	 * duplicate still waiting is skipped, never sent, and stays without
	 * a subscriber; a waiting row goes to the form first given.
	 */
	query_is(s, "SELECT group_concat(id || ':' || coalesce(subscriber_id,"
	    " '-') || ':' || state || ':' || rcpt_to, ' ') FROM"
	    " (SELECT * FROM outbox ORDER BY id)",
	    "10:1:sent:Sian.Jones@nhs.uk 11:-:skipped:sian.jones@nhs.uk"
	    " 12:-:skipped:Sian.Jones@nhs.uk 13:1:sent:sian.jones@nhs.uk"
	    " 14:1:queued:Sian.Jones@nhs.uk 15:-:failed:sian.jones@nhs.uk"
	    " 16:1:sent:SIAN.JONES@nhs.uk");
	query_is(s, "SELECT last_reply FROM outbox WHERE id = 11",
	    "merged: a duplicate of subscriber 1's row");
	query_is(s, "SELECT subscriber_id || ' ' || outbox_id FROM bounces",
	    "1 15");
	query_is(s, "SELECT group_concat(subscriber_id || ':' || campaign_id,"
	    " ' ') FROM (SELECT * FROM digest_items ORDER BY campaign_id)",
	    "1:7 1:8");
	query_is(s, "SELECT group_concat(sender, ' ') FROM (SELECT * FROM"
	    " enquiries ORDER BY id)", "Sian.Jones@nhs.uk bob@example.org");

	query_is(s, "SELECT subscriber_id FROM mail_unsubscribes", "1");

	/* The audit log has each merge, by id. */
	query_is(s, "SELECT count(*) FROM events WHERE kind ="
	    " 'subscriber.merge' AND instr(detail, '@') = 0", "3");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	query_is(s, "PRAGMA integrity_check", "ok");

	/* From now on the schema keeps them one, and finds any spelling. */
	exec_fails(s, "INSERT INTO subscribers (email, created_at, updated_at)"
	    " VALUES ('SIAN.jones@nhs.uk', 1, 1)", "UNIQUE constraint failed");
	memset(&sub, 0, sizeof sub);
	assert_int_equal(store_subscriber_get(s, "sIAN.jONES@nhs.uk", &sub,
	    &cause), 1);
	check_int("found in another case", sub.id, 1);
	assert_str_eq_msg("kept as first given", sub.email,
	    "Sian.Jones@nhs.uk");
	store_subscriber_clear(&sub);
	/* A link carrying a merged id finds the person. */
	assert_int_equal(store_subscriber_get_id(s, 3, &sub, &cause), 1);
	check_int("merged id 3", sub.id, 1);
	store_subscriber_clear(&sub);
	/* An id is never given again, merged ones included. */
	assert_int_equal(store_subscriber_add(s, "new@example.org", NULL, NULL,
	    &id, &cause), 1);
	check_int("new id above every old one", id > 6, 1);
	store_close(s);
}

static void
test_outbox_unique(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;
	char		*sql;

	s = open_ok(f->db);
	exec_ok(s, setup_sql);
	exec_ok(s, queue_sql);
	exec_fails(s, queue_sql,
	    "UNIQUE constraint failed: outbox.campaign_id, "
	    "outbox.subscriber_id");
	sql = xprintf("INSERT OR IGNORE%s", queue_sql + strlen("INSERT"));
	exec_ok(s, sql);
	free(sql);
	query_is(s, "SELECT count(*) FROM outbox", "1");

	/*
	 * One address, one subscriber.  (address.c normalises the domain's
	 * case before anything is stored, so the column compares exactly.)
	 */
	exec_fails(s, "INSERT INTO subscribers (email, created_at, updated_at)"
	    " VALUES ('ann@example.org', 0, 0)",
	    "UNIQUE constraint failed: subscribers.email");

	/* One-off mail has no campaign: many rows are fine... */
	exec_ok(s, "INSERT INTO outbox_bodies (id, body) VALUES (1, X'41')");
	exec_ok(s, "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to,"
	    " created_at, updated_at) VALUES ('forward', 1, 'a@x', 'b@x',"
	    " 0, 0), ('forward', 1, 'a@x', 'b@x', 0, 0)");
	/* ...unless they share a dedup key. */
	exec_ok(s, "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to,"
	    " dedup_key, created_at, updated_at) VALUES ('ack', 1, 'a@x',"
	    " 'b@x', 'ack:ENQ-2026-00001', 0, 0)");
	exec_fails(s, "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to,"
	    " dedup_key, created_at, updated_at) VALUES ('ack', 1, 'a@x',"
	    " 'b@x', 'ack:ENQ-2026-00001', 0, 0)",
	    "UNIQUE constraint failed: outbox.dedup_key");

	/* What the schema's CHECKs refuse. */
	exec_fails(s, "INSERT INTO outbox (kind, campaign_id, mail_from,"
	    " rcpt_to, created_at, updated_at) VALUES ('campaign', 7, 'a@x',"
	    " 'b@x', 0, 0)", "CHECK constraint failed");
	exec_fails(s, "INSERT INTO outbox (kind, mail_from, rcpt_to,"
	    " created_at, updated_at) VALUES ('forward', 'a@x', 'b@x', 0, 0)",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET state = 'lost'",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE outbox SET kind = 'spam'",
	    "CHECK constraint failed");
	exec_fails(s, "UPDATE subscribers SET attrs = '{not json'",
	    "CHECK constraint failed");
	/* STRICT tables: a word is not a time. */
	exec_fails(s, "UPDATE outbox SET next_attempt_at = 'soon'",
	    "cannot store TEXT value in INTEGER column");
	query_is(s, "SELECT count(*) FROM outbox", "4");
	store_close(s);
}

static void
test_foreign_keys(void **state)
{
	struct fixture	*f = *state;
	struct store	*s;

	s = open_ok(f->db);
	exec_ok(s, setup_sql);
	exec_fails(s, "INSERT INTO memberships (subscriber_id, list,"
	    " created_at, updated_at) VALUES (999, 'training', 0, 0)",
	    "FOREIGN KEY constraint failed");
	exec_fails(s, "INSERT INTO outbox (kind, campaign_id, subscriber_id,"
	    " mail_from, rcpt_to, created_at, updated_at) VALUES ('campaign',"
	    " 99, 1, 'a@x', 'b@x', 0, 0)", "FOREIGN KEY constraint failed");

	exec_ok(s, "INSERT INTO memberships (subscriber_id, list, status,"
	    " consent_at, consent_method, consent_source, created_at,"
	    " updated_at) VALUES (1, 'analyst-network', 'confirmed', 5,"
	    " 'staff', 'enquiries staff', 0, 0)");
	exec_ok(s, queue_sql);

	/* A campaign with delivery history cannot vanish. */
	exec_fails(s, "DELETE FROM campaigns WHERE id = 7",
	    "FOREIGN KEY constraint failed");
	/* Forgetting a subscriber takes his memberships and mail with him. */
	exec_ok(s, "DELETE FROM subscribers WHERE id = 1");
	query_is(s, "SELECT count(*) FROM memberships", "0");
	query_is(s, "SELECT count(*) FROM outbox", "0");
	query_is(s, "PRAGMA foreign_key_check", NULL);
	store_close(s);
}

static void
test_transactions(void **state)
{
	struct fixture	*f = *state;
	struct store	*a, *b;
	char		*value = NULL, *cause = NULL;

	a = open_ok(f->db);
	b = open_ok(f->db);

	/* Rolled back: gone. */
	assert_int_equal(store_begin(a, &cause), 0);
	check_int("in transaction", store_in_transaction(a), 1);
	assert_int_equal(store_kv_set(a, "k", "1", &cause), 0);
	store_rollback(a);
	check_int("in transaction after rollback", store_in_transaction(a), 0);
	check_int("rolled back", store_kv_get(a, "k", &value, &cause), 0);

	/* Transactions do not nest. */
	assert_int_equal(store_begin(a, &cause), 0);
	check_int("nested begin", store_begin(a, &cause), -1);
	check_cause("nested begin", cause, "a transaction is already open");
	free(cause);
	cause = NULL;
	check_int("nested begin is not busy", store_busy(a), 0);

	/* Another writer waits, then gives up, saying it was busy. */
	assert_int_equal(store_kv_set(a, "k", "2", &cause), 0);
	store_set_busy_timeout(b, 50);
	check_int("begin while locked", store_begin(b, &cause), -1);
	check_int("store_busy", store_busy(b), 1);
	check_cause("busy", cause, "database is locked");
	free(cause);
	cause = NULL;
	/* Readers still see the last commit (WAL). */
	check_int("read during write", store_kv_get(b, "k", &value, &cause),
	    0);

	assert_int_equal(store_commit(a, &cause), 0);
	check_int("begin after commit", store_begin(b, &cause), 0);
	check_int("get after commit", store_kv_get(b, "k",
	    &value, &cause), 1);
	assert_str_eq_msg("committed value", value, "2");
	free(value);
	store_rollback(b);
	store_rollback(b);	/* harmless without a transaction */

	/* A commit without a transaction is an error, not a crash. */
	check_int("commit without begin", store_commit(a, &cause), -1);
	free(cause);
	cause = NULL;

	/* Closing with a transaction open rolls it back. */
	assert_int_equal(store_begin(a, &cause), 0);
	assert_int_equal(store_kv_set(a, "k", "3", &cause), 0);
	store_close(a);
	check_int("get after close", store_kv_get(b, "k", &value, &cause), 1);
	assert_str_eq_msg("value after abandoned transaction", value, "2");
	free(value);
	store_close(b);
}

static void
test_outbox_counts(void **state)
{
	struct fixture			*f = *state;
	struct store			*s;
	struct store_outbox_counts	 c;
	char				*cause = NULL;

	s = open_ok(f->db);
	assert_int_equal(store_outbox_counts(s, 0, 1000, &c, &cause), 0);
	check_int("empty total", c.total, 0);
	check_int("empty oldest", c.oldest, 0);
	check_int("empty next", c.next_attempt, 0);
	assert_int_equal(store_outbox_unsent(s, &c, &cause), 0);
	check_int("empty unsent total", c.total, 0);

	exec_ok(s, setup_sql);
	exec_ok(s, "INSERT INTO subscribers (id, email, created_at, updated_at)"
	    " VALUES (2, 'bob@example.org', 0, 0),"
	    " (3, 'cy@example.org', 0, 0)");
	exec_ok(s, "INSERT INTO outbox (kind, campaign_id, subscriber_id,"
	    " mail_from, rcpt_to, state, next_attempt_at, created_at,"
	    " updated_at) VALUES"
	    " ('campaign', 7, 1, 'f', 'r', 'sent', 0, 100, 0),"
	    " ('campaign', 7, 2, 'f', 'r', 'deferred', 2000, 200, 0),"
	    " ('campaign', 7, 3, 'f', 'r', 'queued', 900, 300, 0)");
	exec_ok(s, "INSERT INTO outbox_bodies (id, body) VALUES (1, X'41')");
	exec_ok(s, "INSERT INTO outbox (kind, body_id, mail_from, rcpt_to,"
	    " state, next_attempt_at, created_at, updated_at) VALUES"
	    " ('ack', 1, 'f', 'r', 'queued', 500, 50, 0),"
	    " ('forward', 1, 'f', 'r', 'sending', 0, 40, 0),"
	    " ('forward', 1, 'f', 'r', 'failed', 0, 10, 0),"
	    " ('confirm', 1, 'f', 'r', 'skipped', 0, 10, 0)");

	assert_int_equal(store_outbox_counts(s, 0, 1000, &c, &cause), 0);
	check_int("total", c.total, 7);
	check_int("queued", c.state[STORE_OUTBOX_QUEUED], 2);
	check_int("sending", c.state[STORE_OUTBOX_SENDING], 1);
	check_int("sent", c.state[STORE_OUTBOX_SENT], 1);
	check_int("deferred", c.state[STORE_OUTBOX_DEFERRED], 1);
	check_int("failed", c.state[STORE_OUTBOX_FAILED], 1);
	check_int("skipped", c.state[STORE_OUTBOX_SKIPPED], 1);
	check_int("due", c.due, 2);
	check_int("oldest", c.oldest, 40);
	check_int("next attempt", c.next_attempt, 500);

	assert_int_equal(store_outbox_counts(s, 7, 1000, &c, &cause), 0);
	check_int("campaign total", c.total, 3);
	check_int("campaign sent", c.state[STORE_OUTBOX_SENT], 1);
	check_int("campaign due", c.due, 1);
	check_int("campaign oldest", c.oldest, 200);
	check_int("campaign next attempt", c.next_attempt, 900);

	assert_int_equal(store_outbox_counts(s, 8, 1000, &c, &cause), 0);
	check_int("other campaign total", c.total, 0);

	/* The same, less the sent rows, from store_outbox_unsent(). */
	assert_int_equal(store_outbox_unsent(s, &c, &cause), 0);
	check_int("unsent total", c.total, 6);
	check_int("unsent queued", c.state[STORE_OUTBOX_QUEUED], 2);
	check_int("unsent sending", c.state[STORE_OUTBOX_SENDING], 1);
	check_int("unsent sent (not counted)", c.state[STORE_OUTBOX_SENT], 0);
	check_int("unsent deferred", c.state[STORE_OUTBOX_DEFERRED], 1);
	check_int("unsent failed", c.state[STORE_OUTBOX_FAILED], 1);
	check_int("unsent skipped", c.state[STORE_OUTBOX_SKIPPED], 1);
	check_int("unsent due (not counted)", c.due, 0);
	store_close(s);
}

static int
collect_reference(const struct store_enquiry *e, void *arg)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_addc(b, ' ');
	buf_addstr(b, e->reference);
	return 0;
}

/* One a call, then stop: the walk ends when fn says so. */
static int
first_reference(const struct store_enquiry *e, void *arg)
{
	buf_addstr(arg, e->reference);
	return 1;
}

/*
 * store_enquiry_search(): lead, received from and before, and text in the
 * sender's address or name, the subject or the reference, whatever the
 * case and accents; newest first.
 */
static void
test_enquiry_search(void **state)
{
	static const struct {
		const char			*what;
		struct store_enquiry_query	 q;
		const char			*want;
	} t[] = {
		{ "all", { NULL, 0, 0, NULL }, "E5 E4 E3 E2 E1" },
		{ "one lead", { "west_dsu", 0, 0, NULL }, "E4 E1" },
		{ "since", { NULL, 300, 0, NULL }, "E5 E4 E3" },
		{ "until (before)", { NULL, 0, 300, NULL }, "E2 E1" },
		{ "since and until", { NULL, 200, 400, NULL }, "E3 E2" },
		{ "name, no accent", { NULL, 0, 0, "sian" }, "E4 E1" },
		{ "name, accent", { NULL, 0, 0, "SIÂN" }, "E4 E1" },
		{ "address", { NULL, 0, 0, "ed@NHS" }, "E2" },
		{ "subject, accent", { NULL, 0, 0, "cafe" }, "E3" },
		{ "subject, combining", { NULL, 0, 0, "Cafe\xcc\x81 s" },
		    "E3" },
		{ "reference", { NULL, 0, 0, "e5" }, "E5" },
		{ "lead and text", { "west_dsu", 0, 0, "jones" }, "E1" },
		{ "nothing", { NULL, 0, 0, "zzqx" }, "" },
		{ "empty text: all", { NULL, 0, 0, "" }, "E5 E4 E3 E2 E1" },
	};
	struct fixture			*f = *state;
	struct store			*s;
	struct store_enquiry_query	 q;
	struct buf			 b;
	char				*cause = NULL;
	int64_t				 n;
	size_t				 i;
	int				 round;

	s = open_ok(f->db);
	exec_ok(s, "INSERT INTO enquiries (reference, content_hash, sender,"
	    " sender_name, subject, lead, received_at) VALUES"
	    " ('E1', 'h1', 'sian@example.org', 'Siân Jones',"
	    "  'DSU business case', 'west_dsu', 100),"
	    " ('E2', 'h2', 'ed@nhs.example.net', NULL, 'Hosting',"
	    "  'east_dsu', 200),"
	    " ('E3', 'h3', NULL, 'Ed East', 'Café session', 'general', 300),"
	    " ('E4', 'h4', 'x@example.org', 'SIAN Evans', NULL,"
	    "  'west_dsu', 400),"
	    " ('E5', 'h5', 'y@example.org', 'Y', 'Huddles', 'training', 500)");
	/*
	 * Written by "another program", so without search keys; then two
	 * given keys (store_enquiry_search_keys()), then all: the same
	 * answers each time.
	 */
	buf_init(&b, BUF_NOMAX);
	for (round = 0; round < 3; round++) {
		if (round > 0) {
			assert_int_equal(store_enquiry_search_keys(s, 2, &n,
			    &cause), 0);
			check_int("keyed", n, 2);
		}
		for (i = 0; i < sizeof t / sizeof t[0]; i++) {
			buf_reset(&b);
			buf_addstr(&b, "");
			if (store_enquiry_search(s, &t[i].q,
			    collect_reference, &b, &cause) != 0) {
				print_error("%s: got \"%s\", want success\n",
				    t[i].what, cause);
				fail();
			}
			assert_str_eq_msg(t[i].what, b.data, t[i].want);
		}
	}
	assert_int_equal(store_enquiry_search_keys(s, 2, &n, &cause), 0);
	check_int("keyed at last", n, 1);
	query_is(s, "SELECT count(*) FROM enquiries"
	    " WHERE search_sender IS NULL", "0");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		buf_reset(&b);
		buf_addstr(&b, "");
		assert_int_equal(store_enquiry_search(s, &t[i].q,
		    collect_reference, &b, &cause), 0);
		assert_str_eq_msg(t[i].what, b.data, t[i].want);
	}
	query_is(s, "SELECT search_sender || '|' || search_name || '|' ||"
	    " search_subject || '|' || search_reference FROM enquiries"
	    " WHERE reference = 'E3'", "|ed east|cafe session|e3");

	/* Erased (store_subscriber_erase()'s blanking): the keys go too. */
	exec_ok(s, "UPDATE enquiries SET sender = NULL, sender_name = NULL,"
	    " subject = NULL WHERE reference = 'E1'");
	query_is(s, "SELECT coalesce(search_sender, search_name,"
	    " search_subject, search_reference, 'none') FROM enquiries"
	    " WHERE reference = 'E1'", "none");
	buf_reset(&b);
	buf_addstr(&b, "");
	memset(&q, 0, sizeof q);
	q.text = "sian";
	assert_int_equal(store_enquiry_search(s, &q, collect_reference, &b,
	    &cause), 0);
	assert_str_eq_msg("erased: not found by name", b.data, "E4");

	/* store_enquiry_add() writes the keys with the row. */
	{
		struct store_enquiry	e;

		memset(&e, 0, sizeof e);
		e.reference = "ENQ-2026-00007";
		e.content_hash = "h7";
		e.sender = "Ana@Example.org";
		e.sender_name = "Ana Núñez";
		e.subject = "Évaluation";
		e.lead = "general";
		e.rule = e.reason = e.source = e.parse_status = e.ack = "";
		e.received_at = 50;
		assert_int_equal(store_enquiry_add(s, &e, "x", 1, &cause), 0);
	}
	query_is(s, "SELECT search_sender || '|' || search_name || '|' ||"
	    " search_subject || '|' || search_reference FROM enquiries"
	    " WHERE reference = 'ENQ-2026-00007'",
	    "ana@example.org|ana nunez|evaluation|enq-2026-00007");

	/* fn stops the walk; store_enquiry_each() is the same walk. */
	buf_reset(&b);
	buf_addstr(&b, "");
	memset(&q, 0, sizeof q);
	assert_int_equal(store_enquiry_search(s, &q, first_reference, &b,
	    &cause), 0);
	assert_str_eq_msg("stopped", b.data, "E5");
	buf_reset(&b);
	buf_addstr(&b, "");
	assert_int_equal(store_enquiry_each(s, "west_dsu", 200,
	    collect_reference, &b, &cause), 0);
	assert_str_eq_msg("each", b.data, "E4");
	buf_free(&b);
	store_close(s);
}

static void
test_names(void **state)
{
	enum store_outbox_state	st;
	enum store_outbox_kind	kind;
	int			i;

	(void)state;
	for (i = 0; i < STORE_OUTBOX_NSTATES; i++) {
		assert_int_equal(store_outbox_state_parse(
		    store_outbox_state_name(i), &st), 0);
		check_int(store_outbox_state_name(i), st, i);
	}
	for (i = 0; i < STORE_OUTBOX_NKINDS; i++) {
		assert_int_equal(store_outbox_kind_parse(
		    store_outbox_kind_name(i), &kind), 0);
		check_int(store_outbox_kind_name(i), kind, i);
	}
	assert_string_equal(store_outbox_state_name(STORE_OUTBOX_DEFERRED),
	    "deferred");
	assert_string_equal(store_outbox_kind_name(STORE_OUTBOX_LEAD_DIGEST),
	    "lead_digest");
	check_int("unknown state", store_outbox_state_parse("lost", &st), -1);
	check_int("unknown kind", store_outbox_kind_parse("spam", &kind), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_unsubscribes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tested_at, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_merge_case, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_migration_atomic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_program, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_versioned, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_sqlite, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kv_events, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_unique, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_counts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_version8, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_version11, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_outbox_claim_body, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_enquiry_search, setup,
		    teardown),
		cmocka_unit_test(test_names),
	};

	log_init("test-store", LOGL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
