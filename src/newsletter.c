/*
 * newsletter.c - compose one campaign message for one subscriber.
 *
 * Owns: the merge data of a newsletter, turning a Markdown body with
 * merge fields into a pair of body templates (see newsletter.h for why
 * Markdown is rendered once and Mustache per subscriber), the tokens and
 * URLs in each message, and which headers a newsletter carries.  Does not
 * own: Mustache (template.c), Markdown (markdown.c), the wire form of the
 * message (mime-build.c), the token format (token.c), or deciding who is
 * sent what (the campaign engine).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "json.h"
#include "markdown.h"
#include "mime-build.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "unsubscribe.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define NEWSLETTER_TEMPLATE_MAX	64	/* longest template name */
#define NEWSLETTER_LOCAL_MAX	64	/* octets in an SMTP local part */
/*
 * Placeholder words stand for merge fields while cmark runs:
 * PREFIX, the tag's number, 'x' padding, 'Q'.  Padded to the width of the
 * value the sample subscriber would get, so that the text part wraps
 * about right; NEWSLETTER_PH_GUESS columns when there is no such value.
 */
#define NEWSLETTER_PH_PREFIX	"zQz"
#define NEWSLETTER_PH_PAD	'x'
#define NEWSLETTER_PH_END	'Q'
#define NEWSLETTER_PH_GUESS	12

struct newsletter {
	int64_t			  campaign;
	int64_t			  started_at;
	struct token_signer	 *signer;	/* the key, made ready once */

	/* Copied from the configuration, which need not outlive us. */
	char			 *slug;
	char			 *list_name;
	char			 *list_from;
	char			 *reply_to;	/* "" when none */
	char			 *base_url;
	char			 *domain;
	char			 *list_id;	/* the List-Id value */
	int			  list_id_text;	/* ... is unstructured text */
	char			 *list_help;
	char			 *subject_raw;

	struct template		 *subject_t;
	struct template		 *body_html_t;
	struct template		 *body_text_t;
	struct template		 *html_t;
	struct template		 *text_t;
	struct template_partials *partials;
	int			  body_heading;	/* opens with a "# ..." */

	/* campaign.date: the last one worked out, for date_t. */
	char			  date[64];
	time_t			  date_t;
	int			  date_ok;

	/*
	 * The merge data; each render replaces the per-subscriber keys.
	 * The values that change with every render are changed in place,
	 * through these pointers into data (NULL until first set).
	 */
	struct value		 *data;
	struct value		 *campaign_v;
	struct value		 *subject_v;	/* campaign.subject */
	struct value		 *date_v;	/* campaign.date */
	struct value		 *unsubscribe_v;
	struct value		 *preferences_v;
	struct value		 *archive_v;	/* archive_url */
	char			 *archive_url;	/* the campaign's own */
	struct value		 *body_html_v;
	struct value		 *body_text_v;
	struct value		 *sub_name_v;	/* subscriber.name, when */
	struct value		 *sub_email_v;	/* ... it has no attrs */

	/* Reused by every render. */
	struct mime_msg		 *msg;
	struct buf		  subject;
	struct buf		  body_html;
	struct buf		  body_text;
	struct buf		  html;
	struct buf		  text;
};

static int	newsletter_merge(struct newsletter *,
		    const struct store_subscriber *, time_t, int,
		    struct newsletter_links *, char **);

static char	newsletter_sample_name[] = NEWSLETTER_SAMPLE_NAME;
static char	newsletter_sample_email[] = NEWSLETTER_SAMPLE_EMAIL;
static char	newsletter_sample_attrs[] = "{}";
static const struct store_subscriber newsletter_sample_sub = {
	.email = newsletter_sample_email,
	.name = newsletter_sample_name,
	.attrs = newsletter_sample_attrs,
};

const struct store_subscriber *
newsletter_sample(void)
{
	return &newsletter_sample_sub;
}

/* --- the body: Markdown once, merge fields per subscriber ---------------- */

/* The merge fields of a body, while cmark runs over placeholders. */
struct newsletter_tags {
	char	**tag;		/* the tag as written, "{{ name }}" */
	size_t	  n;
	char	 *prefix;	/* placeholder prefix not found in the body */
};

static void
newsletter_tags_free(struct newsletter_tags *nt)
{
	size_t	i;

	for (i = 0; i < nt->n; i++)
		free(nt->tag[i]);
	free(nt->tag);
	free(nt->prefix);
}

static unsigned int
newsletter_line(const char *s, size_t off)
{
	unsigned int	line = 1;
	size_t		i;

	for (i = 0; i < off; i++) {
		if (s[i] == '\n')
			line++;
	}
	return line;
}

