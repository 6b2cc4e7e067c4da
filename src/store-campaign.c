/*
 * store-campaign.c - the campaigns table's rows.
 *
 * Owns: adding, reading, listing and editing campaigns, and the names of
 * their statuses.  Does not own: the SQLite connection (store.c), what a
 * campaign looks like when sent (newsletter.c), or moving a campaign from
 * one status to the next (the campaign engine).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "xmalloc.h"

static const char *const store_campaign_statuses[] = {
	[STORE_CAMPAIGN_DRAFT] = "draft",
	[STORE_CAMPAIGN_SCHEDULED] = "scheduled",
	[STORE_CAMPAIGN_SENDING] = "sending",
	[STORE_CAMPAIGN_PAUSED] = "paused",
	[STORE_CAMPAIGN_SENT] = "sent",
	[STORE_CAMPAIGN_CANCELLED] = "cancelled",
};

/* The columns every read selects, in the order store_campaign_row reads. */
#define STORE_CAMPAIGN_COLUMNS						\
	"id, list, subject, template, status, scheduled_at, started_at,"	\
	" finished_at, paused_reason, created_by, created_at, updated_at"

const char *
store_campaign_status_name(enum store_campaign_status st)
{
	if ((unsigned int)st >= STORE_CAMPAIGN_NSTATUSES)
		return "unknown";
	return store_campaign_statuses[st];
}

int
store_campaign_status_parse(const char *s, enum store_campaign_status *st)
{
	int	i;

	for (i = 0; i < STORE_CAMPAIGN_NSTATUSES; i++) {
		if (strcmp(s, store_campaign_statuses[i]) == 0) {
			*st = (enum store_campaign_status)i;
			return 0;
		}
	}
	return -1;
}

void
store_campaign_clear(struct store_campaign *c)
{
	free(c->list);
	free(c->subject);
	free(c->body);
	free(c->template);
	free(c->paused_reason);
	free(c->created_by);
	memset(c, 0, sizeof *c);
}

static char *
store_campaign_text(struct store_stmt *st, int col)
{
	char	*s;

	if ((s = store_column_text(st, col)) == NULL)
		s = xstrdup("");
	return s;
}

/* Fill c (zeroed) from a row of STORE_CAMPAIGN_COLUMNS; body not read. */
static int
store_campaign_row(struct store_stmt *st, struct store_campaign *c,
    char **cause)
{
	const char	*status;

	memset(c, 0, sizeof *c);
	c->id = store_column_int(st, 0);
	c->list = store_campaign_text(st, 1);
	c->subject = store_campaign_text(st, 2);
	c->template = store_column_text(st, 3);
	if (c->template == NULL || *c->template == '\0') {
		free(c->template);
		c->template = xstrdup(STORE_CAMPAIGN_TEMPLATE);
	}
	status = store_column_peek(st, 4);
	if (status == NULL ||
	    store_campaign_status_parse(status, &c->status) == -1) {
		*cause = xprintf("campaign %lld has an unknown status \"%s\"",
		    (long long)c->id, status != NULL ? status : "");
		store_campaign_clear(c);
		return -1;
	}
	c->scheduled_at = store_column_int(st, 5);
	c->started_at = store_column_int(st, 6);
	c->finished_at = store_column_int(st, 7);
	c->paused_reason = store_campaign_text(st, 8);
	c->created_by = store_campaign_text(st, 9);
	c->created_at = store_column_int(st, 10);
	c->updated_at = store_column_int(st, 11);
	return 0;
}

int
store_campaign_add(struct store *s, const struct store_campaign *c,
    int64_t now, int64_t *id, char **cause)
{
	const char	*template = c->template;

	if (template != NULL && *template == '\0')
		template = NULL;
	if (store_run(s, cause,
	    "INSERT INTO campaigns (list, subject, body, template, status,"
	    " created_by, created_at, updated_at)"
	    " VALUES (?, ?, ?, ?, 'draft', ?, ?, ?)",
	    "tttttII", c->list, c->subject, c->body, template,
	    c->created_by != NULL ? c->created_by : "", now, now) == -1)
		return -1;
	*id = store_last_insert_id(s);
	return 0;
}

int
store_campaign_get(struct store *s, int64_t id, struct store_campaign *c,
    char **cause)
{
	struct store_stmt	*st;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT " STORE_CAMPAIGN_COLUMNS ", body"
	    " FROM campaigns WHERE id = ?", "I", id);
	if (st == NULL)
		return -1;
	if ((rc = store_step(s, st, cause)) == 1) {
		if (store_campaign_row(st, c, cause) == -1)
			rc = -1;
		else
			c->body = store_campaign_text(st, 12);
	}
	store_done(st);
	return rc;
}

int
store_campaign_edit(struct store *s, int64_t id, const char *subject,
    const char *body, const char *template, int64_t now, char **cause)
{
	int	n;

	/*
	 * COALESCE keeps what is there for a NULL; the template is stored
	 * as NULL when it is the default, so "" resets it.
	 */
	n = store_run(s, cause,
	    "UPDATE campaigns SET subject = COALESCE(?1, subject),"
	    " body = COALESCE(?2, body),"
	    " template = CASE WHEN ?3 IS NULL THEN template"
	    "     WHEN ?3 = '' THEN NULL ELSE ?3 END,"
	    " updated_at = ?4"
	    " WHERE id = ?5 AND status = 'draft'",
	    "tttII", subject, body, template, now, id);
	if (n == -1)
		return -1;
	return n > 0 ? 1 : 0;
}

int
store_campaign_each(struct store *s, const char *list,
    int (*fn)(const struct store_campaign *, void *), void *arg,
    char **cause)
{
	struct store_stmt	*st;
	struct store_campaign	 c;
	int			 rc;

	st = store_query(s, cause,
	    "SELECT " STORE_CAMPAIGN_COLUMNS " FROM campaigns"
	    " WHERE ?1 IS NULL OR list = ?1 ORDER BY id DESC", "t", list);
	if (st == NULL)
		return -1;
	while ((rc = store_step(s, st, cause)) == 1) {
		if (store_campaign_row(st, &c, cause) == -1) {
			rc = -1;
			break;
		}
		rc = fn(&c, arg);
		store_campaign_clear(&c);
		if (rc != 0)
			break;
	}
	store_done(st);
	return rc;
}
