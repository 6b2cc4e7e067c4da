/*
 * route.c - the routing rules: compile a configuration's rules once, then
 * decide for each message which lead gets it, and say why.
 *
 * Owns: compiled rules, the parts of a message the rules look at,
 * evaluating conditions and weighted keywords against them, the order of
 * decision (highest score, then the first plain rule, then the default
 * lead), the evidence and the one-sentence reason, references in subjects
 * and what counts as a bounce.  See route.h for the language itself.
 *
 * Does not own: reading the language (route-lang.c), the text model the
 * matchers and region.c share (route-text.c), the operators (match-*.c),
 * the Midlands places (region.c), whether an acknowledgement may go
 * (autoreply.c), reading the configuration file (conf.c), or acting on a
 * decision (enquiry.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "autoreply.h"
#include "buf.h"
#include "conf.h"
#include "message.h"
#include "region.h"
#include "route.h"
#include "route-int.h"
#include "utf8.h"
#include "xmalloc.h"

#define ROUTE_CONTEXT		40	/* bytes of context around evidence */
#define ROUTE_EXCERPT_MAX	160	/* bytes of the match itself shown */
#define ROUTE_REASON_ITEMS	5	/* evidence named in the reason */

/* --- compiled rules ------------------------------------------------------ */

struct route_conds {
	struct route_cond	**v;
	size_t			  n;
};

struct route_rule {
	const struct conf_rule	*cr;
	struct route_conds	 all, any, not;
	int			 has_region;
	enum region		 region;
	struct route_keyword	*kw;
	size_t			 nkw;
	int			 scoring;
	long long		 score;
	long long		 threshold;
};

struct router {
	const struct conf	*conf;
	struct route_rule	*rules;
	size_t			 nrules;
};

static int
route_conds_compile(const struct conf_rule *cr, const char *key,
    struct route_conds *out, char **cause)
{
	const struct conf_node	*n;
	struct route_cond	*c;
	size_t			 i;

	if ((n = conf_rule_get(cr, key)) == NULL)
		return 0;
	for (i = 0; i < route_node_count(n); i++) {
		if ((c = route_cond_parse(route_node_str(n, i), cause)) == NULL)
			return -1;
		out->v = xreallocarray(out->v, out->n + 1, sizeof *out->v);
		out->v[out->n++] = c;
	}
	return 0;
}

static void
route_conds_free(struct route_conds *cs)
{
	size_t	i;

	for (i = 0; i < cs->n; i++)
		route_cond_free(cs->v[i]);
	free(cs->v);
}

static void
route_rule_free(struct route_rule *r)
{
	size_t	i;

	route_conds_free(&r->all);
	route_conds_free(&r->any);
	route_conds_free(&r->not);
	for (i = 0; i < r->nkw; i++)
		route_keyword_free(&r->kw[i]);
	free(r->kw);
}

static int
route_rule_compile(const struct conf_rule *cr, struct route_rule *r,
    char **cause)
{
	const struct conf_node	*n;
	size_t			 i;

	memset(r, 0, sizeof *r);
	r->cr = cr;
	r->threshold = 1;
	if (route_conds_compile(cr, "all", &r->all, cause) == -1 ||
	    route_conds_compile(cr, "any", &r->any, cause) == -1 ||
	    route_conds_compile(cr, "not", &r->not, cause) == -1)
		return -1;
	if ((n = conf_rule_get(cr, "region")) != NULL) {
		if (route_check_region(n, cause) == -1)
			return -1;
		region_from_name(n->str, &r->region);
		r->has_region = 1;
	}
	if ((n = conf_rule_get(cr, "keywords")) != NULL) {
		r->nkw = route_node_count(n);
		r->kw = xcalloc(r->nkw, sizeof *r->kw);
		for (i = 0; i < r->nkw; i++) {
			if (route_keyword_parse(route_node_str(n, i), &r->kw[i],
			    cause) == -1) {
				r->nkw = i;
				return -1;
			}
		}
		r->scoring = 1;
	}
	if ((n = conf_rule_get(cr, "score")) != NULL) {
		r->score = n->num;
		r->scoring = 1;
	}
	if ((n = conf_rule_get(cr, "threshold")) != NULL)
		r->threshold = n->num;
	return 0;
}

