/*
 * sheet.c - a mailing list as a spreadsheet (see sheet.h for the rules).
 *
 * Owns: recognising what a file is and its character set, choosing the
 * delimiter, mapping headings to subscriber fields, turning each record
 * into a person or a reason to skip it, the import's rules for each
 * person (what the store is asked to do, in one transaction), the
 * export's columns, and every message about a file, worded for the staff
 * member who saved it.  Does not own: CSV syntax (csv.c), character
 * tables (charset.c), address syntax (address.c), the SQL
 * (store-subscriber.c), the confirmation email (confirm.c), printing or
 * asking (cmd-subscriber.c, and later the staff console).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "charset.h"
#include "conf.h"
#include "confirm.h"
#include "csv.h"
#include "json.h"
#include "log.h"
#include "sheet.h"
#include "store.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define SHEET_DELIMITERS	",;\t"
#define SHEET_QUOTE_MAX		60	/* bytes of a value in a message */
#define SHEET_LIST_MAX		12	/* headings listed in a message */
#define SHEET_NORM_MAX		32	/* a heading worth comparing */

/* What a column holds; the order of the single ones matters (col[]). */
enum sheet_field {
	SHEET_IGNORE,		/* no heading */
	SHEET_EMAIL,
	SHEET_NAME,
	SHEET_FIRST,
	SHEET_LAST,
	SHEET_STATUS,
	SHEET_MODE,
	SHEET_CONSENT,		/* read and never stored */
	SHEET_ATTR,
};

/* Headings, lowercased, without spaces, '-', '_' and '.'. */
static const struct {
	const char		*norm;
	enum sheet_field	 field;
} sheet_headings[] = {
	{ "email", SHEET_EMAIL },
	{ "emailaddress", SHEET_EMAIL },
	{ "mail", SHEET_EMAIL },
	{ "name", SHEET_NAME },
	{ "fullname", SHEET_NAME },
	{ "firstname", SHEET_FIRST },
	{ "forename", SHEET_FIRST },
	{ "givenname", SHEET_FIRST },
	{ "lastname", SHEET_LAST },
	{ "surname", SHEET_LAST },
	{ "familyname", SHEET_LAST },
	{ "status", SHEET_STATUS },
	{ "mode", SHEET_MODE },
	{ "consentat", SHEET_CONSENT },
	{ "consentmethod", SHEET_CONSENT },
	{ "consentsource", SHEET_CONSENT },
};

/* For "columns 1 and 3 both hold ...". */
static const char *const sheet_field_what[] = {
	[SHEET_EMAIL] = "the email address",
	[SHEET_NAME] = "the name",
	[SHEET_FIRST] = "the first name",
	[SHEET_LAST] = "the last name",
	[SHEET_STATUS] = "the status",
	[SHEET_MODE] = "the mode",
};

struct sheet_col {
	enum sheet_field	 field;
	char			*heading;	/* trimmed, as written */
	char			*key;		/* attribute name, or NULL */
	unsigned long		 unnamed;	/* values with no heading */
};

/* Addresses seen in the file and the line each was first on. */
struct sheet_seen {
	char		**keys;
	unsigned long	 *lines;
	size_t		  size;		/* a power of two */
	size_t		  n;
};

struct sheet {
	struct buf		 text;		/* the whole file, UTF-8 */
	const char		*encoding;
	int			 delim;
	FILE			*f;
	struct csv_reader	*r;
	unsigned long		 header_line;
	struct sheet_col	*cols;
	size_t			 ncols;
	int			 col[SHEET_CONSENT];	/* -1: none */
	char			**notes;
	size_t			 nnotes;
	struct sheet_seen	 seen;
	struct sheet_row	 row;
};

/* --- small helpers -------------------------------------------------------- */

static void
sheet_add_note(char ***notes, size_t *n, char *note)
{
	*notes = xreallocarray(*notes, *n + 1, sizeof **notes);
	(*notes)[(*n)++] = note;
}

/* "s" as a message quotes it: controls as '?', long ones cut. */
static void
sheet_quote(struct buf *b, const char *s, size_t len)
{
	size_t	i, n;

	n = utf8_truncate(s, len, SHEET_QUOTE_MAX);
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			buf_addc(b, '?');
		else
			buf_addc(b, s[i]);
	}
	if (n < len)
		buf_addstr(b, "...");
	buf_addc(b, '"');
}

static char *
sheet_quoted(const char *s, size_t len)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	sheet_quote(&b, s, len);
	return buf_detach(&b, NULL);
}

/* Space, tab, or U+00A0 (which spreadsheets copy from web pages). */
static size_t
sheet_space(const char *s, size_t len)
{
	if (len >= 1 && (s[0] == ' ' || s[0] == '\t'))
		return 1;
	if (len >= 2 && s[0] == '\302' && s[1] == '\240')
		return 2;
	return 0;
}

/* Trim spaces around s[0..*len); returns the new start. */
static const char *
sheet_trim(const char *s, size_t *len)
{
	size_t	n;

	while ((n = sheet_space(s, *len)) > 0) {
		s += n;
		*len -= n;
	}
	while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t' ||
	    (*len >= 2 && s[*len - 2] == '\302' && s[*len - 1] == '\240')))
		*len -= s[*len - 1] == '\240' ? 2 : 1;
	return s;
}

