/*
 * forget.c - erasing a person: the database, then the originals of their
 * enquiries in the mail store (see forget.h).
 *
 * Owns: the order (the database first, in one transaction; the mail store
 * after, as it may be slow or away) and the per-enquiry report.  Does not
 * own: the SQL (store-subscriber.c), Maildir or IMAP (source-*.c).  Logs
 * by reference and count only: never the address.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "forget.h"
#include "log.h"
#include "source.h"
#include "xmalloc.h"

/* The originals that came from IMAP: found by Message-ID, one session. */
static void
forget_imap(const struct conf *conf, struct forget_report *r)
{
	struct store_erasure	 *x = &r->erased;
	const char		**ids;
	size_t			 *which, n = 0, i;
	char			 *cause = NULL, *folders;
	int			 *found, expunged;

	ids = xcalloc(x->nenquiries, sizeof *ids);
	which = xcalloc(x->nenquiries, sizeof *which);
	found = xcalloc(x->nenquiries, sizeof *found);
	for (i = 0; i < x->nenquiries; i++) {
		if (strncmp(x->enquiries[i].source, "imap:", 5) != 0)
			continue;
		if (x->enquiries[i].message_id == NULL) {
			r->originals[i].fate = FORGET_FAILED;
			r->originals[i].why = xstrdup("it had no Message-ID, "
			    "so it cannot be searched for in the IMAP "
			    "mailbox");
			r->originals[i].where = xprintf("IMAP folder %s, "
			    "where it was UID %s when it came",
			    conf->inbound.mailbox, x->enquiries[i].source + 5);
			continue;
		}
		which[n] = i;
		ids[n++] = x->enquiries[i].message_id;
	}
	if (n == 0)
		goto out;

	folders = *conf->inbound.routed_folder != '\0' ? xprintf("IMAP "
	    "folders %s and %s", conf->inbound.mailbox,
	    conf->inbound.routed_folder) : xprintf("IMAP folder %s",
	    conf->inbound.mailbox);
	if (source_imap_erase(conf, ids, n, found, &expunged, &cause) == -1) {
		log_warn("forget: IMAP: %s", cause);
		for (i = 0; i < n; i++) {
			r->originals[which[i]].fate = FORGET_FAILED;
			r->originals[which[i]].why = xstrdup(cause);
			r->originals[which[i]].where = xstrdup(folders);
		}
		free(cause);
	} else {
		for (i = 0; i < n; i++) {
			r->originals[which[i]].fate = found[i] == 0 ?
			    FORGET_NOT_FOUND : expunged ? FORGET_DELETED :
			    FORGET_MARKED;
			r->originals[which[i]].where = xstrdup(folders);
		}
	}
	free(folders);
out:
	free(ids);
	free(which);
	free(found);
}

int
forget_person(const struct conf *conf, struct store *s, const char *email,
    int flags, struct forget_report *r, char **cause)
{
	struct store_erasure	*x = &r->erased;
	struct forget_original	*o;
	const char		*src;
	char			*c = NULL;
	size_t			 i;
	int			 rc;

	memset(r, 0, sizeof *r);
	if (store_subscriber_erase(s, email, (flags & FORGET_SUPPRESS_ANYWAY) ?
	    STORE_ERASE_SUPPRESS_ANYWAY : 0, x, cause) == -1)
		return -1;
	r->originals = xcalloc(x->nenquiries > 0 ? x->nenquiries : 1,
	    sizeof *r->originals);

	/* The Maildir, one file each; "pipe": nothing was filed. */
	for (i = 0; i < x->nenquiries; i++) {
		o = &r->originals[i];
		src = x->enquiries[i].source;
		if (strncmp(src, "maildir:", 8) == 0) {
			rc = source_maildir_erase(conf->inbound.maildir,
			    src + 8, &o->where, &c);
			if (rc == -1) {
				o->fate = FORGET_FAILED;
				o->why = c;
				c = NULL;
			} else if (rc == 0) {
				o->fate = FORGET_NOT_FOUND;
				o->where = xprintf("the Maildir %s",
				    conf->inbound.maildir);
			} else
				o->fate = FORGET_DELETED;
		} else if (strcmp(src, "pipe") == 0)
			o->fate = FORGET_NO_COPY;
		else if (strncmp(src, "imap:", 5) != 0) {
			o->fate = FORGET_FAILED;
			o->why = xprintf("it came from \"%s\", which postroom "
			    "does not know how to look in", src);
		}
	}
	forget_imap(conf, r);

	log_info("forget: %zu subscriber%s and %zu enquir%s erased%s",
	    x->nsubscribers, x->nsubscribers == 1 ? "" : "s", x->nenquiries,
	    x->nenquiries == 1 ? "y" : "ies", x->suppressed ?
	    "; address suppressed" : "");
	for (i = 0; i < x->nenquiries; i++) {
		if (r->originals[i].fate == FORGET_FAILED)
			log_warn("forget: %s: original not deleted: %s",
			    x->enquiries[i].reference, r->originals[i].why);
	}
	return 0;
}

void
forget_report_clear(struct forget_report *r)
{
	size_t	i;

	for (i = 0; r->originals != NULL && i < r->erased.nenquiries; i++) {
		free(r->originals[i].where);
		free(r->originals[i].why);
	}
	free(r->originals);
	store_erasure_clear(&r->erased);
	memset(r, 0, sizeof *r);
}
