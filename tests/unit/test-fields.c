/*
 * test-fields.c - checking a campaign's merge fields and images before
 * anyone receives them (fields.c).
 *
 *   - the distance behind suggestions (suggest.c: "nmae" is 1 from "name");
 *   - the check, table-driven: each case a subject, a body and the
 *     attribute keys the list's members have, and the problems wanted,
 *     in order, as "subject|LINE KIND what -> suggestion" lines: typos
 *     and their nearest names, lines, names inside sections, attributes
 *     of the list in any case, template-only fields, images;
 *   - the fields some recipients may lack, each once;
 *   - the messages, which name the field, its line and the suggestion;
 *   - the table: every documented field is in the README.
 */
#include "testutil.h"

#include <errno.h>

#include "buf.h"
#include "fields.h"
#include "suggest.h"
#include "xmalloc.h"

/* --- distance ------------------------------------------------------------- */

static void
test_distance(void **state)
{
	static const struct {
		const char	*a;
		const char	*b;
		size_t		 want;
	} cases[] = {
		{ "", "", 0 },
		{ "name", "name", 0 },
		{ "name", "NAME", 0 },
		{ "nmae", "name", 1 },		/* two letters swapped */
		{ "nam", "name", 1 },
		{ "names", "name", 1 },
		{ "nbme", "name", 1 },
		{ "organization", "organisation", 1 },
		{ "subscribr.name", "subscriber.name", 1 },
		{ "lst.name", "list.name", 1 },
		{ "abc", "", 3 },
		{ "ca", "abc", 3 },		/* OSA, not full Damerau */
		{ "kitten", "sitting", 3 },
	};
	char	 longer[SUGGEST_MAX + 2];
	size_t	 i, got;
	int	 failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = suggest_distance(cases[i].a, cases[i].b);
		if (got != cases[i].want) {
			print_error("\"%s\" to \"%s\": got %zu, want %zu\n",
			    cases[i].a, cases[i].b, got, cases[i].want);
			failed++;
		}
	}
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	if (suggest_distance(longer, "a") != SIZE_MAX) {
		print_error("a long string: got %zu, want SIZE_MAX\n",
		    suggest_distance(longer, "a"));
		failed++;
	}
	assert_int_equal(failed, 0);
}

/* --- the check ------------------------------------------------------------ */

#define NOATTRS	{ NULL }

struct check_case {
	const char	*name;
	const char	*subject;
	const char	*body;
	const char	*attrs[4];	/* NULL-terminated */
	const char	*want;		/* one line per problem */
};

