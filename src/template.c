/*
 * template.c - the Mustache parser and renderer.
 *
 * Owns: template syntax (tags, delimiters, the standalone-line rules),
 * name resolution against the context stack, HTML escaping, partial
 * lookup and caching, and the limits that stop a hostile template.  Does
 * not own: the data (struct value, built by the caller, usually from JSON
 * by json.c) or where the output goes.
 *
 * A template is parsed once into a flat array of nodes; a section node
 * records the index just past its last child, so rendering is a walk over
 * index ranges and freeing is a loop.  Standalone lines are resolved at
 * parse time.  A standalone partial's indentation is applied to the
 * partial's source lines before it is parsed (as the spec asks: the
 * values interpolated into it are not indented), so a partial is parsed
 * once per (name, indentation) and cached in its struct template_partials.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "template.h"
#include "value.h"
#include "xmalloc.h"

#define TEMPLATE_MAX_DELIM	32

enum template_node_type {
	TEMPLATE_TEXT,
	TEMPLATE_VAR,		/* {{name}}: escaped */
	TEMPLATE_RAW,		/* {{{name}}} and {{&name}} */
	TEMPLATE_SECTION,	/* {{#name}} */
	TEMPLATE_INVERTED,	/* {{^name}} */
	TEMPLATE_PARTIAL,	/* {{>name}} */
};

struct template_node {
	enum template_node_type	  type;
	unsigned		  line;
	char			 *s;	  /* TEXT: the text, else the name */
	size_t			  len;
	char			**path;	  /* dotted name; npath 0 is "." */
	uint32_t		 *hash;	  /* value_key_hash() of each */
	size_t			  npath;
	char			 *indent; /* PARTIAL: when standalone */
	size_t			  end;	  /* SECTION, INVERTED: past children */
};

struct template {
	struct template_node	*nodes;
	size_t			 n;
	size_t			 cap;
	int			 nocase;	/* template_set_nocase() */
};

struct template_parser {
	const char	*text;
	size_t		 len;
	struct template	*t;

	char		 otag[TEMPLATE_MAX_DELIM + 1];
	char		 ctag[TEMPLATE_MAX_DELIM + 1];
	size_t		 olen;
	size_t		 clen;

	size_t		*open;		/* indices of open sections */
	size_t		 nopen;

	unsigned	 line;		/* line of linepos */
	size_t		 linepos;
};

/* A partial's text, once looked up (found or not). */
struct template_source {
	char	*name;
	char	*text;		/* NULL: not found */
	size_t	 len;
};

/* A partial parsed for one indentation. */
struct template_cached {
	char		*name;
	char		*indent;	/* "" when not standalone */
	struct template	*t;		/* NULL: not found */
};

enum template_partials_kind {
	TEMPLATE_PARTIALS_MAP,
	TEMPLATE_PARTIALS_DIR,
	TEMPLATE_PARTIALS_CALLBACK,
};

struct template_partials {
	enum template_partials_kind	  kind;
	char				 *dir;
	int				(*fn)(void *, const char *,
					    struct buf *, char **);
	void				 *arg;

	struct template_source		 *src;
	size_t				  nsrc;
	struct template_cached		 *cache;
	size_t				  ncache;
};

struct template_render {
	struct template_partials	 *partials;
	struct buf			 *out;
	size_t				  maxout;
	int				  escape;
	int				  nocase;

	const struct value		**stack;
	size_t				  nstack;
	size_t				  capstack;
	const struct value		 *stack0[16];	/* the first ones */

	unsigned long			  steps;
	unsigned			  partial_depth;
	char				 *cause;
};

static int	template_render_nodes(struct template_render *,
		    const struct template *, size_t, size_t);

/* --- parsing ------------------------------------------------------------- */

static int
template_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Line number of pos; positions asked for only ever grow. */
static unsigned
template_line(struct template_parser *p, size_t pos)
{
	for (; p->linepos < pos && p->linepos < p->len; p->linepos++) {
		if (p->text[p->linepos] == '\n')
			p->line++;
	}
	return p->line;
}

