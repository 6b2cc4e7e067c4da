/*
 * conf.c - load the configuration.
 *
 * Owns: reading the file with libconfig (the only file that includes it),
 * the sections and the structured ones (leads, lists, rules), -o
 * overrides, checks across settings, collecting every problem with its
 * line, the mode check on files holding secrets, and the lookups the rest
 * of postroom uses.  Does not own: whether one value is good and storing
 * it (conf-check.c), printing the configuration (conf-dump.c), the names,
 * defaults and limits of settings (conf-table.c), what the settings mean
 * (their users), nor how problems are shown (the caller logs each message
 * once).
 *
 * conf_load() is pure: it builds a new struct conf from the file and the
 * overrides and touches no global state, so SIGHUP can load a candidate
 * beside the running configuration and throw it away when it is bad.  It
 * opens no file but the configuration: password files are read by their
 * users, with conf_read_secret(), when they need them.  It looks at a few
 * (the modes of files holding passwords; whether the templates directory
 * exists and, when it does not, whether the binary runs from a source
 * tree whose templates/ can stand in for it).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libconfig.h>

#include "buf.h"
#include "conf.h"
#include "conf-int.h"
#include "suggest.h"
#include "xmalloc.h"

#define CONF_SECRET_MAX	4096	/* bytes read from a secret file */

/* The top-level sections, in the order they are documented. */
static const char *const conf_sections[] = {
	"general", "smtp", "inbound", "leads", "rules", "lists", "digest",
	"enquiry", "web", "console",
};
#define CONF_NSECTIONS	(sizeof conf_sections / sizeof conf_sections[0])

/* One problem, with what it is sorted by. */
struct conf_err {
	char		*msg;
	int		 group;		/* 0: the file, 1: -o */
	unsigned int	 line;
	size_t		 seq;
};

/* Where a conf_settings[] row got its value. */
struct conf_origin {
	const char	*file;		/* libconfig's name for the file */
	unsigned int	 line;
	char		*override;	/* the -o NAME */
};

struct conf_loader {
	struct conf		*conf;
	const char		*path;
	struct conf_err		*errs;
	size_t			 nerrs;
	struct conf_origin	*origin;	/* one per conf_settings[] row */
	const char		*leads_file;	/* where leads = { } is */
	unsigned int		 leads_line;
	char			*dir;		/* the file's directory */
	char			*text;		/* the file, NULL if unread */
};

static size_t
conf_nsettings(const struct conf_setting *table)
{
	size_t	n;

	for (n = 0; table[n].name != NULL; n++)
		;
	return n;
}

static char	*conf_vprintf(const char *, va_list)
		    __attribute__((format(printf, 1, 0)));

static char *
conf_vprintf(const char *fmt, va_list ap)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	if (buf_vprintf(&b, fmt, ap) == -1)
		abort();
	return buf_detach(&b, NULL);
}

/* ---- Collecting problems ---- */

