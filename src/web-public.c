/*
 * web-public.c - the public side of the web server (web-int.h's struct
 * web_side, served by web.c on web.listen): its route table, the index
 * of lists, the newsletter archive (the "read this online" link of every
 * newsletter and digest), a campaign rendered for a reader, and the
 * cross-site check of its forms.
 *
 * Owns: which URL is which page, and which POSTs another site's page
 * may send (RFC 8058's one-click, none else).  Does not own: the HTTP
 * side (web.c), what the subscription pages do (web-subscribe.c), a test
 * copy's links (web-test.c), the wording (templates/web/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "digest.h"
#include "log.h"
#include "media.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "value.h"
#include "web.h"
#include "web-int.h"

/*
 * Only what the pages need: no script at all, styles and images from
 * here, forms only to here, never in a frame.
 */
#define WEB_PUBLIC_CSP \
	"default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char *const web_public_pages[WEB_NPAGES] = {
	[WEB_PAGE_INDEX] = "index.html",
	[WEB_PAGE_SUBSCRIBE] = "subscribe.html",
	[WEB_PAGE_CHECK_INBOX] = "check-inbox.html",
	[WEB_PAGE_CONFIRM] = "confirm.html",
	[WEB_PAGE_CONFIRMED] = "confirmed.html",
	[WEB_PAGE_UNSUBSCRIBE] = "unsubscribe.html",
	[WEB_PAGE_UNSUBSCRIBED] = "unsubscribed.html",
	[WEB_PAGE_PREFERENCES] = "preferences.html",
	[WEB_PAGE_ARCHIVE] = "archive.html",
	[WEB_PAGE_ERROR] = "error.html",
	[WEB_PAGE_TEST_COPY] = "test-copy.html",
	[WEB_PAGE_TEST_LINK] = "test-link.html",
};

static const struct web_asset web_public_assets[] = {
	{ "/style.css", "web/style.css", "text/css; charset=utf-8" },
	{ NULL, NULL, NULL }
};

static int	web_public_dispatch(struct web_req *, const char *);

static const char *
web_public_listen(const struct conf *conf)
{
	return conf->web.listen;
}

static const char *
web_public_base_url(const struct conf *conf)
{
	return conf->general.base_url;
}

const struct web_side web_public = {
	.name = "web",
	.dir = "web",
	.pages = web_public_pages,
	.npages = WEB_NPAGES,
	.error_page = WEB_PAGE_ERROR,
	.assets = web_public_assets,
	.max_body = WEB_MAX_BODY,
	.csp = WEB_PUBLIC_CSP,
	/*
	 * same-origin, not no-referrer: with no-referrer a browser sends
	 * "Origin: null" with our own forms' POSTs, and web_cross_site()
	 * needs the real one.  Other sites still get nothing.
	 */
	.referrer = "same-origin",
	.home = "See the lists you can join",
	.listen = web_public_listen,
	.base_url = web_public_base_url,
	.dispatch = web_public_dispatch,
};

/* --- GET / ------------------------------------------------------- */

static int
web_index(struct web_req *r)
{
	struct value	*data, *lists;
	size_t		 i;

	if (r->method != WEB_GET)
		return web_answer_bad_method(r, "GET, HEAD");
	data = value_new_object();
	lists = value_new_list();
	for (i = 0; i < r->conf->nlists; i++)
		value_list_append(lists, web_list_value(&r->conf->lists[i],
		    NULL));
	value_object_set(data, "lists", lists);
	return web_answer_page(r, WEB_HTTP_OK, WEB_PAGE_INDEX,
	    "Our mailing lists", data);
}

/* --- /archive/ID ------------------------------------------------- */

/*
 * A newsletter that went out (sending, paused or sent), as its readers got
 * it but without anyone's data: merge fields read as for a subscriber
 * named "reader", and the body is the part a digest shows (the template
 * pair DIGEST_ITEM_TEMPLATE), with no personal links.  Drafts, scheduled
 * and cancelled campaigns, and lists no longer configured, are not found.
 */
