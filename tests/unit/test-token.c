/*
 * test-token.c - signed tokens, the key file and forgotten-address hashes.
 *
 * Owns: the checks that tokens round-trip, that any change to one is
 * refused, that expiry is told apart from forgery, that malformed input
 * fails cleanly, that a signer signs what token_make() does (and the
 * HMAC under it is RFC 4231's), and that key files are created safely
 * and refused when others can read them.
 */
#include "testutil.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "token.h"

static const char	 b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void
test_key(unsigned char key[TOKEN_KEY_LEN], unsigned char seed)
{
	size_t	 i;

	for (i = 0; i < TOKEN_KEY_LEN; i++)
		key[i] = (unsigned char)(seed + i * 7);
}

#define ISSUED		((time_t)1600000000)	/* test tokens' issue time */
#define MISSING		404	/* a subscriber who is not there */
#define BROKEN		500	/* a subscriber whose salt cannot be read */

/* Subscriber sub's salt, as the store would hold it: made from sub. */
static void
test_salt(int64_t sub, unsigned char salt[TOKEN_SALT_LEN])
{
	size_t	i;

	for (i = 0; i < TOKEN_SALT_LEN; i++)
		salt[i] = (unsigned char)(sub * 31 + (int64_t)i);
}

/*
 * The salt finder: test_salt(), changed by *arg (a row made again) when
 * arg is not NULL; MISSING is not there, BROKEN cannot be looked up.
 */
static int
test_find(void *arg, int64_t sub, unsigned char salt[TOKEN_SALT_LEN],
    char **cause)
{
	if (sub == MISSING)
		return 0;
	if (sub == BROKEN) {
		*cause = xstrdup("database is locked");
		return -1;
	}
	test_salt(sub, salt);
	if (arg != NULL)
		salt[0] ^= *(unsigned char *)arg;
	return 1;
}

static const struct token_salts test_salts = { test_find, NULL };

static struct token
test_token(enum token_purpose purpose, int64_t sub, const char *list,
    int64_t campaign, time_t expires)
{
	struct token	 t;

	memset(&t, 0, sizeof t);
	t.purpose = purpose;
	t.subscriber = sub;
	if (sub != 0)
		test_salt(sub, t.salt);
	snprintf(t.list, sizeof t.list, "%s", list);
	t.campaign = campaign;
	t.issued = ISSUED;
	t.expires = expires;
	return t;
}

static int
test_same(const struct token *a, const struct token *b)
{
	return a->purpose == b->purpose && a->subscriber == b->subscriber &&
	    strcmp(a->list, b->list) == 0 && a->campaign == b->campaign &&
	    a->issued == b->issued && a->expires == b->expires;
}

static const struct {
	const char		*name;
	enum token_purpose	 purpose;
	int64_t			 sub;
	const char		*list;
	int64_t			 campaign;
	time_t			 expires;
} round_trips[] = {
	{ "confirm", TOKEN_CONFIRM, 1, "analyst-network", 0, 1900000000 },
	{ "unsubscribe", TOKEN_UNSUBSCRIBE, 123456, "evaluation-network", 0,
	    0 },
	{ "preferences, all lists", TOKEN_PREFERENCES, 98765, "", 0,
	    1900000000 },
	{ "bounce", TOKEN_BOUNCE, 10000000, "", 4321, 0 },
	{ "test copy", TOKEN_TEST_COPY, 0, "", 77, 1900000000 },
	{ "zero ids, never expires", TOKEN_CONFIRM, 0, "x", 0, 0 },
	{ "huge ids", TOKEN_UNSUBSCRIBE, INT64_MAX, "training", INT64_MAX,
	    (time_t)INT64_MAX },
	{ "longest slug", TOKEN_CONFIRM, 7,
	    "0123456789012345678901234567890123456789012345678901234567890123",
	    0, 0 },
};

