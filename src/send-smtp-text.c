/*
 * send-smtp-text.c - the SMTP transport's logic that needs no libcurl
 * (see send-smtp.h): gathering the server's reply lines into whole
 * replies, reading the EHLO reply's extensions, dot-stuffing a message,
 * and what a transaction's outcome means for the message.  Apart from
 * send-smtp.c so that unit tests and the fuzzer (fuzz-smtp-text) reach
 * it without a network.
 */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "buf.h"
#include "send-smtp.h"

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

/*
 * A reply is kept (outbox.last_reply) and shown to an operator (campaign
 * failures): no byte of it may be a terminal's escape, a NUL that cuts it
 * short, or something that is not text.  Replies are ASCII (RFC 5321
 * 4.2); anything else becomes "?".
 */
static void
send_smtp_reply_clean(char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
	}
}

/* One whole line, CR LF stripped; 1 when it ended a reply. */
static int
send_smtp_reply_line(struct send_smtp_reply *r, const char *s, size_t len)
{
	int	final, code;

	if (len < 3 || s[0] < '2' || s[0] > '5' || s[1] < '0' ||
	    s[1] > '9' || s[2] < '0' || s[2] > '9')
		return 0;	/* not a reply line */
	code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	/*
	 * libcurl says QUIT when it closes a connection after a failure:
	 * "221 Bye" is never what became of the message.
	 */
	if (code == 221)
		return 0;
	final = len == 3 || s[3] != '-';
	if (r->cur.len > 0)
		send_smtp_reply_append(&r->cur, " ", 1);
	send_smtp_reply_append(&r->cur, s, len);
	if (!final)
		return 0;
	buf_reset(&r->last);
	send_smtp_reply_append(&r->last, r->cur.data, r->cur.len);
	buf_reset(&r->cur);
	r->code = code;
	return 1;
}

size_t
send_smtp_reply_feed(struct send_smtp_reply *r, const char *s, size_t len,
    int *whole)
{
	const char	*nl;
	size_t		 n, used = 0;

	*whole = 0;
	while (used < len) {
		if ((nl = memchr(s + used, '\n', len - used)) == NULL) {
			send_smtp_reply_append(&r->line, s + used, len - used);
			return len;
		}
		n = (size_t)(nl - (s + used));
		send_smtp_reply_append(&r->line, s + used, n);
		used += n + 1;
		if (r->line.len > 0 && r->line.data[r->line.len - 1] == '\r')
			r->line.data[--r->line.len] = '\0';
		send_smtp_reply_clean(r->line.data, r->line.len);
		*whole = send_smtp_reply_line(r, r->line.data, r->line.len);
		buf_reset(&r->line);
		if (*whole)
			break;
	}
	return used;
}

void
send_smtp_reply_add(struct send_smtp_reply *r, const char *s, size_t len)
{
	size_t	n;
	int	whole;

	while (len > 0) {
		n = send_smtp_reply_feed(r, s, len, &whole);
		s += n;
		len -= n;
	}
}

/* --- EHLO extensions and dot-stuffing (send-smtp.h) -------------------- */

/* Is the line's keyword (after "250-" or "250 ") kw, alone or with args? */
static int
send_smtp_keyword(const char *s, size_t len, const char *kw)
{
	size_t	i, n = strlen(kw);

	/* Not strncasecmp(): libcurl's line is not NUL-terminated. */
	if (len < n || (len > n && s[n] != ' '))
		return 0;
	for (i = 0; i < n; i++) {
		if (toupper((unsigned char)s[i]) != kw[i])
			return 0;
	}
	return 1;
}

void
send_smtp_ehlo_line(struct send_smtp_ehlo *e, const char *s, size_t len)
{
	size_t	i;
	int	more;

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len < 3 || memcmp(s, "250", 3) != 0 ||
	    (len > 3 && s[3] != '-' && s[3] != ' ')) {
		e->in250 = 0;
		return;
	}
	more = len > 3 && s[3] == '-';
	if (!e->in250) {
		/* A new 250 reply; its first line names the server. */
		e->pipelining = e->size = 0;
		e->size_max = 0;
		e->in250 = more;
		return;
	}
	e->in250 = more;
	if (len <= 4)
		return;
	s += 4;
	len -= 4;
	if (send_smtp_keyword(s, len, "PIPELINING"))
		e->pipelining = 1;
	else if (send_smtp_keyword(s, len, "SIZE")) {
		e->size = 1;
		e->size_max = 0;
		for (i = 5; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
			if (e->size_max > (LLONG_MAX - 9) / 10) {
				/* No limit to speak of. */
				e->size_max = 0;
				break;
			}
			e->size_max = e->size_max * 10 + (s[i] - '0');
		}
	}
}

int
send_smtp_dot_stuff(struct buf *out, const char *data, size_t len)
{
	const char	*p = data, *end = data + len, *q;

	if (len > 0 && data[0] == '.' && buf_addc(out, '.') == -1)
		return -1;
	/*
	 * Line by line with memchr(), copying only where a dot is added:
	 * glibc's memmem() takes ten times as long for a two-byte needle.
	 */
	for (q = data; (q = memchr(q, '\n', (size_t)(end - q))) != NULL;) {
		q++;
		/*
		 * After a bare LF too: the engine sends CRLF only, but a
		 * server that takes LF for a line end must never see a lone
		 * dot there (SMTP smuggling).
		 */
		if (q == end || *q != '.')
			continue;
		if (buf_add(out, p, (size_t)(q - p)) == -1 ||
		    buf_addc(out, '.') == -1)
			return -1;
		p = q;
	}
	if (buf_add(out, p, (size_t)(end - p)) == -1)
		return -1;
	if ((len < 2 || end[-2] != '\r' || end[-1] != '\n') &&
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	return buf_add(out, ".\r\n", 3);
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
