/*
 * signin.c - signing in to the console (see signin.h).
 *
 * Owns: the order of the checks, the limits on attempts, what is
 * recorded.  Does not own: passwords and codes (user.c), sessions
 * (session.c), the login page (the console).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "crypto.h"
#include "hex.h"
#include "signin.h"
#include "store.h"
#include "user.h"
#include "web.h"
#include "xmalloc.h"

/* Count one attempt under key: 1 when over limit, 0 not, -1. */
static int
signin_count(struct store *s, const struct signin *in, const char *kind,
    const char *what, int limit, char **cause)
{
	unsigned char	 md[CRYPTO_SHA256_LEN];
	char		 hex[2 * CRYPTO_SHA256_LEN + 1], *key;
	int64_t		 n;
	int		 rc;

	/* Keyed: no address in the rate-limit table, nor one to guess. */
	crypto_hmac_sha256(in->key, TOKEN_KEY_LEN, what, strlen(what), md);
	hex_encode(md, sizeof md, hex);
	key = xprintf("web.signin.%s:%.32s", kind, hex);
	rc = store_web_hit(s, key, in->now, SIGNIN_WINDOW, &n, cause);
	free(key);
	if (rc == -1)
		return -1;
	return n > limit;
}

int
signin_try(struct store *s, const struct signin *in, enum signin_result *res,
    char *session, int64_t *user_id, char **cause)
{
	struct store_user	 u;
	const char		*why = NULL, *subject;
	char			*norm = NULL, *c2 = NULL, *actor, *dummy, *acct;
	int			 found = 0, over, pw_ok, rc = -1;

	*res = SIGNIN_REFUSED;
	*user_id = 0;
	memset(&u, 0, sizeof u);
	if (address_normalise(in->email, &norm, &c2) != 0) {
		free(c2);
		c2 = NULL;
		norm = NULL;
	}
	subject = norm != NULL ? norm : "(not an address)";

	/* Step 1: the limits, before any password is looked at. */
	if ((over = signin_count(s, in, "client", in->client,
	    SIGNIN_PER_CLIENT, cause)) == -1)
		goto out;
	/* One account whatever the case it is typed in. */
	acct = norm != NULL ? address_key(norm) : xstrdup(subject);
	if (!over && (over = signin_count(s, in, "account", acct,
	    SIGNIN_PER_ACCOUNT, cause)) == -1) {
		free(acct);
		goto out;
	}
	free(acct);
	if (over) {
		*res = SIGNIN_THROTTLED;
		why = "too many attempts";
		goto record;
	}

	/* Step 2: the account and the password, alike in time if none. */
	if (norm != NULL &&
	    (found = store_user_get(s, norm, &u, cause)) == -1)
		goto out;
	if (!found) {
		dummy = user_password_hash(in->password, &c2);
		free(dummy);
		free(c2);
		c2 = NULL;
		why = "no such account";
		goto record;
	}
	pw_ok = user_password_matches(u.password_hash, in->password);
	if (!pw_ok) {
		why = "wrong password";
		goto record;
	}
	if (u.disabled) {
		why = "account disabled";
		goto record;
	}

	/* Step 3: the second factor, asked for only now. */
	if (in->admin_totp && !u.has_totp && strcmp(u.role, "admin") == 0) {
		*res = SIGNIN_NEED_TOTP;
		why = "admin without a second factor (console.admin_totp)";
		goto record;
	}
	if (u.has_totp) {
		if (in->code == NULL || *in->code == '\0') {
			*res = SIGNIN_NEED_CODE;
			rc = 0;
			goto out;
		}
		if ((rc = user_totp_check(s, u.id, in->code, in->now,
		    cause)) == -1)
			goto out;
		if (rc == 0) {
			why = "wrong or used code";
			goto record;
		}
	}

	/* Step 4: a new session, whatever the browser had before. */
	if (session_start(s, u.id, in->now, session, cause) == -1)
		goto out;
	*res = SIGNIN_OK;
	*user_id = u.id;

record:
	actor = found ? xprintf("user:%lld", (long long)u.id) : NULL;
	store_event_by(s, actor, *res == SIGNIN_OK ? "user.signin" :
	    "user.signin-failed", subject, why);
	free(actor);
	rc = 0;
out:
	store_user_clear(&u);
	free(norm);
	return rc;
}
