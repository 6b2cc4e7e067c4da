/*
 * mime-build.c - writing outgoing messages: header folding, RFC 2047
 * encoded words, quoted-printable and base64 bodies, multipart structure,
 * Date and Message-ID.
 *
 * Owns: every byte of the wire form of what postroom sends.  Does not own:
 * the content (templates, campaigns, routing), parsing mail (mime-parse.c),
 * SMTP transparency (libcurl dot-stuffs in send-smtp.c; we encode a
 * line-initial "." in quoted-printable anyway).
 *
 * Speed matters: the delivery engine renders every campaign message here.
 * Everything appends to one struct buf (doubling, so linear), encoders
 * fill a line at a time on the stack, a message's text and HTML are
 * normalised and encoded once when set, not at every write, and scratch
 * buffers live in the struct mime_msg so a write allocates only for Date
 * and Message-ID.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "buf.h"
#include "log.h"
#include "mime-build.h"
#include "utf8.h"
#include "xmalloc.h"

#define MIME_WS_MAX	8	/* longest run of spaces kept in a header */
#define MIME_EW_MIN	24	/* room for an encoded word of one character */
#define MIME_EW_OVER	12	/* strlen("=?UTF-8?Q?") + strlen("?=") */
#define MIME_NAME_MAX	76	/* longest header name we accept */
#define MIME_ADDR_MAX	254	/* RFC 5321 path limit less the brackets */
#define MIME_QP_LINE	76

enum mime_hkind {
	MIME_H_TEXT,		/* unstructured, RFC 2047 as needed */
	MIME_H_RAW,		/* structured ASCII */
	MIME_H_ADDR,		/* address list */
};

struct mime_addr {
	char	*display;	/* NULL: none */
	char	*addr;
};

struct mime_hdr {
	enum mime_hkind	  kind;
	char		 *name;
	char		 *value;	/* TEXT and RAW */
	struct mime_addr *addrs;	/* ADDR */
	size_t		  naddrs;
};

struct mime_att {
	char	*data;		/* CRLF-normalised, or the original bytes */
	size_t	 len;
	int	 octet;		/* application/octet-stream, base64 */
	int	 eightbit;	/* message/rfc822 with 8-bit bytes */
};

struct mime_msg {
	struct mime_hdr	*hdrs;
	size_t		 nhdrs;
	size_t		 hdrs_cap;	/* kept across mime_msg_reset() */

	struct buf	 text;		/* encoded already, as text_cte */
	int		 has_text;
	enum mime_cte	 text_cte;
	struct buf	 html;		/* the same for HTML */
	int		 has_html;
	enum mime_cte	 html_cte;

	struct mime_att	*atts;
	size_t		 natts;

	char		*error;		/* the first bad thing given us */
	struct buf	 tmp;		/* scratch for header values */
	struct buf	 tmp2;
};

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

static const char mime_hex[] = "0123456789ABCDEF";
static const char mime_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

