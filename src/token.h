/*
 * token.h - signed tokens for confirm, unsubscribe, preferences and VERP
 * bounce addresses, the secret key they are signed with, and the one-way
 * hash of forgotten addresses.
 *
 * A token is base64url (RFC 4648 section 5, no padding) of
 *
 *	payload = version(1) purpose(1) varint(subscriber) varint(issued)
 *		  varint(lifetime) len(1) list-slug(len) varint(campaign)
 *	token   = payload || HMAC-SHA256(key, payload || salt)[0..16)
 *
 * (varints are LEB128, unsigned, canonical; version is 2).  issued is when
 * the token was made (unix time), lifetime how long it lasts in seconds (0:
 * for ever), so expires = issued + lifetime.  salt is the 16 random bytes
 * of the subscriber the token names (subscribers.token_salt, made with the
 * row): it is not in the token, the checker looks it up, so that a token
 * dies with its person - once the row is erased, or made again for the
 * same address, no old token is authentic any more.  Subscriber 0 is
 * nobody (a test copy): its salt is 16 zero bytes, looked up nowhere.
 *
 * The MAC is truncated to 128 bits.  A token carries ids, never an email
 * address; it is signed, not encrypted, so the subscriber id, list slug,
 * campaign id and times can be read by anyone holding it.  A typical list
 * token is about 62 characters, a VERP bounce token about 46 and a mailto
 * one about 46, which leaves room for "bounces+TOKEN" and
 * "unsubscribe+TOKEN" in the 64 octets an SMTP local part may have.
 * Tokens are case-sensitive.
 *
 * Version 1 (no issue time, no salt: it named a bare id, which could come
 * to name somebody else) is retired: one still signed with the key checks
 * as "expired", so that its page can say what to do instead.
 *
 * The key file holds the 32-byte secret as 64 hex digits and an optional
 * newline (what "openssl rand -hex 32" prints), mode 0600: a key file that
 * group or others can read or write is refused.
 *
 * Owns: the token format, the key file format and its creation.  Does not
 * own: where tokens go in URLs or addresses (the callers), or what a
 * purpose grants (the web pages, web-*.c; the bounce handler).
 */
#ifndef POSTROOM_TOKEN_H
#define POSTROOM_TOKEN_H

#include <stdint.h>
#include <time.h>

#define TOKEN_KEY_LEN	32
#define TOKEN_LIST_MAX	64	/* longest list slug a token can carry */
#define TOKEN_MAX_LEN	256	/* longer strings are "malformed" */
#define TOKEN_SALT_LEN	16	/* a subscriber's salt, in the MAC */

enum token_purpose {
	TOKEN_CONFIRM = 1,	/* confirm a subscription to list */
	TOKEN_UNSUBSCRIBE,	/* leave list */
	TOKEN_PREFERENCES,	/* the preferences page (list may be "") */
	TOKEN_BOUNCE,		/* VERP return path: subscriber + campaign */
	TOKEN_TEST_COPY,	/* the links of a test copy: campaign; grants
				 * reading that campaign, nothing else */
	TOKEN_LAST = TOKEN_TEST_COPY
};

struct token {
	enum token_purpose	 purpose;
	int64_t			 subscriber;	/* >= 0 */
	char			 list[TOKEN_LIST_MAX + 1];	/* "" if none */
	int64_t			 campaign;	/* >= 0; 0 if none */
	time_t			 issued;	/* unix time made; > 0 */
	time_t			 expires;	/* unix time; 0: never */
	/* The subscriber's salt (store); zeros for subscriber 0.  Set to
	 * make a token; token_check() leaves it zero. */
	unsigned char		 salt[TOKEN_SALT_LEN];
};

/*
 * Where token_check() finds the salt of the subscriber a token names:
 * find(arg, id, salt, cause) returns 1 with salt filled, 0 when there is
 * no such subscriber, -1 with *cause when it could not look (a busy
 * database).  store_token_salt() is the store's.
 */
struct token_salts {
	int	(*find)(void *arg, int64_t subscriber,
		    unsigned char salt[TOKEN_SALT_LEN], char **cause);
	void	*arg;
};

