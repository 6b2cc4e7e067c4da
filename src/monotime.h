/*
 * monotime.h - the time that only goes forward, for timeouts and
 * deadlines (not for anything written down: that is wall-clock time).
 */
#ifndef POSTROOM_MONOTIME_H
#define POSTROOM_MONOTIME_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t	 monotime_ms(void);

#endif
