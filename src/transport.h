/*
 * transport.h - where outgoing messages go: one small table of function
 * pointers and one file per way out (as OpenSMTPD's queue backends):
 *
 *	send-smtp.c	smtp:// and smtps:// through libcurl, many
 *			connections at once in one multi handle, each
 *			reused (see its head comment for who speaks what)
 *	send-maildir.c	maildir:PATH, for development and tests
 *
 * The delivery engine (deliver.c) sees only this interface.  A transport
 * takes up to slots() messages at a time; each submitted message comes
 * back exactly once through the callback given to run(), with what the
 * far end said.  One recipient per message: the outbox has one row per
 * recipient, and each row's fate is its own server's reply.
 *
 * Threads: a struct transport belongs to one thread (the engine's), except
 * wakeup(), which any thread may call to make a waiting run() return.
 *
 * Ownership: the transport does not copy the message or the envelope;
 * they must stay as they are until their result has come back.  Strings
 * in a struct transport_result live only during the callback.
 */
#ifndef POSTROOM_TRANSPORT_H
#define POSTROOM_TRANSPORT_H

#include <stddef.h>

struct conf;
struct transport;

struct transport_msg {
	const char	*mail_from;	/* envelope sender; "" for <> */
	const char	*rcpt_to;	/* the one recipient */
	const char	*data;		/* the message, CRLF line ends */
	size_t		 len;
	void		*cookie;	/* handed back with the result */
};

enum transport_status {
	TRANSPORT_OK,		/* accepted: 2xx */
	TRANSPORT_TEMPFAIL,	/* 4xx, connection or timeout: try again */
	TRANSPORT_PERMFAIL,	/* 5xx: never going to work */
};

struct transport_result {
	void			*cookie;
	enum transport_status	 status;
	int			 code;	/* last SMTP reply code; 0 when none */
	/* The last reply ("250 2.0.0 Ok: queued as 4Fx"), or the error. */
	const char		*reply;
};

struct transport_ops {
	const char	*name;
	/* Set up from conf->smtp (no connection is made yet). */
	struct transport *(*open)(const struct conf *, char **cause);
	/* How many more messages submit() takes now. */
	int		 (*slots)(struct transport *);
	/* Start sending one message: 0, or -1 with *cause (nothing started). */
	int		 (*submit)(struct transport *,
			     const struct transport_msg *, char **cause);
	/*
	 * Move messages along: wait up to timeout_ms (0: do not wait) for
	 * something to happen, then call done for every message finished.
	 * Returns without the full wait when one finished or on wakeup().
	 * 0, or -1 with *cause when the transport itself broke.
	 */
	int		 (*run)(struct transport *, int timeout_ms,
			     void (*done)(const struct transport_result *,
			     void *), void *arg, char **cause);
	/* Any thread: make a waiting run() return soon. */
	void		 (*wakeup)(struct transport *);
	/* Give up on every message in flight: each comes back TEMPFAIL. */
	void		 (*abort)(struct transport *,
			     void (*done)(const struct transport_result *,
			     void *), void *arg);
	/* Close connections politely (QUIT) and free.  Nothing in flight. */
	void		 (*close)(struct transport *);
};

extern const struct transport_ops	send_smtp_ops;
extern const struct transport_ops	send_maildir_ops;

#endif
