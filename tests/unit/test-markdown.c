/*
 * test-markdown.c - Markdown to HTML and to plain text.
 *
 * Owns: the golden files (every tests/golden/markdown/NAME.md is rendered
 * and compared with NAME.html, NAME.txt at width 72 and, when present,
 * NAME.raw.html with raw HTML allowed; each is a test of its own),
 * table-driven checks of the text layout rules and of the URL policy
 * (images: https:// only), and reading a source for its images and its
 * opening heading.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>

#include "buf.h"
#include "markdown.h"

/* --- golden files ------------------------------------------------------- */

static char *
test_read(const char *path)
{
	struct buf	 b;

	buf_init(&b, 1024 * 1024);
	if (buf_read_file(&b, path) != 0) {
		buf_free(&b);
		return NULL;
	}
	if (b.len == 0) {	/* buf_detach() leaves "" unterminated */
		buf_free(&b);
		return strdup("");
	}
	return buf_detach(&b, NULL);
}

/* Compare, printing the first line that differs (got/want). */
static int
test_diff(const char *what, const char *got, const char *want)
{
	const char	*g = got, *w = want, *ge, *we;
	int		 line = 1;

	if (strcmp(got, want) == 0)
		return 0;
	for (;;) {
		ge = strchr(g, '\n');
		we = strchr(w, '\n');
		if (ge == NULL)
			ge = g + strlen(g);
		if (we == NULL)
			we = w + strlen(w);
		if (ge - g != we - w || memcmp(g, w, (size_t)(ge - g)) != 0 ||
		    (*ge == '\0') != (*we == '\0'))
			break;
		if (*ge == '\0')
			break;
		g = ge + 1;
		w = we + 1;
		line++;
	}
	print_error("%s: line %d differs:\n  got  \"%.*s\"%s\n"
	    "  want \"%.*s\"%s\n", what, line, (int)(ge - g), g,
	    *ge == '\0' ? " (end)" : "", (int)(we - w), w,
	    *we == '\0' ? " (end)" : "");
	return -1;
}

static void
test_golden_one(void **state)
{
	const char	*name = *state;
	char		*dir, *path, *md, *want, *got;
	int		 failed = 0;

	if (asprintf(&dir, "%s/tests/golden/markdown", test_top()) == -1)
		fail();
	if (asprintf(&path, "%s/%s.md", dir, name) == -1)
		fail();
	md = test_read(path);
	if (md == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	free(path);

	if (asprintf(&path, "%s/%s.html", dir, name) == -1)
		fail();
	if ((want = test_read(path)) == NULL) {
		print_error("%s: missing (every .md needs a .html)\n", path);
		failed = 1;
	} else {
		got = markdown_to_html(md, strlen(md), 0);
		failed |= test_diff(path, got, want) != 0;
		free(got);
		free(want);
	}
	free(path);

	if (asprintf(&path, "%s/%s.raw.html", dir, name) == -1)
		fail();
	if ((want = test_read(path)) != NULL) {
		got = markdown_to_html(md, strlen(md), 1);
		failed |= test_diff(path, got, want) != 0;
		free(got);
		free(want);
	}
	free(path);

	if (asprintf(&path, "%s/%s.txt", dir, name) == -1)
		fail();
	if ((want = test_read(path)) == NULL) {
		print_error("%s: missing (every .md needs a .txt)\n", path);
		failed = 1;
	} else {
		got = markdown_to_text(md, strlen(md), 72);
		failed |= test_diff(path, got, want) != 0;
		free(got);
		free(want);
	}
	free(path);

	free(md);
	free(dir);
	if (failed)
		fail();
}

static void
test_no_golden(void **state)
{
	fail_msg("no NAME.md files in %s/tests/golden/markdown", test_top());
}

static int
test_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NAME of every NAME.md in the golden directory, sorted. */
static char **
test_golden_names(size_t *n)
{
	char		*dir, **names = NULL;
	DIR		*d;
	struct dirent	*de;
	size_t		 len;

	*n = 0;
	if (asprintf(&dir, "%s/tests/golden/markdown", test_top()) == -1)
		return NULL;
	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 3 || strcmp(de->d_name + len - 3, ".md") != 0)
			continue;
		names = realloc(names, (*n + 1) * sizeof *names);
		if (names == NULL)
			abort();
		names[(*n)++] = strndup(de->d_name, len - 3);
	}
	closedir(d);
	free(dir);
	qsort(names, *n, sizeof *names, test_name_cmp);
	return names;
}

