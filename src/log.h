/*
 * log.h - levelled logging to stderr (journald adds the timestamp).
 *
 * Lines are "<N>LEVEL: message" when stderr is not a terminal, so that
 * journald records the priority (sd-daemon(3) prefixes), and plain
 * "postroomd: message" on a terminal.  Owns no state beyond the level.
 */
#ifndef POSTROOM_LOG_H
#define POSTROOM_LOG_H

#include <stddef.h>

enum log_level {
	LOGL_ERROR = 3,
	LOGL_WARN = 4,
	LOGL_INFO = 6,
	LOGL_DEBUG = 7,
};

void	log_init(const char *progname, enum log_level);
/* From now on, log to syslog (facility mail): for a detached daemon. */
void	log_to_syslog(void);
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
int	log_parse_level(const char *, enum log_level *);

void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/*
 * Copy in to out (size bytes, NUL-terminated, cut short when full) with
 * every email address replaced by "addr#" and 8 hex digits of a hash of
 * the address in lowercase: the same address gives the same mask, so the
 * lines about one recipient can still be followed.  Every log line goes
 * through this.  Returns the length written.
 */
size_t	log_mask_addresses(const char *in, char *out, size_t size);

/*
 * A line that would repeat while a condition lasts (a full disk, a
 * server down): said at most once every secs seconds, at monotonic time
 * now_ms (monotime_ms()); the lines held back meanwhile are counted and
 * the next line says how many there were.  Returns 1 when it was said.
 * One struct log_every per kind of line, zeroed to start.
 */
struct log_every {
	long long	last_ms;
	unsigned long	held;
	int		said;
};
#define LOG_EVERY_MINUTE	60
int	log_every(struct log_every *, long long now_ms, unsigned int secs,
	    enum log_level, const char *, ...)
	    __attribute__((format(printf, 5, 6)));

/* Broken invariant or unusable environment: log and exit(1). */
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
