/*
 * web-subscribe.c - the pages that join, confirm, leave and change a
 * subscription.
 *
 *	GET  /subscribe/LIST		the form: email, name, consent
 *	POST /subscribe/LIST		a pending membership and a
 *					confirmation email; the same "check
 *					your inbox" answer whatever happened,
 *					at the same time after the request
 *	GET  /confirm/TOKEN		a page with a Confirm button
 *	POST /confirm/TOKEN		confirm
 *	GET  /unsubscribe/TOKEN		a page with an Unsubscribe button
 *	POST /unsubscribe/TOKEN		leave; RFC 8058's one-click POST gets
 *					the bare 200 it expects
 *	GET  /preferences/TOKEN		immediate or digest per list, or leave
 *	POST /preferences/TOKEN		save those choices
 *
 * A GET never changes anything (link scanners follow links); each POST
 * does its work in one transaction.  No email address is logged at info
 * level or put in a URL; subscriber ids and list slugs are.
 *
 * Owns: what these pages do to subscribers and memberships (through
 * store.h), the rate limits on subscribing (per client, per address, the
 * hourly cap on confirmation emails) and the honeypot.  Does not own:
 * HTTP, routing, the cross-site check, the headers, the layout, the error
 * pages and the held-back answer (web.c, through web-int.h), the wording
 * (templates/web/), the token format (token.c), the confirmation email
 * (confirm.c), form encodings (form.c), the SQL (store-*.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "conf.h"
#include "confirm.h"
#include "crypto.h"
#include "form.h"
#include "hex.h"
#include "log.h"
#include "newsletter.h"
#include "store.h"
#include "token.h"
#include "unsubscribe.h"
#include "value.h"
#include "web.h"
#include "web-int.h"
#include "xmalloc.h"

/* --- /subscribe/LIST ---------------------------------------------- */

/* One more request against a rate limit: 1 over it, 0 not, -1. */
static int
web_limit(struct web_req *r, const char *key, int limit, char **cause)
{
	int64_t	count;

	if (limit <= 0)
		return 0;
	if (store_web_hit(r->store, key, r->now, WEB_RATE_WINDOW, &count,
	    cause) != 0)
		return -1;
	return count > limit;
}

/* The rate-limit key of an address: a keyed hash, never the address. */
static char *
web_address_key(struct web_req *r, const char *email)
{
	unsigned char	 mac[CRYPTO_SHA256_LEN];
	char		*folded, *data, hex[33];

	/* One person, one count, whatever the case it is typed in. */
	folded = address_key(email);
	data = xprintf("postroom-web-subscribe-v1:%s", folded);
	free(folded);
	crypto_hmac_sha256(r->key, TOKEN_KEY_LEN, data, strlen(data), mac);
	free(data);
	hex_encode(mac, 16, hex);
	return xprintf("web.addr:%s", hex);
}

/* What a person typed as their name: "" is fine; NULL when acceptable. */
static const char *
web_name_bad(const char *name)
{
	const unsigned char	*p;

	if (strlen(name) > WEB_NAME_MAX)
		return "Your name is too long: shorten it, or leave it out";
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "Your name cannot contain tabs or line breaks";
	}
	return NULL;
}

static void
web_field_error(struct value *errors, struct value *data, const char *field,
    const char *message)
{
	struct value	*o;
	char		*key;

	o = value_new_object();
	web_set(o, "field", field);
	web_set(o, "message", message);
	value_list_append(errors, o);
	key = xprintf("%s_error", field);
	web_set(data, key, message);
	free(key);
}

/*
 * The subscribe form, blank or with the values of a POST; data (consumed)
 * may already hold "errors" (a list of { field, message }) and a
 * "FIELD_error" message for each field in error.
 */
