/*
 * csv.c - RFC 4180 reader and writer.
 *
 * Owns: splitting a byte stream into records and fields (see csv.h for the
 * exact rules), guessing the delimiter from the first record, and quoting
 * on the way out.  Does not own: the meaning of columns, character sets
 * and UTF-8 checks, opening files (sheet.c does those for imports).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "log.h"
#include "xmalloc.h"

#define CSV_CHUNK	65536

struct csv_reader {
	FILE			*f;
	unsigned char		 in[CSV_CHUNK];
	size_t			 pos;
	size_t			 len;
	int			 eof;	/* the FILE has nothing more */
	enum csv_error		 dead;	/* an error was reported */
	int			 started;
	int			 delim;	/* ',', ';' or '\t' */
	unsigned long		 line;	/* physical line of the next byte */

	struct buf		 data;	/* fields, each NUL-terminated */
	size_t			*offs;
	size_t			 noffs;
	size_t			 aoffs;
	struct csv_record	 rec;
	size_t			 arec;
};

struct csv_reader *
csv_reader_new(FILE *f)
{
	struct csv_reader	*r;

	r = xcalloc(1, sizeof *r);
	r->f = f;
	r->line = 1;
	r->delim = ',';
	buf_init(&r->data, CSV_MAX_RECORD + CSV_MAX_FIELDS);
	return r;
}

void
csv_reader_delimiter(struct csv_reader *r, int delim)
{
	if (csv_delimiter_name(delim) == NULL)
		fatalx("%s: 0x%x is not a delimiter", __func__, delim);
	r->delim = delim;
}

const char *
csv_delimiter_name(int delim)
{
	switch (delim) {
	case ',':
		return "comma";
	case ';':
		return "semicolon";
	case '\t':
		return "tab";
	}
	return NULL;
}

void
csv_reader_free(struct csv_reader *r)
{
	if (r == NULL)
		return;
	buf_free(&r->data);
	free(r->offs);
	free(r->rec.fields);
	free(r->rec.lens);
	free(r);
}

/* Make at least want bytes available if the file has them.  -1: error. */
static int
csv_fill(struct csv_reader *r, size_t want)
{
	size_t	n;

	if (r->len - r->pos >= want || r->eof)
		return 0;
	memmove(r->in, r->in + r->pos, r->len - r->pos);
	r->len -= r->pos;
	r->pos = 0;
	while (r->len < want && !r->eof) {
		n = fread(r->in + r->len, 1, sizeof r->in - r->len, r->f);
		r->len += n;
		if (n == 0) {
			if (ferror(r->f))
				return -1;
			r->eof = 1;
		}
	}
	return 0;
}

/* The next byte, or EOF (-1) at the end; -2 on a read error. */
static int
csv_getc(struct csv_reader *r)
{
	if (r->pos == r->len) {
		if (csv_fill(r, 1) != 0)
			return -2;
		if (r->pos == r->len)
			return EOF;
	}
	return r->in[r->pos++];
}

/* Look at the next byte without taking it. */
static int
csv_peek(struct csv_reader *r)
{
	if (r->pos == r->len) {
		if (csv_fill(r, 1) != 0)
			return -2;
		if (r->pos == r->len)
			return EOF;
	}
	return r->in[r->pos];
}

enum csv_error
csv_error(const struct csv_reader *r)
{
	return r->dead;
}

static int
csv_fail(struct csv_reader *r, enum csv_error e, char **cause,
    unsigned long line, const char *what)
{
	if (r->dead == CSV_OK)
		r->dead = e;
	if (cause != NULL) {
		if (line == 0)
			*cause = xprintf("%s", what);
		else
			*cause = xprintf("line %lu: %s", line, what);
	}
	return -1;
}

/* Finish a field: terminate it and remember where the next one starts. */
static int
csv_end_field(struct csv_reader *r)
{
	if (buf_addc(&r->data, '\0') != 0)
		return -1;
	if (r->noffs == CSV_MAX_FIELDS)
		return -1;
	if (r->noffs == r->aoffs) {
		r->aoffs = r->aoffs == 0 ? 16 : r->aoffs * 2;
		r->offs = xreallocarray(r->offs, r->aoffs, sizeof *r->offs);
	}
	r->offs[r->noffs++] = r->data.len;
	return 0;
}

