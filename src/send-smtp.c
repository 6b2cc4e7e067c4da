/*
 * send-smtp.c - the SMTP transport: smtp:// and smtps:// through libcurl.
 * The only file in postroom that includes <curl/curl.h>.
 *
 * Owns: N connections (smtp.concurrency), each an easy handle in a thread
 * of its own, reused for message after message, so that connections stay
 * open between messages (no new TCP + EHLO + TLS + AUTH per message); TLS
 * (STARTTLS required / optional / off, or implicit TLS with smtps://)
 * with certificate checks on unless smtp.verify_cert is off; AUTH with
 * smtp.user and a password (smtp.password_file, read with
 * conf_read_secret(), or smtp.password); timeouts; the EHLO name
 * (general.domain); keeping the server's last reply; telling the engine
 * what the outcome was (send_smtp_status()).
 *
 * Why threads and not one curl multi handle: libcurl waits for the reply
 * to the final "." of a message in a blocking loop (smtp_done(); curl
 * issue 8555, still so in 8.x), even under the multi interface.  One
 * multi handle would stall every connection for a round trip per message
 * - the server's fsync of its queue file included - so that
 * smtp.concurrency bought nothing.  A thread per connection blocks only
 * its own.  The engine still sees one struct transport in one thread
 * (transport.h): submit() hands a message to an idle connection's thread,
 * which runs the transaction with curl_easy_perform() and queues the
 * result; run() waits on an eventfd for results (or wakeup()) and
 * reports them in the engine's thread.  abort() makes every transfer in
 * progress give up through the progress callback (libcurl calls it at
 * least once a second, in its blocking waits too) and waits for the
 * threads to let go of the messages' bytes.
 *
 * One recipient per transaction: libcurl reports one RCPT result.  The
 * message is streamed from the engine's buffer through the read callback;
 * libcurl does the dot-stuffing and ends DATA with CRLF.CRLF (it expects
 * CRLF line ends, which the engine guarantees).
 *
 * Does not own: which messages to send or what happens to them afterwards
 * (deliver.c), the message bytes (newsletter.c, the outbox).
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "send-smtp.h"
#include "transport.h"
#include "xmalloc.h"

/* Bytes libcurl reads from us at a time (its minimum). */
#define SEND_SMTP_UPLOAD_BUFFER	(16 * 1024)

/* Where a connection's thread is, under the transport's lock. */
enum send_smtp_state {
	SEND_SMTP_IDLE,		/* waiting for a message */
	SEND_SMTP_QUEUED,	/* given one, not started yet */
	SEND_SMTP_RUNNING,	/* in curl_easy_perform() */
	SEND_SMTP_DONE,		/* result ready for the engine */
};

struct send_smtp_slot {
	struct transport	*t;
	CURL			*easy;
	pthread_t		 thread;
	int			 started;	/* thread running */
	pthread_cond_t		 cond;		/* a message, or quit */
	enum send_smtp_state	 state;		/* under t->lock */

	/* The engine's: */
	int			 inuse;		/* from submit to collect */
	int			 busy;		/* to be reported (not aborted) */
	void			*cookie;
	struct curl_slist	*rcpt;

	/* The message, read by the thread while RUNNING. */
	const char		*data;
	size_t			 len;
	size_t			 off;

	/* The thread's, handed over with DONE. */
	int			 retried;	/* sent again (stale) */
	long			 connects;	/* new connections made */
	enum transport_status	 status;
	int			 code;
	char			*result;	/* the reply, or the error */
	struct send_smtp_reply	 reply;
	char			 errbuf[CURL_ERROR_SIZE];
};

struct transport {
	struct send_smtp_slot	*slots;
	struct send_smtp_slot	**ready;	/* scratch for collect */
	int			 nslots;
	int			 nbusy;		/* slots in use */
	char			*url;
	char			*password;
	long			 connects;	/* new connections made */
	long			 messages;	/* transactions finished */

