/*
 * test-source-imap.c - the IMAP source against a real Dovecot on
 * 127.0.0.1 (tests/tools/dovecot.sh), driven like the daemon drives it:
 * poll on fd() for timeout() ms, then next() and done().  The other side
 * (APPEND, what is in which folder) is tests/tools/imaptool.py.
 *
 *	idle		an old message handed out at start, filed into Routed;
 *			the position saved; a new one pushed by IDLE (latency
 *			reported); a message never done handed out again
 *			after a restart; the server stopped and restarted
 *			under us; UIDVALIDITY changed
 *	flag_only	routed_folder = "": \Seen, left in place, not again
 *	no_idle		a server without IDLE and MOVE: polling, COPY +
 *			\Deleted + UID EXPUNGE, a message not done handed
 *			out again after poll_interval
 *	erase		forgetting a person: their messages deleted from
 *			INBOX and Routed by Message-ID, nobody else's
 *	tls		certificates: unknown CA, CA given, verify off,
 *			wrong name, self-signed; STARTTLS; STARTTLS required
 *			from a server without it
 *	tls_weak	certificates refused at security level 2: a 1024-bit
 *			RSA key (the server's, an intermediate's), SHA-1 and
 *			MD5 signatures, a name in the CN only; a DNS name and
 *			an intermediate chain accepted
 *
 * Skipped, saying so, when Dovecot or python3 is not installed.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "source.h"
#include "store.h"
#include "xmalloc.h"

#define PY	"/usr/bin/python3"

static char	 dir[256];		/* this run's private directory */
static char	*servers[8];		/* Dovecot directories to stop */
static size_t	 nservers;

/* --- helpers ------------------------------------------------------------ */

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
run(const char *cmd)
{
	int	rc = system(cmd);

	if (rc == -1 || !WIFEXITED(rc))
		return -1;
	return WEXITSTATUS(rc);
}

/* The command's output without its last newline, or NULL on failure. */
static char *
run_output(const char *cmd)
{
	char	 out[4096];
	size_t	 len = 0, n;
	FILE	*f;

	if ((f = popen(cmd, "r")) == NULL)
		return NULL;
	while ((n = fread(out + len, 1, sizeof out - 1 - len, f)) > 0)
		len += n;
	if (pclose(f) != 0 || len == 0)
		return NULL;
	out[len] = '\0';
	if (out[len - 1] == '\n')
		out[len - 1] = '\0';
	return xstrdup(out);
}

static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Start a Dovecot in dir/name; env is "" or "DOVECOT_NO_IDLE=1 ...". */
static void
dovecot_start(const char *name, int port, const char *mode, const char *env)
{
	char	*sd, *cmd;
	size_t	 i;

	sd = xprintf("%s/%s", dir, name);
	cmd = xprintf("%s sh %s/tests/tools/dovecot.sh start %s %d %s",
	    env, test_top(), sd, port, mode);
	if (run(cmd) != 0) {
		print_error("%s: failed\n", cmd);
		free(cmd);
		free(sd);
		fail();
	}
	free(cmd);
	for (i = 0; i < nservers; i++) {
		if (strcmp(servers[i], sd) == 0) {
			free(sd);
			return;
		}
	}
	assert_true(nservers < sizeof servers / sizeof servers[0]);
	servers[nservers++] = sd;
}

static void
dovecot_stop(const char *name)
{
	char	*cmd;

	cmd = xprintf("sh %s/tests/tools/dovecot.sh stop %s/%s", test_top(),
	    dir, name);
	assert_int_equal(run(cmd), 0);
	free(cmd);
}

/* flags: "" or "--tls" (an imaps server). */
static void
imap_append_flags(const char *flags, int port, const char *mailbox,
    const char *text)
{
	char	*cmd;

	cmd = xprintf("%s %s/tests/tools/imaptool.py %s %d append '%s' '%s'",
	    PY, test_top(), flags, port, mailbox, text);
	if (run(cmd) != 0) {
		print_error("%s: failed\n", cmd);
		fail();
	}
	free(cmd);
}