/* Code points, as markdown.c counts columns. */
static size_t
newsletter_cols(const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/*
 * How wide the tag md[0..len) will be when rendered, roughly: 0 for a
 * section, inverted section, closing tag or comment; the width of the
 * value for a variable that data (the sample subscriber's merge data) has;
 * NEWSLETTER_PH_GUESS otherwise.
 */
static size_t
newsletter_tag_cols(const struct value *data, const char *tag, size_t len)
{
	const struct value	*v = data;
	const char		*p = tag, *end = tag + len, *dot;
	char			*name;
	size_t			 vlen;

	while (p < end && *p == '{')
		p++;
	while (end > p && end[-1] == '}')
		end--;
	while (p < end && *p == ' ')
		p++;
	if (p < end && strchr("#^/!", *p) != NULL)
		return 0;
	if (p < end && *p == '&')
		p++;
	while (p < end && *p == ' ')
		p++;
	while (end > p && end[-1] == ' ')
		end--;
	while (p < end && v != NULL) {
		if ((dot = memchr(p, '.', (size_t)(end - p))) == NULL)
			dot = end;
		name = xstrndup(p, (size_t)(dot - p));
		v = value_object_get(v, name);
		free(name);
		p = dot < end ? dot + 1 : end;
	}
	if (v == NULL || v == data)
		return NEWSLETTER_PH_GUESS;
	if (value_string(v, &vlen) != NULL)
		return newsletter_cols(value_string(v, NULL), vlen);
	if (value_number_text(v) != NULL)
		return strlen(value_number_text(v));
	return NEWSLETTER_PH_GUESS;
}

/*
 * Copy md to out with every Mustache tag replaced by a placeholder word,
 * keeping the tags in nt.  Refuses unclosed tags, partials and set
 * delimiters.
 */
static int
newsletter_tags_protect(const char *md, size_t len, const struct value *data,
    struct buf *out, struct newsletter_tags *nt, char **cause)
{
	const char	*close, *p, *end;
	char		*old;
	size_t		 i = 0, start, clen, tlen, cols, w;

	/* A prefix that cannot already be in the body. */
	nt->prefix = xstrdup(NEWSLETTER_PH_PREFIX);
	while (memmem(md, len, nt->prefix, strlen(nt->prefix)) != NULL) {
		old = nt->prefix;
		nt->prefix = xprintf("%sz", old);
		free(old);
	}

	while (i < len) {
		p = memmem(md + i, len - i, "{{", 2);
		if (p == NULL) {
			buf_add(out, md + i, len - i);
			break;
		}
		start = (size_t)(p - md);
		buf_add(out, md + i, start - i);
		if (start + 2 < len && md[start + 2] == '{')
			close = "}}}";
		else
			close = "}}";
		clen = strlen(close);
		end = memmem(md + start + clen, len - start - clen, close, clen);
		if (end == NULL) {
			*cause = xprintf("body: line %u: %s is not closed",
			    newsletter_line(md, start), clen == 3 ? "{{{" :
			    "{{");
			return -1;
		}
		for (p = md + start + clen; p < end && *p == ' '; p++)
			/* nothing */;
		if (clen == 2 && p < end && (*p == '>' || *p == '=')) {
			*cause = xprintf("body: line %u: %s are not allowed "
			    "in a newsletter body", newsletter_line(md, start),
			    *p == '>' ? "partials ({{> name}})" :
			    "set delimiters ({{=...=}})");
			return -1;
		}
		tlen = (size_t)(end + clen - (md + start));
		nt->tag = xreallocarray(nt->tag, nt->n + 1, sizeof *nt->tag);
		nt->tag[nt->n] = xstrndup(md + start, tlen);

		w = out->len;
		buf_printf(out, "%s%zu", nt->prefix, nt->n);
		cols = newsletter_tag_cols(data, md + start, tlen);
		for (w = out->len - w + 1; w < cols; w++)
			buf_addc(out, NEWSLETTER_PH_PAD);
		buf_addc(out, NEWSLETTER_PH_END);
		nt->n++;
		i = start + tlen;
	}
	if (out->data == NULL)
		buf_add(out, "", 0);
	return 0;
}

/*
 * The tag for the HTML body: {{{name}}} and {{& name}} become {{name}},
 * so that no value from data is ever inserted into HTML unescaped.
 */
static char *
newsletter_tag_html(const char *tag)
{
	size_t	 len = strlen(tag), i;
	char	*s;

	if (len >= 6 && strncmp(tag, "{{{", 3) == 0)
		return xprintf("{{%.*s}}", (int)(len - 6), tag + 3);
	s = xstrdup(tag);
	for (i = 2; s[i] == ' '; i++)
		/* nothing */;
	if (s[i] == '&')
		s[i] = ' ';
	return s;
}

/* The tag at s (a placeholder), or -1 when s is not one. */
static long
newsletter_ph_index(const struct newsletter_tags *nt, const char *s,
    size_t *phlen)
{
	size_t		 plen = strlen(nt->prefix), idx = 0, i;

	if (strncmp(s, nt->prefix, plen) != 0)
		return -1;
	for (i = plen; s[i] >= '0' && s[i] <= '9' && i < plen + 9; i++)
		idx = idx * 10 + (size_t)(s[i] - '0');
	if (i == plen || idx >= nt->n)
		return -1;
	while (s[i] == NEWSLETTER_PH_PAD)
		i++;
	if (s[i] != NEWSLETTER_PH_END)
		return -1;
	*phlen = i + 1;
	return (long)idx;
}

/* Put the tags back into what cmark rendered. */
static char *
newsletter_tags_restore(const struct newsletter_tags *nt, const char *s,
    int html)
{
	struct buf	 b;
	const char	*p;
	size_t		 phlen;
	long		 idx;
	char		*tag;

	buf_init(&b, BUF_NOMAX);
	while ((p = strstr(s, nt->prefix)) != NULL) {
		buf_add(&b, s, (size_t)(p - s));
		if ((idx = newsletter_ph_index(nt, p, &phlen)) == -1) {
			/* The body's own text ran into a placeholder. */
			buf_add(&b, p, 1);
			s = p + 1;
			continue;
		}
		if (html) {
			tag = newsletter_tag_html(nt->tag[idx]);
			buf_addstr(&b, tag);
			free(tag);
		} else
			buf_addstr(&b, nt->tag[idx]);
		s = p + phlen;
	}
	buf_addstr(&b, s);
	return buf_detach(&b, NULL);
}

/*
 * Refuse a merge field before the scheme of a link or image URL in the
 * HTML cmark wrote (before the tags are restored): data must not choose
 * "javascript:".  markdown.c has already vetted the schemes written out.
 */
static int
newsletter_check_urls(const struct newsletter_tags *nt, const char *html,
    char **cause)
{
	static const char *const attrs[] = { "href=\"", "src=\"", NULL };
	const char		*const *a;
	const char		*p, *q;
	size_t			 phlen;
	long			 idx;

	for (a = attrs; *a != NULL; a++) {
		for (p = strstr(html, *a); p != NULL; p = strstr(p, *a)) {
			p += strlen(*a);
			for (q = p; *q != '"' && *q != ':' && *q != '\0'; q++) {
				idx = newsletter_ph_index(nt, q, &phlen);
				if (idx == -1)
					continue;
				*cause = xprintf("body: a link's URL has the "
				    "merge field %s before its scheme: write "
				    "the scheme (https://...) first",
				    nt->tag[idx]);
				return -1;
			}
		}
	}
	return 0;
}

static int
newsletter_body(struct newsletter *nl, const char *md, int allow_html,
    char **cause)
{
	struct newsletter_tags	 nt;
	struct buf		 src;
	char			*html = NULL, *text = NULL, *s, *why;
	int			 rc = -1;

	memset(&nt, 0, sizeof nt);
	buf_init(&src, BUF_NOMAX);
	if (newsletter_tags_protect(md, strlen(md), nl->data, &src, &nt,
	    cause) == -1)
		goto out;

	html = markdown_to_html(src.data, src.len, allow_html);
	text = markdown_to_text(src.data, src.len, MARKDOWN_WIDTH);
	if (newsletter_check_urls(&nt, html, cause) == -1)
		goto out;

	s = newsletter_tags_restore(&nt, html, 1);
	nl->body_html_t = template_parse(s, strlen(s), &why);
	free(s);
	if (nl->body_html_t == NULL) {
		*cause = xprintf("body: %s", why);
		free(why);
		goto out;
	}
	s = newsletter_tags_restore(&nt, text, 0);
	nl->body_text_t = template_parse(s, strlen(s), &why);
	free(s);
	if (nl->body_text_t == NULL) {
		*cause = xprintf("body: %s", why);
		free(why);
		goto out;
	}
	/* Attribute names came from spreadsheets: any case will do. */
	template_set_nocase(nl->body_html_t);
	template_set_nocase(nl->body_text_t);

	/* Does the author give the body its own title (a "# Heading")? */
	nl->body_heading = markdown_first_heading(src.data, src.len,
	    allow_html) == 1;
	value_object_set(nl->data, "body_heading",
	    value_new_bool(nl->body_heading));
	rc = 0;
out:
	free(html);
	free(text);
	buf_free(&src);
	newsletter_tags_free(&nt);
	return rc;
}

/* --- preparing ----------------------------------------------------------- */

static int
newsletter_template_name_ok(const char *name)
{
	const char	*p;

	if (*name == '\0' || strlen(name) > NEWSLETTER_TEMPLATE_MAX)
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	}
	return 1;
}

