/*
 * cmd-subscriber.c - "postroom subscriber": people on the mailing lists.
 *
 *	add LIST EMAIL [--name NAME] [--attr KEY=VALUE]... [--mode M]
 *	    [--confirmed]
 *	remove LIST EMAIL
 *	set LIST EMAIL --mode immediate|digest
 *	list LIST [--status S] [--json]
 *	show EMAIL [--json]
 *	find TEXT [--json]
 *	import LIST FILE.csv [--confirmed] [--dry-run] [--yes]
 *	export LIST [FILE.csv] [--status S]
 *	forget EMAIL [--suppress-anyway]
 *	export-person EMAIL
 *
 * Owns: these commands' arguments, their messages and exit codes,
 * consent records made from the command line ("staff", "import", with
 * source "cli:USER"), and asking at the terminal before an import sends
 * confirmation emails (or, when standard input is not a terminal,
 * refusing without --yes: exit 64, nothing imported).  Does not own:
 * reading or writing spreadsheets and the import's rules and messages
 * (sheet.c, which the staff console uses too), the SQL
 * (store-subscriber.c), address syntax (address.c), the confirmation email
 * (confirm.c), erasing a person (forget.c).
 *
 * Exit codes: 0 done (also "already subscribed, nothing changed"); 1 the
 * import's question answered no (nothing imported); 64 bad arguments; 65 bad data (an unknown list, an invalid or forgotten
 * address, no such subscriber, nobody found, an address postroom never
 * held given to forget, a CSV file that is refused); 66 a CSV file
 * that cannot be read; 73 the database cannot be opened or an export file
 * cannot be written; 75 the database is busy; 78 a bad configuration; 70
 * any other database failure.  The database is cmd_store()'s, opened once
 * per command and closed by the dispatcher.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "confirm.h"
#include "forget.h"
#include "json.h"
#include "sheet.h"
#include "store.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_subscriber;

struct sub_cmd {
	const char	*name;
	const char	*usage;
	int		(*fn)(struct cmd_ctx *, int, char **);
};

/* Options shared by the subcommands; each takes what it understands. */
struct sub_opts {
	const char	*name;
	const char	*mode;
	const char	*status;
	char		**attrs;	/* KEY=VALUE, as given */
	size_t		 nattrs;
	int		 confirmed;
	int		 dry_run;
	int		 json;
	int		 yes;
	int		 suppress_anyway;
};

enum {
	OPT_NAME = 1,
	OPT_ATTR,
	OPT_MODE,
	OPT_STATUS,
	OPT_CONFIRMED,
	OPT_DRY_RUN,
	OPT_JSON,
	OPT_YES,
	OPT_SUPPRESS_ANYWAY,
};

static const struct sub_cmd	cmd_subscriber_cmds[];

/* --- small helpers ------------------------------------------------------ */

static void
cmd_subscriber_help(FILE *f)
{
	size_t	i;

	cmd_usage(&cmd_subscriber, f);
	fprintf(f, "\nManage the people on the mailing lists (lists are "
	    "defined in the configuration).\n\n");
	for (i = 0; cmd_subscriber_cmds[i].name != NULL; i++)
		fprintf(f, "  postroom subscriber %s %s\n",
		    cmd_subscriber_cmds[i].name,
		    cmd_subscriber_cmds[i].usage);
	fprintf(f, "\n"
	    "  add            without --confirmed the address is pending and "
	    "gets a\n"
	    "                 confirmation email; --confirmed records consent "
	    "given to staff\n"
	    "  remove         stop mailing them (kept as unsubscribed, so an "
	    "import does\n"
	    "                 not add them back)\n"
	    "  set            immediate: each newsletter; digest: one message "
	    "a period\n"
	    "  list, show     --json: one JSON object per line / one object\n"
	    "  find           everyone whose name or address holds TEXT, "
	    "whatever its case\n"
	    "                 and accents (zoe finds Zoë); --json: one "
	    "object a line\n"
	    	    "  import         a spreadsheet saved as CSV (comma, semicolon or "
	    "tab; UTF-8,\n"
	    "                 else read as Windows-1252) with a header row: "
	    "Email (or E-mail,\n"
	    "                 Email Address, Mail), Name (or Full Name, or "
	    "First Name and\n"
	    "                 Last Name); other columns are attributes "
	    "([A-Za-z0-9_-]).\n"
	    "                 --confirmed records consent (method import); "
	    "without it each\n"
	    "                 new person gets a confirmation email, and the "
	    "file is checked\n"
	    "                 first and you are asked (--yes when not on a "
	    "terminal)\n"
	    "  export         the same CSV, UTF-8 with a byte order mark, with "
	    "status, mode\n"
	    "                 and consent (pending and confirmed members "
	    "unless --status)\n"
	    "  forget         erase the person everywhere, keeping only a "
	    "one-way hash so\n"
	    "                 the address is never mailed or added again; "
	    "their enquiries'\n"
	    "                 originals are deleted from the Maildir or IMAP "
	    "folder, and it\n"
	    "                 says what stays outside postroom.  An address "
	    "postroom never\n"
	    "                 held is refused (65) unless --suppress-anyway\n"
	    "  export-person  everything held about an address, as JSON (an "
	    "access request)\n"
	    "\n"
	    "  --status       pending, confirmed, unsubscribed, bounced or "
	    "all\n"
	    "\n"
	    "Exit status: 0 done (also when nothing needed changing), 1 you "
	    "answered no\n"
	    "(nothing imported), 64 bad arguments (also import without --confirmed or --yes when "
	    "standard\n"
	    "input is not a terminal),\n"
	    "65 bad data (unknown list, invalid or forgotten address, no such "
	    "subscriber,\n"
	    "malformed CSV), 66 unreadable CSV file, 70 database failure,\n"
	    "73 database cannot be opened or export file cannot be written, "
	    "75 database\n"
	    "busy, 78 bad configuration.\n");
}