static void	conf_error(struct conf_loader *, const char *, unsigned int,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
static void	conf_error_override(struct conf_loader *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static void	conf_error_origin(struct conf_loader *, size_t,
		    const char *, ...) __attribute__((format(printf, 3, 4)));

static void
conf_add_error(struct conf_loader *ld, int group, unsigned int line, char *msg)
{
	struct conf_err	*e;

	ld->errs = xreallocarray(ld->errs, ld->nerrs + 1, sizeof *ld->errs);
	e = &ld->errs[ld->nerrs];
	e->msg = msg;
	e->group = group;
	e->line = line;
	e->seq = ld->nerrs++;
}

/* "FILE:LINE: ...", or "FILE: ..." when line is 0. */
static void
conf_error(struct conf_loader *ld, const char *file, unsigned int line,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = conf_vprintf(fmt, ap);
	va_end(ap);
	if (file == NULL)
		file = ld->path != NULL ? ld->path : "configuration";
	if (line > 0)
		conf_add_error(ld, 0, line, xprintf("%s:%u: %s", file, line, msg));
	else
		conf_add_error(ld, 0, 0, xprintf("%s: %s", file, msg));
	free(msg);
}

/* "-o NAME: ..." */
static void
conf_error_override(struct conf_loader *ld, const char *name,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = conf_vprintf(fmt, ap);
	va_end(ap);
	conf_add_error(ld, 1, 0, xprintf("-o %s: %s", name, msg));
	free(msg);
}

/* A problem with conf_settings[idx], reported where its value came from. */
static void
conf_error_origin(struct conf_loader *ld, size_t idx, const char *fmt, ...)
{
	const struct conf_origin	*o = &ld->origin[idx];
	va_list				 ap;
	char				*msg;

	va_start(ap, fmt);
	msg = conf_vprintf(fmt, ap);
	va_end(ap);
	if (o->override != NULL)
		conf_error_override(ld, o->override, "%s", msg);
	else
		conf_error(ld, o->file, o->line, "%s", msg);
	free(msg);
}

static int
conf_err_cmp(const void *a, const void *b)
{
	const struct conf_err	*ea = a, *eb = b;

	if (ea->group != eb->group)
		return ea->group < eb->group ? -1 : 1;
	if (ea->line != eb->line)
		return ea->line < eb->line ? -1 : 1;
	if (ea->seq != eb->seq)
		return ea->seq < eb->seq ? -1 : 1;
	return 0;
}

/* ---- Values from the file ---- */

static const char *
conf_got(const config_setting_t *cs)
{
	switch (config_setting_type(cs)) {
	case CONFIG_TYPE_GROUP:
		return "a group { ... }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a decimal number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ... ]";
	case CONFIG_TYPE_LIST:
		return "a list ( ... )";
	}
	return "nothing";
}

/* A value from the file for row s.  Returns 0, or -1 with *cause set. */
static int
conf_set_setting(void *base, const struct conf_setting *s,
    const config_setting_t *cs, char **cause)
{
	char	*want;
	int	 type = config_setting_type(cs);

	switch (s->type) {
	case CONF_STRING:
	case CONF_ENUM:
	case CONF_TIME:
		if (type == CONFIG_TYPE_STRING)
			return conf_set_text(base, s,
			    config_setting_get_string(cs), cause);
		break;
	case CONF_INT:
		if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
			return conf_set_number(base, s,
			    config_setting_get_int64(cs), cause);
		break;
	case CONF_BOOL:
		if (type == CONFIG_TYPE_BOOL)
			return conf_set_number(base, s,
			    config_setting_get_bool(cs) ? 1 : 0, cause);
		break;
	}
	want = conf_want(s);
	*cause = xprintf("expected %s, got %s", want, conf_got(cs));
	free(want);
	return -1;
}

/* The index of a row that must exist. */
static size_t
conf_index(const char *name)
{
	size_t	idx;

	if (conf_row(conf_settings, name, &idx) == NULL)
		abort();
	return idx;
}

/* ---- The sections ---- */

static int
conf_is_section(const char *name)
{
	size_t	i;

	for (i = 0; i < CONF_NSECTIONS; i++) {
		if (strcmp(conf_sections[i], name) == 0)
			return 1;
	}
	return 0;
}

/* section.key is not a setting: say so, with the nearest one. */
static char *
conf_unknown_setting(const char *full, int with_name)
{
	struct suggest	 sg;
	const struct conf_setting *s;
	const char		*key, *dot;
	char			*hint, *msg;

	suggest_init(&sg, full);
	for (s = conf_settings; s->name != NULL; s++)
		suggest_try(&sg, s->name);
	if (sg.best == NULL && (key = strchr(full, '.')) != NULL) {
		/* The right key in the wrong section. */
		for (s = conf_settings; s->name != NULL; s++) {
			dot = strchr(s->name, '.');
			if (strcmp(dot, key) == 0) {
				sg.best = s->name;
				break;
			}
		}
	}
	hint = suggest_text(&sg);
	msg = xprintf("unknown setting%s%s%s", with_name ? " " : "",
	    with_name ? full : "", hint);
	free(hint);
	return msg;
}

/*
 * libconfig 1.5 silently wraps an integer too big for an int (5000000000
 * reads as 705032704).  Find the number in the file's text and compare;
 * returns the literal when it differs (the caller frees it), else NULL.
 */
static char *
conf_int_wrapped(struct conf_loader *ld, const config_setting_t *cs)
{
	const char	*file = config_setting_source_file(cs);
	const char	*name = config_setting_name(cs), *p, *q;
	unsigned int	 line = 1, want = config_setting_source_line(cs);
	size_t		 len = strlen(name);
	long long	 n;
	char		*end;

	if (ld->text == NULL || file == NULL || strcmp(file, ld->path) != 0)
		return NULL;
	for (p = ld->text; *p != '\0' && line < want; p++) {
		if (*p == '\n')
			line++;
	}
	for (; *p != '\0' && *p != '\n'; p++) {
		if (strncmp(p, name, len) != 0 || (p > ld->text &&
		    (conf_isalnum((unsigned char)p[-1]) || p[-1] == '_')))
			continue;
		for (q = p + len; *q == ' ' || *q == '\t'; q++)
			;
		if (*q != '=' && *q != ':')
			continue;
		for (q++; *q == ' ' || *q == '\t'; q++)
			;
		errno = 0;
		n = strtoll(q, &end, 0);
		if (end != q && (errno == ERANGE ||
		    n != config_setting_get_int64(cs)))
			return xstrndup(q, (size_t)(end - q));
		return NULL;
	}
	return NULL;
}

/* general = { ... }, smtp = { ... } and the other scalar sections. */
static void
conf_load_section(struct conf_loader *ld, const config_setting_t *sec)
{
	const config_setting_t		*cs;
	const struct conf_setting	*s;
	const char			*secname = config_setting_name(sec);
	char				*full, *cause, *wrapped;
	size_t				 idx;
	int				 i, n;

	if (!config_setting_is_group(sec)) {
		conf_error(ld, config_setting_source_file(sec),
		    config_setting_source_line(sec),
		    "%s: expected a group %s = { ... };, got %s", secname,
		    secname, conf_got(sec));
		return;
	}
	n = config_setting_length(sec);
	for (i = 0; i < n; i++) {
		cs = config_setting_get_elem(sec, (unsigned int)i);
		full = xprintf("%s.%s", secname, config_setting_name(cs));
		if ((s = conf_row(conf_settings, full, &idx)) == NULL) {
			cause = conf_unknown_setting(full, 1);
			conf_error(ld, config_setting_source_file(cs),
			    config_setting_source_line(cs), "%s", cause);
		} else if (s->type == CONF_INT &&
		    config_setting_type(cs) == CONFIG_TYPE_INT &&
		    (wrapped = conf_int_wrapped(ld, cs)) != NULL) {
			conf_error(ld, config_setting_source_file(cs),
			    config_setting_source_line(cs), "%s: %s is out of "
			    "range (expected %lld to %lld)", full, wrapped,
			    s->min, s->max);
			free(wrapped);
			cause = NULL;
		} else if (conf_set_setting(ld->conf, s, cs, &cause) == -1) {
			conf_error(ld, config_setting_source_file(cs),
			    config_setting_source_line(cs), "%s: %s", full,
			    cause);
		} else {
			cause = NULL;
			ld->origin[idx].file = config_setting_source_file(cs);
			ld->origin[idx].line = config_setting_source_line(cs);
			ld->origin[idx].override = NULL;
		}
		free(cause);
		free(full);
	}
}

/* One lead: west_dsu = { name = "..."; addresses = [ "..." ]; }; */
static void
conf_load_lead(struct conf_loader *ld, const config_setting_t *cs)
{
	static const char *const keys[] = { "name", "addresses" };
	struct conf			*conf = ld->conf;
	struct conf_lead		*lead;
	struct suggest		 sg;
	const config_setting_t		*m, *a;
	const char			*key = config_setting_name(cs);
	const char			*file = config_setting_source_file(cs);
	char				*cause, *hint;
	size_t				 k;
	int				 i, j, n, reported = 0;

	if ((cause = conf_shape_cause(CONF_SHAPE_KEY, key)) != NULL) {
		conf_error(ld, file, config_setting_source_line(cs),
		    "lead key %s", cause);
		free(cause);
	}

	/* Kept even when broken, so that rules naming it say no more. */
	conf->leads = xreallocarray(conf->leads, conf->nleads + 1,
	    sizeof *conf->leads);
	lead = &conf->leads[conf->nleads++];
	memset(lead, 0, sizeof *lead);
	lead->key = xstrdup(key);
	lead->name = xstrdup(key);
	lead->line = config_setting_source_line(cs);
	if (!config_setting_is_group(cs)) {
		conf_error(ld, file, lead->line, "lead %s: expected a group "
		    "{ name = \"...\"; addresses = [ \"...\" ]; }, got %s", key,
		    conf_got(cs));
		return;
	}

	n = config_setting_length(cs);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(cs, (unsigned int)i);
		if (strcmp(config_setting_name(m), "name") == 0) {
			if (config_setting_type(m) != CONFIG_TYPE_STRING) {
				conf_error(ld, config_setting_source_file(m),
				    config_setting_source_line(m), "lead %s: "
				    "name: expected a string in quotes, got %s",
				    key, conf_got(m));
				continue;
			}
			free(lead->name);
			lead->name = xstrdup(config_setting_get_string(m));
			if ((cause = conf_string_cause(conf_row(
			    conf_list_settings, "name", NULL),
			    lead->name)) != NULL) {
				conf_error(ld, config_setting_source_file(m),
				    config_setting_source_line(m),
				    "lead %s: name: %s", key, cause);
				free(cause);
			}
			continue;
		}
		if (strcmp(config_setting_name(m), "addresses") != 0) {
			suggest_init(&sg, config_setting_name(m));
			for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
				suggest_try(&sg, keys[k]);
			hint = sg.best != NULL ? suggest_text(&sg) :
			    xstrdup(" (expected name or addresses)");
			conf_error(ld, config_setting_source_file(m),
			    config_setting_source_line(m), "lead %s: unknown "
			    "key %s%s", key, config_setting_name(m), hint);
			free(hint);
			continue;
		}

		/* addresses: a string, or an array or list of strings. */
		if (config_setting_type(m) == CONFIG_TYPE_STRING) {
			a = m;
			j = 1;
		} else if (config_setting_is_array(m) ||
		    config_setting_is_list(m)) {
			a = NULL;
			j = config_setting_length(m);
		} else {
			conf_error(ld, config_setting_source_file(m),
			    config_setting_source_line(m), "lead %s: "
			    "addresses: expected [ \"someone@example.org\", "
			    "... ], got %s", key, conf_got(m));
			reported = 1;
			continue;
		}
		for (k = 0; k < (size_t)j; k++) {
			const config_setting_t	*e;
			const char		*v;

			e = a != NULL ? a :
			    config_setting_get_elem(m, (unsigned int)k);
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				conf_error(ld, config_setting_source_file(e),
				    config_setting_source_line(e), "lead %s: "
				    "addresses: expected strings in quotes, "
				    "got %s", key, conf_got(e));
				reported = 1;
				continue;
			}
			v = config_setting_get_string(e);
			if (conf_check_address(v) == -1) {
				hint = conf_quote(v);
				conf_error(ld, config_setting_source_file(e),
				    config_setting_source_line(e), "lead %s: "
				    "%s is not an address (expected "
				    "local@domain.tld)", key, hint);
				free(hint);
				reported = 1;
				continue;
			}
			lead->addresses = xreallocarray(lead->addresses,
			    lead->naddresses + 1, sizeof *lead->addresses);
			lead->addresses[lead->naddresses++] = xstrdup(v);
		}
		if (j == 0) {
			conf_error(ld, config_setting_source_file(m),
			    config_setting_source_line(m), "lead %s: "
			    "addresses is empty (expected at least one "
			    "address)", key);
			reported = 1;
		}
	}
	if (lead->naddresses == 0 && !reported)
		conf_error(ld, file, lead->line, "lead %s: has no addresses "
		    "(expected addresses = [ \"someone@example.org\" ];)", key);
}

