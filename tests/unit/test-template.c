/*
 * test-template.c - the Mustache renderer against the official spec files
 * (read at test time from ../shared/spec/mustache with json.c), and
 * postroom's own cases: error reporting, escaping, deep contexts, big
 * objects, data changed in place between renders, limits, partials,
 * names matched in any case (template_set_nocase) and the walk over a
 * template's names (template_names).
 */
#include "testutil.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
/*
 * By path: the json-c flags put /usr/include/json-c, which has a json.h of
 * its own, ahead of -Isrc.
 */
#include "json.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

/* --- the spec files ------------------------------------------------------ */

static int
run_spec_case(const char *file, const struct value *tc, struct buf *report)
{
	const char			*name, *tmpl, *want;
	const struct value		*partials, *data;
	struct template_partials	*tp;
	struct template			*t;
	struct buf			 out;
	char				*cause = NULL;
	size_t				 tlen, wlen, i;
	int				 ok;

	name = value_object_get_string(tc, "name");
	tmpl = value_string(value_object_get(tc, "template"), &tlen);
	want = value_string(value_object_get(tc, "expected"), &wlen);
	data = value_object_get(tc, "data");
	if (name == NULL || tmpl == NULL || want == NULL) {
		buf_printf(report, "%s: malformed test case\n", file);
		return 0;
	}

	tp = template_partials_new();
	partials = value_object_get(tc, "partials");
	for (i = 0; i < value_object_len(partials); i++) {
		size_t		 plen;
		const char	*ptext;

		ptext = value_string(value_object_value(partials, i), &plen);
		if (ptext != NULL) {
			template_partials_add(tp, value_object_key(partials, i),
			    ptext, plen);
		}
	}

	buf_init(&out, 1024 * 1024);
	if ((t = template_parse(tmpl, tlen, &cause)) == NULL ||
	    template_render(t, data, tp, &out, &cause) == -1) {
		buf_printf(report, "%s: \"%s\"\n  template \"%s\"\n"
		    "  error    %s\n", file, name, tmpl, cause);
		ok = 0;
	} else if (out.len != wlen ||
	    (wlen > 0 && memcmp(out.data, want, wlen) != 0)) {
		buf_printf(report, "%s: \"%s\"\n  template \"%s\"\n"
		    "  got      \"%s\"\n  want     \"%s\"\n", file, name, tmpl,
		    out.data != NULL ? out.data : "", want);
		ok = 0;
	} else
		ok = 1;
	free(cause);
	buf_free(&out);
	template_free(t);
	template_partials_free(tp);
	return ok;
}

static void
run_spec_file(const char *spec)
{
	const char	*shared = test_shared();
	struct value	*doc;
	const struct value *tests;
	struct buf	 report;
	char		*path, *cause = NULL;
	size_t		 i, n, failed = 0;

	if (shared == NULL) {
		print_message("SKIPPED: ../shared/spec/mustache not found\n");
		skip();
	}
	path = xprintf("%s/spec/mustache/%s.json", shared, spec);
	if ((doc = json_parse_file(path, &cause)) == NULL) {
		print_error("%s\n", cause);
		free(cause);
		free(path);
		fail();
	}
	tests = value_object_get(doc, "tests");
	n = value_list_len(tests);
	if (n == 0) {
		print_error("%s: no tests\n", path);
		free(path);
		value_free(doc);
		fail();
	}
	buf_init(&report, BUF_NOMAX);
	for (i = 0; i < n; i++) {
		if (!run_spec_case(spec, value_list_get(tests, i), &report))
			failed++;
	}
	if (failed > 0) {
		print_error("%s", report.data);
		print_error("%s: %zu of %zu spec tests failed\n", spec, failed,
		    n);
	}
	buf_free(&report);
	value_free(doc);
	free(path);
	assert_int_equal(failed, 0);
}

static void test_spec_comments(void **s) { (void)s; run_spec_file("comments"); }
static void test_spec_delimiters(void **s) { (void)s; run_spec_file("delimiters"); }
static void test_spec_interpolation(void **s) { (void)s; run_spec_file("interpolation"); }
static void test_spec_inverted(void **s) { (void)s; run_spec_file("inverted"); }
static void test_spec_partials(void **s) { (void)s; run_spec_file("partials"); }
static void test_spec_sections(void **s) { (void)s; run_spec_file("sections"); }

