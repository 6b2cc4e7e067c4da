/*
 * cmd-enquiry.c - "postroom enquiry": what was decided and why, and what
 * staff do about it.
 *
 *	enquiry list [--lead LEAD] [--since YYYY-MM-DD] [--unanswered] [--json]
 *	enquiry show REFERENCE [--json]
 *	enquiry answered REFERENCE [--undo]
 *	enquiry reroute REFERENCE LEAD [--note TEXT]
 *
 * Owns: presenting enquiry rows (a table for people, one JSON object per
 * line with --json), the command line of the changes.  Does not own: the
 * rows (store-enquiry.c), the changes and their rules (enquiry-act.c, as
 * the console makes them).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "conf.h"
#include "enquiry.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_enquiry;

static void
cmd_enquiry_help(FILE *f)
{
	cmd_usage(&cmd_enquiry, f);
	fprintf(f, "\n"
	    "  list [--lead LEAD] [--since YYYY-MM-DD] [--unanswered] "
	    "[--json]\n"
	    "        the enquiries recorded, newest first; --unanswered: "
	    "only those\n"
	    "        not marked answered\n"
	    "  show REFERENCE [--json]\n"
	    "        one enquiry: who sent it, where it went and why, "
	    "whether it is\n"
	    "        answered, and every re-route\n"
	    "  answered REFERENCE [--undo]\n"
	    "        mark it answered (--undo: not answered after all)\n"
	    "  reroute REFERENCE LEAD [--note TEXT]\n"
	    "        send it to another lead: forwarded there as the router "
	    "would, with\n"
	    "        who and why kept in its history\n"
	    "\n"
	    "Exit status: 0 done, 64 bad arguments, 65 refused (no such "
	    "enquiry or lead,\n"
	    "the lead it already has), 70 database failure, 75 database "
	    "busy, 78 bad\n"
	    "configuration.\n");
}

static void
cmd_enquiry_json(struct store *s, const struct store_enquiry *e);

struct cmd_enquiry_list {
	struct store	*s;
	int		 json;
	int		 unanswered;
	size_t		 n;
};

static int
cmd_enquiry_row(const struct store_enquiry *e, void *arg)
{
	struct cmd_enquiry_list	*l = arg;
	char			 when[32];

	if (l->unanswered && e->answered_at != 0)
		return 0;
	l->n++;
	if (l->json) {
		cmd_enquiry_json(l->s, e);
		return 0;
	}
	printf("%-16s %-16s %-20s %-30.30s %s\n", e->reference,
	    cmd_when(e->received_at, when, sizeof when), e->lead, e->sender,
	    e->subject);
	return 0;
}

/* A re-route, as "show" prints it and as --json lists it. */
static int
cmd_enquiry_route(const struct store_enquiry_route *r, void *arg)
{
	struct value	*list = arg, *o;
	char		 when[32];

	if (list != NULL) {
		o = value_new_object();
		value_object_set(o, "at", value_new_int(r->at));
		value_object_set(o, "from", value_new_string(r->from_lead));
		value_object_set(o, "to", value_new_string(r->to_lead));
		value_object_set(o, "by", value_new_string(r->actor));
		value_object_set(o, "note", value_new_string(r->note));
		value_list_append(list, o);
		return 0;
	}
	printf("rerouted:   %s %s -> %s by %s", cmd_when(r->at, when,
	    sizeof when), r->from_lead, r->to_lead, r->actor);
	if (*r->note != '\0') {
		printf(": ");
		cmd_put_safe(stdout, r->note);
	}
	printf("\n");
	return 0;
}

/* One enquiry as JSON; with s, its re-routes ("routes") too. */
static void
cmd_enquiry_json(struct store *s, const struct store_enquiry *e)
{
	struct value	*v = store_enquiry_value(e), *routes;
	char		*cause = NULL;

	if (s != NULL) {
		routes = value_new_list();
		if (store_enquiry_routes(s, e->id, cmd_enquiry_route, routes,
		    &cause) == -1) {
			fprintf(stderr, "postroom: %s\n", cause);
			free(cause);
		}
		value_object_set(v, "routes", routes);
	}
	cmd_print_json(v, 0);
	value_free(v);
}

