/*
 * console-campaign-act.c - what staff do to a newsletter from its page
 * (/campaigns/ID): send a test, schedule, send now (after a page that
 * asks, with the number of recipients), pause, resume, cancel,
 * unschedule, copy, delete, retry the failed, approve.  Each is a POST
 * to /campaigns/ID/ACTION, one route row each, and one call into
 * campaign.c, the same as the CLI's; what it refuses comes back on the
 * newsletter's page in its words.  Cancelling and deleting cannot be
 * undone, so their forms carry a box to tick.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaign.h"
#include "conf.h"
#include "console-int.h"
#include "period.h"
#include "store.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define ACT_TEST_MAX	10	/* addresses a test goes to at once */
#define ACT_TO_MAX	2000	/* bytes of the addresses field */

struct act {
	struct web_req		*r;
	int64_t			 id;
	enum campaign_fail	 fail;
	char			*cause;
	const char		*done;		/* ?done=KEY on its page */
	int64_t			 go_to;		/* another campaign's page */
	const char		*then;		/* or this page */
};

/* Refused: why, in words for the newsletter's page. */
static int
act_refuse(struct act *a, const char *why)
{
	a->fail = CAMPAIGN_FAIL_DATA;
	a->cause = xstrdup(why);
	return -1;
}

/* Was the box to confirm an irreversible step ticked? */
static int
act_confirmed(struct act *a)
{
	const char	*v = console_field(a->r, "confirm");

	return v != NULL && strcmp(v, "yes") == 0;
}

static int
act_test(struct act *a)
{
	const char	*to;
	char		*list, *p, *addr;
	int64_t		 row;
	int		 n = 0;

	to = console_field(a->r, "to");
	if (to == NULL || strspn(to, " \t\r\n,;") == strlen(to))
		to = a->r->who->user.email;
	if (strlen(to) > ACT_TO_MAX)
		return act_refuse(a, "Give at most 10 addresses for a test.");
	list = xstrdup(to);
	for (p = list; (addr = strsep(&p, " \t\r\n,;")) != NULL;) {
		if (*addr == '\0')
			continue;
		if (++n > ACT_TEST_MAX) {
			free(list);
			return act_refuse(a, "Give at most 10 addresses for "
			    "a test.");
		}
		if (campaign_test(a->r->conf, a->r->store, a->r->key, a->id,
		    addr, a->r->now, &row, &a->fail, &a->cause) != 0) {
			free(list);
			return -1;
		}
	}
	free(list);
	a->done = n == 1 ? "tested" : "tested-many";
	return 0;
}

/* "2026-12-24" and "09:30", the network's time: 0 with *at, else -1. */
static int
act_when(const char *date, const char *hm, int64_t *at)
{
	time_t	t;
	int	y, mo, d, h, mi;
	char	end;

	if (date == NULL || hm == NULL || period_day(date, 0, &t) != 0 ||
	    sscanf(date, "%4d-%2d-%2d", &y, &mo, &d) != 3 ||
	    sscanf(hm, "%2d:%2d%c", &h, &mi, &end) != 2 || strlen(hm) != 5 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59)
		return -1;
	if ((t = period_local(y, mo, d, h * 60 + mi)) == (time_t)-1)
		return -1;
	*at = (int64_t)t;
	return 0;
}

static int
act_schedule(struct act *a)
{
	struct campaign_sent	 sent;
	int64_t			 at;

	if (act_when(console_field(a->r, "date"), console_field(a->r,
	    "time"), &at) != 0)
		return act_refuse(a, "Give the date as YYYY-MM-DD (such as "
		    "2027-01-31) and the time as HH:MM on the 24-hour clock "
		    "(such as 09:30).");
	if (campaign_send(a->r->conf, a->r->store, a->id, at, a->r->now,
	    &sent, &a->fail, &a->cause) != 0)
		return -1;
	a->done = "scheduled";
	return 0;
}

/*
 * Send now, as confirmed on the page that asked: the number of
 * recipients it showed must still be the number (else it asks again).
 */
static int
act_send(struct act *a)
{
	struct campaign_plan	 plan;
	struct campaign_sent	 sent;
	const char		*said;
	char			 n[32];

	memset(&plan, 0, sizeof plan);
	if (campaign_plan(a->r->conf, a->r->store, a->id, 0, 1, a->r->now,
	    &plan, &a->fail, &a->cause) != 0)
		return -1;
	snprintf(n, sizeof n, "%lld", (long long)plan.recipients);
	campaign_plan_clear(&plan);
	said = console_field(a->r, "recipients");
	if (said == NULL || strcmp(said, n) != 0) {
		a->then = "send?changed=1";	/* ask again: the new number */
		return 0;
	}
	if (campaign_send_now(a->r->conf, a->r->store, a->id, a->r->now,
	    &sent, &a->fail, &a->cause) != 0)
		return -1;
	a->then = "progress";
	return 0;
}

static int
act_pause(struct act *a)
{
	a->done = "paused";
	return campaign_pause(a->r->store, a->id, "paused from the console",
	    a->r->now, &a->fail, &a->cause);
}

static int
act_resume(struct act *a)
{
	enum store_campaign_status	after;

	a->done = "resumed";
	return campaign_resume(a->r->store, a->id, a->r->now, &after,
	    &a->fail, &a->cause);
}

static int
act_cancel(struct act *a)
{
	int64_t	skipped;

	if (!act_confirmed(a))
		return act_refuse(a, "Tick the box to confirm that it is to "
		    "be cancelled: this cannot be undone.");
	a->done = "cancelled";
	return campaign_cancel(a->r->store, a->id, a->r->now, &skipped,
	    &a->fail, &a->cause);
}

