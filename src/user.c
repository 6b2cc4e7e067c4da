/*
 * user.c - staff accounts: roles, Argon2id passwords, and the changes
 * made to accounts, each with its audit record.  See user.h.
 *
 * Owns: the role names, what a password must be, the hash's parameters,
 * the checks on an account's fields.  Does not own: the SQL (store-user.c),
 * reading a password from a person (cmd-user.c), sessions (the console).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <argon2.h>
#include <liboath/oath.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "address.h"
#include "conf.h"
#include "store.h"
#include "user.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * Argon2id at OWASP's first recommended setting (19 MiB, 2 passes, one
 * lane): about 30 ms here, affordable for every sign-in, costly for
 * someone trying a stolen database's hashes.  The parameters are kept in
 * each encoded hash, so raising them later leaves old hashes readable.
 */
#define USER_ARGON2_T		2
#define USER_ARGON2_M		(19 * 1024)	/* KiB */
#define USER_ARGON2_P		1
#define USER_SALT_LEN		16
#define USER_HASH_LEN		32

static const char *const user_roles[USER_NROLES] = {
	[USER_ADMIN] = "admin",
	[USER_EDITOR] = "editor",
	[USER_VIEWER] = "viewer",
	[USER_LEAD] = "lead",
};

const char *
user_role_name(enum user_role r)
{
	return r >= 0 && r < USER_NROLES ? user_roles[r] : "?";
}

int
user_role_parse(const char *s, enum user_role *r)
{
	int	i;

	for (i = 0; i < USER_NROLES; i++) {
		if (strcmp(s, user_roles[i]) == 0) {
			*r = (enum user_role)i;
			return 0;
		}
	}
	return -1;
}

