/*
 * suggest.h - "did you mean ...?": the nearest of some names to a word
 * somebody typed.
 *
 * The distance is the optimal-string-alignment edit distance, ignoring
 * ASCII case, where swapping two neighbours counts as one edit ("smpt",
 * "nmae"); a candidate is offered only when it is within 1 edit of a word
 * of up to 4 characters, 2 of a longer one.  Words are compared byte by
 * byte: names in the configuration, merge fields and time zones are
 * ASCII.
 *
 * Owns: the distance and the choice of the nearest.  Does not own: where
 * the candidates come from or how the suggestion is worded (the callers).
 */
#ifndef POSTROOM_SUGGEST_H
#define POSTROOM_SUGGEST_H

#include <stddef.h>

#define SUGGEST_MAX	64	/* longer words are never near anything */

/* The nearest candidate seen so far; best points at the caller's string. */
struct suggest {
	const char	*word;
	const char	*best;
	size_t		 dist;
};

/* Edit distance between a and b; SIZE_MAX when either is too long. */
size_t	 suggest_distance(const char *a, const char *b);

void	 suggest_init(struct suggest *, const char *word);
/* Consider cand (kept by pointer: it must outlive the struct's use). */
void	 suggest_try(struct suggest *, const char *cand);
/* " (did you mean X?)" or "", to append to a message; the caller frees. */
char	*suggest_text(const struct suggest *);

#endif
