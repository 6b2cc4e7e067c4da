/*
 * suggest.c - "did you mean ...?" (see suggest.h).
 *
 * Owns: the edit distance and picking the nearest name.  Does not own:
 * the names (configuration settings, leads, merge fields, time zones come
 * from their callers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"
#include "xmalloc.h"

static int
suggest_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

size_t
suggest_distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j, best;
	size_t	d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
	int	ca, cb;

	if (la > SUGGEST_MAX || lb > SUGGEST_MAX)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			ca = suggest_lower((unsigned char)a[i - 1]);
			cb = suggest_lower((unsigned char)b[j - 1]);
			best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			/* Two neighbours swapped: one edit. */
			if (i > 1 && j > 1 && ca ==
			    suggest_lower((unsigned char)b[j - 2]) &&
			    suggest_lower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

void
suggest_init(struct suggest *sg, const char *word)
{
	sg->word = word;
	sg->best = NULL;
	sg->dist = SIZE_MAX;
}

void
suggest_try(struct suggest *sg, const char *cand)
{
	size_t	d, limit;

	limit = strlen(sg->word) <= 4 ? 1 : 2;
	d = suggest_distance(sg->word, cand);
	if (d <= limit && d < sg->dist) {
		sg->best = cand;
		sg->dist = d;
	}
}

char *
suggest_text(const struct suggest *sg)
{
	if (sg->best == NULL)
		return xstrdup("");
	return xprintf(" (did you mean %s?)", sg->best);
}