/* How many characters (not bytes) valid UTF-8 s holds. */
static size_t
user_chars(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

const char *
user_password_refused(const char *pw, const char *email)
{
	size_t	len = strlen(pw);

	if (strpbrk(pw, "\r\n") != NULL)
		return "a password is one line";
	if (!utf8_valid(pw, len))
		return "the password is not valid UTF-8 text";
	if (user_chars(pw) < USER_PASSWORD_MIN)
		return "a password needs at least 12 characters (three or "
		    "four words you will remember make a good one)";
	if (len > USER_PASSWORD_MAX)
		return "a password may be at most 256 bytes long";
	if (email != NULL && strcasecmp(pw, email) == 0)
		return "the password may not be the address itself";
	return NULL;
}

char *
user_password_hash(const char *pw, char **cause)
{
	unsigned char	 salt[USER_SALT_LEN];
	size_t		 len;
	char		*out;
	int		 rc;

	if (RAND_bytes(salt, sizeof salt) != 1) {
		*cause = xstrdup("no random bytes for a password's salt");
		return NULL;
	}
	len = argon2_encodedlen(USER_ARGON2_T, USER_ARGON2_M, USER_ARGON2_P,
	    sizeof salt, USER_HASH_LEN, Argon2_id);
	out = xmalloc(len);
	rc = argon2id_hash_encoded(USER_ARGON2_T, USER_ARGON2_M,
	    USER_ARGON2_P, pw, strlen(pw), salt, sizeof salt, USER_HASH_LEN,
	    out, len);
	if (rc != ARGON2_OK) {
		*cause = xprintf("hashing the password: %s",
		    argon2_error_message(rc));
		free(out);
		return NULL;
	}
	return out;
}

int
user_password_matches(const char *hash, const char *pw)
{
	if (hash == NULL || strncmp(hash, "$argon2id$", 10) != 0)
		return 0;
	return argon2id_verify(hash, pw, strlen(pw)) == ARGON2_OK;
}

/* 0, or -1 with *cause saying what is wrong with the role and lead. */
static int
user_role_check(const struct conf *conf, const char *role, const char *lead,
    char **cause)
{
	enum user_role	 r;

	if (user_role_parse(role, &r) == -1) {
		*cause = xprintf("\"%s\" is not a role: use admin, editor, "
		    "viewer or lead", role);
		return -1;
	}
	if (r == USER_LEAD && (lead == NULL || *lead == '\0')) {
		*cause = xstrdup("a lead account needs --lead KEY (a lead in "
		    "the configuration)");
		return -1;
	}
	if (r != USER_LEAD && lead != NULL && *lead != '\0') {
		*cause = xstrdup("--lead is only for the lead role");
		return -1;
	}
	if (r == USER_LEAD && conf_lead_find(conf, lead) == NULL) {
		*cause = xprintf("no lead \"%s\" in the configuration", lead);
		return -1;
	}
	return 0;
}

/* The account for email (normalised), 1; 0 with *cause; -1. */
static int
user_find(struct store *s, const char *email, struct store_user *u,
    char **cause)
{
	char	*norm;
	int	 rc;

	memset(u, 0, sizeof *u);
	if (address_normalise(email, &norm, cause) != 0)
		return 0;
	rc = store_user_get(s, norm, u, cause);
	if (rc == 0)
		*cause = xprintf("no account for %s", norm);
	free(norm);
	return rc;
}

/* Commit, or roll back: 1 done, -1 with *cause. */
static int
user_commit(struct store *s, char **cause)
{
	if (store_commit(s, cause) != 0) {
		store_rollback(s);
		return -1;
	}
	return 1;
}

int
user_add(struct store *s, const struct conf *conf, const char *email,
    const char *name, const char *role, const char *lead,
    const char *password, const char *actor, int64_t now, char **cause)
{
	struct store_user	 u;
	const char		*why;
	char			*norm = NULL, *detail;
	int64_t			 id;
	int			 rc;

	memset(&u, 0, sizeof u);
	if (address_normalise(email, &norm, cause) != 0)
		return 0;
	if (name == NULL || *name == '\0') {
		*cause = xstrdup("--name is needed: the person's name as "
		    "colleagues know it");
		rc = 0;
		goto out;
	}
	if (strlen(name) > USER_NAME_MAX || !utf8_valid(name, strlen(name)) ||
	    strpbrk(name, "\r\n\t<>") != NULL) {
		*cause = xstrdup("a name is one line of text, at most 200 "
		    "bytes, without < or >");
		rc = 0;
		goto out;
	}
	if (user_role_check(conf, role, lead, cause) == -1) {
		rc = 0;
		goto out;
	}
	if ((why = user_password_refused(password, norm)) != NULL) {
		*cause = xstrdup(why);
		rc = 0;
		goto out;
	}
	u.email = norm;
	u.name = (char *)name;
	u.role = (char *)role;
	u.lead = (char *)(lead != NULL ? lead : "");
	if ((u.password_hash = user_password_hash(password, cause)) == NULL) {
		rc = -1;
		goto out;
	}
	if (store_begin(s, cause) != 0) {
		rc = -1;
		goto out;
	}
	if ((rc = store_user_add(s, &u, now, &id, cause)) != 1) {
		store_rollback(s);
		if (rc == 0)
			*cause = xprintf("%s already has an account", norm);
		goto out;
	}
	detail = xprintf("role %s%s%s", role, *u.lead != '\0' ? ", lead " :
	    "", u.lead);
	store_event_by(s, actor, "user.added", norm, detail);
	free(detail);
	rc = user_commit(s, cause);
out:
	free(u.password_hash);
	free(norm);
	return rc;
}

int
user_set_role(struct store *s, const struct conf *conf, const char *email,
    const char *role, const char *lead, const char *actor, int64_t now,
    char **cause)
{
	struct store_user	 u;
	char			*detail;
	int			 rc;

	if (user_role_check(conf, role, lead, cause) == -1)
		return 0;
	if (store_begin(s, cause) != 0)
		return -1;
	if ((rc = user_find(s, email, &u, cause)) != 1 ||
	    (rc = store_user_set_role(s, u.id, role, lead, now, cause)) != 1) {
		store_rollback(s);
		store_user_clear(&u);
		return rc;
	}
	detail = xprintf("role %s -> %s%s%s", u.role, role,
	    lead != NULL && *lead != '\0' ? ", lead " : "",
	    lead != NULL ? lead : "");
	store_event_by(s, actor, "user.role", u.email, detail);
	free(detail);
	store_user_clear(&u);
	return user_commit(s, cause);
}

int
user_set_disabled(struct store *s, const char *email, int disabled,
    const char *actor, int64_t now, char **cause)
{
	struct store_user	 u;
	int			 rc;

	if (store_begin(s, cause) != 0)
		return -1;
	if ((rc = user_find(s, email, &u, cause)) != 1 ||
	    (rc = store_user_set_disabled(s, u.id, disabled, now,
	    cause)) == -1) {
		store_rollback(s);
		store_user_clear(&u);
		return rc;
	}
	/* A disabled account's sessions end now, not at their timeout. */
	if (disabled && store_session_delete_user(s, u.id, cause) == -1) {
		store_rollback(s);
		store_user_clear(&u);
		return -1;
	}
	if (rc == 1)
		store_event_by(s, actor, disabled ? "user.disabled" :
		    "user.enabled", u.email, NULL);
	store_user_clear(&u);
	return user_commit(s, cause);
}

int
user_reset_password(struct store *s, const char *email, const char *password,
    const char *actor, int64_t now, char **cause)
{
	struct store_user	 u;
	const char		*why;
	char			*hash;
	int			 rc;

	if (store_begin(s, cause) != 0)
		return -1;
	if ((rc = user_find(s, email, &u, cause)) != 1) {
		store_rollback(s);
		return rc;
	}
	if ((why = user_password_refused(password, u.email)) != NULL) {
		*cause = xstrdup(why);
		store_rollback(s);
		store_user_clear(&u);
		return 0;
	}
	if ((hash = user_password_hash(password, cause)) == NULL ||
	    (rc = store_user_set_password(s, u.id, hash, now, cause)) != 1) {
		store_rollback(s);
		store_user_clear(&u);
		free(hash);
		return -1;
	}
	free(hash);
	/* Whoever knew the old password is signed out too. */
	if (store_session_delete_user(s, u.id, cause) == -1) {
		store_rollback(s);
		store_user_clear(&u);
		return -1;
	}
	store_event_by(s, actor, "user.password", u.email, NULL);
	store_user_clear(&u);
	return user_commit(s, cause);
}

#define USER_TOTP_STEP		30
#define USER_TOTP_DIGITS	6

int
user_totp_matches(const unsigned char *key, size_t len, const char *code,
    int64_t now, int64_t *step)
{
	int	pos, rc;

	if (strlen(code) != USER_TOTP_DIGITS ||
	    strspn(code, "0123456789") != USER_TOTP_DIGITS || now < 0)
		return 0;
	if (oath_init() != OATH_OK)
		return 0;
	rc = oath_totp_validate2((const char *)key, len, (time_t)now,
	    USER_TOTP_STEP, 0, 1, &pos, code);
	if (rc < 0)
		return 0;
	*step = now / USER_TOTP_STEP + pos;
	return 1;
}

int
user_totp_check(struct store *s, int64_t id, const char *code, int64_t now,
    char **cause)
{
	unsigned char	 key[64];
	size_t		 len;
	int64_t		 last, step;
	int		 rc;

	if ((rc = store_user_totp_get(s, id, key, &len, &last, cause)) != 1)
		return rc;
	rc = user_totp_matches(key, len, code, now, &step);
	OPENSSL_cleanse(key, sizeof key);
	if (rc != 1 || step <= last)
		return 0;
	return store_user_totp_use(s, id, step, cause);
}

/* s for a URI's path, every byte but [A-Za-z0-9._~@-] as %XX. */
static char *
user_uri_escape(const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			*out, *p;

	p = out = xmalloc(strlen(s) * 3 + 1);
	for (; *s != '\0'; s++) {
		if (strchr("._~@-", *s) != NULL ||
		    (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9'))
			*p++ = *s;
		else {
			*p++ = '%';
			*p++ = hex[(unsigned char)*s >> 4];
			*p++ = hex[(unsigned char)*s & 15];
		}
	}
	*p = '\0';
	return out;
}

int
user_totp_set(struct store *s, const char *email, int on, const char *actor,
    int64_t now, char **uri, char **cause)
{
	struct store_user	 u;
	unsigned char		 key[USER_TOTP_KEY_LEN];
	char			*b32 = NULL, *label;
	size_t			 b32len = 0;
	int			 rc;

	*uri = NULL;
	if (on && (RAND_bytes(key, sizeof key) != 1 ||
	    oath_init() != OATH_OK ||
	    oath_base32_encode((const char *)key, sizeof key, &b32,
	    &b32len) != OATH_OK)) {
		*cause = xstrdup("no key could be made for the second factor");
		return -1;
	}
	if (store_begin(s, cause) != 0) {
		rc = -1;
		goto out;
	}
	if ((rc = user_find(s, email, &u, cause)) != 1 ||
	    (rc = store_user_set_totp(s, u.id, on ? key : NULL, sizeof key,
	    now, cause)) != 1) {
		store_rollback(s);
		store_user_clear(&u);
		goto out;
	}
	store_event_by(s, actor, on ? "user.totp-on" : "user.totp-off",
	    u.email, NULL);
	if (on) {
		label = user_uri_escape(u.email);
		*uri = xprintf("otpauth://totp/postroom:%s?secret=%s"
		    "&issuer=postroom&algorithm=SHA1&digits=6&period=30",
		    label, b32);
		free(label);
	}
	store_user_clear(&u);
	if ((rc = user_commit(s, cause)) != 1) {
		free(*uri);
		*uri = NULL;
	}
out:
	OPENSSL_cleanse(key, sizeof key);
	if (b32 != NULL) {
		OPENSSL_cleanse(b32, b32len);
		free(b32);
	}
	return rc;
}

int
user_actor_name(struct store *s, const char *actor, char **name,
    char **cause)
{
	struct store_user	 u;
	long long		 id;
	char			*end;
	int			 rc;

	*name = NULL;
	memset(&u, 0, sizeof u);
	if (strncmp(actor, "cli:", 4) == 0) {
		*name = xprintf("%s (command line)", actor + 4);
		return 0;
	}
	if (strncmp(actor, "user:", 5) != 0 || actor[5] < '1' ||
	    actor[5] > '9' || (id = strtoll(actor + 5, &end, 10)) <= 0 ||
	    *end != '\0') {
		*name = xstrdup(actor);
		return 0;
	}
	if ((rc = store_user_get_id(s, (int64_t)id, &u, cause)) == -1)
		return -1;
	*name = rc == 1 ? xstrdup(u.name) : xstrdup(actor);
	store_user_clear(&u);
	return 0;
}
