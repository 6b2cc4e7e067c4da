/*
 * source-imap.c - inbound mail from an IMAP mailbox, pushed by IDLE.
 *
 * Owns: the IMAP conversation (libetpan; one of the two files that include
 * it): connecting with implicit TLS (imaps://) or STARTTLS (imap://,
 * required unless inbound.starttls = "off"), checking the server's
 * certificate chain and name before LOGIN (Debian's libetpan, built on
 * GnuTLS, checks neither; crypto.c decides), LOGIN, SELECT, UID SEARCH for
 * what is new, UID FETCH BODY.PEEK[] under the size cap, IDLE (renewed
 * after inbound.idle_timeout, well inside the 29 minutes RFC 2177 allows),
 * polling every inbound.poll_interval seconds when the server has no IDLE,
 * reconnecting with exponential backoff, and filing a handled message:
 * UID MOVE to inbound.routed_folder (created when missing), or COPY +
 * \Deleted + UID EXPUNGE when the server has no MOVE, or only \Seen when
 * routed_folder is empty.  Also where the source is up to in the mailbox
 * (the imap_state row, through store-imap.c on a connection of its own).
 * Does not own: what a message says or where it goes (the caller).
 *
 * Nothing is lost.  next() hands a message out; only done(), called once
 * the caller has recorded it, files it away.  last_uid, the UID at or
 * below which everything is handled, moves only when every lower UID that
 * was found is done (or gone from the mailbox), so a crash, a failed
 * record or a dropped connection means the message is handed out again,
 * never skipped; the caller dedups by Message-ID.  A UID handed out and
 * not done is handed out again after inbound.poll_interval seconds.  When
 * UIDVALIDITY changes, every message in the mailbox is handed out again.
 *
 * Every call blocks for at most inbound.timeout seconds per IMAP command.
 * fd() is the connection while IDLE is running (readable: the server has
 * news), timeout() says when next() has timed work (renew IDLE, retry,
 * poll).  done() writes the position on the source's own database
 * connection: call it after committing the record, not inside a
 * transaction.  Without MOVE or UIDPLUS the original is left marked
 * \Deleted for the mailbox's owner to expunge (a plain EXPUNGE would take
 * other people's deleted mail too).
 */
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "conf.h"
#include "crypto.h"
#include "log.h"
#include "monotime.h"
#include "source.h"
#include "store.h"
#include "xmalloc.h"

#define SOURCE_IMAP_BACKOFF_MIN	1000		/* ms */
#define SOURCE_IMAP_BACKOFF_MAX	300000		/* ms: five minutes */

enum source_imap_state {
	SOURCE_IMAP_DOWN,	/* no connection; retry at retry_at */
	SOURCE_IMAP_READY,	/* mailbox selected, no command running */
	SOURCE_IMAP_IDLING,	/* IDLE sent, waiting for news */
};

/* A UID handed out and not yet done. */
struct source_imap_out {
	uint32_t	 uid;
	int64_t		 at;		/* when (ms), for the retry */
	int		 gone;		/* no longer in the mailbox */
};

/* A sorted, duplicate-free set of UIDs. */
struct source_imap_set {
	uint32_t	*v;
	size_t		 n;
	size_t		 cap;
};

struct source {
	/* The configuration. */
	char		*url;		/* for messages: imaps://host:port */
	char		*host;		/* as in the URL ("[::1]" kept) */
	char		*connect_host;	/* without brackets */
	uint16_t	 port;
	int		 tls;		/* implicit TLS */
	int		 starttls;	/* imap:// with STARTTLS */
	int		 verify;
	char		*ca_file;
	char		*user;
	char		*password;
	char		*mailbox;
	char		*routed;	/* "": flag \Seen only */
	char		*account;	/* the imap_state key */
	uint32_t	 max_size;
	int64_t		 idle_ms;
	int64_t		 poll_ms;
	int		 timeout;	/* seconds */

	struct store	*store;

	/* The connection. */
	mailimap	*imap;
	enum source_imap_state state;
	int		 has_idle;
	int		 idle_refused;	/* IDLE advertised but refused: poll */
	int		 has_move;
	int		 has_uidplus;
	int64_t		 idle_since;
	int64_t		 retry_at;	/* DOWN: next connection attempt */
	int64_t		 backoff;	/* ms; 0 after a good session */
	int64_t		 poll_at;	/* no IDLE: next search */
	int		 stale;		/* something may be new: search */

	/* Where we are in the mailbox. */
	uint32_t	 uidvalidity;
	uint32_t	 last_uid;	/* everything <= is handled */
	uint32_t	 high;		/* highest UID seen by a search */
	struct source_imap_set queue;	/* found, not yet handed out */
	struct source_imap_set done;	/* done, above last_uid */
	struct source_imap_set copied;	/* COPY made, \Deleted not yet */
	struct source_imap_out *out;	/* handed out, not done */
	size_t		 nout;
	size_t		 cout;
};

/* --- small helpers ------------------------------------------------------ */

