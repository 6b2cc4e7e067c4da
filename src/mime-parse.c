/*
 * mime-parse.c - raw inbound bytes to a struct message, with libetpan.
 *
 * Owns: the walk over libetpan's tree (which parts are text, which are
 * attachments, which alternative is read), the top-level header fields,
 * parameter decoding (RFC 2231), DSN fields (RFC 3464), and the status
 * and detail of the result.  Does not own: the scan that cuts hostile
 * input down before libetpan sees it, field splitting and RFC 2047
 * (mime-scan.c), charsets (charset.c), HTML (html-text.c), running in a
 * separate process (parser.c), struct message's memory (message.c).
 *
 * libetpan is included here and in source-imap.c only.  It is trusted for
 * nothing: every string it hands back is checked or converted before it
 * reaches the struct message, and this file only runs on untrusted mail
 * inside the parser child (see mime-parse.h, TRUST).
 *
 * The steps of mime_parse():
 *   1. cut at max_size;
 *   2. scan: find where nesting, part count or an unsafe boundary say to
 *      stop, and cut there (libetpan then reads only what comes before);
 *   3. the top-level header fields, split and decoded here;
 *   4. libetpan's mailmime_parse() on the cut input, then the walk;
 *      when libetpan cannot read the structure, the raw body as text;
 *   5. body_text: the text/plain parts, then the HTML parts as text;
 *   6. status: LIMITS, else DEFECTIVE, else OK, with the reasons.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libetpan/libetpan.h>

#include "buf.h"
#include "charset.h"
#include "conf.h"
#include "hex.h"
#include "html-text.h"
#include "message.h"
#include "mime-parse.h"
#include "mime-parse-int.h"
#include "utf8.h"
#include "xmalloc.h"

#define MIME_PARSE_MAX_DEFECTS	6	/* distinct reasons kept */
#define MIME_PARSE_MAX_SECTIONS	100	/* RFC 2231 continuations */
#define MIME_PARSE_SNIFF	2048	/* bytes of HTML searched for charset */
#define MIME_PARSE_PAD		16	/* NULs after what libetpan reads */

/* One MIME parameter, as libetpan unquoted it. */
struct mime_parse_param {
	const char	*name;
	const char	*value;
};

struct mime_parse_ctx {
	const struct mime_parse_limits	*lim;
	struct message			*m;
	struct buf			 plain;		/* text/plain parts */
	struct buf			 html;		/* HTML parts as text */
	size_t				 nplain;
	size_t				 nhtml;
	size_t				 nparts;
	size_t				 nheaders_alloc;
	size_t				 nto_alloc;
	size_t				 natt_alloc;
	int				 report_seen;
	int				 dsn_seen;
	char				*limit;
	char				*defects[MIME_PARSE_MAX_DEFECTS];
	size_t				 ndefects;
	size_t				 want;	/* the attachment whose
						   bytes are kept */
};

#define MIME_WALK_SKIP		0x1	/* an alternative not chosen */
#define MIME_WALK_REPORT	0x2	/* inside multipart/report */

/* --- limits, defects ---------------------------------------------------- */

void
mime_parse_limits_default(struct mime_parse_limits *lim)
{
	lim->max_size = MIME_PARSE_MAX_SIZE;
	lim->max_depth = MIME_PARSE_MAX_DEPTH;
	lim->max_parts = MIME_PARSE_MAX_PARTS;
	lim->max_text = MIME_PARSE_MAX_TEXT;
	lim->max_headers = MIME_PARSE_MAX_HEADERS;
	lim->max_addresses = MIME_PARSE_MAX_ADDRESSES;
}

void
mime_parse_limits_conf(struct mime_parse_limits *lim, const struct conf *conf)
{
	mime_parse_limits_default(lim);
	if (conf == NULL)
		return;
	if (conf->inbound.max_message_size > 0)
		lim->max_size = (size_t)conf->inbound.max_message_size;
	if (conf->inbound.max_depth > 0)
		lim->max_depth = (size_t)conf->inbound.max_depth;
	if (conf->inbound.max_parts > 0)
		lim->max_parts = (size_t)conf->inbound.max_parts;
}

static char *
mime_parse_vprintf(const char *fmt, va_list ap)
{
	struct buf	b;

	buf_init(&b, BUF_NOMAX);
	(void)buf_vprintf(&b, fmt, ap);
	return buf_detach(&b, NULL);
}

static void __attribute__((format(printf, 2, 3)))
mime_parse_defect(struct mime_parse_ctx *ctx, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	size_t	 i;

	if (ctx->ndefects == MIME_PARSE_MAX_DEFECTS)
		return;
	va_start(ap, fmt);
	s = mime_parse_vprintf(fmt, ap);
	va_end(ap);
	for (i = 0; i < ctx->ndefects; i++) {
		if (strcmp(ctx->defects[i], s) == 0) {
			free(s);
			return;
		}
	}
	ctx->defects[ctx->ndefects++] = s;
}

static void __attribute__((format(printf, 2, 3)))
mime_parse_limit(struct mime_parse_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;

	if (ctx->limit != NULL)
		return;
	va_start(ap, fmt);
	ctx->limit = mime_parse_vprintf(fmt, ap);
	va_end(ap);
}

/* --- small string helpers ----------------------------------------------- */

/* Replace s (allocated) with a copy of value. */
static void
mime_parse_set(char **s, const char *value)
{
	free(*s);
	*s = xstrdup(value);
}

/*
 * Tidy UTF-8 text for a one-line field: control characters become
 * spaces, white space at both ends goes.  In place; s stays valid UTF-8.
 */
static void
mime_parse_oneline(char *s)
{
	char	*p, *start, *end;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	for (start = s; *start == ' '; start++)
		;
	end = start + strlen(start);
	while (end > start && end[-1] == ' ')
		end--;
	memmove(s, start, (size_t)(end - start));
	s[end - start] = '\0';
}

/*
 * Detach b's UTF-8 as one line: every control character, NUL included
 * (it would end the string early), a space; trimmed.
 */
static char *
mime_parse_detach_line(struct buf *b)
{
	size_t	 i, len;
	char	*s;

	s = buf_detach(b, &len);
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			s[i] = ' ';
	}
	mime_parse_oneline(s);
	return s;
}

