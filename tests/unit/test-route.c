/*
 * test-route.c - the routing rules: each operator and part, all/any/not,
 * scoring, thresholds, first-match order and the default lead (one table
 * of small rule sets), then the shipped config/postroom.conf on messages
 * written for the leads' remits (topic beats region), the evidence and
 * the explanation, configuration errors, references and bounces.
 *
 * Messages are built by hand: no parser is needed here.
 */
#include "testutil.h"

#include <unistd.h>

#include "conf.h"
#include "message.h"
#include "route.h"

#define NHDR	3

static const char *const test_leads =
    "leads = {\n"
    "  a = { addresses = [ \"a@example.org\" ]; };\n"
    "  b = { addresses = [ \"b@example.org\" ]; };\n"
    "  c = { addresses = [ \"c@example.org\" ]; };\n"
    "  general = { addresses = [ \"g@example.org\" ]; };\n"
    "};\n";

/* Load a configuration from text; NULL with the errors printed. */
static struct conf *
test_load(const char *text)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	char			 path[] = "/tmp/test-route.XXXXXX";
	size_t			 i;
	int			 fd;
	FILE			*f;

	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	conf = conf_load(path, NULL, 0, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	unlink(path);
	return conf;
}

static struct conf *
test_load_rules(const char *rules)
{
	char		*text;
	struct conf	*conf;
	size_t		 size;

	size = strlen(test_leads) + strlen(rules) + 32;
	assert_non_null(text = malloc(size));
	snprintf(text, size, "%srules = (\n%s\n);\n", test_leads, rules);
	conf = test_load(text);
	free(text);
	return conf;
}

struct tmsg {
	const char	*from;
	const char	*from_name;
	const char	*to;
	const char	*subject;
	const char	*body;
	const char	*hdr[NHDR][2];
	const char	*att;
	const char	*att_type;
};

/* Storage for one hand-built message. */
struct tbuild {
	struct message			m;
	struct message_header		h[NHDR];
	struct message_address		to;
	struct message_attachment	att;
};

static void
test_message(struct tbuild *b, const struct tmsg *t)
{
	struct message	*m = &b->m;
	size_t		 i;

	memset(b, 0, sizeof *b);
	m->status_detail = m->return_path = m->message_id = m->in_reply_to =
	    m->references = m->date = m->report_type = "";
	m->sender.name = m->sender.addr = m->reply_to.name =
	    m->reply_to.addr = "";
	m->from.addr = (char *)(t->from != NULL ? t->from : "jo@example.net");
	m->from.name = (char *)(t->from_name != NULL ? t->from_name : "");
	m->subject = (char *)(t->subject != NULL ? t->subject : "");
	m->body_text = (char *)(t->body != NULL ? t->body : "");
	b->to.name = "";
	b->to.addr = (char *)(t->to != NULL ? t->to : "enquiries@example.org");
	m->to = &b->to;
	m->nto = 1;
	for (i = 0; i < NHDR && t->hdr[i][0] != NULL; i++) {
		b->h[i].name = (char *)t->hdr[i][0];
		b->h[i].value = (char *)t->hdr[i][1];
	}
	m->headers = b->h;
	m->nheaders = i;
	if (t->att != NULL) {
		b->att.filename = (char *)t->att;
		b->att.type = (char *)(t->att_type != NULL ? t->att_type :
		    "application/octet-stream");
		b->att.size = 100;
		m->attachments = &b->att;
		m->nattachments = 1;
	}
}

struct route_case {
	const char	*name;
	const char	*rules;
	struct tmsg	 msg;
	const char	*want_lead;
	const char	*want_rule;	/* "" for the default lead */
};

#define R(n, l, cond)	"{ name = \"" n "\"; lead = \"" l "\"; " cond " }"

