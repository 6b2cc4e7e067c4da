/*
 * test-parser.c - the parser child for real: a separate process, confined,
 * killed by its limits, restarted, and never taking the caller with it.
 *
 * This binary is its own parser child (main() dispatches on
 * PARSER_CHILD_ARG, as postroomd's does).  Faults are injected with the
 * test-only parser_options.fault; the known libetpan crasher is run for
 * real with PARSER_FAULT_UNGUARDED (libetpan with no guard).
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <seccomp.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "message.h"
#include "mime-parse.h"
#include "parser.h"

static const char ok_msg[] =
    "From: =?UTF-8?Q?Zo=C3=AB?= <zoe@example.org>\r\n"
    "To: enquiries@example.org\r\n"
    "Subject: An ordinary enquiry\r\n"
    "Message-ID: <ok.1@example.org>\r\n"
    "\r\n"
    "Please send the training prospectus.\r\n";

static const char crasher[] =
    "From: a@example.org\n"
    "Subject: crasher\n"
    "Message-ID: <crash.1@example.org>\n"
    "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
    "--\"\nContent-Type: text/plain\n\nhello\n--\"--\n";

static const char *
status_name(enum message_status s)
{
	switch (s) {
	case MESSAGE_OK:
		return "OK";
	case MESSAGE_DEFECTIVE:
		return "DEFECTIVE";
	case MESSAGE_LIMITS:
		return "LIMITS";
	case MESSAGE_FAILED:
		return "FAILED";
	}
	return "?";
}

static void
opts(struct parser_options *o)
{
	parser_options_default(o, NULL);
	o->timeout = 20;
}

static struct parser *
start(const struct parser_options *o)
{
	struct parser	*p;
	char		*cause = NULL;

	if ((p = parser_start_options(o, &cause)) == NULL)
		fail_msg("parser_start: %s", cause);
	return p;
}

static struct message *
parse(struct parser *p, const char *raw, size_t len)
{
	struct message	*m = NULL;
	char		*cause = NULL;

	if (parser_parse(p, raw, len, &m, &cause) != 0)
		fail_msg("parser_parse: %s", cause);
	assert_non_null(m);
	return m;
}

/* The ordinary message parses, from whatever child there is now. */
static void
expect_ok(struct parser *p, const char *what)
{
	struct message	*m;

	m = parse(p, ok_msg, sizeof ok_msg - 1);
	if (m->status != MESSAGE_OK)
		fail_msg("%s: the next message got %s (%s), want OK", what,
		    status_name(m->status), m->status_detail);
	assert_str_eq_msg(what, m->subject, "An ordinary enquiry");
	assert_str_eq_msg(what, m->from.name, "Zo\xc3\xab");
	if (strstr(m->body_text, "training prospectus") == NULL)
		fail_msg("%s: body_text got \"%s\"", what, m->body_text);
	message_free(m);
}

/* Inject fault on the 2nd message: the 1st is fine, the 2nd fails, the
 * 3rd is fine again from a new child. */
static void
fault_case(enum parser_fault fault, const char *want_in_detail,
    void (*tweak)(struct parser_options *))
{
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	pid_t			 pid1, pid2;
	char			 what[64];

	print_message("# fault %d: a report from the child below is "
	    "expected\n", (int)fault);
	opts(&o);
	o.fault = fault;
	o.fault_after = 2;
	if (tweak != NULL)
		tweak(&o);
	p = start(&o);
	snprintf(what, sizeof what, "fault %d, before", (int)fault);
	expect_ok(p, what);
	pid1 = parser_pid(p);

	m = parse(p, ok_msg, sizeof ok_msg - 1);
	if (m->status != MESSAGE_FAILED)
		fail_msg("fault %d: got %s (%s), want FAILED", (int)fault,
		    status_name(m->status), m->status_detail);
	if (strstr(m->status_detail, want_in_detail) == NULL)
		fail_msg("fault %d: status_detail got \"%s\", want it to "
		    "contain \"%s\"", (int)fault, m->status_detail,
		    want_in_detail);
	/* The daemon read the Message-ID itself, without libetpan. */
	assert_str_eq_msg("failed message_id", m->message_id,
	    "ok.1@example.org");
	assert_str_eq_msg("failed subject", m->subject, "An ordinary enquiry");
	message_free(m);
	assert_int_equal(parser_pid(p), -1);

	snprintf(what, sizeof what, "fault %d, after", (int)fault);
	expect_ok(p, what);
	pid2 = parser_pid(p);
	if (pid2 == pid1 || pid2 <= 0)
		fail_msg("fault %d: child pid got %ld, want a new one (was "
		    "%ld)", (int)fault, (long)pid2, (long)pid1);
	parser_stop(p);
}