/* Bytes that should be text but have no charset: UTF-8 or 1252, one line. */
static char *
mime_parse_plain(const char *s, size_t len, int *repaired)
{
	struct buf	b;
	int		flags = 0;

	buf_init(&b, BUF_NOMAX);
	(void)charset_guess(&b, s, len, &flags);
	if (memchr(s, '\0', len) != NULL || !utf8_valid(s, len))
		*repaired = 1;
	return mime_parse_detach_line(&b);
}

/* --- addresses ----------------------------------------------------------- */

/* local@domain, roughly: libetpan lets much through. */
static int
mime_parse_addr_ok(const char *addr)
{
	const char	*at;

	if ((at = strrchr(addr, '@')) == NULL || at == addr ||
	    at[1] == '\0')
		return 0;
	return strcspn(addr, " \t<>()[],;:\\\"") == strlen(addr);
}

/*
 * libetpan unquotes a display name unless an encoded word is inside the
 * quotes ("=?UTF-8?Q?J=C3=B6rg?="): then the quotes are still there.
 */
static char *
mime_parse_unquote(const char *s)
{
	size_t	len = strlen(s), i;
	char	*out, *o;

	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return xstrdup(s);
	o = out = xmalloc(len);
	for (i = 1; i < len - 1; i++) {
		if (s[i] == '\\' && i + 1 < len - 1)
			i++;
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

static void
mime_parse_addr_set(struct mime_parse_ctx *ctx, struct message_address *a,
    const char *name, const char *addr)
{
	char	*unq;
	int	 repaired = 0;

	free(a->name);
	free(a->addr);
	if (name != NULL) {
		unq = mime_parse_unquote(name);
		a->name = mime_parse_header_str(unq, strlen(unq), &repaired);
		free(unq);
	} else
		a->name = xstrdup("");
	if (addr == NULL)
		addr = "";
	a->addr = mime_parse_plain(addr, strlen(addr), &repaired);
	if (repaired)
		mime_parse_defect(ctx, "address repaired");
	if (!mime_parse_addr_ok(a->addr)) {
		mime_parse_defect(ctx, "unreadable address");
		a->addr[0] = '\0';
	}
}

/*
 * When libetpan cannot read an address field: "Name <addr>" or the first
 * word with an @ in it.  Into a; 0 when nothing like an address is there.
 */
static int
mime_parse_addr_fallback(struct mime_parse_ctx *ctx, const char *v,
    size_t len, struct message_address *a)
{
	const char	*lt, *gt, *at, *s, *e;
	char		*name, *addr;
	int		 repaired = 0;

	lt = memchr(v, '<', len);
	gt = lt != NULL ? memchr(lt, '>', len - (size_t)(lt - v)) : NULL;
	if (lt != NULL && gt != NULL) {
		addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		name = mime_parse_header_str(v, (size_t)(lt - v), &repaired);
		/* "Name" quoted: drop the quotes. */
		if (name[0] == '"' && strlen(name) >= 2 &&
		    name[strlen(name) - 1] == '"') {
			memmove(name, name + 1, strlen(name) - 2);
			name[strlen(name) - 2] = '\0';
		}
	} else if ((at = memchr(v, '@', len)) != NULL) {
		for (s = at; s > v && !mime_parse_space(s[-1]) &&
		    s[-1] != ',' && s[-1] != '"'; s--)
			;
		for (e = at; e < v + len && !mime_parse_space(*e) &&
		    *e != ',' && *e != '"'; e++)
			;
		addr = xstrndup(s, (size_t)(e - s));
		name = xstrdup("");
	} else
		return 0;
	free(a->name);
	free(a->addr);
	a->name = name;
	a->addr = mime_parse_plain(addr, strlen(addr), &repaired);
	if (!mime_parse_addr_ok(a->addr))
		a->addr[0] = '\0';
	mime_parse_oneline(a->name);
	free(addr);
	return 1;
}

/* Append to m->to, growing it. */
static struct message_address *
mime_parse_to_add(struct mime_parse_ctx *ctx)
{
	struct message	*m = ctx->m;

	if (m->nto == ctx->nto_alloc) {
		ctx->nto_alloc = ctx->nto_alloc ? ctx->nto_alloc * 2 : 4;
		m->to = xreallocarray(m->to, ctx->nto_alloc, sizeof *m->to);
	}
	m->to[m->nto].name = xstrdup("");
	m->to[m->nto].addr = xstrdup("");
	return &m->to[m->nto++];
}

/*
 * One mailbox of an address field: into *one when one is not NULL, else
 * appended to m->to.  1 when the field needs no more mailboxes (*one is
 * set, or m->to is full), else 0.
 */
static int
mime_parse_mailbox(struct mime_parse_ctx *ctx, struct mailimf_mailbox *mb,
    struct message_address *one)
{
	struct message_address	*a;

	if (one != NULL) {
		mime_parse_addr_set(ctx, one, mb->mb_display_name,
		    mb->mb_addr_spec);
		return 1;
	}
	if (ctx->m->nto >= ctx->lim->max_addresses) {
		mime_parse_limit(ctx, "more than %zu addresses",
		    ctx->lim->max_addresses);
		return 1;
	}
	a = mime_parse_to_add(ctx);
	mime_parse_addr_set(ctx, a, mb->mb_display_name, mb->mb_addr_spec);
	return 0;
}

/*
 * An address field: into *one (the first mailbox) when one is not NULL,
 * else every mailbox appended to m->to.
 */
static void
mime_parse_addresses(struct mime_parse_ctx *ctx,
    const struct mime_parse_field *f, struct message_address *one)
{
	struct mailimf_address_list	*list = NULL;
	struct mailimf_address		*ad;
	clist				*mbs;
	clistiter			*it, *jt;
	struct message_address		*a;
	size_t				 idx = 0, i, n;
	char				*value;
	int				 r;

	/* libetpan wants the field's value unfolded-or-not, and a CRLF. */
	value = xmalloc(f->valuelen + 3);
	memcpy(value, f->value, f->valuelen);
	memcpy(value + f->valuelen, "\r\n", 3);
	for (i = n = 0; i < f->valuelen; i++) {
		if (!mime_parse_space(value[i]))
			n++;
	}
	if (n == 0) {
		free(value);
		return;
	}
	r = mailimf_address_list_parse(value, f->valuelen + 2, &idx, &list);
	for (i = idx; r == MAILIMF_NO_ERROR && i < f->valuelen; i++) {
		if (!mime_parse_space(value[i])) {
			mime_parse_defect(ctx, "unreadable %.*s field",
			    (int)(f->namelen > 32 ? 32 : f->namelen),
			    f->name);
			break;
		}
	}
	if (r != MAILIMF_NO_ERROR || list == NULL) {
		if (one != NULL)
			(void)mime_parse_addr_fallback(ctx, value,
			    f->valuelen, one);
		else {
			struct message_address	tmp = { NULL, NULL };

			if (ctx->m->nto >= ctx->lim->max_addresses)
				mime_parse_limit(ctx, "more than %zu "
				    "addresses", ctx->lim->max_addresses);
			else if (mime_parse_addr_fallback(ctx, value,
			    f->valuelen, &tmp)) {
				a = mime_parse_to_add(ctx);
				free(a->name);
				free(a->addr);
				*a = tmp;
			}
		}
		mime_parse_defect(ctx, "unreadable %.*s field",
		    (int)(f->namelen > 32 ? 32 : f->namelen), f->name);
		free(value);
		if (list != NULL)
			mailimf_address_list_free(list);
		return;
	}
	for (it = clist_begin(list->ad_list); it != NULL;
	    it = clist_next(it)) {
		ad = clist_content(it);
		mbs = NULL;
		if (ad->ad_type == MAILIMF_ADDRESS_MAILBOX) {
			if (mime_parse_mailbox(ctx, ad->ad_data.ad_mailbox,
			    one) != 0)
				break;
			continue;
		}
		if (ad->ad_type == MAILIMF_ADDRESS_GROUP &&
		    ad->ad_data.ad_group->grp_mb_list != NULL)
			mbs = ad->ad_data.ad_group->grp_mb_list->mb_list;
		for (jt = mbs != NULL ? clist_begin(mbs) : NULL; jt != NULL;
		    jt = clist_next(jt)) {
			if (mime_parse_mailbox(ctx, clist_content(jt),
			    one) != 0)
				break;
		}
		if (one != NULL && *one->addr != '\0')
			break;
	}
	mailimf_address_list_free(list);
	free(value);
}

/* "<id@host>" (or junk) to "id@host": the first <...>, else trimmed. */
static char *
mime_parse_msgid(const char *v, size_t len)
{
	const char	*lt, *gt;
	char		*s;
	int		 repaired = 0;

	lt = memchr(v, '<', len);
	gt = lt != NULL ? memchr(lt, '>', len - (size_t)(lt - v)) : NULL;
	if (lt != NULL && gt != NULL)
		s = mime_parse_plain(lt + 1, (size_t)(gt - lt - 1), &repaired);
	else
		s = mime_parse_plain(v, len, &repaired);
	return s;
}

/* Return-Path: "<a@b>" to "a@b", "<>" to "". */
static char *
mime_parse_return_path(const char *v, size_t len)
{
	char	*s;

	s = mime_parse_msgid(v, len);
	mime_parse_oneline(s);
	return s;
}

/* --- the top-level header (step 3) --------------------------------------- */

static void
mime_parse_header_add(struct mime_parse_ctx *ctx, const char *name,
    size_t namelen, char *value)
{
	struct message	*m = ctx->m;

	if (m->nheaders == ctx->nheaders_alloc) {
		ctx->nheaders_alloc = ctx->nheaders_alloc ?
		    ctx->nheaders_alloc * 2 : 16;
		m->headers = xreallocarray(m->headers, ctx->nheaders_alloc,
		    sizeof *m->headers);
	}
	m->headers[m->nheaders].name = xstrndup(name, namelen);
	m->headers[m->nheaders].value = value;
	m->nheaders++;
}

/* Returns the offset of the body. */
static size_t
mime_parse_top_headers(struct mime_parse_ctx *ctx, const char *raw,
    size_t len)
{
	struct message		*m = ctx->m;
	struct mime_parse_field	 f;
	size_t			 off = 0, bad = 0;
	int			 rc, repaired, seen_from = 0, seen_sender = 0;
	int			 seen_reply_to = 0, seen_subject = 0;
	int			 seen_id = 0, seen_irt = 0, seen_refs = 0;
	int			 seen_date = 0, seen_rp = 0;
	char			*value;

	/* An mbox "From " line is not a header field. */
	if (len > 5 && memcmp(raw, "From ", 5) == 0) {
		const char	*nl = memchr(raw, '\n', len);

		off = nl != NULL ? (size_t)(nl - raw) + 1 : len;
	}
	while ((rc = mime_parse_field_next(raw, len, &off, &f)) != 0) {
		if (rc == -1) {
			bad++;
			continue;
		}
		repaired = 0;
		value = mime_parse_header_str(f.value, f.valuelen, &repaired);
		if (repaired)
			mime_parse_defect(ctx, "header field repaired");

#define SEEN(flag) (flag ? 1 : (flag = 1, 0))
		if (mime_parse_name_is(&f, "from")) {
			if (!SEEN(seen_from))
				mime_parse_addresses(ctx, &f, &m->from);
		} else if (mime_parse_name_is(&f, "sender")) {
			if (!SEEN(seen_sender))
				mime_parse_addresses(ctx, &f, &m->sender);
		} else if (mime_parse_name_is(&f, "reply-to")) {
			if (!SEEN(seen_reply_to))
				mime_parse_addresses(ctx, &f, &m->reply_to);
		} else if (mime_parse_name_is(&f, "to") ||
		    mime_parse_name_is(&f, "cc"))
			mime_parse_addresses(ctx, &f, NULL);
		else if (mime_parse_name_is(&f, "return-path")) {
			if (!SEEN(seen_rp)) {
				free(m->return_path);
				m->return_path = mime_parse_return_path(
				    f.value, f.valuelen);
			}
		} else if (mime_parse_name_is(&f, "subject")) {
			if (!SEEN(seen_subject))
				mime_parse_set(&m->subject, value);
		} else if (mime_parse_name_is(&f, "message-id")) {
			if (!SEEN(seen_id)) {
				free(m->message_id);
				m->message_id = mime_parse_msgid(f.value,
				    f.valuelen);
			}
		} else if (mime_parse_name_is(&f, "in-reply-to")) {
			if (!SEEN(seen_irt))
				mime_parse_set(&m->in_reply_to, value);
		} else if (mime_parse_name_is(&f, "references")) {
			if (!SEEN(seen_refs))
				mime_parse_set(&m->references, value);
		} else if (mime_parse_name_is(&f, "date")) {
			if (!SEEN(seen_date))
				mime_parse_set(&m->date, value);
		}
#undef SEEN

		if (m->nheaders >= ctx->lim->max_headers) {
			mime_parse_limit(ctx, "more than %zu header fields",
			    ctx->lim->max_headers);
			free(value);
			continue;
		}
		mime_parse_header_add(ctx, f.name, f.namelen, value);
	}
	if (bad > 0)
		mime_parse_defect(ctx, "%zu header line%s not a field", bad,
		    bad == 1 ? "" : "s");
	return off;
}

/* --- parameters (RFC 2231) ----------------------------------------------- */

/* %HH-decode s into out. */
static void
mime_parse_pct(struct buf *out, const char *s)
{
	int	hi, lo;

	for (; *s != '\0'; s++) {
		if (*s == '%' && (hi = hex_digit(s[1])) != -1 &&
		    (lo = hex_digit(s[2])) != -1) {
			(void)buf_addc(out, (char)(hi * 16 + lo));
			s += 2;
		} else
			(void)buf_addc(out, *s);
	}
}

static const char *
mime_parse_param_get(const struct mime_parse_param *p, size_t n,
    const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (p[i].name != NULL && p[i].value != NULL &&
		    strcasecmp(p[i].name, name) == 0)
			return p[i].value;
	}
	return NULL;
}

/*
 * The value of parameter name, decoded: RFC 2231 ("name*", "name*0*",
 * "name*1" ...), else RFC 2047 in a plain value (as Outlook writes
 * filenames).  A new string; NULL when there is no such parameter.
 */
static char *
mime_parse_param(struct mime_parse_ctx *ctx, const struct mime_parse_param *p,
    size_t n, const char *name)
{
	struct buf	 raw, out;
	const char	*v, *q1, *q2;
	char		*key, *cs = NULL, *s;
	size_t		 k;
	int		 flags = 0, repaired = 0;

	buf_init(&raw, BUF_NOMAX);
	key = xprintf("%s*", name);
	if ((v = mime_parse_param_get(p, n, key)) != NULL) {
		/* name*=charset'lang'%XX... */
		free(key);
		if ((q1 = strchr(v, '\'')) != NULL &&
		    (q2 = strchr(q1 + 1, '\'')) != NULL) {
			cs = xstrndup(v, (size_t)(q1 - v));
			mime_parse_pct(&raw, q2 + 1);
		} else {
			mime_parse_pct(&raw, v);
			mime_parse_defect(ctx, "malformed %s* parameter",
			    name);
		}
		goto convert;
	}
	free(key);

	for (k = 0; k < MIME_PARSE_MAX_SECTIONS; k++) {
		key = xprintf("%s*%zu*", name, k);
		if ((v = mime_parse_param_get(p, n, key)) != NULL) {
			if (k == 0 && (q1 = strchr(v, '\'')) != NULL &&
			    (q2 = strchr(q1 + 1, '\'')) != NULL) {
				cs = xstrndup(v, (size_t)(q1 - v));
				v = q2 + 1;
			}
			mime_parse_pct(&raw, v);
		} else {
			free(key);
			key = xprintf("%s*%zu", name, k);
			if ((v = mime_parse_param_get(p, n, key)) == NULL) {
				free(key);
				break;
			}
			(void)buf_addstr(&raw, v);
		}
		free(key);
	}
	if (k > 0)
		goto convert;

	buf_free(&raw);
	if ((v = mime_parse_param_get(p, n, name)) == NULL)
		return NULL;
	s = mime_parse_header_str(v, strlen(v), &repaired);
	if (repaired)
		mime_parse_defect(ctx, "%s parameter repaired", name);
	return s;

convert:
	buf_init(&out, BUF_NOMAX);
	(void)charset_to_utf8(&out, cs, raw.data != NULL ? raw.data : "",
	    raw.len, &flags);
	if (flags != 0)
		mime_parse_defect(ctx, "%s parameter repaired", name);
	free(cs);
	buf_free(&raw);
	return mime_parse_detach_line(&out);
}

/* --- the walk (step 4) --------------------------------------------------- */

/* "type/subtype", lowercase, of a part; text/plain when it has none. */
static char *
mime_parse_type(const struct mailmime_content *ct)
{
	const char	*type = "application", *sub;
	char		*s;

	if (ct == NULL || ct->ct_type == NULL || ct->ct_subtype == NULL)
		return xstrdup("text/plain");
	sub = ct->ct_subtype;
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE &&
	    ct->ct_type->tp_data.tp_discrete_type != NULL) {
		switch (ct->ct_type->tp_data.tp_discrete_type->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT:
			type = "text";
			break;
		case MAILMIME_DISCRETE_TYPE_IMAGE:
			type = "image";
			break;
		case MAILMIME_DISCRETE_TYPE_AUDIO:
			type = "audio";
			break;
		case MAILMIME_DISCRETE_TYPE_VIDEO:
			type = "video";
			break;
		case MAILMIME_DISCRETE_TYPE_EXTENSION:
			if (ct->ct_type->tp_data.tp_discrete_type->
			    dt_extension != NULL)
				type = ct->ct_type->tp_data.
				    tp_discrete_type->dt_extension;
			break;
		}
	} else if (ct->ct_type->tp_type == MAILMIME_TYPE_COMPOSITE_TYPE &&
	    ct->ct_type->tp_data.tp_composite_type != NULL) {
		switch (ct->ct_type->tp_data.tp_composite_type->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE:
			type = "message";
			break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART:
			type = "multipart";
			break;
		case MAILMIME_COMPOSITE_TYPE_EXTENSION:
			if (ct->ct_type->tp_data.tp_composite_type->
			    ct_token != NULL)
				type = ct->ct_type->tp_data.
				    tp_composite_type->ct_token;
			break;
		}
	}
	s = xprintf("%s/%s", type, sub);
	mime_parse_lower(s);
	/* Whatever libetpan let through, keep it printable. */
	{
		int	repaired = 0;
		char	*t = mime_parse_plain(s, strlen(s), &repaired);

		free(s);
		s = t;
	}
	return s;
}