static int
web_subscribe_form(struct web_req *r, unsigned int status,
    const struct conf_list *l, struct form *f, struct value *data)
{
	struct value	*o;
	const char	*s;
	int		 errors;

	value_object_set(data, "list", web_list_value(l, NULL));
	o = value_new_object();
	web_set(o, "email", f != NULL && (s = form_get(f, "email")) != NULL ?
	    s : "");
	web_set(o, "name", f != NULL && (s = form_get(f, "name")) != NULL ?
	    s : "");
	value_object_set(o, "consent", value_new_bool(f != NULL &&
	    (s = form_get(f, "consent")) != NULL && *s != '\0'));
	value_object_set(data, "form", o);
	errors = value_list_len(value_object_get(data, "errors")) > 0;
	value_object_set(data, "has_errors", value_new_bool(errors));
	return web_answer_page(r, status, WEB_PAGE_SUBSCRIBE, errors ?
	    "Error: subscribe" : "Subscribe", data);
}

/*
 * The global cap, web.confirmations_per_hour: the form sends mail to any
 * address typed into it, so however many clients ask, at most so many
 * confirmation emails an hour.  Counted in the database (one "web."
 * counter, fixed one-hour windows), so it holds across restarts and
 * processes; logged once a window, when the first one is held back.
 * 1 capped, 0 not, -1 with *cause.
 */
static int
web_confirm_capped(struct web_req *r, char **cause)
{
	int	limit = r->conf->web.confirmations_per_hour;
	int64_t	count;

	if (limit <= 0)
		return 0;
	if (store_web_hit(r->store, WEB_KEY_CONFIRMATIONS, r->now,
	    WEB_RATE_WINDOW, &count, cause) != 0)
		return -1;
	if (count == (int64_t)limit + 1)
		log_warn("web: web.confirmations_per_hour (%d) reached: the "
		    "subscribe form sends no confirmation emails until the "
		    "hour is over", limit);
	return count > limit;
}

/*
 * The work of a subscribe request, in one transaction: a new subscriber
 * and pending membership, or none; a confirmation email unless they are
 * confirmed already or suppressed.  *what says what happened, for the
 * log (no address in it).  0, or -1.
 */
static int
web_subscribe_apply(struct web_req *r, const struct conf_list *l,
    const char *email, const char *name, const char **what, char **cause)
{
	struct store		*s = r->store;
	struct store_member	 m;
	int64_t			 id = 0;
	char			*source, *detail;
	int			 found, queued = 0, capped;

	memset(&m, 0, sizeof m);
	source = xprintf("web:%s", r->client);
	if (store_begin(s, cause) != 0)
		goto fail;
	if ((found = store_subscriber_suppressed(s, email, cause)) == -1)
		goto fail;
	if (found) {
		*what = "the address is suppressed; nothing sent";
		goto done;
	}
	if (store_subscriber_add(s, email, *name != '\0' ? name : NULL, NULL,
	    &id, cause) == -1)
		goto fail;
	if ((found = store_member_get(s, id, l->slug, &m, cause)) == -1)
		goto fail;
	if (!found) {
		if (store_member_add(s, id, l->slug, STORE_MEMBER_PENDING,
		    NULL, "web", source, cause) == -1)
			goto fail;
	}
	if (found && m.status == STORE_MEMBER_CONFIRMED)
		*what = "already confirmed; nothing sent";
	else if ((capped = web_confirm_capped(r, cause)) == -1)
		goto fail;
	else if (capped)
		*what = "over the hourly cap on confirmations; nothing sent";
	else {
		/* Pending, new, or coming back after leaving. */
		if ((queued = confirm_add(r->confirm, s, id, l->slug,
		    r->now, cause)) == -1)
			goto fail;
		*what = queued ? "confirmation email queued" :
		    "a confirmation email was already queued today";
	}
	detail = xprintf("list %s from %s: %s", l->slug, r->client, *what);
	store_event(s, "web.subscribe", email, detail);
	free(detail);
done:
	if (store_commit(s, cause) != 0)
		goto fail;
	/* Said once it is so: "queued" only after the commit that queues. */
	if (id != 0)
		log_info("web: subscribe to %s from %s: subscriber %lld: %s",
		    l->slug, r->client, (long long)id, *what);
	else
		log_info("web: subscribe to %s from %s: %s", l->slug,
		    r->client, *what);
	store_member_clear(&m);
	free(source);
	return 0;

fail:
	store_rollback(s);
	store_member_clear(&m);
	free(source);
	return -1;
}

