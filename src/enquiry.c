/*
 * enquiry.c - one inbound message: decide, record, forward, acknowledge.
 *
 * Owns: references (ENQ-YEAR-NNNNN, one counter per year), the forward
 * (a new message From postroom's own address so that it passes DMARC,
 * Reply-To the enquirer, the original attached intact) and the
 * acknowledgement (Auto-Submitted: auto-replied, In-Reply-To/References,
 * sent from the null reverse path so nothing can loop back).  Does not
 * own: the routing decision (route.c) or whether an acknowledgement may
 * be sent at all (autoreply.c); this file adds the store-backed "at most
 * one a day per sender".  Also owns what becomes of a message that keeps
 * failing to be recorded: its failures are counted in the store, and
 * after ENQUIRY_MAX_ATTEMPTS it goes as received to the default lead, so
 * that nothing that arrives stays unrecorded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "autoreply.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "hex.h"
#include "enquiry.h"
#include "log.h"
#include "message.h"
#include "mime-build.h"
#include "route.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "unsubscribe.h"
#include "utf8.h"
#include "value.h"
#include "xmalloc.h"

#define ENQUIRY_MAX_MESSAGE	(128 * 1024 * 1024)	/* a composed forward */
#define ENQUIRY_ACK_WINDOW	(24 * 60 * 60)
#define ENQUIRY_BOUNCE_WINDOW	(90 * 24 * 60 * 60)
/* Subjects and names longer than this are cut in what postroom writes. */
#define ENQUIRY_TEXT_MAX	200
/* Failed attempts to record a message before it goes raw to the default. */
#define ENQUIRY_MAX_ATTEMPTS	3
#define ENQUIRY_CAP_WINDOW	(60 * 60)	/* enquiry.acks_per_hour */
/* The reason recorded (enquiries.ack) when the hourly cap holds one back. */
#define ENQUIRY_ACK_CAPPED	"hourly cap reached"

struct enquiry_env {
	const struct conf	*conf;
	struct router		*router;
	struct template		*forward;
	struct template		*ack;
	unsigned char		 key[TOKEN_KEY_LEN];	/* VERP, unsubscribe */
};

/* What the templates and the messages need to know about one enquiry. */
struct enquiry_ctx {
	const struct conf	*conf;
	const struct message	*msg;
	const char		*raw;
	size_t			 len;
	struct store_enquiry	*e;
	const struct conf_lead	*lead;
	int			 acked;
	const char		*why_no_ack;
	/* Subject, name and address as written in messages: cut, or "". */
	char			*subject;
	char			*name;
	char			*address;
	int			 addressable;	/* may be Reply-To and To */
	int			 raw_only;	/* forwarded raw after failures */
	/* A forward made again (enquiry_forward_recorded()); else NULL. */
	const char		*reason;	/* NULL: e->reason */
	const char		*note;		/* staff's own words */
	const char		*acked_lead;	/* NULL: lead->name */
};

void
enquiry_format_reference(char *buf, size_t size, const char *prefix,
    int year, int64_t n)
{
	snprintf(buf, size, "%s-%04d-%05lld", prefix, year, (long long)n);
}

struct enquiry_env *
enquiry_open(const struct conf *conf, char **cause)
{
	struct enquiry_env	*env;

	env = xcalloc(1, sizeof *env);
	env->conf = conf;
	if ((env->router = router_new(conf, cause)) == NULL ||
	    (env->forward = template_load(conf->general.templates,
	    "forward.txt", cause)) == NULL ||
	    (env->ack = template_load(conf->general.templates, "ack.txt",
	    cause)) == NULL ||
	    token_key_load(conf->general.secret_file, 1, env->key,
	    cause) == -1) {
		enquiry_close(env);
		return NULL;
	}
	return env;
}

void
enquiry_close(struct enquiry_env *env)
{
	if (env == NULL)
		return;
	router_free(env->router);
	crypto_cleanse(env->key, sizeof env->key);
	template_free(env->forward);
	template_free(env->ack);
	free(env);
}

/* --- the messages ------------------------------------------------------ */

/*
 * What the acknowledgement may say: the reference, the lead and the
 * network's own words, never what the enquirer wrote (subject, name):
 * it goes to whatever address the message claims to come from, so
 * anything quoted in it is text a stranger can have us send anyone.
 * The forward's data (enquiry_data()) starts from it.
 */
static struct value *
enquiry_ack_data(const struct enquiry_ctx *c)
{
	struct value	*d, *o;

	d = value_new_object();
	value_object_set(d, "reference", value_new_string(c->e->reference));
	o = value_new_object();
	value_object_set(o, "key", value_new_string(c->lead->key));
	value_object_set(o, "name", value_new_string(c->lead->name));
	value_object_set(d, "lead", o);
	o = value_new_object();
	value_object_set(o, "enquiries",
	    value_new_string(c->conf->general.from_address));
	value_object_set(d, "network", o);
	return d;
}

/*
 * Whether addr can go into a header and an SMTP envelope as it is:
 * local@domain in printable ASCII, at most 254 octets, as the message
 * builder takes it.  Others (a UTF-8 local part, one too long) are kept
 * in the record but get neither Reply-To nor an acknowledgement.
 */
