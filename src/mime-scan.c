/*
 * mime-scan.c - the part of mime-parse.c that reads raw bytes only,
 * without libetpan: header fields as they stand, RFC 2047 encoded words,
 * mime_parse_find_header(), and the scan (step 2 of mime_parse()) that
 * decides how much of a message libetpan may read - where nesting, the
 * number of parts, or a boundary libetpan 1.9.4 cannot read safely say to
 * stop - and which open multiparts to close there.
 *
 * Owns: field splitting and header decoding on raw bytes, the scan.  Does
 * not own: the structure and its parts (mime-parse.c, with libetpan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "hex.h"
#include "mime-parse.h"
#include "mime-parse-int.h"
#include "utf8.h"
#include "xmalloc.h"

/* --- small string helpers ----------------------------------------------- */

int
mime_parse_wsp(char c)
{
	return c == ' ' || c == '\t';
}

int
mime_parse_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
mime_parse_lower(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

int
mime_parse_name_is(const struct mime_parse_field *f, const char *name)
{
	return strlen(name) == f->namelen &&
	    strncasecmp(f->name, name, f->namelen) == 0;
}

/* --- header fields ------------------------------------------------------ */

/*
 * The next field of the header block at p[*off..len).  Returns 1 with f
 * filled; 0 at the end of the block (*off then at the body: after the
 * empty line, or len); -1 for a line that is not a field (skipped).
 */
int
mime_parse_field_next(const char *p, size_t len, size_t *off,
    struct mime_parse_field *f)
{
	const char	*nl;
	size_t		 start = *off, eol, next, i, colon;

	if (start >= len)
		return 0;
	nl = memchr(p + start, '\n', len - start);
	eol = nl != NULL ? (size_t)(nl - p) : len;
	next = nl != NULL ? eol + 1 : len;
	if (eol > start && p[eol - 1] == '\r')
		eol--;
	if (eol == start) {
		*off = next;
		return 0;
	}
	*off = next;
	if (mime_parse_wsp(p[start]))
		return -1;	/* a continuation of nothing */

	for (colon = start; colon < eol && p[colon] != ':'; colon++)
		;
	if (colon == eol)
		return -1;
	f->name = p + start;
	f->namelen = colon - start;
	while (f->namelen > 0 && mime_parse_wsp(f->name[f->namelen - 1]))
		f->namelen--;
	if (f->namelen == 0)
		return -1;
	for (i = 0; i < f->namelen; i++) {
		if ((unsigned char)f->name[i] <= ' ' ||
		    (unsigned char)f->name[i] >= 0x7f)
			return -1;
	}

	/* The value runs on over lines that start with white space. */
	f->value = p + colon + 1;
	while (next < len && mime_parse_wsp(p[next])) {
		nl = memchr(p + next, '\n', len - next);
		eol = nl != NULL ? (size_t)(nl - p) : len;
		next = nl != NULL ? eol + 1 : len;
		if (eol > 0 && p[eol - 1] == '\r')
			eol--;
	}
	*off = next;
	f->valuelen = eol > colon ? eol - colon - 1 : 0;
	return 1;
}

/* The first field called name in the header block p[0..len). */
int
mime_parse_field_find(const char *p, size_t len, const char *name,
    struct mime_parse_field *f)
{
	size_t	off = 0;
	int	rc;

	while ((rc = mime_parse_field_next(p, len, &off, f)) != 0) {
		if (rc == 1 && mime_parse_name_is(f, name))
			return 1;
	}
	return 0;
}

/* --- RFC 2047 ----------------------------------------------------------- */

/*
 * An encoded word at p[0..len) ("=?charset?enc?text?="): its parts, and
 * its length.  0 when there is none there.
 */
static size_t
mime_parse_ew(const char *p, size_t len, const char **cs, size_t *cslen,
    char *enc, const char **text, size_t *textlen)
{
	size_t	i, j;

	if (len < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	for (i = 2; i < len && p[i] != '?'; i++) {
		if ((unsigned char)p[i] <= ' ' || (unsigned char)p[i] >= 0x7f)
			return 0;
	}
	if (i == 2 || i + 3 >= len || i - 2 > 64)
		return 0;
	*cs = p + 2;
	*cslen = i - 2;
	*enc = p[i + 1];
	if ((*enc != 'B' && *enc != 'b' && *enc != 'Q' && *enc != 'q') ||
	    p[i + 2] != '?')
		return 0;
	/* Encoded text holds no '?': the first one must start "?=". */
	for (j = i + 3; j < len && p[j] != '?'; j++) {
		if ((unsigned char)p[j] <= ' ' || (unsigned char)p[j] >= 0x7f)
			return 0;
	}
	if (j == i + 3 || j + 1 >= len || p[j + 1] != '=')
		return 0;	/* empty, or not closed by "?=" */
	*text = p + i + 3;
	*textlen = j - (i + 3);
	return j + 2;
}

/* Base64 or Q text into out (bytes); -1 when it is malformed. */
static int
mime_parse_ew_decode(struct buf *out, char enc, const char *s, size_t len)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char		*q;
	uint32_t		 acc = 0;
	size_t			 i, n = 0, pad = 0;
	int			 hi, lo;
	char			 c;

	if (enc == 'Q' || enc == 'q') {
		for (i = 0; i < len; i++) {
			c = s[i];
			if (c == '_')
				c = ' ';
			else if (c == '=') {
				if (i + 2 >= len ||
				    (hi = hex_digit(s[i + 1])) == -1 ||
				    (lo = hex_digit(s[i + 2])) == -1)
					return -1;
				c = (char)(hi * 16 + lo);
				i += 2;
			}
			(void)buf_addc(out, c);
		}
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (q = memchr(b64, s[i], 64)) == NULL)
			return -1;
		acc = acc << 6 | (uint32_t)(q - b64);
		if (++n == 4) {
			(void)buf_addc(out, (char)(acc >> 16));
			(void)buf_addc(out, (char)(acc >> 8));
			(void)buf_addc(out, (char)acc);
			acc = 0;
			n = 0;
		}
	}
	/* Missing padding is forgiven; a lone sixth of a byte is not. */
	if (n == 1 || pad > 2)
		return -1;
	if (n == 2)
		(void)buf_addc(out, (char)(acc >> 4));
	else if (n == 3) {
		(void)buf_addc(out, (char)(acc >> 10));
		(void)buf_addc(out, (char)(acc >> 2));
	}
	return 0;
}