static int
mime_fold_raw(struct buf *b, struct buf *tmp, const char *name,
    const char *value)
{
	struct mime_fold	f;
	struct mime_word	w;
	size_t			pos = 0;

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

static int
mime_fold_text(struct buf *b, struct buf *tmp, const char *name,
    const char *value)
{
	struct mime_fold	f;
	struct mime_word	w;
	const char		*s;
	size_t			 len, pos, nw, i, namelen;
	size_t			 lo = SIZE_MAX, hi = 0, end = 0;

	if (mime_clean(tmp, value, 1) == -1)
		return -1;
	s = tmp->data;
	len = tmp->len;
	namelen = strlen(name);

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
static int
mime_addr_check(const char *addr, char **cause)
{
	const char	*at = NULL, *p;

	if (addr == NULL || *addr == '\0') {
		*cause = xstrdup("empty address");
		return -1;
	}
	for (p = addr; *p != '\0'; p++) {
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

static int
mime_fold_addresses(struct buf *b, struct buf *tmp, struct buf *tmp2,
    const char *name, const struct mime_addr *a, size_t n)
{
	struct mime_fold	f;
	size_t			i;

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

/* --- body encodings ----------------------------------------------------- */

/* Quoted-printable: 0 encode, 1 literal, 2 whitespace (literal unless
 * last on its line). */
static inline int
mime_qp_class(unsigned char c)
{
	if (c >= 33 && c <= 126)
		return c != '=';
	return (c == ' ' || c == '\t') ? 2 : 0;
}

/*
 * Encode (b not NULL) or count (b NULL) s as quoted-printable.  Output is
 * built a line at a time on the stack: at most 76 characters, then "=" and
 * CRLF for a soft break or CRLF for a hard one.
 */
static size_t
mime_qp_run(struct buf *b, const char *s, size_t len, int *err)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 line[MIME_QP_LINE + 8];
	size_t			 i = 0, col = 0, total = 0, limit;
	unsigned char		 c;
	int			 lit, last, e = 0;

	while (i < len) {
		c = u[i];

		/* A line ends at LF or CRLF; a lone CR is data (=0D). */
		if (c == '\n' ||
		    (c == '\r' && i + 1 < len && u[i + 1] == '\n')) {
			line[col++] = '\r';
			line[col++] = '\n';
			if (b != NULL && buf_add(b, line, col) == -1)
				e = -1;
			total += col;
			col = 0;
			i += c == '\r' ? 2 : 1;
			continue;
		}
		last = i + 1 == len || u[i + 1] == '\n' || (u[i + 1] == '\r' &&
		    i + 2 < len && u[i + 2] == '\n');

		/* The last character may reach 76; others leave room for
		 * the soft break's "=". */
		limit = last ? MIME_QP_LINE : MIME_QP_LINE - 1;
		if ((lit = mime_qp_class(c)) == 2)
			lit = !last;		/* trailing whitespace */
		if (col + (lit ? 1 : 3) > limit) {
			line[col++] = '=';
			line[col++] = '\r';
			line[col++] = '\n';
			if (b != NULL && buf_add(b, line, col) == -1)
				e = -1;
			total += col;
			col = 0;
		}
		/* SMTP's end of data, and mbox's "From " munging. */
		if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 &&
		    memcmp(u + i, "From ", 5) == 0)))
			lit = 0;

		if (lit)
			line[col++] = (char)c;
		else {
			line[col++] = '=';
			line[col++] = mime_hex[c >> 4];
			line[col++] = mime_hex[c & 15];
		}
		i++;
	}
	if (col > 0) {
		if (b != NULL && buf_add(b, line, col) == -1)
			e = -1;
		total += col;
	}
	if (err != NULL)
		*err = e;
	return total;
}

int
mime_qp_encode(struct buf *b, const char *s, size_t len)
{
	int	err;

	mime_qp_run(b, s, len, &err);
	return err;
}

size_t
mime_qp_len(const char *s, size_t len)
{
	return mime_qp_run(NULL, s, len, NULL);
}

size_t
mime_base64_len(size_t len)
{
	size_t	chars = ((len + 2) / 3) * 4;

	return chars + 2 * ((chars + 75) / 76);
}

int
mime_base64_encode(struct buf *b, const void *p, size_t len)
{
	const unsigned char	*u = p;
	char			 line[80];
	size_t			 i, j, n, l;
	uint32_t		 v;

	for (i = 0; i < len; i += n) {
		/* 57 octets make 76 characters */
		n = len - i > 57 ? 57 : len - i;
		l = 0;
		for (j = 0; j < n; j += 3) {
			v = (uint32_t)u[i + j] << 16;
			if (j + 1 < n)
				v |= (uint32_t)u[i + j + 1] << 8;
			if (j + 2 < n)
				v |= u[i + j + 2];
			line[l++] = mime_b64[(v >> 18) & 63];
			line[l++] = mime_b64[(v >> 12) & 63];
			line[l++] = j + 1 < n ? mime_b64[(v >> 6) & 63] : '=';
			line[l++] = j + 2 < n ? mime_b64[v & 63] : '=';
		}
		line[l++] = '\r';
		line[l++] = '\n';
		if (buf_add(b, line, l) == -1)
			return -1;
	}
	return 0;
}

/* 1 when s can go as 7bit: printable ASCII, TAB, CRLF, lines <= 998. */
static int
mime_text_scan(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, cur = 0;

	for (i = 0; i < len; i++) {
		if (u[i] == '\r' && i + 1 < len && u[i + 1] == '\n') {
			cur = 0;
			i++;
			continue;
		}
		if ((u[i] < ' ' && u[i] != '\t') || u[i] >= 0x7f)
			return 0;
		if (++cur > MIME_LINE_MAX)
			return 0;
	}
	return 1;
}

enum mime_cte
mime_text_cte(const char *s, size_t len)
{
	if (mime_text_scan(s, len))
		return MIME_CTE_7BIT;
	if (mime_qp_len(s, len) <= mime_base64_len(len))
		return MIME_CTE_QP;
	return MIME_CTE_BASE64;
}

int
mime_body_encode(struct buf *b, enum mime_cte cte, const char *s, size_t len)
{
	switch (cte) {
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
		return buf_add(b, s, len);
	case MIME_CTE_QP:
		return mime_qp_encode(b, s, len);
	case MIME_CTE_BASE64:
		return mime_base64_encode(b, s, len);
	}
	fatalx("%s: bad encoding %d", __func__, (int)cte);
}

const char *
mime_cte_name(enum mime_cte cte)
{
	switch (cte) {
	case MIME_CTE_7BIT:
		return "7bit";
	case MIME_CTE_8BIT:
		return "8bit";
	case MIME_CTE_QP:
		return "quoted-printable";
	case MIME_CTE_BASE64:
		return "base64";
	}
	fatalx("%s: bad encoding %d", __func__, (int)cte);
}

/* --- identifiers -------------------------------------------------------- */

static void
mime_random(void *p, size_t len)
{
	unsigned char	*u = p;
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(u, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatalx("getrandom: %s", strerror(errno));
		}
		u += n;
		len -= (size_t)n;
	}
}

