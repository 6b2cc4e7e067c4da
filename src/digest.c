/*
 * digest.c - list digests and lead digests (digest.h tells the story).
 *
 * Owns: deciding which digests are due at an instant, who gets one and
 * with what, the digest messages (merge data, tokens, headers), the lead
 * summaries, and the order of work that makes a run safe to repeat or to
 * cut short.  Does not own: the calendar (period.c), the SQL and the rule
 * of what is held (store-digest.c), a newsletter's body (newsletter.c),
 * Mustache (template.c), the wire form (mime-build.c), parsing enquiries
 * (the caller's body callback; the parser child in practice).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "digest.h"
#include "log.h"
#include "mime-build.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define DIGEST_LINE_MAX		100	/* characters of a first line */
#define DIGEST_KV_UNTIL		"digest.lead_until."	/* + key */

/* One run: what every list and lead shares. */
struct digest_ctx {
	const struct conf		*conf;
	struct store			*store;
	const unsigned char		*key;
	const struct digest_opts	*opts;
	struct digest_stats		*stats;
	enum digest_fail		 fail;	/* worst so far */
	struct buf			 causes; /* "; " between */
	struct template			*lead_t; /* lead-digest.txt */
};

/* A newsletter prepared for the digest, by campaign. */
struct digest_nl {
	int64_t			 id;
	int64_t			 started_at;
	struct newsletter	*nl;
};

/* One list's digest for one period. */
struct digest_list {
	const struct conf	*conf;
	const struct conf_list	*list;
	struct period		 period;
	unsigned char		 key[TOKEN_KEY_LEN];
	struct token_signer	*signer;	/* key, prepared once */
	char			*list_id;
	int			 list_id_text;	/* needs encoded words */
	char			*list_help;
	struct template		*html_t;
	struct template		*text_t;
	struct template_partials *partials;
	struct digest_nl	*nls;
	size_t			 nnls;
	/* Set when a failure is the whole list's, not one member's. */
	enum digest_fail	 fail;
};

/* --- small helpers ------------------------------------------------------ */

static void
digest_set(struct value *obj, const char *key, const char *s)
{
	value_object_set(obj, key, value_new_string(s != NULL ? s : ""));
}

static const char *
digest_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* Remember a failure of one list or lead and go on with the others. */
static void
digest_failed(struct digest_ctx *x, enum digest_fail fail, const char *what,
    char *cause)
{
	if (fail > x->fail)
		x->fail = fail;
	if (x->causes.len > 0)
		buf_addstr(&x->causes, "; ");
	buf_printf(&x->causes, "%s: %s", what,
	    cause != NULL ? cause : "failed");
	free(cause);
}

static void
digest_report(struct digest_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
digest_report(struct digest_ctx *x, const char *fmt, ...)
{
	struct buf	b;
	va_list		ap;

	buf_init(&b, BUF_NOMAX);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.data == NULL)
		buf_add(&b, "", 0);
	if (x->opts->report != NULL)
		x->opts->report(x->opts->report_arg, b.data);
	else
		log_info("%s", b.data);
	buf_free(&b);
}

/* The store failed: busy or not, the run can only stop and retry later. */
static enum digest_fail
digest_store_fail(void)
{
	return DIGEST_FAIL_TEMP;
}

/*
 * A list's period rule.  A list without digests (none) is flushed daily
 * at digest.time: normally nothing is held for its members (campaign
 * sending queues them all), but what was held when the list was switched
 * to none still reaches them.
 */
static void
digest_rule(const struct conf *conf, const struct conf_list *list,
    struct period_rule *r)
{
	memset(r, 0, sizeof *r);
	r->weekday = list->digest_day;
	r->minute = list->digest_time;
	switch (list->digest) {
	case CONF_DIGEST_DAILY:
		r->every = PERIOD_DAILY;
		break;
	case CONF_DIGEST_WEEKLY:
		r->every = PERIOD_WEEKLY;
		break;
	case CONF_DIGEST_MONTHLY:
		r->every = PERIOD_MONTHLY;
		break;
	case CONF_DIGEST_NONE:
		r->every = PERIOD_DAILY;
		r->minute = conf->digest.time;
		break;
	}
}

/* --- the first lines of an enquiry --------------------------------------- */

/* Append s[0..len) to b with white space squeezed and controls dropped. */
static void
digest_squeeze(struct buf *b, const char *s, size_t len)
{
	size_t	i;
	int	space = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || (unsigned char)s[i] < 0x20 ||
		    s[i] == 0x7f) {
			space = b->len > 0;
			continue;
		}
		if (space)
			buf_addc(b, ' ');
		space = 0;
		buf_addc(b, s[i]);
	}
}

/* Cut b to max characters (code points), ending "..." when cut. */
static void
digest_cut(struct buf *b, size_t max)
{
	size_t	i, n = 0;

	for (i = 0; i < b->len; i++) {
		if (((unsigned char)b->data[i] & 0xc0) == 0x80)
			continue;
		if (n++ == max - 3) {
			b->len = i;
			b->data[i] = '\0';
			buf_addstr(b, "...");
			return;
		}
	}
}

static size_t
digest_chars(const char *s, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	}
	return n;
}