static void
test_round_trip(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 t, got;
	char		*s, *cause;
	size_t		 i;

	test_key(key, 1);
	for (i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
		t = test_token(round_trips[i].purpose, round_trips[i].sub,
		    round_trips[i].list, round_trips[i].campaign,
		    round_trips[i].expires);
		s = token_make(key, &t);
		assert_true(strlen(s) <= TOKEN_MAX_LEN);
		if (strspn(s, b64url) != strlen(s)) {
			print_error("%s: got token \"%s\", want only "
			    "base64url characters\n", round_trips[i].name, s);
			fail();
		}
		cause = NULL;
		memset(&got, 0xa5, sizeof got);
		if (token_check(key, &test_salts, s, 1700000000, &got, &cause) != 0) {
			print_error("%s: got \"%s\", want valid\n",
			    round_trips[i].name, cause);
			fail();
		}
		if (!test_same(&t, &got)) {
			print_error("%s: got purpose %d sub %lld list \"%s\" "
			    "campaign %lld expires %lld, want %d %lld \"%s\" "
			    "%lld %lld\n", round_trips[i].name,
			    (int)got.purpose, (long long)got.subscriber,
			    got.list, (long long)got.campaign,
			    (long long)got.expires, (int)t.purpose,
			    (long long)t.subscriber, t.list,
			    (long long)t.campaign, (long long)t.expires);
			fail();
		}
		free(s);
	}
}

/*
 * Known answer: pins the wire format (version 2), so that tokens already
 * in people's mailboxes keep working.  Computed independently (Python's
 * hmac module) from the layout in token.h, with test_salt()'s salts.
 */
#define KNOWN_UNSUB "AgKsAoCkp9oGgMLXLw9hbmFseXN0LW5ldHdvcmsAVH1OBlkALn9r6dGftCmj3A"
#define KNOWN_BOUNCE "AgSAreIEgKSn2gaAnLUHAOEhAZfi8TomQPexpir43vfycg"

static void
test_known_answer(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 t;
	char		*s;

	test_key(key, 1);
	t = test_token(TOKEN_UNSUBSCRIBE, 300, "analyst-network", 0,
	    1900000000);
	t.issued = 1800000000;
	s = token_make(key, &t);
	assert_str_eq_msg("unsubscribe 300 analyst-network", s, KNOWN_UNSUB);
	free(s);
	t = test_token(TOKEN_BOUNCE, 10000000, "", 4321,
	    1800000000 + 180 * 24 * 3600);
	t.issued = 1800000000;
	s = token_make(key, &t);
	assert_str_eq_msg("bounce 10000000/4321", s, KNOWN_BOUNCE);
	/* "bounces+TOKEN" must fit the 64 octets of an SMTP local part. */
	assert_true(strlen("bounces+") + strlen(s) <= 64);
	free(s);
}

/*
 * A token is signed with its subscriber's salt, which the checker looks
 * up: the same token for a row made again (another salt), for a row that
 * is gone, or whose salt cannot be read, is refused, each as such.
 */