static const struct conf_list *
cmd_subscriber_list(struct conf *conf, const char *slug)
{
	const struct conf_list	*l;
	size_t			 i;

	if ((l = conf_list_find(conf, slug)) != NULL)
		return l;
	fprintf(stderr, "postroom: subscriber: no list \"%s\" in %s", slug,
	    conf->path != NULL ? conf->path : "the configuration");
	if (conf->nlists > 0) {
		fprintf(stderr, " (lists:");
		for (i = 0; i < conf->nlists; i++)
			fprintf(stderr, " %s", conf->lists[i].slug);
		fprintf(stderr, ")");
	}
	fputc('\n', stderr);
	return NULL;
}

/*
 * Parse the subcommand's options.  positional gets what is left; returns
 * -1 after printing a usage error.
 */
static int
cmd_subscriber_getopt(int argc, char **argv, const char *allowed,
    struct sub_opts *o,
    int *nargs)
{
	static const struct option longopts[] = {
		{ "name",	required_argument,	NULL, OPT_NAME },
		{ "attr",	required_argument,	NULL, OPT_ATTR },
		{ "mode",	required_argument,	NULL, OPT_MODE },
		{ "status",	required_argument,	NULL, OPT_STATUS },
		{ "confirmed",	no_argument,		NULL, OPT_CONFIRMED },
		{ "dry-run",	no_argument,		NULL, OPT_DRY_RUN },
		{ "json",	no_argument,		NULL, OPT_JSON },
		{ "yes",	no_argument,		NULL, OPT_YES },
		{ "suppress-anyway", no_argument,	NULL,
		    OPT_SUPPRESS_ANYWAY },
		{ NULL,		0,			NULL, 0 }
	};
	int	ch;

	memset(o, 0, sizeof *o);
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (ch == ':') {
			cmd_usage_error(&cmd_subscriber, "%s needs an argument",
			    argv[optind - 1]);
			return -1;
		}
		if (ch == '?' || strchr(allowed, ch) == NULL) {
			cmd_usage_error(&cmd_subscriber,
			    "%s: unknown option for this command",
			    argv[optind - 1]);
			return -1;
		}
		switch (ch) {
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_ATTR:
			o->attrs = xreallocarray(o->attrs, o->nattrs + 1,
			    sizeof *o->attrs);
			o->attrs[o->nattrs++] = optarg;
			break;
		case OPT_MODE:
			o->mode = optarg;
			break;
		case OPT_STATUS:
			o->status = optarg;
			break;
		case OPT_CONFIRMED:
			o->confirmed = 1;
			break;
		case OPT_DRY_RUN:
			o->dry_run = 1;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_YES:
			o->yes = 1;
			break;
		case OPT_SUPPRESS_ANYWAY:
			o->suppress_anyway = 1;
			break;
		}
	}
	*nargs = argc - optind;
	if (o->mode != NULL && strcmp(o->mode, "immediate") != 0 &&
	    strcmp(o->mode, "digest") != 0) {
		cmd_usage_error(&cmd_subscriber,
		    "--mode %s: expected immediate or digest", o->mode);
		return -1;
	}
	return 0;
}

/* --status S as a mask for store_member_walk (0: all). */
static int
cmd_subscriber_status_mask(const char *s, unsigned int def, unsigned int *mask)
{
	enum store_member_status	st;

	if (s == NULL) {
		*mask = def;
		return 0;
	}
	if (strcmp(s, "all") == 0) {
		*mask = 0;
		return 0;
	}
	if (store_member_status_parse(s, &st) != 0) {
		cmd_usage_error(&cmd_subscriber,
		    "--status %s: expected pending, confirmed, "
		    "unsubscribed, bounced or all", s);
		return -1;
	}
	*mask = 1U << st;
	return 0;
}

static struct value *
cmd_subscriber_subscriber_value(const struct store_subscriber *sub)
{
	struct value	*o;

	o = value_new_object();
	value_object_set(o, "id", value_new_int((long long)sub->id));
	value_object_set(o, "email", value_new_string(sub->email));
	value_object_set(o, "name", value_new_string(sub->name));
	value_object_set(o, "attrs", store_subscriber_attrs_value(sub->attrs));
	value_object_set(o, "created_at", value_new_time(sub->created_at));
	return o;
}

/* --- add ---------------------------------------------------------------- */

/* --attr KEY=VALUE... as JSON object text, or NULL after a usage error. */
static char *
cmd_subscriber_attrs_json(const struct sub_opts *o)
{
	struct value	*v;
	const char	*eq, *why;
	char		*key, *s;
	size_t		 i;

	v = value_new_object();
	for (i = 0; i < o->nattrs; i++) {
		if ((eq = strchr(o->attrs[i], '=')) == NULL) {
			value_free(v);
			cmd_usage_error(&cmd_subscriber,
			    "--attr %s: expected KEY=VALUE", o->attrs[i]);
			return NULL;
		}
		if ((why = sheet_key_bad(o->attrs[i],
		    (size_t)(eq - o->attrs[i]))) != NULL ||
		    (why = sheet_text_bad(eq + 1, strlen(eq + 1),
		    1)) != NULL) {
			value_free(v);
			fprintf(stderr, "postroom: subscriber: --attr ");
			cmd_put_safe(stderr, o->attrs[i]);
			fprintf(stderr, ": %s\n", why);
			cmd_usage(&cmd_subscriber, stderr);
			return NULL;
		}
		key = xstrndup(o->attrs[i], (size_t)(eq - o->attrs[i]));
		value_object_set(v, key, value_new_string(eq + 1));
		free(key);
	}
	s = json_write(v, 0);
	value_free(v);
	return s;
}

/* Merge the given attributes into a subscriber's; new text or NULL. */
static char *
cmd_subscriber_attrs_merge(const char *old, const char *add)
{
	struct value	*o, *a;
	char		*s;
	size_t		 i;

	o = store_subscriber_attrs_value(old);
	a = store_subscriber_attrs_value(add);
	for (i = 0; i < value_object_len(a); i++)
		value_object_set(o, value_object_key(a, i),
		    value_copy(value_object_value(a, i)));
	s = json_write(o, 0);
	value_free(o);
	value_free(a);
	if (strcmp(s, old) == 0) {
		free(s);
		return NULL;
	}
	return s;
}

