/*
 * match-regex.c - the "regex" operator: a POSIX extended regular
 * expression (regex.h, in the C library, so no new dependency; PCRE2's
 * extra syntax buys routing rules nothing), case-insensitive.
 *
 * Case: the text matched is route-text.c's folded text, and the pattern's
 * non-ASCII letters are folded the same way, while ASCII is left to
 * REG_ICASE -- so "É" in a pattern finds "é" in any locale, and escapes
 * such as \W are not disturbed.  In the C locale "." is one byte, not one
 * character: write "caf.+" rather than "caf.s" for "cafés".
 *
 * Owns: compiling and running patterns.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "xmalloc.h"

static int
match_regex_compile(const char *value, void **data, char **cause)
{
	regex_t		*re;
	char		*pat, err[256];
	size_t		 len, i, n;
	int		 rc;

	if (*value == '\0') {
		*cause = xstrdup("regex needs a pattern");
		return -1;
	}
	len = strlen(value);
	pat = xstrdup(value);
	for (i = 0; i < len; i += n) {
		n = 1;
		if ((unsigned char)pat[i] < 0x80)
			continue;
		while (i + n < len &&
		    ((unsigned char)pat[i + n] & 0xc0) == 0x80)
			n++;
		route_fold(value + i, n, pat + i);
	}
	re = xmalloc(sizeof *re);
	if ((rc = regcomp(re, pat, REG_EXTENDED | REG_ICASE)) != 0) {
		regerror(rc, re, err, sizeof err);
		*cause = xprintf("bad regex '%s': %s", value, err);
		free(re);
		free(pat);
		return -1;
	}
	free(pat);
	*data = re;
	return 0;
}

static int
match_regex_match(const void *data, const struct route_text *t, size_t *off,
    size_t *len, char **cause)
{
	regmatch_t	pm[1];
	char		err[256];
	int		rc;

	rc = regexec(data, t->fold, 1, pm, 0);
	if (rc == REG_NOMATCH)
		return 0;
	if (rc != 0) {
		regerror(rc, data, err, sizeof err);
		*cause = xprintf("regex: %s", err);
		return -1;
	}
	*off = (size_t)pm[0].rm_so;
	*len = (size_t)(pm[0].rm_eo - pm[0].rm_so);
	return 1;
}

static void
match_regex_free(void *data)
{
	if (data == NULL)
		return;
	regfree(data);
	free(data);
}

const struct match_ops match_regex_ops = {
	"regex", 1,
	match_regex_compile, match_regex_match, match_regex_free,
};