static const struct route_case route_cases[] = {
	/* Operators. */
	{ "contains, any case",
	  R("r", "a", "all = \"subject contains 'HUDD'\";"),
	  { .subject = "Next huddles?" }, "a", "r" },
	{ "contains, UTF-8 case", R("r", "a",
	  "all = \"body contains '\xc3\x89VALUATION'\";"),
	  { .body = "une \xc3\xa9valuation rapide" }, "a", "r" },
	{ "contains misses", R("r", "a", "all = \"subject contains 'xyz'\";"),
	  { .subject = "Next huddles?" }, "general", "" },
	{ "word is whole", R("r", "a", "all = \"body word net\";"),
	  { .body = "our network" }, "general", "" },
	{ "phrase across punctuation and case", R("r", "a",
	  "all = \"text phrase 'analyst network'\";"),
	  { .body = "the Analyst-Network's huddles" }, "a", "r" },
	{ "word with a trailing *", R("r", "a",
	  "all = \"subject word 'evaluat*'\";"),
	  { .subject = "Evaluation guide" }, "a", "r" },
	{ "& and and", R("r", "a",
	  "all = \"body phrase 'knowledge and evidence'\";"),
	  { .body = "the Knowledge & Evidence Network" }, "a", "r" },
	{ "word in Greek", R("r", "a",
	  "all = \"body word '\xce\x91\xce\x98\xce\x97\xce\x9d\xce\x91'\";"),
	  { .body = "\xce\xb1\xce\xb8\xce\xb7\xce\xbd\xce\xb1!" }, "a", "r" },
	{ "regex", R("r", "a", "all = \"subject regex '^(re|fwd?):'\";"),
	  { .subject = "FW: hello" }, "a", "r" },
	{ "regex misses", R("r", "a", "all = \"subject regex '^(re|fwd?):'\";"),
	  { .subject = "hello: FW" }, "general", "" },
	{ "regex folds non-ASCII", R("r", "a",
	  "all = \"body regex '\xc5\xbb\xc3\x93\xc5\x81W'\";"),
	  { .body = "\xc5\xbc\xc3\xb3\xc5\x82w" }, "a", "r" },
	{ "domain, subdomain", R("r", "a", "all = \"from domain nhs.net\";"),
	  { .from = "jo@mail.NHS.net" }, "a", "r" },
	{ "domain, not a suffix", R("r", "a", "all = \"from domain nhs.net\";"),
	  { .from = "jo@notnhs.net" }, "general", "" },
	{ "domain with @", R("r", "a", "all = \"from domain '@example.com'\";"),
	  { .from = "jo@example.com" }, "a", "r" },
	{ "is", R("r", "a", "all = \"from is 'JO@example.net'\";"),
	  { .from = "jo@example.net" }, "a", "r" },
	{ "is is whole", R("r", "a", "all = \"from is 'jo@example'\";"),
	  { .from = "jo@example.net" }, "general", "" },
	{ "= is is", R("r", "a", "all = \"subject = hello\";"),
	  { .subject = "Hello" }, "a", "r" },

	/* Parts. */
	{ "from_name", R("r", "a", "all = \"from_name word smith\";"),
	  { .from_name = "Jo Smith" }, "a", "r" },
	{ "plus address", R("r", "a", "all = \"plus is evaluation\";"),
	  { .to = "enquiries+evaluation@example.org" }, "a", "r" },
	{ "plus address in Delivered-To", R("r", "a",
	  "all = \"plus is evaluation\";"),
	  { .hdr = { { "Delivered-To",
	    "<enquiries+Evaluation@example.org>" } } }, "a", "r" },
	{ "no plus address", R("r", "a", "all = \"plus exists\";"),
	  { .to = "enquiries@example.org" }, "general", "" },
	{ "to contains", R("r", "a", "all = \"to contains '+training@'\";"),
	  { .to = "enquiries+training@example.org" }, "a", "r" },
	{ "header contains", R("r", "a",
	  "all = \"header X-Mailer contains outlook\";"),
	  { .hdr = { { "x-mailer", "Microsoft Outlook 16.0" } } }, "a", "r" },
	{ "header exists", R("r", "a", "all = \"header List-Id exists\";"),
	  { .hdr = { { "List-Id", "" } } }, "a", "r" },
	{ "not header exists, when absent", R("r", "a",
	  "all = \"not header List-Id exists\";"),
	  { .subject = "x" }, "a", "r" },
	{ "second header of a name", R("r", "a",
	  "all = \"header Received contains mx2\";"),
	  { .hdr = { { "Received", "from mx1" }, { "Received", "from mx2" } } },
	  "a", "r" },
	{ "attachment name", R("r", "a", "all = \"attachment word scope\";"),
	  { .att = "evidence-review-scope.pdf" }, "a", "r" },
	{ "attachment type", R("r", "a",
	  "all = \"attachment_type is application/pdf\";"),
	  { .att = "x.pdf", .att_type = "application/pdf" }, "a", "r" },
	{ "no attachment", R("r", "a", "all = \"attachment exists\";"),
	  { .subject = "x" }, "general", "" },
	{ "text is subject or body", R("r", "a", "all = \"text word fees\";"),
	  { .subject = "Course fees" }, "a", "r" },
	{ "empty subject matches nothing", R("r", "a",
	  "all = \"subject regex '^$'\";"), { .body = "x" }, "general", "" },

	/* all / any / not. */
	{ "all needs all", R("r", "a",
	  "all = ( \"subject word a1\", \"body word b1\" );"),
	  { .subject = "a1", .body = "nothing" }, "general", "" },
	{ "any needs one", R("r", "a",
	  "any = ( \"subject word a1\", \"body word b1\" );"),
	  { .subject = "nothing", .body = "b1" }, "a", "r" },
	{ "not excludes", R("r", "a",
	  "any = \"subject word a1\"; not = \"from domain spam.example\";"),
	  { .subject = "a1", .from = "x@spam.example" }, "general", "" },
	{ "nested any(all(), not)", R("r", "a",
	  "all = \"any(all(subject word a1, body word b1), not from domain "
	  "example.net)\";"),
	  { .subject = "a1", .body = "b1" }, "a", "r" },
	{ "nested, neither branch", R("r", "a",
	  "all = \"any(all(subject word a1, body word b1), not from domain "
	  "example.net)\";"),
	  { .subject = "a1", .body = "zz" }, "general", "" },
	{ "not(...) with brackets", R("r", "a",
	  "all = \"not (subject word a1)\";"),
	  { .subject = "b1" }, "a", "r" },
	{ "automatic", R("r", "a", "all = \"automatic\";"),
	  { .hdr = { { "Auto-Submitted", "auto-replied" } } }, "a", "r" },
	{ "automatic, a person", R("r", "a", "all = \"automatic\";"),
	  { .subject = "hi" }, "general", "" },

	/* Order of decision. */
	{ "first plain rule wins",
	  R("one", "a", "all = \"subject word x\";") ","
	  R("two", "b", "all = \"subject word x\";"),
	  { .subject = "x" }, "a", "one" },
	{ "a rule with no conditions matches everything",
	  R("one", "a", "all = \"subject word y\";") ","
	  R("rest", "c", ""),
	  { .subject = "x" }, "c", "rest" },
	{ "highest score wins over order",
	  R("low", "a", "keywords = ( \"alpha: 2\" );") ","
	  R("high", "b", "keywords = ( \"beta: 3\" );"),
	  { .body = "alpha beta" }, "b", "high" },
	{ "score beats a plain rule before it",
	  R("plain", "a", "all = \"body word alpha\";") ","
	  R("scored", "b", "keywords = ( \"alpha\" );"),
	  { .body = "alpha" }, "b", "scored" },
	{ "subject counts double",
	  R("one", "a", "keywords = ( \"alpha: 3\" );") ","
	  R("two", "b", "keywords = ( \"beta: 2\" );"),
	  { .subject = "beta", .body = "alpha" }, "b", "two" },
	{ "a keyword counts once",
	  R("one", "a", "keywords = ( \"alpha: 2\" );") ","
	  R("two", "b", "keywords = ( \"beta: 3\" );"),
	  { .body = "alpha alpha alpha beta" }, "b", "two" },
	{ "tie goes to the earlier rule",
	  R("one", "a", "keywords = ( \"alpha: 2\" );") ","
	  R("two", "b", "keywords = ( \"beta: 2\" );"),
	  { .body = "beta alpha" }, "a", "one" },
	{ "below threshold does not match",
	  R("one", "a", "keywords = ( \"alpha: 2\" ); threshold = 3;"),
	  { .body = "alpha" }, "general", "" },
	{ "at threshold matches",
	  R("one", "a", "keywords = ( \"alpha: 2\", \"beta\" ); "
	  "threshold = 3;"),
	  { .body = "alpha beta" }, "a", "one" },
	{ "below threshold falls to the first plain rule",
	  R("one", "a", "keywords = ( \"alpha: 2\" ); threshold = 3;") ","
	  R("plain", "c", "all = \"body word alpha\";"),
	  { .body = "alpha" }, "c", "plain" },
	{ "negative weight",
	  R("one", "a", "keywords = ( \"alpha: 3\", \"prescription: -5\" );")
	  "," R("two", "b", "keywords = ( \"beta: 1\" );"),
	  { .body = "alpha beta my prescription" }, "b", "two" },
	{ "conditions gate a scoring rule",
	  R("one", "a", "keywords = ( \"alpha: 5\" ); "
	  "all = \"from domain example.com\";") ","
	  R("two", "b", "keywords = ( \"beta: 1\" );"),
	  { .body = "alpha beta", .from = "x@example.net" }, "b", "two" },
	{ "score without keywords",
	  R("auto", "c", "all = \"automatic\"; score = 1000;") ","
	  R("two", "b", "keywords = ( \"beta: 9\" );"),
	  { .body = "beta", .hdr = { { "Precedence", "bulk" } } }, "c",
	  "auto" },
	{ "keyword in an attachment name",
	  R("one", "a", "keywords = ( \"scope: 2\" ); threshold = 2;"),
	  { .att = "review_scope.docx" }, "a", "one" },
	{ "keyword prefix", R("one", "a", "keywords = ( \"huddle*\" );"),
	  { .body = "the huddles" }, "a", "one" },
	{ "nothing matches: default", R("one", "a", "all = \"body word x\";"),
	  { .body = "y" }, "general", "" },
	{ "no rules at all", "", { .body = "y" }, "general", "" },

	/* Region. */
	{ "region key", R("w", "a", "region = \"west\";") ","
	  R("e", "b", "region = \"east\";"),
	  { .body = "We are Derby and Derbyshire ICB." }, "b", "e" },
	{ "region condition", R("w", "a", "all = \"region is west\";"),
	  { .body = "Black Country" }, "a", "w" },
	{ "no region", R("w", "a", "region = \"west\";") ","
	  R("e", "b", "region = \"east\";"),
	  { .body = "We are in Kent." }, "general", "" },
};

