/*
 * mime-build.c - writing outgoing messages: quoted-printable and base64
 * bodies, multipart structure, Date and Message-ID, and the builder
 * (struct mime_msg) that puts them together with the header fields
 * mime-header.c writes.
 *
 * Owns: the wire form of what postroom sends, but for the header fields
 * themselves (mime-header.c: cleaning, folding, RFC 2047 encoded words,
 * addresses).  Does not own: the content (templates, campaigns, routing),
 * parsing mail (mime-parse.c), SMTP transparency (libcurl dot-stuffs in
 * send-smtp.c; we encode a line-initial "." in quoted-printable anyway).
 *
 * Speed matters: the delivery engine renders every campaign message here.
 * Everything appends to one struct buf (doubling, so linear), encoders
 * fill a line at a time on the stack, a message's text and HTML are
 * normalised and encoded once when set, not at every write, sixteen bytes
 * at a time where they are printable ASCII, a header value that needs
 * neither cleaning nor folding is copied whole (mime-header.c), a reset
 * builder keeps its memory (header strings go in one store), and random
 * bytes are fetched a pool at a time: a message costs a few allocations
 * and no system call most of the time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "log.h"
#include "mime-build.h"
#include "mime-build-int.h"
#include "utf8.h"
#include "xmalloc.h"

#define MIME_NAME_MAX	76	/* longest header name we accept */
#define MIME_QP_LINE	76

enum mime_hkind {
	MIME_H_TEXT,		/* unstructured, RFC 2047 as needed */
	MIME_H_RAW,		/* structured ASCII */
	MIME_H_ADDR,		/* address list */
};

/*
 * A header as given.  Its strings are copied into the message's one
 * string store (struct mime_msg's strs) and named by their offsets there,
 * so that setting a header allocates nothing once a message or two have
 * been built; the array of addresses stays with its slot when the
 * message is reset, for the same reason.
 */
#define MIME_NONE	((size_t)-1)	/* no display name */

struct mime_saddr {
	size_t	display;		/* offset, or MIME_NONE */
	size_t	addr;
};

struct mime_hdr {
	enum mime_hkind	   kind;
	size_t		   name;	/* offsets in strs */
	size_t		   namelen;
	size_t		   value;	/* TEXT and RAW */
	struct mime_saddr *addrs;	/* ADDR */
	size_t		   naddrs;
	size_t		   addrs_cap;	/* kept across mime_msg_reset() */
};

struct mime_att {
	char	*data;		/* CRLF-normalised, or the original bytes */
	size_t	 len;
	int	 octet;		/* application/octet-stream, base64 */
	int	 eightbit;	/* message/rfc822 with 8-bit bytes */
};

struct mime_msg {
	struct mime_hdr	*hdrs;
	size_t		 nhdrs;
	size_t		 hdrs_cap;	/* kept across mime_msg_reset() */
	struct buf	 strs;		/* the headers' strings, NUL-ended */
	struct mime_addr *fold;		/* an ADDR header's, while written */
	size_t		 fold_cap;

	struct buf	 text;		/* encoded already, as text_cte */
	int		 has_text;
	enum mime_cte	 text_cte;
	struct buf	 html;		/* the same for HTML */
	int		 has_html;
	enum mime_cte	 html_cte;

	struct mime_att	*atts;
	size_t		 natts;

	char		*error;		/* the first bad thing given us */
	struct buf	 tmp;		/* scratch for header values */
	struct buf	 tmp2;
};

const char mime_hex[] = "0123456789ABCDEF";
const char mime_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* --- body encodings ----------------------------------------------------- */

/* Quoted-printable: 0 encode, 1 literal, 2 whitespace (literal unless
 * last on its line). */
static inline int
mime_qp_class(unsigned char c)
{
	if (c >= 33 && c <= 126)
		return c != '=';
	return (c == ' ' || c == '\t') ? 2 : 0;
}

/*
 * Encode (b not NULL) or count (b NULL) s as quoted-printable.  Output is
 * built a line at a time on the stack: at most 76 characters, then "=" and
 * CRLF for a soft break or CRLF for a hard one.
 */
