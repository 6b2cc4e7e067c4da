/*
 * unsubscribe.c - an unsubscribe request by mail: a message to a
 * newsletter's List-Unsubscribe mailto address, unsubscribe+TOKEN@DOMAIN.
 *
 * Owns: recognising that address among a message's recipients (only
 * postroom's own: the prefix it writes and general.domain, the domain it
 * writes it on), choosing among several, what the token's check means
 * here, and the record of each request (mail_unsubscribes and the audit
 * log).  Does not own: making the address (newsletter.c), the token format
 * (token.c), the membership move (store_member_set_status(), the one the
 * web's unsubscribe page uses), sending anything (nothing is sent), or
 * filing the message (the sources).
 *
 * The token is the authority, as the web link's is: a request counts
 * whoever sent it (a person may write from another address than the one
 * subscribed), and is never an enquiry, whatever its token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "log.h"
#include "message.h"
#include "store.h"
#include "token.h"
#include "unsubscribe.h"
#include "xmalloc.h"

/* Where an MTA writes the envelope recipient; To and Cc are msg->to. */
static const char *const unsubscribe_envelope_headers[] = {
	"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", NULL
};

/* How good a token is; lower is better. */
enum unsubscribe_rank {
	UNSUBSCRIBE_RANK_VALID,
	UNSUBSCRIBE_RANK_EXPIRED,
	UNSUBSCRIBE_RANK_MISUSED,
	UNSUBSCRIBE_RANK_GONE,		/* names nobody who is there */
	UNSUBSCRIBE_RANK_FORGED,
	UNSUBSCRIBE_RANK_NONE,
};

/* The best token among a message's unsubscribe addresses. */
struct unsubscribe_best {
	const unsigned char	*key;
	struct token_salts	 salts;	/* the store's */
	time_t			 now;
	char			*failed; /* a salt could not be looked up */
	enum unsubscribe_rank	 rank;
	struct token		 t;		/* unless forged */
	char			 why[32];	/* forged: token_check() */
};

const char *
unsubscribe_outcome_name(enum unsubscribe_outcome o)
{
	switch (o) {
	case UNSUBSCRIBE_DONE:
		return "done";
	case UNSUBSCRIBE_ALREADY:
		return "already";
	case UNSUBSCRIBE_UNKNOWN:
		return "unknown";
	case UNSUBSCRIBE_FORGED:
		return "forged";
	case UNSUBSCRIBE_EXPIRED:
		return "expired";
	case UNSUBSCRIBE_MISUSED:
		return "misused";
	case UNSUBSCRIBE_SEEN:
		break;
	}
	return "seen";
}

static const char *
unsubscribe_purpose_name(enum token_purpose p)
{
	switch (p) {
	case TOKEN_CONFIRM:
		return "a confirmation";
	case TOKEN_UNSUBSCRIBE:
		return "an unsubscribe";
	case TOKEN_PREFERENCES:
		return "a preferences";
	case TOKEN_TEST_COPY:
		return "a test copy's";
	case TOKEN_BOUNCE:
		break;
	}
	return "a bounce (VERP)";
}

/* The domain postroom writes its addresses on, or NULL. */
static const char *
unsubscribe_domain(const struct conf *conf)
{
	const char	*at;

	if (conf->general.domain != NULL && *conf->general.domain != '\0')
		return conf->general.domain;
	if (conf->general.from_address != NULL &&
	    (at = strrchr(conf->general.from_address, '@')) != NULL &&
	    at[1] != '\0')
		return at + 1;
	return NULL;
}

/*
 * Whether the len bytes at a are UNSUBSCRIBE_PREFIX TOKEN @ domain: 1
 * with the token's bytes in *tok and *toklen, else 0.
 */