static int
source_imap_set_find(const struct source_imap_set *set, uint32_t uid,
    size_t *at)
{
	size_t	lo = 0, hi = set->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (set->v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < set->n && set->v[lo] == uid;
}

static void
source_imap_set_add(struct source_imap_set *set, uint32_t uid)
{
	size_t	at;

	if (source_imap_set_find(set, uid, &at))
		return;
	if (set->n == set->cap) {
		set->cap = set->cap != 0 ? set->cap * 2 : 16;
		set->v = xreallocarray(set->v, set->cap, sizeof *set->v);
	}
	memmove(set->v + at + 1, set->v + at, (set->n - at) * sizeof *set->v);
	set->v[at] = uid;
	set->n++;
}

static int
source_imap_set_has(const struct source_imap_set *set, uint32_t uid)
{
	size_t	at;

	return source_imap_set_find(set, uid, &at);
}

static void
source_imap_set_del(struct source_imap_set *set, uint32_t uid)
{
	size_t	at;

	if (!source_imap_set_find(set, uid, &at))
		return;
	memmove(set->v + at, set->v + at + 1,
	    (set->n - at - 1) * sizeof *set->v);
	set->n--;
}

/* Drop every UID <= uid. */
static void
source_imap_set_trim(struct source_imap_set *set, uint32_t uid)
{
	size_t	at;

	if (source_imap_set_find(set, uid, &at))
		at++;
	memmove(set->v, set->v + at, (set->n - at) * sizeof *set->v);
	set->n -= at;
}

static struct source_imap_out *
source_imap_out_find(struct source *s, uint32_t uid)
{
	size_t	i;

	for (i = 0; i < s->nout; i++) {
		if (s->out[i].uid == uid)
			return &s->out[i];
	}
	return NULL;
}

static void
source_imap_out_del(struct source *s, uint32_t uid)
{
	size_t	i;

	for (i = 0; i < s->nout; i++) {
		if (s->out[i].uid == uid) {
			s->out[i] = s->out[--s->nout];
			return;
		}
	}
}

static void
source_imap_out_add(struct source *s, uint32_t uid, int64_t now)
{
	struct source_imap_out	*o;

	if ((o = source_imap_out_find(s, uid)) == NULL) {
		if (s->nout == s->cout) {
			s->cout = s->cout != 0 ? s->cout * 2 : 8;
			s->out = xreallocarray(s->out, s->cout, sizeof *s->out);
		}
		o = &s->out[s->nout++];
	}
	o->uid = uid;
	o->at = now;
	o->gone = 0;
}

static const char *
source_imap_strerror(int r)
{
	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		return "connection lost";
	case MAILIMAP_ERROR_PARSE:
		return "unparseable reply";
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
		return "cannot connect";
	case MAILIMAP_ERROR_MEMORY:
		return "out of memory";
	case MAILIMAP_ERROR_FATAL:
		return "server said BYE";
	case MAILIMAP_ERROR_PROTOCOL:
		return "protocol error";
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
		return "server refused the connection";
	case MAILIMAP_ERROR_BAD_STATE:
		return "command not allowed now";
	case MAILIMAP_ERROR_SSL:
		return "TLS handshake failed";
	case MAILIMAP_ERROR_STARTTLS:
		return "STARTTLS failed";
	case MAILIMAP_ERROR_LOGIN:
		return "LOGIN refused";
	default:
		return "command failed";
	}
}

/*
 * "what: why (server: text)": the server's own words, when it said any,
 * with control characters masked (they come from the network).
 */
static void
source_imap_cause(struct source *s, char **cause, int r, const char *what)
{
	const char	*text = NULL;
	char		*clean = NULL, *p;

	/* Only a command the server refused has words of its own. */
	if (s->imap != NULL && s->imap->imap_response != NULL &&
	    *s->imap->imap_response != '\0' && r != MAILIMAP_ERROR_STREAM &&
	    r != MAILIMAP_ERROR_CONNECTION_REFUSED &&
	    r != MAILIMAP_ERROR_PARSE && r != MAILIMAP_ERROR_MEMORY &&
	    r != MAILIMAP_ERROR_SSL && r != MAILIMAP_ERROR_BAD_STATE)
		text = s->imap->imap_response;
	if (text != NULL) {
		clean = xstrndup(text, 200);
		for (p = clean; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		}
		xasprintf(cause, "%s: %s: %s (server: %s)", s->url, what,
		    source_imap_strerror(r), clean);
		free(clean);
	} else
		xasprintf(cause, "%s: %s: %s", s->url, what,
		    source_imap_strerror(r));
}

/* --- where we are ------------------------------------------------------- */

/* Write uidvalidity and last_uid; a failure is logged, not fatal. */
static void
source_imap_save(struct source *s)
{
	char	*cause = NULL;

	if (store_imap_set(s->store, s->account, s->mailbox, s->uidvalidity,
	    s->last_uid, &cause) == -1) {
		/*
		 * Only the position is lost: the messages below it were filed
		 * (moved, or flagged and remembered here), so they are at
		 * worst handed out once more after a restart.
		 */
		log_warn("%s: saving the IMAP position: %s", s->url, cause);
		free(cause);
	}
}

/*
 * Move last_uid up to just below the lowest UID still waiting (queued or
 * handed out), or to the highest UID seen when nothing waits.
 */
static void
source_imap_advance(struct source *s)
{
	uint32_t	low = s->high;
	size_t		i;

	if (s->queue.n > 0 && s->queue.v[0] - 1 < low)
		low = s->queue.v[0] - 1;
	for (i = 0; i < s->nout; i++) {
		if (!s->out[i].gone && s->out[i].uid - 1 < low)
			low = s->out[i].uid - 1;
	}
	if (low <= s->last_uid)
		return;
	log_debug("%s: last UID %" PRIu32 " -> %" PRIu32, s->url, s->last_uid,
	    low);
	s->last_uid = low;
	source_imap_set_trim(&s->done, low);
	source_imap_save(s);
}

/* Forget everything about the mailbox's UIDs (UIDVALIDITY changed). */
static void
source_imap_forget(struct source *s)
{
	s->queue.n = 0;
	s->done.n = 0;
	s->copied.n = 0;
	s->nout = 0;
	s->last_uid = 0;
	s->high = 0;
}

/* --- the connection ----------------------------------------------------- */

/* The one place the connection's state changes. */
static void
source_imap_enter(struct source *s, enum source_imap_state state)
{
	static const char *const names[] = { "down", "ready", "idling" };

	if (s->state != state)
		log_debug("%s: %s -> %s", s->url, names[s->state],
		    names[state]);
	s->state = state;
}

static void
source_imap_drop(struct source *s)
{
	if (s->imap != NULL) {
		mailimap_free(s->imap);
		s->imap = NULL;
	}
	source_imap_enter(s, SOURCE_IMAP_DOWN);
	/*
	 * The queue stays: its UIDs still count as waiting (last_uid must
	 * not pass them), and the next search finds them again anyway.
	 */
	if (s->backoff == 0)
		s->backoff = SOURCE_IMAP_BACKOFF_MIN;
	else if ((s->backoff *= 2) > SOURCE_IMAP_BACKOFF_MAX)
		s->backoff = SOURCE_IMAP_BACKOFF_MAX;
	s->retry_at = monotime_ms() + s->backoff;
}

