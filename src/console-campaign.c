/*
 * console-campaign.c - newsletters: /campaigns (every campaign, newest
 * first); /campaigns/ID (one: its state, its counts, what can be done to
 * it now, its preview as any subscriber, its Markdown as text, and its
 * failures with the receiving server's reply in plain words);
 * /campaigns/ID/progress (its sending, live: the page reloads itself
 * without JavaScript, and with it /console.js reads progress.json); and
 * /campaigns/ID/failures.csv.  The actions are console-campaign-act.c's.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "conf.h"
#include "csv.h"
#include "form.h"
#include "json.h"
#include "progress.h"
#include "console-int.h"
#include "smtp-explain.h"
#include "store.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define CONSOLE_FAILURES_SHOWN	200
#define CONSOLE_RATE_WINDOW	60	/* seconds the sending rate is over */
#define CONSOLE_PROGRESS_EVERY	5	/* seconds between reloads */

/* What ?done=KEY says on a newsletter's page after an action. */
static const struct {
	const char	*key;
	const char	*words;
} console_done[] = {
	{ "tested", "A test copy is on its way." },
	{ "tested-many", "Test copies are on their way." },
	{ "scheduled", "The newsletter is scheduled." },
	{ "paused", "Sending is paused." },
	{ "resumed", "Sending has resumed." },
	{ "cancelled", "The newsletter is cancelled: nobody else will be "
	    "sent it." },
	{ "unscheduled", "The newsletter is a draft again: nobody will be "
	    "sent it until it is scheduled or sent." },
	{ "retried", "The failed recipients will be tried again." },
	{ "retried-none", "There was nobody worth trying again: every "
	    "failure was refused for good. Tick the box to try those "
	    "too." },
	{ "approved", "The newsletter is approved as it stands: an edit "
	    "withdraws the approval." },
	{ "deleted", "The draft is deleted." },
};

static const char *
console_done_words(const char *key)
{
	size_t	i;

	for (i = 0; key != NULL && i < sizeof console_done /
	    sizeof console_done[0]; i++) {
		if (strcmp(console_done[i].key, key) == 0)
			return console_done[i].words;
	}
	return NULL;
}

struct console_campaigns {
	struct web_req	*r;
	struct value	*rows;
};

struct value *
console_campaign_row(struct web_req *r, const struct store_campaign *c)
{
	struct value		*o;
	const struct conf_list	*l;
	char			 when[64];

	o = value_new_object();
	value_object_set(o, "id", value_new_int(c->id));
	web_set(o, "subject", c->subject);
	l = conf_list_find(r->conf, c->list);
	web_set(o, "list", l != NULL ? l->name : c->list);
	web_set(o, "status", store_campaign_status_name(c->status));
	console_time(r, c->status == STORE_CAMPAIGN_SCHEDULED ?
	    c->scheduled_at : c->finished_at > 0 ? c->finished_at :
	    c->started_at > 0 ? c->started_at : c->updated_at, when,
	    sizeof when);
	web_set(o, "when", when);
	return o;
}

static int
console_campaigns_one(const struct store_campaign *c, void *arg)
{
	struct console_campaigns	*cc = arg;

	value_list_append(cc->rows, console_campaign_row(cc->r, c));
	return 0;
}

int
console_campaigns(struct web_req *r, const char *arg)
{
	struct console_campaigns	 cc;
	struct value			*data;
	char				*cause = NULL;

	(void)arg;
	data = value_new_object();
	cc.r = r;
	cc.rows = value_new_list();
	value_object_set(data, "campaigns", cc.rows);
	if (store_campaign_each(r->store, NULL, console_campaigns_one, &cc,
	    &cause) != 0) {
		value_free(data);
		return web_answer_busy(r, cause);
	}
	value_object_set(data, "none", value_new_bool(
	    value_list_len(cc.rows) == 0));
	web_set(data, "notice", console_done_words(web_query(r, "done")));
	value_object_set(data, "editor", value_new_bool(r->who->role &
	    (CONSOLE_ADMIN | CONSOLE_EDITOR)));
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_CAMPAIGNS,
	    "Newsletters", data);
}

struct console_failures {
	struct value	*rows;
	size_t		 n;
	struct buf	*csv;		/* failures.csv: every one */
};

