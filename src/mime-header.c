/*
 * mime-header.c - the header fields of outgoing messages: values cleaned
 * to one line (the one place that stops header injection), folded at
 * whitespace to 78 columns (76 on lines holding encoded words), RFC 2047
 * encoded words for non-ASCII text and words too long to fold, and
 * addresses with their display names as atoms, quoted strings or encoded
 * words.
 *
 * Owns: every byte of a header field postroom writes, from its name to
 * its CRLF.  Does not own: which fields a message has, and the body
 * (mime-build.c), reading incoming headers (mime-scan.c, mime-parse.c),
 * what the values say (templates, campaigns, routing).
 *
 * Speed: most header values need neither cleaning nor folding, and such a
 * value is copied whole, in one reservation of the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "mime-build.h"
#include "mime-build-int.h"
#include "utf8.h"
#include "xmalloc.h"

#define MIME_WS_MAX	8	/* longest run of spaces kept in a header */
#define MIME_EW_MIN	24	/* room for an encoded word of one character */
#define MIME_EW_OVER	12	/* strlen("=?UTF-8?Q?") + strlen("?=") */
#define MIME_ADDR_MAX	254	/* RFC 5321 path limit less the brackets */

/* A header field being written: where we are on the current line. */
struct mime_fold {
	struct buf	*b;
	size_t		 col;	/* octets on the current line */
	size_t		 namelen;
	int		 bare;	/* nothing but the name or indent on it */
	int		 ew;	/* the current line holds an encoded word */
	int		 err;
};

/* A word of a cleaned header value and the spaces before it. */
struct mime_word {
	const char	*ws;
	size_t		 wslen;
	const char	*w;
	size_t		 wlen;
};

/* --- cleaning header values --------------------------------------------- */

/*
 * Copy value into tmp as one line: CRLF, CR, LF, TAB and every other
 * control become a space, runs of spaces are cut to MIME_WS_MAX, leading and
 * trailing spaces go.  With utf8, invalid bytes become U+FFFD; without,
 * 8-bit bytes become '?'.  This is the one place that stops header
 * injection: nothing after it can see a CR or LF.
 */
static int
mime_clean(struct buf *tmp, const char *v, int utf8)
{
	const unsigned char	*u = (const unsigned char *)v;
	uint32_t		 cp;
	size_t			 i = 0, start, nsp = 0, len = strlen(v);
	int			 n, err = 0;

	buf_reset(tmp);
	while (u[i] != '\0') {
		if (u[i] == '\r' && u[i + 1] == '\n') {
			nsp++;
			i += 2;
			continue;
		}
		if (u[i] <= ' ' || u[i] == 0x7f) {
			nsp++;
			i++;
			continue;
		}
		if (nsp > 0 && tmp->len > 0)
			err |= buf_add(tmp, "        ",
			    nsp > MIME_WS_MAX ? MIME_WS_MAX : nsp);
		nsp = 0;
		if (u[i] < 0x80) {
			/* A run of printable ASCII in one append. */
			start = i;
			while (u[i] > ' ' && u[i] < 0x7f)
				i++;
			err |= buf_add(tmp, v + start, i - start);
			continue;
		}
		if (!utf8) {
			err |= buf_addc(tmp, '?');
			i++;
		} else if ((n = utf8_decode(v + i, len - i, &cp)) > 0) {
			err |= buf_add(tmp, v + i, (size_t)n);
			i += (size_t)n;
		} else {
			err |= buf_add(tmp, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	if (tmp->data == NULL)
		err |= buf_add(tmp, "", 0);
	return err;
}

/* The next word of the cleaned value s at *pos; 0 at the end. */
static int
mime_next_word(const char *s, size_t len, size_t *pos, struct mime_word *w)
{
	size_t	i = *pos;

	w->ws = s + i;
	while (i < len && s[i] == ' ')
		i++;
	w->wslen = (size_t)(s + i - w->ws);
	w->w = s + i;
	while (i < len && s[i] != ' ')
		i++;
	w->wlen = (size_t)(s + i - w->w);
	*pos = i;
	return w->wlen > 0;
}

static int
mime_has_ew_start(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] == '=' && s[i + 1] == '?')
			return 1;
	}
	return 0;
}