static const struct check_case check_cases[] = {
	{ "every documented field is fine",
	  "{{subscriber.name}} {{list.name}} {{campaign.date}}",
	  "{{subscriber.name}} {{subscriber.email}} {{list.name}} "
	  "{{list.slug}} {{list.description}} {{campaign.id}} "
	  "{{campaign.subject}} {{campaign.date}} {{unsubscribe_url}} "
	  "{{preferences_url}} {{archive_url}} {{network.name}} "
	  "{{network.enquiries}} {{! a comment }}\n",
	  NOATTRS, "" },
	{ "a typo in the subject",
	  "Hello {{subscriber.nmae}}", "Body.\n", NOATTRS,
	  "subject unknown subscriber.nmae -> subscriber.name\n" },
	{ "a typo in the body, with its line",
	  "S", "Dear {{subscriber.name}},\n\nNews.\n\nFrom {{lst.name}}\n",
	  NOATTRS, "5 unknown lst.name -> list.name\n" },
	{ "several, in the order a reader meets them",
	  "{{campaign.dte}}",
	  "![logo](logo.png)\n\n{{subscriber.nmae}}\n\n{{netwrk.name}}\n",
	  NOATTRS,
	  "subject unknown campaign.dte -> campaign.date\n"
	  "1 image logo.png\n"
	  "3 unknown subscriber.nmae -> subscriber.name\n"
	  "5 unknown netwrk.name -> network.name\n" },
	{ "too far from anything: no suggestion",
	  "S", "{{subscriber.xyzzy}} {{frobnicate}}\n", NOATTRS,
	  "1 unknown subscriber.xyzzy\n1 unknown frobnicate\n" },
	{ "raw and ampersand variables are names too",
	  "S", "{{{subscriber.nmae}}} {{& list.nme}}\n", NOATTRS,
	  "1 unknown subscriber.nmae -> subscriber.name\n"
	  "1 unknown list.nme -> list.name\n" },
	{ "a merge field in a code span is still one",
	  "S", "`{{subscriber.nmae}}`\n", NOATTRS,
	  "1 unknown subscriber.nmae -> subscriber.name\n" },
	{ "an attribute nobody has",
	  "S", "From {{subscriber.organisation}}.\n", NOATTRS,
	  "1 unknown subscriber.organisation\n" },
	{ "an attribute a member has",
	  "{{subscriber.organisation}}",
	  "{{subscriber.organisation}} {{subscriber.attrs.organisation}}\n",
	  { "organisation", NULL }, "" },
	{ "attribute names match in any case",
	  "S", "{{subscriber.organisation}} {{subscriber.ORGANISATION}} "
	  "{{subscriber.attrs.organisation}}\n",
	  { "Organisation", NULL }, "" },
	{ "documented names match in any case, as they render",
	  "{{Subscriber.Name}}", "{{LIST.name}}\n", NOATTRS, "" },
	{ "a typo of an attribute",
	  "S", "{{subscriber.organization}}\n", { "Organisation", NULL },
	  "1 unknown subscriber.organization -> subscriber.Organisation\n" },
	{ "a bare name gets the field that ends in it",
	  "S", "{{organisation}} {{email}}\n", { "organisation", NULL },
	  "1 unknown organisation -> subscriber.organisation\n"
	  "1 unknown email -> subscriber.email\n" },
	{ "name, email and attrs keys are only under attrs",
	  "S", "{{subscriber.attrs.name}} {{subscriber.attrs.attrs}} "
	  "{{subscriber.attrs}}\n",
	  { "name", "attrs", NULL }, "1 unknown subscriber.attrs -> "
	  "subscriber.attrs.name\n" },
	{ "a key no tag can name is not suggested",
	  "S", "{{subscriber.job_title}}\n", { "Job Title", "a.b", NULL },
	  "1 unknown subscriber.job_title\n" },
	{ "names inside a section are relative to it",
	  "S", "{{#subscriber}}\n{{name}} {{email}}\n{{/subscriber}}\n"
	  "{{#list}}{{name}}{{/list}}\n", NOATTRS, "" },
	{ "a typo inside a section, suggested in full",
	  "S", "{{#subscriber}}\n\n{{nmae}}\n{{/subscriber}}\n", NOATTRS,
	  "3 unknown nmae -> subscriber.name\n" },
	{ "outer names still resolve inside a section",
	  "S", "{{#subscriber.name}}Dear {{subscriber.name}} of "
	  "{{list.name}}{{/subscriber.name}}{{^subscriber.name}}Hello"
	  "{{/subscriber.name}}\n", NOATTRS, "" },
	{ "sections nest",
	  "S", "{{#subscriber}}{{#attrs}}{{org}}{{/attrs}}{{/subscriber}}\n",
	  { "org", NULL }, "" },
	{ "an inverted section pushes no context",
	  "S", "{{^subscriber}}{{name}}{{/subscriber}}\n", NOATTRS,
	  "1 unknown name -> subscriber.name\n" },
	{ "the implicit iterator is fine",
	  "S", "{{#subscriber.org}}({{.}}){{/subscriber.org}} {{.}}\n",
	  { "org", NULL }, "" },
	{ "an unknown section, and what is inside it",
	  "S", "{{#subscriber.volunteer}}\n{{.}} {{list.name}} {{x}}\n"
	  "{{/subscriber.volunteer}}\n", NOATTRS,
	  "1 unknown subscriber.volunteer\n2 unknown x\n" },
	{ "a group as a section is fine, as a variable it is not",
	  "S", "{{#list}}x{{/list}}{{list}} {{network}}\n", NOATTRS,
	  "1 unknown list -> list.name\n1 unknown network -> network.name\n" },
	{ "a dotted name goes no deeper than a field",
	  "S", "{{subscriber.name.first}}\n", NOATTRS,
	  "1 unknown subscriber.name.first\n" },
	{ "template fields are not for bodies",
	  "{{body_text}}", "{{{body_html}}}\n\n{{#body_heading}}x"
	  "{{/body_heading}}\n", NOATTRS,
	  "subject template body_text\n1 template body_html\n"
	  "3 template body_heading\n" },
	{ "images: https only",
	  "S",
	  "![a](https://example.org/a.png)\n"
	  "![b](HTTPS://example.org/{{subscriber.email}}.png)\n"
	  "![c](logo.png)\n"
	  "![d](C:\\pics\\d.png)\n"
	  "![e](C:\\My Pictures\\e.png)\n"
	  "![f](http://example.org/f.png)\n"
	  "![g](file:///home/me/g.png)\n"
	  "![h](data:image/png;base64,AAAA)\n"
	  "![i](cid:logo)\n"
	  "![j]()\n"
	  "![k][r] ![l]({{subscriber.pic}})\n"
	  "\n"
	  "[r]: /images/k.png\n",
	  NOATTRS,
	  "3 image logo.png\n"
	  "4 image C:\\pics\\d.png\n"
	  "5 image C:\\My Pictures\\e.png\n"
	  "6 image http://example.org/f.png\n"
	  "7 image file:///home/me/g.png\n"
	  "8 image data:image/png;base64,AAAA\n"
	  "9 image cid:logo\n"
	  "10 image \n"
	  "11 unknown subscriber.pic\n"
	  "11 image /images/k.png\n"
	  "11 image {{subscriber.pic}}\n" },
	{ "an image in a code block is code",
	  "S", "    ![a](logo.png)\n\n```\n![b](b.png)\n```\n", NOATTRS, "" },
};