/* Convert the pending bytes of adjacent encoded words, then forget them. */
static void
mime_parse_ew_flush(struct buf *out, const char *cs, struct buf *bytes,
    int *repaired)
{
	int	flags = 0;

	if (bytes->len == 0)
		return;
	(void)charset_to_utf8(out, cs, bytes->data, bytes->len, &flags);
	if (flags != 0)
		*repaired = 1;
	buf_reset(bytes);
}

int
mime_parse_header(struct buf *out, const char *value, size_t len)
{
	struct buf	 unfolded, tmp, bytes, word;
	const char	*p, *cs, *text, *plain_cs;
	char		 pending_cs[65], this_cs[65], enc, *star;
	size_t		 i, n, cslen, textlen, start, gap;
	int		 repaired = 0, flags, rc, pending = 0;

	/* Unfold: CR and LF are only ever fold points here. */
	buf_init(&unfolded, BUF_NOMAX);
	for (i = 0; i < len; i++) {
		if (value[i] != '\r' && value[i] != '\n')
			(void)buf_addc(&unfolded, value[i]);
	}
	p = unfolded.data != NULL ? unfolded.data : "";
	len = unfolded.len;
	plain_cs = utf8_valid(p, len) ? "utf-8" : "windows-1252";

	buf_init(&tmp, BUF_NOMAX);
	buf_init(&bytes, BUF_NOMAX);
	buf_init(&word, BUF_NOMAX);
	pending_cs[0] = '\0';
	start = 0;	/* plain text not yet written starts here */
	for (i = 0; i < len; i++) {
		if (p[i] != '=' || i + 1 >= len || p[i + 1] != '?')
			continue;
		n = mime_parse_ew(p + i, len - i, &cs, &cslen, &enc, &text,
		    &textlen);
		if (n == 0)
			continue;
		memcpy(this_cs, cs, cslen);
		this_cs[cslen] = '\0';
		if ((star = strchr(this_cs, '*')) != NULL)
			*star = '\0';	/* RFC 2231 language: "utf-8*en" */
		buf_reset(&word);
		if (mime_parse_ew_decode(&word, enc, text, textlen) == -1) {
			repaired = 1;	/* left as written */
			i += n - 1;
			continue;
		}

		/* Only white space since the last word: drop it, join. */
		for (gap = start; gap < i && mime_parse_wsp(p[gap]); gap++)
			;
		if (!(pending && gap == i)) {
			mime_parse_ew_flush(&tmp, pending_cs, &bytes,
			    &repaired);
			if (i > start) {
				flags = 0;
				(void)charset_to_utf8(&tmp, plain_cs,
				    p + start, i - start, &flags);
				if (flags != 0)
					repaired = 1;
			}
		} else if (strcasecmp(pending_cs, this_cs) != 0)
			mime_parse_ew_flush(&tmp, pending_cs, &bytes,
			    &repaired);
		memcpy(pending_cs, this_cs, strlen(this_cs) + 1);
		(void)buf_add(&bytes, word.data, word.len);
		pending = 1;
		i += n - 1;
		start = i + 1;
	}
	mime_parse_ew_flush(&tmp, pending_cs, &bytes, &repaired);
	if (len > start) {
		flags = 0;
		(void)charset_to_utf8(&tmp, plain_cs, p + start, len - start,
		    &flags);
		if (flags != 0)
			repaired = 1;
	}
	if (strcmp(plain_cs, "utf-8") != 0)
		repaired = 1;	/* raw 8-bit that is not UTF-8 */

	/* Controls (NUL, CR, LF from encoded words too) become spaces. */
	for (i = 0; i < tmp.len; i++) {
		if ((unsigned char)tmp.data[i] < 0x20 || tmp.data[i] == 0x7f)
			tmp.data[i] = ' ';
	}
	for (start = 0; start < tmp.len && tmp.data[start] == ' '; start++)
		;
	for (n = tmp.len; n > start && tmp.data[n - 1] == ' '; n--)
		;
	rc = 0;
	if (n > start && buf_add(out, tmp.data + start, n - start) == -1) {
		(void)buf_add(out, tmp.data + start, utf8_truncate(tmp.data +
		    start, n - start, out->max > out->len ?
		    out->max - out->len : 0));
		rc = -1;
	}
	buf_free(&word);
	buf_free(&bytes);
	buf_free(&tmp);
	buf_free(&unfolded);
	if (rc == -1)
		return -1;
	return repaired;
}

