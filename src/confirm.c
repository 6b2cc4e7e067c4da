/*
 * confirm.c - the confirmation email a pending subscriber gets.
 *
 * Owns: rendering templates/confirm.txt, the message's headers, the
 * confirm link and queueing it (see confirm.h).  Does not own: what the
 * link does (web-subscribe.c), the token format (token.c), the wire format
 * (mime-build.c), sending (the delivery engine).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "address.h"
#include "buf.h"
#include "conf.h"
#include "confirm.h"
#include "json.h"
#include "mime-build.h"
#include "store.h"
#include "template.h"
#include "token.h"
#include "value.h"
#include "xmalloc.h"

#define CONFIRM_TEMPLATE	"confirm.txt"
#define CONFIRM_MAX_MESSAGE	(1024 * 1024)

struct confirm {
	const struct conf	*conf;
	unsigned char		 key[TOKEN_KEY_LEN];
	struct template		*template;
	char			*domain;	/* of Message-IDs */
};

struct confirm *
confirm_open(const struct conf *conf, char **cause)
{
	struct confirm	*c;
	const char	*at;

	c = xcalloc(1, sizeof *c);
	c->conf = conf;
	if (token_key_load(conf->general.secret_file, 1, c->key, cause) != 0)
		goto fail;
	c->template = template_load(conf->general.templates, CONFIRM_TEMPLATE,
	    cause);
	if (c->template == NULL)
		goto fail;
	if (*conf->general.domain != '\0')
		c->domain = xstrdup(conf->general.domain);
	else if ((at = strrchr(conf->general.from_address, '@')) != NULL)
		c->domain = xstrdup(at + 1);
	else
		c->domain = xstrdup("postroom.invalid");
	return c;

fail:
	confirm_close(c);
	return NULL;
}

void
confirm_close(struct confirm *c)
{
	if (c == NULL)
		return;
	explicit_bzero(c->key, sizeof c->key);
	template_free(c->template);
	free(c->domain);
	free(c);
}

/* 1 when staff put them on the list (by hand or by an import). */
static int
confirm_by_staff(const struct store_member *m)
{
	const char	*method = m->consent_method;

	return method != NULL && (strcmp(method, "staff") == 0 ||
	    strcmp(method, "import") == 0);
}

/*
 * The template's data; the caller frees it.  staff: the pending
 * membership was made by the network's staff (one by one or by an
 * import), not asked for on the web.
 *
 * The message goes to whatever address was typed into the public form,
 * so it carries only the list's own words and the link: never the name
 * typed there (subscriber.name is always empty), and for a sign-up on
 * the web not even the address (a "user+visit-example-com@" tag is text
 * too) or attributes.  Staff chose what they added, so their message
 * may say which address it was.
 */
static struct value *
confirm_data(struct confirm *c, const struct store_subscriber *sub,
    const struct conf_list *l, const char *url, int staff)
{
	struct value	*data, *o, *attrs = NULL;
	char		*display;

	data = value_new_object();

	o = value_new_object();
	display = staff ? address_display(sub->email) : xstrdup("");
	value_object_set(o, "email", value_new_string(display));
	free(display);
	value_object_set(o, "name", value_new_string(""));
	if (staff)
		attrs = json_parse(sub->attrs, strlen(sub->attrs), NULL);
	value_object_set(o, "attrs", attrs != NULL ? attrs :
	    value_new_object());
	value_object_set(data, "subscriber", o);

	o = value_new_object();
	value_object_set(o, "slug", value_new_string(l->slug));
	value_object_set(o, "name", value_new_string(l->name));
	value_object_set(o, "description", value_new_string(l->description));
	value_object_set(data, "list", o);

	value_object_set(data, "confirm_url", value_new_string(url));
	value_object_set(data, "added_by_staff", value_new_bool(staff));

	o = value_new_object();
	value_object_set(o, "enquiries",
	    value_new_string(c->conf->general.from_address));
	value_object_set(data, "network", o);
	return data;
}

