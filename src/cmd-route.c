/*
 * cmd-route.c - "postroom route": what the rules would do with some mail,
 * without doing it.
 *
 *   postroom route --explain FILE...
 *	the chosen lead, the rule, the evidence (which words matched in
 *	which part), the region, the runners-up and their scores, and
 *	whether an acknowledgement would go out
 *   postroom route --dry-run [--json] PATH...
 *	one line per message (files, Maildirs, or folders of *.eml), then
 *	a table by lead; with --json one JSON object per message on stdout
 *	(file, lead, rule, autoreply, ...) and the table on stderr
 *
 * Nothing is sent, nothing is recorded.  The "one acknowledgement per
 * sender per day" limit needs the database and is not applied here.
 *
 * Owns: the command's options, output and exit codes (64 usage, 66 a
 * path that cannot be read, 78 a bad configuration).  Does not own: the
 * decision (route.c, autoreply.c) or parsing (mime-parse.c, in the same
 * confined child as the daemon's, parser.c: a file the user chose is
 * still mail a stranger wrote).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "autoreply.h"
#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "json.h"
#include "message.h"
#include "mime-parse.h"
#include "parser.h"
#include "route.h"
#include "unsubscribe.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_route;

static const struct option cmd_route_options[] = {
	{ "explain",	no_argument,	NULL, 'e' },
	{ "dry-run",	no_argument,	NULL, 'n' },
	{ "json",	no_argument,	NULL, 'j' },
	{ NULL,		0,		NULL, 0 }
};

/* One message's whole outcome, as enquiry.c would see it. */
struct cmd_route_one {
	struct message		*msg;
	struct route_decision	 d;
	int			 bounce;
	int			 unsubscribe;	/* to unsubscribe+TOKEN@ */
	int			 reply;
	char			 reference[ROUTE_REFERENCE_MAX];
	int			 autoreply;
	char			 why[AUTOREPLY_WHY_MAX + 32];
};

struct cmd_route_tally {
	char	*lead;
	size_t	 n;
	size_t	 acks;
};

struct cmd_route_state {
	const struct conf	*conf;
	struct router		*router;
	struct parser		*parser;
	struct mime_parse_limits lim;
	int			 json;
	int			 errors;
	struct cmd_route_tally	*tally;
	size_t			 ntally;
	size_t			 total;
	size_t			 acks;
};

static void
cmd_route_help(void)
{
	cmd_usage(&cmd_route, stdout);
	printf("\nShow what the routing rules would do; nothing is sent or "
	    "recorded.\n\n"
	    "  --explain FILE...   for each message: the lead, the rule, the "
	    "evidence,\n"
	    "                      the region, the runners-up and their "
	    "scores, and\n"
	    "                      whether it would be acknowledged\n"
	    "  --dry-run PATH...   one line per message (files, Maildirs, "
	    "folders of\n"
	    "                      *.eml) and a table by lead\n"
	    "  --json              with --dry-run: one JSON object per "
	    "message (file,\n"
	    "                      lead, rule, autoreply, ...); the table "
	    "goes to\n"
	    "                      standard error\n\n"
	    "\"autoreply\" follows RFC 3834 but cannot apply the one-a-day "
	    "limit,\nwhich needs the database.\n");
}

/* Read, parse and decide one file.  -1 (already reported) when unread. */
static int
cmd_route_one(struct cmd_route_state *st, const char *path,
    struct cmd_route_one *o)
{
	const struct conf	*conf = st->conf;
	struct buf		 raw;
	char			*cause, awhy[AUTOREPLY_WHY_MAX];

	memset(o, 0, sizeof *o);
	buf_init(&raw, st->lim.max_size + 1);
	if (buf_read_file(&raw, path) == -1) {
		fprintf(stderr, "postroom: route: %s: %s\n", path,
		    errno == EFBIG ? "larger than inbound.max_message_size" :
		    strerror(errno));
		buf_free(&raw);
		st->errors++;
		return -1;
	}
	if (parser_parse(st->parser, raw.data != NULL ? raw.data : "",
	    raw.len, &o->msg, &cause) == -1) {
		fprintf(stderr, "postroom: route: %s: %s\n", path, cause);
		free(cause);
		st->errors++;
	}
	buf_free(&raw);
	if (router_decide(st->router, o->msg, &o->d, &cause) == -1) {
		fprintf(stderr, "postroom: route: %s: %s\n", path, cause);
		free(cause);
		message_free(o->msg);
		o->msg = NULL;
		st->errors++;
		return -1;
	}
	o->bounce = route_is_bounce(conf, o->msg);
	o->unsubscribe = !o->bounce && o->msg->status != MESSAGE_FAILED &&
	    unsubscribe_addressed(conf, o->msg);
	o->reply = route_find_reference(o->msg, conf->general.reference_prefix,
	    o->reference, sizeof o->reference);
	if (o->bounce)
		snprintf(o->why, sizeof o->why, "a bounce, not an enquiry");
	else if (o->unsubscribe)
		snprintf(o->why, sizeof o->why, "an unsubscribe request, not "
		    "an enquiry");
	else if (o->reply)
		snprintf(o->why, sizeof o->why, "a reply to %s", o->reference);
	else if (!autoreply_allowed(conf, o->msg, awhy, sizeof awhy))
		snprintf(o->why, sizeof o->why, "%s", awhy);
	else
		o->autoreply = 1;
	return 0;
}