int
csv_read(struct csv_reader *r, struct csv_record **recp, char **cause)
{
	unsigned long	 qline = 0;
	size_t		 i, start;
	char		*what;
	int		 c, quoted, after_quote, rc;

	*recp = NULL;
	if (r->dead)
		return csv_fail(r, r->dead, cause, 0,
		    "reading after an error");

	/* Step 1: a byte order mark before the first record. */
	if (!r->started) {
		r->started = 1;
		if (csv_fill(r, 3) != 0)
			goto read_error;
		if (r->len - r->pos >= 3 &&
		    memcmp(r->in + r->pos, CSV_BOM, 3) == 0)
			r->pos += 3;
	}
	if ((c = csv_peek(r)) == EOF)
		return 0;
	if (c == -2)
		goto read_error;

	/* Step 2: the fields of one record. */
	buf_reset(&r->data);
	r->noffs = 0;
	r->rec.line = r->line;
	quoted = after_quote = 0;
	if (csv_peek(r) == '"') {
		csv_getc(r);
		quoted = 1;
		qline = r->line;
	}
	for (;;) {
		c = csv_getc(r);
		if (c == -2)
			goto read_error;
		if (c == '\0')
			return csv_fail(r, CSV_NUL, cause, r->line,
			    "NUL byte");
		if (quoted && c == EOF)
			return csv_fail(r, CSV_UNCLOSED, cause, qline,
			    "quoted field is not closed (it opens on this "
			    "line)");
		if (quoted) {
			if (c == '"') {
				if (csv_peek(r) == '"') {
					csv_getc(r);
					c = '"';
				} else {
					quoted = 0;
					after_quote = 1;
					continue;
				}
			} else if (c == '\r' || c == '\n') {
				if (c == '\r' && csv_peek(r) == '\n')
					csv_getc(r);
				r->line++;
				c = '\n';
			}
			if (buf_addc(&r->data, (char)c) != 0)
				goto too_long;
			continue;
		}
		if (c == r->delim || c == '\r' || c == '\n' || c == EOF) {
			if (csv_end_field(r) != 0)
				goto too_long;
			if (c == r->delim) {
				after_quote = 0;
				if (csv_peek(r) == '"') {
					csv_getc(r);
					quoted = 1;
					qline = r->line;
				}
				continue;
			}
			if (c == '\r' && csv_peek(r) == '\n')
				csv_getc(r);
			if (c != EOF)
				r->line++;
			break;
		}
		if (after_quote) {
			what = xprintf("a quoted field must be followed by a "
			    "%s or the end of the line",
			    csv_delimiter_name(r->delim));
			rc = csv_fail(r, CSV_AFTER_QUOTE, cause, r->line,
			    what);
			free(what);
			return rc;
		}
		if (buf_addc(&r->data, (char)c) != 0)
			goto too_long;
	}

	/* Step 3: point at the fields. */
	if (r->arec < r->noffs) {
		r->arec = r->noffs;
		r->rec.fields = xreallocarray(r->rec.fields, r->arec,
		    sizeof *r->rec.fields);
		r->rec.lens = xreallocarray(r->rec.lens, r->arec,
		    sizeof *r->rec.lens);
	}
	r->rec.n = r->noffs;
	for (i = 0, start = 0; i < r->noffs; i++) {
		r->rec.fields[i] = r->data.data + start;
		r->rec.lens[i] = r->offs[i] - start - 1;
		start = r->offs[i];
	}
	*recp = &r->rec;
	return 1;

too_long:
	if (r->noffs == CSV_MAX_FIELDS)
		return csv_fail(r, CSV_TOO_MANY, cause, r->rec.line,
		    "too many fields in one record");
	return csv_fail(r, CSV_TOO_LONG, cause, r->rec.line,
	    "record is too long");
read_error:
	return csv_fail(r, CSV_READ, cause, 0, strerror(errno));
}

/* --- the delimiter ------------------------------------------------------ */

size_t
csv_sniff(const char *s, size_t len, const char *cands, char *ranked)
{
	size_t		 count[CSV_SNIFF_MAX], n, i, j, best;
	const char	*p;
	int		 quoted = 0, seen = 0;
	char		 used[CSV_SNIFF_MAX];

	if ((n = strlen(cands)) > CSV_SNIFF_MAX)
		fatalx("%s: more than %d candidates", __func__, CSV_SNIFF_MAX);
	memset(count, 0, sizeof count);
	if (len >= 3 && memcmp(s, CSV_BOM, 3) == 0) {
		s += 3;
		len -= 3;
	}

	/* Step 1: count them in the first record that is not blank. */
	for (i = 0; i < len; i++) {
		if (s[i] == '"') {
			quoted = !quoted;
			seen = 1;
			continue;
		}
		if (quoted)
			continue;
		if (s[i] == '\r' || s[i] == '\n') {
			if (seen)
				break;
			continue;
		}
		seen = 1;
		if (s[i] != '\0' && (p = strchr(cands, s[i])) != NULL)
			count[p - cands]++;
	}

	/* Step 2: most first; a tie goes to the one named first. */
	memset(used, 0, sizeof used);
	for (j = 0; j < n; j++) {
		best = n;
		for (i = 0; i < n; i++) {
			if (used[i] || count[i] == 0)
				continue;
			if (best == n || count[i] > count[best])
				best = i;
		}
		if (best == n)
			break;
		used[best] = 1;
		ranked[j] = cands[best];
	}
	ranked[j] = '\0';
	return j;
}

/* --- writing ----------------------------------------------------------- */

int
csv_write_field(struct buf *b, const char *s, size_t len)
{
	size_t	i;
	int	quote = 0;

	if (len > 0 && (s[0] == ' ' || s[0] == '\t' || s[len - 1] == ' ' ||
	    s[len - 1] == '\t'))
		quote = 1;
	for (i = 0; i < len && !quote; i++) {
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			quote = 1;
	}
	if (!quote)
		return buf_add(b, s, len);
	if (buf_addc(b, '"') != 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] == '"' && buf_addc(b, '"') != 0)
			return -1;
		if (buf_addc(b, s[i]) != 0)
			return -1;
	}
	return buf_addc(b, '"');
}

int
csv_write_cell(struct buf *b, const char *s, size_t len)
{
	/*
	 * A spreadsheet runs a cell that starts with one of these as a
	 * formula (OWASP's "CSV injection"); a quote first makes it text.
	 */
	if (len > 0 && s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL) {
		struct buf	t;
		int		rc;

		buf_init(&t, 0);
		if (buf_addc(&t, '\'') != 0 || buf_add(&t, s, len) != 0) {
			buf_free(&t);
			return -1;
		}
		rc = csv_write_field(b, t.data, t.len);
		buf_free(&t);
		return rc;
	}
	return csv_write_field(b, s, len);
}

int
csv_write_record(struct buf *b, const char *const *fields, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i > 0 && buf_addc(b, ',') != 0)
			return -1;
		if (csv_write_field(b, fields[i], strlen(fields[i])) != 0)
			return -1;
	}
	return buf_add(b, "\r\n", 2);
}
