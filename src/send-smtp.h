/*
 * send-smtp.h - the SMTP transport's parts that do not need libcurl.
 *
 * The transport itself is send_smtp_ops (transport.h), in send-smtp.c, the
 * only file that includes <curl/curl.h>.  What is here is the plain logic
 * beside it, in send-smtp-text.c, kept apart so that unit tests and the
 * fuzzer can reach it: gathering the server's reply lines into whole
 * replies, reading the EHLO reply's extensions, dot-stuffing a message,
 * and deciding what a transaction's outcome means for the message.
 */
#ifndef POSTROOM_SEND_SMTP_H
#define POSTROOM_SEND_SMTP_H

#include "buf.h"
#include "transport.h"

/* Longest reply kept (the outbox's last_reply); the rest is cut. */
#define SEND_SMTP_REPLY_MAX	512

/*
 * The server's replies as they arrive, as bytes from the connection or
 * lines from libcurl's header callback.  "250-..." lines are
 * continuations; "250 ..." ends a reply, which then becomes last.  Lines
 * may arrive in pieces: a line is complete at its LF.  Replies to QUIT
 * (221) are ignored: the reply worth keeping is never QUIT's.
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
/*
 * Take bytes up to the end of the next whole reply: returns how many were
 * used, and *whole is 1 when a reply ended there (it is in last and code).
 * Pipelined replies come several to a read; each is looked at in turn.
 */
size_t	send_smtp_reply_feed(struct send_smtp_reply *, const char *,
	    size_t, int *whole);

/*
 * The service extensions the server named in its EHLO reply that postroom
 * uses (RFC 2920 PIPELINING, RFC 1870 SIZE).  Fed every reply line
 * libcurl reads while it connects (greeting, EHLO, STARTTLS, EHLO again,
 * AUTH): a new 250 reply starts the list again, so that what counts is
 * the last EHLO, the one after TLS.
 */
struct send_smtp_ehlo {
	int		 pipelining;
	int		 size;		/* SIZE offered */
	long long	 size_max;	/* its limit; 0: none given */
	int		 in250;		/* inside a "250-" reply */
};

void	send_smtp_ehlo_line(struct send_smtp_ehlo *, const char *, size_t);

/*
 * Append a message to out as the DATA phase carries it (RFC 5321 4.5.2):
 * a "." added before every line that starts with one, then CRLF "." CRLF
 * (the message's own CRLF ends its last line; one is added if it has
 * none).  The message has CRLF line ends; a line after a bare LF is
 * stuffed too, for servers that end lines there.  0, or -1 past out's
 * cap.
 */
int	send_smtp_dot_stuff(struct buf *out, const char *data, size_t len);

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
