/*
 * test-form.c - form bodies: urlencoded and multipart/form-data.
 *
 * Owns: tables of bodies and the fields they must read as ("name=value;"
 * in order), bodies that must be refused and the words their error must
 * hold, Content-Type dispatch, and the field limit.
 */
#include "testutil.h"

#include "buf.h"
#include "form.h"

/* "name=value;" for every field, or "ERROR: cause". */
static char *
test_dump(int rc, struct form *f, char *cause)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, 0);
	buf_addstr(&b, "");
	if (rc != 0) {
		buf_printf(&b, "ERROR: %s", cause != NULL ? cause : "(null)");
		assert_int_equal(f->n, 0);
	} else {
		assert_null(cause);
		for (i = 0; i < f->n; i++) {
			assert_int_equal(strlen(f->fields[i].value),
			    f->fields[i].len);
			buf_printf(&b, "%s=%s;", f->fields[i].name,
			    f->fields[i].value);
		}
	}
	free(cause);
	form_free(f);
	return buf_detach(&b, NULL);
}

/* Compare, printing got/want; an error only needs to contain want. */
static void
test_expect(const char *name, const char *got, const char *want)
{
	if (strncmp(want, "ERROR: ", 7) == 0) {
		if (strncmp(got, "ERROR: ", 7) != 0 ||
		    strstr(got, want + 7) == NULL) {
			print_error("%s:\n  got  \"%s\"\n  want an error "
			    "containing \"%s\"\n", name, got, want + 7);
			fail();
		}
		return;
	}
	assert_str_eq_msg(name, got, want);
}

static const struct {
	const char	*name;
	const char	*in;
	const char	*want;
} url_cases[] = {
	{ "empty body", "", "" },
	{ "one field", "a=1", "a=1;" },
	{ "the subscribe form",
	  "email=ann%40example.org&name=Ann+Smith&consent=yes&website=",
	  "email=ann@example.org;name=Ann Smith;consent=yes;website=;" },
	{ "plus is a space, %2B a plus", "q=a+b%2Bc", "q=a b+c;" },
	{ "lower and upper hex", "a=%c3%A9", "a=\xc3\xa9;" },
	{ "UTF-8 name", "Zo%C3%AB=1", "Zo\xc3\xab=1;" },
	{ "no equals sign", "flag&b=2", "flag=;b=2;" },
	{ "empty pieces skipped", "&a=1&&b=2&", "a=1;b=2;" },
	{ "equals in the value", "a=b=c", "a=b=c;" },
	{ "empty name", "=x", "=x;" },
	{ "repeated names kept in order", "a=1&a=2", "a=1;a=2;" },
	{ "one-click", "List-Unsubscribe=One-Click",
	  "List-Unsubscribe=One-Click;" },
	{ "raw UTF-8 bytes", "n=Zo\xc3\xab", "n=Zo\xc3\xab;" },
	{ "four-byte character", "e=%F0%9F%98%80", "e=\xf0\x9f\x98\x80;" },

	{ "percent at the end", "a=1%", "ERROR: bad %-escape at byte 4" },
	{ "percent and one digit", "a=%4", "ERROR: bad %-escape" },
	{ "percent and non-hex", "a=%zz", "ERROR: bad %-escape at byte 3" },
	{ "percent in a name", "a%g1=2", "ERROR: bad %-escape at byte 2" },
	{ "percent-percent", "a=%%41", "ERROR: bad %-escape" },
	{ "encoded NUL", "a=x%00y", "ERROR: NUL" },
	{ "encoded NUL in a name", "a%00=1", "ERROR: NUL" },
	{ "lone continuation byte", "a=%80", "ERROR: not valid UTF-8" },
	{ "overlong slash", "a=%C0%AF", "ERROR: not valid UTF-8" },
	{ "surrogate", "a=%ED%A0%80", "ERROR: not valid UTF-8" },
	{ "above U+10FFFF", "a=%F4%90%80%80", "ERROR: not valid UTF-8" },
	{ "truncated sequence", "a=%C3", "ERROR: not valid UTF-8" },
	{ "Latin-1 byte", "name=Zo%EB", "ERROR: not valid UTF-8" },
	{ "raw invalid byte", "a=\xff", "ERROR: not valid UTF-8" },
	{ "raw newline", "a=1\nb=2", "ERROR: control character at byte 4" },
	{ "raw CR", "a=1\r", "ERROR: control character" },
	{ "raw tab", "a=\t", "ERROR: control character" },
	{ "raw DEL", "a=\x7f", "ERROR: control character" },
};

static void
test_urlencoded(void **state)
{
	struct form	 f;
	char		*cause, *got;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof url_cases / sizeof url_cases[0]; i++) {
		cause = NULL;
		rc = form_parse_urlencoded(&f, url_cases[i].in,
		    strlen(url_cases[i].in), &cause);
		got = test_dump(rc, &f, cause);
		test_expect(url_cases[i].name, got, url_cases[i].want);
		free(got);
	}
}

