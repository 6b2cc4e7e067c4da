/*
 * web.c - postroomd's web server, on libmicrohttpd (see web.h): one
 * struct web per side (web-int.h's struct web_side), each on its own
 * listener: the public pages (web-public.c, on web.listen) and the staff
 * console (console.c, on console.listen).
 *
 * Owns: the HTTP side (the only file including <microhttpd.h>), the
 * security headers, request limits, the client address, the cross-site
 * check, the site (configuration, a side's templates and assets, the
 * confirmation mailer, reloaded on SIGHUP), rendering a page in the
 * layout, the error pages, redirects and downloads, answers held back to
 * a fixed time, pruning the rate-limit counters, the server's lifecycle,
 * and web-int.h, which the sides and their page files answer through.
 * Does not own: which URL is which page (each side's route table), what
 * the pages do (web-subscribe.c, web-test.c, console-*.c), the wording
 * (templates/web/, templates/console/), tokens (token.c), form encodings
 * (form.c), the SQL (store-*.c), slow clients and per-client counts
 * (web-guard.c), database handles (web-pool.c).
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
#include <strings.h>
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
#include "utf8.h"
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


/*
 * Templates and the confirmation mailer for one configuration; read by
 * any number of threads at once, freed when the last lets go (refs,
 * under the web's lock: one for being w->site, one per callback using
 * it).
 */
struct web_site {
	int			 refs;
	const struct web_side	*side;
	const struct conf	*conf;
	struct confirm		*confirm;
	struct template		*layout;
	struct template		**pages;	/* side->npages */
	char			**assets;	/* as side->assets */
	size_t			*assetlens;
};

struct web {
	const struct web_side	*side;
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
	for (i = 0; site->pages != NULL && i < site->side->npages; i++)
		template_free(site->pages[i]);
	free(site->pages);
	for (i = 0; site->assets != NULL &&
	    site->side->assets[i].url != NULL; i++)
		free(site->assets[i]);
	free(site->assets);
	free(site->assetlens);
	free(site);
}

/* The side's pages live in general.templates/DIR/. */
static struct template *
web_site_template(const struct web_side *side, const struct conf *conf,
    const char *name, char **cause)
{
	char		*dir;
	struct template	*t;

	dir = xprintf("%s/%s", conf->general.templates, side->dir);
	t = template_load(dir, name, cause);
	free(dir);
	return t;
}

static struct web_site *
web_site_open(const struct web_side *side, const struct conf *conf,
    char **cause)
{
	struct web_site	*site;
	struct buf	 b;
	char		*path;
	int		 i, n;

	site = xcalloc(1, sizeof *site);
	site->side = side;
	site->conf = conf;
	if ((site->confirm = confirm_open(conf, cause)) == NULL)
		goto fail;
	if ((site->layout = web_site_template(side, conf, "layout.html",
	    cause)) == NULL)
		goto fail;
	site->pages = xcalloc((size_t)side->npages, sizeof *site->pages);
	for (i = 0; i < side->npages; i++) {
		if ((site->pages[i] = web_site_template(side, conf,
		    side->pages[i], cause)) == NULL)
			goto fail;
	}
	for (n = 0; side->assets[n].url != NULL; n++)
		;
	site->assets = xcalloc((size_t)n + 1, sizeof *site->assets);
	site->assetlens = xcalloc((size_t)n + 1, sizeof *site->assetlens);
	for (i = 0; i < n; i++) {
		path = xprintf("%s/%s", conf->general.templates,
		    side->assets[i].file);
		buf_init(&b, TEMPLATE_MAX_FILE);
		if (buf_read_file(&b, path) == -1) {
			*cause = xprintf("%s: %s", path, strerror(errno));
			buf_free(&b);
			free(path);
			goto fail;
		}
		free(path);
		site->assets[i] = buf_detach(&b, &site->assetlens[i]);
		if (site->assets[i] == NULL)
			site->assets[i] = xstrdup("");
	}
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
		if ((site = web_site_open(w->side, conf, &cause)) == NULL) {
			log_error("%s: new configuration not taken up: %s; "
			    "the pages keep the old one", w->side->name, cause);
			free(cause);
		} else {
			web_guard_set_timeout(w->guard,
			    conf->web.request_timeout);
			site->refs = 1;
			pthread_mutex_lock(&w->lock);
			old = w->site;
			w->site = site;
			pthread_mutex_unlock(&w->lock);
			log_info("%s: configuration and templates reloaded",
			    w->side->name);
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
 * the side's base URL's origin (general.base_url, console.base_url).  Requests with neither (curl, a mail
 * provider's RFC 8058 one-click POST) are not cross-site: no browser
 * leaves both out of a POST, and our pages send "same-origin" as their
 * Referrer-Policy.  "Origin: null" (a sandboxed or privacy-stripped
 * page) counts as foreign.  The header that failed, or NULL.
 */
const char *
web_cross_site(struct web_req *r)
{
	const char	*v;
	char		 want[256], got[256];

	web_origin(r->side->base_url(r->conf), want, sizeof want);
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

int
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

/* The headers a page may set in place of the side's (web_add_header()). */
static const char *const web_replaceable[] = {
	"Content-Security-Policy", "X-Frame-Options", "Cache-Control", NULL
};

/* The page's value of header name, else dflt. */
static const char *
web_header_or(struct web_req *r, const char *name, const char *dflt)
{
	int	i;

	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->hnames[i], name) == 0)
			return r->hvalues[i];
	}
	return dflt;
}

static int
web_header_replaces(const char *name)
{
	size_t	i;

	for (i = 0; web_replaceable[i] != NULL; i++) {
		if (strcasecmp(web_replaceable[i], name) == 0)
			return 1;
	}
	return 0;
}

static enum MHD_Result
web_respond(struct web_req *r, unsigned int status, const char *type,
    const char *body, size_t len, const char *hname, const char *hvalue)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 ret;
	int			 i;

	resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Security-Policy",
	    web_header_or(r, "Content-Security-Policy", r->side->csp));
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", r->side->referrer);
	MHD_add_response_header(resp, "X-Frame-Options",
	    web_header_or(r, "X-Frame-Options", "DENY"));
	MHD_add_response_header(resp, "Cache-Control",
	    web_header_or(r, "Cache-Control", "no-store"));
	if (strncmp(r->side->base_url(r->conf), "https://", 8) == 0)
		MHD_add_response_header(resp, "Strict-Transport-Security",
		    "max-age=31536000");
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
	for (i = 0; i < r->nheaders; i++) {
		if (!web_header_replaces(r->hnames[i]))
			MHD_add_response_header(resp, r->hnames[i],
			    r->hvalues[i]);
	}
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
web_page_header(struct web_req *r, unsigned int status, int page,
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
	log_error("%s: %s: %s", r->side->name, r->side->pages[page], cause);
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
web_page(struct web_req *r, unsigned int status, int page,
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
	return web_page(r, status, r->side->error_page, title, data);
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
	return web_page_header(r, status, r->side->error_page, title, data,
	    hname, hvalue);
}

/* The database failed: say so, log why once, ask to try again. */
static enum MHD_Result
web_busy(struct web_req *r, char *cause)
{
	log_error("%s: %s %s: %s", r->side->name, r->method_name, r->route,
	    cause);
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
	    "", r->side->home);
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
	log_info("%s: %s %s from %s: bad form: %s", r->side->name,
	    r->method_name, r->route, r->client, cause);
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
		log_warn("%s: pruning rate limits: %s", r->side->name, cause);
		free(cause);
	}
}