/* --- rendering: postroom's own cases ------------------------------------- */

struct render_case {
	const char	*name;
	const char	*tmpl;
	const char	*data;		/* JSON */
	int		 text;		/* template_render_text() */
	const char	*want;
	size_t		 tlen;		/* 0: strlen(tmpl) */
	size_t		 wlen;		/* 0: strlen(want) */
};

static const struct render_case render_cases[] = {
	{ "escape all five", "{{s}}", "{\"s\":\"<a href='x'>&\\\"</a>\"}", 0,
	  "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;", 0, 0 },
	{ "raw triple", "{{{s}}}", "{\"s\":\"<b>&</b>\"}", 0, "<b>&</b>", 0, 0 },
	{ "raw ampersand", "{{&s}}", "{\"s\":\"<b>&</b>\"}", 0, "<b>&</b>", 0, 0 },
	{ "text mode does not escape", "{{s}}", "{\"s\":\"a < b & 'c'\"}", 1,
	  "a < b & 'c'", 0, 0 },
	{ "text mode triple", "{{{s}}}", "{\"s\":\"<>\"}", 1, "<>", 0, 0 },
	{ "utf-8 passes through", "{{s}}", "{\"s\":\"caf\\u00e9 \\ud83d\\ude00\"}",
	  0, "caf\xc3\xa9 \xf0\x9f\x98\x80", 0, 0 },
	{ "numbers keep their text", "{{a}} {{b}} {{c}} {{d}}",
	  "{\"a\":1.50,\"b\":-3,\"c\":1e5,\"d\":0}", 0, "1.50 -3 1e5 0", 0, 0 },
	{ "booleans print", "{{t}} {{f}}", "{\"t\":true,\"f\":false}", 0,
	  "true false", 0, 0 },
	{ "lists and objects print nothing", "[{{l}}][{{o}}]",
	  "{\"l\":[1,2],\"o\":{\"a\":1}}", 0, "[][]", 0, 0 },
	{ "empty string is falsy", "{{#s}}yes{{/s}}{{^s}}no{{/s}}",
	  "{\"s\":\"\"}", 0, "no", 0, 0 },
	{ "zero is truthy", "{{#n}}n={{n}}{{/n}}", "{\"n\":0}", 0, "n=0", 0, 0 },
	{ "null data", "a{{x}}b{{#x}}c{{/x}}{{^x}}d{{/x}}", NULL, 0, "abd", 0, 0 },
	{ "scalar root", "{{.}}", "\"<x>\"", 0, "&lt;x&gt;", 0, 0 },
	{ "partial missing without partials", "[{{>p}}]", "{}", 0, "[]", 0, 0 },
	{ "nested lists", "{{#a}}{{#b}}{{x}}{{y}},{{/b}}{{/a}}",
	  "{\"a\":[{\"x\":1,\"b\":[{\"y\":2},{\"y\":3}]},{\"x\":4,\"b\":[]}]}",
	  0, "12,13,", 0, 0 },
	{ "newsletter shape",
	  "Dear {{name}},\n{{#items}}\n* {{title}}\n{{/items}}\n{{^items}}\n"
	  "Nothing new.\n{{/items}}\n",
	  "{\"name\":\"Ann\",\"items\":[{\"title\":\"A&E\"},{\"title\":\"B\"}]}",
	  1, "Dear Ann,\n* A&E\n* B\n", 0, 0 },
	{ "crlf standalone", "{{#a}}\r\nx\r\n{{/a}}\r\n", "{\"a\":true}", 0,
	  "x\r\n", 0, 0 },
	{ "nul byte in text", "a\0b{{x}}", "{\"x\":\"c\"}", 0, "a\0bc", 8, 4 },
};