static int
enquiry_addressable(const char *addr)
{
	return mime_address_ok(addr);
}

/*
 * s as postroom writes it in a subject line or a template: at most
 * ENQUIRY_TEXT_MAX bytes, cut between characters, with "..." when cut
 * (a 1 MB subject once made every forward too large to build).  The
 * record keeps it whole.
 */
static char *
enquiry_short(const char *s)
{
	size_t	len = strlen(s), n;

	if (len <= ENQUIRY_TEXT_MAX)
		return xstrdup(s);
	n = utf8_truncate(s, len, ENQUIRY_TEXT_MAX);
	return xprintf("%.*s...", (int)n, s);
}

static struct value *
enquiry_data(const struct enquiry_ctx *c)
{
	struct value	*d, *o;
	char		 when[64], *display;
	time_t		 t = (time_t)c->e->received_at;
	struct tm	 tm;

	d = enquiry_ack_data(c);
	value_object_set(d, "reason", value_new_string(c->reason != NULL ?
	    c->reason : c->e->reason));
	value_object_set(d, "note", value_new_string(c->note != NULL ?
	    c->note : ""));
	value_object_set(d, "acked_lead", value_new_string(
	    c->acked_lead != NULL ? c->acked_lead : c->lead->name));
	value_object_set(d, "autoreplied", value_new_bool(c->acked));
	value_object_set(d, "direct_reply", value_new_bool(c->addressable));
	value_object_set(d, "no_ack_reason", value_new_string(
	    c->why_no_ack != NULL ? c->why_no_ack : ""));

	o = value_new_object();
	value_object_set(o, "name", value_new_string(c->name));
	value_object_set(o, "address", value_new_string(c->address));
	if (*c->name != '\0') {
		display = xprintf("%s <%s>", c->name, c->address);
		value_object_set(o, "display", value_new_string(display));
		free(display);
	} else
		value_object_set(o, "display", value_new_string(
		    *c->address != '\0' ? c->address : c->raw_only ?
		    "(see the message attached)" : "(unknown sender)"));
	value_object_set(d, "enquirer", o);

	localtime_r(&t, &tm);
	strftime(when, sizeof when, "%a %d %b %Y %H:%M %Z", &tm);
	o = value_new_object();
	value_object_set(o, "subject", value_new_string(
	    *c->subject != '\0' ? c->subject : c->raw_only ?
	    "(see the message attached)" : "(no subject)"));
	value_object_set(o, "received", value_new_string(when));
	value_object_set(d, "enquiry", o);
	return d;
}

/* Render t for c; ack: with the acknowledgement's data (no quoting). */
static int
enquiry_render(const struct template *t, const struct enquiry_ctx *c,
    int ack, char **out, char **cause)
{
	struct value	*data;
	struct buf	 b;
	int		 rc;

	buf_init(&b, 1024 * 1024);
	data = ack ? enquiry_ack_data(c) : enquiry_data(c);
	rc = template_render_text(t, data, NULL, &b, cause);
	value_free(data);
	if (rc == -1) {
		buf_free(&b);
		return -1;
	}
	*out = buf_detach(&b, NULL);
	return 0;
}

/*
 * Queue the message in b (written by mime_msg_write()) to each of
 * rcpts[0..n): one body, stored once and shared by the n rows (a forward
 * to each of a lead's addresses carries the raw message once, however
 * many addresses there are).
 */
static int
enquiry_queue(struct store *s, const struct buf *b,
    enum store_outbox_kind kind, const char *mail_from,
    const char *const *rcpts, size_t n, const char *dedup,
    int64_t enquiry_id, char **cause)
{
	struct store_outbox_msg	 om;
	char			*key;
	size_t			 i;
	int			 rc = 0, added = 0;

	memset(&om, 0, sizeof om);
	om.kind = kind;
	om.mail_from = mail_from;
	om.enquiry_id = enquiry_id;
	om.priority = 5;
	if (store_outbox_body_add(s, b->data, b->len, &om.body_id,
	    cause) == -1)
		return -1;
	for (i = 0; i < n && rc != -1; i++) {
		om.rcpt_to = rcpts[i];
		/* A forward's key names its address: "forward:REF:ADDR". */
		key = kind == STORE_OUTBOX_FORWARD ?
		    xprintf("%s:%s", dedup, rcpts[i]) : xstrdup(dedup);
		om.dedup_key = key;
		if ((rc = store_outbox_add(s, &om, NULL, cause)) == 1)
			added++;
		free(key);
	}
	if (rc == -1)
		return -1;
	if (added == 0 && store_outbox_body_forget(s, om.body_id, cause) == -1)
		return -1;
	return 0;
}

/* Write m into b (a new buffer, which the caller frees). */
static int
enquiry_write(struct mime_msg *m, struct buf *b, char **cause)
{
	buf_init(b, ENQUIRY_MAX_MESSAGE);
	if (mime_msg_write(m, b, cause) == -1) {
		buf_free(b);
		return -1;
	}
	return 0;
}

/*
 * The forward: one message to all of the lead's addresses (To names them
 * all, so that each sees who else has it), one outbox row per address,
 * keyed dedup ("forward:REF", and for one made again "forward:REF:route:
 * ID") and the address.
 */
