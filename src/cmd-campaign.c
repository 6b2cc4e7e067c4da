/*
 * cmd-campaign.c - "postroom campaign": newsletters before they are sent.
 *
 *	new LIST --subject TEXT --body FILE.md [--template NAME]
 *	edit ID [--subject TEXT] [--body FILE.md] [--template NAME]
 *	copy ID | delete ID
 *	list [--list LIST] [--json]
 *	show ID [--json]
 *	preview ID [--subscriber EMAIL] [--eml FILE] [--html FILE] [--text]
 *	test ID --to ADDRESS
 *	send ID [--at "YYYY-MM-DD HH:MM" | --now] [--yes] [--wait]
 *	unschedule ID
 *	status ID [--json]
 *	pause ID | resume ID | cancel ID
 *	retry-failed ID [--include-permanent]
 *	failures ID [--json]
 *
 * Owns: these commands' arguments, the question before a send (asked on
 * a terminal; --yes otherwise), their messages and exit codes, what a
 * subject and a body file must look like, and the preview.  Does not own:
 * the SQL (store-campaign.c), composing the message (newsletter.c), the
 * rules of moving, editing, deleting, copying, queueing, scheduling and
 * retrying, what a send would do, and whether a campaign may go out as
 * written (campaign.c, with fields.c: this file only prints the
 * problems, one a line), the progress display (progress.c), or sending
 * (the daemon).
 *
 * Exit codes: 0 done; 64 bad arguments; 65 bad data (an unknown list or
 * campaign, a subject or body that is not acceptable - a merge field
 * nobody on the list can have, an image that is not https:// - a
 * template that is missing or does not parse, editing a campaign that is
 * no longer a draft, an unknown subscriber); 66 a body file that cannot
 * be read; 69 the database cannot be opened; 70 any other database
 * failure; 73 a preview file that cannot be written; 75 the database is
 * busy; 78 a bad configuration or an unusable key file.  Illegal moves
 * (sending a sent campaign, pausing a draft, editing a scheduled one...)
 * and a time to send at that has passed are bad data: 65.  "send"
 * without --yes when standard input is not a terminal is a usage error:
 * 64, nothing queued; answering no to its question exits 1, nothing
 * queued.  "send --wait" exits 0 when the campaign is sent, 1 when it
 * ends paused, 2 when it ends cancelled, 130 when the watching is
 * interrupted (the campaign goes on).
 *
 * The command sets TZ to general.timezone, so that dates ("campaign.date",
 * the Date header, the times shown here) are the network's.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "campaign.h"
#include "cmd.h"
#include "cmd-campaign.h"
#include "conf.h"
#include "fields.h"
#include "newsletter.h"
#include "period.h"
#include "progress.h"
#include "store.h"
#include "token.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define CMD_CAMPAIGN_BODY_MAX		(1024 * 1024)
#define CMD_CAMPAIGN_SUBJECT_MAX	998

enum {
	OPT_SUBJECT = 1,
	OPT_BODY,
	OPT_TEMPLATE,
	OPT_JSON,
	OPT_LIST,
	OPT_SUBSCRIBER,
	OPT_EML,
	OPT_HTML,
	OPT_TEXT,
	OPT_TO,
	OPT_AT,
	OPT_WAIT,
	OPT_NOW,
	OPT_YES,
	OPT_PERMANENT,
};

static const struct option cmd_campaign_longopts[] = {
	{ "subject",	required_argument,	NULL, OPT_SUBJECT },
	{ "body",	required_argument,	NULL, OPT_BODY },
	{ "template",	required_argument,	NULL, OPT_TEMPLATE },
	{ "json",	no_argument,		NULL, OPT_JSON },
	{ "list",	required_argument,	NULL, OPT_LIST },
	{ "subscriber",	required_argument,	NULL, OPT_SUBSCRIBER },
	{ "eml",	required_argument,	NULL, OPT_EML },
	{ "html",	required_argument,	NULL, OPT_HTML },
	{ "text",	no_argument,		NULL, OPT_TEXT },
	{ "to",		required_argument,	NULL, OPT_TO },
	{ "at",		required_argument,	NULL, OPT_AT },
	{ "wait",	no_argument,		NULL, OPT_WAIT },
	{ "now",	no_argument,		NULL, OPT_NOW },
	{ "yes",	no_argument,		NULL, OPT_YES },
	{ "include-permanent", no_argument,	NULL, OPT_PERMANENT },
	{ NULL,		0,			NULL, 0 }
};


struct camp_cmd {
	const char	*name;
	const char	*usage;
	const char	*options;	/* the OPT_* it takes, as chars */
	int		 nargs;		/* positional arguments it needs */
	int		(*fn)(struct cmd_ctx *, struct camp_opts *);
};

static const struct camp_cmd	cmd_campaign_cmds[];


/* --- small helpers ------------------------------------------------------ */

