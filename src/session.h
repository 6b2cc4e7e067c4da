/*
 * session.h - console sign-ins: random identifiers kept only as hashes,
 * their timeouts, and the CSRF token bound to each.
 *
 * A session is 32 random bytes, given to the browser as 64 hex digits in
 * the postroom_session cookie and stored as the SHA-256 of those digits,
 * so that a copy of the database signs nobody in.  It ends after
 * SESSION_IDLE of no use, SESSION_MAX after sign-in, at sign-out, and at
 * once when its account is disabled or given a new password.  Every
 * sign-in makes a new one (no fixation).  The CSRF token of a session is
 * an HMAC of its identifier under the token key: nothing more to store,
 * and useless for any other session.  Times are the caller's "now".
 */
#ifndef POSTROOM_SESSION_H
#define POSTROOM_SESSION_H

#include <stdint.h>

#include "token.h"

struct store;

#define SESSION_IDLE	(30 * 60)	/* seconds without a request */
#define SESSION_MAX	(12 * 60 * 60)	/* seconds after sign-in */
#define SESSION_REAUTH	(15 * 60)	/* then erasure etc. ask again */
#define SESSION_ID_LEN	64		/* hex digits */
#define SESSION_CSRF_LEN 64		/* hex digits */

struct session {
	int64_t		 id;		/* the row, not the secret */
	int64_t		 user_id;
	int64_t		 created_at;
	int64_t		 seen_at;
	int64_t		 signed_in_at;
};

/* A new session for user_id: 0 with id (SESSION_ID_LEN + NUL), or -1. */
int	session_start(struct store *, int64_t user_id, int64_t now,
	    char *id, char **cause);
/*
 * The live session named by id (from a cookie: any text): 1 with *ss
 * (and its use recorded), 0 for none, expired (then deleted) or of a
 * disabled account, -1 with *cause.
 */
int	session_find(struct store *, const char *id, int64_t now,
	    struct session *ss, char **cause);
/* Sign out: 0 (also when there was no such session), or -1. */
int	session_end(struct store *, const char *id, char **cause);
/* 1 when the sign-in was under SESSION_REAUTH ago. */
int	session_recent(const struct session *, int64_t now);
/* The CSRF token of session id into out (SESSION_CSRF_LEN + NUL). */
void	session_csrf(const unsigned char key[TOKEN_KEY_LEN], const char *id,
	    char *out);
/* 1 when given is the CSRF token of session id; constant time. */
int	session_csrf_ok(const unsigned char key[TOKEN_KEY_LEN], const char *id,
	    const char *given);

#endif
