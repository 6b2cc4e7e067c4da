/*
 * web.c - the public web pages' server, on libmicrohttpd (see web.h):
 * the index of lists, the newsletter archive (the "read this online"
 * link of every newsletter and digest) and the style sheet here, the
 * other pages in their page files.
 *
 * Owns: the HTTP side (the only file including <microhttpd.h>), the
 * route table, the security headers, the cross-site check (RFC 8058's
 * one-click POST let through), request limits, the client address, the
 * site (configuration, templates, the confirmation mailer, reloaded on
 * SIGHUP), rendering a page in the layout, the error pages, answers held
 * back to a fixed time, pruning the rate-limit counters, the server's
 * lifecycle, and web-int.h, which the page files answer through.  Does
 * not own: what the subscription pages do (web-subscribe.c), the pages
 * of a test copy's links (web-test.c), the wording (templates/web/),
 * tokens (token.c), form encodings (form.c), the SQL (store-*.c),
 * slow clients and per-client counts (web-guard.c), database handles
 * (web-pool.c).
 *
 * Threads: everything below web_start() and above web_stop() runs in
 * libmicrohttpd's pool of WEB_THREADS threads, any number of requests at
 * once.  What they share is behind w->lock (the site, with a count of its
 * users; the prune time), the pool's lock (database handles: a request
 * borrows one for the call that answers it, web-pool.h) or the guard's
 * (deadlines and per-client counts, web-guard.h); the parsed templates
 * and the key are only read.  web_reload() is called from the main
 * thread; it only leaves the new configuration under the mutex for the
 * next callback to take up.  An answer a page holds back to a fixed time
 * (web_answer_after(): a subscribe POST's) waits in web_defer(): the
 * connection is suspended and the guard's thread resumes it.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "conf.h"
#include "confirm.h"
#include "digest.h"
#include "form.h"
#include "log.h"
#include "newsletter.h"
#include "period.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "value.h"
#include "monotime.h"
#include "web.h"
#include "web-guard.h"
#include "web-int.h"
#include "web-pool.h"
#include "xmalloc.h"

#define WEB_MAX_DISCARD	(1024 * 1024)	/* then hang up */
#define WEB_PAGE_MAX	(1024 * 1024)	/* a rendered page */
#define WEB_PRUNE_EVERY	600		/* seconds */
#define WEB_RETRY_BUSY	"30"		/* Retry-After when busy */

#define WEB_CSP \
	"default-src 'none'; style-src 'self'; img-src 'self'; " \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static const char *const web_page_files[WEB_NPAGES] = {
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

/*
 * Templates and the confirmation mailer for one configuration; read by
 * any number of threads at once, freed when the last lets go (refs,
 * under the web's lock: one for being w->site, one per callback using
 * it).
 */
struct web_site {
	int			 refs;
	const struct conf	*conf;
	struct confirm		*confirm;
	struct template		*layout;
	struct template		*pages[WEB_NPAGES];
	char			*css;
	size_t			 csslen;
};

struct web {
	struct MHD_Daemon	*mhd;
	struct web_pool		*pool;	/* a database handle per request */
	struct web_guard	*guard;	/* deadlines, per-client limits */
	unsigned char		 key[TOKEN_KEY_LEN];

	pthread_mutex_t		 lock;	/* guards the three below */
	struct web_site		*site;
	const struct conf	*next_conf;	/* from web_reload() */
	int64_t			 last_prune;
};

/* --- configuration-dependent parts -------------------------------- */

static void
web_site_free(struct web_site *site)
{
	int	i;

	if (site == NULL)
		return;
	confirm_close(site->confirm);
	template_free(site->layout);
	for (i = 0; i < WEB_NPAGES; i++)
		template_free(site->pages[i]);
	free(site->css);
	free(site);
}

/* The pages live in general.templates/web/. */
static struct template *
web_site_template(const struct conf *conf, const char *name, char **cause)
{
	char		*dir;
	struct template	*t;

	dir = xprintf("%s/web", conf->general.templates);
	t = template_load(dir, name, cause);
	free(dir);
	return t;
}

static struct web_site *
web_site_open(const struct conf *conf, char **cause)
{
	struct web_site	*site;
	struct buf	 b;
	char		*path;
	int		 i;

	site = xcalloc(1, sizeof *site);
	site->conf = conf;
	if ((site->confirm = confirm_open(conf, cause)) == NULL)
		goto fail;
	if ((site->layout = web_site_template(conf, "layout.html",
	    cause)) == NULL)
		goto fail;
	for (i = 0; i < WEB_NPAGES; i++) {
		if ((site->pages[i] = web_site_template(conf,
		    web_page_files[i], cause)) == NULL)
			goto fail;
	}
	path = xprintf("%s/web/style.css", conf->general.templates);
	buf_init(&b, TEMPLATE_MAX_FILE);
	if (buf_read_file(&b, path) == -1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		buf_free(&b);
		free(path);
		goto fail;
	}
	free(path);
	site->css = buf_detach(&b, &site->csslen);
	if (site->css == NULL)
		site->css = xstrdup("");
	return site;

fail:
	web_site_free(site);
	return NULL;
}

/* Let go of site: the last user frees it. */
static void
web_site_release(struct web *w, struct web_site *site)
{
	int	refs;

	pthread_mutex_lock(&w->lock);
	refs = --site->refs;
	pthread_mutex_unlock(&w->lock);
	if (refs == 0)
		web_site_free(site);
}

/*
 * At the start of each callback: take up a configuration web_reload()
 * left (one thread opens it; the others go on with the old site), and
 * hold the current site until web_site_release().
 */
static struct web_site *
web_site_hold(struct web *w)
{
	const struct conf	*conf;
	struct web_site		*site, *old = NULL;
	char			*cause = NULL;

	pthread_mutex_lock(&w->lock);
	conf = w->next_conf;
	w->next_conf = NULL;
	pthread_mutex_unlock(&w->lock);
	if (conf != NULL) {
		if ((site = web_site_open(conf, &cause)) == NULL) {
			log_error("web: new configuration not taken up: %s; "
			    "the pages keep the old one", cause);
			free(cause);
		} else {
			web_guard_set_timeout(w->guard,
			    conf->web.request_timeout);
			site->refs = 1;
			pthread_mutex_lock(&w->lock);
			old = w->site;
			w->site = site;
			pthread_mutex_unlock(&w->lock);
			log_info("web: configuration and templates reloaded");
		}
	}
	pthread_mutex_lock(&w->lock);
	site = w->site;
	site->refs++;
	pthread_mutex_unlock(&w->lock);
	if (old != NULL)
		web_site_release(w, old);
	return site;
}

/* --- the client --------------------------------------------------- */

static int
web_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr))
			return 1;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return sin6->sin6_addr.s6_addr[12] == 127;
	}
	return 0;
}