static const char *
template_find(const char *text, size_t len, size_t from, const char *what,
    size_t wlen)
{
	if (from > len)
		return NULL;
	return memmem(text + from, len - from, what, wlen);
}

static struct template_node *
template_add_node(struct template *t, enum template_node_type type,
    unsigned line)
{
	struct template_node	*n;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->nodes = xreallocarray(t->nodes, t->cap, sizeof *t->nodes);
	}
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof *n);
	n->type = type;
	n->line = line;
	return n;
}

/* Copy len bytes, NULs included, and terminate. */
static char *
template_memdup(const char *s, size_t len)
{
	char	*p;

	p = xmalloc(len + 1);
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void
template_add_text(struct template_parser *p, size_t from, size_t to)
{
	struct template_node	*n;

	if (to <= from)
		return;
	n = template_add_node(p->t, TEMPLATE_TEXT, 0);
	n->s = template_memdup(p->text + from, to - from);
	n->len = to - from;
}

/* Trim a tag's content to a name: not empty, no spaces inside. */
static int
template_trim_name(const char **sp, size_t *lenp, unsigned line,
    char **cause)
{
	const char	*s = *sp;
	size_t		 len = *lenp, i;

	while (len > 0 && template_is_space(*s)) {
		s++;
		len--;
	}
	while (len > 0 && template_is_space(s[len - 1]))
		len--;
	if (len == 0) {
		*cause = xprintf("line %u: empty tag name", line);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (template_is_space(s[i]) || s[i] == '\0') {
			*cause = xprintf("line %u: bad tag name \"%.*s\"",
			    line, (int)len, s);
			return -1;
		}
	}
	*sp = s;
	*lenp = len;
	return 0;
}

/* Fill n->s and, unless this is a partial, n->path. */
static int
template_set_name(struct template_node *n, const char *s, size_t len,
    char **cause)
{
	const char	*dot, *end;

	if (template_trim_name(&s, &len, n->line, cause) == -1)
		return -1;
	n->s = xstrndup(s, len);
	n->len = len;
	if (n->type == TEMPLATE_PARTIAL || (len == 1 && *s == '.'))
		return 0;

	end = s + len;
	for (;;) {
		dot = memchr(s, '.', (size_t)(end - s));
		if (dot == NULL)
			dot = end;
		if (dot == s) {
			*cause = xprintf("line %u: bad name \"%s\"", n->line,
			    n->s);
			return -1;
		}
		n->path = xreallocarray(n->path, n->npath + 1,
		    sizeof *n->path);
		n->hash = xreallocarray(n->hash, n->npath + 1,
		    sizeof *n->hash);
		n->path[n->npath] = xstrndup(s, (size_t)(dot - s));
		n->hash[n->npath] = value_key_hash(n->path[n->npath]);
		n->npath++;
		if (dot == end)
			break;
		s = dot + 1;
		if (s == end) {
			*cause = xprintf("line %u: bad name \"%s\"", n->line,
			    n->s);
			return -1;
		}
	}
	return 0;
}

/* {{=<% %>=}}: content is what lies between the two "=". */
static int
template_set_delimiters(struct template_parser *p, const char *s,
    size_t len, unsigned line, char **cause)
{
	const char	*end = s + len, *o, *c;
	size_t		 olen, clen;

	while (s < end && template_is_space(*s))
		s++;
	o = s;
	while (s < end && !template_is_space(*s) && *s != '=')
		s++;
	olen = (size_t)(s - o);
	while (s < end && template_is_space(*s))
		s++;
	c = s;
	while (s < end && !template_is_space(*s) && *s != '=')
		s++;
	clen = (size_t)(s - c);
	while (s < end && template_is_space(*s))
		s++;
	if (olen == 0 || clen == 0 || s != end ||
	    olen > TEMPLATE_MAX_DELIM || clen > TEMPLATE_MAX_DELIM ||
	    memchr(o, '\0', olen) != NULL || memchr(c, '\0', clen) != NULL) {
		*cause = xprintf("line %u: bad set-delimiter tag (want "
		    "{{=OPEN CLOSE=}}, each without spaces or \"=\")", line);
		return -1;
	}
	memcpy(p->otag, o, olen);
	p->otag[olen] = '\0';
	p->olen = olen;
	memcpy(p->ctag, c, clen);
	p->ctag[clen] = '\0';
	p->clen = clen;
	return 0;
}

/*
 * Is the tag at [at, tagend) alone on its line, with only spaces and tabs
 * around it?  If so, *ls is where its indentation starts and *next is past
 * the end of the line (or the end of the template).
 */
static int
template_standalone(struct template_parser *p, size_t textstart, size_t at,
    size_t tagend, size_t *ls, size_t *next)
{
	const char	*text = p->text;
	size_t		 i;

	for (i = at; i > textstart && (text[i - 1] == ' ' ||
	    text[i - 1] == '\t'); i--)
		;
	if (i != 0 && text[i - 1] != '\n')
		return 0;
	*ls = i;
	for (i = tagend; i < p->len && (text[i] == ' ' || text[i] == '\t');
	    i++)
		;
	if (i == p->len)
		*next = i;
	else if (text[i] == '\n')
		*next = i + 1;
	else if (text[i] == '\r' && i + 1 < p->len && text[i + 1] == '\n')
		*next = i + 2;
	else
		return 0;
	return 1;
}

static int
template_parse_tags(struct template_parser *p, char **cause)
{
	struct template_node	*n, *open;
	const char		*found, *cs;
	char			 close[TEMPLATE_MAX_DELIM + 2];
	size_t			 pos = 0, textstart = 0, at, ce, tagend;
	size_t			 ls, next, clen, len;
	unsigned		 line;
	char			 sigil;
	enum template_node_type	 type;

	for (;;) {
		found = template_find(p->text, p->len, pos, p->otag, p->olen);
		if (found == NULL) {
			template_add_text(p, textstart, p->len);
			break;
		}
		at = (size_t)(found - p->text);
		line = template_line(p, at);
		cs = found + p->olen;
		sigil = cs < p->text + p->len ? *cs : '\0';
		if (strchr("#^/!>&{=", sigil) == NULL || sigil == '\0')
			sigil = '\0';

		/* Find the end of the tag: {{{ ends with }}}, {{= with =}}. */
		clen = 0;
		if (sigil == '{' || sigil == '=')
			close[clen++] = sigil == '{' ? '}' : '=';
		memcpy(close + clen, p->ctag, p->clen + 1);
		clen += p->clen;
		found = template_find(p->text, p->len,
		    (size_t)(cs - p->text) + (sigil != '\0'), close, clen);
		if (found == NULL) {
			*cause = xprintf("line %u: unclosed tag (no \"%s\" "
			    "after \"%s\")", line, close, p->otag);
			return -1;
		}
		ce = (size_t)(found - p->text);
		tagend = ce + clen;
		if (sigil != '\0')
			cs++;

		/* Standalone lines vanish, indentation and newline too. */
		if (sigil != '\0' && strchr("#^/!>=", sigil) != NULL &&
		    template_standalone(p, textstart, at, tagend, &ls, &next)) {
			template_add_text(p, textstart, ls);
			textstart = next;
		} else {
			template_add_text(p, textstart, at);
			textstart = tagend;
			ls = at;
		}
		pos = tagend;

		switch (sigil) {
		case '!':
			break;
		case '=':
			if (template_set_delimiters(p, cs,
			    ce - (size_t)(cs - p->text), line, cause) == -1)
				return -1;
			break;
		case '/':
			if (p->nopen == 0) {
				*cause = xprintf("line %u: {{/%.*s}} closes no "
				    "section", line,
				    (int)(ce - (size_t)(cs - p->text)), cs);
				return -1;
			}
			open = &p->t->nodes[p->open[p->nopen - 1]];
			len = ce - (size_t)(cs - p->text);
			if (template_trim_name(&cs, &len, line, cause) == -1)
				return -1;
			if (len != open->len || memcmp(cs, open->s, len) != 0) {
				*cause = xprintf("line %u: {{/%.*s}} closes "
				    "{{%c%s}} opened on line %u", line,
				    (int)len, cs,
				    open->type == TEMPLATE_SECTION ? '#' : '^',
				    open->s, open->line);
				return -1;
			}
			open->end = p->t->n;
			p->nopen--;
			break;
		default:
			if (sigil == '#')
				type = TEMPLATE_SECTION;
			else if (sigil == '^')
				type = TEMPLATE_INVERTED;
			else if (sigil == '>')
				type = TEMPLATE_PARTIAL;
			else if (sigil == '&' || sigil == '{')
				type = TEMPLATE_RAW;
			else
				type = TEMPLATE_VAR;
			n = template_add_node(p->t, type, line);
			if (template_set_name(n, cs, ce - (size_t)(cs - p->text),
			    cause) == -1)
				return -1;
			if (type == TEMPLATE_PARTIAL && ls < at)
				n->indent = xstrndup(p->text + ls, at - ls);
			if (type == TEMPLATE_SECTION ||
			    type == TEMPLATE_INVERTED) {
				if (p->nopen == TEMPLATE_MAX_NEST) {
					*cause = xprintf("line %u: sections "
					    "nested more than %d deep", line,
					    TEMPLATE_MAX_NEST);
					return -1;
				}
				p->open[p->nopen++] = p->t->n - 1;
			}
			break;
		}
	}
	if (p->nopen > 0) {
		open = &p->t->nodes[p->open[p->nopen - 1]];
		*cause = xprintf("line %u: unclosed section {{%c%s}}",
		    open->line, open->type == TEMPLATE_SECTION ? '#' : '^',
		    open->s);
		return -1;
	}
	return 0;
}

struct template *
template_parse(const char *text, size_t len, char **cause)
{
	struct template_parser	p;
	size_t			open[TEMPLATE_MAX_NEST];

	memset(&p, 0, sizeof p);
	p.text = text;
	p.len = len;
	p.t = xcalloc(1, sizeof *p.t);
	p.open = open;
	p.line = 1;
	memcpy(p.otag, "{{", 3);
	p.olen = 2;
	memcpy(p.ctag, "}}", 3);
	p.clen = 2;
	if (template_parse_tags(&p, cause) == -1) {
		template_free(p.t);
		return NULL;
	}
	return p.t;
}

struct template *
template_load(const char *dir, const char *name, char **cause)
{
	struct template	*t;
	char		*path;

	path = xprintf("%s/%s", dir, name);
	t = template_parse_file(path, cause);
	free(path);
	return t;
}

struct template *
template_parse_file(const char *path, char **cause)
{
	struct buf	 b;
	struct template	*t;
	char		*why;

	buf_init(&b, TEMPLATE_MAX_FILE);
	if (buf_read_file(&b, path) == -1) {
		if (errno == EFBIG) {
			*cause = xprintf("%s: file larger than %d bytes", path,
			    TEMPLATE_MAX_FILE);
		} else
			*cause = xprintf("%s: %s", path, strerror(errno));
		buf_free(&b);
		return NULL;
	}
	t = template_parse(b.data, b.len, &why);
	buf_free(&b);
	if (t == NULL) {
		*cause = xprintf("%s: %s", path, why);
		free(why);
		errno = 0;
	}
	return t;
}

void
template_free(struct template *t)
{
	struct template_node	*n;
	size_t			 i, j;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		n = &t->nodes[i];
		free(n->s);
		for (j = 0; j < n->npath; j++)
			free(n->path[j]);
		free(n->path);
		free(n->hash);
		free(n->indent);
	}
	free(t->nodes);
	free(t);
}