static void
test_render_cases(void **state)
{
	const struct render_case	*c;
	struct template			*t;
	struct value			*data;
	struct buf			 out;
	char				*cause;
	size_t				 i, tlen, wlen;
	int				 failed = 0;

	(void)state;
	for (i = 0; i < sizeof render_cases / sizeof render_cases[0]; i++) {
		c = &render_cases[i];
		cause = NULL;
		tlen = c->tlen != 0 ? c->tlen : strlen(c->tmpl);
		wlen = c->wlen != 0 ? c->wlen : strlen(c->want);
		data = NULL;
		if (c->data != NULL &&
		    (data = json_parse(c->data, strlen(c->data), &cause)) ==
		    NULL) {
			print_error("%s: data: %s\n", c->name, cause);
			free(cause);
			failed++;
			continue;
		}
		buf_init(&out, BUF_NOMAX);
		if ((t = template_parse(c->tmpl, tlen, &cause)) == NULL ||
		    (c->text ? template_render_text(t, data, NULL, &out,
		    &cause) : template_render(t, data, NULL, &out,
		    &cause)) == -1) {
			print_error("%s: error %s\n", c->name, cause);
			failed++;
		} else if (out.len != wlen || (wlen > 0 &&
		    memcmp(out.data, c->want, wlen) != 0)) {
			print_error("%s:\n  got  \"%s\"\n  want \"%s\"\n",
			    c->name, out.data != NULL ? out.data : "",
			    c->want);
			failed++;
		}
		free(cause);
		buf_free(&out);
		template_free(t);
		value_free(data);
	}
	assert_int_equal(failed, 0);
}

/* --- rendering: escaping, deep contexts, big objects, data in place ------ */

/* Render tmpl (HTML) with data into a new string, failing on error. */
static char *
render_html(const char *tmpl, const struct value *data)
{
	struct template	*t;
	struct buf	 out;
	char		*cause = NULL;

	if ((t = template_parse(tmpl, strlen(tmpl), &cause)) == NULL)
		fail_msg("%s: %s", tmpl, cause);
	buf_init(&out, BUF_NOMAX);
	if (template_render(t, data, NULL, &out, &cause) == -1)
		fail_msg("%s: %s", tmpl, cause);
	template_free(t);
	if (out.data == NULL)
		buf_add(&out, "", 0);
	return buf_detach(&out, NULL);
}

/* Every printable ASCII byte and some UTF-8: only the five change. */
static void
test_escape_all(void **state)
{
	struct value	*data;
	struct buf	 in, want;
	char		*got;
	int		 c;

	(void)state;
	buf_init(&in, BUF_NOMAX);
	buf_init(&want, BUF_NOMAX);
	for (c = 0x20; c < 0x7f; c++) {
		buf_addc(&in, (char)c);
		switch (c) {
		case '&':
			buf_addstr(&want, "&amp;");
			break;
		case '"':
			buf_addstr(&want, "&quot;");
			break;
		case '<':
			buf_addstr(&want, "&lt;");
			break;
		case '>':
			buf_addstr(&want, "&gt;");
			break;
		case '\'':
			buf_addstr(&want, "&#39;");
			break;
		default:
			buf_addc(&want, (char)c);
			break;
		}
	}
	buf_addstr(&in, "\t\n caf\xc3\xa9 <\xe2\x80\x94>");
	buf_addstr(&want, "\t\n caf\xc3\xa9 &lt;\xe2\x80\x94&gt;");
	data = value_new_object();
	value_object_set(data, "s", value_new_stringn(in.data, in.len));
	got = render_html("[{{s}}]", data);
	buf_free(&in);
	buf_init(&in, BUF_NOMAX);
	buf_addc(&in, '[');
	buf_add(&in, want.data, want.len);
	buf_addc(&in, ']');
	assert_str_eq_msg("escape", got, in.data);
	free(got);
	value_free(data);
	buf_free(&in);
	buf_free(&want);
}

/*
 * Sections forty deep, each pushing an object (the context stack grows
 * past what a render starts with), and names resolved against the
 * objects below.
 */
static void
test_deep_contexts(void **state)
{
	struct value	*data, *v, *inner;
	struct buf	 t;
	char		*got;
	int		 i;

	(void)state;
	inner = value_new_object();
	value_object_set(inner, "v", value_new_string("deep"));
	for (i = 0; i < 40; i++) {
		v = value_new_object();
		value_object_set(v, "a", inner);
		if (i == 20)
			value_object_set(v, "mid", value_new_string("m"));
		inner = v;
	}
	data = inner;
	value_object_set(data, "top", value_new_string("t"));
	buf_init(&t, BUF_NOMAX);
	for (i = 0; i < 40; i++)
		buf_addstr(&t, "{{#a}}");
	buf_addstr(&t, "{{v}}/{{mid}}/{{top}}");
	for (i = 0; i < 40; i++)
		buf_addstr(&t, "{{/a}}");
	got = render_html(t.data, data);
	assert_str_eq_msg("forty deep", got, "deep/m/t");
	free(got);
	buf_free(&t);
	value_free(data);
}