/*
 * Read the key at path into key.  With create, a missing file is made with
 * a fresh random key (getrandom), mode 0600, atomically: the key is written
 * to a temporary file in the same directory which is then link()ed to path,
 * so two processes starting at once end up with the same key.  Returns 0,
 * or -1 with *cause set (the caller frees it).
 */
int	 token_key_load(const char *path, int create,
	    unsigned char key[TOKEN_KEY_LEN], char **cause);

/*
 * Make a token granting t, signed with t->salt.  The caller frees the
 * result.  A token with an unknown purpose, negative ids, no issue time,
 * an expiry not after it, or an unterminated list is a bug in the caller
 * and aborts.
 */
char	*token_make(const unsigned char key[TOKEN_KEY_LEN],
	    const struct token *t);

/*
 * The same with a key made ready once, for signing many tokens (a
 * campaign makes several per recipient): token_signer_make() returns
 * exactly what token_make() would, for a fraction of the work.  A signer
 * copies the key, belongs to one thread, and is freed (and its key wiped)
 * by token_signer_free(), which accepts NULL.
 */
struct token_signer;
struct token_signer *token_signer_new(const unsigned char key[TOKEN_KEY_LEN]);
char	*token_signer_make(struct token_signer *, const struct token *t);
void	 token_signer_free(struct token_signer *);

/*
 * Check token s at time now, with the salt salts finds for its subscriber
 * (salts may be NULL when no subscriber can be named: then only tokens
 * naming subscriber 0 can be valid).  Returns 0 and fills *out; -1 with
 * *cause set (the caller frees it) to exactly one of:
 *	"malformed"	not a token at all (wrong length, characters,
 *			encoding or version): answer 400;
 *	"unknown subscriber"	well formed, but it names a subscriber
 *			who is not there (erased, or never was): answer 403;
 *	"bad signature"	well formed but not signed with key and the
 *			subscriber's salt (forged, altered, signed with an
 *			old key, or made for an earlier row of that id or
 *			address): answer 403;
 *	"expired"	authentic but now >= expires, or a retired version 1
 *			token.  *out is filled in this case too, so that a
 *			page can say what to do instead;
 * or -2 with *cause from salts when the salt could not be looked up (try
 * again later).  The MAC is compared in constant time.
 */
int	 token_check(const unsigned char key[TOKEN_KEY_LEN],
	    const struct token_salts *salts, const char *s, time_t now,
	    struct token *out, char **cause);

/*
 * The one-way hash under which a forgotten address is remembered, so that
 * it is never mailed again: lowercase hex (64 digits and a NUL in out) of
 * HMAC-SHA256 under the forget key (a key file of its own, see below) of
 * "postroom-forget-v2:" followed by the normalised address.  Keyed, so
 * that the list of forgotten addresses (a copy of the database, a backup)
 * cannot be checked against a list of likely addresses without the key.
 * Normalising trims surrounding white space and lowercases every ASCII
 * letter, in the local part as in the domain: an address is one person
 * whatever its case, so "Sian.Jones@NHS.uk" and "sian.jones@nhs.uk" hash
 * alike.  Bytes outside ASCII are hashed as given (a subscriber's
 * address is ASCII: address.h; an enquirer's "Zoë@" and "ZOË@" are two).
 *
 * The forget key is not the token key.  The token key is what must be
 * rotated after a leak; rotating the key of these hashes would silently
 * "unforget" everyone who asked to be forgotten (their addresses are gone:
 * nothing can be hashed again), so the forget key is never rotated, and
 * is kept beside the database whose hashes it made (store.c).
 *
 * Legacy hashes: before the key, the hash was a plain SHA-256 of the same
 * prefix with "v1" and the address - token_hash_address_legacy() - or,
 * for a list made by hand when this comment said the local part was kept
 * as given, of that form - token_hash_address_as_given().  Those rows
 * cannot be re-keyed (the addresses are gone), so the store keeps them,
 * marked legacy, and keeps matching them (store_subscriber_suppressed):
 * nobody forgotten is mailed again.  New hashes are keyed only.
 */
void	 token_hash_address(const unsigned char key[TOKEN_KEY_LEN],
	    const char *addr, char out[65]);
void	 token_hash_address_legacy(const char *addr, char out[65]);
void	 token_hash_address_as_given(const char *addr, char out[65]);

#endif
