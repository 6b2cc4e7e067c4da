/*
 * test-csv.c - the RFC 4180 reader and writer.
 *
 * Owns: a table of inputs and the records they must read as (each with
 * the physical line it starts on), malformed inputs and the line their
 * error names, writer quoting, and a write-then-read round trip.
 */
#include "testutil.h"

#include "buf.h"
#include "csv.h"

/*
 * Records are written "LINE:field|field;" with a newline inside a field
 * shown as "\n" (two characters) so that the table stays readable.
 * delim: what csv_reader_delimiter() is given (0: the default, comma).
 */
static char *
test_dump_delim(const char *in, size_t len, int delim, char **err)
{
	struct csv_reader	*r;
	struct csv_record	*rec;
	struct buf		 b;
	FILE			*f;
	size_t			 i, j;
	int			 rc;

	*err = NULL;
	buf_init(&b, 0);
	buf_addstr(&b, "");
	f = fmemopen((void *)in, len, "r");
	assert_non_null(f);
	r = csv_reader_new(f);
	if (delim != 0)
		csv_reader_delimiter(r, delim);
	while ((rc = csv_read(r, &rec, err)) == 1) {
		buf_printf(&b, "%lu:", rec->line);
		for (i = 0; i < rec->n; i++) {
			if (i > 0)
				buf_addc(&b, '|');
			assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
			for (j = 0; j < rec->lens[i]; j++) {
				if (rec->fields[i][j] == '\n')
					buf_addstr(&b, "\\n");
				else
					buf_addc(&b, rec->fields[i][j]);
			}
		}
		buf_addc(&b, ';');
	}
	csv_reader_free(r);
	fclose(f);
	return buf_detach(&b, NULL);
}

static char *
test_dump(const char *in, size_t len, char **err)
{
	return test_dump_delim(in, len, 0, err);
}

static const struct {
	const char	*name;
	const char	*in;
	const char	*want;	/* records, or the error */
	int		 error;
} cases[] = {
	{ "simple LF", "a,b,c\n1,2,3\n", "1:a|b|c;2:1|2|3;", 0 },
	{ "CRLF", "a,b\r\n1,2\r\n", "1:a|b;2:1|2;", 0 },
	{ "lone CR", "a,b\r1,2\r", "1:a|b;2:1|2;", 0 },
	{ "no final line end", "a,b\n1,2", "1:a|b;2:1|2;", 0 },
	{ "BOM", "\xef\xbb\xbf" "email,name\r\nx,y\r\n",
	  "1:email|name;2:x|y;", 0 },
	{ "BOM only in first place", "a\n\xef\xbb\xbf" "b\n",
	  "1:a;2:\xef\xbb\xbf" "b;", 0 },
	{ "empty fields", ",,\na,,c\n,\n", "1:||;2:a||c;3:|;", 0 },
	{ "blank line", "a\n\nb\n", "1:a;2:;3:b;", 0 },
	{ "empty file", "", "", 0 },
	{ "only a newline", "\n", "1:;", 0 },
	{ "quoted comma", "\"a,b\",c\n", "1:a,b|c;", 0 },
	{ "escaped quotes", "\"say \"\"hi\"\"\",x\n", "1:say \"hi\"|x;", 0 },
	{ "only quotes", "\"\"\"\"\n", "1:\";", 0 },
	{ "quoted empty", "\"\",\"\"\n", "1:|;", 0 },
	{ "quoted newline LF", "a,\"two\nlines\",b\nc,d,e\n",
	  "1:a|two\\nlines|b;3:c|d|e;", 0 },
	{ "quoted newline CRLF", "a,\"two\r\nlines\"\r\nnext\r\n",
	  "1:a|two\\nlines;3:next;", 0 },
	{ "several quoted newlines",
	  "h\n\"1\n2\n3\n\",x\nlast\n", "1:h;2:1\\n2\\n3\\n|x;6:last;", 0 },
	{ "quote inside unquoted field", "a\"b,c\n", "1:a\"b|c;", 0 },
	{ "spaces kept", " a , b \n", "1: a | b ;", 0 },
	{ "UTF-8 kept", "jan@żółw.pl,Zoë\n", "1:jan@żółw.pl|Zoë;", 0 },
	{ "quoted field at end of file", "a,\"b\"", "1:a|b;", 0 },

	{ "unterminated quote", "email,name\na,b\nc,\"d\ne,f\n",
	  "line 3: quoted field is not closed", 1 },
	{ "unterminated quote on line 1", "\"abc", "line 1: quoted field is "
	  "not closed", 1 },
	{ "text after closing quote", "a\n\"b\"c,d\n",
	  "line 2: a quoted field must be followed by a comma", 1 },
};