static void
test_table(void **state)
{
	const struct route_case	*c;
	struct conf		*conf;
	struct tbuild		 b;
	struct route_decision	 d;
	char			*cause;
	size_t			 i;
	int			 failed = 0;

	for (i = 0; i < sizeof route_cases / sizeof route_cases[0]; i++) {
		c = &route_cases[i];
		if ((conf = test_load_rules(c->rules)) == NULL) {
			print_error("%s: the rules do not load\n", c->name);
			failed++;
			continue;
		}
		test_message(&b, &c->msg);
		if (route_decide(conf, &b.m, &d, &cause) == -1) {
			print_error("%s: %s\n", c->name, cause);
			free(cause);
			failed++;
		} else {
			if (strcmp(d.lead, c->want_lead) != 0 ||
			    strcmp(d.rule, c->want_rule) != 0) {
				print_error("%s: got %s (rule \"%s\"), want %s "
				    "(rule \"%s\"): %s\n", c->name, d.lead,
				    d.rule, c->want_lead, c->want_rule,
				    d.reason);
				failed++;
			}
			route_decision_free(&d);
		}
		conf_free(conf);
	}
	if (failed)
		fail_msg("%d of %zu cases failed", failed, i);
}

/* --- the shipped configuration -------------------------------------------- */

struct shipped_case {
	const char	*name;
	struct tmsg	 msg;
	const char	*want_lead;
};