/* --- folding ------------------------------------------------------------ */

static void
mime_fold_add(struct mime_fold *f, const char *p, size_t n)
{
	if (buf_add(f->b, p, n) == -1)
		f->err = -1;
	f->col += n;
}

static void
mime_fold_break(struct mime_fold *f)
{
	if (buf_add(f->b, "\r\n", 2) == -1)
		f->err = -1;
	f->col = 0;
	f->bare = 1;
	f->ew = 0;
}

static void
mime_fold_begin(struct mime_fold *f, struct buf *b, const char *name)
{
	f->b = b;
	f->col = 0;
	f->ew = 0;
	f->err = 0;
	f->bare = 1;
	f->namelen = strlen(name);
	mime_fold_add(f, name, f->namelen);
	mime_fold_add(f, ":", 1);
}

static int
mime_fold_end(struct mime_fold *f)
{
	mime_fold_break(f);
	return f->err;
}

/*
 * Fold before the whitespace about to be written when need more octets
 * would not fit on this line, and there is a word on it already to fold
 * after (ws is never empty here).
 */
static void
mime_fold_room(struct mime_fold *f, size_t need)
{
	size_t	limit = f->ew ? MIME_LINE_EW : MIME_LINE_SOFT;

	if (!f->bare && f->col + need > limit)
		mime_fold_break(f);
}

/*
 * Spaces then a word.  A word that cannot fit in MIME_LINE_MAX even on a
 * line of its own is cut, with CRLF SP: only mime_header_fold's raw values
 * can have such words (text headers encode them, addresses are short).
 */
static void
mime_fold_word(struct mime_fold *f, const char *ws, size_t wslen,
    const char *w, size_t wlen)
{
	size_t	n;

	mime_fold_room(f, wslen + wlen);
	mime_fold_add(f, ws, wslen);
	while (f->col + wlen > MIME_LINE_MAX) {
		n = MIME_LINE_MAX - f->col;
		mime_fold_add(f, w, n);
		w += n;
		wlen -= n;
		mime_fold_break(f);
		mime_fold_add(f, " ", 1);
	}
	mime_fold_add(f, w, wlen);
	f->bare = 0;
}

/*
 * Whether a word with wslen spaces before it fits in MIME_LINE_SOFT
 * wherever it lands: on the first line after "Name: " or at the start of
 * a continuation line.  Text words and display names that do not are
 * encoded, which lets them be split; raw values cannot be.
 */
static int
mime_word_fits(size_t namelen, size_t wslen, size_t wlen)
{
	if (wslen == 0)
		wslen = 1;
	return namelen + 1 + wslen + wlen <= MIME_LINE_SOFT;
}

/*
 * Whether value v can go as it is on the line "Name: v": printable ASCII,
 * no space at either end or next to another, and short enough.  Cleaning
 * (mime_clean) would leave such a value as it is and folding would not
 * break it, so it is copied whole; most header values are like this.
 * With text, a "=?" (which only an encoded word may hold) disqualifies
 * it too.  Sets *len.
 */