static struct template *
newsletter_template_load(const char *dir, const char *name, const char *ext,
    char **cause)
{
	struct template	*t;
	char		*path;

	path = xprintf("%s/%s.%s", dir, name, ext);
	t = template_parse_file(path, cause);
	free(path);
	return t;
}

static int
newsletter_is_atoms(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == ' ')
			continue;
		if (strchr("!#$%&'*+-/=?^_`{|}~", *s) == NULL)
			return 0;
	}
	return 1;
}

/*
 * List-Id (RFC 2919): "phrase <slug.domain>".  An ASCII name goes as
 * atoms or a quoted string; a name with non-ASCII goes as unstructured
 * text, so that mime-header.c turns its words into (phrase-safe) encoded
 * words and leaves the ASCII <slug.domain> alone.
 */
char *
newsletter_list_id(const char *name, const char *slug, const char *domain,
    int *text)
{
	struct buf	 b;
	const char	*p;
	char		*id;

	buf_init(&b, BUF_NOMAX);
	for (p = name; *p != '\0'; p++) {
		/* One line: control characters become spaces. */
		buf_addc(&b, (unsigned char)*p < ' ' || *p == 0x7f ? ' ' : *p);
	}
	if (b.data == NULL)
		buf_add(&b, "", 0);
	*text = 0;
	if (b.len == 0)
		id = xprintf("<%s.%s>", slug, domain);
	else if (!utf8_is_ascii(b.data, b.len)) {
		*text = 1;
		id = xprintf("%s <%s.%s>", b.data, slug, domain);
	} else if (newsletter_is_atoms(b.data))
		id = xprintf("%s <%s.%s>", b.data, slug, domain);
	else {
		buf_reset(&b);
		buf_addc(&b, '"');
		for (p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, (unsigned char)*p < ' ' || *p == 0x7f ?
			    ' ' : *p);
		}
		buf_addc(&b, '"');
		id = xprintf("%s <%s.%s>", b.data, slug, domain);
	}
	buf_free(&b);
	return id;
}

