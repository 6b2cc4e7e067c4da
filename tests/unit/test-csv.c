/*
 * test-csv.c - the RFC 4180 reader and writer.
 *
 * Owns: a table of inputs and the records they must read as (each with
 * the physical line it starts on), malformed inputs and the line their
 * error names, semicolons and tabs, guessing the delimiter, writer
 * quoting, and a write-then-read round trip; then spreadsheets as staff
 * save them (sheet.c): character sets, delimiters, headings, names and
 * the message for each thing wrong, from inline text and from the files
 * in tests/data/csv/.
 */
#include "testutil.h"

#include "buf.h"
#include "csv.h"
#include "json.h"
#include "sheet.h"
#include "store.h"
#include "value.h"

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

/* --- spreadsheets (sheet.c) ------------------------------------------- */

/*
 * Every person in data as "LINE:email|name|{attrs}" (then "|mode" and
 * "|status" when the file gave them) or "LINE!why", each followed by ";".
 * NULL with *err when the file is refused.
 */
static char *
sheet_dump(const char *data, size_t len, struct sheet **shp, char **err)
{
	struct sheet		*sh;
	struct sheet_row	*row;
	struct buf		 b;
	char			*js;
	int			 n;

	*err = NULL;
	if ((sh = sheet_open(data, len, err)) == NULL)
		return NULL;
	buf_init(&b, 0);
	buf_addstr(&b, "");
	while ((n = sheet_next(sh, &row, err)) == 1) {
		if (row->why != NULL) {
			buf_printf(&b, "%lu!%s;", row->line, row->why);
			continue;
		}
		js = json_write(row->attrs, 0);
		buf_printf(&b, "%lu:%s|%s|%s", row->line, row->email,
		    row->name, js);
		free(js);
		if (row->mode != NULL)
			buf_printf(&b, "|%s", row->mode);
		if (row->status != -1)
			buf_printf(&b, "|%s", store_member_status_name(
			    row->status));
		buf_addc(&b, ';');
	}
	assert_int_equal(n, 0);
	*shp = sh;
	return buf_detach(&b, NULL);
}

/* The file tests/data/csv/name, whole. */
static char *
sheet_file(const char *name, size_t *len)
{
	struct buf	 b;
	char		*path;

	path = xprintf("%s/tests/data/csv/%s", test_top(), name);
	buf_init(&b, 0);
	if (buf_read_file(&b, path) != 0)
		fail_msg("%s: cannot read", path);
	free(path);
	buf_addstr(&b, "");
	return buf_detach(&b, len);
}