static const struct shipped_case shipped_cases[] = {
	{ "topic beats region: an analyst in Derby and the huddles",
	  { .subject = "Joining the huddles",
	    .body = "Hello,\n\nI'm an analyst at Derby City Council and I "
	    "would like to come to the fortnightly huddles.  How do I join?"
	    "\n\nThanks,\nSam\nDerby DE1 2FS\n" }, "analyst_network" },
	{ "DSU in the east, from the ICB name",
	  { .subject = "Our decision support unit",
	    .body = "Derby and Derbyshire ICB is setting up a decision "
	    "support unit and would like advice on the operating model." },
	  "east_dsu" },
	{ "DSU in the west, from the ICB name",
	  { .subject = "Establishing a DSU",
	    .body = "The Black Country ICB board has agreed to establish a "
	    "DSU.  Who should we talk to?" }, "west_dsu" },
	{ "DSU, region from a town",
	  { .subject = "Decision support unit",
	    .body = "We're in Shrewsbury and want to develop a DSU." },
	  "west_dsu" },
	{ "DSU, region from the postcode alone",
	  { .subject = "DSU set up",
	    .body = "We would like to set up a DSU.\n\nJo\nNG7 2UH" },
	  "east_dsu" },
	{ "DSU: the system I work in beats the postcode",
	  { .subject = "Setting up a DSU",
	    .body = "I work in Leicester, Leicestershire and Rutland ICB and "
	    "we want to set up a decision support unit.\n\n-- \nJo Bloggs\n"
	    "1 Colmore Row, Birmingham B3 2BJ" }, "east_dsu" },
	{ "DSU with no region goes to general",
	  { .subject = "DSU", .body = "How do we set up a DSU?" },
	  "general" },
	{ "directly commissioned services",
	  { .subject = "Decision support for directly commissioned services",
	    .body = "We commission specialised services at NHS England." },
	  "east_dsu" },
	{ "evaluation guide",
	  { .subject = "Evaluation guide",
	    .body = "Can I use the evaluation guide for a small project?" },
	  "evaluation_network" },
	{ "qualitative seminar",
	  { .subject = "Seminars", .body = "When is the next seminar on "
	    "qualitative methods?" }, "evaluation_network" },
	{ "evidence review",
	  { .subject = "Request for an evidence review",
	    .body = "Could the network help with a rapid evidence review?" },
	  "evidence_network" },
	{ "who's who",
	  { .subject = "Add me to the who's who",
	    .body = "I'm a knowledge specialist in Telford." },
	  "evidence_network" },
	{ "training course in Nottingham",
	  { .subject = "System dynamics course",
	    .body = "I work in Nottingham; how do I book a place on the "
	    "system dynamics course?" }, "training" },
	{ "prospectus",
	  { .subject = "Prospectus", .body = "Please send the training "
	    "prospectus." }, "training" },
	{ "chief analyst and the regional report",
	  { .subject = "Regional report question",
	    .body = "A question for the chief analyst about the ICS "
	    "reports." }, "analytics_programme" },
	{ "published code",
	  { .subject = "Code for the report",
	    .body = "Is the code on GitHub so we can replicate the "
	    "analysis?" }, "analytics_programme" },
	{ "another region copying the model",
	  { .subject = "Replicating the network",
	    .body = "We are in the North West and would like to replicate "
	    "your network model in our region." }, "programme" },
	{ "a prescription is not an enquiry for a lead",
	  { .subject = "Repeat prescription",
	    .body = "Can you send my repeat prescription to my GP?" },
	  "general" },
	{ "freedom of information",
	  { .subject = "FOI request", .body = "Under the Freedom of "
	    "Information Act, how many staff evaluate training courses?" },
	  "general" },
	{ "out of office",
	  { .subject = "Out of office: huddles",
	    .hdr = { { "Auto-Submitted", "auto-replied" } },
	    .body = "I am away from the huddles until Monday." }, "general" },
	{ "plus address",
	  { .to = "enquiries+evaluation@example.org", .subject = "Hello",
	    .body = "A question about training." }, "evaluation_network" },
	{ "nothing recognisable",
	  { .subject = "Hello", .body = "Is anyone there?" }, "general" },
};