static int
cmd_subscriber_add(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct conf		*conf;
	const struct conf_list	*l;
	struct store		*s = NULL;
	struct store_subscriber	 sub;
	struct store_member	 m;
	enum store_member_status st;
	const char		*why, *shown;
	char			*email = NULL, *attrs = NULL, *cause = NULL;
	char			*source = NULL, *merged = NULL, *detail;
	int			 nargs, rc = EX_OK, added, found, queued = 0;

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_NAME, OPT_ATTR,
	    OPT_MODE, OPT_CONFIRMED, 0 }, &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 2) {
		free(o.attrs);
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST EMAIL", "add");
	}
	if (o.name != NULL && (why = sheet_text_bad(o.name,
	    strlen(o.name),
	    0)) != NULL) {
		free(o.attrs);
		return cmd_usage_error(&cmd_subscriber, "--name: %s", why);
	}
	if ((attrs = cmd_subscriber_attrs_json(&o)) == NULL) {
		free(o.attrs);
		return EX_USAGE;
	}
	free(o.attrs);
	if ((conf = cmd_conf(ctx)) == NULL) {
		free(attrs);
		return EX_CONFIG;
	}
	if ((l = cmd_subscriber_list(conf, argv[optind])) == NULL ||
	    (email = cmd_address(&cmd_subscriber, argv[optind + 1])) == NULL) {
		free(attrs);
		return EX_DATAERR;
	}
	if ((s = cmd_store(ctx, &rc)) == NULL)
		goto out;
	source = cmd_who();
	st = o.confirmed ? STORE_MEMBER_CONFIRMED : STORE_MEMBER_PENDING;

	if (store_begin(s, &cause) != 0)
		goto fail;
	/* Step 1: never an address that asked to be forgotten. */
	if ((found = store_subscriber_suppressed(s, email, &cause)) == -1)
		goto fail;
	if (found) {
		fprintf(stderr, "postroom: subscriber: %s was erased at their "
		    "request (subscriber forget) and cannot be added again\n",
		    email);
		rc = EX_DATAERR;
		goto out;
	}

	/* Step 2: the subscriber, then the membership. */
	if ((added = store_subscriber_add(s, email, o.name, attrs, &sub.id,
	    &cause)) == -1)
		goto fail;
	/* Already there, perhaps in another case: say it as first given. */
	if (!added && store_subscriber_get_id(s, sub.id, &sub, &cause) != 1)
		goto fail;
	shown = added ? email : sub.email;
	if ((found = store_member_get(s, sub.id, l->slug, &m, &cause)) == -1)
		goto fail;
	if (!found) {
		if (!added && (o.name != NULL || o.nattrs > 0)) {
			merged = o.nattrs > 0 ?
			    cmd_subscriber_attrs_merge(sub.attrs,
			    attrs) : NULL;
			if (store_subscriber_update(s, sub.id, o.name, merged,
			    &cause) == -1)
				goto fail;
		}
		if (store_member_add(s, sub.id, l->slug, st, o.mode, "staff",
		    source, &cause) == -1)
			goto fail;
		if (st == STORE_MEMBER_PENDING &&
		    (queued = confirm_queue(s, conf, sub.id, l->slug,
		    &cause)) == -1)
			goto fail;
		detail = xprintf("list %s %s method staff source %s", l->slug,
		    store_member_status_name(st), source);
		store_event(s, "subscriber.add", email, detail);
		free(detail);
		if (store_commit(s, &cause) != 0)
			goto fail;
		if (st == STORE_MEMBER_CONFIRMED)
			printf("added %s to %s (confirmed: consent given to "
			    "staff, %s)\n", shown, l->slug, source);
		else
			printf("added %s to %s (pending: confirmation email "
			    "queued)\n", shown, l->slug);
		goto out;
	}

	/* Step 3: already on the list. */
	if (m.status == STORE_MEMBER_CONFIRMED) {
		printf("%s is already subscribed to %s (confirmed); nothing "
		    "changed\n", shown, l->slug);
	} else if (m.status == STORE_MEMBER_PENDING && !o.confirmed) {
		if ((queued = confirm_queue(s, conf, sub.id, l->slug,
		    &cause)) == -1)
			goto fail;
		printf("%s is already on %s, waiting for confirmation; "
		    "nothing changed (%s)\n", shown, l->slug, queued ?
		    "confirmation email queued again" :
		    "a confirmation email was already queued today");
	} else if (m.status == STORE_MEMBER_PENDING ||
	    (o.confirmed && (m.status == STORE_MEMBER_UNSUBSCRIBED ||
	    m.status == STORE_MEMBER_BOUNCED))) {
		if (store_member_set_status(s, sub.id, l->slug,
		    STORE_MEMBER_CONFIRMED, "staff", source, &cause) == -1)
			goto fail;
		printf("%s was %s on %s; now confirmed (consent given to "
		    "staff, %s)\n", shown, store_member_status_name(m.status),
		    l->slug, source);
	} else {
		printf("%s is on %s but %s; nothing changed (add --confirmed "
		    "only with their consent to subscribe them again)\n",
		    shown, l->slug, store_member_status_name(m.status));
	}
	if (store_commit(s, &cause) != 0)
		goto fail;
	goto out;

fail:
	rc = cmd_store_fail(s, cause);
	cause = NULL;
out:
	if (s != NULL)
		store_rollback(s);
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(email);
	free(attrs);
	free(merged);
	free(source);
	return rc;
}

/* --- remove, set ------------------------------------------------------- */

/*
 * The common start of commands on one membership: list, address, store,
 * subscriber and membership.  Returns -1 with *rc set when it cannot go
 * on (the caller then only cleans up).
 */