static int
cmd_enquiry_show(struct store *s, const char *reference, int json)
{
	struct store_enquiry	 e;
	char			*cause = NULL, when[32];
	int			 rc;

	if ((rc = store_enquiry_get(s, reference, &e, &cause)) == -1)
		return cmd_store_fail(s, cause);
	if (rc == 0) {
		fprintf(stderr, "postroom: no enquiry ");
		cmd_put_safe(stderr, reference);
		fputc('\n', stderr);
		return EX_DATAERR;
	}
	if (json) {
		cmd_enquiry_json(s, &e);
		store_enquiry_clear(&e);
		return EX_OK;
	}
	printf("reference:  %s\n", e.reference);
	printf("from:       %s%s%s%s\n", e.sender_name,
	    *e.sender_name != '\0' ? " <" : "", e.sender,
	    *e.sender_name != '\0' ? ">" : "");
	printf("subject:    %s\n", e.subject);
	printf("message-id: %s\n", e.message_id != NULL ?
	    e.message_id : "(none)");
	printf("received:   %s via %s\n", cmd_when(e.received_at,
	    when, sizeof when), e.source);
	printf("routed:     %s to %s (rule %s, score %.1f)\n",
	    cmd_when(e.routed_at, when, sizeof when), e.lead, e.rule,
	    e.score);
	printf("why:        %s\n", e.reason);
	printf("parse:      %s\n", e.parse_status);
	printf("ack:        %s\n", e.ack);
	if (e.answered_at != 0)
		printf("answered:   %s by %s\n", cmd_when(e.answered_at, when,
		    sizeof when), e.answered_by);
	else
		printf("answered:   no\n");
	rc = store_enquiry_routes(s, e.id, cmd_enquiry_route, NULL, &cause);
	store_enquiry_clear(&e);
	if (rc == -1)
		return cmd_store_fail(s, cause);
	return EX_OK;
}

static int
cmd_enquiry_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lead", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "unanswered", no_argument, NULL, 'u' },
		{ "undo", no_argument, NULL, 'U' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_enquiry_list	 l;
	struct store		*s;
	struct conf		*conf;
	const char		*lead = NULL, *sub, *note = NULL;
	char			*cause = NULL, *who, *done;
	int64_t			 since = 0;
	int			 ch, rc, ex, undo = 0, nargs;

	if (cmd_wants_help(argc, argv)) {
		cmd_enquiry_help(stdout);
		return EX_OK;
	}
	if (argc < 2) {
		cmd_enquiry_help(stderr);
		return EX_USAGE;
	}
	memset(&l, 0, sizeof l);
	sub = argv[1];
	argc--;
	argv++;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			lead = optarg;
			break;
		case 's':
			if (cmd_day(optarg, &since) == -1) {
				fprintf(stderr, "postroom: --since %s: expected"
				    " YYYY-MM-DD\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'j':
			l.json = 1;
			break;
		case 'u':
			l.unanswered = 1;
			break;
		case 'U':
			undo = 1;
			break;
		case 'n':
			note = optarg;
			break;
		default:
			cmd_enquiry_help(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;

	/* Each subcommand's arguments, and only its own options. */
	if (strcmp(sub, "list") == 0)
		nargs = undo || note != NULL ? -1 : 0;
	else if (strcmp(sub, "show") == 0)
		nargs = lead != NULL || since != 0 || l.unanswered || undo ||
		    note != NULL ? -1 : 1;
	else if (strcmp(sub, "answered") == 0)
		nargs = lead != NULL || since != 0 || l.unanswered ||
		    l.json || note != NULL ? -1 : 1;
	else if (strcmp(sub, "reroute") == 0)
		nargs = lead != NULL || since != 0 || l.unanswered ||
		    l.json || undo ? -1 : 2;
	else
		nargs = -1;
	if (nargs == -1 || argc != nargs) {
		cmd_enquiry_help(stderr);
		return EX_USAGE;
	}
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (lead != NULL && conf_lead_find(conf, lead) == NULL) {
		fprintf(stderr, "postroom: --lead %s: no such lead in %s\n",
		    lead, ctx->conf_path);
		return EX_DATAERR;
	}

	if (strcmp(sub, "answered") == 0 || strcmp(sub, "reroute") == 0) {
		if ((s = cmd_store(ctx, &ex)) == NULL)
			return ex;
		who = cmd_who();
		if (strcmp(sub, "answered") == 0) {
			rc = enquiry_answered(s, argv[0], !undo, who,
			    (int64_t)time(NULL), &cause);
			done = xprintf("%s is marked %s", argv[0], undo ?
			    "not answered" : "answered");
		} else {
			rc = enquiry_reroute(conf, s, argv[0], argv[1], note,
			    who, (int64_t)time(NULL), &cause);
			done = xprintf("%s is re-routed to %s: the forward is "
			    "queued", argv[0], argv[1]);
		}
		free(who);
		ex = cmd_change_result(s, rc, "enquiry", done, cause);
		free(done);
		return ex;
	}

	if ((s = cmd_store_read(ctx, &ex)) == NULL)
		return ex;
	if (strcmp(sub, "show") == 0)
		return cmd_enquiry_show(s, argv[0], l.json);
	l.s = s;
	if (store_enquiry_each(s, lead, since, cmd_enquiry_row, &l,
	    &cause) == -1)
		return cmd_store_fail(s, cause);
	if (!l.json)
		printf("%zu enquir%s\n", l.n, l.n == 1 ? "y" : "ies");
	return EX_OK;
}

const struct cmd cmd_enquiry = {
	"enquiry", "list|show|answered|reroute ...",
	"list the enquiries received, show one and why it went where, "
	"mark one answered or re-route it",
	cmd_enquiry_exec,
};