static int
enquiry_forward(const struct conf *conf, const struct template *forward,
    struct store *s, const struct enquiry_ctx *c, const char *dedup,
    char **cause)
{
	struct mime_msg		*m;
	struct buf		 b;
	char			*text, *subject;
	size_t			 i;
	int			 rc;

	if (enquiry_render(forward, c, 0, &text, cause) == -1)
		return -1;
	subject = xprintf("[%s] %s", c->e->reference,
	    *c->subject != '\0' ? c->subject : c->raw_only ?
	    "(could not be processed: attached as received)" :
	    "(no subject)");
	m = mime_msg_new();
	mime_msg_address(m, "From", conf->general.from_name,
	    conf->general.from_address);
	for (i = 0; i < c->lead->naddresses; i++)
		mime_msg_address(m, "To", c->lead->name,
		    c->lead->addresses[i]);
	if (c->addressable)
		mime_msg_address(m, "Reply-To", c->name, c->e->sender);
	mime_msg_header(m, "Subject", subject);
	mime_msg_header_raw(m, "Auto-Submitted", "auto-forwarded");
	/* Known again (autoreply.c) if a robot sends it back. */
	mime_msg_header(m, "X-Loop", conf->general.from_address);
	mime_msg_header_raw(m, "X-Postroom-Reference", c->e->reference);
	mime_msg_header_raw(m, "X-Postroom-Lead", c->lead->key);
	mime_msg_text(m, text);
	mime_msg_attach_rfc822(m, c->raw, c->len);
	rc = enquiry_write(m, &b, cause);
	mime_msg_free(m);
	free(subject);
	free(text);
	if (rc == -1)
		return -1;
	rc = enquiry_queue(s, &b, STORE_OUTBOX_FORWARD,
	    conf->general.from_address,
	    (const char *const *)c->lead->addresses, c->lead->naddresses,
	    dedup, c->e->id, cause);
	buf_free(&b);
	return rc;
}

int
enquiry_forward_recorded(const struct conf *conf, struct store *s,
    const struct enquiry_reforward *f, char **cause)
{
	struct store_enquiry	 e;
	struct enquiry_ctx	 c;
	struct template		*forward;
	int			 rc;

	if ((forward = template_load(conf->general.templates, "forward.txt",
	    cause)) == NULL)
		return -1;
	/* The record as the message was read then: see enquiry_route(). */
	e = *f->e;
	memset(&c, 0, sizeof c);
	c.conf = conf;
	c.raw = f->raw;
	c.len = f->len;
	c.e = &e;
	c.lead = f->lead;
	c.raw_only = strcmp(e.parse_status, "failed") == 0;
	c.subject = enquiry_short(e.subject);
	c.name = enquiry_short(e.sender_name);
	c.address = enquiry_short(e.sender);
	c.addressable = *e.sender != '\0' && enquiry_addressable(e.sender);
	c.acked = strcmp(e.ack, "queued") == 0;
	c.why_no_ack = e.ack;
	c.reason = f->reason;
	c.note = f->note;
	c.acked_lead = f->acked_lead;
	rc = enquiry_forward(conf, forward, s, &c, f->dedup, cause);
	free(c.subject);
	free(c.name);
	free(c.address);
	template_free(forward);
	return rc;
}

/*
 * A Message-ID that can go back in In-Reply-To as it is: id-left@id-right
 * in printable ASCII with no brackets or spaces, of a sane length.
 */
static int
enquiry_msgid_plain(const char *id)
{
	const char	*p;
	size_t		 n = strlen(id);

	if (n == 0 || n > 250 || strchr(id, '@') == NULL)
		return 0;
	for (p = id; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '<' || *p == '>' || *p == '"' || *p == '\\')
			return 0;
	}
	return 1;
}

/*
 * Build the acknowledgement into b (the caller frees it).  -1 with *cause
 * when it cannot be built: the enquiry is then recorded and forwarded with
 * "no acknowledgement" and why, rather than not at all.
 */
static int
enquiry_ack_build(struct enquiry_env *env, const struct enquiry_ctx *c,
    struct buf *b, char **cause)
{
	const struct conf	*conf = env->conf;
	struct mime_msg		*m;
	char			*text, *subject, *irt;
	int			 rc;

	if (enquiry_render(env->ack, c, 1, &text, cause) == -1)
		return -1;
	/* No subject or display name of theirs: see enquiry_ack_data(). */
	subject = xprintf("We have your enquiry [%s]", c->e->reference);
	m = mime_msg_new();
	mime_msg_address(m, "From", conf->general.from_name,
	    conf->general.from_address);
	mime_msg_address(m, "To", NULL, c->e->sender);
	/* (The envelope recipient is autoreply_address(); see below.) */
	mime_msg_header(m, "Subject", subject);
	mime_msg_header_raw(m, "Auto-Submitted", "auto-replied");
	mime_msg_header_raw(m, "X-Auto-Response-Suppress", "All");
	mime_msg_header(m, "X-Loop", conf->general.from_address);
	mime_msg_header_raw(m, "X-Postroom-Reference", c->e->reference);
	/*
	 * Threading (RFC 3834 3.1.4): their Message-ID only, not the chain
	 * of References they sent, which is theirs to fill.
	 */
	irt = NULL;
	if (enquiry_msgid_plain(c->msg->message_id)) {
		irt = xprintf("<%s>", c->msg->message_id);
		mime_msg_header_raw(m, "In-Reply-To", irt);
		mime_msg_header_raw(m, "References", irt);
	}
	mime_msg_text(m, text);
	rc = enquiry_write(m, b, cause);
	mime_msg_free(m);
	free(irt);
	free(subject);
	free(text);
	return rc;
}

