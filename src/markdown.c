/*
 * markdown.c - CommonMark to HTML (cmark's renderer) and to plain text
 * (our own walk over cmark's tree).
 *
 * Owns: the cmark options, the URL scheme policy (links and images),
 * dropping raw HTML, the plain-text layout described in markdown.h, and
 * reading a source for its images and its opening heading.  The only
 * file that includes <cmark.h>.  Does not own: what surrounds the body
 * (templates), line endings on the wire (the MIME layer), or what a
 * campaign may hold (fields.c).
 *
 * cmark allocates with its default allocator, which aborts when memory
 * runs out (as xmalloc does); what cmark_render_html() returns is freed
 * with free().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmark.h>

#include "buf.h"
#include "log.h"
#include "markdown.h"
#include "xmalloc.h"

#define MARKDOWN_OPTIONS	(CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8)
#define MARKDOWN_MIN_AVAIL	16	/* narrowest column (or width / 2) */
#define MARKDOWN_NBSP		'\001'	/* no break here; prints as ' ' */

/* --- the tree before rendering ------------------------------------------ */

static int
markdown_scheme_is(const char *scheme, size_t len, const char *const *list)
{
	size_t	 i;

	for (; *list != NULL; list++) {
		if (strlen(*list) != len)
			continue;
		for (i = 0; i < len; i++) {
			if ((scheme[i] | 0x20) != (*list)[i])
				break;
		}
		if (i == len)
			return 1;
	}
	return 0;
}

/*
 * The scheme of url, read as a browser reads it (leading spaces and
 * control characters skipped, tabs and newlines inside ignored), into
 * scheme (NUL-terminated, as written): its length, 0 when the URL has
 * none (relative, "#frag"), or -1 when it is longer than any we allow.
 * *rest (when not NULL) is set past the ':'.
 */
static int
markdown_url_scheme(const char *url, char *scheme, size_t size,
    const char **rest)
{
	size_t		 n = 0;
	unsigned char	 c;

	while (*url != '\0' && (unsigned char)*url <= 0x20)
		url++;
	for (; (c = (unsigned char)*url) != '\0'; url++) {
		if (c == '\t' || c == '\n' || c == '\r')
			continue;
		if (c == ':')
			break;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (n > 0 && ((c >= '0' && c <= '9') || c == '+' ||
		    c == '-' || c == '.'))) {
			if (n + 1 < size)
				scheme[n] = (char)c;
			n++;	/* longer than any we allow, if a scheme */
			continue;
		}
		return 0;	/* not a scheme: a relative URL */
	}
	if (c != ':' || n == 0)
		return 0;
	if (n + 1 > size)
		return -1;
	scheme[n] = '\0';
	if (rest != NULL)
		*rest = url + 1;
	return (int)n;
}

/*
 * An http:// address on this very machine ("http://127.0.0.1:8025/..."):
 * a postroom tried out on one computer, whose images only that computer
 * could fetch anyway.
 */
static int
markdown_loopback_http(const char *url)
{
	static const char *const hosts[] = {
		"http://127.0.0.1", "http://localhost", "http://[::1]", NULL
	};
	size_t	i, n;

	for (i = 0; hosts[i] != NULL; i++) {
		n = strlen(hosts[i]);
		if (strncasecmp(url, hosts[i], n) == 0 &&
		    (url[n] == ':' || url[n] == '/'))
			return 1;
	}
	return 0;
}

int
markdown_image_ok(const char *url)
{
	static const char *const https[] = { "https", NULL };
	const char	*rest;
	char		 scheme[16];
	int		 n;

	if (url != NULL && markdown_loopback_http(url))
		return 1;
	if (url == NULL ||
	    (n = markdown_url_scheme(url, scheme, sizeof scheme, &rest)) <= 0 ||
	    !markdown_scheme_is(scheme, (size_t)n, https))
		return 0;
	/* "https:" alone, or "https:/x", names no server. */
	return rest[0] == '/' && rest[1] == '/' && rest[2] != '\0' &&
	    rest[2] != '/';
}