void
template_set_nocase(struct template *t)
{
	t->nocase = 1;
}

int
template_names(const struct template *t,
    int (*fn)(const struct template_name *, void *), void *arg)
{
	const struct template_node	*n;
	struct template_name		 tn;
	const char			*outer[TEMPLATE_MAX_NEST];
	size_t				 end[TEMPLATE_MAX_NEST];
	int				 push[TEMPLATE_MAX_NEST];
	size_t				 i, nopen = 0, nouter = 0;
	int				 rc;

	for (i = 0; i < t->n; i++) {
		/* Leave the sections that ended before this node. */
		while (nopen > 0 && end[nopen - 1] <= i) {
			if (push[--nopen])
				nouter--;
		}
		n = &t->nodes[i];
		switch (n->type) {
		case TEMPLATE_VAR:
			tn.kind = ' ';
			break;
		case TEMPLATE_RAW:
			tn.kind = '&';
			break;
		case TEMPLATE_SECTION:
			tn.kind = '#';
			break;
		case TEMPLATE_INVERTED:
			tn.kind = '^';
			break;
		default:
			continue;
		}
		tn.name = n->s;
		tn.line = n->line;
		tn.outer = outer;
		tn.nouter = nouter;
		if ((rc = fn(&tn, arg)) != 0)
			return rc;
		if (n->type == TEMPLATE_SECTION ||
		    n->type == TEMPLATE_INVERTED) {
			/* The parser allows no deeper nesting. */
			end[nopen] = n->end;
			push[nopen++] = n->type == TEMPLATE_SECTION;
			if (n->type == TEMPLATE_SECTION)
				outer[nouter++] = n->s;
		}
	}
	return 0;
}

