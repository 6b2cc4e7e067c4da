/*
 * progress.c - watching a campaign being sent: the progress bar, the
 * plain progress lines, the rate, the ETA and the "is postroomd running?"
 * hint, and the loop of "campaign send --wait" that reads the database
 * until the campaign finishes.
 *
 * Owns: what the person watching sees, and when.  Does not own: the
 * states (campaign.c), the SQL (store-campaign.c), the exit codes
 * (cmd-campaign.c).  progress.h tells the whole story.
 */
#include <sys/ioctl.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "store.h"
#include "xmalloc.h"

static volatile sig_atomic_t	progress_signalled;

void
progress_init(struct progress *p, FILE *out, int tty, int width, int64_t id)
{
	memset(p, 0, sizeof *p);
	p->out = out;
	p->err = stderr;
	p->tty = tty;
	p->width = width > 0 ? width : PROGRESS_WIDTH;
	p->id = id;
}

static int64_t
progress_done(const struct progress_sample *s)
{
	return s->sent + s->failed + s->skipped;
}

static int
progress_finished(enum store_campaign_status st)
{
	return st != STORE_CAMPAIGN_SCHEDULED && st != STORE_CAMPAIGN_SENDING;
}

/* --- the numbers -------------------------------------------------------- */

static void
progress_record(struct progress *p, int64_t at_ms, int64_t done)
{
	if (p->nring > 0)
		p->head = (p->head + 1) % PROGRESS_RING;
	p->ring[p->head].at_ms = at_ms;
	p->ring[p->head].done = done;
	if (p->nring < PROGRESS_RING)
		p->nring++;
}

double
progress_rate(const struct progress *p)
{
	size_t	i, idx, oldest;
	int64_t	now, span;

	if (p->nring < 2)
		return -1;
	/*
	 * The oldest look no more than PROGRESS_WINDOW before the newest
	 * (or the oldest kept), against the newest.
	 */
	now = p->ring[p->head].at_ms;
	oldest = p->head;
	for (i = 1; i < p->nring; i++) {
		idx = (p->head + PROGRESS_RING - i) % PROGRESS_RING;
		if (now - p->ring[idx].at_ms > PROGRESS_WINDOW * 1000)
			break;
		oldest = idx;
	}
	span = now - p->ring[oldest].at_ms;
	if (span < 500)
		return -1;
	return (double)(p->ring[p->head].done - p->ring[oldest].done) *
	    1000.0 / (double)span;
}

void
progress_duration(int64_t secs, char *buf, size_t len)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(buf, len, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(secs / 60),
		    (long long)(secs % 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(secs / 3600),
		    (long long)(secs % 3600 / 60));
}

static void
progress_rate_text(double rate, char *buf, size_t len)
{
	if (rate < 0)
		snprintf(buf, len, "-");
	else if (rate >= 10)
		snprintf(buf, len, "%.0f", rate);
	else
		snprintf(buf, len, "%.1f", rate);
}

static void
progress_eta_text(const struct progress_sample *s, double rate, char *buf,
    size_t len)
{
	if (s->left == 0)
		snprintf(buf, len, "0s");
	else if (rate <= 0)
		snprintf(buf, len, "-");
	else
		progress_duration((int64_t)((double)s->left / rate + 0.5), buf,
		    len);
}

static void
progress_when(int64_t t, char *buf, size_t len)
{
	struct tm	tm;
	time_t		tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M %Z", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)t);
}

/* --- the lines ----------------------------------------------------------- */

void
progress_plain_line(const struct progress *p,
    const struct progress_sample *s, char *buf, size_t len)
{
	char	rate[32], eta[32], when[64], in[32];
	double	r = progress_rate(p);

	if (s->status == STORE_CAMPAIGN_SCHEDULED) {
		progress_when(s->scheduled_at, when, sizeof when);
		progress_duration(s->scheduled_at - s->at_ms / 1000, in,
		    sizeof in);
		snprintf(buf, len, "campaign %lld: scheduled: starts %s (in "
		    "%s), %lld queued", (long long)p->id, when, in,
		    (long long)s->total);
		return;
	}
	progress_rate_text(r, rate, sizeof rate);
	progress_eta_text(s, r, eta, sizeof eta);
	snprintf(buf, len, "campaign %lld: %s: %lld of %lld done (%lld sent, "
	    "%lld deferred, %lld failed, %lld skipped), %lld left, %s/s, "
	    "ETA %s", (long long)p->id, store_campaign_status_name(s->status),
	    (long long)progress_done(s), (long long)s->total,
	    (long long)s->sent, (long long)s->deferred, (long long)s->failed,
	    (long long)s->skipped, (long long)s->left, rate, eta);
}

