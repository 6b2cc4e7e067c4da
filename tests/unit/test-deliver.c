/*
 * test-deliver.c - the delivery engine: its state machine, the retry
 * schedule and pause rule (pure functions, table-driven), and whole runs
 * of deliver_run_once_opts() on a scratch database through the maildir
 * transport and through a fake transport that answers by recipient:
 *
 *	ok*	250		temp*	451		perm*	550
 *	conn*	lost connection (no reply)
 *
 * The fake transport also checks, at every submit, that the row is
 * already committed as sending, and counts the rows handed over whose
 * fate is not written back yet (the crash-safety bound: at most
 * smtp.concurrency) and the rows sending in all (with no rate limit the
 * engine claims up to smtp.concurrency more ahead: at most twice).
 */
#include "testutil.h"

#include <dirent.h>
#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "send-smtp.h"
#include "store.h"
#include "transport.h"
#include "xmalloc.h"

#define MSG	"Subject: x\r\n\r\nx\r\n"

/* --- pure functions ---------------------------------------------------- */

static void
test_states(void **state)
{
	/* want[from][to] */
	static const int want[DELIVER_NSTATES][DELIVER_NSTATES] = {
		/*		 CLM SND SNT DEF FAI SKP REL */
		[DELIVER_CLAIMED] = { 0, 1, 0, 1, 1, 1, 1 },
		[DELIVER_SENDING] = { 0, 0, 1, 1, 1, 0, 0 },
		[DELIVER_SENT] = { 0, 0, 0, 0, 0, 0, 0 },
		[DELIVER_DEFERRED] = { 0, 0, 0, 0, 0, 0, 0 },
		[DELIVER_FAILED] = { 0, 0, 0, 0, 0, 0, 0 },
		[DELIVER_SKIPPED] = { 0, 0, 0, 0, 0, 0, 0 },
		[DELIVER_RELEASED] = { 0, 0, 0, 0, 0, 0, 0 },
	};
	int	from, to, got;

	(void)state;
	for (from = 0; from < DELIVER_NSTATES; from++) {
		for (to = 0; to < DELIVER_NSTATES; to++) {
			got = deliver_can_move(from, to);
			if (got != want[from][to]) {
				print_error("%s -> %s: got %d, want %d\n",
				    deliver_state_name(from),
				    deliver_state_name(to), got,
				    want[from][to]);
				fail();
			}
		}
	}
	assert_str_eq_msg("name", deliver_state_name(DELIVER_DEFERRED),
	    "deferred");
}

static void
test_backoff_schedule(void **state)
{
	static const struct {
		int	attempts;
		int64_t	want;
	} cases[] = {
		{ 0, 60 }, { 1, 60 }, { 2, 300 }, { 3, 900 }, { 4, 3600 },
		{ 5, 14400 }, { 6, 14400 }, { 100, 14400 },
	};
	size_t	i;
	int64_t	got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = deliver_backoff_base(cases[i].attempts);
		if (got != cases[i].want) {
			print_error("after attempt %d: got %" PRId64 "s, want %"
			    PRId64 "s\n", cases[i].attempts, got,
			    cases[i].want);
			fail();
		}
	}
}

static void
test_backoff_jitter(void **state)
{
	int		attempts;
	uint32_t	rnd, x = 2463534242u;
	int64_t		base, lo, hi, got, min, max;
	int		i;

	(void)state;
	for (attempts = 1; attempts <= 6; attempts++) {
		base = deliver_backoff_base(attempts);
		lo = base - base * DELIVER_JITTER_PERCENT / 100;
		hi = base + base * DELIVER_JITTER_PERCENT / 100;
		min = INT64_MAX;
		max = INT64_MIN;
		for (i = 0; i < 20000; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			rnd = i < 2 ? (uint32_t)(i == 0 ? 0 : UINT32_MAX) : x;
			got = deliver_backoff(attempts, rnd);
			if (got < lo || got > hi) {
				print_error("attempt %d, rnd %u: got %" PRId64
				    "s, want %" PRId64 "..%" PRId64 "s\n",
				    attempts, rnd, got, lo, hi);
				fail();
			}
			min = got < min ? got : min;
			max = got > max ? got : max;
		}
		/* The jitter spreads over the whole range. */
		if (min > lo + (hi - lo) / 20 || max < hi - (hi - lo) / 20) {
			print_error("attempt %d: got %" PRId64 "..%" PRId64
			    "s, want about %" PRId64 "..%" PRId64 "s\n",
			    attempts, min, max, lo, hi);
			fail();
		}
		assert_int_equal(deliver_backoff(attempts, 0), lo);
	}
}

static void
test_retry(void **state)
{
	static const struct {
		const char		*name;
		int64_t			 max_age;
		int			 attempts;
		int64_t			 created, now;
		enum deliver_state	 want;
		int64_t			 next;	/* with rnd 0: base - 10% */
	} cases[] = {
		{ "first failure", 259200, 1, 1000, 1000,
		  DELIVER_DEFERRED, 1054 },
		{ "third failure", 259200, 3, 1000, 5000,
		  DELIVER_DEFERRED, 5810 },
		{ "late: capped at the deadline", 259200, 6, 0, 259000,
		  DELIVER_DEFERRED, 259200 },
		{ "at the deadline", 259200, 7, 0, 259200,
		  DELIVER_FAILED, 0 },
		{ "past it", 259200, 7, 0, 300000, DELIVER_FAILED, 0 },
		{ "short max age", 60, 1, 100, 120, DELIVER_DEFERRED, 160 },
	};
	size_t			i;
	int64_t			next;
	enum deliver_state	got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = deliver_retry(cases[i].max_age, cases[i].attempts,
		    cases[i].created, cases[i].now, 0, &next);
		if (got != cases[i].want || next != cases[i].next) {
			print_error("%s: got %s at %" PRId64 ", want %s at %"
			    PRId64 "\n", cases[i].name,
			    deliver_state_name(got), next,
			    deliver_state_name(cases[i].want), cases[i].next);
			fail();
		}
	}
}

