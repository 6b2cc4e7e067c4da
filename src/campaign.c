/*
 * campaign.c - the campaign engine: moving a campaign between its states,
 * queueing its recipients, starting scheduled ones, test copies.
 *
 * Owns: which moves are allowed (campaign_can_move) and the one function
 * that makes them (campaign_enter_state, which logs each, as OpenSMTPD's
 * mta_enter_state); what send, send now, unschedule, edit, delete, copy,
 * pause, resume, cancel and retry-failed do, each in one transaction, and
 * what a send would do (campaign_plan); the scheduler; test copies;
 * whether a campaign may go out as written (campaign_check).
 * Does not own:
 * the SQL (store-campaign.c), rendering (newsletter.c), delivery and the
 * moves the delivery engine makes itself (deliver.c), the commands and
 * their messages (cmd-campaign.c).  campaign.h tells the whole story.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "campaign.h"
#include "conf.h"
#include "crypto.h"
#include "deliver.h"
#include "fields.h"
#include "hex.h"
#include "log.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "xmalloc.h"

int
campaign_check(const struct conf *conf, struct store *s,
    const struct store_campaign *c, struct fields_report *report,
    enum campaign_fail *fail, char **cause)
{
	struct fields_input	 in;
	char			**keys = NULL;
	size_t			 nkeys = 0, i;
	int			 rc;

	*fail = CAMPAIGN_OK;
	memset(report, 0, sizeof *report);

	/* Step 1: can it be rendered at all? */
	if (newsletter_check(conf, c, cause) == -1) {
		*fail = CAMPAIGN_FAIL_DATA;
		return -1;
	}

	/* Step 2: its fields against what the list's members have. */
	if (store_members_attr_keys(s, c->list, &keys, &nkeys, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return -1;
	}
	memset(&in, 0, sizeof in);
	in.subject = c->subject;
	in.body = c->body;
	in.list = c->list;
	in.attrs = (const char *const *)keys;
	in.nattrs = nkeys;
	rc = fields_check(&in, report, cause);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	if (rc == -1)
		*fail = CAMPAIGN_FAIL_DATA;
	return rc;
}

int
campaign_field_gaps(struct store *s, const char *list,
    struct fields_report *report, char **cause)
{
	struct fields_use	*u;
	size_t			 i;

