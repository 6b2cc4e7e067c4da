/*
 * match-is.c - the "is" operator: the whole value, case-insensitive, with
 * white space around it ignored ("plus is evaluation", "to is
 * 'enquiries+training@example.org'").
 *
 * Owns: whole-value comparison.  Does not own: which values a part has
 * (route.c).
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "xmalloc.h"

struct match_is {
	char	*fold;
	size_t	 len;
};

static int
match_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
match_is_compile(const char *value, void **data, char **cause)
{
	struct match_is	*mi;
	size_t		 len;

	while (match_is_space(*value))
		value++;
	len = strlen(value);
	while (len > 0 && match_is_space(value[len - 1]))
		len--;
	mi = xmalloc(sizeof *mi);
	mi->len = len;
	mi->fold = xmalloc(len + 1);
	route_fold(value, len, mi->fold);
	mi->fold[len] = '\0';
	*data = mi;
	return 0;
}

static int
match_is_match(const void *data, const struct route_text *t, size_t *off,
    size_t *len, char **cause)
{
	const struct match_is	*mi = data;
	size_t			 a = 0, b = t->len;

	while (a < b && match_is_space(t->fold[a]))
		a++;
	while (b > a && match_is_space(t->fold[b - 1]))
		b--;
	if (b - a != mi->len || memcmp(t->fold + a, mi->fold, mi->len) != 0)
		return 0;
	*off = a;
	*len = b - a;
	return 1;
}

static void
match_is_free(void *data)
{
	struct match_is	*mi = data;

	if (mi == NULL)
		return;
	free(mi->fold);
	free(mi);
}

const struct match_ops match_is_ops = {
	"is", 1,
	match_is_compile, match_is_match, match_is_free,
};