/* The parameters of the part's Content-Type, then its disposition's. */
static struct mime_parse_param *
mime_parse_params(const struct mailmime *mime, size_t *nct, size_t *nall,
    int *attachment)
{
	struct mime_parse_param		*p = NULL;
	struct mailmime_parameter	*mp;
	struct mailmime_disposition_parm *dp;
	struct mailmime_field		*fld;
	clistiter			*it, *jt;
	size_t				 n = 0, alloc = 0;

#define PARAM_ADD(nm, val) do {						\
	if (n == alloc) {						\
		alloc = alloc ? alloc * 2 : 8;				\
		p = xreallocarray(p, alloc, sizeof *p);			\
	}								\
	p[n].name = (nm);						\
	p[n].value = (val);						\
	n++;								\
} while (0)

	*attachment = 0;
	if (mime->mm_content_type != NULL &&
	    mime->mm_content_type->ct_parameters != NULL) {
		for (it = clist_begin(mime->mm_content_type->ct_parameters);
		    it != NULL; it = clist_next(it)) {
			mp = clist_content(it);
			if (mp != NULL)
				PARAM_ADD(mp->pa_name, mp->pa_value);
		}
	}
	*nct = n;
	if (mime->mm_mime_fields == NULL)
		goto out;
	for (it = clist_begin(mime->mm_mime_fields->fld_list); it != NULL;
	    it = clist_next(it)) {
		fld = clist_content(it);
		if (fld == NULL || fld->fld_type != MAILMIME_FIELD_DISPOSITION ||
		    fld->fld_data.fld_disposition == NULL)
			continue;
		if (fld->fld_data.fld_disposition->dsp_type != NULL &&
		    fld->fld_data.fld_disposition->dsp_type->dsp_type ==
		    MAILMIME_DISPOSITION_TYPE_ATTACHMENT)
			*attachment = 1;
		if (fld->fld_data.fld_disposition->dsp_parms == NULL)
			continue;
		for (jt = clist_begin(fld->fld_data.fld_disposition->
		    dsp_parms); jt != NULL; jt = clist_next(jt)) {
			dp = clist_content(jt);
			if (dp == NULL)
				continue;
			if (dp->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME)
				PARAM_ADD("filename", dp->pa_data.pa_filename);
			else if (dp->pa_type ==
			    MAILMIME_DISPOSITION_PARM_PARAMETER &&
			    dp->pa_data.pa_parameter != NULL)
				PARAM_ADD(dp->pa_data.pa_parameter->pa_name,
				    dp->pa_data.pa_parameter->pa_value);
		}
		break;
	}