static void
test_salts_checked(void **state)
{
	unsigned char		 key[TOKEN_KEY_LEN], flip = 1;
	struct token_salts	 again = { test_find, &flip };
	struct token		 t, got;
	char			*s, *cause = NULL;

	test_key(key, 1);
	t = test_token(TOKEN_PREFERENCES, 77, "news", 0, 1900000000);
	s = token_make(key, &t);
	assert_int_equal(token_check(key, &test_salts, s, 1700000000, &got,
	    &cause), 0);
	/* The row made again for the same id or address: another salt. */
	assert_int_equal(token_check(key, &again, s, 1700000000, &got,
	    &cause), -1);
	assert_str_eq_msg("another salt", cause, "bad signature");
	free(cause);
	/* No finder: nobody but subscriber 0 can be named. */
	cause = NULL;
	assert_int_equal(token_check(key, NULL, s, 1700000000, &got,
	    &cause), -1);
	assert_str_eq_msg("no finder", cause, "unknown subscriber");
	free(cause);
	free(s);

	/* Made with a salt of zeros (a row without one): refused. */
	memset(t.salt, 0, sizeof t.salt);
	s = token_make(key, &t);
	cause = NULL;
	assert_int_equal(token_check(key, &test_salts, s, 1700000000, &got,
	    &cause), -1);
	assert_str_eq_msg("zero salt", cause, "bad signature");
	free(cause);
	free(s);

	/* Gone (erased): refused before anything else is believed. */
	t = test_token(TOKEN_UNSUBSCRIBE, MISSING, "news", 0, 1900000000);
	s = token_make(key, &t);
	cause = NULL;
	assert_int_equal(token_check(key, &test_salts, s, 1700000000, &got,
	    &cause), -1);
	assert_str_eq_msg("gone", cause, "unknown subscriber");
	free(cause);
	free(s);

	/* The salt cannot be read: -2 and the finder's reason. */
	t = test_token(TOKEN_UNSUBSCRIBE, BROKEN, "news", 0, 1900000000);
	s = token_make(key, &t);
	cause = NULL;
	assert_int_equal(token_check(key, &test_salts, s, 1700000000, &got,
	    &cause), -2);
	assert_str_eq_msg("busy", cause, "database is locked");
	free(cause);
	free(s);

	/* Subscriber 0 (a test copy) needs no finder. */
	t = test_token(TOKEN_TEST_COPY, 0, "", 12, 1900000000);
	s = token_make(key, &t);
	cause = NULL;
	if (token_check(key, NULL, s, 1700000000, &got, &cause) != 0)
		fail_msg("test copy: got \"%s\", want valid", cause);
	assert_int_equal(got.campaign, 12);
	free(s);
}

/*
 * Version 1 tokens (no salt, no issue time) are retired: one signed with
 * the key says what it was, as "expired"; a forged one is still forged.
 */
#define KNOWN_V1 "AQKsAoDm_okHD2FuYWx5c3QtbmV0d29yawC2pFRyL7cEMgsBaZOIraX4"

static void
test_retired_v1(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN], other[TOKEN_KEY_LEN];
	struct token	 got;
	char		*cause = NULL;

	test_key(key, 1);
	test_key(other, 2);
	memset(&got, 0, sizeof got);
	assert_int_equal(token_check(key, &test_salts, KNOWN_V1, 1700000000,
	    &got, &cause), -1);
	assert_str_eq_msg("version 1", cause, "expired");
	free(cause);
	assert_int_equal(got.purpose, TOKEN_UNSUBSCRIBE);
	assert_int_equal(got.subscriber, 300);
	assert_str_eq_msg("list", got.list, "analyst-network");
	assert_int_equal(got.issued, 0);
	assert_int_equal(got.expires, 1900000000);
	cause = NULL;
	assert_int_equal(token_check(other, &test_salts, KNOWN_V1, 1700000000,
	    &got, &cause), -1);
	assert_str_eq_msg("version 1, another key", cause, "bad signature");
	free(cause);
}

/*
 * Every single-character change to any of the round-trip tokens (their
 * lengths leave 0, 2 and 4 unused bits in the last character) is refused.
 */
