/*
 * send-smtp.c - the SMTP transport: smtp:// and smtps:// through libcurl's
 * multi interface.  The only file in postroom that includes <curl/curl.h>.
 *
 * Owns: N easy handles (smtp.concurrency) driven by one multi handle, each
 * reused for message after message, so that connections stay open between
 * messages in the multi's connection cache (no new TCP + EHLO + TLS + AUTH
 * per message); TLS (STARTTLS required / optional / off, or implicit TLS
 * with smtps://) with certificate checks on unless smtp.verify_cert is
 * off; AUTH with smtp.user and a password (smtp.password_file, read with
 * conf_read_secret(), or smtp.password); timeouts; the EHLO name
 * (general.domain); keeping the server's last reply; telling the engine
 * what the outcome was (send_smtp_status()).
 *
 * One recipient per transaction: libcurl reports one RCPT result.  The
 * message is streamed from the engine's buffer through the read callback;
 * libcurl does the dot-stuffing and ends DATA with CRLF.CRLF (it expects
 * CRLF line ends, which the engine guarantees).
 *
 * Does not own: which messages to send or what happens to them afterwards
 * (deliver.c), the message bytes (newsletter.c, the outbox).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "send-smtp.h"
#include "transport.h"
#include "xmalloc.h"

struct send_smtp_slot {
	struct transport	*t;
	CURL			*easy;
	int			 busy;
	int			 retried;	/* sent again (stale) */
	void			*cookie;
	const char		*data;
	size_t			 len;
	size_t			 off;
	struct curl_slist	*rcpt;
	struct send_smtp_reply	 reply;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct transport {
	CURLM			*multi;
	struct send_smtp_slot	*slots;
	int			 nslots;
	int			 nbusy;
	char			*url;
	char			*password;
	long			 connects;	/* new connections made */
	long			 messages;	/* transactions finished */
};

static pthread_once_t	send_smtp_once = PTHREAD_ONCE_INIT;
static CURLcode		send_smtp_init_rc;

/* --- replies (send-smtp.h) -------------------------------------------- */

void
send_smtp_reply_init(struct send_smtp_reply *r)
{
	buf_init(&r->line, 4096);
	buf_init(&r->cur, SEND_SMTP_REPLY_MAX);
	buf_init(&r->last, SEND_SMTP_REPLY_MAX);
	r->code = 0;
}

void
send_smtp_reply_reset(struct send_smtp_reply *r)
{
	buf_reset(&r->line);
	buf_reset(&r->cur);
	buf_reset(&r->last);
	r->code = 0;
}

void
send_smtp_reply_free(struct send_smtp_reply *r)
{
	buf_free(&r->line);
	buf_free(&r->cur);
	buf_free(&r->last);
}

/* Append as much of s as fits under the buffer's cap. */
static void
send_smtp_reply_append(struct buf *b, const char *s, size_t len)
{
	size_t	room;

	if (b->len >= b->max)
		return;
	room = b->max - b->len;
	buf_add(b, s, len < room ? len : room);
}

/* One whole line, CR LF stripped. */
static void
send_smtp_reply_line(struct send_smtp_reply *r, const char *s, size_t len)
{
	int	final, code;

	if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9')
		return;		/* not a reply line */
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	/*
	 * libcurl says QUIT when it closes a connection after a failure:
	 * "221 Bye" is never what became of the message.
	 */
	if (code == 221)
		return;
	final = len == 3 || s[3] != '-';
	if (r->cur.len > 0)
		send_smtp_reply_append(&r->cur, " ", 1);
	send_smtp_reply_append(&r->cur, s, len);
	if (!final)
		return;
	buf_reset(&r->last);
	send_smtp_reply_append(&r->last, r->cur.data, r->cur.len);
	buf_reset(&r->cur);
	r->code = code;
}

void
send_smtp_reply_add(struct send_smtp_reply *r, const char *s, size_t len)
{
	const char	*nl;
	size_t		 n;

	while (len > 0) {
		if ((nl = memchr(s, '\n', len)) == NULL) {
			send_smtp_reply_append(&r->line, s, len);
			return;
		}
		n = (size_t)(nl - s);
		send_smtp_reply_append(&r->line, s, n);
		n++;
		s += n;
		len -= n;
		if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r')
			r->line.data[--r->line.len] = '\0';
		send_smtp_reply_line(r, r->line.data, r->line.len);
		buf_reset(&r->line);
	}
}