/*
 * The last entry of X-Forwarded-For (the one our proxy added), when it
 * is an IP address: into out, 0; else -1.
 */
static int
web_forwarded(const char *xff, char *out, size_t size)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*p, *e;
	char		 ip[INET6_ADDRSTRLEN + 1];
	size_t		 n;

	if ((p = strrchr(xff, ',')) != NULL)
		p++;
	else
		p = xff;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	n = (size_t)(e - p);
	if (n == 0 || n >= sizeof ip || n >= size)
		return -1;
	memcpy(ip, p, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &a4) != 1 &&
	    inet_pton(AF_INET6, ip, &a6) != 1)
		return -1;
	memcpy(out, ip, n + 1);
	return 0;
}

/*
 * Who is asking: r->client for logs, r->client_key for rate limits (an
 * IPv6 client counts by its /64, which one household or machine has).
 */
static void
web_client(struct web_req *r)
{
	const union MHD_ConnectionInfo	*ci;
	const struct sockaddr		*sa = NULL;
	const char			*xff;
	struct in6_addr			 a6;
	char				 ip[INET6_ADDRSTRLEN];

	snprintf(r->client, sizeof r->client, "unknown");
	ci = MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL)
		sa = ci->client_addr;
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    r->client, sizeof r->client);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client,
		    sizeof r->client);
	if (sa != NULL && web_is_loopback(sa) &&
	    (xff = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "X-Forwarded-For")) != NULL &&
	    web_forwarded(xff, ip, sizeof ip) == 0)
		memcpy(r->client, ip, strlen(ip) + 1);

	if (inet_pton(AF_INET6, r->client, &a6) == 1 &&
	    !IN6_IS_ADDR_V4MAPPED(&a6)) {
		memset(&a6.s6_addr[8], 0, 8);
		inet_ntop(AF_INET6, &a6, ip, sizeof ip);
		snprintf(r->client_key, sizeof r->client_key, "%s/64", ip);
	} else
		snprintf(r->client_key, sizeof r->client_key, "%s", r->client);
}

/*
 * The origin ("scheme://host[:port]", lower case, without a default
 * port) of the URL at url, into out; "" when it has none.
 */
static void
web_origin(const char *url, char *out, size_t size)
{
	const char	*p, *e;
	size_t		 n, i;

	*out = '\0';
	if ((p = strstr(url, "://")) == NULL)
		return;
	e = p + 3 + strcspn(p + 3, "/?#");
	n = (size_t)(e - url);
	if (n >= size)
		return;
	for (i = 0; i < n; i++)
		out[i] = (char)(url[i] >= 'A' && url[i] <= 'Z' ?
		    url[i] - 'A' + 'a' : url[i]);
	out[n] = '\0';
	if (strncmp(out, "https://", 8) == 0 && n > 4 &&
	    strcmp(out + n - 4, ":443") == 0)
		out[n - 4] = '\0';
	else if (strncmp(out, "http://", 7) == 0 && n > 3 &&
	    strcmp(out + n - 3, ":80") == 0)
		out[n - 3] = '\0';
}

