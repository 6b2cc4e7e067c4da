/*
 * test-mime-parse.c - reading inbound mail in-process: the corpus of real-
 * looking enquiries, then tables for RFC 2047 header decoding, charsets,
 * HTML to text, hostile and malformed MIME, limits, and the packed form
 * of a struct message that crosses the pipe from the parser child.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdlib.h>

#include "buf.h"
#include "charset.h"
#include "html-text.h"
#include "message.h"
#include "mime-parse.h"

#define S(x)	x, sizeof(x) - 1

static struct message *
parse_str(const char *raw, const struct mime_parse_limits *lim)
{
	return mime_parse(raw, strlen(raw), lim);
}

static int
contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t	n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

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

/* --- the corpus ---------------------------------------------------------- */

struct corpus_case {
	const char	*file;
	const char	*from_name;
	const char	*from_addr;
	const char	*subject;
	const char	*phrase;	/* body_text contains it */
	int		 from_html;
};

static const struct corpus_case corpus_cases[] = {
	{ "001.eml", "Matthew Cross", "matthew.cross@nhs.example.net",
	  "Out of Office: Your enquiry to the Midlands Decision Support "
	  "Network [DSN-24-0102]", "I am out of the office until 8 April",
	  0 },
	{ "003.eml", "Ken Doherty", "ken.doherty54@gmail.example.com",
	  "prescription", "my repeat prescription hasn't been sent", 0 },
	{ "004.eml", "Ay\xc5\x9f" "e Demir", "ayse.demir@nhs.example.net",
	  "Sharing resources with the analyst network",
	  "Power BI templates for waiting list reporting", 0 },
	{ "009.eml", "Zo\xc3\xa9 Marchand", "zoe.marchand@nhs.example.net",
	  "Training prospectus and course fees (\xc2\xa3)",
	  "development prospectus for 2024/25, including any course fees", 0 },
	{ "010.eml", "Dr Kofi Ansah", "kofi.ansah@nhs.example.net",
	  "Suggestion for a large regional analytical project",
	  "How do we submit a proposal for the regional analytical "
	  "programme?", 1 },
	{ "011.eml", "NHS Analytics Digest",
	  "noreply@analyticsdigest.example.com",
	  "NHS Analytics Digest - March 2024",
	  "Five tips for presenting uncertainty to boards", 0 },
	{ "016.eml", "Graham Ellis", "graham.ellis@nhs.example.net",
	  "Evidence review request - digital weight management",
	  "A one-page scope with our questions", 0 },
	{ "017.eml", "Bethan Morgan", "bethan.morgan@nhs.example.net",
	  "Qualitative research skills \xe2\x80\x93 next session?",
	  "I\xe2\x80\x99m interested in the Evaluation Network\xe2\x80\x99s "
	  "qualitative research skills sessions", 0 },
	{ "018.eml", "Max Rivera", "max@dashly-analytics.example.com",
	  "Free trial: dashboards your board will love",
	  "Dashboards your board will love\n\nHi there,", 1 },
	{ "022.eml", "Peter Aldridge", "peter.aldridge@nhs.example.net",
	  "Knowledge mobilisation support",
	  "Does the Knowledge & Evidence Network offer support on this?", 0 },
	{ "028.eml", "Karen Fletcher", "karen.fletcher@nhs.example.net",
	  "Partnership agreement & funding \xe2\x80\x93 Midlands DSN",
	  "partnership agreement and a summary", 0 },
};

static struct message *
corpus_parse(const char *file)
{
	struct buf	 b;
	struct message	*m;
	char		 path[8192];

	snprintf(path, sizeof path, "%s/corpus/enquiries/%s", test_shared(),
	    file);
	buf_init(&b, BUF_NOMAX);
	if (buf_read_file(&b, path) == -1)
		fail_msg("%s: cannot read", path);
	m = mime_parse(b.data, b.len, NULL);
	buf_free(&b);
	return m;
}

static void
test_corpus(void **state)
{
	const struct corpus_case	*c;
	struct message			*m;
	size_t				 i;
	char				 what[128];

	if (test_shared() == NULL)
		skip();		/* ../shared (the corpus) is not here */
	for (i = 0; i < sizeof corpus_cases / sizeof corpus_cases[0]; i++) {
		c = &corpus_cases[i];
		m = corpus_parse(c->file);
		if (m->status != MESSAGE_OK)
			fail_msg("%s: status got %s (%s), want OK", c->file,
			    status_name(m->status), m->status_detail);
		snprintf(what, sizeof what, "%s from name", c->file);
		assert_str_eq_msg(what, m->from.name, c->from_name);
		snprintf(what, sizeof what, "%s from addr", c->file);
		assert_str_eq_msg(what, m->from.addr, c->from_addr);
		snprintf(what, sizeof what, "%s subject", c->file);
		assert_str_eq_msg(what, m->subject, c->subject);
		if (!contains(m->body_text, c->phrase))
			fail_msg("%s: body_text got\n%s\nwant it to contain "
			    "\"%s\"", c->file, m->body_text, c->phrase);
		if (m->body_from_html != c->from_html)
			fail_msg("%s: body_from_html got %d, want %d",
			    c->file, m->body_from_html, c->from_html);
		message_free(m);
	}
}