static int
cmd_subscriber_find_member(struct cmd_ctx *ctx, const char *slug,
    const char *arg,
    const struct conf_list **l, struct store **s, char **email,
    struct store_subscriber *sub, struct store_member *m, int *rc)
{
	struct conf	*conf;
	char		*cause = NULL;
	int		 found;

	if ((conf = cmd_conf(ctx)) == NULL) {
		*rc = EX_CONFIG;
		return -1;
	}
	if ((*l = cmd_subscriber_list(conf, slug)) == NULL ||
	    (*email = cmd_address(&cmd_subscriber, arg)) == NULL) {
		*rc = EX_DATAERR;
		return -1;
	}
	if ((*s = cmd_store(ctx, rc)) == NULL)
		return -1;
	if (store_begin(*s, &cause) != 0 ||
	    (found = store_subscriber_get(*s, *email, sub, &cause)) == -1 ||
	    (found && (found = store_member_get(*s, sub->id, (*l)->slug, m,
	    &cause)) == -1)) {
		*rc = cmd_store_fail(*s, cause);
		return -1;
	}
	if (!found) {
		fprintf(stderr, "postroom: subscriber: %s is not on %s\n",
		    *email, (*l)->slug);
		*rc = EX_DATAERR;
		return -1;
	}
	/* Found in any case: from here on, the form first given. */
	free(*email);
	*email = xstrdup(sub->email);
	return 0;
}

static int
cmd_subscriber_remove(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	const struct conf_list	*l;
	struct store		*s = NULL;
	struct store_subscriber	 sub;
	struct store_member	 m;
	char			*email = NULL, *cause = NULL;
	int			 nargs, rc = EX_OK;

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if (cmd_subscriber_getopt(argc, argv, "", &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 2)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST EMAIL", "remove");
	if (cmd_subscriber_find_member(ctx, argv[optind], argv[optind + 1],
	    &l, &s,
	    &email, &sub, &m, &rc) != 0)
		goto out;
	if (m.status == STORE_MEMBER_UNSUBSCRIBED) {
		printf("%s is already unsubscribed from %s; nothing changed\n",
		    email, l->slug);
		goto out;
	}
	if (store_member_set_status(s, sub.id, l->slug,
	    STORE_MEMBER_UNSUBSCRIBED, NULL, NULL, &cause) == -1 ||
	    store_commit(s, &cause) != 0) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	printf("removed %s from %s (kept as unsubscribed so that an import "
	    "does not add them back; \"subscriber forget\" erases them)\n",
	    email, l->slug);
out:
	if (s != NULL)
		store_rollback(s);
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(email);
	return rc;
}

static int
cmd_subscriber_set(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	const struct conf_list	*l;
	struct store		*s = NULL;
	struct store_subscriber	 sub;
	struct store_member	 m;
	char			*email = NULL, *cause = NULL;
	int			 nargs, rc = EX_OK, changed;

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_MODE, 0 }, &o,
	    &nargs) != 0)
		return EX_USAGE;
	if (nargs != 2)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST EMAIL", "set");
	if (o.mode == NULL)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: --mode is required", "set");
	if (cmd_subscriber_find_member(ctx, argv[optind], argv[optind + 1],
	    &l, &s,
	    &email, &sub, &m, &rc) != 0)
		goto out;
	if ((changed = store_member_set_mode(s, sub.id, l->slug, o.mode,
	    &cause)) == -1 || store_commit(s, &cause) != 0) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	if (changed)
		printf("%s on %s: mode %s (was %s)\n", email, l->slug, o.mode,
		    m.mode);
	else
		printf("%s on %s: mode is already %s; nothing changed\n",
		    email, l->slug, o.mode);
out:
	if (s != NULL)
		store_rollback(s);
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(email);
	return rc;
}

/* --- list, show -------------------------------------------------------- */

static int
cmd_subscriber_list_one(const struct store_subscriber *sub,
    const struct store_member *m,
    void *arg)
{
	struct value	*o, *mv;
	const char	*k;
	int		*json = arg;
	char		 t[32];
	size_t		 i;

	if (*json) {
		/* The subscriber and, beside it, the membership. */
		o = cmd_subscriber_subscriber_value(sub);
		mv = store_member_value(m, 0);
		for (i = 0; i < value_object_len(mv); i++) {
			k = value_object_key(mv, i);
			if (strcmp(k, "list") == 0)
				continue;
			value_object_set(o, strcmp(k, "created_at") == 0 ?
			    "joined_at" : k,
			    value_copy(value_object_value(mv, i)));
		}
		value_free(mv);
		cmd_print_json(o, 0);
		value_free(o);
		return 0;
	}
	printf("%-40s %-12s %-9s %-16s ", sub->email,
	    store_member_status_name(m->status), m->mode,
	    cmd_when(m->status == STORE_MEMBER_CONFIRMED ?
	    m->confirmed_at : m->created_at, t, sizeof t));
	cmd_put_safe(stdout, sub->name);
	putchar('\n');
	return 0;
}

static int
cmd_subscriber_list_cmd(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct conf		*conf;
	const struct conf_list	*l;
	struct store		*s;
	unsigned int		 mask;
	char			*cause = NULL;
	int			 nargs, rc = EX_OK;

	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_STATUS, OPT_JSON,
	    0 }, &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1)
		return cmd_usage_error(&cmd_subscriber, "%s: expected LIST",
		    "list");
	if (cmd_subscriber_status_mask(o.status, 0, &mask) != 0)
		return EX_USAGE;
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((l = cmd_subscriber_list(conf, argv[optind])) == NULL)
		return EX_DATAERR;
	if ((s = cmd_store_read(ctx, &rc)) == NULL)
		return rc;
	if (!o.json)
		printf("%-40s %-12s %-9s %-16s %s\n", "EMAIL", "STATUS", "MODE",
		    "SINCE", "NAME");
	if (store_member_walk(s, l->slug, mask, cmd_subscriber_list_one,
	    &o.json,
	    &cause) == -1)
		rc = cmd_store_fail(s, cause);
	return rc;
}