static struct conf *
test_shipped(void)
{
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	char			 path[4096];
	size_t			 i;

	snprintf(path, sizeof path, "%s/config/postroom.conf", test_top());
	conf = conf_load(path, NULL, 0, &errs);
	for (i = 0; i < errs.n; i++)
		print_error("%s\n", errs.msgs[i]);
	conf_errors_free(&errs);
	return conf;
}

static void
test_shipped_rules(void **state)
{
	const struct shipped_case	*c;
	struct conf			*conf;
	struct router			*rt;
	struct tbuild			 b;
	struct route_decision		 d;
	char				*cause = NULL;
	size_t				 i;
	int				 failed = 0;

	assert_non_null(conf = test_shipped());
	rt = router_new(conf, &cause);
	if (rt == NULL)
		fail_msg("router_new: %s", cause);
	for (i = 0; i < sizeof shipped_cases / sizeof shipped_cases[0]; i++) {
		c = &shipped_cases[i];
		test_message(&b, &c->msg);
		assert_int_equal(router_decide(rt, &b.m, &d, &cause), 0);
		if (strcmp(d.lead, c->want_lead) != 0) {
			print_error("%s: got %s, want %s: %s [region %s: %s]\n",
			    c->name, d.lead, c->want_lead, d.reason, d.region,
			    d.region_why);
			failed++;
		}
		route_decision_free(&d);
	}
	router_free(rt);
	conf_free(conf);
	if (failed)
		fail_msg("%d of %zu cases failed", failed, i);
}

/* --- evidence, reason, explanation ---------------------------------------- */