static size_t
mime_qp_run(struct buf *b, const char *s, size_t len, int *err)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			 line[MIME_QP_LINE + 8];
	size_t			 i = 0, col = 0, total = 0, limit;
	unsigned char		 c;
	int			 lit, last, e = 0;

	while (i < len) {
		c = u[i];

		/* A line ends at LF or CRLF; a lone CR is data (=0D). */
		if (c == '\n' ||
		    (c == '\r' && i + 1 < len && u[i + 1] == '\n')) {
			line[col++] = '\r';
			line[col++] = '\n';
			if (b != NULL && buf_add(b, line, col) == -1)
				e = -1;
			total += col;
			col = 0;
			i += c == '\r' ? 2 : 1;
			continue;
		}
		last = i + 1 == len || u[i + 1] == '\n' || (u[i + 1] == '\r' &&
		    i + 2 < len && u[i + 2] == '\n');

		/* The last character may reach 76; others leave room for
		 * the soft break's "=". */
		limit = last ? MIME_QP_LINE : MIME_QP_LINE - 1;
		if ((lit = mime_qp_class(c)) == 2)
			lit = !last;		/* trailing whitespace */
		if (col + (lit ? 1 : 3) > limit) {
			line[col++] = '=';
			line[col++] = '\r';
			line[col++] = '\n';
			if (b != NULL && buf_add(b, line, col) == -1)
				e = -1;
			total += col;
			col = 0;
		}
		/* SMTP's end of data, and mbox's "From " munging. */
		if (col == 0 && (c == '.' || (c == 'F' && len - i >= 5 &&
		    memcmp(u + i, "From ", 5) == 0)))
			lit = 0;

		if (lit)
			line[col++] = (char)c;
		else {
			line[col++] = '=';
			line[col++] = mime_hex[c >> 4];
			line[col++] = mime_hex[c & 15];
		}
		i++;
	}
	if (col > 0) {
		if (b != NULL && buf_add(b, line, col) == -1)
			e = -1;
		total += col;
	}
	if (err != NULL)
		*err = e;
	return total;
}

int
mime_qp_encode(struct buf *b, const char *s, size_t len)
{
	int	err;

	mime_qp_run(b, s, len, &err);
	return err;
}

size_t
mime_qp_len(const char *s, size_t len)
{
	return mime_qp_run(NULL, s, len, NULL);
}

size_t
mime_base64_len(size_t len)
{
	size_t	chars = ((len + 2) / 3) * 4;

	return chars + 2 * ((chars + 75) / 76);
}

int
mime_base64_encode(struct buf *b, const void *p, size_t len)
{
	const unsigned char	*u = p;
	char			 line[80];
	size_t			 i, j, n, l;
	uint32_t		 v;

	for (i = 0; i < len; i += n) {
		/* 57 octets make 76 characters */
		n = len - i > 57 ? 57 : len - i;
		l = 0;
		for (j = 0; j < n; j += 3) {
			v = (uint32_t)u[i + j] << 16;
			if (j + 1 < n)
				v |= (uint32_t)u[i + j + 1] << 8;
			if (j + 2 < n)
				v |= u[i + j + 2];
			line[l++] = mime_b64[(v >> 18) & 63];
			line[l++] = mime_b64[(v >> 12) & 63];
			line[l++] = j + 1 < n ? mime_b64[(v >> 6) & 63] : '=';
			line[l++] = j + 2 < n ? mime_b64[v & 63] : '=';
		}
		line[l++] = '\r';
		line[l++] = '\n';
		if (buf_add(b, line, l) == -1)
			return -1;
	}
	return 0;
}

/* 1 when s can go as 7bit: printable ASCII, TAB, CRLF, lines <= 998. */
static int
mime_text_scan(const char *s, size_t len)
{
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i, cur = 0;

	for (i = 0; i < len; i++) {
		if (u[i] == '\r' && i + 1 < len && u[i + 1] == '\n') {
			cur = 0;
			i++;
			continue;
		}
		if ((u[i] < ' ' && u[i] != '\t') || u[i] >= 0x7f)
			return 0;
		if (++cur > MIME_LINE_MAX)
			return 0;
	}
	return 1;
}

enum mime_cte
mime_text_cte(const char *s, size_t len)
{
	if (mime_text_scan(s, len))
		return MIME_CTE_7BIT;
	if (mime_qp_len(s, len) <= mime_base64_len(len))
		return MIME_CTE_QP;
	return MIME_CTE_BASE64;
}

int
mime_body_encode(struct buf *b, enum mime_cte cte, const char *s, size_t len)
{
	switch (cte) {
	case MIME_CTE_7BIT:
	case MIME_CTE_8BIT:
		return buf_add(b, s, len);
	case MIME_CTE_QP:
		return mime_qp_encode(b, s, len);
	case MIME_CTE_BASE64:
		return mime_base64_encode(b, s, len);
	}
	fatalx("%s: bad encoding %d", __func__, (int)cte);
}

const char *
mime_cte_name(enum mime_cte cte)
{
	switch (cte) {
	case MIME_CTE_7BIT:
		return "7bit";
	case MIME_CTE_8BIT:
		return "8bit";
	case MIME_CTE_QP:
		return "quoted-printable";
	case MIME_CTE_BASE64:
		return "base64";
	}
	fatalx("%s: bad encoding %d", __func__, (int)cte);
}

/* --- identifiers -------------------------------------------------------- */

