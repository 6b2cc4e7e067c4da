/*
 * html-text.c - HTML to plain text for matching.
 *
 * Owns: a small one-pass HTML tokenizer (text, tags, comments, raw-text
 * elements), the table of named character references it knows, and the
 * white-space rules of the output.  Does not own: charsets (charset.c)
 * or whether a part is HTML (mime-parse.c).
 *
 * It follows the HTML5 tokenizer where that is cheap (a '<' not followed
 * by a letter, '/', '!' or '?' is text; quotes only count in attribute
 * values; a tag left open at the end of the input is dropped) and is
 * simpler elsewhere: no tree, no implied end tags.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "html-text.h"
#include "utf8.h"

struct html_text_state {
	struct buf	*out;
	int		 started;	/* something written */
	int		 space;		/* a space is pending */
	int		 newlines;	/* line breaks pending (0..2) */
	int		 pre;		/* inside <pre>: keep white space */
	int		 full;		/* the cap was reached */
};

/* Elements whose content is never text. */
static const char *html_text_skip[] = {
	"script", "style", "title", "template", "iframe", "object",
	"svg", "math", "xml",
};

/* Elements that start and end a paragraph: a blank line around them. */
static const char *html_text_para[] = {
	"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl",
	"blockquote", "pre", "hr", "figure", "fieldset", "form", "address",
};

/* Elements that start and end a line. */
static const char *html_text_line[] = {
	"div", "li", "tr", "dt", "dd", "section", "article", "header",
	"footer", "nav", "aside", "main", "center", "caption", "thead",
	"tbody", "tfoot", "body", "html", "option", "legend", "summary",
	"details", "figcaption",
};

/* Elements that end a word: cells. */
static const char *html_text_cell[] = {
	"td", "th",
};

/* Latin-1 named references, U+00A0 to U+00FF in order. */
static const char *html_text_latin1[96] = {
	"nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
	"uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
	"deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
	"cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34",
	"iquest",
	"Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig",
	"Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute",
	"Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc",
	"Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc",
	"Uuml", "Yacute", "THORN", "szlig",
	"agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig",
	"ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute",
	"icirc", "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc",
	"otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
	"uuml", "yacute", "thorn", "yuml",
};

struct html_text_entity {
	const char	*name;
	uint32_t	 cp;
	int		 legacy;	/* also valid without the ';' */
};

static const struct html_text_entity html_text_entities[] = {
	{ "amp", '&', 1 }, { "lt", '<', 1 }, { "gt", '>', 1 },
	{ "quot", '"', 1 }, { "apos", '\'', 0 },
	{ "AMP", '&', 1 }, { "LT", '<', 1 }, { "GT", '>', 1 },
	{ "QUOT", '"', 1 }, { "COPY", 0xa9, 1 }, { "REG", 0xae, 1 },
	{ "OElig", 0x152, 0 }, { "oelig", 0x153, 0 }, { "Scaron", 0x160, 0 },
	{ "scaron", 0x161, 0 }, { "Yuml", 0x178, 0 }, { "fnof", 0x192, 0 },
	{ "circ", 0x2c6, 0 }, { "tilde", 0x2dc, 0 }, { "ensp", 0x2002, 0 },
	{ "emsp", 0x2003, 0 }, { "thinsp", 0x2009, 0 }, { "zwnj", 0x200c, 0 },
	{ "zwj", 0x200d, 0 }, { "lrm", 0x200e, 0 }, { "rlm", 0x200f, 0 },
	{ "ndash", 0x2013, 0 }, { "mdash", 0x2014, 0 },
	{ "lsquo", 0x2018, 0 }, { "rsquo", 0x2019, 0 },
	{ "sbquo", 0x201a, 0 }, { "ldquo", 0x201c, 0 },
	{ "rdquo", 0x201d, 0 }, { "bdquo", 0x201e, 0 },
	{ "dagger", 0x2020, 0 }, { "Dagger", 0x2021, 0 },
	{ "bull", 0x2022, 0 }, { "hellip", 0x2026, 0 },
	{ "permil", 0x2030, 0 }, { "prime", 0x2032, 0 },
	{ "Prime", 0x2033, 0 }, { "lsaquo", 0x2039, 0 },
	{ "rsaquo", 0x203a, 0 }, { "oline", 0x203e, 0 },
	{ "euro", 0x20ac, 0 }, { "trade", 0x2122, 0 },
	{ "larr", 0x2190, 0 }, { "uarr", 0x2191, 0 }, { "rarr", 0x2192, 0 },
	{ "darr", 0x2193, 0 }, { "harr", 0x2194, 0 }, { "minus", 0x2212, 0 },
	{ "le", 0x2264, 0 }, { "ge", 0x2265, 0 }, { "ne", 0x2260, 0 },
	{ "asymp", 0x2248, 0 }, { "infin", 0x221e, 0 },
	{ "check", 0x2713, 0 }, { "star", 0x2606, 0 },
	{ "hyphen", 0x2010, 0 }, { "dash", 0x2010, 0 },
	{ "nbsp", 0xa0, 1 },
};