/* A failure on the connection: drop it and say when we try again. */
static int
source_imap_fail(struct source *s, char **cause, int r, const char *what)
{
	char	*c;

	source_imap_cause(s, &c, r, what);
	source_imap_drop(s);
	xasprintf(cause, "%s; reconnecting in %" PRId64 " s", c,
	    (s->backoff + 999) / 1000);
	free(c);
	return -1;
}

static int
source_imap_is_ip(const char *host)
{
	unsigned char	addr[16];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * At log level debug, the conversation: what we sent ("C:") and what came
 * back ("S:"), at most 8 lines of each read and 200 bytes of a line, never
 * the password (libetpan marks it private).
 */
static void
source_imap_trace(mailimap *imap, int type, const char *str, size_t size,
    void *arg)
{
	struct source	*s = arg;
	const char	*who, *end = str + size, *eol;
	char		*line, *p;
	size_t		 n;
	int		 lines = 0;

	switch (type) {
	case MAILSTREAM_LOG_TYPE_DATA_RECEIVED:
		who = "S";
		break;
	case MAILSTREAM_LOG_TYPE_DATA_SENT:
		who = "C";
		break;
	case MAILSTREAM_LOG_TYPE_DATA_SENT_PRIVATE:
		log_debug("%s: C: (the password)", s->url);
		return;
	default:
		return;
	}
	while (str < end) {
		if (++lines > 8) {
			log_debug("%s: %s: ...", s->url, who);
			return;
		}
		if ((eol = memchr(str, '\n', (size_t)(end - str))) == NULL)
			eol = end;
		n = (size_t)(eol - str);
		if (n > 0 && str[n - 1] == '\r')
			n--;
		line = xstrndup(str, n < 200 ? n : 200);
		for (p = line; *p != '\0'; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		}
		log_debug("%s: %s: %s%s", s->url, who, line,
		    n > 200 ? " ..." : "");
		free(line);
		str = eol < end ? eol + 1 : end;
	}
}

/* libetpan's TLS set-up hook: send the name we want (SNI). */
static void
source_imap_tls_setup(struct mailstream_ssl_context *ctx, void *arg)
{
	struct source	*s = arg;

	if (!source_imap_is_ip(s->connect_host))
		mailstream_ssl_set_server_name(ctx, s->connect_host);
}

/* Check the certificate chain the server sent against our trust. */
static int
source_imap_verify(struct source *s, char **cause)
{
	carray			*chain;
	struct crypto_der	*der;
	MMAPString		*str;
	unsigned int		 i, n;
	char			*why = NULL;
	int			 rc;

	if ((chain = mailstream_get_certificate_chain(s->imap->imap_stream))
	    == NULL) {
		xasprintf(cause, "%s: no certificate from the server", s->url);
		return -1;
	}
	n = carray_count(chain);
	der = xcalloc(n > 0 ? n : 1, sizeof *der);
	for (i = 0; i < n; i++) {
		str = carray_get(chain, i);
		der[i].data = (const unsigned char *)str->str;
		der[i].len = str->len;
	}
	rc = crypto_verify_chain(der, n, s->host, s->ca_file, &why);
	free(der);
	mailstream_certificate_chain_free(chain);
	if (rc == -1) {
		xasprintf(cause, "%s: refusing the server: %s (give its CA in "
		    "inbound.ca_file, or set inbound.verify_cert = false to "
		    "skip the check)", s->url, why);
		free(why);
	}
	return rc;
}

static void
source_imap_capabilities(struct source *s)
{
	struct mailimap_capability_data	*cap = NULL;

	/* LOGIN's reply usually carried them; ask when it did not. */
	if (s->imap->imap_connection_info == NULL ||
	    s->imap->imap_connection_info->imap_capability == NULL) {
		if (mailimap_capability(s->imap, &cap) == MAILIMAP_NO_ERROR)
			mailimap_capability_data_free(cap);
	}
	s->has_idle = mailimap_has_idle(s->imap) && !s->idle_refused;
	s->has_move = mailimap_has_extension(s->imap, "MOVE");
	s->has_uidplus = mailimap_has_extension(s->imap, "UIDPLUS");
}

/* Create the routed folder unless LIST finds it. */
static int
source_imap_routed_folder(struct source *s, char **cause, int *permanent)
{
	clist	*list = NULL;
	int	 r, found;

	if (*s->routed == '\0')
		return 0;
	r = mailimap_list(s->imap, "", s->routed, &list);
	if (r != MAILIMAP_NO_ERROR) {
		*permanent = r != MAILIMAP_ERROR_STREAM;
		source_imap_cause(s, cause, r, "LIST");
		return -1;
	}
	found = clist_count(list) > 0;
	mailimap_list_result_free(list);
	if (found)
		return 0;
	if ((r = mailimap_create(s->imap, s->routed)) != MAILIMAP_NO_ERROR) {
		*permanent = r != MAILIMAP_ERROR_STREAM;
		source_imap_cause(s, cause, r, "CREATE routed folder");
		return -1;
	}
	log_info("%s: created folder %s", s->url, s->routed);
	return 0;
}

/*
 * Connect, secure, check, log in, select.  On failure *permanent says
 * whether it is worth more than a retry (a certificate refused, a login
 * refused, a missing mailbox) or just a server away (refused, timed out).
 */
static int
source_imap_connect(struct source *s, char **cause, int *permanent)
{
	struct mailimap_capability_data	*cap = NULL;
	int64_t				 uv, last;
	int				 r, greeting, found;
	char				*c = NULL;

	*permanent = 0;
	s->imap = mailimap_new(0, NULL);
	if (s->imap == NULL)
		fatalx("mailimap_new: out of memory");
	mailimap_set_timeout(s->imap, (time_t)s->timeout);
	if (log_get_level() >= LOGL_DEBUG)
		mailimap_set_logger(s->imap, source_imap_trace, s);

	/* Step 1: connect, with TLS from the start or after STARTTLS. */
	if (s->tls)
		r = mailimap_ssl_connect_with_callback(s->imap, s->connect_host,
		    s->port, source_imap_tls_setup, s);
	else
		r = mailimap_socket_connect(s->imap, s->connect_host, s->port);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		*permanent = s->tls && r == MAILIMAP_ERROR_SSL;
		source_imap_cause(s, cause, r, "connect");
		goto fail;
	}
	greeting = r;
	if (s->starttls && greeting == MAILIMAP_NO_ERROR_AUTHENTICATED) {
		/* PREAUTH: STARTTLS is no longer possible (RFC 3501 6.2.1). */
		*permanent = 1;
		xasprintf(cause, "%s: the server pre-authenticated the "
		    "connection, so STARTTLS cannot be used; refusing it",
		    s->url);
		goto fail;
	}
	if (s->starttls) {
		if (!mailimap_has_extension(s->imap, "STARTTLS") &&
		    (r = mailimap_capability(s->imap, &cap)) !=
		    MAILIMAP_NO_ERROR) {
			source_imap_cause(s, cause, r, "CAPABILITY");
			goto fail;
		}
		if (cap != NULL)
			mailimap_capability_data_free(cap);
		if (!mailimap_has_extension(s->imap, "STARTTLS")) {
			*permanent = 1;
			xasprintf(cause, "%s: the server does not offer "
			    "STARTTLS, and inbound.starttls is \"required\" "
			    "(use imaps://, or starttls = \"off\" only for a "
			    "server on this machine)", s->url);
			goto fail;
		}
		r = mailimap_socket_starttls_with_callback(s->imap,
		    source_imap_tls_setup, s);
		if (r != MAILIMAP_NO_ERROR) {
			*permanent = 1;
			source_imap_cause(s, cause, r, "STARTTLS");
			goto fail;
		}
		/* What was said before TLS is not to be trusted. */
		if (s->imap->imap_connection_info != NULL &&
		    s->imap->imap_connection_info->imap_capability != NULL) {
			mailimap_capability_data_free(
			    s->imap->imap_connection_info->imap_capability);
			s->imap->imap_connection_info->imap_capability = NULL;
		}
	}

	/* Step 2: is this the server we meant?  Before any password. */
	if ((s->tls || s->starttls) && s->verify &&
	    source_imap_verify(s, cause) == -1) {
		*permanent = 1;
		goto fail;
	}

	/* Step 3: log in (unless the server pre-authenticated us). */
	if (greeting != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		r = mailimap_login(s->imap, s->user, s->password);
		if (r != MAILIMAP_NO_ERROR) {
			*permanent = r != MAILIMAP_ERROR_STREAM;
			xasprintf(&c, "LOGIN as %s", s->user);
			source_imap_cause(s, cause, r, c);
			free(c);
			goto fail;
		}
	}
	source_imap_capabilities(s);

	/* Step 4: the folder routed mail goes to, then the mailbox. */
	if (source_imap_routed_folder(s, cause, permanent) == -1)
		goto fail;
	if ((r = mailimap_select(s->imap, s->mailbox)) != MAILIMAP_NO_ERROR) {
		*permanent = r != MAILIMAP_ERROR_STREAM;
		xasprintf(&c, "SELECT %s", s->mailbox);
		source_imap_cause(s, cause, r, c);
		free(c);
		goto fail;
	}

	/* Step 5: the same mailbox as last time, or a new start? */
	s->imap->imap_selection_info->sel_has_exists = 0;
	uv = s->imap->imap_selection_info->sel_uidvalidity;
	if (uv == 0) {
		*permanent = 1;
		xasprintf(cause, "%s: SELECT %s gave no UIDVALIDITY", s->url,
		    s->mailbox);
		goto fail;
	}
	if (s->uidvalidity == 0) {
		found = store_imap_get(s->store, s->account, s->mailbox, &uv,
		    &last, &c);
		if (found == -1) {
			xasprintf(cause, "%s: reading the IMAP position: %s",
			    s->url, c);
			free(c);
			goto fail;
		}
		if (found == 1 && uv > 0 && uv <= UINT32_MAX && last >= 0 &&
		    last <= UINT32_MAX) {
			s->uidvalidity = (uint32_t)uv;
			s->last_uid = s->high = (uint32_t)last;
		}
		uv = s->imap->imap_selection_info->sel_uidvalidity;
	}
	if (s->uidvalidity != (uint32_t)uv) {
		if (s->uidvalidity != 0)
			log_warn("%s: %s: UIDVALIDITY changed from %" PRIu32
			    " to %" PRId64 ": every message in it is handed "
			    "out again", s->url, s->mailbox, s->uidvalidity,
			    uv);
		source_imap_forget(s);
		s->uidvalidity = (uint32_t)uv;
		source_imap_save(s);
	}

	source_imap_enter(s, SOURCE_IMAP_READY);
	s->stale = 1;
	s->poll_at = 0;
	log_info("%s: connected as %s, %s selected (UIDVALIDITY %" PRIu32
	    ", last UID %" PRIu32 "), %s%s", s->url, s->user, s->mailbox,
	    s->uidvalidity, s->last_uid, s->has_idle ? "IDLE" : "polling",
	    *s->routed == '\0' ? ", flagging handled mail \\Seen" :
	    s->has_move ? ", MOVE" : s->has_uidplus ?
	    ", COPY and UID EXPUNGE" : ", COPY and \\Deleted");
	return 0;

fail:
	mailimap_free(s->imap);
	s->imap = NULL;
	source_imap_enter(s, SOURCE_IMAP_DOWN);
	return -1;
}

