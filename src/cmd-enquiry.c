/*
 * cmd-enquiry.c - "postroom enquiry list|show": what was decided, and why.
 *
 * Owns: presenting enquiry rows (a table for people, one JSON object per
 * line with --json).  Does not own: the rows (store-enquiry.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "conf.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_enquiry;

static void
cmd_enquiry_help(FILE *f)
{
	cmd_usage(&cmd_enquiry, f);
	fprintf(f, "\n"
	    "  list [--lead LEAD] [--since YYYY-MM-DD] [--json]\n"
	    "        the enquiries recorded, newest first\n"
	    "  show REFERENCE [--json]\n"
	    "        one enquiry: who sent it, where it went and why\n");
}

static void
cmd_enquiry_json(const struct store_enquiry *e)
{
	struct value	*v = store_enquiry_value(e);

	cmd_print_json(v, 0);
	value_free(v);
}

struct cmd_enquiry_list {
	int	json;
	size_t	n;
};

static int
cmd_enquiry_row(const struct store_enquiry *e, void *arg)
{
	struct cmd_enquiry_list	*l = arg;
	char			 when[32];

	l->n++;
	if (l->json) {
		cmd_enquiry_json(e);
		return 0;
	}
	printf("%-16s %-16s %-20s %-30.30s %s\n", e->reference,
	    cmd_when(e->received_at, when, sizeof when), e->lead, e->sender,
	    e->subject);
	return 0;
}

static int
cmd_enquiry_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "lead", required_argument, NULL, 'l' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_enquiry_list	 l = { 0, 0 };
	struct store_enquiry	 e;
	struct store		*s;
	struct conf		*conf;
	const char		*lead = NULL, *sub;
	char			*cause = NULL, when[32];
	int64_t			 since = 0;
	int			 ch, rc, ex;

	if (cmd_wants_help(argc, argv)) {
		cmd_enquiry_help(stdout);
		return EX_OK;
	}
	if (argc < 2) {
		cmd_enquiry_help(stderr);
		return EX_USAGE;
	}
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
		default:
			cmd_enquiry_help(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if ((strcmp(sub, "list") == 0 && argc != 0) ||
	    (strcmp(sub, "show") == 0 && (argc != 1 || lead != NULL ||
	    since != 0)) ||
	    (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0)) {
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
	if ((s = cmd_store_read(ctx, &ex)) == NULL)
		return ex;

	if (strcmp(sub, "list") == 0) {
		if (store_enquiry_each(s, lead, since, cmd_enquiry_row, &l,
		    &cause) == -1)
			goto fail;
		if (!l.json)
			printf("%zu enquir%s\n", l.n, l.n == 1 ? "y" : "ies");
		return EX_OK;
	}

	if ((rc = store_enquiry_get(s, argv[0], &e, &cause)) == -1)
		goto fail;
	if (rc == 0) {
		fprintf(stderr, "postroom: no enquiry %s\n", argv[0]);
		return EX_DATAERR;
	}
	if (l.json)
		cmd_enquiry_json(&e);
	else {
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
	}
	store_enquiry_clear(&e);
	return EX_OK;

fail:
	return cmd_store_fail(s, cause);
}

const struct cmd cmd_enquiry = {
	"enquiry", "list|show ...",
	"list the enquiries received, or show one and why it went where",
	cmd_enquiry_exec,
};
