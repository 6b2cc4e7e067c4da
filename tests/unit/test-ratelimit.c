/*
 * test-ratelimit.c - the token buckets of ratelimit.c, on a fake clock.
 *
 * The promise under test: no window of `period`, wherever it starts, holds
 * more than `limit` sends - with a greedy sender, with bursts, and across
 * restarts that save the bucket to the store and load it back.  Also that
 * the bucket is not needlessly slow.
 */
#include "testutil.h"

#include <inttypes.h>
#include <unistd.h>

#include "ratelimit.h"
#include "store.h"

#define S	RATELIMIT_USEC	/* one second in microseconds */

/* Sends recorded by a simulation, in time order. */
struct sends {
	int64_t	*t;
	size_t	 n;
	size_t	 cap;
};

static void
sends_add(struct sends *s, int64_t t)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 1024 : s->cap * 2;
		s->t = realloc(s->t, s->cap * sizeof *s->t);
		assert_non_null(s->t);
	}
	s->t[s->n++] = t;
}

/*
 * The most sends in any half-open window [t, t + period).  The busiest
 * window starts at a send, so trying every send's time is enough.
 */
static int64_t
sends_max_window(const struct sends *s, int64_t period, int64_t *at)
{
	size_t	i, j = 0;
	int64_t	best = 0;

	for (i = 0; i < s->n; i++) {
		if (j < i)
			j = i;
		while (j < s->n && s->t[j] < s->t[i] + period)
			j++;
		if ((int64_t)(j - i) > best) {
			best = (int64_t)(j - i);
			*at = s->t[i];
		}
	}
	return best;
}

/* A greedy sender: takes every token the moment the clock shows it. */
static void
greedy(struct ratelimit *rl, int64_t from, int64_t to, int64_t step,
    struct sends *out)
{
	int64_t	t, n, k;

	for (t = from; t < to; t += step) {
		n = ratelimit_available(rl, t);
		if (n > 100000)
			n = 100000;
		for (k = 0; k < n; k++)
			sends_add(out, t);
		ratelimit_take(rl, t, n);
	}
}

static void
test_window_promise(void **state)
{
	static const struct {
		const char	*name;
		int64_t		 limit, period_s, burst, step;
	} cases[] = {
		{ "10/s even",		10, 1, 1, 1000 },
		{ "10/s burst 5",	10, 1, 5, 1000 },
		{ "10/s burst 10",	10, 1, 10, 1000 },
		{ "7/s odd interval",	7, 1, 1, 333 },
		{ "1/s",		1, 1, 1, 10000 },
		{ "1000/s",		1000, 1, 1, 100 },
		{ "1000/h default",	1000, 3600, 100, S / 10 },
		{ "3/h",		3, 3600, 1, S },
		{ "100000/h",		100000, 3600, 10000, S / 100 },
	};
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ratelimit	rl;
		struct sends		s = { NULL, 0, 0 };
		int64_t			period = cases[i].period_s * S, at = 0;
		int64_t			max, t0 = 1700000000 * S + 123457;
		int64_t			want_min, step;

		ratelimit_init(&rl, "test", cases[i].limit, cases[i].period_s,
		    cases[i].burst, t0);
		greedy(&rl, t0, t0 + 5 * period, cases[i].step, &s);
		max = sends_max_window(&s, period, &at);
		if (max > cases[i].limit) {
			print_error("%s: got %" PRId64 " sends in the window "
			    "from %" PRId64 ", want at most %" PRId64 "\n",
			    cases[i].name, max, at - t0, cases[i].limit);
			fail();
		}
		/*
		 * Not needlessly slow: the first burst, then a token every
		 * interval (period / (limit - burst + 1), rounded up, with
		 * the margin) as the clock's steps see it, less one.
		 */
		step = (rl.interval + cases[i].step - 1) / cases[i].step *
		    cases[i].step;
		want_min = cases[i].burst + 5 * period / step - 1;
		if ((int64_t)s.n < want_min) {
			print_error("%s: got %zu sends in 5 periods, want at "
			    "least %" PRId64 "\n", cases[i].name, s.n,
			    want_min);
			fail();
		}
		free(s.t);
	}
}

