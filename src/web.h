/*
 * web.h - postroomd's public web pages, served with libmicrohttpd on
 * web.listen behind the organisation's reverse proxy (general.base_url).
 *
 *	GET  /			the lists, each with a link to subscribe
 *	GET  /subscribe/LIST	a form: email, name, consent
 *	POST /subscribe/LIST	queue a confirmation email; always the
 *				same "check your inbox" answer
 *	GET  /confirm/TOKEN	a page with a Confirm button
 *	POST /confirm/TOKEN	confirm (a GET never changes anything,
 *				so link scanners cannot confirm)
 *	GET  /unsubscribe/TOKEN	a page with an Unsubscribe button
 *	POST /unsubscribe/TOKEN	unsubscribe; with the body
 *				List-Unsubscribe=One-Click (RFC 8058),
 *				urlencoded or multipart, the answer is a
 *				bare 200 with nothing to click
 *	GET  /preferences/TOKEN	immediate or digest per list, or leave
 *	POST /preferences/TOKEN	save those choices
 *	GET  /archive/ID	a newsletter that went out
 *	GET  /test-copy/TOKEN	the links of a test copy (web-test.c):
 *	GET|POST /test-unsubscribe/TOKEN, /test-preferences/TOKEN
 *				the campaign as it stands; a page that
 *				says it was a test copy (one-click: a
 *				bare 200), changing nothing
 *	GET  /style.css		the pages' one style sheet
 * HEAD is answered like GET; any other method gets 405 with Allow.
 *
 * Tokens are token.h's signed tokens: one that is not a token at all
 * gets 400, a forged, altered or expired one, or one made for another
 * page, 403; each with a page saying what to do, and nothing changes.
 *
 * Safety:
 *   - request bodies are capped at WEB_MAX_BODY (413), headers by the
 *     per-connection memory limit; form bodies are parsed strictly
 *     (form.h): a malformed one gets 400 and changes nothing;
 *   - subscribe requests are capped per client address (IPv6: per /64)
 *     at web.subscribe_per_hour (429 with Retry-After) and per email
 *     address at WEB_SUBSCRIBE_PER_ADDRESS an hour (over that the answer
 *     is the usual one but no email is queued, so the cap reveals
 *     nothing).  Counts live in the rate_limits table (keys "web.ip:..."
 *     and "web.addr:" + a keyed hash, never the address itself), in
 *     fixed one-hour windows that start with a client's first request;
 *   - a hidden honeypot field ("website") that people never fill: a
 *     request that fills it gets the usual answer and nothing else;
 *   - no email address is ever put in a URL or logged at info level or
 *     above (subscriber ids and list slugs are), nor any token;
 *   - behind a reverse proxy every request comes from the proxy, so the
 *     client address is taken from the LAST X-Forwarded-For entry (the
 *     one the proxy itself added) when, and only when, the connection
 *     comes from loopback (127.0.0.0/8, ::1): run the proxy on the same
 *     host.  From anywhere else the header is ignored, so that clients
 *     cannot choose their own address;
 *   - every answer carries Content-Security-Policy (default-src 'none';
 *     style-sheet from 'self' only; form-action 'self'; frame-ancestors
 *     'none'), X-Content-Type-Options: nosniff, Referrer-Policy:
 *     same-origin (so that our forms' POSTs carry our Origin) and
 *     Cache-Control: no-store;
 *   - a POST whose Origin, or without one Referer, is another site's is
 *     refused (403), but for RFC 8058 one-click;
 *   - at most web.confirmations_per_hour confirmation emails an hour
 *     from all clients together (WEB_KEY_CONFIRMATIONS).  No cookies, no
 *     JavaScript: the token in the URL is the capability, and a form
 *     posts back to its own URL.
 *
 * Threads: libmicrohttpd runs a pool of WEB_THREADS polling threads
 * (epoll where there is one), within WEB_MAX_CONNECTIONS connections and a
 * WEB_TIMEOUT idle timeout; each request borrows its own database handle
 * (web-pool.h), so one slow database call stalls one request, not the
 * pages, and the pages keep answering while the delivery thread sends a
 * campaign (a write waits at most STORE_BUSY_TIMEOUT).  web-guard.h
 * keeps slow clients from holding connections: a whole request must
 * arrive within web.request_timeout however slowly it trickles; at most
 * WEB_MAX_PER_IP connections from one address other than loopback, and
 * WEB_MAX_PER_IP requests in progress from one client (behind the proxy:
 * the X-Forwarded-For client, not the proxy), over which the answer is
 * 503;
 *   - a subscribe POST is answered WEB_SUBSCRIBE_ANSWER_MS after it came
 *     in, never sooner, whatever was done (new, known, suppressed,
 *     capped), so that its timing does not say whether an address is
 *     known; the connection waits suspended, not a thread.
 *
 * Owns: the routes, what each page does to subscribers and memberships
 * (through store.h), rate limits on subscribing, the HTTP headers.  Does
 * not own: the token format (token.c), the confirmation email
 * (confirm.c), the page wording (templates/web/), form encodings
 * (form.c), sending (the delivery engine).  web.c is the only file that
 * includes <microhttpd.h>, and holds the routes; the page files
 * (web-subscribe.c: subscribe, confirm, unsubscribe, preferences;
 * web-test.c) answer through web-int.h.
 */
