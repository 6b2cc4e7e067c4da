/*
 * test-user.c - staff accounts (user.c, store-user.c): roles, what a
 * password must be, Argon2id hashes that check and do not leak, and the
 * changes with their audit records, against a real database.
 */
#include "testutil.h"

#include <stdint.h>
#include <string.h>

#include "user.h"


static void
test_roles(void **state)
{
	enum user_role	 r;
	int		 i;

	(void)state;
	for (i = 0; i < USER_NROLES; i++) {
		assert_int_equal(user_role_parse(user_role_name(i), &r), 0);
		assert_int_equal(r, i);
	}
	assert_int_equal(user_role_parse("Admin", &r), -1);
	assert_int_equal(user_role_parse("root", &r), -1);
	assert_int_equal(user_role_parse("", &r), -1);
}

static void
test_password_rules(void **state)
{
	char	 big[USER_PASSWORD_MAX + 2];

	(void)state;
	assert_null(user_password_refused("twelve chars", "a@example.org"));
	/* Characters, not bytes: 11 letters in 22 bytes are too few. */
	assert_non_null(user_password_refused(
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL));
	assert_non_null(user_password_refused("eleven char", NULL));
	assert_non_null(user_password_refused("A@Example.org",
	    "a@example.org"));
	assert_non_null(user_password_refused("two lines\nof password", NULL));
	assert_non_null(user_password_refused("not utf-8 \xff\xfe text", NULL));
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_non_null(user_password_refused(big, NULL));
	big[USER_PASSWORD_MAX] = '\0';
	assert_null(user_password_refused(big, NULL));
}