#define HTML_TEXT_NAME_MAX	32

static int
html_text_in(const char **table, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcmp(table[i], name) == 0)
			return 1;
	}
	return 0;
}
#define HTML_TEXT_IN(t, name) html_text_in(t, sizeof t / sizeof t[0], name)

static int
html_text_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
html_text_alnum(char c)
{
	return html_text_alpha(c) || (c >= '0' && c <= '9');
}

static int
html_text_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void
html_text_raw(struct html_text_state *st, const char *s, size_t n)
{
	if (st->full)
		return;
	if (buf_add(st->out, s, n) == -1)
		st->full = 1;
	else
		st->started = 1;
}

/* Write what is pending before the next visible character. */
static void
html_text_flush(struct html_text_state *st)
{
	if (st->started && st->newlines > 0)
		html_text_raw(st, "\n\n", (size_t)st->newlines);
	else if (st->started && st->space)
		html_text_raw(st, " ", 1);
	st->newlines = 0;
	st->space = 0;
}

static void
html_text_break(struct html_text_state *st, int n)
{
	if (st->newlines < n)
		st->newlines = n;
	st->space = 0;
}

/* One character of text, s[0..n) a whole UTF-8 character. */
static void
html_text_char(struct html_text_state *st, const char *s, size_t n)
{
	int	ws;

	ws = (n == 1 && html_text_ws(s[0])) ||
	    (n == 2 && (unsigned char)s[0] == 0xc2 &&
	    (unsigned char)s[1] == 0xa0);
	if (st->pre && ws) {
		if (s[0] == '\r')
			return;
		if (s[0] == '\n') {
			if (st->started && st->newlines < 2)
				st->newlines++;
			st->space = 0;
			return;
		}
		html_text_flush(st);
		html_text_raw(st, " ", 1);
		return;
	}
	if (ws) {
		if (st->newlines == 0)
			st->space = 1;
		return;
	}
	if (n == 2 && (unsigned char)s[0] == 0xc2 &&
	    (unsigned char)s[1] == 0xad)
		return;		/* soft hyphen: invisible */
	html_text_flush(st);
	if (n == 1 && s[0] == '\0')
		html_text_raw(st, "\xef\xbf\xbd", 3);
	else
		html_text_raw(st, s, n);
}

static void
html_text_cp(struct html_text_state *st, uint32_t cp)
{
	char	tmp[4];
	size_t	n;

	if ((n = utf8_encode(cp, tmp)) == 0)
		n = utf8_encode(UTF8_REPLACEMENT, tmp);
	html_text_char(st, tmp, n);
}

/*
 * The code point of the named reference name[0..n).  exact: the whole
 * name, any entry.  Otherwise the longest legacy name that name starts
 * with, its length in *used.  0 when there is none.
 */
