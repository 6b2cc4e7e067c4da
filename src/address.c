/*
 * address.c - email address syntax, normal form and IDN (punycode).
 *
 * Owns: what a subscriber's address may look like, its normal form
 * (address.h), and a small RFC 3492 punycode encoder/decoder for IDN
 * domain labels.  Does not own: suppression or uniqueness (the store),
 * the hash of forgotten addresses (token.c), header encoding
 * (mime-header.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "utf8.h"
#include "xmalloc.h"

/* Longest label we decode into code points (an A-label is <= 63 octets). */
#define ADDRESS_LABEL_CPS	128

/* RFC 3492 section 5 parameters. */
#define PUNY_BASE	36
#define PUNY_TMIN	1
#define PUNY_TMAX	26
#define PUNY_SKEW	38
#define PUNY_DAMP	700
#define PUNY_BIAS	72
#define PUNY_N		128

/* --- punycode (RFC 3492) ---------------------------------------------- */

static uint32_t
address_puny_adapt(uint32_t delta, uint32_t npoints, int first)
{
	uint32_t	k = 0;

	delta = first ? delta / PUNY_DAMP : delta / 2;
	delta += delta / npoints;
	while (delta > ((PUNY_BASE - PUNY_TMIN) * PUNY_TMAX) / 2) {
		delta /= PUNY_BASE - PUNY_TMIN;
		k += PUNY_BASE;
	}
	return k + (((PUNY_BASE - PUNY_TMIN + 1) * delta) /
	    (delta + PUNY_SKEW));
}

static char
address_puny_digit(uint32_t d)
{
	return d < 26 ? (char)('a' + d) : (char)('0' + d - 26);
}

static uint32_t
address_puny_threshold(uint32_t k, uint32_t bias)
{
	if (k <= bias)
		return PUNY_TMIN;
	if (k >= bias + PUNY_TMAX)
		return PUNY_TMAX;
	return k - bias;
}

/* Encode n code points (not all ASCII) and append to b.  -1 on overflow. */
static int
address_puny_encode(const uint32_t *cp, size_t n, struct buf *b)
{
	uint32_t	 next = PUNY_N, delta = 0, bias = PUNY_BIAS;
	uint32_t	 m, q, k, t;
	size_t		 i, h, basic = 0;

	for (i = 0; i < n; i++) {
		if (cp[i] < 0x80) {
			buf_addc(b, (char)cp[i]);
			basic++;
		}
	}
	if (basic > 0)
		buf_addc(b, '-');
	h = basic;
	while (h < n) {
		m = UINT32_MAX;
		for (i = 0; i < n; i++) {
			if (cp[i] >= next && cp[i] < m)
				m = cp[i];
		}
		if ((m - next) > (UINT32_MAX - delta) / (h + 1))
			return -1;
		delta += (m - next) * (h + 1);
		next = m;
		for (i = 0; i < n; i++) {
			if (cp[i] < next && ++delta == 0)
				return -1;
			if (cp[i] != next)
				continue;
			q = delta;
			for (k = PUNY_BASE;; k += PUNY_BASE) {
				t = address_puny_threshold(k, bias);
				if (q < t)
					break;
				buf_addc(b, address_puny_digit(t +
				    (q - t) % (PUNY_BASE - t)));
				q = (q - t) / (PUNY_BASE - t);
			}
			buf_addc(b, address_puny_digit(q));
			bias = address_puny_adapt(delta, h + 1, h == basic);
			delta = 0;
			h++;
		}
		delta++;
		next++;
	}
	return 0;
}

/*
 * Decode the part of an A-label after "xn--" into at most max code
 * points.  Returns how many, or -1 when it is not valid punycode.
 */