struct sub_show {
	struct value	*list;
	int		 json;
};

static int
cmd_subscriber_show_member(const struct store_member *m, void *arg)
{
	struct sub_show	*sh = arg;
	char		 t[32], t2[32];

	if (sh->json) {
		value_list_append(sh->list, store_member_value(m, 0));
		return 0;
	}
	printf("  %-20s %-12s %-9s since %s, consent %s", m->list,
	    store_member_status_name(m->status), m->mode,
	    cmd_when(m->created_at, t, sizeof t),
	    cmd_when(m->consent_at, t2, sizeof t2));
	if (*m->consent_method != '\0')
		printf(" (%s, %s)", m->consent_method, m->consent_source);
	putchar('\n');
	return 0;
}

static int
cmd_subscriber_show_cmd(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct sub_show		 sh;
	struct conf		*conf;
	struct store		*s;
	struct store_subscriber	 sub;
	struct value		*v = NULL, *attrs;
	char			*email, *display, *cause = NULL, t[32];
	size_t			 i;
	int			 nargs, rc = EX_OK, found;

	memset(&sub, 0, sizeof sub);
	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_JSON, 0 }, &o,
	    &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1)
		return cmd_usage_error(&cmd_subscriber, "%s: expected EMAIL",
		    "show");
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((email = cmd_address(&cmd_subscriber, argv[optind])) == NULL)
		return EX_DATAERR;
	if ((s = cmd_store_read(ctx, &rc)) == NULL) {
		free(email);
		return rc;
	}
	if ((found = store_subscriber_get(s, email, &sub, &cause)) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	if (!found) {
		found = store_subscriber_suppressed(s, email, NULL);
		fprintf(stderr, "postroom: subscriber: no subscriber %s%s\n",
		    email, found == 1 ? " (the address was erased at their "
		    "request)" : "");
		rc = EX_DATAERR;
		goto out;
	}

	sh.json = o.json;
	sh.list = value_new_list();
	if (o.json) {
		v = cmd_subscriber_subscriber_value(&sub);
		value_object_set(v, "memberships", sh.list);
	} else {
		display = address_display(sub.email);
		printf("email:    %s", sub.email);
		if (strcmp(display, sub.email) != 0)
			printf(" (%s)", display);
		free(display);
		printf("\nname:     ");
		cmd_put_safe(stdout, sub.name);
		printf("\ncreated:  %s\n",
		    cmd_when(sub.created_at, t,
		    sizeof t));
		attrs = store_subscriber_attrs_value(sub.attrs);
		for (i = 0; i < value_object_len(attrs); i++) {
			printf("%s%s = ", i == 0 ? "attrs:    " :
			    "          ", value_object_key(attrs, i));
			if (value_string(value_object_value(attrs, i),
			    NULL) != NULL)
				cmd_put_safe(stdout, value_string(
				    value_object_value(attrs, i), NULL));
			putchar('\n');
		}
		value_free(attrs);
		printf("lists:\n");
		value_free(sh.list);
		sh.list = NULL;
	}
	if (store_member_walk_subscriber(s, sub.id,
	    cmd_subscriber_show_member, &sh,
	    &cause) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	if (o.json)
		cmd_print_json(v, 0);
out:
	value_free(v);
	store_subscriber_clear(&sub);
	free(email);
	return rc;
}

/* --- find ------------------------------------------------------------- */

struct sub_find {
	struct store	*s;
	int		 json;
	size_t		 n;
	struct value	*members;	/* --json: the current person's */
	struct buf	 lists;		/* text: "news:pending,..." */
};

static int
cmd_subscriber_find_list(const struct store_member *m, void *arg)
{
	struct sub_find	*fd = arg;

	if (fd->json) {
		value_list_append(fd->members, store_member_value(m, 0));
		return 0;
	}
	if (fd->lists.len > 0)
		buf_addc(&fd->lists, ',');
	buf_addstr(&fd->lists, m->list);
	buf_addc(&fd->lists, ':');
	buf_addstr(&fd->lists, store_member_status_name(m->status));
	return 0;
}

/* One person found: a line like "list"'s, or one JSON object. */
static int
cmd_subscriber_find_one(const struct store_subscriber *sub, void *arg)
{
	struct sub_find	*fd = arg;
	struct value	*o = NULL;
	char		*cause = NULL;
	int		 rc;

	fd->n++;
	buf_reset(&fd->lists);
	if (fd->json) {
		o = cmd_subscriber_subscriber_value(sub);
		fd->members = value_new_list();
		value_object_set(o, "memberships", fd->members);
	}
	rc = store_member_walk_subscriber(fd->s, sub->id,
	    cmd_subscriber_find_list, fd, &cause);
	if (rc == -1) {
		value_free(o);
		fprintf(stderr, "postroom: subscriber: %s\n", cause);
		free(cause);
		return 1;
	}
	if (fd->json) {
		cmd_print_json(o, 0);
		value_free(o);
		return 0;
	}
	printf("%-40s %-30s ", sub->email, fd->lists.len > 0 ?
	    fd->lists.data : "-");
	cmd_put_safe(stdout, sub->name);
	putchar('\n');
	return 0;
}

static int
cmd_subscriber_find_cmd(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct sub_find		 fd;
	struct conf		*conf;
	const char		*text;
	char			*cause = NULL;
	int			 nargs, rc = EX_OK, stop;

	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_JSON, 0 }, &o,
	    &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1)
		return cmd_usage_error(&cmd_subscriber, "%s: expected TEXT",
		    "find");
	text = argv[optind];
	while (*text == ' ' || *text == '\t')
		text++;
	if (*text == '\0')
		return cmd_usage_error(&cmd_subscriber, "%s: TEXT is empty",
		    "find");
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	memset(&fd, 0, sizeof fd);
	if ((fd.s = cmd_store_read(ctx, &rc)) == NULL)
		return rc;
	fd.json = o.json;
	buf_init(&fd.lists, BUF_NOMAX);
	if (!o.json)
		printf("%-40s %-30s %s\n", "EMAIL", "LISTS", "NAME");
	stop = store_subscriber_find(fd.s, text, cmd_subscriber_find_one, &fd,
	    &cause);
	if (stop == -1)
		rc = cmd_store_fail(fd.s, cause);
	else if (stop != 0)
		rc = EX_SOFTWARE;
	else if (fd.n == 0) {
		fprintf(stderr, "postroom: subscriber: nobody's name or "
		    "address holds \"");
		cmd_put_safe(stderr, text);
		fprintf(stderr, "\"\n");
		rc = EX_DATAERR;
	}
	buf_free(&fd.lists);
	return rc;
}