static void
test_evidence(void **state)
{
	struct conf		*conf;
	struct tbuild		 b;
	struct route_decision	 d;
	struct tmsg		 t = {
		.subject = "Joining the huddles",
		.body = "I would like to join the Midlands Analyst Network "
		    "please, and to present at a huddle.",
	};
	char			*cause, *text = NULL;
	size_t			 len, i;
	FILE			*f;

	conf = test_load_rules(
	    R("analysts", "a", "keywords = ( \"analyst network: 4\", "
	    "\"huddle*: 4\", \"join*\" ); threshold = 4;") ","
	    R("training", "b", "keywords = ( \"present*: 2\" ); "
	    "threshold = 4;") ","
	    R("plain", "c", "all = \"body word please\";"));
	assert_non_null(conf);
	test_message(&b, &t);
	assert_int_equal(route_decide(conf, &b.m, &d, &cause), 0);

	assert_str_eq_msg("lead", d.lead, "a");
	assert_int_equal(d.how, ROUTE_SCORE);
	/* huddle* 4x2 in the subject, analyst network 4, join* 1x2. */
	assert_true(d.score == 14);
	assert_int_equal(d.nevidence, 3);
	assert_str_eq_msg("ev 0 part", d.evidence[0].part, "body");
	assert_str_eq_msg("ev 0 what", d.evidence[0].what, "analyst network");
	assert_str_eq_msg("ev 0 excerpt", d.evidence[0].excerpt,
	    "I would like to join the Midlands Analyst Network please, and "
	    "to present at a huddle.");
	assert_true(d.evidence[0].points == 4);
	assert_str_eq_msg("ev 1 part", d.evidence[1].part, "subject");
	assert_str_eq_msg("ev 1 what", d.evidence[1].what, "huddle*");
	assert_true(d.evidence[1].points == 8);
	assert_str_eq_msg("ev 2 what", d.evidence[2].what, "join*");

	/* Winner first, then the runners-up, best first. */
	assert_int_equal(d.ncandidates, 3);
	assert_str_eq_msg("cand 0", d.candidates[0].rule, "analysts");
	assert_str_eq_msg("cand 1", d.candidates[1].rule, "plain");
	assert_true(d.candidates[1].matched);
	assert_str_eq_msg("cand 2", d.candidates[2].rule, "training");
	assert_true(d.candidates[2].score == 2);
	assert_false(d.candidates[2].matched);
	assert_str_eq_msg("cand 2 why", d.candidates[2].why,
	    "score 2 is below its threshold 4");

	assert_str_eq_msg("reason", d.reason,
	    "Rule analysts scored 14 (needs 4): \"analyst network\" in the "
	    "body (+4); \"huddle*\" in the subject (+8); \"join*\" in the "
	    "subject (+2).");

	assert_non_null(f = open_memstream(&text, &len));
	route_explain(&d, f);
	fclose(f);
	for (i = 0; i < 5; i++) {
		static const char *const want[] = {
			"lead:       a\n",
			"rule:       analysts (line ",
			"  subject         +8  huddle*: \"Joining the "
			    "huddles\"\n",
			"runners-up:\n",
			"training                 score 2 (needs 4), score 2 "
			    "is below its threshold 4\n",
		};
		if (strstr(text, want[i]) == NULL)
			fail_msg("explain lacks \"%s\":\n%s", want[i], text);
	}
	free(text);
	route_decision_free(&d);
	conf_free(conf);
}

static void
test_reason_default_and_first(void **state)
{
	struct conf		*conf;
	struct tbuild		 b;
	struct route_decision	 d;
	struct tmsg		 t = {
		.to = "enquiries+evaluation@example.org",
		.body = "alpha",
	};
	char			*cause;

	conf = test_load_rules(
	    R("near", "a", "keywords = ( \"alpha: 2\" ); threshold = 5;"));
	assert_non_null(conf);
	test_message(&b, &t);
	assert_int_equal(route_decide(conf, &b.m, &d, &cause), 0);
	assert_int_equal(d.how, ROUTE_DEFAULT);
	assert_str_eq_msg("default reason", d.reason,
	    "No rule matched, so it goes to the default lead (nearest: rule "
	    "near, score 2 of 5).");
	route_decision_free(&d);
	conf_free(conf);

	conf = test_load_rules(R("plus", "a", "all = \"plus is evaluation\";"));
	assert_non_null(conf);
	assert_int_equal(route_decide(conf, &b.m, &d, &cause), 0);
	assert_int_equal(d.how, ROUTE_FIRST);
	assert_str_eq_msg("first reason", d.reason,
	    "Rule plus matched: plus is 'evaluation'.");
	assert_int_equal(d.nevidence, 1);
	assert_str_eq_msg("first evidence part", d.evidence[0].part, "plus");
	assert_str_eq_msg("first evidence excerpt", d.evidence[0].excerpt,
	    "evaluation");
	route_decision_free(&d);
	conf_free(conf);
}