enum transport_status
send_smtp_status(int ok, int code, enum send_smtp_stage stage)
{
	if (ok)
		return TRANSPORT_OK;
	/*
	 * 530 (authentication or STARTTLS required), 534, 535 (AUTH
	 * refused) and 538 (encryption required) say something about our
	 * session - usually our configuration - not about the message, even
	 * when they come as the reply to MAIL.
	 */
	if (code == 530 || code == 534 || code == 535 || code == 538)
		return TRANSPORT_TEMPFAIL;
	if (code >= 500 && code < 600 && stage != SEND_SMTP_SESSION)
		return TRANSPORT_PERMFAIL;
	return TRANSPORT_TEMPFAIL;
}

/* --- libcurl ---------------------------------------------------------- */

static void
send_smtp_global_init(void)
{
	send_smtp_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
send_smtp_read(char *ptr, size_t size, size_t nitems, void *arg)
{
	struct send_smtp_slot	*slot = arg;
	size_t			 n = size * nitems;

	if (n > slot->len - slot->off)
		n = slot->len - slot->off;
	memcpy(ptr, slot->data + slot->off, n);
	slot->off += n;
	return n;
}

/* libcurl passes every SMTP response line to the header callback. */
static size_t
send_smtp_header(char *ptr, size_t size, size_t nitems, void *arg)
{
	struct send_smtp_slot	*slot = arg;

	send_smtp_reply_add(&slot->reply, ptr, size * nitems);
	return size * nitems;
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

/* The options every transfer on this handle shares. */
static int
send_smtp_easy(struct transport *t, struct send_smtp_slot *slot,
    const struct conf *conf, char **cause)
{
	const struct conf_smtp	*c = &conf->smtp;
	CURL			*e;
	long			 ssl;

	if ((slot->easy = e = curl_easy_init()) == NULL) {
		xasprintf(cause, "curl_easy_init failed");
		return -1;
	}
	SEND_SMTP_SETOPT(e, CURLOPT_URL, t->url);
	SEND_SMTP_SETOPT(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SEND_SMTP_SETOPT(e, CURLOPT_NOSIGNAL, 1L);
	SEND_SMTP_SETOPT(e, CURLOPT_UPLOAD, 1L);
	SEND_SMTP_SETOPT(e, CURLOPT_READFUNCTION, send_smtp_read);
	SEND_SMTP_SETOPT(e, CURLOPT_READDATA, slot);
	SEND_SMTP_SETOPT(e, CURLOPT_HEADERFUNCTION, send_smtp_header);
	SEND_SMTP_SETOPT(e, CURLOPT_HEADERDATA, slot);
	SEND_SMTP_SETOPT(e, CURLOPT_ERRORBUFFER, slot->errbuf);
	SEND_SMTP_SETOPT(e, CURLOPT_PRIVATE, slot);
	SEND_SMTP_SETOPT(e, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_TIMEOUT, (long)c->timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	switch (c->starttls) {
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
	SEND_SMTP_SETOPT(e, CURLOPT_SSL_VERIFYPEER, c->verify_cert ? 1L : 0L);
	SEND_SMTP_SETOPT(e, CURLOPT_SSL_VERIFYHOST, c->verify_cert ? 2L : 0L);
	if (c->user[0] != '\0') {
		SEND_SMTP_SETOPT(e, CURLOPT_USERNAME, c->user);
		SEND_SMTP_SETOPT(e, CURLOPT_PASSWORD, t->password);
	}
	return 0;
}

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
	t->url = send_smtp_url(conf);
	if (c->password_file[0] != '\0') {
		if (conf_read_secret(c->password_file, &t->password,
		    cause) == -1) {
			free(t->url);
			free(t);
			return NULL;
		}
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
	/* N connections at most, and keep all N open between messages. */
	curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)c->concurrency);
	curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)c->concurrency);
	curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)c->concurrency);

	t->nslots = c->concurrency > 0 ? c->concurrency : 1;
	t->slots = xcalloc((size_t)t->nslots, sizeof *t->slots);
	for (i = 0; i < t->nslots; i++) {
		t->slots[i].t = t;
		send_smtp_reply_init(&t->slots[i].reply);
		if (send_smtp_easy(t, &t->slots[i], conf, cause) == -1)
			goto fail;
	}
	return t;

