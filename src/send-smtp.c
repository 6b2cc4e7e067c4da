/*
 * send-smtp.c - the SMTP transport: smtp:// and smtps:// through libcurl.
 * The only file in postroom that includes <curl/curl.h>.
 *
 * Owns: N connections (smtp.concurrency), each reused for message after
 * message (no new TCP + EHLO + TLS + AUTH per message), all driven from
 * the engine's thread by one libcurl multi handle; TLS (STARTTLS required
 * / optional / off, or implicit TLS with smtps://) with certificate checks
 * on unless smtp.verify_cert is off; AUTH with smtp.user and a password
 * (smtp.password_file, read with conf_read_secret(), or smtp.password);
 * timeouts; the EHLO name (general.domain); the SMTP transaction itself;
 * telling the engine what became of each message (send_smtp_status()).
 *
 * How the work is split with libcurl.  libcurl makes each connection: the
 * TCP connect, the greeting, EHLO, STARTTLS and the TLS handshake with its
 * certificate checks, EHLO again, AUTH (every SASL mechanism it knows) -
 * non-blocking, in the multi handle, with CURLOPT_CONNECT_ONLY.  postroom
 * then speaks the transaction over that connection with curl_easy_send()
 * and curl_easy_recv(), which carry the bytes through libcurl's TLS: MAIL,
 * RCPT and DATA (pipelined, RFC 2920, when the server offers PIPELINING),
 * the dot-stuffed message, and the replies.  Why not libcurl's own
 * transfer: it waits for the reply to a message's final "." in a blocking
 * loop (smtp_done(); curl issue 8555, still so in 8.x), even under the
 * multi interface, so one multi handle would stall every connection for a
 * round trip per message, and a thread per connection instead costs a
 * context switch per reply; and it dot-stuffs a byte at a time, a quarter
 * of postroomd's CPU on a bulk send.  The transaction is the small part of
 * SMTP; the parts that are hard to get right stay libcurl's.
 *
 * A connection's life: CLOSED -> CONNECTING (in the multi handle) -> READY
 * -> ENVELOPE ([RSET] MAIL RCPT DATA sent, their replies read; without
 * PIPELINING each command waits for the reply before) -> BODY (message and
 * dot sent, the reply read) -> READY ...  A transaction that did not end
 * in 250 leaves RSET to go first in the next.  A failure to send or read,
 * a timeout (smtp.timeout for the whole transaction), or the server
 * closing, ends the connection; a message whose connection had sat idle
 * and turns out closed before the server said anything is sent once more
 * on a new one.
 *
 * One recipient per transaction, as the outbox has one row per recipient.
 *
 * Does not own: which messages to send or what happens to them afterwards
 * (deliver.c), the message bytes (newsletter.c, the outbox).
 */
#include <sys/socket.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "monotime.h"
#include "send-smtp.h"
#include "transport.h"
#include "xmalloc.h"

/* Longest envelope address written into a command (RFC 5321 4.5.3.1). */
#define SEND_SMTP_PATH_MAX	256
/* What a connection reads at a time. */
#define SEND_SMTP_READ		4096
/* A connection's send buffer kept between messages, at most. */
#define SEND_SMTP_KEEP		(256 * 1024)

enum send_smtp_state {
	SEND_SMTP_CLOSED,	/* no connection */
	SEND_SMTP_CONNECTING,	/* libcurl: TCP, TLS, EHLO, AUTH */
	SEND_SMTP_READY,	/* connected, no transaction */
	SEND_SMTP_IN_ENVELOPE,	/* [RSET] MAIL RCPT DATA: their replies */
	SEND_SMTP_IN_BODY,	/* the message and the dot: the reply */
};

/* What each command of the envelope phase was, to read its reply. */
enum send_smtp_cmd {
	SEND_SMTP_RSET,
	SEND_SMTP_MAIL,
	SEND_SMTP_RCPT,
	SEND_SMTP_DATA,
};

#define SEND_SMTP_CMDS		4

struct send_smtp_conn {
	struct transport	*t;
	CURL			*easy;
	curl_socket_t		 sock;		/* libcurl's, while it is open */
	enum send_smtp_state	 state;
	struct send_smtp_ehlo	 ehlo;		/* what the server offers */
	int			 reused;	/* a transaction ended on it */
	int			 dirty;		/* RSET before the next MAIL */
	int			 closing;	/* the server said 421 */
	int64_t			 deadline;	/* ms, of the transaction */