/* A buffer's text, "" when nothing was ever written to it. */
static const char *
newsletter_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

static void
newsletter_set_string(struct value *obj, const char *key, const char *s)
{
	value_object_set(obj, key, value_new_string(s != NULL ? s : ""));
}

/*
 * Set obj's key to s[0..len): the first time as a new string kept in *vp,
 * then in place (see struct newsletter).
 */
static void
newsletter_update(struct value *obj, const char *key, struct value **vp,
    const char *s, size_t len)
{
	if (*vp == NULL) {
		*vp = value_new_stringn(s, len);
		value_object_set(obj, key, *vp);
	} else
		value_string_set(*vp, s, len);
}

static void
newsletter_update_str(struct value *obj, const char *key, struct value **vp,
    const char *s)
{
	if (s == NULL)
		s = "";
	newsletter_update(obj, key, vp, s, strlen(s));
}

struct newsletter *
newsletter_prepare(const struct conf *conf, const struct store_campaign *c,
    const unsigned char key[TOKEN_KEY_LEN], char **cause)
{
	struct newsletter	*nl;
	const struct conf_list	*list;
	const char		*tname;
	struct newsletter_links	 l;
	struct value		*v;
	char			*why;

	if ((list = conf_list_find(conf, c->list)) == NULL) {
		*cause = xprintf("list \"%s\" is not in the configuration",
		    c->list);
		return NULL;
	}
	if (strlen(list->slug) > TOKEN_LIST_MAX) {
		*cause = xprintf("list \"%s\": a slug longer than %d "
		    "characters cannot go in a link", list->slug,
		    TOKEN_LIST_MAX);
		return NULL;
	}
	tname = c->template != NULL && *c->template != '\0' ? c->template :
	    STORE_CAMPAIGN_TEMPLATE;
	if (!newsletter_template_name_ok(tname)) {
		*cause = xprintf("template \"%s\": a name is letters, digits, "
		    "'-' and '_'", tname);
		return NULL;
	}

	nl = xcalloc(1, sizeof *nl);
	nl->campaign = c->id;
	nl->started_at = c->started_at;
	nl->signer = token_signer_new(key);
	nl->slug = xstrdup(list->slug);
	nl->list_name = xstrdup(list->name);
	nl->list_from = xstrdup(list->from);
	nl->reply_to = xstrdup(list->reply_to);
	nl->base_url = xstrdup(conf->general.base_url);
	nl->domain = xstrdup(conf->general.domain);
	nl->list_help = xprintf("<mailto:%s?subject=help>",
	    conf->general.from_address);
	nl->list_id = newsletter_list_id(list->name, nl->slug, nl->domain,
	    &nl->list_id_text);
	nl->msg = mime_msg_new();
	buf_init(&nl->subject, NEWSLETTER_MAX_MESSAGE);
	buf_init(&nl->body_html, NEWSLETTER_MAX_MESSAGE);
	buf_init(&nl->body_text, NEWSLETTER_MAX_MESSAGE);
	buf_init(&nl->html, NEWSLETTER_MAX_MESSAGE);
	buf_init(&nl->text, NEWSLETTER_MAX_MESSAGE);

	/* Step 1: the templates around the body, and the subject. */
	nl->html_t = newsletter_template_load(conf->general.templates, tname,
	    "html", cause);
	if (nl->html_t == NULL)
		goto fail;
	nl->text_t = newsletter_template_load(conf->general.templates, tname,
	    "txt", cause);
	if (nl->text_t == NULL)
		goto fail;
	nl->partials = template_partials_dir(conf->general.templates);
	nl->subject_t = template_parse(c->subject, strlen(c->subject), &why);
	if (nl->subject_t == NULL) {
		*cause = xprintf("subject: %s", why);
		free(why);
		goto fail;
	}
	template_set_nocase(nl->subject_t);

	/* Step 2: the merge data every recipient shares. */
	nl->data = value_new_object();
	v = value_new_object();
	newsletter_set_string(v, "name", list->name);
	newsletter_set_string(v, "slug", list->slug);
	newsletter_set_string(v, "description", list->description);
	value_object_set(nl->data, "list", v);
	v = value_new_object();
	value_object_set(v, "id", value_new_int(c->id));
	newsletter_update_str(v, "subject", &nl->subject_v, c->subject);
	newsletter_update_str(v, "date", &nl->date_v, "");
	value_object_set(nl->data, "campaign", v);
	nl->campaign_v = v;
	v = value_new_object();
	newsletter_set_string(v, "name", conf->general.from_name);
	newsletter_set_string(v, "enquiries", conf->general.from_address);
	value_object_set(nl->data, "network", v);
	nl->archive_url = xprintf("%s/archive/%lld", nl->base_url,
	    (long long)c->id);
	newsletter_update_str(nl->data, "archive_url", &nl->archive_v,
	    nl->archive_url);
	nl->subject_raw = xstrdup(c->subject);

	/*
	 * Step 3: the body, rendered once, with the sample subscriber's
	 * data to size the placeholders.
	 */
	if (newsletter_merge(nl, newsletter_sample(), time(NULL), 0, &l,
	    cause) == -1)
		goto fail;
	newsletter_links_free(&l);
	if (newsletter_body(nl, c->body, list->allow_html, cause) == -1)
		goto fail;
	return nl;

fail:
	newsletter_free(nl);
	return NULL;
}