static const struct {
	const char	*name;
	const char	*file;		/* in tests/data/csv, or NULL */
	const char	*in;		/* when file is NULL */
	const char	*want;		/* people, or the error's start */
	int		 error;
	const char	*delim;		/* want sheet_delimiter() */
	const char	*encoding;	/* want sheet_encoding() */
	const char	*note;		/* a note must start so, or NULL */
} sheets[] = {
	/* Characters. */
	{ "Windows-1252 (Excel's CSV (Comma delimited))",
	  "windows-1252.csv", NULL,
	  "2:renee@example.org|Ren\xc3\xa9" "e O\xe2\x80\x99" "Brien|"
	  "{\"Note\":\"Caf\xc3\xa9 \xe2\x82\xac fund\"};"
	  "3:zoe@example.org|Zo\xc3\xab Ch\xc3\xa2teau|{};"
	  "4:plain@example.org|Plain Ascii|{};", 0, ",", "Windows-1252",
	  "the file is not UTF-8, so it was read as Windows-1252" },
	{ "one bad byte makes the whole file Windows-1252", NULL,
	  "email,name\na@x.org,Zo\xc3\xab\nb@x.org,Ren\xe9" "e\n",
	  "2:a@x.org|Zo\xc3\x83\xc2\xab|{};3:b@x.org|Ren\xc3\xa9" "e|{};",
	  0, ",", "Windows-1252", NULL },
	{ "UTF-8 with a byte order mark, semicolons (Excel, France)",
	  "utf8-bom-semicolon.csv", NULL,
	  "2:renee@example.org|Ren\xc3\xa9" "e O\xe2\x80\x99" "Brien|"
	  "{\"Organisation\":\"Caf\xc3\xa9, Lyon\"};"
	  "3:zoe@example.org|Zo\xc3\xab; Ch\xc3\xa2teau|{};", 0, ";",
	  "UTF-8", "the columns are separated by semicolons" },
	{ "a BOM and a bad byte: UTF-8 all the same, the byte repaired", NULL,
	  "\xef\xbb\xbf" "email,name\na@x.org,Zo\xc3\xab\nb@x.org,R\xe9n\n",
	  "2:a@x.org|Zo\xc3\xab|{};3:b@x.org|R\xef\xbf\xbdn|{};", 0, ",",
	  "UTF-8", "some bytes are not UTF-8 characters" },
	{ "UTF-16 (Excel's Unicode Text), tabs, first and last name",
	  "utf16.txt", NULL,
	  "2:renee@example.org|Ren\xc3\xa9" "e O\xe2\x80\x99" "Brien|{};",
	  0, "\t", "UTF-16", "read as UTF-16" },
	{ "plain UTF-8", NULL, "email\r\nann@x.org\r\n", "2:ann@x.org||{};",
	  0, ",", "UTF-8", NULL },

	/* Delimiters. */
	{ "tab-separated", "tab.csv", NULL,
	  "2:ann@example.org|Smith, Ann|{\"Region\":\"West\"};"
	  "3:bob@example.org|Bob \"B\" Jones|{\"Region\":\"East\"};", 0,
	  "\t", "UTF-8", "the columns are separated by tabs" },
	{ "a tie goes on to the delimiter that finds the address", NULL,
	  "Email\tName, full\na@x.org\tAnn\n",
	  "\"Name, full\" (column 2): a heading for other information", 1,
	  NULL, NULL, NULL },
	{ "semicolons beat the comma in a heading", NULL,
	  "Email;Name, full;Region\nm@x.fr;Marie;Est\n",
	  "\"Name, full\" (column 2)", 1, NULL, NULL, NULL },

	/* Headings. */
	{ "E-mail Address, First Name + Last Name", "first-last.csv", NULL,
	  "2:ann@example.org|Ann Smith|{\"Team\":\"DSU West\"};"
	  "3:bob@example.org|Bob|{};"
	  "4:carol@example.org|Carol-Jones|{};"
	  "5:dave@example.org||{\"Team\":\"Evaluation\"};", 0, ",", "UTF-8",
	  "names are made from the First Name and Last Name columns" },
	{ "headings: any case and spacing", NULL,
	  " EMAIL ADDRESS ,full_name,FIRST.NAME\na@x.org,A B,A\n",
	  "2:a@x.org|A B|{};", 0, ",", NULL,
	  "names are made from the FIRST.NAME column where the name is "
	  "empty" },
	{ "e-mail", NULL, "E-Mail;Name\na@x.org;A\n", "2:a@x.org|A|{};",
	  0, ";", NULL, NULL },
	{ "mail", NULL, "Mail\na@x.org\n", "2:a@x.org||{};", 0, ",", NULL,
	  NULL },
	{ "surname and forename", NULL, "Surname,Forename,Email\n"
	  "Smith,Ann,a@x.org\n", "2:a@x.org|Ann Smith|{\"Surname\":"
	  "\"Smith\",\"Forename\":\"Ann\"};", 0, ",", NULL, NULL },
	{ "first_name stays an attribute as well", NULL,
	  "email,first_name,last_name\na@x.org,Ann,Smith\n",
	  "2:a@x.org|Ann Smith|{\"first_name\":\"Ann\","
	  "\"last_name\":\"Smith\"};", 0, ",", NULL, NULL },
	{ "name wins over first and last", NULL,
	  "email,name,first name\na@x.org,Ann S,Ann\nb@x.org,,Bob\n",
	  "2:a@x.org|Ann S|{};3:b@x.org|Bob|{};", 0, ",", NULL, NULL },
	{ "a column without a heading is left out", NULL,
	  "email,,org\na@x.org,lost,DSU\nb@x.org,,\n",
	  "2:a@x.org||{\"org\":\"DSU\"};3:b@x.org||{};", 0, ",", NULL,
	  "column 2 has no heading, so its 1 value was not imported" },
	{ "blank lines and empty rows before the header", NULL,
	  "\n;;\nemail;name\n\n;;\na@x.org;A\n",
	  "6:a@x.org|A|{};", 0, ";", NULL, NULL },
	{ "an export's own columns", "export.csv", NULL,
	  "2:ann@example.org|Ann|{\"org\":\"DSU\"}|digest|confirmed;"
	  "3:bob@example.org|Bob|{}|immediate|pending;"
	  "4:carol@example.org|Carol|{}|immediate|unsubscribed;"
	  "5:dan@example.org|Dan|{}|immediate|bounced;"
	  "6:erin@example.org|Erin|{}|digest|confirmed;"
	  "7!the status \"active\" is not one that subscriber export "
	  "writes (pending, confirmed, unsubscribed or bounced): correct "
	  "it, or empty the cell;"
	  "8!the mode \"weekly\" is neither immediate nor digest: correct "
	  "it, or empty the cell (immediate);", 0, ",", "UTF-8",
	  "the consent columns of an export are not imported" },
	{ "status and mode without consent columns are attributes",
	  "status-attrs.csv", NULL,
	  "2:a@example.org||{\"Status\":\"member\",\"Mode\":\"in person\"};",
	  0, ",", NULL, NULL },

	/* Names. */
	{ "a quoted line break in a name is a space", "line-break.csv", NULL,
	  "2:ann@example.org|Ann Smith|{\"org\":\"Line one\\nline two\"};"
	  "5:bob@example.org|Bob Jones|{\"org\":\"x\"};"
	  "8:carol@example.org|Carol Tab|{};", 0, ",", NULL, NULL },
	{ "a control character in a name", NULL,
	  "email,name\na@x.org,A\x01" "B\n",
	  "2!the name holds a line break or control character: retype it "
	  "in the spreadsheet;", 0, ",", NULL, NULL },

	/* Records skipped, each saying what to change. */
	{ "each thing wrong with a record", "basic.csv", NULL,
	  "2:ann@example.org|Ann Smith|{\"org\":\"DSU West\","
	  "\"region\":\"West\"};"
	  "3:bob@example.org|Jones, Bob|{\"org\":\"Analyst Network\","
	  "\"region\":\"East\"};"
	  "4:carol@example.org|Carol|{\"org\":\"Multi\\nline org\","
	  "\"region\":\"West\"};"
	  "6!\"not-an-address\" is not a complete email address (no @): "
	  "check the email column for this person;"
	  "7!no email address: fill in the email column for this person, "
	  "or delete the row;"
	  "8!ann@example.org is also on line 2, and only the first is "
	  "imported: delete one of the two rows;"
	  "9:jan@xn--w-uga1v8h.pl|Jan|{};"
	  "11!this row has 5 cells but the header row has 4 headings: "
	  "delete the extra cells, or give their column a heading;"
	  "12:erin@example.org|Erin \"E\" Evans|{\"region\":\"East\"};",
	  0, ",", "UTF-8", NULL },
	{ "an incomplete address names the column", NULL,
	  "Name,E-mail Address\nJo,jo.bloggs@\n",
	  "2!\"jo.bloggs@\" is not a complete email address (the domain is "
	  "empty): check the E-mail Address column for this person;", 0,
	  ",", NULL, NULL },
	{ "a duplicate in another spelling", NULL,
	  "email\nJo@Example.ORG\nJo@example.org\n",
	  "2:Jo@example.org||{};3!Jo@example.org is also on line 2, and "
	  "only the first is imported: delete one of the two rows;", 0, ",",
	  NULL, NULL },

	/* Files refused whole. */
	{ "empty", NULL, "", "the file is empty: save the spreadsheet again "
	  "with a header row (for example Email, Name) and a row for each "
	  "person", 1, NULL, NULL, NULL },
	{ "only blank lines", NULL, "\r\n\r\n;;\r\n", "the file is empty", 1,
	  NULL, NULL, NULL },
	{ "a workbook", "workbook.csv", NULL, "this is a spreadsheet "
	  "workbook (.xlsx or .ods), not a CSV file: open it in Excel, "
	  "choose File > Save As, pick \"CSV UTF-8 (Comma delimited) "
	  "(*.csv)\", and import the file that makes", 1, NULL, NULL, NULL },
	{ "an Excel 97 workbook", NULL, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
	  "this is an Excel 97-2003 workbook (.xls)", 1, NULL, NULL, NULL },
	{ "no address column: the headings and the accepted names",
	  "no-email.csv", NULL, "no column holds email addresses: the "
	  "header row (line 1) has \"Courriel\", \"Nom\". Give the column "
	  "of addresses the heading Email (E-mail, Email Address, E-mail "
	  "Address and Mail work too)", 1, NULL, NULL, NULL },
	{ "no address column, one column", NULL, "Name|Email\nA|a@x.org\n",
	  "no column holds email addresses: the header row (line 1) has "
	  "\"Name|Email\". Give the column of addresses the heading Email "
	  "(E-mail, Email Address, E-mail Address and Mail work too), and "
	  "separate the columns with commas, semicolons or tabs", 1, NULL,
	  NULL, NULL },
	{ "headings that cannot be field names", "bad-headings.csv", NULL,
	  "\"Job Title\" (column 3), \"Phone Number\" (column 4), "
	  "\"R\xc3\xa9gion\" (column 5): a heading for other information "
	  "may hold only letters A to Z, digits, _ and - (at most 64), "
	  "because it becomes a field name in newsletters; change them "
	  "(for example to Job_Title), or delete those columns", 1, NULL,
	  NULL, NULL },
	{ "two address columns", NULL, "Email,Name,E-mail Address\n",
	  "columns 1 (Email) and 3 (E-mail Address) both hold the email "
	  "address: delete one of them, or change its heading", 1, NULL,
	  NULL, NULL },
	{ "two name columns", NULL, "Email,Name,Full Name\n",
	  "columns 2 (Name) and 3 (Full Name) both hold the name", 1, NULL,
	  NULL, NULL },
	{ "two attributes but for case", NULL, "email,Region,region\n",
	  "columns 2 and 3 are both called \"region\" (capitals do not "
	  "count): change one of the headings, or delete one of the "
	  "columns", 1, NULL, NULL, NULL },
	{ "an unclosed quote", "unterminated.csv", NULL,
	  "line 3: quoted field is not closed (it opens on this line): a "
	  "cell there starts with a quotation mark (\") that never ends: "
	  "end it with another one, or save the file again from the "
	  "spreadsheet", 1, NULL, NULL, NULL },
	{ "text after a closing quote", NULL, "email;name\na@x.org;\"A\" B\n",
	  "line 2: a quoted field must be followed by a semicolon or the "
	  "end of the line: a cell there is in quotation marks (\") with "
	  "more after the closing one", 1, NULL, NULL, NULL },
	{ "a NUL byte (UTF-16 without a byte order mark)", NULL,
	  "e\0m\0a\0i\0l\0\n\0", "line 1: NUL byte: this is not a text "
	  "file: save the spreadsheet as \"CSV UTF-8\" and import that", 1,
	  NULL, NULL, NULL },
};

