/*
 * console.c - the staff console's side of the web server (web-int.h's
 * struct web_side, served by web.c on console.listen): its one table of
 * routes and the roles each allows, the session cookie, the CSRF check,
 * and the layout every console page shares.
 *
 * Every request goes through console_dispatch(), which alone decides
 * whether it may be served: the route (404, 405), the session named by
 * the postroom_session cookie (signed out: 303 to /login), the role
 * (403), and for a POST the CSRF token bound to the session (403,
 * nothing changed).  Pages (console-*.c) never check these themselves.
 *
 * Owns: the route table, the cookie's name and flags, the console's
 * security headers (CSP with scripts only from here, no referrer).  Does
 * not own: sessions and their timeouts (session.c), signing in
 * (signin.c, console-signin.c), roles (user.c), the HTTP side (web.c),
 * the wording (templates/console/).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "console-int.h"
#include "form.h"
#include "log.h"
#include "period.h"
#include "session.h"
#include "store.h"
#include "user.h"
#include "value.h"
#include "web.h"
#include "web-int.h"
#include "xmalloc.h"

/* Scripts, styles and images only from the console itself. */
#define CONSOLE_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' https: http://127.0.0.1:* http://localhost:*; " \
	"connect-src 'self'; frame-src 'self'; form-action 'self'; " \
	"frame-ancestors 'none'; base-uri 'none'"

static const char *const console_pages[CONSOLE_NPAGES] = {
	[CONSOLE_PAGE_LOGIN] = "login.html",
	[CONSOLE_PAGE_DASHBOARD] = "dashboard.html",
	[CONSOLE_PAGE_CAMPAIGNS] = "campaigns.html",
	[CONSOLE_PAGE_CAMPAIGN] = "campaign.html",
	[CONSOLE_PAGE_SUBSCRIBERS] = "subscribers.html",
	[CONSOLE_PAGE_SUBSCRIBER] = "subscriber.html",
	[CONSOLE_PAGE_ENQUIRIES] = "enquiries.html",
	[CONSOLE_PAGE_ENQUIRY] = "enquiry.html",
	[CONSOLE_PAGE_LISTS] = "lists.html",
	[CONSOLE_PAGE_AUDIT] = "audit.html",
	[CONSOLE_PAGE_USERS] = "users.html",
	[CONSOLE_PAGE_COMPOSE] = "compose.html",
	[CONSOLE_PAGE_SEND] = "send.html",
	[CONSOLE_PAGE_PROGRESS] = "progress.html",
	[CONSOLE_PAGE_ERROR] = "error.html",
};

/* The public pages' style sheet, then the console's own. */
static const struct web_asset console_assets[] = {
	{ "/style.css", "web/style.css", "text/css; charset=utf-8" },
	{ "/console.css", "console/console.css", "text/css; charset=utf-8" },
	{ "/console.js", "console/console.js",
	    "text/javascript; charset=utf-8" },
	{ NULL, NULL, NULL }
};

/*
 * The routes: a path ("*" is one segment, handed to the page), the
 * method, the roles that may use it, and the page.  One row per page and
 * method; nothing is served that is not here.
 */