/* DONE, when IDLE is running.  Anything may have arrived meanwhile. */
static int
source_imap_unidle(struct source *s, char **cause)
{
	int	r;

	if (s->state != SOURCE_IMAP_IDLING)
		return 0;
	if ((r = mailimap_idle_done(s->imap)) != MAILIMAP_NO_ERROR)
		return source_imap_fail(s, cause, r, "IDLE");
	source_imap_enter(s, SOURCE_IMAP_READY);
	s->stale = 1;
	return 0;
}

/* Has the server said something while we were IDLE? */
static int
source_imap_woken(struct source *s)
{
	struct pollfd	pfd;

	/* Already read into libetpan's buffer: the descriptor will not say. */
	if (s->imap->imap_stream != NULL &&
	    s->imap->imap_stream->read_buffer_len > 0)
		return 1;
	pfd.fd = mailimap_idle_get_fd(s->imap);
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) > 0;
}

/* Handed out long ago and never done: time to hand them out again? */
static int64_t
source_imap_next_retry(struct source *s)
{
	int64_t	t = -1;
	size_t	i;

	for (i = 0; i < s->nout; i++) {
		if (t == -1 || s->out[i].at + s->poll_ms < t)
			t = s->out[i].at + s->poll_ms;
	}
	return t;
}

