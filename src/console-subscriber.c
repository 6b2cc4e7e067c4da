/*
 * console-subscriber.c - people: /subscribers (?q= searches names and
 * addresses, case- and accent-insensitive) and /subscribers/ID (all that
 * is held about one person: memberships with their consent, messages,
 * bounces, enquiries, the audit trail), from the same function as
 * "postroom subscriber show".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console-int.h"
#include "store.h"
#include "value.h"
#include "web-int.h"

#define CONSOLE_FOUND_MAX	100	/* search results shown */

struct console_found {
	struct value	*rows;
	size_t		 n;
};

static int
console_found_one(const struct store_subscriber *sub, void *arg)
{
	struct console_found	*f = arg;
	struct value		*o;

	if (f->n++ >= CONSOLE_FOUND_MAX)
		return 1;
	o = value_new_object();
	value_object_set(o, "id", value_new_int(sub->id));
	web_set(o, "email", sub->email);
	web_set(o, "name", sub->name);
	value_list_append(f->rows, o);
	return 0;
}

int
console_subscribers(struct web_req *r, const char *arg)
{
	struct console_found	 f;
	struct value		*data;
	const char		*q;
	char			*cause = NULL;

	(void)arg;
	data = value_new_object();
	q = web_query(r, "q");
	if (q != NULL && strlen(q) > CONSOLE_QUERY_MAX)
		q = NULL;
	web_set(data, "q", q);
	if (q != NULL && *q != '\0') {
		f.rows = value_new_list();
		f.n = 0;
		value_object_set(data, "results", f.rows);
		if (store_subscriber_find(r->store, q, console_found_one, &f,
		    &cause) == -1) {
			value_free(data);
			return web_answer_busy(r, cause);
		}
		value_object_set(data, "searched", value_new_bool(1));
		value_object_set(data, "count", value_new_int(
		    (int64_t)(f.n > CONSOLE_FOUND_MAX ? CONSOLE_FOUND_MAX :
		    f.n)));
		value_object_set(data, "more", value_new_bool(
		    f.n > CONSOLE_FOUND_MAX));
		value_object_set(data, "none", value_new_bool(f.n == 0));
	}
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_SUBSCRIBERS,
	    "Subscribers", data);
}

int
console_subscriber(struct web_req *r, const char *arg)
{
	struct store_subscriber	 sub;
	struct value		*data;
	char			*cause = NULL;
	int64_t			 id;
	int			 rc;

	if ((id = console_id(arg)) == 0)
		return web_answer_not_found(r);
	if ((rc = store_subscriber_get_id(r->store, id, &sub, &cause)) == -1)
		return web_answer_busy(r, cause);
	if (rc == 0)
		return web_answer_not_found(r);
	data = store_subscriber_person(r->store, sub.email, &cause);
	store_subscriber_clear(&sub);
	if (data == NULL)
		return web_answer_busy(r, cause);
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_SUBSCRIBER,
	    "Subscriber", data);
}