static int
mime_one_line(size_t namelen, const char *v, int text, size_t *len)
{
	const unsigned char	*u = (const unsigned char *)v;
	size_t			 i, n = strlen(v);

	/* Too long, empty, or a space at either end: fold it. */
	if (n == 0 || namelen + 2 + n > MIME_LINE_SOFT || u[0] == ' ' ||
	    u[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++) {
		/* Most bytes are letters and the like: one test for them. */
		if (u[i] > ' ' && u[i] < 0x7f && u[i] != '=')
			continue;
		if (u[i] == ' ' && u[i + 1] != ' ')
			continue;
		if (u[i] == '=' && (!text || u[i + 1] != '?'))
			continue;
		return 0;
	}
	*len = n;
	return 1;
}

/* A piece of a header line. */
struct mime_piece {
	const char	*p;
	size_t		 len;
};

/* "Name: ", the pieces of the value, CRLF: 0, or -1 past b's cap. */
static int
mime_line(struct buf *b, const char *name, size_t namelen,
    const struct mime_piece *pc, size_t n)
{
	char	*p;
	size_t	 i, len = namelen + 4;

	for (i = 0; i < n; i++)
		len += pc[i].len;
	if ((p = buf_reserve(b, len)) == NULL)
		return -1;
	memcpy(p, name, namelen);
	p += namelen;
	*p++ = ':';
	*p++ = ' ';
	for (i = 0; i < n; i++) {
		memcpy(p, pc[i].p, pc[i].len);
		p += pc[i].len;
	}
	*p++ = '\r';
	*p++ = '\n';
	*p = '\0';
	b->len += len;
	return 0;
}

/* --- RFC 2047 encoded words --------------------------------------------- */

/*
 * Characters that stand for themselves in Q encoding.  RFC 2047 5(3) is
 * the strictest rule (encoded words in a phrase), and we use it everywhere.
 */
static int
mime_q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	    c == '-' || c == '/';
}

static size_t
mime_q_len(unsigned char c)
{
	return (c == ' ' || mime_q_safe(c)) ? 1 : 3;
}

/* Length of the (valid UTF-8) character at s. */
static size_t
mime_charlen(const char *s, size_t len)
{
	uint32_t	cp;
	int		n;

	if ((n = utf8_decode(s, len, &cp)) <= 0)
		return 1;
	return (size_t)n;
}

/*
 * Write s[0..len) (cleaned, valid UTF-8) as encoded words, the first
 * preceded by ws, the rest by one space (which decoders drop between
 * encoded words).  Each word is sized to what is left of its line, so
 * lines holding encoded words stay within 76 octets.
 */
