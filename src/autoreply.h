/*
 * autoreply.h - may postroom acknowledge this message?  (RFC 3834, the
 * rules Sieve's vacation action follows.)
 *
 * No acknowledgement goes to:
 *   - a message with Auto-Submitted other than "no" (out-of-office
 *     replies, other robots, postroom's own acknowledgements);
 *   - Precedence: bulk, list or junk;
 *   - a message with any List-* header (List-Id, List-Unsubscribe, ...);
 *   - an empty envelope sender (Return-Path: <>) or a MAILER-DAEMON one;
 *   - a delivery or other report (multipart/report);
 *   - senders whose local part says they read nothing: noreply, no-reply,
 *     do-not-reply, donotreply, and the list robots RFC 3834 names
 *     (MAILER-DAEMON, LISTSERV, majordomo, owner-*, *-request);
 *   - X-Auto-Response-Suppress with any value but "None";
 *   - postroom's own mail (its From addresses or an X-Postroom-* header);
 *   - a message with no usable sender address at all.
 * "At most one per sender per day" needs the store: enquiry.c adds it
 * after autoreply_allowed() says yes, keyed on autoreply_address().
 *
 * Owns: this decision and its reason.  Does not own: sending (enquiry.c),
 * routing (route.c).  Pure: no I/O, no globals, no allocation.
 */
#ifndef POSTROOM_AUTOREPLY_H
#define POSTROOM_AUTOREPLY_H

#include <stddef.h>

struct conf;
struct message;

/* Room for any reason autoreply_*() writes. */
#define AUTOREPLY_WHY_MAX	128

/*
 * 1 when an acknowledgement may be sent (store limits aside), else 0 with
 * the reason in why ("Precedence: bulk", "sender is noreply@x.org", ...),
 * cut to fit size.  conf (may be NULL) names postroom's own addresses.
 */
int		 autoreply_allowed(const struct conf *, const struct message *,
		     char *why, size_t size);

/*
 * 1 when a machine sent the message (Auto-Submitted, Precedence, List-*,
 * null or MAILER-DAEMON sender, a noreply or robot sender, a report),
 * with the reason in why; 0 otherwise.  Narrower than "no
 * acknowledgement": a person's mail may carry X-Auto-Response-Suppress.
 * The rules' "automatic" condition is this.
 */
int		 autoreply_is_automatic(const struct message *, char *why,
		     size_t size);

/*
 * The address an acknowledgement goes to and is counted against (RFC
 * 3834 section 4: the envelope sender when there is one, else From); ""
 * when there is none.  Points into the message.
 */
const char	*autoreply_address(const struct message *);

#endif
