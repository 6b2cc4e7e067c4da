/*
 * cli.c - postroom's global options and command dispatch.
 *
 * Owns: the command table, global options (-c, -o, -v, -q, -h, -V), the
 * rules for usage errors (EX_USAGE, usage on stderr) and --help (usage on
 * stdout, EX_OK), loading the configuration once for a command, and
 * what the commands say alike (cmd.h): usage errors, store failures and
 * their exit codes, text and times for people and for JSON, addresses
 * given as arguments.  Does not own: what any command does (src/cmd-*.c).
 */
#include <getopt.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cli.h"
#include "cmd.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_check_config, cmd_config, cmd_render,
			cmd_subscriber, cmd_campaign, cmd_route, cmd_queue,
			cmd_enquiry, cmd_deliver, cmd_digest, cmd_user,
			cmd_audit;

const struct cmd *const cmd_table[] = {
	&cmd_check_config,
	&cmd_config,
	&cmd_render,
	&cmd_subscriber,
	&cmd_campaign,
	&cmd_route,
	&cmd_enquiry,
	&cmd_deliver,
	&cmd_digest,
	&cmd_queue,
	&cmd_user,
	&cmd_audit,
	NULL,
};

void
cmd_usage(const struct cmd *cmd, FILE *f)
{
	fprintf(f, "usage: postroom [-c FILE] [-o NAME=VALUE] %s%s%s\n",
	    cmd->name, cmd->usage[0] != '\0' ? " " : "", cmd->usage);
}

int
cmd_usage_error(const struct cmd *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "postroom: %s: ", cmd->name);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	cmd_usage(cmd, stderr);
	return EX_USAGE;
}

void
cmd_put_safe(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, f);
}

char *
cmd_who(void)
{
	struct passwd	*pw;
	const char	*u;

	if ((u = getenv("SUDO_USER")) == NULL || *u == '\0')
		u = getenv("USER");
	if (u == NULL || *u == '\0')
		u = getlogin();
	if ((u == NULL || *u == '\0') && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	if (u == NULL || *u == '\0')
		return xprintf("cli:uid%lu", (unsigned long)getuid());
	return xprintf("cli:%s", u);
}

int
cmd_answer_yes(void)
{
	char	 line[64];
	size_t	 n;
	char	*p;

	fflush(stdout);
	fflush(stderr);
	if (fgets(line, sizeof line, stdin) == NULL) {
		fputc('\n', stderr);
		return 0;
	}
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	while (n > 0 && line[n - 1] == ' ')
		line[--n] = '\0';
	p = line + strspn(line, " ");
	return strcasecmp(p, "y") == 0 || strcasecmp(p, "yes") == 0;
}

int
cmd_day(const char *s, int64_t *t)
{
	time_t	x;

	if (period_day(s, 0, &x) == -1)
		return -1;
	*t = (int64_t)x;
	return 0;
}

const char *
cmd_when(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (t == 0 || localtime_r(&tt, &tm) == NULL)
		return "-";
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

char *
cmd_address(const struct cmd *cmd, const char *arg)
{
	char	*out, *cause = NULL;

	if (address_normalise(arg, &out, &cause) == 0)
		return out;
	fprintf(stderr, "postroom: %s: invalid address \"", cmd->name);
	cmd_put_safe(stderr, arg);
	fprintf(stderr, "\": %s\n", cause);
	free(cause);
	return NULL;
}

int
cmd_print_json(const struct value *v, int pretty)
{
	char	*s;
	int	 rc = 0;

	s = json_write(v, pretty);
	if (printf("%s\n", s) < 0)
		rc = -1;
	free(s);
	return rc;
}

int
cmd_wants_help(int argc, char **argv)
{
	int	i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	}
	return 0;
}

struct conf *
cmd_conf(struct cmd_ctx *ctx)
{
	struct conf_errors	errs = { 0 };
	size_t			i;

	if (ctx->conf != NULL)
		return ctx->conf;
	ctx->conf = conf_load(ctx->conf_path, ctx->overrides, ctx->noverrides,
	    &errs);
	if (ctx->conf == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msgs[i]);
		fprintf(stderr, "postroom: %s: configuration has %zu "
		    "problem%s\n", ctx->conf_path, errs.n,
		    errs.n == 1 ? "" : "s");
	}
	conf_errors_free(&errs);
	return ctx->conf;
}

static struct store *
cli_store_ctx(struct cmd_ctx *ctx, int *exitcode, int readonly)
{
	struct conf	*conf;
	char		*cause = NULL;
	const char	*path;

	if (ctx->store != NULL)
		return ctx->store;
	if ((conf = cmd_conf(ctx)) == NULL) {
		*exitcode = EX_CONFIG;
		return NULL;
	}
	path = conf->general.database;
	ctx->store = readonly ? store_open_read(path, &cause) :
	    store_open(path, &cause);
	if (ctx->store == NULL) {
		fprintf(stderr, "postroom: %s\n", cause);
		free(cause);
		*exitcode = store_busy(NULL) ? EX_TEMPFAIL : EX_CANTCREAT;
		return NULL;
	}
	return ctx->store;
}