struct value *
digest_first_lines(const char *text, size_t n)
{
	struct value	*list = value_new_list();
	struct buf	 b;
	const char	*p = text, *e, *q;
	size_t		 len;

	if (text == NULL)
		return list;
	buf_init(&b, BUF_NOMAX);
	while (*p != '\0' && value_list_len(list) < n) {
		e = strchr(p, '\n');
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		/* A signature ends the text. */
		if ((len == 3 && strncmp(p, "-- ", 3) == 0) ||
		    (len == 2 && strncmp(p, "--", 2) == 0))
			break;
		for (q = p; q < p + len && (*q == ' ' || *q == '\t'); q++)
			/* nothing */;
		if (q < p + len && *q != '>') {
			buf_reset(&b);
			digest_squeeze(&b, q, len - (size_t)(q - p));
			if (b.len > 0) {
				if (digest_chars(b.data, b.len) >
				    DIGEST_LINE_MAX)
					digest_cut(&b, DIGEST_LINE_MAX);
				value_list_append(list,
				    value_new_stringn(b.data, b.len));
			}
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
	buf_free(&b);
	return list;
}

/* --- list digests: links and headers ------------------------------------ */

/*
 * As a newsletter's (newsletter.h), except that a digest is no one
 * campaign: its links name the list alone, and the mailto, which has room
 * for no slug, names the first newsletter in the digest (whose campaign
 * names the list, as a newsletter's mailto does).
 */
static int
digest_links(const struct digest_list *dl,
    const struct store_subscriber *sub, int64_t first_campaign, time_t now,
    struct newsletter_links *l, char **cause)
{
	return newsletter_links_make(dl->signer, dl->conf->general.base_url,
	    dl->conf->general.domain, dl->list->slug, sub->id,
	    sub->token_salt, 0, first_campaign, now, l, cause);
}

/* --- list digests: preparing and rendering ------------------------------- */

static void
digest_list_free(struct digest_list *dl)
{
	size_t	i;

	if (dl == NULL)
		return;
	for (i = 0; i < dl->nnls; i++)
		newsletter_free(dl->nls[i].nl);
	free(dl->nls);
	free(dl->list_id);
	free(dl->list_help);
	template_free(dl->html_t);
	template_free(dl->text_t);
	template_partials_free(dl->partials);
	token_signer_free(dl->signer);
	explicit_bzero(dl->key, sizeof dl->key);
	free(dl);
}

/* Read the templates; NULL with *cause (a configuration problem). */
static struct digest_list *
digest_list_open(const struct conf *conf, const struct conf_list *list,
    const struct period *p, const unsigned char key[TOKEN_KEY_LEN],
    char **cause)
{
	struct digest_list	*dl;
	struct template		*t;
	char			*name;

	if (strlen(list->slug) > TOKEN_LIST_MAX) {
		*cause = xprintf("a slug longer than %d characters cannot go "
		    "in a link", TOKEN_LIST_MAX);
		return NULL;
	}
	dl = xcalloc(1, sizeof *dl);
	dl->conf = conf;
	dl->list = list;
	dl->period = *p;
	memcpy(dl->key, key, TOKEN_KEY_LEN);
	dl->signer = token_signer_new(key);
	dl->list_help = xprintf("<mailto:%s?subject=help>",
	    conf->general.from_address);
	/* The same List-Id as the list's newsletters. */
	dl->list_id = newsletter_list_id(list->name, list->slug,
	    conf->general.domain, &dl->list_id_text);
	dl->html_t = template_load(conf->general.templates, "digest.html",
	    cause);
	if (dl->html_t == NULL)
		goto fail;
	dl->text_t = template_load(conf->general.templates, "digest.txt",
	    cause);
	if (dl->text_t == NULL)
		goto fail;
	/* The item templates now, so their absence is not a campaign's. */
	name = xprintf("%s.html", DIGEST_ITEM_TEMPLATE);
	t = template_load(conf->general.templates, name, cause);
	free(name);
	if (t == NULL)
		goto fail;
	template_free(t);
	name = xprintf("%s.txt", DIGEST_ITEM_TEMPLATE);
	t = template_load(conf->general.templates, name, cause);
	free(name);
	if (t == NULL)
		goto fail;
	template_free(t);
	dl->partials = template_partials_dir(conf->general.templates);
	return dl;

fail:
	digest_list_free(dl);
	return NULL;
}

/*
 * The newsletter of campaign id, prepared once per run with the item
 * templates.  -1 with *cause and dl->fail set: a failure of the list.
 */
static struct digest_nl *
digest_list_nl(struct digest_list *dl, struct store *s, int64_t id,
    char **cause)
{
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct digest_nl	*d;
	char			*why;
	size_t			 i;
	int			 rc;

	for (i = 0; i < dl->nnls; i++) {
		if (dl->nls[i].id == id)
			return &dl->nls[i];
	}
	memset(&c, 0, sizeof c);
	if ((rc = store_campaign_get(s, id, &c, cause)) != 1) {
		if (rc == 0)
			*cause = xprintf("campaign %lld vanished",
			    (long long)id);
		dl->fail = rc == 0 ? DIGEST_FAIL_DATA : digest_store_fail();
		return NULL;
	}
	free(c.template);
	c.template = xstrdup(DIGEST_ITEM_TEMPLATE);
	nl = newsletter_prepare(dl->conf, &c, dl->key, &why);
	if (nl == NULL) {
		*cause = xprintf("campaign %lld: %s", (long long)id, why);
		free(why);
		dl->fail = DIGEST_FAIL_DATA;
		store_campaign_clear(&c);
		return NULL;
	}
	dl->nls = xreallocarray(dl->nls, dl->nnls + 1, sizeof *dl->nls);
	d = &dl->nls[dl->nnls++];
	d->id = id;
	d->started_at = c.started_at;
	d->nl = nl;
	store_campaign_clear(&c);
	return d;
}

/*
 * A newsletter's body inside a digest: its headings by levels down (h1
 * to h3 for 2 ... never below h6), under the digest's <h1> and the
 * item's <h2> - or by 1 when the body opens with a title of its own,
 * which then is the item's <h2> (body_heading) - so that a digest has
 * one <h1> and its outline holds.  The body is markdown.c's HTML, whose
 * headings are bare "<hN>" tags (raw HTML, when a list allows it, may
 * add attributes: "<hN " is moved too).
 */
static char *
digest_demote(const char *html, int by)
{
	struct buf	 b;
	const char	*p, *q;
	int		 level;

	buf_init(&b, BUF_NOMAX);
	for (p = html; (q = strchr(p, '<')) != NULL; p = q) {
		buf_add(&b, p, (size_t)(q - p));
		p = q + (q[1] == '/' ? 2 : 1);
		if ((*p == 'h' || *p == 'H') && p[1] >= '1' && p[1] <= '6' &&
		    (p[2] == '>' || p[2] == ' ')) {
			level = p[1] - '0' + by;
			buf_add(&b, q, (size_t)(p - q) + 1);
			buf_addc(&b, (char)('0' + (level > 6 ? 6 : level)));
			q = p + 2;
		} else {
			buf_addc(&b, '<');
			q++;
		}
	}
	buf_addstr(&b, p);
	return buf_detach(&b, NULL);
}

/* The merge data both digest templates share, less the items. */
static struct value *
digest_list_data(const struct digest_list *dl,
    const struct store_subscriber *sub, const struct newsletter_links *l,
    size_t nitems)
{
	const struct conf	*conf = dl->conf;
	struct value		*data, *v;
	char			*s;

	data = value_new_object();
	v = value_new_object();
	digest_set(v, "name", dl->list->name);
	digest_set(v, "slug", dl->list->slug);
	digest_set(v, "description", dl->list->description);
	value_object_set(data, "list", v);

	v = value_new_object();
	digest_set(v, "key", dl->period.key);
	digest_set(v, "label", dl->period.label);
	digest_set(v, "every", period_every_name(dl->period.every));
	s = xprintf("%s digest: %s", dl->period.every == PERIOD_DAILY ?
	    "Daily" : dl->period.every == PERIOD_WEEKLY ? "Weekly" :
	    "Monthly", dl->period.label);
	digest_set(v, "title", s);
	free(s);
	value_object_set(data, "period", v);

	value_object_set(data, "count", value_new_int((long long)nitems));
	value_object_set(data, "plural", value_new_bool(nitems != 1));

	v = value_new_object();
	digest_set(v, "name", sub->name);
	digest_set(v, "email", sub->email);
	value_object_set(data, "subscriber", v);
	digest_set(data, "unsubscribe_url", l->unsubscribe_url);
	digest_set(data, "preferences_url", l->preferences_url);

	v = value_new_object();
	digest_set(v, "name", conf->general.from_name);
	digest_set(v, "enquiries", conf->general.from_address);
	value_object_set(data, "network", v);
	return data;
}

/* "Midlands Decision Support Network news digest: week of 16 November 2026" */
static char *
digest_list_subject(const struct digest_list *dl)
{
	return xprintf("%s digest: %s", dl->list->name, dl->period.label);
}

/*
 * Render sub's digest of campaigns ids[0..n) at now: the whole message to
 * out and *mail_from (either may be NULL: not wanted), the decoded parts
 * to parts (NULL: not wanted).  -1 with *cause: dl->fail says whether it
 * is the list's failure or only this member's.
 */
static int
digest_list_render(struct digest_list *dl, struct store *s,
    const struct store_subscriber *sub, const int64_t *ids, size_t n,
    time_t now, struct buf *out, char **mail_from,
    struct newsletter_parts *parts, char **cause)
{
	const struct conf	*conf = dl->conf;
	struct newsletter_links	 l;
	struct digest_nl	*d;
	struct newsletter_parts	 np;
	struct value		*data, *items, *item;
	struct mime_msg		*m;
	struct buf		 html, text;
	char			 date[64], *subject, *str, *why = NULL;
	size_t			 i;
	int			 rc = -1;

	if (mail_from != NULL)
		*mail_from = NULL;
	if (n == 0) {
		*cause = xstrdup("nothing to put in a digest");
		return -1;
	}
	if (digest_links(dl, sub, ids[0], now, &l, cause) == -1)
		return -1;
	buf_init(&html, DIGEST_MAX_MESSAGE);
	buf_init(&text, DIGEST_MAX_MESSAGE);
	data = digest_list_data(dl, sub, &l, n);

	/* Step 1: each newsletter's body, rendered for this subscriber. */
	items = value_new_list();
	value_object_set(data, "items", items);
	for (i = 0; i < n; i++) {
		if ((d = digest_list_nl(dl, s, ids[i], cause)) == NULL)
			goto out;
		if (newsletter_render_parts(d->nl, sub, now, &np, cause) == -1)
			goto out;
		item = value_new_object();
		value_object_set(item, "index", value_new_int((long long)i +
		    1));
		value_object_set(item, "id", value_new_int((long long)d->id));
		digest_set(item, "subject", np.subject);
		period_date((time_t)d->started_at, date, sizeof date);
		digest_set(item, "date", date);
		str = digest_demote(np.html, np.body_heading ? 1 : 2);
		value_object_set(item, "body_heading",
		    value_new_bool(np.body_heading));
		digest_set(item, "body_html", str);
		free(str);
		digest_set(item, "body_text", np.text);
		str = xprintf("%s/archive/%lld", conf->general.base_url,
		    (long long)d->id);
		digest_set(item, "archive_url", str);
		free(str);
		value_list_append(items, item);
		newsletter_parts_clear(&np);
	}

	/* Step 2: the digest around them. */
	if (template_render(dl->html_t, data, dl->partials, &html,
	    &why) == -1 ||
	    template_render_text(dl->text_t, data, dl->partials, &text,
	    &why) == -1) {
		*cause = xprintf("subscriber %lld: %s", (long long)sub->id,
		    why);
		free(why);
		goto out;
	}
	subject = digest_list_subject(dl);
	if (parts != NULL) {
		memset(parts, 0, sizeof *parts);
		parts->subject = xstrdup(subject);
		parts->text = xstrdup(digest_str(&text));
		parts->html = xstrdup(digest_str(&html));
	}

	/* Step 3: the message, headers as a newsletter's. */
	if (out != NULL) {
		m = mime_msg_new();
		mime_msg_address(m, "From", dl->list->name, dl->list->from);
		if (*dl->list->reply_to != '\0')
			mime_msg_address(m, "Reply-To", NULL,
			    dl->list->reply_to);
		mime_msg_address(m, "To", *sub->name != '\0' ? sub->name :
		    NULL, sub->email);
		mime_msg_header(m, "Subject", subject);
		str = mime_date(now);
		mime_msg_header_raw(m, "Date", str);
		free(str);
		str = newsletter_message_id(&l, conf->general.domain);
		mime_msg_header_raw(m, "Message-ID", str);
		free(str);
		if (dl->list_id_text)
			mime_msg_header(m, "List-Id", dl->list_id);
		else
			mime_msg_header_raw(m, "List-Id", dl->list_id);
		str = xprintf("<%s>, <mailto:%s?subject=unsubscribe>",
		    l.unsubscribe_url, l.unsubscribe_mailto);
		mime_msg_header_raw(m, "List-Unsubscribe", str);
		free(str);
		mime_msg_header_raw(m, "List-Unsubscribe-Post",
		    "List-Unsubscribe=One-Click");
		mime_msg_header_raw(m, "List-Help", dl->list_help);
		mime_msg_text(m, digest_str(&text));
		mime_msg_html(m, digest_str(&html));
		rc = mime_msg_write(m, out, cause);
		mime_msg_free(m);
		if (rc == -1) {
			free(subject);
			if (parts != NULL)
				newsletter_parts_clear(parts);
			goto out;
		}
	}
	free(subject);
	if (mail_from != NULL) {
		*mail_from = l.mail_from;
		l.mail_from = NULL;
	}
	rc = 0;
out:
	value_free(data);
	buf_free(&html);
	buf_free(&text);
	newsletter_links_free(&l);
	return rc;
}

/* --- list digests: the run ------------------------------------------------ */

/*
 * One member inside the batch's transaction: 1 queued, 0 nothing to do or
 * skipped, -1 with *cause when the list cannot go on (dl->fail).
 */
static int
digest_list_member(struct digest_ctx *x, struct digest_list *dl,
    const struct store_digest_member *m, int64_t since, int64_t *nitems,
    char **cause)
{
	const char		*slug = dl->list->slug;
	struct store_outbox_msg	 om;
	struct buf		 b;
	int64_t			 ids[DIGEST_MAX_ITEMS], outbox_id = 0;
	size_t			 n, i;
	char			*mail_from = NULL, *dedup, *why = NULL;
	int			 rc;

	*nitems = 0;
	if ((rc = store_subscriber_suppressed(x->store, m->sub.email,
	    cause)) != 0) {
		if (rc == -1) {
			dl->fail = digest_store_fail();
			return -1;
		}
		x->stats->skipped++;
		return 0;
	}
	if (store_digest_held(x->store, slug, m, since, dl->period.end, ids,
	    DIGEST_MAX_ITEMS, &n, cause) == -1) {
		dl->fail = digest_store_fail();
		return -1;
	}
	if (n == 0)
		return 0;

	buf_init(&b, DIGEST_MAX_MESSAGE);
	if (digest_list_render(dl, x->store, &m->sub, ids, n, x->opts->now,
	    &b, &mail_from, NULL, &why) == -1) {
		buf_free(&b);
		if (dl->fail != DIGEST_OK) {
			*cause = why;
			return -1;
		}
		/* Only this member (an address or attributes): say so. */
		log_warn("list %s: digest %s: subscriber %lld not sent: %s",
		    slug, dl->period.key, (long long)m->sub.id, why);
		free(why);
		x->stats->skipped++;
		return 0;
	}

	dedup = xprintf("digest:%s:%s:%lld", slug, dl->period.key,
	    (long long)m->sub.id);
	memset(&om, 0, sizeof om);
	om.kind = STORE_OUTBOX_DIGEST;
	om.mail_from = mail_from;
	om.rcpt_to = m->sub.email;
	om.message = b.data;
	om.len = b.len;
	om.dedup_key = dedup;
	om.subscriber_id = m->sub.id;
	rc = store_outbox_add(x->store, &om, &outbox_id, cause);
	free(dedup);
	free(mail_from);
	buf_free(&b);
	if (rc == -1) {
		dl->fail = digest_store_fail();
		return -1;
	}
	/* (0: queued already, by a run whose items are gone: record them.) */
	for (i = 0; i < n; i++) {
		if (store_digest_item_add(x->store, m->sub.id, ids[i], slug,
		    dl->period.key, outbox_id, (int64_t)x->opts->now,
		    cause) == -1) {
			dl->fail = digest_store_fail();
			return -1;
		}
	}
	*nitems = (int64_t)n;
	return rc;
}

static int
digest_list_run(struct digest_ctx *x, const struct conf_list *list)
{
	struct store_digest_member	*members;
	struct digest_list		*dl;
	struct period_rule		 r;
	struct period			 p;
	int64_t				 since, after = 0, messages = 0;
	int64_t				 items = 0, nitems;
	size_t				 n, i;
	char				*cause = NULL, *what;
	int				 rc, done = 0;

	what = xprintf("list %s", list->slug);
	digest_rule(x->conf, list, &r);
	if (period_due(&r, x->opts->now, &p) == -1) {
		digest_failed(x, DIGEST_FAIL_CONFIG, what,
		    xstrdup("cannot work out its digest period"));
		free(what);
		return 0;
	}
	if ((rc = store_digest_sent(x->store, "digest", list->slug, p.key,
	    &cause)) != 0) {
		if (rc == -1) {
			digest_failed(x, digest_store_fail(), what, cause);
			free(what);
			return -1;
		}
		digest_report(x, "%s: %s digest for %s (%s) already queued",
		    what, period_every_name(p.every), p.label, p.key);
		free(what);
		return 0;
	}
	since = (int64_t)p.end - DIGEST_CATCHUP_MAX;
	if ((dl = digest_list_open(x->conf, list, &p, x->key, &cause)) ==
	    NULL) {
		digest_failed(x, DIGEST_FAIL_CONFIG, what, cause);
		free(what);
		return 0;
	}

	/*
	 * DIGEST_BATCH members to a transaction; the period is recorded
	 * with the last batch.  A member done is never found again (what
	 * was held is now in digest_items), so the walk may restart.
	 */
	members = xcalloc(DIGEST_BATCH, sizeof *members);
	while (!done) {
		if (store_begin(x->store, &cause) == -1) {
			dl->fail = digest_store_fail();
			break;
		}
		if (store_digest_members(x->store, list->slug, since,
		    (int64_t)p.end, after, members, DIGEST_BATCH, &n,
		    &cause) == -1) {
			dl->fail = digest_store_fail();
			store_rollback(x->store);
			break;
		}
		rc = 0;
		for (i = 0; i < n && rc != -1; i++) {
			after = members[i].sub.id;
			rc = digest_list_member(x, dl, &members[i], since,
			    &nitems, &cause);
			if (rc == 1) {
				messages++;
				items += nitems;
			}
		}
		for (i = 0; i < n; i++)
			store_digest_member_clear(&members[i]);
		if (rc == -1) {
			store_rollback(x->store);
			break;
		}
		if (n < DIGEST_BATCH) {
			if (store_digest_record(x->store, "digest", list->slug,
			    p.key, messages, (int64_t)x->opts->now,
			    &cause) == -1) {
				dl->fail = digest_store_fail();
				store_rollback(x->store);
				break;
			}
			done = 1;
		}
		if (store_commit(x->store, &cause) == -1) {
			dl->fail = digest_store_fail();
			store_rollback(x->store);
			break;
		}
	}
	free(members);

	if (!done) {
		/* What was committed stands; the next run does the rest. */
		rc = dl->fail == DIGEST_FAIL_TEMP ? -1 : 0;
		digest_failed(x, dl->fail, what, cause);
		digest_list_free(dl);
		free(what);
		return rc;
	}
	x->stats->periods++;
	x->stats->messages += messages;
	x->stats->items += items;
	if (messages == 0)
		digest_report(x, "%s: %s digest for %s (%s): nothing held, "
		    "nothing sent", what, period_every_name(p.every), p.label,
		    p.key);
	else
		digest_report(x, "%s: %s digest for %s (%s): queued %lld "
		    "message%s holding %lld newsletter%s", what,
		    period_every_name(p.every), p.label, p.key,
		    (long long)messages, messages == 1 ? "" : "s",
		    (long long)items, items == 1 ? "" : "s");
	digest_list_free(dl);
	free(what);
	return 0;
}

/* --- lead digests ------------------------------------------------------- */

struct digest_lead_sum {
	const struct conf_lead		*lead;
	struct period			 period;
	int				 general;	/* default lead */
	int64_t				 since;		/* enquiries */
	int64_t				 counts_since;	/* counts */
	struct store_digest_enquiry	 e[DIGEST_LEAD_MAX];
	size_t				 n;
	int64_t				 more;
	struct value			*by_lead;	/* general only */
	int64_t				 total;
};

static void
digest_lead_sum_clear(struct digest_lead_sum *sum)
{
	size_t	i;

	for (i = 0; i < sum->n; i++)
		store_digest_enquiry_clear(&sum->e[i]);
	sum->n = 0;
	value_free(sum->by_lead);
	sum->by_lead = NULL;
}

struct digest_count_arg {
	const struct conf	*conf;
	struct value		*list;
	int64_t			*total;
};

static int
digest_lead_count(const char *lead, int64_t count, void *arg)
{
	struct digest_count_arg	*a = arg;
	const struct conf_lead	*l;
	struct value		*v;

	v = value_new_object();
	digest_set(v, "key", *lead != '\0' ? lead : "(none)");
	l = *lead != '\0' ? conf_lead_find(a->conf, lead) : NULL;
	digest_set(v, "name", l != NULL ? l->name : *lead != '\0' ? lead :
	    "(no lead)");
	value_object_set(v, "count", value_new_int(count));
	value_list_append(a->list, v);
	*a->total += count;
	return 0;
}

/* When the lead's last summary ended: 1 and *until, 0 none yet, -1. */
static int
digest_lead_until(struct store *s, const char *lead, int64_t *until,
    char **cause)
{
	char	*k, *v, *end;
	int	 rc;

	k = xprintf("%s%s", DIGEST_KV_UNTIL, lead);
	rc = store_kv_get(s, k, &v, cause);
	free(k);
	if (rc != 1)
		return rc;
	*until = strtoll(v, &end, 10);
	rc = *end == '\0' && end != v;
	free(v);
	return rc;
}

/* Read what goes in lead's summary for the period due (no writes). */
static int
digest_lead_collect(struct digest_ctx *x, const struct conf_lead *lead,
    const struct period *p, struct digest_lead_sum *sum, char **cause)
{
	struct digest_count_arg	 a;
	int64_t			 until, floor;
	int			 rc;

	memset(sum, 0, sizeof *sum);
	sum->lead = lead;
	sum->period = *p;
	sum->general = strcmp(lead->key, x->conf->general.default_lead) == 0;
	if ((rc = digest_lead_until(x->store, lead->key, &until, cause)) == -1)
		return -1;
	/*
	 * Since the last summary (less some slack for enquiries routed
	 * before it but committed after: digest_enquiries keeps them from
	 * coming twice); a first summary covers the period alone.
	 */
	if (rc == 1) {
		sum->counts_since = until;
		sum->since = until - DIGEST_LEAD_SLACK;
	} else
		sum->counts_since = sum->since = (int64_t)p->start;
	floor = (int64_t)p->end - DIGEST_CATCHUP_MAX;
	if (sum->since < floor)
		sum->since = floor;
	if (sum->counts_since < floor)
		sum->counts_since = floor;
	if (store_digest_enquiries(x->store, lead->key, sum->since,
	    (int64_t)p->end, x->opts->body != NULL, sum->e, DIGEST_LEAD_MAX,
	    &sum->n, &sum->more, cause) == -1)
		return -1;
	if (sum->general) {
		sum->by_lead = value_new_list();
		a.conf = x->conf;
		a.list = sum->by_lead;
		a.total = &sum->total;
		if (store_digest_lead_counts(x->store, sum->counts_since,
		    (int64_t)p->end, digest_lead_count, &a, cause) == -1)
			return -1;
	}
	return 0;
}

static struct value *
digest_enquiry_value(struct digest_ctx *x, const struct store_digest_enquiry *e)
{
	struct value	*v;
	char		 when[64], *s, *body;

	v = value_new_object();
	digest_set(v, "reference", e->reference);
	period_datetime((time_t)e->received_at, when, sizeof when);
	digest_set(v, "received", when);
	if (*e->sender_name != '\0' && *e->sender != '\0')
		s = xprintf("%s <%s>", e->sender_name, e->sender);
	else if (*e->sender != '\0')
		s = xstrdup(e->sender);
	else
		s = xstrdup("(unknown sender)");
	digest_set(v, "sender", s);
	free(s);
	digest_set(v, "subject", *e->subject != '\0' ? e->subject :
	    "(no subject)");
	digest_set(v, "rule", e->rule);
	body = NULL;
	if (x->opts->body != NULL && e->raw != NULL)
		body = x->opts->body(x->opts->body_arg, e->raw, e->rawlen);
	value_object_set(v, "first_lines", digest_first_lines(body,
	    DIGEST_FIRST_LINES));
	free(body);
	return v;
}

/* The text of a lead's summary; NULL with *cause. */
static char *
digest_lead_text(struct digest_ctx *x, const struct digest_lead_sum *sum,
    char **cause)
{
	const struct conf	*conf = x->conf;
	struct value		*data, *v, *list, *defaulted;
	struct buf		 b;
	char			*why, when[64];
	size_t			 i;

	data = value_new_object();
	v = value_new_object();
	digest_set(v, "key", sum->lead->key);
	digest_set(v, "name", sum->lead->name);
	value_object_set(data, "lead", v);
	v = value_new_object();
	digest_set(v, "key", sum->period.key);
	digest_set(v, "label", sum->period.label);
	digest_set(v, "every", period_every_name(sum->period.every));
	period_datetime(sum->period.start, when, sizeof when);
	digest_set(v, "from", when);
	period_datetime(sum->period.end, when, sizeof when);
	digest_set(v, "to", when);
	value_object_set(data, "period", v);
	value_object_set(data, "count", value_new_int((long long)sum->n));
	value_object_set(data, "plural", value_new_bool(sum->n != 1));
	/* (0 would be truthy in a template: only set when there are more.) */
	if (sum->more > 0)
		value_object_set(data, "more", value_new_int(sum->more));

	list = value_new_list();
	defaulted = value_new_list();
	for (i = 0; i < sum->n; i++) {
		v = digest_enquiry_value(x, &sum->e[i]);
		if (strcmp(sum->e[i].rule, "default") == 0)
			value_list_append(defaulted, value_copy(v));
		value_list_append(list, v);
	}
	value_object_set(data, "enquiries", list);
	if (sum->general) {
		v = value_new_object();
		value_object_set(v, "by_lead", value_copy(sum->by_lead));
		value_object_set(v, "total", value_new_int(sum->total));
		value_object_set(v, "defaulted", defaulted);
		value_object_set(data, "general", v);
	} else
		value_free(defaulted);
	v = value_new_object();
	digest_set(v, "name", conf->general.from_name);
	digest_set(v, "enquiries", conf->general.from_address);
	value_object_set(data, "network", v);

	buf_init(&b, DIGEST_MAX_MESSAGE);
	if (template_render_text(x->lead_t, data, NULL, &b, &why) == -1) {
		*cause = xprintf("lead-digest.txt: %s", why);
		free(why);
		value_free(data);
		buf_free(&b);
		return NULL;
	}
	value_free(data);
	if (b.data == NULL)
		buf_add(&b, "", 0);
	return buf_detach(&b, NULL);
}

static char *
digest_lead_subject(const struct digest_lead_sum *sum)
{
	return xprintf("Enquiries for %s: %s (%zu new)", sum->lead->name,
	    sum->period.label, sum->n);
}

/* Nothing new: no enquiry of its own and, for general, none at all. */
static int
digest_lead_empty(const struct digest_lead_sum *sum)
{
	return sum->n == 0 && (!sum->general || sum->total == 0);
}

/* Queue one summary per address, mark, record: in one transaction. */
static int
digest_lead_queue(struct digest_ctx *x, const struct digest_lead_sum *sum,
    const char *text, int64_t *queued, char **cause)
{
	const struct conf	*conf = x->conf;
	const struct conf_lead	*lead = sum->lead;
	struct store_outbox_msg	 om;
	struct mime_msg		*m;
	struct buf		 b;
	char			*subject, *dedup, *str, *k;
	size_t			 i;
	int			 rc;

	*queued = 0;
	if (store_begin(x->store, cause) == -1)
		return -1;
	/* Another run may have got here first. */
	if ((rc = store_digest_sent(x->store, "lead_digest", lead->key,
	    sum->period.key, cause)) != 0) {
		if (rc == 1)
			rc = 0;
		goto done;
	}

	subject = digest_lead_subject(sum);
	for (i = 0; text != NULL && i < lead->naddresses; i++) {
		m = mime_msg_new();
		mime_msg_address(m, "From", conf->general.from_name,
		    conf->general.from_address);
		mime_msg_address(m, "To", lead->name, lead->addresses[i]);
		mime_msg_header(m, "Subject", subject);
		str = mime_date(x->opts->now);
		mime_msg_header_raw(m, "Date", str);
		free(str);
		mime_msg_header_raw(m, "Auto-Submitted", "auto-generated");
		mime_msg_header_raw(m, "X-Auto-Response-Suppress", "All");
		mime_msg_header_raw(m, "X-Postroom-Lead", lead->key);
		mime_msg_text(m, text);
		buf_init(&b, DIGEST_MAX_MESSAGE);
		rc = mime_msg_write(m, &b, cause);
		mime_msg_free(m);
		if (rc == -1) {
			buf_free(&b);
			free(subject);
			goto done;
		}
		dedup = xprintf("lead_digest:%s:%s:%s", lead->key,
		    sum->period.key, lead->addresses[i]);
		memset(&om, 0, sizeof om);
		om.kind = STORE_OUTBOX_LEAD_DIGEST;
		om.mail_from = conf->general.from_address;
		om.rcpt_to = lead->addresses[i];
		om.message = b.data;
		om.len = b.len;
		om.dedup_key = dedup;
		rc = store_outbox_add(x->store, &om, NULL, cause);
		free(dedup);
		buf_free(&b);
		if (rc == -1) {
			free(subject);
			goto done;
		}
		(*queued)++;
	}
	free(subject);

	for (i = 0; text != NULL && i < sum->n; i++) {
		if (store_digest_enquiry_mark(x->store, lead->key,
		    sum->e[i].id, sum->period.key, (int64_t)x->opts->now,
		    cause) == -1) {
			rc = -1;
			goto done;
		}
	}
	str = xprintf("%lld", (long long)sum->period.end);
	k = xprintf("%s%s", DIGEST_KV_UNTIL, lead->key);
	rc = store_kv_set(x->store, k, str, cause);
	free(k);
	free(str);
	if (rc == -1)
		goto done;
	if ((rc = store_digest_record(x->store, "lead_digest", lead->key,
	    sum->period.key, *queued, (int64_t)x->opts->now, cause)) == -1)
		goto done;
	rc = 1;
done:
	if (rc != 1) {
		store_rollback(x->store);
		*queued = 0;
		return rc;
	}
	if (store_commit(x->store, cause) == -1) {
		store_rollback(x->store);
		*queued = 0;
		return -1;
	}
	return 1;
}

static int
digest_lead_period(const struct conf *conf, time_t now, struct period *p)
{
	struct period_rule	r;

	memset(&r, 0, sizeof r);
	r.every = PERIOD_DAILY;
	r.minute = conf->digest.time;
	return period_due(&r, now, p);
}

static int
digest_leads_run(struct digest_ctx *x)
{
	const struct conf	*conf = x->conf;
	const struct conf_lead	*lead;
	struct digest_lead_sum	*sum;
	struct period		 p;
	int64_t			 queued;
	size_t			 i;
	char			*cause = NULL, *what, *text;
	int			 rc;

	if (conf->nleads == 0)
		return 0;
	if (digest_lead_period(conf, x->opts->now, &p) == -1) {
		digest_failed(x, DIGEST_FAIL_CONFIG, "leads",
		    xstrdup("cannot work out the digest period"));
		return 0;
	}
	if ((x->lead_t = template_load(conf->general.templates,
	    "lead-digest.txt", &cause)) == NULL) {
		digest_failed(x, DIGEST_FAIL_CONFIG, "leads", cause);
		return 0;
	}
	sum = xcalloc(1, sizeof *sum);
	for (i = 0; i < conf->nleads; i++) {
		lead = &conf->leads[i];
		what = xprintf("lead %s", lead->key);
		rc = store_digest_sent(x->store, "lead_digest", lead->key,
		    p.key, &cause);
		if (rc == 1) {
			digest_report(x, "%s: summary for %s (%s) already "
			    "queued", what, p.label, p.key);
			free(what);
			continue;
		}
		if (rc == -1 || digest_lead_collect(x, lead, &p, sum,
		    &cause) == -1) {
			digest_lead_sum_clear(sum);
			digest_failed(x, digest_store_fail(), what, cause);
			free(what);
			free(sum);
			return -1;
		}
		text = NULL;
		if (!digest_lead_empty(sum) || conf->digest.send_empty) {
			if ((text = digest_lead_text(x, sum, &cause)) == NULL) {
				digest_lead_sum_clear(sum);
				digest_failed(x, DIGEST_FAIL_CONFIG, what,
				    cause);
				free(what);
				continue;
			}
		}
		/* Nothing to send still records the period. */
		rc = digest_lead_queue(x, sum, text, &queued, &cause);
		free(text);
		if (rc == -1) {
			digest_lead_sum_clear(sum);
			digest_failed(x, digest_store_fail(), what, cause);
			free(what);
			free(sum);
			return -1;
		}
		if (rc == 1) {
			x->stats->periods++;
			x->stats->messages += queued;
			if (queued > 0)
				x->stats->items += (int64_t)sum->n;
			if (queued == 0)
				digest_report(x, "%s: summary for %s (%s): "
				    "nothing new, nothing sent", what, p.label,
				    p.key);
			else
				digest_report(x, "%s: summary for %s (%s): "
				    "queued %lld message%s, %zu enquir%s%s",
				    what, p.label, p.key, (long long)queued,
				    queued == 1 ? "" : "s", sum->n,
				    sum->n == 1 ? "y" : "ies",
				    sum->more > 0 ? " (more wait for the next)"
				    : "");
		} else
			digest_report(x, "%s: summary for %s (%s) already "
			    "queued", what, p.label, p.key);
		digest_lead_sum_clear(sum);
		free(what);
	}
	free(sum);
	return 0;
}

/* --- the run ------------------------------------------------------------ */

int
digest_run(const struct conf *conf, struct store *s,
    const unsigned char key[TOKEN_KEY_LEN], const struct digest_opts *opts,
    struct digest_stats *stats, enum digest_fail *fail, char **cause)
{
	struct digest_ctx	 x;
	struct digest_stats	 own;
	const struct conf_list	*list;
	size_t			 i;
	int			 rc = 0;

	memset(&x, 0, sizeof x);
	memset(&own, 0, sizeof own);
	x.conf = conf;
	x.store = s;
	x.key = key;
	x.opts = opts;
	x.stats = stats != NULL ? stats : &own;
	memset(x.stats, 0, sizeof *x.stats);
	buf_init(&x.causes, BUF_NOMAX);
	*fail = DIGEST_OK;

	if (opts->list != NULL && conf_list_find(conf, opts->list) == NULL) {
		*fail = DIGEST_FAIL_DATA;
		*cause = xprintf("no list \"%s\" in the configuration",
		    opts->list);
		buf_free(&x.causes);
		return -1;
	}
	if (opts->lists) {
		for (i = 0; i < conf->nlists && rc == 0; i++) {
			list = &conf->lists[i];
			if (opts->list != NULL &&
			    strcmp(opts->list, list->slug) != 0)
				continue;
			rc = digest_list_run(&x, list);
		}
	}
	if (opts->leads && rc == 0)
		rc = digest_leads_run(&x);
	template_free(x.lead_t);

	if (x.fail != DIGEST_OK) {
		*fail = x.fail;
		*cause = buf_detach(&x.causes, NULL);
		return -1;
	}
	buf_free(&x.causes);
	return 0;
}

/* --- previews ---------------------------------------------------------- */

int
digest_list_preview(const struct conf *conf, struct store *s,
    const unsigned char key[TOKEN_KEY_LEN], const char *slug,
    const struct store_subscriber *sub, const struct digest_opts *opts,
    struct buf *out, char **mail_from, struct newsletter_parts *parts,
    char **cause)
{
	const struct conf_list		*list;
	struct store_digest_member	 m;
	struct store_member		 sm;
	struct digest_list		*dl;
	struct period_rule		 r;
	struct period			 p;
	int64_t				 ids[DIGEST_MAX_ITEMS];
	size_t				 n;
	int				 rc;

	if ((list = conf_list_find(conf, slug)) == NULL) {
		*cause = xprintf("no list \"%s\" in the configuration", slug);
		return -1;
	}
	digest_rule(conf, list, &r);
	if (period_due(&r, opts->now, &p) == -1) {
		*cause = xprintf("list %s: cannot work out its digest period",
		    slug);
		return -1;
	}
	memset(&sm, 0, sizeof sm);
	if ((rc = store_member_get(s, sub->id, slug, &sm, cause)) != 1)
		return rc;
	memset(&m, 0, sizeof m);
	m.sub = *sub;
	m.digest_mode = strcmp(sm.mode, "digest") == 0;
	m.confirmed_at = sm.confirmed_at;
	rc = sm.status == STORE_MEMBER_CONFIRMED;
	store_member_clear(&sm);
	if (!rc)
		return 0;
	if (store_digest_held(s, slug, &m, (int64_t)p.end -
	    DIGEST_CATCHUP_MAX, (int64_t)p.end, ids, DIGEST_MAX_ITEMS, &n,
	    cause) == -1)
		return -1;
	if (n == 0)
		return 0;
	if ((dl = digest_list_open(conf, list, &p, key, cause)) == NULL)
		return -1;
	rc = digest_list_render(dl, s, sub, ids, n, opts->now, out, mail_from,
	    parts, cause);
	digest_list_free(dl);
	return rc == -1 ? -1 : 1;
}

int
digest_lead_preview(const struct conf *conf, struct store *s,
    const char *key, const struct digest_opts *opts, char **subject,
    char **text, char **cause)
{
	const struct conf_lead	*lead;
	struct digest_ctx	 x;
	struct digest_stats	 stats;
	struct digest_lead_sum	*sum;
	struct period		 p;
	int			 rc = -1;

	*subject = *text = NULL;
	if ((lead = conf_lead_find(conf, key)) == NULL) {
		*cause = xprintf("no lead \"%s\" in the configuration", key);
		return -1;
	}
	if (digest_lead_period(conf, opts->now, &p) == -1) {
		*cause = xstrdup("cannot work out the digest period");
		return -1;
	}
	memset(&x, 0, sizeof x);
	memset(&stats, 0, sizeof stats);
	x.conf = conf;
	x.store = s;
	x.opts = opts;
	x.stats = &stats;
	if ((x.lead_t = template_load(conf->general.templates,
	    "lead-digest.txt", cause)) == NULL)
		return -1;
	sum = xcalloc(1, sizeof *sum);
	if (digest_lead_collect(&x, lead, &p, sum, cause) == -1)
		goto out;
	rc = 0;
	if (digest_lead_empty(sum) && !conf->digest.send_empty)
		goto out;
	if ((*text = digest_lead_text(&x, sum, cause)) == NULL) {
		rc = -1;
		goto out;
	}
	*subject = digest_lead_subject(sum);
	rc = 1;
out:
	digest_lead_sum_clear(sum);
	free(sum);
	template_free(x.lead_t);
	return rc;
}