static void
source_imap_requeue(struct source *s, int64_t now)
{
	size_t	i = 0;

	while (i < s->nout) {
		if (s->out[i].at + s->poll_ms > now) {
			i++;
			continue;
		}
		/* A gone one is simply forgotten; the rest go round again. */
		if (!s->out[i].gone)
			source_imap_set_add(&s->queue, s->out[i].uid);
		s->out[i] = s->out[--s->nout];
	}
}

/* UID SEARCH for everything above last_uid we have not dealt with. */
static int
source_imap_search(struct source *s, char **cause)
{
	struct mailimap_set		*set;
	struct mailimap_search_key	*key;
	struct source_imap_set		 found = { NULL, 0, 0 };
	clist				*result = NULL;
	clistiter			*it;
	uint32_t			 uid;
	size_t				 i;
	int				 r;

	/* "N:*" is "*:N" when N is past the end: drop what is not above. */
	if ((set = mailimap_set_new_interval(s->last_uid + 1, 0)) == NULL ||
	    (key = mailimap_search_key_new_uid(set)) == NULL)
		fatalx("mailimap: out of memory");
	s->imap->imap_selection_info->sel_has_exists = 0;
	r = mailimap_uid_search(s->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR)
		return source_imap_fail(s, cause, r, "UID SEARCH");
	/*
	 * A server may search the mailbox as it last told us about it and
	 * announce new mail (EXISTS) only as the command ends (Dovecot
	 * does): then search again, or that mail would wait for the next.
	 */
	s->stale = s->imap->imap_selection_info->sel_has_exists;
	for (it = clist_begin(result); it != NULL; it = clist_next(it)) {
		uid = *(uint32_t *)clist_content(it);
		if (uid <= s->last_uid)
			continue;
		source_imap_set_add(&found, uid);
		if (uid > s->high)
			s->high = uid;
		if (source_imap_set_has(&s->done, uid) ||
		    source_imap_out_find(s, uid) != NULL)
			continue;
		source_imap_set_add(&s->queue, uid);
	}
	mailimap_search_result_free(result);

	/* Handed out but no longer there: someone else filed them. */
	for (i = 0; i < s->nout; i++) {
		if (!source_imap_set_has(&found, s->out[i].uid))
			s->out[i].gone = 1;
	}
	free(found.v);
	s->backoff = 0;		/* a working session */
	source_imap_advance(s);
	return 0;
}

/*
 * UID FETCH one message: 1 with msg filled, 0 when it is no longer there,
 * -1 on a failure.
 */
static int
source_imap_fetch(struct source *s, uint32_t uid, struct source_msg *msg,
    char **cause)
{
	struct mailimap_set		*set;
	struct mailimap_fetch_type	*ft;
	struct mailimap_section		*sec;
	struct mailimap_msg_att		*att;
	struct mailimap_msg_att_item	*item;
	struct mailimap_msg_att_static	*st;
	clist				*result = NULL;
	clistiter			*it, *jt;
	const char			*body;
	size_t				 len;
	uint32_t			 size, got_uid;
	int				 r, found = 0;

	if ((set = mailimap_set_new_single(uid)) == NULL ||
	    (ft = mailimap_fetch_type_new_fetch_att_list_empty()) == NULL ||
	    (sec = mailimap_section_new(NULL)) == NULL ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_uid()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_rfc822_size()) != MAILIMAP_NO_ERROR ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section_partial(sec, 0,
	    s->max_size)) != MAILIMAP_NO_ERROR)
		fatalx("mailimap: out of memory");
	r = mailimap_uid_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r == MAILIMAP_ERROR_UID_FETCH || r == MAILIMAP_ERROR_FETCH) {
		/* NO: not a broken connection; this one waits for a retry. */
		source_imap_cause(s, cause, r, "UID FETCH");
		return -2;
	}
	if (r != MAILIMAP_NO_ERROR)
		return source_imap_fail(s, cause, r, "UID FETCH");

	/* Other FETCH replies (flag changes) may come along: match the UID. */
	for (it = clist_begin(result); it != NULL && !found;
	    it = clist_next(it)) {
		att = clist_content(it);
		got_uid = 0;
		size = 0;
		body = NULL;
		len = 0;
		for (jt = clist_begin(att->att_list); jt != NULL;
		    jt = clist_next(jt)) {
			item = clist_content(jt);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			st = item->att_data.att_static;
			switch (st->att_type) {
			case MAILIMAP_MSG_ATT_UID:
				got_uid = st->att_data.att_uid;
				break;
			case MAILIMAP_MSG_ATT_RFC822_SIZE:
				size = st->att_data.att_rfc822_size;
				break;
			case MAILIMAP_MSG_ATT_BODY_SECTION:
				body = st->att_data.att_body_section->
				    sec_body_part;
				len = st->att_data.att_body_section->
				    sec_length;
				break;
			}
		}
		if (got_uid != uid || body == NULL)
			continue;
		found = 1;
		memset(msg, 0, sizeof *msg);
		xasprintf(&msg->id, "%" PRIu32, uid);
		msg->data = xmalloc(len + 1);
		memcpy(msg->data, body, len);
		msg->data[len] = '\0';
		msg->len = len;
		msg->truncated = size > s->max_size || len >= s->max_size;
		if (msg->truncated)
			log_warn("%s: UID %" PRIu32 " is %" PRIu32 " bytes, "
			    "over inbound.max_message_size: handing out the "
			    "first %zu", s->url, uid, size, len);
	}
	mailimap_fetch_list_free(result);
	return found;
}