static const char *
sheet_plural(unsigned long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* --- the rules for names and values --------------------------------------- */

const char *
sheet_key_bad(const char *k, size_t len)
{
	size_t	i;

	if (len == 0)
		return "an attribute name is empty";
	if (len > SHEET_KEY_MAX)
		return "an attribute name is longer than 64 characters";
	for (i = 0; i < len; i++) {
		if (!((k[i] >= 'a' && k[i] <= 'z') ||
		    (k[i] >= 'A' && k[i] <= 'Z') ||
		    (k[i] >= '0' && k[i] <= '9') || k[i] == '_' || k[i] == '-'))
			return "attribute names are letters, digits, _ and -";
	}
	if ((len == 5 && strncasecmp(k, "email", 5) == 0) ||
	    (len == 4 && strncasecmp(k, "name", 4) == 0))
		return "email and name are not attributes";
	return NULL;
}

const char *
sheet_text_bad(const char *s, size_t len, int multiline)
{
	size_t	i;

	if (len > SHEET_VALUE_MAX)
		return "longer than 64 KiB";
	if (!utf8_valid(s, len))
		return "not valid UTF-8";
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			if (multiline && (s[i] == '\n' || s[i] == '\t'))
				continue;
			return multiline ? "holds a control character" :
			    "holds a line break or control character";
		}
	}
	return NULL;
}

/* --- the addresses seen --------------------------------------------------- */

static size_t
sheet_seen_hash(const char *s)
{
	size_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 0 when added, else the line it was first seen on. */
static unsigned long
sheet_seen_add(struct sheet_seen *t, const char *key, unsigned long line)
{
	char		**okeys;
	unsigned long	 *olines;
	size_t		  i, j, osize;

	if (t->n * 2 >= t->size) {
		okeys = t->keys;
		olines = t->lines;
		osize = t->size;
		t->size = osize == 0 ? 1024 : osize * 2;
		t->keys = xcalloc(t->size, sizeof *t->keys);
		t->lines = xcalloc(t->size, sizeof *t->lines);
		for (i = 0; i < osize; i++) {
			if (okeys[i] == NULL)
				continue;
			j = sheet_seen_hash(okeys[i]) & (t->size - 1);
			while (t->keys[j] != NULL)
				j = (j + 1) & (t->size - 1);
			t->keys[j] = okeys[i];
			t->lines[j] = olines[i];
		}
		free(okeys);
		free(olines);
	}
	j = sheet_seen_hash(key) & (t->size - 1);
	while (t->keys[j] != NULL) {
		if (strcmp(t->keys[j], key) == 0)
			return t->lines[j];
		j = (j + 1) & (t->size - 1);
	}
	t->keys[j] = xstrdup(key);
	t->lines[j] = line;
	t->n++;
	return 0;
}

static void
sheet_seen_free(struct sheet_seen *t)
{
	size_t	i;

	for (i = 0; i < t->size; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->lines);
	memset(t, 0, sizeof *t);
}

/* --- what the file is ----------------------------------------------------- */

/* NULL when data may be text, else why it is not, and what to do. */
static const char *
sheet_kind(const char *data, size_t len)
{
	if (len == 0)
		return "the file is empty: save the spreadsheet again with a "
		    "header row (for example Email, Name) and a row for "
		    "each person";
	if (len > SHEET_MAX_SIZE)
		return "the file is larger than 64 MB: split the spreadsheet "
		    "into smaller files and import each";
	if (len >= 4 && memcmp(data, "PK\003\004", 4) == 0)
		return "this is a spreadsheet workbook (.xlsx or .ods), not a "
		    "CSV file: open it in Excel, choose File > Save As, pick "
		    "\"CSV UTF-8 (Comma delimited) (*.csv)\", and import the "
		    "file that makes";
	if (len >= 8 && memcmp(data, "\320\317\021\340\241\261\032\341",
	    8) == 0)
		return "this is an Excel 97-2003 workbook (.xls), not a CSV "
		    "file: open it in Excel, choose File > Save As, pick "
		    "\"CSV UTF-8 (Comma delimited) (*.csv)\", and import the "
		    "file that makes";
	return NULL;
}

/* The file's bytes as UTF-8 text in sh->text, with a note when it matters. */
static void
sheet_decode(struct sheet *sh, const char *data, size_t len)
{
	int	flags = 0;

	if (len >= 2 && (memcmp(data, "\377\376", 2) == 0 ||
	    memcmp(data, "\376\377", 2) == 0)) {
		/* iconv's "UTF-16" reads the byte order mark and drops it. */
		sh->encoding = "UTF-16";
		(void)charset_to_utf8(&sh->text, "UTF-16", data, len, &flags);
		sheet_add_note(&sh->notes, &sh->nnotes, xstrdup("read as "
		    "UTF-16 (Excel's \"Unicode Text\")"));
	} else if (len >= 3 && memcmp(data, CSV_BOM, 3) == 0) {
		sh->encoding = "UTF-8";
		(void)charset_to_utf8(&sh->text, "UTF-8", data + 3, len - 3,
		    &flags);
	} else if (utf8_valid(data, len)) {
		sh->encoding = "UTF-8";
		buf_add(&sh->text, data, len);
	} else {
		sh->encoding = "Windows-1252";
		(void)charset_to_utf8(&sh->text, "windows-1252", data, len,
		    &flags);
		sheet_add_note(&sh->notes, &sh->nnotes, xstrdup("the file is "
		    "not UTF-8, so it was read as Windows-1252 (what Excel's "
		    "\"CSV (Comma delimited)\" writes): check that accented "
		    "names look right, and next time save as \"CSV UTF-8\""));
	}
	if (flags & CHARSET_REPAIRED)
		sheet_add_note(&sh->notes, &sh->nnotes, xprintf("some bytes "
		    "are not %s characters and were read as \"\xef\xbf\xbd\": "
		    "save the spreadsheet again as \"CSV UTF-8\"",
		    sh->encoding));
	if (sh->text.data == NULL)
		buf_addstr(&sh->text, "");
}

/* --- the header row ------------------------------------------------------- */

/* 1 when every field of rec is empty or spaces. */
static int
sheet_blank(const struct csv_record *rec)
{
	size_t	i, len;

	for (i = 0; i < rec->n; i++) {
		len = rec->lens[i];
		sheet_trim(rec->fields[i], &len);
		if (len > 0)
			return 0;
	}
	return 1;
}

static enum sheet_field
sheet_heading_field(const char *s, size_t len)
{
	char	norm[SHEET_NORM_MAX + 1];
	size_t	i, n = 0;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (n == SHEET_NORM_MAX)
			return SHEET_ATTR;
		norm[n++] = c;
	}
	norm[n] = '\0';
	for (i = 0; i < sizeof sheet_headings / sizeof sheet_headings[0];
	    i++) {
		if (strcmp(norm, sheet_headings[i].norm) == 0)
			return sheet_headings[i].field;
	}
	return SHEET_ATTR;
}

