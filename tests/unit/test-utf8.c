/*
 * test-utf8.c - the UTF-8 helpers, one table per function.
 */
#include "testutil.h"

#include "buf.h"
#include "utf8.h"

/* Strings here may hold NULs, so each has an explicit length. */
struct valid_case {
	const char	*name;
	const char	*s;
	size_t		 len;
	int		 want;
};

#define S(x)	x, sizeof(x) - 1

static const struct valid_case valid_cases[] = {
	{ "empty", S(""), 1 },
	{ "ascii", S("hello"), 1 },
	{ "nul inside", S("a\0b"), 1 },
	{ "welsh", S("\xc5\xb4yl"), 1 },
	{ "euro", S("\xe2\x82\xac"), 1 },
	{ "emoji", S("\xf0\x9f\x98\x80"), 1 },
	{ "max", S("\xf4\x8f\xbf\xbf"), 1 },
	{ "lone continuation", S("\x80"), 0 },
	{ "latin-1", S("caf\xe9"), 0 },
	{ "overlong slash", S("\xc0\xaf"), 0 },
	{ "overlong 3", S("\xe0\x80\xaf"), 0 },
	{ "overlong 4", S("\xf0\x80\x80\xaf"), 0 },
	{ "surrogate", S("\xed\xa0\x80"), 0 },
	{ "above max", S("\xf4\x90\x80\x80"), 0 },
	{ "f5", S("\xf5\x80\x80\x80"), 0 },
	{ "truncated", S("\xe2\x82"), 0 },
	{ "truncated then ascii", S("\xe2\x82x"), 0 },
	{ "ff", S("\xff"), 0 },
};

static void
test_valid(void **state)
{
	const struct valid_case	*c;
	size_t			 i;

	for (i = 0; i < sizeof valid_cases / sizeof valid_cases[0]; i++) {
		c = &valid_cases[i];
		if (utf8_valid(c->s, c->len) != c->want)
			fail_msg("%s: got %d, want %d", c->name,
			    utf8_valid(c->s, c->len), c->want);
	}
	assert_true(utf8_is_ascii(S("plain ascii\r\n")));
	assert_false(utf8_is_ascii(S("\xc5\xb4")));
	assert_true(utf8_is_ascii(S("")));
}

struct decode_case {
	const char	*s;
	size_t		 len;
	int		 want_n;
	uint32_t	 want_cp;
};

static const struct decode_case decode_cases[] = {
	{ S(""), 0, UTF8_REPLACEMENT },
	{ S("A"), 1, 0x41 },
	{ S("\xc5\xb4yl"), 2, 0x174 },
	{ S("\xe2\x80\x99"), 3, 0x2019 },
	{ S("\xf0\x9f\x8e\x89"), 4, 0x1f389 },
	{ S("\xc0\xaf"), -1, UTF8_REPLACEMENT },
	{ S("\xed\xbf\xbf"), -1, UTF8_REPLACEMENT },
	{ S("\xf0\x9f\x8e"), -1, UTF8_REPLACEMENT },
	{ S("\xbf"), -1, UTF8_REPLACEMENT },
};

static void
test_decode(void **state)
{
	const struct decode_case	*c;
	uint32_t			 cp;
	size_t				 i;
	int				 n;

	for (i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
		c = &decode_cases[i];
		n = utf8_decode(c->s, c->len, &cp);
		if (n != c->want_n || cp != c->want_cp)
			fail_msg("case %zu: got %d U+%04X, want %d U+%04X",
			    i, n, (unsigned)cp, c->want_n,
			    (unsigned)c->want_cp);
	}
}

static void
test_encode(void **state)
{
	static const uint32_t	 cps[] = {
		0, 0x41, 0x7f, 0x80, 0x7ff, 0x800, 0x174, 0x2019, 0xfffd,
		0xffff, 0x10000, 0x1f389, 0x10ffff,
	};
	char			 out[4];
	uint32_t		 cp;
	size_t			 i, n;

	for (i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		n = utf8_encode(cps[i], out);
		if (n == 0 || utf8_decode(out, n, &cp) != (int)n ||
		    cp != cps[i])
			fail_msg("U+%04X: got %zu bytes back as U+%04X",
			    (unsigned)cps[i], n, (unsigned)cp);
	}
	assert_int_equal(utf8_encode(0xd800, out), 0);
	assert_int_equal(utf8_encode(0xdfff, out), 0);
	assert_int_equal(utf8_encode(0x110000, out), 0);
}

struct width_case {
	const char	*name;
	const char	*s;
	size_t		 len;
	size_t		 want;
};

static const struct width_case width_cases[] = {
	{ "empty", S(""), 0 },
	{ "ascii", S("abc"), 3 },
	{ "welsh", S("\xc5\xb4yl"), 3 },
	{ "polish", S("Za\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87"), 6 },
	{ "combining", S("e\xcc\x81"), 1 },
	{ "cjk", S("\xe6\x97\xa5\xe6\x9c\xac"), 4 },
	{ "hangul", S("\xed\x95\x9c"), 2 },
	{ "emoji", S("\xf0\x9f\x98\x80"), 2 },
	{ "controls", S("\t\r\n\x1b"), 0 },
	{ "zero width space", S("a\xe2\x80\x8b" "b"), 2 },
	{ "invalid byte", S("a\xff" "b"), 3 },
};

