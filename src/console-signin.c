/*
 * console-signin.c - /login and /logout.
 *
 * The login form is itself protected from forgery (a page elsewhere
 * signing a browser in to the forger's account): GET /login gives the
 * browser a random postroom_login cookie, and the form's csrf field is
 * bound to it as a session's token is to the session.  A sign-in makes a
 * new session whatever the browser had (signin.c); the answer to a wrong
 * address, password or code is one and the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "conf.h"
#include "console-int.h"
#include "form.h"
#include "hex.h"
#include "log.h"
#include "session.h"
#include "signin.h"
#include "value.h"
#include "web-int.h"
#include "xmalloc.h"

#define CONSOLE_SIGNIN_RETRY	"900"	/* Retry-After when throttled */

/* "; Secure" when the console is reached over https. */
static const char *
console_secure(struct web_req *r)
{
	return strncmp(r->conf->console.base_url, "https://", 8) == 0 ?
	    "; Secure" : "";
}

/* Set cookie name to value for the whole console (value "": delete it). */
static void
console_cookie(struct web_req *r, const char *name, const char *value)
{
	char	*c;

	c = xprintf("%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", name,
	    value, console_secure(r), *value == '\0' ? "; Max-Age=0" : "");
	web_add_header(r, "Set-Cookie", c);
	free(c);
}

/*
 * The login page, with a new login cookie and its token; email is kept,
 * never the password.  error NULL: none; code: the one-time code's field
 * is what needs attention.
 */
static int
console_login_page(struct web_req *r, unsigned int status, const char *email,
    const char *error, int code)
{
	struct value	*data;
	unsigned char	 raw[32];
	char		 id[2 * sizeof raw + 1], csrf[SESSION_CSRF_LEN + 1];

	if (RAND_bytes(raw, sizeof raw) != 1)
		return web_answer_busy(r, xstrdup("no random bytes for the "
		    "login form"));
	hex_encode(raw, sizeof raw, id);
	session_csrf(r->key, id, csrf);
	console_cookie(r, CONSOLE_LOGIN_COOKIE, id);
	data = value_new_object();
	web_set(data, "csrf", csrf);
	web_set(data, "email", email);
	if (error != NULL) {
		web_set(data, "error", error);
		web_set(data, "error_field", code ? "code" : "email");
	}
	return console_answer_page(r, status, CONSOLE_PAGE_LOGIN, "Sign in",
	    data);
}

int
console_login(struct web_req *r, const char *arg)
{
	struct form		 f;
	struct signin		 in;
	enum signin_result	 res;
	const char		*login, *csrf, *email;
	char			 sid[SESSION_ID_LEN + 1], *cause = NULL;
	int64_t			 uid;
	int			 ret;

	(void)arg;
	if (r->method == WEB_GET) {
		if (r->who != NULL)
			return web_answer_redirect(r, "/");
		return console_login_page(r, WEB_HTTP_OK, "", NULL, 0);
	}
	memset(&f, 0, sizeof f);
	if (web_read_form(r, &f, &ret) != 0)
		return ret;
	email = form_get(&f, "email");
	if (email == NULL)
		email = "";
	login = web_cookie(r, CONSOLE_LOGIN_COOKIE);
	csrf = form_get(&f, "csrf");
	if (login == NULL || csrf == NULL ||
	    !session_csrf_ok(r->key, login, csrf)) {
		log_info("console: POST /login from %s: no or wrong form "
		    "token", r->client);
		ret = console_login_page(r, WEB_HTTP_FORBIDDEN, email,
		    "The sign-in form had expired or was not sent from this "
		    "console. Please sign in again.", 0);
		form_free(&f);
		return ret;
	}
	memset(&in, 0, sizeof in);
	in.email = email;
	in.password = form_get(&f, "password") != NULL ?
	    form_get(&f, "password") : "";
	in.code = form_get(&f, "code");
	in.client = r->client_key;
	in.key = r->key;
	in.admin_totp = r->conf->console.admin_totp;
	in.now = r->now;
	if (signin_try(r->store, &in, &res, sid, &uid, &cause) != 0) {
		form_free(&f);
		return web_answer_busy(r, cause);
	}
	switch (res) {
	case SIGNIN_OK:
		log_info("console: signed in user %lld from %s",
		    (long long)uid, r->client);
		console_cookie(r, CONSOLE_LOGIN_COOKIE, "");
		console_cookie(r, CONSOLE_COOKIE, sid);
		explicit_bzero(sid, sizeof sid);
		ret = web_answer_redirect(r, "/");
		break;
	case SIGNIN_NEED_CODE:
		ret = console_login_page(r, WEB_HTTP_OK, email, "Enter the "
		    "6-digit code from your authenticator app, with your "
		    "password again.", 1);
		break;
	case SIGNIN_NEED_TOTP:
		ret = console_login_page(r, WEB_HTTP_FORBIDDEN, email,
		    "Administrators must sign in with a one-time code, and "
		    "your account has none yet. Ask another administrator "
		    "to run: postroom user totp with your address.", 0);
		break;
	case SIGNIN_THROTTLED:
		web_add_header(r, "Retry-After", CONSOLE_SIGNIN_RETRY);
		ret = console_login_page(r, WEB_HTTP_TOO_MANY_REQUESTS, email,
		    "There have been too many attempts to sign in. Wait 15 "
		    "minutes, then try again.", 0);
		break;
	default:
		log_info("console: sign-in refused from %s", r->client);
		ret = console_login_page(r, WEB_HTTP_FORBIDDEN, email,
		    "The email address, password or code is not right. "
		    "Check them and try again.", 0);
		break;
	}
	form_free(&f);
	return ret;
}

int
console_logout(struct web_req *r, const char *arg)
{
	char	*cause = NULL;

	(void)arg;
	if (session_end(r->store, r->who->sid, &cause) != 0)
		return web_answer_busy(r, cause);
	store_event_by(r->store, r->who->actor, "user.signout",
	    r->who->user.email, NULL);
	console_cookie(r, CONSOLE_COOKIE, "");
	return web_answer_redirect(r, "/login");
}