/* --- text layout -------------------------------------------------------- */

static const struct {
	const char	*name;
	int		 width;
	const char	*md;
	const char	*want;
} texts[] = {
	{ "empty", 72, "", "" },
	{ "blank lines only", 72, "\n\n  \n", "" },
	{ "one word", 72, "hello", "hello\n" },
	{ "wrap at the width", 20,
	    "aaaa bbbb cccc dddd eeee ffff gggg",
	    "aaaa bbbb cccc dddd\neeee ffff gggg\n" },
	{ "exactly the width", 9, "aaaa bbbb cccc", "aaaa bbbb\ncccc\n" },
	{ "counts characters, not bytes", 9,
	    "\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 \xc5\xbc\xc3\xb3\xc5\x82\xc4"
	    "\x87 \xc5\xbc\xc3\xb3\xc5\x82\xc4\x87",
	    "\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87 \xc5\xbc\xc3\xb3\xc5\x82\xc4"
	    "\x87\n\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\n" },
	{ "emoji are one character", 5,
	    "\xf0\x9f\x93\x8a \xf0\x9f\x93\x88 \xf0\x9f\x93\x89 "
	    "\xf0\x9f\x8f\xa5",
	    "\xf0\x9f\x93\x8a \xf0\x9f\x93\x88 \xf0\x9f\x93\x89\n"
	    "\xf0\x9f\x8f\xa5\n" },
	{ "long word on its own line", 10,
	    "a verylongwordindeed b", "a\nverylongwordindeed\nb\n" },
	{ "spaces collapse", 72, "a  b&#32;&#32;c", "a b c\n" },
	{ "soft break is a space", 72, "one\ntwo", "one two\n" },
	{ "hard break kept", 72, "one\\\ntwo", "one\ntwo\n" },
	{ "emphasis", 72, "*a* and **b** and ***c*** and *x **y** z*",
	    "*a* and *b* and *c* and *x y z*\n" },
	{ "code span as it is, white space collapsed", 72,
	    "run `make  check` now", "run make check now\n" },
	{ "smart punctuation", 72, "\"q\" 'a' -- --- ...",
	    "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x80\x98" "a\xe2\x80\x99 "
	    "\xe2\x80\x93 \xe2\x80\x94 \xe2\x80\xa6\n" },
	{ "h1", 72, "# Title *x*", "Title *x*\n=========\n" },
	{ "h2 counts characters", 72, "## \xc5\xbc\xc3\xb3\xc5\x82\xc4\x87",
	    "\xc5\xbc\xc3\xb3\xc5\x82\xc4\x87\n----\n" },
	{ "h3", 72, "### Deeper", "### Deeper\n" },
	{ "h6", 72, "###### Deepest", "###### Deepest\n" },
	{ "wrapped heading underlined to its widest line", 12,
	    "# aaaa bbbb cccc d", "aaaa bbbb\ncccc d\n=========\n" },
	{ "link", 72, "[text](https://a.example/)",
	    "text [1]\n\nLinks:\n[1] https://a.example/\n" },
	{ "same URL, same number", 72,
	    "[a](https://a.example/) [b](https://b.example/) "
	    "[c](https://a.example/)",
	    "a [1] b [2] c [1]\n\nLinks:\n[1] https://a.example/\n"
	    "[2] https://b.example/\n" },
	{ "reference stays with its word", 12, "aaaa bbbb [cc](https://c/)",
	    "aaaa bbbb\ncc [1]\n\nLinks:\n[1] https://c/\n" },
	{ "autolink once", 72, "<https://a.example/x>",
	    "https://a.example/x\n" },
	{ "mail autolink once", 72, "<someone@example.org>",
	    "someone@example.org\n" },
	{ "link text equal to URL", 72,
	    "[https://a.example/](https://a.example/)",
	    "https://a.example/\n" },
	{ "image", 72, "![Logo](https://a.example/l.png)",
	    "[image: Logo] [1]\n\nLinks:\n[1] https://a.example/l.png\n" },
	{ "image without alt", 72, "![](https://a.example/l.png)",
	    "[image] [1]\n\nLinks:\n[1] https://a.example/l.png\n" },
	{ "image alt is plain", 72, "![*a* [b](https://b/)](https://i/)",
	    "[image: a b] [1]\n\nLinks:\n[1] https://i/\n" },
	{ "cid image unwrapped (postroom sends no parts)", 72,
	    "![Logo](cid:logo)", "Logo\n" },
	{ "relative image unwrapped", 72, "![Logo](logo.png)", "Logo\n" },
	{ "javascript link unwrapped", 72, "[click](javascript:alert(1))",
	    "click\n" },
	{ "bullets", 72, "- a\n- b\n", "- a\n- b\n" },
	{ "star and plus bullets", 72, "* a\n\n+ b\n", "- a\n\n- b\n" },
	{ "hanging indent", 12, "- aaaa bbbb cccc",
	    "- aaaa bbbb\n  cccc\n" },
	{ "ordered", 72, "3. a\n4. b\n", "3. a\n4. b\n" },
	{ "ordered, paren", 72, "1) a\n2) b\n", "1) a\n2) b\n" },
	{ "ordered hanging indent", 14, "1. aaaa bbbb cccc",
	    "1. aaaa bbbb\n   cccc\n" },
	{ "nested", 72, "- a\n  - b\n    - c\n- d",
	    "- a\n  - b\n    - c\n- d\n" },
	{ "loose", 72, "- a\n\n- b\n", "- a\n\n- b\n" },
	{ "empty item", 72, "- a\n-\n- c\n", "- a\n-\n- c\n" },
	{ "item starting with a list", 72, "- - a\n  - b\n",
	    "- - a\n  - b\n" },
	{ "quote", 72, "> a\n>\n> b", "> a\n>\n> b\n" },
	{ "quote wraps within the width", 12, "> aaaa bbbb cccc",
	    "> aaaa bbbb\n> cccc\n" },
	{ "nested quote", 72, "> a\n>\n> > b", "> a\n>\n> > b\n" },
	{ "list in quote", 72, "> - a\n> - b", "> - a\n> - b\n" },
	{ "quote in item", 72, "- > a\n  > b", "- > a b\n" },
	{ "code block not wrapped", 10,
	    "```\nthis line is much longer than ten\n\n  x\n```",
	    "    this line is much longer than ten\n\n      x\n" },
	{ "code in quote", 72, ">     code\n>     more",
	    ">     code\n>     more\n" },
	{ "empty code block", 72, "a\n\n```\n```\n\nb", "a\n\nb\n" },
	{ "thematic break", 10, "a\n\n---\n\nb",
	    "a\n\n----------\n\nb\n" },
	{ "thematic break in quote", 10, "> ***",
	    "> --------\n" },
	{ "html block dropped", 72, "a\n\n<div>\nx\n</div>\n\nb",
	    "a\n\nb\n" },
	{ "inline html dropped", 72, "a <b>bold</b> c", "a bold c\n" },
	{ "only inline html", 72, "a\n\n<span></span>\n\nb", "a\n\nb\n" },
	{ "entities", 72, "&amp; &lt;x&gt; &copy;",
	    "& <x> \xc2\xa9\n" },
	{ "blocks separated by one blank line", 72,
	    "# T\npara\n- item\n> quote\n```\ncode\n```\n***",
	    "T\n=\n\npara\n\n- item\n\n> quote\n\n    code\n\n"
	    "------------------------------------------------------------"
	    "------------\n" },
	{ "control characters", 72, "a\x01" "b\tc\x7f" "d",
	    "a b c d\n" },
	{ "invalid UTF-8 replaced", 72, "a\xff" "b",
	    "a\xef\xbf\xbd" "b\n" },
	{ "default width", 0,
	    "aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa "
	    "aaaaaaaaa aaaaaaaaa",
	    "aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa aaaaaaaaa "
	    "aaaaaaaaa\naaaaaaaaa\n" },
};

