/*
 * deliver-newsletter.c - the engine's real renderer of campaign rows:
 * deliver_render_newsletter (deliver.h), through newsletter.c.
 *
 * Owns: preparing a campaign once (its row and the token key) and
 * turning a claimed row's subscriber columns into a subscriber for
 * newsletter_render().  Does not own: what a newsletter looks like
 * (newsletter.c), when rows are rendered (deliver.c).
 */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "deliver.h"
#include "newsletter.h"
#include "store.h"
#include "token.h"
#include "xmalloc.h"

static void *
deliver_newsletter_prepare(const struct conf *conf, struct store *s,
    int64_t campaign_id, char **cause)
{
	struct store_campaign	 c;
	struct newsletter	*nl;
	unsigned char		 key[TOKEN_KEY_LEN];
	int			 rc;

	memset(&c, 0, sizeof c);
	if ((rc = store_campaign_get(s, campaign_id, &c, cause)) != 1) {
		if (rc == 0)
			xasprintf(cause, "campaign %lld does not exist",
			    (long long)campaign_id);
		return NULL;
	}
	if (token_key_load(conf->general.secret_file, 1, key, cause) == -1) {
		store_campaign_clear(&c);
		return NULL;
	}
	nl = newsletter_prepare(conf, &c, key, cause);
	explicit_bzero(key, sizeof key);
	store_campaign_clear(&c);
	return nl;
}

static int
deliver_newsletter_render(void *prepared, const struct store_outbox_row *row,
    int64_t now, struct buf *out, char **mail_from, char **cause)
{
	struct store_subscriber	sub;

	memset(&sub, 0, sizeof sub);
	sub.id = row->subscriber_id;
	sub.email = row->sub_email;
	sub.name = row->sub_name;
	sub.attrs = row->sub_attrs;
	sub.created_at = row->sub_created_at;
	memcpy(sub.token_salt, row->sub_token_salt, sizeof sub.token_salt);
	return newsletter_render(prepared, &sub, (time_t)now, out, mail_from,
	    cause);
}

static void
deliver_newsletter_free(void *prepared)
{
	newsletter_free(prepared);
}

const struct deliver_render deliver_render_newsletter = {
	deliver_newsletter_prepare,
	deliver_newsletter_render,
	deliver_newsletter_free,
};
