/*
 * period.h - digest periods: calendar arithmetic in the local time zone.
 *
 * A digest goes out at a local wall-clock time: every day, every week on
 * one weekday, or on the 1st of every month, at HH:MM (struct
 * period_rule).  Those instants cut time into periods; a period runs from
 * one such instant (start, included) to the next (end, excluded), and its
 * digest is due from end on.  period_due() says which period was the
 * last to end at or before a given instant: that is the digest a run at
 * that instant should send, if nobody has sent it yet.  A run that was
 * missed for weeks still finds just one period (the latest); what went
 * unsent before it is the caller's to catch up (digest.c does, newsletter
 * by newsletter).
 *
 * Daylight saving: instants are found by wall clock, not by adding 86400
 * seconds, so a daily digest at 07:00 stays at 07:00 across the change
 * (the period around a change is 23 or 25 hours long).  A wall-clock time
 * that happens twice (the autumn hour) means its first occurrence; one
 * that does not happen at all (the spring gap) means the first instant
 * after the gap.
 *
 * The zone is the process's: period_zone() sets TZ (from general.timezone)
 * and checks that the zone exists, since the C library silently takes
 * UTC for a name it does not know.  Everything here uses localtime_r()
 * and mktime(), so set the zone once at start-up, before threads.
 *
 * Period names: key (for the database, unique per rule and period) and
 * label (for people):
 *	daily	"2026-11-22"	"22 November 2026"
 *	weekly	"2026-W47"	"week of 16 November 2026"  (ISO week of
 *				the start date: one per week whatever the day)
 *	monthly	"2026-11"	"November 2026"
 * all named after the period's start (a weekly digest sent on Monday 23
 * November covers the week of 16 November).
 *
 * Owns: the calendar.  Does not own: what is in a digest (digest.c) or
 * whether it was sent (store-digest.c).
 */
#ifndef POSTROOM_PERIOD_H
#define POSTROOM_PERIOD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum period_every {
	PERIOD_DAILY,
	PERIOD_WEEKLY,
	PERIOD_MONTHLY,
};

struct period_rule {
	enum period_every every;
	int		 weekday;	/* weekly: 0 sunday .. 6 saturday */
	int		 minute;	/* minutes after local midnight */
};

struct period {
	enum period_every every;
	time_t		 start;		/* its first instant */
	time_t		 end;		/* first one after: digest due */
	int		 year;		/* local date of start */
	int		 month;		/* 1..12 */
	int		 day;		/* 1..31 */
	char		 key[16];	/* "2026-W47" */
	char		 label[48];	/* "week of 16 November 2026" */
};

/* "daily", "weekly", "monthly". */
const char	*period_every_name(enum period_every);

/*
 * Use zone (an IANA name like "Europe/London", or "UTC") from now on:
 * sets TZ.  -1 with *cause (caller frees) when the zone does not exist.
 */
int		 period_zone(const char *zone, char **cause);
/*
 * The same check without setting anything: 0 when zone exists, else -1
 * with *cause (caller frees) naming the nearest known zone, if any.
 */
int		 period_zone_check(const char *zone, char **cause);

/*
 * The period of rule r that ended last at or before now (its end <= now
 * < the next period's end).  0, or -1 for a bad rule (a weekday or minute
 * out of range) or a time the C library cannot convert.
 */
int		 period_due(const struct period_rule *r, time_t now,
		    struct period *p);
/* The period after p (its start is p's end). */
int		 period_next(const struct period_rule *r,
		    const struct period *p, struct period *next);

/*
 * The instant local wall clock first reads year-month-day at minute
 * (after midnight), following the rules above for the changes of clock.
 * (time_t)-1 for an impossible date.
 */
time_t		 period_local(int year, int month, int day, int minute);

/*
 * Read "YYYY-MM-DD HH:MM" (local time) into *t: 0, or -1 with *cause
 * for anything else or an impossible date.
 */
int		 period_parse(const char *s, time_t *t, char **cause);
/*
 * "YYYY-MM-DD" into *t: the day's first second, local time (end: the
 * first second of the day after).  0, or -1 for anything else or an
 * impossible date ("2026-02-30", "31/03/2026").
 */
int		 period_day(const char *s, int end, time_t *t);

/* "22 November 2026" and "Sun 22 Nov 2026 09:14", local time. */
void		 period_date(time_t, char *buf, size_t len);
void		 period_datetime(time_t, char *buf, size_t len);

#endif