static const struct console_route {
	const char	*path;
	enum web_method	 method;
	int		 roles;
	int		 (*fn)(struct web_req *, const char *);
} console_routes[] = {
	{ "/login", WEB_GET, CONSOLE_ANYONE, console_login },
	{ "/login", WEB_POST, CONSOLE_ANYONE, console_login },
	{ "/logout", WEB_POST, CONSOLE_ALL, console_logout },
	{ "/", WEB_GET, CONSOLE_ALL, console_dashboard },
	{ "/lists", WEB_GET, CONSOLE_STAFF, console_lists },
	{ "/campaigns", WEB_GET, CONSOLE_STAFF, console_campaigns },
	{ "/campaigns/new", WEB_GET, CONSOLE_WRITERS, console_compose },
	{ "/campaigns/new", WEB_POST, CONSOLE_WRITERS, console_compose },
	{ "/campaigns/*", WEB_GET, CONSOLE_STAFF, console_campaign },
	{ "/campaigns/*/edit", WEB_GET, CONSOLE_WRITERS, console_compose },
	{ "/campaigns/*/edit", WEB_POST, CONSOLE_WRITERS, console_compose },
	{ "/campaigns/*/preview", WEB_GET, CONSOLE_STAFF, console_preview },
	{ "/campaigns/*/image", WEB_POST, CONSOLE_WRITERS, console_image },
	{ "/campaigns/*/progress", WEB_GET, CONSOLE_STAFF,
	    console_campaign_progress },
	{ "/campaigns/*/progress.json", WEB_GET, CONSOLE_STAFF,
	    console_campaign_progress_json },
	{ "/campaigns/*/failures.csv", WEB_GET, CONSOLE_WRITERS,
	    console_campaign_failures },
	{ "/campaigns/*/send", WEB_GET, CONSOLE_WRITERS,
	    console_campaign_ask },
	{ "/campaigns/*/send", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/test", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/schedule", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/unschedule", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/pause", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/resume", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/cancel", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/copy", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/delete", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/retry", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/campaigns/*/approve", WEB_POST, CONSOLE_WRITERS,
	    console_campaign_act },
	{ "/subscribers", WEB_GET, CONSOLE_STAFF, console_subscribers },
	{ "/subscribers/*", WEB_GET, CONSOLE_STAFF, console_subscriber },
	{ "/enquiries", WEB_GET, CONSOLE_ALL, console_enquiries },
	{ "/enquiries/*", WEB_GET, CONSOLE_ALL, console_enquiry },
	{ "/audit", WEB_GET, CONSOLE_ADMIN, console_audit },
	{ "/users", WEB_GET, CONSOLE_ADMIN, console_users },
	{ "/enquiries/*/answered", WEB_POST,
	    CONSOLE_ADMIN | CONSOLE_EDITOR | CONSOLE_LEAD,
	    console_enquiry_answered },
	{ "/enquiries/*/reroute", WEB_POST,
	    CONSOLE_ADMIN | CONSOLE_EDITOR | CONSOLE_LEAD,
	    console_enquiry_reroute },
	{ "/enquiries/*/attachments/*", WEB_GET, CONSOLE_ALL,
	    console_enquiry_attachment },
};
#define CONSOLE_NROUTES	(sizeof console_routes / sizeof console_routes[0])

static int	console_dispatch(struct web_req *, const char *);

static const char *
console_listen(const struct conf *conf)
{
	return conf->console.listen;
}

static const char *
console_base_url(const struct conf *conf)
{
	return conf->console.base_url;
}

const struct web_side web_console = {
	.name = "console",
	.dir = "console",
	.pages = console_pages,
	.npages = CONSOLE_NPAGES,
	.error_page = CONSOLE_PAGE_ERROR,
	.assets = console_assets,
	.max_body = CONSOLE_MAX_BODY,
	.csp = CONSOLE_CSP,
	/*
	 * No referrer at all: console URLs name people and enquiries.
	 * Browsers then send "Origin: null" with the console's POSTs; the
	 * CSRF token and the SameSite=Strict cookie are what stop forgery.
	 */
	.referrer = "no-referrer",
	.home = "Go to the dashboard",
	.listen = console_listen,
	.base_url = console_base_url,
	.dispatch = console_dispatch,
};

/* --- matching ----------------------------------------------------- */

/*
 * 1 when url matches path ("*" one non-empty segment), else 0; arg (of
 * size bytes) gets the url from the first "*" on: "ENQ-2026-00042/
 * attachments/2" for "/enquiries/ENQ-2026-00042/attachments/2", "12/edit"
 * for "/campaigns/12/edit" (console_id() reads "12").  url's segments
 * may hold anything but "/".
 */