/* --- import ----------------------------------------------------------- */

/* What an import found or did: notes, the records skipped, the counts. */
static void
cmd_subscriber_report(const struct sheet_report *rep, enum sheet_summary how,
    int details)
{
	char	*line;
	size_t	 i;

	for (i = 0; details && i < rep->nnotes; i++) {
		printf("note: ");
		cmd_put_safe(stdout, rep->notes[i]);
		putchar('\n');
	}
	for (i = 0; details && i < rep->nskips; i++) {
		printf("line %lu: ", rep->skips[i].line);
		cmd_put_safe(stdout, rep->skips[i].why);
		putchar('\n');
	}
	line = sheet_summary(rep, how);
	printf("%s\n", line);
	free(line);
}

/*
 * Before confirmation emails go: 1 to go on, 0 when the person at the
 * terminal said no, -1 (after saying why) when nobody can be asked.
 */
static int
cmd_subscriber_ask(unsigned long emails)
{
	fflush(stdout);
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "postroom: subscriber: standard input is not a "
		    "terminal: add --yes to subscriber import to import and "
		    "send %lu confirmation email%s; nothing was imported\n",
		    emails, emails == 1 ? "" : "s");
		return -1;
	}
	if (emails > 0)
		fprintf(stderr, "Import and send %lu confirmation email%s? "
		    "[y/N] ", emails, emails == 1 ? "" : "s");
	else
		fprintf(stderr, "Import (no email will be sent)? [y/N] ");
	return cmd_answer_yes();
}

static int
cmd_subscriber_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct sheet_import_opts io;
	struct sheet_report	 rep;
	struct conf		*conf;
	const struct conf_list	*l;
	struct store		*s;
	struct sheet		*sh = NULL;
	struct buf		 data;
	const char		*path, *base;
	char			*cause = NULL, *who, *notice, *source = NULL;
	int			 nargs, rc = EX_OK, ask;

	memset(&io, 0, sizeof io);
	memset(&rep, 0, sizeof rep);
	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_CONFIRMED,
	    OPT_DRY_RUN, OPT_YES, 0 }, &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 2)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST FILE.csv", "import");
	path = argv[optind + 1];
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((l = cmd_subscriber_list(conf, argv[optind])) == NULL)
		return EX_DATAERR;

	/* Step 1: the whole file, read and checked before anything else. */
	buf_init(&data, SHEET_MAX_SIZE);
	if (buf_read_file(&data, path) != 0) {
		if (errno == EFBIG) {
			fprintf(stderr, "postroom: %s: the file is larger than "
			    "64 MB: split the spreadsheet into smaller files "
			    "and import each\n", path);
			rc = EX_DATAERR;
		} else {
			fprintf(stderr, "postroom: %s: %s\n", path,
			    strerror(errno));
			rc = EX_NOINPUT;
		}
		buf_free(&data);
		return rc;
	}
	sh = sheet_open(data.data != NULL ? data.data : "", data.len, &cause);
	buf_free(&data);
	if (sh == NULL) {
		fprintf(stderr, "postroom: %s: ", path);
		cmd_put_safe(stderr, cause);
		fprintf(stderr, "; nothing imported\n");
		free(cause);
		return EX_DATAERR;
	}
	if ((s = cmd_store(ctx, &rc)) == NULL)
		goto out;
	if ((base = strrchr(path, '/')) != NULL)
		base++;
	else
		base = path;
	who = cmd_who();
	io.source = source = xprintf("%s (%s)", base, who);
	free(who);
	io.list = l;
	io.confirmed = o.confirmed;
	io.dry_run = o.dry_run;
	io.now = time(NULL);

	/*
	 * Step 2: without consent, each new person gets an email: check the
	 * whole file as a dry run, say so, and ask before sending.
	 */
	ask = !o.confirmed && !o.dry_run;
	if (ask) {
		io.dry_run = 1;
		if (sheet_import(s, sh, &io, &rep, &cause) != 0)
			goto fail;
		cmd_subscriber_report(&rep, SHEET_SUMMARY_CHECK, 1);
		notice = sheet_notice(&rep, l);
		printf("%s\n", notice);
		free(notice);
		if (!o.yes) {
			switch (cmd_subscriber_ask(rep.emails)) {
			case -1:
				rc = EX_USAGE;
				goto out;
			case 0:
				printf("nothing imported\n");
				rc = 1;
				goto out;
			}
		}
		sheet_report_free(&rep);
		io.dry_run = 0;
		if ((io.confirm = confirm_open(conf, &cause)) == NULL) {
			fprintf(stderr, "postroom: %s\n", cause);
			free(cause);
			rc = EX_CONFIG;
			goto out;
		}
	}

	/* Step 3: every person, in one transaction. */
	if (sheet_import(s, sh, &io, &rep, &cause) != 0)
		goto fail;
	cmd_subscriber_report(&rep, o.dry_run ? SHEET_SUMMARY_DRY_RUN :
	    SHEET_SUMMARY_DONE, !ask);
	if (o.dry_run && !o.confirmed) {
		notice = sheet_notice(&rep, l);
		printf("%s\n", notice);
		free(notice);
	}
	if (ask)
		printf("%lu confirmation email%s queued (postroomd sends "
		    "them)\n", rep.emails, rep.emails == 1 ? "" : "s");
	goto out;

fail:
	rc = cmd_store_fail(s, cause);