static void
test_tamper(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 t, got;
	char		*s, *cause, saved;
	size_t		 i, j, k, len, tried;

	test_key(key, 1);
	for (k = 0; k < sizeof round_trips / sizeof round_trips[0]; k++) {
		t = test_token(round_trips[k].purpose, round_trips[k].sub,
		    round_trips[k].list, round_trips[k].campaign,
		    round_trips[k].expires);
		s = token_make(key, &t);
		len = strlen(s);
		tried = 0;
		for (i = 0; i < len; i++) {
			saved = s[i];
			for (j = 0; j < sizeof b64url - 1; j++) {
				if (b64url[j] == saved)
					continue;
				s[i] = b64url[j];
				cause = NULL;
				if (token_check(key, &test_salts, s, 1700000000, &got,
				    &cause) == 0) {
					print_error("%s: changing position "
					    "%zu to '%c': got valid, want "
					    "refused\n", round_trips[k].name,
					    i, b64url[j]);
					fail();
				}
				if (strcmp(cause, "bad signature") != 0 &&
				    strcmp(cause, "malformed") != 0) {
					print_error("position %zu: got \"%s\""
					    ", want bad signature or "
					    "malformed\n", i, cause);
					fail();
				}
				free(cause);
				tried++;
			}
			s[i] = saved;
		}
		assert_int_equal(tried, len * 63);
		/* Shortened by one character. */
		s[len - 1] = '\0';
		cause = NULL;
		assert_int_equal(token_check(key, &test_salts, s, 1700000000, &got,
		    &cause), -1);
		free(cause);
		free(s);
	}
}

static void
test_other_key(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN], other[TOKEN_KEY_LEN];
	struct token	 t, got;
	char		*s, *cause = NULL;

	test_key(key, 1);
	test_key(other, 2);
	t = test_token(TOKEN_PREFERENCES, 77, "programme", 0, 0);
	s = token_make(key, &t);
	assert_int_equal(token_check(other, &test_salts, s, 1700000000, &got, &cause), -1);
	assert_str_eq_msg("token checked with another key", cause,
	    "bad signature");
	free(cause);
	free(s);
}

/*
 * A signer (the key made ready once, for a campaign's tokens) signs what
 * token_make() signs, token after token, with two signers at once.
 */
static void
test_signer(void **state)
{
	unsigned char		 key[TOKEN_KEY_LEN], other[TOKEN_KEY_LEN];
	struct token_signer	*sg, *sg2;
	struct token		 t;
	char			*want, *want2, *got, *got2;
	size_t			 i, round;

	test_key(key, 1);
	test_key(other, 9);
	sg = token_signer_new(key);
	sg2 = token_signer_new(other);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < sizeof round_trips / sizeof round_trips[0];
		    i++) {
			t = test_token(round_trips[i].purpose,
			    round_trips[i].sub, round_trips[i].list,
			    round_trips[i].campaign, round_trips[i].expires);
			want = token_make(key, &t);
			want2 = token_make(other, &t);
			got = token_signer_make(sg, &t);
			got2 = token_signer_make(sg2, &t);
			assert_str_eq_msg(round_trips[i].name, got, want);
			assert_str_eq_msg(round_trips[i].name, got2, want2);
			free(want);
			free(want2);
			free(got);
			free(got2);
		}
	}
	/* The known answer, through a signer. */
	t = test_token(TOKEN_UNSUBSCRIBE, 300, "analyst-network", 0,
	    1900000000);
	t.issued = 1800000000;
	got = token_signer_make(sg, &t);
	assert_str_eq_msg("signer: unsubscribe 300 analyst-network", got,
	    KNOWN_UNSUB);
	free(got);
	token_signer_free(sg);
	token_signer_free(sg2);
	token_signer_free(NULL);
}

/*
 * HMAC-SHA256 both ways (crypto.c: one call, and a key made ready once),
 * against RFC 4231's test cases and a few of our own, whose answers come
 * from Python's hmac module: keys shorter than, as long as and longer
 * than SHA-256's 64-byte block.
 */
