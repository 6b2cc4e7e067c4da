/*
 * console-int.h - what console.c shares with the console's page files
 * (console-*.c): who is signed in, the pages, and the page functions
 * its route table names.
 *
 * console.c decides, before any page runs, that the request may be
 * served: a live session (else 303 to /login), a role the route allows
 * (else 403), and for a POST the session's CSRF token in the form's
 * "csrf" field (else 403, nothing changed).  A page then only does its
 * work, through the core (store, campaign, subscriber, enquiry and user
 * functions) as the CLI does, and answers with console_answer_page().
 */
#ifndef POSTROOM_CONSOLE_INT_H
#define POSTROOM_CONSOLE_INT_H

#include <stdint.h>

#include "session.h"
#include "store.h"
#include "user.h"

struct form;
struct value;
struct web_req;

#define CONSOLE_COOKIE		"postroom_session"
#define CONSOLE_LOGIN_COOKIE	"postroom_login"	/* the login form's */
#define CONSOLE_MAX_BODY	(20 * 1024 * 1024 - 1)	/* refused early */
#define CONSOLE_QUERY_MAX	200	/* bytes of a search (?q=) */
#define CONSOLE_ARG_MAX		256	/* bytes of a URL's "*" segment */

/* Roles, as bits of a route's allowed set. */
#define CONSOLE_ADMIN	0x01
#define CONSOLE_EDITOR	0x02
#define CONSOLE_VIEWER	0x04
#define CONSOLE_LEAD	0x08
#define CONSOLE_STAFF	(CONSOLE_ADMIN | CONSOLE_EDITOR | CONSOLE_VIEWER)
#define CONSOLE_ALL	(CONSOLE_STAFF | CONSOLE_LEAD)
#define CONSOLE_WRITERS	(CONSOLE_ADMIN | CONSOLE_EDITOR)
#define CONSOLE_ANYONE	0x100	/* signed out too (the login page) */

/* Who is signed in, for the request (web_req's who). */
struct console_who {
	struct store_user	 user;
	struct session		 ss;
	int			 role;		/* one CONSOLE_* bit */
	char			 sid[SESSION_ID_LEN + 1];
	char			 csrf[SESSION_CSRF_LEN + 1];
	char			 actor[32];	/* "user:ID", for the audit */
	struct form		*form;		/* a POST's, read and checked */
};

/* The pages, each a file in general.templates/console/. */
enum console_page {
	CONSOLE_PAGE_LOGIN,
	CONSOLE_PAGE_DASHBOARD,
	CONSOLE_PAGE_CAMPAIGNS,
	CONSOLE_PAGE_CAMPAIGN,
	CONSOLE_PAGE_SUBSCRIBERS,
	CONSOLE_PAGE_SUBSCRIBER,
	CONSOLE_PAGE_ENQUIRIES,
	CONSOLE_PAGE_ENQUIRY,
	CONSOLE_PAGE_LISTS,
	CONSOLE_PAGE_AUDIT,
	CONSOLE_PAGE_USERS,
	CONSOLE_PAGE_COMPOSE,
	CONSOLE_PAGE_SEND,
	CONSOLE_PAGE_PROGRESS,
	CONSOLE_PAGE_ERROR,
	CONSOLE_NPAGES
};

/*
 * page in the layout, with data (consumed), title, and the signed-in
 * person's name, role, navigation and CSRF token for its forms.
 */
int	 console_answer_page(struct web_req *, unsigned int status,
	    enum console_page page, const char *title, struct value *data);
/* The form's field, or NULL (POST only: console.c has read it). */
const char *console_field(struct web_req *, const char *name);
/* A row id in a URL ("12", "12/edit"): 12, or 0 for anything else. */
int64_t	 console_id(const char *s);
/* A time as the network reads it (general.timezone), into out. */
void	 console_time(struct web_req *, int64_t t, char *out, size_t size);
/* Local midnight (general.timezone) of the day holding now. */
int64_t	 console_today(struct web_req *);

/* console-signin.c */
int	 console_login(struct web_req *, const char *);
int	 console_logout(struct web_req *, const char *);
/* console-home.c */
int	 console_dashboard(struct web_req *, const char *);
int	 console_lists(struct web_req *, const char *);
/* console-campaign.c */
struct store_campaign;
/*
 * A campaign as the dashboard and /campaigns list it: id, subject, the
 * list's name, status, and when (scheduled for, else finished, started
 * or last changed).
 */
struct value *console_campaign_row(struct web_req *,
	    const struct store_campaign *);
int	 console_campaigns(struct web_req *, const char *);
int	 console_campaign(struct web_req *, const char *id);
/* Campaign id's page, with status and an error (NULL: none) on it. */
int	 console_campaign_show(struct web_req *, int64_t id,
	    unsigned int status, const char *error);
int	 console_campaign_failures(struct web_req *, const char *id);
int	 console_campaign_progress(struct web_req *, const char *id);
int	 console_campaign_progress_json(struct web_req *, const char *id);
/* console-campaign-act.c */
int	 console_campaign_act(struct web_req *, const char *id);
int	 console_campaign_ask(struct web_req *, const char *id);
/* console-compose.c */
int	 console_compose(struct web_req *, const char *id);
int	 console_preview(struct web_req *, const char *id);
int	 console_image(struct web_req *, const char *id);
/* console-subscriber.c */
int	 console_subscribers(struct web_req *, const char *);
int	 console_subscriber(struct web_req *, const char *id);
/* console-enquiry.c */
int	 console_enquiries(struct web_req *, const char *);
int	 console_enquiry(struct web_req *, const char *reference);
/* console-admin.c */
int	 console_audit(struct web_req *, const char *);
int	 console_users(struct web_req *, const char *);
/*
 * console-enquiry.c: acting on an enquiry (POST, the form's fields:
 * answered "yes" or "no"; lead and note), and one of its attachments
 * (GET, REFERENCE/attachments/N, N from 1).
 */
int	 console_enquiry_answered(struct web_req *, const char *arg);
int	 console_enquiry_reroute(struct web_req *, const char *arg);
int	 console_enquiry_attachment(struct web_req *, const char *arg);
/*
 * console-parse.c: raw[0..len) parsed in the console's confined parser
 * child (parser.h), with attachment part's bytes (MIME_PARSE_NO_PART
 * for none).  *out is always set (MESSAGE_FAILED when it could not be
 * read; the caller frees it); -1 with *cause when no child could start.
 */
struct message;
int	 console_parse(struct web_req *, const char *raw, size_t len,
	    size_t part, struct message **out, char **cause);

#endif