out:
	*nall = n;
	return p;
#undef PARAM_ADD
}

static void
mime_parse_attachment(struct mime_parse_ctx *ctx, const char *filename,
    const char *type, const char *data, size_t size)
{
	struct message			*m = ctx->m;
	struct message_attachment	*a;

	if (m->nattachments >= ctx->lim->max_parts)
		return;
	if (m->nattachments == ctx->natt_alloc) {
		ctx->natt_alloc = ctx->natt_alloc ? ctx->natt_alloc * 2 : 4;
		m->attachments = xreallocarray(m->attachments,
		    ctx->natt_alloc, sizeof *m->attachments);
	}
	a = &m->attachments[m->nattachments++];
	a->filename = xstrdup(filename != NULL ? filename : "");
	a->type = xstrdup(type);
	a->size = size;
	a->data = NULL;
	if (m->nattachments - 1 == ctx->want) {
		a->data = xmalloc(size + 1);
		if (size > 0)
			memcpy(a->data, data, size);
		a->data[size] = '\0';
	}
}

/* 1 when s[0..len) holds a byte that is not base64 or white space. */
static int
mime_parse_bad_base64(const char *s, size_t len)
{
	size_t	i;
	char	c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' ||
		    c == '=' || mime_parse_space(c))
			continue;
		return 1;
	}
	return 0;
}