/* Evidence is the match with a little context, on one line. */
static void
test_excerpt(void **state)
{
	static const struct {
		const char	*body;
		const char	*want;
	} cases[] = {
		{ "One two three four five six seven eight nine ten eleven "
		  "target twelve thirteen fourteen fifteen sixteen seventeen "
		  "eighteen nineteen",
		  "...five six seven eight nine ten eleven target twelve "
		  "thirteen fourteen fifteen..." },
		{ "abc\r\n\r\n  target\tdef", "abc target def" },
		{ "  target  ", "target" },
		{ "caf\xc3\xa9 target \xff",
		  "caf\xc3\xa9 target \xef\xbf\xbd" },
	};
	struct conf		*conf;
	struct tbuild		 b;
	struct tmsg		 t = { 0 };
	struct route_decision	 d;
	char			*cause;
	size_t			 i;

	conf = test_load_rules(R("r", "a", "all = \"body word target\";"));
	assert_non_null(conf);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t.body = cases[i].body;
		test_message(&b, &t);
		assert_int_equal(route_decide(conf, &b.m, &d, &cause), 0);
		assert_int_equal(d.nevidence, 1);
		assert_str_eq_msg(cases[i].body, d.evidence[0].excerpt,
		    cases[i].want);
		route_decision_free(&d);
	}
	conf_free(conf);
}

/* --- configuration errors ------------------------------------------------- */

struct bad_case {
	const char	*rules;
	const char	*want;	/* a part of the one error */
};

static const struct bad_case bad_cases[] = {
	{ R("r", "a", "all = \"subject wrod x\";"),
	  ":3: rule \"r\": all: condition \"subject wrod x\": unknown "
	  "operator \"wrod\" (expected contains, word, phrase, regex, domain, "
	  "is or exists)" },
	{ R("r", "a", "any = \"subjet word x\";"), "unknown part \"subjet\"" },
	{ R("r", "a", "all = \"subject regex '('\";"), "bad regex '('" },
	{ R("r", "a", "all = \"subject word\";"), "word needs a value" },
	{ R("r", "a", "all = \"subject word '!!'\";"), "has no words" },
	{ R("r", "a", "all = \"any(subject word x\";"),
	  "expected , or ) in any( ), got the end" },
	{ R("r", "a", "all = \"subject word 'x\";"), "no closing '" },
	{ R("r", "a", "all = \"subject word x y\";"),
	  "unexpected y after the condition" },
	{ R("r", "a", "not = \"header exists\";"),
	  "header needs a field name" },
	{ R("r", "a", "all = \"subject\";"), "subject needs an operator" },
	{ R("r", "a", "all = \"region north\";"),
	  "region must be west or east" },
	{ R("r", "a", "region = \"north\";"), "expected \"west\" or \"east\"" },
	{ R("r", "a", "keywords = ( \"x: 0\" );"), "weight must be" },
	{ R("r", "a", "keywords = ( \"x: 5000\" );"), "weight must be" },
	{ R("r", "a", "keywords = ( \"*\" );"), "has no words" },
	{ R("r", "a", "threshold = 0;"), "0 is out of range (1 to" },
	{ R("r", "a", "keywords = 3;"),
	  "expected a string or a list of strings" },
	{ R("r", "a", "all = \"from domain 'a b'\";"), "is not a domain" },
	{ R("r", "a", "thresold = 3;"), "unknown key thresold" },
	{ R("r", "a", "keywords = ( \"huddle: zero\" );"),
	  "the weight after ':' must be a whole number" },
	/* Every bad condition of a list, in the one error for the key. */
	{ R("r", "a", "all = ( \"subject wrod x\", \"body word a\", "
	  "\"any(body word a\" );"),
	  "unknown operator \"wrod\" (expected contains, word, phrase, "
	  "regex, domain, is or exists); condition \"any(body word a\": "
	  "expected , or ) in any( ), got the end" },
};

static void
test_bad_config(void **state)
{
	const struct bad_case	*c;
	struct conf_errors	 errs = { 0 };
	struct conf		*conf;
	char			 path[] = "/tmp/test-route.XXXXXX";
	size_t			 i;
	int			 fd, failed = 0;
	FILE			*f;

	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		c = &bad_cases[i];
		snprintf(path, sizeof path, "%s", "/tmp/test-route.XXXXXX");
		assert_true((fd = mkstemp(path)) != -1);
		assert_non_null(f = fdopen(fd, "w"));
		fprintf(f, "leads = { a = { addresses = [ \"a@example.org\" ]; "
		    "}; general = { addresses = [ \"g@example.org\" ]; }; };\n"
		    "rules = (\n%s\n);\n", c->rules);
		fclose(f);
		conf = conf_load(path, NULL, 0, &errs);
		unlink(path);
		if (conf != NULL) {
			print_error("%s: loaded, want an error \"%s\"\n",
			    c->rules, c->want);
			conf_free(conf);
			failed++;
		} else if (errs.n != 1 || strstr(errs.msgs[0], c->want) ==
		    NULL) {
			print_error("%s: got %zu errors (first \"%s\"), want "
			    "one holding \"%s\"\n", c->rules, errs.n,
			    errs.n > 0 ? errs.msgs[0] : "", c->want);
			failed++;
		}
		conf_errors_free(&errs);
	}
	if (failed)
		fail_msg("%d of %zu cases failed", failed, i);
}

