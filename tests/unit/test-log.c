/*
 * test-log.c - log.c: every email address in a log line is masked, the
 * same address (in any case) always the same way, and nothing else is
 * touched; a line that would repeat is said once a minute, counting the
 * rest.
 */
#include "testutil.h"

#include <unistd.h>

#include "log.h"

/* got matches want, where "*" in want stands for 8 hex digits. */
static int
matches(const char *got, const char *want)
{
	int	i;

	while (*want != '\0') {
		if (*want == '*') {
			for (i = 0; i < 8; i++, got++) {
				if (!((*got >= '0' && *got <= '9') ||
				    (*got >= 'a' && *got <= 'f')))
					return 0;
			}
			want++;
		} else if (*got++ != *want++)
			return 0;
	}
	return *got == '\0';
}

static void
test_mask(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* "*" stands for 8 hex digits */
	} cases[] = {
		{ "outbox 12 (campaign 3): sending -> sent",
		  "outbox 12 (campaign 3): sending -> sent" },
		{ "550 5.1.1 <sian.jones@nhs.example.net>: user unknown",
		  "550 5.1.1 <addr#*>: user unknown" },
		{ "bob@example.org", "addr#*" },
		{ "To: a@b.c, c.d+tag@sub.example.org.",
		  "To: addr#*, addr#*." },
		{ "imaps://enquiries@mail.example.org:993",
		  "imaps://addr#*:993" },
		{ "zoë@exämple.org said", "addr#* said" },
		{ "rcpt to=o'neil@example.org;", "rcpt to=addr#*;" },
		{ "x@@y", "x@@y" },
		{ "@example.org and a trailing @", "@example.org and a "
		  "trailing @" },
		{ "ENQ-2026-00001: maildir:1.eml -> general",
		  "ENQ-2026-00001: maildir:1.eml -> general" },
		{ "", "" },
	};
	char	 got[512];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		log_mask_addresses(cases[i].in, got, sizeof got);
		if (!matches(got, cases[i].want)) {
			print_error("\"%s\": got \"%s\", want \"%s\"\n",
			    cases[i].in, got, cases[i].want);
			fail();
		}
	}
}

static void
test_mask_same(void **state)
{
	char	a[64], b[64], c[64], small[8];

	(void)state;
	log_mask_addresses("Sian.Jones@NHS.example.net", a, sizeof a);
	log_mask_addresses("sian.jones@nhs.example.net", b, sizeof b);
	log_mask_addresses("sian.jones2@nhs.example.net", c, sizeof c);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	/* Cut short, still terminated, still no address. */
	assert_int_equal(log_mask_addresses("bob@example.org", small,
	    sizeof small), 7);
	assert_int_equal(strncmp(small, "addr#", 5), 0);
	small[0] = 'x';
	assert_int_equal(log_mask_addresses("", small, 1), 0);
	assert_int_equal(small[0], '\0');
}

/* A full disk, failing every second for three minutes: four lines. */
static void
test_every(void **state)
{
	struct log_every	 e;
	FILE			*f;
	char			 line[512];
	long long		 t;
	int			 saved, said = 0, n = 0;

	assert_non_null(f = tmpfile());
	saved = dup(2);
	fflush(stderr);
	assert_int_not_equal(dup2(fileno(f), 2), -1);
	log_init("test-log", LOGL_INFO);
	memset(&e, 0, sizeof e);
	for (t = 1000; t <= 181000; t += 1000)
		said += log_every(&e, t, LOG_EVERY_MINUTE, LOGL_ERROR,
		    "database or disk is full");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(said, 4);	/* at 1, 61, 121 and 181 s */
	rewind(f);
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		if (strstr(line, "database or disk is full") == NULL)
			fail_msg("line %d: %s", n, line);
		if (n > 1 && strstr(line, "(and 59 more like it in the last "
		    "60 s)") == NULL)
			fail_msg("line %d does not count the others: %s", n,
			    line);
	}
	fclose(f);
	assert_int_equal(n, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_mask_same),
		cmocka_unit_test(test_every),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
