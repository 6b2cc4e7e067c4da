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

/*
 * A forward made again from the record, for a re-route: the enquiry e
 * as recorded, raw[0..len) its message as kept (attached as received),
 * the lead it goes to, reason ("why it came to you", in plain words),
 * note (staff's own words; NULL or "" for none), acked_lead (the name of
 * the lead the acknowledgement named; NULL: lead's) and dedup, the key
 * of this forward ("forward:REF:route:ID": each address is appended, so
 * that a forward made twice is queued once).
 */
struct conf_lead;
struct store_enquiry;
struct enquiry_reforward {
	const struct store_enquiry	*e;
	const char			*raw;
	size_t				 len;
	const struct conf_lead		*lead;
	const char			*reason;
	const char			*note;
	const char			*acked_lead;
	const char			*dedup;
};
/*
 * Queue f's forward exactly as enquiry_receive() queues the first (the
 * same template, headers and attachment), in the caller's transaction.
 * 0, or -1 with *cause.
 */
int	enquiry_forward_recorded(const struct conf *, struct store *,
	    const struct enquiry_reforward *f, char **cause);

/*
 * enquiry-act.c: what staff do with an enquiry once it is routed, from
 * the CLI ("postroom enquiry answered|reroute") and the console alike.
 * who is "user:ID" (the console) or "cli:USER" (cmd_who()), kept with
 * the change and in the audit log; now is the time of the change.  Each
 * returns 1 when done, 0 with *cause in plain words when it cannot be
 * done as asked (no such enquiry, no such lead, the lead it has ...),
 * or -1 with *cause when the database failed (store_busy() tells a busy
 * one).
 *
 * enquiry_answered: mark the enquiry answered (answered 1) or not
 * answered after all (0); also 1 when it already was so (nothing
 * changes, nothing is logged).
 *
 * enquiry_reroute: send the enquiry to new_lead: a new forward queued
 * exactly as the router's (enquiry_forward_recorded()), the enquiry's
 * lead and routing time changed, the re-route (from, to, who, note,
 * when) recorded in its history and the audit log, all in one
 * transaction.  note may be NULL; one enquiry_note_refused() refuses is
 * refused.
 *
 * enquiry_note_refused: NULL when note (NULL: none) may be a re-route's
 * note, else why not in plain words: at most ENQUIRY_NOTE_MAX characters
 * of UTF-8 text (line breaks are kept, other control characters become
 * spaces).
 */
#define ENQUIRY_NOTE_MAX	1000
#define ENQUIRY_NOTE_MAX_TEXT	"1,000"
const char *enquiry_note_refused(const char *note);
int	enquiry_answered(struct store *, const char *reference, int answered,
	    const char *who, int64_t now, char **cause);
int	enquiry_reroute(const struct conf *, struct store *,
	    const char *reference, const char *new_lead, const char *note,
	    const char *who, int64_t now, char **cause);

#endif