struct router *
router_new(const struct conf *conf, char **cause)
{
	struct router	*rt;
	char		*err;
	size_t		 i;

	rt = xcalloc(1, sizeof *rt);
	rt->conf = conf;
	rt->rules = xcalloc(conf->nrules > 0 ? conf->nrules : 1,
	    sizeof *rt->rules);
	for (i = 0; i < conf->nrules; i++) {
		if (route_rule_compile(&conf->rules[i], &rt->rules[i],
		    &err) == -1) {
			*cause = xprintf("rule \"%s\" (line %u): %s",
			    conf->rules[i].name, conf->rules[i].line, err);
			free(err);
			rt->nrules = i + 1;
			router_free(rt);
			return NULL;
		}
	}
	rt->nrules = conf->nrules;
	return rt;
}

void
router_free(struct router *rt)
{
	size_t	i;

	if (rt == NULL)
		return;
	for (i = 0; i < rt->nrules; i++)
		route_rule_free(&rt->rules[i]);
	free(rt->rules);
	free(rt);
}

/* --- one message, prepared ----------------------------------------------- */

struct route_texts {
	char			**s;	/* owned copies */
	struct route_text	 *t;
	size_t			  n;
};

struct route_msg {
	const struct message	*msg;
	struct route_text	 subject;
	struct route_text	 body;
	struct route_text	 from;
	struct route_text	 from_name;
	struct route_text	 reply_to;
	struct route_texts	 to;
	struct route_texts	 plus;
	struct route_texts	 att;
	struct route_texts	 att_type;
	char			*region_text;
	struct region_result	 region;
	int			 automatic;
	char			 autowhy[AUTOREPLY_WHY_MAX];
};

/* Evidence gathered for one rule. */
struct route_evlist {
	struct route_evidence	*v;
	size_t			 n;
};

static void
route_texts_add(struct route_texts *ts, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < ts->n; i++) {
		if (strlen(ts->s[i]) == len &&
		    strncasecmp(ts->s[i], s, len) == 0)
			return;
	}
	ts->s = xreallocarray(ts->s, ts->n + 1, sizeof *ts->s);
	ts->s[ts->n++] = xstrndup(s, len);
}

static void
route_texts_ready(struct route_texts *ts)
{
	size_t	i;

	ts->t = xcalloc(ts->n > 0 ? ts->n : 1, sizeof *ts->t);
	for (i = 0; i < ts->n; i++)
		route_text_init(&ts->t[i], ts->s[i], strlen(ts->s[i]));
}

static void
route_texts_free(struct route_texts *ts)
{
	size_t	i;

	for (i = 0; i < ts->n; i++) {
		if (ts->t != NULL)
			route_text_free(&ts->t[i]);
		free(ts->s[i]);
	}
	free(ts->t);
	free(ts->s);
}

static const char *const route_envelope_headers[] = {
	"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", NULL
};

/* Every recipient address: To, Cc and what the delivery agent recorded. */
static void
route_recipients(const struct message *msg, struct route_texts *ts)
{
	const char	*v, *end;
	size_t		 i, j;

	for (i = 0; i < msg->nto; i++) {
		if (msg->to[i].addr != NULL && *msg->to[i].addr != '\0')
			route_texts_add(ts, msg->to[i].addr,
			    strlen(msg->to[i].addr));
	}
	for (i = 0; i < msg->nheaders; i++) {
		for (j = 0; route_envelope_headers[j] != NULL; j++) {
			if (strcasecmp(msg->headers[i].name,
			    route_envelope_headers[j]) == 0)
				break;
		}
		if (route_envelope_headers[j] == NULL)
			continue;
		v = msg->headers[i].value;
		while (route_space(*v) || *v == '<')
			v++;
		end = v;
		while (*end != '\0' && !route_space(*end) && *end != '>' &&
		    *end != ',' && *end != ';')
			end++;
		if (memchr(v, '@', (size_t)(end - v)) != NULL)
			route_texts_add(ts, v, (size_t)(end - v));
	}
}

/* The +detail of each recipient: "evaluation" of enquiries+evaluation@x. */
static void
route_plus(const struct route_texts *to, struct route_texts *plus)
{
	const char	*a, *p, *at;
	size_t		 i;

	for (i = 0; i < to->n; i++) {
		a = to->s[i];
		if ((at = strrchr(a, '@')) == NULL)
			continue;
		if ((p = memchr(a, '+', (size_t)(at - a))) == NULL)
			continue;
		if (at - p > 1)
			route_texts_add(plus, p + 1, (size_t)(at - p - 1));
	}
}