static void
test_hmac_vectors(void **state)
{
	static const struct {
		const char	*name;
		unsigned char	 kbyte;	/* the key: klen of these... */
		size_t		 klen;
		const char	*key;	/* ...unless this is not NULL */
		unsigned char	 dbyte;	/* the data: dlen of these... */
		size_t		 dlen;
		const char	*data;	/* ...unless this is not NULL */
		const char	*want;
	} cases[] = {
		{ "rfc4231 1", 0x0b, 20, NULL, 0, 0, "Hi There",
		  "b0344c61d8db38535ca8afceaf0bf12b"
		  "881dc200c9833da726e9376c2e32cff7" },
		{ "rfc4231 2", 0, 0, "Jefe", 0, 0,
		  "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c7"
		  "5a003f089d2739839dec58b964ec3843" },
		{ "rfc4231 3", 0xaa, 20, NULL, 0xdd, 50, NULL,
		  "773ea91e36800e46854db8ebd09181a7"
		  "2959098b3ef8c122d9635514ced565fe" },
		{ "rfc4231 6", 0xaa, 131, NULL, 0, 0,
		  "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f"
		  "8e0bc6213728c5140546040f0ee37f54" },
		{ "rfc4231 7", 0xaa, 131, NULL, 0, 0,
		  "This is a test using a larger than block-size key and a "
		  "larger than block-size data. The key needs to be hashed "
		  "before being used by the HMAC algorithm.",
		  "9b09ffa71b942fcb27635fbcd5b0e944"
		  "bfdc63644f0713938a7f51535c3a35e2" },
		{ "a key of one block", 0x42, 64, NULL, 0, 0,
		  "a key of exactly one block, and one more",
		  "f6ce70b3fff79c6280f868b83c78fcc2"
		  "e3a35b92606dc45de7c13ef1da7ef968" },
		{ "a key of one block and a byte", 0x42, 65, NULL, 0, 0,
		  "a key of exactly one block, and one more",
		  "78a424526761f4901787ec853f526604"
		  "4ab8c6edb8b3ffcc50ea24fa98cd2637" },
		{ "empty key and data", 0, 0, "", 0, 0, "",
		  "b613679a0814d9ec772f95d778c35fc5"
		  "ff1697c493715653c6c712144292c5ad" },
	};
	struct crypto_hmac	*h;
	unsigned char		 key[200], data[200], mac[CRYPTO_SHA256_LEN];
	char			 hex[2 * CRYPTO_SHA256_LEN + 1];
	size_t			 i, j, klen, dlen, run;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		klen = cases[i].key != NULL ? strlen(cases[i].key) :
		    cases[i].klen;
		if (cases[i].key != NULL)
			memcpy(key, cases[i].key, klen);
		else
			memset(key, cases[i].kbyte, klen);
		dlen = cases[i].data != NULL ? strlen(cases[i].data) :
		    cases[i].dlen;
		if (cases[i].data != NULL)
			memcpy(data, cases[i].data, dlen);
		else
			memset(data, cases[i].dbyte, dlen);

		h = crypto_hmac_new(key, klen);
		for (run = 0; run < 3; run++) {
			if (run == 0)
				crypto_hmac_sha256(key, klen, data, dlen, mac);
			else
				crypto_hmac_run(h, data, dlen, mac);
			for (j = 0; j < sizeof mac; j++)
				snprintf(hex + 2 * j, 3, "%02x", mac[j]);
			assert_str_eq_msg(cases[i].name, hex, cases[i].want);
		}
		crypto_hmac_free(h);
	}
	crypto_hmac_free(NULL);
}

static const struct {
	const char	*name;
	time_t		 expires;
	time_t		 now;
	const char	*want;	/* NULL: valid */
} expiries[] = {
	{ "well before", 1900000000, 1700000000, NULL },
	{ "one second before", 1900000000, 1899999999, NULL },
	{ "at expiry", 1900000000, 1900000000, "expired" },
	{ "after", 1900000000, 2000000000, "expired" },
	{ "never", 0, (time_t)INT64_MAX, NULL },
};