int
newsletter_check(const struct conf *conf, const struct store_campaign *c,
    char **cause)
{
	static const unsigned char	 key[TOKEN_KEY_LEN];
	struct newsletter		*nl;
	struct newsletter_parts		 p;
	int				 rc;

	if ((nl = newsletter_prepare(conf, c, key, cause)) == NULL)
		return -1;
	/* A trial render finds what only rendering can (partials, limits). */
	rc = newsletter_render_parts(nl, newsletter_sample(), time(NULL), &p,
	    cause);
	newsletter_parts_clear(&p);
	newsletter_free(nl);
	return rc;
}

void
newsletter_free(struct newsletter *nl)
{
	if (nl == NULL)
		return;
	free(nl->slug);
	free(nl->list_name);
	free(nl->list_from);
	free(nl->reply_to);
	free(nl->base_url);
	free(nl->domain);
	free(nl->list_id);
	free(nl->list_help);
	free(nl->subject_raw);
	free(nl->archive_url);
	template_free(nl->subject_t);
	template_free(nl->body_html_t);
	template_free(nl->body_text_t);
	template_free(nl->html_t);
	template_free(nl->text_t);
	template_partials_free(nl->partials);
	value_free(nl->data);
	mime_msg_free(nl->msg);
	buf_free(&nl->subject);
	buf_free(&nl->body_html);
	buf_free(&nl->body_text);
	buf_free(&nl->html);
	buf_free(&nl->text);
	token_signer_free(nl->signer);
	free(nl);
}

/* --- rendering ------------------------------------------------------------ */

void
newsletter_links_free(struct newsletter_links *l)
{
	free(l->unsubscribe_url);
	free(l->unsubscribe_mailto);
	free(l->preferences_url);
	free(l->mail_from);
	free(l->archive_url);
	memset(l, 0, sizeof *l);
}

/*
 * The strings given, up to a NULL, one after the other, in a new string:
 * what xprintf("%s%s...") makes, without parsing a format for every link
 * of every message.
 */
static char *
newsletter_cat(const char *s, ...)
{
	va_list		 ap;
	const char	*p;
	char		*out, *o;
	size_t		 len = 0, n;

	va_start(ap, s);
	for (p = s; p != NULL; p = va_arg(ap, const char *))
		len += strlen(p);
	va_end(ap);
	out = o = xmalloc(len + 1);
	va_start(ap, s);
	for (p = s; p != NULL; p = va_arg(ap, const char *)) {
		n = strlen(p);
		memcpy(o, p, n);
		o += n;
	}
	va_end(ap);
	*o = '\0';
	return out;
}

/* A token made at now, lasting life seconds (0: for ever). */
static char *
newsletter_token(struct token_signer *signer, enum token_purpose purpose,
    int64_t subscriber, const unsigned char salt[TOKEN_SALT_LEN],
    const char *list, int64_t campaign, time_t now, time_t life)
{
	struct token	t;
	size_t		len;

	memset(&t, 0, sizeof t);
	t.purpose = purpose;
	t.subscriber = subscriber;
	if (salt != NULL)
		memcpy(t.salt, salt, TOKEN_SALT_LEN);
	t.campaign = campaign;
	t.issued = now;
	t.expires = life != 0 ? now + life : 0;
	/* The callers checked the slug's length (TOKEN_LIST_MAX). */
	if ((len = strlen(list)) >= sizeof t.list)
		len = sizeof t.list - 1;
	memcpy(t.list, list, len);
	return token_signer_make(signer, &t);
}

/*
 * The VERP sender, then the check that it and the mailto fit in a local
 * part; -1 (l freed) when not.
 */
