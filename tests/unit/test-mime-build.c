/*
 * test-mime-build.c - outgoing MIME, byte by byte.
 *
 * Table-driven: header values (ASCII, Welsh, Polish, emoji, hostile) are
 * encoded and decoded back with a small RFC 2047 decoder written here, not
 * borrowed from the code under test; QP and base64 round trip through
 * decoders written here; every built message is checked for CRLF-only line
 * ends, lines of at most 998 octets and boundaries that occur only as
 * delimiters; and a set of built messages is handed to
 * tests/tools/check-email.py (Python's email package) for a second opinion.
 */
#include "testutil.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mime-build.h"
#include "utf8.h"

extern char	**environ;

/* --- checks and decoders written for the test --------------------------- */

/* Every line ends CRLF, no bare CR or LF, no line over max octets. */
static int
check_lines(const char *what, const char *s, size_t len, size_t max)
{
	size_t	i, col = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n') {
				print_error("%s: bare CR at %zu\n", what, i);
				return 0;
			}
			i++;
			col = 0;
			continue;
		}
		if (s[i] == '\n') {
			print_error("%s: bare LF at %zu\n", what, i);
			return 0;
		}
		if (++col > max) {
			print_error("%s: line longer than %zu at %zu\n", what,
			    max, i);
			return 0;
		}
	}
	if (len > 0 && s[len - 1] != '\n') {
		print_error("%s: does not end in CRLF\n", what);
		return 0;
	}
	return 1;
}

/* The number of lines in a header block that start a new field. */
static int
count_fields(const char *s, size_t len)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < len; i++) {
		if ((i == 0 || s[i - 1] == '\n') && s[i] != ' ' && s[i] != '\t')
			n++;
	}
	return n;
}

/* Unfold one field: the value after "Name:" and its whitespace. */
static char *
unfold_value(const char *s, size_t len)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	for (i = 0; i < len && s[i] != ':'; i++)
		;
	for (i++; i < len && s[i] == ' '; i++)
		;
	for (; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') {
			i++;
			continue;
		}
		buf_addc(&b, s[i]);
	}
	return buf_detach(&b, NULL);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
b64val(int c)
{
	const char	*a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*p;

	if (c == '\0' || (p = strchr(a, c)) == NULL)
		return -1;
	return (int)(p - a);
}

/* Base64 to out, skipping CRLF; 0 on bad input. */
static int
b64_decode(struct buf *out, const char *s, size_t len)
{
	int	v[4], n = 0, pad = 0;
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (s[i] == '=') {
			v[n++] = 0;
			pad++;
		} else if (pad > 0 || (v[n++] = b64val(s[i])) < 0)
			return 0;
		if (n == 4) {
			buf_addc(out, (char)(v[0] << 2 | v[1] >> 4));
			if (pad < 2)
				buf_addc(out, (char)((v[1] & 15) << 4 |
				    v[2] >> 2));
			if (pad < 1)
				buf_addc(out, (char)((v[2] & 3) << 6 | v[3]));
			n = 0;
		}
	}
	return n == 0;
}

/* Quoted-printable to out; 0 on bad input (an "=" not before hex/CRLF). */
static int
qp_decode(struct buf *out, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (s[i] != '=') {
			buf_addc(out, s[i]);
			continue;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 >= len || hexval(s[i + 1]) < 0 ||
		    hexval(s[i + 2]) < 0)
			return 0;
		buf_addc(out, (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2])));
		i += 2;
	}
	return 1;
}

/*
 * Decode one "=?UTF-8?Q?...?=" or "=?UTF-8?B?...?=" into out; 0 when w is
 * not an encoded word.  Each word must be at most 75 characters and decode
 * to valid UTF-8 on its own (no character split across words).
 */
static int
ew_decode(struct buf *out, const char *w, size_t len, int *bad)
{
	struct buf	tmp;
	size_t		i;
	int		ok;

	if (len < 12 || strncasecmp(w, "=?UTF-8?", 8) != 0 ||
	    w[9] != '?' || w[len - 2] != '?' || w[len - 1] != '=')
		return 0;
	if (len > MIME_EW_MAX) {
		print_error("encoded word of %zu characters\n", len);
		*bad = 1;
	}
	buf_init(&tmp, 0);
	buf_add(&tmp, "", 0);
	if (w[8] == 'B' || w[8] == 'b')
		ok = b64_decode(&tmp, w + 10, len - 12);
	else {
		ok = 1;
		for (i = 10; i < len - 2; i++) {
			if (w[i] == '_')
				buf_addc(&tmp, ' ');
			else if (w[i] == '=' && i + 2 < len - 2 &&
			    hexval(w[i + 1]) >= 0 && hexval(w[i + 2]) >= 0) {
				buf_addc(&tmp, (char)(hexval(w[i + 1]) << 4 |
				    hexval(w[i + 2])));
				i += 2;
			} else if (w[i] == '=' || w[i] == '?' || w[i] == ' ')
				ok = 0;
			else
				buf_addc(&tmp, w[i]);
		}
	}
	if (!ok || !utf8_valid(tmp.data, tmp.len)) {
		print_error("bad encoded word %.*s\n", (int)len, w);
		*bad = 1;
	}
	buf_add(out, tmp.data, tmp.len);
	buf_free(&tmp);
	return 1;
}

/* RFC 2047 decoding of an unfolded unstructured value. */
static char *
text_decode(const char *v, int *bad)
{
	struct buf	 b;
	const char	*ws, *w;
	size_t		 wslen, wlen;
	int		 prev_ew = 0;

	buf_init(&b, 0);
	buf_add(&b, "", 0);
	while (*v != '\0') {
		ws = v;
		while (*v == ' ' || *v == '\t')
			v++;
		wslen = (size_t)(v - ws);
		w = v;
		while (*v != '\0' && *v != ' ' && *v != '\t')
			v++;
		wlen = (size_t)(v - w);
		if (wlen == 0)
			break;
		if (prev_ew && wlen >= 12 && strncmp(w, "=?", 2) == 0) {
			/* whitespace between encoded words is dropped */
			if (ew_decode(&b, w, wlen, bad))
				continue;
		}
		buf_add(&b, ws, wslen);
		prev_ew = ew_decode(&b, w, wlen, bad);
		if (!prev_ew)
			buf_add(&b, w, wlen);
	}
	return buf_detach(&b, NULL);
}

/* The display name of "display <addr>" or "addr", decoded. */
static char *
display_decode(const char *v, char **addr, int *bad)
{
	const char	*lt;
	char		*phrase, *out;
	struct buf	 b;

	if ((lt = strrchr(v, '<')) == NULL) {
		*addr = strdup(v);
		return strdup("");
	}
	*addr = strndup(lt + 1, strlen(lt + 1) - 1);
	while (lt > v && lt[-1] == ' ')
		lt--;
	if (*v == '"') {
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		for (v++; v < lt - 1; v++) {
			if (*v == '\\')
				v++;
			buf_addc(&b, *v);
		}
		return buf_detach(&b, NULL);
	}
	phrase = strndup(v, (size_t)(lt - v));
	out = text_decode(phrase, bad);
	free(phrase);
	return out;
}

/* --- header values ------------------------------------------------------ */

struct text_case {
	const char	*name;
	const char	*in;
	const char	*want;		/* decoded; NULL: same as in */
	const char	*exact;		/* the whole field, when it matters */
};

static char	long_word[1500];