void
progress_tty_line(const struct progress *p, const struct progress_sample *s,
    char *buf, size_t len)
{
	char	rest[256], rate[32], eta[32], skipped[48], when[64], in[32];
	double	r = progress_rate(p);
	size_t	width, bar, fill, i, n;
	int64_t	done = progress_done(s);
	int	pct;

	if (len == 0)
		return;
	width = p->width > 1 ? (size_t)p->width - 1 : 1;	/* no wrap */
	if (width >= len)
		width = len - 1;

	if (s->status == STORE_CAMPAIGN_SCHEDULED) {
		progress_when(s->scheduled_at, when, sizeof when);
		progress_duration(s->scheduled_at - s->at_ms / 1000, in,
		    sizeof in);
		snprintf(rest, sizeof rest, "scheduled: starts %s (in %s), "
		    "%lld queued", when, in, (long long)s->total);
		snprintf(buf, width + 1, "%s", rest);
		return;
	}

	pct = s->total > 0 ? (int)(done * 100 / s->total) : 100;
	progress_rate_text(r, rate, sizeof rate);
	progress_eta_text(s, r, eta, sizeof eta);
	skipped[0] = '\0';
	if (s->skipped > 0)
		snprintf(skipped, sizeof skipped, "  %lld skipped",
		    (long long)s->skipped);
	snprintf(rest, sizeof rest, "%3d%%  %lld sent  %lld deferred  "
	    "%lld failed%s  %lld left  %s/s  ETA %s", pct, (long long)s->sent,
	    (long long)s->deferred, (long long)s->failed, skipped,
	    (long long)s->left, rate, eta);
	if (s->status != STORE_CAMPAIGN_SENDING) {
		n = strlen(rest);
		snprintf(rest + n, sizeof rest - n, "  (%s)",
		    store_campaign_status_name(s->status));
	}

	/*
	 * The bar: a quarter of the width (at most PROGRESS_BAR), so that it
	 * does not jump about as the numbers grow; less when the numbers
	 * need the room, none when that leaves less than 10.
	 */
	n = strlen(rest);
	bar = width / 4 < PROGRESS_BAR ? width / 4 : PROGRESS_BAR;
	if (n + 4 + bar > width)
		bar = width > n + 4 ? width - n - 4 : 0;
	if (bar < 10) {
		snprintf(buf, width + 1, "%s", rest);
		return;
	}
	fill = s->total > 0 ? (size_t)(done * (int64_t)bar / s->total) : bar;
	if (fill > bar)
		fill = bar;
	i = 0;
	buf[i++] = '[';
	for (n = 0; n < bar; n++)
		buf[i++] = n < fill ? '#' : '-';
	buf[i++] = ']';
	buf[i++] = ' ';
	buf[i++] = ' ';
	snprintf(buf + i, len - i, "%s", rest);
}

/* --- drawing -------------------------------------------------------------- */

static void
progress_draw(struct progress *p, const struct progress_sample *s)
{
	char	line[512];

	if (p->tty) {
		progress_tty_line(p, s, line, sizeof line);
		fprintf(p->out, "\r%s\033[K", line);
		p->drawn = 1;
	} else {
		progress_plain_line(p, s, line, sizeof line);
		fprintf(p->out, "%s\n", line);
		p->line_ms = s->at_ms;
	}
	fflush(p->out);
}

/* Words that are not the progress line: below it on a terminal. */
static void
progress_say(struct progress *p, const char *msg)
{
	if (p->tty && p->drawn) {
		fprintf(p->out, "\r\033[K");
		fflush(p->out);
		p->drawn = 0;
	}
	fprintf(p->err, "postroom: campaign %lld: %s\n", (long long)p->id,
	    msg);
	fflush(p->err);
}

/* Nothing moving: say once that the daemon may not be running. */
static void
progress_stall(struct progress *p, const struct progress_sample *s)
{
	char	msg[256], when[64], d[32];
	int64_t	now = s->at_ms / 1000;

	if (p->hinted)
		return;
	if (s->status == STORE_CAMPAIGN_SENDING && s->left > 0 &&
	    s->at_ms - p->moved_ms >= PROGRESS_STALL * 1000) {
		progress_duration((s->at_ms - p->moved_ms) / 1000, d, sizeof d);
		snprintf(msg, sizeof msg, "nothing has been sent for %s: is "
		    "postroomd running? (the campaign waits for it)", d);
	} else if (s->status == STORE_CAMPAIGN_SCHEDULED &&
	    s->scheduled_at != 0 && now - s->scheduled_at >= PROGRESS_STALL) {
		progress_when(s->scheduled_at, when, sizeof when);
		snprintf(msg, sizeof msg, "due at %s but not started: is "
		    "postroomd running?", when);
	} else
		return;
	p->hinted = 1;
	progress_say(p, msg);
}

