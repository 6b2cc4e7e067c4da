/*
 * smtp-explain.c - SMTP replies in plain words (smtp-explain.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "smtp-explain.h"

/* By enhanced status (class any: "X.1.1"), most precise first. */
static const struct {
	int		 subject;
	int		 detail;	/* -1: any */
	const char	*words;
} smtp_enhanced[] = {
	{ 1, 1, "The address does not exist at the receiving server: "
	    "a typing mistake, or the person has left." },
	{ 1, 2, "The address's domain does not exist or takes no mail: "
	    "check the part after the @." },
	{ 1, 3, "The address is not written correctly." },
	{ 1, 10, "The address's domain says it takes no mail." },
	{ 1, -1, "The receiving server does not accept mail for this "
	    "address." },
	{ 2, 1, "The mailbox is closed or disabled." },
	{ 2, 2, "The mailbox is full." },
	{ 2, 3, "The message is too big for this mailbox." },
	{ 2, -1, "There is a problem with the person's mailbox." },
	{ 3, 4, "The message is too big for the receiving server." },
	{ 3, -1, "The receiving mail system has a problem of its own." },
	{ 4, 7, "The message took too long to deliver and was given up." },
	{ 4, -1, "The message could not be routed to the receiving "
	    "server." },
	{ 5, -1, "The receiving server did not understand our server: "
	    "tell whoever runs postroom." },
	{ 6, -1, "The receiving server could not handle the message's "
	    "format." },
	{ 7, 1, "The receiving server refused the message by its own rules "
	    "(often a spam filter, or senders it does not allow)." },
	{ 7, 23, "The receiving server says our server may not send for "
	    "our domain (SPF): tell whoever runs postroom." },
	{ 7, 26, "The receiving server could not check our signature "
	    "(DKIM or DMARC): tell whoever runs postroom." },
	{ 7, -1, "The receiving server refused the message for security or "
	    "policy reasons." },
};

/* "X.Y.Z" at the start of the reply's text: 1 with y and z. */
static int
smtp_enhanced_code(const char *reply, int *y, int *z)
{
	const char	*p = reply;
	char		*end;
	long		 a, b, c;

	while (isdigit((unsigned char)*p))
		p++;	/* the reply code, when the text keeps it */
	while (*p == ' ' || *p == '-')
		p++;
	if (*p != '2' && *p != '4' && *p != '5')
		return 0;
	a = strtol(p, &end, 10);
	if (*end != '.' || a < 2 || a > 5)
		return 0;
	b = strtol(end + 1, &end, 10);
	if (*end != '.' || b < 0 || b > 999)
		return 0;
	c = strtol(end + 1, &end, 10);
	if (c < 0 || c > 999 || (*end != ' ' && *end != '\0'))
		return 0;
	*y = (int)b;
	*z = (int)c;
	return 1;
}

const char *
smtp_explain(int code, const char *reply)
{
	size_t	i;
	int	y, z;

	if (code == 0)
		return "Our server could not reach the receiving server (or "
		    "lost the connection) and gave up after trying for the "
		    "configured time.";
	if (reply != NULL && smtp_enhanced_code(reply, &y, &z)) {
		for (i = 0; i < sizeof smtp_enhanced /
		    sizeof smtp_enhanced[0]; i++) {
			if (smtp_enhanced[i].subject == y &&
			    (smtp_enhanced[i].detail == -1 ||
			    smtp_enhanced[i].detail == z))
				return smtp_enhanced[i].words;
		}
	}
	switch (code) {
	case 421:
		return "The receiving server was too busy or closing, and "
		    "kept refusing until postroom gave up.";
	case 450:
	case 451:
	case 452:
		return "The receiving server kept asking us to try later "
		    "until postroom gave up.";
	case 550:
		return "The mailbox is not available (most often: there is "
		    "no such address).";
	case 551:
	case 553:
		return "The receiving server does not accept this address.";
	case 552:
		return "The mailbox is full, or the message is too big for "
		    "it.";
	case 554:
		return "The receiving server refused the message (often as "
		    "spam).";
	}
	if (code >= 400 && code < 500)
		return "A problem the receiving server called temporary "
		    "lasted until postroom gave up.";
	if (code >= 500 && code < 600)
		return "The receiving server refused the message for good.";
	return "The receiving server gave an answer postroom does not "
	    "understand.";
}