/* A list or an empty array: rules = ( ... ); lists = ( ... ); */
static int
conf_check_sequence(struct conf_loader *ld, const config_setting_t *cs,
    const char *example)
{
	const char	*name = config_setting_name(cs);

	if (config_setting_is_list(cs))
		return 0;
	if (config_setting_is_array(cs) && config_setting_length(cs) == 0)
		return 0;
	conf_error(ld, config_setting_source_file(cs),
	    config_setting_source_line(cs), "%s: expected a list %s = ( %s, "
	    "... );, got %s", name, name, example, conf_got(cs));
	return -1;
}

/* One list: { slug = "news"; name = "..."; from = "..."; ... } */
static void
conf_load_list(struct conf_loader *ld, const config_setting_t *cs, int pos)
{
	struct conf			*conf = ld->conf;
	struct conf_list		*list;
	struct suggest		 sg;
	const struct conf_setting	*s;
	const config_setting_t		*m;
	const char			*file = config_setting_source_file(cs);
	const char			*slug;
	char				*label, *cause, *hint;
	size_t				 k;
	int				 i, n, *seen;

	if (!config_setting_is_group(cs)) {
		conf_error(ld, file, config_setting_source_line(cs),
		    "lists: entry %d: expected a group { slug = \"...\"; ... }, "
		    "got %s", pos, conf_got(cs));
		return;
	}
	m = config_setting_get_member(cs, "slug");
	if (m != NULL && config_setting_type(m) == CONFIG_TYPE_STRING) {
		slug = config_setting_get_string(m);
		hint = conf_quote(slug);
		label = xprintf("list %s", hint);
		free(hint);
	} else
		label = xprintf("lists: entry %d", pos);

	conf->lists = xreallocarray(conf->lists, conf->nlists + 1,
	    sizeof *conf->lists);
	list = &conf->lists[conf->nlists++];
	memset(list, 0, sizeof *list);
	conf_set_defaults(list, conf_list_settings);
	list->line = config_setting_source_line(cs);

	seen = xcalloc(conf_nsettings(conf_list_settings), sizeof *seen);
	n = config_setting_length(cs);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(cs, (unsigned int)i);
		if ((s = conf_row(conf_list_settings, config_setting_name(m),
		    &k)) == NULL) {
			suggest_init(&sg, config_setting_name(m));
			for (s = conf_list_settings; s->name != NULL; s++)
				suggest_try(&sg, s->name);
			hint = suggest_text(&sg);
			conf_error(ld, config_setting_source_file(m),
			    config_setting_source_line(m), "%s: unknown key "
			    "%s%s", label, config_setting_name(m), hint);
			free(hint);
			continue;
		}
		seen[k] = 1;
		if (conf_set_setting(list, s, m, &cause) == -1) {
			conf_error(ld, config_setting_source_file(m),
			    config_setting_source_line(m), "%s: %s: %s",
			    label, s->name, cause);
			free(cause);
		}
	}
	for (k = 0; conf_list_settings[k].name != NULL; k++) {
		s = &conf_list_settings[k];
		if ((s->flags & CONF_F_REQUIRED) && !seen[k])
			conf_error(ld, file, list->line, "%s: %s is required "
			    "(%s)", label, s->name, s->help);
	}
	for (k = 0; k + 1 < conf->nlists && list->slug != NULL; k++) {
		if (conf->lists[k].slug != NULL &&
		    strcmp(conf->lists[k].slug, list->slug) == 0) {
			conf_error(ld, file, list->line, "list slug \"%s\" is "
			    "used twice (first at line %u)", list->slug,
			    conf->lists[k].line);
			break;
		}
	}
	free(seen);
	free(label);
}