fail:
	send_smtp_close(t);
	return NULL;
}

static int
send_smtp_slots(struct transport *t)
{
	return t->nslots - t->nbusy;
}

#undef SEND_SMTP_SETOPT
#define SEND_SMTP_SETOPT(e, opt, val) do {				\
	CURLcode	rc_ = curl_easy_setopt((e), (opt), (val));	\
	if (rc_ != CURLE_OK) {						\
		xasprintf(cause, "curl: %s: %s", #opt,			\
		    curl_easy_strerror(rc_));				\
		goto fail;						\
	}								\
} while (0)

/* Put a slot's message (again) on the multi handle. */
static int
send_smtp_start(struct transport *t, struct send_smtp_slot *slot,
    char **cause)
{
	CURLMcode	mrc;

	slot->off = 0;
	slot->errbuf[0] = '\0';
	send_smtp_reply_reset(&slot->reply);
	if ((mrc = curl_multi_add_handle(t->multi, slot->easy)) != CURLM_OK) {
		xasprintf(cause, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mrc));
		return -1;
	}
	return 0;
}

static int
send_smtp_submit(struct transport *t, const struct transport_msg *m,
    char **cause)
{
	struct send_smtp_slot	*slot = NULL;
	int			 i;

	for (i = 0; i < t->nslots; i++) {
		if (!t->slots[i].busy) {
			slot = &t->slots[i];
			break;
		}
	}
	if (slot == NULL)
		fatalx("%s: no free slot", __func__);

	slot->cookie = m->cookie;
	slot->data = m->data;
	slot->len = m->len;
	slot->retried = 0;
	if ((slot->rcpt = curl_slist_append(NULL, m->rcpt_to)) == NULL)
		fatalx("%s: out of memory", __func__);
	/* "" is the null sender: curl then says MAIL FROM:<>. */
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_MAIL_FROM, m->mail_from);
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_MAIL_RCPT, slot->rcpt);
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)m->len);
	if (send_smtp_start(t, slot, cause) == -1)
		goto fail;
	slot->busy = 1;
	t->nbusy++;
	return 0;

fail:
	curl_slist_free_all(slot->rcpt);
	slot->rcpt = NULL;
	return -1;
}