static void
cmd_route_one_free(struct cmd_route_one *o)
{
	route_decision_free(&o->d);
	message_free(o->msg);
}

static const char *
cmd_route_how(enum route_how how)
{
	switch (how) {
	case ROUTE_SCORE:
		return "score";
	case ROUTE_FIRST:
		return "first";
	case ROUTE_DEFAULT:
		break;
	}
	return "default";
}

static void
cmd_route_count(struct cmd_route_state *st, const struct cmd_route_one *o)
{
	size_t	i;

	for (i = 0; i < st->ntally; i++) {
		if (strcmp(st->tally[i].lead, o->d.lead) == 0)
			break;
	}
	if (i == st->ntally) {
		st->tally = xreallocarray(st->tally, st->ntally + 1,
		    sizeof *st->tally);
		st->tally[i].lead = xstrdup(o->d.lead);
		st->tally[i].n = st->tally[i].acks = 0;
		st->ntally++;
	}
	st->tally[i].n++;
	st->total++;
	if (o->autoreply) {
		st->tally[i].acks++;
		st->acks++;
	}
}

static void
cmd_route_line(struct cmd_route_state *st, const char *path,
    const struct cmd_route_one *o)
{
	struct value	*v;
	char		*s;

	if (!st->json) {
		printf("%-28s %-20s %-24s %s%s\n", path, o->d.lead,
		    *o->d.rule != '\0' ? o->d.rule : "(default)",
		    o->autoreply ? "ack" : "no ack: ",
		    o->autoreply ? "" : o->why);
		return;
	}
	v = value_new_object();
	value_object_set(v, "file", value_new_string(path));
	value_object_set(v, "lead", value_new_string(o->d.lead));
	value_object_set(v, "rule", value_new_string(o->d.rule));
	value_object_set(v, "how", value_new_string(cmd_route_how(o->d.how)));
	value_object_set(v, "score", value_new_int((long long)o->d.score));
	value_object_set(v, "autoreply", value_new_bool(o->autoreply));
	value_object_set(v, "no_autoreply_reason", o->autoreply ?
	    value_new_null() : value_new_string(o->why));
	value_object_set(v, "bounce", value_new_bool(o->bounce));
	value_object_set(v, "unsubscribe", value_new_bool(o->unsubscribe));
	value_object_set(v, "reference", o->reply ?
	    value_new_string(o->reference) : value_new_null());
	value_object_set(v, "region", value_new_string(o->d.region));
	value_object_set(v, "reason", value_new_string(o->d.reason));
	value_object_set(v, "parse", value_new_string(
	    o->msg->status == MESSAGE_OK ? "ok" :
	    o->msg->status == MESSAGE_DEFECTIVE ? "defective" :
	    o->msg->status == MESSAGE_LIMITS ? "limits" : "failed"));
	s = json_write(v, 0);
	printf("%s\n", s);
	free(s);
	value_free(v);
}

static int
cmd_route_namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A message file in a plain folder: NAME.eml, or all digits (MH). */
static int
cmd_route_wanted(const char *name)
{
	size_t	len = strlen(name);

	if (name[0] == '.')
		return 0;
	if (len > 4 && strcmp(name + len - 4, ".eml") == 0)
		return 1;
	return strspn(name, "0123456789") == len;
}

static int
cmd_route_isdir(const char *dir, const char *sub)
{
	struct stat	 sb;
	char		*p;
	int		 r;

	p = xprintf("%s/%s", dir, sub);
	r = stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
	free(p);
	return r;
}

static void cmd_route_path(struct cmd_route_state *, const char *);

/* The files of dir, sorted; all regular files when all is set. */
static void
cmd_route_dir(struct cmd_route_state *st, const char *dir, int all)
{
	DIR		 *d;
	struct dirent	 *de;
	struct stat	  sb;
	char		**names = NULL, *p;
	size_t		  n = 0, i;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "postroom: route: %s: %s\n", dir,
		    strerror(errno));
		st->errors++;
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (!all && !cmd_route_wanted(
		    de->d_name)))
			continue;
		p = xprintf("%s/%s", dir, de->d_name);
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			names = xreallocarray(names, n + 1, sizeof *names);
			names[n++] = p;
		} else
			free(p);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmd_route_namecmp);
	for (i = 0; i < n; i++) {
		cmd_route_path(st, names[i]);
		free(names[i]);
	}
	free(names);
}

static void
cmd_route_path(struct cmd_route_state *st, const char *path)
{
	struct cmd_route_one	 o;
	struct stat		 sb;
	char			*sub;

	if (stat(path, &sb) == -1) {
		fprintf(stderr, "postroom: route: %s: %s\n", path,
		    strerror(errno));
		st->errors++;
		return;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (cmd_route_isdir(path, "cur") &&
		    cmd_route_isdir(path, "new")) {
			sub = xprintf("%s/new", path);
			cmd_route_dir(st, sub, 1);
			free(sub);
			sub = xprintf("%s/cur", path);
			cmd_route_dir(st, sub, 1);
			free(sub);
		} else
			cmd_route_dir(st, path, 0);
		return;
	}
	if (cmd_route_one(st, path, &o) == -1)
		return;
	cmd_route_line(st, path, &o);
	cmd_route_count(st, &o);
	cmd_route_one_free(&o);
}