static void
test_expiry(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 t, got;
	char		*s, *cause;
	size_t		 i;
	int		 rc;

	test_key(key, 3);
	for (i = 0; i < sizeof expiries / sizeof expiries[0]; i++) {
		t = test_token(TOKEN_CONFIRM, 5, "training", 0,
		    expiries[i].expires);
		s = token_make(key, &t);
		cause = NULL;
		memset(&got, 0, sizeof got);
		rc = token_check(key, &test_salts, s, expiries[i].now, &got, &cause);
		assert_str_eq_msg(expiries[i].name, rc == 0 ? NULL : cause,
		    expiries[i].want);
		/* An expired token is authentic: its contents are given. */
		if (!test_same(&t, &got)) {
			print_error("%s: got subscriber %lld, want %lld\n",
			    expiries[i].name, (long long)got.subscriber,
			    (long long)t.subscriber);
			fail();
		}
		free(cause);
		free(s);
	}
}

static void
test_malformed(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 got;
	char		*huge, *cause;
	size_t		 i;
	static const char *bad[] = {
		"",
		"A",
		"AAAA",
		"AQKsAoDm_okHD2FuYWx5c3QtbmV0d29yawC2pFRyL7cEMgsBaZOIraX4=",
		"AQKsAoDm/okHD2FuYWx5c3QtbmV0d29yawC2pFRyL7cEMgsBaZOIraX4",
		"AQKsAoDm_okHD2FuYWx5c3QtbmV0d29yaw C2pFRyL7cEMgsBaZOIraX4",
		"AQKsAoDm_okHD2FuYWx5c3QtbmV0d29yawC2pFRyL7cEMgsBaZOIraX4\n",
		"alice@example.org",
		"%41%51%4B",
		"AQKsAoDm_okHD2FuYWx5c3QtbmV0d29yawC2pFRyL7cEMgsBaZOIraX\xc3\xa9",
	};

	test_key(key, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (token_check(key, &test_salts, bad[i], 1700000000, &got, &cause) == 0) {
			print_error("\"%s\": got valid, want malformed\n",
			    bad[i]);
			fail();
		}
		assert_str_eq_msg(bad[i], cause, "malformed");
		free(cause);
	}

	cause = NULL;
	assert_int_equal(token_check(key, &test_salts, NULL, 0, &got, &cause), -1);
	assert_str_eq_msg("NULL", cause, "malformed");
	free(cause);

	huge = malloc(100001);
	assert_non_null(huge);
	memset(huge, 'A', 100000);
	huge[100000] = '\0';
	cause = NULL;
	assert_int_equal(token_check(key, &test_salts, huge, 0, &got, &cause), -1);
	assert_str_eq_msg("100000 characters", cause, "malformed");
	free(cause);
	free(huge);
}

/* A token grants by id: no address, nor any piece of one, is in it. */
static void
test_no_address(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN];
	struct token	 t;
	char		*s;
	size_t		 i;
	static const char *parts[] = {
		"@", "alice", "Alice", "example", "org", "ALICE", "EXAMPLE",
	};

	test_key(key, 9);
	/* Subscriber 31337 is alice@example.org. */
	for (i = TOKEN_CONFIRM; i <= TOKEN_LAST; i++) {
		t = test_token((enum token_purpose)i, 31337,
		    i >= TOKEN_BOUNCE ? "" : "analyst-network",
		    i >= TOKEN_BOUNCE ? 12 : 0, 0);
		s = token_make(key, &t);
		for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++) {
			if (strstr(s, parts[j]) != NULL) {
				print_error("got \"%s\" in token %s, want "
				    "no part of the address\n", parts[j], s);
				fail();
			}
		}
		free(s);
	}
}

static const struct {
	const char	*a;
	const char	*b;
	int		 same;
} hashes[] = {
	{ "alice@example.org", "alice@EXAMPLE.ORG", 1 },
	{ "Alice@Example.Org", "Alice@example.org", 1 },
	{ "  alice@example.org\n", "alice@example.org", 1 },
	{ "\"a@b\"@Example.org", "\"a@b\"@example.org", 1 },
	{ "Alice@example.org", "alice@example.org", 1 },
	{ "SIAN.Jones@NHS.uk", "sian.jones@nhs.uk", 1 },
	{ "ZOË@example.org", "zoË@example.org", 1 },	/* ASCII only */
	{ "zoË@example.org", "zoë@example.org", 0 },
	{ "alice@example.org", "alice@example.com", 0 },
	{ "alice@example.org", "alice+news@example.org", 0 },
};