/* The corpus files with more to check than the table holds. */
static void
test_corpus_details(void **state)
{
	struct message	*m;
	char		 path[8192];
	struct buf	 b;
	int		 i;

	if (test_shared() == NULL)
		skip();		/* ../shared (the corpus) is not here */

	/* 002: a DSN bounce of one of our acknowledgements. */
	m = corpus_parse("002.eml");
	assert_int_equal(m->is_report, 1);
	assert_str_eq_msg("002 report_type", m->report_type,
	    "delivery-status");
	assert_str_eq_msg("002 recipient", m->report_recipient,
	    "k.wilkins@council.example.net");
	assert_str_eq_msg("002 action", m->report_action, "failed");
	assert_str_eq_msg("002 status", m->report_status, "5.2.1");
	assert_str_eq_msg("002 diagnostic", m->report_diagnostic,
	    "550 5.2.1 Mailbox unavailable");
	assert_str_eq_msg("002 original id", m->report_message_id,
	    "dsn-ack-24-0344.0c9a71f3@midlands-dsn.example.org");
	assert_str_eq_msg("002 return-path", m->return_path, "");
	if (!contains(m->body_text, "Your message could not be delivered"))
		fail_msg("002: body_text got \"%s\"", m->body_text);
	if (contains(m->body_text, "Reporting-MTA"))
		fail_msg("002: the delivery-status part is in the text");
	message_free(m);

	/* 016: the PDF. */
	m = corpus_parse("016.eml");
	if (m->nattachments != 1)
		fail_msg("016: nattachments got %zu, want 1", m->nattachments);
	assert_str_eq_msg("016 filename", m->attachments[0].filename,
	    "evidence_review_scope.pdf");
	assert_str_eq_msg("016 type", m->attachments[0].type,
	    "application/pdf");
	if (m->attachments[0].size != 973)
		fail_msg("016: size got %zu, want 973",
		    m->attachments[0].size);
	message_free(m);

	/* 011: alternative: the plain text once, the HTML not at all. */
	m = corpus_parse("011.eml");
	if (count(m->body_text, "Five tips") != 1)
		fail_msg("011: \"Five tips\" %zu times, want 1",
		    count(m->body_text, "Five tips"));
	assert_str_eq_msg("011 List-Id", message_header(m, "list-id"),
	    "NHS Analytics Digest <digest.analyticsdigest.example.com>");
	message_free(m);

	/* 001: folded Subject, Message-ID and In-Reply-To. */
	m = corpus_parse("001.eml");
	assert_str_eq_msg("001 message_id", m->message_id,
	    "AM02P193MB2845925DAC4D6C35@AM02P193MB2845.GBRP252.PROD."
	    "OUTLOOK.example.com");
	assert_str_eq_msg("001 in_reply_to", m->in_reply_to,
	    "<dsn-ack-24-0102.2e7d14c0@midlands-dsn.example.org>");
	assert_str_eq_msg("001 Auto-Submitted",
	    message_header(m, "AUTO-SUBMITTED"), "auto-replied");
	if (m->nto != 1)
		fail_msg("001: nto got %zu, want 1", m->nto);
	assert_str_eq_msg("001 to", m->to[0].addr,
	    "enquiries@midlands-dsn.example.org");
	message_free(m);

	/* Every file of the corpus parses cleanly. */
	for (i = 1; i <= 30; i++) {
		snprintf(path, sizeof path, "%s/corpus/enquiries/%03d.eml",
		    test_shared(), i);
		buf_init(&b, BUF_NOMAX);
		if (buf_read_file(&b, path) == -1)
			fail_msg("%s: cannot read", path);
		m = mime_parse(b.data, b.len, NULL);
		if (m->status != MESSAGE_OK || *m->from.addr == '\0' ||
		    *m->body_text == '\0')
			fail_msg("%03d.eml: got status %s (%s), from \"%s\", "
			    "%zu bytes of text; want OK, a sender, text", i,
			    status_name(m->status), m->status_detail,
			    m->from.addr, strlen(m->body_text));
		message_free(m);
		buf_free(&b);
	}
}

/* --- RFC 2047 ------------------------------------------------------------ */

struct header_case {
	const char	*name;
	const char	*in;
	const char	*want;
	int		 repaired;
};

static const struct header_case header_cases[] = {
	{ "plain", "  Hello world  ", "Hello world", 0 },
	{ "folded", "Hello\r\n world", "Hello world", 0 },
	{ "Q word", "=?UTF-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait",
	  0 },
	{ "B word", "=?utf-8?b?Y2Fmw6k=?=", "caf\xc3\xa9", 0 },
	{ "B no padding", "=?UTF-8?B?w6k?=", "\xc3\xa9", 0 },
	{ "adjacent joined", "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab", 0 },
	{ "adjacent folded", "=?UTF-8?Q?a?=\r\n\t=?UTF-8?Q?b?=", "ab", 0 },
	{ "char split across words", "=?UTF-8?B?ww==?= =?UTF-8?B?qQ==?=",
	  "\xc3\xa9", 0 },
	{ "two charsets", "=?ISO-8859-1?Q?caf=E9?= =?UTF-8?Q?_ol=C3=A9?=",
	  "caf\xc3\xa9 ol\xc3\xa9", 0 },
	{ "text between", "=?UTF-8?Q?a?= and =?UTF-8?Q?b?=", "a and b", 0 },
	{ "no space around", "foo=?UTF-8?Q?bar?=baz", "foobarbaz", 0 },
	{ "language", "=?UTF-8*en?Q?hello?=", "hello", 0 },
	{ "windows-1252", "=?windows-1252?Q?=93quoted=94?=",
	  "\xe2\x80\x9cquoted\xe2\x80\x9d", 0 },
	{ "unknown charset, UTF-8 bytes", "=?x-unknown-cs?Q?caf=C3=A9?=",
	  "caf\xc3\xa9", 1 },
	{ "unknown charset, 8-bit bytes", "=?x-bogus?Q?caf=E9?=",
	  "caf\xc3\xa9", 1 },
	{ "charset name with //", "=?UTF-8//IGNORE?Q?caf=E9?=",
	  "caf\xc3\xa9", 1 },
	{ "not terminated", "=?UTF-8?Q?unterminated",
	  "=?UTF-8?Q?unterminated", 0 },
	{ "bad encoding letter", "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=", 0 },
	{ "bad base64", "=?UTF-8?B?!!!!?=", "=?UTF-8?B?!!!!?=", 1 },
	{ "bad Q escape", "=?UTF-8?Q?a=ZZ?=", "=?UTF-8?Q?a=ZZ?=", 1 },
	{ "space inside", "=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=", 0 },
	{ "empty word", "=?UTF-8?Q?" "?=", "=?UTF-8?Q?" "?=", 0 },
	{ "bad UTF-8 in UTF-8 word", "=?UTF-8?Q?a=FFb?=",
	  "a\xef\xbf\xbd" "b", 1 },
	{ "CRLF smuggled", "=?UTF-8?Q?a=0D=0AX-Evil:_1?=",
	  "a  X-Evil: 1", 0 },
	{ "NUL smuggled", "=?UTF-8?Q?a=00b?=", "a b", 0 },
	{ "8-bit UTF-8", "caf\xc3\xa9", "caf\xc3\xa9", 0 },
	{ "8-bit latin-1", "caf\xe9 cr\xe8me", "caf\xc3\xa9 cr\xc3\xa8me", 1 },
	{ "8-bit 1252 with word", "\x93x\x94 =?UTF-8?Q?=C3=A9?=",
	  "\xe2\x80\x9cx\xe2\x80\x9d \xc3\xa9", 1 },
	{ "tab", "a\tb", "a b", 0 },
	{ "nested", "=?UTF-8?Q?=3D=3FUTF-8=3FQ=3Fx=3F=3D?=",
	  "=?UTF-8?Q?x?=", 0 },
	{ "many starts", "=?=?=?=?a?b?x=?a?b?x=?a?b?x",
	  "=?=?=?=?a?b?x=?a?b?x=?a?b?x", 0 },
};