char *
mime_parse_header_str(const char *value, size_t len, int *repaired)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	if (mime_parse_header(&b, value, len) == 1)
		*repaired = 1;
	return buf_detach(&b, NULL);
}

/* --- header fields ------------------------------------------------------ */

char *
mime_parse_find_header(const char *raw, size_t len, const char *name)
{
	struct mime_parse_field	f;
	int			repaired = 0;

	if (!mime_parse_field_find(raw, len, name, &f))
		return NULL;
	return mime_parse_header_str(f.value, f.valuelen, &repaired);
}

/* --- the scan ------------------------------------------------------------ */

/*
 * Read a Content-Type value far enough for the scan: is it multipart or
 * message/rfc822 (or message/global), and its boundary parameter,
 * unquoted, into *bound (caller frees; NULL when none).  *unsafe: a
 * multipart type with an escaped quote anywhere in its parameters, which
 * is how a boundary libetpan 1.9.4 writes out of bounds on is spelled
 * (boundary="\""), however the parameter list around it is dressed up.
 */
static void
mime_parse_scan_ct(const char *v, size_t len, int *multipart, int *message,
    char **bound, int *unsafe)
{
	struct buf	 b;
	char		 type[64];
	size_t		 i, n, nstart;
	int		 isb;

	*multipart = *message = *unsafe = 0;
	*bound = NULL;
	for (i = 0; i < len && mime_parse_space(v[i]); i++)
		;
	for (n = 0; i < len && v[i] != ';' && !mime_parse_space(v[i]) &&
	    v[i] != '('; i++) {
		if (n < sizeof type - 1)
			type[n++] = v[i];
	}
	type[n] = '\0';
	mime_parse_lower(type);
	if (strncmp(type, "multipart/", 10) == 0)
		*multipart = 1;
	else if (strcmp(type, "message/rfc822") == 0 ||
	    strcmp(type, "message/global") == 0)
		*message = 1;
	if (!*multipart)
		return;
	for (n = i; n + 1 < len; n++) {
		if (v[n] == '\\' && v[n + 1] == '"')
			*unsafe = 1;
	}

	/* Parameters: ; name = value, value a token or a quoted string. */
	while (i < len) {
		if (v[i] != ';') {
			i++;
			continue;
		}
		i++;
		while (i < len && mime_parse_space(v[i]))
			i++;
		nstart = i;
		while (i < len && v[i] != '=' && v[i] != ';' &&
		    !mime_parse_space(v[i]))
			i++;
		isb = i - nstart == 8 && strncasecmp(v + nstart,
		    "boundary", 8) == 0;
		while (i < len && mime_parse_space(v[i]))
			i++;
		if (i >= len || v[i] != '=')
			continue;
		i++;
		while (i < len && mime_parse_space(v[i]))
			i++;
		buf_init(&b, BUF_NOMAX);
		if (i < len && v[i] == '"') {
			for (i++; i < len && v[i] != '"'; i++) {
				if (v[i] == '\\' && i + 1 < len)
					i++;
				if (v[i] != '\r' && v[i] != '\n')
					(void)buf_addc(&b, v[i]);
			}
			if (i < len)
				i++;
		} else {
			while (i < len && v[i] != ';' &&
			    !mime_parse_space(v[i]))
				(void)buf_addc(&b, v[i++]);
		}
		if (isb && *bound == NULL) {
			*bound = buf_detach(&b, NULL);
			continue;
		}
		buf_free(&b);
	}
}

