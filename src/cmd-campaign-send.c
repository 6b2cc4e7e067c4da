/*
 * cmd-campaign-send.c - "postroom campaign send|unschedule|status|pause|
 * resume|cancel|retry-failed|failures": sending a campaign, asking first,
 * watching it go, steering it.
 *
 * Owns: these subcommands' messages and exit codes (cmd-campaign.c's head
 * comment lists them with the others), the question before a send and
 * the --wait display.  Does not own: the rules (campaign.c), the
 * progress arithmetic (progress.c), the arguments (cmd-campaign.c parses
 * them into struct camp_opts).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "cmd.h"
#include "cmd-campaign.h"
#include "conf.h"
#include "period.h"
#include "progress.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

/* --- sending and steering (campaign.c does the moving) -------------------- */

/* Watch a campaign until it finishes; the exit code of --wait. */
static int
cmd_campaign_wait(struct store *s, int64_t id)
{
	struct store_campaign		c;
	enum store_campaign_status	status;
	char				*cause = NULL;
	int				interrupted;

	if (progress_wait(s, id, stdout, &status, &interrupted,
	    &cause) == -1)
		return cmd_store_fail(s, cause);
	if (interrupted) {
		fprintf(stderr, "postroom: stopped watching; campaign %" PRId64
		    " goes on (postroom campaign status %" PRId64 ")\n", id,
		    id);
		return 130;
	}
	switch (status) {
	case STORE_CAMPAIGN_SENT:
		return EX_OK;
	case STORE_CAMPAIGN_PAUSED:
		memset(&c, 0, sizeof c);
		if (store_campaign_get(s, id, &c, &cause) == 1) {
			fprintf(stderr, "postroom: campaign %" PRId64 " is "
			    "paused: ", id);
			cmd_put_safe(stderr, c.paused_reason);
			fprintf(stderr, "\npostroom: see \"postroom campaign "
			    "failures %" PRId64 "\", then \"postroom campaign "
			    "resume %" PRId64 "\"\n", id, id);
			store_campaign_clear(&c);
		} else
			free(cause);
		return 1;
	case STORE_CAMPAIGN_CANCELLED:
		fprintf(stderr, "postroom: campaign %" PRId64 " was cancelled"
		    "\n", id);
		return 2;
	default:
		fprintf(stderr, "postroom: campaign %" PRId64 " is %s\n", id,
		    store_campaign_status_name(status));
		return 1;
	}
}

/* "1 person", "2 people". */
static const char *
cmd_campaign_people(int64_t n)
{
	return n == 1 ? "person" : "people";
}

/*
 * Say what a send would do and ask, on the terminal (stdin), whether to
 * go on: 1 yes, 0 anything else (the default, and end of input).
 */
static int
cmd_campaign_ask(int64_t id, const struct conf *conf,
    const struct campaign_plan *p, int64_t scheduled_at)
{
	char	 when[64];

	if (p->tested_at == 0)
		fprintf(stderr, "No test copy of campaign %" PRId64 " has been "
		    "sent since it was last changed (postroom campaign test "
		    "%" PRId64 " --to ADDRESS sends one).\n", id, id);
	fprintf(stderr, "Send \"");
	cmd_put_safe(stderr, p->subject);
	fprintf(stderr, "\" to %" PRId64 " %s on ", p->recipients,
	    cmd_campaign_people(p->recipients));
	cmd_put_safe(stderr, p->list_name);
	if (p->at != 0) {
		period_datetime((time_t)p->at, when, sizeof when);
		fprintf(stderr, " at %s (%s)", when,
		    conf->general.timezone[0] != '\0' ?
		    conf->general.timezone : "local time");
	} else if (scheduled_at != 0) {
		period_datetime((time_t)scheduled_at, when, sizeof when);
		fprintf(stderr, " now, instead of at %s", when);
	} else
		fprintf(stderr, " now");
	if (p->digest > 0)
		fprintf(stderr, " (%" PRId64 " more get%s it in the list's "
		    "digest)", p->digest, p->digest == 1 ? "s" : "");
	fprintf(stderr, "? [y/N] ");
	return cmd_answer_yes();
}

