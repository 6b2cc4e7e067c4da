/*
 * message.c - the decoded inbound message: making, freeing, looking up a
 * header, and packing it for the pipe from the parser child.
 *
 * Owns: struct message's memory and its packed form.  Does not own: how
 * one is filled (mime-parse.c) or carried (parser.c).
 *
 * The packed form is private to one build of postroom (the child is the
 * same executable): "PRM1", then every field in a fixed order, integers
 * as little-endian u32 or u64, strings as a u32 length and the bytes,
 * an attachment's bytes (when there are any) as a u32 1 and exactly its
 * size in bytes, else a u32 0.
 * message_unpack() trusts nothing in it: lengths are checked against
 * what is left, counts against the smallest possible entry, strings must
 * be valid UTF-8 without NULs, and nothing may be left over.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "message.h"
#include "utf8.h"
#include "xmalloc.h"

#define MESSAGE_MAGIC	"PRM1"

/* Every top-level string field, in packing order. */
static const size_t message_strings[] = {
	offsetof(struct message, status_detail),
	offsetof(struct message, from.name),
	offsetof(struct message, from.addr),
	offsetof(struct message, sender.name),
	offsetof(struct message, sender.addr),
	offsetof(struct message, reply_to.name),
	offsetof(struct message, reply_to.addr),
	offsetof(struct message, return_path),
	offsetof(struct message, subject),
	offsetof(struct message, message_id),
	offsetof(struct message, in_reply_to),
	offsetof(struct message, references),
	offsetof(struct message, date),
	offsetof(struct message, body_text),
	offsetof(struct message, report_type),
	offsetof(struct message, report_recipient),
	offsetof(struct message, report_action),
	offsetof(struct message, report_status),
	offsetof(struct message, report_diagnostic),
	offsetof(struct message, report_message_id),
};
#define MESSAGE_NSTRINGS (sizeof message_strings / sizeof message_strings[0])

static char **
message_string(struct message *m, size_t i)
{
	return (char **)((char *)m + message_strings[i]);
}

static char *const *
message_cstring(const struct message *m, size_t i)
{
	return (char *const *)((const char *)m + message_strings[i]);
}

struct message *
message_new(void)
{
	struct message	*m;
	size_t		 i;

	m = xcalloc(1, sizeof *m);
	m->status = MESSAGE_OK;
	for (i = 0; i < MESSAGE_NSTRINGS; i++)
		*message_string(m, i) = xstrdup("");
	return m;
}

struct message *
message_new_failed(const char *detail)
{
	struct message	*m;

	m = message_new();
	m->status = MESSAGE_FAILED;
	free(m->status_detail);
	m->status_detail = xstrdup(detail != NULL ? detail : "");
	return m;
}

const char *
message_header(const struct message *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nheaders; i++) {
		if (strcasecmp(m->headers[i].name, name) == 0)
			return m->headers[i].value;
	}
	return NULL;
}

void
message_free(struct message *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < MESSAGE_NSTRINGS; i++)
		free(*message_string(m, i));
	for (i = 0; i < m->nheaders; i++) {
		free(m->headers[i].name);
		free(m->headers[i].value);
	}
	free(m->headers);
	for (i = 0; i < m->nto; i++) {
		free(m->to[i].name);
		free(m->to[i].addr);
	}
	free(m->to);
	for (i = 0; i < m->nattachments; i++) {
		free(m->attachments[i].filename);
		free(m->attachments[i].type);
		free(m->attachments[i].data);
	}
	free(m->attachments);
	free(m);
}

/* --- packing ------------------------------------------------------------ */