static int
address_puny_decode(const char *s, size_t len, uint32_t *out, size_t max)
{
	uint32_t	 next = PUNY_N, i = 0, bias = PUNY_BIAS;
	uint32_t	 oldi, w, k, t, digit;
	size_t		 n = 0, in = 0, j, last = 0;
	int		 have_delim = 0;

	for (j = 0; j < len; j++) {
		if (s[j] == '-') {
			last = j;
			have_delim = 1;
		}
	}
	if (have_delim) {
		for (j = 0; j < last; j++) {
			if ((unsigned char)s[j] >= 0x80 || n >= max)
				return -1;
			out[n++] = (unsigned char)s[j];
		}
		in = last + 1;
	}
	while (in < len) {
		oldi = i;
		w = 1;
		for (k = PUNY_BASE;; k += PUNY_BASE) {
			if (in >= len)
				return -1;
			if (s[in] >= 'a' && s[in] <= 'z')
				digit = (uint32_t)(s[in] - 'a');
			else if (s[in] >= 'A' && s[in] <= 'Z')
				digit = (uint32_t)(s[in] - 'A');
			else if (s[in] >= '0' && s[in] <= '9')
				digit = (uint32_t)(s[in] - '0') + 26;
			else
				return -1;
			in++;
			if (digit > (UINT32_MAX - i) / w)
				return -1;
			i += digit * w;
			t = address_puny_threshold(k, bias);
			if (digit < t)
				break;
			if (w > UINT32_MAX / (PUNY_BASE - t))
				return -1;
			w *= PUNY_BASE - t;
		}
		bias = address_puny_adapt(i - oldi, (uint32_t)n + 1, oldi == 0);
		if (i / (n + 1) > UINT32_MAX - next)
			return -1;
		next += i / (uint32_t)(n + 1);
		i %= (uint32_t)(n + 1);
		if (n >= max || next < 0x80 || next > 0x10ffff ||
		    (next >= 0xd800 && next <= 0xdfff))
			return -1;
		memmove(out + i + 1, out + i, (n - i) * sizeof *out);
		out[i++] = next;
		n++;
	}
	return (int)n;
}

/* --- code points allowed in a domain label ----------------------------- */

/* Lowercase the capitals of the scripts named in address.h. */
static uint32_t
address_lower(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xc0)
		return c;
	if (c <= 0xde && c != 0xd7)
		return c + 32;
	if (c >= 0x100 && c <= 0x137 && c != 0x130)
		return c | 1;
	if (c >= 0x139 && c <= 0x148)
		return (c & 1) ? c + 1 : c;
	if (c >= 0x14a && c <= 0x177)
		return c | 1;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x179 && c <= 0x17e)
		return (c & 1) ? c + 1 : c;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	if (c >= 0x391 && c <= 0x3ab && c != 0x3a2)
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c >= 0x410 && c <= 0x42f)
		return c + 32;
	if (c >= 0x1e00 && c <= 0x1eff && !(c >= 0x1e96 && c <= 0x1e9f))
		return c | 1;
	return c;
}

/* A non-ASCII code point that can never be part of a domain name. */
static int
address_bad_cp(uint32_t c)
{
	if (c < 0xc0 || c == 0xd7 || c == 0xf7)
		return 1;	/* C1 controls, NBSP, Latin-1 symbols */
	if (c >= 0x2000 && c <= 0x2bff)
		return 1;	/* spaces, punctuation, symbols, arrows */
	if (c >= 0x2e00 && c <= 0x2e7f)
		return 1;	/* supplemental punctuation */
	if (c >= 0x3000 && c <= 0x3003)
		return 1;	/* ideographic space and punctuation */
	if (c >= 0xe000 && c <= 0xf8ff)
		return 1;	/* private use */
	if (c >= 0xfdd0 && c <= 0xfdef)
		return 1;	/* noncharacters */
	if ((c & 0xfffe) == 0xfffe)
		return 1;	/* noncharacters */
	if ((c >= 0xfe00 && c <= 0xfe0f) || c == 0xfeff ||
	    (c >= 0xfff0 && c <= 0xfffd))
		return 1;	/* variation selectors, BOM, specials */
	if (c >= 0x1f000 && c <= 0x1faff)
		return 1;	/* emoji and other pictographs */
	if (c >= 0xe0000)
		return 1;	/* tags, private use planes */
	return 0;
}

