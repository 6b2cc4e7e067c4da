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
 *	import LIST FILE.csv [--confirmed] [--dry-run]
 *	export LIST [FILE.csv] [--status S]
 *	forget EMAIL [--suppress-anyway]
 *	export-person EMAIL
 *
 * Owns: these commands' arguments, their messages and exit codes, the
 * mapping of CSV columns to subscribers (email, name, attributes), and
 * consent records made from the command line ("staff", "import", with
 * source "cli:USER").  Does not own: the SQL (store-subscriber.c), address
 * syntax (address.c), CSV syntax (csv.c), the confirmation email
 * (confirm.c), erasing a person (forget.c).
 *
 * Exit codes: 0 done (also "already subscribed, nothing changed"); 64 bad
 * arguments; 65 bad data (an unknown list, an invalid or forgotten
 * address, no such subscriber, nobody found, an address postroom never
 * held given to forget, a malformed CSV file); 66 a CSV file that
 * cannot be read; 73 the database cannot be opened or an export file
 * cannot be written; 75 the database is busy; 78 a bad configuration; 70
 * any other database failure.  The database is cmd_store()'s, opened once
 * per command and closed by the dispatcher.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "buf.h"
#include "cmd.h"
#include "conf.h"
#include "confirm.h"
#include "csv.h"
#include "forget.h"
#include "json.h"
#include "store.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

extern const struct cmd	cmd_subscriber;

#define CMD_SUBSCRIBER_ATTR_KEY_MAX	64
#define CMD_SUBSCRIBER_VALUE_MAX		(64 * 1024)

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
	    "  import         CSV with a header row: email, name, any other "
	    "column is an\n"
	    "                 attribute ([A-Za-z0-9_-]); --confirmed records "
	    "consent\n"
	    "                 (method import), else each gets a confirmation "
	    "email\n"
	    "  export         the same CSV (pending and confirmed members "
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
	    "Exit status: 0 done (also when nothing needed changing), 64 bad "
	    "arguments,\n"
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

/* Attribute names: [A-Za-z0-9_-], not email or name. */
static const char *
cmd_subscriber_attr_key_bad(const char *k, size_t len)
{
	size_t	i;

	if (len == 0)
		return "an attribute name is empty";
	if (len > CMD_SUBSCRIBER_ATTR_KEY_MAX)
		return "an attribute name is longer than 64 characters";
	for (i = 0; i < len; i++) {
		if (!isascii((unsigned char)k[i]) ||
		    (!isalnum((unsigned char)k[i]) && k[i] != '_' &&
		    k[i] != '-'))
			return "attribute names are letters, digits, _ and -";
	}
	if ((len == 5 && strncasecmp(k, "email", 5) == 0) ||
	    (len == 4 && strncasecmp(k, "name", 4) == 0))
		return "email and name are not attributes";
	return NULL;
}

/* A name or value: UTF-8, and no controls but (when multiline) LF, tab. */
static const char *
cmd_subscriber_text_bad(const char *s, size_t len, int multiline)
{
	size_t	i;

	if (len > CMD_SUBSCRIBER_VALUE_MAX)
		return "longer than 64 KiB";
	if (!utf8_valid(s, len))
		return "not valid UTF-8";
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			if (multiline && (s[i] == '\n' || s[i] == '\t'))
				continue;
			return multiline ? "holds a control character" :
			    "holds a line break or control character";
		}
	}
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
cmd_subscriber_attrs_value(const char *attrs)
{
	struct value	*v;

	if ((v = json_parse(attrs, strlen(attrs), NULL)) == NULL ||
	    value_get_type(v) != VALUE_OBJECT) {
		value_free(v);
		return value_new_object();
	}
	return v;
}