static int
message_put_u32(struct buf *b, uint32_t v)
{
	unsigned char	p[4];
	int		i;

	for (i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return buf_add(b, p, sizeof p);
}

static int
message_put_u64(struct buf *b, uint64_t v)
{
	unsigned char	p[8];
	int		i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return buf_add(b, p, sizeof p);
}

static int
message_put_str(struct buf *b, const char *s)
{
	size_t	len;

	if (s == NULL)
		s = "";
	len = strlen(s);
	if (len > UINT32_MAX)
		return -1;
	if (message_put_u32(b, (uint32_t)len) == -1)
		return -1;
	return buf_add(b, s, len);
}

int
message_pack(const struct message *m, struct buf *b)
{
	size_t	i, start = b->len;

	if (buf_add(b, MESSAGE_MAGIC, 4) == -1 ||
	    message_put_u32(b, (uint32_t)m->status) == -1)
		goto fail;
	for (i = 0; i < MESSAGE_NSTRINGS; i++) {
		if (message_put_str(b, *message_cstring(m, i)) == -1)
			goto fail;
	}
	if (message_put_u32(b, (uint32_t)m->body_from_html) == -1 ||
	    message_put_u32(b, (uint32_t)m->is_report) == -1 ||
	    message_put_u64(b, m->nparts) == -1 ||
	    message_put_u64(b, m->depth) == -1)
		goto fail;

	if (message_put_u32(b, (uint32_t)m->nheaders) == -1)
		goto fail;
	for (i = 0; i < m->nheaders; i++) {
		if (message_put_str(b, m->headers[i].name) == -1 ||
		    message_put_str(b, m->headers[i].value) == -1)
			goto fail;
	}
	if (message_put_u32(b, (uint32_t)m->nto) == -1)
		goto fail;
	for (i = 0; i < m->nto; i++) {
		if (message_put_str(b, m->to[i].name) == -1 ||
		    message_put_str(b, m->to[i].addr) == -1)
			goto fail;
	}
	if (message_put_u32(b, (uint32_t)m->nattachments) == -1)
		goto fail;
	for (i = 0; i < m->nattachments; i++) {
		if (message_put_str(b, m->attachments[i].filename) == -1 ||
		    message_put_str(b, m->attachments[i].type) == -1 ||
		    message_put_u64(b, m->attachments[i].size) == -1 ||
		    message_put_u32(b, m->attachments[i].data != NULL) == -1)
			goto fail;
		if (m->attachments[i].data != NULL &&
		    buf_add(b, m->attachments[i].data,
		    m->attachments[i].size) == -1)
			goto fail;
	}
	return 0;

fail:
	b->len = start;
	if (b->data != NULL)
		b->data[start] = '\0';
	return -1;
}

struct message_reader {
	const unsigned char	*p;
	size_t			 len;
	size_t			 off;
	const char		*error;	/* the first problem */
};

static uint64_t
message_get(struct message_reader *r, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	if (r->error != NULL)
		return 0;
	if (r->len - r->off < n) {
		r->error = "truncated";
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

static char *
message_get_str(struct message_reader *r)
{
	const char	*s;
	size_t		 len;

	len = (size_t)message_get(r, 4);
	if (r->error != NULL)
		return xstrdup("");
	if (r->len - r->off < len) {
		r->error = "string longer than what is left";
		return xstrdup("");
	}
	s = (const char *)r->p + r->off;
	r->off += len;
	if (memchr(s, '\0', len) != NULL) {
		r->error = "NUL in a string";
		return xstrdup("");
	}
	if (!utf8_valid(s, len)) {
		r->error = "string is not valid UTF-8";
		return xstrdup("");
	}
	return xstrndup(s, len);
}

/*
 * An attachment's bytes: a u32 0 (none: NULL), or 1 and exactly size
 * bytes (a new buffer, NUL-terminated for safety's sake).
 */
static char *
message_get_bytes(struct message_reader *r, size_t size)
{
	char		*p;
	uint64_t	 has;

	has = message_get(r, 4);
	if (r->error != NULL || has == 0)
		return NULL;
	if (has != 1) {
		r->error = "bad attachment data flag";
		return NULL;
	}
	if (r->len - r->off < size) {
		r->error = "attachment longer than what is left";
		return NULL;
	}
	p = xmalloc(size + 1);
	if (size > 0)
		memcpy(p, r->p + r->off, size);
	p[size] = '\0';
	r->off += size;
	return p;
}

/* A count of entries of at least min bytes each: no more than fit. */
static size_t
message_get_count(struct message_reader *r, size_t min)
{
	size_t	n;

	n = (size_t)message_get(r, 4);
	if (r->error == NULL && n > (r->len - r->off) / min) {
		r->error = "count larger than what is left";
		return 0;
	}
	return n;
}

struct message *
message_unpack(const void *p, size_t len, char **cause)
{
	struct message_reader	 r;
	struct message		*m;
	uint64_t		 v;
	size_t			 i, n;

	memset(&r, 0, sizeof r);
	r.p = p;
	r.len = len;
	if (len < 4 || memcmp(p, MESSAGE_MAGIC, 4) != 0) {
		*cause = xstrdup("packed message: bad magic");
		return NULL;
	}
	r.off = 4;

	m = message_new();
	v = message_get(&r, 4);
	if (v > MESSAGE_FAILED && r.error == NULL)
		r.error = "bad status";
	m->status = (enum message_status)v;
	for (i = 0; i < MESSAGE_NSTRINGS; i++) {
		free(*message_string(m, i));
		*message_string(m, i) = message_get_str(&r);
	}
	m->body_from_html = message_get(&r, 4) != 0;
	m->is_report = message_get(&r, 4) != 0;
	m->nparts = (size_t)message_get(&r, 8);
	m->depth = (size_t)message_get(&r, 8);

	n = message_get_count(&r, 8);
	if (n > 0) {
		m->headers = xcalloc(n, sizeof *m->headers);
		for (; m->nheaders < n; m->nheaders++) {
			m->headers[m->nheaders].name = message_get_str(&r);
			m->headers[m->nheaders].value = message_get_str(&r);
		}
	}
	n = message_get_count(&r, 8);
	if (n > 0) {
		m->to = xcalloc(n, sizeof *m->to);
		for (; m->nto < n; m->nto++) {
			m->to[m->nto].name = message_get_str(&r);
			m->to[m->nto].addr = message_get_str(&r);
		}
	}
	n = message_get_count(&r, 20);
	if (n > 0) {
		m->attachments = xcalloc(n, sizeof *m->attachments);
		for (; m->nattachments < n; m->nattachments++) {
			struct message_attachment *a;

			a = &m->attachments[m->nattachments];
			a->filename = message_get_str(&r);
			a->type = message_get_str(&r);
			a->size = (size_t)message_get(&r, 8);
			a->data = message_get_bytes(&r, a->size);
		}
	}
	if (r.error == NULL && r.off != r.len)
		r.error = "bytes left over";
	if (r.error != NULL) {
		*cause = xprintf("packed message: %s at byte %zu", r.error,
		    r.off);
		message_free(m);
		return NULL;
	}
	return m;
}
