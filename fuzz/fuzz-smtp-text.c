/*
 * fuzz-smtp-text.c - libFuzzer target: what postroom reads from an SMTP
 * server and what it writes in DATA (send-smtp-text.c).
 *
 * The input is fed to the reply reader in pieces (the first byte picks
 * where to cut, as reads would), every line of it to the EHLO reader, and
 * the rest of it is dot-stuffed as a message.
 *
 * Checked: every call takes at least one byte and no more than it was
 * given; a whole reply has a code from 200 to 599 (its final line's),
 * and its text is printable ASCII, starts with a code, holds that one
 * and fits the cap; the stuffed message ends with
 * CRLF "." CRLF and holds no other line that is a lone dot, even counting
 * a bare LF as a line end (the message cannot end early), and taking the
 * stuffing away gives the message back (with a CRLF added when it had no
 * final one).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "send-smtp.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_replies(const char *p, size_t len, size_t cut)
{
	struct send_smtp_reply	 r;
	size_t			 i, n, used, piece;
	int			 whole;
	char			 code[4];

	send_smtp_reply_init(&r);
	while (len > 0) {
		piece = cut > 0 && cut < len ? cut : len;
		for (n = piece; n > 0; n -= used, p += used) {
			used = send_smtp_reply_feed(&r, p, n, &whole);
			if (used == 0 || used > n)
				abort();
			if (!whole)
				continue;
			if (r.code < 200 || r.code > 599 ||
			    r.last.len > SEND_SMTP_REPLY_MAX)
				abort();
			/* Printable ASCII only: it is shown on terminals. */
			for (i = 0; i < r.last.len; i++) {
				if (r.last.data[i] < 0x20 ||
				    r.last.data[i] > 0x7e)
					abort();
			}
			/* Its final line's code (a server may mix them). */
			snprintf(code, sizeof code, "%d", r.code);
			if (r.last.len < 3 || r.last.data[0] < '2' ||
			    r.last.data[0] > '5' || (r.last.len <
			    SEND_SMTP_REPLY_MAX && strstr(r.last.data, code) ==
			    NULL))
				abort();
		}
		len -= piece;
	}
	send_smtp_reply_free(&r);
}

static void
check_ehlo(const char *p, size_t len)
{
	struct send_smtp_ehlo	 e;
	const char		*nl;

	memset(&e, 0, sizeof e);
	while (len > 0) {
		nl = memchr(p, '\n', len);
		nl = nl != NULL ? nl + 1 : p + len;
		send_smtp_ehlo_line(&e, p, (size_t)(nl - p));
		if (e.size_max < 0 || (e.size_max > 0 && !e.size))
			abort();
		len -= (size_t)(nl - p);
		p = nl;
	}
}

static void
check_stuffing(const char *p, size_t len)
{
	struct buf	 out, back;
	const char	*q, *end, *line;

	buf_init(&out, BUF_NOMAX);
	buf_init(&back, BUF_NOMAX);
	if (send_smtp_dot_stuff(&out, p, len) == -1)
		abort();
	if (out.len < 5 || memcmp(out.data + out.len - 5, "\r\n.\r\n", 5) != 0)
		abort();
	/* Undo it, line by line, as a server that ends lines at LF would. */
	end = out.data + out.len - 3;		/* the final ".\r\n" */
	for (line = out.data; line < end; line = q) {
		q = memchr(line, '\n', (size_t)(end - line));
		q = q != NULL ? q + 1 : end;
		if (line[0] == '.' && (q - line == 2 ||
		    (q - line == 3 && line[1] == '\r')))
			abort();		/* the end, too early */
		if (line[0] == '.')
			line++;
		buf_add(&back, line, (size_t)(q - line));
	}
	if (len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n') {
		if (back.len != len || memcmp(back.data, p, len) != 0)
			abort();
	} else if (back.len != len + 2 || memcmp(back.data, p, len) != 0 ||
	    memcmp(back.data + len, "\r\n", 2) != 0)
		abort();
	buf_free(&out);
	buf_free(&back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;

	if (size == 0)
		return 0;
	check_replies(p + 1, size - 1, (size_t)data[0]);
	check_ehlo(p + 1, size - 1);
	check_stuffing(p + 1, size - 1);
	return 0;
}
