/*
 * web-guard.h - what keeps the public pages up when clients misbehave.
 *
 * libmicrohttpd's own limits do not: its timeout (MHD_OPTION_CONNECTION_
 * TIMEOUT) is an idle timeout, so a client that sends one byte of its
 * headers every few seconds keeps its connection for ever, and its
 * per-address limit counts the reverse proxy, through which every client
 * comes.  So web.c tells the guard about every connection (libmicrohttpd's
 * MHD_OPTION_NOTIFY_CONNECTION) and every request, and the guard's one
 * thread enforces:
 *
 *   - a deadline: a request's headers and body must all be in within
 *     web.request_timeout seconds of the connection opening (or of the
 *     connection's previous answer, for the next request on a kept-alive
 *     one).  A connection past it is shut down (shutdown(2) on its
 *     socket, under the guard's lock, which libmicrohttpd's close
 *     notification also takes: the socket is never one already reused);
 *     libmicrohttpd then sees the end of the stream and closes it.  Time
 *     spent answering does not count: the clock stops once the request is
 *     in and starts again when the answer has gone;
 *   - connections per address, WEB_MAX_PER_IP, for connections from
 *     anywhere but loopback (the proxy, which web.c trusts for
 *     X-Forwarded-For, may hold many): one over it is shut at once;
 *   - requests in progress per client, the X-Forwarded-For client behind
 *     the proxy (web.c's client_key), WEB_MAX_PER_IP: one over it is
 *     answered "busy" at once;
 *   - later: a callback at a given time (web.c's answers that must not
 *     come sooner, on a suspended connection).
 *
 * Owns: those counts, the deadline and the guard's thread.  Does not own:
 * HTTP or libmicrohttpd (web.c), the limits' values (web.h, conf.h).
 */
#ifndef POSTROOM_WEB_GUARD_H
#define POSTROOM_WEB_GUARD_H

#include <stdint.h>

struct sockaddr;
struct web_guard;
struct web_guard_conn;

/* Start the thread; timeout_s is web.request_timeout. */
struct web_guard	*web_guard_start(int timeout_s, int per_client);
/*
 * Run every callback still waiting (at once; any asked for from now on
 * is run at once too) and stop the thread.  The guard still counts
 * connections until web_guard_free().  NULL is fine.
 */
void			 web_guard_stop(struct web_guard *);
/* Free it (after the server has stopped).  NULL is fine. */
void			 web_guard_free(struct web_guard *);
/* A new deadline for requests from now on (SIGHUP). */
void			 web_guard_set_timeout(struct web_guard *, int timeout_s);

/*
 * A connection opened: fd its socket, sa the peer.  Always a handle (for
 * web_guard_close()); over the per-address limit the socket is already
 * shut down.
 */
struct web_guard_conn	*web_guard_open(struct web_guard *, int fd,
			    const struct sockaddr *sa, int loopback);
/* The connection is closing: forget it.  NULL is fine. */
void			 web_guard_close(struct web_guard *,
			    struct web_guard_conn *);

/*
 * A request's headers are in, from client (a rate-limit key): 0, or -1
 * when that client already has per_client requests in progress (the
 * request is not counted).
 */
int			 web_guard_request(struct web_guard *,
			    struct web_guard_conn *, const char *client);
/* The whole request is in: no deadline while it is answered. */
void			 web_guard_answering(struct web_guard *,
			    struct web_guard_conn *);
/* The answer has gone: the next request's clock starts now. */
void			 web_guard_done(struct web_guard *,
			    struct web_guard_conn *);
/*
 * Call fn(arg) from the guard's thread once monotime_ms() reaches at (or
 * at web_guard_stop()).  One at a time per connection.
 */
void			 web_guard_later(struct web_guard *,
			    struct web_guard_conn *, int64_t at,
			    void (*fn)(void *), void *arg);

#endif