/*
 * A POST sent from another site's page (cross-site request forgery: a
 * page elsewhere that makes its visitors' browsers sign someone up):
 * the Origin header, or without one the Referer, is there and is not
 * general.base_url's origin.  Requests with neither (curl, a mail
 * provider's RFC 8058 one-click POST) are not cross-site: no browser
 * leaves both out of a POST, and our pages send "same-origin" as their
 * Referrer-Policy.  "Origin: null" (a sandboxed or privacy-stripped
 * page) counts as foreign.  The header that failed, or NULL.
 */
static const char *
web_cross_site(struct web_req *r)
{
	const char	*v;
	char		 want[256], got[256];

	web_origin(r->conf->general.base_url, want, sizeof want);
	if ((v = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Origin")) != NULL) {
		web_origin(v, got, sizeof got);
		return *got != '\0' && strcmp(got, want) == 0 ? NULL :
		    "Origin";
	}
	if ((v = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Referer")) != NULL) {
		web_origin(v, got, sizeof got);
		return *got != '\0' && strcmp(got, want) == 0 ? NULL :
		    "Referer";
	}
	return NULL;
}

/* 1 when the body is RFC 8058's "List-Unsubscribe=One-Click". */
static int
web_one_click(struct web_req *r)
{
	struct form	 f;
	const char	*type, *v;
	char		*cause = NULL;
	int		 yes;

	type = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Content-Type");
	if (form_parse(&f, type, r->body.data != NULL ? r->body.data : "",
	    r->body.len, &cause) != 0) {
		free(cause);
		return 0;
	}
	yes = (v = form_get(&f, "List-Unsubscribe")) != NULL &&
	    strcmp(v, "One-Click") == 0;
	form_free(&f);
	return yes;
}

/* --- answers ------------------------------------------------------ */

static enum MHD_Result
web_respond(struct web_req *r, unsigned int status, const char *type,
    const char *body, size_t len, const char *hname, const char *hvalue)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Security-Policy", WEB_CSP);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/*
	 * same-origin, not no-referrer: with no-referrer a browser sends
	 * "Origin: null" with our own forms' POSTs, and web_cross_site()
	 * needs the real one.  Other sites still get nothing.
	 */
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
	r->status = status;
	if (r->defer) {
		/* web_access() sends it at r->answer_at (web_defer()). */
		r->held = resp;
		return MHD_YES;
	}
	ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
web_text(struct web_req *r, unsigned int status, const char *text)
{
	return web_respond(r, status, "text/plain; charset=utf-8", text,
	    strlen(text), NULL, NULL);
}

void
web_set(struct value *o, const char *key, const char *s)
{
	value_object_set(o, key, value_new_string(s != NULL ? s : ""));
}

/*
 * Render page with data (consumed) inside the layout and queue it with
 * status; hname/hvalue, when not NULL, is one more header.
 */
static enum MHD_Result
web_page_header(struct web_req *r, unsigned int status, enum web_page page,
    const char *title, struct value *data, const char *hname,
    const char *hvalue)
{
	const struct conf	*conf = r->conf;
	struct value		*o;
	struct buf		 content, out;
	enum MHD_Result		 ret;
	char			*cause = NULL;

	web_set(data, "title", title);
	web_set(data, "root", r->root);
	o = value_new_object();
	web_set(o, "name", conf->general.from_name);
	web_set(o, "enquiries", conf->general.from_address);
	value_object_set(data, "network", o);

	buf_init(&content, WEB_PAGE_MAX);
	buf_init(&out, WEB_PAGE_MAX);
	if (template_render(r->site->pages[page], data, NULL, &content,
	    &cause) != 0)
		goto fail;
	value_object_set(data, "content", value_new_stringn(content.data !=
	    NULL ? content.data : "", content.len));
	if (template_render(r->site->layout, data, NULL, &out, &cause) != 0)
		goto fail;
	ret = web_respond(r, status, "text/html; charset=utf-8",
	    out.data != NULL ? out.data : "", out.len, hname, hvalue);
	goto out;

fail:
	log_error("web: %s: %s", web_page_files[page], cause);
	free(cause);
	ret = web_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
	    "Sorry, this page could not be shown.\n");
out:
	buf_free(&content);
	buf_free(&out);
	value_free(data);
	return ret;
}

static enum MHD_Result
web_page(struct web_req *r, unsigned int status, enum web_page page,
    const char *title, struct value *data)
{
	return web_page_header(r, status, page, title, data, NULL, NULL);
}

/*
 * An error page: a title, one paragraph, and optionally a link onward
 * (url relative to the site's root, or NULL).
 */
static enum MHD_Result
web_error_link(struct web_req *r, unsigned int status, const char *title,
    const char *message, const char *url, const char *link)
{
	struct value	*data, *o;
	char		*href;

	data = value_new_object();
	web_set(data, "message", message);
	if (url != NULL) {
		o = value_new_object();
		href = xprintf("%s%s", r->root, url);
		web_set(o, "url", href);
		free(href);
		web_set(o, "text", link);
		value_object_set(data, "link", o);
	}
	return web_page(r, status, WEB_PAGE_ERROR, title, data);
}

static enum MHD_Result
web_error(struct web_req *r, unsigned int status, const char *title,
    const char *message)
{
	return web_error_link(r, status, title, message, NULL, NULL);
}

/* An error page with one more header, hname: hvalue. */
static enum MHD_Result
web_error_header(struct web_req *r, unsigned int status, const char *title,
    const char *message, const char *hname, const char *hvalue)
{
	struct value	*data;

	data = value_new_object();
	web_set(data, "message", message);
	return web_page_header(r, status, WEB_PAGE_ERROR, title, data, hname,
	    hvalue);
}

/* The database failed: say so, log why once, ask to try again. */
static enum MHD_Result
web_busy(struct web_req *r, char *cause)
{
	log_error("web: %s %s: %s", r->method_name, r->route, cause);
	free(cause);
	return web_error_header(r, MHD_HTTP_SERVICE_UNAVAILABLE,
	    "Sorry, please try again", "Something went wrong on our side "
	    "and nothing was changed. Please try again in a minute.",
	    "Retry-After", WEB_RETRY_BUSY);
}

static enum MHD_Result
web_not_found(struct web_req *r)
{
	return web_error_link(r, MHD_HTTP_NOT_FOUND, "Page not found",
	    "There is no page at this address. If you typed it, check it "
	    "is right; if you followed a link, it may be incomplete.",
	    "", "See the lists you can join");
}

static enum MHD_Result
web_bad_method(struct web_req *r, const char *allow)
{
	return web_error_header(r, MHD_HTTP_METHOD_NOT_ALLOWED,
	    "Method not allowed", "This page cannot be used that way.",
	    "Allow", allow);
}

static enum MHD_Result
web_too_big(struct web_req *r)
{
	return web_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "Too much was sent",
	    "The form sent more than this page accepts. Go back and try "
	    "again with less.");
}

