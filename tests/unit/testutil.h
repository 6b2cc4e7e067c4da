/*
 * testutil.h - what every cmocka unit test includes.
 *
 * cmocka wants its prerequisites first; tests also get the paths the runner
 * exports (POSTROOM_TOP, POSTROOM_SHARED) through these helpers, and the
 * set-up that tests with a configuration, a temporary directory and a
 * database per test share.
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

#include "conf.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

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

/* conf_load(), each of its errors printed as a "# " comment. */
static inline struct conf *
test_conf_load(const char *path, char *const *ov, size_t nov)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	size_t			 i;

	conf = conf_load(path, ov, nov, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "# %s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	return conf;
}

/*
 * The shipped configuration, its templates from the tree, its database
 * and key in dir: conf_load()ed as by test_conf_load().
 */
static inline struct conf *
test_conf_tree(const char *dir)
{
	struct conf	*conf;
	char		*path, *ov[3];
	size_t		 i;

	path = xprintf("%s/config/postroom.conf", test_top());
	ov[0] = xprintf("general.templates=%s/templates", test_top());
	ov[1] = xprintf("general.database=%s/unused.db", dir);
	ov[2] = xprintf("general.secret_file=%s/secret.key", dir);
	conf = test_conf_load(path, ov, 3);
	for (i = 0; i < 3; i++)
		free(ov[i]);
	free(path);
	return conf;
}

/* rm -rf dir; a failure is only reported. */
static inline void
test_remove_dir(const char *dir)
{
	char	*cmd;

	cmd = xprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
	free(cmd);
}

/*
 * The first column of the first row of sql as a number; the test fails
 * when there is none.
 */
#define test_int(s, sql)	test_int_at((s), (sql), __FILE__, __LINE__)
static inline int64_t
test_int_at(struct store *s, const char *sql, const char *file, int line)
{
	char	*v = NULL, *cause = NULL;
	int64_t	 n;

	if (store_query_text(s, sql, &v, &cause) != 1 || v == NULL) {
		fprintf(stderr, "# %s:%d: %s: %s\n", file, line, sql,
		    cause != NULL ? cause : "no row");
		_fail(file, line);
	}
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

/*
 * A test group on the shipped configuration: test_tree_dir (a new
 * temporary directory, removed at the end), test_tree_conf (loaded from
 * the tree, its database and key in that directory) and test_tree_ndb
 * (for test_store_new()).  Use test_tree_setup and test_tree_teardown
 * as the group's set-up and tear-down.
 */
static char		 test_tree_dir[] __attribute__((unused)) =
			    "/tmp/postroom-test.XXXXXX";
static struct conf	*test_tree_conf __attribute__((unused));
static int		 test_tree_ndb __attribute__((unused));

static inline int
test_tree_setup(void **state)
{
	(void)state;
	log_set_level(LOGL_WARN);
	if (mkdtemp(test_tree_dir) == NULL)
		return -1;
	test_tree_conf = test_conf_tree(test_tree_dir);
	return test_tree_conf != NULL ? 0 : -1;
}

static inline int
test_tree_teardown(void **state)
{
	(void)state;
	conf_free(test_tree_conf);
	test_remove_dir(test_tree_dir);
	return 0;
}


/*
 * A new database dir/tN.db, N from *n (counted up): the store, or NULL
 * with the reason printed as a "# " comment.
 */
static inline struct store *
test_store_new(const char *dir, int *n)
{
	struct store	*s;
	char		*path, *cause = NULL;

	path = xprintf("%s/t%d.db", dir, (*n)++);
	s = store_open(path, &cause);
	free(path);
	if (s == NULL) {
		fprintf(stderr, "# %s\n", cause);
		free(cause);
	}
	return s;
}

/* "got X, want Y" comparison of strings, with the case name. */
/* Two integers equal, or fail saying what they were. */
#define check_int(what, got, want) do {					\
	long long g_ = (got), w_ = (want);				\
	if (g_ != w_) {							\
		print_error("%s: got %lld, want %lld\n", (what), g_, w_); \
		fail();							\
	}								\
} while (0)

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