/*
 * Objects big enough to be indexed (value.c hashes their keys), looked
 * up by plain and dotted names, missing names included.
 */
static void
test_big_objects(void **state)
{
	struct value	*data, *o;
	char		 key[16], val[16], *got;
	int		 i;

	(void)state;
	data = value_new_object();
	o = value_new_object();
	for (i = 0; i < 40; i++) {
		snprintf(key, sizeof key, "k%d", i);
		snprintf(val, sizeof val, "v%d", i);
		value_object_set(data, key, value_new_string(val));
		snprintf(val, sizeof val, "o%d", i);
		value_object_set(o, key, value_new_string(val));
	}
	value_object_set(data, "o", o);
	got = render_html("{{k0}} {{k39}} {{k17}} [{{missing}}] {{o.k5}} "
	    "[{{o.missing}}] {{#o}}{{k38}} {{k1}}{{/o}} [{{k5.x}}]", data);
	assert_str_eq_msg("big objects", got,
	    "v0 v39 v17 [] o5 [] o38 o1 []");
	free(got);
	value_free(data);
}

/*
 * A string changed in place between renders (what a newsletter does with
 * each recipient's fields): each render shows the text of the moment,
 * longer and shorter than before.
 */
static void
test_data_in_place(void **state)
{
	static const char *const texts[] = {
		"Ann", "Someone with a much longer name than Ann", "", "B&o",
		"Someone with a much longer name than Ann, and longer still",
	};
	struct value	*data, *sub, *name;
	struct template	*t;
	struct buf	 out;
	char		*cause = NULL, *want;
	size_t		 i;

	(void)state;
	data = value_new_object();
	sub = value_new_object();
	name = value_new_string("first");
	value_object_set(sub, "name", name);
	value_object_set(data, "subscriber", sub);
	t = template_parse("Dear {{subscriber.name}},{{#subscriber.name}} "
	    "yes{{/subscriber.name}}", strlen("Dear {{subscriber.name}},"
	    "{{#subscriber.name}} yes{{/subscriber.name}}"), &cause);
	assert_non_null(t);
	buf_init(&out, BUF_NOMAX);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		value_string_set(name, texts[i], strlen(texts[i]));
		buf_reset(&out);
		assert_int_equal(template_render_text(t, data, NULL, &out,
		    &cause), 0);
		want = xprintf("Dear %s,%s", texts[i], *texts[i] != '\0' ?
		    " yes" : "");
		assert_str_eq_msg(texts[i], out.data, want);
		free(want);
	}
	buf_free(&out);
	template_free(t);
	value_free(data);
}

/* --- syntax errors ------------------------------------------------------- */

struct error_case {
	const char	*name;
	const char	*tmpl;
	const char	*want;		/* the whole cause */
};

static const struct error_case error_cases[] = {
	{ "unclosed section", "a\n{{#items}}\nx\n",
	  "line 2: unclosed section {{#items}}" },
	{ "unclosed inner section", "{{#a}}\n{{^b}}\n{{/a}}",
	  "line 3: {{/a}} closes {{^b}} opened on line 2" },
	{ "mismatched close", "{{#a}}\n\n{{/b}}",
	  "line 3: {{/b}} closes {{#a}} opened on line 1" },
	{ "close without open", "x\n{{/a}}", "line 2: {{/a}} closes no section" },
	{ "unclosed tag", "a\nb {{name\n", "line 2: unclosed tag (no \"}}\" "
	  "after \"{{\")" },
	{ "unclosed triple", "{{{name}}", "line 1: unclosed tag (no \"}}}\" "
	  "after \"{{\")" },
	{ "unclosed with new delimiters", "{{=<% %>=}}\n<%a",
	  "line 2: unclosed tag (no \"%>\" after \"<%\")" },
	{ "empty tag", "{{}}", "line 1: empty tag name" },
	{ "empty section name", "{{# }}{{/ }}", "line 1: empty tag name" },
	{ "space in name", "{{a b}}", "line 1: bad tag name \"a b\"" },
	{ "bad dotted name", "{{a..b}}", "line 1: bad name \"a..b\"" },
	{ "trailing dot", "{{a.}}", "line 1: bad name \"a.\"" },
	{ "bad delimiters", "\n{{=<%=}}", "line 2: bad set-delimiter tag "
	  "(want {{=OPEN CLOSE=}}, each without spaces or \"=\")" },
	{ "three delimiters", "{{=a b c=}}", "line 1: bad set-delimiter tag "
	  "(want {{=OPEN CLOSE=}}, each without spaces or \"=\")" },
};

