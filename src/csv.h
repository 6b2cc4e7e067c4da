/*
 * csv.h - RFC 4180 comma-separated values, read and written.
 *
 * Reading is RFC 4180 and what spreadsheets really write: fields quoted
 * with '"' may hold commas, doubled quotes and line breaks; records end in
 * CRLF, LF or a lone CR; the last record needs no line end; a UTF-8 byte
 * order mark at the start of the file is skipped.  Inside a quoted field a
 * CRLF (or lone CR) is read as LF, so that a value means the same however
 * the file's lines end.  A quote inside an unquoted field is taken
 * literally (a"b); a quoted field must be followed by a comma or the end
 * of the record ("a"b is an error), and one still open at the end of the
 * file is an error naming the line where it opened.  An empty line is a
 * record of one empty field.  Fields are bytes: checking UTF-8 is the
 * caller's business; a NUL byte is an error.
 *
 * Each record knows the physical line it starts on (1 for the first), so
 * a caller can point at "line 7" even after fields spanning lines.
 *
 * Writing: fields are quoted when they hold a comma, quote, CR or LF, or
 * start or end with a space or tab (so that trimming readers keep them);
 * quotes are doubled; records end with CRLF.
 *
 * Owns: the CSV syntax.  Does not own: what the columns mean (the
 * subscriber import in cmd-subscriber.c).
 *
 * Memory: a struct csv_reader reads from a FILE the caller opened and
 * closes; a record and its fields belong to the reader and last until the
 * next csv_read() or csv_reader_free().
 */
#ifndef POSTROOM_CSV_H
#define POSTROOM_CSV_H

#include <stddef.h>
#include <stdio.h>

struct buf;
struct csv_reader;

#define CSV_MAX_RECORD	(1024 * 1024)	/* bytes in one record */
#define CSV_MAX_FIELDS	1000

struct csv_record {
	char		**fields;	/* NUL-terminated */
	size_t		 *lens;
	size_t		  n;		/* >= 1 */
	unsigned long	  line;		/* physical line it starts on */
};

struct csv_reader *csv_reader_new(FILE *);
void		 csv_reader_free(struct csv_reader *);	/* NULL is fine */

/*
 * Read the next record: 1 with *rec set, 0 at the end of the file, -1 with
 * *cause (caller frees) like "line 12: quoted field is not closed (it
 * opens here)" or a read error.  After -1 the reader is not usable.
 */
int		 csv_read(struct csv_reader *, struct csv_record **rec,
		    char **cause);

/* Append one field / one record (fields joined by commas, then CRLF). */
int		 csv_write_field(struct buf *, const char *s, size_t len);
int		 csv_write_record(struct buf *, const char *const *fields,
		    size_t n);

#endif