/* --- the source interface ----------------------------------------------- */

/* imap[s]://HOST[:PORT][/...], as conf-check.c has checked it. */
static int
source_imap_parse_url(struct source *s, const char *url, char **cause)
{
	const char	*p, *end;
	unsigned long	 port;
	char		*ep;

	if (strncasecmp(url, "imaps://", 8) == 0) {
		s->tls = 1;
		p = url + 8;
		port = 993;
	} else if (strncasecmp(url, "imap://", 7) == 0) {
		p = url + 7;
		port = 143;
	} else
		goto bad;
	if (*p == '[') {
		if ((end = strchr(p, ']')) == NULL)
			goto bad;
		s->host = xstrndup(p, (size_t)(end - p + 1));
		s->connect_host = xstrndup(p + 1, (size_t)(end - p - 1));
		p = end + 1;
	} else {
		end = p + strcspn(p, ":/");
		if (end == p)
			goto bad;
		s->host = xstrndup(p, (size_t)(end - p));
		s->connect_host = xstrdup(s->host);
		p = end;
	}
	if (*p == ':') {
		errno = 0;
		port = strtoul(p + 1, &ep, 10);
		if (ep == p + 1 || errno != 0 || port < 1 || port > 65535 ||
		    (*ep != '\0' && *ep != '/'))
			goto bad;
	} else if (*p != '\0' && *p != '/')
		goto bad;
	s->port = (uint16_t)port;
	s->url = xprintf("%s://%s:%u", s->tls ? "imaps" : "imap", s->host,
	    (unsigned int)s->port);
	return 0;
bad:
	xasprintf(cause, "inbound.imap_url: \"%s\" is not imap://HOST[:PORT] "
	    "or imaps://HOST[:PORT]", url);
	return -1;
}

static void source_imap_close(struct source *);

/* The source's settings, password and database; not connected yet. */
static struct source *
source_imap_new(const struct conf *conf, char **cause)
{
	const struct conf_inbound	*in = &conf->inbound;
	struct source			*s;
	char				*c = NULL;

	s = xcalloc(1, sizeof *s);
	s->state = SOURCE_IMAP_DOWN;	/* not connected yet */
	if (source_imap_parse_url(s, in->imap_url, cause) == -1)
		goto fail;
	s->starttls = !s->tls && in->starttls == CONF_STARTTLS_REQUIRED;
	s->verify = in->verify_cert;
	s->ca_file = xstrdup(in->ca_file);
	s->user = xstrdup(in->imap_user);
	s->mailbox = xstrdup(in->mailbox);
	s->routed = xstrdup(in->routed_folder);
	s->max_size = (uint32_t)in->max_message_size;
	s->idle_ms = (int64_t)in->idle_timeout * 1000;
	s->poll_ms = (int64_t)in->poll_interval * 1000;
	s->timeout = in->timeout;
	s->account = xprintf("%s://%s@%s:%u", s->tls ? "imaps" : "imap",
	    s->user, s->host, (unsigned int)s->port);
	if (*s->user == '\0') {
		xasprintf(cause, "%s: inbound.imap_user is not set", s->url);
		goto fail;
	}
	if (*in->password_file != '\0') {
		if (conf_read_secret(in->password_file, &s->password,
		    cause) == -1)
			goto fail;
	} else if (*in->password != '\0')
		s->password = xstrdup(in->password);
	else {
		xasprintf(cause, "%s: no password: set "
		    "inbound.password_file", s->url);
		goto fail;
	}
	if (!s->tls && !s->starttls)
		log_warn("%s: inbound.starttls is off: the password and mail "
		    "cross the network in clear", s->url);
	else if (!s->verify)
		log_warn("%s: inbound.verify_cert is off: any server can "
		    "pretend to be this one", s->url);

	if ((s->store = store_open(conf->general.database, &c)) == NULL) {
		xasprintf(cause, "%s: %s", s->url, c);
		free(c);
		goto fail;
	}
	return s;

fail:
	source_imap_close(s);
	return NULL;
}

static struct source *
source_imap_open(const struct conf *conf, char **cause)
{
	struct source	*s;
	char		*c = NULL;
	int		 permanent;

	if ((s = source_imap_new(conf, cause)) == NULL)
		return NULL;

	/*
	 * Connect now, so that a wrong certificate, password or mailbox
	 * stops the start with a message a person can act on; a server that
	 * is merely away is retried, with backoff, from next().
	 */
	if (source_imap_connect(s, &c, &permanent) == -1) {
		if (permanent) {
			*cause = c;
			goto fail;
		}
		source_imap_drop(s);
		log_warn("%s; retrying in %" PRId64 " s", c,
		    (s->backoff + 999) / 1000);
		free(c);
	}
	return s;

fail:
	source_imap_close(s);
	return NULL;
}

static int
source_imap_fd(struct source *s)
{
	if (s->state != SOURCE_IMAP_IDLING)
		return -1;
	return mailimap_idle_get_fd(s->imap);
}

static int
source_imap_timeout(struct source *s)
{
	int64_t	now = monotime_ms(), at, t;

	switch (s->state) {
	case SOURCE_IMAP_DOWN:
		at = s->retry_at;
		break;
	case SOURCE_IMAP_READY:
		if (s->queue.n > 0 || s->stale)
			return 0;
		at = s->poll_at;
		break;
	case SOURCE_IMAP_IDLING:
		if (s->imap->imap_stream != NULL &&
		    s->imap->imap_stream->read_buffer_len > 0)
			return 0;
		at = s->idle_since + s->idle_ms;
		break;
	default:
		return -1;
	}
	if ((t = source_imap_next_retry(s)) != -1 && t < at)
		at = t;
	if (at <= now)
		return 0;
	return at - now > INT_MAX ? INT_MAX : (int)(at - now);
}

