/*
 * console-compose.c - writing a newsletter: /campaigns/new and
 * /campaigns/ID/edit (the form, with every problem the checks find shown
 * by the line it is on), /campaigns/ID/preview (the message as a reader
 * gets it, for the frames beside the form), and /campaigns/ID/image (an
 * image uploaded, kept, and added to the body with its alt text).
 *
 * Everything goes through the core the CLI uses: campaign_check() for
 * the problems, store_campaign_add() and campaign_edit() to save,
 * newsletter_render_parts_test() for the preview (a test copy's links,
 * which change nobody's subscription), media_add() for images.  Nothing
 * with a problem is saved: what is saved could be sent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "conf.h"
#include "console-int.h"
#include "fields.h"
#include "form.h"
#include "log.h"
#include "media.h"
#include "newsletter.h"
#include "store.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define COMPOSE_SUBJECT_MAX	300		/* bytes */
#define COMPOSE_BODY_MAX	(512 * 1024)	/* bytes of Markdown */
#define COMPOSE_TEMPLATE_MAX	64
#define COMPOSE_ALT_MAX		300
#define COMPOSE_IMAGES_SHOWN	12

/*
 * The preview is a page of its own in a frame of the console: the
 * message's own styles, its images from anywhere https (and ours), no
 * script, no form, no plugin, a unique origin (sandbox).
 */
#define COMPOSE_PREVIEW_CSP \
	"default-src 'none'; style-src 'unsafe-inline'; img-src https: " \
	"'self' http://127.0.0.1:* http://localhost:*; " \
	"frame-ancestors 'self'; base-uri 'none'; form-action 'none'; " \
	"sandbox allow-popups allow-popups-to-escape-sandbox"

/* What the form holds, as sent or as stored. */
struct compose {
	int64_t		 id;		/* 0: a new one */
	const char	*list;
	const char	*subject;
	const char	*body;
	const char	*template;
	struct value	*errors;	/* [{field, message}] */
	struct value	*problems;	/* [{line, message}] */
};

static void
compose_error(struct compose *cp, const char *field, const char *message)
{
	struct value	*o;

	o = value_new_object();
	web_set(o, "field", field);
	web_set(o, "message", message);
	value_list_append(cp->errors, o);
}

/* The lists to choose from, the chosen one marked. */
static struct value *
compose_lists(struct web_req *r, const char *chosen)
{
	struct value	*lists, *o;
	size_t		 i;

	lists = value_new_list();
	for (i = 0; i < r->conf->nlists; i++) {
		o = value_new_object();
		web_set(o, "slug", r->conf->lists[i].slug);
		web_set(o, "name", r->conf->lists[i].name);
		if (chosen != NULL &&
		    strcmp(chosen, r->conf->lists[i].slug) == 0)
			value_object_set(o, "selected", value_new_bool(1));
		value_list_append(lists, o);
	}
	return lists;
}

struct compose_images {
	struct web_req	*r;
	struct value	*rows;
};

static int
compose_image_one(const struct store_media *m, void *arg)
{
	struct compose_images	*ci = arg;
	struct value		*o;
	char			*url;

	url = media_url(ci->r->conf, m->name);
	o = value_new_object();
	web_set(o, "url", url);
	web_set(o, "filename", m->filename);
	value_object_set(o, "width", value_new_int(m->width));
	value_object_set(o, "height", value_new_int(m->height));
	value_list_append(ci->rows, o);
	free(url);
	return 0;
}

/* The form again, as sent, with what is wrong with it. */
static int
compose_page(struct web_req *r, unsigned int status, struct compose *cp,
    const char *notice)
{
	struct compose_images	 ci;
	struct value		*data;
	const struct conf_list	*l;
	char			*cause = NULL, path[64];

	data = value_new_object();
	if (cp->id != 0) {
		value_object_set(data, "id", value_new_int(cp->id));
		l = conf_list_find(r->conf, cp->list);
		web_set(data, "list_name", l != NULL ? l->name : cp->list);
		snprintf(path, sizeof path, "/campaigns/%lld/edit",
		    (long long)cp->id);
		web_set(data, "action", path);
		ci.r = r;
		ci.rows = value_new_list();
		value_object_set(data, "images", ci.rows);
		if (store_media_each(r->store, COMPOSE_IMAGES_SHOWN,
		    compose_image_one, &ci, &cause) < 0) {
			value_free(data);
			return web_answer_busy(r, cause);
		}
	} else {
		web_set(data, "action", "/campaigns/new");
		value_object_set(data, "lists", compose_lists(r, cp->list));
	}
	web_set(data, "subject", cp->subject);
	web_set(data, "template", cp->template);
	web_set(data, "body", cp->body);
	web_set(data, "notice", notice);
	value_object_set(data, "errors", cp->errors);
	value_object_set(data, "problems", cp->problems);
	cp->errors = cp->problems = NULL;
	value_object_set(data, "image_max_kb",
	    value_new_int(r->conf->console.image_max_kb));
	return console_answer_page(r, status, CONSOLE_PAGE_COMPOSE,
	    cp->id != 0 ? "Edit a newsletter" : "Write a newsletter", data);
}