static void
conf_node_build(struct conf_node *node, const config_setting_t *cs)
{
	const char	*name = config_setting_name(cs);
	size_t		 i;

	memset(node, 0, sizeof *node);
	node->name = name != NULL ? xstrdup(name) : NULL;
	node->line = config_setting_source_line(cs);
	switch (config_setting_type(cs)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		node->type = CONF_NODE_INT;
		node->num = config_setting_get_int64(cs);
		break;
	case CONFIG_TYPE_FLOAT:
		node->type = CONF_NODE_FLOAT;
		node->fnum = config_setting_get_float(cs);
		break;
	case CONFIG_TYPE_BOOL:
		node->type = CONF_NODE_BOOL;
		node->num = config_setting_get_bool(cs) ? 1 : 0;
		break;
	case CONFIG_TYPE_STRING:
		node->type = CONF_NODE_STRING;
		node->str = xstrdup(config_setting_get_string(cs));
		break;
	default:
		node->type = config_setting_is_group(cs) ? CONF_NODE_GROUP :
		    CONF_NODE_LIST;
		node->nchildren = (size_t)config_setting_length(cs);
		if (node->nchildren == 0)
			break;
		node->children = xcalloc(node->nchildren, sizeof *node);
		for (i = 0; i < node->nchildren; i++) {
			conf_node_build(&node->children[i],
			    config_setting_get_elem(cs, (unsigned int)i));
		}
		break;
	}
}

static void
conf_node_free(struct conf_node *node)
{
	size_t	i;

	for (i = 0; i < node->nchildren; i++)
		conf_node_free(&node->children[i]);
	free(node->children);
	free(node->name);
	free(node->str);
}

/* Does a lead called key exist?  If not, the nearest, for the message. */
static const char *
conf_lead_near(const struct conf *conf, const char *key, int *found)
{
	struct suggest	sg;
	size_t			i;

	suggest_init(&sg, key);
	for (i = 0; i < conf->nleads; i++) {
		if (strcmp(conf->leads[i].key, key) == 0) {
			*found = 1;
			return NULL;
		}
		suggest_try(&sg, conf->leads[i].key);
	}
	*found = 0;
	return sg.best;
}