static size_t
route_cap(const char *s)
{
	size_t	len = strlen(s);

	if (len > ROUTE_TEXT_MAX)
		len = utf8_truncate(s, len, ROUTE_TEXT_MAX);
	return len;
}

static const char *
route_str(const char *s)
{
	return s != NULL ? s : "";
}

static void
route_msg_init(struct route_msg *m, const struct message *msg)
{
	const char	*subject = route_str(msg->subject);
	const char	*body = route_str(msg->body_text);
	size_t		 i, slen, blen;

	memset(m, 0, sizeof *m);
	m->msg = msg;
	slen = route_cap(subject);
	blen = route_cap(body);
	route_text_init(&m->subject, subject, slen);
	route_text_init(&m->body, body, blen);
	route_text_init(&m->from, route_str(msg->from.addr),
	    strlen(route_str(msg->from.addr)));
	route_text_init(&m->from_name, route_str(msg->from.name),
	    strlen(route_str(msg->from.name)));
	route_text_init(&m->reply_to, route_str(msg->reply_to.addr),
	    strlen(route_str(msg->reply_to.addr)));
	route_recipients(msg, &m->to);
	route_plus(&m->to, &m->plus);
	route_texts_ready(&m->to);
	route_texts_ready(&m->plus);
	for (i = 0; i < msg->nattachments; i++) {
		if (*route_str(msg->attachments[i].filename) != '\0') {
			route_texts_add(&m->att, msg->attachments[i].filename,
			    strlen(msg->attachments[i].filename));
		}
		if (*route_str(msg->attachments[i].type) != '\0') {
			route_texts_add(&m->att_type, msg->attachments[i].type,
			    strlen(msg->attachments[i].type));
		}
	}
	route_texts_ready(&m->att);
	route_texts_ready(&m->att_type);

	m->region_text = xprintf("%.*s\n%.*s", (int)slen, subject, (int)blen,
	    body);
	region_detect(m->region_text, strlen(m->region_text), &m->region);
	m->automatic = autoreply_is_automatic(msg, m->autowhy,
	    sizeof m->autowhy);
}

static void
route_msg_free(struct route_msg *m)
{
	route_text_free(&m->subject);
	route_text_free(&m->body);
	route_text_free(&m->from);
	route_text_free(&m->from_name);
	route_text_free(&m->reply_to);
	route_texts_free(&m->to);
	route_texts_free(&m->plus);
	route_texts_free(&m->att);
	route_texts_free(&m->att_type);
	region_result_free(&m->region);
	free(m->region_text);
}

/* --- evidence ------------------------------------------------------------ */

/*
 * The match in s with a little context, on one line, valid UTF-8:
 * "...would like to join the Midlands Analyst Network and present...".
 */
static char *
route_excerpt(const char *s, size_t len, size_t off, size_t mlen)
{
	struct buf	 b, out;
	size_t		 a, e, i;
	int		 space = 0, started = 0;

	if (mlen > ROUTE_EXCERPT_MAX)
		mlen = utf8_truncate(s + off, mlen, ROUTE_EXCERPT_MAX);
	a = off > ROUTE_CONTEXT ? off - ROUTE_CONTEXT : 0;
	if (a > 0) {
		for (i = a; i < off; i++) {
			if (route_space(s[i])) {
				a = i + 1;
				break;
			}
		}
		while (a < off && ((unsigned char)s[a] & 0xc0) == 0x80)
			a++;
	}
	e = off + mlen + ROUTE_CONTEXT;
	if (e >= len)
		e = len;
	else {
		e = off + mlen + utf8_truncate(s + off + mlen,
		    len - off - mlen, ROUTE_CONTEXT);
		for (i = e; i > off + mlen; i--) {
			if (route_space(s[i - 1])) {
				e = i - 1;
				break;
			}
		}
	}

	buf_init(&b, BUF_NOMAX);
	if (a > 0)
		buf_addstr(&b, "...");
	for (i = a; i < e; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			space = started;
			continue;
		}
		if (space)
			buf_addc(&b, ' ');
		space = 0;
		started = 1;
		buf_addc(&b, s[i]);
	}
	if (e < len)
		buf_addstr(&b, "...");
	buf_init(&out, BUF_NOMAX);
	utf8_sanitize(&out, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	if (out.data == NULL)
		buf_addstr(&out, "");
	return buf_detach(&out, NULL);
}