static void
test_header(void **state)
{
	const struct header_case	*c;
	struct buf			 b;
	size_t				 i;
	int				 rc;

	for (i = 0; i < sizeof header_cases / sizeof header_cases[0]; i++) {
		c = &header_cases[i];
		buf_init(&b, BUF_NOMAX);
		rc = mime_parse_header(&b, c->in, strlen(c->in));
		assert_str_eq_msg(c->name, b.data != NULL ? b.data : "",
		    c->want);
		if (rc != c->repaired)
			fail_msg("%s: repaired got %d, want %d", c->name, rc,
			    c->repaired);
		buf_free(&b);
	}
}

/* A header of many encoded-word starts must not take quadratic time. */
static void
test_header_long(void **state)
{
	struct buf	 b;
	char		*s;
	size_t		 i, n = 200000;

	s = malloc(n * 7 + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * 7, "=?a?b?x", 7);
	s[n * 7] = '\0';
	buf_init(&b, BUF_NOMAX);
	(void)mime_parse_header(&b, s, n * 7);
	assert_int_equal(b.len, n * 7);
	buf_free(&b);
	free(s);
}

/* --- charsets ------------------------------------------------------------ */

struct charset_case {
	const char	*charset;
	const char	*in;
	size_t		 len;
	const char	*want;
	int		 flags;
};

static const struct charset_case charset_cases[] = {
	{ "windows-1252", S("\x93hi\x94 \x80"),
	  "\xe2\x80\x9chi\xe2\x80\x9d \xe2\x82\xac", 0 },
	{ "\"ISO-8859-1\"", S("caf\xe9"), "caf\xc3\xa9", 0 },
	{ "latin1", S("\x92"), "\xe2\x80\x99", 0 },
	{ "windows-1252", S("a\x81z"), "a\xef\xbf\xbdz", CHARSET_REPAIRED },
	{ "utf-8", S("caf\xc3\xa9"), "caf\xc3\xa9", 0 },
	{ "UTF8", S("caf\xe9"), "caf\xef\xbf\xbd", CHARSET_REPAIRED },
	{ "us-ascii", S("caf\xc3\xa9"), "caf\xc3\xa9", 0 },
	{ "us-ascii", S("caf\xe9"), "caf\xc3\xa9", 0 },
	{ NULL, S("caf\xe9"), "caf\xc3\xa9", 0 },
	{ "ISO-8859-15", S("\xa4"), "\xe2\x82\xac", 0 },
	{ "koi8-r", S("\xc1"), "\xd0\xb0", 0 },
	{ "shift_jis", S("\x82\xa0"), "\xe3\x81\x82", 0 },
	{ "utf-16le", S("a\0b\0"), "ab", 0 },
	{ "ks_c_5601-1987", S("\xb0\xa1"), "\xea\xb0\x80", 0 },
	{ "euc-jp", S("a\xa4"), "a\xef\xbf\xbd", CHARSET_REPAIRED },
	{ "shift_jis", S("\x82\xa0\xff\x82\xa0"),
	  "\xe3\x81\x82\xef\xbf\xbd\xe3\x81\x82", CHARSET_REPAIRED },
	{ "x-nonsense", S("caf\xc3\xa9"), "caf\xc3\xa9", CHARSET_UNKNOWN },
	{ "utf-8//TRANSLIT", S("caf\xe9"), "caf\xc3\xa9", CHARSET_UNKNOWN },
	{ "../../etc/passwd", S("x"), "x", CHARSET_UNKNOWN },
	{ "", S(""), "", 0 },
};

static void
test_charset(void **state)
{
	const struct charset_case	*c;
	struct buf			 b;
	size_t				 i;
	int				 flags;
	char				 what[128];

	for (i = 0; i < sizeof charset_cases / sizeof charset_cases[0]; i++) {
		c = &charset_cases[i];
		buf_init(&b, BUF_NOMAX);
		flags = 0;
		assert_int_equal(charset_to_utf8(&b, c->charset, c->in,
		    c->len, &flags), 0);
		snprintf(what, sizeof what, "charset %s case %zu",
		    c->charset != NULL ? c->charset : "(none)", i);
		assert_str_eq_msg(what, b.data != NULL ? b.data : "", c->want);
		if (flags != c->flags)
			fail_msg("%s: flags got %d, want %d", what, flags,
			    c->flags);
		buf_free(&b);
	}
	assert_true(charset_known("UTF-8"));
	assert_true(charset_known("iso-8859-2"));
	assert_false(charset_known("x-nonsense"));

	/* At the cap: whole characters only. */
	buf_init(&b, 5);
	assert_int_equal(charset_to_utf8(&b, "latin1", S("\xe9\xe9\xe9"),
	    NULL), -1);
	assert_str_eq_msg("capped", b.data, "\xc3\xa9\xc3\xa9");
	buf_free(&b);
}

/* --- HTML ---------------------------------------------------------------- */

struct html_case {
	const char	*in;
	const char	*want;
};