/*
 * May this URL go in a message?  A link may have no scheme (relative,
 * "#frag") or one of link_schemes; an image only an https:// URL
 * (markdown_image_ok()).
 */
static int
markdown_url_ok(const char *url, int image)
{
	static const char *const link_schemes[] = {
		"http", "https", "mailto", "tel", NULL
	};
	char	 scheme[16];
	int	 n;

	if (image)
		return markdown_image_ok(url);
	if ((n = markdown_url_scheme(url, scheme, sizeof scheme, NULL)) == 0)
		return 1;
	if (n == -1)
		return 0;
	return markdown_scheme_is(scheme, (size_t)n, link_schemes);
}

/* Nothing but white space and line breaks (and HTML to drop) in it? */
static int
markdown_block_blank(cmark_node *block, int keep_html)
{
	cmark_node	*n;
	const char	*s;

	for (n = cmark_node_first_child(block); n != NULL;
	    n = cmark_node_next(n)) {
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_SOFTBREAK:
		case CMARK_NODE_LINEBREAK:
			break;
		case CMARK_NODE_HTML_INLINE:
			if (keep_html)
				return 0;
			break;
		case CMARK_NODE_TEXT:
			s = cmark_node_get_literal(n);
			if (s != NULL && s[strspn(s, " \t")] != '\0')
				return 0;
			break;
		default:
			return 0;
		}
	}
	return 1;
}

/* A link with no text would be invisible in HTML: show its URL. */
static void
markdown_link_fill(cmark_node *link, const char *url)
{
	cmark_node	*text, *c;

	while ((c = cmark_node_first_child(link)) != NULL)
		cmark_node_free(c);
	if ((text = cmark_node_new(CMARK_NODE_TEXT)) == NULL ||
	    !cmark_node_set_literal(text, url) ||
	    !cmark_node_append_child(link, text))
		fatalx("markdown: cannot add link text");
}

/*
 * Drop raw HTML (unless keep_html), unwrap links and images with URLs we
 * refuse (and links going nowhere), give links without text their URL as
 * text, and remove paragraphs that dropping HTML left empty.  Nodes are
 * collected first and changed after the walk, which cmark's iterator
 * requires.
 */
static void
markdown_clean(cmark_node *doc, int keep_html)
{
	cmark_iter	*it;
	cmark_node	*n, *c, **kill = NULL, **unwrap = NULL, **fill = NULL;
	size_t		 nkill = 0, nunwrap = 0, nfill = 0, i;
	cmark_event_type ev;
	cmark_node_type	 type;
	const char	*url;
	int		 dropped = 0;

	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		n = cmark_iter_get_node(it);
		type = cmark_node_get_type(n);
		if (!keep_html && (type == CMARK_NODE_HTML_BLOCK ||
		    type == CMARK_NODE_HTML_INLINE)) {
			kill = xreallocarray(kill, nkill + 1, sizeof *kill);
			kill[nkill++] = n;
		} else if (type == CMARK_NODE_LINK ||
		    type == CMARK_NODE_IMAGE) {
			url = cmark_node_get_url(n);
			if (url == NULL || *url == '\0' ||
			    !markdown_url_ok(url, type == CMARK_NODE_IMAGE)) {
				unwrap = xreallocarray(unwrap, nunwrap + 1,
				    sizeof *unwrap);
				unwrap[nunwrap++] = n;
			} else if (type == CMARK_NODE_LINK &&
			    markdown_block_blank(n, keep_html)) {
				fill = xreallocarray(fill, nfill + 1,
				    sizeof *fill);
				fill[nfill++] = n;
			}
		}
	}
	cmark_iter_free(it);

	for (i = 0; i < nunwrap; i++) {
		while ((c = cmark_node_first_child(unwrap[i])) != NULL)
			cmark_node_insert_before(unwrap[i], c);
		cmark_node_free(unwrap[i]);
	}
	for (i = 0; i < nkill; i++) {
		if (cmark_node_get_type(kill[i]) == CMARK_NODE_HTML_INLINE)
			dropped = 1;
		cmark_node_free(kill[i]);
	}
	for (i = 0; i < nfill; i++)
		markdown_link_fill(fill[i], cmark_node_get_url(fill[i]));
	free(fill);
	free(unwrap);
	free(kill);
	if (!dropped)
		return;

	nkill = 0;
	kill = NULL;
	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		n = cmark_iter_get_node(it);
		if (ev == CMARK_EVENT_ENTER &&
		    cmark_node_get_type(n) == CMARK_NODE_PARAGRAPH &&
		    markdown_block_blank(n, keep_html)) {
			kill = xreallocarray(kill, nkill + 1, sizeof *kill);
			kill[nkill++] = n;
		}
	}
	cmark_iter_free(it);
	for (i = 0; i < nkill; i++)
		cmark_node_free(kill[i]);
	free(kill);
}

