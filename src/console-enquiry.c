/*
 * console-enquiry.c - enquiries: /enquiries (?lead=, ?q= over sender,
 * name and subject, ?from= and ?to= days) and /enquiries/REFERENCE (who
 * sent it, where it went and why, in plain words).  A lead sees only the
 * enquiries routed to their own lead, whatever the URL asks for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "console-int.h"
#include "period.h"
#include "store.h"
#include "value.h"
#include "web-int.h"

#define CONSOLE_ENQUIRIES_SHOWN	200

struct console_enquiries {
	struct web_req	*r;
	struct value	*rows;
	size_t		 n;
};

static const char *
console_lead_name(struct web_req *r, const char *key)
{
	const struct conf_lead	*l;

	l = conf_lead_find(r->conf, key);
	return l != NULL ? l->name : key;
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
	return o;
}

static int
console_enquiries_one(const struct store_enquiry *e, void *arg)
{
	struct console_enquiries	*ce = arg;

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

int
console_enquiries(struct web_req *r, const char *arg)
{
	struct console_enquiries	 ce;
	struct store_enquiry_query	 eq;
	struct value			*data, *leads, *o;
	const char			*lead, *q, *from, *to;
	char				*cause = NULL;
	size_t				 i;
	int				 bad = 0;

	(void)arg;
	memset(&ce, 0, sizeof ce);
	memset(&eq, 0, sizeof eq);
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
	if (console_day(from, 0, &eq.since) != 0) {
		web_set(data, "from_error", "Enter the date as YYYY-MM-DD, "
		    "for example 2026-03-31");
		bad = 1;
	}
	if (console_day(to, 1, &eq.until) != 0) {
		web_set(data, "to_error", "Enter the date as YYYY-MM-DD, "
		    "for example 2026-03-31");
		bad = 1;
	}
	value_object_set(data, "has_errors", value_new_bool(bad));
	web_set(data, "q", q);
	web_set(data, "from", from);
	web_set(data, "to", to);
	leads = value_new_list();
	for (i = 0; i < r->conf->nleads; i++) {
		if (r->who->role == CONSOLE_LEAD &&
		    strcmp(r->conf->leads[i].key, lead) != 0)
			continue;
		o = value_new_object();
		web_set(o, "key", r->conf->leads[i].key);
		web_set(o, "name", r->conf->leads[i].name);
		value_object_set(o, "selected", value_new_bool(lead != NULL &&
		    strcmp(lead, r->conf->leads[i].key) == 0));
		value_list_append(leads, o);
	}
	value_object_set(data, "leads", leads);
	value_object_set(data, "is_lead", value_new_bool(r->who->role ==
	    CONSOLE_LEAD));
	ce.rows = value_new_list();
	value_object_set(data, "enquiries", ce.rows);
	eq.lead = lead;
	eq.text = q;
	if (store_enquiry_search(r->store, &eq, console_enquiries_one, &ce,
	    &cause) == -1) {
		value_free(data);
		return web_answer_busy(r, cause);
	}
	value_object_set(data, "none", value_new_bool(ce.n == 0));
	value_object_set(data, "more", value_new_bool(
	    ce.n > CONSOLE_ENQUIRIES_SHOWN));
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_ENQUIRIES,
	    "Enquiries", data);
}

int
console_enquiry(struct web_req *r, const char *arg)
{
	struct store_enquiry	 e;
	struct value		*data;
	char			*cause = NULL;
	int			 rc;

	memset(&e, 0, sizeof e);
	if (strlen(arg) > 64)
		return web_answer_not_found(r);
	if ((rc = store_enquiry_get(r->store, arg, &e, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	if (r->who->role == CONSOLE_LEAD &&
	    strcmp(e.lead, r->who->user.lead) != 0) {
		store_enquiry_clear(&e);
		return web_answer_error_link(r, WEB_HTTP_FORBIDDEN,
		    "This enquiry is not yours", "This enquiry was routed to "
		    "another lead, so it is not shown to you.", "enquiries",
		    "See your enquiries");
	}
	data = console_enquiry_value(r, &e);
	store_enquiry_clear(&e);
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_ENQUIRY,
	    "Enquiry", data);
}