	pthread_mutex_t		 lock;
	pthread_cond_t		 settled;	/* a thread went DONE */
	int			 quit;		/* under lock */
	atomic_int		 aborting;	/* transfers give up */
	int			 efd;		/* results, wakeup(): eventfd */
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

/* Non-zero makes libcurl give the transfer up: abort() and close(). */
static int
send_smtp_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct send_smtp_slot	*slot = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(&slot->t->aborting);
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
	SEND_SMTP_SETOPT(e, CURLOPT_NOPROGRESS, 0L);
	SEND_SMTP_SETOPT(e, CURLOPT_XFERINFOFUNCTION, send_smtp_progress);
	SEND_SMTP_SETOPT(e, CURLOPT_XFERINFODATA, slot);
	SEND_SMTP_SETOPT(e, CURLOPT_ERRORBUFFER, slot->errbuf);
	SEND_SMTP_SETOPT(e, CURLOPT_CONNECTTIMEOUT, (long)c->connect_timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_TIMEOUT, (long)c->timeout);
	SEND_SMTP_SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
	/* One connection per handle, kept open between messages. */
	SEND_SMTP_SETOPT(e, CURLOPT_MAXCONNECTS, 1L);
	/*
	 * libcurl allocates the upload buffer, and twice its size for SMTP
	 * dot-stuffing, for every transfer and frees them after: at the
	 * default of 64 KB each free makes malloc consolidate and give
	 * memory back to the kernel (brk, then page faults to get it again),
	 * per message.  SEND_SMTP_UPLOAD_BUFFER keeps both under malloc's
	 * thresholds and still takes a newsletter in one read.
	 */
	SEND_SMTP_SETOPT(e, CURLOPT_UPLOAD_BUFFERSIZE,
	    (long)SEND_SMTP_UPLOAD_BUFFER);
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

/* --- a connection's thread -------------------------------------------- */

/* Tell the engine's run(): a result, or wakeup(). */
static void
send_smtp_notify(struct transport *t)
{
	uint64_t	one = 1;

	(void)write(t->efd, &one, sizeof one);
}

/* One transaction, start to finish, in the connection's thread. */
static void
send_smtp_transfer(struct transport *t, struct send_smtp_slot *slot)
{
	enum transport_status	 status;
	enum send_smtp_stage	 stage;
	CURLcode		 result;
	long			 code, connects;
	char			*reply;

	slot->retried = 0;
	slot->connects = 0;
again:
	slot->off = 0;
	slot->errbuf[0] = '\0';
	send_smtp_reply_reset(&slot->reply);
	result = curl_easy_perform(slot->easy);
	code = connects = 0;
	curl_easy_getinfo(slot->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(slot->easy, CURLINFO_NUM_CONNECTS, &connects);
	slot->connects += connects;

	/*
	 * A connection kept open that the server had closed while it sat
	 * idle fails at the first command, before any of the message: send
	 * once more, on a new connection.
	 */
	if (result != CURLE_OK && connects == 0 && !slot->retried &&
	    slot->off == 0 && code < 400 && !atomic_load(&t->aborting) &&
	    (result == CURLE_SEND_ERROR || result == CURLE_RECV_ERROR ||
	    result == CURLE_GOT_NOTHING)) {
		log_debug("smtp: reused connection failed (%s); trying a new "
		    "one", curl_easy_strerror(result));
		slot->retried = 1;
		goto again;
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
	if (status == TRANSPORT_TEMPFAIL && code >= 500 &&
	    !atomic_load(&t->aborting))
		log_warn("smtp: %s refuses the session, not the message "
		    "(check smtp.starttls, smtp.user and the password): %s",
		    t->url, reply);
	slot->status = status;
	slot->code = (int)code;
	slot->result = reply;
}

static void *
send_smtp_thread(void *arg)
{
	struct send_smtp_slot	*slot = arg;
	struct transport	*t = slot->t;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (slot->state != SEND_SMTP_QUEUED && !t->quit)
			pthread_cond_wait(&slot->cond, &t->lock);
		if (t->quit)
			break;
		slot->state = SEND_SMTP_RUNNING;
		pthread_mutex_unlock(&t->lock);

		send_smtp_transfer(t, slot);

		pthread_mutex_lock(&t->lock);
		slot->state = SEND_SMTP_DONE;
		pthread_cond_broadcast(&t->settled);
		send_smtp_notify(t);
	}
	pthread_mutex_unlock(&t->lock);
	/* Closes the connection, with QUIT: each thread its own, at once. */
	curl_easy_cleanup(slot->easy);
	slot->easy = NULL;
	return NULL;
}

/* --- the engine's side ------------------------------------------------- */

static void send_smtp_close(struct transport *);

static struct transport *
send_smtp_open(const struct conf *conf, char **cause)
{
	const struct conf_smtp	*c = &conf->smtp;
	struct send_smtp_slot	*slot;
	struct transport	*t;
	sigset_t		 all, old;
	int			 i, rc;

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
	t->efd = -1;
	atomic_init(&t->aborting, 0);
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->settled, NULL);
	t->url = send_smtp_url(conf);
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
	if ((t->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		xasprintf(cause, "eventfd: %s", strerror(errno));
		goto fail;
	}

	t->nslots = c->concurrency > 0 ? c->concurrency : 1;
	t->slots = xcalloc((size_t)t->nslots, sizeof *t->slots);
	t->ready = xcalloc((size_t)t->nslots, sizeof *t->ready);
	for (i = 0; i < t->nslots; i++) {
		slot = &t->slots[i];
		slot->t = t;
		pthread_cond_init(&slot->cond, NULL);
		send_smtp_reply_init(&slot->reply);
		if (send_smtp_easy(t, slot, conf, cause) == -1)
			goto fail;
	}

	/* Signals are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < t->nslots; i++) {
		slot = &t->slots[i];
		if ((rc = pthread_create(&slot->thread, NULL,
		    send_smtp_thread, slot)) != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			xasprintf(cause, "pthread_create: %s", strerror(rc));
			goto fail;
		}
		slot->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
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

static int
send_smtp_submit(struct transport *t, const struct transport_msg *m,
    char **cause)
{
	struct send_smtp_slot	*slot = NULL;
	int			 i;

	for (i = 0; i < t->nslots; i++) {
		if (!t->slots[i].inuse) {
			slot = &t->slots[i];
			break;
		}
	}
	if (slot == NULL)
		fatalx("%s: no free slot", __func__);

	/*
	 * The thread is waiting (IDLE): the handle is ours to set until the
	 * message is handed over, under the lock.
	 */
	slot->cookie = m->cookie;
	slot->data = m->data;
	slot->len = m->len;
	if ((slot->rcpt = curl_slist_append(NULL, m->rcpt_to)) == NULL)
		fatalx("%s: out of memory", __func__);
	/* "" is the null sender: curl then says MAIL FROM:<>. */
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_MAIL_FROM, m->mail_from);
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_MAIL_RCPT, slot->rcpt);
	SEND_SMTP_SETOPT(slot->easy, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)m->len);
	slot->inuse = 1;
	slot->busy = 1;
	t->nbusy++;

	pthread_mutex_lock(&t->lock);
	slot->state = SEND_SMTP_QUEUED;
	pthread_cond_signal(&slot->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;

fail:
	curl_slist_free_all(slot->rcpt);
	slot->rcpt = NULL;
	return -1;
}