static cmark_node *
markdown_parse(const char *md, size_t len, int keep_html)
{
	cmark_node	*doc;

	if (md == NULL)
		md = "";
	if ((doc = cmark_parse_document(md, len, MARKDOWN_OPTIONS)) == NULL)
		fatalx("cmark_parse_document failed");
	markdown_clean(doc, keep_html);
	return doc;
}

char *
markdown_to_html(const char *md, size_t len, int allow_raw_html)
{
	cmark_node	*doc;
	char		*html;
	int		 options = MARKDOWN_OPTIONS;

	doc = markdown_parse(md, len, allow_raw_html);
	if (allow_raw_html)
		options |= CMARK_OPT_UNSAFE;
	if ((html = cmark_render_html(doc, options)) == NULL)
		fatalx("cmark_render_html failed");
	cmark_node_free(doc);
	return html;
}

/* --- looking at the source ---------------------------------------------- */

static void
markdown_image_add(struct markdown_image **imgs, size_t *n, const char *url,
    size_t len, int line, int broken)
{
	struct markdown_image	*im;

	*imgs = xreallocarray(*imgs, *n + 1, sizeof **imgs);
	im = &(*imgs)[(*n)++];
	im->url = xstrndup(url, len);
	im->line = line > 0 ? (unsigned)line : 0;
	im->broken = broken;
}

/*
 * Text that reads "![alt](address)" but is not an image: cmark could not
 * read the address (spaces in it, a bracket...).  Added with what lies
 * between "](" and the next ")" or the end of the text.
 */
static void
markdown_images_broken(struct markdown_image **imgs, size_t *n,
    const char *s, int line)
{
	const char	*bang, *open, *close;

	while ((bang = strstr(s, "![")) != NULL) {
		if ((open = strstr(bang + 2, "](")) == NULL)
			return;
		open += 2;
		if ((close = strchr(open, ')')) == NULL)
			close = open + strlen(open);
		markdown_image_add(imgs, n, open, (size_t)(close - open), line,
		    1);
		s = *close != '\0' ? close + 1 : close;
	}
}

size_t
markdown_images(const char *md, size_t len, struct markdown_image **out)
{
	cmark_node		*doc, *n;
	cmark_iter		*it;
	cmark_event_type	 ev;
	const char		*url, *lit;
	size_t			 nimgs = 0;

	*out = NULL;
	if (md == NULL)
		md = "";
	/* The source as written: nothing cleaned away yet. */
	if ((doc = cmark_parse_document(md, len, MARKDOWN_OPTIONS)) == NULL)
		fatalx("cmark_parse_document failed");
	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev != CMARK_EVENT_ENTER)
			continue;
		n = cmark_iter_get_node(it);
		switch (cmark_node_get_type(n)) {
		case CMARK_NODE_IMAGE:
			url = cmark_node_get_url(n);
			if (url == NULL)
				url = "";
			markdown_image_add(out, &nimgs, url, strlen(url),
			    cmark_node_get_start_line(n), 0);
			break;
		case CMARK_NODE_TEXT:
			if ((lit = cmark_node_get_literal(n)) != NULL)
				markdown_images_broken(out, &nimgs, lit,
				    cmark_node_get_start_line(n));
			break;
		default:
			break;
		}
	}
	cmark_iter_free(it);
	cmark_node_free(doc);
	return nimgs;
}