static int
source_imap_next(struct source *s, struct source_msg *msg, char **cause)
{
	int64_t		now = monotime_ms(), t;
	uint32_t	uid;
	char		*c;
	int		r, permanent, searches;

	/* Step 1: a connection, when it is time to try again. */
	if (s->state == SOURCE_IMAP_DOWN) {
		if (now < s->retry_at)
			return 0;
		if (source_imap_connect(s, &c, &permanent) == -1) {
			source_imap_drop(s);
			xasprintf(cause, "%s; retrying in %" PRId64 " s", c,
			    (s->backoff + 999) / 1000);
			free(c);
			return -1;
		}
	}

	/* Step 2: while IDLE, nothing to do until the server speaks. */
	if (s->state == SOURCE_IMAP_IDLING) {
		t = source_imap_next_retry(s);
		if (!source_imap_woken(s) && now < s->idle_since + s->idle_ms &&
		    (t == -1 || now < t))
			return 0;
		if (source_imap_unidle(s, cause) == -1)
			return -1;
	}

	/* Step 3: what is new (always after a wake-up), what is retried. */
	source_imap_requeue(s, now);
	for (searches = 0;;) {
		/* A few times at most while new mail keeps being announced. */
		if (s->queue.n == 0 && searches < 4 && (s->stale ||
		    (!s->has_idle && now >= s->poll_at))) {
			if (source_imap_search(s, cause) == -1)
				return -1;
			s->poll_at = now + s->poll_ms;
			searches++;
			continue;
		}
		if (s->queue.n == 0)
			break;

		/* Step 4: hand out the lowest UID waiting. */
		uid = s->queue.v[0];
		source_imap_set_del(&s->queue, uid);
		r = source_imap_fetch(s, uid, msg, cause);
		if (r == -1) {
			/* Still waiting: last_uid must not pass it. */
			source_imap_set_add(&s->queue, uid);
			return -1;
		}
		s->stale = 1;	/* the reply may have carried news */
		if (r == 1) {
			source_imap_out_add(s, uid, now);
			return 1;
		}
		if (r == -2) {
			/* Refused (NO): try it again after poll_interval. */
			source_imap_out_add(s, uid, now);
			return -1;
		}
		/* Gone meanwhile: nothing to hand out, nothing to wait for. */
		source_imap_set_add(&s->done, uid);
		source_imap_advance(s);
	}

	/* Step 5: nothing more: wait for the server to tell us. */
	if (s->has_idle) {
		if ((r = mailimap_idle(s->imap)) != MAILIMAP_NO_ERROR) {
			/* Refused rather than cut: poll from now on. */
			if (r != MAILIMAP_ERROR_STREAM)
				s->idle_refused = 1;
			return source_imap_fail(s, cause, r, "IDLE");
		}
		source_imap_enter(s, SOURCE_IMAP_IDLING);
		s->idle_since = monotime_ms();
	}
	return 0;
}

static int
source_imap_done(struct source *s, const struct source_msg *msg,
    char **cause)
{
	struct mailimap_set		*set;
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sa;
	struct source_imap_out		*o;
	unsigned long			 v;
	uint32_t			 uid;
	char				*ep, *what;
	int				 r, permanent;

	errno = 0;
	v = strtoul(msg->id, &ep, 10);
	if (msg->id[0] < '1' || msg->id[0] > '9' || *ep != '\0' ||
	    errno != 0 || v > UINT32_MAX) {
		xasprintf(cause, "%s: \"%s\" is not an IMAP UID", s->url,
		    msg->id);
		return -1;
	}
	uid = (uint32_t)v;
	if ((o = source_imap_out_find(s, uid)) == NULL) {
		xasprintf(cause, "%s: UID %" PRIu32 " was not handed out in "
		    "this UIDVALIDITY; not filed (it comes round again)",
		    s->url, uid);
		return -1;
	}
	if (o->gone) {
		/* Somebody else filed it: nothing left for us to do. */
		source_imap_out_del(s, uid);
		source_imap_set_add(&s->done, uid);
		source_imap_advance(s);
		return 0;
	}

	/* Step 1: a connection (the caller may have been slow). */
	if (s->state == SOURCE_IMAP_DOWN) {
		if (monotime_ms() < s->retry_at) {
			xasprintf(cause, "%s: not connected; UID %" PRIu32
			    " is filed when it comes round again", s->url,
			    uid);
			return -1;
		}
		if (source_imap_connect(s, cause, &permanent) == -1) {
			source_imap_drop(s);
			return -1;
		}
		/* connect kept o: the UIDVALIDITY is unchanged, or o is gone */
		if ((o = source_imap_out_find(s, uid)) == NULL) {
			xasprintf(cause, "%s: UIDVALIDITY changed; UID %" PRIu32
			    " not filed (it comes round again)", s->url, uid);
			return -1;
		}
	}
	if (source_imap_unidle(s, cause) == -1)
		return -1;

	/* Step 2: file it. */
	if ((set = mailimap_set_new_single(uid)) == NULL)
		fatalx("mailimap: out of memory");
	what = NULL;
	if (*s->routed == '\0') {
		fl = mailimap_flag_list_new_empty();
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
		sa = mailimap_store_att_flags_new_add_flags_silent(fl);
		r = mailimap_uid_store(s->imap, set, sa);
		mailimap_store_att_flags_free(sa);
		if (r != MAILIMAP_NO_ERROR)
			what = "UID STORE +FLAGS (\\Seen)";
	} else if (s->has_move) {
		if ((r = mailimap_uid_move(s->imap, set, s->routed)) !=
		    MAILIMAP_NO_ERROR)
			what = "UID MOVE";
	} else {
		/*
		 * A copy made before the \Deleted failed (a dropped
		 * connection) is not made again when the message comes round.
		 */
		r = MAILIMAP_NO_ERROR;
		if (!source_imap_set_has(&s->copied, uid) &&
		    (r = mailimap_uid_copy(s->imap, set, s->routed)) ==
		    MAILIMAP_NO_ERROR)
			source_imap_set_add(&s->copied, uid);
		if (r != MAILIMAP_NO_ERROR)
			what = "UID COPY";
		else {
			fl = mailimap_flag_list_new_empty();
			mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
			sa = mailimap_store_att_flags_new_add_flags_silent(fl);
			r = mailimap_uid_store(s->imap, set, sa);
			mailimap_store_att_flags_free(sa);
			if (r != MAILIMAP_NO_ERROR)
				what = "UID STORE +FLAGS (\\Deleted)";
			/*
			 * Without UIDPLUS only a plain EXPUNGE is left, which
			 * would also take what others marked \Deleted: the
			 * copy is made and the original is marked; leave
			 * expunging it to the mailbox's owner.
			 */
			else if (s->has_uidplus && (r = mailimap_uid_expunge(
			    s->imap, set)) != MAILIMAP_NO_ERROR)
				what = "UID EXPUNGE";
		}
	}
	mailimap_set_free(set);
	s->stale = 1;
	if (what != NULL) {
		if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
		    r == MAILIMAP_ERROR_FATAL)
			return source_imap_fail(s, cause, r, what);
		/* NO: the connection is fine; the message comes round again. */
		source_imap_cause(s, cause, r, what);
		return -1;
	}

	/* Step 3: remember it, and move last_uid when we can. */
	source_imap_set_del(&s->copied, uid);
	source_imap_out_del(s, uid);
	source_imap_set_add(&s->done, uid);
	source_imap_advance(s);
	log_debug("%s: UID %" PRIu32 " filed%s%s", s->url, uid,
	    *s->routed != '\0' ? " in " : " as \\Seen", s->routed);
	return 0;
}

