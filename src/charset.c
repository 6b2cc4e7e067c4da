/*
 * charset.c - text in a named charset to UTF-8.
 *
 * Owns: the charset name table (which names are read as windows-1252,
 * which are guessed, which go to iconv and under what name), the
 * windows-1252 table, and the iconv loop that turns every bad byte into
 * U+FFFD.  Does not own: UTF-8 itself (utf8.c), where the charset name
 * comes from (mime-parse.c).
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "log.h"
#include "utf8.h"

enum charset_kind {
	CHARSET_KIND_UTF8,
	CHARSET_KIND_1252,	/* windows-1252 and what is read as it */
	CHARSET_KIND_GUESS,	/* us-ascii, unknown-8bit, none */
	CHARSET_KIND_ICONV,
	CHARSET_KIND_BAD,	/* not a plausible name: guess and flag */
};

struct charset_alias {
	const char		*name;
	enum charset_kind	 kind;
	const char		*iconv;	/* CHARSET_KIND_ICONV: iconv's name */
};

/* Names are compared after lowercasing; anything else goes to iconv. */
static const struct charset_alias charset_aliases[] = {
	{ "utf-8", CHARSET_KIND_UTF8, NULL },
	{ "utf8", CHARSET_KIND_UTF8, NULL },
	{ "unicode-1-1-utf-8", CHARSET_KIND_UTF8, NULL },
	{ "us-ascii", CHARSET_KIND_GUESS, NULL },
	{ "ascii", CHARSET_KIND_GUESS, NULL },
	{ "ansi_x3.4-1968", CHARSET_KIND_GUESS, NULL },
	{ "iso646-us", CHARSET_KIND_GUESS, NULL },
	{ "csascii", CHARSET_KIND_GUESS, NULL },
	{ "us", CHARSET_KIND_GUESS, NULL },
	{ "unknown-8bit", CHARSET_KIND_GUESS, NULL },
	{ "x-unknown", CHARSET_KIND_GUESS, NULL },
	{ "unknown", CHARSET_KIND_GUESS, NULL },
	{ "default", CHARSET_KIND_GUESS, NULL },
	{ "windows-1252", CHARSET_KIND_1252, NULL },
	{ "cp1252", CHARSET_KIND_1252, NULL },
	{ "cp-1252", CHARSET_KIND_1252, NULL },
	{ "x-cp1252", CHARSET_KIND_1252, NULL },
	{ "iso-8859-1", CHARSET_KIND_1252, NULL },
	{ "iso8859-1", CHARSET_KIND_1252, NULL },
	{ "iso_8859-1", CHARSET_KIND_1252, NULL },
	{ "iso_8859-1:1987", CHARSET_KIND_1252, NULL },
	{ "latin1", CHARSET_KIND_1252, NULL },
	{ "latin-1", CHARSET_KIND_1252, NULL },
	{ "l1", CHARSET_KIND_1252, NULL },
	{ "cp819", CHARSET_KIND_1252, NULL },
	{ "ibm819", CHARSET_KIND_1252, NULL },
	{ "iso-ir-100", CHARSET_KIND_1252, NULL },
	{ "csisolatin1", CHARSET_KIND_1252, NULL },
	/* Labels mail software uses that iconv spells differently. */
	{ "ks_c_5601-1987", CHARSET_KIND_ICONV, "CP949" },
	{ "gb2312", CHARSET_KIND_ICONV, "GB18030" },
	{ "x-gbk", CHARSET_KIND_ICONV, "GBK" },
	{ "iso-8859-8-i", CHARSET_KIND_ICONV, "ISO-8859-8" },
	{ "x-mac-roman", CHARSET_KIND_ICONV, "MACINTOSH" },
	{ "x-sjis", CHARSET_KIND_ICONV, "SJIS" },
	{ "unicode-1-1-utf-7", CHARSET_KIND_ICONV, "UTF-7" },
};