static int
enquiry_acknowledge(struct store *s, const struct enquiry_ctx *c,
    const struct buf *b, char **cause)
{
	const char	*to;
	char		*dedup;
	int		 rc;

	dedup = xprintf("ack:%s", c->e->reference);
	/* RFC 3834 section 3.3: the null reverse path, so nothing loops. */
	to = autoreply_address(c->msg);
	rc = enquiry_queue(s, b, STORE_OUTBOX_ACK, "", &to, 1, dedup,
	    c->e->id, cause);
	free(dedup);
	return rc;
}

/* --- deciding and recording -------------------------------------------- */

static void
enquiry_hash(const char *raw, size_t len, char out[65])
{
	unsigned char	md[CRYPTO_SHA256_LEN];

	crypto_sha256(raw, len, NULL, 0, md);
	hex_encode(md, sizeof md, out);
}

static const char *
enquiry_status_name(const struct message *msg)
{
	switch (msg->status) {
	case MESSAGE_OK:
		return "ok";
	case MESSAGE_DEFECTIVE:
		return "defective";
	case MESSAGE_LIMITS:
		return "limits";
	case MESSAGE_FAILED:
		break;
	}
	return "failed";
}

static void
enquiry_result_set(struct enquiry_result *res, enum enquiry_outcome outcome,
    const struct store_enquiry *e)
{
	memset(res, 0, sizeof *res);
	res->outcome = outcome;
	if (e == NULL)
		return;
	snprintf(res->reference, sizeof res->reference, "%s", e->reference);
	snprintf(res->lead, sizeof res->lead, "%s", e->lead);
	snprintf(res->rule, sizeof res->rule, "%s", e->rule);
	res->acked = strcmp(e->ack, "queued") == 0;
	if (!res->acked)
		snprintf(res->why_no_ack, sizeof res->why_no_ack, "%s", e->ack);
}

/*
 * Which lead, by which rule, and why: a reply to a known reference goes
 * where the first message went; an unreadable message goes to the default
 * lead; everything else is the router's decision.  Returns 1 for a reply.
 */
static int
enquiry_decide(struct enquiry_env *env, struct store *s,
    const struct message *msg, struct store_enquiry *e, char **cause)
{
	const struct conf	*conf = env->conf;
	struct route_decision	 d;
	struct store_enquiry	 prev;
	char			 ref[ROUTE_REFERENCE_MAX];
	int			 rc;

	if (msg->status != MESSAGE_FAILED &&
	    route_find_reference(msg, conf->general.reference_prefix, ref,
	    sizeof ref) == 1) {
		if ((rc = store_enquiry_get(s, ref, &prev, cause)) == -1)
			return -1;
		if (rc == 1) {
			e->lead = xstrdup(prev.lead);
			e->rule = xstrdup("reply");
			e->reason = xprintf("It is a reply about enquiry %s, "
			    "which went to this lead.", prev.reference);
			store_enquiry_clear(&prev);
			return 1;
		}
	}
	if (msg->status == MESSAGE_FAILED) {
		e->lead = xstrdup(conf->general.default_lead);
		e->rule = xstrdup("unreadable");
		e->reason = xprintf("postroom could not read the message (%s);"
		    " it is attached as received.", msg->status_detail);
		return 0;
	}
	memset(&d, 0, sizeof d);
	if (router_decide(env->router, msg, &d, cause) == -1)
		return -1;
	e->lead = xstrdup(d.lead);
	e->rule = xstrdup(*d.rule != '\0' ? d.rule : "default");
	e->score = d.score;
	e->reason = xstrdup(d.reason);
	route_decision_free(&d);
	return 0;
}

/*
 * The global cap, enquiry.acks_per_hour: anyone can write to us as
 * anyone, so however many senders there are, at most so many
 * acknowledgements go out in any hour.  Counted from the enquiries
 * table, so it holds across restarts and for every process; logged once
 * when it starts to bite (no enquiry capped in the last hour yet).
 * NULL when an acknowledgement may go, else the reason, in why.
 */
static const char *
enquiry_ack_capped(struct enquiry_env *env, struct store *s, time_t now,
    char *why, size_t size, char **cause)
{
	int	 limit = env->conf->enquiry.acks_per_hour;
	int64_t	 n;

	if (limit <= 0)
		return NULL;
	if (store_enquiry_ack_count(s, "queued", (int64_t)now -
	    ENQUIRY_CAP_WINDOW, &n, cause) == -1)
		return NULL;
	if (n < limit)
		return NULL;
	if (store_enquiry_ack_count(s, ENQUIRY_ACK_CAPPED, (int64_t)now -
	    ENQUIRY_CAP_WINDOW, &n, cause) == -1)
		return NULL;
	if (n == 0)
		log_warn("enquiry.acks_per_hour (%d) reached: enquiries are "
		    "routed and forwarded but not acknowledged until the "
		    "last hour holds fewer", limit);
	snprintf(why, size, "%s", ENQUIRY_ACK_CAPPED);
	return why;
}

