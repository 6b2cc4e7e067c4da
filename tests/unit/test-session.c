/*
 * test-session.c - console sessions (session.c, store-user.c): stored
 * only as hashes, new at each sign-in, ended by idleness, age, sign-out,
 * disabling and a new password; CSRF tokens bound to their session.
 * Every time is given, none read from the clock.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "session.h"
#include "user.h"


/* A database with one account, its id in *id. */
static struct store *
with_account(int64_t *id)
{
	struct store		*s;
	struct store_user	 u;
	char			*cause = NULL;

	if ((s = test_store_new(test_tree_dir, &test_tree_ndb)) == NULL)
		fail();
	if (user_add(s, test_tree_conf, "sam@example.org", "Sam", "editor",
	    NULL, "correct horse battery", "cli:test", 1000, &cause) != 1 ||
	    store_user_get(s, "sam@example.org", &u, &cause) != 1)
		fail_msg("%s", cause);
	*id = u.id;
	store_user_clear(&u);
	return s;
}

static void
test_start_find_end(void **state)
{
	struct store	*s;
	struct session	 ss;
	char		 a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1];
	char		*cause = NULL, *sql;
	int64_t		 id, t = 1800000000;

	(void)state;
	s = with_account(&id);
	assert_int_equal(session_start(s, id, t, a, &cause), 0);
	assert_int_equal(session_start(s, id, t, b, &cause), 0);
	assert_int_equal(strlen(a), SESSION_ID_LEN);
	assert_string_not_equal(a, b);
	/* Kept as a hash only. */
	sql = xprintf("SELECT count(*) FROM sessions WHERE hash = '%s'", a);
	assert_int_equal(test_int(s, sql), 0);
	free(sql);
	assert_int_equal(test_int(s, "SELECT count(*) FROM sessions"
	    " WHERE length(hash) = 64"), 2);

	assert_int_equal(session_find(s, a, t + 60, &ss, &cause), 1);
	assert_int_equal(ss.user_id, id);
	assert_int_equal(session_recent(&ss, t + 60), 1);
	assert_int_equal(session_recent(&ss, t + SESSION_REAUTH + 1), 0);
	/* Anything else in the cookie: no session, no error. */
	assert_int_equal(session_find(s, "", t, &ss, &cause), 0);
	assert_int_equal(session_find(s, "zz", t, &ss, &cause), 0);
	a[0] = a[0] == '0' ? '1' : '0';
	assert_int_equal(session_find(s, a, t, &ss, &cause), 0);
	a[0] = a[0] == '0' ? '1' : '0';
	/* Signed out: gone; the other session lives. */
	assert_int_equal(session_end(s, a, &cause), 0);
	assert_int_equal(session_find(s, a, t + 60, &ss, &cause), 0);
	assert_int_equal(session_find(s, b, t + 60, &ss, &cause), 1);
	store_close(s);
}

static void
test_timeouts(void **state)
{
	struct store	*s;
	struct session	 ss;
	char		 a[SESSION_ID_LEN + 1];
	char		*cause = NULL;
	int64_t		 id, t = 1800000000, now;

	(void)state;
	s = with_account(&id);
	/* Idle: a request every 29 minutes keeps it, up to 12 hours. */
	assert_int_equal(session_start(s, id, t, a, &cause), 0);
	for (now = t + 29 * 60; now <= t + SESSION_MAX; now += 29 * 60)
		assert_int_equal(session_find(s, a, now, &ss, &cause), 1);
	assert_int_equal(session_find(s, a, t + SESSION_MAX + 1, &ss,
	    &cause), 0);
	/* ... and once expired it is deleted. */
	assert_int_equal(test_int(s, "SELECT count(*) FROM sessions"), 0);
	assert_int_equal(session_start(s, id, t, a, &cause), 0);
	assert_int_equal(session_find(s, a, t + SESSION_IDLE, &ss, &cause),
	    1);
	assert_int_equal(session_find(s, a, t + 2 * SESSION_IDLE + 1, &ss,
	    &cause), 0);
	/* A clock set back before the sign-in does not keep it. */
	assert_int_equal(session_start(s, id, t, a, &cause), 0);
	assert_int_equal(session_find(s, a, t - 10, &ss, &cause), 0);
	store_close(s);
}

static void
test_ended_by_account(void **state)
{
	struct store	*s;
	struct session	 ss;
	char		 a[SESSION_ID_LEN + 1];
	char		*cause = NULL;
	int64_t		 id, t = 1800000000;

	(void)state;
	s = with_account(&id);
	assert_int_equal(session_start(s, id, t, a, &cause), 0);
	assert_int_equal(user_set_disabled(s, "sam@example.org", 1, "cli:test",
	    t + 1, &cause), 1);
	assert_int_equal(session_find(s, a, t + 2, &ss, &cause), 0);
	assert_int_equal(user_set_disabled(s, "sam@example.org", 0, "cli:test",
	    t + 3, &cause), 1);
	/* Enabling again does not bring the old session back. */
	assert_int_equal(session_find(s, a, t + 4, &ss, &cause), 0);
	assert_int_equal(session_start(s, id, t + 5, a, &cause), 0);
	assert_int_equal(user_reset_password(s, "sam@example.org",
	    "a different passphrase", "cli:test", t + 6, &cause), 1);
	assert_int_equal(session_find(s, a, t + 7, &ss, &cause), 0);
	store_close(s);
}

static void
test_csrf(void **state)
{
	unsigned char	 key[TOKEN_KEY_LEN], other[TOKEN_KEY_LEN];
	char		 a[SESSION_CSRF_LEN + 1], b[SESSION_CSRF_LEN + 1];
	const char	*s1 = "0123456789abcdef0123456789abcdef"
			    "0123456789abcdef0123456789abcdef";
	const char	*s2 = "1123456789abcdef0123456789abcdef"
			    "0123456789abcdef0123456789abcdef";

	(void)state;
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	session_csrf(key, s1, a);
	session_csrf(key, s2, b);
	assert_int_equal(strlen(a), SESSION_CSRF_LEN);
	assert_string_not_equal(a, b);
	assert_int_equal(session_csrf_ok(key, s1, a), 1);
	assert_int_equal(session_csrf_ok(key, s2, a), 0);
	assert_int_equal(session_csrf_ok(other, s1, a), 0);
	assert_int_equal(session_csrf_ok(key, s1, ""), 0);
	assert_int_equal(session_csrf_ok(key, s1, NULL), 0);
	a[10] = a[10] == 'a' ? 'b' : 'a';
	assert_int_equal(session_csrf_ok(key, s1, a), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_find_end),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_ended_by_account),
		cmocka_unit_test(test_csrf),
	};

	return cmocka_run_group_tests(tests, test_tree_setup,
	    test_tree_teardown);
}