static void
imap_append(int port, const char *mailbox, const char *text)
{
	imap_append_flags("", port, mailbox, text);
}

static char *
imap_query(int port, const char *what, const char *mailbox)
{
	char	*cmd, *out;

	cmd = xprintf("%s %s/tests/tools/imaptool.py %d %s '%s'", PY,
	    test_top(), port, what, mailbox);
	out = run_output(cmd);
	if (out == NULL) {
		print_error("%s: failed\n", cmd);
		fail();
	}
	free(cmd);
	return out;
}

static void
check_count(int port, const char *mailbox, const char *want)
{
	char	*got, *what;

	got = imap_query(port, "count", mailbox);
	what = xprintf("messages in %s", mailbox);
	assert_str_eq_msg(what, got, want);
	free(what);
	free(got);
}

/* A configuration for the server on port, with extra -o overrides. */
static struct conf *
make_conf(const char *url, const char *const *extra)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	char			*o[32], *pw;
	size_t			 n = 0, i;
	FILE			*f;

	pw = xprintf("%s/imap.password", dir);
	f = fopen(pw, "w");
	assert_non_null(f);
	fputs("secret\n", f);
	fclose(f);
	chmod(pw, 0600);
	o[n++] = xprintf("general.database=%s/p.db", dir);
	o[n++] = xstrdup("inbound.source=imap");
	o[n++] = xprintf("inbound.imap_url=%s", url);
	o[n++] = xstrdup("inbound.imap_user=test");
	o[n++] = xprintf("inbound.password_file=%s", pw);
	o[n++] = xstrdup("inbound.timeout=10");
	for (; extra != NULL && *extra != NULL; extra++)
		o[n++] = xstrdup(*extra);
	conf = conf_load(NULL, o, n, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("conf: %s\n", errs.msgs[i]);
	assert_int_equal(errs.n, 0);
	assert_non_null(conf);
	conf_errors_free(&errs);
	for (i = 0; i < n; i++)
		free(o[i]);
	free(pw);
	return conf;
}

/*
 * Drive the source as the daemon does until it hands out a message or
 * max_ms pass: 1 with msg, 0 on time-out.  Failures (-1) are counted in
 * *errors and the last cause kept in *last (either may be NULL).
 */
static int
wait_msg(struct source *s, struct source_msg *msg, int max_ms, int *errors,
    char **last)
{
	struct pollfd	 pfd;
	int64_t		 deadline = now_ms() + max_ms, left;
	char		*cause = NULL;
	int		 r, t;

	for (;;) {
		r = source_imap_ops.next(s, msg, &cause);
		if (r == 1)
			return 1;
		if (r == -1) {
			if (errors != NULL)
				(*errors)++;
			if (last != NULL) {
				free(*last);
				*last = cause;
			} else
				free(cause);
			cause = NULL;
		}
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		t = source_imap_ops.timeout(s);
		if (t == -1 || t > left)
			t = (int)left;
		if (t > 1000)
			t = 1000;	/* as postroomd: once a second */
		pfd.fd = source_imap_ops.fd(s);
		pfd.events = POLLIN;
		poll(&pfd, pfd.fd != -1 ? 1 : 0, t);
	}
}

static void
check_done(struct source *s, struct source_msg *msg)
{
	char	*cause = NULL;

	if (source_imap_ops.done(s, msg, &cause) != 0) {
		print_error("done(%s): %s\n", msg->id, cause);
		fail();
	}
}