static void
sheet_cols_free(struct sheet *sh)
{
	size_t	i;

	for (i = 0; i < sh->ncols; i++) {
		free(sh->cols[i].heading);
		free(sh->cols[i].key);
	}
	free(sh->cols);
	sh->cols = NULL;
	sh->ncols = 0;
}

/* A reader at the start of the text, splitting at sh->delim. */
static void
sheet_reader(struct sheet *sh)
{
	csv_reader_free(sh->r);
	if (sh->f != NULL)
		fclose(sh->f);
	if ((sh->f = fmemopen(sh->text.data, sh->text.len, "r")) == NULL)
		fatalx("fmemopen: %s", strerror(errno));
	sh->r = csv_reader_new(sh->f);
	csv_reader_delimiter(sh->r, sh->delim);
}

/* A CSV syntax error, with what to do about it. */
static char *
sheet_syntax(struct sheet *sh, const char *err)
{
	const char	*advice;

	switch (csv_error(sh->r)) {
	case CSV_UNCLOSED:
		advice = "a cell there starts with a quotation mark (\") that "
		    "never ends: end it with another one, or save the file "
		    "again from the spreadsheet";
		break;
	case CSV_AFTER_QUOTE:
		advice = "a cell there is in quotation marks (\") with more "
		    "after the closing one: put the whole cell in quotation "
		    "marks, or save the file again from the spreadsheet";
		break;
	case CSV_NUL:
		advice = "this is not a text file: save the spreadsheet as "
		    "\"CSV UTF-8\" and import that";
		break;
	case CSV_TOO_LONG:
	case CSV_TOO_MANY:
		advice = "a row may hold at most 1 MB in 1,000 cells; often a "
		    "quotation mark (\") on an earlier line is not closed";
		break;
	default:
		return xstrdup(err);
	}
	return xprintf("%s: %s", err, advice);
}

/* "Job Title" -> "Job_Title": a name the rule takes, or NULL. */
static char *
sheet_key_suggest(const char *h)
{
	struct buf	b;
	size_t		i;
	int		gap = 0;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; h[i] != '\0'; i++) {
		if ((unsigned char)h[i] >= 0x80) {
			buf_free(&b);
			return NULL;
		}
		if (sheet_key_bad(&h[i], 1) == NULL) {
			if (gap && b.len > 0)
				buf_addc(&b, '_');
			buf_addc(&b, h[i]);
			gap = 0;
		} else
			gap = 1;
	}
	if (b.len == 0 || sheet_key_bad(b.data, b.len) != NULL) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The headings of the header row, quoted and numbered, for a message. */
static void
sheet_list_headings(struct buf *b, const struct sheet *sh)
{
	size_t	i, n = 0;

	for (i = 0; i < sh->ncols; i++) {
		if (*sh->cols[i].heading == '\0')
			continue;
		if (n == SHEET_LIST_MAX) {
			buf_printf(b, " and %zu more", sh->ncols - i);
			return;
		}
		buf_addstr(b, n > 0 ? ", " : "");
		sheet_quote(b, sh->cols[i].heading,
		    strlen(sh->cols[i].heading));
		n++;
	}
	if (n == 0)
		buf_addstr(b, "no headings at all");
}

static char *
sheet_no_address(const struct sheet *sh)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	buf_printf(&b, "no column holds email addresses: the header row "
	    "(line %lu) has ", sh->header_line);
	sheet_list_headings(&b, sh);
	buf_addstr(&b, ". Give the column of addresses the heading Email "
	    "(E-mail, Email Address, E-mail Address and Mail work too)");
	if (sh->ncols == 1)
		buf_addstr(&b, ", and separate the columns with commas, "
		    "semicolons or tabs");
	return buf_detach(&b, NULL);
}

/* Headings that cannot be attribute names, all in one message. */
static char *
sheet_bad_keys(const struct sheet *sh)
{
	struct buf	 b;
	char		*example = NULL;
	size_t		 i, n = 0;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < sh->ncols; i++) {
		if (sh->cols[i].field != SHEET_ATTR ||
		    sheet_key_bad(sh->cols[i].heading,
		    strlen(sh->cols[i].heading)) == NULL)
			continue;
		if (n == SHEET_LIST_MAX) {
			buf_addstr(&b, " and more");
			break;
		}
		buf_addstr(&b, n > 0 ? ", " : "");
		sheet_quote(&b, sh->cols[i].heading,
		    strlen(sh->cols[i].heading));
		buf_printf(&b, " (column %zu)", i + 1);
		if (example == NULL)
			example = sheet_key_suggest(sh->cols[i].heading);
		n++;
	}
	if (n == 0) {
		buf_free(&b);
		return NULL;
	}
	buf_printf(&b, ": a heading for other information may hold only "
	    "letters A to Z, digits, _ and - (at most 64), because it "
	    "becomes a field name in newsletters; change %s",
	    sheet_plural(n, "it", "them"));
	if (example != NULL)
		buf_printf(&b, " (for example to %s)", example);
	buf_printf(&b, ", or delete %s", sheet_plural(n, "that column",
	    "those columns"));
	free(example);
	return buf_detach(&b, NULL);
}