	/* Bytes to send: the commands, then the message. */
	struct buf		 out;
	size_t			 outoff;
	enum send_smtp_cmd	 cmd[SEND_SMTP_CMDS];
	size_t			 cmdend[SEND_SMTP_CMDS]; /* in out */
	int			 ncmd;
	int			 nreplied;	/* replies read so far */
	struct send_smtp_reply	 reply;

	/* The message, from submit() until its result is reported. */
	int			 busy;
	int			 retried;	/* sent again on a new connection */
	void			*cookie;
	const char		*mail_from;
	const char		*rcpt_to;
	const char		*data;
	size_t			 len;
	int			 discard;	/* the dot ends a failed one */
	int			 failcode;	/* first refusal, 0: none */
	enum send_smtp_stage	 failstage;
	char			*failtext;

	/* Its result, until run() reports it. */
	int			 finished;
	enum transport_status	 status;
	int			 code;
	char			*result;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct transport {
	const struct conf	*conf;
	CURLM			*multi;
	struct send_smtp_conn	*conns;
	struct curl_waitfd	*wait;		/* scratch for run() */
	struct send_smtp_conn	**waiting;	/* ... and whose they are */
	int			 nconns;
	int			 nbusy;
	int			 nfinished;
	char			*url;
	char			*password;
	long			 timeout_ms;	/* smtp.timeout */
	long			 connects;	/* connections made */
	long			 messages;	/* transactions finished */
};

static pthread_once_t	send_smtp_once = PTHREAD_ONCE_INIT;
static CURLcode		send_smtp_init_rc;

/* --- libcurl ---------------------------------------------------------- */

static void
send_smtp_global_init(void)
{
	send_smtp_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * libcurl hands every reply line it reads to the header callback: while it
 * connects, the EHLO reply (its extensions) and, when the connection
 * fails, the refusal worth reporting.
 */
static size_t
send_smtp_header(char *ptr, size_t size, size_t nitems, void *arg)
{
	struct send_smtp_conn	*c = arg;

	send_smtp_ehlo_line(&c->ehlo, ptr, size * nitems);
	send_smtp_reply_add(&c->reply, ptr, size * nitems);
	return size * nitems;
}

/* The socket, as soon as libcurl has it, so that it can be cut short. */
static int
send_smtp_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct send_smtp_conn	*c = arg;

	(void)purpose;
	c->sock = fd;
	return CURL_SOCKOPT_OK;
}

static int
send_smtp_closesocket(void *arg, curl_socket_t fd)
{
	struct send_smtp_conn	*c = arg;

	if (c->sock == fd)
		c->sock = CURL_SOCKET_BAD;
	return close(fd);
}

/*
 * The URL curl is given: smtp.url, plus "/DOMAIN" when it names no path,
 * because curl says EHLO with the URL's path (else the machine's name,
 * which is often not a name the world can resolve).
 */
static char *
send_smtp_url(const struct conf *conf)
{
	const char	*url = conf->smtp.url, *p;

	if ((p = strstr(url, "://")) == NULL)
		return xstrdup(url);
	p += 3;
	if (strchr(p, '/') != NULL || conf->general.domain[0] == '\0')
		return xstrdup(url);
	return xprintf("%s/%s", url, conf->general.domain);
}

#define SEND_SMTP_SETOPT(e, opt, val) do {				\
	CURLcode	rc_ = curl_easy_setopt((e), (opt), (val));	\
	if (rc_ != CURLE_OK) {						\
		xasprintf(cause, "curl: %s: %s", #opt,			\
		    curl_easy_strerror(rc_));				\
		return -1;						\
	}								\
} while (0)