int
progress_update(struct progress *p, const struct progress_sample *s)
{
	int64_t	done = progress_done(s);
	int	first = !p->started, changed;

	changed = !first && s->status != p->status;
	if (first || changed || done != p->last_done ||
	    s->left != p->last_left)
		p->moved_ms = s->at_ms;
	p->started = 1;
	p->status = s->status;
	p->last_done = done;
	p->last_left = s->left;
	progress_record(p, s->at_ms, done);

	if (progress_finished(s->status))
		return 1;
	progress_stall(p, s);
	if (p->tty || first || changed ||
	    s->at_ms - p->line_ms >= PROGRESS_PLAIN_EVERY * 1000)
		progress_draw(p, s);
	return 0;
}

void
progress_end(struct progress *p, const struct progress_sample *s)
{
	progress_draw(p, s);
	if (p->tty) {
		fputc('\n', p->out);
		fflush(p->out);
		p->drawn = 0;
	}
}

/* --- reading and waiting ------------------------------------------------- */

static int64_t
progress_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
progress_sample(struct store *st, int64_t id, struct progress_sample *s,
    char **cause)
{
	struct store_campaign		c;
	struct store_campaign_counts	cc;
	int				rc;

	memset(s, 0, sizeof *s);
	if ((rc = store_campaign_get(st, id, &c, cause)) != 1)
		return rc;
	s->status = c.status;
	s->scheduled_at = c.scheduled_at;
	store_campaign_clear(&c);
	if (store_campaign_counts(st, id, &cc, cause) == -1)
		return -1;
	s->at_ms = progress_now_ms();
	s->total = cc.total;
	s->sent = cc.state[STORE_OUTBOX_SENT];
	s->deferred = cc.state[STORE_OUTBOX_DEFERRED];
	s->failed = cc.state[STORE_OUTBOX_FAILED];
	s->skipped = cc.state[STORE_OUTBOX_SKIPPED];
	s->left = cc.state[STORE_OUTBOX_QUEUED] +
	    cc.state[STORE_OUTBOX_SENDING];
	return 1;
}

static void
progress_signal(int sig)
{
	(void)sig;
	progress_signalled = 1;
}

static int
progress_width(FILE *out)
{
	struct winsize	 ws;
	const char	*cols;
	long		 n;
	char		*end;

	if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if ((cols = getenv("COLUMNS")) != NULL) {
		n = strtol(cols, &end, 10);
		if (*end == '\0' && n > 0 && n < 1000)
			return (int)n;
	}
	return PROGRESS_WIDTH;
}

int
progress_wait(struct store *st, int64_t id, FILE *out,
    enum store_campaign_status *status, int *interrupted, char **cause)
{
	struct progress		 p;
	struct progress_sample	 s;
	struct sigaction	 sa, old_int, old_term;
	struct timespec		 pause;
	int			 tty, rc = 0, n;
	long			 poll;

	*interrupted = 0;
	tty = isatty(fileno(out));
	progress_init(&p, out, tty, tty ? progress_width(out) : 0, id);
	poll = tty ? PROGRESS_POLL_TTY : PROGRESS_POLL_PLAIN;
	pause.tv_sec = poll / 1000;
	pause.tv_nsec = (poll % 1000) * 1000000L;

	/* ^C stops the watching, not the campaign: end the line tidily. */
	progress_signalled = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = progress_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	for (;;) {
		n = progress_sample(st, id, &s, cause);
		if (n == -1 && store_busy(st)) {
			/* Only busy: look again next time. */
			free(*cause);
			*cause = NULL;
		} else if (n != 1) {
			if (n == 0)
				*cause = xprintf("campaign %lld is gone",
				    (long long)id);
			rc = -1;
			break;
		} else if (progress_update(&p, &s)) {
			progress_end(&p, &s);
			*status = s.status;
			break;
		}
		if (progress_signalled) {
			if (p.tty && p.drawn) {
				fputc('\n', out);
				fflush(out);
			}
			*status = s.status;
			*interrupted = 1;
			break;
		}
		while (nanosleep(&pause, &pause) == -1 && errno == EINTR &&
		    !progress_signalled)
			;
		pause.tv_sec = poll / 1000;
		pause.tv_nsec = (poll % 1000) * 1000000L;
	}

	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}