/* One rule: { name = "..."; lead = "..."; (conditions) } */
static void
conf_load_rule(struct conf_loader *ld, const config_setting_t *cs, int pos)
{
	struct conf			*conf = ld->conf;
	struct conf_rule		*rule;
	struct conf_node		*v;
	struct suggest		 sg;
	const struct conf_rule_key	*rk;
	const char			*file = config_setting_source_file(cs);
	const char			*near;
	char				*label, *cause, *hint, *q;
	size_t				 i, k;
	int				 found;

	if (!config_setting_is_group(cs)) {
		conf_error(ld, file, config_setting_source_line(cs),
		    "rules: entry %d: expected a group { name = \"...\"; "
		    "lead = \"...\"; ... }, got %s", pos, conf_got(cs));
		return;
	}
	conf->rules = xreallocarray(conf->rules, conf->nrules + 1,
	    sizeof *conf->rules);
	rule = &conf->rules[conf->nrules++];
	memset(rule, 0, sizeof *rule);
	rule->line = config_setting_source_line(cs);
	rule->node = xmalloc(sizeof *rule->node);
	conf_node_build(rule->node, cs);

	v = (struct conf_node *)conf_node_child(rule->node, "name");
	if (v != NULL && v->type == CONF_NODE_STRING) {
		q = conf_quote(v->str);
		label = xprintf("rule %s", q);
		free(q);
	} else
		label = xprintf("rules: entry %d", pos);

	for (i = 0; i < rule->node->nchildren; i++) {
		v = &rule->node->children[i];
		for (rk = conf_rule_keys; rk->name != NULL; rk++) {
			if (strcmp(rk->name, v->name) == 0)
				break;
		}
		if (rk->name == NULL) {
			suggest_init(&sg, v->name);
			for (rk = conf_rule_keys; rk->name != NULL; rk++)
				suggest_try(&sg, rk->name);
			hint = suggest_text(&sg);
			conf_error(ld, file, v->line, "%s: unknown key %s%s",
			    label, v->name, hint);
			free(hint);
			continue;
		}
		if (!conf_rule_type_ok(rk, v)) {
			conf_error(ld, file, v->line, "%s: %s: expected %s",
			    label, rk->name, conf_rule_type_want(rk->type));
			continue;
		}
		if (rk->check != NULL && rk->check(v, &cause) == -1) {
			conf_error(ld, file, v->line, "%s: %s: %s", label,
			    rk->name, cause);
			free(cause);
			continue;
		}
		if (strcmp(rk->name, "name") == 0) {
			if (v->str[0] == '\0' || strpbrk(v->str, " \t\r\n")) {
				q = conf_quote(v->str);
				conf_error(ld, file, v->line, "%s: name %s must "
				    "be one word", label, q);
				free(q);
			} else
				rule->name = xstrdup(v->str);
		} else if (strcmp(rk->name, "lead") == 0) {
			rule->lead = xstrdup(v->str);
			near = conf_lead_near(conf, v->str, &found);
			if (!found) {
				q = conf_quote(v->str);
				hint = near != NULL ?
				    xprintf(" (did you mean %s?)", near) :
				    xstrdup(" (expected a key of leads)");
				conf_error(ld, file, v->line, "%s: lead %s is "
				    "not defined in leads%s", label, q, hint);
				free(hint);
				free(q);
			}
		}
	}
	for (rk = conf_rule_keys; rk->name != NULL; rk++) {
		if ((rk->flags & CONF_F_REQUIRED) &&
		    conf_node_child(rule->node, rk->name) == NULL)
			conf_error(ld, file, rule->line, "%s: %s is required "
			    "(%s)", label, rk->name, rk->help);
	}
	for (k = 0; k + 1 < conf->nrules && rule->name != NULL; k++) {
		if (conf->rules[k].name != NULL &&
		    strcmp(conf->rules[k].name, rule->name) == 0) {
			conf_error(ld, file, rule->line, "rule name \"%s\" is "
			    "used twice (first at line %u)", rule->name,
			    conf->rules[k].line);
			break;
		}
	}
	if (rule->name == NULL)
		rule->name = xstrdup("");
	if (rule->lead == NULL)
		rule->lead = xstrdup("");
	free(label);
}

/* leads first (rules refer to them), then everything in file order. */
static void
conf_load_root(struct conf_loader *ld, const config_setting_t *root)
{
	const config_setting_t	*sec, *cs;
	const struct conf_setting *s;
	struct suggest	 sg;
	const char		*name;
	char			*hint, *list;
	size_t			 k;
	int			 i, j, n;

	if ((sec = config_setting_get_member(root, "leads")) != NULL) {
		ld->leads_file = config_setting_source_file(sec);
		ld->leads_line = config_setting_source_line(sec);
		if (!config_setting_is_group(sec)) {
			conf_error(ld, ld->leads_file, ld->leads_line,
			    "leads: expected a group leads = { key = { ... }; "
			    "... };, got %s", conf_got(sec));
		} else {
			n = config_setting_length(sec);
			for (j = 0; j < n; j++) {
				conf_load_lead(ld, config_setting_get_elem(sec,
				    (unsigned int)j));
			}
		}
	}

	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		sec = config_setting_get_elem(root, (unsigned int)i);
		name = config_setting_name(sec);
		if (strcmp(name, "leads") == 0)
			continue;
		if (strcmp(name, "rules") == 0) {
			if (conf_check_sequence(ld, sec, "{ name = \"...\"; "
			    "lead = \"...\"; }") == -1)
				continue;
			for (j = 0; j < config_setting_length(sec); j++) {
				cs = config_setting_get_elem(sec,
				    (unsigned int)j);
				conf_load_rule(ld, cs, j + 1);
			}
			continue;
		}
		if (strcmp(name, "lists") == 0) {
			if (conf_check_sequence(ld, sec, "{ slug = \"...\"; "
			    "from = \"...\"; }") == -1)
				continue;
			for (j = 0; j < config_setting_length(sec); j++) {
				cs = config_setting_get_elem(sec,
				    (unsigned int)j);
				conf_load_list(ld, cs, j + 1);
			}
			continue;
		}
		if (conf_is_section(name)) {
			conf_load_section(ld, sec);
			continue;
		}

		/* Not a section: a misspelling, or a setting out of place. */
		for (s = conf_settings; s->name != NULL; s++) {
			if (strcmp(strchr(s->name, '.') + 1, name) == 0)
				break;
		}
		if (s->name != NULL) {
			hint = xstrndup(s->name, (size_t)(strchr(s->name, '.') -
			    s->name));
			conf_error(ld, config_setting_source_file(sec),
			    config_setting_source_line(sec), "%s is not a "
			    "section: settings go inside their section (did you "
			    "mean %s, inside %s = { ... };?)", name, s->name,
			    hint);
			free(hint);
			continue;
		}
		suggest_init(&sg, name);
		for (k = 0; k < CONF_NSECTIONS; k++)
			suggest_try(&sg, conf_sections[k]);
		if (sg.best != NULL) {
			hint = suggest_text(&sg);
			conf_error(ld, config_setting_source_file(sec),
			    config_setting_source_line(sec), "unknown section "
			    "%s%s", name, hint);
			free(hint);
		} else {
			list = NULL;
			for (k = 0; k < CONF_NSECTIONS; k++) {
				hint = list;
				list = xprintf("%s%s%s", hint != NULL ? hint :
				    "", k == 0 ? "" : k == CONF_NSECTIONS - 1 ?
				    " or " : ", ", conf_sections[k]);
				free(hint);
			}
			conf_error(ld, config_setting_source_file(sec),
			    config_setting_source_line(sec), "unknown section "
			    "%s (expected %s)", name, list);
			free(list);
		}
	}
}

