/*
 * cmd-user.c - "postroom user": the staff accounts of the console.
 *
 *	user add EMAIL --name NAME --role admin|editor|viewer|lead [--lead KEY]
 *	user list [--json]
 *	user disable EMAIL | enable EMAIL
 *	user set-role EMAIL ROLE [--lead KEY]
 *	user reset-password EMAIL
 *	user totp EMAIL [--off]
 *
 * A password is read from the terminal (asked twice, not shown) or, when
 * standard input is not a terminal, as its first line, so that installs
 * can be scripted; it is never an argument (which ps(1) would show).
 *
 * Owns: the command line and reading a password.  Does not own: the
 * checks and the changes (user.c), the SQL (store-user.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cmd.h"
#include "conf.h"
#include "store.h"
#include "user.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_user;

#define CMD_USER_LINE	(USER_PASSWORD_MAX + 2)

struct cmd_user_sub {
	const char	*name;
	const char	*usage;
	int		(*fn)(struct cmd_ctx *, const char *email, int argc,
			    char **argv);
};

static const struct cmd_user_sub	cmd_user_cmds[];

static void
cmd_user_help(FILE *f)
{
	size_t	i;

	cmd_usage(&cmd_user, f);
	fprintf(f, "\nThe staff accounts that sign in to the console.\n\n");
	for (i = 0; cmd_user_cmds[i].name != NULL; i++)
		fprintf(f, "  postroom user %s %s\n", cmd_user_cmds[i].name,
		    cmd_user_cmds[i].usage);
	fprintf(f, "\n"
	    "  Roles: admin (everything, also accounts and the audit log), "
	    "editor (lists,\n"
	    "  subscribers, newsletters, enquiries), viewer (reads all but "
	    "exports of\n"
	    "  personal data), lead (only the enquiries of the lead KEY).\n"
	    "  add and reset-password ask for the password twice on a "
	    "terminal; otherwise\n"
	    "  they read it as the first line of standard input.  At least "
	    "12 characters.\n"
	    "\n"
	    "Exit status: 0 done, 64 bad arguments, 65 refused (no such "
	    "account, one\n"
	    "exists, unknown role or lead, a password too short or not the "
	    "same twice),\n"
	    "70 database failure, 75 database busy, 78 bad "
	    "configuration.\n");
}

/* One line from fp into buf without its line ending: 0, or -1 at EOF. */
static int
cmd_user_line(FILE *fp, char *buf, size_t size)
{
	size_t	n;

	if (fgets(buf, (int)size, fp) == NULL)
		return -1;
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	return 0;
}

