/*
 * cmd-digest.c - "postroom digest run": queue the digests that are due.
 *
 *	run [--list SLUG] [--leads] [--now "YYYY-MM-DD HH:MM"]
 *
 * Plain "digest run" does every list's digest and, when digest.leads is
 * on, the leads' summaries; --list does one list, --leads the leads'
 * summaries (whatever digest.leads says); both together do both.  --now
 * pretends it is that local time (general.timezone), for tests and to
 * see what a day would send.  systemd/postroom-digest.timer runs it hourly.
 *
 * Prints one line per list and lead saying what was queued (the journal
 * keeps them).  Exit codes: 0 done, even when nothing was due; 64 bad
 * arguments; 65 an unknown list, or a newsletter that cannot be rendered;
 * 73 the database cannot be opened at all; 75 the database is busy or
 * cannot be written (run again later: nothing is half done); 78 a bad
 * configuration, time zone, template or key file.
 *
 * Owns: these arguments, exit codes and messages, and reading enquiries
 * for the summaries' first lines in the parser child.  Does not own:
 * anything about digests themselves (digest.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "conf.h"
#include "digest.h"
#include "log.h"
#include "message.h"
#include "parser.h"
#include "period.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

extern const struct cmd	cmd_digest;

enum {
	OPT_LIST = 1,
	OPT_LEADS,
	OPT_NOW,
};

static const struct option cmd_digest_longopts[] = {
	{ "list",	required_argument,	NULL, OPT_LIST },
	{ "leads",	no_argument,		NULL, OPT_LEADS },
	{ "now",	required_argument,	NULL, OPT_NOW },
	{ NULL,		0,			NULL, 0 }
};

/* The parser child, started when the first enquiry needs reading. */
struct cmd_digest_parser {
	const struct conf	*conf;
	struct parser		*p;
	int			 failed;	/* could not start: no lines */
};

static void
cmd_digest_help(FILE *f)
{
	cmd_usage(&cmd_digest, f);
	fprintf(f, "\n"
	    "Queue every digest that is due now and nothing else; safe to run "
	    "at any\n"
	    "time and more than once (postroom-digest.timer runs it hourly).\n"
	    "\n"
	    "  run              every list's digest, and the leads' summaries "
	    "when\n"
	    "                   digest.leads is on\n"
	    "  --list SLUG      only this list's digest\n"
	    "  --leads          the leads' summaries (with --list: both)\n"
	    "  --now TIME       act as if it were TIME, \"YYYY-MM-DD HH:MM\" in "
	    "general.timezone\n"
	    "\n"
	    "Digest-mode subscribers get one message per period (daily, weekly "
	    "on a day,\n"
	    "or monthly, as the list says) with each newsletter they have not "
	    "had;\n"
	    "each lead gets a daily summary of the enquiries routed to them.\n"
	    "\n"
	    "Exit status: 0 done (also when nothing was due), 64 bad "
	    "arguments, 65 an\n"
	    "unknown list or a newsletter that cannot be rendered, 73 "
	    "database cannot be\n"
	    "opened, 75 database busy or not writable (try again later), 78 "
	    "bad\nconfiguration, time zone, template or key file.\n");
}

static char *
cmd_digest_body(void *arg, const char *raw, size_t len)
{
	struct cmd_digest_parser	*cp = arg;
	struct message			*msg = NULL;
	char				*cause = NULL, *text = NULL;

	if (cp->failed)
		return NULL;
	if (cp->p == NULL && (cp->p = parser_start(cp->conf, &cause)) == NULL) {
		log_warn("digest: cannot start the parser, so summaries "
		    "have no first lines: %s", cause);
		free(cause);
		cp->failed = 1;
		return NULL;
	}
	if (parser_parse(cp->p, raw, len, &msg, &cause) == -1) {
		log_warn("digest: parser: %s", cause);
		free(cause);
	}
	if (msg != NULL) {
		if (msg->body_text != NULL && *msg->body_text != '\0')
			text = xstrdup(msg->body_text);
		message_free(msg);
	}
	return text;
}