/* -o NAME=VALUE */
static void
conf_load_override(struct conf_loader *ld, const char *arg)
{
	static const char *const	 structured[] = {
		"leads", "rules", "lists"
	};
	const struct conf_setting	*s;
	const char			*eq, *dot;
	char				*name, *cause;
	size_t				 idx, i, len;

	if ((eq = strchr(arg, '=')) == NULL || eq == arg) {
		conf_error_override(ld, arg, "expected NAME=VALUE (e.g. -o "
		    "smtp.concurrency=8)");
		return;
	}
	name = xstrndup(arg, (size_t)(eq - arg));
	if ((s = conf_row(conf_settings, name, &idx)) == NULL) {
		dot = strchr(name, '.');
		for (i = 0; i < 3; i++) {
			len = strlen(structured[i]);
			if (strncmp(name, structured[i], len) == 0 &&
			    (name[len] == '\0' || name[len] == '.'))
				break;
		}
		if (i < 3) {
			conf_error_override(ld, name, "%s cannot be changed "
			    "with -o; edit the configuration file",
			    structured[i]);
		} else if (dot == NULL) {
			conf_error_override(ld, name, "unknown setting (expected "
			    "SECTION.KEY, e.g. smtp.concurrency)");
		} else {
			cause = conf_unknown_setting(name, 0);
			conf_error_override(ld, name, "%s", cause);
			free(cause);
		}
		free(name);
		return;
	}
	if (s->flags & CONF_F_SECRET) {
		conf_error_override(ld, name, "a password cannot be given with "
		    "-o (other users can see command lines); use %.*s_file",
		    (int)strlen(name), name);
		free(name);
		return;
	}
	if (conf_set_text(ld->conf, s, eq + 1, &cause) == -1) {
		conf_error_override(ld, name, "%s", cause);
		free(cause);
		free(name);
		return;
	}
	ld->origin[idx].file = NULL;
	ld->origin[idx].line = 0;
	free(ld->origin[idx].override);
	ld->origin[idx].override = name;	/* freed by conf_load */
}

/* How a mode is too open, for "... is readable by group/others". */
static const char *
conf_mode_problem(mode_t mode)
{
	if (mode & (S_IRGRP | S_IROTH))
		return "readable by group/others";
	if (mode & (S_IWGRP | S_IWOTH))
		return "writable by group/others";
	return "accessible to group/others";
}

static char *
conf_mode_cause(const char *path, const char *what, mode_t mode)
{
	return xprintf("%s: contains a %s but is %s (mode %04o); chmod 600 %s",
	    path, what, conf_mode_problem(mode), (unsigned int)(mode & 07777),
	    path);
}

