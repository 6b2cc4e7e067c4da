/*
 * confirm.h - queue the "please confirm your subscription" email.
 *
 * A pending subscriber gets one message, rendered from the template
 * confirm.txt in general.templates (Mustache, text, nothing escaped) with
 *	subscriber	{ email, name, attrs }: name always empty, and
 *			email and attrs only when added_by_staff - the
 *			message carries no text a stranger typed into
 *			the public form (To: is the bare address)
 *	list		{ slug, name, description }
 *	confirm_url	general.base_url + "/confirm/" + a signed token
 *			(token.h: purpose confirm, subscriber id and list
 *			slug, never the address; valid CONFIRM_EXPIRY)
 *	network		{ enquiries: general.from_address }
 *	added_by_staff	true when the pending membership's consent method
 *			is "staff" or "import" (the network's staff put
 *			them on the list), false for a sign-up on the web:
 *			the text says who asked, since "someone, probably
 *			you" is wrong when it was staff
 * built by mime-build.c (From: general.from_name <general.from_address>,
 * Auto-Submitted: auto-generated) and queued in the outbox (kind confirm,
 * priority CONFIRM_PRIORITY, dedup key "confirm:LIST:SUBSCRIBER:YYYY-MM-DD:LEFT"
 * so that adding someone twice on one day queues one message).
 *
 * Owns: the confirmation message.  Does not own: what a confirm link does
 * when opened (web-subscribe.c), sending (the delivery engine), the
 * membership rows (store-subscriber.c).
 *
 * Memory: a struct confirm (the key and the parsed template, loaded once
 * for a whole import) belongs to its caller, freed with confirm_close().
 */
#ifndef POSTROOM_CONFIRM_H
#define POSTROOM_CONFIRM_H

#include <stdint.h>
#include <time.h>

struct conf;
struct store;
struct confirm;

#define CONFIRM_EXPIRY		(7 * 24 * 60 * 60)	/* seconds */
#define CONFIRM_PRIORITY	10

/*
 * Load the key (token_key_load(general.secret_file, create = 1)) and parse
 * the template.  NULL with *cause (caller frees) when either fails.
 */
struct confirm	*confirm_open(const struct conf *, char **cause);
void		 confirm_close(struct confirm *);	/* NULL is fine */

/*
 * Queue the message for subscriber_id on list (a slug in the
 * configuration) at time now.  1 when queued, 0 when one was already
 * queued today, -1 with *cause.  Inside or outside a transaction.
 */
int		 confirm_add(struct confirm *, struct store *,
		    int64_t subscriber_id, const char *list, time_t now,
		    char **cause);

/* confirm_open + confirm_add (now) + confirm_close, for one message. */
int		 confirm_queue(struct store *, const struct conf *,
		    int64_t subscriber_id, const char *list, char **cause);

#endif
