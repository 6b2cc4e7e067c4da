/*
 * test-conf.c - the configuration loader: the shipped file, defaults,
 * -o overrides, secret masking and file modes, and every broken config in
 * tests/configs/bad-*.conf.
 *
 * A bad config opens with one "# expect: LINE: SUBSTRING" line per problem
 * it holds; the test wants an error "FILE:LINE: ..." containing SUBSTRING
 * for each, and no other errors (so a file with several expects proves that
 * every problem is reported, not just the first).
 */
#include "testutil.h"

#include <sys/stat.h>

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <unistd.h>

#include "conf.h"

/* A temporary directory, removed with its files by the fixture. */
static char	test_conf_dir[256];

static int
test_conf_setup(void **state)
{
	snprintf(test_conf_dir, sizeof test_conf_dir, "%s/test-conf.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(test_conf_dir) == NULL)
		return -1;
	return 0;
}

static int
test_conf_teardown(void **state)
{
	char	cmd[512];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_conf_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to NAME in the temporary directory with mode; return path. */
static char *
test_conf_write(const char *name, const char *text, mode_t mode)
{
	static char	 path[512];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", test_conf_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void
test_conf_print_errors(const char *what, const struct conf_errors *errs)
{
	size_t	i;

	for (i = 0; i < errs->n; i++)
		print_error("%s: %s\n", what, errs->msgs[i]);
}

/* Load, failing the test with every error when it does not load clean. */
static struct conf *
test_conf_load_ok(const char *path, char *const *ov, size_t nov)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;

	conf = conf_load(path, ov, nov, &errs);
	if (conf == NULL || errs.n != 0) {
		test_conf_print_errors(path != NULL ? path : "defaults", &errs);
		print_error("%s: got %zu errors, want none\n",
		    path != NULL ? path : "defaults", errs.n);
		fail();
	}
	conf_errors_free(&errs);
	return conf;
}

/* Load expecting failure; the errors are returned. */
static void
test_conf_load_bad(const char *path, char *const *ov, size_t nov,
    struct conf_errors *errs)
{
	struct conf	*conf;

	conf = conf_load(path, ov, nov, errs);
	if (conf != NULL) {
		print_error("%s: loaded, want errors\n",
		    path != NULL ? path : "defaults");
		conf_free(conf);
		fail();
	}
	assert_true(errs->n > 0);
}

static char *
test_conf_dump(const struct conf *conf)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;

	f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_dump(conf, f);
	fclose(f);
	return text;
}

/* Does dump hold the whole line want? */
static int
test_conf_has_line(const char *dump, const char *want)
{
	const char	*p = dump;
	size_t		 n = strlen(want);

	while ((p = strstr(p, want)) != NULL) {
		if ((p == dump || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

static void
test_conf_shipped(void **state)
{
	char			 path[4096], ov[4200];
	char			*ovs[1] = { ov };
	struct conf		*conf;
	const struct conf_lead	*lead;
	size_t			 i;
	static const char *const leads[] = {
		"west_dsu", "east_dsu", "analytics_programme", "training",
		"analyst_network", "evaluation_network", "evidence_network",
		"programme", "general",
	};

	/* As "make run" loads it. */
	snprintf(path, sizeof path, "%s/config/postroom.conf", test_top());
	snprintf(ov, sizeof ov, "general.templates=%s/templates", test_top());
	conf = test_conf_load_ok(path, ovs, 1);

	assert_int_equal(conf->nleads, 9);
	for (i = 0; i < sizeof leads / sizeof leads[0]; i++) {
		if ((lead = conf_lead_find(conf, leads[i])) == NULL) {
			print_error("lead %s: got none, want it\n", leads[i]);
			fail();
		}
		assert_true(lead->naddresses >= 1);
		assert_non_null(strstr(lead->addresses[0], "@example.org"));
	}
	assert_int_equal(conf_lead_find(conf, "evaluation_network")->naddresses,
	    2);
	assert_int_equal(conf_lead_find(conf, "general")->naddresses, 2);
	assert_ptr_equal(conf_lead_default(conf), conf_lead_find(conf,
	    "general"));
	assert_non_null(conf_list_find(conf, "news"));
	assert_non_null(conf_list_find(conf, "analyst-network"));
	assert_non_null(conf_list_find(conf, "training"));
	assert_null(conf_list_find(conf, "nope"));
	assert_str_eq_msg("shipped smtp.url", conf->smtp.url,
	    "maildir:var/outbox");
	assert_str_eq_msg("shipped general.database", conf->general.database,
	    "var/postroom.db");
	assert_str_eq_msg("shipped inbound.maildir", conf->inbound.maildir,
	    "var/inbox");
	assert_int_equal(conf->inbound.source, CONF_SOURCE_MAILDIR);
	assert_str_eq_msg("shipped general.templates", conf->general.templates,
	    ov + strlen("general.templates="));
	/* It must not hold a password: git checks it out 0644. */
	assert_str_eq_msg("shipped smtp.password", conf->smtp.password, "");
	assert_str_eq_msg("shipped inbound.password", conf->inbound.password,
	    "");
	conf_free(conf);
}

static void
test_conf_defaults(void **state)
{
	struct conf	*conf;
	size_t		 i;
	static const struct {
		const char	*name;
		size_t		 offset;
		const char	*want;
	} strings[] = {
		{ "general.database", offsetof(struct conf, general.database),
		  "var/postroom.db" },
		{ "general.secret_file",
		  offsetof(struct conf, general.secret_file), "var/secret.key" },
		{ "general.base_url", offsetof(struct conf, general.base_url),
		  "http://127.0.0.1:8025" },
		{ "general.templates", offsetof(struct conf, general.templates),
		  POSTROOM_TEMPLATEDIR },
		{ "general.from_address",
		  offsetof(struct conf, general.from_address),
		  "enquiries@example.org" },
		{ "general.domain", offsetof(struct conf, general.domain),
		  "example.org" },
		{ "general.default_lead",
		  offsetof(struct conf, general.default_lead), "general" },
		{ "general.log_level", offsetof(struct conf, general.log_level),
		  "info" },
		{ "general.reference_prefix",
		  offsetof(struct conf, general.reference_prefix), "ENQ" },
		{ "general.timezone", offsetof(struct conf, general.timezone),
		  "Europe/London" },
		{ "smtp.url", offsetof(struct conf, smtp.url),
		  "maildir:var/outbox" },
		{ "smtp.password", offsetof(struct conf, smtp.password), "" },
		{ "inbound.maildir", offsetof(struct conf, inbound.maildir),
		  "var/inbox" },
		{ "inbound.mailbox", offsetof(struct conf, inbound.mailbox),
		  "INBOX" },
		{ "web.listen", offsetof(struct conf, web.listen),
		  "127.0.0.1:8025" },
	};
	static const struct {
		const char	*name;
		size_t		 offset;
		int		 want;
	} ints[] = {
		{ "smtp.starttls", offsetof(struct conf, smtp.starttls),
		  CONF_STARTTLS_REQUIRED },
		{ "smtp.verify_cert", offsetof(struct conf, smtp.verify_cert),
		  1 },
		{ "smtp.concurrency", offsetof(struct conf, smtp.concurrency),
		  4 },
		{ "smtp.rate_per_second",
		  offsetof(struct conf, smtp.rate_per_second), 20 },
		{ "smtp.rate_per_hour",
		  offsetof(struct conf, smtp.rate_per_hour), 0 },
		{ "smtp.max_retry_age",
		  offsetof(struct conf, smtp.max_retry_age), 3 * 86400 },
		{ "smtp.failure_pause_count",
		  offsetof(struct conf, smtp.failure_pause_count), 1000 },
		{ "smtp.failure_pause_percent",
		  offsetof(struct conf, smtp.failure_pause_percent), 5 },
		{ "inbound.source", offsetof(struct conf, inbound.source),
		  CONF_SOURCE_MAILDIR },
		{ "inbound.starttls", offsetof(struct conf, inbound.starttls),
		  CONF_STARTTLS_REQUIRED },
		{ "inbound.max_message_size",
		  offsetof(struct conf, inbound.max_message_size), 50 << 20 },
		{ "inbound.max_depth", offsetof(struct conf, inbound.max_depth),
		  20 },
		{ "inbound.max_parts", offsetof(struct conf, inbound.max_parts),
		  500 },
		{ "digest.leads", offsetof(struct conf, digest.leads), 1 },
		{ "digest.send_empty", offsetof(struct conf, digest.send_empty),
		  0 },
		{ "digest.time", offsetof(struct conf, digest.time), 7 * 60 },
		{ "web.subscribe_per_hour",
		  offsetof(struct conf, web.subscribe_per_hour), 20 },
	};

	conf = test_conf_load_ok(NULL, NULL, 0);
	assert_null(conf->path);
	/*
	 * Not installed, the default templates directory gives way to the
	 * source tree's (test_conf_templates_tree); the note names it.
	 */
	if (conf->templates_note != NULL) {
		assert_true(strncmp(conf->templates_note, POSTROOM_TEMPLATEDIR
		    " does not exist", strlen(POSTROOM_TEMPLATEDIR) + 15) == 0);
		free(conf->general.templates);
		conf->general.templates = xstrdup(POSTROOM_TEMPLATEDIR);
	}
	for (i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		assert_str_eq_msg(strings[i].name,
		    *(char **)((char *)conf + strings[i].offset),
		    strings[i].want);
	}
	for (i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		int	got = *(int *)((char *)conf + ints[i].offset);

		if (got != ints[i].want) {
			print_error("%s: got %d, want %d\n", ints[i].name, got,
			    ints[i].want);
			fail();
		}
	}
	assert_int_equal(conf->nleads, 0);
	assert_int_equal(conf->nlists, 0);
	assert_int_equal(conf->nrules, 0);
	conf_free(conf);

	/* An empty file gives the same. */
	{
		char	path[4096];

		snprintf(path, sizeof path, "%s/tests/configs/good-empty.conf",
		    test_top());
		conf = test_conf_load_ok(path, NULL, 0);
		assert_str_eq_msg("empty file smtp.url", conf->smtp.url,
		    "maildir:var/outbox");
		conf_free(conf);
	}
}

/* Every type -o handles: the dump shows the value it set. */
static void
test_conf_override_good(void **state)
{
	static const struct {
		const char	*arg;
		const char	*line;
	} cases[] = {
		/* string, with its shape */
		{ "general.database=/tmp/x.db",
		  "general.database = \"/tmp/x.db\"" },
		{ "smtp.url=smtps://mail.example.org:465",
		  "smtp.url = \"smtps://mail.example.org:465\"" },
		{ "smtp.user=", "smtp.user = \"\"" },
		{ "general.base_url=https://example.org/postroom/",
		  "general.base_url = \"https://example.org/postroom\"" },
		{ "general.from_address=hello@example.net",
		  "general.domain = \"example.net\"" },
		/* string with choices */
		{ "general.log_level=DEBUG", "general.log_level = \"debug\"" },
		/* int */
		{ "smtp.concurrency=100", "smtp.concurrency = 100" },
		{ "smtp.rate_per_second=0", "smtp.rate_per_second = 0" },
		/* bool */
		{ "smtp.verify_cert=false", "smtp.verify_cert = false" },
		{ "digest.send_empty=yes", "digest.send_empty = true" },
		{ "inbound.verify_cert=0", "inbound.verify_cert = false" },
		/* enum */
		{ "smtp.starttls=optional", "smtp.starttls = \"optional\"" },
		{ "inbound.source=none", "inbound.source = \"none\"" },
		/* time */
		{ "digest.time=6:30", "digest.time = \"06:30\"" },
		{ "web.listen=[::1]:8080", "web.listen = \"[::1]:8080\"" },
	};
	struct conf	*conf;
	char		*dump, *arg;
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		arg = (char *)cases[i].arg;
		conf = test_conf_load_ok(NULL, &arg, 1);
		dump = test_conf_dump(conf);
		if (!test_conf_has_line(dump, cases[i].line)) {
			print_error("-o %s: got\n%s\nwant the line \"%s\"\n",
			    cases[i].arg, dump, cases[i].line);
			fail();
		}
		free(dump);
		conf_free(conf);
	}

	/* Typed fields, and the last -o of a name wins. */
	{
		char	*ovs[] = { "smtp.concurrency=7", "smtp.concurrency=9",
			    "smtp.starttls=off", "inbound.source=none",
			    "digest.leads=off" };

		conf = test_conf_load_ok(NULL, ovs, 5);
		assert_int_equal(conf->smtp.concurrency, 9);
		assert_int_equal(conf->smtp.starttls, CONF_STARTTLS_OFF);
		assert_int_equal(conf->inbound.source, CONF_SOURCE_NONE);
		assert_int_equal(conf->digest.leads, 0);
		conf_free(conf);
	}
}

static void
test_conf_override_bad(void **state)
{
	static const struct {
		const char	*arg;
		const char	*want;
	} cases[] = {
		{ "smtp.concurrency=abc", "-o smtp.concurrency: \"abc\" is not "
		  "an integer (expected 1 to 100)" },
		{ "smtp.concurrency=101", "-o smtp.concurrency: 101 is out of "
		  "range (expected 1 to 100)" },
		{ "smtp.concurrency=99999999999999999999", "-o smtp.concurrency: "
		  "\"99999999999999999999\" is out of range (expected 1 to "
		  "100)" },
		{ "smtp.verify_cert=maybe", "-o smtp.verify_cert: \"maybe\" is "
		  "not a boolean (expected true or false)" },
		{ "smtp.starttls=sometimes", "-o smtp.starttls: \"sometimes\" "
		  "is not valid (expected required, optional or off)" },
		{ "inbound.starttls=optional", "-o inbound.starttls: "
		  "\"optional\" is not valid (expected required or off)" },
		{ "general.log_level=loud", "-o general.log_level: \"loud\" is "
		  "not valid (expected error, warn, info or debug)" },
		{ "digest.time=24:00", "-o digest.time: \"24:00\" is not a time "
		  "(expected HH:MM, 00:00 to 23:59)" },
		{ "smtp.url=http://x.example.org", "-o smtp.url: "
		  "\"http://x.example.org\" is not an SMTP URL (expected "
		  "smtp://HOST[:PORT], smtps://HOST[:PORT] or maildir:PATH)" },
		{ "web.listen=8025", "-o web.listen: \"8025\" is not HOST:PORT "
		  "(expected e.g. 127.0.0.1:8025 or [::1]:8025)" },
		{ "general.database=", "-o general.database: must not be "
		  "empty" },
		{ "smtp.concurency=4", "-o smtp.concurency: unknown setting "
		  "(did you mean smtp.concurrency?)" },
		{ "nosuch=1", "-o nosuch: unknown setting (expected SECTION.KEY, "
		  "e.g. smtp.concurrency)" },
		{ "smtp.concurrency", "-o smtp.concurrency: expected NAME=VALUE "
		  "(e.g. -o smtp.concurrency=8)" },
		{ "leads.general.name=x", "-o leads.general.name: leads cannot "
		  "be changed with -o; edit the configuration file" },
		{ "rules=x", "-o rules: rules cannot be changed with -o; edit "
		  "the configuration file" },
		{ "lists.news.from=a@example.org", "-o lists.news.from: lists "
		  "cannot be changed with -o; edit the configuration file" },
		{ "smtp.password=hunter2", "-o smtp.password: a password cannot "
		  "be given with -o (other users can see command lines); use "
		  "smtp.password_file" },
		{ "inbound.source=imap", "-o inbound.source: inbound.source is "
		  "imap but inbound.imap_url is not set (expected "
		  "imaps://HOST)" },
	};
	struct conf_errors	 errs = { 0 };
	char			*arg;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		arg = (char *)cases[i].arg;
		test_conf_load_bad(NULL, &arg, 1, &errs);
		assert_str_eq_msg(cases[i].arg, errs.msgs[0], cases[i].want);
		conf_errors_free(&errs);
	}

	/* Every bad -o is reported, in order, with the file's errors first. */
	{
		char	*ovs[] = { "smtp.concurrency=0", "web.listen=x",
			    "smtp.timeout=1" };
		char	 path[4096], want[4200];

		snprintf(path, sizeof path, "%s/tests/configs/bad-listen.conf",
		    test_top());
		test_conf_load_bad(path, ovs, 3, &errs);
		assert_int_equal(errs.n, 3);
		snprintf(want, sizeof want, "%s:4: web.listen: \"8025\" is not "
		    "HOST:PORT (expected e.g. 127.0.0.1:8025 or [::1]:8025)",
		    path);
		assert_str_eq_msg("file error first", errs.msgs[0], want);
		assert_str_eq_msg("then -o", errs.msgs[1], "-o smtp.concurrency: "
		    "0 is out of range (expected 1 to 100)");
		assert_str_eq_msg("then -o", errs.msgs[2], "-o web.listen: "
		    "\"x\" is not HOST:PORT (expected e.g. 127.0.0.1:8025 or "
		    "[::1]:8025)");
		conf_errors_free(&errs);
	}
}

static const char test_conf_secret_text[] =
    "smtp = {\n"
    "\turl = \"smtps://smtp.example.org\";\n"
    "\tuser = \"postroom\";\n"
    "\tpassword = \"hunter2\";\n"
    "};\n";

static void
test_conf_dump_masks(void **state)
{
	struct conf	*conf;
	char		*path, *dump;

	path = test_conf_write("secret.conf", test_conf_secret_text, 0600);
	conf = test_conf_load_ok(path, NULL, 0);
	assert_str_eq_msg("smtp.password loaded", conf->smtp.password,
	    "hunter2");
	dump = test_conf_dump(conf);
	if (!test_conf_has_line(dump, "smtp.password = ********") ||
	    strstr(dump, "hunter2") != NULL) {
		print_error("dump: got\n%s\nwant smtp.password = ******** and "
		    "no hunter2\n", dump);
		fail();
	}
	/* An unset password shows as empty, not as a mask. */
	assert_true(test_conf_has_line(dump, "inbound.password = \"\""));
	assert_true(test_conf_has_line(dump, "smtp.user = \"postroom\""));
	free(dump);
	conf_free(conf);
}

static void
test_conf_password_mode(void **state)
{
	static const struct {
		const char	*text;
		mode_t		 mode;
		const char	*problem;	/* NULL: loads */
	} cases[] = {
		{ test_conf_secret_text, 0644, "readable by group/others "
		  "(mode 0644)" },
		{ test_conf_secret_text, 0640, "readable by group/others "
		  "(mode 0640)" },
		{ test_conf_secret_text, 0620, "writable by group/others "
		  "(mode 0620)" },
		{ test_conf_secret_text, 0600, NULL },
		{ test_conf_secret_text, 0400, NULL },
		{ "inbound = { password = \"x\"; };\n", 0604,
		  "readable by group/others (mode 0604)" },
		/* No password inline: any mode will do. */
		{ "smtp = { password_file = \"/etc/postroom/pw\"; };\n", 0644,
		  NULL },
	};
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	char			*path, want[2048], name[32];
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "mode-%zu.conf", i);
		path = test_conf_write(name, cases[i].text, cases[i].mode);
		if (cases[i].problem == NULL) {
			conf = test_conf_load_ok(path, NULL, 0);
			conf_free(conf);
			continue;
		}
		test_conf_load_bad(path, NULL, 0, &errs);
		snprintf(want, sizeof want, "%s: contains a password but is %s;"
		    " chmod 600 %s", path, cases[i].problem, path);
		if (errs.n != 1) {
			test_conf_print_errors(path, &errs);
			print_error("case %zu: got %zu errors, want 1\n", i,
			    errs.n);
			fail();
		}
		assert_str_eq_msg("mode", errs.msgs[0], want);
		conf_errors_free(&errs);
	}

	/* Inline and in a file: keep one. */
	path = test_conf_write("both.conf", "smtp = { password = \"x\"; "
	    "password_file = \"/etc/pw\"; };\n", 0600);
	test_conf_load_bad(path, NULL, 0, &errs);
	snprintf(want, sizeof want, "%s:1: smtp.password and "
	    "smtp.password_file are both set (keep one; smtp.password_file "
	    "is better)", path);
	assert_str_eq_msg("both", errs.msgs[0], want);
	conf_errors_free(&errs);
}

static void
test_conf_read_secret(void **state)
{
	char	*path, *out = NULL, *cause = NULL, want[2048];

	path = test_conf_write("pw", "s3cret\r\nsecond line\n", 0600);
	assert_int_equal(conf_read_secret(path, &out, &cause), 0);
	assert_str_eq_msg("first line", out, "s3cret");
	free(out);

	path = test_conf_write("pw-nonl", "key-without-newline", 0400);
	assert_int_equal(conf_read_secret(path, &out, &cause), 0);
	assert_str_eq_msg("no newline", out, "key-without-newline");
	free(out);

	path = test_conf_write("pw-open", "s3cret\n", 0644);
	assert_int_equal(conf_read_secret(path, &out, &cause), -1);
	snprintf(want, sizeof want, "%s: contains a secret but is readable by "
	    "group/others (mode 0644); chmod 600 %s", path, path);
	assert_str_eq_msg("0644 secret", cause, want);
	free(cause);

	path = test_conf_write("pw-empty", "\nsecond\n", 0600);
	assert_int_equal(conf_read_secret(path, &out, &cause), -1);
	snprintf(want, sizeof want, "%s: the first line is empty (expected "
	    "the secret there)", path);
	assert_str_eq_msg("empty secret", cause, want);
	free(cause);

	snprintf(want, sizeof want, "%s/missing", test_conf_dir);
	assert_int_equal(conf_read_secret(want, &out, &cause), -1);
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
}

/* Parse "# expect: LINE: SUBSTRING" lines at the top of a file. */
static size_t
test_conf_expects(const char *path, unsigned int *lines, char subs[][512],
    size_t max)
{
	FILE		*f;
	char		 buf[1024];
	size_t		 n = 0, len;
	unsigned int	 line;
	int		 off;

	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof buf, f) != NULL && n < max) {
		if (sscanf(buf, "# expect: %u: %n", &line, &off) != 1)
			break;
		len = strcspn(buf + off, "\n");
		snprintf(subs[n], sizeof subs[n], "%.*s", (int)len, buf + off);
		lines[n++] = line;
	}
	fclose(f);
	return n;
}

