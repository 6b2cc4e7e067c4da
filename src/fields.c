/*
 * fields.c - the documented merge fields, and checking a campaign's
 * subject and body against them, against the attributes its list's
 * members have, and for images nobody could see (fields.h says what and
 * why).
 *
 * Owns: fields_table[], what a subject or body may name, how names
 * inside sections resolve for the check, the suggestions, and the words
 * of every problem.  Does not own: parsing Mustache (template.c) or
 * Markdown (markdown.c), where the attribute keys come from (campaign.c
 * asks the store), or rendering (newsletter.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fields.h"
#include "markdown.h"
#include "suggest.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

#define FIELDS_SHOW_MAX	60	/* bytes of an image source in a message */

const struct fields_doc fields_table[] = {
	{ "subscriber.name", FIELDS_BODY,
	  "the subscriber's name (empty for those who gave none)" },
	{ "subscriber.email", FIELDS_BODY,
	  "the subscriber's address" },
	{ "subscriber.KEY", FIELDS_BODY | FIELDS_ATTR,
	  "an attribute (a CSV column, --attr KEY=VALUE), in any case; "
	  "KEY is not name, email or attrs" },
	{ "subscriber.attrs.KEY", FIELDS_BODY | FIELDS_ATTR,
	  "the same attribute, for any KEY" },
	{ "list.name", FIELDS_BODY, "the list's name" },
	{ "list.slug", FIELDS_BODY, "the list's short name" },
	{ "list.description", FIELDS_BODY, "the list's description" },
	{ "campaign.id", FIELDS_BODY, "the campaign's number" },
	{ "campaign.subject", FIELDS_BODY,
	  "the subject as rendered for this subscriber" },
	{ "campaign.date", FIELDS_BODY,
	  "the day the campaign started sending (\"22 November 2026\")" },
	{ "unsubscribe_url", FIELDS_BODY, "the subscriber's unsubscribe link" },
	{ "preferences_url", FIELDS_BODY,
	  "the subscriber's link to choose how often they hear from the "
	  "list" },
	{ "archive_url", FIELDS_BODY,
	  "the newsletter on the web (general.base_url/archive/ID)" },
	{ "network.name", FIELDS_BODY, "general.from_name" },
	{ "network.enquiries", FIELDS_BODY, "general.from_address" },
	{ "body_html", FIELDS_TEMPLATE,
	  "the body as HTML, {{{body_html}}} in NAME.html" },
	{ "body_text", FIELDS_TEMPLATE,
	  "the body as text, {{{body_text}}} in NAME.txt" },
	{ "body_heading", FIELDS_TEMPLATE,
	  "true when the body opens with a level-1 heading of its own" },
	{ NULL, 0, NULL }
};

enum fields_known_type {
	FIELDS_K_LEAF,		/* a documented field */
	FIELDS_K_GROUP,		/* "subscriber", "list": fields under it */
	FIELDS_K_ATTR,		/* subscriber.KEY, subscriber.attrs.KEY */
	FIELDS_K_TEMPLATE,	/* a documented field for templates only */
};

struct fields_known {
	char			*name;
	enum fields_known_type	 type;
	const char		*attr;	/* ATTR: the key, inside name */
};

struct fields_ctx {
	const struct fields_input	*in;
	struct fields_report		*out;
	struct fields_known		*k;
	size_t				 nk;
	struct value			*index;	/* folded name -> k[i] */
	int				 subject;	/* checking it */
	/* What each section around the name resolved to, by depth. */
	char				*resolved[TEMPLATE_MAX_NEST + 1];
};

/* --- folding ------------------------------------------------------------- */

static unsigned char
fields_fold(char c)
{
	unsigned char	u = (unsigned char)c;

	return u >= 'A' && u <= 'Z' ? u + ('a' - 'A') : u;
}

/* --- the names someone can have ------------------------------------------ */

/* name with ASCII letters folded to lower case; the caller frees it. */
static char *
fields_folded(const char *name)
{
	char	*s, *p;

	s = xstrdup(name);
	for (p = s; *p != '\0'; p++)
		*p = (char)fields_fold(*p);
	return s;
}

/* The known name equal to name ignoring case (the first added), or NULL. */
static struct fields_known *
fields_find(const struct fields_ctx *x, const char *name)
{
	struct value	*v;
	long long	 i;
	char		*folded;

	folded = fields_folded(name);
	v = value_object_get(x->index, folded);
	free(folded);
	if (v == NULL || value_number_int(v, &i) == -1)
		return NULL;
	return &x->k[i];
}