static int
address_ldh(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/*
 * Check one label's code points (already lowercased) as a U-label.
 * NULL when fine, else a static reason.
 */
static const char *
address_check_ulabel(const uint32_t *cp, size_t n)
{
	size_t	i;

	if (cp[0] == '-' || cp[n - 1] == '-')
		return "a domain label starts or ends with a hyphen";
	if (cp[0] >= 0x300 && cp[0] <= 0x36f)
		return "a domain label starts with a combining mark";
	for (i = 0; i < n; i++) {
		if (cp[i] < 0x80 ? !address_ldh(cp[i]) : address_bad_cp(cp[i]))
			return "the domain holds a character that cannot be "
			    "in a domain name";
	}
	return NULL;
}

/* --- domain and local part -------------------------------------------- */

/*
 * Append one label, normalised, to out.  label is len bytes of valid
 * UTF-8 without dots.  NULL when fine, else a static reason.
 */
static const char *
address_label(const char *label, size_t len, struct buf *out)
{
	uint32_t	 cp[ADDRESS_LABEL_CPS], back[ADDRESS_LABEL_CPS];
	struct buf	 again;
	const char	*why;
	size_t		 n = 0, i, start = out->len;
	int		 l, ascii = 1, nback;

	/* Step 1: code points, lowercased. */
	for (i = 0; i < len; i += (size_t)l) {
		if (n == ADDRESS_LABEL_CPS)
			return "a domain label is longer than 63 octets";
		l = utf8_decode(label + i, len - i, &cp[n]);
		if (l <= 0)
			return "the address is not valid UTF-8";
		cp[n] = address_lower(cp[n]);
		if (cp[n] >= 0x80)
			ascii = 0;
		n++;
	}
	if ((why = address_check_ulabel(cp, n)) != NULL)
		return why;

	if (ascii) {
		/* Step 2a: an LDH label, perhaps an A-label to check. */
		if (n > ADDRESS_LABEL_MAX)
			return "a domain label is longer than 63 octets";
		for (i = 0; i < n; i++)
			buf_addc(out, (char)cp[i]);
		if (n < 4 || cp[2] != '-' || cp[3] != '-')
			return NULL;
		if (cp[0] != 'x' || cp[1] != 'n')
			return "a domain label has \"--\" in the third and "
			    "fourth places (reserved)";
		nback = address_puny_decode(out->data + start + 4, n - 4, back,
		    ADDRESS_LABEL_CPS);
		if (nback <= 0)
			return "an xn-- domain label is not valid punycode";
		for (i = 0; i < (size_t)nback; i++) {
			if (back[i] >= 0x80)
				break;
		}
		if (i == (size_t)nback)
			return "an xn-- domain label is not valid punycode";
		for (i = 0; i < (size_t)nback; i++) {
			if (address_lower(back[i]) != back[i])
				return "an xn-- domain label holds capitals";
		}
		/* Only the one canonical encoding of a U-label. */
		buf_init(&again, BUF_NOMAX);
		if (address_puny_encode(back, (size_t)nback, &again) != 0 ||
		    again.len != n - 4 ||
		    memcmp(again.data, out->data + start + 4, n - 4) != 0) {
			buf_free(&again);
			return "an xn-- domain label is not valid punycode";
		}
		buf_free(&again);
		return address_check_ulabel(back, (size_t)nback);
	}

	/* Step 2b: an IDN label, as an A-label. */
	buf_addstr(out, "xn--");
	if (address_puny_encode(cp, n, out) != 0)
		return "a domain label cannot be encoded";
	if (out->len - start > ADDRESS_LABEL_MAX)
		return "a domain label is longer than 63 octets (as an "
		    "A-label)";
	return NULL;
}

/* The ideographic full stops UTS #46 maps to '.', or 0. */
static size_t
address_dot_len(const char *s, size_t len)
{
	static const char *const dots[] = {
		"\343\200\202", "\357\274\216", "\357\275\241",	/* U+3002 FF0E FF61 */
	};
	size_t	i;

	if (len >= 1 && s[0] == '.')
		return 1;
	for (i = 0; i < sizeof dots / sizeof dots[0]; i++) {
		if (len >= 3 && memcmp(s, dots[i], 3) == 0)
			return 3;
	}
	return 0;
}

static const char *
address_domain(const char *d, size_t len, struct buf *out)
{
	const char	*why, *label;
	size_t		 i, dl, nlabels = 0, last = 0;
	int		 digits;

	if (len == 0)
		return "the domain is empty";
	if (d[0] == '[')
		return "address literals ([1.2.3.4]) are not accepted";
	label = d;
	for (i = 0;; ) {
		dl = i < len ? address_dot_len(d + i, len - i) : 0;
		if (i < len && dl == 0) {
			i++;
			continue;
		}
		/* A label ends here: d[label .. i). */
		if (d + i == label) {
			if (nlabels == 0 || i == len)
				return "the domain starts or ends with a dot";
			return "the domain has two dots in a row";
		}
		if (nlabels > 0)
			buf_addc(out, '.');
		last = out->len;
		if ((why = address_label(label, (size_t)(d + i - label),
		    out)) != NULL)
			return why;
		nlabels++;
		if (i == len)
			break;
		i += dl;
		label = d + i;
	}
	if (nlabels < 2)
		return "the domain has no dot";
	digits = 1;
	for (i = last; i < out->len; i++) {
		if (out->data[i] < '0' || out->data[i] > '9')
			digits = 0;
	}
	if (digits)
		return "the top-level domain is all digits (an IP address is "
		    "not a domain)";
	return NULL;
}

static int
address_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static const char *
address_local(const char *l, size_t len)
{
	size_t	i;

	if (len == 0)
		return "the local part (before the @) is empty";
	if (l[0] == '"')
		return "quoted local parts (\"...\"@) are not accepted";
	if (len > ADDRESS_LOCAL_MAX)
		return "the local part (before the @) is longer than 64 octets";
	if (l[0] == '.' || l[len - 1] == '.')
		return "the local part starts or ends with a dot";
	for (i = 0; i < len; i++) {
		if ((unsigned char)l[i] >= 0x80)
			return "non-ASCII local parts (SMTPUTF8) are not "
			    "accepted";
		if (l[i] == '.') {
			if (l[i + 1] == '.')
				return "the local part has two dots in a row";
			continue;
		}
		if (!address_atext((unsigned char)l[i]))
			return "the local part holds a character that is not "
			    "allowed there";
	}
	return NULL;
}

/* --- public ------------------------------------------------------------ */

int
address_normalise(const char *s, char **out, char **cause)
{
	struct buf	 b;
	const char	*why = NULL, *at, *end;
	size_t		 i, len;

	*out = NULL;
	/* Step 1: trim, then the checks on the whole string. */
	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	end = s + len;
	for (i = 0; i < len && why == NULL; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			why = "contains a control character";
		else if (s[i] == ' ')
			why = "contains a space";
	}
	if (why == NULL && len == 0)
		why = "the address is empty";
	if (why == NULL && !utf8_valid(s, len))
		why = "the address is not valid UTF-8";
	if (why == NULL && (at = memchr(s, '@', len)) == NULL)
		why = "no @";
	if (why != NULL)
		goto fail;

	/* Step 2: local part and domain. */
	at = memchr(s, '@', len);
	if ((why = address_local(s, (size_t)(at - s))) != NULL) {
		if (s[0] != '"' && memchr(at + 1, '@', (size_t)(end - at - 1))
		    != NULL)
			why = "more than one @";
		goto fail;
	}
	if (memchr(at + 1, '@', (size_t)(end - at - 1)) != NULL) {
		why = "more than one @";
		goto fail;
	}
	buf_init(&b, BUF_NOMAX);
	buf_add(&b, s, (size_t)(at - s) + 1);
	why = address_domain(at + 1, (size_t)(end - at - 1), &b);
	if (why == NULL && b.len - (size_t)(at - s) - 1 > ADDRESS_DOMAIN_MAX)
		why = "the domain is longer than 253 octets";
	if (why == NULL && b.len > ADDRESS_MAX)
		why = "the address is longer than 254 octets";
	if (why != NULL) {
		buf_free(&b);
		goto fail;
	}
	*out = buf_detach(&b, NULL);
	return 0;

fail:
	if (cause != NULL)
		*cause = xstrdup(why);
	return -1;
}

int
address_valid(const char *s)
{
	char	*out;

	if (address_normalise(s, &out, NULL) != 0)
		return 0;
	free(out);
	return 1;
}

char *
address_display(const char *addr)
{
	uint32_t	 cp[ADDRESS_LABEL_CPS];
	struct buf	 b;
	const char	*at, *label, *dot;
	char		 enc[4];
	size_t		 len, j, k;
	int		 n;

	if ((at = strrchr(addr, '@')) == NULL)
		return xstrdup(addr);
	buf_init(&b, BUF_NOMAX);
	buf_add(&b, addr, (size_t)(at - addr) + 1);
	for (label = at + 1;; label = dot + 1) {
		if ((dot = strchr(label, '.')) == NULL)
			len = strlen(label);
		else
			len = (size_t)(dot - label);
		n = -1;
		if (len > 4 && strncasecmp(label, "xn--", 4) == 0)
			n = address_puny_decode(label + 4, len - 4, cp,
			    ADDRESS_LABEL_CPS);
		if (n > 0) {
			for (j = 0; j < (size_t)n; j++) {
				k = utf8_encode(cp[j], enc);
				buf_add(&b, enc, k);
			}
		} else
			buf_add(&b, label, len);
		if (dot == NULL)
			break;
		buf_addc(&b, '.');
	}
	return buf_detach(&b, NULL);
}

char *
address_key(const char *addr)
{
	char	*k, *p;

	k = xstrdup(addr);
	for (p = k; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	}
	return k;
}