static void
route_ev_add(struct route_evlist *ev, const char *part, const char *what,
    char *excerpt, double points)
{
	struct route_evidence	*e;

	ev->v = xreallocarray(ev->v, ev->n + 1, sizeof *ev->v);
	e = &ev->v[ev->n++];
	e->part = xstrdup(part);
	e->what = xstrdup(what);
	e->excerpt = excerpt != NULL ? excerpt : xstrdup("");
	e->points = points;
}

static void
route_ev_truncate(struct route_evlist *ev, size_t n)
{
	while (ev->n > n) {
		ev->n--;
		free(ev->v[ev->n].part);
		free(ev->v[ev->n].what);
		free(ev->v[ev->n].excerpt);
	}
}

static void
route_ev_free(struct route_evlist *ev)
{
	route_ev_truncate(ev, 0);
	free(ev->v);
	ev->v = NULL;
}

/* The region's evidence: the mention that decided it. */
static void
route_ev_region(struct route_evlist *ev, const struct route_msg *m,
    const char *what)
{
	const struct region_hit	*h = region_best_hit(&m->region);
	char			*w;

	w = xprintf("region %s (%s)", region_name(m->region.region),
	    h != NULL ? h->why : "?");
	route_ev_add(ev, "region", what != NULL ? what : w,
	    xstrdup(h != NULL ? h->text : ""), 0);
	free(w);
}

/* --- evaluating conditions ----------------------------------------------- */

static int
route_test_one(const struct route_cond *c, const struct route_text *t,
    const char *label, int header, struct route_evlist *ev, char **cause)
{
	size_t	off = 0, len = 0;
	int	r;

	if (t->len == 0 && !header)
		return 0;
	r = c->ops->match(c->data, t, &off, &len, cause);
	if (r == 1 && ev != NULL)
		route_ev_add(ev, label, c->text,
		    route_excerpt(t->s, t->len, off, len), 0);
	return r;
}

static int
route_test_many(const struct route_cond *c, const struct route_texts *ts,
    const char *label, struct route_evlist *ev, char **cause)
{
	size_t	i;
	int	r;

	for (i = 0; i < ts->n; i++) {
		if ((r = route_test_one(c, &ts->t[i], label, 0, ev,
		    cause)) != 0)
			return r;
	}
	return 0;
}

static int
route_test(struct route_msg *m, const struct route_cond *c,
    struct route_evlist *ev, char **cause)
{
	const struct message	*msg = m->msg;
	struct route_text	 t;
	char			*label;
	size_t			 i;
	int			 r;

	switch (c->part) {
	case PART_FROM:
		return route_test_one(c, &m->from, "from", 0, ev, cause);
	case PART_FROM_NAME:
		return route_test_one(c, &m->from_name, "from_name", 0, ev,
		    cause);
	case PART_REPLY_TO:
		return route_test_one(c, &m->reply_to, "reply_to", 0, ev,
		    cause);
	case PART_TO:
		return route_test_many(c, &m->to, "to", ev, cause);
	case PART_PLUS:
		return route_test_many(c, &m->plus, "plus", ev, cause);
	case PART_SUBJECT:
		return route_test_one(c, &m->subject, "subject", 0, ev, cause);
	case PART_BODY:
		return route_test_one(c, &m->body, "body", 0, ev, cause);
	case PART_TEXT:
		r = route_test_one(c, &m->subject, "subject", 0, ev, cause);
		if (r != 0)
			return r;
		return route_test_one(c, &m->body, "body", 0, ev, cause);
	case PART_ATTACHMENT:
		return route_test_many(c, &m->att, "attachment", ev, cause);
	case PART_ATTACHMENT_TYPE:
		return route_test_many(c, &m->att_type, "attachment_type", ev,
		    cause);
	case PART_HEADER:
		label = xprintf("header %s", c->header);
		r = 0;
		for (i = 0; i < msg->nheaders && r == 0; i++) {
			if (strcasecmp(msg->headers[i].name, c->header) != 0)
				continue;
			route_text_init(&t, route_str(msg->headers[i].value),
			    strlen(route_str(msg->headers[i].value)));
			r = route_test_one(c, &t, label, 1, ev, cause);
			route_text_free(&t);
		}
		free(label);
		return r;
	}
	return 0;
}

