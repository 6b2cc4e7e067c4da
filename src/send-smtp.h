/*
 * send-smtp.h - the SMTP transport's parts that do not need libcurl.
 *
 * The transport itself is send_smtp_ops (transport.h), in send-smtp.c, the
 * only file that includes <curl/curl.h>.  What is here is the plain logic
 * beside it, kept apart so that unit tests can reach it: gathering the
 * server's reply lines into the last whole reply, and deciding what a
 * transaction's outcome means for the message.
 */
#ifndef POSTROOM_SEND_SMTP_H
#define POSTROOM_SEND_SMTP_H

#include "buf.h"
#include "transport.h"

/* Longest reply kept (the outbox's last_reply); the rest is cut. */
#define SEND_SMTP_REPLY_MAX	512

/*
 * The server's replies as they arrive, one line at a time (libcurl hands
 * SMTP response lines to the header callback).  "250-..." lines are
 * continuations; "250 ..." ends a reply, which then becomes last.  Lines
 * may arrive in pieces: a line is complete at its LF.  Replies to QUIT
 * (221) are ignored: libcurl sends QUIT after a failed transaction, and
 * the reply worth keeping is the failure's.
 */
struct send_smtp_reply {
	struct buf	 line;	/* the line being read */
	struct buf	 cur;	/* the reply being read */
	struct buf	 last;	/* the last whole reply, lines joined by " " */
	int		 code;	/* last's code, 0 when none yet */
};

void	send_smtp_reply_init(struct send_smtp_reply *);
void	send_smtp_reply_reset(struct send_smtp_reply *);
void	send_smtp_reply_free(struct send_smtp_reply *);
void	send_smtp_reply_add(struct send_smtp_reply *, const char *, size_t);

/* Where in the transaction it ended. */
enum send_smtp_stage {
	SEND_SMTP_SESSION,	/* connect, greeting, EHLO, STARTTLS, AUTH */
	SEND_SMTP_ENVELOPE,	/* MAIL, RCPT, DATA */
	SEND_SMTP_MESSAGE,	/* the reply to the message's final dot */
};

/*
 * What a finished transaction means: ok says the transfer succeeded,
 * code is the last reply code (0: none).  Only a 5xx to the envelope or
 * to the message itself condemns the message; a 5xx to the session
 * (greeting, EHLO, AUTH), or a 530/534/535/538 at any stage (AUTH or TLS
 * required or refused), is the server's or our configuration's problem
 * and is tried again, as is anything without a reply (connection lost,
 * timeout).
 */
enum transport_status send_smtp_status(int ok, int code,
		    enum send_smtp_stage);

#endif