/* --- partials ------------------------------------------------------------ */

static struct template_partials *
template_partials_alloc(enum template_partials_kind kind)
{
	struct template_partials	*tp;

	tp = xcalloc(1, sizeof *tp);
	tp->kind = kind;
	return tp;
}

struct template_partials *
template_partials_new(void)
{
	return template_partials_alloc(TEMPLATE_PARTIALS_MAP);
}

static void
template_partials_store(struct template_partials *tp, const char *name,
    const char *text, size_t len)
{
	struct template_source	*src;

	tp->src = xreallocarray(tp->src, tp->nsrc + 1, sizeof *tp->src);
	src = &tp->src[tp->nsrc++];
	src->name = xstrdup(name);
	src->text = text != NULL ? template_memdup(text, len) : NULL;
	src->len = text != NULL ? len : 0;
}

void
template_partials_add(struct template_partials *tp, const char *name,
    const char *text, size_t len)
{
	size_t	i;

	/* Replacing a partial drops what was parsed from the old text. */
	for (i = 0; i < tp->ncache; i++) {
		if (strcmp(tp->cache[i].name, name) == 0) {
			free(tp->cache[i].name);
			free(tp->cache[i].indent);
			template_free(tp->cache[i].t);
			tp->cache[i--] = tp->cache[--tp->ncache];
		}
	}
	for (i = 0; i < tp->nsrc; i++) {
		if (strcmp(tp->src[i].name, name) == 0) {
			free(tp->src[i].text);
			tp->src[i].text = template_memdup(text, len);
			tp->src[i].len = len;
			return;
		}
	}
	template_partials_store(tp, name, text, len);
}