static void
test_should_pause(void **state)
{
	static const struct {
		int64_t	count;
		int	percent;
		int64_t	sent, failed;
		int	want;
	} cases[] = {
		{ 0, 5, 0, 1000000, 0 },	/* 0: never */
		{ 1000, 5, 0, 999, 0 },		/* too few */
		{ 1000, 5, 19000, 1000, 1 },	/* exactly 5% */
		{ 1000, 5, 19001, 1000, 0 },	/* just under 5% */
		{ 1000, 0, 1000000, 1000, 1 },	/* 0%: the count alone */
		{ 2, 50, 0, 2, 1 },
		{ 2, 50, 3, 2, 0 },
		{ 3, 100, 0, 3, 1 },
		{ 3, 100, 1, 3, 0 },
	};
	size_t	i;
	int	got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = deliver_should_pause(cases[i].count, cases[i].percent,
		    cases[i].sent, cases[i].failed);
		if (got != cases[i].want) {
			print_error("count %" PRId64 ", %d%%, sent %" PRId64
			    ", failed %" PRId64 ": got %d, want %d\n",
			    cases[i].count, cases[i].percent, cases[i].sent,
			    cases[i].failed, got, cases[i].want);
			fail();
		}
	}
}

/* --- the SMTP transport's reply handling (send-smtp.h) ---------------- */

static void
test_smtp_reply(void **state)
{
	static const struct {
		const char	*name;
		const char	*in;	/* split into pieces at '|' */
		int		 code;
		const char	*last;
	} cases[] = {
		{ "one line", "250 2.0.0 Ok: queued as 4\r\n", 250,
		  "250 2.0.0 Ok: queued as 4" },
		{ "multi-line", "250-sink\r\n250-SIZE 1\r\n250 HELP\r\n",
		  250, "250-sink 250-SIZE 1 250 HELP" },
		{ "the last reply wins",
		  "250 2.1.0 Ok\r\n550 5.1.1 <x@y.z>: no such user\r\n",
		  550, "550 5.1.1 <x@y.z>: no such user" },
		{ "QUIT's 221 is ignored",
		  "550 5.1.1 no\r\n221 Bye\r\n", 550, "550 5.1.1 no" },
		{ "in pieces", "45|1 4.3.0 try| later\r|\n", 451,
		  "451 4.3.0 try later" },
		{ "bare LF", "354 go ahead\n", 354, "354 go ahead" },
		{ "code alone", "250\r\n", 250, "250" },
		{ "not a reply", "hello\r\n", 0, "" },
		/* Shown on terminals: no escapes, no NUL, no bytes not text. */
		{ "control bytes", "550 \033[31mred\001 \xc3\xa9\r\n", 550,
		  "550 ?[31mred? ??" },
		{ "unfinished", "250 2.0.0 Ok", 0, "" },
	};
	struct send_smtp_reply	 r;
	const char		*p, *bar;
	size_t			 i;
	char			 what[128];

	(void)state;
	send_smtp_reply_init(&r);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		send_smtp_reply_reset(&r);
		for (p = cases[i].in; *p != '\0'; p = *bar != '\0' ? bar + 1 :
		    bar) {
			if ((bar = strchr(p, '|')) == NULL)
				bar = p + strlen(p);
			send_smtp_reply_add(&r, p, (size_t)(bar - p));
		}
		snprintf(what, sizeof what, "%s: last reply", cases[i].name);
		assert_str_eq_msg(what, r.last.len > 0 ? r.last.data : "",
		    cases[i].last);
		if (r.code != cases[i].code) {
			print_error("%s: got code %d, want %d\n",
			    cases[i].name, r.code, cases[i].code);
			fail();
		}
	}
	/* A reply longer than the cap is cut, not refused. */
	send_smtp_reply_reset(&r);
	for (i = 0; i < 100; i++)
		send_smtp_reply_add(&r, "250-a line of an EHLO reply\r\n", 29);
	send_smtp_reply_add(&r, "250 end\r\n", 9);
	assert_int_equal(r.code, 250);
	assert_true(r.last.len > 0 && r.last.len <= SEND_SMTP_REPLY_MAX);
	send_smtp_reply_free(&r);
}

/* Pipelined replies arrive several to a read: each is seen in turn. */
static void
test_smtp_reply_feed(void **state)
{
	static const char	 in[] = "250 2.1.0 Ok\r\n250-2.1.5 Ok\r\n"
	    "250 more\r\n354 End data with <CR><LF>.<CR><LF>\r\n451 4";
	static const int	 codes[] = { 250, 250, 354 };
	static const char *const texts[] = { "250 2.1.0 Ok",
	    "250-2.1.5 Ok 250 more", "354 End data with <CR><LF>.<CR><LF>" };
	struct send_smtp_reply	 r;
	const char		*p = in;
	size_t			 len = sizeof in - 1, used;
	int			 whole, n = 0;

	(void)state;
	send_smtp_reply_init(&r);
	while (len > 0) {
		used = send_smtp_reply_feed(&r, p, len, &whole);
		assert_true(used > 0 && used <= len);
		p += used;
		len -= used;
		if (!whole)
			continue;
		assert_true(n < 3);
		assert_int_equal(r.code, codes[n]);
		assert_string_equal(r.last.data, texts[n]);
		n++;
	}
	assert_int_equal(n, 3);
	/* The unfinished "451 4" waits for the rest of its line. */
	used = send_smtp_reply_feed(&r, ".3.0 later\r\n", 12, &whole);
	assert_true(used == 12 && whole);
	assert_int_equal(r.code, 451);
	assert_string_equal(r.last.data, "451 4.3.0 later");
	send_smtp_reply_free(&r);
}

/* What libcurl reads while it connects, line by line, as it hands it on. */
static void
test_smtp_ehlo(void **state)
{
	static const char *const plain[] = {
		"220 mx.example ESMTP\r\n", "250-mx.example\r\n",
		"250-PIPELINING\r\n", "250-SIZE 10240000\r\n",
		"250-STARTTLS\r\n", "250 8BITMIME\r\n", NULL,
	};
	/* After STARTTLS the server says less: the last EHLO counts. */
	static const char *const tls[] = {
		"220 2.0.0 Ready to start TLS\r\n", "250-mx.example\r\n",
		"250 size\r\n", "235 2.7.0 Authentication successful\r\n",
		NULL,
	};
	struct send_smtp_ehlo	e;
	size_t			i;

	(void)state;
	memset(&e, 0, sizeof e);
	for (i = 0; plain[i] != NULL; i++)
		send_smtp_ehlo_line(&e, plain[i], strlen(plain[i]));
	assert_true(e.pipelining);
	assert_true(e.size);
	assert_true(e.size_max == 10240000);
	for (i = 0; tls[i] != NULL; i++)
		send_smtp_ehlo_line(&e, tls[i], strlen(tls[i]));
	assert_false(e.pipelining);
	assert_true(e.size);
	assert_true(e.size_max == 0);
	/* A one-line 250 (HELO's) names no extension. */
	memset(&e, 0, sizeof e);
	send_smtp_ehlo_line(&e, "250 PIPELINING\r\n", 16);
	assert_false(e.pipelining);
	/* A keyword must be whole: PIPELININGX is something else. */
	send_smtp_ehlo_line(&e, "250-mx\r\n", 8);
	send_smtp_ehlo_line(&e, "250 PIPELININGX\r\n", 17);
	assert_false(e.pipelining);
	/* A bare "250" ends the reply; a SIZE past 2^63 is no limit. */
	send_smtp_ehlo_line(&e, "250-mx\r\n", 8);
	send_smtp_ehlo_line(&e, "250-size 99999999999999999999999\r\n", 35);
	assert_true(e.size && e.size_max == 0);
	send_smtp_ehlo_line(&e, "250", 3);
	assert_false(e.in250);
}