/* The report as "LINE KIND what -> suggestion" lines. */
static char *
describe(const struct fields_report *r)
{
	static const char *const kinds[] = {
		[FIELDS_UNKNOWN] = "unknown",
		[FIELDS_TEMPLATE_ONLY] = "template",
		[FIELDS_IMAGE] = "image",
	};
	const struct fields_problem	*p;
	struct buf			 b;
	size_t				 i;

	buf_init(&b, BUF_NOMAX);
	buf_add(&b, "", 0);
	for (i = 0; i < r->nproblems; i++) {
		p = &r->problems[i];
		if (p->line == 0)
			buf_addstr(&b, "subject");
		else
			buf_printf(&b, "%u", p->line);
		buf_printf(&b, " %s %s", kinds[p->kind], p->what);
		if (p->suggest != NULL)
			buf_printf(&b, " -> %s", p->suggest);
		buf_addc(&b, '\n');
	}
	buf_add(&b, "", 1);
	return buf_detach(&b, NULL);
}

static int
check_one(const struct check_case *c)
{
	struct fields_input	 in;
	struct fields_report	 r;
	char			*cause = NULL, *got;
	size_t			 n;
	int			 ok;

	for (n = 0; c->attrs[n] != NULL; n++)
		/* nothing */;
	memset(&in, 0, sizeof in);
	in.subject = c->subject;
	in.body = c->body;
	in.list = "news";
	in.attrs = c->attrs;
	in.nattrs = n;
	if (fields_check(&in, &r, &cause) == -1) {
		print_error("%s: got error \"%s\", want a report\n", c->name,
		    cause);
		free(cause);
		return 0;
	}
	got = describe(&r);
	ok = strcmp(got, c->want) == 0;
	if (!ok)
		print_error("%s:\n  got\n%s  want\n%s", c->name, got, c->want);
	free(got);
	fields_report_clear(&r);
	return ok;
}

static void
test_check(void **state)
{
	size_t	i;
	int	failed = 0;

	(void)state;
	for (i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++)
		failed += !check_one(&check_cases[i]);
	assert_int_equal(failed, 0);
}

/* The fields some recipients may lack: each once, as first written. */
static void
test_uses(void **state)
{
	static const char *const attrs[] = { "Organisation", "ics", NULL };
	static const char *const want[][2] = {
		{ "subscriber.name", NULL },
		{ "subscriber.organisation", "organisation" },
		{ "subscriber.attrs.ics", "ics" },
	};
	struct fields_input	 in;
	struct fields_report	 r;
	char			*cause = NULL;
	size_t			 i, n = sizeof want / sizeof want[0];

	(void)state;
	memset(&in, 0, sizeof in);
	in.subject = "For {{Subscriber.Name}}";
	in.body = "{{subscriber.organisation}} {{subscriber.ORGANISATION}}\n"
	    "{{#subscriber}}{{name}} {{attrs.ics}}{{/subscriber}} "
	    "{{subscriber.ics}} {{subscriber.email}} {{list.name}}\n";
	in.list = "news";
	in.attrs = attrs;
	in.nattrs = 2;
	assert_int_equal(fields_check(&in, &r, &cause), 0);
	assert_int_equal(r.nproblems, 0);
	if (r.nuses != n)
		fail_msg("got %zu uses, want %zu", r.nuses, n);
	for (i = 0; i < n; i++) {
		if (strcmp(r.uses[i].field, want[i][0]) != 0 ||
		    (want[i][1] == NULL ? r.uses[i].attr != NULL :
		    r.uses[i].attr == NULL ||
		    strcmp(r.uses[i].attr, want[i][1]) != 0))
			fail_msg("use %zu: got %s (%s), want %s (%s)", i,
			    r.uses[i].field, r.uses[i].attr != NULL ?
			    r.uses[i].attr : "NULL", want[i][0],
			    want[i][1] != NULL ? want[i][1] : "NULL");
	}
	fields_report_clear(&r);
}

