/*
 * period.c - digest periods: calendar arithmetic in the local time zone.
 *
 * Owns: turning a period rule (daily, weekly on a day, monthly, at HH:MM)
 * and an instant into the period due, by local wall clock, honouring
 * daylight saving; period keys and labels; setting and checking the time
 * zone.  Does not own: what a digest holds (digest.c) or the record of
 * what was sent (store-digest.c).
 *
 * Dates are counted as days since 1970-01-01 (proleptic Gregorian, the
 * algorithms of Howard Hinnant's "chrono-compatible low-level date
 * algorithms"), so that stepping a day, a week or a month is integer
 * arithmetic and never goes through mktime()'s normalisation; only the
 * last step, wall clock to instant, asks the C library about the zone.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"
#include "suggest.h"
#include "xmalloc.h"

#define PERIOD_DAY	86400

static const char *const period_months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};
static const char *const period_wdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};

const char *
period_every_name(enum period_every every)
{
	switch (every) {
	case PERIOD_DAILY:
		return "daily";
	case PERIOD_WEEKLY:
		return "weekly";
	case PERIOD_MONTHLY:
		return "monthly";
	}
	return "?";
}

/* --- the zone ------------------------------------------------------------- */

/* The zoneinfo database's directory. */
static const char *
period_zone_dir(void)
{
	const char	*dir;

	if ((dir = getenv("TZDIR")) == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	return dir;
}

/*
 * The nearest known zone name to zone, from the database's tzdata.zi
 * (its "Z NAME ..." zones and "L TARGET NAME" links): " (did you mean
 * Europe/London?)" or "".  The caller frees it.
 */
static char *
period_zone_near(const char *zone)
{
	struct suggest	 sg;
	FILE		*f;
	char		*path, *line = NULL, *name, *end, **names = NULL;
	char		*text;
	size_t		 size = 0, n = 0, i;

	suggest_init(&sg, zone);
	path = xprintf("%s/tzdata.zi", period_zone_dir());
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return xstrdup("");
	while (getline(&line, &size, f) != -1) {
		if ((line[0] != 'Z' && line[0] != 'L') || line[1] != ' ')
			continue;
		name = line + 2;
		if (line[0] == 'L' && (name = strchr(name, ' ')) != NULL)
			name++;
		if (name == NULL || (end = strpbrk(name, " \t\n")) == NULL)
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n] = xstrndup(name, (size_t)(end - name));
		suggest_try(&sg, names[n]);
		n++;
	}
	free(line);
	fclose(f);
	text = suggest_text(&sg);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return text;
}

int
period_zone_check(const char *zone, char **cause)
{
	const char	*p;
	struct stat	 sb;
	char		*path, *near;
	int		 found = 0;

	if (*zone == ':')
		zone++;
	if (*zone == '\0' || strstr(zone, "..") != NULL || *zone == '/') {
		*cause = xprintf("time zone \"%s\": expected a name like "
		    "Europe/London", zone);
		return -1;
	}
	if (strcmp(zone, "UTC") == 0)
		return 0;
	path = xprintf("%s/%s", period_zone_dir(), zone);
	found = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	/* A POSIX TZ string ("GMT0BST,M3.5.0/1,M10.5.0") has digits. */
	for (p = zone; !found && *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			found = 1;
	}
	if (found)
		return 0;
	near = period_zone_near(zone);
	*cause = xprintf("time zone \"%s\" is not in the zoneinfo "
	    "database%s", zone, near);
	free(near);
	return -1;
}

int
period_zone(const char *zone, char **cause)
{
	if (period_zone_check(zone, cause) == -1)
		return -1;
	if (*zone == ':')
		zone++;
	if (setenv("TZ", zone, 1) != 0) {
		*cause = xprintf("time zone \"%s\": cannot set TZ", zone);
		return -1;
	}
	tzset();
	return 0;
}

/* --- days --------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
period_days(int64_t y, int m, int d)
{
	int64_t	era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
period_civil(int64_t z, int *y, int *m, int *d)
{
	int64_t	era, doe, yoe, doy, mp, yy;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

/* 0 sunday .. 6 saturday (1970-01-01 was a Thursday). */
static int
period_weekday(int64_t days)
{
	int64_t	w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int
period_month_days(int y, int m)
{
	return (int)(period_days(m == 12 ? (int64_t)y + 1 : y,
	    m == 12 ? 1 : m + 1, 1) - period_days(y, m, 1));
}

/* The local wall clock at t, as seconds since 1970-01-01 00:00 "local". */
static int
period_wall(time_t t, int64_t *wall)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	*wall = period_days((int64_t)tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday) * PERIOD_DAY + tm.tm_hour * 3600 + tm.tm_min * 60 +
	    tm.tm_sec;
	return 0;
}