static void
test_ok(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	pid_t			 pid;

	opts(&o);
	p = start(&o);
	pid = parser_pid(p);
	assert_true(pid > 0);
	assert_true(pid != getpid());
	expect_ok(p, "first");
	expect_ok(p, "second");
	if (parser_pid(p) != pid)
		fail_msg("pid got %ld, want the same child %ld",
		    (long)parser_pid(p), (long)pid);
	parser_stop(p);
}

/* The child is confined: check from outside, in /proc. */
static void
test_confined(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	char			 path[64], line[256];
	FILE			*f;
	int			 nonewprivs = -1, uid = -1, core = -1;
	int			 nofile = -1, nproc = -1, cpu = -1;

	opts(&o);
	p = start(&o);
	snprintf(path, sizeof path, "/proc/%ld/status", (long)parser_pid(p));
	if ((f = fopen(path, "r")) == NULL)
		skip();		/* no /proc here */
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "NoNewPrivs:", 11) == 0)
			nonewprivs = (int)strtol(line + 11, NULL, 10);
		if (strncmp(line, "Uid:", 4) == 0)
			uid = (int)strtol(line + 4, NULL, 10);
	}
	fclose(f);
	assert_int_equal(nonewprivs, 1);
	if (geteuid() == 0 && uid == 0)
		fail_msg("child uid got 0, want nobody's");
	if (geteuid() != 0 && uid != (int)geteuid())
		fail_msg("child uid got %d, want %d", uid, (int)geteuid());

	snprintf(path, sizeof path, "/proc/%ld/limits", (long)parser_pid(p));
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "Max core file size", 18) == 0)
			core = (int)strtol(line + 26, NULL, 10);
		if (strncmp(line, "Max open files", 14) == 0)
			nofile = (int)strtol(line + 26, NULL, 10);
		if (strncmp(line, "Max processes", 13) == 0)
			nproc = (int)strtol(line + 26, NULL, 10);
		if (strncmp(line, "Max cpu time", 12) == 0)
			cpu = (int)strtol(line + 26, NULL, 10);
	}
	fclose(f);
	if (core != 0 || nofile != 16 || nproc != 0 || cpu < 1 ||
	    cpu > PARSER_CPU + 2)
		fail_msg("child limits: core %d, nofile %d, nproc %d, cpu %d; "
		    "want 0, 16, 0, 1..%d", core, nofile, nproc, cpu,
		    PARSER_CPU + 2);
	expect_ok(p, "confined");
	parser_stop(p);
}

/*
 * The walls, from inside: the child tries to open a key file it could
 * otherwise read (mode 0644, so only the sandbox stands in the way), to
 * make sockets, to fork and to execute, and says how each went.  Then it
 * still parses, charsets that need iconv's modules included.
 */