/* The imap_state row of the server on port: "UIDVALIDITY LAST_UID". */
static void
check_state(const char *what, int port, const char *want_uv, int want_last)
{
	struct store	*st;
	char		*path, *account, *got, *want, *cause = NULL;
	int64_t		 uv = -1, last = -1;

	path = xprintf("%s/p.db", dir);
	st = store_open(path, &cause);
	assert_non_null(st);
	assert_int_equal(store_imap_get(st, "imap://nobody@127.0.0.1:1",
	    "INBOX", &uv, &last, &cause), 0);
	account = xprintf("imap://test@127.0.0.1:%d", port);
	assert_int_equal(store_imap_get(st, account, "INBOX", &uv, &last,
	    &cause), 1);
	got = xprintf("%lld %lld", (long long)uv, (long long)last);
	want = xprintf("%s %d", want_uv, want_last);
	assert_str_eq_msg(what, got, want);
	free(got);
	free(want);
	free(account);
	free(path);
	store_close(st);
}

static int
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* --- set-up ------------------------------------------------------------- */

static int
group_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	/* TEST_IMAP_DEBUG=1: the whole IMAP conversation on stderr. */
	log_init("test-source-imap", getenv("TEST_IMAP_DEBUG") != NULL ?
	    LOGL_DEBUG : LOGL_ERROR);
	snprintf(dir, sizeof dir, "%s/postroom-imap.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return -1;
	/* As root, Dovecot hands the mailbox to nobody, who must get in. */
	chmod(dir, 0711);
	return 0;
}

static int
group_teardown(void **state)
{
	char	*cmd;
	size_t	 i;

	for (i = 0; i < nservers; i++) {
		cmd = xprintf("sh %s/tests/tools/dovecot.sh stop %s",
		    test_top(), servers[i]);
		(void)run(cmd);
		free(cmd);
		free(servers[i]);
	}
	cmd = xprintf("rm -rf %s", dir);
	(void)run(cmd);
	free(cmd);
	return 0;
}

static int
have_dovecot(void)
{
	return access("/usr/sbin/dovecot", X_OK) == 0 &&
	    access(PY, X_OK) == 0 &&
	    run("openssl version >/dev/null 2>&1") == 0;
}

static void
skip_why(void)
{
	print_message("# SKIP: needs /usr/sbin/dovecot (dovecot-imapd), %s "
	    "and openssl\n", PY);
	skip();
}

/* --- the tests ---------------------------------------------------------- */