/* Skip white space, line ends and (nested) comments from p[i]. */
static size_t
mime_parse_raw_cfws(const char *p, size_t len, size_t i)
{
	int	depth = 0;

	for (; i < len; i++) {
		if (depth > 0 && p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '(')
			depth++;
		else if (depth > 0 && p[i] == ')')
			depth--;
		else if (depth == 0 && !mime_parse_space(p[i]))
			break;
	}
	return i;
}

/*
 * The first place in raw[0..len) where a "boundary" parameter libetpan
 * 1.9.4 cannot read safely could begin, decided on the bytes alone,
 * whatever structure they seem to have (a reader of structure once
 * missed one that a blank line turned into text put inside a header):
 * the word "boundary" in any case, anywhere, then "=" and a quoted value
 * holding a backslash, comments and line breaks allowed around both as
 * libetpan allows them.  No real boundary holds a backslash (RFC 2046).
 * Returns the start of the header field it is in (its first line, not a
 * continuation), or len when there is none.
 */
static size_t
mime_parse_scan_raw(const char *raw, size_t len)
{
	size_t	i, j, start;

	for (i = 0; i + 8 <= len; i++) {
		if ((raw[i] | 0x20) != 'b' ||
		    strncasecmp(raw + i, "boundary", 8) != 0)
			continue;
		j = mime_parse_raw_cfws(raw, len, i + 8);
		if (j >= len || raw[j] != '=')
			continue;
		j = mime_parse_raw_cfws(raw, len, j + 1);
		if (j >= len || raw[j] != '"')
			continue;
		for (j++; j < len && raw[j] != '"' && raw[j] != '\\'; j++)
			;
		if (j >= len || raw[j] != '\\')
			continue;
		/* Back to the first line of the field. */
		start = i;
		for (;;) {
			while (start > 0 && raw[start - 1] != '\n')
				start--;
			if (start == 0 || !mime_parse_wsp(raw[start]))
				break;
			start--;
		}
		return start;
	}
	return len;
}

struct mime_parse_level {
	char	*bound;		/* NULL: a message/rfc822 level */
	size_t	 len;
};

/*
 * Walk the MIME structure of raw[0..len) as a reader that knows only
 * boundaries would, and decide how much of it libetpan may read.
 */