/* A NUL byte inside the body itself (not %00): lengths, not strings. */
static void
test_urlencoded_raw_nul(void **state)
{
	static const char	 body[] = "a=1\0b=2";
	struct form		 f;
	char			*cause = NULL, *got;
	int			 rc;

	(void)state;
	rc = form_parse_urlencoded(&f, body, sizeof body - 1, &cause);
	got = test_dump(rc, &f, cause);
	test_expect("raw NUL", got, "ERROR: control character at byte 4");
	free(got);
}

static void
test_urlencoded_limit(void **state)
{
	struct form	 f;
	struct buf	 b;
	char		*cause = NULL;
	int		 i, rc;

	(void)state;
	buf_init(&b, 0);
	for (i = 0; i < FORM_MAX_FIELDS; i++)
		buf_printf(&b, "%sf%d=%d", i > 0 ? "&" : "", i, i);
	rc = form_parse_urlencoded(&f, b.data, b.len, &cause);
	assert_int_equal(rc, 0);
	assert_int_equal(f.n, FORM_MAX_FIELDS);
	assert_string_equal(form_get(&f, "f7"), "7");
	assert_null(form_get(&f, "f999"));
	form_free(&f);

	buf_addstr(&b, "&one=more");
	rc = form_parse_urlencoded(&f, b.data, b.len, &cause);
	if (rc != -1 || cause == NULL || strstr(cause, "more than") == NULL) {
		print_error("%d + 1 fields: got rc %d cause \"%s\", want -1 "
		    "and \"more than\"\n", FORM_MAX_FIELDS, rc,
		    cause != NULL ? cause : "(null)");
		fail();
	}
	free(cause);
	buf_free(&b);
}

#define CRLF "\r\n"
#define B "----postroomB0undary"