/*
 * Random bytes are fetched from getrandom() MIME_POOL at a time and handed
 * out in order: a system call for each Message-ID and each boundary was
 * a good part of what building a campaign message cost.  Each thread has
 * its own pool, and a child process starts with an empty one, so that it
 * never hands out what its parent will.
 */
#define MIME_POOL	256

static _Thread_local unsigned char	mime_pool[MIME_POOL];
static _Thread_local size_t		mime_pool_left;
static pthread_once_t			mime_pool_once = PTHREAD_ONCE_INIT;

static void
mime_pool_forget(void)
{
	mime_pool_left = 0;
}

static void
mime_pool_init(void)
{
	if (pthread_atfork(NULL, NULL, mime_pool_forget) != 0)
		fatalx("pthread_atfork failed");
}

static void
mime_pool_fill(void)
{
	unsigned char	*u = mime_pool;
	size_t		 len = MIME_POOL;
	ssize_t		 n;

	while (len > 0) {
		n = getrandom(u, len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatalx("getrandom: %s", strerror(errno));
		}
		u += n;
		len -= (size_t)n;
	}
	mime_pool_left = MIME_POOL;
}

static void
mime_random(void *p, size_t len)
{
	unsigned char	*u = p;
	size_t		 n;

	pthread_once(&mime_pool_once, mime_pool_init);
	while (len > 0) {
		if (mime_pool_left == 0)
			mime_pool_fill();
		n = len < mime_pool_left ? len : mime_pool_left;
		memcpy(u, mime_pool + MIME_POOL - mime_pool_left, n);
		/* Handed out: not kept where a later caller could see it. */
		memset(mime_pool + MIME_POOL - mime_pool_left, 0, n);
		mime_pool_left -= n;
		u += n;
		len -= n;
	}
}

