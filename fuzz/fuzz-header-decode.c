/*
 * fuzz-header-decode.c - libFuzzer target: RFC 2047 header decoding
 * (mime_parse_header), the libetpan-free header lookup the daemon uses on
 * messages the child could not parse (mime_parse_find_header), and the
 * charset conversions (charset.c): the first line of the input is taken
 * as a charset name, the rest as text in it.
 *
 * Checked: the output is always valid UTF-8; decoded header values hold no
 * control characters and no white space at either end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mime-parse.h"
#include "utf8.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_line(const char *s, size_t len)
{
	size_t	i;

	if (!utf8_valid(s, len))
		abort();
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
	}
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *nl, *text;
	struct buf	 b;
	char		*v, name[64];
	size_t		 n, textlen;
	int		 flags;

	/* The whole input as one header value. */
	buf_init(&b, BUF_NOMAX);
	if (mime_parse_header(&b, p, size) == -1)
		abort();
	check_line(b.data != NULL ? b.data : "", b.len);
	buf_free(&b);

	/* And capped: never past the cap, never half a character. */
	buf_init(&b, 37);
	(void)mime_parse_header(&b, p, size);
	if (b.len > 37 || !utf8_valid(b.data != NULL ? b.data : "", b.len))
		abort();
	buf_free(&b);

	/* As a header block. */
	if ((v = mime_parse_find_header(p, size, "subject")) != NULL) {
		check_line(v, strlen(v));
		free(v);
	}

	/* First line a charset name, the rest text in it. */
	nl = memchr(p, '\n', size);
	n = nl != NULL ? (size_t)(nl - p) : 0;
	text = nl != NULL ? nl + 1 : p;
	textlen = size - (size_t)(text - p);
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, p, n);
	name[n] = '\0';
	if (memchr(name, '\0', n) == NULL) {
		buf_init(&b, BUF_NOMAX);
		flags = 0;
		if (charset_to_utf8(&b, name, text, textlen, &flags) == -1)
			abort();
		if (!utf8_valid(b.data != NULL ? b.data : "", b.len))
			abort();
		buf_free(&b);
	}
	return 0;
}