static int
route_eval(struct route_msg *m, const struct route_cond *c,
    struct route_evlist *ev, char **cause)
{
	size_t	i, mark = ev != NULL ? ev->n : 0;
	int	r;

	switch (c->type) {
	case COND_ALL:
		for (i = 0; i < c->nkids; i++) {
			if ((r = route_eval(m, c->kids[i], ev, cause)) != 1) {
				if (ev != NULL)
					route_ev_truncate(ev, mark);
				return r;
			}
		}
		return 1;
	case COND_ANY:
		for (i = 0; i < c->nkids; i++) {
			if ((r = route_eval(m, c->kids[i], ev, cause)) != 0)
				return r;
		}
		return 0;
	case COND_NOT:
		if ((r = route_eval(m, c->kids[0], NULL, cause)) != 0)
			return r == 1 ? 0 : -1;
		if (ev != NULL)
			route_ev_add(ev, "message", c->text, NULL, 0);
		return 1;
	case COND_REGION:
		if (m->region.region != c->region)
			return 0;
		if (ev != NULL)
			route_ev_region(ev, m, c->text);
		return 1;
	case COND_AUTOMATIC:
		if (!m->automatic)
			return 0;
		if (ev != NULL)
			route_ev_add(ev, "message", c->text,
			    xstrdup(m->autowhy), 0);
		return 1;
	case COND_TEST:
		return route_test(m, c, ev, cause);
	}
	return 0;
}

/* --- evaluating rules ---------------------------------------------------- */

struct route_result {
	int			 conditions;
	int			 matched;
	long long		 score;
	char			*why;
	struct route_evlist	 ev;
};

static int
route_keywords(struct route_msg *m, const struct route_rule *r,
    struct route_result *res)
{
	const struct route_keyword	*kw;
	const struct route_text		*t = NULL;
	const char			*part = NULL;
	size_t				 i, j, at, off, len;
	long long			 pts;

	for (i = 0; i < r->nkw; i++) {
		kw = &r->kw[i];
		pts = kw->weight;
		if (route_phrase_find(&kw->ph, &m->subject, 0, &at, &off,
		    &len)) {
			t = &m->subject;
			part = "subject";
			pts *= 2;
		} else if (route_phrase_find(&kw->ph, &m->body, 0, &at, &off,
		    &len)) {
			t = &m->body;
			part = "body";
		} else {
			for (j = 0; j < m->att.n; j++) {
				if (route_phrase_find(&kw->ph, &m->att.t[j], 0,
				    &at, &off, &len))
					break;
			}
			if (j == m->att.n)
				continue;
			t = &m->att.t[j];
			part = "attachment";
		}
		res->score += pts;
		route_ev_add(&res->ev, part, kw->name,
		    route_excerpt(t->s, t->len, off, len), (double)pts);
	}
	return 0;
}

static int
route_rule_eval(struct route_msg *m, const struct route_rule *r,
    struct route_result *res, char **cause)
{
	size_t	i;
	int	x;

	memset(res, 0, sizeof *res);
	res->conditions = 1;
	for (i = 0; i < r->all.n && res->conditions; i++) {
		if ((x = route_eval(m, r->all.v[i], &res->ev, cause)) == -1)
			return -1;
		if (x == 0) {
			res->conditions = 0;
			res->why = xprintf("%s does not hold",
			    r->all.v[i]->text);
		}
	}
	if (res->conditions && r->any.n > 0) {
		for (i = 0; i < r->any.n; i++) {
			if ((x = route_eval(m, r->any.v[i], &res->ev,
			    cause)) == -1)
				return -1;
			if (x == 1)
				break;
		}
		if (i == r->any.n) {
			res->conditions = 0;
			res->why = xstrdup(r->any.n == 1 ?
			    "its any condition does not hold" :
			    "none of its any conditions holds");
		}
	}
	for (i = 0; i < r->not.n && res->conditions; i++) {
		if ((x = route_eval(m, r->not.v[i], NULL, cause)) == -1)
			return -1;
		if (x == 1) {
			res->conditions = 0;
			res->why = xprintf("not %s: it holds",
			    r->not.v[i]->text);
		}
	}
	if (res->conditions && r->has_region) {
		if (m->region.region != r->region) {
			res->conditions = 0;
			res->why = xprintf("region is %s, not %s",
			    region_name(m->region.region),
			    region_name(r->region));
		} else
			route_ev_region(&res->ev, m, NULL);
	}
	if (!res->conditions)
		route_ev_truncate(&res->ev, 0);
	if (r->scoring) {
		/* Keywords are counted even when the conditions fail, so
		 * that --explain can show a near miss; score only counts
		 * when they hold. */
		res->score = res->conditions ? r->score : 0;
		route_keywords(m, r, res);
	}
	res->matched = res->conditions &&
	    (!r->scoring || res->score >= r->threshold);
	if (res->conditions && !res->matched)
		res->why = xprintf("score %lld is below its threshold %lld",
		    res->score, r->threshold);
	if (res->why == NULL)
		res->why = xstrdup("");
	return 0;
}