static const struct html_case html_cases[] = {
	{ "<p>a</p><p>b</p>", "a\n\nb" },
	{ "a<br>b<br/><br>c", "a\nb\n\nc" },
	{ "<div>a</div><div>b</div>", "a\nb" },
	{ "<ul><li>one</li><li>two</li></ul>", "one\ntwo" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>",
	  "a b\nc" },
	{ "<script>alert(1)</script>y", "y" },
	{ "<SCRIPT type=x>a</SCRIPT >y", "y" },
	{ "<style>p { color: red }</style>z", "z" },
	{ "<head><title>T</title><style>x</style></head><body>b</body>",
	  "b" },
	{ "<script>never closed", "" },
	{ "<!-- hidden <p>x</p> -->shown", "shown" },
	{ "<!--[if mso]><xml><o:x>96</o:x></xml><![endif]-->t", "t" },
	{ "<xml><o:OfficeDocumentSettings>96</o:OfficeDocumentSettings>"
	  "</xml>t", "t" },
	{ "<!DOCTYPE html><?xml x?>x", "x" },
	{ "&amp;&lt;&gt;&quot;&#39;&#x41;&eacute;", "&<>\"'A\xc3\xa9" },
	{ "a&nbsp;&nbsp;b", "a b" },
	{ "&#128;&#x80;", "\xe2\x82\xac\xe2\x82\xac" },
	{ "&#0;&#xD800;&#99999999999;&#x110000;",
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "&bogus; &amp &copy2024 &#; &", "&bogus; & \xc2\xa9" "2024 &#; &" },
	{ "&notit;", "\xc2\xac" "it;" },
	{ "&hellip;&mdash;&rsquo;", "\xe2\x80\xa6\xe2\x80\x94\xe2\x80\x99" },
	{ "a  \n\t  b", "a b" },
	{ "<pre>a\n  b</pre>c", "a\n  b\n\nc" },
	{ "a < b and c > d", "a < b and c > d" },
	{ "<p>unterminated <b", "unterminated" },
	{ "<a href='x>y' title=\"<p>\">link</a>", "link" },
	{ "x&shy;y", "xy" },
	{ "\xff<p>ok", "\xef\xbf\xbd\n\nok" },
	{ "<p></p><p></p><p>x</p>", "x" },
	{ "<p>x</p><p>&nbsp;</p><p>y</p>", "x\n\ny" },
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "", "" },
};

static void
test_html(void **state)
{
	const struct html_case	*c;
	struct buf		 b;
	size_t			 i;
	char			 what[160];

	for (i = 0; i < sizeof html_cases / sizeof html_cases[0]; i++) {
		c = &html_cases[i];
		buf_init(&b, BUF_NOMAX);
		assert_int_equal(html_text(&b, c->in, strlen(c->in)), 0);
		snprintf(what, sizeof what, "html \"%s\"", c->in);
		assert_str_eq_msg(what, b.data != NULL ? b.data : "", c->want);
		buf_free(&b);
	}

	/* The cap. */
	buf_init(&b, 4);
	assert_int_equal(html_text(&b, S("<p>abcdef</p>")), -1);
	assert_true(b.len <= 4);
	buf_free(&b);
}

/* Many '&' and '<' do not make it slow. */
static void
test_html_long(void **state)
{
	struct buf	 b;
	char		*s;
	size_t		 i, n = 2000000;

	s = malloc(n + 1);
	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = "&abcdefghijklmnopqrstuvwxyz0123456789<a"[i % 39];
	s[n] = '\0';
	buf_init(&b, BUF_NOMAX);
	assert_int_equal(html_text(&b, s, n), 0);
	buf_free(&b);
	free(s);
}

/* --- whole messages -------------------------------------------------------- */

struct msg_case {
	const char		*name;
	const char		*raw;
	enum message_status	 status;
	const char		*detail;	/* status_detail contains it */
	const char		*subject;	/* NULL: not checked */
	const char		*from_name;
	const char		*phrase;	/* body_text contains it */
	const char		*absent;	/* body_text does not */
	size_t			 nattachments;
	const char		*filename;	/* of the first attachment */
};