static int
console_failure_one(const struct store_campaign_failure *f, void *arg)
{
	struct console_failures	*cf = arg;
	struct value		*o;
	char			 code[16];

	if (cf->csv != NULL) {
		snprintf(code, sizeof code, "%d", f->code);
		if (csv_write_cell(cf->csv, f->rcpt_to,
		    strlen(f->rcpt_to)) != 0 || buf_addc(cf->csv, ',') != 0 ||
		    csv_write_cell(cf->csv, code, f->code != 0 ?
		    strlen(code) : 0) != 0 || buf_addc(cf->csv, ',') != 0 ||
		    csv_write_cell(cf->csv, f->reply, strlen(f->reply)) != 0 ||
		    buf_addc(cf->csv, ',') != 0 ||
		    csv_write_cell(cf->csv, smtp_explain(f->code, f->reply),
		    strlen(smtp_explain(f->code, f->reply))) != 0 ||
		    buf_add(cf->csv, "\r\n", 2) != 0)
			return 1;
		return 0;
	}
	if (cf->n++ >= CONSOLE_FAILURES_SHOWN)
		return 0;
	o = value_new_object();
	web_set(o, "email", f->rcpt_to);
	if (f->code != 0)
		value_object_set(o, "code", value_new_int(f->code));
	web_set(o, "reply", f->reply[0] != '\0' ? f->reply :
	    "No reply: the server could not be reached.");
	web_set(o, "explained", smtp_explain(f->code, f->reply));
	value_list_append(cf->rows, o);
	return 0;
}

/* What may be done to a campaign in its status, as flags for its page. */
static void
console_campaign_can(struct web_req *r, const struct store_campaign *c,
    int64_t failed, struct value *data)
{
	static const struct {
		const char	*name;
		unsigned int	 when;	/* 1 << status */
	} can[] = {
		{ "can_edit", 1 << STORE_CAMPAIGN_DRAFT },
		{ "can_test", 0x3f },
		{ "can_schedule", 1 << STORE_CAMPAIGN_DRAFT },
		{ "can_send", 1 << STORE_CAMPAIGN_DRAFT |
		    1 << STORE_CAMPAIGN_SCHEDULED },
		{ "can_unschedule", 1 << STORE_CAMPAIGN_SCHEDULED },
		{ "can_pause", 1 << STORE_CAMPAIGN_SENDING },
		{ "can_resume", 1 << STORE_CAMPAIGN_PAUSED },
		{ "can_cancel", 1 << STORE_CAMPAIGN_DRAFT |
		    1 << STORE_CAMPAIGN_SCHEDULED |
		    1 << STORE_CAMPAIGN_SENDING | 1 << STORE_CAMPAIGN_PAUSED },
		{ "can_copy", 0x3f },
		{ "can_delete", 1 << STORE_CAMPAIGN_DRAFT },
		{ "can_progress", 1 << STORE_CAMPAIGN_SENDING |
		    1 << STORE_CAMPAIGN_PAUSED | 1 << STORE_CAMPAIGN_SENT |
		    1 << STORE_CAMPAIGN_CANCELLED },
	};
	size_t	i;
	char	version[CAMPAIGN_VERSION_LEN + 1];

	if (!(r->who->role & (CONSOLE_ADMIN | CONSOLE_EDITOR)))
		return;
	value_object_set(data, "editor", value_new_bool(1));
	for (i = 0; i < sizeof can / sizeof can[0]; i++) {
		if (can[i].when & 1u << c->status)
			value_object_set(data, can[i].name,
			    value_new_bool(1));
	}
	if (failed > 0 && (c->status == STORE_CAMPAIGN_SENT ||
	    c->status == STORE_CAMPAIGN_SENDING ||
	    c->status == STORE_CAMPAIGN_PAUSED))
		value_object_set(data, "can_retry", value_new_bool(1));
	if (r->conf->console.send_approval &&
	    c->status == STORE_CAMPAIGN_DRAFT) {
		value_object_set(data, "approval", value_new_bool(1));
		if (c->approved_by[0] == '\0' &&
		    strcmp(c->edited_by, r->who->actor) != 0) {
			campaign_version(c, version);
			web_set(data, "version", version);
			value_object_set(data, "can_approve",
			    value_new_bool(1));
		}
	}
	web_set(data, "test_to", r->who->user.email);
}