static void
test_conf_bad_files(void **state)
{
	struct conf_errors	 errs = { 0 };
	glob_t			 g;
	char			 pattern[4096], prefix[4200];
	char			 subs[16][512];
	unsigned int		 lines[16];
	size_t			 i, j, k, n, failures = 0;
	int			 found;

	snprintf(pattern, sizeof pattern, "%s/tests/configs/bad-*.conf",
	    test_top());
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	if (g.gl_pathc < 15) {
		print_error("bad configs: got %zu, want at least 15\n",
		    (size_t)g.gl_pathc);
		fail();
	}
	for (i = 0; i < g.gl_pathc; i++) {
		const char	*path = g.gl_pathv[i];

		n = test_conf_expects(path, lines, subs, 16);
		if (n == 0) {
			print_error("%s: no \"# expect: LINE: TEXT\" line\n",
			    path);
			failures++;
			continue;
		}
		test_conf_load_bad(path, NULL, 0, &errs);
		for (j = 0; j < n; j++) {
			snprintf(prefix, sizeof prefix, "%s:%u: ", path,
			    lines[j]);
			found = 0;
			for (k = 0; k < errs.n && !found; k++) {
				found = strncmp(errs.msgs[k], prefix,
				    strlen(prefix)) == 0 &&
				    strstr(errs.msgs[k] + strlen(prefix),
				    subs[j]) != NULL;
			}
			if (!found) {
				print_error("%s: want an error \"%s...%s\", "
				    "got:\n", path, prefix, subs[j]);
				test_conf_print_errors("  got", &errs);
				failures++;
			}
		}
		if (errs.n != n) {
			print_error("%s: got %zu errors, want %zu:\n", path,
			    errs.n, n);
			test_conf_print_errors("  got", &errs);
			failures++;
		}
		conf_errors_free(&errs);
	}
	globfree(&g);
	assert_int_equal(failures, 0);
}