static void
source_imap_close(struct source *s)
{
	if (s == NULL)
		return;
	/*
	 * No LOGOUT: waiting for an unresponsive server's reply could hold
	 * up a daemon that has to stop within seconds.  Closing is enough.
	 */
	if (s->imap != NULL)
		mailimap_free(s->imap);
	store_close(s->store);
	if (s->password != NULL) {
		crypto_cleanse(s->password, strlen(s->password));
		free(s->password);
	}
	free(s->url);
	free(s->host);
	free(s->connect_host);
	free(s->ca_file);
	free(s->user);
	free(s->mailbox);
	free(s->routed);
	free(s->account);
	free(s->queue.v);
	free(s->done.v);
	free(s->copied.v);
	free(s->out);
	free(s);
}

/* --- erasing a person's messages (forget.c) ------------------------------ */

/* In mailbox, delete the messages with these Message-IDs. */
static int
source_imap_erase_in(struct source *s, const char *mailbox,
    const char *const *ids, size_t n, int *found, int *expunged,
    char **cause)
{
	struct mailimap_search_key	*key;
	struct mailimap_flag_list	*fl;
	struct mailimap_store_att_flags	*sa;
	struct mailimap_set		*set;
	clist				*result = NULL;
	clistiter			*it;
	size_t				 i;
	int				 r, any = 0;
	char				*c;

	if ((r = mailimap_select(s->imap, mailbox)) != MAILIMAP_NO_ERROR) {
		c = xprintf("SELECT %s", mailbox);
		source_imap_cause(s, cause, r, c);
		free(c);
		return -1;
	}
	if ((set = mailimap_set_new_empty()) == NULL)
		fatalx("mailimap: out of memory");
	for (i = 0; i < n; i++) {
		key = mailimap_search_key_new_header(xstrdup("Message-ID"),
		    xprintf("<%s>", ids[i]));
		if (key == NULL)
			fatalx("mailimap: out of memory");
		r = mailimap_uid_search(s->imap, NULL, key, &result);
		mailimap_search_key_free(key);
		if (r != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			source_imap_cause(s, cause, r, "UID SEARCH");
			return -1;
		}
		for (it = clist_begin(result); it != NULL;
		    it = clist_next(it)) {
			if (mailimap_set_add_single(set,
			    *(uint32_t *)clist_content(it)) !=
			    MAILIMAP_NO_ERROR)
				fatalx("mailimap: out of memory");
			found[i]++;
			any = 1;
		}
		mailimap_search_result_free(result);
		result = NULL;
	}
	if (!any) {
		mailimap_set_free(set);
		return 0;
	}
	fl = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(s->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	if (r == MAILIMAP_NO_ERROR && s->has_uidplus)
		r = mailimap_uid_expunge(s->imap, set);
	else if (!s->has_uidplus)
		*expunged = 0;
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		source_imap_cause(s, cause, r, "deleting (UID STORE \\Deleted, "
		    "UID EXPUNGE)");
		return -1;
	}
	return 0;
}

int
source_imap_erase(const struct conf *conf, const char *const *ids, size_t n,
    int *found, int *expunged, char **cause)
{
	struct source	*s;
	int		 permanent, rc = -1;

	memset(found, 0, n * sizeof *found);
	*expunged = 1;
	if (*conf->inbound.imap_url == '\0') {
		*cause = xstrdup("no IMAP account is configured "
		    "(inbound.imap_url)");
		return -1;
	}
	if ((s = source_imap_new(conf, cause)) == NULL)
		return -1;
	if (source_imap_connect(s, cause, &permanent) == -1)
		goto out;
	if (source_imap_erase_in(s, s->mailbox, ids, n, found, expunged,
	    cause) == -1)
		goto out;
	if (*s->routed != '\0' && strcmp(s->routed, s->mailbox) != 0 &&
	    source_imap_erase_in(s, s->routed, ids, n, found, expunged,
	    cause) == -1)
		goto out;
	rc = 0;
out:
	source_imap_close(s);
	return rc;
}

const struct source_ops source_imap_ops = {
	"imap",
	source_imap_open,
	source_imap_fd,
	source_imap_timeout,
	source_imap_next,
	source_imap_done,
	source_imap_close,
};