/* A handle that makes one connection, ready for the multi handle. */
static int
send_smtp_easy(struct transport *t, struct send_smtp_conn *c, char **cause)
{
	const struct conf_smtp	*sc = &t->conf->smtp;
	CURL			*e;
	long			 ssl;

	if ((c->easy = e = curl_easy_init()) == NULL) {
		xasprintf(cause, "curl_easy_init failed");
		return -1;
	}
	SEND_SMTP_SETOPT(e, CURLOPT_URL, t->url);
	SEND_SMTP_SETOPT(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SEND_SMTP_SETOPT(e, CURLOPT_CONNECT_ONLY, 1L);
	SEND_SMTP_SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SEND_SMTP_SETOPT(e, CURLOPT_PRIVATE, c);
	SEND_SMTP_SETOPT(e, CURLOPT_HEADERFUNCTION, send_smtp_header);
	SEND_SMTP_SETOPT(e, CURLOPT_HEADERDATA, c);
	SEND_SMTP_SETOPT(e, CURLOPT_SOCKOPTFUNCTION, send_smtp_sockopt);
	SEND_SMTP_SETOPT(e, CURLOPT_SOCKOPTDATA, c);
	SEND_SMTP_SETOPT(e, CURLOPT_CLOSESOCKETFUNCTION,
	    send_smtp_closesocket);
	SEND_SMTP_SETOPT(e, CURLOPT_CLOSESOCKETDATA, c);
	SEND_SMTP_SETOPT(e, CURLOPT_ERRORBUFFER, c->errbuf);
	SEND_SMTP_SETOPT(e, CURLOPT_CONNECTTIMEOUT, (long)sc->connect_timeout);
	/* The greeting, EHLO and AUTH too, not only TCP and TLS. */
	SEND_SMTP_SETOPT(e, CURLOPT_TIMEOUT, (long)sc->timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, (long)sc->timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	switch (sc->starttls) {
	case CONF_STARTTLS_REQUIRED:
		ssl = CURLUSESSL_ALL;
		break;
	case CONF_STARTTLS_OPTIONAL:
		ssl = CURLUSESSL_TRY;
		break;
	default:
		ssl = CURLUSESSL_NONE;
		break;
	}
	/* smtps:// is TLS from the start whatever this says. */
	SEND_SMTP_SETOPT(e, CURLOPT_USE_SSL, ssl);
	SEND_SMTP_SETOPT(e, CURLOPT_SSL_VERIFYPEER, sc->verify_cert ? 1L : 0L);
	SEND_SMTP_SETOPT(e, CURLOPT_SSL_VERIFYHOST, sc->verify_cert ? 2L : 0L);
	if (sc->user[0] != '\0') {
		SEND_SMTP_SETOPT(e, CURLOPT_USERNAME, sc->user);
		SEND_SMTP_SETOPT(e, CURLOPT_PASSWORD, t->password);
	}
	return 0;
}

/* --- a connection -------------------------------------------------------- */

/*
 * Let the connection go.  polite: it is idle and the server answers, so
 * say QUIT; otherwise cut it (shutdown() first, so that libcurl, which
 * says QUIT of its own when a handle goes, does not wait for a reply a
 * stalled server would never send).
 */
static void
send_smtp_disconnect(struct transport *t, struct send_smtp_conn *c,
    int polite)
{
	size_t	n;

	if (c->easy == NULL)
		return;
	if (polite && c->state == SEND_SMTP_READY && !c->closing)
		(void)curl_easy_send(c->easy, "QUIT\r\n", 6, &n);
	if (c->sock != CURL_SOCKET_BAD)
		(void)shutdown(c->sock, SHUT_RDWR);
	curl_multi_remove_handle(t->multi, c->easy);
	curl_easy_cleanup(c->easy);
	c->easy = NULL;
	c->sock = CURL_SOCKET_BAD;
	c->state = SEND_SMTP_CLOSED;
	c->reused = c->dirty = c->closing = 0;
}

/* The message's result, reported by the next run(). */
static void
send_smtp_finish(struct transport *t, struct send_smtp_conn *c,
    enum transport_status status, int code, const char *reply)
{
	c->finished = 1;
	c->status = status;
	c->code = code;
	c->result = xstrdup(reply);
	free(c->failtext);
	c->failtext = NULL;
	t->nfinished++;
	/* A large message does not keep its size for the connection's life. */
	if (c->out.cap > SEND_SMTP_KEEP) {
		buf_free(&c->out);
		c->outoff = 0;
	}
	if (c->state == SEND_SMTP_IN_ENVELOPE ||
	    c->state == SEND_SMTP_IN_BODY) {
		c->state = SEND_SMTP_READY;
		c->reused = 1;
	}
	if (c->closing)
		send_smtp_disconnect(t, c, 0);
}

/* The message ends with the first refusal the server gave it. */
static void
send_smtp_finish_refused(struct transport *t, struct send_smtp_conn *c)
{
	/* finish() copies the text before it frees failtext. */
	send_smtp_finish(t, c, send_smtp_status(0, c->failcode,
	    c->failstage), c->failcode, c->failtext);
}

/* Start making the connection; the message waits for it. */
static void
send_smtp_connect(struct transport *t, struct send_smtp_conn *c)
{
	CURLMcode	 mc;
	char		*cause = NULL;

	memset(&c->ehlo, 0, sizeof c->ehlo);
	send_smtp_reply_reset(&c->reply);
	c->errbuf[0] = '\0';
	if (send_smtp_easy(t, c, &cause) == -1) {
		if (c->easy != NULL)
			curl_easy_cleanup(c->easy);
		c->easy = NULL;
		send_smtp_finish(t, c, TRANSPORT_TEMPFAIL, 0, cause);
		free(cause);
		return;
	}
	if ((mc = curl_multi_add_handle(t->multi, c->easy)) != CURLM_OK) {
		curl_easy_cleanup(c->easy);
		c->easy = NULL;
		cause = xprintf("curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		send_smtp_finish(t, c, TRANSPORT_TEMPFAIL, 0, cause);
		free(cause);
		return;
	}
	c->state = SEND_SMTP_CONNECTING;
	t->connects++;
}

/*
 * The connection failed under a message (or while idle).  A refusal
 * already read (a 550 to RCPT before the server went away) still says
 * what became of the message; otherwise it is tried again later - or at
 * once, on a new connection, when a connection that had sat idle turns out
 * closed before the server said anything.
 */
static void
send_smtp_broken(struct transport *t, struct send_smtp_conn *c,
    const char *why)
{
	int	again;

	again = c->busy && !c->finished && c->reused && !c->retried &&
	    c->state == SEND_SMTP_IN_ENVELOPE && c->nreplied == 0;
	send_smtp_disconnect(t, c, 0);
	if (!c->busy || c->finished)
		return;
	if (again) {
		log_debug("smtp: reused connection failed (%s); trying a new "
		    "one", why);
		c->retried = 1;
		send_smtp_connect(t, c);
		return;
	}
	if (c->failcode != 0) {
		send_smtp_finish_refused(t, c);
		return;
	}
	send_smtp_finish(t, c, TRANSPORT_TEMPFAIL, 0, why);
}

/* How much of out may be sent now. */
static size_t
send_smtp_sendable(const struct send_smtp_conn *c)
{
	if (c->state != SEND_SMTP_IN_ENVELOPE && c->state != SEND_SMTP_IN_BODY)
		return c->outoff;
	/* Without PIPELINING, a command waits for the reply before it. */
	if (c->state == SEND_SMTP_IN_ENVELOPE && !c->ehlo.pipelining &&
	    c->nreplied < c->ncmd)
		return c->cmdend[c->nreplied];
	return c->out.len;
}

/* Send what may be sent now: 0, or -1 when the connection broke. */
static int
send_smtp_flush(struct send_smtp_conn *c)
{
	CURLcode	rc;
	size_t		limit, n;
	char		why[CURL_ERROR_SIZE + 64];

	limit = send_smtp_sendable(c);
	while (c->outoff < limit) {
		rc = curl_easy_send(c->easy, c->out.data + c->outoff,
		    limit - c->outoff, &n);
		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK) {
			snprintf(why, sizeof why, "%s%s%s",
			    curl_easy_strerror(rc), c->errbuf[0] != '\0' ?
			    ": " : "", c->errbuf);
			send_smtp_broken(c->t, c, why);
			return -1;
		}
		c->outoff += n;
	}
	return 0;
}

/* Is the address one SMTP can carry between < and >? */
static int
send_smtp_path_ok(const char *a)
{
	const char	*p;

	if (strlen(a) > SEND_SMTP_PATH_MAX)
		return 0;
	for (p = a; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' ||
		    (unsigned char)*p >= 0x7f)
			return 0;
	}
	return 1;
}

static void
send_smtp_add_cmd(struct send_smtp_conn *c, enum send_smtp_cmd cmd)
{
	c->cmd[c->ncmd] = cmd;
	c->cmdend[c->ncmd] = c->out.len;
	c->ncmd++;
}

/* The envelope: [RSET,] MAIL, RCPT, DATA, pipelined when offered. */
static void
send_smtp_begin(struct transport *t, struct send_smtp_conn *c)
{
	buf_reset(&c->out);
	c->outoff = 0;
	c->ncmd = c->nreplied = 0;
	c->discard = 0;
	c->failcode = 0;
	send_smtp_reply_reset(&c->reply);
	if (c->dirty) {
		buf_addstr(&c->out, "RSET\r\n");
		send_smtp_add_cmd(c, SEND_SMTP_RSET);
	}
	buf_printf(&c->out, "MAIL FROM:<%s>", c->mail_from);
	if (c->ehlo.size)
		buf_printf(&c->out, " SIZE=%zu", c->len);
	buf_addstr(&c->out, "\r\n");
	send_smtp_add_cmd(c, SEND_SMTP_MAIL);
	buf_printf(&c->out, "RCPT TO:<%s>\r\n", c->rcpt_to);
	send_smtp_add_cmd(c, SEND_SMTP_RCPT);
	buf_addstr(&c->out, "DATA\r\n");
	send_smtp_add_cmd(c, SEND_SMTP_DATA);
	c->state = SEND_SMTP_IN_ENVELOPE;
	c->deadline = monotime_ms() + t->timeout_ms;
	(void)send_smtp_flush(c);
}

/* The first refusal is the one that counts. */
static void
send_smtp_refused(struct send_smtp_conn *c, enum send_smtp_stage stage)
{
	if (c->failcode != 0)
		return;
	c->failcode = c->reply.code;
	c->failstage = stage;
	c->failtext = xstrdup(c->reply.last.data);
}

/* One whole reply has been read (in c->reply). */
static void
send_smtp_replied(struct transport *t, struct send_smtp_conn *c)
{
	int	code = c->reply.code, last;

	if (code == 421)
		c->closing = 1;		/* the server is going away */
	if (c->state == SEND_SMTP_IN_BODY) {
		c->dirty = 0;		/* the dot ended the transaction */
		/* A reply before the whole message went: out of step. */
		if (c->outoff < c->out.len)
			c->closing = 1;
		if (c->discard) {
			send_smtp_finish_refused(t, c);
		} else if (code >= 200 && code < 300)
			send_smtp_finish(t, c, TRANSPORT_OK, code,
			    c->reply.last.data);
		else
			send_smtp_finish(t, c, send_smtp_status(0, code,
			    SEND_SMTP_MESSAGE), code, c->reply.last.data);
		return;
	}
	if (c->state != SEND_SMTP_IN_ENVELOPE || c->nreplied >= c->ncmd) {
		/* Nothing was asked: the server is not speaking SMTP. */
		send_smtp_broken(t, c, "the server replied to nothing");
		return;
	}

	last = c->nreplied == c->ncmd - 1;
	switch (c->cmd[c->nreplied++]) {
	case SEND_SMTP_RSET:
		if (code != 250) {
			c->reused = 0;	/* no second try for this */
			send_smtp_broken(t, c, c->reply.last.data);
			return;
		}
		c->dirty = 0;
		break;
	case SEND_SMTP_MAIL:
	case SEND_SMTP_RCPT:
		if (code < 200 || code >= 300) {
			send_smtp_refused(c, SEND_SMTP_ENVELOPE);
			c->dirty = 1;
		}
		break;
	case SEND_SMTP_DATA:
		if (code != 354) {
			send_smtp_refused(c, SEND_SMTP_ENVELOPE);
			c->dirty = 1;
			break;
		}
		/*
		 * Go ahead.  After a refusal (a server that accepts DATA
		 * with no recipient) the dot alone ends it (RFC 2920 3.1).
		 */
		buf_reset(&c->out);
		c->outoff = 0;
		c->discard = c->failcode != 0;
		if (send_smtp_dot_stuff(&c->out, c->data,
		    c->discard ? 0 : c->len) == -1)
			fatalx("%s: out of memory", __func__);
		c->state = SEND_SMTP_IN_BODY;
		(void)send_smtp_flush(c);
		return;
	}
	if (c->failcode != 0 && (last || !c->ehlo.pipelining)) {
		/* Without PIPELINING nothing after a refusal was sent. */
		send_smtp_finish_refused(t, c);
		return;
	}
	(void)send_smtp_flush(c);
}

/* The socket is ready: send, and read every reply there is. */
static void
send_smtp_io(struct transport *t, struct send_smtp_conn *c)
{
	CURLcode	 rc;
	char		 in[SEND_SMTP_READ], why[CURL_ERROR_SIZE + 64];
	const char	*p;
	size_t		 n, used;
	int		 whole;

	if (c->state != SEND_SMTP_READY && c->state != SEND_SMTP_IN_ENVELOPE &&
	    c->state != SEND_SMTP_IN_BODY)
		return;
	if (send_smtp_flush(c) == -1)
		return;
	for (;;) {
		rc = curl_easy_recv(c->easy, in, sizeof in, &n);
		if (rc == CURLE_AGAIN)
			return;
		if (rc != CURLE_OK || n == 0) {
			if (rc != CURLE_OK)
				snprintf(why, sizeof why, "%s%s%s",
				    curl_easy_strerror(rc),
				    c->errbuf[0] != '\0' ? ": " : "",
				    c->errbuf);
			else
				snprintf(why, sizeof why, "the server closed "
				    "the connection%s", c->state ==
				    SEND_SMTP_READY ? " while it was idle" :
				    " before it replied");
			if (c->state == SEND_SMTP_READY)
				log_debug("smtp: %s", why);
			send_smtp_broken(t, c, why);
			return;
		}
		for (p = in; n > 0; p += used, n -= used) {
			used = send_smtp_reply_feed(&c->reply, p, n, &whole);
			if (!whole)
				continue;
			if (c->state == SEND_SMTP_READY) {
				/* "421 idle too long", most likely. */
				log_debug("smtp: the server says, unasked: "
				    "%s", c->reply.last.data);
				send_smtp_disconnect(t, c, 0);
				return;
			}
			send_smtp_replied(t, c);
			if (c->state == SEND_SMTP_CLOSED ||
			    c->state == SEND_SMTP_CONNECTING)
				return;
		}
	}
}

/* libcurl finished making a connection, or failed to. */
static void
send_smtp_connected(struct transport *t, struct send_smtp_conn *c,
    CURLcode result)
{
	curl_socket_t	 sock = CURL_SOCKET_BAD;
	long		 code = 0;
	char		*reply;

	if (result == CURLE_OK &&
	    curl_easy_getinfo(c->easy, CURLINFO_ACTIVESOCKET, &sock) ==
	    CURLE_OK && sock != CURL_SOCKET_BAD) {
		c->sock = sock;
		c->state = SEND_SMTP_READY;
		log_debug("smtp: connected to %s%s%s", t->url,
		    c->ehlo.pipelining ? ", PIPELINING" : "",
		    c->ehlo.size ? ", SIZE" : "");
		if (c->busy && !c->finished)
			send_smtp_begin(t, c);
		return;
	}
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 400 && c->reply.code >= 400)
		reply = xprintf("%s", c->reply.last.data);
	else if (c->errbuf[0] != '\0')
		reply = xprintf("%s: %s", curl_easy_strerror(result),
		    c->errbuf);
	else
		reply = xprintf("%s", curl_easy_strerror(result));
	if (code >= 500)
		log_warn("smtp: %s refuses the session, not the message "
		    "(check smtp.starttls, smtp.user and the password): %s",
		    t->url, reply);
	send_smtp_disconnect(t, c, 0);
	if (c->busy && !c->finished)
		send_smtp_finish(t, c, TRANSPORT_TEMPFAIL,
		    code >= 400 ? (int)code : 0, reply);
	free(reply);
}