static void
test_smtp_dot_stuff(void **state)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ ".a\r\n", "..a\r\n.\r\n" },
		{ "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r\n..b\r\n.", "a\r\n...b\r\n..\r\n.\r\n" },
		/* No CRLF at the end: one is added before the dot. */
		{ "a. b.", "a. b.\r\n.\r\n" },
		{ "", "\r\n.\r\n" },
		/*
		 * A dot after a bare LF is stuffed too: a server that ends
		 * lines at LF must not see "\n.\r\n" end the message.
		 */
		{ "a\n.b\r\n", "a\n..b\r\n.\r\n" },
		{ "a\n.\r\nRCPT", "a\n..\r\nRCPT\r\n.\r\n" },
	};
	struct buf	out;
	size_t		i;

	(void)state;
	buf_init(&out, BUF_NOMAX);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_reset(&out);
		assert_int_equal(send_smtp_dot_stuff(&out, cases[i].in,
		    strlen(cases[i].in)), 0);
		assert_str_eq_msg(cases[i].in, out.data, cases[i].want);
	}
	/* Past the buffer's cap: -1, not a cut message. */
	buf_free(&out);
	buf_init(&out, 8);
	assert_int_equal(send_smtp_dot_stuff(&out, "0123456789\r\n", 12), -1);
	buf_free(&out);
}

static void
test_smtp_status(void **state)
{
	static const struct {
		int			 ok, code;
		enum send_smtp_stage	 stage;
		enum transport_status	 want;
	} cases[] = {
		{ 1, 250, SEND_SMTP_MESSAGE, TRANSPORT_OK },
		{ 0, 550, SEND_SMTP_ENVELOPE, TRANSPORT_PERMFAIL },
		{ 0, 554, SEND_SMTP_MESSAGE, TRANSPORT_PERMFAIL },
		{ 0, 451, SEND_SMTP_ENVELOPE, TRANSPORT_TEMPFAIL },
		{ 0, 452, SEND_SMTP_MESSAGE, TRANSPORT_TEMPFAIL },
		/* AUTH refused, greeting 554: ours or the server's problem. */
		{ 0, 535, SEND_SMTP_SESSION, TRANSPORT_TEMPFAIL },
		{ 0, 554, SEND_SMTP_SESSION, TRANSPORT_TEMPFAIL },
		/* "530 Must issue a STARTTLS command first" to MAIL. */
		{ 0, 530, SEND_SMTP_ENVELOPE, TRANSPORT_TEMPFAIL },
		{ 0, 538, SEND_SMTP_ENVELOPE, TRANSPORT_TEMPFAIL },
		/* No reply at all: connection lost, timeout. */
		{ 0, 0, SEND_SMTP_SESSION, TRANSPORT_TEMPFAIL },
		{ 0, 354, SEND_SMTP_MESSAGE, TRANSPORT_TEMPFAIL },
	};
	size_t			i;
	enum transport_status	got;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = send_smtp_status(cases[i].ok, cases[i].code,
		    cases[i].stage);
		if (got != cases[i].want) {
			print_error("ok %d, code %d, stage %d: got %d, want "
			    "%d\n", cases[i].ok, cases[i].code,
			    (int)cases[i].stage, (int)got, (int)cases[i].want);
			fail();
		}
	}
}

/* --- a scratch database and configuration ----------------------------- */

struct env {
	char		 dir[64];
	char		*db;
	struct store	*s;
	struct conf	*conf;
};