static void
fields_add_known(struct fields_ctx *x, char *name, enum fields_known_type type,
    size_t attr_at)
{
	struct fields_known	*k;
	char			*folded;

	if (fields_find(x, name) != NULL) {
		free(name);
		return;
	}
	x->k = xreallocarray(x->k, x->nk + 1, sizeof *x->k);
	k = &x->k[x->nk];
	k->name = name;
	k->type = type;
	k->attr = type == FIELDS_K_ATTR ? name + attr_at : NULL;
	folded = fields_folded(name);
	value_object_set(x->index, folded, value_new_int((long long)x->nk++));
	free(folded);
}

/*
 * Can a template name this key?  Not with a dot (read as a path), white
 * space (not a name at all), braces or '=' (tag syntax), or nothing.
 */
static int
fields_key_ok(const char *key)
{
	return *key != '\0' && strpbrk(key, ". \t\r\n{}=&#^/!>") == NULL;
}

static void
fields_known_build(struct fields_ctx *x)
{
	static const char *const own[] = { "name", "email", "attrs", NULL };
	const struct fields_doc	*d;
	const char		*key, *dot;
	const char *const	*o;
	size_t			 i;

	/* Documented fields first: a suggestion prefers them. */
	for (d = fields_table; d->name != NULL; d++) {
		if (d->flags & FIELDS_ATTR)
			continue;
		fields_add_known(x, xstrdup(d->name), (d->flags & FIELDS_BODY) ?
		    FIELDS_K_LEAF : FIELDS_K_TEMPLATE, 0);
	}
	for (d = fields_table; d->name != NULL; d++) {
		for (dot = strchr(d->name, '.'); dot != NULL;
		    dot = strchr(dot + 1, '.'))
			fields_add_known(x, xstrndup(d->name,
			    (size_t)(dot - d->name)), FIELDS_K_GROUP, 0);
	}
	for (i = 0; i < x->in->nattrs; i++) {
		key = x->in->attrs[i];
		if (!fields_key_ok(key))
			continue;
		/* As newsletter.c: these three keys are only under attrs. */
		for (o = own; *o != NULL && strcmp(*o, key) != 0; o++)
			/* nothing */;
		if (*o == NULL)
			fields_add_known(x, xprintf("subscriber.%s", key),
			    FIELDS_K_ATTR, strlen("subscriber."));
	}
	for (i = 0; i < x->in->nattrs; i++) {
		key = x->in->attrs[i];
		if (fields_key_ok(key))
			fields_add_known(x, xprintf("subscriber.attrs.%s", key),
			    FIELDS_K_ATTR, strlen("subscriber.attrs."));
	}
}

/*
 * What name means at depth (inside that many sections): the first of
 * SECTION.NAME, from the innermost section out, then NAME, that is
 * known.  *resolved gets that (or NAME when none is).
 */
static struct fields_known *
fields_resolve(struct fields_ctx *x, const char *name, size_t depth,
    char **resolved)
{
	struct fields_known	*k;
	char			*cand;
	size_t			 i;

	for (i = depth; i > 0; i--) {
		if (x->resolved[i - 1] == NULL || *x->resolved[i - 1] == '\0')
			continue;
		cand = xprintf("%s.%s", x->resolved[i - 1], name);
		if ((k = fields_find(x, cand)) != NULL) {
			*resolved = cand;
			return k;
		}
		free(cand);
	}
	*resolved = xstrdup(name);
	return fields_find(x, name);
}

/* The last part of a dotted name. */
static const char *
fields_last(const char *name)
{
	const char	*dot = strrchr(name, '.');

	return dot != NULL ? dot + 1 : name;
}

/*
 * suggest_distance(a, b), or SIZE_MAX when it is surely more than limit:
 * two strings are at least as far apart as their lengths.
 */
static size_t
fields_near(const char *a, const char *b, size_t limit)
{
	size_t	la = strlen(a), lb = strlen(b);

	if ((la > lb ? la - lb : lb - la) > limit)
		return SIZE_MAX;
	return suggest_distance(a, b);
}

/*
 * The known field nearest to name (as written, and as it would read
 * inside each section around it), or NULL when none is close enough.
 */