int
confirm_add(struct confirm *c, struct store *s, int64_t subscriber_id,
    const char *list, time_t now, char **cause)
{
	const struct conf	*conf = c->conf;
	const struct conf_list	*l;
	struct store_subscriber	 sub;
	struct store_member	 mem;
	struct store_outbox_msg	 m;
	struct token		 t;
	struct mime_msg		*msg = NULL;
	struct value		*data = NULL;
	struct buf		 text, out;
	struct tm		 tm;
	char			*token = NULL, *url = NULL, *subject = NULL;
	char			*msgid = NULL, *dedup = NULL, day[16];
	int			 rc = -1, found;

	memset(&sub, 0, sizeof sub);
	memset(&mem, 0, sizeof mem);
	buf_init(&text, TEMPLATE_MAX_OUTPUT);
	buf_init(&out, CONFIRM_MAX_MESSAGE);
	if ((l = conf_list_find(conf, list)) == NULL) {
		*cause = xprintf("no list \"%s\" in the configuration", list);
		goto out;
	}
	if ((found = store_subscriber_get_id(s, subscriber_id, &sub,
	    cause)) != 1) {
		if (found == 0)
			*cause = xprintf("no subscriber %lld",
			    (long long)subscriber_id);
		goto out;
	}

	/* Step 1: the signed link; it carries ids, never the address. */
	memset(&t, 0, sizeof t);
	t.purpose = TOKEN_CONFIRM;
	t.subscriber = sub.id;
	memcpy(t.salt, sub.token_salt, sizeof t.salt);
	if (strlen(list) > TOKEN_LIST_MAX) {
		*cause = xprintf("list slug \"%s\" is too long for a token",
		    list);
		goto out;
	}
	memcpy(t.list, list, strlen(list) + 1);
	t.issued = now;
	t.expires = now + CONFIRM_EXPIRY;
	token = token_make(c->key, &t);
	url = xprintf("%s/confirm/%s", conf->general.base_url, token);

	/* Step 2: the text, saying who asked for the subscription. */
	if (store_member_get(s, subscriber_id, list, &mem, cause) == -1)
		goto out;
	data = confirm_data(c, &sub, l, url, confirm_by_staff(&mem));
	if (template_render_text(c->template, data, NULL, &text, cause) != 0)
		goto out;

	/* Step 3: the message. */
	msg = mime_msg_new();
	mime_msg_address(msg, "From", conf->general.from_name,
	    conf->general.from_address);
	/* The address alone: a display name would be what they typed. */
	mime_msg_address(msg, "To", NULL, sub.email);
	subject = xprintf("Please confirm your subscription to %s", l->name);
	mime_msg_header(msg, "Subject", subject);
	msgid = mime_message_id(c->domain);
	mime_msg_header_raw(msg, "Message-ID", msgid);
	mime_msg_header_raw(msg, "Auto-Submitted", "auto-generated");
	mime_msg_text(msg, text.data != NULL ? text.data : "");
	if (mime_msg_write(msg, &out, cause) != 0)
		goto out;

	/*
	 * Step 4: queue it, once a day at most - per sign-up: someone who
	 * left and asks again the same day gets a new message, so the key
	 * carries when they last left.
	 */
	gmtime_r(&now, &tm);
	strftime(day, sizeof day, "%Y-%m-%d", &tm);
	dedup = xprintf("confirm:%s:%lld:%s:%lld", list,
	    (long long)subscriber_id, day, (long long)mem.unsubscribed_at);
	memset(&m, 0, sizeof m);
	m.kind = STORE_OUTBOX_CONFIRM;
	m.mail_from = conf->general.from_address;
	m.rcpt_to = sub.email;
	m.message = out.data;
	m.len = out.len;
	m.message_id = msgid;
	m.dedup_key = dedup;
	m.subscriber_id = subscriber_id;
	m.priority = CONFIRM_PRIORITY;
	rc = store_outbox_add(s, &m, NULL, cause);

out:
	mime_msg_free(msg);
	value_free(data);
	buf_free(&text);
	buf_free(&out);
	store_subscriber_clear(&sub);
	store_member_clear(&mem);
	free(token);
	free(url);
	free(subject);
	free(msgid);
	free(dedup);
	return rc;
}

int
confirm_queue(struct store *s, const struct conf *conf, int64_t subscriber_id,
    const char *list, char **cause)
{
	struct confirm	*c;
	int		 rc;

	if ((c = confirm_open(conf, cause)) == NULL)
		return -1;
	rc = confirm_add(c, s, subscriber_id, list, time(NULL), cause);
	confirm_close(c);
	return rc;
}
