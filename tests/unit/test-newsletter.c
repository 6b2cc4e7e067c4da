/*
 * test-newsletter.c - campaign messages, byte by byte (newsletter.c), and
 * the campaigns table (store-campaign.c).
 *
 * Every message built here is written to a temporary .eml and checked by
 * tests/tools/check-email.py (Python's email package, default policy).
 * The golden files in tests/golden/newsletter/ are NAME.md (the campaign
 * body) and the text and HTML parts expected for the sample subscriber at
 * a fixed time, and NAME.eml: whole messages as sent to a few subscribers
 * (their random Message-ID and boundary masked); POSTROOM_UPDATE_GOLDEN=1
 * rewrites them (review the diff by eye before committing).
 */
#include "testutil.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "fields.h"
#include "newsletter.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

#define PYTHON		"/usr/bin/python3"
#define NOW		((time_t)1795341600)	/* 2026-11-22 10:00:00 UTC */

static struct conf	*conf;
static unsigned char	 key[TOKEN_KEY_LEN];
static char		 tmpdir[] = "/tmp/test-newsletter.XXXXXX";
static int		 have_python;

/* --- helpers ---------------------------------------------------------------- */

static int
group_setup(void **state)
{
	char	*path, *ov[1];
	size_t	 i;

	(void)state;
	setenv("TZ", "Europe/London", 1);
	tzset();
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)(i * 7 + 1);
	path = xprintf("%s/tests/data/newsletter.conf", test_top());
	ov[0] = xprintf("general.templates=%s/templates", test_top());
	conf = test_conf_load(path, ov, 1);
	free(path);
	free(ov[0]);
	if (conf == NULL)
		return -1;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	have_python = access(PYTHON, X_OK) == 0;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	conf_free(conf);
	test_remove_dir(tmpdir);
	return 0;
}

static void
campaign_init(struct store_campaign *c, const char *list,
    const char *subject, const char *body)
{
	memset(c, 0, sizeof *c);
	c->id = 42;
	c->list = xstrdup(list);
	c->subject = xstrdup(subject);
	c->body = xstrdup(body);
	c->template = xstrdup("newsletter");
}

/* Subscriber id's salt, as the store would hold it. */
static void
test_salt(int64_t id, unsigned char salt[TOKEN_SALT_LEN])
{
	size_t	i;

	for (i = 0; i < TOKEN_SALT_LEN; i++)
		salt[i] = (unsigned char)(id * 31 + (int64_t)i);
}

static int
test_salt_find(void *arg, int64_t id, unsigned char salt[TOKEN_SALT_LEN],
    char **cause)
{
	(void)arg;
	(void)cause;
	test_salt(id, salt);
	return 1;
}

static void
subscriber_init(struct store_subscriber *s, int64_t id, const char *email,
    const char *name, const char *attrs)
{
	memset(s, 0, sizeof *s);
	s->id = id;
	test_salt(id, s->token_salt);
	s->email = xstrdup(email);
	s->name = xstrdup(name);
	s->attrs = xstrdup(attrs);
}

static struct newsletter *
prepare_ok(const struct store_campaign *c)
{
	struct newsletter	*nl;
	char			*cause = NULL;

	nl = newsletter_prepare(conf, c, key, &cause);
	if (nl == NULL) {
		print_error("newsletter_prepare: got error \"%s\", want "
		    "success\n", cause);
		free(cause);
		fail();
	}
	return nl;
}

/* Render one message; the caller frees *mail_from and the returned text. */
static char *
render_ok(struct newsletter *nl, const struct store_subscriber *s, int test,
    char **mail_from)
{
	struct buf	 out;
	char		*cause = NULL;
	int		 rc;

	buf_init(&out, NEWSLETTER_MAX_MESSAGE);
	if (test)
		rc = newsletter_render_test(nl, s, NOW, &out, mail_from, &cause);
	else
		rc = newsletter_render(nl, s, NOW, &out, mail_from, &cause);
	if (rc != 0) {
		print_error("newsletter_render: got error \"%s\", want "
		    "success\n", cause);
		free(cause);
		fail();
	}
	return buf_detach(&out, NULL);
}

/* The header section's length (up to and including the blank line). */
static size_t
header_len(const char *msg)
{
	const char	*p = strstr(msg, "\r\n\r\n");

	return p != NULL ? (size_t)(p - msg) + 4 : strlen(msg);
}

/*
 * The first header called name (unfolded: CRLF before whitespace gone),
 * or NULL; *count gets how many there are.
 */
static char *
header_get(const char *msg, const char *name, int *count)
{
	size_t		 hlen = header_len(msg), nlen = strlen(name);
	const char	*p = msg, *end = msg + hlen, *e;
	struct buf	 b;
	char		*found = NULL;
	int		 n = 0;

	while (p < end) {
		e = strstr(p, "\r\n");
		if (e == NULL || e >= end)
			break;
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			n++;
			if (found == NULL) {
				buf_init(&b, BUF_NOMAX);
				p += nlen + 1;
				while (*p == ' ')
					p++;
				for (;;) {
					buf_add(&b, p, (size_t)(e - p));
					p = e + 2;
					if (*p != ' ' && *p != '\t')
						break;
					e = strstr(p, "\r\n");
				}
				if (b.data == NULL)
					buf_add(&b, "", 0);
				found = buf_detach(&b, NULL);
				continue;
			}
		}
		p = e + 2;
	}
	if (count != NULL)
		*count = n;
	return found;
}

/* CRLF only and no line over 998 octets. */
static void
check_wire(const char *what, const char *msg)
{
	const char	*p, *line = msg;
	size_t		 n = 1;

	for (p = msg; *p != '\0'; p++) {
		if (*p == '\r' && p[1] != '\n') {
			print_error("%s: line %zu: got a bare CR, want CRLF\n",
			    what, n);
			fail();
		}
		if (*p == '\n') {
			if (p == msg || p[-1] != '\r') {
				print_error("%s: line %zu: got a bare LF, want "
				    "CRLF\n", what, n);
				fail();
			}
			if ((size_t)(p - 1 - line) > 998) {
				print_error("%s: line %zu: got %zu octets, "
				    "want at most 998\n", what, n,
				    (size_t)(p - 1 - line));
				fail();
			}
			line = p + 1;
			n++;
		}
	}
	if (p > msg && p[-1] != '\n') {
		print_error("%s: got no CRLF at the end\n", what);
		fail();
	}
}

static char *
write_eml(const char *name, const char *msg)
{
	char	*path;
	FILE	*f;

	path = xprintf("%s/%s.eml", tmpdir, name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(msg, 1, strlen(msg), f) != strlen(msg) || fclose(f) != 0) {
		print_error("%s: %s\n", path, strerror(errno));
		fail();
	}
	return path;
}

/*
 * Run check-email.py over path (with --expect-* when not NULL): 0 when it
 * found nothing wrong.  Its complaints go to stdout, where TAP shows them
 * as comments... so they are prefixed by the python script's "FILE:".
 */
