/*
 * csv.h - RFC 4180 comma-separated values, read and written.
 *
 * Reading is RFC 4180 and what spreadsheets really write: fields are
 * separated by commas, or by the semicolons or tabs that spreadsheets
 * write in other locales (csv_reader_delimiter(); csv_sniff() guesses
 * which from the first record); fields quoted with '"' may hold the
 * delimiter, doubled quotes and line breaks; records end in CRLF, LF or
 * a lone CR; the last record needs no line end; a UTF-8 byte
 * order mark at the start of the file is skipped.  Inside a quoted field a
 * CRLF (or lone CR) is read as LF, so that a value means the same however
 * the file's lines end.  A quote inside an unquoted field is taken
 * literally (a"b); a quoted field must be followed by the delimiter or the
 * end of the record ("a"b is an error), and one still open at the end of the
 * file is an error naming the line where it opened.  An empty line
 * is a record of one empty field.  Fields are bytes: checking UTF-8 is the
 * caller's business; a NUL byte is an error.
 *
 * Each record knows the physical line it starts on (1 for the first), so
 * a caller can point at "line 7" even after fields spanning lines.
 *
 * Writing: fields are quoted when they hold a comma, quote, CR or LF, or
 * start or end with a space or tab (so that trimming readers keep them);
 * quotes are doubled; records end with CRLF.
 *
 * Owns: the CSV syntax.  Does not own: what the columns mean, or which
 * character set the bytes are in (sheet.c, for subscriber lists).
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
#define CSV_BOM		"\357\273\277"	/* UTF-8 byte order mark */
#define CSV_SNIFF_MAX	8		/* candidates csv_sniff() takes */

struct csv_record {
	char		**fields;	/* NUL-terminated */
	size_t		 *lens;
	size_t		  n;		/* >= 1 */
	unsigned long	  line;		/* physical line it starts on */
};

struct csv_reader *csv_reader_new(FILE *);
void		 csv_reader_free(struct csv_reader *);	/* NULL is fine */
/* Split fields at delim: ',' (the default), ';' or '\t'. */
void		 csv_reader_delimiter(struct csv_reader *, int delim);
/* "comma", "semicolon", "tab"; NULL for anything else. */
const char	*csv_delimiter_name(int delim);

/*
 * Guess the delimiter from the first record of s[0..len) that is not
 * blank (a BOM before it is skipped): each candidate in cands (such as
 * ",;\t", at most CSV_SNIFF_MAX) is counted outside quotes, and ranked
 * gets those that occur, most often first, a tie going to the one earlier
 * in cands, then a NUL (room for strlen(cands) + 1).  Returns how many
 * occur: 0 for a record of one field.
 */
size_t		 csv_sniff(const char *s, size_t len, const char *cands,
		    char *ranked);

/*
 * Read the next record: 1 with *rec set, 0 at the end of the file, -1 with
 * *cause (caller frees) like "line 12: quoted field is not closed (it
 * opens on this line)" or a read error.  After -1 the reader is not
 * usable, and csv_error() says what went wrong.
 */
int		 csv_read(struct csv_reader *, struct csv_record **rec,
		    char **cause);

enum csv_error {
	CSV_OK,
	CSV_READ,		/* the FILE failed (errno) */
	CSV_UNCLOSED,		/* a quoted field still open at the end */
	CSV_AFTER_QUOTE,	/* "a"b */
	CSV_NUL,		/* a NUL byte */
	CSV_TOO_LONG,		/* over CSV_MAX_RECORD */
	CSV_TOO_MANY,		/* over CSV_MAX_FIELDS */
};
/* What the last csv_read() that returned -1 ran into. */
enum csv_error	 csv_error(const struct csv_reader *);

/* Append one field / one record (fields joined by commas, then CRLF). */
int		 csv_write_field(struct buf *, const char *s, size_t len);
/*
 * csv_write_field() for a file people open in a spreadsheet, of data from
 * outside: a cell that would start a formula (= + - @, tab, CR) gets a
 * ' first, so that it stays text.
 */
int		 csv_write_cell(struct buf *, const char *s, size_t len);
int		 csv_write_record(struct buf *, const char *const *fields,
		    size_t n);

#endif
