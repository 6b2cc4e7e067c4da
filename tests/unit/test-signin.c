/*
 * test-signin.c - signing in (signin.c): the one refusal for every wrong
 * part, the second factor asked for only after the right password, a
 * code good once, limits per account and per client that hold whatever
 * the outcome, and the audit record of each attempt.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "crypto.h"
#include "hex.h"
#include "signin.h"
#include "user.h"
#include "xmalloc.h"

#define PW	"correct horse battery"
#define T0	1111111109	/* RFC 6238's: "081804" is its code */

static struct store *
accounts(void)
{
	struct store	*s;
	char		*cause = NULL;

	if ((s = test_store_new(test_tree_dir, &test_tree_ndb)) == NULL)
		fail();
	if (user_add(s, test_tree_conf, "ana@example.org", "Ana", "editor",
	    NULL, PW, "cli:test", 1, &cause) != 1 ||
	    user_add(s, test_tree_conf, "bo@example.org", "Bo", "viewer",
	    NULL, PW, "cli:test", 1, &cause) != 1)
		fail_msg("%s", cause);
	return s;
}

/* The token key the limits are keyed with, and console.admin_totp. */
static const unsigned char key[TOKEN_KEY_LEN] = { 7, 1, 2 };
static int admin_totp;

static enum signin_result
try(struct store *s, const char *email, const char *pw, const char *code,
    const char *client, int64_t now, char *session)
{
	struct signin		 in = { email, pw, code, client, key,
				    admin_totp, now };
	enum signin_result	 res;
	int64_t			 uid;
	char			*cause = NULL, id[SESSION_ID_LEN + 1];

	if (signin_try(s, &in, &res, session != NULL ? session : id, &uid,
	    &cause) != 0)
		fail_msg("signin_try: %s", cause);
	return res;
}

static void
test_one_refusal(void **state)
{
	struct store	*s;
	struct session	 ss;
	char		 id[SESSION_ID_LEN + 1], *cause = NULL;

	(void)state;
	s = accounts();
	assert_int_equal(try(s, "ANA@example.org", PW, "", "c1", T0, id),
	    SIGNIN_OK);
	assert_int_equal(session_find(s, id, T0 + 1, &ss, &cause), 1);
	assert_int_equal(try(s, "ana@example.org", PW "x", "", "c1", T0,
	    NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "nobody@example.org", PW, "", "c1", T0,
	    NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "not an address", PW, "", "c1", T0, NULL),
	    SIGNIN_REFUSED);
	assert_int_equal(user_set_disabled(s, "bo@example.org", 1, "cli:test",
	    T0, &cause), 1);
	assert_int_equal(try(s, "bo@example.org", PW, "", "c1", T0, NULL),
	    SIGNIN_REFUSED);
	/* Each attempt recorded, with why; never a password. */
	assert_int_equal(test_int(s, "SELECT count(*) FROM events"
	    " WHERE kind = 'user.signin'"), 1);
	assert_int_equal(test_int(s, "SELECT count(*) FROM events"
	    " WHERE kind = 'user.signin-failed'"), 4);
	assert_int_equal(test_int(s, "SELECT count(*) FROM events"
	    " WHERE detail = 'account disabled'"), 1);
	assert_int_equal(test_int(s, "SELECT count(*) FROM events WHERE"
	    " instr(coalesce(detail, '') || subject, 'horse') > 0"), 0);
	assert_int_equal(test_int(s, "SELECT count(*) FROM rate_limits"
	    " WHERE instr(key, '@') > 0"), 0);
	store_close(s);
}

static void
test_second_factor(void **state)
{
	struct store		*s;
	struct store_user	 u;
	char			*cause = NULL, *uri = NULL;

	(void)state;
	s = accounts();
	assert_int_equal(user_totp_set(s, "ana@example.org", 1, "cli:test",
	    1, &uri, &cause), 1);
	free(uri);
	assert_int_equal(store_user_get(s, "ana@example.org", &u, &cause), 1);
	assert_int_equal(store_user_set_totp(s, u.id, "12345678901234567890",
	    20, 1, &cause), 1);
	store_user_clear(&u);
	/* The code is asked for only after the right password. */
	assert_int_equal(try(s, "ana@example.org", "wrong password here", "",
	    "c1", T0, NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "ana@example.org", PW, "", "c1", T0, NULL),
	    SIGNIN_NEED_CODE);
	assert_int_equal(try(s, "ana@example.org", PW, "123456", "c1", T0,
	    NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "ana@example.org", "wrong password here",
	    "081804", "c1", T0, NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "ana@example.org", PW, "081804", "c1", T0,
	    NULL), SIGNIN_OK);
	/* Seen once, never again. */
	assert_int_equal(try(s, "ana@example.org", PW, "081804", "c1", T0,
	    NULL), SIGNIN_REFUSED);
	store_close(s);
}