static int
run_check(const char *path, const char *subject, const char *to_name,
    const char *text)
{
	char	*argv[12], *script;
	int	 argc = 0, status;
	pid_t	 pid;

	script = xprintf("%s/tests/tools/check-email.py", test_top());
	argv[argc++] = (char *)PYTHON;
	argv[argc++] = script;
	if (subject != NULL) {
		argv[argc++] = (char *)"--expect-subject";
		argv[argc++] = (char *)subject;
	}
	if (to_name != NULL) {
		argv[argc++] = (char *)"--expect-to-name";
		argv[argc++] = (char *)to_name;
	}
	if (text != NULL) {
		argv[argc++] = (char *)"--expect-text";
		argv[argc++] = (char *)text;
	}
	argv[argc++] = (char *)"--";
	argv[argc++] = (char *)path;
	argv[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		/* Keep TAP clean: the script's complaints go to stderr. */
		dup2(2, 1);
		execv(PYTHON, argv);
		_exit(127);
	}
	free(script);
	if (waitpid(pid, &status, 0) == -1)
		fail_msg("waitpid: %s", strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void
check_email(const char *what, const char *path, const char *subject,
    const char *to_name, const char *text)
{
	int	rc;

	if (!have_python)
		fail_msg("%s: %s is needed to check messages", what, PYTHON);
	if ((rc = run_check(path, subject, to_name, text)) != 0) {
		print_error("%s: check-email.py %s: got exit %d, want 0 (see "
		    "its complaints above)\n", what, path, rc);
		fail();
	}
}

/* The token after prefix in s, up to one of the stop characters. */
static char *
token_after(const char *s, const char *prefix, const char *stop)
{
	const char	*p;

	if (s == NULL || (p = strstr(s, prefix)) == NULL)
		return NULL;
	p += strlen(prefix);
	return xstrndup(p, strcspn(p, stop));
}

static void
check_token(const char *what, const char *tok, enum token_purpose purpose,
    int64_t subscriber, const char *list, int64_t campaign, int expires)
{
	struct token_salts	 salts = { test_salt_find, NULL };
	struct token		 t;
	char			*cause = NULL;

	if (tok == NULL) {
		print_error("%s: got no token, want one\n", what);
		fail();
	}
	if (token_check(key, &salts, tok, NOW, &t, &cause) != 0) {
		print_error("%s: token \"%s\": got \"%s\", want a valid "
		    "token\n", what, tok, cause);
		free(cause);
		fail();
	}
	if (t.purpose != purpose || t.subscriber != subscriber ||
	    strcmp(t.list, list) != 0 || t.campaign != campaign) {
		print_error("%s: got purpose %d subscriber %lld list \"%s\" "
		    "campaign %lld, want %d %lld \"%s\" %lld\n", what,
		    (int)t.purpose, (long long)t.subscriber, t.list,
		    (long long)t.campaign, (int)purpose,
		    (long long)subscriber, list, (long long)campaign);
		fail();
	}
	if ((t.expires != 0) != (expires != 0)) {
		print_error("%s: got expiry %lld, want %s\n", what,
		    (long long)t.expires, expires ? "one" : "never");
		fail();
	}
	if (t.issued != NOW) {
		print_error("%s: got issued %lld, want %lld\n", what,
		    (long long)t.issued, (long long)NOW);
		fail();
	}
	if (expires && t.expires != NOW + expires) {
		print_error("%s: got expiry %lld, want %lld\n", what,
		    (long long)t.expires, (long long)(NOW + expires));
		fail();
	}
}

/* --- headers and encodings, for many subjects and names --------------------- */

static const struct {
	const char	*what;
	const char	*list;
	const char	*subject;
	const char	*name;
	const char	*want_subject;	/* decoded */
	const char	*want_name;	/* decoded To display name */
} header_cases[] = {
	{ "ascii", "news", "November bulletin", "Ann Smith",
	  "November bulletin", "Ann Smith" },
	{ "welsh", "cymraeg", "Croeso i’r cylchlythyr – Ŵyl",
	  "Siân Ŵyn ap Dafydd",
	  "Croeso i’r cylchlythyr – Ŵyl", "Siân Ŵyn ap Dafydd" },
	{ "polish", "news", "Zażółć gęślą jaźń", "Zażółć Gęślą Jaźń",
	  "Zażółć gęślą jaźń", "Zażółć Gęślą Jaźń" },
	{ "emoji", "news", "Huddle dates 📅 and news 🎉", "Alex 🦊 Doe",
	  "Huddle dates 📅 and news 🎉", "Alex 🦊 Doe" },
	{ "long welsh", "cymraeg",
	  "Ŵyl y Rhwydwaith: gweithdai, sgyrsiau a chyfarfodydd ar draws "
	  "Canolbarth Lloegr – dewch i’n gweld ni yng Nghaerwrangon, "
	  "Derby a Stoke-on-Trent ✨",
	  "Siôn", "Ŵyl y Rhwydwaith: gweithdai, sgyrsiau a chyfarfodydd ar "
	  "draws Canolbarth Lloegr – dewch i’n gweld ni yng Nghaerwrangon, "
	  "Derby a Stoke-on-Trent ✨", "Siôn" },
	{ "hostile", "news", "Hello\r\nBcc: x@evil.example",
	  "Eve\r\nBcc: x@evil.example",
	  "Hello Bcc: x@evil.example", "Eve Bcc: x@evil.example" },
	{ "hostile lf", "quoted", "Hi\nBcc: x@evil.example\n\nbody",
	  "Eve\nBcc: x@evil.example",
	  "Hi Bcc: x@evil.example  body", "Eve Bcc: x@evil.example" },
	{ "merged subject", "news", "News for {{subscriber.name}}",
	  "Ann Smith", "News for Ann Smith", "Ann Smith" },
	{ "hostile merged", "news", "For {{subscriber.name}}",
	  "Eve\r\nBcc: x@evil.example\r\n\r\n<html>",
	  "For Eve Bcc: x@evil.example  <html>",
	  "Eve Bcc: x@evil.example  <html>" },
	{ "specials", "quoted", "Smith, \"Jo\" (DSU) <x>",
	  "Smith, \"Jo\" (DSU)", "Smith, \"Jo\" (DSU) <x>",
	  "Smith, \"Jo\" (DSU)" },
	{ "no name", "news", "Plain", "", "Plain", "" },
};

static void
test_headers(void **state)
{
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	char			*msg, *from, *h, *path, *what, *want;
	const char		*hdrs[] = { "From", "To", "Subject", "Date",
				    "Message-ID", "MIME-Version", "List-Id",
				    "List-Unsubscribe", "List-Unsubscribe-Post",
				    "List-Help", "Content-Type", NULL };
	const char		*banned[] = { "Precedence", "Auto-Submitted",
				    "Bcc", "Cc", NULL };
	size_t			 i, j;
	int			 n;

	(void)state;
	for (i = 0; i < sizeof header_cases / sizeof header_cases[0]; i++) {
		what = xprintf("case \"%s\"", header_cases[i].what);
		campaign_init(&c, header_cases[i].list,
		    header_cases[i].subject, "Hello {{subscriber.name}}.\n");
		subscriber_init(&s, 17, "reader@example.net",
		    header_cases[i].name, "{}");
		nl = prepare_ok(&c);
		msg = render_ok(nl, &s, 0, &from);

		check_wire(what, msg);
		for (j = 0; hdrs[j] != NULL; j++) {
			h = header_get(msg, hdrs[j], &n);
			if (n != 1) {
				print_error("%s: %s: got %d of them, want 1\n",
				    what, hdrs[j], n);
				fail();
			}
			free(h);
		}
		for (j = 0; banned[j] != NULL; j++) {
			h = header_get(msg, banned[j], &n);
			if (n != 0) {
				print_error("%s: got a %s header \"%s\", want "
				    "none\n", what, banned[j], h);
				fail();
			}
		}

		h = header_get(msg, "List-Unsubscribe-Post", NULL);
		assert_str_eq_msg(what, h, "List-Unsubscribe=One-Click");
		free(h);
		h = header_get(msg, "List-Help", NULL);
		assert_str_eq_msg(what, h,
		    "<mailto:enquiries@example.org?subject=help>");
		free(h);
		h = header_get(msg, "List-Id", NULL);
		want = xprintf("<%s.mail.example.org>", header_cases[i].list);
		if (h == NULL || strlen(h) < strlen(want) ||
		    strcmp(h + strlen(h) - strlen(want), want) != 0) {
			print_error("%s: List-Id: got \"%s\", want it to end "
			    "\"%s\"\n", what, h, want);
			fail();
		}
		free(want);
		free(h);
		h = header_get(msg, "Message-ID", NULL);
		if (h == NULL || strstr(h, "@mail.example.org>") == NULL) {
			print_error("%s: Message-ID: got \"%s\", want one on "
			    "mail.example.org\n", what, h);
			fail();
		}
		free(h);
		h = header_get(msg, "Content-Type", NULL);
		if (h == NULL || strncmp(h, "multipart/alternative;", 22) != 0) {
			print_error("%s: Content-Type: got \"%s\", want "
			    "multipart/alternative\n", what, h);
			fail();
		}
		free(h);
		{
			const char *tp = strstr(msg, "Content-Type: text/plain");
			const char *th = strstr(msg, "Content-Type: text/html");

			if (tp == NULL || th == NULL || tp > th) {
				print_error("%s: got text/plain at %p and "
				    "text/html at %p, want plain first\n",
				    what, (void *)tp, (void *)th);
				fail();
			}
		}
		if (strncmp(from, "bounces+", 8) != 0 ||
		    strstr(from, "@mail.example.org") == NULL ||
		    strchr(from, '@') - from > 64) {
			print_error("%s: envelope sender: got \"%s\", want "
			    "bounces+TOKEN@mail.example.org\n", what, from);
			fail();
		}

		h = xstrdup(header_cases[i].what);
		for (j = 0; h[j] != '\0'; j++) {
			if (h[j] == ' ')
				h[j] = '-';
		}
		path = write_eml(h, msg);
		free(h);
		check_email(what, path, header_cases[i].want_subject,
		    header_cases[i].want_name[0] != '\0' ?
		    header_cases[i].want_name : NULL, NULL);

		free(path);
		free(from);
		free(msg);
		newsletter_free(nl);
		store_campaign_clear(&c);
		store_subscriber_clear(&s);
		free(what);
	}
}

/* Nothing from data ever starts a header line: no line "Bcc:" anywhere. */
static void
test_hostile_no_header(void **state)
{
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	char			*msg, *from, *p;

	(void)state;
	campaign_init(&c, "news", "{{subscriber.org}} news",
	    "Hi {{subscriber.name}} of {{subscriber.org}}.\n");
	subscriber_init(&s, 5, "eve@example.net",
	    "Eve\r\nBcc: x@evil.example",
	    "{\"org\": \"Acme\\r\\nBcc: y@evil.example\\r\\n\\r\\nfake body\"}");
	nl = prepare_ok(&c);
	msg = render_ok(nl, &s, 0, &from);
	for (p = msg; p != NULL && p < msg + header_len(msg);
	    p = strstr(p, "\r\n")) {
		if (*p == '\r')
			p += 2;
		if (strncasecmp(p, "Bcc:", 4) == 0) {
			print_error("got a header line \"%.40s\", want none\n",
			    p);
			fail();
		}
	}
	p = header_get(msg, "Subject", NULL);
	assert_str_eq_msg("subject", p,
	    "Acme Bcc: y@evil.example  fake body news");
	free(p);
	check_wire("hostile", msg);
	p = write_eml("hostile-attrs", msg);
	check_email("hostile attrs", p, "Acme Bcc: y@evil.example  fake body "
	    "news", "Eve Bcc: x@evil.example", NULL);
	free(p);
	free(msg);
	free(from);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/* --- tokens ------------------------------------------------------------------- */

static void
test_tokens(void **state)
{
	struct store_campaign		 c;
	struct store_subscriber		 s;
	struct newsletter		*nl;
	struct newsletter_parts		 parts;
	char				*msg, *from, *h, *tok, *cause = NULL;

	(void)state;
	campaign_init(&c, "news", "Tokens", "Body.\n");
	subscriber_init(&s, 12345, "ann.smith@example.net", "Ann", "{}");
	nl = prepare_ok(&c);
	msg = render_ok(nl, &s, 0, &from);

	h = header_get(msg, "List-Unsubscribe", NULL);
	if (h == NULL || strncmp(h, "<https://news.example.org/unsubscribe/",
	    38) != 0 || strstr(h, ">, <mailto:unsubscribe+") == NULL ||
	    strstr(h, "@mail.example.org?subject=unsubscribe>") == NULL) {
		print_error("List-Unsubscribe: got \"%s\", want <https://"
		    "news.example.org/unsubscribe/TOKEN>, <mailto:unsubscribe+"
		    "TOKEN@mail.example.org?subject=unsubscribe>\n", h);
		fail();
	}
	/* The address itself is never in a link. */
	if (strstr(h, "ann.smith") != NULL || strstr(from, "ann.smith") != NULL)
		fail_msg("got the address in a link: %s / %s", h, from);

	tok = token_after(h, "/unsubscribe/", ">");
	check_token("unsubscribe URL", tok, TOKEN_UNSUBSCRIBE, 12345, "news",
	    42, NEWSLETTER_UNSUB_EXPIRY);
	free(tok);
	tok = token_after(h, "mailto:unsubscribe+", "@");
	check_token("unsubscribe mailto", tok, TOKEN_UNSUBSCRIBE, 12345, "",
	    42, NEWSLETTER_UNSUB_EXPIRY);
	free(tok);
	tok = token_after(from, "bounces+", "@");
	check_token("VERP", tok, TOKEN_BOUNCE, 12345, "", 42,
	    NEWSLETTER_VERP_EXPIRY);
	free(tok);

	/* The parts carry the same links. */
	if (newsletter_render_parts(nl, &s, NOW, &parts, &cause) != 0)
		fail_msg("newsletter_render_parts: %s", cause);
	tok = token_after(parts.text, "/preferences/", "\n");
	check_token("preferences (text)", tok, TOKEN_PREFERENCES, 12345,
	    "news", 42, NEWSLETTER_PREFS_EXPIRY);
	free(tok);
	tok = token_after(parts.html, "/unsubscribe/", "\"");
	check_token("unsubscribe (html)", tok, TOKEN_UNSUBSCRIBE, 12345,
	    "news", 42, NEWSLETTER_UNSUB_EXPIRY);
	free(tok);
	if (strstr(parts.html, "https://news.example.org/archive/42") == NULL)
		fail_msg("got no archive URL in the HTML part");
	newsletter_parts_clear(&parts);

	free(h);
	free(msg);
	free(from);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/* msg with its quoted-printable soft line breaks taken out, in place. */
static void
unfold_qp(char *msg)
{
	char	*p;

	while ((p = strstr(msg, "=\r\n")) != NULL)
		memmove(p, p + 3, strlen(p + 3) + 1);
}

/*
 * A test copy's links: one token of purpose test copy that names the
 * campaign and nobody, in List-Unsubscribe and in the body, leading to the
 * test pages and never to /unsubscribe/ or /preferences/; the VERP return
 * path as usual.  The same renderer then makes a newsletter's links
 * again.
 */
static void
test_test_links(void **state)
{
	static const struct {
		const char	*prefix;
		const char	*stop;
	} where[] = {
		{ "List-Unsubscribe: <https://news.example.org/"
		  "test-unsubscribe/", ">" },
		{ "mailto:unsubscribe+", "@" },
		{ "Unsubscribe: https://news.example.org/test-unsubscribe/",
		  "\r" },
		{ "https://news.example.org/test-preferences/", "\r" },
		{ "Read this online: https://news.example.org/test-copy/",
		  "\r" },
		{ "href=\"https://news.example.org/test-copy/", "\"" },
	};
	struct store_campaign		 c;
	struct store_subscriber		 s;
	struct newsletter		*nl;
	char				*msg, *from, *tok, *first = NULL;
	size_t				 i;

	(void)state;
	campaign_init(&c, "news", "Tokens", "Body.\n");
	subscriber_init(&s, 12345, "ann.smith@example.net", "Ann", "{}");
	nl = prepare_ok(&c);
	msg = render_ok(nl, &s, 1, &from);
	unfold_qp(msg);
	for (i = 0; i < sizeof where / sizeof where[0]; i++) {
		tok = token_after(msg, where[i].prefix, where[i].stop);
		check_token(where[i].prefix, tok, TOKEN_TEST_COPY, 0, "", 42,
		    NEWSLETTER_TEST_EXPIRY);
		if (first == NULL)
			first = tok;
		else {
			assert_str_eq_msg(where[i].prefix, tok, first);
			free(tok);
		}
	}
	free(first);
	if (strstr(msg, "/unsubscribe/") != NULL ||
	    strstr(msg, "/preferences/") != NULL ||
	    strstr(msg, "/archive/") != NULL)
		fail_msg("got a newsletter's link in a test copy:\n%s", msg);
	tok = token_after(from, "bounces+", "@");
	check_token("VERP", tok, TOKEN_BOUNCE, 12345, "", 42,
	    NEWSLETTER_VERP_EXPIRY);
	free(tok);
	free(msg);
	free(from);

	/* The next newsletter from the same renderer is a newsletter. */
	msg = render_ok(nl, &s, 0, &from);
	unfold_qp(msg);
	if (strstr(msg, "/test-") != NULL ||
	    strstr(msg, "https://news.example.org/archive/42") == NULL)
		fail_msg("got a test copy's links in a newsletter:\n%s", msg);
	free(msg);
	free(from);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/* --- personalisation ----------------------------------------------------------- */

static void
test_personalisation(void **state)
{
	struct store_campaign		 c;
	struct store_subscriber		 s;
	struct newsletter		*nl;
	struct newsletter_parts		 p;
	char				*cause = NULL, *msg, *from, *path;
	size_t				 i;
	static const struct {
		const char	*where;
		const char	*want;
	} wants[] = {
		{ "text", "Dear Bethan Ŵyn," },
		{ "text", "ICS: Black Country" },
		{ "text", "Org: Dudley & Walsall <DSU>" },
		{ "text", "Raw: Dudley & Walsall <DSU>" },
		{ "text", "Role: analyst" },
		{ "text", "Email: bethan@example.net" },
		{ "text", "List: Midlands Decision Support Network news" },
		{ "text", "22 November 2026" },
		{ "html", "Dear Bethan Ŵyn," },
		{ "html", "Org: Dudley &amp; Walsall &lt;DSU&gt;" },
		{ "html", "Raw: Dudley &amp; Walsall &lt;DSU&gt;" },
		{ "html", "Amp: Dudley &amp; Walsall &lt;DSU&gt;" },
		{ "html", "for Bethan Ŵyn" },
		{ "html", "<strong>Black Country</strong>" },
		{ "html", "href=\"https://example.org/ics?name=Black Country\"" },
	};

	(void)state;
	campaign_init(&c, "news", "For {{subscriber.name}}",
	    "Dear {{subscriber.name}},\n\n"
	    "ICS: {{subscriber.attrs.ics}}\n\n"
	    "Org: {{subscriber.org}}\n\n"
	    "Raw: {{{subscriber.org}}}\n\n"
	    "Amp: {{& subscriber.org}}\n\n"
	    "Role: {{subscriber.role}}\n\n"
	    "Email: {{subscriber.email}}\n\n"
	    "List: {{list.name}}\n\n"
	    "**{{subscriber.ics}}** "
	    "[ICS page](https://example.org/ics?name={{subscriber.ics}})\n\n"
	    "{{#subscriber.nothing}}never shown{{/subscriber.nothing}}\n");
	subscriber_init(&s, 7, "bethan@example.net", "Bethan Ŵyn",
	    "{\"ics\": \"Black Country\", \"org\": \"Dudley & Walsall <DSU>\","
	    " \"role\": \"analyst\", \"name\": \"CLASH\"}");
	nl = prepare_ok(&c);
	if (newsletter_render_parts(nl, &s, NOW, &p, &cause) != 0)
		fail_msg("newsletter_render_parts: %s", cause);
	assert_str_eq_msg("subject", p.subject, "For Bethan Ŵyn");
	for (i = 0; i < sizeof wants / sizeof wants[0]; i++) {
		const char *hay = strcmp(wants[i].where, "text") == 0 ?
		    p.text : p.html;
		if (strstr(hay, wants[i].want) == NULL) {
			print_error("%s part: got no \"%s\" in:\n%s\n",
			    wants[i].where, wants[i].want, hay);
			fail();
		}
	}
	if (strstr(p.text, "CLASH") != NULL || strstr(p.html, "CLASH") != NULL)
		fail_msg("got the attribute \"name\" in place of the name");
	if (strstr(p.text, "never shown") != NULL)
		fail_msg("got a false section rendered");
	if (strstr(p.html, "<DSU>") != NULL)
		fail_msg("got an attribute unescaped in the HTML part");
	newsletter_parts_clear(&p);

	msg = render_ok(nl, &s, 0, &from);
	path = write_eml("personal", msg);
	check_email("personalisation", path, "For Bethan Ŵyn", "Bethan Ŵyn",
	    NULL);
	free(path);
	free(msg);
	free(from);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/* A value from data is never read as Markdown or HTML. */
static void
test_data_is_not_markup(void **state)
{
	struct store_campaign		 c;
	struct store_subscriber		 s;
	struct newsletter		*nl;
	struct newsletter_parts		 p;
	char				*cause = NULL;

	(void)state;
	campaign_init(&c, "html", "Hi", "Hello {{subscriber.name}} "
	    "{{{subscriber.name}}}\n");
	subscriber_init(&s, 8, "m@example.net",
	    "*[click](javascript:alert(1))* <script>x</script>", "{}");
	nl = prepare_ok(&c);
	if (newsletter_render_parts(nl, &s, NOW, &p, &cause) != 0)
		fail_msg("newsletter_render_parts: %s", cause);
	if (strstr(p.html, "<script>") != NULL ||
	    strstr(p.html, "href=\"javascript") != NULL ||
	    strstr(p.html, "<em>") != NULL)
		fail_msg("got data read as markup in the HTML part:\n%s",
		    p.html);
	if (strstr(p.html, "*[click](javascript:alert(1))* &lt;script&gt;")
	    == NULL)
		fail_msg("got no escaped name in the HTML part:\n%s", p.html);
	if (strstr(p.text, "Hello *[click](javascript:alert(1))* "
	    "<script>x</script>") == NULL)
		fail_msg("got no literal name in the text part:\n%s", p.text);
	newsletter_parts_clear(&p);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/* Merge fields anywhere: next to text that looks like a placeholder. */
static void
test_placeholder_edges(void **state)
{
	static const struct {
		const char	*body;
		const char	*text;	/* wanted in the text part */
		const char	*html;	/* wanted in the HTML part */
	} cases[] = {
		{ "AzQ{{subscriber.name}}Q\n",
		  "AzQSample SubscriberQ", "<p>AzQSample SubscriberQ</p>" },
		{ "zQz and {{list.slug}}Q9 zQzz0Q\n",
		  "zQz and newsQ9 zQzz0Q", "<p>zQz and newsQ9 zQzz0Q</p>" },
		{ "`{{subscriber.email}}`\n",
		  "subscriber@example.org",
		  "<code>subscriber@example.org</code>" },
		{ "[x](https://example.org/ \"for {{subscriber.name}}\")\n",
		  "x [1]", "title=\"for Sample Subscriber\"" },
		{ "{{! a comment }}Hi{{#list.name}} there{{/list.name}}\n",
		  "Hi there", "<p>Hi there</p>" },
		{ "{{{subscriber.name}}}{{&subscriber.name}}{{& list.slug }}\n",
		  "Sample SubscriberSample Subscribernews",
		  "Sample SubscriberSample Subscribernews" },
	};
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		campaign_init(&c, "news", "S", cases[i].body);
		nl = prepare_ok(&c);
		if (newsletter_render_parts(nl, newsletter_sample(), NOW, &p,
		    &cause) != 0)
			fail_msg("case %zu: %s", i, cause);
		if (strstr(p.text, cases[i].text) == NULL ||
		    strstr(p.html, cases[i].html) == NULL) {
			print_error("case %zu: got text part\n%s\nand HTML "
			    "part\n%s\nwant \"%s\" and \"%s\"\n", i, p.text,
			    p.html, cases[i].text, cases[i].html);
			fail();
		}
		newsletter_parts_clear(&p);
		newsletter_free(nl);
		store_campaign_clear(&c);
	}
}

/* --- allow_html ------------------------------------------------------------------- */

static void
test_allow_html(void **state)
{
	static const char	*body = "Before <b>bold</b> after.\n\n"
				    "<div class=\"promo\">A promo</div>\n";
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*cause = NULL, *msg, *from, *path;
	int			 on;

	(void)state;
	for (on = 0; on <= 1; on++) {
		campaign_init(&c, on ? "html" : "news", "HTML", body);
		nl = prepare_ok(&c);
		if (newsletter_render_parts(nl, newsletter_sample(), NOW, &p,
		    &cause) != 0)
			fail_msg("newsletter_render_parts: %s", cause);
		if ((strstr(p.html, "<div class=\"promo\">") != NULL) != on ||
		    (strstr(p.html, "<b>bold</b>") != NULL) != on) {
			print_error("allow_html %d: got HTML part:\n%s\nwant "
			    "the raw HTML %s\n", on, p.html,
			    on ? "kept" : "dropped");
			fail();
		}
		if (strstr(p.text, "<div") != NULL || strstr(p.text, "<b>")) {
			print_error("allow_html %d: got tags in the text "
			    "part:\n%s\n", on, p.text);
			fail();
		}
		newsletter_parts_clear(&p);
		msg = render_ok(nl, newsletter_sample(), 0, &from);
		path = write_eml(on ? "html-on" : "html-off", msg);
		check_email("allow_html", path, "HTML", NEWSLETTER_SAMPLE_NAME,
		    NULL);
		free(path);
		free(msg);
		free(from);
		newsletter_free(nl);
		store_campaign_clear(&c);
	}
}

/* --- test copies, dates ----------------------------------------------------------- */

static void
test_test_copy(void **state)
{
	struct store_campaign	 c;
	struct newsletter	*nl;
	char			*msg, *from, *h;

	(void)state;
	campaign_init(&c, "cymraeg", "Croeso – Ŵyl", "Body.\n");
	nl = prepare_ok(&c);
	msg = render_ok(nl, newsletter_sample(), 1, &from);
	h = write_eml("test-copy", msg);
	check_email("test copy", h, "[TEST] Croeso – Ŵyl",
	    NEWSLETTER_SAMPLE_NAME, NULL);
	free(h);
	free(msg);
	free(from);
	newsletter_free(nl);
	store_campaign_clear(&c);
}

static void
test_dates(void **state)
{
	static const struct {
		time_t		 now;
		int64_t		 started;
		const char	*want;
	} cases[] = {
		{ 1795307400, 0, "22 November 2026" },	/* 00:30 GMT */
		{ 1782948600, 0, "2 July 2026" },	/* 23:30 UTC = BST */
		{ 1774744200, 0, "29 March 2026" },	/* after the change */
		{ 1795341600, 1782948600, "2 July 2026" },	/* started */
	};
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		campaign_init(&c, "news", "{{campaign.date}}", "Body.\n");
		c.started_at = cases[i].started;
		nl = prepare_ok(&c);
		if (newsletter_render_parts(nl, newsletter_sample(),
		    cases[i].now, &p, &cause) != 0)
			fail_msg("newsletter_render_parts: %s", cause);
		assert_str_eq_msg("campaign.date", p.subject, cases[i].want);
		newsletter_parts_clear(&p);
		newsletter_free(nl);
		store_campaign_clear(&c);
	}
}

/* --- what prepare refuses ------------------------------------------------------------ */

static void
test_prepare_errors(void **state)
{
	static const struct {
		const char	*list;
		const char	*template;
		const char	*subject;
		const char	*body;
		const char	*want;	/* in the cause */
	} cases[] = {
		{ "nosuch", "newsletter", "S", "B", "list \"nosuch\" is not" },
		{ "news", "nosuch", "S", "B", "nosuch.html" },
		{ "news", "../etc/passwd", "S", "B", "a name is letters" },
		{ "news", "newsletter", "{{#x}}S", "B", "subject: " },
		{ "news", "newsletter", "S", "Hi {{name\n", "body: line 1: {{ "
		  "is not closed" },
		{ "news", "newsletter", "S", "a\n\n{{{name}}\n", "body: line 3:"
		  " {{{ is not closed" },
		{ "news", "newsletter", "S", "{{#a}}x\n", "body: " },
		{ "news", "newsletter", "S", "x\n{{> footer}}\n",
		  "partials ({{> name}}) are not allowed" },
		{ "news", "newsletter", "S", "{{=<% %>=}}\n",
		  "set delimiters" },
		{ "news", "newsletter", "S", "[site]({{subscriber.site}})\n",
		  "merge field {{subscriber.site}} before its scheme" },
	};
	struct store_campaign	 c;
	struct newsletter	*nl;
	char			*cause;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		campaign_init(&c, cases[i].list, cases[i].subject,
		    cases[i].body);
		free(c.template);
		c.template = xstrdup(cases[i].template);
		cause = NULL;
		nl = newsletter_prepare(conf, &c, key, &cause);
		if (nl != NULL || cause == NULL ||
		    strstr(cause, cases[i].want) == NULL) {
			print_error("case %zu: got %s \"%s\", want an error "
			    "with \"%s\"\n", i, nl != NULL ? "success" :
			    "error", cause, cases[i].want);
			fail();
		}
		free(cause);
		cause = NULL;
		if (newsletter_check(conf, &c, &cause) != -1)
			fail_msg("case %zu: newsletter_check passed", i);
		free(cause);
		store_campaign_clear(&c);
	}

	/* A merge field after the scheme is fine. */
	campaign_init(&c, "news", "S",
	    "[me](https://example.org/p/{{subscriber.email}})\n");
	cause = NULL;
	if (newsletter_check(conf, &c, &cause) != 0)
		fail_msg("got \"%s\" for a merge field after the scheme",
		    cause);
	store_campaign_clear(&c);
}

/*
 * An image whose source is a merge field has no https:// of its own:
 * markdown.c drops it (fields.c refuses it before it is saved), so data
 * never chooses an image's scheme either.  After "https://" a merge
 * field is fine.
 */
static void
test_image_merge_field(void **state)
{
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*cause = NULL;

	(void)state;
	campaign_init(&c, "news", "S", "![pic]({{subscriber.pic}}) "
	    "![me](https://example.org/{{subscriber.id}}.png)\n");
	subscriber_init(&s, 7, "a@example.net", "A",
	    "{\"pic\": \"javascript:alert(1)\", \"id\": \"a7\"}");
	nl = prepare_ok(&c);
	if (newsletter_render_parts(nl, &s, NOW, &p, &cause) != 0)
		fail_msg("render: %s", cause);
	if (strstr(p.html, "javascript") != NULL ||
	    strstr(p.html, "<p>pic <img") == NULL)
		fail_msg("got \"%s\", want the first image unwrapped to "
		    "\"pic\"", strstr(p.html, "<p>pic") != NULL ?
		    strstr(p.html, "<p>pic") : p.html);
	if (strstr(p.html, "<img src=\"https://example.org/a7.png\" "
	    "alt=\"me\" />") == NULL)
		fail_msg("got no <img> for https://example.org/a7.png");
	newsletter_parts_clear(&p);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
}

/*
 * Attribute names match in any case (a CSV header "Organisation" fills
 * {{subscriber.organisation}}), the exact key winning; a subscriber
 * without the attribute gets it empty, and so does the next one with no
 * attributes at all (the fast path that changes the last one in place).
 */
static void
test_attr_case(void **state)
{
	static const struct {
		int64_t		 id;
		const char	*attrs;
		const char	*subject;
		const char	*line;
	} cases[] = {
		{ 1, "{\"Organisation\": \"Black Country ICB\", \"team\": "
		  "\"lower\", \"Team\": \"Upper\"}",
		  "For Black Country ICB",
		  "Org: Black Country ICB / Black Country ICB / Black Country "
		  "ICB / Team: Upper lower lower." },
		{ 2, "{\"role\": \"analyst\"}", "For ",
		  "Org:  /  /  / Team:   ." },
		{ 3, "{}", "For ", "Org:  /  /  / Team:   ." },
		{ 4, "{\"ORGANISATION\": \"Dudley\"}", "For Dudley",
		  "Org: Dudley / Dudley / Dudley / Team:   ." },
	};
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*cause = NULL;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	/* Several of one key in other cases: the first, in order. */
	campaign_init(&c, "news", "For {{subscriber.organisation}}",
	    "Org: {{subscriber.organisation}} / {{subscriber.ORGANISATION}} / "
	    "{{subscriber.attrs.organisation}} / Team: {{subscriber.Team}} "
	    "{{subscriber.team}} {{subscriber.TEAM}}.\n");
	nl = prepare_ok(&c);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		subscriber_init(&s, cases[i].id, "a@example.net", "A",
		    cases[i].attrs);
		if (newsletter_render_parts(nl, &s, NOW, &p, &cause) != 0)
			fail_msg("case %zu: %s", i, cause);
		if (strcmp(p.subject, cases[i].subject) != 0) {
			print_error("case %zu: subject: got \"%s\", want "
			    "\"%s\"\n", i, p.subject, cases[i].subject);
			failed++;
		}
		/* The HTML part: the text part wraps the line. */
		if (strstr(p.html, cases[i].line) == NULL) {
			print_error("case %zu: got\n%s\nwant a line \"%s\"\n",
			    i, p.html, cases[i].line);
			failed++;
		}
		newsletter_parts_clear(&p);
		store_subscriber_clear(&s);
	}
	newsletter_free(nl);
	store_campaign_clear(&c);
	assert_int_equal(failed, 0);
}

/*
 * Every documented field for subjects and bodies has a value to show:
 * fields_table[] and the merge data built here agree.  KEY is "org".
 */
static char *
field_example(const struct fields_doc *d)
{
	if (d->flags & FIELDS_ATTR)
		return xprintf("%.*sorg", (int)(strlen(d->name) - 3), d->name);
	return xstrdup(d->name);
}

static void
test_fields_table(void **state)
{
	const struct fields_doc	*d;
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	struct buf		 md;
	char			*cause = NULL, *field, *want;
	int			 missing = 0;

	(void)state;
	buf_init(&md, BUF_NOMAX);
	for (d = fields_table; d->name != NULL; d++) {
		if (!(d->flags & FIELDS_BODY))
			continue;
		field = field_example(d);
		buf_printf(&md, "%s=[{{%s}}]\n\n", field, field);
		free(field);
	}
	buf_add(&md, "", 1);
	campaign_init(&c, "news", "S", md.data);
	subscriber_init(&s, 9, "a@example.net", "A", "{\"org\": \"O\"}");
	nl = prepare_ok(&c);
	if (newsletter_render_parts(nl, &s, NOW, &p, &cause) != 0)
		fail_msg("render: %s", cause);
	for (d = fields_table; d->name != NULL; d++) {
		if (!(d->flags & FIELDS_BODY))
			continue;
		field = field_example(d);
		want = xprintf("%s=[", field);
		if (strstr(p.text, want) == NULL) {
			print_error("{{%s}}: not in the text part\n", field);
			missing++;
		}
		free(want);
		want = xprintf("%s=[]", field);
		if (strstr(p.text, want) != NULL) {
			print_error("{{%s}}: got nothing, want a value\n",
			    field);
			missing++;
		}
		free(want);
		free(field);
	}
	newsletter_parts_clear(&p);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
	buf_free(&md);
	assert_int_equal(missing, 0);
}

/* How many times needle is in hay. */
static int
count_of(const char *hay, const char *needle)
{
	int	n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

/*
 * The HTML is left-aligned: no cell centres what is in it (its
 * paragraphs and lists would inherit that), the page is centred by its
 * own table.  The subject is the title only when the body does not open
 * with a "# heading" of its own, never a second <h1> above it.
 */
static void
test_layout(void **state)
{
	static const struct {
		const char	*body;
		int		 subject_h1;
		int		 h1s;
	} cases[] = {
		{ "Dear {{subscriber.name}},\n\n- one\n- two\n", 1, 1 },
		{ "# November news\n\nDear {{subscriber.name}}.\n", 0, 1 },
		{ "Title\n=====\n\nText.\n", 0, 1 },
		{ "## A section first\n\nText.\n", 1, 1 },
		{ "Intro.\n\n# A heading later\n", 1, 2 },
	};
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	const char		*td;
	char			*cause = NULL;
	size_t			 i;
	int			 failed = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		campaign_init(&c, "news", "The subject", cases[i].body);
		nl = prepare_ok(&c);
		if (newsletter_render_parts(nl, newsletter_sample(), NOW, &p,
		    &cause) != 0)
			fail_msg("case %zu: %s", i, cause);
		for (td = strstr(p.html, "<td"); td != NULL;
		    td = strstr(td + 3, "<td")) {
			if (strncmp(td, "<td", 3) == 0 &&
			    strstr(td, ">") > strstr(td, "center") &&
			    strstr(td, "center") != NULL) {
				print_error("case %zu: got a centred cell: "
				    "%.60s\n", i, td);
				failed++;
			}
		}
		if (strstr(p.html, "<td class=\"content\" align=\"left\">") ==
		    NULL || strstr(p.html, "class=\"page\" align=\"center\"")
		    == NULL) {
			print_error("case %zu: got no left-aligned content "
			    "cell in a centred page table\n", i);
			failed++;
		}
		if (count_of(p.html, "<h1>The subject</h1>") !=
		    cases[i].subject_h1 || count_of(p.html, "<h1") !=
		    cases[i].h1s) {
			print_error("case %zu: got %d subject titles and %d "
			    "<h1>, want %d and %d\n", i,
			    count_of(p.html, "<h1>The subject</h1>"),
			    count_of(p.html, "<h1"), cases[i].subject_h1,
			    cases[i].h1s);
			failed++;
		}
		if (p.body_heading != !cases[i].subject_h1) {
			print_error("case %zu: body_heading: got %d\n", i,
			    p.body_heading);
			failed++;
		}
		/* The subject stays the page's <title>. */
		if (strstr(p.html, "<title>The subject</title>") == NULL) {
			print_error("case %zu: got no <title>\n", i);
			failed++;
		}
		newsletter_parts_clear(&p);
		newsletter_free(nl);
		store_campaign_clear(&c);
	}
	assert_int_equal(failed, 0);
}

/* --- the golden newsletter ------------------------------------------------------------- */

static char *
read_file(const char *path)
{
	struct buf	b;

	buf_init(&b, 1024 * 1024);
	if (buf_read_file(&b, path) == -1) {
		buf_free(&b);
		return NULL;
	}
	if (b.data == NULL)
		buf_add(&b, "", 0);
	return buf_detach(&b, NULL);
}

static void
write_file(const char *path, const char *s)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL ||
	    fwrite(s, 1, strlen(s), f) != strlen(s) || fclose(f) != 0)
		fail_msg("%s: %s", path, strerror(errno));
}

static void
compare_golden(const char *path, const char *got)
{
	char		*want;
	size_t		 i, line = 1;

	if ((want = read_file(path)) == NULL)
		fail_msg("%s: %s (POSTROOM_UPDATE_GOLDEN=1 writes it)", path,
		    strerror(errno));
	if (strcmp(got, want) != 0) {
		for (i = 0; got[i] != '\0' && got[i] == want[i]; i++) {
			if (got[i] == '\n')
				line++;
		}
		print_error("%s: line %zu differs:\n  got  \"%.60s\"\n  want "
		    "\"%.60s\"\n", path, line, got + i, want + i);
		free(want);
		fail();
	}
	free(want);
}

static void
test_golden(void **state)
{
	struct store_campaign	 c;
	struct newsletter	*nl;
	struct newsletter_parts	 p;
	char			*dir, *md, *path, *cause = NULL, *msg, *from;
	int			 update;

	(void)state;
	update = getenv("POSTROOM_UPDATE_GOLDEN") != NULL;
	dir = xprintf("%s/tests/golden/newsletter", test_top());
	path = xprintf("%s/november.md", dir);
	if ((md = read_file(path)) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	free(path);
	campaign_init(&c, "news", "November bulletin: a year of the "
	    "analytical programme", md);
	free(md);
	nl = prepare_ok(&c);
	if (newsletter_render_parts(nl, newsletter_sample(), NOW, &p,
	    &cause) != 0)
		fail_msg("newsletter_render_parts: %s", cause);

	path = xprintf("%s/november.txt", dir);
	if (update)
		write_file(path, p.text);
	compare_golden(path, p.text);
	free(path);
	path = xprintf("%s/november.html", dir);
	if (update)
		write_file(path, p.html);
	compare_golden(path, p.html);
	free(path);

	/* The message decodes to exactly that text part. */
	msg = render_ok(nl, newsletter_sample(), 0, &from);
	path = write_eml("golden", msg);
	check_email("golden", path, c.subject, NEWSLETTER_SAMPLE_NAME, p.text);
	if (getenv("POSTROOM_KEEP_EML") != NULL)
		write_file(getenv("POSTROOM_KEEP_EML"), msg);
	free(path);
	free(msg);
	free(from);
	newsletter_parts_clear(&p);
	newsletter_free(nl);
	store_campaign_clear(&c);
	free(dir);
}

/* --- the golden message: every byte on the wire ------------------------------------------ */

/*
 * Subscribers whose whole messages are pinned in november.eml: ASCII and
 * not, with and without attributes (a renderer reuses what it can between
 * two subscribers without attributes), a quoted display name, a test copy,
 * no name, a name too long for one header line.
 */
static const struct {
	int64_t		 id;
	const char	*email;
	const char	*name;
	const char	*attrs;
	int		 test;
} golden_subs[] = {
	{ 1, "reader1@example.net", "Reader One", "{}", 0 },
	{ 2, "reader2@example.net", "Reader Two", "", 0 },
	{ 77, "zoe@example.net", "Zo\xc3\xab \xc3\x85ngstr\xc3\xb6m",
	  "{\"organisation\": \"Black Country ICB\"}", 0 },
	{ 1000003, "pat@example.net", "O'Brien, \"Pat\"", "{}", 1 },
	{ 5, "x@example.net", "", "{\"organisation\": \"<b>&amp;</b>\"}",
	  0 },
	{ 6, "long.name@example.net", "Someone With A Name Long Enough To "
	  "Need Folding Across Two Header Lines", "{}", 0 },
	{ 7, "reader7@example.net", "Reader Seven", "{}", 0 },
};

/*
 * Mask what is random in a message, in place and keeping its length: the
 * Message-ID's value and the boundary's 32 hex digits become '#'.
 */
static void
mask_random(char *msg)
{
	char	*p, *e, hex[33];

	if ((p = strstr(msg, "\r\nMessage-ID: <")) != NULL) {
		p += strlen("\r\nMessage-ID: <");
		if ((e = strchr(p, '>')) != NULL)
			memset(p, '#', (size_t)(e - p));
	}
	if ((p = strstr(msg, "boundary=\"=_alt_")) != NULL) {
		p += strlen("boundary=\"=_alt_");
		if (strlen(p) < 32)
			return;
		memcpy(hex, p, 32);
		hex[32] = '\0';
		while ((p = strstr(msg, hex)) != NULL)
			memset(p, '#', 32);
	}
}

/* Subscriber i's message from nl, masked, after a "=== FROM" line. */
static char *
golden_one(struct newsletter *nl, size_t i)
{
	struct store_subscriber	 s;
	char			*msg, *from, *out;

	subscriber_init(&s, golden_subs[i].id, golden_subs[i].email,
	    golden_subs[i].name, golden_subs[i].attrs);
	msg = render_ok(nl, &s, golden_subs[i].test, &from);
	check_wire(golden_subs[i].email, msg);
	mask_random(msg);
	out = xprintf("=== %s\n%s", from, msg);
	free(msg);
	free(from);
	store_subscriber_clear(&s);
	return out;
}

/*
 * The campaigns: with a non-ASCII subject every part goes quoted-printable;
 * with ASCII throughout the parts of an ASCII subscriber go 7bit; with a
 * body mostly in Greek the text part goes base64.
 */
/* Mostly Greek, so that a text part goes base64. */
#define GOLDEN_GREEK \
	"\xce\xa4\xce\xbf \xce\xb4\xce\xaf\xce\xba\xcf\x84\xcf\x85\xce\xbf " \
	"\xce\xb1\xce\xbd\xce\xb1\xce\xbb\xcf\x85\xcf\x84\xcf\x8e\xce\xbd " \
	"\xcf\x83\xcf\x85\xce\xbd\xce\xb1\xce\xbd\xcf\x84\xce\xb9\xce\xad" \
	"\xcf\x84\xce\xb1\xce\xb9 \xce\xba\xce\xac\xce\xb8\xce\xb5 " \
	"\xce\x94\xce\xb5\xcf\x85\xcf\x84\xce\xad\xcf\x81\xce\xb1. "

static const struct {
	const char	*subject;
	const char	*body;		/* NULL: november.md */
} golden_campaigns[] = {
	{ "November bulletin for {{subscriber.name}} \xe2\x80\x94 "
	  "{{campaign.date}}", NULL },
	{ "Network news for {{subscriber.name}}",
	  "Dear {{subscriber.name}},\n\nThe network news, with [a link]"
	  "(https://example.org/news/1) and *some* **emphasis**.\n\n"
	  "## Events\n\nHuddles every other Tuesday; the evaluation "
	  "guide; the training prospectus for the year ahead, which is "
	  "long enough to wrap.\n" },
	{ "\xce\x9d\xce\xad\xce\xb1 {{subscriber.name}}",
	  "{{subscriber.name}},\n\n" GOLDEN_GREEK GOLDEN_GREEK GOLDEN_GREEK
	  GOLDEN_GREEK "\n\n" GOLDEN_GREEK GOLDEN_GREEK GOLDEN_GREEK
	  GOLDEN_GREEK GOLDEN_GREEK GOLDEN_GREEK "\n" },
};

static void
test_golden_message(void **state)
{
	struct store_campaign	 c;
	struct newsletter	*nl, *fresh;
	struct buf		 all;
	char			*dir, *md, *path, *one[sizeof golden_subs /
				    sizeof golden_subs[0]], *again;
	size_t			 i, j, n = sizeof golden_subs /
				    sizeof golden_subs[0];

	(void)state;
	dir = xprintf("%s/tests/golden/newsletter", test_top());
	path = xprintf("%s/november.md", dir);
	if ((md = read_file(path)) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	free(path);
	buf_init(&all, BUF_NOMAX);
	for (j = 0; j < sizeof golden_campaigns / sizeof golden_campaigns[0];
	    j++) {
		campaign_init(&c, "news", golden_campaigns[j].subject,
		    golden_campaigns[j].body != NULL ?
		    golden_campaigns[j].body : md);

		/* Step 1: one renderer for all, for the golden file. */
		nl = prepare_ok(&c);
		for (i = 0; i < n; i++) {
			one[i] = golden_one(nl, i);
			buf_addstr(&all, one[i]);
		}

		/*
		 * Step 2: a renderer changes its merge data in place from
		 * one subscriber to the next.  In the other order, and
		 * fresh for each subscriber, every message must come out
		 * the same.
		 */
		for (i = n; i > 0; i--) {
			again = golden_one(nl, i - 1);
			assert_str_eq_msg(golden_subs[i - 1].email, again,
			    one[i - 1]);
			free(again);
		}
		for (i = 0; i < n; i++) {
			fresh = prepare_ok(&c);
			again = golden_one(fresh, i);
			assert_str_eq_msg(golden_subs[i].email, again, one[i]);
			free(again);
			newsletter_free(fresh);
			free(one[i]);
		}
		newsletter_free(nl);
		store_campaign_clear(&c);
	}
	path = xprintf("%s/november.eml", dir);
	if (getenv("POSTROOM_UPDATE_GOLDEN") != NULL)
		write_file(path, all.data);
	compare_golden(path, all.data);
	free(path);
	buf_free(&all);
	free(md);
	free(dir);
}

/* --- speed: prepare once, render many ---------------------------------------------------- */

static void
test_speed(void **state)
{
	struct store_campaign	 c;
	struct store_subscriber	 s;
	struct newsletter	*nl;
	struct buf		 out;
	struct timespec		 t0, t1;
	char			*dir, *path, *md, *from, *cause = NULL;
	double			 secs;
	int			 i, n = 2000;
	size_t			 bytes = 0;

	(void)state;
	dir = xprintf("%s/tests/golden/newsletter", test_top());
	path = xprintf("%s/november.md", dir);
	if ((md = read_file(path)) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	campaign_init(&c, "news", "Speed {{subscriber.name}}", md);
	nl = prepare_ok(&c);
	subscriber_init(&s, 1, "reader@example.net", "Reader Name",
	    "{\"organisation\": \"Black Country ICB\"}");
	buf_init(&out, NEWSLETTER_MAX_MESSAGE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++) {
		s.id = i + 1;
		buf_reset(&out);
		if (newsletter_render(nl, &s, NOW, &out, &from, &cause) != 0)
			fail_msg("render %d: %s", i, cause);
		bytes += out.len;
		free(from);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# %d messages of %zu bytes on average in %.2fs: %.0f/s "
	    "(sanitizer build)\n", n, bytes / (size_t)n, secs, n / secs);
	buf_free(&out);
	newsletter_free(nl);
	store_campaign_clear(&c);
	store_subscriber_clear(&s);
	free(md);
	free(path);
	free(dir);
}

/* --- the campaigns table ------------------------------------------------------------------ */

struct each_arg {
	int64_t	ids[8];
	int	n;
};

static int
each_fn(const struct store_campaign *c, void *arg)
{
	struct each_arg	*ea = arg;

	if (c->body != NULL)
		return -2;
	if (ea->n < 8)
		ea->ids[ea->n++] = c->id;
	return 0;
}

static void
test_store_campaign(void **state)
{
	struct store		*st;
	struct store_campaign	 c, got;
	struct each_arg		 ea;
	enum store_campaign_status status;
	char			*path, *cause = NULL;
	int64_t			 id1, id2;
	int			 i;

	(void)state;
	for (i = 0; i < STORE_CAMPAIGN_NSTATUSES; i++) {
		if (store_campaign_status_parse(store_campaign_status_name(
		    (enum store_campaign_status)i), &status) != 0 ||
		    (int)status != i)
			fail_msg("status %d does not round-trip", i);
	}
	if (store_campaign_status_parse("nosuch", &status) != -1)
		fail_msg("got an unknown status parsed");

	path = xprintf("%s/store.db", tmpdir);
	if ((st = store_open(path, &cause)) == NULL)
		fail_msg("store_open: %s", cause);

	campaign_init(&c, "news", "First", "Body one\n");
	free(c.template);
	c.template = NULL;
	c.created_by = xstrdup("cli:tester");
	if (store_campaign_add(st, &c, 1000, &id1, &cause) != 0)
		fail_msg("store_campaign_add: %s", cause);
	store_campaign_clear(&c);
	campaign_init(&c, "training", "Second", "Body two\n");
	if (store_campaign_add(st, &c, 1001, &id2, &cause) != 0)
		fail_msg("store_campaign_add: %s", cause);
	store_campaign_clear(&c);

	if (store_campaign_get(st, id1, &got, &cause) != 1)
		fail_msg("store_campaign_get %lld: %s", (long long)id1, cause);
	assert_str_eq_msg("list", got.list, "news");
	assert_str_eq_msg("subject", got.subject, "First");
	assert_str_eq_msg("body", got.body, "Body one\n");
	assert_str_eq_msg("template", got.template, STORE_CAMPAIGN_TEMPLATE);
	assert_str_eq_msg("created_by", got.created_by, "cli:tester");
	assert_int_equal(got.status, STORE_CAMPAIGN_DRAFT);
	assert_int_equal(got.created_at, 1000);
	store_campaign_clear(&got);
	if (store_campaign_get(st, 999, &got, &cause) != 0)
		fail_msg("got campaign 999 found");

	/* Edit: only what is given changes; "" resets the template. */
	if (store_campaign_edit(st, id1, NULL, "Body 1b\n", "special", "cli:t", 1100,
	    &cause) != 1)
		fail_msg("store_campaign_edit: %s", cause);
	if (store_campaign_get(st, id1, &got, &cause) != 1)
		fail_msg("store_campaign_get: %s", cause);
	assert_str_eq_msg("subject after edit", got.subject, "First");
	assert_str_eq_msg("body after edit", got.body, "Body 1b\n");
	assert_str_eq_msg("template after edit", got.template, "special");
	assert_int_equal(got.updated_at, 1100);
	store_campaign_clear(&got);
	if (store_campaign_edit(st, id1, "Renamed", NULL, "", "cli:t", 1200,
	    &cause) != 1)
		fail_msg("store_campaign_edit: %s", cause);
	if (store_campaign_get(st, id1, &got, &cause) != 1)
		fail_msg("store_campaign_get: %s", cause);
	assert_str_eq_msg("subject after edit", got.subject, "Renamed");
	assert_str_eq_msg("template reset", got.template,
	    STORE_CAMPAIGN_TEMPLATE);
	store_campaign_clear(&got);

	/* Not a draft: no edit. */
	if (store_exec_sql(st, "UPDATE campaigns SET status = 'sending'"
	    " WHERE id = 2", &cause) != 0)
		fail_msg("%s", cause);
	if (store_campaign_edit(st, id2, "No", NULL, NULL, "cli:t", 1300, &cause) != 0)
		fail_msg("got a campaign that is sending edited");
	if (store_campaign_edit(st, 999, "No", NULL, NULL, "cli:t", 1300, &cause) != 0)
		fail_msg("got a missing campaign edited");
	if (store_campaign_get(st, id2, &got, &cause) != 1)
		fail_msg("store_campaign_get: %s", cause);
	assert_int_equal(got.status, STORE_CAMPAIGN_SENDING);
	assert_str_eq_msg("subject", got.subject, "Second");
	store_campaign_clear(&got);

	/* Newest first; by list. */
	memset(&ea, 0, sizeof ea);
	if (store_campaign_each(st, NULL, each_fn, &ea, &cause) != 0)
		fail_msg("store_campaign_each: %s", cause);
	assert_int_equal(ea.n, 2);
	assert_int_equal(ea.ids[0], id2);
	assert_int_equal(ea.ids[1], id1);
	memset(&ea, 0, sizeof ea);
	if (store_campaign_each(st, "news", each_fn, &ea, &cause) != 0)
		fail_msg("store_campaign_each: %s", cause);
	assert_int_equal(ea.n, 1);
	assert_int_equal(ea.ids[0], id1);

	store_close(st);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_hostile_no_header),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_personalisation),
		cmocka_unit_test(test_data_is_not_markup),
		cmocka_unit_test(test_placeholder_edges),
		cmocka_unit_test(test_allow_html),
		cmocka_unit_test(test_test_copy),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_prepare_errors),
		cmocka_unit_test(test_test_links),
		cmocka_unit_test(test_image_merge_field),
		cmocka_unit_test(test_attr_case),
		cmocka_unit_test(test_fields_table),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_golden_message),
		cmocka_unit_test(test_speed),
		cmocka_unit_test(test_store_campaign),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