	for (i = 0; i < report->nuses; i++) {
		u = &report->uses[i];
		if (store_members_lacking(s, list, u->attr, &u->lacking,
		    &u->recipients, cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * campaign_check() for send and test: 0 when c may go, else -1 with
 * *fail and *cause ("campaign 4: body line 3: ...; subject: ...").
 */
static int
campaign_check_cause(const struct conf *conf, struct store *s,
    const struct store_campaign *c, enum campaign_fail *fail, char **cause)
{
	struct fields_report	 r;
	char			*text;

	if (campaign_check(conf, s, c, &r, fail, cause) == -1)
		return -1;
	if (r.nproblems == 0) {
		fields_report_clear(&r);
		return 0;
	}
	text = fields_report_text(&r);
	xasprintf(cause, "campaign %lld cannot go out as written: %s",
	    (long long)c->id, text);
	free(text);
	fields_report_clear(&r);
	*fail = CAMPAIGN_FAIL_DATA;
	return -1;
}

int
campaign_can_move(enum store_campaign_status from,
    enum store_campaign_status to)
{
	switch (from) {
	case STORE_CAMPAIGN_DRAFT:
		return to == STORE_CAMPAIGN_SCHEDULED ||
		    to == STORE_CAMPAIGN_SENDING ||
		    to == STORE_CAMPAIGN_CANCELLED;
	case STORE_CAMPAIGN_SCHEDULED:
		return to == STORE_CAMPAIGN_SENDING ||
		    to == STORE_CAMPAIGN_DRAFT ||
		    to == STORE_CAMPAIGN_CANCELLED;
	case STORE_CAMPAIGN_SENDING:
		return to == STORE_CAMPAIGN_PAUSED ||
		    to == STORE_CAMPAIGN_SENT ||
		    to == STORE_CAMPAIGN_CANCELLED;
	case STORE_CAMPAIGN_PAUSED:
		return to == STORE_CAMPAIGN_SENDING ||
		    to == STORE_CAMPAIGN_CANCELLED;
	case STORE_CAMPAIGN_SENT:
		return to == STORE_CAMPAIGN_SENDING;
	default:
		return 0;
	}
}

int
campaign_enter_state(struct store *s, int64_t id,
    enum store_campaign_status from, enum store_campaign_status to,
    int64_t at, const char *reason, int64_t now, char **cause)
{
	const char	*fname, *tname;
	char		 kind[32], subject[32], *detail;
	struct tm	 tm;
	time_t		 t = (time_t)at;
	char		 when[64];
	int		 rc;

	fname = store_campaign_status_name(from);
	tname = store_campaign_status_name(to);
	if (!campaign_can_move(from, to))
		fatalx("%s: campaign %lld: %s -> %s", __func__, (long long)id,
		    fname, tname);

	if ((rc = store_campaign_move(s, id, from, to, at, reason, now,
	    cause)) != 1)
		return rc;

	if (to == STORE_CAMPAIGN_SCHEDULED) {
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof when, "%Y-%m-%d %H:%M %Z", &tm) == 0)
			snprintf(when, sizeof when, "%lld", (long long)at);
		detail = xprintf("%s -> %s, at %s", fname, tname, when);
	} else if (reason != NULL && *reason != '\0')
		detail = xprintf("%s -> %s: %s", fname, tname, reason);
	else
		detail = xprintf("%s -> %s", fname, tname);
	/* At info: the CLI says it in its own words; the daemon logs it. */
	log_info("campaign %lld: %s", (long long)id, detail);
	snprintf(kind, sizeof kind, "campaign-%s", tname);
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	store_event(s, kind, subject, detail);
	free(detail);
	return 1;
}

/* --- helpers ------------------------------------------------------------- */

static int
campaign_store_fail(enum campaign_fail *fail)
{
	*fail = CAMPAIGN_FAIL_STORE;
	return -1;
}

/* Begin and read campaign id: 0, or -1 (rolled back) with *fail. */
static int
campaign_begin(struct store *s, int64_t id, struct store_campaign *c,
    enum campaign_fail *fail, char **cause)
{
	int	rc;

	*fail = CAMPAIGN_OK;
	memset(c, 0, sizeof *c);
	if (store_begin(s, cause) == -1)
		return campaign_store_fail(fail);
	if ((rc = store_campaign_get(s, id, c, cause)) == 1)
		return 0;
	store_rollback(s);
	if (rc == 0) {
		*fail = CAMPAIGN_FAIL_MISSING;
		xasprintf(cause, "no campaign %lld", (long long)id);
		return -1;
	}
	return campaign_store_fail(fail);
}

/* Commit, or roll back: 0 or -1 with *fail. */
static int
campaign_commit(struct store *s, struct store_campaign *c,
    enum campaign_fail *fail, char **cause)
{
	store_campaign_clear(c);
	if (store_commit(s, cause) == -1) {
		store_rollback(s);
		return campaign_store_fail(fail);
	}
	return 0;
}

/* Give up: roll back, -1 (*cause and *fail already set). */
static int
campaign_abort(struct store *s, struct store_campaign *c)
{
	store_rollback(s);
	store_campaign_clear(c);
	return -1;
}

/* Refuse a move: -1 with *fail CAMPAIGN_FAIL_STATE and why. */
static int
campaign_refuse(struct store *s, struct store_campaign *c,
    enum campaign_fail *fail, char **cause, const char *what)
{
	const char	*st = store_campaign_status_name(c->status);

	*fail = CAMPAIGN_FAIL_STATE;
	switch (c->status) {
	case STORE_CAMPAIGN_PAUSED:
		xasprintf(cause, "campaign %lld is paused (%s): %s",
		    (long long)c->id, c->paused_reason[0] != '\0' ?
		    c->paused_reason : "no reason given", what);
		break;
	default:
		xasprintf(cause, "campaign %lld is %s: %s", (long long)c->id,
		    st, what);
		break;
	}
	return campaign_abort(s, c);
}

/*
 * A sending campaign with nothing left to send is sent: when nobody was
 * queued, or when it is resumed after its last row.  *status gets what it
 * is now.
 */
static int
campaign_settle(struct store *s, int64_t id, int64_t now,
    enum store_campaign_status *status, char **cause)
{
	struct store_campaign_counts	cc;
	int64_t				pending;
	int				rc;

	*status = STORE_CAMPAIGN_SENDING;
	if (store_campaign_counts(s, id, &cc, cause) == -1)
		return -1;
	pending = cc.state[STORE_OUTBOX_QUEUED] +
	    cc.state[STORE_OUTBOX_SENDING] + cc.state[STORE_OUTBOX_DEFERRED];
	if (pending > 0)
		return 0;
	rc = campaign_enter_state(s, id, STORE_CAMPAIGN_SENDING,
	    STORE_CAMPAIGN_SENT, 0, cc.total == 0 ? "nobody to send to" :
	    "every recipient done", now, cause);
	if (rc == -1)
		return -1;
	if (rc == 1)
		*status = STORE_CAMPAIGN_SENT;
	return 0;
}

/* --- sending ------------------------------------------------------------ */

/*
 * May campaign c be sent now (at 0) or at at, or with now_too sent now
 * even though it is scheduled?  0 with *list, else -1 with *fail and
 * *cause set (the caller rolls back).  The same rules for the question
 * (campaign_plan) as for the send.
 */
static int
campaign_send_check(const struct conf *conf, struct store *s,
    const struct store_campaign *c, int64_t at, int now_too, int64_t now,
    const struct conf_list **list, enum campaign_fail *fail, char **cause)
{
	char	when[64], then[64], *why = NULL;

	/* Step 1: only a draft, or a scheduled one to send now. */
	*fail = CAMPAIGN_FAIL_STATE;
	switch (c->status) {
	case STORE_CAMPAIGN_DRAFT:
		break;
	case STORE_CAMPAIGN_SCHEDULED:
		if (now_too && at == 0)
			break;
		period_datetime((time_t)c->scheduled_at, when, sizeof when);
		xasprintf(cause, "campaign %lld is scheduled for %s: send it "
		    "now, unschedule it to change it, or cancel it",
		    (long long)c->id, when);
		return -1;
	case STORE_CAMPAIGN_SENDING:
		why = "it is already being sent";
		break;
	case STORE_CAMPAIGN_PAUSED:
		xasprintf(cause, "campaign %lld is paused (%s): resume it to "
		    "go on sending", (long long)c->id,
		    c->paused_reason[0] != '\0' ? c->paused_reason :
		    "no reason given");
		return -1;
	case STORE_CAMPAIGN_SENT:
		why = "a campaign is sent once (retry-failed sends again to "
		    "those it failed for)";
		break;
	default:
		why = "only a draft can be sent";
		break;
	}
	if (why != NULL) {
		xasprintf(cause, "campaign %lld is %s: %s", (long long)c->id,
		    store_campaign_status_name(c->status), why);
		return -1;
	}

	/* Step 2: a list that exists, a time to come. */
	*fail = CAMPAIGN_FAIL_DATA;
	if ((*list = conf_list_find(conf, c->list)) == NULL) {
		xasprintf(cause, "campaign %lld is for list \"%s\", which is "
		    "not in the configuration", (long long)c->id, c->list);
		return -1;
	}
	if (at != 0 && at < now) {
		*fail = CAMPAIGN_FAIL_PAST;
		period_datetime((time_t)at, then, sizeof then);
		period_datetime((time_t)now, when, sizeof when);
		xasprintf(cause, "the time to send campaign %lld at, %s, has "
		    "passed: it is now %s (%s time); give a time to come, or "
		    "send it now", (long long)c->id, then, when,
		    conf->general.timezone[0] != '\0' ?
		    conf->general.timezone : "local");
		return -1;
	}

	/*
	 * Step 3: a draft that cannot be rendered, or names a field nobody
	 * on the list can have, is never queued.
	 */
	if (c->status == STORE_CAMPAIGN_DRAFT &&
	    newsletter_check(conf, c, &why) == -1) {
		xasprintf(cause, "campaign %lld: %s", (long long)c->id, why);
		free(why);
		return -1;
	}
	if (c->status == STORE_CAMPAIGN_DRAFT &&
	    campaign_check_cause(conf, s, c, fail, cause) == -1)
		return -1;

	/* Step 4: the two-person rule, when the network keeps it. */
	if (c->status == STORE_CAMPAIGN_DRAFT &&
	    conf->console.send_approval && c->approved_by[0] == '\0') {
		*fail = CAMPAIGN_FAIL_APPROVAL;
		xasprintf(cause, "campaign %lld has not been approved: a "
		    "second editor or admin must approve this version before "
		    "it is sent or scheduled", (long long)c->id);
		return -1;
	}
	*fail = CAMPAIGN_OK;
	return 0;
}

void
campaign_plan_clear(struct campaign_plan *p)
{
	free(p->subject);
	free(p->list);
	free(p->list_name);
	memset(p, 0, sizeof *p);
}

int
campaign_plan(const struct conf *conf, struct store *s, int64_t id,
    int64_t at, int now_too, int64_t now, struct campaign_plan *p,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	 c;
	const struct conf_list	*list;
	int			 all_modes, rc;

	memset(p, 0, sizeof *p);
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (campaign_send_check(conf, s, &c, at, now_too, now, &list, fail,
	    cause) == -1)
		return campaign_abort(s, &c);
	all_modes = list->digest == CONF_DIGEST_NONE;
	if (c.status == STORE_CAMPAIGN_SCHEDULED)
		rc = store_campaign_waiting(s, id, c.list, &p->recipients,
		    cause);
	else
		rc = store_campaign_audience(s, id, c.list, all_modes,
		    &p->recipients, cause);
	if (rc == -1 || (!all_modes && store_members_count(s, c.list,
	    "digest", &p->digest, cause) == -1)) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	p->status = c.status;
	p->subject = xstrdup(c.subject);
	p->list = xstrdup(c.list);
	p->list_name = xstrdup(list->name[0] != '\0' ? list->name : c.list);
	p->at = at;
	p->scheduled_at = c.status == STORE_CAMPAIGN_SCHEDULED ?
	    c.scheduled_at : 0;
	p->tested_at = c.tested_at;
	/* Nothing was written: let the lock go. */
	store_rollback(s);
	store_campaign_clear(&c);
	return 0;
}

/*
 * Queue draft c for list now (at 0) or for at: the move and every
 * recipient's row in this one transaction: started_at is set before the
 * first row exists (digest.h), and nothing can be sent before the
 * commit.  Nobody to send to now means sent.
 */
static int
campaign_queue_draft(const struct conf *conf, struct store *s,
    const struct store_campaign *c, const struct conf_list *list, int64_t at,
    int64_t now, struct campaign_sent *out, char **cause)
{
	enum store_campaign_status to;
	char			*mail_from;
	int			 all_modes, rc;

	all_modes = list->digest == CONF_DIGEST_NONE;
	to = at != 0 ? STORE_CAMPAIGN_SCHEDULED : STORE_CAMPAIGN_SENDING;
	if ((rc = campaign_enter_state(s, c->id, STORE_CAMPAIGN_DRAFT, to, at,
	    NULL, now, cause)) != 1) {
		if (rc == 0)
			fatalx("%s: campaign %lld changed in a transaction",
			    __func__, (long long)c->id);
		return -1;
	}
	/* The engine renders the VERP sender; this one only informs. */
	mail_from = xprintf("bounces@%s", conf->general.domain);
	rc = store_campaign_queue(s, c->id, c->list, all_modes, mail_from,
	    at != 0 ? at : now, now, &out->queued, cause);
	free(mail_from);
	if (rc == -1)
		return -1;
	if (!all_modes && store_members_count(s, c->list, "digest",
	    &out->digest, cause) == -1)
		return -1;
	out->status = to;
	out->at = at;
	if (to == STORE_CAMPAIGN_SENDING &&
	    campaign_settle(s, c->id, now, &out->status, cause) == -1)
		return -1;
	return 0;
}

/* A scheduled campaign, now: it starts and its rows are due at once. */
static int
campaign_start_now(const struct conf *conf, struct store *s,
    const struct store_campaign *c, const struct conf_list *list,
    int64_t now, struct campaign_sent *out, char **cause)
{
	int64_t	moved;
	int	rc;

	if ((rc = campaign_enter_state(s, c->id, STORE_CAMPAIGN_SCHEDULED,
	    STORE_CAMPAIGN_SENDING, 0, "sent now, before its time", now,
	    cause)) != 1) {
		if (rc == 0)
			fatalx("%s: campaign %lld changed in a transaction",
			    __func__, (long long)c->id);
		return -1;
	}
	if (store_campaign_bring_forward(s, c->id, now, &moved, cause) == -1 ||
	    store_campaign_waiting(s, c->id, c->list, &out->queued,
	    cause) == -1)
		return -1;
	if (list->digest != CONF_DIGEST_NONE && store_members_count(s,
	    c->list, "digest", &out->digest, cause) == -1)
		return -1;
	out->status = STORE_CAMPAIGN_SENDING;
	return campaign_settle(s, c->id, now, &out->status, cause);
}

static int
campaign_send_any(const struct conf *conf, struct store *s, int64_t id,
    int64_t at, int now_too, int64_t now, struct campaign_sent *out,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	 c;
	const struct conf_list	*list;
	int			 rc;

	memset(out, 0, sizeof *out);
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (campaign_send_check(conf, s, &c, at, now_too, now, &list, fail,
	    cause) == -1)
		return campaign_abort(s, &c);
	if (c.status == STORE_CAMPAIGN_SCHEDULED)
		rc = campaign_start_now(conf, s, &c, list, now, out, cause);
	else
		rc = campaign_queue_draft(conf, s, &c, list, at, now, out,
		    cause);
	if (rc == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_send(const struct conf *conf, struct store *s, int64_t id,
    int64_t at, int64_t now, struct campaign_sent *out,
    enum campaign_fail *fail, char **cause)
{
	return campaign_send_any(conf, s, id, at, 0, now, out, fail, cause);
}

int
campaign_send_now(const struct conf *conf, struct store *s, int64_t id,
    int64_t now, struct campaign_sent *out, enum campaign_fail *fail,
    char **cause)
{
	return campaign_send_any(conf, s, id, 0, 1, now, out, fail, cause);
}

int
campaign_unschedule(struct store *s, int64_t id, int64_t now,
    int64_t *removed, enum campaign_fail *fail, char **cause)
{
	struct store_campaign	c;
	int			rc;

	*removed = 0;
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status != STORE_CAMPAIGN_SCHEDULED)
		return campaign_refuse(s, &c, fail, cause,
		    "only a scheduled campaign can be unscheduled");
	if (campaign_enter_state(s, id, c.status, STORE_CAMPAIGN_DRAFT, 0,
	    "unscheduled", now, cause) != 1)
		goto store_fail;
	if ((rc = store_campaign_unqueue(s, id, removed, cause)) == -1)
		goto store_fail;
	if (rc == 1)
		fatalx("%s: campaign %lld was scheduled but has rows that "
		    "were sent", __func__, (long long)id);
	return campaign_commit(s, &c, fail, cause);

store_fail:
	*fail = CAMPAIGN_FAIL_STORE;
	return campaign_abort(s, &c);
}

/* --- drafts ------------------------------------------------------------- */

void
campaign_apply_edit(struct store_campaign *c, const char *subject,
    const char *body, const char *template)
{
	if (subject != NULL) {
		free(c->subject);
		c->subject = xstrdup(subject);
	}
	if (body != NULL) {
		free(c->body);
		c->body = xstrdup(body);
	}
	if (template != NULL) {
		free(c->template);
		c->template = xstrdup(*template != '\0' ? template :
		    STORE_CAMPAIGN_TEMPLATE);
	}
}

int
campaign_edit(const struct conf *conf, struct store *s, int64_t id,
    const char *subject, const char *body, const char *template,
    const char *who, int64_t now, enum campaign_fail *fail, char **cause)
{
	struct store_campaign	 c;
	char			*why = NULL, detail[32];
	int			 rc;

	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status == STORE_CAMPAIGN_SCHEDULED)
		return campaign_refuse(s, &c, fail, cause, "unschedule it "
		    "first (it goes back to draft, its recipients unqueued), "
		    "then edit it and send it again");
	if (c.status != STORE_CAMPAIGN_DRAFT)
		return campaign_refuse(s, &c, fail, cause,
		    "only a draft can be edited");

	/* Check the campaign as it will be. */
	campaign_apply_edit(&c, subject, body, template);
	if (newsletter_check(conf, &c, &why) == -1) {
		*fail = CAMPAIGN_FAIL_DATA;
		xasprintf(cause, "campaign %lld: %s", (long long)id, why);
		free(why);
		return campaign_abort(s, &c);
	}
	if (campaign_check_cause(conf, s, &c, fail, cause) == -1)
		return campaign_abort(s, &c);
	if ((rc = store_campaign_edit(s, id, subject, body, template, who, now,
	    cause)) != 1) {
		if (rc == 0)
			fatalx("%s: campaign %lld changed in a transaction",
			    __func__, (long long)id);
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	snprintf(detail, sizeof detail, "%lld", (long long)id);
	store_event(s, "campaign.edit", detail, who);
	log_info("campaign %lld: edited", (long long)id);
	return campaign_commit(s, &c, fail, cause);
}

void
campaign_version(const struct store_campaign *c,
    char out[CAMPAIGN_VERSION_LEN + 1])
{
	unsigned char	 md[CRYPTO_SHA256_LEN];
	struct buf	 b;

	/* Each part with its length, so that no two versions run together. */
	buf_init(&b, 0);
	buf_printf(&b, "%zu:%s\n%zu:%s\n%zu:%s\n%zu:%s\n",
	    strlen(c->list), c->list, strlen(c->subject), c->subject,
	    strlen(c->template), c->template, strlen(c->body), c->body);
	crypto_sha256(b.data, b.len, NULL, 0, md);
	buf_free(&b);
	hex_encode(md, CAMPAIGN_VERSION_LEN / 2, out);
	out[CAMPAIGN_VERSION_LEN] = '\0';
}

int
campaign_approve(const struct conf *conf, struct store *s, int64_t id,
    const char *version, const char *who, int64_t now,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	c;
	char			now_version[CAMPAIGN_VERSION_LEN + 1];
	char			detail[32];
	int			rc;

	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status != STORE_CAMPAIGN_DRAFT)
		return campaign_refuse(s, &c, fail, cause,
		    "only a draft is approved (this one has gone on)");
	campaign_version(&c, now_version);
	if (version == NULL || strcmp(version, now_version) != 0)
		return campaign_refuse(s, &c, fail, cause, "it has been "
		    "changed since you read it: read it again, then approve "
		    "it if it is right");
	if (strcmp(c.edited_by, who) == 0)
		return campaign_refuse(s, &c, fail, cause, "you wrote this "
		    "version: a second person must approve it");
	if (newsletter_check(conf, &c, cause) == -1) {
		*fail = CAMPAIGN_FAIL_DATA;
		return campaign_abort(s, &c);
	}
	if (campaign_check_cause(conf, s, &c, fail, cause) == -1)
		return campaign_abort(s, &c);
	if ((rc = store_campaign_approve(s, id, who, now, cause)) != 1) {
		if (rc == 0)
			fatalx("%s: campaign %lld changed in a transaction",
			    __func__, (long long)id);
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	snprintf(detail, sizeof detail, "%lld", (long long)id);
	store_event(s, "campaign.approve", detail, now_version);
	log_info("campaign %lld: approved", (long long)id);
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_delete(struct store *s, int64_t id, const char *who, int64_t now,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	c;
	char			detail[32];
	int			rc;

	(void)now;
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status == STORE_CAMPAIGN_SCHEDULED)
		return campaign_refuse(s, &c, fail, cause, "unschedule it "
		    "first, then delete the draft");
	if (c.status != STORE_CAMPAIGN_DRAFT)
		return campaign_refuse(s, &c, fail, cause, "only a draft can "
		    "be deleted (what was sent is kept)");
	if ((rc = store_campaign_delete(s, id, cause)) != 1) {
		/* Only a draft unscheduled by hand in SQL has rows. */
		if (rc == 0)
			fatalx("%s: draft %lld has outbox rows", __func__,
			    (long long)id);
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	snprintf(detail, sizeof detail, "%lld", (long long)id);
	store_event(s, "campaign-deleted", detail, who);
	log_info("campaign %lld: draft deleted", (long long)id);
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_copy(struct store *s, int64_t id, const char *who, int64_t now,
    int64_t *copy, enum campaign_fail *fail, char **cause)
{
	struct store_campaign	 c, n;
	char			 subject[32], *detail;

	*copy = 0;
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	memset(&n, 0, sizeof n);
	n.list = c.list;
	n.subject = c.subject;
	n.body = c.body;
	n.template = strcmp(c.template, STORE_CAMPAIGN_TEMPLATE) == 0 ? NULL :
	    c.template;
	n.created_by = (char *)(who != NULL ? who : "");
	if (store_campaign_add(s, &n, now, copy, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	snprintf(subject, sizeof subject, "%lld", (long long)*copy);
	detail = xprintf("copy of campaign %lld by %s", (long long)id,
	    n.created_by);
	store_event(s, "campaign.new", subject, detail);
	free(detail);
	log_info("campaign %lld: a new draft, copied from campaign %lld",
	    (long long)*copy, (long long)id);
	return campaign_commit(s, &c, fail, cause);
}

/* --- steering ------------------------------------------------------------ */

int
campaign_pause(struct store *s, int64_t id, const char *reason, int64_t now,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	c;

	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status != STORE_CAMPAIGN_SENDING)
		return campaign_refuse(s, &c, fail, cause,
		    "only a campaign that is sending can be paused");
	if (campaign_enter_state(s, id, c.status, STORE_CAMPAIGN_PAUSED, 0,
	    reason != NULL ? reason : "paused by hand", now, cause) != 1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_resume(struct store *s, int64_t id, int64_t now,
    enum store_campaign_status *after, enum campaign_fail *fail,
    char **cause)
{
	struct store_campaign	c;

	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (c.status != STORE_CAMPAIGN_PAUSED)
		return campaign_refuse(s, &c, fail, cause,
		    "only a paused campaign can be resumed");
	if (campaign_enter_state(s, id, c.status, STORE_CAMPAIGN_SENDING, 0,
	    NULL, now, cause) != 1 ||
	    campaign_settle(s, id, now, after, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_cancel(struct store *s, int64_t id, int64_t now, int64_t *skipped,
    enum campaign_fail *fail, char **cause)
{
	struct store_campaign	c;

	*skipped = 0;
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	if (!campaign_can_move(c.status, STORE_CAMPAIGN_CANCELLED))
		return campaign_refuse(s, &c, fail, cause,
		    c.status == STORE_CAMPAIGN_SENT ? "it has been sent "
		    "already" : "it cannot be cancelled");
	if (campaign_enter_state(s, id, c.status, STORE_CAMPAIGN_CANCELLED, 0,
	    NULL, now, cause) != 1 ||
	    store_campaign_skip_queued(s, id, "campaign cancelled", now,
	    skipped, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		return campaign_abort(s, &c);
	}
	return campaign_commit(s, &c, fail, cause);
}

int
campaign_retry_failed(struct store *s, int64_t id, int permanent_too,
    int64_t now, struct campaign_retried *out, enum campaign_fail *fail,
    char **cause)
{
	struct store_campaign	c;

	memset(out, 0, sizeof *out);
	if (campaign_begin(s, id, &c, fail, cause) == -1)
		return -1;
	out->after = c.status;
	switch (c.status) {
	case STORE_CAMPAIGN_SENT:
	case STORE_CAMPAIGN_SENDING:
	case STORE_CAMPAIGN_PAUSED:
		break;
	default:
		return campaign_refuse(s, &c, fail, cause, "only a campaign "
		    "that has been sending can retry its failures");
	}
	/*
	 * A 5xx says the address or the message is refused: sending it
	 * again only hurts our reputation, unless the person asks.
	 */
	if (store_campaign_failed_kinds(s, id, DELIVER_GAVE_UP,
	    &out->temporary, &out->refused, &out->other, cause) == -1 ||
	    store_campaign_requeue_failed(s, id, DELIVER_GAVE_UP,
	    permanent_too, now, &out->requeued, cause) == -1)
		goto store_fail;
	if (out->requeued > 0 && c.status == STORE_CAMPAIGN_SENT) {
		if (campaign_enter_state(s, id, c.status,
		    STORE_CAMPAIGN_SENDING, 0, "retrying failures", now,
		    cause) != 1)
			goto store_fail;
		out->after = STORE_CAMPAIGN_SENDING;
	}
	return campaign_commit(s, &c, fail, cause);

store_fail:
	*fail = CAMPAIGN_FAIL_STORE;
	return campaign_abort(s, &c);
}

int
campaign_start_due(struct store *s, int64_t now, char **cause)
{
	enum store_campaign_status	 status;
	int64_t				 ids[CAMPAIGN_DUE_BATCH];
	size_t				 n, i;
	int				 own, started = 0, rc;

	own = !store_in_transaction(s);
	if (own && store_begin(s, cause) == -1)
		return -1;
	if (store_campaign_due(s, now, ids, CAMPAIGN_DUE_BATCH, &n,
	    cause) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		rc = campaign_enter_state(s, ids[i], STORE_CAMPAIGN_SCHEDULED,
		    STORE_CAMPAIGN_SENDING, 0, "its time has come", now,
		    cause);
		if (rc == -1)
			goto fail;
		if (rc == 1) {
			started++;
			if (campaign_settle(s, ids[i], now, &status,
			    cause) == -1)
				goto fail;
		}
	}

	/*
	 * Sending campaigns with nothing left: the engine marks a campaign
	 * sent when it completes its last row, but a row erased instead
	 * (subscriber forget) completes nothing.
	 */
	if (store_campaign_idle(s, ids, CAMPAIGN_DUE_BATCH, &n, cause) == -1)
		goto fail;
	for (i = 0; i < n; i++) {
		if (campaign_settle(s, ids[i], now, &status, cause) == -1)
			goto fail;
	}
	if (own && store_commit(s, cause) == -1)
		goto fail;
	return started;

fail:
	if (own)
		store_rollback(s);
	return -1;
}

int
campaign_test(const struct conf *conf, struct store *s,
    const unsigned char key[TOKEN_KEY_LEN], int64_t id, const char *address,
    int64_t now, int64_t *outbox_id, enum campaign_fail *fail, char **cause)
{
	struct store_campaign		 c;
	struct store_subscriber		 sub, stranger;
	const struct store_subscriber	*who;
	struct store_outbox_msg		 m;
	struct newsletter		*nl = NULL;
	struct buf			 b;
	char				*mail_from = NULL, subject[32];
	int				 rc, found;

	memset(&sub, 0, sizeof sub);
	buf_init(&b, NEWSLETTER_MAX_MESSAGE);
	rc = -1;

	/*
	 * Step 1: the campaign as it stands, and who the copy is for, in
	 * the transaction that records the copy: an edit cannot come
	 * between the two, so tested_at is about what was sent.
	 */
	if (campaign_begin(s, id, &c, fail, cause) == -1) {
		buf_free(&b);
		return -1;
	}
	if ((found = store_subscriber_get(s, address, &sub, cause)) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		goto out;
	}
	if (found == 1)
		who = &sub;
	else {
		/* The preview's sample subscriber, at this address. */
		stranger = *newsletter_sample();
		stranger.email = (char *)address;
		who = &stranger;
	}

	/*
	 * Step 2: render it, marked as a test, with a test copy's links (a
	 * draft only if it could go).
	 */
	if (c.status == STORE_CAMPAIGN_DRAFT &&
	    campaign_check_cause(conf, s, &c, fail, cause) == -1)
		goto out;
	if ((nl = newsletter_prepare(conf, &c, key, cause)) == NULL ||
	    newsletter_render_test(nl, who, (time_t)now, &b, &mail_from,
	    cause) == -1) {
		*fail = CAMPAIGN_FAIL_DATA;
		goto out;
	}

	/* Step 3: queue it; the engine sends it before newsletters. */
	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_TEST;
	m.mail_from = mail_from;
	m.rcpt_to = address;
	m.message = b.data;
	m.len = b.len;
	m.subscriber_id = who->id;
	m.priority = CAMPAIGN_TEST_PRIORITY;
	m.not_before = now;
	if (store_outbox_add(s, &m, outbox_id, cause) == -1 ||
	    store_campaign_tested(s, id, now, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		goto out;
	}
	snprintf(subject, sizeof subject, "%lld", (long long)id);
	store_event(s, "campaign-test", subject, address);
	if (store_commit(s, cause) == -1) {
		*fail = CAMPAIGN_FAIL_STORE;
		goto out;
	}
	/* The address is in the audit log, never in the log. */
	log_info("campaign %lld: test copy queued (outbox %lld)",
	    (long long)id, (long long)*outbox_id);
	rc = 0;

out:
	store_rollback(s);
	newsletter_free(nl);
	free(mail_from);
	buf_free(&b);
	store_subscriber_clear(&sub);
	store_campaign_clear(&c);
	return rc;
}
