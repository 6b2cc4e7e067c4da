/*
 * user.h - staff accounts: roles, passwords, and the changes the CLI and
 * the console make to accounts.
 *
 * A role says what an account may do in the console (issue 14): admin
 * (everything, users and the audit log too), editor (lists, subscribers,
 * newsletters, enquiries), viewer (reads everything but exports of
 * personal data), lead (only the enquiries routed to its lead, whose key
 * the account names).  Passwords are hashed with Argon2id (libargon2)
 * and never kept, printed or logged; a check takes the same time whether
 * or not it matches.
 *
 * Every change is recorded in the audit log (store_event_by()) with who
 * made it ("cli:USER" from cmd_who(), "user:ID" from the console).
 */
#ifndef POSTROOM_USER_H
#define POSTROOM_USER_H

#include <stdint.h>

struct conf;
struct store;

enum user_role {
	USER_ADMIN,
	USER_EDITOR,
	USER_VIEWER,
	USER_LEAD,
	USER_NROLES
};

#define USER_PASSWORD_MIN	12	/* characters (NCSC: length, not rules) */
#define USER_PASSWORD_MAX	256	/* bytes */
#define USER_NAME_MAX		200	/* bytes */

const char	*user_role_name(enum user_role);
/* 0 with *role, or -1 for a name that is no role. */
int		 user_role_parse(const char *, enum user_role *);

/*
 * NULL when pw may be a password for the account email, else why not in
 * plain words: too short or long, the address itself, or a line break.
 */
const char	*user_password_refused(const char *pw, const char *email);
/* The Argon2id encoded hash of pw (caller frees), or NULL with *cause. */
char		*user_password_hash(const char *pw, char **cause);
/* 1 when pw matches the encoded hash, else 0 (also for a damaged hash). */
int		 user_password_matches(const char *hash, const char *pw);

/*
 * The changes.  Each checks its arguments (a valid address, a name, a
 * role, for a lead a lead key in conf and for others none, a password
 * user_password_refused() accepts), makes the change and its audit
 * record in one transaction, and returns 1 done, 0 with *cause when it
 * cannot be done as asked (no such account, one exists, bad arguments:
 * *cause in plain words), or -1 with *cause when the database failed.
 */
int	user_add(struct store *, const struct conf *, const char *email,
	    const char *name, const char *role, const char *lead,
	    const char *password, const char *actor, int64_t now, char **cause);
int	user_set_role(struct store *, const struct conf *, const char *email,
	    const char *role, const char *lead, const char *actor, int64_t now,
	    char **cause);
/*
 * Also 1 when the account already was (not) disabled: nothing to do.
 * Disabling, and a new password, end the account's sessions at once.
 */
int	user_set_disabled(struct store *, const char *email, int disabled,
	    const char *actor, int64_t now, char **cause);
int	user_reset_password(struct store *, const char *email,
	    const char *password, const char *actor, int64_t now,
	    char **cause);

/*
 * The second factor (RFC 6238 TOTP: HMAC-SHA1, 6 digits, 30 seconds,
 * through liboath), for the console's sign-in.
 */
#define USER_TOTP_KEY_LEN	20

/*
 * Give email's account a new second factor (on) or remove it (!on).  For
 * on, *uri is the otpauth:// URI for an authenticator app (its QR code),
 * which holds the key: show it to the person once, never log it.
 */
int	user_totp_set(struct store *, const char *email, int on,
	    const char *actor, int64_t now, char **uri, char **cause);
/*
 * Does code (6 digits) match key at now, allowing one step of clock
 * drift either way?  1 with *step, the time step it belongs to; else 0.
 */
int	user_totp_matches(const unsigned char *key, size_t len,
	    const char *code, int64_t now, int64_t *step);
/*
 * Check a code for account id and spend it: 1 when it matches and was
 * not used before (a code is good once), 0 when not (also for an
 * account without a second factor), -1 with *cause.
 */
int	user_totp_check(struct store *, int64_t id, const char *code,
	    int64_t now, char **cause);

/*
 * An actor as people read it: "user:ID" the account's name, "cli:USER"
 * "USER (command line)", anything else as it is; a new string.  -1 with
 * *cause when the database failed.
 */
int	user_actor_name(struct store *, const char *actor, char **name,
	    char **cause);

#endif