static const struct text_case text_cases[] = {
	{ "ascii", "Monthly newsletter: March", NULL,
	  "Subject: Monthly newsletter: March\r\n" },
	{ "empty", "", NULL, "Subject:\r\n" },
	{ "spaces only", "   ", "", "Subject:\r\n" },
	{ "trimmed", "  hello  ", "hello", "Subject: hello\r\n" },
	{ "long ascii",
	  "The Midlands Decision Support Network newsletter for March, with "
	  "news from the Analyst Network huddles, the Evaluation Network "
	  "seminars, the Knowledge and Evidence Network reviews and the "
	  "training programme prospectus for the coming year", NULL, NULL },
	{ "welsh", "Croeso i\xe2\x80\x99r cylchlythyr \xe2\x80\x93 \xc5\xb4yl",
	  NULL, NULL },
	{ "polish", "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 g\xc4\x99\xc5\x9bl"
	  "\xc4\x85 ja\xc5\xba\xc5\x84", NULL, NULL },
	{ "emoji", "\xf0\x9f\x8e\x89 Launch \xf0\x9f\x9a\x80 day "
	  "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f"
	  "\x91\xa7 \xe2\x80\x94 celebrate!", NULL, NULL },
	{ "many emoji",
	  "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82\xf0\x9f\x98\x83"
	  "\xf0\x9f\x98\x84\xf0\x9f\x98\x85\xf0\x9f\x98\x86\xf0\x9f\x98\x87"
	  "\xf0\x9f\x98\x88\xf0\x9f\x98\x89\xf0\x9f\x98\x8a\xf0\x9f\x98\x8b"
	  "\xf0\x9f\x98\x8c\xf0\x9f\x98\x8d\xf0\x9f\x98\x8e\xf0\x9f\x98\x8f"
	  "\xf0\x9f\x98\x90\xf0\x9f\x98\x91\xf0\x9f\x98\x92\xf0\x9f\x98\x93"
	  "\xf0\x9f\x98\x94\xf0\x9f\x98\x95\xf0\x9f\x98\x96\xf0\x9f\x98\x97",
	  NULL, NULL },
	{ "mixed long",
	  "Re: Ymholiad am gwrs Dynameg Systemau \xe2\x80\x93 "
	  "pryd mae\xe2\x80\x99r cwrs nesaf yn dechrau, a faint mae\xe2\x80"
	  "\x99n ei gostio i staff y GIG yng Nghymru a Lloegr?", NULL, NULL },
	{ "looks encoded", "=?UTF-8?Q?not_really?= plain", NULL, NULL },
	{ "question marks", "What? =? ?= ok", NULL, NULL },
	{ "injection crlf", "Bob\r\nBcc: evil@x", "Bob Bcc: evil@x",
	  "Subject: Bob Bcc: evil@x\r\n" },
	{ "injection lf", "x\nSubject: y", "x Subject: y",
	  "Subject: x Subject: y\r\n" },
	{ "injection cr", "x\rTo: y", "x To: y", "Subject: x To: y\r\n" },
	{ "injection non-ascii", "\xc5\xb4\r\nBcc: evil@x",
	  "\xc5\xb4 Bcc: evil@x", NULL },
	{ "tab and controls", "a\tb\x01" "c\x7f" "d", "a b c d", NULL },
	{ "invalid utf-8", "caf\xe9 \xff ok", "caf\xef\xbf\xbd \xef\xbf\xbd ok",
	  NULL },
	{ "long word", long_word, NULL, NULL },
	{ "url", "See https://example.org/newsletters/2026/03/the-march-issue-"
	  "of-the-newsletter.html today", NULL, NULL },
};

static void
test_header_text(void **state)
{
	const struct text_case	*c;
	struct buf		 b;
	char			*v, *got;
	size_t			 i;
	int			 bad;

	for (i = 0; i < sizeof text_cases / sizeof text_cases[0]; i++) {
		c = &text_cases[i];
		buf_init(&b, 0);
		assert_int_equal(mime_header_text(&b, "Subject", c->in), 0);
		if (!check_lines(c->name, b.data, b.len,
		    c->in == long_word ? MIME_LINE_EW : MIME_LINE_SOFT))
			fail_msg("%s: got %s", c->name, b.data);
		if (count_fields(b.data, b.len) != 1)
			fail_msg("%s: got %d header fields, want 1: %s",
			    c->name, count_fields(b.data, b.len), b.data);
		if (c->exact != NULL)
			assert_str_eq_msg(c->name, b.data, c->exact);
		/* lines holding encoded words are at most 76 */
		if (strstr(b.data, "=?UTF-8?") != NULL &&
		    !check_lines(c->name, b.data, b.len, MIME_LINE_EW))
			fail_msg("%s: got %s", c->name, b.data);
		v = unfold_value(b.data, b.len);
		bad = 0;
		got = text_decode(v, &bad);
		if (bad)
			fail_msg("%s: bad encoded word in %s", c->name, b.data);
		assert_str_eq_msg(c->name, got, c->want ? c->want : c->in);
		free(v);
		free(got);
		buf_free(&b);
	}
}

/*
 * Values assembled at random (fixed seed) from awkward pieces: every one
 * must give one field, CRLF lines within the limits, and decode back to
 * the cleaned value (which the pieces make easy to predict: CR, LF and
 * CRLF become one space, and runs of spaces never reach the cap of 8).
 */
static const char *const pieces[] = {
	"a", "word", " ", "  ", "\r\n", "\n", "\r", "=?", "?=", "_", "=",
	"\xc5\xb4", "\xe2\x80\x99", "\xf0\x9f\x8e\x89", "\"", ",", "<", ">",
	"Bcc:", "\xc3\xa9t\xc3\xa9", "supercalifragilisticexpialidocious",
};

static void
test_header_random(void **state)
{
	struct buf	 in, want, b;
	char		*v, *got, *addr;
	unsigned	 seed = 12345, k;
	size_t		 i, n, p;
	int		 bad, wasspace;

	for (i = 0; i < 3000; i++) {
		buf_init(&in, 0);
		buf_add(&in, "", 0);
		n = (seed = seed * 1103515245 + 12345) >> 16 & 63;
		for (k = 0; k < n; k++) {
			p = ((seed = seed * 1103515245 + 12345) >> 16) %
			    (sizeof pieces / sizeof pieces[0]);
			buf_addstr(&in, pieces[p]);
		}
		/* what the cleaned value must be */
		buf_init(&want, 0);
		buf_add(&want, "", 0);
		wasspace = 0;
		for (p = 0; p < in.len; p++) {
			if (in.data[p] == '\r' && in.data[p + 1] == '\n')
				p++;
			if (in.data[p] == '\r' || in.data[p] == '\n' ||
			    in.data[p] == ' ') {
				wasspace++;
				continue;
			}
			if (wasspace && want.len > 0)
				buf_add(&want, "        ", wasspace > 8 ? 8 :
				    (size_t)wasspace);
			wasspace = 0;
			buf_addc(&want, in.data[p]);
		}

		buf_init(&b, 0);
		assert_int_equal(mime_header_text(&b, "Subject", in.data), 0);
		if (!check_lines("random", b.data, b.len, MIME_LINE_SOFT) ||
		    count_fields(b.data, b.len) != 1)
			fail_msg("case %zu: got %s", i, b.data);
		v = unfold_value(b.data, b.len);
		bad = 0;
		got = text_decode(v, &bad);
		if (bad)
			fail_msg("case %zu: bad encoded word in %s", i, b.data);
		assert_str_eq_msg("random subject", got, want.data);
		free(v);
		free(got);
		buf_free(&b);

		buf_init(&b, 0);
		assert_int_equal(mime_header_address(&b, "To", in.data,
		    "a@example.org", &got), 0);
		if (!check_lines("random", b.data, b.len, MIME_LINE_SOFT) ||
		    count_fields(b.data, b.len) != 1)
			fail_msg("case %zu: got %s", i, b.data);
		v = unfold_value(b.data, b.len);
		got = display_decode(v, &addr, &bad);
		if (bad)
			fail_msg("case %zu: bad encoded word in %s", i, b.data);
		assert_str_eq_msg("random display", got, want.data);
		assert_str_eq_msg("random display address", addr,
		    "a@example.org");
		free(v);
		free(got);
		free(addr);
		buf_free(&b);
		buf_free(&in);
		buf_free(&want);
	}
}

struct fold_case {
	const char	*name;
	const char	*in;
	const char	*want;
};