static void
mime_fold_encoded(struct mime_fold *f, const char *ws, size_t wslen,
    const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 word[MIME_EW_MAX + 1];
	size_t			 i, j, k, n, qlen = 0, room, enc, clen, wl;
	int			 useb;
	uint32_t		 v;

	for (i = 0; i < len; i++)
		qlen += mime_q_len(u[i]);
	useb = ((len + 2) / 3) * 4 < qlen;

	i = 0;
	while (i < len) {
		/* Step 1: make room for at least one character. */
		if (f->col > 0 && f->col + wslen + MIME_EW_MIN > MIME_LINE_EW)
			mime_fold_break(f);
		room = MIME_LINE_EW - f->col - wslen;
		if (room > MIME_EW_MAX)
			room = MIME_EW_MAX;
		room -= MIME_EW_OVER;

		/* Step 2: as many whole characters as fit. */
		n = 0;
		enc = 0;
		while (i + n < len) {
			clen = mime_charlen(s + i + n, len - i - n);
			if (useb)
				k = ((n + clen + 2) / 3) * 4;
			else {
				k = enc;
				for (j = 0; j < clen; j++)
					k += mime_q_len(u[i + n + j]);
			}
			if (k > room)
				break;
			enc = k;
			n += clen;
		}
		if (n == 0)
			fatalx("%s: no room for an encoded word", __func__);

		/* Step 3: encode them. */
		memcpy(word, useb ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
		wl = 10;
		if (useb) {
			for (j = 0; j < n; j += 3) {
				v = (uint32_t)u[i + j] << 16;
				if (j + 1 < n)
					v |= (uint32_t)u[i + j + 1] << 8;
				if (j + 2 < n)
					v |= u[i + j + 2];
				word[wl++] = mime_b64[(v >> 18) & 63];
				word[wl++] = mime_b64[(v >> 12) & 63];
				word[wl++] = j + 1 < n ?
				    mime_b64[(v >> 6) & 63] : '=';
				word[wl++] = j + 2 < n ? mime_b64[v & 63] : '=';
			}
		} else {
			for (j = 0; j < n; j++) {
				if (u[i + j] == ' ')
					word[wl++] = '_';
				else if (mime_q_safe(u[i + j]))
					word[wl++] = (char)u[i + j];
				else {
					word[wl++] = '=';
					word[wl++] = mime_hex[u[i + j] >> 4];
					word[wl++] = mime_hex[u[i + j] & 15];
				}
			}
		}
		word[wl++] = '?';
		word[wl++] = '=';

		mime_fold_add(f, ws, wslen);
		mime_fold_add(f, word, wl);
		f->ew = 1;
		f->bare = 0;
		i += n;
		ws = " ";
		wslen = 1;
	}
}

/* --- header fields ------------------------------------------------------ */

int
mime_fold_raw(struct buf *b, struct buf *tmp, const char *name,
    const char *value)
{
	struct mime_fold	f;
	struct mime_word	w;
	struct mime_piece	pc;
	size_t			pos = 0, namelen = strlen(name);

	if (mime_one_line(namelen, value, 0, &pc.len)) {
		pc.p = value;
		return mime_line(b, name, namelen, &pc, 1);
	}
	if (mime_clean(tmp, value, 0) == -1)
		return -1;
	mime_fold_begin(&f, b, name);
	while (mime_next_word(tmp->data, tmp->len, &pos, &w)) {
		if (w.wslen == 0) {		/* after the colon */
			w.ws = " ";
			w.wslen = 1;
		}
		mime_fold_word(&f, w.ws, w.wslen, w.w, w.wlen);
	}
	return mime_fold_end(&f);
}

int
mime_header_fold(struct buf *b, const char *name, const char *value)
{
	struct buf	tmp;
	int		rc;

	buf_init(&tmp, BUF_NOMAX);
	rc = mime_fold_raw(b, &tmp, name, value);
	buf_free(&tmp);
	return rc;
}

static int
mime_word_needs_ew(size_t namelen, const struct mime_word *w)
{
	return !utf8_is_ascii(w->w, w->wlen) ||
	    mime_has_ew_start(w->w, w->wlen) ||
	    !mime_word_fits(namelen, w->wslen, w->wlen);
}

int
mime_fold_text(struct buf *b, struct buf *tmp, const char *name,
    const char *value)
{
	struct mime_fold	f;
	struct mime_word	w;
	struct mime_piece	pc;
	const char		*s;
	size_t			 len, pos, nw, i, namelen = strlen(name);
	size_t			 lo = SIZE_MAX, hi = 0, end = 0;

	if (mime_one_line(namelen, value, 1, &pc.len)) {
		pc.p = value;
		return mime_line(b, name, namelen, &pc, 1);
	}
	if (mime_clean(tmp, value, 1) == -1)
		return -1;
	s = tmp->data;
	len = tmp->len;

	/* Step 1: which words need encoding, first (lo) to last (hi). */
	pos = 0;
	for (nw = 0; mime_next_word(s, len, &pos, &w); nw++) {
		if (mime_word_needs_ew(namelen, &w)) {
			if (lo == SIZE_MAX)
				lo = nw;
			hi = nw;
			end = pos;
		}
	}

	/* Step 2: plain words, the encoded stretch, plain words. */
	mime_fold_begin(&f, b, name);
	pos = 0;
	for (i = 0; mime_next_word(s, len, &pos, &w); i++) {
		if (i == 0) {			/* after the colon */
			w.ws = " ";
			w.wslen = 1;
		}
		if (i == lo) {
			mime_fold_encoded(&f, w.ws, w.wslen, w.w,
			    (size_t)(s + end - w.w));
			pos = end;
			i = hi;
			continue;
		}
		mime_fold_word(&f, w.ws, w.wslen, w.w, w.wlen);
	}
	return mime_fold_end(&f);
}

int
mime_header_text(struct buf *b, const char *name, const char *value)
{
	struct buf	tmp;
	int		rc;

	buf_init(&tmp, BUF_NOMAX);
	rc = mime_fold_text(b, &tmp, name, value);
	buf_free(&tmp);
	return rc;
}

/* RFC 5322 atext. */
static int
mime_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * An address we are willing to write: ASCII, one '@' with something on
 * both sides, nothing that would end or break the angle-addr.  Quoted
 * local parts and domain literals are not supported.
 */
int
mime_addr_check(const char *addr, char **cause)
{
	const char	*at = NULL, *p;

	if (addr == NULL || *addr == '\0') {
		*cause = xstrdup("empty address");
		return -1;
	}
	for (p = addr; *p != '\0'; p++) {
		/* Most characters are these: nothing more to look at. */
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || (*p >= 'A' && *p <= 'Z'))
			continue;
		if ((unsigned char)*p >= 0x80) {
			*cause = xprintf("address is not ASCII (IDN or "
			    "SMTPUTF8 addresses are not supported)");
			return -1;
		}
		if ((unsigned char)*p <= ' ' || *p == 0x7f ||
		    strchr("<>()[],;:\\\"", *p) != NULL) {
			*cause = xprintf("bad character 0x%02x in address",
			    (unsigned char)*p);
			return -1;
		}
		if (*p == '@') {
			if (at != NULL) {
				*cause = xstrdup("more than one @ in address");
				return -1;
			}
			at = p;
		}
	}
	if (at == NULL || at == addr || at[1] == '\0' || at[1] == '.' ||
	    p[-1] == '.' || strstr(at, "..") != NULL) {
		*cause = xstrdup("address is not local@domain");
		return -1;
	}
	if ((size_t)(p - addr) > MIME_ADDR_MAX) {
		*cause = xprintf("address longer than %d octets",
		    MIME_ADDR_MAX);
		return -1;
	}
	return 0;
}