int
console_campaign_show(struct web_req *r, int64_t id, unsigned int status,
    const char *error)
{
	struct store_campaign		 c;
	struct store_outbox_counts	 n;
	struct console_failures		 cf;
	struct value			*data, *o;
	const struct conf_list		*l;
	const char			*as;
	char				*cause = NULL, when[64], *q;
	int				 rc;

	if ((rc = store_campaign_get(r->store, id, &c, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	data = value_new_object();
	value_object_set(data, "id", value_new_int(c.id));
	web_set(data, "subject", c.subject);
	l = conf_list_find(r->conf, c.list);
	web_set(data, "list", l != NULL ? l->name : c.list);
	web_set(data, "template", c.template);
	web_set(data, "status", store_campaign_status_name(c.status));
	web_set(data, "body", c.body);
	web_set(data, "paused_reason", c.paused_reason);
	web_set(data, "error", error);
	web_set(data, "notice", console_done_words(web_query(r, "done")));
	console_time(r, c.created_at, when, sizeof when);
	web_set(data, "created", when);
	console_time(r, c.scheduled_at, when, sizeof when);
	web_set(data, "scheduled", when);
	console_time(r, c.started_at, when, sizeof when);
	web_set(data, "started", when);
	console_time(r, c.finished_at, when, sizeof when);
	web_set(data, "finished", when);
	console_time(r, c.tested_at, when, sizeof when);
	web_set(data, "tested", when);
	console_time(r, c.approved_at, when, sizeof when);
	web_set(data, "approved", when);
	as = web_query(r, "as");
	if (as != NULL && *as != '\0' && strlen(as) <= CONSOLE_QUERY_MAX) {
		web_set(data, "as", as);
		q = form_encode(as);
		web_set(data, "as_q", q);
		free(q);
	}
	if (store_outbox_counts(r->store, c.id, r->now, &n, &cause) != 0)
		goto fail;
	o = value_new_object();
	value_object_set(o, "total", value_new_int(n.total));
	value_object_set(o, "sent", value_new_int(n.state[STORE_OUTBOX_SENT]));
	value_object_set(o, "waiting", value_new_int(
	    n.state[STORE_OUTBOX_QUEUED] + n.state[STORE_OUTBOX_SENDING] +
	    n.state[STORE_OUTBOX_DEFERRED]));
	value_object_set(o, "failed",
	    value_new_int(n.state[STORE_OUTBOX_FAILED]));
	value_object_set(o, "skipped",
	    value_new_int(n.state[STORE_OUTBOX_SKIPPED]));
	value_object_set(data, "counts", o);
	console_campaign_can(r, &c, n.state[STORE_OUTBOX_FAILED], data);
	memset(&cf, 0, sizeof cf);
	cf.rows = value_new_list();
	value_object_set(data, "failures", cf.rows);
	if (store_campaign_failures(r->store, c.id, console_failure_one, &cf,
	    &cause) < 0)
		goto fail;
	if (cf.n > CONSOLE_FAILURES_SHOWN)
		value_object_set(data, "more_failures",
		    value_new_int((int64_t)(cf.n - CONSOLE_FAILURES_SHOWN)));
	store_campaign_clear(&c);
	return console_answer_page(r, status, CONSOLE_PAGE_CAMPAIGN,
	    "Newsletter", data);
fail:
	store_campaign_clear(&c);
	value_free(data);
	return web_answer_busy(r, cause);
}

int
console_campaign(struct web_req *r, const char *arg)
{
	int64_t	id;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	return console_campaign_show(r, id, WEB_HTTP_OK, NULL);
}

/* GET /campaigns/ID/failures.csv: every failure, for a spreadsheet. */
int
console_campaign_failures(struct web_req *r, const char *arg)
{
	struct console_failures	 cf;
	struct buf		 csv;
	char			*cause = NULL, name[64];
	int64_t			 id;
	int			 rc, ret;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	buf_init(&csv, 0);
	buf_add(&csv, "address,code,reply,meaning\r\n", 28);
	memset(&cf, 0, sizeof cf);
	cf.csv = &csv;
	if ((rc = store_campaign_failures(r->store, id, console_failure_one,
	    &cf, &cause)) < 0) {
		buf_free(&csv);
		return web_answer_busy(r, cause);
	}
	snprintf(name, sizeof name, "newsletter-%lld-failures.csv",
	    (long long)id);
	store_event(r->store, "campaign.failures-export", name + 11, NULL);
	ret = web_answer_file(r, "text/csv; charset=utf-8", csv.data,
	    csv.len, name);
	buf_free(&csv);
	return ret;
}

/* --- progress ------------------------------------------------------------ */

/*
 * Campaign id's progress now, as progress.json and the page give it:
 * counts, the rate over the last minute, the time left at that rate.
 * 1, 0 when there is no such campaign, -1.
 */
static int
console_progress_value(struct web_req *r, int64_t id, struct value **out,
    char **cause)
{
	struct progress_look {
		struct store_campaign		c;
		struct store_outbox_counts	n;
	} p;
	struct value	*o;
	int64_t		 recent, left, done;
	char		 buf[64];
	int		 rc;

	if ((rc = store_campaign_get(r->store, id, &p.c, cause)) != 1)
		return rc;
	if (store_outbox_counts(r->store, id, r->now, &p.n, cause) != 0 ||
	    store_campaign_sent_since(r->store, id, r->now -
	    CONSOLE_RATE_WINDOW, &recent, cause) != 0) {
		store_campaign_clear(&p.c);
		return -1;
	}
	o = value_new_object();
	value_object_set(o, "id", value_new_int(id));
	web_set(o, "subject", p.c.subject);
	web_set(o, "status", store_campaign_status_name(p.c.status));
	left = p.n.state[STORE_OUTBOX_QUEUED] +
	    p.n.state[STORE_OUTBOX_SENDING] + p.n.state[STORE_OUTBOX_DEFERRED];
	done = p.n.total - left;
	value_object_set(o, "total", value_new_int(p.n.total));
	value_object_set(o, "done", value_new_int(done));
	value_object_set(o, "sent", value_new_int(p.n.state[STORE_OUTBOX_SENT]));
	value_object_set(o, "failed",
	    value_new_int(p.n.state[STORE_OUTBOX_FAILED]));
	value_object_set(o, "skipped",
	    value_new_int(p.n.state[STORE_OUTBOX_SKIPPED]));
	value_object_set(o, "deferred",
	    value_new_int(p.n.state[STORE_OUTBOX_DEFERRED]));
	value_object_set(o, "left", value_new_int(left));
	value_object_set(o, "percent", value_new_int(p.n.total > 0 ?
	    done * 100 / p.n.total : 100));
	snprintf(buf, sizeof buf, "%lld a minute", (long long)recent);
	web_set(o, "rate", buf);
	if (p.c.status == STORE_CAMPAIGN_SENDING && left > 0 && recent > 0) {
		progress_duration(left * CONSOLE_RATE_WINDOW / recent, buf,
		    sizeof buf);
		web_set(o, "time_left", buf);
	}
	value_object_set(o, "finished", value_new_bool(
	    p.c.status != STORE_CAMPAIGN_SENDING &&
	    p.c.status != STORE_CAMPAIGN_SCHEDULED));
	store_campaign_clear(&p.c);
	*out = o;
	return 1;
}

int
console_campaign_progress(struct web_req *r, const char *arg)
{
	struct value	*data;
	char		*cause = NULL;
	int64_t		 id;
	int		 rc;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	if ((rc = console_progress_value(r, id, &data, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	if (!value_bool(value_object_get(data, "finished")))
		value_object_set(data, "refresh",
		    value_new_int(CONSOLE_PROGRESS_EVERY));
	value_object_set(data, "script", value_new_bool(1));
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_PROGRESS,
	    "Sending", data);
}

int
console_campaign_progress_json(struct web_req *r, const char *arg)
{
	struct value	*data;
	char		*cause = NULL, *json;
	int64_t		 id;
	int		 rc, ret;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	if ((rc = console_progress_value(r, id, &data, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	json = json_write(data, 0);
	value_free(data);
	ret = web_answer_body(r, WEB_HTTP_OK,
	    "application/json; charset=utf-8", json, strlen(json));
	free(json);
	return ret;
}