/*
 * May this enquirer be acknowledged?  NULL when yes, else the reason,
 * written into why.
 */
static const char *
enquiry_may_ack(struct enquiry_env *env, struct store *s,
    const struct message *msg, int reply, time_t now, char *why,
    size_t size, char **cause)
{
	const char	*to;
	int64_t		 n;

	if (reply) {
		snprintf(why, size, "a reply to an existing enquiry");
		return why;
	}
	if (msg->status == MESSAGE_FAILED) {
		snprintf(why, size, "the message could not be read");
		return why;
	}
	if (!autoreply_allowed(env->conf, msg, why, size))
		return why;
	/*
	 * "At most one a day per sender": counted by From, the person; the
	 * acknowledgement itself goes to autoreply_address() (RFC 3834).
	 */
	to = autoreply_address(msg);
	if (*to == '\0' || *msg->from.addr == '\0') {
		snprintf(why, size, "no address to reply to");
		return why;
	}
	if (!enquiry_addressable(to) ||
	    !enquiry_addressable(msg->from.addr)) {
		snprintf(why, size, "the sender's address cannot be written "
		    "in a reply (not plain ASCII, or too long)");
		return why;
	}
	if (store_enquiry_acks_since(s, msg->from.addr, (int64_t)now -
	    ENQUIRY_ACK_WINDOW, &n, cause) == -1)
		return NULL;
	if (n > 0) {
		/* No address: this reason is kept, and may be logged. */
		snprintf(why, size, "the sender was already acknowledged "
		    "today");
		return why;
	}
	return enquiry_ack_capped(env, s, now, why, size, cause);
}

/*
 * 1 with *t when the len bytes at tok are a valid bounce (VERP) token,
 * checked with the salt of its subscriber in store s (a token of a person
 * since erased no longer matches); 0 when not; -1 with *cause when the
 * salt could not be looked up.
 */
static int
enquiry_bounce_token(struct enquiry_env *env, struct store *st,
    const char *tok, size_t len, struct token *t, char **cause)
{
	struct token_salts	 salts = { store_token_salt, st };
	char			*s, *why = NULL;
	int			 rc, found;

	s = xstrndup(tok, len);
	rc = token_check(env->key, &salts, s, time(NULL), t, &why);
	free(s);
	if (rc == -2) {
		*cause = why;
		return -1;
	}
	found = rc == 0 && t->purpose == TOKEN_BOUNCE;
	free(why);
	return found;
}

/*
 * The VERP token of a report sent back to bounces+TOKEN@domain: in the
 * envelope recipient headers an MTA adds, or in To/Cc.  1 with *t filled
 * when a valid bounce token is found, 0 when none is, -1 with *cause.
 */
static int
enquiry_verp(struct enquiry_env *env, struct store *st,
    const struct message *msg, struct token *t, char **cause)
{
	static const char *const hdrs[] = {
		"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To",
	};
	const char	*addr, *plus, *at;
	size_t		 i, n = sizeof hdrs / sizeof hdrs[0] + msg->nto;
	int		 found = 0;

	for (i = 0; i < n && !found; i++) {
		if (i < sizeof hdrs / sizeof hdrs[0])
			addr = message_header(msg, hdrs[i]);
		else
			addr = msg->to[i - sizeof hdrs / sizeof hdrs[0]].addr;
		if (addr == NULL)
			continue;
		addr += strspn(addr, " <");
		if (strncasecmp(addr, "bounces+", 8) != 0 ||
		    (at = strchr(addr, '@')) == NULL)
			continue;
		plus = addr + 8;
		found = enquiry_bounce_token(env, st, plus,
		    (size_t)(at - plus), t, cause);
	}
	return found;
}

/*
 * The report quotes the Message-ID of the message that came back: when it
 * is one of postroom's ("<random.TOKEN@domain>", newsletter_message_id())
 * with a valid bounce token, 1 with *t filled.
 */
static int
enquiry_bounce_msgid(struct enquiry_env *env, struct store *st,
    const struct message *msg, struct token *t, char **cause)
{
	const char	*id = msg->report_message_id, *dot, *at;

	if ((dot = strchr(id, '.')) == NULL ||
	    (at = strchr(dot, '@')) == NULL || at == dot + 1)
		return 0;
	return enquiry_bounce_token(env, st, dot + 1,
	    (size_t)(at - dot - 1), t, cause);
}

/*
 * A delivery report is not an enquiry: no forward, no reply.  Anyone can
 * send one, so it counts against a subscriber only when postroom can tell
 * it is about a message it sent them: by the VERP token of the address it
 * came back to, else by the report's Final-Recipient together with a
 * quoted Message-ID that postroom gave a message to that very address.
 * Anything else is recorded (filed and counted), never acted on.  Past
 * smtp.bounce_threshold hard bounces the address is marked bounced on
 * every list.
 */
