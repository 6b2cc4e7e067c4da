/*
 * testutil.h - what every cmocka unit test includes.
 *
 * cmocka wants its prerequisites first; tests also get the paths the runner
 * exports (POSTROOM_TOP, POSTROOM_SHARED) through these helpers.
 */
#ifndef POSTROOM_TESTUTIL_H
#define POSTROOM_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The repository's top directory (tests run from it). */
static inline const char *
test_top(void)
{
	const char	*s = getenv("POSTROOM_TOP");

	return s != NULL ? s : ".";
}

/* ../shared, or NULL when it is not there (the test then skips, saying so). */
static inline const char *
test_shared(void)
{
	const char	*s = getenv("POSTROOM_SHARED");
	static char	 path[4096];

	if (s == NULL) {
		snprintf(path, sizeof path, "%s/../shared", test_top());
		s = path;
	}
	FILE *f;
	char probe[4200];
	snprintf(probe, sizeof probe, "%s/DESIGN.md", s);
	if ((f = fopen(probe, "r")) == NULL)
		return NULL;
	fclose(f);
	return s;
}

/* "got X, want Y" comparison of strings, with the case name. */
#define assert_str_eq_msg(what, got, want) do {				\
	const char *g_ = (got), *w_ = (want);				\
	if ((g_ == NULL) != (w_ == NULL) ||				\
	    (g_ != NULL && strcmp(g_, w_) != 0)) {			\
		print_error("%s:\n  got  \"%s\"\n  want \"%s\"\n",	\
		    (what), g_ ? g_ : "(null)", w_ ? w_ : "(null)");	\
		fail();							\
	}								\
} while (0)

#endif