static void
test_hash_address(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN], other[TOKEN_KEY_LEN];
	char		 a[65], b[65];
	size_t		 i;

	for (i = 0; i < TOKEN_KEY_LEN; i++)
		key[i] = (unsigned char)i;
	test_key(other, 5);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		token_hash_address(key, hashes[i].a, a);
		token_hash_address(key, hashes[i].b, b);
		if ((strcmp(a, b) == 0) != hashes[i].same) {
			print_error("\"%s\" vs \"%s\": got %s, want %s\n",
			    hashes[i].a, hashes[i].b,
			    hashes[i].same ? "different" : "same",
			    hashes[i].same ? "same" : "different");
			fail();
		}
		assert_int_equal(strlen(a), 64);
		assert_int_equal(strspn(a, "0123456789abcdef"), 64);
		/* The legacy hash folds alike. */
		token_hash_address_legacy(hashes[i].a, a);
		token_hash_address_legacy(hashes[i].b, b);
		assert_int_equal(strcmp(a, b) == 0, hashes[i].same);
	}

	/*
	 * Keyed: HMAC-SHA256(key, "postroom-forget-v2:" address), by
	 * Python; neither the plain SHA-256 of the address nor the legacy
	 * hash, and another key gives another hash.
	 */
	token_hash_address(key, "alice@Example.ORG", a);
	assert_str_eq_msg("keyed hash of alice@example.org", a,
	    "72f871236b0efdcbcb58552943c548854b2e95a2207d6c5fd0b2a267842ecc3b");
	assert_true(strcmp(a, "7a64adf28737ea90719cbdf0b1a87a5effff3753"
	    "b79c91d717f4f4153ead0498") != 0);	/* sha256(address) */
	token_hash_address_legacy("alice@example.org", b);
	assert_true(strcmp(a, b) != 0);
	token_hash_address(other, "alice@example.org", b);
	assert_true(strcmp(a, b) != 0);

	/* sha256("postroom-forget-v1:alice@example.org"), by Python. */
	token_hash_address_legacy("alice@Example.ORG", a);
	assert_str_eq_msg("legacy hash of alice@example.org", a,
	    "33b7efa039b7ba48dd0e4f1e28bb8ead899ad125439a854cb63e8960b94a3657");
	token_hash_address_legacy("ALICE@example.org", a);
	assert_str_eq_msg("legacy hash of ALICE@example.org", a,
	    "33b7efa039b7ba48dd0e4f1e28bb8ead899ad125439a854cb63e8960b94a3657");

	/* The old form, for lists made by hand: the local part as given. */
	token_hash_address_as_given("alice@Example.ORG", b);
	assert_str_eq_msg("as given, lower case", b, a);
	token_hash_address_as_given("Alice@example.org", b);
	token_hash_address_legacy("Alice@example.org", a);
	assert_true(strcmp(a, b) != 0);
}

/* --- key files ---------------------------------------------------------- */

static char *
test_tmpdir(void)
{
	const char	*base = getenv("TMPDIR");
	char		*dir;

	if (asprintf(&dir, "%s/postroom-token.XXXXXX",
	    base != NULL ? base : "/tmp") == -1)
		fail();
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	return dir;
}