static void
test_limits(void **state)
{
	struct store	*s;
	char		 client[32];
	int		 i;

	(void)state;
	s = accounts();
	/* Per account, from any clients, whatever the outcome. */
	for (i = 0; i < SIGNIN_PER_ACCOUNT; i++) {
		snprintf(client, sizeof client, "a%d", i);
		assert_int_not_equal(try(s, "ana@example.org", "wrong one here",
		    "", client, T0, NULL), SIGNIN_THROTTLED);
	}
	assert_int_equal(try(s, "ANA@example.org", PW, "", "elsewhere", T0,
	    NULL), SIGNIN_THROTTLED);
	/* Another account is not held up by it. */
	assert_int_equal(try(s, "bo@example.org", PW, "", "elsewhere", T0,
	    NULL), SIGNIN_OK);
	/* After the window, the right password works again. */
	assert_int_equal(try(s, "ana@example.org", PW, "", "elsewhere",
	    T0 + SIGNIN_WINDOW + 1, NULL), SIGNIN_OK);

	/* Per client, over any accounts, known or not. */
	for (i = 0; i < SIGNIN_PER_CLIENT; i++) {
		snprintf(client, sizeof client, "x%d@example.org", i);
		assert_int_not_equal(try(s, client, PW, "", "one-client",
		    T0 + 2 * SIGNIN_WINDOW, NULL), SIGNIN_THROTTLED);
	}
	assert_int_equal(try(s, "bo@example.org", PW, "", "one-client",
	    T0 + 2 * SIGNIN_WINDOW, NULL), SIGNIN_THROTTLED);
	assert_int_equal(try(s, "bo@example.org", PW, "", "another-client",
	    T0 + 2 * SIGNIN_WINDOW, NULL), SIGNIN_OK);
	store_close(s);
}

/* console.admin_totp: an admin without a second factor is stopped. */
static void
test_admin_totp(void **state)
{
	struct store		*s;
	struct store_user	 u;
	char			*cause = NULL, *uri = NULL;

	(void)state;
	s = accounts();
	assert_int_equal(user_add(s, test_tree_conf, "ad@example.org", "Ad",
	    "admin", NULL, PW, "cli:test", 1, &cause), 1);
	assert_int_equal(try(s, "ad@example.org", PW, "", "c1", T0, NULL),
	    SIGNIN_OK);
	admin_totp = 1;
	assert_int_equal(try(s, "ad@example.org", PW, "", "c1", T0, NULL),
	    SIGNIN_NEED_TOTP);
	/* Said only after the right password; editors are not held. */
	assert_int_equal(try(s, "ad@example.org", "wrong password here", "",
	    "c1", T0, NULL), SIGNIN_REFUSED);
	assert_int_equal(try(s, "ana@example.org", PW, "", "c1", T0, NULL),
	    SIGNIN_OK);
	assert_int_equal(user_totp_set(s, "ad@example.org", 1, "cli:test",
	    1, &uri, &cause), 1);
	free(uri);
	assert_int_equal(store_user_get(s, "ad@example.org", &u, &cause), 1);
	assert_int_equal(store_user_set_totp(s, u.id, "12345678901234567890",
	    20, 1, &cause), 1);
	store_user_clear(&u);
	assert_int_equal(try(s, "ad@example.org", PW, "081804", "c1", T0,
	    NULL), SIGNIN_OK);
	admin_totp = 0;
	store_close(s);
}

/* The limits' keys name no address, not even as its plain hash. */
static void
test_keys_name_nobody(void **state)
{
	struct store	*s;
	unsigned char	 md[CRYPTO_SHA256_LEN];
	char		 hex[2 * CRYPTO_SHA256_LEN + 1], *sql;

	(void)state;
	s = accounts();
	(void)try(s, "ana@example.org", "wrong one here", "", "c1", T0, NULL);
	assert_int_equal(test_int(s, "SELECT count(*) FROM rate_limits"
	    " WHERE key LIKE 'web.signin.account:%'"), 1);
	crypto_sha256("ana@example.org", 15, NULL, 0, md);
	hex_encode(md, sizeof md, hex);
	hex[32] = '\0';
	sql = xprintf("SELECT count(*) FROM rate_limits WHERE key LIKE '%%%s%%'"
	    " OR key LIKE '%%ana%%'", hex);
	assert_int_equal(test_int(s, sql), 0);
	free(sql);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_refusal),
		cmocka_unit_test(test_second_factor),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_admin_totp),
		cmocka_unit_test(test_keys_name_nobody),
	};

	return cmocka_run_group_tests(tests, test_tree_setup,
	    test_tree_teardown);
}
