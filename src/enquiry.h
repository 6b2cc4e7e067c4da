/*
 * enquiry.h - what postroom does with one inbound message.
 *
 * enquiry_receive() takes a raw message and its decoded form, decides
 * (a reply to an existing enquiry, a bounce, an unsubscribe request sent
 * to a newsletter's mailto address (unsubscribe.h), or a new enquiry
 * routed by the rules), and in ONE transaction records the enquiry row and
 * queues
 * the forward to every address of the lead and, where RFC 3834 allows,
 * the acknowledgement to the enquirer.  Only after it returns 0 may the
 * source file the message away (Maildir cur/, IMAP Routed): a crash in
 * between means the message is seen again, found by its Message-ID (or
 * content hash) and not routed twice.
 *
 * Owns: the enquiry reference, the forward and acknowledgement messages.
 * Does not own: parsing (parser.c), the decision (route.c, autoreply.c),
 * sending (the delivery engine reads the outbox).
 *
 * Memory: a struct enquiry_env holds the parsed templates and the compiled
 * router for one configuration; the caller frees it with enquiry_close()
 * and makes a new one after a reload.
 */
#ifndef POSTROOM_ENQUIRY_H
#define POSTROOM_ENQUIRY_H

#include <stddef.h>
#include <stdint.h>

struct conf;
struct message;
struct store;
struct enquiry_env;

enum enquiry_outcome {
	ENQUIRY_ROUTED,		/* a new enquiry, forwarded */
	ENQUIRY_REPLY,		/* carries a known reference: same lead */
	ENQUIRY_DUPLICATE,	/* seen before: nothing done again */
	ENQUIRY_BOUNCE,		/* a delivery report: recorded, not routed */
	ENQUIRY_UNSUBSCRIBE,	/* to unsubscribe+TOKEN@: recorded (and
				   acted on when the token is good), not
				   routed, nothing sent */
};

struct enquiry_result {
	enum enquiry_outcome	 outcome;
	char			 reference[32];	/* "" for a bounce or an
						   unsubscribe request */
	char			 lead[64];
	char			 rule[64];
	int			 acked;		/* an acknowledgement queued */
	char			 why_no_ack[128];
	/* ENQUIRY_UNSUBSCRIBE: unsubscribe_outcome_name(), e.g. "done". */
	char			 unsubscribe[16];
};

struct enquiry_env	*enquiry_open(const struct conf *, char **cause);
void			 enquiry_close(struct enquiry_env *);

/*
 * Record and act on one message.  source says where it came from
 * ("maildir:NAME", "imap:UID", "pipe"); msg is its decoded form (status
 * MESSAGE_FAILED when the parser could not read it: it then goes to the
 * default lead with the raw message attached).  Returns 0, or -1 with
 * *cause (addresses masked) when nothing could be recorded (try again
 * later; store_busy() tells a busy database).  Failures other than a busy
 * database are counted in the store per message; after the third the
 * next call records the message as unreadable and forwards it as
 * received to the default lead, unacknowledged.
 */
int	enquiry_receive(struct enquiry_env *, struct store *, const char *raw,
	    size_t len, const struct message *msg, const char *source,
	    struct enquiry_result *, char **cause);

/* "ENQ-2026-00042" from prefix, year and number; buf holds >= 32. */
void	enquiry_format_reference(char *buf, size_t size, const char *prefix,
	    int year, int64_t n);

#endif