/*
 * Read the header row with sh->delim and map its columns.  1 when it has
 * an address column; 0 when it has none or does not read (another
 * delimiter may do better), -1 when the file is refused whatever the
 * delimiter; *cause says why for 0 and -1.
 */
static int
sheet_header(struct sheet *sh, char **cause)
{
	struct csv_record	*rec;
	struct sheet_col	*c;
	const char		*h;
	char			*err = NULL, *msg;
	size_t			 i, j, len;
	int			 n, consent = 0;
	enum sheet_field	 f;

	sheet_cols_free(sh);
	sheet_reader(sh);
	while ((n = csv_read(sh->r, &rec, &err)) == 1 && sheet_blank(rec))
		;
	if (n == -1) {
		*cause = sheet_syntax(sh, err);
		free(err);
		return 0;
	}
	if (n == 0) {
		*cause = xstrdup(sheet_kind("", 0));
		return -1;
	}
	sh->header_line = rec->line;

	/* Step 1: what each heading is. */
	sh->ncols = rec->n;
	sh->cols = xcalloc(rec->n, sizeof *sh->cols);
	for (i = 0; i < rec->n; i++) {
		len = rec->lens[i];
		h = sheet_trim(rec->fields[i], &len);
		c = &sh->cols[i];
		c->heading = xstrndup(h, len);
		c->field = len == 0 ? SHEET_IGNORE : sheet_heading_field(h,
		    len);
		if (c->field == SHEET_CONSENT)
			consent = 1;
	}
	for (i = 0; i < SHEET_CONSENT; i++)
		sh->col[i] = -1;
	for (i = 0; i < sh->ncols; i++) {
		c = &sh->cols[i];
		/* Status and mode are an export's only beside its consent. */
		if (!consent && (c->field == SHEET_STATUS ||
		    c->field == SHEET_MODE))
			c->field = SHEET_ATTR;
		f = c->field;
		if (f == SHEET_ATTR || ((f == SHEET_FIRST || f == SHEET_LAST) &&
		    sheet_key_bad(c->heading, strlen(c->heading)) == NULL))
			c->key = xstrdup(c->heading);
		if (f == SHEET_IGNORE || f >= SHEET_CONSENT)
			continue;
		if (sh->col[f] == -1) {
			sh->col[f] = (int)i;
			continue;
		}
		j = (size_t)sh->col[f];
		*cause = xprintf("columns %zu (%s) and %zu (%s) both hold %s: "
		    "delete one of them, or change its heading", j + 1,
		    sh->cols[j].heading, i + 1, c->heading,
		    sheet_field_what[f]);
		return -1;
	}

	/* Step 2: an address column, then names that can be used. */
	if (sh->col[SHEET_EMAIL] == -1) {
		*cause = sheet_no_address(sh);
		return 0;
	}
	if ((msg = sheet_bad_keys(sh)) != NULL) {
		*cause = msg;
		return -1;
	}
	for (i = 0; i < sh->ncols; i++) {
		for (j = 0; j < i && sh->cols[i].key != NULL; j++) {
			if (sh->cols[j].key == NULL ||
			    strcasecmp(sh->cols[i].key, sh->cols[j].key) != 0)
				continue;
			msg = sheet_quoted(sh->cols[i].key,
			    strlen(sh->cols[i].key));
			*cause = xprintf("columns %zu and %zu are both called "
			    "%s (capitals do not count): change one of the "
			    "headings, or delete one of the columns", j + 1,
			    i + 1, msg);
			free(msg);
			return -1;
		}
	}
	return 1;
}

/* --- opening -------------------------------------------------------------- */

/* Notes on what was read, for the staff member to check. */
static void
sheet_notes(struct sheet *sh, unsigned long *unnamed)
{
	struct sheet_col	*first, *last;
	size_t			 i;

	if (sh->delim != ',')
		sheet_add_note(&sh->notes, &sh->nnotes, xprintf("the columns "
		    "are separated by %ss", csv_delimiter_name(sh->delim)));
	if (sh->col[SHEET_FIRST] != -1 || sh->col[SHEET_LAST] != -1) {
		first = sh->col[SHEET_FIRST] != -1 ?
		    &sh->cols[sh->col[SHEET_FIRST]] : NULL;
		last = sh->col[SHEET_LAST] != -1 ?
		    &sh->cols[sh->col[SHEET_LAST]] : NULL;
		sheet_add_note(&sh->notes, &sh->nnotes, xprintf("names are "
		    "made from the %s%s%s column%s%s", first != NULL ?
		    first->heading : "", first != NULL && last != NULL ?
		    " and " : "", last != NULL ? last->heading : "",
		    first != NULL && last != NULL ? "s" : "",
		    sh->col[SHEET_NAME] != -1 ? " where the name is empty" :
		    ""));
	}
	for (i = 0; i < sh->ncols; i++) {
		if (sh->cols[i].field == SHEET_CONSENT) {
			sheet_add_note(&sh->notes, &sh->nnotes, xstrdup(
			    "the consent columns of an export are not "
			    "imported (consent is recorded by this import); "
			    "its status column leaves out people who left"));
			break;
		}
	}
	for (i = 0; i < sh->ncols; i++) {
		if (unnamed[i] == 0)
			continue;
		sheet_add_note(&sh->notes, &sh->nnotes, xprintf("column %zu "
		    "has no heading, so its %lu value%s %s not imported: give "
		    "it a heading to import %s", i + 1, unnamed[i],
		    sheet_plural(unnamed[i], "", "s"),
		    sheet_plural(unnamed[i], "was", "were"),
		    sheet_plural(unnamed[i], "it", "them")));
	}
}