static void
env_open(struct env *e, const char *url, const char *const *extra)
{
	struct conf_errors	 errs = { 0 };
	char			*ov[16], *cause = NULL;
	size_t			 n = 0, i;

	snprintf(e->dir, sizeof e->dir, "/tmp/test-deliver.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->db = xprintf("%s/p.db", e->dir);
	ov[n++] = xprintf("general.database=%s", e->db);
	ov[n++] = xprintf("general.secret_file=%s/secret.key", e->dir);
	ov[n++] = xprintf("smtp.url=%s", url);
	ov[n++] = xstrdup("smtp.rate_per_second=0");
	ov[n++] = xstrdup("general.domain=example.org");
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		ov[n++] = xstrdup(extra[i]);
	e->conf = conf_load(NULL, ov, n, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("conf: %s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	for (i = 0; i < n; i++)
		free(ov[i]);
	assert_non_null(e->conf);
	if ((e->s = store_open(e->db, &cause)) == NULL) {
		print_error("store_open: %s\n", cause);
		fail();
	}
}

static void
env_close(struct env *e)
{
	char	*cmd;

	store_close(e->s);
	conf_free(e->conf);
	cmd = xprintf("rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(e->db);
}

static void
env_sql(struct env *e, const char *sql)
{
	char	*cause = NULL;

	if (store_exec_sql(e->s, sql, &cause) != 0) {
		print_error("%s: %s\n", sql, cause);
		fail();
	}
}

/* One text value from SQL built with printf; "(null)" for NULL. */
static char *
env_q(struct env *e, const char *fmt, ...)
{
	static char	 out[1024];
	va_list		 ap;
	char		*sql, *v = NULL, *cause = NULL;
	int		 rc;

	va_start(ap, fmt);
	if (vasprintf(&sql, fmt, ap) == -1)
		fail();
	va_end(ap);
	if ((rc = store_query_text(e->s, sql, &v, &cause)) == -1) {
		print_error("%s: %s\n", sql, cause);
		fail();
	}
	snprintf(out, sizeof out, "%s", rc == 1 && v != NULL ? v : "(null)");
	free(v);
	free(sql);
	return out;
}

static int64_t
env_add(struct env *e, const char *rcpt, const char *from, const char *msg)
{
	struct store_outbox_msg	m;
	int64_t			id;
	char			*cause = NULL;

	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_CONFIRM;
	m.mail_from = from;
	m.rcpt_to = rcpt;
	m.message = msg;
	m.len = strlen(msg);
	if (store_outbox_add(e->s, &m, &id, &cause) != 1) {
		print_error("store_outbox_add: %s\n", cause);
		fail();
	}
	return id;
}

/* --- a fake transport ---------------------------------------------------- */

struct fake_result {
	void			*cookie;
	enum transport_status	 status;
	int			 code;
	const char		*reply;
};

static struct fake {
	struct env		*e;
	struct store		*peek;		/* a second connection */
	struct fake_result	 pending[256];
	size_t			 npending;
	int			 slots;
	int			 max_sending;	/* seen at submit */
	int			 max_handed;	/* seen at submit */
	int			 uncommitted;	/* rows not yet sending */
	int			 submitted;
	const char		*pause_at;	/* an operator pauses then */
	char			 last_from[256];
	char			 last_data[4096];
} fake;

static struct transport *
fake_open(const struct conf *conf, char **cause)
{
	(void)cause;
	fake.slots = conf->smtp.concurrency;
	fake.npending = 0;
	fake.peek = store_open(fake.e->db, cause);
	assert_non_null(fake.peek);
	assert_int_equal(store_exec_sql(fake.peek, "CREATE TEMP TABLE handed"
	    " (rcpt TEXT PRIMARY KEY)", NULL), 0);
	return (struct transport *)&fake;
}

static int
fake_slots(struct transport *t)
{
	(void)t;
	return fake.slots;
}

static int
fake_submit(struct transport *t, const struct transport_msg *m,
    char **cause)
{
	struct fake_result	*r;
	char			*sql, *v = NULL;
	int			 n;

	(void)t;
	(void)cause;
	fake.submitted++;
	/* The claim is committed before a byte goes out. */
	sql = xprintf("SELECT state FROM outbox WHERE rcpt_to = '%s'",
	    m->rcpt_to);
	if (store_query_text(fake.peek, sql, &v, NULL) != 1 || v == NULL ||
	    strcmp(v, "sending") != 0)
		fake.uncommitted++;
	free(v);
	free(sql);
	v = NULL;
	store_query_text(fake.peek,
	    "SELECT count(*) FROM outbox WHERE state = 'sending'", &v, NULL);
	n = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	free(v);
	if (n > fake.max_sending)
		fake.max_sending = n;
	/*
	 * Handed over and still sending: in flight, or answered but not
	 * written back - what a crash now could send twice.  (A row handed
	 * over, deferred and claimed again would count early: no test here
	 * retries within one run.)
	 */
	v = NULL;
	sql = xprintf("INSERT OR IGNORE INTO temp.handed VALUES ('%s')",
	    m->rcpt_to);
	assert_int_equal(store_exec_sql(fake.peek, sql, NULL), 0);
	free(sql);
	store_query_text(fake.peek,
	    "SELECT count(*) FROM outbox WHERE state = 'sending'"
	    " AND rcpt_to IN (SELECT rcpt FROM temp.handed)", &v, NULL);
	n = v != NULL ? (int)strtol(v, NULL, 10) : 0;
	free(v);
	if (n > fake.max_handed)
		fake.max_handed = n;

	if (fake.pause_at != NULL && strcmp(m->rcpt_to, fake.pause_at) == 0)
		assert_int_equal(store_exec_sql(fake.peek, "UPDATE campaigns"
		    " SET status = 'paused'", NULL), 0);

	snprintf(fake.last_from, sizeof fake.last_from, "%s", m->mail_from);
	snprintf(fake.last_data, sizeof fake.last_data, "%.*s", (int)m->len,
	    m->data);
	assert_true(fake.npending < 256);
	r = &fake.pending[fake.npending++];
	r->cookie = m->cookie;
	if (strncmp(m->rcpt_to, "temp", 4) == 0) {
		r->status = TRANSPORT_TEMPFAIL;
		r->code = 451;
		r->reply = "451 4.3.0 try again later";
	} else if (strncmp(m->rcpt_to, "perm", 4) == 0) {
		r->status = TRANSPORT_PERMFAIL;
		r->code = 550;
		r->reply = "550 5.1.1 no such user";
	} else if (strncmp(m->rcpt_to, "conn", 4) == 0) {
		r->status = TRANSPORT_TEMPFAIL;
		r->code = 0;
		r->reply = "Connection reset by peer";
	} else {
		r->status = TRANSPORT_OK;
		r->code = 250;
		r->reply = "250 2.0.0 queued";
	}
	return 0;
}

/* One result per call, so that completions and claims interleave. */
static int
fake_run(struct transport *t, int timeout_ms,
    void (*done)(const struct transport_result *, void *),
    void *arg, char **cause)
{
	struct transport_result	res;
	struct fake_result	r;

	(void)t;
	(void)timeout_ms;
	(void)cause;
	if (fake.npending == 0)
		return 0;
	r = fake.pending[0];
	memmove(fake.pending, fake.pending + 1,
	    --fake.npending * sizeof *fake.pending);
	res.cookie = r.cookie;
	res.status = r.status;
	res.code = r.code;
	res.reply = r.reply;
	done(&res, arg);
	return 0;
}

static void
fake_wakeup(struct transport *t)
{
	(void)t;
}

static void
fake_abort(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	while (fake.npending > 0)
		fake_run(t, 0, done, arg, NULL);
}

static void
fake_close(struct transport *t)
{
	(void)t;
	store_close(fake.peek);
	fake.peek = NULL;
}

static const struct transport_ops fake_ops = {
	"fake", fake_open, fake_slots, fake_submit, fake_run, fake_wakeup,
	fake_abort, fake_close,
};

/* --- a fake renderer ------------------------------------------------------ */

static int	fake_prepare_fails;

static void *
fake_prepare(const struct conf *conf, struct store *s, int64_t id,
    char **cause)
{
	int64_t	*p;

	(void)conf;
	(void)s;
	if (fake_prepare_fails) {
		*cause = xstrdup("template newsletter.html: no such file");
		return NULL;
	}
	p = xmalloc(sizeof *p);
	*p = id;
	return p;
}

/* Bare LF on purpose: the engine must send CRLF. */
static int
fake_render(void *prepared, const struct store_outbox_row *row, int64_t now,
    struct buf *out, char **mail_from, char **cause)
{
	(void)now;
	if (strncmp(row->sub_email, "badrender", 9) == 0) {
		*cause = xstrdup("address cannot be written");
		return -1;
	}
	buf_printf(out, "To: %s\nSubject: campaign %lld\n\nHello %s\n",
	    row->sub_email, (long long)*(int64_t *)prepared, row->sub_name);
	*mail_from = xprintf("bounces+%lld@example.org",
	    (long long)row->subscriber_id);
	return 0;
}

static const struct deliver_render fake_render_ops = {
	fake_prepare, fake_render, free,
};

static const struct deliver_opts fake_opts = {
	.transport = &fake_ops,
	.render = &fake_render_ops,
};

static void
run_once(struct env *e, const struct deliver_opts *opts,
    struct deliver_stats *st)
{
	char	*cause = NULL;

	fake.e = e;
	if (deliver_run_once_opts(e->conf, opts, st, &cause) != 0) {
		print_error("deliver_run_once: %s\n", cause);
		fail();
	}
}

#define want_q(e, want, ...) \
	assert_str_eq_msg(#__VA_ARGS__, env_q((e), __VA_ARGS__), (want))

/* --- engine runs ------------------------------------------------------- */

static void
test_engine_maildir(void **state)
{
	static const char *const msgs[] = {
		"Subject: one\r\n\r\nCRLF already.\r\n",
		"Subject: two\n\nbare LF\n.leading dot\n",
		"Subject: three\r\n\r\nno final newline",
	};
	struct env		 e;
	struct deliver_stats	 st;
	struct dirent		*de;
	struct buf		 b;
	DIR			*dir;
	char			*url, *path, *p;
	int			 nfiles = 0;

	(void)state;
	url = xprintf("maildir:/tmp/test-deliver-md.%ld", (long)getpid());
	env_open(&e, url, NULL);
	env_add(&e, "a@example.net", "owner@example.org", msgs[0]);
	env_add(&e, "b@example.net", "", msgs[1]);
	env_add(&e, "c@example.net", "owner@example.org", msgs[2]);
	run_once(&e, NULL, &st);
	assert_int_equal(st.sent, 3);
	want_q(&e, "3", "SELECT count(*) FROM outbox WHERE state = 'sent'"
	    " AND sent_at IS NOT NULL AND last_code = 250"
	    " AND last_reply LIKE '250 written to %%'");

	path = xprintf("%s/new", url + 8);
	assert_non_null(dir = opendir(path));
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		nfiles++;
		p = xprintf("%s/%s", path, de->d_name);
		buf_init(&b, 0);
		assert_int_equal(buf_read_file(&b, p), 0);
		/* Envelope first, CRLF everywhere, no bare LF. */
		assert_true(strncmp(b.data, "Return-Path: <", 14) == 0);
		assert_non_null(strstr(b.data, "\r\nDelivered-To: "));
		for (size_t i = 0; i < b.len; i++) {
			if (b.data[i] == '\n' && (i == 0 ||
			    b.data[i - 1] != '\r')) {
				print_error("%s: bare LF at %zu\n", p, i);
				fail();
			}
		}
		if (strstr(b.data, "Subject: two") != NULL) {
			assert_non_null(strstr(b.data,
			    "Return-Path: <>\r\nDelivered-To: b@example.net"
			    "\r\nSubject: two\r\n\r\nbare LF\r\n.leading dot"
			    "\r\n"));
		}
		if (strstr(b.data, "Subject: one") != NULL)
			assert_non_null(strstr(b.data,
			    "Delivered-To: a@example.net\r\nSubject: one\r\n"
			    "\r\nCRLF already.\r\n"));
		buf_free(&b);
		free(p);
	}
	closedir(dir);
	assert_int_equal(nfiles, 3);
	free(path);
	path = xprintf("rm -rf '%s'", url + 8);
	assert_int_equal(system(path), 0);
	free(path);
	free(url);
	env_close(&e);
}

/*
 * An empty bucket left by an earlier run: the engine waits for a token
 * before it sends anything, then paces the rest.
 */
static void
test_engine_rate(void **state)
{
	static const char *const ov[] = { "smtp.rate_per_second=5", NULL };
	struct env		 e;
	struct deliver_stats	 st;
	struct store_outbox_rate r;
	struct timespec		 t0, t1;
	char			*url, *cmd, *cause = NULL;
	double			 took;

	(void)state;
	url = xprintf("maildir:/tmp/test-deliver-rate.%ld", (long)getpid());
	env_open(&e, url, ov);
	memset(&r, 0, sizeof r);
	r.updated_at = (int64_t)time(NULL);
	assert_int_equal(store_outbox_rate_set(e.s, "smtp.rate_per_second", &r,
	    &cause), 0);
	env_add(&e, "a@example.net", "o@example.org",
	    "Subject: a\r\n\r\na\r\n");
	env_add(&e, "b@example.net", "o@example.org",
	    "Subject: b\r\n\r\nb\r\n");
	env_add(&e, "c@example.net", "o@example.org",
	    "Subject: c\r\n\r\nc\r\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_once(&e, NULL, &st);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(st.sent, 3);
	/* Two intervals of 204 ms at least between the first and third. */
	took = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (took < 0.4 || took > 3.0) {
		print_error("3 messages at 5 a second: took %.3fs, want "
		    "0.4..3s\n", took);
		fail();
	}
	want_q(&e, "3", "SELECT count FROM rate_limits"
	    " WHERE key = 'smtp.rate_per_second'");
	cmd = xprintf("rm -rf '%s'", url + 8);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(url);
	env_close(&e);
}

static void
test_engine_replies(void **state)
{
	static const char *const ov[] = { "smtp.concurrency=2", NULL };
	struct env		 e;
	struct deliver_stats	 st;
	int64_t			 now = (int64_t)time(NULL), next;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", ov);
	memset(&fake, 0, sizeof fake);
	env_add(&e, "ok1@example.net", "o@example.org", MSG);
	env_add(&e, "temp1@example.net", "o@example.org", MSG);
	env_add(&e, "perm1@example.net", "o@example.org", MSG);
	env_add(&e, "conn1@example.net", "o@example.org", MSG);
	env_add(&e, "ok2@example.net", "o@example.org", MSG);
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(st.deferred, 2);
	assert_int_equal(st.failed, 1);
	assert_int_equal(fake.uncommitted, 0);
	assert_true(fake.max_handed <= 2);
	assert_true(fake.max_sending <= 4);

	want_q(&e, "sent", "SELECT state FROM outbox"
	    " WHERE rcpt_to = 'ok2@example.net'");
	want_q(&e, "failed|550|550 5.1.1 no such user|1",
	    "SELECT state || '|' || last_code || '|' || last_reply || '|' ||"
	    " attempts FROM outbox WHERE rcpt_to = 'perm1@example.net'");
	want_q(&e, "deferred|451|451 4.3.0 try again later|1",
	    "SELECT state || '|' || last_code || '|' || last_reply || '|' ||"
	    " attempts FROM outbox WHERE rcpt_to = 'temp1@example.net'");
	want_q(&e, "deferred|(none)|Connection reset by peer",
	    "SELECT state || '|' || coalesce(last_code, '(none)') || '|' ||"
	    " last_reply FROM outbox WHERE rcpt_to = 'conn1@example.net'");
	/* About a minute, with jitter. */
	next = strtoll(env_q(&e, "SELECT next_attempt_at FROM outbox"
	    " WHERE rcpt_to = 'temp1@example.net'"), NULL, 10);
	if (next < now + 54 || next > now + 66 + 5) {
		print_error("next attempt: got now%+" PRId64 "s, want now+54"
		    "..66s\n", next - now);
		fail();
	}

	/* Due again, still failing: deferred further, attempt 2. */
	env_sql(&e, "UPDATE outbox SET next_attempt_at = 0"
	    " WHERE state = 'deferred'");
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.deferred, 2);
	next = strtoll(env_q(&e, "SELECT next_attempt_at FROM outbox"
	    " WHERE rcpt_to = 'temp1@example.net'"), NULL, 10);
	if (next < now + 270 || next > now + 330 + 5) {
		print_error("second retry: got now%+" PRId64 "s, want now+270"
		    "..330s\n", next - now);
		fail();
	}

	/* Older than smtp.max_retry_age (3 days): given up. */
	env_sql(&e, "UPDATE outbox SET next_attempt_at = 0,"
	    " created_at = created_at - 4 * 86400 WHERE state = 'deferred'");
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.failed, 2);
	want_q(&e, "failed|451", "SELECT state || '|' || last_code FROM outbox"
	    " WHERE rcpt_to = 'temp1@example.net'");
	/* "96h", or "96h00m" once a second has passed since the row began. */
	want_q(&e, "1", "SELECT last_reply GLOB 'gave up after 3 attempts over"
	    " 96h (smtp.max_retry_age): 451 4.3.0 try again later'"
	    " OR last_reply GLOB 'gave up after 3 attempts over"
	    " 96h0[0-9]m (smtp.max_retry_age): 451 4.3.0 try again later'"
	    " FROM outbox WHERE rcpt_to = 'temp1@example.net'");

	/* Nothing due: a run does nothing. */
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent + st.deferred + st.failed + st.skipped, 0);
	env_close(&e);
}

static int64_t
env_subscriber(struct env *e, const char *email, const char *list,
    enum store_member_status status)
{
	int64_t	 id;
	char	*cause = NULL;

	if (store_subscriber_add(e->s, email, "Ann", NULL, &id, &cause) == -1 ||
	    store_member_add(e->s, id, list, STORE_MEMBER_CONFIRMED, NULL,
	    "staff", "test", &cause) == -1 ||
	    (status != STORE_MEMBER_CONFIRMED &&
	    store_member_set_status(e->s, id, list, status, NULL, NULL,
	    &cause) == -1)) {
		print_error("%s: %s\n", email, cause);
		fail();
	}
	return id;
}

static int64_t
env_campaign(struct env *e, const char *list, const char *status)
{
	struct store_campaign	 c;
	int64_t			 id;
	char			*cause = NULL, *sql;

	memset(&c, 0, sizeof c);
	c.list = (char *)list;
	c.subject = (char *)"News";
	c.body = (char *)"Hello";
	if (store_campaign_add(e->s, &c, (int64_t)time(NULL), &id,
	    &cause) != 0) {
		print_error("store_campaign_add: %s\n", cause);
		fail();
	}
	sql = xprintf("UPDATE campaigns SET status = '%s' WHERE id = %lld",
	    status, (long long)id);
	env_sql(e, sql);
	free(sql);
	return id;
}

static void
env_campaign_row(struct env *e, int64_t campaign, int64_t subscriber,
    const char *email)
{
	char	*sql;

	sql = xprintf("INSERT INTO outbox (kind, campaign_id, subscriber_id,"
	    " mail_from, rcpt_to, created_at, updated_at) VALUES"
	    " ('campaign', %lld, %lld, 'x@example.org', '%s',"
	    " strftime('%%s'), strftime('%%s'))", (long long)campaign,
	    (long long)subscriber, email);
	env_sql(e, sql);
	free(sql);
}

/*
 * A campaign being sent to list "news", with a queued row for each of the
 * n addresses (confirmed members); its id.
 */
static int64_t
env_sending(struct env *e, const char *const *emails, size_t n)
{
	int64_t	c, id;
	size_t	i;

	c = env_campaign(e, "news", "sending");
	for (i = 0; i < n; i++) {
		id = env_subscriber(e, emails[i], "news",
		    STORE_MEMBER_CONFIRMED);
		env_campaign_row(e, c, id, emails[i]);
	}
	return c;
}

static void
test_engine_campaign(void **state)
{
	static const struct {
		const char		*email;
		enum store_member_status status;
		const char		*want;
	} people[] = {
		{ "okann@example.net", STORE_MEMBER_CONFIRMED, "sent|" },
		{ "okbob@example.net", STORE_MEMBER_UNSUBSCRIBED,
		  "skipped|unsubscribed from list news" },
		{ "okcat@example.net", STORE_MEMBER_CONFIRMED,
		  "skipped|address suppressed" },
		{ "badrender@example.net", STORE_MEMBER_CONFIRMED,
		  "failed|cannot render: address cannot be written" },
		{ "okdan@example.net", STORE_MEMBER_BOUNCED,
		  "skipped|bounced from list news" },
	};
	struct env		 e;
	struct deliver_stats	 st;
	int64_t			 c, paused, cancelled, allskip, id[5];
	char			*cause = NULL, *want;
	size_t			 i;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", NULL);
	memset(&fake, 0, sizeof fake);
	c = env_campaign(&e, "news", "sending");
	paused = env_campaign(&e, "news", "paused");
	cancelled = env_campaign(&e, "news", "cancelled");
	for (i = 0; i < 5; i++) {
		id[i] = env_subscriber(&e, people[i].email, "news",
		    people[i].status);
		env_campaign_row(&e, c, id[i], people[i].email);
	}
	assert_int_equal(store_subscriber_suppress(e.s, "okcat@example.net",
	    "complaint", &cause), 1);
	env_campaign_row(&e, paused, id[0], people[0].email);
	env_campaign_row(&e, cancelled, id[0], people[0].email);

	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.skipped, 4);	/* 3 people + the cancelled */
	for (i = 0; i < 5; i++) {
		want = xprintf("SELECT state || '|' || coalesce(last_reply, '')"
		    " FROM outbox WHERE campaign_id = %lld AND rcpt_to = '%s'",
		    (long long)c, people[i].email);
		if (i == 0)
			assert_true(strncmp(env_q(&e, "%s", want), "sent|250",
			    8) == 0);
		else
			want_q(&e, people[i].want, "%s", want);
		free(want);
	}
	/* Rendered at send time: the VERP sender, CRLF, the merge. */
	want = xprintf("bounces+%lld@example.org", (long long)id[0]);
	assert_str_eq_msg("mail_from", fake.last_from, want);
	free(want);
	want = xprintf("To: okann@example.net\r\nSubject: campaign %lld\r\n"
	    "\r\nHello Ann\r\n", (long long)c);
	assert_str_eq_msg("data", fake.last_data, want);
	free(want);

	/* Every row done: the campaign is marked sent. */
	want_q(&e, "sent|1", "SELECT status || '|' || (finished_at > 0)"
	    " FROM campaigns WHERE id = %lld", (long long)c);
	want_q(&e, "queued|paused", "SELECT o.state || '|' || c.status"
	    " FROM outbox o JOIN campaigns c ON c.id = o.campaign_id"
	    " WHERE c.id = %lld", (long long)paused);
	want_q(&e, "skipped|campaign cancelled|cancelled", "SELECT o.state ||"
	    " '|' || o.last_reply || '|' || c.status FROM outbox o"
	    " JOIN campaigns c ON c.id = o.campaign_id WHERE c.id = %lld",
	    (long long)cancelled);

	/* A campaign whose last rows are all skipped is finished too. */
	allskip = env_campaign(&e, "news", "sending");
	env_campaign_row(&e, allskip, id[1], people[1].email);
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.skipped, 1);
	want_q(&e, "sent", "SELECT status FROM campaigns WHERE id = %lld",
	    (long long)allskip);

	/* A campaign that cannot be prepared pauses, its rows wait. */
	env_sql(&e, "UPDATE campaigns SET status = 'sending' WHERE status ="
	    " 'paused'");
	fake_prepare_fails = 1;
	run_once(&e, &fake_opts, &st);
	fake_prepare_fails = 0;
	assert_int_equal(st.sent, 0);
	want_q(&e, "paused|cannot prepare the newsletter: template "
	    "newsletter.html: no such file", "SELECT status || '|' ||"
	    " paused_reason FROM campaigns WHERE id = %lld",
	    (long long)paused);
	want_q(&e, "deferred|1", "SELECT state || '|' || (next_attempt_at <="
	    " strftime('%%s')) FROM outbox WHERE campaign_id = %lld",
	    (long long)paused);
	/* Resumed: sent. */
	env_sql(&e, "UPDATE campaigns SET status = 'sending' WHERE status ="
	    " 'paused'");
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent, 1);
	want_q(&e, "sent", "SELECT status FROM campaigns WHERE id = %lld",
	    (long long)paused);
	env_close(&e);
}