static uint32_t
html_text_lookup(const char *name, size_t n, int exact, size_t *used)
{
	const struct html_text_entity	*e;
	size_t				 i, l, best = 0;
	uint32_t			 cp = 0;

	for (i = 0; i < sizeof html_text_latin1 /
	    sizeof html_text_latin1[0]; i++) {
		l = strlen(html_text_latin1[i]);
		if (exact ? (l == n && memcmp(html_text_latin1[i], name,
		    n) == 0) : (l <= n && l > best &&
		    memcmp(html_text_latin1[i], name, l) == 0)) {
			cp = 0xa0 + (uint32_t)i;
			best = l;
		}
	}
	for (i = 0; i < sizeof html_text_entities /
	    sizeof html_text_entities[0]; i++) {
		e = &html_text_entities[i];
		l = strlen(e->name);
		if (exact ? (l == n && memcmp(e->name, name, n) == 0) :
		    (e->legacy && l <= n && l > best &&
		    memcmp(e->name, name, l) == 0)) {
			cp = e->cp;
			best = l;
		}
	}
	*used = best;
	return cp;
}

/*
 * A character reference at p[0] == '&'.  Returns the bytes used, or 0
 * when it is not one (the '&' is then text).
 */
static size_t
html_text_ref(struct html_text_state *st, const char *p, size_t len)
{
	char		 name[HTML_TEXT_NAME_MAX + 1];
	size_t		 i, n, start, used;
	uint32_t	 cp;
	int		 hex, digits;

	if (len > 1 && p[1] == '#') {
		i = 2;
		hex = i < len && (p[i] == 'x' || p[i] == 'X');
		if (hex)
			i++;
		cp = 0;
		digits = 0;
		for (; i < len; i++) {
			if (p[i] >= '0' && p[i] <= '9')
				n = (size_t)(p[i] - '0');
			else if (hex && p[i] >= 'a' && p[i] <= 'f')
				n = (size_t)(p[i] - 'a' + 10);
			else if (hex && p[i] >= 'A' && p[i] <= 'F')
				n = (size_t)(p[i] - 'A' + 10);
			else
				break;
			digits = 1;
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (uint32_t)n;
		}
		if (!digits)
			return 0;
		if (i < len && p[i] == ';')
			i++;
		if (cp >= 0x80 && cp <= 0x9f)
			cp = charset_1252_c1(cp);
		if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			cp = UTF8_REPLACEMENT;
		html_text_cp(st, cp);
		return i;
	}

	start = 1;
	for (i = start; i < len && i - start < HTML_TEXT_NAME_MAX; i++) {
		if (!html_text_alnum(p[i]))
			break;
		name[i - start] = p[i];
	}
	n = i - start;
	if (n == 0)
		return 0;
	name[n] = '\0';
	if (start + n < len && p[start + n] == ';' &&
	    (cp = html_text_lookup(name, n, 1, &used)) != 0) {
		html_text_cp(st, cp);
		return start + n + 1;
	}
	/* Else the longest legacy name it starts with: "&notit;". */
	if ((cp = html_text_lookup(name, n, 0, &used)) == 0)
		return 0;
	html_text_cp(st, cp);
	return start + used;
}

/* The end of "</name" (case-insensitive) from p, or len when none. */
static size_t
html_text_find_end(const char *p, size_t len, const char *name)
{
	size_t	i, j, nlen = strlen(name);

	for (i = 0; i + 2 + nlen <= len; i++) {
		if (p[i] != '<' || p[i + 1] != '/')
			continue;
		for (j = 0; j < nlen; j++) {
			char	c = p[i + 2 + j];

			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != name[j])
				break;
		}
		if (j == nlen && (i + 2 + nlen == len ||
		    !html_text_alnum(p[i + 2 + nlen])))
			return i;
	}
	return len;
}

