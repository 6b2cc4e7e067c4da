/*
 * cmd-audit.c - "postroom audit": the audit log, oldest first.
 *
 * Every change staff make (accounts, sends, imports, erasures ...) and
 * every change a stranger causes through the public pages is an event:
 * when, who ("cli:USER", "user:ID", or nobody for postroom itself), what,
 * to what.  The audit log is in the database, for admins; it may name
 * people, which is why postroom's log does not.
 *
 * Owns: printing events.  Does not own: writing them (store_event_by()).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "store.h"
#include "value.h"

extern const struct cmd	cmd_audit;

static void
cmd_audit_help(FILE *f)
{
	cmd_usage(&cmd_audit, f);
	fprintf(f, "\nThe audit log, oldest first: when, who, what, to what.\n"
	    "\n"
	    "  --since YYYY-MM-DD  from that day (local time) on\n"
	    "  --json              one JSON object a line\n"
	    "\n"
	    "Exit status: 0 done, 64 bad arguments, 70 database failure, 75 "
	    "database busy,\n"
	    "78 bad configuration.\n");
}

static int
cmd_audit_row(const struct store_event_row *e, void *arg)
{
	struct value	*v;
	char		 when[32];

	if (*(int *)arg) {
		v = value_new_object();
		value_object_set(v, "at", value_new_int(e->at));
		value_object_set(v, "actor", *e->actor != '\0' ?
		    value_new_string(e->actor) : value_new_null());
		value_object_set(v, "kind", value_new_string(e->kind));
		value_object_set(v, "subject", value_new_string(e->subject));
		value_object_set(v, "detail", value_new_string(e->detail));
		cmd_print_json(v, 0);
		value_free(v);
		return 0;
	}
	printf("%s  ", cmd_when(e->at, when, sizeof when));
	cmd_put_safe(stdout, *e->actor != '\0' ? e->actor : "postroom");
	printf("  %s  ", e->kind);
	cmd_put_safe(stdout, e->subject);
	if (*e->detail != '\0') {
		fputs(": ", stdout);
		cmd_put_safe(stdout, e->detail);
	}
	putchar('\n');
	return 0;
}

static int
cmd_audit_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct store	*s;
	char		*cause = NULL;
	int64_t		 since = 0;
	int		 ch, json = 0, ex;

	if (cmd_wants_help(argc, argv)) {
		cmd_audit_help(stdout);
		return EX_OK;
	}
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (cmd_day(optarg, &since) == -1)
				return cmd_usage_error(&cmd_audit,
				    "--since %s: expected YYYY-MM-DD", optarg);
			break;
		case 'j':
			json = 1;
			break;
		default:
			cmd_audit_help(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		cmd_audit_help(stderr);
		return EX_USAGE;
	}
	if ((s = cmd_store_read(ctx, &ex)) == NULL)
		return ex;
	if (store_events_each(s, since, cmd_audit_row, &json, &cause) == -1)
		return cmd_store_fail(s, cause);
	return EX_OK;
}

const struct cmd cmd_audit = {
	.name = "audit",
	.usage = "[--since YYYY-MM-DD] [--json]",
	.help = "print the audit log: who changed what, when",
	.exec = cmd_audit_exec,
};
