/*
 * session.c - console sign-ins (see session.h).
 *
 * Owns: making a session identifier, its hash, its timeouts, the CSRF
 * token.  Does not own: the cookie and the pages (the console), the SQL
 * (store-user.c), who may sign in (user.c).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "crypto.h"
#include "hex.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

/* The stored form of id: SHA-256 of its digits, in hex. */
static void
session_hash(const char *id, char *out)
{
	unsigned char	md[CRYPTO_SHA256_LEN];

	crypto_sha256(id, strlen(id), NULL, 0, md);
	hex_encode(md, sizeof md, out);
}

/* Is id what session_start() makes: 64 lowercase hex digits? */
static int
session_id_ok(const char *id)
{
	return strlen(id) == SESSION_ID_LEN &&
	    strspn(id, "0123456789abcdef") == SESSION_ID_LEN;
}

int
session_start(struct store *s, int64_t user_id, int64_t now, char *id,
    char **cause)
{
	unsigned char	raw[SESSION_ID_LEN / 2];
	char		hash[2 * CRYPTO_SHA256_LEN + 1];

	if (RAND_bytes(raw, sizeof raw) != 1) {
		*cause = xstrdup("no random bytes for a session");
		return -1;
	}
	hex_encode(raw, sizeof raw, id);
	crypto_cleanse(raw, sizeof raw);
	session_hash(id, hash);
	if (store_session_add(s, hash, user_id, now, cause) == -1) {
		crypto_cleanse(id, SESSION_ID_LEN);
		return -1;
	}
	return 0;
}

int
session_find(struct store *s, const char *id, int64_t now,
    struct session *ss, char **cause)
{
	struct store_session	 row;
	char			 hash[2 * CRYPTO_SHA256_LEN + 1];
	int			 rc;

	memset(ss, 0, sizeof *ss);
	if (id == NULL || !session_id_ok(id))
		return 0;
	session_hash(id, hash);
	if ((rc = store_session_get(s, hash, &row, cause)) != 1)
		return rc;
	if (now - row.seen_at > SESSION_IDLE ||
	    now - row.created_at > SESSION_MAX || now < row.created_at) {
		if (store_session_delete(s, hash, cause) == -1)
			return -1;
		return 0;
	}
	if (store_session_seen(s, row.id, now, cause) == -1)
		return -1;
	ss->id = row.id;
	ss->user_id = row.user_id;
	ss->created_at = row.created_at;
	ss->seen_at = now;
	ss->signed_in_at = row.signed_in_at;
	return 1;
}

int
session_end(struct store *s, const char *id, char **cause)
{
	char	hash[2 * CRYPTO_SHA256_LEN + 1];

	if (id == NULL || !session_id_ok(id))
		return 0;
	session_hash(id, hash);
	return store_session_delete(s, hash, cause) == -1 ? -1 : 0;
}

int
session_recent(const struct session *ss, int64_t now)
{
	return now - ss->signed_in_at <= SESSION_REAUTH &&
	    now >= ss->signed_in_at;
}

void
session_csrf(const unsigned char key[TOKEN_KEY_LEN], const char *id,
    char *out)
{
	unsigned char	 mac[CRYPTO_SHA256_LEN];
	char		*msg;

	msg = xprintf("postroom console csrf:%s", id);
	crypto_hmac_sha256(key, TOKEN_KEY_LEN, msg, strlen(msg), mac);
	free(msg);
	hex_encode(mac, sizeof mac, out);
}

int
session_csrf_ok(const unsigned char key[TOKEN_KEY_LEN], const char *id,
    const char *given)
{
	char	want[SESSION_CSRF_LEN + 1];

	if (given == NULL || strlen(given) != SESSION_CSRF_LEN)
		return 0;
	session_csrf(key, id, want);
	return crypto_equal(want, given, SESSION_CSRF_LEN);
}