struct sheet *
sheet_open(const char *data, size_t len, char **cause)
{
	struct sheet		*sh;
	struct csv_record	*rec;
	const char		*why;
	unsigned long		*unnamed = NULL;
	char			 ranked[CSV_SNIFF_MAX + 1], *first = NULL, *err;
	size_t			 i, n;
	int			 rc = 0;

	/* Step 1: what the file is, and its characters. */
	if ((why = sheet_kind(data, len)) != NULL) {
		*cause = xstrdup(why);
		return NULL;
	}
	sh = xcalloc(1, sizeof *sh);
	buf_init(&sh->text, BUF_NOMAX);
	sheet_decode(sh, data, len);

	/* Step 2: the delimiter that gives an address column. */
	if ((n = csv_sniff(sh->text.data, sh->text.len, SHEET_DELIMITERS,
	    ranked)) == 0) {
		ranked[0] = ',';
		n = 1;
	}
	for (i = 0; i < n; i++) {
		sh->delim = ranked[i];
		err = NULL;
		if ((rc = sheet_header(sh, &err)) == 1)
			break;
		if (rc == -1 || first == NULL) {
			free(first);
			first = err;
		} else
			free(err);
		if (rc == -1)
			break;
	}
	if (rc != 1) {
		*cause = first;
		goto fail;
	}
	free(first);

	/* Step 3: every record reads, or nothing is imported. */
	unnamed = xcalloc(sh->ncols, sizeof *unnamed);
	err = NULL;
	while ((rc = csv_read(sh->r, &rec, &err)) == 1) {
		for (i = 0; i < sh->ncols && i < rec->n; i++) {
			if (sh->cols[i].field == SHEET_IGNORE &&
			    rec->lens[i] > 0)
				unnamed[i]++;
		}
	}
	if (rc == -1) {
		*cause = sheet_syntax(sh, err);
		free(err);
		goto fail;
	}
	sheet_notes(sh, unnamed);
	free(unnamed);
	sheet_rewind(sh);
	return sh;

fail:
	free(unnamed);
	sheet_close(sh);
	return NULL;
}

void
sheet_close(struct sheet *sh)
{
	size_t	i;

	if (sh == NULL)
		return;
	csv_reader_free(sh->r);
	if (sh->f != NULL)
		fclose(sh->f);
	sheet_cols_free(sh);
	for (i = 0; i < sh->nnotes; i++)
		free(sh->notes[i]);
	free(sh->notes);
	sheet_seen_free(&sh->seen);
	free(sh->row.why);
	free(sh->row.email);
	free(sh->row.name);
	value_free(sh->row.attrs);
	buf_free(&sh->text);
	free(sh);
}

size_t
sheet_nnotes(const struct sheet *sh)
{
	return sh->nnotes;
}

const char *
sheet_note(const struct sheet *sh, size_t i)
{
	return i < sh->nnotes ? sh->notes[i] : NULL;
}

int
sheet_delimiter(const struct sheet *sh)
{
	return sh->delim;
}

const char *
sheet_encoding(const struct sheet *sh)
{
	return sh->encoding;
}

/* --- the people ----------------------------------------------------------- */

void
sheet_rewind(struct sheet *sh)
{
	struct csv_record	*rec;
	char			*err = NULL;

	sheet_seen_free(&sh->seen);
	sheet_reader(sh);
	/* Past the header row (sheet_open() read it all once). */
	while (csv_read(sh->r, &rec, &err) == 1 &&
	    rec->line < sh->header_line)
		;
	free(err);
}

/*
 * A name: every run of white space holding a line break or tab becomes
 * one space, and the ends are trimmed.
 */
static void
sheet_name_add(struct buf *b, const char *s, size_t len)
{
	size_t	i, j;
	int	brk;

	s = sheet_trim(s, &len);
	for (i = 0; i < len; i = j) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' &&
		    s[i] != '\r') {
			buf_addc(b, s[i]);
			j = i + 1;
			continue;
		}
		brk = 0;
		for (j = i; j < len && (s[j] == ' ' || s[j] == '\t' ||
		    s[j] == '\n' || s[j] == '\r'); j++) {
			if (s[j] != ' ')
				brk = 1;
		}
		if (brk)
			buf_addc(b, ' ');
		else
			buf_add(b, s + i, j - i);
	}
}

/* The cell of column col (-1: none) in rec, trimmed; len 0 when none. */
static const char *
sheet_cell(const struct csv_record *rec, int col, size_t *len)
{
	if (col < 0 || (size_t)col >= rec->n) {
		*len = 0;
		return "";
	}
	*len = rec->lens[col];
	return sheet_trim(rec->fields[col], len);
}

