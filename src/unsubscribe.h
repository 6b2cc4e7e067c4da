/*
 * unsubscribe.h - mail sent to the mailto address of a newsletter's
 * List-Unsubscribe header (RFC 2369): unsubscribe+TOKEN@DOMAIN, where
 * DOMAIN is general.domain and TOKEN an unsubscribe token (token.h) that
 * names the subscriber and, through its campaign, the list.
 *
 * Such mail is an unsubscribe request and never an enquiry, whatever its
 * token: unsubscribe_addressed() tells it by its recipients alone, and
 * unsubscribe_receive() checks the token, moves the membership through
 * store_member_set_status() (as the web's unsubscribe link does, method
 * "mail") and records the request in one transaction, so that the same
 * message read again acts and counts once.  A forged, expired or misused
 * token is recorded as such and changes nothing.  Nothing is sent: no
 * acknowledgement, no forward.
 *
 * Owns: the shape of the mailto address (UNSUBSCRIBE_PREFIX, used by
 * newsletter.c to make it), recognising it in a message, what each token
 * outcome means.  Does not own: the token format (token.c), the membership
 * move and its audit record (store-subscriber.c), filing the message
 * (the sources, once enquiry_receive() returns).
 */
#ifndef POSTROOM_UNSUBSCRIBE_H
#define POSTROOM_UNSUBSCRIBE_H

#include <stdint.h>
#include <time.h>

#include "token.h"

/* The local part of the address, before the token. */
#define UNSUBSCRIBE_PREFIX	"unsubscribe+"

struct conf;
struct message;
struct store;
struct store_member;

enum unsubscribe_outcome {
	UNSUBSCRIBE_DONE,	/* they left the list */
	UNSUBSCRIBE_ALREADY,	/* not on the list (any more): nothing to do */
	UNSUBSCRIBE_UNKNOWN,	/* our token, but no such subscriber or list */
	UNSUBSCRIBE_FORGED,	/* not our token (bad signature, malformed) */
	UNSUBSCRIBE_EXPIRED,	/* our unsubscribe token, past its expiry */
	UNSUBSCRIBE_MISUSED,	/* our token, made for something else */
	UNSUBSCRIBE_SEEN,	/* this message was handled before */
};

struct unsubscribe_result {
	enum unsubscribe_outcome outcome;
	int64_t			 subscriber;	/* 0 when not known */
	char			 list[TOKEN_LIST_MAX + 1];	/* or "" */
};

/* "done", "already", ... as the mail_unsubscribes table has them. */
const char	*unsubscribe_outcome_name(enum unsubscribe_outcome);

/*
 * 1 when msg is addressed to UNSUBSCRIBE_PREFIX...@ conf's general.domain
 * (case-insensitive) in To, Cc, Delivered-To, X-Original-To, Envelope-To
 * or X-Envelope-To; 0 when not.  The token is not looked at.
 */
int	unsubscribe_addressed(const struct conf *, const struct message *);

/*
 * Act on and record one such message at time now.  message_key is its
 * "<Message-ID>" (else "sha256:HASH"), source where it came from ("pipe",
 * "imap:UID", ...); msg must be unsubscribe_addressed().  Of several
 * such addresses, the one with the best token counts (a valid one, else
 * expired, misused, forged).  Returns 0 with *res filled, or -1 with
 * *cause when nothing could be recorded (store_busy() tells a busy
 * database): nothing changed, try again.
 */
int	unsubscribe_receive(const struct conf *,
	    const unsigned char key[TOKEN_KEY_LEN], struct store *,
	    const struct message *, const char *message_key,
	    const char *source, time_t now, struct unsubscribe_result *,
	    char **cause);

/*
 * Whether unsubscribe token t belongs to an earlier subscription than
 * membership m: made before they last joined the list (confirmed_at) or
 * last left it (unsubscribed_at), so that an old link does nothing once
 * they have subscribed again.  Times are in seconds, as the store keeps
 * them; a token made in the very second they joined is current.  The web
 * page and the mailto address both ask.
 */
int	unsubscribe_token_stale(const struct token *t,
	    const struct store_member *m);

#endif
