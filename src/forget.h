/*
 * forget.h - erasing a person (UK GDPR, "subscriber forget"): what
 * postroom holds, and the original messages it filed in the mail store.
 *
 * The core of the command, for the CLI and the staff console alike:
 * store_subscriber_erase() erases and anonymises the database's rows in
 * one transaction, then each erased enquiry's original is deleted where
 * the source filed it - from the inbound Maildir (new/ or cur/), or from
 * the IMAP mailbox and routed folder by its Message-ID - and the report
 * says, per enquiry, whether that was done and, when not, why.  What
 * stays outside postroom for good (the forwards in the leads' mailboxes,
 * the acknowledgements in the enquirer's) is the caller's to say: the
 * report holds what it needs (each enquiry's lead and whether it was
 * forwarded).
 *
 * Owns: that order and the report.  Does not own: the SQL
 * (store-subscriber.c), the mail store (source-maildir.c,
 * source-imap.c), the wording (cmd-subscriber.c).
 */
#ifndef POSTROOM_FORGET_H
#define POSTROOM_FORGET_H

#include <stddef.h>

#include "store.h"

struct conf;

#define FORGET_SUPPRESS_ANYWAY	0x1	/* even when nothing was held */

enum forget_fate {
	FORGET_DELETED,		/* deleted from the mail store */
	FORGET_MARKED,		/* IMAP without UIDPLUS: marked \Deleted */
	FORGET_NOT_FOUND,	/* not where it was filed (gone already) */
	FORGET_NO_COPY,		/* came by the MTA pipe: none was filed */
	FORGET_FAILED,		/* could not look: why says why */
};

/* The original of one erased enquiry (erased.enquiries[i]). */
struct forget_original {
	enum forget_fate	 fate;
	char			*where;	/* a path, "IMAP ..."; or NULL */
	char			*why;	/* FAILED: the reason; else NULL */
};

struct forget_report {
	struct store_erasure	 erased;
	struct forget_original	*originals;	/* one per erased enquiry */
};

/*
 * Erase the person with (normalised) address email.  0 with *r filled
 * (forget_report_clear it) - r->erased.held 0 when nothing was held, and
 * then nothing was changed unless flags has FORGET_SUPPRESS_ANYWAY - or
 * -1 with *cause when the database failed (nothing was erased).  The
 * mail store is worked on after the commit: its failures are in the
 * report, not an error.
 */
int	 forget_person(const struct conf *, struct store *, const char *email,
	    int flags, struct forget_report *r, char **cause);
void	 forget_report_clear(struct forget_report *);

#endif