static void
mime_random_hex(char *out, size_t nbytes)
{
	unsigned char	r[32];
	size_t		i;

	if (nbytes > sizeof r)
		fatalx("%s: %zu bytes", __func__, nbytes);
	mime_random(r, nbytes);
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = "0123456789abcdef"[r[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* A host name fit for the right of a Message-ID. */
static int
mime_domain_ok(const char *d)
{
	size_t	i, len;

	if (d == NULL || (len = strlen(d)) == 0 || len > 253 ||
	    d[0] == '.' || d[len - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' || d[i] == '.'))
			return 0;
	}
	return 1;
}

char *
mime_message_id(const char *domain)
{
	char	hex[33];

	mime_random_hex(hex, 16);
	if (!mime_domain_ok(domain))
		domain = "postroom.invalid";
	return xprintf("<%s.%lld@%s>", hex, (long long)time(NULL), domain);
}

char *
mime_date(time_t t)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	tm;
	long		off;
	char		sign = '+';

	if (localtime_r(&t, &tm) == NULL && gmtime_r(&t, &tm) == NULL)
		fatalx("%s: time %lld out of range", __func__, (long long)t);
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	return xprintf("%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60, off % 60);
}

/* --- the message -------------------------------------------------------- */

struct mime_msg *
mime_msg_new(void)
{
	struct mime_msg	*m;

	m = xcalloc(1, sizeof *m);
	buf_init(&m->text, BUF_NOMAX);
	buf_init(&m->html, BUF_NOMAX);
	buf_init(&m->tmp, BUF_NOMAX);
	buf_init(&m->tmp2, BUF_NOMAX);
	return m;
}

/* Free what was set: headers, attachments, the remembered error. */
static void
mime_msg_clear(struct mime_msg *m)
{
	size_t	i, j;

	for (i = 0; i < m->nhdrs; i++) {
		free(m->hdrs[i].name);
		free(m->hdrs[i].value);
		for (j = 0; j < m->hdrs[i].naddrs; j++) {
			free(m->hdrs[i].addrs[j].display);
			free(m->hdrs[i].addrs[j].addr);
		}
		free(m->hdrs[i].addrs);
	}
	m->nhdrs = 0;
	for (i = 0; i < m->natts; i++)
		free(m->atts[i].data);
	free(m->atts);
	m->atts = NULL;
	m->natts = 0;
	free(m->error);
	m->error = NULL;
}

void
mime_msg_reset(struct mime_msg *m)
{
	mime_msg_clear(m);
	m->has_text = m->has_html = 0;
	m->text_cte = m->html_cte = MIME_CTE_7BIT;
	buf_reset(&m->text);
	buf_reset(&m->html);
	buf_reset(&m->tmp);
	buf_reset(&m->tmp2);
}

void
mime_msg_free(struct mime_msg *m)
{
	if (m == NULL)
		return;
	mime_msg_clear(m);
	free(m->hdrs);
	buf_free(&m->text);
	buf_free(&m->html);
	buf_free(&m->tmp);
	buf_free(&m->tmp2);
	free(m);
}

static void __attribute__((format(printf, 2, 3)))
mime_msg_fail(struct mime_msg *m, const char *fmt, ...)
{
	va_list	ap;

	if (m->error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m->error, fmt, ap) == -1)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
}

/* A field name we can write, and not one the builder writes itself. */
static int
mime_msg_name_ok(struct mime_msg *m, const char *name)
{
	static const char *const ours[] = {
		"MIME-Version", "Content-Type", "Content-Transfer-Encoding"
	};
	const char	*p;
	size_t		 i;

	if (name == NULL || *name == '\0' || strlen(name) > MIME_NAME_MAX) {
		mime_msg_fail(m, "bad header name");
		return 0;
	}
	for (p = name; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == ':') {
			mime_msg_fail(m, "bad character 0x%02x in header name",
			    (unsigned char)*p);
			return 0;
		}
	}
	for (i = 0; i < sizeof ours / sizeof ours[0]; i++) {
		if (strcasecmp(name, ours[i]) == 0) {
			mime_msg_fail(m, "%s is written by the builder", name);
			return 0;
		}
	}
	return 1;
}

static struct mime_hdr *
mime_msg_add_hdr(struct mime_msg *m, enum mime_hkind kind, const char *name)
{
	struct mime_hdr	*h;

	if (m->nhdrs == m->hdrs_cap) {
		m->hdrs_cap = m->hdrs_cap == 0 ? 16 : m->hdrs_cap * 2;
		m->hdrs = xreallocarray(m->hdrs, m->hdrs_cap, sizeof *m->hdrs);
	}
	h = &m->hdrs[m->nhdrs++];
	memset(h, 0, sizeof *h);
	h->kind = kind;
	h->name = xstrdup(name);
	return h;
}

static struct mime_hdr *
mime_msg_find(struct mime_msg *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nhdrs; i++) {
		if (strcasecmp(m->hdrs[i].name, name) == 0)
			return &m->hdrs[i];
	}
	return NULL;
}

void
mime_msg_header(struct mime_msg *m, const char *name, const char *value)
{
	if (!mime_msg_name_ok(m, name))
		return;
	mime_msg_add_hdr(m, MIME_H_TEXT, name)->value =
	    xstrdup(value != NULL ? value : "");
}

void
mime_msg_header_raw(struct mime_msg *m, const char *name, const char *value)
{
	if (!mime_msg_name_ok(m, name))
		return;
	if (value == NULL)
		value = "";
	if (!utf8_is_ascii(value, strlen(value))) {
		mime_msg_fail(m, "%s: structured header value is not ASCII",
		    name);
		return;
	}
	mime_msg_add_hdr(m, MIME_H_RAW, name)->value = xstrdup(value);
}

void
mime_msg_address(struct mime_msg *m, const char *name, const char *display,
    const char *addr)
{
	struct mime_hdr		*h;
	struct mime_addr	*a;
	char			*cause;

	if (!mime_msg_name_ok(m, name))
		return;
	if (mime_addr_check(addr, &cause) == -1) {
		mime_msg_fail(m, "%s: %s: \"%s\"", name, cause,
		    addr != NULL ? addr : "");
		free(cause);
		return;
	}
	if ((h = mime_msg_find(m, name)) == NULL || h->kind != MIME_H_ADDR)
		h = mime_msg_add_hdr(m, MIME_H_ADDR, name);
	h->addrs = xreallocarray(h->addrs, h->naddrs + 1, sizeof *h->addrs);
	a = &h->addrs[h->naddrs++];
	a->display = display != NULL ? xstrdup(display) : NULL;
	a->addr = xstrdup(addr);
}

/* Printable ASCII or TAB: a byte that 7bit carries as it is. */
static inline int
mime_plain(unsigned char c)
{
	return (unsigned char)(c - 0x20) < 0x5f || c == '\t';
}

/*
 * How many bytes at the start of p[0..len) are plain (mime_plain()).
 * Most of a text part is, so look at eight at a time while they are all
 * printable ASCII: a word has a byte under 0x20 when (x - 0x20..) & ~x
 * has a high bit set, and one over 0x7e when (x + 0x01..) | x does
 * ("hasless" and "hasmore" in Sean Anderson's Bit Twiddling Hacks; both
 * exact as to whether there is one).  Then byte by byte.
 */
static size_t
mime_plain_span(const unsigned char *p, size_t len)
{
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	high = 0x8080808080808080ULL;
	uint64_t	x;
	size_t		i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&x, p + i, 8);
		if (((x - ones * 0x20) & ~x & high) != 0 ||
		    (((x + ones) | x) & high) != 0)
			break;
	}
	while (i < len && mime_plain(p[i]))
		i++;
	return i;
}