/* "Check your inbox", the one answer to every accepted request. */
static int
web_check_inbox(struct web_req *r, const struct conf_list *l,
    const char *email)
{
	struct value	*data;
	char		*display = NULL;

	data = value_new_object();
	value_object_set(data, "list", web_list_value(l, NULL));
	if (address_valid(email))
		display = address_display(email);
	web_set(data, "email", display != NULL ? display : email);
	free(display);
	return web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_CHECK_INBOX,
	    "Check your inbox", data);
}

int
web_subscribe(struct web_req *r, const char *slug)
{
	const struct conf_list	*l;
	struct form		 f;
	struct value		*errors, *data;
	int			 ret;
	const char		*email, *name, *consent, *hp, *why, *what;
	char			*norm = NULL, *cause = NULL, *key, *msg;
	int			 over;

	if ((l = conf_list_find(r->conf, slug)) == NULL)
		return web_answer_error_link(r, WEB_HTTP_NOT_FOUND,
		    "No such list", "We have no mailing list at this "
		    "address. It may have closed, or the link may be "
		    "incomplete.", "", "See the lists you can join");
	if (r->method == WEB_GET)
		return web_subscribe_form(r, WEB_HTTP_OK, l, NULL,
		    value_new_object());

	/*
	 * Whatever happens below - a new address, one already confirmed,
	 * suppressed, over a cap - takes different work; the answer goes
	 * out WEB_SUBSCRIBE_ANSWER_MS after the request came in, never
	 * sooner, so that its timing does not tell which.
	 */
	web_answer_after(r, WEB_SUBSCRIBE_ANSWER_MS);
	if (web_read_form(r, &f, &ret) != 0)
		return ret;
	email = form_get(&f, "email");
	name = form_get(&f, "name");
	consent = form_get(&f, "consent");
	if (name == NULL)
		name = "";
	while (*name == ' ')
		name++;

	/* Step 1: a robot that fills every field gets the usual answer. */
	if ((hp = form_get(&f, "website")) != NULL && *hp != '\0') {
		log_info("web: subscribe to %s from %s: honeypot field filled; "
		    "ignored", l->slug, r->client);
		ret = web_check_inbox(r, l, email != NULL ? email : "");
		goto out;
	}

	/* Step 2: at most so many requests an hour from one client. */
	key = xprintf("web.ip:%s", r->client_key);
	over = web_limit(r, key, r->conf->web.subscribe_per_hour, &cause);
	free(key);
	if (over == -1) {
		ret = web_answer_busy(r, cause);
		goto out;
	}
	if (over) {
		log_info("web: subscribe to %s from %s: more than %d requests "
		    "this hour; refused", l->slug, r->client,
		    r->conf->web.subscribe_per_hour);
		ret = web_answer_error_retry(r, WEB_HTTP_TOO_MANY_REQUESTS,
		    "Too many requests", "There have been too many requests "
		    "to subscribe from your connection in the last hour. "
		    "Please try again later.", "3600");
		goto out;
	}

	/* Step 3: what they typed. */
	errors = value_new_list();
	data = value_new_object();
	if (email == NULL || *email == '\0')
		web_field_error(errors, data, "email",
		    "Enter your email address");
	else if (address_normalise(email, &norm, &cause) != 0) {
		msg = xprintf("Enter an email address like "
		    "name@example.org (this one: %s)", cause);
		web_field_error(errors, data, "email", msg);
		free(msg);
		free(cause);
		cause = NULL;
	}
	if ((why = web_name_bad(name)) != NULL)
		web_field_error(errors, data, "name", why);
	if (consent == NULL || *consent == '\0')
		web_field_error(errors, data, "consent", "Tick the box to say "
		    "you want these emails");
	if (value_list_len(errors) > 0) {
		value_object_set(data, "errors", errors);
		ret = web_subscribe_form(r, WEB_HTTP_BAD_REQUEST, l, &f, data);
		goto out;
	}
	value_free(errors);
	value_free(data);

	/* Step 4: at most so many confirmation emails to one address. */
	key = web_address_key(r, norm);
	over = web_limit(r, key, WEB_SUBSCRIBE_PER_ADDRESS, &cause);
	free(key);
	if (over == -1) {
		ret = web_answer_busy(r, cause);
		goto out;
	}
	if (over)
		log_info("web: subscribe to %s from %s: more than %d requests "
		    "this hour for one address; nothing sent", l->slug,
		    r->client, WEB_SUBSCRIBE_PER_ADDRESS);
	else if (web_subscribe_apply(r, l, norm, name, &what, &cause) != 0) {
		ret = web_answer_busy(r, cause);
		goto out;
	}
	web_prune_limits(r);

	/* Step 5: the same answer whatever happened. */
	ret = web_check_inbox(r, l, norm);
out:
	free(norm);
	form_free(&f);
	return ret;
}