/* Fill sh->row from rec; a reason in row->why when it is to be skipped. */
static void
sheet_row(struct sheet *sh, const struct csv_record *rec)
{
	struct sheet_row	*row = &sh->row;
	struct sheet_col	*ec = &sh->cols[sh->col[SHEET_EMAIL]];
	struct buf		 b;
	enum store_member_status st;
	const char		*s, *why;
	char			*q, *reason = NULL, *key;
	unsigned long		 first;
	size_t			 i, len, last;

	/* Step 1: the shape of the record. */
	for (i = sh->ncols, last = 0; i < rec->n; i++) {
		if (rec->lens[i] != 0)
			last = i + 1;
	}
	if (last > 0) {
		row->why = xprintf("this row has %zu cells but the header row "
		    "has %zu headings: delete the extra cells, or give their "
		    "column a heading", last, sh->ncols);
		return;
	}

	/* Step 2: the address. */
	s = sheet_cell(rec, sh->col[SHEET_EMAIL], &len);
	if (len == 0) {
		row->why = xprintf("no email address: fill in the %s column "
		    "for this person, or delete the row", ec->heading);
		return;
	}
	q = xstrndup(s, len);
	if (address_normalise(q, &row->email, &reason) != 0) {
		free(q);
		q = sheet_quoted(s, len);
		row->why = xprintf("%s is not a%s email address (%s): check "
		    "the %s column for this person", q,
		    strcmp(reason, "no @") == 0 ||
		    strcmp(reason, "the domain is empty") == 0 ||
		    strcmp(reason, "the domain has no dot") == 0 ?
		    " complete" : " valid", reason, ec->heading);
		free(q);
		free(reason);
		return;
	}
	free(q);

	/* Step 3: the name, from its column or from first and last. */
	buf_init(&b, BUF_NOMAX);
	s = sheet_cell(rec, sh->col[SHEET_NAME], &len);
	sheet_name_add(&b, s, len);
	if (b.len == 0) {
		s = sheet_cell(rec, sh->col[SHEET_FIRST], &len);
		sheet_name_add(&b, s, len);
		s = sheet_cell(rec, sh->col[SHEET_LAST], &len);
		if (len > 0 && b.len > 0)
			buf_addc(&b, ' ');
		sheet_name_add(&b, s, len);
	}
	buf_addstr(&b, "");
	row->name = buf_detach(&b, NULL);
	if ((why = sheet_text_bad(row->name, strlen(row->name), 0)) != NULL) {
		row->why = xprintf("the name %s: retype it in the "
		    "spreadsheet", why);
		return;
	}

	/* Step 4: an export's status and mode. */
	s = sheet_cell(rec, sh->col[SHEET_STATUS], &len);
	q = xstrndup(s, len);
	for (i = 0; i < len; i++) {
		if (q[i] >= 'A' && q[i] <= 'Z')
			q[i] = (char)(q[i] - 'A' + 'a');
	}
	if (len > 0 && store_member_status_parse(q, &st) != 0) {
		free(q);
		q = sheet_quoted(s, len);
		row->why = xprintf("the status %s is not one that subscriber "
		    "export writes (pending, confirmed, unsubscribed or "
		    "bounced): correct it, or empty the cell", q);
		free(q);
		return;
	}
	free(q);
	row->status = len > 0 ? (int)st : -1;
	s = sheet_cell(rec, sh->col[SHEET_MODE], &len);
	if (len == 9 && strncasecmp(s, "immediate", 9) == 0)
		row->mode = "immediate";
	else if (len == 6 && strncasecmp(s, "digest", 6) == 0)
		row->mode = "digest";
	else if (len > 0) {
		q = sheet_quoted(s, len);
		row->why = xprintf("the mode %s is neither immediate nor "
		    "digest: correct it, or empty the cell (immediate)", q);
		free(q);
		return;
	}

	/* Step 5: the attributes, as written. */
	for (i = 0; i < sh->ncols && i < rec->n; i++) {
		if (sh->cols[i].key == NULL || rec->lens[i] == 0)
			continue;
		if ((why = sheet_text_bad(rec->fields[i], rec->lens[i],
		    1)) != NULL) {
			row->why = xprintf("the %s column %s: retype that "
			    "cell", sh->cols[i].heading, why);
			return;
		}
		value_object_set(row->attrs, sh->cols[i].key,
		    value_new_stringn(rec->fields[i], rec->lens[i]));
	}

	/* Step 6: once in a file ("Ann@" and "ann@" are one person twice). */
	key = address_key(row->email);
	first = sheet_seen_add(&sh->seen, key, rec->line);
	free(key);
	if (first != 0)
		row->why = xprintf("%s is also on line %lu, and only the "
		    "first is imported: delete one of the two rows",
		    row->email, first);
}

int
sheet_next(struct sheet *sh, struct sheet_row **rowp, char **cause)
{
	struct sheet_row	*row = &sh->row;
	struct csv_record	*rec;
	char			*err = NULL;
	int			 n;

	*rowp = NULL;
	free(row->why);
	free(row->email);
	free(row->name);
	value_free(row->attrs);
	memset(row, 0, sizeof *row);
	while ((n = csv_read(sh->r, &rec, &err)) == 1 && sheet_blank(rec))
		;
	if (n != 1) {
		if (n == -1) {
			*cause = sheet_syntax(sh, err);
			free(err);
		}
		return n;
	}
	row->line = rec->line;
	row->status = -1;
	row->attrs = value_new_object();
	sheet_row(sh, rec);
	if (row->name == NULL)
		row->name = xstrdup("");
	*rowp = row;
	return 1;
}

/* --- import --------------------------------------------------------------- */

static void
sheet_skip(struct sheet_report *rep, unsigned long line, char *why)
{
	rep->skips = xreallocarray(rep->skips, rep->nskips + 1,
	    sizeof *rep->skips);
	rep->skips[rep->nskips].line = line;
	rep->skips[rep->nskips].why = why;
	rep->nskips++;
	rep->skipped++;
}

static const char *
sheet_day(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return "an unknown day";
	strftime(buf, len, "%Y-%m-%d", &tm);
	return buf;
}