/*
 * Hand the results the threads have finished to done (dropping those of
 * messages abort() already gave up on) and free their slots.  Returns how
 * many were handed to done.
 */
static int
send_smtp_collect(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct send_smtp_slot	*slot;
	struct transport_result	 res;
	int			 i, n = 0, reported = 0;

	pthread_mutex_lock(&t->lock);
	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].state == SEND_SMTP_DONE) {
			t->slots[i].state = SEND_SMTP_IDLE;
			t->ready[n++] = &t->slots[i];
		}
	}
	pthread_mutex_unlock(&t->lock);

	for (i = 0; i < n; i++) {
		slot = t->ready[i];
		t->connects += slot->connects;
		curl_slist_free_all(slot->rcpt);
		slot->rcpt = NULL;
		slot->inuse = 0;
		slot->data = NULL;
		t->nbusy--;
		res.cookie = slot->cookie;
		res.status = slot->status;
		res.code = slot->code;
		res.reply = slot->result;
		slot->cookie = NULL;
		slot->result = NULL;
		if (slot->busy) {
			/* The callback may submit: the slot is free already. */
			slot->busy = 0;
			t->messages++;
			done(&res, arg);
			reported++;
		}
		free((char *)res.reply);
	}
	if (t->nbusy == 0)
		atomic_store(&t->aborting, 0);
	return reported;
}

