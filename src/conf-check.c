/*
 * conf-check.c - what each value in the configuration must look like, and
 * storing it: a string, integer, boolean, time or choice checked against
 * its row of the settings table (conf-table.c); the shapes of addresses,
 * domains, URLs, keys, slugs and time zones; the type a rule value must
 * have; and the words for what was expected and what was wrong.
 *
 * Owns: every check of one value on its own, and its message.  Does not
 * own: reading the file or the structured sections (conf.c, the only file
 * that includes libconfig), checks across settings (conf.c), the rows
 * themselves (conf-table.c), nor a rule's conditions and keywords
 * (route-lang.c, through conf_rule_keys[]).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conf.h"
#include "conf-int.h"
#include "period.h"
#include "xmalloc.h"

/* Enum fields are written through an int pointer. */
_Static_assert(sizeof(enum conf_starttls) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_source) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_digest_period) == sizeof(int), "enum size");

#define CONF_QUOTE_MAX	60	/* characters of a bad value quoted back */

/* ---- Small helpers ---- */

/* A value quoted for an error message: escaped, and cut when long. */
char *
conf_quote(const char *s)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, BUF_NOMAX);
	buf_addc(&b, '"');
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char	c = (unsigned char)s[i];

		if (i == CONF_QUOTE_MAX) {
			buf_addstr(&b, "...");
			break;
		}
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c == '\n')
			buf_addstr(&b, "\\n");
		else if (c == '\t')
			buf_addstr(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_addc(&b, (char)c);
	}
	buf_addc(&b, '"');
	return buf_detach(&b, NULL);
}

/* "a, b or c" from a choices table. */
char *
conf_choices_text(const struct conf_choice *ch)
{
	struct buf	b;
	size_t		i, n;

	for (n = 0; ch[n].name != NULL; n++)
		;
	buf_init(&b, BUF_NOMAX);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addstr(&b, i == n - 1 ? " or " : ", ");
		buf_addstr(&b, ch[i].name);
	}
	return buf_detach(&b, NULL);
}


int
conf_isalnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* ---- What values must look like ---- */

static int
conf_check_domain(const char *d, size_t len)
{
	size_t	i, label = 0, labels = 1;

	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i < len; i++) {
		if (d[i] == '.') {
			if (label == 0 || d[i - 1] == '-')
				return -1;
			label = 0;
			labels++;
			continue;
		}
		if (!conf_isalnum((unsigned char)d[i]) && d[i] != '-')
			return -1;
		if (d[i] == '-' && label == 0)
			return -1;
		if (++label > 63)
			return -1;
	}
	if (label == 0 || d[len - 1] == '-' || labels < 2)
		return -1;
	return 0;
}

/* local@domain.tld, with no spaces, control characters or specials. */
int
conf_check_address(const char *s)
{
	const char	*at, *p;

	if (strlen(s) > 254 || (at = strrchr(s, '@')) == NULL)
		return -1;
	if (at == s || at - s > 64)
		return -1;
	for (p = s; p < at; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[]\\,;:\"@", *p) != NULL)
			return -1;
	}
	return conf_check_domain(at + 1, strlen(at + 1));
}

/* HOST[:PORT] or [V6]:PORT; *endp is left after it. */
static int
conf_check_hostport(const char *p, int need_port, const char **endp)
{
	const char	*start;
	long		 port;
	int		 digits;

	if (*p == '[') {
		for (start = ++p; *p != ']'; p++) {
			if (*p == '\0' || strchr("0123456789abcdefABCDEF:.",
			    *p) == NULL)
				return -1;
		}
		if (p == start)
			return -1;
		p++;
	} else {
		for (start = p; conf_isalnum((unsigned char)*p) ||
		    *p == '.' || *p == '-' || *p == '_'; p++)
			;
		if (p == start)
			return -1;
	}
	if (*p == ':') {
		p++;
		port = 0;
		for (digits = 0; *p >= '0' && *p <= '9'; p++) {
			if (++digits > 5)
				return -1;
			port = port * 10 + (*p - '0');
		}
		if (digits == 0 || port < 1 || port > 65535)
			return -1;
	} else if (need_port)
		return -1;
	*endp = p;
	return 0;
}