struct template_partials *
template_partials_dir(const char *dir)
{
	struct template_partials	*tp;

	tp = template_partials_alloc(TEMPLATE_PARTIALS_DIR);
	tp->dir = xstrdup(dir);
	return tp;
}

struct template_partials *
template_partials_callback(int (*fn)(void *, const char *, struct buf *,
    char **), void *arg)
{
	struct template_partials	*tp;

	tp = template_partials_alloc(TEMPLATE_PARTIALS_CALLBACK);
	tp->fn = fn;
	tp->arg = arg;
	return tp;
}

void
template_partials_free(struct template_partials *tp)
{
	size_t	i;

	if (tp == NULL)
		return;
	for (i = 0; i < tp->nsrc; i++) {
		free(tp->src[i].name);
		free(tp->src[i].text);
	}
	free(tp->src);
	for (i = 0; i < tp->ncache; i++) {
		free(tp->cache[i].name);
		free(tp->cache[i].indent);
		template_free(tp->cache[i].t);
	}
	free(tp->cache);
	free(tp->dir);
	free(tp);
}

/* A partial name must stay inside the directory. */
static int
template_partials_name_ok(const char *name)
{
	const char	*s = name, *slash;
	size_t		 len;

	if (*name == '\0' || *name == '/')
		return 0;
	for (;;) {
		slash = strchr(s, '/');
		len = slash != NULL ? (size_t)(slash - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (slash == NULL)
			return 1;
		s = slash + 1;
	}
}

/* 1 and the text in b, 0 when there is no such file, -1 with *cause. */
static int
template_partials_read(struct template_partials *tp, const char *name,
    struct buf *b, char **cause)
{
	struct stat	 sb;
	char		*path;
	int		 i;

	if (!template_partials_name_ok(name)) {
		*cause = xprintf("partial \"%s\": bad name for a file", name);
		return -1;
	}
	for (i = 0; i < 2; i++) {
		path = xprintf("%s/%s%s", tp->dir, name,
		    i == 0 ? ".mustache" : "");
		if (stat(path, &sb) == -1 && errno == ENOENT) {
			free(path);
			continue;
		}
		if (buf_read_file(b, path) == -1) {
			*cause = xprintf("partial \"%s\": %s: %s", name, path,
			    errno == EFBIG ? "file too large" :
			    strerror(errno));
			free(path);
			return -1;
		}
		free(path);
		return 1;
	}
	return 0;
}

/* The partial's source with indent before each of its lines. */
static char *
template_partials_indent(const char *text, size_t len, const char *indent,
    size_t *outlen)
{
	struct buf	b;
	size_t		i, start = 0;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i > start || i < len)
			(void)buf_addstr(&b, indent);
		(void)buf_add(&b, text + start, i - start + (i < len));
		start = i + 1;
	}
	return buf_detach(&b, outlen);
}