/* 1 when path is a directory. */
static int
conf_is_dir(const char *path)
{
	struct stat	sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/*
 * The source tree the running binary was built in, or NULL: the nearest
 * directory above it (bin/, build/san/bin/, build/san/tests/) that holds
 * both src/postroomd.c and templates/newsletter.html.  The caller frees
 * it.  An installed binary ($PREFIX/sbin) has no such directory above it.
 */
static char *
conf_source_tree(void)
{
	char	 dir[PATH_MAX], *slash, *src, *tpl;
	ssize_t	 n;
	int	 up, found;

	if ((n = readlink("/proc/self/exe", dir, sizeof dir - 1)) <= 0)
		return NULL;
	dir[n] = '\0';
	for (up = 0; up < 4; up++) {
		if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
			return NULL;
		*slash = '\0';
		src = xprintf("%s/src/postroomd.c", dir);
		tpl = xprintf("%s/templates/newsletter.html", dir);
		found = access(src, R_OK) == 0 && access(tpl, R_OK) == 0;
		free(tpl);
		free(src);
		if (found)
			return xstrdup(dir);
	}
	return NULL;
}

/*
 * "make run", "bin/postroom ..." and the tests run from a checkout, where
 * the templates are not installed: when the configured directory does not
 * exist, the source tree's own are used, and "config dump" says so.
 */
static void
conf_find_templates(struct conf *conf)
{
	char	*tree;

	if (conf_is_dir(conf->general.templates) ||
	    (tree = conf_source_tree()) == NULL)
		return;
	conf->templates_note = xprintf("%s does not exist: using the "
	    "source tree's", conf->general.templates);
	free(conf->general.templates);
	conf->general.templates = xprintf("%s/templates", tree);
	free(tree);
}

/* Checks across settings, once the file and the overrides are in. */
/* A base URL without trailing slashes ("https://x/" -> "https://x"). */
static void
conf_trim_url(char *url)
{
	const char	*end;
	size_t		 j;

	if ((end = strstr(url, "://")) == NULL)
		return;
	for (j = strlen(url); j > (size_t)(end - url) + 3 &&
	    url[j - 1] == '/'; j--)
		url[j - 1] = '\0';
}

static void
conf_finish(struct conf_loader *ld)
{
	struct conf	*conf = ld->conf;
	const char	*at, *near, *done = NULL;
	char		*q;
	size_t		 i, idx, fidx, j;
	int		 found;
	struct stat	 sb;
	static const char *const secrets[] = {
		"smtp.password", "inbound.password"
	};

	/* Derived values. */
	if (conf->general.domain[0] == '\0' &&
	    (at = strrchr(conf->general.from_address, '@')) != NULL) {
		free(conf->general.domain);
		conf->general.domain = xstrdup(at + 1);
	}
	conf_trim_url(conf->general.base_url);
	conf_trim_url(conf->console.base_url);
	for (i = 0; i < conf->nlists; i++) {
		if (conf->lists[i].digest_time == -1)
			conf->lists[i].digest_time = conf->digest.time;
	}
	conf_find_templates(conf);

	/* A password inline or in a file, not both. */
	for (i = 0; i < 2; i++) {
		idx = conf_index(secrets[i]);
		q = xprintf("%s_file", secrets[i]);
		fidx = conf_index(q);
		if (**(char **)conf_field(conf, &conf_settings[idx]) != '\0' &&
		    **(char **)conf_field(conf, &conf_settings[fidx]) != '\0')
			conf_error_origin(ld, idx, "%s and %s are both set "
			    "(keep one; %s is better)", secrets[i], q, q);
		free(q);
	}

	/* The console never serves on the public listener. */
	if (conf->console.listen[0] != '\0' &&
	    strcmp(conf->console.listen, conf->web.listen) == 0)
		conf_error_origin(ld, conf_index("console.listen"),
		    "console.listen is web.listen (%s): the staff console "
		    "must have its own address, not the public pages'",
		    conf->web.listen);

	/* IMAP needs a server and a user. */
	if (conf->inbound.source == CONF_SOURCE_IMAP) {
		idx = conf_index("inbound.source");
		if (conf->inbound.imap_url[0] == '\0')
			conf_error_origin(ld, idx, "inbound.source is imap but "
			    "inbound.imap_url is not set (expected "
			    "imaps://HOST)");
		if (conf->inbound.imap_user[0] == '\0')
			conf_error_origin(ld, idx, "inbound.source is imap but "
			    "inbound.imap_user is not set");
	}

	/* The default lead exists, when leads are configured. */
	if (conf->nleads > 0 || ld->leads_line > 0) {
		near = conf_lead_near(conf, conf->general.default_lead,
		    &found);
		idx = conf_index("general.default_lead");
		if (!found && (ld->origin[idx].override != NULL ||
		    ld->origin[idx].line > 0)) {
			q = near != NULL ? xprintf(" (did you mean %s?)", near) :
			    xstrdup("");
			conf_error_origin(ld, idx, "general.default_lead: \"%s\" "
			    "is not defined in leads%s",
			    conf->general.default_lead, q);
			free(q);
		} else if (!found) {
			conf_error(ld, ld->leads_file, ld->leads_line, "leads: "
			    "no lead \"%s\", which gets enquiries no rule "
			    "matches (add it, or set general.default_lead)",
			    conf->general.default_lead);
		}
	}

	/* Forwarding to postroom's own address would loop. */
	for (i = 0; i < conf->nleads; i++) {
		for (j = 0; j < conf->leads[i].naddresses; j++) {
			if (strcasecmp(conf->leads[i].addresses[j],
			    conf->general.from_address) != 0)
				continue;
			conf_error(ld, ld->leads_file, conf->leads[i].line,
			    "lead %s: %s is postroom's own address "
			    "(general.from_address); forwarding to it would "
			    "loop", conf->leads[i].key,
			    conf->leads[i].addresses[j]);
		}
	}

	/* A file holding a password is for its owner only (msmtp). */
	for (i = 0; i < 2; i++) {
		idx = conf_index(secrets[i]);
		if (**(char **)conf_field(conf, &conf_settings[idx]) == '\0' ||
		    ld->origin[idx].file == NULL)
			continue;
		if (done != NULL && strcmp(done, ld->origin[idx].file) == 0)
			continue;
		done = ld->origin[idx].file;
		if (stat(done, &sb) == -1) {
			conf_error(ld, done, 0, "%s", strerror(errno));
			continue;
		}
		if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
			q = conf_mode_cause(done, "password", sb.st_mode);
			conf_add_error(ld, 0, 0, q);
		}
	}
}

/*
 * Read path into cf and load it.  cf stays alive after this: the origins
 * of settings point at file names libconfig holds.
 */
static void
conf_read_file(struct conf_loader *ld, config_t *cf, const char *path)
{
	FILE		*f;
	struct stat	 sb;
	struct buf	 b;
	char		*slash;

	if ((f = fopen(path, "r")) == NULL) {
		conf_error(ld, path, 0, "%s", strerror(errno));
		return;
	}
	if (fstat(fileno(f), &sb) == -1 || !S_ISREG(sb.st_mode)) {
		conf_error(ld, path, 0, "not a regular file");
		fclose(f);
		return;
	}
	fclose(f);

	/* Kept to check integers libconfig may have wrapped. */
	buf_init(&b, 1024 * 1024);
	if (buf_read_file(&b, path) == 0)
		ld->text = buf_detach(&b, NULL);
	buf_free(&b);

	/* @include "x.conf" is relative to the file's directory. */
	ld->dir = xstrdup(path);
	if ((slash = strrchr(ld->dir, '/')) != NULL) {
		slash[slash == ld->dir] = '\0';
		config_set_include_dir(cf, ld->dir);
	}
	if (config_read_file(cf, path) != CONFIG_TRUE) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
			conf_error(ld, config_error_file(cf) != NULL ?
			    config_error_file(cf) : path, 0, "%s",
			    config_error_text(cf));
		} else {
			conf_error(ld, config_error_file(cf) != NULL ?
			    config_error_file(cf) : path,
			    (unsigned int)config_error_line(cf), "%s (nothing "
			    "after it is checked until it is fixed)",
			    config_error_text(cf));
		}
		return;
	}
	conf_load_root(ld, config_root_setting(cf));
}

/* ---- The public functions ---- */