void
markdown_images_free(struct markdown_image *imgs, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(imgs[i].url);
	free(imgs);
}

int
markdown_first_heading(const char *md, size_t len, int allow_raw_html)
{
	cmark_node	*doc, *first;
	int		 level = 0;

	doc = markdown_parse(md, len, allow_raw_html);
	first = cmark_node_first_child(doc);
	if (first != NULL && cmark_node_get_type(first) == CMARK_NODE_HEADING)
		level = cmark_node_get_heading_level(first);
	cmark_node_free(doc);
	return level;
}

/* --- plain text --------------------------------------------------------- */

/*
 * What goes before each line: one entry per enclosing block quote, list
 * item or code block.  A list item's marker ("- ", "12. ") is used on its
 * first line only, its hanging indent on the rest.
 */
struct markdown_prefix {
	char	 first[32];
	char	 rest[32];
	size_t	 width;
	int	 used;
};

struct markdown_text {
	struct buf		 out;
	size_t			 width;

	struct markdown_prefix	*pfx;
	size_t			 npfx;
	/* A blank line is owed before the next line, under this many. */
	int			 blank;
	size_t			 blank_depth;
	size_t			 nlines;

	struct buf		 inl;	/* the current paragraph or heading */
	size_t			*starts; /* where each open link/image began */
	size_t			 nstarts;
	int			 emph;	/* open emphasis */
	int			 image;	/* open images: alt text is plain */

	char			**links;
	size_t			 nlinks;
};

static size_t
markdown_utf8_width(const char *s, size_t len)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

static void
markdown_add(struct buf *b, const char *s, size_t len)
{
	if (buf_add(b, s, len) != 0)
		fatalx("markdown: buffer full");
}

static void
markdown_line(struct markdown_text *mt, const char *s, size_t len)
{
	size_t	 i, start;

	if (mt->blank && mt->nlines > 0) {
		start = mt->out.len;
		for (i = 0; i < mt->blank_depth && i < mt->npfx; i++)
			markdown_add(&mt->out, mt->pfx[i].rest,
			    strlen(mt->pfx[i].rest));
		while (mt->out.len > start && mt->out.data[mt->out.len - 1] ==
		    ' ')
			mt->out.len--;
		markdown_add(&mt->out, "\n", 1);
	}
	mt->blank = 0;

	start = mt->out.len;
	for (i = 0; i < mt->npfx; i++) {
		if (mt->pfx[i].used)
			markdown_add(&mt->out, mt->pfx[i].rest,
			    strlen(mt->pfx[i].rest));
		else
			markdown_add(&mt->out, mt->pfx[i].first,
			    strlen(mt->pfx[i].first));
		mt->pfx[i].used = 1;
	}
	markdown_add(&mt->out, s, len);
	while (mt->out.len > start && (mt->out.data[mt->out.len - 1] == ' ' ||
	    mt->out.data[mt->out.len - 1] == '\t'))
		mt->out.len--;
	markdown_add(&mt->out, "\n", 1);
	mt->nlines++;
}

static void
markdown_push(struct markdown_text *mt, const char *first, const char *rest)
{
	struct markdown_prefix	*p;

	mt->pfx = xreallocarray(mt->pfx, mt->npfx + 1, sizeof *mt->pfx);
	p = &mt->pfx[mt->npfx++];
	snprintf(p->first, sizeof p->first, "%s", first);
	snprintf(p->rest, sizeof p->rest, "%s", rest);
	p->width = strlen(p->first);
	p->used = 0;
}

static void
markdown_pop(struct markdown_text *mt)
{
	if (mt->npfx == 0)
		fatalx("markdown: prefix stack underflow");
	mt->npfx--;
}