static void
test_text(void **state)
{
	char	*got, what[128];
	size_t	 i;
	int	 failed = 0;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		got = markdown_to_text(texts[i].md, strlen(texts[i].md),
		    texts[i].width);
		snprintf(what, sizeof what, "%s (width %d)", texts[i].name,
		    texts[i].width);
		failed |= test_diff(what, got, texts[i].want) != 0;
		free(got);
	}
	if (failed)
		fail();
}

/* The input need not be NUL-terminated, and may contain NULs. */
static void
test_length(void **state)
{
	static const char md[] = "*ab*cdef";
	char	*got;

	got = markdown_to_text(md, 4, 72);
	assert_str_eq_msg("first 4 bytes as text", got, "*ab*\n");
	free(got);
	got = markdown_to_html(md, 4, 0);
	assert_str_eq_msg("first 4 bytes as HTML", got,
	    "<p><em>ab</em></p>\n");
	free(got);
	got = markdown_to_html("a\0b", 3, 0);
	assert_str_eq_msg("NUL", got, "<p>a\xef\xbf\xbd" "b</p>\n");
	free(got);
	got = markdown_to_text(NULL, 0, 72);
	assert_str_eq_msg("NULL", got, "");
	free(got);
}

/* --- HTML and the URL policy -------------------------------------------- */