int
mime_address_ok(const char *addr)
{
	char	*cause = NULL;

	if (mime_addr_check(addr, &cause) == -1) {
		free(cause);
		return 0;
	}
	return 1;
}

/*
 * One mailbox: the display name as atoms, a quoted string or encoded
 * words, then <addr>; or the bare addr without a display name.  ws goes
 * before the first token.
 */
static int
mime_fold_mailbox(struct mime_fold *f, struct buf *tmp, struct buf *tmp2,
    const char *display, const char *addr, const char *ws)
{
	struct mime_word	 w;
	const char		*s;
	size_t			 len, pos, alen, i;
	int			 quote = 0, enc, err = 0;

	if (mime_clean(tmp, display != NULL ? display : "", 1) == -1)
		return -1;
	s = tmp->data;
	len = tmp->len;
	alen = strlen(addr);
	if (len == 0) {
		mime_fold_word(f, ws, strlen(ws), addr, alen);
		return 0;
	}

	/*
	 * Step 1: atoms as they are, other ASCII as a quoted string (folded
	 * at its spaces if need be: RFC 5322 3.2.4 allows FWS inside), and
	 * encoded words for the rest, or when a word would not fit a line.
	 */
	enc = !utf8_is_ascii(s, len) || mime_has_ew_start(s, len);
	if (!enc) {
		for (i = 0; i < len; i++) {
			if (s[i] != ' ' && !mime_atext((unsigned char)s[i]))
				quote = 1;
		}
		buf_reset(tmp2);
		if (quote)
			err |= buf_addc(tmp2, '"');
		for (i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				err |= buf_addc(tmp2, '\\');
			err |= buf_addc(tmp2, s[i]);
		}
		if (quote)
			err |= buf_addc(tmp2, '"');
		if (err != 0)
			return -1;
		pos = 0;
		while (mime_next_word(tmp2->data, tmp2->len, &pos, &w)) {
			if (!mime_word_fits(f->namelen, w.wslen, w.wlen))
				enc = 1;
		}
	}

	/* Step 2: write the phrase and the address. */
	if (enc)
		mime_fold_encoded(f, ws, strlen(ws), s, len);
	else {
		pos = 0;
		for (i = 0; mime_next_word(tmp2->data, tmp2->len, &pos, &w);
		    i++) {
			if (i == 0) {
				w.ws = ws;
				w.wslen = strlen(ws);
			}
			mime_fold_word(f, w.ws, w.wslen, w.w, w.wlen);
		}
	}
	mime_fold_room(f, alen + 3);
	mime_fold_add(f, " <", 2);
	mime_fold_add(f, addr, alen);
	mime_fold_add(f, ">", 1);
	return 0;
}

