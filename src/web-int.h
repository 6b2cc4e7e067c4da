/*
 * web-int.h - what web.c shares with the page files (web-*.c): one
 * request, and the ways to answer it.
 *
 * web.c owns the HTTP side (it alone includes <microhttpd.h>), the route
 * table, the cross-site check, the security headers, the layout and the
 * error pages; a page file owns what its pages do: web-subscribe.c
 * joining, confirming, leaving and preferences, web-test.c the links of
 * a test copy.  A page handler is given the request and the rest of its
 * URL (a list, a token), answers through the web_answer_*() functions
 * below, which queue the response, and returns what they returned (1
 * queued; 0 the connection is to be dropped) for web.c to hand to
 * libmicrohttpd.  struct web and struct web_site stay web.c's: what a
 * page needs of them has a field or a function here.
 *
 * Nothing here outlives the request; the store is borrowed from the
 * web's pool (web-pool.h) for the call that answers, and the key is the
 * web's (web.h).
 */
#ifndef POSTROOM_WEB_INT_H
#define POSTROOM_WEB_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "token.h"

struct conf;
struct conf_list;
struct console_who;
struct confirm;
struct form;
struct store;
struct store_campaign;
struct value;
struct web;
struct web_site;
struct web_req;
struct web_guard_conn;
struct MHD_Connection;
struct MHD_Response;

/* The statuses the page files answer with. */
#define WEB_HTTP_OK			200
#define WEB_HTTP_SEE_OTHER		303
#define WEB_HTTP_BAD_REQUEST		400
#define WEB_HTTP_FORBIDDEN		403
#define WEB_HTTP_NOT_FOUND		404
#define WEB_HTTP_CONFLICT		409
#define WEB_HTTP_TOO_MANY_REQUESTS	429
#define WEB_HTTP_INTERNAL_ERROR		500

/* The pages, each a file in general.templates/web/. */
enum web_page {
	WEB_PAGE_INDEX,
	WEB_PAGE_SUBSCRIBE,
	WEB_PAGE_CHECK_INBOX,
	WEB_PAGE_CONFIRM,
	WEB_PAGE_CONFIRMED,
	WEB_PAGE_UNSUBSCRIBE,
	WEB_PAGE_UNSUBSCRIBED,
	WEB_PAGE_PREFERENCES,
	WEB_PAGE_ARCHIVE,
	WEB_PAGE_ERROR,
	WEB_PAGE_TEST_COPY,	/* web-test.c: a draft, by a test link */
	WEB_PAGE_TEST_LINK,	/* web-test.c: "this was a test copy" */
	WEB_NPAGES
};

/*
 * One side of the server, on a listener of its own: the public pages
 * (web-public.c) or the staff console (console.c).  web.c serves each
 * the same way, from its own templates, assets and route function.
 */
struct web_asset {
	const char	*url;		/* "/style.css" */
	const char	*file;		/* under general.templates */
	const char	*type;		/* Content-Type */
};

struct web_side {
	const char		*name;		/* in logs: "web", "console" */
	const char		*dir;		/* its pages', in templates */
	const char *const	*pages;		/* file names by page number */
	int			 npages;
	int			 error_page;	/* title, message, link */
	const struct web_asset	*assets;	/* NULL-ended */
	size_t			 max_body;	/* bytes of a request body */
	const char		*csp;		/* Content-Security-Policy */
	const char		*referrer;	/* Referrer-Policy */
	const char		*home;		/* "Page not found"'s link */
	/* Its address and its public URL in the configuration. */
	const char		*(*listen)(const struct conf *);
	const char		*(*base_url)(const struct conf *);
	/* Answer the request for url (its headers and body are in). */
	int			 (*dispatch)(struct web_req *, const char *url);
};

extern const struct web_side	web_public;	/* web-public.c */
extern const struct web_side	web_console;	/* console.c */

enum web_method {
	WEB_GET,	/* and HEAD: libmicrohttpd leaves out the body */
	WEB_POST,
	WEB_OTHER,
};

#define WEB_REQ_HEADERS	4

/* One request, from its first call to its completion. */
struct web_req {
	struct web		*w;
	const struct web_side	*side;
	struct web_site		*site;
	const struct conf	*conf;
	struct confirm		*confirm;	/* the site's (confirm.h) */
	struct store		*store;	/* borrowed for the answering call */
	const unsigned char	*key;	/* the token key */
	struct MHD_Connection	*c;
	enum web_method		 method;
	const char		*method_name;
	struct buf		 body;
	int			 too_big;
	size_t			 discarded;
	/* Who asks: for logs, and (IPv6 by /64) for rate limits. */
	char			 client[INET6_ADDRSTRLEN];
	char			 client_key[INET6_ADDRSTRLEN + 8];
	const char		*root;	/* relative path to "/" */
	const char		*route;		/* for the debug log */
	unsigned int		 status;
	time_t			 now;
	int64_t			 start;		/* monotime_ms(); 0: not begun */
	struct web_guard_conn	*guard;		/* the connection's */
	/*
	 * defer: hold the answer in held, to be sent no sooner than
	 * answer_at (monotime_ms()), the connection suspended meanwhile.
	 * web.c's: a page asks with web_answer_after().
	 */
	int			 defer;
	int64_t			 answer_at;
	struct MHD_Response	*held;
	/* More headers for the answer (web_add_header()): the page's own. */
	char			*hnames[WEB_REQ_HEADERS];
	char			*hvalues[WEB_REQ_HEADERS];
	int			 nheaders;
	/* The console's: who is signed in (console.c), NULL for nobody. */
	struct console_who	*who;
};

