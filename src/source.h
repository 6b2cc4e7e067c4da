/*
 * source.h - where inbound mail comes from: a family of interchangeable
 * sources (Maildir, IMAP), one file each, behind one small table of
 * function pointers (as fdm's fetch-*.c).
 *
 * A source hands out whole raw messages; the caller records and routes
 * each one and only then calls done(), which files it away (Maildir: new/
 * to cur/ with the seen flag; IMAP: UID MOVE).  A message handed out but
 * never done() is handed out again after a restart: that is how a crash
 * between recording and filing loses nothing.
 */
#ifndef POSTROOM_SOURCE_H
#define POSTROOM_SOURCE_H

#include <stddef.h>

struct conf;

struct source_msg {
	char	*id;		/* Maildir file name, or IMAP UID as text */
	char	*data;		/* the raw message, NUL-terminated */
	size_t	 len;
	int	 truncated;	/* larger than inbound.max_message_size */
};

struct source;

struct source_ops {
	const char	*name;
	struct source	*(*open)(const struct conf *, char **cause);
	/* A descriptor to poll for readability, or -1 to poll by timer. */
	int		 (*fd)(struct source *);
	/*
	 * Milliseconds until next() has work to do even when fd() stays quiet
	 * (renew an IMAP IDLE, reconnect after a backoff, poll a server
	 * without IDLE), 0 for now, or -1 for never.  fd() and timeout() may
	 * change after every next() or done(): ask again each time round.
	 */
	int		 (*timeout)(struct source *);
	/* 1: *msg filled (caller frees with source_msg_free); 0: none now. */
	int		 (*next)(struct source *, struct source_msg *,
			     char **cause);
	int		 (*done)(struct source *, const struct source_msg *,
			     char **cause);
	void		 (*close)(struct source *);
};

extern const struct source_ops	source_maildir_ops;
extern const struct source_ops	source_imap_ops;

void	source_msg_free(struct source_msg *);

/*
 * Erasing a person (forget.c): delete the original of a message a source
 * handed out, where it was filed.
 *
 * source_maildir_erase: the message the Maildir source called name (in
 * new/, or filed in cur/ as NAME:2,FLAGS).  1 deleted, with *where its
 * path (caller frees); 0 not there; -1 with *cause.
 *
 * source_imap_erase: connect with the inbound settings and delete every
 * message whose Message-ID is one of ids[0..n) (without <>) from
 * inbound.mailbox and inbound.routed_folder: UID SEARCH HEADER
 * Message-ID, then \Deleted and UID EXPUNGE of those UIDs only.
 * found[i] gets how many went for ids[i]; *expunged is 0 when the server
 * has no UIDPLUS, and they are only marked \Deleted (a plain EXPUNGE
 * would take other people's deleted mail too).  0, or -1 with *cause
 * (the server cannot be reached or refused).
 */
int	source_maildir_erase(const char *maildir, const char *name,
	    char **where, char **cause);
int	source_imap_erase(const struct conf *, const char *const *ids,
	    size_t n, int *found, int *expunged, char **cause);

#endif