int
cmd_campaign_send(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct store_campaign	 c;
	struct conf		*conf;
	struct store		*s;
	struct campaign_plan	 plan;
	struct campaign_sent	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL, when[64];
	time_t			 at = 0;
	int64_t			 id, now, was = 0;
	int			 rc;

	if ((rc = cmd_campaign_arg_id(o, "send", &id)) != EX_OK)
		return rc;
	if (o->at != NULL && o->now)
		return cmd_usage_error(&cmd_campaign, "%s", "send: --at and "
		    "--now cannot go together");
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	/* After the zone is set: --at is the network's local time. */
	if (o->at != NULL && period_parse(o->at, &at, &cause) == -1) {
		fprintf(stderr, "postroom: campaign: send: --at: %s\n", cause);
		free(cause);
		return cmd_usage_error(&cmd_campaign, "%s", "send: --at wants "
		    "\"YYYY-MM-DD HH:MM\" (local time)");
	}
	if ((s = cmd_store_open(conf, &rc)) == NULL)
		return rc;

	/*
	 * Step 1: what the send would do, refused as the send would be (a
	 * time that has passed, a campaign that cannot be rendered, merge
	 * fields nobody can have: those one a line first).
	 */
	if (!cmd_campaign_get(s, id, &c, &rc))
		goto out;
	if (c.status == STORE_CAMPAIGN_DRAFT && (rc = cmd_campaign_checked(conf,
	    s, &c, 0, "nothing queued", NULL)) != EX_OK) {
		store_campaign_clear(&c);
		goto out;
	}
	store_campaign_clear(&c);
	now = (int64_t)time(NULL);
	if (campaign_plan(conf, s, id, (int64_t)at, o->now, now, &plan, &fail,
	    &cause) == -1) {
		rc = cmd_campaign_fail(s, fail, cause);
		goto out;
	}
	was = plan.scheduled_at;

	/* Step 2: nobody is sent anything they did not ask for. */
	if (!o->yes && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "postroom: campaign: send: standard input is "
		    "not a terminal, so nobody can be asked: add --yes to "
		    "send campaign %" PRId64 " to %" PRId64 " %s on ", id,
		    plan.recipients, cmd_campaign_people(plan.recipients));
		cmd_put_safe(stderr, plan.list_name);
		fprintf(stderr, "; nothing was queued\n");
		campaign_plan_clear(&plan);
		rc = EX_USAGE;
		goto out;
	}
	if (!o->yes) {
		if (!cmd_campaign_ask(id, conf, &plan, was)) {
			fprintf(stderr, "postroom: campaign %" PRId64 ": not "
			    "sent; nothing was queued\n", id);
			campaign_plan_clear(&plan);
			rc = 1;
			goto out;
		}
	} else if (plan.tested_at == 0)
		fprintf(stderr, "postroom: campaign %" PRId64 ": no test copy "
		    "was sent since it was last changed\n", id);
	campaign_plan_clear(&plan);

	/* Step 3: the send; its own time, after the question. */
	now = (int64_t)time(NULL);
	if (o->now)
		rc = campaign_send_now(conf, s, id, now, &r, &fail, &cause);
	else
		rc = campaign_send(conf, s, id, (int64_t)at, now, &r, &fail,
		    &cause);
	if (rc == -1) {
		rc = cmd_campaign_fail(s, fail, cause);
		goto out;
	}
	rc = EX_OK;
	switch (r.status) {
	case STORE_CAMPAIGN_SCHEDULED:
		printf("campaign %" PRId64 ": scheduled for %s: %" PRId64
		    " recipient%s queued (postroom campaign unschedule %" PRId64
		    " to change it)\n", id, cmd_when(r.at, when, sizeof when),
		    r.queued, r.queued == 1 ? "" : "s", id);
		break;
	case STORE_CAMPAIGN_SENT:
		printf("campaign %" PRId64 ": nobody to send to now: marked "
		    "sent\n", id);
		break;
	default:
		printf("campaign %" PRId64 ": sending to %" PRId64
		    " recipient%s%s; postroomd sends it (postroom campaign "
		    "status %" PRId64 ")\n", id, r.queued, r.queued == 1 ?
		    "" : "s", was != 0 ?
		    " now, not at its scheduled time" : "", id);
		break;
	}
	if (r.digest > 0)
		printf("%" PRId64 " digest-mode member%s get%s it in the "
		    "list's digest\n", r.digest, r.digest == 1 ? "" : "s",
		    r.digest == 1 ? "s" : "");
	if (fflush(stdout) == EOF) {
		rc = EX_IOERR;
		goto out;
	}
	rc = o->wait ? cmd_campaign_wait(s, id) : EX_OK;
