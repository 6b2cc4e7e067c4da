/*
 * signin.h - signing in to the console: the one decision, for the login
 * page (and for anything else that ever signs staff in).
 *
 * An address, a password and, for an account with a second factor, a
 * code: a new session when all are right and the account is enabled;
 * otherwise one refusal that never says which part was wrong or whether
 * the account exists, taking as long either way (an unknown address
 * costs an Argon2id hash like a known one).  Attempts are limited per
 * account (SIGNIN_PER_ACCOUNT in SIGNIN_WINDOW) and per client
 * (SIGNIN_PER_CLIENT), counted whatever their outcome, in the database so
 * that the limits hold for every thread and across restarts.  Each
 * attempt is an audit event (user.signin, user.signin-failed with why);
 * the address in rate-limit keys is an HMAC under the token key, so the
 * table names nobody even to whoever can list every address.
 */
#ifndef POSTROOM_SIGNIN_H
#define POSTROOM_SIGNIN_H

#include <stdint.h>

#include "session.h"

struct store;

#define SIGNIN_WINDOW		(15 * 60)
#define SIGNIN_PER_ACCOUNT	10
#define SIGNIN_PER_CLIENT	30

struct signin {
	const char	*email;		/* as typed */
	const char	*password;
	const char	*code;		/* "" or NULL when none was given */
	const char	*client;	/* the client's rate-limit key */
	const unsigned char *key;	/* the token key: hashes the limits */
	int		 admin_totp;	/* console.admin_totp */
	int64_t		 now;
};

enum signin_result {
	SIGNIN_OK,
	SIGNIN_REFUSED,		/* wrong, unknown, disabled: one answer */
	SIGNIN_NEED_CODE,	/* right password; ask for the code */
	SIGNIN_THROTTLED,	/* too many attempts: try later */
	SIGNIN_NEED_TOTP,	/* right password, an admin with no second
				   factor under console.admin_totp */
};

/*
 * Try a sign-in: *res says how it went; for SIGNIN_OK, session (of
 * SESSION_ID_LEN + 1) names the new session and *user_id its account.
 * 0, or -1 with *cause when the database failed.  SIGNIN_NEED_CODE is
 * said only after the right password, so it reveals nothing to whoever
 * does not know it.
 */
int	signin_try(struct store *, const struct signin *,
	    enum signin_result *res, char *session, int64_t *user_id,
	    char **cause);

#endif