out:
	confirm_close(io.confirm);
	sheet_report_free(&rep);
	sheet_close(sh);
	free(source);
	return rc;
}

/* --- export ----------------------------------------------------------- */

static int
cmd_subscriber_export(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct conf		*conf;
	const struct conf_list	*l;
	struct store		*s = NULL;
	const char		*path = NULL;
	char			*cause = NULL;
	unsigned long		 n;
	unsigned int		 mask;
	FILE			*f;
	int			 nargs, rc = EX_OK, fd;

	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_STATUS, 0 }, &o,
	    &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1 && nargs != 2)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST [FILE.csv]", "export");
	if (cmd_subscriber_status_mask(o.status, (1U << STORE_MEMBER_PENDING) |
	    (1U << STORE_MEMBER_CONFIRMED), &mask) != 0)
		return EX_USAGE;
	if (nargs == 2)
		path = argv[optind + 1];
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((l = cmd_subscriber_list(conf, argv[optind])) == NULL)
		return EX_DATAERR;
	if ((s = cmd_store(ctx, &rc)) == NULL)
		return rc;

	/* Personal data: the file is the user's alone. */
	if (path != NULL) {
		fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
		if (fd == -1 || (f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "postroom: %s: %s\n", path,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			return EX_CANTCREAT;
		}
	} else
		f = stdout;

	if (sheet_export(s, l->slug, mask, f, &n, &cause) != 0) {
		if (ferror(f)) {
			fprintf(stderr, "postroom: %s: %s\n", path != NULL ?
			    path : "stdout", cause);
			free(cause);
			rc = EX_IOERR;
		} else
			rc = cmd_store_fail(s, cause);
	} else if (path != NULL)
		fprintf(stderr, "exported %lu subscriber%s of %s to %s\n", n,
		    n == 1 ? "" : "s", l->slug, path);
	if (f != stdout && fclose(f) == EOF && rc == EX_OK) {
		fprintf(stderr, "postroom: %s: %s\n", path, strerror(errno));
		rc = EX_IOERR;
	}
	return rc;
}

/* --- forget, export-person --------------------------------------------- */

/* "N things" / "1 thing". */
static const char *
cmd_subscriber_n(int64_t n, const char *one, const char *many, char *buf,
    size_t size)
{
	snprintf(buf, size, "%lld %s", (long long)n, n == 1 ? one : many);
	return buf;
}

/* What forget_person() did, for the person at the terminal. */
static void
cmd_subscriber_forget_report(const char *email,
    const struct forget_report *r)
{
	const struct store_erasure	*x = &r->erased;
	const struct forget_original	*o;
	const char			*ref;
	char				 a[64], b[64], c[64], d[64];
	size_t				 i, nfwd = 0;

	printf("forgot %s:\n", email);
	if (x->nsubscribers > 0) {
		printf("  erased: %s (id",
		    cmd_subscriber_n((int64_t)x->nsubscribers,
		    "subscriber record", "subscriber records", a, sizeof a));
		for (i = 0; i < x->nsubscribers; i++)
			printf("%s%lld", i == 0 ? " " : ", ",
			    (long long)x->subscriber_ids[i]);
		printf(") with its name, attributes and %s\n",
		    cmd_subscriber_n(x->memberships, "list membership",
		    "list memberships", a, sizeof a));
	}
	if (x->nenquiries > 0) {
		printf("  erased: %s (",
		    cmd_subscriber_n((int64_t)x->nenquiries, "enquiry",
		    "enquiries", a, sizeof a));
		for (i = 0; i < x->nenquiries; i++)
			printf("%s%s", i == 0 ? "" : ", ",
			    x->enquiries[i].reference);
		printf("): sender, name, subject and message; their %s and "
		    "%s\n", cmd_subscriber_n(x->forwards, "forward",
		    "forwards", a, sizeof a), cmd_subscriber_n(x->acks,
		    "acknowledgement", "acknowledgements", b, sizeof b));
	}
	if (x->outbox > 0 || x->bounces > 0 || x->events > 0 ||
	    x->lead_digests > 0)
		printf("  erased: %s, %s, %s, %s naming them\n",
		    cmd_subscriber_n(x->outbox, "other message to them",
		    "other messages to them", a, sizeof a),
		    cmd_subscriber_n(x->bounces, "bounce", "bounces", b,
		    sizeof b), cmd_subscriber_n(x->events, "audit-log entry",
		    "audit-log entries", c, sizeof c),
		    cmd_subscriber_n(x->lead_digests, "sent lead summary",
		    "sent lead summaries", d, sizeof d));
	if (x->campaign_rows > 0)
		printf("  kept without the address: %s, so that the "
		    "campaigns' counts add up\n",
		    cmd_subscriber_n(x->campaign_rows, "newsletter delivery",
		    "newsletter deliveries", a, sizeof a));
	printf("  suppressed: only a one-way hash of the address is kept, so "
	    "it is never mailed or added again\n");

	if (x->nenquiries == 0)
		return;
	printf("the original messages in the mail store:\n");
	for (i = 0; i < x->nenquiries; i++) {
		o = &r->originals[i];
		ref = x->enquiries[i].reference;
		switch (o->fate) {
		case FORGET_DELETED:
			printf("  %s: deleted (%s)\n", ref, o->where);
			break;
		case FORGET_MARKED:
			printf("  %s: marked \\Deleted in the %s; the server "
			    "cannot expunge it alone (no UIDPLUS): the "
			    "mailbox's owner must expunge it\n", ref,
			    o->where);
			break;
		case FORGET_NOT_FOUND:
			printf("  %s: not found in the %s (deleted "
			    "already?)\n", ref, o->where);
			break;
		case FORGET_NO_COPY:
			printf("  %s: came from the mail server by its pipe; "
			    "postroom filed no copy (any the mail server "
			    "keeps is outside postroom)\n", ref);
			break;
		case FORGET_FAILED:
			printf("  %s: NOT deleted: %s; delete it by hand",
			    ref, o->why);
			if (x->enquiries[i].message_id != NULL)
				printf(" (Message-ID <%s>)",
				    x->enquiries[i].message_id);
			if (o->where != NULL)
				printf(" in the %s", o->where);
			putchar('\n');
			break;
		}
	}
	printf("outside postroom, and not erased by this:\n");
	for (i = 0; i < x->nenquiries; i++) {
		if (!x->enquiries[i].forwarded)
			continue;
		printf("%s%s (to %s)", nfwd++ == 0 ? "  the forwards of " :
		    ", ", x->enquiries[i].reference, x->enquiries[i].lead);
	}
	if (nfwd > 0)
		printf(" are in those leads' mailboxes: ask them to delete "
		    "them\n");
	printf("  the acknowledgements postroom sent are in the enquirer's "
	    "own mailbox\n");
}