/* --- tokens and forms --------------------------------------------- */

/* Where to write instead of following a link: the list's reply-to. */
static const char *
web_contact(struct web_req *r, const char *list)
{
	const struct conf_list	*l;

	if ((l = conf_list_find(r->conf, list)) != NULL &&
	    l->reply_to != NULL && *l->reply_to != '\0')
		return l->reply_to;
	return r->conf->general.from_address;
}

/*
 * Check the token in the URL: 0 with *t when it grants purpose, else -1
 * with the error page queued in *ret.
 */
static int
web_token(struct web_req *r, const char *s, enum token_purpose purpose,
    struct token *t, enum MHD_Result *ret)
{
	struct token_salts	 salts = { store_token_salt, r->store };
	char			*cause = NULL, *url, *text;
	int			 rc;

	if ((rc = token_check(r->w->key, &salts, s, r->now, t,
	    &cause)) == -2) {
		*ret = web_busy(r, cause);
		return -1;
	}
	if (rc == 0) {
		if (t->purpose == purpose)
			return 0;
		log_info("web: %s %s from %s: a token made for another page",
		    r->method_name, r->route, r->client);
		*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This link is not for "
		    "this page", "The link you followed was made for "
		    "something else, so nothing has been changed. Use the "
		    "link exactly as it appears in the email.");
		return -1;
	}
	log_info("web: %s %s from %s: token %s", r->method_name, r->route,
	    r->client, cause);
	if (strcmp(cause, "malformed") == 0)
		*ret = web_error(r, MHD_HTTP_BAD_REQUEST, "This link is not "
		    "complete", "The link you followed is not complete or "
		    "has been changed, so nothing has been changed. Some "
		    "email programs split long links over two lines: copy "
		    "the whole link from the email into your browser.");
	else if (strcmp(cause, "expired") == 0) {
		if (purpose == TOKEN_CONFIRM && *t->list != '\0' &&
		    conf_list_find(r->conf, t->list) != NULL) {
			url = xprintf("subscribe/%s", t->list);
			*ret = web_error_link(r, MHD_HTTP_FORBIDDEN, "This "
			    "link has expired", "Links to confirm a "
			    "subscription work for 7 days, and this one is "
			    "older, so nothing has been changed. You can ask "
			    "for a new one.", url, "Subscribe again");
			free(url);
		} else if (purpose == TOKEN_UNSUBSCRIBE) {
			text = xprintf("This link is too old to use (links "
			    "to unsubscribe work for a year), so nothing has "
			    "been changed. To unsubscribe, use the link in a "
			    "more recent email from us, or write to %s and "
			    "ask to be taken off the list.",
			    web_contact(r, t->list));
			*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This link has "
			    "expired", text);
			free(text);
		} else if (purpose == TOKEN_TEST_COPY)
			*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This test "
			    "link has expired", "The links in a test copy of "
			    "a newsletter work for 30 days, and this one is "
			    "older. Nothing has been changed. Send yourself a "
			    "new test copy to see the newsletter as it is "
			    "now.");
		else
			*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This link has "
			    "expired", "The link you followed is too old to "
			    "use, so nothing has been changed. Use the link "
			    "in a more recent email, or write to us.");
	} else
		*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This link is not "
		    "valid", "The link you followed is no longer valid, was "
		    "not made by us, or has been altered, so nothing has "
		    "been changed. Use the link exactly as it appears in "
		    "the most recent email from us.");
	free(cause);
	return -1;
}