static const struct fold_case fold_cases[] = {
	{ "short", "<mailto:u@example.org>",
	  "List-Unsubscribe: <mailto:u@example.org>\r\n" },
	{ "folded",
	  "<https://lists.example.org/unsubscribe/aaaaaaaaaaaaaaaaaaaa>, "
	  "<mailto:unsubscribe@example.org?subject=unsubscribe>",
	  "List-Unsubscribe: "
	  "<https://lists.example.org/unsubscribe/aaaaaaaaaaaaaaaaaaaa>,\r\n"
	  " <mailto:unsubscribe@example.org?subject=unsubscribe>\r\n" },
	{ "injection", "<a@b>\r\nBcc: evil@x", "List-Unsubscribe: <a@b> "
	  "Bcc: evil@x\r\n" },
	{ "8-bit", "<a\xc3\xa9@b>", "List-Unsubscribe: <a??@b>\r\n" },
};

static void
test_header_fold(void **state)
{
	const struct fold_case	*c;
	struct buf		 b;
	char			 huge[2100];
	size_t			 i;

	for (i = 0; i < sizeof fold_cases / sizeof fold_cases[0]; i++) {
		c = &fold_cases[i];
		buf_init(&b, 0);
		assert_int_equal(mime_header_fold(&b, "List-Unsubscribe",
		    c->in), 0);
		assert_str_eq_msg(c->name, b.data, c->want);
		buf_free(&b);
	}

	/* A 2000-octet token cannot be folded: it is cut at 998. */
	memset(huge, 'x', 2000);
	huge[2000] = '\0';
	buf_init(&b, 0);
	assert_int_equal(mime_header_fold(&b, "X-Huge", huge), 0);
	if (!check_lines("huge", b.data, b.len, MIME_LINE_MAX))
		fail();
	assert_int_equal(count_fields(b.data, b.len), 1);
	buf_free(&b);
}

struct addr_case {
	const char	*name;
	const char	*display;
	const char	*addr;
	const char	*want_display;	/* decoded */
	const char	*exact;		/* NULL: do not compare */
};

static const struct addr_case addr_cases[] = {
	{ "none", NULL, "a@example.org", "", "To: a@example.org\r\n" },
	{ "blank", "  ", "a@example.org", "", "To: a@example.org\r\n" },
	{ "atoms", "Alice Example", "a@example.org", "Alice Example",
	  "To: Alice Example <a@example.org>\r\n" },
	{ "comma", "Example, Alice", "a@example.org", "Example, Alice",
	  "To: \"Example, Alice\" <a@example.org>\r\n" },
	{ "dot", "Dr. Who", "a@example.org", "Dr. Who",
	  "To: \"Dr. Who\" <a@example.org>\r\n" },
	{ "quotes", "Bob \"the builder\" \\o/", "b@example.org",
	  "Bob \"the builder\" \\o/",
	  "To: \"Bob \\\"the builder\\\" \\\\o/\" <b@example.org>\r\n" },
	{ "angle", "Eve <eve@evil.example>", "e@example.org",
	  "Eve <eve@evil.example>", NULL },
	{ "welsh", "Si\xc3\xa2n \xc5\xb4yn", "s@example.org",
	  "Si\xc3\xa2n \xc5\xb4yn", NULL },
	{ "polish", "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87, J\xc3\xb3zef",
	  "z@example.org", "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87, J\xc3\xb3zef",
	  NULL },
	{ "emoji", "Emoji \xf0\x9f\x98\x80 Person", "e@example.org",
	  "Emoji \xf0\x9f\x98\x80 Person", NULL },
	{ "injection crlf", "Bob\r\nBcc: evil@x", "b@example.org",
	  "Bob Bcc: evil@x", "To: \"Bob Bcc: evil@x\" <b@example.org>\r\n" },
	{ "injection lf", "x\nSubject: y", "b@example.org", "x Subject: y",
	  "To: \"x Subject: y\" <b@example.org>\r\n" },
	{ "injection cr", "x\rCc: y@z", "b@example.org", "x Cc: y@z",
	  "To: \"x Cc: y@z\" <b@example.org>\r\n" },
	{ "encoded-looking", "=?UTF-8?Q?Admin?=", "b@example.org",
	  "=?UTF-8?Q?Admin?=", NULL },
	{ "long quoted", "Enquiries, The Midlands Decision Support Network "
	  "(West Midlands regional office)", "g@example.org", "Enquiries, The "
	  "Midlands Decision Support Network (West Midlands regional office)",
	  "To: \"Enquiries, The Midlands Decision Support Network (West "
	  "Midlands regional\r\n office)\" <g@example.org>\r\n" },
	{ "long word", "https://example.org/a/very/long/path/that/goes/on/and/"
	  "on/for/more/than/a/line", "u@example.org", "https://example.org/a/"
	  "very/long/path/that/goes/on/and/on/for/more/than/a/line", NULL },
	{ "long", "The Midlands Decision Support Network General Enquiries "
	  "Team", "general-enquiries@example.org",
	  "The Midlands Decision Support Network General Enquiries Team",
	  "To: The Midlands Decision Support Network General Enquiries Team"
	  "\r\n <general-enquiries@example.org>\r\n" },
};

static void
test_header_address(void **state)
{
	const struct addr_case	*c;
	struct buf		 b;
	char			*v, *got, *addr, *cause;
	size_t			 i;
	int			 bad;

	for (i = 0; i < sizeof addr_cases / sizeof addr_cases[0]; i++) {
		c = &addr_cases[i];
		buf_init(&b, 0);
		if (mime_header_address(&b, "To", c->display, c->addr,
		    &cause) != 0)
			fail_msg("%s: %s", c->name, cause);
		if (!check_lines(c->name, b.data, b.len, MIME_LINE_SOFT))
			fail_msg("%s: got %s", c->name, b.data);
		assert_int_equal(count_fields(b.data, b.len), 1);
		if (c->exact != NULL)
			assert_str_eq_msg(c->name, b.data, c->exact);
		v = unfold_value(b.data, b.len);
		bad = 0;
		got = display_decode(v, &addr, &bad);
		if (bad)
			fail_msg("%s: bad encoded word in %s", c->name, b.data);
		assert_str_eq_msg(c->name, got, c->want_display);
		assert_str_eq_msg(c->name, addr, c->addr);
		free(v);
		free(got);
		free(addr);
		buf_free(&b);
	}
}

static const char *const bad_addrs[] = {
	"", "nobody", "@example.org", "a@", "a@b@c", "a b@example.org",
	"a@example.org\r\nBcc: evil@x", "a@example.org>", "<a@example.org",
	"a,b@example.org", "a@.example.org", "a@example..org",
	"ja\xc5\xba\xc5\x84@example.org", "a@b\xc3\xa9.example",
};

static void
test_bad_address(void **state)
{
	struct buf	 b;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof bad_addrs / sizeof bad_addrs[0]; i++) {
		buf_init(&b, 0);
		cause = NULL;
		if (mime_header_address(&b, "To", "X", bad_addrs[i],
		    &cause) != -1)
			fail_msg("\"%s\": got accepted, want refused",
			    bad_addrs[i]);
		assert_non_null(cause);
		free(cause);
		buf_free(&b);
	}
}

/* --- body encodings ----------------------------------------------------- */

struct qp_case {
	const char	*name;
	const char	*in;
	const char	*want;		/* NULL: round trip only */
};