static void
test_read(void **state)
{
	char	*got, *err;
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = test_dump(cases[i].in, strlen(cases[i].in), &err);
		if (cases[i].error) {
			if (err == NULL) {
				print_error("%s: read as \"%s\", want error "
				    "\"%s\"\n", cases[i].name, got,
				    cases[i].want);
				fail();
			}
			if (strncmp(err, cases[i].want,
			    strlen(cases[i].want)) != 0) {
				print_error("%s: got error \"%s\", want "
				    "\"%s...\"\n", cases[i].name, err,
				    cases[i].want);
				fail();
			}
		} else {
			if (err != NULL) {
				print_error("%s: got error \"%s\", want "
				    "\"%s\"\n", cases[i].name, err,
				    cases[i].want);
				fail();
			}
			assert_str_eq_msg(cases[i].name, got, cases[i].want);
		}
		free(got);
		free(err);
	}
}

/* Semicolons and tabs, as spreadsheets write them in other locales. */
static void
test_delimiters(void **state)
{
	static const struct {
		const char	*name;
		int		 delim;
		const char	*in;
		const char	*want;
		int		 error;
	} d[] = {
		{ "semicolon", ';', "email;name\r\na@x.org;Ann\r\n",
		  "1:email|name;2:a@x.org|Ann;", 0 },
		{ "semicolon keeps commas", ';', "a;Smith, Ann;b\n",
		  "1:a|Smith, Ann|b;", 0 },
		{ "semicolon quoted", ';', "\"x;y\";\"say \"\"hi\"\"\"\n",
		  "1:x;y|say \"hi\";", 0 },
		{ "semicolon quoted line break", ';',
		  "\"Ann\r\nSmith\";a@x.org\r\nb\r\n",
		  "1:Ann\\nSmith|a@x.org;3:b;", 0 },
		{ "semicolon, empty cells", ';', ";;\n", "1:||;", 0 },
		{ "tab", '\t', "email\tname\na@x.org\tSmith, Ann\n",
		  "1:email|name;2:a@x.org|Smith, Ann;", 0 },
		{ "tab, no final line end", '\t', "a\tb", "1:a|b;", 0 },
		{ "comma after a quote with ;", ';', "\"a\",b\n",
		  "line 1: a quoted field must be followed by a semicolon", 1 },
		{ "tab after a quote", '\t', "\"a\" b\n",
		  "line 1: a quoted field must be followed by a tab", 1 },
	};
	char	*got, *err;
	size_t	 i;

	for (i = 0; i < sizeof d / sizeof d[0]; i++) {
		got = test_dump_delim(d[i].in, strlen(d[i].in), d[i].delim,
		    &err);
		if (d[i].error) {
			if (err == NULL || strncmp(err, d[i].want,
			    strlen(d[i].want)) != 0) {
				print_error("%s: got error \"%s\", want "
				    "\"%s...\"\n", d[i].name,
				    err != NULL ? err : "(none)", d[i].want);
				fail();
			}
		} else {
			if (err != NULL) {
				print_error("%s: got error \"%s\", want "
				    "\"%s\"\n", d[i].name, err, d[i].want);
				fail();
			}
			assert_str_eq_msg(d[i].name, got, d[i].want);
		}
		free(got);
		free(err);
	}
	assert_string_equal(csv_delimiter_name(','), "comma");
	assert_string_equal(csv_delimiter_name(';'), "semicolon");
	assert_string_equal(csv_delimiter_name('\t'), "tab");
	assert_null(csv_delimiter_name('|'));
}

/* Guessing the delimiter from the first record. */
static void
test_sniff(void **state)
{
	static const struct {
		const char	*name;
		const char	*in;
		const char	*want;	/* ranked */
	} d[] = {
		{ "comma", "email,name,org\nx;y;z;w\n", "," },
		{ "semicolon (Excel, European locale)",
		  "Email;Name;Organisation\r\na@x.org;Ann;DSU\r\n", ";" },
		{ "tab", "email\tname\n", "\t" },
		{ "one column", "email\na@x.org\n", "" },
		{ "empty", "", "" },
		{ "quotes hide delimiters", "\"Smith, Ann; Jo\"\temail\n",
		  "\t" },
		{ "most wins", "a;b;c,d\n", ";," },
		{ "tie: comma first", "a;b,c\n", ",;" },
		{ "tie: semicolon before tab", "a\tb;c\n", ";\t" },
		{ "blank lines first", "\r\n\n a;b\n", ";" },
		{ "BOM", "\xef\xbb\xbf" "email;name\n", ";" },
		{ "quoted line break in the header", "\"e\nmail\";n\nx,y,z\n",
		  ";" },
		{ "only the first record counts", "email\na,b,c\n", "" },
	};
	char	 ranked[CSV_SNIFF_MAX + 1];
	size_t	 i, n;
	char	 what[128];

	for (i = 0; i < sizeof d / sizeof d[0]; i++) {
		n = csv_sniff(d[i].in, strlen(d[i].in), ",;\t", ranked);
		assert_int_equal(n, strlen(ranked));
		snprintf(what, sizeof what, "sniff %s", d[i].name);
		assert_str_eq_msg(what, ranked, d[i].want);
	}
}