/*
 * The decoded body of a single part: *data points into the input or into
 * *tofree (an MMAPString the caller releases with mmap_string_unref()).
 */
static void
mime_parse_body(struct mime_parse_ctx *ctx, const struct mailmime *mime,
    const char **data, size_t *len, char **tofree)
{
	const struct mailmime_data	*d;
	size_t				 idx = 0, rlen = 0;
	char				*res = NULL;
	int				 r;

	*data = "";
	*len = 0;
	*tofree = NULL;
	d = mime->mm_type == MAILMIME_SINGLE ? mime->mm_data.mm_single :
	    mime->mm_body;
	if (d == NULL || d->dt_type != MAILMIME_DATA_TEXT ||
	    d->dt_data.dt_text.dt_data == NULL)
		return;
	*data = d->dt_data.dt_text.dt_data;
	*len = d->dt_data.dt_text.dt_length;
	if (d->dt_encoding != MAILMIME_MECHANISM_BASE64 &&
	    d->dt_encoding != MAILMIME_MECHANISM_QUOTED_PRINTABLE)
		return;
	if (d->dt_encoding == MAILMIME_MECHANISM_BASE64 &&
	    mime_parse_bad_base64(*data, *len))
		mime_parse_defect(ctx, "invalid base64");
	r = mailmime_part_parse(*data, *len, &idx, d->dt_encoding, &res,
	    &rlen);
	if (r != MAILIMF_NO_ERROR || res == NULL) {
		mime_parse_defect(ctx, "undecodable %s part",
		    d->dt_encoding == MAILMIME_MECHANISM_BASE64 ? "base64" :
		    "quoted-printable");
		return;
	}
	*data = res;
	*len = rlen;
	*tofree = res;
}