/* Ask on the terminal with echo off: 0, or -1. */
static int
cmd_user_ask(int fd, FILE *fp, const char *prompt, char *buf, size_t size)
{
	struct termios	 old, quiet;
	int		 rc;

	if (tcgetattr(fd, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/*
	 * Quiet before the prompt, and TCSANOW: whatever is typed once the
	 * prompt shows is the answer, none of it flushed away.
	 */
	if (tcsetattr(fd, TCSANOW, &quiet) != 0)
		return -1;
	fputs(prompt, stderr);
	fflush(stderr);
	rc = cmd_user_line(fp, buf, size);
	tcsetattr(fd, TCSANOW, &old);
	fputc('\n', stderr);
	return rc;
}

/*
 * The new password for email into buf: 0, or -1 having said why (no
 * input, or the two answers differ).
 */
static int
cmd_user_password(const char *email, char *buf, size_t size)
{
	char	 again[CMD_USER_LINE], *prompt;
	int	 rc;

	if (!isatty(STDIN_FILENO)) {
		if (cmd_user_line(stdin, buf, size) == -1) {
			fprintf(stderr, "postroom: user: no password on "
			    "standard input (one line)\n");
			return -1;
		}
		return 0;
	}
	prompt = xprintf("New password for %s: ", email);
	rc = cmd_user_ask(STDIN_FILENO, stdin, prompt, buf, size);
	free(prompt);
	if (rc == 0)
		rc = cmd_user_ask(STDIN_FILENO, stdin, "The same again: ",
		    again, sizeof again);
	if (rc == -1) {
		fprintf(stderr, "postroom: user: no password given\n");
		return -1;
	}
	rc = strcmp(buf, again) == 0 ? 0 : -1;
	OPENSSL_cleanse(again, sizeof again);
	if (rc == -1)
		fprintf(stderr, "postroom: user: the two passwords are not "
		    "the same; nothing changed\n");
	return rc;
}

/* What a change returned, as an exit code. */
static int
cmd_user_result(struct store *s, int rc, const char *done, char *cause)
{
	return cmd_change_result(s, rc, "user", done, cause);
}

/* --name, --role, --lead, --json after the subcommand's arguments. */
struct cmd_user_opts {
	const char	*name;
	const char	*role;
	const char	*lead;
	int		 json;
	int		 off;
};

static int
cmd_user_opts(int argc, char **argv, struct cmd_user_opts *o)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "role", required_argument, NULL, 'r' },
		{ "lead", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "off", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	int	ch;

	memset(o, 0, sizeof *o);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			o->name = optarg;
			break;
		case 'r':
			o->role = optarg;
			break;
		case 'l':
			o->lead = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'o':
			o->off = 1;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

static int
cmd_user_add(struct cmd_ctx *ctx, const char *email, int argc, char **argv)
{
	struct cmd_user_opts	 o;
	struct store		*s;
	char			 pw[CMD_USER_LINE], *who, *cause = NULL, *done;
	int			 rc, ex;

	if (cmd_user_opts(argc, argv, &o) != argc || o.json) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if (o.name == NULL || o.role == NULL)
		return cmd_usage_error(&cmd_user, "%s", o.name == NULL ?
		    "add needs --name NAME" : "add needs --role ROLE");
	if (cmd_conf(ctx) == NULL)
		return EX_CONFIG;
	if ((s = cmd_store(ctx, &ex)) == NULL)
		return ex;
	if (cmd_user_password(email, pw, sizeof pw) == -1)
		return EX_DATAERR;
	who = cmd_who();
	rc = user_add(s, ctx->conf, email, o.name, o.role, o.lead, pw, who,
	    (int64_t)time(NULL), &cause);
	OPENSSL_cleanse(pw, sizeof pw);
	free(who);
	done = xprintf("added %s (%s)", email, o.role);
	ex = cmd_user_result(s, rc, done, cause);
	free(done);
	return ex;
}

static int
cmd_user_row(const struct store_user *u, void *arg)
{
	struct value	*v;

	if (*(int *)arg) {
		v = value_new_object();
		value_object_set(v, "email", value_new_string(u->email));
		value_object_set(v, "name", value_new_string(u->name));
		value_object_set(v, "role", value_new_string(u->role));
		value_object_set(v, "lead", *u->lead != '\0' ?
		    value_new_string(u->lead) : value_new_null());
		value_object_set(v, "disabled", value_new_bool(u->disabled));
		value_object_set(v, "totp", value_new_bool(u->has_totp));
		value_object_set(v, "created_at",
		    value_new_int(u->created_at));
		value_object_set(v, "password_at",
		    value_new_int(u->password_at));
		cmd_print_json(v, 0);
		value_free(v);
		return 0;
	}
	cmd_put_safe(stdout, u->email);
	printf("  %s%s%s  ", u->role, *u->lead != '\0' ? ":" : "", u->lead);
	cmd_put_safe(stdout, u->name);
	printf("  %s%s\n", u->disabled ? "disabled" : "active",
	    u->has_totp ? ", second factor" : "");
	return 0;
}

static int
cmd_user_list(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct cmd_user_opts	 o;
	struct store		*s;
	char			*cause = NULL;
	int			 ex;

	if (cmd_user_opts(argc, argv, &o) != argc || o.name != NULL ||
	    o.role != NULL || o.lead != NULL) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if ((s = cmd_store_read(ctx, &ex)) == NULL)
		return ex;
	if (store_user_each(s, cmd_user_row, &o.json, &cause) == -1)
		return cmd_store_fail(s, cause);
	return EX_OK;
}

static int
cmd_user_able(struct cmd_ctx *ctx, const char *email, int argc, char **argv,
    int disabled)
{
	struct store	*s;
	char		*who, *cause = NULL, *done;
	int		 rc, ex;

	if (argc != 1) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	(void)argv;
	if ((s = cmd_store(ctx, &ex)) == NULL)
		return ex;
	who = cmd_who();
	rc = user_set_disabled(s, email, disabled, who, (int64_t)time(NULL),
	    &cause);
	free(who);
	done = xprintf("%s %s", email, disabled ? "is disabled: its "
	    "sessions end and it cannot sign in" : "can sign in again");
	ex = cmd_user_result(s, rc, done, cause);
	free(done);
	return ex;
}

static int
cmd_user_disable(struct cmd_ctx *ctx, const char *email, int argc,
    char **argv)
{
	return cmd_user_able(ctx, email, argc, argv, 1);
}

static int
cmd_user_enable(struct cmd_ctx *ctx, const char *email, int argc,
    char **argv)
{
	return cmd_user_able(ctx, email, argc, argv, 0);
}

static int
cmd_user_set_role(struct cmd_ctx *ctx, const char *email, int argc,
    char **argv)
{
	struct cmd_user_opts	 o;
	struct store		*s;
	char			*who, *cause = NULL, *done;
	int			 n, rc, ex;

	if ((n = cmd_user_opts(argc, argv, &o)) == -1 || o.name != NULL ||
	    o.json || (o.role == NULL) == (n == argc) || argc - n > 1) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if (o.role == NULL)
		o.role = argv[n];
	if (cmd_conf(ctx) == NULL)
		return EX_CONFIG;
	if ((s = cmd_store(ctx, &ex)) == NULL)
		return ex;
	who = cmd_who();
	rc = user_set_role(s, ctx->conf, email, o.role, o.lead, who,
	    (int64_t)time(NULL), &cause);
	free(who);
	done = xprintf("%s is now %s", email, o.role);
	ex = cmd_user_result(s, rc, done, cause);
	free(done);
	return ex;
}

static int
cmd_user_reset(struct cmd_ctx *ctx, const char *email, int argc,
    char **argv)
{
	struct store	*s;
	char		 pw[CMD_USER_LINE], *who, *cause = NULL, *done;
	int		 rc, ex;

	(void)argv;
	if (argc != 1) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if ((s = cmd_store(ctx, &ex)) == NULL)
		return ex;
	if (cmd_user_password(email, pw, sizeof pw) == -1)
		return EX_DATAERR;
	who = cmd_who();
	rc = user_reset_password(s, email, pw, who, (int64_t)time(NULL),
	    &cause);
	OPENSSL_cleanse(pw, sizeof pw);
	free(who);
	done = xprintf("the password of %s is changed", email);
	ex = cmd_user_result(s, rc, done, cause);
	free(done);
	return ex;
}

static int
cmd_user_totp(struct cmd_ctx *ctx, const char *email, int argc, char **argv)
{
	struct cmd_user_opts	 o;
	struct store		*s;
	char			*who, *cause = NULL, *uri = NULL, *done;
	int			 rc, ex;

	if (cmd_user_opts(argc, argv, &o) != argc || o.name != NULL ||
	    o.role != NULL || o.lead != NULL || o.json) {
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if ((s = cmd_store(ctx, &ex)) == NULL)
		return ex;
	who = cmd_who();
	rc = user_totp_set(s, email, !o.off, who, (int64_t)time(NULL), &uri,
	    &cause);
	free(who);
	if (o.off)
		done = xprintf("%s signs in with the password alone",
		    email);
	else
		done = xprintf("%s has a new second factor.  Add it to an "
		    "authenticator app\n(scan this as a QR code, or type "
		    "the secret); any earlier one stops working:\n%s",
		    email, uri != NULL ? uri : "");
	ex = cmd_user_result(s, rc, done, cause);
	if (uri != NULL) {
		OPENSSL_cleanse(uri, strlen(uri));
		OPENSSL_cleanse(done, strlen(done));
	}
	free(uri);
	free(done);
	return ex;
}

static const struct cmd_user_sub cmd_user_cmds[] = {
	{ "add", "EMAIL --name NAME --role admin|editor|viewer|lead "
	    "[--lead KEY]", cmd_user_add },
	{ "list", "[--json]", NULL },
	{ "disable", "EMAIL", cmd_user_disable },
	{ "enable", "EMAIL", cmd_user_enable },
	{ "set-role", "EMAIL ROLE [--lead KEY]", cmd_user_set_role },
	{ "reset-password", "EMAIL", cmd_user_reset },
	{ "totp", "EMAIL [--off]", cmd_user_totp },
	{ NULL, NULL, NULL },
};

static int
cmd_user_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	size_t	i;

	if (cmd_wants_help(argc, argv)) {
		cmd_user_help(stdout);
		return EX_OK;
	}
	if (argc < 2) {
		fprintf(stderr, "postroom: user: which command?\n");
		cmd_user_help(stderr);
		return EX_USAGE;
	}
	if (strcmp(argv[1], "list") == 0)
		return cmd_user_list(ctx, argc - 1, argv + 1);
	for (i = 0; cmd_user_cmds[i].name != NULL; i++) {
		if (strcmp(argv[1], cmd_user_cmds[i].name) != 0 ||
		    cmd_user_cmds[i].fn == NULL)
			continue;
		if (argc < 3 || argv[2][0] == '-')
			return cmd_usage_error(&cmd_user, "%s needs EMAIL",
			    argv[1]);
		/* The subcommand's own argv: [0] is EMAIL, options after. */
		return cmd_user_cmds[i].fn(ctx, argv[2], argc - 2, argv + 2);
	}
	return cmd_usage_error(&cmd_user, "unknown command \"%s\"", argv[1]);
}

const struct cmd cmd_user = {
	.name = "user",
	.usage = "add|list|disable|enable|set-role|reset-password|totp ...",
	.help = "staff accounts of the console: add, disable, roles, "
	    "passwords",
	.exec = cmd_user_exec,
};