/* Parse the POST body: 0, or -1 with the error page queued in *ret. */
static int
web_form(struct web_req *r, struct form *f, enum MHD_Result *ret)
{
	const char	*type;
	char		*cause = NULL;

	type = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Content-Type");
	if (form_parse(f, type, r->body.data != NULL ? r->body.data : "",
	    r->body.len, &cause) == 0)
		return 0;
	log_info("web: %s %s from %s: bad form: %s", r->method_name,
	    r->route, r->client, cause);
	if (!form_type_supported(type))
		*ret = web_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "The form could not be read", "The form was sent in a "
		    "way this page does not understand. Nothing has been "
		    "changed.");
	else
		*ret = web_error(r, MHD_HTTP_BAD_REQUEST, "The form could not "
		    "be read", "The form arrived damaged, so nothing has "
		    "been changed. Go back and try again.");
	free(cause);
	return -1;
}

struct value *
web_list_value(const struct conf_list *l, const char *slug)
{
	struct value	*o;

	o = value_new_object();
	web_set(o, "slug", l != NULL ? l->slug : slug);
	web_set(o, "name", l != NULL ? l->name : slug);
	web_set(o, "description", l != NULL ? l->description : "");
	return o;
}

/* --- GET / and /style.css ----------------------------------------- */

static enum MHD_Result
web_index(struct web_req *r)
{
	struct value	*data, *lists;
	size_t		 i;

	data = value_new_object();
	lists = value_new_list();
	for (i = 0; i < r->conf->nlists; i++)
		value_list_append(lists, web_list_value(&r->conf->lists[i],
		    NULL));
	value_object_set(data, "lists", lists);
	return web_page(r, MHD_HTTP_OK, WEB_PAGE_INDEX, "Our mailing lists",
	    data);
}

/* --- routing ------------------------------------------------------ */

