/*
 * console-enquiry.c - enquiries: /enquiries (?lead=, ?q= over sender,
 * name and subject, ?from= and ?to= days, ?unanswered=1) and
 * /enquiries/REFERENCE: who sent it, the message as text (never its
 * HTML), its attachments to download, where it went and why in plain
 * words, every re-route, the forward and acknowledgement and how their
 * delivery stands; and the forms that act on it, "Mark answered" (POST
 * .../answered) and "Re-route" (POST .../reroute), which call the same
 * core as "postroom enquiry answered|reroute" (enquiry-act.c).
 *
 * A lead sees and acts on only the enquiries routed to their own lead,
 * whatever the URL asks for: once they re-route one away, it is no
 * longer theirs.  Which roles may act at all is the route table's
 * (console.c): viewers may read, not act.
 *
 * Owns: what these pages show and the words they use.  Does not own:
 * the changes and their rules (enquiry-act.c), reading the message
 * (console-parse.c, in the confined parser child), the SQL (store-*.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "console-int.h"
#include "enquiry.h"
#include "message.h"
#include "mime-parse.h"
#include "period.h"
#include "store.h"
#include "user.h"
#include "utf8.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define CONSOLE_ENQUIRIES_SHOWN	200
/*
 * Bytes of a message's text shown in the page: escaped, at most six
 * times this, well inside a rendered page's cap (web.c).
 */
#define CONSOLE_TEXT_MAX	100000

struct console_enquiries {
	struct web_req	*r;
	struct value	*rows;
	char		*q;		/* folded, or NULL */
	int64_t		 until;		/* 0: no end */
	int		 unanswered;
	size_t		 n;
};

static const char *
console_lead_name(struct web_req *r, const char *key)
{
	const struct conf_lead	*l;

	l = conf_lead_find(r->conf, key);
	return l != NULL ? l->name : key;
}

/*
 * The configuration's leads for a <select>: only the one called only
 * (NULL: all), but not the one called except (NULL: none), the one
 * called selected marked so.
 */
static struct value *
console_lead_options(struct web_req *r, const char *only,
    const char *except, const char *selected)
{
	const struct conf_lead	*l;
	struct value		*list, *o;
	size_t			 i;

	list = value_new_list();
	for (i = 0; i < r->conf->nleads; i++) {
		l = &r->conf->leads[i];
		if ((only != NULL && strcmp(l->key, only) != 0) ||
		    (except != NULL && strcmp(l->key, except) == 0))
			continue;
		o = value_new_object();
		web_set(o, "key", l->key);
		web_set(o, "name", l->name);
		value_object_set(o, "selected", value_new_bool(selected !=
		    NULL && strcmp(selected, l->key) == 0));
		value_list_append(list, o);
	}
	return list;
}

/* An enquiry with what people read: the lead's name, times. */
static struct value *
console_enquiry_value(struct web_req *r, const struct store_enquiry *e)
{
	struct value	*o;
	char		 when[64];

	o = store_enquiry_value(e);
	web_set(o, "lead_name", console_lead_name(r, e->lead));
	console_time(r, e->received_at, when, sizeof when);
	web_set(o, "received", when);
	console_time(r, e->routed_at, when, sizeof when);
	web_set(o, "routed", when);
	console_time(r, e->answered_at, when, sizeof when);
	web_set(o, "answered_when", when);
	return o;
}

/* 1 when folded needle is in s (folded), case and accents aside. */
static int
console_has(const char *s, const char *needle)
{
	char	*f;
	int	 yes;

	f = utf8_fold(s, strlen(s));
	yes = strstr(f, needle) != NULL;
	free(f);
	return yes;
}

static int
console_enquiries_one(const struct store_enquiry *e, void *arg)
{
	struct console_enquiries	*ce = arg;

	if (ce->until != 0 && e->received_at >= ce->until)
		return 0;
	if (ce->unanswered && e->answered_at != 0)
		return 0;
	if (ce->q != NULL && !console_has(e->sender, ce->q) &&
	    !console_has(e->sender_name, ce->q) &&
	    !console_has(e->subject, ce->q) &&
	    !console_has(e->reference, ce->q))
		return 0;
	if (ce->n++ >= CONSOLE_ENQUIRIES_SHOWN)
		return 1;
	value_list_append(ce->rows, console_enquiry_value(ce->r, e));
	return 0;
}

/* A YYYY-MM-DD query argument (period_day()); absent: 0 with *t 0. */
static int
console_day(const char *s, int end, int64_t *t)
{
	time_t	x;

	*t = 0;
	if (s == NULL || *s == '\0')
		return 0;
	if (period_day(s, end, &x) == -1)
		return -1;
	*t = (int64_t)x;
	return 0;
}