/* One person.  -1 on a database failure (cause set). */
static int
sheet_import_row(struct store *s, const struct sheet_import_opts *o,
    const struct sheet_row *row, struct sheet_report *rep, char **cause)
{
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct value		*old;
	const char		*slug = o->list->slug;
	char			*text = NULL, day[16];
	size_t			 i;
	int			 rc = -1, found, added, changed, queued;

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if (row->why != NULL) {
		sheet_skip(rep, row->line, xstrdup(row->why));
		return 0;
	}

	/* Step 1: what an export's status column says protects people. */
	if (row->status == STORE_MEMBER_UNSUBSCRIBED ||
	    row->status == STORE_MEMBER_BOUNCED) {
		sheet_skip(rep, row->line, xprintf("%s is marked %s in the "
		    "status column: people who left a list are not added "
		    "back, so delete the row", row->email,
		    store_member_status_name(row->status)));
		return 0;
	}
	if (row->status == STORE_MEMBER_PENDING && o->confirmed) {
		sheet_skip(rep, row->line, xprintf("%s is marked pending in "
		    "the status column (they never confirmed), so an import "
		    "that records their consent cannot add them: delete the "
		    "row, or import it without --confirmed so that they get "
		    "a confirmation email", row->email));
		return 0;
	}

	/* Step 2: never a forgotten address. */
	if ((found = store_subscriber_suppressed(s, row->email, cause)) == -1)
		goto out;
	if (found) {
		sheet_skip(rep, row->line, xprintf("%s was erased at their "
		    "request (subscriber forget) and is never added again: "
		    "delete the row", row->email));
		goto done;
	}

	/* Step 3: the subscriber, new or brought up to date. */
	text = json_write(row->attrs, 0);
	if ((added = store_subscriber_add(s, row->email, *row->name != '\0' ?
	    row->name : NULL, text, &sub.id, cause)) == -1)
		goto out;
	changed = 0;
	if (!added) {
		if (store_subscriber_get_id(s, sub.id, &sub, cause) != 1)
			goto out;
		old = store_subscriber_attrs_value(sub.attrs);
		for (i = 0; i < value_object_len(row->attrs); i++)
			value_object_set(old, value_object_key(row->attrs, i),
			    value_copy(value_object_value(row->attrs, i)));
		free(text);
		text = json_write(old, 0);
		value_free(old);
		if ((changed = store_subscriber_update(s, sub.id,
		    *row->name != '\0' ? row->name : NULL,
		    strcmp(text, sub.attrs) != 0 ? text : NULL, cause)) == -1)
			goto out;
	}

	/* Step 4: the membership. */
	if ((found = store_member_get(s, sub.id, slug, &m, cause)) == -1)
		goto out;
	if (!found) {
		if (store_member_add(s, sub.id, slug, o->confirmed ?
		    STORE_MEMBER_CONFIRMED : STORE_MEMBER_PENDING, row->mode,
		    "import", o->source, cause) == -1)
			goto out;
		if (!o->confirmed && o->dry_run)
			rep->emails++;
		else if (!o->confirmed && o->confirm != NULL) {
			if ((queued = confirm_add(o->confirm, s, sub.id, slug,
			    o->now, cause)) == -1)
				goto out;
			rep->emails += (unsigned long)queued;
		}
		rep->imported++;
	} else if (m.status == STORE_MEMBER_UNSUBSCRIBED) {
		sheet_skip(rep, row->line, xprintf("%s unsubscribed from %s on "
		    "%s, so they are not added again (only they can subscribe "
		    "again): delete the row", row->email, slug,
		    sheet_day(m.unsubscribed_at, day, sizeof day)));
	} else if (m.status == STORE_MEMBER_BOUNCED) {
		sheet_skip(rep, row->line, xprintf("mail to %s bounced (%s), "
		    "so they are not added to %s again: correct the address, "
		    "or delete the row", row->email,
		    sheet_day(m.updated_at, day, sizeof day), slug));
	} else {
		if (m.status == STORE_MEMBER_PENDING && o->confirmed) {
			if (store_member_set_status(s, sub.id, slug,
			    STORE_MEMBER_CONFIRMED, "import", o->source,
			    cause) == -1)
				goto out;
			changed = 1;
		}
		rep->updated++;
		if (!changed)
			rep->unchanged++;
	}
done:
	rc = 0;
out:
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(text);
	return rc;
}

int
sheet_import(struct store *s, struct sheet *sh,
    const struct sheet_import_opts *o, struct sheet_report *rep,
    char **cause)
{
	struct sheet_row	*row;
	char			*detail;
	size_t			 i;
	int			 n;

	for (i = 0; i < sh->nnotes; i++)
		sheet_add_note(&rep->notes, &rep->nnotes,
		    xstrdup(sh->notes[i]));
	sheet_rewind(sh);
	if (store_begin(s, cause) != 0)
		return -1;
	while ((n = sheet_next(sh, &row, cause)) == 1) {
		if (sheet_import_row(s, o, row, rep, cause) != 0)
			goto fail;
	}
	if (n == -1)
		goto fail;
	detail = xprintf("list %s file %s imported %lu updated %lu skipped "
	    "%lu%s", o->list->slug, o->source, rep->imported, rep->updated,
	    rep->skipped, o->confirmed ? " confirmed" : "");
	store_event(s, "subscriber.import", NULL, detail);
	free(detail);
	if (o->dry_run)
		store_rollback(s);
	else if (store_commit(s, cause) != 0)
		goto fail;
	return 0;

fail:
	store_rollback(s);
	return -1;
}

void
sheet_report_free(struct sheet_report *rep)
{
	size_t	i;

	for (i = 0; i < rep->nnotes; i++)
		free(rep->notes[i]);
	free(rep->notes);
	for (i = 0; i < rep->nskips; i++)
		free(rep->skips[i].why);
	free(rep->skips);
	memset(rep, 0, sizeof *rep);
}

char *
sheet_summary(const struct sheet_report *rep, enum sheet_summary how)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	if (how == SHEET_SUMMARY_CHECK)
		buf_printf(&b, "checked: would import %lu, update %lu, skip "
		    "%lu", rep->imported, rep->updated, rep->skipped);
	else
		buf_printf(&b, "imported %lu, updated %lu, skipped %lu",
		    rep->imported, rep->updated, rep->skipped);
	if (rep->unchanged > 0)
		buf_printf(&b, " (%lu of the updated already up to date)",
		    rep->unchanged);
	if (how == SHEET_SUMMARY_DRY_RUN)
		buf_addstr(&b, " (dry run: nothing was changed)");
	return buf_detach(&b, NULL);
}