/* --- tokens that name a subscriber -------------------------------- */

/*
 * The subscriber and their membership of list: 1 found (clear both), 0
 * when either is gone, -1 with *cause.
 */
static int
web_member(struct web_req *r, int64_t id, const char *list,
    struct store_subscriber *sub, struct store_member *m, char **cause)
{
	int	found;

	if ((found = store_subscriber_get_id(r->store, id, sub,
	    cause)) != 1)
		return found;
	/* sub->id: a merged id (store_subscriber_get_id) leads on. */
	if ((found = store_member_get(r->store, sub->id, list, m,
	    cause)) != 1)
		store_subscriber_clear(sub);
	return found;
}

static int
web_gone(struct web_req *r)
{
	return web_answer_error_link(r, WEB_HTTP_NOT_FOUND,
	    "Subscription not found", "We no longer hold a subscription for "
	    "this link; it may have been removed at your request. Nothing "
	    "has been changed.", "", "See the lists you can join");
}

/* A link with a fresh preferences token, relative to the root. */
static char *
web_preferences_url(struct web_req *r, const struct store_subscriber *sub,
    const char *list)
{
	struct token	 t;
	char		*tok, *url;

	memset(&t, 0, sizeof t);
	t.purpose = TOKEN_PREFERENCES;
	t.subscriber = sub->id;
	memcpy(t.salt, sub->token_salt, sizeof t.salt);
	snprintf(t.list, sizeof t.list, "%s", list);
	t.issued = r->now;
	t.expires = r->now + NEWSLETTER_PREFS_EXPIRY;
	tok = token_make(r->key, &t);
	url = xprintf("%spreferences/%s", r->root, tok);
	free(tok);
	return url;
}

/*
 * What the membership pages show; with prefs, a fresh preferences link
 * (not on the unsubscribe pages: their link lasts a year and travels in
 * forwarded mail, and must not lead to the preferences page).
 */
static struct value *
web_member_data(struct web_req *r, const struct store_subscriber *sub,
    const char *list, int prefs)
{
	struct value	*data;
	char		*display, *url;

	data = value_new_object();
	value_object_set(data, "list", web_list_value(conf_list_find(r->conf,
	    list), list));
	display = address_display(sub->email);
	web_set(data, "email", display);
	free(display);
	if (prefs) {
		url = web_preferences_url(r, sub, list);
		web_set(data, "preferences_url", url);
		free(url);
	}
	if (conf_list_find(r->conf, list) != NULL) {
		url = xprintf("%ssubscribe/%s", r->root, list);
		web_set(data, "subscribe_url", url);
		free(url);
	}
	return data;
}