/* Each message names where, the field, and the nearest name. */
static void
test_messages(void **state)
{
	static const char *const want[] = {
		"subject: {{subscriber.nmae}} is not a merge field: it is not "
		"a standard field, and no member of list \"news\" has a value "
		"for \"nmae\"; did you mean {{subscriber.name}}?",
		"body line 2: {{lst.name}} is not a merge field; did you mean "
		"{{list.name}}?",
		"body line 3: {{list}} is a group of fields, not a field; "
		"did you mean {{list.name}}?",
		"body line 4: {{body_html}} only works in the templates",
		"body line 5: the image \"C:\\pics\\a.png\" is a file on a "
		"computer",
		"put the image on a web site the network controls and use its "
		"https:// address",
	};
	struct fields_input	 in;
	struct fields_report	 r;
	char			*cause = NULL, *text;
	size_t			 i;

	(void)state;
	memset(&in, 0, sizeof in);
	in.subject = "{{subscriber.nmae}}";
	in.body = "x\n{{lst.name}}\n{{^list}}{{/list}}{{list}}\n"
	    "{{body_html}}\n![a](C:\\pics\\a.png)\n";
	in.list = "news";
	assert_int_equal(fields_check(&in, &r, &cause), 0);
	assert_int_equal(r.nproblems, 5);
	text = fields_report_text(&r);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (strstr(text, want[i]) == NULL)
			fail_msg("got \"%s\",\n  want it to hold \"%s\"", text,
			    want[i]);
	}
	if (strstr(text, "; body line 2:") == NULL)
		fail_msg("got \"%s\", want \"; \" between problems", text);
	free(text);
	fields_report_clear(&r);
}

/* Not Mustache at all: an error, not a report. */
static void
test_not_mustache(void **state)
{
	struct fields_input	 in;
	struct fields_report	 r;
	char			*cause = NULL;

	(void)state;
	memset(&in, 0, sizeof in);
	in.subject = "S";
	in.body = "a\n{{#x}}\n";
	in.list = "news";
	assert_int_equal(fields_check(&in, &r, &cause), -1);
	if (cause == NULL || strncmp(cause, "body: line 2:", 13) != 0)
		fail_msg("got \"%s\", want \"body: line 2: ...\"", cause);
	free(cause);
	assert_int_equal(r.nproblems, 0);
	in.subject = "{{x";
	assert_int_equal(fields_check(&in, &r, &cause), -1);
	if (cause == NULL || strncmp(cause, "subject: ", 9) != 0)
		fail_msg("got \"%s\", want \"subject: ...\"", cause);
	free(cause);
}

/* A body full of unknown names: the first FIELDS_MAX_PROBLEMS are listed. */
static void
test_many(void **state)
{
	struct fields_input	 in;
	struct fields_report	 r;
	struct buf		 b;
	char			*cause = NULL, *text, *want;
	size_t			 i;

	(void)state;
	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < FIELDS_MAX_PROBLEMS + 50; i++)
		buf_printf(&b, "{{subscriber.unknown%zu}}\n", i);
	buf_add(&b, "", 1);
	memset(&in, 0, sizeof in);
	in.subject = "S";
	in.body = b.data;
	in.list = "news";
	assert_int_equal(fields_check(&in, &r, &cause), 0);
	assert_int_equal(r.nproblems, FIELDS_MAX_PROBLEMS);
	assert_int_equal(r.nmore, 50);
	text = fields_report_text(&r);
	want = xprintf("body line %d: {{subscriber.unknown%d}}",
	    FIELDS_MAX_PROBLEMS, FIELDS_MAX_PROBLEMS - 1);
	if (strstr(text, want) == NULL ||
	    strlen(text) < 13 ||
	    strcmp(text + strlen(text) - 13, "; and 50 more") != 0)
		fail_msg("got \"...%s\"", text + strlen(text) - 60);
	free(want);
	free(text);
	fields_report_clear(&r);
	buf_free(&b);
}

/* --- the table ------------------------------------------------------------ */

/* The README documents every field of the table, in the form {{name}}. */
static void
test_readme(void **state)
{
	const struct fields_doc	*d;
	struct buf		 b;
	char			*path, *want;
	int			 missing = 0;

	(void)state;
	path = xprintf("%s/README.md", test_top());
	buf_init(&b, BUF_NOMAX);
	if (buf_read_file(&b, path) == -1)
		fail_msg("%s: %s", path, strerror(errno));
	buf_add(&b, "", 1);
	for (d = fields_table; d->name != NULL; d++) {
		want = xprintf("`{{%s}}`", d->name);
		if (strstr(b.data, want) == NULL) {
			print_error("README.md: no %s\n", want);
			missing++;
		}
		free(want);
	}
	buf_free(&b);
	free(path);
	assert_int_equal(missing, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_uses),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_not_mustache),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_readme),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
