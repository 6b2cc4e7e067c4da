/*
 * log.c - levelled logging to stderr.
 *
 * Owns: the log level and the program name; keeping email addresses out
 * of every line.  Does not own: where stderr goes (journald, a terminal, a
 * test's capture file).
 *
 * No log line carries a person's address (README): callers log ids and
 * references, and as a last guard every line is passed through
 * log_mask_addresses() before it is written, so that an address inside a
 * server's reply, a parser's complaint or an IMAP trace is masked too.
 */
#include <stdarg.h>
#include <stdint.h>
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

/*
 * Bytes of a local part: letters, digits, dots, any 8-bit byte and the
 * RFC 5322 atext that real addresses use (o'brien@).  Not '/', '=' or
 * '?': they end a local part in the URLs and key=value text logs hold
 * ("imaps://user@host", "to=x@y").
 */
static int
log_local_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-^_~.", c) != NULL);
}

/* Bytes of a domain: letters, digits, hyphens, dots, 8-bit (IDN). */
static int
log_domain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 0x80 || c == '-' || c == '.';
}

size_t
log_mask_addresses(const char *in, char *out, size_t size)
{
	size_t		 i, o = 0, floor = 0, start, end, k;
	uint32_t	 h;
	unsigned char	 c;
	char		 mask[16];

	if (size == 0)
		return 0;
	for (i = 0; in[i] != '\0'; i++) {
		if (in[i] != '@') {
			if (o + 1 < size)
				out[o++] = in[i];
			continue;
		}
		for (start = i; start > floor &&
		    log_local_byte((unsigned char)in[start - 1]); start--)
			;
		for (end = i + 1; log_domain_byte((unsigned char)in[end]);
		    end++)
			;
		while (end > i + 1 && (in[end - 1] == '.' ||
		    in[end - 1] == '-'))
			end--;
		if (start == i || end == i + 1) {
			if (o + 1 < size)
				out[o++] = in[i];
			continue;
		}
		/* The local part went out as it came: take it back. */
		o = o >= i - start ? o - (i - start) : 0;
		h = 2166136261u;
		for (k = start; k < end; k++) {
			c = (unsigned char)in[k];
			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			h = (h ^ c) * 16777619u;
		}
		snprintf(mask, sizeof mask, "addr#%08x", (unsigned int)h);
		for (k = 0; mask[k] != '\0' && o + 1 < size; k++)
			out[o++] = mask[k];
		i = end - 1;
		floor = end;
	}
	out[o] = '\0';
	return o;
}

static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const tags[] = {
		[LOGL_ERROR] = "error", [LOGL_WARN] = "warning",
		[LOGL_INFO] = "info", [LOGL_DEBUG] = "debug",
	};
	char	raw[4096], line[4096 + 256];

	if (level > log_level)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	log_mask_addresses(raw, line, sizeof line);
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

static void __attribute__((format(printf, 2, 3)))
log_write(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
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

int
log_every(struct log_every *e, long long now_ms, unsigned int secs,
    enum log_level level, const char *fmt, ...)
{
	va_list	ap;
	char	line[4096];

	if (e->said && now_ms - e->last_ms < (long long)secs * 1000) {
		e->held++;
		return 0;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (e->held > 0)
		log_write(level, "%s (and %lu more like it in the last %u s)",
		    line, e->held, secs);
	else
		log_write(level, "%s", line);
	e->said = 1;
	e->last_ms = now_ms;
	e->held = 0;
	return 1;
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOGL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