static void
mime_random_hex(char *out, size_t nbytes)
{
	unsigned char	r[32];
	size_t		i;

	if (nbytes > sizeof r)
		fatalx("%s: %zu bytes", __func__, nbytes);
	mime_random(r, nbytes);
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = "0123456789abcdef"[r[i] >> 4];
		out[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* A host name fit for the right of a Message-ID. */
static int
mime_domain_ok(const char *d)
{
	size_t	i, len;

	if (d == NULL || (len = strlen(d)) == 0 || len > 253 ||
	    d[0] == '.' || d[len - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (i = 0; i < len; i++) {
		if (!((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' || d[i] == '.'))
			return 0;
	}
	return 1;
}

/* Two decimal digits of n (0-99) at p. */
static char *
mime_put2(char *p, int n)
{
	*p++ = (char)('0' + n / 10);
	*p++ = (char)('0' + n % 10);
	return p;
}

char *
mime_message_id(const char *domain)
{
	char		 hex[33], digits[24], *id, *p;
	size_t		 dlen, nd = 0;
	long long	 now = (long long)time(NULL);
	unsigned long long u;

	mime_random_hex(hex, 16);
	if (!mime_domain_ok(domain))
		domain = "postroom.invalid";

	/* "<hex.time@domain>", as "<%s.%lld@%s>" would write it. */
	u = now < 0 ? 0ULL - (unsigned long long)now : (unsigned long long)now;
	do {
		digits[nd++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (now < 0)
		digits[nd++] = '-';
	dlen = strlen(domain);
	id = p = xmalloc(1 + 32 + 1 + nd + 1 + dlen + 2);
	*p++ = '<';
	memcpy(p, hex, 32);
	p += 32;
	*p++ = '.';
	while (nd > 0)
		*p++ = digits[--nd];
	*p++ = '@';
	memcpy(p, domain, dlen);
	p += dlen;
	*p++ = '>';
	*p = '\0';
	return id;
}

char *
mime_message_id_tagged(const char *domain, const char *tag)
{
	char		 hex[33];
	const char	*p;

	for (p = tag; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			break;
	}
	if (*tag == '\0' || *p != '\0' || p - tag > 200)
		return mime_message_id(domain);
	mime_random_hex(hex, 16);
	if (!mime_domain_ok(domain))
		domain = "postroom.invalid";
	return xprintf("<%s.%s@%s>", hex, tag, domain);
}

char *
mime_date(time_t t)
{
	static const char *const days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	tm;
	long		off;
	char		sign = '+', s[64], *p = s;
	int		year;

	if (localtime_r(&t, &tm) == NULL && gmtime_r(&t, &tm) == NULL)
		fatalx("%s: time %lld out of range", __func__, (long long)t);
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	year = tm.tm_year + 1900;
	if (year < 0 || year > 9999 || off / 60 > 99) {
		return xprintf("%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
		    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], year,
		    tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60,
		    off % 60);
	}

	/* The common case by hand: printf is most of the cost otherwise. */
	memcpy(p, days[tm.tm_wday], 3);
	p += 3;
	*p++ = ',';
	*p++ = ' ';
	if (tm.tm_mday >= 10)
		*p++ = (char)('0' + tm.tm_mday / 10);
	*p++ = (char)('0' + tm.tm_mday % 10);
	*p++ = ' ';
	memcpy(p, months[tm.tm_mon], 3);
	p += 3;
	*p++ = ' ';
	p = mime_put2(p, year / 100);
	p = mime_put2(p, year % 100);
	*p++ = ' ';
	p = mime_put2(p, tm.tm_hour);
	*p++ = ':';
	p = mime_put2(p, tm.tm_min);
	*p++ = ':';
	p = mime_put2(p, tm.tm_sec);
	*p++ = ' ';
	*p++ = sign;
	p = mime_put2(p, (int)(off / 60));
	p = mime_put2(p, (int)(off % 60));
	*p = '\0';
	return xstrdup(s);
}

/* --- the message -------------------------------------------------------- */

struct mime_msg *
mime_msg_new(void)
{
	struct mime_msg	*m;

	m = xcalloc(1, sizeof *m);
	buf_init(&m->strs, BUF_NOMAX);
	buf_init(&m->text, BUF_NOMAX);
	buf_init(&m->html, BUF_NOMAX);
	buf_init(&m->tmp, BUF_NOMAX);
	buf_init(&m->tmp2, BUF_NOMAX);
	return m;
}

/* Free what was set: headers, attachments, the remembered error. */
static void
mime_msg_clear(struct mime_msg *m)
{
	size_t	i;

	m->nhdrs = 0;
	buf_reset(&m->strs);
	for (i = 0; i < m->natts; i++)
		free(m->atts[i].data);
	free(m->atts);
	m->atts = NULL;
	m->natts = 0;
	free(m->error);
	m->error = NULL;
}

void
mime_msg_reset(struct mime_msg *m)
{
	mime_msg_clear(m);
	m->has_text = m->has_html = 0;
	m->text_cte = m->html_cte = MIME_CTE_7BIT;
	buf_reset(&m->text);
	buf_reset(&m->html);
	buf_reset(&m->tmp);
	buf_reset(&m->tmp2);
}

void
mime_msg_free(struct mime_msg *m)
{
	size_t	i;

	if (m == NULL)
		return;
	mime_msg_clear(m);
	for (i = 0; i < m->hdrs_cap; i++)
		free(m->hdrs[i].addrs);
	free(m->hdrs);
	free(m->fold);
	buf_free(&m->strs);
	buf_free(&m->text);
	buf_free(&m->html);
	buf_free(&m->tmp);
	buf_free(&m->tmp2);
	free(m);
}

static void __attribute__((format(printf, 2, 3)))
mime_msg_fail(struct mime_msg *m, const char *fmt, ...)
{
	va_list	ap;

	if (m->error != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m->error, fmt, ap) == -1)
		fatalx("%s: out of memory", __func__);
	va_end(ap);
}

/* A field name we can write, and not one the builder writes itself. */
static int
mime_msg_name_ok(struct mime_msg *m, const char *name)
{
	static const char *const ours[] = {
		"MIME-Version", "Content-Type", "Content-Transfer-Encoding"
	};
	const char	*p;
	size_t		 i;

	if (name == NULL || *name == '\0' || strlen(name) > MIME_NAME_MAX) {
		mime_msg_fail(m, "bad header name");
		return 0;
	}
	for (p = name; *p != '\0'; p++) {
		if (*p < 33 || *p > 126 || *p == ':') {
			mime_msg_fail(m, "bad character 0x%02x in header name",
			    (unsigned char)*p);
			return 0;
		}
	}
	/* Ours all start with M or C. */
	if (*name != 'M' && *name != 'm' && *name != 'C' && *name != 'c')
		return 1;
	for (i = 0; i < sizeof ours / sizeof ours[0]; i++) {
		if (strcasecmp(name, ours[i]) == 0) {
			mime_msg_fail(m, "%s is written by the builder", name);
			return 0;
		}
	}
	return 1;
}

/* Copy s (NUL and all) to the message's string store: its offset. */
static size_t
mime_msg_str(struct mime_msg *m, const char *s)
{
	size_t	off = m->strs.len;

	(void)buf_add(&m->strs, s, strlen(s) + 1);
	return off;
}

static struct mime_hdr *
mime_msg_add_hdr(struct mime_msg *m, enum mime_hkind kind, const char *name)
{
	struct mime_hdr	*h;
	size_t		 old = m->hdrs_cap;

	if (m->nhdrs == m->hdrs_cap) {
		m->hdrs_cap = m->hdrs_cap == 0 ? 16 : m->hdrs_cap * 2;
		m->hdrs = xreallocarray(m->hdrs, m->hdrs_cap, sizeof *m->hdrs);
		memset(m->hdrs + old, 0, (m->hdrs_cap - old) * sizeof *m->hdrs);
	}
	h = &m->hdrs[m->nhdrs++];
	h->kind = kind;
	h->namelen = strlen(name);
	h->name = mime_msg_str(m, name);
	h->value = 0;
	h->naddrs = 0;
	return h;
}

static const char *
mime_msg_hstr(const struct mime_msg *m, size_t off)
{
	return m->strs.data + off;
}

static struct mime_hdr *
mime_msg_find(struct mime_msg *m, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < m->nhdrs; i++) {
		if (m->hdrs[i].namelen == len &&
		    strcasecmp(mime_msg_hstr(m, m->hdrs[i].name), name) == 0)
			return &m->hdrs[i];
	}
	return NULL;
}

void
mime_msg_header(struct mime_msg *m, const char *name, const char *value)
{
	struct mime_hdr	*h;

	if (!mime_msg_name_ok(m, name))
		return;
	h = mime_msg_add_hdr(m, MIME_H_TEXT, name);
	h->value = mime_msg_str(m, value != NULL ? value : "");
}

void
mime_msg_header_raw(struct mime_msg *m, const char *name, const char *value)
{
	struct mime_hdr	*h;

	if (!mime_msg_name_ok(m, name))
		return;
	if (value == NULL)
		value = "";
	if (!utf8_is_ascii(value, strlen(value))) {
		mime_msg_fail(m, "%s: structured header value is not ASCII",
		    name);
		return;
	}
	h = mime_msg_add_hdr(m, MIME_H_RAW, name);
	h->value = mime_msg_str(m, value);
}

void
mime_msg_address(struct mime_msg *m, const char *name, const char *display,
    const char *addr)
{
	struct mime_hdr		*h;
	struct mime_saddr	*a;
	char			*cause;

	if (!mime_msg_name_ok(m, name))
		return;
	if (mime_addr_check(addr, &cause) == -1) {
		mime_msg_fail(m, "%s: %s: \"%s\"", name, cause,
		    addr != NULL ? addr : "");
		free(cause);
		return;
	}
	if ((h = mime_msg_find(m, name)) == NULL || h->kind != MIME_H_ADDR)
		h = mime_msg_add_hdr(m, MIME_H_ADDR, name);
	if (h->naddrs == h->addrs_cap) {
		h->addrs_cap = h->addrs_cap == 0 ? 4 : h->addrs_cap * 2;
		h->addrs = xreallocarray(h->addrs, h->addrs_cap,
		    sizeof *h->addrs);
	}
	a = &h->addrs[h->naddrs++];
	a->display = display != NULL ? mime_msg_str(m, display) : MIME_NONE;
	a->addr = mime_msg_str(m, addr);
}

/*
 * Copy src to dst while the bytes are printable ASCII (0x20-0x7e), at
 * most max of them, and return how many were.  dst may get up to fifteen
 * bytes more than that (never more than max): they are copied a block at
 * a time before being looked at.  Most of a text part is printable, so
 * this is where a part's bytes go.  SSE2 (every x86-64) looks at sixteen
 * at once: a signed "less than 0x20" catches the controls and, being
 * signed, every byte from 0x80 up, and DEL is the one left.  Elsewhere
 * eight at a time, with the "hasless" and "hasmore" tests of Sean
 * Anderson's Bit Twiddling Hacks (exact as to whether a word has such a
 * byte; which one is then found byte by byte).
 */
static inline size_t
mime_copy_plain(char *dst, const char *src, size_t max)
{
	size_t		i = 0;
#ifdef __SSE2__
	const __m128i	lo = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
	__m128i		x;
	unsigned int	mask;

	for (; i + 16 <= max; i += 16) {
		x = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
		_mm_storeu_si128((__m128i *)(void *)(dst + i), x);
		mask = (unsigned int)_mm_movemask_epi8(_mm_or_si128(
		    _mm_cmplt_epi8(x, lo), _mm_cmpeq_epi8(x, del)));
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
	}
#else
	const uint64_t	ones = 0x0101010101010101ULL;
	const uint64_t	high = 0x8080808080808080ULL;
	uint64_t	x;

	for (; i + 8 <= max; i += 8) {
		memcpy(&x, src + i, 8);
		memcpy(dst + i, &x, 8);
		if (((x - ones * 0x20) & ~x & high) != 0 ||
		    (((x + ones) | x) & high) != 0) {
			while ((unsigned char)src[i] >= 0x20 &&
			    (unsigned char)src[i] < 0x7f)
				i++;
			return i;
		}
	}
#endif
	return i;
}

/*
 * UTF-8 (invalid bytes become U+FFFD) with CRLF line ends and a final
 * CRLF, in one pass that writes straight into out.  Returns 1 when the
 * result can go as 7bit (what mime_text_scan() would say of it: only
 * printable ASCII and TAB, no line over MIME_LINE_MAX), learnt on the way
 * rather than by reading the result again.
 */
static int
mime_msg_normalise(struct buf *out, const char *s)
{
	const unsigned char	*u = (const unsigned char *)s;
	char			*o = NULL;
	uint32_t		 cp;
	size_t			 i = 0, line = 0, len = strlen(s), w = 0;
	size_t			 room = 0, k;
	int			 n, sevenbit = 1;

	buf_reset(out);
	while (i < len) {
		/*
		 * Keep room for a block of printable bytes and the most one
		 * other byte makes (a UTF-8 character; U+FFFD; CRLF).
		 */
		if (room < 16 + 4) {
			out->len = w;
			room = len - i + (len - i) / 8 + 64;
			if (buf_reserve(out, room) == NULL)
				fatalx("%s: buffer has a cap", __func__);
			o = out->data;
		}

		/* Printable bytes, in blocks. */
		k = mime_copy_plain(o + w, s + i, len - i < room - 4 ?
		    len - i : room - 4);
		i += k;
		w += k;
		room -= k;
		if (i == len)
			break;

		/* One byte: printable after all (the last few), or not. */
		if (u[i] >= 0x20 && u[i] < 0x7f) {
			o[w++] = s[i++];
			room--;
		} else if (u[i] == '\r' || u[i] == '\n') {
			if (i - line > MIME_LINE_MAX)
				sevenbit = 0;
			o[w++] = '\r';
			o[w++] = '\n';
			room -= 2;
			i += (u[i] == '\r' && u[i + 1] == '\n') ? 2 : 1;
			line = i;
		} else if (u[i] == '\t') {
			o[w++] = s[i++];
			room--;
		} else if (u[i] < 0x80) {
			sevenbit = 0;		/* another control, or DEL */
			o[w++] = s[i++];
			room--;
		} else if ((n = utf8_decode(s + i, len - i, &cp)) > 0) {
			sevenbit = 0;
			memcpy(o + w, s + i, (size_t)n);
			w += (size_t)n;
			room -= (size_t)n;
			i += (size_t)n;
		} else {
			sevenbit = 0;
			memcpy(o + w, "\xef\xbf\xbd", 3);
			w += 3;
			room -= 3;
			i++;
		}
	}
	if (i - line > MIME_LINE_MAX)
		sevenbit = 0;
	if (w > 0 && o[w - 1] != '\n') {
		if (room < 2) {
			out->len = w;
			if (buf_reserve(out, 2) == NULL)
				fatalx("%s: buffer has a cap", __func__);
			o = out->data;
		}
		o[w++] = '\r';
		o[w++] = '\n';
	}
	if (o == NULL)
		(void)buf_add(out, "", 0);	/* "": data, not NULL */
	else {
		out->len = w;
		out->data[w] = '\0';
	}
	return sevenbit;
}

/*
 * Normalise a text part and encode it once, here, so that writing the
 * message (perhaps more than once) only copies it.  7bit when the scan
 * allows, else quoted-printable unless base64 comes out shorter.
 */
static enum mime_cte
mime_msg_encode_part(struct mime_msg *m, struct buf *out, const char *s)
{
	struct buf	swap;
	enum mime_cte	cte;
	int		sevenbit;

	sevenbit = mime_msg_normalise(&m->tmp, s);
	buf_reset(out);
	(void)buf_add(out, "", 0);
	if (sevenbit) {
		swap = *out;
		*out = m->tmp;
		m->tmp = swap;
		return MIME_CTE_7BIT;
	}
	cte = MIME_CTE_QP;
	(void)mime_qp_encode(out, m->tmp.data, m->tmp.len);
	if (out->len > mime_base64_len(m->tmp.len)) {
		buf_reset(out);
		(void)mime_base64_encode(out, m->tmp.data, m->tmp.len);
		cte = MIME_CTE_BASE64;
	}
	return cte;
}

void
mime_msg_text(struct mime_msg *m, const char *text)
{
	m->has_text = text != NULL;
	if (text != NULL)
		m->text_cte = mime_msg_encode_part(m, &m->text, text);
}

void
mime_msg_html(struct mime_msg *m, const char *html)
{
	m->has_html = html != NULL;
	if (html != NULL)
		m->html_cte = mime_msg_encode_part(m, &m->html, html);
}

void
mime_msg_attach_rfc822(struct mime_msg *m, const char *raw, size_t len)
{
	struct mime_att	*a;
	size_t		 i, start, cur = 0, extra = 0, o;
	int		 octet = 0, eightbit = 0;

	/* Step 1: can it be message/rfc822 (7bit or 8bit) at all? */
	for (i = 0; i < len && !octet; i++) {
		switch (raw[i]) {
		case '\0':
			octet = 1;
			break;
		case '\r':
			if (i + 1 >= len || raw[i + 1] != '\n')
				octet = 1;	/* bare CR */
			break;
		case '\n':
			if (i == 0 || raw[i - 1] != '\r')
				extra++;
			cur = 0;
			break;
		default:
			if ((unsigned char)raw[i] >= 0x80)
				eightbit = 1;
			if (++cur > MIME_LINE_MAX)
				octet = 1;
			break;
		}
	}

	m->atts = xreallocarray(m->atts, m->natts + 1, sizeof *m->atts);
	a = &m->atts[m->natts++];
	a->octet = octet;
	a->eightbit = eightbit;

	/*
	 * Step 2: keep it.  RFC 2046 5.2.1 forbids base64 for message/rfc822,
	 * so one that 7bit/8bit cannot carry goes as application/octet-stream,
	 * byte for byte.  Otherwise bare LFs become CRLF, the canonical form
	 * (Maildir files have LF line ends): nothing else changes.
	 */
	if (octet || extra == 0) {
		a->data = xmalloc(len + 1);
		if (len > 0)
			memcpy(a->data, raw, len);
		a->len = len;
		return;
	}
	a->data = xmalloc(len + extra + 1);
	o = 0;
	for (i = start = 0; i < len; i++) {
		if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r')) {
			memcpy(a->data + o, raw + start, i - start);
			o += i - start;
			a->data[o++] = '\r';
			start = i;
		}
	}
	memcpy(a->data + o, raw + start, len - start);
	a->len = o + len - start;
}

/* --- writing ------------------------------------------------------------ */

/* A text part's header and its body, encoded already as cte. */
static int
mime_msg_write_leaf(struct buf *out, const char *type, const struct buf *b,
    enum mime_cte cte)
{
	int	err = 0;

	err |= buf_addstr(out, "Content-Type: ");
	err |= buf_addstr(out, type);
	err |= buf_addstr(out, "; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: ");
	err |= buf_addstr(out, mime_cte_name(cte));
	err |= buf_add(out, "\r\n\r\n", 4);
	err |= buf_add(out, b->data != NULL ? b->data : "", b->len);
	return err;
}

/* "\r\n--" boundary and a CRLF unless last ("--" then). */
static int
mime_msg_write_delim(struct buf *out, const char *boundary, int last)
{
	int	err = 0;

	err |= buf_add(out, "\r\n--", 4);
	err |= buf_addstr(out, boundary);
	err |= last ? buf_add(out, "--", 2) : buf_add(out, "\r\n", 2);
	return err;
}

/* Text, HTML, or both as multipart/alternative (no final CRLF). */
static int
mime_msg_write_body(struct mime_msg *m, struct buf *out, const char *alt)
{
	struct buf	empty;
	int		err = 0;

	if (m->has_text && m->has_html) {
		err |= buf_addstr(out, "Content-Type: multipart/alternative;"
		    "\r\n boundary=\"");
		err |= buf_addstr(out, alt);
		err |= buf_add(out, "\"\r\n", 3);
		/* The blank line is the first delimiter's CRLF. */
		err |= mime_msg_write_delim(out, alt, 0);
		err |= mime_msg_write_leaf(out, "text/plain", &m->text,
		    m->text_cte);
		err |= mime_msg_write_delim(out, alt, 0);
		err |= mime_msg_write_leaf(out, "text/html", &m->html,
		    m->html_cte);
		err |= mime_msg_write_delim(out, alt, 1);
	} else if (m->has_html)
		err |= mime_msg_write_leaf(out, "text/html", &m->html,
		    m->html_cte);
	else if (m->has_text)
		err |= mime_msg_write_leaf(out, "text/plain", &m->text,
		    m->text_cte);
	else {
		buf_init(&empty, BUF_NOMAX);
		err |= mime_msg_write_leaf(out, "text/plain", &empty,
		    MIME_CTE_7BIT);
	}
	return err;
}

static int
mime_msg_write_att(struct buf *out, const struct mime_att *a)
{
	int	err = 0;

	if (a->octet) {
		err |= buf_addstr(out, "Content-Type: application/octet-stream;"
		    " name=\"original.eml\"\r\n"
		    "Content-Transfer-Encoding: base64\r\n"
		    "Content-Disposition: attachment;"
		    " filename=\"original.eml\"\r\n\r\n");
		err |= mime_base64_encode(out, a->data, a->len);
	} else {
		err |= buf_addstr(out, a->eightbit ?
		    "Content-Type: message/rfc822\r\n"
		    "Content-Transfer-Encoding: 8bit\r\n"
		    "Content-Disposition: inline\r\n\r\n" :
		    "Content-Type: message/rfc822\r\n"
		    "Content-Transfer-Encoding: 7bit\r\n"
		    "Content-Disposition: inline\r\n\r\n");
		err |= buf_add(out, a->data, a->len);
	}
	return err;
}

/*
 * Pick the random part of the boundaries: "=_" cannot occur in
 * quoted-printable or base64, and we look for it in everything carried as
 * it is (7bit text, attached messages), so no content line can be taken
 * for a boundary.
 */
static void
mime_msg_boundary(struct mime_msg *m, char *hex)
{
	size_t	i, tries;
	int	found;

	for (tries = 0; tries < 8; tries++) {
		mime_random_hex(hex, 16);
		found = 0;
		if (m->has_text && memmem(m->text.data, m->text.len, hex,
		    32) != NULL)
			found = 1;
		if (m->has_html && memmem(m->html.data, m->html.len, hex,
		    32) != NULL)
			found = 1;
		for (i = 0; i < m->natts; i++) {
			if (memmem(m->atts[i].data, m->atts[i].len, hex,
			    32) != NULL)
				found = 1;
		}
		if (!found)
			return;
	}
	fatalx("%s: random boundaries keep occurring in the content",
	    __func__);
}

int
mime_msg_write(struct mime_msg *m, struct buf *out, char **cause)
{
	struct mime_hdr	*h;
	const char	*domain = NULL, *at, *name;
	char		 hex[33], alt[40], mix[40], *s;
	size_t		 i, j;
	int		 err = 0;

	if (m->error != NULL) {
		*cause = xstrdup(m->error);
		return -1;
	}

	/* Step 1: the caller's headers, then Date and Message-ID. */
	for (i = 0; i < m->nhdrs; i++) {
		h = &m->hdrs[i];
		name = mime_msg_hstr(m, h->name);
		switch (h->kind) {
		case MIME_H_TEXT:
			err |= mime_fold_text(out, &m->tmp, name,
			    mime_msg_hstr(m, h->value));
			break;
		case MIME_H_RAW:
			err |= mime_fold_raw(out, &m->tmp, name,
			    mime_msg_hstr(m, h->value));
			break;
		case MIME_H_ADDR:
			if (h->naddrs > m->fold_cap) {
				m->fold_cap = h->naddrs;
				m->fold = xreallocarray(m->fold, m->fold_cap,
				    sizeof *m->fold);
			}
			for (j = 0; j < h->naddrs; j++) {
				m->fold[j].display =
				    h->addrs[j].display == MIME_NONE ? NULL :
				    mime_msg_hstr(m, h->addrs[j].display);
				m->fold[j].addr =
				    mime_msg_hstr(m, h->addrs[j].addr);
			}
			err |= mime_fold_addresses(out, &m->tmp, &m->tmp2,
			    name, m->fold, h->naddrs);
			if (domain == NULL && strcasecmp(name, "From") == 0 &&
			    (at = strrchr(m->fold[0].addr, '@')) != NULL)
				domain = at + 1;
			break;
		}
	}
	if (mime_msg_find(m, "Date") == NULL) {
		s = mime_date(time(NULL));
		err |= mime_fold_raw(out, &m->tmp, "Date", s);
		free(s);
	}
	if (mime_msg_find(m, "Message-ID") == NULL) {
		s = mime_message_id(domain);
		err |= mime_fold_raw(out, &m->tmp, "Message-ID", s);
		free(s);
	}
	err |= buf_addstr(out, "MIME-Version: 1.0\r\n");

	/* Step 2: the body, in a multipart/mixed when it has attachments. */
	if (m->natts > 0 || (m->has_text && m->has_html))
		mime_msg_boundary(m, hex);
	else
		hex[0] = '\0';		/* one part: no boundary */
	memcpy(alt, "=_alt_", 6);
	memcpy(alt + 6, hex, strlen(hex) + 1);
	memcpy(mix, "=_mix_", 6);
	memcpy(mix + 6, hex, strlen(hex) + 1);
	if (m->natts == 0)
		err |= mime_msg_write_body(m, out, alt);
	else {
		err |= buf_addstr(out, "Content-Type: multipart/mixed;\r\n"
		    " boundary=\"");
		err |= buf_addstr(out, mix);
		err |= buf_add(out, "\"\r\n", 3);
		err |= mime_msg_write_delim(out, mix, 0);
		err |= mime_msg_write_body(m, out, alt);
		for (i = 0; i < m->natts; i++) {
			err |= mime_msg_write_delim(out, mix, 0);
			err |= mime_msg_write_att(out, &m->atts[i]);
		}
		err |= mime_msg_write_delim(out, mix, 1);
	}
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		err |= buf_add(out, "\r\n", 2);

	if (err != 0) {
		*cause = xprintf("message does not fit in %zu bytes", out->max);
		return -1;
	}
	return 0;
}
