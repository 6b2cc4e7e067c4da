/*
 * store-int.h - for the store's own files only (store.c, store-*.c).
 *
 * store.c owns the SQLite connection and is the one file that includes
 * <sqlite3.h>; the queries of each concern live beside it in store-NAME.c
 * (subscribers, campaigns, outbox ...) and run through these helpers, so
 * that they see neither sqlite3.h nor each other.  Nothing outside the
 * store includes this header.
 *
 * SQL text handed to these helpers must be a fixed string: its prepared
 * statement is cached under that text for the connection's life.  A cached
 * statement is not re-entrant: do not run the same SQL text again while
 * still stepping through its rows.
 *
 * Binding: one letter of fmt per '?' parameter, in order:
 *	i int	I int64_t	d double	n NULL (no argument)
 *	t const char * (NULL binds NULL)	b const void *, size_t
 * Text and blobs are not copied: they must live until store_done().
 */
#ifndef POSTROOM_STORE_INT_H
#define POSTROOM_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct store_stmt;	/* a prepared statement, opaque outside store.c */

/* Run to completion ignoring rows: the number of rows changed, or -1. */
int		 store_run(struct store *, char **cause, const char *sql,
		    const char *fmt, ...);
/* Prepare and bind; step with store_step(), always finish with store_done(). */
struct store_stmt *store_query(struct store *, char **cause, const char *sql,
		    const char *fmt, ...);
/* 1 for a row, 0 when done, -1 on error. */
int		 store_step(struct store *, struct store_stmt *, char **cause);
void		 store_done(struct store_stmt *);
/*
 * The first column of st's rows into ids from ids[*n], up to max in all,
 * then store_done(st): 0, or -1 (also for a NULL st, a failed query).
 */
int		 store_step_ids(struct store *, struct store_stmt *,
		    int64_t *ids, size_t max, size_t *n, char **cause);
/* First column of the first row: 1 with *value, 0 no row or NULL, -1. */
int		 store_query_int(struct store *, int64_t *value, char **cause,
		    const char *sql, const char *fmt, ...);

char		*store_column_text(struct store_stmt *, int col); /* new, or NULL */
/* A column as a new string, a copy of dflt for an SQL NULL. */
char		*store_column_text_or(struct store_stmt *, int col,
		    const char *dflt);
const char	*store_column_peek(struct store_stmt *, int col); /* till next step */
int64_t		 store_column_int(struct store_stmt *, int col);
double		 store_column_double(struct store_stmt *, int col);
const void	*store_column_blob(struct store_stmt *, int col, size_t *len);
/* A copy of a blob column (NUL-terminated; the caller frees), its length. */
char		*store_column_bytes(struct store_stmt *, int col, size_t *len);
int		 store_column_is_null(struct store_stmt *, int col);
int64_t		 store_last_insert_id(struct store *);

/*
 * One step: sql, then (when set) fn in the same transaction, for work SQL
 * alone cannot do: a decision per row, a report of what was done.  fn
 * returns 0, or -1 with *cause.  Like the SQL, a step's fn is never
 * changed once released: it must keep working on the schema of its own
 * version, so it names its columns and uses nothing that later versions
 * may change.
 */
struct store_migration {
	const char	*sql;
	int		(*fn)(struct store *, char **cause);
};

/*
 * store-schema.c: store_migrations[N] takes a database from version N-1
 * to N ([0] is the empty database); store_schema_latest is the last N.
 */
extern const struct store_migration store_migrations[];
extern const int store_schema_latest;

/*
 * Schema version 5's step (store-merge.c): merge the subscribers whose
 * addresses differ only in case.  0, or -1 with *cause.
 */
int		 store_merge_case(struct store *, char **cause);
/*
 * The key of the forgotten-address hashes (store.c says where it is kept),
 * loaded or made on first use: 0 with *key (the store's, valid while it is
 * open), or -1 with *cause.
 */
int		 store_forget_key(struct store *, const unsigned char **key,
		    char **cause);

/* The index of name in names[0..n), or -1: for the *_parse functions. */
int		 store_name_index(const char *const *names, int n,
		    const char *name);

#endif