struct store *
cmd_store(struct cmd_ctx *ctx, int *exitcode)
{
	return cli_store_ctx(ctx, exitcode, 0);
}

struct store *
cmd_store_read(struct cmd_ctx *ctx, int *exitcode)
{
	return cli_store_ctx(ctx, exitcode, 1);
}

static struct store *
cli_store_own(struct conf *conf, int *exitcode, int readonly)
{
	struct store	*s;
	char		*cause = NULL;

	char		*actor;

	s = readonly ? store_open_read(conf->general.database, &cause) :
	    store_open(conf->general.database, &cause);
	if (s == NULL) {
		fprintf(stderr, "postroom: %s\n", cause);
		free(cause);
		*exitcode = store_busy(NULL) ? EX_TEMPFAIL : EX_UNAVAILABLE;
		return NULL;
	}
	/* What a command records in the audit log is by whoever ran it. */
	actor = cmd_who();
	store_set_actor(s, actor);
	free(actor);
	return s;
}

struct store *
cmd_store_open(struct conf *conf, int *exitcode)
{
	return cli_store_own(conf, exitcode, 0);
}

struct store *
cmd_store_open_read(struct conf *conf, int *exitcode)
{
	return cli_store_own(conf, exitcode, 1);
}

int
cmd_store_fail(struct store *s, char *cause)
{
	fprintf(stderr, "postroom: %s\n", cause != NULL ? cause :
	    "database failure");
	free(cause);
	return store_busy(s) ? EX_TEMPFAIL : EX_SOFTWARE;
}

int
cmd_change_result(struct store *s, int rc, const char *name,
    const char *done, char *cause)
{
	if (rc == -1)
		return cmd_store_fail(s, cause);
	if (rc == 0) {
		fprintf(stderr, "postroom: %s: ", name);
		cmd_put_safe(stderr, cause);
		fputc('\n', stderr);
		free(cause);
		return EX_DATAERR;
	}
	printf("%s\n", done);
	return EX_OK;
}

void
cli_usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: postroom [-vq] [-c FILE] [-o NAME=VALUE]... COMMAND [ARGS]\n"
	    "\n"
	    "The command-line side of postroom, the Midlands Decision Support\n"
	    "Network's mail service.  It works on the same database as postroomd.\n"
	    "\n"
	    "Options:\n"
	    "  -c FILE          configuration file (default: $POSTROOM_CONFIG,\n"
	    "                   else %s)\n"
	    "  -o NAME=VALUE    override a setting for this run (repeatable)\n"
	    "  -v, -q           more or less logging\n"
	    "  -V, --version    print the version\n"
	    "  -h, --help       this help; \"postroom COMMAND --help\" for a command\n"
	    "\n"
	    "Commands:\n", conf_default_path(NULL));
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-14s %s\n", cmd_table[i]->name,
		    cmd_table[i]->help);
}

int
cli_override(const char *prog, char ***ov, size_t *nov, char *arg)
{
	if (strchr(arg, '=') == NULL) {
		fprintf(stderr, "%s: -o %s: expected NAME=VALUE\n", prog, arg);
		return -1;
	}
	*ov = xreallocarray(*ov, *nov + 1, sizeof **ov);
	(*ov)[(*nov)++] = arg;
	return 0;
}

static const struct cmd *
cli_find(const char *name)
{
	size_t	i;

	for (i = 0; cmd_table[i] != NULL; i++) {
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	}
	return NULL;
}

int
cli_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cmd_ctx		 ctx;
	const struct cmd	*cmd;
	const char		*cpath = NULL;
	int			 ch, rc, level = LOGL_WARN;

	memset(&ctx, 0, sizeof ctx);
	log_init("postroom", LOGL_WARN);
	optind = 0;
	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+c:o:vqhV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			cpath = optarg;
			break;
		case 'o':
			if (cli_override("postroom", &ctx.overrides,
			    &ctx.noverrides, optarg) == -1) {
				free(ctx.overrides);
				return EX_USAGE;
			}
			break;
		case 'v':
			ctx.verbose++;
			level = ctx.verbose > 1 ? LOGL_DEBUG : LOGL_INFO;
			break;
		case 'q':
			level = LOGL_ERROR;
			break;
		case 'h':
			cli_usage(stdout);
			free(ctx.overrides);
			return EX_OK;
		case 'V':
			printf("postroom %s\n", POSTROOM_VERSION);
			free(ctx.overrides);
			return EX_OK;
		default:
			cli_usage(stderr);
			free(ctx.overrides);
			return EX_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	log_set_level(level);
	if (argc == 0) {
		cli_usage(stderr);
		free(ctx.overrides);
		return EX_USAGE;
	}
	if ((cmd = cli_find(argv[0])) == NULL) {
		fprintf(stderr, "postroom: unknown command \"%s\"\n", argv[0]);
		cli_usage(stderr);
		free(ctx.overrides);
		return EX_USAGE;
	}
	ctx.conf_path = conf_default_path(cpath);
	optind = 0;
	opterr = 1;
	rc = cmd->exec(&ctx, argc, argv);
	if (ctx.store != NULL)
		store_close(ctx.store);
	if (ctx.conf != NULL)
		conf_free(ctx.conf);
	free(ctx.overrides);
	return rc;
}