/* --- /confirm/TOKEN ----------------------------------------------- */

int
web_confirm(struct web_req *r, const char *tok)
{
	struct store		*s = r->store;
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct token		 t;
	struct form		 f;
	struct value		*data;
	int			 ret;
	char			*cause = NULL, *source, *url;
	int64_t			 issued;
	int			 found;

	if (web_check_token(r, tok, TOKEN_CONFIRM, &t, &ret) != 0)
		return ret;
	if (conf_list_find(r->conf, t.list) == NULL)
		return web_answer_error_link(r, WEB_HTTP_NOT_FOUND,
		    "This list has closed", "The list this link was for no "
		    "longer exists, so nothing has been changed.", "",
		    "See the lists you can join");
	if (r->method == WEB_POST) {
		/* Nothing in it is needed, but a damaged body is refused. */
		if (web_read_form(r, &f, &ret) != 0)
			return ret;
		form_free(&f);
		if (store_begin(s, &cause) != 0)
			return web_answer_busy(r, cause);
	}
	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if ((found = web_member(r, t.subscriber, t.list, &sub, &m,
	    &cause)) == -1) {
		store_rollback(s);
		return web_answer_busy(r, cause);
	}
	if (found == 0) {
		store_rollback(s);
		return web_gone(r);
	}

	/*
	 * A link sent before they last left must not bring them back: only
	 * a link made after that (a new request to subscribe) may.  Times
	 * are in seconds; a link made in the very second they left counts
	 * as made before.
	 */
	issued = (int64_t)t.issued;
	if (m.status == STORE_MEMBER_CONFIRMED) {
		store_rollback(s);
		data = web_member_data(r, &sub, t.list, 1);
		value_object_set(data, "already", value_new_bool(1));
		ret = web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_CONFIRMED,
		    "You are already subscribed", data);
	} else if (m.status != STORE_MEMBER_PENDING && issued <= m.updated_at) {
		store_rollback(s);
		url = xprintf("subscribe/%s", t.list);
		ret = web_answer_error_link(r, WEB_HTTP_FORBIDDEN,
		    "This link is out of date", "You left this list after "
		    "this link was sent, so it cannot be used any more and "
		    "nothing has been changed. To join again, ask for a new "
		    "link.", url, "Subscribe again");
		free(url);
	} else if (r->method == WEB_GET) {
		data = web_member_data(r, &sub, t.list, 1);
		ret = web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_CONFIRM,
		    "Confirm your subscription", data);
	} else {
		source = xprintf("web:%s", r->client);
		found = store_member_set_status(s, sub.id, t.list,
		    STORE_MEMBER_CONFIRMED, "web", source, &cause);
		free(source);
		if (found == -1 || store_commit(s, &cause) != 0) {
			store_rollback(s);
			ret = web_answer_busy(r, cause);
		} else {
			log_info("web: subscriber %lld confirmed %s from %s",
			    (long long)sub.id, t.list, r->client);
			data = web_member_data(r, &sub, t.list, 1);
			ret = web_answer_page(r, WEB_HTTP_OK,
			    WEB_PAGE_CONFIRMED, "You are subscribed", data);
		}
	}
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	return ret;
}

/* --- /unsubscribe/TOKEN ------------------------------------------- */