static void
test_write(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_key_file(void **state)
{
	unsigned char	 k1[TOKEN_KEY_LEN], k2[TOKEN_KEY_LEN], want[32];
	char		*dir, *path, *cause, text[200];
	struct stat	 sb;
	int		 fd;
	ssize_t		 n;
	size_t		 i;

	dir = test_tmpdir();
	assert_true(asprintf(&path, "%s/token.key", dir) != -1);

	/* Missing, not asked to create. */
	cause = NULL;
	assert_int_equal(token_key_load(path, 0, k1, &cause), -1);
	assert_non_null(strstr(cause, "No such file"));
	free(cause);

	/* Created: 0600, 64 hex digits and a newline. */
	cause = NULL;
	if (token_key_load(path, 1, k1, &cause) != 0)
		fail_msg("create: got \"%s\", want success", cause);
	assert_int_equal(stat(path, &sb), 0);
	if ((sb.st_mode & 07777) != 0600)
		fail_msg("got mode %04o, want 0600",
		    (unsigned int)(sb.st_mode & 07777));
	fd = open(path, O_RDONLY);
	assert_true(fd != -1);
	n = read(fd, text, sizeof text - 1);
	close(fd);
	assert_int_equal(n, 65);
	text[n] = '\0';
	assert_int_equal(strspn(text, "0123456789abcdef"), 64);
	assert_int_equal(text[64], '\n');

	/* Loaded again, with or without create: the same key. */
	cause = NULL;
	assert_int_equal(token_key_load(path, 1, k2, &cause), 0);
	assert_memory_equal(k1, k2, TOKEN_KEY_LEN);
	assert_int_equal(token_key_load(path, 0, k2, &cause), 0);
	assert_memory_equal(k1, k2, TOKEN_KEY_LEN);

	/* No temporary files left behind. */
	free(path);
	assert_true(asprintf(&path, "ls -A '%s' | grep -vqx token.key",
	    dir) != -1);
	assert_int_not_equal(system(path), 0);
	free(path);
	assert_true(asprintf(&path, "%s/token.key", dir) != -1);

	/* Upper-case hex, no newline: accepted. */
	test_write(path, "000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191A1B1C1D1E1F", 0600);
	for (i = 0; i < 32; i++)
		want[i] = (unsigned char)i;
	cause = NULL;
	if (token_key_load(path, 0, k1, &cause) != 0)
		fail_msg("upper-case hex: got \"%s\"", cause);
	assert_memory_equal(k1, want, 32);

	/* Readable by group or others: refused, even with create. */
	chmod(path, 0640);
	cause = NULL;
	assert_int_equal(token_key_load(path, 1, k1, &cause), -1);
	assert_non_null(strstr(cause, "chmod 600"));
	free(cause);
	chmod(path, 0604);
	assert_int_equal(token_key_load(path, 0, k1, &cause), -1);
	free(cause);

	/* Not a key. */
	test_write(path, "0001020304\n", 0600);
	assert_int_equal(token_key_load(path, 0, k1, &cause), -1);
	assert_non_null(strstr(cause, "not a key file"));
	free(cause);
	test_write(path, "zz0102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f\n", 0600);
	assert_int_equal(token_key_load(path, 0, k1, &cause), -1);
	free(cause);
	test_write(path, "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f00\n", 0600);
	assert_int_equal(token_key_load(path, 0, k1, &cause), -1);
	free(cause);

	/* A directory is not a key file. */
	cause = NULL;
	assert_int_equal(token_key_load(dir, 1, k1, &cause), -1);
	free(cause);

	/* Directory missing: a clear error, not a crash. */
	free(path);
	assert_true(asprintf(&path, "%s/nope/token.key", dir) != -1);
	assert_int_equal(token_key_load(path, 1, k1, &cause), -1);
	free(cause);
	free(path);

	assert_true(asprintf(&path, "rm -rf '%s'", dir) != -1);
	assert_int_equal(system(path), 0);
	free(path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_salts_checked),
		cmocka_unit_test(test_retired_v1),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_signer),
		cmocka_unit_test(test_hmac_vectors),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_hash_address),
		cmocka_unit_test(test_key_file),
	};

	log_set_level(LOGL_WARN);	/* "created a new key" */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
