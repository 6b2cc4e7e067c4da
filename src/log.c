/*
 * log.c - levelled logging to stderr.
 *
 * Owns: the log level and the program name.  Does not own: where stderr
 * goes (journald, a terminal, a test's capture file).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char	*log_progname = "postroom";
static enum log_level	 log_level = LOGL_INFO;
static int		 log_tty;
static int		 log_syslog;	/* detached: stderr may be gone */

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_level = level;
	log_tty = isatty(STDERR_FILENO);
}

void
log_to_syslog(void)
{
	openlog(log_progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_syslog = 1;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

int
log_parse_level(const char *s, enum log_level *level)
{
	static const struct {
		const char	*name;
		enum log_level	 level;
	} names[] = {
		{ "error", LOGL_ERROR }, { "warn", LOGL_WARN },
		{ "info", LOGL_INFO }, { "debug", LOGL_DEBUG },
	};
	size_t	i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*level = names[i].level;
			return 0;
		}
	}
	return -1;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const tags[] = {
		[LOGL_ERROR] = "error", [LOGL_WARN] = "warning",
		[LOGL_INFO] = "info", [LOGL_DEBUG] = "debug",
	};
	char	line[4096];

	if (level > log_level)
		return;
	vsnprintf(line, sizeof line, fmt, ap);
	if (log_syslog) {
		/* Our levels are syslog's priorities (3, 4, 6, 7). */
		syslog((int)level, "%s", line);
		return;
	}
	/* One write per line so that threads do not interleave mid-line. */
	if (log_tty)
		fprintf(stderr, "%s: %s%s%s\n", log_progname,
		    level <= LOGL_WARN ? tags[level] : "",
		    level <= LOGL_WARN ? ": " : "", line);
	else
		fprintf(stderr, "<%d>%s: %s\n", (int)level, tags[level], line);
}

#define LOG_FUNC(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vwrite(level, fmt, ap);			\
	va_end(ap);					\
}
LOG_FUNC(log_error, LOGL_ERROR)
LOG_FUNC(log_warn, LOGL_WARN)
LOG_FUNC(log_info, LOGL_INFO)
LOG_FUNC(log_debug, LOGL_DEBUG)

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOGL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