static void
test_idle(void **state)
{
	static const char *const extra[] = {
		"inbound.starttls=off", "inbound.poll_interval=60",
		"inbound.idle_timeout=30", NULL
	};
	struct conf		*conf;
	struct source		*s;
	struct source_msg	 msg;
	char			*cause = NULL, *url, *uv, *last = NULL, *p;
	int64_t			 t0, t1;
	int			 port, errors = 0;

	if (!have_dovecot())
		skip_why();
	port = free_port();
	dovecot_start("plain", port, "plain", "");
	imap_append(port, "INBOX", "From: a@example.net\nSubject: first\n"
	    "Message-ID: <1@example.net>\n\nThe first enquiry.\n");
	url = xprintf("imap://127.0.0.1:%d", port);
	conf = make_conf(url, extra);

	/* A message already waiting is handed out, then filed. */
	s = source_imap_ops.open(conf, &cause);
	if (s == NULL)
		print_error("open: %s\n", cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("first message id", msg.id, "1");
	assert_true(contains(msg.data, "Subject: first\r\n"));
	assert_int_equal(msg.len, strlen(msg.data));
	assert_int_equal(msg.truncated, 0);
	check_count(port, "INBOX", "1");	/* not moved before done() */
	check_done(s, &msg);
	source_msg_free(&msg);
	check_count(port, "INBOX", "0");
	check_count(port, "Routed", "1");
	uv = imap_query(port, "uidvalidity", "INBOX");
	check_state("imap_state after done(1)", port, uv, 1);

	/* Nothing more: IDLE, the descriptor to watch, renewed in 30 s. */
	assert_int_equal(source_imap_ops.next(s, &msg, &cause), 0);
	assert_true(source_imap_ops.fd(s) != -1);
	t0 = source_imap_ops.timeout(s);
	if (t0 < 29000 || t0 > 30000) {
		print_error("timeout() while IDLE: got %lld, want 29000..30000 "
		    "(inbound.idle_timeout)\n", (long long)t0);
		fail();
	}

	/* A new message is pushed: well before any poll would find it. */
	imap_append(port, "INBOX", "From: b@example.net\nSubject: second\n"
	    "\nPushed.\n");
	t0 = now_ms();
	assert_int_equal(wait_msg(s, &msg, 10000, NULL, NULL), 1);
	t1 = now_ms();
	print_message("# APPEND -> handed out by IDLE: %lld ms\n",
	    (long long)(t1 - t0));
	assert_str_eq_msg("pushed message id", msg.id, "2");
	check_done(s, &msg);
	source_msg_free(&msg);

	/* Handed out, never done, then a restart: handed out again. */
	imap_append(port, "INBOX", "From: c@example.net\nSubject: third\n"
	    "\nNot recorded.\n");
	assert_int_equal(wait_msg(s, &msg, 10000, NULL, NULL), 1);
	assert_str_eq_msg("third message id", msg.id, "3");
	source_msg_free(&msg);
	source_imap_ops.close(s);
	check_state("imap_state with 3 not done", port, uv, 2);
	s = source_imap_ops.open(conf, &cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("third message again", msg.id, "3");
	check_done(s, &msg);
	source_msg_free(&msg);
	check_state("imap_state after done(3)", port, uv, 3);

	/* The server goes away under an IDLE and comes back. */
	assert_int_equal(source_imap_ops.next(s, &msg, &cause), 0);
	dovecot_stop("plain");
	for (t0 = now_ms(); errors == 0 && now_ms() - t0 < 3000;)
		assert_int_equal(wait_msg(s, &msg, 100, &errors, &last), 0);
	if (errors == 0 || (!contains(last, "reconnecting in") &&
	    !contains(last, "retrying in"))) {
		print_error("server stopped: got %d errors, last \"%s\"; want "
		    "a lost connection and a retry\n", errors, last);
		fail();
	}
	print_message("# server stopped: %s\n", last);
	dovecot_start("plain", port, "plain", "");
	imap_append(port, "INBOX", "From: d@example.net\nSubject: fourth\n"
	    "\nAfter the restart.\n");
	t0 = now_ms();
	assert_int_equal(wait_msg(s, &msg, 20000, &errors, &last), 1);
	print_message("# reconnected and handed out after %lld ms (%d "
	    "failures on the way)\n", (long long)(now_ms() - t0), errors);
	assert_str_eq_msg("message after restart", msg.id, "4");
	check_done(s, &msg);
	source_msg_free(&msg);
	check_count(port, "Routed", "4");
	source_imap_ops.close(s);
	free(last);

	/*
	 * UIDVALIDITY changes (Dovecot rebuilds its UID list): what is in
	 * the mailbox now has UIDs 1 and 2, below the saved last UID 4, and
	 * must be handed out all the same.
	 */
	imap_append(port, "INBOX", "From: e@example.net\nSubject: 5\n\n5\n");
	imap_append(port, "INBOX", "From: f@example.net\nSubject: 6\n\n6\n");
	dovecot_stop("plain");
	p = xprintf("rm -f %s/plain/mail/test/dovecot-uidlist "
	    "%s/plain/mail/test/dovecot.index*", dir, dir);
	assert_int_equal(run(p), 0);
	free(p);
	dovecot_start("plain", port, "plain", "");
	/* Dovecot's new UIDVALIDITY is the time: seconds after the first. */
	p = uv;
	uv = imap_query(port, "uidvalidity", "INBOX");
	if (strcmp(p, uv) == 0) {
		print_error("UIDVALIDITY did not change: %s\n", uv);
		fail();
	}
	free(p);
	s = source_imap_ops.open(conf, &cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("first after UIDVALIDITY change", msg.id, "1");
	check_done(s, &msg);
	source_msg_free(&msg);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("second after UIDVALIDITY change", msg.id, "2");
	check_done(s, &msg);
	source_msg_free(&msg);
	check_state("imap_state after UIDVALIDITY change", port, uv, 2);
	check_count(port, "INBOX", "0");
	source_imap_ops.close(s);

	free(uv);
	free(url);
	conf_free(conf);
}

static void
test_flag_only(void **state)
{
	static const char *const extra[] = {
		"inbound.starttls=off", "inbound.mailbox=Flagged",
		"inbound.routed_folder=", "inbound.max_message_size=1024", NULL
	};
	struct conf		*conf;
	struct source		*s;
	struct source_msg	 msg;
	char			*cause = NULL, *url, *flags, *big;
	int			 port;

	if (!have_dovecot())
		skip_why();
	port = free_port();
	dovecot_start("flag", port, "plain", "");
	imap_append(port, "Flagged", "From: a@example.net\nSubject: x\n\nx\n");
	big = xmalloc(3001);
	memset(big, 'x', 3000);
	memcpy(big, "Subject: big\n\n", 14);
	big[3000] = '\0';
	imap_append(port, "Flagged", big);
	free(big);
	url = xprintf("imap://127.0.0.1:%d", port);
	conf = make_conf(url, extra);
	s = source_imap_ops.open(conf, &cause);
	if (s == NULL)
		print_error("open: %s\n", cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_int_equal(msg.truncated, 0);
	check_done(s, &msg);
	source_msg_free(&msg);

	/* Over max_message_size: the first 1024 bytes, flagged. */
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("big one", msg.id, "2");
	assert_int_equal(msg.truncated, 1);
	assert_int_equal(msg.len, 1024);
	assert_true(contains(msg.data, "Subject: big\r\n"));
	check_done(s, &msg);
	source_msg_free(&msg);
	check_count(port, "Flagged", "2");
	check_count(port, "Routed", "0");
	flags = imap_query(port, "flags", "Flagged");
	assert_true(contains(flags, "\\Seen"));
	free(flags);
	source_imap_ops.close(s);

	/* Still there, but handled: not handed out again. */
	s = source_imap_ops.open(conf, &cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 300, NULL, NULL), 0);
	source_imap_ops.close(s);
	dovecot_stop("flag");
	free(url);
	conf_free(conf);
}

static void
test_no_idle(void **state)
{
	static const char *const extra[] = {
		"inbound.starttls=off", "inbound.poll_interval=1", NULL
	};
	struct conf		*conf;
	struct source		*s;
	struct source_msg	 msg;
	char			*cause = NULL, *url, *flags;
	int64_t			 t0;
	int			 port, t;

	if (!have_dovecot())
		skip_why();
	port = free_port();
	dovecot_start("noidle", port, "plain",
	    "DOVECOT_NO_IDLE=1 DOVECOT_NO_MOVE=1");
	imap_append(port, "INBOX", "From: a@example.net\nSubject: x\n\nx\n");
	url = xprintf("imap://127.0.0.1:%d", port);
	conf = make_conf(url, extra);
	s = source_imap_ops.open(conf, &cause);
	if (s == NULL)
		print_error("open: %s\n", cause);
	assert_non_null(s);
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	assert_str_eq_msg("first", msg.id, "1");
	source_msg_free(&msg);

	/* Not done: no IDLE to wait on, a timer instead, then again. */
	assert_int_equal(source_imap_ops.next(s, &msg, &cause), 0);
	assert_int_equal(source_imap_ops.fd(s), -1);
	t = source_imap_ops.timeout(s);
	if (t < 0 || t > 1000) {
		print_error("timeout: got %d, want 0..1000\n", t);
		fail();
	}
	assert_int_equal(wait_msg(s, &msg, 3000, NULL, NULL), 1);
	assert_str_eq_msg("not done, handed out again", msg.id, "1");
	check_done(s, &msg);
	source_msg_free(&msg);
	check_count(port, "INBOX", "0");
	check_count(port, "Routed", "1");
	flags = imap_query(port, "flags", "Routed");
	assert_false(contains(flags, "\\Deleted"));
	free(flags);

	/* A new one is found by the next poll. */
	assert_int_equal(source_imap_ops.next(s, &msg, &cause), 0);
	assert_int_equal(source_imap_ops.fd(s), -1);
	imap_append(port, "INBOX", "From: b@example.net\nSubject: y\n\ny\n");
	t0 = now_ms();
	assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
	print_message("# APPEND -> handed out by polling every second: %lld "
	    "ms\n", (long long)(now_ms() - t0));
	assert_str_eq_msg("polled", msg.id, "2");
	check_done(s, &msg);
	source_msg_free(&msg);
	source_imap_ops.close(s);
	dovecot_stop("noidle");
	free(url);
	conf_free(conf);
}

/*
 * Erasing a person (forget.c): their messages go from the mailbox and
 * the routed folder, found by Message-ID; nobody else's; a server away
 * is an error that says so.
 */
static void
test_erase(void **state)
{
	static const char *const extra[] = { "inbound.starttls=off", NULL };
	static const char *const ids[] = {
		"a1@example.net", "c3@example.net", "none@example.net",
	};
	struct conf	*conf;
	char		*cause = NULL, *url;
	int		 port, found[3], expunged;

	if (!have_dovecot())
		skip_why();
	port = free_port();
	dovecot_start("erase", port, "plain", "");
	imap_append(port, "INBOX", "From: a@example.net\nMessage-ID: "
	    "<a1@example.net>\nSubject: a\n\na\n");
	imap_append(port, "INBOX", "From: b@example.net\nMessage-ID: "
	    "<b2@example.net>\nSubject: b\n\nsee <a1@example.net>\n");
	imap_append(port, "Routed", "From: a@example.net\nMessage-ID: "
	    "<c3@example.net>\nSubject: c\n\nc\n");
	imap_append(port, "Routed", "From: d@example.net\nMessage-ID: "
	    "<xa1@example.net>\nSubject: d\n\nd\n");
	url = xprintf("imap://127.0.0.1:%d", port);
	conf = make_conf(url, extra);
	if (source_imap_erase(conf, ids, 3, found, &expunged, &cause) != 0) {
		print_error("erase: %s\n", cause);
		fail();
	}
	assert_int_equal(found[0], 1);
	assert_int_equal(found[1], 1);
	assert_int_equal(found[2], 0);
	assert_int_equal(expunged, 1);
	/* Gone, not just flagged; the others stay. */
	check_count(port, "INBOX", "1");
	check_count(port, "Routed", "1");
	dovecot_stop("erase");

	/* The server away: an error saying so, nothing found. */
	assert_int_equal(source_imap_erase(conf, ids, 3, found, &expunged,
	    &cause), -1);
	if (!contains(cause, "cannot connect")) {
		print_error("away: got \"%s\"\n", cause);
		fail();
	}
	free(cause);
	free(url);
	conf_free(conf);
}

/* The test's CA and certificates under dir/pki (tests/tools/pki.sh). */
static void
make_pki(void)
{
	char	*cmd;

	cmd = xprintf("sh %s/tests/tools/pki.sh %s/pki", test_top(), dir);
	if (run(cmd) != 0) {
		print_error("making certificates failed: %s\n", cmd);
		fail();
	}
	free(cmd);
}

/*
 * Put certificate cert (a file under dir/pki, without .pem: a chain file
 * is allowed) and its key in front of the server in dir/server.
 */
static void
use_cert(const char *server, const char *cert, const char *key)
{
	char	*cmd;

	cmd = xprintf("mkdir -p %s/%s && cp %s/pki/%s.pem %s/%s/cert.pem &&"
	    " cp %s/pki/%s.key %s/%s/key.pem", dir, server, dir, cert, dir,
	    server, dir, key, dir, server);
	assert_int_equal(run(cmd), 0);
	free(cmd);
}

/*
 * Open the source with the overrides; want NULL: it must open, and hand
 * out a message when pick is set; else it must refuse, saying want.
 */
static void
try_open(const char *what, const char *url, const char *const *extra,
    const char *want, int pick)
{
	struct conf		*conf;
	struct source		*s;
	struct source_msg	 msg;
	char			*cause = NULL;

	conf = make_conf(url, extra);
	s = source_imap_ops.open(conf, &cause);
	if (want == NULL) {
		if (s == NULL) {
			print_error("%s: got refused (%s), want accepted\n",
			    what, cause);
			fail();
		}
		if (pick) {
			assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL),
			    1);
			check_done(s, &msg);
			source_msg_free(&msg);
		}
		source_imap_ops.close(s);
	} else {
		if (s != NULL || !contains(cause, want)) {
			print_error("%s:\n  got  %s\n  want refused, saying "
			    "\"%s\"\n", what, s != NULL ? "accepted" : cause,
			    want);
			fail();
		}
		print_message("# %s: %s\n", what, cause);
	}
	free(cause);
	conf_free(conf);
}

static void
test_tls(void **state)
{
	struct conf		*conf;
	struct source		*s;
	struct source_msg	 msg;
	char			*ca, *url, *surl, *purl, *o_ca, *cause = NULL;
	int64_t			 t0;
	int			 port, sport, pport;

	if (!have_dovecot())
		skip_why();
	make_pki();
	ca = xprintf("%s/pki/ca.pem", dir);
	o_ca = xprintf("inbound.ca_file=%s", ca);
	port = free_port();
	url = xprintf("imaps://127.0.0.1:%d", port);

	/* A certificate from a CA nobody told us about. */
	use_cert("tls", "good", "good");
	dovecot_start("tls", port, "tls", "");
	imap_append_flags("--tls", port, "INBOX",
	    "From: a@example.net\nSubject: x\n\nx\n");
	{
		const char *const none[] = { NULL };
		const char *const with_ca[] = { o_ca, NULL };
		const char *const off[] = { "inbound.verify_cert=false",
		    NULL };

		try_open("unknown CA, verify_cert on", url, none,
		    "is not signed by a trusted authority", 0);
		try_open("CA in inbound.ca_file", url, with_ca, NULL, 1);
		try_open("verify_cert off", url, off, NULL, 0);

		/* IDLE over TLS: what libetpan buffered must not be missed. */
		conf = make_conf(url, with_ca);
		s = source_imap_ops.open(conf, &cause);
		assert_non_null(s);
		assert_int_equal(source_imap_ops.next(s, &msg, &cause), 0);
		assert_true(source_imap_ops.fd(s) != -1);
		imap_append_flags("--tls", port, "INBOX",
		    "From: b@example.net\nSubject: y\n\ny\n");
		t0 = now_ms();
		assert_int_equal(wait_msg(s, &msg, 5000, NULL, NULL), 1);
		print_message("# APPEND -> handed out by IDLE over TLS: %lld "
		    "ms\n", (long long)(now_ms() - t0));
		check_done(s, &msg);
		source_msg_free(&msg);
		source_imap_ops.close(s);
		conf_free(conf);
	}
	dovecot_stop("tls");

	/* Signed by our CA, but for another name. */
	use_cert("tls", "wrong", "wrong");
	dovecot_start("tls", port, "tls", "");
	{
		const char *const with_ca[] = { o_ca, NULL };

		try_open("wrong name", url, with_ca,
		    "does not name 127.0.0.1", 0);
	}
	dovecot_stop("tls");

	/* Self-signed. */
	use_cert("tls", "self", "self");
	dovecot_start("tls", port, "tls", "");
	{
		const char *const with_ca[] = { o_ca, NULL };
		const char *const off[] = { "inbound.verify_cert=false",
		    NULL };

		try_open("self-signed", url, with_ca, "self-signed", 0);
		try_open("self-signed, verify_cert off", url, off, NULL, 0);
	}
	dovecot_stop("tls");

	/* STARTTLS, checked like implicit TLS. */
	sport = free_port();
	surl = xprintf("imap://127.0.0.1:%d", sport);
	use_cert("starttls", "good", "good");
	dovecot_start("starttls", sport, "starttls", "");
	imap_append(sport, "INBOX", "From: a@example.net\nSubject: x\n\nx\n");
	{
		const char *const none[] = { NULL };
		const char *const with_ca[] = { o_ca, NULL };

		try_open("STARTTLS, unknown CA", surl, none,
		    "is not signed by a trusted authority", 0);
		try_open("STARTTLS, CA given", surl, with_ca, NULL, 1);
	}
	dovecot_stop("starttls");

	/* STARTTLS required, from a server that has none. */
	pport = free_port();
	purl = xprintf("imap://127.0.0.1:%d", pport);
	dovecot_start("notls", pport, "plain", "");
	{
		const char *const req[] = { "inbound.starttls=required",
		    NULL };

		try_open("STARTTLS required, not offered", purl, req,
		    "does not offer STARTTLS", 0);
	}
	dovecot_stop("notls");

	free(ca);
	free(o_ca);
	free(url);
	free(surl);
	free(purl);
}

/*
 * Certificates Debian's libssl would refuse, served by a Dovecot at
 * OpenSSL's security level 0 (DOVECOT_WEAK_TLS): each is refused by
 * name, and the good ones beside them (a DNS name, an intermediate the
 * server sends) show that the refusals are for the certificate, not the
 * way there.
 */
static const struct {
	const char	*what;
	const char	*cert;		/* under dir/pki, without .pem */
	const char	*key;
	const char	*host;
	const char	*want;		/* NULL: accepted */
} tls_weak_cases[] = {
	{ "DNS name in subjectAltName", "name", "name", "localhost", NULL },
	{ "intermediate sent by the server", "viainter-chain", "viainter",
	  "127.0.0.1", NULL },
	{ "name in the CN only", "cnonly", "cnonly", "localhost",
	  "(CN=localhost) does not name localhost (it has no "
	  "subjectAltName" },
	{ "1024-bit RSA key", "rsa1024", "rsa1024", "127.0.0.1",
	  "(CN=rsa1024, names IP:127.0.0.1) uses a 1024-bit RSA key; 2048 "
	  "bits or more are required" },
	{ "1024-bit RSA intermediate", "viaweak-chain", "viaweak",
	  "127.0.0.1", "certificate 1 in the server's chain (CN=postroom "
	  "weak intermediate) uses a 1024-bit RSA key" },
	{ "SHA-1 signature", "sha1", "sha1", "127.0.0.1",
	  "(CN=sha1, names IP:127.0.0.1) is signed with SHA-1, which is no "
	  "longer accepted" },
	{ "MD5 signature", "md5", "md5", "127.0.0.1",
	  "(CN=md5, names IP:127.0.0.1) is signed with MD5, which is no "
	  "longer accepted" },
};

static void
test_tls_weak(void **state)
{
	char	*o_ca, *url;
	size_t	 i;
	int	 port;

	if (!have_dovecot())
		skip_why();
	make_pki();
	o_ca = xprintf("inbound.ca_file=%s/pki/ca.pem", dir);
	port = free_port();
	for (i = 0; i < sizeof tls_weak_cases / sizeof tls_weak_cases[0];
	    i++) {
		const char *const with_ca[] = { o_ca, NULL };

		use_cert("weak", tls_weak_cases[i].cert,
		    tls_weak_cases[i].key);
		dovecot_start("weak", port, "tls", "DOVECOT_WEAK_TLS=1");
		url = xprintf("imaps://%s:%d", tls_weak_cases[i].host, port);
		try_open(tls_weak_cases[i].what, url, with_ca,
		    tls_weak_cases[i].want, 0);
		free(url);
		dovecot_stop("weak");
	}
	free(o_ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle),
		cmocka_unit_test(test_flag_only),
		cmocka_unit_test(test_no_idle),
		cmocka_unit_test(test_erase),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_tls_weak),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
