/*
 * route-text.c - the text model of the routing rules: a locale-free case
 * fold that never moves an offset, words (letters and digits of any
 * script, "&" on its own), and phrases found word by word, with a
 * trailing * for any ending.
 *
 * Owns: what a word is and how case is folded, for route.c, its matchers
 * (match-*.c) and region.c; the interface is route.h's text model.  Does
 * not own: what is matched against what (route.c), the operators
 * (match-*.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "route-int.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * Lower case of one code point, only where both forms have the same UTF-8
 * length (so folding never moves an offset).  No locale: the daemon must
 * not depend on setlocale(), and towlower() would.
 */
static uint32_t
route_fold_cp(uint32_t c)
{
	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + 0x20 : c;
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)		/* Latin-1 */
		return c + 0x20;
	if (c >= 0x100 && c <= 0x17f) {				/* Extended-A */
		if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 ||
		    c == 0x17f)
			return c;
		if (c == 0x178)
			return 0xff;
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
			return (c & 1) ? c + 1 : c;
		return (c & 1) ? c : c + 1;
	}
	if (c >= 0x1cd && c <= 0x1dc)				/* Pinyin */
		return (c & 1) ? c + 1 : c;
	if (c >= 0x218 && c <= 0x21b)				/* Romanian */
		return (c & 1) ? c : c + 1;
	if (c == 0x386)						/* Greek */
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 0x25;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 0x3f;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)				/* Cyrillic */
		return c + 0x50;
	if (c >= 0x410 && c <= 0x42f)
		return c + 0x20;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48a && c <= 0x4bf))
		return (c & 1) ? c : c + 1;
	if (c >= 0x531 && c <= 0x556)				/* Armenian */
		return c + 0x30;
	if ((c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return (c & 1) ? c : c + 1;		/* Ext. Additional */
	if (c >= 0xff21 && c <= 0xff3a)				/* full-width */
		return c + 0x20;
	return c;
}

void
route_fold(const char *s, size_t len, char *out)
{
	size_t		i = 0, n;
	uint32_t	cp, f;
	char		enc[4];
	unsigned char	b;
	int		r;

	while (i < len) {
		b = (unsigned char)s[i];
		if (b < 0x80) {
			out[i] = (char)((b >= 'A' && b <= 'Z') ? b + 0x20 : b);
			i++;
			continue;
		}
		if ((r = utf8_decode(s + i, len - i, &cp)) <= 0) {
			out[i] = s[i];
			i++;
			continue;
		}
		n = (size_t)r;
		f = route_fold_cp(cp);
		if (f != cp && utf8_encode(f, enc) == n)
			memcpy(out + i, enc, n);
		else
			memcpy(out + i, s + i, n);
		i += n;
	}
}

/* Is this code point part of a word?  Letters and digits of any script. */
static int
route_word_cp(uint32_t c)
{
	if (c < 0x80) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
	}
	if (c <= 0xbf)		/* Latin-1 controls, symbols, punctuation */
		return c == 0xaa || c == 0xb5 || c == 0xba;
	if (c == 0xd7 || c == 0xf7)
		return 0;
	if ((c >= 0x2000 && c <= 0x2bff) ||	/* punctuation, symbols */
	    (c >= 0x3000 && c <= 0x303f) ||	/* CJK punctuation */
	    (c >= 0xfe30 && c <= 0xfe4f) ||
	    (c >= 0xff00 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
	    (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65) ||
	    (c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff || c == 0xfffd ||
	    (c >= 0x1f000 && c <= 0x1faff))	/* emoji */
		return 0;
	return 1;
}

static void
route_text_add_word(struct route_text *t, size_t *cap, size_t off,
    size_t len)
{
	if (t->nwords == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		t->words = xreallocarray(t->words, *cap, sizeof *t->words);
	}
	t->words[t->nwords].off = off;
	t->words[t->nwords].len = len;
	t->nwords++;
}

void
route_text_init(struct route_text *t, const char *s, size_t len)
{
	size_t		i, n, start = 0, cap = 0;
	uint32_t	cp;
	int		r, inword = 0;

	memset(t, 0, sizeof *t);
	t->s = s;
	t->len = len;
	t->fold = xmalloc(len + 1);
	route_fold(s, len, t->fold);
	t->fold[len] = '\0';
	for (i = 0; i < len; i += n) {
		if ((r = utf8_decode(t->fold + i, len - i, &cp)) <= 0) {
			cp = UTF8_REPLACEMENT;
			n = 1;
		} else
			n = (size_t)r;
		if (route_word_cp(cp)) {
			if (!inword) {
				start = i;
				inword = 1;
			}
			continue;
		}
		if (inword) {
			route_text_add_word(t, &cap, start, i - start);
			inword = 0;
		}
		if (cp == '&')
			route_text_add_word(t, &cap, i, 1);
	}
	if (inword)
		route_text_add_word(t, &cap, start, len - start);
}

void
route_text_free(struct route_text *t)
{
	free(t->fold);
	free(t->words);
	memset(t, 0, sizeof *t);
}

int
route_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
route_phrase_init(struct route_phrase *ph, const char *s, char **cause)
{
	size_t	len;

	memset(ph, 0, sizeof *ph);
	while (route_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && route_space(s[len - 1]))
		len--;
	if (len > 0 && s[len - 1] == '*') {
		ph->prefix = 1;
		len--;
	}
	ph->src = xstrndup(s, len);
	route_text_init(&ph->t, ph->src, len);
	if (ph->t.nwords == 0) {
		*cause = xprintf("'%s' has no words to look for", ph->src);
		route_phrase_free(ph);
		return -1;
	}
	return 0;
}

void
route_phrase_free(struct route_phrase *ph)
{
	route_text_free(&ph->t);
	free(ph->src);
	memset(ph, 0, sizeof *ph);
}

static int
route_is_and(const char *s, size_t len)
{
	return (len == 1 && *s == '&') ||
	    (len == 3 && memcmp(s, "and", 3) == 0);
}

static int
route_word_eq(const struct route_text *t, const struct route_word *tw,
    const struct route_text *p, const struct route_word *pw, int prefix)
{
	const char	*a = t->fold + tw->off, *b = p->fold + pw->off;

	if (route_is_and(b, pw->len))
		return route_is_and(a, tw->len);
	if (prefix)
		return tw->len >= pw->len && memcmp(a, b, pw->len) == 0;
	return tw->len == pw->len && memcmp(a, b, pw->len) == 0;
}

int
route_phrase_find(const struct route_phrase *ph, const struct route_text *t,
    size_t from, size_t *at, size_t *off, size_t *len)
{
	const struct route_word	*last;
	size_t			 i, k, np = ph->t.nwords;

	for (i = from; i + np <= t->nwords; i++) {
		for (k = 0; k < np; k++) {
			if (!route_word_eq(t, &t->words[i + k], &ph->t,
			    &ph->t.words[k], ph->prefix && k == np - 1))
				break;
		}
		if (k < np)
			continue;
		last = &t->words[i + np - 1];
		*at = i;
		*off = t->words[i].off;
		*len = last->off + last->len - *off;
		return 1;
	}
	return 0;
}
