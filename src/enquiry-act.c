/*
 * enquiry-act.c - what staff do with an enquiry once the router has sent
 * it somewhere: mark it answered (or take the mark back), and re-route it
 * to another lead, which forwards it there as the router would have.
 * The CLI (cmd-enquiry.c) and the console (console-enquiry.c) both call
 * these; neither holds a rule of its own.
 *
 * Owns: the checks (a known enquiry, a configured lead other than the one
 * it has, a note that is text of a sane size), what a re-route tells the
 * new lead, the history row and the audit records.  Does not own: making
 * the forward (enquiry.c, the same code as the router's), the SQL
 * (store-enquiry.c), who may act on which enquiry (the console's role
 * table and its lead check; the CLI is the server's administrators').
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "enquiry.h"
#include "log.h"
#include "store.h"
#include "user.h"
#include "utf8.h"
#include "xmalloc.h"

/* "There is no enquiry X.": the reference as asked, cut. */
static char *
enquiry_act_unknown(const char *reference)
{
	return xprintf("There is no enquiry %.64s.", reference);
}

/*
 * The note as kept and forwarded: line breaks as "\n", other control
 * characters as spaces, white space trimmed at both ends; NULL when
 * nothing is left.  note is valid UTF-8.
 */
static char *
enquiry_act_note(const char *note)
{
	char	*out, *q;
	size_t	 n;

	if (note == NULL)
		return NULL;
	note += strspn(note, " \t\r\n");
	out = q = xmalloc(strlen(note) + 1);
	for (; *note != '\0'; note++) {
		if (*note == '\r') {
			if (note[1] != '\n')
				*q++ = '\n';
		} else if (*note == '\n')
			*q++ = '\n';
		else if ((unsigned char)*note < 0x20 || *note == 0x7f)
			*q++ = ' ';
		else
			*q++ = *note;
	}
	for (n = (size_t)(q - out); n > 0 && strchr(" \t\n",
	    out[n - 1]) != NULL; n--)
		;
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

const char *
enquiry_note_refused(const char *note)
{
	const char	*p;
	size_t		 n = 0;

	if (note == NULL)
		return NULL;
	if (!utf8_valid(note, strlen(note)))
		return "The note is not text (UTF-8).";
	/* Characters: every byte that does not continue one. */
	for (p = note; *p != '\0'; p++)
		n += ((unsigned char)*p & 0xc0) != 0x80;
	if (n > ENQUIRY_NOTE_MAX)
		return "The note is longer than " ENQUIRY_NOTE_MAX_TEXT
		    " characters: shorten it.";
	return NULL;
}

int
enquiry_answered(struct store *s, const char *reference, int answered,
    const char *who, int64_t now, char **cause)
{
	struct store_enquiry	 e;
	int			 rc;

	memset(&e, 0, sizeof e);
	if (store_begin(s, cause) == -1)
		return -1;
	if ((rc = store_enquiry_get(s, reference, &e, cause)) != 1) {
		store_rollback(s);
		if (rc == 0)
			*cause = enquiry_act_unknown(reference);
		return rc;
	}
	if ((rc = store_enquiry_set_answered(s, e.id, answered ? now : 0,
	    who, cause)) == -1)
		goto fail;
	if (rc == 1)
		store_event_by(s, who, answered ? "enquiry.answered" :
		    "enquiry.unanswered", e.reference, NULL);
	if (store_commit(s, cause) == -1)
		goto fail;
	/* By reference and actor: no address (log.h). */
	if (rc == 1)
		log_info("%s: marked %s by %s", e.reference, answered ?
		    "answered" : "not answered", who);
	store_enquiry_clear(&e);
	return 1;

fail:
	store_rollback(s);
	store_enquiry_clear(&e);
	return -1;
}

/* The lead an enquiry went to first: its first re-route's from_lead. */
static int
enquiry_act_first(const struct store_enquiry_route *r, void *arg)
{
	char	**first = arg;

	*first = xstrdup(r->from_lead);
	return 1;
}

/* A lead's name, or its key when the configuration no longer has it. */
static const char *
enquiry_act_lead_name(const struct conf *conf, const char *key)
{
	const struct conf_lead	*l;

	return (l = conf_lead_find(conf, key)) != NULL ? l->name : key;
}

int
enquiry_reroute(const struct conf *conf, struct store *s,
    const char *reference, const char *new_lead, const char *note,
    const char *who, int64_t now, char **cause)
{
	const struct conf_lead		*to;
	struct store_enquiry		 e;
	struct store_enquiry_route	 r;
	struct enquiry_reforward	 f;
	char				*raw = NULL, *clean = NULL, *by = NULL;
	char				*reason = NULL, *dedup = NULL;
	char				*first = NULL, *detail;
	const char			*why;
	size_t				 len;
	int64_t				 id;
	int				 rc = -1;

	memset(&e, 0, sizeof e);
	if ((to = conf_lead_find(conf, new_lead)) == NULL) {
		*cause = xprintf("There is no lead \"%.64s\" in the "
		    "configuration.", new_lead);
		return 0;
	}
	if ((why = enquiry_note_refused(note)) != NULL) {
		*cause = xstrdup(why);
		return 0;
	}
	clean = enquiry_act_note(note);

	if (store_begin(s, cause) == -1)
		goto out;
	/* Step 1: the enquiry, and whether it can go where it is asked. */
	if ((rc = store_enquiry_get(s, reference, &e, cause)) != 1) {
		if (rc == 0)
			*cause = enquiry_act_unknown(reference);
		goto rollback;
	}
	if (strcmp(e.lead, to->key) == 0) {
		*cause = xprintf("%s is already with %s.", e.reference,
		    to->name);
		rc = 0;
		goto rollback;
	}
	if ((rc = store_enquiry_raw(s, e.id, &raw, &len, cause)) == -1)
		goto rollback;
	if (raw == NULL) {
		/* Erased at the sender's request (store-subscriber.c). */
		*cause = xprintf("The message of %s is no longer kept, so "
		    "there is nothing to forward.", e.reference);
		rc = 0;
		goto rollback;
	}
	rc = -1;
	if (store_enquiry_routes(s, e.id, enquiry_act_first, &first,
	    cause) == -1 || user_actor_name(s, who, &by, cause) == -1)
		goto rollback;

	/* Step 2: the history, the enquiry's new lead, the forward. */
	memset(&r, 0, sizeof r);
	r.enquiry_id = e.id;
	r.from_lead = e.lead;
	r.to_lead = to->key;
	r.actor = who;
	r.note = clean;
	r.at = now;
	if (store_enquiry_reroute(s, &r, &id, cause) == -1)
		goto rollback;
	reason = xprintf("%s re-routed it to you from %s.", by,
	    enquiry_act_lead_name(conf, e.lead));
	dedup = xprintf("forward:%s:route:%lld", e.reference, (long long)id);
	memset(&f, 0, sizeof f);
	f.e = &e;
	f.raw = raw;
	f.len = len;
	f.lead = to;
	f.reason = reason;
	f.note = clean;
	/* The acknowledgement named the lead the router chose. */
	f.acked_lead = enquiry_act_lead_name(conf, first != NULL ? first :
	    e.lead);
	f.dedup = dedup;
	if (enquiry_forward_recorded(conf, s, &f, cause) == -1)
		goto rollback;
	/*
	 * The audit says whether there was a note, not what it says: staff
	 * may write the enquirer into it, and an erasure empties the note
	 * where it is kept (enquiry_routes) but cannot find it in here.
	 */
	detail = xprintf("%s -> %s%s", e.lead, to->key, clean != NULL ?
	    ", with a note" : "");
	store_event_by(s, who, "enquiry.reroute", e.reference, detail);
	free(detail);
	if (store_commit(s, cause) == -1)
		goto rollback;
	log_info("%s: re-routed %s -> %s by %s", e.reference, e.lead,
	    to->key, who);
	rc = 1;
	goto out;

rollback:
	store_rollback(s);
out:
	store_enquiry_clear(&e);
	free(raw);
	free(clean);
	free(by);
	free(reason);
	free(dedup);
	free(first);
	return rc;
}