static void
test_width(void **state)
{
	const struct width_case	*c;
	size_t			 i;

	for (i = 0; i < sizeof width_cases / sizeof width_cases[0]; i++) {
		c = &width_cases[i];
		if (utf8_width(c->s, c->len) != c->want)
			fail_msg("%s: got %zu, want %zu", c->name,
			    utf8_width(c->s, c->len), c->want);
	}
}

struct trunc_case {
	const char	*name;
	const char	*s;
	size_t		 len;
	size_t		 max;
	size_t		 want;
};

static const struct trunc_case trunc_cases[] = {
	{ "fits", S("abc"), 10, 3 },
	{ "ascii", S("abcdef"), 4, 4 },
	{ "zero", S("abc"), 0, 0 },
	{ "before two-byte", S("\xc5\xb4yl"), 1, 0 },
	{ "after two-byte", S("\xc5\xb4yl"), 2, 2 },
	{ "inside emoji", S("x\xf0\x9f\x98\x80y"), 4, 1 },
	{ "after emoji", S("x\xf0\x9f\x98\x80y"), 5, 5 },
	{ "invalid bytes", S("\xff\xfe\xfd"), 2, 2 },
	{ "truncated sequence", S("a\xe2\x82"), 2, 2 },
};

static const struct trunc_case cols_cases[] = {
	{ "fits", S("abc"), 10, 3 },
	{ "ascii", S("abcdef"), 4, 4 },
	{ "wide", S("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 3, 3 },
	{ "wide exact", S("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 4, 6 },
	{ "combining kept", S("e\xcc\x81x"), 1, 3 },
	{ "emoji", S("ab\xf0\x9f\x98\x80"), 3, 2 },
	{ "zero", S("abc"), 0, 0 },
};

static void
test_truncate(void **state)
{
	const struct trunc_case	*c;
	size_t			 i, got;

	for (i = 0; i < sizeof trunc_cases / sizeof trunc_cases[0]; i++) {
		c = &trunc_cases[i];
		got = utf8_truncate(c->s, c->len, c->max);
		if (got != c->want)
			fail_msg("%s: got %zu, want %zu", c->name, got,
			    c->want);
	}
	for (i = 0; i < sizeof cols_cases / sizeof cols_cases[0]; i++) {
		c = &cols_cases[i];
		got = utf8_truncate_cols(c->s, c->len, c->max);
		if (got != c->want)
			fail_msg("cols %s: got %zu, want %zu", c->name, got,
			    c->want);
	}
}

struct sanitize_case {
	const char	*name;
	const char	*s;
	size_t		 len;
	const char	*want;
};

static const struct sanitize_case sanitize_cases[] = {
	{ "valid", S("Croeso i\xe2\x80\x99r"), "Croeso i\xe2\x80\x99r" },
	{ "latin-1", S("caf\xe9!"), "caf\xef\xbf\xbd!" },
	{ "two bad", S("\xff\xfe"), "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "truncated at end", S("ab\xe2\x82"), "ab\xef\xbf\xbd\xef\xbf\xbd" },
	{ "surrogate", S("\xed\xa0\x80"),
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "empty", S(""), "" },
};

static void
test_sanitize(void **state)
{
	const struct sanitize_case	*c;
	struct buf			 b;
	size_t				 i;

	for (i = 0; i < sizeof sanitize_cases / sizeof sanitize_cases[0];
	    i++) {
		c = &sanitize_cases[i];
		buf_init(&b, 0);
		assert_int_equal(utf8_sanitize(&b, c->s, c->len), 0);
		assert_str_eq_msg(c->name, b.data, c->want);
		assert_true(utf8_valid(b.data, b.len));
		buf_free(&b);
	}
	/* Past the cap: -1. */
	buf_init(&b, 4);
	assert_int_equal(utf8_sanitize(&b, S("abc\xff")), -1);
	buf_free(&b);
}

static const struct {
	const char	*in;
	const char	*want;
} fold_cases[] = {
	{ "Zoë", "zoe" },
	{ "SIÂN", "sian" },
	{ "Siân Jones", "sian jones" },
	{ "Zoe\xcc\x88", "zoe" },		/* decomposed: e + U+0308 */
	{ "Łukasz Żółw", "lukasz zolw" },
	{ "Dvořák", "dvorak" },
	{ "Straße", "strasse" },
	{ "Æthelflæd", "aethelflaed" },
	{ "Øyvind Þór", "oyvind thor" },
	{ "Gwŷn Ŵ Ẃ", "gwyn w w" },
	{ "Ștefan Țară", "stefan tara" },
	{ "Nguyễn", "nguyen" },
	{ "ΣΩΚΡΑΤΗΣ Иван", "σωκρατησ иван" },
	{ "3 × 4 ÷ 2", "3 × 4 ÷ 2" },
	{ "caf\xe9", "caf\xe9" },		/* not UTF-8: kept */
	{ "", "" },
};

static void
test_fold(void **state)
{
	char	*got;
	size_t	 i;

	for (i = 0; i < sizeof fold_cases / sizeof fold_cases[0]; i++) {
		got = utf8_fold(fold_cases[i].in, strlen(fold_cases[i].in));
		assert_str_eq_msg(fold_cases[i].in, got, fold_cases[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_width),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_fold),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
