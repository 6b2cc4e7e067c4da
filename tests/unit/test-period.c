/*
 * test-period.c - digest periods (period.c): wall clock to instants across
 * the changes of clock, which period is due when, its key and its label.
 *
 * Expected instants were worked out independently with Python's zoneinfo
 * (datetime(..., tzinfo=ZoneInfo("Europe/London")).timestamp()).
 */
#include "testutil.h"

#include <time.h>

#include "period.h"

static int
setup_london(void **state)
{
	char	*cause = NULL;

	(void)state;
	if (period_zone("Europe/London", &cause) == -1) {
		fprintf(stderr, "# %s\n", cause);
		free(cause);
		return -1;
	}
	return 0;
}

static time_t
local_ok(const char *s)
{
	time_t	 t;
	char	*cause = NULL;

	if (period_parse(s, &t, &cause) == -1) {
		print_error("period_parse(\"%s\"): got \"%s\", want a time\n",
		    s, cause);
		free(cause);
		fail();
	}
	return t;
}

/* --- wall clock to instant ------------------------------------------------ */

static const struct {
	const char	*what;
	int		 y, m, d, minute;
	time_t		 want;
} local_cases[] = {
	{ "winter 07:00", 2026, 11, 22, 7 * 60, 1795330800 },
	{ "summer 07:00 (BST)", 2026, 7, 1, 7 * 60, 1782885600 },
	{ "spring gap 01:30 is 02:00 BST", 2026, 3, 29, 90, 1774746000 },
	{ "autumn 01:30 happens twice: the first", 2026, 10, 25, 90,
	  1792888200 },
	{ "day after autumn change", 2026, 10, 25, 7 * 60, 1792911600 },
	{ "day of spring change", 2026, 3, 29, 7 * 60, 1774764000 },
	{ "no 30 February", 2026, 2, 30, 0, (time_t)-1 },
	{ "no 24:00", 2026, 2, 1, 24 * 60, (time_t)-1 },
	{ "leap day", 2028, 2, 29, 0, 1835395200 },
};

static void
test_local(void **state)
{
	size_t	i;
	time_t	got;

	(void)state;
	for (i = 0; i < sizeof local_cases / sizeof local_cases[0]; i++) {
		got = period_local(local_cases[i].y, local_cases[i].m,
		    local_cases[i].d, local_cases[i].minute);
		if (got != local_cases[i].want) {
			print_error("%s: got %lld, want %lld\n",
			    local_cases[i].what, (long long)got,
			    (long long)local_cases[i].want);
			fail();
		}
	}
}

static void
test_local_new_york(void **state)
{
	char	*cause = NULL;
	time_t	 got;

	(void)state;
	assert_int_equal(period_zone("America/New_York", &cause), 0);
	/* 02:30 on 8 March 2026 does not happen: 03:00 EDT, 07:00 UTC. */
	got = period_local(2026, 3, 8, 150);
	assert_int_equal(period_zone("Europe/London", &cause), 0);
	if (got != 1772953200) {
		print_error("New York gap: got %lld, want 1772953200\n",
		    (long long)got);
		fail();
	}
}

/* --- which period is due ---------------------------------------------- */

static const struct {
	const char		*what;
	enum period_every	 every;
	int			 weekday;
	int			 minute;
	const char		*now;
	const char		*key;
	const char		*label;
	time_t			 start;		/* 0: not checked */
	time_t			 end;
} due_cases[] = {
	{ "daily, a minute early", PERIOD_DAILY, 0, 420, "2026-11-22 06:59",
	  "2026-11-20", "20 November 2026", 1795158000, 1795244400 },
	{ "daily, on the minute", PERIOD_DAILY, 0, 420, "2026-11-22 07:00",
	  "2026-11-21", "21 November 2026", 1795244400, 1795330800 },
	{ "daily over the autumn change: 25 hours", PERIOD_DAILY, 0, 420,
	  "2026-10-25 07:00", "2026-10-24", "24 October 2026", 1792821600,
	  1792911600 },
	{ "daily over the spring change: 23 hours", PERIOD_DAILY, 0, 420,
	  "2026-03-29 07:00", "2026-03-28", "28 March 2026", 1774681200,
	  1774764000 },
	{ "daily, spring day, 06:59 BST", PERIOD_DAILY, 0, 420,
	  "2026-03-29 06:59", "2026-03-27", "27 March 2026", 0, 1774681200 },
	{ "weekly monday, on the minute", PERIOD_WEEKLY, 1, 420,
	  "2026-11-23 07:00", "2026-W47", "week of 16 November 2026",
	  1794812400, 1795417200 },
	{ "weekly monday, a minute early", PERIOD_WEEKLY, 1, 420,
	  "2026-11-23 06:59", "2026-W46", "week of 9 November 2026",
	  1794207600, 1794812400 },
	{ "weekly monday, the sunday after", PERIOD_WEEKLY, 1, 420,
	  "2026-11-29 23:59", "2026-W47", "week of 16 November 2026",
	  1794812400, 1795417200 },
	{ "weekly sunday over new year: ISO week 53", PERIOD_WEEKLY, 0, 420,
	  "2027-01-10 07:00", "2026-W53", "week of 3 January 2027", 0, 0 },
	{ "weekly sunday, first ISO week of 2027", PERIOD_WEEKLY, 0, 420,
	  "2027-01-17 07:00", "2027-W01", "week of 10 January 2027", 0, 0 },
	{ "weekly thursday", PERIOD_WEEKLY, 4, 9 * 60, "2026-11-26 09:00",
	  "2026-W47", "week of 19 November 2026", 0, 0 },
	{ "monthly, on the minute", PERIOD_MONTHLY, 0, 420,
	  "2026-12-01 07:00", "2026-11", "November 2026", 1793516400,
	  1796108400 },
	{ "monthly, a minute early", PERIOD_MONTHLY, 0, 420,
	  "2026-12-01 06:59", "2026-10", "October 2026", 1790834400,
	  1793516400 },
	{ "monthly over new year", PERIOD_MONTHLY, 0, 420,
	  "2027-01-01 07:00", "2026-12", "December 2026", 1796108400, 0 },
	{ "monthly, late in the month", PERIOD_MONTHLY, 0, 420,
	  "2026-11-30 23:00", "2026-10", "October 2026", 0, 1793516400 },
};