out:
	store_close(s);
	return rc;
}

int
cmd_campaign_unschedule(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id, removed;
	int			 rc;

	if ((rc = cmd_campaign_start(ctx, o, "unschedule", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (campaign_unschedule(s, id, (int64_t)time(NULL), &removed, &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else
		printf("campaign %" PRId64 ": unscheduled, a draft again; %"
		    PRId64 " queued message%s removed (postroom campaign send "
		    "%" PRId64 " sends it)\n", id, removed, removed == 1 ? "" :
		    "s", id);
	store_close(s);
	return rc;
}

static struct value *
cmd_campaign_status_json(const struct store_campaign *c,
    const struct store_campaign_counts *cc, int64_t pending, double rate)
{
	struct value	*v = value_new_object();

	value_object_set(v, "id", value_new_int(c->id));
	value_object_set(v, "list", value_new_string(c->list));
	value_object_set(v, "subject", value_new_string(c->subject));
	value_object_set(v, "status", value_new_string(
	    store_campaign_status_name(c->status)));
	value_object_set(v, "paused_reason", c->paused_reason[0] != '\0' ?
	    value_new_string(c->paused_reason) : value_new_null());
	value_object_set(v, "total", value_new_int(cc->total));
	value_object_set(v, "sent", value_new_int(
	    cc->state[STORE_OUTBOX_SENT]));
	value_object_set(v, "deferred", value_new_int(
	    cc->state[STORE_OUTBOX_DEFERRED]));
	value_object_set(v, "failed", value_new_int(
	    cc->state[STORE_OUTBOX_FAILED]));
	value_object_set(v, "skipped", value_new_int(
	    cc->state[STORE_OUTBOX_SKIPPED]));
	value_object_set(v, "pending", value_new_int(pending));
	value_object_set(v, "scheduled_at", value_new_time(c->scheduled_at));
	value_object_set(v, "started_at", value_new_time(c->started_at));
	value_object_set(v, "finished_at", value_new_time(c->finished_at));
	value_object_set(v, "rate", value_new_double(rate));
	return v;
}

/*
 * The current rate: messages sent per second over the last minute, or
 * since the start when that was less than a minute ago.
 */
#define CMD_CAMPAIGN_RATE_WINDOW	60

int
cmd_campaign_status(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf			*conf;
	struct store			*s;
	struct store_campaign		 c;
	struct store_campaign_counts	 cc;
	char				*cause = NULL, when[64];
	int64_t				 id, now, window, recent, pending;
	double				 rate = 0;
	int				 rc;

	if ((rc = cmd_campaign_start(ctx, o, "status", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (!cmd_campaign_get(s, id, &c, &rc))
		goto out;
	if (store_campaign_counts(s, id, &cc, &cause) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out_c;
	}
	now = (int64_t)time(NULL);
	pending = cc.state[STORE_OUTBOX_QUEUED] +
	    cc.state[STORE_OUTBOX_SENDING];
	if (c.started_at != 0) {
		window = now - c.started_at;
		if (window > CMD_CAMPAIGN_RATE_WINDOW)
			window = CMD_CAMPAIGN_RATE_WINDOW;
		if (window < 1)
			window = 1;
		if (store_campaign_sent_since(s, id, now - window + 1, &recent,
		    &cause) == -1) {
			rc = cmd_store_fail(s, cause);
			goto out_c;
		}
		/* One decimal is plenty. */
		rate = (double)(recent * 10 / window) / 10.0;
	}

	if (o->json) {
		rc = cmd_campaign_json_out(cmd_campaign_status_json(&c, &cc,
		    pending, rate));
		goto out_c;
	}
	printf("campaign:  %" PRId64 " (list %s)\n", c.id, c.list);
	printf("subject:   ");
	cmd_put_safe(stdout, c.subject);
	printf("\nstatus:    %s", store_campaign_status_name(c.status));
	if (c.paused_reason[0] != '\0' && c.status == STORE_CAMPAIGN_PAUSED) {
		printf(" (");
		cmd_put_safe(stdout, c.paused_reason);
		printf(")");
	}
	printf("\n");
	if (c.scheduled_at != 0)
		printf("scheduled: %s\n", cmd_when(c.scheduled_at,
		    when, sizeof when));
	printf("started:   %s\n", cmd_when(c.started_at, when,
	    sizeof when));
	printf("finished:  %s\n", cmd_when(c.finished_at, when,
	    sizeof when));
	printf("total:     %" PRId64 "\n", cc.total);
	printf("sent:      %" PRId64 "\n", cc.state[STORE_OUTBOX_SENT]);
	printf("deferred:  %" PRId64 "\n", cc.state[STORE_OUTBOX_DEFERRED]);
	printf("failed:    %" PRId64 "\n", cc.state[STORE_OUTBOX_FAILED]);
	printf("skipped:   %" PRId64 "\n", cc.state[STORE_OUTBOX_SKIPPED]);
	printf("pending:   %" PRId64 "\n", pending);
	printf("rate:      %.1f/s\n", rate);
	if (fflush(stdout) == EOF)
		rc = EX_IOERR;
out_c:
	store_campaign_clear(&c);
out:
	store_close(s);
	return rc;
}

int
cmd_campaign_pause(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf			*conf;
	struct store			*s;
	struct store_campaign_counts	 cc;
	enum campaign_fail		 fail;
	char				*cause = NULL;
	int64_t				 id;
	int				 rc;

	if ((rc = cmd_campaign_start(ctx, o, "pause", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (campaign_pause(s, id, NULL, (int64_t)time(NULL), &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else {
		printf("campaign %" PRId64 ": paused", id);
		if (store_campaign_counts(s, id, &cc, &cause) == 0) {
			if (cc.state[STORE_OUTBOX_SENDING] > 0)
				printf("; the %" PRId64 " messages being sent "
				    "finish", cc.state[STORE_OUTBOX_SENDING]);
			printf("; %" PRId64 " wait",
			    cc.state[STORE_OUTBOX_QUEUED] +
			    cc.state[STORE_OUTBOX_DEFERRED]);
		} else
			free(cause);
		printf(" (postroom campaign resume %" PRId64 ")\n", id);
	}
	store_close(s);
	return rc;
}

int
cmd_campaign_resume(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	enum store_campaign_status after;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;
	int			 rc;

	if ((rc = cmd_campaign_start(ctx, o, "resume", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (campaign_resume(s, id, (int64_t)time(NULL), &after, &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else if (after == STORE_CAMPAIGN_SENT)
		printf("campaign %" PRId64 ": nothing was left to send: marked "
		    "sent\n", id);
	else
		printf("campaign %" PRId64 ": sending again\n", id);
	store_close(s);
	return rc;
}

int
cmd_campaign_cancel(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf			*conf;
	struct store			*s;
	struct store_campaign_counts	 cc;
	enum campaign_fail		 fail;
	char				*cause = NULL;
	int64_t				 id, skipped;
	int				 rc;

	if ((rc = cmd_campaign_start(ctx, o, "cancel", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (campaign_cancel(s, id, (int64_t)time(NULL), &skipped, &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else {
		printf("campaign %" PRId64 ": cancelled; %" PRId64 " queued "
		    "message%s will not be sent", id, skipped,
		    skipped == 1 ? "" : "s");
		if (store_campaign_counts(s, id, &cc, &cause) == 0) {
			if (cc.state[STORE_OUTBOX_SENT] > 0)
				printf(" (%" PRId64 " had been sent)",
				    cc.state[STORE_OUTBOX_SENT]);
			if (cc.state[STORE_OUTBOX_SENDING] > 0)
				printf("; %" PRId64 " being sent finish",
				    cc.state[STORE_OUTBOX_SENDING]);
		} else
			free(cause);
		printf("\n");
	}
	store_close(s);
	return rc;
}

int
cmd_campaign_retry(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	struct campaign_retried	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	int64_t			 id;
	int			 rc;

	if ((rc = cmd_campaign_start(ctx, o, "retry-failed", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (campaign_retry_failed(s, id, o->permanent, (int64_t)time(NULL),
	    &r, &fail, &cause) == -1) {
		rc = cmd_campaign_fail(s, fail, cause);
		goto out;
	}
	if (r.temporary + r.refused + r.other == 0) {
		printf("campaign %" PRId64 ": no failed recipients to retry\n",
		    id);
		goto out;
	}
	printf("campaign %" PRId64 ": re-queued ", id);
	if (o->permanent) {
		printf("%" PRId64 ": %" PRId64 " that failed for a temporary "
		    "reason, %" PRId64 " refused permanently (5xx)", r.requeued,
		    r.temporary, r.refused);
		if (r.other > 0)
			printf(", %" PRId64 " that could not be sent at all",
			    r.other);
	} else {
		printf("%" PRId64 " that failed for a temporary reason",
		    r.requeued);
		if (r.refused > 0)
			printf("; %" PRId64 " refused permanently (5xx) stay "
			    "failed", r.refused);
		if (r.other > 0)
			printf("; %" PRId64 " that could not be sent at all "
			    "stay failed (postroom campaign failures %" PRId64
			    " says why)", r.other, id);
		if (r.refused + r.other > 0)
			printf(": add --include-permanent to retry them too");
	}
	printf("\n");
	if (r.requeued == 0)
		goto out;
	if (r.after == STORE_CAMPAIGN_PAUSED)
		printf("the campaign is paused: postroom campaign resume %"
		    PRId64 " sends them\n", id);
	else
		printf("the campaign is %s\n",
		    store_campaign_status_name(r.after));
out:
	store_close(s);
	return rc;
}

static int
cmd_campaign_failure_one(const struct store_campaign_failure *f, void *arg)
{
	struct camp_opts	*o = arg;
	struct value		*v;
	char			 code[16];

	if (o->json) {
		v = value_new_object();
		value_object_set(v, "outbox_id", value_new_int(f->outbox_id));
		value_object_set(v, "subscriber_id", f->subscriber_id != 0 ?
		    value_new_int(f->subscriber_id) : value_new_null());
		value_object_set(v, "email", value_new_string(f->rcpt_to));
		value_object_set(v, "code", f->code != 0 ?
		    value_new_int(f->code) : value_new_null());
		value_object_set(v, "reply", value_new_string(f->reply));
		value_object_set(v, "attempts", value_new_int(f->attempts));
		value_object_set(v, "failed_at", value_new_time(f->at));
		return cmd_campaign_json_out(v) == EX_OK ? 0 : -2;
	}
	if (f->code != 0)
		snprintf(code, sizeof code, "%d", f->code);
	else
		snprintf(code, sizeof code, "-");
	cmd_put_safe(stdout, f->rcpt_to);
	printf("  %s  ", code);
	cmd_put_safe(stdout, f->reply[0] != '\0' ? f->reply :
	    "(no reply)");
	putchar('\n');
	return 0;
}

int
cmd_campaign_failures(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	struct store_campaign	 c;
	char			*cause = NULL;
	int64_t			 id;
	int			 rc, n;

	if ((rc = cmd_campaign_start(ctx, o, "failures", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	if (!cmd_campaign_get(s, id, &c, &rc))
		goto out;
	store_campaign_clear(&c);
	n = store_campaign_failures(s, id, cmd_campaign_failure_one, o,
	    &cause);
	rc = cmd_campaign_walked(s, n, cause);
out:
	store_close(s);
	return rc;
}