int
web_unsubscribe(struct web_req *r, const char *tok)
{
	struct store		*s = r->store;
	struct store_subscriber	 sub;
	struct store_member	 m;
	struct store_campaign	 c;
	struct token		 t;
	struct form		 f;
	struct value		*data;
	int			 ret;
	const char		*v, *name;
	char			*cause = NULL, *source, *list = NULL, *text;
	int			 found, one_click = 0, moved = 0;

	if (web_check_token(r, tok, TOKEN_UNSUBSCRIBE, &t, &ret) != 0)
		return ret;

	/* The list: in the token, or (mailto-style tokens) the campaign's. */
	if (*t.list != '\0')
		list = xstrdup(t.list);
	else if (t.campaign != 0) {
		memset(&c, 0, sizeof c);
		if ((found = store_campaign_get(s, t.campaign, &c,
		    &cause)) == -1)
			return web_answer_busy(r, cause);
		if (found)
			list = xstrdup(c.list);
		store_campaign_clear(&c);
	}
	if (list == NULL)
		return web_gone(r);

	if (r->method == WEB_POST) {
		if (web_read_form(r, &f, &ret) != 0) {
			free(list);
			return ret;
		}
		one_click = (v = form_get(&f, "List-Unsubscribe")) != NULL &&
		    strcmp(v, "One-Click") == 0;
		form_free(&f);
		if (store_begin(s, &cause) != 0) {
			free(list);
			return web_answer_busy(r, cause);
		}
	}
	memset(&sub, 0, sizeof sub);
	memset(&m, 0, sizeof m);
	if ((found = web_member(r, t.subscriber, list, &sub, &m,
	    &cause)) == -1) {
		store_rollback(s);
		free(list);
		return web_answer_busy(r, cause);
	}
	if (found && (m.status == STORE_MEMBER_PENDING ||
	    m.status == STORE_MEMBER_CONFIRMED) &&
	    unsubscribe_token_stale(&t, &m)) {
		/* A link from before they last joined: not this membership. */
		log_info("web: %s %s from %s: an unsubscribe link older than "
		    "the subscription", r->method_name, r->route, r->client);
		ret = web_answer_error(r, WEB_HTTP_FORBIDDEN, "This link is "
		    "out of date", "This link was sent before the latest "
		    "subscription to this list, so it cannot be used any "
		    "more and nothing has been changed. Use the unsubscribe "
		    "link in a more recent email from us.");
		goto out;
	}
	if (found && (m.status == STORE_MEMBER_PENDING ||
	    m.status == STORE_MEMBER_CONFIRMED)) {
		if (r->method == WEB_GET) {
			data = web_member_data(r, &sub, list, 0);
			ret = web_answer_page(r, WEB_HTTP_OK,
			    WEB_PAGE_UNSUBSCRIBE, "Unsubscribe", data);
			goto out;
		}
		source = xprintf("%s:%s", one_click ? "one-click" : "web",
		    r->client);
		moved = store_member_set_status(s, sub.id, list,
		    STORE_MEMBER_UNSUBSCRIBED, "web", source, &cause);
		free(source);
		if (moved == -1)
			goto busy;
	}
	if (r->method == WEB_POST && store_commit(s, &cause) != 0)
		goto busy;
	if (moved)
		log_info("web: subscriber %lld left %s (%s, from %s)",
		    (long long)sub.id, list, one_click ? "one-click" :
		    "unsubscribe page", r->client);

	/* RFC 8058: the provider's POST wants a 200, not a page. */
	if (one_click) {
		name = conf_list_find(r->conf, list) != NULL ?
		    conf_list_find(r->conf, list)->name : list;
		text = xprintf("Unsubscribed from %s.\n", name);
		ret = web_answer_text(r, WEB_HTTP_OK, text);
		free(text);
		goto out;
	}
	if (!found) {
		ret = web_gone(r);
		goto out;
	}
	data = web_member_data(r, &sub, list, 0);
	value_object_set(data, "already", value_new_bool(!moved));
	ret = web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_UNSUBSCRIBED, moved ?
	    "You have unsubscribed" : "You are not subscribed", data);
	goto out;

busy:
	store_rollback(s);
	ret = web_answer_busy(r, cause);
out:
	store_rollback(s);
	store_subscriber_clear(&sub);
	store_member_clear(&m);
	free(list);
	return ret;
}