static void
test_sandbox(void **state)
{
	static const char	*want[] = { "open: denied",
				    "socket(AF_INET): denied",
				    "socket(AF_UNIX): denied", "fork: denied",
				    "execve: denied" };
	static const char	 koi8[] =
	    "From: a@example.org\nSubject: koi8\n"
	    "Content-Type: text/plain; charset=koi8-r\n\n"
	    "\xf0\xd2\xc9\xd7\xc5\xd4\n";
	static const char	 sjis[] =
	    "From: a@example.org\nSubject: sjis\n"
	    "Content-Type: text/plain; charset=shift_jis\n\n"
	    "\x93\xfa\x96\x7b\n";
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	char			 dir[] = "/tmp/test-parser.XXXXXX", key[64];
	char			 path[64], line[256];
	FILE			*f;
	pid_t			 pid;
	size_t			 i;
	int			 seccomp = -1;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	snprintf(key, sizeof key, "%s/secret.key", dir);
	assert_non_null(f = fopen(key, "w"));
	fputs("0123456789abcdef\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0644), 0);

	opts(&o);
	o.fault = PARSER_FAULT_ESCAPE;
	o.fault_after = 1;
	p = start(&o);
	pid = parser_pid(p);
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof line, f) != NULL) {
			if (strncmp(line, "Seccomp:", 8) == 0)
				seccomp = (int)strtol(line + 8, NULL, 10);
		}
		fclose(f);
		assert_int_equal(seccomp, 2);	/* filter mode */
	}

	m = parse(p, key, strlen(key));
	print_message("# the child's attempts:\n# %s\n", m->status_detail);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (strstr(m->status_detail, want[i]) == NULL)
			fail_msg("want \"%s\" in \"%s\"", want[i],
			    m->status_detail);
	}
	if (strstr(m->status_detail, "SUCCEEDED") != NULL)
		fail_msg("a wall did not hold: %s", m->status_detail);
	message_free(m);
	assert_int_equal(parser_pid(p), pid);	/* it is still there */

	expect_ok(p, "after the attempts");
	m = parse(p, koi8, sizeof koi8 - 1);
	assert_str_eq_msg("koi8-r", m->body_text,
	    "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	message_free(m);
	m = parse(p, sjis, sizeof sjis - 1);
	assert_str_eq_msg("shift_jis", m->body_text,
	    "\xe6\x97\xa5\xe6\x9c\xac");
	message_free(m);
	assert_int_equal(parser_pid(p), pid);
	parser_stop(p);
	unlink(key);
	rmdir(dir);
}

/*
 * Under an outer filter that refuses seccomp() itself, as systemd's
 * SystemCallFilter=@system-service does without the unit's extra line,
 * the child still shuts itself in (with prctl) rather than dying.
 */
static void
test_sandbox_nested(void **state)
{
	scmp_filter_ctx		 ctx;
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	pid_t			 pid;
	char			*cause;
	int			 status, bad;

	if ((pid = fork()) == 0) {
		ctx = seccomp_init(SCMP_ACT_ALLOW);
		if (ctx == NULL || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM),
		    SCMP_SYS(seccomp), 0) != 0 || seccomp_load(ctx) != 0)
			_exit(2);
		seccomp_release(ctx);
		/* No cmocka here: a failure must not unwind into it. */
		opts(&o);
		o.fault = PARSER_FAULT_ESCAPE;
		o.fault_after = 1;
		cause = NULL;
		if ((p = parser_start_options(&o, &cause)) == NULL) {
			print_message("# parser_start: %s\n", cause);
			_exit(3);
		}
		m = NULL;
		if (parser_parse(p, "/etc/passwd", 11, &m, &cause) != 0)
			_exit(4);
		bad = strstr(m->status_detail, "SUCCEEDED") != NULL ||
		    strstr(m->status_detail, "open: denied") == NULL;
		if (bad)
			print_message("# %s\n", m->status_detail);
		message_free(m);
		parser_stop(p);
		_exit(bad ? 1 : 0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("under an outer filter: the test process ended with "
		    "status %#x", status);
}

