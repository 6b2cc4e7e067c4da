/*
 * match-contains.c - the "contains" operator: VALUE anywhere in the text,
 * case-insensitive (route-text.c's fold, so "Évaluation" contains "évalu").
 *
 * Owns: substring matching.  Does not own: which text is looked at
 * (route.c).
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "xmalloc.h"

struct match_contains {
	char	*fold;
	size_t	 len;
};

static int
match_contains_compile(const char *value, void **data, char **cause)
{
	struct match_contains	*mc;

	if (*value == '\0') {
		*cause = xstrdup("contains needs some text");
		return -1;
	}
	mc = xmalloc(sizeof *mc);
	mc->len = strlen(value);
	mc->fold = xmalloc(mc->len + 1);
	route_fold(value, mc->len, mc->fold);
	mc->fold[mc->len] = '\0';
	*data = mc;
	return 0;
}

static int
match_contains_match(const void *data, const struct route_text *t,
    size_t *off, size_t *len, char **cause)
{
	const struct match_contains	*mc = data;
	const char			*p;

	p = memmem(t->fold, t->len, mc->fold, mc->len);
	if (p == NULL)
		return 0;
	*off = (size_t)(p - t->fold);
	*len = mc->len;
	return 1;
}

static void
match_contains_free(void *data)
{
	struct match_contains	*mc = data;

	if (mc == NULL)
		return;
	free(mc->fold);
	free(mc);
}

const struct match_ops match_contains_ops = {
	"contains", 1,
	match_contains_compile, match_contains_match, match_contains_free,
};
