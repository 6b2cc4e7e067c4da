/*
 * web-pool.h - the web pages' database handles.
 *
 * libmicrohttpd answers on several threads (web.c's thread pool), and a
 * struct store is one SQLite connection that only one thread may use at a
 * time (store.h).  So a request borrows a handle for the callback that
 * does its work and gives it back at once; a handle is opened the first
 * time none is free, so there are never more than there are threads
 * working at once, and every one is closed by web_pool_free().  Each is a
 * store_open() connection: WAL, foreign keys, STORE_BUSY_TIMEOUT, so one
 * slow write waits for its lock without stalling the other threads.
 *
 * Owns: the handles.  Does not own: what is done with them (web.c).
 */
#ifndef POSTROOM_WEB_POOL_H
#define POSTROOM_WEB_POOL_H

struct store;
struct web_pool;

/*
 * Open the first handle on path now (so that a database that cannot be
 * opened stops postroomd at start-up): NULL with *cause when it fails.
 */
struct web_pool	*web_pool_new(const char *path, char **cause);
/* Close every handle (none may be out).  NULL is fine. */
void		 web_pool_free(struct web_pool *);

/* A free handle, opened when there is none: NULL with *cause. */
struct store	*web_pool_get(struct web_pool *, char **cause);
/* Give s back (rolled back if it holds a transaction).  NULL is fine. */
void		 web_pool_put(struct web_pool *, struct store *s);

#endif