/* scheme://HOST[:PORT][/...] for one of schemes (NULL-ended). */
static int
conf_check_url(const char *s, const char *const *schemes)
{
	const char	*end;
	size_t		 n;

	for (; *schemes != NULL; schemes++) {
		n = strlen(*schemes);
		if (strncasecmp(s, *schemes, n) != 0)
			continue;
		if (conf_check_hostport(s + n, 0, &end) == -1)
			return -1;
		return *end == '\0' || *end == '/' ? 0 : -1;
	}
	return -1;
}

static int
conf_check_charset(const char *s, const char *extra)
{
	for (; *s != '\0'; s++) {
		if (!conf_isalnum((unsigned char)*s) &&
		    strchr(extra, *s) == NULL)
			return -1;
	}
	return 0;
}

/* NULL when s has the shape, else why not (the caller frees it). */
char *
conf_shape_cause(enum conf_shape shape, const char *s)
{
	static const char *const smtp[] = { "smtp://", "smtps://", NULL };
	static const char *const imap[] = { "imap://", "imaps://", NULL };
	static const char *const http[] = { "http://", "https://", NULL };
	const char	*end, *p;
	char		*q, *cause = NULL;

	q = conf_quote(s);
	switch (shape) {
	case CONF_SHAPE_ANY:
	case CONF_SHAPE_TEXT:
		break;
	case CONF_SHAPE_ADDRESS:
		if (conf_check_address(s) == -1)
			cause = xprintf("%s is not an address (expected "
			    "local@domain.tld)", q);
		break;
	case CONF_SHAPE_DOMAIN:
		if (conf_check_domain(s, strlen(s)) == -1)
			cause = xprintf("%s is not a domain (expected a name "
			    "like example.org)", q);
		break;
	case CONF_SHAPE_SMTP_URL:
		if (strncasecmp(s, "maildir:", 8) == 0 && s[8] != '\0')
			break;
		if (conf_check_url(s, smtp) == -1)
			cause = xprintf("%s is not an SMTP URL (expected "
			    "smtp://HOST[:PORT], smtps://HOST[:PORT] or "
			    "maildir:PATH)", q);
		break;
	case CONF_SHAPE_IMAP_URL:
		if (conf_check_url(s, imap) == -1)
			cause = xprintf("%s is not an IMAP URL (expected "
			    "imap://HOST[:PORT] or imaps://HOST[:PORT])", q);
		break;
	case CONF_SHAPE_HTTP_URL:
		if (conf_check_url(s, http) == -1)
			cause = xprintf("%s is not a web address (expected "
			    "http://HOST[:PORT][/PATH] or https://...)", q);
		break;
	case CONF_SHAPE_LISTEN:
		if (conf_check_hostport(s, 1, &end) == -1 || *end != '\0')
			cause = xprintf("%s is not HOST:PORT (expected e.g. "
			    "127.0.0.1:8025 or [::1]:8025)", q);
		break;
	case CONF_SHAPE_KEY:
		for (p = s; *p != '\0'; p++) {
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '_'))
				break;
		}
		if (*p != '\0' || p == s)
			cause = xprintf("%s may hold only a-z, 0-9 and _", q);
		break;
	case CONF_SHAPE_SLUG:
		for (p = s; *p != '\0'; p++) {
			if (!((*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || *p == '-'))
				break;
		}
		if (*p != '\0' || p == s)
			cause = xprintf("%s may hold only a-z, 0-9 and -", q);
		break;
	case CONF_SHAPE_ZONE:
		if (period_zone_check(s, &cause) == 0)
			cause = NULL;
		break;
	case CONF_SHAPE_TOKEN:
		if (*s == '\0' || strlen(s) > 16 ||
		    conf_check_charset(s, "") == -1)
			cause = xprintf("%s may hold only letters and digits "
			    "(1 to 16 of them)", q);
		break;
	}
	free(q);
	return cause;
}

