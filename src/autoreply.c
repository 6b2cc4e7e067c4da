/*
 * autoreply.c - may postroom acknowledge this message?  RFC 3834 and the
 * habits of Sieve's vacation (RFC 5230): never answer a machine, a list,
 * a bounce or ourselves, so that no two robots can talk to each other.
 *
 * Owns: the decision and its one-line reason.  Does not own: the "once a
 * day per sender" limit (enquiry.c, with the store) or sending.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "autoreply.h"
#include "conf.h"
#include "message.h"

static const char *
autoreply_str(const char *s)
{
	return s != NULL ? s : "";
}

static int
autoreply_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Does value's first token (up to ; , or space) equal word? */
static int
autoreply_token_is(const char *value, const char *word)
{
	size_t	n;

	while (autoreply_space(*value))
		value++;
	n = strcspn(value, " \t\r\n;,(");
	return n == strlen(word) && strncasecmp(value, word, n) == 0;
}

/* Is the address's local part a robot's (RFC 3834 5.2, RFC 5230 4.6)? */
static const char *
autoreply_robot(const char *addr)
{
	const char	*at = strrchr(addr, '@');
	char		 squeezed[128];
	size_t		 n, i, j;

	if (at == NULL)
		return NULL;
	n = (size_t)(at - addr);
	if ((n == 13 && strncasecmp(addr, "mailer-daemon", n) == 0) ||
	    (n == 10 && strncasecmp(addr, "postmaster", n) == 0) ||
	    (n == 8 && strncasecmp(addr, "listserv", n) == 0) ||
	    (n == 9 && strncasecmp(addr, "majordomo", n) == 0))
		return "a mail robot";
	if ((n > 6 && strncasecmp(addr, "owner-", 6) == 0) ||
	    (n > 8 && strncasecmp(at - 8, "-request", 8) == 0))
		return "a list robot";
	/* noreply, no-reply, no_reply, do-not-reply, donotreply ... */
	for (i = j = 0; i < n && j < sizeof squeezed - 1; i++) {
		if ((addr[i] >= 'a' && addr[i] <= 'z') ||
		    (addr[i] >= '0' && addr[i] <= '9'))
			squeezed[j++] = addr[i];
		else if (addr[i] >= 'A' && addr[i] <= 'Z')
			squeezed[j++] = (char)(addr[i] + 0x20);
	}
	squeezed[j] = '\0';
	if (strstr(squeezed, "noreply") != NULL ||
	    strstr(squeezed, "donotreply") != NULL)
		return "a no-reply address";
	return NULL;
}

/* Write the reason; returns 1 ("no acknowledgement") for brevity. */
static int __attribute__((format(printf, 3, 4)))
autoreply_no(char *why, size_t size, const char *fmt, ...)
{
	va_list	ap;

	if (size > 0) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return 1;
}

int
autoreply_is_automatic(const struct message *msg, char *why, size_t size)
{
	const char	*v, *robot, *rp;
	size_t		 i;

	if (size > 0)
		*why = '\0';
	/* Every instance counts: a second header cannot hide behind a first. */
	for (i = 0; i < msg->nheaders; i++) {
		v = autoreply_str(msg->headers[i].value);
		if (strcasecmp(msg->headers[i].name, "Auto-Submitted") == 0 &&
		    !autoreply_token_is(v, "no"))
			return autoreply_no(why, size, "Auto-Submitted: %s", v);
		if (strcasecmp(msg->headers[i].name, "Precedence") == 0 &&
		    (autoreply_token_is(v, "bulk") ||
		    autoreply_token_is(v, "list") ||
		    autoreply_token_is(v, "junk")))
			return autoreply_no(why, size, "Precedence: %s", v);
		if (strncasecmp(msg->headers[i].name, "List-", 5) == 0)
			return autoreply_no(why, size, "a mailing list "
			    "message (%s)", msg->headers[i].name);
	}
	if (msg->is_report)
		return autoreply_no(why, size,
		    "a report (multipart/report%s%s)",
		    *autoreply_str(msg->report_type) != '\0' ? "; " : "",
		    autoreply_str(msg->report_type));
	if ((v = message_header(msg, "Return-Path")) != NULL) {
		while (autoreply_space(*v))
			v++;
		if (*v == '\0' || strncmp(v, "<>", 2) == 0)
			return autoreply_no(why, size, "the envelope sender "
			    "is empty (Return-Path: <>)");
	}
	rp = autoreply_str(msg->return_path);
	if ((robot = autoreply_robot(rp)) != NULL)
		return autoreply_no(why, size, "the envelope sender %s is %s",
		    rp, robot);
	v = autoreply_str(msg->from.addr);
	if ((robot = autoreply_robot(v)) != NULL)
		return autoreply_no(why, size, "the sender %s is %s", v,
		    robot);
	return 0;
}

const char *
autoreply_address(const struct message *msg)
{
	const char	*rp = autoreply_str(msg->return_path);

	if (strchr(rp, '@') != NULL)
		return rp;
	if (strchr(autoreply_str(msg->from.addr), '@') != NULL)
		return msg->from.addr;
	return "";
}

/*
 * Is addr the address own in any plus-form ("enquiries+ENQ-1@", any
 * case)?  own's own tag, if it has one, is not needed.
 */