/* windows-1252 0x80..0x9f; 0 where the byte is undefined. */
static const uint16_t charset_1252_high[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

#define CHARSET_NAME_MAX	40

uint32_t
charset_1252_c1(unsigned int c)
{
	if (c < 0x80 || c > 0x9f)
		fatalx("%s: byte 0x%x is not in 0x80..0x9f", __func__, c);
	return charset_1252_high[c - 0x80];
}

/*
 * Append s[0..len), valid UTF-8, to b; past the cap, append the longest
 * prefix that fits without splitting a character and return -1.
 */
static int
charset_add(struct buf *b, const char *s, size_t len)
{
	size_t	room;

	if (buf_add(b, s, len) == 0)
		return 0;
	room = b->max > b->len ? b->max - b->len : 0;
	(void)buf_add(b, s, utf8_truncate(s, len, room));
	return -1;
}

static int
charset_add_cp(struct buf *b, uint32_t cp)
{
	char	 tmp[4];
	size_t	 n;

	n = utf8_encode(cp, tmp);
	if (n == 0)
		n = utf8_encode(UTF8_REPLACEMENT, tmp);
	return charset_add(b, tmp, n);
}

/*
 * Lowercase and check name into out; returns the kind, and for iconv the
 * name to open in *iconv_name (out or a table entry).
 */
static enum charset_kind
charset_lookup(const char *name, char *out, size_t outsize,
    const char **iconv_name)
{
	size_t	 i, n, len;
	char	 c;

	*iconv_name = NULL;
	if (name == NULL)
		return CHARSET_KIND_GUESS;
	while (*name == ' ' || *name == '\t' || *name == '"' || *name == '\'')
		name++;
	len = strlen(name);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t' ||
	    name[len - 1] == '"' || name[len - 1] == '\''))
		len--;
	if (len == 0)
		return CHARSET_KIND_GUESS;
	if (len >= outsize || len > CHARSET_NAME_MAX)
		return CHARSET_KIND_BAD;
	for (i = 0; i < len; i++) {
		c = name[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		/* Nothing that iconv would read as "//TRANSLIT" and such. */
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == ':' ||
		    c == '+' || c == '(' || c == ')'))
			return CHARSET_KIND_BAD;
		out[i] = c;
	}
	out[len] = '\0';

	n = sizeof charset_aliases / sizeof charset_aliases[0];
	for (i = 0; i < n; i++) {
		if (strcmp(charset_aliases[i].name, out) == 0) {
			*iconv_name = charset_aliases[i].iconv;
			return charset_aliases[i].kind;
		}
	}
	*iconv_name = out;
	return CHARSET_KIND_ICONV;
}

static int
charset_utf8(struct buf *out, const char *s, size_t len, int *flags)
{
	struct buf	tmp;
	int		rc;

	if (utf8_valid(s, len))
		return charset_add(out, s, len);
	*flags |= CHARSET_REPAIRED;
	buf_init(&tmp, BUF_NOMAX);
	(void)utf8_sanitize(&tmp, s, len);
	rc = charset_add(out, tmp.data != NULL ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return rc;
}

static int
charset_1252(struct buf *out, const char *s, size_t len, int *flags)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, start;
	uint32_t		 cp;

	start = 0;
	for (i = 0; i < len; i++) {
		if (p[i] < 0x80)
			continue;
		if (i > start && charset_add(out, s + start, i - start) == -1)
			return -1;
		start = i + 1;
		if (p[i] >= 0xa0)
			cp = p[i];
		else if ((cp = charset_1252_c1(p[i])) == 0) {
			cp = UTF8_REPLACEMENT;
			*flags |= CHARSET_REPAIRED;
		}
		if (charset_add_cp(out, cp) == -1)
			return -1;
	}
	if (i > start && charset_add(out, s + start, i - start) == -1)
		return -1;
	return 0;
}

int
charset_guess(struct buf *out, const char *s, size_t len, int *flags)
{
	int	dummy = 0;

	if (flags == NULL)
		flags = &dummy;
	if (utf8_valid(s, len))
		return charset_add(out, s, len);
	return charset_1252(out, s, len, flags);
}

/*
 * iconv, with one U+FFFD for each byte it will not take.  Returns 0 or
 * -1 at the cap; 1 when iconv cannot open the charset.
 */
