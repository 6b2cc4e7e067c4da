/*
 * route-lang.c - the language of the routing rules: conditions ("PART OP
 * VALUE" tests under all/any/not, region, automatic) and weighted
 * keywords, read from a rule's strings into the compiled form route.c
 * evaluates, and the checks conf-table.c runs on rule values as the
 * configuration loads.
 *
 * Owns: the syntax (see route.h), its limits (nesting, weights, scores)
 * and its error messages.  Does not own: evaluating a condition or a
 * keyword against a message (route.c), the operators (match-*.c), the
 * Midlands places (region.c).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "region.h"
#include "route.h"
#include "route-int.h"
#include "xmalloc.h"

#define ROUTE_DEPTH_MAX		32	/* nesting of all/any/not */
#define ROUTE_WEIGHT_MAX	1000
#define ROUTE_SCORE_MAX		1000000

/* --- the condition language -------------------------------------------- */

static const struct {
	const char	*name;
	enum route_part	 part;
} route_parts[] = {
	{ "from", PART_FROM },
	{ "from_name", PART_FROM_NAME },
	{ "reply_to", PART_REPLY_TO },
	{ "to", PART_TO },
	{ "plus", PART_PLUS },
	{ "subject", PART_SUBJECT },
	{ "body", PART_BODY },
	{ "text", PART_TEXT },
	{ "header", PART_HEADER },
	{ "attachment", PART_ATTACHMENT },
	{ "attachment_type", PART_ATTACHMENT_TYPE },
};
#define ROUTE_NPARTS	(sizeof route_parts / sizeof route_parts[0])

static const struct {
	const char		*name;
	const struct match_ops	*ops;
} route_ops[] = {
	{ "contains", &match_contains_ops },
	{ "word", &match_word_ops },
	{ "phrase", &match_word_ops },
	{ "regex", &match_regex_ops },
	{ "domain", &match_domain_ops },
	{ "is", &match_is_ops },
	{ "exists", &match_exists_ops },
};
#define ROUTE_NOPS	(sizeof route_ops / sizeof route_ops[0])

enum route_tok {
	TOK_END,
	TOK_WORD,
	TOK_STRING,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_COMMA,
	TOK_EQ,
	TOK_ERROR,
};

struct route_lex {
	const char	*p;
	enum route_tok	 type;
	char		*val;		/* WORD, STRING; the error for ERROR */
};

static void
route_lex_next(struct route_lex *lx)
{
	struct buf	 b;
	const char	*start;
	char		 q;

	free(lx->val);
	lx->val = NULL;
	while (route_space(*lx->p))
		lx->p++;
	switch (*lx->p) {
	case '\0':
		lx->type = TOK_END;
		return;
	case '(':
		lx->type = TOK_LPAREN;
		lx->p++;
		return;
	case ')':
		lx->type = TOK_RPAREN;
		lx->p++;
		return;
	case ',':
		lx->type = TOK_COMMA;
		lx->p++;
		return;
	case '=':
		lx->type = TOK_EQ;
		lx->p++;
		return;
	case '\'':
	case '"':
		q = *lx->p++;
		buf_init(&b, BUF_NOMAX);
		buf_addstr(&b, "");
		while (*lx->p != q) {
			if (*lx->p == '\0') {
				buf_free(&b);
				lx->type = TOK_ERROR;
				lx->val = xprintf("no closing %c", q);
				return;
			}
			if (*lx->p == '\\' && (lx->p[1] == q ||
			    lx->p[1] == '\\'))
				lx->p++;
			buf_addc(&b, *lx->p++);
		}
		lx->p++;
		lx->type = TOK_STRING;
		lx->val = buf_detach(&b, NULL);
		return;
	}
	start = lx->p;
	while (*lx->p != '\0' && !route_space(*lx->p) &&
	    strchr("(),='\"", *lx->p) == NULL)
		lx->p++;
	lx->type = TOK_WORD;
	lx->val = xstrndup(start, (size_t)(lx->p - start));
}

static const char *
route_lex_what(const struct route_lex *lx)
{
	switch (lx->type) {
	case TOK_END:
		return "the end";
	case TOK_LPAREN:
		return "(";
	case TOK_RPAREN:
		return ")";
	case TOK_COMMA:
		return ",";
	case TOK_EQ:
		return "=";
	default:
		return lx->val != NULL ? lx->val : "?";
	}
}

void
route_cond_free(struct route_cond *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nkids; i++)
		route_cond_free(c->kids[i]);
	free(c->kids);
	if (c->ops != NULL)
		c->ops->free(c->data);
	free(c->header);
	free(c->text);
	free(c);
}