/* Hand a finished slot's result back and free the slot. */
static void
send_smtp_report(struct transport *t, struct send_smtp_slot *slot,
    enum transport_status status, int code, const char *reply,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct transport_result	res;

	curl_easy_setopt(slot->easy, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(slot->rcpt);
	slot->rcpt = NULL;
	slot->busy = 0;
	t->nbusy--;
	t->messages++;

	res.cookie = slot->cookie;
	res.status = status;
	res.code = code;
	res.reply = reply;
	slot->cookie = NULL;
	slot->data = NULL;
	done(&res, arg);
}

static void
send_smtp_finish(struct transport *t, struct send_smtp_slot *slot,
    CURLcode result, void (*done)(const struct transport_result *, void *),
    void *arg)
{
	enum transport_status	 status;
	enum send_smtp_stage	 stage;
	long			 code = 0, connects = 0;
	char			*reply, *cause = NULL;

	curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(slot->easy, CURLINFO_NUM_CONNECTS, &connects);
	curl_multi_remove_handle(t->multi, slot->easy);
	t->connects += connects;

	/*
	 * A connection from the cache that the server had closed while it
	 * sat idle fails at the first command, before any of the message:
	 * send once more, on a new connection.
	 */
	if (result != CURLE_OK && connects == 0 && !slot->retried &&
	    slot->off == 0 && code < 400 &&
	    (result == CURLE_SEND_ERROR || result == CURLE_RECV_ERROR ||
	    result == CURLE_GOT_NOTHING)) {
		log_debug("smtp: reused connection failed (%s); trying a new "
		    "one", curl_easy_strerror(result));
		slot->retried = 1;
		if (send_smtp_start(t, slot, &cause) == 0)
			return;
		log_warn("smtp: %s", cause);
		free(cause);
	}

	if (result == CURLE_OK)
		stage = SEND_SMTP_MESSAGE;
	else if (slot->off == slot->len && slot->len > 0 &&
	    result == CURLE_WEIRD_SERVER_REPLY)
		stage = SEND_SMTP_MESSAGE;	/* the reply to the dot */
	else if (result == CURLE_SEND_ERROR && code >= 400)
		stage = SEND_SMTP_ENVELOPE;	/* MAIL, RCPT or DATA refused */
	else
		stage = SEND_SMTP_SESSION;
	status = send_smtp_status(result == CURLE_OK, (int)code, stage);

	if (status != TRANSPORT_OK && code >= 400 && slot->reply.code >= 400)
		reply = xprintf("%s", slot->reply.last.data);
	else if (status != TRANSPORT_OK) {
		/* "Timeout was reached: Operation timed out after ..." */
		if (slot->errbuf[0] != '\0')
			reply = xprintf("%s: %s", curl_easy_strerror(result),
			    slot->errbuf);
		else
			reply = xprintf("%s", curl_easy_strerror(result));
		code = code >= 400 ? code : 0;
	} else
		reply = xprintf("%s", slot->reply.last.len > 0 ?
		    slot->reply.last.data : "250 accepted");
	if (status == TRANSPORT_TEMPFAIL && code >= 500)
		log_warn("smtp: %s refuses the session, not the message "
		    "(check smtp.starttls, smtp.user and the password): %s",
		    t->url, reply);
	send_smtp_report(t, slot, status, (int)code, reply, done, arg);
	free(reply);
}

static int
send_smtp_collect(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct send_smtp_slot	*slot;
	CURLMsg			*msg;
	int			 left, n = 0;
	char			*p;

	while ((msg = curl_multi_info_read(t->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		slot = (struct send_smtp_slot *)p;
		send_smtp_finish(t, slot, msg->data.result, done, arg);
		n++;
	}
	return n;
}

static int
send_smtp_run(struct transport *t, int timeout_ms,
    void (*done)(const struct transport_result *, void *),
    void *arg, char **cause)
{
	CURLMcode	mrc;
	int		running;

	if ((mrc = curl_multi_perform(t->multi, &running)) != CURLM_OK)
		goto fail;
	if (send_smtp_collect(t, done, arg) > 0 || timeout_ms <= 0)
		return 0;
	if ((mrc = curl_multi_poll(t->multi, NULL, 0, timeout_ms,
	    NULL)) != CURLM_OK)
		goto fail;
	if ((mrc = curl_multi_perform(t->multi, &running)) != CURLM_OK)
		goto fail;
	send_smtp_collect(t, done, arg);
	return 0;

fail:
	xasprintf(cause, "curl multi: %s", curl_multi_strerror(mrc));
	return -1;
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
	int	i;

	/* Finished ones first: they may have been accepted. */
	send_smtp_collect(t, done, arg);
	for (i = 0; i < t->nslots; i++) {
		if (!t->slots[i].busy)
			continue;
		/*
		 * Removing a transfer closes its connection with QUIT, and
		 * libcurl waits for the reply - from a stalled server, for
		 * two minutes.  One second is enough.  (7.88 gives no way to
		 * reach the socket of a transfer in progress to shut it.)
		 */
		curl_easy_setopt(t->slots[i].easy,
		    CURLOPT_SERVER_RESPONSE_TIMEOUT, 1L);
		curl_multi_remove_handle(t->multi, t->slots[i].easy);
		send_smtp_report(t, &t->slots[i], TRANSPORT_TEMPFAIL, 0,
		    "interrupted: postroom stopped before the server replied",
		    done, arg);
	}
}

static void
send_smtp_close(struct transport *t)
{
	int	i;

	if (t == NULL)
		return;
	log_debug("smtp: %ld messages over %ld connections", t->messages,
	    t->connects);
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].easy == NULL)
			continue;
		if (t->slots[i].busy)
			curl_multi_remove_handle(t->multi, t->slots[i].easy);
		curl_slist_free_all(t->slots[i].rcpt);
		curl_easy_cleanup(t->slots[i].easy);
	}
	/* Closes the cached connections, with QUIT. */
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	for (i = 0; i < t->nslots; i++)
		send_smtp_reply_free(&t->slots[i].reply);
	free(t->slots);
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