/* What a POST that was done says on the page it leads to (?done=). */
static void
console_done(struct web_req *r, struct value *data, const char *lead)
{
	const char	*done = web_query(r, "done");
	char		*s;

	if (done == NULL)
		return;
	if (strcmp(done, "answered") == 0)
		web_set(data, "notice", "Marked as answered.");
	else if (strcmp(done, "unanswered") == 0)
		web_set(data, "notice", "Marked as not answered: it is "
		    "waiting for an answer again.");
	else if (strcmp(done, "rerouted") == 0 && lead != NULL) {
		s = xprintf("Re-routed: it is forwarded to %s.",
		    console_lead_name(r, lead));
		web_set(data, "notice", s);
		free(s);
	} else if (strcmp(done, "rerouted") == 0)
		web_set(data, "notice", "Re-routed: the enquiry is forwarded "
		    "to its new lead, and is no longer in your list.");
}

int
console_enquiries(struct web_req *r, const char *arg)
{
	struct console_enquiries	 ce;
	struct value			*data;
	const char			*lead, *q, *from, *to, *un;
	char				*cause = NULL;
	int64_t				 since = 0;
	int				 bad = 0;

	(void)arg;
	memset(&ce, 0, sizeof ce);
	ce.r = r;
	data = value_new_object();
	lead = web_query(r, "lead");
	if (r->who->role == CONSOLE_LEAD)
		lead = r->who->user.lead;
	else if (lead != NULL && (*lead == '\0' ||
	    conf_lead_find(r->conf, lead) == NULL))
		lead = NULL;
	q = web_query(r, "q");
	if (q != NULL && (*q == '\0' || strlen(q) > CONSOLE_QUERY_MAX))
		q = NULL;
	from = web_query(r, "from");
	to = web_query(r, "to");
	un = web_query(r, "unanswered");
	ce.unanswered = un != NULL && strcmp(un, "1") == 0;
	if (console_day(from, 0, &since) != 0) {
		web_set(data, "from_error", "Enter the date as YYYY-MM-DD, "
		    "for example 2026-03-31");
		bad = 1;
	}
	if (console_day(to, 1, &ce.until) != 0) {
		web_set(data, "to_error", "Enter the date as YYYY-MM-DD, "
		    "for example 2026-03-31");
		bad = 1;
	}
	value_object_set(data, "has_errors", value_new_bool(bad));
	web_set(data, "q", q);
	web_set(data, "from", from);
	web_set(data, "to", to);
	value_object_set(data, "unanswered", value_new_bool(ce.unanswered));
	console_done(r, data, NULL);
	value_object_set(data, "leads", console_lead_options(r,
	    r->who->role == CONSOLE_LEAD ? lead : NULL, NULL, lead));
	value_object_set(data, "is_lead", value_new_bool(r->who->role ==
	    CONSOLE_LEAD));
	ce.rows = value_new_list();
	value_object_set(data, "enquiries", ce.rows);
	ce.q = q != NULL ? utf8_fold(q, strlen(q)) : NULL;
	if (store_enquiry_each(r->store, lead, since, console_enquiries_one,
	    &ce, &cause) == -1) {
		free(ce.q);
		value_free(data);
		return web_answer_busy(r, cause);
	}
	free(ce.q);
	value_object_set(data, "none", value_new_bool(ce.n == 0));
	value_object_set(data, "more", value_new_bool(
	    ce.n > CONSOLE_ENQUIRIES_SHOWN));
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_ENQUIRIES,
	    "Enquiries", data);
}

/* --- one enquiry ---------------------------------------------------- */

/*
 * The enquiry the URL names (reference: the first n bytes of arg), if
 * this person may see it: 1 with *e, else 0 with the answer (404, 403,
 * 503) queued in *ret.
 */
static int
console_enquiry_load(struct web_req *r, const char *arg, size_t n,
    struct store_enquiry *e, int *ret)
{
	char	*ref, *cause = NULL;
	int	 rc;

	memset(e, 0, sizeof *e);
	if (n == 0 || n > 64) {
		*ret = web_answer_not_found(r);
		return 0;
	}
	ref = xstrndup(arg, n);
	rc = store_enquiry_get(r->store, ref, e, &cause);
	free(ref);
	if (rc == -1) {
		*ret = web_answer_busy(r, cause);
		return 0;
	}
	if (rc == 0) {
		*ret = web_answer_not_found(r);
		return 0;
	}
	if (r->who->role == CONSOLE_LEAD &&
	    strcmp(e->lead, r->who->user.lead) != 0) {
		store_enquiry_clear(e);
		*ret = web_answer_error_link(r, WEB_HTTP_FORBIDDEN,
		    "This enquiry is not yours", "This enquiry was routed to "
		    "another lead, so it is not shown to you.", "enquiries",
		    "See your enquiries");
		return 0;
	}
	return 1;
}