static void
test_even_pace(void **state)
{
	struct ratelimit	rl;
	int64_t			t0 = 1000 * S, t, wait;
	int			i;

	(void)state;
	/* 10 a second, burst 1: every 100 ms, plus the 2% margin. */
	ratelimit_init(&rl, "test", 10, 1, 1, t0);
	t = t0;
	for (i = 0; i < 30; i++) {
		wait = ratelimit_wait(&rl, t);
		if (i == 0 && wait != 0) {
			print_error("first send: got wait %" PRId64
			    ", want 0\n", wait);
			fail();
		}
		t += wait;
		if (t != t0 + i * 102000) {
			print_error("send %d: got time +%" PRId64 " us, want "
			    "+%" PRId64 "\n", i, t - t0, (int64_t)(i * 102000));
			fail();
		}
		assert_int_equal(ratelimit_available(&rl, t), 1);
		ratelimit_take(&rl, t, 1);
		assert_int_equal(ratelimit_available(&rl, t), 0);
	}
}

static void
test_unlimited_and_clock(void **state)
{
	struct ratelimit	rl;
	int64_t			t0 = 1000 * S;

	(void)state;
	ratelimit_init(&rl, "test", 0, 1, 1, t0);
	assert_true(ratelimit_available(&rl, t0) == INT64_MAX);
	assert_int_equal(ratelimit_wait(&rl, t0), 0);
	ratelimit_take(&rl, t0, 1000000);
	assert_true(ratelimit_available(&rl, t0) == INT64_MAX);

	/* The clock going back refills nothing. */
	ratelimit_init(&rl, "test", 5, 1, 5, t0);
	ratelimit_take(&rl, t0, 5);
	assert_int_equal(ratelimit_available(&rl, t0 - 10 * S), 0);
	assert_int_equal(ratelimit_available(&rl, t0 - 1), 0);
	/* 5 a second with burst 5: a token every second (and 2%). */
	assert_int_equal(ratelimit_available(&rl, t0 + S * 102 / 100 - 1), 0);
	assert_int_equal(ratelimit_available(&rl, t0 + S * 102 / 100), 1);
	/* A long pause refills a full bucket, not more. */
	assert_int_equal(ratelimit_available(&rl, t0 + 3600 * S), 5);
}

static void
test_default_burst(void **state)
{
	static const struct {
		int64_t	limit, period, want;
	} cases[] = {
		{ 20, 1, 1 }, { 1000, 1, 1 }, { 0, 3600, 1 }, { 5, 3600, 1 },
		{ 1000, 3600, 100 }, { 99, 3600, 9 },
	};
	size_t	i;
	int64_t	got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = ratelimit_default_burst(cases[i].limit, cases[i].period);
		if (got != cases[i].want) {
			print_error("burst for %" PRId64 " per %" PRId64
			    "s: got %" PRId64 ", want %" PRId64 "\n",
			    cases[i].limit,
			    cases[i].period, got, cases[i].want);
			fail();
		}
	}
}

struct db {
	char		 dir[64];
	char		 path[96];
	struct store	*s;
};

static void
db_open(struct db *db)
{
	char	*cause = NULL;

	snprintf(db->dir, sizeof db->dir, "/tmp/test-ratelimit.XXXXXX");
	assert_non_null(mkdtemp(db->dir));
	snprintf(db->path, sizeof db->path, "%s/p.db", db->dir);
	db->s = store_open(db->path, &cause);
	if (db->s == NULL) {
		print_error("store_open: %s\n", cause);
		fail();
	}
}

static void
db_close(struct db *db)
{
	char	*p;

	store_close(db->s);
	p = NULL;
	if (asprintf(&p, "rm -rf '%s'", db->dir) > 0)
		assert_int_equal(system(p), 0);
	free(p);
}

/*
 * A greedy sender that restarts (save, forget, load) at odd moments: the
 * window promise holds across the restarts.
 */