static void
test_sheets(void **state)
{
	struct sheet	*sh;
	const char	*in;
	char		*data = NULL, *got, *err, what[160];
	size_t		 i, j, len;
	int		 found;

	for (i = 0; i < sizeof sheets / sizeof sheets[0]; i++) {
		if (sheets[i].file != NULL)
			in = data = sheet_file(sheets[i].file, &len);
		else {
			in = sheets[i].in;
			len = strlen(in);
			if (strncmp(sheets[i].name, "a NUL byte", 10) == 0)
				len = 12;
		}
		sh = NULL;
		got = sheet_dump(in, len, &sh, &err);
		if (sheets[i].error && got == NULL) {
			if (strstr(err, sheets[i].want) == NULL) {
				print_error("%s:\n  got error \"%s\"\n  want "
				    "it to hold \"%s\"\n", sheets[i].name, err,
				    sheets[i].want);
				fail();
			}
		} else if (sheets[i].error) {
			print_error("%s: read as \"%s\", want error \"%s\"\n",
			    sheets[i].name, got, sheets[i].want);
			fail();
		} else if (got == NULL) {
			print_error("%s: got error \"%s\", want \"%s\"\n",
			    sheets[i].name, err, sheets[i].want);
			fail();
		} else {
			assert_str_eq_msg(sheets[i].name, got,
			    sheets[i].want);
			snprintf(what, sizeof what, "%s: delimiter",
			    sheets[i].name);
			if (sheets[i].delim != NULL)
				assert_int_equal(sheet_delimiter(sh),
				    *sheets[i].delim);
			if (sheets[i].encoding != NULL)
				assert_str_eq_msg(what, sheet_encoding(sh),
				    sheets[i].encoding);
			for (j = 0, found = 0; j < sheet_nnotes(sh); j++) {
				if (sheets[i].note != NULL &&
				    strncmp(sheet_note(sh, j), sheets[i].note,
				    strlen(sheets[i].note)) == 0)
					found = 1;
			}
			if (sheets[i].note != NULL && !found) {
				print_error("%s: no note \"%s...\"; notes:\n",
				    sheets[i].name, sheets[i].note);
				for (j = 0; j < sheet_nnotes(sh); j++)
					print_error("  %s\n", sheet_note(sh,
					    j));
				fail();
			}
		}
		sheet_close(sh);
		free(got);
		free(err);
		free(data);
		data = NULL;
	}
}