/* A field as sent, checked: NULL (and an error) when it will not do. */
static const char *
compose_text(struct web_req *r, struct compose *cp, const char *name,
    size_t max, int required, const char *what)
{
	const char	*v;
	char		 msg[160];

	if ((v = console_field(r, name)) == NULL)
		v = "";
	if (required && *v == '\0') {
		snprintf(msg, sizeof msg, "Enter the %s", what);
		compose_error(cp, name, msg);
		return v;
	}
	if (strlen(v) > max) {
		snprintf(msg, sizeof msg, "The %s is too long: at most %zu "
		    "characters", what, max);
		compose_error(cp, name, msg);
	}
	return v;
}

/*
 * campaign_check() on c: each problem into cp->problems (by line) and
 * cp->errors; 0 when there is none, 1 when there are some, -1 for the
 * database (*cause).
 */
static int
compose_check(struct web_req *r, struct compose *cp,
    const struct store_campaign *c, char **cause)
{
	struct fields_report	 rep;
	enum campaign_fail	 fail;
	struct value		*o;
	const char		*msg, *p;
	size_t			 i;

	memset(&rep, 0, sizeof rep);
	if (campaign_check(r->conf, r->store, c, &rep, &fail, cause) == -1) {
		if (fail == CAMPAIGN_FAIL_STORE)
			return -1;
		compose_error(cp, "body", *cause);
		free(*cause);
		*cause = NULL;
		return 1;
	}
	for (i = 0; i < rep.nproblems; i++) {
		o = value_new_object();
		if (rep.problems[i].line > 0)
			value_object_set(o, "line",
			    value_new_int(rep.problems[i].line));
		msg = rep.problems[i].message;
		/* "body line 3: ..." beside "Line 3:" says it twice. */
		if (rep.problems[i].line > 0 &&
		    strncmp(msg, "body line ", 10) == 0 &&
		    (p = strstr(msg, ": ")) != NULL)
			msg = p + 2;
		web_set(o, "message", msg);
		value_list_append(cp->problems, o);
	}
	if (rep.nproblems > 0)
		compose_error(cp, "body", rep.nproblems == 1 ? "The "
		    "newsletter has a problem: see it beside the text" :
		    "The newsletter has problems: see them beside the text");
	i = rep.nproblems;
	fields_report_clear(&rep);
	return i > 0;
}