/*
 * One mailbox on one line, "Name: phrase <addr>" or "Name: addr", when
 * the display name can go as atoms or a quoted string without folding
 * (what mime_fold_mailbox() would write then): 1 when written, 0 when
 * the caller must fold, -1 when b's cap was reached.
 */
static int
mime_address_line(struct buf *b, struct buf *tmp, const char *name,
    const struct mime_addr *a)
{
	struct mime_piece	pc[4];
	size_t			namelen = strlen(name), dlen = 0, i;
	char			*p;
	int			quote = 0;

	pc[0].p = a->addr;
	pc[0].len = strlen(a->addr);
	if (a->display == NULL || a->display[0] == '\0') {
		if (namelen + 2 + pc[0].len > MIME_LINE_SOFT)
			return 0;
		return mime_line(b, name, namelen, pc, 1) == -1 ? -1 : 1;
	}

	/* The phrase: atoms, or a quoted string. */
	if (!mime_one_line(namelen, a->display, 1, &dlen))
		return 0;
	for (i = 0; i < dlen; i++) {
		if (a->display[i] != ' ' &&
		    !mime_atext((unsigned char)a->display[i]))
			quote = 1;
	}
	buf_reset(tmp);
	if ((p = buf_reserve(tmp, 2 * dlen + 2)) == NULL)
		return -1;
	if (quote)
		*p++ = '"';
	for (i = 0; i < dlen; i++) {
		if (a->display[i] == '"' || a->display[i] == '\\')
			*p++ = '\\';
		*p++ = a->display[i];
	}
	if (quote)
		*p++ = '"';
	*p = '\0';
	tmp->len = (size_t)(p - tmp->data);
	if (namelen + 2 + tmp->len + 2 + pc[0].len + 1 > MIME_LINE_SOFT)
		return 0;
	pc[3] = pc[0];
	pc[0].p = tmp->data;
	pc[0].len = tmp->len;
	pc[1].p = " <";
	pc[1].len = 2;
	pc[2] = pc[3];
	pc[3].p = ">";
	pc[3].len = 1;
	return mime_line(b, name, namelen, pc, 4) == -1 ? -1 : 1;
}

int
mime_fold_addresses(struct buf *b, struct buf *tmp, struct buf *tmp2,
    const char *name, const struct mime_addr *a, size_t n)
{
	struct mime_fold	f;
	size_t			i;
	int			rc;

	if (n == 1 && (rc = mime_address_line(b, tmp, name, a)) != 0)
		return rc == -1 ? -1 : 0;
	mime_fold_begin(&f, b, name);
	for (i = 0; i < n; i++) {
		if (i > 0)
			mime_fold_add(&f, ",", 1);
		if (mime_fold_mailbox(&f, tmp, tmp2, a[i].display, a[i].addr,
		    " ") == -1)
			return -1;
	}
	return mime_fold_end(&f);
}

int
mime_header_address(struct buf *b, const char *name, const char *display,
    const char *addr, char **cause)
{
	struct mime_addr	a;
	struct buf		tmp, tmp2;
	int			rc;

	if (mime_addr_check(addr, cause) == -1)
		return -1;
	a.display = (char *)display;
	a.addr = (char *)addr;
	buf_init(&tmp, BUF_NOMAX);
	buf_init(&tmp2, BUF_NOMAX);
	rc = mime_fold_addresses(b, &tmp, &tmp2, name, &a, 1);
	buf_free(&tmp);
	buf_free(&tmp2);
	if (rc == -1)
		*cause = xstrdup("header does not fit in the buffer");
	return rc;
}