/*
 * Output gathered on the stack and handed to a struct buf in large pieces:
 * a text part is mostly short lines, and a buf_add() for each line and
 * each CRLF cost more than the copying.  The buf must have no cap.
 */
struct mime_stage {
	struct buf	*b;
	size_t		 n;
	char		 p[4096];
};

static void
mime_stage_flush(struct mime_stage *st)
{
	(void)buf_add(st->b, st->p, st->n);
	st->n = 0;
}

static void
mime_stage_add(struct mime_stage *st, const char *p, size_t len)
{
	if (len > sizeof st->p - st->n) {
		mime_stage_flush(st);
		if (len > sizeof st->p) {
			(void)buf_add(st->b, p, len);
			return;
		}
	}
	memcpy(st->p + st->n, p, len);
	st->n += len;
}

/*
 * UTF-8 (invalid bytes become U+FFFD) with CRLF line ends and a final
 * CRLF, in one pass that copies runs of plain bytes whole.  Returns 1 when
 * the result can go as 7bit (what mime_text_scan() would say of it: only
 * printable ASCII and TAB, no line over MIME_LINE_MAX), learnt on the way
 * rather than by reading the result again.
 */
static int
mime_msg_normalise(struct buf *out, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	struct mime_stage	 st;
	uint32_t		 cp;
	size_t			 i = 0, start = 0, line = 0, len = strlen(s);
	int			 n, sevenbit = 1;

	buf_reset(out);
	(void)buf_add(out, "", 0);
	st.b = out;
	st.n = 0;
	while (i < len) {
		/* Most bytes are plain: skip over them, copy them later. */
		i += mime_plain_span(u + i, len - i);
		if (i == len)
			break;
		if (u[i] == '\r' || u[i] == '\n') {
			if (i - line > MIME_LINE_MAX)
				sevenbit = 0;
			mime_stage_add(&st, s + start, i - start);
			mime_stage_add(&st, "\r\n", 2);
			i += (u[i] == '\r' && u[i + 1] == '\n') ? 2 : 1;
			start = line = i;
		} else if (u[i] < 0x80) {
			sevenbit = 0;		/* another control, or DEL */
			i++;
		} else if ((n = utf8_decode(s + i, len - i, &cp)) > 0) {
			sevenbit = 0;
			i += (size_t)n;
		} else {
			sevenbit = 0;
			mime_stage_add(&st, s + start, i - start);
			mime_stage_add(&st, "\xef\xbf\xbd", 3);
			start = ++i;
		}
	}
	if (i - line > MIME_LINE_MAX)
		sevenbit = 0;
	mime_stage_add(&st, s + start, i - start);
	mime_stage_flush(&st);
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		(void)buf_add(out, "\r\n", 2);
	return sevenbit;
}