static void
test_parse_errors(void **state)
{
	const struct error_case	*c;
	struct template		*t;
	char			*cause;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		c = &error_cases[i];
		cause = NULL;
		t = template_parse(c->tmpl, strlen(c->tmpl), &cause);
		if (t != NULL) {
			print_error("%s: parsed, want error \"%s\"\n", c->name,
			    c->want);
			template_free(t);
			failed++;
		} else if (strcmp(cause, c->want) != 0) {
			print_error("%s:\n  got  \"%s\"\n  want \"%s\"\n",
			    c->name, cause, c->want);
			failed++;
		}
		free(cause);
	}
	assert_int_equal(failed, 0);
}

static void
test_nesting_limit(void **state)
{
	struct buf	 b;
	struct template	*t;
	char		*cause = NULL;
	int		 i;

	(void)state;
	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < TEMPLATE_MAX_NEST; i++)
		buf_addstr(&b, "{{#a}}");
	for (i = 0; i < TEMPLATE_MAX_NEST; i++)
		buf_addstr(&b, "{{/a}}");
	t = template_parse(b.data, b.len, &cause);
	assert_non_null(t);
	template_free(t);

	buf_reset(&b);
	for (i = 0; i < TEMPLATE_MAX_NEST + 1; i++)
		buf_addstr(&b, "{{#a}}\n");
	t = template_parse(b.data, b.len, &cause);
	assert_null(t);
	assert_str_eq_msg("nesting", cause,
	    "line 101: sections nested more than 100 deep");
	free(cause);
	buf_free(&b);
}

/* --- limits and partials ------------------------------------------------- */

/* Render tmpl with one partial set; returns the cause or the output. */
static char *
render_with(const char *tmpl, const char *pname, const char *ptext,
    const char *json, struct buf *out, int *rc)
{
	struct template_partials	*tp;
	struct template			*t;
	struct value			*data = NULL;
	char				*cause = NULL;

	tp = template_partials_new();
	if (pname != NULL)
		template_partials_add(tp, pname, ptext, strlen(ptext));
	if (json != NULL)
		data = json_parse(json, strlen(json), &cause);
	assert_non_null(t = template_parse(tmpl, strlen(tmpl), &cause));
	*rc = template_render(t, data, tp, out, &cause);
	template_free(t);
	template_partials_free(tp);
	value_free(data);
	return cause;
}

static void
test_partial_recursion_limit(void **state)
{
	struct buf	 out;
	char		*cause;
	int		 rc;

	(void)state;
	buf_init(&out, BUF_NOMAX);
	cause = render_with("x{{>self}}", "self", "{{>self}}", NULL, &out,
	    &rc);
	assert_int_equal(rc, -1);
	assert_str_eq_msg("self partial", cause, "line 1: partial \"self\" "
	    "nested more than 64 deep (a partial that includes itself?)");
	free(cause);
	buf_free(&out);

	/* Each level doubles: the depth limit must stop it at once. */
	buf_init(&out, BUF_NOMAX);
	cause = render_with("{{>p}}", "p", "a{{>p}}{{>p}}", NULL, &out, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(cause, "nested more than 64 deep"));
	free(cause);
	buf_free(&out);
}

static void
test_step_limit(void **state)
{
	struct buf	 out;
	char		*cause;
	int		 rc;

	(void)state;
	/* 20^8 iterations with empty output: only the step budget stops it. */
	buf_init(&out, BUF_NOMAX);
	cause = render_with("{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}{{#l}}"
	    "{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}{{/l}}", NULL, NULL,
	    "{\"l\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]}",
	    &out, &rc);
	assert_int_equal(rc, -1);
	assert_str_eq_msg("steps", cause,
	    "template too costly to render (more than 10000000 steps)");
	free(cause);
	buf_free(&out);
}