/* "" for "/x", "../" for "/x/y", ...: links stay relative to the root. */
static const char *
web_root(const char *url)
{
	static const char	 ups[] = "../../../../../../../../";
	size_t			 depth = 0;

	for (; *url != '\0'; url++) {
		if (*url == '/')
			depth++;
	}
	if (depth <= 1)
		return "";
	if (depth - 1 > (sizeof ups - 1) / 3)
		depth = (sizeof ups - 1) / 3 + 1;
	return ups + (sizeof ups - 1) - 3 * (depth - 1);
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
static enum MHD_Result
web_campaign(struct web_req *r, const struct store_campaign *c,
    enum web_page page, const char *title, struct value *data)
{
	struct store_subscriber	 reader;
	struct store_campaign	 item;
	struct newsletter_parts	 np;
	struct newsletter	*nl = NULL;
	const struct conf_list	*list;
	struct value		*o;
	enum MHD_Result		 ret;
	char			*cause = NULL;

	item = *c;
	item.template = (char *)DIGEST_ITEM_TEMPLATE;
	list = conf_list_find(r->conf, c->list);
	memset(&reader, 0, sizeof reader);
	reader.name = (char *)"reader";
	reader.email = (char *)"";
	reader.attrs = (char *)"{}";
	memset(&np, 0, sizeof np);
	if (list == NULL ||
	    (nl = newsletter_prepare(r->conf, &item, r->w->key,
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
		return web_text(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
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
	ret = web_page(r, MHD_HTTP_OK, page, title != NULL ? title :
	    np.subject, data);
	newsletter_free(nl);
	newsletter_parts_clear(&np);
	return ret;
}

/* --- for the page files (web-int.h) ----------------------------------- */

void
web_prune_limits(struct web_req *r)
{
	char	*cause = NULL;

	pthread_mutex_lock(&r->w->lock);
	if (r->now - r->w->last_prune < WEB_PRUNE_EVERY) {
		pthread_mutex_unlock(&r->w->lock);
		return;
	}
	r->w->last_prune = r->now;
	pthread_mutex_unlock(&r->w->lock);
	if (store_web_prune(r->store, r->now - WEB_RATE_WINDOW,
	    &cause) != 0) {
		log_warn("web: pruning rate limits: %s", cause);
		free(cause);
	}
}

int
web_answer_page(struct web_req *r, unsigned int status, enum web_page page,
    const char *title, struct value *data)
{
	return web_page(r, status, page, title, data) == MHD_YES;
}

int
web_answer_error(struct web_req *r, unsigned int status, const char *title,
    const char *message)
{
	return web_error(r, status, title, message) == MHD_YES;
}

int
web_answer_error_link(struct web_req *r, unsigned int status,
    const char *title, const char *message, const char *url,
    const char *link)
{
	return web_error_link(r, status, title, message, url, link) ==
	    MHD_YES;
}

int
web_answer_error_retry(struct web_req *r, unsigned int status,
    const char *title, const char *message, const char *seconds)
{
	return web_error_header(r, status, title, message, "Retry-After",
	    seconds) == MHD_YES;
}

int
web_answer_text(struct web_req *r, unsigned int status, const char *text)
{
	return web_text(r, status, text) == MHD_YES;
}

int
web_answer_busy(struct web_req *r, char *cause)
{
	return web_busy(r, cause) == MHD_YES;
}

int
web_answer_not_found(struct web_req *r)
{
	return web_not_found(r) == MHD_YES;
}

int
web_answer_bad_method(struct web_req *r, const char *allow)
{
	return web_bad_method(r, allow) == MHD_YES;
}

int
web_answer_campaign(struct web_req *r, const struct store_campaign *c,
    enum web_page page, const char *title, struct value *data)
{
	return web_campaign(r, c, page, title, data) == MHD_YES;
}

void
web_answer_after(struct web_req *r, int64_t ms)
{
	r->defer = 1;
	r->answer_at = r->start + ms;
}

int
web_check_token(struct web_req *r, const char *s, enum token_purpose purpose,
    struct token *t, int *ret)
{
	enum MHD_Result	mr;

	if (web_token(r, s, purpose, t, &mr) == 0)
		return 0;
	*ret = mr == MHD_YES;
	return -1;
}

int
web_read_form(struct web_req *r, struct form *f, int *ret)
{
	enum MHD_Result	mr;

	if (web_form(r, f, &mr) == 0)
		return 0;
	*ret = mr == MHD_YES;
	return -1;
}

/*
 * A POST from another site's page (web_cross_site()) is refused with 403
 * and changes nothing: 1 with the page queued in *ret.  RFC 8058's
 * one-click POST is let through whatever it carries: mail providers
 * send it, and the token in the URL is all it needs.
 */
static int
web_refuse_cross_site(struct web_req *r, enum MHD_Result *ret)
{
	const char	*which;

	if ((which = web_cross_site(r)) == NULL)
		return 0;
	if ((strcmp(r->route, "unsubscribe") == 0 ||
	    strcmp(r->route, "test-unsubscribe") == 0) && web_one_click(r))
		return 0;
	log_info("web: %s %s from %s: sent from another site's page (%s); "
	    "refused", r->method_name, r->route, r->client, which);
	*ret = web_error(r, MHD_HTTP_FORBIDDEN, "This form was sent from "
	    "another site", "The form was sent from a page that is not "
	    "ours, so nothing has been changed. If you meant to use it, "
	    "open our page yourself and send the form from there.");
	return 1;
}

static enum MHD_Result
web_dispatch(struct web_req *r, const char *url)
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
		{ "test-copy", web_test_copy },
		{ "test-unsubscribe", web_test_unsubscribe },
		{ "test-preferences", web_test_preferences },
	};
	enum MHD_Result	 ret;
	const char	*arg;
	size_t		 i, n;

	r->root = web_root(url);
	r->route = "?";
	if (strcmp(url, "/") == 0 || strcmp(url, "/style.css") == 0) {
		r->route = url;
		if (r->method != WEB_GET)
			return web_bad_method(r, "GET, HEAD");
		if (url[1] == '\0')
			return web_index(r);
		return web_respond(r, MHD_HTTP_OK, "text/css; charset=utf-8",
		    r->site->css, r->site->csslen, NULL, NULL);
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
			return web_bad_method(r, "GET, HEAD, POST");
		if (r->method == WEB_POST && web_refuse_cross_site(r, &ret))
			return ret;
		return routes[i].fn(r, arg) ? MHD_YES : MHD_NO;
	}
	return web_not_found(r);
}

/* --- libmicrohttpd ------------------------------------------------ */

/* The guard's handle of connection c (web_notify()). */
static struct web_guard_conn *
web_guard_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo	*ci;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* The guard's thread, at r->answer_at: send what web_respond() held. */
static void
web_resume(void *arg)
{
	struct web_req	*r = arg;

	MHD_resume_connection(r->c);
}

/*
 * Hold the answer r->held until r->answer_at: the connection is
 * suspended (its pool thread serves others meanwhile) and the guard
 * resumes it then; web_access() is called again and sends it.
 */
static enum MHD_Result
web_defer(struct web_req *r)
{
	MHD_suspend_connection(r->c);
	web_guard_later(r->w->guard, r->guard, r->answer_at, web_resume, r);
	return MHD_YES;
}

/* The first call of a request: its headers are in.  */
static enum MHD_Result
web_begin(struct web *w, struct web_req *r, const char *url)
{
	const char	*cl;
	char		*end;
	unsigned long long n;

	web_client(r);
	r->root = web_root(url);
	r->route = "?";
	r->start = monotime_ms();
	r->guard = web_guard_of(r->c);
	if (web_guard_request(w->guard, r->guard, r->client_key) == -1) {
		log_info("web: %s from %s: more than %d requests at once from "
		    "this client; refused", r->method_name, r->client,
		    WEB_MAX_PER_IP);
		return web_busy(r, xstrdup("too many requests at once"));
	}
	/*
	 * Refuse a body that says it is too big before reading it;
	 * anything else is answered on the next call, once the request is
	 * in (answering now would cost the keep-alive).
	 */
	cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
	    "Content-Length");
	if (cl != NULL) {
		errno = 0;
		n = strtoull(cl, &end, 10);
		if (errno != 0 || end == cl || *end != '\0' ||
		    n > WEB_MAX_BODY) {
			log_info("web: %s from %s: a Content-Length over %d "
			    "or not a number; refused", r->method_name,
			    r->client, WEB_MAX_BODY);
			return web_too_big(r);
		}
	}
	return MHD_YES;
}

/* The last call: the request is in; answer it with a database handle. */
static enum MHD_Result
web_answer(struct web *w, struct web_req *r, const char *url)
{
	enum MHD_Result	 ret;
	char		*cause = NULL;

	web_guard_answering(w->guard, r->guard);
	if ((r->store = web_pool_get(w->pool, &cause)) == NULL) {
		r->route = url;
		return web_busy(r, cause);
	}
	ret = web_dispatch(r, url);
	web_pool_put(w->pool, r->store);
	r->store = NULL;
	if (ret == MHD_YES && r->held != NULL)
		return web_defer(r);
	return ret;
}

static enum MHD_Result
web_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct web	*w = cls;
	struct web_req	*r = *con_cls;
	enum MHD_Result	 ret;

	if (r != NULL && r->held != NULL) {
		/* Resumed (web_defer()): the answer's time has come. */
		ret = MHD_queue_response(c, r->status, r->held);
		MHD_destroy_response(r->held);
		r->held = NULL;
		return ret;
	}
	/*
	 * A reload takes effect between callbacks; a callback holds the
	 * site it started with, so none sees it freed.
	 */
	if (r == NULL) {
		r = xcalloc(1, sizeof *r);
		r->w = w;
		r->key = w->key;
		r->c = c;
		buf_init(&r->body, WEB_MAX_BODY);
		r->method = WEB_GET;
		if (strcmp(method, "GET") == 0)
			r->method_name = "GET";
		else if (strcmp(method, "HEAD") == 0)
			r->method_name = "HEAD";
		else if (strcmp(method, "POST") == 0) {
			r->method = WEB_POST;
			r->method_name = "POST";
		} else {
			r->method = WEB_OTHER;
			r->method_name = "(other method)";
		}
		*con_cls = r;
	}
	r->site = web_site_hold(w);
	r->conf = r->site->conf;
	r->confirm = r->site->confirm;
	r->now = time(NULL);

	if (r->start == 0)
		ret = web_begin(w, r, url);
	else if (*upload_data_size != 0) {
		ret = MHD_YES;
		if (!r->too_big && buf_add(&r->body, upload_data,
		    *upload_data_size) != 0)
			r->too_big = 1;
		if (r->too_big) {
			r->discarded += *upload_data_size;
			if (r->discarded > WEB_MAX_DISCARD) {
				log_info("web: %s from %s: endless body; "
				    "connection closed", r->method_name,
				    r->client);
				ret = MHD_NO;
			}
		}
		*upload_data_size = 0;
	} else if (r->too_big) {
		log_info("web: %s from %s: body over %d bytes refused",
		    r->method_name, r->client, WEB_MAX_BODY);
		ret = web_too_big(r);
	} else
		ret = web_answer(w, r, url);
	web_site_release(w, r->site);
	r->site = NULL;
	r->conf = NULL;
	r->confirm = NULL;
	return ret;
}

static void
web_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct web	*w = cls;
	struct web_req	*r = *con_cls;

	if (r == NULL)
		return;
	log_debug("web: %s %s from %s: %u%s", r->method_name, r->route,
	    r->client, r->status, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
	    "" : " (not completed)");
	web_guard_done(w->guard, r->guard);
	if (r->held != NULL)
		MHD_destroy_response(r->held);
	buf_free(&r->body);
	free(r);
	*con_cls = NULL;
}