/* The merge fields, from the one table of them (fields.c). */
static void
cmd_campaign_help_fields(FILE *f)
{
	const struct fields_doc	*d;
	const char		*h, *sp;
	size_t			 col, w;

	fprintf(f, "Merge fields in subjects and bodies (names match in any "
	    "case):\n");
	for (d = fields_table; d->name != NULL; d++) {
		if (!(d->flags & FIELDS_BODY))
			continue;
		fprintf(f, "  {{%s}}", d->name);
		col = strlen(d->name) + 6;
		/* The help from column 28, wrapped before column 80. */
		for (h = d->help; *h != '\0'; h = *sp == ' ' ? sp + 1 : sp) {
			if ((sp = strchr(h, ' ')) == NULL)
				sp = h + strlen(h);
			w = (size_t)(sp - h);
			if (col >= 28 && col + 1 + w > 79) {
				fprintf(f, "\n");
				col = 0;
			}
			for (; col < 28; col++)
				fputc(' ', f);
			if (col > 28)
				fputc(' ', f);
			fprintf(f, "%.*s", (int)w, h);
			col += w + (col > 28);
		}
		fputc('\n', f);
	}
	fprintf(f, "In the templates around the body also:");
	for (d = fields_table; d->name != NULL; d++) {
		if (d->flags & FIELDS_TEMPLATE)
			fprintf(f, " {{%s}}", d->name);
	}
	fprintf(f, ".\n"
	    "new, edit, preview, test and send refuse (exit 65) a subject or "
	    "body with a\n"
	    "merge field no member of the list can have (saying the nearest "
	    "one), or an\n"
	    "image whose address is not https://.  preview says how many "
	    "recipients lack\n"
	    "a field they would see empty.\n");
}

static void
cmd_campaign_help(FILE *f)
{
	size_t	i;

	cmd_usage(&cmd_campaign, f);
	fprintf(f, "\nWrite newsletters, look at them, send them and watch "
	    "them go.\n\n");
	for (i = 0; cmd_campaign_cmds[i].name != NULL; i++)
		fprintf(f, "  postroom campaign %s %s\n",
		    cmd_campaign_cmds[i].name, cmd_campaign_cmds[i].usage);
	fprintf(f, "\n"
	    "  new       make a draft for LIST and print its id; the body is "
	    "Markdown,\n"
	    "            the template NAME means NAME.html and NAME.txt in "
	    "the\n"
	    "            templates directory (default: newsletter)\n"
	    "  edit      change a draft (only a draft can be changed; a "
	    "scheduled one\n"
	    "            is unscheduled first)\n"
	    "  copy      a new draft with the list, subject, body and "
	    "template of any\n"
	    "            campaign; prints its id\n"
	    "  delete    remove a draft\n"
	    "  list      every campaign, newest first; --json: one object a "
	    "line\n"
	    "  show      one campaign and its body; --json: one object\n"
	    "  preview   the message a subscriber would get (a sample "
	    "subscriber\n"
	    "            unless --subscriber): the whole message on stdout or "
	    "in\n"
	    "            --eml FILE, its HTML part in --html FILE (open it in "
	    "a\n"
	    "            browser), its text part on stdout with --text\n"
	    "  test      queue one copy at once to ADDRESS, \"[TEST]\" in the "
	    "subject;\n"
	    "            the campaign is not changed; the copy's unsubscribe "
	    "and\n"
	    "            preferences links change nobody's subscription\n"
	    "  send      queue a draft for every confirmed member in "
	    "immediate mode\n"
	    "            (digest-mode members get it in the list's digest), "
	    "now or\n"
	    "            --at a local time to come (general.timezone); "
	    "postroomd sends\n"
	    "            it.  --now sends a scheduled campaign at once.  It "
	    "first asks\n"
	    "            Send \"SUBJECT\" to N people on LIST now? [y/N] "
	    "(and says so\n"
	    "            when no test copy was sent since the last edit); "
	    "--yes sends\n"
	    "            without asking, and is needed when standard input "
	    "is not a\n"
	    "            terminal.  --wait: watch it until it is done (a "
	    "progress bar\n"
	    "            on a terminal, a line every few seconds otherwise; "
	    "after 20s\n"
	    "            with no progress it asks whether postroomd is "
	    "running)\n"
	    "  unschedule  a scheduled campaign back to draft, its queued "
	    "messages\n"
	    "            removed\n"
	    "  status    status, counts (total, sent, deferred, failed, "
	    "skipped,\n"
	    "            pending), times and the rate of the last minute; "
	    "--json\n"
	    "  pause     stop sending (messages being sent finish); resume "
	    "goes on\n"
	    "  cancel    stop for good: the messages not yet sent never are\n"
	    "  retry-failed  queue again the recipients that failed for a "
	    "temporary\n"
	    "            reason (the server said 4xx until postroom gave up, "
	    "or the\n"
	    "            connection failed); --include-permanent: also those "
	    "refused\n"
	    "            for good (5xx) and those that could not be sent\n"
	    "  failures  each failed recipient with the server's reply; "
	    "--json\n"
	    "\n"
	    "\n");
	cmd_campaign_help_fields(f);
	fprintf(f, "\n"
	    "Exit status: 0 done, 64 bad arguments, 65 bad data (unknown list,"
	    " campaign\n"
	    "or subscriber, a bad subject, body or template, a move its "
	    "state does\n"
	    "not allow), 66 unreadable body file, 69 database cannot be "
	    "opened, 70\n"
	    "database failure, 73 preview file cannot be written, 75 database "
	    "busy,\n"
	    "78 bad configuration or key file.  send: 64 without --yes when "
	    "standard\n"
	    "input is not a terminal, 65 a time that has passed, 1 when the "
	    "answer is\n"
	    "no (nothing is queued in any of these).  send --wait: 0 sent, 1 "
	    "paused,\n"
	    "2 cancelled, 130 interrupted (the campaign goes on).\n");
}

