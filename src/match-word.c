/*
 * match-word.c - the "word" (or "phrase") operator: whole words in
 * sequence, case-insensitive, so "analyst network" finds "the Analyst
 * Network's huddles" but "net" does not find "network".  A trailing *
 * matches any ending ("evaluat*": evaluation, evaluate); "&" and "and"
 * are the same word.
 *
 * Owns: nothing but gluing route-text.c's phrases into a matcher.  Does
 * not own: what a word is (route-text.c's text model).
 */
#include <stdlib.h>

#include "route.h"
#include "xmalloc.h"

static int
match_word_compile(const char *value, void **data, char **cause)
{
	struct route_phrase	*ph;

	ph = xmalloc(sizeof *ph);
	if (route_phrase_init(ph, value, cause) == -1) {
		free(ph);
		return -1;
	}
	*data = ph;
	return 0;
}

static int
match_word_match(const void *data, const struct route_text *t, size_t *off,
    size_t *len, char **cause)
{
	size_t	at;

	return route_phrase_find(data, t, 0, &at, off, len);
}

static void
match_word_free(void *data)
{
	if (data == NULL)
		return;
	route_phrase_free(data);
	free(data);
}

const struct match_ops match_word_ops = {
	"word", 1,
	match_word_compile, match_word_match, match_word_free,
};