/*
 * Connections opening and closing, for the guard (web-guard.h): its
 * handle is the connection's socket context.
 */
static void
web_notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct web			*w = cls;
	const union MHD_ConnectionInfo	*ci, *ai;
	const struct sockaddr		*sa = NULL;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		web_guard_close(w->guard, *socket_context);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	ai = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ai != NULL)
		sa = ai->client_addr;
	if (ci == NULL)
		return;
	*socket_context = web_guard_open(w->guard, ci->connect_fd, sa,
	    sa != NULL && web_is_loopback(sa));
}

static void
web_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char	line[512];
	size_t	n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("web: libmicrohttpd: %s", line);
}

/* Bind web.listen ("HOST:PORT", "[V6]:PORT"): the socket, or -1. */
static int
web_listen(const char *listen_on, int *family, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*colon;
	char		*host;
	int		 fd = -1, on = 1, rc, err = 0;

	if (listen_on[0] == '[') {
		colon = strstr(listen_on, "]:");
		if (colon == NULL) {
			*cause = xprintf("web.listen %s: expected "
			    "[ADDRESS]:PORT", listen_on);
			return -1;
		}
		host = xstrndup(listen_on + 1, (size_t)(colon - listen_on - 1));
		colon++;
	} else {
		if ((colon = strrchr(listen_on, ':')) == NULL) {
			*cause = xprintf("web.listen %s: expected HOST:PORT",
			    listen_on);
			return -1;
		}
		host = xstrndup(listen_on, (size_t)(colon - listen_on));
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(*host != '\0' ? host : NULL, colon + 1, &hints,
	    &res)) != 0) {
		*cause = xprintf("web.listen %s: %s", listen_on,
		    gai_strerror(rc));
		free(host);
		return -1;
	}
	free(host);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			err = errno;
			continue;
		}
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
		if (ai->ai_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof on);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 64) == 0) {
			*family = ai->ai_family;
			break;
		}
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		*cause = xprintf("web.listen %s: %s", listen_on,
		    strerror(err != 0 ? err : EADDRNOTAVAIL));
	return fd;
}

