/*
 * web-pool.c - database handles for the web pages' threads (web-pool.h).
 *
 * Owns: a stack of idle store connections under a mutex, and opening more
 * when all are out.  Does not own: the database (store.c) or the threads
 * (libmicrohttpd, web.c).
 */
#include <pthread.h>
#include <stdlib.h>

#include "store.h"
#include "web-pool.h"
#include "xmalloc.h"

struct web_pool {
	pthread_mutex_t	  lock;		/* guards idle, nidle, nopen */
	char		 *path;
	struct store	**idle;
	size_t		  nidle;
	size_t		  nopen;	/* idle and out */
};

struct web_pool *
web_pool_new(const char *path, char **cause)
{
	struct web_pool	*p;
	struct store	*s;

	if ((s = store_open(path, cause)) == NULL)
		return NULL;
	p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	p->path = xstrdup(path);
	p->idle = xreallocarray(NULL, 1, sizeof *p->idle);
	p->idle[p->nidle++] = s;
	p->nopen = 1;
	return p;
}

void
web_pool_free(struct web_pool *p)
{
	size_t	i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nidle; i++)
		store_close(p->idle[i]);
	free(p->idle);
	free(p->path);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct store *
web_pool_get(struct web_pool *p, char **cause)
{
	struct store	*s = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->nidle > 0)
		s = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->lock);
	if (s != NULL)
		return s;
	/* Opened outside the lock: it can wait for the schema lock. */
	if ((s = store_open(p->path, cause)) == NULL)
		return NULL;
	pthread_mutex_lock(&p->lock);
	p->nopen++;
	p->idle = xreallocarray(p->idle, p->nopen, sizeof *p->idle);
	pthread_mutex_unlock(&p->lock);
	return s;
}

void
web_pool_put(struct web_pool *p, struct store *s)
{
	if (s == NULL)
		return;
	store_rollback(s);
	pthread_mutex_lock(&p->lock);
	/* idle has room for every handle ever opened. */
	p->idle[p->nidle++] = s;
	pthread_mutex_unlock(&p->lock);
}
