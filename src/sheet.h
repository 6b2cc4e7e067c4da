/*
 * sheet.h - a mailing list as a spreadsheet: reading one in (subscriber
 * import) and writing one out (subscriber export), the same for the
 * command line and the staff console.
 *
 * Reading takes the bytes of a file as staff save it from Excel,
 * LibreOffice, Google Sheets or Outlook, checks all of it, then hands out
 * one person per record:
 *  - A workbook (.xlsx, .ods: a ZIP file; .xls) is refused with how to
 *    save it as CSV.
 *  - Characters: UTF-16 with a byte order mark (Excel's "Unicode Text")
 *    is converted; UTF-8 is taken with or without a byte order mark; a
 *    file without a byte order mark that is not valid UTF-8 is read,
 *    whole, as Windows-1252 (Excel's "CSV (Comma delimited)" on a UK or
 *    European Windows writes one code page throughout, so one bad byte
 *    means the file is not UTF-8 anywhere).  A file with a UTF-8 byte
 *    order mark is UTF-8: its bad bytes become U+FFFD, and a note says so.
 *  - The delimiter (comma, semicolon or tab) is guessed from the header
 *    row (csv_sniff()); when that row would also split another way, the
 *    candidates are tried in turn until one gives an address column.
 *  - The header row is the first record that is not blank.  Headings are
 *    matched ignoring case, spaces, '-', '_' and '.':
 *	address	email, e-mail, email address, e-mail address, mail
 *	name	name, full name; else first name (forename, given name) and
 *		last name (surname, family name), joined with a space
 *	export	consent_at, consent_method, consent_source: recognised and
 *		never stored (consent does not come from a file); with any of
 *		them present (a file subscriber export wrote), status and mode
 *		are the export's too, otherwise they are ordinary attributes
 *	other	an attribute named by the heading as written, trimmed:
 *		letters, digits, '_' and '-', at most 64 (sheet_key_bad());
 *		first and last name columns are attributes as well when their
 *		heading is such a name ("first_name"), as they were before
 *	empty	a column without a heading is ignored (a note counts the
 *		values in it)
 *    Two columns for one thing, or two attributes whose names differ
 *    only in case, refuse the file.
 *  - Each record: a line break (or tab) inside the name becomes a space
 *    and the name is trimmed; the address is normalised (address.h); a
 *    record whose cells are all empty is skipped silently; anything else
 *    wrong with a record (no address, an invalid one, one seen earlier
 *    in the file, more cells than headings, a control character, a status
 *    or mode postroom does not write) skips that record with a reason.
 * Every message names the line and says in plain words what to change in
 * the spreadsheet; messages may quote the file's values (they are shown
 * to the staff member importing it), so they are never logged.
 *
 * Importing (sheet_import()) puts every person on a list in one
 * transaction: new people pending with a confirmation email (or confirmed,
 * consent method "import", when the staff member says consent was given),
 * people already there brought up to date.  An address erased at the
 * person's request, or someone who unsubscribed or bounced, is never added
 * again.  From an export's columns: a status of unsubscribed or bounced
 * leaves the person out, pending is never confirmed by a confirmed import,
 * and the mode is used for people new to the list; consent columns are
 * ignored.
 *
 * Writing (sheet_export()): UTF-8 with a byte order mark (so that Excel
 * shows accents), CRLF, the columns email, name, status, mode, consent_at
 * (ISO 8601 in UTC, "2029-01-15T10:00:00Z"; empty when none),
 * consent_method, consent_source, then every attribute, sorted.  What it
 * writes reads back as the same people.
 *
 * Owns: spreadsheet files of subscribers (character sets, delimiters,
 * headings, rows, the messages about them), the import's rules for each
 * row, the export's columns, and the rules for attribute names and
 * values (shared with "subscriber add --attr").  Does not own: CSV syntax
 * (csv.c), address syntax (address.c), the SQL (store-subscriber.c), the
 * confirmation email (confirm.c), asking before sending (the caller).
 *
 * Memory: a struct sheet holds the file's text; a row belongs to it until
 * the next sheet_next(); a report's strings are freed with
 * sheet_report_free(); strings returned by sheet_summary() and
 * sheet_notice() are the caller's.
 */
#ifndef POSTROOM_SHEET_H
#define POSTROOM_SHEET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct confirm;
struct conf_list;
struct sheet;
struct store;
struct value;

#define SHEET_MAX_SIZE		(64 * 1024 * 1024)	/* bytes in a file */
#define SHEET_KEY_MAX		64	/* bytes in an attribute name */
#define SHEET_VALUE_MAX		(64 * 1024)	/* bytes in a name or value */