/* Reading twice (a check, then the import) gives the same people. */
static void
test_sheet_rewind(void **state)
{
	static const char	 in[] = "Email;Name\na@x.org;A\na@x.org;B\n";
	struct sheet		*sh;
	struct sheet_row	*row;
	char			*err = NULL;
	int			 pass, n;

	assert_non_null(sh = sheet_open(in, sizeof in - 1, &err));
	for (pass = 0; pass < 2; pass++) {
		sheet_rewind(sh);
		assert_int_equal(sheet_next(sh, &row, &err), 1);
		assert_null(row->why);
		assert_int_equal(row->line, 2);
		assert_int_equal(sheet_next(sh, &row, &err), 1);
		assert_non_null(row->why);	/* the duplicate */
		n = sheet_next(sh, &row, &err);
		assert_int_equal(n, 0);
	}
	sheet_close(sh);
}

/* The attribute-name and value rules "subscriber add --attr" shares. */
static void
test_sheet_rules(void **state)
{
	static const struct {
		const char	*k;
		int		 ok;
	} keys[] = {
		{ "org", 1 }, { "Job_Title", 1 }, { "ics-code2", 1 },
		{ "", 0 }, { "Job Title", 0 }, { "R\xc3\xa9gion", 0 },
		{ "Email", 0 }, { "name", 0 },
		{ "a234567890123456789012345678901234567890"
		  "123456789012345678901234", 1 },	/* 64 */
		{ "a234567890123456789012345678901234567890"
		  "1234567890123456789012345", 0 },	/* 65 */
	};
	size_t	i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if ((sheet_key_bad(keys[i].k, strlen(keys[i].k)) == NULL) !=
		    keys[i].ok) {
			print_error("key \"%s\": got %s, want %s\n", keys[i].k,
			    keys[i].ok ? "bad" : "good",
			    keys[i].ok ? "good" : "bad");
			fail();
		}
	}
	assert_null(sheet_text_bad("two\nlines\there", 14, 1));
	assert_non_null(sheet_text_bad("two\nlines", 9, 0));
	assert_non_null(sheet_text_bad("bell\a", 5, 1));
	assert_non_null(sheet_text_bad("\xff", 1, 1));
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
		cmocka_unit_test(test_sheets),
		cmocka_unit_test(test_sheet_rewind),
		cmocka_unit_test(test_sheet_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