/* A campaign id: a positive decimal integer. */
static int
cmd_campaign_id(const char *s, int64_t *id)
{
	char		*end;
	long long	 v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -1;
	*id = v;
	return 0;
}

struct conf *
cmd_campaign_conf(struct cmd_ctx *ctx)
{
	struct conf	*conf;
	char		*cause = NULL;

	if ((conf = cmd_conf(ctx)) == NULL)
		return NULL;
	/*
	 * Dates in merge fields and headers, --at and the times shown are
	 * the network's; period_zone() refuses a zone that does not exist
	 * (the C library would quietly use UTC).
	 */
	if (conf->general.timezone[0] != '\0' &&
	    period_zone(conf->general.timezone, &cause) == -1) {
		fprintf(stderr, "postroom: general.timezone: %s\n", cause);
		free(cause);
		return NULL;
	}
	return conf;
}

static int
cmd_campaign_list_ok(struct conf *conf, const char *slug)
{
	size_t	i;

	if (conf_list_find(conf, slug) != NULL)
		return 1;
	fprintf(stderr, "postroom: campaign: no list \"");
	cmd_put_safe(stderr, slug);
	fprintf(stderr, "\" in %s", conf->path != NULL ? conf->path :
	    "the configuration");
	if (conf->nlists > 0) {
		fprintf(stderr, " (lists:");
		for (i = 0; i < conf->nlists; i++)
			fprintf(stderr, " %s", conf->lists[i].slug);
		fprintf(stderr, ")");
	}
	fputc('\n', stderr);
	return 0;
}

/* One line of UTF-8 with something in it. */
static int
cmd_campaign_subject_ok(const char *s)
{
	size_t		 len = strlen(s), i;
	const char	*why = NULL;

	if (len > CMD_CAMPAIGN_SUBJECT_MAX)
		why = "is longer than 998 octets";
	else if (!utf8_valid(s, len))
		why = "is not valid UTF-8";
	else {
		for (i = 0; i < len; i++) {
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
				why = "holds a line break or control "
				    "character";
				break;
			}
		}
		if (why == NULL && strspn(s, " ") == len)
			why = "is empty";
	}
	if (why == NULL)
		return 1;
	fprintf(stderr, "postroom: campaign: the subject %s\n", why);
	return 0;
}

/*
 * Read a Markdown body: at most CMD_CAMPAIGN_BODY_MAX, UTF-8, no NULs.
 * Returns the text, or NULL with *rc set after saying why.
 */