static const struct {
	const char	*name;
	const char	*md;
	const char	*want_safe;
	const char	*want_raw;	/* allow_raw_html */
} htmls[] = {
	{ "javascript link",
	    "[x](javascript:alert(1))", "<p>x</p>\n", "<p>x</p>\n" },
	{ "upper-case scheme",
	    "[x](JAVASCRIPT:alert(1))", "<p>x</p>\n", "<p>x</p>\n" },
	{ "entity-encoded scheme",
	    "[x](&#106;avascript:alert(1))", "<p>x</p>\n", "<p>x</p>\n" },
	{ "tab inside the scheme",
	    "[x](<java\tscript:alert(1)>)", "<p>x</p>\n", "<p>x</p>\n" },
	{ "leading space",
	    "[x](< javascript:alert(1)>)", "<p>x</p>\n", "<p>x</p>\n" },
	{ "vbscript", "[x](vbscript:msgbox)", "<p>x</p>\n", "<p>x</p>\n" },
	{ "data link", "[x](data:text/html,hi)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "data image", "![x](data:image/png;base64,AAAA)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "javascript image", "![x](javascript:alert(1))", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "javascript autolink", "<javascript:alert(1)>",
	    "<p>javascript:alert(1)</p>\n",
	    "<p>javascript:alert(1)</p>\n" },
	{ "mailto kept", "[x](mailto:a@example.org)",
	    "<p><a href=\"mailto:a@example.org\">x</a></p>\n",
	    "<p><a href=\"mailto:a@example.org\">x</a></p>\n" },
	{ "tel kept", "[x](tel:+441214960000)",
	    "<p><a href=\"tel:+441214960000\">x</a></p>\n",
	    "<p><a href=\"tel:+441214960000\">x</a></p>\n" },
	{ "https kept, escaped", "[x](https://a.example/?a=1&b=\"2\")",
	    "<p><a href=\"https://a.example/?a=1&amp;b=%222%22\">x</a></p>\n",
	    "<p><a href=\"https://a.example/?a=1&amp;b=%222%22\">x</a></p>\n" },
	{ "relative kept", "[x](/events#may)",
	    "<p><a href=\"/events#may\">x</a></p>\n",
	    "<p><a href=\"/events#may\">x</a></p>\n" },
	{ "long relative name kept", "[x](averyveryverylongpagename.html)",
	    "<p><a href=\"averyveryverylongpagename.html\">x</a></p>\n",
	    "<p><a href=\"averyveryverylongpagename.html\">x</a></p>\n" },
	{ "long unknown scheme refused", "[x](averyveryverylongscheme:x)",
	    "<p>x</p>\n", "<p>x</p>\n" },
	{ "colon after a slash is not a scheme", "[x](a/b:c)",
	    "<p><a href=\"a/b:c\">x</a></p>\n",
	    "<p><a href=\"a/b:c\">x</a></p>\n" },
	{ "cid image unwrapped", "![x](cid:logo)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "https image kept", "![x](HTTPS://a.example/l.png)",
	    "<p><img src=\"HTTPS://a.example/l.png\" alt=\"x\" /></p>\n",
	    "<p><img src=\"HTTPS://a.example/l.png\" alt=\"x\" /></p>\n" },
	{ "http image unwrapped", "![x](http://a.example/l.png)",
	    "<p>x</p>\n", "<p>x</p>\n" },
	{ "relative image unwrapped", "![x](logo.png)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "Windows path image unwrapped", "![x](C:\\pics\\l.png)",
	    "<p>x</p>\n", "<p>x</p>\n" },
	{ "file image unwrapped", "![x](file:///l.png)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "https with no server unwrapped", "![x](https:///l.png)",
	    "<p>x</p>\n", "<p>x</p>\n" },
	{ "relative link still kept", "[x](logo.png)",
	    "<p><a href=\"logo.png\">x</a></p>\n",
	    "<p><a href=\"logo.png\">x</a></p>\n" },
	{ "cid link refused", "[x](cid:logo)", "<p>x</p>\n",
	    "<p>x</p>\n" },
	{ "empty URL unwrapped", "[x]()", "<p>x</p>\n", "<p>x</p>\n" },
	{ "empty text gets the URL", "[](https://a.example/)",
	    "<p><a href=\"https://a.example/\">https://a.example/</a></p>\n",
	    "<p><a href=\"https://a.example/\">https://a.example/</a></p>\n" },
	{ "html block", "<div onclick=\"x()\">\nhi\n</div>", "",
	    "<div onclick=\"x()\">\nhi\n</div>\n" },
	{ "script", "<script>alert(1)</script>", "",
	    "<script>alert(1)</script>\n" },
	{ "inline html", "a <img src=x onerror=alert(1)> b",
	    "<p>a  b</p>\n",
	    "<p>a <img src=x onerror=alert(1)> b</p>\n" },
	{ "comment", "<!-- c -->", "", "<!-- c -->\n" },
	{ "escaped text", "<b>&lt;b&gt;</b> \\<i>",
	    "<p>&lt;b&gt; &lt;i&gt;</p>\n",
	    "<p><b>&lt;b&gt;</b> &lt;i&gt;</p>\n" },
	{ "smart punctuation", "\"Don't\" -- `\"x\"`",
	    "<p>\xe2\x80\x9c" "Don\xe2\x80\x99t\xe2\x80\x9d \xe2\x80\x93 "
	    "<code>&quot;x&quot;</code></p>\n",
	    "<p>\xe2\x80\x9c" "Don\xe2\x80\x99t\xe2\x80\x9d \xe2\x80\x93 "
	    "<code>&quot;x&quot;</code></p>\n" },
};

static void
test_html(void **state)
{
	char	*got, what[160];
	size_t	 i;
	int	 failed = 0;

	for (i = 0; i < sizeof htmls / sizeof htmls[0]; i++) {
		got = markdown_to_html(htmls[i].md, strlen(htmls[i].md), 0);
		snprintf(what, sizeof what, "%s", htmls[i].name);
		failed |= test_diff(what, got, htmls[i].want_safe) != 0;
		free(got);
		got = markdown_to_html(htmls[i].md, strlen(htmls[i].md), 1);
		snprintf(what, sizeof what, "%s (raw HTML allowed)",
		    htmls[i].name);
		failed |= test_diff(what, got, htmls[i].want_raw) != 0;
		free(got);
	}
	if (failed)
		fail();
}

/* --- reading a source: images, the opening heading ---------------------- */

static void
test_images(void **state)
{
	static const char md[] =
	    "# Title\n"
	    "\n"
	    "Text ![a](logo.png) and ![b](https://a.example/b.png)\n"
	    "over lines ![c](C:\\pics\\c.png)\n"
	    "![d](C:\\My Pictures\\d.png) `![e](code.png)`\n"
	    "\n"
	    "> - ![f][ref]\n"
	    "\n"
	    "    ![g](in-a-code-block.png)\n"
	    "\n"
	    "[ref]: http://a.example/f.png\n";
	static const struct {
		const char	*url;
		unsigned	 line;
		int		 broken;
		int		 ok;
	} want[] = {
		{ "logo.png", 3, 0, 0 },
		{ "https://a.example/b.png", 3, 0, 1 },
		{ "C:\\pics\\c.png", 4, 0, 0 },
		{ "C:\\My Pictures\\d.png", 5, 1, 0 },
		{ "http://a.example/f.png", 7, 0, 0 },
	};
	struct markdown_image	*imgs;
	size_t			 n, i, nwant = sizeof want / sizeof want[0];
	int			 failed = 0;

	(void)state;
	n = markdown_images(md, strlen(md), &imgs);
	if (n != nwant) {
		for (i = 0; i < n; i++)
			print_error("got image %zu: \"%s\" line %u\n", i,
			    imgs[i].url, imgs[i].line);
		fail_msg("got %zu images, want %zu", n, nwant);
	}
	for (i = 0; i < n; i++) {
		if (strcmp(imgs[i].url, want[i].url) != 0 ||
		    imgs[i].line != want[i].line ||
		    imgs[i].broken != want[i].broken ||
		    markdown_image_ok(imgs[i].url) != want[i].ok) {
			print_error("image %zu: got \"%s\" line %u broken %d "
			    "ok %d, want \"%s\" line %u broken %d ok %d\n", i,
			    imgs[i].url, imgs[i].line, imgs[i].broken,
			    markdown_image_ok(imgs[i].url), want[i].url,
			    want[i].line, want[i].broken, want[i].ok);
			failed++;
		}
	}
	markdown_images_free(imgs, n);
	assert_int_equal(failed, 0);
	assert_int_equal(markdown_images("no images", 9, &imgs), 0);
	assert_null(imgs);
}

static void
test_first_heading(void **state)
{
	static const struct {
		const char	*md;
		int		 raw;
		int		 want;
	} cases[] = {
		{ "# Title\n\nText.\n", 0, 1 },
		{ "Title\n=====\n\nText.\n", 0, 1 },
		{ "## Section\n\nText.\n", 0, 2 },
		{ "Text.\n\n# Later\n", 0, 0 },
		{ "", 0, 0 },
		{ "- # in a list\n", 0, 0 },
		/* Raw HTML dropped first: the heading opens what is left. */
		{ "<!-- note -->\n\n# Title\n", 0, 1 },
		{ "<!-- note -->\n\n# Title\n", 1, 0 },
	};
	size_t	i;
	int	got, failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = markdown_first_heading(cases[i].md,
		    strlen(cases[i].md), cases[i].raw);
		if (got != cases[i].want) {
			print_error("case %zu: got %d, want %d\n", i, got,
			    cases[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/* Deep nesting and big input: no crash, no quadratic blow-up. */
static void
test_stress(void **state)
{
	struct buf	 b;
	char		*got;
	size_t		 i;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < 2000; i++)
		assert_int_equal(buf_addstr(&b, "> "), 0);
	assert_int_equal(buf_addstr(&b, "deep\n"), 0);
	got = markdown_to_text(b.data, b.len, 72);
	assert_non_null(strstr(got, "deep\n"));
	free(got);
	buf_reset(&b);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_printf(&b, "%*s- item %zu\n",
		    (int)(i % 40) * 2, "", i), 0);
	got = markdown_to_text(b.data, b.len, 72);
	assert_non_null(strstr(got, "item 999\n"));
	free(got);
	buf_reset(&b);
	for (i = 0; i < 20000; i++)
		assert_int_equal(buf_printf(&b, "Word%zu [link %zu]"
		    "(https://example.org/%zu) *emph* and text. ", i, i,
		    i % 500), 0);
	got = markdown_to_text(b.data, b.len, 72);
	assert_non_null(strstr(got, "[500] https://example.org/499\n"));
	free(got);
	got = markdown_to_html(b.data, b.len, 0);
	free(got);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_stress),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_first_heading),
	};
	struct CMUnitTest	*tests;
	char			**names, *label;
	size_t			 n, i, nfixed = sizeof fixed / sizeof fixed[0];
	int			 rc;

	names = test_golden_names(&n);
	tests = calloc(nfixed + n + 1, sizeof *tests);
	if (tests == NULL)
		abort();
	memcpy(tests, fixed, sizeof fixed);
	for (i = 0; i < n; i++) {
		if (asprintf(&label, "golden %s", names[i]) == -1)
			abort();
		tests[nfixed + i].name = label;
		tests[nfixed + i].test_func = test_golden_one;
		tests[nfixed + i].initial_state = names[i];
	}
	if (n == 0) {
		tests[nfixed].name = "golden files present";
		tests[nfixed].test_func = test_no_golden;
		n = 1;
	}
	rc = _cmocka_run_group_tests("test-markdown", tests, nfixed + n,
	    NULL, NULL);
	for (i = 0; names != NULL && i < n; i++) {
		free((char *)tests[nfixed + i].name);
		free(names[i]);
	}
	free(names);
	free(tests);
	return rc;
}
