/*
 * test-value-json.c - struct value and the JSON reader/writer: parsing,
 * error positions, number text round-trips, \u escapes, writing with
 * escapes, objects big enough to use their index.
 */
#include "testutil.h"

#include <errno.h>
#include <unistd.h>

#include "buf.h"
/*
 * By path: the json-c flags put /usr/include/json-c, which has a json.h of
 * its own, ahead of -Isrc.
 */
#include "json.h"
#include "value.h"
#include "xmalloc.h"

/* --- parse, then write compact: the text that comes back ---------------- */

struct roundtrip_case {
	const char	*in;
	const char	*want;		/* json_write(v, 0) */
};

static const struct roundtrip_case roundtrip_cases[] = {
	/* Numbers keep the text they were written with. */
	{ "1.21", "1.21" },
	{ "1.5", "1.5" },
	{ "1", "1" },
	{ "-3", "-3" },
	{ "0", "0" },
	{ "1.0", "1.0" },
	{ "1.50", "1.50" },
	{ "1e5", "1e5" },
	{ "-2.5E-3", "-2.5E-3" },
	{ "0.1", "0.1" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "-9223372036854775807", "-9223372036854775807" },
	{ "18446744073709551614", "18446744073709551614" },
	{ "[1.1,2.2,3.3]", "[1.1,2.2,3.3]" },
	/* Structure, order and whitespace. */
	{ " {\"b\" : 1 , \"a\" : [ true , false , null ] } \n",
	  "{\"b\":1,\"a\":[true,false,null]}" },
	{ "{}", "{}" },
	{ "[]", "[]" },
	{ "{\"a\":{},\"b\":[[]]}", "{\"a\":{},\"b\":[[]]}" },
	{ "{\"a\":1,\"a\":2}", "{\"a\":2}" },
	{ "\"x\"", "\"x\"" },
	{ "null", "null" },
	/* Unicode escapes become UTF-8 and stay UTF-8. */
	{ "\"caf\\u00e9\"", "\"caf\xc3\xa9\"" },
	{ "\"\\u20ac\"", "\"\xe2\x82\xac\"" },
	{ "\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"" },
	{ "\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"" },
	/* Escapes on the way back out. */
	{ "\"a\\\"b\\\\c\\/d\"", "\"a\\\"b\\\\c/d\"" },
	{ "\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"" },
	{ "\"\\u0001\\u001f\\u007f\"", "\"\\u0001\\u001f\\u007f\"" },
	{ "\"nul\\u0000inside\"", "\"nul\\u0000inside\"" },
	{ "\"<\\u2028>\"", "\"<\xe2\x80\xa8>\"" },
};

static void
test_roundtrip(void **state)
{
	const struct roundtrip_case	*c;
	struct value			*v;
	char				*got, *cause;
	size_t				 i;
	int				 failed = 0;

	(void)state;
	for (i = 0; i < sizeof roundtrip_cases / sizeof roundtrip_cases[0];
	    i++) {
		c = &roundtrip_cases[i];
		cause = NULL;
		if ((v = json_parse(c->in, strlen(c->in), &cause)) == NULL) {
			print_error("%s: error %s, want %s\n", c->in, cause,
			    c->want);
			free(cause);
			failed++;
			continue;
		}
		got = json_write(v, 0);
		if (strcmp(got, c->want) != 0) {
			print_error("%s:\n  got  %s\n  want %s\n", c->in, got,
			    c->want);
			failed++;
		}
		free(got);
		value_free(v);
	}
	assert_int_equal(failed, 0);
}

/* --- errors: the whole cause --------------------------------------------- */

struct error_case {
	const char	*in;
	size_t		 len;		/* 0: strlen */
	const char	*want;
};

static const struct error_case error_cases[] = {
	{ "", 0, "empty input: no JSON value" },
	{ " \n\t ", 0, "empty input: no JSON value" },
	{ "[1,]", 0, "line 1, column 4: unexpected character" },
	{ "{\n  \"a\": 1,\n  \"b\" 2\n}", 0,
	  "line 3, column 7: object property name separator ':' expected" },
	{ "{\"a\":", 0, "line 1, column 6: unexpected end of data" },
	{ "[1, 2", 0, "line 1, column 6: unexpected end of data" },
	{ "\"abc", 0, "line 1, column 5: unexpected end of data" },
	{ "tru", 0, "line 1, column 4: unexpected end of data" },
	{ "1 2", 0, "line 1, column 3: unexpected character" },
	{ "{} x", 0, "line 1, column 4: unexpected character" },
	{ "[\"\xff\"]", 0, "line 1, column 3: invalid utf-8 string" },
	{ "\"\xc3\xa9\" x", 0, "line 1, column 5: unexpected character" },
	{ "{\"a\":1}\n\n  x", 0, "line 3, column 3: unexpected character" },
	{ "[\"a\0b\"]", 7, "line 1, column 5: unexpected end of data" },
	{ "123456789012345678901234", 0,
	  "integer out of range: 18446744073709551615" },
	{ "[-123456789012345678901234]", 0,
	  "integer out of range: -9223372036854775808" },
};

static void
test_errors(void **state)
{
	const struct error_case	*c;
	struct value		*v;
	char			*cause;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		c = &error_cases[i];
		cause = NULL;
		v = json_parse(c->in, c->len != 0 ? c->len : strlen(c->in),
		    &cause);
		if (v != NULL) {
			print_error("%s: parsed, want error \"%s\"\n", c->in,
			    c->want);
			value_free(v);
			failed++;
		} else if (strcmp(cause, c->want) != 0) {
			print_error("%s:\n  got  \"%s\"\n  want \"%s\"\n",
			    c->in, cause, c->want);
			failed++;
		}
		free(cause);
	}
	assert_int_equal(failed, 0);
}

static void
test_depth_limit(void **state)
{
	struct buf	 b;
	struct value	*v;
	char		*cause = NULL;
	int		 i;

	(void)state;
	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < JSON_MAX_DEPTH - 1; i++)
		buf_addc(&b, '[');
	for (i = 0; i < JSON_MAX_DEPTH - 1; i++)
		buf_addc(&b, ']');
	assert_non_null(v = json_parse(b.data, b.len, &cause));
	value_free(v);

	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		buf_addc(&b, '[');
	assert_null(v = json_parse(b.data, b.len, &cause));
	assert_non_null(strstr(cause, "nesting too deep"));
	free(cause);
	buf_free(&b);
}

/* --- what the parsed values hold ----------------------------------------- */

static void
test_parsed_values(void **state)
{
	const char	*in = "{\"s\":\"a\\u0000b\",\"n\":85,\"d\":1.21,"
	    "\"t\":true,\"z\":null,\"l\":[\"x\",{\"k\":\"v\"}]}";
	struct value	*v, *l;
	const char	*s;
	size_t		 len;
	long long	 n;
	char		*cause = NULL;

	(void)state;
	assert_non_null(v = json_parse(in, strlen(in), &cause));
	assert_int_equal(value_get_type(v), VALUE_OBJECT);
	assert_int_equal(value_object_len(v), 6);
	assert_string_equal(value_object_key(v, 0), "s");
	assert_string_equal(value_object_key(v, 5), "l");

	s = value_string(value_object_get(v, "s"), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(s, "a\0b", 3);

	assert_string_equal(value_number_text(value_object_get(v, "n")), "85");
	assert_int_equal(value_number_int(value_object_get(v, "n"), &n), 0);
	assert_int_equal(n, 85);
	assert_string_equal(value_number_text(value_object_get(v, "d")),
	    "1.21");
	assert_int_equal(value_number_int(value_object_get(v, "d"), &n), -1);
	assert_true(value_number_double(value_object_get(v, "d")) == 1.21);
	assert_true(value_bool(value_object_get(v, "t")));
	assert_int_equal(value_get_type(value_object_get(v, "z")), VALUE_NULL);
	assert_non_null(value_object_get(v, "z"));
	assert_null(value_object_get(v, "missing"));

	l = value_object_get(v, "l");
	assert_int_equal(value_list_len(l), 2);
	assert_string_equal(value_string(value_list_get(l, 0), NULL), "x");
	assert_string_equal(value_object_get_string(value_list_get(l, 1), "k"),
	    "v");
	assert_null(value_list_get(l, 2));

	/* Getters on the wrong type answer "nothing". */
	assert_null(value_string(l, NULL));
	assert_null(value_number_text(l));
	assert_int_equal(value_object_len(l), 0);
	assert_null(value_object_get(l, "k"));
	value_free(v);
}

/* --- building and writing ------------------------------------------------ */

static void
test_build_and_write(void **state)
{
	struct value	*o, *l, *c;
	char		*got;

	(void)state;
	o = value_new_object();
	value_object_set(o, "name", value_new_string("Ann \"A\" O'Neil"));
	value_object_set(o, "count", value_new_int(-42));
	value_object_set(o, "ratio", value_new_double(0.1));
	value_object_set(o, "ok", value_new_bool(1));
	value_object_set(o, "none", value_new_null());
	l = value_new_list();
	value_list_append(l, value_new_stringn("tab\there\x01", 9));
	value_list_append(l, value_new_number_text("1.21"));
	value_list_append(l, value_new_object());
	value_object_set(o, "list", l);
	value_object_set(o, "count", value_new_int(7));	/* replaces */

	got = json_write(o, 0);
	assert_str_eq_msg("compact", got,
	    "{\"name\":\"Ann \\\"A\\\" O'Neil\",\"count\":7,\"ratio\":0.1,"
	    "\"ok\":true,\"none\":null,\"list\":[\"tab\\there\\u0001\",1.21,"
	    "{}]}");
	free(got);

	got = json_write(o, 1);
	assert_str_eq_msg("pretty", got,
	    "{\n"
	    "  \"name\": \"Ann \\\"A\\\" O'Neil\",\n"
	    "  \"count\": 7,\n"
	    "  \"ratio\": 0.1,\n"
	    "  \"ok\": true,\n"
	    "  \"none\": null,\n"
	    "  \"list\": [\n"
	    "    \"tab\\there\\u0001\",\n"
	    "    1.21,\n"
	    "    {}\n"
	    "  ]\n"
	    "}");
	free(got);

	c = value_copy(o);
	assert_int_equal(value_object_remove(o, "name"), 0);
	assert_int_equal(value_object_remove(o, "name"), -1);
	got = json_write(c, 0);
	assert_non_null(strstr(got, "\"name\":"));
	free(got);
	got = json_write(o, 0);
	assert_null(strstr(got, "\"name\":"));
	free(got);
	value_free(c);
	value_free(o);

	got = json_write(NULL, 0);
	assert_str_eq_msg("NULL", got, "null");
	free(got);
}

static void
test_write_invalid_utf8(void **state)
{
	struct value	*v;
	char		*got;

	(void)state;
	/* A lone byte, an overlong "/", a surrogate, a cut sequence. */
	v = value_new_string("a\xff" "b\xc0\xaf" "c\xed\xa0\x80" "d\xe2\x82");
	got = json_write(v, 0);
	assert_str_eq_msg("invalid utf-8", got,
	    "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\"");
	free(got);
	value_free(v);
}

static void
test_write_cap(void **state)
{
	struct value	*v;
	struct buf	 b;

	(void)state;
	v = value_new_string("0123456789");
	buf_init(&b, 8);
	assert_int_equal(json_write_buf(&b, v, 0), -1);
	buf_free(&b);
	buf_init(&b, 12);
	assert_int_equal(json_write_buf(&b, v, 0), 0);
	assert_str_eq_msg("at cap", b.data, "\"0123456789\"");
	buf_free(&b);
	value_free(v);
}

struct number_case {
	const char	*text;
	int		 valid;
};

static const struct number_case number_cases[] = {
	{ "0", 1 }, { "-0", 1 }, { "85", 1 }, { "1.21", 1 }, { "1e5", 1 },
	{ "1E+5", 1 }, { "-2.5e-3", 1 },
	{ "", 0 }, { "-", 0 }, { "01", 0 }, { "1.", 0 }, { ".5", 0 },
	{ "1e", 0 }, { "+1", 0 }, { "0x10", 0 }, { "NaN", 0 },
	{ "Infinity", 0 }, { "1 ", 0 }, { "1e5.5", 0 },
};

static void
test_number_text(void **state)
{
	struct value	*v;
	size_t		 i;
	long long	 n;
	int		 failed = 0;
	char		*got;

	(void)state;
	for (i = 0; i < sizeof number_cases / sizeof number_cases[0]; i++) {
		v = value_new_number_text(number_cases[i].text);
		if ((v != NULL) != number_cases[i].valid) {
			print_error("\"%s\": got %s, want %s\n",
			    number_cases[i].text, v ? "valid" : "invalid",
			    number_cases[i].valid ? "valid" : "invalid");
			failed++;
		}
		value_free(v);
	}
	assert_int_equal(failed, 0);

	/* Doubles print in their shortest exact form. */
	v = value_new_double(1.21);
	assert_string_equal(value_number_text(v), "1.21");
	value_free(v);
	v = value_new_double(1e21);
	assert_string_equal(value_number_text(v), "1e+21");
	value_free(v);
	v = value_new_double(1.0 / 3.0);
	assert_true(value_number_double(v) == 1.0 / 3.0);
	value_free(v);
	v = value_new_double(0.0 / 0.0);
	got = json_write(v, 0);
	assert_str_eq_msg("NaN", got, "null");
	free(got);
	value_free(v);

	v = value_new_number_text("1e3");
	assert_int_equal(value_number_int(v, &n), 0);
	assert_int_equal(n, 1000);
	value_free(v);
	v = value_new_number_text("99999999999999999999");
	assert_int_equal(value_number_int(v, &n), -1);
	value_free(v);
}

static void
test_big_object(void **state)
{
	struct value	*o;
	char		 key[32];
	int		 i, failed = 0;
	long long	 n;

	(void)state;
	o = value_new_object();
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		value_object_set(o, key, value_new_int(i));
	}
	for (i = 0; i < 5000; i += 2) {
		snprintf(key, sizeof key, "k%d", i);
		assert_int_equal(value_object_remove(o, key), 0);
	}
	assert_int_equal(value_object_len(o), 2500);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		if ((value_object_get(o, key) != NULL) != (i % 2 == 1) ||
		    (i % 2 == 1 &&
		    (value_number_int(value_object_get(o, key), &n) != 0 ||
		    n != i))) {
			print_error("%s: wrong after removals\n", key);
			failed++;
		}
	}
	/* Order is kept through the removals. */
	assert_string_equal(value_object_key(o, 0), "k1");
	assert_string_equal(value_object_key(o, 2499), "k4999");
	value_free(o);
	assert_int_equal(failed, 0);
}

static void
test_parse_file(void **state)
{
	struct value	*v;
	char		 path[] = "/tmp/postroom-json.XXXXXX";
	char		*cause = NULL;
	int		 fd;

	(void)state;
	v = json_parse_file("/nonexistent/data.json", &cause);
	assert_null(v);
	assert_int_equal(errno, ENOENT);
	assert_str_eq_msg("missing", cause,
	    "/nonexistent/data.json: No such file or directory");
	free(cause);

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "{\n\"a\": [1,\n2,]\n}\n", 17), 17);
	close(fd);
	v = json_parse_file(path, &cause);
	assert_null(v);
	assert_int_equal(errno, 0);
	assert_true(strncmp(cause, path, strlen(path)) == 0);
	assert_string_equal(cause + strlen(path),
	    ": line 3, column 3: unexpected character");
	free(cause);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_parsed_values),
		cmocka_unit_test(test_build_and_write),
		cmocka_unit_test(test_write_invalid_utf8),
		cmocka_unit_test(test_write_cap),
		cmocka_unit_test(test_number_text),
		cmocka_unit_test(test_big_object),
		cmocka_unit_test(test_parse_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