static int
web_archive(struct web_req *r, const char *arg)
{
	struct store_campaign	 c;
	struct value		*data;
	char			*cause = NULL, *end, date[64];
	long long		 id;
	int			 rc, ret;

	if (r->method != WEB_GET)
		return web_answer_bad_method(r, "GET, HEAD");
	if (*arg < '1' || *arg > '9' || strlen(arg) > 18)
		return web_answer_not_found(r);
	errno = 0;
	id = strtoll(arg, &end, 10);
	if (errno != 0 || *end != '\0')
		return web_answer_not_found(r);

	memset(&c, 0, sizeof c);
	if ((rc = store_campaign_get(r->store, id, &c, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0 || (c.status != STORE_CAMPAIGN_SENDING &&
	    c.status != STORE_CAMPAIGN_PAUSED &&
	    c.status != STORE_CAMPAIGN_SENT) ||
	    conf_list_find(r->conf, c.list) == NULL) {
		store_campaign_clear(&c);
		return web_answer_not_found(r);
	}
	data = value_new_object();
	date[0] = '\0';
	if (c.started_at > 0)
		period_date((time_t)c.started_at, date, sizeof date);
	web_set(data, "date", date);
	ret = web_answer_campaign(r, &c, WEB_PAGE_ARCHIVE, NULL, data);
	store_campaign_clear(&c);
	return ret;
}

/*
 * Campaign c for a reader: its subject and body (the template pair
 * DIGEST_ITEM_TEMPLATE) with merge fields read as for a subscriber named
 * "reader", in page with data (consumed); title NULL: the subject.
 */
int
web_answer_campaign(struct web_req *r, const struct store_campaign *c,
    int page, const char *title, struct value *data)
{
	struct store_subscriber	 reader;
	struct store_campaign	 item;
	struct newsletter_parts	 np;
	struct newsletter	*nl = NULL;
	const struct conf_list	*list;
	struct value		*o;
	char			*cause = NULL;
	int			 ret;

	item = *c;
	item.template = (char *)DIGEST_ITEM_TEMPLATE;
	list = conf_list_find(r->conf, c->list);
	memset(&reader, 0, sizeof reader);
	reader.name = (char *)"reader";
	reader.email = (char *)"";
	reader.attrs = (char *)"{}";
	memset(&np, 0, sizeof np);
	if (list == NULL ||
	    (nl = newsletter_prepare(r->conf, &item, r->key,
	    &cause)) == NULL ||
	    newsletter_render_parts(nl, &reader, r->now, &np, &cause) == -1) {
		if (list != NULL) {
			log_error("web: campaign %lld: %s", (long long)c->id,
			    cause);
			free(cause);
			newsletter_free(nl);
		}
		newsletter_parts_clear(&np);
		value_free(data);
		return web_answer_text(r, WEB_HTTP_INTERNAL_ERROR,
		    "Sorry, this page could not be shown.\n");
	}
	web_set(data, "subject", np.subject);
	web_set(data, "body_html", np.html);
	/* The body's own "# heading", when it has one, is the page's. */
	value_object_set(data, "body_heading", value_new_bool(np.body_heading));
	o = value_new_object();
	web_set(o, "slug", list->slug);
	web_set(o, "name", list->name);
	value_object_set(data, "list", o);
	ret = web_answer_page(r, WEB_HTTP_OK, page, title != NULL ? title :
	    np.subject, data);
	newsletter_free(nl);
	newsletter_parts_clear(&np);
	return ret;
}

/* --- routing ------------------------------------------------------ */

/*
 * A POST from another site's page (web_cross_site()) is refused with 403
 * and changes nothing: 1 with the page queued in *ret.  RFC 8058's
 * one-click POST is let through whatever it carries: mail providers
 * send it, and the token in the URL is all it needs.
 */
static int
web_refuse_cross_site(struct web_req *r, int *ret)
{
	const char	*which;

	if ((which = web_cross_site(r)) == NULL)
		return 0;
	if ((strcmp(r->route, "unsubscribe") == 0 ||
	    strcmp(r->route, "test-unsubscribe") == 0) && web_one_click(r))
		return 0;
	log_info("web: %s %s from %s: sent from another site's page (%s); "
	    "refused", r->method_name, r->route, r->client, which);
	*ret = web_answer_error(r, WEB_HTTP_FORBIDDEN, "This form was sent "
	    "from another site", "The form was sent from a page that is not "
	    "ours, so nothing has been changed. If you meant to use it, "
	    "open our page yourself and send the form from there.");
	return 1;
}

/* --- /media/NAME ------------------------------------------------- */

/*
 * An image uploaded for a newsletter (media.h), for its readers: never
 * changes, so caches may keep it; sandboxed, should it be opened itself.
 */
static int
web_media(struct web_req *r, const char *arg)
{
	struct store_media	 m;
	char			*cause = NULL;
	int			 rc, ret;

	if (r->method != WEB_GET)
		return web_answer_bad_method(r, "GET, HEAD");
	if (!media_name_ok(arg))
		return web_answer_not_found(r);
	if ((rc = store_media_get(r->store, arg, &m, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	web_add_header(r, "Cache-Control", "public, max-age=31536000, "
	    "immutable");
	web_add_header(r, "Content-Security-Policy", "default-src 'none'; "
	    "sandbox");
	ret = web_answer_body(r, WEB_HTTP_OK, m.type, m.data, m.len);
	store_media_clear(&m);
	return ret;
}

static int
web_public_dispatch(struct web_req *r, const char *url)
{
	/* The pages, each answering through web-int.h (web-*.c). */
	static const struct {
		const char	*name;
		int		(*fn)(struct web_req *, const char *);
	} routes[] = {
		{ "subscribe", web_subscribe },
		{ "confirm", web_confirm },
		{ "unsubscribe", web_unsubscribe },
		{ "preferences", web_preferences },
		{ "archive", web_archive },
		{ "media", web_media },
		{ "test-copy", web_test_copy },
		{ "test-unsubscribe", web_test_unsubscribe },
		{ "test-preferences", web_test_preferences },
	};
	const char	*arg;
	size_t		 i, n;
	int		 ret;

	if (strcmp(url, "/") == 0) {
		r->route = url;
		return web_index(r);
	}
	for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
		n = strlen(routes[i].name);
		if (url[0] != '/' || strncmp(url + 1, routes[i].name, n) != 0 ||
		    url[n + 1] != '/')
			continue;
		arg = url + n + 2;
		if (*arg == '\0' || strchr(arg, '/') != NULL)
			break;
		r->route = routes[i].name;
		if (r->method == WEB_OTHER)
			return web_answer_bad_method(r, "GET, HEAD, POST");
		if (r->method == WEB_POST && web_refuse_cross_site(r, &ret))
			return ret;
		return routes[i].fn(r, arg);
	}
	return web_answer_not_found(r);
}