static void
test_persisted(void **state)
{
	static const struct {
		const char	*name;
		int64_t		 limit, period_s, burst, step, restart;
	} cases[] = {
		{ "10/s even",		10, 1, 1, 7000, 370000 },
		{ "10/s even, rarely",	10, 1, 1, 7000, 2370000 },
		{ "10/s burst 10",	10, 1, 10, 3000, 1100000 },
		{ "50/s at odd times",	50, 1, 1, 1300, 91000 },
		{ "1000/h burst 100",	1000, 3600, 100, S / 3, 1234 * S },
	};
	size_t		i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct db		db;
		struct ratelimit	rl;
		struct sends		s = { NULL, 0, 0 };
		int64_t			period = cases[i].period_s * S;
		int64_t			t0 = 1700000000 * S + 777, t, at = 0;
		int64_t			end = t0 + 6 * period, max, before;
		int64_t			nrestarts = 0, want;
		char			*cause = NULL;

		db_open(&db);
		ratelimit_init(&rl, "k", cases[i].limit, cases[i].period_s,
		    cases[i].burst, t0);
		/* Nothing saved yet: load leaves a full bucket. */
		assert_int_equal(ratelimit_load(&rl, db.s, t0, &cause), 0);
		assert_int_equal(ratelimit_available(&rl, t0),
		    cases[i].burst);
		for (t = t0; t < end; t += cases[i].restart) {
			greedy(&rl, t, t + cases[i].restart, cases[i].step,
			    &s);
			/* Save as a claim would, then "restart". */
			if (ratelimit_save(&rl, db.s, t + cases[i].restart -
			    cases[i].step, &cause) != 0) {
				print_error("save: %s\n", cause);
				fail();
			}
			before = ratelimit_available(&rl,
			    t + cases[i].restart);
			ratelimit_init(&rl, "k", cases[i].limit,
			    cases[i].period_s, cases[i].burst,
			    t + cases[i].restart);
			if (ratelimit_load(&rl, db.s, t + cases[i].restart,
			    &cause) != 0) {
				print_error("load: %s\n", cause);
				fail();
			}
			nrestarts++;
			/* A restart never gains tokens. */
			if (ratelimit_available(&rl, t + cases[i].restart) >
			    before) {
				print_error("%s: after a restart got %" PRId64
				    " tokens, had %" PRId64 "\n", cases[i].name,
				    ratelimit_available(&rl,
				    t + cases[i].restart), before);
				fail();
			}
		}
		max = sends_max_window(&s, period, &at);
		if (max > cases[i].limit) {
			print_error("%s: got %" PRId64 " sends in the window "
			    "from +%" PRId64 " us, want at most %" PRId64 "\n",
			    cases[i].name, max, at - t0, cases[i].limit);
			fail();
		}
		/*
		 * A restart costs at most the rest of the second the bucket
		 * was saved in (the load is pessimistic), and a token.
		 */
		want = (6 * period - nrestarts * S) / rl.interval - nrestarts;
		if ((int64_t)s.n < want) {
			print_error("%s: got %zu sends in 6 periods with %"
			    PRId64 " restarts, want at least %" PRId64 "\n",
			    cases[i].name, s.n, nrestarts, want);
			fail();
		}
		free(s.t);
		db_close(&db);
	}
}

/* The counts in the current window survive a restart too. */
static void
test_persisted_count(void **state)
{
	struct db		db;
	struct ratelimit	rl;
	struct store_outbox_rate r;
	int64_t			t0 = 7200 * 400000LL * S + 5 * S;
	char			*cause = NULL;

	(void)state;
	db_open(&db);
	ratelimit_init(&rl, RATELIMIT_KEY_HOUR, 1000, 3600, 100, t0);
	ratelimit_take(&rl, t0, 40);
	assert_int_equal(ratelimit_save(&rl, db.s, t0, &cause), 0);
	assert_int_equal(store_outbox_rate_get(db.s, RATELIMIT_KEY_HOUR, &r,
	    &cause), 1);
	assert_int_equal(r.count, 40);
	assert_int_equal(r.window_start, t0 / S - (t0 / S) % 3600);
	assert_int_equal(r.updated_at, t0 / S);
	if (r.tokens < 59.999 || r.tokens > 60.0) {
		print_error("tokens: got %f, want 60\n", r.tokens);
		fail();
	}
	ratelimit_init(&rl, RATELIMIT_KEY_HOUR, 1000, 3600, 100, t0);
	assert_int_equal(ratelimit_load(&rl, db.s, t0, &cause), 0);
	assert_int_equal(rl.count, 40);
	/* Pessimistic: no refill before the end of the saved second. */
	assert_int_equal(ratelimit_available(&rl, t0), 60);
	db_close(&db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_promise),
		cmocka_unit_test(test_even_pace),
		cmocka_unit_test(test_unlimited_and_clock),
		cmocka_unit_test(test_default_burst),
		cmocka_unit_test(test_persisted),
		cmocka_unit_test(test_persisted_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