/* csv_error() says which kind of error the last read ran into. */
static void
test_error_kinds(void **state)
{
	static const struct {
		const char	*in;
		enum csv_error	 want;
	} d[] = {
		{ "a,\"b\n", CSV_UNCLOSED },
		{ "\"a\"b\n", CSV_AFTER_QUOTE },
		{ "a,b\n", CSV_OK },
	};
	struct csv_reader	*r;
	struct csv_record	*rec;
	FILE			*f;
	char			*err = NULL;
	size_t			 i;

	for (i = 0; i < sizeof d / sizeof d[0]; i++) {
		f = fmemopen((void *)d[i].in, strlen(d[i].in), "r");
		r = csv_reader_new(f);
		while (csv_read(r, &rec, &err) == 1)
			;
		if (csv_error(r) != d[i].want) {
			print_error("\"%s\": got error kind %d, want %d\n",
			    d[i].in, csv_error(r), d[i].want);
			fail();
		}
		free(err);
		err = NULL;
		csv_reader_free(r);
		fclose(f);
	}
}

static void
test_nul(void **state)
{
	static const char	in[] = "a,b\nc\0d,e\n";
	char			*got, *err;

	got = test_dump(in, sizeof in - 1, &err);
	assert_non_null(err);
	assert_str_eq_msg("NUL byte", err, "line 2: NUL byte");
	free(got);
	free(err);
}

static void
test_write(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} w[] = {
		{ "plain", "plain" },
		{ "", "" },
		{ "a,b", "\"a,b\"" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"" },
		{ "two\nlines", "\"two\nlines\"" },
		{ "cr\rhere", "\"cr\rhere\"" },
		{ " lead", "\" lead\"" },
		{ "trail\t", "\"trail\t\"" },
		{ "in side", "in side" },
		{ "żółw", "żółw" },
	};
	const char	*rec[] = { "email", "a,b", "" };
	struct buf	 b;
	size_t		 i;

	for (i = 0; i < sizeof w / sizeof w[0]; i++) {
		buf_init(&b, 0);
		buf_addstr(&b, "");
		assert_int_equal(csv_write_field(&b, w[i].in,
		    strlen(w[i].in)), 0);
		assert_str_eq_msg(w[i].in, b.data, w[i].want);
		buf_free(&b);
	}
	buf_init(&b, 0);
	assert_int_equal(csv_write_record(&b, rec, 3), 0);
	assert_str_eq_msg("record", b.data, "email,\"a,b\",\r\n");
	buf_free(&b);
}

/* Whatever the writer writes reads back as the same fields. */
static void
test_round_trip(void **state)
{
	const char	*rows[][3] = {
		{ "email", "name", "note" },
		{ "a@example.org", "Smith, Ann", "said \"hello\"" },
		{ "b@example.org", "", "two\nlines\nhere" },
		{ "c@example.org", " spaced ", "," },
		{ "d@example.org", "\"", "" },
	};
	struct buf	 b;
	char		*got, *err;

	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
		assert_int_equal(csv_write_record(&b, rows[i], 3), 0);
	got = test_dump(b.data, b.len, &err);
	assert_null(err);
	assert_str_eq_msg("round trip", got,
	    "1:email|name|note;"
	    "2:a@example.org|Smith, Ann|said \"hello\";"
	    "3:b@example.org||two\\nlines\\nhere;"
	    "6:c@example.org| spaced |,;"
	    "7:d@example.org|\"|;");
	free(got);
	buf_free(&b);
}

/* A record over the size limit is refused, naming its line. */
static void
test_too_long(void **state)
{
	struct buf	 b;
	char		*got, *err;
	size_t		 i;

	buf_init(&b, 0);
	buf_addstr(&b, "email\nx\n\"");
	for (i = 0; i < 2 * CSV_MAX_RECORD; i++)
		buf_addc(&b, 'a');
	buf_addstr(&b, "\"\n");
	got = test_dump(b.data, b.len, &err);
	assert_non_null(err);
	assert_str_eq_msg("too long", err, "line 3: record is too long");
	free(got);
	free(err);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_error_kinds),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