static int
console_match(const char *path, const char *url, char *arg, size_t size)
{
	size_t	n;

	arg[0] = '\0';
	while (*path != '\0') {
		if (*path == '*') {
			n = strcspn(url, "/");
			if (n == 0 || n >= size)
				return 0;
			if (arg[0] == '\0') {
				if (strlen(url) >= size)
					return 0;
				memcpy(arg, url, strlen(url) + 1);
			}
			url += n;
			path++;
			continue;
		}
		if (*path != *url)
			return 0;
		path++;
		url++;
	}
	return *url == '\0';
}

static int
console_role_bit(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return CONSOLE_ADMIN;
	if (strcmp(role, "editor") == 0)
		return CONSOLE_EDITOR;
	if (strcmp(role, "viewer") == 0)
		return CONSOLE_VIEWER;
	if (strcmp(role, "lead") == 0)
		return CONSOLE_LEAD;
	return 0;
}

/* --- who is asking ------------------------------------------------- */

static void
console_who_free(struct console_who *who)
{
	if (who == NULL)
		return;
	store_user_clear(&who->user);
	if (who->form != NULL) {
		form_free(who->form);
		free(who->form);
	}
	explicit_bzero(who->sid, sizeof who->sid);
	free(who);
}

/*
 * The session the cookie names, and its account: 1 with r->who, 0 for
 * none (signed out, expired, disabled), -1 with *cause.
 */
static int
console_session(struct web_req *r, char **cause)
{
	struct console_who	*who;
	const char		*id;
	int			 rc;

	if ((id = web_cookie(r, CONSOLE_COOKIE)) == NULL ||
	    strlen(id) != SESSION_ID_LEN)
		return 0;
	who = xcalloc(1, sizeof *who);
	memcpy(who->sid, id, SESSION_ID_LEN + 1);
	if ((rc = session_find(r->store, id, r->now, &who->ss, cause)) != 1 ||
	    (rc = store_user_get_id(r->store, who->ss.user_id, &who->user,
	    cause)) != 1 || who->user.disabled) {
		console_who_free(who);
		return rc == -1 ? -1 : 0;
	}
	who->role = console_role_bit(who->user.role);
	session_csrf(r->key, who->sid, who->csrf);
	snprintf(who->actor, sizeof who->actor, "user:%lld",
	    (long long)who->user.id);
	r->who = who;
	return 1;
}

/* A POST's form, with the session's CSRF token: 0, or -1 answered. */
static int
console_form(struct web_req *r, int *ret)
{
	struct form	*f;
	const char	*csrf;

	f = xcalloc(1, sizeof *f);
	if (web_read_form(r, f, ret) != 0) {
		free(f);
		return -1;
	}
	r->who->form = f;
	if ((csrf = form_get(f, "csrf")) == NULL ||
	    !session_csrf_ok(r->key, r->who->sid, csrf)) {
		log_info("console: POST %s from %s: no or wrong CSRF token; "
		    "refused", r->route, r->client);
		*ret = web_answer_error_link(r, WEB_HTTP_FORBIDDEN,
		    "This form has expired", "The form was not sent from "
		    "a page of this console in your current session, so "
		    "nothing has been changed. Open the page again and "
		    "send the form from there.", "", "Go to the dashboard");
		return -1;
	}
	return 0;
}