/* page (of the side's) inside the layout, with data (consumed), title. */
int	 web_answer_page(struct web_req *, unsigned int status, int page,
	    const char *title, struct value *data);
/* 303 See Other to url (relative to the root, or absolute: "/login"). */
int	 web_answer_redirect(struct web_req *, const char *url);
/* body of len bytes as type (what a page made: an image, a preview). */
int	 web_answer_body(struct web_req *, unsigned int status,
	    const char *type, const void *body, size_t len);
/*
 * A download: body of len bytes as type, saved as filename (ASCII,
 * chosen by the page, never from the request).
 */
int	 web_answer_file(struct web_req *, const char *type, const void *body,
	    size_t len, const char *filename);
/*
 * A file from outside (an enquiry's attachment), to be saved, never
 * shown: application/octet-stream (with nosniff, as every answer), and
 * Content-Disposition: attachment with name (UTF-8, any bytes: NULL or
 * "" is "attachment") as a plain ASCII fallback and as filename*
 * (RFC 6266, RFC 8187), at most WEB_DOWNLOAD_NAME bytes of it.
 */
#define WEB_DOWNLOAD_NAME	200
int	 web_answer_download(struct web_req *, const void *body, size_t len,
	    const char *name);
/*
 * One more header on whatever is answered (at most WEB_REQ_HEADERS).
 * Content-Security-Policy, X-Frame-Options and Cache-Control replace the
 * side's own (a preview framed by the console, an image kept by caches).
 */
void	 web_add_header(struct web_req *, const char *name,
	    const char *value);
/* A request header, a cookie, a query argument: NULL when absent. */
const char *web_header(struct web_req *, const char *name);
const char *web_cookie(struct web_req *, const char *name);
const char *web_query(struct web_req *, const char *name);
/*
 * The header of a POST sent from another site's page (web_cross_site()
 * in web.c: Origin, else Referer, not the side's base URL), or NULL.
 */
const char *web_cross_site(struct web_req *);
/* 1 when the body is RFC 8058's "List-Unsubscribe=One-Click". */
int	 web_one_click(struct web_req *);
/* The error page: a title and one paragraph. */
int	 web_answer_error(struct web_req *, unsigned int status,
	    const char *title, const char *message);
/* The same with a link onward: url relative to the root, link its words. */
int	 web_answer_error_link(struct web_req *, unsigned int status,
	    const char *title, const char *message, const char *url,
	    const char *link);
/* The same with Retry-After: seconds (a 429's). */
int	 web_answer_error_retry(struct web_req *, unsigned int status,
	    const char *title, const char *message, const char *seconds);
/* text/plain (RFC 8058's answer to a one-click POST). */
int	 web_answer_text(struct web_req *, unsigned int status,
	    const char *text);
/* The database failed: 503, cause logged once and freed. */
int	 web_answer_busy(struct web_req *, char *cause);
int	 web_answer_not_found(struct web_req *);
/* 405 with Allow: allow. */
int	 web_answer_bad_method(struct web_req *, const char *allow);
/*
 * Campaign c as the archive shows it (merge fields read as for a
 * subscriber named "reader", the digest item's body, nobody's links) in
 * page, with data (consumed) holding any more fields for it.
 */
int	 web_answer_campaign(struct web_req *, const struct store_campaign *c,
	    int page, const char *title, struct value *data);

/*
 * The token in the URL: 0 with *t when it is valid and of purpose, else
 * -1 with the error page (400, 403) queued and *ret to return.
 */
int	 web_check_token(struct web_req *, const char *s,
	    enum token_purpose purpose, struct token *t, int *ret);
/* The POST body as a form: 0, or -1 with the error page queued, *ret. */
int	 web_read_form(struct web_req *, struct form *f, int *ret);

/*
 * Send this request's answer no sooner than ms milliseconds after it
 * came in, whatever is answered (the connection waits suspended, not a
 * thread).  Call before answering.
 */
void	 web_answer_after(struct web_req *, int64_t ms);

/* A string into object o (NULL: ""). */
void	 web_set(struct value *o, const char *key, const char *s);
/* A list for the templates: slug, name, description (l NULL: slug's). */
struct value *web_list_value(const struct conf_list *l, const char *slug);

/*
 * Delete the "web." rate-limit counters whose window is over; at most
 * once every few minutes, whichever request calls.  Failure is logged.
 */
void	 web_prune_limits(struct web_req *);

/*
 * The pages of web-subscribe.c: join a list (LIST, its slug), confirm,
 * leave, change how mail comes (a token of that purpose).
 */
int	 web_subscribe(struct web_req *, const char *list);
int	 web_confirm(struct web_req *, const char *token);
int	 web_unsubscribe(struct web_req *, const char *token);
int	 web_preferences(struct web_req *, const char *token);

/* The pages of web-test.c: the links of a test copy (newsletter.h). */
int	 web_test_copy(struct web_req *, const char *token);
int	 web_test_unsubscribe(struct web_req *, const char *token);
int	 web_test_preferences(struct web_req *, const char *token);

#endif