static void
test_output_cap(void **state)
{
	struct buf	 out;
	char		*cause;
	int		 rc;

	(void)state;
	buf_init(&out, 100);
	cause = render_with("{{#l}}0123456789{{/l}}", NULL, NULL,
	    "{\"l\":[1,2,3,4,5,6,7,8,9,10,11,12]}", &out, &rc);
	assert_int_equal(rc, -1);
	assert_str_eq_msg("cap", cause, "output larger than 100 bytes");
	free(cause);
	buf_free(&out);

	/* Exactly at the cap is fine. */
	buf_init(&out, 100);
	cause = render_with("{{#l}}0123456789{{/l}}", NULL, NULL,
	    "{\"l\":[1,2,3,4,5,6,7,8,9,10]}", &out, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(out.len, 100);
	free(cause);
	buf_free(&out);
}

static void
test_partial_errors(void **state)
{
	struct buf	 out;
	char		*cause;
	int		 rc;

	(void)state;
	buf_init(&out, BUF_NOMAX);
	cause = render_with("a {{>p}}", "p", "x\n{{#y}}", "{}", &out, &rc);
	assert_int_equal(rc, -1);
	assert_str_eq_msg("partial syntax", cause,
	    "partial \"p\": line 2: unclosed section {{#y}}");
	free(cause);
	buf_free(&out);
}

static void
test_partials_replace(void **state)
{
	struct template_partials	*tp;
	struct template			*t;
	struct buf			 out;
	char				*cause = NULL;

	(void)state;
	tp = template_partials_new();
	template_partials_add(tp, "p", "one", 3);
	assert_non_null(t = template_parse("[{{>p}}]", 8, &cause));
	buf_init(&out, BUF_NOMAX);
	assert_int_equal(template_render(t, NULL, tp, &out, &cause), 0);
	template_partials_add(tp, "p", "two", 3);
	assert_int_equal(template_render(t, NULL, tp, &out, &cause), 0);
	assert_str_eq_msg("replace", out.data, "[one][two]");
	buf_free(&out);
	template_free(t);
	template_partials_free(tp);
}

static int
lookup_cb(void *arg, const char *name, struct buf *text, char **cause)
{
	int	*calls = arg;

	(*calls)++;
	if (strcmp(name, "bad") == 0) {
		*cause = xstrdup("callback failed");
		return -1;
	}
	if (strcmp(name, "greet") != 0)
		return 0;
	buf_addstr(text, "Hello {{name}}!\n");
	return 1;
}

static void
test_partials_callback(void **state)
{
	struct template_partials	*tp;
	struct template			*t;
	struct value			*data;
	struct buf			 out;
	char				*cause = NULL;
	int				 calls = 0;
	const char			*tmpl =
	    "{{#people}}\n  {{>greet}}\n{{/people}}[{{>none}}]";

	(void)state;
	tp = template_partials_callback(lookup_cb, &calls);
	data = json_parse("{\"people\":[{\"name\":\"A\"},{\"name\":\"B\"}]}",
	    38, &cause);
	assert_non_null(data);
	assert_non_null(t = template_parse(tmpl, strlen(tmpl), &cause));
	buf_init(&out, BUF_NOMAX);
	assert_int_equal(template_render(t, data, tp, &out, &cause), 0);
	assert_str_eq_msg("callback", out.data,
	    "  Hello A!\n  Hello B!\n[]");
	/* Looked up once per name, then cached. */
	assert_int_equal(calls, 2);
	template_free(t);

	assert_non_null(t = template_parse("{{>bad}}", 8, &cause));
	assert_int_equal(template_render(t, data, tp, &out, &cause), -1);
	assert_str_eq_msg("callback error", cause,
	    "partial \"bad\": callback failed");
	free(cause);
	template_free(t);
	buf_free(&out);
	value_free(data);
	template_partials_free(tp);
}

static void
write_file(const char *path, const char *text)
{
	FILE	*f;

	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static void
test_partials_dir(void **state)
{
	struct template_partials	*tp;
	struct template			*t;
	struct buf			 out;
	char				 dir[] = "/tmp/postroom-tmpl.XXXXXX";
	char				*p, *cause = NULL;
	const char			*tmpl =
	    "{{>head}}|{{>plain}}|{{>sub/foot}}|{{>missing}}";

	(void)state;
	assert_non_null(mkdtemp(dir));
	p = xprintf("%s/head.mustache", dir);
	write_file(p, "H{{x}}");
	free(p);
	p = xprintf("%s/plain", dir);
	write_file(p, "P");
	free(p);
	p = xprintf("%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xprintf("%s/sub/foot.mustache", dir);
	write_file(p, "F");
	free(p);

	tp = template_partials_dir(dir);
	assert_non_null(t = template_parse(tmpl, strlen(tmpl), &cause));
	buf_init(&out, BUF_NOMAX);
	assert_int_equal(template_render(t, NULL, tp, &out, &cause), 0);
	assert_str_eq_msg("dir", out.data, "H|P|F|");
	template_free(t);

	/* A name may not climb out of the directory. */
	assert_non_null(t = template_parse("{{>../etc/passwd}}", 18, &cause));
	assert_int_equal(template_render(t, NULL, tp, &out, &cause), -1);
	assert_str_eq_msg("dotdot", cause,
	    "partial \"../etc/passwd\": bad name for a file");
	free(cause);
	template_free(t);
	template_partials_free(tp);
	buf_free(&out);

	p = xprintf("rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
	free(p);
}

static void
test_parse_file(void **state)
{
	struct template	*t;
	char		 path[] = "/tmp/postroom-tmpl.XXXXXX";
	char		*cause = NULL;
	int		 fd;

	(void)state;
	t = template_parse_file("/nonexistent/postroom.mustache", &cause);
	assert_null(t);
	assert_int_equal(errno, ENOENT);
	assert_str_eq_msg("missing", cause,
	    "/nonexistent/postroom.mustache: No such file or directory");
	free(cause);

	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, "ok\n{{#a}}\n", 10), 10);
	close(fd);
	t = template_parse_file(path, &cause);
	assert_null(t);
	assert_int_equal(errno, 0);
	assert_non_null(strstr(cause, ": line 2: unclosed section {{#a}}"));
	assert_int_equal(strncmp(cause, path, strlen(path)), 0);
	free(cause);
	unlink(path);
}

/* --- names in any case, and the names a template uses -------------------- */

struct nocase_case {
	const char	*name;
	const char	*tmpl;
	const char	*data;
	int		 nocase;
	const char	*want;
};

static const struct nocase_case nocase_cases[] = {
	{ "Mustache itself is case-sensitive", "[{{subscriber.org}}]",
	  "{\"subscriber\":{\"Org\":\"A\"}}", 0, "[]" },
	{ "another case matches", "[{{subscriber.org}}]",
	  "{\"subscriber\":{\"Org\":\"A\"}}", 1, "[A]" },
	{ "in the first part too", "[{{SUBSCRIBER.org}}]",
	  "{\"subscriber\":{\"Org\":\"A\"}}", 1, "[A]" },
	{ "the exact key wins", "[{{subscriber.org}}]",
	  "{\"subscriber\":{\"Org\":\"A\",\"org\":\"B\"}}", 1, "[B]" },
	{ "else the first in order", "[{{subscriber.ORG}}]",
	  "{\"subscriber\":{\"Org\":\"A\",\"org\":\"B\"}}", 1, "[A]" },
	{ "an exact match in an outer context wins",
	  "{{#inner}}[{{name}}]{{/inner}}",
	  "{\"name\":\"outer\",\"inner\":{\"Name\":\"inner\"}}", 1,
	  "[outer]" },
	{ "sections and inverted sections",
	  "{{#S.Name}}y{{/S.Name}}{{^S.NAME}}n{{/S.NAME}}",
	  "{\"s\":{\"name\":\"x\"}}", 1, "y" },
	{ "a miss is still empty", "[{{subscriber.nope}}]",
	  "{\"subscriber\":{\"Org\":\"A\"}}", 1, "[]" },
	{ "not ASCII: no folding", "[{{r\xc3\xa9gion}}]",
	  "{\"R\u00c9gion\":\"x\"}", 1, "[]" },
};

static void
test_nocase(void **state)
{
	const struct nocase_case	*c;
	struct template			*t;
	struct value			*data;
	struct buf			 out;
	char				*cause = NULL;
	size_t				 i;
	int				 failed = 0;

	(void)state;
	for (i = 0; i < sizeof nocase_cases / sizeof nocase_cases[0]; i++) {
		c = &nocase_cases[i];
		if ((data = json_parse(c->data, strlen(c->data), &cause)) ==
		    NULL)
			fail_msg("%s: data: %s", c->name, cause);
		if ((t = template_parse(c->tmpl, strlen(c->tmpl), &cause)) ==
		    NULL)
			fail_msg("%s: %s", c->name, cause);
		if (c->nocase)
			template_set_nocase(t);
		buf_init(&out, BUF_NOMAX);
		if (template_render(t, data, NULL, &out, &cause) == -1)
			fail_msg("%s: %s", c->name, cause);
		buf_add(&out, "", 1);
		if (strcmp(out.data, c->want) != 0) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->name,
			    out.data, c->want);
			failed++;
		}
		buf_free(&out);
		template_free(t);
		value_free(data);
	}
	assert_int_equal(failed, 0);
}