/*
 * The parsed partial for name and indent: 0 with *out (NULL when there
 * is no such partial), or -1 with *cause.
 */
static int
template_partials_get(struct template_partials *tp, const char *name,
    const char *indent, struct template **out, char **cause)
{
	struct template_source	*src = NULL;
	struct template_cached	*c;
	struct buf		 b;
	char			*text, *why;
	size_t			 i, len;
	int			 rc;

	*out = NULL;
	if (indent == NULL)
		indent = "";
	for (i = 0; i < tp->ncache; i++) {
		c = &tp->cache[i];
		if (strcmp(c->name, name) == 0 && strcmp(c->indent, indent) == 0) {
			*out = c->t;
			return 0;
		}
	}

	/* Find the source text: looked up before, or look it up now. */
	for (i = 0; i < tp->nsrc; i++) {
		if (strcmp(tp->src[i].name, name) == 0) {
			src = &tp->src[i];
			break;
		}
	}
	if (src == NULL && tp->kind != TEMPLATE_PARTIALS_MAP) {
		buf_init(&b, TEMPLATE_MAX_FILE);
		if (tp->kind == TEMPLATE_PARTIALS_DIR)
			rc = template_partials_read(tp, name, &b, cause);
		else {
			why = NULL;
			rc = tp->fn(tp->arg, name, &b, &why);
			if (rc == -1) {
				*cause = xprintf("partial \"%s\": %s", name,
				    why != NULL ? why : "lookup failed");
				free(why);
			}
		}
		if (rc == -1) {
			buf_free(&b);
			return -1;
		}
		template_partials_store(tp, name, NULL, 0);
		src = &tp->src[tp->nsrc - 1];
		if (rc == 1) {
			src->text = buf_detach(&b, &src->len);
			if (src->text == NULL)
				src->text = xstrdup("");
		}
		buf_free(&b);
	}

	tp->cache = xreallocarray(tp->cache, tp->ncache + 1,
	    sizeof *tp->cache);
	c = &tp->cache[tp->ncache];
	c->t = NULL;
	if (src != NULL && src->text != NULL) {
		if (*indent != '\0') {
			text = template_partials_indent(src->text, src->len,
			    indent, &len);
			c->t = template_parse(text, len, &why);
			free(text);
		} else
			c->t = template_parse(src->text, src->len, &why);
		if (c->t == NULL) {
			*cause = xprintf("partial \"%s\": %s", name, why);
			free(why);
			return -1;
		}
	}
	c->name = xstrdup(name);
	c->indent = xstrdup(indent);
	tp->ncache++;
	*out = c->t;
	return 0;
}