/* --- /preferences/TOKEN ------------------------------------------- */

struct web_pref {
	char			*list;
	enum store_member_status status;
	char			*mode;
};

struct web_prefs {
	struct web_pref	*v;
	size_t		 n;
};

static int
web_prefs_add(const struct store_member *m, void *arg)
{
	struct web_prefs	*p = arg;

	p->v = xreallocarray(p->v, p->n + 1, sizeof *p->v);
	p->v[p->n].list = xstrdup(m->list);
	p->v[p->n].status = m->status;
	p->v[p->n].mode = xstrdup(m->mode);
	p->n++;
	return 0;
}

static void
web_prefs_free(struct web_prefs *p)
{
	size_t	i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].list);
		free(p->v[i].mode);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

static const char *
web_period(enum conf_digest_period p)
{
	switch (p) {
	case CONF_DIGEST_DAILY:
		return "one email a day";
	case CONF_DIGEST_WEEKLY:
		return "one email a week";
	case CONF_DIGEST_MONTHLY:
		return "one email a month";
	default:
		return NULL;
	}
}

static int
web_prefs_page(struct web_req *r, unsigned int status,
    const struct store_subscriber *sub, const struct web_prefs *p, int saved)
{
	const struct conf_list	*l;
	struct value		*data, *lists, *others, *o;
	const char		*period;
	char			*display, *url;
	size_t			 i, j;

	data = value_new_object();
	display = address_display(sub->email);
	web_set(data, "email", display);
	free(display);
	value_object_set(data, "saved", value_new_bool(saved));
	lists = value_new_list();
	for (i = 0; i < p->n; i++) {
		if ((l = conf_list_find(r->conf, p->v[i].list)) == NULL ||
		    p->v[i].status == STORE_MEMBER_UNSUBSCRIBED ||
		    p->v[i].status == STORE_MEMBER_BOUNCED)
			continue;
		o = web_list_value(l, NULL);
		value_object_set(o, "pending", value_new_bool(
		    p->v[i].status == STORE_MEMBER_PENDING));
		value_object_set(o, "confirmed", value_new_bool(
		    p->v[i].status == STORE_MEMBER_CONFIRMED));
		value_object_set(o, "immediate", value_new_bool(
		    strcmp(p->v[i].mode, "immediate") == 0));
		value_object_set(o, "digest", value_new_bool(
		    strcmp(p->v[i].mode, "digest") == 0));
		if ((period = web_period(l->digest)) != NULL)
			web_set(o, "period", period);
		value_list_append(lists, o);
	}
	value_object_set(data, "has_lists", value_new_bool(
	    value_list_len(lists) > 0));
	value_object_set(data, "lists", lists);

	/* The lists they are not on (or have left): a way to join. */
	others = value_new_list();
	for (i = 0; i < r->conf->nlists; i++) {
		l = &r->conf->lists[i];
		for (j = 0; j < p->n; j++) {
			if (strcmp(p->v[j].list, l->slug) == 0 &&
			    (p->v[j].status == STORE_MEMBER_PENDING ||
			    p->v[j].status == STORE_MEMBER_CONFIRMED))
				break;
		}
		if (j < p->n)
			continue;
		o = web_list_value(l, NULL);
		url = xprintf("%ssubscribe/%s", r->root, l->slug);
		web_set(o, "url", url);
		free(url);
		value_list_append(others, o);
	}
	value_object_set(data, "has_others", value_new_bool(
	    value_list_len(others) > 0));
	value_object_set(data, "others", others);
	return web_answer_page(r, status, WEB_PAGE_PREFERENCES, "Your email "
	    "preferences", data);
}

/*
 * Apply the form to the confirmed memberships: "leave-SLUG" (any value)
 * leaves, else "mode-SLUG" = immediate | digest (digest only where the
 * list has one).  1 applied, 0 a bad value (nothing should be kept), -1.
 */