static const char *
fields_suggest(struct fields_ctx *x, const char *name, size_t depth)
{
	const struct fields_known	*k, *best = NULL;
	size_t				 i, j, d, dj, bestd = SIZE_MAX, limit;
	size_t				 len;
	char				*form;

	len = strlen(name);
	limit = len <= 4 ? 1 : len <= 10 ? 2 : 3;
	for (i = 0; i < x->nk; i++) {
		k = &x->k[i];
		if (k->type != FIELDS_K_LEAF && k->type != FIELDS_K_ATTR)
			continue;
		d = fields_near(name, k->name, limit);
		for (j = depth; j > 0 && d > 0; j--) {
			if (x->resolved[j - 1] == NULL ||
			    *x->resolved[j - 1] == '\0')
				continue;
			form = xprintf("%s.%s", x->resolved[j - 1], name);
			if ((dj = fields_near(form, k->name, limit)) < d)
				d = dj;
			free(form);
		}
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best != NULL && bestd <= limit)
		return best->name;

	/* {{organisation}} for {{subscriber.organisation}}. */
	if (strchr(name, '.') == NULL) {
		for (i = 0; i < x->nk; i++) {
			k = &x->k[i];
			if ((k->type == FIELDS_K_LEAF ||
			    k->type == FIELDS_K_ATTR) &&
			    value_key_equal_nocase(fields_last(k->name), name))
				return k->name;
		}
	}
	return NULL;
}

/* The first field in group g ("list" -> "list.name"). */
static const char *
fields_first_in(struct fields_ctx *x, const char *g)
{
	size_t	i, len = strlen(g);

	for (i = 0; i < x->nk; i++) {
		if ((x->k[i].type == FIELDS_K_LEAF ||
		    x->k[i].type == FIELDS_K_ATTR) &&
		    strncmp(x->k[i].name, g, len) == 0 &&
		    x->k[i].name[len] == '.')
			return x->k[i].name;
	}
	return NULL;
}

/* --- problems ------------------------------------------------------------ */

static char *
fields_where(const struct fields_ctx *x, unsigned line)
{
	if (x->subject)
		return xstrdup("subject");
	return xprintf("body line %u", line);
}

