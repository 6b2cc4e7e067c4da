/*
 * match-exists.c - the "exists" operator, which takes no value: the part
 * is there at all ("header List-Id exists", "attachment exists").  route.c
 * only offers a matcher the values a message has (every field of a
 * header, even an empty one; other parts only when not empty), so any
 * value it is shown is a match.
 *
 * Owns: nothing else.
 */
#include "route.h"

static int
match_exists_compile(const char *value, void **data, char **cause)
{
	*data = NULL;
	return 0;
}

static int
match_exists_match(const void *data, const struct route_text *t,
    size_t *off, size_t *len, char **cause)
{
	*off = 0;
	*len = t->len;
	return 1;
}

static void
match_exists_free(void *data)
{
}

const struct match_ops match_exists_ops = {
	"exists", 0,
	match_exists_compile, match_exists_match, match_exists_free,
};