static size_t
markdown_avail(struct markdown_text *mt)
{
	size_t	 i, used = 0, floor;

	for (i = 0; i < mt->npfx; i++)
		used += mt->pfx[i].width;
	/* Deep nesting squeezes text no narrower than this. */
	floor = mt->width / 2 < MARKDOWN_MIN_AVAIL ? mt->width / 2 :
	    MARKDOWN_MIN_AVAIL;
	if (floor == 0)
		floor = 1;
	if (used >= mt->width || mt->width - used < floor)
		return floor;
	return mt->width - used;
}

/*
 * Wrap s (words separated by ' ', hard breaks as '\n', MARKDOWN_NBSP
 * joining words) into lines of at most avail characters, and return the
 * widest line's width.
 */
static size_t
markdown_wrap(struct markdown_text *mt, const char *s, size_t len)
{
	struct buf	 line;
	size_t		 avail = markdown_avail(mt), i = 0, j, k, w, lw = 0;
	size_t		 widest = 0;

	buf_init(&line, BUF_NOMAX);
	buf_reset(&line);
	while (i <= len) {
		if (i == len || s[i] == '\n') {
			if (lw > 0)
				markdown_line(mt, line.data, line.len);
			if (lw > widest)
				widest = lw;
			buf_reset(&line);
			lw = 0;
			i++;
			continue;
		}
		if (s[i] == ' ') {
			i++;
			continue;
		}
		for (j = i; j < len && s[j] != ' ' && s[j] != '\n'; j++)
			/* nothing */;
		w = markdown_utf8_width(s + i, j - i);
		if (lw > 0 && lw + 1 + w > avail) {
			markdown_line(mt, line.data, line.len);
			if (lw > widest)
				widest = lw;
			buf_reset(&line);
			lw = 0;
		}
		if (lw > 0) {
			markdown_add(&line, " ", 1);
			lw++;
		}
		for (k = i; k < j; k++) {
			if (s[k] == MARKDOWN_NBSP)
				markdown_add(&line, " ", 1);
			else
				markdown_add(&line, s + k, 1);
		}
		lw += w;
		i = j;
	}
	buf_free(&line);
	return widest;
}

/* Inline text: spaces and controls become plain breakable spaces. */
static void
markdown_inline(struct markdown_text *mt, const char *s)
{
	unsigned char	 c;

	if (s == NULL)
		return;
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		markdown_add(&mt->inl, (const char *)&c, 1);
	}
}

static size_t
markdown_link_number(struct markdown_text *mt, const char *url)
{
	size_t	 i;

	for (i = 0; i < mt->nlinks; i++) {
		if (strcmp(mt->links[i], url) == 0)
			return i + 1;
	}
	mt->links = xreallocarray(mt->links, mt->nlinks + 1,
	    sizeof *mt->links);
	mt->links[mt->nlinks++] = xstrdup(url);
	return mt->nlinks;
}

static void
markdown_reference(struct markdown_text *mt, const char *url)
{
	char	 ref[32];

	snprintf(ref, sizeof ref, "%c[%zu]", MARKDOWN_NBSP,
	    markdown_link_number(mt, url));
	markdown_add(&mt->inl, ref, strlen(ref));
}

static void
markdown_link_exit(struct markdown_text *mt, cmark_node *n)
{
	const char	*url = cmark_node_get_url(n), *text;
	size_t		 start, len;

	start = mt->starts[--mt->nstarts];
	if (mt->image > 0 || url == NULL || *url == '\0')
		return;
	text = mt->inl.data + start;
	len = mt->inl.len - start;
	while (len > 0 && *text == ' ') {
		text++;
		len--;
	}
	if (len == 0) {
		markdown_inline(mt, url);
		return;
	}
	if ((strlen(url) == len && memcmp(url, text, len) == 0) ||
	    (strncmp(url, "mailto:", 7) == 0 && strlen(url + 7) == len &&
	    memcmp(url + 7, text, len) == 0))
		return;
	markdown_reference(mt, url);
}

static void
markdown_image_exit(struct markdown_text *mt, cmark_node *n)
{
	const char	*url = cmark_node_get_url(n);
	size_t		 start;

	start = mt->starts[--mt->nstarts];
	mt->image--;
	if (mt->inl.len == start + strlen("[image: ")) {
		mt->inl.len = start + strlen("[image");
		mt->inl.data[mt->inl.len] = '\0';
	}
	markdown_add(&mt->inl, "]", 1);
	if (mt->image == 0 && url != NULL && *url != '\0')
		markdown_reference(mt, url);
}