static int
newsletter_links_verp(struct token_signer *signer, const char *domain,
    int64_t subscriber, const unsigned char salt[TOKEN_SALT_LEN],
    int64_t campaign, time_t now, struct newsletter_links *l, char **cause)
{
	char	*tok;

	tok = newsletter_token(signer, TOKEN_BOUNCE, subscriber, salt, "",
	    campaign, now, NEWSLETTER_VERP_EXPIRY);
	l->mail_from = newsletter_cat("bounces+", tok, "@", domain,
	    (char *)NULL);
	free(tok);

	if (strchr(l->unsubscribe_mailto, '@') - l->unsubscribe_mailto >
	    NEWSLETTER_LOCAL_MAX ||
	    strchr(l->mail_from, '@') - l->mail_from > NEWSLETTER_LOCAL_MAX) {
		/* Only with ids near 2^63: a broken invariant, not data. */
		*cause = xprintf("subscriber %lld: a VERP or unsubscribe "
		    "address is longer than %d octets before the @",
		    (long long)subscriber, NEWSLETTER_LOCAL_MAX);
		newsletter_links_free(l);
		return -1;
	}
	return 0;
}

char *
newsletter_message_id(const struct newsletter_links *l, const char *domain)
{
	const char	*tok, *at;
	char		*tag, *id;

	if (l->mail_from == NULL ||
	    strncmp(l->mail_from, "bounces+", 8) != 0 ||
	    (at = strrchr(l->mail_from, '@')) == NULL)
		return mime_message_id(domain);
	tok = l->mail_from + 8;
	tag = xstrndup(tok, (size_t)(at - tok));
	id = mime_message_id_tagged(domain, tag);
	free(tag);
	return id;
}

int
newsletter_links_make(struct token_signer *signer, const char *base_url,
    const char *domain, const char *slug, int64_t subscriber,
    const unsigned char salt[TOKEN_SALT_LEN], int64_t campaign,
    int64_t mailto_campaign, time_t now, struct newsletter_links *l,
    char **cause)
{
	char	*tok;

	memset(l, 0, sizeof *l);
	if (subscriber < 0 || campaign < 0 || mailto_campaign < 0) {
		*cause = xprintf("subscriber %lld, campaign %lld: ids cannot "
		    "be negative", (long long)subscriber,
		    (long long)(campaign < 0 ? campaign : mailto_campaign));
		return -1;
	}

	tok = newsletter_token(signer, TOKEN_UNSUBSCRIBE, subscriber, salt,
	    slug, campaign, now, NEWSLETTER_UNSUB_EXPIRY);
	l->unsubscribe_url = newsletter_cat(base_url, "/unsubscribe/", tok,
	    (char *)NULL);
	free(tok);

	/* No list: the campaign names it, and the local part stays short. */
	tok = newsletter_token(signer, TOKEN_UNSUBSCRIBE, subscriber, salt,
	    "", mailto_campaign, now, NEWSLETTER_UNSUB_EXPIRY);
	l->unsubscribe_mailto = newsletter_cat(UNSUBSCRIBE_PREFIX, tok, "@",
	    domain, (char *)NULL);
	free(tok);

	tok = newsletter_token(signer, TOKEN_PREFERENCES, subscriber, salt,
	    slug, campaign, now, NEWSLETTER_PREFS_EXPIRY);
	l->preferences_url = newsletter_cat(base_url, "/preferences/", tok,
	    (char *)NULL);
	free(tok);

	return newsletter_links_verp(signer, domain, subscriber, salt,
	    campaign, now, l, cause);
}

int
newsletter_links_test(struct token_signer *signer, const char *base_url,
    const char *domain, int64_t subscriber,
    const unsigned char salt[TOKEN_SALT_LEN], int64_t campaign, time_t now,
    struct newsletter_links *l, char **cause)
{
	char	*tok;

	memset(l, 0, sizeof *l);
	if (subscriber < 0 || campaign < 0) {
		*cause = xprintf("subscriber %lld, campaign %lld: ids cannot "
		    "be negative", (long long)subscriber, (long long)campaign);
		return -1;
	}

	/*
	 * One token naming the campaign and nobody: whoever holds the copy
	 * may read the draft, and no link in it changes anyone's
	 * subscription - not even its own recipient's.
	 */
	tok = newsletter_token(signer, TOKEN_TEST_COPY, 0, NULL, "", campaign,
	    now, NEWSLETTER_TEST_EXPIRY);
	l->unsubscribe_url = newsletter_cat(base_url, "/test-unsubscribe/",
	    tok, (char *)NULL);
	l->unsubscribe_mailto = newsletter_cat(UNSUBSCRIBE_PREFIX, tok, "@",
	    domain, (char *)NULL);
	l->preferences_url = newsletter_cat(base_url, "/test-preferences/",
	    tok, (char *)NULL);
	l->archive_url = newsletter_cat(base_url, "/test-copy/", tok,
	    (char *)NULL);
	free(tok);

	/* Bounces are real: the address is. */
	return newsletter_links_verp(signer, domain, subscriber, salt,
	    campaign, now, l, cause);
}

/*
 * campaign.date ("22 November 2026", local time), remembered: a campaign
 * that has started shows the same date in every message, so it is worked
 * out once, not per recipient.
 */
static const char *
newsletter_date(struct newsletter *nl, time_t t)
{
	if (!nl->date_ok || nl->date_t != t) {
		period_date(t, nl->date, sizeof nl->date);
		nl->date_t = t;
		nl->date_ok = 1;
	}
	return nl->date;
}