/* <meta charset=...> or content="...; charset=..." in the first bytes. */
static char *
mime_parse_sniff_charset(const char *s, size_t len)
{
	size_t	i, j;

	if (len > MIME_PARSE_SNIFF)
		len = MIME_PARSE_SNIFF;
	for (i = 0; i + 8 <= len; i++) {
		if (strncasecmp(s + i, "charset=", 8) != 0)
			continue;
		i += 8;
		while (i < len && (s[i] == '"' || s[i] == '\'' ||
		    s[i] == ' '))
			i++;
		for (j = i; j < len && j - i < 40 &&
		    ((s[j] >= 'a' && s[j] <= 'z') ||
		    (s[j] >= 'A' && s[j] <= 'Z') ||
		    (s[j] >= '0' && s[j] <= '9') || s[j] == '-' ||
		    s[j] == '_' || s[j] == '.' || s[j] == ':'); j++)
			;
		if (j > i)
			return xstrndup(s + i, j - i);
	}
	return NULL;
}

/* A text part: decoded, converted, added to the plain or HTML text. */
static void
mime_parse_text(struct mime_parse_ctx *ctx, const struct mailmime *mime,
    int html, const struct mime_parse_param *params, size_t nct)
{
	struct buf	 conv, *to;
	const char	*data, *cs;
	char		*tofree, *sniffed = NULL;
	size_t		 len;
	int		 flags = 0, full = 0;

	mime_parse_body(ctx, mime, &data, &len, &tofree);
	cs = mime_parse_param_get(params, nct, "charset");
	if (cs == NULL && html)
		cs = sniffed = mime_parse_sniff_charset(data, len);

	to = html ? &ctx->html : &ctx->plain;
	if (to->len > 0 && buf_add(to, "\n\n", 2) == -1)
		full = 1;
	if (!html && !full) {
		if (charset_to_utf8(to, cs, data, len, &flags) == -1)
			full = 1;
	} else if (!full) {
		/* The markup may be much longer than its text. */
		buf_init(&conv, ctx->lim->max_text > SIZE_MAX / 8 ?
		    SIZE_MAX : ctx->lim->max_text * 8);
		if (charset_to_utf8(&conv, cs, data, len, &flags) == -1)
			full = 1;
		if (html_text(to, conv.data != NULL ? conv.data : "",
		    conv.len) == -1)
			full = 1;
		buf_free(&conv);
	}
	if (flags & CHARSET_UNKNOWN)
		mime_parse_defect(ctx, "unknown charset %.40s", cs);
	if (flags & CHARSET_REPAIRED)
		mime_parse_defect(ctx, "invalid bytes in %s text",
		    cs != NULL ? "the" : "unlabelled");
	if (full)
		mime_parse_limit(ctx, "text longer than %zu bytes",
		    ctx->lim->max_text);
	if (html)
		ctx->nhtml++;
	else
		ctx->nplain++;
	free(sniffed);
	if (tofree != NULL)
		mmap_string_unref(tofree);
}

/* The value of a DSN field, "type;" dropped: "rfc822; a@b" to "a@b". */
static char *
mime_parse_dsn_value(const struct mime_parse_field *f, int typed)
{
	const char	*v = f->value, *semi;
	size_t		 len = f->valuelen;
	int		 repaired = 0;

	if (typed && (semi = memchr(v, ';', len)) != NULL) {
		len -= (size_t)(semi + 1 - v);
		v = semi + 1;
	}
	return mime_parse_header_str(v, len, &repaired);
}

/* message/delivery-status: the first recipient's fields. */
static void
mime_parse_dsn(struct mime_parse_ctx *ctx, const char *p, size_t len)
{
	struct message		*m = ctx->m;
	struct mime_parse_field	 f;
	size_t			 off = 0;
	int			 rc;

	if (ctx->dsn_seen)
		return;
	ctx->dsn_seen = 1;
	while (off < len) {
		if ((rc = mime_parse_field_next(p, len, &off, &f)) != 1)
			continue;	/* a blank line between blocks too */
		if (mime_parse_name_is(&f, "final-recipient") &&
		    *m->report_recipient == '\0') {
			free(m->report_recipient);
			m->report_recipient = mime_parse_dsn_value(&f, 1);
		} else if (mime_parse_name_is(&f, "action") &&
		    *m->report_action == '\0') {
			free(m->report_action);
			m->report_action = mime_parse_dsn_value(&f, 0);
			mime_parse_lower(m->report_action);
		} else if (mime_parse_name_is(&f, "status") &&
		    *m->report_status == '\0') {
			free(m->report_status);
			m->report_status = mime_parse_dsn_value(&f, 0);
		} else if (mime_parse_name_is(&f, "diagnostic-code") &&
		    *m->report_diagnostic == '\0') {
			free(m->report_diagnostic);
			m->report_diagnostic = mime_parse_dsn_value(&f, 1);
		}
	}
}

/* The returned message's headers: its Message-ID. */
static void
mime_parse_report_headers(struct mime_parse_ctx *ctx, const char *p,
    size_t len)
{
	struct mime_parse_field	f;

	if (*ctx->m->report_message_id != '\0')
		return;
	if (mime_parse_field_find(p, len, "message-id", &f)) {
		free(ctx->m->report_message_id);
		ctx->m->report_message_id = mime_parse_msgid(f.value,
		    f.valuelen);
	}
}

static void
mime_parse_leaf(struct mime_parse_ctx *ctx, const struct mailmime *mime,
    int mode)
{
	struct mime_parse_param	*params;
	const char		*data;
	char			*type, *filename, *tofree;
	size_t			 nct, nall, len;
	int			 attachment, plain, html;

	type = mime_parse_type(mime->mm_content_type);
	params = mime_parse_params(mime, &nct, &nall, &attachment);
	filename = mime_parse_param(ctx, params, nall, "filename");
	if (filename == NULL)
		filename = mime_parse_param(ctx, params, nct, "name");

	plain = strcmp(type, "text/plain") == 0;
	html = strcmp(type, "text/html") == 0;
	if (strncmp(type, "multipart/", 10) == 0) {
		/* One libetpan could not split (no boundary): text. */
		mime_parse_defect(ctx, "multipart read as text");
		plain = 1;
	}
	if ((plain || html) && !attachment &&
	    (filename == NULL || *filename == '\0')) {
		if (!(mode & MIME_WALK_SKIP))
			mime_parse_text(ctx, mime, html, params, nct);
		goto out;
	}
	if (mode & MIME_WALK_SKIP)
		goto out;

	mime_parse_body(ctx, mime, &data, &len, &tofree);
	if (mode & MIME_WALK_REPORT) {
		if (strcmp(type, "message/delivery-status") == 0 ||
		    strcmp(type, "message/global-delivery-status") == 0)
			mime_parse_dsn(ctx, data, len);
		else if (strcmp(type, "text/rfc822-headers") == 0 ||
		    strcmp(type, "message/global-headers") == 0 ||
		    strcmp(type, "message/rfc822") == 0)
			mime_parse_report_headers(ctx, data, len);
	}
	mime_parse_attachment(ctx, filename, type, data, len);
	if (tofree != NULL)
		mmap_string_unref(tofree);
out:
	free(filename);
	free(params);
	free(type);
}