/* --- rendering ----------------------------------------------------------- */

static int
template_emit(struct template_render *r, const char *s, size_t len)
{
	if (r->out->len + len > r->maxout || buf_add(r->out, s, len) == -1) {
		if (r->cause == NULL)
			r->cause = xprintf("output larger than %zu bytes",
			    r->out->max != 0 ? r->out->max : r->maxout);
		return -1;
	}
	return 0;
}

static int
template_emit_escaped(struct template_render *r, const char *s, size_t len)
{
	size_t		 i, start = 0;
	const char	*rep;

	for (i = 0; i < len; i++) {
		/* The five all come before '?': letters go straight on. */
		if ((unsigned char)s[i] > '>')
			continue;
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		if (template_emit(r, s + start, i - start) == -1 ||
		    template_emit(r, rep, strlen(rep)) == -1)
			return -1;
		start = i + 1;
	}
	return template_emit(r, s + start, len - start);
}

/* Resolve a (dotted) name against the context stack; NULL on a miss. */
static const struct value *
template_lookup(struct template_render *r, const struct template_node *n)
{
	const struct value	*v = NULL, *p;
	size_t			 i;

	if (n->npath == 0)
		return r->stack[r->nstack - 1];
	for (i = r->nstack; i > 0; i--) {
		if ((v = value_object_get_hashed(r->stack[i - 1], n->path[0],
		    n->hash[0])) != NULL)
			break;
	}
	/* Another case only when no context has the name exactly. */
	for (i = r->nstack; v == NULL && r->nocase && i > 0; i--)
		v = value_object_get_nocase(r->stack[i - 1], n->path[0]);
	/* The rest of a dotted name resolves only against what came first. */
	for (i = 1; v != NULL && i < n->npath; i++) {
		p = v;
		v = value_object_get_hashed(p, n->path[i], n->hash[i]);
		if (v == NULL && r->nocase)
			v = value_object_get_nocase(p, n->path[i]);
	}
	return v;
}

static int
template_truthy(const struct value *v)
{
	size_t	len;

	switch (value_get_type(v)) {
	case VALUE_NULL:
		return 0;
	case VALUE_BOOL:
		return value_bool(v);
	case VALUE_STRING:
		(void)value_string(v, &len);
		return len > 0;
	case VALUE_LIST:
		return value_list_len(v) > 0;
	case VALUE_NUMBER:
	case VALUE_OBJECT:
		return 1;
	}
	return 0;
}

static int
template_push(struct template_render *r, const struct value *v)
{
	if (r->stack == NULL) {
		/* Renders seldom nest deeper: no allocation for those. */
		r->stack = r->stack0;
		r->capstack = sizeof r->stack0 / sizeof r->stack0[0];
	}
	if (r->nstack == r->capstack) {
		if (r->stack == r->stack0) {
			r->stack = xreallocarray(NULL, r->capstack * 2,
			    sizeof *r->stack);
			memcpy(r->stack, r->stack0, sizeof r->stack0);
		} else {
			r->stack = xreallocarray(r->stack, r->capstack * 2,
			    sizeof *r->stack);
		}
		r->capstack *= 2;
	}
	r->stack[r->nstack++] = v;
	return 0;
}

static int
template_step(struct template_render *r)
{
	if (++r->steps > TEMPLATE_MAX_STEPS) {
		if (r->cause == NULL)
			r->cause = xprintf("template too costly to render "
			    "(more than %lu steps)", TEMPLATE_MAX_STEPS);
		return -1;
	}
	return 0;
}