static int
enquiry_bounce_suppress(const struct store_member *m, void *arg)
{
	char	***lists = arg;
	size_t	   n;

	if (m->status != STORE_MEMBER_CONFIRMED &&
	    m->status != STORE_MEMBER_PENDING)
		return 0;
	for (n = 0; (*lists)[n] != NULL; n++)
		;
	*lists = xreallocarray(*lists, n + 2, sizeof **lists);
	(*lists)[n] = xstrdup(m->list);
	(*lists)[n + 1] = NULL;
	return 0;
}

static int
enquiry_bounce(struct enquiry_env *env, struct store *s,
    const struct message *msg, const char *source, const char *hash,
    struct enquiry_result *res, char **cause)
{
	struct store_subscriber	 sub;
	struct store_bounce	 b;
	struct token		 t;
	char			**lists = NULL, *detail, *key;
	int64_t			 hard;
	size_t			 i, marked = 0;
	int			 rc = -1, found, added;

	memset(&b, 0, sizeof b);
	memset(&sub, 0, sizeof sub);
	/* The report itself, as enquiries are known again (Step 1 there). */
	if (*msg->message_id != '\0')
		key = xprintf("<%s>", msg->message_id);
	else
		key = xprintf("sha256:%s", hash);
	b.message_key = key;
	b.recipient = msg->report_recipient;
	b.status = msg->report_status;
	b.diagnostic = msg->report_diagnostic;
	b.source = source;
	/* The status class decides (RFC 3463); without one, the action. */
	if (*msg->report_status == '5' || (*msg->report_status == '\0' &&
	    strcasecmp(msg->report_action, "failed") == 0))
		b.kind = "hard";
	else
		b.kind = "soft";	/* 4.x.x, delayed, or nothing said */

	/* Step 1: whom it was about. */
	if ((found = enquiry_verp(env, s, msg, &t, cause)) == -1)
		goto out;
	if (found) {
		b.subscriber_id = t.subscriber;
		b.campaign_id = t.campaign;
		if ((found = store_subscriber_get_id(s, t.subscriber, &sub,
		    cause)) == -1)
			goto out;
		/* A merged id leads to the person it was merged into. */
		if (found)
			b.subscriber_id = sub.id;
		if (found && *b.recipient == '\0')
			b.recipient = sub.email;
	} else if (*msg->report_recipient != '\0' &&
	    (found = enquiry_bounce_msgid(env, s, msg, &t, cause)) != 0) {
		if (found == -1)
			goto out;
		if ((found = store_subscriber_get_id(s, t.subscriber, &sub,
		    cause)) == -1)
			goto out;
		/* Only about the address that message went to. */
		if (found && strcasecmp(sub.email,
		    msg->report_recipient) == 0) {
			b.subscriber_id = sub.id;
			b.campaign_id = t.campaign;
		}
	}

	/* Step 2: record it, and suppress past the threshold, together. */
	if (store_begin(s, cause) == -1)
		goto out;
	if ((added = store_bounce_add(s, &b, cause)) == -1)
		goto rollback;
	if (added == 0) {
		/* Read before and not filed (a crash between): once only. */
		store_rollback(s);
		log_info("%s: a delivery report already recorded (%s)", source,
		    key);
		enquiry_result_set(res, ENQUIRY_BOUNCE, NULL);
		rc = 0;
		goto out;
	}
	if (b.subscriber_id != 0 && strcmp(b.kind, "hard") == 0) {
		if (store_bounce_hard_count(s, b.subscriber_id,
		    (int64_t)time(NULL) - ENQUIRY_BOUNCE_WINDOW, &hard,
		    cause) == -1)
			goto rollback;
		if (hard >= env->conf->smtp.bounce_threshold) {
			lists = xcalloc(1, sizeof *lists);
			if (store_member_walk_subscriber(s, b.subscriber_id,
			    enquiry_bounce_suppress, &lists, cause) == -1)
				goto rollback;
			for (i = 0; lists[i] != NULL; i++) {
				if (store_member_set_status(s,
				    b.subscriber_id, lists[i],
				    STORE_MEMBER_BOUNCED, NULL, NULL,
				    cause) == -1)
					goto rollback;
			}
			marked = i;
		}
	}
	detail = xprintf("%s bounce, subscriber %lld, campaign %lld, status "
	    "%s", b.kind, (long long)b.subscriber_id,
	    (long long)b.campaign_id, *b.status != '\0' ? b.status : "none");
	store_event(s, "bounce", source, detail);
	free(detail);
	if (store_commit(s, cause) == -1)
		goto rollback;
	/* Said only once it is so. */
	if (marked > 0)
		log_info("subscriber %lld: %lld hard bounces; marked bounced "
		    "on %zu list%s", (long long)b.subscriber_id,
		    (long long)hard, marked, marked == 1 ? "" : "s");
	log_info("%s: %s bounce%s", source, b.kind, b.subscriber_id != 0 ?
	    ", matched to a subscriber" : ", not matched to a message "
	    "postroom sent: recorded, not acted on");
	enquiry_result_set(res, ENQUIRY_BOUNCE, NULL);
	rc = 0;
	goto out;

rollback:
	store_rollback(s);
out:
	if (lists != NULL) {
		for (i = 0; lists[i] != NULL; i++)
			free(lists[i]);
		free(lists);
	}
	store_subscriber_clear(&sub);
	free(key);
	return rc;
}