static void
test_conf_good_files(void **state)
{
	const struct conf_rule	*rule;
	const struct conf_lead	*lead;
	const struct conf_list	*list;
	const struct conf_node	*node;
	struct conf		*conf;
	char			 path[4096];

	snprintf(path, sizeof path, "%s/tests/configs/good-full.conf",
	    test_top());
	conf = test_conf_load_ok(path, NULL, 0);
	assert_str_eq_msg("base_url", conf->general.base_url,
	    "https://mail.example.org/postroom");
	assert_str_eq_msg("domain from from_address", conf->general.domain,
	    "mail.example.org");
	assert_str_eq_msg("log_level", conf->general.log_level, "debug");
	assert_int_equal(conf->smtp.starttls, CONF_STARTTLS_OPTIONAL);
	assert_int_equal(conf->smtp.verify_cert, 0);
	assert_int_equal(conf->smtp.concurrency, 16);
	assert_int_equal(conf->smtp.rate_per_hour, 36000);
	assert_int_equal(conf->inbound.source, CONF_SOURCE_IMAP);
	assert_int_equal(conf->inbound.starttls, CONF_STARTTLS_OFF);
	assert_str_eq_msg("imap_url", conf->inbound.imap_url,
	    "imaps://[2001:db8::1]:993");
	assert_str_eq_msg("routed_folder", conf->inbound.routed_folder, "");
	assert_int_equal(conf->inbound.max_message_size, 1048576);
	assert_int_equal(conf->digest.time, 6 * 60 + 5);
	assert_int_equal(conf->digest.leads, 0);
	assert_int_equal(conf->digest.send_empty, 1);
	assert_int_equal(conf->web.subscribe_per_hour, 0);

	/* A single address as a plain string; a list of two. */
	lead = conf_lead_find(conf, "enquiries");
	assert_non_null(lead);
	assert_int_equal(lead->naddresses, 1);
	assert_str_eq_msg("name defaults to key", lead->name, "enquiries");
	assert_ptr_equal(conf_lead_default(conf), lead);
	lead = conf_lead_find(conf, "evaluation_network");
	assert_non_null(lead);
	assert_int_equal(lead->naddresses, 2);
	assert_str_eq_msg("second address", lead->addresses[1],
	    "eval-b@example.org");
	assert_str_eq_msg("quoted name", lead->name, "Evaluation \"Network\"");

	list = conf_list_find(conf, "news-2");
	assert_non_null(list);
	assert_int_equal(list->allow_html, 1);
	assert_int_equal(list->digest, CONF_DIGEST_DAILY);
	assert_int_equal(list->digest_day, 5);
	assert_int_equal(list->digest_time, 18 * 60 + 45);
	assert_str_eq_msg("description", list->description,
	    "Line one.\nLine two.");
	assert_str_eq_msg("reply_to unset", list->reply_to, "");

	/* Rules keep their order and their tree. */
	assert_int_equal(conf->nrules, 2);
	assert_str_eq_msg("rule 0", conf->rules[0].name, "evaluation");
	assert_str_eq_msg("rule 1", conf->rules[1].name, "catch-all");
	rule = conf_rule_find(conf, "evaluation");
	assert_ptr_equal(rule, &conf->rules[0]);
	assert_str_eq_msg("rule lead", rule->lead, "evaluation_network");
	node = conf_rule_get(rule, "lead");
	assert_non_null(node);
	assert_int_equal(node->type, CONF_NODE_STRING);
	assert_str_eq_msg("rule node", node->str, "evaluation_network");
	assert_true(node->line > 0);
	assert_null(conf_rule_get(rule, "subject"));
	conf_free(conf);

	/* @include is relative to the including file. */
	snprintf(path, sizeof path, "%s/tests/configs/good-include.conf",
	    test_top());
	conf = test_conf_load_ok(path, NULL, 0);
	assert_int_equal(conf->nleads, 2);
	assert_non_null(conf_rule_find(conf, "west"));
	conf_free(conf);
}

