/*
 * source-maildir.c - inbound mail from a Maildir (new/ watched by inotify).
 *
 * Owns: scanning new/ at start, noticing deliveries with inotify (an MTA
 * writes into tmp/ and renames into new/, so IN_MOVED_TO is the event that
 * matters; IN_CLOSE_WRITE covers writers that skip tmp/), reading each file
 * under the size cap, and filing a handled message into cur/ with the seen
 * flag ("NAME:2,S").  Does not own: what happens to a message (route.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <stdint.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "maildir.h"
#include "monotime.h"
#include "source.h"
#include "xmalloc.h"

#define SOURCE_MAILDIR_RESCAN	60	/* seconds */

struct source {
	char	 *path;		/* the Maildir */
	size_t	  max_size;
	int	  ifd;		/* inotify */
	int	  scanned;	/* the start-up scan of new/ is done */
	/*
	 * new/ is scanned again now and then: a message whose recording
	 * failed (a busy database) stays in new/ and is retried, and events
	 * lost to an inotify queue overflow are made good.
	 */
	int64_t	  next_scan;	/* ms, CLOCK_MONOTONIC */
	char	**pending;	/* names in new/ not yet handed out */
	size_t	  head;		/* first of them */
	size_t	  npending;
	size_t	  cpending;
};

void
source_msg_free(struct source_msg *msg)
{
	free(msg->id);
	free(msg->data);
	memset(msg, 0, sizeof *msg);
}