static void
test_due(void **state)
{
	struct period_rule	 r;
	struct period		 p;
	time_t			 now;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof due_cases / sizeof due_cases[0]; i++) {
		memset(&r, 0, sizeof r);
		r.every = due_cases[i].every;
		r.weekday = due_cases[i].weekday;
		r.minute = due_cases[i].minute;
		now = local_ok(due_cases[i].now);
		if (period_due(&r, now, &p) != 0) {
			print_error("%s: got failure, want a period\n",
			    due_cases[i].what);
			fail();
		}
		assert_str_eq_msg(due_cases[i].what, p.key, due_cases[i].key);
		assert_str_eq_msg(due_cases[i].what, p.label,
		    due_cases[i].label);
		if ((due_cases[i].start != 0 && p.start != due_cases[i].start) ||
		    (due_cases[i].end != 0 && p.end != due_cases[i].end)) {
			print_error("%s: got [%lld, %lld), want [%lld, %lld)\n",
			    due_cases[i].what, (long long)p.start,
			    (long long)p.end, (long long)due_cases[i].start,
			    (long long)due_cases[i].end);
			fail();
		}
	}
}

/*
 * Walk two years hour by hour (crossing four changes of clock and two new
 * years) for each kind of rule: the period due always ended at or before
 * now, the next one has not, they meet, they start at the rule's wall
 * clock, and the key changes exactly when the period does.
 */
static void
test_walk(void **state)
{
	static const struct period_rule rules[] = {
		{ PERIOD_DAILY, 0, 420 },
		{ PERIOD_DAILY, 0, 90 },	/* in the spring gap */
		{ PERIOD_WEEKLY, 1, 420 },
		{ PERIOD_WEEKLY, 0, 0 },
		{ PERIOD_MONTHLY, 0, 420 },
	};
	struct period	 p, next;
	struct tm	 tm;
	time_t		 now, from, to, last_end;
	char		 last_key[16];
	size_t		 i;
	int		 changes;

	(void)state;
	from = local_ok("2026-01-01 00:00");
	to = local_ok("2027-12-31 23:00");
	for (i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		last_key[0] = '\0';
		last_end = 0;
		changes = 0;
		for (now = from; now < to; now += 3600) {
			assert_int_equal(period_due(&rules[i], now, &p), 0);
			assert_int_equal(period_next(&rules[i], &p, &next), 0);
			if (!(p.start < p.end && p.end <= now &&
			    now < next.end && next.start == p.end)) {
				print_error("rule %zu at %lld: got [%lld, %lld)"
				    " then [%lld, %lld), want the first to end "
				    "at or before now and the next after\n", i,
				    (long long)now, (long long)p.start,
				    (long long)p.end, (long long)next.start,
				    (long long)next.end);
				fail();
			}
			localtime_r(&p.end, &tm);
			if (rules[i].minute != 90 &&
			    tm.tm_hour * 60 + tm.tm_min != rules[i].minute) {
				print_error("rule %zu: period ends at %02d:%02d"
				    " local, want %d minutes\n", i, tm.tm_hour,
				    tm.tm_min, rules[i].minute);
				fail();
			}
			if (strcmp(last_key, p.key) != 0) {
				if (last_end != 0 && p.start != last_end) {
					print_error("rule %zu: key %s starts at"
					    " %lld, want %lld (where %s "
					    "ended)\n", i, p.key,
					    (long long)p.start,
					    (long long)last_end, last_key);
					fail();
				}
				changes++;
				snprintf(last_key, sizeof last_key, "%s",
				    p.key);
				last_end = p.end;
			} else if (p.end != last_end) {
				print_error("rule %zu: key %s names two "
				    "periods\n", i, p.key);
				fail();
			}
		}
		/* 730 days (and the one due at the start), 25 months. */
		if (rules[i].every == PERIOD_DAILY && changes != 731)
			fail_msg("rule %zu: got %d periods, want 731", i,
			    changes);
		if (rules[i].every == PERIOD_MONTHLY && changes != 25)
			fail_msg("rule %zu: got %d periods, want 25", i,
			    changes);
	}
}