/* Which child of a multipart/alternative to read: text/plain, else last. */
static struct mailmime *
mime_parse_choose(clist *list)
{
	struct mailmime	*child, *plain = NULL, *rich = NULL, *last = NULL;
	clistiter	*it;
	char		*type;

	for (it = clist_begin(list); it != NULL; it = clist_next(it)) {
		if ((child = clist_content(it)) == NULL)
			continue;
		last = child;
		type = mime_parse_type(child->mm_content_type);
		if (plain == NULL && strcmp(type, "text/plain") == 0)
			plain = child;
		else if (strcmp(type, "text/html") == 0 ||
		    strncmp(type, "multipart/", 10) == 0)
			rich = child;
		free(type);
	}
	return plain != NULL ? plain : rich != NULL ? rich : last;
}

static void
mime_parse_walk(struct mime_parse_ctx *ctx, const struct mailmime *mime,
    size_t depth, int mode)
{
	struct message	*m = ctx->m;
	struct mailmime	*child, *chosen = NULL;
	clistiter	*it;
	char		*type, *rt;
	const char	*data;
	char		*tofree;
	size_t		 len;

	if (mime == NULL)
		return;
	if (ctx->nparts >= ctx->lim->max_parts) {
		mime_parse_limit(ctx, "more than %zu parts",
		    ctx->lim->max_parts);
		return;
	}
	if (depth > ctx->lim->max_depth) {
		mime_parse_limit(ctx, "nested deeper than %zu levels",
		    ctx->lim->max_depth);
		return;
	}
	ctx->nparts++;
	if (depth > m->depth)
		m->depth = depth;

	switch (mime->mm_type) {
	case MAILMIME_SINGLE:
		mime_parse_leaf(ctx, mime, mode);
		break;
	case MAILMIME_MULTIPLE:
		type = mime_parse_type(mime->mm_content_type);
		if (strcmp(type, "multipart/report") == 0 &&
		    !(mode & MIME_WALK_SKIP)) {
			mode |= MIME_WALK_REPORT;
			if (!ctx->report_seen) {
				ctx->report_seen = 1;
				m->is_report = 1;
				rt = mime->mm_content_type != NULL ?
				    mailmime_content_param_get(
				    mime->mm_content_type, "report-type") :
				    NULL;
				free(m->report_type);
				m->report_type = rt != NULL ?
				    mime_parse_plain(rt, strlen(rt),
				    &(int){ 0 }) : xstrdup("");
				mime_parse_lower(m->report_type);
			}
		}
		if (strcmp(type, "multipart/alternative") == 0)
			chosen = mime_parse_choose(
			    mime->mm_data.mm_multipart.mm_mp_list);
		free(type);
		if (mime->mm_data.mm_multipart.mm_mp_list == NULL ||
		    clist_isempty(mime->mm_data.mm_multipart.mm_mp_list)) {
			mime_parse_defect(ctx, "multipart with no parts");
			break;
		}
		for (it = clist_begin(mime->mm_data.mm_multipart.mm_mp_list);
		    it != NULL; it = clist_next(it)) {
			child = clist_content(it);
			mime_parse_walk(ctx, child, depth + 1,
			    chosen != NULL && child != chosen ?
			    mode | MIME_WALK_SKIP : mode);
		}
		break;
	case MAILMIME_MESSAGE:
		/* An attached message: not this message's text. */
		if (mode & MIME_WALK_SKIP)
			break;
		type = mime_parse_type(mime->mm_content_type);
		mime_parse_body(ctx, mime, &data, &len, &tofree);
		if (mode & MIME_WALK_REPORT)
			mime_parse_report_headers(ctx, data, len);
		{
			struct mime_parse_param	*params;
			size_t			 nct, nall;
			int			 att;
			char			*fn;

			params = mime_parse_params(mime, &nct, &nall, &att);
			fn = mime_parse_param(ctx, params, nall, "filename");
			if (fn == NULL)
				fn = mime_parse_param(ctx, params, nct,
				    "name");
			mime_parse_attachment(ctx, fn, type, data, len);
			free(fn);
			free(params);
		}
		if (tofree != NULL)
			mmap_string_unref(tofree);
		free(type);
		break;
	default:
		mime_parse_defect(ctx, "part of unknown kind");
		break;
	}
}

/* --- the result (steps 5 and 6) ------------------------------------------ */

/* body_text: line ends as "\n", NUL as U+FFFD, no trailing white space. */
static void
mime_parse_finish_text(struct mime_parse_ctx *ctx)
{
	struct message	*m = ctx->m;
	struct buf	 all, out;
	size_t		 i, n;

	buf_init(&all, BUF_NOMAX);
	if (ctx->plain.len > 0)
		(void)buf_add(&all, ctx->plain.data, ctx->plain.len);
	if (ctx->html.len > 0) {
		if (all.len > 0)
			(void)buf_add(&all, "\n\n", 2);
		(void)buf_add(&all, ctx->html.data, ctx->html.len);
	}
	m->body_from_html = ctx->nplain == 0 && ctx->nhtml > 0;

	buf_init(&out, BUF_NOMAX);
	for (i = 0; i < all.len; i++) {
		if (all.data[i] == '\r') {
			(void)buf_addc(&out, '\n');
			if (i + 1 < all.len && all.data[i + 1] == '\n')
				i++;
		} else if (all.data[i] == '\0')
			(void)buf_add(&out, "\xef\xbf\xbd", 3);
		else
			(void)buf_addc(&out, all.data[i]);
	}
	buf_free(&all);
	n = out.len;
	while (n > 0 && mime_parse_space(out.data[n - 1]))
		n--;
	if (n > ctx->lim->max_text) {
		n = utf8_truncate(out.data, n, ctx->lim->max_text);
		mime_parse_limit(ctx, "text longer than %zu bytes",
		    ctx->lim->max_text);
	}
	free(m->body_text);
	m->body_text = xstrndup(out.data != NULL ? out.data : "", n);
	buf_free(&out);
}