/* --- the engine's side ------------------------------------------------- */

static void send_smtp_close(struct transport *);

static struct transport *
send_smtp_open(const struct conf *conf, char **cause)
{
	const struct conf_smtp	*c = &conf->smtp;
	struct transport	*t;
	int			 i;

	pthread_once(&send_smtp_once, send_smtp_global_init);
	if (send_smtp_init_rc != CURLE_OK) {
		xasprintf(cause, "curl_global_init: %s",
		    curl_easy_strerror(send_smtp_init_rc));
		return NULL;
	}
	if (strncmp(c->url, "smtp://", 7) != 0 &&
	    strncmp(c->url, "smtps://", 8) != 0) {
		xasprintf(cause, "%s: not an smtp:// or smtps:// URL", c->url);
		return NULL;
	}

	t = xcalloc(1, sizeof *t);
	t->conf = conf;
	t->url = send_smtp_url(conf);
	t->timeout_ms = (long)c->timeout * 1000;
	if (c->password_file[0] != '\0') {
		if (conf_read_secret(c->password_file, &t->password,
		    cause) == -1)
			goto fail;
	} else
		t->password = xstrdup(c->password);
	if (c->user[0] != '\0' && strncmp(c->url, "smtp://", 7) == 0 &&
	    c->starttls != CONF_STARTTLS_REQUIRED)
		log_warn("smtp.user is set but smtp.starttls is not "
		    "\"required\": the password may cross the network "
		    "unencrypted");
	if (!c->verify_cert)
		log_warn("smtp.verify_cert is off: the server's certificate "
		    "is not checked");
	if ((t->multi = curl_multi_init()) == NULL) {
		xasprintf(cause, "curl_multi_init failed");
		goto fail;
	}

	t->nconns = c->concurrency > 0 ? c->concurrency : 1;
	t->conns = xcalloc((size_t)t->nconns, sizeof *t->conns);
	t->wait = xcalloc((size_t)t->nconns, sizeof *t->wait);
	t->waiting = xcalloc((size_t)t->nconns, sizeof *t->waiting);
	for (i = 0; i < t->nconns; i++) {
		t->conns[i].t = t;
		t->conns[i].sock = CURL_SOCKET_BAD;
		buf_init(&t->conns[i].out, BUF_NOMAX);
		send_smtp_reply_init(&t->conns[i].reply);
	}
	return t;

fail:
	send_smtp_close(t);
	return NULL;
}