static void
test_hash(void **state)
{
	char	*a, *b, *cause = NULL;

	(void)state;
	a = user_password_hash("correct horse battery", &cause);
	b = user_password_hash("correct horse battery", &cause);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(strncmp(a, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
	/* Salted: the same password, two hashes; neither holds it. */
	assert_string_not_equal(a, b);
	assert_null(strstr(a, "horse"));
	assert_int_equal(user_password_matches(a, "correct horse battery"), 1);
	assert_int_equal(user_password_matches(b, "correct horse battery"), 1);
	assert_int_equal(user_password_matches(a, "correct horse batter"), 0);
	assert_int_equal(user_password_matches(a, ""), 0);
	/* A damaged or foreign hash never matches. */
	a[strlen(a) - 2] = a[strlen(a) - 2] == 'A' ? 'B' : 'A';
	assert_int_equal(user_password_matches(a, "correct horse battery"), 0);
	assert_int_equal(user_password_matches("$argon2i$v=19$m=8,t=1,p=1$"
	    "c2FsdHNhbHQ$aGFzaA", "x"), 0);
	assert_int_equal(user_password_matches("plain", "plain"), 0);
	assert_int_equal(user_password_matches(NULL, "x"), 0);
	free(a);
	free(b);
}

static void
test_changes(void **state)
{
	struct store		*s;
	struct store_user	 u;
	char			*cause = NULL, *old;

	(void)state;
	s = test_store_new(test_tree_dir, &test_tree_ndb);
	assert_non_null(s);
	assert_int_equal(user_add(s, test_tree_conf, "Ann@Example.ORG", "Ann",
	    "admin", NULL, "correct horse battery", "cli:test", 1000,
	    &cause), 1);
	/* One account per address, whatever its case. */
	assert_int_equal(user_add(s, test_tree_conf, "ann@example.org", "Other",
	    "viewer", NULL, "correct horse battery", "cli:test", 1001,
	    &cause), 0);
	assert_non_null(strstr(cause, "already has an account"));
	free(cause);
	cause = NULL;
	/* A lead's key must be configured; other roles take none. */
	assert_int_equal(user_add(s, test_tree_conf, "lee@example.org", "Lee",
	    "lead", "nosuch", "correct horse battery", "cli:test", 1002,
	    &cause), 0);
	free(cause);
	cause = NULL;
	assert_int_equal(user_add(s, test_tree_conf, "lee@example.org", "Lee",
	    "lead", "west_dsu", "correct horse battery", "cli:test", 1003,
	    &cause), 1);
	assert_int_equal(test_int(s, "SELECT count(*) FROM users"), 2);

	assert_int_equal(store_user_get(s, "ANN@example.org", &u, &cause), 1);
	assert_string_equal(u.role, "admin");
	assert_int_equal(u.created_at, 1000);
	assert_int_equal(user_password_matches(u.password_hash,
	    "correct horse battery"), 1);
	old = xstrdup(u.password_hash);
	store_user_clear(&u);

	assert_int_equal(user_set_role(s, test_tree_conf, "lee@example.org",
	    "editor", NULL, "cli:test", 1004, &cause), 1);
	assert_int_equal(test_int(s, "SELECT lead IS NULL FROM users"
	    " WHERE email = 'lee@example.org'"), 1);
	assert_int_equal(user_set_disabled(s, "lee@example.org", 1,
	    "cli:test", 1005, &cause), 1);
	assert_int_equal(user_set_disabled(s, "lee@example.org", 1,
	    "cli:test", 1006, &cause), 1);
	assert_int_equal(user_reset_password(s, "ann@example.org",
	    "a new passphrase here", "cli:test", 1007, &cause), 1);
	assert_int_equal(store_user_get(s, "ann@example.org", &u, &cause), 1);
	assert_string_not_equal(u.password_hash, old);
	assert_int_equal(u.password_at, 1007);
	assert_int_equal(user_password_matches(u.password_hash,
	    "correct horse battery"), 0);
	store_user_clear(&u);
	free(old);
	assert_int_equal(user_reset_password(s, "nobody@example.org",
	    "a new passphrase here", "cli:test", 1008, &cause), 0);
	free(cause);
	cause = NULL;

	/* Each change once in the audit log, with who made it. */
	assert_int_equal(test_int(s, "SELECT count(*) FROM events"
	    " WHERE actor = 'cli:test'"), 5);
	assert_int_equal(test_int(s, "SELECT count(*) FROM events"
	    " WHERE kind = 'user.disabled'"), 1);
	assert_int_equal(test_int(s, "SELECT count(*) FROM events WHERE"
	    " instr(coalesce(detail, ''), 'passphrase') > 0"), 0);
	store_close(s);
}

/*
 * RFC 6238 appendix B, SHA-1: the key "12345678901234567890", the last
 * six of the eight digits given there.
 */
static void
test_totp_vectors(void **state)
{
	static const struct {
		int64_t		 t;
		const char	*code;
	} v[] = {
		{ 59, "287082" },
		{ 1111111109, "081804" },
		{ 1111111111, "050471" },
		{ 1234567890, "005924" },
		{ 2000000000, "279037" },
		{ 20000000000LL, "353130" },
	};
	const unsigned char	*key = (const unsigned char *)
	    "12345678901234567890";
	int64_t			 step;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		step = -1;
		if (user_totp_matches(key, 20, v[i].code, v[i].t, &step) != 1)
			fail_msg("t=%lld: %s refused", (long long)v[i].t,
			    v[i].code);
		assert_int_equal(step, v[i].t / 30);
	}
	/* One step of drift either way, not two. */
	assert_int_equal(user_totp_matches(key, 20, "081804",
	    1111111109 + 30, &step), 1);
	assert_int_equal(step, 1111111109 / 30);
	assert_int_equal(user_totp_matches(key, 20, "081804",
	    1111111109 - 30, &step), 1);
	assert_int_equal(user_totp_matches(key, 20, "081804",
	    1111111109 + 90, &step), 0);
	assert_int_equal(user_totp_matches(key, 20, "081805", 1111111109,
	    &step), 0);
	assert_int_equal(user_totp_matches(key, 20, "81804", 1111111109,
	    &step), 0);
	assert_int_equal(user_totp_matches(key, 20, "08180a", 1111111109,
	    &step), 0);
	assert_int_equal(user_totp_matches(key, 20, "", 1111111109, &step),
	    0);
}

/* A second factor set up, a code good once, removed. */
static void
test_totp_account(void **state)
{
	struct store		*s;
	struct store_user	 u;
	char			*cause = NULL, *uri = NULL, *sql;
	int64_t			 id;

	(void)state;
	s = test_store_new(test_tree_dir, &test_tree_ndb);
	assert_non_null(s);
	assert_int_equal(user_add(s, test_tree_conf, "tia@example.org", "Tia",
	    "admin", NULL, "correct horse battery", "cli:test", 1000,
	    &cause), 1);
	assert_int_equal(store_user_get(s, "tia@example.org", &u, &cause), 1);
	id = u.id;
	assert_int_equal(u.has_totp, 0);
	store_user_clear(&u);
	assert_int_equal(user_totp_check(s, id, "287082", 59, &cause), 0);

	assert_int_equal(user_totp_set(s, "tia@example.org", 1, "cli:test",
	    1001, &uri, &cause), 1);
	assert_non_null(uri);
	assert_true(strncmp(uri, "otpauth://totp/postroom:tia@example.org"
	    "?secret=", 47) == 0);
	free(uri);
	/* The RFC's key in its place, to know the codes. */
	assert_int_equal(store_user_set_totp(s, id, "12345678901234567890",
	    20, 1002, &cause), 1);
	assert_int_equal(user_totp_check(s, id, "081804", 1111111109,
	    &cause), 1);
	/* Good once: the same code again is a replay. */
	assert_int_equal(user_totp_check(s, id, "081804", 1111111109,
	    &cause), 0);
	/* ... and so is an earlier step's, once a later one was used. */
	assert_int_equal(user_totp_check(s, id, "005924", 1234567890,
	    &cause), 1);
	assert_int_equal(user_totp_check(s, id, "050471", 1111111111,
	    &cause), 0);
	assert_int_equal(user_totp_set(s, "tia@example.org", 0, "cli:test",
	    1003, &uri, &cause), 1);
	assert_null(uri);
	assert_int_equal(user_totp_check(s, id, "279037", 2000000000,
	    &cause), 0);
	sql = xprintf("SELECT count(*) FROM events WHERE kind LIKE"
	    " 'user.totp-%%' AND subject = 'tia@example.org'");
	assert_int_equal(test_int(s, sql), 2);
	free(sql);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_password_rules),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_totp_vectors),
		cmocka_unit_test(test_totp_account),
	};

	return cmocka_run_group_tests(tests, test_tree_setup,
	    test_tree_teardown);
}