/* libetpan's known crasher, run for real in the child with no guard. */
static void
test_real_crasher(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	pid_t			 pid;

	print_message("# libetpan's crash report from the child below is "
	    "expected\n");
	opts(&o);
	o.fault = PARSER_FAULT_UNGUARDED;
	o.fault_after = 1;
	p = start(&o);
	pid = parser_pid(p);
	m = parse(p, crasher, sizeof crasher - 1);
	if (m->status != MESSAGE_FAILED)
		fail_msg("unguarded crasher: got %s (%s), want FAILED",
		    status_name(m->status), m->status_detail);
	assert_str_eq_msg("crasher message_id", m->message_id,
	    "crash.1@example.org");
	message_free(m);
	expect_ok(p, "after the crasher");
	assert_true(parser_pid(p) != pid);
	parser_stop(p);

	/* With the guard, the same bytes are read and nothing dies. */
	opts(&o);
	p = start(&o);
	pid = parser_pid(p);
	m = parse(p, crasher, sizeof crasher - 1);
	if (m->status != MESSAGE_DEFECTIVE ||
	    strstr(m->body_text, "hello") == NULL)
		fail_msg("guarded crasher: got %s (%s) \"%s\", want "
		    "DEFECTIVE with the text", status_name(m->status),
		    m->status_detail, m->body_text);
	message_free(m);
	assert_int_equal(parser_pid(p), pid);
	parser_stop(p);
}

static void
test_crash(void **state)
{
	fault_case(PARSER_FAULT_CRASH, "died: it ", NULL);
	fault_case(PARSER_FAULT_SEGV, "died: it ", NULL);
}

static void
tweak_cpu(struct parser_options *o)
{
	o->cpu = 1;
}

static void
test_cpu(void **state)
{
	fault_case(PARSER_FAULT_SPIN, "CPU limit of 1 s", tweak_cpu);
}

static void
tweak_timeout(struct parser_options *o)
{
	o->timeout = 1;
}

static void
test_timeout(void **state)
{
	fault_case(PARSER_FAULT_HANG, "timed out after 1 s", tweak_timeout);
}

static void
tweak_memory(struct parser_options *o)
{
	o->memory = 256 << 20;
}

static void
test_memory(void **state)
{
	fault_case(PARSER_FAULT_ALLOC, "parser child", tweak_memory);
}

static void
test_garbage(void **state)
{
	fault_case(PARSER_FAULT_GARBAGE, "malformed reply", NULL);
}

/*
 * 1 when pid has exited: gone, or a zombie with no thread left.  (An ASan
 * child has a background thread; when it is killed its leader shows as a
 * zombie while that thread is still tearing down ASan's large mappings,
 * and waitpid() reports the death only once the whole group is gone.)
 */
static int
exited(pid_t pid)
{
	FILE	*f;
	char	 path[64], line[256];
	int	 zombie = 0, threads = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "State:", 6) == 0)
			zombie = strchr(line, 'Z') != NULL;
		else if (strncmp(line, "Threads:", 8) == 0)
			threads = (int)strtol(line + 8, NULL, 10);
	}
	fclose(f);
	return zombie && threads <= 1;
}

/* A child that dies between messages is replaced without a failure. */
static void
test_idle_death(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	struct timespec		 ts = { 0, 10 * 1000 * 1000 };
	pid_t			 pid;
	int			 i;

	opts(&o);
	p = start(&o);
	pid = parser_pid(p);
	assert_int_equal(kill(pid, SIGKILL), 0);
	/* An ASan child can take seconds to unmap its shadow memory. */
	for (i = 0; i < 3000 && !exited(pid); i++)
		nanosleep(&ts, NULL);
	assert_true(exited(pid));
	expect_ok(p, "after the child died idle");
	assert_true(parser_pid(p) != pid);
	parser_stop(p);
}

/* The child retires after max_messages; nothing is lost. */
static void
test_retire(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	pid_t			 pid;

	opts(&o);
	o.max_messages = 2;
	p = start(&o);
	pid = parser_pid(p);
	expect_ok(p, "retire 1");
	expect_ok(p, "retire 2");
	expect_ok(p, "retire 3");
	assert_true(parser_pid(p) != pid);
	parser_stop(p);
}

/* An executable that is not a parser child: a clear error. */
static void
test_bad_exe(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	char			*cause = NULL;

	opts(&o);
	o.exe = "/bin/true";
	p = parser_start_options(&o, &cause);
	assert_null(p);
	assert_non_null(cause);
	if (strstr(cause, "parser_child_main") == NULL)
		fail_msg("cause got \"%s\", want it to name "
		    "parser_child_main()", cause);
	free(cause);
}