static const struct qp_case qp_cases[] = {
	{ "plain", "hello world", "hello world" },
	{ "crlf", "a\r\nb\r\n", "a\r\nb\r\n" },
	{ "equals", "a=b", "a=3Db" },
	{ "trailing space", "a \r\nb\t\r\nc ", "a=20\r\nb=09\r\nc=20" },
	{ "dot", ".\r\n..x", "=2E\r\n=2E.x" },
	{ "from", "From here\r\nFrom", "=46rom here\r\nFrom" },
	{ "utf-8", "\xc5\xb4yl", "=C5=B4yl" },
	{ "controls", "a\x01\x7f" "b\rc", "a=01=7Fb=0Dc" },
	{ "76", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaa" },
	{ "77", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaa",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaa=\r\naa" },
	{ "space at break", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaa b", NULL },
	{ "dot after break", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaa.b", NULL },
	{ "welsh", "Croeso i\xe2\x80\x99r cylchlythyr \xe2\x80\x93 "
	  "\xc5\xb4yl! Croeso i\xe2\x80\x99r cylchlythyr \xe2\x80\x93 "
	  "\xc5\xb4yl! Croeso i\xe2\x80\x99r cylchlythyr\r\n", NULL },
	{ "empty", "", "" },
};

static void
check_qp(const char *name, const char *in, size_t len)
{
	struct buf	enc, dec;
	size_t		i;

	buf_init(&enc, 0);
	buf_init(&dec, 0);
	assert_int_equal(mime_qp_encode(&enc, in, len), 0);
	buf_add(&enc, "", 0);
	if (mime_qp_len(in, len) != enc.len)
		fail_msg("%s: mime_qp_len got %zu, want %zu", name,
		    mime_qp_len(in, len), enc.len);
	for (i = 0; i < enc.len; i++) {
		if (enc.data[i] == '\r' && enc.data[i + 1] == '\n' && i > 0 &&
		    (enc.data[i - 1] == ' ' || enc.data[i - 1] == '\t'))
			fail_msg("%s: trailing whitespace in %s", name,
			    enc.data);
		if (enc.data[i] == '.' && (i == 0 || enc.data[i - 1] == '\n'))
			fail_msg("%s: line starts with a dot", name);
	}
	if (enc.len > 0 && enc.data[enc.len - 1] != '\n') {
		/* the last line has no CRLF when the input had none */
		buf_add(&enc, "\r\n", 2);
		if (!check_lines(name, enc.data, enc.len, 76))
			fail_msg("%s: got %s", name, enc.data);
		enc.len -= 2;
		enc.data[enc.len] = '\0';
	} else if (!check_lines(name, enc.data, enc.len, 76))
		fail_msg("%s: got %s", name, enc.data);
	buf_add(&dec, "", 0);
	if (!qp_decode(&dec, enc.data, enc.len))
		fail_msg("%s: bad quoted-printable %s", name, enc.data);
	if (dec.len != len || memcmp(dec.data, in, len) != 0)
		fail_msg("%s: round trip got \"%s\", want \"%.*s\"", name,
		    dec.data, (int)len, in);
	buf_free(&enc);
	buf_free(&dec);
}

static void
test_qp(void **state)
{
	const struct qp_case	*c;
	struct buf		 b;
	char			 bin[512];
	size_t			 i;

	for (i = 0; i < sizeof qp_cases / sizeof qp_cases[0]; i++) {
		c = &qp_cases[i];
		check_qp(c->name, c->in, strlen(c->in));
		if (c->want == NULL)
			continue;
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		mime_qp_encode(&b, c->in, strlen(c->in));
		assert_str_eq_msg(c->name, b.data, c->want);
		buf_free(&b);
	}
	/* Every byte value, with CRLF pairs and long lines. */
	for (i = 0; i < sizeof bin; i++)
		bin[i] = (char)(i * 7 + 3);
	/* A lone LF is a line break (it would come back as CRLF). */
	for (i = 0; i < sizeof bin; i++) {
		if (bin[i] == '\n')
			bin[i] = 'n';
	}
	for (i = 100; i < sizeof bin; i += 90) {
		bin[i] = '\r';
		bin[i + 1] = '\n';
	}
	check_qp("binary", bin, sizeof bin);
	/* LF alone is a hard break too, and comes out as CRLF. */
	buf_init(&b, 0);
	buf_add(&b, "", 0);
	mime_qp_encode(&b, "a \nb", 4);
	assert_str_eq_msg("lf", b.data, "a=20\r\nb");
	buf_free(&b);
}

struct b64_case {
	const char	*in;
	const char	*want;
};

static const struct b64_case b64_cases[] = {	/* RFC 4648 section 10 */
	{ "", "" }, { "f", "Zg==\r\n" }, { "fo", "Zm8=\r\n" },
	{ "foo", "Zm9v\r\n" }, { "foob", "Zm9vYg==\r\n" },
	{ "fooba", "Zm9vYmE=\r\n" }, { "foobar", "Zm9vYmFy\r\n" },
};

static void
test_base64(void **state)
{
	struct buf	b, dec;
	char		bin[1000];
	size_t		i, n;

	for (i = 0; i < sizeof b64_cases / sizeof b64_cases[0]; i++) {
		buf_init(&b, 0);
		buf_add(&b, "", 0);
		assert_int_equal(mime_base64_encode(&b, b64_cases[i].in,
		    strlen(b64_cases[i].in)), 0);
		assert_str_eq_msg(b64_cases[i].in, b.data, b64_cases[i].want);
		assert_int_equal(mime_base64_len(strlen(b64_cases[i].in)),
		    b.len);
		buf_free(&b);
	}
	for (i = 0; i < sizeof bin; i++)
		bin[i] = (char)(i * 13 + 1);
	for (n = 0; n <= sizeof bin; n += 37) {
		buf_init(&b, 0);
		buf_init(&dec, 0);
		buf_add(&b, "", 0);
		buf_add(&dec, "", 0);
		mime_base64_encode(&b, bin, n);
		if (!check_lines("base64", b.data, b.len, 76))
			fail();
		assert_int_equal(mime_base64_len(n), b.len);
		assert_true(b64_decode(&dec, b.data, b.len));
		if (dec.len != n || memcmp(dec.data, bin, n) != 0)
			fail_msg("base64 round trip of %zu bytes", n);
		buf_free(&b);
		buf_free(&dec);
	}
}

struct cte_case {
	const char	*name;
	const char	*in;
	enum mime_cte	 want;
};

static const struct cte_case cte_cases[] = {
	{ "ascii", "Hello\r\nworld\r\n", MIME_CTE_7BIT },
	{ "empty", "", MIME_CTE_7BIT },
	{ "mostly ascii", "Croeso i\xe2\x80\x99r cylchlythyr, and a lot of "
	  "English words after it so that QP wins.\r\n", MIME_CTE_QP },
	{ "mostly utf-8", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 "
	  "\xd0\xbc\xd0\xb8\xd1\x80 \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5"
	  "\xd1\x82\r\n", MIME_CTE_BASE64 },
	{ "bare lf", "a\nb\r\n", MIME_CTE_QP },
	{ "escape", "a\x1b[0m\r\n", MIME_CTE_QP },
};

static void
test_text_cte(void **state)
{
	char	*longline;
	size_t	 i;

	for (i = 0; i < sizeof cte_cases / sizeof cte_cases[0]; i++) {
		if (mime_text_cte(cte_cases[i].in, strlen(cte_cases[i].in)) !=
		    cte_cases[i].want)
			fail_msg("%s: got %s, want %s", cte_cases[i].name,
			    mime_cte_name(mime_text_cte(cte_cases[i].in,
			    strlen(cte_cases[i].in))),
			    mime_cte_name(cte_cases[i].want));
	}
	longline = malloc(1200);
	memset(longline, 'a', 998);
	assert_int_equal(mime_text_cte(longline, 998), MIME_CTE_7BIT);
	memset(longline, 'a', 1200);
	assert_int_equal(mime_text_cte(longline, 999), MIME_CTE_QP);
	free(longline);
}

/* --- header values that go on one line --------------------------------- */

/*
 * Where a value stops fitting on its line "Name: value" (78 octets), and
 * values that look plain but are not (spaces at an end or doubled, "=?",
 * a TAB): the builder copies a plain value that fits whole, and these pin
 * that it writes what folding would.
 */
enum line_kind { LINE_FOLD, LINE_TEXT, LINE_ADDR };

static const struct {
	enum line_kind	 kind;
	const char	*in;		/* LINE_ADDR: the display name */
	const char	*want;
} line_cases[] = {
	{ LINE_FOLD, "abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd", "Subject: abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd abcd abcd abcd abcd\r\n" },
	{ LINE_FOLD, "abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcdz", "Subject: abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd abcd abcd abcd\r\n abcdz\r\n" },
	{ LINE_FOLD, "abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd a", "Subject: abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd abcd abcd abcd abcd\r\n a\r\n" },
	{ LINE_TEXT, "abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd", "Subject: abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd abcd abcd abcd abcd\r\n" },
	{ LINE_TEXT, "abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcdz", "Subject: abcd abcd abcd abcd abcd abcd abcd "
	  "abcd abcd abcd abcd abcd abcd\r\n abcdz\r\n" },
	{ LINE_FOLD, " lead", "Subject: lead\r\n" },
	{ LINE_FOLD, "trail ", "Subject: trail\r\n" },
	{ LINE_FOLD, "two  spaces", "Subject: two  spaces\r\n" },
	{ LINE_FOLD, "a=?b", "Subject: a=?b\r\n" },
	{ LINE_FOLD, "tab\there", "Subject: tab here\r\n" },
	{ LINE_FOLD, "", "Subject:\r\n" },
	{ LINE_TEXT, " lead", "Subject: lead\r\n" },
	{ LINE_TEXT, "trail ", "Subject: trail\r\n" },
	{ LINE_TEXT, "two  spaces", "Subject: two  spaces\r\n" },
	{ LINE_TEXT, "a=?b", "Subject: =?UTF-8?Q?a=3D=3Fb?=\r\n" },
	{ LINE_TEXT, "a=b?c", "Subject: a=b?c\r\n" },
	{ LINE_TEXT, "tab\there", "Subject: tab here\r\n" },
	{ LINE_TEXT, "", "Subject:\r\n" },
	{ LINE_ADDR, NULL, "To: reader@example.net\r\n" },
	{ LINE_ADDR, "", "To: reader@example.net\r\n" },
	{ LINE_ADDR, "Reader One", "To: Reader One <reader@example.net>\r\n" },
	{ LINE_ADDR, "O'Brien, Pat",
	  "To: \"O'Brien, Pat\" <reader@example.net>\r\n" },
	{ LINE_ADDR, "Say \"hi\" \\ there",
	  "To: \"Say \\\"hi\\\" \\\\ there\" <reader@example.net>\r\n" },
	{ LINE_ADDR, "  lead", "To: lead <reader@example.net>\r\n" },
	{ LINE_ADDR, "a  b", "To: a  b <reader@example.net>\r\n" },
	{ LINE_ADDR, "=?x?=",
	  "To: =?UTF-8?B?PT94Pz0=?= <reader@example.net>\r\n" },
	{ LINE_ADDR, "Someone With A Name Exactly Long Enough To Fit In Ful",
	  "To: Someone With A Name Exactly Long Enough To Fit In Ful "
	  "<reader@example.net>\r\n" },
	{ LINE_ADDR, "Someone With A Name Exactly Long Enough To Fit In Full",
	  "To: Someone With A Name Exactly Long Enough To Fit In Full\r\n"
	  " <reader@example.net>\r\n" },
	{ LINE_ADDR, "Someone, With A Name Exactly Long Enough To Fit In",
	  "To: \"Someone, With A Name Exactly Long Enough To Fit In\" "
	  "<reader@example.net>\r\n" },
	{ LINE_ADDR, "Someone, With A Name Exactly Long Enough To Fit In F",
	  "To: \"Someone, With A Name Exactly Long Enough To Fit In F\"\r\n"
	  " <reader@example.net>\r\n" },
};

static void
test_one_line(void **state)
{
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;
	int		 rc = 0;

	for (i = 0; i < sizeof line_cases / sizeof line_cases[0]; i++) {
		buf_init(&b, 0);
		switch (line_cases[i].kind) {
		case LINE_FOLD:
			rc = mime_header_fold(&b, "Subject", line_cases[i].in);
			break;
		case LINE_TEXT:
			rc = mime_header_text(&b, "Subject", line_cases[i].in);
			break;
		case LINE_ADDR:
			rc = mime_header_address(&b, "To", line_cases[i].in,
			    "reader@example.net", &cause);
			break;
		}
		assert_int_equal(rc, 0);
		assert_str_eq_msg(line_cases[i].in != NULL ?
		    line_cases[i].in : "(null)", b.data, line_cases[i].want);
		buf_free(&b);
	}
}

/* --- text parts, byte by byte --------------------------------------------- */

/*
 * What a text part carries, worked out the slow way: a CRLF, a lone CR
 * and a lone LF each become CRLF, a byte that does not start a valid
 * UTF-8 character (as utf8_decode() has it) becomes U+FFFD, and a CRLF
 * ends it unless it is empty.
 */
static void
normalise_ref(struct buf *out, const char *s, size_t len)
{
	uint32_t	cp;
	size_t		i = 0;
	int		n;

	buf_reset(out);
	buf_add(out, "", 0);
	while (i < len) {
		if (s[i] == '\r' || s[i] == '\n') {
			buf_add(out, "\r\n", 2);
			i += s[i] == '\r' && i + 1 < len && s[i + 1] == '\n' ?
			    2 : 1;
		} else if ((unsigned char)s[i] < 0x80)
			buf_addc(out, s[i++]);
		else if ((n = utf8_decode(s + i, len - i, &cp)) > 0) {
			buf_add(out, s + i, (size_t)n);
			i += (size_t)n;
		} else {
			buf_add(out, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_add(out, "\r\n", 2);
}

/*
 * Send text as the one part of a message from m (reset first) and check
 * that its body decodes to normalise_ref()'s, in the encoding
 * mime_text_cte() picks for that.
 */
static void
check_part(struct mime_msg *m, const char *what, const char *text)
{
	struct buf	 msg, ref, dec;
	const char	*body, *cte;
	char		*cause = NULL;
	enum mime_cte	 want;
	int		 ok;

	mime_msg_reset(m);
	mime_msg_address(m, "From", NULL, "news@example.org");
	mime_msg_header_raw(m, "Date", "Tue, 3 Mar 2026 14:05:09 +0000");
	mime_msg_header_raw(m, "Message-ID", "<part@example.org>");
	mime_msg_text(m, text);
	buf_init(&msg, 0);
	if (mime_msg_write(m, &msg, &cause) != 0)
		fail_msg("%s: %s", what, cause);
	if (!check_lines(what, msg.data, msg.len, MIME_LINE_MAX))
		fail_msg("%s", what);

	buf_init(&ref, 0);
	normalise_ref(&ref, text, strlen(text));
	want = mime_text_cte(ref.data, ref.len);
	cte = strstr(msg.data, "Content-Transfer-Encoding: ");
	body = strstr(msg.data, "\r\n\r\n");
	assert_non_null(cte);
	assert_non_null(body);
	cte += strlen("Content-Transfer-Encoding: ");
	body += 4;
	if (strncmp(cte, mime_cte_name(want), strlen(mime_cte_name(want))) !=
	    0 || cte[strlen(mime_cte_name(want))] != '\r')
		fail_msg("%s: got encoding %.20s, want %s", what, cte,
		    mime_cte_name(want));

	buf_init(&dec, 0);
	buf_add(&dec, "", 0);
	switch (want) {
	case MIME_CTE_QP:
		ok = qp_decode(&dec, body, strlen(body));
		break;
	case MIME_CTE_BASE64:
		ok = b64_decode(&dec, body, strlen(body));
		break;
	default:
		ok = buf_addstr(&dec, body) == 0;
		break;
	}
	if (!ok)
		fail_msg("%s: the body does not decode", what);
	if (dec.len != ref.len || memcmp(dec.data, ref.data, ref.len) != 0) {
		print_error("%s: got %zu bytes, want %zu:\n  got  \"%.80s\"\n"
		    "  want \"%.80s\"\n", what, dec.len, ref.len, dec.data,
		    ref.data);
		fail();
	}
	buf_free(&msg);
	buf_free(&ref);
	buf_free(&dec);
}

static uint64_t
part_random(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
test_text_parts(void **state)
{
	static const char *const bits[] = {
		"a", "Dear reader, ", "the quick brown fox ", " ", "\t",
		"\n", "\r\n", "\r", "\r\r\n", "\n\n", ".", "From ", "=",
		"\x01", "\x7f", "\xc3\xa9", "\xe2\x80\x94", "\xf0\x9f\x98\x80",
		"\xff", "\xc3", "\xe0\x80\x80", "\xed\xa0\x80",
		"\xc3\xa9\xc3\xa9",
		"0123456789abcdef", "<p>", "&amp;",
	};
	struct mime_msg	*m;
	struct buf	 t;
	char		 what[64];
	uint64_t	 x = 88172645463325252ULL;
	size_t		 i, j, n, len;

	(void)state;
	m = mime_msg_new();

	/* Step 1: line ends, characters and runs across 16-byte blocks. */
	for (len = 0; len <= 40; len++) {
		for (j = 0; j < sizeof bits / sizeof bits[0]; j++) {
			buf_init(&t, 0);
			for (i = 0; i < len; i++)
				buf_addc(&t, (char)('a' + i % 26));
			buf_addstr(&t, bits[j]);
			buf_addstr(&t, "tail");
			snprintf(what, sizeof what, "%zu, then piece %zu", len,
			    j);
			check_part(m, what, t.data);
			buf_free(&t);
		}
	}

	/* Step 2: what grows most (all invalid; all line ends), long lines. */
	buf_init(&t, 0);
	for (i = 0; i < 3000; i++)
		buf_addc(&t, '\xff');
	check_part(m, "3000 invalid bytes", t.data);
	buf_reset(&t);
	for (i = 0; i < 3000; i++)
		buf_addc(&t, i % 2 ? '\r' : '\n');
	check_part(m, "3000 line ends", t.data);
	for (n = 997; n <= 1000; n++) {
		buf_reset(&t);
		for (i = 0; i < n; i++)
			buf_addc(&t, 'x');
		buf_addstr(&t, "\nshort\n");
		snprintf(what, sizeof what, "a line of %zu", n);
		check_part(m, what, t.data);
	}
	check_part(m, "empty", "");
	check_part(m, "no final line end", "abc");
	buf_free(&t);

	/* Step 3: random texts of those pieces. */
	for (n = 0; n < 300; n++) {
		buf_init(&t, 0);
		buf_add(&t, "", 0);
		len = part_random(&x) % 3000;
		while (t.len < len) {
			if (part_random(&x) % 4 == 0)
				buf_addstr(&t, "The network brings analysts "
				    "together. ");
			else
				buf_addstr(&t, bits[part_random(&x) %
				    (sizeof bits / sizeof bits[0])]);
		}
		snprintf(what, sizeof what, "random text %zu", n);
		check_part(m, what, t.data);
		buf_free(&t);
	}
	mime_msg_free(m);
}

/* --- identifiers -------------------------------------------------------- */

struct date_case {
	const char	*tz;
	time_t		 t;
	const char	*want;
};

static const struct date_case date_cases[] = {
	{ "UTC0", 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
	{ "UTC0", 1772546709, "Tue, 3 Mar 2026 14:05:09 +0000" },
	{ "BST-1", 1772546709, "Tue, 3 Mar 2026 15:05:09 +0100" },
	{ "IST-5:30", 1772546709, "Tue, 3 Mar 2026 19:35:09 +0530" },
	{ "EST5", 1772546709, "Tue, 3 Mar 2026 09:05:09 -0500" },
	{ "NST3:30", 1772546709, "Tue, 3 Mar 2026 10:35:09 -0330" },
};

static void
test_date(void **state)
{
	char	*old, *got;
	size_t	 i;

	old = getenv("TZ") != NULL ? strdup(getenv("TZ")) : NULL;
	for (i = 0; i < sizeof date_cases / sizeof date_cases[0]; i++) {
		setenv("TZ", date_cases[i].tz, 1);
		tzset();
		got = mime_date(date_cases[i].t);
		assert_str_eq_msg(date_cases[i].tz, got, date_cases[i].want);
		free(got);
	}
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
}

static void
test_message_id(void **state)
{
	char	*ids[200], *id;
	size_t	 i, j;

	for (i = 0; i < 200; i++) {
		ids[i] = mime_message_id("lists.example.org");
		id = ids[i];
		if (id[0] != '<' || id[strlen(id) - 1] != '>' ||
		    strstr(id, "@lists.example.org>") == NULL ||
		    strchr(id, '.') == NULL || strlen(id) < 40)
			fail_msg("got %s", id);
		for (j = 0; j < i; j++) {
			if (strcmp(ids[i], ids[j]) == 0)
				fail_msg("%s twice", id);
		}
	}
	for (i = 0; i < 200; i++)
		free(ids[i]);
	id = mime_message_id("bad domain\r\nX: y");
	if (strstr(id, "@postroom.invalid>") == NULL)
		fail_msg("got %s, want @postroom.invalid", id);
	free(id);
	id = mime_message_id(NULL);
	if (strstr(id, "@postroom.invalid>") == NULL)
		fail_msg("got %s, want @postroom.invalid", id);
	free(id);
}

/* --- whole messages ----------------------------------------------------- */

static const char welsh_subj[] =
    "Croeso i\xe2\x80\x99r cylchlythyr \xe2\x80\x93 \xc5\xb4yl";
static const char polish[] =
    "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 g\xc4\x99\xc5\x9bl\xc4\x85 "
    "ja\xc5\xba\xc5\x84";
static const char emoji_subj[] =
    "\xf0\x9f\x8e\x89 Launch \xf0\x9f\x9a\x80 day \xe2\x80\x94 celebrate "
    "with \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb analysts from "
    "every ICS \xf0\x9f\x8c\x8d\xf0\x9f\x8c\x8e\xf0\x9f\x8c\x8f";
static const char original_lf[] =
    "From: Enquirer <someone@example.net>\n"
    "To: enquiries@example.org\n"
    "Subject: =?UTF-8?Q?Cwrs_=C5=B4yl?=\n"
    "Date: Mon, 2 Mar 2026 09:00:00 +0000\n"
    "Message-ID: <orig-1@example.net>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Helo, hoffwn ymuno \xe2\x80\x93 diolch.\n"
    "--=_alt_ a line that looks like a boundary\n";

struct msg_case {
	const char	*name;
	const char	*subject;
	const char	*want_subject;	/* decoded; NULL: same */
	const char	*to_name;
	const char	*want_to_name;	/* decoded; NULL: same */
	const char	*text;		/* NULL: none */
	const char	*want_text;	/* decoded, LF; NULL: same as text */
	const char	*html;		/* NULL: none */
	int		 attach;	/* 1: original_lf, 2: with a NUL */
	const char	*want_type;	/* top-level Content-Type prefix */
};

static char	long_text[6000];

static const struct msg_case msg_cases[] = {
	{ "ascii", "Monthly newsletter: March", NULL, "Alice Example", NULL,
	  "Hello Alice,\n\nThe March newsletter is here.\n", NULL, NULL, 0,
	  "Content-Type: text/plain" },
	{ "welsh", welsh_subj, NULL, "Si\xc3\xa2n \xc5\xb4yn", NULL,
	  "Annwyl Si\xc3\xa2n,\r\nCroeso i\xe2\x80\x99r cylchlythyr.\r\n", NULL,
	  "<p>Croeso i\xe2\x80\x99r cylchlythyr.</p>", 0,
	  "Content-Type: multipart/alternative" },
	{ "polish", polish, NULL, polish, NULL,
	  "Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 g\xc4\x99\xc5\x9bl\xc4\x85 "
	  "ja\xc5\xba\xc5\x84\nno final newline", "Za\xc5\xbc\xc3\xb3\xc5\x82"
	  "\xc4\x87 g\xc4\x99\xc5\x9bl\xc4\x85 ja\xc5\xba\xc5\x84\nno final "
	  "newline\n", NULL, 0, "Content-Type: text/plain" },
	{ "emoji", emoji_subj, NULL, "Emoji \xf0\x9f\x98\x80 Person", NULL,
	  "\xf0\x9f\x8e\x89\n", NULL, NULL, 0, "Content-Type: text/plain" },
	{ "hostile", "Hello\r\nBcc: evil@example.net", "Hello Bcc: "
	  "evil@example.net", "Bob \"the builder\", Jr. <x@y>\r\nCc: z@z",
	  "Bob \"the builder\", Jr. <x@y> Cc: z@z",
	  "line one\rline two\n.\n.leading dot\nFrom the start\n"
	  "trailing space \n", "line one\nline two\n.\n.leading dot\n"
	  "From the start\ntrailing space \n", NULL, 0,
	  "Content-Type: text/plain" },
	{ "forward", "Fwd: Cwrs \xc5\xb4yl", NULL, "Training Lead", NULL,
	  "Forwarded enquiry, reference MDSN-2026-0042.\n", NULL,
	  "<p>Forwarded enquiry.</p>", 1, "Content-Type: multipart/mixed" },
	{ "forward binary", "Fwd: odd", NULL, "General", NULL,
	  "See attached.\n", NULL, NULL, 2, "Content-Type: multipart/mixed" },
	{ "long lines", "A very long subject line that goes on and on about "
	  "the regional analytical programme and its many large projects, "
	  "its regional and ICS reports, its published code and how to "
	  "replicate an analysis", NULL, "X", NULL, long_text, NULL,
	  long_text, 0, "Content-Type: multipart/alternative" },
	{ "long names", "See https://example.org/newsletters/2026/03/the-"
	  "march-issue-of-the-newsletter.html today", NULL,
	  "Enquiries, The Midlands Decision Support Network (West Midlands "
	  "office) \"quoted\"", NULL, "x\n", NULL, NULL, 0,
	  "Content-Type: text/plain" },
	{ "html only", "HTML", NULL, NULL, "", NULL, NULL,
	  "<p>Only HTML</p>\n", 0, "Content-Type: text/html" },
	{ "nothing", "Empty", NULL, "Nobody", NULL, NULL, "", NULL, 0,
	  "Content-Type: text/plain" },
};

static void
build_msg(const struct msg_case *c, struct buf *out)
{
	struct mime_msg	*m;
	char		*cause = NULL;
	char		 orig[200];

	m = mime_msg_new();
	mime_msg_address(m, "From", "Midlands DSN", "news@example.org");
	mime_msg_address(m, "To", c->to_name, "someone@example.net");
	mime_msg_header(m, "Subject", c->subject);
	mime_msg_header_raw(m, "List-Unsubscribe",
	    "<https://example.org/u/0123456789abcdef0123456789abcdef>, "
	    "<mailto:unsubscribe@example.org>");
	mime_msg_header_raw(m, "List-Unsubscribe-Post",
	    "List-Unsubscribe=One-Click");
	if (c->text != NULL)
		mime_msg_text(m, c->text);
	if (c->html != NULL)
		mime_msg_html(m, c->html);
	if (c->attach == 1)
		mime_msg_attach_rfc822(m, original_lf, strlen(original_lf));
	if (c->attach == 2) {
		memcpy(orig, "Subject: x\r\n\r\nnul:\0:end\r\n", 26);
		mime_msg_attach_rfc822(m, orig, 26);
	}
	if (mime_msg_write(m, out, &cause) != 0)
		fail_msg("%s: %s", c->name, cause);
	mime_msg_free(m);
}

/* The boundary parameters, and that they occur only as delimiter lines. */
static void
check_boundaries(const char *name, const char *s)
{
	const char	*p, *q, *hit;
	char		 bnd[80];
	size_t		 n;

	for (p = s; (p = strstr(p, "boundary=\"")) != NULL; p = q) {
		p += 10;
		q = strchr(p, '"');
		assert_non_null(q);
		n = (size_t)(q - p);
		assert_true(n > 0 && n <= 70);
		snprintf(bnd, sizeof bnd, "%.*s", (int)n, p);
		for (hit = s; (hit = strstr(hit, bnd)) != NULL; hit += n) {
			if (hit == p)
				continue;
			if (hit < s + 4 || strncmp(hit - 4, "\r\n--", 4) != 0)
				fail_msg("%s: boundary %s inside content",
				    name, bnd);
			if (strncmp(hit + n, "\r\n", 2) != 0 &&
			    strncmp(hit + n, "--", 2) != 0)
				fail_msg("%s: boundary %s inside content",
				    name, bnd);
		}
	}
}

/* The header block: up to the first empty line. */
static size_t
header_len(const char *s)
{
	const char	*e = strstr(s, "\r\n\r\n");

	return e != NULL ? (size_t)(e - s) + 2 : strlen(s);
}

static int
count_header(const char *s, size_t hlen, const char *name)
{
	size_t	i, n = strlen(name);
	int	count = 0;

	for (i = 0; i < hlen; i++) {
		if ((i == 0 || s[i - 1] == '\n') &&
		    strncasecmp(s + i, name, n) == 0 && s[i + n] == ':')
			count++;
	}
	return count;
}

static void
test_messages(void **state)
{
	const struct msg_case	*c;
	struct buf		 b;
	size_t			 i, hlen;
	static const char *const once[] = {
		"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
		"Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post",
	};
	size_t			 j;

	for (i = 0; i < sizeof msg_cases / sizeof msg_cases[0]; i++) {
		c = &msg_cases[i];
		buf_init(&b, 0);
		build_msg(c, &b);
		if (!check_lines(c->name, b.data, b.len, MIME_LINE_MAX))
			fail_msg("%s", c->name);
		hlen = header_len(b.data);
		/* The top-level header: no injected fields, each once. */
		if (!check_lines(c->name, b.data, hlen, MIME_LINE_SOFT))
			fail_msg("%s: header line over 78: %.*s", c->name,
			    (int)hlen, b.data);
		assert_int_equal(count_fields(b.data, hlen), 9 +
		    (c->attach == 0 && !(c->text && c->html)));
		for (j = 0; j < sizeof once / sizeof once[0]; j++) {
			if (count_header(b.data, hlen, once[j]) != 1)
				fail_msg("%s: %s %d times", c->name, once[j],
				    count_header(b.data, hlen, once[j]));
		}
		assert_int_equal(count_header(b.data, hlen, "Bcc"), 0);
		assert_int_equal(count_header(b.data, hlen, "Cc"), 0);
		if (strstr(b.data, c->want_type) == NULL)
			fail_msg("%s: no %s", c->name, c->want_type);
		check_boundaries(c->name, b.data);
		buf_free(&b);
	}
}

static void
test_message_rfc822(void **state)
{
	struct mime_msg	*m;
	struct buf	 b, want;
	const char	*p;
	char		*cause;
	size_t		 i;

	/* LF becomes CRLF and nothing else changes; 8-bit body: 8bit. */
	buf_init(&b, 0);
	buf_init(&want, 0);
	for (i = 0; original_lf[i] != '\0'; i++) {
		if (original_lf[i] == '\n')
			buf_addc(&want, '\r');
		buf_addc(&want, original_lf[i]);
	}
	m = mime_msg_new();
	mime_msg_address(m, "From", NULL, "postroom@example.org");
	mime_msg_address(m, "To", "Lead", "lead@example.org");
	mime_msg_address(m, "Reply-To", "Enquirer", "someone@example.net");
	mime_msg_text(m, "fwd\n");
	mime_msg_attach_rfc822(m, original_lf, strlen(original_lf));
	assert_int_equal(mime_msg_write(m, &b, &cause), 0);
	p = strstr(b.data, "Content-Type: message/rfc822\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n");
	assert_non_null(p);
	p = strstr(p, "\r\n\r\n");
	assert_non_null(p);
	p += 4;
	if (strncmp(p, want.data, want.len) != 0)
		fail_msg("attached message changed: got %.*s", (int)want.len,
		    p);
	assert_memory_equal(p + want.len, "\r\n--=_mix_", 10);
	/* Message-ID uses the From domain. */
	assert_non_null(strstr(b.data, "@example.org>\r\n"));
	mime_msg_free(m);
	buf_free(&b);
	buf_free(&want);

	/* A line over 998 octets: application/octet-stream, byte for byte. */
	{
		char	*orig = malloc(1200);
		struct buf dec;

		memcpy(orig, "Subject: x\r\n\r\n", 14);
		memset(orig + 14, 'z', 1100);
		memcpy(orig + 1114, "\r\n", 2);
		m = mime_msg_new();
		mime_msg_address(m, "From", NULL, "postroom@example.org");
		mime_msg_attach_rfc822(m, orig, 1116);
		buf_init(&b, 0);
		assert_int_equal(mime_msg_write(m, &b, &cause), 0);
		p = strstr(b.data, "Content-Type: application/octet-stream;"
		    " name=\"original.eml\"\r\nContent-Transfer-Encoding: "
		    "base64\r\n");
		assert_non_null(p);
		p = strstr(p, "\r\n\r\n") + 4;
		buf_init(&dec, 0);
		buf_add(&dec, "", 0);
		assert_true(b64_decode(&dec, p, (size_t)(strstr(p, "\r\n--") -
		    p)));
		assert_int_equal(dec.len, 1116);
		assert_memory_equal(dec.data, orig, 1116);
		if (!check_lines("long original", b.data, b.len, 998))
			fail();
		buf_free(&dec);
		buf_free(&b);
		mime_msg_free(m);
		free(orig);
	}
}

struct err_case {
	const char	*name;
	const char	*hname;
	const char	*value;
	int		 raw;		/* 2: an address */
	const char	*want;		/* in the cause */
};

static const struct err_case err_cases[] = {
	{ "content-type", "Content-Type", "text/plain", 1, "builder" },
	{ "mime-version", "mime-version", "1.0", 0, "builder" },
	{ "colon", "X-Bad:", "v", 0, "header name" },
	{ "space", "X Bad", "v", 0, "header name" },
	{ "crlf name", "X-Bad\r\nBcc", "v", 0, "header name" },
	{ "empty name", "", "v", 0, "header name" },
	{ "raw 8-bit", "List-Id", "Rhestr \xc5\xb4yl <x.example.org>", 1,
	  "not ASCII" },
	{ "bad address", "To", "bob", 2, "local@domain" },
	{ "idn address", "To", "a@\xc3\xa9t\xc3\xa9.example", 2, "ASCII" },
};

static void
test_errors(void **state)
{
	const struct err_case	*c;
	struct mime_msg		*m;
	struct buf		 b;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
		c = &err_cases[i];
		m = mime_msg_new();
		mime_msg_address(m, "From", NULL, "a@example.org");
		if (c->raw == 2)
			mime_msg_address(m, c->hname, "X", c->value);
		else if (c->raw)
			mime_msg_header_raw(m, c->hname, c->value);
		else
			mime_msg_header(m, c->hname, c->value);
		mime_msg_text(m, "x");
		buf_init(&b, 0);
		cause = NULL;
		if (mime_msg_write(m, &b, &cause) != -1)
			fail_msg("%s: got written, want refused", c->name);
		if (cause == NULL || strstr(cause, c->want) == NULL)
			fail_msg("%s: got cause \"%s\", want \"%s\"", c->name,
			    cause ? cause : "(null)", c->want);
		free(cause);
		buf_free(&b);
		mime_msg_free(m);
	}

	/* Past the buffer's cap: -1 and a cause, not a crash. */
	m = mime_msg_new();
	mime_msg_address(m, "From", NULL, "a@example.org");
	mime_msg_text(m, long_text);
	buf_init(&b, 1000);
	cause = NULL;
	assert_int_equal(mime_msg_write(m, &b, &cause), -1);
	assert_non_null(cause);
	free(cause);
	buf_free(&b);
	mime_msg_free(m);
}

static void
test_caller_ids(void **state)
{
	struct mime_msg	*m;
	struct buf	 b;
	char		*cause;
	size_t		 hlen;

	m = mime_msg_new();
	mime_msg_address(m, "From", "A", "a@example.org");
	mime_msg_address(m, "To", "B", "b@example.org");
	mime_msg_address(m, "To", "C, D", "c@example.org");
	mime_msg_header_raw(m, "Message-ID", "<fixed@example.org>");
	mime_msg_header_raw(m, "date", "Tue, 3 Mar 2026 14:05:09 +0000");
	mime_msg_header_raw(m, "Auto-Submitted", "auto-replied");
	mime_msg_text(m, "ack\n");
	buf_init(&b, 0);
	assert_int_equal(mime_msg_write(m, &b, &cause), 0);
	hlen = header_len(b.data);
	assert_int_equal(count_header(b.data, hlen, "Message-ID"), 1);
	assert_int_equal(count_header(b.data, hlen, "Date"), 1);
	assert_int_equal(count_header(b.data, hlen, "To"), 1);
	assert_non_null(strstr(b.data, "Message-ID: <fixed@example.org>\r\n"));
	assert_non_null(strstr(b.data, "To: B <b@example.org>, \"C, D\" "
	    "<c@example.org>\r\n"));
	/* written twice, the same (a Date and Message-ID were given) */
	{
		struct buf	b2;

		buf_init(&b2, 0);
		assert_int_equal(mime_msg_write(m, &b2, &cause), 0);
		assert_int_equal(b.len, b2.len);
		buf_free(&b2);
	}
	buf_free(&b);
	mime_msg_free(m);
}

/* --- a second opinion from Python's email package ----------------------- */

static int
run_checker(const char *script, const char *path, const struct msg_case *c)
{
	posix_spawn_file_actions_t	 fa;
	char				*argv[12], *text = NULL;
	const char			*t;
	size_t				 n = 0, i, o;
	pid_t				 pid;
	int				 status;

	argv[n++] = (char *)"/usr/bin/python3";
	argv[n++] = (char *)script;
	argv[n++] = (char *)"--expect-subject";
	argv[n++] = (char *)(c->want_subject ? c->want_subject : c->subject);
	if (c->to_name != NULL) {
		argv[n++] = (char *)"--expect-to-name";
		argv[n++] = (char *)(c->want_to_name ? c->want_to_name :
		    c->to_name);
	}
	if ((t = c->want_text) == NULL && c->text != NULL) {
		/* the text as it was given, with CRLF as LF */
		text = malloc(strlen(c->text) + 1);
		for (i = o = 0; c->text[i] != '\0'; i++) {
			if (c->text[i] != '\r')
				text[o++] = c->text[i];
		}
		text[o] = '\0';
		t = text;
	}
	if (t != NULL) {
		argv[n++] = (char *)"--expect-text";
		argv[n++] = (char *)t;
	}
	argv[n++] = (char *)path;
	argv[n] = NULL;

	/* The checker's complaints go to stderr, out of the TAP stream. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		free(text);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	free(text);
	while (waitpid(pid, &status, 0) == -1)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
test_python_check(void **state)
{
	const struct msg_case	*c;
	struct buf		 b;
	char			 dir[] = "/tmp/postroom-mime.XXXXXX";
	char			 path[4300], script[4300];
	FILE			*f;
	size_t			 i;
	int			 rc, failed = 0;

	if (access("/usr/bin/python3", X_OK) != 0) {
		print_message("# /usr/bin/python3 is not installed: "
		    "check-email.py not run\n");
		skip();
	}
	snprintf(script, sizeof script, "%s/tests/tools/check-email.py",
	    test_top());
	if (access(script, R_OK) != 0)
		fail_msg("%s: not found", script);
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof msg_cases / sizeof msg_cases[0]; i++) {
		c = &msg_cases[i];
		buf_init(&b, 0);
		build_msg(c, &b);
		snprintf(path, sizeof path, "%s/%zu.eml", dir, i);
		assert_non_null(f = fopen(path, "wb"));
		fwrite(b.data, 1, b.len, f);
		fclose(f);
		rc = run_checker(script, path, c);
		if (rc != 0) {
			print_error("%s: check-email.py exited %d\n", c->name,
			    rc);
			failed = 1;
		} else
			unlink(path);
		buf_free(&b);
	}
	if (failed)
		fail_msg("check-email.py found problems (left in %s)", dir);
	rmdir(dir);
}

/* ------------------------------------------------------------------------ */

static int
setup(void **state)
{
	size_t	i;

	/* A 1400-octet word, and text with lines of 1000 and more. */
	memset(long_word, 'w', 1400);
	long_word[1400] = '\0';
	for (i = 0; i < sizeof long_text - 1; i++)
		long_text[i] = (i % 1500 == 1499) ? '\n' :
		    (char)('a' + i % 26);
	long_text[sizeof long_text - 2] = '\n';
	long_text[sizeof long_text - 1] = '\0';
	return 0;
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_header_text),
		cmocka_unit_test(test_header_random),
		cmocka_unit_test(test_header_fold),
		cmocka_unit_test(test_header_address),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_text_cte),
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_text_parts),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_message_rfc822),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_caller_ids),
		cmocka_unit_test(test_python_check),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