/* --- the decision -------------------------------------------------------- */

/* A plain-text list of the evidence, for the reason. */
static void
route_reason_items(struct buf *b, const struct route_evlist *ev)
{
	const struct route_evidence	*e;
	size_t				 i, shown = 0;

	for (i = 0; i < ev->n; i++) {
		e = &ev->v[i];
		if (shown == ROUTE_REASON_ITEMS) {
			buf_printf(b, " and %zu more", ev->n - i);
			break;
		}
		if (shown > 0)
			buf_addstr(b, "; ");
		if (e->points != 0)
			buf_printf(b, "\"%s\" in the %s (%+g)", e->what,
			    strcmp(e->part, "attachment") == 0 ?
			    "attachment name" : e->part, e->points);
		else if (strcmp(e->part, "region") == 0)
			buf_printf(b, "%s from \"%s\"", e->what, e->excerpt);
		else if (strcmp(e->what, "automatic") == 0)
			buf_printf(b, "sent automatically (%s)", e->excerpt);
		else
			buf_addstr(b, e->what);
		shown++;
	}
}

static char *
route_reason(const struct route_decision *d, const struct route_rule *win,
    const struct route_evlist *ev, const struct route_candidate *near)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	switch (d->how) {
	case ROUTE_SCORE:
		buf_printf(&b, "Rule %s scored %g (needs %lld): ",
		    win->cr->name, d->score, win->threshold);
		route_reason_items(&b, ev);
		break;
	case ROUTE_FIRST:
		buf_printf(&b, "Rule %s matched", win->cr->name);
		if (ev->n > 0) {
			buf_addstr(&b, ": ");
			route_reason_items(&b, ev);
		}
		break;
	case ROUTE_DEFAULT:
		buf_addstr(&b, "No rule matched, so it goes to the default "
		    "lead");
		if (near != NULL)
			buf_printf(&b, " (nearest: rule %s, score %g of %g)",
			    near->rule, near->score, near->threshold);
		break;
	}
	buf_addc(&b, '.');
	return buf_detach(&b, NULL);
}

static int
route_candidate_cmp(const void *a0, const void *b0)
{
	const struct route_candidate	*a = a0, *b = b0;

	if (a->matched != b->matched)
		return b->matched - a->matched;
	if (a->scoring != b->scoring)
		return b->scoring - a->scoring;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return a->line < b->line ? -1 : (a->line > b->line);
}

int
router_decide(struct router *rt, const struct message *msg,
    struct route_decision *d, char **cause)
{
	const struct conf		*conf = rt->conf;
	struct route_msg		 m;
	struct route_result		*res;
	struct route_candidate		*cand, *near = NULL;
	const struct route_rule		*win = NULL;
	char				*err;
	size_t				 i, w = 0;

	memset(d, 0, sizeof *d);
	route_msg_init(&m, msg);
	res = xcalloc(rt->nrules > 0 ? rt->nrules : 1, sizeof *res);
	for (i = 0; i < rt->nrules; i++) {
		if (route_rule_eval(&m, &rt->rules[i], &res[i], &err) == -1) {
			*cause = xprintf("rule %s: %s",
			    rt->rules[i].cr->name, err);
			free(err);
			goto fail;
		}
	}

	/* 1. the best scoring rule; 2. the first plain one; 3. default. */
	d->how = ROUTE_DEFAULT;
	for (i = 0; i < rt->nrules; i++) {
		if (!rt->rules[i].scoring || !res[i].matched)
			continue;
		if (win == NULL || res[i].score > res[w].score) {
			win = &rt->rules[i];
			w = i;
			d->how = ROUTE_SCORE;
		}
	}
	for (i = 0; i < rt->nrules && win == NULL; i++) {
		if (!rt->rules[i].scoring && res[i].matched) {
			win = &rt->rules[i];
			w = i;
			d->how = ROUTE_FIRST;
		}
	}

