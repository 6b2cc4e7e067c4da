/*
 * deliver-schedule.c - the delivery engine's rules that need no engine:
 * the names of a claimed row's states and which moves between them are
 * allowed, the retry schedule with its jitter and deadline, and when a
 * campaign's failures pause it.  Pure functions of their arguments, so
 * that the tests can hold them to the numbers (see deliver.h).
 *
 * Owns: those rules.  Does not own: moving a row (deliver.c's
 * deliver_enter_state()), the clock or the randomness (the caller's).
 */
#include <stdint.h>

#include "deliver.h"
#include "log.h"

static const char *const deliver_states[] = {
	[DELIVER_CLAIMED] = "claimed",
	[DELIVER_SENDING] = "sending",
	[DELIVER_SENT] = "sent",
	[DELIVER_DEFERRED] = "deferred",
	[DELIVER_FAILED] = "failed",
	[DELIVER_SKIPPED] = "skipped",
	[DELIVER_RELEASED] = "released",
};

/* Seconds after the 1st, 2nd ... failed attempt; the last repeats. */
static const int64_t deliver_schedule[] = {
	60, 5 * 60, 15 * 60, 60 * 60, 4 * 60 * 60,
};
#define DELIVER_NSCHEDULE \
	((int)(sizeof deliver_schedule / sizeof deliver_schedule[0]))

/* --- states and the schedule ------------------------------------------ */

const char *
deliver_state_name(enum deliver_state st)
{
	if ((unsigned int)st >= DELIVER_NSTATES)
		fatalx("%s: bad state %d", __func__, (int)st);
	return deliver_states[st];
}

int
deliver_can_move(enum deliver_state from, enum deliver_state to)
{
	switch (from) {
	case DELIVER_CLAIMED:
		return to == DELIVER_SENDING || to == DELIVER_SKIPPED ||
		    to == DELIVER_FAILED || to == DELIVER_DEFERRED ||
		    to == DELIVER_RELEASED;
	case DELIVER_SENDING:
		return to == DELIVER_SENT || to == DELIVER_DEFERRED ||
		    to == DELIVER_FAILED;
	default:
		return 0;
	}
}

int64_t
deliver_backoff_base(int attempts)
{
	if (attempts < 1)
		attempts = 1;
	if (attempts > DELIVER_NSCHEDULE)
		attempts = DELIVER_NSCHEDULE;
	return deliver_schedule[attempts - 1];
}

int64_t
deliver_backoff(int attempts, uint32_t rnd)
{
	int64_t	base, spread;

	base = deliver_backoff_base(attempts);
	spread = base * DELIVER_JITTER_PERCENT / 100;
	/* Uniform in [base - spread, base + spread]. */
	return base - spread + (int64_t)(rnd % (uint32_t)(2 * spread + 1));
}

enum deliver_state
deliver_retry(int64_t max_age, int attempts, int64_t created_at,
    int64_t now, uint32_t rnd, int64_t *next)
{
	int64_t	deadline = created_at + max_age;

	*next = 0;
	if (now >= deadline)
		return DELIVER_FAILED;
	*next = now + deliver_backoff(attempts, rnd);
	if (*next > deadline)
		*next = deadline;
	return DELIVER_DEFERRED;
}

int
deliver_should_pause(int64_t count, int percent, int64_t sent,
    int64_t failed)
{
	if (count <= 0 || failed < count)
		return 0;
	return failed * 100 >= (int64_t)percent * (sent + failed);
}