static int
send_smtp_slots(struct transport *t)
{
	return t->nconns - t->nbusy;
}

static int
send_smtp_submit(struct transport *t, const struct transport_msg *m,
    char **cause)
{
	struct send_smtp_conn	*c = NULL;
	char			*reply;
	int			 i;

	/* A connection that is open, else any free one. */
	for (i = 0; i < t->nconns; i++) {
		if (t->conns[i].busy)
			continue;
		if (c == NULL || t->conns[i].state == SEND_SMTP_READY)
			c = &t->conns[i];
		if (c->state == SEND_SMTP_READY)
			break;
	}
	if (c == NULL)
		fatalx("%s: no free connection", __func__);
	(void)cause;

	c->busy = 1;
	c->finished = 0;
	c->retried = 0;
	c->cookie = m->cookie;
	c->mail_from = m->mail_from;
	c->rcpt_to = m->rcpt_to;
	c->data = m->data;
	c->len = m->len;
	t->nbusy++;
	/* Never a command built from a CR, an LF or a ">". */
	if (!send_smtp_path_ok(m->mail_from) ||
	    !send_smtp_path_ok(m->rcpt_to)) {
		reply = xprintf("refused before sending: an envelope address "
		    "SMTP cannot carry (control characters, spaces, <, >, "
		    "or longer than %d octets)", SEND_SMTP_PATH_MAX);
		send_smtp_finish(t, c, TRANSPORT_PERMFAIL, 0, reply);
		free(reply);
	} else if (c->state == SEND_SMTP_READY)
		send_smtp_begin(t, c);
	else if (c->state == SEND_SMTP_CLOSED)
		send_smtp_connect(t, c);
	return 0;
}

