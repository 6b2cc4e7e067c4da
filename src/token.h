/*
 * token.h - signed tokens for confirm, unsubscribe, preferences and VERP
 * bounce addresses, the secret key they are signed with, and the one-way
 * hash of forgotten addresses.
 *
 * A token is base64url (RFC 4648 section 5, no padding) of
 *
 *	payload = version(1) purpose(1) varint(subscriber) varint(expires)
 *		  len(1) list-slug(len) varint(campaign)
 *	token   = payload || HMAC-SHA256(key, payload)[0..16)
 *
 * (varints are LEB128, unsigned, canonical).  The MAC is truncated to 128
 * bits.  A token carries ids, never an email address; it is signed, not
 * encrypted, so the subscriber id, list slug and campaign id can be read by
 * anyone holding it.  A typical list token is about 60 characters, a VERP
 * bounce token about 35, which leaves room for "bounce+TOKEN" in the 64
 * octets an SMTP local part may have.  Tokens are case-sensitive.
 *
 * The key file holds the 32-byte secret as 64 hex digits and an optional
 * newline (what "openssl rand -hex 32" prints), mode 0600: a key file that
 * group or others can read or write is refused.
 *
 * Owns: the token format, the key file format and its creation.  Does not
 * own: where tokens go in URLs or addresses (the callers), or what a
 * purpose grants (web.c, the bounce handler).
 */
#ifndef POSTROOM_TOKEN_H
#define POSTROOM_TOKEN_H

#include <stdint.h>
#include <time.h>

#define TOKEN_KEY_LEN	32
#define TOKEN_LIST_MAX	64	/* longest list slug a token can carry */
#define TOKEN_MAX_LEN	256	/* longer strings are "malformed" */

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
	time_t			 expires;	/* unix time; 0: never */
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
 * Make a token granting t.  The caller frees the result.  A token with an
 * unknown purpose, negative ids or expiry, or an unterminated list is a bug
 * in the caller and aborts.
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
 * Check token s at time now.  Returns 0 and fills *out, or -1 with *cause
 * set (the caller frees it) to exactly one of:
 *	"malformed"	not a token at all (wrong length, characters,
 *			encoding or version): answer 400;
 *	"bad signature"	well formed but not signed with key (forged,
 *			altered, or signed with an old key): answer 403;
 *	"expired"	authentic but now >= expires.  *out is filled in
 *			this case too, so a page can offer a fresh link.
 * The MAC is compared in constant time.
 */
int	 token_check(const unsigned char key[TOKEN_KEY_LEN], const char *s,
	    time_t now, struct token *out, char **cause);

/*
 * The one-way hash under which a forgotten address is remembered, so that
 * it is never mailed again: lowercase hex SHA-256 (64 digits and a NUL in
 * out) of "postroom-forget-v1:" followed by the normalised address.
 * Normalising trims surrounding white space and lowercases every ASCII
 * letter, in the local part as in the domain: an address is one person
 * whatever its case, so "Sian.Jones@NHS.uk" and "sian.jones@nhs.uk" hash
 * alike.  Bytes outside ASCII are hashed as given (a subscriber's
 * address is ASCII: address.h; an enquirer's "Zoë@" and "ZOË@" are two).
 *
 * Compatibility: this comment used to say that the local part was kept
 * as given.  The suppression list never held such hashes (the store
 * lowercased the address before hashing, since the first version), but a
 * list made by hand from that description would: token_hash_address_as_
 * given() makes the old form - the local part as given, the domain in
 * lowercase - and the store checks both (store_subscriber_suppressed), so
 * that nobody forgotten is mailed again.  New hashes are of the folded
 * form only.
 *
 * Deliberately NOT keyed.  A keyed hash (HMAC with the token key) would
 * resist someone with a copy of the database guessing addresses, but the
 * token key is exactly what must be rotated after a leak, and rotating it
 * would silently "unforget" everyone who asked to be forgotten and start
 * mailing them again.  Suppression that survives key loss and rotation
 * matters more here; the fixed prefix at least keeps these hashes from
 * being joined with the plain SHA-256 address hashes traded by ad networks.
 */
void	 token_hash_address(const char *addr, char out[65]);
void	 token_hash_address_as_given(const char *addr, char out[65]);

#endif