	/* The winner first, then everyone who matched or scored. */
	d->candidates = xcalloc(rt->nrules + 1, sizeof *d->candidates);
	for (i = 0; i < rt->nrules; i++) {
		if (win != &rt->rules[i] && !res[i].matched &&
		    res[i].score == 0)
			continue;
		cand = &d->candidates[d->ncandidates++];
		cand->rule = xstrdup(rt->rules[i].cr->name);
		cand->lead = xstrdup(rt->rules[i].cr->lead);
		cand->line = rt->rules[i].cr->line;
		cand->scoring = rt->rules[i].scoring;
		cand->conditions = res[i].conditions;
		cand->matched = res[i].matched;
		cand->score = (double)res[i].score;
		cand->threshold = rt->rules[i].scoring ?
		    (double)rt->rules[i].threshold : 0;
		cand->why = xstrdup(res[i].why);
	}
	if (d->ncandidates > 0)
		qsort(d->candidates, d->ncandidates, sizeof *d->candidates,
		    route_candidate_cmp);
	if (win != NULL) {
		for (i = 0; i < d->ncandidates; i++) {
			if (strcmp(d->candidates[i].rule, win->cr->name) == 0)
				break;
		}
		if (i > 0 && i < d->ncandidates) {
			struct route_candidate	tmp = d->candidates[i];

			memmove(&d->candidates[1], &d->candidates[0],
			    i * sizeof *d->candidates);
			d->candidates[0] = tmp;
		}
	} else {
		for (i = 0; i < d->ncandidates && near == NULL; i++) {
			if (d->candidates[i].scoring &&
			    d->candidates[i].score > 0)
				near = &d->candidates[i];
		}
	}

	if (win != NULL) {
		d->lead = xstrdup(win->cr->lead);
		d->rule = xstrdup(win->cr->name);
		if (d->how == ROUTE_SCORE)
			d->score = (double)res[w].score;
		d->evidence = res[w].ev.v;
		d->nevidence = res[w].ev.n;
		res[w].ev.v = NULL;
		res[w].ev.n = 0;
	} else {
		d->lead = xstrdup(conf->general.default_lead != NULL ?
		    conf->general.default_lead : "general");
		d->rule = xstrdup("");
	}
	{
		struct route_evlist	ev = { d->evidence, d->nevidence };

		d->reason = route_reason(d, win, &ev, near);
	}
	d->region = xstrdup(region_name(m.region.region));
	d->region_why = region_explain(&m.region);

	for (i = 0; i < rt->nrules; i++) {
		route_ev_free(&res[i].ev);
		free(res[i].why);
	}
	free(res);
	route_msg_free(&m);
	return 0;

fail:
	for (i = 0; i < rt->nrules; i++) {
		route_ev_free(&res[i].ev);
		free(res[i].why);
	}
	free(res);
	route_msg_free(&m);
	route_decision_free(d);
	return -1;
}

int
route_decide(const struct conf *conf, const struct message *msg,
    struct route_decision *d, char **cause)
{
	struct router	*rt;
	int		 rc;

	if ((rt = router_new(conf, cause)) == NULL) {
		memset(d, 0, sizeof *d);
		return -1;
	}
	rc = router_decide(rt, msg, d, cause);
	router_free(rt);
	return rc;
}

void
route_decision_free(struct route_decision *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nevidence; i++) {
		free(d->evidence[i].part);
		free(d->evidence[i].what);
		free(d->evidence[i].excerpt);
	}
	free(d->evidence);
	for (i = 0; i < d->ncandidates; i++) {
		free(d->candidates[i].rule);
		free(d->candidates[i].lead);
		free(d->candidates[i].why);
	}
	free(d->candidates);
	free(d->lead);
	free(d->rule);
	free(d->reason);
	free(d->region);
	free(d->region_why);
	memset(d, 0, sizeof *d);
}

/* --- explaining ---------------------------------------------------------- */