static int
unsubscribe_match(const char *domain, const char *a, size_t len,
    const char **tok, size_t *toklen)
{
	const char	*at = NULL;
	size_t		 plen = strlen(UNSUBSCRIBE_PREFIX), i;

	for (i = 0; i < len; i++) {
		if (a[i] == '@')
			at = a + i;
	}
	if (at == NULL || (size_t)(at - a) < plen ||
	    strncasecmp(a, UNSUBSCRIBE_PREFIX, plen) != 0)
		return 0;
	if (len - (size_t)(at + 1 - a) != strlen(domain) ||
	    strncasecmp(at + 1, domain, strlen(domain)) != 0)
		return 0;
	*tok = a + plen;
	*toklen = (size_t)(at - *tok);
	return 1;
}

/* Weigh one token; keep it in *b when it is better than what b holds. */
static void
unsubscribe_weigh(struct unsubscribe_best *b, const char *tok, size_t len)
{
	struct token		 t;
	enum unsubscribe_rank	 rank;
	char			*s, *cause = NULL;
	int			 rc;

	s = xstrndup(tok, len);
	memset(&t, 0, sizeof t);
	if ((rc = token_check(b->key, &b->salts, s, b->now, &t,
	    &cause)) == 0)
		rank = t.purpose == TOKEN_UNSUBSCRIBE ?
		    UNSUBSCRIBE_RANK_VALID : UNSUBSCRIBE_RANK_MISUSED;
	else if (rc == -2) {
		/* Not weighed: the whole request is tried again later. */
		if (b->failed == NULL)
			b->failed = cause;
		else
			free(cause);
		free(s);
		return;
	} else if (strcmp(cause, "expired") == 0)
		rank = t.purpose == TOKEN_UNSUBSCRIBE ?
		    UNSUBSCRIBE_RANK_EXPIRED : UNSUBSCRIBE_RANK_MISUSED;
	else if (strcmp(cause, "unknown subscriber") == 0)
		rank = UNSUBSCRIBE_RANK_GONE;
	else
		rank = UNSUBSCRIBE_RANK_FORGED;
	if (rank < b->rank) {
		b->rank = rank;
		b->t = t;
		snprintf(b->why, sizeof b->why, "%s",
		    cause != NULL ? cause : "");
	}
	free(cause);
	free(s);
}

/*
 * Every unsubscribe address among msg's recipients: weighed into b when b
 * is not NULL.  Returns how many there are.  The envelope headers may hold
 * several addresses, in angle brackets or not.
 */
static size_t
unsubscribe_walk(const struct conf *conf, const struct message *msg,
    struct unsubscribe_best *b)
{
	const char	*domain = unsubscribe_domain(conf), *v, *end, *tok;
	size_t		 i, j, n = 0, toklen;

	if (domain == NULL)
		return 0;
	for (i = 0; i < msg->nto; i++) {
		v = msg->to[i].addr;
		if (!unsubscribe_match(domain, v, strlen(v), &tok, &toklen))
			continue;
		n++;
		if (b != NULL && b->rank != UNSUBSCRIBE_RANK_VALID)
			unsubscribe_weigh(b, tok, toklen);
	}
	for (i = 0; i < msg->nheaders; i++) {
		for (j = 0; unsubscribe_envelope_headers[j] != NULL; j++) {
			if (strcasecmp(msg->headers[i].name,
			    unsubscribe_envelope_headers[j]) == 0)
				break;
		}
		if (unsubscribe_envelope_headers[j] == NULL)
			continue;
		for (v = msg->headers[i].value; *v != '\0'; v = end) {
			v += strspn(v, " \t<>,;");
			end = v + strcspn(v, " \t<>,;");
			if (!unsubscribe_match(domain, v, (size_t)(end - v),
			    &tok, &toklen))
				continue;
			n++;
			if (b != NULL && b->rank != UNSUBSCRIBE_RANK_VALID)
				unsubscribe_weigh(b, tok, toklen);
		}
	}
	return n;
}

int
unsubscribe_token_stale(const struct token *t, const struct store_member *m)
{
	int64_t	since;

	since = m->confirmed_at > m->unsubscribed_at ? m->confirmed_at :
	    m->unsubscribed_at;
	return (int64_t)t->issued < since;
}