/* Every hostile file: whatever comes back, the caller lives on. */
static void
test_hostile(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	struct dirent		*de;
	struct buf		 b;
	DIR			*d;
	char			 dir[4200], path[8400];
	size_t			 n = 0, len;

	snprintf(dir, sizeof dir, "%s/tests/data/hostile", test_top());
	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: cannot open", dir);
	opts(&o);
	p = start(&o);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		buf_init(&b, BUF_NOMAX);
		if (buf_read_file(&b, path) == -1)
			fail_msg("%s: cannot read", path);
		m = parse(p, b.data, b.len);
		if (m->status == MESSAGE_FAILED)
			print_message("# %s: FAILED (%s)\n", de->d_name,
			    m->status_detail);
		message_free(m);
		buf_free(&b);
		expect_ok(p, de->d_name);
		n++;
	}
	closedir(d);
	assert_true(n >= 20);
	parser_stop(p);
}

/* Big and deep, generated here. */
static void
test_large(void **state)
{
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	struct buf		 b;
	size_t			 i, want;

	opts(&o);
	p = start(&o);

	/* 10,000 levels of nesting. */
	buf_init(&b, BUF_NOMAX);
	(void)buf_printf(&b, "From: a@example.org\nSubject: deep\n"
	    "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 1; i < 10000; i++)
		(void)buf_printf(&b, "--b%zu\nContent-Type: multipart/mixed; "
		    "boundary=b%zu\n\n", i - 1, i);
	(void)buf_printf(&b, "--b9999\nContent-Type: text/plain\n\nleaf\n");
	for (i = 10000; i > 0; i--)
		(void)buf_printf(&b, "--b%zu--\n", i - 1);
	m = parse(p, b.data, b.len);
	if (m->status != MESSAGE_LIMITS || m->depth > MIME_PARSE_MAX_DEPTH)
		fail_msg("10000 levels: got %s (%s) depth %zu, want LIMITS",
		    status_name(m->status), m->status_detail, m->depth);
	message_free(m);
	buf_free(&b);

	/* A 30 MB attachment. */
	buf_init(&b, BUF_NOMAX);
	(void)buf_printf(&b, "From: a@example.org\nSubject: big\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n"
	    "--b\nContent-Type: text/plain\n\nsee the attachment\n"
	    "--b\nContent-Type: application/octet-stream; name=big.bin\n"
	    "Content-Transfer-Encoding: base64\n\n");
	want = 0;
	for (i = 0; i < 30 * 1024 * 1024 / 45; i++) {
		(void)buf_addstr(&b, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w"
		    "cXJz\n");
		want += 45;
	}
	(void)buf_printf(&b, "--b--\n");
	m = parse(p, b.data, b.len);
	if (m->status != MESSAGE_OK || m->nattachments != 1 ||
	    m->attachments[0].size != want ||
	    strstr(m->body_text, "see the attachment") == NULL)
		fail_msg("30 MB: got %s (%s) %zu attachments, size %zu want "
		    "%zu", status_name(m->status), m->status_detail,
		    m->nattachments, m->nattachments > 0 ?
		    m->attachments[0].size : 0, want);
	message_free(m);

	/* Past max_message_size: LIMITS, not a failure. */
	parser_stop(p);
	opts(&o);
	o.limits.max_size = 1024 * 1024;
	p = start(&o);
	m = parse(p, b.data, b.len);
	if (m->status != MESSAGE_LIMITS || strstr(m->status_detail,
	    "larger than") == NULL)
		fail_msg("over max_size: got %s (%s), want LIMITS",
		    status_name(m->status), m->status_detail);
	message_free(m);
	buf_free(&b);
	expect_ok(p, "after the large ones");
	parser_stop(p);
}

/* 8-bit headers and truncated base64 come back decoded. */
static void
test_decoding(void **state)
{
	static const char	 raw8[] =
	    "From: Jos\xe9 <jose@example.org>\n"
	    "Subject: Caf\xe9\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "SGVsbG8gd29y\nbGQgdHJ1bmNhdG\n";
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;

	opts(&o);
	p = start(&o);
	m = parse(p, raw8, sizeof raw8 - 1);
	if (m->status != MESSAGE_DEFECTIVE)
		fail_msg("8-bit: got %s (%s), want DEFECTIVE",
		    status_name(m->status), m->status_detail);
	assert_str_eq_msg("8-bit subject", m->subject, "Caf\xc3\xa9");
	assert_str_eq_msg("8-bit from", m->from.name, "Jos\xc3\xa9");
	if (strstr(m->body_text, "Hello world truncat") == NULL)
		fail_msg("truncated base64: got \"%s\"", m->body_text);
	message_free(m);
	parser_stop(p);
}

/*
 * One attachment's bytes, asked for through the child (the console's
 * downloads), between ordinary parses on the same child; and the crasher
 * asked for a part is contained like any other.
 */
static void
test_part(void **state)
{
	static const char	 raw[] =
	    "From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\n\r\nThe text.\r\n"
	    "--b\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
	    "--b\r\nContent-Type: image/png; name=\"b.png\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgoA\r\n"
	    "--b--\r\n";
	struct parser_options	 o;
	struct parser		*p;
	struct message		*m;
	char			*cause = NULL;
	pid_t			 pid;

	opts(&o);
	p = start(&o);
	pid = parser_pid(p);
	if (parser_parse_part(p, raw, sizeof raw - 1, 1, &m, &cause) != 0)
		fail_msg("parser_parse_part: %s", cause);
	if (m->status != MESSAGE_OK)
		fail_msg("part 1: got %s (%s)", status_name(m->status),
		    m->status_detail);
	check_int("attachments", m->nattachments, 2);
	assert_null(m->attachments[0].data);
	assert_non_null(m->attachments[1].data);
	check_int("png size", m->attachments[1].size, 9);
	assert_memory_equal(m->attachments[1].data, "\x89PNG\r\n\x1a\n\0", 9);
	message_free(m);
	expect_ok(p, "after a part");

	/* Past the last attachment: no bytes, nothing refused. */
	if (parser_parse_part(p, raw, sizeof raw - 1, 5, &m, &cause) != 0)
		fail_msg("parser_parse_part: %s", cause);
	check_int("part 5: status", m->status, MESSAGE_OK);
	assert_null(m->attachments[0].data);
	assert_null(m->attachments[1].data);
	message_free(m);
	/* An ordinary parse sends no bytes at all. */
	m = parse(p, raw, sizeof raw - 1);
	assert_null(m->attachments[0].data);
	assert_null(m->attachments[1].data);
	message_free(m);
	if (parser_pid(p) != pid)
		fail_msg("the child changed (%ld, was %ld)",
		    (long)parser_pid(p), (long)pid);

	/* Asked for a part, the known crasher is contained too. */
	print_message("# a report from the child below is expected\n");
	o.fault = PARSER_FAULT_UNGUARDED;
	o.fault_after = 1;
	parser_stop(p);
	p = start(&o);
	if (parser_parse_part(p, crasher, sizeof crasher - 1, 0, &m,
	    &cause) != 0)
		fail_msg("parser_parse_part: %s", cause);
	if (m->status != MESSAGE_FAILED)
		fail_msg("crasher: got %s, want FAILED",
		    status_name(m->status));
	message_free(m);
	expect_ok(p, "after the crasher");
	parser_stop(p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_confined),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test(test_sandbox_nested),
		cmocka_unit_test(test_real_crasher),
		cmocka_unit_test(test_crash),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_idle_death),
		cmocka_unit_test(test_retire),
		cmocka_unit_test(test_bad_exe),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_decoding),
		cmocka_unit_test(test_part),
	};

	if (argc > 1 && strcmp(argv[1], PARSER_CHILD_ARG) == 0)
		return parser_child_main(argc, argv);
	log_init("test-parser", LOGL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