/* Local date of t, as days. */
static int
period_local_days(time_t t, int64_t *days)
{
	int64_t	wall;

	if (period_wall(t, &wall) == -1)
		return -1;
	*days = wall >= 0 ? wall / PERIOD_DAY :
	    -((-wall + PERIOD_DAY - 1) / PERIOD_DAY);
	return 0;
}

/* --- wall clock to instant ---------------------------------------------- */

static time_t
period_instant(int64_t days, int minute)
{
	static const int isdsts[] = { 0, 1, -1 };
	struct tm	 tm;
	int64_t		 target, wall;
	time_t		 t, best = (time_t)-1, lo, hi, mid;
	size_t		 i;
	int		 y, m, d, found = 0;

	period_civil(days, &y, &m, &d);
	target = days * PERIOD_DAY + (int64_t)minute * 60;

	/*
	 * Each reading of the wall clock (standard time, summer time) that
	 * really shows the target; the earliest wins (the autumn hour).
	 */
	for (i = 0; i < sizeof isdsts / sizeof isdsts[0]; i++) {
		memset(&tm, 0, sizeof tm);
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = minute / 60;
		tm.tm_min = minute % 60;
		tm.tm_isdst = isdsts[i];
		if ((t = mktime(&tm)) == (time_t)-1)
			continue;
		if (period_wall(t, &wall) == -1 || wall != target)
			continue;
		if (!found || t < best)
			best = t;
		found = 1;
	}
	if (found)
		return best;

	/*
	 * Not shown at all: the spring gap.  The first instant at or after
	 * the target, by bisection over two days either side (offsets are
	 * within -12h..+14h and no zone changes twice in four days).
	 */
	lo = (time_t)(target - 2 * PERIOD_DAY);
	hi = (time_t)(target + 2 * PERIOD_DAY);
	if (period_wall(hi, &wall) == -1 || wall < target)
		return (time_t)-1;
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		if (period_wall(mid, &wall) == -1)
			return (time_t)-1;
		if (wall >= target)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

time_t
period_local(int year, int month, int day, int minute)
{
	if (month < 1 || month > 12 || day < 1 ||
	    day > period_month_days(year, month) || minute < 0 ||
	    minute >= 24 * 60)
		return (time_t)-1;
	return period_instant(period_days(year, month, day), minute);
}

/* --- periods ------------------------------------------------------------ */

/* The start date (days) of the period after the one starting on days. */
static int64_t
period_step(const struct period_rule *r, int64_t days, int sign)
{
	int	y, m, d;

	switch (r->every) {
	case PERIOD_DAILY:
		return days + sign;
	case PERIOD_WEEKLY:
		return days + 7 * sign;
	case PERIOD_MONTHLY:
		period_civil(days, &y, &m, &d);
		m += sign;
		if (m == 0) {
			m = 12;
			y--;
		} else if (m == 13) {
			m = 1;
			y++;
		}
		return period_days(y, m, 1);
	}
	return days;
}

static void
period_name(struct period *p, int64_t days)
{
	int64_t	thu, jan1;
	int	wd, iy, im, id;

	period_civil(days, &p->year, &p->month, &p->day);
	switch (p->every) {
	case PERIOD_DAILY:
		snprintf(p->key, sizeof p->key, "%04d-%02d-%02d", p->year,
		    p->month, p->day);
		snprintf(p->label, sizeof p->label, "%d %s %d", p->day,
		    period_months[p->month - 1], p->year);
		break;
	case PERIOD_WEEKLY:
		/* ISO 8601: the week of its Thursday, in its Thursday's year. */
		wd = period_weekday(days);
		thu = days - (wd == 0 ? 7 : wd) + 4;
		period_civil(thu, &iy, &im, &id);
		jan1 = period_days(iy, 1, 1);
		snprintf(p->key, sizeof p->key, "%04d-W%02d", iy,
		    (int)((thu - jan1) / 7 + 1));
		snprintf(p->label, sizeof p->label, "week of %d %s %d",
		    p->day, period_months[p->month - 1], p->year);
		break;
	case PERIOD_MONTHLY:
		snprintf(p->key, sizeof p->key, "%04d-%02d", p->year,
		    p->month);
		snprintf(p->label, sizeof p->label, "%s %d",
		    period_months[p->month - 1], p->year);
		break;
	}
}

static int
period_fill(const struct period_rule *r, int64_t start_days, struct period *p)
{
	memset(p, 0, sizeof *p);
	p->every = r->every;
	p->start = period_instant(start_days, r->minute);
	p->end = period_instant(period_step(r, start_days, 1), r->minute);
	if (p->start == (time_t)-1 || p->end == (time_t)-1)
		return -1;
	period_name(p, start_days);
	return 0;
}

static int
period_rule_ok(const struct period_rule *r)
{
	if (r->minute < 0 || r->minute >= 24 * 60)
		return 0;
	switch (r->every) {
	case PERIOD_DAILY:
	case PERIOD_MONTHLY:
		return 1;
	case PERIOD_WEEKLY:
		return r->weekday >= 0 && r->weekday <= 6;
	}
	return 0;
}

int
period_due(const struct period_rule *r, time_t now, struct period *p)
{
	int64_t	today, end;
	time_t	t;
	int	y, m, d;

	if (!period_rule_ok(r) || period_local_days(now, &today) == -1)
		return -1;

	/* The last day the rule fires on, on or before today... */
	switch (r->every) {
	case PERIOD_DAILY:
		end = today;
		break;
	case PERIOD_WEEKLY:
		end = today - (period_weekday(today) - r->weekday + 7) % 7;
		break;
	case PERIOD_MONTHLY:
		period_civil(today, &y, &m, &d);
		end = period_days(y, m, 1);
		break;
	default:
		return -1;
	}
	/* ... and the one before when today's time has not come yet. */
	if ((t = period_instant(end, r->minute)) == (time_t)-1)
		return -1;
	if (t > now)
		end = period_step(r, end, -1);
	return period_fill(r, period_step(r, end, -1), p);
}

int
period_next(const struct period_rule *r, const struct period *p,
    struct period *next)
{
	if (!period_rule_ok(r))
		return -1;
	return period_fill(r, period_step(r, period_days(p->year, p->month,
	    p->day), 1), next);
}

/* --- reading and writing times ---------------------------------------- */

static int
period_digits(const char *s, size_t n, int *out)
{
	size_t	i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int
period_parse(const char *s, time_t *t, char **cause)
{
	int	y, mo, d, h, mi;

	/* "YYYY-MM-DD HH:MM": 16 characters exactly. */
	if (strlen(s) != 16 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != ' ' && s[10] != 'T') || s[13] != ':' ||
	    period_digits(s, 4, &y) == -1 ||
	    period_digits(s + 5, 2, &mo) == -1 ||
	    period_digits(s + 8, 2, &d) == -1 ||
	    period_digits(s + 11, 2, &h) == -1 ||
	    period_digits(s + 14, 2, &mi) == -1) {
		*cause = xprintf("\"%s\": expected a local time, "
		    "YYYY-MM-DD HH:MM", s);
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > period_month_days(y, mo) ||
	    h > 23 || mi > 59) {
		*cause = xprintf("\"%s\": no such date or time", s);
		return -1;
	}
	if ((*t = period_local(y, mo, d, h * 60 + mi)) == (time_t)-1) {
		*cause = xprintf("\"%s\": cannot be converted to a time", s);
		return -1;
	}
	return 0;
}

int
period_day(const char *s, int end, time_t *t)
{
	int	y, mo, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    period_digits(s, 4, &y) == -1 ||
	    period_digits(s + 5, 2, &mo) == -1 ||
	    period_digits(s + 8, 2, &d) == -1 ||
	    (*t = period_local(y, mo, d, end ? 24 * 60 - 1 : 0)) ==
	    (time_t)-1)
		return -1;
	if (end)
		*t += 60;
	return 0;
}

void
period_date(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%d %s %d", tm.tm_mday,
	    period_months[tm.tm_mon % 12], tm.tm_year + 1900);
}

void
period_datetime(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	if (localtime_r(&t, &tm) == NULL) {
		snprintf(buf, len, "%s", "");
		return;
	}
	snprintf(buf, len, "%s %d %.3s %d %02d:%02d",
	    period_wdays[tm.tm_wday % 7], tm.tm_mday,
	    period_months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
	    tm.tm_min);
}