/* The index after the '>' that closes a tag whose name ends at i. */
static size_t
html_text_tag_end(const char *p, size_t len, size_t i)
{
	char	q;

	while (i < len && p[i] != '>') {
		if (p[i] == '=') {
			i++;
			while (i < len && html_text_ws(p[i]))
				i++;
			if (i < len && (p[i] == '"' || p[i] == '\'')) {
				q = p[i++];
				while (i < len && p[i] != q)
					i++;
				if (i < len)
					i++;
			}
			continue;
		}
		i++;
	}
	return i < len ? i + 1 : len;
}

/* What a tag does to the text. */
static void
html_text_tag(struct html_text_state *st, const char *name, int end)
{
	if (strcmp(name, "br") == 0) {
		if (st->started && st->newlines < 2)
			st->newlines++;
		st->space = 0;
	} else if (HTML_TEXT_IN(html_text_para, name))
		html_text_break(st, 2);
	else if (HTML_TEXT_IN(html_text_line, name))
		html_text_break(st, 1);
	else if (HTML_TEXT_IN(html_text_cell, name)) {
		if (st->newlines == 0)
			st->space = 1;
	}
	if (strcmp(name, "pre") == 0) {
		if (end && st->pre > 0)
			st->pre--;
		else if (!end)
			st->pre++;
	}
}

static void
html_text_run(struct html_text_state *st, const char *p, size_t len)
{
	char		 name[HTML_TEXT_NAME_MAX + 1];
	const char	*gt;
	size_t		 i, n, j, k;
	int		 end, c;

	i = 0;
	while (i < len && !st->full) {
		if (p[i] == '&') {
			if ((n = html_text_ref(st, p + i, len - i)) != 0) {
				i += n;
				continue;
			}
			html_text_char(st, "&", 1);
			i++;
			continue;
		}
		if (p[i] != '<') {
			c = (unsigned char)p[i];
			n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
			if (n > len - i)
				n = len - i;
			html_text_char(st, p + i, n);
			i += n;
			continue;
		}

		/* Markup. */
		if (len - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
			for (j = i + 2; j + 3 <= len; j++) {
				if (memcmp(p + j, "-->", 3) == 0)
					break;
			}
			i = j + 3 <= len ? j + 3 : len;
			continue;
		}
		if (i + 1 < len && (p[i + 1] == '!' || p[i + 1] == '?')) {
			gt = memchr(p + i, '>', len - i);
			i = gt != NULL ? (size_t)(gt - p) + 1 : len;
			continue;
		}
		end = i + 1 < len && p[i + 1] == '/';
		j = i + 1 + (end ? 1 : 0);
		if (j >= len || !html_text_alpha(p[j])) {
			html_text_char(st, "<", 1);
			i++;
			continue;
		}
		for (k = 0; j < len && (html_text_alnum(p[j]) ||
		    p[j] == ':' || p[j] == '-'); j++) {
			if (k < HTML_TEXT_NAME_MAX) {
				c = p[j];
				if (c >= 'A' && c <= 'Z')
					c = c - 'A' + 'a';
				name[k++] = (char)c;
			}
		}
		name[k] = '\0';
		i = html_text_tag_end(p, len, j);
		html_text_tag(st, name, end);
		if (!end && HTML_TEXT_IN(html_text_skip, name) &&
		    p[i - 1] == '>' && !(i >= 2 && p[i - 2] == '/')) {
			n = html_text_find_end(p + i, len - i, name);
			i += n;
			if (i < len)
				i = html_text_tag_end(p, len, i + 2);
		}
	}
}

int
html_text(struct buf *out, const char *html, size_t len)
{
	struct html_text_state	 st;
	struct buf		 clean;

	memset(&st, 0, sizeof st);
	st.out = out;
	if (utf8_valid(html, len)) {
		html_text_run(&st, html, len);
		return st.full ? -1 : 0;
	}
	buf_init(&clean, BUF_NOMAX);
	(void)utf8_sanitize(&clean, html, len);
	html_text_run(&st, clean.data != NULL ? clean.data : "", clean.len);
	buf_free(&clean);
	return st.full ? -1 : 0;
}