static char *
cmd_campaign_body(const char *path, int *rc)
{
	struct buf	 b;
	size_t		 i = 0, line = 1;
	uint32_t	 cp;
	int		 n;

	buf_init(&b, CMD_CAMPAIGN_BODY_MAX);
	if (buf_read_file(&b, path) == -1) {
		if (errno == EFBIG) {
			fprintf(stderr, "postroom: campaign: %s: larger than "
			    "%d KiB\n", path, CMD_CAMPAIGN_BODY_MAX / 1024);
			*rc = EX_DATAERR;
		} else {
			fprintf(stderr, "postroom: campaign: %s: %s\n", path,
			    strerror(errno));
			*rc = EX_NOINPUT;
		}
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		buf_add(&b, "", 0);
	while (i < b.len) {
		if (b.data[i] == '\0' ||
		    (n = utf8_decode(b.data + i, b.len - i, &cp)) <= 0) {
			fprintf(stderr, "postroom: campaign: %s: line %zu: %s\n",
			    path, line, b.data[i] == '\0' ? "a NUL byte" :
			    "not valid UTF-8");
			*rc = EX_DATAERR;
			buf_free(&b);
			return NULL;
		}
		if (b.data[i] == '\n')
			line++;
		i += (size_t)n;
	}
	if (strspn(b.data, " \t\r\n") == b.len) {
		fprintf(stderr, "postroom: campaign: %s: the body is empty\n",
		    path);
		*rc = EX_DATAERR;
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/*
 * May campaign c go out as written (campaign_check())?  Says why not, each
 * problem on a line, then that nothing happened (what: "nothing saved").
 * EX_OK, EX_DATAERR, or a database failure's code.  With warn (a campaign
 * that has gone out: only looked at), the problems are warnings and EX_OK.
 * keep (may be NULL) gets the report, for the preview's notes; the caller
 * clears it.
 */
int
cmd_campaign_checked(struct conf *conf, struct store *s,
    const struct store_campaign *c, int warn, const char *what,
    struct fields_report *keep)
{
	struct fields_report	 r;
	enum campaign_fail	 fail;
	char			*cause = NULL;
	size_t			 i;

	if (campaign_check(conf, s, c, &r, &fail, &cause) == -1)
		return cmd_campaign_fail(s, fail, cause);
	for (i = 0; i < r.nproblems; i++) {
		fprintf(stderr, "postroom: campaign: %s", warn ? "warning: " :
		    "");
		cmd_put_safe(stderr, r.problems[i].message);
		fputc('\n', stderr);
	}
	if (r.nmore > 0)
		fprintf(stderr, "postroom: campaign: %s%zu more like them\n",
		    warn ? "warning: " : "", r.nmore);
	if (r.nproblems > 0 && !warn) {
		fprintf(stderr, "postroom: campaign: %zu problem%s: %s\n",
		    r.nproblems + r.nmore, r.nproblems + r.nmore == 1 ? "" :
		    "s", what);
		fields_report_clear(&r);
		return EX_DATAERR;
	}
	if (keep != NULL)
		*keep = r;
	else
		fields_report_clear(&r);
	return EX_OK;
}

/* Load campaign id: 1 found, else 0 with *rc set after saying why. */
int
cmd_campaign_get(struct store *s, int64_t id, struct store_campaign *c,
    int *rc)
{
	char	*cause = NULL;

	switch (store_campaign_get(s, id, c, &cause)) {
	case 1:
		return 1;
	case 0:
		fprintf(stderr, "postroom: campaign: no campaign %" PRId64 "\n",
		    id);
		*rc = EX_DATAERR;
		return 0;
	default:
		*rc = cmd_store_fail(s, cause);
		return 0;
	}
}

/* Write len bytes to path ("-": stdout), mode 0600 when created. */
static int
cmd_campaign_write(const char *path, const char *s, size_t len)
{
	FILE	*f;
	int	 fd, saved;

	if (strcmp(path, "-") == 0) {
		if ((len > 0 && fwrite(s, 1, len, stdout) != len) ||
		    fflush(stdout) == EOF) {
			fprintf(stderr, "postroom: campaign: stdout: %s\n",
			    strerror(errno));
			return EX_IOERR;
		}
		return EX_OK;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		fprintf(stderr, "postroom: campaign: %s: %s\n", path,
		    strerror(saved));
		return EX_CANTCREAT;
	}
	if ((len > 0 && fwrite(s, 1, len, f) != len) || fclose(f) == EOF) {
		fprintf(stderr, "postroom: campaign: %s: %s\n", path,
		    strerror(errno));
		return EX_CANTCREAT;
	}
	return EX_OK;
}

/* Print v as one line of JSON and free it: EX_OK, or EX_IOERR. */
int
cmd_campaign_json_out(struct value *v)
{
	int	rc;

	rc = cmd_print_json(v, 0) == 0 ? EX_OK : EX_IOERR;
	value_free(v);
	return rc;
}

static struct value *
cmd_campaign_json(const struct store_campaign *c)
{
	struct value	*v = value_new_object();

	value_object_set(v, "id", value_new_int(c->id));
	value_object_set(v, "list", value_new_string(c->list));
	value_object_set(v, "subject", value_new_string(c->subject));
	value_object_set(v, "template", value_new_string(c->template));
	value_object_set(v, "status", value_new_string(
	    store_campaign_status_name(c->status)));
	value_object_set(v, "created_by", value_new_string(c->created_by));
	value_object_set(v, "created_at", value_new_time(c->created_at));
	value_object_set(v, "updated_at", value_new_time(c->updated_at));
	value_object_set(v, "scheduled_at", value_new_time(c->scheduled_at));
	value_object_set(v, "started_at", value_new_time(c->started_at));
	value_object_set(v, "finished_at", value_new_time(c->finished_at));
	value_object_set(v, "tested_at", value_new_time(c->tested_at));
	value_object_set(v, "paused_reason", c->paused_reason[0] != '\0' ?
	    value_new_string(c->paused_reason) : value_new_null());
	if (c->body != NULL)
		value_object_set(v, "body", value_new_string(c->body));
	return v;
}

/*
 * The exit code after walking rows onto stdout: n is the walk's result
 * (-1 a store failure with cause, else non-zero when a row could not be
 * printed).
 */
int
cmd_campaign_walked(struct store *s, int n, char *cause)
{
	if (n == -1)
		return cmd_store_fail(s, cause);
	if (n != 0 || fflush(stdout) == EOF) {
		fprintf(stderr, "postroom: campaign: stdout: %s\n",
		    strerror(errno));
		return EX_IOERR;
	}
	return EX_OK;
}

/* --- the subcommands ----------------------------------------------------- */

static int
cmd_campaign_new(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	struct store_campaign	 c;
	char			*cause = NULL, detail[32];
	int64_t			 id;
	int			 rc = EX_OK;

	if (o->subject == NULL || o->body == NULL)
		return cmd_usage_error(&cmd_campaign, "%s", "new: --subject "
		    "and --body are required");
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (!cmd_campaign_list_ok(conf, o->args[0]) ||
	    !cmd_campaign_subject_ok(o->subject))
		return EX_DATAERR;

	memset(&c, 0, sizeof c);
	if ((c.body = cmd_campaign_body(o->body, &rc)) == NULL)
		return rc;
	c.list = xstrdup(o->args[0]);
	c.subject = xstrdup(o->subject);
	c.template = o->template != NULL ? xstrdup(o->template) : NULL;
	c.created_by = cmd_who();

	if ((s = cmd_store_open(conf, &rc)) == NULL) {
		store_campaign_clear(&c);
		return rc;
	}
	rc = cmd_campaign_checked(conf, s, &c, 0, "nothing saved", NULL);
	if (rc != EX_OK)
		goto out;
	if (store_campaign_add(s, &c, (int64_t)time(NULL), &id,
	    &cause) == -1)
		rc = cmd_store_fail(s, cause);
	else {
		snprintf(detail, sizeof detail, "%" PRId64, id);
		store_event(s, "campaign.new", detail, c.created_by);
		printf("%" PRId64 "\n", id);
		if (fflush(stdout) == EOF)
			rc = EX_IOERR;
	}
out:
	store_close(s);
	store_campaign_clear(&c);
	return rc;
}

static int
cmd_campaign_edit(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct store_campaign	 c;
	struct conf		*conf;
	struct store		*s;
	enum campaign_fail	 fail;
	char			*body = NULL, *cause = NULL, *who;
	int64_t			 id;
	int			 rc = EX_OK;

	if (cmd_campaign_id(o->args[0], &id) == -1)
		return cmd_usage_error(&cmd_campaign, "edit: \"%s\" is not a "
		    "campaign id", o->args[0]);
	if (o->subject == NULL && o->body == NULL && o->template == NULL)
		return cmd_usage_error(&cmd_campaign, "%s", "edit: nothing to "
		    "change (give --subject, --body or --template)");
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (o->subject != NULL && !cmd_campaign_subject_ok(o->subject))
		return EX_DATAERR;
	if (o->body != NULL && (body = cmd_campaign_body(o->body, &rc)) == NULL)
		return rc;

	if ((s = cmd_store_open(conf, &rc)) == NULL) {
		free(body);
		return rc;
	}
	/*
	 * The problems one a line, before campaign.c checks them again (and
	 * its status) and renders it as it will be.
	 */
	memset(&c, 0, sizeof c);
	if (!cmd_campaign_get(s, id, &c, &rc))
		goto out;
	if (c.status == STORE_CAMPAIGN_DRAFT) {
		campaign_apply_edit(&c, o->subject, body, o->template);
		if ((rc = cmd_campaign_checked(conf, s, &c, 0,
		    "nothing changed", NULL)) != EX_OK)
			goto out;
	}
	who = cmd_who();
	if (campaign_edit(conf, s, id, o->subject, body, o->template, who,
	    (int64_t)time(NULL), &fail, &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	free(who);
out:
	store_campaign_clear(&c);
	store_close(s);
	free(body);
	return rc;
}

static int
cmd_campaign_copy(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	enum campaign_fail	 fail;
	char			*cause = NULL, *who;
	int64_t			 id, copy;
	int			 rc;

	if ((rc = cmd_campaign_start(ctx, o, "copy", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	who = cmd_who();
	if (campaign_copy(s, id, who, (int64_t)time(NULL), &copy, &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else {
		/* Only the id, as "new" prints: for scripts. */
		printf("%" PRId64 "\n", copy);
		if (fflush(stdout) == EOF)
			rc = EX_IOERR;
	}
	free(who);
	store_close(s);
	return rc;
}

static int
cmd_campaign_delete(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	enum campaign_fail	 fail;
	char			*cause = NULL, *who;
	int64_t			 id;
	int			 rc;

	if ((rc = cmd_campaign_start(ctx, o, "delete", &id, &conf,
	    &s)) != EX_OK)
		return rc;
	who = cmd_who();
	if (campaign_delete(s, id, who, (int64_t)time(NULL), &fail,
	    &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else
		printf("campaign %" PRId64 ": draft deleted\n", id);
	free(who);
	store_close(s);
	return rc;
}

static int
cmd_campaign_list_one(const struct store_campaign *c, void *arg)
{
	struct camp_opts	*o = arg;
	char			 when[32];

	if (o->json)
		return cmd_campaign_json_out(cmd_campaign_json(c)) == EX_OK ?
		    0 : -2;
	printf("%-6" PRId64 " %-10s %-16s %-16s ", c->id,
	    store_campaign_status_name(c->status), c->list,
	    cmd_when(c->created_at, when, sizeof when));
	cmd_put_safe(stdout, c->subject);
	putchar('\n');
	return 0;
}

static int
cmd_campaign_list(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf	*conf;
	struct store	*s;
	char		*cause = NULL;
	int		 rc = EX_OK, n;

	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (o->list != NULL && !cmd_campaign_list_ok(conf, o->list))
		return EX_DATAERR;
	if ((s = cmd_store_open(conf, &rc)) == NULL)
		return rc;
	if (!o->json)
		printf("%-6s %-10s %-16s %-16s %s\n", "ID", "STATUS", "LIST",
		    "CREATED", "SUBJECT");
	n = store_campaign_each(s, o->list, cmd_campaign_list_one, o, &cause);
	rc = cmd_campaign_walked(s, n, cause);
	store_close(s);
	return rc;
}

static int
cmd_campaign_show(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	struct store_campaign	 c;
	char			 when[32];
	int64_t			 id;
	int			 rc = EX_OK;

	if (cmd_campaign_id(o->args[0], &id) == -1)
		return cmd_usage_error(&cmd_campaign, "show: \"%s\" is not a "
		    "campaign id", o->args[0]);
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((s = cmd_store_open(conf, &rc)) == NULL)
		return rc;
	if (!cmd_campaign_get(s, id, &c, &rc)) {
		store_close(s);
		return rc;
	}
	if (o->json)
		rc = cmd_campaign_json_out(cmd_campaign_json(&c));
	else {
		printf("campaign:  %" PRId64 "\n", c.id);
		printf("list:      %s\n", c.list);
		printf("status:    %s", store_campaign_status_name(c.status));
		if (c.paused_reason[0] != '\0') {
			printf(" (");
			cmd_put_safe(stdout, c.paused_reason);
			printf(")");
		}
		printf("\nsubject:   ");
		cmd_put_safe(stdout, c.subject);
		printf("\ntemplate:  %s\n", c.template);
		printf("created:   %s", cmd_when(c.created_at, when,
		    sizeof when));
		if (c.created_by[0] != '\0') {
			printf(" by ");
			cmd_put_safe(stdout, c.created_by);
		}
		printf("\nupdated:   %s\n", cmd_when(c.updated_at,
		    when, sizeof when));
		if (c.status == STORE_CAMPAIGN_DRAFT ||
		    c.status == STORE_CAMPAIGN_SCHEDULED)
			printf("tested:    %s\n", c.tested_at != 0 ?
			    cmd_when(c.tested_at, when, sizeof when) :
			    "no test copy since the last change");
		if (c.scheduled_at != 0)
			printf("scheduled: %s\n", cmd_when(
			    c.scheduled_at, when, sizeof when));
		if (c.started_at != 0)
			printf("started:   %s\n", cmd_when(
			    c.started_at, when, sizeof when));
		if (c.finished_at != 0)
			printf("finished:  %s\n", cmd_when(
			    c.finished_at, when, sizeof when));
		printf("\n%s", c.body);
		if (c.body[0] != '\0' && c.body[strlen(c.body) - 1] != '\n')
			putchar('\n');
		if (fflush(stdout) == EOF)
			rc = EX_IOERR;
	}
	store_campaign_clear(&c);
	store_close(s);
	return rc;
}

/*
 * "note: 14 of 230 recipients have no subscriber.organisation; it will
 * be empty for them", for each field some of the list's recipients lack.
 */
static void
cmd_campaign_gaps(const struct fields_report *r)
{
	const struct fields_use	*u;
	size_t			 i;

	for (i = 0; i < r->nuses; i++) {
		u = &r->uses[i];
		if (u->lacking == 0)
			continue;
		fprintf(stderr, "postroom: campaign: note: %" PRId64 " of %"
		    PRId64 " recipient%s %s no ", u->lacking, u->recipients,
		    u->recipients == 1 ? "" : "s", u->lacking == 1 ? "has" :
		    "have");
		cmd_put_safe(stderr, u->field);
		fprintf(stderr, "; it will be empty for them\n");
	}
}

static int
cmd_campaign_preview(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf			*conf;
	struct store			*s;
	struct store_campaign		 c;
	struct store_subscriber		 sub;
	const struct store_subscriber	*who;
	struct newsletter		*nl = NULL;
	struct newsletter_parts		 parts;
	struct fields_report		 report;
	struct buf			 msg;
	unsigned char			 key[TOKEN_KEY_LEN];
	char				*cause = NULL, *addr = NULL, *from;
	int64_t				 id;
	time_t				 now = time(NULL);
	int				 rc = EX_OK, found;

	if (cmd_campaign_id(o->args[0], &id) == -1)
		return cmd_usage_error(&cmd_campaign, "preview: \"%s\" is not "
		    "a campaign id", o->args[0]);
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (o->subscriber != NULL &&
	    (addr = cmd_address(&cmd_campaign, o->subscriber)) == NULL)
		return EX_DATAERR;
	if ((s = cmd_store_open(conf, &rc)) == NULL) {
		free(addr);
		return rc;
	}
	memset(&sub, 0, sizeof sub);
	memset(&parts, 0, sizeof parts);
	memset(&report, 0, sizeof report);
	buf_init(&msg, NEWSLETTER_MAX_MESSAGE);
	if (!cmd_campaign_get(s, id, &c, &rc)) {
		store_close(s);
		free(addr);
		return rc;
	}

	/* Step 1: who it is for. */
	if (addr != NULL) {
		found = store_subscriber_get(s, addr, &sub, &cause);
		if (found == -1) {
			rc = cmd_store_fail(s, cause);
			goto out;
		}
		if (found == 0) {
			fprintf(stderr, "postroom: campaign: no subscriber %s\n",
			    addr);
			rc = EX_DATAERR;
			goto out;
		}
		who = &sub;
	} else {
		who = newsletter_sample();
		fprintf(stderr, "postroom: campaign: previewing for a sample "
		    "subscriber, \"%s\" <%s> (--subscriber EMAIL for a real "
		    "one)\n", who->name, who->email);
	}

	/*
	 * Step 2: could it go out as written?  A draft that could not is
	 * refused; one that has gone out is shown as it went.  Then who
	 * would see a field empty.
	 */
	if ((rc = cmd_campaign_checked(conf, s, &c, c.status !=
	    STORE_CAMPAIGN_DRAFT, "no preview (edit the campaign first)",
	    &report)) != EX_OK)
		goto out;
	if (campaign_field_gaps(s, c.list, &report, &cause) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	cmd_campaign_gaps(&report);

	/* Step 3: the key, the campaign as prepared for sending. */
	if (token_key_load(conf->general.secret_file, 1, key, &cause) == -1) {
		fprintf(stderr, "postroom: campaign: %s\n", cause);
		free(cause);
		rc = EX_CONFIG;
		goto out;
	}
	nl = newsletter_prepare(conf, &c, key, &cause);
	explicit_bzero(key, sizeof key);
	if (nl == NULL) {
		fprintf(stderr, "postroom: campaign %" PRId64 ": %s\n", id,
		    cause);
		free(cause);
		rc = EX_DATAERR;
		goto out;
	}

	/* Step 4: what was asked for; the whole message when nothing was. */
	if (o->eml != NULL || (o->html == NULL && !o->text)) {
		if (newsletter_render(nl, who, now, &msg, &from,
		    &cause) == -1) {
			fprintf(stderr, "postroom: campaign %" PRId64 ": %s\n",
			    id, cause);
			free(cause);
			rc = EX_DATAERR;
			goto out;
		}
		free(from);
		rc = cmd_campaign_write(o->eml != NULL ? o->eml : "-",
		    msg.data, msg.len);
		if (rc != EX_OK)
			goto out;
	}
	if (o->html != NULL || o->text) {
		if (newsletter_render_parts(nl, who, now, &parts,
		    &cause) == -1) {
			fprintf(stderr, "postroom: campaign %" PRId64 ": %s\n",
			    id, cause);
			free(cause);
			rc = EX_DATAERR;
			goto out;
		}
		if (o->html != NULL) {
			rc = cmd_campaign_write(o->html, parts.html,
			    strlen(parts.html));
			if (rc != EX_OK)
				goto out;
		}
		if (o->text)
			rc = cmd_campaign_write("-", parts.text,
			    strlen(parts.text));
	}

out:
	fields_report_clear(&report);
	newsletter_parts_clear(&parts);
	newsletter_free(nl);
	buf_free(&msg);
	store_subscriber_clear(&sub);
	store_campaign_clear(&c);
	store_close(s);
	free(addr);
	return rc;
}

/* --- shared with cmd-campaign-send.c (cmd-campaign.h) ------------------- */

/* A campaign_* failure: say why once and pick the exit code. */
int
cmd_campaign_fail(struct store *s, enum campaign_fail fail, char *cause)
{
	if (fail == CAMPAIGN_FAIL_STORE)
		return cmd_store_fail(s, cause);
	fprintf(stderr, "postroom: campaign: ");
	cmd_put_safe(stderr, cause != NULL ? cause : "failed");
	fputc('\n', stderr);
	free(cause);
	return EX_DATAERR;
}

/* The id argument of a subcommand, or EX_USAGE after saying so. */
int
cmd_campaign_arg_id(struct camp_opts *o, const char *name, int64_t *id)
{
	if (cmd_campaign_id(o->args[0], id) == 0)
		return EX_OK;
	fprintf(stderr, "postroom: campaign: %s: \"", name);
	cmd_put_safe(stderr, o->args[0]);
	fprintf(stderr, "\" is not a campaign id\n");
	cmd_usage(&cmd_campaign, stderr);
	return EX_USAGE;
}

/* Open the configuration and the database for subcommand name. */
int
cmd_campaign_start(struct cmd_ctx *ctx, struct camp_opts *o,
    const char *name, int64_t *id, struct conf **conf, struct store **s)
{
	int	rc;

	if ((rc = cmd_campaign_arg_id(o, name, id)) != EX_OK)
		return rc;
	if ((*conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((*s = cmd_store_open(*conf, &rc)) == NULL)
		return rc;
	return EX_OK;
}


static int
cmd_campaign_test(struct cmd_ctx *ctx, struct camp_opts *o)
{
	struct conf		*conf;
	struct store		*s;
	struct store_campaign	 c;
	enum campaign_fail	 fail;
	unsigned char		 key[TOKEN_KEY_LEN];
	char			*cause = NULL, *addr = NULL;
	int64_t			 id, row;
	int			 rc;

	if ((rc = cmd_campaign_arg_id(o, "test", &id)) != EX_OK)
		return rc;
	if (o->to == NULL)
		return cmd_usage_error(&cmd_campaign, "%s", "test: --to "
		    "ADDRESS is required");
	if ((conf = cmd_campaign_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((addr = cmd_address(&cmd_campaign, o->to)) == NULL)
		return EX_DATAERR;
	if (token_key_load(conf->general.secret_file, 1, key, &cause) == -1) {
		fprintf(stderr, "postroom: campaign: %s\n", cause);
		free(cause);
		free(addr);
		return EX_CONFIG;
	}
	if ((s = cmd_store_open(conf, &rc)) == NULL) {
		explicit_bzero(key, sizeof key);
		free(addr);
		return rc;
	}
	/*
	 * A draft that could not be sent gets no test copy either; one
	 * that has gone out is tested as it went, with warnings.
	 */
	if (!cmd_campaign_get(s, id, &c, &rc))
		goto out;
	rc = cmd_campaign_checked(conf, s, &c, c.status !=
	    STORE_CAMPAIGN_DRAFT, "no test copy queued", NULL);
	store_campaign_clear(&c);
	if (rc != EX_OK)
		goto out;
	if (campaign_test(conf, s, key, id, addr, (int64_t)time(NULL), &row,
	    &fail, &cause) == -1)
		rc = cmd_campaign_fail(s, fail, cause);
	else
		printf("campaign %" PRId64 ": test copy queued for %s (outbox "
		    "%" PRId64 "); postroomd sends it\n", id, addr, row);
out:
	explicit_bzero(key, sizeof key);
	store_close(s);
	free(addr);
	return rc;
}

static const struct camp_cmd cmd_campaign_cmds[] = {
	{ "new", "LIST --subject TEXT --body FILE.md [--template NAME]",
	  (const char []){ OPT_SUBJECT, OPT_BODY, OPT_TEMPLATE, 0 }, 1,
	  cmd_campaign_new },
	{ "edit", "ID [--subject TEXT] [--body FILE.md] [--template NAME]",
	  (const char []){ OPT_SUBJECT, OPT_BODY, OPT_TEMPLATE, 0 }, 1,
	  cmd_campaign_edit },
	{ "list", "[--list LIST] [--json]",
	  (const char []){ OPT_LIST, OPT_JSON, 0 }, 0, cmd_campaign_list },
	{ "show", "ID [--json]",
	  (const char []){ OPT_JSON, 0 }, 1, cmd_campaign_show },
	{ "preview", "ID [--subscriber EMAIL] [--eml FILE] [--html FILE] "
	  "[--text]",
	  (const char []){ OPT_SUBSCRIBER, OPT_EML, OPT_HTML, OPT_TEXT, 0 }, 1,
	  cmd_campaign_preview },
	{ "test", "ID --to ADDRESS",
	  (const char []){ OPT_TO, 0 }, 1, cmd_campaign_test },
	{ "copy", "ID", (const char []){ 0 }, 1, cmd_campaign_copy },
	{ "delete", "ID", (const char []){ 0 }, 1, cmd_campaign_delete },
	{ "send", "ID [--at \"YYYY-MM-DD HH:MM\" | --now] [--yes] [--wait]",
	  (const char []){ OPT_AT, OPT_NOW, OPT_YES, OPT_WAIT, 0 }, 1,
	  cmd_campaign_send },
	{ "unschedule", "ID", (const char []){ 0 }, 1,
	  cmd_campaign_unschedule },
	{ "status", "ID [--json]",
	  (const char []){ OPT_JSON, 0 }, 1, cmd_campaign_status },
	{ "pause", "ID", (const char []){ 0 }, 1, cmd_campaign_pause },
	{ "resume", "ID", (const char []){ 0 }, 1, cmd_campaign_resume },
	{ "cancel", "ID", (const char []){ 0 }, 1, cmd_campaign_cancel },
	{ "retry-failed", "ID [--include-permanent]",
	  (const char []){ OPT_PERMANENT, 0 }, 1, cmd_campaign_retry },
	{ "failures", "ID [--json]",
	  (const char []){ OPT_JSON, 0 }, 1, cmd_campaign_failures },
	{ NULL, NULL, NULL, 0, NULL },
};

/* --- dispatch --------------------------------------------------------------- */

static int
cmd_campaign_run(struct cmd_ctx *ctx, const struct camp_cmd *cc, int argc,
    char **argv)
{
	struct camp_opts	 o;
	const struct option	*lo;
	int			 ch;

	memset(&o, 0, sizeof o);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", cmd_campaign_longopts,
	    NULL)) != -1) {
		if (ch == ':')
			return cmd_usage_error(&cmd_campaign, "%s needs an "
			    "argument", argv[optind - 1]);
		if (ch == '?' || strchr(cc->options, ch) == NULL) {
			for (lo = cmd_campaign_longopts; lo->name != NULL; lo++)
				if (lo->val == ch)
					break;
			fprintf(stderr, "postroom: campaign: %s: ", cc->name);
			if (ch != '?' && lo->name != NULL)
				fprintf(stderr, "--%s is not an option here\n",
				    lo->name);
			else
				fprintf(stderr, "unknown option %s\n",
				    argv[optind - 1]);
			cmd_usage(&cmd_campaign, stderr);
			return EX_USAGE;
		}
		switch (ch) {
		case OPT_SUBJECT:
			o.subject = optarg;
			break;
		case OPT_BODY:
			o.body = optarg;
			break;
		case OPT_TEMPLATE:
			o.template = optarg;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case OPT_LIST:
			o.list = optarg;
			break;
		case OPT_SUBSCRIBER:
			o.subscriber = optarg;
			break;
		case OPT_EML:
			o.eml = optarg;
			break;
		case OPT_HTML:
			o.html = optarg;
			break;
		case OPT_TEXT:
			o.text = 1;
			break;
		case OPT_TO:
			o.to = optarg;
			break;
		case OPT_AT:
			o.at = optarg;
			break;
		case OPT_WAIT:
			o.wait = 1;
			break;
		case OPT_NOW:
			o.now = 1;
			break;
		case OPT_YES:
			o.yes = 1;
			break;
		case OPT_PERMANENT:
			o.permanent = 1;
			break;
		}
	}
	o.args = argv + optind;
	o.nargs = argc - optind;
	if (o.nargs != cc->nargs) {
		fprintf(stderr, "postroom: campaign: %s: ", cc->name);
		if (o.nargs > cc->nargs)
			fprintf(stderr, "unexpected argument \"%s\"\n",
			    o.args[cc->nargs]);
		else
			fprintf(stderr, "missing argument\n");
		fprintf(stderr, "usage: postroom campaign %s %s\n", cc->name,
		    cc->usage);
		return EX_USAGE;
	}
	return cc->fn(ctx, &o);
}

static int
cmd_campaign_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	size_t	i;

	if (cmd_wants_help(argc, argv)) {
		cmd_campaign_help(stdout);
		return EX_OK;
	}
	if (argc < 2) {
		fprintf(stderr, "postroom: campaign: which command?\n");
		cmd_campaign_help(stderr);
		return EX_USAGE;
	}
	for (i = 0; cmd_campaign_cmds[i].name != NULL; i++) {
		if (strcmp(argv[1], cmd_campaign_cmds[i].name) == 0)
			return cmd_campaign_run(ctx, &cmd_campaign_cmds[i],
			    argc - 1, argv + 1);
	}
	return cmd_usage_error(&cmd_campaign, "unknown command \"%s\"",
	    argv[1]);
}

const struct cmd cmd_campaign = {
	.name = "campaign",
	.usage = "new|edit|copy|delete|list|show|preview|test|send|"
	    "unschedule|status|pause|resume|cancel|retry-failed|failures ...",
	.help = "newsletters: write, preview, test, send, watch and steer",
	.exec = cmd_campaign_exec,
};