/*
 * Forgotten before their turn: skipped and counted, and the campaign's
 * counts still add up to everyone it was sent to.
 */
static void
test_engine_forgotten(void **state)
{
	static const char *const emails[] = {
		"ok1@example.net", "ok2@example.net", "ok3@example.net",
	};
	struct env		 e;
	struct deliver_stats	 st;
	char			*cause = NULL;
	int64_t			 c;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", NULL);
	memset(&fake, 0, sizeof fake);
	c = env_sending(&e, emails, 3);
	assert_int_equal(store_subscriber_forget(e.s, "ok2@example.net",
	    &cause), 1);
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent, 2);
	assert_int_equal(fake.submitted, 2);
	want_q(&e, "sent:2 skipped:1", "SELECT group_concat(state || ':' || n,"
	    " ' ') FROM (SELECT state, count(*) AS n FROM outbox WHERE"
	    " campaign_id = %lld GROUP BY state ORDER BY state)",
	    (long long)c);
	want_q(&e, "sent", "SELECT status FROM campaigns WHERE id = %lld",
	    (long long)c);
	want_q(&e, "0", "SELECT count(*) FROM outbox WHERE rcpt_to ="
	    " 'ok2@example.net'");
	env_close(&e);
}

/*
 * An operator pauses the campaign while a row is claimed ahead: that row
 * goes back to the queue, uncounted, and is not sent.
 */