static int
web_prefs_apply(struct web_req *r, const struct store_subscriber *sub,
    const struct web_prefs *p, const struct form *f, char **cause)
{
	struct store		*s = r->store;
	const struct conf_list	*l;
	const char		*v;
	char			*name, *source;
	size_t			 i;
	int			 rc = 1;

	source = xprintf("preferences:%s", r->client);
	for (i = 0; i < p->n && rc == 1; i++) {
		if (p->v[i].status != STORE_MEMBER_CONFIRMED ||
		    (l = conf_list_find(r->conf, p->v[i].list)) == NULL)
			continue;
		name = xprintf("leave-%s", l->slug);
		v = form_get(f, name);
		free(name);
		if (v != NULL && *v != '\0') {
			if (store_member_set_status(s, sub->id, l->slug,
			    STORE_MEMBER_UNSUBSCRIBED, "web", source,
			    cause) == -1)
				rc = -1;
			else
				log_info("web: subscriber %lld left %s "
				    "(preferences, from %s)",
				    (long long)sub->id, l->slug, r->client);
			continue;
		}
		name = xprintf("mode-%s", l->slug);
		v = form_get(f, name);
		free(name);
		if (v == NULL)
			continue;
		if (strcmp(v, "immediate") != 0 && (strcmp(v, "digest") != 0 ||
		    l->digest == CONF_DIGEST_NONE)) {
			rc = 0;
			break;
		}
		if (store_member_set_mode(s, sub->id, l->slug, v, cause) == -1)
			rc = -1;
		else
			log_debug("web: subscriber %lld on %s: mode %s",
			    (long long)sub->id, l->slug, v);
	}
	free(source);
	return rc;
}

int
web_preferences(struct web_req *r, const char *tok)
{
	struct store		*s = r->store;
	struct store_subscriber	 sub;
	struct web_prefs	 p = { NULL, 0 };
	struct token		 t;
	struct form		 f;
	int			 ret;
	char			*cause = NULL;
	int			 found, rc;

	if (web_check_token(r, tok, TOKEN_PREFERENCES, &t, &ret) != 0)
		return ret;
	memset(&f, 0, sizeof f);
	if (r->method == WEB_POST) {
		if (web_read_form(r, &f, &ret) != 0)
			return ret;
		if (store_begin(s, &cause) != 0) {
			form_free(&f);
			return web_answer_busy(r, cause);
		}
	}
	memset(&sub, 0, sizeof sub);
	if ((found = store_subscriber_get_id(s, t.subscriber, &sub,
	    &cause)) == -1)
		goto busy;
	if (found == 0) {
		ret = web_gone(r);
		goto out;
	}
	if (store_member_walk_subscriber(s, sub.id, web_prefs_add, &p,
	    &cause) == -1)
		goto busy;
	if (r->method == WEB_GET) {
		ret = web_prefs_page(r, WEB_HTTP_OK, &sub, &p, 0);
		goto out;
	}

	if ((rc = web_prefs_apply(r, &sub, &p, &f, &cause)) == -1)
		goto busy;
	if (rc == 0) {
		store_rollback(s);
		ret = web_answer_error(r, WEB_HTTP_BAD_REQUEST, "The form "
		    "could not be read", "The form held a choice this page "
		    "does not offer, so nothing has been changed. Go back and "
		    "try again.");
		goto out;
	}
	web_prefs_free(&p);
	if (store_member_walk_subscriber(s, sub.id, web_prefs_add, &p,
	    &cause) == -1 || store_commit(s, &cause) != 0)
		goto busy;
	ret = web_prefs_page(r, WEB_HTTP_OK, &sub, &p, 1);
	goto out;

busy:
	store_rollback(s);
	ret = web_answer_busy(r, cause);
out:
	store_rollback(s);
	store_subscriber_clear(&sub);
	web_prefs_free(&p);
	form_free(&f);
	return ret;
}