/*
 * Make subscriber s the subscriber object of the merge data.  One with no
 * attributes changes the name and email of the last one in place when it
 * had none either (most subscribers have none).
 */
static int
newsletter_subscriber(struct newsletter *nl,
    const struct store_subscriber *s, char **cause)
{
	static const char *const own[] = { "name", "email", "attrs", NULL };
	const char *const	*o;
	struct value		*sv, *attrs;
	const char		*k;
	size_t			 i;
	char			*why;

	/* Most subscribers have no attributes: no JSON parser for "{}". */
	if (s->attrs == NULL || *s->attrs == '\0' ||
	    strcmp(s->attrs, "{}") == 0) {
		if (nl->sub_name_v != NULL) {
			value_string_set(nl->sub_name_v, s->name != NULL ?
			    s->name : "", s->name != NULL ? strlen(s->name) :
			    0);
			value_string_set(nl->sub_email_v, s->email != NULL ?
			    s->email : "", s->email != NULL ?
			    strlen(s->email) : 0);
			return 0;
		}
		attrs = value_new_object();
	} else if ((attrs = json_parse(s->attrs, strlen(s->attrs),
	    &why)) == NULL) {
		*cause = xprintf("subscriber %lld: attributes: %s",
		    (long long)s->id, why);
		free(why);
		return -1;
	}
	if (value_get_type(attrs) != VALUE_OBJECT) {
		*cause = xprintf("subscriber %lld: attributes are a %s, not "
		    "an object", (long long)s->id,
		    value_type_name(value_get_type(attrs)));
		value_free(attrs);
		return -1;
	}

	sv = value_new_object();
	newsletter_set_string(sv, "name", s->name);
	newsletter_set_string(sv, "email", s->email);
	if (value_object_len(attrs) == 0) {
		nl->sub_name_v = value_object_get(sv, "name");
		nl->sub_email_v = value_object_get(sv, "email");
	} else
		nl->sub_name_v = nl->sub_email_v = NULL;
	for (i = 0; i < value_object_len(attrs); i++) {
		k = value_object_key(attrs, i);
		for (o = own; *o != NULL; o++) {
			if (strcmp(k, *o) == 0)
				break;
		}
		if (*o == NULL)
			value_object_set(sv, k,
			    value_copy(value_object_value(attrs, i)));
	}
	value_object_set(sv, "attrs", attrs);
	value_object_set(nl->data, "subscriber", sv);
	return 0;
}

/*
 * Set subscriber s's merge data at time now: the subscriber, the links,
 * the date.  The links are the caller's to free.
 */
static int
newsletter_merge(struct newsletter *nl, const struct store_subscriber *s,
    time_t now, int test, struct newsletter_links *l, char **cause)
{
	if (newsletter_subscriber(nl, s, cause) == -1)
		return -1;
	if (test && newsletter_links_test(nl->signer, nl->base_url,
	    nl->domain, s->id, s->token_salt, nl->campaign, now, l,
	    cause) == -1)
		return -1;
	if (!test && newsletter_links_make(nl->signer, nl->base_url,
	    nl->domain, nl->slug, s->id, s->token_salt, nl->campaign,
	    nl->campaign, now, l, cause) == -1)
		return -1;
	newsletter_update_str(nl->data, "unsubscribe_url", &nl->unsubscribe_v,
	    l->unsubscribe_url);
	newsletter_update_str(nl->data, "preferences_url", &nl->preferences_v,
	    l->preferences_url);
	newsletter_update_str(nl->data, "archive_url", &nl->archive_v,
	    l->archive_url != NULL ? l->archive_url : nl->archive_url);
	newsletter_update_str(nl->campaign_v, "date", &nl->date_v,
	    newsletter_date(nl, nl->started_at != 0 ?
	    (time_t)nl->started_at : now));
	newsletter_update_str(nl->campaign_v, "subject", &nl->subject_v,
	    nl->subject_raw);
	newsletter_update(nl->data, "body_html", &nl->body_html_v, "", 0);
	newsletter_update(nl->data, "body_text", &nl->body_text_v, "", 0);
	return 0;
}

/*
 * Fill nl's buffers for subscriber s: subject, text and html (the body
 * buffers on the way).  The links are the caller's to free.
 */
static int
newsletter_fill(struct newsletter *nl, const struct store_subscriber *s,
    time_t now, int test, struct newsletter_links *l, char **cause)
{
	char	*why = NULL;

	/* Step 1: this subscriber's merge data. */
	if (newsletter_merge(nl, s, now, test, l, cause) == -1)
		return -1;

	/* Step 2: the subject, which the body may show too. */
	buf_reset(&nl->subject);
	if (template_render_text(nl->subject_t, nl->data, NULL, &nl->subject,
	    &why) == -1)
		goto fail;
	newsletter_update(nl->campaign_v, "subject", &nl->subject_v,
	    newsletter_str(&nl->subject), nl->subject.len);

	/* Step 3: the body, then the templates around it. */
	buf_reset(&nl->body_html);
	buf_reset(&nl->body_text);
	if (template_render(nl->body_html_t, nl->data, NULL, &nl->body_html,
	    &why) == -1 ||
	    template_render_text(nl->body_text_t, nl->data, NULL,
	    &nl->body_text, &why) == -1)
		goto fail;
	newsletter_update(nl->data, "body_html", &nl->body_html_v,
	    newsletter_str(&nl->body_html), nl->body_html.len);
	newsletter_update(nl->data, "body_text", &nl->body_text_v,
	    newsletter_str(&nl->body_text), nl->body_text.len);
	buf_reset(&nl->html);
	buf_reset(&nl->text);
	if (template_render(nl->html_t, nl->data, nl->partials, &nl->html,
	    &why) == -1 ||
	    template_render_text(nl->text_t, nl->data, nl->partials,
	    &nl->text, &why) == -1)
		goto fail;
	return 0;

fail:
	*cause = xprintf("subscriber %lld: %s", (long long)s->id,
	    why != NULL ? why : "rendering failed");
	free(why);
	newsletter_links_free(l);
	return -1;
}