static void
cmd_route_summary(struct cmd_route_state *st, FILE *f)
{
	const struct conf	*conf = st->conf;
	size_t			 i, j, n, acks;

	fprintf(f, "\n%-24s %8s %8s\n", "lead", "messages", "acks");
	for (i = 0; i < conf->nleads; i++) {
		n = acks = 0;
		for (j = 0; j < st->ntally; j++) {
			if (strcmp(st->tally[j].lead,
			    conf->leads[i].key) == 0) {
				n = st->tally[j].n;
				acks = st->tally[j].acks;
			}
		}
		fprintf(f, "%-24s %8zu %8zu\n", conf->leads[i].key, n, acks);
	}
	for (j = 0; j < st->ntally; j++) {
		if (conf_lead_find(conf, st->tally[j].lead) == NULL)
			fprintf(f, "%-24s %8zu %8zu  (not in leads)\n",
			    st->tally[j].lead, st->tally[j].n,
			    st->tally[j].acks);
	}
	fprintf(f, "%-24s %8zu %8zu\n", "total", st->total, st->acks);
}

static void
cmd_route_explain(struct cmd_route_state *st, const char *path)
{
	struct cmd_route_one	 o;
	const struct message	*m;

	if (cmd_route_one(st, path, &o) == -1)
		return;
	m = o.msg;
	printf("file:       %s\n", path);
	if (m->status != MESSAGE_OK)
		printf("parsed:     %s%s%s\n",
		    m->status == MESSAGE_DEFECTIVE ? "with repairs" :
		    m->status == MESSAGE_LIMITS ? "cut short at a limit" :
		    "not at all",
		    *m->status_detail != '\0' ? ": " : "", m->status_detail);
	printf("from:       %s%s%s%s\n", m->from.name,
	    *m->from.name != '\0' ? " <" : "", m->from.addr,
	    *m->from.name != '\0' ? ">" : "");
	printf("subject:    %s\n", m->subject);
	route_explain(&o.d, stdout);
	if (o.bounce)
		printf("bounce:     yes: recorded against what it bounces, "
		    "not routed as an enquiry\n");
	if (o.unsubscribe)
		printf("unsubscribe: yes: sent to a newsletter's unsubscribe "
		    "address; its token\n             decides, nothing is "
		    "sent, not routed as an enquiry\n");
	if (o.reply)
		printf("reply to:   %s: goes to that enquiry's lead\n",
		    o.reference);
	if (o.autoreply)
		printf("acknowledgement: yes (unless this sender had one "
		    "today)\n");
	else
		printf("acknowledgement: no: %s\n", o.why);
	printf("nothing was sent.\n");
	cmd_route_one_free(&o);
}

static int
cmd_route_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_route_state	 st;
	struct conf		*conf;
	char			*cause;
	size_t			 i;
	int			 ch, explain = 0, dry = 0, json = 0, first = 1;

	if (cmd_wants_help(argc, argv)) {
		cmd_route_help();
		return EX_OK;
	}
	while ((ch = getopt_long(argc, argv, "", cmd_route_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'e':
			explain = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'j':
			json = 1;
			break;
		default:
			cmd_usage(&cmd_route, stderr);
			return EX_USAGE;
		}
	}
	if (explain + dry != 1 || (json && !dry) || optind >= argc) {
		cmd_usage(&cmd_route, stderr);
		return EX_USAGE;
	}
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;

	memset(&st, 0, sizeof st);
	st.conf = conf;
	st.json = json;
	mime_parse_limits_conf(&st.lim, conf);
	if ((st.router = router_new(conf, &cause)) == NULL) {
		fprintf(stderr, "postroom: route: %s\n", cause);
		free(cause);
		return EX_CONFIG;
	}
	if ((st.parser = parser_start(conf, &cause)) == NULL) {
		fprintf(stderr, "postroom: route: cannot start the parser: "
		    "%s\n", cause);
		free(cause);
		router_free(st.router);
		return EX_SOFTWARE;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (explain) {
			if (!first)
				putchar('\n');
			first = 0;
			cmd_route_explain(&st, argv[i]);
		} else
			cmd_route_path(&st, argv[i]);
	}
	if (dry)
		cmd_route_summary(&st, json ? stderr : stdout);
	for (i = 0; i < st.ntally; i++)
		free(st.tally[i].lead);
	free(st.tally);
	parser_stop(st.parser);
	router_free(st.router);
	fflush(stdout);
	return st.errors > 0 ? EX_NOINPUT : EX_OK;
}

const struct cmd cmd_route = {
	"route", "--explain FILE... | --dry-run [--json] PATH...",
	"show which lead the rules pick for messages, and why (sends nothing)",
	cmd_route_exec,
};