/*
 * Run from the source tree (as this test is), a templates directory that
 * does not exist gives way to the tree's own; one that exists is kept.
 */
static void
test_conf_templates_tree(void **state)
{
	struct conf	*conf;
	char		*ov, *want, real_got[PATH_MAX], real_want[PATH_MAX];
	FILE		*f;
	char		*text;
	size_t		 len;

	(void)state;
	ov = xstrdup("general.templates=/nonexistent/postroom/templates");
	conf = test_conf_load_ok(NULL, &ov, 1);
	want = xprintf("%s/templates", test_top());
	if (realpath(conf->general.templates, real_got) == NULL ||
	    realpath(want, real_want) == NULL ||
	    strcmp(real_got, real_want) != 0) {
		print_error("templates: got %s, want %s\n",
		    conf->general.templates, want);
		fail();
	}
	assert_non_null(conf->templates_note);
	f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_dump(conf, f);
	fclose(f);
	if (strstr(text, "  # /nonexistent/postroom/templates does not "
	    "exist: using the source tree's\n") == NULL) {
		print_error("config dump does not say why:\n%s\n", text);
		fail();
	}
	free(text);
	conf_free(conf);
	free(ov);

	ov = xprintf("general.templates=%s", test_top());
	conf = test_conf_load_ok(NULL, &ov, 1);
	assert_string_equal(conf->general.templates, test_top());
	assert_null(conf->templates_note);
	conf_free(conf);
	free(ov);
	free(want);
}