const char *
conf_default_path(const char *cli_path)
{
	const char	*env;

	if (cli_path != NULL)
		return cli_path;
	if ((env = getenv("POSTROOM_CONFIG")) != NULL && *env != '\0')
		return env;
	return CONF_DEFAULT_PATH;
}

struct conf *
conf_load(const char *path, char *const *overrides, size_t noverrides,
    struct conf_errors *errs)
{
	struct conf_loader	 ld;
	struct conf_errors	 scratch = { 0 };
	config_t		 cf;
	size_t			 i, nsettings;

	if (errs == NULL)
		errs = &scratch;
	memset(&ld, 0, sizeof ld);
	ld.path = path;
	ld.conf = xcalloc(1, sizeof *ld.conf);
	nsettings = conf_nsettings(conf_settings);
	ld.origin = xcalloc(nsettings, sizeof *ld.origin);
	conf_set_defaults(ld.conf, conf_settings);

	config_init(&cf);
	if (path != NULL) {
		ld.conf->path = xstrdup(path);
		conf_read_file(&ld, &cf, path);
	}
	for (i = 0; i < noverrides; i++)
		conf_load_override(&ld, overrides[i]);
	conf_finish(&ld);
	config_destroy(&cf);

	for (i = 0; i < nsettings; i++)
		free(ld.origin[i].override);
	free(ld.origin);
	free(ld.dir);
	free(ld.text);

	/* Every problem, in file order, then the -o ones in order. */
	if (ld.nerrs > 0) {
		qsort(ld.errs, ld.nerrs, sizeof *ld.errs, conf_err_cmp);
		errs->msgs = xreallocarray(errs->msgs, errs->n + ld.nerrs,
		    sizeof *errs->msgs);
		for (i = 0; i < ld.nerrs; i++)
			errs->msgs[errs->n++] = ld.errs[i].msg;
		free(ld.errs);
		conf_free(ld.conf);
		conf_errors_free(&scratch);
		return NULL;
	}
	return ld.conf;
}

static void
conf_free_strings(void *base, const struct conf_setting *table)
{
	const struct conf_setting	*s;

	for (s = table; s->name != NULL; s++) {
		if (s->type == CONF_STRING)
			free(*(char **)conf_field(base, s));
	}
}

void
conf_free(struct conf *conf)
{
	size_t	i, j;

	if (conf == NULL)
		return;
	conf_free_strings(conf, conf_settings);
	free(conf->templates_note);
	for (i = 0; i < conf->nleads; i++) {
		for (j = 0; j < conf->leads[i].naddresses; j++)
			free(conf->leads[i].addresses[j]);
		free(conf->leads[i].addresses);
		free(conf->leads[i].key);
		free(conf->leads[i].name);
	}
	free(conf->leads);
	for (i = 0; i < conf->nlists; i++)
		conf_free_strings(&conf->lists[i], conf_list_settings);
	free(conf->lists);
	for (i = 0; i < conf->nrules; i++) {
		free(conf->rules[i].name);
		free(conf->rules[i].lead);
		conf_node_free(conf->rules[i].node);
		free(conf->rules[i].node);
	}
	free(conf->rules);
	free(conf->path);
	free(conf);
}

void
conf_errors_free(struct conf_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->n; i++)
		free(errs->msgs[i]);
	free(errs->msgs);
	errs->msgs = NULL;
	errs->n = 0;
}

const struct conf_lead *
conf_lead_find(const struct conf *conf, const char *key)
{
	size_t	i;

	for (i = 0; i < conf->nleads; i++) {
		if (strcmp(conf->leads[i].key, key) == 0)
			return &conf->leads[i];
	}
	return NULL;
}

const struct conf_lead *
conf_lead_default(const struct conf *conf)
{
	return conf_lead_find(conf, conf->general.default_lead);
}

const struct conf_list *
conf_list_find(const struct conf *conf, const char *slug)
{
	size_t	i;

	for (i = 0; i < conf->nlists; i++) {
		if (strcmp(conf->lists[i].slug, slug) == 0)
			return &conf->lists[i];
	}
	return NULL;
}

const struct conf_rule *
conf_rule_find(const struct conf *conf, const char *name)
{
	size_t	i;

	for (i = 0; i < conf->nrules; i++) {
		if (strcmp(conf->rules[i].name, name) == 0)
			return &conf->rules[i];
	}
	return NULL;
}

const struct conf_node *
conf_node_child(const struct conf_node *node, const char *name)
{
	size_t	i;

	if (node == NULL || node->type != CONF_NODE_GROUP)
		return NULL;
	for (i = 0; i < node->nchildren; i++) {
		if (strcmp(node->children[i].name, name) == 0)
			return &node->children[i];
	}
	return NULL;
}

const struct conf_node *
conf_rule_get(const struct conf_rule *rule, const char *key)
{
	return conf_node_child(rule->node, key);
}

int
conf_read_secret(const char *path, char **out, char **cause)
{
	struct stat	 sb;
	char		 data[CONF_SECRET_MAX + 1];
	size_t		 len = 0, n;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		*cause = xprintf("%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		*cause = conf_mode_cause(path, "secret", sb.st_mode);
		close(fd);
		return -1;
	}
	while (len < CONF_SECRET_MAX) {
		r = read(fd, data + len, CONF_SECRET_MAX - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			*cause = xprintf("%s: %s", path, strerror(errno));
			explicit_bzero(data, sizeof data);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (memchr(data, '\n', len) != NULL)
			break;
	}
	close(fd);
	data[len] = '\0';
	n = strcspn(data, "\r\n");
	if (n == 0) {
		*cause = xprintf("%s: the first line is empty (expected the "
		    "secret there)", path);
		explicit_bzero(data, sizeof data);
		return -1;
	}
	*out = xstrndup(data, n);
	explicit_bzero(data, sizeof data);
	return 0;
}