#ifndef POSTROOM_WEB_H
#define POSTROOM_WEB_H

#include <stdint.h>

struct conf;
struct store;
struct web;

#define WEB_MAX_BODY			(16 * 1024)	/* bytes */
#define WEB_THREADS			4	/* libmicrohttpd's pool */
#define WEB_MAX_CONNECTIONS		512	/* under the usual 1024 fds */
#define WEB_MAX_PER_IP			32	/* per client (web-guard.h) */
#define WEB_TIMEOUT			15	/* seconds idle */
#define WEB_CONNECTION_MEMORY		(32 * 1024)	/* headers */
#define WEB_SUBSCRIBE_PER_ADDRESS	5	/* an hour, per address */
#define WEB_RATE_WINDOW			3600	/* seconds */
#define WEB_NAME_MAX			400	/* bytes of a name */
/* A subscribe POST is answered this long after it came in, never sooner. */
#define WEB_SUBSCRIBE_ANSWER_MS		300
/* The rate_limits row of web.confirmations_per_hour. */
#define WEB_KEY_CONFIRMATIONS		"web.cap:confirmations"

/*
 * Start serving one side (web-int.h) on its listener: web_public (the
 * public pages, on conf->web.listen) or web_console (the staff console,
 * on conf->console.listen).  Load the key (created when missing, as
 * postroomd does), parse the side's templates in general.templates/,
 * open the web's own store connection, bind and listen, then start
 * libmicrohttpd's thread.  conf must outlive the server (postroomd keeps
 * retired configurations until exit).  Call with the daemon's signals
 * already blocked, so that the new thread inherits the mask.  NULL with
 * *cause (caller frees) when anything fails: "web.listen
 * 127.0.0.1:8025: Address already in use".
 */
struct web_side;
struct web	*web_start(const struct conf *conf,
		    const struct web_side *side, char **cause);
/*
 * SIGHUP: serve with conf (lists, wording, templates) from the next
 * request on; if its templates do not parse, the error is logged and the
 * pages keep the old ones.  conf must outlive the server.  Called from
 * any thread; NULL w is fine.
 */
void		 web_reload(struct web *, const struct conf *conf);
/*
 * Stop accepting, let requests in progress finish, stop the thread and
 * free everything.  NULL is fine.
 */
void		 web_stop(struct web *);

/* --- rate-limit counters (store-web.c) ------------------------------- */

/*
 * Count one request against key (a "web." key of the rate_limits table)
 * in a fixed window of window seconds that starts with the first request
 * and is started afresh by the first request after it ends.  *count is
 * the number of requests in the current window, this one included.
 * 0, or -1 with *cause.
 */
int		 store_web_hit(struct store *, const char *key, int64_t now,
		    int64_t window, int64_t *count, char **cause);
/* Delete "web." counters whose window began before before.  0 or -1. */
int		 store_web_prune(struct store *, int64_t before,
		    char **cause);

#endif