/* Hand every finished result to done and free its connection. */
static int
send_smtp_report(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct send_smtp_conn	*c;
	struct transport_result	 res;
	int			 i, n = 0;

	for (i = 0; i < t->nconns && t->nfinished > 0; i++) {
		c = &t->conns[i];
		if (!c->finished)
			continue;
		c->finished = 0;
		c->busy = 0;
		c->data = NULL;
		t->nfinished--;
		t->nbusy--;
		t->messages++;
		res.cookie = c->cookie;
		res.status = c->status;
		res.code = c->code;
		res.reply = c->result;
		c->cookie = NULL;
		c->result = NULL;
		/* The callback may submit: the connection is free already. */
		done(&res, arg);
		free((char *)res.reply);
		n++;
	}
	return n;
}

static int
send_smtp_run(struct transport *t, int timeout_ms,
    void (*done)(const struct transport_result *, void *),
    void *arg, char **cause)
{
	struct send_smtp_conn	*c;
	struct curl_waitfd	*w;
	CURLMsg			*msg;
	CURLMcode		 mc;
	int64_t			 now;
	int			 i, n = 0, left, running;

	if (t->nfinished > 0)
		timeout_ms = 0;
	now = monotime_ms();
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (c->state < SEND_SMTP_READY || c->sock == CURL_SOCKET_BAD)
			continue;
		if (c->state != SEND_SMTP_READY &&
		    c->deadline - now < timeout_ms)
			timeout_ms = c->deadline - now > 0 ?
			    (int)(c->deadline - now) : 0;
		w = &t->wait[n];
		w->fd = c->sock;
		w->events = CURL_WAIT_POLLIN;
		if (c->outoff < send_smtp_sendable(c))
			w->events |= CURL_WAIT_POLLOUT;
		w->revents = 0;
		t->waiting[n++] = c;
	}

	/* Also wakes for the connections libcurl is making, and wakeup(). */
	mc = curl_multi_poll(t->multi, t->wait, (unsigned)n,
	    timeout_ms > 0 ? timeout_ms : 0, NULL);
	if (mc != CURLM_OK && mc != CURLM_UNRECOVERABLE_POLL) {
		xasprintf(cause, "curl_multi_poll: %s",
		    curl_multi_strerror(mc));
		return -1;
	}
	if ((mc = curl_multi_perform(t->multi, &running)) != CURLM_OK) {
		xasprintf(cause, "curl_multi_perform: %s",
		    curl_multi_strerror(mc));
		return -1;
	}
	while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		c = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &c);
		if (c != NULL && c->state == SEND_SMTP_CONNECTING)
			send_smtp_connected(t, c, msg->data.result);
	}

	for (i = 0; i < n; i++) {
		if (t->wait[i].revents != 0)
			send_smtp_io(t, t->waiting[i]);
	}

	/* smtp.timeout: the whole transaction, as libcurl would count it. */
	now = monotime_ms();
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if ((c->state == SEND_SMTP_IN_ENVELOPE ||
		    c->state == SEND_SMTP_IN_BODY) && now >= c->deadline) {
			/* A slow server, not a stale connection. */
			c->reused = 0;
			send_smtp_broken(t, c, "Timeout was reached: no reply "
			    "within smtp.timeout");
		}
	}
	send_smtp_report(t, done, arg);
	return 0;
}

