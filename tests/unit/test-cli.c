/*
 * test-cli.c - the CLI's argument handling, table-driven: each row is an
 * argv, the exit code it must give and a piece of text that must appear on
 * stdout or stderr.  Output is captured by pointing fds 1 and 2 at files.
 */
#include "testutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "buf.h"

static char	tmpdir[] = "/tmp/postroom-cli.XXXXXX";
static char	goodconf[4200], badconf[4200], pwconf[4200];

struct captured {
	int		rc;
	struct buf	out;
	struct buf	err;
};

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
run_cli(struct captured *c, char **argv)
{
	char	outp[4300], errp[4300];
	int	argc, save1, save2, fd1, fd2;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	snprintf(outp, sizeof outp, "%s/out", tmpdir);
	snprintf(errp, sizeof errp, "%s/err", tmpdir);
	fflush(stdout);
	fflush(stderr);
	save1 = dup(1);
	save2 = dup(2);
	fd1 = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	fd2 = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd1, 1);
	dup2(fd2, 2);
	c->rc = cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	close(fd1);
	close(fd2);
	buf_init(&c->out, 0);
	buf_init(&c->err, 0);
	assert_int_equal(buf_read_file(&c->out, outp), 0);
	assert_int_equal(buf_read_file(&c->err, errp), 0);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(goodconf, sizeof goodconf, "%s/good.conf", tmpdir);
	snprintf(badconf, sizeof badconf, "%s/bad.conf", tmpdir);
	snprintf(pwconf, sizeof pwconf, "%s/pw.conf", tmpdir);
	write_file(goodconf, "general = { from_address = \"x@example.org\"; };\n",
	    0644);
	write_file(badconf, "smtp = {\n  concurrency = 0;\n  nosuch = 1;\n};\n",
	    0644);
	write_file(pwconf, "smtp = { password = \"hunter2\"; };\n", 0600);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[4300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

enum where { OUT, ERR };

struct cli_case {
	const char	*name;
	const char	*argv[10];	/* after "postroom" */
	int		 rc;
	enum where	 where;
	const char	*want;		/* substring, or NULL */
};

#define GOOD "@good"	/* replaced by the path of a good config */
#define BAD  "@bad"
#define PW   "@pw"

static const struct cli_case cases[] = {
	{ "no command", { NULL }, 64, ERR, "usage: postroom" },
	{ "--help", { "--help", NULL }, 0, OUT, "Commands:" },
	{ "-h lists check-config", { "-h", NULL }, 0, OUT, "check-config" },
	{ "--version", { "--version", NULL }, 0, OUT, "postroom " },
	{ "unknown command", { "frobnicate", NULL }, 64, ERR,
	    "unknown command \"frobnicate\"" },
	{ "unknown global option", { "--bogus", "check-config", NULL }, 64,
	    ERR, "usage:" },
	{ "-o without =", { "-o", "smtp.url", "check-config", NULL }, 64, ERR,
	    "expected NAME=VALUE" },
	{ "-c without argument", { "-c", NULL }, 64, ERR, "usage:" },
	{ "check-config --help", { "check-config", "--help", NULL }, 0, OUT,
	    "usage: postroom" },
	{ "check-config extra argument", { "-c", GOOD, "check-config", "x",
	    NULL }, 64, ERR, "usage:" },
	{ "check-config good", { "-c", GOOD, "check-config", NULL }, 0, OUT,
	    "configuration OK" },
	{ "check-config bad: exit 2, file and line", { "-c", BAD,
	    "check-config", NULL }, 2, ERR, ":2:" },
	{ "check-config bad: every problem", { "-c", BAD, "check-config",
	    NULL }, 2, ERR, ":3:" },
	{ "check-config missing file", { "-c", "/nonexistent/p.conf",
	    "check-config", NULL }, 2, ERR, "/nonexistent/p.conf" },
	{ "-o validated like the file", { "-c", GOOD, "-o",
	    "smtp.concurrency=lots", "check-config", NULL }, 2, ERR,
	    "smtp.concurrency" },
	{ "-o unknown setting", { "-c", GOOD, "-o", "smtp.nosuch=1",
	    "check-config", NULL }, 2, ERR, "smtp.nosuch" },
	{ "-o good override", { "-c", GOOD, "-o", "smtp.concurrency=8",
	    "check-config", NULL }, 0, OUT, "configuration OK" },
	{ "config dump shows an override", { "-c", GOOD, "-o",
	    "smtp.concurrency=8", "config", "dump", NULL }, 0, OUT,
	    "smtp.concurrency = 8" },
	{ "config dump masks secrets", { "-c", PW, "config", "dump", NULL },
	    0, OUT, "smtp.password = ********" },
	{ "config without subcommand", { "-c", GOOD, "config", NULL }, 64,
	    ERR, "usage:" },
	{ "config with bad subcommand", { "-c", GOOD, "config", "show",
	    NULL }, 64, ERR, "usage:" },
	{ "config dump with bad config exits 78", { "-c", BAD, "config",
	    "dump", NULL }, 78, ERR, ":2:" },
	{ "render without arguments", { "render", NULL }, 64, ERR,
	    "usage:" },
	{ "render --help", { "render", "--help", NULL }, 0, OUT, "--template" },
};

static void
test_cli_table(void **state)
{
	struct captured	 c;
	char		*argv[12];
	size_t		 i, j;
	int		 failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		argv[0] = (char *)"postroom";
		for (j = 0; cases[i].argv[j] != NULL; j++) {
			const char *a = cases[i].argv[j];
			if (strcmp(a, GOOD) == 0)
				a = goodconf;
			else if (strcmp(a, BAD) == 0)
				a = badconf;
			else if (strcmp(a, PW) == 0)
				a = pwconf;
			argv[j + 1] = (char *)a;
		}
		argv[j + 1] = NULL;
		run_cli(&c, argv);
		const char *text = cases[i].where == OUT ? c.out.data : c.err.data;
		if (c.rc != cases[i].rc) {
			print_error("%s: exit code: got %d, want %d\n"
			    "  stdout: %s\n  stderr: %s\n", cases[i].name, c.rc,
			    cases[i].rc, c.out.data, c.err.data);
			failed++;
		} else if (cases[i].want != NULL &&
		    strstr(text, cases[i].want) == NULL) {
			print_error("%s: got %s \"%s\", want it to contain "
			    "\"%s\"\n", cases[i].name,
			    cases[i].where == OUT ? "stdout" : "stderr", text,
			    cases[i].want);
			failed++;
		}
		buf_free(&c.out);
		buf_free(&c.err);
	}
	assert_int_equal(failed, 0);
}

/* The config path comes from -c, else $POSTROOM_CONFIG, else /etc. */
static void
test_cli_config_path(void **state)
{
	struct captured	 c;
	char		*argv[] = { (char *)"postroom", (char *)"check-config",
			    NULL };

	(void)state;
	setenv("POSTROOM_CONFIG", badconf, 1);
	run_cli(&c, argv);
	assert_int_equal(c.rc, 2);
	if (strstr(c.err.data, badconf) == NULL) {
		print_error("got stderr \"%s\", want it to name %s\n",
		    c.err.data, badconf);
		fail();
	}
	buf_free(&c.out);
	buf_free(&c.err);
	unsetenv("POSTROOM_CONFIG");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_table),
		cmocka_unit_test(test_cli_config_path),
	};

	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