int
web_answer_page(struct web_req *r, unsigned int status, int page,
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
web_answer_redirect(struct web_req *r, const char *url)
{
	enum MHD_Result	 ret;
	char		*to;

	to = url[0] == '/' ? xstrdup(url) : xprintf("%s%s", r->root, url);
	ret = web_respond(r, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8",
	    "", 0, "Location", *to != '\0' ? to : "./");
	free(to);
	return ret == MHD_YES;
}

int
web_answer_body(struct web_req *r, unsigned int status, const char *type,
    const void *body, size_t len)
{
	return web_respond(r, status, type, body, len, NULL, NULL) ==
	    MHD_YES;
}

int
web_answer_file(struct web_req *r, const char *type, const void *body,
    size_t len, const char *filename)
{
	char	*cd;
	int	 ret;

	cd = xprintf("attachment; filename=\"%s\"", filename);
	ret = web_respond(r, MHD_HTTP_OK, type, body, len,
	    "Content-Disposition", cd) == MHD_YES;
	free(cd);
	return ret;
}

/* RFC 8187's attr-char: what goes into filename* as it is. */
static int
web_attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || strchr("!#$&+-.^_`|~", c) != NULL;
}

int
web_answer_download(struct web_req *r, const void *body, size_t len,
    const char *name)
{
	struct buf	 cd;
	const char	*p;
	size_t		 n;
	unsigned char	 c;
	int		 ret;

	/* At most WEB_DOWNLOAD_NAME bytes of it, cut between characters. */
	if (name == NULL || *name == '\0')
		name = "attachment";
	n = utf8_truncate(name, strlen(name), WEB_DOWNLOAD_NAME);
	buf_init(&cd, BUF_NOMAX);
	/* For old clients: letters, digits and a few marks, else '_'. */
	buf_addstr(&cd, "attachment; filename=\"");
	for (p = name; p < name + n; p++) {
		c = (unsigned char)*p;
		buf_addc(&cd, (c >= 'a' && c <= 'z') || (c >= 'A' &&
		    c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(" ()+,-.=_", c) != NULL ? (char)c : '_');
	}
	/* RFC 6266 and 8187: the name as it is, percent-encoded UTF-8. */
	buf_addstr(&cd, "\"; filename*=UTF-8''");
	for (p = name; p < name + n; p++) {
		if (web_attr_char((unsigned char)*p))
			buf_addc(&cd, *p);
		else
			buf_printf(&cd, "%%%02X", (unsigned char)*p);
	}
	ret = web_respond(r, MHD_HTTP_OK, "application/octet-stream", body,
	    len, "Content-Disposition", cd.data) == MHD_YES;
	buf_free(&cd);
	return ret;
}

void
web_add_header(struct web_req *r, const char *name, const char *value)
{
	if (r->nheaders == WEB_REQ_HEADERS)
		fatalx("web_add_header: more than %d headers",
		    WEB_REQ_HEADERS);
	r->hnames[r->nheaders] = xstrdup(name);
	r->hvalues[r->nheaders] = xstrdup(value);
	r->nheaders++;
}

const char *
web_header(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, name);
}