static void
cmd_digest_report(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
	fflush(stdout);
}

static int
cmd_digest_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_digest_parser	 cp;
	struct digest_opts		 opts;
	struct digest_stats		 stats;
	enum digest_fail		 fail;
	struct conf			*conf;
	struct store			*s;
	unsigned char			 key[TOKEN_KEY_LEN];
	const char			*list = NULL, *now = NULL;
	char				*cause = NULL;
	int				 ch, leads = 0, rc;

	if (cmd_wants_help(argc, argv)) {
		cmd_digest_help(stdout);
		return EX_OK;
	}
	if (argc < 2)
		return cmd_usage_error(&cmd_digest, "%s",
		    "a subcommand is needed: run");
	if (strcmp(argv[1], "run") != 0)
		return cmd_usage_error(&cmd_digest, "unknown subcommand \"%s\"",
		    argv[1]);
	argc--;
	argv++;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", cmd_digest_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_LIST:
			list = optarg;
			break;
		case OPT_LEADS:
			leads = 1;
			break;
		case OPT_NOW:
			now = optarg;
			break;
		default:
			cmd_usage(&cmd_digest, stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage_error(&cmd_digest,
		    "unexpected argument \"%s\"", argv[optind]);

	/* Step 1: configuration, zone, time, key, database. */
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if (period_zone(conf->general.timezone, &cause) == -1) {
		fprintf(stderr, "postroom: digest: general.timezone: %s\n",
		    cause);
		free(cause);
		return EX_CONFIG;
	}
	memset(&opts, 0, sizeof opts);
	opts.now = time(NULL);
	if (now != NULL && period_parse(now, &opts.now, &cause) == -1) {
		fprintf(stderr, "postroom: digest: --now %s\n", cause);
		free(cause);
		return EX_USAGE;
	}
	if (list != NULL && conf_list_find(conf, list) == NULL) {
		fprintf(stderr, "postroom: digest: no list \"%s\" in the "
		    "configuration\n", list);
		return EX_DATAERR;
	}
	if (token_key_load(conf->general.secret_file, 1, key, &cause) == -1) {
		fprintf(stderr, "postroom: digest: %s\n", cause);
		free(cause);
		return EX_CONFIG;
	}
	if ((s = cmd_store(ctx, &rc)) == NULL) {
		explicit_bzero(key, sizeof key);
		return rc;
	}

	/* Step 2: the run. */
	memset(&cp, 0, sizeof cp);
	cp.conf = conf;
	opts.list = list;
	opts.lists = list != NULL || !leads;
	opts.leads = leads || (list == NULL && conf->digest.leads);
	opts.body = cmd_digest_body;
	opts.body_arg = &cp;
	opts.report = cmd_digest_report;
	rc = digest_run(conf, s, key, &opts, &stats, &fail, &cause);
	explicit_bzero(key, sizeof key);
	parser_stop(cp.p);
	if (rc == -1) {
		fprintf(stderr, "postroom: digest: %s%s\n", cause,
		    fail == DIGEST_FAIL_TEMP ? "; try again later" : "");
		free(cause);
		switch (fail) {
		case DIGEST_FAIL_TEMP:
			return EX_TEMPFAIL;
		case DIGEST_FAIL_CONFIG:
			return EX_CONFIG;
		default:
			return EX_DATAERR;
		}
	}
	printf("digest: %lld message%s queued\n", (long long)stats.messages,
	    stats.messages == 1 ? "" : "s");
	return EX_OK;
}

const struct cmd cmd_digest = {
	"digest", "run [--list SLUG] [--leads] [--now \"YYYY-MM-DD HH:MM\"]",
	"queue the list digests and lead summaries that are due",
	cmd_digest_exec,
};