static struct fields_problem *
fields_problem(struct fields_ctx *x, enum fields_kind kind, const char *what,
    unsigned line, const char *suggest)
{
	struct fields_report	*r = x->out;
	struct fields_problem	*p;

	r->problems = xreallocarray(r->problems, r->nproblems + 1,
	    sizeof *r->problems);
	p = &r->problems[r->nproblems++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->what = xstrdup(what);
	p->line = x->subject ? 0 : line;
	p->suggest = suggest != NULL ? xstrdup(suggest) : NULL;
	return p;
}

/* The tag as it was written, near enough: {{name}}, {{#name}}. */
static char *
fields_tag(const struct template_name *tn)
{
	if (tn->kind == '#' || tn->kind == '^')
		return xprintf("{{%c%s}}", tn->kind, tn->name);
	return xprintf("{{%s}}", tn->name);
}

static void
fields_unknown(struct fields_ctx *x, const struct template_name *tn,
    const char *resolved, const struct fields_known *group)
{
	struct fields_problem	*p;
	const char		*suggest, *key = NULL;
	char			*where, *tag, *why;

	if (x->out->nproblems >= FIELDS_MAX_PROBLEMS) {
		x->out->nmore++;
		return;
	}
	if (group != NULL)
		suggest = fields_first_in(x, group->name);
	else
		suggest = fields_suggest(x, tn->name, tn->nouter);
	p = fields_problem(x, FIELDS_UNKNOWN, tn->name, tn->line, suggest);

	/* Say what it is not, in the words a member of staff would use. */
	if (strncmp(resolved, "subscriber.attrs.", 17) == 0)
		key = resolved + 17;
	else if (strncmp(resolved, "subscriber.", 11) == 0)
		key = resolved + 11;
	if (group != NULL)
		why = xstrdup("is a group of fields, not a field");
	else if (key != NULL && *key != '\0' && strchr(key, '.') == NULL)
		why = xprintf("is not a merge field: it is not a standard "
		    "field, and no member of list \"%s\" has a value for "
		    "\"%s\"", x->in->list, key);
	else
		why = xstrdup("is not a merge field");

	where = fields_where(x, tn->line);
	tag = fields_tag(tn);
	if (suggest != NULL)
		p->message = xprintf("%s: %s %s; did you mean {{%s}}?", where,
		    tag, why, suggest);
	else
		p->message = xprintf("%s: %s %s", where, tag, why);
	free(tag);
	free(where);
	free(why);
}

static void
fields_template_only(struct fields_ctx *x, const struct template_name *tn)
{
	struct fields_problem	*p;
	char			*where, *tag;

	if (x->out->nproblems >= FIELDS_MAX_PROBLEMS) {
		x->out->nmore++;
		return;
	}
	p = fields_problem(x, FIELDS_TEMPLATE_ONLY, tn->name, tn->line, NULL);
	where = fields_where(x, tn->line);
	tag = fields_tag(tn);
	p->message = xprintf("%s: %s only works in the templates around the "
	    "body (NAME.html, NAME.txt), not in a subject or body", where,
	    tag);
	free(tag);
	free(where);
}

/* Remember a field some recipients may lack, once. */
static void
fields_use(struct fields_ctx *x, const struct fields_known *k,
    const char *resolved)
{
	struct fields_report	*r = x->out;
	struct fields_use	*u;
	const char		*attr;
	size_t			 i;

	attr = k->type == FIELDS_K_ATTR ? fields_last(resolved) : NULL;
	if (attr == NULL)
		resolved = k->name;	/* a documented field's own spelling */
	for (i = 0; i < r->nuses; i++) {
		u = &r->uses[i];
		if (attr == NULL ? u->attr == NULL :
		    u->attr != NULL && value_key_equal_nocase(u->attr, attr))
			return;
	}
	r->uses = xreallocarray(r->uses, r->nuses + 1, sizeof *r->uses);
	u = &r->uses[r->nuses++];
	memset(u, 0, sizeof *u);
	u->field = xstrdup(resolved);
	u->attr = attr != NULL ? xstrdup(attr) : NULL;
}

static int
fields_name(const struct template_name *tn, void *arg)
{
	struct fields_ctx	*x = arg;
	struct fields_known	*k;
	size_t			 depth = tn->nouter;
	char			*resolved;

	if (depth > TEMPLATE_MAX_NEST)
		return 0;	/* the parser allows no such thing */
	if (strcmp(tn->name, ".") == 0) {
		resolved = xstrdup(depth > 0 && x->resolved[depth - 1] !=
		    NULL ? x->resolved[depth - 1] : "");
		k = NULL;
	} else {
		k = fields_resolve(x, tn->name, depth, &resolved);
		if (k == NULL || (k->type == FIELDS_K_GROUP &&
		    (tn->kind == ' ' || tn->kind == '&')))
			fields_unknown(x, tn, resolved, k);
		else if (k->type == FIELDS_K_TEMPLATE)
			fields_template_only(x, tn);
		else if (k->type == FIELDS_K_ATTR ||
		    strcmp(k->name, "subscriber.name") == 0)
			fields_use(x, k, resolved);
	}
	/* What the names inside this section are relative to. */
	if (tn->kind == '#' && depth < TEMPLATE_MAX_NEST) {
		free(x->resolved[depth]);
		x->resolved[depth] = resolved;
	} else
		free(resolved);
	return 0;
}

/* An image source, cut short for a message. */
static char *
fields_show(const char *url)
{
	size_t	len = strlen(url);

	if (len <= FIELDS_SHOW_MAX)
		return xstrdup(url);
	len = FIELDS_SHOW_MAX;
	/* Not in the middle of a UTF-8 sequence. */
	while (len > 0 && ((unsigned char)url[len] & 0xc0) == 0x80)
		len--;
	return xprintf("%.*s...", (int)len, url);
}

static int
fields_prefix(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++) {
		if (fields_fold(*s) != (unsigned char)*prefix)
			return 0;
	}
	return 1;
}