static int
autoreply_same(const char *addr, const char *own)
{
	const char	*at, *oat, *plus;
	size_t		 n, on;

	if (own == NULL || (at = strrchr(addr, '@')) == NULL ||
	    (oat = strrchr(own, '@')) == NULL || strcasecmp(at, oat) != 0)
		return 0;
	n = (plus = memchr(addr, '+', (size_t)(at - addr))) != NULL ?
	    (size_t)(plus - addr) : (size_t)(at - addr);
	on = (plus = memchr(own, '+', (size_t)(oat - own))) != NULL ?
	    (size_t)(plus - own) : (size_t)(oat - own);
	return n == on && strncasecmp(addr, own, n) == 0;
}

/* Is addr one postroom sends from, or its VERP or unsubscribe address? */
static int
autoreply_own(const struct conf *conf, const char *addr)
{
	char	 robot[320];
	size_t	 i;

	if (conf == NULL || *addr == '\0')
		return 0;
	if (autoreply_same(addr, conf->general.from_address))
		return 1;
	for (i = 0; i < conf->nlists; i++) {
		if (autoreply_same(addr, conf->lists[i].from))
			return 1;
	}
	if (conf->general.domain != NULL) {
		snprintf(robot, sizeof robot, "bounces@%s",
		    conf->general.domain);
		if (autoreply_same(addr, robot))
			return 1;
		snprintf(robot, sizeof robot, "unsubscribe@%s",
		    conf->general.domain);
		if (autoreply_same(addr, robot))
			return 1;
	}
	return 0;
}

/* The characters between the addresses in a header's value. */
#define AUTOREPLY_HEADER_SEPS	" \t\r\n<>,;\""

/*
 * Does match(word, arg) hold for a word of s, words being separated by
 * any of seps?  A word too long to be an address is passed over.
 */
static int
autoreply_any_word(const char *s, const char *seps,
    int (*match)(const char *, const void *), const void *arg)
{
	char	 word[320];
	size_t	 n;

	for (; *s != '\0'; s += n) {
		s += strspn(s, seps);
		n = strcspn(s, seps);
		if (n > 0 && n < sizeof word) {
			memcpy(word, s, n);
			word[n] = '\0';
			if (match(word, arg))
				return 1;
		}
	}
	return 0;
}

static int
autoreply_word_own(const char *word, const void *conf)
{
	return autoreply_own(conf, word);
}

static int
autoreply_word_same(const char *word, const void *addr)
{
	return autoreply_same(addr, word);
}

/* Does an X-Loop header name postroom (its word, or one of its addresses)? */
static int
autoreply_loop(const struct conf *conf, const struct message *msg)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, "X-Loop") != 0)
			continue;
		v = autoreply_str(msg->headers[i].value);
		if (strcasestr(v, "postroom") != NULL ||
		    autoreply_any_word(v, AUTOREPLY_HEADER_SEPS,
		    autoreply_word_own, conf))
			return 1;
	}
	return 0;
}

/*
 * Is word one of the inbox's addresses: one of inbound.addresses (a
 * comma-separated list) or from_address?
 */
static int
autoreply_word_inbox(const char *word, const void *arg)
{
	const struct conf	*conf = arg;

	return autoreply_any_word(conf->inbound.addresses, " \t,",
	    autoreply_word_same, word) ||
	    autoreply_same(word, conf->general.from_address);
}

/*
 * Was it addressed to the inbox: one of inbound.addresses or from_address
 * in To, Cc, Resent-To or Resent-Cc?  Yes when no addresses are set.
 */
static int
autoreply_addressed(const struct conf *conf, const struct message *msg)
{
	size_t	 i;

	if (conf == NULL || conf->inbound.addresses == NULL ||
	    *conf->inbound.addresses == '\0')
		return 1;
	for (i = 0; i < msg->nto; i++) {
		if (autoreply_word_inbox(autoreply_str(msg->to[i].addr), conf))
			return 1;
	}
	for (i = 0; i < msg->nheaders; i++) {
		if (strcasecmp(msg->headers[i].name, "Resent-To") != 0 &&
		    strcasecmp(msg->headers[i].name, "Resent-Cc") != 0)
			continue;
		if (autoreply_any_word(autoreply_str(msg->headers[i].value),
		    AUTOREPLY_HEADER_SEPS, autoreply_word_inbox, conf))
			return 1;
	}
	return 0;
}

int
autoreply_allowed(const struct conf *conf, const struct message *msg,
    char *why, size_t size)
{
	const char	*v, *from = autoreply_str(msg->from.addr);

	if (autoreply_is_automatic(msg, why, size))
		return 0;
	if ((v = message_header(msg, "X-Auto-Response-Suppress")) != NULL &&
	    !autoreply_token_is(v, "none")) {
		autoreply_no(why, size, "X-Auto-Response-Suppress: %s", v);
		return 0;
	}
	if (message_header(msg, "X-Postroom-Reference") != NULL ||
	    message_header(msg, "X-Postroom-Lead") != NULL ||
	    autoreply_loop(conf, msg) ||
	    autoreply_own(conf, from) ||
	    autoreply_own(conf, autoreply_str(msg->return_path))) {
		autoreply_no(why, size, "postroom's own mail");
		return 0;
	}
	if (*autoreply_address(msg) == '\0') {
		autoreply_no(why, size, "no sender address to answer");
		return 0;
	}
	if (!autoreply_addressed(conf, msg)) {
		autoreply_no(why, size, "not addressed to the enquiries inbox "
		    "(a Bcc, or a list's copy)");
		return 0;
	}
	return 1;
}
