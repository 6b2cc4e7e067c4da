/*
 * console-home.c - the dashboard (/) and what the configuration defines
 * (/lists): newsletters sending, scheduled and recent; today's enquiries
 * by lead; the outbox's health.  A lead's dashboard shows only their own
 * lead's enquiries.
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
#include "xmalloc.h"

#define CONSOLE_RECENT	5	/* finished newsletters on the dashboard */

struct console_home {
	struct web_req	*r;
	struct value	*sending, *scheduled, *recent;
	size_t		 nrecent;
	char		*cause;
};

static int
console_home_campaign(const struct store_campaign *c, void *arg)
{
	struct console_home		*h = arg;
	struct store_outbox_counts	 n;
	struct value			*o;
	int64_t				 done;

	switch (c->status) {
	case STORE_CAMPAIGN_SENDING:
	case STORE_CAMPAIGN_PAUSED:
		if (store_outbox_counts(h->r->store, c->id, h->r->now, &n,
		    &h->cause) != 0)
			return -1;
		o = console_campaign_row(h->r, c);
		done = n.state[STORE_OUTBOX_SENT] +
		    n.state[STORE_OUTBOX_FAILED] +
		    n.state[STORE_OUTBOX_SKIPPED];
		value_object_set(o, "sent",
		    value_new_int(n.state[STORE_OUTBOX_SENT]));
		value_object_set(o, "failed",
		    value_new_int(n.state[STORE_OUTBOX_FAILED]));
		value_object_set(o, "total", value_new_int(n.total));
		value_object_set(o, "left", value_new_int(n.total - done));
		value_object_set(o, "percent", value_new_int(n.total > 0 ?
		    done * 100 / n.total : 0));
		web_set(o, "paused_reason", c->paused_reason);
		value_list_append(h->sending, o);
		break;
	case STORE_CAMPAIGN_SCHEDULED:
		value_list_append(h->scheduled, console_campaign_row(h->r, c));
		break;
	case STORE_CAMPAIGN_SENT:
		if (h->nrecent++ < CONSOLE_RECENT)
			value_list_append(h->recent,
			    console_campaign_row(h->r, c));
		break;
	default:
		break;
	}
	return 0;
}

struct console_tally {
	const struct conf	*conf;
	int64_t			*n;	/* per lead, conf->leads order */
	int64_t			 other;	/* leads no longer configured */
};

static int
console_tally_enquiry(const struct store_enquiry *e, void *arg)
{
	struct console_tally	*t = arg;
	size_t			 i;

	for (i = 0; i < t->conf->nleads; i++) {
		if (strcmp(t->conf->leads[i].key, e->lead) == 0) {
			t->n[i]++;
			return 0;
		}
	}
	t->other++;
	return 0;
}

/* Today's enquiries by lead (a lead: their own only), into data. */
static int
console_home_enquiries(struct web_req *r, struct value *data, char **cause)
{
	struct console_tally	 t;
	struct value		*leads, *o;
	const char		*only = NULL;
	int64_t			 total = 0;
	size_t			 i;

	if (r->who->role == CONSOLE_LEAD)
		only = r->who->user.lead;
	t.conf = r->conf;
	t.n = xcalloc(r->conf->nleads + 1, sizeof *t.n);
	t.other = 0;
	if (store_enquiry_each(r->store, only, console_today(r),
	    console_tally_enquiry, &t, cause) != 0) {
		free(t.n);
		return -1;
	}
	leads = value_new_list();
	for (i = 0; i < r->conf->nleads; i++) {
		if (only != NULL && strcmp(only, r->conf->leads[i].key) != 0)
			continue;
		o = value_new_object();
		web_set(o, "key", r->conf->leads[i].key);
		web_set(o, "name", r->conf->leads[i].name);
		value_object_set(o, "count", value_new_int(t.n[i]));
		value_list_append(leads, o);
		total += t.n[i];
	}
	value_object_set(data, "leads", leads);
	value_object_set(data, "enquiries_today", value_new_int(total +
	    t.other));
	free(t.n);
	return 0;
}

/* The outbox: how much waits, has failed, is deferred. */
static int
console_home_outbox(struct web_req *r, struct value *data, char **cause)
{
	struct store_outbox_counts	 n;
	struct value			*o;

	if (store_outbox_unsent(r->store, &n, cause) != 0)
		return -1;
	o = value_new_object();
	value_object_set(o, "queued", value_new_int(
	    n.state[STORE_OUTBOX_QUEUED] + n.state[STORE_OUTBOX_SENDING]));
	value_object_set(o, "deferred",
	    value_new_int(n.state[STORE_OUTBOX_DEFERRED]));
	value_object_set(o, "failed",
	    value_new_int(n.state[STORE_OUTBOX_FAILED]));
	value_object_set(o, "healthy", value_new_bool(
	    n.state[STORE_OUTBOX_DEFERRED] == 0 &&
	    n.state[STORE_OUTBOX_FAILED] == 0));
	value_object_set(data, "outbox", o);
	return 0;
}

int
console_dashboard(struct web_req *r, const char *arg)
{
	struct console_home	 h;
	struct value		*data;

	(void)arg;
	memset(&h, 0, sizeof h);
	h.r = r;
	data = value_new_object();
	if (r->who->role != CONSOLE_LEAD) {
		h.sending = value_new_list();
		h.scheduled = value_new_list();
		h.recent = value_new_list();
		value_object_set(data, "sending", h.sending);
		value_object_set(data, "scheduled", h.scheduled);
		value_object_set(data, "recent", h.recent);
		if (store_campaign_each(r->store, NULL, console_home_campaign,
		    &h, &h.cause) != 0 ||
		    console_home_outbox(r, data, &h.cause) != 0)
			goto fail;
	}
	if (console_home_enquiries(r, data, &h.cause) != 0)
		goto fail;
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_DASHBOARD,
	    "Dashboard", data);
fail:
	value_free(data);
	return web_answer_busy(r, h.cause);
}

int
console_lists(struct web_req *r, const char *arg)
{
	struct value		*data, *lists, *leads, *o;
	const struct conf	*conf = r->conf;
	char			*cause = NULL;
	int64_t			 n;
	size_t			 i;

	(void)arg;
	data = value_new_object();
	lists = value_new_list();
	value_object_set(data, "lists", lists);
	for (i = 0; i < conf->nlists; i++) {
		if (store_members_count(r->store, conf->lists[i].slug, NULL,
		    &n, &cause) != 0) {
			value_free(data);
			return web_answer_busy(r, cause);
		}
		o = web_list_value(&conf->lists[i], NULL);
		value_object_set(o, "members", value_new_int(n));
		web_set(o, "from", conf->lists[i].from);
		value_list_append(lists, o);
	}
	leads = value_new_list();
	value_object_set(data, "leads", leads);
	for (i = 0; i < conf->nleads; i++) {
		o = value_new_object();
		web_set(o, "key", conf->leads[i].key);
		web_set(o, "name", conf->leads[i].name);
		value_object_set(o, "is_default", value_new_bool(strcmp(
		    conf->leads[i].key, conf->general.default_lead) == 0));
		value_list_append(leads, o);
	}
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_LISTS,
	    "Lists and leads", data);
}