static int
act_unschedule(struct act *a)
{
	int64_t	removed;

	a->done = "unscheduled";
	return campaign_unschedule(a->r->store, a->id, a->r->now, &removed,
	    &a->fail, &a->cause);
}

static int
act_copy(struct act *a)
{
	if (campaign_copy(a->r->store, a->id, a->r->who->actor, a->r->now,
	    &a->go_to, &a->fail, &a->cause) != 0)
		return -1;
	a->done = "copied";
	return 0;
}

static int
act_delete(struct act *a)
{
	if (!act_confirmed(a))
		return act_refuse(a, "Tick the box to confirm that the draft "
		    "is to be deleted: this cannot be undone.");
	if (campaign_delete(a->r->store, a->id, a->r->who->actor, a->r->now,
	    &a->fail, &a->cause) != 0)
		return -1;
	a->then = "list";
	return 0;
}

static int
act_retry(struct act *a)
{
	struct campaign_retried	 rt;
	const char		*v = console_field(a->r, "permanent");

	if (campaign_retry_failed(a->r->store, a->id, v != NULL &&
	    strcmp(v, "yes") == 0, a->r->now, &rt, &a->fail,
	    &a->cause) != 0)
		return -1;
	a->done = rt.requeued > 0 ? "retried" : "retried-none";
	return 0;
}

static int
act_approve(struct act *a)
{
	if (campaign_approve(a->r->conf, a->r->store, a->id,
	    console_field(a->r, "version"), a->r->who->actor, a->r->now,
	    &a->fail, &a->cause) != 0)
		return -1;
	a->done = "approved";
	return 0;
}

/* The actions, by the last segment of their route. */
static const struct {
	const char	*name;
	int		(*fn)(struct act *);
} acts[] = {
	{ "test", act_test },
	{ "schedule", act_schedule },
	{ "send", act_send },
	{ "pause", act_pause },
	{ "resume", act_resume },
	{ "cancel", act_cancel },
	{ "unschedule", act_unschedule },
	{ "copy", act_copy },
	{ "delete", act_delete },
	{ "retry", act_retry },
	{ "approve", act_approve },
};

int
console_campaign_act(struct web_req *r, const char *arg)
{
	struct act	 a;
	const char	*name;
	char		 url[96];
	size_t		 i;
	int		 ret;

	memset(&a, 0, sizeof a);
	a.r = r;
	if ((a.id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	name = strrchr(r->route, '/') + 1;
	for (i = 0; i < sizeof acts / sizeof acts[0]; i++) {
		if (strcmp(acts[i].name, name) == 0)
			break;
	}
	if (i == sizeof acts / sizeof acts[0])
		return web_answer_not_found(r);
	if (acts[i].fn(&a) != 0) {
		if (a.fail == CAMPAIGN_FAIL_STORE)
			return web_answer_busy(r, a.cause);
		if (a.fail == CAMPAIGN_FAIL_MISSING) {
			free(a.cause);
			return web_answer_not_found(r);
		}
		ret = console_campaign_show(r, a.id, WEB_HTTP_CONFLICT,
		    a.cause);
		free(a.cause);
		return ret;
	}
	if (a.then != NULL && strcmp(a.then, "list") == 0)
		snprintf(url, sizeof url, "/campaigns?done=deleted");
	else if (a.then != NULL)
		snprintf(url, sizeof url, "/campaigns/%lld/%s",
		    (long long)a.id, a.then);
	else if (a.go_to != 0)
		snprintf(url, sizeof url, "/campaigns/%lld/edit?copied=1",
		    (long long)a.go_to);
	else
		snprintf(url, sizeof url, "/campaigns/%lld?done=%s",
		    (long long)a.id, a.done);
	return web_answer_redirect(r, url);
}

/*
 * GET /campaigns/ID/send: the question before sending now - to how many
 * people, on which list, whether a test went out since the last edit.
 */
int
console_campaign_ask(struct web_req *r, const char *arg)
{
	struct campaign_plan	 plan;
	enum campaign_fail	 fail;
	struct value		*data;
	char			*cause = NULL, when[64];
	int64_t			 id;
	int			 ret;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	memset(&plan, 0, sizeof plan);
	if (campaign_plan(r->conf, r->store, id, 0, 1, r->now, &plan, &fail,
	    &cause) != 0) {
		if (fail == CAMPAIGN_FAIL_STORE)
			return web_answer_busy(r, cause);
		if (fail == CAMPAIGN_FAIL_MISSING) {
			free(cause);
			return web_answer_not_found(r);
		}
		ret = console_campaign_show(r, id, WEB_HTTP_CONFLICT, cause);
		free(cause);
		return ret;
	}
	data = value_new_object();
	value_object_set(data, "id", value_new_int(id));
	web_set(data, "subject", plan.subject);
	web_set(data, "list", plan.list_name);
	value_object_set(data, "recipients", value_new_int(plan.recipients));
	value_object_set(data, "one", value_new_bool(plan.recipients == 1));
	value_object_set(data, "changed", value_new_bool(web_query(r,
	    "changed") != NULL));
	if (plan.digest > 0)
		value_object_set(data, "digest", value_new_int(plan.digest));
	if (plan.tested_at > 0) {
		console_time(r, plan.tested_at, when, sizeof when);
		web_set(data, "tested", when);
	}
	if (plan.status == STORE_CAMPAIGN_SCHEDULED) {
		console_time(r, plan.scheduled_at, when, sizeof when);
		web_set(data, "scheduled", when);
	}
	campaign_plan_clear(&plan);
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_SEND,
	    "Send it now?", data);
}