/*
 * Normalise a text part and encode it once, here, so that writing the
 * message (perhaps more than once) only copies it.  7bit when the scan
 * allows, else quoted-printable unless base64 comes out shorter.
 */
static enum mime_cte
mime_msg_encode_part(struct mime_msg *m, struct buf *out, const char *s)
{
	struct buf	swap;
	enum mime_cte	cte;
	int		sevenbit;

	sevenbit = mime_msg_normalise(&m->tmp, s);
	buf_reset(out);
	(void)buf_add(out, "", 0);
	if (sevenbit) {
		swap = *out;
		*out = m->tmp;
		m->tmp = swap;
		return MIME_CTE_7BIT;
	}
	cte = MIME_CTE_QP;
	(void)mime_qp_encode(out, m->tmp.data, m->tmp.len);
	if (out->len > mime_base64_len(m->tmp.len)) {
		buf_reset(out);
		(void)mime_base64_encode(out, m->tmp.data, m->tmp.len);
		cte = MIME_CTE_BASE64;
	}
	return cte;
}

void
mime_msg_text(struct mime_msg *m, const char *text)
{
	m->has_text = text != NULL;
	if (text != NULL)
		m->text_cte = mime_msg_encode_part(m, &m->text, text);
}

void
mime_msg_html(struct mime_msg *m, const char *html)
{
	m->has_html = html != NULL;
	if (html != NULL)
		m->html_cte = mime_msg_encode_part(m, &m->html, html);
}