struct web *
web_start(const struct conf *conf, char **cause)
{
	struct web	*w;
	unsigned int	 flags;
	int		 fd, family = AF_INET;

	w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->lock, NULL);
	if (token_key_load(conf->general.secret_file, 1, w->key, cause) != 0)
		goto fail;
	if ((w->site = web_site_open(conf, cause)) == NULL)
		goto fail;
	w->site->refs = 1;
	/* The first handle is opened now: a bad database stops start-up. */
	if ((w->pool = web_pool_new(conf->general.database, cause)) == NULL)
		goto fail;
	if ((fd = web_listen(conf->web.listen, &family, cause)) == -1)
		goto fail;
	w->guard = web_guard_start(conf->web.request_timeout, WEB_MAX_PER_IP);

	/*
	 * A pool of WEB_THREADS threads, each polling its share of the
	 * connections, so that one slow database call stalls only its own
	 * thread's.  No libmicrohttpd per-address limit: it would count
	 * the proxy; the guard counts clients instead (web-guard.h).
	 */
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	w->mhd = MHD_start_daemon(flags, 0, NULL, NULL, web_access, w,
	    MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, w,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)WEB_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)WEB_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)WEB_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)WEB_CONNECTION_MEMORY,
	    MHD_OPTION_NOTIFY_COMPLETED, web_completed, w,
	    MHD_OPTION_NOTIFY_CONNECTION, web_notify, w,
	    MHD_OPTION_END);
	if (w->mhd == NULL) {
		close(fd);
		*cause = xprintf("web.listen %s: libmicrohttpd would not start",
		    conf->web.listen);
		goto fail;
	}
	log_info("web: serving on %s (public address %s)", conf->web.listen,
	    conf->general.base_url);
	return w;

fail:
	web_stop(w);
	return NULL;
}

void
web_reload(struct web *w, const struct conf *conf)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->next_conf = conf;
	pthread_mutex_unlock(&w->lock);
}

void
web_stop(struct web *w)
{
	if (w == NULL)
		return;
	/* Answers held back are sent first: none may stay suspended. */
	web_guard_stop(w->guard);
	if (w->mhd != NULL)
		MHD_stop_daemon(w->mhd);
	web_guard_free(w->guard);
	web_pool_free(w->pool);
	web_site_free(w->site);
	explicit_bzero(w->key, sizeof w->key);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
