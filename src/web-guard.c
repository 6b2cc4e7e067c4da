/*
 * web-guard.c - deadlines and per-client limits for the web pages
 * (web-guard.h).
 *
 * Owns: the list of open connections, with when their current request
 * started and whose it is; the guard's thread, which wakes every
 * WEB_GUARD_TICK ms to shut connections past their deadline and run the
 * callbacks that are due.  A list, scanned: a few hundred connections at
 * most (WEB_MAX_CONNECTIONS), which costs microseconds a tick.  Does not
 * own: libmicrohttpd (web.c) or what the callbacks do.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "monotime.h"
#include "web-guard.h"
#include "xmalloc.h"

#define WEB_GUARD_TICK	50	/* ms */

struct web_guard_conn {
	struct web_guard_conn	*prev, *next;
	int			 fd;
	char			 addr[INET6_ADDRSTRLEN];
	int			 loopback;
	int64_t			 since;		/* the request's clock */
	int			 answering;	/* the request is in */
	int			 shut;		/* shut down by the guard */
	char			 client[INET6_ADDRSTRLEN + 8];	/* "": none */
	void			(*fn)(void *);	/* later */
	void			*arg;
	int64_t			 at;
};

struct web_guard {
	pthread_mutex_t		 lock;	/* guards all below */
	pthread_cond_t		 cond;
	pthread_t		 thread;
	int			 stopping;
	int64_t			 timeout;	/* ms */
	int			 per_client;
	struct web_guard_conn	*conns;
};

/* Shut c's socket down (once); libmicrohttpd then closes it.  Locked. */
static void
web_guard_shut(struct web_guard_conn *c)
{
	if (c->shut)
		return;
	c->shut = 1;
	(void)shutdown(c->fd, SHUT_RDWR);
}

static void *
web_guard_main(void *arg)
{
	struct web_guard	*g = arg;
	struct web_guard_conn	*c;
	struct timespec		 ts;
	struct {
		void	(*fn)(void *);
		void	*arg;
	}			*due = NULL;
	size_t			 ndue, cap = 0, i;
	int64_t			 now;
	int			 cut, stopping;

	pthread_mutex_lock(&g->lock);
	for (;;) {
		now = monotime_ms();
		stopping = g->stopping;
		cut = 0;
		ndue = 0;
		for (c = g->conns; c != NULL; c = c->next) {
			if (c->fn != NULL && (stopping || now >= c->at)) {
				if (ndue == cap) {
					cap = cap == 0 ? 16 : cap * 2;
					due = xreallocarray(due, cap,
					    sizeof *due);
				}
				due[ndue].fn = c->fn;
				due[ndue].arg = c->arg;
				ndue++;
				c->fn = NULL;
			}
			if (!stopping && !c->answering && !c->shut &&
			    now - c->since >= g->timeout) {
				web_guard_shut(c);
				cut++;
			}
		}
		if (cut > 0)
			log_info("web: %d connection%s closed: %s request "
			    "took over %lld s to arrive", cut, cut == 1 ? "" :
			    "s", cut == 1 ? "its" : "their",
			    (long long)(g->timeout / 1000));
		if (ndue > 0) {
			/* Outside the lock: the callbacks take others. */
			pthread_mutex_unlock(&g->lock);
			for (i = 0; i < ndue; i++)
				due[i].fn(due[i].arg);
			pthread_mutex_lock(&g->lock);
		}
		if (stopping)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WEB_GUARD_TICK * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->cond, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	free(due);
	return NULL;
}

struct web_guard *
web_guard_start(int timeout_s, int per_client)
{
	struct web_guard	*g;

	g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->timeout = (int64_t)timeout_s * 1000;
	g->per_client = per_client;
	if (pthread_create(&g->thread, NULL, web_guard_main, g) != 0)
		fatalx("web: cannot start the guard's thread");
	return g;
}

void
web_guard_stop(struct web_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (g->stopping) {
		pthread_mutex_unlock(&g->lock);
		return;
	}
	g->stopping = 1;
	pthread_cond_signal(&g->cond);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
}

void
web_guard_free(struct web_guard *g)
{
	struct web_guard_conn	*c, *next;

	if (g == NULL)
		return;
	web_guard_stop(g);
	for (c = g->conns; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cond);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void
web_guard_set_timeout(struct web_guard *g, int timeout_s)
{
	pthread_mutex_lock(&g->lock);
	g->timeout = (int64_t)timeout_s * 1000;
	pthread_mutex_unlock(&g->lock);
}

struct web_guard_conn *
web_guard_open(struct web_guard *g, int fd, const struct sockaddr *sa,
    int loopback)
{
	struct web_guard_conn	*c, *o;
	int			 n = 0;

	c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->loopback = loopback;
	c->since = monotime_ms();
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    c->addr, sizeof c->addr);
	else if (sa != NULL && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, c->addr,
		    sizeof c->addr);
	pthread_mutex_lock(&g->lock);
	if (!loopback) {
		for (o = g->conns; o != NULL; o = o->next) {
			if (!o->shut && strcmp(o->addr, c->addr) == 0)
				n++;
		}
	}
	c->next = g->conns;
	if (g->conns != NULL)
		g->conns->prev = c;
	g->conns = c;
	if (!loopback && n >= g->per_client) {
		web_guard_shut(c);
		pthread_mutex_unlock(&g->lock);
		log_info("web: a connection from %s refused: it has %d open "
		    "already", c->addr, n);
		return c;
	}
	pthread_mutex_unlock(&g->lock);
	return c;
}

void
web_guard_close(struct web_guard *g, struct web_guard_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->lock);
	free(c);
}

int
web_guard_request(struct web_guard *g, struct web_guard_conn *c,
    const char *client)
{
	struct web_guard_conn	*o;
	int			 n = 0;

	if (c == NULL)
		return 0;
	pthread_mutex_lock(&g->lock);
	for (o = g->conns; o != NULL; o = o->next) {
		if (o != c && strcmp(o->client, client) == 0)
			n++;
	}
	if (n >= g->per_client) {
		pthread_mutex_unlock(&g->lock);
		return -1;
	}
	snprintf(c->client, sizeof c->client, "%s", client);
	pthread_mutex_unlock(&g->lock);
	return 0;
}

void
web_guard_answering(struct web_guard *g, struct web_guard_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	c->answering = 1;
	pthread_mutex_unlock(&g->lock);
}

void
web_guard_done(struct web_guard *g, struct web_guard_conn *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	c->answering = 0;
	c->client[0] = '\0';
	c->since = monotime_ms();
	pthread_mutex_unlock(&g->lock);
}

void
web_guard_later(struct web_guard *g, struct web_guard_conn *c, int64_t at,
    void (*fn)(void *), void *arg)
{
	int	now;

	pthread_mutex_lock(&g->lock);
	if (!(now = g->stopping)) {
		c->fn = fn;
		c->arg = arg;
		c->at = at;
	}
	pthread_mutex_unlock(&g->lock);
	/* Stopping: nobody would call it, and the server must not wait. */
	if (now)
		fn(arg);
}