void
mime_msg_attach_rfc822(struct mime_msg *m, const char *raw, size_t len)
{
	struct mime_att	*a;
	size_t		 i, start, cur = 0, extra = 0, o;
	int		 octet = 0, eightbit = 0;

	/* Step 1: can it be message/rfc822 (7bit or 8bit) at all? */
	for (i = 0; i < len && !octet; i++) {
		switch (raw[i]) {
		case '\0':
			octet = 1;
			break;
		case '\r':
			if (i + 1 >= len || raw[i + 1] != '\n')
				octet = 1;	/* bare CR */
			break;
		case '\n':
			if (i == 0 || raw[i - 1] != '\r')
				extra++;
			cur = 0;
			break;
		default:
			if ((unsigned char)raw[i] >= 0x80)
				eightbit = 1;
			if (++cur > MIME_LINE_MAX)
				octet = 1;
			break;
		}
	}

	m->atts = xreallocarray(m->atts, m->natts + 1, sizeof *m->atts);
	a = &m->atts[m->natts++];
	a->octet = octet;
	a->eightbit = eightbit;

	/*
	 * Step 2: keep it.  RFC 2046 5.2.1 forbids base64 for message/rfc822,
	 * so one that 7bit/8bit cannot carry goes as application/octet-stream,
	 * byte for byte.  Otherwise bare LFs become CRLF, the canonical form
	 * (Maildir files have LF line ends): nothing else changes.
	 */
	if (octet || extra == 0) {
		a->data = xmalloc(len + 1);
		if (len > 0)
			memcpy(a->data, raw, len);
		a->len = len;
		return;
	}
	a->data = xmalloc(len + extra + 1);
	o = 0;
	for (i = start = 0; i < len; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
			memcpy(a->data + o, raw + start, i - start);
			o += i - start;
			a->data[o++] = '\r';
			start = i;
		}
	}
	memcpy(a->data + o, raw + start, len - start);
	a->len = o + len - start;
}

/* --- writing ------------------------------------------------------------ */

/* A text part's header and its body, encoded already as cte. */
static int
mime_msg_write_leaf(struct buf *out, const char *type, const struct buf *b,
    enum mime_cte cte)
{
	int	err = 0;

	err |= buf_printf(out, "Content-Type: %s; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: %s\r\n\r\n", type, mime_cte_name(cte));
	err |= buf_add(out, b->data != NULL ? b->data : "", b->len);
	return err;
}

/* Text, HTML, or both as multipart/alternative (no final CRLF). */
static int
mime_msg_write_body(struct mime_msg *m, struct buf *out, const char *alt)
{
	struct buf	empty;
	int		err = 0;

	if (m->has_text && m->has_html) {
		err |= buf_printf(out, "Content-Type: multipart/alternative;"
		    "\r\n boundary=\"%s\"\r\n\r\n--%s\r\n", alt, alt);
		err |= mime_msg_write_leaf(out, "text/plain", &m->text,
		    m->text_cte);
		err |= buf_printf(out, "\r\n--%s\r\n", alt);
		err |= mime_msg_write_leaf(out, "text/html", &m->html,
		    m->html_cte);
		err |= buf_printf(out, "\r\n--%s--", alt);
	} else if (m->has_html)
		err |= mime_msg_write_leaf(out, "text/html", &m->html,
		    m->html_cte);
	else if (m->has_text)
		err |= mime_msg_write_leaf(out, "text/plain", &m->text,
		    m->text_cte);
	else {
		buf_init(&empty, BUF_NOMAX);
		err |= mime_msg_write_leaf(out, "text/plain", &empty,
		    MIME_CTE_7BIT);
	}
	return err;
}