/*
 * Mail to a newsletter's unsubscribe+TOKEN@ address is not an enquiry,
 * whatever its token: unsubscribe.c acts on it and records it, keyed as
 * enquiries are known again (Step 1 there); nothing is sent.
 */
static int
enquiry_unsubscribe(struct enquiry_env *env, struct store *s,
    const struct message *msg, const char *source, const char *hash,
    struct enquiry_result *res, char **cause)
{
	struct unsubscribe_result	 u;
	char				*key;
	int				 rc;

	if (*msg->message_id != '\0')
		key = xprintf("<%s>", msg->message_id);
	else
		key = xprintf("sha256:%s", hash);
	rc = unsubscribe_receive(env->conf, env->key, s, msg, key, source,
	    time(NULL), &u, cause);
	free(key);
	if (rc == -1)
		return -1;
	enquiry_result_set(res, ENQUIRY_UNSUBSCRIBE, NULL);
	snprintf(res->unsubscribe, sizeof res->unsubscribe, "%s",
	    unsubscribe_outcome_name(u.outcome));
	return 0;
}

/* The key a message is known by: "<Message-ID>", else its hash. */
static char *
enquiry_key(const struct message *msg, const char *hash)
{
	if (*msg->message_id != '\0')
		return xprintf("<%s>", msg->message_id);
	return xprintf("sha256:%s", hash);
}

/* cause with every address in it masked (log.h), as a new string. */
static char *
enquiry_masked(const char *cause)
{
	char	buf[512];

	log_mask_addresses(cause != NULL ? cause : "", buf, sizeof buf);
	return xstrdup(buf);
}

/*
 * Record and queue a new enquiry (Steps 2 and 3 of enquiry_receive).
 * attempts failed before; with raw_only, after ENQUIRY_MAX_ATTEMPTS of
 * them, nothing of the message is used but its bytes: it goes to the
 * default lead as received, recorded as unreadable, unacknowledged.
 */
static int
enquiry_route(struct enquiry_env *env, struct store *s, const char *raw,
    size_t len, const struct message *msg, const char *source,
    const char *hash, const char *key, int64_t attempts,
    const char *last_error, struct enquiry_result *res, char **cause)
{
	const struct conf	*conf = env->conf;
	struct store_enquiry	 e;
	struct enquiry_ctx	 c;
	struct buf		 ack;
	struct tm		 tm;
	time_t			 now = time(NULL);
	int64_t			 n;
	char			 ref[32], why[AUTOREPLY_WHY_MAX];
	char			*ack_why = NULL, *c2;
	const char		*no_ack;
	int			 reply = 0, raw_only, forwarded, rc = -1;

	raw_only = attempts >= ENQUIRY_MAX_ATTEMPTS;
	memset(&e, 0, sizeof e);
	memset(&c, 0, sizeof c);
	buf_init(&ack, 0);

	/* Step 2: decide, outside the transaction (the rules take time). */
	if (raw_only) {
		e.lead = xstrdup(conf->general.default_lead);
		e.rule = xstrdup("unreadable");
		e.reason = xprintf("postroom could not process the message "
		    "(%lld attempts; the last: %s); it is attached as "
		    "received.", (long long)attempts, last_error);
		no_ack = "the message could not be processed";
	} else {
		if ((reply = enquiry_decide(env, s, msg, &e, cause)) == -1)
			goto out;
		*cause = NULL;
		no_ack = enquiry_may_ack(env, s, msg, reply, now, why, sizeof why,
		    cause);
		if (no_ack == NULL && *cause != NULL)
			goto out;
	}
	e.message_id = xstrdup(msg->message_id);
	e.content_hash = xstrdup(hash);
	e.sender = xstrdup(msg->from.addr);
	e.sender_name = xstrdup(msg->from.name);
	e.subject = xstrdup(msg->subject);
	e.source = xstrdup(source);
	e.received_at = e.routed_at = (int64_t)now;
	e.parse_status = xstrdup(raw_only ? "failed" :
	    enquiry_status_name(msg));

	c.conf = conf;
	c.msg = msg;
	c.raw = raw;
	c.len = len;
	c.e = &e;
	c.raw_only = raw_only;
	c.subject = raw_only ? xstrdup("") : enquiry_short(msg->subject);
	c.name = raw_only ? xstrdup("") : enquiry_short(msg->from.name);
	c.address = raw_only ? xstrdup("") : enquiry_short(msg->from.addr);
	c.addressable = !raw_only && enquiry_addressable(msg->from.addr);
	c.lead = conf_lead_find(conf, e.lead);
	if (c.lead == NULL && no_ack == NULL) {
		/* Nobody to name in an acknowledgement. */
		no_ack = "its lead is not configured";
	}
	c.acked = no_ack == NULL;
	c.why_no_ack = no_ack;

	/* Step 3: one transaction: the row, the forwards, the ack. */
	if (store_begin(s, cause) == -1)
		goto out;
	localtime_r(&now, &tm);
	snprintf(ref, sizeof ref, "enquiry-%04d", tm.tm_year + 1900);
	if (store_counter_next(s, ref, &n, cause) == -1)
		goto rollback;
	enquiry_format_reference(ref, sizeof ref,
	    conf->general.reference_prefix, tm.tm_year + 1900, n);
	e.reference = xstrdup(ref);
	/*
	 * The acknowledgement first: one that cannot be built is "no
	 * acknowledgement" and why, and the forward says so.
	 */
	if (c.acked && enquiry_ack_build(env, &c, &ack, &c2) == -1) {
		ack_why = enquiry_masked(c2);
		free(c2);
		c2 = ack_why;
		ack_why = xprintf("the acknowledgement could not be built: %s",
		    c2);
		free(c2);
		c.acked = 0;
		c.why_no_ack = no_ack = ack_why;
	}
	e.ack = xstrdup(no_ack == NULL ? "queued" : no_ack);
	if (store_enquiry_add(s, &e, raw, len, cause) == -1)
		goto rollback;
	if (c.lead == NULL)
		log_warn("%s: lead \"%s\" is not configured: recorded, not "
		    "forwarded", e.reference, e.lead);
	else {
		c2 = xprintf("forward:%s", e.reference);
		forwarded = enquiry_forward(conf, env->forward, s, &c, c2,
		    cause);
		free(c2);
		if (forwarded == -1)
			goto rollback;
	}
	if (c.acked && enquiry_acknowledge(s, &c, &ack, cause) == -1)
		goto rollback;
	if (attempts > 0 && store_inbound_failure_clear(s, key, cause) == -1)
		goto rollback;
	if (store_commit(s, cause) == -1)
		goto rollback;

	/* By reference: no address or subject, which forget cannot reach. */
	if (raw_only)
		log_warn("%s: %s could not be processed in %lld attempts: "
		    "forwarded as received to %s", e.reference, source,
		    (long long)attempts, e.lead);
	log_info("%s: %s -> %s (rule %s)%s%s", e.reference, source, e.lead,
	    e.rule,
	    c.acked ? ", acknowledged" : "; no acknowledgement: ",
	    c.acked ? "" : no_ack);
	enquiry_result_set(res, reply ? ENQUIRY_REPLY : ENQUIRY_ROUTED, &e);
	rc = 0;
	goto out;

rollback:
	store_rollback(s);
out:
	buf_free(&ack);
	free(c.subject);
	free(c.name);
	free(c.address);
	free(ack_why);
	store_enquiry_clear(&e);
	return rc;
}