/* A blank line before this block, unless it opens its container. */
static void
markdown_separate(struct markdown_text *mt, cmark_node *n)
{
	cmark_node	*parent = cmark_node_parent(n), *list = NULL;

	if (cmark_node_previous(n) == NULL)
		return;
	if (cmark_node_get_type(n) == CMARK_NODE_ITEM)
		list = parent;
	else if (parent != NULL &&
	    cmark_node_get_type(parent) == CMARK_NODE_ITEM)
		list = cmark_node_parent(parent);
	if (list != NULL && cmark_node_get_list_tight(list))
		return;
	if (!mt->blank) {
		mt->blank = 1;
		mt->blank_depth = mt->npfx;
	}
}

static void
markdown_item_enter(struct markdown_text *mt, cmark_node *n)
{
	cmark_node	*list = cmark_node_parent(n), *prev;
	char		 marker[32], indent[32];
	intptr_t	 number;
	size_t		 len;

	if (cmark_node_get_list_type(list) != CMARK_ORDERED_LIST) {
		markdown_push(mt, "- ", "  ");
		return;
	}
	if ((prev = cmark_node_previous(n)) == NULL)
		number = cmark_node_get_list_start(list);
	else
		number = (intptr_t)cmark_node_get_user_data(prev) + 1;
	cmark_node_set_user_data(n, (void *)number);
	snprintf(marker, sizeof marker, "%ld%c ", (long)number,
	    cmark_node_get_list_delim(list) == CMARK_PAREN_DELIM ? ')' : '.');
	len = strlen(marker);
	memset(indent, ' ', len);
	indent[len] = '\0';
	markdown_push(mt, marker, indent);
}

static void
markdown_code_block(struct markdown_text *mt, cmark_node *n)
{
	const char	*s = cmark_node_get_literal(n), *nl;

	if (s == NULL)
		return;
	markdown_push(mt, "    ", "    ");
	while (*s != '\0') {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = s + strlen(s);
		markdown_line(mt, s, (size_t)(nl - s));
		s = *nl == '\n' ? nl + 1 : nl;
	}
	markdown_pop(mt);
}

static void
markdown_heading_exit(struct markdown_text *mt, cmark_node *n)
{
	int	 level = cmark_node_get_heading_level(n);
	size_t	 widest;
	char	*rule;

	widest = markdown_wrap(mt, mt->inl.data, mt->inl.len);
	if (level <= 2 && widest > 0) {
		rule = xmalloc(widest);
		memset(rule, level == 1 ? '=' : '-', widest);
		markdown_line(mt, rule, widest);
		free(rule);
	}
}

static void
markdown_enter(struct markdown_text *mt, cmark_node *n)
{
	size_t	 avail;
	char	*rule;
	int	 level;

	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		markdown_separate(mt, n);
		markdown_push(mt, "> ", "> ");
		break;
	case CMARK_NODE_LIST:
		markdown_separate(mt, n);
		break;
	case CMARK_NODE_ITEM:
		markdown_separate(mt, n);
		markdown_item_enter(mt, n);
		break;
	case CMARK_NODE_CODE_BLOCK:
		markdown_separate(mt, n);
		markdown_code_block(mt, n);
		break;
	case CMARK_NODE_PARAGRAPH:
		markdown_separate(mt, n);
		buf_reset(&mt->inl);
		break;
	case CMARK_NODE_HEADING:
		markdown_separate(mt, n);
		buf_reset(&mt->inl);
		level = cmark_node_get_heading_level(n);
		if (level > 2) {
			for (; level > 0; level--)
				markdown_add(&mt->inl, "#", 1);
			markdown_add(&mt->inl, " ", 1);
		}
		break;
	case CMARK_NODE_THEMATIC_BREAK:
		markdown_separate(mt, n);
		avail = markdown_avail(mt);
		rule = xmalloc(avail);
		memset(rule, '-', avail);
		markdown_line(mt, rule, avail);
		free(rule);
		break;
	case CMARK_NODE_TEXT:
	case CMARK_NODE_CODE:
		markdown_inline(mt, cmark_node_get_literal(n));
		break;
	case CMARK_NODE_SOFTBREAK:
		markdown_add(&mt->inl, " ", 1);
		break;
	case CMARK_NODE_LINEBREAK:
		markdown_add(&mt->inl, "\n", 1);
		break;
	case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG:
		if (mt->emph++ == 0 && mt->image == 0)
			markdown_add(&mt->inl, "*", 1);
		break;
	case CMARK_NODE_LINK:
	case CMARK_NODE_IMAGE:
		mt->starts = xreallocarray(mt->starts, mt->nstarts + 1,
		    sizeof *mt->starts);
		mt->starts[mt->nstarts++] = mt->inl.len;
		if (cmark_node_get_type(n) == CMARK_NODE_IMAGE) {
			mt->image++;
			markdown_add(&mt->inl, "[image: ", 8);
		}
		break;
	default:	/* document, HTML (already dropped), custom */
		break;
	}
}