/* --- references and bounces ----------------------------------------------- */

struct ref_case {
	const char	*subject;
	const char	*want;	/* NULL: none */
};

static const struct ref_case ref_cases[] = {
	{ "Re: [ENQ-2026-00042] Joining the huddles", "ENQ-2026-00042" },
	{ "Re: Joining the huddles [ENQ-2026-00042]", "ENQ-2026-00042" },
	{ "RE: my enquiry enq-2024-000123 again", "ENQ-2024-000123" },
	{ "Re: Joining the huddles", NULL },
	{ "XENQ-2026-00042", NULL },
	{ "ENQ-2026-00042X", NULL },
	{ "ENQ-26-00042", NULL },
	{ "ENQ-2026-", NULL },
	{ "ENQ 2026 00042", NULL },
	{ "", NULL },
};

static void
test_reference(void **state)
{
	const struct ref_case	*c;
	struct tbuild		 b;
	struct tmsg		 t = { 0 };
	char			 buf[ROUTE_REFERENCE_MAX], small[8];
	size_t			 i;
	int			 found;

	for (i = 0; i < sizeof ref_cases / sizeof ref_cases[0]; i++) {
		c = &ref_cases[i];
		t.subject = c->subject;
		test_message(&b, &t);
		found = route_find_reference(&b.m, "ENQ", buf, sizeof buf);
		if (found != (c->want != NULL))
			fail_msg("\"%s\": found %d, want %d", c->subject,
			    found, c->want != NULL);
		if (found)
			assert_str_eq_msg(c->subject, buf, c->want);
	}
	t.subject = "[ENQ-2026-00042]";
	test_message(&b, &t);
	assert_int_equal(route_find_reference(&b.m, "ENQ", small,
	    sizeof small), 0);
	assert_int_equal(route_find_reference(&b.m, "", buf, sizeof buf), 0);
}

static void
test_bounce(void **state)
{
	struct conf	*conf;
	struct tbuild	 b;
	struct tmsg	 t = { 0 };

	conf = test_load_rules("");
	assert_non_null(conf);

	t.subject = "hello";
	test_message(&b, &t);
	assert_int_equal(route_is_bounce(conf, &b.m), 0);

	b.m.is_report = 1;
	assert_int_equal(route_is_bounce(conf, &b.m), 1);

	t.from = "MAILER-DAEMON@mx.example.net";
	test_message(&b, &t);
	assert_int_equal(route_is_bounce(conf, &b.m), 1);

	t.from = NULL;
	t.to = "bounces+abc123@example.org";	/* from_address's domain */
	test_message(&b, &t);
	assert_int_equal(route_is_bounce(conf, &b.m), 1);

	t.to = "bounces+abc123@elsewhere.example";
	test_message(&b, &t);
	assert_int_equal(route_is_bounce(conf, &b.m), 0);
	assert_int_equal(route_is_bounce(NULL, &b.m), 1);

	t.to = NULL;
	t.hdr[0][0] = "X-Original-To";
	t.hdr[0][1] = "bounces+abc123@example.org";
	test_message(&b, &t);
	assert_int_equal(route_is_bounce(conf, &b.m), 1);
	conf_free(conf);
}

/* A message the parser could not read is still decided. */
static void
test_failed_message(void **state)
{
	struct conf		*conf;
	struct route_decision	 d;
	struct message		 m;
	char			*cause;

	memset(&m, 0, sizeof m);	/* every string NULL */
	m.status = MESSAGE_FAILED;
	conf = test_load_rules(R("r", "a", "all = \"subject word x\";"));
	assert_non_null(conf);
	assert_int_equal(route_decide(conf, &m, &d, &cause), 0);
	assert_str_eq_msg("lead", d.lead, "general");
	route_decision_free(&d);
	conf_free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_evidence),
		cmocka_unit_test(test_reason_default_and_first),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_bounce),
		cmocka_unit_test(test_failed_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