static int
compose_save(struct web_req *r, struct compose *cp)
{
	struct store_campaign	 c;
	enum campaign_fail	 fail;
	char			*cause = NULL, url[64];
	int			 rc;

	cp->subject = compose_text(r, cp, "subject", COMPOSE_SUBJECT_MAX, 1,
	    "subject");
	cp->body = compose_text(r, cp, "body", COMPOSE_BODY_MAX, 1,
	    "text of the newsletter");
	cp->template = compose_text(r, cp, "template", COMPOSE_TEMPLATE_MAX,
	    0, "template's name");
	if (cp->id == 0) {
		cp->list = console_field(r, "list");
		if (cp->list == NULL || conf_list_find(r->conf,
		    cp->list) == NULL)
			compose_error(cp, "list", "Choose the list it is for");
	}
	if (value_list_len(cp->errors) > 0)
		return compose_page(r, WEB_HTTP_BAD_REQUEST, cp, NULL);

	memset(&c, 0, sizeof c);
	c.id = cp->id;
	c.list = (char *)cp->list;
	c.subject = (char *)cp->subject;
	c.body = (char *)cp->body;
	c.template = (char *)(*cp->template != '\0' ? cp->template :
	    STORE_CAMPAIGN_TEMPLATE);
	c.created_by = r->who->actor;
	if ((rc = compose_check(r, cp, &c, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 1)
		return compose_page(r, WEB_HTTP_BAD_REQUEST, cp, NULL);

	if (cp->id == 0) {
		if (store_campaign_add(r->store, &c, r->now, &cp->id,
		    &cause) != 0)
			return web_answer_busy(r, cause);
		snprintf(url, sizeof url, "%lld", (long long)cp->id);
		store_event(r->store, "campaign.new", url, cp->list);
	} else if (campaign_edit(r->conf, r->store, cp->id, cp->subject,
	    cp->body, cp->template, r->who->actor, r->now, &fail,
	    &cause) != 0) {
		if (fail == CAMPAIGN_FAIL_STORE)
			return web_answer_busy(r, cause);
		compose_error(cp, "body", cause);
		free(cause);
		return compose_page(r, WEB_HTTP_CONFLICT, cp, NULL);
	}
	snprintf(url, sizeof url, "/campaigns/%lld/edit?saved=1",
	    (long long)cp->id);
	return web_answer_redirect(r, url);
}

int
console_compose(struct web_req *r, const char *arg)
{
	struct store_campaign	 c;
	struct compose		 cp;
	char			*cause = NULL;
	int			 rc, ret;

	memset(&cp, 0, sizeof cp);
	memset(&c, 0, sizeof c);
	cp.subject = cp.body = cp.template = "";
	if (*arg != '\0') {
		if ((cp.id = console_id(arg)) == 0)
			return web_answer_not_found(r);
		if ((rc = store_campaign_get(r->store, cp.id, &c,
		    &cause)) == -1)
			return web_answer_busy(r, cause);
		if (rc == 0)
			return web_answer_not_found(r);
		if (c.status != STORE_CAMPAIGN_DRAFT) {
			store_campaign_clear(&c);
			return web_answer_error_link(r, WEB_HTTP_CONFLICT,
			    "Only a draft can be changed", "This newsletter "
			    "is no longer a draft. A scheduled one can be "
			    "unscheduled first; one that has gone can be "
			    "copied into a new draft.", "/campaigns",
			    "Go to the newsletters");
		}
		cp.list = c.list;
		cp.subject = c.subject;
		cp.body = c.body;
		cp.template = strcmp(c.template, STORE_CAMPAIGN_TEMPLATE) ==
		    0 ? "" : c.template;
	}
	cp.errors = value_new_list();
	cp.problems = value_new_list();
	if (r->method == WEB_POST)
		ret = compose_save(r, &cp);
	else
		ret = compose_page(r, WEB_HTTP_OK, &cp,
		    web_query(r, "saved") != NULL ? "The draft is saved." :
		    web_query(r, "image") != NULL ? "The image is added at "
		    "the end of the text: move its line to where it belongs." :
		    NULL);
	value_free(cp.errors);
	value_free(cp.problems);
	store_campaign_clear(&c);
	return ret;
}

/* --- the preview -------------------------------------------------------- */

/*
 * /campaigns/ID/preview[?as=ADDRESS][&part=text]: the message as the
 * subscriber with that address (else the sample subscriber) would get
 * it, HTML or text, with a test copy's links.
 */
int
console_preview(struct web_req *r, const char *arg)
{
	struct store_campaign	 c;
	struct store_subscriber	 sub;
	struct newsletter_parts	 np;
	struct newsletter	*nl = NULL;
	const struct store_subscriber *who;
	const char		*as, *part;
	char			*cause = NULL;
	int64_t			 id;
	int			 rc, ret;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	memset(&c, 0, sizeof c);
	memset(&sub, 0, sizeof sub);
	memset(&np, 0, sizeof np);
	if ((rc = store_campaign_get(r->store, id, &c, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	who = newsletter_sample();
	if ((as = web_query(r, "as")) != NULL && *as != '\0') {
		if ((rc = store_subscriber_get(r->store, as, &sub,
		    &cause)) == -1) {
			store_campaign_clear(&c);
			return web_answer_busy(r, cause);
		}
		if (rc == 1)
			who = &sub;
	}
	part = web_query(r, "part");
	web_add_header(r, "Content-Security-Policy", COMPOSE_PREVIEW_CSP);
	web_add_header(r, "X-Frame-Options", "SAMEORIGIN");
	if ((nl = newsletter_prepare(r->conf, &c, r->key, &cause)) == NULL ||
	    newsletter_render_parts_test(nl, who, r->now, &np, &cause) != 0) {
		ret = web_answer_body(r, WEB_HTTP_OK,
		    "text/plain; charset=utf-8", cause, strlen(cause));
		free(cause);
	} else if (part != NULL && strcmp(part, "text") == 0)
		ret = web_answer_body(r, WEB_HTTP_OK,
		    "text/plain; charset=utf-8", np.text, strlen(np.text));
	else
		ret = web_answer_body(r, WEB_HTTP_OK,
		    "text/html; charset=utf-8", np.html, strlen(np.html));
	newsletter_parts_clear(&np);
	newsletter_free(nl);
	store_subscriber_clear(&sub);
	store_campaign_clear(&c);
	return ret;
}

/* --- images --------------------------------------------------------------- */

/*
 * POST /campaigns/ID/image (multipart: image, alt): keep the image and
 * add it, with its alt text, at the end of the draft's text.
 */
int
console_image(struct web_req *r, const char *arg)
{
	const struct form_field	*ff;
	struct store_campaign	 c;
	struct media_info	 info;
	struct compose		 cp;
	struct buf		 body;
	enum campaign_fail	 fail;
	const char		*alt;
	char			 name[MEDIA_NAME_MAX], *url, *cause = NULL;
	char			 path[64];
	int			 rc, user_error, ret;

	memset(&cp, 0, sizeof cp);
	memset(&c, 0, sizeof c);
	if ((cp.id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	if ((rc = store_campaign_get(r->store, cp.id, &c, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	cp.list = c.list;
	cp.subject = c.subject;
	cp.body = c.body;
	cp.template = strcmp(c.template, STORE_CAMPAIGN_TEMPLATE) == 0 ? "" :
	    c.template;
	cp.errors = value_new_list();
	cp.problems = value_new_list();

	ff = form_file(r->who->form, "image");
	alt = console_field(r, "alt");
	if (ff == NULL || ff->len == 0)
		compose_error(&cp, "image", "Choose an image to upload");
	if (alt == NULL || *alt == '\0')
		compose_error(&cp, "alt", "Say what the image shows, for "
		    "people who cannot see it");
	else if (strlen(alt) > COMPOSE_ALT_MAX ||
	    strpbrk(alt, "[]\r\n") != NULL)
		compose_error(&cp, "alt", "Keep the description to one line "
		    "of at most 300 characters, without [ or ]");
	if (c.status != STORE_CAMPAIGN_DRAFT)
		compose_error(&cp, "image", "Only a draft can be changed");
	if (value_list_len(cp.errors) > 0) {
		ret = compose_page(r, WEB_HTTP_BAD_REQUEST, &cp, NULL);
		goto out;
	}
	if (media_add(r->conf, r->store, ff->value, ff->len, ff->filename,
	    r->now, name, &info, &user_error, &cause) != 0) {
		if (!user_error) {
			ret = web_answer_busy(r, cause);
			goto out;
		}
		compose_error(&cp, "image", cause);
		free(cause);
		ret = compose_page(r, WEB_HTTP_BAD_REQUEST, &cp, NULL);
		goto out;
	}
	url = media_url(r->conf, name);
	buf_init(&body, 0);
	buf_printf(&body, "%s%s![%s](%s)\n", c.body, c.body[0] != '\0' &&
	    c.body[strlen(c.body) - 1] != '\n' ? "\n\n" : "\n", alt, url);
	free(url);
	rc = campaign_edit(r->conf, r->store, cp.id, NULL, body.data, NULL,
	    r->who->actor, r->now, &fail, &cause);
	buf_free(&body);
	if (rc != 0) {
		if (fail == CAMPAIGN_FAIL_STORE) {
			ret = web_answer_busy(r, cause);
			goto out;
		}
		compose_error(&cp, "image", cause);
		free(cause);
		ret = compose_page(r, WEB_HTTP_CONFLICT, &cp, NULL);
		goto out;
	}
	snprintf(path, sizeof path, "/campaigns/%lld/edit?image=1",
	    (long long)cp.id);
	ret = web_answer_redirect(r, path);
out:
	value_free(cp.errors);
	value_free(cp.problems);
	store_campaign_clear(&c);
	return ret;
}