/* "C:\...", "\\server\...", "/home/...", "~/...", "file:...". */
static int
fields_is_path(const char *u)
{
	return fields_prefix(u, "file:") || u[0] == '\\' || u[0] == '/' ||
	    u[0] == '~' || (((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z') &&
	    u[1] == ':' && (u[2] == '\\' || u[2] == '/'));
}

/* What is wrong with an image's source, as a reader of the mail sees it. */
static const char *
fields_image_why(const struct markdown_image *im)
{
	const char	*u = im->url;

	while (*u == ' ' || *u == '\t')
		u++;
	if (im->broken && fields_is_path(u))
		return "is a file on a computer (and cannot be read as an "
		    "address: it has a space in it), which nobody else's mail "
		    "program can open";
	if (im->broken)
		return "cannot be read as an address (a space in it?)";
	if (*u == '\0')
		return "has no address";
	if (fields_prefix(u, "http:"))
		return "is on an insecure http:// address, which many mail "
		    "programs will not show";
	if (fields_prefix(u, "data:"))
		return "is written into the body (data:), which most mail "
		    "programs will not show";
	if (fields_is_path(u))
		return "is a file on a computer, which nobody else's mail "
		    "program can open";
	if (fields_prefix(u, "https:"))
		return "has no web site in its address";
	if (u[strcspn(u, ":/")] == ':')
		return "is not a web address";
	return "is a file name, not a web address";
}

static void
fields_images(struct fields_ctx *x, const char *body)
{
	struct markdown_image	*imgs;
	struct fields_problem	*p;
	size_t			 n, i;
	char			*show;

	n = markdown_images(body, strlen(body), &imgs);
	for (i = 0; i < n; i++) {
		if (!imgs[i].broken && markdown_image_ok(imgs[i].url))
			continue;
		if (x->out->nproblems >= FIELDS_MAX_PROBLEMS) {
			x->out->nmore++;
			continue;
		}
		p = fields_problem(x, FIELDS_IMAGE, imgs[i].url, imgs[i].line,
		    NULL);
		show = fields_show(imgs[i].url);
		p->message = xprintf("body line %u: the image \"%s\" %s: put "
		    "the image on a web site the network controls and use "
		    "its https:// address, ![what it shows](https://...)",
		    imgs[i].line, show, fields_image_why(&imgs[i]));
		free(show);
	}
	markdown_images_free(imgs, n);
}

/* --- the check ------------------------------------------------------------ */

/* In the order a reader meets them: the subject, then line by line. */
static void
fields_sort(struct fields_report *r)
{
	struct fields_problem	p;
	size_t			i, j;

	/* Few, and found nearly in order: an insertion sort, stable. */
	for (i = 1; i < r->nproblems; i++) {
		p = r->problems[i];
		for (j = i; j > 0 && r->problems[j - 1].line > p.line; j--)
			r->problems[j] = r->problems[j - 1];
		r->problems[j] = p;
	}
}

static int
fields_check_one(struct fields_ctx *x, const char *text, const char *what,
    char **cause)
{
	struct template	*t;
	char		*why;
	size_t		 i;

	if ((t = template_parse(text, strlen(text), &why)) == NULL) {
		*cause = xprintf("%s: %s", what, why);
		free(why);
		return -1;
	}
	(void)template_names(t, fields_name, x);
	template_free(t);
	for (i = 0; i <= TEMPLATE_MAX_NEST; i++) {
		free(x->resolved[i]);
		x->resolved[i] = NULL;
	}
	return 0;
}

int
fields_check(const struct fields_input *in, struct fields_report *out,
    char **cause)
{
	struct fields_ctx	x;
	size_t			i;
	int			rc = -1;

	memset(out, 0, sizeof *out);
	memset(&x, 0, sizeof x);
	x.in = in;
	x.out = out;
	x.index = value_new_object();
	fields_known_build(&x);

	x.subject = 1;
	if (fields_check_one(&x, in->subject != NULL ? in->subject : "",
	    "subject", cause) == -1)
		goto out;
	x.subject = 0;
	if (fields_check_one(&x, in->body != NULL ? in->body : "", "body",
	    cause) == -1)
		goto out;
	fields_images(&x, in->body != NULL ? in->body : "");
	fields_sort(out);
	rc = 0;
out:
	for (i = 0; i < x.nk; i++)
		free(x.k[i].name);
	free(x.k);
	value_free(x.index);
	if (rc == -1)
		fields_report_clear(out);
	return rc;
}

void
fields_report_clear(struct fields_report *r)
{
	size_t	i;

	for (i = 0; i < r->nproblems; i++) {
		free(r->problems[i].what);
		free(r->problems[i].suggest);
		free(r->problems[i].message);
	}
	free(r->problems);
	for (i = 0; i < r->nuses; i++) {
		free(r->uses[i].field);
		free(r->uses[i].attr);
	}
	free(r->uses);
	memset(r, 0, sizeof *r);
}

char *
fields_report_text(const struct fields_report *r)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < r->nproblems; i++) {
		if (i > 0)
			buf_addstr(&b, "; ");
		buf_addstr(&b, r->problems[i].message);
	}
	if (r->nmore > 0)
		buf_printf(&b, "; and %zu more", r->nmore);
	if (b.data == NULL)
		buf_add(&b, "", 0);
	return buf_detach(&b, NULL);
}