static void
test_bad_rule(void **state)
{
	struct period_rule	r = { PERIOD_WEEKLY, 7, 420 };
	struct period		p;

	(void)state;
	assert_int_equal(period_due(&r, 1795330800, &p), -1);
	r.weekday = 1;
	r.minute = 1440;
	assert_int_equal(period_due(&r, 1795330800, &p), -1);
}

/* --- parsing and zones ------------------------------------------------------ */

static const struct {
	const char	*in;
	int		 ok;
} parse_cases[] = {
	{ "2026-11-23 07:00", 1 },
	{ "2026-11-23T07:00", 1 },
	{ "2028-02-29 00:00", 1 },
	{ "2026-02-29 00:00", 0 },
	{ "2026-11-23", 0 },
	{ "2026-11-23 24:00", 0 },
	{ "2026-11-23 07:60", 0 },
	{ "2026-13-01 07:00", 0 },
	{ "2026-11-23 7:00", 0 },
	{ "2026-11-23 07:00:00", 0 },
	{ "", 0 },
	{ "next monday", 0 },
};

static void
test_parse(void **state)
{
	time_t	 t;
	size_t	 i;
	char	*cause;
	int	 got;

	(void)state;
	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		cause = NULL;
		got = period_parse(parse_cases[i].in, &t, &cause) == 0;
		if (got != parse_cases[i].ok) {
			print_error("\"%s\": got %s, want %s\n",
			    parse_cases[i].in, got ? "accepted" : cause,
			    parse_cases[i].ok ? "accepted" : "refused");
			fail();
		}
		free(cause);
	}
}

/* A day's bounds: local midnights, the 25-hour day of October included. */
static void
test_day(void **state)
{
	static const char *const bad[] = {
		"2026-02-30", "31/03/2026", "2026-3-5", "2026-03-05 ", "",
		"2026-13-01", "20260305",
	};
	time_t	t, e;
	size_t	i;

	(void)state;
	assert_int_equal(period_day("2026-10-25", 0, &t), 0);
	assert_true(t == local_ok("2026-10-25 00:00"));
	assert_int_equal(period_day("2026-10-25", 1, &e), 0);
	assert_true(e == local_ok("2026-10-26 00:00"));
	assert_true(e - t == 25 * 3600);
	assert_int_equal(period_day("2028-02-29", 0, &t), 0);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (period_day(bad[i], 0, &t) != -1) {
			print_error("\"%s\": accepted, want refused\n", bad[i]);
			fail();
		}
	}
}

static void
test_zone(void **state)
{
	static const struct {
		const char	*zone;
		int		 ok;
		const char	*hint;	/* in the refusal */
	} cases[] = {
		{ "Europe/London", 1, NULL },
		{ "UTC", 1, NULL },
		{ "GMT0BST,M3.5.0/1,M10.5.0", 1, NULL },
		{ "Mars/Olympus_Mons", 0, "database" },
		{ "Europe/Londn", 0, "(did you mean Europe/London?)" },
		{ "europe/london", 0, "(did you mean Europe/London?)" },
		{ "Amerca/New_York", 0, "(did you mean America/New_York?)" },
		{ "../../etc/passwd", 0, "expected a name" },
		{ "/etc/localtime", 0, "expected a name" },
		{ "", 0, "expected a name" },
	};
	size_t	 i;
	char	*cause, *cause2;
	int	 got, got2;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cause = cause2 = NULL;
		got = period_zone(cases[i].zone, &cause) == 0;
		got2 = period_zone_check(cases[i].zone, &cause2) == 0;
		if (got != cases[i].ok || got2 != cases[i].ok) {
			print_error("zone \"%s\": got %s, want %s\n",
			    cases[i].zone, got ? "accepted" : cause,
			    cases[i].ok ? "accepted" : "refused");
			fail();
		}
		if (!cases[i].ok && (strstr(cause, cases[i].hint) == NULL ||
		    strcmp(cause, cause2) != 0)) {
			print_error("zone \"%s\": got \"%s\" and \"%s\", "
			    "want both to hold \"%s\"\n", cases[i].zone,
			    cause, cause2, cases[i].hint);
			fail();
		}
		free(cause);
		free(cause2);
	}
	assert_int_equal(period_zone("Europe/London", &cause), 0);
}

static void
test_format(void **state)
{
	char	buf[64];

	(void)state;
	period_date(1795330800, buf, sizeof buf);
	assert_str_eq_msg("period_date", buf, "22 November 2026");
	period_datetime(1782885600, buf, sizeof buf);
	assert_str_eq_msg("period_datetime (BST)", buf, "Wed 1 Jul 2026 07:00");
	assert_str_eq_msg("every", period_every_name(PERIOD_WEEKLY), "weekly");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_local_new_york),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_bad_rule),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_day),
		cmocka_unit_test(test_zone),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, setup_london, NULL);
}
