/*
 * message.h - an inbound message as the router sees it: decoded, UTF-8,
 * independent of the MIME library that read it.
 *
 * mime-parse.c (libetpan, in the parser child) fills one from raw bytes;
 * route.c, autoreply.c and enquiry.c read it.  Every string is UTF-8 and
 * NUL-terminated, never NULL ("" when absent), owned by the struct message
 * and freed by message_free().
 *
 * message.c also packs one into bytes for the pipe from the parser child
 * (parser.c) and unpacks it on the daemon's side, checking everything:
 * the child is not trusted.
 */
#ifndef POSTROOM_MESSAGE_H
#define POSTROOM_MESSAGE_H

#include <stddef.h>

/* One header field: the name as written, the value unfolded and decoded. */
struct message_header {
	char	*name;
	char	*value;
};

struct message_address {
	char	*name;		/* display name, decoded; "" when none */
	char	*addr;		/* local@domain; "" when unparseable */
};

struct message_attachment {
	char	*filename;	/* decoded (RFC 2231 / 2047); "" when none */
	char	*type;		/* "application/pdf" */
	size_t	 size;		/* decoded bytes */
	/*
	 * The size decoded bytes themselves, only for the one attachment
	 * asked for (mime_parse_part(), parser_parse_part()); else NULL.
	 */
	char	*data;
};

enum message_status {
	MESSAGE_OK,		/* parsed cleanly */
	MESSAGE_DEFECTIVE,	/* parsed with repairs (bad encoding, ...) */
	MESSAGE_LIMITS,		/* cut short: size, depth or parts limit */
	MESSAGE_FAILED,		/* the parser died or timed out: raw only */
};

struct message {
	enum message_status		 status;
	char				*status_detail;	/* why, for the log */

	struct message_header		*headers;	/* in order */
	size_t				 nheaders;

	struct message_address		 from;
	struct message_address		 sender;	/* Sender:, or empty */
	struct message_address		 reply_to;	/* first Reply-To: */
	struct message_address		*to;		/* To: and Cc: */
	size_t				 nto;
	char				*return_path;	/* envelope sender as
							   delivered: "" for <> */
	char				*subject;
	char				*message_id;	/* without < > */
	char				*in_reply_to;	/* as written */
	char				*references;	/* as written */
	char				*date;

	/*
	 * text/plain parts, then text/html parts turned into text (of a
	 * multipart/alternative, only the text/plain one when there is
	 * one); attachments and attached messages are not in it.  Lines
	 * end in "\n"; cut at mime_parse_limits.max_text (MESSAGE_LIMITS).
	 */
	char				*body_text;
	int				 body_from_html; /* no text/plain part */

	struct message_attachment	*attachments;
	size_t				 nattachments;

	int				 is_report;	/* multipart/report (DSN) */
	char				*report_type;	/* "delivery-status" */
	size_t				 nparts;
	size_t				 depth;

	/*
	 * multipart/report (RFC 3464): the first recipient's fields, and
	 * the Message-ID of the message that came back (from the
	 * message/rfc822 or text/rfc822-headers part).  "" when absent.
	 */
	char				*report_recipient; /* Final-Recipient,
							      "rfc822;" dropped */
	char				*report_action;	/* "failed", "delayed" */
	char				*report_status;	/* "5.2.1" */
	char				*report_diagnostic; /* Diagnostic-Code,
							       "smtp;" dropped */
	char				*report_message_id; /* without < > */
};

struct buf;

/* A new message: status MESSAGE_OK, every string "", no arrays. */
struct message	*message_new(void);
/* A new message with status MESSAGE_FAILED and detail (copied). */
struct message	*message_new_failed(const char *detail);

/* The first header called name (case-insensitive), or NULL. */
const char	*message_header(const struct message *, const char *name);
void		 message_free(struct message *);

/* Append m, packed, to b.  Returns 0, or -1 past b's cap. */
int		 message_pack(const struct message *m, struct buf *b);
/*
 * Unpack what message_pack() wrote.  Returns a new message, or NULL with
 * *cause (caller frees) when the bytes are not exactly one well-formed
 * packed message with valid UTF-8 strings free of NULs.
 */
struct message	*message_unpack(const void *p, size_t len, char **cause);

#endif