static void
test_engine_pause_ahead(void **state)
{
	static const char *const ov[] = { "smtp.concurrency=1", NULL };
	static const char *const emails[] = {
		"ok1@example.net", "ok2@example.net", "ok3@example.net",
		"ok4@example.net", "ok5@example.net",
	};
	struct env		 e;
	struct deliver_stats	 st;
	int64_t			 c;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", ov);
	memset(&fake, 0, sizeof fake);
	c = env_sending(&e, emails, 5);
	fake.pause_at = "ok1@example.net";
	run_once(&e, &fake_opts, &st);
	assert_int_equal(fake.submitted, 1);
	assert_int_equal(st.sent, 1);
	want_q(&e, "paused", "SELECT status FROM campaigns WHERE id = %lld",
	    (long long)c);
	want_q(&e, "queued:0 queued:0 queued:0 queued:0 sent:1",
	    "SELECT group_concat(state || ':' || attempts, ' ') FROM (SELECT"
	    " state, attempts FROM outbox WHERE campaign_id = %lld ORDER BY"
	    " state, id)", (long long)c);
	env_close(&e);
}

/* A digest to an address suppressed after it was queued: skipped. */
static void
test_engine_digest_suppressed(void **state)
{
	struct store_outbox_msg	 m;
	struct env		 e;
	struct deliver_stats	 st;
	char			*cause = NULL;
	const char		*to[] = { "ok1@example.net", "ok2@example.net" };
	size_t			 i;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", NULL);
	memset(&fake, 0, sizeof fake);
	for (i = 0; i < 2; i++) {
		memset(&m, 0, sizeof m);
		m.kind = STORE_OUTBOX_DIGEST;
		m.mail_from = "bounces@example.org";
		m.rcpt_to = to[i];
		m.message = MSG;
		m.len = strlen(MSG);
		if (store_outbox_add(e.s, &m, NULL, &cause) != 1)
			fail_msg("store_outbox_add: %s", cause);
	}
	if (store_subscriber_suppress(e.s, "ok2@example.net", "complaint",
	    &cause) == -1)
		fail_msg("%s", cause);
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.skipped, 1);
	assert_int_equal(fake.submitted, 1);
	want_q(&e, "skipped|address suppressed", "SELECT state || '|' ||"
	    " last_reply FROM outbox WHERE rcpt_to = 'ok2@example.net'");
	env_close(&e);
}