static int
console_dispatch(struct web_req *r, const char *url)
{
	const struct console_route	*rt = NULL;
	char				 arg[CONSOLE_ARG_MAX], a[CONSOLE_ARG_MAX];
	char				 allow[64], *cause = NULL;
	size_t				 i, n;
	int				 found = 0, rc, ret;

	arg[0] = '\0';
	/*
	 * The first path that matches is the page ("/campaigns/new" comes
	 * before "/campaigns/ID"); its rows say which methods it has.
	 */
	allow[0] = '\0';
	for (i = 0; i < CONSOLE_NROUTES; i++) {
		if ((found && strcmp(console_routes[i].path, r->route) != 0) ||
		    !console_match(console_routes[i].path, url, a, sizeof a))
			continue;
		found = 1;
		r->route = console_routes[i].path;
		if (console_routes[i].method == r->method) {
			rt = &console_routes[i];
			memcpy(arg, a, sizeof arg);
		}
		n = strlen(allow);
		snprintf(allow + n, sizeof allow - n, "%s%s", n > 0 ? ", " :
		    "", console_routes[i].method == WEB_GET ? "GET, HEAD" :
		    "POST");
	}
	if (!found)
		return web_answer_not_found(r);
	if (rt == NULL)
		return web_answer_bad_method(r, allow);

	if ((rc = console_session(r, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (!(rt->roles & CONSOLE_ANYONE)) {
		if (r->who == NULL)
			return web_answer_redirect(r, "/login");
		if (!(rt->roles & r->who->role)) {
			log_info("console: %s %s from %s: not for role %s; "
			    "refused", r->method_name, r->route, r->client,
			    r->who->user.role);
			ret = web_answer_error_link(r, WEB_HTTP_FORBIDDEN,
			    "You cannot use this page", "Your account does "
			    "not give you access to this page. If you need "
			    "it, ask an administrator.", "",
			    "Go to the dashboard");
			goto out;
		}
		if (r->method == WEB_POST && console_form(r, &ret) != 0)
			goto out;
	}
	/* What the page does through the core is audited as theirs. */
	store_set_actor(r->store, r->who != NULL ? r->who->actor : NULL);
	ret = rt->fn(r, arg);
	store_set_actor(r->store, NULL);
out:
	console_who_free(r->who);
	r->who = NULL;
	return ret;
}

/* --- for the page files (console-int.h) ------------------------------ */

const char *
console_field(struct web_req *r, const char *name)
{
	if (r->who == NULL || r->who->form == NULL)
		return NULL;
	return form_get(r->who->form, name);
}

int64_t
console_id(const char *s)
{
	long long	 n;
	char		*end;

	if (*s < '1' || *s > '9' || strcspn(s, "/") > 18)
		return 0;
	errno = 0;
	n = strtoll(s, &end, 10);
	return errno != 0 || (*end != '\0' && *end != '/') ? 0 : (int64_t)n;
}

void
console_time(struct web_req *r, int64_t t, char *out, size_t size)
{
	(void)r;
	if (t <= 0) {
		snprintf(out, size, "%s", "");
		return;
	}
	period_datetime((time_t)t, out, size);
}

int64_t
console_today(struct web_req *r)
{
	struct tm	tm;
	time_t		now = r->now;

	localtime_r(&now, &tm);
	return (int64_t)period_local(tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, 0);
}

/*
 * For each non-empty list K in data, "has_K": true, so that a template
 * can wrap a list's items in <ul> or <table> only when there are some.
 */
static void
console_flag_lists(struct value *data)
{
	struct value	*v;
	char		*k;
	size_t		 i, n;

	n = value_object_len(data);
	for (i = 0; i < n; i++) {
		v = value_object_value(data, i);
		if (value_list_len(v) == 0)
			continue;
		k = xprintf("has_%s", value_object_key(data, i));
		value_object_set(data, k, value_new_bool(1));
		free(k);
	}
}

int
console_answer_page(struct web_req *r, unsigned int status,
    enum console_page page, const char *title, struct value *data)
{
	struct value	*o;

	console_flag_lists(data);
	if (r->who != NULL) {
		o = value_new_object();
		web_set(o, "name", r->who->user.name);
		web_set(o, "email", r->who->user.email);
		web_set(o, "role", r->who->user.role);
		web_set(o, "csrf", r->who->csrf);
		value_object_set(o, "staff", value_new_bool(r->who->role &
		    CONSOLE_STAFF));
		value_object_set(o, "admin", value_new_bool(r->who->role ==
		    CONSOLE_ADMIN));
		value_object_set(data, "who", o);
	}
	return web_answer_page(r, status, (int)page, title, data);
}
