/*
 * conf-int.h - what the configuration's own files share (conf.c,
 * conf-check.c, conf-dump.c): checking one value against its row of the
 * settings table, storing it, and saying what was wanted and what was
 * wrong.  Not for other files.  Nothing here speaks libconfig: conf.c
 * alone includes it.
 *
 * Strings returned here (causes, quotes, lists) are the caller's to free.
 */
#ifndef POSTROOM_CONF_INT_H
#define POSTROOM_CONF_INT_H

#include <stddef.h>

#include "conf.h"

/* A value quoted for an error message: escaped, and cut when long. */
char	*conf_quote(const char *);
/* "a, b or c" from a choices table. */
char	*conf_choices_text(const struct conf_choice *);
int	 conf_isalnum(int);		/* ASCII letter or digit */

/* local@domain.tld: 0, or -1. */
int	 conf_check_address(const char *);
/* NULL when s has the shape, else why not. */
char	*conf_shape_cause(enum conf_shape, const char *s);
/* NULL when v is fit for row s (characters, emptiness, choices, shape). */
char	*conf_string_cause(const struct conf_setting *s, const char *v);
/* What row s wants, for "expected X, got Y". */
char	*conf_want(const struct conf_setting *s);
/* Does a rule value have the type its conf_rule_keys[] row wants? */
int	 conf_rule_type_ok(const struct conf_rule_key *,
	     const struct conf_node *);
const char *conf_rule_type_want(enum conf_rule_type);

/* Where row s's value lives in base (a struct conf or conf_list). */
void	*conf_field(void *base, const struct conf_setting *s);
/* An INT or BOOL row's number: 0, or -1 with *cause when out of range. */
int	 conf_set_number(void *base, const struct conf_setting *s,
	     long long n, char **cause);
/* A value given as text for row s: 0, or -1 with *cause. */
int	 conf_set_text(void *base, const struct conf_setting *s,
	     const char *v, char **cause);
/* The row of table called name (its index in *idx), or NULL. */
const struct conf_setting *conf_row(const struct conf_setting *table,
	     const char *name, size_t *idx);
/* Every row of table its default (NULL defaults: "" or -1). */
void	 conf_set_defaults(void *base, const struct conf_setting *table);

#endif