static void
test_engine_pause(void **state)
{
	static const char *const ov[] = {
		"smtp.concurrency=1", "smtp.failure_pause_count=2",
		"smtp.failure_pause_percent=50", NULL,
	};
	static const char *const emails[] = {
		"perm1@example.net", "perm2@example.net", "perm3@example.net",
		"ok1@example.net", "ok2@example.net",
	};
	struct env		 e;
	struct deliver_stats	 st;
	int64_t			 c;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", ov);
	memset(&fake, 0, sizeof fake);
	c = env_sending(&e, emails, 5);
	run_once(&e, &fake_opts, &st);
	/* One at a time: two failures of two tried pause it at once. */
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.sent, 0);
	want_q(&e, "paused|2 of 2 deliveries failed (smtp.failure_pause_count"
	    " 2, failure_pause_percent 50)", "SELECT status || '|' ||"
	    " paused_reason FROM campaigns WHERE id = %lld", (long long)c);
	want_q(&e, "3", "SELECT count(*) FROM outbox WHERE state = 'queued'");
	want_q(&e, "1", "SELECT count(*) FROM events WHERE kind ="
	    " 'campaign-paused'");
	env_close(&e);
}

static void
test_engine_bound(void **state)
{
	static const char *const ov[] = { "smtp.concurrency=3", NULL };
	struct env		 e;
	struct deliver_stats	 st;
	char			 rcpt[64];
	int			 i;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", ov);
	memset(&fake, 0, sizeof fake);
	for (i = 0; i < 60; i++) {
		snprintf(rcpt, sizeof rcpt, "%s%d@example.net",
		    i % 7 == 3 ? "temp" : "ok", i);
		env_add(&e, rcpt, "o@example.org", MSG);
	}
	/* Left sending by a process that died: queued again, then sent. */
	env_sql(&e, "UPDATE outbox SET state = 'sending', attempts = 1"
	    " WHERE id IN (1, 2)");
	run_once(&e, &fake_opts, &st);
	assert_int_equal(st.recovered, 2);
	assert_int_equal(fake.submitted, 60);
	assert_int_equal(fake.uncommitted, 0);
	if (fake.max_handed > 3 || fake.max_handed < 2) {
		print_error("rows handed over at once: got %d, want 2..3\n",
		    fake.max_handed);
		fail();
	}
	/* No rate limit: up to 3 more claimed ahead, never handed over. */
	if (fake.max_sending > 6 || fake.max_sending <= fake.max_handed) {
		print_error("rows sending at once: got %d, want %d..6\n",
		    fake.max_sending, fake.max_handed + 1);
		fail();
	}
	assert_int_equal(st.sent + st.deferred, 60);
	/* Its interrupted attempt does not count. */
	want_q(&e, "sent|1|(none)", "SELECT state || '|' || attempts || '|'"
	    " || coalesce(claimed_at, '(none)') FROM outbox WHERE id = 1");
	want_q(&e, "0", "SELECT count(*) FROM outbox WHERE state = 'sending'");
	env_close(&e);
}