/* Empty the eventfd: what it said is about to be looked at. */
static void
send_smtp_drain(struct transport *t)
{
	uint64_t	v;

	(void)read(t->efd, &v, sizeof v);
}

static int
send_smtp_run(struct transport *t, int timeout_ms,
    void (*done)(const struct transport_result *, void *),
    void *arg, char **cause)
{
	struct pollfd	pfd;

	send_smtp_drain(t);
	if (send_smtp_collect(t, done, arg) > 0 || timeout_ms <= 0)
		return 0;
	pfd.fd = t->efd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, timeout_ms) == -1 && errno != EINTR) {
		xasprintf(cause, "poll: %s", strerror(errno));
		return -1;
	}
	send_smtp_drain(t);
	send_smtp_collect(t, done, arg);
	return 0;
}

static void
send_smtp_wakeup(struct transport *t)
{
	send_smtp_notify(t);
}

/*
 * Make every transfer in progress give up, and wait until the threads
 * are done with the messages' bytes (the engine frees them next).
 */
static void
send_smtp_settle(struct transport *t)
{
	int	i, running;

	atomic_store(&t->aborting, 1);
	pthread_mutex_lock(&t->lock);
	for (;;) {
		running = 0;
		for (i = 0; i < t->nslots; i++) {
			/* Not started: it never will be. */
			if (t->slots[i].state == SEND_SMTP_QUEUED) {
				t->slots[i].state = SEND_SMTP_DONE;
				t->slots[i].status = TRANSPORT_TEMPFAIL;
				t->slots[i].code = 0;
				t->slots[i].connects = 0;
			}
			if (t->slots[i].state == SEND_SMTP_RUNNING)
				running = 1;
		}
		if (!running)
			break;
		pthread_cond_wait(&t->settled, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
}

static void
send_smtp_abort(struct transport *t,
    void (*done)(const struct transport_result *, void *), void *arg)
{
	struct transport_result	res;
	int			i;

	/* Finished ones first: they may have been accepted. */
	send_smtp_collect(t, done, arg);
	for (i = 0; i < t->nslots; i++) {
		if (!t->slots[i].busy)
			continue;
		t->slots[i].busy = 0;
		t->messages++;
		res.cookie = t->slots[i].cookie;
		res.status = TRANSPORT_TEMPFAIL;
		res.code = 0;
		res.reply = "interrupted: postroom stopped before the server "
		    "replied";
		t->slots[i].cookie = NULL;
		done(&res, arg);
	}
	/*
	 * libcurl notices within a second (its waits call the progress
	 * callback at least that often) and closes those connections
	 * without waiting for QUIT's reply.
	 */
	send_smtp_settle(t);
	send_smtp_collect(t, done, arg);
}

static void
send_smtp_close(struct transport *t)
{
	struct send_smtp_slot	*slot;
	int			 i;

	if (t == NULL)
		return;
	/* Nothing should be in flight; if something is, give it up. */
	if (t->nbusy > 0)
		send_smtp_settle(t);
	pthread_mutex_lock(&t->lock);
	t->quit = 1;
	for (i = 0; i < t->nslots; i++)
		pthread_cond_signal(&t->slots[i].cond);
	pthread_mutex_unlock(&t->lock);
	for (i = 0; i < t->nslots; i++) {
		slot = &t->slots[i];
		if (slot->started)
			pthread_join(slot->thread, NULL);
		else if (slot->easy != NULL)
			curl_easy_cleanup(slot->easy);
		t->connects += slot->state == SEND_SMTP_DONE ?
		    slot->connects : 0;
		curl_slist_free_all(slot->rcpt);
		free(slot->result);
		send_smtp_reply_free(&slot->reply);
		pthread_cond_destroy(&slot->cond);
	}
	log_debug("smtp: %ld messages over %ld connections", t->messages,
	    t->connects);
	free(t->slots);
	free(t->ready);
	if (t->efd != -1)
		close(t->efd);
	pthread_cond_destroy(&t->settled);
	pthread_mutex_destroy(&t->lock);
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