static void
test_conf_missing_file(void **state)
{
	struct conf_errors	errs = { 0 };
	char			path[512], want[600];

	snprintf(path, sizeof path, "%s/no-such.conf", test_conf_dir);
	test_conf_load_bad(path, NULL, 0, &errs);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	assert_int_equal(errs.n, 1);
	assert_str_eq_msg("missing file", errs.msgs[0], want);
	conf_errors_free(&errs);
}

static void
test_conf_default_path(void **state)
{
	unsetenv("POSTROOM_CONFIG");
	assert_str_eq_msg("default", conf_default_path(NULL),
	    "/etc/postroom/postroom.conf");
	assert_str_eq_msg("-c", conf_default_path("x.conf"), "x.conf");
	setenv("POSTROOM_CONFIG", "/srv/p.conf", 1);
	assert_str_eq_msg("env", conf_default_path(NULL), "/srv/p.conf");
	assert_str_eq_msg("-c beats env", conf_default_path("x.conf"),
	    "x.conf");
	unsetenv("POSTROOM_CONFIG");
}

/* Every row of the table has help, and a default that loads. */
static void
test_conf_table(void **state)
{
	const struct conf_setting	*s;
	char				*text = NULL;
	size_t				 len = 0;
	FILE				*f;

	for (s = conf_settings; s->name != NULL; s++) {
		if (s->help == NULL || *s->help == '\0' || s->def == NULL ||
		    strchr(s->name, '.') == NULL) {
			print_error("%s: want help, a default and a "
			    "section\n", s->name);
			fail();
		}
	}
	f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_help(f);
	fclose(f);
	assert_non_null(strstr(text, "smtp.concurrency = 4  (1 to 100)\n"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_shipped),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_override_good),
		cmocka_unit_test(test_conf_override_bad),
		cmocka_unit_test(test_conf_dump_masks),
		cmocka_unit_test(test_conf_password_mode),
		cmocka_unit_test(test_conf_read_secret),
		cmocka_unit_test(test_conf_bad_files),
		cmocka_unit_test(test_conf_good_files),
		cmocka_unit_test(test_conf_templates_tree),
		cmocka_unit_test(test_conf_missing_file),
		cmocka_unit_test(test_conf_default_path),
		cmocka_unit_test(test_conf_table),
	};

	return cmocka_run_group_tests(tests, test_conf_setup,
	    test_conf_teardown);
}