/* "12 bytes", "3.4 KB", "1.2 MB". */
static void
console_size(size_t n, char *out, size_t size)
{
	if (n < 1024)
		snprintf(out, size, "%zu byte%s", n, n == 1 ? "" : "s");
	else if (n < 1024 * 1024)
		snprintf(out, size, "%.1f KB", (double)n / 1024);
	else
		snprintf(out, size, "%.1f MB", (double)n / (1024 * 1024));
}

/*
 * The message, read in the parser child: its text (the text part, else
 * its HTML part turned into text, never the HTML), and its attachments.
 * Whatever goes wrong is said on the page; only the database failing is
 * -1.
 */
static int
console_enquiry_message(struct web_req *r, const struct store_enquiry *e,
    struct value *data, char **cause)
{
	struct message	*m = NULL;
	struct value	*list, *o;
	char		*raw, size[32], *s;
	size_t		 len, n, i;

	if (store_enquiry_raw(r->store, e->id, &raw, &len, cause) == -1)
		return -1;
	if (raw == NULL) {
		web_set(data, "text_gone", "The message is no longer kept "
		    "(it was erased at the sender's request).");
		return 0;
	}
	if (console_parse(r, raw, len, MIME_PARSE_NO_PART, &m, cause) == -1) {
		free(*cause);
		*cause = NULL;
	}
	free(raw);
	if (m->status == MESSAGE_FAILED) {
		/* The child's detail is for the log, where parser.c put it. */
		web_set(data, "text_gone", "postroom could not read this "
		    "message safely, so its text is not shown. The lead's "
		    "forward has it attached as it came.");
		message_free(m);
		return 0;
	}
	n = strlen(m->body_text);
	value_object_set(data, "text_html", value_new_bool(m->body_from_html));
	value_object_set(data, "text_limits", value_new_bool(m->status ==
	    MESSAGE_LIMITS));
	if (n > CONSOLE_TEXT_MAX) {
		n = utf8_truncate(m->body_text, n, CONSOLE_TEXT_MAX);
		value_object_set(data, "text_cut", value_new_bool(1));
	}
	if (n == 0)
		web_set(data, "text_gone", "The message has no text.");
	else
		value_object_set(data, "text", value_new_stringn(m->body_text,
		    n));

	list = value_new_list();
	for (i = 0; i < m->nattachments; i++) {
		o = value_new_object();
		web_set(o, "name", *m->attachments[i].filename != '\0' ?
		    m->attachments[i].filename : "(no name)");
		web_set(o, "type", m->attachments[i].type);
		console_size(m->attachments[i].size, size, sizeof size);
		web_set(o, "size", size);
		s = xprintf("%zu", i + 1);
		web_set(o, "n", s);
		free(s);
		value_list_append(list, o);
	}
	value_object_set(data, "attachments", list);
	message_free(m);
	return 0;
}

struct console_history {
	struct web_req	*r;
	struct value	*rows;
};

static int
console_enquiry_route(const struct store_enquiry_route *rt, void *arg)
{
	struct console_history	*h = arg;
	struct value		*o;
	char			 when[64], *by = NULL, *cause = NULL;

	o = value_new_object();
	console_time(h->r, rt->at, when, sizeof when);
	web_set(o, "when", when);
	web_set(o, "from", console_lead_name(h->r, rt->from_lead));
	web_set(o, "to", console_lead_name(h->r, rt->to_lead));
	if (user_actor_name(h->r->store, rt->actor, &by, &cause) == -1) {
		free(cause);
		by = xstrdup(rt->actor);
	}
	web_set(o, "by", by);
	free(by);
	web_set(o, "note", rt->note);
	value_list_append(h->rows, o);
	return 0;
}