/* With a rate limit nothing is claimed ahead: a token is a hand-over. */
static void
test_engine_bound_limited(void **state)
{
	static const char *const ov[] = { "smtp.concurrency=3",
	    "smtp.rate_per_second=100000", NULL };
	struct env		 e;
	struct deliver_stats	 st;
	char			 rcpt[64];
	int			 i;

	(void)state;
	env_open(&e, "smtp://127.0.0.1:1", ov);
	memset(&fake, 0, sizeof fake);
	for (i = 0; i < 60; i++) {
		snprintf(rcpt, sizeof rcpt, "ok%d@example.net", i);
		env_add(&e, rcpt, "o@example.org", MSG);
	}
	run_once(&e, &fake_opts, &st);
	assert_int_equal(fake.submitted, 60);
	assert_int_equal(fake.uncommitted, 0);
	if (fake.max_sending > 3 || fake.max_sending < 2) {
		print_error("rows sending at once: got %d, want 2..3\n",
		    fake.max_sending);
		fail();
	}
	assert_int_equal(st.sent, 60);
	env_close(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_backoff_jitter),
		cmocka_unit_test(test_retry),
		cmocka_unit_test(test_should_pause),
		cmocka_unit_test(test_smtp_reply),
		cmocka_unit_test(test_smtp_reply_feed),
		cmocka_unit_test(test_smtp_ehlo),
		cmocka_unit_test(test_smtp_dot_stuff),
		cmocka_unit_test(test_smtp_status),
		cmocka_unit_test(test_engine_maildir),
		cmocka_unit_test(test_engine_rate),
		cmocka_unit_test(test_engine_replies),
		cmocka_unit_test(test_engine_campaign),
		cmocka_unit_test(test_engine_pause),
		cmocka_unit_test(test_engine_bound),
		cmocka_unit_test(test_engine_forgotten),
		cmocka_unit_test(test_engine_digest_suppressed),
		cmocka_unit_test(test_engine_pause_ahead),
		cmocka_unit_test(test_engine_bound_limited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