/* One person from the file. */
struct sheet_row {
	unsigned long	 line;		/* where the record starts */
	char		*why;		/* not NULL: skip it, for this reason */
	char		*email;		/* normal form; NULL when why says */
	char		*name;		/* "" when none */
	const char	*mode;		/* NULL, "immediate" or "digest" */
	int		 status;	/* -1, or an export's status: enum
					   store_member_status */
	struct value	*attrs;		/* an object of strings */
};

/*
 * Read and check data[0..len).  NULL with *cause (caller frees), the whole
 * file refused: empty, too large, a workbook, a CSV syntax error, a header
 * row without an address column, or with columns that cannot be used.
 */
struct sheet	*sheet_open(const char *data, size_t len, char **cause);
void		 sheet_close(struct sheet *);	/* NULL is fine */

/* Start again at the first person (the duplicates seen are forgotten). */
void		 sheet_rewind(struct sheet *);
/* The next person: 1 with *row, 0 at the end, -1 with *cause. */
int		 sheet_next(struct sheet *, struct sheet_row **row,
		    char **cause);

/* What was worked out about the file, as notes for a person. */
size_t		 sheet_nnotes(const struct sheet *);
const char	*sheet_note(const struct sheet *, size_t);
/* ',', ';' or '\t'; "UTF-8", "UTF-16" or "Windows-1252". */
int		 sheet_delimiter(const struct sheet *);
const char	*sheet_encoding(const struct sheet *);

/*
 * The attribute name rule (letters, digits, '_', '-'; 1 to SHEET_KEY_MAX
 * bytes; not email or name): NULL when k[0..len) is fine, else why not.
 */
const char	*sheet_key_bad(const char *k, size_t len);
/*
 * A name (multiline 0) or attribute value (multiline 1): valid UTF-8, at
 * most SHEET_VALUE_MAX bytes, no control characters but (multiline) LF
 * and tab.  NULL when fine, else why not ("holds a control character").
 */
const char	*sheet_text_bad(const char *s, size_t len, int multiline);

/* --- import ------------------------------------------------------------ */

struct sheet_import_opts {
	const struct conf_list	*list;
	const char		*source;	/* consent source, such as
						   "FILE (cli:USER)" */
	int			 confirmed;	/* consent given to staff */
	int			 dry_run;	/* roll back at the end */
	struct confirm		*confirm;	/* NULL: queue no email */
	time_t			 now;
};

struct sheet_skip {
	unsigned long	 line;
	char		*why;
};

struct sheet_report {
	char			**notes;	/* the sheet's notes */
	size_t			  nnotes;
	struct sheet_skip	 *skips;	/* in file order */
	size_t			  nskips;
	unsigned long		  imported;	/* new on the list */
	unsigned long		  updated;	/* already there */
	unsigned long		  unchanged;	/* of updated: nothing new */
	unsigned long		  skipped;
	unsigned long		  emails;	/* confirmations queued (or,
						   dry run, that would be) */
};

/*
 * Import every person in the sheet into opts->list, in one transaction
 * (rolled back for a dry run), filling *report (zero it first).  Pending
 * people get a confirmation email through opts->confirm unless it is
 * NULL.  0, or -1 with *cause on a database failure (nothing changed).
 */
int		 sheet_import(struct store *, struct sheet *,
		    const struct sheet_import_opts *, struct sheet_report *,
		    char **cause);
void		 sheet_report_free(struct sheet_report *);

enum sheet_summary {
	SHEET_SUMMARY_DONE,	/* "imported 5, updated 0, skipped 4" */
	SHEET_SUMMARY_DRY_RUN,	/* the same, "(dry run: nothing was changed)" */
	SHEET_SUMMARY_CHECK,	/* "checked: would import 5, ..." */
};
char		*sheet_summary(const struct sheet_report *, enum sheet_summary);
/*
 * What a staff member must be told before the import sends anything:
 * how many new people will each get a confirmation email, and what it
 * says.  For a report made with confirmed unset.
 */
char		*sheet_notice(const struct sheet_report *,
		    const struct conf_list *);

/* --- export ------------------------------------------------------------ */

/*
 * Write list's members with a status in statuses (a mask of
 * 1 << STORE_MEMBER_*, 0 for all) to f, setting *n to how many.  0, or -1
 * with *cause: a database failure, or a write error (ferror(f) then says
 * which).
 */
int		 sheet_export(struct store *, const char *list,
		    unsigned int statuses, FILE *f, unsigned long *n,
		    char **cause);

#endif
