/*
 * test-address.c - address syntax, normal form, IDN (punycode) both ways.
 *
 * Owns: the table of addresses postroom must accept (and the form it
 * stores them in) or refuse (and the reason it gives), and the display
 * form of A-label domains.  The expected A-labels were checked against
 * Python's punycode codec.
 */
#include "testutil.h"

#include "address.h"

static const struct {
	const char	*in;
	const char	*want;		/* normal form, or NULL: refused */
	const char	*why;		/* a substring of the reason */
} cases[] = {
	/* Accepted, and how they are stored. */
	{ "ann@example.org", "ann@example.org", NULL },
	{ "Ann.Smith@Example.ORG", "Ann.Smith@example.org", NULL },
	{ "  ann@example.org\t", "ann@example.org", NULL },
	{ "a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk", NULL },
	{ "o'brien@example.org", "o'brien@example.org", NULL },
	{ "x!#$%&'*+-/=?^_`{|}~y@example.org",
	  "x!#$%&'*+-/=?^_`{|}~y@example.org", NULL },
	{ "jan@żółw.pl", "jan@xn--w-uga1v8h.pl", NULL },
	{ "jan@ŻÓŁW.PL", "jan@xn--w-uga1v8h.pl", NULL },
	{ "jan@xn--w-uga1v8h.pl", "jan@xn--w-uga1v8h.pl", NULL },
	{ "jan@XN--W-UGA1V8H.PL", "jan@xn--w-uga1v8h.pl", NULL },
	{ "hans@münchen.de", "hans@xn--mnchen-3ya.de", NULL },
	{ "hans@MÜNCHEN.de", "hans@xn--mnchen-3ya.de", NULL },
	{ "ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai", NULL },
	{ "ivan@ПРИМЕР.рф", "ivan@xn--e1afmkfd.xn--p1ai", NULL },
	{ "nikos@δοκιμή.gr", "nikos@xn--jxalpdlp.gr", NULL },
	{ "taro@例え.jp", "taro@xn--r8jz45g.jp", NULL },
	{ "taro@例え。jp", "taro@xn--r8jz45g.jp", NULL },
	{ "a@1example.org", "a@1example.org", NULL },
	{ "a@ex-ample.org", "a@ex-ample.org", NULL },
	{ "a@b.c", "a@b.c", NULL },

	/* Refused, and why. */
	{ "", NULL, "empty" },
	{ "   ", NULL, "empty" },
	{ "ann.example.org", NULL, "no @" },
	{ "ann@@example.org", NULL, "more than one @" },
	{ "ann@example@org.uk", NULL, "more than one @" },
	{ "a@b@c@example.org", NULL, "more than one @" },
	{ "@example.org", NULL, "local part (before the @) is empty" },
	{ "ann@", NULL, "domain is empty" },
	{ "ann smith@example.org", NULL, "space" },
	{ "ann@exam ple.org", NULL, "space" },
	{ "ann\n@example.org", NULL, "control character" },
	{ "ann@example.org\r\nBcc: x@y.org", NULL, "control character" },
	{ "ann\x7f@example.org", NULL, "control character" },
	{ "ann@localhost", NULL, "no dot" },
	{ "ann@.example.org", NULL, "starts or ends with a dot" },
	{ "ann@example.org.", NULL, "starts or ends with a dot" },
	{ "ann@example..org", NULL, "two dots in a row" },
	{ ".ann@example.org", NULL, "local part starts or ends with a dot" },
	{ "ann.@example.org", NULL, "local part starts or ends with a dot" },
	{ "an..n@example.org", NULL, "local part has two dots in a row" },
	{ "a@-example.org", NULL, "hyphen" },
	{ "a@example-.org", NULL, "hyphen" },
	{ "a@ab--cd.org", NULL, "reserved" },
	{ "a@xn--abc.org", NULL, "cannot be in a domain" },	/* U+0082.. */
	{ "a@xn--zz.org", NULL, "not valid punycode" },
	{ "a@xn--a-.org", NULL, "hyphen" },
	{ "a@xn--a-b.org", NULL, "not valid punycode" },
	{ "a@xn--mnchen-3ya.de", "a@xn--mnchen-3ya.de", NULL },
	{ "a@xn--ls8h.org", NULL, "cannot be in a domain" },	/* emoji */
	{ "a@exa_mple.org", NULL, "cannot be in a domain" },
	{ "a@exa!mple.org", NULL, "cannot be in a domain" },
	{ "a@1.2.3.4", NULL, "all digits" },
	{ "a@[192.0.2.1]", NULL, "address literals" },
	{ "\"ann smith\"@example.org", NULL, "space" },
	{ "\"ann\"@example.org", NULL, "quoted local parts" },
	{ "ann(comment)@example.org", NULL, "not allowed" },
	{ "ann,bob@example.org", NULL, "not allowed" },
	{ "<ann@example.org>", NULL, "not allowed" },
	{ "zoë@example.org", NULL, "SMTPUTF8" },
	{ "a@ex\xc3mple.org", NULL, "UTF-8" },
	{ "a@ex\xa0mple.org", NULL, "UTF-8" },
	{ "a@exa\xc2\xa0mple.org", NULL, "cannot be in a domain" }, /* NBSP */
	{ "a@\xe2\x80\x8b" "example.org", NULL, "cannot be in a domain" },
	{ "a@" "\xcc\x81" "example.org", NULL, "combining mark" },
	/* 64 octets of local part pass, 65 do not. */
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org", NULL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "@example.org", NULL, "longer than 64" },
	/* 63 octets of label pass, 64 do not. */
	{ "a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".org",
	  "a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".org", NULL },
	{ "a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".org", NULL, "label is longer than 63" },
	/* An IDN label that is too long once encoded. */
	{ "a@一凥嗊妯嶔慹敞楃洨焍瓲磗粼股蒆衫豐逵鐚響.cn", NULL,
	  "longer than 63" },
	{ "a@一凥嗊妯嶔慹敞楃洨焍瓲磗粼股.cn",
	  "a@xn--4gqu8gq5d73ep1f60gorh5tinnj46jm7k3wllwm2in.cn", NULL },
	/* A whole address over 254 octets. */
	{ "a@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	  ".bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	  NULL, "longer than 25" },
};

static void
test_normalise(void **state)
{
	char	*out, *cause, what[512];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		out = cause = NULL;
		rc = address_normalise(cases[i].in, &out, &cause);
		snprintf(what, sizeof what, "case %zu \"%s\"", i, cases[i].in);
		if (cases[i].want != NULL) {
			if (rc != 0) {
				print_error("%s: refused (%s), want \"%s\"\n",
				    what, cause, cases[i].want);
				fail();
			}
			assert_str_eq_msg(what, out, cases[i].want);
			assert_int_equal(address_valid(cases[i].in), 1);
			/* The normal form is a fixed point. */
			free(cause);
			cause = NULL;
			free(out);
			assert_int_equal(address_normalise(cases[i].want, &out,
			    &cause), 0);
			assert_str_eq_msg(what, out, cases[i].want);
		} else {
			if (rc == 0) {
				print_error("%s: accepted as \"%s\", want "
				    "refused (%s)\n", what, out, cases[i].why);
				fail();
			}
			assert_null(out);
			assert_non_null(cause);
			if (strstr(cause, cases[i].why) == NULL) {
				print_error("%s: got reason \"%s\", want one "
				    "containing \"%s\"\n", what, cause,
				    cases[i].why);
				fail();
			}
			assert_int_equal(address_valid(cases[i].in), 0);
		}
		free(out);
		free(cause);
	}
}

static void
test_display(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} d[] = {
		{ "jan@xn--w-uga1v8h.pl", "jan@żółw.pl" },
		{ "ivan@xn--e1afmkfd.xn--p1ai", "ivan@пример.рф" },
		{ "ann@example.org", "ann@example.org" },
		{ "odd@xn--.org", "odd@xn--.org" },	/* not punycode: kept */
		{ "no-at-sign", "no-at-sign" },
	};
	char	*s;
	size_t	 i;

	for (i = 0; i < sizeof d / sizeof d[0]; i++) {
		s = address_display(d[i].in);
		assert_str_eq_msg(d[i].in, s, d[i].want);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
