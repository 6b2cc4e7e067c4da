/*
 * utf8.c - UTF-8 validation, decoding, widths and safe truncation.
 *
 * Owns: the RFC 3629 decoder every helper here is built on, and the column
 * width table.  Does not own: charset conversion or normalisation.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "utf8.h"

struct utf8_range {
	uint32_t	first;
	uint32_t	last;
};

/*
 * Zero-width: combining marks, zero-width spaces and joiners, variation
 * selectors.  Not exhaustive (Unicode has hundreds of ranges), but it covers
 * the scripts and the emoji sequences mail to the network contains.
 */
static const struct utf8_range utf8_zero[] = {
	{ 0x0300, 0x036f }, { 0x0483, 0x0489 }, { 0x0591, 0x05bd },
	{ 0x05bf, 0x05bf }, { 0x05c1, 0x05c2 }, { 0x05c4, 0x05c5 },
	{ 0x05c7, 0x05c7 }, { 0x0610, 0x061a }, { 0x064b, 0x065f },
	{ 0x0670, 0x0670 }, { 0x06d6, 0x06dc }, { 0x06df, 0x06e4 },
	{ 0x06e7, 0x06e8 }, { 0x06ea, 0x06ed }, { 0x0900, 0x0902 },
	{ 0x093a, 0x093a }, { 0x093c, 0x093c }, { 0x0941, 0x0948 },
	{ 0x094d, 0x094d }, { 0x0951, 0x0957 }, { 0x0962, 0x0963 },
	{ 0x0981, 0x0981 }, { 0x09bc, 0x09bc }, { 0x09c1, 0x09c4 },
	{ 0x09cd, 0x09cd }, { 0x0a01, 0x0a02 }, { 0x0a3c, 0x0a3c },
	{ 0x0a41, 0x0a51 }, { 0x0a70, 0x0a71 }, { 0x0a81, 0x0a82 },
	{ 0x0abc, 0x0abc }, { 0x0ac1, 0x0ac8 }, { 0x0acd, 0x0acd },
	{ 0x0e31, 0x0e31 }, { 0x0e34, 0x0e3a }, { 0x0e47, 0x0e4e },
	{ 0x1160, 0x11ff }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff },
	{ 0x200b, 0x200f }, { 0x202a, 0x202e }, { 0x2060, 0x2064 },
	{ 0x20d0, 0x20ff }, { 0xfe00, 0xfe0f }, { 0xfe20, 0xfe2f },
	{ 0xfeff, 0xfeff }, { 0x1f3fb, 0x1f3ff }, { 0xe0000, 0xe0fff },
};

/* Wide: Hangul Jamo, CJK, fullwidth forms, emoji pictographs. */
static const struct utf8_range utf8_wide[] = {
	{ 0x1100, 0x115f }, { 0x231a, 0x231b }, { 0x2329, 0x232a },
	{ 0x23e9, 0x23ec }, { 0x23f0, 0x23f0 }, { 0x23f3, 0x23f3 },
	{ 0x25fd, 0x25fe }, { 0x2614, 0x2615 }, { 0x2648, 0x2653 },
	{ 0x267f, 0x267f }, { 0x2693, 0x2693 }, { 0x26a1, 0x26a1 },
	{ 0x26aa, 0x26ab }, { 0x26bd, 0x26be }, { 0x26c4, 0x26c5 },
	{ 0x26ce, 0x26ce }, { 0x26d4, 0x26d4 }, { 0x26ea, 0x26ea },
	{ 0x26f2, 0x26f3 }, { 0x26f5, 0x26f5 }, { 0x26fa, 0x26fa },
	{ 0x26fd, 0x26fd }, { 0x2705, 0x2705 }, { 0x270a, 0x270b },
	{ 0x2728, 0x2728 }, { 0x274c, 0x274c }, { 0x274e, 0x274e },
	{ 0x2753, 0x2755 }, { 0x2757, 0x2757 }, { 0x2795, 0x2797 },
	{ 0x27b0, 0x27b0 }, { 0x27bf, 0x27bf }, { 0x2b1b, 0x2b1c },
	{ 0x2b50, 0x2b50 }, { 0x2b55, 0x2b55 }, { 0x2e80, 0x303e },
	{ 0x3041, 0x33ff }, { 0x3400, 0x4dbf }, { 0x4e00, 0x9fff },
	{ 0xa000, 0xa4cf }, { 0xa960, 0xa97f }, { 0xac00, 0xd7a3 },
	{ 0xf900, 0xfaff }, { 0xfe10, 0xfe19 }, { 0xfe30, 0xfe6f },
	{ 0xff00, 0xff60 }, { 0xffe0, 0xffe6 }, { 0x16fe0, 0x16fe4 },
	{ 0x17000, 0x18cff }, { 0x1b000, 0x1b2ff }, { 0x1f004, 0x1f004 },
	{ 0x1f0cf, 0x1f0cf }, { 0x1f18e, 0x1f18e }, { 0x1f191, 0x1f19a },
	{ 0x1f200, 0x1f251 }, { 0x1f300, 0x1f3fa }, { 0x1f400, 0x1f64f },
	{ 0x1f680, 0x1f6ff }, { 0x1f7e0, 0x1f7eb }, { 0x1f90c, 0x1f9ff },
	{ 0x1fa70, 0x1faff }, { 0x20000, 0x2fffd }, { 0x30000, 0x3fffd },
};