static int
newsletter_write(struct newsletter *nl, const struct store_subscriber *s,
    time_t now, int test, struct buf *out, char **mail_from, char **cause)
{
	struct newsletter_links	 l;
	struct mime_msg		*m;
	char			*subject, *date, *msgid, *unsub;
	int			 rc;

	*mail_from = NULL;
	if (newsletter_fill(nl, s, now, test, &l, cause) == -1)
		return -1;

	/* One builder for every message: its buffers are the right size. */
	m = nl->msg;
	mime_msg_reset(m);
	mime_msg_address(m, "From", nl->list_name, nl->list_from);
	if (*nl->reply_to != '\0')
		mime_msg_address(m, "Reply-To", NULL, nl->reply_to);
	mime_msg_address(m, "To", s->name != NULL && *s->name != '\0' ?
	    s->name : NULL, s->email);
	if (test) {
		subject = newsletter_cat(NEWSLETTER_TEST_PREFIX,
		    newsletter_str(&nl->subject), (char *)NULL);
		mime_msg_header(m, "Subject", subject);
		free(subject);
	} else
		mime_msg_header(m, "Subject", newsletter_str(&nl->subject));
	date = mime_date(now);
	mime_msg_header_raw(m, "Date", date);
	free(date);
	msgid = newsletter_message_id(&l, nl->domain);
	mime_msg_header_raw(m, "Message-ID", msgid);
	free(msgid);
	if (nl->list_id_text)
		mime_msg_header(m, "List-Id", nl->list_id);
	else
		mime_msg_header_raw(m, "List-Id", nl->list_id);
	unsub = newsletter_cat("<", l.unsubscribe_url, ">, <mailto:",
	    l.unsubscribe_mailto, "?subject=unsubscribe>", (char *)NULL);
	mime_msg_header_raw(m, "List-Unsubscribe", unsub);
	free(unsub);
	mime_msg_header_raw(m, "List-Unsubscribe-Post",
	    "List-Unsubscribe=One-Click");
	mime_msg_header_raw(m, "List-Help", nl->list_help);
	mime_msg_text(m, newsletter_str(&nl->text));
	mime_msg_html(m, newsletter_str(&nl->html));

	rc = mime_msg_write(m, out, cause);
	if (rc == 0) {
		*mail_from = l.mail_from;
		l.mail_from = NULL;
	}
	newsletter_links_free(&l);
	return rc;
}

int
newsletter_render(struct newsletter *nl, const struct store_subscriber *s,
    time_t now, struct buf *out, char **mail_from, char **cause)
{
	return newsletter_write(nl, s, now, 0, out, mail_from, cause);
}

int
newsletter_render_test(struct newsletter *nl,
    const struct store_subscriber *s, time_t now, struct buf *out,
    char **mail_from, char **cause)
{
	return newsletter_write(nl, s, now, 1, out, mail_from, cause);
}

static int	newsletter_parts_any(struct newsletter *,
		    const struct store_subscriber *, time_t, int,
		    struct newsletter_parts *, char **);

int
newsletter_render_parts(struct newsletter *nl,
    const struct store_subscriber *s, time_t now,
    struct newsletter_parts *p, char **cause)
{
	return newsletter_parts_any(nl, s, now, 0, p, cause);
}

int
newsletter_render_parts_test(struct newsletter *nl,
    const struct store_subscriber *s, time_t now,
    struct newsletter_parts *p, char **cause)
{
	return newsletter_parts_any(nl, s, now, 1, p, cause);
}

static int
newsletter_parts_any(struct newsletter *nl, const struct store_subscriber *s,
    time_t now, int test, struct newsletter_parts *p, char **cause)
{
	struct newsletter_links	l;

	memset(p, 0, sizeof *p);
	if (newsletter_fill(nl, s, now, test, &l, cause) == -1)
		return -1;
	newsletter_links_free(&l);
	p->subject = xstrdup(newsletter_str(&nl->subject));
	p->text = xstrdup(newsletter_str(&nl->text));
	p->html = xstrdup(newsletter_str(&nl->html));
	p->body_heading = nl->body_heading;
	return 0;
}

void
newsletter_parts_clear(struct newsletter_parts *p)
{
	free(p->subject);
	free(p->text);
	free(p->html);
	memset(p, 0, sizeof *p);
}