void
route_explain(const struct route_decision *d, FILE *f)
{
	const struct route_evidence	*e;
	const struct route_candidate	*c;
	char				 pts[32];
	size_t				 i;

	fprintf(f, "lead:       %s\n", d->lead);
	switch (d->how) {
	case ROUTE_SCORE:
		fprintf(f, "rule:       %s (line %u), the highest score: %g "
		    "(needs %g)\n", d->rule,
		    d->ncandidates > 0 ? d->candidates[0].line : 0, d->score,
		    d->ncandidates > 0 ? d->candidates[0].threshold : 0);
		break;
	case ROUTE_FIRST:
		fprintf(f, "rule:       %s (line %u), the first plain rule "
		    "that matched\n", d->rule,
		    d->ncandidates > 0 ? d->candidates[0].line : 0);
		break;
	case ROUTE_DEFAULT:
		fprintf(f, "rule:       none matched: general.default_lead\n");
		break;
	}
	fprintf(f, "reason:     %s\n", d->reason);
	fprintf(f, "region:     %s%s%s\n", d->region,
	    *d->region_why != '\0' ? " -- " : "", d->region_why);
	if (d->nevidence > 0) {
		fprintf(f, "evidence:\n");
		for (i = 0; i < d->nevidence; i++) {
			e = &d->evidence[i];
			if (e->points != 0)
				snprintf(pts, sizeof pts, "%+g", e->points);
			else
				pts[0] = '\0';
			fprintf(f, "  %-12s %5s  %s", e->part, pts, e->what);
			if (*e->excerpt != '\0')
				fprintf(f, ": \"%s\"", e->excerpt);
			fputc('\n', f);
		}
	}
	if (d->ncandidates > (d->how == ROUTE_DEFAULT ? 0 : 1)) {
		fprintf(f, "runners-up:\n");
		for (i = d->how == ROUTE_DEFAULT ? 0 : 1; i < d->ncandidates;
		    i++) {
			c = &d->candidates[i];
			fprintf(f, "  %-20s %-24s ", c->lead, c->rule);
			if (c->scoring)
				fprintf(f, "score %g (needs %g)", c->score,
				    c->threshold);
			else
				fprintf(f, "plain rule");
			if (c->matched)
				fprintf(f, ", matched");
			if (*c->why != '\0')
				fprintf(f, ", %s", c->why);
			fputc('\n', f);
		}
	}
}

/* --- references and bounces ---------------------------------------------- */

static int
route_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
route_digits(const char *s)
{
	int	n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

int
route_find_reference(const struct message *msg, const char *prefix,
    char *buf, size_t size)
{
	const char	*s = route_str(msg->subject), *p, *q;
	size_t		 plen = strlen(prefix);
	int		 n, nd;

	if (plen == 0)
		return 0;
	for (p = s; *p != '\0'; p++) {
		if ((p > s && route_alnum(p[-1])) ||
		    strncasecmp(p, prefix, plen) != 0)
			continue;
		q = p + plen;
		if (*q != '-' || route_digits(q + 1) != 4 || q[5] != '-')
			continue;
		nd = route_digits(q + 6);
		if (nd < 1 || nd > 12 || route_alnum(q[6 + nd]))
			continue;
		n = snprintf(buf, size, "%s-%.4s-%.*s", prefix, q + 1, nd,
		    q + 6);
		if (n < 0 || (size_t)n >= size)
			return 0;
		return 1;
	}
	return 0;
}

/* postroom's own domain, for its VERP return paths. */
static const char *
route_own_domain(const struct conf *conf)
{
	const char	*at;

	if (conf == NULL)
		return NULL;
	if (conf->general.domain != NULL && *conf->general.domain != '\0')
		return conf->general.domain;
	if (conf->general.from_address != NULL &&
	    (at = strrchr(conf->general.from_address, '@')) != NULL)
		return at + 1;
	return NULL;
}

int
route_is_bounce(const struct conf *conf, const struct message *msg)
{
	struct route_texts	 to;
	const char		*from = route_str(msg->from.addr), *at, *domain;
	size_t			 i;
	int			 bounce = 0;

	if (msg->is_report)
		return 1;
	if ((at = strrchr(from, '@')) != NULL && at - from == 13 &&
	    strncasecmp(from, "mailer-daemon", 13) == 0)
		return 1;
	domain = route_own_domain(conf);
	memset(&to, 0, sizeof to);
	route_recipients(msg, &to);
	for (i = 0; i < to.n && !bounce; i++) {
		if (strncasecmp(to.s[i], "bounces+", 8) != 0 ||
		    (at = strrchr(to.s[i], '@')) == NULL)
			continue;
		if (domain == NULL || strcasecmp(at + 1, domain) == 0)
			bounce = 1;
	}
	route_texts_free(&to);
	return bounce;
}
