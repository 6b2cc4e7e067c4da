/*
 * console-campaign.c - newsletters: /campaigns (every campaign, newest
 * first) and /campaigns/ID (one: its state, its counts, its Markdown as
 * text, and its failures with the receiving server's reply).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "console-int.h"
#include "store.h"
#include "value.h"
#include "web-int.h"

#define CONSOLE_FAILURES_SHOWN	200

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
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_CAMPAIGNS,
	    "Newsletters", data);
}

struct console_failures {
	struct value	*rows;
	size_t		 n;
};

static int
console_failure_one(const struct store_campaign_failure *f, void *arg)
{
	struct console_failures	*cf = arg;
	struct value		*o;

	if (cf->n++ >= CONSOLE_FAILURES_SHOWN)
		return 0;
	o = value_new_object();
	web_set(o, "email", f->rcpt_to);
	if (f->code != 0)
		value_object_set(o, "code", value_new_int(f->code));
	web_set(o, "reply", f->reply[0] != '\0' ? f->reply :
	    "No reply: the server could not be reached.");
	value_list_append(cf->rows, o);
	return 0;
}

int
console_campaign(struct web_req *r, const char *arg)
{
	struct store_campaign		 c;
	struct store_outbox_counts	 n;
	struct console_failures		 cf;
	struct value			*data, *o;
	const struct conf_list		*l;
	char				*cause = NULL, when[64];
	int64_t				 id;
	int				 rc;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
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
	console_time(r, c.created_at, when, sizeof when);
	web_set(data, "created", when);
	console_time(r, c.scheduled_at, when, sizeof when);
	web_set(data, "scheduled", when);
	console_time(r, c.started_at, when, sizeof when);
	web_set(data, "started", when);
	console_time(r, c.finished_at, when, sizeof when);
	web_set(data, "finished", when);
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
	cf.rows = value_new_list();
	cf.n = 0;
	value_object_set(data, "failures", cf.rows);
	if (store_campaign_failures(r->store, c.id, console_failure_one, &cf,
	    &cause) < 0)
		goto fail;
	if (cf.n > CONSOLE_FAILURES_SHOWN)
		value_object_set(data, "more_failures",
		    value_new_int((int64_t)(cf.n - CONSOLE_FAILURES_SHOWN)));
	store_campaign_clear(&c);
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_CAMPAIGN,
	    "Newsletter", data);
fail:
	store_campaign_clear(&c);
	value_free(data);
	return web_answer_busy(r, cause);
}