static int
charset_iconv(struct buf *out, const char *name, const char *s, size_t len,
    int *flags)
{
	iconv_t		 cd;
	char		 chunk[4096], *in, *o;
	size_t		 inleft, oleft, r;
	int		 rc = 0, err;

	if ((cd = iconv_open("UTF-8", name)) == (iconv_t)-1)
		return 1;
	in = (char *)s;	/* iconv's prototype; it does not write here */
	inleft = len;
	for (;;) {
		o = chunk;
		oleft = sizeof chunk;
		if (inleft > 0)
			r = iconv(cd, &in, &inleft, &o, &oleft);
		else
			r = iconv(cd, NULL, NULL, &o, &oleft);	/* flush */
		err = errno;
		if (o > chunk && charset_add(out, chunk,
		    (size_t)(o - chunk)) == -1) {
			rc = -1;
			break;
		}
		if (r != (size_t)-1) {
			if (inleft == 0 && o == chunk)
				break;
			continue;
		}
		if (err == E2BIG)
			continue;
		/* EILSEQ, EINVAL (truncated at the end), anything else. */
		*flags |= CHARSET_REPAIRED;
		if (charset_add_cp(out, UTF8_REPLACEMENT) == -1) {
			rc = -1;
			break;
		}
		if (inleft == 0)
			break;
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);	/* reset the state */
	}
	iconv_close(cd);
	return rc;
}

/* iconv's names for the charsets worth keeping loaded (charset_preload). */
static const char *const charset_preloaded[] = {
	"ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5",
	"ISO-8859-6", "ISO-8859-7", "ISO-8859-8", "ISO-8859-9",
	"ISO-8859-10", "ISO-8859-13", "ISO-8859-14", "ISO-8859-15",
	"ISO-8859-16", "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1253",
	"WINDOWS-1254", "WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257",
	"WINDOWS-1258", "KOI8-R", "KOI8-U", "CP866", "CP437", "CP850",
	"MACINTOSH", "ISO-2022-JP", "SJIS", "CP932", "EUC-JP", "ISO-2022-KR",
	"EUC-KR", "CP949", "GB18030", "GBK", "BIG5", "BIG5-HKSCS", "EUC-TW",
	"TIS-620", "CP874", "VISCII", "UTF-16", "UTF-16LE", "UTF-16BE",
	"UTF-32", "UTF-7",
};

int
charset_preload(void)
{
	static iconv_t	cd[sizeof charset_preloaded /
			    sizeof charset_preloaded[0]];
	static int	loaded = -1;
	size_t		i;

	if (loaded != -1)
		return loaded;
	loaded = 0;
	for (i = 0; i < sizeof cd / sizeof cd[0]; i++) {
		/* Held open for good: glibc unloads a module nobody holds. */
		cd[i] = iconv_open("UTF-8", charset_preloaded[i]);
		if (cd[i] != (iconv_t)-1)
			loaded++;
	}
	return loaded;
}

int
charset_to_utf8(struct buf *out, const char *charset, const char *s,
    size_t len, int *flags)
{
	char		 name[CHARSET_NAME_MAX + 1];
	const char	*iconv_name;
	int		 dummy = 0, rc;

	if (flags == NULL)
		flags = &dummy;
	switch (charset_lookup(charset, name, sizeof name, &iconv_name)) {
	case CHARSET_KIND_UTF8:
		return charset_utf8(out, s, len, flags);
	case CHARSET_KIND_1252:
		return charset_1252(out, s, len, flags);
	case CHARSET_KIND_GUESS:
		return charset_guess(out, s, len, flags);
	case CHARSET_KIND_ICONV:
		if ((rc = charset_iconv(out, iconv_name, s, len, flags)) != 1)
			return rc;
		break;
	case CHARSET_KIND_BAD:
		break;
	}
	*flags |= CHARSET_UNKNOWN;
	return charset_guess(out, s, len, flags);
}

int
charset_known(const char *charset)
{
	char		 name[CHARSET_NAME_MAX + 1];
	const char	*iconv_name;
	iconv_t		 cd;

	switch (charset_lookup(charset, name, sizeof name, &iconv_name)) {
	case CHARSET_KIND_UTF8:
	case CHARSET_KIND_1252:
	case CHARSET_KIND_GUESS:
		return 1;
	case CHARSET_KIND_ICONV:
		if ((cd = iconv_open("UTF-8", iconv_name)) == (iconv_t)-1)
			return 0;
		iconv_close(cd);
		return 1;
	case CHARSET_KIND_BAD:
		break;
	}
	return 0;
}