static int
template_render_value(struct template_render *r, const struct value *v,
    int escape)
{
	const char	*s = NULL;
	size_t		 len = 0;

	switch (value_get_type(v)) {
	case VALUE_STRING:
		s = value_string(v, &len);
		break;
	case VALUE_NUMBER:
		s = value_number_text(v);
		len = strlen(s);
		break;
	case VALUE_BOOL:
		s = value_bool(v) ? "true" : "false";
		len = strlen(s);
		break;
	default:	/* null, lists and objects print nothing */
		return 0;
	}
	if (escape)
		return template_emit_escaped(r, s, len);
	return template_emit(r, s, len);
}

static int
template_render_partial(struct template_render *r,
    const struct template_node *n)
{
	struct template	*pt;
	int		 rc;

	if (r->partials == NULL)
		return 0;
	if (r->partial_depth >= TEMPLATE_MAX_PARTIAL_DEPTH) {
		r->cause = xprintf("line %u: partial \"%s\" nested more than "
		    "%d deep (a partial that includes itself?)", n->line, n->s,
		    TEMPLATE_MAX_PARTIAL_DEPTH);
		return -1;
	}
	if (template_partials_get(r->partials, n->s, n->indent, &pt,
	    &r->cause) == -1)
		return -1;
	if (pt == NULL)
		return 0;
	r->partial_depth++;
	rc = template_render_nodes(r, pt, 0, pt->n);
	r->partial_depth--;
	return rc;
}

static int
template_render_nodes(struct template_render *r, const struct template *t,
    size_t from, size_t to)
{
	const struct template_node	*n;
	const struct value		*v;
	size_t				 i, j, len;

	for (i = from; i < to; i++) {
		n = &t->nodes[i];
		if (template_step(r) == -1)
			return -1;
		switch (n->type) {
		case TEMPLATE_TEXT:
			if (template_emit(r, n->s, n->len) == -1)
				return -1;
			break;
		case TEMPLATE_VAR:
		case TEMPLATE_RAW:
			v = template_lookup(r, n);
			if (template_render_value(r, v,
			    n->type == TEMPLATE_VAR && r->escape) == -1)
				return -1;
			break;
		case TEMPLATE_SECTION:
			v = template_lookup(r, n);
			if (value_get_type(v) == VALUE_LIST) {
				len = value_list_len(v);
				for (j = 0; j < len; j++) {
					if (template_step(r) == -1)
						return -1;
					template_push(r, value_list_get(v, j));
					if (template_render_nodes(r, t, i + 1,
					    n->end) == -1)
						return -1;
					r->nstack--;
				}
			} else if (template_truthy(v)) {
				template_push(r, v);
				if (template_render_nodes(r, t, i + 1,
				    n->end) == -1)
					return -1;
				r->nstack--;
			}
			i = n->end - 1;
			break;
		case TEMPLATE_INVERTED:
			v = template_lookup(r, n);
			if (!template_truthy(v) && template_render_nodes(r, t,
			    i + 1, n->end) == -1)
				return -1;
			i = n->end - 1;
			break;
		case TEMPLATE_PARTIAL:
			if (template_render_partial(r, n) == -1)
				return -1;
			break;
		}
	}
	return 0;
}

static int
template_render_common(const struct template *t, const struct value *data,
    struct template_partials *tp, struct buf *out, int escape, char **cause)
{
	struct template_render	r;
	int			rc;

	memset(&r, 0, sizeof r);
	r.partials = tp;
	r.out = out;
	r.escape = escape;
	r.nocase = t->nocase;
	r.maxout = out->max != 0 ? out->max : TEMPLATE_MAX_OUTPUT;
	template_push(&r, data);
	rc = template_render_nodes(&r, t, 0, t->n);
	if (r.stack != r.stack0)
		free(r.stack);
	if (rc == -1) {
		*cause = r.cause != NULL ? r.cause :
		    xstrdup("template rendering failed");
		return -1;
	}
	return 0;
}

int
template_render(const struct template *t, const struct value *data,
    struct template_partials *tp, struct buf *out, char **cause)
{
	return template_render_common(t, data, tp, out, 1, cause);
}

int
template_render_text(const struct template *t, const struct value *data,
    struct template_partials *tp, struct buf *out, char **cause)
{
	return template_render_common(t, data, tp, out, 0, cause);
}