static int
names_fn(const struct template_name *tn, void *arg)
{
	struct buf	*b = arg;
	size_t		 i;

	buf_printf(b, "%c%s@%u", tn->kind, tn->name, tn->line);
	for (i = 0; i < tn->nouter; i++)
		buf_printf(b, "%s%s", i == 0 ? " in " : ",", tn->outer[i]);
	buf_addc(b, '\n');
	return 0;
}

static int
names_stop(const struct template_name *tn, void *arg)
{
	(void)tn;
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void
test_names(void **state)
{
	static const struct {
		const char	*tmpl;
		const char	*want;
	} cases[] = {
		{ "Hi {{a.b}} {{{c}}} {{& d}}{{! no }}{{> p}}\n",
		  " a.b@1\n&c@1\n&d@1\n" },
		{ "{{#s}}\n{{x}}\n{{^i}}{{y}}{{/i}}\n{{#t.u}}{{.}}{{/t.u}}\n"
		  "{{/s}}\n{{z}}\n",
		  "#s@1\n x@2 in s\n^i@3 in s\n y@3 in s\n#t.u@4 in s\n"
		  " .@4 in s,t.u\n z@6\n" },
		{ "{{#a}}{{/a}}{{#b}}{{#c}}{{d}}{{/c}}{{e}}{{/b}}{{f}}",
		  "#a@1\n#b@1\n#c@1 in b\n d@1 in b,c\n e@1 in b\n f@1\n" },
		{ "{{=<% %>=}}\n<% x %>\n<%#y%><%/y%>\n",
		  " x@2\n#y@3\n" },
	};
	struct template	*t;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;
	int		 n = 0, failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((t = template_parse(cases[i].tmpl, strlen(cases[i].tmpl),
		    &cause)) == NULL)
			fail_msg("case %zu: %s", i, cause);
		buf_init(&b, BUF_NOMAX);
		assert_int_equal(template_names(t, names_fn, &b), 0);
		buf_add(&b, "", 1);
		if (strcmp(b.data, cases[i].want) != 0) {
			print_error("case %zu:\n  got  \"%s\"\n  want \"%s\"\n",
			    i, b.data, cases[i].want);
			failed++;
		}
		buf_free(&b);
		template_free(t);
	}
	assert_int_equal(failed, 0);

	/* What fn returns stops the walk and comes back. */
	t = template_parse("{{a}}{{b}}{{c}}", 15, &cause);
	assert_non_null(t);
	assert_int_equal(template_names(t, names_stop, &n), 7);
	assert_int_equal(n, 2);
	template_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_comments),
		cmocka_unit_test(test_spec_delimiters),
		cmocka_unit_test(test_spec_interpolation),
		cmocka_unit_test(test_spec_inverted),
		cmocka_unit_test(test_spec_partials),
		cmocka_unit_test(test_spec_sections),
		cmocka_unit_test(test_render_cases),
		cmocka_unit_test(test_escape_all),
		cmocka_unit_test(test_deep_contexts),
		cmocka_unit_test(test_big_objects),
		cmocka_unit_test(test_data_in_place),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_partial_recursion_limit),
		cmocka_unit_test(test_step_limit),
		cmocka_unit_test(test_output_cap),
		cmocka_unit_test(test_partial_errors),
		cmocka_unit_test(test_partials_replace),
		cmocka_unit_test(test_partials_callback),
		cmocka_unit_test(test_partials_dir),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_nocase),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
