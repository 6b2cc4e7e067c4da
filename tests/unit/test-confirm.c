/*
 * test-confirm.c - the confirmation email (confirm.c, templates/confirm.txt)
 * says who asked for the subscription.
 *
 * Owns: a table of consent methods of a pending membership (web sign-up,
 * staff by hand, an import) and what the message must and must not say,
 * each message checked by tests/tools/check-email.py (RFC 5322/MIME);
 * a sign-up on the web whose name and address carry a stranger's text,
 * none of which may be in the message but the address in To.
 * Each case has its own database in a mkdtemp directory; "now" is fixed.
 */
#include "testutil.h"

#include <sys/wait.h>

#include <errno.h>
#include <unistd.h>

#include "confirm.h"
#include "log.h"

#define PYTHON	"/usr/bin/python3"

static char		 tmpdir[] = "/tmp/test-confirm.XXXXXX";
static struct conf	*conf;
static int		 ndb;

static int
group_setup(void **state)
{
	(void)state;
	log_set_level(LOGL_WARN);
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	conf = test_conf_tree(tmpdir);
	return conf != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	conf_free(conf);
	test_remove_dir(tmpdir);
	return 0;
}

/* check-email.py over path: its exit status. */
static int
run_check(const char *path)
{
	char	*script;
	int	 status;
	pid_t	 pid;

	script = xprintf("%s/tests/tools/check-email.py", test_top());
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(2, 1);	/* keep TAP clean */
		execl(PYTHON, PYTHON, script,
		    "--expect-subject",
		    "Please confirm your subscription to Midlands Decision "
		    "Support Network news",
		    "--", path, (char *)NULL);
		_exit(127);
	}
	free(script);
	if (waitpid(pid, &status, 0) == -1)
		fail_msg("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
test_who_asked(void **state)
{
	static const struct {
		const char	*method;
		const char	*want;
		const char	*not;
	} cases[] = {
		{ "web", "Someone, probably you, asked to subscribe "
		  "this address", "The staff of" },
		{ "staff", "The staff of the Midlands Decision Support "
		  "Network have added\r\nann@example.org to our mailing list "
		  "\"Midlands Decision Support Network "
		  "news\".", "probably you" },
		{ "import", "The staff of the Midlands Decision Support "
		  "Network have added", "probably you" },
	};
	struct store	*s;
	struct confirm	*c;
	FILE		*f;
	char		*cause = NULL, *msg = NULL, *path;
	int64_t		 id;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((s = test_store_new(tmpdir, &ndb)) == NULL)
			fail();
		if (store_subscriber_add(s, "ann@example.org", "Ann", NULL,
		    &id, &cause) != 1 ||
		    store_member_add(s, id, "news", STORE_MEMBER_PENDING, NULL,
		    cases[i].method, "test", &cause) != 1)
			fail_msg("%s: %s", cases[i].method, cause);
		if ((c = confirm_open(conf, &cause)) == NULL)
			fail_msg("confirm_open: %s", cause);
		if (confirm_add(c, s, id, "news", 1800000000, &cause) != 1)
			fail_msg("%s: confirm_add: %s", cases[i].method, cause);
		confirm_close(c);
		if (store_query_text(s, "SELECT CAST(body AS TEXT) FROM "
		    "outbox JOIN outbox_bodies b ON b.id = body_id"
		    " WHERE kind = 'confirm'", &msg, &cause) != 1)
			fail_msg("%s: no message: %s", cases[i].method,
			    cause != NULL ? cause : "none queued");
		if (strstr(msg, cases[i].want) == NULL ||
		    strstr(msg, cases[i].not) != NULL) {
			print_error("%s: the message\n%s\nwant \"%s\" in it "
			    "and not \"%s\"\n", cases[i].method, msg,
			    cases[i].want, cases[i].not);
			fail();
		}
		if (strstr(msg, "/confirm/") == NULL ||
		    strstr(msg, "ignore this message") == NULL)
			fail_msg("%s: no confirm link or no way to ignore it",
			    cases[i].method);
		path = xprintf("%s/%s.eml", tmpdir, cases[i].method);
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(msg, 1, strlen(msg), f) != strlen(msg) ||
		    fclose(f) != 0)
			fail_msg("%s: %s", path, strerror(errno));
		if (run_check(path) != 0)
			fail_msg("%s: check-email.py found problems (above)",
			    path);
		free(path);
		free(msg);
		msg = NULL;
		store_close(s);
	}
}

/*
 * The public form sends this message to any address typed into it: what
 * was typed as a name, and the "+tag" of the address, must not appear
 * (To: is the bare address, which is where it goes).
 */
static void
test_no_typed_text(void **state)
{
	static const char *const names[] = {
		"Visit http://spam.example", "Claim your prize at spam.example",
	};
	struct store	*s;
	struct confirm	*c;
	char		*cause = NULL, *msg = NULL, *body, *path;
	FILE		*f;
	int64_t		 id;
	size_t		 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if ((s = test_store_new(tmpdir, &ndb)) == NULL)
			fail();
		if (store_subscriber_add(s, "victim+win-at-spam-example@"
		    "example.org", names[i], NULL, &id, &cause) != 1 ||
		    store_member_add(s, id, "news", STORE_MEMBER_PENDING, NULL,
		    "web", "test", &cause) != 1)
			fail_msg("%s", cause);
		if ((c = confirm_open(conf, &cause)) == NULL ||
		    confirm_add(c, s, id, "news", 1800000000, &cause) != 1)
			fail_msg("confirm: %s", cause);
		confirm_close(c);
		if (store_query_text(s, "SELECT CAST(b.body AS TEXT) FROM "
		    "outbox o JOIN outbox_bodies b ON b.id = o.body_id "
		    "WHERE o.kind = 'confirm'", &msg, &cause) != 1)
			fail_msg("no message: %s", cause);
		body = strstr(msg, "\r\n\r\n");
		if (strstr(msg, names[i]) != NULL || strstr(msg, "Visit") !=
		    NULL || strstr(msg, "prize") != NULL || body == NULL ||
		    strstr(body, "win-at-spam") != NULL ||
		    strstr(msg, "\r\nTo: victim+win-at-spam-example@"
		    "example.org\r\n") == NULL) {
			print_error("name \"%s\": got\n%s\nwant neither the "
			    "name nor the address's tag but in a bare To\n",
			    names[i], msg);
			fail();
		}
		path = xprintf("%s/typed-%zu.eml", tmpdir, i);
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(msg, 1, strlen(msg), f) != strlen(msg) ||
		    fclose(f) != 0)
			fail_msg("%s: %s", path, strerror(errno));
		if (run_check(path) != 0)
			fail_msg("%s: check-email.py found problems (above)",
			    path);
		free(path);
		free(msg);
		msg = NULL;
		store_close(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_who_asked),
		cmocka_unit_test(test_no_typed_text),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