static int
utf8_in(const struct utf8_range *t, size_t n, uint32_t cp)
{
	size_t	lo = 0, hi = n, mid;

	if (cp < t[0].first || cp > t[n - 1].last)
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cp < t[mid].first)
			hi = mid;
		else if (cp > t[mid].last)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint32_t		 c, min;
	size_t			 n, i;

	*cp = UTF8_REPLACEMENT;
	if (len == 0)
		return 0;
	c = u[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return -1;	/* continuation byte, 0xc0, 0xc1, 0xf5.. */
	if (len < n)
		return -1;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return (int)n;
}

size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char	*u = (unsigned char *)out;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp > 0x10ffff)
		return 0;
	u[0] = (unsigned char)(0xf0 | (cp >> 18));
	u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	u[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

int
utf8_valid(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		i = 0;
	int		n;

	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) < 0)
			return 0;
		i += (size_t)n;
	}
	return 1;
}

int
utf8_is_ascii(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	uint64_t		 x, acc = 0;
	size_t			 i = 0;

	/*
	 * Eight bytes at a time: the message builder asks it of every
	 * header of every campaign message.
	 */
	for (; i + 8 <= len; i += 8) {
		memcpy(&x, u + i, 8);
		acc |= x;
	}
	for (; i < len; i++)
		acc |= u[i];
	return (acc & 0x8080808080808080ULL) == 0;
}

int
utf8_cpwidth(uint32_t cp)
{
	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
		return 0;
	if (cp < 0x300)
		return 1;
	if (utf8_in(utf8_zero, sizeof utf8_zero / sizeof utf8_zero[0], cp))
		return 0;
	if (utf8_in(utf8_wide, sizeof utf8_wide / sizeof utf8_wide[0], cp))
		return 2;
	return 1;
}

/* Length of the character at s, counting an invalid byte as one. */
static size_t
utf8_step(const char *s, size_t len, uint32_t *cp)
{
	int	n;

	if ((n = utf8_decode(s, len, cp)) <= 0)
		return 1;
	return (size_t)n;
}

size_t
utf8_width(const char *s, size_t len)
{
	uint32_t	cp;
	size_t		i = 0, cols = 0;

	while (i < len) {
		i += utf8_step(s + i, len - i, &cp);
		cols += (size_t)utf8_cpwidth(cp);
	}
	return cols;
}

size_t
utf8_truncate(const char *s, size_t len, size_t max)
{
	uint32_t	cp;
	size_t		i = 0, n;

	if (len <= max)
		return len;
	while (i < len) {
		n = utf8_step(s + i, len - i, &cp);
		if (i + n > max)
			break;
		i += n;
	}
	return i;
}

size_t
utf8_truncate_cols(const char *s, size_t len, size_t cols)
{
	uint32_t	cp;
	size_t		i = 0, n, used = 0, w;

	while (i < len) {
		n = utf8_step(s + i, len - i, &cp);
		w = (size_t)utf8_cpwidth(cp);
		if (used + w > cols)
			break;
		used += w;
		i += n;
	}
	return i;
}