static const struct msg_case msg_cases[] = {
	{ "no MIME at all",
	  "From: a@example.org\r\nSubject: hi\r\n\r\nHello\r\nthere\r\n",
	  MESSAGE_OK, NULL, "hi", "", "Hello\nthere", "\r", 0, NULL },
	{ "nested multiparts",
	  "From: \"Doe, Jane\" <j@example.org>\n"
	  "Subject: nested\n"
	  "MIME-Version: 1.0\n"
	  "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	  "preamble\n"
	  "--outer\n"
	  "Content-Type: multipart/alternative; boundary=inner\n\n"
	  "--inner\n"
	  "Content-Type: text/html; charset=utf-8\n\n"
	  "<p>HTML version</p>\n"
	  "--inner\n"
	  "Content-Type: text/plain; charset=utf-8\n\n"
	  "Plain version\n"
	  "--inner--\n"
	  "--outer\n"
	  "Content-Type: application/pdf; name=\"a.pdf\"\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  "JVBERi0=\n"
	  "--outer--\n"
	  "epilogue\n",
	  MESSAGE_OK, NULL, "nested", "Doe, Jane", "Plain version",
	  "HTML version", 1, "a.pdf" },
	{ "plain then html in mixed",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\nfirst part\n"
	  "--b\nContent-Type: text/html\n\n<p>second &amp; part</p>\n"
	  "--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, "first part\n\nsecond & part", NULL,
	  0, NULL },
	{ "missing closing boundary",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\nfirst\n"
	  "--b\nContent-Type: text/plain\n\nsecond\n",
	  MESSAGE_DEFECTIVE, "not closed", NULL, NULL, "first\n\nsecond",
	  NULL, 0, NULL },
	{ "nested, none closed",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b1\n\n"
	  "--b1\nContent-Type: multipart/mixed; boundary=b2\n\n"
	  "--b2\nContent-Type: multipart/mixed; boundary=b3\n\n"
	  "--b3\nContent-Type: text/plain\n\ndeep text\n",
	  MESSAGE_DEFECTIVE, "not closed", NULL, NULL, "deep text", NULL, 0,
	  NULL },
	{ "multipart without boundary",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed\n\n"
	  "--x\nContent-Type: text/plain\n\nstill here\n--x--\n",
	  MESSAGE_DEFECTIVE, "without a boundary", NULL, NULL, "still here",
	  NULL, 0, NULL },
	{ "boundary=\"\\\"\" (libetpan crasher) at the top",
	  "From: a@example.org\n"
	  "Subject: crasher\n"
	  "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
	  "--\"\nContent-Type: text/plain\n\nread anyway\n--\"--\n",
	  MESSAGE_DEFECTIVE, "cannot read safely", "crasher", NULL,
	  "read anyway", NULL, 0, NULL },
	{ "boundary=\"\\\"\" nested",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=ok\n\n"
	  "--ok\nContent-Type: text/plain\n\nbefore the bad part\n"
	  "--ok\nContent-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
	  "--\"\nContent-Type: text/plain\n\nhidden\n--\"--\n"
	  "--ok--\n",
	  MESSAGE_DEFECTIVE, "cannot read safely", NULL, NULL,
	  "before the bad part", "hidden", 0, NULL },
	{ "boundary=\"\\\"\" behind a comment",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; (x) BOUNDARY=\"\\\"\"\n\n"
	  "--\"\nContent-Type: text/plain\n\nread anyway\n--\"--\n",
	  MESSAGE_DEFECTIVE, "cannot read safely", NULL, NULL,
	  "read anyway", NULL, 0, NULL },
	{ "boundary=\"\\\"\" in a second Content-Type",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=fine\n"
	  "Content-Type: multipart/mixed; boundary=\"\\\"\"\n\n"
	  "--fine\nContent-Type: text/plain\n\nread anyway\n--fine--\n",
	  MESSAGE_DEFECTIVE, "cannot read safely", NULL, NULL,
	  "read anyway", NULL, 0, NULL },
	{ "RFC 2231 filename",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\nsee attached\n"
	  "--b\nContent-Type: application/octet-stream\n"
	  "Content-Disposition: attachment;\n"
	  " filename*0*=UTF-8''r%C3%A9sum%C3%A9;\n filename*1=\" final.pdf\"\n"
	  "\nAAAA\n--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, "see attached", NULL, 1,
	  "r\xc3\xa9sum\xc3\xa9 final.pdf" },
	{ "RFC 2231 name*, latin-1",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: application/pdf; name*=iso-8859-1'fr'caf%E9.pdf\n"
	  "\nAAAA\n--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, NULL, NULL, 1, "caf\xc3\xa9.pdf" },
	{ "RFC 2047 filename",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: application/msword\n"
	  "Content-Disposition: attachment; "
	  "filename=\"=?UTF-8?Q?caf=C3=A9.doc?=\"\n"
	  "\nAAAA\n--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, NULL, NULL, 1, "caf\xc3\xa9.doc" },
	{ "8-bit latin-1 headers",
	  "From: Jos\xe9 Garc\xed" "a <jose@example.org>\n"
	  "Subject: Caf\xe9" " meeting\n\nbody\n",
	  MESSAGE_DEFECTIVE, "repaired", "Caf\xc3\xa9 meeting",
	  "Jos\xc3\xa9 Garc\xc3\xad" "a", "body", NULL, 0, NULL },
	{ "8-bit UTF-8 headers",
	  "From: Jos\xc3\xa9 <jose@example.org>\n"
	  "Subject: Caf\xc3\xa9\n\nbody\n",
	  MESSAGE_OK, NULL, "Caf\xc3\xa9", "Jos\xc3\xa9", "body", NULL, 0,
	  NULL },
	{ "encoded display name in quotes",
	  "From: \"=?UTF-8?Q?J=C3=B6rg?=\" <j@example.org>\n\nx\n",
	  MESSAGE_OK, NULL, NULL, "J\xc3\xb6rg", "x", NULL, 0, NULL },
	{ "windows-1252 QP body",
	  "From: a@example.org\n"
	  "Content-Type: text/plain; charset=windows-1252\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "It=92s =80100 =\nand more\n",
	  MESSAGE_OK, NULL, NULL, NULL,
	  "It\xe2\x80\x99s \xe2\x82\xac" "100 and more", NULL, 0, NULL },
	{ "invalid UTF-8 body",
	  "From: a@example.org\n"
	  "Content-Type: text/plain; charset=utf-8\n\nbad \xff byte\n",
	  MESSAGE_DEFECTIVE, "invalid bytes", NULL, NULL,
	  "bad \xef\xbf\xbd byte", NULL, 0, NULL },
	{ "unknown charset",
	  "From: a@example.org\n"
	  "Content-Type: text/plain; charset=x-klingon\n\ncaf\xe9\n",
	  MESSAGE_DEFECTIVE, "unknown charset x-klingon", NULL, NULL,
	  "caf\xc3\xa9", NULL, 0, NULL },
	{ "truncated base64 text",
	  "From: a@example.org\n"
	  "Content-Type: text/plain\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  "SGVsbG8gd29y\n",
	  MESSAGE_OK, NULL, NULL, NULL, "Hello wor", NULL, 0, NULL },
	{ "junk in base64 text",
	  "From: a@example.org\n"
	  "Content-Type: text/plain\n"
	  "Content-Transfer-Encoding: base64\n\n"
	  "SGVs!!bG8=\n",
	  MESSAGE_DEFECTIVE, "invalid base64", NULL, NULL, "Hel", NULL, 0,
	  NULL },
	{ "html without charset, meta says latin-1",
	  "From: a@example.org\n"
	  "Content-Type: text/html\n\n"
	  "<meta http-equiv=\"Content-Type\" content=\"text/html; "
	  "charset=iso-8859-1\"><p>caf\xe9</p>\n",
	  MESSAGE_OK, NULL, NULL, NULL, "caf\xc3\xa9", NULL, 0, NULL },
	{ "attached message is not the text",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\nforwarded below\n"
	  "--b\nContent-Type: message/rfc822\n\n"
	  "From: b@example.org\nSubject: inner\n\ninner text\n"
	  "--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, "forwarded below", "inner text", 1,
	  "" },
	{ "text attachment is not the text",
	  "From: a@example.org\n"
	  "Content-Type: multipart/mixed; boundary=b\n\n"
	  "--b\nContent-Type: text/plain\n\nbody\n"
	  "--b\nContent-Type: text/plain\n"
	  "Content-Disposition: attachment; filename=notes.txt\n\n"
	  "attached notes\n--b--\n",
	  MESSAGE_OK, NULL, NULL, NULL, "body", "attached notes", 1,
	  "notes.txt" },
	{ "NUL in body", "From: a@example.org\n\na\0b",
	  MESSAGE_OK, NULL, NULL, NULL, "a", NULL, 0, NULL },
	{ "header lines that are not fields",
	  "From: a@example.org\nthis is not a field\n: nor this\n"
	  "Subject: still read\n\nbody\n",
	  MESSAGE_DEFECTIVE, "not a field", "still read", NULL, "body",
	  NULL, 0, NULL },
	{ "mbox From line", "From someone@example.org Sat Jan  3 01:05:34 "
	  "1996\nFrom: a@example.org\nSubject: s\n\nbody\n",
	  MESSAGE_OK, NULL, "s", NULL, "body", NULL, 0, NULL },
	{ "headers only", "From: a@example.org\nSubject: only",
	  MESSAGE_OK, NULL, "only", NULL, NULL, NULL, 0, NULL },
	{ "empty", "", MESSAGE_OK, NULL, "", "", NULL, NULL, 0, NULL },
	{ "unparseable From",
	  "From: <<<@@@>>> Bob <bob@example.org\nSubject: x\n\nbody\n",
	  MESSAGE_DEFECTIVE, "unreadable From", "x", NULL, "body", NULL, 0,
	  NULL },
};

static void
test_messages(void **state)
{
	const struct msg_case	*c;
	struct message		*m;
	size_t			 i, len;
	char			 what[160];

	for (i = 0; i < sizeof msg_cases / sizeof msg_cases[0]; i++) {
		c = &msg_cases[i];
		len = strlen(c->raw);
		if (strcmp(c->name, "NUL in body") == 0)
			len += 2;	/* "a\0b" */
		m = mime_parse(c->raw, len, NULL);
		if (m->status != c->status)
			fail_msg("%s: status got %s (%s), want %s", c->name,
			    status_name(m->status), m->status_detail,
			    status_name(c->status));
		if (c->detail != NULL && !contains(m->status_detail,
		    c->detail))
			fail_msg("%s: status_detail got \"%s\", want it to "
			    "contain \"%s\"", c->name, m->status_detail,
			    c->detail);
		if (c->subject != NULL) {
			snprintf(what, sizeof what, "%s: subject", c->name);
			assert_str_eq_msg(what, m->subject, c->subject);
		}
		if (c->from_name != NULL) {
			snprintf(what, sizeof what, "%s: from name", c->name);
			assert_str_eq_msg(what, m->from.name, c->from_name);
		}
		if (c->phrase != NULL && !contains(m->body_text, c->phrase))
			fail_msg("%s: body_text got \"%s\", want it to "
			    "contain \"%s\"", c->name, m->body_text,
			    c->phrase);
		if (c->absent != NULL && contains(m->body_text, c->absent))
			fail_msg("%s: body_text got \"%s\", want no \"%s\"",
			    c->name, m->body_text, c->absent);
		if (m->nattachments != c->nattachments)
			fail_msg("%s: nattachments got %zu, want %zu",
			    c->name, m->nattachments, c->nattachments);
		if (c->filename != NULL && m->nattachments > 0) {
			snprintf(what, sizeof what, "%s: filename", c->name);
			assert_str_eq_msg(what, m->attachments[0].filename,
			    c->filename);
		}
		/* Every string is valid UTF-8 and NUL-free (strlen'd). */
		message_free(m);
	}
}

/* Build "levels" nested multiparts, each with a text part. */
static char *
make_nested(size_t levels)
{
	struct buf	b;
	size_t		i;

	buf_init(&b, BUF_NOMAX);
	(void)buf_printf(&b, "From: a@example.org\nSubject: deep\n"
	    "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (i = 1; i < levels; i++)
		(void)buf_printf(&b, "--b%zu\nContent-Type: text/plain\n\n"
		    "level %zu\n--b%zu\nContent-Type: multipart/mixed; "
		    "boundary=b%zu\n\n", i - 1, i, i - 1, i);
	(void)buf_printf(&b, "--b%zu\nContent-Type: text/plain\n\nleaf\n",
	    levels - 1);
	for (i = levels; i > 0; i--)
		(void)buf_printf(&b, "--b%zu--\n", i - 1);
	return buf_detach(&b, NULL);
}

static void
test_limits(void **state)
{
	struct mime_parse_limits	 lim;
	struct message			*m;
	struct buf			 b;
	char				*raw;
	size_t				 i;

	/* Depth: what is above the limit is read, the rest is not. */
	mime_parse_limits_default(&lim);
	lim.max_depth = 5;
	raw = make_nested(10);
	m = parse_str(raw, &lim);
	if (m->status != MESSAGE_LIMITS || !contains(m->status_detail,
	    "nested deeper than 5"))
		fail_msg("depth: got %s (%s), want LIMITS, nested deeper "
		    "than 5", status_name(m->status), m->status_detail);
	if (!contains(m->body_text, "level 4") ||
	    contains(m->body_text, "leaf"))
		fail_msg("depth: body_text got \"%s\", want level 4 and "
		    "no leaf", m->body_text);
	if (m->depth > 5)
		fail_msg("depth: got %zu, want <= 5", m->depth);
	message_free(m);

	/* Within the limit it is all there. */
	m = parse_str(raw, NULL);
	if (m->status != MESSAGE_OK || !contains(m->body_text, "leaf") ||
	    m->depth != 10)
		fail_msg("10 levels: got %s (%s) depth %zu, want OK, leaf, "
		    "10", status_name(m->status), m->status_detail, m->depth);
	message_free(m);
	free(raw);

	/* 10,000 levels: cut at the default limit, quickly. */
	raw = make_nested(10000);
	m = parse_str(raw, NULL);
	if (m->status != MESSAGE_LIMITS || m->depth > MIME_PARSE_MAX_DEPTH)
		fail_msg("10000 levels: got %s (%s) depth %zu",
		    status_name(m->status), m->status_detail, m->depth);
	message_free(m);
	free(raw);

	/* Parts. */
	buf_init(&b, BUF_NOMAX);
	(void)buf_printf(&b, "From: a@example.org\n"
	    "Content-Type: multipart/mixed; boundary=b\n\n");
	for (i = 0; i < 10; i++)
		(void)buf_printf(&b, "--b\nContent-Type: text/plain\n\n"
		    "part %zu\n", i);
	(void)buf_printf(&b, "--b--\n");
	mime_parse_limits_default(&lim);
	lim.max_parts = 4;
	m = mime_parse(b.data, b.len, &lim);
	if (m->status != MESSAGE_LIMITS || !contains(m->status_detail,
	    "more than 4 parts") || !contains(m->body_text, "part 2") ||
	    contains(m->body_text, "part 3"))
		fail_msg("parts: got %s (%s) text \"%s\"",
		    status_name(m->status), m->status_detail, m->body_text);
	message_free(m);

	/* Size. */
	mime_parse_limits_default(&lim);
	lim.max_size = 60;
	m = mime_parse(b.data, b.len, &lim);
	if (m->status != MESSAGE_LIMITS || !contains(m->status_detail,
	    "larger than 60 bytes"))
		fail_msg("size: got %s (%s)", status_name(m->status),
		    m->status_detail);
	message_free(m);

	/* Text. */
	mime_parse_limits_default(&lim);
	lim.max_text = 10;
	m = mime_parse(b.data, b.len, &lim);
	if (m->status != MESSAGE_LIMITS || strlen(m->body_text) > 10 ||
	    !contains(m->status_detail, "text longer than 10"))
		fail_msg("text: got %s (%s) \"%s\"", status_name(m->status),
		    m->status_detail, m->body_text);
	message_free(m);

	/* Header fields and addresses. */
	buf_reset(&b);
	(void)buf_printf(&b, "From: a@example.org\n");
	for (i = 0; i < 20; i++)
		(void)buf_printf(&b, "To: t%zu@example.org, u%zu@example.org\n",
		    i, i);
	(void)buf_printf(&b, "\nbody\n");
	mime_parse_limits_default(&lim);
	lim.max_headers = 5;
	lim.max_addresses = 7;
	m = mime_parse(b.data, b.len, &lim);
	if (m->status != MESSAGE_LIMITS || m->nheaders != 5 || m->nto != 7)
		fail_msg("headers: got %s (%s) %zu headers %zu to",
		    status_name(m->status), m->status_detail, m->nheaders,
		    m->nto);
	message_free(m);
	buf_free(&b);
}

/*
 * tests/data/hostile in-process (the guards in mime-parse.c must hold
 * without the child; files named crash-*.eml are libetpan crashers the
 * guards do not catch: test-parser.c runs those).  Whatever the status,
 * the result must pack and unpack: every string clean UTF-8.
 */
struct hostile_case {
	const char		*file;
	enum message_status	 status;
	const char		*phrase;	/* body_text contains it */
};

static const struct hostile_case hostile_cases[] = {
	{ "boundary-quote.eml", MESSAGE_DEFECTIVE, "hello" },
	{ "boundary-quote-nested.eml", MESSAGE_DEFECTIVE, "before" },
	{ "boundary-quote-comment.eml", MESSAGE_DEFECTIVE, "hello" },
	{ "boundary-quote-message.eml", MESSAGE_DEFECTIVE, "hello" },
	{ "boundary-quote-header-text.eml", MESSAGE_DEFECTIVE, "Xbefore" },
	{ "boundary-quote-folded.eml", MESSAGE_DEFECTIVE, "hello" },
	{ "qp-end-hex.eml", MESSAGE_OK, "the end" },
	{ "truncated-base64.eml", MESSAGE_DEFECTIVE, "Hello, this is cut" },
	{ "unclosed-nesting.eml", MESSAGE_LIMITS, NULL },
	{ "message-nesting.eml", MESSAGE_LIMITS, NULL },
	{ "missing-boundary.eml", MESSAGE_DEFECTIVE, "text" },
	{ "8bit-headers.eml", MESSAGE_DEFECTIVE, "8-bit body \xc3\xa9" },
	{ "nul-bytes.eml", MESSAGE_DEFECTIVE, NULL },
	{ "binary-garbage.eml", MESSAGE_DEFECTIVE, NULL },
	{ "empty.eml", MESSAGE_OK, NULL },
};

static void
test_hostile(void **state)
{
	const struct hostile_case	*c;
	struct message			*m, *u;
	struct dirent			*de;
	struct buf			 b, packed;
	DIR				*d;
	char				 dir[4200], path[8400], *cause;
	char				*exact;
	size_t				 i, n = 0, len;

	snprintf(dir, sizeof dir, "%s/tests/data/hostile", test_top());
	if ((d = opendir(dir)) == NULL)
		fail_msg("%s: cannot open", dir);
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0 ||
		    strncmp(de->d_name, "crash-", 6) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		buf_init(&b, BUF_NOMAX);
		if (buf_read_file(&b, path) == -1)
			fail_msg("%s: cannot read", path);
		/* Exactly its size: a read past the end is an ASan error. */
		exact = xmalloc(b.len > 0 ? b.len : 1);
		memcpy(exact, b.data, b.len);
		m = mime_parse(exact, b.len, NULL);
		free(exact);
		buf_init(&packed, BUF_NOMAX);
		assert_int_equal(message_pack(m, &packed), 0);
		cause = NULL;
		if ((u = message_unpack(packed.data, packed.len, &cause)) ==
		    NULL)
			fail_msg("%s: does not unpack: %s", de->d_name, cause);
		message_free(u);
		buf_free(&packed);

		for (i = 0; i < sizeof hostile_cases /
		    sizeof hostile_cases[0]; i++) {
			c = &hostile_cases[i];
			if (strcmp(c->file, de->d_name) != 0)
				continue;
			if (m->status != c->status)
				fail_msg("%s: status got %s (%s), want %s",
				    c->file, status_name(m->status),
				    m->status_detail, status_name(c->status));
			if (c->phrase != NULL &&
			    !contains(m->body_text, c->phrase))
				fail_msg("%s: body_text got \"%s\", want "
				    "\"%s\"", c->file, m->body_text,
				    c->phrase);
		}
		message_free(m);
		buf_free(&b);
		n++;
	}
	closedir(d);
	if (n < 20)
		fail_msg("%zu hostile files, want at least 20", n);
}

/* --- the packed form ------------------------------------------------------- */

static void
test_pack(void **state)
{
	struct message	*m, *u;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i;

	if (test_shared() == NULL)
		skip();		/* ../shared (the corpus) is not here */
	m = corpus_parse("016.eml");
	buf_init(&b, BUF_NOMAX);
	assert_int_equal(message_pack(m, &b), 0);
	u = message_unpack(b.data, b.len, &cause);
	if (u == NULL)
		fail_msg("unpack: %s", cause);
	assert_int_equal(u->status, m->status);
	assert_str_eq_msg("subject", u->subject, m->subject);
	assert_str_eq_msg("body", u->body_text, m->body_text);
	assert_str_eq_msg("from", u->from.addr, m->from.addr);
	assert_int_equal(u->nheaders, m->nheaders);
	assert_str_eq_msg("header", message_header(u, "thread-index"),
	    message_header(m, "thread-index"));
	assert_int_equal(u->nattachments, 1);
	assert_str_eq_msg("filename", u->attachments[0].filename,
	    "evidence_review_scope.pdf");
	assert_int_equal(u->attachments[0].size, 973);
	assert_int_equal(u->nto, m->nto);
	message_free(u);

	/* Every truncation and every single-byte change is caught or ok. */
	for (i = 0; i < b.len; i++) {
		u = message_unpack(b.data, i, &cause);
		if (u != NULL)
			fail_msg("unpack of %zu of %zu bytes succeeded", i,
			    b.len);
		free(cause);
		cause = NULL;
	}
	for (i = 0; i < b.len; i += 7) {
		char	saved = b.data[i];

		b.data[i] = (char)0xff;
		u = message_unpack(b.data, b.len, &cause);
		message_free(u);
		free(cause);
		cause = NULL;
		b.data[i] = saved;
	}
	(void)buf_addc(&b, 'x');
	u = message_unpack(b.data, b.len, &cause);
	assert_null(u);
	assert_non_null(strstr(cause, "left over"));
	free(cause);
	buf_free(&b);
	message_free(m);

	/* A failed message packs too. */
	m = message_new_failed("parser child killed by signal 11");
	buf_init(&b, BUF_NOMAX);
	assert_int_equal(message_pack(m, &b), 0);
	u = message_unpack(b.data, b.len, &cause);
	assert_non_null(u);
	assert_int_equal(u->status, MESSAGE_FAILED);
	assert_str_eq_msg("failed detail", u->status_detail,
	    "parser child killed by signal 11");
	assert_str_eq_msg("failed subject", u->subject, "");
	message_free(u);
	message_free(m);
	buf_free(&b);
}

/* --- one attachment's bytes (mime_parse_part()) --------------------------- */

/*
 * Three attachments: a base64 one holding NULs and bytes above 0x7f, a
 * quoted-printable one, and an attached message.  AQIAAwD/ is
 * 01 02 00 03 00 ff.
 */
static const char with_parts[] =
    "From: a@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nThe text.\r\n"
    "--b\r\nContent-Type: application/octet-stream; name=\"bin.dat\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nAQIAAwD/\r\n"
    "--b\r\nContent-Type: text/plain; name=\"note.txt\"\r\n"
    "Content-Disposition: attachment\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"
    "--b\r\nContent-Type: message/rfc822\r\n\r\n"
    "Subject: inner\r\n\r\nInner text.\r\n"
    "--b--\r\n";

static void
test_part(void **state)
{
	static const struct {
		size_t		 part;
		const char	*data;	/* NULL: no bytes anywhere */
		size_t		 len;
	} cases[] = {
		{ 0, "\x01\x02\x00\x03\x00\xff", 6 },
		{ 1, "caf\xc3\xa9", 5 },
		{ 2, "Subject: inner\r\n\r\nInner text.", 29 },
		{ 3, NULL, 0 },
		{ MIME_PARSE_NO_PART, NULL, 0 },
	};
	struct message	*m, *u;
	struct buf	 b;
	char		*cause = NULL;
	size_t		 i, j;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		m = mime_parse_part(with_parts, strlen(with_parts), NULL,
		    cases[i].part);
		check_int("attachments", m->nattachments, 3);
		assert_str_eq_msg("the text", m->body_text, "The text.");
		for (j = 0; j < m->nattachments; j++) {
			if (j != cases[i].part || cases[i].data == NULL) {
				if (m->attachments[j].data != NULL)
					fail_msg("part %zu: attachment %zu has "
					    "bytes, want none", cases[i].part,
					    j);
				continue;
			}
			check_int("size", m->attachments[j].size,
			    cases[i].len);
			assert_non_null(m->attachments[j].data);
			assert_memory_equal(m->attachments[j].data,
			    cases[i].data, cases[i].len);
		}

		/* The bytes cross the pipe whole, NULs and all. */
		buf_init(&b, BUF_NOMAX);
		assert_int_equal(message_pack(m, &b), 0);
		if ((u = message_unpack(b.data, b.len, &cause)) == NULL)
			fail_msg("part %zu: unpack: %s", cases[i].part, cause);
		for (j = 0; j < u->nattachments; j++) {
			assert_true((u->attachments[j].data == NULL) ==
			    (m->attachments[j].data == NULL));
			if (u->attachments[j].data != NULL)
				assert_memory_equal(u->attachments[j].data,
				    m->attachments[j].data,
				    m->attachments[j].size);
		}
		message_free(u);
		/* Every truncation is caught, the bytes' too. */
		for (j = 0; j < b.len; j++) {
			if ((u = message_unpack(b.data, j, &cause)) != NULL)
				fail_msg("part %zu: unpack of %zu of %zu bytes "
				    "succeeded", cases[i].part, j, b.len);
			free(cause);
			cause = NULL;
		}
		buf_free(&b);
		message_free(m);
	}

	/* A flag that is neither 0 nor 1 is refused. */
	m = mime_parse_part(with_parts, strlen(with_parts), NULL, 0);
	buf_init(&b, BUF_NOMAX);
	assert_int_equal(message_pack(m, &b), 0);
	/* The last attachment's flag: the last 4 bytes (it has no bytes). */
	b.data[b.len - 4] = 2;
	assert_null(message_unpack(b.data, b.len, &cause));
	assert_non_null(strstr(cause, "flag"));
	free(cause);
	buf_free(&b);
	message_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_corpus_details),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_header_long),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_long),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_pack),
		cmocka_unit_test(test_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