int
unsubscribe_addressed(const struct conf *conf, const struct message *msg)
{
	return unsubscribe_walk(conf, msg, NULL) > 0;
}

/*
 * For a valid token, in the caller's transaction: the list (in the token,
 * or - the mailto's, which has no room for it - its campaign's), then the
 * move.  Fills outcome, u's list and the detail.
 */
static int
unsubscribe_act(struct store *s, const struct token *t, const char *source,
    struct store_unsubscribe *u, enum unsubscribe_outcome *outcome,
    char **list, char **detail, char **cause)
{
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct store_campaign	 c;
	int			 found, moved;

	if (*t->list != '\0')
		*list = xstrdup(t->list);
	else if (t->campaign != 0) {
		memset(&c, 0, sizeof c);
		if ((found = store_campaign_get(s, t->campaign, &c,
		    cause)) == -1)
			return -1;
		if (found)
			*list = xstrdup(c.list);
		store_campaign_clear(&c);
	}
	u->list = *list;
	if (*list == NULL) {
		*outcome = UNSUBSCRIBE_UNKNOWN;
		*detail = t->campaign != 0 ? xprintf("campaign %lld, which "
		    "names the list, is not known", (long long)t->campaign) :
		    xstrdup("the token names no list");
		return 0;
	}

	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if ((found = store_subscriber_get_id(s, t->subscriber, &sub,
	    cause)) == -1)
		return -1;
	store_subscriber_clear(&sub);
	if (!found) {
		*outcome = UNSUBSCRIBE_UNKNOWN;
		*detail = xstrdup("no such subscriber (erased?)");
		return 0;
	}
	if ((found = store_member_get(s, t->subscriber, *list, &m,
	    cause)) == -1)
		return -1;
	if (!found) {
		*outcome = UNSUBSCRIBE_ALREADY;
		*detail = xstrdup("not on the list");
		return 0;
	}
	if (m.status != STORE_MEMBER_PENDING &&
	    m.status != STORE_MEMBER_CONFIRMED) {
		*outcome = UNSUBSCRIBE_ALREADY;
		*detail = xprintf("already %s",
		    store_member_status_name(m.status));
		store_member_clear(&m);
		return 0;
	}
	if (unsubscribe_token_stale(t, &m)) {
		*outcome = UNSUBSCRIBE_EXPIRED;
		*detail = xstrdup("the token was made before they last "
		    "subscribed to the list");
		store_member_clear(&m);
		return 0;
	}
	store_member_clear(&m);
	if ((moved = store_member_set_status(s, t->subscriber, *list,
	    STORE_MEMBER_UNSUBSCRIBED, "mail", source, cause)) == -1)
		return -1;
	*outcome = moved ? UNSUBSCRIBE_DONE : UNSUBSCRIBE_ALREADY;
	*detail = xstrdup(moved ? "unsubscribed" : "already unsubscribed");
	return 0;
}