static int
cmd_subscriber_forget(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct forget_report	 r;
	struct conf		*conf;
	struct store		*s;
	char			*email, *cause = NULL;
	int			 nargs, rc = EX_OK;

	if (cmd_subscriber_getopt(argc, argv,
	    (char []){ OPT_SUPPRESS_ANYWAY, 0 }, &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1)
		return cmd_usage_error(&cmd_subscriber, "%s: expected EMAIL",
		    "forget");
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((email = cmd_address(&cmd_subscriber, argv[optind])) == NULL)
		return EX_DATAERR;
	if ((s = cmd_store(ctx, &rc)) == NULL) {
		free(email);
		return rc;
	}
	if (forget_person(conf, s, email, o.suppress_anyway ?
	    FORGET_SUPPRESS_ANYWAY : 0, &r, &cause) == -1) {
		free(email);
		return cmd_store_fail(s, cause);
	}
	if (r.erased.held)
		cmd_subscriber_forget_report(email, &r);
	else if (r.erased.suppressed)
		printf("postroom held nothing for %s; the address is now "
		    "suppressed: only a one-way hash is kept, so it is never "
		    "mailed or added again\n", email);
	else if (r.erased.was_suppressed)
		printf("postroom holds nothing for %s; it was forgotten "
		    "before (only a one-way hash is kept), so it is never "
		    "mailed\n", email);
	else {
		fprintf(stderr, "postroom: subscriber: postroom holds nothing "
		    "for %s; nothing was suppressed (use --suppress-anyway to "
		    "make sure it is never mailed)\n", email);
		rc = EX_DATAERR;
	}
	forget_report_clear(&r);
	free(email);
	return rc;
}

static int
cmd_subscriber_export_person(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts	 o;
	struct conf	*conf;
	struct store	*s;
	struct value	*v;
	const char	*arg;
	char		*email, *cause = NULL;
	size_t		 len;
	int		 nargs, rc = EX_OK;

	if (cmd_subscriber_getopt(argc, argv, "", &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 1)
		return cmd_usage_error(&cmd_subscriber, "%s: expected EMAIL",
		    "export-person");
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	/* Someone who only wrote to us may have an odd address: use it. */
	arg = argv[optind];
	if (address_normalise(arg, &email, NULL) != 0) {
		while (*arg == ' ' || *arg == '\t')
			arg++;
		len = strlen(arg);
		while (len > 0 && (arg[len - 1] == ' ' || arg[len - 1] == '\t'))
			len--;
		if (len == 0)
			return cmd_usage_error(&cmd_subscriber,
			    "%s: EMAIL is empty", "export-person");
		email = xstrndup(arg, len);
	}
	if ((s = cmd_store(ctx, &rc)) == NULL) {
		free(email);
		return rc;
	}
	if ((v = store_subscriber_person(s, email, &cause)) == NULL)
		rc = cmd_store_fail(s, cause);
	else {
		cmd_print_json(v, 1);
		value_free(v);
	}
	free(email);
	return rc;
}

/* --- dispatch --------------------------------------------------------- */

static const struct sub_cmd cmd_subscriber_cmds[] = {
	{ "add", "LIST EMAIL [--name NAME] [--attr KEY=VALUE]... "
	    "[--mode immediate|digest] [--confirmed]", cmd_subscriber_add },
	{ "remove", "LIST EMAIL", cmd_subscriber_remove },
	{ "set", "LIST EMAIL --mode immediate|digest", cmd_subscriber_set },
	{ "list", "LIST [--status S] [--json]", cmd_subscriber_list_cmd },
	{ "show", "EMAIL [--json]", cmd_subscriber_show_cmd },
	{ "find", "TEXT [--json]", cmd_subscriber_find_cmd },
	{ "import", "LIST FILE.csv [--confirmed] [--dry-run] [--yes]",
	    cmd_subscriber_import },
	{ "export", "LIST [FILE.csv] [--status S]", cmd_subscriber_export },
	{ "forget", "EMAIL [--suppress-anyway]", cmd_subscriber_forget },
	{ "export-person", "EMAIL", cmd_subscriber_export_person },
	{ NULL, NULL, NULL },
};

static int
cmd_subscriber_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	size_t	i;

	if (cmd_wants_help(argc, argv)) {
		cmd_subscriber_help(stdout);
		return EX_OK;
	}
	if (argc < 2) {
		fprintf(stderr, "postroom: subscriber: which command?\n");
		cmd_subscriber_help(stderr);
		return EX_USAGE;
	}
	for (i = 0; cmd_subscriber_cmds[i].name != NULL; i++) {
		if (strcmp(argv[1], cmd_subscriber_cmds[i].name) == 0)
			return cmd_subscriber_cmds[i].fn(ctx, argc - 1,
			    argv + 1);
	}
	return cmd_usage_error(&cmd_subscriber, "unknown command \"%s\"",
	    argv[1]);
}

const struct cmd cmd_subscriber = {
	.name = "subscriber",
	.usage = "add|remove|set|list|show|find|import|export|forget|"
	    "export-person ...",
	.help = "manage subscribers: add, import/export CSV, forget",
	.exec = cmd_subscriber_exec,
};