/* A message about the enquiry and where its delivery stands, in words. */
static int
console_enquiry_delivery(const struct store_outbox_delivery *d, void *arg)
{
	struct console_history	*h = arg;
	struct value		*o;
	char			 when[64], *s;

	o = value_new_object();
	web_set(o, "what", d->kind == STORE_OUTBOX_FORWARD ? "Forward to "
	    "the lead" : d->kind == STORE_OUTBOX_ACK ? "Acknowledgement to "
	    "the enquirer" : store_outbox_kind_name(d->kind));
	web_set(o, "to", d->rcpt_to);
	console_time(h->r, d->created_at, when, sizeof when);
	web_set(o, "queued", when);
	switch (d->state) {
	case STORE_OUTBOX_QUEUED:
		s = xstrdup("Waiting to be sent");
		break;
	case STORE_OUTBOX_SENDING:
		s = xstrdup("Being sent now");
		break;
	case STORE_OUTBOX_SENT:
		console_time(h->r, d->sent_at, when, sizeof when);
		s = xprintf("Sent %s", when);
		break;
	case STORE_OUTBOX_DEFERRED:
		console_time(h->r, d->next_attempt_at, when, sizeof when);
		s = xprintf("Not delivered yet (%d attempt%s): trying again "
		    "at %s", d->attempts, d->attempts == 1 ? "" : "s", when);
		break;
	case STORE_OUTBOX_FAILED:
		s = xprintf("Failed after %d attempt%s: the receiving "
		    "server refused it", d->attempts, d->attempts == 1 ? "" :
		    "s");
		break;
	default:
		s = xstrdup("Not sent");
		break;
	}
	web_set(o, "state", s);
	free(s);
	/* The receiving server's own words, when it did not take it. */
	if (d->state != STORE_OUTBOX_SENT &&
	    (d->last_code != 0 || *d->last_reply != '\0')) {
		s = d->last_code != 0 ? xprintf("%d %s", d->last_code,
		    d->last_reply) : xstrdup(d->last_reply);
		web_set(o, "reply", s);
		free(s);
	}
	value_list_append(h->rows, o);
	return 0;
}

/* Staff who edit, and a lead on their own enquiry, may act on it. */
static int
console_may_act(struct web_req *r)
{
	return (r->who->role & (CONSOLE_ADMIN | CONSOLE_EDITOR |
	    CONSOLE_LEAD)) != 0;
}

/*
 * The enquiry's page, with form (consumed; NULL for none): what a
 * re-route form sent back with its errors.
 */
static int
console_enquiry_page(struct web_req *r, const struct store_enquiry *e,
    unsigned int status, struct value *form)
{
	struct console_history	 h;
	struct value		*data;
	const char		*chosen = NULL;
	char			*cause = NULL, *by = NULL, *title;
	int			 ret;

	data = console_enquiry_value(r, e);
	if (form != NULL) {
		value_object_set(data, "form", form);
		chosen = value_string(value_object_get(form, "lead"), NULL);
	}
	value_object_set(data, "acked", value_new_bool(strcmp(e->ack,
	    "queued") == 0));
	if (e->answered_at != 0) {
		if (user_actor_name(r->store, e->answered_by, &by,
		    &cause) == -1)
			goto fail;
		web_set(data, "answered_by_name", by);
		free(by);
	}
	if (form == NULL)
		console_done(r, data, e->lead);
	if (console_enquiry_message(r, e, data, &cause) == -1)
		goto fail;

	h.r = r;
	h.rows = value_new_list();
	value_object_set(data, "history", h.rows);
	if (store_enquiry_routes(r->store, e->id, console_enquiry_route, &h,
	    &cause) == -1)
		goto fail;
	h.rows = value_new_list();
	value_object_set(data, "deliveries", h.rows);
	if (store_outbox_enquiry_each(r->store, e->id,
	    console_enquiry_delivery, &h, &cause) == -1)
		goto fail;

	value_object_set(data, "may_act", value_new_bool(console_may_act(r)));
	value_object_set(data, "leads", console_lead_options(r, NULL,
	    e->lead, chosen));
	title = xprintf("Enquiry %s", e->reference);
	ret = console_answer_page(r, status, CONSOLE_PAGE_ENQUIRY, title,
	    data);
	free(title);
	return ret;

fail:
	value_free(data);
	return web_answer_busy(r, cause);
}

int
console_enquiry(struct web_req *r, const char *arg)
{
	struct store_enquiry	 e;
	int			 ret;

	if (!console_enquiry_load(r, arg, strlen(arg), &e, &ret))
		return ret;
	ret = console_enquiry_page(r, &e, WEB_HTTP_OK, NULL);
	store_enquiry_clear(&e);
	return ret;
}

/* /enquiries/REF/ACTION: the enquiry, for a POST this person may make. */
static int
console_enquiry_post(struct web_req *r, const char *arg,
    struct store_enquiry *e, int *ret)
{
	return console_enquiry_load(r, arg, strcspn(arg, "/"), e, ret);
}

/* 303 to the enquiry's page saying what was done. */
static int
console_enquiry_done(struct web_req *r, const char *reference,
    const char *done)
{
	char	*url;
	int	 ret;

	url = xprintf("/enquiries/%s?done=%s", reference, done);
	ret = web_answer_redirect(r, url);
	free(url);
	return ret;
}