static int
mime_msg_write_att(struct buf *out, const struct mime_att *a)
{
	int	err = 0;

	if (a->octet) {
		err |= buf_addstr(out, "Content-Type: application/octet-stream;"
		    " name=\"original.eml\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment;"
		    " filename=\"original.eml\"\r\n\r\n");
		err |= mime_base64_encode(out, a->data, a->len);
	} else {
		err |= buf_printf(out, "Content-Type: message/rfc822\r\n"
		    "Content-Transfer-Encoding: %s\r\n"
		    "Content-Disposition: inline\r\n\r\n",
		    a->eightbit ? "8bit" : "7bit");
		err |= buf_add(out, a->data, a->len);
	}
	return err;
}

/*
 * Pick the random part of the boundaries: "=_" cannot occur in
 * quoted-printable or base64, and we look for it in everything carried as
 * it is (7bit text, attached messages), so no content line can be taken
 * for a boundary.
 */
static void
mime_msg_boundary(struct mime_msg *m, char *hex)
{
	size_t	i, tries;
	int	found;

	for (tries = 0; tries < 8; tries++) {
		mime_random_hex(hex, 16);
		found = 0;
		if (m->has_text && memmem(m->text.data, m->text.len, hex,
		    32) != NULL)
			found = 1;
		if (m->has_html && memmem(m->html.data, m->html.len, hex,
		    32) != NULL)
			found = 1;
		for (i = 0; i < m->natts; i++) {
			if (memmem(m->atts[i].data, m->atts[i].len, hex,
			    32) != NULL)
				found = 1;
		}
		if (!found)
			return;
	}
	fatalx("%s: random boundaries keep occurring in the content",
	    __func__);
}

int
mime_msg_write(struct mime_msg *m, struct buf *out, char **cause)
{
	struct mime_hdr	*h;
	const char	*domain = NULL, *at;
	char		 hex[33], alt[40], mix[40], *s;
	size_t		 i;
	int		 err = 0;

	if (m->error != NULL) {
		*cause = xstrdup(m->error);
		return -1;
	}

	/* Step 1: the caller's headers, then Date and Message-ID. */
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		switch (h->kind) {
		case MIME_H_TEXT:
			err |= mime_fold_text(out, &m->tmp, h->name, h->value);
			break;
		case MIME_H_RAW:
			err |= mime_fold_raw(out, &m->tmp, h->name, h->value);
			break;
		case MIME_H_ADDR:
			err |= mime_fold_addresses(out, &m->tmp, &m->tmp2,
			    h->name, h->addrs, h->naddrs);
			if (domain == NULL &&
			    strcasecmp(h->name, "From") == 0 &&
			    (at = strrchr(h->addrs[0].addr, '@')) != NULL)
				domain = at + 1;
			break;
		}
	}
	if (mime_msg_find(m, "Date") == NULL) {
		s = mime_date(time(NULL));
		err |= mime_fold_raw(out, &m->tmp, "Date", s);
		free(s);
	}
	if (mime_msg_find(m, "Message-ID") == NULL) {
		s = mime_message_id(domain);
		err |= mime_fold_raw(out, &m->tmp, "Message-ID", s);
		free(s);
	}
	err |= buf_addstr(out, "MIME-Version: 1.0\r\n");

	/* Step 2: the body, in a multipart/mixed when it has attachments. */
	if (m->natts > 0 || (m->has_text && m->has_html))
		mime_msg_boundary(m, hex);
	else
		hex[0] = '\0';		/* one part: no boundary */
	snprintf(alt, sizeof alt, "=_alt_%s", hex);
	snprintf(mix, sizeof mix, "=_mix_%s", hex);
	if (m->natts == 0)
		err |= mime_msg_write_body(m, out, alt);
	else {
		err |= buf_printf(out, "Content-Type: multipart/mixed;\r\n"
		    " boundary=\"%s\"\r\n\r\n--%s\r\n", mix, mix);
		err |= mime_msg_write_body(m, out, alt);
		for (i = 0; i < m->natts; i++) {
			err |= buf_printf(out, "\r\n--%s\r\n", mix);
			err |= mime_msg_write_att(out, &m->atts[i]);
		}
		err |= buf_printf(out, "\r\n--%s--", mix);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		err |= buf_add(out, "\r\n", 2);

	if (err != 0) {
		*cause = xprintf("message does not fit in %zu bytes", out->max);
		return -1;
	}
	return 0;
}