static struct value *
cmd_subscriber_subscriber_value(const struct store_subscriber *sub)
{
	struct value	*o;

	o = value_new_object();
	value_object_set(o, "id", value_new_int((long long)sub->id));
	value_object_set(o, "email", value_new_string(sub->email));
	value_object_set(o, "name", value_new_string(sub->name));
	value_object_set(o, "attrs", cmd_subscriber_attrs_value(sub->attrs));
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
		if ((why = cmd_subscriber_attr_key_bad(o->attrs[i],
		    (size_t)(eq - o->attrs[i]))) != NULL ||
		    (why = cmd_subscriber_text_bad(eq + 1, strlen(eq + 1),
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

	o = cmd_subscriber_attrs_value(old);
	a = cmd_subscriber_attrs_value(add);
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
	if (o.name != NULL && (why = cmd_subscriber_text_bad(o.name,
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
	if ((s = cmd_store(ctx, &rc)) == NULL)
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
	if ((s = cmd_store(ctx, &rc)) == NULL) {
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
		attrs = cmd_subscriber_attrs_value(sub.attrs);
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
	if ((fd.s = cmd_store(ctx, &rc)) == NULL)
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

/* Addresses seen in the file and the line each was first on. */
struct sub_seen {
	char		**keys;
	unsigned long	 *lines;
	size_t		  size;		/* a power of two */
	size_t		  n;
};

static size_t
cmd_subscriber_seen_hash(const char *s)
{
	size_t	h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* 0 when added, else the line it was first seen on. */
static unsigned long
cmd_subscriber_seen_add(struct sub_seen *t, const char *key, unsigned long line)
{
	char		**okeys;
	unsigned long	 *olines;
	size_t		  i, j, osize;

	if (t->n * 2 >= t->size) {
		okeys = t->keys;
		olines = t->lines;
		osize = t->size;
		t->size = osize == 0 ? 1024 : osize * 2;
		t->keys = xcalloc(t->size, sizeof *t->keys);
		t->lines = xcalloc(t->size, sizeof *t->lines);
		for (i = 0; i < osize; i++) {
			if (okeys[i] == NULL)
				continue;
			j = cmd_subscriber_seen_hash(okeys[i]) & (t->size - 1);
			while (t->keys[j] != NULL)
				j = (j + 1) & (t->size - 1);
			t->keys[j] = okeys[i];
			t->lines[j] = olines[i];
		}
		free(okeys);
		free(olines);
	}
	j = cmd_subscriber_seen_hash(key) & (t->size - 1);
	while (t->keys[j] != NULL) {
		if (strcmp(t->keys[j], key) == 0)
			return t->lines[j];
		j = (j + 1) & (t->size - 1);
	}
	t->keys[j] = xstrdup(key);
	t->lines[j] = line;
	t->n++;
	return 0;
}

static void
cmd_subscriber_seen_free(struct sub_seen *t)
{
	size_t	i;

	for (i = 0; i < t->size; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->lines);
}

struct sub_import {
	const struct conf_list	*list;
	struct store		*s;
	struct confirm		*confirm;
	int			 confirmed;
	int			 dry_run;
	char			*source;

	/* Columns: email and name (-1: none); attrs[i]: NULL or its key. */
	int			 email_col;
	int			 name_col;
	char			**attrs;
	size_t			 ncols;

	struct sub_seen		 seen;
	unsigned long		 imported, updated, unchanged, skipped;
};

static void
cmd_subscriber_skip(struct sub_import *im, unsigned long line, const char *addr,
    const char *why, unsigned long first)
{
	im->skipped++;
	printf("line %lu: ", line);
	if (addr != NULL && *addr != '\0') {
		cmd_put_safe(stdout, addr);
		printf(": ");
	}
	if (first != 0)
		printf("%s %lu\n", why, first);
	else
		printf("%s\n", why);
}

/*
 * The header row: which column is what.  -1 after printing the problem
 * (the file is then refused whole).
 */
static int
cmd_subscriber_import_header(struct sub_import *im, const char *path,
    const struct csv_record *r)
{
	const char	*why;
	char		*k;
	size_t		 i, j, len;

	im->email_col = im->name_col = -1;
	im->ncols = r->n;
	im->attrs = xcalloc(r->n, sizeof *im->attrs);
	for (i = 0; i < r->n; i++) {
		k = r->fields[i];
		len = r->lens[i];
		while (len > 0 && (*k == ' ' || *k == '\t')) {
			k++;
			len--;
		}
		while (len > 0 && (k[len - 1] == ' ' || k[len - 1] == '\t'))
			len--;
		if (len == 5 && strncasecmp(k, "email", 5) == 0) {
			if (im->email_col != -1)
				goto twice;
			im->email_col = (int)i;
			continue;
		}
		if (len == 4 && strncasecmp(k, "name", 4) == 0) {
			if (im->name_col != -1)
				goto twice;
			im->name_col = (int)i;
			continue;
		}
		if ((why = cmd_subscriber_attr_key_bad(k, len)) != NULL) {
			fprintf(stderr, "postroom: %s: line %lu: column %zu "
			    "(\"", path, r->line, i + 1);
			fwrite(k, 1, len, stderr);
			fprintf(stderr, "\"): %s\n", why);
			return -1;
		}
		im->attrs[i] = xstrndup(k, len);
		for (j = 0; j < i; j++) {
			if (im->attrs[j] != NULL &&
			    strcmp(im->attrs[j], im->attrs[i]) == 0)
				goto twice;
		}
	}
	if (im->email_col == -1) {
		fprintf(stderr, "postroom: %s: line %lu: the header row has no "
		    "\"email\" column\n", path, r->line);
		return -1;
	}
	return 0;

twice:
	fprintf(stderr, "postroom: %s: line %lu: column %zu (\"", path, r->line,
	    i + 1);
	fwrite(k, 1, len, stderr);
	fprintf(stderr, "\") appears twice in the header\n");
	return -1;
}

/* One data record.  -1 on a database failure (cause set). */
static int
cmd_subscriber_import_row(struct sub_import *im, const struct csv_record *r,
    char **cause)
{
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct value		*attrs = NULL, *old;
	const char		*why, *name = NULL;
	char			*email = NULL, *reason = NULL, *text = NULL;
	char			*key, t[32];
	unsigned long		 first;
	size_t			 i;
	int			 rc = -1, found, added, changed;

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);

	/* Step 1: the fields. */
	if (r->n == 1 && r->lens[0] == 0)
		return 0;	/* a blank line */
	for (i = im->ncols; i < r->n; i++) {
		if (r->lens[i] != 0) {
			reason = xprintf("%zu fields, but the header has %zu",
			    r->n, im->ncols);
			cmd_subscriber_skip(im, r->line, NULL, reason, 0);
			free(reason);
			return 0;
		}
	}
	if ((size_t)im->email_col >= r->n ||
	    r->lens[im->email_col] == 0) {
		cmd_subscriber_skip(im, r->line, NULL, "no email address", 0);
		return 0;
	}
	if (address_normalise(r->fields[im->email_col], &email, &reason) != 0) {
		cmd_subscriber_skip(im, r->line, r->fields[im->email_col],
		    reason,
		    0);
		free(reason);
		return 0;
	}
	/* "Ann@" and "ann@" on two lines are one person twice. */
	key = address_key(email);
	first = cmd_subscriber_seen_add(&im->seen, key, r->line);
	free(key);
	if (first != 0) {
		cmd_subscriber_skip(im, r->line, email, "duplicate of line",
		    first);
		free(email);
		return 0;
	}
	if (im->name_col != -1 && (size_t)im->name_col < r->n) {
		name = r->fields[im->name_col];
		if ((why = cmd_subscriber_text_bad(name, r->lens[im->name_col],
		    0)) != NULL) {
			reason = xprintf("the name %s", why);
			cmd_subscriber_skip(im, r->line, email, reason, 0);
			goto done;
		}
	}
	attrs = value_new_object();
	for (i = 0; i < im->ncols && i < r->n; i++) {
		if (im->attrs[i] == NULL || r->lens[i] == 0)
			continue;
		if ((why = cmd_subscriber_text_bad(r->fields[i], r->lens[i],
		    1)) != NULL) {
			reason = xprintf("%s %s", im->attrs[i], why);
			cmd_subscriber_skip(im, r->line, email, reason, 0);
			goto done;
		}
		value_object_set(attrs, im->attrs[i],
		    value_new_stringn(r->fields[i], r->lens[i]));
	}

	/* Step 2: never a forgotten address. */
	if ((found = store_subscriber_suppressed(im->s, email, cause)) == -1)
		goto out;
	if (found) {
		cmd_subscriber_skip(im, r->line, email,
		    "erased at their request "
		    "(subscriber forget); never added again", 0);
		goto done;
	}

	/* Step 3: the subscriber, new or brought up to date. */
	text = json_write(attrs, 0);
	if ((added = store_subscriber_add(im->s, email, name, text, &sub.id,
	    cause)) == -1)
		goto out;
	changed = 0;
	if (!added) {
		if (store_subscriber_get_id(im->s, sub.id, &sub, cause) != 1)
			goto out;
		old = cmd_subscriber_attrs_value(sub.attrs);
		for (i = 0; i < value_object_len(attrs); i++)
			value_object_set(old, value_object_key(attrs, i),
			    value_copy(value_object_value(attrs, i)));
		free(text);
		text = json_write(old, 0);
		value_free(old);
		if ((changed = store_subscriber_update(im->s, sub.id,
		    name != NULL && *name != '\0' ? name : NULL,
		    strcmp(text, sub.attrs) != 0 ? text : NULL, cause)) == -1)
			goto out;
	}

	/* Step 4: the membership. */
	if ((found = store_member_get(im->s, sub.id, im->list->slug, &m,
	    cause)) == -1)
		goto out;
	if (!found) {
		if (store_member_add(im->s, sub.id, im->list->slug,
		    im->confirmed ? STORE_MEMBER_CONFIRMED :
		    STORE_MEMBER_PENDING, NULL, "import", im->source,
		    cause) == -1)
			goto out;
		if (!im->confirmed && im->confirm != NULL &&
		    confirm_add(im->confirm, im->s, sub.id, im->list->slug,
		    time(NULL), cause) == -1)
			goto out;
		im->imported++;
	} else if (m.status == STORE_MEMBER_UNSUBSCRIBED ||
	    m.status == STORE_MEMBER_BOUNCED) {
		reason = xprintf("%s from %s on %s; not added again",
		    store_member_status_name(m.status), im->list->slug,
		    cmd_when(m.status == STORE_MEMBER_UNSUBSCRIBED ?
		    m.unsubscribed_at : m.updated_at, t, sizeof t));
		cmd_subscriber_skip(im, r->line, email, reason, 0);
		goto done;
	} else {
		if (m.status == STORE_MEMBER_PENDING && im->confirmed) {
			if (store_member_set_status(im->s, sub.id,
			    im->list->slug, STORE_MEMBER_CONFIRMED, "import",
			    im->source, cause) == -1)
				goto out;
			changed = 1;
		}
		im->updated++;
		if (!changed)
			im->unchanged++;
	}
done:
	rc = 0;
out:
	value_free(attrs);
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(email);
	free(reason);
	free(text);
	return rc;
}

static int
cmd_subscriber_import(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct sub_import	 im;
	struct conf		*conf;
	struct csv_reader	*cr = NULL;
	struct csv_record	*r;
	const char		*path, *base;
	FILE			*f = NULL;
	char			*cause = NULL, *detail;
	size_t			 i;
	int			 nargs, rc = EX_OK, n;

	memset(&im, 0, sizeof im);
	if (cmd_subscriber_getopt(argc, argv, (char []){ OPT_CONFIRMED,
	    OPT_DRY_RUN, 0 }, &o, &nargs) != 0)
		return EX_USAGE;
	if (nargs != 2)
		return cmd_usage_error(&cmd_subscriber,
		    "%s: expected LIST FILE.csv", "import");
	path = argv[optind + 1];
	if ((conf = cmd_conf(ctx)) == NULL)
		return EX_CONFIG;
	if ((im.list = cmd_subscriber_list(conf, argv[optind])) == NULL)
		return EX_DATAERR;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "postroom: %s: %s\n", path, strerror(errno));
		return EX_NOINPUT;
	}
	im.confirmed = o.confirmed;
	im.dry_run = o.dry_run;
	if ((base = strrchr(path, '/')) != NULL)
		base++;
	else
		base = path;
	detail = cmd_who();
	im.source = xprintf("%s (%s)", base, detail);
	free(detail);
	cr = csv_reader_new(f);

	/* Step 1: the header (the first line that is not blank). */
	while ((n = csv_read(cr, &r, &cause)) == 1 && r->n == 1 &&
	    r->lens[0] == 0)
		;
	if (n != 1) {
		if (n == 0)
			fprintf(stderr, "postroom: %s: empty file (a header "
			    "row with an email column is needed)\n", path);
		else
			fprintf(stderr, "postroom: %s: %s\n", path, cause);
		rc = n == -1 && ferror(f) ? EX_IOERR : EX_DATAERR;
		goto out;
	}
	if (cmd_subscriber_import_header(&im, path, r) != 0) {
		rc = EX_DATAERR;
		goto out;
	}

	/* Step 2: every record, in one transaction. */
	if ((im.s = cmd_store(ctx, &rc)) == NULL)
		goto out;
	if (!im.confirmed && !im.dry_run &&
	    (im.confirm = confirm_open(conf, &cause)) == NULL) {
		fprintf(stderr, "postroom: %s\n", cause);
		rc = EX_CONFIG;
		goto out;
	}
	if (store_begin(im.s, &cause) != 0)
		goto fail;
	while ((n = csv_read(cr, &r, &cause)) == 1) {
		if (cmd_subscriber_import_row(&im, r, &cause) != 0)
			goto fail;
	}
	if (n == -1) {
		fprintf(stderr, "postroom: %s: %s; nothing imported\n", path,
		    cause);
		rc = ferror(f) ? EX_IOERR : EX_DATAERR;
		goto out;
	}
	detail = xprintf("list %s file %s imported %lu updated %lu skipped "
	    "%lu%s", im.list->slug, im.source, im.imported, im.updated,
	    im.skipped, im.confirmed ? " confirmed" : "");
	store_event(im.s, "subscriber.import", NULL, detail);
	free(detail);
	if (im.dry_run)
		store_rollback(im.s);
	else if (store_commit(im.s, &cause) != 0)
		goto fail;

	printf("imported %lu, updated %lu, skipped %lu", im.imported,
	    im.updated, im.skipped);
	if (im.unchanged > 0)
		printf(" (%lu of the updated already up to date)",
		    im.unchanged);
	if (im.dry_run)
		printf(" (dry run: nothing was changed)");
	putchar('\n');
	goto out;

fail:
	rc = cmd_store_fail(im.s, cause);
	cause = NULL;
out:
	free(cause);
	if (im.s != NULL)
		store_rollback(im.s);
	confirm_close(im.confirm);
	csv_reader_free(cr);
	if (f != NULL)
		fclose(f);
	for (i = 0; i < im.ncols; i++)
		free(im.attrs[i]);
	free(im.attrs);
	free(im.source);
	cmd_subscriber_seen_free(&im.seen);
	return rc;
}

/* --- export ----------------------------------------------------------- */

struct sub_export {
	FILE		 *f;
	char		**keys;		/* attribute columns, sorted */
	size_t		  nkeys;
	struct buf	  line;
	unsigned long	  n;
	int		  error;
};

static int
cmd_subscriber_export_key_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Pass 1: the union of attribute names. */
static int
cmd_subscriber_export_keys(const struct store_subscriber *sub,
    const struct store_member *m, void *arg)
{
	struct sub_export	*ex = arg;
	struct value		*attrs;
	const char		*k;
	size_t			 i, j;

	attrs = cmd_subscriber_attrs_value(sub->attrs);
	for (i = 0; i < value_object_len(attrs); i++) {
		k = value_object_key(attrs, i);
		for (j = 0; j < ex->nkeys; j++) {
			if (strcmp(ex->keys[j], k) == 0)
				break;
		}
		if (j == ex->nkeys) {
			ex->keys = xreallocarray(ex->keys, ex->nkeys + 1,
			    sizeof *ex->keys);
			ex->keys[ex->nkeys++] = xstrdup(k);
		}
	}
	value_free(attrs);
	return 0;
}

/* Pass 2: one record per member. */
static int
cmd_subscriber_export_row(const struct store_subscriber *sub,
    const struct store_member *m, void *arg)
{
	struct sub_export	*ex = arg;
	struct value		*attrs, *v;
	const char		*t;
	char			*js;
	size_t			 i, len;

	buf_reset(&ex->line);
	csv_write_field(&ex->line, sub->email, strlen(sub->email));
	buf_addc(&ex->line, ',');
	csv_write_field(&ex->line, sub->name, strlen(sub->name));
	attrs = cmd_subscriber_attrs_value(sub->attrs);
	for (i = 0; i < ex->nkeys; i++) {
		buf_addc(&ex->line, ',');
		v = value_object_get(attrs, ex->keys[i]);
		if ((t = value_string(v, &len)) != NULL)
			csv_write_field(&ex->line, t, len);
		else if ((t = value_number_text(v)) != NULL)
			csv_write_field(&ex->line, t, strlen(t));
		else if (v != NULL && value_get_type(v) != VALUE_NULL) {
			js = json_write(v, 0);
			csv_write_field(&ex->line, js, strlen(js));
			free(js);
		}
	}
	value_free(attrs);
	buf_add(&ex->line, "\r\n", 2);
	if (fwrite(ex->line.data, 1, ex->line.len, ex->f) != ex->line.len) {
		ex->error = errno;
		return 1;
	}
	ex->n++;
	return 0;
}

static int
cmd_subscriber_export(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct sub_opts		 o;
	struct sub_export	 ex;
	struct conf		*conf;
	const struct conf_list	*l;
	struct store		*s = NULL;
	const char		*path = NULL;
	char			*cause = NULL;
	unsigned int		 mask;
	size_t			 i;
	int			 nargs, rc = EX_OK, fd;

	memset(&ex, 0, sizeof ex);
	buf_init(&ex.line, BUF_NOMAX);
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

	/* One read transaction, so that both passes see the same rows. */
	if (store_exec_sql(s, "BEGIN", &cause) != 0 ||
	    store_member_walk(s, l->slug, mask, cmd_subscriber_export_keys, &ex,
	    &cause) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	qsort(ex.keys, ex.nkeys, sizeof *ex.keys,
	    cmd_subscriber_export_key_cmp);

	/* Personal data: the file is the user's alone. */
	if (path != NULL) {
		fd = open(path, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0600);
		if (fd == -1 || (ex.f = fdopen(fd, "w")) == NULL) {
			fprintf(stderr, "postroom: %s: %s\n", path,
			    strerror(errno));
			if (fd != -1)
				close(fd);
			rc = EX_CANTCREAT;
			goto out;
		}
	} else
		ex.f = stdout;

	buf_addstr(&ex.line, "email,name");
	for (i = 0; i < ex.nkeys; i++) {
		buf_addc(&ex.line, ',');
		csv_write_field(&ex.line, ex.keys[i], strlen(ex.keys[i]));
	}
	buf_add(&ex.line, "\r\n", 2);
	if (fwrite(ex.line.data, 1, ex.line.len, ex.f) != ex.line.len)
		ex.error = errno;
	else if (store_member_walk(s, l->slug, mask,
	    cmd_subscriber_export_row, &ex, &cause) == -1) {
		rc = cmd_store_fail(s, cause);
		goto out;
	}
	if (fflush(ex.f) == EOF && ex.error == 0)
		ex.error = errno;
	if (ex.error != 0) {
		fprintf(stderr, "postroom: %s: %s\n", path != NULL ? path :
		    "stdout", strerror(ex.error));
		rc = EX_IOERR;
		goto out;
	}
	if (path != NULL)
		fprintf(stderr, "exported %lu subscriber%s of %s to %s\n", ex.n,
		    ex.n == 1 ? "" : "s", l->slug, path);
out:
	if (ex.f != NULL && ex.f != stdout && fclose(ex.f) == EOF &&
	    rc == EX_OK) {
		fprintf(stderr, "postroom: %s: %s\n", path, strerror(errno));
		rc = EX_IOERR;
	}
	if (s != NULL && store_in_transaction(s))
		store_rollback(s);
	for (i = 0; i < ex.nkeys; i++)
		free(ex.keys[i]);
	free(ex.keys);
	buf_free(&ex.line);
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
	{ "import", "LIST FILE.csv [--confirmed] [--dry-run]",
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