void
mime_parse_scan(const char *raw, size_t len,
    const struct mime_parse_limits *lim, struct mime_parse_scan *sc)
{
	struct mime_parse_level		*stack;
	struct mime_parse_field		 f;
	const char			*line, *nl;
	char				*bound;
	size_t				 nstack = 0, maxstack, off, entity;
	size_t				 parts = 1, k, linelen, next, rawcut;
	int				 headers = 1, rc, multipart, message;
	int				 got_ct, unsafe;

	memset(sc, 0, sizeof *sc);
	sc->cut = len;
	/*
	 * The bytes decide first: the walk stops at the entity that holds
	 * an unsafe boundary, or at its line when the walk believes it is
	 * in a body, whatever else it would have believed.
	 */
	rawcut = mime_parse_scan_raw(raw, len);
	maxstack = (lim->max_depth < MIME_PARSE_SCAN_MAX ? lim->max_depth :
	    MIME_PARSE_SCAN_MAX) + 1;
	stack = xcalloc(maxstack, sizeof *stack);
	off = 0;
	entity = 0;	/* where the entity being read starts */
	while (off < len) {
		if (!headers && off >= rawcut) {
			sc->unsafe = xprintf("a boundary libetpan cannot read "
			    "safely at byte %zu", rawcut);
			sc->cut = off;
			break;
		}
		if (headers) {
			multipart = message = unsafe = 0;
			bound = NULL;
			got_ct = 0;
			while ((rc = mime_parse_field_next(raw, len, &off,
			    &f)) != 0) {
				int	mp, msg, uns;
				char	*b;

				if (rc != 1 ||
				    !mime_parse_name_is(&f, "content-type"))
					continue;
				/* The first counts; any may be unsafe. */
				mime_parse_scan_ct(f.value, f.valuelen, &mp,
				    &msg, &b, &uns);
				unsafe |= uns;
				if (got_ct) {
					free(b);
					continue;
				}
				got_ct = 1;
				multipart = mp;
				message = msg;
				bound = b;
			}
			headers = 0;
			if (off > rawcut)
				unsafe = 1;
			if (multipart && bound == NULL && !unsafe) {
				sc->nobound = 1;
				continue;
			}
			if (off > rawcut || (multipart && (unsafe ||
			    bound[0] == '"'))) {
				sc->unsafe = xprintf("a boundary libetpan "
				    "cannot read safely at byte %zu", entity);
				sc->cut = entity;
				free(bound);
				break;
			}
			if (!multipart && !message)
				continue;
			/* Its parts (or its message) would be one deeper. */
			if (nstack + 1 >= maxstack) {
				sc->limit = xprintf("nested deeper than %zu "
				    "levels", lim->max_depth);
				sc->cut = off;
				free(bound);
				break;
			}
			stack[nstack].bound = bound;
			stack[nstack].len = bound != NULL ? strlen(bound) : 0;
			nstack++;
			if (message) {
				if (++parts > lim->max_parts) {
					sc->limit = xprintf("more than %zu "
					    "parts", lim->max_parts);
					sc->cut = off;
					break;
				}
				entity = off;
				headers = 1;
			}
			continue;
		}

		/* A body: look for a boundary of an open multipart. */
		line = raw + off;
		nl = memchr(line, '\n', len - off);
		linelen = nl != NULL ? (size_t)(nl - line) : len - off;
		next = nl != NULL ? off + linelen + 1 : len;
		if (linelen < 3 || line[0] != '-' || line[1] != '-') {
			off = next;
			continue;
		}
		for (k = nstack; k > 0; k--) {
			if (stack[k - 1].bound != NULL &&
			    linelen >= 2 + stack[k - 1].len &&
			    memcmp(line + 2, stack[k - 1].bound,
			    stack[k - 1].len) == 0)
				break;
		}
		if (k == 0) {
			off = next;
			continue;
		}
		/* Levels above it end here, closed or not. */
		while (nstack > k) {
			nstack--;
			if (stack[nstack].bound != NULL)
				sc->unclosed = 1;
			free(stack[nstack].bound);
			stack[nstack].bound = NULL;
		}
		if (linelen >= 4 + stack[k - 1].len &&
		    line[2 + stack[k - 1].len] == '-' &&
		    line[3 + stack[k - 1].len] == '-') {
			nstack--;
			free(stack[nstack].bound);
			stack[nstack].bound = NULL;
			off = next;
			continue;
		}
		if (++parts > lim->max_parts) {
			sc->limit = xprintf("more than %zu parts",
			    lim->max_parts);
			sc->cut = off;
			break;
		}
		entity = off;
		off = next;
		headers = 1;
	}
	/*
	 * libetpan flattens nested multiparts that are never closed: close
	 * what is open, innermost first, so that it reads the structure.
	 */
	if (nstack > 0) {
		struct buf	b;

		buf_init(&b, BUF_NOMAX);
		for (k = nstack; k > 0; k--) {
			if (stack[k - 1].bound == NULL)
				continue;
			(void)buf_printf(&b, "\r\n--%s--\r\n",
			    stack[k - 1].bound);
			if (sc->cut == len)
				sc->unclosed = 1;
		}
		if (b.len > 0)
			sc->closers = buf_detach(&b, NULL);
		buf_free(&b);
	}
	for (k = 0; k < maxstack; k++)
		free(stack[k].bound);
	free(stack);
}