/* Check a string for row s: characters, emptiness, choices, shape. */
char *
conf_string_cause(const struct conf_setting *s, const char *v)
{
	const struct conf_choice	*ch;
	const unsigned char		*p;
	char				*q, *list, *cause;

	for (p = (const unsigned char *)v; *p != '\0'; p++) {
		if (s->shape == CONF_SHAPE_TEXT && (*p == '\n' || *p == '\t'))
			continue;
		if (*p < 0x20 || *p == 0x7f) {
			q = conf_quote(v);
			cause = xprintf("%s holds a control character", q);
			free(q);
			return cause;
		}
	}
	if (*v == '\0')
		return (s->flags & CONF_F_EMPTY) ? NULL :
		    xstrdup("must not be empty");
	if (s->choices != NULL) {
		for (ch = s->choices; ch->name != NULL; ch++) {
			if (strcasecmp(ch->name, v) == 0)
				return NULL;
		}
		q = conf_quote(v);
		list = conf_choices_text(s->choices);
		cause = xprintf("%s is not valid (expected %s)", q, list);
		free(list);
		free(q);
		return cause;
	}
	return conf_shape_cause(s->shape, v);
}

/* "HH:MM" (or "H:MM") to minutes after midnight. */
static int
conf_parse_time(const char *s, int *out)
{
	int	h, m;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	h = s[0] - '0';
	s++;
	if (*s >= '0' && *s <= '9')
		h = h * 10 + (*s++ - '0');
	if (*s++ != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[2] != '\0')
		return -1;
	m = (s[0] - '0') * 10 + (s[1] - '0');
	if (h > 23 || m > 59)
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int
conf_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t	i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* What a row wants, for "expected X, got Y"; the caller frees it. */
char *
conf_want(const struct conf_setting *s)
{
	char	*list, *want;

	switch (s->type) {
	case CONF_STRING:
		break;
	case CONF_INT:
		return xprintf("an integer from %lld to %lld", s->min, s->max);
	case CONF_BOOL:
		return xstrdup("true or false");
	case CONF_TIME:
		return xstrdup("a time in quotes, \"HH:MM\"");
	case CONF_ENUM:
		list = conf_choices_text(s->choices);
		want = xprintf("one of %s, in quotes", list);
		free(list);
		return want;
	}
	return xstrdup("a string in quotes");
}

/* Does a rule value have the type its conf_rule_keys[] row wants? */
int
conf_rule_type_ok(const struct conf_rule_key *rk, const struct conf_node *v)
{
	size_t	i;

	switch (rk->type) {
	case CONF_RULE_STRING:
		return v->type == CONF_NODE_STRING;
	case CONF_RULE_STRINGS:
		if (v->type == CONF_NODE_STRING)
			return 1;
		if (v->type != CONF_NODE_LIST || v->nchildren == 0)
			return 0;
		for (i = 0; i < v->nchildren; i++) {
			if (v->children[i].type != CONF_NODE_STRING)
				return 0;
		}
		return 1;
	case CONF_RULE_INT:
		return v->type == CONF_NODE_INT;
	case CONF_RULE_BOOL:
		return v->type == CONF_NODE_BOOL;
	}
	return 0;
}

const char *
conf_rule_type_want(enum conf_rule_type t)
{
	switch (t) {
	case CONF_RULE_STRING:
		return "a string in quotes";
	case CONF_RULE_STRINGS:
		return "a string or a list of strings ( \"...\", ... )";
	case CONF_RULE_INT:
		return "an integer";
	case CONF_RULE_BOOL:
		return "true or false";
	}
	return "?";
}

/* ---- Storing values ---- */

void *
conf_field(void *base, const struct conf_setting *s)
{
	return (char *)base + s->offset;
}

static void
conf_store_string(void *base, const struct conf_setting *s, const char *v)
{
	char	**p = conf_field(base, s);

	free(*p);
	*p = xstrdup(v);
}

/* A number for an INT or BOOL row; -1 with *cause when out of range. */
int
conf_set_number(void *base, const struct conf_setting *s, long long n,
    char **cause)
{
	int	*p = conf_field(base, s);

	if (s->type == CONF_INT && (n < s->min || n > s->max)) {
		*cause = xprintf("%lld is out of range (expected %lld to %lld)",
		    n, s->min, s->max);
		return -1;
	}
	*p = (int)n;
	return 0;
}

/*
 * A value given as text (a default, a -o, or a string in the file) for
 * row s.  Returns 0, or -1 with *cause set.
 */
int
conf_set_text(void *base, const struct conf_setting *s, const char *v,
    char **cause)
{
	const struct conf_choice	*ch;
	long long			 n;
	char				*end, *q;
	int				 i;

	switch (s->type) {
	case CONF_STRING:
		if ((*cause = conf_string_cause(s, v)) != NULL)
			return -1;
		if (s->choices != NULL) {
			/* Stored as spelled in the table. */
			for (ch = s->choices; ch->name != NULL; ch++) {
				if (strcasecmp(ch->name, v) == 0)
					v = ch->name;
			}
		}
		conf_store_string(base, s, v);
		return 0;
	case CONF_ENUM:
		for (ch = s->choices; ch->name != NULL; ch++) {
			if (strcasecmp(ch->name, v) == 0) {
				*(int *)conf_field(base, s) = ch->value;
				return 0;
			}
		}
		q = conf_quote(v);
		end = conf_choices_text(s->choices);
		*cause = xprintf("%s is not valid (expected %s)", q, end);
		free(end);
		free(q);
		return -1;
	case CONF_TIME:
		if (conf_parse_time(v, &i) == -1) {
			q = conf_quote(v);
			*cause = xprintf("%s is not a time (expected HH:MM, "
			    "00:00 to 23:59)", q);
			free(q);
			return -1;
		}
		*(int *)conf_field(base, s) = i;
		return 0;
	case CONF_BOOL:
		if (conf_parse_bool(v, &i) == -1) {
			q = conf_quote(v);
			*cause = xprintf("%s is not a boolean (expected true "
			    "or false)", q);
			free(q);
			return -1;
		}
		*(int *)conf_field(base, s) = i;
		return 0;
	case CONF_INT:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0' || end == v) {
			q = conf_quote(v);
			*cause = xprintf("%s is not an integer (expected %lld "
			    "to %lld)", q, s->min, s->max);
			free(q);
			return -1;
		}
		if (errno == ERANGE) {
			q = conf_quote(v);
			*cause = xprintf("%s is out of range (expected %lld "
			    "to %lld)", q, s->min, s->max);
			free(q);
			return -1;
		}
		return conf_set_number(base, s, n, cause);
	}
	abort();
}

const struct conf_setting *
conf_row(const struct conf_setting *table, const char *name, size_t *idx)
{
	size_t	i;

	for (i = 0; table[i].name != NULL; i++) {
		if (strcmp(table[i].name, name) == 0) {
			if (idx != NULL)
				*idx = i;
			return &table[i];
		}
	}
	return NULL;
}

/* Give every row of table its default (NULL defaults: "" or -1). */
void
conf_set_defaults(void *base, const struct conf_setting *table)
{
	const struct conf_setting	*s;
	char				*cause;

	for (s = table; s->name != NULL; s++) {
		if (s->def == NULL) {
			if (s->type != CONF_STRING)
				*(int *)conf_field(base, s) = -1;
			continue;
		}
		if (conf_set_text(base, s, s->def, &cause) == -1) {
			/* A bad row in conf-table.c: a broken invariant. */
			fprintf(stderr, "conf-table.c: %s: default: %s\n",
			    s->name, cause);
			abort();
		}
	}
}