const char *
web_cookie(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, name);
}

const char *
web_query(struct web_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
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

/* The side's assets (GET, HEAD), then its pages. */
static enum MHD_Result
web_dispatch(struct web_req *r, const char *url)
{
	const struct web_asset	*a;
	size_t			 i;

	r->root = web_root(url);
	r->route = "?";
	for (i = 0; r->side->assets[i].url != NULL; i++) {
		a = &r->side->assets[i];
		if (strcmp(url, a->url) != 0)
			continue;
		r->route = a->url;
		if (r->method != WEB_GET)
			return web_bad_method(r, "GET, HEAD");
		return web_respond(r, MHD_HTTP_OK, a->type,
		    r->site->assets[i], r->site->assetlens[i], NULL, NULL);
	}
	return r->side->dispatch(r, url) ? MHD_YES : MHD_NO;
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
		log_info("%s: %s from %s: more than %d requests at once from "
		    "this client; refused", w->side->name, r->method_name,
		    r->client,
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
		    n > r->side->max_body) {
			log_info("%s: %s from %s: a Content-Length over %zu "
			    "or not a number; refused", w->side->name,
			    r->method_name, r->client, r->side->max_body);
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
		r->side = w->side;
		buf_init(&r->body, w->side->max_body);
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
				log_info("%s: %s from %s: endless body; "
				    "connection closed", w->side->name,
				    r->method_name, r->client);
				ret = MHD_NO;
			}
		}
		*upload_data_size = 0;
	} else if (r->too_big) {
		log_info("%s: %s from %s: body over %zu bytes refused",
		    w->side->name, r->method_name, r->client,
		    w->side->max_body);
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
	int		 i;

	if (r == NULL)
		return;
	log_debug("%s: %s %s from %s: %u%s", w->side->name, r->method_name,
	    r->route, r->client, r->status, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ?
	    "" : " (not completed)");
	web_guard_done(w->guard, r->guard);
	if (r->held != NULL)
		MHD_destroy_response(r->held);
	for (i = 0; i < r->nheaders; i++) {
		free(r->hnames[i]);
		free(r->hvalues[i]);
	}
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
	struct web	*w = cls;
	char	line[512];
	size_t	n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("%s: libmicrohttpd: %s", w->side->name, line);
}

/*
 * Bind listen_on ("HOST:PORT", "[V6]:PORT"), the side's NAME.listen: the
 * socket, or -1.
 */
static int
web_listen(const char *name, const char *listen_on, int *family,
    char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	const char	*colon;
	char		*host;
	int		 fd = -1, on = 1, rc, err = 0;

	if (listen_on[0] == '[') {
		colon = strstr(listen_on, "]:");
		if (colon == NULL) {
			*cause = xprintf("%s.listen %s: expected "
			    "[ADDRESS]:PORT", name, listen_on);
			return -1;
		}
		host = xstrndup(listen_on + 1, (size_t)(colon - listen_on - 1));
		colon++;
	} else {
		if ((colon = strrchr(listen_on, ':')) == NULL) {
			*cause = xprintf("%s.listen %s: expected HOST:PORT",
			    name, listen_on);
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
		*cause = xprintf("%s.listen %s: %s", name, listen_on,
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
		*cause = xprintf("%s.listen %s: %s", name, listen_on,
		    strerror(err != 0 ? err : EADDRNOTAVAIL));
	return fd;
}

struct web *
web_start(const struct conf *conf, const struct web_side *side, char **cause)
{
	struct web	*w;
	const char	*listen_on = side->listen(conf);
	unsigned int	 flags;
	int		 fd, family = AF_INET;

	w = xcalloc(1, sizeof *w);
	w->side = side;
	pthread_mutex_init(&w->lock, NULL);
	if (token_key_load(conf->general.secret_file, 1, w->key, cause) != 0)
		goto fail;
	if ((w->site = web_site_open(side, conf, cause)) == NULL)
		goto fail;
	w->site->refs = 1;
	/* The first handle is opened now: a bad database stops start-up. */
	if ((w->pool = web_pool_new(conf->general.database, cause)) == NULL)
		goto fail;
	if ((fd = web_listen(side->name, listen_on, &family, cause)) == -1)
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
		*cause = xprintf("%s.listen %s: libmicrohttpd would not "
		    "start", side->name, listen_on);
		goto fail;
	}
	log_info("%s: serving on %s (address %s)", side->name, listen_on,
	    side->base_url(conf));
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