static void
send_smtp_wakeup(struct transport *t)
{
	curl_multi_wakeup(t->multi);
}

static void
send_smtp_abort(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct send_smtp_conn	*c;
	int			 i;

	/* Finished ones first: they may have been accepted. */
	send_smtp_report(t, done, arg);
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		if (!c->busy)
			continue;
		send_smtp_disconnect(t, c, 0);
		send_smtp_finish(t, c, TRANSPORT_TEMPFAIL, 0, "interrupted: "
		    "postroom stopped before the server replied");
	}
	send_smtp_report(t, done, arg);
}

static void
send_smtp_close(struct transport *t)
{
	struct send_smtp_conn	*c;
	int			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nconns; i++) {
		c = &t->conns[i];
		send_smtp_disconnect(t, c, 1);
		free(c->result);
		free(c->failtext);
		buf_free(&c->out);
		send_smtp_reply_free(&c->reply);
	}
	log_debug("smtp: %ld messages over %ld connections", t->messages,
	    t->connects);
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	free(t->conns);
	free(t->wait);
	free(t->waiting);
	if (t->password != NULL)
		explicit_bzero(t->password, strlen(t->password));
	free(t->password);
	free(t->url);
	free(t);
}

const struct transport_ops send_smtp_ops = {
	"smtp",
	send_smtp_open,
	send_smtp_slots,
	send_smtp_submit,
	send_smtp_run,
	send_smtp_wakeup,
	send_smtp_abort,
	send_smtp_close,
};