int
enquiry_receive(struct enquiry_env *env, struct store *s, const char *raw,
    size_t len, const struct message *msg, const char *source,
    struct enquiry_result *res, char **cause)
{
	const struct conf	*conf = env->conf;
	struct store_enquiry	 prev;
	int64_t			 attempts = 0;
	char			 hash[65], *key, *last = NULL, *why, *c2 = NULL;
	int			 rc;

	/* Step 1: seen before?  Then it was routed before: nothing again. */
	enquiry_hash(raw, len, hash);
	if ((rc = store_enquiry_find(s, msg->message_id, hash, &prev,
	    cause)) == -1)
		return -1;
	if (rc == 1) {
		enquiry_result_set(res, ENQUIRY_DUPLICATE, &prev);
		store_enquiry_clear(&prev);
		return 0;
	}

	/*
	 * Failed before?  A message that keeps failing is not tried for
	 * ever: after ENQUIRY_MAX_ATTEMPTS (counted in the store, so across
	 * restarts) it goes as received to the default lead.
	 */
	key = enquiry_key(msg, hash);
	if (store_inbound_failure_get(s, key, &attempts, &last,
	    cause) == -1) {
		free(key);
		return -1;
	}
	if (attempts < ENQUIRY_MAX_ATTEMPTS && msg->status != MESSAGE_FAILED &&
	    route_is_bounce(conf, msg))
		rc = enquiry_bounce(env, s, msg, source, hash, res, cause);
	else if (attempts < ENQUIRY_MAX_ATTEMPTS &&
	    msg->status != MESSAGE_FAILED && unsubscribe_addressed(conf, msg))
		rc = enquiry_unsubscribe(env, s, msg, source, hash, res,
		    cause);
	else
		rc = enquiry_route(env, s, raw, len, msg, source, hash, key,
		    attempts, last != NULL ? last : "", res, cause);

	/* Count a failure, unless it was only the database being busy. */
	if (rc == -1 && !store_busy(s)) {
		why = enquiry_masked(*cause);
		if (store_inbound_failure_add(s, key, why, (int64_t)time(NULL),
		    &attempts, &c2) == -1) {
			log_warn("%s: the failure was not counted: %s", source,
			    c2);
			free(c2);
		} else {
			free(*cause);
			*cause = xprintf("%s (attempt %lld of %d%s)", why,
			    (long long)attempts, ENQUIRY_MAX_ATTEMPTS,
			    attempts >= ENQUIRY_MAX_ATTEMPTS ? "; next time "
			    "it is forwarded as received to the default lead"
			    : "");
		}
		free(why);
	}
	free(last);
	free(key);
	return rc;
}