int
utf8_sanitize(struct buf *b, const char *s, size_t len)
{
	static const char	 repl[] = "\xef\xbf\xbd";
	uint32_t		 cp;
	size_t			 i = 0, start = 0;
	int			 n;

	/* Copy valid runs whole; only the bad bytes cost an append each. */
	while (i < len) {
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_decode(s + i, len - i, &cp)) > 0) {
			i += (size_t)n;
			continue;
		}
		if (buf_add(b, s + start, i - start) == -1 ||
		    buf_add(b, repl, 3) == -1)
			return -1;
		start = ++i;
	}
	return buf_add(b, s + start, i - start);
}

/* --- folding for search --------------------------------------------------- */

/*
 * Latin Extended-A (U+0100..U+017F) without its marks, one base letter
 * each; '*' marks the two that become two letters (U+0132/3 ij, U+0152/3
 * oe).
 */
static const char utf8_fold_ext_a[] =
    "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii**jjkkkllllllllll"
    "nnnnnnnnnoooooo**rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/* The folded form of cp appended to b; 0 for code points kept as they are. */
static int
utf8_fold_cp(uint32_t cp, struct buf *b)
{
	static const char	latin1[] =	/* U+00C0..U+00FF */
	    "aaaaaa*ceeeeiiii*nooooo*ouuuuy**aaaaaa*ceeeeiiii*nooooo*ouuuuy*y";
	const char		*two = NULL;
	char			 c = 0;

	if (cp >= 'A' && cp <= 'Z')
		c = (char)(cp - 'A' + 'a');
	else if (cp >= 0xc0 && cp <= 0xff) {
		switch (cp) {
		case 0xc6: case 0xe6: two = "ae"; break;
		case 0xd0: case 0xf0: c = 'd'; break;
		case 0xd7: case 0xf7: return 0;		/* x and / */
		case 0xde: case 0xfe: two = "th"; break;
		case 0xdf: two = "ss"; break;
		default: c = latin1[cp - 0xc0];
		}
	} else if (cp >= 0x100 && cp <= 0x17f) {
		if (cp == 0x132 || cp == 0x133)
			two = "ij";
		else if (cp == 0x152 || cp == 0x153)
			two = "oe";
		else
			c = utf8_fold_ext_a[cp - 0x100];
	} else if (cp >= 0x218 && cp <= 0x21b)	/* Romanian S, T comma */
		c = cp < 0x21a ? 's' : 't';
	else if (cp >= 0x300 && cp <= 0x36f)	/* combining marks: gone */
		return 1;
	else if ((cp >= 0x391 && cp <= 0x3a9) || (cp >= 0x410 && cp <= 0x42f))
		cp += 0x20;		/* Greek, Cyrillic capitals */
	else if (cp >= 0x400 && cp <= 0x40f)
		cp += 0x50;
	else if (cp >= 0x1e80 && cp <= 0x1e85)	/* Welsh w with accents */
		c = 'w';
	else if (cp >= 0x1ea0 && cp <= 0x1ef9) {	/* Vietnamese */
		c = cp <= 0x1eb7 ? 'a' : cp <= 0x1ec7 ? 'e' : cp <= 0x1ecb ?
		    'i' : cp <= 0x1ee3 ? 'o' : cp <= 0x1ef1 ? 'u' : 'y';
	} else
		return 0;

	if (two != NULL)
		buf_addstr(b, two);
	else if (c != 0)
		buf_addc(b, c);
	else {
		char	out[4];

		buf_add(b, out, utf8_encode(cp, out));
	}
	return 1;
}

char *
utf8_fold(const char *s, size_t len)
{
	struct buf	 b;
	uint32_t	 cp;
	size_t		 i = 0;
	int		 n;

	buf_init(&b, BUF_NOMAX);
	while (i < len) {
		if ((n = utf8_decode(s + i, len - i, &cp)) <= 0) {
			buf_addc(&b, s[i++]);	/* not UTF-8: as it is */
			continue;
		}
		if (!utf8_fold_cp(cp, &b))
			buf_add(&b, s + i, (size_t)n);
		i += (size_t)n;
	}
	return buf_detach(&b, NULL);
}