int
unsubscribe_receive(const struct conf *conf,
    const unsigned char key[TOKEN_KEY_LEN], struct store *s,
    const struct message *msg, const char *message_key, const char *source,
    time_t now, struct unsubscribe_result *res, char **cause)
{
	struct unsubscribe_best	 b;
	struct store_unsubscribe u;
	enum unsubscribe_outcome outcome;
	struct tm		 tm;
	char			*list = NULL, *detail = NULL, *event;
	char			 when[32];
	const char		*name;
	int			 rc;

	memset(res, 0, sizeof *res);
	memset(&b, 0, sizeof b);
	b.key = key;
	b.salts.find = store_token_salt;
	b.salts.arg = s;
	b.now = now;
	b.rank = UNSUBSCRIBE_RANK_NONE;
	if (unsubscribe_walk(conf, msg, &b) == 0)
		fatalx("%s: no unsubscribe address (the caller did not ask "
		    "unsubscribe_addressed())", __func__);
	if (b.failed != NULL && b.rank != UNSUBSCRIBE_RANK_VALID) {
		*cause = b.failed;
		return -1;
	}
	free(b.failed);

	/* Step 1: once only.  The write lock is held from here on. */
	if (store_begin(s, cause) == -1)
		return -1;
	if ((rc = store_unsubscribe_seen(s, message_key, cause)) == -1)
		goto rollback;
	if (rc == 1) {
		store_rollback(s);
		log_info("%s: an unsubscribe request already recorded; "
		    "nothing done again", source);
		res->outcome = UNSUBSCRIBE_SEEN;
		return 0;
	}

	/* Step 2: what the token says, and the move when it may be made. */
	memset(&u, 0, sizeof u);
	u.message_key = message_key;
	u.source = source;
	u.received_at = (int64_t)now;
	if (b.rank != UNSUBSCRIBE_RANK_FORGED &&
	    b.rank != UNSUBSCRIBE_RANK_GONE) {
		/* Authentic: its ids may be kept. */
		u.subscriber_id = b.t.subscriber;
		u.campaign_id = b.t.campaign;
		if (*b.t.list != '\0')
			u.list = b.t.list;
	}
	switch (b.rank) {
	case UNSUBSCRIBE_RANK_VALID:
		if (unsubscribe_act(s, &b.t, source, &u, &outcome, &list,
		    &detail, cause) == -1)
			goto rollback;
		break;
	case UNSUBSCRIBE_RANK_EXPIRED:
		outcome = UNSUBSCRIBE_EXPIRED;
		if (b.t.issued == 0)
			detail = xstrdup("a retired (version 1) token");
		else {
			gmtime_r(&b.t.expires, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC",
			    &tm);
			detail = xprintf("the token expired on %s", when);
		}
		break;
	case UNSUBSCRIBE_RANK_MISUSED:
		outcome = UNSUBSCRIBE_MISUSED;
		detail = xprintf("%s token", unsubscribe_purpose_name(
		    b.t.purpose));
		break;
	case UNSUBSCRIBE_RANK_GONE:
		outcome = UNSUBSCRIBE_UNKNOWN;
		detail = xstrdup("no such subscriber (erased?)");
		break;
	default:
		outcome = UNSUBSCRIBE_FORGED;
		detail = xstrdup(strcmp(b.why, "malformed") == 0 ?
		    "not a token" : "not signed with our key");
		break;
	}

	/* Step 3: the record, with the move, or neither. */
	name = unsubscribe_outcome_name(outcome);
	u.outcome = name;
	u.detail = detail;
	if ((rc = store_unsubscribe_add(s, &u, cause)) == -1)
		goto rollback;
	if (rc == 0) {
		/* Step 1 holds the lock: nobody can have got in between. */
		*cause = xstrdup("the unsubscribe request was recorded "
		    "meanwhile");
		goto rollback;
	}
	event = xprintf("%s: subscriber %lld, list %s, campaign %lld: %s",
	    name, (long long)u.subscriber_id, u.list != NULL ? u.list : "-",
	    (long long)u.campaign_id, detail);
	(void)store_event(s, "unsubscribe.mail", source, event);
	free(event);
	if (store_commit(s, cause) == -1)
		goto rollback;

	/* Nobody's address or name: the subscriber's id and the list. */
	switch (outcome) {
	case UNSUBSCRIBE_DONE:
	case UNSUBSCRIBE_ALREADY:
	case UNSUBSCRIBE_UNKNOWN:
		log_info("%s: unsubscribe request by mail: subscriber %lld, "
		    "list %s: %s", source, (long long)u.subscriber_id,
		    u.list != NULL ? u.list : "-", detail);
		break;
	default:
		log_warn("%s: unsubscribe request by mail refused, token %s "
		    "(%s): recorded, nothing changed", source, name, detail);
		break;
	}
	res->outcome = outcome;
	res->subscriber = u.subscriber_id;
	if (u.list != NULL)
		snprintf(res->list, sizeof res->list, "%s", u.list);
	free(list);
	free(detail);
	return 0;

rollback:
	store_rollback(s);
	free(list);
	free(detail);
	return -1;
}