int
console_enquiry_answered(struct web_req *r, const char *arg)
{
	struct store_enquiry	 e;
	const char		*v;
	char			*cause = NULL;
	int			 ret, rc, yes;

	if (!console_enquiry_post(r, arg, &e, &ret))
		return ret;
	v = console_field(r, "answered");
	if (v == NULL || (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)) {
		store_enquiry_clear(&e);
		return web_answer_error_link(r, WEB_HTTP_BAD_REQUEST,
		    "This form was not sent as it should be", "Use the "
		    "buttons on the enquiry's page.", "enquiries",
		    "See the enquiries");
	}
	yes = strcmp(v, "yes") == 0;
	rc = enquiry_answered(r->store, e.reference, yes, r->who->actor,
	    (int64_t)r->now, &cause);
	if (rc == -1) {
		store_enquiry_clear(&e);
		return web_answer_busy(r, cause);
	}
	if (rc == 0) {
		/* Gone since the page was loaded. */
		free(cause);
		store_enquiry_clear(&e);
		return web_answer_not_found(r);
	}
	ret = console_enquiry_done(r, e.reference, yes ? "answered" :
	    "unanswered");
	store_enquiry_clear(&e);
	return ret;
}

int
console_enquiry_reroute(struct web_req *r, const char *arg)
{
	struct store_enquiry	 e;
	struct value		*form;
	const char		*lead, *note, *why;
	char			*cause = NULL;
	int			 ret, rc, away;

	if (!console_enquiry_post(r, arg, &e, &ret))
		return ret;
	lead = console_field(r, "lead");
	note = console_field(r, "note");
	form = value_new_object();
	web_set(form, "lead", lead);
	web_set(form, "note", note);
	if (lead == NULL || *lead == '\0') {
		web_set(form, "lead_error", "Choose the lead to send it to");
		goto again;
	}
	if ((why = enquiry_note_refused(note)) != NULL) {
		web_set(form, "note_error", why);
		goto again;
	}
	away = r->who->role == CONSOLE_LEAD;
	rc = enquiry_reroute(r->conf, r->store, e.reference, lead, note,
	    r->who->actor, (int64_t)r->now, &cause);
	if (rc == -1) {
		value_free(form);
		store_enquiry_clear(&e);
		return web_answer_busy(r, cause);
	}
	if (rc == 0) {
		/* No such lead, the lead it has: said next to the choice. */
		web_set(form, "lead_error", cause);
		free(cause);
		goto again;
	}
	value_free(form);
	/* A lead who sends it away can no longer open it. */
	ret = away ? web_answer_redirect(r, "/enquiries?done=rerouted") :
	    console_enquiry_done(r, e.reference, "rerouted");
	store_enquiry_clear(&e);
	return ret;

again:
	value_object_set(form, "has_errors", value_new_bool(1));
	ret = console_enquiry_page(r, &e, WEB_HTTP_BAD_REQUEST, form);
	store_enquiry_clear(&e);
	return ret;
}

int
console_enquiry_attachment(struct web_req *r, const char *arg)
{
	struct store_enquiry	 e;
	struct message		*m = NULL;
	const char		*slash;
	char			*raw, *cause = NULL, *name;
	size_t			 len;
	int64_t			 n;
	int			 ret;

	/* arg: REFERENCE/attachments/N, N counted from 1 as on the page. */
	if ((slash = strrchr(arg, '/')) == NULL ||
	    (n = console_id(slash + 1)) == 0)
		return web_answer_not_found(r);
	if (!console_enquiry_load(r, arg, strcspn(arg, "/"), &e, &ret))
		return ret;
	if (store_enquiry_raw(r->store, e.id, &raw, &len, &cause) == -1) {
		store_enquiry_clear(&e);
		return web_answer_busy(r, cause);
	}
	store_enquiry_clear(&e);
	if (raw == NULL)
		return web_answer_not_found(r);
	if (console_parse(r, raw, len, (size_t)n - 1, &m, &cause) == -1)
		free(cause);
	free(raw);
	if (m->status == MESSAGE_FAILED || (size_t)n > m->nattachments ||
	    m->attachments[n - 1].data == NULL) {
		message_free(m);
		return web_answer_not_found(r);
	}
	name = *m->attachments[n - 1].filename != '\0' ?
	    xstrdup(m->attachments[n - 1].filename) :
	    xprintf("attachment-%lld", (long long)n);
	ret = web_answer_download(r, m->attachments[n - 1].data,
	    m->attachments[n - 1].size, name);
	free(name);
	message_free(m);
	return ret;
}