static struct source *
source_maildir_open(const struct conf *conf, char **cause)
{
	struct source	*s;
	char		*newdir;

	if (maildir_create(conf->inbound.maildir, cause) == -1)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->path = xstrdup(conf->inbound.maildir);
	s->max_size = (size_t)conf->inbound.max_message_size;
	if ((s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		xasprintf(cause, "inotify: %s", strerror(errno));
		free(s->path);
		free(s);
		return NULL;
	}
	newdir = xprintf("%s/new", s->path);
	if (inotify_add_watch(s->ifd, newdir,
	    IN_MOVED_TO | IN_CLOSE_WRITE) == -1) {
		xasprintf(cause, "%s: inotify: %s", newdir, strerror(errno));
		free(newdir);
		close(s->ifd);
		free(s->path);
		free(s);
		return NULL;
	}
	free(newdir);
	return s;
}

static int
source_maildir_fd(struct source *s)
{
	return s->ifd;
}

static int
source_maildir_timeout(struct source *s)
{
	int64_t	now = monotime_ms();

	if (!s->scanned || now >= s->next_scan)
		return 0;
	return (int)(s->next_scan - now);
}

static void
source_maildir_push(struct source *s, const char *name)
{
	/*
	 * No de-duplication: a name queued twice (the start-up scan racing
	 * inotify) is read once; the second read finds it gone from new/.
	 */
	if (name[0] == '.')
		return;
	if (s->head > 0 && s->head == s->npending)
		s->head = s->npending = 0;
	if (s->npending == s->cpending) {
		s->cpending = s->cpending ? s->cpending * 2 : 16;
		s->pending = xreallocarray(s->pending, s->cpending,
		    sizeof *s->pending);
	}
	s->pending[s->npending++] = xstrdup(name);
}

static int
source_maildir_scan(struct source *s, char **cause)
{
	struct dirent	*de;
	DIR		*dir;
	char		*newdir;

	newdir = xprintf("%s/new", s->path);
	if ((dir = opendir(newdir)) == NULL) {
		xasprintf(cause, "%s: %s", newdir, strerror(errno));
		free(newdir);
		return -1;
	}
	while ((de = readdir(dir)) != NULL)
		source_maildir_push(s, de->d_name);
	closedir(dir);
	free(newdir);
	return 0;
}

static void
source_maildir_drain(struct source *s)
{
	char				 ev[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event	*ie;
	ssize_t				 n;
	char				*p;

	while ((n = read(s->ifd, ev, sizeof ev)) > 0) {
		for (p = ev; p < ev + n; p += sizeof *ie + ie->len) {
			ie = (const struct inotify_event *)p;
			if (ie->len > 0)
				source_maildir_push(s, ie->name);
		}
	}
}

/*
 * Something in new/ that is not a regular file (a symbolic link, perhaps
 * to the token key; a FIFO, which would block the reader): moved to cur/
 * flagged T (trashed) so that it is not looked at again, and logged.
 */
static void
source_maildir_aside(struct source *s, const char *name)
{
	char	*from, *to;

	from = xprintf("%s/new/%s", s->path, name);
	to = xprintf("%s/cur/%s%s", s->path, name,
	    strstr(name, ":2,") != NULL ? "T" : ":2,T");
	if (rename(from, to) == -1 && errno != ENOENT)
		log_warn("maildir: %s is not a regular file, and could not "
		    "be set aside: %s", from, strerror(errno));
	else
		log_warn("maildir: %s is not a regular file (a link or a "
		    "FIFO?): set aside in cur/, not read", from);
	free(from);
	free(to);
}

static int
source_maildir_next(struct source *s, struct source_msg *msg, char **cause)
{
	struct buf	 b;
	char		*name, *file;
	int		 rc;

	if (!s->scanned || monotime_ms() >= s->next_scan) {
		if (source_maildir_scan(s, cause) == -1)
			return -1;
		s->scanned = 1;
		s->next_scan = monotime_ms() +
		    SOURCE_MAILDIR_RESCAN * 1000;
	}
	source_maildir_drain(s);
	while (s->head < s->npending) {
		name = s->pending[s->head++];
		file = xprintf("%s/new/%s", s->path, name);
		buf_init(&b, s->max_size);
		memset(msg, 0, sizeof *msg);
		if ((rc = buf_read_regular(&b, file)) == -2) {
			/* A link or a FIFO is no message: set aside, unread. */
			source_maildir_aside(s, name);
			buf_free(&b);
			free(file);
			free(name);
			continue;
		}
		if (rc == -1) {
			if (errno == ENOENT) {	/* taken by someone else */
				buf_free(&b);
				free(file);
				free(name);
				continue;
			}
			if (errno != EFBIG) {
				xasprintf(cause, "%s: %s", file,
				    strerror(errno));
				buf_free(&b);
				free(file);
				free(name);
				return -1;
			}
			/* Oversized: hand out what fits, flagged; kept whole on disk. */
			msg->truncated = 1;
		}
		free(file);
		msg->id = name;
		msg->data = buf_detach(&b, &msg->len);
		return 1;
	}
	return 0;
}

static int
source_maildir_done(struct source *s, const struct source_msg *msg,
    char **cause)
{
	char	*from, *to;
	int	 rc = 0;

	from = xprintf("%s/new/%s", s->path, msg->id);
	/* Keep any flags already in the name; add S (seen). */
	if (strstr(msg->id, ":2,") != NULL)
		to = xprintf("%s/cur/%s%s", s->path, msg->id,
		    strchr(strstr(msg->id, ":2,"), 'S') ? "" : "S");
	else
		to = xprintf("%s/cur/%s:2,S", s->path, msg->id);
	if (rename(from, to) == -1 && errno != ENOENT) {
		xasprintf(cause, "rename %s: %s", from, strerror(errno));
		rc = -1;
	}
	free(from);
	free(to);
	return rc;
}

int
source_maildir_erase(const char *maildir, const char *name, char **where,
    char **cause)
{
	static const char *const subs[] = { "new", "cur" };
	struct dirent	*de;
	DIR		*d;
	char		*dir, *path;
	size_t		 i, len = strlen(name);
	int		 found = 0;

	*where = NULL;
	/* A Maildir name, as the source handed it out: nothing else. */
	if (len == 0 || *name == '.' || strchr(name, '/') != NULL) {
		xasprintf(cause, "\"%s\" is not a Maildir file name", name);
		return -1;
	}
	for (i = 0; i < sizeof subs / sizeof subs[0] && !found; i++) {
		dir = xprintf("%s/%s", maildir, subs[i]);
		if ((d = opendir(dir)) == NULL) {
			if (errno == ENOENT) {
				free(dir);
				continue;
			}
			xasprintf(cause, "%s: %s", dir, strerror(errno));
			free(dir);
			return -1;
		}
		/* NAME in new/; NAME:2,FLAGS once filed in cur/. */
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, name, len) != 0 ||
			    (de->d_name[len] != '\0' &&
			    strncmp(de->d_name + len, ":2,", 3) != 0))
				continue;
			path = xprintf("%s/%s", dir, de->d_name);
			if (unlink(path) == -1 && errno != ENOENT) {
				xasprintf(cause, "%s: %s", path,
				    strerror(errno));
				free(path);
				closedir(d);
				free(dir);
				return -1;
			}
			free(*where);
			*where = path;
			found = 1;
		}
		closedir(d);
		free(dir);
	}
	return found;
}

static void
source_maildir_close(struct source *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = s->head; i < s->npending; i++)
		free(s->pending[i]);
	free(s->pending);
	close(s->ifd);
	free(s->path);
	free(s);
}

const struct source_ops source_maildir_ops = {
	"maildir",
	source_maildir_open,
	source_maildir_fd,
	source_maildir_timeout,
	source_maildir_next,
	source_maildir_done,
	source_maildir_close,
};