char *
sheet_notice(const struct sheet_report *rep, const struct conf_list *l)
{
	if (rep->emails == 0)
		return xprintf("Nobody in the file is new to %s, so no "
		    "confirmation email will be sent.", l->name);
	return xprintf("%s %lu new %s will get an email asking them to "
	    "confirm their subscription to %s. It says that the network's "
	    "staff added them, and they get nothing else unless they "
	    "confirm.",
	    rep->emails == 1 ? "The" : "Each of the", rep->emails,
	    sheet_plural(rep->emails, "person", "people"), l->name);
}

/* --- export --------------------------------------------------------------- */

struct sheet_export {
	FILE		 *f;
	char		**keys;		/* attribute columns, sorted */
	size_t		  nkeys;
	struct buf	  line;
	unsigned long	  n;
	int		  error;
};

static int
sheet_export_key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pass 1: the union of attribute names. */
static int
sheet_export_keys(const struct store_subscriber *sub,
    const struct store_member *m, void *arg)
{
	struct sheet_export	*ex = arg;
	struct value		*attrs;
	const char		*k;
	size_t			 i, j;

	attrs = store_subscriber_attrs_value(sub->attrs);
	for (i = 0; i < value_object_len(attrs); i++) {
		k = value_object_key(attrs, i);
		for (j = 0; j < ex->nkeys; j++) {
			if (strcmp(ex->keys[j], k) == 0)
				break;
		}
		if (j == ex->nkeys) {
			ex->keys = xreallocarray(ex->keys, ex->nkeys + 1,
			    sizeof *ex->keys);
			ex->keys[ex->nkeys++] = xstrdup(k);
		}
	}
	value_free(attrs);
	return 0;
}

static void
sheet_export_text(struct sheet_export *ex, const char *s)
{
	buf_addc(&ex->line, ',');
	csv_write_field(&ex->line, s, strlen(s));
}

static int
sheet_export_flush(struct sheet_export *ex)
{
	buf_add(&ex->line, "\r\n", 2);
	if (fwrite(ex->line.data, 1, ex->line.len, ex->f) != ex->line.len) {
		ex->error = errno;
		return 1;
	}
	buf_reset(&ex->line);
	return 0;
}

/* Pass 2: one record per member. */
static int
sheet_export_row(const struct store_subscriber *sub,
    const struct store_member *m, void *arg)
{
	struct sheet_export	*ex = arg;
	struct value		*attrs, *v;
	struct tm		 tm;
	time_t			 t = (time_t)m->consent_at;
	const char		*s;
	char			*js, when[32] = "";
	size_t			 i, len;

	if (m->consent_at != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	csv_write_field(&ex->line, sub->email, strlen(sub->email));
	sheet_export_text(ex, sub->name);
	sheet_export_text(ex, store_member_status_name(m->status));
	sheet_export_text(ex, m->mode);
	sheet_export_text(ex, when);
	sheet_export_text(ex, m->consent_method);
	sheet_export_text(ex, m->consent_source);
	attrs = store_subscriber_attrs_value(sub->attrs);
	for (i = 0; i < ex->nkeys; i++) {
		buf_addc(&ex->line, ',');
		v = value_object_get(attrs, ex->keys[i]);
		if ((s = value_string(v, &len)) != NULL)
			csv_write_field(&ex->line, s, len);
		else if ((s = value_number_text(v)) != NULL)
			csv_write_field(&ex->line, s, strlen(s));
		else if (v != NULL && value_get_type(v) != VALUE_NULL) {
			js = json_write(v, 0);
			csv_write_field(&ex->line, js, strlen(js));
			free(js);
		}
	}
	value_free(attrs);
	if (sheet_export_flush(ex) != 0)
		return 1;
	ex->n++;
	return 0;
}

int
sheet_export(struct store *s, const char *list, unsigned int statuses,
    FILE *f, unsigned long *n, char **cause)
{
	static const char *const fixed[] = { "name", "status", "mode",
	    "consent_at", "consent_method", "consent_source" };
	struct sheet_export	 ex;
	size_t			 i;
	int			 rc = -1;

	memset(&ex, 0, sizeof ex);
	ex.f = f;
	buf_init(&ex.line, BUF_NOMAX);
	*n = 0;

	/* One read transaction, so that both passes see the same rows. */
	if (store_exec_sql(s, "BEGIN", cause) != 0)
		goto out;
	if (store_member_walk(s, list, statuses, sheet_export_keys, &ex,
	    cause) == -1)
		goto out;
	qsort(ex.keys, ex.nkeys, sizeof *ex.keys, sheet_export_key_cmp);

	/* The byte order mark tells Excel the file is UTF-8. */
	buf_addstr(&ex.line, CSV_BOM "email");
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		sheet_export_text(&ex, fixed[i]);
	for (i = 0; i < ex.nkeys; i++)
		sheet_export_text(&ex, ex.keys[i]);
	if (sheet_export_flush(&ex) == 0 && store_member_walk(s, list,
	    statuses, sheet_export_row, &ex, cause) == -1)
		goto out;
	if (fflush(f) == EOF && ex.error == 0)
		ex.error = errno;
	if (ex.error != 0) {
		*cause = xprintf("%s", strerror(ex.error));
		goto out;
	}
	*n = ex.n;
	rc = 0;
out:
	if (store_in_transaction(s))
		store_rollback(s);
	for (i = 0; i < ex.nkeys; i++)
		free(ex.keys[i]);
	free(ex.keys);
	buf_free(&ex.line);
	return rc;
}
