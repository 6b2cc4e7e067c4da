/*
 * progress.h - watching a campaign being sent: "campaign send --wait".
 *
 * The daemon sends; the CLI only watches, by reading the database every
 * PROGRESS_POLL_TTY / PROGRESS_POLL_PLAIN milliseconds (WAL readers never
 * hold up the writer).  Each look is a struct progress_sample, fed to
 * progress_update(), which draws it:
 *
 *   on a terminal, one line redrawn in place (\r, then erase to the end):
 *	[########--------]  52%  5200 sent  3 deferred  1 failed  4796 left
 *	    118/s  ETA 41s
 *   cut to the terminal's width (the bar goes first);
 *   elsewhere (a pipe, a log), one plain line every PROGRESS_PLAIN_EVERY
 *   seconds and whenever the status changes:
 *	campaign 7: sending: 5204 of 10000 done (5200 sent, 3 deferred,
 *	    1 failed, 0 skipped), 4796 left, 118.0/s, ETA 41s
 *
 * "done" is a row in a final state (sent, failed, skipped); "left" is
 * queued or being sent; deferred rows wait for their retry and are shown
 * apart.  The rate is rows done per second over the last PROGRESS_WINDOW
 * seconds of looks; the ETA is left / rate.
 *
 * No daemon: the CLI cannot tell, so when a sending campaign has rows
 * left and nothing has moved for PROGRESS_STALL seconds (or a scheduled
 * one is that late to start), it says once "nothing has been sent for
 * 20s: is postroomd running?" and goes on waiting.
 *
 * progress_wait() is the loop: it returns when the campaign is sent,
 * paused or cancelled (or never left draft), with that status, or when
 * SIGINT or SIGTERM arrive (the campaign goes on without us).
 *
 * Owns: the display, the rate and ETA, the stall hint, the waiting loop.
 * Does not own: the states (campaign.c), the counts' SQL
 * (store-campaign.c), exit codes (cmd-campaign.c).
 */
#ifndef POSTROOM_PROGRESS_H
#define POSTROOM_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store.h"

#define PROGRESS_POLL_TTY	500	/* ms between looks on a terminal */
#define PROGRESS_POLL_PLAIN	1000	/* ms between looks otherwise */
#define PROGRESS_PLAIN_EVERY	5	/* seconds between plain lines */
#define PROGRESS_WINDOW		10	/* seconds of looks in the rate */
#define PROGRESS_STALL		20	/* seconds without progress: hint */
#define PROGRESS_RING		64	/* looks kept for the rate */
#define PROGRESS_WIDTH		80	/* columns when the terminal's unknown */
#define PROGRESS_BAR		30	/* the widest bar, in columns */

/* One look at a campaign. */
struct progress_sample {
	int64_t			 at_ms;		/* when, in milliseconds */
	enum store_campaign_status status;
	int64_t			 scheduled_at;	/* seconds; 0 when none */
	int64_t			 total;
	int64_t			 sent;
	int64_t			 deferred;
	int64_t			 failed;
	int64_t			 skipped;
	int64_t			 left;		/* queued or being sent */
};

struct progress {
	FILE		*out;
	FILE		*err;		/* the hint; stderr */
	int		 tty;
	int		 width;		/* columns (tty) */
	int64_t		 id;

	struct {
		int64_t	 at_ms;
		int64_t	 done;
	}		 ring[PROGRESS_RING];
	size_t		 nring;		/* entries used */
	size_t		 head;		/* the newest */

	int		 started;	/* a sample was seen */
	enum store_campaign_status status;	/* of the last sample */
	int64_t		 last_done;
	int64_t		 last_left;
	int64_t		 moved_ms;	/* when done or left last changed */
	int64_t		 line_ms;	/* when the last plain line went out */
	int		 drawn;		/* a tty line is on the screen */
	int		 hinted;
};

/* Set p up to draw campaign id's progress on out (a terminal when tty). */
void	 progress_init(struct progress *p, FILE *out, int tty, int width,
	    int64_t id);
/*
 * Take one look and draw it when due.  1 when the campaign has finished
 * (anything but scheduled or sending), else 0.
 */
int	 progress_update(struct progress *p, const struct progress_sample *);
/* The last word: the final line, ended (tty), then nothing more. */
void	 progress_end(struct progress *p, const struct progress_sample *);

/* Rows done per second over the window; -1 when not known yet. */
double	 progress_rate(const struct progress *p);
/* A duration for people: "41s", "3m05s", "2h07m". */
void	 progress_duration(int64_t secs, char *buf, size_t len);
/* The two kinds of line, without line end; cut to len. */
void	 progress_plain_line(const struct progress *p,
	    const struct progress_sample *, char *buf, size_t len);
void	 progress_tty_line(const struct progress *p,
	    const struct progress_sample *, char *buf, size_t len);

/* Read one sample of campaign id now: 1, 0 when there is no such, -1. */
int	 progress_sample(struct store *, int64_t id,
	    struct progress_sample *, char **cause);

/*
 * Watch campaign id on out until it finishes.  *status gets how it ended;
 * *interrupted is set when a signal stopped the watching instead.  0, or
 * -1 with *cause (the database).
 */
int	 progress_wait(struct store *, int64_t id, FILE *out,
	    enum store_campaign_status *status, int *interrupted,
	    char **cause);

#endif