static void
markdown_exit(struct markdown_text *mt, cmark_node *n)
{
	switch (cmark_node_get_type(n)) {
	case CMARK_NODE_BLOCK_QUOTE:
		markdown_pop(mt);
		break;
	case CMARK_NODE_ITEM:
		/* An empty item still shows its marker. */
		if (!mt->pfx[mt->npfx - 1].used)
			markdown_line(mt, "", 0);
		markdown_pop(mt);
		break;
	case CMARK_NODE_PARAGRAPH:
		markdown_wrap(mt, mt->inl.data, mt->inl.len);
		break;
	case CMARK_NODE_HEADING:
		markdown_heading_exit(mt, n);
		break;
	case CMARK_NODE_EMPH:
	case CMARK_NODE_STRONG:
		if (--mt->emph == 0 && mt->image == 0)
			markdown_add(&mt->inl, "*", 1);
		break;
	case CMARK_NODE_LINK:
		markdown_link_exit(mt, n);
		break;
	case CMARK_NODE_IMAGE:
		markdown_image_exit(mt, n);
		break;
	default:
		break;
	}
}

char *
markdown_to_text(const char *md, size_t len, int width)
{
	struct markdown_text	 mt;
	cmark_node		*doc;
	cmark_iter		*it;
	cmark_event_type	 ev;
	char			 ref[32];
	size_t			 i;

	memset(&mt, 0, sizeof mt);
	mt.width = width > 0 ? (size_t)width : MARKDOWN_WIDTH;
	buf_init(&mt.out, BUF_NOMAX);
	buf_init(&mt.inl, BUF_NOMAX);
	markdown_add(&mt.out, "", 0);
	markdown_add(&mt.inl, "", 0);

	/* Step 1: walk the tree, block by block. */
	doc = markdown_parse(md, len, 0);
	it = cmark_iter_new(doc);
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		if (ev == CMARK_EVENT_ENTER)
			markdown_enter(&mt, cmark_iter_get_node(it));
		else
			markdown_exit(&mt, cmark_iter_get_node(it));
	}
	cmark_iter_free(it);
	cmark_node_free(doc);

	/* Step 2: the links, numbered as they appeared. */
	if (mt.nlinks > 0) {
		mt.blank = 1;
		mt.blank_depth = 0;
		markdown_line(&mt, "Links:", 6);
		for (i = 0; i < mt.nlinks; i++) {
			snprintf(ref, sizeof ref, "[%zu] ", i + 1);
			markdown_add(&mt.out, ref, strlen(ref));
			markdown_add(&mt.out, mt.links[i], strlen(mt.links[i]));
			markdown_add(&mt.out, "\n", 1);
			free(mt.links[i]);
		}
	}
	free(mt.links);
	free(mt.starts);
	free(mt.pfx);
	buf_free(&mt.inl);
	return buf_detach(&mt.out, NULL);
}