static void
mime_parse_finish(struct mime_parse_ctx *ctx)
{
	struct message	*m = ctx->m;
	struct buf	 b;
	size_t		 i;

	buf_init(&b, BUF_NOMAX);
	if (ctx->limit != NULL) {
		m->status = MESSAGE_LIMITS;
		(void)buf_addstr(&b, ctx->limit);
	} else if (ctx->ndefects > 0)
		m->status = MESSAGE_DEFECTIVE;
	else
		m->status = MESSAGE_OK;
	for (i = 0; i < ctx->ndefects; i++) {
		if (b.len > 0)
			(void)buf_addstr(&b, "; ");
		(void)buf_addstr(&b, ctx->defects[i]);
	}
	free(m->status_detail);
	m->status_detail = mime_parse_plain(b.data != NULL ? b.data : "",
	    b.len, &(int){ 0 });
	buf_free(&b);
	m->nparts = ctx->nparts;
}

/* When libetpan cannot read it: the raw body, as text. */
static void
mime_parse_fallback(struct mime_parse_ctx *ctx, const char *body,
    size_t len)
{
	if (charset_guess(&ctx->plain, body, len, NULL) == -1)
		mime_parse_limit(ctx, "text longer than %zu bytes",
		    ctx->lim->max_text);
	ctx->nplain++;
	ctx->nparts = 1;
}

/* libetpan on what the scan allowed, then the walk (step 4). */
static void
mime_parse_structure(struct mime_parse_ctx *ctx, const char *raw,
    const struct mime_parse_scan *sc, size_t body)
{
	struct mailmime	*root = NULL;
	char		*in;
	size_t		 inlen, idx = 0, n;
	int		 r;

	/*
	 * libetpan reads a copy, closed where the scan closed it, followed
	 * by MIME_PARSE_PAD NULs: its decoders read past the end of what
	 * they are given (quoted-printable looks two bytes past a final
	 * "=" whether they are there or not), and every part's body points
	 * into this buffer.
	 */
	n = sc->closers != NULL ? strlen(sc->closers) : 0;
	inlen = sc->cut + n;
	in = xcalloc(1, inlen + MIME_PARSE_PAD);
	memcpy(in, raw, sc->cut);
	if (n > 0)
		memcpy(in + sc->cut, sc->closers, n);
	r = mailmime_parse(in, inlen, &idx, &root);
	if (r != MAILIMF_NO_ERROR || root == NULL) {
		mime_parse_defect(ctx, "MIME structure unreadable "
		    "(libetpan error %d)", r);
		if (sc->cut > body)
			mime_parse_fallback(ctx, raw + body, sc->cut - body);
	} else {
		if (root->mm_type == MAILMIME_MESSAGE)
			mime_parse_walk(ctx,
			    root->mm_data.mm_message.mm_msg_mime, 0, 0);
		else
			mime_parse_walk(ctx, root, 0, 0);
		mailmime_free(root);
	}
	free(in);
}

struct message *
mime_parse(const char *raw, size_t len, const struct mime_parse_limits *lim)
{
	return mime_parse_part(raw, len, lim, MIME_PARSE_NO_PART);
}

struct message *
mime_parse_part(const char *raw, size_t len,
    const struct mime_parse_limits *lim, size_t part)
{
	struct mime_parse_limits	 deflim;
	struct mime_parse_ctx		 ctx;
	struct mime_parse_scan		 sc;
	size_t				 body, i;

	if (lim == NULL) {
		mime_parse_limits_default(&deflim);
		lim = &deflim;
	}
	memset(&ctx, 0, sizeof ctx);
	ctx.lim = lim;
	ctx.want = part;
	ctx.m = message_new();
	buf_init(&ctx.plain, lim->max_text);
	buf_init(&ctx.html, lim->max_text);

	/* 1. Size. */
	if (lim->max_size > 0 && len > lim->max_size) {
		mime_parse_limit(&ctx, "larger than %zu bytes: read the "
		    "first %zu", lim->max_size, lim->max_size);
		len = lim->max_size;
	}

	/* 2. The scan. */
	mime_parse_scan(raw, len, lim, &sc);
	if (sc.limit != NULL)
		mime_parse_limit(&ctx, "%s", sc.limit);
	if (sc.unsafe != NULL)
		mime_parse_defect(&ctx, "%s", sc.unsafe);
	if (sc.unclosed)
		mime_parse_defect(&ctx, "multipart not closed");
	if (sc.nobound)
		mime_parse_defect(&ctx, "multipart without a boundary");

	/* 3. The header. */
	body = mime_parse_top_headers(&ctx, raw, len);

	/* 4. The structure. */
	if (sc.unsafe != NULL && sc.cut <= body) {
		mime_parse_defect(&ctx, "MIME structure not read");
		mime_parse_fallback(&ctx, raw + body, len - body);
	} else
		mime_parse_structure(&ctx, raw, &sc, body);

	/* 5, 6. */
	mime_parse_finish_text(&ctx);
	mime_parse_finish(&ctx);

	free(sc.closers);
	free(sc.limit);
	free(sc.unsafe);
	free(ctx.limit);
	for (i = 0; i < ctx.ndefects; i++)
		free(ctx.defects[i]);
	buf_free(&ctx.plain);
	buf_free(&ctx.html);
	return ctx.m;
}

void
mime_parse_unguarded(const char *raw, size_t len)
{
	struct mailmime	*root = NULL;
	size_t		 idx = 0;

	if (mailmime_parse(raw, len, &idx, &root) == MAILIMF_NO_ERROR &&
	    root != NULL)
		mailmime_free(root);
}
