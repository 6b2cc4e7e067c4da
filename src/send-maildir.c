/*
 * send-maildir.c - the maildir:PATH transport: every message is written to
 * a Maildir instead of an SMTP server (development, tests, "make run").
 *
 * Owns: writing one file per message the Maildir way - into PATH/tmp
 * under a unique name, fsync, then rename into PATH/new, so a reader never
 * sees half a message - with the envelope recorded in front of it as a
 * delivering MTA would (Return-Path, Delivered-To).  The message bytes are
 * written as they are: CRLF line ends stay CRLF.  Creates PATH, tmp, new
 * and cur when missing.  Does not own: the outbox (deliver.c).
 *
 * Writing is synchronous: submit() writes the file and queues the result,
 * which the next run() hands back, so that the engine sees one way of
 * completing for every transport.
 */
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "maildir.h"
#include "transport.h"
#include "xmalloc.h"

#define SEND_MAILDIR_PREFIX	"maildir:"

struct send_maildir_result {
	void			*cookie;
	enum transport_status	 status;
	int			 code;
	char			*reply;
};

struct transport {
	char				*path;
	char				 host[HOST_NAME_MAX + 1];
	unsigned long			 seq;
	int				 slots;
	int				 efd;	/* wakeup */
	struct send_maildir_result	*done;
	size_t				 ndone;
	size_t				 cdone;
};

static struct transport *
send_maildir_open(const struct conf *conf, char **cause)
{
	struct transport	*t;
	const char		*path = conf->smtp.url;
	char			*p;

	if (strncmp(path, SEND_MAILDIR_PREFIX,
	    strlen(SEND_MAILDIR_PREFIX)) != 0) {
		xasprintf(cause, "%s: not a maildir: URL", path);
		return NULL;
	}
	path += strlen(SEND_MAILDIR_PREFIX);
	if (*path == '\0') {
		xasprintf(cause, "%s: no path after maildir:", conf->smtp.url);
		return NULL;
	}
	if (maildir_create(path, cause) == -1)
		return NULL;

	t = xcalloc(1, sizeof *t);
	t->path = xstrdup(path);
	t->slots = conf->smtp.concurrency > 0 ? conf->smtp.concurrency : 1;
	if (gethostname(t->host, sizeof t->host) == -1 || t->host[0] == '\0')
		snprintf(t->host, sizeof t->host, "localhost");
	t->host[sizeof t->host - 1] = '\0';
	/* '/' and ':' cannot be in a Maildir name (':' starts the info). */
	for (p = t->host; *p != '\0'; p++) {
		if (*p == '/' || *p == ':')
			*p = '_';
	}
	if ((t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		xasprintf(cause, "eventfd: %s", strerror(errno));
		free(t->path);
		free(t);
		return NULL;
	}
	return t;
}

static int
send_maildir_slots(struct transport *t)
{
	return t->slots;
}

static void
send_maildir_queue(struct transport *t, void *cookie,
    enum transport_status status, int code, char *reply)
{
	struct send_maildir_result	*r;

	if (t->ndone == t->cdone) {
		t->cdone = t->cdone == 0 ? 8 : t->cdone * 2;
		t->done = xreallocarray(t->done, t->cdone, sizeof *t->done);
	}
	r = &t->done[t->ndone++];
	r->cookie = cookie;
	r->status = status;
	r->code = code;
	r->reply = reply;
}

/* Append value with any CR or LF dropped: it goes into a header. */
static void
send_maildir_clean(struct buf *b, const char *value)
{
	for (; *value != '\0'; value++) {
		if (*value != '\r' && *value != '\n')
			buf_addc(b, *value);
	}
}

static int
send_maildir_write(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_maildir_submit(struct transport *t, const struct transport_msg *m,
    char **cause)
{
	struct timeval	 tv;
	struct buf	 head;
	char		*name, *tmp, *new, *error = NULL;
	int		 fd, saved;

	gettimeofday(&tv, NULL);
	name = xprintf("%lld.M%ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++t->seq, t->host);
	tmp = xprintf("%s/tmp/%s", t->path, name);
	new = xprintf("%s/new/%s", t->path, name);

	buf_init(&head, BUF_NOMAX);
	buf_addstr(&head, "Return-Path: <");
	send_maildir_clean(&head, m->mail_from);
	buf_addstr(&head, ">\r\nDelivered-To: ");
	send_maildir_clean(&head, m->rcpt_to);
	buf_addstr(&head, "\r\n");

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1)
		error = xprintf("%s: %s", tmp, strerror(errno));
	else if (send_maildir_write(fd, head.data, head.len) == -1 ||
	    send_maildir_write(fd, m->data, m->len) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		error = xprintf("%s: %s", tmp, strerror(saved));
	}
	if (fd != -1 && close(fd) == -1 && error == NULL)
		error = xprintf("%s: %s", tmp, strerror(errno));
	if (error == NULL && rename(tmp, new) == -1)
		error = xprintf("%s: %s", new, strerror(errno));
	if (error != NULL) {
		unlink(tmp);
		send_maildir_queue(t, m->cookie, TRANSPORT_TEMPFAIL, 0,
		    xprintf("maildir: %s", error));
		free(error);
	} else {
		send_maildir_queue(t, m->cookie, TRANSPORT_OK, 250,
		    xprintf("250 written to %s", new));
	}
	buf_free(&head);
	free(name);
	free(tmp);
	free(new);
	return 0;
}

static void
send_maildir_flush(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct transport_result	 res;
	size_t			 i, n = t->ndone;

	if (n == 0)
		return;
	/* The callback may submit more: hand out only what is there now. */
	for (i = 0; i < n; i++) {
		res.cookie = t->done[i].cookie;
		res.status = t->done[i].status;
		res.code = t->done[i].code;
		res.reply = t->done[i].reply;
		done(&res, arg);
		free(t->done[i].reply);
	}
	memmove(t->done, t->done + n, (t->ndone - n) * sizeof *t->done);
	t->ndone -= n;
}

static int
send_maildir_run(struct transport *t, int timeout_ms,
    void (*done)(const struct transport_result *, void *), void *arg,
    char **cause)
{
	struct pollfd	pfd;
	uint64_t	v;

	if (t->ndone == 0 && timeout_ms > 0) {
		pfd.fd = t->efd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, timeout_ms) == -1 && errno != EINTR) {
			xasprintf(cause, "poll: %s", strerror(errno));
			return -1;
		}
	}
	(void)read(t->efd, &v, sizeof v);
	send_maildir_flush(t, done, arg);
	return 0;
}

static void
send_maildir_wakeup(struct transport *t)
{
	uint64_t	one = 1;

	(void)write(t->efd, &one, sizeof one);
}

static void
send_maildir_abort(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	/* Nothing is ever half-written: what is queued is final. */
	send_maildir_flush(t, done, arg);
}

static void
send_maildir_close(struct transport *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->ndone; i++)
		free(t->done[i].reply);
	free(t->done);
	close(t->efd);
	free(t->path);
	free(t);
}

const struct transport_ops send_maildir_ops = {
	"maildir",
	send_maildir_open,
	send_maildir_slots,
	send_maildir_submit,
	send_maildir_run,
	send_maildir_wakeup,
	send_maildir_abort,
	send_maildir_close,
};