/* 'value' with ' and \ escaped, for canonical condition text. */
static char *
route_quote(const char *s)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	buf_addc(&b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			buf_addc(&b, '\\');
		buf_addc(&b, *s);
	}
	buf_addc(&b, '\'');
	return buf_detach(&b, NULL);
}

static int
route_header_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return 0;
	}
	return 1;
}

static char *
route_choices(int parts)
{
	struct buf	b;
	size_t		i, n = parts ? ROUTE_NPARTS : ROUTE_NOPS;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addstr(&b, i + 1 == n ? " or " : ", ");
		buf_addstr(&b, parts ? route_parts[i].name : route_ops[i].name);
	}
	return buf_detach(&b, NULL);
}

static struct route_cond *route_parse(struct route_lex *, int, char **);

/* all( C, C, ... ) and any( ... ); lx is on the word. */
static struct route_cond *
route_parse_list(struct route_lex *lx, enum route_cond_type type, int depth,
    char **cause)
{
	struct route_cond	*c, *kid;
	struct buf		 b;
	const char		*name = type == COND_ALL ? "all" : "any";
	size_t			 i;

	route_lex_next(lx);
	if (lx->type != TOK_LPAREN) {
		*cause = xprintf("%s needs its conditions in ( ), got %s",
		    name, route_lex_what(lx));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->type = type;
	route_lex_next(lx);
	for (;;) {
		if ((kid = route_parse(lx, depth + 1, cause)) == NULL) {
			route_cond_free(c);
			return NULL;
		}
		c->kids = xreallocarray(c->kids, c->nkids + 1,
		    sizeof *c->kids);
		c->kids[c->nkids++] = kid;
		if (lx->type == TOK_COMMA) {
			route_lex_next(lx);
			continue;
		}
		if (lx->type == TOK_RPAREN)
			break;
		*cause = xprintf("expected , or ) in %s( ), got %s", name,
		    route_lex_what(lx));
		route_cond_free(c);
		return NULL;
	}
	route_lex_next(lx);
	buf_init(&b, BUF_NOMAX);
	buf_printf(&b, "%s(", name);
	for (i = 0; i < c->nkids; i++)
		buf_printf(&b, "%s%s", i > 0 ? ", " : "", c->kids[i]->text);
	buf_addc(&b, ')');
	c->text = buf_detach(&b, NULL);
	return c;
}

/* PART [NAME] OP [VALUE]; lx is on the part. */
static struct route_cond *
route_parse_test(struct route_lex *lx, char **cause)
{
	struct route_cond	*c;
	const char		*opname;
	char			*choices, *q, *err;
	size_t			 i;

	for (i = 0; i < ROUTE_NPARTS; i++) {
		if (strcasecmp(lx->val, route_parts[i].name) == 0)
			break;
	}
	if (i == ROUTE_NPARTS) {
		choices = route_choices(1);
		*cause = xprintf("unknown part \"%s\" (expected %s; or all, "
		    "any, not, region or automatic)", lx->val, choices);
		free(choices);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->type = COND_TEST;
	c->part = route_parts[i].part;
	route_lex_next(lx);
	if (c->part == PART_HEADER) {
		if ((lx->type != TOK_WORD && lx->type != TOK_STRING) ||
		    !route_header_name_ok(lx->val)) {
			*cause = xprintf("header needs a field name (header "
			    "List-Id exists), got %s", route_lex_what(lx));
			goto fail;
		}
		c->header = xstrdup(lx->val);
		route_lex_next(lx);
		if (lx->type == TOK_END) {
			*cause = xprintf("header needs a field name and an "
			    "operator (header List-Id exists), got "
			    "\"header %s\"", c->header);
			goto fail;
		}
	}
	if (lx->type == TOK_EQ)
		c->ops = &match_is_ops;
	else if (lx->type == TOK_WORD) {
		for (i = 0; i < ROUTE_NOPS; i++) {
			if (strcasecmp(lx->val, route_ops[i].name) == 0) {
				c->ops = route_ops[i].ops;
				break;
			}
		}
	}
	if (c->ops == NULL) {
		choices = route_choices(0);
		if (lx->type == TOK_END)
			*cause = xprintf("%s needs an operator (%s)",
			    route_parts[c->part].name, choices);
		else
			*cause = xprintf("unknown operator \"%s\" (expected "
			    "%s)", route_lex_what(lx), choices);
		free(choices);
		goto fail;
	}
	opname = lx->type == TOK_EQ ? "is" : route_ops[i].name;
	route_lex_next(lx);
	if (!c->ops->takes_value) {
		c->text = c->header != NULL ?
		    xprintf("header %s %s", c->header, opname) :
		    xprintf("%s %s", route_parts[c->part].name, opname);
		if (c->ops->compile("", &c->data, cause) == -1)
			goto fail;
		return c;
	}
	if (lx->type != TOK_WORD && lx->type != TOK_STRING) {
		*cause = xprintf("%s needs a value, got %s", opname,
		    route_lex_what(lx));
		goto fail;
	}
	if (c->ops->compile(lx->val, &c->data, &err) == -1) {
		*cause = err;
		c->ops = NULL;
		goto fail;
	}
	q = route_quote(lx->val);
	c->text = c->header != NULL ?
	    xprintf("header %s %s %s", c->header, opname, q) :
	    xprintf("%s %s %s", route_parts[c->part].name, opname, q);
	free(q);
	route_lex_next(lx);
	return c;

fail:
	if (c->ops != NULL && c->data == NULL)
		c->ops = NULL;
	route_cond_free(c);
	return NULL;
}

static struct route_cond *
route_parse(struct route_lex *lx, int depth, char **cause)
{
	struct route_cond	*c, *kid;

	if (depth > ROUTE_DEPTH_MAX) {
		*cause = xprintf("nested more than %d deep", ROUTE_DEPTH_MAX);
		return NULL;
	}
	if (lx->type == TOK_ERROR) {
		*cause = xstrdup(lx->val);
		return NULL;
	}
	if (lx->type == TOK_LPAREN) {
		route_lex_next(lx);
		if ((c = route_parse(lx, depth + 1, cause)) == NULL)
			return NULL;
		if (lx->type != TOK_RPAREN) {
			*cause = xprintf("expected ), got %s",
			    route_lex_what(lx));
			route_cond_free(c);
			return NULL;
		}
		route_lex_next(lx);
		return c;
	}
	if (lx->type != TOK_WORD) {
		*cause = xprintf("expected a condition, got %s",
		    route_lex_what(lx));
		return NULL;
	}
	if (strcasecmp(lx->val, "all") == 0)
		return route_parse_list(lx, COND_ALL, depth, cause);
	if (strcasecmp(lx->val, "any") == 0)
		return route_parse_list(lx, COND_ANY, depth, cause);
	if (strcasecmp(lx->val, "not") == 0) {
		route_lex_next(lx);
		if ((kid = route_parse(lx, depth + 1, cause)) == NULL)
			return NULL;
		c = xcalloc(1, sizeof *c);
		c->type = COND_NOT;
		c->kids = xmalloc(sizeof *c->kids);
		c->kids[0] = kid;
		c->nkids = 1;
		c->text = xprintf("not %s", kid->text);
		return c;
	}
	if (strcasecmp(lx->val, "region") == 0) {
		route_lex_next(lx);
		if (lx->type == TOK_EQ || (lx->type == TOK_WORD &&
		    strcasecmp(lx->val, "is") == 0))
			route_lex_next(lx);
		c = xcalloc(1, sizeof *c);
		c->type = COND_REGION;
		if ((lx->type != TOK_WORD && lx->type != TOK_STRING) ||
		    region_from_name(lx->val, &c->region) == -1) {
			*cause = xprintf("region must be west or east, got %s",
			    route_lex_what(lx));
			free(c);
			return NULL;
		}
		c->text = xprintf("region %s", region_name(c->region));
		route_lex_next(lx);
		return c;
	}
	if (strcasecmp(lx->val, "automatic") == 0) {
		route_lex_next(lx);
		c = xcalloc(1, sizeof *c);
		c->type = COND_AUTOMATIC;
		c->text = xstrdup("automatic");
		return c;
	}
	return route_parse_test(lx, cause);
}

/* One whole condition string. */
struct route_cond *
route_cond_parse(const char *s, char **cause)
{
	struct route_lex	 lx;
	struct route_cond	*c;
	char			*err = NULL;

	memset(&lx, 0, sizeof lx);
	lx.p = s;
	route_lex_next(&lx);
	if ((c = route_parse(&lx, 0, &err)) != NULL && lx.type != TOK_END) {
		err = xprintf("unexpected %s after the condition",
		    route_lex_what(&lx));
		route_cond_free(c);
		c = NULL;
	}
	free(lx.val);
	if (c == NULL) {
		*cause = xprintf("condition \"%s\": %s", s, err);
		free(err);
	}
	return c;
}

/* --- keywords ------------------------------------------------------------ */

/* "analyst network: 4", "huddle*", "prescription: -5" */
int
route_keyword_parse(const char *s, struct route_keyword *kw, char **cause)
{
	const char	*colon, *p;
	char		*phrase, *end, *err;
	long		 w = 1;

	memset(kw, 0, sizeof *kw);
	phrase = NULL;
	if ((colon = strrchr(s, ':')) != NULL) {
		p = colon + 1;
		while (route_space(*p))
			p++;
		w = strtol(p, &end, 10);
		if (end != p && (*p == '-' || *p == '+' ||
		    (*p >= '0' && *p <= '9'))) {
			while (route_space(*end))
				end++;
			if (*end == '\0')
				phrase = xstrndup(s, (size_t)(colon - s));
		}
		if (phrase == NULL) {
			*cause = xprintf("keyword \"%s\": the weight after "
			    "':' must be a whole number", s);
			return -1;
		}
	} else
		phrase = xstrdup(s);
	if (w == 0 || w > ROUTE_WEIGHT_MAX || w < -ROUTE_WEIGHT_MAX) {
		*cause = xprintf("keyword \"%s\": weight must be from %d to "
		    "%d and not 0", s, -ROUTE_WEIGHT_MAX, ROUTE_WEIGHT_MAX);
		free(phrase);
		return -1;
	}
	if (route_phrase_init(&kw->ph, phrase, &err) == -1) {
		*cause = xprintf("keyword \"%s\": %s", s, err);
		free(err);
		free(phrase);
		return -1;
	}
	kw->name = kw->ph.prefix ? xprintf("%s*", kw->ph.src) :
	    xstrdup(kw->ph.src);
	kw->weight = (int)w;
	free(phrase);
	return 0;
}

void
route_keyword_free(struct route_keyword *kw)
{
	route_phrase_free(&kw->ph);
	free(kw->name);
}

/* --- checks for conf-table.c --------------------------------------------- */

/* Each string of a "string or list of strings" node. */
size_t
route_node_count(const struct conf_node *n)
{
	return n->type == CONF_NODE_STRING ? 1 : n->nchildren;
}

const char *
route_node_str(const struct conf_node *n, size_t i)
{
	if (n->type == CONF_NODE_STRING)
		return n->str;
	return n->children[i].type == CONF_NODE_STRING ?
	    n->children[i].str : "";
}

/* Every problem of a list in one cause: "...; ...". */
static void
route_check_add(struct buf *b, char *err)
{
	if (b->len > 0)
		buf_addstr(b, "; ");
	buf_addstr(b, err);
	free(err);
}

static int
route_check_done(struct buf *b, char **cause)
{
	if (b->len == 0) {
		buf_free(b);
		return 0;
	}
	*cause = buf_detach(b, NULL);
	return -1;
}

int
route_check_conditions(const struct conf_node *n, char **cause)
{
	struct route_cond	*c;
	struct buf		 b;
	char			*err;
	size_t			 i;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < route_node_count(n); i++) {
		if ((c = route_cond_parse(route_node_str(n, i), &err)) == NULL)
			route_check_add(&b, err);
		route_cond_free(c);
	}
	return route_check_done(&b, cause);
}

int
route_check_keywords(const struct conf_node *n, char **cause)
{
	struct route_keyword	kw;
	struct buf		b;
	char			*err;
	size_t			i;

	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < route_node_count(n); i++) {
		if (route_keyword_parse(route_node_str(n, i), &kw, &err) == -1)
			route_check_add(&b, err);
		else
			route_keyword_free(&kw);
	}
	return route_check_done(&b, cause);
}

int
route_check_region(const struct conf_node *n, char **cause)
{
	enum region	r;

	if (n->type != CONF_NODE_STRING || region_from_name(n->str, &r) == -1) {
		*cause = xprintf("expected \"west\" or \"east\", got \"%s\"",
		    n->type == CONF_NODE_STRING ? n->str : "?");
		return -1;
	}
	return 0;
}

int
route_check_score(const struct conf_node *n, char **cause)
{
	if (n->num < -ROUTE_SCORE_MAX || n->num > ROUTE_SCORE_MAX) {
		*cause = xprintf("%lld is out of range (%d to %d)", n->num,
		    -ROUTE_SCORE_MAX, ROUTE_SCORE_MAX);
		return -1;
	}
	return 0;
}

int
route_check_threshold(const struct conf_node *n, char **cause)
{
	if (n->num < 1 || n->num > ROUTE_SCORE_MAX) {
		*cause = xprintf("%lld is out of range (1 to %d)", n->num,
		    ROUTE_SCORE_MAX);
		return -1;
	}
	return 0;
}
