/*
 * console-admin.c - for admins: /audit (the audit log, newest first:
 * who did what, when) and /users (the staff accounts).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console-int.h"
#include "store.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define CONSOLE_AUDIT_DAYS	7	/* shown by default */
#define CONSOLE_AUDIT_SHOWN	500

struct console_audit {
	struct web_req	 *r;
	struct value	**rows;		/* a ring of the newest */
	size_t		  n;
};

static int
console_audit_one(const struct store_event_row *ev, void *arg)
{
	struct console_audit	*a = arg;
	struct value		*o, **slot;
	char			 when[64];

	o = value_new_object();
	console_time(a->r, ev->at, when, sizeof when);
	web_set(o, "when", when);
	web_set(o, "actor", *ev->actor != '\0' ? ev->actor : "postroom");
	web_set(o, "kind", ev->kind);
	web_set(o, "subject", ev->subject);
	web_set(o, "detail", ev->detail);
	slot = &a->rows[a->n++ % CONSOLE_AUDIT_SHOWN];
	value_free(*slot);
	*slot = o;
	return 0;
}

int
console_audit(struct web_req *r, const char *arg)
{
	struct console_audit	 a;
	struct value		*data, *list;
	char			*cause = NULL;
	size_t			 i, k;

	(void)arg;
	a.r = r;
	a.n = 0;
	a.rows = xcalloc(CONSOLE_AUDIT_SHOWN, sizeof *a.rows);
	if (store_events_each(r->store, r->now - CONSOLE_AUDIT_DAYS * 86400,
	    console_audit_one, &a, &cause) != 0) {
		for (i = 0; i < CONSOLE_AUDIT_SHOWN; i++)
			value_free(a.rows[i]);
		free(a.rows);
		return web_answer_busy(r, cause);
	}
	data = value_new_object();
	list = value_new_list();
	k = a.n < CONSOLE_AUDIT_SHOWN ? a.n : CONSOLE_AUDIT_SHOWN;
	for (i = 0; i < k; i++)
		value_list_append(list,
		    a.rows[(a.n - 1 - i) % CONSOLE_AUDIT_SHOWN]);
	free(a.rows);
	value_object_set(data, "events", list);
	value_object_set(data, "days", value_new_int(CONSOLE_AUDIT_DAYS));
	value_object_set(data, "none", value_new_bool(a.n == 0));
	value_object_set(data, "more", value_new_bool(a.n > k));
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_AUDIT,
	    "Audit log", data);
}

static int
console_users_one(const struct store_user *u, void *arg)
{
	struct value	*rows = arg, *o;

	o = value_new_object();
	web_set(o, "email", u->email);
	web_set(o, "name", u->name);
	web_set(o, "role", u->role);
	web_set(o, "lead", u->lead);
	value_object_set(o, "totp", value_new_bool(u->has_totp));
	value_object_set(o, "disabled", value_new_bool(u->disabled));
	value_list_append(rows, o);
	return 0;
}

int
console_users(struct web_req *r, const char *arg)
{
	struct value	*data, *rows;
	char		*cause = NULL;

	(void)arg;
	data = value_new_object();
	rows = value_new_list();
	value_object_set(data, "users", rows);
	if (store_user_each(r->store, console_users_one, rows, &cause) != 0) {
		value_free(data);
		return web_answer_busy(r, cause);
	}
	return console_answer_page(r, WEB_HTTP_OK, CONSOLE_PAGE_USERS,
	    "Staff accounts", data);
}
