/*
 * web-test.c - the pages behind the links of a test copy of a newsletter.
 *
 *	GET  /test-copy/TOKEN		the campaign as it stands (a draft,
 *					usually), for whoever holds the link
 *	GET  /test-unsubscribe/TOKEN	"this was a test copy": nothing changed
 *	POST /test-unsubscribe/TOKEN	the same; an RFC 8058 one-click POST
 *					gets the bare 200 it expects, and
 *					nobody is unsubscribed
 *	GET  /test-preferences/TOKEN	"this was a test copy" (POST: the same)
 *
 * TOKEN is a TOKEN_TEST_COPY token (newsletter.h): it names a campaign
 * and nobody, and grants reading that one campaign, nothing else.  A
 * damaged token gets 400, a forged one or one made for another page 403,
 * an expired one 403 with a plain explanation (web.c's web_check_token).
 * No page here writes to the database.
 *
 * Owns: what these pages show and that they change nothing.  Does not
 * own: HTTP, the headers, the layout and the error pages (web.c), the
 * wording (templates/web/test-copy.html, test-link.html), rendering a
 * campaign for a reader (web.c, newsletter.c), the token format
 * (token.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "form.h"
#include "log.h"
#include "period.h"
#include "store.h"
#include "token.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

/* What the page says about where the campaign is now. */
static char *
web_test_status(const struct store_campaign *c)
{
	char	when[64];

	switch (c->status) {
	case STORE_CAMPAIGN_DRAFT:
		return xstrdup("It is a draft: nobody on the list has been "
		    "sent it.");
	case STORE_CAMPAIGN_SCHEDULED:
		period_datetime((time_t)c->scheduled_at, when, sizeof when);
		return xprintf("It is scheduled to go to the list on %s.",
		    when);
	case STORE_CAMPAIGN_SENDING:
	case STORE_CAMPAIGN_PAUSED:
		return xstrdup("It is being sent to the list.");
	case STORE_CAMPAIGN_SENT:
		period_date((time_t)(c->started_at != 0 ? c->started_at :
		    c->finished_at), when, sizeof when);
		return xprintf("It was sent to the list on %s.", when);
	default:
		return xstrdup("It was cancelled and will not be sent.");
	}
}

/*
 * The campaign a test token names: 1 found (clear it), 0 gone (the page
 * is answered, *ret), -1 the database (answered, *ret).
 */
static int
web_test_campaign(struct web_req *r, const struct token *t,
    struct store_campaign *c, int *ret)
{
	char	*cause = NULL;
	int	 found;

	memset(c, 0, sizeof *c);
	if ((found = store_campaign_get(r->store, t->campaign, c,
	    &cause)) == -1) {
		*ret = web_answer_busy(r, cause);
		return -1;
	}
	if (found == 1 && conf_list_find(r->conf, c->list) != NULL)
		return 1;
	store_campaign_clear(c);
	*ret = web_answer_error(r, WEB_HTTP_NOT_FOUND, "This newsletter is "
	    "no longer here", "The newsletter this test link showed has "
	    "been deleted, or its list has closed. Nothing has been "
	    "changed.");
	return 0;
}

int
web_test_copy(struct web_req *r, const char *tok)
{
	struct store_campaign	 c;
	struct token		 t;
	struct value		*data;
	char			*status, expires[64];
	int			 ret;

	if (r->method != WEB_GET)
		return web_answer_bad_method(r, "GET, HEAD");
	if (web_check_token(r, tok, TOKEN_TEST_COPY, &t, &ret) != 0)
		return ret;
	if (web_test_campaign(r, &t, &c, &ret) != 1)
		return ret;
	log_info("web: %s test-copy from %s: campaign %lld shown",
	    r->method_name, r->client, (long long)c.id);

	data = value_new_object();
	status = web_test_status(&c);
	web_set(data, "status", status);
	free(status);
	period_date(t.expires, expires, sizeof expires);
	web_set(data, "expires", expires);
	ret = web_answer_campaign(r, &c, WEB_PAGE_TEST_COPY, NULL, data);
	store_campaign_clear(&c);
	return ret;
}

/* A test copy's unsubscribe or preferences link: what says "nothing". */
static int
web_test_link(struct web_req *r, const char *tok, const char *which)
{
	const struct conf_list	*l;
	struct store_campaign	 c;
	struct token		 t;
	struct form		 f;
	struct value		*data, *o;
	const char		*v;
	char			*url;
	int			 ret, one_click = 0, found;

	if (web_check_token(r, tok, TOKEN_TEST_COPY, &t, &ret) != 0)
		return ret;
	if (r->method == WEB_POST) {
		/* A damaged body is refused, as on every page. */
		if (web_read_form(r, &f, &ret) != 0)
			return ret;
		one_click = (v = form_get(&f, "List-Unsubscribe")) != NULL &&
		    strcmp(v, "One-Click") == 0;
		form_free(&f);
	}
	log_info("web: %s test-%s from %s: a test copy's link (campaign "
	    "%lld)%s; nothing changed", r->method_name, which, r->client,
	    (long long)t.campaign, one_click ? ", one-click" : "");

	/* RFC 8058: the provider's POST wants a 200, not a page. */
	if (one_click)
		return web_answer_text(r, WEB_HTTP_OK, "This was a test copy: "
		    "nobody has been unsubscribed.\n");

	data = value_new_object();
	value_object_set(data, which, value_new_bool(1));
	memset(&c, 0, sizeof c);
	if ((found = store_campaign_get(r->store, t.campaign, &c,
	    NULL)) == 1) {
		if ((l = conf_list_find(r->conf, c.list)) != NULL) {
			o = value_new_object();
			web_set(o, "name", l->name);
			value_object_set(data, "list", o);
			url = xprintf("%stest-copy/%s", r->root, tok);
			web_set(data, "read_url", url);
			free(url);
		}
	}
	store_campaign_clear(&c);
	return web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_TEST_LINK,
	    "This was a test copy", data);
}

int
web_test_unsubscribe(struct web_req *r, const char *tok)
{
	return web_test_link(r, tok, "unsubscribe");
}

int
web_test_preferences(struct web_req *r, const char *tok)
{
	return web_test_link(r, tok, "preferences");
}