static const struct {
	const char	*name;
	const char	*boundary;
	const char	*in;
	const char	*want;
} mp_cases[] = {
	{ "RFC 8058 one-click", B,
	  "--" B CRLF
	  "Content-Disposition: form-data; name=\"List-Unsubscribe\"" CRLF
	  CRLF
	  "One-Click" CRLF
	  "--" B "--" CRLF,
	  "List-Unsubscribe=One-Click;" },
	{ "two parts, preamble and epilogue", "xyz",
	  "preamble text" CRLF
	  "--xyz" CRLF
	  "content-disposition: form-data; name=a" CRLF
	  "Content-Type: text/plain; charset=utf-8" CRLF
	  CRLF
	  "line 1" CRLF "line 2" CRLF
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"b\"; filename=\"x.txt\"" CRLF
	  CRLF
	  "Zo\xc3\xab" CRLF
	  "--xyz--" CRLF
	  "epilogue",
	  "a=line 1" CRLF "line 2;b=Zo\xc3\xab;" },
	{ "padding after the boundary", "xyz",
	  "--xyz  " CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "a=1;" },
	{ "empty value", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  CRLF "--xyz--",
	  "a=;" },
	{ "a value that looks like a boundary without CRLF", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "x--xyz" CRLF "--xyz--",
	  "a=x--xyz;" },
	{ "quoted name with an escaped quote", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\\\"b\"" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "a\"b=1;" },

	{ "no closing boundary", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "1" CRLF,
	  "ERROR: no closing boundary" },
	{ "boundary absent", "xyz", "hello",
	  "ERROR: the boundary is not in the body" },
	{ "part without a name", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: has no name" },
	{ "part without Content-Disposition", "xyz",
	  "--xyz" CRLF
	  "Content-Type: text/plain" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: no Content-Disposition" },
	{ "not form-data", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: attachment; name=\"a\"" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: not form-data" },
	{ "bare LF line ends", "xyz",
	  "--xyz\n"
	  "Content-Disposition: form-data; name=\"a\"\n\n"
	  "1\n--xyz--\n",
	  "ERROR: multipart" },
	{ "header without a colon", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition form-data" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: no name and colon" },
	{ "folded header", "xyz",
	  "--xyz" CRLF
	  "X-Note: one" CRLF
	  " two" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: folded" },
	{ "headers never end", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF,
	  "ERROR: do not end" },
	{ "base64 part", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF
	  "Content-Transfer-Encoding: base64" CRLF CRLF
	  "MQ==" CRLF "--xyz--",
	  "ERROR: 7bit, 8bit or binary" },
	{ "invalid UTF-8 value", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "\xc0\xaf" CRLF "--xyz--",
	  "ERROR: not valid UTF-8" },
	{ "NUL in a value", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "x\0y" CRLF "--xyz--",
	  "ERROR: NUL" },
	{ "unterminated quoted name", "xyz",
	  "--xyz" CRLF
	  "Content-Disposition: form-data; name=\"a" CRLF CRLF
	  "1" CRLF "--xyz--",
	  "ERROR: has no name" },
	{ "empty boundary", "", "--" CRLF, "ERROR: boundary must be" },
	{ "boundary too long", "12345678901234567890123456789012345678901"
	  "234567890123456789012345678901", "x",
	  "ERROR: boundary must be" },
};

/* The cases' bodies hold NULs in one place: their lengths are given. */
static size_t
test_mp_len(const char *name, const char *in)
{
	if (strcmp(name, "NUL in a value") == 0)
		return strlen(in) + 1 + strlen(in + strlen(in) + 1);
	return strlen(in);
}

static void
test_multipart(void **state)
{
	struct form	 f;
	char		*cause, *got;
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof mp_cases / sizeof mp_cases[0]; i++) {
		cause = NULL;
		rc = form_parse_multipart(&f, mp_cases[i].boundary,
		    mp_cases[i].in, test_mp_len(mp_cases[i].name,
		    mp_cases[i].in), &cause);
		got = test_dump(rc, &f, cause);
		test_expect(mp_cases[i].name, got, mp_cases[i].want);
		free(got);
	}
}

static const struct {
	const char	*type;
	const char	*in;
	const char	*want;
} type_cases[] = {
	{ NULL, "a=1", "a=1;" },
	{ "", "a=1", "a=1;" },
	{ "application/x-www-form-urlencoded", "a=1", "a=1;" },
	{ "Application/X-WWW-Form-URLencoded; charset=UTF-8", "a=%41",
	  "a=A;" },
	{ "multipart/form-data; boundary=xyz",
	  "--xyz" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "1" CRLF "--xyz--" CRLF, "a=1;" },
	{ "multipart/form-data; boundary=\"x y:z\"",
	  "--x y:z" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF
	  CRLF "1" CRLF "--x y:z--" CRLF, "a=1;" },
	{ "MULTIPART/FORM-DATA ; charset=utf-8; BOUNDARY=xyz",
	  "--xyz" CRLF "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
	  "1" CRLF "--xyz--" CRLF, "a=1;" },
	{ "multipart/form-data", "x", "ERROR: unsupported content type" },
	{ "multipart/form-data; boundary=", "x",
	  "ERROR: unsupported content type" },
	{ "text/plain", "a=1", "ERROR: unsupported content type" },
	{ "application/json", "{}", "ERROR: unsupported content type" },
	{ "application/x-www-form-urlencoded; charset", "a=1",
	  "ERROR: unsupported content type" },
};

static void
test_content_type(void **state)
{
	struct form	 f;
	char		*cause, *got, name[256];
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof type_cases / sizeof type_cases[0]; i++) {
		cause = NULL;
		rc = form_parse(&f, type_cases[i].type, type_cases[i].in,
		    strlen(type_cases[i].in), &cause);
		snprintf(name, sizeof name, "Content-Type %s",
		    type_cases[i].type != NULL ? type_cases[i].type : "(none)");
		assert_int_equal(form_type_supported(type_cases[i].type),
		    strstr(type_cases[i].want, "unsupported") == NULL);
		got = test_dump(rc, &f, cause);
		test_expect(name, got, type_cases[i].want);
		free(got);
	}
}

/* A file part keeps its bytes (NULs, not UTF-8) and its name. */
static void
test_multipart_file(void **state)
{
	static const char body[] =
	    "--xyz" CRLF
	    "Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"Zo\xc3\xab <b>.png\"" CRLF
	    "Content-Type: image/png" CRLF CRLF
	    "\x89PNG\0\xff" CRLF
	    "--xyz" CRLF
	    "Content-Disposition: form-data; name=\"none\"; filename=\"\"" CRLF
	    CRLF CRLF
	    "--xyz" CRLF
	    "Content-Disposition: form-data; name=\"alt\"" CRLF CRLF
	    "A chart" CRLF
	    "--xyz--" CRLF;
	static const char bad[] =
	    "--xyz" CRLF
	    "Content-Disposition: form-data; name=\"image\"; "
	    "filename=\"\xff.png\"" CRLF CRLF
	    "x" CRLF "--xyz--" CRLF;
	const struct form_field	*ff;
	struct form		 f;
	char			*cause = NULL;

	(void)state;
	assert_int_equal(form_parse_multipart(&f, "xyz", body,
	    sizeof body - 1, &cause), 0);
	assert_non_null(ff = form_file(&f, "image"));
	assert_string_equal(ff->filename, "Zo\xc3\xab <b>.png");
	assert_int_equal(ff->len, 6);
	assert_memory_equal(ff->value, "\x89PNG\0\xff", 6);
	assert_null(form_get(&f, "image"));	/* never as a text field */
	assert_non_null(ff = form_file(&f, "none"));
	assert_string_equal(ff->filename, "");
	assert_int_equal(ff->len, 0);
	assert_null(form_file(&f, "alt"));
	assert_string_equal(form_get(&f, "alt"), "A chart");
	form_free(&f);

	assert_int_equal(form_parse_multipart(&f, "xyz", bad, sizeof bad - 1,
	    &cause), -1);
	assert_non_null(strstr(cause, "file name"));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_raw_nul),
		cmocka_unit_test(test_urlencoded_limit),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_file),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
